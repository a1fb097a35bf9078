//! Tests of the statutory clock, each named after the DOMAIN.md rule it proves. Dates are checked
//! by hand against the 2026 calendar of L-0 (weekdays noted next to each date).

use super::*;
use crate::model::Role;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("test date")
}

fn day(y: i32, m: u32, dd: u32) -> Moment {
    Moment::Day(d(y, m, dd))
}

fn at(y: i32, m: u32, dd: u32, h: u32, min: u32) -> Moment {
    Moment::At(shanghai_at(y, m, dd, h, min))
}

fn shanghai_at(y: i32, m: u32, dd: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
    crate::shanghai::offset()
        .with_ymd_and_hms(y, m, dd, h, min, 0)
        .single()
        .expect("test time")
}

fn cal() -> Calendar {
    Calendar::official().expect("shipped calendar is valid")
}

fn engine() -> Engine {
    Engine::official().expect("shipped rule table and calendar are valid")
}

/// A period computed straight from the pure function.
fn after(start: Moment, amount: u32, unit: Unit, extension: Extension) -> Due {
    compute_due(
        &cal(),
        start,
        Period::new(amount, unit),
        Direction::After,
        extension,
    )
    .expect("due")
}

fn due_of(rule: &str, trigger: Moment) -> Due {
    engine().due(rule, trigger).expect("due")
}

// ---------------------------------------------------------------- calendar (L-0)

#[test]
fn l0_calendar_official_covers_2025_and_2026() {
    let c = cal();
    assert_eq!(c.known_from(), Some(d(2025, 1, 1)));
    assert_eq!(c.known_through(), Some(d(2026, 12, 31)));
    assert!(c.is_known(d(2026, 6, 1)));
    assert!(!c.is_known(d(2027, 1, 1)));
    assert_eq!(c.holiday_name(d(2026, 10, 3)), Some("国庆节"));
}

#[test]
fn l0_calendar_2026_holidays_and_make_up_days_as_listed() {
    let c = cal();
    for (from, to) in [
        (d(2026, 1, 1), d(2026, 1, 3)),
        (d(2026, 2, 15), d(2026, 2, 23)),
        (d(2026, 4, 4), d(2026, 4, 6)),
        (d(2026, 5, 1), d(2026, 5, 5)),
        (d(2026, 6, 19), d(2026, 6, 21)),
        (d(2026, 9, 25), d(2026, 9, 27)),
        (d(2026, 10, 1), d(2026, 10, 7)),
    ] {
        for date in from.iter_days().take_while(|x| *x <= to) {
            assert_eq!(c.day(date).kind, DayKind::OfficialHoliday, "{date}");
        }
    }
    for date in [
        d(2026, 1, 4),
        d(2026, 2, 14),
        d(2026, 2, 28),
        d(2026, 5, 9),
        d(2026, 9, 20),
        d(2026, 10, 10),
    ] {
        assert_eq!(c.day(date).kind, DayKind::MakeUpWorkday, "{date}");
        assert!(c.is_working_day(date), "{date}");
    }
    // The day after each holiday run is an ordinary working day.
    assert_eq!(c.day(d(2026, 10, 8)).kind, DayKind::Workday); // Thursday
    assert_eq!(c.day(d(2026, 2, 24)).kind, DayKind::Workday); // Tuesday
}

#[test]
fn l0_calendar_2025_official_list() {
    let c = cal();
    assert!(c.is_holiday(d(2025, 1, 28)));
    assert!(c.is_holiday(d(2025, 2, 4)));
    assert!(c.is_working_day(d(2025, 1, 26))); // Sunday, make-up
    assert!(c.is_working_day(d(2025, 2, 8))); // Saturday, make-up
    assert!(c.is_working_day(d(2025, 4, 27))); // Sunday, make-up
    assert!(c.is_holiday(d(2025, 6, 2))); // Monday, 端午
    assert!(c.is_holiday(d(2025, 10, 8))); // Wednesday, 国庆 + 中秋
    assert!(c.is_working_day(d(2025, 10, 11))); // Saturday, make-up
}

#[test]
fn l0_calendar_next_working_day_after_national_day_2026_is_oct8() {
    let next = cal().next_working_day(d(2026, 9, 30)).expect("next");
    assert_eq!(next.date, d(2026, 10, 8));
    assert!(!next.calendar_unknown);
}

#[test]
fn l0_calendar_2027_falls_back_to_weekends_and_flags() {
    let c = cal();
    let saturday = c.day(d(2027, 1, 2));
    assert_eq!(saturday.kind, DayKind::Weekend);
    assert!(saturday.calendar_unknown);
    // 2027-01-01 is surely a holiday in reality, but the file does not say so: plain Friday, flagged.
    let new_year = c.day(d(2027, 1, 1));
    assert_eq!(new_year.kind, DayKind::Workday);
    assert!(new_year.calendar_unknown);
    let walked = c.add_working_days(d(2026, 12, 30), 2).expect("walk");
    assert_eq!(walked.date, d(2027, 1, 1));
    assert!(walked.calendar_unknown);
}

