//! The planner's statistics kept current while the master grows (issue 12 §4).
//!
//! Why: PostgreSQL plans a statement from the statistics of the table's last ANALYZE, and a
//! session's prepared statements keep the generic plan they were given until those statistics
//! change. autovacuum analyses a table at most once per `autovacuum_naptime` (a minute by default).
//! A district onboarded minutes before its offices push therefore has a master planned as the few
//! hundred rows of its org tree, while the offices write a million: the org tree's lookups
//! (`reads::site_auth`, every request) then read all of `master_row` at each step of their
//! recursion. A 200-office load run that started so fell from ~200,000 to 27,000-44,000
//! operations/s, PostgreSQL spending 40-68 ms of CPU per push instead of 4-6 (BENCHMARKS.md,
//! "statistics").
//!
//! So every [`CHECK_EVERY_OPS`] operations a process merges (and at its first push), it asks
//! whether a table the hot path reads has outgrown its statistics ([`outgrown`]), and analyses
//! those tables on a connection of its own, beside the pushes. ANALYZE makes every session plan
//! its statements over them again. One analysis at a time per process, and one per database
//! (an advisory lock): processes that find it taken leave it to the one holding it.

use crate::error::Result;
use postgres::Client;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The tables whose plans the push and the pull depend on, and that grow with the log.
const WATCHED: &[&str] = &["master_row", "log_record", "log_scope", "scope_move"];
/// How many merged operations between two checks (a check is one catalogue query).
pub(super) const CHECK_EVERY_OPS: u64 = 10_000;
/// Below these a table is small enough that any plan over it is cheap: leave it to autovacuum.
const MIN_GROWTH_PAGES: i64 = 128;
const MIN_CHANGED_ROWS: i64 = 5_000;
/// Held by the process analysing the master (try-locked: the others do not wait).
const ANALYZE_LOCK: i64 = 0x6a69_6365_6e67_0003;

/// What the catalogue says about one table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TableSize {
    /// Pages at the last ANALYZE or VACUUM (`pg_class.relpages`).
    pub pages_described: i64,
    /// Pages now.
    pub pages_now: i64,
    /// Rows at the last ANALYZE or VACUUM (`pg_class.reltuples`; -1: never analysed).
    pub rows_described: f64,
    /// Rows inserted, updated or deleted since the last ANALYZE (`n_mod_since_analyze`; the
    /// cumulative statistics lag up to a second behind busy sessions).
    pub changed_since_analyze: i64,
}

/// Whether a table's statistics no longer describe it: it has more than doubled in pages (immediate:
/// the file's size), or more rows changed since its last ANALYZE than it then held. Either way the
/// planner's row estimates may be off by more than half, past which autovacuum's own rule (a tenth)
/// would have analysed it long ago had it run.
pub(super) fn outgrown(size: &TableSize) -> bool {
    let pages_described = size.pages_described.max(0);
    let grew = size.pages_now - pages_described >= MIN_GROWTH_PAGES
        && size.pages_now > 2 * pages_described;
    let rows_described = size.rows_described.max(0.0);
    let changed = size.changed_since_analyze >= MIN_CHANGED_ROWS
        && size.changed_since_analyze as f64 > rows_described;
    grew || changed
}

/// Shared by every session of a process.
pub(super) struct Statistics {
    url: String,
    merged_ops: AtomicU64,
    analysing: AtomicBool,
    /// A check fell due while an analysis ran: the next merge checks instead of waiting for the
    /// next 10,000 operations (the analysis may not have covered what grew meanwhile).
    recheck: AtomicBool,
}

impl Statistics {
    pub fn new(url: &str) -> Statistics {
        Statistics {
            url: url.to_string(),
            merged_ops: AtomicU64::new(0),
            analysing: AtomicBool::new(false),
            recheck: AtomicBool::new(false),
        }
    }

    /// Counts `ops` merged operations; at the first and then every [`CHECK_EVERY_OPS`], checks the
    /// watched tables on `db` (outside any transaction) and starts their analysis when they have
    /// outgrown their statistics. A failed check is logged: the push it follows has committed.
    pub fn after_merge(self: &Arc<Self>, db: &mut Client, ops: u64) {
        if !self.check_due(ops) {
            return;
        }
        match outgrown_tables(db) {
            Ok(tables) if !tables.is_empty() => self.analyse_beside(tables),
            Ok(_) => {}
            Err(e) => tracing::warn!("could not read the master's table statistics: {e}"),
        }
    }

    /// Counts `ops` merged operations; whether the tables are to be checked now: at the first merge,
    /// then each time the count crosses a multiple of [`CHECK_EVERY_OPS`], and at the first merge
    /// after an analysis during which a check fell due.
    fn check_due(&self, ops: u64) -> bool {
        if ops == 0 {
            return false;
        }
        let before = self.merged_ops.fetch_add(ops, Ordering::Relaxed);
        let due = before == 0
            || before / CHECK_EVERY_OPS != (before + ops) / CHECK_EVERY_OPS
            || self.recheck.load(Ordering::Acquire);
        if !due {
            return false;
        }
        if self.analysing.load(Ordering::Acquire) {
            self.recheck.store(true, Ordering::Release);
            return false;
        }
        self.recheck.store(false, Ordering::Release);
        true
    }

