//! The sync API's request and response bodies (HTTP + JSON), shared by the client and the server.
//! `schema/sync-api.md` documents them for other implementers.

use crate::op::Operation;
use serde::{Deserialize, Serialize};

pub const API_PREFIX: &str = "/api/v1";

/// The media type of a push's body in binary (`codec::encode_push`). A server that takes it lists it
/// in the `Accept-Post` header of its responses; any other server is sent JSON.
pub const PUSH_BINARY_TYPE: &str = "application/vnd.jiceng.push";
/// The media type of a pull's answer in binary (`codec::encode_pull`). A desktop asks for it in
/// `Accept` beside JSON; a server of an older release ignores that and answers JSON.
pub const PULL_BINARY_TYPE: &str = "application/vnd.jiceng.pull";
/// The response header listing the push bodies a server takes (as W3C LDP's `Accept-Post`).
pub const ACCEPT_POST: &str = "accept-post";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub code: String,
    pub device_label: String,
    pub db_instance_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolResponse {
    pub site_id: String,
    pub site_name: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub token: String,
    pub server_time_ms: u64,
    /// Re-enrolment (issue 9): the site's log continues where the master's copy of it ends, one chain per
    /// site forever. A new store writes its first operation as `last_seq + 1` on top of `last_hash`
    /// (0 and "" for a site enrolled the first time).
    #[serde(default)]
    pub last_seq: u64,
    #[serde(default)]
    pub last_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub db_instance_id: String,
    pub ops: Vec<Operation>,
    /// site_seqs of `ops` that a restored or copied store wrote again after taking the server's copy of
    /// its log (issue 10 §3): the server holds them for the district's review (`divergent_copy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub divergent: Vec<u64>,
}

/// `GET /api/v1/own`: the site's own operations the master holds after a site_seq (merged or held),
/// for a store restored from a backup or copied to catch up with its own log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnLogResponse {
    pub ops: Vec<Operation>,
    pub has_more: bool,
    pub server_time_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ack {
    pub site_seq: u64,
    pub server_seq: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub acks: Vec<Ack>,
    /// How many of the pushed operations the server already had (a retried push).
    pub duplicates: u64,
    /// site_seqs the server stored but held back from the master because their clock was further in the
    /// future than the allowed drift (ARCHITECTURE.md "Clock safety"); the district reviews them.
    #[serde(default)]
    pub quarantined: Vec<u64>,
    /// Why each quarantined operation was held (issue 9): a machine code and the reason in English and
    /// Chinese. The district releases (merges) or rejects each one; the decision syncs back.
    #[serde(default)]
    pub held: Vec<HeldOperation>,
    pub server_time_ms: u64,
}

/// One operation the server acknowledged but held in quarantine instead of merging it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldOperation {
    pub site_seq: u64,
    /// Stable machine code: `bad_date`, `bad_code`, `bad_id_number`, `out_of_range`, `too_long`,
    /// `control_characters`, `unknown_table`, `unknown_field`, `bad_value`, `table_not_writable`,
    /// `out_of_scope`, `row_without_owner`, `owner_change`, `append_only`,
    /// `transfer_decision_reserved`, `late_after_transfer`, `future_clock`, `past_clock`,
    /// `upgrade_server`, `bad_user_id`, `bad_instant`, `bad_json`.
    pub code: String,
    pub reason: String,
    pub reason_zh: String,
}

/// The district's decision on one quarantined operation (`POST /api/v1/quarantine/decide`, with the
/// token of a district site).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuarantineDecision {
    /// The site that sent the operation.
    pub site_id: String,
    pub site_seq: u64,
    /// `release` (merge it into the master as sent) or `reject` (keep it, never merge it).
    pub decision: String,
    /// Who decided (the district user's display name), for the record.
    pub decided_by: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub ops: Vec<Operation>,
    /// Pass as `after` next time; covers operations filtered out by scope too.
    pub next_cursor: u64,
    pub has_more: bool,
    pub server_time_ms: u64,
    /// This copy of the master record; a new one after a restore from backup (issue 10 §6): the site
    /// then pulls again from the start.
    #[serde(default)]
    pub master_id: String,
    /// The last of this site's operations the master holds: a site that was acknowledged more (the
    /// master was restored from an older backup) sends the rest again.
    #[serde(default)]
    pub site_last_seq: Option<u64>,
    /// Rows that left this site's read scope within this answer's window (issue 10 §5: a case handed
    /// to another office): the site removes them from its store; the master keeps their history.
    #[serde(default)]
    pub left_scope: Vec<RowRef>,
    /// Set when this site's cursor cannot be served incrementally (its scope or its store's schema
    /// changed since the cursor was given): the site pulls everything again from 0, keeping its
    /// unsent operations, and drops what the full pull did not bring back. `ops` is then empty.
    #[serde(default)]
    pub reinitialise: Option<String>,
}

