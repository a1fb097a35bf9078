//! Issue 13 §1 (D-1): the district closes a day. On demand from the CLI (the server closes each day
//! on its own at 02:00 Asia/Shanghai; the schedule's rule is core's, unit-tested), the day's directory
//! holds the district's record as a read-only store file the desktop's code opens, the day's C-21
//! statistics and workbook, and a reconciliation per site; the district desktop reads the last closed
//! day from the server, an office may not. Runs on both backends (`JICENG_TEST_MASTER=postgres`).

use jiceng_tests::raw::now_ms;
use jiceng_tests::{write_record, Site, TestServer};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_closes_a_day_into_a_record_statistics_and_a_reconciliation() {
    let (server, demo) = TestServer::start_demo("consolidation");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let officer = office.login("officer1");
    let clerk = workstation.login("clerk1");
    for n in 0..12 {
        write_record(&mut office.lock(), &officer, "汇总", 0, n).unwrap();
        write_record(&mut workstation.lock(), &clerk, "汇总", 1, n).unwrap();
    }
    office.sync().await.unwrap();
    workstation.sync().await.unwrap();

    // Nothing closed yet: the district is told so; an office may not ask.
    let client = reqwest::Client::new();
    let latest = |token: String| {
        let client = client.clone();
        let url = format!("{}/api/v1/consolidation/latest", server.url());
        async move {
            let answer = client.get(url).bearer_auth(token).send().await.unwrap();
            let status = answer.status().as_u16();
            (status, answer.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = latest(district.token()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));

    // Today (the server's Shanghai date) closed on demand.
    let day = jiceng_core::shanghai::today(now_ms())
        .format("%Y-%m-%d")
        .to_string();
    let dir = server.consolidation_dir();
    let closed: Value = serde_json::from_str(&server.cli(&[
        "consolidate",
        "--day",
        &day,
        "--consolidation-dir",
        dir.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(closed["day"], Value::String(day.clone()));
    let day_dir = dir.join(&day);
    for file in ["district.sqlite", "consolidation.json", "statistics.xlsx"] {
        let meta = std::fs::metadata(day_dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(meta.permissions().readonly(), "{file} is read-only");
    }

    // The record opens with the desktop's own code and holds the district's rows.
    let record = jiceng_core::store::Store::open(&day_dir.join("district.sqlite")).unwrap();
    let master = server.master();
    for table in ["corr_case", "resident", "org_unit"] {
        let in_record: i64 = record
            .connection()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            in_record as usize,
            master.table(table).len(),
            "{table}: the record holds the district's rows"
        );
    }
    assert!(closed["rows"].as_u64().unwrap() > 24);

    // The statistics: the office's cases are counted, at the day's end.
    let units = closed["statistics"]["units"].as_array().expect("units");
    assert!(!units.is_empty(), "{}", closed["statistics"]);
    assert!(
        closed["statistics"].to_string().contains("北新桥"),
        "the office's unit is in the report"
    );

    // The reconciliation: today's operations per site; a site that never sent is silent.
    let sites = closed["sites"].as_array().unwrap();
    let site = |id: &str| sites.iter().find(|s| s["site_id"] == id).unwrap().clone();
    let office_day = site(&office.site_id());
    assert_eq!(
        office_day["operations_received"].as_u64(),
        Some(office.lock().own_log().unwrap().len() as u64)
    );
    assert_eq!(office_day["silent"], Value::Bool(false));
    assert_eq!(office_day["held"], 0);
    let never = sites
        .iter()
        .find(|s| s["operations_received"] == 0 && s["last_received_ms"].is_null())
        .expect("a demo site that never synced");
    assert_eq!(never["silent"], Value::Bool(true));

    // The district desktop reads the last closed day from the server; an office may not.
    let (status, body) = latest(district.token()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["day"], Value::String(day.clone()));
    assert_eq!(body["sites"], closed["sites"]);
    let (status, body) = latest(office.token()).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));

    // Closing the day again keeps the first closing aside, never deletes it.
    server.cli(&[
        "consolidate",
        "--day",
        &day,
        "--consolidation-dir",
        dir.to_str().unwrap(),
    ]);
    let aside = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{day}.replaced-"))
        })
        .count();
    assert_eq!(aside, 1);
    // A day that has not begun is refused.
    let tomorrow = jiceng_core::shanghai::today(now_ms() + 2 * 86_400_000)
        .format("%Y-%m-%d")
        .to_string();
    let refused = std::process::Command::new(jiceng_tests::server_binary())
        .args([
            "--db",
            server.master_path().to_str().unwrap(),
            "consolidate",
            "--day",
            &tomorrow,
        ])
        .arg("--consolidation-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("has not begun"));
    println!(
        "consolidation: {day} closed into {} rows, {} sites reconciled",
        closed["rows"],
        sites.len()
    );
}

/// D-1 on demand from the district's screen: the district's desktop closes a day through the API
/// (yesterday by default) and reads it back; an office may not; a day not yet over or not a date is
/// a 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_desktop_closes_a_day_on_demand() {
    let (server, demo) = TestServer::start_demo("consolidation-demand");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let admin = district.login("admin");

    let yesterday = jiceng_core::consolidation::last_closed_day(now_ms())
        .format("%Y-%m-%d")
        .to_string();
    let closed = jiceng_core::district_sites::close_day(&district.store, &admin, None)
        .await
        .expect("the district closes yesterday");
    assert_eq!(closed.day, yesterday);
    let latest = jiceng_core::district_sites::latest_consolidation(&district.store, &admin)
        .await
        .unwrap()
        .expect("a closed day");
    assert_eq!(latest.day, yesterday);
    assert!(server.consolidation_dir().join(&yesterday).is_dir());

    let refused =
        jiceng_core::district_sites::close_day(&office.store, &office.login("officer1"), None)
            .await;
    assert!(refused.is_err(), "an office closes no day");
    let api = jiceng_tests::raw::Api::connect(server.url()).await;
    for (day, code) in [("2999-01-01", 400), ("不是日期", 400)] {
        let (status, body) = api
            .post(
                &district.token(),
                "/api/v1/consolidation/close",
                &serde_json::json!({ "day": day }),
            )
            .await;
        assert_eq!(status, code, "{day}: {body}");
        assert_eq!(body["code"], "bad_request");
    }
    let (status, _) = api
        .post(
            &office.token(),
            "/api/v1/consolidation/close",
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 403);
}
