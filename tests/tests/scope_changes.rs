//! Issue 10 §5: scope changes. A row that leaves a site's read scope is removed from its store (the
//! L-6 handover is tested end to end in `transfer.rs`); a site whose pull cursor can no longer be
//! served incrementally (its store's schema or its scope changed since the cursor was given) is told
//! to re-initialise and does so: it pulls everything again, keeps and sends its unsent operations,
//! drops what no longer belongs to it and ends equal to the master within its scope.

use jiceng_core::op::GENESIS_HASH;
use jiceng_core::store::PREVIOUS_RELEASE_SCHEMA;
use jiceng_tests::raw::{chain, unit_of, Api};
use jiceng_tests::{assert_site_equals_scoped_master, write_record, Site, TestServer};
use serde_json::json;

fn count(site: &Site, sql: &str) -> i64 {
    site.lock()
        .connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_given_under_the_previous_schema_makes_the_site_reinitialise_without_losing_work()
{
    let (server, demo) = TestServer::start_demo("reinit");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let officer = office.login("officer1");
    for n in 0..30 {
        write_record(&mut office.lock(), &officer, "范", 0, n).unwrap();
    }
    office.sync().await.unwrap();

    // Another office's PC sends a write the server holds: a quarantine item, a table the previous
    // release did not have (schema 28), which only the district reads of that office.
    let raw_office = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let unit = unit_of(&demo, "和平里街道司法所");
    let ops = chain(
        &raw_office.site_id(),
        1,
        GENESIS_HASH,
        &[
            (
                "corr_case",
                "held-1",
                "org_unit_id",
                json!(unit),
                unit.as_str(),
            ),
            (
                "corr_case",
                "held-1",
                "status",
                json!("junk"),
                unit.as_str(),
            ),
        ],
    );
    let api = Api::connect(server.url()).await;
    let (status, body) = api.push(&raw_office.token(), &ops).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["quarantined"], json!([2]), "{body}");

    // The district's PC still ran the previous release: it pulled everything it knew then, which
    // leaves out the quarantine items.
    let token = district.token();
    let mut after = 0u64;
    let mut pulled = Vec::new();
    loop {
        let (status, page) = api
            .get(
                Some(&token),
                &format!(
                    "/api/v1/pull?after={after}&limit=500&store_schema={PREVIOUS_RELEASE_SCHEMA}"
                ),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let ops: Vec<jiceng_core::op::Operation> =
            serde_json::from_value(page["ops"].clone()).unwrap();
        assert!(ops.iter().all(|op| op.table != "sync_quarantine"));
        pulled.extend(ops);
        after = page["next_cursor"].as_u64().unwrap();
        if page["has_more"] != json!(true) {
            break;
        }
    }
    district.lock().apply_remote(&pulled, after).unwrap();
    assert!(after > 0);
    assert_eq!(count(&district, "SELECT COUNT(*) FROM sync_quarantine"), 0);
    // Since then it holds a row the master never had (what a scope it lost would leave behind), and
    // the upgraded PC writes before its first sync.
    district
        .lock()
        .connection()
        .execute_batch(
            "CREATE TEMP TABLE stale AS SELECT * FROM corr_case LIMIT 1; \
             UPDATE stale SET id = 'stale-row-from-a-lost-scope'; \
             INSERT INTO corr_case SELECT * FROM stale; DROP TABLE stale;",
        )
        .unwrap();
    let admin = district.login("admin");
    for n in 0..5 {
        write_record(&mut district.lock(), &admin, "升", 3, n).unwrap();
    }
    let unsent = district.lock().unacked_count().unwrap();
    assert!(unsent > 0);

    // The upgraded PC syncs: the server cannot serve its cursor (given under schema 27) and says so.
    let status = district.sync().await.unwrap();
    assert!(
        status
            .last_scope_notice
            .as_deref()
            .is_some_and(|n| n.contains("重新下载")),
        "{status:?}"
    );
    assert_eq!(
        district.lock().unacked_count().unwrap(),
        0,
        "unsent work sent"
    );
    assert!(district.lock().reinitialising().unwrap().is_none());
    assert_eq!(
        count(
            &district,
            "SELECT COUNT(*) FROM corr_case WHERE id = 'stale-row-from-a-lost-scope'"
        ),
        0,
        "what the master does not hold for the site is swept away"
    );
    assert_eq!(
        count(&district, "SELECT COUNT(*) FROM sync_quarantine"),
        1,
        "the rows the old cursor skipped arrive"
    );
    let own_rows = count(
        &district,
        "SELECT COUNT(*) FROM corr_case WHERE name LIKE '升对象%'",
    );
    assert_eq!(own_rows, 5, "the site's own writes are kept");
    assert_site_equals_scoped_master(&server, &district, true);

    // The next sync is incremental again.
    let status = district.sync().await.unwrap();
    assert_eq!(status.last_scope_notice, None, "{status:?}");
    println!(
        "re-initialised: {} operations pulled under schema {PREVIOUS_RELEASE_SCHEMA}, {unsent} unsent kept and sent, 1 stale row swept, quarantine items arrived",
        pulled.len()
    );
}
