//! The sync client: push unacknowledged operations in batches, then pull from the cursor.
//!
//! The store lock is never held across a network call, so the desktop stays usable while syncing. An
//! operation is marked sent only after the server acknowledged it; a failed or cut push is simply
//! retried and the server recognises what it already has.

use crate::error::CoreError;
use crate::model::{AppInfo, SyncStatus};
use crate::store::{SiteIdentity, Store};
use crate::wire::{EnrolRequest, EnrolResponse, ErrorBody, PullResponse, PushRequest, API_PREFIX};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use thiserror::Error;

pub const PUSH_BATCH: usize = 1000;
pub const PULL_LIMIT: usize = 5000;

#[derive(Debug, Error)]
pub enum SyncError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("cannot reach the sync server at {url}: {detail}. Check the network or try again later; work continues offline")]
    Network { url: String, detail: String },
    #[error("the sync server refused the request ({status} {code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected answer from the sync server: {0}. Check the server address")]
    Protocol(String),
    #[error("the sync server address {0:?} is not a valid http:// or https:// URL")]
    BadUrl(String),
    /// The server presented another certificate than the district's pinned one (issue 11 §2).
    #[error("the server at {0} did not present the district's pinned certificate; refused (someone may be impersonating it, or the district changed its certificate: ask for the new address)")]
    Certificate(String),
    /// An enrolment address that cannot be used (issue 11 §2: https without its pin, plain http
    /// beyond this PC).
    #[error(transparent)]
    Endpoint(#[from] crate::tls::EndpointError),
    /// A sync bundle (USB) that cannot be used (issue 10 §7).
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
}

impl SyncError {
    pub fn code(&self) -> &str {
        match self {
            SyncError::Core(e) => e.code(),
            SyncError::Network { .. } => "offline",
            SyncError::Server { code, .. } => code,
            SyncError::Protocol(_) => "protocol",
            SyncError::BadUrl(_) => "bad_url",
            SyncError::Bundle(e) => e.code(),
            SyncError::Endpoint(e) => e.code(),
            SyncError::Certificate(_) => "tls_certificate",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            SyncError::Core(e) => e.message_zh(),
            SyncError::Network { .. } => "无法连接同步服务器，数据已保存在本机，网络恢复后会自动上传。".to_string(),
            SyncError::Server { code, .. } if crate::bundle::BundleError::zh_for_code(code).is_some() => {
                crate::bundle::BundleError::zh_for_code(code).unwrap_or_default().to_string()
            }
            SyncError::Server { code, .. } => match code.as_str() {
                "bad_code" => "注册码无效、已使用或已过期，请向区司法局管理员索取新的注册码。".to_string(),
                "bad_token" => "本机的同步凭证已失效，请联系区司法局管理员重新注册本机。".to_string(),
                "site_revoked" => "本机已被区司法局停用，不能再同步。本机未上传的记录仍完整保存在本机：请在“设置 → U盘同步”中导出，交区司法局处理；如需继续使用，请向区司法局索取新的注册码。".to_string(),
                "out_of_scope" => "有记录超出本站的管辖范围，服务器拒绝接收，请联系区司法局管理员。".to_string(),
                "hash_mismatch" => "服务器发现本机数据与已上传的记录不一致（可能是复制或恢复的数据库），请联系区司法局管理员。".to_string(),
                "upgrade_server" => "服务器版本过旧，请联系区司法局升级同步服务器。".to_string(),
                "forbidden" => "只有区司法局可以处理被暂扣的记录。".to_string(),
                "conflict" => "这条记录已经处理过，或无法并入区级总库（请选择不予接受）。".to_string(),
                "not_found" => "服务器上没有找到这条记录。".to_string(),
                _ => format!("同步服务器拒绝了请求（{code}），请联系区司法局管理员。"),
            },
            SyncError::Protocol(_) => "同步服务器的应答无法识别，请检查服务器地址是否正确。".to_string(),
            SyncError::BadUrl(_) => "服务器地址格式不正确，应以 http:// 或 https:// 开头。".to_string(),
            SyncError::Bundle(e) => e.message_zh(),
            SyncError::Endpoint(e) => e.message_zh().to_string(),
            SyncError::Certificate(_) => "服务器出示的证书与区司法局登记的不一致，可能有人冒充同步服务器，已拒绝连接。请联系区司法局核实服务器地址和证书指纹。".to_string(),
        }
    }

    fn is_offline(&self) -> bool {
        matches!(self, SyncError::Network { .. })
    }
}

pub(crate) fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    // A panic while holding the lock leaves the store consistent (SQLite rolled the transaction back).
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sync API's HTTP client for an enrolled site (timeouts, and TLS pinned to its district).
pub(crate) fn http_client(identity: &SiteIdentity) -> Result<reqwest::Client, SyncError> {
    http(identity.tls_pin.as_deref())
}

