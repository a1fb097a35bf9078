//! The local store's invariants: the single write path, replay, HLC safety, rare characters, search.

mod common_setup;

use common_setup::{case_input, office_store};
use jiceng_core::hlc::Hlc;
use jiceng_core::model::{CaseQuery, CaseStatus, CheckinInput, CheckinMethod};
use jiceng_core::op::GENESIS_HASH;
use jiceng_core::store::Store;
use jiceng_core::CoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn dump(store: &Store, table: &str) -> Vec<Vec<String>> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} ORDER BY id"))
        .unwrap();
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

/// [`dump`] without one (derived) column that a later migration added.
fn dump_except(store: &Store, table: &str, column: &str) -> Vec<Vec<String>> {
    let conn = store.connection();
    let columns: Vec<String> = conn
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .filter(|c: &String| c != column)
        .collect();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {} FROM {table} ORDER BY id",
            columns.join(", ")
        ))
        .unwrap();
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

#[test]
fn every_write_is_logged_and_replaying_the_log_reproduces_the_store() {
    let (mut store, user) = office_store("site-a");
    let case = store
        .save_case(&user, case_input("张𠀀明", "110101199003074514"))
        .unwrap();
    let mut edit = case_input("张𠀀明", "110101199003074514");
    edit.id = Some(case.id.clone());
    edit.status = Some(CaseStatus::Reported);
    store.save_case(&user, edit).unwrap();
    store
        .add_checkin(
            &user,
            CheckinInput {
                case_id: case.id.clone(),
                occurred_at: "2026-03-02 09:00".to_string(),
                method: CheckinMethod::InPerson,
                note: "首次报到".to_string(),
            },
        )
        .unwrap();
    store.delete_case(&user, &case.id).unwrap();
    store.restore_case(&user, &case.id).unwrap();

    // The log is contiguous and hash-chained.
    let log = store.own_log().unwrap();
    let mut prev = GENESIS_HASH.to_string();
    for (i, op) in log.iter().enumerate() {
        assert_eq!(op.site_seq, i as u64 + 1);
        assert_eq!(op.prev_hash, prev);
        assert!(op.hash_is_valid());
        prev = op.hash.clone();
    }

    // A fresh replica fed only the log holds exactly the same domain rows.
    let mut replica = common_setup::store_at(common_setup::fixed_clock());
    replica
        .set_identity(&common_setup::identity("site-b"))
        .unwrap();
    replica.apply_remote(&log, 0).unwrap();
    for table in [
        "org_unit",
        "app_user",
        "corr_case",
        "corr_checkin",
        "conflict",
    ] {
        assert_eq!(
            dump(&store, table),
            dump(&replica, table),
            "table {table} differs after replay"
        );
    }
}

