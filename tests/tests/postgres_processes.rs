//! Issue 12 §2: two `jiceng-server serve` processes over one PostgreSQL master serve one district, as
//! behind a load balancer. Real desktops' stores enrol and sync through either process; what one
//! office writes through one process reaches the district through the other, both ways, and every
//! site ends equal to the master's scoped view. The demo district itself was made by the admin CLI on
//! PostgreSQL (the server's own writes through core's write path).

use jiceng_core::model::{CaseInput, CaseKind, CaseQuery};
use jiceng_tests::{Site, TestServer};

fn case(name: &str, day: u32) -> CaseInput {
    CaseInput {
        id: None,
        name: name.to_string(),
        id_number: jiceng_core::idcard::compose(
            "320102",
            chrono::NaiveDate::from_ymd_opt(1990, 3, day).expect("date"),
            17,
        ),
        kind: CaseKind::Probation,
        sentence_start: "2026-05-01".to_string(),
        sentence_end: "2027-04-30".to_string(),
        org_unit_id: None,
        status: None,
        judgment_effective_on: None,
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    }
}

fn case_names(site: &Site, username: &str) -> Vec<String> {
    let user = site.login(username);
    let mut names: Vec<String> = site
        .lock()
        .list_cases(
            &user,
            &CaseQuery {
                text: None,
                page: 1,
                page_size: 200,
                include_deleted: true,
            },
        )
        .expect("list")
        .items
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_over_one_postgres_master_serve_one_district() {
    let (first, demo) = TestServer::start_demo_postgres("two_processes");
    let second = first.another_process();
    let office = Site::enrol_via(&first, &demo, "北新桥街道司法所", &first.url()).await;
    let district = Site::enrol_via(&first, &demo, "区司法局", &second.url()).await;
    let other_office = Site::enrol_via(&first, &demo, "和平里街道司法所", &second.url()).await;

    // The demo's cases (made by the admin CLI on PostgreSQL) reached their office and the district.
    let demo_cases = case_names(&office, "officer1");
    assert_eq!(demo_cases.len(), 3, "{demo_cases:?}");
    assert_eq!(case_names(&district, "admin"), demo_cases);
    assert!(case_names(&other_office, "officer2").is_empty());

    // The office writes through the first process; the district reads it through the second.
    let officer = office.login("officer1");
    office
        .lock()
        .save_case(&officer, case("𠀀新案甲", 3))
        .expect("save case");
    office.sync().await.expect("office sync via process 1");
    district.sync().await.expect("district sync via process 2");
    assert!(case_names(&district, "admin").contains(&"𠀀新案甲".to_string()));
    assert!(!case_names(&other_office, "officer2").contains(&"𠀀新案甲".to_string()));

    // And the other way: the other office writes through the second process while the first office
    // writes again through the first; each sync sees the other's work where its scope allows.
    let officer2 = other_office.login("officer2");
    other_office
        .lock()
        .save_case(&officer2, case("和平里新案", 4))
        .expect("save case");
    office
        .lock()
        .save_case(&officer, case("北新桥新案", 5))
        .expect("save case");
    let (a, b) = tokio::join!(office.sync(), other_office.sync());
    a.expect("office sync");
    b.expect("other office sync");
    district.sync().await.expect("district sync");
    let at_district = case_names(&district, "admin");
    for name in ["𠀀新案甲", "和平里新案", "北新桥新案"] {
        assert!(
            at_district.contains(&name.to_string()),
            "{name}: {at_district:?}"
        );
    }
    assert_eq!(at_district.len(), 6);
    assert_eq!(
        case_names(&other_office, "officer2"),
        vec!["和平里新案".to_string()]
    );
    assert_eq!(case_names(&office, "officer1").len(), 5);

    // The admin CLI given a replica_dir makes its writes on a replica file there, which the next
    // run takes up again (a district of its own for the check; what it does to the records is
    // the backends' suite's, sync-server/tests/backends.rs).
    let replica_dir = first.dir.join("cli-replica");
    let replica_dir = replica_dir.to_str().expect("utf-8 path");
    for name in ["甲区", "乙区"] {
        jiceng_tests::run_cli(
            &first.master_path(),
            &[
                "--replica-dir",
                replica_dir,
                "admin",
                "org-add",
                "--kind",
                "district",
                "--name",
                name,
            ],
        );
    }
    let files: Vec<String> = std::fs::read_dir(replica_dir)
        .expect("the replica_dir made")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sqlite"))
        .collect();
    assert_eq!(files, vec!["admin-replica-0.sqlite".to_string()]);
    drop(second);
}
