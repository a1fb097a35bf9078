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
    /// UPDATE statements by shape (table and columns written).
    updates: FxHashMap<Shape, String>,
    /// INSERT statements by shape (table and columns written).
    inserts: FxHashMap<InsertShape, String>,
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

/// Batches of fewer operations are merged on the calling thread (a thread costs more than it saves).
const PIPELINE_MIN_OPS: usize = 512;
/// Rows per message from the planning thread to the writing one.
const PLAN_CHUNK: usize = 256;
/// Messages of plans the planner may have queued before it does its other work (the log records).
const PLANS_AHEAD: usize = 8;
/// Rows of the first message: small, so that the writer starts early.
const FIRST_PLAN_CHUNK: usize = 24;

/// Merges `ops` into the master tables inside the caller's transaction; `records[i]` is the log
/// record `ops[i]` is written to in the same transaction.
pub fn merge(
    conn: &Connection,
    ops: &[&Operation],
    records: &[u64],
    log: &dyn OperationLog,
    cache: &mut RowCache,
) -> Result<MergeStats> {
    merge_then(conn, ops, records, log, cache, || ()).0
}

/// [`merge`], then `then` (the caller's other work on the batch, such as writing its log records),
/// which runs on the second core once the merge no longer needs it.
///
/// Large batches run as a two-stage pipeline on two cores: a planning thread groups the operations
/// per row and merges them against the cached clocks (pure computation: the rule, the new clocks,
/// the statement parameters), while the calling thread, which owns the connection, runs the
/// statements. Whatever needs the database to decide (a row whose history must be rebuilt from the
/// log, a row not in the cache that turns out to exist) is merged whole by the calling thread, with
/// the row taken out of the cache until it is done. The planner is faster than the statements, so
/// it runs `then` while the calling thread finishes them. `then` runs even when the merge fails.
///
/// Returns what `then` returned (None only if the planning thread panicked) even when the merge
/// failed: the caller may have found the cause of the failure there.
pub fn merge_then<T: Send>(
    conn: &Connection,
    ops: &[&Operation],
    records: &[u64],
    log: &dyn OperationLog,
    cache: &mut RowCache,
    then: impl FnOnce() -> T + Send,
) -> (Result<MergeStats>, Option<T>) {
    let mut then = Some(then);
    let mut after = None;
    let merged = merge_inner(conn, ops, records, log, cache, &mut then, &mut after);
    if let Some(then) = then {
        after = Some(then());
    }
    (merged, after)
}

