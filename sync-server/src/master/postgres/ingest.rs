//! A push into the PostgreSQL master: idempotency by (site, site_seq), the hash chain, holds into
//! quarantine, core's merge rule over each row's whole history, the audit log.
//!
//! A push goes in two phases inside its transaction, so that pushes of different sites run side by
//! side and only the log's numbering is serialised:
//! 1. [`stage`]: with its site's row locked (`FOR UPDATE`: one push per site at a time) and the rows
//!    it names locked in key order, the push is judged, checked, merged and its rows written. Two
//!    pushes that touch one row take turns on the row's lock; a row two pushes create at once is
//!    merged again by the second over what the first committed.
//! 2. [`log_staged`]: under the log's advisory lock (see [`lock_log`]), the staged pushes get their
//!    server_seqs and log records; the lock is held to the commit.
//!
//! Before 2026-12-05 the whole push ran under the log's lock: 200 offices pushing at once kept the
//! lock held all the time while the two cores stood a third idle (BENCHMARKS.md).

use super::prepared::Sql;
use crate::error::{Result, ServerError};
use crate::master::shared::{self, Holds};
use crate::master::SiteAuth;
use crate::policy::{MasterFacts, RowFacts};
use jiceng_core::codec;
use jiceng_core::merge::{Applied, RowVersions};
use jiceng_core::model::Role;
use jiceng_core::op::Operation;
use jiceng_core::store::merge_sql::{column_value, from_sql};
use jiceng_core::tables::{self, TableDef, ROW_ID_SCOPE};
use jiceng_core::validate::Refusal;
use jiceng_core::wire::Ack;
use std::cell::RefCell;
use std::collections::HashMap;

/// The log's advisory lock. Held from before a push's log records get their server_seqs to its
/// commit, so that server_seqs are handed out in commit order: a reader that sees record N has seen
/// every record before it, and its head is a safe watermark (no concurrent writer can still commit
/// below it). Readers never take it. It is the last lock a push takes (its site's and its rows'
/// come first), so a push never holds it while waiting for another push.
const LOG_LOCK: i64 = 0x6a69_6365_6e67_0001;

pub(super) fn lock_log(tx: &mut Sql<'_, '_>) -> Result<()> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOG_LOCK])?;
    Ok(())
}

/// What one push did.
#[derive(Debug, Default)]
pub(super) struct Pushed {
    pub acks: Vec<Ack>,
    pub duplicates: u64,
    pub quarantined: Vec<(u64, Refusal)>,
}

impl Pushed {
    /// The answer the site gets.
    pub fn into_response(self, now_ms: u64) -> jiceng_core::wire::PushResponse {
        jiceng_core::wire::PushResponse {
            held: self
                .quarantined
                .iter()
                .map(|(seq, refusal)| jiceng_core::wire::HeldOperation {
                    site_seq: *seq,
                    code: refusal.code.to_string(),
                    reason: refusal.en.clone(),
                    reason_zh: refusal.zh.clone(),
                })
                .collect(),
            quarantined: self.quarantined.iter().map(|(seq, _)| *seq).collect(),
            acks: self.acks,
            duplicates: self.duplicates,
            server_time_ms: now_ms,
        }
    }
}

/// Who pushes: a site, judged by the policy; or the server's own writes (never judged, never held).
pub(super) enum Pusher<'a> {
    Site(&'a SiteAuth),
    Server(&'a str),
}

/// A row whose owning unit changed (issue 10 §5): (table, id, from, to).
type ScopeMove = (String, String, String, String);

/// A push judged, its rows merged and written, waiting for its server_seqs ([`log_staged`]).
pub(super) struct Staged<'o> {
    origin: String,
    /// The operations to log, in site_seq order (held ones left out).
    logged: Vec<&'o Operation>,
    /// The site_seqs of every new operation, in order, and whether it was held.
    new: Vec<(u64, bool)>,
    site_seqs: (u64, u64),
    moves: Vec<ScopeMove>,
    pushed: Pushed,
}

impl<'o> Staged<'o> {
    /// A push with nothing in it (its answer is empty).
    pub fn empty(origin: &str) -> Staged<'o> {
        Staged {
            origin: origin.to_string(),
            logged: Vec::new(),
            new: Vec::new(),
            site_seqs: (0, 0),
            moves: Vec::new(),
            pushed: Pushed::default(),
        }
    }

    /// The operations this push put in quarantine.
    pub fn quarantined(&self) -> &[(u64, Refusal)] {
        &self.pushed.quarantined
    }
}

