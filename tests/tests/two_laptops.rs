//! Issue 3's test: two officers' laptops of the same office, both offline, work on the same case — one
//! records labour (C-10), the other a warning (L-8), and both edit the address (C-7). After sync both
//! laptops and the master agree, the labour and the warning are both there, and the address conflict waits
//! for review (D-3).

use jiceng_core::model::{EntryInput, EntryKind};
use jiceng_tests::{Site, TestServer};

/// Today in Asia/Shanghai on the test server's clock.
fn today() -> String {
    jiceng_tests::raw::shanghai_day(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c10_l8_c7_two_offline_laptops_of_one_office_merge_entries_and_flag_the_address() {
    let (mut server, mut demo) = TestServer::start_demo_tls("two-laptops");
    server.add_site_like(&mut demo, "北新桥街道司法所", "笔记本2");
    let laptop_a = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let laptop_b = Site::enrol(&server, &demo, "笔记本2").await;
    let officer_a = laptop_a.login("officer1");
    let officer_b = laptop_b.login("officer1");
    let case = laptop_a
        .lock()
        .list_cases(&officer_a, &Default::default())
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.name == "李四")
        .unwrap();

    server.kill();
    let edit_address = |site: &Site, user, address: &str| {
        let mut input = jiceng_core::model::CaseInput::edit_of(&case);
        input.address = Some(address.to_string());
        site.lock().save_case(user, input).unwrap();
    };
    let entry = |kind, minutes| EntryInput {
        case_id: case.id.clone(),
        kind,
        occurred_on: today(),
        minutes,
        days: None,
        ref_entry_id: None,
        note: String::new(),
    };
    laptop_a
        .lock()
        .add_entry(&officer_a, entry(EntryKind::Labour, Some(480)))
        .unwrap();
    edit_address(&laptop_a, &officer_a, "北京市东城区民安小区3号楼2单元401");
    laptop_b
        .lock()
        .add_entry(&officer_b, entry(EntryKind::Warning, None))
        .unwrap();
    edit_address(&laptop_b, &officer_b, "北京市东城区交道口南大街5号");

    server.start();
    for site in [&laptop_b, &laptop_a, &laptop_b] {
        site.sync().await.expect("sync");
    }
    let a = laptop_a.lock().get_case(&officer_a, &case.id).unwrap();
    let b = laptop_b.lock().get_case(&officer_b, &case.id).unwrap();
    for detail in [&a, &b] {
        let kinds: Vec<EntryKind> = detail.entries.iter().map(|e| e.kind).collect();
        assert!(
            kinds.contains(&EntryKind::Labour) && kinds.contains(&EntryKind::Warning),
            "{kinds:?}"
        );
        assert_eq!(
            detail.conflicts.len(),
            1,
            "the address conflict waits for review"
        );
        assert_eq!(detail.conflicts[0].field, "address");
    }
    assert_eq!(
        a.case.address, b.case.address,
        "both laptops show the same provisional winner"
    );
    let master = server.master();
    let address = master
        .row("corr_case", &case.id)
        .and_then(|r| {
            r.get("address")
                .and_then(|a| a.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let conflicts = master
        .conflicts()
        .iter()
        .filter(|k| k.row_id == case.id && k.field == "address")
        .count();
    let entries = master.rows_where("corr_entry", "case_id", &case.id).len();
    assert_eq!(
        (address.as_str(), conflicts, entries),
        (a.case.address.as_str(), 1, 2)
    );
    println!("two laptops: labour and warning both kept; the address conflict waits for review on both and the master");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d3_the_district_decides_the_address_conflict_and_every_copy_follows() {
    let (mut server, mut demo) = TestServer::start_demo_tls("d3-review");
    server.add_site_like(&mut demo, "北新桥街道司法所", "笔记本2");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let laptop_a = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let laptop_b = Site::enrol(&server, &demo, "笔记本2").await;
    let officer_a = laptop_a.login("officer1");
    let officer_b = laptop_b.login("officer1");
    let admin = district.login("admin");
    let case = laptop_a
        .lock()
        .list_cases(&officer_a, &Default::default())
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.name == "李四")
        .unwrap();
    server.kill();
    for (site, user, address) in [
        (&laptop_a, &officer_a, "北新桥三条8号"),
        (&laptop_b, &officer_b, "北新桥头条12号"),
    ] {
        site.lock()
            .save_case(
                user,
                jiceng_core::model::CaseInput {
                    address: Some(address.into()),
                    ..jiceng_core::model::CaseInput::edit_of(&case)
                },
            )
            .unwrap();
    }
    server.start();
    for site in [&laptop_a, &laptop_b, &district, &laptop_a] {
        site.sync().await.unwrap();
    }
    // An officer may not decide; the district sees the open item and keeps the value that lost.
    assert_eq!(
        laptop_a
            .lock()
            .conflict_reviews(&officer_a, false, 1, 50)
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let open = district
        .lock()
        .conflict_reviews(&admin, false, 1, 50)
        .unwrap();
    assert_eq!(open.total, 1);
    let item = open.items[0].clone();
    assert_eq!(item.item.field, "address");
    assert_eq!(item.record_label, "李四");
    // The district sees which laptops wrote the two values, by the names the admin gave them (the
    // site directory flows down from the server to every site).
    let mut writers = [
        item.item.winner_site_name.as_str(),
        item.item.other_site_name.as_str(),
    ];
    writers.sort();
    assert_eq!(writers, ["北新桥街道司法所", "笔记本2"]);
    assert_eq!(item.case_id.as_deref(), Some(case.id.as_str()));
    let decided = district
        .lock()
        .resolve_conflict(
            &admin,
            &item.item.id,
            jiceng_core::model::ConflictChoice::Other,
            "经核实，以走访地址为准",
        )
        .unwrap();
    assert!(decided.resolved);
    assert_eq!(decided.chosen_value, item.item.other_value);
    assert!(district
        .lock()
        .resolve_conflict(
            &admin,
            &item.item.id,
            jiceng_core::model::ConflictChoice::Winner,
            ""
        )
        .is_err());
    for site in [&district, &laptop_a, &laptop_b] {
        site.sync().await.unwrap();
    }
    for (site, user) in [
        (&laptop_a, &officer_a),
        (&laptop_b, &officer_b),
        (&district, &admin),
    ] {
        let detail = site.lock().get_case(user, &case.id).unwrap();
        assert_eq!(detail.case.address, item.item.other_value, "{}", site.name);
        assert!(detail.conflicts.is_empty(), "{}: decided", site.name);
        assert!(!detail.case.has_conflict);
    }
    assert_eq!(
        district
            .lock()
            .conflict_reviews(&admin, false, 1, 50)
            .unwrap()
            .total,
        0
    );
}
