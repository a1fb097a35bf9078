//! Issue 12 §1-2: the SQLite and the PostgreSQL master pass the same suite, through the same
//! `MasterStore` trait: enrolment, pushes (idempotent retries, broken chains, gaps, holds), pulls
//! within each site's scope, record pages, the quarantine review, revocation and token rotation, the
//! site's own log. PostgreSQL runs in a throw-away cluster (tests/src/pg.rs); a machine without
//! PostgreSQL's server programs fails here and says how to install them.
//!
//! And the race a PostgreSQL master must survive (issue 12 §2): a push that has taken its server_seqs
//! but not yet committed, while another writer and a reader run beside it. The reader's cursor must
//! never move past operations that commit later.

#[path = "../../tests/src/pg.rs"]
mod pg;

use jiceng_core::model::{OrgKind, Role};
use jiceng_core::op::Operation;
use jiceng_core::store::{SiteIdentity, Store, WriteChange};
use jiceng_core::tables;
use jiceng_core::wire::{EnrolRequest, PushRequest, PushResponse, QuarantineDecision};
use jiceng_server::error::ServerError;
use jiceng_server::master::{
    MasterPool, MasterReads, MasterStore, PgMaster, RecordsPage, SiteAuth, SqliteMaster,
};
use std::sync::{Arc, Barrier, Mutex};

const NOW_MS: u64 = 1_796_004_000_000;
const HOUR_MS: u64 = 3_600_000;

fn clock() -> jiceng_core::store::WallClock {
    Arc::new(|| NOW_MS)
}

fn sqlite() -> Box<dyn MasterStore> {
    Box::new(SqliteMaster::open_in_memory().unwrap().with_clock(clock()))
}

fn postgres(label: &str) -> (Box<dyn MasterStore>, String) {
    let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
    let url = cluster.fresh_database(label).unwrap();
    (
        Box::new(PgMaster::open(&url).unwrap().with_clock(clock())),
        url,
    )
}

/// Both backends, each fresh.
fn backends(label: &str) -> Vec<(&'static str, Box<dyn MasterStore>)> {
    vec![("sqlite", sqlite()), ("postgres", postgres(label).0)]
}

struct Office {
    auth: SiteAuth,
    token: String,
    store: Store,
    author: String,
    unit: String,
}

fn office(
    master: &mut dyn MasterStore,
    unit: &str,
    name: &str,
    role: Role,
    i: usize,
    site_clock: u64,
) -> Office {
    let author = master
        .add_user(
            &format!("user{i}"),
            &format!("用户{i}"),
            role,
            unit,
            "password-1",
        )
        .unwrap();
    let (_, code) = master.add_site(unit, name, NOW_MS - 86_400_000).unwrap();
    let enrolled = master
        .enrol(
            &EnrolRequest {
                code,
                device_label: name.to_string(),
                db_instance_id: format!("instance-{i}"),
            },
            NOW_MS,
        )
        .unwrap();
    let auth = master.authenticate(&enrolled.token).unwrap();
    let mut store = Store::open_in_memory()
        .unwrap()
        .with_clock(Arc::new(move || site_clock));
    store
        .set_identity(&SiteIdentity {
            site_id: auth.site_id.clone(),
            site_name: name.to_string(),
            org_unit_id: unit.to_string(),
            org_unit_name: name.to_string(),
            server_url: String::new(),
            token: String::new(),
            tls_pin: None,
        })
        .unwrap();
    Office {
        auth,
        token: enrolled.token,
        store,
        author,
        unit: unit.to_string(),
    }
}

fn write_cases(office: &mut Office, rows: usize, tag: &str) -> PushRequest {
    let def = tables::table("corr_case").unwrap();
    for r in 0..rows {
        office
            .store
            .write_row(
                &office.author,
                def,
                &format!("{tag}-{r}"),
                &office.unit,
                &[
                    WriteChange::new("org_unit_id", office.unit.clone()),
                    WriteChange::new("name", format!("𠀀{tag}{r}")),
                ],
            )
            .unwrap();
    }
    PushRequest {
        db_instance_id: format!("instance-of-{}", office.auth.site_id),
        ops: office.store.unacked_ops(100_000).unwrap(),
        divergent: Vec::new(),
    }
}

fn pull_all(master: &mut dyn MasterStore, site: &SiteAuth) -> Vec<Operation> {
    let mut after = 0;
    let mut ops = Vec::new();
    loop {
        let page = master.pull(site, after, 7, NOW_MS).unwrap();
        ops.extend(page.ops);
        after = page.next_cursor;
        if !page.has_more {
            return ops;
        }
    }
}

struct District {
    district: Office,
    town: Office,
    other_town: Office,
}

fn district(master: &mut dyn MasterStore) -> District {
    let district_unit = master
        .add_org_unit(None, OrgKind::District, "示范区")
        .unwrap();
    let town = master
        .add_org_unit(Some(&district_unit), OrgKind::Township, "𠀀家镇")
        .unwrap();
    let other = master
        .add_org_unit(Some(&district_unit), OrgKind::Township, "乙镇")
        .unwrap();
    assert!(matches!(
        master.add_org_unit(Some(&town), OrgKind::Township, "错层"),
        Err(ServerError::BadRequest(_))
    ));
    District {
        district: office(
            master,
            &district_unit,
            "区司法局",
            Role::DistrictAdmin,
            1,
            NOW_MS,
        ),
        town: office(
            master,
            &town,
            "𠀀家镇司法所",
            Role::JudicialOfficer,
            2,
            NOW_MS,
        ),
        other_town: office(
            master,
            &other,
            "乙镇司法所",
            Role::JudicialOfficer,
            3,
            NOW_MS,
        ),
    }
}

