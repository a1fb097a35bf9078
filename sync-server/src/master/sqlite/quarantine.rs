//! The quarantine review (issue 9): every held operation becomes a replicated `sync_quarantine` row
//! (the sending site marks its record, the district sees the list), and the district releases (merges)
//! or rejects each one; the decision is written to the same row and syncs back.

use super::{append_to_log, log_head, write_log, LogRecords, SqliteMaster, ADMIN_ACTOR};
use crate::error::{Result, ServerError};
use crate::master::review::{self, Held};
use crate::master::{QuarantineItem, SiteAuth};
use jiceng_core::store::merge_sql::master as merge;
use jiceng_core::tables;
use jiceng_core::wire::QuarantineDecision;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

impl SqliteMaster {
    fn held(&self, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Held>> {
        let sql = format!(
            "SELECT site_id, site_seq, received_at_ms, code, reason, reason_zh, status, decided_by, \
             decided_at_ms, decision_note, op FROM quarantine WHERE {filter} ORDER BY received_at_ms, site_id, site_seq"
        );
        let mut stmt = self.store.connection().prepare_cached(&sql)?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<i64>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Vec<u8>>(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (site_id, seq, at, code, reason, reason_zh, status, by, dat, note, blob) = row?;
            let op = review::decode_held(seq.max(0) as u64, &blob)?;
            out.push(Held {
                site_id,
                site_seq: seq.max(0) as u64,
                received_at_ms: at.max(0) as u64,
                code,
                reason,
                reason_zh,
                status,
                decided_by: by,
                decided_at_ms: dat.map(|d| d.max(0) as u64),
                decision_note: note,
                op,
            });
        }
        Ok(out)
    }

    /// Writes the replicated row of every held operation whose status it does not show yet, then
    /// logs those writes for the sites. Idempotent: a crash between the push and this is repaired by
    /// the next call.
    pub(super) fn publish_quarantine(&mut self, now_ms: u64) -> Result<()> {
        let pending = self.held(
            "published_status IS NULL OR published_status <> status",
            &[],
        )?;
        if pending.is_empty() {
            return Ok(());
        }
        let def = tables::table("sync_quarantine").ok_or_else(|| {
            ServerError::Store("sync_quarantine is not a replicated table".into())
        })?;
        for item in pending {
            let unit: Option<String> = self
                .store
                .connection()
                .prepare_cached("SELECT org_unit_id FROM site WHERE id = ?1")?
                .query_row([&item.site_id], |r| r.get(0))
                .optional()?;
            let Some(unit) = unit.filter(|u| !u.is_empty()) else {
                continue;
            };
            let changes = review::publication(&item, &unit);
            let id = review::publication_id(&item);
            self.store
                .write_row(ADMIN_ACTOR, def, &id, &unit, &changes)?;
            self.store.connection().execute(
                "UPDATE quarantine SET published_status = ?3 WHERE site_id = ?1 AND site_seq = ?2",
                params![item.site_id, item.site_seq as i64, item.status],
            )?;
        }
        self.publish_own_writes(now_ms)
    }

    pub(super) fn quarantine_items(&self) -> Result<Vec<QuarantineItem>> {
        Ok(self
            .held("1", &[])?
            .into_iter()
            .map(review::item_of)
            .collect())
    }

    /// The district's decision (D-3's sibling for operations): `release` merges the operation into
    /// the master as the site sent it (logged under the server's record, so every site in scope
    /// receives it); `reject` keeps it, never merged. Either way the decision syncs back.
    pub(super) fn decide_held(
        &mut self,
        decider: &SiteAuth,
        decision: &QuarantineDecision,
        now_ms: u64,
    ) -> Result<QuarantineItem> {
        let review::Decision {
            release,
            status,
            by,
            seq,
        } = review::check_decision(decider, decision)?;
        let item = self
            .held("site_id = ?1 AND site_seq = ?2", &[&decision.site_id, &seq])?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ServerError::NotFound(format!(
                    "quarantined operation {}:{}",
                    decision.site_id, decision.site_seq
                ))
            })?;
        review::check_decidable(&item, release)?;
        self.rows.begin();
        let result = self.record_decision(&item, status, by, &decision.note, release, now_ms);
        match result {
            Ok(()) => self.rows.committed(),
            Err(_) => self.rows.clear(),
        }
        result?;
        tracing::info!(
            site = %item.site_id,
            seq = item.site_seq,
            status,
            "quarantined operation decided"
        );
        self.publish_quarantine(now_ms)?;
        let decided = self
            .held("site_id = ?1 AND site_seq = ?2", &[&decision.site_id, &seq])?
            .into_iter()
            .next()
            .map(review::item_of)
            .ok_or_else(|| ServerError::Store("the decided operation vanished".to_string()))?;
        Ok(decided)
    }

    fn record_decision(
        &mut self,
        item: &Held,
        status: &str,
        by: &str,
        note: &str,
        release: bool,
        now_ms: u64,
    ) -> Result<()> {
        let server_site = self.server_site_id.clone();
        let tx = self
            .store
            .connection_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if release {
            let (mut next_seq, head) = log_head(&tx)?;
            let record = next_seq;
            let mut pending = Vec::new();
            let ops = [&item.op];
            append_to_log(&server_site, &ops, &|_| false, &mut next_seq, &mut pending);
            let log = LogRecords {
                conn: &tx,
                files: &self.log,
            };
            merge::merge(&tx, &ops, &[record], &log, &mut self.rows)?;
            write_log(&tx, &self.log, head, now_ms, pending)?;
        }
        tx.execute(
            "UPDATE quarantine SET status = ?3, decided_by = ?4, decided_at_ms = ?5, decision_note = ?6 \
             WHERE site_id = ?1 AND site_seq = ?2",
            params![
                item.site_id,
                item.site_seq as i64,
                status,
                by,
                now_ms as i64,
                note.trim()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }
}
