//! Issue 12 §5: a laptop back from four weeks in the field. It wrote 30,000 operations offline, and
//! another PC of its office wrote 30,000 meanwhile. Its one sync pushes and pulls them all over loopback
//! through a relay that counts the bytes. The bench prints the bytes on the wire per operation (against
//! the JSON the same operations make) and the end-to-end time. It compares that time with the merge
//! alone, measured in the same run: the server's merge of the pushed operations (an in-process master
//! opened on a copy of the master taken just before the sync) plus the laptop's merge of the pulled ones
//! (a copy of the laptop's store taken just before). Goal: merge ÷ end to end ≥ 0.5.
//!
//! `cargo bench -p jiceng-tests --bench field_return` (release); JICENG_FIELD_OPS=n (default 30000).

use jiceng_core::store::Store;
use jiceng_core::wire::PushRequest;
use jiceng_server::master::{MasterReads, MasterStore, SqliteMaster};
use jiceng_tests::counting_proxy::CountingProxy;
use jiceng_tests::{write_record, Site, TestServer};
use std::path::Path;
use std::time::{Duration, Instant};

/// The allocator of the server and desktop binaries, so that the merges measured here in-process
/// run as they do in those binaries.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Writes `records` case files at `site` until it holds at least `ops` unsent operations.
fn write_until(site: &Site, tag: &str, slot: u64, ops: u64) -> u64 {
    let user = site.login("officer1");
    let mut n = 0;
    while u64::from(site.lock().unacked_count().expect("count")) < ops {
        write_record(&mut site.lock(), &user, tag, slot, n).expect("write");
        n += 1;
    }
    u64::from(site.lock().unacked_count().expect("count"))
}

fn copy_master(server: &TestServer, to: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(to).expect("copy dir");
    let from = server.master_path();
    let dir = from.parent().expect("master dir");
    let stem = from
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    for entry in std::fs::read_dir(dir).expect("master dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if name.starts_with(&stem) {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
    to.join(stem)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let ops: u64 = std::env::var("JICENG_FIELD_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let (mut server, mut demo) = TestServer::start_demo("field-return");
    server.add_site_like(&mut demo, "北新桥街道司法所", "北新桥街道司法所-台式机");
    let proxy = CountingProxy::start(server.url().trim_start_matches("http://").to_string()).await;
    let laptop = Site::enrol_via(&server, &demo, "北新桥街道司法所", &proxy.url).await;
    let desk = Site::enrol(&server, &demo, "北新桥街道司法所-台式机").await;

    // Four weeks: the desk PC writes and syncs; the laptop writes offline.
    let t = Instant::now();
    let desk_ops = write_until(&desk, "台式机", 0, ops);
    desk.sync().await.expect("desk sync");
    let laptop_ops = write_until(&laptop, "笔记本", 1, ops);
    println!(
        "written: laptop {laptop_ops} operations offline, desk PC {desk_ops} (synced) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Copies of the master and of the laptop as they are just before the sync.
    server.kill();
    let copies = server.dir.join("before-sync");
    let master_copy = copy_master(&server, &copies);
    let laptop_copy = copies.join("laptop.sqlite");
    laptop.lock().backup_to(&laptop_copy).expect("laptop copy");
    server.start();
    let unacked = laptop.lock().unacked_ops(usize::MAX).expect("ops");
    let json_bytes = serde_json::to_vec(&unacked).expect("json").len() as u64;

    // The sync, end to end.
    let (sent_before, received_before) = proxy.bytes();
    let t = Instant::now();
    laptop.sync().await.expect("laptop sync");
    let end_to_end = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await; // connections close; the relay counts them
    let (sent, received) = proxy.bytes();
    let (sent, received) = (sent - sent_before, received - received_before);
    assert_eq!(laptop.lock().unacked_count().unwrap(), 0, "all pushed");
    let pulled_rows = laptop.lock().count_rows("corr_case").unwrap();

    // The merge alone, same operations, same starting state.
    let mut master = SqliteMaster::open(&master_copy).expect("master copy");
    let auth = master.authenticate(&laptop.token()).expect("auth");
    let instance = Store::open(&laptop_copy)
        .expect("laptop copy")
        .instance_id()
        .expect("instance");
    let t = Instant::now();
    for batch in unacked.chunks(1_000) {
        master
            .push(
                &auth,
                PushRequest {
                    db_instance_id: instance.clone(),
                    ops: batch.to_vec(),
                    divergent: Vec::new(),
                },
                jiceng_tests::raw::now_ms(),
            )
            .expect("push");
    }
    let master_merge = t.elapsed().as_secs_f64();
    let mut copy = Store::open(&laptop_copy).expect("laptop copy");
    let mut cursor = copy.pull_cursor().expect("cursor");
    let mut pulled = Vec::new();
    let serving = Instant::now();
    loop {
        let page = master
            .pull(&auth, cursor, 10_000, jiceng_tests::raw::now_ms())
            .expect("pull");
        cursor = page.next_cursor;
        pulled.push((page.ops, page.next_cursor));
        if !page.has_more {
            break;
        }
    }
    let pull_serving = serving.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut pulled_ops = 0;
    for (ops, next) in &pulled {
        pulled_ops += ops.len();
        copy.apply_remote(ops, *next).expect("apply");
    }
    let site_merge = t.elapsed().as_secs_f64();
    assert_eq!(
        copy.count_rows("corr_case").unwrap(),
        pulled_rows,
        "same rows"
    );

    let moved = laptop_ops as usize + pulled_ops;
    println!("pushed {laptop_ops}, pulled {pulled_ops} operations");
    println!(
        "on the wire: {sent} bytes up ({:.1} per pushed op; the same operations as JSON: {:.1}), {received} bytes down ({:.1} per pulled op); {:.1} bytes per operation moved",
        sent as f64 / laptop_ops as f64,
        json_bytes as f64 / laptop_ops as f64,
        received as f64 / pulled_ops.max(1) as f64,
        (sent + received) as f64 / moved as f64
    );
    println!(
        "end to end (push + pull over loopback): {end_to_end:.3} s; merge alone: master {master_merge:.3} s + laptop {site_merge:.3} s = {:.3} s; merge ÷ end to end = {:.2} (goal ≥ 0.5)",
        master_merge + site_merge,
        (master_merge + site_merge) / end_to_end
    );
    println!(
        "for comparison: the master answering the same pulls in process took {pull_serving:.3} s (not counted as merge)"
    );
}
