//! The case file beyond the basics: people (C-7, C-8, L-4, C-22), plan and agreement (C-8, C-9), and
//! the legal documents with the clocks and endings that rest on them (L-1, L-9, C-17, C-18, L-10).

mod common_setup;

use chrono::{NaiveDate, TimeZone, Utc};
use common_setup::{identity, office_store_at};
use jiceng_core::casefile::{
    CasePlanInput, CheckSeverity, DocumentInput, DocumentType, GuarantorKind, PersonInput,
    PersonRole, TeamRole,
};
use jiceng_core::model::{CaseInput, CaseKind, CaseRecord, CaseStatus, SessionUser};
use jiceng_core::store::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn at(day: &str, hh: u32, mm: u32) -> u64 {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    jiceng_core::shanghai::offset()
        .from_local_datetime(&d.and_hms_opt(hh, mm, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_millis() as u64
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A GB 11643 number born 1990-03-07; an even sequence digit gives a woman.
fn id_number(seq: u32) -> String {
    let body = format!("11010119900307{seq:03}");
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

struct Office {
    store: Store,
    user: SessionUser,
    clock: Arc<AtomicU64>,
}

impl Office {
    fn new(site: &str, now: u64) -> Office {
        let clock = Arc::new(AtomicU64::new(now));
        let wall = clock.clone();
        let (store, user) = office_store_at(site, Arc::new(move || wall.load(Ordering::SeqCst)));
        Office { store, user, clock }
    }

    fn set_now(&self, millis: u64) {
        self.clock.store(millis, Ordering::SeqCst);
    }

    fn case(&mut self, name: &str, seq: u32, status: CaseStatus, end: &str) -> CaseRecord {
        let input = CaseInput {
            id: None,
            name: name.into(),
            id_number: id_number(seq),
            kind: CaseKind::Probation,
            sentence_start: "2026-01-10".into(),
            sentence_end: end.into(),
            org_unit_id: None,
            status: Some(status),
            judgment_effective_on: None,
            reported_on: None,
            supervision_level: None,
            sealed_minor: None,
            address: None,
        };
        self.store.save_case(&self.user, input).unwrap()
    }

    fn person(
        &mut self,
        case: &CaseRecord,
        role: PersonRole,
        team_role: Option<TeamRole>,
        name: &str,
        sex: &str,
    ) -> jiceng_core::casefile::PersonRecord {
        self.store
            .save_person(
                &self.user,
                PersonInput {
                    id: None,
                    case_id: case.id.clone(),
                    role,
                    team_role,
                    name: name.into(),
                    sex: sex.into(),
                    relation: String::new(),
                    phone: String::new(),
                    work_unit: String::new(),
                    note: String::new(),
                },
            )
            .unwrap()
    }

    fn document(
        &mut self,
        case: &CaseRecord,
        doc_type: DocumentType,
        on: &str,
        time: &str,
    ) -> jiceng_core::error::Result<jiceng_core::casefile::DocumentRecord> {
        self.store.save_document(
            &self.user,
            DocumentInput {
                id: None,
                case_id: case.id.clone(),
                doc_type,
                doc_no: String::new(),
                counterpart: String::new(),
                dated_on: on.into(),
                time_of_day: time.into(),
                note: String::new(),
            },
        )
    }

    fn set_status(
        &mut self,
        case: &CaseRecord,
        status: CaseStatus,
    ) -> jiceng_core::error::Result<()> {
        let input = CaseInput {
            id: Some(case.id.clone()),
            name: case.name.clone(),
            id_number: case.id_number.clone(),
            kind: case.kind,
            sentence_start: case.sentence_start.clone(),
            sentence_end: case.sentence_end.clone(),
            org_unit_id: None,
            status: Some(status),
            judgment_effective_on: None,
            reported_on: None,
            supervision_level: None,
            sealed_minor: None,
            address: None,
        };
        self.store.save_case(&self.user, input).map(|_| ())
    }

    fn task(&self, case: &CaseRecord, rule_id: &str, today: &str) -> Vec<(String, String)> {
        let case = self.store.get_case(&self.user, &case.id).unwrap().case;
        self.store
            .case_tasks(&case, day(today))
            .unwrap()
            .into_iter()
            .filter(|t| t.rule_id == rule_id)
            .map(|t| (t.due_date, t.status))
            .collect()
    }
}

#[test]
fn l4_c8_c22_c7_the_team_of_a_female_subject_needs_a_woman_and_the_file_names_what_is_missing() {
    let mut office = Office::new("site-a", at("2026-06-01", 10, 0));
    // Sequence digit 002 is even: the subject is a woman.
    let case = office.case("欧阳𪚥", 2, CaseStatus::InCorrection, "2027-01-31");
    assert_eq!(case.sex, "female");
    let detail = office.store.get_case(&office.user, &case.id).unwrap();
    let rules: Vec<&str> = detail
        .file_checks
        .iter()
        .map(|c| c.rule_ref.as_str())
        .collect();
    assert_eq!(rules, vec!["C-8", "C-8", "C-9", "C-22", "C-7"]);

    for (seat, name) in [
        (TeamRole::GovernanceHead, "王主任"),
        (TeamRole::PoliceOfficer, "李警官"),
        (TeamRole::LiaisonCadre, "赵干部"),
        (TeamRole::LocalResponsible, "钱书记"),
    ] {
        office.person(&case, PersonRole::TeamMember, Some(seat), name, "male");
    }
    let husband = office.person(&case, PersonRole::Family, None, "孙𠀀", "male");
    office.person(
        &case,
        PersonRole::TeamMember,
        Some(TeamRole::FamilyMember),
        "孙𠀀",
        "male",
    );
    office.person(&case, PersonRole::Volunteer, None, "周志愿", "male");
    let checks = office
        .store
        .get_case(&office.user, &case.id)
        .unwrap()
        .file_checks;
    let l4 = checks
        .iter()
        .find(|c| c.rule_ref == "L-4")
        .expect("an all-male team for a woman is named (L-4)");
    assert_eq!(l4.severity, CheckSeverity::Required);
    assert!(!checks
        .iter()
        .any(|c| c.rule_ref == "C-22" || c.rule_ref == "C-7"));

    // A woman joins the team: L-4 is satisfied. A team member without sex is refused (L-4 needs it).
    let mut no_sex = PersonInput {
        id: None,
        case_id: case.id.clone(),
        role: PersonRole::TeamMember,
        team_role: Some(TeamRole::Other),
        name: "吴社工".into(),
        sex: String::new(),
        relation: String::new(),
        phone: String::new(),
        work_unit: String::new(),
        note: String::new(),
    };
    let err = office
        .store
        .save_person(&office.user, no_sex.clone())
        .unwrap_err();
    assert!(err.message_zh().contains("性别"), "{}", err.message_zh());
    no_sex.sex = "female".into();
    office.store.save_person(&office.user, no_sex).unwrap();

    // C-8 plan and C-9 agreement with the husband as the direct relative who signs.
    office
        .store
        .save_plan(
            &office.user,
            CasePlanInput {
                case_id: case.id.clone(),
                plan_text: "普管：每周电话报告，每月书面报告".into(),
                made_on: "2026-05-20".into(),
                made_with_police: true,
                agreement_signed_on: "2026-05-21".into(),
                guarantor_person_id: Some(husband.id.clone()),
                guarantor_kind: Some(GuarantorKind::DirectRelative),
            },
        )
        .unwrap();
    let detail = office.store.get_case(&office.user, &case.id).unwrap();
    assert!(
        detail.file_checks.is_empty(),
        "complete file: {:?}",
        detail.file_checks
    );
    assert_eq!(detail.persons.len(), 8);
    assert!(detail.persons.iter().any(|p| p.name == "孙𠀀"));

    // The signer cannot be removed from the file while the agreement names them; removal is reversible.
    let err = office
        .store
        .set_person_deleted(&office.user, &husband.id, true)
        .unwrap_err();
    assert!(err.message_zh().contains("签订人"));
    let volunteer = detail
        .persons
        .iter()
        .find(|p| p.role == PersonRole::Volunteer)
        .unwrap()
        .clone();
    office
        .store
        .set_person_deleted(&office.user, &volunteer.id, true)
        .unwrap();
    let checks = office
        .store
        .get_case(&office.user, &case.id)
        .unwrap()
        .file_checks;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].rule_ref, "C-22");
    office
        .store
        .set_person_deleted(&office.user, &volunteer.id, false)
        .unwrap();
    assert!(office
        .store
        .get_case(&office.user, &case.id)
        .unwrap()
        .file_checks
        .is_empty());
}

#[test]
fn c9_an_agreement_is_whole_and_a_relative_signs_as_a_relative() {
    let mut office = Office::new("site-a", at("2026-06-01", 10, 0));
    let case = office.case("司马懿", 1, CaseStatus::InCorrection, "2027-01-31");
    let cadre = office.person(
        &case,
        PersonRole::TeamMember,
        Some(TeamRole::LiaisonCadre),
        "赵干部",
        "male",
    );
    let plan = |signer: Option<String>, kind: Option<GuarantorKind>, signed: &str| CasePlanInput {
        case_id: case.id.clone(),
        plan_text: "方案".into(),
        made_on: "2026-05-20".into(),
        made_with_police: false,
        agreement_signed_on: signed.into(),
        guarantor_person_id: signer,
        guarantor_kind: kind,
    };
    // Half an agreement is refused.
    let err = office
        .store
        .save_plan(&office.user, plan(None, None, "2026-05-21"))
        .unwrap_err();
    assert!(err.message_zh().contains("同时填写"));
    // A team cadre cannot sign "as a direct relative".
    let err = office
        .store
        .save_plan(
            &office.user,
            plan(
                Some(cadre.id.clone()),
                Some(GuarantorKind::DirectRelative),
                "2026-05-21",
            ),
        )
        .unwrap_err();
    assert!(err.message_zh().contains("亲属"));
    // Signing for the village committee is fine; a future date is not.
    let err = office
        .store
        .save_plan(
            &office.user,
            plan(
                Some(cadre.id.clone()),
                Some(GuarantorKind::Committee),
                "2026-06-02",
            ),
        )
        .unwrap_err();
    assert!(err.message_zh().contains("晚于今天"));
    let saved = office
        .store
        .save_plan(
            &office.user,
            plan(Some(cadre.id), Some(GuarantorKind::Committee), "2026-05-21"),
        )
        .unwrap();
    assert_eq!(saved.guarantor_kind, Some(GuarantorKind::Committee));
}

#[test]
fn c17_c18_release_waits_for_the_appraisal_documents_then_l10_asks_for_the_certificate_and_notices()
{
    let mut office = Office::new("site-a", at("2026-12-10", 9, 0));
    let case = office.case("陈十三", 1, CaseStatus::InCorrection, "2026-12-31");
    // C-17's window opens 30 days before the end: the task is open until the three documents are in.
    assert_eq!(
        office.task(&case, "C-17.appraisal", "2026-12-10"),
        vec![("2026-12-31".to_string(), "due".to_string())]
    );
    office
        .document(&case, DocumentType::SelfAppraisal, "2026-12-08", "")
        .unwrap();
    office
        .document(&case, DocumentType::ReviewMeeting, "2026-12-09", "")
        .unwrap();
    office.set_now(at("2027-01-04", 9, 0));
    let err = office
        .set_status(&case, CaseStatus::Released)
        .expect_err("no appraisal yet");
    assert!(
        err.message_zh().contains("鉴定意见"),
        "{}",
        err.message_zh()
    );
    assert!(err.message_zh().contains("C-17"));
    office
        .document(&case, DocumentType::Appraisal, "2026-12-10", "")
        .unwrap();
    assert_eq!(
        office.task(&case, "C-17.appraisal", "2027-01-04"),
        vec![("2026-12-31".to_string(), "done".to_string())]
    );
    office.set_status(&case, CaseStatus::Released).unwrap();

    // Released: the certificate and the three notices are still owed (L-10), overdue since 12-31 + the
    // holiday extension (2027 is beyond the known calendar, so only weekends move it).
    let owed = office.task(&case, "L-10.release", "2027-01-04");
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].1, "overdue");
    for doc in [
        DocumentType::ReleaseAnnouncement,
        DocumentType::ReleaseCertificate,
        DocumentType::NoticeCourt,
        DocumentType::NoticeProcuratorate,
    ] {
        office.document(&case, doc, "2027-01-04", "").unwrap();
    }
    assert_eq!(
        office.task(&case, "L-10.release", "2027-01-04")[0].1,
        "overdue"
    );
    office
        .document(&case, DocumentType::NoticePolice, "2027-01-04", "")
        .unwrap();
    assert_eq!(
        office.task(&case, "L-10.release", "2027-01-04")[0].1,
        "done"
    );
    // The documents an ended case rests on cannot be deleted.
    let appraisal = office
        .store
        .get_case(&office.user, &case.id)
        .unwrap()
        .documents
        .into_iter()
        .find(|d| d.doc_type == DocumentType::Appraisal)
        .unwrap();
    assert!(office
        .store
        .set_document_deleted(&office.user, &appraisal.id, true)
        .is_err());
}

