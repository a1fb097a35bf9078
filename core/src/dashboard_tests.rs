//! Unit tests of the pure dashboard rules (issue 13 §2). Dates are passed in; nothing reads the clock.

use super::*;

fn d(s: &str) -> NaiveDate {
    shanghai::parse_date(s).expect("test date")
}

fn org(id: &str, parent: Option<&str>, kind: OrgKind, name: &str) -> OrgRow {
    OrgRow {
        id: id.into(),
        parent_id: parent.map(str::to_string),
        kind: Some(kind),
        name: name.into(),
        deleted: false,
    }
}

/// A district whose first-created township has a 4-byte name (𠮷, U+20BB7): it must stay first.
fn tree() -> Vec<OrgRow> {
    vec![
        org("0-district", None, OrgKind::District, "示范区"),
        org("1-town", Some("0-district"), OrgKind::Township, "𠮷祥镇"),
        org(
            "2-town",
            Some("0-district"),
            OrgKind::Township,
            "安定门街道",
        ),
        org("3-comm", Some("1-town"), OrgKind::Community, "民安社区"),
        org("4-comm", Some("2-town"), OrgKind::Community, "和平社区"),
    ]
}

fn input(from: &str, to: &str) -> DashboardInput {
    DashboardInput {
        from: d(from),
        to: d(to),
        root: "0-district".into(),
        org: tree(),
        cases: Vec::new(),
        clocks: Vec::new(),
        compliance: Vec::new(),
        appeals: Vec::new(),
        mediations: Vec::new(),
    }
}

fn case(id: &str, unit: &str, officer: Option<&str>, start: &str, end: &str) -> CaseRow {
    CaseRow {
        id: id.into(),
        name: format!("对象{id}"),
        unit_id: unit.into(),
        officer_id: officer.map(str::to_string),
        officer_name: officer.map(|o| format!("专干{o}")).unwrap_or_default(),
        sentence_start: start.into(),
        sentence_end: end.into(),
        status_label: "在矫".into(),
        deleted: false,
    }
}

fn clock(id: &str, unit: &str, rule_id: &str, due: &str) -> ClockRow {
    ClockRow {
        kind: "case".into(),
        id: id.into(),
        title: format!("对象{id}"),
        unit_id: unit.into(),
        rule_id: rule_id.into(),
        rule_ref: rule_id.split('.').next().unwrap_or("").into(),
        rule_title: "报告".into(),
        due_date: due.into(),
    }
}

fn appeal(id: &str, received: &str, due: &str, status: AppealStatus, resolved: &str) -> AppealRow {
    AppealRow {
        id: id.into(),
        title: format!("欧阳䶮：诉求{id}"),
        unit_id: "3-comm".into(),
        received_on: received.into(),
        due_on: due.into(),
        status,
        resolved_on: resolved.into(),
        satisfaction: String::new(),
        followed_up_on: String::new(),
        deleted: false,
    }
}

fn counts(buckets: &[DashboardBucket]) -> Vec<(&str, u32)> {
    buckets.iter().map(|b| (b.key.as_str(), b.count)).collect()
}

#[test]
fn d1_an_empty_range_still_lists_every_office_in_tree_order() {
    let dash = build(&input("2026-03-01", "2026-03-31"));
    // The 𠮷 township was created first: it is first, not last by byte order.
    assert_eq!(
        counts(&dash.cases_per_office),
        vec![("1-town", 0), ("2-town", 0)]
    );
    assert_eq!(dash.cases_per_office[0].label, "𠮷祥镇");
    assert_eq!(
        counts(&dash.overdue_per_office),
        vec![("1-town", 0), ("2-town", 0)]
    );
    assert!(dash.cases_per_officer.is_empty());
    assert!(dash.overdue_per_rule.is_empty());
    assert_eq!(dash.compliance_by_month.len(), 1);
    assert!(dash.compliance_by_month[0]
        .rates
        .iter()
        .all(|r| r.due == 0 && r.rate.is_none()));
    assert!(dash.appeals_by_deadline_state.iter().all(|b| b.count == 0));
    assert!(dash.mediation_by_outcome.iter().all(|b| b.count == 0));
    assert_eq!(
        (dash.from.as_str(), dash.as_of.as_str()),
        ("2026-03-01", "2026-03-31")
    );
}

#[test]
fn d1_a_reversed_range_has_no_months() {
    assert!(months_in_range(d("2026-03-02"), d("2026-03-01")).is_empty());
}

#[test]
fn c21_the_months_of_a_range_across_a_month_boundary_and_new_year() {
    assert_eq!(
        months_in_range(d("2026-01-31"), d("2026-02-01")),
        vec![
            (d("2026-01-01"), d("2026-01-31")),
            (d("2026-02-01"), d("2026-02-28"))
        ]
    );
    let across = months_in_range(d("2026-11-15"), d("2027-01-10"));
    let labels: Vec<String> = across.iter().map(|(f, _)| month_label(*f)).collect();
    assert_eq!(labels, vec!["2026年11月", "2026年12月", "2027年1月"]);
    assert_eq!(across[1].1, d("2026-12-31"));
}