/// Reads a sync API answer: the body on success, the server's error code and message otherwise.
pub(crate) async fn read_answer<T: serde::de::DeserializeOwned>(
    url: &str,
    response: reqwest::Response,
) -> Result<T, SyncError> {
    read(url, response).await
}

/// Issue 11 §2: https is pinned to the district's certificate; plain http reaches only this PC (the
/// address was checked at enrolment, `crate::tls::parse_endpoint`).
fn http(pin: Option<&str>) -> Result<reqwest::Client, SyncError> {
    crate::tls::ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(120));
    if let Some(pin) = pin {
        let config =
            crate::tls::pinned_config(pin).map_err(|e| SyncError::Protocol(e.to_string()))?;
        builder = builder.tls_backend_preconfigured(config);
    }
    builder
        .build()
        .map_err(|e| SyncError::Protocol(e.to_string()))
}

fn normalise_url(url: &str, allow_plain_http: bool) -> Result<crate::tls::Endpoint, SyncError> {
    let trimmed = url.trim();
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) || trimmed.len() < 10 {
        return Err(SyncError::BadUrl(trimmed.to_string()));
    }
    Ok(crate::tls::parse_endpoint_with(trimmed, allow_plain_http)?)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) async fn read<T: serde::de::DeserializeOwned>(
    url: &str,
    response: reqwest::Response,
) -> Result<T, SyncError> {
    note_request_encodings(url, response.headers());
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| SyncError::Network {
        url: url.to_string(),
        detail: e.to_string(),
    })?;
    if status.is_success() {
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()))
    } else {
        let body: ErrorBody = serde_json::from_slice(&bytes).map_err(|_| SyncError::Server {
            status: status.as_u16(),
            code: "http_error".to_string(),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
        })?;
        Err(SyncError::Server {
            status: status.as_u16(),
            code: body.code,
            message: body.message,
        })
    }
}

/// Issue 12 §5: the servers (by base address) that said, in the `Accept-Encoding` of a response, that
/// they take zstd request bodies. Kept for the process: the first push after a start goes plain, the
/// answer says, and the rest go compressed. A server of an older release never says so and is never
/// sent a body it cannot read.
static ZSTD_SERVERS: Mutex<std::collections::BTreeSet<String>> =
    Mutex::new(std::collections::BTreeSet::new());

fn server_base(url: &str) -> &str {
    url.split(API_PREFIX).next().unwrap_or(url)
}

/// Issue 12 §4, §5: the servers (by base address) whose responses list the binary push body in
/// `Accept-Post`; learnt and kept as [`ZSTD_SERVERS`] is. Others are sent JSON.
static BINARY_PUSH_SERVERS: Mutex<std::collections::BTreeSet<String>> =
    Mutex::new(std::collections::BTreeSet::new());

fn note_request_encodings(url: &str, headers: &reqwest::header::HeaderMap) {
    let takes_binary_push = headers
        .get_all(crate::wire::ACCEPT_POST)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(crate::wire::PUSH_BINARY_TYPE));
    if takes_binary_push {
        BINARY_PUSH_SERVERS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(server_base(url).to_string());
    }
    let accepts_zstd = headers
        .get_all(reqwest::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.trim().eq_ignore_ascii_case("zstd"));
    if accepts_zstd {
        ZSTD_SERVERS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(server_base(url).to_string());
    }
}

/// A push's body: binary to a server that takes it, else JSON; zstd-compressed when the server
/// takes that: (bytes, Content-Type, Content-Encoding).
pub(crate) fn push_body(
    url: &str,
    push: &PushRequest,
) -> Result<(Vec<u8>, &'static str, Option<&'static str>), SyncError> {
    let binary = BINARY_PUSH_SERVERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(server_base(url));
    if !binary {
        let (bytes, encoding) = request_body(url, push)?;
        return Ok((bytes, "application/json", encoding));
    }
    let (bytes, encoding) = compressed_if_taken(url, crate::codec::encode_push(push))?;
    Ok((bytes, crate::wire::PUSH_BINARY_TYPE, encoding))
}

/// A JSON request body, zstd-compressed when the server takes it: (bytes, Content-Encoding).
fn request_body<T: serde::Serialize>(
    url: &str,
    value: &T,
) -> Result<(Vec<u8>, Option<&'static str>), SyncError> {
    let json = serde_json::to_vec(value).map_err(|e| SyncError::Protocol(e.to_string()))?;
    compressed_if_taken(url, json)
}

