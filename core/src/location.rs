//! L-7 electronic location (电子定位, 社区矫正法 Art29): only on the grounds the law lists, approved by
//! the county bureau's head, each period at most 3 months and each renewal at most 3 months more. The
//! periods (grounds, approval, dates) go to the district that approves them; the location events
//! themselves never leave the judicial office (`tables::Domain::CorrectionsOffice`).

use crate::deadlines::{Engine, Moment};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The grounds of 社区矫正法 Art29 (1)–(5); no other ground allows a location device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LocationGround {
    /// （一）违反人民法院禁止令的
    CourtProhibitionBreached,
    /// （二）无正当理由，未经批准离开所居住的市、县的
    LeftWithoutApproval,
    /// （三）拒不按照规定报告自己的活动情况，被给予警告的
    WarnedForNotReporting,
    /// （四）违反监督管理规定，被给予治安管理处罚的
    PublicSecurityPenalty,
    /// （五）拟提请撤销缓刑、假释或者暂予监外执行收监执行的
    RevocationPending,
}

impl LocationGround {
    pub const ALL: [LocationGround; 5] = [
        LocationGround::CourtProhibitionBreached,
        LocationGround::LeftWithoutApproval,
        LocationGround::WarnedForNotReporting,
        LocationGround::PublicSecurityPenalty,
        LocationGround::RevocationPending,
    ];
    pub fn code(self) -> &'static str {
        match self {
            LocationGround::CourtProhibitionBreached => "court_prohibition_breached",
            LocationGround::LeftWithoutApproval => "left_without_approval",
            LocationGround::WarnedForNotReporting => "warned_for_not_reporting",
            LocationGround::PublicSecurityPenalty => "public_security_penalty",
            LocationGround::RevocationPending => "revocation_pending",
        }
    }
    pub fn from_code(code: &str) -> Option<LocationGround> {
        LocationGround::ALL.into_iter().find(|g| g.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LocationPeriodStatus {
    /// Approved, not yet begun.
    Approved,
    Active,
    /// Its end date has passed without a renewal or an early end being recorded.
    Lapsed,
    /// Ended early, or at its end, with a reason.
    Ended,
    /// A renewal continues it.
    Renewed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LocationPeriod {
    pub id: String,
    pub case_id: String,
    pub ground: LocationGround,
    /// 县级司法行政机关负责人
    pub approved_by: String,
    pub approved_on: String,
    pub start_on: String,
    pub end_on: String,
    /// The period this one renews, if any.
    pub renewal_of: Option<String>,
    pub ended_on: String,
    pub end_reason: String,
    pub note: String,
    pub status: LocationPeriodStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LocationPeriodInput {
    pub case_id: String,
    pub ground: LocationGround,
    pub approved_by: String,
    pub approved_on: String,
    pub start_on: String,
    pub end_on: String,
    #[serde(default)]
    pub renewal_of: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// What the location platform reported and what the officer did: kept at the judicial office only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LocationEventKind {
    /// 越界报警
    OutOfZone,
    /// 设备关机或信号中断
    SignalLost,
    /// 设备拆除或损坏
    DeviceTampered,
    /// 定位核查
    Check,
}

impl LocationEventKind {
    pub const ALL: [LocationEventKind; 4] = [
        LocationEventKind::OutOfZone,
        LocationEventKind::SignalLost,
        LocationEventKind::DeviceTampered,
        LocationEventKind::Check,
    ];
    pub fn code(self) -> &'static str {
        match self {
            LocationEventKind::OutOfZone => "out_of_zone",
            LocationEventKind::SignalLost => "signal_lost",
            LocationEventKind::DeviceTampered => "device_tampered",
            LocationEventKind::Check => "check",
        }
    }
    pub fn from_code(code: &str) -> Option<LocationEventKind> {
        LocationEventKind::ALL
            .into_iter()
            .find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LocationEvent {
    pub id: String,
    pub case_id: String,
    pub period_id: String,
    pub kind: LocationEventKind,
    /// RFC 3339, Asia/Shanghai
    pub occurred_at: String,
    /// Where the device put the subject (free text from the platform).
    pub place: String,
    pub action: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LocationEventInput {
    pub period_id: String,
    pub kind: LocationEventKind,
    pub occurred_at: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodError {
    StartBeforeApproval,
    EndBeforeStart,
    /// The period runs past what the rule allows; `latest` is the last allowed end day.
    TooLong {
        latest: NaiveDate,
        rule_id: &'static str,
    },
    /// A renewal must start the day after the renewed period ends.
    RenewalNotContiguous {
        expected_start: NaiveDate,
    },
    RuleTable(String),
}

impl PeriodError {
    pub fn message_zh(&self) -> String {
        match self {
            PeriodError::StartBeforeApproval => "电子定位须经批准后才能开始使用。".into(),
            PeriodError::EndBeforeStart => "结束日期不能早于开始日期。".into(),
            PeriodError::TooLong { latest, rule_id } => {
                format!("每次使用（延长）电子定位不得超过三个月（{rule_id}），本期最迟至{latest}。")
            }
            PeriodError::RenewalNotContiguous { expected_start } => {
                format!("延长期限应自原期限届满次日（{expected_start}）起算。")
            }
            PeriodError::RuleTable(e) => format!("规则表错误：{e}"),
        }
    }
}

impl std::fmt::Display for PeriodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeriodError::StartBeforeApproval => {
                write!(f, "a period cannot start before it is approved")
            }
            PeriodError::EndBeforeStart => write!(f, "the end lies before the start"),
            PeriodError::TooLong { latest, rule_id } => {
                write!(f, "{rule_id}: the period may run to {latest} at the latest")
            }
            PeriodError::RenewalNotContiguous { expected_start } => {
                write!(
                    f,
                    "a renewal starts on {expected_start}, the day after the renewed period"
                )
            }
            PeriodError::RuleTable(e) => write!(f, "rule table: {e}"),
        }
    }
}

impl std::error::Error for PeriodError {}

/// Checks one period's dates (L-7). `renews` is the end day of the period it renews. Three months count by
/// L-0 from the day the device goes on (that day is not counted: 03-15 → 06-15, and 11-30 → 02-28 where
/// the month is shorter); a renewal counts from the end of the period it renews. The device runs every
/// day, so the rule table never extends these over a holiday.
pub fn check_period(
    engine: &Engine,
    approved_on: NaiveDate,
    start: NaiveDate,
    end: NaiveDate,
    renews: Option<NaiveDate>,
) -> Result<(), PeriodError> {
    if start < approved_on {
        return Err(PeriodError::StartBeforeApproval);
    }
    if end < start {
        return Err(PeriodError::EndBeforeStart);
    }
    let rule_id = if let Some(previous_end) = renews {
        let expected_start = previous_end.succ_opt().ok_or(PeriodError::EndBeforeStart)?;
        if start != expected_start {
            return Err(PeriodError::RenewalNotContiguous { expected_start });
        }
        "L-7.location_renewal"
    } else {
        "L-7.location_period"
    };
    let trigger = renews.unwrap_or(start);
    let rule = engine
        .table()
        .rule(rule_id)
        .map_err(|e| PeriodError::RuleTable(e.to_string()))?;
    let latest = rule
        .due(engine.calendar(), Moment::Day(trigger))
        .map_err(|e| PeriodError::RuleTable(e.to_string()))?
        .due_date;
    if end > latest {
        return Err(PeriodError::TooLong { latest, rule_id });
    }
    Ok(())
}

/// Where a period stands on `today`.
pub fn period_status(
    start: NaiveDate,
    end: NaiveDate,
    ended_on: Option<NaiveDate>,
    renewed: bool,
    today: NaiveDate,
) -> LocationPeriodStatus {
    if renewed {
        LocationPeriodStatus::Renewed
    } else if ended_on.is_some() {
        LocationPeriodStatus::Ended
    } else if today < start {
        LocationPeriodStatus::Approved
    } else if today > end {
        LocationPeriodStatus::Lapsed
    } else {
        LocationPeriodStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn engine() -> Engine {
        Engine::official().unwrap()
    }

    #[test]
    fn l7_a_period_runs_at_most_three_months_from_its_first_day() {
        let e = engine();
        assert!(check_period(&e, d("2026-03-14"), d("2026-03-15"), d("2026-06-15"), None).is_ok());
        assert_eq!(
            check_period(&e, d("2026-03-14"), d("2026-03-15"), d("2026-06-16"), None),
            Err(PeriodError::TooLong {
                latest: d("2026-06-15"),
                rule_id: "L-7.location_period"
            })
        );
    }

    #[test]
    fn l7_month_end_start_is_capped_at_the_shorter_month_and_holidays_never_extend() {
        let e = engine();
        // From 11-30: 3 months on is 02-28, since February 2027 has no 30th.
        let err =
            check_period(&e, d("2026-11-29"), d("2026-11-30"), d("2027-03-01"), None).unwrap_err();
        assert_eq!(
            err,
            PeriodError::TooLong {
                latest: d("2027-02-28"),
                rule_id: "L-7.location_period"
            }
        );
        // A period whose last day is in the National Day holiday does not run on to the working day:
        // 07-02 → 10-02 (a holiday) stays 10-02, not 10-08.
        assert!(check_period(&e, d("2026-07-01"), d("2026-07-02"), d("2026-10-02"), None).is_ok());
        assert!(check_period(&e, d("2026-07-01"), d("2026-07-02"), d("2026-10-03"), None).is_err());
    }

    #[test]
    fn l7_renewal_follows_on_and_is_capped_again() {
        let e = engine();
        assert_eq!(
            check_period(
                &e,
                d("2026-06-10"),
                d("2026-06-17"),
                d("2026-09-01"),
                Some(d("2026-06-15"))
            ),
            Err(PeriodError::RenewalNotContiguous {
                expected_start: d("2026-06-16")
            })
        );
        assert!(check_period(
            &e,
            d("2026-06-10"),
            d("2026-06-16"),
            d("2026-09-15"),
            Some(d("2026-06-15"))
        )
        .is_ok());
        let err = check_period(
            &e,
            d("2026-06-10"),
            d("2026-06-16"),
            d("2026-09-16"),
            Some(d("2026-06-15")),
        )
        .unwrap_err();
        assert!(err.message_zh().contains("L-7.location_renewal"));
    }

    #[test]
    fn l7_no_device_before_approval() {
        let e = engine();
        assert_eq!(
            check_period(&e, d("2026-03-16"), d("2026-03-15"), d("2026-04-15"), None),
            Err(PeriodError::StartBeforeApproval)
        );
    }

    #[test]
    fn period_status_over_time() {
        let (s, e) = (d("2026-03-15"), d("2026-06-15"));
        assert_eq!(
            period_status(s, e, None, false, d("2026-03-01")),
            LocationPeriodStatus::Approved
        );
        assert_eq!(
            period_status(s, e, None, false, d("2026-06-15")),
            LocationPeriodStatus::Active
        );
        assert_eq!(
            period_status(s, e, None, false, d("2026-06-16")),
            LocationPeriodStatus::Lapsed
        );
        assert_eq!(
            period_status(s, e, Some(d("2026-04-01")), false, d("2026-06-16")),
            LocationPeriodStatus::Ended
        );
        assert_eq!(
            period_status(s, e, None, true, d("2026-06-16")),
            LocationPeriodStatus::Renewed
        );
    }
}
