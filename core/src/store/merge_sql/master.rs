//! The sync server's master merge: the same rule ([`RowVersions::apply`]) with the master's storage.
//!
//! A master row keeps only the winning clock of each field (`_versions`, codec format 2: clock and
//! site; the value is the column) and `_log`, the audit-log records (by first server_seq) that hold
//! the row's operations: the full field history is the log itself, since every merged operation is in
//! it. Most operations are written on top of the field's current winner (their base is the winner):
//! such an operation wins and cannot conflict with any older version (each is at most the winner, which
//! its writer saw), so it is merged from the clocks alone. Any other operation (concurrent, late, out
//! of order) makes the merge rebuild the row's history from its log records and apply the rule to the
//! whole history, so the conflict items are exactly those of a full-history merge.
//!
//! The clocks of recently merged rows stay in memory (`RowCache`) between batches: a cached row is
//! not read back, a new row is one INSERT, an existing one an UPDATE of only the columns whose visible
//! value changed.
//!
//! The master keeps no derived columns (`name_initials`): they serve the desktops' search, which each
//! site computes for itself; nothing on the server searches by them.

use super::{column_value, insert_conflict};
use super::{MergeStats, Result};
use crate::codec;
use crate::error::CoreError;
use crate::hlc::Hlc;
use crate::merge::{Applied, Conflict, RowVersions};
use crate::op::Operation;
use crate::tables::{self, MergeKind, TableDef};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

mod borrowing;
mod pipeline;
mod statements;

use borrowing::BorrowingStatement;
pub use pipeline::{merge, merge_then};
use statements::{InsertShape, Shape};

/// Where the master finds a row's older operations: the server's audit log.
pub trait OperationLog {
    /// The operations of the log record starting at server_seq `first_seq` (empty if none).
    fn record(&self, first_seq: u64) -> Result<Vec<Operation>>;
}

/// One field's winning clock.
#[derive(Debug, Clone)]
struct Win {
    hlc: Hlc,
    site: Arc<str>,
}

impl Win {
    fn key(&self) -> (Hlc, &str) {
        (self.hlc, &self.site)
    }
}

/// A master row as the merge needs it.
#[derive(Debug, Clone, Default)]
struct MasterRow {
    /// Per field of the table (by position in its definition), the winning clock.
    winners: Vec<Option<Win>>,
    /// First server_seq of each log record holding operations of this row, ascending.
    log: Vec<u64>,
    /// A full history the master's own write path (core's `write_row`) stored in `_versions`:
    /// versions the log may not hold yet.
    stored: Option<RowVersions>,
    /// The row's rowid: updates go straight to the row, not through the id index (rowids of
    /// these tables change only on VACUUM, by another connection, which drops the cache).
    rowid: i64,
}

impl MasterRow {
    fn new(def: &TableDef) -> MasterRow {
        MasterRow {
            winners: vec![None; def.fields.len()],
            ..MasterRow::default()
        }
    }
}

/// Site ids shared by the cached clocks.
#[derive(Debug, Default)]
struct Sites {
    all: FxHashMap<Box<str>, Arc<str>>,
    /// The last site asked for: a row's operations usually come from one site.
    last: Option<Arc<str>>,
}

impl Sites {
    fn get(&mut self, site: &str) -> Arc<str> {
        if let Some(last) = &self.last {
            if **last == *site {
                return last.clone();
            }
        }
        let s = match self.all.get(site) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<str> = Arc::from(site);
                self.all.insert(Box::from(site), s.clone());
                s
            }
        };
        self.last = Some(s.clone());
        s
    }
}