fn compressed_if_taken(
    url: &str,
    json: Vec<u8>,
) -> Result<(Vec<u8>, Option<&'static str>), SyncError> {
    let compress = ZSTD_SERVERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(server_base(url));
    if !compress {
        return Ok((json, None));
    }
    let packed = zstd::encode_all(json.as_slice(), PUSH_ZSTD_LEVEL)
        .map_err(|e| SyncError::Protocol(format!("compressing the request: {e}")))?;
    Ok((packed, Some("zstd")))
}

/// zstd's default level: about 1 ms per 1,000 operations, a fifth of the bytes.
const PUSH_ZSTD_LEVEL: i32 = 3;

pub(crate) fn network(url: &str, e: reqwest::Error) -> SyncError {
    // A certificate other than the pinned one is not a network failure: say so (issue 11 §2).
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(cause) = source {
        if cause.to_string().contains(crate::tls::NOT_PINNED) {
            return SyncError::Certificate(url.to_string());
        }
        source = cause.source();
    }
    SyncError::Network {
        url: url.to_string(),
        detail: e.to_string(),
    }
}

/// Exchanges a one-time enrolment code for this desktop's identity and token, then syncs once so the
/// org tree and the users arrive (login works offline afterwards).
pub async fn enrol(
    store: &Mutex<Store>,
    server_url: &str,
    code: &str,
) -> Result<AppInfo, SyncError> {
    enrol_with(store, server_url, code, false).await
}

/// [`enrol`], with plain http to another machine allowed by an explicit choice (issue 11 §2).
pub async fn enrol_with(
    store: &Mutex<Store>,
    server_url: &str,
    code: &str,
    allow_plain_http: bool,
) -> Result<AppInfo, SyncError> {
    let endpoint = normalise_url(server_url, allow_plain_http)?;
    let server_url = endpoint.url.clone();
    if lock(store).identity()?.is_some() {
        return Err(SyncError::Core(CoreError::invalid(
            "code",
            "this desktop is already enrolled",
            "本机已经注册，无需再次注册",
        )));
    }
    let request = EnrolRequest {
        code: code.to_string(),
        device_label: hostname(),
        db_instance_id: lock(store).instance_id()?,
    };
    let url = format!("{server_url}{API_PREFIX}/enrol");
    let response = http(endpoint.pin.as_deref())?
        .post(&url)
        .json(&request)
        .send()
        .await
        .map_err(|e| network(&url, e))?;
    let enrolled: EnrolResponse = read(&url, response).await?;
    lock(store).continue_site_log(enrolled.last_seq, &enrolled.last_hash)?;
    lock(store).set_identity(&SiteIdentity {
        site_id: enrolled.site_id,
        site_name: enrolled.site_name,
        org_unit_id: enrolled.org_unit_id,
        org_unit_name: enrolled.org_unit_name,
        server_url,
        token: enrolled.token,
        tls_pin: endpoint.pin,
    })?;
    sync_now(store).await?;
    let info = lock(store).app_info("")?;
    Ok(info)
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "desktop".to_string())
}

/// The district's decision on one operation the server holds (issue 9), sent with this (district)
/// site's token; then a sync brings the decided item (and a released value) back.
pub async fn decide_quarantine(
    store: &Mutex<Store>,
    decision: crate::wire::QuarantineDecision,
) -> Result<SyncStatus, SyncError> {
    let identity = lock(store).identity()?.ok_or(CoreError::NotEnrolled)?;
    let url = format!("{}{API_PREFIX}/quarantine/decide", identity.server_url);
    let response = http_client(&identity)?
        .post(&url)
        .bearer_auth(&identity.token)
        .json(&decision)
        .send()
        .await
        .map_err(|e| network(&url, e))?;
    let _: serde_json::Value = read(&url, response).await?;
    sync_now(store).await
}

/// Push everything unacknowledged, then pull everything new. Records the outcome in the store's sync
/// status (shown in the status bar) whether it succeeds or fails.
pub async fn sync_now(store: &Mutex<Store>) -> Result<SyncStatus, SyncError> {
    let started = now_ms();
    lock(store).set_sync_activity(Some("正在连接同步服务器".to_string()));
    let outcome = push_then_pull(store).await;
    let mut guard = lock(store);
    guard.set_sync_activity(None);
    let mut status = guard.sync_status()?;
    status.last_attempt_at = Some(crate::shanghai::from_millis(started).to_rfc3339());
    match &outcome {
        Ok(exchange) => {
            status.online = Some(true);
            status.last_success_at = status.last_attempt_at.clone();
            let offset_ms = guard.record_server_time(exchange.server_time_ms)?;
            status.clock_skew_secs = Some(offset_ms / 1000);
            status.last_error = adopted_message(exchange.adopted)
                .or_else(|| held_message(exchange.quarantined, &exchange.held));
            status.last_retries = exchange.retries;
            status.last_scope_notice = scope_notice(exchange.left_scope, exchange.reinitialised);
        }
        Err(e) => {
            status.online = Some(!e.is_offline());
            status.last_error = Some(e.message_zh());
        }
    }
    guard.save_sync_status(&status)?;
    let status = guard.sync_status()?;
    drop(guard);
    outcome.map(|_| status)
}

