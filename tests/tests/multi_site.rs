//! Walking skeleton, cross-component: a real `jiceng-server` on 127.0.0.1 with a temporary SQLite master,
//! two judicial offices of different townships, a second laptop of one office, a community workstation
//! and the district, all real `jiceng-core` stores using the real sync client.

use jiceng_core::model::{CaseInput, CaseKind, CaseQuery, CaseStatus, CheckinInput, CheckinMethod};
use jiceng_tests::{assert_site_equals_scoped_master, rows, Site, TestServer};

fn case(name: &str, id_number: &str) -> CaseInput {
    CaseInput {
        id: None,
        name: name.to_string(),
        id_number: id_number.to_string(),
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

fn compose_id(year: i32, month: u32, day: u32) -> String {
    jiceng_core::idcard::compose(
        "320102",
        chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap(),
        13,
    )
}

fn all_cases(site: &Site, username: &str) -> Vec<jiceng_core::model::CaseRecord> {
    let user = site.login(username);
    site.lock()
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d1_offline_sites_converge_on_the_master_within_their_scopes() {
    let (mut server, demo) = TestServer::start_demo("multi-site");
    // A second laptop for the 北新桥 office, registered with the admin CLI while the server runs.
    let mut demo2 = demo.clone();
    server.add_site_like(&mut demo2, "北新桥街道司法所", "北新桥街道司法所-笔记本2");

    let district = Site::enrol(&server, &demo2, "区司法局").await;
    let office_a = Site::enrol(&server, &demo2, "北新桥街道司法所").await;
    let laptop_a2 = Site::enrol(&server, &demo2, "北新桥街道司法所-笔记本2").await;
    let office_b = Site::enrol(&server, &demo2, "和平里街道司法所").await;
    let workstation = Site::enrol(&server, &demo2, "民安社区工作站").await;
    println!(
        "multi-site: 5 sites enrolled (district, two offices, a second laptop, a workstation)"
    );

    // The demo's three cases of 北新桥 reached both of its laptops and the district, not the others.
    assert_eq!(all_cases(&office_a, "officer1").len(), 3);
    assert_eq!(all_cases(&laptop_a2, "officer1").len(), 3);
    assert_eq!(all_cases(&office_b, "officer2").len(), 0);
    assert_eq!(all_cases(&district, "admin").len(), 3);
    let clerk = workstation.login("clerk1");
    assert_eq!(
        workstation
            .lock()
            .list_cases(&clerk, &CaseQuery::default())
            .unwrap_err()
            .code(),
        "forbidden"
    );

    // Everyone goes offline.
    server.kill();
    let shared = all_cases(&office_a, "officer1")
        .into_iter()
        .find(|c| c.name == "李四")
        .unwrap();
    let officer_a = office_a.login("officer1");
    let officer_a2 = laptop_a2.login("officer1");
    let officer_b = office_b.login("officer2");
    let admin = district.login("admin");

    // Office A: a new case with a rare-character name, a check-in, and an edit of the shared case.
    let new_a = office_a
        .lock()
        .save_case(&officer_a, case("王𪚥", &compose_id(1988, 7, 15)))
        .unwrap();
    office_a
        .lock()
        .add_checkin(
            &officer_a,
            CheckinInput {
                case_id: new_a.id.clone(),
                occurred_at: "2026-05-02 09:00".into(),
                method: CheckinMethod::InPerson,
                note: "首次报到".into(),
            },
        )
        .unwrap();
    // L-7: an electronic location period for the new case, and an alarm from the platform.
    let yesterday =
        jiceng_core::shanghai::today(jiceng_tests::raw::now_ms()) - chrono::Duration::days(1);
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let period = office_a
        .lock()
        .save_location_period(
            &officer_a,
            jiceng_core::location::LocationPeriodInput {
                case_id: new_a.id.clone(),
                ground: jiceng_core::location::LocationGround::LeftWithoutApproval,
                approved_by: "区司法局 王局长".into(),
                approved_on: day(yesterday),
                start_on: day(yesterday),
                end_on: day(yesterday + chrono::Days::new(60)),
                renewal_of: None,
                note: String::new(),
            },
        )
        .unwrap();
    office_a
        .lock()
        .add_location_event(
            &officer_a,
            jiceng_core::location::LocationEventInput {
                period_id: period.id.clone(),
                kind: jiceng_core::location::LocationEventKind::OutOfZone,
                occurred_at: format!("{} 21:15", day(yesterday)),
                place: "邻县汽车站".into(),
                action: "电话联系，当晚返回".into(),
            },
        )
        .unwrap();
    let mut edit = case(&shared.name, &shared.id_number);
    edit.id = Some(shared.id.clone());
    edit.kind = shared.kind;
    edit.sentence_start = shared.sentence_start.clone();
    edit.sentence_end = "2027-01-31".into();
    edit.status = Some(CaseStatus::InCorrection);
    office_a.lock().save_case(&officer_a, edit.clone()).unwrap();
    // Laptop A2, same office, same case: a different end date (concurrent: a conflict) and a check-in.
    let mut edit2 = edit.clone();
    edit2.sentence_end = "2027-03-31".into();
    laptop_a2.lock().save_case(&officer_a2, edit2).unwrap();
    laptop_a2
        .lock()
        .add_checkin(
            &officer_a2,
            CheckinInput {
                case_id: shared.id.clone(),
                occurred_at: "2026-05-03 10:00".into(),
                method: CheckinMethod::HomeVisit,
                note: "走访".into(),
            },
        )
        .unwrap();
    // The workstation registers a resident (W-1).
    let clerk = workstation.login("clerk1");
    workstation
        .lock()
        .save_resident(
            &clerk,
            jiceng_core::model::ResidentInput {
                id: None,
                name: "䶮奶奶".into(),
                id_number: compose_id(1940, 3, 8),
                phone: "010-64000000".into(),
                building: "3".into(),
                unit: "2".into(),
                room: "401".into(),
                household_head: true,
                special_groups: vec![jiceng_core::model::SpecialGroup::ElderlyAlone],
                note: String::new(),
            },
        )
        .unwrap();
    // Office B: its own case. The district: a status change of the shared case (a different field).
    office_b
        .lock()
        .save_case(&officer_b, case("司马𬌗", &compose_id(1979, 2, 28)))
        .unwrap();
    let mut status_edit = edit.clone();
    status_edit.sentence_end = shared.sentence_end.clone();
    status_edit.status = Some(CaseStatus::Revoked);
    // L-9 / C-19: the district records the committal decision first; it replicates like any record.
    district
        .lock()
        .save_document(
            &admin,
            jiceng_core::casefile::DocumentInput {
                id: None,
                case_id: shared.id.clone(),
                doc_type: jiceng_core::casefile::DocumentType::CommittalDecision,
                doc_no: "京示公收决字〔2026〕12号".into(),
                counterpart: "示范区公安分局".into(),
                dated_on: "2026-06-01".into(),
                time_of_day: String::new(),
                note: String::new(),
            },
        )
        .unwrap();
    district.lock().save_case(&admin, status_edit).unwrap();

    // Offline sync fails softly and says so.
    let err = office_a.sync().await.unwrap_err();
    assert_eq!(err.code(), "offline");
    let status = office_a.lock().sync_status().unwrap();
    assert_eq!(status.online, Some(false));
    assert!(status.pending_ops > 0);
    assert!(all_cases(&office_a, "officer1")
        .iter()
        .any(|c| c.pending_sync));

    // Back online; sync in varied orders until quiet.
    server.start();
    let sites = [&district, &office_a, &laptop_a2, &office_b, &workstation];
    for order in [[3, 2, 4, 1, 0], [0, 1, 2, 3, 4], [4, 0, 3, 2, 1]] {
        for i in order {
            sites[i]
                .sync()
                .await
                .unwrap_or_else(|e| panic!("sync {}: {e}", sites[i].name));
        }
    }
    for site in sites {
        assert_eq!(
            site.lock().unacked_count().unwrap(),
            0,
            "{} still has unsent operations",
            site.name
        );
    }

    assert_site_equals_scoped_master(&server, &district, true);
    assert_site_equals_scoped_master(&server, &office_a, true);
    assert_site_equals_scoped_master(&server, &laptop_a2, true);
    assert_site_equals_scoped_master(&server, &office_b, true);
    assert_site_equals_scoped_master(&server, &workstation, false);

    // Both check-ins and the district's status survived; the concurrent end dates wait as a conflict item.
    let detail = office_a.lock().get_case(&officer_a, &shared.id).unwrap();
    assert_eq!(detail.case.status, CaseStatus::Revoked);
    assert_eq!(detail.checkins.len(), 1);
    assert_eq!(
        detail.conflicts.len(),
        1,
        "one conflict: sentence_end 2027-01-31 vs 2027-03-31"
    );
    let conflict = &detail.conflicts[0];
    assert_eq!(conflict.field, "sentence_end");
    let mut values = [conflict.winner_value.clone(), conflict.other_value.clone()];
    values.sort();
    assert_eq!(values, ["2027-01-31".to_string(), "2027-03-31".to_string()]);
    assert!(detail.case.has_conflict);
    // B and the district each see B's case; A does not.
    assert_eq!(all_cases(&office_b, "officer2").len(), 1);
    assert_eq!(all_cases(&district, "admin").len(), 5);
    assert!(all_cases(&office_a, "officer1")
        .iter()
        .all(|c| c.name != "司马𬌗"));
    assert!(all_cases(&office_a, "officer1")
        .iter()
        .any(|c| c.name == "王𪚥"));

    // On the wire: the workstation's pull from the beginning carries no corrections operation at all.
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/pull?after=0&limit=10000", server.url()))
        .bearer_auth(workstation.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ops = body["ops"].as_array().unwrap();
    assert!(
        !ops.is_empty(),
        "the workstation receives its directory rows"
    );
    assert!(
        ops.iter()
            .all(|op| !op["table"].as_str().unwrap().starts_with("corr_")),
        "a corrections operation reached the community workstation"
    );
    assert_eq!(server.master().table("resident").len(), 1);
    // On the wire: the judicial office's pull carries no resident.
    let office_pull: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/pull?after=0&limit=10000", server.url()))
        .bearer_auth(office_a.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        office_pull["ops"]
            .as_array()
            .unwrap()
            .iter()
            .all(|op| op["table"] != "resident"),
        "a resident reached a judicial office"
    );
    // L-7 on the wire: the second laptop of the office holds the location event, the district does not,
    // its pull never carried one, and the master refuses to show it the table.
    let event_rows =
        |site: &Site| rows(site.lock().connection(), "corr_location_event", None).len();
    assert_eq!(event_rows(&laptop_a2), 1);
    assert_eq!(event_rows(&district), 0);
    assert_eq!(
        rows(district.lock().connection(), "corr_location_period", None).len(),
        1,
        "the district holds the period it approved"
    );
    let district_pull: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/pull?after=0&limit=10000", server.url()))
        .bearer_auth(district.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(district_pull["ops"]
        .as_array()
        .unwrap()
        .iter()
        .all(|op| op["table"] != "corr_location_event"));
    let refused = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/records/corr_location_event?limit=10",
            server.url()
        ))
        .bearer_auth(district.token())
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_client_error(), "{}", refused.status());
    println!("multi-site: master equals every site's scoped view; 1 conflict item; workstation holds 0 corrections rows; the resident reached the master and the district only; location data stayed with the office");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_a_push_loses_and_doubles_nothing() {
    let (mut server, demo) = TestServer::start_demo("kill-push");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let officer = office.login("officer1");
    // 600 cases × 9 fields = 5,400 operations: six push batches.
    for i in 0..600u16 {
        let id = jiceng_core::idcard::compose(
            "110101",
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(u64::from(i)),
            7,
        );
        office
            .lock()
            .save_case(&officer, case(&format!("对象{i}"), &id))
            .unwrap();
    }
    let total = office.lock().unacked_count().unwrap();
    assert!(total > 5000);

    let sync = tokio::spawn({
        let store_path = office.path.clone();
        async move {
            let store = std::sync::Mutex::new(jiceng_core::Store::open(&store_path).unwrap());
            jiceng_core::sync::sync_now(&store).await
        }
    });
    // Kill the server as soon as the first batch is acknowledged, while the next one is on its way.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let left = office.lock().unacked_count().unwrap();
        if left < total || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.kill();
    let first = sync.await.unwrap();
    assert!(
        first.is_err(),
        "the sync cannot have finished: the server died"
    );
    let left = office.lock().unacked_count().unwrap();
    assert!(
        left > 0 && left < total,
        "some batches acknowledged ({left} of {total} left)"
    );

    server.start();
    office.sync().await.expect("retry after restart");
    assert_eq!(office.lock().unacked_count().unwrap(), 0);

    let master = server.master();
    let site_id = office.site_id();
    let logged = master.logged_count(&site_id);
    assert_eq!(
        logged as u32, total,
        "every operation is in the master's log exactly once"
    );
    assert_eq!(master.site_last_seq(&site_id) as u32, total);
    let cases = master
        .table("corr_case")
        .iter()
        .filter(|r| r["name"].as_str().is_some_and(|n| n.starts_with("对象")))
        .count();
    assert_eq!(cases, 600);
    assert_site_equals_scoped_master(&server, &office, true);
    println!("kill-during-push: {total} operations, server killed after {} acknowledged, none lost or doubled", total - left);
}
