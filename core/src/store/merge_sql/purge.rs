//! Removing replicated rows from a site's replica (issue 10 §5): the only deletes of domain tables, and
//! only of rows that left the site's read scope; the master keeps every version of them. Which rows,
//! and which tables are kept as records, is decided by `crate::scope_exit`.

use crate::error::Result;
use crate::tables::{self, TableDef};
use rusqlite::{params, Connection};

/// Removes one row and its open conflict items; returns how many rows were removed (0 or 1).
pub(in crate::store) fn remove_row(conn: &Connection, def: &TableDef, id: &str) -> Result<usize> {
    let removed = conn
        .prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", def.name))?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM conflict WHERE tbl = ?1 AND row_id = ?2")?
        .execute(params![def.name, id])?;
    Ok(removed)
}

/// Removes, from every table `swept` accepts, the rows a re-initialising pull did not bring back
/// (`reinit_seen`) and this site never wrote (its own log); returns how many.
pub(in crate::store) fn sweep_unseen(
    conn: &Connection,
    swept: impl Fn(&TableDef) -> bool,
) -> Result<usize> {
    let mut removed = 0;
    for def in tables::TABLES.iter().filter(|d| swept(d)) {
        removed += conn.execute(
            &format!(
                "DELETE FROM {t} WHERE id NOT IN (SELECT row_id FROM reinit_seen WHERE tbl = ?1) \
                 AND id NOT IN (SELECT row_id FROM oplog WHERE tbl = ?1)",
                t = def.name
            ),
            [def.name],
        )?;
        conn.execute(
            &format!(
                "DELETE FROM conflict WHERE tbl = ?1 AND row_id NOT IN (SELECT id FROM {})",
                def.name
            ),
            [def.name],
        )?;
    }
    Ok(removed)
}