/// One push of one site's operations, whole (both phases), inside the caller's transaction.
pub(super) fn push_locked(
    tx: &mut Sql<'_, '_>,
    pusher: Pusher<'_>,
    ops: &[Operation],
    divergent: &[u64],
    now_ms: u64,
    max_drift_ms: u64,
) -> Result<Pushed> {
    let staged = stage(tx, pusher, ops, divergent, now_ms, max_drift_ms)?;
    Ok(log_staged(tx, vec![staged], now_ms)?
        .pop()
        .unwrap_or_default())
}

/// Phase 1 of a push (see the module's doc): everything but the log. Nothing of it is visible to
/// anyone before the transaction commits.
pub(super) fn stage<'o>(
    tx: &mut Sql<'_, '_>,
    pusher: Pusher<'_>,
    ops: &'o [Operation],
    divergent: &[u64],
    now_ms: u64,
    max_drift_ms: u64,
) -> Result<Staged<'o>> {
    stage_from(tx, pusher, ops, divergent, now_ms, max_drift_ms, None)
}

/// The database instance a site's push came from (issue 11: a store restored from a backup or
/// copied to another PC shows itself by a new one): `sent` is recorded with the push, and `known`
/// gets the one recorded before, even when the push then fails.
pub(super) struct Instance<'i> {
    pub sent: &'i str,
    pub known: &'i mut Option<String>,
}

/// [`stage`], noting the site's database instance.
pub(super) fn stage_from<'o>(
    tx: &mut Sql<'_, '_>,
    pusher: Pusher<'_>,
    ops: &'o [Operation],
    divergent: &[u64],
    now_ms: u64,
    max_drift_ms: u64,
    mut instance: Option<Instance<'_>>,
) -> Result<Staged<'o>> {
    let site_id = match &pusher {
        Pusher::Site(site) => site.site_id.as_str(),
        Pusher::Server(id) => id,
    };
    // Pushes of one site take turns from here to their commit: the cursor they check is the one
    // they move.
    let cursor = tx
        .query_opt(
            "SELECT last_seq, last_hash, db_instance_id FROM site WHERE id = $1 FOR UPDATE",
            &[&site_id],
        )?
        .ok_or_else(|| ServerError::NotFound(format!("site {site_id}")))?;
    let last_seq = cursor.get::<_, i64>(0).max(0) as u64;
    let last_hash: String = cursor.get(1);
    if let Some(instance) = instance.as_mut() {
        *instance.known = cursor.get(2);
    }
    let sent_instance = instance.as_ref().map(|i| i.sent);
    let locked = LockedRows::lock(tx, row_keys(ops.iter()))?;
    let (holds, max_drift_ms) = match &pusher {
        Pusher::Site(site) => {
            let facts = Facts::new(&mut *tx, &locked, ops)?;
            let holds =
                shared::judge(site, ops, divergent, last_seq, &facts, now_ms, max_drift_ms)?;
            (holds, max_drift_ms)
        }
        Pusher::Server(_) => (Holds::default(), u64::MAX),
    };
    let mut sorted: Vec<&Operation> = ops.iter().collect();
    sorted.sort_by_key(|o| o.site_seq);
    let split = sorted.partition_point(|o| o.site_seq <= last_seq);
    let mut pushed = Pushed::default();
    let mut stored = StoredOps::default();
    for op in &sorted[..split] {
        match stored.find(tx, site_id, op.site_seq)? {
            Some((hash, server_seq)) if hash == op.hash => {
                pushed.duplicates += 1;
                pushed.acks.push(Ack {
                    site_seq: op.site_seq,
                    server_seq,
                });
            }
            _ => return Err(ServerError::HashMismatch { seq: op.site_seq }),
        }
    }
    let new = &sorted[split..];
    shared::check_no_gap(last_seq, new)?;
    shared::check_chain(&last_hash, new)?;
    let mut staged = Staged {
        origin: site_id.to_string(),
        logged: Vec::with_capacity(new.len()),
        new: Vec::with_capacity(new.len()),
        site_seqs: (0, 0),
        moves: Vec::new(),
        pushed,
    };
    let (Some(first), Some(last)) = (new.first(), new.last()) else {
        if let Some(sent) = sent_instance {
            tx.execute(
                "UPDATE site SET db_instance_id = $2 WHERE id = $1",
                &[&site_id, &sent],
            )?;
        }
        return Ok(staged);
    };
    staged.site_seqs = (first.site_seq, last.site_seq);
    for op in new.iter().copied() {
        let refusal = if shared::is_held(op, &holds, now_ms, max_drift_ms) {
            shared::refusal_of(op, &holds, now_ms, max_drift_ms)
        } else {
            None
        };
        let Some(refusal) = refusal else {
            staged.logged.push(op);
            staged.new.push((op.site_seq, false));
            continue;
        };
        tx.execute(
            "INSERT INTO quarantine (site_id, site_seq, received_at_ms, reason, op, code, reason_zh) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &site_id,
                &(op.site_seq as i64),
                &(now_ms as i64),
                &refusal.en,
                &codec::encode_ops(&[op]),
                &refusal.code,
                &refusal.zh,
            ],
        )?;
        staged.new.push((op.site_seq, true));
        staged.pushed.quarantined.push((op.site_seq, refusal));
    }
    if !staged.logged.is_empty() {
        staged.moves = merge_rows(tx, &staged.logged, &locked)?;
    }
    tx.execute(
        "UPDATE site SET last_seq = $2, last_hash = $3, db_instance_id = COALESCE($4, db_instance_id) \
         WHERE id = $1",
        &[&site_id, &(last.site_seq as i64), &last.hash, &sent_instance],
    )?;
    Ok(staged)
}

