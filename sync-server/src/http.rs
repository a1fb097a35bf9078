//! The HTTP layer: parses requests, authenticates, delegates to the master store, answers JSON. Bad
//! input always gets a 4xx with a machine code (never a 5xx, never a panic).

use crate::error::ServerError;
use crate::master::{MasterPool, MasterReads, MasterStore, SiteAuth};
use crate::master::{QuarantineItem, SiteSummary};
use crate::now_ms;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use jiceng_core::directory_admin::{AdminCall, AdminDirectory, AdminOutcome};
use jiceng_core::wire::CloseDayRequest;
use jiceng_core::wire::{
    BundleRelayResponse, EnrolRequest, EnrolResponse, ErrorBody, HealthResponse, OwnLogResponse,
    PullResponse, PushRequest, PushResponse, QuarantineDecision, RecoveryCode, RevokeRequest,
    SiteList, SnapshotPage, TokenRotated,
};
use serde::Serialize;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::ToSchema;

/// `GET /api/v1/records/{table}/{id}`.
#[derive(Serialize, ToSchema)]
pub struct RecordResponse {
    /// The row's visible fields (never a password hash).
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    pub server_time_ms: u64,
}

/// `GET /api/v1/records/{table}`.
#[derive(Serialize, ToSchema)]
pub struct RecordsResponse {
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Value>,
    /// Pass as `after` for the next page (null when the page is empty).
    pub next_after: Option<String>,
    pub server_time_ms: u64,
}

/// `GET /api/v1/quarantine`.
#[derive(Serialize, ToSchema)]
pub struct QuarantineList {
    pub items: Vec<QuarantineItem>,
    pub server_time_ms: u64,
}

/// `POST /api/v1/quarantine/decide`.
#[derive(Serialize, ToSchema)]
pub struct DecidedResponse {
    pub item: QuarantineItem,
    pub server_time_ms: u64,
}
use std::sync::Arc;

/// Largest accepted request body. A desktop pushes at most 1,000 operations per request (~0.5 MiB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// An oversized body is read and dropped up to this size before answering 413; beyond, the connection closes.
const MAX_DRAINED_BYTES: usize = 64 * 1024 * 1024;
const MAX_PULL_LIMIT: usize = 10_000;
/// Largest sync bundle (USB, issue 10 §7): a month of an office's work is some 30,000 operations.
pub const MAX_BUNDLE_BYTES: usize = 96 * 1024 * 1024;

/// The master as the HTTP layer holds it: shared by every request, `&self` (issue 12 §1); see
/// [`MasterPool`] for its sessions and the group commit of pushes.
pub type SharedMaster = Arc<MasterPool>;

pub fn router(master: SharedMaster) -> Router {
    router_with_consolidation(master, None, 0)
}

/// Where the nightly consolidation keeps closed days (issue 13 §1), and its silent-site rule; None:
/// not served.
#[derive(Clone)]
struct ConsolidationDir(Option<(std::path::PathBuf, u64)>);

/// [`router`], serving the last closed day from `consolidation_dir`.
pub fn router_with_consolidation(
    master: SharedMaster,
    consolidation_dir: Option<std::path::PathBuf>,
    silent_days: u64,
) -> Router {
    Router::new()
        .route("/api/v1/consolidation/latest", get(latest_consolidation))
        .route("/api/v1/consolidation/close", post(close_consolidation))
        .route("/api/v1/health", get(health))
        .route("/api/v1/ready", get(ready))
        .route("/api/v1/enrol", post(enrol))
        .route("/api/v1/push", post(push))
        .route("/api/v1/pull", get(pull))
        .route("/api/v1/snapshot", get(snapshot))
        .route("/api/v1/records/{table}", get(records))
        .route("/api/v1/records/{table}/{id}", get(record))
        .route("/api/v1/own", get(own_log))
        .route("/api/v1/quarantine", get(quarantine))
        .route("/api/v1/quarantine/decide", post(decide_quarantine))
        .route("/api/v1/bundle", post(import_bundle))
        .route("/api/v1/token/rotate", post(rotate_token))
        .route("/api/v1/recovery-code", post(recovery_code))
        .route("/api/v1/sites", get(sites))
        .route("/api/v1/sites/{id}/revoke", post(revoke_site))
        .route("/api/v1/admin/directory", get(admin_directory))
        .route("/api/v1/admin/actions", post(admin_action))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(master)
        .layer(axum::Extension(ConsolidationDir(
            consolidation_dir.map(|dir| (dir, silent_days)),
        )))
        // Issue 12 §5: fewer bytes on the wire. Request bodies sent zstd or gzip are decompressed on
        // the way in (the body limits count the decompressed bytes; an encoding not understood
        // passes through and fails as JSON, with our error body); responses are compressed when the
        // client asks; every response says which request encodings are accepted (RFC 7694), which
        // is how a desktop learns it may compress its pushes.
        .layer(RequestDecompressionLayer::new().pass_through_unaccepted(true))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::ACCEPT_ENCODING,
            header::HeaderValue::from_static(ACCEPTED_REQUEST_ENCODINGS),
        ))
        // Issue 12 §4, §5: the push bodies taken, so a desktop sends the binary one only to a
        // server that reads it.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::HeaderName::from_static(jiceng_core::wire::ACCEPT_POST),
            header::HeaderValue::from_static(ACCEPTED_PUSH_BODIES),
        ))
}

