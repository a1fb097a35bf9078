//! Applies operations to the domain tables: the only code that writes them.
//!
//! Operations are grouped per row so each touched row is read once and written once per batch; the
//! row's field history (`_versions`) is the merge state, the plain columns are its projection. The sync
//! server's master uses [`master`]: the same rule, with only the winning clocks in the row and the rest
//! of the history in the server's audit log.

use crate::codec;
use crate::error::{CoreError, Result};
use crate::merge::{Applied, RowVersions};
use crate::op::Operation;
use crate::tables::{self, FieldType, TableDef, DELETED_FIELD};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

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
    let schema = store_schema(conn)?;
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
        merge_row(conn, def, key.1, row_ops, schema, &mut stats)?;
    }
    Ok(stats)
}

fn merge_row(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    ops: &[&Operation],
    schema: u32,
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
                    stats.conflicts += insert_conflict(conn, def, row_id, &conflict)?;
                }
            }
        }
    }
    if changed {
        write_row(conn, def, row_id, &row, schema)?;
        stats.rows_written += 1;
    }
    Ok(())
}

/// The schema (migration) the store is at: which derived columns its tables have.
pub(crate) fn store_schema(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

fn upsert_sql(def: &TableDef, schema: u32) -> String {
    let mut columns: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
    columns.extend(derived_columns(def.name, schema));
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

pub(crate) fn write_row(
    conn: &Connection,
    def: &TableDef,
    row_id: &str,
    row: &RowVersions,
    schema: u32,
) -> Result<()> {
    let mut values: Vec<SqlValue> = Vec::with_capacity(def.fields.len() + 3);
    values.push(SqlValue::Text(row_id.to_string()));
    for field in def.fields {
        let value = row
            .shown_value(field.name, def.merge)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        values.push(to_sql(field.ty, &value, field.name == DELETED_FIELD));
    }
    values.extend(derived_values(def, row, schema));
    values.push(SqlValue::Blob(codec::encode_row(row)));
    conn.prepare_cached(&upsert_sql(def, schema))?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

pub fn to_sql(ty: FieldType, value: &serde_json::Value, is_deleted_flag: bool) -> SqlValue {
    match value {
        serde_json::Value::Null if is_deleted_flag => SqlValue::Integer(0),
        serde_json::Value::Null => SqlValue::Null,
        serde_json::Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => n.as_i64().map(SqlValue::Integer).unwrap_or(SqlValue::Null),
        serde_json::Value::String(s) if ty == FieldType::Text => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

/// The replicated field a table's derived columns (`name_initials`, `name_search`) are computed from, if
/// it has any.
pub fn derived_source(table: &str) -> Option<&'static str> {
    match table {
        "corr_case" | "resident" | "mediation_party" | "volunteer" | "corr_investigation" => {
            Some("name")
        }
        "appeal" => Some("petitioner_name"),
        // W-4: an application is found by the applying department's initials.
        "admission_request" => Some("department"),
        _ => None,
    }
}

/// The derived columns' values for the source field's visible value, in [`derived_columns`] order:
/// the pinyin initials and the folded name (issue 14 §5: 买买提·艾力 is found however its dot is typed).
pub fn derived_value(source: Option<&serde_json::Value>) -> [SqlValue; 2] {
    let name = source.and_then(|v| v.as_str()).unwrap_or("");
    derived_of_name(name)
}

fn derived_of_name(name: &str) -> [SqlValue; 2] {
    [
        SqlValue::Text(crate::search::pinyin_initials(name)),
        SqlValue::Text(crate::search::fold_name(name)),
    ]
}

/// The migration that added `name_search` (issue 14 §5).
pub const NAME_SEARCH_SCHEMA: u32 = 33;

/// Columns computed locally from replicated fields (never replicated themselves), as the tables of a
/// store at `schema` have them (a store still at an older schema, as the previous release left it, has
/// no `name_search` until it is migrated).
pub fn derived_columns(table: &str, schema: u32) -> Vec<&'static str> {
    match table {
        t if derived_source(t).is_some() && schema >= NAME_SEARCH_SCHEMA => {
            vec!["name_initials", "name_search"]
        }
        t if derived_source(t).is_some() => vec!["name_initials"],
        _ => vec![],
    }
}

fn derived_values(def: &TableDef, row: &RowVersions, schema: u32) -> Vec<SqlValue> {
    match derived_source(def.name) {
        Some(field) => {
            let mut values: Vec<SqlValue> = derived_value(row.shown_value(field, def.merge)).into();
            values.truncate(derived_columns(def.name, schema).len());
            values
        }
        None => vec![],
    }
}

/// Recomputes the derived columns of every row a site wrote (a migration that changes how they are
/// derived calls this; issue 14 §5 added `name_search`). The master's rows, which keep no derived
/// columns (`name_initials` NULL), are left alone.
pub(crate) fn refill_derived(conn: &Connection) -> Result<usize> {
    let mut written = 0;
    for def in tables::TABLES {
        let Some(source) = derived_source(def.name) else {
            continue;
        };
        let rows: Vec<(String, Option<String>)> = conn
            .prepare(&format!(
                "SELECT id, {source} FROM {} WHERE name_initials IS NOT NULL",
                def.name
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut update = conn.prepare(&format!(
            "UPDATE {} SET name_initials = ?2, name_search = ?3 WHERE id = ?1",
            def.name
        ))?;
        for (id, name) in rows {
            let [initials, search] = derived_of_name(name.as_deref().unwrap_or(""));
            written += update.execute(params![id, initials, search])?;
        }
    }
    Ok(written)
}

/// Reads a row's field history (None when the row does not exist here). On the server's master, which
/// keeps only each field's winning clock (codec format 2), the history holds one version per written
/// field: its clock and site, its value from the row's column, no user and no base.
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
    let corrupt =
        |e: codec::DecodeError| CoreError::Corrupt(format!("{} {row_id} history: {e}", table.name));
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    if !codec::is_winners(&bytes) {
        return codec::decode_row(&bytes).map(Some).map_err(corrupt);
    }
    let winners = codec::decode_winners(&bytes).map_err(corrupt)?;
    let columns: Vec<&str> = table.fields.iter().map(|f| f.name).collect();
    let values: Vec<SqlValue> = conn
        .prepare_cached(&format!(
            "SELECT {} FROM {} WHERE id = ?1",
            columns.join(", "),
            table.name
        ))?
        .query_row([row_id], |r| {
            (0..columns.len())
                .map(|i| r.get::<_, SqlValue>(i))
                .collect()
        })?;
    let mut row = RowVersions::default();
    for (field, hlc, site) in winners {
        let (Some(def), Some(value)) = (table.fields.get(field), values.get(field)) else {
            return Err(CoreError::Corrupt(format!(
                "{} {row_id}: winner of field {field} not in the table",
                table.name
            )));
        };
        row.fields.insert(
            def.name.to_string(),
            vec![crate::merge::FieldVersion(
                hlc,
                site,
                String::new(),
                None,
                from_sql(def.ty, value),
            )],
        );
    }
    Ok(Some(row))
}

/// The JSON value of a column (the inverse of [`to_sql`] for values the field's type accepts).
pub fn from_sql(ty: FieldType, value: &SqlValue) -> serde_json::Value {
    match (ty, value) {
        (_, SqlValue::Null) => serde_json::Value::Null,
        (FieldType::Bool, SqlValue::Integer(n)) => serde_json::Value::Bool(*n != 0),
        (_, SqlValue::Integer(n)) => serde_json::Value::from(*n),
        (_, SqlValue::Real(f)) => serde_json::Value::from(*f),
        (_, SqlValue::Text(t)) => serde_json::Value::String(t.clone()),
        (_, SqlValue::Blob(_)) => serde_json::Value::Null,
    }
}

/// Records a conflict item (deterministic id: the same pair is recorded once); returns 1 when new.
pub fn insert_conflict(
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

/// A conflict item as the master recorded it (a snapshot's rows come with theirs, issue 12 §6).
pub(crate) fn insert_recorded_conflict(
    conn: &Connection,
    c: &crate::wire::SnapshotConflict,
) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO conflict (id, tbl, row_id, field, newer_json, older_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            c.id,
            c.table,
            c.row_id,
            c.field,
            c.newer_json,
            c.older_json
        ])?)
}

/// The column value of a field's visible value (`None`: never written).
pub fn column_value(
    field: &crate::tables::FieldDef,
    value: Option<&serde_json::Value>,
) -> SqlValue {
    to_sql(
        field.ty,
        value.unwrap_or(&serde_json::Value::Null),
        field.name == DELETED_FIELD,
    )
}

pub mod master;
pub(super) mod purge;