#[test]
fn l9_the_court_rules_on_arrest_within_48_hours_and_on_revocation_within_30_days() {
    let mut office = Office::new("site-a", at("2026-09-29", 18, 0));
    let case = office.case("钱十四", 1, CaseStatus::InCorrection, "2027-06-30");
    // The arrest request needs its hour: the 48 hours count from it.
    let err = office
        .document(&case, DocumentType::ArrestRequest, "2026-09-29", "")
        .unwrap_err();
    assert!(err.message_zh().contains("四十八小时"));
    assert!(office
        .document(&case, DocumentType::ArrestRequest, "2026-09-29", "25:00")
        .is_err());
    office
        .document(&case, DocumentType::ArrestRequest, "2026-09-29", "16:30")
        .unwrap();
    // 48 hours from 09-29 16:30 end on 10-01 16:30.
    assert_eq!(
        office.task(&case, "L-9.arrest_ruling", "2026-09-30")[0].0,
        "2026-10-01"
    );
    office
        .document(&case, DocumentType::RevocationProposal, "2026-09-20", "")
        .unwrap();
    // 30 days from 09-20 end on 10-20, a Tuesday.
    assert_eq!(
        office.task(&case, "L-9.revocation_ruling", "2026-10-21"),
        vec![("2026-10-20".to_string(), "overdue".to_string())]
    );
    // Revocation rests on the ruling: refused until it is on file.
    office.set_now(at("2026-10-22", 9, 0));
    let err = office
        .set_status(&case, CaseStatus::Revoked)
        .expect_err("no ruling yet");
    assert!(err.message_zh().contains("撤销缓刑（假释）裁定书"));
    office
        .document(&case, DocumentType::RevocationRuling, "2026-10-22", "")
        .unwrap();
    assert_eq!(
        office.task(&case, "L-9.revocation_ruling", "2026-10-22")[0].1,
        "done"
    );
    office.set_status(&case, CaseStatus::Revoked).unwrap();
}

