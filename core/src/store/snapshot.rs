//! The store half of a new site's snapshot (issue 12 §6; the rules are in `crate::snapshot`): a page's
//! rows, their conflict items and the progress in one transaction, so a snapshot interrupted at any
//! point goes on from the last page taken.

use super::{merge_sql, meta, Store};
use crate::error::{CoreError, Result};
use crate::hlc::Hlc;
use crate::snapshot::{self, AfterPage, PageRefused, SnapshotProgress};
use crate::tables;
use crate::wire::SnapshotPage;

/// Where an unfinished snapshot stands (JSON of [`SnapshotProgress`]).
const SNAPSHOT_PROGRESS: &str = "snapshot_progress";

impl Store {
    /// The snapshot under way, if one is.
    pub fn snapshot_progress(&self) -> Result<Option<SnapshotProgress>> {
        meta::get(&self.conn, SNAPSHOT_PROGRESS)?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| CoreError::Corrupt(format!("snapshot progress: {e}")))
            })
            .transpose()
    }

    /// Whether the next sync starts from a snapshot instead of pulling the log from the start.
    pub fn wants_snapshot(&self) -> Result<bool> {
        Ok(snapshot::wants_snapshot(
            self.pull_cursor()?,
            self.known_master_id()?.as_deref(),
            self.snapshot_progress()?.is_some(),
        ))
    }

    /// Forgets a snapshot under way (the server started another: the next one starts again; the rows
    /// taken stay and merge with the new one's).
    pub fn drop_snapshot_progress(&mut self) -> Result<()> {
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [SNAPSHOT_PROGRESS])?;
        Ok(())
    }

    /// Takes one page; returns whether the snapshot is complete (the pull cursor is then its `as_of`).
    pub fn apply_snapshot_page(&mut self, page: &SnapshotPage) -> Result<bool> {
        let progress = self.snapshot_progress()?;
        let after = match snapshot::take_page(progress.as_ref(), page) {
            Ok(after) => after,
            Err(PageRefused::OtherSnapshot) => {
                return Err(CoreError::Corrupt(
                    "the server answered a page of another snapshot".to_string(),
                ))
            }
            Err(PageRefused::Unknown(what)) => {
                return Err(CoreError::Corrupt(format!(
                    "received {what}, which this version does not know; upgrade the desktop"
                )))
            }
        };
        let tx = self.conn.transaction()?;
        let schema = merge_sql::store_schema(&tx)?;
        for row in &page.rows {
            let def = tables::table(&row.table)
                .ok_or_else(|| CoreError::Corrupt(format!("table {}", row.table)))?;
            let local = merge_sql::load_versions(&tx, def, &row.id)?;
            let joined = snapshot::joined(local, &row.history);
            merge_sql::write_row(&tx, def, &row.id, &joined, schema)?;
        }
        for c in &page.conflicts {
            merge_sql::insert_recorded_conflict(&tx, c)?;
        }
        let hlc = meta::get_u64(&tx, meta::HLC_LAST)?
            .map(Hlc)
            .unwrap_or(Hlc::ZERO);
        let hlc = Hlc::observe(hlc, snapshot::latest_clock(page));
        meta::set(&tx, meta::HLC_LAST, &hlc.0.to_string())?;
        let done = match after {
            AfterPage::Continue(progress) => {
                let text = serde_json::to_string(&progress)
                    .map_err(|e| CoreError::Corrupt(format!("snapshot progress: {e}")))?;
                meta::set(&tx, SNAPSHOT_PROGRESS, &text)?;
                false
            }
            AfterPage::Done { as_of, master_id } => {
                let cursor = meta::get_u64(&tx, meta::PULL_CURSOR)?.unwrap_or(0);
                meta::set(&tx, meta::PULL_CURSOR, &cursor.max(as_of).to_string())?;
                meta::set(&tx, meta::MASTER_ID, &master_id)?;
                tx.execute("DELETE FROM meta WHERE key = ?1", [SNAPSHOT_PROGRESS])?;
                true
            }
        };
        tx.commit()?;
        Ok(done)
    }
}