/// What the clerk reads when the server held operations of this push (issue 9): how many, and the
/// reason of the first kind, in Chinese.
fn held_message(count: usize, held: &[crate::wire::HeldOperation]) -> Option<String> {
    if count == 0 {
        return None;
    }
    let clock = held
        .iter()
        .all(|h| h.code == "future_clock" || h.code == "past_clock");
    Some(if clock && !held.is_empty() {
        format!(
            "本机时钟与服务器相差过大，{count}条记录已被服务器暂扣，未进入区级总库。请校准本机时间，并联系区司法局处理。"
        )
    } else {
        let first = held.first().map(|h| h.reason_zh.as_str()).unwrap_or("");
        format!("{count}条记录未被区里接受（{first}），等待区司法局审核，其余记录已正常同步。")
    })
}

/// What the clerk reads when records left this PC because they left the office's scope (issue 10 §5).
fn scope_notice(left: usize, reinitialised: Option<crate::store::Reinitialised>) -> Option<String> {
    match (left, reinitialised) {
        (_, Some(done)) => Some(format!(
            "本站的数据范围或版本已变化，已从服务器重新下载本站范围内的全部记录；{}条不再属于本站的记录已从本机移除（区级总库保留全部历史），本机未上传的记录均已保留。",
            done.swept + left
        )),
        (0, None) => None,
        (n, None) => Some(format!(
            "{n}条记录已随案件移交至其他单位，已从本机移除；区级总库保留全部历史。"
        )),
    }
}

/// What the clerk reads when this store turned out to be a restored or copied one (issue 10 §3).
fn adopted_message(adopted: crate::store::Adopted) -> Option<String> {
    if adopted.taken == 0 && adopted.divergent == 0 {
        return None;
    }
    Some(format!(
        "本机数据与服务器上本站的记录不一致（可能是从备份恢复或复制的数据库）：已从服务器补回{}条本站记录；本机另写的{}条记录已保留，并交区司法局审核。如这是复制到另一台电脑的数据库，请联系区司法局为该电脑重新注册。",
        adopted.taken, adopted.divergent
    ))
}

/// What one push-then-pull saw.
pub(crate) struct Exchange {
    server_time_ms: u64,
    /// Operations the server acknowledged but held in quarantine.
    pub(crate) quarantined: usize,
    /// Why (issue 9).
    pub(crate) held: Vec<crate::wire::HeldOperation>,
    /// Requests sent again after a network failure or a cut answer.
    pub(crate) retries: u32,
    /// What catching up with the master's copy of this site's log took and set aside.
    adopted: crate::store::Adopted,
    /// Rows the server said left this site's scope (issue 10 §5).
    left_scope: usize,
    /// A full re-initialisation ended in this exchange.
    reinitialised: Option<crate::store::Reinitialised>,
}

async fn push_then_pull(store: &Mutex<Store>) -> Result<Exchange, SyncError> {
    let identity = lock(store).identity()?.ok_or(CoreError::NotEnrolled)?;
    let client = http_client(&identity)?;
    let mut exchange = Exchange {
        server_time_ms: 0,
        quarantined: 0,
        held: Vec::new(),
        retries: 0,
        adopted: Default::default(),
        left_scope: 0,
        reinitialised: None,
    };
    // A master restored from a backup (issue 10 §6) makes the site pull again and send again what it
    // lacks: then push and pull once more. A few rounds at most, whatever the server answers.
    for round in 1..=MAX_RESYNC_ROUNDS {
        let pushed = crate::sync_push::push_all(store, &identity, &client, &mut exchange).await;
        // A gap means the master lacks operations it once acknowledged; a hash mismatch, that it holds
        // other operations under this store's numbers (a restored or copied store): the pull says
        // which, and the store catches up.
        let gap = matches!(&pushed, Err(SyncError::Server { code, .. })
            if code == "sequence_gap" || code == "hash_mismatch");
        if !gap {
            pushed?;
        }
        match pull_all(store, &identity, &client, &mut exchange).await? {
            Some(server_time_ms) if !gap => {
                exchange.server_time_ms = server_time_ms;
                rotate_token_when_due(store, &identity, &client).await;
                return Ok(exchange);
            }
            _ if round == MAX_RESYNC_ROUNDS => break,
            _ => continue,
        }
    }
    Err(SyncError::Protocol(
        "the server's log and this desktop's disagree after resending; tell the district administrator".to_string(),
    ))
}

