//! Issue 9: the server guards the master record by itself. Played as a laptop with odd data and as an
//! enrolled site with bad intent, through the real server: a content refusal holds that one operation
//! (acknowledged, quarantined with a code and zh/en reasons, never merged, an alarm), the rest of the
//! batch merges, the next push goes through, append-only records are never rewritten, a row's owner is
//! fixed, only the district completes a transfer, clocks are checked both ways, and the district
//! releases or rejects each held operation, the decision syncing back.

use jiceng_core::op::{Operation, GENESIS_HASH, SCHEMA_VERSION};
use jiceng_tests::master_view::truthy;
use jiceng_tests::raw::{chain, chain_at, now_ms, unit_of, Api};
use jiceng_tests::{Site, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn held_codes(body: &Value) -> BTreeMap<u64, String> {
    body["held"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|h| {
            (
                h["site_seq"].as_u64().unwrap(),
                h["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A text field of one master row (None when the row or the value is missing).
fn master_text(server: &TestServer, table: &str, field: &str, id: &str) -> Option<String> {
    server
        .master()
        .row(table, id)
        .and_then(|row| row.get(field).and_then(|v| v.as_str().map(str::to_string)))
}

/// The quarantine items (row id → status) a site's pull delivers.
async fn pulled_items(api: &Api, token: &str) -> BTreeMap<String, String> {
    let path = format!(
        "/api/v1/pull?after=0&limit=10000&store_schema={}",
        jiceng_core::store::STORE_SCHEMA
    );
    let (status, pulled) = api.get(Some(token), &path).await;
    assert_eq!(status, 200, "{pulled}");
    let mut items = BTreeMap::new();
    for op in pulled["ops"].as_array().unwrap() {
        if op["table"] == "sync_quarantine" && op["field"] == "status" {
            items.insert(
                op["row_id"].as_str().unwrap().to_string(),
                op["value"].as_str().unwrap().to_string(),
            );
        }
    }
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_of_1000_operations_with_3_poisoned_merges_997_and_the_next_push_goes_through() {
    let (server, demo) = TestServer::start_demo("guard-1000");
    let office = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let api = Api::connect(server.url()).await;
    let (token, site) = (office.token(), office.site_id());
    let unit = unit_of(&demo, "和平里街道司法所");
    let mut specs: Vec<(String, &str, Value)> = Vec::new();
    for i in 0..333 {
        let row = format!("bulk-{i:04}");
        let status = match i {
            10 => json!("junk"),
            30 => json!(""),
            _ => json!("received"),
        };
        let name = if i == 20 {
            json!("名".repeat(101))
        } else {
            json!(format!("张{i}"))
        };
        specs.push((row.clone(), "org_unit_id", json!(unit.clone())));
        specs.push((row.clone(), "name", name));
        specs.push((row, "status", status));
    }
    specs.push((
        "bulk-0000".to_string(),
        "address",
        json!("北京市东城区和平里"),
    ));
    let owned: Vec<(&str, &str, &str, Value, &str)> = specs
        .iter()
        .map(|(row, field, value)| {
            (
                "corr_case",
                row.as_str(),
                *field,
                value.clone(),
                unit.as_str(),
            )
        })
        .collect();
    let ops = chain(&site, 1, GENESIS_HASH, &owned);
    assert_eq!(ops.len(), 1000);
    let (status, body) = api.push(&token, &ops).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["acks"].as_array().unwrap().len(),
        1000,
        "every operation acknowledged"
    );
    let held = held_codes(&body);
    assert_eq!(
        held,
        BTreeMap::from([
            (33, "bad_code".to_string()),
            (62, "too_long".to_string()),
            (93, "bad_code".to_string()),
        ])
    );
    for h in body["held"].as_array().unwrap() {
        assert!(!h["reason_zh"].as_str().unwrap().is_empty(), "{h}");
        assert!(!h["reason"].as_str().unwrap().is_empty(), "{h}");
    }
    let master = server.master();
    let logged = master.logged_count(&site);
    let held_rows = master.held_of(&site).len() as u64;
    println!("1,000-operation push with 3 poisoned: {logged} merged, {held_rows} quarantined");
    assert_eq!((logged, held_rows), (997, 3));
    assert_eq!(
        master_text(&server, "corr_case", "status", "bulk-0010"),
        None,
        "the junk status never reached the master"
    );
    assert_eq!(
        master_text(&server, "corr_case", "name", "bulk-0010"),
        Some("张10".to_string()),
        "the rest of the poisoned row merged"
    );
    let alarms = master
        .alarms()
        .iter()
        .filter(|a| a.site_id.as_deref() == Some(site.as_str()) && a.code == "quarantine")
        .count();
    assert_eq!(alarms, 1, "one alarm for the push");
    // The same batch again (a lost reply): recognised, nothing doubled.
    let (status, again) = api.push(&token, &ops).await;
    assert_eq!((status, again["duplicates"].as_u64()), (200, Some(1000)));
    // The queue is not wedged: the next push goes through.
    let next = chain(
        &site,
        1001,
        &ops[999].hash,
        &[
            (
                "corr_case",
                "bulk-next",
                "org_unit_id",
                json!(unit.clone()),
                &unit,
            ),
            ("corr_case", "bulk-next", "name", json!("王五"), &unit),
        ],
    );
    let (status, body) = api.push(&token, &next).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["quarantined"], json!([]));
    assert_eq!(
        master_text(&server, "corr_case", "name", "bulk-next"),
        Some("王五".to_string())
    );
    // The office's desktop learns what was held, and counts it.
    office.sync().await.expect("sync");
    let store = office.lock();
    let held = store.held_write_count().unwrap();
    assert_eq!(held, 3);
    let marks = store
        .quarantined_writes_of("corr_case", "bulk-0010")
        .unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].status, "held");
    assert!(marks[0].reason_zh.contains("status"), "{:?}", marks[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_and_odd_operations_are_held_one_by_one_and_the_district_decides() {
    let (server, demo) = TestServer::start_demo("guard-hostile");
    let office_b = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let office_a = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let api = Api::connect(server.url()).await;
    let (token, site) = (office_b.token(), office_b.site_id());
    let unit_b = unit_of(&demo, "和平里街道司法所");
    let unit_a = unit_of(&demo, "北新桥街道司法所");
    let now_text = chrono::DateTime::from_timestamp_millis(now_ms() as i64)
        .unwrap()
        .to_rfc3339();
    let (b, a) = (unit_b.as_str(), unit_a.as_str());
    let first = chain(
        &site,
        1,
        GENESIS_HASH,
        &[
            ("corr_case", "rb", "org_unit_id", json!(b), b),
            ("corr_case", "rb", "name", json!("张𠀀"), b),
            ("corr_case", "rb", "sentence_start", json!("not a date"), b),
            ("corr_case", "rb", "status", json!("junk"), b),
            (
                "corr_case",
                "rb",
                "id_number",
                json!("110101199003074515"),
                b,
            ),
            ("corr_checkin", "c1", "org_unit_id", json!(b), b),
            ("corr_checkin", "c1", "case_id", json!("rb"), b),
            ("corr_checkin", "c1", "occurred_at", json!(now_text), b),
            ("corr_checkin", "c1", "method", json!("in_person"), b),
            ("secret_table", "x1", "name", json!("x"), b),
            ("corr_case", "rb", "nickname", json!("x"), b),
            ("corr_case", "rb", "name", json!(42), b),
            ("corr_case", "rx", "org_unit_id", json!(a), b),
            ("app_user", "u9", "role", json!("district_admin"), b),
            ("corr_case", "ry", "name", json!("无主的名字"), b),
            (
                "corr_case",
                "ry",
                "id_number",
                json!("110101199003074514"),
                b,
            ),
            ("corr_case", "rb", "address", json!("新版本写的"), b),
        ],
    );
    let mut first = first;
    // An operation written by a newer release (schema the server cannot read).
    first[16].schema_version = SCHEMA_VERSION + 1;
    rehash(&mut first, 16);
    let (status, body) = api.push(&token, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acks"].as_array().unwrap().len(), 17);
    let expected: BTreeMap<u64, String> = [
        (3, "bad_date"),
        (4, "bad_code"),
        (5, "bad_id_number"),
        (10, "unknown_table"),
        (11, "unknown_field"),
        (12, "bad_value"),
        (13, "out_of_scope"),
        (14, "table_not_writable"),
        (15, "row_without_owner"),
        (16, "row_without_owner"),
        (17, "upgrade_server"),
    ]
    .into_iter()
    .map(|(s, c)| (s, c.to_string()))
    .collect();
    assert_eq!(held_codes(&body), expected);
    assert_eq!(
        master_text(&server, "corr_case", "name", "rb"),
        Some("张𠀀".to_string())
    );
    assert_eq!(
        master_text(&server, "corr_checkin", "occurred_at", "c1"),
        Some(now_text.clone())
    );

    // History is never rewritten; a row's owner is fixed; only the county completes a transfer.
    let later = chrono::DateTime::from_timestamp_millis(now_ms() as i64 - 3_600_000)
        .unwrap()
        .to_rfc3339();
    let second = chain(
        &site,
        18,
        &first[16].hash,
        &[
            ("corr_checkin", "c1", "occurred_at", json!(later.clone()), b),
            ("corr_case", "rb", "org_unit_id", json!(a), b),
            ("corr_transfer", "t1", "org_unit_id", json!(b), b),
            ("corr_transfer", "t1", "case_id", json!("rb"), b),
            ("corr_transfer", "t1", "status", json!("completed"), b),
            ("corr_case", "rb", "name", json!("张三𠀀"), b),
            ("corr_checkin", "c1", "_deleted", json!(true), b),
        ],
    );
    let (status, body) = api.push(&token, &second).await;
    assert_eq!(status, 200, "{body}");
    let expected: BTreeMap<u64, String> = [
        (18, "append_only"),
        (19, "owner_change"),
        (22, "transfer_decision_reserved"),
    ]
    .into_iter()
    .map(|(s, c)| (s, c.to_string()))
    .collect();
    assert_eq!(held_codes(&body), expected);
    assert_eq!(
        master_text(&server, "corr_checkin", "occurred_at", "c1"),
        Some(now_text.clone()),
        "the check-in keeps the time it was recorded with"
    );
    assert_eq!(
        master_text(&server, "corr_case", "org_unit_id", "rb"),
        Some(unit_b.clone())
    );
    assert_eq!(
        master_text(&server, "corr_case", "name", "rb"),
        Some("张三𠀀".to_string()),
        "an ordinary edit of the same push merged"
    );
    let deleted = server
        .master()
        .row("corr_checkin", "c1")
        .is_some_and(|row| truthy(row.get("_deleted")));
    assert!(deleted, "the reversible deletion flag may change");

    // Clocks both ways: stamped before the site existed, and far ahead.
    let site_created = server
        .master()
        .sites()
        .into_iter()
        .find(|s| s.0 == site)
        .map(|s| s.3 as i64)
        .expect("the site");
    let early = chain_at(
        &site,
        25,
        &second[6].hash,
        site_created as u64 - 2 * 86_400_000,
        &[("corr_case", "rb", "address", json!("早于本机注册"), b)],
    );
    let ahead = chain_at(
        &site,
        26,
        &early[0].hash,
        now_ms() + 2 * 86_400_000,
        &[("corr_case", "rb", "address", json!("区里放行的地址"), b)],
    );
    let mut clocks = early.clone();
    clocks.extend(ahead);
    let (status, body) = api.push(&token, &clocks).await;
    assert_eq!(status, 200, "{body}");
    let expected: BTreeMap<u64, String> = [(25, "past_clock"), (26, "future_clock")]
        .into_iter()
        .map(|(s, c)| (s, c.to_string()))
        .collect();
    assert_eq!(held_codes(&body), expected);

    // L-12: the sealed-minor access log keeps who read the file and when.
    let access = chain(
        &site,
        27,
        &clocks[1].hash,
        &[
            ("corr_access_log", "a1", "org_unit_id", json!(b), b),
            ("corr_access_log", "a1", "case_id", json!("rb"), b),
            ("corr_access_log", "a1", "user_id", json!("officer-2"), b),
            (
                "corr_access_log",
                "a1",
                "accessed_at",
                json!(now_text.clone()),
                b,
            ),
        ],
    );
    let (status, body) = api.push(&token, &access).await;
    assert_eq!(
        (status, held_codes(&body)),
        (200, BTreeMap::new()),
        "{body}"
    );
    let rewrite = chain(
        &site,
        31,
        &access[3].hash,
        &[
            ("corr_access_log", "a1", "user_id", json!("nobody"), b),
            (
                "corr_access_log",
                "a1",
                "accessed_at",
                json!(later.clone()),
                b,
            ),
        ],
    );
    let (status, body) = api.push(&token, &rewrite).await;
    let expected: BTreeMap<u64, String> = [(31, "append_only"), (32, "append_only")]
        .into_iter()
        .map(|(s, c)| (s, c.to_string()))
        .collect();
    assert_eq!((status, held_codes(&body)), (200, expected));
    assert_eq!(
        master_text(&server, "corr_access_log", "user_id", "a1"),
        Some("officer-2".to_string()),
        "the access log keeps its reader"
    );

    // A workstation writing corrections, and the other office claiming the row without an owner: the
    // claim makes an empty row of its own, never B's name or ID number.
    let ws_unit = unit_of(&demo, "民安社区工作站");
    let ws = chain(
        &workstation.site_id(),
        1,
        GENESIS_HASH,
        &[(
            "corr_case",
            "rw",
            "org_unit_id",
            json!(ws_unit.clone()),
            &ws_unit,
        )],
    );
    let (status, body) = api.push(&workstation.token(), &ws).await;
    assert_eq!(
        (status, held_codes(&body)),
        (200, BTreeMap::from([(1, "table_not_writable".to_string())]))
    );
    let claim = chain(
        &office_a.site_id(),
        1,
        GENESIS_HASH,
        &[("corr_case", "ry", "org_unit_id", json!(a), a)],
    );
    let (status, _) = api.push(&office_a.token(), &claim).await;
    assert_eq!(status, 200);
    let (status, row) = api
        .get(Some(&office_a.token()), "/api/v1/records/corr_case/ry")
        .await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["record"]["name"], Value::Null, "{row}");
    assert_eq!(row["record"]["id_number"], Value::Null, "{row}");

    // The district reviews: a list, a release, a rejection, and what cannot be merged.
    let (status, list) = api.get(Some(&district.token()), "/api/v1/quarantine").await;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert!(items.len() >= 19, "{}", items.len());
    let (status, refused) = api.get(Some(&token), "/api/v1/quarantine").await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")));
    let decide = |seq: u64, decision: &str| json!({ "site_id": site, "site_seq": seq, "decision": decision, "decided_by": "区司法局 王科长", "note": "核实后处理" });
    let (status, body) = api
        .post(&token, "/api/v1/quarantine/decide", &decide(26, "release"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "an office cannot release"
    );
    let (status, body) = api
        .post(
            &district.token(),
            "/api/v1/quarantine/decide",
            &decide(26, "release"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["item"]["status"], "released");
    assert_eq!(
        master_text(&server, "corr_case", "address", "rb"),
        Some("区里放行的地址".to_string()),
        "a released operation merges as the site sent it"
    );
    let (status, body) = api
        .post(
            &district.token(),
            "/api/v1/quarantine/decide",
            &decide(4, "reject"),
        )
        .await;
    assert_eq!(
        (status, body["item"]["status"].as_str()),
        (200, Some("rejected")),
        "{body}"
    );
    let (status, body) = api
        .post(
            &district.token(),
            "/api/v1/quarantine/decide",
            &decide(4, "release"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "decided once"
    );
    let (status, body) = api
        .post(
            &district.token(),
            "/api/v1/quarantine/decide",
            &decide(10, "release"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );

    // The decisions sync back: the office sees its own items, the district all, the other office none.
    let b_items = pulled_items(&api, &token).await;
    assert_eq!(b_items.len(), 18, "{b_items:?}");
    assert_eq!(
        b_items.get(&format!("{site}:26")).map(String::as_str),
        Some("released")
    );
    assert_eq!(
        b_items.get(&format!("{site}:4")).map(String::as_str),
        Some("rejected")
    );
    assert!(pulled_items(&api, &office_a.token()).await.is_empty());
    // Issue 10 §4: a desktop of the previous release (it sends no store_schema) never receives the
    // rows of a table it does not know, or its pull would stop for good.
    let (status, old) = api
        .get(Some(&token), "/api/v1/pull?after=0&limit=10000")
        .await;
    assert_eq!(status, 200);
    let old_ops = old["ops"].as_array().unwrap();
    assert!(!old_ops.is_empty());
    assert!(
        old_ops.iter().all(|op| op["table"] != "sync_quarantine"),
        "an older desktop got rows it cannot read"
    );
    let d_items = pulled_items(&api, &district.token()).await;
    assert!(d_items.len() >= 19, "{}", d_items.len());
    let alarms: Vec<String> = server
        .master()
        .alarms()
        .into_iter()
        .filter(|a| a.site_id.as_deref() == Some(site.as_str()))
        .map(|a| a.code)
        .collect();
    assert!(
        alarms.len() >= 3,
        "every push that held something raised an alarm: {alarms:?}"
    );
    println!(
        "hostile site: {} operations held with codes, {} alarms, decisions synced back",
        b_items.len(),
        alarms.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reenrolled_site_continues_its_chain_and_a_retried_push_gets_its_acknowledgements() {
    let (server, demo) = TestServer::start_demo("guard-reenrol");
    let laptop = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let officer = laptop.login("officer1");
    let case = laptop
        .lock()
        .save_case(&officer, case_input("赵𠀀", "320102197812310026"))
        .unwrap();
    laptop.sync().await.unwrap();
    let site = laptop.site_id();
    let before: u64 = laptop.lock().own_log().unwrap().last().unwrap().site_seq;
    // The PC is reinstalled: a new, empty store enrols again with a new code for the same site.
    let code = server.new_code(&site);
    let path = std::env::temp_dir().join(format!("jiceng-reenrol-{}.sqlite", uuid::Uuid::now_v7()));
    let store = std::sync::Mutex::new(jiceng_core::Store::open(&path).unwrap());
    jiceng_core::sync::enrol(&store, &server.url(), &code)
        .await
        .expect("re-enrol");
    let officer = store
        .lock()
        .unwrap()
        .login("officer1", "jiceng-demo")
        .unwrap();
    store
        .lock()
        .unwrap()
        .save_case(&officer, case_input("钱𠀀", "110105198501011234"))
        .unwrap();
    jiceng_core::sync::sync_now(&store)
        .await
        .expect("sync after re-enrolment");
    let log = store.lock().unwrap().own_log().unwrap();
    // The new store took the site's earlier log from the master (issue 10 §3) and went on after it.
    assert_eq!(
        log.iter().map(|o| o.site_seq).collect::<Vec<_>>(),
        (1..=log.len() as u64).collect::<Vec<_>>()
    );
    let first_new = log.iter().find(|o| o.value == json!("钱𠀀")).unwrap();
    assert!(
        first_new.site_seq > before,
        "the new store continues the site's sequence"
    );
    assert_eq!(
        log.iter().filter(|o| o.site_seq <= before).count() as u64,
        before,
        "and holds the site's earlier writes again"
    );
    // A lost reply: the same operations again get their acknowledgements, not hash_mismatch.
    let api = Api::connect(server.url()).await;
    let token = store.lock().unwrap().identity().unwrap().unwrap().token;
    let (status, again) = api.push(&token, &log).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicates"].as_u64(), Some(log.len() as u64));
    // The master holds one contiguous chain for the site, both PCs' writes.
    let master = server.master();
    let ranges = master.log_ranges(&site);
    assert!(ranges.len() >= 2);
    let first = ranges.iter().map(|r| r.first_site_seq).min();
    let last = ranges.iter().map(|r| r.last_site_seq).max();
    assert_eq!((first, last), (Some(1), Some(log.last().unwrap().site_seq)));
    let names = ["赵𠀀", "钱𠀀"]
        .iter()
        .map(|name| master.rows_where("corr_case", "name", name).len())
        .sum::<usize>();
    assert_eq!(names, 2);
    let _ = case;
    let _ = std::fs::remove_file(&path);
}

fn case_input(name: &str, id_number: &str) -> jiceng_core::model::CaseInput {
    jiceng_core::model::CaseInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        kind: jiceng_core::model::CaseKind::Probation,
        sentence_start: "2026-01-05".into(),
        sentence_end: "2027-01-04".into(),
        org_unit_id: None,
        status: None,
        judgment_effective_on: None,
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    }
}

fn rehash(ops: &mut [Operation], from: usize) {
    for i in from..ops.len() {
        if i > 0 {
            ops[i].prev_hash = ops[i - 1].hash.clone();
        }
        ops[i].hash = ops[i].compute_hash();
    }
}

/// Issue 11 §5: the server checks every operation's author against the permission matrix again: a
/// community clerk's name on a corrections record, or a user of another township, is held; the
/// office's own officer merges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_is_held_when_its_author_may_not_write_it() {
    let (server, demo) = TestServer::start_demo("guard-author");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let api = Api::connect(server.url()).await;
    let unit = unit_of(&demo, "北新桥街道司法所");
    let master = server.master();
    let user = |username: &str| -> String {
        master.rows_where("app_user", "username", username)[0]["id"]
            .as_str()
            .expect("user id")
            .to_string()
    };
    let signed = |seq: u64, prev: &str, row: &str, author: &str| {
        let mut op = chain(
            &office.site_id(),
            seq,
            prev,
            &[(
                "corr_case",
                row,
                "org_unit_id",
                json!(unit.clone()),
                unit.as_str(),
            )],
        )
        .remove(0);
        op.user_id = author.to_string();
        op.hash = op.compute_hash();
        op
    };
    // clerk1 works at 民安社区, under 北新桥; officer2 at 和平里.
    let by_clerk = signed(1, GENESIS_HASH, "author-1", &user("clerk1"));
    let by_stranger = signed(2, &by_clerk.hash, "author-2", &user("officer2"));
    let by_officer = signed(3, &by_stranger.hash, "author-3", &user("officer1"));
    // A made-up author (no account of the district has this id).
    let by_nobody = signed(4, &by_officer.hash, "author-4", "0192f3a4-made-up-user");
    let (status, body) = api
        .push(
            &office.token(),
            &[by_clerk, by_stranger, by_officer, by_nobody],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let held = held_codes(&body);
    assert_eq!(
        held,
        BTreeMap::from([
            (1, "role_not_permitted".to_string()),
            (2, "user_not_of_site".to_string()),
            (4, "unknown_author".to_string()),
        ])
    );
    assert_eq!(
        master_text(&server, "corr_case", "org_unit_id", "author-4"),
        None,
        "a made-up author's row does not merge"
    );
    assert_eq!(
        master_text(&server, "corr_case", "org_unit_id", "author-3"),
        Some(unit.clone()),
        "the office's own officer merges"
    );
    assert_eq!(
        master_text(&server, "corr_case", "org_unit_id", "author-1"),
        None
    );
}
