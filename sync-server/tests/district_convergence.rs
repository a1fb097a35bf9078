//! Issue 10 §8, convergence at district size, through the server's guard: eight replicas of different
//! kinds (three laptops of one judicial office, two of another, two community workstations, the
//! district) write, push and pull in random schedules, while a hostile enrolled site keeps sending what
//! the guard must hold (another office's rows, owner moves, rewrites of append-only records, bad
//! values, L-6 completions). Afterwards every replica equals the master within its scope, field for
//! field, every hostile operation sits in quarantine, and no legitimate operation does.
//!
//! Both backends (issue 12): 24 schedules on each, the SQLite master and PostgreSQL (a fresh database
//! of the throw-away cluster each), by default; `JICENG_DISTRICT_SCHEDULES=10000` for the long run. The master is compared through its own
//! read path: the district's `/records` pages, filtered to each replica's scope.

#[path = "../../tests/src/pg.rs"]
mod pg;

use jiceng_core::hlc::Hlc;
use jiceng_core::model::{OrgKind, Role};
use jiceng_core::op::{Operation, GENESIS_HASH, SCHEMA_VERSION};
use jiceng_core::store::{SiteIdentity, Store, WriteChange};
use jiceng_core::tables;
use jiceng_core::wire::{EnrolRequest, PushRequest};
use jiceng_server::master::{MasterStore, PgMaster, RecordsPage, SiteAuth, SqliteMaster};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// 2026-11-30 10:00 Asia/Shanghai; every clock of a schedule starts here and moves on 1 ms per read.
const NOW_MS: u64 = 1_796_004_000_000;
const ROWS: usize = 4;
/// Rows compared and hostile operations held over all schedules, for the printed summary.
static COMPARED: AtomicU64 = AtomicU64::new(0);
static HELD: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone)]
enum Step {
    /// A replica writes one field of one of its unit's rows (creating it with its owner first).
    Edit {
        replica: usize,
        row: usize,
        field: usize,
        value: usize,
    },
    /// A replica records an append-only row (check-in or volunteer service) once.
    Record {
        replica: usize,
        row: usize,
    },
    Push {
        replica: usize,
    },
    Pull {
        replica: usize,
    },
    /// The hostile site sends one thing the guard must hold.
    Hostile {
        kind: usize,
        row: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..REPLICAS.len(), 0..ROWS, 0..3usize, 0..4usize)
            .prop_map(|(replica, row, field, value)| Step::Edit { replica, row, field, value }),
        2 => (0..REPLICAS.len(), 0..ROWS).prop_map(|(replica, row)| Step::Record { replica, row }),
        4 => (0..REPLICAS.len()).prop_map(|replica| Step::Push { replica }),
        4 => (0..REPLICAS.len()).prop_map(|replica| Step::Pull { replica }),
        2 => (0..5usize, 0..ROWS).prop_map(|(kind, row)| Step::Hostile { kind, row }),
    ]
}

/// (unit index, kind) of each replica: units 0 = township A, 1 = township B, 2 = community under A,
/// 3 = community under B, 4 = the district.
const REPLICAS: &[usize] = &[0, 0, 0, 1, 1, 2, 3, 4];

struct World {
    master: Box<dyn MasterStore>,
    units: Vec<String>,
    /// The user who writes at each unit (index as `units`).
    authors: Vec<String>,
    auths: Vec<SiteAuth>,
    stores: Vec<Store>,
    hostile: SiteAuth,
    hostile_seq: u64,
    hostile_hash: String,
    hostile_sent: u64,
    wall: Arc<AtomicU64>,
}

fn clock(wall: &Arc<AtomicU64>) -> jiceng_core::store::WallClock {
    let wall = wall.clone();
    Arc::new(move || wall.fetch_add(1, Ordering::SeqCst))
}