#[test]
fn pushes_pulls_and_pages_are_the_same_on_both_backends() {
    let mut summaries = Vec::new();
    for (backend, mut master) in backends("round_trip") {
        let master = master.as_mut();
        let mut d = district(master);
        let push = write_cases(&mut d.town, 6, "t");
        let ops = push.ops.len();
        let first = master.push(&d.town.auth, push.clone(), NOW_MS).unwrap();
        assert_eq!(first.acks.len(), ops, "{backend}");
        assert!(first.acks.iter().all(|a| a.server_seq > 0), "{backend}");
        // A retry (the answer was lost) is recognised operation by operation, same server_seqs.
        let again = master.push(&d.town.auth, push.clone(), NOW_MS).unwrap();
        assert_eq!(again.duplicates as usize, ops, "{backend}");
        assert_eq!(again.acks, first.acks, "{backend}");
        // A changed operation under a known site_seq is a broken chain: refused, with an alarm.
        let mut forged = push.clone();
        forged.ops[0].value = serde_json::json!("改写");
        forged.ops[0].hash = forged.ops[0].compute_hash();
        assert!(
            matches!(
                master.push(&d.town.auth, forged, NOW_MS),
                Err(ServerError::HashMismatch { .. })
            ),
            "{backend}"
        );
        assert!(master
            .alarms()
            .unwrap()
            .iter()
            .any(|a| a.code == "hash_mismatch"));
        // A gap in the sequence is refused.
        let pairs: Vec<(u64, u64)> = first
            .acks
            .iter()
            .map(|a| (a.site_seq, a.server_seq))
            .collect();
        d.town.store.mark_acked(&pairs).unwrap();
        let mut gap = write_cases(&mut d.town, 2, "g");
        gap.ops.remove(0);
        assert!(
            matches!(
                master.push(&d.town.auth, gap, NOW_MS),
                Err(ServerError::Gap { .. })
            ),
            "{backend}"
        );
        // The district sees the township's cases; the other township sees none of them.
        let seen = pull_all(master, &d.district.auth);
        let cases: Vec<&Operation> = seen.iter().filter(|o| o.table == "corr_case").collect();
        assert_eq!(
            cases.len(),
            ops,
            "{backend}: the district pulls every case operation"
        );
        assert!(
            cases.windows(2).all(|w| w[0].server_seq < w[1].server_seq),
            "{backend}: in log order"
        );
        let stranger = pull_all(master, &d.other_town.auth);
        assert!(
            stranger.iter().all(|o| o.table != "corr_case"),
            "{backend}: another township's cases never reach it"
        );
        // Record pages: by key, in scope, 4-byte names intact.
        let page = |master: &mut dyn MasterStore, site: &SiteAuth, after: Option<String>| {
            master
                .records(
                    site,
                    "corr_case",
                    RecordsPage {
                        after,
                        offset: 0,
                        limit: 4,
                    },
                )
                .unwrap()
        };
        let first_page = page(master, &d.district.auth, None);
        let last_id = first_page
            .last()
            .and_then(|r| r["id"].as_str())
            .map(str::to_string);
        let second_page = page(master, &d.district.auth, last_id);
        let names: Vec<String> = first_page
            .iter()
            .chain(second_page.iter())
            .map(|r| r["name"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            names,
            (0..6).map(|i| format!("𠀀t{i}")).collect::<Vec<_>>(),
            "{backend}"
        );
        assert!(
            page(master, &d.other_town.auth, None).is_empty(),
            "{backend}"
        );
        assert!(
            matches!(
                master.record(&d.other_town.auth, "corr_case", "t-0"),
                Err(ServerError::NotFound(_))
            ),
            "{backend}"
        );
        let record = master.record(&d.town.auth, "corr_case", "t-0").unwrap();
        assert_eq!(record["org_unit_id"], d.town.unit.as_str(), "{backend}");
        // The site's own log, for a restored desktop.
        let (own, more) = master.own_log(&d.town.auth, 0, 100).unwrap();
        assert_eq!(own.len(), ops, "{backend}");
        assert!(!more);
        summaries.push((
            backend,
            names,
            cases.len(),
            record
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        ));
    }
    // Same answers, field for field, on both backends.
    assert_eq!(summaries[0].1, summaries[1].1);
    assert_eq!(summaries[0].2, summaries[1].2);
    assert_eq!(summaries[0].3, summaries[1].3);
}

#[test]
fn holds_reach_the_review_and_a_release_merges_on_both_backends() {
    for (backend, mut master) in backends("review") {
        let master = master.as_mut();
        let mut d = district(master);
        // A laptop whose clock runs two hours ahead: its operations are held, never merged.
        let mut fast = office(
            master,
            &d.town.unit.clone(),
            "快钟笔记本",
            Role::JudicialOfficer,
            9,
            NOW_MS + 2 * HOUR_MS,
        );
        let push = write_cases(&mut fast, 1, "f");
        let answer = master.push(&fast.auth, push.clone(), NOW_MS).unwrap();
        assert_eq!(answer.quarantined.len(), push.ops.len(), "{backend}");
        assert!(answer.held.iter().all(|h| h.code == "future_clock"));
        assert!(matches!(
            master.record(&d.district.auth, "corr_case", "f-0"),
            Err(ServerError::NotFound(_))
        ));
        let items = master.quarantine().unwrap();
        assert_eq!(items.len(), push.ops.len(), "{backend}");
        // Each held operation is published as a replicated row the district reads.
        let published = master
            .records(
                &d.district.auth,
                "sync_quarantine",
                RecordsPage {
                    after: None,
                    offset: 0,
                    limit: 100,
                },
            )
            .unwrap();
        assert_eq!(published.len(), items.len(), "{backend}");
        assert!(published.iter().all(|r| r["status"] == "held"));
        // Only a district decides; it releases every held operation of the case.
        let decision = |item: &jiceng_server::master::QuarantineItem| QuarantineDecision {
            site_id: item.site_id.clone(),
            site_seq: item.site_seq,
            decision: "release".to_string(),
            decided_by: "区司法局 王𠀀".to_string(),
            note: "时钟已校准".to_string(),
        };
        assert!(matches!(
            master.decide_quarantine(&d.town.auth, &decision(&items[0]), NOW_MS),
            Err(ServerError::Forbidden(_))
        ));
        let before = master.log_len().unwrap();
        for item in &items {
            let decided = master
                .decide_quarantine(&d.district.auth, &decision(item), NOW_MS)
                .unwrap();
            assert_eq!(decided.status, "released", "{backend}");
        }
        assert!(matches!(
            master.decide_quarantine(&d.district.auth, &decision(&items[0]), NOW_MS),
            Err(ServerError::Conflict(_))
        ));
        assert!(master.log_len().unwrap() > before);
        let released = master.record(&d.district.auth, "corr_case", "f-0").unwrap();
        assert_eq!(released["name"], "𠀀f0", "{backend}");
        // The town's site receives the released case from the log.
        let town_sees = pull_all(master, &d.town.auth);
        assert!(
            town_sees.iter().any(|o| o.row_id == "f-0"),
            "{backend}: a released operation reaches the sites in scope"
        );
        d.town.token.clear();
    }
}

#[test]
fn revocation_and_token_rotation_on_both_backends() {
    for (backend, mut master) in backends("sites") {
        let master = master.as_mut();
        let d = district(master);
        let next = master.rotate_token(&d.town.auth, NOW_MS).unwrap();
        assert!(master.authenticate(&d.town.token).is_ok(), "{backend}");
        assert!(master.authenticate(&next).is_ok(), "{backend}");
        assert!(
            matches!(
                master.authenticate(&d.town.token),
                Err(ServerError::BadToken)
            ),
            "{backend}: the first use of the new token retires the old one"
        );
        let summary = master
            .revoke_site(&d.town.auth.site_id, "管理员", "笔记本丢失", NOW_MS + 1)
            .unwrap();
        assert!(summary.revoked, "{backend}");
        assert!(
            matches!(
                master.authenticate(&next),
                Err(ServerError::SiteRevoked { at_ms }) if at_ms == NOW_MS + 1
            ),
            "{backend}"
        );
        assert!(matches!(
            master.revoke_site(&d.town.auth.site_id, "管理员", "", NOW_MS + 2),
            Err(ServerError::Conflict(_))
        ));
        let code = master
            .site_recovery_code(&d.other_town.auth, NOW_MS)
            .unwrap();
        assert_eq!(
            master
                .site_recovery_code(&d.other_town.auth, NOW_MS + 5)
                .unwrap(),
            code,
            "{backend}: made once"
        );
        assert_eq!(
            master
                .read_recovery_code(&d.other_town.auth.site_id, "区管理员", NOW_MS)
                .unwrap(),
            code
        );
        let names: Vec<String> = master
            .sites()
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names.len(), 3, "{backend}: {names:?}");
        // The reset is replicated to the user's unit.
        master
            .reset_password("user2", "Temp-password-9", NOW_MS)
            .unwrap();
        assert!(matches!(
            master.reset_password("nobody", "Temp-password-9", NOW_MS),
            Err(ServerError::NotFound(_))
        ));
    }
}

