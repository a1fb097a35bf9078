//! Issue 11 §1 with the real server over TLS: a desktop's data dir enrolled into an encrypted store;
//! the site's recovery code comes from the server (same code at every asking; the district's reading
//! is recorded); an officer signs in offline from the key file; the files hold no name or ID number
//! after real work and syncs; a forgotten password is recovered the way the district would do it
//! (reset at the server, the laptop opened with its recovery code, synced, then signed in).

use jiceng_core::model::{CaseInput, CaseKind};
use jiceng_core::vault::LocalVault;
use jiceng_tests::TestServer;

const NAME: &str = "买买提·艾力𠀀";
const ID_NUMBER: &str = "650102199001011239";

fn enrolment_code(demo: &serde_json::Value, site: &str) -> String {
    demo["sites"]
        .as_array()
        .and_then(|sites| sites.iter().find(|s| s["name"] == site))
        .and_then(|s| s["enrolment_code"].as_str())
        .expect("demo site")
        .to_string()
}

fn readable(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_laptop_syncs_gives_nothing_away_and_is_recovered_with_the_district_code() {
    let (server, demo) = TestServer::start_demo_tls("encrypted-site");
    let dir = server.dir.join("laptop-data");
    let vault = LocalVault::new(&dir);
    let open = vault.create().unwrap();
    jiceng_core::sync::enrol(
        &open.store,
        &server.enrolment_address(),
        &enrolment_code(&demo, "北新桥街道司法所"),
    )
    .await
    .unwrap();
    vault.refresh(&open).unwrap();
    assert!(vault.needs_recovery_code().unwrap());
    let code = jiceng_core::sync::fetch_recovery_code(&open.store)
        .await
        .unwrap();
    assert_eq!(
        jiceng_core::sync::fetch_recovery_code(&open.store)
            .await
            .unwrap(),
        code,
        "one code per site"
    );
    vault.set_recovery_code(&open, &code).unwrap();
    assert!(!vault.needs_recovery_code().unwrap());
    let site_id = open.store().identity().unwrap().unwrap().site_id;
    drop(open);

    // The district reads the code out; the reading is recorded.
    let read = server.cli(&[
        "admin",
        "site-recovery-code",
        "--site",
        &site_id,
        "--by",
        "区司法局 张科长",
    ]);
    assert_eq!(read.trim(), code);
    let readings = server.master().recovery_code_reads(&site_id);
    assert_eq!(readings, 1);

    // The officer signs in offline after a restart (the store was closed), works, and syncs.
    let card = vault.site_card().unwrap().expect("enrolled");
    assert_eq!(card.site_id, site_id);
    let (open, officer) = vault.unlock("officer1", "jiceng-demo").unwrap();
    open.store()
        .save_case(
            &officer,
            CaseInput {
                id: None,
                name: NAME.into(),
                id_number: ID_NUMBER.into(),
                kind: CaseKind::Probation,
                sentence_start: "2026-03-01".into(),
                sentence_end: "2027-02-28".into(),
                org_unit_id: None,
                status: None,
                judgment_effective_on: None,
                reported_on: None,
                supervision_level: None,
                sealed_minor: None,
                address: None,
            },
        )
        .unwrap();
    jiceng_core::sync::sync_now(&open.store).await.unwrap();
    // Issue 14 §5: the pull merged with a large page cache; the laptop keeps the small one after.
    assert_eq!(
        open.store().page_cache_kib().unwrap(),
        jiceng_core::store::page_cache::RESTING_CACHE_KIB
    );
    jiceng_core::backups::backup(&open.store(), &dir).unwrap();
    drop(open);
    for secret in [NAME.as_bytes(), ID_NUMBER.as_bytes(), "欧阳".as_bytes()] {
        assert_eq!(
            readable(&dir, secret),
            Vec::<String>::new(),
            "{:?} readable in the data dir",
            String::from_utf8_lossy(secret)
        );
    }
    let on_master = server.master().rows_where("corr_case", "name", NAME).len();
    assert_eq!(on_master, 1, "the case reached the master whole");

    // officer1 forgot the password: the district resets it; the laptop has not heard of it yet.
    server.cli(&[
        "admin",
        "user-reset",
        "--username",
        "officer1",
        "--password",
        "临时密码-2026",
    ]);
    let err = vault.unlock("officer1", "临时密码-2026").err().unwrap();
    assert_eq!(err.code(), "bad_credentials");
    let open = vault.unlock_with_recovery(&code.to_lowercase()).unwrap();
    jiceng_core::sync::sync_now(&open.store).await.unwrap();
    vault.refresh(&open).unwrap();
    let user = open.store().login("officer1", "临时密码-2026").unwrap();
    assert!(
        open.store()
            .account_state(&user)
            .unwrap()
            .must_change_password
    );
    drop(open);
    // From now on the temporary password opens the laptop, the forgotten one no more.
    vault.unlock("officer1", "临时密码-2026").unwrap();
    assert_eq!(
        vault
            .unlock("officer1", "jiceng-demo")
            .err()
            .unwrap()
            .code(),
        "bad_credentials"
    );
}
