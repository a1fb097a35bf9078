//! Issue 10 §3: a site's store restored from an old backup, and a store copied to a second PC, are
//! recognised at their next sync: the store takes the server's copy of its site's log (what it lacked
//! comes back), what it wrote that the server never had is kept and sent again for the district's
//! review, the district gets an alarm, the clerk a message, and nothing either copy wrote is lost.

use jiceng_tests::{site_accounting, temp_dir, write_record, Site, TestServer};

fn reopen(name: &str, path: &std::path::Path) -> Site {
    let mut store = jiceng_core::Store::open(path).unwrap();
    // A restored or copied database is another instance of the site's store.
    store.reset_instance_id().unwrap();
    Site {
        name: name.to_string(),
        store: std::sync::Mutex::new(store),
        path: path.to_path_buf(),
    }
}

fn cases(site: &Site) -> i64 {
    site.lock()
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM corr_case WHERE name LIKE '复%'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn alarms(server: &TestServer, code: &str) -> i64 {
    server.master().alarm_count(code) as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_restored_from_an_old_backup_catches_up_and_keeps_what_it_wrote_since() {
    let (server, demo) = TestServer::start_demo_tls("restore-site");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let officer = office.login("officer1");
    for n in 0..5 {
        write_record(&mut office.lock(), &officer, "复", 0, n).unwrap();
    }
    office.sync().await.unwrap();
    let backup = temp_dir("site-backup").join("backup.sqlite");
    office.lock().backup_to(&backup).unwrap();
    for n in 5..10 {
        write_record(&mut office.lock(), &officer, "复", 0, n).unwrap();
    }
    office.sync().await.unwrap();
    let site_id = office.site_id();
    let path = office.path.clone();
    drop(office);

    // The clerk restores last week's backup (the current file kept aside), then writes before syncing.
    std::fs::rename(&path, path.with_extension("before-restore")).unwrap();
    for suffix in ["sqlite-wal", "sqlite-shm"] {
        let _ = std::fs::remove_file(path.with_extension(suffix));
    }
    std::fs::copy(&backup, &path).unwrap();
    let restored = reopen("北新桥街道司法所", &path);
    assert_eq!(cases(&restored), 5);
    for n in 10..12 {
        write_record(&mut restored.lock(), &officer, "复", 0, n).unwrap();
    }
    let status = restored.sync().await.expect("the restored store syncs");
    let message = status.last_error.unwrap_or_default();
    assert!(
        message.contains("已从服务器补回") && message.contains("交区司法局审核"),
        "{message}"
    );
    restored.sync().await.expect("and syncs again");

    assert_eq!(cases(&restored), 12, "nothing either copy wrote is lost");
    assert_eq!(restored.lock().unacked_count().unwrap(), 0, "not wedged");
    assert!(
        restored.lock().divergent_count().unwrap() > 0,
        "the divergent tail is kept"
    );
    let master = server.master();
    let (_, lost, doubled) = site_accounting(&master, &restored);
    assert_eq!((lost, doubled), (0, 0));
    let in_master = master
        .table("corr_case")
        .iter()
        .filter(|r| {
            r.get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| n.starts_with('复'))
        })
        .count();
    assert_eq!(
        in_master, 10,
        "the restored copy's own writes wait for review"
    );
    let held = master
        .held_of(&site_id)
        .iter()
        .filter(|h| h.code == "divergent_copy")
        .count();
    assert!(held > 0);
    assert!(
        alarms(&server, "instance_changed") >= 1,
        "the district is told"
    );
    println!("restored store: {} cases at the site, {in_master} in the master, {held} operations held for review", cases(&restored));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_copied_to_a_second_pc_is_recognised_and_neither_copy_loses_a_write() {
    let (server, demo) = TestServer::start_demo_tls("clone-site");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let officer = office.login("officer1");
    for n in 0..3 {
        write_record(&mut office.lock(), &officer, "复", 0, n).unwrap();
    }
    office.sync().await.unwrap();
    let copy_path = temp_dir("site-copy").join("copy.sqlite");
    office.lock().backup_to(&copy_path).unwrap();
    let copy = reopen("北新桥街道司法所-副本", &copy_path);
    // Both PCs write under the same site before either syncs.
    write_record(&mut office.lock(), &officer, "复", 0, 3).unwrap();
    write_record(&mut copy.lock(), &officer, "复", 0, 4).unwrap();
    office.sync().await.expect("the first PC syncs");
    copy.sync().await.expect("the copy is recognised and syncs");
    office
        .sync()
        .await
        .expect("the first PC follows the site's log");
    assert!(alarms(&server, "hash_mismatch") + alarms(&server, "instance_changed") >= 1);
    for site in [&office, &copy] {
        assert_eq!(
            site.lock().unacked_count().unwrap(),
            0,
            "{} wedged",
            site.name
        );
    }
    assert_eq!(cases(&office), 4);
    assert_eq!(cases(&copy), 5, "the copy keeps what it wrote");
    let master = server.master();
    for site in [&office, &copy] {
        let (_, lost, doubled) = site_accounting(&master, site);
        assert_eq!((lost, doubled), (0, 0), "{}", site.name);
    }
    let held = master
        .held()
        .iter()
        .filter(|h| h.code == "divergent_copy")
        .count();
    assert!(held > 0, "the copy's own write waits for the district");
}