/// Clocks of recently merged rows, kept by the master's single writer between batches. It mirrors
/// committed state only: the owner clears it when a transaction does not commit and when another
/// connection (or a write outside [`merge`]) may have changed the rows.
#[derive(Debug, Default)]
pub struct RowCache {
    rows: FxHashMap<&'static str, FxHashMap<Box<str>, MasterRow>>,
    len: usize,
    sites: Sites,
    /// UPDATE statements by shape (table and columns written), prepared on the master's
    /// connection and kept between batches. Whoever owns the cache drops it before the
    /// connection (else the connection cannot close: see `borrowing`).
    updates: FxHashMap<Shape, BorrowingStatement>,
    /// INSERT statements by shape (table and columns written), kept like `updates`.
    inserts: FxHashMap<InsertShape, BorrowingStatement>,
    capacity: usize,
    /// A transaction that merged into the cache has not committed (yet).
    uncommitted: bool,
}

impl RowCache {
    /// A cache holding at most `capacity` rows (emptied when full: simple and bounded).
    pub fn new(capacity: usize) -> RowCache {
        RowCache {
            capacity,
            ..RowCache::default()
        }
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.len = 0;
    }

    /// Marks the start of a write transaction that will merge into the cache. A cache whose last
    /// transaction never reported its commit (it failed, or a thread panicked mid-batch) may hold
    /// rows that were never stored, with rowids that will be given out again: it is emptied.
    pub fn begin(&mut self) {
        if self.uncommitted {
            self.clear();
        }
        self.uncommitted = true;
    }

