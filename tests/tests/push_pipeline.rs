//! Issue 12 §5: the desktop's push is pipelined (core/src/sync_push.rs): while one batch travels and
//! merges, the batch before it is marked sent and the next one is read. The master must still receive
//! a long unsent log once and in order, and the store must mark each operation with the server_seq
//! the master gave it (marked by runs, core/src/ack_runs.rs). Runs on both backends.

use jiceng_core::sync::PUSH_BATCH;
use jiceng_tests::{write_record, Site, TestServer};
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_unsent_log_reaches_the_master_once_in_order_and_each_operation_keeps_its_number() {
    let (server, demo) = TestServer::start_demo("push-pipeline");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let user = office.login("officer1");
    let mut n = 0;
    // Three full batches and part of a fourth, so batches are read ahead and marked behind.
    while office.lock().unacked_count().unwrap() < 3 * PUSH_BATCH as u32 + PUSH_BATCH as u32 / 2 {
        write_record(&mut office.lock(), &user, "流水𪚥", 0, n).unwrap();
        n += 1;
    }
    let status = office.sync().await.unwrap();
    assert_eq!(status.last_retries, 0, "{status:?}");
    assert_eq!(office.lock().unacked_count().unwrap(), 0, "all sent");

    let own = office.lock().own_log().unwrap();
    let site = office.site_id();
    let mut logged: Vec<(u64, u64)> = server
        .master()
        .logged_operations()
        .into_iter()
        .filter(|op| op.site_id == site)
        .map(|op| {
            (
                op.server_seq.expect("a logged operation has its number"),
                op.site_seq,
            )
        })
        .collect();
    logged.sort_unstable();
    let in_master_order: Vec<u64> = logged.iter().map(|l| l.1).collect();
    let in_site_order: Vec<u64> = own.iter().map(|op| op.site_seq).collect();
    assert_eq!(
        in_master_order, in_site_order,
        "each operation once, numbered by the master in the order the site wrote them"
    );

    // What the store marked is what the master numbered, operation by operation.
    let marked: BTreeMap<u64, u64> = {
        let db = rusqlite::Connection::open(&office.path).unwrap();
        let mut stmt = db
            .prepare("SELECT site_seq, server_seq FROM oplog")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    let numbered: BTreeMap<u64, u64> = logged
        .iter()
        .map(|(server, site)| (*site, *server))
        .collect();
    assert_eq!(marked, numbered);
    assert!(marked.len() > 3 * PUSH_BATCH, "{} operations", marked.len());
}
