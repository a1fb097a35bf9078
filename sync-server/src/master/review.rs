//! The quarantine review's rules, whatever the backend (issue 9): what a held operation's replicated
//! `sync_quarantine` row says, and what a district's decision must be.

use super::{QuarantineItem, SiteAuth};
use crate::error::{Result, ServerError};
use crate::scope;
use jiceng_core::model::OrgKind;
use jiceng_core::op::Operation;
use jiceng_core::store::WriteChange;
use jiceng_core::tables;
use jiceng_core::wire::QuarantineDecision;
use jiceng_core::{codec, shanghai};

/// Codes whose operations the master cannot hold whatever the district decides.
pub const NEVER_MERGEABLE: &[&str] = &[
    "unknown_table",
    "unknown_field",
    "bad_value",
    "upgrade_server",
];
/// Longest value shown to the district beside a held operation.
const PREVIEW_CHARS: usize = 200;
pub const MAX_DECIDER_CHARS: usize = 100;
pub const MAX_NOTE_CHARS: usize = 500;

/// One held operation as the master keeps it.
pub struct Held {
    pub site_id: String,
    pub site_seq: u64,
    pub received_at_ms: u64,
    pub code: String,
    pub reason: String,
    pub reason_zh: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<u64>,
    pub decision_note: Option<String>,
    pub op: Operation,
}

/// The stored operation of a held row (one operation, core's codec).
pub fn decode_held(seq: u64, blob: &[u8]) -> Result<Operation> {
    codec::decode_ops(blob)
        .map_err(|e| ServerError::Store(format!("quarantined operation {seq}: {e}")))?
        .into_iter()
        .next()
        .ok_or_else(|| ServerError::Store(format!("quarantined operation {seq} is empty")))
}

/// Printable, one line, at most `max` characters.
pub fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<char>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// The fields of the replicated `sync_quarantine` row of a held operation, owned by `unit` (the
/// sending site's unit).
pub fn publication(item: &Held, unit: &str) -> Vec<WriteChange> {
    // L-7: location data never leaves the judicial office, not even as a preview.
    let preview = match tables::table(&item.op.table) {
        Some(t) if scope::may_read_table(OrgKind::District, t) => {
            let text = match &item.op.value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            printable(&text, PREVIEW_CHARS)
        }
        _ => String::new(),
    };
    let at = |ms: u64| shanghai::from_millis(ms).to_rfc3339();
    let mut changes = vec![
        WriteChange::new("org_unit_id", unit.to_string()),
        WriteChange::new("site_id", item.site_id.clone()),
        WriteChange::new("site_seq", item.site_seq as i64),
        WriteChange::new("tbl", printable(&item.op.table, 60)),
        WriteChange::new("target_id", item.op.row_id.clone()),
        WriteChange::new("field", printable(&item.op.field, 60)),
        WriteChange::new("value_preview", preview),
        WriteChange::new("code", printable(&item.code, 60)),
        WriteChange::new("reason", printable(&item.reason, 1000)),
        WriteChange::new("reason_zh", printable(&item.reason_zh, 1000)),
        WriteChange::new("received_at", at(item.received_at_ms)),
        WriteChange::new("status", item.status.clone()),
    ];
    if let Some(by) = &item.decided_by {
        changes.push(WriteChange::new(
            "decided_by",
            printable(by, MAX_DECIDER_CHARS),
        ));
    }
    if let Some(when) = item.decided_at_ms {
        changes.push(WriteChange::new("decided_at", at(when)));
    }
    if let Some(note) = &item.decision_note {
        changes.push(WriteChange::new(
            "decision_note",
            printable(note, MAX_NOTE_CHARS),
        ));
    }
    changes
}

/// The replicated row's id.
pub fn publication_id(item: &Held) -> String {
    format!("{}:{}", item.site_id, item.site_seq)
}

/// A decision as the master carries it out.
pub struct Decision<'a> {
    pub release: bool,
    pub status: &'static str,
    pub by: &'a str,
    pub seq: i64,
}

/// Checks who decides and what (only a district site; `release` or `reject`; bounded texts).
pub fn check_decision<'a>(
    decider: &SiteAuth,
    decision: &'a QuarantineDecision,
) -> Result<Decision<'a>> {
    if decider.kind != OrgKind::District {
        return Err(ServerError::Forbidden(
            "only a district site decides on quarantined operations".to_string(),
        ));
    }
    let by = decision.decided_by.trim();
    if by.is_empty() || by.chars().count() > MAX_DECIDER_CHARS {
        return Err(ServerError::BadRequest(format!(
            "decided_by must have 1-{MAX_DECIDER_CHARS} characters"
        )));
    }
    if decision.note.chars().count() > MAX_NOTE_CHARS {
        return Err(ServerError::BadRequest(format!(
            "note must have at most {MAX_NOTE_CHARS} characters"
        )));
    }
    let release = match decision.decision.as_str() {
        "release" => true,
        "reject" => false,
        _ => {
            return Err(ServerError::BadRequest(
                "decision must be \"release\" or \"reject\"".to_string(),
            ))
        }
    };
    let seq = i64::try_from(decision.site_seq)
        .map_err(|_| ServerError::BadRequest("site_seq is too large".to_string()))?;
    Ok(Decision {
        release,
        status: if release { "released" } else { "rejected" },
        by,
        seq,
    })
}

/// Whether the held item may take the decision (still held; mergeable if released).
pub fn check_decidable(item: &Held, release: bool) -> Result<()> {
    if item.status != "held" {
        return Err(ServerError::Conflict(format!(
            "this operation was already decided ({})",
            item.status
        )));
    }
    if release && NEVER_MERGEABLE.contains(&item.code.as_str()) {
        return Err(ServerError::Conflict(format!(
            "an operation held for {} cannot be merged into the master; reject it",
            item.code
        )));
    }
    Ok(())
}

pub fn item_of(h: Held) -> QuarantineItem {
    QuarantineItem {
        site_id: h.site_id,
        site_seq: h.site_seq,
        received_at_ms: h.received_at_ms,
        table: h.op.table,
        row_id: h.op.row_id,
        field: h.op.field,
        code: h.code,
        reason: h.reason,
        reason_zh: h.reason_zh,
        status: h.status,
        decided_by: h.decided_by,
        decided_at_ms: h.decided_at_ms,
    }
}
