//! The sync API refuses bad input with a 4xx and a machine code (never a 5xx), is idempotent on
//! (site id, site_seq), and raises an alarm for a known operation arriving with a different hash.

use jiceng_core::op::GENESIS_HASH;
use jiceng_tests::raw::{chain, chain_at, now_ms, unit_of, Api};
use jiceng_tests::{Site, TestServer};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_with_a_machine_code() {
    let (server, demo) = TestServer::start_demo("api");
    let office_b = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let api = Api::connect(server.url()).await;
    let token = office_b.token();
    let site_b = office_b.site_id();
    let unit_b = unit_of(&demo, "和平里街道司法所");
    let unit_a = unit_of(&demo, "北新桥街道司法所");
    let mut codes = Vec::new();

    let cases: Vec<(&str, u16, &str, (u16, Value))> = vec![
        (
            "no token",
            401,
            "missing_token",
            api.push_raw(None, b"{}".to_vec()).await,
        ),
        (
            "wrong token",
            401,
            "bad_token",
            api.push_raw(Some("nope"), b"{}".to_vec()).await,
        ),
        (
            "malformed JSON",
            400,
            "bad_request",
            api.push_raw(Some(&token), b"{\"ops\": [".to_vec()).await,
        ),
        (
            "wrong types",
            400,
            "bad_request",
            api.push_raw(
                Some(&token),
                br#"{"db_instance_id": 5, "ops": "x"}"#.to_vec(),
            )
            .await,
        ),
        (
            "an operation of another site",
            400,
            "bad_operation",
            api.push(
                &token,
                &chain(
                    &workstation.site_id(),
                    1,
                    GENESIS_HASH,
                    &[(
                        "corr_case",
                        "r1",
                        "org_unit_id",
                        json!(unit_b.clone()),
                        &unit_b,
                    )],
                ),
            )
            .await,
        ),
        (
            "a hash that does not match the operation",
            400,
            "bad_operation",
            api.push(&token, &{
                let mut forged = chain(
                    &site_b,
                    1,
                    GENESIS_HASH,
                    &[(
                        "corr_case",
                        "r1",
                        "org_unit_id",
                        json!(unit_b.clone()),
                        &unit_b,
                    )],
                );
                forged[0].value = json!(unit_a.clone());
                forged
            })
            .await,
        ),
        (
            "a gap in site_seq",
            409,
            "sequence_gap",
            api.push(
                &token,
                &chain(
                    &site_b,
                    5,
                    GENESIS_HASH,
                    &[("corr_case", "r1", "name", json!("x"), &unit_b)],
                ),
            )
            .await,
        ),
        (
            "bad pull cursor",
            400,
            "bad_request",
            api.get(Some(&token), "/api/v1/pull?after=minus-one").await,
        ),
        (
            "unknown route",
            404,
            "not_found",
            api.get(None, "/api/v2/everything").await,
        ),
        (
            "a path that is not valid percent-encoded UTF-8",
            400,
            "bad_request",
            api.get(Some(&token), "/api/v1/records/%FF%FE").await,
        ),
        (
            "a method the path does not take",
            405,
            "method_not_allowed",
            {
                let response = api
                    .client
                    .delete(format!("{}/api/v1/push", api.base))
                    .send()
                    .await
                    .expect("send");
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or(Value::Null))
            },
        ),
        (
            "records of an unknown table",
            422,
            "unknown_table",
            api.get(Some(&token), "/api/v1/records/sqlite_master").await,
        ),
        (
            "workstation reading corrections records",
            404,
            "not_found",
            api.get(Some(&workstation.token()), "/api/v1/records/corr_case")
                .await,
        ),
        (
            "oversized body",
            413,
            "body_too_large",
            api.push_raw(Some(&token), vec![b' '; 9 * 1024 * 1024])
                .await,
        ),
    ];
    for (what, status, code, (got_status, body)) in cases {
        assert_eq!(
            (got_status, body["code"].as_str().unwrap_or("")),
            (status, code),
            "{what}: {body}"
        );
        assert!(
            body["server_time_ms"].as_u64().unwrap_or(0) > 0,
            "{what}: no server time"
        );
        assert!(
            !body["message"].as_str().unwrap_or("").is_empty(),
            "{what}: no message"
        );
        codes.push(code);
    }
    // A pull with a cursor past the end returns nothing (and keeps the cursor). (The site's cursor
    // was given under this build's store schema: the pull says so, or it would be re-initialised.)
    let (status, past) = api
        .get(
            Some(&token),
            &format!(
                "/api/v1/pull?after=999999999&limit=10&store_schema={}",
                jiceng_core::store::STORE_SCHEMA
            ),
        )
        .await;
    assert_eq!(past["reinitialise"], Value::Null, "{past}");
    assert_eq!(status, 200);
    assert_eq!(past["ops"], json!([]));
    assert_eq!(past["has_more"], json!(false));
    assert_eq!(past["next_cursor"], json!(999999999));
    // Nothing of the refused pushes reached the master or its log.
    let master = server.master();
    let rows = ["r1", "r2"]
        .iter()
        .filter(|id| master.row("corr_case", id).is_some())
        .count();
    assert_eq!(rows, 0);
    assert_eq!(master.log_ranges(&site_b).len(), 0);
    println!(
        "server API: {} bad inputs refused with 4xx codes {:?}",
        codes.len(),
        codes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_are_idempotent_and_a_changed_operation_is_an_alarm() {
    let (server, demo) = TestServer::start_demo("idempotent");
    let office_b = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let api = Api::connect(server.url()).await;
    let token = office_b.token();
    let site_b = office_b.site_id();
    let unit_b = unit_of(&demo, "和平里街道司法所");
    let ops = chain(
        &site_b,
        1,
        GENESIS_HASH,
        &[
            (
                "corr_case",
                "r1",
                "org_unit_id",
                json!(unit_b.clone()),
                &unit_b,
            ),
            ("corr_case", "r1", "name", json!("𠀀"), &unit_b),
            ("corr_case", "r1", "status", json!("received"), &unit_b),
        ],
    );
    let (status, first) = api.push(&token, &ops).await;
    assert_eq!(status, 200, "{first}");
    // The response was "lost": the same batch again, and once more overlapping with a new operation.
    let (status, again) = api.push(&token, &ops).await;
    assert_eq!(status, 200);
    assert_eq!(again["duplicates"], 3);
    assert_eq!(
        again["acks"], first["acks"],
        "a retried push gets the same server_seqs"
    );
    let mut extended = ops.clone();
    extended.extend(chain(
        &site_b,
        4,
        &ops[2].hash,
        &[(
            "corr_case",
            "r1",
            "sentence_end",
            json!("2027-01-01"),
            &unit_b,
        )],
    ));
    let (status, overlap) = api.push(&token, &extended).await;
    assert_eq!(status, 200);
    assert_eq!(overlap["duplicates"], 3);
    let master = server.master();
    assert_eq!(
        master.logged_count(&site_b),
        4,
        "nothing doubled in the audit log"
    );
    let name = master.row("corr_case", "r1").expect("r1")["name"].clone();
    assert_eq!(name, json!("𠀀"));

    // A clone of the site's database writes a different operation under a known site_seq.
    let forged = chain(
        &site_b,
        1,
        GENESIS_HASH,
        &[("corr_case", "r1", "name", json!("改"), &unit_b)],
    );
    let (status, body) = api.push(&token, &forged).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (409, "hash_mismatch"),
        "{body}"
    );
    assert_eq!(master.alarm_count("hash_mismatch"), 1);
    // A continuation that does not chain onto the last accepted operation is refused too.
    let broken = chain(
        &site_b,
        5,
        "00",
        &[("corr_case", "r1", "name", json!("改"), &unit_b)],
    );
    let (status, body) = api.push(&token, &broken).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (409, "hash_mismatch")
    );
    let name = master.row("corr_case", "r1").expect("r1")["name"].clone();
    assert_eq!(
        name,
        json!("𠀀"),
        "the forged value never reached the master"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_from_a_clock_far_ahead_are_quarantined_not_merged_nor_dropped() {
    let (server, demo) = TestServer::start_demo("future-clock");
    let office_b = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let api = Api::connect(server.url()).await;
    let token = office_b.token();
    let site_b = office_b.site_id();
    let unit_b = unit_of(&demo, "和平里街道司法所");
    // The laptop's clock says two days from now.
    let ahead = now_ms() + 2 * 86_400_000;
    let future = chain_at(
        &site_b,
        1,
        GENESIS_HASH,
        ahead,
        &[("corr_case", "rf", "name", json!("未来"), &unit_b)],
    );
    let (status, body) = api.push(&token, &future).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["quarantined"], json!([1]));
    // Retried: recognised, not doubled.
    let (_, again) = api.push(&token, &future).await;
    assert_eq!(again["duplicates"], 1);
    // The chain continues once the clock is right.
    let now = now_ms();
    let next = chain_at(
        &site_b,
        2,
        &future[0].hash,
        now,
        &[
            (
                "corr_case",
                "rf",
                "org_unit_id",
                json!(unit_b.clone()),
                &unit_b,
            ),
            ("corr_case", "rf", "status", json!("received"), &unit_b),
        ],
    );
    let (status, body) = api.push(&token, &next).await;
    assert_eq!(
        (status, body["quarantined"].clone()),
        (200, json!([])),
        "{body}"
    );

    let master = server.master();
    let name = master.row("corr_case", "rf").expect("rf")["name"].clone();
    assert_eq!(
        name,
        Value::Null,
        "the future value never won in the master"
    );
    let kept = master.held_of(&site_b).len();
    assert_eq!(kept, 1, "the quarantined operation is kept");
    let alarms = master.alarm_count("future_clock");
    assert_eq!(alarms, 1);
    // Nobody receives it: the district's pull has the status, not the name.
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let (_, pulled) = api
        .get(Some(&district.token()), "/api/v1/pull?after=0&limit=10000")
        .await;
    let fields: Vec<&str> = pulled["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|op| op["row_id"] == "rf")
        .map(|op| op["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["org_unit_id", "status"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d2_a_site_added_by_the_admin_enrols_once_with_its_one_time_code() {
    let (server, mut demo) = TestServer::start_demo("d2-enrol");
    // The district admin registers a second laptop through the admin CLI; its code enrols it once.
    server.add_site_like(&mut demo, "北新桥街道司法所", "北新桥街道司法所-外勤笔记本");
    let code = demo["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "北新桥街道司法所-外勤笔记本")
        .unwrap()["enrolment_code"]
        .as_str()
        .unwrap()
        .to_string();
    let laptop = Site::enrol(&server, &demo, "北新桥街道司法所-外勤笔记本").await;
    assert!(!laptop.token().is_empty());
    // The same code a second time: refused with a machine code, no second site.
    let again = reqwest::Client::new()
        .post(format!("{}/api/v1/enrol", server.url()))
        .json(&serde_json::json!({
            "code": code,
            "device_label": "another PC",
            "db_instance_id": "x"
        }))
        .send()
        .await
        .unwrap();
    let status = again.status().as_u16();
    let body: Value = again.json().await.unwrap();
    assert_eq!(
        (status, body["code"].as_str().unwrap_or("")),
        (401, "bad_code")
    );
    let sites = server
        .master()
        .sites()
        .iter()
        .filter(|s| s.1 == "北新桥街道司法所-外勤笔记本")
        .count();
    assert_eq!(sites, 1);
}