fn merge_inner<T: Send, F: FnOnce() -> T + Send>(
    conn: &Connection,
    ops: &[&Operation],
    records: &[u64],
    log: &dyn OperationLog,
    cache: &mut RowCache,
    then: &mut Option<F>,
    after: &mut Option<T>,
) -> Result<MergeStats> {
    if ops.len() != records.len() {
        return Err(CoreError::Corrupt(
            "one log record per operation".to_string(),
        ));
    }
    let mut stats = MergeStats::default();
    if ops.is_empty() {
        return Ok(stats);
    }
    let capacity = cache.capacity;
    // Filled by whichever thread plans; the plans borrow from it until the writer is done.
    let grouped: std::sync::OnceLock<Groups<'_>> = std::sync::OnceLock::new();
    let RowCache {
        rows,
        len,
        sites,
        updates,
        inserts,
        ..
    } = cache;
    let mut writer = Writer {
        conn,
        log,
        statements: Prepared {
            conn,
            insert_sql: inserts,
            update_sql: updates,
            inserts: FxHashMap::default(),
            updates: FxHashMap::default(),
        },
        sites: Sites::default(),
        values: Vec::new(),
        arena: ParamArena::default(),
        stats: &mut stats,
        merged: Vec::new(),
    };
    if ops.len() < PIPELINE_MIN_OPS {
        let groups = grouped.get_or_init(|| Groups::of(ops, records));
        if *len + groups.rows.len() > capacity {
            rows.clear();
        }
        let mut rowid = |table: &'static str| next_rowid(conn, table);
        let mut chunk = plan_rows(groups, rows, sites, &mut rowid, |_| true)?;
        writer.write(&mut chunk)?;
    } else {
        let (planner_rows, planner_sites, cached) = (&mut *rows, &mut *sites, *len);
        let job = then.take();
        std::thread::scope(|threads| -> Result<()> {
            let (send, receive) = std::sync::mpsc::sync_channel::<ToWriter<'_>>(PLANS_AHEAD);
            let (give_back, recycled) = std::sync::mpsc::channel::<Chunk<'_>>();
            let (answer, answers) = std::sync::mpsc::sync_channel::<Result<i64>>(1);
            let grouped = &grouped;
            let planner = threads.spawn(move || {
                // Grouping is the planner's too: the writer has nothing to do until plans come.
                let groups = grouped.get_or_init(|| Groups::of(ops, records));
                if cached + groups.rows.len() > capacity {
                    planner_rows.clear();
                }
                // Only the writer may read the database: it answers while it waits for plans.
                let mut rowid = |table: &'static str| {
                    send.send(ToWriter::NextRowid(table))
                        .map_err(|_| writer_gone())?;
                    answers.recv().map_err(|_| writer_gone())?
                };
                let mut sent = 0usize;
                let mut job = job;
                let mut done = None;
                let planned = plan_rows(groups, planner_rows, planner_sites, &mut rowid, |chunk| {
                    let limit = if sent == 0 {
                        FIRST_PLAN_CHUNK
                    } else {
                        PLAN_CHUNK
                    };
                    if chunk.plans.len() < limit {
                        return true;
                    }
                    sent += 1;
                    let next = recycled.try_recv().unwrap_or_else(|_| fresh_chunk());
                    match send.try_send(ToWriter::Plans(std::mem::replace(chunk, next))) {
                        Ok(()) => true,
                        Err(std::sync::mpsc::TrySendError::Full(plans)) => {
                            // The writer has plenty queued: the other work is done now, while it
                            // catches up, rather than after planning, while it waits.
                            if let Some(work) = job.take() {
                                done = Some(work());
                            }
                            send.send(plans).is_ok()
                        }
                        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => false,
                    }
                })
                .map(|last| {
                    if !last.plans.is_empty() {
                        // A closed channel means the writer failed: its error is the one reported.
                        let _ = send.send(ToWriter::Plans(last));
                    }
                });
                // The writer's loop ends when the channel closes: close it before the other work.
                drop(send);
                if let Some(work) = job.take() {
                    done = Some(work());
                }
                (planned, done)
            });
            let mut written = Ok(());
            for message in receive.iter() {
                match message {
                    ToWriter::NextRowid(table) => {
                        // A closed channel means the planner failed: its error is reported.
                        let _ = answer.send(next_rowid(conn, table));
                    }
                    ToWriter::Plans(mut chunk) => {
                        written = writer.write(&mut chunk);
                        if written.is_err() {
                            break;
                        }
                        chunk.arena.clear();
                        // The planner may have finished: then the chunk is simply dropped here.
                        let _ = give_back.send(chunk);
                    }
                }
            }
            // Unblocks a planner waiting on a full channel after a failed write.
            drop(receive);
            drop(answer);
            let (planned, done) = planner.join().map_err(|_| {
                CoreError::Corrupt("the merge's planning thread panicked".to_string())
            })?;
            *after = done;
            written?;
            planned
        })?;
    }
    // Rows merged by the writer (taken out of the cache, or found stored) go (back) into the cache.
    let merged = std::mem::take(&mut writer.merged);
    drop(writer);
    for (table, row_id, row) in merged {
        rows.entry(table)
            .or_default()
            .insert(Box::from(row_id), row);
    }
    *len = rows.values().map(FxHashMap::len).sum();
    Ok(stats)
}