#[test]
fn l0_calendar_replacement_file_for_next_year_is_used() {
    let text = r#"{"years": [{"year": 2027, "source": "test",
        "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}],
        "make_up_working_days": ["2027-01-09"]}]}"#;
    let c = Calendar::from_json(text).expect("valid replacement");
    assert_eq!(c.known_through(), Some(d(2027, 12, 31)));
    assert!(c.is_holiday(d(2027, 1, 1)));
    assert!(c.is_working_day(d(2027, 1, 9)));
    assert!(!c.day(d(2027, 1, 1)).calendar_unknown);
    // 2026 is no longer in this file, so it is the unknown year now.
    assert!(c.day(d(2026, 10, 1)).calendar_unknown);
}

#[test]
fn l0_calendar_rejects_a_day_both_holiday_and_make_up() {
    let text = r#"{"years": [{"year": 2026, "holidays": [{"name": "x", "from": "2026-02-14", "to": "2026-02-15"}],
        "make_up_working_days": ["2026-02-14"]}]}"#;
    let err = Calendar::from_json(text).expect_err("conflict");
    assert_eq!(err, DeadlineError::HolidayAndMakeUp(d(2026, 2, 14)));
    assert!(err.message_zh().contains("2026-02-14"));
}

#[test]
fn l0_calendar_rejects_bad_replacements_with_clear_errors() {
    let bad_date = r#"{"years": [{"year": 2026, "holidays": [{"name": "国庆节", "from": "2026-10-01", "to": "2026-10-32"}], "make_up_working_days": []}]}"#;
    let err = Calendar::from_json(bad_date).expect_err("bad date");
    assert_eq!(err.code(), "deadline_bad_date");
    assert!(err.to_string().contains("2026-10-32"));
    assert!(err.message_zh().contains("不是有效日期"));

    let weekday_make_up =
        r#"{"years": [{"year": 2026, "holidays": [], "make_up_working_days": ["2026-10-09"]}]}"#;
    assert_eq!(
        Calendar::from_json(weekday_make_up),
        Err(DeadlineError::MakeUpNotWeekend(d(2026, 10, 9)))
    );

    let reversed = r#"{"years": [{"year": 2026, "holidays": [{"name": "x", "from": "2026-10-07", "to": "2026-10-01"}], "make_up_working_days": []}]}"#;
    assert_eq!(
        Calendar::from_json(reversed).map_err(|e| e.code()),
        Err("calendar_bad_range")
    );

    let twice = r#"{"years": [{"year": 2026, "holidays": [], "make_up_working_days": []},
                              {"year": 2026, "holidays": [], "make_up_working_days": []}]}"#;
    assert_eq!(
        Calendar::from_json(twice),
        Err(DeadlineError::DuplicateYear(2026))
    );

    let typo_year = r#"{"years": [{"year": 2026, "holidays": [{"name": "x", "from": "2062-10-01", "to": "2062-10-02"}], "make_up_working_days": []}]}"#;
    assert_eq!(
        Calendar::from_json(typo_year).map_err(|e| e.code()),
        Err("calendar_date_outside_year")
    );

    let misspelt_key = r#"{"years": [{"year": 2026, "holidays": [], "make_up_days": []}]}"#;
    assert_eq!(
        Calendar::from_json(misspelt_key).map_err(|e| e.code()),
        Err("deadline_json")
    );
    assert_eq!(
        Calendar::from_json(r#"{"years": []}"#),
        Err(DeadlineError::EmptyCalendar)
    );
}

// ---------------------------------------------------------------- L-0 period counting

#[test]
fn l0_start_day_is_not_counted() {
    // Monday + 1 day = Tuesday.
    let due = after(day(2026, 3, 2), 1, Unit::Days, Extension::ToNextWorkingDay);
    assert_eq!(due.due_date, d(2026, 3, 3));
    assert!(!due.extended_by_holiday);
    assert!(!due.calendar_unknown);
}

#[test]
fn l0_month_end_jan31_plus_one_month_is_feb28() {
    // 2026 is not a leap year; 2026-02-28 is a Saturday but a make-up working day, so no extension.
    let due = after(
        day(2026, 1, 31),
        1,
        Unit::Months,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2026, 2, 28));
    assert!(!due.extended_by_holiday);
}

#[test]
fn l0_month_end_leap_2028_jan31_plus_one_month_is_feb29() {
    let due = after(
        day(2028, 1, 31),
        1,
        Unit::Months,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2028, 2, 29)); // Tuesday
    assert!(due.calendar_unknown, "2028 is beyond the shipped calendar");
}

#[test]
fn l0_month_end_mar31_plus_one_month_is_apr30() {
    let due = after(
        day(2026, 3, 31),
        1,
        Unit::Months,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2026, 4, 30)); // Thursday
}

#[test]
fn l0_month_keeps_the_same_day_number() {
    let due = after(
        day(2026, 3, 15),
        1,
        Unit::Months,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2026, 4, 15)); // Wednesday
}

#[test]
fn l0_last_day_saturday_extends_to_monday() {
    // Wednesday 2026-03-04 + 10 days = Saturday 03-14 -> Monday 03-16.
    let due = after(day(2026, 3, 4), 10, Unit::Days, Extension::ToNextWorkingDay);
    assert_eq!(due.due_date, d(2026, 3, 16));
    assert!(due.extended_by_holiday);
}