#[test]
fn c3_l1_documents_clock_runs_from_the_judgment_and_closes_on_the_first_sentencing_document() {
    let mut office = Office::new("site-a", at("2026-10-06", 9, 0));
    let input = CaseInput {
        id: None,
        name: "冯十二".into(),
        id_number: id_number(1),
        kind: CaseKind::Probation,
        sentence_start: "2026-10-01".into(),
        sentence_end: "2027-09-30".into(),
        org_unit_id: None,
        status: None,
        judgment_effective_on: Some("2026-09-25".into()),
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    };
    let case = office.store.save_case(&office.user, input).unwrap();
    // Ten days from 09-25 end on 10-05, inside the National Day holiday: the period runs to 10-08 (L-0).
    assert_eq!(
        office.task(&case, "L-1.documents", "2026-10-06"),
        vec![("2026-10-08".to_string(), "due_soon".to_string())]
    );
    // An intake talk is not a sentencing document; the judgment is.
    office
        .document(&case, DocumentType::IntakeTalk, "2026-10-06", "")
        .unwrap();
    assert_eq!(
        office.task(&case, "L-1.documents", "2026-10-06")[0].1,
        "due_soon"
    );
    office
        .document(&case, DocumentType::Judgment, "2026-10-06", "")
        .unwrap();
    assert_eq!(
        office.task(&case, "L-1.documents", "2026-10-06")[0].1,
        "done"
    );
    // A document dated in the future is refused.
    assert!(office
        .document(&case, DocumentType::ExecutionNotice, "2026-10-07", "")
        .is_err());
}

