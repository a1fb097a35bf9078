//! Issue 12 §6: a new office (or a replaced laptop) starts from a scoped snapshot of the master instead
//! of replaying the log. Backend-independent: which rows a site may hold, in which order the pages walk
//! them; the backends only read rows by owner with their histories ([`MasterReads::owned_rows`]).
//!
//! A snapshot is consistent with the pulls after it without a read transaction across its pages: it
//! starts at a log head (`as_of`, a safe watermark on both backends), every page shows the rows as
//! they are when it is read (never less than at `as_of`: histories only grow), and the site then
//! pulls from `as_of`. What changed in between arrives again and merges idempotently (core's merge
//! keeps a version once), and rows that left the scope meanwhile arrive as `left_scope`. So a site
//! can stop after any page and go on later from its last row.

use super::shared::PullScope;
use super::{MasterReads, SiteAuth};
use crate::error::{Result, ServerError};
use jiceng_core::tables::{self, TableDef};
use jiceng_core::wire::{RowRef, SnapshotPage, SnapshotRow};

/// Rows per page at most (a page of cases with their histories is some hundreds of KiB).
pub const MAX_SNAPSHOT_ROWS: usize = 2_000;

/// What a site asks for: the page after `after` of the snapshot that started at `as_of` (None: a new
/// snapshot from the current head).
#[derive(Debug, Clone, Default)]
pub struct SnapshotRequest {
    pub as_of: Option<u64>,
    pub after: Option<RowRef>,
    pub limit: usize,
    pub store_schema: u32,
}

/// The site's tables in snapshot order, each with the units whose rows it holds: as a pull delivers
/// them (`PullScope`): its subtree's rows, its own unit's users and held items, and the settings and
/// site names flowing down from the units above it.
fn tables_of(site: &SiteAuth, store_schema: u32) -> Vec<(&'static TableDef, &[String])> {
    let pulled = PullScope::of(site, store_schema);
    tables::TABLES
        .iter()
        .filter_map(|def| {
            // Borrowed: a district's scope is every unit of the district, and each page asks.
            let units: &[String] = if pulled.readable.contains(&def.name) {
                &site.scope
            } else if pulled.own_unit.contains(&def.name) {
                std::slice::from_ref(&site.org_unit_id)
            } else if pulled.downward.contains(&def.name) {
                &site.ancestors
            } else {
                return None;
            };
            Some((def, units))
        })
        .collect()
}

/// One page of a site's snapshot.
pub fn snapshot_page(
    reads: &mut dyn MasterReads,
    site: &SiteAuth,
    request: &SnapshotRequest,
    now_ms: u64,
) -> Result<SnapshotPage> {
    let (master_id, head) = reads.snapshot_origin()?;
    let as_of = match request.as_of {
        Some(as_of) if as_of > head => {
            return Err(ServerError::BadRequest(format!(
                "as_of {as_of} is beyond the log's head {head}: start the snapshot again"
            )))
        }
        Some(as_of) => as_of,
        None => head,
    };
    let limit = request.limit.clamp(1, MAX_SNAPSHOT_ROWS);
    let tables = tables_of(site, request.store_schema);
    let start = match &request.after {
        None => 0,
        Some(after) => tables
            .iter()
            .position(|(def, _)| def.name == after.table)
            .ok_or_else(|| {
                ServerError::BadRequest(format!(
                    "this site's snapshot holds no table {:?}",
                    after.table
                ))
            })?,
    };
    let mut rows: Vec<SnapshotRow> = Vec::new();
    let mut conflicts = Vec::new();
    let mut next = None;
    for (i, (def, units)) in tables.iter().enumerate().skip(start) {
        let after = match &request.after {
            Some(after) if i == start => after.id.as_str(),
            _ => "",
        };
        let room = limit - rows.len();
        let found = reads.owned_rows(def, units, after, room)?;
        let full = found.len() == room;
        let ids: Vec<String> = found.iter().map(|(id, _)| id.clone()).collect();
        conflicts.extend(reads.conflicts_of(def.name, &ids)?);
        rows.extend(found.into_iter().map(|(id, history)| SnapshotRow {
            table: def.name.to_string(),
            id,
            history,
        }));
        if full {
            next = rows.last().map(|r| RowRef {
                table: r.table.clone(),
                id: r.id.clone(),
            });
            break;
        }
    }
    Ok(SnapshotPage {
        as_of,
        master_id,
        rows,
        conflicts,
        next,
        server_time_ms: now_ms,
    })
}
