//! L-6 change of the place of execution (执行地变更, 社区矫正法 Art27) as a two-phase handoff:
//!
//! 1. the sending office records the subject's written application (due a month before the move);
//! 2. the county (the district bureau) decides: refusing ends it; approving puts the case **in transfer**
//!    and hands its whole file to the receiving office, which now sees it read-only;
//! 3. the receiving office confirms that the subject reported (within 7 days of the decision);
//! 4. the district completes the handover: every record of the case moves to the receiving office; at
//!    its next sync the sending office's PC removes the file (it left the office's scope, issue 10 §5;
//!    `crate::scope_exit`) and keeps its record of the handover; the master keeps every version.
//!
//! Until step 4 the sending office supervises the case; the state machine refuses every other order.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TransferStatus {
    /// 已申请
    Applied,
    /// 交接中: decided by the county, both offices see the case
    InTransit,
    /// 已报到（接收方已确认）
    Received,
    /// 交接完成
    Completed,
    /// 不予批准
    Refused,
    /// 已撤回
    Cancelled,
}

impl TransferStatus {
    pub const ALL: [TransferStatus; 6] = [
        TransferStatus::Applied,
        TransferStatus::InTransit,
        TransferStatus::Received,
        TransferStatus::Completed,
        TransferStatus::Refused,
        TransferStatus::Cancelled,
    ];
    pub fn code(self) -> &'static str {
        match self {
            TransferStatus::Applied => "applied",
            TransferStatus::InTransit => "in_transit",
            TransferStatus::Received => "received",
            TransferStatus::Completed => "completed",
            TransferStatus::Refused => "refused",
            TransferStatus::Cancelled => "cancelled",
        }
    }
    pub fn from_code(code: &str) -> Option<TransferStatus> {
        TransferStatus::ALL.into_iter().find(|s| s.code() == code)
    }
    /// Statuses in which the case is being handed over (both offices see it).
    pub fn is_in_transfer(self) -> bool {
        matches!(self, TransferStatus::InTransit | TransferStatus::Received)
    }
    /// Statuses that block a second transfer of the same case.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TransferStatus::Applied | TransferStatus::InTransit | TransferStatus::Received
        )
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            TransferStatus::Applied => "已申请",
            TransferStatus::InTransit => "交接中",
            TransferStatus::Received => "已报到待完成交接",
            TransferStatus::Completed => "交接完成",
            TransferStatus::Refused => "不予批准",
            TransferStatus::Cancelled => "已撤回",
        }
    }
}

/// One step of the handoff, and who takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TransferAction {
    /// The county approves (district admin).
    Approve,
    /// The county refuses (district admin).
    Refuse,
    /// The sending office withdraws the application before the decision.
    Cancel,
    /// The sending office records that the file went out (L-6: 3 working days).
    FileSent,
    /// The receiving office confirms that the subject reported.
    ConfirmReport,
    /// The district moves every record of the case to the receiving office.
    Complete,
}

/// Which side of the handoff the acting user stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Sending,
    Receiving,
    County,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferError {
    NotAllowed {
        from: TransferStatus,
        action: TransferAction,
    },
    WrongParty {
        action: TransferAction,
    },
}

impl TransferError {
    pub fn message_zh(&self) -> String {
        match self {
            TransferError::NotAllowed { from, action } => format!(
                "变更执行地处于“{}”状态，不能{}。",
                from.label_zh(),
                action_label_zh(*action)
            ),
            TransferError::WrongParty { action } => format!(
                "{}须由{}办理。",
                action_label_zh(*action),
                match action {
                    TransferAction::Approve | TransferAction::Refuse | TransferAction::Complete =>
                        "区（县）司法局",
                    TransferAction::Cancel | TransferAction::FileSent => "原执行地司法所",
                    TransferAction::ConfirmReport => "新执行地司法所",
                }
            ),
        }
    }
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::NotAllowed { from, action } => {
                write!(
                    f,
                    "a transfer in status {} cannot take {action:?}",
                    from.code()
                )
            }
            TransferError::WrongParty { action } => {
                write!(f, "{action:?} belongs to another party of the transfer")
            }
        }
    }
}

impl std::error::Error for TransferError {}