#[test]
fn c8_two_laptops_edit_the_plan_offline_field_by_field_and_documents_keep_their_history() {
    let mut a = Office::new("laptop-a", at("2026-06-01", 10, 0));
    let case = a.case("李四", 1, CaseStatus::InCorrection, "2027-01-31");
    let mut b = Store::open_in_memory()
        .unwrap()
        .with_clock(Arc::new(|| at("2026-06-01", 11, 0)));
    b.set_identity(&identity("laptop-b")).unwrap();
    b.apply_remote(&a.store.own_log().unwrap(), 0).unwrap();
    let user_b = b.login("officer", "password-1").unwrap();
    let plan = CasePlanInput {
        case_id: case.id.clone(),
        plan_text: "每周电话报告".into(),
        made_on: "2026-05-20".into(),
        made_with_police: false,
        agreement_signed_on: String::new(),
        guarantor_person_id: None,
        guarantor_kind: None,
    };
    a.store.save_plan(&a.user, plan.clone()).unwrap();
    b.apply_remote(&a.store.own_log().unwrap(), 0).unwrap();
    // Offline: laptop A rewrites the plan text, laptop B ticks "made with the police".
    a.store
        .save_plan(
            &a.user,
            CasePlanInput {
                plan_text: "每周当面报告".into(),
                ..plan.clone()
            },
        )
        .unwrap();
    b.save_plan(
        &user_b,
        CasePlanInput {
            made_with_police: true,
            ..plan
        },
    )
    .unwrap();
    a.store.apply_remote(&b.own_log().unwrap(), 0).unwrap();
    b.apply_remote(&a.store.own_log().unwrap(), 0).unwrap();
    for (store, user) in [(&a.store, &a.user), (&b, &user_b)] {
        let detail = store.get_case(user, &case.id).unwrap();
        let plan = detail.plan.expect("one plan");
        assert_eq!(
            (plan.plan_text.as_str(), plan.made_with_police),
            ("每周当面报告", true)
        );
        assert!(detail.conflicts.is_empty());
    }

    // A document corrected later keeps both versions of its number, with who and where.
    let doc = a
        .document(&case, DocumentType::Judgment, "2026-05-01", "")
        .unwrap();
    a.store
        .save_document(
            &a.user,
            DocumentInput {
                id: Some(doc.id.clone()),
                case_id: case.id.clone(),
                doc_type: DocumentType::Judgment,
                doc_no: "（2026）京0101刑初88号".into(),
                counterpart: "示范区人民法院".into(),
                dated_on: "2026-05-01".into(),
                time_of_day: String::new(),
                note: String::new(),
            },
        )
        .unwrap();
    let history = a
        .store
        .record_history(&a.user, "corr_document", &doc.id)
        .unwrap();
    let numbers: Vec<&str> = history
        .iter()
        .filter(|h| h.field == "doc_no")
        .map(|h| h.value.as_str())
        .collect();
    assert_eq!(numbers, vec!["", "（2026）京0101刑初88号"]);
    assert!(history
        .iter()
        .all(|h| h.own_site && h.user_name == "矫正专干"));
    assert!(a
        .store
        .record_history(&a.user, "corr_case_secret", &doc.id)
        .is_err());
}

mod electronic_location {
    use super::*;
    use jiceng_core::location::{
        LocationEventInput, LocationEventKind, LocationGround, LocationPeriodInput,
        LocationPeriodStatus,
    };
    use jiceng_core::model::{OrgKind, Role};
    use jiceng_core::store::NewUser;

    fn period(
        case: &CaseRecord,
        start: &str,
        end: &str,
        renewal_of: Option<String>,
    ) -> LocationPeriodInput {
        LocationPeriodInput {
            case_id: case.id.clone(),
            ground: LocationGround::LeftWithoutApproval,
            approved_by: "区司法局 王局长".into(),
            approved_on: "2026-03-14".into(),
            start_on: start.into(),
            end_on: end.into(),
            renewal_of,
            note: String::new(),
        }
    }

    #[test]
    fn l7_periods_of_at_most_three_months_renewals_and_the_decision_task() {
        let mut office = Office::new("site-a", at("2026-03-15", 9, 0));
        let case = office.case("王五", 1, CaseStatus::InCorrection, "2027-06-30");
        let err = office
            .store
            .save_location_period(
                &office.user,
                period(&case, "2026-03-15", "2026-06-16", None),
            )
            .unwrap_err();
        assert!(
            err.message_zh().contains("2026-06-15"),
            "{}",
            err.message_zh()
        );
        let first = office
            .store
            .save_location_period(
                &office.user,
                period(&case, "2026-03-15", "2026-06-15", None),
            )
            .unwrap();
        assert_eq!(first.status, LocationPeriodStatus::Active);
        assert_eq!(
            office.task(&case, "L-7.location_period", "2026-06-12"),
            vec![("2026-06-15".to_string(), "due_soon".to_string())]
        );
        // Left to lapse: overdue.
        office.set_now(at("2026-06-16", 9, 0));
        assert_eq!(
            office.task(&case, "L-7.location_period", "2026-06-16")[0].1,
            "overdue"
        );
        // A renewal continues from the day after and may run three months from the old end.
        let gap = office
            .store
            .save_location_period(
                &office.user,
                period(&case, "2026-06-17", "2026-09-15", Some(first.id.clone())),
            )
            .unwrap_err();
        assert!(gap.message_zh().contains("2026-06-16"));
        let renewal = office
            .store
            .save_location_period(
                &office.user,
                period(&case, "2026-06-16", "2026-09-15", Some(first.id.clone())),
            )
            .unwrap();
        assert_eq!(
            office.task(&case, "L-7.location_period", "2026-06-16")[0].1,
            "done"
        );
        let detail = office.store.get_case(&office.user, &case.id).unwrap();
        assert_eq!(
            detail.location_periods[0].status,
            LocationPeriodStatus::Renewed
        );
        // Renewing the same period twice is refused; ending needs a reason and a day inside the period.
        assert!(office
            .store
            .save_location_period(
                &office.user,
                period(&case, "2026-06-16", "2026-08-15", Some(first.id.clone())),
            )
            .is_err());
        assert!(office
            .store
            .end_location_period(&office.user, &renewal.id, "2026-06-16", "  ")
            .is_err());
        assert!(office
            .store
            .end_location_period(&office.user, &renewal.id, "2026-06-17", "表现良好")
            .is_err());
        let ended = office
            .store
            .end_location_period(
                &office.user,
                &renewal.id,
                "2026-06-16",
                "表现良好，提前解除",
            )
            .unwrap();
        assert_eq!(ended.status, LocationPeriodStatus::Ended);
        assert_eq!(
            office.task(&case, "L-7.location_renewal", "2026-06-16")[0].1,
            "done"
        );
    }

