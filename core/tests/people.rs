//! One person index (一人一档) across domains, W-2 whistle-blower protection on appeals and W-6 community
//! funds, on community workstation and judicial office stores.

mod common_setup;

use chrono::{NaiveDate, TimeZone, Utc};
use jiceng_core::model::{
    AppealAction, AppealClass, AppealInput, CaseInput, CaseKind, CaseQuery, CommunityFund,
    DisputeType, FundEntryInput, FundQuery, MediationInput, MediationPartyInput, PersonDomain,
    ResidentInput, Role, SessionUser, VolunteerInput,
};
use jiceng_core::store::appeals::MASKED_PETITIONER;
use jiceng_core::store::{NewUser, Store};
use jiceng_core::CoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// 18-character number of 张三 and its legacy 15-digit form (GB 11643).
const ZHANG: &str = "110101199003074514";
const MINOR: &str = "110101200901011238";

fn noon(day: &str) -> u64 {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    jiceng_core::shanghai::offset()
        .from_local_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_millis() as u64
}

fn at(store: Store, day: &str) -> (Store, Arc<AtomicU64>) {
    let clock = Arc::new(AtomicU64::new(noon(day)));
    let wall = clock.clone();
    (
        store.with_clock(Arc::new(move || wall.load(Ordering::SeqCst))),
        clock,
    )
}

fn user(store: &mut Store, username: &str, role: Role, org: &str) -> SessionUser {
    store
        .create_user(
            "setup",
            &NewUser {
                username: username.into(),
                display_name: format!("{username}用户"),
                role,
                org_unit_id: org.into(),
                password: "password-7".into(),
            },
        )
        .unwrap();
    store.login(username, "password-7").unwrap()
}

fn zh(err: CoreError) -> String {
    err.message_zh()
}

fn query(text: &str) -> CaseQuery {
    CaseQuery {
        text: Some(text.into()),
        page: 1,
        page_size: 20,
        include_deleted: false,
    }
}

fn case(name: &str, id_number: &str, sealed: bool) -> CaseInput {
    CaseInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        kind: CaseKind::Probation,
        sentence_start: "2026-03-01".into(),
        sentence_end: "2027-02-28".into(),
        org_unit_id: None,
        status: None,
        judgment_effective_on: None,
        reported_on: None,
        supervision_level: None,
        sealed_minor: Some(sealed),
        address: None,
    }
}

fn resident(name: &str, id_number: &str) -> ResidentInput {
    ResidentInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        phone: "13800138000".into(),
        building: "3".into(),
        unit: "2".into(),
        room: "401".into(),
        household_head: true,
        special_groups: vec![],
        note: String::new(),
    }
}

fn appeal(name: &str, id_number: &str) -> AppealInput {
    AppealInput {
        channel: "visit".into(),
        class: AppealClass::Petition,
        category: "municipal".into(),
        petitioner_name: name.into(),
        petitioner_phone: "13900139000".into(),
        subject: "反映路灯维修".into(),
        content: "3号楼前路灯损坏".into(),
        received_on: None,
        petitioner_id_number: id_number.into(),
        whistleblower: false,
        complained_department: String::new(),
    }
}

fn party(name: &str, id_number: &str) -> MediationPartyInput {
    MediationPartyInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        phone: "13800138000".into(),
        address: "民安社区3栋".into(),
    }
}

fn volunteer(name: &str, id_number: &str) -> VolunteerInput {
    VolunteerInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        phone: "13700137000".into(),
        skills: vec![],
        building_leader: true,
        building: "3".into(),
        corrections_volunteer: false,
        note: String::new(),
    }
}

fn domains(store: &Store, user: &SessionUser, id_number: &str) -> Vec<PersonDomain> {
    let mut d: Vec<PersonDomain> = store
        .person_profile(user, id_number)
        .unwrap()
        .records
        .iter()
        .map(|r| r.domain)
        .collect();
    d.dedup();
    d
}

