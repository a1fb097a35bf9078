//! The store half of [`crate::acked_ranges`]: which of the site's operations the server
//! acknowledged, as ranges of site_seqs in `oplog_acked` (schema 35). Writing a batch's
//! acknowledgement is one row, not one per operation (issue 12 §5).

use super::oplog_entry;
use crate::acked_ranges::{self, SeqRange};
use crate::error::Result;
use crate::op::Operation;
use rusqlite::{params, Connection};

/// SQL: whether the record `$row` (an SQL expression) has a log entry the server has not
/// acknowledged yet, the "not yet sent" mark of the lists. An entry is acknowledged when the range
/// starting at or before it reaches it.
macro_rules! row_has_unsent_entry {
    ($row:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM oplog l WHERE l.row_id = ",
            $row,
            " AND COALESCE((SELECT k.last_site_seq FROM oplog_acked k \
             WHERE k.first_site_seq <= l.site_seq ORDER BY k.first_site_seq DESC LIMIT 1), 0) \
             < l.site_seq)"
        )
    };
}
pub(super) use row_has_unsent_entry;

fn sql_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Every acknowledged range, ascending.
pub(super) fn all(conn: &Connection) -> Result<Vec<SeqRange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT first_site_seq, last_site_seq FROM oplog_acked ORDER BY first_site_seq",
    )?;
    let rows = stmt.query_map([], range_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A range from a row whose first two columns are `first_site_seq, last_site_seq`.
fn range_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<SeqRange> {
    Ok(SeqRange {
        first: r.get::<_, i64>(0)?.max(0) as u64,
        last: r.get::<_, i64>(1)?.max(0) as u64,
    })
}

/// Records `seqs` as acknowledged, joined with the ranges they touch. Call inside the transaction
/// that needs it.
pub(super) fn mark(conn: &Connection, seqs: impl IntoIterator<Item = u64>) -> Result<()> {
    let new = acked_ranges::ranges_of(seqs);
    let (Some(lowest), Some(highest)) = (new.first(), new.last()) else {
        return Ok(());
    };
    let touching: Vec<SeqRange> = {
        let mut stmt = conn.prepare_cached(
            "SELECT first_site_seq, last_site_seq FROM oplog_acked \
             WHERE first_site_seq <= ?2 + 1 AND last_site_seq + 1 >= ?1",
        )?;
        let rows = stmt.query_map(
            params![sql_seq(lowest.first), sql_seq(highest.last)],
            range_of,
        )?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    replace(conn, &touching, &acked_ranges::union(&touching, &new))
}

/// Deletes the ranges `old` and writes `new` in their place.
fn replace(conn: &Connection, old: &[SeqRange], new: &[SeqRange]) -> Result<()> {
    let mut delete = conn.prepare_cached("DELETE FROM oplog_acked WHERE first_site_seq = ?1")?;
    for range in old {
        delete.execute([sql_seq(range.first)])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO oplog_acked (first_site_seq, last_site_seq) VALUES (?1, ?2)",
    )?;
    for range in new {
        insert.execute(params![sql_seq(range.first), sql_seq(range.last)])?;
    }
    Ok(())
}

/// Forgets every acknowledgement after `last`: those operations wait to be sent again. Returns how
/// many of the log's entries that puts back.
pub(super) fn forget_after(conn: &Connection, last: u64) -> Result<u64> {
    let ranges = all(conn)?;
    let kept = acked_ranges::up_to(&ranges, last);
    let mut forgotten = 0;
    for range in &ranges {
        let from = range.first.max(last.saturating_add(1));
        if from <= range.last {
            forgotten += count_between(conn, from, Some(range.last))?;
        }
    }
    replace(conn, &ranges, &kept)?;
    Ok(forgotten)
}

/// How many log entries have site_seqs `first..=last` (`None`: no upper end).
fn count_between(conn: &Connection, first: u64, last: Option<u64>) -> Result<u64> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM oplog WHERE site_seq BETWEEN ?1 AND ?2")?
        .query_row(
            params![sql_seq(first), last.map_or(i64::MAX, sql_seq)],
            |r| r.get(0),
        )?;
    Ok(count.max(0) as u64)
}

/// How many of the log's operations wait to be sent.
pub(super) fn unsent_count(conn: &Connection) -> Result<u64> {
    let mut count = 0;
    for (first, last) in acked_ranges::gaps_after(&all(conn)?, 0) {
        count += count_between(conn, first, last)?;
    }
    Ok(count)
}

/// Up to `limit` operations after `after` that wait to be sent, oldest first.
pub(super) fn unsent_after(conn: &Connection, after: u64, limit: usize) -> Result<Vec<Operation>> {
    let columns = oplog_entry::Format::of(conn)?.columns();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {columns} FROM oplog WHERE site_seq BETWEEN ?1 AND ?2 ORDER BY site_seq LIMIT ?3"
    ))?;
    let mut ops = Vec::new();
    for (first, last) in acked_ranges::gaps_after(&all(conn)?, after) {
        let left = limit.saturating_sub(ops.len());
        if left == 0 {
            break;
        }
        let rows = stmt.query_map(
            params![
                sql_seq(first),
                last.map_or(i64::MAX, sql_seq),
                i64::try_from(left).unwrap_or(i64::MAX)
            ],
            |r| oplog_entry::read(r, 0),
        )?;
        for op in rows {
            ops.push(op??);
        }
    }
    Ok(ops)
}

/// The highest site_seq acknowledged (0: none).
pub(super) fn highest(conn: &Connection) -> Result<u64> {
    let last: Option<i64> =
        conn.query_row("SELECT MAX(last_site_seq) FROM oplog_acked", [], |r| {
            r.get(0)
        })?;
    Ok(last.unwrap_or(0).max(0) as u64)
}