#[test]
fn l0_last_day_in_national_day_2026_extends_to_oct8() {
    // 2026-09-24 + 10 days = 10-04 (inside 10/1-10/7) -> Thursday 10-08, the first working day.
    let due = after(
        day(2026, 9, 24),
        10,
        Unit::Days,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2026, 10, 8));
    assert!(due.extended_by_holiday);
    assert!(!due.calendar_unknown);
}

#[test]
fn l0_last_day_on_make_up_saturday_is_not_extended() {
    // 2026-02-04 + 10 days = Saturday 02-14, a make-up working day.
    let due = after(day(2026, 2, 4), 10, Unit::Days, Extension::ToNextWorkingDay);
    assert_eq!(due.due_date, d(2026, 2, 14));
    assert!(!due.extended_by_holiday);
    // And 02-18 + 10 = Saturday 02-28, the other make-up Saturday.
    let due = after(
        day(2026, 2, 18),
        10,
        Unit::Days,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2026, 2, 28));
    assert!(!due.extended_by_holiday);
}

#[test]
fn l0_custody_period_is_never_extended() {
    // L-9: custody after arrest at most 30 days; arrested 2026-09-01 -> 10-01, a holiday, kept.
    let rule = engine()
        .table()
        .rule("L-9.custody_max")
        .expect("rule")
        .clone();
    assert!(rule.custody);
    assert_eq!(rule.extension(), Extension::Never);
    let due = rule.due(&cal(), day(2026, 9, 1)).expect("due");
    assert_eq!(due.due_date, d(2026, 10, 1));
    assert!(!due.extended_by_holiday);
    // The same period without custody would move to 10-08.
    let free = after(day(2026, 9, 1), 30, Unit::Days, Extension::ToNextWorkingDay);
    assert_eq!(free.due_date, d(2026, 10, 8));
}

#[test]
fn l0_working_days_across_spring_festival_2026() {
    // Thursday 02-12 + 3 working days: Fri 02-13 (1), make-up Sat 02-14 (2), 02-15..02-23 off, Tue 02-24 (3).
    let due = after(
        day(2026, 2, 12),
        3,
        Unit::WorkingDays,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2026, 2, 24));
    assert!(!due.extended_by_holiday);
    assert!(!due.calendar_unknown);
}

#[test]
fn l0_working_days_across_new_year_and_make_up_sunday() {
    // Wednesday 2025-12-31 + 2 working days: 01-01..01-03 off, make-up Sunday 01-04 (1), Monday 01-05 (2).
    let due = after(
        day(2025, 12, 31),
        2,
        Unit::WorkingDays,
        Extension::ToNextWorkingDay,
    );
    assert_eq!(due.due_date, d(2026, 1, 5));
}

#[test]
fn l0_beyond_calendar_2027_falls_back_and_is_flagged() {
    // L-1.report: judgment effective 2026-12-28 + 10 days = Thursday 2027-01-07, flagged unknown.
    let due = due_of("L-1.report", day(2026, 12, 28));
    assert_eq!(due.due_date, d(2027, 1, 7));
    assert!(due.calendar_unknown);
    assert!(!due.extended_by_holiday);
    // A 2027 Saturday still extends by the weekend fallback: 2026-12-23 + 10 = Sat 2027-01-02 -> Mon 01-04.
    let due = due_of("L-1.report", day(2026, 12, 23));
    assert_eq!(due.due_date, d(2027, 1, 4));
    assert!(due.extended_by_holiday);
    assert!(due.calendar_unknown);
}

#[test]
fn l0_period_inside_the_calendar_is_not_flagged() {
    let due = due_of("L-1.report", day(2026, 6, 1));
    assert_eq!(due.due_date, d(2026, 6, 11)); // Thursday
    assert!(!due.calendar_unknown);
}

// ---------------------------------------------------------------- L-1 intake, C-4 seed

#[test]
fn l1_report_within_10_days_extends_over_labour_day() {
    // 社区矫正法 第二十一条: 十日内报到. Effective Friday 2026-04-24 + 10 = 05-04 (holiday) -> Wednesday 05-06.
    let due = due_of("L-1.report", day(2026, 4, 24));
    assert_eq!(due.due_date, d(2026, 5, 6));
    assert!(due.extended_by_holiday);
}

#[test]
fn l1_notify_5_days_and_documents_10_days() {
    // 社区矫正法 第二十条: effective Monday 2026-06-15; +5 = Sat 06-20 (端午) -> Mon 06-22; +10 = Thu 06-25.
    assert_eq!(
        due_of("L-1.notify", day(2026, 6, 15)).due_date,
        d(2026, 6, 22)
    );
    assert_eq!(
        due_of("L-1.documents", day(2026, 6, 15)).due_date,
        d(2026, 6, 25)
    );
    let e = engine();
    let rules: Vec<&str> = e
        .table()
        .by_trigger(Trigger::JudgmentEffective)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(rules, ["L-1.notify", "L-1.documents", "L-1.report"]);
}

#[test]
fn l1_handover_10_days_from_receipt_of_decision() {
    let due = due_of("L-1.handover", day(2026, 3, 2));
    assert_eq!(due.due_date, d(2026, 3, 12));
}

