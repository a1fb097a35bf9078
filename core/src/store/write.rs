//! The single local write path: every domain write becomes one logged operation per changed field,
//! appended to this site's hash-chained log and merged into the domain tables in ONE transaction.

use super::{merge_sql, meta, Store};
use crate::error::{CoreError, Result};
use crate::hlc::Hlc;
use crate::merge::{base_of, RowVersions};
use crate::op::{Operation, GENESIS_HASH, SCHEMA_VERSION};
use crate::tables::{MergeKind, TableDef, DELETED_FIELD, ROW_ID_SCOPE};

/// One field a command wants to set.
#[derive(Debug, Clone)]
pub struct FieldChange {
    pub field: &'static str,
    pub value: serde_json::Value,
}

impl FieldChange {
    pub fn new(field: &'static str, value: impl Into<serde_json::Value>) -> FieldChange {
        FieldChange {
            field,
            value: value.into(),
        }
    }
}

impl Store {
    /// Writes `changes` to one row. Unchanged fields produce no operation. Returns the operations logged.
    pub fn write_row(
        &mut self,
        user_id: &str,
        table: &'static TableDef,
        row_id: &str,
        scope: &str,
        changes: &[FieldChange],
    ) -> Result<Vec<Operation>> {
        self.write_row_logged(user_id, table, row_id, scope, changes, false)
    }

    /// L-6 handover: logs EVERY field of a row with its current value (or the override given, e.g. the
    /// new `org_unit_id`) as operations in `scope`, so the sites of that scope receive the whole row, not
    /// only what changes from now on. Unchanged values become new versions with the same value (their
    /// base is the current winner, so they never conflict). An append-only row may change its scope
    /// field this way (moving a record is not editing it), nothing else.
    pub(super) fn republish_row(
        &mut self,
        user_id: &str,
        table: &'static TableDef,
        row_id: &str,
        scope: &str,
        overrides: &[FieldChange],
    ) -> Result<Vec<Operation>> {
        let row = merge_sql::load_versions(&self.conn, table, row_id)?.unwrap_or_default();
        let changes: Vec<FieldChange> = table
            .fields
            .iter()
            .filter_map(|f| {
                let value = overrides
                    .iter()
                    .find(|o| o.field == f.name)
                    .map(|o| o.value.clone())
                    .or_else(|| row.shown_value(f.name, table.merge).cloned())?;
                Some(FieldChange {
                    field: f.name,
                    value,
                })
            })
            .collect();
        self.write_row_logged(user_id, table, row_id, scope, &changes, true)
    }

    fn write_row_logged(
        &mut self,
        user_id: &str,
        table: &'static TableDef,
        row_id: &str,
        scope: &str,
        changes: &[FieldChange],
        republish: bool,
    ) -> Result<Vec<Operation>> {
        let site_id = self.require_identity()?.site_id;
        let wall = self.corrected_wall_millis()?;
        let tx = self.conn.transaction()?;
        let format = super::oplog_entry::Format::of(&tx)?;
        let row = merge_sql::load_versions(&tx, table, row_id)?.unwrap_or_default();
        if table.merge == MergeKind::AppendOnly && !row.is_empty() {
            let edited = changes.iter().find(|c| {
                c.field != DELETED_FIELD
                    && !(republish && c.field == table.scope_field)
                    && row.shown_value(c.field, table.merge) != Some(&c.value)
            });
            if edited.is_some() {
                return Err(CoreError::AppendOnly(table.name));
            }
        }
        // ARCHITECTURE.md "A row's owner is fixed at creation": a new row's first operation names its
        // org unit, so the server knows the owner of every row it receives (and a batch cut after
        // that operation still carries it).
        let changes: Vec<&FieldChange> = if row.is_empty() && table.scope_field != ROW_ID_SCOPE {
            let Some(owner) = changes.iter().find(|c| c.field == table.scope_field) else {
                return Err(CoreError::Corrupt(format!(
                    "a new {} row must name its org unit ({})",
                    table.name, table.scope_field
                )));
            };
            std::iter::once(owner)
                .chain(changes.iter().filter(|c| c.field != table.scope_field))
                .collect()
        } else {
            changes.iter().collect()
        };
        let mut hlc = meta::get_u64(&tx, meta::HLC_LAST)?
            .map(Hlc)
            .unwrap_or(Hlc::ZERO);
        let mut seq = meta::get_u64(&tx, meta::SEQ_LAST)?.unwrap_or(0);
        let mut prev_hash =
            meta::get(&tx, meta::HASH_LAST)?.unwrap_or_else(|| GENESIS_HASH.to_string());
        let mut ops = Vec::new();
        crate::validate::check_user_id(user_id)
            .map_err(|r| CoreError::invalid("user_id", r.en, r.zh))?;
        for change in changes {
            let Some(field) = table.field(change.field) else {
                return Err(CoreError::Corrupt(format!(
                    "write to unknown field {}.{}",
                    table.name, change.field
                )));
            };
            let same = unchanged(&row, table.merge, change);
            if !republish && same {
                continue;
            }
            // The same checks the server applies to every operation a site sends (issue 9), on what
            // changes: a value already in the store (an older release's) never blocks a save or an
            // L-6 handover that only carries it along.
            if !same {
                crate::validate::check_value(table, field, &change.value)
                    .map_err(|r| CoreError::invalid(change.field, r.en, r.zh))?;
            }
            hlc = Hlc::tick(hlc, wall);
            seq += 1;
            let mut op = Operation {
                site_id: site_id.clone(),
                site_seq: seq,
                prev_hash: prev_hash.clone(),
                hash: String::new(),
                table: table.name.to_string(),
                row_id: row_id.to_string(),
                field: change.field.to_string(),
                value: change.value.clone(),
                hlc,
                base: base_of(&row, change.field),
                user_id: user_id.to_string(),
                schema_version: SCHEMA_VERSION,
                scope: scope.to_string(),
                server_seq: None,
            };
            op.hash = op.compute_hash();
            prev_hash = op.hash.clone();
            super::oplog_entry::insert(&tx, format, &op)?;
            ops.push(op);
        }
        if ops.is_empty() {
            return Ok(ops);
        }
        merge_sql::merge_ops(&tx, &ops)?;
        meta::set(&tx, meta::HLC_LAST, &hlc.0.to_string())?;
        meta::set(&tx, meta::SEQ_LAST, &seq.to_string())?;
        meta::set(&tx, meta::HASH_LAST, &prev_hash)?;
        tx.commit()?;
        Ok(ops)
    }
}

fn unchanged(row: &RowVersions, kind: crate::tables::MergeKind, change: &FieldChange) -> bool {
    match row.shown_value(change.field, kind) {
        Some(current) => current == &change.value,
        // A field that never had a value reads as null, and a flag that never had one as false (the
        // store reads flags with COALESCE(…, 0)): writing those would log operations that change nothing.
        None => change.value.is_null() || change.value == serde_json::Value::Bool(false),
    }
}