/// A store holding one person (张三, spelt with a 4-byte character in one record) in every domain: a
/// corrections case at the judicial office and a resident, an appeal, a mediation party and a volunteer
/// at the community under it.
fn everywhere() -> (Store, SessionUser, SessionUser) {
    let (store, clerk) = common_setup::community_store("ws-1");
    let (mut store, _clock) = at(store, "2026-11-20");
    let officer = store.login("officer", "password-1").unwrap();
    store
        .save_case(&officer, case("张三", ZHANG, false))
        .unwrap();
    store
        .save_resident(&clerk, resident("张三", ZHANG))
        .unwrap();
    store
        .register_appeal(&clerk, appeal("张三", ZHANG))
        .unwrap();
    store
        .save_mediation(
            &clerk,
            MediationInput {
                id: None,
                dispute_type: DisputeType::Neighbour,
                summary: "楼上漏水".into(),
                accepted_on: Some("2026-11-02".into()),
                mediator: "王调解".into(),
                parties: vec![party("张𠀀三", ZHANG), party("李四", "")],
            },
        )
        .unwrap();
    store
        .save_volunteer(&clerk, volunteer("张三", ZHANG))
        .unwrap();
    (store, clerk, officer)
}

#[test]
fn one_person_index_a_clerk_never_gets_corrections_and_an_officer_never_gets_residents() {
    let (mut store, clerk, officer) = everywhere();
    // The clerk: residents, appeals, mediation and volunteers — never the corrections case.
    assert_eq!(
        domains(&store, &clerk, ZHANG),
        vec![
            PersonDomain::Resident,
            PersonDomain::Appeal,
            PersonDomain::Mediation,
            PersonDomain::Volunteer
        ]
    );
    let profile = store.person_profile(&clerk, ZHANG).unwrap();
    assert!(!profile.visible_domains.contains(&PersonDomain::Corrections));
    assert!(
        profile.names.contains(&"张𠀀三".to_string()),
        "生僻字 round-trip"
    );
    assert_eq!(
        (profile.sex.as_str(), profile.birth_date.as_str()),
        ("male", "1990-03-07")
    );
    let json = serde_json::to_string(&profile).unwrap();
    assert!(
        !json.contains("probation") && !json.contains("2027-02-28"),
        "no corrections data: {json}"
    );
    // The officer: the corrections case only — the workstation's records are not theirs to read, though
    // the community is inside the office's subtree.
    assert_eq!(
        domains(&store, &officer, ZHANG),
        vec![PersonDomain::Corrections]
    );
    let hit = &store.search_people(&officer, &query("张三")).unwrap().items[0];
    assert_eq!(hit.domains, vec![PersonDomain::Corrections]);
    assert_eq!(hit.records, 1);
    // The district sees both sides.
    let district = user(
        &mut store,
        "district",
        Role::DistrictAdmin,
        common_setup::DISTRICT,
    );
    assert_eq!(domains(&store, &district, ZHANG).len(), 5);
    // The procuratorate reads corrections only.
    let auditor = user(
        &mut store,
        "auditor",
        Role::ProcuratorateAuditor,
        common_setup::DISTRICT,
    );
    assert_eq!(
        domains(&store, &auditor, ZHANG),
        vec![PersonDomain::Corrections]
    );
}