/// Issue 11 §3: asks the server for a new token when this one is 30 days old. A failure changes nothing
/// (the current token stays valid) and is tried again at the next sync.
async fn rotate_token_when_due(
    store: &Mutex<Store>,
    identity: &SiteIdentity,
    client: &reqwest::Client,
) {
    let due = {
        let guard = lock(store);
        let now = guard.wall_millis();
        guard
            .token_issued_ms()
            .map(|issued| crate::auth::token_rotation_due(issued, now))
            .unwrap_or(false)
    };
    if !due {
        return;
    }
    let url = format!("{}{API_PREFIX}/token/rotate", identity.server_url);
    let rotated: Result<crate::wire::TokenRotated, SyncError> = async {
        let response = client
            .post(&url)
            .bearer_auth(&identity.token)
            .send()
            .await
            .map_err(|e| network(&url, e))?;
        read(&url, response).await
    }
    .await;
    match rotated {
        Ok(rotated) => {
            if let Err(e) = lock(store).replace_token(&rotated.token) {
                eprintln!("[jiceng] could not keep the rotated token: {e}");
            }
        }
        Err(e) => eprintln!("[jiceng] token rotation failed, kept the current token: {e}"),
    }
}

/// Issue 11 §1: the site's recovery code, for the desktop to wrap its store's key (it keeps no copy).
pub async fn fetch_recovery_code(store: &Mutex<Store>) -> Result<String, SyncError> {
    let identity = lock(store).identity()?.ok_or(CoreError::NotEnrolled)?;
    let client = http(identity.tls_pin.as_deref())?;
    let url = format!("{}{API_PREFIX}/recovery-code", identity.server_url);
    let response = client
        .post(&url)
        .bearer_auth(&identity.token)
        .send()
        .await
        .map_err(|e| network(&url, e))?;
    let answer: crate::wire::RecoveryCode = read(&url, response).await?;
    Ok(answer.recovery_code)
}

/// Rounds of push-then-pull one sync may take to catch up with a restored master.
const MAX_RESYNC_ROUNDS: u32 = 4;

/// Pulls until nothing is left; returns the server's clock, or None when the master turned out to be
/// another copy (restored) and the site must push and pull again. The store's page cache is large
/// for the pull's merges and small again after it, however the pull ends (store/page_cache.rs).
async fn pull_all(
    store: &Mutex<Store>,
    identity: &SiteIdentity,
    client: &reqwest::Client,
    exchange: &mut Exchange,
) -> Result<Option<u64>, SyncError> {
    lock(store).bulk_page_cache(true)?;
    let pulled = pull_all_merging(store, identity, client, exchange).await;
    let rested = lock(store).bulk_page_cache(false);
    let server_time = pulled?;
    rested?;
    Ok(server_time)
}

async fn pull_all_merging(
    store: &Mutex<Store>,
    identity: &SiteIdentity,
    client: &reqwest::Client,
    exchange: &mut Exchange,
) -> Result<Option<u64>, SyncError> {
    // Issue 12 §6: a store that never pulled starts from the master's snapshot of its scope.
    if lock(store).wants_snapshot()? {
        crate::sync_snapshot::fetch_snapshot(store, identity, client, &mut exchange.retries, None)
            .await?;
    }
    lock(store).set_sync_activity(Some("正在下载".to_string()));
    let mut next_page: Option<PrefetchedPage> = None;
    loop {
        let cursor = lock(store).pull_cursor()?;
        let url = pull_url(identity, cursor);
        let prefetched = match next_page.take() {
            Some(mut page) if page.after == cursor => {
                (&mut page.task).await.ok().and_then(Result::ok)
            }
            _ => None,
        };
        let pulled = match prefetched {
            Some(pulled) => pulled,
            None => {
                let (url, token) = (&url, &identity.token);
                with_retries(store, &mut exchange.retries, || async move {
                    fetch_pull(client, url, token).await
                })
                .await?
            }
        };
        if let Some(reason) = &pulled.reinitialise {
            // Issue 10 §5: the cursor was given under another scope or schema; the server answers a
            // cursor of 0 in full, so a second request to re-initialise is a broken server.
            if cursor == 0 {
                return Err(SyncError::Protocol(format!(
                    "the server asks to re-initialise ({reason}) a pull from the start"
                )));
            }
            let mut guard = lock(store);
            guard.begin_reinitialise(reason)?;
            guard.set_sync_activity(Some("正在重新下载本站范围内的全部记录".to_string()));
            continue;
        }
        let decided = {
            let guard = lock(store);
            let known = guard.known_master_id()?;
            crate::resync::resync(&crate::resync::MasterFacts {
                known_master: known.as_deref(),
                master: &pulled.master_id,
                site_last_seq: pulled.site_last_seq,
                acked_up_to: guard.acked_up_to()?,
            })
        };
        if decided != crate::resync::Resync::default() {
            lock(store).apply_resync(&decided)?;
            if let Some(after) = decided.catch_up_after {
                let adopted = catch_up_own_log(store, identity, client, exchange, after).await?;
                exchange.adopted.taken += adopted.taken;
                exchange.adopted.divergent += adopted.divergent;
                return Ok(None);
            }
            if decided.restart_pull || decided.resend_after.is_some() {
                return Ok(None);
            }
        }
        if pulled.has_more {
            // The next page is asked for while this one merges: on a laptop back from weeks offline
            // the two take about as long (issue 12 §5). Taken only if the cursor is where it expected.
            next_page = Some(PrefetchedPage::ask(client, identity, pulled.next_cursor));
        }
        lock(store).apply_pull(&pulled.ops, &pulled.left_scope, pulled.next_cursor)?;
        exchange.left_scope += pulled.left_scope.len();
        if !pulled.has_more {
            if let Some(done) = lock(store).finish_reinitialise()? {
                exchange.reinitialised = Some(done);
            }
            return Ok(Some(pulled.server_time_ms));
        }
    }
}