    #[test]
    fn l7_location_events_are_recorded_at_the_judicial_office_only_and_inside_a_period() {
        let mut office = Office::new("site-a", at("2026-04-01", 9, 0));
        let case = office.case("赵六", 1, CaseStatus::InCorrection, "2027-06-30");
        let p = office
            .store
            .save_location_period(
                &office.user,
                period(&case, "2026-03-15", "2026-06-15", None),
            )
            .unwrap();
        let event = |at: &str| LocationEventInput {
            period_id: p.id.clone(),
            kind: LocationEventKind::OutOfZone,
            occurred_at: at.into(),
            place: "邻县汽车站".into(),
            action: "电话联系，当日返回".into(),
        };
        office
            .store
            .add_location_event(&office.user, event("2026-03-20 21:15"))
            .unwrap();
        assert!(office
            .store
            .add_location_event(&office.user, event("2026-03-14 21:15"))
            .is_err());
        assert!(office
            .store
            .add_location_event(&office.user, event("2026-04-02 08:00"))
            .is_err());
        let detail = office.store.get_case(&office.user, &case.id).unwrap();
        assert_eq!(detail.location_events.len(), 1);
        assert_eq!(detail.location_events[0].place, "邻县汽车站");
        // A district user, on the same store, may not record location data.
        office
            .store
            .create_user(
                "setup",
                &NewUser {
                    username: "bureau".into(),
                    display_name: "区局".into(),
                    role: Role::DistrictAdmin,
                    org_unit_id: common_setup::DISTRICT.into(),
                    password: "password-2".into(),
                },
            )
            .unwrap();
        let bureau = office.store.login("bureau", "password-2").unwrap();
        assert_eq!(
            office.store.org_unit_kind(&bureau.org_unit_id).unwrap(),
            Some(OrgKind::District)
        );
        let err = office
            .store
            .add_location_event(&bureau, event("2026-03-21 10:00"))
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }
}

mod pre_decision_assessment {
    use super::*;
    use jiceng_core::investigation::{
        AssessmentOpinion, InvestigationInput, InvestigationQuery, InvestigationStatus,
        RequestingOrgan,
    };

    fn request(name: &str, received_on: &str, fast_track: bool) -> InvestigationInput {
        InvestigationInput {
            name: name.into(),
            id_number: id_number(3),
            organ: RequestingOrgan::Court,
            organ_name: "示范区人民法院".into(),
            proposed_kind: CaseKind::Probation,
            offence: "危险驾驶罪".into(),
            residence: "北新桥街道民安小区3号楼".into(),
            received_on: received_on.into(),
            fast_track,
        }
    }

    #[test]
    fn l2_the_opinion_is_due_in_10_working_days_or_5_in_fast_track_across_national_day() {
        let mut office = Office::new("site-a", at("2026-09-28", 9, 0));
        // Received Mon 09-28: 10 working days skip 10-01..10-07 and count the make-up Saturday 10-10:
        // 09-29, 09-30, 10-08, 10-09, 10-10, 10-12, 10-13, 10-14, 10-15, 10-16.
        let normal = office
            .store
            .register_investigation(&office.user, request("王𠀀明", "2026-09-28", false))
            .unwrap();
        assert_eq!(normal.due_on, "2026-10-16");
        // Fast track: 09-29, 09-30, 10-08, 10-09, 10-10.
        let fast = office
            .store
            .register_investigation(&office.user, request("钱速裁", "2026-09-28", true))
            .unwrap();
        assert_eq!(fast.due_on, "2026-10-10");
        // Both in the digest, the fast one first.
        let digest = office
            .store
            .task_digest(&office.user, Some(day("2026-10-09")))
            .unwrap();
        let l2: Vec<(&str, &str)> = digest
            .tasks
            .iter()
            .filter(|t| t.rule_ref == "L-2")
            .map(|t| (t.rule_id.as_str(), t.status.as_str()))
            .collect();
        assert_eq!(
            l2,
            vec![
                ("L-2.opinion_fast_track", "due_soon"),
                ("L-2.opinion", "due")
            ]
        );
        // The opinion closes it; answering twice is refused; a late answer is marked.
        office.set_now(at("2026-10-12", 9, 0));
        let answered = office
            .store
            .answer_investigation(
                &office.user,
                &fast.id,
                AssessmentOpinion::Suitable,
                "2026-10-12",
                "居住地固定，家庭支持，适宜社区矫正",
            )
            .unwrap();
        assert_eq!(answered.status, InvestigationStatus::Answered);
        assert!(answered.overdue, "answered after 10-10");
        assert!(office
            .store
            .answer_investigation(
                &office.user,
                &fast.id,
                AssessmentOpinion::Unsuitable,
                "2026-10-12",
                "x"
            )
            .is_err());
        let open = office
            .store
            .list_investigations(
                &office.user,
                &InvestigationQuery {
                    text: Some("w".into()),
                    page: 1,
                    page_size: 20,
                    include_closed: false,
                },
            )
            .unwrap();
        assert_eq!(open.total, 1, "found by pinyin initials: {:?}", open.items);
        assert_eq!(open.items[0].name, "王𠀀明");
    }