#[test]
fn one_person_index_search_by_name_initials_id_prefix_and_legacy_number() {
    let (mut store, clerk, _) = everywhere();
    store
        .save_resident(&clerk, resident("李四", "11010519491231002X"))
        .unwrap();
    for text in ["张三", "zs", "11010119900307", "110101900307451", "张𠀀三"] {
        let page = store.search_people(&clerk, &query(text)).unwrap();
        assert_eq!(page.total, 1, "{text}");
        let hit = &page.items[0];
        assert_eq!(hit.id_number, ZHANG, "{text}");
        assert_eq!(hit.name, "张三", "the register's spelling first");
        assert_eq!(hit.records, 4, "resident, appeal, mediation, volunteer");
    }
    // Everyone with an ID number, paged (李四 the mediation party has none: not in the index).
    let all = store
        .search_people(
            &clerk,
            &CaseQuery {
                text: None,
                page: 1,
                page_size: 1,
                include_deleted: false,
            },
        )
        .unwrap();
    assert_eq!((all.total, all.items.len()), (2, 1));
    assert_eq!(all.items[0].name, "李四", "ordered by initials: ls < zs");
    // A legacy 15-digit number opens the same profile.
    assert_eq!(
        store
            .person_profile(&clerk, "110101900307451")
            .unwrap()
            .id_number,
        ZHANG
    );
    assert!(zh(store
        .person_profile(&clerk, "110101199003074515")
        .unwrap_err())
    .contains("校验位"));
}

#[test]
fn one_person_index_follows_merged_registrations() {
    let (a, clerk_a) = common_setup::community_store("ws-a");
    let (mut b, clerk_b) = common_setup::community_store("ws-b");
    let (mut a, _clock) = at(a, "2026-11-20");
    let kept = a.save_resident(&clerk_a, resident("张三", ZHANG)).unwrap();
    let other = b.save_resident(&clerk_b, resident("张叁", ZHANG)).unwrap();
    a.apply_remote(&b.own_log().unwrap(), 0).unwrap();
    assert_eq!(a.person_profile(&clerk_a, ZHANG).unwrap().records.len(), 2);
    a.merge_residents(&clerk_a, &kept.id, &other.id).unwrap();
    let profile = a.person_profile(&clerk_a, ZHANG).unwrap();
    assert_eq!(profile.records.len(), 1, "one person, one registration");
    assert_eq!(profile.records[0].record_id, kept.id);
    assert_eq!(profile.records[0].merged_ids, vec![other.id.clone()]);
    // A search by the merged registration's spelling or its own id finds the person.
    for text in ["张叁", other.id.as_str()] {
        let hits = a.search_people(&clerk_a, &query(text)).unwrap();
        assert_eq!(hits.items.len(), 1, "{text}");
        assert_eq!(hits.items[0].id_number, ZHANG);
    }
}

#[test]
fn l12_a_sealed_minor_never_appears_outside_the_judicial_office_and_district() {
    let (store, clerk) = common_setup::community_store("ws-1");
    let (mut store, _clock) = at(store, "2026-11-20");
    let officer = store.login("officer", "password-1").unwrap();
    store
        .save_case(&officer, case("未成年甲", MINOR, true))
        .unwrap();
    store
        .save_resident(&clerk, resident("未成年甲", MINOR))
        .unwrap();
    let auditor = user(
        &mut store,
        "auditor",
        Role::ProcuratorateAuditor,
        common_setup::DISTRICT,
    );
    let district = user(
        &mut store,
        "district",
        Role::DistrictAdmin,
        common_setup::DISTRICT,
    );
    assert_eq!(
        domains(&store, &officer, MINOR),
        vec![PersonDomain::Corrections]
    );
    assert!(domains(&store, &district, MINOR).contains(&PersonDomain::Corrections));
    // The procuratorate: no record, and no search hit by name, initials or number.
    assert!(store
        .person_profile(&auditor, MINOR)
        .unwrap()
        .records
        .is_empty());
    for text in ["未成年甲", "wcnj", "11010120090101"] {
        assert_eq!(
            store.search_people(&auditor, &query(text)).unwrap().total,
            0,
            "{text}"
        );
    }
    // The clerk sees the resident (the register is theirs) and nothing of the case.
    assert_eq!(domains(&store, &clerk, MINOR), vec![PersonDomain::Resident]);
}