use jiceng_core::wire::PUSH_BINARY_TYPE as PUSH_BINARY;

/// The push bodies the server reads, as it advertises them (`Accept-Post`).
const ACCEPTED_PUSH_BODIES: &str = "application/json, application/vnd.jiceng.push";

/// The request encodings the server decompresses, as it advertises them.
pub const ACCEPTED_REQUEST_ENCODINGS: &str = "zstd, gzip";

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        if status.is_server_error() {
            tracing::error!("{}", crate::log_safe(&self.to_string()));
        } else {
            tracing::info!(
                code = self.code(),
                "refused: {}",
                crate::log_safe(&self.to_string())
            );
        }
        let body = ErrorBody {
            code: self.code().to_string(),
            message: self.to_string(),
            server_time_ms: now_ms(),
        };
        (status, Json(body)).into_response()
    }
}

/// Runs a write off the async runtime (both backends block) on a writer session, and returns its
/// result as soon as it has one: the thread then goes on to merge the pushes that queued for the
/// writer meanwhile, which this request does not wait for.
pub(crate) async fn with_master<T: Send + 'static>(
    master: &SharedMaster,
    f: impl FnOnce(&mut dyn MasterStore) -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    let master = master.clone();
    answered_off_runtime(move |answer| master.write_answering(f, answer)).await
}

/// Runs `work` on a blocking thread, which calls its answer once; returns that answer even while
/// the thread goes on with other work.
async fn answered_off_runtime<T: Send + 'static>(
    work: impl FnOnce(Box<dyn FnOnce(Result<T, ServerError>) + Send>) + Send + 'static,
) -> Result<T, ServerError> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let worker = tokio::task::spawn_blocking(move || {
        work(Box::new(move |result| {
            let _ = answer.send(result);
        }))
    });
    match answered.await {
        Ok(result) => result,
        // The thread ended without answering: it panicked first.
        Err(_) => Err(ServerError::Store(match worker.await {
            Err(e) => format!("worker failed: {e}"),
            Ok(()) => "the request was not answered".to_string(),
        })),
    }
}

/// A push, decoded and group-committed with the pushes waiting beside it, on a thread of its own:
/// decoding 1,000 operations takes milliseconds of CPU, which on the runtime's two workers held up
/// every other office's request. The answer comes back as soon as the push's group is merged, even
/// while the thread goes on merging the pushes queued behind it.
async fn push_grouped(
    master: &SharedMaster,
    site: SiteAuth,
    body: Vec<u8>,
    binary: bool,
) -> Result<PushResponse, ServerError> {
    let master = master.clone();
    answered_off_runtime(move |answer| {
        let decoded: Result<PushRequest, ServerError> = if binary {
            jiceng_core::codec::decode_push(&body).map_err(|e| {
                ServerError::BadRequest(format!("body is not a binary push ({PUSH_BINARY}): {e}"))
            })
        } else {
            decode_json(&body)
        };
        drop(body);
        let request = match decoded {
            Ok(request) => request,
            Err(e) => return answer(Err(e)),
        };
        let count = request.ops.len();
        master.enqueue_push(
            site,
            request,
            now_ms(),
            Box::new(move |result| {
                if let Ok(response) = &result {
                    tracing::debug!(count, duplicates = response.duplicates, "push accepted");
                }
                answer(result);
            }),
        );
    })
    .await
}

