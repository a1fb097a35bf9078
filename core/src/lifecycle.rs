//! The corrections case lifecycle as a state machine (ARCHITECTURE.md "State machines are not LWW").
//!
//! 待接收 (documents received, C-3/C-4, L-1) → 已报到 (reported, C-5) → 在矫 (in correction) → 解除
//! (released on expiry, C-18, L-10) / 撤销·收监 (revoked, C-19, L-9) / 终止 (terminated: death and the other
//! L-10 grounds, C-20). Revocation and termination can also end a case that never reached 在矫 (a subject
//! who does not report, or dies, before reporting). The end states are final: a mistaken ending is corrected
//! by the district, not by a field edit. Contradictory transitions written offline on two laptops are two
//! concurrent values of `status`, so the merge opens a conflict item for them (D-3) instead of a silent
//! last-writer-wins.

use crate::model::CaseStatus;
use chrono::NaiveDate;

/// The statuses a case may move to next from `from` (not counting staying where it is).
pub fn next_statuses(from: CaseStatus) -> &'static [CaseStatus] {
    use CaseStatus::*;
    match from {
        Received => &[Reported, Revoked, Terminated],
        Reported => &[InCorrection, Revoked, Terminated],
        InCorrection => &[Released, Revoked, Terminated],
        Released | Revoked | Terminated => &[],
    }
}

pub fn is_final(status: CaseStatus) -> bool {
    next_statuses(status).is_empty()
}

/// Statuses a newly registered case may start in: intake is 待接收, but cases already running when an
/// office starts using the system are entered as they stand.
pub fn may_start_in(status: CaseStatus) -> bool {
    !is_final(status)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Not an edge of the state machine.
    NotAllowed { from: CaseStatus, to: CaseStatus },
    /// L-10 / C-18: release is on expiry of the correction period.
    ReleaseBeforeExpiry { sentence_end: NaiveDate },
}

impl TransitionError {
    pub fn message_zh(&self) -> String {
        match self {
            TransitionError::NotAllowed { from, to } => format!(
                "案件状态不能从“{}”直接改为“{}”。",
                status_label_zh(*from),
                status_label_zh(*to)
            ),
            TransitionError::ReleaseBeforeExpiry { sentence_end } => {
                format!("矫正期至{sentence_end}届满，期满后方可解除社区矫正。")
            }
        }
    }
}

impl std::error::Error for TransitionError {}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransitionError::NotAllowed { from, to } => {
                write!(
                    f,
                    "a case cannot move from {} to {}",
                    from.code(),
                    to.code()
                )
            }
            TransitionError::ReleaseBeforeExpiry { sentence_end } => {
                write!(
                    f,
                    "release is allowed once the correction period ends on {sentence_end}"
                )
            }
        }
    }
}

pub fn status_label_zh(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Received => "待接收",
        CaseStatus::Reported => "已报到",
        CaseStatus::InCorrection => "在矫",
        CaseStatus::Released => "解除",
        CaseStatus::Revoked => "撤销（收监）",
        CaseStatus::Terminated => "终止",
    }
}

/// Checks one status change of an existing case. `today` is the Shanghai calendar date.
pub fn check_transition(
    from: CaseStatus,
    to: CaseStatus,
    sentence_end: NaiveDate,
    today: NaiveDate,
) -> Result<(), TransitionError> {
    if from == to {
        return Ok(());
    }
    if !next_statuses(from).contains(&to) {
        return Err(TransitionError::NotAllowed { from, to });
    }
    // L-10 / C-18: the correction ends when its period has run (the end date is its last day).
    if to == CaseStatus::Released && today < sentence_end {
        return Err(TransitionError::ReleaseBeforeExpiry { sentence_end });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn c5_intake_moves_forward_one_step_at_a_time() {
        assert!(check_transition(Received, Reported, d(2027, 1, 1), d(2026, 6, 1)).is_ok());
        assert!(check_transition(Reported, InCorrection, d(2027, 1, 1), d(2026, 6, 1)).is_ok());
        assert_eq!(
            check_transition(Received, InCorrection, d(2027, 1, 1), d(2026, 6, 1)),
            Err(TransitionError::NotAllowed {
                from: Received,
                to: InCorrection
            })
        );
    }

    #[test]
    fn l10_release_only_on_expiry_of_the_period() {
        let end = d(2026, 12, 31);
        assert!(matches!(
            check_transition(InCorrection, Released, end, d(2026, 12, 30)),
            Err(TransitionError::ReleaseBeforeExpiry { .. })
        ));
        assert!(check_transition(InCorrection, Released, end, end).is_ok());
        assert!(check_transition(InCorrection, Released, end, d(2027, 1, 2)).is_ok());
    }

    #[test]
    fn c19_l9_revocation_and_c20_termination_from_any_open_state() {
        for from in [Received, Reported, InCorrection] {
            assert!(check_transition(from, Revoked, d(2027, 1, 1), d(2026, 6, 1)).is_ok());
            assert!(check_transition(from, Terminated, d(2027, 1, 1), d(2026, 6, 1)).is_ok());
        }
    }

    #[test]
    fn ended_cases_stay_ended() {
        for from in [Released, Revoked, Terminated] {
            assert!(is_final(from));
            for to in CaseStatus::ALL {
                if to != from {
                    let err = check_transition(from, to, d(2020, 1, 1), d(2026, 6, 1)).unwrap_err();
                    assert!(err.message_zh().contains("不能"));
                }
            }
        }
        assert!(!may_start_in(Released));
        assert!(may_start_in(InCorrection));
    }
}
