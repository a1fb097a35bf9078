//! L-0 / issue 3: the district edits the rule table and publishes each year's holiday calendar; every
//! clock on the store follows the version in force, and bad versions are refused with the reason.

mod common_setup;

use chrono::NaiveDate;
use common_setup::{office_store, DISTRICT};
use jiceng_core::deadlines::{DEADLINE_RULES_JSON, OFFICIAL_CALENDAR_JSON};
use jiceng_core::model::{CaseInput, CaseKind, Role, SessionUser};
use jiceng_core::store::{NewUser, Store};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn district_admin(store: &mut Store) -> SessionUser {
    store
        .create_user(
            "setup",
            &NewUser {
                username: "bureau".into(),
                display_name: "区司法局管理员".into(),
                role: Role::DistrictAdmin,
                org_unit_id: DISTRICT.into(),
                password: "password-2".into(),
            },
        )
        .unwrap();
    store.login("bureau", "password-2").unwrap()
}

fn case_with_judgment(store: &mut Store, user: &SessionUser, effective: &str) -> String {
    store
        .save_case(
            user,
            CaseInput {
                id: None,
                name: "周十五".into(),
                id_number: "110101199003074514".into(),
                kind: CaseKind::Probation,
                sentence_start: "2027-01-10".into(),
                sentence_end: "2027-12-31".into(),
                org_unit_id: None,
                status: None,
                judgment_effective_on: Some(effective.into()),
                reported_on: None,
                supervision_level: None,
                sealed_minor: None,
                address: None,
            },
        )
        .unwrap()
        .id
}

fn report_due(store: &Store, user: &SessionUser, today: &str) -> (String, bool) {
    let task = store
        .task_digest(user, Some(day(today)))
        .unwrap()
        .tasks
        .into_iter()
        .find(|t| t.rule_id == "L-1.report")
        .expect("the L-1 report clock");
    (task.due_date, task.calendar_unknown)
}

#[test]
fn l0_the_district_publishes_next_years_holidays_and_the_clocks_follow() {
    let (store, officer) = office_store("site-a");
    // The PC's clock reads 2026-12-23 (Shanghai).
    let mut store = store.with_clock(std::sync::Arc::new(|| 1_798_000_000_000));
    let admin = district_admin(&mut store);
    case_with_judgment(&mut store, &officer, "2026-12-22");
    // 2027 is beyond the shipped calendar: 10 days end on Fri 2027-01-01, flagged as unknown.
    assert_eq!(
        report_due(&store, &officer, "2026-12-23"),
        ("2027-01-01".to_string(), true)
    );
    // The district publishes a 2027 calendar (test data: New Year's Day off 01-01..01-03).
    let mut calendar: serde_json::Value = serde_json::from_str(OFFICIAL_CALENDAR_JSON).unwrap();
    calendar["years"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "year": 2027,
            "source": "test data",
            "holidays": [{ "name": "元旦", "from": "2027-01-01", "to": "2027-01-03" }],
            "make_up_working_days": []
        }));
    store
        .save_calendar(&admin, Some(&calendar.to_string()))
        .unwrap();
    assert_eq!(
        report_due(&store, &officer, "2026-12-23"),
        ("2027-01-04".to_string(), false),
        "the last day falls in the holiday: the next working day (L-0)"
    );
    let settings = store.deadline_settings(&officer).unwrap();
    assert!(settings.calendar_local);
    assert!(settings.calendar_years.contains(&2027));
    assert_eq!(settings.calendar_edited_by, "区司法局管理员");
    // Back to the shipped calendar.
    store.save_calendar(&admin, None).unwrap();
    assert!(report_due(&store, &officer, "2026-12-23").1);
}

#[test]
fn l1_the_district_edits_a_period_and_bad_tables_or_other_roles_are_refused() {
    let (mut store, officer) = office_store("site-a");
    let admin = district_admin(&mut store);
    case_with_judgment(&mut store, &officer, "2026-09-25");
    assert_eq!(report_due(&store, &officer, "2026-09-26").0, "2026-10-08");
    // A local rule of 15 days: 10-10 is a make-up working day, so the period ends there.
    let mut rules: serde_json::Value = serde_json::from_str(DEADLINE_RULES_JSON).unwrap();
    for rule in rules["rules"].as_array_mut().unwrap() {
        if rule["id"] == "L-1.report" {
            rule["period"]["amount"] = 15.into();
        }
    }
    store
        .save_rule_table(&admin, Some(&rules.to_string()))
        .unwrap();
    assert_eq!(report_due(&store, &officer, "2026-09-26").0, "2026-10-10");
    // An officer may not change the table; a table that does not load is refused with its reason.
    assert_eq!(
        store
            .save_rule_table(&officer, Some(&rules.to_string()))
            .unwrap_err()
            .code(),
        "forbidden"
    );
    for rule in rules["rules"].as_array_mut().unwrap() {
        if rule["id"] == "L-1.report" {
            rule["period"]["unit"] = "fortnights".into();
        }
    }
    let err = store
        .save_rule_table(&admin, Some(&rules.to_string()))
        .unwrap_err();
    assert!(
        err.message_zh().contains("规则表无法加载"),
        "{}",
        err.message_zh()
    );
    assert!(store.save_rule_table(&admin, Some("{not json")).is_err());
    // Nothing changed by the refused writes.
    assert_eq!(report_due(&store, &officer, "2026-09-26").0, "2026-10-10");
    store.save_rule_table(&admin, None).unwrap();
    assert_eq!(report_due(&store, &officer, "2026-09-26").0, "2026-10-08");
}

