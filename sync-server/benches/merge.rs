//! Benchmark: the server-side merge of 100,000 operations from 20 sites into the master, against a plain
//! SQLite insert of the same final rows measured in the same run (ARCHITECTURE.md "Performance facts").
//!
//! Run: `cargo bench -p jiceng-server --bench merge` (JICENG_BENCH_ROUNDS=n for more rounds;
//! JICENG_BENCH_PROFILE=n to only repeat the ingest, for a profiler).
//! Each site creates 500 cases (9 fields each) and then edits 500 single fields: 5,000 operations per
//! site, written through core's real write path (hash chain, HLC, bases). The master ingests them in
//! batches of 10,000 with the full audit log and the idempotency cursor (retries checked against the log).

#[path = "common/workload.rs"]
mod workload;

use jiceng_server::master::{MasterStore, SqliteMaster};
use rusqlite::params;
use std::time::Instant;

/// The server binary's allocator (`src/main.rs`), so that the merge is measured as the server runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use workload::{
    batches, district_with_sites, generate, process_cpu, CASE_FIELDS, ROWS_PER_SITE, SITES,
};

fn temp_path(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jiceng-bench-{label}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("db.sqlite")
}

fn open_master(site_count: usize) -> (SqliteMaster, Vec<String>, String) {
    let mut master = SqliteMaster::open(&temp_path("master")).expect("master");
    let (sites, unit) = district_with_sites(&mut master, site_count);
    (master, sites, unit)
}

/// Seconds a full checkpoint of the WAL into the database file takes (outside the timed ingest: with
/// `wal_autocheckpoint` at 10,000 pages neither side checkpoints inside it; printed so the deferred
/// cost stays visible).
fn checkpoint_secs(conn: &rusqlite::Connection) -> f64 {
    let t = Instant::now();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    t.elapsed().as_secs_f64()
}

