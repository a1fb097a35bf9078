//! Issue 13 §3 (D-2): the district administers its org tree, sites and users from its desktop. Each
//! change is made by the server, reaches the sites it concerns, and is kept in the district's audit
//! with who made it; refusals are clear (in Chinese at the desktop, a 4xx with a code at the API).
//! Runs on both masters (JICENG_TEST_MASTER=postgres).

use jiceng_core::directory_admin::{AdminDirectory, AdminRequest};
use jiceng_core::district_sites::{admin_action, admin_directory};
use jiceng_core::store::Store;
use jiceng_tests::raw::Api;
use jiceng_tests::{Site, TestServer};
use std::sync::Mutex;

fn unit_named(directory: &AdminDirectory, name: &str) -> String {
    directory
        .org_units
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("unit {name} in {:?}", directory.org_units))
        .id
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_adds_a_community_its_site_and_clerk_and_every_change_is_audited() {
    let (server, demo) = TestServer::start_demo("district-admin");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let admin = district.login("admin");

    let before = admin_directory(&district.store, &admin).await.unwrap();
    let district_unit = unit_named(&before, "示范区");
    let township = before
        .org_units
        .iter()
        .find(|u| u.kind == "township")
        .expect("a township")
        .clone();
    // Users are listed without any password hash.
    assert!(before.users.iter().any(|u| u.username == "admin"));

    // A community under the township, named with a 4-byte character.
    let added = admin_action(
        &district.store,
        &admin,
        AdminRequest::AddOrgUnit {
            parent_id: township.id.clone(),
            kind: "community".to_string(),
            name: "𠮷祥社区".to_string(),
        },
    )
    .await
    .unwrap();
    let community = added.record.target.clone();
    assert_eq!(added.record.by, admin.display_name);
    assert_eq!(added.record.via_site, district.site_id());

    // A community cannot sit under the district, nor a clerk at a township: refused in Chinese at
    // the desktop, before any request.
    let wrong_level = admin_action(
        &district.store,
        &admin,
        AdminRequest::AddOrgUnit {
            parent_id: district_unit.clone(),
            kind: "community".to_string(),
            name: "错层社区".to_string(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        wrong_level.message_zh().contains("社区应在乡镇街道之下"),
        "{}",
        wrong_level.message_zh()
    );

    // Its site and enrolment code; a new PC enrols with the code and syncs.
    let site = admin_action(
        &district.store,
        &admin,
        AdminRequest::AddSite {
            org_unit_id: community.clone(),
            name: "𠮷祥社区工作站".to_string(),
        },
    )
    .await
    .unwrap();
    let code = site.enrolment_code.clone().expect("a one-time code");
    let new_site_id = site.record.target.clone();

    // Its clerk.
    let clerk = admin_action(
        &district.store,
        &admin,
        AdminRequest::AddUser {
            username: "clerk_jixiang".to_string(),
            display_name: "𠮷祥工作人员".to_string(),
            role: "community_clerk".to_string(),
            org_unit_id: community.clone(),
            password: "Jixiang-2026!".to_string(),
        },
    )
    .await
    .unwrap();
    let clerk_id = clerk.record.target.clone();
    assert!(!clerk.record.detail.contains("Jixiang-2026!"));
    let misplaced = admin_action(
        &district.store,
        &admin,
        AdminRequest::AddUser {
            username: "misplaced".to_string(),
            display_name: "放错的人".to_string(),
            role: "community_clerk".to_string(),
            org_unit_id: township.id.clone(),
            password: "Misplaced-2026!".to_string(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        misplaced.message_zh().contains("该角色不能设在所选单位"),
        "{}",
        misplaced.message_zh()
    );
    // A username another account holds: the server refuses it, and the desktop says so in Chinese.
    let taken = admin_action(
        &district.store,
        &admin,
        AdminRequest::AddUser {
            username: "clerk1".to_string(),
            display_name: "重名的人".to_string(),
            role: "community_clerk".to_string(),
            org_unit_id: community.clone(),
            password: "Taken-name-2026!".to_string(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        taken.message_zh().contains("用户名已存在"),
        "{}",
        taken.message_zh()
    );

    let path = server.dir.join("jixiang.sqlite");
    let workstation = Mutex::new(Store::open(&path).unwrap());
    jiceng_core::sync::enrol(&workstation, &server.enrolment_address(), &code)
        .await
        .unwrap();
    let signed_in = workstation
        .lock()
        .unwrap()
        .login("clerk_jixiang", "Jixiang-2026!")
        .expect("the new clerk signs in on the new PC");
    assert_eq!(signed_in.org_unit_id, community);

    // A re-enrolment code for the same site.
    let again = admin_action(
        &district.store,
        &admin,
        AdminRequest::NewEnrolmentCode {
            site_id: new_site_id.clone(),
        },
    )
    .await
    .unwrap();
    assert!(again.enrolment_code.is_some_and(|c| c != code));

    // Disabled: no sign-in on the PC after its next sync; enabled again: the same password works.
    admin_action(
        &district.store,
        &admin,
        AdminRequest::SetUserDisabled {
            user_id: clerk_id.clone(),
            disabled: true,
            reason: "调离".to_string(),
        },
    )
    .await
    .unwrap();
    jiceng_core::sync::sync_now(&workstation).await.unwrap();
    assert!(workstation
        .lock()
        .unwrap()
        .login("clerk_jixiang", "Jixiang-2026!")
        .is_err());
    // A disabled user's password is not reset (409), and the refusal is recorded nowhere.
    let reset_disabled = admin_action(
        &district.store,
        &admin,
        AdminRequest::ResetPassword {
            user_id: clerk_id.clone(),
            temporary_password: "Temporary-2026!".to_string(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        reset_disabled.message_zh().contains("请先启用"),
        "{}",
        reset_disabled.message_zh()
    );
    admin_action(
        &district.store,
        &admin,
        AdminRequest::SetUserDisabled {
            user_id: clerk_id.clone(),
            disabled: false,
            reason: String::new(),
        },
    )
    .await
    .unwrap();
    admin_action(
        &district.store,
        &admin,
        AdminRequest::ResetPassword {
            user_id: clerk_id.clone(),
            temporary_password: "Temporary-2026!".to_string(),
        },
    )
    .await
    .unwrap();
    jiceng_core::sync::sync_now(&workstation).await.unwrap();
    {
        let mut store = workstation.lock().unwrap();
        let back = store
            .login("clerk_jixiang", "Temporary-2026!")
            .expect("the reset password signs in");
        assert!(store.account_state(&back).unwrap().must_change_password);
    }

    // Nobody disables their own account.
    let myself = admin_action(
        &district.store,
        &admin,
        AdminRequest::SetUserDisabled {
            user_id: admin.user_id.clone(),
            disabled: true,
            reason: String::new(),
        },
    )
    .await
    .unwrap_err();
    assert!(myself.message_zh().contains("不能停用自己的账号"));

    // The audit: every change made, newest first, by the district's user, from its desktop; the
    // refused ones are not there.
    let after = admin_directory(&district.store, &admin).await.unwrap();
    let actions: Vec<&str> = after.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "reset_password",
            "enable_user",
            "disable_user",
            "new_enrolment_code",
            "add_user",
            "add_site",
            "add_org_unit"
        ]
    );
    assert!(after
        .actions
        .iter()
        .all(|a| a.by == admin.display_name && a.by_user_id == admin.user_id));
    assert_eq!(after.actions[2].detail, "调离");
    assert!(after.org_units.iter().any(|u| u.name == "𠮷祥社区"));
    assert!(after
        .users
        .iter()
        .any(|u| u.id == clerk_id && !u.disabled && u.display_name == "𠮷祥工作人员"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_district_site_administers_and_bad_calls_get_a_4xx_with_a_code() {
    let (server, demo) = TestServer::start_demo("district-admin-api");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let api = Api::connect(server.url()).await;

    let (status, body) = api
        .get(Some(&office.token()), "/api/v1/admin/directory")
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let call = serde_json::json!({
        "by": {"user_id": "u", "name": "所长"},
        "request": {"action": "add_site", "org_unit_id": "x", "name": "站"}
    });
    let (status, _) = api
        .post(&office.token(), "/api/v1/admin/actions", &call)
        .await;
    assert_eq!(status, 403);

    // The district: an unknown action, a missing actor, an unknown unit, a blank name.
    for (body, want) in [
        (
            serde_json::json!({"by": {"user_id": "u", "name": "管理员"}, "request": {"action": "drop_everything"}}),
            422,
        ),
        (
            serde_json::json!({"by": {"user_id": "", "name": "管理员"}, "request": {"action": "new_enrolment_code", "site_id": "x"}}),
            400,
        ),
        (
            serde_json::json!({"by": {"user_id": "u", "name": "管理员"}, "request": {"action": "add_site", "org_unit_id": "nowhere", "name": "站"}}),
            404,
        ),
        (
            serde_json::json!({"by": {"user_id": "u", "name": "管理员"}, "request": {"action": "add_user", "username": "a", "display_name": "  ", "role": "district_admin", "org_unit_id": "nowhere", "password": "x"}}),
            404,
        ),
    ] {
        let (status, answer) = api
            .post(&district.token(), "/api/v1/admin/actions", &body)
            .await;
        assert!(
            status == want || (want == 422 && status == 400),
            "{body} -> {status} {answer}"
        );
        assert!(answer["code"].is_string(), "{answer}");
    }
    // Nothing refused was recorded.
    let (status, directory) = api
        .get(Some(&district.token()), "/api/v1/admin/directory")
        .await;
    assert_eq!(status, 200);
    assert_eq!(directory["actions"].as_array().map(Vec::len), Some(0));
}
