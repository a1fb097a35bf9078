//! The sync API's request and response bodies (HTTP + JSON), shared by the client and the server.
//! `schema/sync-api.md` documents them for other implementers.

use crate::op::Operation;
use serde::{Deserialize, Serialize};

pub const API_PREFIX: &str = "/api/v1";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub code: String,
    pub device_label: String,
    pub db_instance_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub site_id: String,
    pub site_name: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub token: String,
    pub server_time_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub db_instance_id: String,
    pub ops: Vec<Operation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub site_seq: u64,
    pub server_seq: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushResponse {
    pub acks: Vec<Ack>,
    /// How many of the pushed operations the server already had (a retried push).
    pub duplicates: u64,
    /// site_seqs the server stored but held back from the master because their clock was further in the
    /// future than the allowed drift (ARCHITECTURE.md "Clock safety"); the district reviews them.
    #[serde(default)]
    pub quarantined: Vec<u64>,
    pub server_time_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullResponse {
    pub ops: Vec<Operation>,
    /// Pass as `after` next time; covers operations filtered out by scope too.
    pub next_cursor: u64,
    pub has_more: bool,
    pub server_time_ms: u64,
}

/// Every error response of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable, stable (e.g. `bad_token`, `out_of_scope`, `hash_mismatch`).
    pub code: String,
    /// English, says what happened and what to do.
    pub message: String,
    pub server_time_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub version: String,
    pub server_time_ms: u64,
}