    /// The transaction begun with [`begin`](Self::begin) committed: the cache mirrors the file.
    pub fn committed(&mut self) {
        self.uncommitted = false;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A column's bit in a changed-columns mask; columns past the 64th share every bit.
fn column_bit(index: usize) -> u64 {
    if index < 64 {
        1 << index
    } else {
        u64::MAX
    }
}

/// What applying a row's operations did, before anything is written.
#[derive(Default)]
struct Outcome {
    /// Columns whose visible value changed.
    changed: u64,
    log_changed: bool,
    applied: usize,
    duplicates: usize,
    conflicts: Vec<Conflict>,
}

/// How an operation meets the row's winners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Duplicate,
    /// It becomes the field's winner and cannot conflict (first version, written on top of the
    /// winner, or a newer append-only version).
    Wins,
    /// A new append-only version older than the winner.
    Loses,
    /// Conflicts can only be decided against the field's whole history.
    NeedsHistory,
}

/// How `op` meets the field's current winner.
fn step_of(def: &TableDef, winner: Option<(Hlc, &str)>, op: &Operation) -> Step {
    let key = (op.hlc, op.site_id.as_str());
    match winner {
        None => Step::Wins,
        Some(w) if w == key => Step::Duplicate,
        Some(w) if def.merge == MergeKind::AppendOnly => {
            if key > w {
                Step::Wins
            } else {
                Step::Loses
            }
        }
        Some(w) => {
            let on_top = op
                .base
                .as_ref()
                .is_some_and(|b| b.hlc == w.0 && b.site == w.1);
            if on_top && key > w {
                Step::Wins
            } else {
                Step::NeedsHistory
            }
        }
    }
}

/// Decides how each of `ops` meets the row (into `steps`: field position and step) without
/// changing it: the winners set by the group's earlier operations are kept in `overlay`. Returns
/// false, with `steps` incomplete, as soon as one needs the row's history (the clocks alone cannot
/// settle it).
fn classify<'o>(
    def: &TableDef,
    row: &MasterRow,
    ops: &[(&'o Operation, u64)],
    overlay: &mut Vec<(usize, Hlc, &'o str)>,
    steps: &mut Vec<(usize, Step)>,
) -> Result<bool> {
    overlay.clear();
    steps.clear();
    let mut hint = 0;
    for (op, _) in ops {
        let index = field_index_from(def, &op.field, hint)?;
        hint = index + 1;
        let winner = overlay
            .iter()
            .rev()
            .find(|o| o.0 == index)
            .map(|o| (o.1, o.2))
            .or_else(|| row.winners[index].as_ref().map(Win::key));
        let step = step_of(def, winner, op);
        match step {
            Step::Wins => overlay.push((index, op.hlc, op.site_id.as_str())),
            Step::NeedsHistory => return Ok(false),
            Step::Duplicate | Step::Loses => {}
        }
        steps.push((index, step));
    }
    Ok(true)
}

/// Applies operations [`classify`] settled from the clocks alone.
fn apply_classified<'a>(
    def: &TableDef,
    row: &mut MasterRow,
    ops: &[(&'a Operation, u64)],
    steps: &[(usize, Step)],
    sites: &mut Sites,
    values: &mut Vec<Option<Cow<'a, Value>>>,
) -> Outcome {
    values.clear();
    values.resize(def.fields.len(), None);
    let mut outcome = Outcome::default();
    let log_before = row.log.len();
    for ((op, record), (index, step)) in ops.iter().zip(steps) {
        match step {
            Step::Duplicate => outcome.duplicates += 1,
            Step::Loses => {
                outcome.applied += 1;
                add_record(&mut row.log, *record);
            }
            Step::Wins => {
                row.winners[*index] = Some(Win {
                    hlc: op.hlc,
                    site: sites.get(&op.site_id),
                });
                values[*index] = Some(Cow::Borrowed(&op.value));
                outcome.changed |= column_bit(*index);
                outcome.applied += 1;
                add_record(&mut row.log, *record);
            }
            // classify() never settles one of these.
            Step::NeedsHistory => {}
        }
    }
    outcome.log_changed = row.log.len() != log_before;
    outcome
}

fn field_index(def: &TableDef, field: &str) -> Result<usize> {
    field_index_from(def, field, 0)
}

/// [`field_index`], trying position `hint` first: a row's fields are usually written in the
/// table's order, so the next operation's field is most often the one after the previous one's.
fn field_index_from(def: &TableDef, field: &str, hint: usize) -> Result<usize> {
    if def.fields.get(hint).is_some_and(|f| f.name == field) {
        return Ok(hint);
    }
    def.fields
        .iter()
        .position(|f| f.name == field)
        .ok_or_else(|| {
            CoreError::Corrupt(format!("operation for unknown field {}.{field}", def.name))
        })
}

#[allow(clippy::too_many_arguments)]
fn apply_all<'a>(
    def: &TableDef,
    row_id: &str,
    row: &mut MasterRow,
    ops: &[(&'a Operation, u64)],
    log: &dyn OperationLog,
    sites: &mut Sites,
    values: &mut Vec<Option<Cow<'a, Value>>>,
) -> Result<Outcome> {
    values.clear();
    values.resize(def.fields.len(), None);
    let mut outcome = Outcome::default();
    let log_before = row.log.len();
    let mut hint = 0;
    for (k, (op, record)) in ops.iter().enumerate() {
        let index = field_index_from(def, &op.field, hint)?;
        hint = index + 1;
        let step = step_of(def, row.winners[index].as_ref().map(Win::key), op);
        match step {
            Step::Duplicate => outcome.duplicates += 1,
            Step::Loses => {
                outcome.applied += 1;
                add_record(&mut row.log, *record);
            }
            Step::Wins => {
                row.winners[index] = Some(Win {
                    hlc: op.hlc,
                    site: sites.get(&op.site_id),
                });
                values[index] = Some(Cow::Borrowed(&op.value));
                outcome.changed |= column_bit(index);
                outcome.applied += 1;
                add_record(&mut row.log, *record);
            }
            Step::NeedsHistory => {
                // Settle the rest of the row's operations against its whole history, rebuilt
                // from the log (plus this batch's earlier operations, not logged yet).
                let existing = row.log[..log_before].to_vec();
                let mut full = history(def, row_id, &existing, row.stored.as_ref(), log)?;
                for (earlier, _) in &ops[..k] {
                    full.apply(earlier, def.merge);
                }
                for (op, record) in &ops[k..] {
                    field_index(def, &op.field)?;
                    match full.apply(op, def.merge) {
                        Applied::Duplicate => outcome.duplicates += 1,
                        Applied::New { conflicts, .. } => {
                            outcome.applied += 1;
                            outcome.conflicts.extend(conflicts);
                            add_record(&mut row.log, *record);
                        }
                    }
                }
                for (i, field) in def.fields.iter().enumerate() {
                    let Some(w) = full.winner(field.name) else {
                        continue;
                    };
                    let same = row.winners[i]
                        .as_ref()
                        .is_some_and(|old| old.hlc == w.0 && *old.site == *w.1);
                    if !same {
                        row.winners[i] = Some(Win {
                            hlc: w.0,
                            site: sites.get(&w.1),
                        });
                        values[i] = Some(Cow::Owned(w.4.clone()));
                        outcome.changed |= column_bit(i);
                    }
                }
                break;
            }
        }
    }
    outcome.log_changed = row.log.len() != log_before;
    Ok(outcome)
}

fn add_record(log: &mut Vec<u64>, record: u64) {
    if log.last().is_some_and(|last| *last >= record) {
        if let Err(at) = log.binary_search(&record) {
            log.insert(at, record);
        }
    } else {
        log.push(record);
    }
}

/// A row's full history: its operations in the listed log records, plus versions stored by the
/// master's own write path that the log does not hold (yet).
fn history(
    def: &TableDef,
    row_id: &str,
    records: &[u64],
    stored: Option<&RowVersions>,
    log: &dyn OperationLog,
) -> Result<RowVersions> {
    let mut full = RowVersions::default();
    for record in records {
        for op in log
            .record(*record)?
            .iter()
            .filter(|op| op.row_id == row_id && op.table == def.name)
        {
            full.apply(op, def.merge);
        }
    }
    add_stored(&mut full, stored);
    Ok(full)
}

/// Versions the master's own write path stored in the row that the log may not hold yet, each once.
fn add_stored(full: &mut RowVersions, stored: Option<&RowVersions>) {
    for (field, versions) in stored.map(|s| &s.fields).into_iter().flatten() {
        let into = full.fields.entry(field.clone()).or_default();
        for v in versions {
            let key = (v.0, v.1.as_str());
            if let Err(at) = into.binary_search_by(|x| (x.0, x.1.as_str()).cmp(&key)) {
                into.insert(at, v.clone());
            }
        }
    }
}

/// [`row_history`] of several rows of one table (a snapshot page, issue 12 §6): every log record
/// they list is decoded once, not once per row. Rows that do not exist are left out; the order is
/// `ids`'.
pub fn row_histories(
    conn: &Connection,
    def: &TableDef,
    ids: &[String],
    log: &dyn OperationLog,
) -> Result<Vec<(String, RowVersions)>> {
    let mut sites = Sites::default();
    let mut loaded: Vec<(&str, MasterRow)> = Vec::with_capacity(ids.len());
    let mut records: Vec<u64> = Vec::new();
    for id in ids {
        if let Some(row) = load_row(conn, def, id, &mut sites)? {
            records.extend(row.log.iter().copied());
            loaded.push((id.as_str(), row));
        }
    }
    records.sort_unstable();
    records.dedup();
    let mut histories: FxHashMap<&str, RowVersions> = loaded
        .iter()
        .map(|(id, _)| (*id, RowVersions::default()))
        .collect();
    for record in records {
        for op in log.record(record)? {
            if op.table == def.name {
                if let Some(history) = histories.get_mut(op.row_id.as_str()) {
                    history.apply(&op, def.merge);
                }
            }
        }
    }
    Ok(loaded
        .into_iter()
        .map(|(id, row)| {
            let mut full = histories.remove(id).unwrap_or_default();
            add_stored(&mut full, row.stored.as_ref());
            (id.to_string(), full)
        })
        .collect())
}

/// A master row's full field history (None when the row does not exist): the same as a site that
/// merged the same operations holds.
pub fn row_history(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    log: &dyn OperationLog,
) -> Result<Option<RowVersions>> {
    let Some(row) = load_row(conn, def, row_id, &mut Sites::default())? else {
        return Ok(None);
    };
    Ok(Some(history(
        def,
        row_id,
        &row.log,
        row.stored.as_ref(),
        log,
    )?))
}

fn load_row(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    sites: &mut Sites,
) -> Result<Option<MasterRow>> {
    type Stored = (i64, Option<Vec<u8>>, Option<Vec<u8>>);
    let stored: Option<Stored> = conn
        .prepare_cached(&format!(
            "SELECT rowid, _versions, _log FROM {} WHERE id = ?1",
            def.name
        ))?
        .query_row([row_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((rowid, versions, log)) = stored else {
        return Ok(None);
    };
    let corrupt = |e: codec::DecodeError| CoreError::Corrupt(format!("{} {row_id}: {e}", def.name));
    let mut row = MasterRow {
        winners: vec![None; def.fields.len()],
        log: match log {
            Some(bytes) => codec::decode_seqs(&bytes).map_err(corrupt)?,
            None => Vec::new(),
        },
        stored: None,
        rowid,
    };
    match versions {
        Some(bytes) if codec::is_winners(&bytes) => {
            for (field, hlc, site) in codec::decode_winners(&bytes).map_err(corrupt)? {
                if field < row.winners.len() {
                    row.winners[field] = Some(Win {
                        hlc,
                        site: sites.get(&site),
                    });
                }
            }
        }
        Some(bytes) => {
            let versions = codec::decode_row(&bytes).map_err(corrupt)?;
            for (i, field) in def.fields.iter().enumerate() {
                row.winners[i] = versions.winner(field.name).map(|w| Win {
                    hlc: w.0,
                    site: sites.get(&w.1),
                });
            }
            row.stored = Some(versions);
        }
        None => {}
    }
    Ok(Some(row))
}

/// Records the conflict items and counts (the row itself is written by the caller).
fn write_outcome(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    outcome: &Outcome,
    stats: &mut MergeStats,
) -> Result<()> {
    stats.applied += outcome.applied;
    stats.duplicates += outcome.duplicates;
    if outcome.changed != 0 || outcome.log_changed {
        stats.rows_written += 1;
    }
    for conflict in &outcome.conflicts {
        stats.conflicts += insert_conflict(conn, def, row_id, conflict)?;
    }
    Ok(())
}

/// Adds a log record to the `_log` of rows written by the master's own write path.
pub fn add_record_to_rows(conn: &Connection, rows: &[(&str, &str)], record: u64) -> Result<()> {
    for (table, row_id) in rows {
        let def = tables::table(table)
            .ok_or_else(|| CoreError::Corrupt(format!("unknown table {table}")))?;
        let stored: Option<Option<Vec<u8>>> = conn
            .prepare_cached(&format!("SELECT _log FROM {} WHERE id = ?1", def.name))?
            .query_row([row_id], |r| r.get(0))
            .optional()?;
        let Some(stored) = stored else { continue };
        let mut log = match stored {
            Some(bytes) => codec::decode_seqs(&bytes)
                .map_err(|e| CoreError::Corrupt(format!("{table} {row_id}: {e}")))?,
            None => Vec::new(),
        };
        add_record(&mut log, record);
        conn.prepare_cached(&format!("UPDATE {} SET _log = ?2 WHERE id = ?1", def.name))?
            .execute(params![row_id, codec::encode_seqs(&log)])?;
    }
    Ok(())
}

/// Adds the master-only `_log` column to every replicated table that lacks it. A core migration that
/// rebuilds a replicated table (create, copy, drop, rename) must copy `_log` on the master: without
/// it a row's older versions cannot be found, and a later concurrent edit of that row would be
/// merged against its winners only.
pub fn ensure_log_columns(conn: &Connection) -> Result<()> {
    for def in tables::TABLES {
        let has: bool = conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('{}') WHERE name = '_log')",
                def.name
            ),
            [],
            |r| r.get(0),
        )?;
        if !has {
            conn.execute_batch(&format!("ALTER TABLE {} ADD COLUMN _log BLOB", def.name))?;
        }
    }
    Ok(())
}