/// What the planning thread sends the thread that owns the connection.
enum ToWriter<'a> {
    Plans(Chunk<'a>),
    /// The planner needs the next free rowid of a table (answered on a channel of its own).
    NextRowid(&'static str),
}

fn writer_gone() -> CoreError {
    CoreError::Corrupt("the merge's writer stopped".to_string())
}

/// The next free rowid of a table: new rows get theirs from the planner, so that it can cache them
/// before they are inserted (read inside the write transaction: nobody else inserts until it ends).
fn next_rowid(conn: &Connection, table: &'static str) -> Result<i64> {
    let max: i64 = conn
        .prepare_cached(&format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}"))?
        .query_row([], |r| r.get(0))?;
    Ok(max + 1)
}

/// A batch's operations grouped per row: rows in first-seen order, each row's operations in batch
/// order, with the log record each goes to.
struct Groups<'a> {
    rows: Vec<(&'a str, &'a str)>,
    starts: Vec<usize>,
    members: Vec<(&'a Operation, u64)>,
}

impl<'a> Groups<'a> {
    fn of(ops: &[&'a Operation], records: &[u64]) -> Groups<'a> {
        // A row's fields are usually written together: an operation on the previous operation's row
        // is not looked up.
        let mut rows: Vec<(&str, &str)> = Vec::new();
        let mut counts: Vec<u32> = Vec::new();
        let mut index: FxHashMap<(&str, &str), u32> = FxHashMap::default();
        index.reserve(ops.len() / 4);
        let mut group_of: Vec<u32> = Vec::with_capacity(ops.len());
        let mut last: Option<((&str, &str), u32)> = None;
        for op in ops {
            let key = (op.table.as_str(), op.row_id.as_str());
            let group = match last {
                Some((k, g)) if k == key => g,
                _ => *index.entry(key).or_insert_with(|| {
                    rows.push(key);
                    counts.push(0);
                    (rows.len() - 1) as u32
                }),
            };
            counts[group as usize] += 1;
            group_of.push(group);
            last = Some((key, group));
        }
        let mut starts: Vec<usize> = Vec::with_capacity(rows.len() + 1);
        let mut at = 0usize;
        for count in &counts {
            starts.push(at);
            at += *count as usize;
        }
        starts.push(at);
        let mut fill = starts.clone();
        let mut members: Vec<(&Operation, u64)> = vec![(ops[0], 0); ops.len()];
        for (i, group) in group_of.iter().enumerate() {
            let slot = &mut fill[*group as usize];
            members[*slot] = (ops[i], records[i]);
            *slot += 1;
        }
        Groups {
            rows,
            starts,
            members,
        }
    }

    fn ops(&self, group: usize) -> &[(&'a Operation, u64)] {
        &self.members[self.starts[group]..self.starts[group + 1]]
    }
}

/// The counts one row's merge adds to the batch's [`MergeStats`].
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    applied: usize,
    duplicates: usize,
    written: bool,
}

impl Counts {
    fn of(outcome: &Outcome) -> Counts {
        Counts {
            applied: outcome.applied,
            duplicates: outcome.duplicates,
            written: outcome.changed != 0 || outcome.log_changed,
        }
    }

    fn add_to(self, stats: &mut MergeStats) {
        stats.applied += self.applied;
        stats.duplicates += self.duplicates;
        stats.rows_written += usize::from(self.written);
    }
}

/// What the planner decided for one row, for the thread that owns the connection.
enum Plan<'a> {
    /// A row not in the cache, merged as new (and cached): insert it, unless a row with its id is
    /// stored (then it is merged again against the stored row).
    Insert {
        def: &'static TableDef,
        row_id: &'a str,
        ops: &'a [(&'a Operation, u64)],
        shape: InsertShape,
        params: Range<usize>,
        counts: Counts,
    },
    /// A cached row merged from its clocks: write the changed columns.
    Update {
        shape: Shape,
        params: Range<usize>,
        counts: Counts,
    },
    /// A cached row the batch did not change (duplicates only).
    Unchanged(Counts),
    /// A row whose merge needs the database (its history from the log), merged by the writer;
    /// `rowid` is reserved for it in case it is new.
    Here {
        def: &'static TableDef,
        row_id: &'a str,
        ops: &'a [(&'a Operation, u64)],
        cached: Option<MasterRow>,
        rowid: i64,
    },
}

/// Plans for consecutive rows, with their statement parameters. The writer hands emptied chunks
/// back to the planner, so their memory is allocated once per batch and freed by the thread that
/// allocated it.
#[derive(Default)]
struct Chunk<'a> {
    plans: Vec<Plan<'a>>,
    arena: ParamArena<'a>,
}

fn fresh_chunk<'a>() -> Chunk<'a> {
    Chunk {
        plans: Vec::with_capacity(PLAN_CHUNK),
        arena: ParamArena {
            params: Vec::with_capacity(PLAN_CHUNK * 16),
            bytes: Vec::with_capacity(PLAN_CHUNK * 128),
        },
    }
}