/// Issue 12 §2: a push holds its server_seqs uncommitted while a second writer (another process: a
/// connection of its own) waits and a reader pulls. The reader sees neither until each commits, and
/// its cursor never passes an operation that commits after it read; in the end it has every
/// operation exactly once, in order.
#[test]
fn a_reader_never_skips_an_operation_committed_late_by_a_concurrent_writer() {
    let (mut setup, url) = postgres("race");
    let d = district(setup.as_mut());
    let mut town = d.town;
    let mut other = d.other_town;
    let district_site = d.district.auth.clone();
    drop(setup);
    let held_push = write_cases(&mut town, 3, "slow");
    let late_push = write_cases(&mut other, 2, "fast");
    let expected = held_push.ops.len() + late_push.ops.len();

    let mut reader = PgMaster::open(&url).unwrap();
    let start = reader.pull(&district_site, 0, 10_000, NOW_MS).unwrap();
    let mut cursor = start.next_cursor;
    let mut seen: Vec<Operation> = Vec::new();

    // Writer A stops inside its transaction, after its log record, before its commit.
    let at_gate = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let mut writer_a = PgMaster::open(&url).unwrap();
    {
        let (at_gate, release) = (at_gate.clone(), release.clone());
        writer_a.set_commit_gate(Some(Box::new(move || {
            at_gate.wait();
            release.wait();
        })));
    }
    let town_auth = town.auth.clone();
    let a = std::thread::spawn(move || writer_a.push(&town_auth, held_push, NOW_MS));
    at_gate.wait();
    // Writer B (another process) pushes meanwhile: it waits for the log, it does not overtake.
    let b_done = Arc::new(Mutex::new(false));
    let mut writer_b = PgMaster::open(&url).unwrap();
    let other_auth = other.auth.clone();
    let flag = b_done.clone();
    let b = std::thread::spawn(move || {
        let answer = writer_b.push(&other_auth, late_push, NOW_MS);
        *flag.lock().unwrap() = true;
        answer
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let during = reader.pull(&district_site, cursor, 10_000, NOW_MS).unwrap();
    assert!(
        during.ops.iter().all(|o| o.table != "corr_case"),
        "nothing uncommitted is read"
    );
    assert_eq!(
        during.next_cursor, cursor,
        "the cursor stays below the uncommitted record"
    );
    assert!(
        !*b_done.lock().unwrap(),
        "the second writer waits for the first's commit"
    );
    release.wait();
    let a_answer = a.join().unwrap().unwrap();
    let b_answer = b.join().unwrap().unwrap();
    let max_a = a_answer.acks.iter().map(|x| x.server_seq).max().unwrap();
    let min_b = b_answer.acks.iter().map(|x| x.server_seq).min().unwrap();
    assert!(max_a < min_b, "server_seqs follow the commit order");
    loop {
        let page = reader.pull(&district_site, cursor, 2, NOW_MS).unwrap();
        seen.extend(page.ops.into_iter().filter(|o| o.table == "corr_case"));
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen.len(), expected, "every operation, exactly once");
    let mut seqs: Vec<u64> = seen.iter().filter_map(|o| o.server_seq).collect();
    let sorted = {
        let mut s = seqs.clone();
        s.sort_unstable();
        s.dedup();
        s
    };
    assert_eq!(seqs, sorted);
    seqs.dedup();
    assert_eq!(seqs.len(), expected);
    town.token.clear();
    other.token.clear();
}

/// Issue 12 §2: four writers (four connections, as four server processes would hold) push at once
/// while a reader pulls from its cursor the whole time; the reader ends with every operation exactly
/// once.
#[test]
fn concurrent_writers_and_a_pulling_reader_lose_and_repeat_nothing() {
    let (mut setup, url) = postgres("stress");
    let root = setup
        .add_org_unit(None, OrgKind::District, "压力区")
        .unwrap();
    let mut offices = Vec::new();
    for i in 0..4 {
        let unit = setup
            .add_org_unit(Some(&root), OrgKind::Township, &format!("镇{i}"))
            .unwrap();
        offices.push(office(
            setup.as_mut(),
            &unit,
            &format!("司法所{i}"),
            Role::JudicialOfficer,
            10 + i,
            NOW_MS,
        ));
    }
    let watcher = office(setup.as_mut(), &root, "区", Role::DistrictAdmin, 99, NOW_MS);
    drop(setup);
    let batches = 6;
    let mut expected = 0;
    let mut writers = Vec::new();
    for (i, mut o) in offices.into_iter().enumerate() {
        let pushes: Vec<PushRequest> = (0..batches)
            .map(|b| write_cases(&mut o, 5, &format!("w{i}b{b}")))
            .collect();
        // Each push carries every operation not yet acknowledged: the last one holds them all.
        expected += pushes.last().map(|p| p.ops.len()).unwrap_or(0);
        let url = url.clone();
        let auth = o.auth.clone();
        writers.push(std::thread::spawn(move || {
            let mut master = PgMaster::open(&url).unwrap();
            for push in pushes {
                master.push(&auth, push, NOW_MS).unwrap();
            }
        }));
    }
    let mut reader = PgMaster::open(&url).unwrap();
    let mut cursor = 0;
    let mut seen: Vec<u64> = Vec::new();
    let collect = |reader: &mut PgMaster, cursor: &mut u64, seen: &mut Vec<u64>| loop {
        let page = reader.pull(&watcher.auth, *cursor, 50, NOW_MS).unwrap();
        seen.extend(
            page.ops
                .iter()
                .filter(|o| o.table == "corr_case")
                .filter_map(|o| o.server_seq),
        );
        *cursor = page.next_cursor;
        if !page.has_more {
            return;
        }
    };
    while writers.iter().any(|w| !w.is_finished()) {
        collect(&mut reader, &mut cursor, &mut seen);
    }
    for w in writers {
        w.join().unwrap();
    }
    collect(&mut reader, &mut cursor, &mut seen);
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no operation twice");
    assert_eq!(seen.len(), expected, "no operation lost");
}

/// Issue 12 §1: no lock around the whole master. On PostgreSQL a push completes while another request
/// holds a writer session (the pool opens another; the database orders the two), and so does an
/// administrative write; on SQLite, whose file has one writer, the push waits for it
/// (`concurrent_reads.rs` shows reads never do).
#[test]
fn a_postgres_master_writes_beside_a_held_writer_session() {
    let (mut master, _url) = postgres("pool");
    let mut d = district(master.as_mut());
    let request = write_cases(&mut d.town, 10, "p");
    let sent = request.ops.len();
    let pool = MasterPool::new(master);
    let held = pool.writer().expect("a writer session");
    let (answered, answer) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let pushed = pool.push(d.town.auth.clone(), request, NOW_MS);
            let unit =
                pool.write(|m| m.add_org_unit(Some(&d.town.unit), OrgKind::Community, "池社区"));
            answered.send((pushed, unit)).expect("answer");
        });
        let (pushed, unit) = answer
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a push and an administrative write beside a held writer session complete");
        assert_eq!(pushed.expect("pushed").acks.len(), sent);
        assert!(unit.is_ok(), "{unit:?}");
        drop(held);
    });
    let pulled = pool
        .read(|m| m.pull(&d.district.auth, 0, 10_000, NOW_MS))
        .expect("pull");
    assert!(pulled.ops.iter().any(|op| op.row_id.starts_with("p-")));
}

