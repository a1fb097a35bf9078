//! The master's reads (issue 12 §3): authentication, pulls and record pages, over any connection to
//! the master file. The writer answers them over its own connection; the HTTP layer's readers answer
//! them over connections of their own, beside a running push (WAL: a reader sees the last commit and
//! never waits for the writer).

use super::{decode_chunk, left_scope, location, row_owner, select_rows, sites, RowFilter};
use crate::error::{Result, ServerError};
use crate::master::log_files::LogFiles;
use crate::master::shared::PullScope;
use crate::master::{RecordsPage, SiteAuth};
use crate::scope;
use jiceng_core::op::Operation;
use jiceng_core::store::Store;
use jiceng_core::tables::{self, TableDef};
use jiceng_core::wire::PullResponse;
use rusqlite::{params, OptionalExtension};
use std::path::Path;

/// Page cache of a reader connection: the pull's log index and the records pages it reads.
const READER_CACHE_KIB: i64 = 64 * 1024;
const READER_MMAP_BYTES: i64 = 1 << 30;

/// The master as a reader sees it: its tables, its audit log's files, which copy it is.
pub(super) struct ReadView<'a> {
    pub(super) store: &'a Store,
    pub(super) log: &'a LogFiles,
    pub(super) master_id: &'a String,
}

impl ReadView<'_> {
    pub(super) fn site_auth(&self, site_id: &str, org_unit_id: &str) -> Result<SiteAuth> {
        let kind = self.store.org_unit_kind(org_unit_id)?.ok_or_else(|| {
            ServerError::Store(format!("site {site_id} is attached to an unknown org unit"))
        })?;
        let created_at_ms: i64 = self
            .store
            .connection()
            .prepare_cached("SELECT created_at_ms FROM site WHERE id = ?1")?
            .query_row([site_id], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        Ok(SiteAuth {
            site_id: site_id.to_string(),
            org_unit_id: org_unit_id.to_string(),
            kind,
            scope: self.store.org_subtree(org_unit_id)?.into(),
            ancestors: self.store.org_ancestors(org_unit_id)?,
            created_at_ms: created_at_ms.max(0) as u64,
        })
    }

    pub(super) fn readable(&self, site: &SiteAuth, table: &str) -> Result<&'static TableDef> {
        let def =
            tables::table(table).ok_or_else(|| ServerError::UnknownTable(table.to_string()))?;
        if !scope::may_read_table(site.kind, def) {
            return Err(ServerError::NotFound(format!("{table} rows for this site")));
        }
        Ok(def)
    }

    pub(super) fn authenticate(&self, token: &str) -> Result<SiteAuth> {
        let (site_id, org_unit_id) = sites::site_of_token(self.store.connection(), token)?;
        self.site_auth(&site_id, &org_unit_id)
    }

    pub(super) fn pull_for_schema(
        &self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
        store_schema: u32,
        now_ms: u64,
    ) -> Result<PullResponse> {
        let pulled = PullScope::of(site, store_schema);
        let conn = self.store.connection();
        // Issue 10 §5: a cursor is only good for the tables it was given under (a store upgraded from
        // the previous release reads more tables; rows of them before the cursor were left out).
        let fingerprint = pulled.fingerprint()?;
        let json =
            |v: &[&str]| serde_json::to_string(v).map_err(|e| ServerError::Store(e.to_string()));
        let tables_json = json(&pulled.readable)?;
        let own_unit_json = json(&pulled.own_unit)?;
        let downward_json = json(&pulled.downward)?;
        let ancestors_json = serde_json::to_string(&site.ancestors)
            .map_err(|e| ServerError::Store(e.to_string()))?;
        let scope_json =
            serde_json::to_string(&site.scope).map_err(|e| ServerError::Store(e.to_string()))?;
        let given_under: Option<String> = conn
            .prepare_cached("SELECT pull_fingerprint FROM site WHERE id = ?1")?
            .query_row([&site.site_id], |r| r.get(0))
            .optional()?
            .flatten();
        if given_under.as_deref() != Some(fingerprint.as_str()) {
            if after > 0 && given_under.is_some() {
                return Ok(PullResponse {
                    ops: Vec::new(),
                    next_cursor: 0,
                    // An older client, which does not know the field, stops here rather than loop.
                    has_more: false,
                    server_time_ms: now_ms,
                    master_id: self.master_id.clone(),
                    site_last_seq: None,
                    left_scope: Vec::new(),
                    reinitialise: Some("scope_changed".to_string()),
                });
            }
            conn.prepare_cached("UPDATE site SET pull_fingerprint = ?2 WHERE id = ?1")?
                .execute(params![site.site_id, fingerprint])?;
        }
        let head: u64 = conn
            .query_row(
                "SELECT (SELECT last_seq FROM log_chunk ORDER BY first_seq DESC LIMIT 1)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0) as u64;
        let mut stmt = conn.prepare_cached(
            "SELECT first_seq, last_seq, segment, byte_offset, byte_len FROM log_chunk WHERE first_seq IN ( \
               SELECT first_seq FROM log_scope WHERE first_seq > ?1 AND ( \
                 (scope IN (SELECT value FROM json_each(?3)) AND tbl IN (SELECT value FROM json_each(?4))) \
                 OR (tbl IN (SELECT value FROM json_each(?8)) AND scope = ?5) \
                 OR (tbl IN (SELECT value FROM json_each(?6)) AND scope IN (SELECT value FROM json_each(?7))))) \
             AND origin_site <> ?2 ORDER BY first_seq",
        )?;
        let mut rows = stmt.query(params![
            after as i64,
            site.site_id,
            scope_json,
            tables_json,
            site.org_unit_id,
            downward_json,
            ancestors_json,
            own_unit_json
        ])?;
        let visible = |op: &Operation| pulled.visible(site, op);
        let mut ops: Vec<Operation> = Vec::new();
        let mut next_cursor = head.max(after);
        let mut has_more = false;
        while let Some(row) = rows.next()? {
            if ops.len() >= limit.max(1) {
                has_more = true;
                break;
            }
            let first_seq: i64 = row.get(0)?;
            let last_seq: i64 = row.get(1)?;
            let blob = self
                .log
                .read(location(row.get(2)?, row.get(3)?, row.get(4)?))?;
            ops.extend(
                decode_chunk(first_seq as u64, &blob)?
                    .into_iter()
                    .filter(|op| visible(op)),
            );
            next_cursor = last_seq as u64;
        }
        if !has_more {
            next_cursor = head.max(after);
        }
        let site_last_seq: Option<i64> = conn
            .prepare_cached("SELECT last_seq FROM site WHERE id = ?1")?
            .query_row([&site.site_id], |r| r.get(0))
            .optional()?;
        let left_scope = left_scope(conn, site, after, next_cursor, |t| pulled.reads_rows_of(t))?;
        Ok(PullResponse {
            ops,
            next_cursor,
            has_more,
            server_time_ms: now_ms,
            master_id: self.master_id.clone(),
            site_last_seq: site_last_seq.map(|s| s.max(0) as u64),
            left_scope,
            reinitialise: None,
        })
    }

    pub(super) fn record(
        &self,
        site: &SiteAuth,
        table: &str,
        id: &str,
    ) -> Result<serde_json::Value> {
        let def = self.readable(site, table)?;
        let rows = select_rows(self.store.connection(), def, RowFilter::Id(id), 0, 1)?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| ServerError::NotFound(format!("{table} {id}")))?;
        let owner = row_owner(def, &row);
        let visible = if scope::only_at_own_unit(site.kind, def) {
            owner == site.org_unit_id
        } else {
            site.covers(&owner)
        };
        if !visible {
            return Err(ServerError::NotFound(format!("{table} {id}")));
        }
        Ok(row)
    }

    pub(super) fn records(
        &self,
        site: &SiteAuth,
        table: &str,
        page: RecordsPage,
    ) -> Result<Vec<serde_json::Value>> {
        let def = self.readable(site, table)?;
        // Issue 9: filtered by scope and paged by key in SQL, so a page costs its own rows only.
        let own = [site.org_unit_id.clone()];
        let units: &[String] = if scope::only_at_own_unit(site.kind, def) {
            &own
        } else {
            &site.scope
        };
        let scope_json =
            serde_json::to_string(units).map_err(|e| ServerError::Store(e.to_string()))?;
        select_rows(
            self.store.connection(),
            def,
            RowFilter::Scope {
                scope_json: &scope_json,
                after: page.after.as_deref().unwrap_or(""),
            },
            page.offset,
            page.limit,
        )
    }
}

