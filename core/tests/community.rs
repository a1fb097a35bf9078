//! W-3 people's mediation (with the L-16 clocks), W-4 community-work admission and W-5 volunteers on a
//! community workstation's store. Dates are checked by hand against the 2026 calendar of L-0.

mod common_setup;

use chrono::{NaiveDate, TimeZone, Utc};
use jiceng_core::model::{
    AdmissionDecision, AdmissionInput, AdmissionStatus, CaseQuery, DisputeType, MediationAction,
    MediationInput, MediationOutcome, MediationPartyInput, MediationSessionInput, ResidentInput,
    Role, ServiceInput, SessionUser, VolunteerInput, VolunteerSkill,
};
use jiceng_core::store::mediation::{conclude_due, court_confirmation_due};

fn engine() -> jiceng_core::deadlines::Engine {
    jiceng_core::deadlines::Engine::official().unwrap()
}
use jiceng_core::store::{NewUser, Store};
use jiceng_core::CoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn noon(day: &str) -> u64 {
    jiceng_core::shanghai::offset()
        .from_local_datetime(&d(day).and_hms_opt(12, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_millis() as u64
}

/// A workstation whose clock the test sets (Asia/Shanghai noon of a day).
struct Ws {
    store: Store,
    clerk: SessionUser,
    clock: Arc<AtomicU64>,
}

impl Ws {
    fn new(site: &str, day: &str) -> Ws {
        let clock = Arc::new(AtomicU64::new(noon(day)));
        let wall = clock.clone();
        let (store, clerk) =
            common_setup::community_store_at(site, Arc::new(move || wall.load(Ordering::SeqCst)));
        Ws {
            store,
            clerk,
            clock,
        }
    }

    fn at(&self, day: &str) {
        self.clock.store(noon(day), Ordering::SeqCst);
    }

    fn district_admin(&mut self) -> SessionUser {
        self.store
            .create_user(
                "setup",
                &NewUser {
                    username: "district".into(),
                    display_name: "区社区办".into(),
                    role: Role::DistrictAdmin,
                    org_unit_id: common_setup::DISTRICT.into(),
                    password: "password-3".into(),
                },
            )
            .unwrap();
        self.store.login("district", "password-3").unwrap()
    }
}

fn party(name: &str, id_number: &str) -> MediationPartyInput {
    MediationPartyInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        phone: "13800138000".into(),
        address: "民安社区3栋2单元401".into(),
    }
}

fn mediation(accepted_on: &str, parties: Vec<MediationPartyInput>) -> MediationInput {
    MediationInput {
        id: None,
        dispute_type: DisputeType::Neighbour,
        summary: "楼上漏水致楼下天花板受损，双方就维修费用发生争执".into(),
        accepted_on: Some(accepted_on.into()),
        mediator: "王调解".into(),
        parties,
    }
}

fn query(text: &str) -> CaseQuery {
    CaseQuery {
        text: Some(text.into()),
        page: 1,
        page_size: 20,
        include_deleted: false,
    }
}

fn zh(err: CoreError) -> String {
    err.message_zh()
}

// ---------------------------------------------------------------- L-16 clocks from the rule table

#[test]
fn l16_court_confirmation_window_from_an_agreement_signed_2026_09_30() {
    // 人民调解法 第三十三条, rule L-16.court_confirmation (30 days, L-0): the start day does not count,
    // the National Day holiday 10-01..10-07 is counted like any day, and 10-30 is a Friday (working
    // day), so no extension.
    assert_eq!(
        court_confirmation_due(&engine(), d("2026-09-30")).unwrap(),
        d("2026-10-30")
    );
    // Signed 2026-09-03: day 30 is 10-03, inside the holiday, so the window ends on the first working
    // day after it, Thursday 10-08.
    assert_eq!(
        court_confirmation_due(&engine(), d("2026-09-03")).unwrap(),
        d("2026-10-08")
    );
}

#[test]
fn l16_conclusion_in_one_month_from_acceptance() {
    // L-16.conclude (one month, L-0): accepted 2026-09-05 → 10-05, a holiday → Thursday 10-08.
    assert_eq!(
        conclude_due(&engine(), d("2026-09-05")).unwrap(),
        d("2026-10-08")
    );
    // Accepted 2026-01-31: the month has no 31st → 02-28 (a make-up Saturday, a working day).
    assert_eq!(
        conclude_due(&engine(), d("2026-01-31")).unwrap(),
        d("2026-02-28")
    );
}

// ---------------------------------------------------------------- W-3 mediation

#[test]
fn w3_mediation_parties_sessions_agreement_follow_up_and_search_with_rare_characters() {
    let mut ws = Ws::new("ws-1", "2026-10-20");
    // At least two parties.
    let err = ws
        .store
        .save_mediation(&ws.clerk, mediation("2026-09-20", vec![party("张三", "")]))
        .unwrap_err();
    assert!(zh(err).contains("至少两方"));
    // A given ID number must pass the GB 11643 checksum.
    let err = ws
        .store
        .save_mediation(
            &ws.clerk,
            mediation(
                "2026-09-20",
                vec![party("张三", "110101199003074515"), party("李四", "")],
            ),
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_id_number");

    let case = ws
        .store
        .save_mediation(
            &ws.clerk,
            mediation(
                "2026-09-20",
                vec![party("张三", "110101199003074514"), party("𪚥𠀀婆", "")],
            ),
        )
        .unwrap();
    assert_eq!(case.parties.len(), 2);
    assert_eq!(case.parties[1].name, "𪚥𠀀婆", "4-byte names round-trip");
    assert_eq!((case.parties[0].seq, case.parties[1].seq), (1, 2));
    assert_eq!(case.outcome, None);
    // L-16.conclude: 09-20 + 1 month = 10-20.
    assert_eq!(case.conclude_due, "2026-10-20");
    assert!(!case.conclude_overdue);

    for needle in ["zs", "𪚥", "0307", "王调解", "漏水"] {
        let found = ws.store.list_mediations(&ws.clerk, &query(needle)).unwrap();
        assert_eq!(found.total, 1, "search {needle}");
        assert_eq!(found.items[0].id, case.id);
    }
    assert_eq!(
        ws.store
            .list_mediations(&ws.clerk, &query("ls"))
            .unwrap()
            .total,
        0
    );

    // Sessions are append-only records.
    let session = ws
        .store
        .add_mediation_session(
            &ws.clerk,
            MediationSessionInput {
                case_id: case.id.clone(),
                held_on: "2026-09-25".into(),
                place: "社区调解室".into(),
                attendees: "张三、𪚥𠀀婆、王调解".into(),
                summary: "双方陈述事实，约定现场查看".into(),
            },
        )
        .unwrap();
    assert_eq!(session.recorded_by, "社区工作人员");
    let err = ws
        .store
        .add_mediation_session(
            &ws.clerk,
            MediationSessionInput {
                case_id: case.id.clone(),
                held_on: "2026-09-01".into(),
                place: "社区调解室".into(),
                attendees: "张三".into(),
                summary: "早于受理".into(),
            },
        )
        .unwrap_err();
    assert!(zh(err).contains("不能早于受理日期"));

    // Follow-up and court confirmation only after an agreement.
    let err = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::FollowUp {
                visited_on: "2026-10-01".into(),
                result: "已履行".into(),
            },
        )
        .unwrap_err();
    assert!(zh(err).contains("结案后"));
    // A success needs the agreement; a failure has none.
    let err = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::Conclude {
                outcome: MediationOutcome::Success,
                agreement_text: String::new(),
                agreement_on: Some("2026-09-30".into()),
            },
        )
        .unwrap_err();
    assert!(zh(err).contains("调解协议内容"));
    let err = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::Conclude {
                outcome: MediationOutcome::Failed,
                agreement_text: "赔偿500元".into(),
                agreement_on: None,
            },
        )
        .unwrap_err();
    assert!(zh(err).contains("只有调解成功"));

    let done = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::Conclude {
                outcome: MediationOutcome::Success,
                agreement_text: "张三于十日内赔偿维修费800元".into(),
                agreement_on: Some("2026-09-30".into()),
            },
        )
        .unwrap();
    assert_eq!(done.outcome, Some(MediationOutcome::Success));
    assert_eq!(done.concluded_on, "2026-09-30");
    assert_eq!(done.court_confirmation_due, "2026-10-30");
    // Concluding twice is refused.
    let err = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::Conclude {
                outcome: MediationOutcome::Terminated,
                agreement_text: String::new(),
                agreement_on: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(zh(err).contains("不能重复结案"));

    // The court-confirmation window closes on 10-30: an application recorded as made on 10-31 is refused.
    ws.at("2026-11-02");
    let err = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::CourtConfirmationApplied {
                applied_on: "2026-10-31".into(),
            },
        )
        .unwrap_err();
    assert!(zh(err).contains("2026-10-30"));
    let applied = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::CourtConfirmationApplied {
                applied_on: "2026-10-30".into(),
            },
        )
        .unwrap();
    assert_eq!(applied.court_confirmation_applied_on, "2026-10-30");
    let followed = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &case.id,
            MediationAction::FollowUp {
                visited_on: "2026-11-02".into(),
                result: "赔偿款已付清，双方关系缓和".into(),
            },
        )
        .unwrap();
    assert_eq!(followed.follow_up_on, "2026-11-02");
    assert_eq!(followed.sessions.len(), 1);

    // Editing the parties: a party left out is marked removed, never deleted.
    let mut edit = mediation("2026-09-20", vec![]);
    edit.id = Some(case.id.clone());
    let mut first = party("张三", "110101199003074514");
    first.id = Some(case.parties[0].id.clone());
    edit.parties = vec![first, party("赵六", "")];
    let edited = ws.store.save_mediation(&ws.clerk, edit).unwrap();
    let names: Vec<&str> = edited.parties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["张三", "赵六"]);
    let kept: i64 = ws
        .store
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM mediation_party WHERE case_id = ?1",
            [&case.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 3, "the removed party is still stored");

    // Removal of the whole case is reversible.
    ws.store
        .set_mediation_deleted(&ws.clerk, &case.id, true)
        .unwrap();
    assert_eq!(
        ws.store
            .list_mediations(&ws.clerk, &query(""))
            .unwrap()
            .total,
        0
    );
    ws.store
        .set_mediation_deleted(&ws.clerk, &case.id, false)
        .unwrap();
    assert_eq!(
        ws.store
            .list_mediations(&ws.clerk, &query(""))
            .unwrap()
            .total,
        1
    );
}