/// Migration 2 of the PostgreSQL master: histories an older master kept as JSON are converted to
/// core's binary encoding at the next start, and the rows read and merge the same afterwards.
#[test]
fn a_postgres_master_with_json_histories_is_converted_at_its_next_start() {
    let (mut master, url) = postgres("json_history");
    let mut d = district(master.as_mut());
    let request = write_cases(&mut d.town, 20, "j");
    master.push(&d.town.auth, request, NOW_MS).unwrap();
    let before = pull_all(master.as_mut(), &d.district.auth);
    drop(master);
    // Put the histories back as an older master kept them.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let rows = db
        .query("SELECT tbl, id, history FROM master_row", &[])
        .unwrap();
    assert!(rows.len() > 20);
    for row in &rows {
        let (table, id): (String, String) = (row.get(0), row.get(1));
        let history = jiceng_core::codec::decode_row(row.get::<_, &[u8]>(2)).unwrap();
        db.execute(
            "UPDATE master_row SET versions = $3::text::jsonb, history = NULL WHERE tbl = $1 AND id = $2",
            &[&table, &id, &serde_json::to_string(&history).unwrap()],
        )
        .unwrap();
    }
    drop(db);
    let mut master: Box<dyn MasterStore> =
        Box::new(PgMaster::open(&url).unwrap().with_clock(clock()));
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let left: i64 = db
        .query_one(
            "SELECT COUNT(*) FROM master_row WHERE history IS NULL OR versions IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "every history converted");
    // The converted rows merge on: an edit of a converted case on top of its history, and new cases.
    let def = tables::table("corr_case").unwrap();
    d.town
        .store
        .write_row(
            &d.town.author.clone(),
            def,
            "j-3",
            &d.town.unit.clone(),
            &[WriteChange::new("name", "改名𠀀")],
        )
        .unwrap();
    let edit = write_cases(&mut d.town, 20, "k");
    master.push(&d.town.auth, edit, NOW_MS).unwrap();
    let after = pull_all(master.as_mut(), &d.district.auth);
    assert_eq!(after.len(), before.len() + 41);
    let record = master.record(&d.district.auth, "corr_case", "j-3").unwrap();
    assert_eq!(record["name"], serde_json::json!("改名𠀀"));
    let conflicts: i64 = db
        .query_one("SELECT COUNT(*) FROM conflict_item", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        conflicts, 0,
        "the edit named the converted version it overwrote"
    );
}

/// Issue 12 §4 on PostgreSQL (migration 5): a master row's `vals` keeps only the fields that have a
/// value, and a field never written still reads back as null. The nulls were two thirds of a case's
/// `vals` under load.
#[test]
fn a_postgres_row_stores_only_the_fields_it_has_and_reads_the_rest_as_null() {
    let (mut master, url) = postgres("lean_vals");
    let mut d = district(master.as_mut());
    let cases = write_cases(&mut d.town, 3, "lean");
    master.push(&d.town.auth, cases, NOW_MS).unwrap();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let (rows, with_nulls, most_keys): (i64, i64, i32) = {
        let row = db
            .query_one(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE vals <> jsonb_strip_nulls(vals)), \
                 MAX((SELECT COUNT(*) FROM jsonb_object_keys(vals)))::int \
                 FROM master_row WHERE tbl = 'corr_case' AND id LIKE 'lean-%'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(rows, 3);
    assert_eq!(with_nulls, 0, "no field stored as null");
    let written = tables::table("corr_case").unwrap().fields.len() as i32;
    assert!(
        most_keys < written,
        "a case with two fields written keeps {most_keys} of its {written} fields"
    );
    let record = master
        .record(&d.district.auth, "corr_case", "lean-1")
        .unwrap();
    assert_eq!(record["name"], serde_json::json!("𠀀lean1"));
    assert!(
        record["id_number"].is_null(),
        "a field never written reads as null"
    );
    d.town.token.clear();
}

/// Issue 12 §4 on PostgreSQL: pushes are judged, merged and written beside each other, and only
/// their log records wait for the log's lock. Two offices creating one row at once (the same id
/// from two PCs of different units: a cloned store, or a hostile site) end as if they had come one
/// after the other: the second push's insert waits for the first's commit, fails on the row's key,
/// and the push is judged and merged again over the row the first wrote. That row now belongs to
/// the first office's unit, so the guard holds the second office's writes for the district
/// (`out_of_scope`, `owner_change`: nothing lost, nothing merged past the guard through the race).
/// The row keeps exactly the first push's fields, and every operation of both is acknowledged.
#[test]
fn two_pushes_creating_one_row_at_once_end_as_one_after_the_other_on_postgres() {
    let (mut setup, url) = postgres("twin_row");
    let d = district(setup.as_mut());
    let mut town = d.town;
    let mut other = d.other_town;
    let district_site = d.district.auth.clone();
    drop(setup);
    let def = tables::table("corr_case").unwrap();
    let write_twin = |office: &mut Office, name: &str| {
        office
            .store
            .write_row(
                &office.author,
                def,
                "twin",
                &office.unit,
                &[
                    WriteChange::new("org_unit_id", office.unit.clone()),
                    WriteChange::new("name", name.to_string()),
                ],
            )
            .unwrap();
        PushRequest {
            db_instance_id: format!("instance-of-{}", office.auth.site_id),
            ops: office.store.unacked_ops(100).unwrap(),
            divergent: Vec::new(),
        }
    };
    let first = write_twin(&mut town, "𠀀甲");
    let second = write_twin(&mut other, "乙");
    // One after the other: the first push creates the row; the second's writes are held.
    let mut expected = jiceng_core::merge::RowVersions::default();
    for op in first.ops.iter() {
        let _ = expected.apply(op, def.merge);
    }
    let second_seqs: Vec<u64> = second.ops.iter().map(|op| op.site_seq).collect();

    let at_gate = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let mut writer_a = PgMaster::open(&url).unwrap().with_clock(clock());
    {
        let (at_gate, release) = (at_gate.clone(), release.clone());
        writer_a.set_commit_gate(Some(Box::new(move || {
            at_gate.wait();
            release.wait();
        })));
    }
    let town_auth = town.auth.clone();
    let a = std::thread::spawn(move || writer_a.push(&town_auth, first, NOW_MS));
    at_gate.wait();
    let b_done = Arc::new(Mutex::new(false));
    let mut writer_b = PgMaster::open(&url).unwrap().with_clock(clock());
    let other_auth = other.auth.clone();
    let flag = b_done.clone();
    let b = std::thread::spawn(move || {
        let answer = writer_b.push(&other_auth, second, NOW_MS);
        *flag.lock().unwrap() = true;
        answer
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !*b_done.lock().unwrap(),
        "the second push waits for the row the first is creating"
    );
    release.wait();
    let a_answer = a.join().unwrap().unwrap();
    let b_answer = b.join().unwrap().unwrap();
    assert!(a_answer.quarantined.is_empty(), "the first push merges");
    let mut held = b_answer.quarantined.clone();
    held.sort_unstable();
    assert_eq!(
        held, second_seqs,
        "the second office writes a row its unit does not own: every write held ({:?})",
        b_answer.held
    );
    assert!(b_answer
        .held
        .iter()
        .all(|h| h.code == "out_of_scope" || h.code == "owner_change"));
    let mut acked: Vec<u64> = b_answer.acks.iter().map(|a| a.site_seq).collect();
    acked.sort_unstable();
    assert_eq!(acked, second_seqs, "held operations are acknowledged too");
    assert!(a_answer.acks.iter().all(|ack| ack.server_seq > 0));

    let mut reader = PgMaster::open(&url).unwrap();
    let rows = reader
        .records(
            &district_site,
            "corr_case",
            RecordsPage {
                after: None,
                offset: 0,
                limit: 10,
            },
        )
        .unwrap();
    let twin = rows
        .iter()
        .find(|r| r["id"] == "twin")
        .expect("the row is in the master");
    for field in ["name", "org_unit_id"] {
        let shown = expected
            .shown_value(field, def.merge)
            .and_then(|v| v.as_str().map(str::to_string));
        assert_eq!(
            twin[field].as_str().map(str::to_string),
            shown,
            "{field} is the first push's"
        );
    }
    let (_, head) = reader.snapshot_origin().unwrap();
    let page = reader
        .owned_rows(def, &[town.unit.clone(), other.unit.clone()], "", 10)
        .unwrap();
    let history = page
        .iter()
        .find(|(id, _)| id == "twin")
        .map(|(_, versions)| versions.clone())
        .expect("the row's history");
    assert_eq!(
        history, expected,
        "the row keeps the first push's field versions only (log head {head})"
    );
    town.token.clear();
    other.token.clear();
}

/// `rows` new cases written at `office`, as one push per row (its two operations), in chain order.
fn pushes_of_one_row_each(office: &mut Office, rows: usize, tag: &str) -> Vec<PushRequest> {
    let all = write_cases(office, rows, tag);
    all.ops
        .chunks(2)
        .map(|ops| PushRequest {
            db_instance_id: all.db_instance_id.clone(),
            ops: ops.to_vec(),
            divergent: Vec::new(),
        })
        .collect()
}

/// The rows whose ids start with `prefix` among what the district pulls from the start.
fn rows_the_district_pulls(
    pool: &MasterPool,
    district: &SiteAuth,
    prefix: &str,
) -> std::collections::BTreeSet<String> {
    let pulled = pool
        .read(|m| m.pull(district, 0, 10_000, NOW_MS))
        .expect("pull");
    pulled
        .ops
        .into_iter()
        .filter(|op| op.row_id.starts_with(prefix))
        .map(|op| op.row_id)
        .collect()
}

/// The writer sessions a pool opens at most on this backend.
fn writers_of(backend: &str) -> usize {
    if backend == "postgres" {
        jiceng_server::master::MAX_PG_WRITERS
    } else {
        1
    }
}

/// Issue 12 §4: a push never waits for a writer of its own. While every writer is held, pushes
/// are queued and their threads go on at once (over HTTP the request then only waits for its
/// answer); whoever lets a writer go first merges the queue, in the order the pushes came, a group
/// at a time, and answers each. Before, every push's thread had to take a writer before it could
/// return, even when another writer's group had merged its push long before.
#[test]
fn pushes_queued_while_every_writer_is_held_are_merged_in_order_when_one_is_let_go() {
    for (name, mut master) in backends("queued") {
        let mut d = district(master.as_mut());
        let requests = pushes_of_one_row_each(&mut d.town, 20, "q");
        let count = requests.len();
        let pool = MasterPool::new(master);
        let mut held: Vec<_> = (0..writers_of(name))
            .map(|_| pool.writer().expect("a writer"))
            .collect();
        type Answers = Vec<(usize, Result<PushResponse, ServerError>)>;
        let answered: Arc<Mutex<Answers>> = Arc::default();
        let (queued, all_queued) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for (i, request) in requests.into_iter().enumerate() {
                    let answers = answered.clone();
                    pool.enqueue_push(
                        d.town.auth.clone(),
                        request,
                        NOW_MS,
                        Box::new(move |result| answers.lock().unwrap().push((i, result))),
                    );
                }
                queued.send(()).expect("queued");
            });
            all_queued
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("{name}: queueing a push waited for a writer"));
        });
        assert!(
            answered.lock().unwrap().is_empty(),
            "{name}: nothing is merged while every writer is held"
        );
        drop(held.pop());
        let answers = std::mem::take(&mut *answered.lock().unwrap());
        let order: Vec<usize> = answers.iter().map(|(i, _)| *i).collect();
        assert_eq!(
            order,
            (0..count).collect::<Vec<_>>(),
            "{name}: the writer let go merged the whole queue, first come first merged"
        );
        let mut last_seq = 0;
        for (i, answer) in answers {
            let response = answer.unwrap_or_else(|e| panic!("{name}: push {i}: {e}"));
            assert_eq!(response.acks.len(), 2, "{name}: push {i}");
            for ack in &response.acks {
                assert!(
                    ack.server_seq > last_seq,
                    "{name}: push {i} merged in order"
                );
                last_seq = ack.server_seq;
            }
        }
        drop(held);
        let rows = rows_the_district_pulls(&pool, &d.district.auth, "q-");
        assert_eq!(
            rows.len(),
            20,
            "{name}: every queued push's rows are in the master"
        );
    }
}

