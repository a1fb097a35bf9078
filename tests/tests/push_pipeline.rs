//! Issue 12 §5: the desktop's push is pipelined (core/src/sync_push.rs): while one batch travels and
//! merges, the batch before it is marked sent and the next one is read. The master must still receive
//! a long unsent log once and in order, and the store must mark exactly those operations acknowledged
//! (as ranges of site_seqs, core/src/acked_ranges.rs). Runs on both backends.

use jiceng_core::sync::PUSH_BATCH;
use jiceng_tests::{write_record, Site, TestServer};
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_unsent_log_reaches_the_master_once_in_order_and_each_operation_is_marked_sent() {
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

    // What the store marked acknowledged is what the master numbered: every operation of the log,
    // kept as one range (a row per range, not a number per operation: store schema 35).
    let marked: Vec<(u64, u64)> = {
        let db = rusqlite::Connection::open(&office.path).unwrap();
        let mut stmt = db
            .prepare(
                "SELECT first_site_seq, last_site_seq FROM oplog_acked ORDER BY first_site_seq",
            )
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    let numbered: BTreeSet<u64> = logged.iter().map(|(_, site)| *site).collect();
    let (first, last) = (
        *numbered.first().expect("numbered"),
        *numbered.last().expect("numbered"),
    );
    assert_eq!(
        numbered.len() as u64,
        last - first + 1,
        "the log has no holes"
    );
    assert_eq!(marked, vec![(first, last)]);
    assert!(
        numbered.len() > 3 * PUSH_BATCH,
        "{} operations",
        numbered.len()
    );
}
