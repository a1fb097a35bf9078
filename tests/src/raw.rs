//! Raw sync API calls and hand-made operation chains, for tests that play a client with odd data or bad
//! intent (issue 9).

use jiceng_core::hlc::Hlc;
use jiceng_core::op::{Operation, SCHEMA_VERSION};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    /// A client of the server at `base` (plain http, or an https enrolment address with its pin), which
    /// also reads the server's clock for [`now_ms`].
    pub async fn connect(base: String) -> Api {
        let endpoint = jiceng_core::tls::parse_endpoint(&base).expect("a usable address");
        let client = match &endpoint.pin {
            Some(pin) => reqwest::Client::builder()
                .tls_backend_preconfigured(
                    jiceng_core::tls::pinned_config(pin).expect("pinned TLS"),
                )
                .build()
                .expect("TLS client"),
            None => reqwest::Client::new(),
        };
        let api = Api {
            base: endpoint.url,
            client,
        };
        let (status, health) = api.get(None, "/api/v1/health").await;
        assert_eq!(status, 200, "{health}");
        let server_ms = health["server_time_ms"].as_u64().expect("server_time_ms");
        set_server_clock(server_ms);
        api
    }

    pub async fn push_raw(&self, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/api/v1/push", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn push(&self, token: &str, ops: &[Operation]) -> (u16, Value) {
        let body = serde_json::to_vec(&json!({ "db_instance_id": "test", "ops": ops })).unwrap();
        self.push_raw(Some(token), body).await
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The server's clock as this test last read it (its `/health`), moved on by the monotonic clock since:
/// tests take "now" from the server they started, never from the machine's date (which the test
/// command moves with faketime).
static SERVER_CLOCK: std::sync::Mutex<Option<(u64, std::time::Instant)>> =
    std::sync::Mutex::new(None);

/// Records the server's clock as just read (TestServer::start and [`Api::connect`] do).
pub fn set_server_clock(server_ms: u64) {
    *SERVER_CLOCK.lock().unwrap_or_else(|p| p.into_inner()) =
        Some((server_ms, std::time::Instant::now()));
}

/// A day in Asia/Shanghai (YYYY-MM-DD), `offset_days` from today on the server's clock.
pub fn shanghai_day(offset_days: i64) -> String {
    let today = jiceng_core::shanghai::today(now_ms());
    (today + chrono::Duration::days(offset_days))
        .format("%Y-%m-%d")
        .to_string()
}

/// Now, on the server's clock (read when a test server starts, or by [`Api::connect`]).
pub fn now_ms() -> u64 {
    let clock = SERVER_CLOCK.lock().unwrap_or_else(|p| p.into_inner());
    let (server_ms, read_at) = clock.expect("read the server's clock first (raw::Api::connect)");
    server_ms + read_at.elapsed().as_millis() as u64
}

/// Who writes for a site in [`chain`] (site id → user id), filled by `TestServer`.
static AUTHORS: std::sync::Mutex<BTreeMap<String, String>> = std::sync::Mutex::new(BTreeMap::new());

pub fn register_author(site_id: &str, user_id: &str) {
    AUTHORS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(site_id.to_string(), user_id.to_string());
}

/// The registered author of a site's operations; a site nobody registered writes as "u", which no
/// directory knows (the server holds such operations as `unknown_author`).
pub fn author_of(site_id: &str) -> String {
    AUTHORS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(site_id)
        .cloned()
        .unwrap_or_else(|| "u".to_string())
}

/// A chain of operations as a site would write them (valid hashes), by the site's registered author.
pub fn chain(
    site_id: &str,
    first_seq: u64,
    prev: &str,
    specs: &[(&str, &str, &str, Value, &str)],
) -> Vec<Operation> {
    // The server holds operations stamped before the site was registered (issue 9): write "now".
    chain_at(site_id, first_seq, prev, now_ms(), specs)
}

/// The same, with the writing PC's clock at `millis`.
pub fn chain_at(
    site_id: &str,
    first_seq: u64,
    prev: &str,
    millis: u64,
    specs: &[(&str, &str, &str, Value, &str)],
) -> Vec<Operation> {
    let mut prev = prev.to_string();
    let mut out = Vec::new();
    for (i, (table, row, field, value, scope)) in specs.iter().enumerate() {
        let mut op = Operation {
            site_id: site_id.to_string(),
            site_seq: first_seq + i as u64,
            prev_hash: prev.clone(),
            hash: String::new(),
            table: table.to_string(),
            row_id: row.to_string(),
            field: field.to_string(),
            value: value.clone(),
            hlc: Hlc::from_parts(millis + i as u64, 0),
            base: None,
            user_id: author_of(site_id),
            schema_version: SCHEMA_VERSION,
            scope: scope.to_string(),
            server_seq: None,
        };
        op.hash = op.compute_hash();
        prev = op.hash.clone();
        out.push(op);
    }
    out
}

pub fn unit_of(demo: &Value, site_name: &str) -> String {
    demo["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == site_name)
        .unwrap()["org_unit_id"]
        .as_str()
        .unwrap()
        .to_string()
}