#[test]
fn c21_cases_per_office_and_officer_count_periods_overlapping_the_range() {
    let mut i = input("2026-03-01", "2026-05-31");
    let mut deleted = case("c5", "1-town", Some("u1"), "2026-01-01", "2026-12-31");
    deleted.deleted = true;
    i.cases = vec![
        case("c1", "1-town", Some("u1"), "2026-01-01", "2026-12-31"),
        case("c2", "3-comm", Some("u1"), "2026-05-31", "2026-12-31"),
        case("c3", "2-town", Some("u2"), "2025-01-01", "2026-03-01"),
        // Ended before the range, starts after it: not counted.
        case("c4", "2-town", None, "2025-01-01", "2026-02-28"),
        case("c6", "2-town", None, "2026-06-01", "2027-01-01"),
        // Deleted (a recorded, reversible state): not counted.
        deleted,
        case("c7", "2-town", None, "2026-04-01", "2027-01-01"),
    ];
    let dash = build(&i);
    assert_eq!(
        counts(&dash.cases_per_office),
        vec![("1-town", 2), ("2-town", 2)]
    );
    // c2 belongs to a community under the 𠮷 township: it rolls up to its office.
    assert_eq!(dash.cases_per_office[0].records[1].unit, "𠮷祥镇");
    assert_eq!(
        counts(&dash.cases_per_officer),
        vec![("u1", 2), ("u2", 1), ("unassigned", 1)]
    );
    assert_eq!(dash.cases_per_officer[0].label, "专干u1");
    let drill = &dash.cases_per_office[1].records;
    assert_eq!(
        drill.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["c3", "c7"]
    );
    assert_eq!(drill[0].kind, "case");
}

#[test]
fn l0_overdue_is_read_as_of_the_last_day_of_the_range() {
    let mut i = input("2026-03-01", "2026-03-31");
    i.clocks = vec![
        clock("c1", "1-town", "L-3.strict_oral", "2026-03-30"),
        // Due on `to` itself: not yet overdue at its end.
        clock("c2", "1-town", "L-3.strict_oral", "2026-03-31"),
        clock("c3", "4-comm", "L-1.report", "2026-01-10"),
        clock("c4", "2-town", "L-3.strict_oral", "2026-02-01"),
    ];
    let dash = build(&i);
    assert_eq!(
        counts(&dash.overdue_per_office),
        vec![("1-town", 1), ("2-town", 2)]
    );
    assert_eq!(
        counts(&dash.overdue_per_rule),
        vec![("L-3.strict_oral", 2), ("L-1.report", 1)]
    );
    assert_eq!(dash.overdue_per_rule[0].label, "L-3 报告");
    assert!(dash.overdue_per_rule[1].records[0]
        .detail
        .contains("2026-01-10"));
    // The same clocks a day later: c2 is overdue too.
    i.to = d("2026-04-01");
    assert_eq!(build(&i).overdue_per_office[0].count, 2);
}

#[test]
fn c10_c11_l3_compliance_per_month_with_the_missed_cases_first() {
    let mut i = input("2026-12-15", "2027-01-20");
    let row = |month: &str, rule: &str, id: &str, met: bool| ComplianceRow {
        month: month.into(),
        rule_ref: rule.into(),
        case_id: id.into(),
        name: format!("对象{id}"),
        unit_id: "1-town".into(),
        met,
        detail: "劳动 480/960 分钟".into(),
    };
    i.compliance = vec![
        row("2026-12", "C-10", "a", true),
        row("2026-12", "C-10", "b", false),
        row("2026-12", "C-11", "a", true),
        row("2027-01", "L-3", "a", false),
        // A month outside the range is ignored.
        row("2026-11", "C-10", "a", false),
    ];
    let months = build(&i).compliance_by_month;
    assert_eq!(
        months
            .iter()
            .map(|m| (m.month.as_str(), m.complete))
            .collect::<Vec<_>>(),
        vec![("2026-12", true), ("2027-01", false)]
    );
    let c10 = &months[0].rates[0];
    assert_eq!((c10.key.as_str(), c10.met, c10.due), ("2026-12:C-10", 1, 2));
    assert_eq!(c10.rate, Some(0.5));
    assert_eq!(c10.records[0].id, "b");
    assert!(c10.records[0].detail.starts_with("C-10 未达标"));
    assert_eq!(months[0].rates[1].rate, Some(1.0));
    let l3 = &months[1].rates[2];
    assert_eq!((l3.rule_ref.as_str(), l3.met, l3.due), ("L-3", 0, 1));
    // The running month's records are dated as of `to`.
    assert_eq!(l3.records[0].date, "2027-01-20");
}

