//! Benchmark (issue 12 §7): the PostgreSQL master's merge of the same 100,000 operations as
//! `merge.rs` (20 sites, 500 cases of 9 fields each, then one edit of each), against `COPY` of the same
//! final rows into a plain table with the same columns and secondary indexes, measured in the same
//! run on the same throw-away cluster (tests/src/pg.rs).
//!
//! Run: `cargo bench -p jiceng-server --bench merge_postgres` (JICENG_BENCH_ROUNDS=n, default 3).
//! The merge is what a push does after the policy's checks (`PgMaster::ingest`): the site's cursor
//! and hash chain, core's merge rule over each touched row's whole field history, the rows written
//! back, and the audit log's record, in one transaction per 10,000-operation batch. Wall time only:
//! the database's work is in its own processes, which this process's CPU clock does not see.
//!
//! The first round also times a restarted process's first administrative write over that master:
//! its replica in memory (merged from the whole log) against one kept in a `replica_dir`.

#[path = "../../tests/src/pg.rs"]
mod pg;
#[path = "common/workload.rs"]
mod workload;

use jiceng_server::master::{MasterStore, PgMaster};
use std::io::Write;
use std::time::Instant;
use workload::{batches, district_with_sites, generate, CASE_FIELDS, ROWS_PER_SITE, SITES};

fn open_master(url: &str) -> (PgMaster, Vec<String>, String) {
    let mut master = PgMaster::open(url).expect("master");
    let (sites, unit) = district_with_sites(&mut master, SITES);
    (master, sites, unit)
}

/// One field in COPY's text format.
fn copy_field(value: Option<&str>) -> String {
    match value {
        None => "\\N".to_string(),
        Some(text) => text
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
            .replace('\r', "\\r"),
    }
}

/// The master's final corr_case rows: id and the 9 fields, as text.
fn final_rows(url: &str) -> Vec<Vec<Option<String>>> {
    let mut db = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let columns: Vec<String> = CASE_FIELDS
        .iter()
        .map(|f| format!("vals ->> '{f}'"))
        .collect();
    db.query(
        &format!(
            "SELECT id, {} FROM master_row WHERE tbl = 'corr_case' ORDER BY id",
            columns.join(", ")
        ),
        &[],
    )
    .expect("rows")
    .iter()
    .map(|r| (0..=CASE_FIELDS.len()).map(|i| r.get(i)).collect())
    .collect()
}