#[test]
fn l11_c1_the_district_switches_off_the_fifth_kind_for_new_cases_only() {
    let (mut store, officer) = office_store("site-a");
    let admin = district_admin(&mut store);
    let input = |name: &str, id: &str| CaseInput {
        id: None,
        name: name.into(),
        id_number: id.into(),
        kind: CaseKind::DeprivationOfPoliticalRights,
        sentence_start: "2026-01-10".into(),
        sentence_end: "2027-01-09".into(),
        org_unit_id: None,
        status: None,
        judgment_effective_on: None,
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    };
    // C-1: the seed's fifth kind is available until the district decides otherwise.
    let existing = store
        .save_case(&officer, input("吴十八", "110101199003074514"))
        .unwrap();
    assert!(
        store.save_case_kinds(&officer, vec![]).is_err(),
        "district only"
    );
    store
        .save_case_kinds(&admin, vec![CaseKind::DeprivationOfPoliticalRights])
        .unwrap();
    let err = store
        .save_case(&officer, input("郑十九", "11010519491231002X"))
        .unwrap_err();
    assert!(err.message_zh().contains("L-11"), "{}", err.message_zh());
    // The case already on file keeps its kind and can still be edited.
    let mut edit = input("吴十八", "110101199003074514");
    edit.id = Some(existing.id.clone());
    edit.address = Some("北新桥三条1号".into());
    store.save_case(&officer, edit).unwrap();
    assert_eq!(
        store
            .deadline_settings(&officer)
            .unwrap()
            .disabled_case_kinds,
        vec![CaseKind::DeprivationOfPoliticalRights]
    );
    store.save_case_kinds(&admin, vec![]).unwrap();
    store
        .save_case(&officer, input("郑十九", "11010519491231002X"))
        .unwrap();
}

#[test]
fn l0_a_clock_years_beyond_the_calendar_counts_plain_weekends_and_flags_the_digest() {
    // The PC's clock (injected) reads 2031-09-24 10:00 Shanghai, a year the shipped calendar does not
    // list: the digest still works, on plain weekends, and says so on every clock it computed that way.
    let now: u64 = 1_947_981_600_000;
    assert_eq!(
        jiceng_core::shanghai::from_millis(now).to_rfc3339(),
        "2031-09-24T10:00:00+08:00"
    );
    let (mut store, officer) =
        common_setup::office_store_at("site-a", std::sync::Arc::new(move || now));
    let case = |name: &str, id_number: &str, effective: &str| CaseInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        kind: CaseKind::Probation,
        sentence_start: "2031-09-20".into(),
        sentence_end: "2032-09-19".into(),
        org_unit_id: None,
        status: None,
        judgment_effective_on: Some(effective.into()),
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    };
    // 10 days from Sun 09-21 end on Wed 10-01: surely National Day in reality, but the file does not
    // say so, so it counts as a plain Wednesday; 10 days from Wed 09-24 end on Sat 10-04, moved to Mon
    // 10-06 by the weekend fallback.
    store
        .save_case(&officer, case("孙二十", "110101199003074514", "2031-09-21"))
        .unwrap();
    store
        .save_case(&officer, case("李廿一", "11010519491231002X", "2031-09-24"))
        .unwrap();
    let digest = store.task_digest(&officer, None).unwrap();
    assert_eq!(
        digest.today, "2031-09-24",
        "today comes from the store's clock"
    );
    let mut reports: Vec<(String, String, bool)> = digest
        .tasks
        .iter()
        .filter(|t| t.rule_id == "L-1.report")
        .map(|t| (t.case_name.clone(), t.due_date.clone(), t.calendar_unknown))
        .collect();
    reports.sort();
    assert_eq!(
        reports,
        vec![
            ("孙二十".to_string(), "2031-10-01".to_string(), true),
            ("李廿一".to_string(), "2031-10-06".to_string(), true),
        ]
    );
    assert!(
        digest.tasks.iter().all(|t| t.status != "overdue"),
        "nothing is late yet: {:?}",
        digest.tasks
    );
}