#[test]
fn c4_forward_is_a_seed_rule_kept_inactive() {
    let e = engine();
    let rule = e.table().rule("C-4.forward").expect("kept");
    assert!(!rule.active);
    assert_eq!(rule.era, Era::Seed);
    assert_eq!(rule.period, Some(Period::new(3, Unit::Days)));
    assert_eq!(e.table().by_trigger(Trigger::DocumentsReceived).count(), 0);
    // Still computable for a district that switches it on: received Thursday 03-05 + 3 = Sunday -> Monday 03-09.
    assert_eq!(
        due_of("C-4.forward", day(2026, 3, 5)).due_date,
        d(2026, 3, 9)
    );
}

#[test]
fn c4_district_can_switch_the_seed_rule_on() {
    let text = DEADLINE_RULES_JSON.replacen(
        r#""era": "seed", "active": false"#,
        r#""era": "seed", "active": true"#,
        1,
    );
    assert_ne!(text, DEADLINE_RULES_JSON);
    let table = RuleTable::from_json(&text).expect("valid edit");
    let ids: Vec<&str> = table
        .by_trigger(Trigger::DocumentsReceived)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["C-4.forward"]);
}

// ---------------------------------------------------------------- L-5 leave, L-6 transfer, L-7 location

#[test]
fn l5_apply_ahead_short_before_a_monday_after_national_day() {
    // Leave starts Monday 2026-10-12. Back 3 working days, the start day not counted:
    // make-up Saturday 10-10 (1), Friday 10-09 (2), Thursday 10-08 (3).
    let due = due_of("L-5.apply_ahead_short", day(2026, 10, 12));
    assert_eq!(due.due_date, d(2026, 10, 8));
    assert!(!due.extended_by_holiday);
}

#[test]
fn l5_apply_ahead_long_skips_both_autumn_holidays() {
    // Same leave, longer than 7 days: 10-10, 10-09, 10-08, [10-01..07 off], 09-30, 09-29, 09-28,
    // [09-25..27 off], Thursday 09-24 (7).
    let due = due_of("L-5.apply_ahead_long", day(2026, 10, 12));
    assert_eq!(due.due_date, d(2026, 9, 24));
}

#[test]
fn l5_apply_ahead_short_counts_the_make_up_saturday_before_spring_festival() {
    // Leave starts Tuesday 2026-02-24: back 3 working days = 02-14 (Sat, make-up), 02-13, 02-12.
    assert_eq!(
        due_of("L-5.apply_ahead_short", day(2026, 2, 24)).due_date,
        d(2026, 2, 12)
    );
}

#[test]
fn l5_trip_limits_and_report_on_return() {
    let e = engine();
    // One trip at most 30 days: starting 2026-09-05, it must end by 10-05 (a holiday, not extended).
    let end = due_of("L-5.trip_max", day(2026, 9, 5));
    assert_eq!(end.due_date, d(2026, 10, 5));
    assert!(!end.extended_by_holiday);
    let yearly = e.table().rule("L-5.yearly_max").expect("rule");
    assert_eq!(yearly.era, Era::Local);
    assert_eq!(yearly.per, Some(WindowKind::Year));
    assert_eq!(
        yearly.quantity,
        Some(Quantity {
            amount: 60,
            measure: Measure::Days
        })
    );
    let approval = e.table().rule("L-5.office_approval_max").expect("rule");
    assert_eq!(approval.period, Some(Period::new(7, Unit::Days)));
    // Report on return: back on Saturday 03-07 -> report by Monday 03-09 (the office is closed).
    let report = due_of("L-5.report_return", day(2026, 3, 7));
    assert_eq!(report.due_date, d(2026, 3, 9));
    assert!(report.extended_by_holiday);
}

#[test]
fn l6_apply_one_month_ahead_clamps_to_month_end() {
    // Moving on 2026-03-31: apply by 02-28 (February has no 31st).
    assert_eq!(
        due_of("L-6.apply_ahead", day(2026, 3, 31)).due_date,
        d(2026, 2, 28)
    );
}

#[test]
fn l6_file_in_3_working_days_and_report_in_7_days() {
    // Decided Wednesday 2026-09-30: file by 10-08, 10-09, 10-10 (make-up Saturday).
    assert_eq!(
        due_of("L-6.file_transfer", day(2026, 9, 30)).due_date,
        d(2026, 10, 10)
    );
    // Decision received Monday 2026-05-04: 7 days = Monday 05-11.
    assert_eq!(
        due_of("L-6.report_new", day(2026, 5, 4)).due_date,
        d(2026, 5, 11)
    );
}

#[test]
fn l7_location_period_3_months_ends_on_the_day_not_extended() {
    // Started 2026-03-07: ends Sunday 06-07, never lengthened for a weekend.
    let due = due_of("L-7.location_period", day(2026, 3, 7));
    assert_eq!(due.due_date, d(2026, 6, 7));
    assert!(!due.extended_by_holiday);
    let renewal = engine()
        .table()
        .rule("L-7.location_renewal")
        .expect("rule")
        .period;
    assert_eq!(renewal, Some(Period::new(3, Unit::Months)));
}

// ---------------------------------------------------------------- L-8 thresholds, L-9 revocation