/// Seconds to COPY `rows` into a fresh table shaped like corr_case (primary key, the two secondary
/// indexes of the site's corr_case), in `batches` transactions.
fn copy_floor(url: &str, rows: &[Vec<Option<String>>], batches: usize) -> f64 {
    let mut db = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    db.batch_execute(&format!(
        "CREATE TABLE plain_case (id TEXT COLLATE \"C\" PRIMARY KEY, {}); \
         CREATE INDEX plain_case_org ON plain_case (org_unit_id); \
         CREATE INDEX plain_case_id_number ON plain_case (id_number);",
        CASE_FIELDS
            .iter()
            .map(|f| format!("{f} TEXT"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .expect("plain table");
    let per_batch = rows.len().div_ceil(batches);
    let started = Instant::now();
    for chunk in rows.chunks(per_batch) {
        let mut tx = db.transaction().expect("tx");
        let mut writer = tx
            .copy_in(&format!(
                "COPY plain_case (id, {}) FROM STDIN",
                CASE_FIELDS.join(", ")
            ))
            .expect("copy");
        let mut text = String::new();
        for row in chunk {
            let fields: Vec<String> = row.iter().map(|v| copy_field(v.as_deref())).collect();
            text.push_str(&fields.join("\t"));
            text.push('\n');
        }
        writer.write_all(text.as_bytes()).expect("copy data");
        writer.finish().expect("copy finish");
        tx.commit().expect("commit");
    }
    started.elapsed().as_secs_f64()
}

/// Seconds of one administrative write (a community under `unit`) by a process just opened.
fn timed_admin_write(
    url: &str,
    replica_dir: Option<&std::path::Path>,
    unit: &str,
    name: &str,
) -> f64 {
    let mut master = PgMaster::open_with_replica(url, replica_dir).expect("master");
    let started = Instant::now();
    master
        .add_org_unit(Some(unit), jiceng_core::model::OrgKind::Community, name)
        .expect("admin write");
    started.elapsed().as_secs_f64()
}

fn first_admin_write_after_a_start(url: &str, unit: &str, log_len: usize) {
    let dir = std::env::temp_dir().join(format!("jiceng-bench-replica-{}", uuid::Uuid::now_v7()));
    let in_memory = timed_admin_write(url, None, unit, "计时社区一");
    let building = timed_admin_write(url, Some(&dir), unit, "计时社区二");
    let kept = timed_admin_write(url, Some(&dir), unit, "计时社区三");
    println!(
        "first administrative write after a start, master of {log_len} operations: replica in memory {in_memory:.3} s; kept in replica_dir {kept:.3} s (building the file, once: {building:.3} s); {:.0}x",
        in_memory / kept
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn main() {
    let rounds: usize = std::env::var("JICENG_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
    let mut results = Vec::new();
    for round in 1..=rounds {
        let url = cluster.fresh_database("merge").expect("database");
        let (mut master, sites, unit) = open_master(&url);
        let logs = generate(&sites, &unit);
        let work = batches(&logs);
        let total_ops: usize = work.iter().map(Vec::len).sum();
        let log_before = master.log_len().expect("log") as usize;
        let started = Instant::now();
        for batch in &work {
            master
                .ingest(batch, jiceng_server::now_ms())
                .expect("ingest");
        }
        let merge_secs = started.elapsed().as_secs_f64();
        // Idempotency intact: the same batches again change nothing.
        let again = Instant::now();
        let mut duplicates = 0;
        for batch in &work {
            duplicates += master
                .ingest(batch, jiceng_server::now_ms())
                .expect("re-ingest");
        }
        let redo_secs = again.elapsed().as_secs_f64();
        assert_eq!(duplicates as usize, total_ops);
        assert_eq!(
            master.log_len().expect("log") as usize,
            log_before + total_ops,
            "every op logged once"
        );
        drop(master);
        if round == 1 {
            first_admin_write_after_a_start(&url, &unit, log_before + total_ops);
        }
        let rows = final_rows(&url);
        assert_eq!(rows.len(), SITES * ROWS_PER_SITE);
        let floor_url = cluster.fresh_database("copy").expect("database");
        let copy_secs = copy_floor(&floor_url, &rows, work.len());
        let merge_ops_per_sec = total_ops as f64 / merge_secs;
        let copy_cells_per_sec = (rows.len() * CASE_FIELDS.len()) as f64 / copy_secs;
        let ratio = merge_ops_per_sec / copy_cells_per_sec;
        println!(
            "round {round}: PostgreSQL merge {total_ops} ops in {} batches: {merge_ops_per_sec:.0} ops/s ({merge_secs:.3} s); re-push of all (idempotent): {redo_secs:.3} s; COPY of the {} final rows: {copy_cells_per_sec:.0} cells/s ({copy_secs:.3} s); ratio {ratio:.3}x",
            work.len(),
            rows.len(),
        );
        results.push((merge_ops_per_sec, copy_cells_per_sec, ratio));
    }
    results.sort_by(|a, b| a.2.total_cmp(&b.2));
    let (merge, copy, ratio) = results[results.len() / 2];
    println!(
        "median of {} rounds: PostgreSQL merge {merge:.0} ops/s, COPY {copy:.0} cells/s, ratio {ratio:.3}x (range {:.3}-{:.3}x)",
        results.len(),
        results[0].2,
        results[results.len() - 1].2
    );
}
