//! Issue 11 §4 across PCs: failed logins on one laptop of an office and on its other PC add up once
//! synced, locking the account on both; the district receives the account events of every unit; a
//! password reset by the district (admin CLI) reaches the office's PCs, where the user logs in with it
//! and must change it.

use jiceng_tests::{Site, TestServer};

fn try_wrong(site: &Site, times: usize) {
    for _ in 0..times {
        let err = site.lock().login("officer1", "wrong-pass-1").unwrap_err();
        assert!(
            matches!(err.code(), "bad_credentials" | "account_locked"),
            "{err:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_lock_across_an_offices_pcs_and_a_district_reset_reaches_them() {
    let (server, mut demo) = TestServer::start_demo_tls("accounts");
    server.add_site_like(&mut demo, "北新桥街道司法所", "北新桥街道司法所-笔记本2");
    let laptop = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let second = Site::enrol(&server, &demo, "北新桥街道司法所-笔记本2").await;
    let district = Site::enrol(&server, &demo, "区司法局").await;

    try_wrong(&laptop, 3);
    laptop.sync().await.unwrap();
    second.sync().await.unwrap();
    try_wrong(&second, 2);
    let locked = second.lock().login("officer1", "jiceng-demo").unwrap_err();
    assert_eq!(locked.code(), "account_locked", "3 + 2 failures on two PCs");
    second.sync().await.unwrap();
    laptop.sync().await.unwrap();
    assert_eq!(
        laptop
            .lock()
            .login("officer1", "jiceng-demo")
            .unwrap_err()
            .code(),
        "account_locked",
        "the laptop learns of the lock at its sync"
    );
    district.sync().await.unwrap();
    let seen: i64 = district
        .lock()
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM auth_event WHERE kind = 'login_failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(seen, 5, "the district audits every unit's account events");

    // The district resets the password from the server; it reaches the office and lifts the lock.
    server.cli(&[
        "admin",
        "user-reset",
        "--username",
        "officer1",
        "--password",
        "临时密码-2026",
    ]);
    laptop.sync().await.unwrap();
    assert!(laptop.lock().login("officer1", "jiceng-demo").is_err());
    let user = laptop.lock().login("officer1", "临时密码-2026").unwrap();
    assert!(
        laptop
            .lock()
            .account_state(&user)
            .unwrap()
            .must_change_password
    );
    laptop
        .lock()
        .change_password(&user, "临时密码-2026", "北新桥-矫正-2027")
        .unwrap();
    laptop.sync().await.unwrap();
    second.sync().await.unwrap();
    let again = second.lock().login("officer1", "北新桥-矫正-2027").unwrap();
    assert!(
        !second
            .lock()
            .account_state(&again)
            .unwrap()
            .must_change_password
    );
    assert_eq!(server.master().held().len(), 0, "no account write was held");
    println!("accounts: 3 + 2 failed logins on two PCs locked officer1 on both; the district saw 5 events; its reset reached the office, was used and changed, and the change reached the other PC");
}