/// Plans every row of the batch in order into chunks; after each plan `hand_on` may take the chunk
/// (it returns false when the writer is gone, having failed: planning stops). Returns the last
/// chunk, not handed on. Updates the cache for the rows it settles (new
/// rows are cached with the rowid they will be inserted under); takes out of it the rows it hands
/// over whole.
fn plan_rows<'a>(
    groups: &'a Groups<'a>,
    rows: &mut FxHashMap<&'static str, FxHashMap<Box<str>, MasterRow>>,
    sites: &mut Sites,
    first_rowid: &mut dyn FnMut(&'static str) -> Result<i64>,
    mut hand_on: impl FnMut(&mut Chunk<'a>) -> bool,
) -> Result<Chunk<'a>> {
    let mut next_rowid: FxHashMap<&'static str, i64> = FxHashMap::default();
    let mut def: &'static TableDef = &tables::TABLES[0];
    let mut info = TableInfo::of(def);
    let mut values: Vec<Option<Cow<'a, Value>>> = Vec::new();
    let mut overlay = Vec::new();
    let mut steps = Vec::new();
    let mut chunk = fresh_chunk();
    for (g, (table, row_id)) in groups.rows.iter().enumerate() {
        let row_ops = groups.ops(g);
        if def.name != *table {
            def = tables::table(table).ok_or_else(|| {
                CoreError::Corrupt(format!("operation for unknown table {table}"))
            })?;
            info = TableInfo::of(def);
        }
        let table_rows = rows.entry(def.name).or_default();
        if table_rows.capacity() == 0 {
            table_rows.reserve(groups.rows.len());
        }
        let plan = match table_rows.get_mut(*row_id) {
            Some(row) if !classify(def, row, row_ops, &mut overlay, &mut steps)? => Plan::Here {
                def,
                row_id,
                ops: row_ops,
                cached: table_rows.remove(*row_id),
                rowid: 0,
            },
            Some(row) => {
                let outcome = apply_classified(def, row, row_ops, &steps, sites, &mut values);
                let counts = Counts::of(&outcome);
                let start = chunk.arena.params.len();
                match update_params(def, row, &outcome, &values, &mut chunk.arena) {
                    Some(shape) => Plan::Update {
                        shape,
                        params: start..chunk.arena.params.len(),
                        counts,
                    },
                    None => Plan::Unchanged(counts),
                }
            }
            None => {
                let next = match next_rowid.entry(def.name) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(first_rowid(def.name)?)
                    }
                };
                let rowid = *next;
                *next += 1;
                let mut row = MasterRow::new(def);
                row.rowid = rowid;
                if !classify(def, &row, row_ops, &mut overlay, &mut steps)? {
                    Plan::Here {
                        def,
                        row_id,
                        ops: row_ops,
                        cached: None,
                        rowid,
                    }
                } else {
                    let outcome =
                        apply_classified(def, &mut row, row_ops, &steps, sites, &mut values);
                    let start = chunk.arena.params.len();
                    let shape =
                        insert_params(def, info, row_id, &row, &outcome, &values, &mut chunk.arena);
                    table_rows.insert(Box::from(*row_id), row);
                    Plan::Insert {
                        def,
                        row_id,
                        ops: row_ops,
                        shape,
                        params: start..chunk.arena.params.len(),
                        counts: Counts::of(&outcome),
                    }
                }
            }
        };
        chunk.plans.push(plan);
        if !hand_on(&mut chunk) {
            return Ok(Chunk::default());
        }
        if chunk.plans.capacity() == 0 {
            chunk = fresh_chunk();
        }
    }
    Ok(chunk)
}

/// The thread that owns the connection: runs the planned statements and merges what needs the
/// database.
struct Writer<'c, 'a, 's> {
    conn: &'c Connection,
    log: &'c dyn OperationLog,
    statements: Prepared<'c, 'a>,
    /// Site ids of rows read back from the database here (the cache's own are the planner's).
    sites: Sites,
    values: Vec<Option<Cow<'s, Value>>>,
    arena: ParamArena<'s>,
    stats: &'a mut MergeStats,
    /// Rows merged here, for the cache.
    merged: Vec<(&'static str, &'s str, MasterRow)>,
}