fn action_label_zh(action: TransferAction) -> &'static str {
    match action {
        TransferAction::Approve => "批准",
        TransferAction::Refuse => "不予批准",
        TransferAction::Cancel => "撤回申请",
        TransferAction::FileSent => "登记档案移交",
        TransferAction::ConfirmReport => "确认报到",
        TransferAction::Complete => "完成交接",
    }
}

/// The state machine of the handoff: the next status, or why not.
pub fn next(
    from: TransferStatus,
    action: TransferAction,
    party: Party,
) -> Result<TransferStatus, TransferError> {
    use TransferAction::*;
    use TransferStatus::*;
    let (needed, to) = match (from, action) {
        (Applied, Approve) => (Party::County, InTransit),
        (Applied, Refuse) => (Party::County, Refused),
        (Applied, Cancel) => (Party::Sending, Cancelled),
        (InTransit | Received, FileSent) => (Party::Sending, from),
        (InTransit, ConfirmReport) => (Party::Receiving, Received),
        (Received, Complete) => (Party::County, Completed),
        _ => return Err(TransferError::NotAllowed { from, action }),
    };
    // The county may act for the sending office (it covers it), never for the receiving one.
    let allowed = party == needed || (party == Party::County && needed == Party::Sending);
    if !allowed {
        return Err(TransferError::WrongParty { action });
    }
    Ok(to)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TransferRecord {
    pub id: String,
    pub case_id: String,
    pub from_org_unit_id: String,
    pub from_org_unit_name: String,
    pub to_org_unit_id: String,
    pub to_org_unit_name: String,
    /// The new residence and office as the application gives them (the sending office cannot see the
    /// other offices of the district; the county picks the receiving office when it decides).
    pub destination: String,
    pub reason: String,
    pub applied_on: String,
    /// The planned moving day (L-6: apply a month ahead of it).
    pub move_on: String,
    /// The last day to apply for `move_on` (L-6.apply_ahead).
    pub apply_by: String,
    pub late_application: bool,
    pub status: TransferStatus,
    pub decided_on: String,
    pub decided_by: String,
    pub decision_note: String,
    pub file_sent_on: String,
    /// From the receiving office's confirmation.
    pub reported_on: String,
    pub confirmed_by: String,
    pub completed_on: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TransferInput {
    pub case_id: String,
    pub destination: String,
    pub reason: String,
    pub move_on: String,
}

/// One step taken on a transfer.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TransferStep {
    pub action: TransferAction,
    /// Approve: the receiving judicial office.
    #[serde(default)]
    pub to_org_unit_id: Option<String>,
    /// FileSent: the day the file went out; ConfirmReport: the day the subject reported.
    #[serde(default)]
    pub on: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransferAction::*;
    use TransferStatus::*;

    #[test]
    fn l6_the_handoff_runs_apply_decide_confirm_complete_in_that_order() {
        assert_eq!(next(Applied, Approve, Party::County), Ok(InTransit));
        assert_eq!(
            next(InTransit, ConfirmReport, Party::Receiving),
            Ok(Received)
        );
        assert_eq!(next(Received, Complete, Party::County), Ok(Completed));
        // No shortcut: completing before the new office confirmed, confirming before the decision.
        assert!(next(InTransit, Complete, Party::County).is_err());
        assert!(next(Applied, ConfirmReport, Party::Receiving).is_err());
        for end in [Completed, Refused, Cancelled] {
            for action in [Approve, Refuse, Cancel, FileSent, ConfirmReport, Complete] {
                assert!(next(end, action, Party::County).is_err());
            }
        }
    }

    #[test]
    fn l6_each_step_belongs_to_its_party() {
        let err = next(Applied, Approve, Party::Sending).unwrap_err();
        assert!(err.message_zh().contains("区（县）司法局"));
        assert!(next(InTransit, ConfirmReport, Party::Sending).is_err());
        assert!(next(InTransit, ConfirmReport, Party::County).is_err());
        assert_eq!(next(Applied, Cancel, Party::Sending), Ok(Cancelled));
        assert!(next(Applied, Cancel, Party::Receiving).is_err());
        // The county may record the file handover for the sending office.
        assert_eq!(next(InTransit, FileSent, Party::County), Ok(InTransit));
        assert!(next(Applied, FileSent, Party::Sending).is_err());
    }
}