/// A defect that makes a merge panic must not strand the pushes queued behind it, nor the writer:
/// the group's pushes are answered with an error (the site sends them again), and the next pushes,
/// the same ones among them, merge as if nothing had happened.
#[test]
fn a_merge_that_panics_answers_its_group_with_an_error_and_the_queue_goes_on() {
    for (name, mut master) in backends("merge_panic") {
        let mut d = district(master.as_mut());
        let requests = pushes_of_one_row_each(&mut d.town, 6, "p");
        let pool = MasterPool::new(master);
        type Answers = Arc<Mutex<Vec<(usize, Result<PushResponse, ServerError>)>>>;
        let enqueue = |answers: &Answers, requests: &[PushRequest]| {
            for (i, request) in requests.iter().enumerate() {
                let answers = answers.clone();
                pool.enqueue_push(
                    d.town.auth.clone(),
                    request.clone(),
                    NOW_MS,
                    Box::new(move |result| answers.lock().unwrap().push((i, result))),
                );
            }
        };
        // Every writer held while the first three queue: they are merged as one group, which panics.
        let held: Vec<_> = (0..writers_of(name))
            .map(|_| pool.writer().expect("a writer"))
            .collect();
        let failed: Answers = Arc::default();
        enqueue(&failed, &requests[..3]);
        pool.panic_in_next_merges(1);
        drop(held);
        let failed = std::mem::take(&mut *failed.lock().unwrap());
        assert_eq!(
            failed.len(),
            3,
            "{name}: every push of the group is answered"
        );
        for (i, answer) in &failed {
            match answer {
                Err(ServerError::Store(message)) => {
                    assert!(message.contains("nothing was written"), "{name}: {message}")
                }
                other => panic!("{name}: push {i} of the panicked group: {other:?}"),
            }
        }
        // The same pushes and the rest, sent again: merged, none of them a duplicate.
        let merged: Answers = Arc::default();
        enqueue(&merged, &requests);
        let merged = std::mem::take(&mut *merged.lock().unwrap());
        assert_eq!(merged.len(), requests.len(), "{name}");
        for (i, answer) in merged {
            let response = answer.unwrap_or_else(|e| panic!("{name}: push {i} again: {e}"));
            assert_eq!(
                response.duplicates, 0,
                "{name}: push {i}: nothing was written before"
            );
            assert_eq!(response.acks.len(), 2, "{name}: push {i}");
        }
        let rows = rows_the_district_pulls(&pool, &d.district.auth, "p-");
        assert_eq!(rows.len(), 6, "{name}: every row in the master");
    }
}

