//! The master merge as a two-stage pipeline: a planning thread groups a batch per row and merges
//! the rows against the cached clocks; the thread that owns the connection runs the statements.

use super::statements::*;
use super::*;

/// Batches of fewer operations are merged on the calling thread (a thread costs more than it saves).
pub(super) const PIPELINE_MIN_OPS: usize = 512;
/// Rows per message from the planning thread to the writing one.
pub(super) const PLAN_CHUNK: usize = 256;
/// Messages of plans the planner may have queued before it does its other work (the log records).
pub(super) const PLANS_AHEAD: usize = 8;
/// Rows of the first message: small, so that the writer starts early.
pub(super) const FIRST_PLAN_CHUNK: usize = 24;

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
/// the row taken out of the cache until it is done. The planner is faster than the statements: it
/// runs `then` once planning is done, or as soon as PLANS_AHEAD messages of plans wait for the
/// writer, while the calling thread works through them. `then` runs even when the merge fails.
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

pub(super) fn merge_inner<T: Send, F: FnOnce() -> T + Send>(
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
            inserts,
            updates,
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
pub(super) enum ToWriter<'a> {
    Plans(Chunk<'a>),
    /// The planner needs the next free rowid of a table (answered on a channel of its own).
    NextRowid(&'static str),
}

pub(super) fn writer_gone() -> CoreError {
    CoreError::Corrupt("the merge's writer stopped".to_string())
}

/// The next free rowid of a table: new rows get theirs from the planner, so that it can cache them
/// before they are inserted (read inside the write transaction: nobody else inserts until it ends).
pub(super) fn next_rowid(conn: &Connection, table: &'static str) -> Result<i64> {
    let max: i64 = conn
        .prepare_cached(&format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}"))?
        .query_row([], |r| r.get(0))?;
    Ok(max + 1)
}

/// A batch's operations grouped per row: rows in first-seen order, each row's operations in batch
/// order, with the log record each goes to.
pub(super) struct Groups<'a> {
    pub(super) rows: Vec<(&'a str, &'a str)>,
    pub(super) starts: Vec<usize>,
    pub(super) members: Vec<(&'a Operation, u64)>,
}

impl<'a> Groups<'a> {
    pub(super) fn of(ops: &[&'a Operation], records: &[u64]) -> Groups<'a> {
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

    pub(super) fn ops(&self, group: usize) -> &[(&'a Operation, u64)] {
        &self.members[self.starts[group]..self.starts[group + 1]]
    }
}

/// The counts one row's merge adds to the batch's [`MergeStats`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counts {
    pub(super) applied: usize,
    pub(super) duplicates: usize,
    pub(super) written: bool,
}

impl Counts {
    pub(super) fn of(outcome: &Outcome) -> Counts {
        Counts {
            applied: outcome.applied,
            duplicates: outcome.duplicates,
            written: outcome.changed != 0 || outcome.log_changed,
        }
    }

    pub(super) fn add_to(self, stats: &mut MergeStats) {
        stats.applied += self.applied;
        stats.duplicates += self.duplicates;
        stats.rows_written += usize::from(self.written);
    }
}

/// What the planner decided for one row, for the thread that owns the connection.
pub(super) enum Plan<'a> {
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
pub(super) struct Chunk<'a> {
    pub(super) plans: Vec<Plan<'a>>,
    pub(super) arena: ParamArena<'a>,
}

pub(super) fn fresh_chunk<'a>() -> Chunk<'a> {
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
pub(super) fn plan_rows<'a>(
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
pub(super) struct Writer<'c, 'a, 's> {
    pub(super) conn: &'c Connection,
    pub(super) log: &'c dyn OperationLog,
    pub(super) statements: Prepared<'c, 'a>,
    /// Site ids of rows read back from the database here (the cache's own are the planner's).
    pub(super) sites: Sites,
    pub(super) values: Vec<Option<Cow<'s, Value>>>,
    pub(super) arena: ParamArena<'s>,
    pub(super) stats: &'a mut MergeStats,
    /// Rows merged here, for the cache.
    pub(super) merged: Vec<(&'static str, &'s str, MasterRow)>,
}

impl<'s> Writer<'_, '_, 's> {
    /// Runs a chunk's plans, leaving it empty.
    pub(super) fn write(&mut self, chunk: &mut Chunk<'s>) -> Result<()> {
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
                    let inserted = self.statements.insert(def, shape, arena.bind(params))?;
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
                    self.statements.update(shape, arena.bind(params))?;
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

    /// Applies a row's operations against its whole history where needed (read from the log).
    fn apply(
        &mut self,
        def: &'static TableDef,
        row_id: &'s str,
        row: &mut MasterRow,
        ops: &'s [(&'s Operation, u64)],
    ) -> Result<Outcome> {
        apply_all(
            def,
            row_id,
            row,
            ops,
            self.log,
            &mut self.sites,
            &mut self.values,
        )
    }

    /// Merges one row on this thread, reading what it needs from the database and the log.
    pub(super) fn merge_here(
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
                let outcome = self.apply(def, row_id, &mut row, ops)?;
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
                let inserted = self.statements.insert(
                    def,
                    shape,
                    self.arena.bind(0..self.arena.params.len()),
                )?;
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
        let outcome = self.apply(def, row_id, &mut row, ops)?;
        write_outcome(conn, def, row_id, &outcome, self.stats)?;
        self.arena.clear();
        if let Some(shape) = update_params(def, &mut row, &outcome, &self.values, &mut self.arena) {
            self.statements
                .update(shape, self.arena.bind(0..self.arena.params.len()))?;
        }
        self.merged.push((def.name, row_id, row));
        Ok(())
    }
}

/// Where [`Writer::merge_here`] starts from.
pub(super) enum Start {
    /// The cached row.
    Cached(MasterRow),
    /// Not cached: a new row (with this rowid) unless the INSERT finds one.
    Unknown(i64),
    /// Not cached and known to be stored.
    Stored,
}
