//! Issue 10 §6: an online backup of the master taken while sites push, a restore, and the sites
//! bringing the restored master up to date: it serves every site, the sites that pushed after the
//! backup send again what it lacks, nothing is lost or doubled, every replica equals the master.

use jiceng_tests::{
    assert_site_equals_scoped_master, site_accounting, temp_dir, write_record, Site, TestServer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_restored_from_an_online_backup_is_brought_up_to_date_by_its_sites() {
    let (mut server, demo) = TestServer::start_demo_tls("backup");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let officer = office.login("officer1");
    let clerk = workstation.login("clerk1");
    let mut n = 0u64;
    let mut write = |count: u64| {
        for _ in 0..count {
            write_record(&mut office.lock(), &officer, "备", 0, n).unwrap();
            write_record(&mut workstation.lock(), &clerk, "备", 1, n).unwrap();
            n += 1;
        }
    };
    write(20);
    office.sync().await.unwrap();
    workstation.sync().await.unwrap();

    // The backup runs while the office pushes more.
    let dir = temp_dir("backup-copy").join("copy");
    write(40);
    let pushing = office.sync();
    let backing_up = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let master = server.master_path();
        move || {
            jiceng_tests::run_cli(
                &master,
                &[
                    "backup".to_string(),
                    "--to".to_string(),
                    dir.display().to_string(),
                ],
            )
        }
    });
    pushing.await.unwrap();
    let summary: serde_json::Value = serde_json::from_str(&backing_up.await.unwrap()).unwrap();
    assert!(
        summary["last_server_seq"].as_u64().unwrap() > 0,
        "{summary}"
    );
    // Work after the backup: the restored master will lack it.
    write(15);
    office.sync().await.unwrap();
    workstation.sync().await.unwrap();
    district.sync().await.unwrap();
    let before = server.master().logged_operations().len();

    server.kill();
    let restored: serde_json::Value =
        serde_json::from_str(&server.cli(&["restore", "--from", &dir.display().to_string()]))
            .unwrap();
    assert!(restored["replaced_files_kept_at"].is_string(), "{restored}");
    server.start();
    let lacking = server.master().logged_operations().len();
    assert!(
        lacking < before,
        "the backup is older than the master it replaced"
    );

    for site in [&office, &workstation, &district] {
        site.sync().await.expect("sync with the restored master");
    }
    for site in [&office, &workstation, &district] {
        site.sync().await.expect("sync again");
    }
    let master = server.master();
    let (mut lost, mut doubled, mut operations) = (0, 0, 0);
    for site in [&office, &workstation, &district] {
        let (ops, l, d) = site_accounting(&master, site);
        operations += ops;
        assert_eq!(
            site.lock().unacked_count().unwrap(),
            0,
            "{} wedged",
            site.name
        );
        lost += l;
        doubled += d;
    }
    println!(
        "backup and restore: backup at server_seq {}, the master had {before} operations, the backup {lacking}; after the sites' sync: {operations} site operations, lost {lost}, doubled {doubled}",
        summary["last_server_seq"]
    );
    assert_eq!((lost, doubled), (0, 0));
    assert_site_equals_scoped_master(&server, &office, true);
    assert_site_equals_scoped_master(&server, &workstation, false);
    assert_site_equals_scoped_master(&server, &district, true);
}
