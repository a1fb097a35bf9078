//! Issue 11 §4 through the store: five failed logins lock an account for 15 minutes (offline, recorded
//! as operations that sync, counted across the unit's PCs); password rules on every new password; a
//! user changes their own; the office head resets one, which lifts the lock and must be changed.

mod common_setup;

use common_setup::{moving_clock, office_store_at, OFFICE};
use jiceng_core::model::Role;
use jiceng_core::store::NewUser;
use jiceng_core::{CoreError, Store};
use std::sync::atomic::Ordering;

fn add_head(store: &mut Store) {
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
}

fn auth_events(store: &Store) -> Vec<String> {
    let mut stmt = store
        .connection()
        .prepare("SELECT kind FROM auth_event ORDER BY at, id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn five_failed_logins_lock_the_account_for_15_minutes_offline_and_are_recorded() {
    let (now, clock) = moving_clock();
    let (mut store, _) = office_store_at("laptop-a", clock);
    let logged = store.unacked_count().unwrap();
    for i in 0..4 {
        now.fetch_add(1_000, Ordering::SeqCst);
        let err = store.login("officer", "wrong-pass-1").unwrap_err();
        assert!(
            matches!(err, CoreError::BadCredentials),
            "attempt {i}: {err:?}"
        );
    }
    now.fetch_add(1_000, Ordering::SeqCst);
    let locked = store.login("officer", "wrong-pass-1").unwrap_err();
    assert_eq!(locked.code(), "account_locked");
    assert!(
        locked.message_zh().contains("账号已锁定"),
        "{}",
        locked.message_zh()
    );
    // Even the right password opens nothing while locked, and a locked attempt is not counted again.
    now.fetch_add(60_000, Ordering::SeqCst);
    assert_eq!(
        store.login("officer", "password-1").unwrap_err().code(),
        "account_locked"
    );
    assert_eq!(auth_events(&store).len(), 5, "five failures recorded");
    assert!(
        store.unacked_count().unwrap() > logged,
        "the failures are operations that sync to the unit's PCs and the district"
    );
    now.fetch_add(15 * 60_000, Ordering::SeqCst);
    let user = store.login("officer", "password-1").unwrap();
    assert_eq!(user.username, "officer");
    // A new run of failures closed by a success is recorded as closed.
    for _ in 0..2 {
        now.fetch_add(1_000, Ordering::SeqCst);
        let _ = store.login("officer", "wrong-pass-1");
    }
    now.fetch_add(1_000, Ordering::SeqCst);
    store.login("officer", "password-1").unwrap();
    assert_eq!(
        auth_events(&store).last().map(String::as_str),
        Some("login_ok"),
        "the run of failures is closed"
    );
    // A plain login after that writes nothing more.
    let before = auth_events(&store).len();
    store.login("officer", "password-1").unwrap();
    assert_eq!(auth_events(&store).len(), before);
    // An unknown username records nothing (there is no account to lock).
    assert!(matches!(
        store.login("nobody", "x").unwrap_err(),
        CoreError::BadCredentials
    ));
    assert_eq!(auth_events(&store).len(), before);
}

#[test]
fn failures_on_another_pc_of_the_unit_count_once_synced() {
    let (now, clock) = moving_clock();
    let (mut laptop, _) = office_store_at("laptop-a", clock.clone());
    // The office's other PC holds the same users (as the server hands them to every PC of the unit).
    let mut office_pc = common_setup::store_at(clock);
    office_pc
        .set_identity(&common_setup::identity("office-pc"))
        .unwrap();
    office_pc
        .apply_remote(&laptop.own_log().unwrap(), 1)
        .unwrap();
    for _ in 0..3 {
        now.fetch_add(1_000, Ordering::SeqCst);
        let _ = laptop.login("officer", "wrong-pass-1");
    }
    // The office PC receives the laptop's failure events (as a pull would bring them).
    let ops: Vec<_> = laptop
        .own_log()
        .unwrap()
        .into_iter()
        .filter(|op| op.table == "auth_event")
        .collect();
    office_pc.apply_remote(&ops, 2).unwrap();
    for _ in 0..2 {
        now.fetch_add(1_000, Ordering::SeqCst);
        let _ = office_pc.login("officer", "wrong-pass-1");
    }
    assert_eq!(
        office_pc.login("officer", "password-1").unwrap_err().code(),
        "account_locked"
    );
}

#[test]
fn a_user_changes_their_password_under_the_rules() {
    let (_, clock) = moving_clock();
    let (mut store, user) = office_store_at("laptop-a", clock);
    let wrong = store
        .change_password(&user, "not-it-1", "new-pass-2026")
        .unwrap_err();
    assert!(wrong.message_zh().contains("当前密码不正确"));
    for (weak, says) in [
        ("short1", "至少8位"),
        ("abcdefghij", "至少两种"),
        ("officer-2026", "用户名"),
        ("12345678", "至少两种"),
        ("abcd1234", "常见"),
    ] {
        let err = store
            .change_password(&user, "password-1", weak)
            .unwrap_err();
        assert!(
            err.message_zh().contains(says),
            "{weak}: {}",
            err.message_zh()
        );
    }
    store
        .change_password(&user, "password-1", "北新桥-2026-春")
        .unwrap();
    assert!(store.login("officer", "password-1").is_err());
    let again = store.login("officer", "北新桥-2026-春").unwrap();
    assert!(!store.account_state(&again).unwrap().must_change_password);
    assert!(auth_events(&store).contains(&"password_changed".to_string()));
}

#[test]
fn the_office_head_resets_a_password_which_lifts_the_lock_and_must_be_changed() {
    let (now, clock) = moving_clock();
    let (mut store, officer) = office_store_at("laptop-a", clock);
    add_head(&mut store);
    for _ in 0..5 {
        now.fetch_add(1_000, Ordering::SeqCst);
        let _ = store.login("officer", "wrong-pass-1");
    }
    assert_eq!(
        store.login("officer", "password-1").unwrap_err().code(),
        "account_locked"
    );
    let head = store.login("head", "所长-pass-9").unwrap();
    // An officer resets nobody.
    assert!(store
        .reset_password(&officer, &head.user_id, "temp-pass-1")
        .is_err());
    let accounts = store.unit_accounts(&head).unwrap();
    let listed = accounts
        .iter()
        .find(|a| a.username == "officer")
        .expect("the officer is listed");
    assert!(listed.locked_until.is_some(), "the head sees the lock");
    store
        .reset_password(&head, &officer.user_id, "临时-密码-2026-7")
        .unwrap();
    let back = store.login("officer", "临时-密码-2026-7").unwrap();
    assert!(store.account_state(&back).unwrap().must_change_password);
    store
        .change_password(&back, "临时-密码-2026-7", "officer的新密码9")
        .unwrap_err();
    store
        .change_password(&back, "临时-密码-2026-7", "新的-密码-2026")
        .unwrap();
    assert!(!store.account_state(&back).unwrap().must_change_password);
    let events = auth_events(&store);
    assert!(events.contains(&"password_reset".to_string()), "{events:?}");
}