impl<'s> Writer<'_, '_, 's> {
    /// Runs a chunk's plans, leaving it empty.
    fn write(&mut self, chunk: &mut Chunk<'s>) -> Result<()> {
        let Chunk { plans, arena } = chunk;
        for plan in plans.drain(..) {
            match plan {
                Plan::Insert {
                    def,
                    row_id,
                    ops,
                    shape,
                    params,
                    counts,
                } => {
                    let inserted = self
                        .statements
                        .insert(def, shape)?
                        .execute(rusqlite::params_from_iter(arena.bind(params)))?;
                    if inserted == 1 {
                        counts.add_to(self.stats);
                    } else {
                        self.merge_here(def, row_id, ops, Start::Stored)?;
                    }
                }
                Plan::Update {
                    shape,
                    params,
                    counts,
                } => {
                    self.statements
                        .update(shape)?
                        .execute(rusqlite::params_from_iter(arena.bind(params)))?;
                    counts.add_to(self.stats);
                }
                Plan::Unchanged(counts) => counts.add_to(self.stats),
                Plan::Here {
                    def,
                    row_id,
                    ops,
                    cached,
                    rowid,
                } => {
                    let start = match cached {
                        Some(row) => Start::Cached(row),
                        None => Start::Unknown(rowid),
                    };
                    self.merge_here(def, row_id, ops, start)?;
                }
            }
        }
        Ok(())
    }

    /// Merges one row on this thread, reading what it needs from the database and the log.
    fn merge_here(
        &mut self,
        def: &'static TableDef,
        row_id: &'s str,
        ops: &'s [(&'s Operation, u64)],
        start: Start,
    ) -> Result<()> {
        let conn = self.conn;
        let mut row = match start {
            Start::Cached(row) => row,
            Start::Unknown(rowid) => {
                // Most rows the master has not cached are new: try the INSERT first and read the
                // stored row only when it turns out to exist.
                let mut row = MasterRow::new(def);
                row.rowid = rowid;
                let outcome = apply_all(
                    def,
                    row_id,
                    &mut row,
                    ops,
                    self.log,
                    &mut self.sites,
                    &mut self.values,
                )?;
                self.arena.clear();
                let shape = insert_params(
                    def,
                    TableInfo::of(def),
                    row_id,
                    &row,
                    &outcome,
                    &self.values,
                    &mut self.arena,
                );
                let inserted =
                    self.statements
                        .insert(def, shape)?
                        .execute(rusqlite::params_from_iter(
                            self.arena.bind(0..self.arena.params.len()),
                        ))?;
                if inserted == 1 {
                    write_outcome(conn, def, row_id, &outcome, self.stats)?;
                    self.merged.push((def.name, row_id, row));
                    return Ok(());
                }
                load_row(conn, def, row_id, &mut self.sites)?.unwrap_or_else(|| MasterRow::new(def))
            }
            Start::Stored => {
                load_row(conn, def, row_id, &mut self.sites)?.unwrap_or_else(|| MasterRow::new(def))
            }
        };
        let outcome = apply_all(
            def,
            row_id,
            &mut row,
            ops,
            self.log,
            &mut self.sites,
            &mut self.values,
        )?;
        write_outcome(conn, def, row_id, &outcome, self.stats)?;
        self.arena.clear();
        if let Some(shape) = update_params(def, &mut row, &outcome, &self.values, &mut self.arena) {
            self.statements
                .update(shape)?
                .execute(rusqlite::params_from_iter(
                    self.arena.bind(0..self.arena.params.len()),
                ))?;
        }
        self.merged.push((def.name, row_id, row));
        Ok(())
    }
}