#[test]
fn l16_digest_shows_conclusion_overdue_the_closing_court_window_and_an_unreported_risk() {
    let mut ws = Ws::new("ws-1", "2026-09-03");
    // Case A: accepted 09-03, still open → L-16.conclude due 10-03 (holiday) → 10-08.
    let a = ws
        .store
        .save_mediation(
            &ws.clerk,
            mediation("2026-09-03", vec![party("甲", ""), party("乙", "")]),
        )
        .unwrap();
    assert_eq!(a.conclude_due, "2026-10-08");
    // Case B: agreement 09-30 → court confirmation window to 10-30.
    ws.at("2026-09-30");
    let b = ws
        .store
        .save_mediation(
            &ws.clerk,
            mediation("2026-09-10", vec![party("丙", ""), party("丁", "")]),
        )
        .unwrap();
    ws.store
        .act_on_mediation(
            &ws.clerk,
            &b.id,
            MediationAction::Conclude {
                outcome: MediationOutcome::Success,
                agreement_text: "丙向丁道歉并赔偿200元".into(),
                agreement_on: Some("2026-09-30".into()),
            },
        )
        .unwrap();
    // Case A flagged at risk of escalating on 10-09 and not reported yet.
    ws.at("2026-10-09");
    let err = ws
        .store
        .act_on_mediation(
            &ws.clerk,
            &a.id,
            MediationAction::ReportToPolice {
                reported_on: "2026-10-09".into(),
            },
        )
        .unwrap_err();
    assert!(zh(err).contains("激化风险"), "no report without the flag");
    let flagged = ws
        .store
        .act_on_mediation(&ws.clerk, &a.id, MediationAction::SetRisk { risk: true })
        .unwrap();
    assert_eq!(flagged.risk_flagged_on, "2026-10-09");

    let tasks = |ws: &Ws, day: &str| {
        let digest = ws.store.task_digest(&ws.clerk, Some(d(day))).unwrap();
        digest
            .tasks
            .into_iter()
            .filter(|t| t.subject_kind == "mediation")
            .map(|t| (t.rule_id, t.case_id, t.due_date, t.status))
            .collect::<Vec<_>>()
    };
    let on_10_10 = tasks(&ws, "2026-10-10");
    assert!(on_10_10.contains(&(
        "L-16.conclude".into(),
        a.id.clone(),
        "2026-10-08".into(),
        "overdue".into()
    )));
    assert!(on_10_10.contains(&(
        "L-16.risk_report".into(),
        a.id.clone(),
        "2026-10-09".into(),
        "overdue".into()
    )));
    assert!(on_10_10.contains(&(
        "L-16.court_confirmation".into(),
        b.id.clone(),
        "2026-10-30".into(),
        "due".into()
    )));
    // Three working days before (10-27 Tue → 10-30 Fri) the window is closing.
    assert!(tasks(&ws, "2026-10-27").contains(&(
        "L-16.court_confirmation".into(),
        b.id.clone(),
        "2026-10-30".into(),
        "due_soon".into()
    )));
    // Once the window has closed nothing is left to do: it drops out of the digest.
    assert!(!tasks(&ws, "2026-11-02")
        .iter()
        .any(|t| t.0 == "L-16.court_confirmation"));

    // Reporting to the police station clears the risk task; concluding clears the conclusion task.
    ws.store
        .act_on_mediation(
            &ws.clerk,
            &a.id,
            MediationAction::ReportToPolice {
                reported_on: "2026-10-09".into(),
            },
        )
        .unwrap();
    ws.store
        .act_on_mediation(
            &ws.clerk,
            &a.id,
            MediationAction::Conclude {
                outcome: MediationOutcome::Terminated,
                agreement_text: String::new(),
                agreement_on: None,
            },
        )
        .unwrap();
    let left = tasks(&ws, "2026-10-10");
    assert!(!left.iter().any(|t| t.1 == a.id), "{left:?}");
}