fn pull_url(identity: &SiteIdentity, after: u64) -> String {
    format!(
        "{}{API_PREFIX}/pull?after={after}&limit={PULL_LIMIT}&store_schema={}",
        identity.server_url,
        crate::store::STORE_SCHEMA
    )
}

/// One pull request, its answer in binary when the server has it (`codec::encode_pull`), else JSON.
async fn fetch_pull(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<PullResponse, SyncError> {
    let accept = format!("{}, application/json;q=0.5", crate::wire::PULL_BINARY_TYPE);
    let response = client
        .get(url)
        .bearer_auth(token)
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .map_err(|e| network(url, e))?;
    let binary = response.status().is_success()
        && response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(crate::wire::PULL_BINARY_TYPE));
    if !binary {
        return read(url, response).await;
    }
    note_request_encodings(url, response.headers());
    let bytes = response.bytes().await.map_err(|e| network(url, e))?;
    crate::codec::decode_pull(&bytes)
        .map_err(|e| SyncError::Protocol(format!("the server's binary pull answer: {e}")))
}

/// The next pull page, asked for (once, without retries) while the current one merges. If it fails,
/// or the cursor moved elsewhere (a restored master, a re-initialisation), it is dropped and the page
/// asked for again the usual way.
struct PrefetchedPage {
    after: u64,
    task: tokio::task::JoinHandle<Result<PullResponse, SyncError>>,
}

impl PrefetchedPage {
    fn ask(client: &reqwest::Client, identity: &SiteIdentity, after: u64) -> Self {
        let (client, url, token) = (
            client.clone(),
            pull_url(identity, after),
            identity.token.clone(),
        );
        PrefetchedPage {
            after,
            task: tokio::spawn(async move { fetch_pull(&client, &url, &token).await }),
        }
    }
}

impl Drop for PrefetchedPage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Takes this site's own operations after `after` from the master into the store (issue 10 §3).
async fn catch_up_own_log(
    store: &Mutex<Store>,
    identity: &SiteIdentity,
    client: &reqwest::Client,
    exchange: &mut Exchange,
    after: u64,
) -> Result<crate::store::Adopted, SyncError> {
    lock(store).set_sync_activity(Some("正在与服务器核对本站记录".to_string()));
    let mut ops: Vec<crate::op::Operation> = Vec::new();
    let mut from = after;
    loop {
        let url = format!(
            "{}{API_PREFIX}/own?after={from}&limit={PULL_LIMIT}",
            identity.server_url
        );
        let page: crate::wire::OwnLogResponse =
            get_with_retries(store, client, &url, &identity.token, &mut exchange.retries).await?;
        from = page.ops.last().map_or(from, |op| op.site_seq);
        let more = page.has_more && !page.ops.is_empty();
        ops.extend(page.ops);
        if !more {
            break;
        }
    }
    let now = lock(store).wall_millis();
    Ok(lock(store).adopt_own_log(&ops, now)?)
}

/// A GET of the sync API with the site's token, retried like every sync request.
pub(crate) async fn get_with_retries<T: serde::de::DeserializeOwned>(
    store: &Mutex<Store>,
    client: &reqwest::Client,
    url: &str,
    token: &str,
    retries: &mut u32,
) -> Result<T, SyncError> {
    with_retries(store, retries, || async move {
        let response = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| network(url, e))?;
        read(url, response).await
    })
    .await
}

