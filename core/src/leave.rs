//! L-5 leave (外出): who approves, how far ahead to apply, the per-trip and per-year limits, and the
//! request's small state machine — all figures from the rule table, dates on the holiday calendar.
//!
//! An officer in the field may approve a county-level request provisionally while offline; the approval
//! is numbered and stays "pending county confirmation" until the county's decision syncs back.

use crate::deadlines::{DeadlineError, Engine, Moment, RuleTable};
use crate::model::{ApprovalLevel, LeaveDecision, LeaveStatus, Role};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaveRules {
    /// Trips up to this many days are approved by the judicial office (L-5).
    pub office_max_days: u32,
    pub trip_max_days: u32,
    pub yearly_max_days: u32,
}

impl LeaveRules {
    pub fn from_table(table: &RuleTable) -> Result<LeaveRules, DeadlineError> {
        let amount = |id: &str| -> Result<u32, DeadlineError> {
            let rule = table.rule(id)?;
            rule.quantity
                .map(|q| q.amount)
                .or(rule.period.map(|p| p.amount))
                .ok_or_else(|| DeadlineError::UnknownRule(format!("{id} has no amount")))
        };
        Ok(LeaveRules {
            office_max_days: amount("L-5.office_approval_max")?,
            trip_max_days: amount("L-5.trip_max")?,
            yearly_max_days: amount("L-5.yearly_max")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveError {
    EndBeforeStart,
    TripTooLong {
        days: u32,
        max: u32,
    },
    YearExceeded {
        used: u32,
        days: u32,
        max: u32,
    },
    NotAllowed {
        from: LeaveStatus,
        decision: LeaveDecision,
    },
    WrongRole {
        level: ApprovalLevel,
    },
    Rules(DeadlineError),
}

impl LeaveError {
    pub fn message_zh(&self) -> String {
        match self {
            LeaveError::EndBeforeStart => "返回日期不能早于外出日期。".to_string(),
            LeaveError::TripTooLong { days, max } => {
                format!("每次外出不得超过{max}日，本次为{days}日（L-5）。")
            }
            LeaveError::YearExceeded { used, days, max } => {
                format!("每年外出累计不得超过{max}日：本年已批准{used}日，本次{days}日（L-5）。")
            }
            LeaveError::NotAllowed { .. } => "该外出申请当前状态下不能执行此操作。".to_string(),
            LeaveError::WrongRole {
                level: ApprovalLevel::County,
            } => "超过七日的外出须由县级司法行政机关批准；司法所可先行临时批准，待县级确认。"
                .to_string(),
            LeaveError::WrongRole {
                level: ApprovalLevel::Office,
            } => "您的角色不能审批外出申请。".to_string(),
            LeaveError::Rules(e) => e.message_zh(),
        }
    }
}

impl std::fmt::Display for LeaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaveError::EndBeforeStart => write!(f, "the leave ends before it starts"),
            LeaveError::TripTooLong { days, max } => {
                write!(f, "a trip of {days} days exceeds the {max}-day limit")
            }
            LeaveError::YearExceeded { used, days, max } => {
                write!(
                    f,
                    "{used} days used this year plus {days} exceed the yearly {max}"
                )
            }
            LeaveError::NotAllowed { from, decision } => {
                write!(f, "cannot {decision:?} a {from:?} request")
            }
            LeaveError::WrongRole { level } => {
                write!(f, "this role cannot decide a {level:?}-level request")
            }
            LeaveError::Rules(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LeaveError {}

/// Days away, both the leaving and the returning day counted (as on the leave form).
pub fn trip_days(start: NaiveDate, end: NaiveDate) -> u32 {
    u32::try_from((end - start).num_days() + 1).unwrap_or(0)
}

/// What the rules say about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    pub days: u32,
    pub level: ApprovalLevel,
    /// Last day to apply: 3 working days before a short trip, 7 before a long one (L-5).
    pub apply_by: NaiveDate,
    pub late_application: bool,
}

/// Checks a request against L-5. `year_days_before`: days already approved in the trip's year.
pub fn assess(
    engine: &Engine,
    rules: &LeaveRules,
    start: NaiveDate,
    end: NaiveDate,
    requested_on: NaiveDate,
    year_days_before: u32,
) -> Result<Assessment, LeaveError> {
    if end < start {
        return Err(LeaveError::EndBeforeStart);
    }
    let days = trip_days(start, end);
    if days > rules.trip_max_days {
        return Err(LeaveError::TripTooLong {
            days,
            max: rules.trip_max_days,
        });
    }
    if year_days_before + days > rules.yearly_max_days {
        return Err(LeaveError::YearExceeded {
            used: year_days_before,
            days,
            max: rules.yearly_max_days,
        });
    }
    let (level, ahead_rule) = if days <= rules.office_max_days {
        (ApprovalLevel::Office, "L-5.apply_ahead_short")
    } else {
        (ApprovalLevel::County, "L-5.apply_ahead_long")
    };
    let apply_by = engine
        .due(ahead_rule, Moment::Day(start))
        .map_err(LeaveError::Rules)?
        .due_date;
    Ok(Assessment {
        days,
        level,
        apply_by,
        late_application: requested_on > apply_by,
    })
}

/// The leave state machine, with who may take each step.
pub fn decide(
    from: LeaveStatus,
    decision: LeaveDecision,
    level: ApprovalLevel,
    role: Role,
) -> Result<LeaveStatus, LeaveError> {
    use LeaveDecision::*;
    use LeaveStatus::*;
    let county = role == Role::DistrictAdmin;
    let office = matches!(role, Role::JudicialOfficer | Role::OfficeHead) || county;
    let not_allowed = Err(LeaveError::NotAllowed { from, decision });
    match (from, decision) {
        (Requested, Approve) | (Provisional, Approve) => match level {
            ApprovalLevel::Office if office => Ok(Approved),
            ApprovalLevel::County if county => Ok(Approved),
            _ => Err(LeaveError::WrongRole { level }),
        },
        (Requested, ApproveProvisionally) if level == ApprovalLevel::County => {
            if office && !county {
                Ok(Provisional)
            } else if county {
                Ok(Approved)
            } else {
                Err(LeaveError::WrongRole { level })
            }
        }
        (Requested, Refuse) if office => Ok(Refused),
        // A provisional approval is confirmed or overturned by the county only.
        (Provisional, Refuse) if county => Ok(Refused),
        (Provisional, Refuse) => Err(LeaveError::WrongRole { level }),
        (Requested | Provisional | Approved, Cancel) if office => Ok(Cancelled),
        _ => not_allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn setup() -> (Engine, LeaveRules) {
        let engine = Engine::official().unwrap();
        let rules = LeaveRules::from_table(engine.table()).unwrap();
        (engine, rules)
    }

    #[test]
    fn l5_figures_come_from_the_rule_table() {
        let (_, rules) = setup();
        assert_eq!(
            (
                rules.office_max_days,
                rules.trip_max_days,
                rules.yearly_max_days
            ),
            (7, 30, 60)
        );
    }

    #[test]
    fn l5_short_trip_is_the_office_s_and_applies_three_working_days_ahead() {
        let (engine, rules) = setup();
        // Leaving Monday 2026-10-12: counting back three working days gives 10-10 (a make-up Saturday,
        // a working day), 10-09 (Fri) and 10-08 (Thu): apply by Thursday 10-08.
        let a = assess(
            &engine,
            &rules,
            d("2026-10-12"),
            d("2026-10-15"),
            d("2026-10-08"),
            0,
        )
        .unwrap();
        assert_eq!((a.days, a.level), (4, ApprovalLevel::Office));
        assert_eq!(a.apply_by, d("2026-10-08"));
        assert!(!a.late_application);
        let late = assess(
            &engine,
            &rules,
            d("2026-10-12"),
            d("2026-10-15"),
            d("2026-10-09"),
            0,
        )
        .unwrap();
        assert!(late.late_application);
    }

    #[test]
    fn l5_long_trip_goes_to_the_county_seven_working_days_ahead() {
        let (engine, rules) = setup();
        // Leaving Thursday 2026-10-08 right after National Day: seven working days back skip 10-01..07.
        let a = assess(
            &engine,
            &rules,
            d("2026-10-08"),
            d("2026-10-20"),
            d("2026-09-20"),
            0,
        )
        .unwrap();
        assert_eq!((a.days, a.level), (13, ApprovalLevel::County));
        assert!(a.apply_by < d("2026-10-01"), "{}", a.apply_by);
    }

    #[test]
    fn l5_trip_and_yearly_limits() {
        let (engine, rules) = setup();
        assert_eq!(
            assess(
                &engine,
                &rules,
                d("2026-03-01"),
                d("2026-03-31"),
                d("2026-02-01"),
                0
            ),
            Err(LeaveError::TripTooLong { days: 31, max: 30 })
        );
        let err = assess(
            &engine,
            &rules,
            d("2026-11-01"),
            d("2026-11-10"),
            d("2026-10-01"),
            55,
        )
        .unwrap_err();
        assert_eq!(
            err,
            LeaveError::YearExceeded {
                used: 55,
                days: 10,
                max: 60
            }
        );
        assert!(err.message_zh().contains("60"));
        assert_eq!(
            assess(
                &engine,
                &rules,
                d("2026-11-10"),
                d("2026-11-01"),
                d("2026-10-01"),
                0
            ),
            Err(LeaveError::EndBeforeStart)
        );
    }

    #[test]
    fn l5_offline_provisional_approval_then_the_county_decides() {
        use LeaveDecision::*;
        let county = ApprovalLevel::County;
        assert_eq!(
            decide(
                LeaveStatus::Requested,
                Approve,
                county,
                Role::JudicialOfficer
            ),
            Err(LeaveError::WrongRole { level: county })
        );
        assert_eq!(
            decide(
                LeaveStatus::Requested,
                ApproveProvisionally,
                county,
                Role::JudicialOfficer
            ),
            Ok(LeaveStatus::Provisional)
        );
        assert_eq!(
            decide(
                LeaveStatus::Provisional,
                Approve,
                county,
                Role::DistrictAdmin
            ),
            Ok(LeaveStatus::Approved)
        );
        assert_eq!(
            decide(
                LeaveStatus::Provisional,
                Refuse,
                county,
                Role::DistrictAdmin
            ),
            Ok(LeaveStatus::Refused)
        );
        assert!(decide(
            LeaveStatus::Provisional,
            Refuse,
            county,
            Role::JudicialOfficer
        )
        .is_err());
        // The office decides short trips itself; nobody re-opens a refusal.
        assert_eq!(
            decide(
                LeaveStatus::Requested,
                Approve,
                ApprovalLevel::Office,
                Role::OfficeHead
            ),
            Ok(LeaveStatus::Approved)
        );
        assert!(decide(
            LeaveStatus::Refused,
            Approve,
            ApprovalLevel::Office,
            Role::OfficeHead
        )
        .is_err());
        assert!(decide(
            LeaveStatus::Requested,
            ApproveProvisionally,
            ApprovalLevel::Office,
            Role::JudicialOfficer
        )
        .is_err());
    }
}