#[test]
fn w3_a_judicial_officer_cannot_read_mediation_cases() {
    let (store, officer) = common_setup::office_store("office-site");
    let err = store.list_mediations(&officer, &query("")).unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

// ---------------------------------------------------------------- W-4 admission

fn application(department: &str) -> AdmissionInput {
    AdmissionInput {
        department: department.into(),
        work_item: "入户开展人口抽样调查".into(),
        description: "每季度一次，需社区协助入户".into(),
        applied_on: Some("2026-03-02".into()),
        funding_offered_fen: 500_000,
    }
}

#[test]
fn w4_the_clerk_registers_the_district_decides_once_and_refusals_need_reasons() {
    let mut ws = Ws::new("ws-1", "2026-03-05");
    let district = ws.district_admin();
    let app = ws
        .store
        .register_admission(&ws.clerk, application("区统计局"))
        .unwrap();
    assert_eq!(app.status, AdmissionStatus::Pending);
    assert_eq!(app.funding_offered_fen, 500_000);
    // Found by the department's pinyin initials and by the work item.
    assert_eq!(
        ws.store
            .list_admissions(&ws.clerk, &query("qtjj"))
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        ws.store
            .list_admissions(&ws.clerk, &query("抽样"))
            .unwrap()
            .total,
        1
    );
    // Only the district decides.
    let err = ws
        .store
        .decide_admission(
            &ws.clerk,
            &app.id,
            AdmissionDecision::Approve {
                funding_fen: 500_000,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    // The district admin at the district may not register (the workstation does).
    assert!(ws
        .store
        .register_admission(&district, application("区民政局"))
        .is_err());
    // Refusing without reasons is refused (zh and en).
    let err = ws
        .store
        .decide_admission(
            &district,
            &app.id,
            AdmissionDecision::Refuse {
                reasons: "  ".into(),
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("decision_reasons"));
    assert!(zh(err).contains("须填写理由"));
    // 费随事转: approval comes with funding.
    let err = ws
        .store
        .decide_admission(
            &district,
            &app.id,
            AdmissionDecision::Approve { funding_fen: 0 },
        )
        .unwrap_err();
    assert!(zh(err).contains("费随事转"));
    let approved = ws
        .store
        .decide_admission(
            &district,
            &app.id,
            AdmissionDecision::Approve {
                funding_fen: 450_000,
            },
        )
        .unwrap();
    assert_eq!(approved.status, AdmissionStatus::Approved);
    assert_eq!(approved.funding_approved_fen, 450_000);
    assert_eq!(approved.decided_on, "2026-03-05");
    // Deciding twice is refused.
    let err = ws
        .store
        .decide_admission(
            &district,
            &app.id,
            AdmissionDecision::Refuse {
                reasons: "改变主意".into(),
            },
        )
        .unwrap_err();
    assert!(zh(err).contains("不能重复审核"));
    // The clerk sees the decision.
    let seen = ws.store.admission(&ws.clerk, &app.id).unwrap();
    assert_eq!(
        (seen.status, seen.decided_by.as_str()),
        (AdmissionStatus::Approved, "区社区办")
    );

    let other = ws
        .store
        .register_admission(&ws.clerk, application("区城管局"))
        .unwrap();
    let refused = ws
        .store
        .decide_admission(
            &district,
            &other.id,
            AdmissionDecision::Refuse {
                reasons: "属于部门自身职责，不应转嫁社区".into(),
            },
        )
        .unwrap();
    assert_eq!(refused.status, AdmissionStatus::Refused);
    assert_eq!(refused.funding_approved_fen, 0);
    // Pending first, then newest: both decided here; the district lists them too.
    assert_eq!(
        ws.store
            .list_admissions(&district, &query(""))
            .unwrap()
            .total,
        2
    );
}

// ---------------------------------------------------------------- W-5 volunteers

fn volunteer(name: &str) -> VolunteerInput {
    VolunteerInput {
        id: None,
        name: name.into(),
        id_number: String::new(),
        phone: "13900000000".into(),
        skills: vec![VolunteerSkill::ElderlyCare],
        building_leader: false,
        building: String::new(),
        corrections_volunteer: false,
        note: String::new(),
    }
}

fn resident(name: &str, id_number: &str, address: (&str, &str, &str), head: bool) -> ResidentInput {
    ResidentInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        phone: String::new(),
        building: address.0.into(),
        unit: address.1.into(),
        room: address.2.into(),
        household_head: head,
        special_groups: vec![],
        note: String::new(),
    }
}

#[test]
fn w5_yearly_ranking_by_hours_on_shanghai_dates_and_the_reward_fund_per_household() {
    let mut ws = Ws::new("ws-1", "2026-12-31");
    let mut leader = volunteer("𪚥楼长");
    leader.building_leader = true;
    let err = ws
        .store
        .save_volunteer(&ws.clerk, leader.clone())
        .unwrap_err();
    assert!(
        zh(err).contains("楼栋"),
        "a building leader names the building"
    );
    leader.building = "3栋".into();
    leader.id_number = "110101199003074514".into();
    leader.corrections_volunteer = true;
    let leader = ws.store.save_volunteer(&ws.clerk, leader).unwrap();
    assert_eq!(leader.name, "𪚥楼长");
    assert!(leader.building_leader && leader.corrections_volunteer);
    let mut dup = volunteer("另一人");
    dup.id_number = "110101199003074514".into();
    assert!(zh(ws.store.save_volunteer(&ws.clerk, dup).unwrap_err()).contains("已登记"));
    let zhang = ws
        .store
        .save_volunteer(&ws.clerk, volunteer("张志愿"))
        .unwrap();
    let li = ws
        .store
        .save_volunteer(&ws.clerk, volunteer("李志愿"))
        .unwrap();

    let mut serve = |v: &str, on: &str, hours: f64| {
        ws.store
            .add_volunteer_service(
                &ws.clerk,
                ServiceInput {
                    volunteer_id: v.into(),
                    served_on: on.into(),
                    hours,
                    activity: "独居老人探访".into(),
                },
            )
            .map(|_| ())
    };
    serve(&leader.id, "2026-01-01", 2.5).unwrap();
    serve(&leader.id, "2026-12-31", 1.5).unwrap();
    serve(&zhang.id, "2026-06-01", 4.0).unwrap();
    serve(&li.id, "2026-05-01", 3.0).unwrap();
    // Outside the calendar year: not counted in 2026.
    serve(&li.id, "2025-12-31", 8.0).unwrap();
    assert!(serve(&li.id, "2027-01-01", 1.0).is_err(), "no future dates");
    assert!(serve(&li.id, "2026-05-02", 0.0).is_err());
    assert!(serve(&li.id, "2026-05-02", 25.0).is_err());

    // Ranking: leader 4h and 张 4h share rank 1, 李 3h is third.
    let year = ws.store.volunteer_year(&ws.clerk, Some(2026)).unwrap();
    let ranking: Vec<(u32, &str, f64)> = year
        .ranking
        .iter()
        .map(|r| (r.rank, r.name.as_str(), r.hours))
        .collect();
    assert_eq!(ranking.len(), 3);
    assert_eq!((ranking[0].0, ranking[1].0), (1, 1));
    assert_eq!(ranking[2], (3, "李志愿", 3.0));
    assert_eq!(year.ranking[0].hours, 4.0);
    // Default year is this Shanghai year: 2026-12-31 20:00 UTC is already 2027-01-01 in Shanghai.
    ws.clock.store(
        Utc.with_ymd_and_hms(2026, 12, 31, 20, 0, 0)
            .unwrap()
            .timestamp_millis() as u64,
        Ordering::SeqCst,
    );
    let next = ws.store.volunteer_year(&ws.clerk, None).unwrap();
    assert_eq!((next.year, next.ranking.len()), (2027, 0));
    let last = ws.store.volunteer_year(&ws.clerk, Some(2025)).unwrap();
    assert_eq!(last.ranking[0].hours, 8.0);

    // W-5 reward fund: households = distinct addresses (two residents at 3-2-401 are one household),
    // plus heads registered without an address; 1.5 yuan (150 fen, from the local rule file) each.
    let register = |ws: &mut Ws, r: ResidentInput| ws.store.save_resident(&ws.clerk, r).unwrap();
    let id = |seq: u16| jiceng_core::idcard::compose("110101", d("1980-01-01"), seq);
    register(
        &mut ws,
        resident("户主甲", &id(11), ("3", "2", "401"), true),
    );
    register(
        &mut ws,
        resident("家属乙", &id(12), ("3", "2", "401"), false),
    );
    register(
        &mut ws,
        resident("户主丙", &id(13), ("5", "1", "101"), true),
    );
    register(&mut ws, resident("户主丁", &id(14), ("", "", ""), true));
    register(
        &mut ws,
        resident("无址非户主", &id(15), ("", "", ""), false),
    );
    let year = ws.store.volunteer_year(&ws.clerk, Some(2026)).unwrap();
    assert_eq!(year.households, 3);
    assert_eq!(year.reward_rate_fen, 150);
    assert_eq!(
        year.reward_fund_fen, 450,
        "3 households × 1.5 yuan = 4.50 yuan"
    );

    // Search: name, pinyin initials, ID number, building; removal is reversible and keeps the hours.
    for (needle, n) in [("zzy", 1), ("𪚥", 1), ("0307", 1), ("3栋", 1), ("志愿", 2)] {
        assert_eq!(
            ws.store
                .list_volunteers(&ws.clerk, &query(needle))
                .unwrap()
                .total,
            n,
            "search {needle}"
        );
    }
    ws.store
        .set_volunteer_deleted(&ws.clerk, &li.id, true)
        .unwrap();
    assert_eq!(
        ws.store
            .list_volunteers(&ws.clerk, &query(""))
            .unwrap()
            .total,
        2
    );
    let back = ws
        .store
        .set_volunteer_deleted(&ws.clerk, &li.id, false)
        .unwrap();
    assert_eq!(back.total_hours, 11.0);
}

// ---------------------------------------------------------------- sync

#[test]
fn w3_w4_w5_records_round_trip_between_two_workstations() {
    let mut a = Ws::new("ws-a", "2026-10-09");
    let b = Ws::new("ws-b", "2026-10-09");
    let mut b = b;
    let case = a
        .store
        .save_mediation(
            &a.clerk,
            mediation("2026-10-01", vec![party("𠀀甲", ""), party("𪚥乙", "")]),
        )
        .unwrap();
    a.store
        .add_mediation_session(
            &a.clerk,
            MediationSessionInput {
                case_id: case.id.clone(),
                held_on: "2026-10-08".into(),
                place: "社区调解室".into(),
                attendees: "双方".into(),
                summary: "首次调解".into(),
            },
        )
        .unwrap();
    a.store
        .act_on_mediation(&a.clerk, &case.id, MediationAction::SetRisk { risk: true })
        .unwrap();
    let app = a
        .store
        .register_admission(&a.clerk, application("区卫健委"))
        .unwrap();
    let v = a
        .store
        .save_volunteer(&a.clerk, volunteer("𠀀志愿"))
        .unwrap();
    a.store
        .add_volunteer_service(
            &a.clerk,
            ServiceInput {
                volunteer_id: v.id.clone(),
                served_on: "2026-10-08".into(),
                hours: 1.25,
                activity: "巡逻".into(),
            },
        )
        .unwrap();

    b.store
        .apply_remote(&a.store.own_log().unwrap(), 0)
        .unwrap();
    let there = b.store.mediation(&b.clerk, &case.id).unwrap();
    let here = a.store.mediation(&a.clerk, &case.id).unwrap();
    assert_eq!(there.parties, here.parties);
    assert_eq!(there.sessions, here.sessions);
    assert!(there.escalation_risk);
    assert_eq!(there.parties[1].name, "𪚥乙");
    assert_eq!(
        b.store
            .list_mediations(&b.clerk, &query("𪚥"))
            .unwrap()
            .total,
        1,
        "initials are derived on the receiving side too"
    );
    assert_eq!(
        b.store.admission(&b.clerk, &app.id).unwrap().department,
        "区卫健委"
    );
    assert_eq!(
        b.store.volunteer(&b.clerk, &v.id).unwrap().total_hours,
        1.25
    );

    // The district's decision made on b reaches a.
    let district = b.district_admin();
    b.store
        .decide_admission(
            &district,
            &app.id,
            AdmissionDecision::Approve {
                funding_fen: 100_000,
            },
        )
        .unwrap();
    a.store
        .apply_remote(&b.store.own_log().unwrap(), 0)
        .unwrap();
    let decided = a.store.admission(&a.clerk, &app.id).unwrap();
    assert_eq!(
        (decided.status, decided.funding_approved_fen),
        (AdmissionStatus::Approved, 100_000)
    );
    assert_eq!(a.store.conflict_count().unwrap(), 0);
}