/// Phase 2 (see the module's doc): takes the log's lock, which the transaction then holds to its
/// commit, and gives the staged pushes their server_seqs and log records, in order.
pub(super) fn log_staged(
    tx: &mut Sql<'_, '_>,
    staged: Vec<Staged<'_>>,
    now_ms: u64,
) -> Result<Vec<Pushed>> {
    if staged.iter().all(|s| s.logged.is_empty()) {
        return Ok(staged.into_iter().map(|s| finish(s, 0)).collect());
    }
    lock_log(tx)?;
    let mut next = next_seq(tx)?;
    let mut records = LogRecords::default();
    let mut done = Vec::with_capacity(staged.len());
    for one in staged {
        if one.logged.is_empty() {
            done.push(finish(one, 0));
            continue;
        }
        let first_seq = next;
        next += one.logged.len() as u64;
        records.add(&one, first_seq, now_ms);
        done.push(finish(one, first_seq));
    }
    records.write(tx)?;
    Ok(done)
}

/// A staged push's answer once its first server_seq is known.
fn finish(staged: Staged<'_>, first_seq: u64) -> Pushed {
    let mut pushed = staged.pushed;
    let mut next = first_seq;
    for (site_seq, held) in staged.new {
        let server_seq = if held {
            0
        } else {
            next += 1;
            next - 1
        };
        pushed.acks.push(Ack {
            site_seq,
            server_seq,
        });
    }
    pushed.acks.sort_by_key(|a| a.site_seq);
    pushed
}

/// The log records of a group, written in one statement per table.
#[derive(Default)]
struct LogRecords {
    first: Vec<i64>,
    last: Vec<i64>,
    origin: Vec<String>,
    first_site_seq: Vec<i64>,
    last_site_seq: Vec<i64>,
    received: Vec<i64>,
    ops: Vec<Vec<u8>>,
    scope: Vec<String>,
    scope_table: Vec<String>,
    scope_first: Vec<i64>,
    move_seq: Vec<i64>,
    move_table: Vec<String>,
    move_id: Vec<String>,
    move_from: Vec<String>,
    move_to: Vec<String>,
}