#[test]
fn l8_discipline_thresholds_are_rule_parameters() {
    let e = engine();
    let t = e.table();
    let warning = t.rule("L-8.warning_out_of_contact").expect("rule");
    assert_eq!(warning.kind, RuleKind::Threshold);
    assert_eq!(warning.period, Some(Period::new(10, Unit::Days)));
    let revoke = t.rule("L-8.revocation_out_of_contact").expect("rule");
    assert_eq!(revoke.period, Some(Period::new(1, Unit::Months)));
    for id in ["L-8.reprimands_to_warning", "L-8.warnings_to_revocation"] {
        let q = t.rule(id).expect("rule").quantity.expect("count");
        assert_eq!((q.amount, q.measure), (2, Measure::Times), "{id}");
    }
    // Lost contact on Sunday 2026-03-01: search that day; over 10 days after 03-11; over a month after 04-01.
    assert_eq!(
        due_of("L-8.search", day(2026, 3, 1)).due_date,
        d(2026, 3, 1)
    );
    assert_eq!(
        due_of("L-8.warning_out_of_contact", day(2026, 3, 1)).due_date,
        d(2026, 3, 11)
    );
    assert_eq!(
        due_of("L-8.revocation_out_of_contact", day(2026, 3, 1)).due_date,
        d(2026, 4, 1)
    );
}

#[test]
fn l9_arrest_ruling_48_hours_starts_at_the_next_full_hour() {
    // Requested Friday 2026-03-06 09:30: counted from 10:00, due Sunday 03-08 10:00 (hours never extend).
    let due = due_of("L-9.arrest_ruling", at(2026, 3, 6, 9, 30));
    assert_eq!(due.due_at, Some(shanghai_at(2026, 3, 8, 10, 0)));
    assert_eq!(due.due_date, d(2026, 3, 8));
    assert!(!due.extended_by_holiday);
}

#[test]
fn l9_arrest_ruling_reads_utc_input_as_shanghai_time() {
    // 2026-03-05T17:10Z is 2026-03-06 01:10 in Shanghai: due 2026-03-08 02:00 +08:00.
    let utc = Utc
        .with_ymd_and_hms(2026, 3, 5, 17, 10, 0)
        .single()
        .expect("time")
        .fixed_offset();
    let due = due_of("L-9.arrest_ruling", Moment::At(utc));
    assert_eq!(due.due_at, Some(shanghai_at(2026, 3, 8, 2, 0)));
    assert_eq!(due.due_date, d(2026, 3, 8));
}

#[test]
fn l9_hour_period_needs_a_time() {
    let err = engine()
        .due("L-9.arrest_ruling", day(2026, 3, 6))
        .expect_err("no time");
    assert_eq!(err, DeadlineError::HoursNeedTime);
    assert!(!err.message_zh().is_empty());
}

#[test]
fn l9_revocation_ruling_and_committal_decision_30_days() {
    // 社区矫正法 第四十八条 / 第四十九条: received Friday 2026-09-04 + 30 = Sunday 10-04 -> 10-08.
    for id in ["L-9.revocation_ruling", "L-9.committal_decision"] {
        let due = due_of(id, day(2026, 9, 4));
        assert_eq!(due.due_date, d(2026, 10, 8), "{id}");
        assert!(due.extended_by_holiday, "{id}");
    }
}

// ---------------------------------------------------------------- C-17, C-10, C-11, C-14

#[test]
fn c17_appraisal_window_is_the_30_days_before_the_end() {
    let e = engine();
    let due = due_of("C-17.appraisal", day(2026, 12, 31));
    assert_eq!(due.opens_on, Some(d(2026, 12, 1)));
    assert_eq!(due.due_date, d(2026, 12, 31));
    let early = e
        .task(
            "C-17.appraisal",
            day(2026, 12, 31),
            Some(day(2026, 11, 20)),
            day(2026, 12, 1),
        )
        .expect("task");
    assert_eq!(early.status, TaskStatus::Done);
    assert!(early.early);
    let in_window = e
        .task(
            "C-17.appraisal",
            day(2026, 12, 31),
            Some(day(2026, 12, 10)),
            day(2026, 12, 10),
        )
        .expect("task");
    assert!(!in_window.early && !in_window.late);
}

#[test]
fn c10_c11_c14_minima_are_configurable_quantities() {
    let e = engine();
    let t = e.table();
    let labour = t.rule("C-10.labour_monthly").expect("rule");
    assert_eq!(labour.kind, RuleKind::Quota);
    assert_eq!(labour.per, Some(WindowKind::Month));
    assert_eq!(
        labour.quantity,
        Some(Quantity {
            amount: 2,
            measure: Measure::WorkingDays
        })
    );
    let education = t.rule("C-11.group_education_monthly").expect("rule");
    assert_eq!(education.quantity.map(|q| q.amount), Some(1));
    let hours = t.rule("C-11.group_education_hours").expect("rule");
    assert_eq!(
        hours.quantity,
        Some(Quantity {
            amount: 2,
            measure: Measure::Hours
        })
    );
    assert_eq!(
        t.rule("C-14.quarterly_assessment").expect("rule").per,
        Some(WindowKind::Quarter)
    );
    assert_eq!(
        t.rule("C-14.annual_assessment").expect("rule").per,
        Some(WindowKind::Year)
    );
    assert_eq!(
        e.due("C-10.labour_monthly", day(2026, 3, 1)),
        Err(DeadlineError::NoDueDate("C-10.labour_monthly".into()))
    );
}