/// A read, on a reader of its own when the master has them.
async fn with_reader<T: Send + 'static>(
    master: &SharedMaster,
    f: impl FnOnce(&mut dyn MasterReads) -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    let master = master.clone();
    tokio::task::spawn_blocking(move || master.read(f))
        .await
        .map_err(|e| ServerError::Store(format!("worker failed: {e}")))?
}

async fn read_json<T: serde::de::DeserializeOwned>(body: Body) -> Result<T, ServerError> {
    read_json_up_to(body, MAX_BODY_BYTES).await
}

async fn read_json_up_to<T: serde::de::DeserializeOwned>(
    body: Body,
    limit: usize,
) -> Result<T, ServerError> {
    decode_json(&read_body_up_to(body, limit).await?)
}

fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ServerError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ServerError::BadRequest(format!("body is not the expected JSON: {e}")))
}

/// The request's body, refused past `limit` bytes (after decompression).
async fn read_body_up_to(body: Body, limit: usize) -> Result<Vec<u8>, ServerError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut received = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ServerError::BadRequest(format!("body could not be read: {e}")))?;
        received = received.saturating_add(chunk.len());
        if received <= limit {
            bytes.extend_from_slice(&chunk);
        } else if received > MAX_DRAINED_BYTES.max(limit) {
            break;
        }
        // Past the limit the rest is read and dropped, so the client finishes sending and receives the
        // 413 instead of a reset connection.
    }
    if received > limit {
        return Err(ServerError::TooLarge(limit));
    }
    Ok(bytes)
}

fn bearer(headers: &HeaderMap) -> Result<String, ServerError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ServerError::MissingToken)?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or(ServerError::MissingToken)?
        .trim();
    if token.is_empty() || token.len() > 256 {
        return Err(ServerError::MissingToken);
    }
    Ok(token.to_string())
}

async fn authenticate(master: &SharedMaster, headers: &HeaderMap) -> Result<SiteAuth, ServerError> {
    let token = bearer(headers)?;
    let master = master.clone();
    tokio::task::spawn_blocking(move || master.authenticate(&token))
        .await
        .map_err(|e| ServerError::Store(format!("worker failed: {e}")))?
}

/// Liveness and the server's clock.
#[utoipa::path(get, path = "/api/v1/health", tag = "sync",
    responses((status = 200, description = "The server runs", body = HealthResponse)))]
async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        server_time_ms: now_ms(),
    })
}

/// How long readiness waits for a read of the master before answering 503.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Readiness (issue 14 §2): 200 once the master answers a read (a reader session checked out, the
/// master's id and log head read); 503 `not_ready` while it cannot (database down, files missing,
/// every session busy past 5 s). `/api/v1/health` is liveness only: the process answers.
#[utoipa::path(get, path = "/api/v1/ready", tag = "sync",
    responses(
        (status = 200, description = "The master can be read", body = HealthResponse),
        (status = 503, description = "`not_ready`: the master cannot be read now", body = ErrorBody)))]
async fn ready(State(master): State<SharedMaster>) -> Result<Json<HealthResponse>, ServerError> {
    let read = with_reader(&master, |m| m.snapshot_origin());
    match tokio::time::timeout(READY_TIMEOUT, read).await {
        Ok(Ok(_)) => Ok(Json(HealthResponse {
            status: "ready".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            server_time_ms: now_ms(),
        })),
        Ok(Err(e)) => Err(ServerError::NotReady(e.to_string())),
        Err(_) => Err(ServerError::NotReady(format!(
            "no read of the master within {} s",
            READY_TIMEOUT.as_secs()
        ))),
    }
}

async fn not_found() -> ServerError {
    ServerError::NotFound("route".to_string())
}

async fn method_not_allowed() -> ServerError {
    ServerError::MethodNotAllowed
}

/// A path segment that is not valid (bad percent-encoding, not UTF-8) is a 400 with a code.
fn path<T>(extracted: Result<Path<T>, PathRejection>) -> Result<T, ServerError> {
    extracted
        .map(|Path(p)| p)
        .map_err(|e| ServerError::BadRequest(format!("bad path: {}", e.body_text())))
}

