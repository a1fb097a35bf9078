//! The store's half of scope changes (issue 10 §5; the rule is `crate::scope_exit`): rows the server
//! says left this site's read scope are removed in the transaction that applies the pull's window, and
//! a re-initialisation notes what the full pull brings back and sweeps away the rest (the deletes
//! themselves live with the merge, in `merge_sql::purge`).

use super::merge_sql::purge;
use super::{meta, Store};
use crate::error::Result;
use crate::op::Operation;
use crate::scope_exit::{on_leaving, Departure};
use crate::tables;
use crate::wire::RowRef;
use rusqlite::{params, Connection};

/// What a re-initialisation took away at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reinitialised {
    pub swept: usize,
}

/// Removes the rows that left the site's scope; returns how many were removed.
pub(super) fn purge_left(conn: &Connection, left: &[RowRef]) -> Result<usize> {
    let mut removed = 0;
    for row in left {
        // A table this version does not know has no rows here.
        let Some(def) = tables::table(&row.table) else {
            continue;
        };
        if on_leaving(def) == Departure::Purge {
            removed += purge::remove_row(conn, def, &row.id)?;
        }
    }
    Ok(removed)
}

/// Notes the rows a re-initialising pull brought back.
pub(super) fn note_seen(conn: &Connection, ops: &[Operation]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO reinit_seen (tbl, row_id) VALUES (?1, ?2)")?;
    for op in ops {
        stmt.execute(params![op.table, op.row_id])?;
    }
    Ok(())
}

impl Store {
    /// The server could not serve this site's cursor incrementally (`reason`, e.g. `scope_changed`):
    /// pull everything again from the start. Unsent operations stay in the log and are sent as ever.
    pub fn begin_reinitialise(&mut self, reason: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM reinit_seen", [])?;
        meta::set(&tx, meta::PULL_CURSOR, "0")?;
        meta::set(&tx, meta::REINITIALISING, reason)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether a re-initialisation is under way (it survives a restart of the app), and why.
    pub fn reinitialising(&self) -> Result<Option<String>> {
        meta::get(&self.conn, meta::REINITIALISING)
    }

    /// Ends a re-initialisation once the full pull is complete: sweeps what it did not bring back.
    pub fn finish_reinitialise(&mut self) -> Result<Option<Reinitialised>> {
        if self.reinitialising()?.is_none() {
            return Ok(None);
        }
        let tx = self.conn.transaction()?;
        let swept = purge::sweep_unseen(&tx, |def| on_leaving(def) == Departure::Purge)?;
        tx.execute("DELETE FROM reinit_seen", [])?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [meta::REINITIALISING])?;
        tx.commit()?;
        Ok(Some(Reinitialised { swept }))
    }
}