    #[test]
    fn l2_requests_are_checked_and_link_to_the_case_of_the_same_person() {
        let mut office = Office::new("site-a", at("2026-06-01", 9, 0));
        let mut bad = request("孙九", "2026-06-02", false);
        assert!(office
            .store
            .register_investigation(&office.user, bad.clone())
            .is_err());
        bad.received_on = "2026-05-30".into();
        bad.id_number = "110101199003070031".into();
        let err = office
            .store
            .register_investigation(&office.user, bad.clone())
            .unwrap_err();
        assert_eq!(err.code(), "invalid_id_number");
        bad.id_number = id_number(3);
        let req = office
            .store
            .register_investigation(&office.user, bad)
            .unwrap();
        assert_eq!(req.case_id, None);
        // The court decides probation; the case of the same ID number is registered: linked.
        let case = office.case("孙九", 3, CaseStatus::Received, "2027-05-31");
        let linked = office.store.investigation(&office.user, &req.id).unwrap();
        assert_eq!(linked.case_id.as_deref(), Some(case.id.as_str()));
        let withdrawn = office
            .store
            .withdraw_investigation(&office.user, &req.id, "法院撤回委托")
            .unwrap();
        assert_eq!(withdrawn.status, InvestigationStatus::Withdrawn);
    }
}

mod classified_management {
    use super::*;
    use jiceng_core::model::{
        CheckinInput, CheckinMethod, EntryInput, EntryKind, SupervisionLevel,
    };

    fn level_case(office: &mut Office, level: SupervisionLevel) -> CaseRecord {
        office
            .store
            .save_case(
                &office.user,
                CaseInput {
                    id: None,
                    name: "刘十六".into(),
                    id_number: id_number(1),
                    kind: CaseKind::Probation,
                    sentence_start: "2026-06-01".into(),
                    sentence_end: "2027-05-31".into(),
                    org_unit_id: None,
                    status: Some(CaseStatus::InCorrection),
                    judgment_effective_on: None,
                    reported_on: Some("2026-06-01".into()),
                    supervision_level: Some(level),
                    sealed_minor: None,
                    address: None,
                },
            )
            .unwrap()
    }

    #[test]
    fn l3_the_supervision_level_sets_how_often_the_subject_reports() {
        let mut office = Office::new("site-a", at("2026-06-09", 9, 0));
        let case = level_case(&mut office, SupervisionLevel::Strict);
        // 严管: oral weekly (06-01 → 06-08, now overdue), written every two weeks (→ 06-15).
        assert_eq!(
            office.task(&case, "L-3.strict_oral", "2026-06-09"),
            vec![("2026-06-08".to_string(), "overdue".to_string())]
        );
        assert_eq!(
            office.task(&case, "L-3.strict_written", "2026-06-09")[0].0,
            "2026-06-15"
        );
        // A phone report restarts the oral clock; a home visit is the officer's, not a report.
        for (method, note) in [
            (CheckinMethod::HomeVisit, "走访"),
            (CheckinMethod::Phone, "电话报告"),
        ] {
            office
                .store
                .add_checkin(
                    &office.user,
                    CheckinInput {
                        case_id: case.id.clone(),
                        occurred_at: "2026-06-09 08:30".into(),
                        method,
                        note: note.into(),
                    },
                )
                .unwrap();
        }
        assert_eq!(
            office.task(&case, "L-3.strict_oral", "2026-06-09"),
            vec![("2026-06-16".to_string(), "due".to_string())]
        );
        // A thought report counts as a written report.
        office
            .store
            .add_entry(
                &office.user,
                EntryInput {
                    case_id: case.id.clone(),
                    kind: EntryKind::ThoughtReport,
                    occurred_on: "2026-06-09".into(),
                    minutes: None,
                    days: None,
                    ref_entry_id: None,
                    note: "思想汇报".into(),
                },
            )
            .unwrap();
        assert_eq!(
            office.task(&case, "L-3.strict_written", "2026-06-09")[0].0,
            "2026-06-23"
        );
    }

    #[test]
    fn l3_lenient_reports_every_two_weeks_and_each_quarter() {
        let mut office = Office::new("site-a", at("2026-06-09", 9, 0));
        let case = level_case(&mut office, SupervisionLevel::Lenient);
        assert_eq!(
            office.task(&case, "L-3.lenient_oral", "2026-06-09")[0].0,
            "2026-06-15"
        );
        // Three months from 06-01 end on 09-01.
        assert_eq!(
            office.task(&case, "L-3.lenient_written", "2026-06-09")[0].0,
            "2026-09-01"
        );
        assert!(office
            .task(&case, "L-3.strict_oral", "2026-06-09")
            .is_empty());
    }
}

mod supervision_records {
    use super::*;
    use jiceng_core::model::{EntryInput, EntryKind, Role};
    use jiceng_core::store::NewUser;

    fn entry(case: &CaseRecord, kind: EntryKind, minutes: Option<u32>) -> EntryInput {
        EntryInput {
            case_id: case.id.clone(),
            kind,
            occurred_on: "2026-06-05".into(),
            minutes,
            days: None,
            ref_entry_id: None,
            note: "记录".into(),
        }
    }

