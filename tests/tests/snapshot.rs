//! Issue 12 §6: a new office laptop starts from the master's scoped snapshot instead of replaying the
//! log. The snapshot is interrupted after its first page (the store closed, as when the laptop is shut
//! down), the office goes on working meanwhile, and the laptop's next sync goes on from the last page
//! taken, then pulls only what came after the snapshot began. It ends equal to the master within its
//! scope, field history and conflict items included; a workstation's snapshot holds no corrections
//! record. Runs on both backends (`JICENG_TEST_MASTER=postgres`).

use jiceng_core::store::Store;
use jiceng_core::sync_snapshot::{fetch_snapshot_for, SNAPSHOT_PAGE_ROWS};
use jiceng_tests::{assert_site_equals_scoped_master, write_record, Site, TestServer};
use std::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_laptop_starts_from_a_snapshot_resumed_after_an_interruption() {
    let (server, mut demo) = TestServer::start_demo("snapshot");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let officer = office.login("officer1");
    let clerk = workstation.login("clerk1");
    // More rows than one page holds.
    let cases = SNAPSHOT_PAGE_ROWS as u64 + 200;
    for n in 0..cases {
        write_record(&mut office.lock(), &officer, "快照", 0, n).unwrap();
    }
    for n in 0..30 {
        write_record(&mut workstation.lock(), &clerk, "快照", 1, n).unwrap();
    }
    office.sync().await.unwrap();
    workstation.sync().await.unwrap();

    server.add_site_like(&mut demo, "北新桥街道司法所", "北新桥街道司法所-新笔记本");
    let laptop = Site::enrol_without_sync(&server, &demo, "北新桥街道司法所-新笔记本").await;
    assert!(laptop.lock().wants_snapshot().unwrap());
    let first = fetch_snapshot_for(&laptop.store, Some(1)).await.unwrap();
    assert_eq!((first.pages, first.complete), (1, false), "{first:?}");
    assert_eq!(first.rows, SNAPSHOT_PAGE_ROWS);
    let progress = laptop
        .lock()
        .snapshot_progress()
        .unwrap()
        .expect("under way");
    assert!(progress.as_of > 0);
    assert_eq!(
        laptop.lock().pull_cursor().unwrap(),
        0,
        "no cursor before the last page"
    );

    // The laptop is shut down mid-snapshot; the office works on meanwhile.
    let Site { name, store, path } = laptop;
    drop(store);
    for n in cases..cases + 25 {
        write_record(&mut office.lock(), &officer, "快照后", 0, n).unwrap();
    }
    office.sync().await.unwrap();
    let laptop = Site {
        name,
        store: Mutex::new(Store::open(&path).expect("reopen")),
        path,
    };
    assert_eq!(
        laptop.lock().snapshot_progress().unwrap().as_ref(),
        Some(&progress),
        "the progress survived the restart"
    );
    laptop
        .sync()
        .await
        .expect("the sync goes on with the snapshot");
    assert!(laptop.lock().snapshot_progress().unwrap().is_none());
    assert!(laptop.lock().pull_cursor().unwrap() > progress.as_of);
    assert!(!laptop.lock().wants_snapshot().unwrap());
    let user = laptop.login("officer1");
    let listed = laptop
        .lock()
        .list_cases(&user, &Default::default())
        .expect("cases");
    assert!(listed.total as u64 >= cases + 25, "{}", listed.total);
    assert_site_equals_scoped_master(&server, &laptop, true);

    // A second new PC, this time in one go, at the workstation: its snapshot holds no corrections.
    server.add_site_like(&mut demo, "民安社区工作站", "民安社区工作站-新电脑");
    let pc = Site::enrol(&server, &demo, "民安社区工作站-新电脑").await;
    assert_site_equals_scoped_master(&server, &pc, false);
    let written = laptop.lock().pull_cursor().unwrap();
    println!(
        "snapshot: {} rows in the first page, resumed after a restart with {} later cases; the laptop pulled from server_seq {} on ({written} now); the workstation PC holds no corrections record",
        first.rows, 25, progress.as_of
    );
}