/// An administrative write is answered as soon as it is done: the pushes that queued for its writer
/// meanwhile are merged after the answer, on the same thread, so under a steady stream of pushes the
/// request is not held until the queue runs dry.
#[test]
fn an_administrative_write_is_answered_before_the_pushes_queued_behind_it_are_merged() {
    for (name, mut master) in backends("answered") {
        let mut d = district(master.as_mut());
        let requests = pushes_of_one_row_each(&mut d.town, 3, "w");
        let count = requests.len();
        let pool = MasterPool::new(master);
        let held: Vec<_> = (0..writers_of(name) - 1)
            .map(|_| pool.writer().expect("a writer"))
            .collect();
        let merged: Arc<Mutex<usize>> = Arc::default();
        let (writing, queue_now) = std::sync::mpsc::channel();
        let (queued, go_on) = std::sync::mpsc::channel();
        let mut merged_when_answered = None;
        let (shared, auth, counted) = (&pool, d.town.auth.clone(), merged.clone());
        std::thread::scope(|scope| {
            scope.spawn(move || {
                queue_now.recv().expect("the write holds the last writer");
                for request in requests {
                    let merged = counted.clone();
                    shared.enqueue_push(
                        auth.clone(),
                        request,
                        NOW_MS,
                        Box::new(move |result| {
                            result.expect("merged");
                            *merged.lock().unwrap() += 1;
                        }),
                    );
                }
                queued.send(()).expect("queued");
            });
            pool.write_answering(
                |m| {
                    writing.send(()).expect("writing");
                    go_on.recv().expect("the pushes are queued");
                    m.add_org_unit(Some(&d.town.unit), OrgKind::Community, "答社区")
                },
                |result| {
                    assert!(result.is_ok(), "{name}: {result:?}");
                    merged_when_answered = Some(*merged.lock().unwrap());
                },
            );
        });
        assert_eq!(
            merged_when_answered,
            Some(0),
            "{name}: the write was answered before the queue behind it was merged"
        );
        assert_eq!(
            *merged.lock().unwrap(),
            count,
            "{name}: and the queue was merged before its writer was let go"
        );
        drop(held);
    }
}

/// A real lock cycle on PostgreSQL (issue 12 §4): another transaction holds the second push's site
/// row and then asks for the first push's, which the group holds. PostgreSQL breaks the cycle at the
/// group's statement (its sessions keep the default `deadlock_timeout`; the other one waits longer),
/// the group rolls that push back to its savepoint and tries it again, three times in all, then
/// answers it `contended` (503: send again) and commits the rest. Sent again once the other
/// transaction is gone, it is merged whole: nothing of it was written before.
#[test]
fn a_lock_cycle_is_retried_then_answered_contended_and_the_rest_of_the_group_commits() {
    let (mut setup, url) = postgres("lock_cycle");
    let d = district(setup.as_mut());
    let mut town = d.town;
    let mut other = d.other_town;
    drop(setup);
    let first = write_cases(&mut town, 2, "cycle-a");
    let second = write_cases(&mut other, 2, "cycle-b");
    let (town_auth, other_auth) = (town.auth.clone(), other.auth.clone());

    let mut blocker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    blocker
        .batch_execute("SET deadlock_timeout = '60s'; BEGIN")
        .unwrap();
    blocker
        .execute(
            "SELECT 1 FROM site WHERE id = $1 FOR UPDATE",
            &[&other_auth.site_id],
        )
        .unwrap();

    let mut writer = PgMaster::open(&url).unwrap().with_clock(clock());
    let group = {
        let (first, second) = (first.clone(), second.clone());
        let (town_auth, other_auth) = (town_auth.clone(), other_auth.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let results = writer.push_group(vec![(town_auth, first), (other_auth, second)], NOW_MS);
            (results, started.elapsed(), writer)
        })
    };
    // The group has staged the first push (its site row locked) and waits for the second's.
    let mut watcher = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let waiting = |watcher: &mut postgres::Client| -> i64 {
        watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
                &[],
            )
            .unwrap()
            .get(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while waiting(&mut watcher) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the group never waited"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Now the cycle: this transaction asks for the first push's site row, held by the group. It
    // gets it once the group commits.
    let closing = std::thread::spawn(move || {
        blocker
            .execute(
                "SELECT 1 FROM site WHERE id = $1 FOR UPDATE",
                &[&town_auth.site_id],
            )
            .unwrap();
        blocker.batch_execute("ROLLBACK").unwrap();
    });
    let (results, took, mut writer) = group.join().unwrap();
    closing.join().unwrap();
    assert_eq!(results.len(), 2);
    let merged = results[0].as_ref().expect("the first push commits");
    assert_eq!(merged.acks.len(), first.ops.len());
    match &results[1] {
        Err(e) => assert_eq!(e.code(), "contended", "{e}"),
        Ok(_) => panic!("the push in the lock cycle was merged"),
    }
    // Three attempts, each broken after the default deadlock_timeout of 1 s.
    assert!(took >= std::time::Duration::from_millis(2_500), "{took:?}");

    let again = writer.push(&other_auth, second.clone(), NOW_MS).unwrap();
    assert_eq!(
        again.duplicates, 0,
        "nothing of the contended push was written"
    );
    assert_eq!(again.acks.len(), second.ops.len());
}

