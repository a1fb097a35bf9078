// Shared set-up for core's integration tests (included with `mod common_setup;`).
#![allow(dead_code)]

use jiceng_core::model::{CaseInput, CaseKind, OrgKind, Role, SessionUser};
use jiceng_core::store::{NewUser, SiteIdentity, Store, WallClock};
use std::sync::Arc;

/// "Now" for every store these helpers make, unless a test passes its own clock: 2026-11-30 10:00
/// Asia/Shanghai (02:00 UTC), a Monday, when these tests were written. It lies after every date the
/// tests record as already past (judgments, documents, appeals received up to 2026-11-20) and in a year
/// the shipped holiday calendar covers. No test reads the real date: scripts/test.sh runs the suite
/// again under faketime, 200 days ahead and on the coming 1 January, so one that does fails the day it
/// is written.
pub const NOW_MS: u64 = 1_796_004_000_000;

/// A wall clock stopped at `NOW_MS` (the HLC still moves on by its logical counter).
pub fn fixed_clock() -> WallClock {
    Arc::new(|| NOW_MS)
}

/// A clock that starts at `NOW_MS` and moves only when the test moves it.
pub fn moving_clock() -> (Arc<std::sync::atomic::AtomicU64>, WallClock) {
    let now = Arc::new(std::sync::atomic::AtomicU64::new(NOW_MS));
    let clock = {
        let now = now.clone();
        Arc::new(move || now.load(std::sync::atomic::Ordering::SeqCst)) as WallClock
    };
    (now, clock)
}

/// An empty in-memory store on `clock` (no identity yet).
pub fn store_at(clock: WallClock) -> Store {
    Store::open_in_memory().expect("store").with_clock(clock)
}

pub const OFFICE: &str = "office-1";
pub const DISTRICT: &str = "district-1";

pub fn identity(site_id: &str) -> SiteIdentity {
    SiteIdentity {
        site_id: site_id.to_string(),
        site_name: format!("site {site_id}"),
        org_unit_id: OFFICE.to_string(),
        org_unit_name: "北新桥街道".to_string(),
        server_url: "http://127.0.0.1:9".to_string(),
        token: "t".to_string(),
        tls_pin: None,
    }
}

/// A store enrolled as `site_id`, with a district, one township office and an officer, at `NOW_MS`.
pub fn office_store(site_id: &str) -> (Store, SessionUser) {
    office_store_at(site_id, fixed_clock())
}

/// `office_store` on the test's own clock, set-up writes included.
pub fn office_store_at(site_id: &str, clock: WallClock) -> (Store, SessionUser) {
    let mut store = store_at(clock);
    store.set_identity(&identity(site_id)).expect("identity");
    let user = seed_office_user(&mut store);
    (store, user)
}

/// The district, the township office and its officer, written into an enrolled store; the officer
/// logged in.
pub fn seed_office_user(store: &mut Store) -> SessionUser {
    store
        .create_org_unit("setup", DISTRICT, None, OrgKind::District, "示范区")
        .expect("district");
    store
        .create_org_unit(
            "setup",
            OFFICE,
            Some(DISTRICT),
            OrgKind::Township,
            "北新桥街道",
        )
        .expect("office");
    store
        .create_user(
            "setup",
            &NewUser {
                username: "officer".to_string(),
                display_name: "矫正专干".to_string(),
                role: Role::JudicialOfficer,
                org_unit_id: OFFICE.to_string(),
                password: "password-1".to_string(),
            },
        )
        .expect("user");
    // A store kept at an older schema (the previous release's, for the upgrade tests) has no account
    // events: the session is the one that release's login gave.
    if store.schema_version().expect("schema") < jiceng_core::store::STORE_SCHEMA {
        let user_id: String = store
            .connection()
            .query_row(
                "SELECT id FROM app_user WHERE username = 'officer'",
                [],
                |r| r.get(0),
            )
            .expect("user id");
        return SessionUser {
            user_id,
            username: "officer".to_string(),
            display_name: "矫正专干".to_string(),
            role: Role::JudicialOfficer,
            org_unit_id: OFFICE.to_string(),
        };
    }
    store.login("officer", "password-1").expect("login")
}

pub const COMMUNITY: &str = "community-1";

/// A community workstation's store: the office store plus a community under it and its clerk, at
/// `NOW_MS`.
pub fn community_store(site_id: &str) -> (Store, SessionUser) {
    community_store_at(site_id, fixed_clock())
}

/// `community_store` on the test's own clock, set-up writes included.
pub fn community_store_at(site_id: &str, clock: WallClock) -> (Store, SessionUser) {
    let (mut store, _) = office_store_at(site_id, clock);
    store
        .create_org_unit(
            "setup",
            COMMUNITY,
            Some(OFFICE),
            OrgKind::Community,
            "民安社区",
        )
        .expect("community");
    store
        .create_user(
            "setup",
            &NewUser {
                username: "clerk".to_string(),
                display_name: "社区工作人员".to_string(),
                role: Role::CommunityClerk,
                org_unit_id: COMMUNITY.to_string(),
                password: "password-9".to_string(),
            },
        )
        .expect("clerk");
    let clerk = store.login("clerk", "password-9").expect("login");
    (store, clerk)
}

/// A probation case of `name` and `id_number` (a valid GB 11643 number), sentence 2026-03-01 to
/// 2027-02-28 (before and after `NOW_MS`), the rest left to the defaults.
pub fn case_input(name: &str, id_number: &str) -> CaseInput {
    CaseInput {
        id: None,
        name: name.to_string(),
        id_number: id_number.to_string(),
        kind: CaseKind::Probation,
        sentence_start: "2026-03-01".to_string(),
        sentence_end: "2027-02-28".to_string(),
        org_unit_id: None,
        status: None,
        judgment_effective_on: None,
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    }
}
