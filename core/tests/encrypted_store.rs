//! Issue 11 §1 through the files of a desktop's data dir: a plain store of an older release is
//! encrypted in place at the first start with every record kept; the files then hold no name or ID
//! number; a wrong password opens nothing (and five lock the account, offline, recorded at the next
//! opening); every account of the office opens the store, including one that arrived by sync and
//! never signed in here; a changed password replaces the old one; the site's recovery code opens it;
//! backups stay encrypted.

mod common_setup;

use common_setup::{identity, moving_clock, seed_office_user, NOW_MS, OFFICE};
use jiceng_core::keyring::DatabaseKey;
use jiceng_core::model::{CaseInput, CaseKind, Role};
use jiceng_core::store::encryption::{store_file_kind, StoreFile};
use jiceng_core::store::{NewUser, Store, PREVIOUS_RELEASE_SCHEMA};
use jiceng_core::vault::{LocalVault, Started};
use jiceng_core::CoreError;
use rusqlite::types::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const NAME: &str = "欧阳𪚥";
const ID_NUMBER: &str = "110101199003074514";

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "jiceng-vault-{label}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An office's plain store as the previous release left it: its accounts, a case with a 生僻字
/// name and an ID number, and a plain backup.
fn plain_store_of_the_previous_release(dir: &Path) {
    let path = dir.join(jiceng_core::vault::STORE_FILE);
    let mut store = Store::open_at_schema(&path, PREVIOUS_RELEASE_SCHEMA)
        .unwrap()
        .with_clock(Arc::new(|| NOW_MS));
    store.set_identity(&identity("laptop-a")).unwrap();
    let officer = seed_office_user(&mut store);
    store
        .create_user(
            "setup",
            &NewUser {
                username: "head".to_string(),
                display_name: "所长".to_string(),
                role: Role::OfficeHead,
                org_unit_id: OFFICE.to_string(),
                password: "所长-pass-9".to_string(),
            },
        )
        .unwrap();
    store
        .save_case(
            &officer,
            CaseInput {
                id: None,
                name: NAME.into(),
                id_number: ID_NUMBER.into(),
                kind: CaseKind::Probation,
                sentence_start: "2026-01-10".into(),
                sentence_end: "2027-01-09".into(),
                org_unit_id: None,
                status: None,
                judgment_effective_on: None,
                reported_on: None,
                supervision_level: None,
                sealed_minor: None,
                address: Some("北京市东城区北新桥三条8号".into()),
            },
        )
        .unwrap();
    jiceng_core::backups::backup(&store, dir).unwrap();
}

/// Every row of every table, by the columns the table had in `conn`.
fn dump(conn: &rusqlite::Connection) -> BTreeMap<String, Vec<Vec<Value>>> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut out = BTreeMap::new();
    for table in tables {
        let width: usize = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .unwrap()
            .column_count();
        let order: Vec<String> = (1..=width).map(|i| i.to_string()).collect();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT * FROM \"{table}\" ORDER BY {}",
                order.join(",")
            ))
            .unwrap();
        let width = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..width)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        out.insert(table, rows);
    }
    out
}

