//! Issue 12 §6: a new office laptop from a snapshot of 20,000 cases (`JICENG_SNAPSHOT_CASES`), against
//! copying the snapshot's bytes, and against replaying the log, in the same run.
//!
//! An office writes the cases (10 fields each, through the real write path) and pushes them. Then, for
//! a new laptop of the same office:
//! - **copy**: every snapshot page downloaded over the same loopback HTTP and written to a file
//!   (fsynced): the cost of moving the snapshot's bytes, nothing more;
//! - **snapshot**: the desktop's own `fetch_snapshot` into a fresh store (download, parse, write rows
//!   with their histories, progress per page), then the pull after it;
//! - **replay**: a fresh store pulling the whole log from 0 and merging it (what a new site did before).
//!
//! `cargo bench -p jiceng-tests --bench snapshot` (release; `cargo build --release -p jiceng-server`
//! first); `JICENG_TEST_MASTER=postgres` for a PostgreSQL master. Goal: snapshot ≤ 2× copy.

use jiceng_core::wire::{PullResponse, SnapshotPage};
use jiceng_tests::{write_record, Site, TestServer};
use std::io::Write;
use std::time::Instant;

/// The allocator of the server and desktop binaries, so that the merges measured here in-process
/// run as they do in those binaries.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A new laptop of the office, enrolled without its first sync: (its store, its token).
async fn new_laptop(server: &TestServer, demo: &mut serde_json::Value, name: &str) -> Site {
    server.add_site_like(demo, "北新桥街道司法所", name);
    Site::enrol_without_sync(server, demo, name).await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cases = env("JICENG_SNAPSHOT_CASES", 20_000);
    let (server, mut demo) = TestServer::start_demo("snapshot-bench");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let officer = office.login("officer1");
    let t = Instant::now();
    for n in 0..cases {
        write_record(&mut office.lock(), &officer, "快照", n / 5_000, n).expect("case");
    }
    office.sync().await.expect("push");
    println!(
        "{cases} cases written and pushed in {:.1} s ({} master)",
        t.elapsed().as_secs_f64(),
        if server.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let client = reqwest::Client::new();

    // copy: the snapshot's bytes, downloaded and written to a file.
    let token = new_laptop(&server, &mut demo, "copy").await.token();
    let file_path = server.dir.join("snapshot.bytes");
    let t = Instant::now();
    let mut file = std::fs::File::create(&file_path).expect("file");
    let mut bytes = 0usize;
    let mut query = String::new();
    let mut rows = 0usize;
    loop {
        let body = client
            .get(format!(
                "{}/api/v1/snapshot?limit={}&store_schema={}{query}",
                server.url(),
                jiceng_core::sync_snapshot::SNAPSHOT_PAGE_ROWS,
                jiceng_core::store::STORE_SCHEMA
            ))
            .bearer_auth(&token)
            .send()
            .await
            .expect("page")
            .bytes()
            .await
            .expect("body");
        file.write_all(&body).expect("write");
        bytes += body.len();
        // Only the cursor is read (the copy must know where the next page starts).
        let page: SnapshotPage = serde_json::from_slice(&body).expect("page JSON");
        rows += page.rows.len();
        let Some(next) = page.next else { break };
        query = format!(
            "&as_of={}&after_table={}&after_id={}",
            page.as_of, next.table, next.id
        );
    }
    file.sync_all().expect("fsync");
    let copy_secs = t.elapsed().as_secs_f64();

    // snapshot: the desktop's path into a fresh store, and the pull after it.
    let laptop = new_laptop(&server, &mut demo, "snapshot").await;
    let store = &laptop.store;
    let t = Instant::now();
    let outcome = jiceng_core::sync_snapshot::fetch_snapshot_for(store, None)
        .await
        .expect("snapshot");
    let snapshot_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    jiceng_core::sync::sync_now(store)
        .await
        .expect("sync after");
    let after_secs = t.elapsed().as_secs_f64();
    assert!(outcome.complete);

    // replay: a fresh store pulling the whole log.
    let laptop = new_laptop(&server, &mut demo, "replay").await;
    let (store, token) = (&laptop.store, laptop.token());
    let t = Instant::now();
    let mut cursor = 0u64;
    let mut ops = 0usize;
    loop {
        let pulled: PullResponse = client
            .get(format!(
                "{}/api/v1/pull?after={cursor}&limit={}&store_schema={}",
                server.url(),
                jiceng_core::sync::PULL_LIMIT,
                jiceng_core::store::STORE_SCHEMA
            ))
            .bearer_auth(&token)
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("pull JSON");
        ops += pulled.ops.len();
        let mut guard = store.lock().expect("store");
        guard
            .apply_pull(&pulled.ops, &pulled.left_scope, pulled.next_cursor)
            .expect("apply");
        cursor = pulled.next_cursor;
        if !pulled.has_more {
            break;
        }
    }
    let replay_secs = t.elapsed().as_secs_f64();

    println!(
        "snapshot of {rows} rows, {:.1} MB of JSON in {} pages:",
        bytes as f64 / 1e6,
        outcome.pages
    );
    println!("  copy (download the pages, write them to a file): {copy_secs:.2} s");
    println!(
        "  snapshot (the desktop's fetch into a fresh store): {snapshot_secs:.2} s = {:.2}x copy (goal <= 2x); the sync after it {after_secs:.2} s",
        snapshot_secs / copy_secs
    );
    println!(
        "  replay (pull the log from 0, {ops} operations, and merge): {replay_secs:.2} s = {:.2}x copy",
        replay_secs / copy_secs
    );
}