/// Where [`Writer::merge_here`] starts from.
enum Start {
    /// The cached row.
    Cached(MasterRow),
    /// Not cached: a new row (with this rowid) unless the INSERT finds one.
    Unknown(i64),
    /// Not cached and known to be stored.
    Stored,
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
    for (field, versions) in stored.map(|s| &s.fields).into_iter().flatten() {
        let into = full.fields.entry(field.clone()).or_default();
        for v in versions {
            let key = (v.0, v.1.as_str());
            if let Err(at) = into.binary_search_by(|x| (x.0, x.1.as_str()).cmp(&key)) {
                into.insert(at, v.clone());
            }
        }
    }
    Ok(full)
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

/// Appends a row's winning clocks (codec format 2) to `out`.
fn encode_winners_into(out: &mut Vec<u8>, row: &MasterRow) {
    codec::encode_winners_into(
        out,
        row.winners.iter().enumerate().filter_map(|(field, w)| {
            w.as_ref().map(|w| codec::Winner {
                field,
                hlc: w.hlc,
                site: &w.site,
            })
        }),
    );
}

/// The row statements one merge uses, prepared once per shape for the whole batch (the SQL text of
/// each shape is built once per cache).
struct Prepared<'c, 'a> {
    conn: &'c Connection,
    insert_sql: &'a mut FxHashMap<InsertShape, String>,
    update_sql: &'a mut FxHashMap<Shape, String>,
    inserts: FxHashMap<InsertShape, rusqlite::CachedStatement<'c>>,
    updates: FxHashMap<Shape, rusqlite::CachedStatement<'c>>,
}

impl<'c> Prepared<'c, '_> {
    fn insert(
        &mut self,
        def: &'static TableDef,
        shape: InsertShape,
    ) -> Result<&mut rusqlite::CachedStatement<'c>> {
        use std::collections::hash_map::Entry;
        Ok(match self.inserts.entry(shape) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let sql = self
                    .insert_sql
                    .entry(shape)
                    .or_insert_with(|| insert_sql(def, shape));
                e.insert(self.conn.prepare_cached(sql)?)
            }
        })
    }

    fn update(&mut self, shape: Shape) -> Result<&mut rusqlite::CachedStatement<'c>> {
        use std::collections::hash_map::Entry;
        Ok(match self.updates.entry(shape) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let def = tables::table(shape.table)
                    .ok_or_else(|| CoreError::Corrupt(format!("unknown table {}", shape.table)))?;
                let sql = self
                    .update_sql
                    .entry(shape)
                    .or_insert_with(|| update_sql(def, shape));
                e.insert(self.conn.prepare_cached(sql)?)
            }
        })
    }
}

/// A statement parameter: the operation's text borrowed, a small value, or bytes kept in the
/// [`ParamArena`] it belongs to (clocks, log records, derived text).
enum Param<'a> {
    Text(&'a str),
    Value(SqlValue),
    Blob(Range<usize>),
    ArenaText(Range<usize>),
}

impl<'a> Param<'a> {
    /// [`column_value`] without copying a text value.
    fn column(field: &crate::tables::FieldDef, value: Option<&'a Value>) -> Param<'a> {
        match value {
            Some(Value::String(s)) if field.ty == crate::tables::FieldType::Text => Param::Text(s),
            other => Param::Value(column_value(field, other)),
        }
    }
}

/// The parameters of many rows and the bytes they refer to: a few allocations per chunk of rows
/// instead of several per row (the planner allocates them, the writer frees them).
#[derive(Default)]
struct ParamArena<'a> {
    params: Vec<Param<'a>>,
    bytes: Vec<u8>,
}

impl<'a> ParamArena<'a> {
    fn clear(&mut self) {
        self.params.clear();
        self.bytes.clear();
    }

    fn push(&mut self, param: Param<'a>) {
        self.params.push(param);
    }

    fn push_blob(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.params.push(Param::Blob(start..self.bytes.len()));
    }

    fn push_value(&mut self, value: SqlValue) {
        match value {
            SqlValue::Text(text) => {
                let start = self.bytes.len();
                self.bytes.extend_from_slice(text.as_bytes());
                self.params.push(Param::ArenaText(start..self.bytes.len()));
            }
            other => self.params.push(Param::Value(other)),
        }
    }

    fn bind(&self, range: Range<usize>) -> impl Iterator<Item = Bound<'_, 'a>> {
        self.params[range].iter().map(|param| Bound {
            param,
            bytes: &self.bytes,
        })
    }
}

/// A parameter with its arena, as rusqlite binds it.
struct Bound<'p, 'a> {
    param: &'p Param<'a>,
    bytes: &'p [u8],
}

impl rusqlite::ToSql for Bound<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.param {
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Value(v) => ValueRef::from(v),
            Param::Blob(range) => ValueRef::Blob(&self.bytes[range.clone()]),
            Param::ArenaText(range) => ValueRef::Text(&self.bytes[range.clone()]),
        }))
    }
}

/// Which columns an INSERT of a new master row writes (the other fields are NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct InsertShape {
    table: &'static str,
    /// Written fields ([`column_bit`]); the deletion flag is always written.
    columns: u64,
}

fn insert_sql(def: &TableDef, shape: InsertShape) -> String {
    let mut columns: Vec<&str> = vec!["rowid", "id"];
    for (i, field) in def.fields.iter().enumerate() {
        if shape.columns & column_bit(i) != 0 {
            columns.push(field.name);
        }
    }
    columns.extend(["_versions", "_log"]);
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING",
        def.name,
        columns.join(", "),
        placeholders.join(", ")
    )
}

