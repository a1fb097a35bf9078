//! What sync needs from the store: unacknowledged operations, acknowledgements, received operations,
//! the pull cursor and the status shown in the desktop's status bar.

use super::{acked, merge_sql, meta, oplog_entry, MergeStats, Store};
use crate::error::{CoreError, Result};
use crate::hlc::Hlc;
use crate::model::SyncStatus;
use crate::op::Operation;
use crate::tables;

/// Default seconds between automatic syncs.
pub const DEFAULT_SYNC_INTERVAL_SECS: u32 = 300;

impl Store {
    /// Operations written here and not yet acknowledged, oldest first.
    pub fn unacked_ops(&self, limit: usize) -> Result<Vec<Operation>> {
        self.unacked_ops_after(None, limit)
    }

    /// [`Store::unacked_ops`] after `after` (a batch read ahead while the one before it is in flight).
    pub fn unacked_ops_after(&self, after: Option<u64>, limit: usize) -> Result<Vec<Operation>> {
        acked::unsent_after(&self.conn, after.unwrap_or(0), limit)
    }

    pub fn unacked_count(&self) -> Result<u32> {
        Ok(u32::try_from(acked::unsent_count(&self.conn)?).unwrap_or(u32::MAX))
    }

    /// Every operation this site ever wrote, in order (the site's own log).
    pub fn own_log(&self) -> Result<Vec<Operation>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM oplog ORDER BY site_seq",
            oplog_entry::Format::of(&self.conn)?.columns()
        ))?;
        let rows = stmt.query_map([], |r| oplog_entry::read(r, 0))?;
        rows.map(|op| op?).collect()
    }

    /// Marks operations as stored by the server. Called only after the server acknowledged them.
    pub fn mark_acked(&mut self, acks: &[(u64, u64)]) -> Result<()> {
        // A range of site_seqs, one row for a whole batch (issue 12 §5); the server's numbers are
        // not kept, nothing here reads them.
        let tx = self.conn.transaction()?;
        acked::mark(&tx, acks.iter().map(|(site_seq, _)| *site_seq))?;
        tx.commit()?;
        Ok(())
    }

    /// The master_id of the master this site last pulled from (issue 10 §6).
    pub fn known_master_id(&self) -> Result<Option<String>> {
        meta::get(&self.conn, meta::MASTER_ID)
    }

    /// The highest site_seq the server acknowledged.
    pub fn acked_up_to(&self) -> Result<u64> {
        acked::highest(&self.conn)
    }

    /// Applies what [`crate::resync::resync`] decided, in one transaction: operations after
    /// `resend_after` wait to be sent again, a restarted pull begins at the start, the master_id is
    /// remembered. Returns how many operations wait again.
    pub fn apply_resync(&mut self, decided: &crate::resync::Resync) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let mut resent = 0;
        if let Some(after) = decided.resend_after {
            resent = acked::forget_after(&tx, after)?;
        }
        if decided.restart_pull {
            meta::set(&tx, meta::PULL_CURSOR, "0")?;
        }
        if let Some(id) = &decided.remember {
            meta::set(&tx, meta::MASTER_ID, id)?;
        }
        tx.commit()?;
        Ok(resent)
    }

    pub fn pull_cursor(&self) -> Result<u64> {
        Ok(meta::get_u64(&self.conn, meta::PULL_CURSOR)?.unwrap_or(0))
    }

    /// Merges operations received from the server and moves the pull cursor, in one transaction, so a
    /// client killed mid-pull re-pulls from the old cursor and re-applies idempotently.
    pub fn apply_remote(&mut self, ops: &[Operation], next_cursor: u64) -> Result<MergeStats> {
        self.apply_pull(ops, &[], next_cursor)
    }

    /// [`Store::apply_remote`], and the rows the server says left this site's scope in the same
    /// window are removed in the same transaction (issue 10 §5), after the window's operations.
    pub fn apply_pull(
        &mut self,
        ops: &[Operation],
        left_scope: &[crate::wire::RowRef],
        next_cursor: u64,
    ) -> Result<MergeStats> {
        for op in ops {
            let known = tables::table(&op.table)
                .and_then(|t| t.field(&op.field))
                .is_some_and(|f| f.ty.accepts(&op.value));
            if !known {
                return Err(CoreError::Corrupt(format!(
                    "received an operation for {}.{} this version does not know; upgrade the desktop",
                    op.table, op.field
                )));
            }
        }
        let reinitialising = self.reinitialising()?.is_some();
        let tx = self.conn.transaction()?;
        let stats = merge_sql::merge_ops(&tx, ops)?;
        if reinitialising {
            super::scope_exit::note_seen(&tx, ops)?;
        }
        super::scope_exit::purge_left(&tx, left_scope)?;
        let mut hlc = meta::get_u64(&tx, meta::HLC_LAST)?
            .map(Hlc)
            .unwrap_or(Hlc::ZERO);
        for op in ops {
            hlc = Hlc::observe(hlc, op.hlc);
        }
        meta::set(&tx, meta::HLC_LAST, &hlc.0.to_string())?;
        let cursor = meta::get_u64(&tx, meta::PULL_CURSOR)?.unwrap_or(0);
        meta::set(&tx, meta::PULL_CURSOR, &cursor.max(next_cursor).to_string())?;
        tx.commit()?;
        Ok(stats)
    }

    /// Folds a clock value seen from the server into the HLC so local writes sort after what the site
    /// has seen (never moves it backwards).
    pub fn observe_hlc(&mut self, seen: Hlc) -> Result<()> {
        let hlc = Hlc::observe(self.last_hlc()?, seen);
        meta::set(&self.conn, meta::HLC_LAST, &hlc.0.to_string())
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let mut status: SyncStatus =
            meta::get_json(&self.conn, meta::SYNC_STATUS)?.unwrap_or(SyncStatus {
                interval_secs: DEFAULT_SYNC_INTERVAL_SECS,
                ..SyncStatus::default()
            });
        status.pending_ops = self.unacked_count()?;
        status.held_writes = u32::try_from(self.held_write_count()?).unwrap_or(u32::MAX);
        status.activity = self.sync_activity.borrow().clone();
        Ok(status)
    }

    /// What the running sync is doing, in Chinese (None when no sync runs).
    pub fn set_sync_activity(&self, activity: Option<String>) {
        *self.sync_activity.borrow_mut() = activity;
    }

    pub fn save_sync_status(&mut self, status: &SyncStatus) -> Result<()> {
        meta::set_json(&self.conn, meta::SYNC_STATUS, status)
    }

    pub fn set_sync_interval(&mut self, secs: u32) -> Result<()> {
        if !(10..=86_400).contains(&secs) {
            return Err(CoreError::invalid(
                "interval_secs",
                "sync interval must be between 10 seconds and one day",
                "同步间隔应在10秒到1天之间",
            ));
        }
        let mut status = self.sync_status()?;
        status.interval_secs = secs;
        self.save_sync_status(&status)
    }
}
