//! A push into the PostgreSQL master: idempotency by (site, site_seq), the hash chain, holds into
//! quarantine, core's merge rule over each row's whole history, the audit log. Always inside a
//! transaction that holds the log's advisory lock (see [`lock_log`]).

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
use postgres::Transaction;
use std::cell::RefCell;
use std::collections::HashMap;

/// The log's advisory lock. Held from before a push reads its site's cursor to its commit, so that
/// server_seqs are handed out in commit order: a reader that sees record N has seen every record
/// before it, and its head is a safe watermark (no concurrent writer can still commit below it).
/// Readers never take it.
const LOG_LOCK: i64 = 0x6a69_6365_6e67_0001;

pub(super) fn lock_log(tx: &mut Transaction<'_>) -> Result<()> {
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

/// One push of one site's operations, inside the caller's locked transaction.
pub(super) fn push_locked(
    tx: &mut Transaction<'_>,
    pusher: Pusher<'_>,
    ops: &[Operation],
    divergent: &[u64],
    now_ms: u64,
    max_drift_ms: u64,
) -> Result<Pushed> {
    let site_id = match &pusher {
        Pusher::Site(site) => site.site_id.as_str(),
        Pusher::Server(id) => id,
    };
    let cursor = tx
        .query_opt(
            "SELECT last_seq, last_hash FROM site WHERE id = $1",
            &[&site_id],
        )?
        .ok_or_else(|| ServerError::NotFound(format!("site {site_id}")))?;
    let last_seq = cursor.get::<_, i64>(0).max(0) as u64;
    let last_hash: String = cursor.get(1);
    let (holds, max_drift_ms) = match &pusher {
        Pusher::Site(site) => {
            let facts = Facts::prefetched(&mut *tx, ops)?;
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
    let (Some(first), Some(last)) = (new.first(), new.last()) else {
        return Ok(pushed);
    };
    let mut mergeable: Vec<&Operation> = Vec::with_capacity(new.len());
    for op in new.iter().copied() {
        if !shared::is_held(op, &holds, now_ms, max_drift_ms) {
            mergeable.push(op);
            continue;
        }
        let Some(refusal) = shared::refusal_of(op, &holds, now_ms, max_drift_ms) else {
            mergeable.push(op);
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
        pushed.quarantined.push((op.site_seq, refusal));
    }
    let first_seq = if mergeable.is_empty() {
        0
    } else {
        merge_and_log(
            tx,
            site_id,
            &mergeable,
            (first.site_seq, last.site_seq),
            now_ms,
        )?
    };
    let mut next = first_seq;
    for op in new {
        let held = pushed.quarantined.iter().any(|(s, _)| *s == op.site_seq);
        let server_seq = if held {
            0
        } else {
            next += 1;
            next - 1
        };
        pushed.acks.push(Ack {
            site_seq: op.site_seq,
            server_seq,
        });
    }
    pushed.acks.sort_by_key(|a| a.site_seq);
    tx.execute(
        "UPDATE site SET last_seq = $2, last_hash = $3 WHERE id = $1",
        &[&site_id, &(last.site_seq as i64), &last.hash],
    )?;
    Ok(pushed)
}

/// The next server_seq (under the log lock).
fn next_seq(tx: &mut Transaction<'_>) -> Result<u64> {
    let next: i64 = tx
        .query_one("SELECT COALESCE(MAX(last_seq), 0) + 1 FROM log_record", &[])?
        .get(0);
    Ok(next.max(1) as u64)
}

/// Merges operations into the master rows and appends them to the log as one record from `origin`
/// (covering `site_seqs`); returns the record's first server_seq.
pub(super) fn merge_and_log(
    tx: &mut Transaction<'_>,
    origin: &str,
    ops: &[&Operation],
    site_seqs: (u64, u64),
    now_ms: u64,
) -> Result<u64> {
    let first_seq = next_seq(tx)?;
    merge_rows(tx, ops, first_seq)?;
    let mut scopes: Vec<String> = Vec::new();
    let mut tables: Vec<String> = Vec::new();
    for op in ops {
        let pair = (op.scope.as_str(), op.table.as_str());
        if !scopes
            .iter()
            .zip(tables.iter())
            .any(|(s, t)| (s.as_str(), t.as_str()) == pair)
        {
            scopes.push(op.scope.clone());
            tables.push(op.table.clone());
        }
    }
    let last_seq = first_seq + ops.len() as u64 - 1;
    tx.execute(
        "INSERT INTO log_record (first_seq, last_seq, origin_site, first_site_seq, last_site_seq, received_at_ms, ops) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &(first_seq as i64),
            &(last_seq as i64),
            &origin,
            &(site_seqs.0 as i64),
            &(site_seqs.1 as i64),
            &(now_ms as i64),
            &codec::encode_ops(ops),
        ],
    )?;
    tx.execute(
        "INSERT INTO log_scope (scope, tbl, first_seq) SELECT s, t, $3 FROM unnest($1::text[], $2::text[]) AS p(s, t) \
         ON CONFLICT DO NOTHING",
        &[&scopes, &tables, &(first_seq as i64)],
    )?;
    Ok(first_seq)
}

/// A master row as the merge holds it.
struct MergedRow {
    def: &'static TableDef,
    versions: RowVersions,
    owner_before: Option<String>,
    changed: bool,
}

/// The rows a batch touches, each once: (table, id), sorted.
fn row_keys<'o>(ops: impl Iterator<Item = &'o Operation>) -> Vec<(&'o str, &'o str)> {
    let mut keys: Vec<(&str, &str)> = ops.map(|o| (o.table.as_str(), o.row_id.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Core's merge rule over each touched row's whole history; rows written back in one statement.
fn merge_rows(tx: &mut Transaction<'_>, ops: &[&Operation], seq: u64) -> Result<()> {
    let keys = row_keys(ops.iter().copied());
    let key_tables: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let key_ids: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let mut rows: HashMap<(String, String), MergedRow> = HashMap::with_capacity(keys.len());
    for found in tx.query(
        "SELECT m.tbl, m.id, m.owner, m.history FROM master_row m \
         JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON m.tbl = k.t AND m.id = k.i",
        &[&key_tables, &key_ids],
    )? {
        let table: String = found.get(0);
        let id: String = found.get(1);
        let def = tables::table(&table)
            .ok_or_else(|| ServerError::Store(format!("master row of unknown table {table}")))?;
        let versions: RowVersions = codec::decode_row(found.get::<_, &[u8]>(3))
            .map_err(|e| ServerError::Store(format!("{table} {id} history: {e}")))?;
        let owner: String = found.get(2);
        rows.insert(
            (table, id),
            MergedRow {
                def,
                versions,
                owner_before: Some(owner).filter(|o| !o.is_empty()),
                changed: false,
            },
        );
    }
    let mut conflicts = Vec::new();
    for op in ops {
        let def =
            tables::table(&op.table).ok_or_else(|| ServerError::UnknownTable(op.table.clone()))?;
        let row = rows
            .entry((op.table.clone(), op.row_id.clone()))
            .or_insert_with(|| MergedRow {
                def,
                versions: RowVersions::default(),
                owner_before: None,
                changed: false,
            });
        if let Applied::New {
            conflicts: found, ..
        } = row.versions.apply(op, def.merge)
        {
            row.changed = true;
            conflicts.extend(found.into_iter().map(|c| (def, op.row_id.clone(), c)));
        }
    }
    let mut out_tables = Vec::new();
    let mut out_ids = Vec::new();
    let mut out_owners = Vec::new();
    let mut out_vals = Vec::new();
    let mut out_versions = Vec::new();
    let mut moves: Vec<(String, String, String, String)> = Vec::new();
    for ((table, id), row) in rows {
        if !row.changed {
            continue;
        }
        let vals = visible_values(row.def, &row.versions);
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
        out_vals.push(serde_json::Value::Object(vals).to_string());
        out_versions.push(codec::encode_row(&row.versions));
        out_tables.push(table);
        out_ids.push(id);
        out_owners.push(owner);
    }
    tx.execute(
        "INSERT INTO master_row (tbl, id, owner, vals, history) \
         SELECT t, i, o, v::jsonb, h FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) AS r(t, i, o, v, h) \
         ON CONFLICT (tbl, id) DO UPDATE SET owner = EXCLUDED.owner, vals = EXCLUDED.vals, history = EXCLUDED.history",
        &[&out_tables, &out_ids, &out_owners, &out_vals, &out_versions],
    )?;
    // Conflict items and scope moves in one statement each: a push of concurrent edits may open
    // hundreds of items, and a statement per item costs a round trip each.
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
    // Issue 10 §5: rows whose owner changed, for the pulls of the sites they left (`n` keeps their
    // order within the record).
    if !moves.is_empty() {
        let m_tables: Vec<&str> = moves.iter().map(|m| m.0.as_str()).collect();
        let m_ids: Vec<&str> = moves.iter().map(|m| m.1.as_str()).collect();
        let m_from: Vec<&str> = moves.iter().map(|m| m.2.as_str()).collect();
        let m_to: Vec<&str> = moves.iter().map(|m| m.3.as_str()).collect();
        tx.execute(
            "INSERT INTO scope_move (seq, tbl, row_id, from_unit, to_unit) \
             SELECT $1, t, i, f, o FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) \
             WITH ORDINALITY AS m(t, i, f, o, k) ORDER BY k",
            &[&(seq as i64), &m_tables, &m_ids, &m_from, &m_to],
        )?;
    }
    Ok(())
}

/// A row's visible values by field, as the SQLite master's columns give them back (every field; one
/// never written is null).
pub(super) fn visible_values(
    def: &TableDef,
    versions: &RowVersions,
) -> serde_json::Map<String, serde_json::Value> {
    def.fields
        .iter()
        .map(|field| {
            let shown = versions.shown_value(field.name, def.merge);
            (
                field.name.to_string(),
                from_sql(field.ty, &column_value(field, shown)),
            )
        })
        .collect()
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
        tx: &mut Transaction<'_>,
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

/// The policy's questions answered from the master rows, inside the push's transaction. The rows and
/// authors a push names are read up front in one query each (a statement per row would cost a round
/// trip per row); anything else is asked on demand.
struct Facts<'t, 'a> {
    tx: RefCell<&'t mut Transaction<'a>>,
    /// (table, id) → the row's visible values as JSON text; a key the push names that the master has
    /// never seen maps to None.
    rows: HashMap<(String, String), Option<String>>,
    /// user id → (role code, org unit), for the push's authors; None for an id the master lacks.
    users: HashMap<String, Option<AuthorFacts>>,
}

impl<'t, 'a> Facts<'t, 'a> {
    fn prefetched(tx: &'t mut Transaction<'a>, ops: &[Operation]) -> Result<Facts<'t, 'a>> {
        let keys = row_keys(ops.iter());
        let mut rows: HashMap<(String, String), Option<String>> = keys
            .iter()
            .map(|(t, i)| ((t.to_string(), i.to_string()), None))
            .collect();
        let key_tables: Vec<&str> = keys.iter().map(|k| k.0).collect();
        let key_ids: Vec<&str> = keys.iter().map(|k| k.1).collect();
        for found in tx.query(
            "SELECT m.tbl, m.id, m.vals::text FROM master_row m \
             JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON m.tbl = k.t AND m.id = k.i",
            &[&key_tables, &key_ids],
        )? {
            rows.insert((found.get(0), found.get(1)), Some(found.get(2)));
        }
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
        if let Some(known) = self.rows.get(&(def.name.to_string(), row_id.to_string())) {
            return Ok(known.clone());
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

impl MasterFacts for Facts<'_, '_> {
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
