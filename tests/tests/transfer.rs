//! L-6: a change of the place of execution as a two-phase handoff between two judicial offices, through
//! the real server: 北新桥 applies, the district (county) approves and the case becomes "in transfer" at
//! both offices, 和平里 reads it and confirms the report, the district completes, and every record of the
//! case now lives with 和平里 while 北新桥 keeps a read-only copy.

use jiceng_core::model::{CaseQuery, CheckinInput, CheckinMethod};
use jiceng_core::transfer::{TransferAction, TransferInput, TransferStatus, TransferStep};
use jiceng_tests::{Site, TestServer};

use jiceng_tests::raw::shanghai_day;

fn checkin(case_id: &str, note: &str) -> CheckinInput {
    CheckinInput {
        case_id: case_id.to_string(),
        occurred_at: format!("{} 00:01", shanghai_day(0)),
        method: CheckinMethod::Phone,
        note: note.to_string(),
    }
}

async fn sync_all(sites: &[&Site]) {
    for site in sites {
        site.sync()
            .await
            .unwrap_or_else(|e| panic!("sync {}: {e}", site.name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c6_l6_two_phase_transfer_between_two_offices_through_the_server() {
    let (server, demo) = TestServer::start_demo_tls("transfer");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let office_a = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let office_b = Site::enrol(&server, &demo, "和平里街道司法所").await;
    let officer_a = office_a.login("officer1");
    let officer_b = office_b.login("officer2");
    let admin = district.login("admin");
    let case = office_a
        .lock()
        .list_cases(&officer_a, &CaseQuery::default())
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.name == "李四")
        .unwrap();
    let b_unit: String = district
        .lock()
        .connection()
        .query_row(
            "SELECT id FROM org_unit WHERE name = '和平里街道'",
            [],
            |r| r.get(0),
        )
        .unwrap();

    // 1. The sending office records the application (a month ahead is on time).
    let applied = office_a
        .lock()
        .apply_transfer(
            &officer_a,
            TransferInput {
                case_id: case.id.clone(),
                destination: "和平里街道某小区（新居住地）".into(),
                reason: "工作调动，随家人搬迁".into(),
                move_on: shanghai_day(40),
            },
        )
        .unwrap();
    assert_eq!(applied.status, TransferStatus::Applied);
    assert!(!applied.late_application);
    // The sending office cannot decide, and the receiving office does not see it yet.
    let err = office_a
        .lock()
        .act_on_transfer(
            &officer_a,
            &applied.id,
            TransferStep {
                action: TransferAction::Approve,
                to_org_unit_id: Some(b_unit.clone()),
                on: None,
                note: String::new(),
            },
        )
        .unwrap_err();
    assert!(
        err.message_zh().contains("区（县）司法局"),
        "{}",
        err.message_zh()
    );
    sync_all(&[&office_a, &district, &office_b]).await;
    assert!(office_b
        .lock()
        .list_cases(&officer_b, &CaseQuery::default())
        .unwrap()
        .items
        .is_empty());

    // 2. The county approves: in transfer at both offices.
    let decided = district
        .lock()
        .act_on_transfer(
            &admin,
            &applied.id,
            TransferStep {
                action: TransferAction::Approve,
                to_org_unit_id: Some(b_unit.clone()),
                on: None,
                note: "同意变更".into(),
            },
        )
        .unwrap();
    assert_eq!(decided.status, TransferStatus::InTransit);
    assert_eq!(decided.to_org_unit_name, "和平里街道");
    sync_all(&[&district, &office_b, &office_a]).await;

    let at_b = office_b
        .lock()
        .list_cases(&officer_b, &CaseQuery::default())
        .unwrap();
    assert_eq!(
        at_b.total, 1,
        "the receiving office sees the case in transfer"
    );
    assert_eq!(
        at_b.items[0].transfer_status,
        Some(TransferStatus::InTransit)
    );
    let detail_b = office_b.lock().get_case(&officer_b, &case.id).unwrap();
    assert_eq!(detail_b.case.name, "李四");
    assert_eq!(detail_b.transfers[0].status, TransferStatus::InTransit);
    // Read-only until the handover completes.
    let err = office_b
        .lock()
        .add_checkin(&officer_b, checkin(&case.id, "接收方报到"))
        .unwrap_err();
    assert!(err.message_zh().contains("交接"), "{}", err.message_zh());
    // The L-6 clocks run at both offices.
    let tasks_b = office_b.lock().task_digest(&officer_b, None).unwrap();
    assert!(tasks_b.tasks.iter().any(|t| t.rule_id == "L-6.report_new"));
    let at_a = office_a.lock().get_case(&officer_a, &case.id).unwrap();
    assert_eq!(at_a.transfers[0].status, TransferStatus::InTransit);

    // The sending office still supervises: a check-in during the transfer, and the file goes out.
    office_a
        .lock()
        .add_checkin(&officer_a, checkin(&case.id, "交接期间电话报告"))
        .unwrap();
    office_a
        .lock()
        .act_on_transfer(
            &officer_a,
            &applied.id,
            TransferStep {
                action: TransferAction::FileSent,
                to_org_unit_id: None,
                on: Some(shanghai_day(0)),
                note: String::new(),
            },
        )
        .unwrap();

    // 3. The receiving office confirms that the subject reported. Completing before that is refused.
    sync_all(&[&office_a, &district]).await;
    assert!(district
        .lock()
        .act_on_transfer(
            &admin,
            &applied.id,
            TransferStep {
                action: TransferAction::Complete,
                to_org_unit_id: None,
                on: None,
                note: String::new(),
            },
        )
        .is_err());
    office_b
        .lock()
        .act_on_transfer(
            &officer_b,
            &applied.id,
            TransferStep {
                action: TransferAction::ConfirmReport,
                to_org_unit_id: None,
                on: Some(shanghai_day(0)),
                note: String::new(),
            },
        )
        .unwrap();
    sync_all(&[&office_b, &district]).await;
    assert_eq!(
        district
            .lock()
            .get_case(&admin, &case.id)
            .unwrap()
            .transfers[0]
            .status,
        TransferStatus::Received
    );

    // 4. The district completes: every record moves to 和平里.
    let done = district
        .lock()
        .act_on_transfer(
            &admin,
            &applied.id,
            TransferStep {
                action: TransferAction::Complete,
                to_org_unit_id: None,
                on: None,
                note: String::new(),
            },
        )
        .unwrap();
    assert_eq!(done.status, TransferStatus::Completed);
    // Meanwhile 北新桥's laptop, not yet synced, edits the address: its push must not jam, and the
    // receiving office's record must not change behind its back.
    office_a
        .lock()
        .save_case(
            &officer_a,
            jiceng_core::model::CaseInput {
                address: Some("迟到的旧地址".into()),
                ..jiceng_core::model::CaseInput::edit_of(&case)
            },
        )
        .unwrap();
    sync_all(&[&district, &office_b, &office_a]).await;

    let master = server.master();
    let late_alarms = master.alarm_count("late_write_after_transfer");
    let held = master
        .held()
        .iter()
        .filter(|h| h.reason.starts_with("late_after_transfer"))
        .count() as u64;
    assert_eq!(
        (late_alarms, held),
        (1, 1),
        "the late edit is held for the district"
    );
    let row = master.row("corr_case", &case.id).expect("the case");
    assert_ne!(row["address"].as_str(), Some("迟到的旧地址"));
    let owner = row["org_unit_id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        owner, b_unit,
        "the master holds the case at the receiving office"
    );
    let moved_checkins = master
        .rows_where("corr_checkin", "case_id", &case.id)
        .iter()
        .filter(|r| r["org_unit_id"].as_str() == Some(b_unit.as_str()))
        .count();
    assert!(
        moved_checkins >= 1,
        "the check-ins moved with the case: {:?} held {:?}",
        master.rows_where("corr_checkin", "case_id", &case.id),
        master.held()
    );

    // The receiving office now owns it: it sees the check-in made during the transfer and may write.
    let detail_b = office_b.lock().get_case(&officer_b, &case.id).unwrap();
    assert_eq!(detail_b.case.org_unit_id, b_unit);
    assert!(detail_b
        .checkins
        .iter()
        .any(|c| c.note == "交接期间电话报告"));
    office_b
        .lock()
        .add_checkin(&officer_b, checkin(&case.id, "新执行地首次报到"))
        .unwrap();
    // C-21: from the completion day the case counts for 和平里, no longer for 北新桥 (whose own copy
    // never saw the move).
    let today = chrono::NaiveDate::parse_from_str(&shanghai_day(0), "%Y-%m-%d").unwrap();
    let counted = |site: &Site, user| site.lock().statistics(user, today).unwrap().totals.total;
    assert_eq!(
        counted(&office_a, &officer_a),
        2,
        "北新桥 keeps its two other demo cases"
    );
    assert_eq!(counted(&office_b, &officer_b), 1);
    assert_eq!(counted(&district, &admin), 3);
    // Issue 10 §5: the file left 北新桥's laptop with the case (it no longer supervises the subject);
    // the master keeps every version, and 北新桥 keeps its record of the handover.
    let held_at_a = |sql: &str| -> i64 {
        office_a
            .lock()
            .connection()
            .query_row(sql, [&case.id], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(held_at_a("SELECT COUNT(*) FROM corr_case WHERE id = ?1"), 0);
    assert_eq!(
        held_at_a("SELECT COUNT(*) FROM corr_checkin WHERE case_id = ?1"),
        0,
        "the check-ins left with the case"
    );
    assert_eq!(
        held_at_a("SELECT COUNT(*) FROM corr_transfer WHERE case_id = ?1 AND status = 'completed'"),
        1,
        "北新桥 keeps its handover record"
    );
    let status = office_a.lock().sync_status().unwrap();
    assert!(
        status
            .last_scope_notice
            .as_deref()
            .is_some_and(|n| n.contains("已随案件移交")),
        "{status:?}"
    );
    let history = server
        .master()
        .rows_where("corr_checkin", "case_id", &case.id)
        .iter()
        .filter(|r| r.get("note").and_then(|n| n.as_str()) == Some("交接期间电话报告"))
        .count();
    assert_eq!(history, 1, "the master keeps 北新桥's part of the file");
    let gone = office_a.lock().get_case(&officer_a, &case.id).unwrap_err();
    assert!(
        gone.message_zh().contains("变更执行地至和平里街道")
            && gone.message_zh().contains("本机不再保存"),
        "{}",
        gone.message_zh()
    );
    let err = office_a
        .lock()
        .add_checkin(&officer_a, checkin(&case.id, "迟到的记录"))
        .unwrap_err();
    assert!(
        err.message_zh().contains("变更执行地至和平里街道"),
        "{}",
        err.message_zh()
    );
    assert!(office_a
        .lock()
        .task_digest(&officer_a, None)
        .unwrap()
        .tasks
        .iter()
        .all(|t| t.case_id != case.id));
    // Everything the receiving office wrote reached the master; nothing is left unsent anywhere.
    sync_all(&[&office_b, &district]).await;
    for site in [&office_a, &office_b, &district] {
        assert_eq!(site.lock().unacked_count().unwrap(), 0, "{}", site.name);
    }
    assert_eq!(
        master.table("corr_transfer_receipt").len(),
        1,
        "one receipt"
    );
    println!("transfer: applied at 北新桥, approved by the district, read at 和平里, confirmed, completed; records moved");
}