/// The replica a PostgreSQL process makes its administrative writes on, kept in `replica_dir`
/// between runs: a restarted process merges what the log gained meanwhile, not the whole log. A file
/// that may disagree with the master (unreadable, holding a write the master may lack, another
/// master's) is started again from the whole log, and two processes never share one.
#[test]
fn a_postgres_admin_replica_kept_in_a_directory_resumes_after_a_restart_and_starts_again_when_it_may_disagree(
) {
    let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
    let url = cluster.fresh_database("replica-dir").unwrap();
    let dir = std::env::temp_dir().join(format!("jiceng-replica-{}", uuid::Uuid::now_v7()));
    let open = |dir: &std::path::Path| {
        PgMaster::open_with_replica(&url, Some(dir))
            .unwrap()
            .with_clock(clock())
    };
    let slot0 = dir.join("admin-replica-0.sqlite");

    // First run: the district and its townships.
    let (district, cursor) = {
        let mut master = open(&dir);
        let district = master
            .add_org_unit(None, OrgKind::District, "示范区")
            .unwrap();
        for i in 0..12 {
            master
                .add_org_unit(Some(&district), OrgKind::Township, &format!("𠀀{i}镇"))
                .unwrap();
        }
        let state = master.admin_replica_state().expect("made by the writes");
        assert_eq!(state.file.as_deref(), Some(slot0.as_path()));
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o700,
                "the district's records for the server's user only"
            );
        }
        assert_eq!(
            state.cursor,
            master.log_len().unwrap(),
            "caught up to the head"
        );
        (district, state.cursor)
    };

    // Meanwhile a process without the directory writes (its replica in memory).
    let other_unit = {
        let mut other = PgMaster::open(&url).unwrap().with_clock(clock());
        other
            .add_org_unit(Some(&district), OrgKind::Township, "乙镇")
            .unwrap()
    };
    let gained = {
        let mut plain = PgMaster::open(&url).unwrap();
        plain.log_len().unwrap() - cursor
    };
    assert!(gained > 0);

    // Second run: its first write merges only what the log gained, and sees the other's unit (its
    // parent must exist for core's write path to take the new unit).
    {
        let mut master = open(&dir);
        let before = master.log_len().unwrap();
        master
            .add_org_unit(Some(&other_unit), OrgKind::Community, "乙镇社区")
            .unwrap();
        let state = master.admin_replica_state().unwrap();
        assert_eq!(state.file.as_deref(), Some(slot0.as_path()));
        assert_eq!(
            state.merged_since_open,
            before - cursor,
            "resumed from its cursor ({cursor}), not from the start of {before} operations"
        );
        assert!(state.merged_since_open < before);
        assert_eq!(state.cursor, master.log_len().unwrap());
        // Two processes at once: the second takes the next file.
        let mut second = open(&dir);
        second
            .add_org_unit(Some(&district), OrgKind::Township, "丙镇")
            .unwrap();
        assert_eq!(
            second.admin_replica_state().unwrap().file,
            Some(dir.join("admin-replica-1.sqlite"))
        );
    }

    // A file holding a write the master may lack (made here behind the server's back): started
    // again from the whole log; the master never sees that write.
    {
        let mut store = Store::open(&slot0).unwrap();
        store
            .create_org_unit("setup", "behind-the-back", None, OrgKind::District, "别区")
            .unwrap();
    }
    let mut master = open(&dir);
    let before = master.log_len().unwrap();
    master
        .add_org_unit(Some(&district), OrgKind::Township, "丁镇")
        .unwrap();
    assert_eq!(
        master.admin_replica_state().unwrap().merged_since_open,
        before,
        "the whole log merged again"
    );
    assert!(master
        .org_units()
        .unwrap()
        .iter()
        .all(|u| u.id != "behind-the-back"));
    drop(master);

    // A file that does not open as a store: started again.
    std::fs::write(&slot0, b"not a database at all").unwrap();
    for stale in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", slot0.display()));
    }
    let mut master = open(&dir);
    let before = master.log_len().unwrap();
    master
        .add_org_unit(Some(&district), OrgKind::Township, "戊镇")
        .unwrap();
    assert_eq!(
        master.admin_replica_state().unwrap().merged_since_open,
        before
    );
    drop(master);

    // The same master given a new master_id (what a restore from a backup does): started again.
    {
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        db.execute(
            "UPDATE server_meta SET value = 'restored-master' WHERE key = 'master_id'",
            &[],
        )
        .unwrap();
    }
    let mut master = open(&dir);
    let before = master.log_len().unwrap();
    master
        .add_org_unit(Some(&district), OrgKind::Township, "己镇")
        .unwrap();
    assert_eq!(
        master.admin_replica_state().unwrap().merged_since_open,
        before
    );
    drop(master);

    // Another master's replica, its log longer than the file's cursor: started again for this one
    // (taken as it was, it would lack the first operations of this master's log).
    let other_url = cluster.fresh_database("replica-dir-other").unwrap();
    let other_district = {
        let mut other = PgMaster::open(&other_url).unwrap().with_clock(clock());
        let district = other.add_org_unit(None, OrgKind::District, "他区").unwrap();
        for i in 0..40 {
            other
                .add_org_unit(Some(&district), OrgKind::Township, &format!("他{i}镇"))
                .unwrap();
        }
        district
    };
    let other_dir = std::env::temp_dir().join(format!("jiceng-replica-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&other_dir).unwrap();
    std::fs::copy(&slot0, other_dir.join("admin-replica-0.sqlite")).unwrap();
    let mut other = PgMaster::open_with_replica(&other_url, Some(&other_dir))
        .unwrap()
        .with_clock(clock());
    let before = other.log_len().unwrap();
    assert!(before > cursor, "longer than the copied file's cursor");
    other
        .add_org_unit(Some(&other_district), OrgKind::Township, "他新镇")
        .unwrap();
    assert_eq!(
        other.admin_replica_state().unwrap().merged_since_open,
        before
    );
    assert!(other.org_units().unwrap().iter().all(|u| u.id != district));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&other_dir).ok();
}