#[test]
fn c10_month_and_quarter_windows_on_the_calendar() {
    assert_eq!(
        month_window(d(2026, 2, 14)).expect("w"),
        Window {
            first: d(2026, 2, 1),
            last: d(2026, 2, 28)
        }
    );
    assert_eq!(month_window(d(2028, 2, 1)).expect("w").last, d(2028, 2, 29));
    assert_eq!(
        month_window(d(2026, 12, 31)).expect("w").last,
        d(2026, 12, 31)
    );
    let q4 = quarter_window(d(2026, 11, 5)).expect("w");
    assert_eq!((q4.first, q4.last), (d(2026, 10, 1), d(2026, 12, 31)));
    let q1 = window(WindowKind::Quarter, d(2026, 3, 31)).expect("w");
    assert_eq!(
        (q1.first, q1.last, q1.days()),
        (d(2026, 1, 1), d(2026, 3, 31), 90)
    );
    assert!(q1.contains(d(2026, 2, 14)) && !q1.contains(d(2026, 4, 1)));
    assert_eq!(year_window(d(2028, 6, 1)).expect("w").days(), 366);
}

// ---------------------------------------------------------------- L-14 petitions, L-15 hotline, L-16 mediation

#[test]
fn l14_register_and_notice_15_days_extend_over_national_day() {
    // 信访工作条例 第二十二条、第二十三条: received 2026-09-16 + 15 = 10-01 -> 10-08.
    for id in ["L-14.register_route", "L-14.written_notice"] {
        let due = due_of(id, day(2026, 9, 16));
        assert_eq!(due.due_date, d(2026, 10, 8), "{id}");
        assert!(due.extended_by_holiday, "{id}");
    }
    // Objection to a referral (5 working days) from Friday 09-18: make-up Sunday 09-20 (1), 21, 22, 23, 24 (5).
    assert_eq!(
        due_of("L-14.objection", day(2026, 9, 18)).due_date,
        d(2026, 9, 24)
    );
}

#[test]
fn l14_handle_60_days_plus_30_extension() {
    // 第三十四条: accepted 2026-01-05 + 60 = Friday 03-06; extension +30 from there = 04-05 (清明) -> 04-07.
    let handle = due_of("L-14.handle", day(2026, 1, 5));
    assert_eq!(handle.due_date, d(2026, 3, 6));
    let extended = due_of("L-14.handle_extension", Moment::Day(handle.due_date));
    assert_eq!(extended.due_date, d(2026, 4, 7));
    assert!(extended.extended_by_holiday);
}

#[test]
fn l14_review_and_re_review_30_days_each() {
    // 第三十五条、第三十六条: reply received 2026-05-10 (Sun) -> request review by Tue 06-09;
    // review requested 06-09 -> answer by Thu 07-09; answer received 07-09 -> re-review by Sat 08-08 -> Mon 08-10.
    assert_eq!(
        due_of("L-14.review_request", day(2026, 5, 10)).due_date,
        d(2026, 6, 9)
    );
    assert_eq!(
        due_of("L-14.review_answer", day(2026, 6, 9)).due_date,
        d(2026, 7, 9)
    );
    assert_eq!(
        due_of("L-14.re_review_request", day(2026, 7, 9)).due_date,
        d(2026, 8, 10)
    );
    assert_eq!(
        due_of("L-14.re_review_answer", day(2026, 8, 10)).due_date,
        d(2026, 9, 9)
    );
}

#[test]
fn l15_urgent_is_due_the_same_day_even_on_sunday() {
    let due = due_of("L-15.urgent", day(2026, 3, 8));
    assert_eq!(due.due_date, d(2026, 3, 8));
    assert!(!due.extended_by_holiday);
}

#[test]
fn l15_enquiry_3_working_days_over_qingming() {
    // Friday 2026-04-03; 04-04..06 off: 04-07 (1), 04-08 (2), 04-09 (3).
    assert_eq!(
        due_of("L-15.enquiry", day(2026, 4, 3)).due_date,
        d(2026, 4, 9)
    );
}

#[test]
fn l15_complaint_13_working_days_across_both_autumn_holidays() {
    // Thursday 2026-09-24: 09-28, 29, 30, 10-08, 09, 10 (make-up Sat), 12, 13, 14, 15, 16, 19, 20.
    let due = due_of("L-15.complaint", day(2026, 9, 24));
    assert_eq!(due.due_date, d(2026, 10, 20));
    assert!(!due.calendar_unknown);
}

#[test]
fn l15_reminder_and_follow_up_the_next_day() {
    assert_eq!(
        due_of("L-15.reminder", day(2026, 10, 20)).due_date,
        d(2026, 10, 21)
    );
    // Closed Saturday 03-07: the hotline calls back on Sunday 03-08, it runs every day.
    assert_eq!(
        due_of("L-15.follow_up", day(2026, 3, 7)).due_date,
        d(2026, 3, 8)
    );
}

