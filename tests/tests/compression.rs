//! Issue 12 §5: fewer bytes on the wire, negotiated. The server says in every response which request
//! encodings it takes; a zstd or gzip push is merged like a plain one; responses come compressed when
//! the client asks and plain when it does not; a body in an encoding the server does not take is a 400
//! with the server's own error code, and a compressed body that expands past the limit is a 413.

use jiceng_core::op::GENESIS_HASH;
use jiceng_tests::raw::{chain, Api};
use jiceng_tests::{Site, TestServer};
use serde_json::{json, Value};
use std::io::Write;

/// A push sent as the test says: its status, headers and JSON answer.
struct Push<'a> {
    client: &'a reqwest::Client,
    url: String,
    token: &'a str,
}

impl Push<'_> {
    async fn send(
        self,
        body: Vec<u8>,
        content_type: &str,
        encoding: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .post(self.url)
            .bearer_auth(self.token)
            .header("content-type", content_type)
            .body(body);
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_and_pulls_are_compressed_when_both_sides_say_so() {
    let (server, demo) = TestServer::start_demo("compression");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let api = Api::connect(server.url()).await;
    let unit = jiceng_tests::raw::unit_of(&demo, "北新桥街道司法所");
    let site = office.site_id();
    let specs: Vec<(&str, String, &str, Value, &str)> = (0..200)
        .map(|i| {
            (
                "corr_case",
                format!("zstd-row-{i}"),
                "org_unit_id",
                json!(unit.clone()),
                unit.as_str(),
            )
        })
        .collect();
    let specs: Vec<(&str, &str, &str, Value, &str)> = specs
        .iter()
        .map(|(t, r, f, v, s)| (*t, r.as_str(), *f, v.clone(), *s))
        .collect();
    let ops = chain(&site, 1, GENESIS_HASH, &specs);
    let json_body = serde_json::to_vec(&json!({ "db_instance_id": "test", "ops": ops })).unwrap();
    let client = reqwest::Client::builder()
        .no_zstd()
        .no_gzip()
        .build()
        .unwrap();
    let token = office.token();
    let push = |body: Vec<u8>, encoding: &'static str| {
        let sent = Push {
            client: &client,
            url: format!("{}/api/v1/push", server.url()),
            token: &token,
        };
        async move {
            let (status, headers, body) = sent.send(body, "application/json", Some(encoding)).await;
            (status, header(&headers, "accept-encoding"), body)
        }
    };
    // zstd: merged, and the answer advertises what the server takes.
    let packed = zstd::encode_all(json_body.as_slice(), 3).unwrap();
    assert!(
        packed.len() * 5 < json_body.len(),
        "{} vs {}",
        packed.len(),
        json_body.len()
    );
    let (status, advertised, body) = push(packed, "zstd").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        advertised.contains("zstd") && advertised.contains("gzip"),
        "{advertised}"
    );
    assert_eq!(body["acks"].as_array().map(Vec::len), Some(200));
    // gzip: the same push again is acknowledged (idempotent) and nothing doubles.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json_body).unwrap();
    let (status, _, body) = push(gz.finish().unwrap(), "gzip").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acks"].as_array().map(Vec::len), Some(200));
    // An encoding the server does not take: its own 400, nothing merged.
    let (status, _, body) = push(b"\x00\x01garbage".to_vec(), "br").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "bad_request", "{body}");
    // A small zstd body that expands past the push limit: 413, not a server busy decompressing.
    let bomb = zstd::encode_all(vec![b' '; 20 * 1024 * 1024].as_slice(), 19).unwrap();
    assert!(bomb.len() < 64 * 1024);
    let (status, _, body) = push(bomb, "zstd").await;
    assert_eq!(status, 413, "{body}");

    // Pulls: compressed when asked, plain when not.
    let url = format!("{}/api/v1/records/corr_case?limit=1000", server.url());
    let asked = client
        .get(&url)
        .bearer_auth(office.token())
        .header("accept-encoding", "zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(
        asked
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("zstd")
    );
    let packed = asked.bytes().await.unwrap();
    let unpacked: Value =
        serde_json::from_slice(&zstd::decode_all(packed.as_ref()).unwrap()).unwrap();
    let plain = client
        .get(&url)
        .bearer_auth(office.token())
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: Value = plain.json().await.unwrap();
    assert!(
        unpacked["records"] == plain["records"],
        "the compressed answer is the plain one"
    );
    assert!(plain["records"].as_array().map(Vec::len).unwrap_or(0) >= 200);
    // The desktop's own client does all of it by itself: a sync through it works as ever.
    office.sync().await.unwrap();
    drop(api);
}

