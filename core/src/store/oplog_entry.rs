//! How one operation is kept in the site's log (`oplog`). Since store schema 34, in the audit log's
//! binary codec (`op_bin`, `op_json` left empty); rows written before keep their JSON. Every reader
//! goes through [`read`], which takes either.

use crate::codec;
use crate::error::{CoreError, Result};
use crate::op::Operation;
use rusqlite::{params, Connection};

/// The operation of a row whose columns `first` and `first + 1` are [`Format::columns`].
pub(super) fn read(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Result<Operation>> {
    let json: String = row.get(first)?;
    let bin: Option<Vec<u8>> = row.get(first + 1)?;
    Ok(decode(&json, bin.as_deref()))
}

fn decode(json: &str, bin: Option<&[u8]>) -> Result<Operation> {
    match bin {
        Some(bin) => {
            let mut ops = codec::decode_ops(bin)
                .map_err(|e| CoreError::Corrupt(format!("oplog entry: {e}")))?;
            match (ops.pop(), ops.is_empty()) {
                (Some(op), true) => Ok(op),
                _ => Err(CoreError::Corrupt(
                    "oplog entry: not one operation".to_string(),
                )),
            }
        }
        None => {
            serde_json::from_str(json).map_err(|e| CoreError::Corrupt(format!("oplog entry: {e}")))
        }
    }
}

/// How a store writes its log: binary from schema 34; a store kept at an older schema (the upgrade
/// tests' stores of the previous release) has no `op_bin` and is written as that release wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Binary,
    Json,
}

/// The store schema that added `op_bin` (schema/migrations/0034_oplog_binary.sql).
const BINARY_SINCE: u32 = 34;

impl Format {
    /// The two columns [`read`] takes, as a select list.
    pub(super) fn columns(self) -> &'static str {
        match self {
            Format::Binary => "op_json, op_bin",
            Format::Json => "op_json, NULL",
        }
    }

    pub(super) fn of(conn: &Connection) -> Result<Format> {
        // Asked at every write: a cached statement, not a fresh parse each time.
        let schema: u32 = conn
            .prepare_cached("PRAGMA user_version")?
            .query_row([], |r| r.get(0))?;
        Ok(if schema >= BINARY_SINCE {
            Format::Binary
        } else {
            Format::Json
        })
    }
}

/// Appends `op` to the log, not yet acknowledged (acknowledgements: `store/acked.rs`).
pub(super) fn insert(conn: &Connection, format: Format, op: &Operation) -> Result<()> {
    match format {
        Format::Binary => conn
            .prepare_cached(
                "INSERT INTO oplog (site_seq, hash, tbl, row_id, op_json, op_bin) \
                 VALUES (?1, ?2, ?3, ?4, '', ?5)",
            )?
            .execute(params![
                op.site_seq as i64,
                op.hash,
                op.table,
                op.row_id,
                codec::encode_ops(&[op]),
            ])?,
        Format::Json => conn
            .prepare_cached(
                "INSERT INTO oplog (site_seq, hash, tbl, row_id, op_json) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                op.site_seq as i64,
                op.hash,
                op.table,
                op.row_id,
                serde_json::to_string(op).map_err(|e| CoreError::Corrupt(e.to_string()))?,
            ])?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(value: serde_json::Value) -> Operation {
        crate::codec::tests::op(7, &"0".repeat(64), value, None)
    }

    #[test]
    fn an_entry_reads_back_as_written_binary_or_json_of_an_older_store() {
        for value in [json!("张𪚥"), json!({"k": [1, 2.5]}), json!(null)] {
            let written = op(value);
            let bin = codec::encode_ops(&[&written]);
            assert_eq!(decode("", Some(&bin)).unwrap(), written);
            let json = serde_json::to_string(&written).unwrap();
            assert_eq!(decode(&json, None).unwrap(), written);
            assert!(decode("", Some(&bin)).unwrap().hash_is_valid());
        }
        let two = codec::encode_ops(&[&op(json!(1)), &op(json!(2))]);
        assert!(decode("", Some(&two)).is_err(), "one entry, one operation");
        assert!(decode("", Some(&[3, 0])).is_err(), "no operation");
        assert!(decode("{", None).is_err());
    }
}
