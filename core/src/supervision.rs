//! Supervision rules computed from a case's entries: the monthly minima of labour and education
//! (C-10, C-11) and the discipline ladder (L-8). Pure functions over entries; the figures come from
//! [`SupervisionRules`], which the rule table configures (the seed's numbers are local rules, not law).

use crate::deadlines::{DeadlineError, RuleTable};
use crate::model::{DisciplineStatus, EntryKind, EntryRecord, MonthCompliance};
use chrono::{Datelike, Months, NaiveDate};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The configurable figures behind C-10, C-11 and L-8.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisionRules {
    /// C-10: public-interest labour per month, in minutes (seed: 2 working days of 8 h).
    pub labour_minutes_per_month: u32,
    /// C-11: group education sessions per month (seed: at least once)…
    pub group_education_per_month: u32,
    /// …each of at least this many minutes (seed: 2 h).
    pub group_education_min_minutes: u32,
    /// L-8: out of contact up to this many days → 训诫; beyond → 警告.
    pub reprimand_max_out_of_contact_days: u32,
    /// L-8: out of contact longer than this many months → proposal to revoke.
    pub revocation_out_of_contact_months: u32,
    /// L-8: uncorrected 训诫 that make a 警告 eligible.
    pub reprimands_to_warning: u32,
    /// L-8: uncorrected 警告 that make a proposal to revoke eligible.
    pub warnings_to_revocation: u32,
}

/// C-10 counts labour in working days; entries are recorded in minutes, a working day being 8 hours
/// (the standard working day of 劳动法 Art. 36).
const MINUTES_PER_WORKING_DAY: u32 = 8 * 60;

impl SupervisionRules {
    /// Reads the figures from the rule table (`schema/rules/deadlines.json`), where the district sets
    /// them; an inactive quota requires nothing.
    pub fn from_table(table: &RuleTable) -> Result<SupervisionRules, DeadlineError> {
        let amount = |id: &str| -> Result<u32, DeadlineError> {
            let rule = table.rule(id)?;
            if !rule.active {
                return Ok(0);
            }
            rule.quantity
                .map(|q| q.amount)
                .or(rule.period.map(|p| p.amount))
                .ok_or_else(|| DeadlineError::UnknownRule(format!("{id} has no amount")))
        };
        Ok(SupervisionRules {
            labour_minutes_per_month: amount("C-10.labour_monthly")? * MINUTES_PER_WORKING_DAY,
            group_education_per_month: amount("C-11.group_education_monthly")?,
            group_education_min_minutes: amount("C-11.group_education_hours")? * 60,
            reprimand_max_out_of_contact_days: amount("L-8.warning_out_of_contact")?,
            revocation_out_of_contact_months: amount("L-8.revocation_out_of_contact")?,
            reprimands_to_warning: amount("L-8.reprimands_to_warning")?,
            warnings_to_revocation: amount("L-8.warnings_to_revocation")?,
        })
    }

    /// The figures of the rule table shipped with this build.
    pub fn shipped() -> Result<SupervisionRules, DeadlineError> {
        static SHIPPED: OnceLock<Result<SupervisionRules, DeadlineError>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| SupervisionRules::from_table(&RuleTable::embedded()?))
            .clone()
    }
}

/// First and last day of the month holding `date`.
pub fn month_bounds(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = date.with_day(1).unwrap_or(date);
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(first);
    (first, last)
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    crate::shanghai::parse_date(text)
}

/// C-10 / C-11 for the month holding `month_day`, as of `today`.
pub fn month_compliance(
    entries: &[EntryRecord],
    month_day: NaiveDate,
    today: NaiveDate,
    rules: &SupervisionRules,
) -> MonthCompliance {
    let (first, last) = month_bounds(month_day);
    let in_month =
        |e: &&EntryRecord| parse_day(&e.occurred_on).is_some_and(|d| d >= first && d <= last);
    let labour_minutes: u32 = entries
        .iter()
        .filter(in_month)
        .filter(|e| e.kind == EntryKind::Labour)
        .map(|e| e.minutes.unwrap_or(0))
        .sum();
    let group_education_sessions = entries
        .iter()
        .filter(in_month)
        .filter(|e| e.kind == EntryKind::GroupEducation)
        .filter(|e| e.minutes.unwrap_or(0) >= rules.group_education_min_minutes)
        .count() as u32;
    MonthCompliance {
        month: first.format("%Y-%m").to_string(),
        labour_minutes,
        labour_required_minutes: rules.labour_minutes_per_month,
        group_education_sessions,
        group_education_required_sessions: rules.group_education_per_month,
        labour_ok: labour_minutes >= rules.labour_minutes_per_month,
        education_ok: group_education_sessions >= rules.group_education_per_month,
        in_progress: today <= last,
    }
}