fn enrol(master: &mut dyn MasterStore, unit: &str, name: &str, now: u64) -> SiteAuth {
    let (_, code) = master
        .add_site(unit, name, NOW_MS - 86_400_000)
        .expect("site");
    let enrolled = master
        .enrol(
            &EnrolRequest {
                code,
                device_label: name.to_string(),
                db_instance_id: name.to_string(),
            },
            now,
        )
        .expect("enrol");
    master.authenticate(&enrolled.token).expect("auth")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

fn open_master(backend: Backend, wall: &Arc<AtomicU64>) -> Box<dyn MasterStore> {
    match backend {
        Backend::Sqlite => Box::new(
            SqliteMaster::open_in_memory()
                .expect("master")
                .with_clock(clock(wall)),
        ),
        Backend::Postgres => {
            let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
            let url = cluster
                .fresh_database("convergence")
                .unwrap_or_else(|e| panic!("{e}"));
            Box::new(
                PgMaster::open(&url)
                    .expect("master")
                    .with_clock(clock(wall)),
            )
        }
    }
}

fn world(backend: Backend) -> World {
    let wall = Arc::new(AtomicU64::new(NOW_MS));
    let mut master = open_master(backend, &wall);
    let district = master.add_org_unit(None, OrgKind::District, "区").unwrap();
    let a = master
        .add_org_unit(Some(&district), OrgKind::Township, "甲乡")
        .unwrap();
    let b = master
        .add_org_unit(Some(&district), OrgKind::Township, "乙镇")
        .unwrap();
    let ca = master
        .add_org_unit(Some(&a), OrgKind::Community, "甲社区")
        .unwrap();
    let cb = master
        .add_org_unit(Some(&b), OrgKind::Community, "乙社区")
        .unwrap();
    let units = vec![a, b.clone(), ca, cb, district];
    // Every operation names a user of the directory (issue 11 §5): one per unit, of the unit's role.
    let authors = units
        .iter()
        .enumerate()
        .map(|(i, unit)| {
            let role = match i {
                0 | 1 => Role::JudicialOfficer,
                2 | 3 => Role::CommunityClerk,
                _ => Role::DistrictAdmin,
            };
            master
                .add_user(
                    &format!("user{i}"),
                    &format!("用户{i}"),
                    role,
                    unit,
                    "password-1",
                )
                .expect("user")
        })
        .collect();
    let mut auths = Vec::new();
    let mut stores = Vec::new();
    for (i, unit) in REPLICAS.iter().enumerate() {
        let auth = enrol(master.as_mut(), &units[*unit], &format!("site-{i}"), NOW_MS);
        let mut store = Store::open_in_memory().unwrap().with_clock(clock(&wall));
        store
            .set_identity(&SiteIdentity {
                site_id: auth.site_id.clone(),
                site_name: format!("site-{i}"),
                org_unit_id: auth.org_unit_id.clone(),
                org_unit_name: String::new(),
                server_url: String::new(),
                token: String::new(),
                tls_pin: None,
            })
            .unwrap();
        auths.push(auth);
        stores.push(store);
    }
    let hostile = enrol(master.as_mut(), &b, "hostile", NOW_MS);
    World {
        master,
        units,
        authors,
        auths,
        stores,
        hostile,
        hostile_seq: 0,
        hostile_hash: GENESIS_HASH.to_string(),
        hostile_sent: 0,
        wall,
    }
}

fn now(w: &World) -> u64 {
    w.wall.load(Ordering::SeqCst)
}

/// The table a replica's unit writes: corrections at townships and the district, residents at
/// communities.
fn table_of(unit: usize) -> (&'static str, &'static str) {
    match unit {
        2 | 3 => ("resident", "volunteer_service"),
        _ => ("corr_case", "corr_checkin"),
    }
}

fn row_id(unit: usize, row: usize, append_only: bool) -> String {
    format!("u{unit}-r{row}-{}", if append_only { "a" } else { "m" })
}

fn edit(w: &mut World, replica: usize, row: usize, field: usize, value: usize) {
    let unit_index = REPLICAS[replica];
    // The district writes into township A's cases (it may write anywhere in the district).
    let owner_index = if unit_index == 4 { 0 } else { unit_index };
    let owner = w.units[owner_index].clone();
    let (table, _) = table_of(owner_index);
    let def = tables::table(table).unwrap();
    let (name, values): (&str, [&str; 4]) = match (table, field) {
        (_, 0) => ("name", ["张三", "李𠀀", "买买提·艾力", "王五"]),
        ("corr_case", 1) => (
            "status",
            ["received", "reported", "in_correction", "released"],
        ),
        ("corr_case", _) => (
            "sentence_end",
            ["2027-01-31", "2027-02-28", "2028-02-29", "2027-12-31"],
        ),
        (_, 1) => ("phone", ["13800000000", "010-6400-1234", "", "13900000001"]),
        (_, _) => ("room", ["101", "202", "303", "404"]),
    };
    let changes = [
        WriteChange::new("org_unit_id", owner.clone()),
        WriteChange::new(name, values[value]),
    ];
    let author = w.authors[unit_index].clone();
    w.stores[replica]
        .write_row(
            &author,
            def,
            &row_id(owner_index, row, false),
            &owner,
            &changes,
        )
        .expect("edit");
}

fn record(w: &mut World, replica: usize, row: usize) {
    let unit_index = REPLICAS[replica];
    if unit_index == 4 {
        return;
    }
    let owner = w.units[unit_index].clone();
    let (parent, table) = table_of(unit_index);
    let def = tables::table(table).unwrap();
    let parent_field = if parent == "corr_case" {
        "case_id"
    } else {
        "volunteer_id"
    };
    let note_field = if table == "corr_checkin" {
        "note"
    } else {
        "activity"
    };
    let changes = [
        WriteChange::new("org_unit_id", owner.clone()),
        WriteChange::new(parent_field, row_id(unit_index, row, false)),
        WriteChange::new(note_field, format!("第{replica}台记录")),
    ];
    // One row id per replica: two PCs never create the same row (UUIDv7); a second creation of one id
    // would rightly be held as a rewrite.
    let id = format!("{}-by{replica}", row_id(unit_index, row, true));
    let author = w.authors[unit_index].clone();
    match w.stores[replica].write_row(&author, def, &id, &owner, &changes) {
        Ok(_) | Err(jiceng_core::CoreError::AppendOnly(_)) => {}
        Err(e) => panic!("record: {e}"),
    }
}

fn push(w: &mut World, replica: usize) {
    let ops = w.stores[replica].unacked_ops(1000).unwrap();
    if ops.is_empty() {
        return;
    }
    let t = now(w);
    let pushed = w
        .master
        .push(
            &w.auths[replica],
            PushRequest {
                db_instance_id: format!("site-{replica}"),
                ops,
                divergent: Vec::new(),
            },
            t,
        )
        .expect("push");
    assert!(
        pushed.held.is_empty(),
        "a legitimate write was held: {:?}",
        pushed.held
    );
    let acks: Vec<(u64, u64)> = pushed
        .acks
        .iter()
        .map(|a| (a.site_seq, a.server_seq))
        .collect();
    w.stores[replica].mark_acked(&acks).unwrap();
}

fn pull(w: &mut World, replica: usize) {
    loop {
        let cursor = w.stores[replica].pull_cursor().unwrap();
        let t = now(w);
        let pulled = w
            .master
            .pull(&w.auths[replica], cursor, 500, t)
            .expect("pull");
        w.stores[replica]
            .apply_remote(&pulled.ops, pulled.next_cursor)
            .unwrap();
        if !pulled.has_more {
            break;
        }
    }
}

/// One operation the guard must hold, on the hostile site's own chain.
fn hostile(w: &mut World, kind: usize, row: usize) {
    let b = w.units[1].clone();
    let a = w.units[0].clone();
    let (table, row_id, field, value, scope) = match kind {
        // Another office's case.
        0 => (
            "corr_case",
            row_id(0, row, false),
            "name",
            serde_json::json!("冒名"),
            b.clone(),
        ),
        // Moving its own office's case away.
        1 => (
            "corr_case",
            row_id(1, row, false),
            "org_unit_id",
            serde_json::json!(a),
            b.clone(),
        ),
        // Rewriting a check-in of its office.
        2 => (
            "corr_checkin",
            format!("{}-by3", row_id(1, row, true)),
            "note",
            serde_json::json!("改写"),
            b.clone(),
        ),
        // A value the rules refuse.
        3 => (
            "corr_case",
            row_id(1, row, false),
            "sentence_end",
            serde_json::json!("明年"),
            b.clone(),
        ),
        // Completing an L-6 transfer itself.
        _ => (
            "corr_transfer",
            format!("t{row}"),
            "status",
            serde_json::json!("completed"),
            b.clone(),
        ),
    };
    // Rows of its own office the hostile site touches must exist, or the guard holds them as ownerless
    // (also a hold); an existing check-in is rewritten only if it is there.
    w.hostile_seq += 1;
    let mut op = Operation {
        site_id: w.hostile.site_id.clone(),
        site_seq: w.hostile_seq,
        prev_hash: w.hostile_hash.clone(),
        hash: String::new(),
        table: table.to_string(),
        row_id,
        field: field.to_string(),
        value,
        hlc: Hlc::from_parts(now(w), 0),
        base: None,
        user_id: "intruder".to_string(),
        schema_version: SCHEMA_VERSION,
        scope,
        server_seq: None,
    };
    op.hash = op.compute_hash();
    w.hostile_hash = op.hash.clone();
    let t = now(w);
    let hostile = w.hostile.clone();
    let pushed = w
        .master
        .push(
            &hostile,
            PushRequest {
                db_instance_id: "hostile".to_string(),
                ops: vec![op],
                divergent: Vec::new(),
            },
            t,
        )
        .expect("a hostile push is acknowledged, not refused");
    assert_eq!(pushed.quarantined.len(), 1, "held: {pushed:?}");
    w.hostile_sent += 1;
}

/// A table's rows at a replica as (id, visible values as text) filtered to owners in `units`.
fn visible_rows(conn: &rusqlite::Connection, table: &str, units: &[String]) -> Vec<Vec<String>> {
    let def = tables::table(table).unwrap();
    let columns: Vec<String> = def
        .fields
        .iter()
        .map(|f| format!("COALESCE(CAST({} AS TEXT), '')", f.name))
        .collect();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT id, {} FROM {table} ORDER BY id",
            columns.join(", ")
        ))
        .unwrap();
    let n = def.fields.len() + 1;
    let rows = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| r.get::<_, String>(i))
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .unwrap()
        .map(Result::unwrap);
    rows.filter(|r| units.contains(&r[owner_at(table)]))
        .collect()
}

