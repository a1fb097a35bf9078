//! Issue 13 §1 (D-1): when the district's nightly consolidation runs and which day it closes, and
//! which sites the reconciliation calls silent. Pure rules on Asia/Shanghai time; the server runs them
//! (`jiceng-server`'s `consolidate` module).

use crate::shanghai;
use crate::stats::StatisticsReport;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One site's closed day: what the reconciliation says of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[ts(export)]
pub struct SiteDay {
    pub site_id: String,
    pub name: String,
    pub org_unit_id: String,
    pub revoked: bool,
    /// Operations the audit log received from it that day.
    #[ts(type = "number")]
    pub operations_received: u64,
    /// Its operations held in quarantine that day.
    #[ts(type = "number")]
    pub held: u64,
    /// Alarms about it that day, by code.
    pub alarms: Vec<String>,
    /// Of those, alarms about its clock.
    #[ts(type = "number")]
    pub clock_warnings: u64,
    /// When its last operation arrived (ms), if ever.
    #[ts(type = "number | null")]
    pub last_received_ms: Option<u64>,
    /// Nothing of it arrived in the day's last `silent_days` days.
    pub silent: bool,
}

/// A closed day (D-1): the district's statistics as the record stood at its end, and the
/// reconciliation per site (`GET /api/v1/consolidation/latest`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Consolidation {
    /// The day closed (Asia/Shanghai), `YYYY-MM-DD`.
    pub day: String,
    #[ts(type = "number")]
    pub made_at_ms: u64,
    pub directory: String,
    /// Rows in the record file, and the log head its snapshot started at.
    #[ts(type = "number")]
    pub rows: u64,
    #[ts(type = "number")]
    pub as_of: u64,
    #[ts(type = "number")]
    pub silent_days: u64,
    pub statistics: StatisticsReport,
    pub sites: Vec<SiteDay>,
}

/// The consolidation's default time of day (Asia/Shanghai): after the offices' evening syncs.
pub const DEFAULT_TIME: &str = "02:00";
/// A site that has sent nothing for more days than this is reported silent.
pub const DEFAULT_SILENT_DAYS: u64 = 7;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// The instants (ms) a Shanghai day begins and ends: [start, end).
pub fn day_window(day: NaiveDate) -> (u64, u64) {
    let start = shanghai::at_time(day, "00:00")
        .map(|t| t.timestamp_millis().max(0) as u64)
        .unwrap_or(0);
    (start, start + DAY_MS)
}

/// The next consolidation after `now_ms` at `hh_mm` Shanghai time, and the day it closes (the day
/// before the one it runs on). None when `hh_mm` is not a time of day.
pub fn next_run(now_ms: u64, hh_mm: &str) -> Option<(u64, NaiveDate)> {
    let today = shanghai::today(now_ms);
    for day in [today, today.checked_add_days(Days::new(1))?] {
        let at = shanghai::at_time(day, hh_mm)?.timestamp_millis().max(0) as u64;
        if at > now_ms {
            return Some((at, day.checked_sub_days(Days::new(1))?));
        }
    }
    None
}

/// The day an on-demand consolidation closes when none is named: yesterday (Shanghai).
pub fn last_closed_day(now_ms: u64) -> NaiveDate {
    let today = shanghai::today(now_ms);
    today.checked_sub_days(Days::new(1)).unwrap_or(today)
}

/// Whether a site counts as silent at the end of `day`: it never sent anything, or nothing of it
/// arrived in the day's last `silent_days` days.
pub fn is_silent(last_received_ms: Option<u64>, day: NaiveDate, silent_days: u64) -> bool {
    let (_, end) = day_window(day);
    match last_received_ms {
        None => true,
        Some(at) => end.saturating_sub(at) > silent_days * DAY_MS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis() as u64
    }

    fn day(text: &str) -> NaiveDate {
        shanghai::parse_date(text).unwrap()
    }

    #[test]
    fn a_day_is_shanghai_midnight_to_midnight() {
        let (start, end) = day_window(day("2027-01-01"));
        assert_eq!(start, ms("2026-12-31T16:00:00Z"));
        assert_eq!(end, ms("2027-01-01T16:00:00Z"));
    }

    #[test]
    fn the_next_run_closes_the_day_before_it() {
        // 01:30 in Shanghai: tonight's 02:00 closes yesterday.
        let (at, closes) = next_run(ms("2027-01-01T01:30:00+08:00"), "02:00").unwrap();
        assert_eq!(at, ms("2027-01-01T02:00:00+08:00"));
        assert_eq!(closes, day("2026-12-31"));
        // 02:00 exactly has run: the next is tomorrow's, closing today.
        let (at, closes) = next_run(ms("2027-01-01T02:00:00+08:00"), "02:00").unwrap();
        assert_eq!(at, ms("2027-01-02T02:00:00+08:00"));
        assert_eq!(closes, day("2027-01-01"));
        // A PC or server in UTC: 20:00 UTC on 31 Dec is 04:00 on 1 Jan in Shanghai.
        let (at, closes) = next_run(ms("2026-12-31T20:00:00Z"), "02:00").unwrap();
        assert_eq!(at, ms("2027-01-02T02:00:00+08:00"));
        assert_eq!(closes, day("2027-01-01"));
        // Over a leap day.
        let (_, closes) = next_run(ms("2028-03-01T00:10:00+08:00"), "00:30").unwrap();
        assert_eq!(closes, day("2028-02-29"));
        assert_eq!(next_run(0, "25:00"), None);
    }

    #[test]
    fn on_demand_closes_yesterday_in_shanghai() {
        assert_eq!(
            last_closed_day(ms("2027-01-01T00:30:00+08:00")),
            day("2026-12-31")
        );
        assert_eq!(
            last_closed_day(ms("2026-12-31T17:00:00Z")),
            day("2026-12-31")
        );
    }

    #[test]
    fn a_site_is_silent_after_more_than_n_days_or_if_it_never_sent() {
        let d = day("2027-01-10");
        assert!(is_silent(None, d, 7));
        // The last 7 days of 10 January begin at 4 January 00:00.
        assert!(!is_silent(Some(ms("2027-01-04T00:30:00+08:00")), d, 7));
        assert!(is_silent(Some(ms("2027-01-04T00:30:00+08:00")), d, 6));
        assert!(is_silent(Some(ms("2027-01-03T23:59:00+08:00")), d, 7));
        assert!(is_silent(Some(ms("2027-01-02T12:00:00+08:00")), d, 7));
    }
}