    /// Analyses `tables` on a thread and connection of their own.
    fn analyse_beside(self: &Arc<Self>, tables: Vec<String>) {
        if self.analysing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("pg-analyze".to_string())
            .spawn(move || {
                // Cleared however the thread ends, a panic included.
                let _done = AnalysisDone(Arc::clone(&this));
                match analyse(&this.url, &tables) {
                    Ok(true) => tracing::info!(
                        "analysed {} on the PostgreSQL master: it had outgrown its statistics",
                        tables.join(", ")
                    ),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(
                        "could not analyse {} on the PostgreSQL master: {e}",
                        tables.join(", ")
                    ),
                }
            });
        if let Err(e) = spawned {
            self.analysing.store(false, Ordering::Release);
            tracing::warn!("could not start the analysis of the master's tables: {e}");
        }
    }
}

/// Clears the process's "analysing" flag when the analysis thread ends.
struct AnalysisDone(Arc<Statistics>);

impl Drop for AnalysisDone {
    fn drop(&mut self) {
        self.0.analysing.store(false, Ordering::Release);
    }
}

/// The watched tables that have outgrown their statistics.
fn outgrown_tables(db: &mut Client) -> Result<Vec<String>> {
    let rows = db.query(
        "SELECT c.relname::text, c.relpages::bigint, \
                (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::bigint, \
                c.reltuples::float8, pg_stat_get_mod_since_analyze(c.oid)::bigint \
         FROM pg_class c \
         WHERE c.oid IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)",
        &[&WATCHED],
    )?;
    Ok(rows
        .iter()
        .filter(|row| {
            outgrown(&TableSize {
                pages_described: row.get(1),
                pages_now: row.get(2),
                rows_described: row.get(3),
                changed_since_analyze: row.get(4),
            })
        })
        .map(|row| row.get(0))
        .collect())
}

/// ANALYZE `tables`, unless another process holds the analysis lock (Ok(false)).
fn analyse(url: &str, tables: &[String]) -> Result<bool> {
    let mut db = super::connect(url)?;
    let locked: bool = db
        .query_one("SELECT pg_try_advisory_lock($1)", &[&ANALYZE_LOCK])?
        .get(0);
    if !locked {
        return Ok(false);
    }
    // The names come from WATCHED (the catalogue only filtered them), never from a request.
    let names: Vec<&str> = tables
        .iter()
        .filter_map(|t| WATCHED.iter().find(|w| **w == t.as_str()).copied())
        .collect();
    // ANALYZE waits for a VACUUM or an index build on the same table; it gives up instead (the next
    // check tries again) rather than hold the analysis lock and the process's flag meanwhile.
    db.batch_execute(&format!(
        "SET lock_timeout = '5s'; ANALYZE {}",
        names.join(", ")
    ))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(pages_described: i64, pages_now: i64, rows: f64, changed: i64) -> TableSize {
        TableSize {
            pages_described,
            pages_now,
            rows_described: rows,
            changed_since_analyze: changed,
        }
    }

    #[test]
    fn a_table_more_than_doubled_in_pages_has_outgrown_its_statistics() {
        assert!(outgrown(&size(40, 40 + MIN_GROWTH_PAGES, 300.0, 0)));
        assert!(outgrown(&size(1_000, 2_001, 50_000.0, 0)));
        assert!(!outgrown(&size(1_000, 2_000, 50_000.0, 0)), "exactly twice");
        assert!(!outgrown(&size(1_000, 1_900, 50_000.0, 0)));
    }

    #[test]
    fn small_growth_is_left_to_autovacuum() {
        assert!(!outgrown(&size(1, MIN_GROWTH_PAGES, 10.0, 0)));
        assert!(!outgrown(&size(0, 10, -1.0, MIN_CHANGED_ROWS - 1)));
    }

    #[test]
    fn a_table_never_analysed_counts_as_described_empty() {
        assert!(outgrown(&size(0, MIN_GROWTH_PAGES, -1.0, 0)));
        assert!(outgrown(&size(0, 1, -1.0, MIN_CHANGED_ROWS)));
    }

    #[test]
    fn checks_fall_due_at_the_first_merge_every_ten_thousand_and_after_a_busy_analysis() {
        let statistics = Statistics::new("postgres://unused");
        assert!(!statistics.check_due(0), "nothing merged");
        assert!(statistics.check_due(10), "the first merge");
        assert!(!statistics.check_due(CHECK_EVERY_OPS - 20));
        assert!(statistics.check_due(20), "the count crossed 10,000");
        assert!(!statistics.check_due(1_000));
        statistics.analysing.store(true, Ordering::Release);
        assert!(
            !statistics.check_due(CHECK_EVERY_OPS),
            "due, but an analysis is running"
        );
        assert!(!statistics.check_due(1), "still running");
        statistics.analysing.store(false, Ordering::Release);
        assert!(statistics.check_due(1), "the check that fell due meanwhile");
        assert!(!statistics.check_due(1));
    }

    #[test]
    fn more_rows_changed_than_described_has_outgrown_its_statistics() {
        // Edits in place: the pages stay, the values move under the statistics.
        assert!(outgrown(&size(5_000, 5_000, 200_000.0, 200_001)));
        assert!(!outgrown(&size(5_000, 5_000, 200_000.0, 150_000)));
    }
}
