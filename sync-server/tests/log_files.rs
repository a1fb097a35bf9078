//! The audit log's records live in segment files beside the master file, indexed by `log_chunk`.
//! These tests prove the crash rules: a record is part of the log only once the SQLite commit that
//! indexes it succeeded (it was fsynced before), so a crash in the middle of an append loses nothing
//! acknowledged and serves nothing unacknowledged, and a restart reads the log back from the files.

use jiceng_core::model::OrgKind;
use jiceng_core::op::Operation;
use jiceng_core::store::{SiteIdentity, Store, WriteChange};
use jiceng_core::tables;
use jiceng_server::master::log_files::segment_path;
use jiceng_server::master::{MasterReads, MasterStore, SiteAuth, SqliteMaster};
use std::io::Write;
use std::path::{Path, PathBuf};

/// "Now" for the master's ingest and pull: 2026-11-30 10:00 Asia/Shanghai, the instant of
/// core/tests/common_setup.rs, so no test reads the real date (scripts/test.sh runs them again under
/// faketime to catch one that does).
const NOW_MS: u64 = 1_796_004_000_000;

/// The sites' wall clock: starts at `NOW_MS` and moves on a millisecond at every read, shared by every
/// site of the process, so a write made after another is later, as on real PCs (a stopped clock would
/// make a site's later edit look concurrent with what it never saw). Thousands of reads stay far inside
/// the master's `MAX_FUTURE_DRIFT_MS` of an hour.
fn site_clock() -> jiceng_core::store::WallClock {
    static WALL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(NOW_MS);
    std::sync::Arc::new(|| WALL.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
}

struct Fixture {
    dir: PathBuf,
    db: PathBuf,
    unit: String,
    district: String,
    sites: Vec<String>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture() -> (Fixture, SqliteMaster) {
    let dir = std::env::temp_dir().join(format!("jiceng-logfiles-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("master.sqlite");
    let mut master = SqliteMaster::open(&db).unwrap();
    let district = master.add_org_unit(None, OrgKind::District, "区").unwrap();
    let unit = master
        .add_org_unit(Some(&district), OrgKind::Township, "乡")
        .unwrap();
    let sites = (0..2)
        .map(|i| master.add_site(&unit, &format!("site {i}"), 0).unwrap().0)
        .collect();
    (
        Fixture {
            dir,
            db,
            unit,
            district,
            sites,
        },
        master,
    )
}

/// A district-level reader that sees every operation of the township (pulls skip the reader's own).
fn reader(f: &Fixture) -> SiteAuth {
    SiteAuth {
        site_id: "reader".to_string(),
        org_unit_id: f.district.clone(),
        kind: OrgKind::District,
        scope: vec![f.district.clone(), f.unit.clone()].into(),
        ancestors: vec![f.district.clone()],
        created_at_ms: 0,
    }
}

fn site_store(site_id: &str, unit: &str) -> Store {
    let mut store = Store::open_in_memory().unwrap().with_clock(site_clock());
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
        .unwrap();
    store
}

/// `rows` new cases written at `store` (9 fields each), then returns the site's operations so far.
fn cases(store: &mut Store, unit: &str, rows: usize) -> Vec<Operation> {
    let table = tables::table("corr_case").unwrap();
    for r in 0..rows {
        let row = uuid::Uuid::now_v7().to_string();
        store
            .write_row(
                "u",
                table,
                &row,
                unit,
                &[
                    WriteChange::new("org_unit_id", unit),
                    WriteChange::new("name", format!("对象{r}")),
                    WriteChange::new("status", "received"),
                ],
            )
            .unwrap();
    }
    store.own_log().unwrap()
}

/// Every site operation a reader pulls, from the start of the log (not the server's own writes: the
/// org units).
fn pull_all(master: &mut SqliteMaster, reader: &SiteAuth) -> Vec<(String, u64, String)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = master.pull(reader, after, 1000, NOW_MS).unwrap();
        out.extend(
            page.ops
                .into_iter()
                .filter(|op| !op.site_id.starts_with("server-"))
                .map(|op| (op.site_id, op.site_seq, op.hash)),
        );
        after = page.next_cursor;
        if !page.has_more {
            return out;
        }
    }
}

fn segment_len(db: &Path) -> u64 {
    std::fs::metadata(segment_path(db, 1)).unwrap().len()
}

fn expected(ops: &[Operation]) -> Vec<(String, u64, String)> {
    ops.iter()
        .map(|op| (op.site_id.clone(), op.site_seq, op.hash.clone()))
        .collect()
}

#[test]
fn a_crash_between_the_log_append_and_the_commit_loses_nothing_acknowledged_and_serves_nothing_else(
) {
    let (f, mut master) = fixture();
    let reader = reader(&f);
    let mut a = site_store(&f.sites[0], &f.unit);
    let mut b = site_store(&f.sites[1], &f.unit);
    let first = cases(&mut a, &f.unit, 20);
    let acked = master.ingest(&first, NOW_MS).unwrap();
    assert_eq!(acked.acks.len(), first.len());
    let committed_len = segment_len(&f.db);
    let log_len = master.log_len().unwrap();

    // B's push writes (and syncs) its record, then the process "crashes" before the commit.
    let lost = cases(&mut b, &f.unit, 10);
    master.crash_before_next_commit();
    assert!(master.ingest(&lost, NOW_MS).is_err());
    assert!(
        segment_len(&f.db) > committed_len,
        "the uncommitted record's bytes are in the file"
    );
    // Not acknowledged, so not served and not counted.
    assert_eq!(master.log_len().unwrap(), log_len);
    let mut everyone = expected(&first);
    assert_eq!(pull_all(&mut master, &reader), everyone);

    // A torn tail on top (a crash in the middle of the write itself), then a restart.
    drop(master);
    std::fs::OpenOptions::new()
        .append(true)
        .open(segment_path(&f.db, 1))
        .unwrap()
        .write_all(&[0xAB; 37])
        .unwrap();
    let mut master = SqliteMaster::open(&f.db).unwrap();
    assert_eq!(master.log_len().unwrap(), log_len);
    assert_eq!(pull_all(&mut master, &reader), everyone);
    // A's acknowledged operations are still known: re-pushing them is a no-op, a changed one is refused.
    let again = master.ingest(&first, NOW_MS).unwrap();
    assert_eq!(again.duplicates as usize, first.len());
    let mut forged = first[3].clone();
    forged.hash = "0".repeat(64);
    assert!(matches!(
        master.ingest(&[forged], NOW_MS),
        Err(jiceng_server::error::ServerError::HashMismatch { .. })
    ));

    // B retries the push that was never acknowledged: accepted now, written over the dead bytes.
    let retried = master.ingest(&lost, NOW_MS).unwrap();
    assert_eq!(retried.acks.len(), lost.len());
    assert_eq!(retried.duplicates, 0);
    everyone.extend(expected(&lost));
    assert_eq!(pull_all(&mut master, &reader), everyone);
    let end: i64 = master
        .connection()
        .query_row(
            "SELECT MAX(byte_offset + byte_len) FROM log_chunk",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        segment_len(&f.db),
        end as u64,
        "the dead tail was cut before the append"
    );

    // A later edit on top of an older version rebuilds the row's history from the files.
    let row = first[0].row_id.clone();
    let history_before = master.row_history("corr_case", &row).unwrap().unwrap();
    drop(master);
    let mut master = SqliteMaster::open(&f.db).unwrap();
    assert_eq!(pull_all(&mut master, &reader), everyone);
    let history_after = master.row_history("corr_case", &row).unwrap().unwrap();
    assert_eq!(
        jiceng_core::codec::encode_row(&history_before),
        jiceng_core::codec::encode_row(&history_after)
    );
    assert_eq!(
        jiceng_core::codec::encode_row(&history_after),
        jiceng_core::codec::encode_row(
            &jiceng_core::store::merge_sql::load_versions(
                a.connection(),
                tables::table("corr_case").unwrap(),
                &row
            )
            .unwrap()
            .expect("row at A")
        ),
        "the master's history read back from the files equals the site's"
    );
}

#[test]
fn a_master_whose_log_files_are_missing_is_refused_at_open() {
    let (f, mut master) = fixture();
    let mut a = site_store(&f.sites[0], &f.unit);
    let ops = cases(&mut a, &f.unit, 3);
    master.ingest(&ops, NOW_MS).unwrap();
    drop(master);
    std::fs::remove_file(segment_path(&f.db, 1)).unwrap();
    assert!(SqliteMaster::open(&f.db).is_err());
}

#[test]
fn a_second_writer_on_the_same_master_appends_after_the_first_never_over_it() {
    let (f, mut server) = fixture();
    let reader = reader(&f);
    let mut a = site_store(&f.sites[0], &f.unit);
    let first = cases(&mut a, &f.unit, 5);
    server.ingest(&first, NOW_MS).unwrap();
    // The admin CLI opens the same master while the server runs, and writes (its own log record).
    let mut admin = SqliteMaster::open(&f.db).unwrap();
    let community = admin
        .add_org_unit(Some(&f.unit), OrgKind::Community, "社区")
        .unwrap();
    // The server's next append goes after the admin's record.
    let mut b = site_store(&f.sites[1], &f.unit);
    let second = cases(&mut b, &f.unit, 5);
    server.ingest(&second, NOW_MS).unwrap();
    drop(admin);
    let mut everyone = expected(&first);
    everyone.extend(expected(&second));
    assert_eq!(pull_all(&mut server, &reader), everyone);
    // The admin's record reads back from the files: the new unit's history is rebuilt from it.
    let history = server
        .row_history("org_unit", &community)
        .unwrap()
        .expect("the community");
    assert_eq!(
        history.winner("name").map(|w| w.4.clone()),
        Some(serde_json::json!("社区"))
    );
    drop(server);
    let mut reopened = SqliteMaster::open(&f.db).unwrap();
    assert_eq!(pull_all(&mut reopened, &reader), everyone);
}

/// The merge keeps its row statements between batches (prepared once, bound in place): dropping the
/// master must still close its file. SQLite refuses to close a connection with statements left, and
/// a connection that stays open keeps its `-wal` file, which a clean close removes.
#[test]
fn a_master_that_merged_closes_its_file_when_dropped() {
    let (f, mut master) = fixture();
    let mut store = site_store(&f.sites[0], &f.unit);
    // 300 cases (900 operations: the two-thread merge), then 10 more (the small batch's path).
    let ops = cases(&mut store, &f.unit, 300);
    assert!(ops.len() >= 512, "{} operations", ops.len());
    master.ingest(&ops, NOW_MS).unwrap();
    let more = cases(&mut store, &f.unit, 10);
    master.ingest(&more[ops.len()..], NOW_MS).unwrap();
    let wal = PathBuf::from(format!("{}-wal", f.db.display()));
    assert!(wal.exists(), "the master writes through its WAL");
    drop(master);
    assert!(
        !wal.exists(),
        "the master's connection stayed open after the master was dropped"
    );
    // And it opens again with every row.
    let reopened = SqliteMaster::open(&f.db).unwrap();
    let count: i64 = reopened
        .connection()
        .query_row("SELECT COUNT(*) FROM corr_case", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 310);
}
