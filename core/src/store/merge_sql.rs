//! Applies operations to the domain tables: the only code that writes them.
//!
//! Operations are grouped per row so each touched row is read once and written once per batch; the
//! row's field history (`_versions`) is the merge state, the plain columns are its projection.

use crate::codec;
use crate::error::{CoreError, Result};
use crate::merge::{Applied, RowVersions};
use crate::op::Operation;
use crate::tables::{self, FieldType, TableDef, DELETED_FIELD};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeStats {
    pub applied: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    pub rows_written: usize,
}

/// Merges `ops` into the domain tables of `conn` (inside the caller's transaction).
pub fn merge_ops(conn: &Connection, ops: &[Operation]) -> Result<MergeStats> {
    let refs: Vec<&Operation> = ops.iter().collect();
    merge_op_refs(conn, &refs)
}

/// [`merge_ops`] over borrowed operations (the server merges without copying a batch).
pub fn merge_op_refs(conn: &Connection, ops: &[&Operation]) -> Result<MergeStats> {
    let mut stats = MergeStats::default();
    // Group per row, keeping first-seen order of rows for deterministic writes.
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut groups: HashMap<(&str, &str), Vec<&Operation>> = HashMap::new();
    for op in ops.iter().copied() {
        let key = (op.table.as_str(), op.row_id.as_str());
        groups
            .entry(key)
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(op);
    }
    for key in order {
        let Some(row_ops) = groups.get(&key) else {
            continue;
        };
        let def = tables::table(key.0)
            .ok_or_else(|| CoreError::Corrupt(format!("operation for unknown table {}", key.0)))?;
        merge_row(conn, def, key.1, row_ops, &mut stats)?;
    }
    Ok(stats)
}