    #[test]
    fn c12_c15_counselling_sessions_need_their_length_and_commendations_are_kept() {
        let mut office = Office::new("site-a", at("2026-06-09", 9, 0));
        let case = office.case("何十七", 1, CaseStatus::InCorrection, "2027-05-31");
        // C-12: a psychological session is recorded with its length.
        assert!(office
            .store
            .add_entry(&office.user, entry(&case, EntryKind::PsychSession, None))
            .is_err());
        office
            .store
            .add_entry(
                &office.user,
                entry(&case, EntryKind::PsychSession, Some(50)),
            )
            .unwrap();
        // C-15: a commendation needs no length and stays on file.
        office
            .store
            .add_entry(&office.user, entry(&case, EntryKind::Commendation, None))
            .unwrap();
        let kinds: Vec<EntryKind> = office
            .store
            .get_case(&office.user, &case.id)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(kinds.contains(&EntryKind::PsychSession));
        assert!(kinds.contains(&EntryKind::Commendation));
    }

    #[test]
    fn c24_the_procuratorate_reads_cases_but_changes_nothing() {
        let mut office = Office::new("site-a", at("2026-06-09", 9, 0));
        let case = office.case("检察九", 1, CaseStatus::InCorrection, "2027-05-31");
        office
            .store
            .create_user(
                "setup",
                &NewUser {
                    username: "auditor".into(),
                    display_name: "驻所检察官".into(),
                    role: Role::ProcuratorateAuditor,
                    org_unit_id: common_setup::DISTRICT.into(),
                    password: "password-3".into(),
                },
            )
            .unwrap();
        let auditor = office.store.login("auditor", "password-3").unwrap();
        let detail = office.store.get_case(&auditor, &case.id).unwrap();
        assert_eq!(detail.case.name, "检察九");
        // Issue 11 §6: the auditor's opening of a case is on record, in the case's history.
        let opened = office.store.read_case(&auditor, &case.id).unwrap();
        assert_eq!(opened.access_log.len(), 1);
        assert_eq!(opened.access_log[0].user_name, "驻所检察官");
        let officer_read = office.store.read_case(&office.user, &case.id).unwrap();
        assert_eq!(
            officer_read.access_log.len(),
            1,
            "an officer's read of an unsealed case is not logged"
        );
        let err = office
            .store
            .add_entry(&auditor, entry(&case, EntryKind::Commendation, None))
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert!(office
            .store
            .save_document(
                &auditor,
                DocumentInput {
                    id: None,
                    case_id: case.id.clone(),
                    doc_type: DocumentType::Other,
                    doc_no: String::new(),
                    counterpart: String::new(),
                    dated_on: "2026-06-09".into(),
                    time_of_day: String::new(),
                    note: String::new(),
                },
            )
            .is_err());
    }
}

mod responsible_officer {
    use super::*;
    use jiceng_core::model::Role;
    use jiceng_core::store::NewUser;

    #[test]
    fn the_registering_officer_is_responsible_and_the_digest_names_each_officers_cases() {
        let mut office = Office::new("site-a", at("2026-12-10", 9, 0));
        let mine = office.case("陈二十", 1, CaseStatus::InCorrection, "2026-12-31");
        assert_eq!(
            mine.officer_id.as_deref(),
            Some(office.user.user_id.as_str())
        );
        assert_eq!(mine.officer_name, "矫正专干");
        office
            .store
            .create_user(
                "setup",
                &NewUser {
                    username: "officer2".into(),
                    display_name: "第二专干".into(),
                    role: Role::JudicialOfficer,
                    org_unit_id: common_setup::OFFICE.into(),
                    password: "password-4".into(),
                },
            )
            .unwrap();
        let other = office.store.login("officer2", "password-4").unwrap();
        let theirs = office.case("林二一", 3, CaseStatus::InCorrection, "2026-12-31");
        let theirs = office
            .store
            .assign_officer(&office.user, &theirs.id, Some(&other.user_id))
            .unwrap();
        assert_eq!(theirs.officer_name, "第二专干");
        // Not an officer of this office: refused.
        assert!(office
            .store
            .assign_officer(&office.user, &theirs.id, Some("nobody"))
            .is_err());
        let digest = office
            .store
            .task_digest(&office.user, Some(day("2026-12-10")))
            .unwrap();
        let of = |case_id: &str| -> Vec<Option<String>> {
            digest
                .tasks
                .iter()
                .filter(|t| t.case_id == case_id)
                .map(|t| t.officer_id.clone())
                .collect()
        };
        assert!(!of(&mine.id).is_empty());
        assert!(of(&mine.id)
            .iter()
            .all(|o| o.as_deref() == Some(office.user.user_id.as_str())));
        assert!(of(&theirs.id)
            .iter()
            .all(|o| o.as_deref() == Some(other.user_id.as_str())));
    }
}

mod procuratorate {
    use super::*;
    use jiceng_core::oversight::{RecommendationInput, RecommendationKind};