/// Every file of the data dir (store, WAL, key file, backups), read raw.
fn every_byte(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_nothing_readable(dir: &Path) {
    let files = every_byte(dir);
    assert!(files.len() >= 3, "store, key file and a backup: {files:?}");
    for (path, bytes) in files {
        for secret in [
            NAME.as_bytes(),
            ID_NUMBER.as_bytes(),
            "北新桥三条".as_bytes(),
            b"SQLite format 3",
            b"password-1",
        ] {
            assert!(
                !contains(&bytes, secret),
                "{} holds {:?} in clear",
                path.display(),
                String::from_utf8_lossy(secret)
            );
        }
    }
}

#[test]
fn a_plain_store_of_the_previous_release_is_encrypted_in_place_with_every_record_and_gives_nothing_away(
) {
    let dir = temp_dir("migrate");
    plain_store_of_the_previous_release(&dir);
    let vault = LocalVault::new(&dir).with_clock(Arc::new(|| NOW_MS));
    // What the new release's store holds once upgraded, read before the encryption.
    let before = {
        let store = Store::open(&vault.store_path()).unwrap();
        dump(store.connection())
    };
    let started = vault.start().unwrap();
    let Started::Encrypted { rows, backups } = started else {
        panic!("expected an encryption, got {started:?}");
    };
    assert_eq!(backups, 1);
    assert_eq!(
        rows,
        before.values().map(|r| r.len() as u64).sum::<u64>(),
        "every row of every table copied"
    );
    assert_eq!(
        store_file_kind(&vault.store_path()).unwrap(),
        StoreFile::Encrypted
    );
    assert_nothing_readable(&dir);
    // The same start again finds an encrypted store and leaves it be.
    assert_eq!(vault.start().unwrap(), Started::Locked);
    // A plain opening of the file reads nothing.
    let raw = rusqlite::Connection::open(vault.store_path()).unwrap();
    assert!(raw
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
        .is_err());
    // The officer signs in offline; every record is there, byte for byte.
    let (open, user) = vault.unlock("officer", "password-1").unwrap();
    assert_eq!(user.username, "officer");
    let after = dump(open.store().connection());
    assert_eq!(after, before);
    assert_eq!(
        open.store().schema_version().unwrap(),
        jiceng_core::store::STORE_SCHEMA
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(vault.key_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads the key file");
    }
    // The site card is there for the screens before sign-in.
    let card = vault.site_card().unwrap().expect("site card");
    assert_eq!(card.site_id, "laptop-a");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_interrupted_encryption_is_done_again_from_the_plain_store() {
    let dir = temp_dir("interrupted");
    plain_store_of_the_previous_release(&dir);
    let vault = LocalVault::new(&dir).with_clock(Arc::new(|| NOW_MS));
    // A crash left half an encrypted copy and a key file for a key nobody holds any more.
    std::fs::write(dir.join("jiceng.sqlite.encrypting"), b"half a copy").unwrap();
    std::fs::write(vault.key_path(), b"{\"version\":1,\"entries\":[]}").unwrap();
    assert!(matches!(vault.start().unwrap(), Started::Encrypted { .. }));
    assert!(!dir.join("jiceng.sqlite.encrypting").exists());
    let (open, _) = vault.unlock("head", "所长-pass-9").unwrap();
    assert_eq!(open.store().count_rows("corr_case").unwrap(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_wrong_password_opens_nothing_and_five_lock_the_account_while_the_store_is_locked() {
    let dir = temp_dir("lockout");
    plain_store_of_the_previous_release(&dir);
    let (now, clock) = moving_clock();
    let vault = LocalVault::new(&dir).with_clock(clock);
    vault.start().unwrap();
    for attempt in 1..=5 {
        now.fetch_add(1_000, Ordering::SeqCst);
        let err = vault.unlock("officer", "wrong-pass-1").err().unwrap();
        if attempt < 5 {
            assert!(
                matches!(err, CoreError::BadCredentials),
                "{attempt}: {err:?}"
            );
        } else {
            assert!(matches!(err, CoreError::AccountLocked { .. }), "{err:?}");
        }
    }
    // Locked: even the right password is refused, without opening anything.
    let err = vault.unlock("officer", "password-1").err().unwrap();
    assert!(matches!(err, CoreError::AccountLocked { .. }), "{err:?}");
    // Another account of the office is not locked.
    let (open, _) = vault.unlock("head", "所长-pass-9").unwrap();
    // The head's opening carried the officer's five failures into the login record, as operations.
    let failures: i64 = open
        .store()
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM auth_event e JOIN app_user u ON u.id = e.user_id \
             WHERE u.username = 'officer' AND e.kind = 'login_failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failures, 5);
    drop(open);
    // Still locked in the store's own record; 15 minutes later the right password works.
    let err = vault.unlock("officer", "password-1").err().unwrap();
    assert!(matches!(err, CoreError::AccountLocked { .. }), "{err:?}");
    now.fetch_add(15 * 60 * 1000, Ordering::SeqCst);
    vault.unlock("officer", "password-1").unwrap();
    // A password from another account, a stranger, a wrong key: nothing opens.
    assert!(matches!(
        vault.unlock("officer", "所长-pass-9").err().unwrap(),
        CoreError::BadCredentials
    ));
    assert!(matches!(
        vault.unlock("stranger", "password-1").err().unwrap(),
        CoreError::NoKeyEntry(_)
    ));
    assert!(matches!(
        Store::open_encrypted(&vault.store_path(), &DatabaseKey::generate())
            .err()
            .unwrap(),
        CoreError::WrongStoreKey
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_account_that_arrives_later_opens_the_store_and_a_changed_password_replaces_the_old_one() {
    let dir = temp_dir("accounts");
    plain_store_of_the_previous_release(&dir);
    let vault = LocalVault::new(&dir).with_clock(Arc::new(|| NOW_MS));
    vault.start().unwrap();
    {
        let (open, officer) = vault.unlock("officer", "password-1").unwrap();
        // A colleague's account arrives (by sync, here written directly) while the officer works.
        open.store()
            .create_user(
                "district",
                &NewUser {
                    username: "newcomer".to_string(),
                    display_name: "新同事".to_string(),
                    role: Role::JudicialOfficer,
                    org_unit_id: OFFICE.to_string(),
                    password: "新同事-pass-1".to_string(),
                },
            )
            .unwrap();
        open.store()
            .change_password(&officer, "password-1", "changed-pass-2027")
            .unwrap();
        vault.refresh(&open).unwrap();
    }
    // The newcomer never signed in on this PC and opens it offline.
    let (_, newcomer) = vault.unlock("newcomer", "新同事-pass-1").unwrap();
    assert_eq!(newcomer.display_name, "新同事");
    assert!(matches!(
        vault.unlock("officer", "password-1").err().unwrap(),
        CoreError::BadCredentials
    ));
    vault.unlock("officer", "changed-pass-2027").unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_sites_recovery_code_opens_the_store_and_backups_stay_encrypted() {
    let dir = temp_dir("recovery");
    plain_store_of_the_previous_release(&dir);
    let vault = LocalVault::new(&dir).with_clock(Arc::new(|| NOW_MS));
    vault.start().unwrap();
    assert!(vault.needs_recovery_code().unwrap());
    {
        let (open, _) = vault.unlock("officer", "password-1").unwrap();
        vault
            .set_recovery_code(&open, "7Q2M-88ZK-PLX4-AB12-CD34")
            .unwrap();
        // A backup of the encrypted store is encrypted under the same key.
        let file = jiceng_core::backups::backup(&open.store(), &dir).unwrap();
        let path = jiceng_core::backups::backup_dir(&dir).join(&file.name);
        assert_eq!(store_file_kind(&path).unwrap(), StoreFile::Encrypted);
        let copy = Store::open_encrypted(&path, open.key()).unwrap();
        assert_eq!(copy.count_rows("corr_case").unwrap(), 1);
    }
    assert!(!vault.needs_recovery_code().unwrap());
    assert_nothing_readable(&dir);
    let err = vault
        .unlock_with_recovery("7Q2M-88ZK-PLX4-AB12-CD35")
        .err()
        .unwrap();
    assert_eq!(err.code(), "invalid_input");
    let open = vault
        .unlock_with_recovery("7q2m 88zk plx4 ab12 cd34")
        .unwrap();
    assert_eq!(open.store().count_rows("corr_case").unwrap(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_new_pc_gets_an_encrypted_store_and_an_enrolment_that_never_finished_is_set_aside() {
    let dir = temp_dir("fresh");
    let vault = LocalVault::new(&dir).with_clock(Arc::new(|| NOW_MS));
    assert_eq!(vault.start().unwrap(), Started::Fresh);
    drop(vault.create().unwrap());
    assert_eq!(
        store_file_kind(&vault.store_path()).unwrap(),
        StoreFile::Encrypted
    );
    assert!(vault.site_card().unwrap().is_none());
    // The app closed before the enrolment finished: the next one starts afresh, the old file kept.
    let open = vault.create().unwrap();
    let aside = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".unenrolled-")
        })
        .count();
    assert!(aside >= 1);
    // Enrolled: the card is written and a second creation is refused.
    open.store().set_identity(&identity("laptop-b")).unwrap();
    vault.refresh(&open).unwrap();
    assert_eq!(vault.site_card().unwrap().unwrap().site_id, "laptop-b");
    drop(open);
    assert!(vault.create().is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_encrypted_store_keeps_a_small_page_cache_and_a_large_one_only_for_a_bulk_merge() {
    use jiceng_core::store::page_cache::{BULK_CACHE_KIB, RESTING_CACHE_KIB};
    let dir = temp_dir("page-cache");
    let vault = LocalVault::new(&dir).with_clock(Arc::new(|| NOW_MS));
    let open = vault.create().unwrap();
    let store = open.store();
    // Issue 14 §5: the desktop's memory between syncs.
    assert_eq!(store.page_cache_kib().unwrap(), RESTING_CACHE_KIB);
    store.bulk_page_cache(true).unwrap();
    assert_eq!(store.page_cache_kib().unwrap(), BULK_CACHE_KIB);
    store.bulk_page_cache(false).unwrap();
    assert_eq!(store.page_cache_kib().unwrap(), RESTING_CACHE_KIB);
}