#[test]
fn w2_appeals_by_deadline_state_and_satisfaction_as_of_to() {
    let mut i = input("2026-11-01", "2026-11-30");
    let mut closed = appeal(
        "a4",
        "2026-11-02",
        "2026-11-19",
        AppealStatus::Closed,
        "2026-11-10",
    );
    closed.satisfaction = "satisfied".into();
    closed.followed_up_on = "2026-11-11".into();
    let mut deleted = appeal(
        "a6",
        "2026-11-02",
        "2026-11-19",
        AppealStatus::Registered,
        "",
    );
    deleted.deleted = true;
    i.appeals = vec![
        appeal("a1", "2026-11-20", "2026-12-09", AppealStatus::Routed, ""),
        appeal(
            "a2",
            "2026-11-02",
            "2026-11-19",
            AppealStatus::Registered,
            "",
        ),
        appeal(
            "a3",
            "2026-11-02",
            "2026-11-19",
            AppealStatus::Resolved,
            "2026-11-25",
        ),
        closed,
        // Resolved after `to`: still open (and overdue) at the end of the range.
        appeal(
            "a5",
            "2026-11-02",
            "2026-11-19",
            AppealStatus::Resolved,
            "2026-12-02",
        ),
        deleted,
        // Received before the range.
        appeal(
            "a7",
            "2026-10-30",
            "2026-11-19",
            AppealStatus::Registered,
            "",
        ),
    ];
    let dash = build(&i);
    assert_eq!(
        counts(&dash.appeals_by_deadline_state),
        vec![
            ("open_in_time", 1),
            ("open_overdue", 2),
            ("resolved_in_time", 1),
            ("resolved_late", 1)
        ]
    );
    assert_eq!(
        counts(&dash.appeals_by_satisfaction),
        vec![
            ("satisfied", 1),
            ("basically_satisfied", 0),
            ("unsatisfied", 0),
            ("awaiting", 1)
        ]
    );
    let record = &dash.appeals_by_deadline_state[1].records[0];
    assert_eq!(
        (record.kind.as_str(), record.unit.as_str()),
        ("appeal", "𠮷祥镇")
    );
}

#[test]
fn w3_mediation_outcomes_as_of_to_with_the_l16_month() {
    let mut i = input("2026-09-01", "2026-10-31");
    let m =
        |id: &str, outcome: Option<MediationOutcome>, concluded: &str, due: &str| MediationRow {
            id: id.into(),
            title: "张三、𠮷四".into(),
            unit_id: "4-comm".into(),
            accepted_on: "2026-09-20".into(),
            outcome,
            concluded_on: concluded.into(),
            conclude_due: due.into(),
            deleted: false,
        };
    let mut deleted = m("m6", None, "", "2026-10-20");
    deleted.deleted = true;
    i.mediations = vec![
        m(
            "m1",
            Some(MediationOutcome::Success),
            "2026-10-01",
            "2026-10-20",
        ),
        m(
            "m2",
            Some(MediationOutcome::Failed),
            "2026-10-02",
            "2026-10-20",
        ),
        m("m3", None, "", "2026-10-20"),
        m("m4", None, "", "2026-11-20"),
        // Concluded after `to`: still open then.
        m(
            "m5",
            Some(MediationOutcome::Terminated),
            "2026-11-05",
            "2026-11-20",
        ),
        deleted,
    ];
    let dash = build(&i);
    assert_eq!(
        counts(&dash.mediation_by_outcome),
        vec![
            ("success", 1),
            ("failed", 1),
            ("terminated", 0),
            ("open", 2),
            ("open_overdue", 1)
        ]
    );
    assert_eq!(dash.mediation_by_outcome[0].records[0].unit, "安定门街道");
}

#[test]
fn d1_an_office_sees_its_own_office_and_rare_characters_are_kept() {
    let mut i = input("2026-03-01", "2026-03-31");
    i.root = "1-town".into();
    i.cases = vec![case("c1", "3-comm", None, "2026-01-01", "2026-12-31")];
    i.cases[0].name = "张𠮷".into();
    let dash = build(&i);
    assert_eq!(counts(&dash.cases_per_office), vec![("1-town", 1)]);
    assert_eq!(dash.cases_per_office[0].records[0].title, "张𠮷");
}

#[test]
fn d1_the_default_range_is_three_calendar_months_and_bad_ranges_are_refused() {
    let today = d("2026-01-15");
    assert_eq!(
        resolve_range(today, None, None).unwrap(),
        (d("2025-11-01"), d("2026-01-15"))
    );
    assert_eq!(
        resolve_range(today, None, Some(d("2026-03-31"))).unwrap(),
        (d("2026-01-01"), d("2026-03-31"))
    );
    assert!(resolve_range(today, Some(d("2026-01-16")), Some(d("2026-01-15"))).is_err());
    // 2028 is a leap year: 366 days are allowed, 367 are not.
    assert!(resolve_range(today, Some(d("2028-01-01")), Some(d("2028-12-31"))).is_ok());
    assert!(resolve_range(today, Some(d("2027-12-31")), Some(d("2028-12-31"))).is_err());
}