    #[test]
    fn l13_c24_a_recommendation_gets_a_written_reply_with_reasons_when_not_adopted() {
        let mut office = Office::new("site-a", at("2026-09-30", 9, 0));
        let case = office.case("程二二", 1, CaseStatus::InCorrection, "2027-06-30");
        let rec = office
            .store
            .register_recommendation(
                &office.user,
                RecommendationInput {
                    case_id: Some(case.id.clone()),
                    kind: RecommendationKind::Recommendation,
                    procuratorate: "示范区人民检察院".into(),
                    doc_no: "示检建〔2026〕3号".into(),
                    received_on: "2026-09-30".into(),
                    content: "该对象连续两月未参加集中教育，建议依法给予训诫".into(),
                },
            )
            .unwrap();
        // Two months from 09-30: 11-30 (a Monday).
        assert_eq!(rec.reply_due, "2026-11-30");
        assert_eq!(rec.case_name, "程二二");
        let digest = office
            .store
            .task_digest(&office.user, Some(day("2026-11-27")))
            .unwrap();
        let task = digest
            .tasks
            .iter()
            .find(|t| t.rule_id == "L-13.reply")
            .expect("the reply clock is in the digest");
        assert_eq!(
            (task.due_date.as_str(), task.status.as_str()),
            ("2026-11-30", "due_soon")
        );
        // Not adopted: the reasons are required.
        office.set_now(at("2026-10-20", 9, 0));
        let err = office
            .store
            .reply_recommendation(&office.user, &rec.id, false, "2026-10-20", " ")
            .unwrap_err();
        assert!(
            err.message_zh().contains("说明理由"),
            "{}",
            err.message_zh()
        );
        let answered = office
            .store
            .reply_recommendation(
                &office.user,
                &rec.id,
                false,
                "2026-10-20",
                "该对象因住院请假，已提交病历，未缺课",
            )
            .unwrap();
        assert!(answered.answered);
        assert_eq!(answered.adopted, Some(false));
        assert!(!answered.overdue);
        assert!(office
            .store
            .reply_recommendation(&office.user, &rec.id, true, "2026-10-20", "补充")
            .is_err());
        let page = office
            .store
            .list_recommendations(&office.user, 1, 20)
            .unwrap();
        assert_eq!(page.total, 1);
    }
}

mod priority {
    use super::*;
    use jiceng_core::casefile::PriorityGroup;

    #[test]
    fn c2_the_office_marks_groups_and_the_case_shows_them_with_the_derived_ones() {
        let mut office = Office::new("site-a", at("2026-06-01", 9, 0));
        // Sequence digit 002: a woman.
        let case = office.case("白二三", 2, CaseStatus::InCorrection, "2027-05-31");
        assert_eq!(case.priority_groups, vec![PriorityGroup::Woman]);
        let marked = office
            .store
            .set_priority_groups(
                &office.user,
                &case.id,
                &[PriorityGroup::Negligent, PriorityGroup::FirstOffence],
            )
            .unwrap();
        assert_eq!(
            marked.priority_groups,
            vec![
                PriorityGroup::Woman,
                PriorityGroup::FirstOffence,
                PriorityGroup::Negligent
            ]
        );
        let err = office
            .store
            .set_priority_groups(&office.user, &case.id, &[PriorityGroup::Minor])
            .unwrap_err();
        assert!(err.message_zh().contains("自动判断"));
        let listed = office
            .store
            .list_cases(&office.user, &Default::default())
            .unwrap()
            .items
            .into_iter()
            .find(|c| c.id == case.id)
            .unwrap();
        assert_eq!(listed.priority_groups.len(), 3);
    }
}

mod office_meetings {
    use super::*;
    use jiceng_core::oversight::{MeetingInput, MeetingKind};

    fn meeting(kind: MeetingKind, on: &str, topic: &str) -> MeetingInput {
        MeetingInput {
            id: None,
            kind,
            held_on: on.into(),
            topic: topic.into(),
            attendees: "所长、矫正专干、派出所民警".into(),
            minutes: String::new(),
            reported_on: String::new(),
            reported_to: String::new(),
        }
    }

    fn tasks(office: &Office, today: &str, rule: &str) -> Vec<(String, String)> {
        office
            .store
            .task_digest(&office.user, Some(day(today)))
            .unwrap()
            .tasks
            .into_iter()
            .filter(|t| t.rule_id == rule)
            .map(|t| (t.due_date, t.status))
            .collect()
    }

    #[test]
    fn c23_a_meeting_every_half_year_and_serious_incidents_reported_the_same_day() {
        let mut office = Office::new("site-a", at("2026-12-29", 9, 0));
        // No meeting in the second half of 2026 yet: due by 12-31, within the "due soon" days.
        assert_eq!(
            tasks(&office, "2026-12-29", "C-23.meeting"),
            vec![("2026-12-31".to_string(), "due_soon".to_string())]
        );
        // A meeting in the first half does not count for the second.
        office
            .store
            .save_meeting(
                &office.user,
                meeting(MeetingKind::Regular, "2026-06-20", "上半年例会"),
            )
            .unwrap();
        assert_eq!(
            tasks(&office, "2026-12-29", "C-23.meeting")[0].1,
            "due_soon"
        );
        office
            .store
            .save_meeting(
                &office.user,
                meeting(MeetingKind::Regular, "2026-12-24", "下半年例会"),
            )
            .unwrap();
        assert!(
            tasks(&office, "2026-12-29", "C-23.meeting").is_empty(),
            "done leaves the digest"
        );

        // A serious incident: due the same day, overdue the next, done once reported with the recipient.
        let incident = office
            .store
            .save_meeting(
                &office.user,
                meeting(MeetingKind::Incident, "2026-12-28", "对象失联"),
            )
            .unwrap();
        assert_eq!(
            tasks(&office, "2026-12-29", "C-23.urgent_report"),
            vec![("2026-12-28".to_string(), "overdue".to_string())]
        );
        let mut report = meeting(MeetingKind::Incident, "2026-12-28", "对象失联");
        report.id = Some(incident.id.clone());
        report.reported_on = "2026-12-28".into();
        assert!(
            office
                .store
                .save_meeting(&office.user, report.clone())
                .is_err(),
            "to whom?"
        );
        report.reported_to = "区司法局、北新桥派出所".into();
        office.store.save_meeting(&office.user, report).unwrap();
        assert!(tasks(&office, "2026-12-29", "C-23.urgent_report").is_empty());
        assert_eq!(office.store.list_meetings(&office.user).unwrap().len(), 3);
    }
}