fn merge_row(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    ops: &[&Operation],
    stats: &mut MergeStats,
) -> Result<()> {
    let mut row = load_versions(conn, def, row_id)?.unwrap_or_default();
    let mut changed = false;
    for op in ops {
        if def.field(&op.field).is_none() {
            return Err(CoreError::Corrupt(format!(
                "operation for unknown field {}.{}",
                def.name, op.field
            )));
        }
        match row.apply(op, def.merge) {
            Applied::Duplicate => stats.duplicates += 1,
            Applied::New { conflicts, .. } => {
                stats.applied += 1;
                changed = true;
                for conflict in conflicts {
                    let id = conflict.id(def.name, row_id);
                    let inserted = conn
                        .prepare_cached(
                            "INSERT OR IGNORE INTO conflict (id, tbl, row_id, field, newer_json, older_json) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )?
                        .execute(params![
                            id,
                            def.name,
                            row_id,
                            conflict.field,
                            serde_json::to_string(&conflict.newer).unwrap_or_default(),
                            serde_json::to_string(&conflict.older).unwrap_or_default(),
                        ])?;
                    stats.conflicts += inserted;
                }
            }
        }
    }
    if changed {
        write_row(conn, def, row_id, &row)?;
        stats.rows_written += 1;
    }
    Ok(())
}

fn upsert_sql(def: &TableDef) -> String {
    let mut columns: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
    columns.extend(derived_columns(def.name));
    let placeholders: Vec<String> = (0..columns.len() + 2)
        .map(|i| format!("?{}", i + 1))
        .collect();
    let updates: Vec<String> = columns
        .iter()
        .chain(std::iter::once(&"_versions"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {} (id, {}, _versions) VALUES ({}) ON CONFLICT(id) DO UPDATE SET {}",
        def.name,
        columns.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    )
}

fn write_row(conn: &Connection, def: &TableDef, row_id: &str, row: &RowVersions) -> Result<()> {
    let mut values: Vec<SqlValue> = Vec::with_capacity(def.fields.len() + 3);
    values.push(SqlValue::Text(row_id.to_string()));
    for field in def.fields {
        let value = row
            .value(field.name)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        values.push(to_sql(field.ty, &value, field.name == DELETED_FIELD));
    }
    values.extend(derived_values(def.name, row));
    values.push(SqlValue::Blob(codec::encode_row(row)));
    conn.prepare_cached(&upsert_sql(def))?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

fn to_sql(ty: FieldType, value: &serde_json::Value, is_deleted_flag: bool) -> SqlValue {
    match value {
        serde_json::Value::Null if is_deleted_flag => SqlValue::Integer(0),
        serde_json::Value::Null => SqlValue::Null,
        serde_json::Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => n.as_i64().map(SqlValue::Integer).unwrap_or(SqlValue::Null),
        serde_json::Value::String(s) if ty == FieldType::Text => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

/// Columns computed locally from replicated fields (never replicated themselves).
fn derived_columns(table: &str) -> Vec<&'static str> {
    match table {
        "corr_case" | "resident" | "appeal" | "mediation_party" | "volunteer"
        | "admission_request" | "corr_investigation" => vec!["name_initials"],
        _ => vec![],
    }
}

fn derived_values(table: &str, row: &RowVersions) -> Vec<SqlValue> {
    match table {
        "corr_case" | "resident" | "appeal" | "mediation_party" | "volunteer"
        | "admission_request" | "corr_investigation" => {
            let field = match table {
                "appeal" => "petitioner_name",
                // W-4: an application is found by the applying department's initials.
                "admission_request" => "department",
                _ => "name",
            };
            let name = row.value(field).and_then(|v| v.as_str()).unwrap_or("");
            vec![SqlValue::Text(crate::search::pinyin_initials(name))]
        }
        _ => vec![],
    }
}

/// Reads a row's field history (None when the row does not exist here).
pub fn load_versions(
    conn: &Connection,
    table: &TableDef,
    row_id: &str,
) -> Result<Option<RowVersions>> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached(&format!(
            "SELECT _versions FROM {} WHERE id = ?1",
            table.name
        ))?
        .query_row([row_id], |r| r.get(0))
        .optional()?;
    bytes
        .map(|b| {
            codec::decode_row(&b)
                .map_err(|e| CoreError::Corrupt(format!("{} {row_id} history: {e}", table.name)))
        })
        .transpose()
}

/// The field histories of rows recently merged by one long-lived writer (the sync server's master), so a
/// batch that touches a row again neither reads nor decodes its history. The cache mirrors committed
/// state only: the owner clears it when a transaction does not commit and when another connection
/// (or a write outside [`merge_op_refs_cached`]) may have changed the rows.
#[derive(Debug, Default)]
pub struct RowCache {
    rows: FxHashMap<(&'static str, String), RowVersions>,
    /// UPDATE statements by (table, changed columns bitmask).
    updates: HashMap<(&'static str, u64), String>,
    /// INSERT statements by table.
    inserts: HashMap<&'static str, String>,
    capacity: usize,
}

impl RowCache {
    /// A cache holding at most `capacity` rows (it is emptied when full: simple and bounded).
    pub fn new(capacity: usize) -> RowCache {
        RowCache {
            capacity,
            ..RowCache::default()
        }
    }

    pub fn clear(&mut self) {
        self.rows.clear();
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// [`merge_op_refs`] for a single writer that keeps a [`RowCache`]: the same merge rule
/// ([`RowVersions::apply`]), but a cached row is not read back, a new row is one INSERT and an existing
/// row is one UPDATE of only the columns whose visible value changed (plus its history), so unchanged
/// indexed columns are not touched.
pub fn merge_op_refs_cached(
    conn: &Connection,
    ops: &[&Operation],
    cache: &mut RowCache,
) -> Result<MergeStats> {
    let mut stats = MergeStats::default();
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut groups: FxHashMap<(&str, &str), Vec<&Operation>> = FxHashMap::default();
    for op in ops.iter().copied() {
        let key = (op.table.as_str(), op.row_id.as_str());
        groups
            .entry(key)
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(op);
    }
    if cache.rows.len() + order.len() > cache.capacity {
        cache.rows.clear();
    }
    for key in order {
        let Some(row_ops) = groups.get(&key) else {
            continue;
        };
        let def = tables::table(key.0)
            .ok_or_else(|| CoreError::Corrupt(format!("operation for unknown table {}", key.0)))?;
        let cache_key = (def.name, key.1.to_string());
        let row = match cache.rows.remove(&cache_key) {
            Some(mut row) => {
                let outcome = apply_all(def, &mut row, row_ops)?;
                write_outcome(conn, def, key.1, &outcome, &mut stats)?;
                if outcome.history_changed {
                    update_row(conn, def, key.1, &row, outcome.changed, &mut cache.updates)?;
                }
                row
            }
            None => {
                // Not cached: most such rows are new, so try the INSERT first and read the stored
                // history only when the row turns out to exist.
                let mut row = RowVersions::default();
                let outcome = apply_all(def, &mut row, row_ops)?;
                if insert_row(conn, def, key.1, &row, &mut cache.inserts)? {
                    write_outcome(conn, def, key.1, &outcome, &mut stats)?;
                    row
                } else {
                    let mut row = load_versions(conn, def, key.1)?.unwrap_or_default();
                    let outcome = apply_all(def, &mut row, row_ops)?;
                    write_outcome(conn, def, key.1, &outcome, &mut stats)?;
                    if outcome.history_changed {
                        update_row(conn, def, key.1, &row, outcome.changed, &mut cache.updates)?;
                    }
                    row
                }
            }
        };
        cache.rows.insert(cache_key, row);
    }
    Ok(stats)
}

/// A column's bit in a changed-columns mask; columns past the 64th share every bit (updated whenever
/// anything changed, which is correct, merely less selective).
fn column_bit(index: usize) -> u64 {
    if index < 64 {
        1 << index
    } else {
        u64::MAX
    }
}

/// What applying a row's operations did, before anything is written.
struct Outcome {
    /// Columns whose visible value changed.
    changed: u64,
    history_changed: bool,
    applied: usize,
    duplicates: usize,
    conflicts: Vec<crate::merge::Conflict>,
}

fn apply_all(def: &TableDef, row: &mut RowVersions, ops: &[&Operation]) -> Result<Outcome> {
    let mut outcome = Outcome {
        changed: 0,
        history_changed: false,
        applied: 0,
        duplicates: 0,
        conflicts: Vec::new(),
    };
    for op in ops {
        let Some(index) = def.fields.iter().position(|f| f.name == op.field) else {
            return Err(CoreError::Corrupt(format!(
                "operation for unknown field {}.{}",
                def.name, op.field
            )));
        };
        match row.apply(op, def.merge) {
            Applied::Duplicate => outcome.duplicates += 1,
            Applied::New {
                winner_changed,
                conflicts,
            } => {
                outcome.applied += 1;
                outcome.history_changed = true;
                if winner_changed {
                    outcome.changed |= column_bit(index);
                }
                outcome.conflicts.extend(conflicts);
            }
        }
    }
    Ok(outcome)
}

/// Records an applied row's conflict items and counts (the row itself is written by the caller).
fn write_outcome(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    outcome: &Outcome,
    stats: &mut MergeStats,
) -> Result<()> {
    stats.applied += outcome.applied;
    stats.duplicates += outcome.duplicates;
    if outcome.history_changed {
        stats.rows_written += 1;
    }
    for conflict in &outcome.conflicts {
        stats.conflicts += insert_conflict(conn, def, row_id, conflict)?;
    }
    Ok(())
}

fn insert_conflict(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    conflict: &crate::merge::Conflict,
) -> Result<usize> {
    let id = conflict.id(def.name, row_id);
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO conflict (id, tbl, row_id, field, newer_json, older_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            id,
            def.name,
            row_id,
            conflict.field,
            serde_json::to_string(&conflict.newer).unwrap_or_default(),
            serde_json::to_string(&conflict.older).unwrap_or_default(),
        ])?)
}

fn insert_sql(def: &TableDef) -> String {
    let mut columns: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
    columns.extend(derived_columns(def.name));
    let placeholders: Vec<String> = (0..columns.len() + 2)
        .map(|i| format!("?{}", i + 1))
        .collect();
    format!(
        "INSERT INTO {} (id, {}, _versions) VALUES ({}) ON CONFLICT (id) DO NOTHING",
        def.name,
        columns.join(", "),
        placeholders.join(", ")
    )
}

/// Inserts a new row; false (and nothing written) when a row with this id exists already.
fn insert_row(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    row: &RowVersions,
    statements: &mut HashMap<&'static str, String>,
) -> Result<bool> {
    let sql = statements
        .entry(def.name)
        .or_insert_with(|| insert_sql(def));
    let mut values: Vec<SqlValue> = Vec::with_capacity(def.fields.len() + 3);
    values.push(SqlValue::Text(row_id.to_string()));
    for field in def.fields {
        values.push(column_value(field, row));
    }
    values.extend(derived_values(def.name, row));
    values.push(SqlValue::Blob(codec::encode_row(row)));
    let inserted = conn
        .prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(inserted == 1)
}

fn column_value(field: &crate::tables::FieldDef, row: &RowVersions) -> SqlValue {
    match row.value(field.name) {
        Some(value) => to_sql(field.ty, value, field.name == DELETED_FIELD),
        None => to_sql(
            field.ty,
            &serde_json::Value::Null,
            field.name == DELETED_FIELD,
        ),
    }
}

fn update_row(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    row: &RowVersions,
    changed_mask: u64,
    statements: &mut HashMap<(&'static str, u64), String>,
) -> Result<()> {
    let derived = derived_columns(def.name);
    let derived_source = if def.name == "appeal" {
        "petitioner_name"
    } else {
        "name"
    };
    let derived_changed = !derived.is_empty()
        && def
            .fields
            .iter()
            .position(|f| f.name == derived_source)
            .is_some_and(|i| changed_mask & column_bit(i) != 0);
    let sql = statements
        .entry((def.name, changed_mask))
        .or_insert_with(|| {
            let mut sql = format!("UPDATE {} SET _versions = ?1", def.name);
            let mut n = 2;
            for (i, field) in def.fields.iter().enumerate() {
                if changed_mask & column_bit(i) != 0 {
                    let _ = write!(sql, ", {} = ?{n}", field.name);
                    n += 1;
                }
            }
            if derived_changed {
                for column in &derived {
                    let _ = write!(sql, ", {column} = ?{n}");
                    n += 1;
                }
            }
            let _ = write!(sql, " WHERE id = ?{n}");
            sql
        });
    let mut values: Vec<SqlValue> = Vec::with_capacity(8);
    values.push(SqlValue::Blob(codec::encode_row(row)));
    for (i, field) in def.fields.iter().enumerate() {
        if changed_mask & column_bit(i) != 0 {
            values.push(column_value(field, row));
        }
    }
    if derived_changed {
        values.extend(derived_values(def.name, row));
    }
    values.push(SqlValue::Text(row_id.to_string()));
    conn.prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}
