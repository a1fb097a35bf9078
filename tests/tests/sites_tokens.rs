//! Issue 11 §3: the district revokes a lost laptop from its desktop; the laptop's next sync is refused
//! as revoked and it says so in Chinese, keeping its unsent work, which it exports by USB bundle; the
//! server refuses that bundle from any desktop, and the district takes it in from the CLI on purpose.
//! Tokens rotate without locking a site out.

use jiceng_core::district_sites::{list_sites, revoke_site};
use jiceng_core::usb_sync::{export_bundle, relay_bundle};
use jiceng_tests::raw::Api;
use jiceng_tests::{run_cli, site_accounting, temp_dir, write_record, Site, TestServer};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_laptop_is_refused_keeps_its_work_and_the_district_takes_it_in_on_purpose() {
    let (server, demo) = TestServer::start_demo("revoke");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let laptop = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let other = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let admin = district.login("admin");
    let officer = laptop.login("officer1");

    // Only the district administrator lists and revokes sites.
    let refused = list_sites(&other.store, &other.login("officer2")).await;
    assert!(refused.is_err());
    let sites = list_sites(&district.store, &admin).await.unwrap();
    let target = sites
        .iter()
        .find(|s| s.id == laptop.site_id())
        .expect("the laptop is listed")
        .clone();
    assert!(target.enrolled && !target.revoked);
    // The district cannot revoke its own desktop.
    assert!(
        revoke_site(&district.store, &admin, &district.site_id(), "")
            .await
            .is_err()
    );

    // The laptop works offline, then is lost; the district revokes it.
    for n in 0..5 {
        write_record(&mut laptop.lock(), &officer, "失", 0, n).unwrap();
    }
    let unsent = laptop.lock().unacked_count().unwrap();
    assert!(unsent > 0);
    let revoked = revoke_site(&district.store, &admin, &target.id, "笔记本丢失")
        .await
        .unwrap();
    assert!(revoked.revoked);
    assert_eq!(revoked.revoked_reason.as_deref(), Some("笔记本丢失"));
    assert!(revoked.revoked_by.is_some());
    let again = revoke_site(&district.store, &admin, &target.id, "")
        .await
        .unwrap_err();
    assert_eq!(again.code(), "conflict");

    // Its next sync is refused as revoked, in Chinese; nothing it wrote is lost.
    let err = laptop.sync().await.unwrap_err();
    assert_eq!(err.code(), "site_revoked", "{err}");
    assert!(
        err.message_zh().contains("已被区司法局停用"),
        "{}",
        err.message_zh()
    );
    let status = laptop.lock().sync_status().unwrap();
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("已被区司法局停用")),
        "{status:?}"
    );
    assert_eq!(laptop.lock().unacked_count().unwrap(), unsent);
    let api = Api::connect(server.url()).await;
    let (code, body) = api.get(Some(&laptop.token()), "/api/v1/pull?after=0").await;
    assert_eq!((code, body["code"].as_str()), (401, Some("site_revoked")));

    // Its work leaves by USB bundle; no desktop can bring it in, the district's CLI can, on purpose.
    let (bytes, export) = export_bundle(&laptop.lock()).unwrap();
    assert_eq!(export.operations, unsent);
    let relayed = relay_bundle(&district.store, &bytes).await.unwrap_err();
    assert_eq!(relayed.code(), "site_revoked");
    let file = temp_dir("revoked-bundle").join(&export.file_name);
    std::fs::write(&file, &bytes).unwrap();
    let path = file.to_str().unwrap();
    let out = run_cli(
        &server.master_path(),
        &["admin", "import-bundle", "--file", path, "--accept-revoked"],
    );
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["acknowledged"].as_u64(), Some(u64::from(unsent)));
    let (_, lost, doubled) = site_accounting(&server.master(), &laptop);
    assert_eq!(
        (lost, doubled),
        (0, 0),
        "the lost laptop's work reached the master"
    );
    let listed = list_sites(&district.store, &admin).await.unwrap();
    assert!(listed.iter().any(|s| s.id == target.id && s.revoked));
    println!("revoked laptop: refused with site_revoked, {unsent} unsent operations kept, exported and taken in by the district's CLI, lost {lost}, doubled {doubled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_30_days_old_is_rotated_at_sync_and_the_old_one_then_stops() {
    let (server, demo) = TestServer::start_demo("rotate");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let old = office.token();
    let api = Api::connect(server.url()).await;
    // Not due yet: a sync keeps the token.
    office.sync().await.unwrap();
    assert_eq!(office.token(), old);
    // A rotation whose answer was lost on the way: the old token still works.
    let (code, lost) = api.post(&old, "/api/v1/token/rotate", &Value::Null).await;
    assert_eq!(code, 200, "{lost}");
    office.sync().await.unwrap();
    // 30 days on (the store's record of when the token was issued, moved back), the sync rotates.
    office
        .lock()
        .connection()
        .execute(
            "UPDATE meta SET value = '0' WHERE key = 'token_issued_ms'",
            [],
        )
        .unwrap();
    office.sync().await.unwrap();
    let new = office.token();
    assert_ne!(new, old, "rotated");
    // The next sync uses the new token, which retires the old one.
    office.sync().await.unwrap();
    let (code, body) = api.get(Some(&old), "/api/v1/pull?after=0").await;
    assert_eq!((code, body["code"].as_str()), (401, Some("bad_token")));
    let (code, _) = api
        .get(
            Some(lost["token"].as_str().unwrap()),
            "/api/v1/pull?after=0",
        )
        .await;
    assert_eq!(code, 401, "the token whose answer was lost was replaced");
    println!("token rotation: rotated after 30 days, a lost rotation answer locked nothing out, the old token retired at the new one's first use");
}

/// Issue 11 §5: user rows reach only their own unit's sites: a township's office does not see the
/// clerks of its communities, by pull or by `/records`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_rows_reach_only_their_own_units_sites() {
    let (server, demo) = TestServer::start_demo("own-unit-users");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let unit = jiceng_tests::raw::unit_of(&demo, "北新桥街道司法所");
    let api = Api::connect(server.url()).await;
    let (code, body) = api
        .get(Some(&office.token()), "/api/v1/records/app_user?limit=500")
        .await;
    assert_eq!(code, 200, "{body}");
    let users = body["records"].as_array().unwrap();
    assert!(!users.is_empty());
    for user in users {
        assert_eq!(user["org_unit_id"].as_str(), Some(unit.as_str()), "{user}");
        assert!(user.get("password_hash").is_none(), "{user}");
    }
    let held: i64 = office
        .lock()
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM app_user WHERE org_unit_id <> ?1",
            [&unit],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, 0, "the office's PC holds no other unit's users");
    let clerks_on_master = server
        .master()
        .rows_where("app_user", "role", "community_clerk")
        .len();
    assert!(
        clerks_on_master > 0,
        "the demo has community clerks to leave out"
    );
}