/// One replicated row, by table and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowRef {
    pub table: String,
    pub id: String,
}

/// Every error response of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable, stable (e.g. `bad_token`, `out_of_scope`, `hash_mismatch`).
    pub code: String,
    /// English, says what happened and what to do.
    pub message: String,
    pub server_time_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    pub status: String,
    pub version: String,
    pub server_time_ms: u64,
}

/// `POST /api/v1/bundle`: a sync bundle brought in by USB stick (issue 10 §7), imported at the server by
/// any enrolled desktop (the district's, or any connected office relaying for one without network).
/// The body is the bundle file itself; the answer bundle goes back to the office the same way.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BundleRelayResponse {
    /// The office the bundle came from.
    pub site_id: String,
    pub site_name: String,
    /// Its operations now acknowledged (new ones and ones the server already had).
    pub acknowledged: u64,
    pub duplicates: u64,
    /// Of them, held for the district's review.
    pub held: u64,
    /// Operations the answer carries to the office.
    pub delivered: u64,
    /// The answer bundle, signed for the office.
    pub answer: crate::bundle::BundleFile,
}

/// `POST /api/v1/token/rotate` (issue 11 §3): the site's next token. It works beside the current one
/// until it is first used, which retires the current one, so a lost answer never locks a site out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRotated {
    pub token: String,
    pub server_time_ms: u64,
}

/// Answer to `POST /api/v1/recovery-code` (issue 11 §1): the site's recovery code, which its desktop
/// wraps its store's key for and does not keep.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCode {
    pub recovery_code: String,
    pub server_time_ms: u64,
}

/// `POST /api/v1/consolidation/close` (issue 13 §1): the day to close now (Asia/Shanghai,
/// YYYY-MM-DD); yesterday when absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseDayRequest {
    #[serde(default)]
    pub day: Option<String>,
}

/// `POST /api/v1/sites/{id}/revoke` (issue 11 §3), by a district site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Who revokes (the district user's display name), for the record.
    pub by: String,
    /// Why (a lost laptop, a PC taken out of service…).
    #[serde(default)]
    pub reason: String,
}

/// One site of the district as the district administers it (`GET /api/v1/sites`, issue 11 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SiteSummary {
    pub id: String,
    pub name: String,
    pub org_unit_id: String,
    /// A desktop enrolled with a code (it has a token).
    pub enrolled: bool,
    #[ts(type = "number")]
    pub last_seq: u64,
    /// Taken out of the district: its token no longer works.
    pub revoked: bool,
    #[ts(type = "number | null")]
    pub revoked_at_ms: Option<u64>,
    pub revoked_by: Option<String>,
    pub revoked_reason: Option<String>,
    #[ts(type = "number | null")]
    pub enrolled_at_ms: Option<u64>,
    pub device_label: Option<String>,
}

/// `GET /api/v1/sites`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteList {
    pub sites: Vec<SiteSummary>,
    pub server_time_ms: u64,
}

/// Issue 12 §6: one page of a new site's scoped snapshot of the master (`GET /api/v1/snapshot`): the
/// rows it may read with their whole field history, as a full pull would have left them, instead of
/// replaying the log. The site then pulls from `as_of`; what changed meanwhile arrives again and merges
/// idempotently.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotPage {
    /// The log head the snapshot started at (the first page's, echoed back as `as_of` by the next
    /// requests): the site's pull cursor once every page is in.
    pub as_of: u64,
    pub master_id: String,
    pub rows: Vec<SnapshotRow>,
    /// The master's conflict items of these rows.
    pub conflicts: Vec<SnapshotConflict>,
    /// Where the next page starts; None when this was the last.
    pub next: Option<RowRef>,
    pub server_time_ms: u64,
}

/// One row of a snapshot: its whole field history, as core's merge keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotRow {
    pub table: String,
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub history: crate::merge::RowVersions,
}

/// One conflict item of a snapshot's rows (the same columns as a store's `conflict` table).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotConflict {
    pub id: String,
    pub table: String,
    pub row_id: String,
    pub field: String,
    pub newer_json: String,
    pub older_json: String,
}
