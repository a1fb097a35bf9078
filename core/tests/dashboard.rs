//! Issue 13 §2: the district's oversight dashboards over records written through the normal write
//! paths (cases C-1, appeals W-2, mediation W-3), read as of the range's last day.

mod common_setup;

use chrono::NaiveDate;
use common_setup::{community_store, DISTRICT, OFFICE};
use jiceng_core::dashboard::DashboardBucket;
use jiceng_core::model::{
    AppealAction, AppealClass, AppealInput, CaseInput, CaseKind, DisputeType, MediationAction,
    MediationInput, MediationOutcome, MediationPartyInput, Role,
};
use jiceng_core::store::NewUser;
use jiceng_core::CoreError;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A valid GB 11643 number, distinct per `n`.
fn id_number(n: u32) -> String {
    let body = format!("11010119900307{:03}", n);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn case(name: &str, n: u32) -> CaseInput {
    CaseInput {
        id: None,
        name: name.into(),
        id_number: id_number(n),
        kind: CaseKind::Probation,
        sentence_start: "2026-10-01".into(),
        sentence_end: "2027-09-30".into(),
        org_unit_id: None,
        status: None,
        // L-1: the subject reports within 10 days of the judgment taking effect.
        judgment_effective_on: Some("2026-10-01".into()),
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    }
}

fn appeal(class: AppealClass, received_on: &str, subject: &str) -> AppealInput {
    AppealInput {
        channel: "phone".into(),
        class,
        category: "municipal".into(),
        petitioner_name: "欧阳䶮".into(),
        petitioner_phone: "13800138000".into(),
        subject: subject.into(),
        content: "3号楼前路灯损坏已一周".into(),
        received_on: Some(received_on.into()),
        petitioner_id_number: String::new(),
        whistleblower: false,
        complained_department: String::new(),
    }
}

fn mediation(accepted_on: &str) -> MediationInput {
    let party = |name: &str| MediationPartyInput {
        id: None,
        name: name.into(),
        id_number: String::new(),
        phone: "13800138000".into(),
        address: "民安社区3栋2单元401".into(),
    };
    MediationInput {
        id: None,
        dispute_type: DisputeType::Neighbour,
        summary: "楼上漏水致楼下天花板受损".into(),
        accepted_on: Some(accepted_on.into()),
        mediator: "王调解".into(),
        parties: vec![party("张三"), party("𠮷四")],
    }
}

fn counts(buckets: &[DashboardBucket]) -> Vec<(&str, u32)> {
    buckets.iter().map(|b| (b.key.as_str(), b.count)).collect()
}

fn ids(bucket: &DashboardBucket) -> Vec<&str> {
    bucket.records.iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn d1_the_district_dashboard_counts_and_drills_down_to_the_records() {
    // The store's clock stands at 2026-11-30 (common_setup::NOW_MS); the range ends that day.
    let (mut store, clerk) = community_store("ws-1");
    let officer = store.login("officer", "password-1").unwrap();
    store
        .create_user(
            "setup",
            &NewUser {
                username: "district".into(),
                display_name: "区司法局".into(),
                role: Role::DistrictAdmin,
                org_unit_id: DISTRICT.into(),
                password: "password-3".into(),
            },
        )
        .unwrap();
    let district = store.login("district", "password-3").unwrap();

    let kept = store.save_case(&officer, case("张𠮷", 1)).unwrap();
    let gone = store.save_case(&officer, case("李四", 2)).unwrap();
    store.delete_case(&officer, &gone.id).unwrap();

    // Hotline complaint of 11-02: 13 working days, overdue and still open on 11-30.
    let late = store
        .register_appeal(
            &clerk,
            appeal(AppealClass::HotlineComplaint, "2026-11-02", "路灯不亮"),
        )
        .unwrap();
    // Enquiry of 11-27 (3 working days) resolved on 11-30 and followed up: in time, satisfied.
    let quick = store
        .register_appeal(
            &clerk,
            appeal(AppealClass::HotlineEnquiry, "2026-11-27", "办证咨询"),
        )
        .unwrap();
    store
        .act_on_appeal(
            &clerk,
            &quick.id,
            AppealAction::Route {
                departments: vec!["公安".into()],
                lead_department: "公安".into(),
            },
        )
        .unwrap();
    store
        .act_on_appeal(
            &clerk,
            &quick.id,
            AppealAction::Resolve {
                result: "已答复".into(),
            },
        )
        .unwrap();
    store
        .act_on_appeal(
            &clerk,
            &quick.id,
            AppealAction::FollowUp {
                satisfaction: "satisfied".into(),
            },
        )
        .unwrap();

    // Mediation of 10-20 still open past its month (L-16); one of 11-02 concluded with an agreement.
    let open = store
        .save_mediation(&clerk, mediation("2026-10-20"))
        .unwrap();
    let agreed = store
        .save_mediation(&clerk, mediation("2026-11-02"))
        .unwrap();
    store
        .act_on_mediation(
            &clerk,
            &agreed.id,
            MediationAction::Conclude {
                outcome: MediationOutcome::Success,
                agreement_text: "楼上住户承担维修费用".into(),
                agreement_on: Some("2026-11-30".into()),
            },
        )
        .unwrap();

    let dash = store
        .dashboard(&district, d("2026-10-01"), d("2026-11-30"))
        .unwrap();
    assert_eq!(
        (dash.from.as_str(), dash.as_of.as_str()),
        ("2026-10-01", "2026-11-30")
    );
    // C-21: the deleted case is not counted; the office's bucket drills down to the kept one.
    assert_eq!(counts(&dash.cases_per_office), vec![(OFFICE, 1)]);
    assert_eq!(ids(&dash.cases_per_office[0]), vec![kept.id.as_str()]);
    assert_eq!(dash.cases_per_office[0].records[0].title, "张𠮷");
    assert_eq!(
        dash.cases_per_officer.iter().map(|b| b.count).sum::<u32>(),
        1
    );

    // L-1: the subject has not reported in; W-2: the complaint; W-3: the open mediation.
    let report = dash
        .overdue_per_rule
        .iter()
        .find(|b| b.key == "L-1.report")
        .expect("L-1.report overdue");
    assert_eq!(ids(report), vec![kept.id.as_str()]);
    assert_eq!(report.records[0].kind, "case");
    let office = &dash.overdue_per_office[0];
    assert_eq!(office.key, OFFICE);
    for (kind, id) in [
        ("case", &kept.id),
        ("appeal", &late.id),
        ("mediation", &open.id),
    ] {
        assert!(
            office.records.iter().any(|r| r.kind == kind && r.id == *id),
            "{kind} {id} overdue at the office"
        );
    }
    assert!(!office.records.iter().any(|r| r.id == gone.id));

    let state = |key: &str| {
        dash.appeals_by_deadline_state
            .iter()
            .find(|b| b.key == key)
            .unwrap()
    };
    assert_eq!(ids(state("open_overdue")), vec![late.id.as_str()]);
    assert_eq!(ids(state("resolved_in_time")), vec![quick.id.as_str()]);
    assert_eq!(counts(&dash.appeals_by_satisfaction)[0], ("satisfied", 1));
    let outcome = |key: &str| {
        dash.mediation_by_outcome
            .iter()
            .find(|b| b.key == key)
            .unwrap()
    };
    assert_eq!(ids(outcome("open_overdue")), vec![open.id.as_str()]);
    assert_eq!(ids(outcome("success")), vec![agreed.id.as_str()]);
    assert_eq!(outcome("success").records[0].title, "张三、𠮷四");

    assert_eq!(
        dash.compliance_by_month
            .iter()
            .map(|m| (m.month.as_str(), m.complete))
            .collect::<Vec<_>>(),
        vec![("2026-10", true), ("2026-11", true)]
    );

    // The same records read as of 10-05: the L-1 clock (10 days) has not run out yet, and the
    // appeals and mediations of later days are outside the range.
    let early = store
        .dashboard(&district, d("2026-10-01"), d("2026-10-05"))
        .unwrap();
    assert!(early.overdue_per_rule.iter().all(|b| b.key != "L-1.report"));
    assert!(early.appeals_by_deadline_state.iter().all(|b| b.count == 0));
    assert_eq!(
        early
            .mediation_by_outcome
            .iter()
            .map(|b| b.count)
            .sum::<u32>(),
        0
    );
}

#[test]
fn d1_only_the_district_and_office_heads_read_the_dashboards() {
    let (mut store, clerk) = community_store("ws-1");
    let officer = store.login("officer", "password-1").unwrap();
    for user in [&clerk, &officer] {
        assert!(matches!(
            store.dashboard(user, d("2026-11-01"), d("2026-11-30")),
            Err(CoreError::Forbidden(_))
        ));
    }
    store
        .create_user(
            "setup",
            &NewUser {
                username: "head".into(),
                display_name: "所长".into(),
                role: Role::OfficeHead,
                org_unit_id: OFFICE.into(),
                password: "password-4".into(),
            },
        )
        .unwrap();
    let head = store.login("head", "password-4").unwrap();
    let own = store
        .dashboard(&head, d("2026-11-01"), d("2026-11-30"))
        .unwrap();
    assert_eq!(counts(&own.cases_per_office), vec![(OFFICE, 0)]);
    // An office head has no residents' rights: those charts stay empty.
    assert!(own.appeals_by_deadline_state.iter().all(|b| b.count == 0));
    assert!(store
        .dashboard(&head, d("2026-11-30"), d("2026-11-01"))
        .is_err());
}