#[test]
fn l16_court_confirmation_30_days_and_conclusion_in_one_month() {
    // 人民调解法 第三十三条: agreement effective 2026-04-20 + 30 = Wednesday 05-20.
    assert_eq!(
        due_of("L-16.court_confirmation", day(2026, 4, 20)).due_date,
        d(2026, 5, 20)
    );
    // Accepted 2026-01-31: one month = 02-28 (make-up Saturday, a working day).
    let conclude = due_of("L-16.conclude", day(2026, 1, 31));
    assert_eq!(conclude.due_date, d(2026, 2, 28));
    assert!(!conclude.extended_by_holiday);
    assert_eq!(
        engine().table().rule("L-16.conclude").expect("rule").era,
        Era::Rules2002
    );
}

// ---------------------------------------------------------------- tasks

#[test]
fn l0_task_status_due_soon_overdue_done() {
    let e = engine();
    // L-1.report effective Monday 2026-03-02 -> due Thursday 03-12.
    let trigger = day(2026, 3, 2);
    let far = e
        .task("L-1.report", trigger, None, day(2026, 3, 3))
        .expect("task");
    assert_eq!((far.status, far.days_left), (TaskStatus::Due, 9));
    // From Monday 03-09, the 3rd working day is Thursday 03-12: due soon.
    let soon = e
        .task("L-1.report", trigger, None, day(2026, 3, 9))
        .expect("task");
    assert_eq!((soon.status, soon.days_left), (TaskStatus::DueSoon, 3));
    let last_day = e
        .task("L-1.report", trigger, None, day(2026, 3, 12))
        .expect("task");
    assert_eq!(
        (last_day.status, last_day.days_left),
        (TaskStatus::DueSoon, 0)
    );
    let overdue = e
        .task("L-1.report", trigger, None, day(2026, 3, 13))
        .expect("task");
    assert_eq!(
        (overdue.status, overdue.days_left),
        (TaskStatus::Overdue, -1)
    );
    let done_late = e
        .task(
            "L-1.report",
            trigger,
            Some(day(2026, 3, 13)),
            day(2026, 3, 20),
        )
        .expect("task");
    assert_eq!(done_late.status, TaskStatus::Done);
    assert!(done_late.late);
    assert_eq!(done_late.escalation, None);
}

#[test]
fn l0_task_due_soon_counts_working_days_over_a_weekend() {
    let e = engine();
    // From Friday 2026-03-06, 3 working days reach Wednesday 03-11 (Mon, Tue, Wed).
    // L-6.file_transfer decided Friday 03-06 is due Wednesday 03-11: due soon the same day.
    let task = e
        .task("L-6.file_transfer", day(2026, 3, 6), None, day(2026, 3, 6))
        .expect("task");
    assert_eq!(task.due.due_date, d(2026, 3, 11));
    assert_eq!(task.status, TaskStatus::DueSoon);
    // L-1.handover received Monday 03-02 is due Thursday 03-12: from Friday 03-06 not yet soon.
    let task = e
        .task("L-1.handover", day(2026, 3, 2), None, day(2026, 3, 6))
        .expect("task");
    assert_eq!(task.status, TaskStatus::Due);
}

#[test]
fn l0_task_due_soon_horizon_comes_from_the_table_settings() {
    let text = DEADLINE_RULES_JSON.replacen(
        r#""due_soon_working_days": 3"#,
        r#""due_soon_working_days": 1"#,
        1,
    );
    let table = RuleTable::from_json(&text).expect("valid edit");
    assert_eq!(table.settings().due_soon_working_days, 1);
    let e = Engine::new(table, cal());
    let task = e
        .task("L-1.report", day(2026, 3, 2), None, day(2026, 3, 9))
        .expect("task");
    assert_eq!(task.status, TaskStatus::Due);
}

#[test]
fn l9_task_overdue_by_the_hour() {
    let e = engine();
    let trigger = at(2026, 3, 6, 9, 30); // due 03-08 10:00
    let before = e
        .task("L-9.arrest_ruling", trigger, None, at(2026, 3, 8, 9, 59))
        .expect("task");
    assert_eq!(before.status, TaskStatus::DueSoon);
    let after = e
        .task("L-9.arrest_ruling", trigger, None, at(2026, 3, 8, 10, 1))
        .expect("task");
    assert_eq!(after.status, TaskStatus::Overdue);
    let ruled = e
        .task(
            "L-9.arrest_ruling",
            trigger,
            Some(at(2026, 3, 8, 9, 0)),
            at(2026, 3, 9, 8, 0),
        )
        .expect("task");
    assert!(!ruled.late);
}

#[test]
fn l1_task_escalates_one_working_day_after_the_due_date() {
    // L-1.report due Thursday 2026-03-12 (from 03-02); escalation 1 working day later: Friday 03-13.
    let e = engine();
    let task = e
        .task("L-1.report", day(2026, 3, 2), None, day(2026, 3, 13))
        .expect("task");
    let esc = task.escalation.expect("escalation");
    assert_eq!(
        (esc.to, esc.on, esc.reached),
        (Role::OfficeHead, d(2026, 3, 13), true)
    );
    // Due Wednesday 2026-09-30 (from 09-20 + 10): escalation skips Golden Week to 10-08.
    let task = e
        .task("L-1.report", day(2026, 9, 20), None, day(2026, 10, 2))
        .expect("task");
    let esc = task.escalation.expect("escalation");
    assert_eq!((esc.on, esc.reached), (d(2026, 10, 8), false));
}