/// Issue 12 §4, §5: the binary push body (jiceng-core's `codec::encode_push`) is merged like the JSON
/// one, which the server says in `Accept-Post`; the same operations sent again as JSON are recognised
/// as the same (one master, whichever body); a body that is not a binary push is a 400 with the
/// server's code, and nothing is merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_push_is_merged_like_the_json_one() {
    let (server, demo) = TestServer::start_demo("binary_push");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let unit = jiceng_tests::raw::unit_of(&demo, "北新桥街道司法所");
    let site = office.site_id();
    let rows: Vec<String> = (0..100).map(|i| format!("binary-row-{i}")).collect();
    let specs: Vec<(&str, &str, &str, Value, &str)> = rows
        .iter()
        .flat_map(|row| {
            [
                (
                    "corr_case",
                    row.as_str(),
                    "org_unit_id",
                    json!(unit),
                    unit.as_str(),
                ),
                (
                    "corr_case",
                    row.as_str(),
                    "name",
                    json!("𪚥binary"),
                    unit.as_str(),
                ),
            ]
        })
        .collect();
    let ops = chain(&site, 1, GENESIS_HASH, &specs);
    let push = jiceng_core::wire::PushRequest {
        db_instance_id: "test".into(),
        ops,
        divergent: Vec::new(),
    };
    let binary = jiceng_core::codec::encode_push(&push);
    let json_body = serde_json::to_vec(&push).unwrap();
    assert!(
        binary.len() * 4 < json_body.len(),
        "{} vs {}",
        binary.len(),
        json_body.len()
    );
    let client = reqwest::Client::new();
    let token = office.token();
    let send = |body: Vec<u8>, content_type: &'static str| {
        let sent = Push {
            client: &client,
            url: format!("{}/api/v1/push", server.url()),
            token: &token,
        };
        async move {
            let (status, headers, body) = sent.send(body, content_type, None).await;
            (status, header(&headers, "accept-post"), body)
        }
    };
    // Not a binary push: the server's 400, nothing merged.
    let (status, accepts, body) =
        send(b"\x05garbage".to_vec(), "application/vnd.jiceng.push").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "bad_request", "{body}");
    assert!(accepts.contains("application/vnd.jiceng.push"), "{accepts}");
    let cut = binary[..binary.len() / 2].to_vec();
    let (status, _, body) = send(cut, "application/vnd.jiceng.push; charset=binary").await;
    assert_eq!(status, 400, "a cut body: {body}");

    let (status, _, binary_answer) = send(binary, "application/vnd.jiceng.push").await;
    assert_eq!(status, 200, "{binary_answer}");
    assert_eq!(binary_answer["acks"].as_array().map(Vec::len), Some(200));
    assert_eq!(binary_answer["duplicates"], 0, "{binary_answer}");
    let (status, _, json_answer) = send(json_body, "application/json").await;
    assert_eq!(status, 200, "{json_answer}");
    assert_eq!(json_answer["duplicates"], 200, "{json_answer}");
    assert_eq!(
        json_answer["acks"], binary_answer["acks"],
        "the same operations, the same server_seqs"
    );
    // What the master holds is what was written, 4-byte characters included.
    let records: Value = client
        .get(format!(
            "{}/api/v1/records/corr_case?limit=1000",
            server.url()
        ))
        .bearer_auth(office.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let named = records["records"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r.to_string().contains("𪚥binary"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(named, 100, "{records}");
}

/// Issue 12 §5: a pull's answer comes in binary (`codec::encode_pull`) to a client that names the
/// type in `Accept`, and it is the JSON answer of the same request, operation for operation; a
/// client that does not name it (an older desktop, a browser, `*/*`) gets JSON. The desktop's own
/// sync asks for it (every multi-site test syncs through it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_comes_in_binary_to_a_client_that_asks_and_says_the_same() {
    let (server, demo) = TestServer::start_demo("binary_pull");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let user = office.login("officer1");
    for n in 0..40 {
        jiceng_tests::write_record(&mut office.lock(), &user, "拉取𪚥", 0, n).unwrap();
    }
    office.sync().await.unwrap();
    let client = reqwest::Client::new();
    let token = district.token();
    let pull = |accept: &'static str| {
        let request = client
            .get(format!(
                "{}/api/v1/pull?after=0&limit=10000&store_schema={}",
                server.url(),
                jiceng_core::store::STORE_SCHEMA
            ))
            .bearer_auth(&token)
            .header("accept", accept);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let content_type = header(response.headers(), "content-type");
            (content_type, response.bytes().await.unwrap().to_vec())
        }
    };
    let (json_type, json_body) = pull("application/json").await;
    assert_eq!(json_type, "application/json");
    let from_json: jiceng_core::wire::PullResponse = serde_json::from_slice(&json_body).unwrap();
    assert!(
        from_json
            .ops
            .iter()
            .filter(|o| o.site_id == office.site_id())
            .count()
            >= 40,
        "the office's operations reach the district"
    );
    for anything in [
        "*/*",
        "text/html, application/xhtml+xml;q=0.9",
        "application/vnd.jiceng.pull;q=0, application/json",
        "application/vnd.jiceng.pull; q=0.0",
    ] {
        assert_eq!(pull(anything).await.0, "application/json", "{anything}");
    }
    let (binary_type, binary_body) =
        pull("application/vnd.jiceng.pull, application/json;q=0.5").await;
    assert_eq!(binary_type, "application/vnd.jiceng.pull");
    let from_binary = jiceng_core::codec::decode_pull(&binary_body).unwrap();
    // Both answers as JSON values: the same page, the same operations (server_seqs included), the
    // same cursor; only the server's clock may have moved between the two requests.
    let mut json_value = serde_json::to_value(&from_json).unwrap();
    let mut binary_value = serde_json::to_value(&from_binary).unwrap();
    for value in [&mut json_value, &mut binary_value] {
        value["server_time_ms"] = Value::Null;
    }
    assert_eq!(binary_value, json_value);
    assert!(
        binary_body.len() * 3 < json_body.len(),
        "{} binary bytes vs {} JSON",
        binary_body.len(),
        json_body.len()
    );
}