#[test]
fn w2_appeal_petitioner_id_number_is_checked_and_joins_the_person() {
    let (store, clerk) = common_setup::community_store("ws-1");
    let (mut store, _clock) = at(store, "2026-11-20");
    let err = store
        .register_appeal(&clerk, appeal("张三", "110101199003074515"))
        .unwrap_err();
    assert!(zh(err).contains("校验位"));
    let legacy = store
        .register_appeal(&clerk, appeal("张三", "110101900307451"))
        .unwrap();
    assert_eq!(legacy.petitioner_id_number, ZHANG, "15 digits upgraded");
    let anonymous = store.register_appeal(&clerk, appeal("王五", "")).unwrap();
    assert_eq!(anonymous.petitioner_id_number, "");
    assert_eq!(domains(&store, &clerk, ZHANG), vec![PersonDomain::Appeal]);
    // The appeals tab finds it by the number too (the person profile links there with it).
    let listed = store
        .list_appeals(
            &clerk,
            &jiceng_core::model::ResidentQuery {
                text: Some("11010119900307".into()),
                page: 1,
                page_size: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].id, legacy.id);
}

#[test]
fn w2_whistle_blower_slips_mask_the_complained_department_which_may_not_lead() {
    let (store, clerk) = common_setup::community_store("ws-1");
    let (mut store, _clock) = at(store, "2026-11-20");
    let mut input = appeal("𠮷田䶮", ZHANG);
    input.whistleblower = true;
    input.content = "我在市政所工作，亲眼看到验收造假".into();
    assert!(zh(store.register_appeal(&clerk, input.clone()).unwrap_err()).contains("被举报部门"));
    input.complained_department = "市政".into();
    let a = store.register_appeal(&clerk, input).unwrap();
    assert!(a.whistleblower);
    assert_eq!(a.complained_department, "市政");
    // The department complained about never handles the complaint about itself.
    for (departments, lead) in [(vec!["市政"], ""), (vec!["市政", "城建"], "市政")] {
        let err = store
            .act_on_appeal(
                &clerk,
                &a.id,
                AppealAction::Route {
                    departments: departments.into_iter().map(String::from).collect(),
                    lead_department: lead.into(),
                },
            )
            .unwrap_err();
        assert!(zh(err).contains("不能作为牵头部门"));
    }
    store
        .act_on_appeal(
            &clerk,
            &a.id,
            AppealAction::Route {
                departments: vec!["街道办".into(), "市政".into()],
                lead_department: "街道办".into(),
            },
        )
        .unwrap();
    let slips = store.appeal_routing_slips(&clerk, &a.id).unwrap();
    assert_eq!(slips.len(), 2);
    let lead = slips.iter().find(|s| s.department == "街道办").unwrap();
    assert!(lead.lead && !lead.masked);
    assert_eq!(
        (
            lead.petitioner_name.as_str(),
            lead.petitioner_id_number.as_str()
        ),
        ("𠮷田䶮", ZHANG)
    );
    assert_eq!(lead.org_unit_name, "民安社区");
    let masked = slips.iter().find(|s| s.department == "市政").unwrap();
    assert!(masked.masked);
    assert_eq!(masked.petitioner_name, MASKED_PETITIONER);
    let text = serde_json::to_string(masked).unwrap();
    for secret in ["𠮷田䶮", "13900139000", ZHANG, "亲眼"] {
        assert!(
            !text.contains(secret),
            "{secret} on the complained department's slip"
        );
    }
    // An officer cannot print the workstation's slips.
    let officer = store.login("officer", "password-1").unwrap();
    assert_eq!(
        store
            .appeal_routing_slips(&officer, &a.id)
            .unwrap_err()
            .code(),
        "forbidden"
    );
}

fn spend(fund: CommunityFund, yuan: i64, on: &str, purpose: &str) -> FundEntryInput {
    FundEntryInput {
        fund,
        amount_fen: yuan * 100,
        spent_on: on.into(),
        purpose: purpose.into(),
    }
}