/// Attempts per request before a sync gives up (the periodic sync tries again later).
pub const REQUEST_ATTEMPTS: u32 = 5;
/// The first retry's delay; each next one doubles, with ±50 % jitter so that offices cut off by the
/// same outage do not come back in step.
const RETRY_BASE_MS: u64 = 200;

/// The delay before retry `attempt` (1-based): RETRY_BASE_MS·2^(attempt-1), jittered by `jitter` in
/// [0, 1) to between half and one and a half of it.
pub fn backoff_ms(attempt: u32, jitter: f64) -> u64 {
    let base = RETRY_BASE_MS.saturating_mul(1 << attempt.saturating_sub(1).min(10));
    (base as f64 * (0.5 + jitter.clamp(0.0, 1.0))) as u64
}

/// Whether a failed request may simply be sent again: the network failed, or the answer was cut.
fn retryable(e: &SyncError) -> bool {
    matches!(e, SyncError::Network { .. } | SyncError::Protocol(_))
}

/// Runs `request` until it succeeds, fails for a reason a retry cannot fix, or has been tried
/// REQUEST_ATTEMPTS times; counts the retries.
pub(crate) async fn with_retries<T, F, Fut>(
    store: &Mutex<Store>,
    retries: &mut u32,
    request: F,
) -> Result<T, SyncError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SyncError>>,
{
    with_retries_after(None, store, retries, request).await
}

/// [`with_retries`] when the first attempt was made elsewhere (the pipelined push's, on a task of its
/// own) and `first` is its result: a retryable failure is followed by the same backoff and the rest of
/// the attempts.
pub(crate) async fn with_retries_after<T, F, Fut>(
    mut first: Option<Result<T, SyncError>>,
    store: &Mutex<Store>,
    retries: &mut u32,
    mut request: F,
) -> Result<T, SyncError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SyncError>>,
{
    let mut attempt = 1;
    loop {
        let result = match first.take() {
            Some(result) => result,
            None => request().await,
        };
        match result {
            Err(e) if retryable(&e) && attempt < REQUEST_ATTEMPTS => {
                let jitter: f64 = rand::random();
                let wait = backoff_ms(attempt, jitter);
                lock(store).set_sync_activity(Some(format!(
                    "网络不稳定，{:.1}秒后第{}次重试",
                    wait as f64 / 1000.0,
                    attempt
                )));
                tokio::time::sleep(Duration::from_millis(wait)).await;
                attempt += 1;
                *retries += 1;
            }
            other => return other,
        }
    }
}