/// Exchanges a one-time enrolment code for the site's token (and where its log continues).
#[utoipa::path(post, path = "/api/v1/enrol", tag = "sync", request_body = EnrolRequest,
    responses(
        (status = 200, description = "Enrolled", body = EnrolResponse),
        (status = 400, description = "`bad_request`: not the expected JSON", body = ErrorBody),
        (status = 401, description = "`bad_code`: unknown, used or expired code", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 503, description = "`store_error`: the master's storage failed", body = ErrorBody)))]
async fn enrol(State(master): State<SharedMaster>, body: Body) -> Result<Response, ServerError> {
    let request: EnrolRequest = read_json(body).await?;
    let response = with_master(&master, move |m| m.enrol(&request, now_ms())).await?;
    tracing::info!(site = %response.site_id, "site enrolled");
    Ok(Json(response).into_response())
}

/// Pushes a site's operations (idempotent on site id and site_seq). Content the policy refuses is
/// acknowledged and held in quarantine (`held`), never merged. The body may instead be the same push
/// in binary (`Content-Type: application/vnd.jiceng.push`, jiceng-core's `codec::encode_push`), which
/// this server lists in the `Accept-Post` header of every response.
#[utoipa::path(post, path = "/api/v1/push", tag = "sync", request_body = PushRequest,
    security(("site_token" = [])),
    responses(
        (status = 200, description = "Acknowledged (merged or held)", body = PushResponse),
        (status = 400, description = "`bad_request`, `bad_operation`: a protocol error", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 409, description = "`hash_mismatch`, `sequence_gap`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 503, description = "`store_error`; `contended`: another push held the same records in a lock cycle, nothing was written, send again", body = ErrorBody)))]
async fn push(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    let binary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(PUSH_BINARY));
    let body = read_body_up_to(body, MAX_BODY_BYTES).await?;
    let response = push_grouped(&master, site, body, binary).await?;
    Ok(Json(response).into_response())
}

fn query_u64(query: &Option<String>, key: &str, default: u64) -> Result<u64, ServerError> {
    let Some(query) = query else {
        return Ok(default);
    };
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            if k == key {
                return v.parse().map_err(|_| {
                    ServerError::BadRequest(format!(
                        "query parameter {key} must be a non-negative integer"
                    ))
                });
            }
        }
    }
    Ok(default)
}

/// A text query parameter (percent-decoded), at most 128 bytes.
fn query_text(query: &Option<String>, key: &str) -> Result<Option<String>, ServerError> {
    let Some(query) = query else {
        return Ok(None);
    };
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            if k == key {
                let decoded = percent_decode(v).ok_or_else(|| {
                    ServerError::BadRequest(format!("query parameter {key} is not valid UTF-8"))
                })?;
                if decoded.len() > 128 {
                    return Err(ServerError::BadRequest(format!(
                        "query parameter {key} is longer than 128 bytes"
                    )));
                }
                return Ok(Some(decoded));
            }
        }
    }
    Ok(None)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The operations after `after` that the site may read.
#[utoipa::path(get, path = "/api/v1/pull", tag = "sync",
    security(("site_token" = [])),
    params(
        ("after" = Option<u64>, Query, description = "The cursor: the last next_cursor received (0 at first)"),
        ("limit" = Option<u64>, Query, description = "Operations per page (at most 10,000)"),
        ("store_schema" = Option<u64>, Query, description = "The site's store schema (its last migration); rows of later tables are left out. Absent: the previous release's")),
    responses(
        (status = 200, description = "A page of operations. In binary instead (`application/vnd.jiceng.pull`: the JSON answer without its operations, then the operations in the audit log's codec; jiceng_core::codec::encode_pull) when `Accept` names that type", body = PullResponse),
        (status = 400, description = "`bad_request`: a bad query parameter", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn pull(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    let after = query_u64(&query, "after", 0)?;
    let limit = query_u64(&query, "limit", 5000)?.min(MAX_PULL_LIMIT as u64) as usize;
    // A desktop of an older release does not say its schema: it gets only the tables it knows.
    let store_schema = query_u64(
        &query,
        "store_schema",
        u64::from(jiceng_core::store::PREVIOUS_RELEASE_SCHEMA),
    )?
    .min(u64::from(u32::MAX)) as u32;
    let binary = accepts(&headers, jiceng_core::wire::PULL_BINARY_TYPE);
    // Serialised on the reader's thread too, off the runtime's workers (see `push_grouped`).
    let (body, content_type) = with_reader(&master, move |m| {
        let response = m.pull_for_schema(&site, after, limit, store_schema, now_ms())?;
        if binary {
            return Ok((
                jiceng_core::codec::encode_pull(&response),
                jiceng_core::wire::PULL_BINARY_TYPE,
            ));
        }
        let json = serde_json::to_vec(&response)
            .map_err(|e| ServerError::Store(format!("pull could not be written as JSON: {e}")))?;
        Ok((json, "application/json"))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::VARY, "accept"),
        ],
        body,
    )
        .into_response())
}