fn owner_at(table: &str) -> usize {
    let def = tables::table(table).unwrap();
    def.fields
        .iter()
        .position(|f| f.name == "org_unit_id")
        .unwrap()
        + 1
}

/// The master's rows of a table as the district reads them (`/records`, every page), in the form of
/// [`visible_rows`], filtered to owners in `units`.
fn master_rows(
    master: &mut dyn MasterStore,
    district: &SiteAuth,
    table: &str,
    units: &[String],
) -> Vec<Vec<String>> {
    let def = tables::table(table).unwrap();
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Bool(b) => i64::from(*b).to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = master
            .records(
                district,
                table,
                RecordsPage {
                    after: after.clone(),
                    offset: 0,
                    limit: 500,
                },
            )
            .expect("records");
        let Some(last) = page.last() else { break };
        after = last["id"].as_str().map(str::to_string);
        for record in &page {
            let mut row = vec![text(&record["id"])];
            row.extend(def.fields.iter().map(|f| text(&record[f.name])));
            rows.push(row);
        }
    }
    rows.into_iter()
        .filter(|r| units.contains(&r[owner_at(table)]))
        .collect()
}

fn run(backend: Backend, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut w = world(backend);
    for step in steps {
        match *step {
            Step::Edit {
                replica,
                row,
                field,
                value,
            } => edit(&mut w, replica, row, field, value),
            Step::Record { replica, row } => record(&mut w, replica, row),
            Step::Push { replica } => push(&mut w, replica),
            Step::Pull { replica } => pull(&mut w, replica),
            Step::Hostile { kind, row } => hostile(&mut w, kind, row),
        }
    }
    for _ in 0..2 {
        for replica in 0..REPLICAS.len() {
            push(&mut w, replica);
        }
        for replica in 0..REPLICAS.len() {
            pull(&mut w, replica);
        }
    }
    let held = w.master.quarantine().expect("quarantine").len() as i64;
    prop_assert_eq!(
        held as u64,
        w.hostile_sent,
        "only the hostile operations are held"
    );
    HELD.fetch_add(held as u64, Ordering::Relaxed);
    let district = w.auths[REPLICAS.len() - 1].clone();
    for (replica, unit) in REPLICAS.iter().enumerate() {
        let scope = w.auths[replica].scope.clone();
        let tables: &[&str] = match unit {
            0 | 1 => &["corr_case", "corr_checkin"],
            2 | 3 => &["resident", "volunteer_service"],
            _ => &["corr_case", "corr_checkin", "resident", "volunteer_service"],
        };
        for table in tables {
            let master = master_rows(w.master.as_mut(), &district, table, &scope);
            let site = visible_rows(w.stores[replica].connection(), table, &scope);
            prop_assert_eq!(
                &site,
                &master,
                "replica {} table {} differs from the master",
                replica,
                table
            );
            COMPARED.fetch_add(site.len() as u64, Ordering::Relaxed);
        }
    }
    Ok(())
}

fn converge(backend: Backend) {
    let schedules: u32 = std::env::var("JICENG_DISTRICT_SCHEDULES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    COMPARED.store(0, Ordering::Relaxed);
    HELD.store(0, Ordering::Relaxed);
    let mut runner = TestRunner::new(Config {
        cases: schedules,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    runner
        .run(&prop::collection::vec(step(), 10..80), |steps| {
            run(backend, &steps)
        })
        .expect("district convergence");
    println!(
        "district convergence ({backend:?}): {schedules} schedules of 8 replicas (3 kinds) and a hostile site passed in {:.1}s; {} replica rows equal to the master, {} hostile operations held, 0 legitimate ones",
        started.elapsed().as_secs_f64(),
        COMPARED.load(Ordering::Relaxed),
        HELD.load(Ordering::Relaxed)
    );
}

/// One test for both backends: the counters are shared, and the two must not interleave.
#[test]
fn eight_replicas_of_every_kind_converge_through_the_guard_while_a_hostile_site_is_held() {
    converge(Backend::Sqlite);
    converge(Backend::Postgres);
}
