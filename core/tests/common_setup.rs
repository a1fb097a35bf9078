// Shared set-up for core's integration tests (included with `mod common_setup;`).
#![allow(dead_code)]

use jiceng_core::model::{OrgKind, Role, SessionUser};
use jiceng_core::store::{NewUser, SiteIdentity, Store};

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
    }
}

/// A store enrolled as `site_id`, with a district, one township office and an officer.
pub fn office_store(site_id: &str) -> (Store, SessionUser) {
    let mut store = Store::open_in_memory().expect("store");
    store.set_identity(&identity(site_id)).expect("identity");
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
    let user = store.login("officer", "password-1").expect("login");
    (store, user)
}

pub const COMMUNITY: &str = "community-1";

/// A community workstation's store: the office store plus a community under it and its clerk.
pub fn community_store(site_id: &str) -> (Store, SessionUser) {
    let (mut store, _) = office_store(site_id);
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
