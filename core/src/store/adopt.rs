//! A store restored from a backup or copied to a second PC (issue 10 §3): the server holds its site's
//! log further, or differently, than the store does. The store takes the server's copy of its log
//! (merging what it lacked) and sets aside what it wrote that the server never had, the divergent tail:
//! kept in `divergent_op` and written again under new numbers, which the server holds for the
//! district's review (`divergent_copy`). Nothing either copy wrote is lost.

use super::{acked, merge_sql, meta, oplog_entry, Store};
use crate::error::{CoreError, Result};
use crate::op::Operation;
use rusqlite::{params, OptionalExtension};

/// What adopting the server's log did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Adopted {
    /// The site's operations the store took from the server.
    pub taken: u64,
    /// Operations this store wrote that the server never had, kept and sent again for review.
    pub divergent: u64,
}

impl Store {
    /// Takes the server's copy of this site's log from `server_ops` (in site_seq order, starting right
    /// after what the store knows acknowledged), keeping what diverges. `now_ms` stamps what is set
    /// aside.
    pub fn adopt_own_log(&mut self, server_ops: &[Operation], now_ms: u64) -> Result<Adopted> {
        let (Some(first), Some(last)) = (server_ops.first(), server_ops.last()) else {
            return Ok(Adopted::default());
        };
        let tx = self.conn.transaction()?;
        let format = oplog_entry::Format::of(&tx)?;
        let local: Vec<(u64, String, Operation)> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT site_seq, hash, {} FROM oplog WHERE site_seq >= ?1 ORDER BY site_seq",
                format.columns()
            ))?;
            let rows = stmt.query_map([first.site_seq as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, String>(1)?,
                    oplog_entry::read(r, 2)?,
                ))
            })?;
            let mut local = Vec::new();
            for row in rows {
                let (seq, hash, op) = row?;
                local.push((seq, hash, op?));
            }
            local
        };
        // The first number under which the store holds something the server does not: everything
        // the store wrote from there on hangs on it and diverges.
        let diverges_at = local
            .iter()
            .find(|(seq, hash, _)| {
                *seq <= last.site_seq
                    && server_ops
                        .iter()
                        .find(|op| op.site_seq == *seq)
                        .is_none_or(|op| &op.hash != hash)
            })
            .map(|(seq, _, _)| *seq);
        let divergent: Vec<&(u64, String, Operation)> = match diverges_at {
            Some(at) => local.iter().filter(|(seq, _, _)| *seq >= at).collect(),
            None => Vec::new(),
        };
        if let Some(at) = diverges_at {
            // What diverges leaves the log and comes back under new numbers, unsent; nothing at or
            // after `at` stays acknowledged but what the server holds, marked below.
            acked::forget_after(&tx, at.saturating_sub(1))?;
        }
        for (seq, hash, op) in &divergent {
            let json = serde_json::to_string(op).map_err(|e| CoreError::Corrupt(e.to_string()))?;
            tx.execute(
                "INSERT OR IGNORE INTO divergent_op (site_seq, hash, op_json, set_aside_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![*seq as i64, hash, json, now_ms as i64],
            )?;
            tx.execute("DELETE FROM oplog WHERE site_seq = ?1", [*seq as i64])?;
        }
        let mut taken = 0;
        for op in server_ops {
            let stored: Option<String> = tx
                .query_row(
                    "SELECT hash FROM oplog WHERE site_seq = ?1",
                    [op.site_seq as i64],
                    |r| r.get(0),
                )
                .optional()?;
            if stored.is_none() {
                oplog_entry::insert(&tx, format, op)?;
                taken += 1;
            }
        }
        // The server holds every one of them: acknowledged, whether the store had it or not.
        acked::mark(&tx, server_ops.iter().map(|op| op.site_seq))?;
        // Operations the server holds in quarantine (server_seq 0) stay in the log, for its chain, but
        // out of the records, as on the master.
        let merged: Vec<&Operation> = server_ops
            .iter()
            .filter(|op| op.server_seq != Some(0))
            .collect();
        merge_sql::merge_op_refs(&tx, &merged)?;
        // The log continues from its new end (the server's, or the store's own valid continuation of
        // it); the divergent tail follows under new numbers.
        let (mut seq, mut prev): (u64, String) = tx.query_row(
            "SELECT site_seq, hash FROM oplog ORDER BY site_seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )?;
        for (old_seq, old_hash, op) in &divergent {
            let mut op = op.clone();
            seq += 1;
            op.site_seq = seq;
            op.prev_hash = prev.clone();
            op.server_seq = None;
            op.hash = op.compute_hash();
            prev = op.hash.clone();
            oplog_entry::insert(&tx, format, &op)?;
            tx.execute(
                "UPDATE divergent_op SET reissued_as = ?3 WHERE site_seq = ?1 AND hash = ?2",
                params![*old_seq as i64, old_hash, seq as i64],
            )?;
        }
        meta::set(&tx, meta::SEQ_LAST, &seq.to_string())?;
        meta::set(&tx, meta::HASH_LAST, &prev)?;
        tx.commit()?;
        Ok(Adopted {
            taken,
            divergent: divergent.len() as u64,
        })
    }

    /// Which of `seqs` are a divergent tail written again (the server holds them for review).
    pub fn reissued_among(&self, seqs: &[u64]) -> Result<Vec<u64>> {
        let (Some(low), Some(high)) = (seqs.iter().min(), seqs.iter().max()) else {
            return Ok(Vec::new());
        };
        // One range query per push batch, not one lookup per operation (almost always none).
        let mut stmt = self.conn.prepare_cached(
            "SELECT reissued_as FROM divergent_op WHERE reissued_as BETWEEN ?1 AND ?2",
        )?;
        let reissued: std::collections::BTreeSet<u64> = stmt
            .query_map([*low as i64, *high as i64], |r| r.get::<_, i64>(0))?
            .map(|r| r.map(|v| v.max(0) as u64))
            .collect::<rusqlite::Result<_>>()?;
        Ok(seqs
            .iter()
            .copied()
            .filter(|s| reissued.contains(s))
            .collect())
    }

    /// Operations set aside because the server never had them (kept for the district's review).
    pub fn divergent_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM divergent_op", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// A consistent copy of this store in `path` (a new file), for the desktop's 备份.
    pub fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        let target = path
            .to_str()
            .ok_or_else(|| CoreError::Corrupt("the backup path is not UTF-8".to_string()))?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }
}