fn line(
    store: &Store,
    user: &SessionUser,
    year: i32,
    fund: CommunityFund,
) -> (i64, i64, i64, bool) {
    let summary = store.fund_summaries(user, Some(year)).unwrap();
    let l = summary[0].funds.iter().find(|f| f.fund == fund).unwrap();
    (l.allotted_fen, l.spent_fen, l.remaining_fen, l.overspent)
}

#[test]
fn w6_yearly_ledger_per_fund_refuses_overspending_and_the_district_sees_every_community() {
    let (store, clerk) = common_setup::community_store("ws-1");
    let (mut store, _clock) = at(store, "2026-11-20");
    let care = store
        .record_fund_entry(
            &clerk,
            spend(
                CommunityFund::WorkingCare,
                5_000,
                "2026-10-01",
                "重阳节慰问独居老人",
            ),
        )
        .unwrap();
    assert_eq!(
        (care.year, care.recorded_by.as_str()),
        (2026, "社区工作人员")
    );
    store
        .record_fund_entry(
            &clerk,
            spend(
                CommunityFund::WorkingCare,
                3_000,
                "2026-11-01",
                "困难家庭帮扶",
            ),
        )
        .unwrap();
    assert_eq!(
        line(&store, &clerk, 2026, CommunityFund::WorkingCare),
        (800_000, 800_000, 0, false),
        "8,000 yuan of care funds, all spent"
    );
    // One fen more is refused, in Chinese, with what is left.
    let err = store
        .record_fund_entry(
            &clerk,
            FundEntryInput {
                amount_fen: 1,
                ..spend(CommunityFund::WorkingCare, 0, "2026-11-02", "加发")
            },
        )
        .unwrap_err();
    let msg = zh(err);
    assert!(msg.contains("超支") && msg.contains("剩余0.00元"), "{msg}");
    // Other funds and other years are separate.
    store
        .record_fund_entry(
            &clerk,
            spend(
                CommunityFund::WorkingWork,
                12_000,
                "2026-05-01",
                "办公用品与宣传",
            ),
        )
        .unwrap();
    store
        .record_fund_entry(
            &clerk,
            spend(CommunityFund::WorkingCare, 100, "2025-12-31", "上年帮扶"),
        )
        .unwrap();
    assert_eq!(
        line(&store, &clerk, 2025, CommunityFund::WorkingCare).1,
        10_000
    );
    assert_eq!(
        line(&store, &clerk, 2026, CommunityFund::Development),
        (1_000_000, 0, 1_000_000, false)
    );
    assert_eq!(
        line(&store, &clerk, 2026, CommunityFund::LowIncomeWork).0,
        200_000
    );
    // Bad input.
    for (input, needle) in [
        (
            spend(CommunityFund::Development, 0, "2026-11-01", "x"),
            "大于0",
        ),
        (
            spend(CommunityFund::Development, 1, "2026-12-01", "x"),
            "不晚于今天",
        ),
        (
            spend(CommunityFund::Development, 1, "2026-11-01", " "),
            "用途",
        ),
    ] {
        assert!(
            zh(store.record_fund_entry(&clerk, input).unwrap_err()).contains(needle),
            "{needle}"
        );
    }
    // Search and paging of the ledger.
    let page = store
        .list_fund_entries(
            &clerk,
            &FundQuery {
                year: Some(2026),
                text: Some("帮扶".into()),
                page: 1,
                page_size: 1,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((page.total, page.items.len()), (1, 1));
    let page = store
        .list_fund_entries(
            &clerk,
            &FundQuery {
                year: Some(2026),
                page: 1,
                page_size: 2,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((page.total, page.items.len()), (3, 2));
    // A second community under the same office; the district sees both, the clerk only their own.
    store
        .create_org_unit(
            "setup",
            "community-2",
            Some(common_setup::OFFICE),
            jiceng_core::model::OrgKind::Community,
            "𠀀安社区",
        )
        .unwrap();
    let district = user(
        &mut store,
        "district",
        Role::DistrictAdmin,
        common_setup::DISTRICT,
    );
    let all = store.fund_summaries(&district, Some(2026)).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all
        .iter()
        .any(|s| s.org_unit_name == "𠀀安社区" && s.spent_fen == 0));
    assert_eq!(store.fund_summaries(&clerk, Some(2026)).unwrap().len(), 1);
    assert!(
        store
            .record_fund_entry(
                &district,
                spend(CommunityFund::Development, 1, "2026-11-01", "x")
            )
            .is_err(),
        "the ledger is kept by the workstation"
    );
    // The judicial office holds none of this.
    let officer = store.login("officer", "password-1").unwrap();
    assert_eq!(
        store.fund_summaries(&officer, None).unwrap_err().code(),
        "forbidden"
    );
}

#[test]
fn w6_a_wrong_line_is_removed_reversibly_and_restoring_cannot_overspend() {
    let (store, clerk) = common_setup::community_store("ws-1");
    let (mut store, _clock) = at(store, "2026-11-20");
    let wrong = store
        .record_fund_entry(
            &clerk,
            spend(
                CommunityFund::LowIncomeWork,
                2_000,
                "2026-03-01",
                "录错金额",
            ),
        )
        .unwrap();
    let removed = store
        .set_fund_entry_deleted(&clerk, &wrong.id, true)
        .unwrap();
    assert!(removed.deleted);
    store
        .record_fund_entry(
            &clerk,
            spend(
                CommunityFund::LowIncomeWork,
                200,
                "2026-03-01",
                "低保入户核查交通费",
            ),
        )
        .unwrap();
    assert_eq!(
        line(&store, &clerk, 2026, CommunityFund::LowIncomeWork),
        (200_000, 20_000, 180_000, false)
    );
    assert!(zh(store
        .set_fund_entry_deleted(&clerk, &wrong.id, false)
        .unwrap_err())
    .contains("超支"));
    // Nothing is lost: the removed line is still listed on request.
    let with_removed = store
        .list_fund_entries(
            &clerk,
            &FundQuery {
                year: Some(2026),
                include_deleted: true,
                page: 1,
                page_size: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(with_removed.total, 2);
    // The entry itself is append-only: the store refuses a change of its amount.
    let def = jiceng_core::tables::table("community_fund_entry").unwrap();
    let err = store
        .write_row(
            &clerk.user_id,
            def,
            &wrong.id,
            common_setup::COMMUNITY,
            &[jiceng_core::store::WriteChange::new("amount_fen", 1)],
        )
        .unwrap_err();
    assert_eq!(err.code(), "append_only");
}

#[test]
fn w6_two_offline_pcs_that_together_overspend_are_flagged_not_dropped() {
    let (a, clerk_a) = common_setup::community_store("ws-a");
    let (b, clerk_b) = common_setup::community_store("ws-b");
    let (mut a, _ca) = at(a, "2026-11-20");
    let (mut b, _cb) = at(b, "2026-11-20");
    a.record_fund_entry(
        &clerk_a,
        spend(CommunityFund::Development, 6_000, "2026-11-18", "文体活动"),
    )
    .unwrap();
    b.record_fund_entry(
        &clerk_b,
        spend(CommunityFund::Development, 6_000, "2026-11-19", "环境整治"),
    )
    .unwrap();
    let (log_a, log_b) = (a.own_log().unwrap(), b.own_log().unwrap());
    a.apply_remote(&log_b, 0).unwrap();
    b.apply_remote(&log_a, 0).unwrap();
    for (store, clerk) in [(&a, &clerk_a), (&b, &clerk_b)] {
        assert_eq!(
            line(store, clerk, 2026, CommunityFund::Development),
            (1_000_000, 1_200_000, -200_000, true)
        );
        assert!(store.fund_summaries(clerk, Some(2026)).unwrap()[0].overspent);
    }
}
