//! What the server held of this site's writes (issue 9): the replicated `sync_quarantine` rows the
//! server writes, read for the record's notice ("未被区里接受：…"), the status bar's count, and the
//! district's review screen. Written only by the server; nothing here writes.

use super::Store;
use crate::error::{CoreError, Result};
use crate::model::{QuarantinedWrite, SessionUser};
use rusqlite::params;

const COLUMNS: &str = "id, site_id, site_seq, tbl, target_id, field, value_preview, code, reason, \
     reason_zh, received_at, status, decided_by, decided_at, decision_note";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QuarantinedWrite> {
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
    };
    Ok(QuarantinedWrite {
        id: text(0)?,
        site_id: text(1)?,
        site_seq: r.get::<_, Option<i64>>(2)?.unwrap_or(0).max(0) as u32,
        table: text(3)?,
        row_id: text(4)?,
        field: text(5)?,
        value_preview: text(6)?,
        code: text(7)?,
        reason: text(8)?,
        reason_zh: text(9)?,
        received_at: text(10)?,
        status: text(11)?,
        decided_by: text(12)?,
        decided_at: text(13)?,
        decision_note: text(14)?,
        site_name: String::new(),
    })
}

impl Store {
    /// This site's writes the server holds and the district has not decided yet (the status bar).
    pub fn held_write_count(&self) -> Result<u64> {
        let site = self.identity()?.map(|i| i.site_id).unwrap_or_default();
        let count: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM sync_quarantine WHERE site_id = ?1 AND status = 'held' \
             AND COALESCE(_deleted, 0) = 0",
            [site],
            |r| r.get(0),
        )?;
        Ok(count.max(0) as u64)
    }

    /// Held or decided writes of one record (the record's notice), newest first.
    pub fn quarantined_writes_of(
        &self,
        table: &str,
        row_id: &str,
    ) -> Result<Vec<QuarantinedWrite>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sync_quarantine WHERE tbl = ?1 AND target_id = ?2 \
             AND COALESCE(_deleted, 0) = 0 ORDER BY received_at DESC, site_seq DESC"
        ))?;
        let rows = stmt.query_map(params![table, row_id], row)?;
        self.named(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every quarantine item this site holds (the district: all of its sites'), held ones first, for
    /// the review screen. Readable by whoever may review conflicts (D-3).
    pub fn quarantined_writes(&self, user: &SessionUser) -> Result<Vec<QuarantinedWrite>> {
        if !crate::permissions::may(
            user.role,
            crate::permissions::Area::QuarantineDecisions,
            crate::permissions::Access::Read,
        ) {
            return Err(CoreError::Forbidden(
                "only the district and office heads review quarantined operations",
            ));
        }
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sync_quarantine WHERE COALESCE(_deleted, 0) = 0 \
             ORDER BY status <> 'held', received_at DESC, site_id, site_seq DESC"
        ))?;
        let rows = stmt.query_map([], row)?;
        self.named(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn named(&self, mut items: Vec<QuarantinedWrite>) -> Result<Vec<QuarantinedWrite>> {
        for item in &mut items {
            item.site_name = self.site_name(&item.site_id)?.unwrap_or_default();
        }
        Ok(items)
    }
}