/// L-8: the strongest measure the entries make eligible, with the reason.
pub fn discipline_status(entries: &[EntryRecord], rules: &SupervisionRules) -> DisciplineStatus {
    let corrected: HashSet<&str> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Corrected)
        .filter_map(|e| e.ref_entry_id.as_deref())
        .collect();
    let uncorrected = |kind: EntryKind| {
        entries
            .iter()
            .filter(|e| e.kind == kind && !corrected.contains(e.id.as_str()))
            .count() as u32
    };
    let uncorrected_reprimands = uncorrected(EntryKind::Reprimand);
    let uncorrected_warnings = uncorrected(EntryKind::Warning);
    let mut longest_out_of_contact_days = 0;
    let mut beyond_months = false;
    for e in entries.iter().filter(|e| e.kind == EntryKind::OutOfContact) {
        let days = e.days.unwrap_or(0);
        longest_out_of_contact_days = longest_out_of_contact_days.max(days);
        // "More than one month" counts by the calendar (L-0: same day of the next month).
        if let Some(start) = parse_day(&e.occurred_on) {
            let end = start + chrono::Days::new(u64::from(days));
            if let Some(limit) =
                start.checked_add_months(Months::new(rules.revocation_out_of_contact_months))
            {
                beyond_months |= end > limit;
            }
        }
    }
    let (eligible, reason) = if beyond_months {
        (
            "revocation_proposal",
            format!(
                "失联超过{}个月，可提请撤销（L-8）",
                rules.revocation_out_of_contact_months
            ),
        )
    } else if uncorrected_warnings >= rules.warnings_to_revocation {
        (
            "revocation_proposal",
            format!("{uncorrected_warnings}次警告后仍未改正，可提请撤销（L-8）"),
        )
    } else if longest_out_of_contact_days > rules.reprimand_max_out_of_contact_days {
        (
            "warning",
            format!(
                "失联超过{}日，可予警告（L-8）",
                rules.reprimand_max_out_of_contact_days
            ),
        )
    } else if uncorrected_reprimands >= rules.reprimands_to_warning {
        (
            "warning",
            format!("{uncorrected_reprimands}次训诫后仍未改正，可予警告（L-8）"),
        )
    } else if longest_out_of_contact_days > 0 {
        (
            "reprimand",
            format!(
                "失联{longest_out_of_contact_days}日（不超过{}日），可予训诫（L-8）",
                rules.reprimand_max_out_of_contact_days
            ),
        )
    } else {
        ("none", "无违规记录".to_string())
    };
    DisciplineStatus {
        uncorrected_reprimands,
        uncorrected_warnings,
        longest_out_of_contact_days,
        eligible: eligible.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        id: &str,
        kind: EntryKind,
        on: &str,
        minutes: Option<u32>,
        days: Option<u32>,
        r: Option<&str>,
    ) -> EntryRecord {
        EntryRecord {
            id: id.into(),
            case_id: "c".into(),
            kind,
            occurred_on: on.into(),
            minutes,
            days,
            ref_entry_id: r.map(str::to_string),
            note: String::new(),
            recorded_by: "u".into(),
        }
    }

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn c10_labour_two_working_days_a_month_cumulative() {
        let rules = SupervisionRules::shipped().unwrap();
        let entries = vec![
            entry(
                "1",
                EntryKind::Labour,
                "2026-02-03",
                Some(8 * 60),
                None,
                None,
            ),
            entry(
                "2",
                EntryKind::Labour,
                "2026-02-27",
                Some(4 * 60),
                None,
                None,
            ),
            entry(
                "3",
                EntryKind::Labour,
                "2026-03-01",
                Some(4 * 60),
                None,
                None,
            ),
        ];
        let feb = month_compliance(&entries, d("2026-02-10"), d("2026-03-05"), &rules);
        assert_eq!(
            (
                feb.month.as_str(),
                feb.labour_minutes,
                feb.labour_ok,
                feb.in_progress
            ),
            ("2026-02", 720, false, false)
        );
        let mut more = entries.clone();
        more.push(entry(
            "4",
            EntryKind::Labour,
            "2026-02-28",
            Some(4 * 60),
            None,
            None,
        ));
        assert!(month_compliance(&more, d("2026-02-01"), d("2026-03-05"), &rules).labour_ok);
    }

    #[test]
    fn c11_group_education_once_a_month_of_at_least_two_hours() {
        let rules = SupervisionRules::shipped().unwrap();
        let short = vec![entry(
            "1",
            EntryKind::GroupEducation,
            "2026-04-30",
            Some(90),
            None,
            None,
        )];
        let m = month_compliance(&short, d("2026-04-01"), d("2026-04-15"), &rules);
        assert!(
            !m.education_ok && m.in_progress,
            "90 minutes do not count; April is still running"
        );
        let enough = vec![entry(
            "1",
            EntryKind::GroupEducation,
            "2026-04-30",
            Some(120),
            None,
            None,
        )];
        assert!(month_compliance(&enough, d("2026-04-01"), d("2026-05-01"), &rules).education_ok);
        // An individual talk does not replace the group session.
        let individual = vec![entry(
            "1",
            EntryKind::IndividualEducation,
            "2026-04-02",
            Some(180),
            None,
            None,
        )];
        assert!(
            !month_compliance(&individual, d("2026-04-01"), d("2026-05-01"), &rules).education_ok
        );
    }

    #[test]
    fn c10_c11_l8_figures_come_from_the_rule_table() {
        let rules = SupervisionRules::shipped().unwrap();
        assert_eq!(
            rules.labour_minutes_per_month,
            2 * 480,
            "C-10: 2 working days"
        );
        assert_eq!(
            (
                rules.group_education_per_month,
                rules.group_education_min_minutes
            ),
            (1, 120),
            "C-11"
        );
        assert_eq!(rules.reprimand_max_out_of_contact_days, 10, "L-8");
        assert_eq!(rules.revocation_out_of_contact_months, 1, "L-8");
        assert_eq!(
            (rules.reprimands_to_warning, rules.warnings_to_revocation),
            (2, 2),
            "L-8"
        );
        // A district that switches the C-10 quota off requires no labour.
        let mut table: serde_json::Value =
            serde_json::from_str(crate::deadlines::rules::DEADLINE_RULES_JSON).unwrap();
        let rules_list = table["rules"].as_array_mut().unwrap();
        let c10 = rules_list
            .iter_mut()
            .find(|r| r["id"] == "C-10.labour_monthly")
            .unwrap();
        c10["active"] = serde_json::Value::Bool(false);
        let text = table.to_string();
        let off = SupervisionRules::from_table(&RuleTable::from_json(&text).unwrap()).unwrap();
        assert_eq!(off.labour_minutes_per_month, 0);
    }

    #[test]
    fn month_bounds_follow_the_calendar() {
        assert_eq!(
            month_bounds(d("2026-02-14")),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(
            month_bounds(d("2028-02-29")),
            (d("2028-02-01"), d("2028-02-29"))
        );
        assert_eq!(
            month_bounds(d("2026-12-31")),
            (d("2026-12-01"), d("2026-12-31"))
        );
    }

    #[test]
    fn l8_ladder_reprimand_warning_revocation() {
        let rules = SupervisionRules::shipped().unwrap();
        let none = discipline_status(&[], &rules);
        assert_eq!(none.eligible, "none");
        let short = vec![entry(
            "o",
            EntryKind::OutOfContact,
            "2026-05-01",
            None,
            Some(10),
            None,
        )];
        assert_eq!(discipline_status(&short, &rules).eligible, "reprimand");
        let long = vec![entry(
            "o",
            EntryKind::OutOfContact,
            "2026-05-01",
            None,
            Some(11),
            None,
        )];
        assert_eq!(discipline_status(&long, &rules).eligible, "warning");
        let two = vec![
            entry("r1", EntryKind::Reprimand, "2026-05-01", None, None, None),
            entry("r2", EntryKind::Reprimand, "2026-05-20", None, None, None),
        ];
        let status = discipline_status(&two, &rules);
        assert_eq!(
            (status.eligible.as_str(), status.uncorrected_reprimands),
            ("warning", 2)
        );
        assert!(status.reason.contains("L-8"));
        let mut fixed = two.clone();
        fixed.push(entry(
            "c",
            EntryKind::Corrected,
            "2026-06-01",
            None,
            None,
            Some("r1"),
        ));
        assert_eq!(discipline_status(&fixed, &rules).eligible, "none");
        let warnings = vec![
            entry("w1", EntryKind::Warning, "2026-05-01", None, None, None),
            entry("w2", EntryKind::Warning, "2026-06-01", None, None, None),
        ];
        assert_eq!(
            discipline_status(&warnings, &rules).eligible,
            "revocation_proposal"
        );
    }

    #[test]
    fn l8_more_than_one_month_counts_by_the_calendar() {
        let rules = SupervisionRules::shipped().unwrap();
        // From 1/31, one month ends 2/28 (L-0); 28 days is exactly a month, 29 is more.
        let month = vec![entry(
            "o",
            EntryKind::OutOfContact,
            "2026-01-31",
            None,
            Some(28),
            None,
        )];
        assert_eq!(discipline_status(&month, &rules).eligible, "warning");
        let more = vec![entry(
            "o",
            EntryKind::OutOfContact,
            "2026-01-31",
            None,
            Some(29),
            None,
        )];
        assert_eq!(
            discipline_status(&more, &rules).eligible,
            "revocation_proposal"
        );
    }
}