/// Pushes a column's parameter: the operation's own value borrowed, a value rebuilt from history
/// copied into the arena.
fn push_column<'a>(
    arena: &mut ParamArena<'a>,
    field: &crate::tables::FieldDef,
    value: &Option<Cow<'a, Value>>,
) {
    match value {
        Some(Cow::Borrowed(v)) => arena.push(Param::column(field, Some(*v))),
        Some(Cow::Owned(v)) => arena.push_value(column_value(field, Some(v))),
        None => arena.push(Param::column(field, None)),
    }
}

/// What the parameter builders need of a table, looked up once per table instead of per row.
#[derive(Debug, Clone, Copy)]
struct TableInfo {
    /// The deletion flag's column bit (written with every insert: it is 0, not NULL, when unset).
    deleted: u64,
}

impl TableInfo {
    fn of(def: &TableDef) -> TableInfo {
        TableInfo {
            deleted: def
                .fields
                .iter()
                .position(|f| f.name == tables::DELETED_FIELD)
                .map_or(0, column_bit),
        }
    }
}

/// Pushes the parameters of [`insert_sql`] for a new row (every written field's value is in
/// `values`) and returns the statement's shape.
fn insert_params<'a>(
    def: &'static TableDef,
    info: TableInfo,
    row_id: &'a str,
    row: &MasterRow,
    outcome: &Outcome,
    values: &[Option<Cow<'a, Value>>],
    arena: &mut ParamArena<'a>,
) -> InsertShape {
    let shape = InsertShape {
        table: def.name,
        columns: outcome.changed | info.deleted,
    };
    arena.push(Param::Value(SqlValue::Integer(row.rowid)));
    arena.push(Param::Text(row_id));
    for (i, (field, value)) in def.fields.iter().zip(values).enumerate() {
        if shape.columns & column_bit(i) != 0 {
            push_column(arena, field, value);
        }
    }
    arena.push_blob(|out| encode_winners_into(out, row));
    arena.push_blob(|out| codec::encode_seqs_into(out, &row.log));
    shape
}

/// Which columns an UPDATE of a master row writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    table: &'static str,
    /// Fields whose visible value changed ([`column_bit`]).
    columns: u64,
    versions: bool,
    log: bool,
}

fn update_sql(def: &TableDef, shape: Shape) -> String {
    let mut sets: Vec<&str> = Vec::new();
    for (i, field) in def.fields.iter().enumerate() {
        if shape.columns & column_bit(i) != 0 {
            sets.push(field.name);
        }
    }
    if shape.versions {
        sets.push("_versions");
    }
    if shape.log {
        sets.push("_log");
    }
    let mut sql = format!("UPDATE {} SET ", def.name);
    for (n, column) in sets.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "{column} = ?{}", n + 1);
    }
    let _ = write!(sql, " WHERE rowid = ?{}", sets.len() + 1);
    sql
}

/// Pushes the parameters of the UPDATE that stores a merged row's changed columns, clocks and log
/// records, and returns its shape (None, and nothing pushed, when nothing changed). A row the
/// master's own write path stored in full is rewritten in format 2.
fn update_params<'a>(
    def: &'static TableDef,
    row: &mut MasterRow,
    outcome: &Outcome,
    values: &[Option<Cow<'a, Value>>],
    arena: &mut ParamArena<'a>,
) -> Option<Shape> {
    let columns = outcome.changed;
    if columns == 0 && !outcome.log_changed {
        return None;
    }
    let shape = Shape {
        table: def.name,
        columns,
        versions: columns != 0 || row.stored.is_some(),
        log: outcome.log_changed,
    };
    for (i, field) in def.fields.iter().enumerate() {
        if columns & column_bit(i) != 0 {
            push_column(arena, field, &values[i]);
        }
    }
    if shape.versions {
        arena.push_blob(|out| encode_winners_into(out, row));
    }
    if shape.log {
        arena.push_blob(|out| codec::encode_seqs_into(out, &row.log));
    }
    arena.push(Param::Value(SqlValue::Integer(row.rowid)));
    // Its stored versions are in the log (the master's own writes are logged right after them).
    row.stored = None;
    Some(shape)
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
