//! The master's merge keeps rows' field histories in memory between batches (a cache): these tests
//! prove it gives the same master as a merge without it, that a concurrent edit arriving after the
//! cache was warmed still opens a conflict item and keeps every version, and that a write by another
//! connection (the admin CLI opens the same file) is not overwritten from a stale cache.

use jiceng_core::codec;
use jiceng_core::model::OrgKind;
use jiceng_core::op::Operation;
use jiceng_core::store::{SiteIdentity, Store, WriteChange};
use jiceng_core::tables;
use jiceng_server::master::{MasterReads, MasterStore, SqliteMaster};
use rusqlite::params;

/// "Now" for the master's ingest and pull: 2026-11-30 10:00 Asia/Shanghai, the instant of
/// core/tests/common_setup.rs, so no test reads the real date (scripts/test.sh runs them again under
/// faketime to catch one that does). The master's own writes still stamp with the system clock
/// (SqliteMaster takes no clock): the one test that hands them to a site runs that site on it too.
const NOW_MS: u64 = 1_796_004_000_000;

/// The sites' wall clock: starts at `NOW_MS` and moves on a millisecond at every read, shared by every
/// site of the process, so a write made after another is later, as on real PCs (a stopped clock would
/// make a site's later edit look concurrent with what it never saw). Thousands of reads stay far inside
/// the master's `MAX_FUTURE_DRIFT_MS` of an hour.
fn site_clock() -> jiceng_core::store::WallClock {
    static WALL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(NOW_MS);
    std::sync::Arc::new(|| WALL.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
}

struct Setup {
    unit: String,
    sites: Vec<String>,
}

fn setup(master: &mut SqliteMaster) -> Setup {
    let district = master
        .add_org_unit(None, OrgKind::District, "区")
        .expect("district");
    let unit = master
        .add_org_unit(Some(&district), OrgKind::Township, "乡")
        .expect("township");
    let sites = (0..2)
        .map(|i| master.add_site(&unit, &format!("site {i}"), 0).unwrap().0)
        .collect();
    Setup { unit, sites }
}

/// A fresh directory for a file-backed master, and the master's path in it.
fn master_file(label: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("jiceng-{label}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("master.sqlite");
    (dir, path)
}

fn site_store(site_id: &str, unit: &str) -> Store {
    site_store_on(site_id, unit, site_clock())
}

fn site_store_on(site_id: &str, unit: &str, clock: jiceng_core::store::WallClock) -> Store {
    let mut store = Store::open_in_memory().expect("store").with_clock(clock);
    store
        .set_identity(&SiteIdentity {
            site_id: site_id.to_string(),
            site_name: site_id.to_string(),
            org_unit_id: unit.to_string(),
            org_unit_name: String::new(),
            server_url: String::new(),
            token: String::new(),
            tls_pin: None,
        })
        .expect("identity");
    store
}

fn write(store: &mut Store, row: &str, unit: &str, changes: &[WriteChange]) -> Vec<Operation> {
    let table = tables::table("corr_case").expect("corr_case");
    store
        .write_row("u", table, row, unit, changes)
        .expect("write")
}

/// Ops of the scenario, in push order: A creates a case, B receives it; A edits the status (the master
/// now holds A's edit as the winner, cached), then B edits the status without having seen A's edit.
fn scenario(s: &Setup) -> (Vec<Operation>, Vec<Operation>, Vec<Operation>) {
    let row = uuid::Uuid::now_v7().to_string();
    let mut a = site_store(&s.sites[0], &s.unit);
    let mut b = site_store(&s.sites[1], &s.unit);
    let created = write(
        &mut a,
        &row,
        &s.unit,
        &[
            WriteChange::new("org_unit_id", s.unit.as_str()),
            WriteChange::new("name", "张三"),
            WriteChange::new("status", "received"),
        ],
    );
    b.apply_remote(&created, 0).expect("b receives the case");
    let a_edit = write(
        &mut a,
        &row,
        &s.unit,
        &[WriteChange::new("status", "in_correction")],
    );
    let b_edit = write(
        &mut b,
        &row,
        &s.unit,
        &[WriteChange::new("status", "revoked")],
    );
    assert_eq!(
        b_edit[0].base.as_ref().map(|v| v.hlc),
        Some(created[2].hlc),
        "B wrote on top of the created status, not A's edit"
    );
    (created, a_edit, b_edit)
}

fn conflicts(master: &SqliteMaster) -> Vec<(String, String)> {
    let mut stmt = master
        .connection()
        .prepare("SELECT id, field FROM conflict ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn master_rows(master: &SqliteMaster) -> Vec<(String, Option<String>, Vec<u8>)> {
    let mut stmt = master
        .connection()
        .prepare("SELECT id, status, _versions FROM corr_case ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn status_versions(master: &SqliteMaster) -> usize {
    let rows = master_rows(master);
    let history = master
        .row_history("corr_case", &rows[0].0)
        .expect("history")
        .expect("row");
    history.fields["status"].len()
}

#[test]
fn a_concurrent_edit_after_the_cache_is_warm_opens_a_conflict_and_keeps_every_version() {
    let mut master = SqliteMaster::open_in_memory().unwrap();
    let s = setup(&mut master);
    let (created, a_edit, b_edit) = scenario(&s);
    // Three batches: the row is cached after the first and holds A's edit as winner after the second.
    master.ingest(&created, NOW_MS).unwrap();
    master.ingest(&a_edit, NOW_MS).unwrap();
    assert!(conflicts(&master).is_empty());
    master.ingest(&b_edit, NOW_MS).unwrap();
    let found = conflicts(&master);
    assert_eq!(
        found.len(),
        1,
        "B's edit did not see A's: one conflict item"
    );
    assert_eq!(found[0].1, "status");
    assert_eq!(
        status_versions(&master),
        3,
        "received, A's and B's status are all kept"
    );
    let winner = if b_edit[0].version() > a_edit[0].version() {
        "revoked"
    } else {
        "in_correction"
    };
    assert_eq!(master_rows(&master)[0].1.as_deref(), Some(winner));

    // The same operations in one batch into a fresh master (no cache involved) give the same state.
    let mut fresh = SqliteMaster::open_in_memory().unwrap();
    for site in &s.sites {
        fresh
            .connection()
            .execute(
                "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES (?1, ?1, ?2, 0)",
                params![site, s.unit],
            )
            .unwrap();
    }
    let all: Vec<Operation> = created
        .iter()
        .chain(&a_edit)
        .chain(&b_edit)
        .cloned()
        .collect();
    fresh.ingest(&all, NOW_MS).unwrap();
    assert_eq!(master_rows(&fresh), master_rows(&master));
    assert_eq!(conflicts(&fresh), conflicts(&master));

    // Re-pushing everything is a no-op; a known (site, seq) with a different hash is refused.
    let logged = master.log_len().unwrap();
    let again = master.ingest(&all, NOW_MS).unwrap();
    assert_eq!(again.duplicates as usize, all.len());
    assert_eq!(master.log_len().unwrap(), logged, "the log did not grow");
    let mut forged = b_edit[0].clone();
    forged.hash = "00".repeat(32);
    let err = master.ingest(&[forged], NOW_MS).unwrap_err();
    assert_eq!(err.code(), "hash_mismatch");
}

#[test]
fn a_write_by_another_connection_is_not_overwritten_from_the_cache() {
    let (dir, path) = master_file("cache");
    let mut server = SqliteMaster::open(&path).unwrap();
    let s = setup(&mut server);
    let (created, a_edit, b_edit) = scenario(&s);
    server.ingest(&created, NOW_MS).unwrap();
    {
        // Another process on the same file (as the admin CLI does) merges A's edit.
        let mut other = SqliteMaster::open(&path).unwrap();
        other.ingest(&a_edit, NOW_MS).unwrap();
    }
    server.ingest(&b_edit, NOW_MS).unwrap();
    assert_eq!(
        status_versions(&server),
        3,
        "A's edit, written by the other connection, is still in the history"
    );
    assert_eq!(conflicts(&server).len(), 1);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pull_keeps_only_the_operations_of_its_scope_from_a_mixed_log_record() {
    let mut master = SqliteMaster::open_in_memory().unwrap();
    let district = master.add_org_unit(None, OrgKind::District, "区").unwrap();
    let east = master
        .add_org_unit(Some(&district), OrgKind::Township, "东")
        .unwrap();
    let west = master
        .add_org_unit(Some(&district), OrgKind::Township, "西")
        .unwrap();
    let writer = master.add_site(&district, "district desk", 0).unwrap().0;
    // One push of the district's site writes a case in each township: one log record, two scopes.
    let mut store = site_store(&writer, &district);
    let mut ops = Vec::new();
    for unit in [&east, &west] {
        let row = uuid::Uuid::now_v7().to_string();
        ops.extend(write(
            &mut store,
            &row,
            unit,
            &[
                WriteChange::new("org_unit_id", unit.as_str()),
                WriteChange::new("name", format!("对象{unit}")),
            ],
        ));
    }
    master.ingest(&ops, NOW_MS).unwrap();
    for unit in [&east, &west] {
        let reader = jiceng_server::master::SiteAuth {
            site_id: format!("reader-{unit}"),
            org_unit_id: unit.clone(),
            kind: OrgKind::Township,
            scope: vec![unit.clone()].into(),
            ancestors: vec![unit.clone()],
            created_at_ms: 0,
        };
        let pulled = master.pull(&reader, 0, 10_000, NOW_MS).unwrap();
        let cases: Vec<&Operation> = pulled
            .ops
            .iter()
            .filter(|op| op.table == "corr_case")
            .collect();
        assert_eq!(cases.len(), 2, "the township's case and nothing else");
        assert!(cases.iter().all(|op| op.scope == *unit));
        assert!(pulled.ops.iter().all(|op| op.server_seq.is_some()));
        let expected: Vec<&Operation> = ops.iter().filter(|op| op.scope == *unit).collect();
        for (got, want) in cases.iter().zip(expected) {
            assert_eq!(got.hash, want.hash);
        }
    }
}

/// The master keeps only each field's winning clock; its field history is rebuilt from the log.
fn history(master: &SqliteMaster, row: &str) -> jiceng_core::merge::RowVersions {
    master
        .row_history("corr_case", row)
        .expect("history")
        .expect("row")
}

fn site_history(store: &Store, row: &str) -> jiceng_core::merge::RowVersions {
    jiceng_core::store::merge_sql::load_versions(
        store.connection(),
        tables::table("corr_case").unwrap(),
        row,
    )
    .unwrap()
    .expect("row at the site")
}

#[test]
fn a_stale_edit_after_many_batches_conflicts_with_every_version_it_did_not_see() {
    let (dir, path) = master_file("history");
    let mut master = SqliteMaster::open(&path).unwrap();
    let s = setup(&mut master);
    let row = uuid::Uuid::now_v7().to_string();
    let mut a = site_store(&s.sites[0], &s.unit);
    let mut b = site_store(&s.sites[1], &s.unit);
    let created = write(
        &mut a,
        &row,
        &s.unit,
        &[
            WriteChange::new("org_unit_id", s.unit.as_str()),
            WriteChange::new("name", "张三"),
            WriteChange::new("status", "received"),
        ],
    );
    b.apply_remote(&created, 0).unwrap();
    master.ingest(&created, NOW_MS).unwrap();
    // A edits the status six times, one push each: every edit is on top of the master's winner.
    let mut all = created.clone();
    // Six valid statuses in a row, each differing from the one before, none the stale edit's.
    const STEPS: [&str; 6] = [
        "reported",
        "in_correction",
        "released",
        "terminated",
        "reported",
        "in_correction",
    ];
    for step in STEPS {
        let edit = write(&mut a, &row, &s.unit, &[WriteChange::new("status", step)]);
        master.ingest(&edit, NOW_MS).unwrap();
        all.extend(edit);
    }
    assert!(
        conflicts(&master).is_empty(),
        "sequential edits never conflict"
    );
    assert_eq!(history(&master, &row).fields["status"].len(), 7);
    assert_eq!(
        codec::encode_row(&history(&master, &row)),
        codec::encode_row(&site_history(&a, &row)),
        "the rebuilt history is the writer's, version for version (users and bases included)"
    );

    // B, which saw only the creation, edits the status: its base is not the winner, so the master
    // rebuilds the history from the log and finds the six versions B did not see. Through a second
    // connection (cold cache, row read back from the file) the result is the same.
    let stale = write(
        &mut b,
        &row,
        &s.unit,
        &[WriteChange::new("status", "revoked")],
    );
    let mut cold = SqliteMaster::open(&path).unwrap();
    cold.ingest(&stale, NOW_MS).unwrap();
    all.extend(stale.iter().cloned());
    assert_eq!(conflicts(&cold).len(), 6, "one conflict per unseen version");
    drop(cold);
    master.ingest(&stale, NOW_MS).unwrap();
    assert_eq!(conflicts(&master).len(), 6);

    // Every site that merges the same operations holds the same history as the master rebuilds.
    let mut c = site_store("observer", &s.unit);
    c.apply_remote(&all, 0).unwrap();
    let rebuilt = history(&master, &row);
    assert_eq!(rebuilt.fields["status"].len(), 8);
    assert_eq!(
        codec::encode_row(&rebuilt),
        codec::encode_row(&site_history(&c, &row))
    );
    let winner = rebuilt
        .value("status")
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(master_rows(&master)[0].1.as_deref(), Some(winner.as_str()));

    // One batch into a fresh master gives the same row, clocks and conflicts.
    let mut fresh = SqliteMaster::open_in_memory().unwrap();
    for site in &s.sites {
        fresh
            .connection()
            .execute(
                "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES (?1, ?1, ?2, 0)",
                params![site, s.unit],
            )
            .unwrap();
    }
    fresh.ingest(&all, NOW_MS).unwrap();
    assert_eq!(master_rows(&fresh), master_rows(&master));
    assert_eq!(conflicts(&fresh), conflicts(&master));
    drop(master);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_masters_own_writes_keep_the_history_complete() {
    use jiceng_core::model::{CaseInput, CaseKind, CaseStatus};
    let mut master = SqliteMaster::open_in_memory()
        .unwrap()
        .with_clock(site_clock());
    let s = setup(&mut master);
    let input = |id: Option<String>, name: &str| CaseInput {
        id,
        name: name.to_string(),
        id_number: "110101199003074514".to_string(),
        kind: CaseKind::Probation,
        sentence_start: "2026-03-01".to_string(),
        sentence_end: "2028-02-29".to_string(),
        org_unit_id: Some(s.unit.clone()),
        status: Some(CaseStatus::InCorrection),
        judgment_effective_on: None,
        reported_on: None,
        supervision_level: None,
        sealed_minor: None,
        address: None,
    };
    // The district writes a case (core's write path on the master: a full history in `_versions`).
    let row = master.add_case_as_admin(input(None, "张三")).unwrap();
    let reader = jiceng_server::master::SiteAuth {
        site_id: s.sites[0].clone(),
        org_unit_id: s.unit.clone(),
        kind: OrgKind::Township,
        scope: vec![s.unit.clone()].into(),
        ancestors: vec![s.unit.clone()],
        created_at_ms: 0,
    };
    // The master's own writes and the site's run on the one test clock.
    let master_now = || NOW_MS + 60_000;
    let pulled = master.pull(&reader, 0, 10_000, 0).unwrap().ops;
    let mut a = site_store_on(&s.sites[0], &s.unit, site_clock());
    a.apply_remote(&pulled, 0).unwrap();
    // A site edits it (the merge rewrites the row with clocks only), then the district edits again
    // (core reads the clocks and the columns), then the site again.
    let edit = write(&mut a, &row, &s.unit, &[WriteChange::new("name", "张三丰")]);
    master.ingest(&edit, master_now()).unwrap();
    master
        .add_case_as_admin(input(Some(row.clone()), "张三丰"))
        .unwrap();
    master
        .add_case_as_admin(input(Some(row.clone()), "李四"))
        .unwrap();
    let later = master.pull(&reader, 0, 10_000, 0).unwrap().ops;
    a.apply_remote(&later, 0).unwrap();
    let edit = write(&mut a, &row, &s.unit, &[WriteChange::new("name", "王五")]);
    master.ingest(&edit, master_now()).unwrap();
    assert!(
        conflicts(&master).is_empty(),
        "every write saw the one before"
    );
    let rebuilt = history(&master, &row);
    assert_eq!(rebuilt.fields["name"].len(), 4);
    assert_eq!(
        codec::encode_row(&rebuilt),
        codec::encode_row(&site_history(&a, &row))
    );
    let name: String = master
        .connection()
        .query_row("SELECT name FROM corr_case WHERE id = ?1", [&row], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(name, "王五");
}

/// (row, field) of every conflict item in a store's `conflict` table, sorted.
fn conflict_fields(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT row_id, field FROM conflict ORDER BY row_id, field")
        .unwrap();
    let rows = stmt
        .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Id, name, status and address of every case, sorted.
type Visible = (String, Option<String>, Option<String>, Option<String>);

fn visible(conn: &rusqlite::Connection) -> Vec<Visible> {
    let mut stmt = conn
        .prepare("SELECT id, name, status, address FROM corr_case ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map(params![], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn large_batches_merged_on_two_threads_equal_the_full_history_merge() {
    // Batches of 600+ operations run the master merge's two-thread pipeline (planner and writer,
    // from 512 operations on). Every path of it is crossed: new rows, cached rows edited on top of their winner, cached rows with
    // concurrent edits (history rebuilt from the log, conflict items), a new row whose first
    // operation in the batch is not its creation, and, after a restart with an empty cache, rows
    // that are stored but not cached. The reference is a site store that merged the same operations
    // with core's full-history merge.
    let (dir, path) = master_file("pipeline");
    let mut master = SqliteMaster::open(&path).unwrap();
    let s = setup(&mut master);
    // Within one batch the master takes sites in id order: `first`'s operations come before
    // `second`'s.
    let mut ids = s.sites.clone();
    ids.sort();
    let mut first = site_store(&ids[0], &s.unit);
    let mut second = site_store(&ids[1], &s.unit);
    let mut reference = site_store("reference", &s.unit);
    let mut pushed: Vec<Operation> = Vec::new();
    let mut push = |master: &mut SqliteMaster, batch: Vec<Operation>| {
        let done = master.ingest(&batch, NOW_MS).unwrap();
        assert_eq!(done.acks.len(), batch.len(), "every operation acknowledged");
        pushed.extend(batch);
    };
    let rows: Vec<String> = (0..320).map(|_| uuid::Uuid::now_v7().to_string()).collect();

    // Batch 1: `second` creates 320 cases (all new rows); `first` receives them.
    let mut created = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        created.extend(write(
            &mut second,
            row,
            &s.unit,
            &[
                WriteChange::new("org_unit_id", s.unit.as_str()),
                WriteChange::new("name", format!("对象{i}𠀀")),
                WriteChange::new("status", "received"),
            ],
        ));
    }
    first.apply_remote(&created, 0).unwrap();
    push(&mut master, created);

    // Batch 2, both sites at once: `second` edits the status of rows 0..200 and `first`, without
    // having seen those edits, the status of rows 150..320 (rows 150..200 conflict) and the name of
    // rows 0..100 (on top of the winner: no conflict). `second` creates 40 new cases that `first`
    // receives directly (a USB bundle) and edits in the same batch: `first`'s edit reaches the
    // master before the creation it was written on.
    let mut batch = Vec::new();
    for row in &rows[0..200] {
        batch.extend(write(
            &mut second,
            row,
            &s.unit,
            &[WriteChange::new("status", "in_correction")],
        ));
    }
    let mut late_rows = Vec::new();
    let mut late_created = Vec::new();
    for i in 0..40 {
        let row = uuid::Uuid::now_v7().to_string();
        late_created.extend(write(
            &mut second,
            &row,
            &s.unit,
            &[
                WriteChange::new("org_unit_id", s.unit.as_str()),
                WriteChange::new("name", format!("新对象{i}")),
                WriteChange::new("status", "received"),
            ],
        ));
        late_rows.push(row);
    }
    batch.extend(late_created.iter().cloned());
    first.apply_remote(&late_created, 0).unwrap();
    for row in &rows[150..320] {
        batch.extend(write(
            &mut first,
            row,
            &s.unit,
            &[WriteChange::new("status", "revoked")],
        ));
    }
    for row in &rows[0..100] {
        batch.extend(write(
            &mut first,
            row,
            &s.unit,
            &[WriteChange::new("name", "改名")],
        ));
    }
    for row in &late_rows {
        batch.extend(write(
            &mut first,
            row,
            &s.unit,
            &[WriteChange::new("status", "in_correction")],
        ));
    }
    push(&mut master, batch);

    // Batch 3 after a restart (empty cache): `first` renames all 320 cases and sets their address;
    // every row is stored but not cached.
    drop(master);
    let mut master = SqliteMaster::open(&path).unwrap();
    let mut batch = Vec::new();
    for row in &rows {
        batch.extend(write(
            &mut first,
            row,
            &s.unit,
            &[
                WriteChange::new("name", "再改名"),
                WriteChange::new("address", "𠀀村"),
            ],
        ));
    }
    push(&mut master, batch);

    // Batch 4: 1,400 new cases at once, so that the planner runs ahead of the writer, fills the
    // queue of plans and writes the log records while the writer catches up.
    let mut batch = Vec::new();
    for i in 0..1_400 {
        batch.extend(write(
            &mut second,
            &uuid::Uuid::now_v7().to_string(),
            &s.unit,
            &[
                WriteChange::new("org_unit_id", s.unit.as_str()),
                WriteChange::new("name", format!("批量{i}")),
            ],
        ));
    }
    push(&mut master, batch);

    reference.apply_remote(&pushed, 0).unwrap();
    assert_eq!(
        visible(master.connection()),
        visible(reference.connection()),
        "the master shows what the full-history merge shows"
    );
    let master_conflicts = conflict_fields(master.connection());
    assert_eq!(
        master_conflicts,
        conflict_fields(reference.connection()),
        "the same conflict items"
    );
    assert!(
        master_conflicts.len() >= 50,
        "rows 150..200 conflict on status: {master_conflicts:?}"
    );
    for row in rows.iter().step_by(7).chain(late_rows.iter()) {
        assert_eq!(
            history(&master, row),
            site_history(&reference, row),
            "row {row}: the master's history, rebuilt from the log, is the full history"
        );
    }
    drop(master);
    let _ = std::fs::remove_dir_all(&dir);
}