/// Whether the request's `Accept` names `media_type` with a weight above 0 (`q=0` says "not this").
/// Other weights are not compared: a client that names the type takes it.
fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let named = parts
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(media_type));
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            named && !refused
        })
}

/// Issue 12 §6: one page of the site's scoped snapshot (a new office or a replaced laptop starts
/// from it instead of replaying the log, then pulls from `as_of`).
#[utoipa::path(get, path = "/api/v1/snapshot", tag = "sync",
    security(("site_token" = [])),
    params(
        ("as_of" = Option<u64>, Query, description = "The first page's as_of, echoed back by the next requests; absent to start a snapshot"),
        ("after_table" = Option<String>, Query, description = "The previous page's next.table"),
        ("after_id" = Option<String>, Query, description = "The previous page's next.id"),
        ("limit" = Option<u64>, Query, description = "Rows per page (at most 2,000)"),
        ("store_schema" = Option<u64>, Query, description = "The site's store schema; rows of later tables are left out")),
    responses(
        (status = 200, description = "A page of rows with their histories", body = SnapshotPage),
        (status = 400, description = "`bad_request`: a bad query parameter, an as_of beyond the log's head, a table not in this site's snapshot", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn snapshot(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    let as_of = match query_text(&query, "as_of")? {
        None => None,
        Some(_) => Some(query_u64(&query, "as_of", 0)?),
    };
    let after = match (
        query_text(&query, "after_table")?,
        query_text(&query, "after_id")?,
    ) {
        (Some(table), Some(id)) => Some(jiceng_core::wire::RowRef { table, id }),
        (None, None) => None,
        _ => {
            return Err(ServerError::BadRequest(
                "after_table and after_id go together".to_string(),
            ))
        }
    };
    let request = crate::master::snapshot::SnapshotRequest {
        as_of,
        after,
        limit: query_u64(&query, "limit", 1000)?.min(u64::from(u32::MAX)) as usize,
        store_schema: query_u64(
            &query,
            "store_schema",
            u64::from(jiceng_core::store::STORE_SCHEMA),
        )?
        .min(u64::from(u32::MAX)) as u32,
    };
    let page = with_reader(&master, move |m| {
        crate::master::snapshot::snapshot_page(m, &site, &request, now_ms())
    })
    .await?;
    Ok(Json(page).into_response())
}

/// One master row the site may read.
#[utoipa::path(get, path = "/api/v1/records/{table}/{id}", tag = "records",
    security(("site_token" = [])),
    params(("table" = String, Path, description = "A replicated table"), ("id" = String, Path, description = "Row id")),
    responses(
        (status = 200, description = "The row", body = RecordResponse),
        (status = 400, description = "`bad_request`: a bad path", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`unknown_table`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn record(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    extracted: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ServerError> {
    let (table, id) = path(extracted)?;
    let site = authenticate(&master, &headers).await?;
    let row = with_reader(&master, move |m| m.record(&site, &table, &id)).await?;
    Ok(Json(RecordResponse {
        record: row,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// Master rows of a table inside the site's read scope, paged by key.
#[utoipa::path(get, path = "/api/v1/records/{table}", tag = "records",
    security(("site_token" = [])),
    params(
        ("table" = String, Path, description = "A replicated table"),
        ("after" = Option<String>, Query, description = "Rows with ids after this one (the last page's next_after)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Rows per page (1-1,000)")),
    responses(
        (status = 200, description = "A page of rows", body = RecordsResponse),
        (status = 400, description = "`bad_request`", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 404, description = "`not_found`: the site may not read the table", body = ErrorBody),
        (status = 422, description = "`unknown_table`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn records(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    extracted: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ServerError> {
    let table = path(extracted)?;
    let site = authenticate(&master, &headers).await?;
    let page = crate::master::RecordsPage {
        after: query_text(&query, "after")?,
        offset: query_u64(&query, "offset", 0)?,
        limit: query_u64(&query, "limit", 100)?.clamp(1, 1000),
    };
    let rows = with_reader(&master, move |m| m.records(&site, &table, page)).await?;
    // Keyset paging: pass the last id as `after` for the next page.
    let next_after = rows
        .last()
        .and_then(|r| r.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok(Json(RecordsResponse {
        records: rows,
        next_after,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// The last day the nightly consolidation closed (issue 13 §1, D-1), for a district site: the day's
/// C-21 statistics as the record stood at its end, and the reconciliation per site.
#[utoipa::path(get, path = "/api/v1/consolidation/latest", tag = "district",
    security(("site_token" = [])),
    responses(
        (status = 200, description = "The last closed day: {day, made_at_ms, rows, as_of, silent_days, statistics, sites: [{site_id, name, operations_received, held, alarms, clock_warnings, last_received_ms, silent}]}"),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 404, description = "`not_found`: no day closed yet", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn latest_consolidation(
    State(master): State<SharedMaster>,
    axum::Extension(ConsolidationDir(dir)): axum::Extension<ConsolidationDir>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    district_only(&site, "reads the nightly consolidation")?;
    let (dir, _) =
        dir.ok_or_else(|| ServerError::NotFound("no consolidation on this server".into()))?;
    let latest = tokio::task::spawn_blocking(move || crate::consolidate::latest(&dir))
        .await
        .map_err(|e| ServerError::Store(format!("worker failed: {e}")))??
        .ok_or_else(|| ServerError::NotFound("no day has been closed yet".into()))?;
    Ok(Json(latest).into_response())
}

/// The held operations, for a district site (issue 9).
#[utoipa::path(get, path = "/api/v1/quarantine", tag = "quarantine",
    security(("site_token" = [])),
    responses(
        (status = 200, description = "Every held operation", body = QuarantineList),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn quarantine(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    district_only(&site, "reviews quarantined operations")?;
    let items = with_master(&master, move |m| m.quarantine()).await?;
    Ok(Json(QuarantineList {
        items,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// The district's decision on one held operation.
#[utoipa::path(post, path = "/api/v1/quarantine/decide", tag = "quarantine", request_body = QuarantineDecision,
    security(("site_token" = [])),
    responses(
        (status = 200, description = "Decided", body = DecidedResponse),
        (status = 400, description = "`bad_request`", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict`: already decided, or never mergeable", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn decide_quarantine(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    let decision: QuarantineDecision = read_json(body).await?;
    let item = with_master(&master, move |m| {
        m.decide_quarantine(&site, &decision, now_ms())
    })
    .await?;
    Ok(Json(DecidedResponse {
        item,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// The site's own operations the master holds after `after` (issue 10 §3).
#[utoipa::path(get, path = "/api/v1/own", tag = "sync",
    security(("site_token" = [])),
    params(
        ("after" = Option<u64>, Query, description = "Operations of this site after this site_seq"),
        ("limit" = Option<u64>, Query, description = "Operations per page (at most 10,000)")),
    responses(
        (status = 200, description = "A page of the site's own log", body = OwnLogResponse),
        (status = 400, description = "`bad_request`: a bad query parameter", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn own_log(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    let after = query_u64(&query, "after", 0)?;
    let limit = query_u64(&query, "limit", 5000)?.clamp(1, MAX_PULL_LIMIT as u64) as usize;
    let (ops, has_more) = with_master(&master, move |m| m.own_log(&site, after, limit)).await?;
    Ok(Json(OwnLogResponse {
        ops,
        has_more,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// Imports a sync bundle an office brought on a USB stick (issue 10 §7), relayed by any enrolled
/// desktop (the district's, or a connected office's): checked against the office's own key, taken
/// exactly like that office's push and pull, and answered with a bundle signed for it.
#[utoipa::path(post, path = "/api/v1/bundle", tag = "sync", request_body = jiceng_core::bundle::BundleFile,
    security(("site_token" = [])),
    responses(
        (status = 200, description = "Imported; the answer bundle for the office", body = BundleRelayResponse),
        (status = 400, description = "`bad_request`: not a bundle", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token` (the relaying desktop)", body = ErrorBody),
        (status = 403, description = "`bundle_signature_invalid` (tampered or forged), `bundle_unknown_site` (not enrolled here), `bundle_site_mismatch` (another site's operations)", body = ErrorBody),
        (status = 409, description = "`hash_mismatch`, `sequence_gap`: as for a push", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`bundle_kind` (an answer, not an outgoing bundle), `bundle_version`, `bundle_unreadable`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn import_bundle(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServerError> {
    let relay = authenticate(&master, &headers).await?;
    let file: jiceng_core::bundle::BundleFile = read_json_up_to(body, MAX_BUNDLE_BYTES).await?;
    let response = with_master(&master, move |m| {
        crate::bundle::import(m, &file, Some(&relay.site_id), false, now_ms())
    })
    .await?;
    Ok(Json(response).into_response())
}

fn district_only(site: &SiteAuth, what: &str) -> Result<(), ServerError> {
    if site.kind == jiceng_core::model::OrgKind::District {
        Ok(())
    } else {
        Err(ServerError::Forbidden(format!(
            "only a district site {what}"
        )))
    }
}

/// The site's next token (issue 11 §3). The desktop asks for one every 30 days.
#[utoipa::path(post, path = "/api/v1/token/rotate", tag = "sync",
    security(("site_token" = [])),
    responses(
        (status = 200, description = "The next token: valid now, the current one retires at its first use", body = TokenRotated),
        (status = 401, description = "`missing_token`, `bad_token`, `site_revoked`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn rotate_token(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    let token = with_master(&master, move |m| m.rotate_token(&site, now_ms())).await?;
    Ok(Json(TokenRotated {
        token,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// Issue 11 §1: the site's recovery code, for its desktop to wrap its store's key (made at the first
/// asking, the same ever after).
#[utoipa::path(post, path = "/api/v1/recovery-code", tag = "sync",
    security(("site_token" = [])),
    responses(
        (status = 200, description = "The site's recovery code", body = RecoveryCode),
        (status = 401, description = "`missing_token`, `bad_token`, `site_revoked`", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn recovery_code(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    let code = with_master(&master, move |m| m.site_recovery_code(&site, now_ms())).await?;
    Ok(Json(RecoveryCode {
        recovery_code: code,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// Every site of the district, with its enrolment and revocation (for the district).
#[utoipa::path(get, path = "/api/v1/sites", tag = "admin",
    security(("site_token" = [])),
    responses(
        (status = 200, description = "The sites", body = SiteList),
        (status = 401, description = "`missing_token`, `bad_token`, `site_revoked`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn sites(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    district_only(&site, "lists the sites")?;
    let sites = with_master(&master, |m| m.sites()).await?;
    Ok(Json(SiteList {
        sites,
        server_time_ms: now_ms(),
    })
    .into_response())
}

/// The district revokes a site (a lost laptop, a PC out of service): its next request gets 401
/// `site_revoked`; its history stays; a new enrolment code re-enrols the site elsewhere.
#[utoipa::path(post, path = "/api/v1/sites/{id}/revoke", tag = "admin", request_body = RevokeRequest,
    security(("site_token" = [])),
    params(("id" = String, Path, description = "The site to revoke")),
    responses(
        (status = 200, description = "Revoked", body = SiteSummary),
        (status = 400, description = "`bad_request`", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`, `site_revoked`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site", body = ErrorBody),
        (status = 409, description = "`conflict`: already revoked", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn revoke_site(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    district_only(&site, "revokes sites")?;
    let id = path(id)?;
    let request: RevokeRequest = read_json(body).await?;
    let revoked = with_master(&master, move |m| {
        let now = now_ms();
        let revoked = m.revoke_site(&id, &request.by, &request.reason, now)?;
        crate::directory_admin::record_revocation(
            m,
            &site.site_id,
            &request.by,
            &id,
            &request.reason,
            now,
        )?;
        Ok(revoked)
    })
    .await?;
    tracing::warn!(site = %revoked.id, "site revoked");
    Ok(Json(revoked).into_response())
}

/// Issue 13 §3 (D-2): the district's org tree, its users (never a password hash) and the latest
/// audited administrative changes, for the district's desktop.
#[utoipa::path(get, path = "/api/v1/admin/directory", tag = "admin",
    security(("site_token" = [])),
    responses(
        (status = 200, description = "The tree, the users and the latest changes", body = AdminDirectory),
        (status = 401, description = "`missing_token`, `bad_token`, `site_revoked`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn admin_directory(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    district_only(&site, "administers the district")?;
    let directory = with_master(&master, |m| {
        Ok(AdminDirectory {
            org_units: m.org_units()?,
            users: m.users()?,
            actions: m.admin_actions(crate::directory_admin::ACTIONS_SHOWN)?,
            server_time_ms: now_ms(),
        })
    })
    .await?;
    Ok(Json(directory).into_response())
}

/// Issue 13 §3 (D-2): one administrative change from the district's desktop (a township or
/// community, a site and its enrolment code, a user, a password reset, disabling or enabling a
/// user), kept in the district's audit with who asked.
#[utoipa::path(post, path = "/api/v1/admin/actions", tag = "admin", request_body = AdminCall,
    security(("site_token" = [])),
    responses(
        (status = 200, description = "Done and recorded; a new site's or re-enrolment's code is shown once", body = AdminOutcome),
        (status = 400, description = "`bad_request`: a name, role, level or password refused", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`, `site_revoked`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 404, description = "`not_found`: no such unit, site or user", body = ErrorBody),
        (status = 409, description = "`conflict`: e.g. resetting a disabled user's password", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn admin_action(
    State(master): State<SharedMaster>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    district_only(&site, "administers the district")?;
    let call: AdminCall = read_json(body).await?;
    let outcome = with_master(&master, move |m| {
        crate::directory_admin::perform(m, &site.site_id, &call, now_ms())
    })
    .await?;
    tracing::info!(
        action = %outcome.record.action,
        target = %crate::log_safe(&outcome.record.target),
        "administrative change"
    );
    Ok(Json(outcome).into_response())
}

/// Issue 13 §1 (D-1): the district closes a day now, as the nightly job would (yesterday when no day
/// is given); closing a day again keeps the earlier closing aside. Answers the closed day.
#[utoipa::path(post, path = "/api/v1/consolidation/close", tag = "district", request_body = CloseDayRequest,
    security(("site_token" = [])),
    responses(
        (status = 200, description = "The closed day, as `GET /api/v1/consolidation/latest` answers it"),
        (status = 400, description = "`bad_request`: not a date, or a day not yet over", body = ErrorBody),
        (status = 401, description = "`missing_token`, `bad_token`, `site_revoked`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a district site", body = ErrorBody),
        (status = 404, description = "`not_found`: this server keeps no closed days", body = ErrorBody),
        (status = 503, description = "`store_error`", body = ErrorBody)))]
async fn close_consolidation(
    State(master): State<SharedMaster>,
    axum::Extension(ConsolidationDir(dir)): axum::Extension<ConsolidationDir>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServerError> {
    let site = authenticate(&master, &headers).await?;
    district_only(&site, "closes a day")?;
    let (dir, silent_days) =
        dir.ok_or_else(|| ServerError::NotFound("no consolidation on this server".into()))?;
    let request: CloseDayRequest = read_json(body).await?;
    let now = now_ms();
    let day = match request
        .day
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(text) => jiceng_core::shanghai::parse_date(text).ok_or_else(|| {
            ServerError::BadRequest(format!(
                "day {:?} is not a date (YYYY-MM-DD)",
                crate::log_safe(text)
            ))
        })?,
        None => jiceng_core::consolidation::last_closed_day(now),
    };
    let closed = with_master(&master, move |m| {
        crate::consolidate::consolidate(m, &dir, day, silent_days, now)
    })
    .await?;
    tracing::info!(day = %closed.day, site = %site.site_id, "a day closed on the district's demand");
    Ok(Json(closed).into_response())
}