/// The floor: a plain INSERT of the final rows, same pragmas, same batch count. Returns cells per
/// second of wall time and of process CPU time, and the seconds of a checkpoint after it.
fn plain_insert(rows: &[Vec<rusqlite::types::Value>], batches: usize) -> (f64, f64, f64) {
    let path = temp_path("plain");
    let mut conn = rusqlite::Connection::open(&path).expect("plain db");
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    // Same page cache and mmap as the master, and the same secondary indexes as the real corr_case
    // table (schema/migrations): the floor is "these rows into this table", without the merge's
    // bookkeeping (field history, audit log).
    conn.pragma_update(None, "cache_size", -256 * 1024).unwrap();
    conn.pragma_update(None, "mmap_size", 1i64 << 30).unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)
        .unwrap();
    conn.pragma_update(None, "journal_size_limit", 64i64 << 20)
        .unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE corr_case (id TEXT PRIMARY KEY, {}) STRICT; \
         CREATE INDEX corr_case_org ON corr_case (org_unit_id); \
         CREATE INDEX corr_case_id_number ON corr_case (id_number);",
        CASE_FIELDS
            .iter()
            .map(|f| format!("{f} TEXT"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .unwrap();
    let sql = format!(
        "INSERT INTO corr_case (id, {}) VALUES ({})",
        CASE_FIELDS.join(", "),
        (1..=CASE_FIELDS.len() + 1)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let per_batch = rows.len().div_ceil(batches);
    let cpu = process_cpu();
    let started = Instant::now();
    for chunk in rows.chunks(per_batch) {
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx.prepare_cached(&sql).unwrap();
            for row in chunk {
                stmt.execute(rusqlite::params_from_iter(row.iter()))
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu_secs = process_cpu() - cpu;
    let checkpoint = checkpoint_secs(&conn);
    drop(conn);
    let _ = std::fs::remove_dir_all(path.parent().expect("temp dir"));
    let cells = rows.len() * CASE_FIELDS.len();
    (cells as f64 / secs, cells as f64 / cpu_secs, checkpoint)
}

/// Closes a master and deletes its temporary directory.
fn remove_master(master: SqliteMaster) {
    let dir = master
        .connection()
        .path()
        .and_then(|p| std::path::Path::new(p).parent().map(|d| d.to_path_buf()));
    drop(master);
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn main() {
    let rounds: usize = std::env::var("JICENG_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut results = Vec::new();
    for round in 1..=rounds {
        let (mut master, sites, unit) = open_master(SITES);
        let logs = generate(&sites, &unit);
        let work = batches(&logs);
        let total_ops: usize = work.iter().map(Vec::len).sum();
        // JICENG_BENCH_PROFILE=n: only ingest the same operations n times into fresh masters (for
        // `perf record`: the profile is then mostly the ingest, not the generation).
        if let Some(n) = std::env::var("JICENG_BENCH_PROFILE")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
        {
            for _ in 0..n {
                let path = temp_path("profile");
                let mut m = SqliteMaster::open(&path).expect("master");
                for site in &sites {
                    m.connection()
                        .execute(
                            "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES (?1, ?1, ?2, 0)",
                            params![site, unit],
                        )
                        .expect("site");
                }
                let t = Instant::now();
                for batch in &work {
                    m.ingest(batch, jiceng_server::now_ms()).expect("ingest");
                }
                let (log_bytes, versions_bytes, pages): (i64, i64, i64) = m
                    .connection()
                    .query_row(
                        "SELECT (SELECT SUM(byte_len) FROM log_chunk), \
                         (SELECT SUM(LENGTH(_versions) + LENGTH(_log)) FROM corr_case), \
                         (SELECT page_count FROM pragma_page_count())",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .expect("sizes");
                eprintln!(
                    "profile ingest {:.3} s: log {log_bytes} bytes, row clocks {versions_bytes} bytes, file {pages} pages",
                    t.elapsed().as_secs_f64()
                );
                drop(m);
                let _ = std::fs::remove_dir_all(path.parent().expect("temp dir"));
            }
            remove_master(master);
            return;
        }
        let log_before = master.log_len().unwrap() as usize;
        let cpu = process_cpu();
        let started = Instant::now();
        for batch in &work {
            master
                .ingest(batch, jiceng_server::now_ms())
                .expect("ingest");
        }
        let merge_secs = started.elapsed().as_secs_f64();
        let merge_cpu_secs = process_cpu() - cpu;
        let merge_checkpoint = checkpoint_secs(master.connection());
        // Idempotency intact: the same batches again change nothing.
        let again = Instant::now();
        let mut duplicates = 0;
        for batch in &work {
            duplicates += master
                .ingest(batch, jiceng_server::now_ms())
                .expect("re-ingest")
                .duplicates;
        }
        let redo_secs = again.elapsed().as_secs_f64();
        assert_eq!(duplicates as usize, total_ops);
        assert_eq!(
            master.log_len().unwrap() as usize,
            log_before + total_ops,
            "every op logged once"
        );

        let final_rows: Vec<Vec<rusqlite::types::Value>> = {
            let conn = master.connection();
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT id, {} FROM corr_case ORDER BY id",
                    CASE_FIELDS.join(", ")
                ))
                .unwrap();
            let rows = stmt
                .query_map(params![], |r| {
                    (0..=CASE_FIELDS.len()).map(|i| r.get(i)).collect()
                })
                .unwrap();
            rows.map(Result::unwrap).collect()
        };
        assert_eq!(final_rows.len(), SITES * ROWS_PER_SITE);
        remove_master(master);
        let (plain_cells_per_sec, plain_cpu_cells_per_sec, plain_checkpoint) =
            plain_insert(&final_rows, work.len());
        let merge_ops_per_sec = total_ops as f64 / merge_secs;
        let ratio = merge_ops_per_sec / plain_cells_per_sec;
        let cpu_ratio = (total_ops as f64 / merge_cpu_secs) / plain_cpu_cells_per_sec;
        println!(
            "round {round}: merge {total_ops} ops in {} batches: {:.0} ops/s ({merge_secs:.3} s, CPU {merge_cpu_secs:.3} s); re-push of all (idempotent): {:.3} s; plain insert of the {} final rows: {:.0} cells/s; ratio {ratio:.3}x (CPU time ratio {cpu_ratio:.3}x); checkpoint afterwards (untimed): merge {:.3} s, plain {:.3} s",
            work.len(),
            merge_ops_per_sec,
            redo_secs,
            final_rows.len(),
            plain_cells_per_sec,
            merge_checkpoint,
            plain_checkpoint
        );
        results.push((merge_ops_per_sec, plain_cells_per_sec, ratio, cpu_ratio));
    }
    let mut cpu_ratios: Vec<f64> = results.iter().map(|r| r.3).collect();
    cpu_ratios.sort_by(f64::total_cmp);
    results.sort_by(|a, b| a.2.total_cmp(&b.2));
    let (merge, plain, ratio, _) = results[results.len() / 2];
    let (low, high) = (results[0].2, results[results.len() - 1].2);
    println!(
        "median of {} rounds: merge {merge:.0} ops/s, plain insert {plain:.0} cells/s, ratio {ratio:.3}x (range {low:.3}-{high:.3}x; CPU time ratio {:.3}x) (goal >= 0.25x)",
        results.len(),
        cpu_ratios[cpu_ratios.len() / 2]
    );
}
