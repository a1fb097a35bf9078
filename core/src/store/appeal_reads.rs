//! Issue 11 §6 / W-2: opening a whistle-blower's appeal is logged (`crate::read_log` decides), and the
//! appeal's history shows who read it and when.

use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::model::{AccessEntry, AppealRecord, SessionUser};
use crate::{shanghai, tables};

/// An appeal as opened by a person, with the reads of it on record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct AppealDetail {
    pub appeal: AppealRecord,
    /// Reads of a whistle-blower's appeal, newest first (empty for others).
    pub access_log: Vec<AccessEntry>,
}

impl Store {
    /// Opens an appeal for a person: like [`Store::appeal`], and a read of a whistle-blower's appeal
    /// is logged first, in the appeal's community.
    pub fn read_appeal(&mut self, user: &SessionUser, id: &str) -> Result<AppealDetail> {
        let appeal = self.appeal(user, id)?;
        if crate::read_log::logs_appeal_read(appeal.whistleblower) {
            let def = tables::table("res_access_log")
                .ok_or(CoreError::NotFound("table res_access_log"))?;
            let unit: Option<String> =
                self.conn
                    .query_row("SELECT org_unit_id FROM appeal WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })?;
            let unit = unit.unwrap_or_default();
            let at = shanghai::from_millis(self.corrected_wall_millis()?).to_rfc3339();
            self.write_row(
                &user.user_id,
                def,
                &uuid::Uuid::now_v7().to_string(),
                &unit,
                &[
                    WriteChange::new("org_unit_id", unit.clone()),
                    WriteChange::new("appeal_id", id),
                    WriteChange::new("user_id", user.user_id.clone()),
                    WriteChange::new("user_name", user.display_name.clone()),
                    WriteChange::new("accessed_at", at),
                ],
            )?;
        }
        Ok(AppealDetail {
            access_log: self.appeal_reads(id)?,
            appeal,
        })
    }

    fn appeal_reads(&self, appeal_id: &str) -> Result<Vec<AccessEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT user_name, accessed_at FROM res_access_log WHERE appeal_id = ?1 \
             ORDER BY accessed_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([appeal_id], |r| {
            Ok(AccessEntry {
                user_name: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                accessed_at: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