/// `table`'s size as its statistics describe it (`pg_class.relpages`, set by ANALYZE).
fn pages_described(db: &mut postgres::Client, table: &str) -> i64 {
    db.query_one(
        "SELECT relpages::bigint FROM pg_class WHERE oid = to_regclass($1)",
        &[&table],
    )
    .unwrap()
    .get(0)
}

/// Waits (up to a minute) until master_row's statistics describe more than `pages` pages.
fn wait_for_analysis_past(db: &mut postgres::Client, pages: i64) -> i64 {
    for _ in 0..600 {
        let described = pages_described(db, "master_row");
        if described > pages {
            return described;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "master_row was not analysed past {pages} pages (it is described as {})",
        pages_described(db, "master_row")
    );
}

/// The generic and the custom plan of each of the org tree's lookups for `unit`, as a session
/// would run them.
fn org_tree_plans(db: &mut postgres::Client, unit: &str) -> Vec<String> {
    let mut plans = Vec::new();
    for (i, sql) in jiceng_server::master::ORG_TREE_LOOKUPS.iter().enumerate() {
        db.batch_execute(&format!("PREPARE lookup{i}(text) AS {sql}"))
            .unwrap();
        for mode in ["force_generic_plan", "force_custom_plan"] {
            db.batch_execute(&format!("SET plan_cache_mode = {mode}"))
                .unwrap();
            let lines: Vec<String> = db
                .query(&format!("EXPLAIN EXECUTE lookup{i}('{unit}')"), &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            plans.push(format!("{mode}:\n{}", lines.join("\n")));
        }
        db.batch_execute(&format!("DEALLOCATE lookup{i}")).unwrap();
    }
    db.batch_execute("RESET plan_cache_mode").unwrap();
    plans
}

/// Issue 12 §4 on PostgreSQL: statistics that describe a master holding little more than its org
/// tree (as autovacuum leaves them right after a district is onboarded; it is switched off here, so
/// that only the server can analyse) are renewed by the server once pushes outgrow them, at the
/// first check and at a later one, and the org tree's lookups, which every request makes, then
/// find the tree through an index instead of reading every row of the master. A load run started
/// on such statistics fell from ~200,000 to 27,000-44,000 operations/s (BENCHMARKS.md).
#[test]
fn a_postgres_master_analyses_its_tables_once_pushes_outgrow_their_statistics() {
    let (mut master, url) = postgres("outgrown_statistics");
    let mut d = district(master.as_mut());
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for table in ["master_row", "log_record", "log_scope", "scope_move"] {
        db.batch_execute(&format!(
            "ALTER TABLE {table} SET (autovacuum_enabled = false)"
        ))
        .unwrap();
    }
    db.batch_execute("ANALYZE").unwrap();
    let onboarded = pages_described(&mut db, "master_row");

    let cases = write_cases(&mut d.town, 6_000, "grow");
    master.push(&d.town.auth, cases, NOW_MS).unwrap();
    let first = wait_for_analysis_past(&mut db, 2 * onboarded.max(1));

    // 10,000 operations later the server checks again; the master has more than doubled since.
    let more = write_cases(&mut d.other_town, 8_000, "more");
    master.push(&d.other_town.auth, more, NOW_MS).unwrap();
    let second = wait_for_analysis_past(&mut db, 2 * first);
    assert!(second > 2 * first);

    for plan in org_tree_plans(&mut db, &d.town.unit) {
        assert!(
            !plan.contains("Seq Scan on master_row"),
            "the org tree read through every row of the master:\n{plan}"
        );
    }
    // The analyses are cheap (schema/server/postgres/0006): no statistics of the values and
    // histories, a histogram of ten buckets for the ids.
    let described: Vec<(String, i32)> = db
        .query(
            "SELECT attname::text, COALESCE(array_length(histogram_bounds::text::text[], 1), 0) \
             FROM pg_stats WHERE tablename = 'master_row' ORDER BY attname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let names: Vec<&str> = described.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["id", "owner", "tbl"], "{described:?}");
    assert!(
        described.iter().all(|(_, bounds)| *bounds <= 11),
        "{described:?}"
    );
    d.town.token.clear();
}

/// Issue 12 §4 on PostgreSQL: a process keeps its sites' places in the org tree (kind, the units they
/// cover, those above them) while the tree keeps its version, instead of walking the tree at every
/// request. A unit another process adds below a township is in that township's scope, and in the
/// district's, at their next request to this process, on its writer sessions and on its readers.
#[test]
fn a_unit_another_process_adds_is_in_the_sites_scopes_at_their_next_request() {
    let (mut master, url) = postgres("org_places");
    let d = district(master.as_mut());
    let reader_factory = master
        .reader_factory()
        .expect("a PostgreSQL master has readers");
    let mut reader = reader_factory().unwrap();
    let town_before = master.authenticate(&d.town.token).unwrap();
    assert_eq!(town_before.scope.len(), 1);
    assert!(town_before.scope.contains(&d.town.unit));
    let district_before = reader.authenticate(&d.district.token).unwrap();
    // The same answers again, now from what the process kept.
    assert_eq!(master.authenticate(&d.town.token).unwrap(), town_before);
    assert_eq!(
        reader.authenticate(&d.district.token).unwrap(),
        district_before
    );

    let mut other = PgMaster::open(&url).unwrap().with_clock(clock());
    let village = other
        .add_org_unit(Some(&d.town.unit), OrgKind::Community, "𠀀村社区")
        .unwrap();

    let town_after = reader.authenticate(&d.town.token).unwrap();
    assert!(town_after.covers(&village), "{town_after:?}");
    assert!(master.authenticate(&d.town.token).unwrap().covers(&village));
    let district_after = master.authenticate(&d.district.token).unwrap();
    assert!(district_after.covers(&village), "{district_after:?}");
    assert_eq!(district_after.scope.len(), district_before.scope.len() + 1);
    let other_town = reader.authenticate(&d.other_town.token).unwrap();
    assert!(!other_town.covers(&village));
    assert_eq!(
        other_town.ancestors,
        vec![d.other_town.unit.clone(), d.district.unit.clone()]
    );
    assert_eq!(other_town.created_at_ms, NOW_MS - 86_400_000);

    // A unit this process adds itself, after the other township's place was kept.
    let hamlet = master
        .add_org_unit(Some(&d.other_town.unit), OrgKind::Community, "乙村")
        .unwrap();
    assert!(reader
        .authenticate(&d.other_town.token)
        .unwrap()
        .covers(&hamlet));
    assert!(!master.authenticate(&d.town.token).unwrap().covers(&hamlet));
}