// ---------------------------------------------------------------- the rule table

#[test]
fn rule_table_holds_every_deadline_of_domain_md() {
    let e = engine();
    let t = e.table();
    for rule_ref in [
        "L-1", "C-4", "L-5", "L-6", "L-7", "L-8", "L-9", "C-17", "C-10", "C-11", "C-14", "L-14",
        "L-15", "L-16",
    ] {
        assert!(t.by_ref(rule_ref).count() > 0, "{rule_ref} missing");
    }
    assert_eq!(t.settings().due_soon_working_days, 3);
    // Every rule with a period computes on a plain trigger time; every other one is a quantity.
    for rule in t.rules() {
        match rule.due(e.calendar(), at(2026, 6, 1, 9, 0)) {
            Ok(due) => assert!(
                (due.due_date - d(2026, 6, 1)).num_days().abs() <= 100,
                "{}",
                rule.id
            ),
            Err(err) => {
                assert_eq!(err, DeadlineError::NoDueDate(rule.id.clone()));
                assert!(rule.quantity.is_some(), "{}", rule.id);
            }
        }
    }
}

fn replace_in_rule(id: &str, from: &str, to: &str) -> String {
    let marker = format!(r#""id": "{id}""#);
    let start = DEADLINE_RULES_JSON.find(&marker).expect("rule in file");
    let (head, tail) = DEADLINE_RULES_JSON.split_at(start);
    let edited = tail.replacen(from, to, 1);
    assert_ne!(edited, tail, "edit applied");
    format!("{head}{edited}")
}

#[test]
fn rule_table_rejects_a_duplicate_id() {
    let text = DEADLINE_RULES_JSON.replacen(r#""id": "L-1.documents""#, r#""id": "L-1.notify""#, 1);
    let err = RuleTable::from_json(&text).expect_err("duplicate");
    assert_eq!(err, DeadlineError::DuplicateRule("L-1.notify".into()));
    assert!(err.message_zh().contains("重复"));
}

#[test]
fn rule_table_rejects_an_unknown_unit() {
    let text = replace_in_rule("L-1.report", r#""unit": "days""#, r#""unit": "weeks""#);
    let err = RuleTable::from_json(&text).expect_err("unit");
    assert_eq!(
        err,
        DeadlineError::Unknown {
            rule: "L-1.report".into(),
            field: "unit",
            value: "weeks".into()
        }
    );
    assert_eq!(err.code(), "rule_unknown_value");
    assert!(err.message_zh().contains("weeks"));
}

#[test]
fn rule_table_rejects_non_positive_amounts() {
    let zero = replace_in_rule("L-1.report", r#""amount": 10"#, r#""amount": 0"#);
    assert_eq!(
        RuleTable::from_json(&zero).map_err(|e| e.code()).err(),
        Some("rule_bad_amount")
    );
    let negative = replace_in_rule("L-14.handle", r#""amount": 60"#, r#""amount": -60"#);
    assert_eq!(
        RuleTable::from_json(&negative).err(),
        Some(DeadlineError::BadAmount {
            rule: "L-14.handle".into(),
            field: "period",
            value: -60
        })
    );
    let same_day_with_amount = replace_in_rule(
        "L-15.urgent",
        r#""amount": 0, "unit": "same_day""#,
        r#""amount": 1, "unit": "same_day""#,
    );
    assert!(RuleTable::from_json(&same_day_with_amount).is_err());
}

#[test]
fn rule_table_rejects_unknown_trigger_role_and_inconsistent_rules() {
    let trigger = replace_in_rule("L-1.report", "judgment_effective", "judgement_effective");
    assert_eq!(
        RuleTable::from_json(&trigger).map_err(|e| e.code()).err(),
        Some("rule_unknown_value")
    );
    let role = replace_in_rule(
        "L-1.report",
        r#""role": "judicial_officer""#,
        r#""role": "judge""#,
    );
    assert!(matches!(
        RuleTable::from_json(&role),
        Err(DeadlineError::Unknown { field: "role", .. })
    ));
    let no_period = replace_in_rule(
        "L-1.report",
        r#""period": { "amount": 10, "unit": "days" },"#,
        "",
    );
    let err = RuleTable::from_json(&no_period).expect_err("deadline without period");
    assert_eq!(err.code(), "rule_inconsistent");
    assert!(err.message_zh().contains("L-1.report"));
    let bad_id = DEADLINE_RULES_JSON.replacen(r#""id": "L-1.report""#, r#""id": "L-2.report""#, 1);
    assert_eq!(
        RuleTable::from_json(&bad_id).map_err(|e| e.code()).err(),
        Some("rule_inconsistent")
    );
    let typo_field = DEADLINE_RULES_JSON.replacen(r#""custody": true"#, r#""custodian": true"#, 1);
    assert_eq!(
        RuleTable::from_json(&typo_field)
            .map_err(|e| e.code())
            .err(),
        Some("deadline_json")
    );
    assert_eq!(
        engine().due("L-99.nothing", day(2026, 1, 5)),
        Err(DeadlineError::UnknownRule("L-99.nothing".into()))
    );
}