/// A connection of its own to the master file, for the reads the HTTP layer runs beside the writer.
pub struct SqliteReader {
    store: Store,
    log: LogFiles,
    master_id: String,
}

impl SqliteReader {
    /// A reader of the master file `path` whose log segments are at `log_base`.
    pub(super) fn open(path: &Path, log_base: &Path, master_id: &str) -> Result<SqliteReader> {
        let store = Store::open(path)?;
        let conn = store.connection();
        conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
        conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
        Ok(SqliteReader {
            store,
            log: LogFiles::at(log_base),
            master_id: master_id.to_string(),
        })
    }
}

impl Viewed for SqliteReader {
    fn view(&self) -> ReadView<'_> {
        ReadView {
            store: &self.store,
            log: &self.log,
            master_id: &self.master_id,
        }
    }
}

/// Anything that sees the master through a [`ReadView`] (the writer, a reader) answers its reads.
pub(super) trait Viewed {
    fn view(&self) -> ReadView<'_>;
}

impl ReadView<'_> {
    fn snapshot_origin(&self) -> Result<(String, u64)> {
        let head: Option<i64> = self.store.connection().query_row(
            "SELECT (SELECT last_seq FROM log_chunk ORDER BY first_seq DESC LIMIT 1)",
            [],
            |r| r.get(0),
        )?;
        Ok((self.master_id.clone(), head.unwrap_or(0).max(0) as u64))
    }

    fn owned_rows(
        &self,
        def: &'static TableDef,
        units: &[String],
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, jiceng_core::merge::RowVersions)>> {
        let conn = self.store.connection();
        let owner = if def.scope_field == tables::ROW_ID_SCOPE {
            "id"
        } else {
            def.scope_field
        };
        let units_json =
            serde_json::to_string(units).map_err(|e| ServerError::Store(e.to_string()))?;
        let ids: Vec<String> = conn
            .prepare_cached(&format!(
                "SELECT id FROM {} INDEXED BY {} WHERE id > ?1 AND {owner} IN (SELECT value FROM json_each(?2)) ORDER BY id LIMIT ?3",
                def.name,
                super::primary_key_index(def)
            ))?
            .query_map(params![after, units_json, limit as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // A page's rows were mostly written in the same few log records: each is decoded once.
        let log = super::LogRecords {
            conn,
            files: self.log,
        };
        Ok(jiceng_core::store::merge_sql::master::row_histories(
            conn, def, &ids, &log,
        )?)
    }

    fn site_activity(&self, from_ms: u64, to_ms: u64) -> Result<Vec<crate::master::SiteActivity>> {
        let mut stmt = self.store.connection().prepare_cached(
            "SELECT origin_site, \
                    SUM(CASE WHEN received_at_ms >= ?1 AND received_at_ms < ?2 THEN last_seq - first_seq + 1 ELSE 0 END), \
                    MAX(received_at_ms) \
             FROM log_chunk GROUP BY origin_site ORDER BY origin_site",
        )?;
        let rows = stmt.query_map(params![from_ms as i64, to_ms as i64], |r| {
            Ok(crate::master::SiteActivity {
                site_id: r.get(0)?,
                operations_in_window: r.get::<_, i64>(1)?.max(0) as u64,
                last_received_ms: r.get::<_, i64>(2)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn conflicts_of(
        &self,
        table: &str,
        ids: &[String],
    ) -> Result<Vec<jiceng_core::wire::SnapshotConflict>> {
        let ids_json = serde_json::to_string(ids).map_err(|e| ServerError::Store(e.to_string()))?;
        let mut stmt = self.store.connection().prepare_cached(
            "SELECT id, tbl, row_id, field, newer_json, older_json FROM conflict \
             WHERE tbl = ?1 AND row_id IN (SELECT value FROM json_each(?2)) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![table, ids_json], |r| {
            Ok(jiceng_core::wire::SnapshotConflict {
                id: r.get(0)?,
                table: r.get(1)?,
                row_id: r.get(2)?,
                field: r.get(3)?,
                newer_json: r.get(4)?,
                older_json: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn users(&self) -> Result<Vec<crate::master::UserSummary>> {
        Ok(self.store.user_summaries()?)
    }

    fn admin_actions(&self, limit: usize) -> Result<Vec<crate::master::AdminActionRecord>> {
        let mut stmt = self.store.connection().prepare_cached(
            "SELECT at_ms, via_site, by_user_id, by_name, action, target, detail FROM admin_action \
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(crate::master::AdminActionRecord {
                at_ms: r.get::<_, i64>(0)?.max(0) as u64,
                via_site: r.get(1)?,
                by_user_id: r.get(2)?,
                by: r.get(3)?,
                action: r.get(4)?,
                target: r.get(5)?,
                detail: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl<T: Viewed + Send> crate::master::MasterReads for T {
    fn users(&mut self) -> Result<Vec<crate::master::UserSummary>> {
        self.view().users()
    }

    fn admin_actions(&mut self, limit: usize) -> Result<Vec<crate::master::AdminActionRecord>> {
        self.view().admin_actions(limit)
    }

    fn snapshot_origin(&mut self) -> Result<(String, u64)> {
        self.view().snapshot_origin()
    }

    fn owned_rows(
        &mut self,
        def: &'static TableDef,
        units: &[String],
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, jiceng_core::merge::RowVersions)>> {
        self.view().owned_rows(def, units, after, limit)
    }

    fn conflicts_of(
        &mut self,
        table: &str,
        ids: &[String],
    ) -> Result<Vec<jiceng_core::wire::SnapshotConflict>> {
        self.view().conflicts_of(table, ids)
    }

    fn site_activity(
        &mut self,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<crate::master::SiteActivity>> {
        self.view().site_activity(from_ms, to_ms)
    }

    fn authenticate(&mut self, token: &str) -> Result<SiteAuth> {
        self.view().authenticate(token)
    }

    fn pull_for_schema(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
        store_schema: u32,
        now_ms: u64,
    ) -> Result<PullResponse> {
        self.view()
            .pull_for_schema(site, after, limit, store_schema, now_ms)
    }

    fn record(&mut self, site: &SiteAuth, table: &str, id: &str) -> Result<serde_json::Value> {
        self.view().record(site, table, id)
    }

    fn records(
        &mut self,
        site: &SiteAuth,
        table: &str,
        page: RecordsPage,
    ) -> Result<Vec<serde_json::Value>> {
        self.view().records(site, table, page)
    }
}