#[test]
fn no_code_outside_the_merge_writes_domain_tables() {
    // ARCHITECTURE.md "One write path": SQL that writes a replicated table may only live in the merge
    // (store/merge_sql.rs and its modules under store/merge_sql/; on the PostgreSQL master, whose rows
    // are merged by core's rule in the server process, its ingest module).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut offenders = Vec::new();
    let writes = [
        "INSERT INTO",
        "INSERT OR IGNORE INTO",
        "INSERT OR REPLACE INTO",
        "UPDATE ",
        "DELETE FROM",
        "REPLACE INTO",
    ];
    let tables = [
        "org_unit",
        "app_user",
        "corr_case",
        "corr_checkin",
        "conflict",
        "{}",
    ];
    for dir in ["core/src", "sync-server/src", "src-tauri/src"] {
        let mut stack = vec![root.join(dir)];
        while let Some(path) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&path) else {
                continue;
            };
            for entry in entries.flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs")
                    && !p.ends_with("merge_sql.rs")
                    && !p.components().any(|c| c.as_os_str() == "merge_sql")
                    && !p.ends_with("master/postgres/ingest.rs")
                {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for w in writes {
                        for t in tables {
                            if text.contains(&format!("{w}{t}"))
                                || text.contains(&format!("{w} {t}"))
                            {
                                offenders.push(format!("{} writes {t}", p.display()));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "domain writes outside the merge: {offenders:?}"
    );
}

#[test]
fn hlc_never_goes_backwards_across_restarts_and_clock_resets() {
    let dir = std::env::temp_dir().join(format!("jiceng-hlc-{}", uuid::Uuid::now_v7()));
    let path = dir.join("site.sqlite");
    let now = Arc::new(AtomicU64::new(1_800_000_000_000));
    let clock = {
        let now = now.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    };
    let first_hlc;
    {
        let mut store = Store::open(&path).unwrap().with_clock(clock.clone());
        store
            .set_identity(&common_setup::identity("site-a"))
            .unwrap();
        store
            .create_org_unit("u", "d", None, jiceng_core::model::OrgKind::District, "区")
            .unwrap();
        first_hlc = store.last_hlc().unwrap();
        assert!(first_hlc > Hlc::ZERO);
    }
    // The PC clock is set back a whole day and the app restarts.
    now.fetch_sub(86_400_000, Ordering::SeqCst);
    let mut store = Store::open(&path).unwrap().with_clock(clock);
    store
        .create_org_unit(
            "u",
            "t",
            Some("d"),
            jiceng_core::model::OrgKind::Township,
            "乡",
        )
        .unwrap();
    let log = store.own_log().unwrap();
    assert!(
        log.windows(2).all(|w| w[1].hlc > w[0].hlc),
        "HLC went backwards"
    );
    assert!(store.last_hlc().unwrap() > first_hlc);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rare_character_names_round_trip_and_search_by_name_initials_and_id() {
    let (mut store, user) = office_store("site-a");
    let rare = "𪚥𠀀䶮";
    let case = store
        .save_case(&user, case_input(rare, "110101199003074514"))
        .unwrap();
    store
        .save_case(&user, case_input("欧阳娜娜", "11010519491231002X"))
        .unwrap();
    let detail = store.get_case(&user, &case.id).unwrap();
    assert_eq!(detail.case.name, rare);
    assert_eq!(detail.case.sex, "male");
    assert_eq!(detail.case.birth_date, "1990-03-07");
    let find = |text: &str| {
        store
            .list_cases(
                &user,
                &CaseQuery {
                    text: Some(text.to_string()),
                    page: 1,
                    page_size: 20,
                    include_deleted: false,
                },
            )
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("𠀀"), vec![rare.to_string()]);
    assert_eq!(find("oynn"), vec!["欧阳娜娜".to_string()]);
    assert_eq!(find("1002x"), vec!["欧阳娜娜".to_string()]);
    assert_eq!(find("%").len(), 0, "LIKE wildcards are escaped");
    assert_eq!(find("").len(), 2);
}

#[test]
fn paging_returns_totals_and_stable_pages() {
    let (mut store, user) = office_store("site-a");
    for i in 0..25u16 {
        let id = jiceng_core::idcard::compose(
            "110101",
            chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
            i,
        );
        store
            .save_case(&user, case_input(&format!("对象{i}"), &id))
            .unwrap();
    }
    let page = |n| {
        store
            .list_cases(
                &user,
                &CaseQuery {
                    text: None,
                    page: n,
                    page_size: 10,
                    include_deleted: false,
                },
            )
            .unwrap()
    };
    let (p1, p3) = (page(1), page(3));
    assert_eq!((p1.total, p1.items.len(), p3.items.len()), (25, 10, 5));
    assert!(p1.items.iter().all(|c| !p3.items.contains(c)));
}

#[test]
fn bad_input_is_refused_with_a_reason_and_nothing_is_written() {
    let (mut store, user) = office_store("site-a");
    let before = store.own_log().unwrap().len();
    let err = store
        .save_case(&user, case_input("王五", "110101199003074515"))
        .unwrap_err();
    assert!(matches!(err, CoreError::IdNumber(_)));
    assert!(err.message_zh().contains("校验位"));
    let mut swapped = case_input("王五", "110101199003074514");
    swapped.sentence_end = "2026-01-01".to_string();
    assert_eq!(
        store.save_case(&user, swapped).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        store
            .save_case(&user, case_input("  ", "110101199003074514"))
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    store
        .save_case(&user, case_input("王五", "110101199003074514"))
        .unwrap();
    assert_eq!(
        store
            .save_case(&user, case_input("王五", "110101199003074514"))
            .unwrap_err()
            .code(),
        "duplicate_case"
    );
    assert_eq!(
        store.own_log().unwrap().len(),
        // The case's nine fields and its responsible officer (the registering officer).
        before + 10,
        "only the one valid case was logged"
    );
}

#[test]
fn c16_check_ins_are_append_only_and_deletion_is_reversible() {
    let (mut store, user) = office_store("site-a");
    let case = store
        .save_case(&user, case_input("赵六", "110101199003074514"))
        .unwrap();
    let checkin = store
        .add_checkin(
            &user,
            CheckinInput {
                case_id: case.id.clone(),
                occurred_at: "2026-03-02T09:00:00+08:00".to_string(),
                method: CheckinMethod::Phone,
                note: "电话报到".to_string(),
            },
        )
        .unwrap();
    let table = jiceng_core::tables::table("corr_checkin").unwrap();
    let err = store
        .write_row(
            &user.user_id,
            table,
            &checkin.id,
            common_setup::OFFICE,
            &[jiceng_core::store::WriteChange::new("note", "改写")],
        )
        .unwrap_err();
    assert_eq!(err.code(), "append_only");
    let deleted = store.delete_case(&user, &case.id).unwrap();
    assert!(deleted.deleted);
    let restored = store.restore_case(&user, &case.id).unwrap();
    assert!(!restored.deleted);
    let history = store.get_case(&user, &case.id).unwrap().history;
    assert_eq!(history.iter().filter(|h| h.field == "_deleted").count(), 2);
}

#[test]
fn a_community_clerk_cannot_read_corrections() {
    let (mut store, _) = office_store("site-a");
    store
        .create_user(
            "setup",
            &jiceng_core::store::NewUser {
                username: "clerk".to_string(),
                display_name: "工作人员".to_string(),
                role: jiceng_core::model::Role::CommunityClerk,
                org_unit_id: common_setup::OFFICE.to_string(),
                password: "password-2".to_string(),
            },
        )
        .unwrap();
    let clerk = store.login("clerk", "password-2").unwrap();
    assert_eq!(
        store
            .list_cases(&clerk, &CaseQuery::default())
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(
        store.login("clerk", "wrong-password").unwrap_err().code(),
        "bad_credentials"
    );
}

#[test]
fn a_pc_clock_days_ahead_stamps_near_server_time_once_it_has_synced() {
    // Clock safety: the PC says two days later than the server; after one sync the writes use the
    // server's time, so they are not quarantined as "from the future". The set-up writes ran at the
    // server's time (the helpers' fixed clock), before the PC's clock ran ahead.
    let server_now: u64 = common_setup::NOW_MS;
    let pc_now = server_now + 2 * 86_400_000;
    let (store, user) = office_store("site-a");
    let mut store = store.with_clock(Arc::new(move || pc_now));
    let offset = store.record_server_time(server_now).unwrap();
    assert_eq!(offset, -2 * 86_400_000);
    let before = store.last_hlc().unwrap();
    let case = store
        .save_case(&user, case_input("钱七", "110101199003074514"))
        .unwrap();
    let log = store.own_log().unwrap();
    let last = log.iter().rev().find(|op| op.row_id == case.id).unwrap();
    // What matters is that the PC's two-day lead was not used.
    assert!(
        last.hlc.millis() < pc_now - 86_400_000,
        "HLC used the wrong PC clock"
    );
    assert!(last.hlc > before, "and it still never goes backwards");
}

#[test]
fn a_small_clock_offset_is_ignored_as_network_noise() {
    let (store, _) = office_store("site-a");
    let mut store = store.with_clock(Arc::new(|| 1_795_700_000_000));
    store.record_server_time(1_795_700_030_000).unwrap();
    assert_eq!(store.corrected_wall_millis().unwrap(), 1_795_700_000_000);
    store
        .record_server_time(1_795_700_000_000 + 10 * 60_000)
        .unwrap();
    assert_eq!(
        store.corrected_wall_millis().unwrap(),
        1_795_700_000_000 + 10 * 60_000
    );
}

#[test]
fn the_lifecycle_refuses_illegal_transitions_with_a_reason() {
    let (mut store, user) = office_store("site-a");
    let case = store
        .save_case(&user, case_input("孙八", "110101199003074514"))
        .unwrap();
    assert_eq!(case.status, CaseStatus::Received);
    assert_eq!(
        case.next_statuses,
        vec![
            CaseStatus::Reported,
            CaseStatus::Revoked,
            CaseStatus::Terminated
        ]
    );
    let mut jump = case_input("孙八", "110101199003074514");
    jump.id = Some(case.id.clone());
    jump.status = Some(CaseStatus::Released);
    let err = store.save_case(&user, jump.clone()).unwrap_err();
    assert_eq!(err.code(), "illegal_transition");
    assert!(err.message_zh().contains("待接收"));
    jump.status = Some(CaseStatus::Reported);
    assert_eq!(
        store.save_case(&user, jump.clone()).unwrap().status,
        CaseStatus::Reported
    );
    // A new case cannot be entered as already ended.
    let mut ended = case_input("周九", "11010519491231002X");
    ended.status = Some(CaseStatus::Released);
    assert_eq!(
        store.save_case(&user, ended).unwrap_err().code(),
        "invalid_input"
    );
}

#[test]
fn d3_contradictory_offline_transitions_on_two_laptops_become_a_conflict_item() {
    // ARCHITECTURE.md "State machines are not LWW": one laptop revokes, the other terminates.
    let (mut a, user) = office_store("laptop-a");
    let mut b = common_setup::store_at(common_setup::fixed_clock());
    b.set_identity(&common_setup::identity("laptop-b")).unwrap();
    b.apply_remote(&a.own_log().unwrap(), 0).unwrap();
    let mut input = case_input("吴十", "110101199003074514");
    input.status = Some(CaseStatus::InCorrection);
    let case = a.save_case(&user, input.clone()).unwrap();
    b.apply_remote(&a.own_log().unwrap(), 0).unwrap();
    let user_b = b.login("officer", "password-1").unwrap();
    input.id = Some(case.id.clone());
    let document = |doc_type| jiceng_core::casefile::DocumentInput {
        id: None,
        case_id: case.id.clone(),
        doc_type,
        doc_no: String::new(),
        counterpart: String::new(),
        dated_on: "2026-06-01".into(),
        time_of_day: String::new(),
        note: String::new(),
    };
    // Each laptop records what its ending rests on (L-9 ruling; L-10 death report).
    a.save_document(
        &user,
        document(jiceng_core::casefile::DocumentType::RevocationRuling),
    )
    .unwrap();
    let mut revoke = input.clone();
    revoke.status = Some(CaseStatus::Revoked);
    a.save_case(&user, revoke).unwrap();
    b.save_document(
        &user_b,
        document(jiceng_core::casefile::DocumentType::DeathReport),
    )
    .unwrap();
    let mut terminate = input;
    terminate.status = Some(CaseStatus::Terminated);
    b.save_case(&user_b, terminate).unwrap();
    a.apply_remote(&b.own_log().unwrap(), 0).unwrap();
    b.apply_remote(&a.own_log().unwrap(), 0).unwrap();
    for store in [&a, &b] {
        let detail = store.get_case(&user, &case.id).unwrap();
        assert_eq!(detail.conflicts.len(), 1);
        assert_eq!(detail.conflicts[0].field, "status");
        let mut both = [
            detail.conflicts[0].winner_value.clone(),
            detail.conflicts[0].other_value.clone(),
        ];
        both.sort();
        assert_eq!(both, ["revoked".to_string(), "terminated".to_string()]);
    }
    assert_eq!(
        a.get_case(&user, &case.id).unwrap().case.status,
        b.get_case(&user_b, &case.id).unwrap().case.status
    );
}

#[test]
fn supervision_entries_feed_the_monthly_minima_and_the_discipline_ladder() {
    use jiceng_core::model::{EntryInput, EntryKind};
    let (mut store, user) = office_store("site-a");
    let mut input = case_input("郑十一", "110101199003074514");
    input.status = Some(CaseStatus::InCorrection);
    input.sentence_start = "2026-01-15".into();
    input.sentence_end = "2027-01-14".into();
    let case = store.save_case(&user, input).unwrap();
    let entry = |kind, on: &str, minutes, days, r: Option<String>| EntryInput {
        case_id: case.id.clone(),
        kind,
        occurred_on: on.to_string(),
        minutes,
        days,
        ref_entry_id: r,
        note: String::new(),
    };
    // C-10: 2 × 8 h of labour in March; C-11: one 2-hour group session.
    store
        .add_entry(
            &user,
            entry(EntryKind::Labour, "2026-03-05", Some(480), None, None),
        )
        .unwrap();
    store
        .add_entry(
            &user,
            entry(EntryKind::Labour, "2026-03-20", Some(480), None, None),
        )
        .unwrap();
    store
        .add_entry(
            &user,
            entry(
                EntryKind::GroupEducation,
                "2026-03-10",
                Some(120),
                None,
                None,
            ),
        )
        .unwrap();
    // L-8: two reprimands, one later corrected.
    let r1 = store
        .add_entry(
            &user,
            entry(EntryKind::Reprimand, "2026-04-01", None, None, None),
        )
        .unwrap();
    store
        .add_entry(
            &user,
            entry(EntryKind::Reprimand, "2026-04-15", None, None, None),
        )
        .unwrap();
    let detail = store.get_case(&user, &case.id).unwrap();
    assert_eq!(detail.entries.len(), 5);
    assert_eq!(detail.discipline.eligible, "warning");
    let march = detail
        .compliance
        .iter()
        .find(|m| m.month == "2026-03")
        .unwrap();
    assert!(march.labour_ok && march.education_ok && !march.in_progress);
    let feb = detail
        .compliance
        .iter()
        .find(|m| m.month == "2026-02")
        .unwrap();
    assert!(!feb.labour_ok && !feb.education_ok);
    store
        .add_entry(
            &user,
            entry(
                EntryKind::Corrected,
                "2026-05-01",
                None,
                None,
                Some(r1.id.clone()),
            ),
        )
        .unwrap();
    assert_eq!(
        store.get_case(&user, &case.id).unwrap().discipline.eligible,
        "none"
    );

    // Bad entries are refused with a reason and nothing is written.
    let before = store.own_log().unwrap().len();
    let errors = [
        entry(EntryKind::Labour, "2026-03-05", None, None, None),
        entry(EntryKind::Labour, "2026-03-05", Some(5000), None, None),
        entry(EntryKind::OutOfContact, "2026-03-05", None, None, None),
        entry(
            EntryKind::Corrected,
            "2026-03-05",
            None,
            None,
            Some(case.id.clone()),
        ),
        entry(EntryKind::Visitor, "2999-01-01", None, None, None),
        entry(EntryKind::Visitor, "2026/03/05", None, None, None),
    ];
    for bad in errors {
        let err = store.add_entry(&user, bad).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(!err.message_zh().is_empty());
    }
    assert_eq!(store.own_log().unwrap().len(), before);
}

#[test]
fn l1_report_clock_in_the_digest_extends_over_national_day_and_closes_when_reported() {
    use chrono::NaiveDate;
    let (mut store, user) = office_store("site-a");
    // Judgment effective 2026-09-25: ten days end on 10-05, inside the 10-01..10-07 holiday, so the
    // period runs to the first working day after it, 10-08 (L-0, L-1).
    let mut input = case_input("冯十二", "110101199003074514");
    input.judgment_effective_on = Some("2026-09-25".into());
    input.sentence_start = "2026-10-01".into();
    input.sentence_end = "2027-09-30".into();
    let case = store.save_case(&user, input.clone()).unwrap();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let digest = store.task_digest(&user, Some(day("2026-10-06"))).unwrap();
    let report = digest
        .tasks
        .iter()
        .find(|t| t.rule_id == "L-1.report")
        .unwrap();
    assert_eq!(
        (report.due_date.as_str(), report.status.as_str()),
        ("2026-10-08", "due_soon")
    );
    assert_eq!(report.rule_ref, "L-1");
    let late = store.task_digest(&user, Some(day("2026-10-09"))).unwrap();
    // Both L-1 clocks have run out: the subject's report and the court's documents (none on file).
    let overdue: Vec<&str> = late
        .tasks
        .iter()
        .filter(|t| t.status == "overdue")
        .map(|t| t.rule_id.as_str())
        .collect();
    assert_eq!(overdue, vec!["L-1.documents", "L-1.report"]);
    assert_eq!(late.overdue, 2);
    // The subject reports: the clock is done and leaves the digest.
    input.id = Some(case.id.clone());
    input.status = Some(CaseStatus::Reported);
    input.reported_on = Some("2026-10-08".into());
    store.save_case(&user, input).unwrap();
    let after = store.task_digest(&user, Some(day("2026-10-09"))).unwrap();
    assert!(after.tasks.iter().all(|t| t.rule_id != "L-1.report"));
}

#[test]
fn c17_c10_c11_clocks_of_a_case_in_correction() {
    use chrono::NaiveDate;
    let (mut store, user) = office_store("site-a");
    let mut input = case_input("陈十三", "110101199003074514");
    input.status = Some(CaseStatus::InCorrection);
    input.sentence_start = "2026-01-10".into();
    input.sentence_end = "2026-12-31".into();
    store.save_case(&user, input).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    let digest = store.task_digest(&user, Some(today)).unwrap();
    let ids: Vec<&str> = digest.tasks.iter().map(|t| t.rule_id.as_str()).collect();
    // C-17: within the 30 days before 12-31; L-10: release on 12-31; C-10/C-11: December, and November's
    // shortfall is overdue.
    assert!(ids.contains(&"C-17.appraisal"), "{ids:?}");
    assert!(ids.contains(&"L-10.release"));
    let labour: Vec<_> = digest
        .tasks
        .iter()
        .filter(|t| t.rule_id == "C-10.labour_monthly")
        .collect();
    assert_eq!(labour.len(), 2);
    assert!(labour
        .iter()
        .any(|t| t.status == "overdue" && t.due_date == "2026-11-30"));
    assert!(labour
        .iter()
        .any(|t| t.due_date == "2026-12-31" && t.status != "overdue"));
    assert_eq!(digest.tasks[0].status, "overdue", "overdue first");
}

#[test]
fn l5_leave_offline_provisional_approval_is_confirmed_by_the_county_and_closed_on_return() {
    use jiceng_core::model::{LeaveDecision, LeaveInput, LeaveStatus, Role};
    let (mut store, officer) = office_store("laptop-a");
    store
        .create_user(
            "setup",
            &jiceng_core::store::NewUser {
                username: "county".into(),
                display_name: "区司法局".into(),
                role: Role::DistrictAdmin,
                org_unit_id: common_setup::DISTRICT.into(),
                password: "password-3".into(),
            },
        )
        .unwrap();
    let county = store.login("county", "password-3").unwrap();
    let mut input = case_input("褚十四", "110101199003074514");
    input.status = Some(CaseStatus::InCorrection);
    let case = store.save_case(&officer, input).unwrap();
    // Days counted from the store's (injected) clock: from the helpers' 2026-11-30 the trip runs
    // 2026-12-20..12-31, and the return is due on Thursday 12-31, a working day.
    let today = jiceng_core::shanghai::today(store.wall_millis());
    let day = |n: u64| {
        (today + chrono::Days::new(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    // Twelve days away: county level (L-5).
    let leave = store
        .request_leave(
            &officer,
            LeaveInput {
                case_id: case.id.clone(),
                destination: "广东省深圳市".into(),
                reason: "探望住院的父亲".into(),
                start_on: day(20),
                end_on: day(31),
            },
        )
        .unwrap();
    assert_eq!((leave.days, leave.status), (12, LeaveStatus::Requested));
    assert_eq!(
        leave.approval_level,
        jiceng_core::model::ApprovalLevel::County
    );
    // The officer in the field cannot approve it, but can approve provisionally, numbered.
    let err = store
        .decide_leave(&officer, &leave.id, LeaveDecision::Approve, "")
        .unwrap_err();
    assert!(err.message_zh().contains("县级"));
    let provisional = store
        .decide_leave(
            &officer,
            &leave.id,
            LeaveDecision::ApproveProvisionally,
            "情况紧急",
        )
        .unwrap();
    assert_eq!(provisional.status, LeaveStatus::Provisional);
    assert!(
        provisional.provisional_no.starts_with('临'),
        "{}",
        provisional.provisional_no
    );
    // The county confirms when it syncs.
    let approved = store
        .decide_leave(&county, &leave.id, LeaveDecision::Approve, "同意")
        .unwrap();
    assert_eq!(approved.status, LeaveStatus::Approved);
    assert_eq!(
        approved.provisional_no, provisional.provisional_no,
        "the number stays on record"
    );
    // The return report closes the L-5 clock.
    let returned = store.record_leave_return(&officer, &leave.id, &day(0));
    assert!(
        returned.is_err(),
        "a return before the trip starts is refused"
    );
    let detail = store.get_case(&officer, &case.id).unwrap();
    assert_eq!(detail.leaves.len(), 1);
    let digest = store
        .case_tasks(&detail.case, today + chrono::Days::new(32))
        .unwrap();
    let report = digest
        .iter()
        .find(|t| t.rule_id == "L-5.report_return")
        .unwrap();
    assert_eq!(report.status, "overdue");
}

#[test]
fn c14_quarterly_assessment_closes_its_clock_and_bad_scores_are_refused() {
    use chrono::NaiveDate;
    use jiceng_core::model::{AssessmentGrade, AssessmentInput};
    let (mut store, user) = office_store("site-a");
    let mut input = case_input("卫十五", "110101199003074514");
    input.status = Some(CaseStatus::InCorrection);
    input.sentence_start = "2026-03-01".into();
    input.sentence_end = "2027-02-28".into();
    let case = store.save_case(&user, input).unwrap();
    let on_day = NaiveDate::from_ymd_opt(2026, 9, 20).unwrap();
    let before = store
        .case_tasks(&store.get_case(&user, &case.id).unwrap().case, on_day)
        .unwrap();
    let q3 = before
        .iter()
        .find(|t| t.rule_id == "C-14.quarterly_assessment" && t.title_zh.contains("2026-Q3"))
        .unwrap();
    assert_eq!(
        (q3.due_date.as_str(), q3.status.as_str()),
        ("2026-09-30", "due")
    );
    let q2 = before
        .iter()
        .find(|t| t.title_zh.contains("2026-Q2"))
        .unwrap();
    assert_eq!(
        q2.status, "overdue",
        "Q2 (from the March start) was never assessed"
    );
    let record = store
        .add_assessment(
            &user,
            AssessmentInput {
                case_id: case.id.clone(),
                period: "2026-Q3".into(),
                assessed_on: "2026-09-20".into(),
                score_conduct: 25,
                score_reporting: 22,
                score_study: 20,
                score_labour: 18,
                opinion: "表现良好".into(),
            },
        )
        .unwrap();
    assert_eq!((record.total, record.grade), (85, AssessmentGrade::Pass));
    let after = store
        .case_tasks(&store.get_case(&user, &case.id).unwrap().case, on_day)
        .unwrap();
    let q3 = after
        .iter()
        .find(|t| t.title_zh.contains("2026-Q3"))
        .unwrap();
    assert_eq!(q3.status, "done");
    for (period, score, on) in [
        ("2026-Q5", 10, "2026-09-20"),
        ("2026-Q3", 26, "2026-09-20"),
        ("2026-Q3", 10, "2026-06-30"),
    ] {
        let err = store
            .add_assessment(
                &user,
                AssessmentInput {
                    case_id: case.id.clone(),
                    period: period.into(),
                    assessed_on: on.into(),
                    score_conduct: score,
                    score_reporting: 0,
                    score_study: 0,
                    score_labour: 0,
                    opinion: String::new(),
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{period} {score} {on}");
    }
}

#[test]
fn c13_l12_every_read_of_a_sealed_minor_record_is_logged_and_synced_as_an_operation() {
    let (mut store, user) = office_store("site-a");
    let mut input = case_input("未成年甲", "110101200901011238");
    input.sentence_start = "2026-03-01".into();
    input.sentence_end = "2027-02-28".into();
    input.sealed_minor = Some(true);
    let sealed = store.save_case(&user, input).unwrap();
    assert!(sealed.sealed_minor);
    let open = store
        .save_case(&user, case_input("成年乙", "110101199003074514"))
        .unwrap();
    let before = store.own_log().unwrap().len();
    store.read_case(&user, &open.id).unwrap();
    assert_eq!(
        store.own_log().unwrap().len(),
        before,
        "an unsealed case is read without a trace"
    );
    store.read_case(&user, &sealed.id).unwrap();
    let detail = store.read_case(&user, &sealed.id).unwrap();
    assert_eq!(detail.access_log.len(), 2);
    assert_eq!(detail.access_log[0].user_name, "矫正专干");
    let log = store.own_log().unwrap();
    assert!(
        log[before..].iter().all(|op| op.table == "corr_access_log"),
        "the reads are logged operations"
    );
}

#[test]
fn replicated_tables_fit_the_masters_column_masks_and_declare_no_column_defaults() {
    // The master's merge tracks changed columns in a u64 (one bit per field), and inserts a new row
    // with only its written columns: a column DEFAULT would then differ from the sites' rows, which
    // write every column.
    let store = jiceng_core::store::Store::open_in_memory().unwrap();
    for def in jiceng_core::tables::TABLES {
        assert!(
            def.fields.len() < 64,
            "{} has {} fields",
            def.name,
            def.fields.len()
        );
        let mut stmt = store
            .connection()
            .prepare(&format!(
                "SELECT name, dflt_value FROM pragma_table_info('{}')",
                def.name
            ))
            .unwrap();
        let columns: Vec<(String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for field in def.fields {
            let column = columns.iter().find(|c| c.0 == field.name);
            assert!(
                column.is_some(),
                "{}.{} has no column",
                def.name,
                field.name
            );
            assert_eq!(
                column.and_then(|c| c.1.clone()),
                None,
                "{}.{} declares a DEFAULT",
                def.name,
                field.name
            );
        }
    }
}

#[test]
fn the_helpers_stores_read_the_documented_fixed_instant_not_the_real_date() {
    assert_eq!(
        jiceng_core::shanghai::from_millis(common_setup::NOW_MS).to_rfc3339(),
        "2026-11-30T10:00:00+08:00"
    );
    let (store, user) = office_store("site-a");
    assert_eq!(store.wall_millis(), common_setup::NOW_MS);
    assert_eq!(store.task_digest(&user, None).unwrap().today, "2026-11-30");
    let (store, clerk) = common_setup::community_store("ws-1");
    assert_eq!(store.task_digest(&clerk, None).unwrap().today, "2026-11-30");
    // The set-up writes are stamped at that instant too.
    let log = store.own_log().unwrap();
    assert!(log.iter().all(|op| op.hlc.millis() == common_setup::NOW_MS));
}

/// scripts/test.sh runs the core and server tests again under faketime and sets JICENG_EXPECT_TODAY to
/// the date it moved to: this checks the move reaches Rust's SystemTime (libfaketime intercepts
/// clock_gettime), so those runs really try other dates. Without the variable there is nothing to check.
#[test]
fn a_faketime_run_moves_the_clock_the_store_reads_by_default() {
    let Ok(expected) = std::env::var("JICENG_EXPECT_TODAY") else {
        return;
    };
    let expected = chrono::NaiveDate::parse_from_str(&expected, "%Y-%m-%d")
        .expect("JICENG_EXPECT_TODAY is YYYY-MM-DD");
    let today = jiceng_core::shanghai::today((jiceng_core::store::system_clock())());
    assert!(
        (today - expected).num_days().abs() <= 1,
        "the test binary reads {today}, faketime was asked for {expected}"
    );
}

#[test]
fn the_write_path_checks_what_changes_with_the_servers_validators_and_carries_old_values_along() {
    // Issue 9: one set of validators for the desktop and the server.
    let (mut store, user) = office_store("site-a");
    let case = store
        .save_case(&user, case_input("孙𠀀", "110101199003074514"))
        .unwrap();
    let table = jiceng_core::tables::table("corr_case").unwrap();
    let err = store
        .write_row(
            "u",
            table,
            &case.id,
            &case.org_unit_id,
            &[jiceng_core::store::WriteChange::new("status", "junk")],
        )
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CoreError::Invalid {
                field: "status",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.message_zh().contains("不在允许的范围内"),
        "{}",
        err.message_zh()
    );
    // A value an older release let through arrives from another site: a later save that does not
    // change it is not refused for it.
    let mut legacy = jiceng_core::op::Operation {
        site_id: "old-laptop".into(),
        site_seq: 1,
        prev_hash: GENESIS_HASH.into(),
        hash: String::new(),
        table: "corr_case".into(),
        row_id: case.id.clone(),
        field: "supervision_level".into(),
        value: serde_json::json!("特严"),
        hlc: Hlc::from_parts(store.wall_millis() - 1_000, 0),
        base: None,
        user_id: "u".into(),
        schema_version: 1,
        scope: case.org_unit_id.clone(),
        server_seq: Some(99),
    };
    legacy.hash = legacy.compute_hash();
    store.apply_remote(&[legacy], 99).unwrap();
    let written = store
        .write_row(
            "u",
            table,
            &case.id,
            &case.org_unit_id,
            &[
                jiceng_core::store::WriteChange::new("supervision_level", "特严"),
                jiceng_core::store::WriteChange::new("address", "北京市东城区北新桥三条1号"),
            ],
        )
        .unwrap();
    assert_eq!(written.len(), 1, "only the address changed");
    // The write path refuses no new row without its owner, and puts the owner first.
    let log = store.own_log().unwrap();
    let first = log.iter().find(|op| op.row_id == case.id).unwrap();
    assert_eq!(first.field, "org_unit_id");
    let err = store
        .write_row(
            "u",
            table,
            "no-owner-row",
            &case.org_unit_id,
            &[jiceng_core::store::WriteChange::new("name", "无主")],
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::Corrupt(_)), "{err:?}");
}

#[test]
fn a_store_made_by_the_previous_release_opens_in_this_one_with_every_record_intact() {
    // Issue 10 §4: the fixture is built from the older migrations by the test itself.
    let dir = std::env::temp_dir().join(format!("jiceng-old-store-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("site.sqlite");
    let before = {
        let mut old = Store::open_at_schema(&path, jiceng_core::store::PREVIOUS_RELEASE_SCHEMA)
            .unwrap()
            .with_clock(common_setup::fixed_clock());
        assert_eq!(
            old.schema_version().unwrap(),
            jiceng_core::store::PREVIOUS_RELEASE_SCHEMA
        );
        old.set_identity(&common_setup::identity("old-laptop"))
            .unwrap();
        let user = common_setup::seed_office_user(&mut old);
        for (name, id) in [
            ("周𠀀", "110101199003074514"),
            ("吴十", "110105198501011234"),
        ] {
            old.save_case(&user, case_input(name, id)).unwrap();
        }
        let exists: bool = old
            .connection()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sync_quarantine')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!exists, "the previous release had no quarantine items");
        (
            dump(&old, "corr_case"),
            dump(&old, "org_unit"),
            old.own_log().unwrap(),
        )
    };
    let new = Store::open(&path).unwrap();
    assert_eq!(
        new.schema_version().unwrap(),
        jiceng_core::store::STORE_SCHEMA
    );
    assert_eq!(
        (
            // Issue 14 §5: the derived name_search (migration 33) is new; every other column is kept.
            dump_except(&new, "corr_case", "name_search"),
            dump(&new, "org_unit"),
            new.own_log().unwrap()
        ),
        before,
        "every record and the whole log kept"
    );
    assert_eq!(new.held_write_count().unwrap(), 0);

    // Issue 12 §5: the log goes on in binary (schema 34) after the older release's JSON entries; one
    // chain, read back whole, and sent from the first unsent whichever way each entry is kept.
    let mut new = new.with_clock(common_setup::fixed_clock());
    let user = new.login("officer", "password-1").unwrap();
    new.save_case(&user, case_input("郑𪚥", "110101199003078777"))
        .unwrap();
    let (json_entries, binary_entries): (i64, i64) = new
        .connection()
        .query_row(
            "SELECT SUM(op_bin IS NULL), SUM(op_bin IS NOT NULL) FROM oplog",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(json_entries as usize, before.2.len());
    assert!(binary_entries > 0);
    let log = new.own_log().unwrap();
    assert_eq!(log.len(), before.2.len() + binary_entries as usize);
    assert_eq!(&log[..before.2.len()], &before.2[..]);
    for pair in log.windows(2) {
        assert_eq!(
            pair[1].prev_hash, pair[0].hash,
            "one chain across both formats"
        );
        assert_eq!(pair[1].site_seq, pair[0].site_seq + 1);
    }
    assert!(log.iter().all(|op| op.hash_is_valid()));
    assert_eq!(new.unacked_ops(usize::MAX).unwrap(), log);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_store_schema_a_site_announces_is_its_last_migration() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        jiceng_core::store::STORE_SCHEMA
    );
    const { assert!(jiceng_core::store::PREVIOUS_RELEASE_SCHEMA < jiceng_core::store::STORE_SCHEMA) };
    for table in jiceng_core::tables::TABLES {
        assert!(
            jiceng_core::tables::introduced_in(table.name) <= jiceng_core::store::STORE_SCHEMA,
            "{}",
            table.name
        );
    }
}

#[test]
fn a_clerk_backs_the_store_up_and_restores_it_as_a_new_instance_keeping_the_replaced_file() {
    // Issue 10 §3: the desktop's 备份 / 恢复 (the shell closes and reopens the store around it).
    let dir = std::env::temp_dir().join(format!("jiceng-backups-{}", uuid::Uuid::now_v7()));
    let live = dir.join("jiceng.sqlite");
    let mut store = Store::open(&live)
        .unwrap()
        .with_clock(common_setup::fixed_clock());
    store
        .set_identity(&common_setup::identity("laptop"))
        .unwrap();
    let user = common_setup::seed_office_user(&mut store);
    store
        .save_case(&user, case_input("郑𠀀", "110101199003074514"))
        .unwrap();
    let made = jiceng_core::backups::backup(&store, &dir).unwrap();
    assert!(made.name.starts_with("jiceng-20261130-"), "{}", made.name);
    store
        .save_case(&user, case_input("王十一", "110105198501011234"))
        .unwrap();
    let instance = store.instance_id().unwrap();
    drop(store);
    let listed = jiceng_core::backups::list(&dir).unwrap();
    assert_eq!(listed.len(), 1);
    let aside = jiceng_core::backups::restore(&dir, &listed[0].name, &live, 1).unwrap();
    let mut restored = Store::open(&live).unwrap();
    restored.reset_instance_id().unwrap();
    assert_ne!(restored.instance_id().unwrap(), instance);
    let names: Vec<String> = dump(&restored, "corr_case")
        .iter()
        .map(|r| r[2].clone())
        .collect();
    assert_eq!(
        names.len(),
        1,
        "the store is as it was at the backup: {names:?}"
    );
    let kept = Store::open(&aside).unwrap();
    assert_eq!(
        dump(&kept, "corr_case").len(),
        2,
        "the replaced file is kept, nothing lost"
    );
    assert!(jiceng_core::backups::restore(&dir, "../jiceng.sqlite", &live, 2).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_status_bar_reads_what_a_running_sync_is_doing_and_nothing_once_it_ended() {
    let (store, _) = office_store("site-a");
    store.set_sync_activity(Some("网络不稳定，0.2秒后第1次重试".into()));
    assert_eq!(
        store.sync_status().unwrap().activity.as_deref(),
        Some("网络不稳定，0.2秒后第1次重试")
    );
    store.set_sync_activity(None);
    assert_eq!(store.sync_status().unwrap().activity, None);
}