impl LogRecords {
    fn add(&mut self, staged: &Staged<'_>, first_seq: u64, now_ms: u64) {
        let count = staged.logged.len() as u64;
        self.first.push(first_seq as i64);
        self.last.push((first_seq + count - 1) as i64);
        self.origin.push(staged.origin.clone());
        self.first_site_seq.push(staged.site_seqs.0 as i64);
        self.last_site_seq.push(staged.site_seqs.1 as i64);
        self.received.push(now_ms as i64);
        self.ops.push(codec::encode_ops(&staged.logged));
        let mut pairs: Vec<(&str, &str)> = staged
            .logged
            .iter()
            .map(|o| (o.scope.as_str(), o.table.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        for (scope, table) in pairs {
            self.scope.push(scope.to_string());
            self.scope_table.push(table.to_string());
            self.scope_first.push(first_seq as i64);
        }
        for (table, id, from, to) in &staged.moves {
            self.move_seq.push(first_seq as i64);
            self.move_table.push(table.clone());
            self.move_id.push(id.clone());
            self.move_from.push(from.clone());
            self.move_to.push(to.clone());
        }
    }

    fn write(&self, tx: &mut Sql<'_, '_>) -> Result<()> {
        tx.execute(
            "INSERT INTO log_record (first_seq, last_seq, origin_site, first_site_seq, last_site_seq, received_at_ms, ops) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bytea[])",
            &[
                &self.first,
                &self.last,
                &self.origin,
                &self.first_site_seq,
                &self.last_site_seq,
                &self.received,
                &self.ops,
            ],
        )?;
        // Which records hold which (scope, table): a pull reads only the records of its scopes.
        tx.execute(
            "INSERT INTO log_scope (scope, tbl, first_seq) \
             SELECT s, t, f FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS p(s, t, f, k) \
             ORDER BY k ON CONFLICT DO NOTHING",
            &[&self.scope, &self.scope_table, &self.scope_first],
        )?;
        // Issue 10 §5: rows whose owner changed, for the pulls of the sites they left (`n` keeps
        // their order within the record).
        if !self.move_seq.is_empty() {
            tx.execute(
                "INSERT INTO scope_move (seq, tbl, row_id, from_unit, to_unit) \
                 SELECT q, t, i, f, o FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) \
                 WITH ORDINALITY AS m(q, t, i, f, o, k) ORDER BY k",
                &[
                    &self.move_seq,
                    &self.move_table,
                    &self.move_id,
                    &self.move_from,
                    &self.move_to,
                ],
            )?;
        }
        Ok(())
    }
}

/// The next server_seq (under the log lock).
fn next_seq(tx: &mut Sql<'_, '_>) -> Result<u64> {
    let next: i64 = tx
        .query_one(
            "SELECT COALESCE((SELECT last_seq FROM log_record ORDER BY first_seq DESC LIMIT 1), 0) + 1",
            &[],
        )?
        .get(0);
    Ok(next.max(1) as u64)
}

/// Merges operations into the master rows and appends them to the log as one record from `origin`
/// (covering `site_seqs`), for the server's own decisions (a released quarantine item); the caller
/// holds the log's lock. Returns the record's first server_seq.
pub(super) fn merge_and_log(
    tx: &mut Sql<'_, '_>,
    origin: &str,
    ops: &[&Operation],
    site_seqs: (u64, u64),
    now_ms: u64,
) -> Result<u64> {
    let locked = LockedRows::lock(tx, row_keys(ops.iter().copied()))?;
    let moves = merge_rows(tx, ops, &locked)?;
    let first_seq = next_seq(tx)?;
    let staged = Staged {
        origin: origin.to_string(),
        logged: ops.to_vec(),
        new: Vec::new(),
        site_seqs,
        moves,
        pushed: Pushed::default(),
    };
    let mut records = LogRecords::default();
    records.add(&staged, first_seq, now_ms);
    records.write(tx)?;
    Ok(first_seq)
}

/// The rows a batch touches, each once: (table, id), sorted (the order rows are locked in).
fn row_keys<'o>(ops: impl Iterator<Item = &'o Operation>) -> Vec<(&'o str, &'o str)> {
    let mut keys: Vec<(&str, &str)> = ops.map(|o| (o.table.as_str(), o.row_id.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A stored master row as read under its lock.
struct StoredRow {
    owner: String,
    /// Visible values as JSON text (for the policy's questions).
    vals: String,
    history: Vec<u8>,
}

/// The master rows a push names, read and locked (`FOR UPDATE`, in key order) until the commit.
/// A key the master does not hold maps to None.
struct LockedRows {
    rows: HashMap<(String, String), Option<StoredRow>>,
}

impl LockedRows {
    fn lock(tx: &mut Sql<'_, '_>, keys: Vec<(&str, &str)>) -> Result<LockedRows> {
        let mut rows: HashMap<(String, String), Option<StoredRow>> = keys
            .iter()
            .map(|(t, i)| ((t.to_string(), i.to_string()), None))
            .collect();
        let key_tables: Vec<&str> = keys.iter().map(|k| k.0).collect();
        let key_ids: Vec<&str> = keys.iter().map(|k| k.1).collect();
        // LockRows sits above the sort: rows are locked in key order, as every push locks them,
        // so two pushes naming the same rows wait for each other rather than deadlock.
        for found in tx.query(
            "SELECT m.tbl, m.id, m.owner, m.vals::text, m.history FROM master_row m \
             JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON m.tbl = k.t AND m.id = k.i \
             ORDER BY m.tbl, m.id FOR UPDATE OF m",
            &[&key_tables, &key_ids],
        )? {
            rows.insert(
                (found.get(0), found.get(1)),
                Some(StoredRow {
                    owner: found.get(2),
                    vals: found.get(3),
                    history: found.get(4),
                }),
            );
        }
        Ok(LockedRows { rows })
    }
}

/// A master row as the merge holds it.
struct MergedRow {
    def: &'static TableDef,
    versions: RowVersions,
    owner_before: Option<String>,
    stored: bool,
    changed: bool,
}

/// Core's merge rule over each touched row's whole history (the rows locked in `locked`); the rows
/// written back, conflict items opened. Returns the rows whose owner changed.
///
/// A row this push creates may be created by another writer at the same moment: the insert then
/// waits for that writer's commit and fails on the row's key, answered `Contended`, and the push is
/// staged again in a fresh savepoint (`PgMaster::push_many_in_transaction`), where the row is found
/// and locked. A plain insert: `ON CONFLICT` made every new row a speculative insertion (an
/// extra index probe and a confirmation record each) for a race that is rare.
fn merge_rows<'o>(
    tx: &mut Sql<'_, '_>,
    ops: &[&'o Operation],
    locked: &LockedRows,
) -> Result<Vec<ScopeMove>> {
    // Keyed by the operations' own strings: a key is copied once per row, not once per operation.
    let mut rows: HashMap<(&'o str, &'o str), MergedRow> =
        HashMap::with_capacity(locked.rows.len());
    let mut conflicts = Vec::new();
    for op in ops.iter().copied() {
        let key = (op.table.as_str(), op.row_id.as_str());
        let row = match rows.entry(key) {
            std::collections::hash_map::Entry::Occupied(found) => found.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let def = tables::table(&op.table)
                    .ok_or_else(|| ServerError::UnknownTable(op.table.clone()))?;
                let stored = locked
                    .rows
                    .get(&(op.table.clone(), op.row_id.clone()))
                    .and_then(Option::as_ref);
                let versions = match stored {
                    Some(row) => codec::decode_row(&row.history).map_err(|e| {
                        ServerError::Store(format!("{} {} history: {e}", op.table, op.row_id))
                    })?,
                    None => RowVersions::default(),
                };
                slot.insert(MergedRow {
                    def,
                    versions,
                    owner_before: stored.map(|r| r.owner.clone()).filter(|o| !o.is_empty()),
                    stored: stored.is_some(),
                    changed: false,
                })
            }
        };
        if let Applied::New {
            conflicts: found, ..
        } = row.versions.apply(op, row.def.merge)
        {
            row.changed = true;
            conflicts.extend(found.into_iter().map(|c| (row.def, op.row_id.clone(), c)));
        }
    }
    let mut updated = RowColumns::default();
    let mut inserted = RowColumns::default();
    let mut moves: Vec<ScopeMove> = Vec::new();
    for ((table, id), row) in rows {
        if !row.changed {
            continue;
        }
        let (table, id) = (table.to_string(), id.to_string());
        let vals = VisibleValues::of(row.def, &row.versions);
        let owner = shared::owner_of(row.def, &id, |f| {
            vals.get(f).and_then(|v| v.as_str()).map(str::to_string)
        });
        if row.def.scope_field != ROW_ID_SCOPE {
            if let Some(before) = &row.owner_before {
                if !owner.is_empty() && *before != owner {
                    moves.push((table.clone(), id.clone(), before.clone(), owner.clone()));
                }
            }
        }
        let out = if row.stored {
            &mut updated
        } else {
            &mut inserted
        };
        out.vals.push(vals.to_json()?);
        out.versions.push(codec::encode_row(&row.versions));
        out.tables.push(table);
        out.ids.push(id);
        out.owners.push(owner);
    }
    if !updated.tables.is_empty() {
        tx.execute(
            "UPDATE master_row m SET owner = r.o, vals = r.v::jsonb, history = r.h \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) AS r(t, i, o, v, h) \
             WHERE m.tbl = r.t AND m.id = r.i",
            &updated.params(),
        )?;
    }
    if !inserted.tables.is_empty() {
        tx.execute(
            "INSERT INTO master_row (tbl, id, owner, vals, history) \
             SELECT t, i, o, v::jsonb, h FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) AS r(t, i, o, v, h)",
            &inserted.params(),
        )?;
    }
    // Conflict items in one statement: a push of concurrent edits may open hundreds of items, and
    // a statement per item costs a round trip each.
    let mut c_ids = Vec::with_capacity(conflicts.len());
    let mut c_tables = Vec::with_capacity(conflicts.len());
    let mut c_rows = Vec::with_capacity(conflicts.len());
    let mut c_fields = Vec::with_capacity(conflicts.len());
    let mut c_newer = Vec::with_capacity(conflicts.len());
    let mut c_older = Vec::with_capacity(conflicts.len());
    for (def, row_id, conflict) in conflicts {
        c_ids.push(conflict.id(def.name, &row_id));
        c_tables.push(def.name);
        c_fields.push(conflict.field.clone());
        c_newer.push(serde_json::to_string(&conflict.newer).unwrap_or_default());
        c_older.push(serde_json::to_string(&conflict.older).unwrap_or_default());
        c_rows.push(row_id);
    }
    if !c_ids.is_empty() {
        tx.execute(
            "INSERT INTO conflict_item (id, tbl, row_id, field, newer_json, older_json) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
             ON CONFLICT DO NOTHING",
            &[&c_ids, &c_tables, &c_rows, &c_fields, &c_newer, &c_older],
        )?;
    }
    Ok(moves)
}

/// Master rows to write, column by column (the statements take arrays).
#[derive(Default)]
struct RowColumns {
    tables: Vec<String>,
    ids: Vec<String>,
    owners: Vec<String>,
    vals: Vec<String>,
    versions: Vec<Vec<u8>>,
}

impl RowColumns {
    fn params(&self) -> [&(dyn postgres::types::ToSql + Sync); 5] {
        [
            &self.tables,
            &self.ids,
            &self.owners,
            &self.vals,
            &self.versions,
        ]
    }
}

/// A row's visible values as stored in `vals`: the fields that have one. A field without a value is
/// left out rather than stored as `null` (every read takes a missing key as NULL): a case under
/// load carries two or three of its seventeen fields, and the nulls were two thirds of its `vals`.
/// Kept as pairs and written straight to JSON text: building and dropping a map per row (its keys
/// allocated and sorted) was ~4 % of the server's CPU under 200 offices' load; PostgreSQL orders a
/// `jsonb` object's keys itself.
pub(super) struct VisibleValues(Vec<(&'static str, serde_json::Value)>);

impl VisibleValues {
    pub(super) fn of(def: &'static TableDef, versions: &RowVersions) -> VisibleValues {
        VisibleValues(
            def.fields
                .iter()
                .filter_map(|field| {
                    let shown = versions.shown_value(field.name, def.merge);
                    let value = from_sql(field.ty, &column_value(field, shown));
                    (!value.is_null()).then_some((field.name, value))
                })
                .collect(),
        )
    }

    pub(super) fn get(&self, field: &str) -> Option<&serde_json::Value> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, v)| v)
    }

    /// The JSON object `vals` holds.
    pub(super) fn to_json(&self) -> Result<String> {
        struct AsObject<'a>(&'a [(&'static str, serde_json::Value)]);
        impl serde::Serialize for AsObject<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
            }
        }
        serde_json::to_string(&AsObject(&self.0)).map_err(|e| ServerError::Store(e.to_string()))
    }
}

/// Looks up already-accepted operations of one site by site_seq, for a retried push: in the log record
/// whose site_seq range holds it, else in quarantine.
#[derive(Default)]
struct StoredOps {
    record: Option<(u64, u64, Vec<Operation>)>,
}

impl StoredOps {
    fn find(
        &mut self,
        tx: &mut Sql<'_, '_>,
        site_id: &str,
        seq: u64,
    ) -> Result<Option<(String, u64)>> {
        let covered = self
            .record
            .as_ref()
            .is_some_and(|(first, last, _)| (*first..=*last).contains(&seq));
        if !covered {
            self.record = None;
            let found = tx.query_opt(
                "SELECT first_site_seq, last_site_seq, first_seq, ops FROM log_record \
                 WHERE origin_site = $1 AND last_site_seq >= $2 ORDER BY last_site_seq LIMIT 1",
                &[&site_id, &(seq as i64)],
            )?;
            if let Some(row) = found {
                let first = row.get::<_, i64>(0).max(0) as u64;
                if first <= seq {
                    let ops = super::decode_record(row.get::<_, i64>(2), row.get(3))?;
                    self.record = Some((first, row.get::<_, i64>(1).max(0) as u64, ops));
                }
            }
        }
        if let Some((_, _, ops)) = &self.record {
            if let Ok(i) = ops.binary_search_by_key(&seq, |o| o.site_seq) {
                return Ok(Some((ops[i].hash.clone(), ops[i].server_seq.unwrap_or(0))));
            }
        }
        let held = tx.query_opt(
            "SELECT op FROM quarantine WHERE site_id = $1 AND site_seq = $2",
            &[&site_id, &(seq as i64)],
        )?;
        let Some(held) = held else {
            return Ok(None);
        };
        let op = crate::master::review::decode_held(seq, held.get(0))?;
        Ok(Some((op.hash, 0)))
    }
}

/// An author's (role code, org unit) as the directory holds them.
type AuthorFacts = (Option<String>, Option<String>);

/// The policy's questions answered from the master rows, inside the push's transaction. The rows a
/// push names come from [`LockedRows`], and its authors are read up front in one query (a statement
/// per row would cost a round trip per row); anything else is asked on demand.
struct Facts<'t, 'x, 'a, 'r> {
    tx: RefCell<&'t mut Sql<'x, 'a>>,
    rows: &'r LockedRows,
    /// user id → (role code, org unit), for the push's authors; None for an id the master lacks.
    users: HashMap<String, Option<AuthorFacts>>,
}

impl<'t, 'x, 'a, 'r> Facts<'t, 'x, 'a, 'r> {
    fn new(
        tx: &'t mut Sql<'x, 'a>,
        rows: &'r LockedRows,
        ops: &[Operation],
    ) -> Result<Facts<'t, 'x, 'a, 'r>> {
        let mut authors: Vec<&str> = ops.iter().map(|o| o.user_id.as_str()).collect();
        authors.sort_unstable();
        authors.dedup();
        let mut users: HashMap<String, Option<AuthorFacts>> =
            authors.iter().map(|u| (u.to_string(), None)).collect();
        for found in tx.query(
            "SELECT id, vals ->> 'role', vals ->> 'org_unit_id' FROM master_row \
             WHERE tbl = 'app_user' AND id = ANY($1)",
            &[&authors],
        )? {
            users.insert(found.get(0), Some((found.get(1), found.get(2))));
        }
        Ok(Facts {
            tx: RefCell::new(tx),
            rows,
            users,
        })
    }

    fn row_values(&self, def: &'static TableDef, row_id: &str) -> Result<Option<String>> {
        if let Some(known) = self
            .rows
            .rows
            .get(&(def.name.to_string(), row_id.to_string()))
        {
            return Ok(known.as_ref().map(|row| row.vals.clone()));
        }
        Ok(self
            .tx
            .borrow_mut()
            .query_opt(
                "SELECT vals::text FROM master_row WHERE tbl = $1 AND id = $2",
                &[&def.name, &row_id],
            )?
            .map(|found| found.get(0)))
    }
}

impl MasterFacts for Facts<'_, '_, '_, '_> {
    fn row(&self, def: &'static TableDef, row_id: &str) -> Result<Option<RowFacts>> {
        let Some(vals) = self.row_values(def, row_id)? else {
            return Ok(None);
        };
        let vals: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&vals)
            .map_err(|e| ServerError::Store(format!("{} {row_id}: {e}", def.name)))?;
        let mut facts = RowFacts::default();
        for field in def.fields {
            if let Some(value) = vals.get(field.name).filter(|v| !v.is_null()) {
                facts.values.insert(field.name, value.clone());
            }
        }
        facts.owner = if def.scope_field == ROW_ID_SCOPE {
            Some(row_id.to_string())
        } else {
            facts
                .values
                .get(def.scope_field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Ok(Some(facts))
    }

    fn user(&self, user_id: &str) -> Result<Option<(Role, String)>> {
        let found = match self.users.get(user_id) {
            Some(known) => known.clone(),
            None => self
                .tx
                .borrow_mut()
                .query_opt(
                    "SELECT vals ->> 'role', vals ->> 'org_unit_id' FROM master_row WHERE tbl = 'app_user' AND id = $1",
                    &[&user_id],
                )?
                .map(|row| (row.get(0), row.get(1))),
        };
        Ok(
            found.and_then(|(role, unit): (Option<String>, Option<String>)| {
                Some((Role::from_code(role.as_deref()?)?, unit.unwrap_or_default()))
            }),
        )
    }

    fn moved_away(&self, site: &SiteAuth, def: &'static TableDef, row_id: &str) -> Result<bool> {
        let mut tx = self.tx.borrow_mut();
        let case_id: Option<String> = if def.name == "corr_case" {
            Some(row_id.to_string())
        } else if def.field("case_id").is_some() {
            tx.query_opt(
                "SELECT vals ->> 'case_id' FROM master_row WHERE tbl = $1 AND id = $2",
                &[&def.name, &row_id],
            )?
            .and_then(|r| r.get::<_, Option<String>>(0))
        } else {
            None
        };
        let Some(case_id) = case_id else {
            return Ok(false);
        };
        let froms = tx.query(
            "SELECT vals ->> 'from_org_unit_id' FROM master_row WHERE tbl = 'corr_transfer' \
             AND vals ->> 'case_id' = $1 AND vals ->> 'status' = 'completed'",
            &[&case_id],
        )?;
        Ok(froms
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(0))
            .any(|unit| site.covers(&unit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiceng_core::hlc::Hlc;
    use serde_json::{json, Value};

    fn write(versions: &mut RowVersions, def: &TableDef, field: &str, value: Value, at: u64) {
        let op = Operation {
            site_id: "s1".into(),
            site_seq: at,
            prev_hash: String::new(),
            hash: String::new(),
            table: def.name.into(),
            row_id: "r1".into(),
            field: field.into(),
            value,
            hlc: Hlc::from_parts(1_800_000_000_000 + at, 0),
            base: None,
            user_id: "u1".into(),
            schema_version: jiceng_core::op::SCHEMA_VERSION,
            scope: "town".into(),
            server_seq: None,
        };
        versions.apply(&op, def.merge);
    }

    /// `vals` as the server wrote it before (a map of the fields with a value, as JSON text).
    fn as_a_map(def: &TableDef, versions: &RowVersions) -> Value {
        let map: serde_json::Map<String, Value> = def
            .fields
            .iter()
            .filter_map(|field| {
                let shown = versions.shown_value(field.name, def.merge);
                let value = from_sql(field.ty, &column_value(field, shown));
                (!value.is_null()).then(|| (field.name.to_string(), value))
            })
            .collect();
        Value::Object(map)
    }

    #[test]
    fn visible_values_are_the_fields_with_a_value_as_one_json_object() {
        let def = tables::table("corr_entry").expect("corr_entry");
        let mut versions = RowVersions::default();
        write(&mut versions, def, "org_unit_id", json!("town"), 1);
        write(&mut versions, def, "minutes", json!(45), 2);
        write(&mut versions, def, "ref_entry_id", Value::Null, 3);
        write(&mut versions, def, tables::DELETED_FIELD, json!(false), 5);
        let text_field = def
            .fields
            .iter()
            .find(|f| f.ty == tables::FieldType::Text && f.name != "org_unit_id")
            .expect("a text field");
        // 4-byte characters and what JSON escapes.
        write(&mut versions, def, text_field.name, json!("𠀀\"张\\\n"), 6);

        let vals = VisibleValues::of(def, &versions);
        let text = vals.to_json().expect("json");
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed, as_a_map(def, &versions), "{text}");
        let object = parsed.as_object().expect("an object");
        assert!(!object.contains_key("ref_entry_id"), "{text}");
        assert!(!object.contains_key("days"), "{text}");
        assert_eq!(object.get("minutes"), Some(&json!(45)));
        assert_eq!(object.get(tables::DELETED_FIELD), Some(&json!(false)));
        assert_eq!(object.get(text_field.name), Some(&json!("𠀀\"张\\\n")));
        assert_eq!(vals.get("org_unit_id"), Some(&json!("town")));
        assert_eq!(vals.get("days"), None);

        // A mutable row's field cleared after it had a value is left out too.
        let case = tables::table("corr_case").expect("corr_case");
        let mut versions = RowVersions::default();
        write(&mut versions, case, "org_unit_id", json!("town"), 1);
        write(&mut versions, case, "status", json!("active"), 2);
        write(&mut versions, case, "status", Value::Null, 3);
        let text = VisibleValues::of(case, &versions).to_json().expect("json");
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed, as_a_map(case, &versions), "{text}");
        assert_eq!(parsed.get("org_unit_id"), Some(&json!("town")), "{text}");
        assert_eq!(parsed.get("status"), None, "{text}");
        // A row with nothing written shows only its deletion flag (a boolean column reads false).
        assert_eq!(
            VisibleValues::of(def, &RowVersions::default())
                .to_json()
                .ok(),
            Some(r#"{"_deleted":false}"#.to_string())
        );
    }
}