/// Ends a full batch before the last row's run of operations, so that one write of a row (a new row's
/// fields, which the server judges together) never straddles two pushes; a batch that is one row's
/// run alone is sent as it is.
pub fn keep_rows_whole(ops: &mut Vec<crate::op::Operation>) {
    let Some(last) = ops.last() else {
        return;
    };
    let (table, row) = (last.table.clone(), last.row_id.clone());
    let keep = ops
        .iter()
        .rposition(|o| o.table != table || o.row_id != row)
        .map(|i| i + 1);
    if let Some(keep) = keep {
        ops.truncate(keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::op::Operation;

    fn op(seq: u64, row: &str) -> Operation {
        Operation {
            site_id: "s".into(),
            site_seq: seq,
            prev_hash: String::new(),
            hash: String::new(),
            table: "corr_checkin".into(),
            row_id: row.into(),
            field: "note".into(),
            value: serde_json::Value::Null,
            hlc: Hlc(seq),
            base: None,
            user_id: "u".into(),
            schema_version: 1,
            scope: "o".into(),
            server_seq: None,
        }
    }

    #[test]
    fn a_full_batch_never_cuts_a_rows_write_in_two() {
        let mut ops = vec![op(1, "a"), op(2, "a"), op(3, "b"), op(4, "b")];
        keep_rows_whole(&mut ops);
        assert_eq!(
            ops.iter().map(|o| o.site_seq).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let mut one_row = vec![op(1, "a"), op(2, "a")];
        keep_rows_whole(&mut one_row);
        assert_eq!(one_row.len(), 2, "a batch of one row's run is sent whole");
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter() {
        assert_eq!(backoff_ms(1, 0.5), 200);
        assert_eq!(backoff_ms(2, 0.5), 400);
        assert_eq!(backoff_ms(3, 0.5), 800);
        assert_eq!(backoff_ms(1, 0.0), 100, "half at the least");
        assert_eq!(backoff_ms(1, 0.999_999), 299, "one and a half at the most");
        assert!(backoff_ms(40, 0.5) <= 200 * 1024, "bounded");
    }

    /// The pipelined push makes its first attempt on a task of its own and hands the result here:
    /// a success or a refusal is returned as it is, a network failure is followed by the usual
    /// backoff and the remaining attempts (not an immediate resend, not one attempt too many).
    #[tokio::test]
    async fn a_first_attempt_made_elsewhere_counts_as_the_first_of_the_attempts() {
        let store = Mutex::new(Store::open_in_memory().unwrap());
        let lost = || SyncError::Network {
            url: "http://127.0.0.1:9".into(),
            detail: "reset".into(),
        };
        let refused = SyncError::Server {
            status: 409,
            code: "sequence_gap".into(),
            message: "gap".into(),
        };
        let calls = std::cell::Cell::new(0u32);
        let mut retries = 0;
        let answer = with_retries_after(Some(Ok(7)), &store, &mut retries, || async {
            calls.set(calls.get() + 1);
            Ok(8)
        })
        .await;
        assert_eq!((answer.unwrap(), calls.get(), retries), (7, 0, 0));

        let answer: Result<u32, SyncError> =
            with_retries_after(Some(Err(refused)), &store, &mut retries, || async {
                calls.set(calls.get() + 1);
                Ok(8)
            })
            .await;
        assert_eq!(answer.unwrap_err().code(), "sequence_gap");
        assert_eq!(
            (calls.get(), retries),
            (0, 0),
            "a refusal is not sent again"
        );

        let started = std::time::Instant::now();
        let answer = with_retries_after(Some(Err(lost())), &store, &mut retries, || async {
            calls.set(calls.get() + 1);
            Ok(9)
        })
        .await;
        assert_eq!((answer.unwrap(), calls.get(), retries), (9, 1, 1));
        assert!(
            started.elapsed() >= Duration::from_millis(backoff_ms(1, 0.0)),
            "the first retry waits its backoff"
        );

        calls.set(0);
        retries = 0;
        let answer: Result<u32, SyncError> =
            with_retries_after(Some(Err(lost())), &store, &mut retries, || async {
                calls.set(calls.get() + 1);
                Err(lost())
            })
            .await;
        assert!(answer.is_err());
        assert_eq!(
            calls.get() + 1,
            REQUEST_ATTEMPTS,
            "the first attempt and the rest make REQUEST_ATTEMPTS"
        );
    }

    #[test]
    fn the_clerk_reads_why_operations_were_held() {
        let held = vec![crate::wire::HeldOperation {
            site_seq: 7,
            code: "bad_date".into(),
            reason: "bad".into(),
            reason_zh: "日期无效".into(),
        }];
        let text = held_message(1, &held).unwrap();
        assert!(
            text.contains("未被区里接受") && text.contains("日期无效"),
            "{text}"
        );
        assert!(held_message(0, &[]).is_none());
    }

    /// Issue 12 §4, §5: a push goes in binary only to a server whose answers listed the binary body
    /// in `Accept-Post`; to any other (an older release) it goes as JSON, and either way compressed
    /// only where the server said it takes zstd.
    #[test]
    fn a_push_goes_binary_only_to_a_server_that_said_it_takes_it() {
        let push = PushRequest {
            db_instance_id: "i".into(),
            ops: vec![op(1, "r1"), op(2, "r1")],
            divergent: vec![2],
        };
        let (old, new) = ("http://old.test:1", "http://new.test:1");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            crate::wire::ACCEPT_POST,
            "application/json, application/vnd.jiceng.push"
                .parse()
                .unwrap(),
        );
        note_request_encodings(&format!("{new}{API_PREFIX}/pull"), &headers);
        let (bytes, content_type, encoding) =
            push_body(&format!("{old}{API_PREFIX}/push"), &push).unwrap();
        assert_eq!((content_type, encoding), ("application/json", None));
        let sent: PushRequest = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(sent.ops, push.ops);
        let (bytes, content_type, encoding) =
            push_body(&format!("{new}{API_PREFIX}/push"), &push).unwrap();
        assert_eq!(
            (content_type, encoding),
            (crate::wire::PUSH_BINARY_TYPE, None)
        );
        let sent = crate::codec::decode_push(&bytes).unwrap();
        assert_eq!(
            (sent.ops, sent.divergent),
            (push.ops.clone(), push.divergent.clone())
        );
        headers.insert(reqwest::header::ACCEPT_ENCODING, "zstd".parse().unwrap());
        note_request_encodings(&format!("{new}{API_PREFIX}/pull"), &headers);
        let (bytes, _, encoding) = push_body(&format!("{new}{API_PREFIX}/push"), &push).unwrap();
        assert_eq!(encoding, Some("zstd"));
        let sent = crate::codec::decode_push(&zstd::decode_all(bytes.as_slice()).unwrap()).unwrap();
        assert_eq!(sent.ops, push.ops);
    }
}
