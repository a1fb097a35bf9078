//! Reads of the PostgreSQL master (authentication, pulls, record pages) over any connection: the
//! writer's, or a reader's of its own beside it. A pull reads in one REPEATABLE READ snapshot; since
//! records commit in server_seq order (the log lock), the snapshot holds a prefix of the log and its
//! head is a safe watermark.

use super::decode_record;
use super::org_places::OrgPlaces;
use super::prepared::Prepared;
use crate::error::{Result, ServerError};
use crate::master::shared::{self, PullScope, ScopeMove};
use crate::master::{MasterReads, RecordsPage, SiteAuth};
use crate::scope;
use jiceng_core::auth;
use jiceng_core::model::OrgKind;
use jiceng_core::op::Operation;
use jiceng_core::tables::{self, FieldType, TableDef, DELETED_FIELD};
use jiceng_core::wire::PullResponse;
use postgres::{Client, GenericClient, IsolationLevel};

/// Log records a pull reads per query (a record holds one site's push: up to 1,000 operations).
const RECORDS_PER_QUERY: i64 = 64;

/// The site a token belongs to: (site id, org unit). A site's next token (after a rotation) is
/// promoted by its first use. A revoked site's token is recognised and refused as revoked.
pub(super) fn site_of_token(
    db: &mut impl GenericClient,
    prepared: &mut Prepared,
    token: &str,
) -> Result<SiteRow> {
    let digest = auth::secret_digest(token);
    let statement = prepared.statement(
        db,
        "SELECT id, org_unit_id, revoked, token_hash IS NOT DISTINCT FROM $1, revoked_at_ms, created_at_ms \
         FROM site WHERE token_hash = $1 OR next_token_hash = $1",
    )?;
    let found = db.query_opt(&statement, &[&digest])?;
    let Some(found) = found else {
        return Err(ServerError::BadToken);
    };
    let site_id: String = found.get(0);
    let org_unit_id: String = found.get(1);
    if found.get::<_, bool>(2) {
        return Err(ServerError::SiteRevoked {
            at_ms: found.get::<_, Option<i64>>(4).unwrap_or(0).max(0) as u64,
        });
    }
    if !found.get::<_, bool>(3) {
        db.execute(
            "UPDATE site SET prev_token_hash = token_hash, token_hash = next_token_hash, \
             next_token_hash = NULL WHERE id = $1 AND next_token_hash = $2",
            &[&site_id, &digest],
        )?;
    }
    Ok(SiteRow {
        site_id,
        org_unit_id,
        created_at_ms: found.get(5),
    })
}

pub(super) fn org_unit_kind(
    db: &mut impl GenericClient,
    prepared: &mut Prepared,
    id: &str,
) -> Result<Option<OrgKind>> {
    let statement = prepared.statement(
        db,
        "SELECT vals ->> 'kind' FROM master_row WHERE tbl = 'org_unit' AND id = $1",
    )?;
    Ok(db
        .query_opt(&statement, &[&id])?
        .and_then(|r| r.get::<_, Option<String>>(0))
        .and_then(|k| OrgKind::from_code(&k)))
}

pub(super) fn org_unit_name(db: &mut impl GenericClient, id: &str) -> Result<Option<String>> {
    Ok(db
        .query_opt(
            "SELECT vals ->> 'name' FROM master_row WHERE tbl = 'org_unit' AND id = $1",
            &[&id],
        )?
        .and_then(|r| r.get::<_, Option<String>>(0)))
}

/// The units at and below the unit `$1`.
const ORG_SUBTREE: &str =
    "WITH RECURSIVE sub(id) AS (SELECT $1::text COLLATE \"C\" UNION SELECT o.id FROM master_row o \
     JOIN sub ON o.tbl = 'org_unit' AND o.vals ->> 'parent_id' = sub.id) SELECT id FROM sub";

/// The unit `$1` and the units above it, nearest first.
const ORG_ANCESTORS: &str = "WITH RECURSIVE up(id, depth) AS (SELECT $1::text COLLATE \"C\", 0 UNION SELECT (o.vals ->> 'parent_id') COLLATE \"C\", up.depth + 1 \
     FROM master_row o JOIN up ON o.tbl = 'org_unit' AND o.id = up.id WHERE o.vals ->> 'parent_id' IS NOT NULL) \
     SELECT id FROM up ORDER BY depth";

/// The org tree's lookups every request makes (`site_auth`), each taking a unit id: a test
/// looks at their plans.
#[doc(hidden)]
pub const ORG_TREE_LOOKUPS: [&str; 2] = [ORG_SUBTREE, ORG_ANCESTORS];

/// The unit and every unit below it.
pub(super) fn org_subtree(
    db: &mut impl GenericClient,
    prepared: &mut Prepared,
    root: &str,
) -> Result<Vec<String>> {
    let statement = prepared.statement(db, ORG_SUBTREE)?;
    Ok(db
        .query(&statement, &[&root])?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// `unit` and every unit above it, up to the district.
pub(super) fn org_ancestors(
    db: &mut impl GenericClient,
    prepared: &mut Prepared,
    unit: &str,
) -> Result<Vec<String>> {
    let statement = prepared.statement(db, ORG_ANCESTORS)?;
    Ok(db
        .query(&statement, &[&unit])?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// A site as its requests are judged: its unit's kind, the units it covers and those above it
/// (kept per process while the org tree does not change: `org_places`).
pub(super) fn site_auth(
    db: &mut impl GenericClient,
    prepared: &mut Prepared,
    places: &OrgPlaces,
    site: SiteRow,
) -> Result<SiteAuth> {
    let place = places
        .place(db, prepared, &site.org_unit_id)?
        .ok_or_else(|| {
            ServerError::Store(format!(
                "site {} is attached to an unknown org unit",
                site.site_id
            ))
        })?;
    Ok(SiteAuth {
        site_id: site.site_id,
        org_unit_id: site.org_unit_id,
        kind: place.kind,
        scope: place.scope.clone(),
        ancestors: place.ancestors.clone(),
        created_at_ms: site.created_at_ms.max(0) as u64,
    })
}

/// What `site_auth` needs of the site's own row.
pub(super) struct SiteRow {
    pub site_id: String,
    pub org_unit_id: String,
    pub created_at_ms: i64,
}

pub(super) fn authenticate(
    db: &mut impl GenericClient,
    prepared: &mut Prepared,
    places: &OrgPlaces,
    token: &str,
) -> Result<SiteAuth> {
    let site = site_of_token(db, prepared, token)?;
    site_auth(db, prepared, places, site)
}

/// `session`: the connection and its prepared statements.
pub(super) fn pull(
    session: (&mut Client, &mut super::prepared::Prepared),
    master_id: &str,
    site: &SiteAuth,
    after: u64,
    limit: usize,
    store_schema: u32,
    now_ms: u64,
) -> Result<PullResponse> {
    let (db, prepared) = session;
    let pulled = PullScope::of(site, store_schema);
    let fingerprint = pulled.fingerprint()?;
    // Issue 10 §5: a cursor is only good for the tables it was given under.
    let statement = prepared.statement(db, "SELECT pull_fingerprint FROM site WHERE id = $1")?;
    let given_under: Option<String> = db
        .query_opt(&statement, &[&site.site_id])?
        .and_then(|r| r.get(0));
    if given_under.as_deref() != Some(fingerprint.as_str()) {
        if after > 0 && given_under.is_some() {
            return Ok(PullResponse {
                ops: Vec::new(),
                next_cursor: 0,
                has_more: false,
                server_time_ms: now_ms,
                master_id: master_id.to_string(),
                site_last_seq: None,
                left_scope: Vec::new(),
                reinitialise: Some("scope_changed".to_string()),
            });
        }
        db.execute(
            "UPDATE site SET pull_fingerprint = $2 WHERE id = $1",
            &[&site.site_id, &fingerprint],
        )?;
    }
    let mut tx = db
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    // Every pull runs the same few statements: prepared once per reader.
    let mut sql = super::prepared::Sql::new(&mut tx, prepared);
    let head: i64 = sql
        .query_one(
            "SELECT COALESCE((SELECT last_seq FROM log_record ORDER BY first_seq DESC LIMIT 1), 0)",
            &[],
        )?
        .get(0);
    let head = head.max(0) as u64;
    let readable: Vec<&str> = pulled.readable.clone();
    let own_unit: Vec<&str> = pulled.own_unit.clone();
    let downward: Vec<&str> = pulled.downward.clone();
    let own_unit_id = vec![site.org_unit_id.as_str()];
    let statement = "SELECT first_seq, last_seq, ops FROM log_record WHERE first_seq IN ( \
           SELECT first_seq FROM log_scope WHERE first_seq > $1 AND first_seq <= $9 AND ( \
             (scope = ANY($3) AND tbl = ANY($4)) \
             OR (tbl = ANY($8) AND scope = ANY($5)) \
             OR (tbl = ANY($6) AND scope = ANY($7)))) \
         AND origin_site <> $2 ORDER BY first_seq LIMIT $10";
    let mut ops: Vec<Operation> = Vec::new();
    let mut next_cursor = head.max(after);
    let mut has_more = false;
    let mut from = after as i64;
    'records: loop {
        let rows = sql.query(
            statement,
            &[
                &from,
                &site.site_id,
                &&*site.scope,
                &readable,
                &own_unit_id,
                &downward,
                &site.ancestors,
                &own_unit,
                &(head as i64),
                &RECORDS_PER_QUERY,
            ],
        )?;
        let fetched = rows.len() as i64;
        for row in rows {
            if ops.len() >= limit.max(1) {
                has_more = true;
                break 'records;
            }
            let first_seq: i64 = row.get(0);
            let last_seq: i64 = row.get(1);
            ops.extend(
                decode_record(first_seq, row.get(2))?
                    .into_iter()
                    .filter(|op| pulled.visible(site, op)),
            );
            next_cursor = last_seq.max(0) as u64;
            from = first_seq;
        }
        if fetched < RECORDS_PER_QUERY {
            break;
        }
    }
    if !has_more {
        next_cursor = head.max(after);
    }
    let site_last_seq: Option<i64> = sql
        .query_opt("SELECT last_seq FROM site WHERE id = $1", &[&site.site_id])?
        .map(|r| r.get(0));
    let moves = if next_cursor > after {
        sql.query(
            "SELECT tbl, row_id, from_unit, to_unit FROM scope_move WHERE seq > $1 AND seq <= $2 ORDER BY seq, n",
            &[&(after as i64), &(next_cursor as i64)],
        )?
        .iter()
        .map(|r| ScopeMove {
            table: r.get(0),
            row_id: r.get(1),
            from_unit: r.get(2),
            to_unit: r.get(3),
        })
        .collect()
    } else {
        Vec::new()
    };
    tx.commit()?;
    let left_scope = shared::left_scope(site, moves, |t| pulled.reads_rows_of(t));
    Ok(PullResponse {
        ops,
        next_cursor,
        has_more,
        server_time_ms: now_ms,
        master_id: master_id.to_string(),
        site_last_seq: site_last_seq.map(|s| s.max(0) as u64),
        left_scope,
        reinitialise: None,
    })
}

fn readable(site: &SiteAuth, table: &str) -> Result<&'static TableDef> {
    let def = tables::table(table).ok_or_else(|| ServerError::UnknownTable(table.to_string()))?;
    if !scope::may_read_table(site.kind, def) {
        return Err(ServerError::NotFound(format!("{table} rows for this site")));
    }
    Ok(def)
}

/// A master row as `/records` shows it: the same JSON as the SQLite master's columns (flags as 0/1,
/// the deletion flag as a boolean), never a password hash.
fn record_json(def: &TableDef, id: String, vals: &str) -> Result<serde_json::Value> {
    let mut vals: serde_json::Map<String, serde_json::Value> = serde_json::from_str(vals)
        .map_err(|e| ServerError::Store(format!("{} {id}: {e}", def.name)))?;
    let mut object = serde_json::Map::new();
    object.insert("id".to_string(), serde_json::Value::String(id));
    for field in def.fields {
        if field.name == "password_hash" {
            continue;
        }
        let value = vals.remove(field.name).unwrap_or(serde_json::Value::Null);
        let value = match value {
            serde_json::Value::Bool(b)
                if field.ty == FieldType::Bool && field.name != DELETED_FIELD =>
            {
                serde_json::Value::from(i64::from(b))
            }
            other => other,
        };
        object.insert(field.name.to_string(), value);
    }
    Ok(serde_json::Value::Object(object))
}

pub(super) fn record(
    db: &mut impl GenericClient,
    site: &SiteAuth,
    table: &str,
    id: &str,
) -> Result<serde_json::Value> {
    let def = readable(site, table)?;
    let found = db
        .query_opt(
            "SELECT owner, vals::text FROM master_row WHERE tbl = $1 AND id = $2",
            &[&def.name, &id],
        )?
        .ok_or_else(|| ServerError::NotFound(format!("{table} {id}")))?;
    let owner: String = found.get(0);
    let visible = if scope::only_at_own_unit(site.kind, def) {
        owner == site.org_unit_id
    } else {
        site.covers(&owner)
    };
    if !visible {
        return Err(ServerError::NotFound(format!("{table} {id}")));
    }
    record_json(def, id.to_string(), found.get(1))
}

pub(super) fn records(
    db: &mut impl GenericClient,
    site: &SiteAuth,
    table: &str,
    page: RecordsPage,
) -> Result<Vec<serde_json::Value>> {
    let def = readable(site, table)?;
    let units: &[String] = if scope::only_at_own_unit(site.kind, def) {
        std::slice::from_ref(&site.org_unit_id)
    } else {
        &site.scope
    };
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
    let after = page.after.unwrap_or_default();
    db.query(
        "SELECT id, vals::text FROM master_row WHERE tbl = $1 AND id > $2 AND owner = ANY($3) \
         ORDER BY id LIMIT $4 OFFSET $5",
        &[&def.name, &after, &units, &limit, &offset],
    )?
    .into_iter()
    .map(|row| record_json(def, row.get(0), row.get(1)))
    .collect()
}

/// Issue 12 §6: this master's id and its log head, read in one snapshot (its head is a safe
/// watermark, see `pull`).
pub(super) fn snapshot_origin(
    db: &mut impl GenericClient,
    master_id: &str,
) -> Result<(String, u64)> {
    let head: i64 = db
        .query_one(
            "SELECT COALESCE((SELECT last_seq FROM log_record ORDER BY first_seq DESC LIMIT 1), 0)",
            &[],
        )?
        .get(0);
    Ok((master_id.to_string(), head.max(0) as u64))
}

pub(super) fn owned_rows(
    db: &mut impl GenericClient,
    def: &'static TableDef,
    units: &[String],
    after: &str,
    limit: usize,
) -> Result<Vec<(String, jiceng_core::merge::RowVersions)>> {
    let rows = db.query(
        "SELECT id, history FROM master_row WHERE tbl = $1 AND owner = ANY($2) AND id > $3 \
         ORDER BY id LIMIT $4",
        &[&def.name, &units, &after, &(limit as i64)],
    )?;
    rows.iter()
        .map(|r| {
            let id: String = r.get(0);
            let history = jiceng_core::codec::decode_row(r.get::<_, &[u8]>(1))
                .map_err(|e| ServerError::Store(format!("{} {id} history: {e}", def.name)))?;
            Ok((id, history))
        })
        .collect()
}

pub(super) fn conflicts_of(
    db: &mut impl GenericClient,
    table: &str,
    ids: &[String],
) -> Result<Vec<jiceng_core::wire::SnapshotConflict>> {
    let rows = db.query(
        "SELECT id, tbl, row_id, field, newer_json, older_json FROM conflict_item \
         WHERE tbl = $1 AND row_id = ANY($2) ORDER BY id",
        &[&table, &ids],
    )?;
    Ok(rows
        .iter()
        .map(|r| jiceng_core::wire::SnapshotConflict {
            id: r.get(0),
            table: r.get(1),
            row_id: r.get(2),
            field: r.get(3),
            newer_json: r.get(4),
            older_json: r.get(5),
        })
        .collect())
}

pub(super) fn site_activity(
    db: &mut impl GenericClient,
    from_ms: u64,
    to_ms: u64,
) -> Result<Vec<crate::master::SiteActivity>> {
    let rows = db.query(
        "SELECT origin_site, \
                COALESCE(SUM(CASE WHEN received_at_ms >= $1 AND received_at_ms < $2 THEN last_seq - first_seq + 1 ELSE 0 END), 0)::bigint, \
                MAX(received_at_ms) \
         FROM log_record GROUP BY origin_site ORDER BY origin_site",
        &[&(from_ms as i64), &(to_ms as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|r| crate::master::SiteActivity {
            site_id: r.get(0),
            operations_in_window: r.get::<_, i64>(1).max(0) as u64,
            last_received_ms: r.get::<_, Option<i64>>(2).unwrap_or(0).max(0) as u64,
        })
        .collect())
}

/// Issue 13 §3: the district's users as the master holds them (never a password hash).
pub(super) fn users(db: &mut impl GenericClient) -> Result<Vec<crate::master::UserSummary>> {
    Ok(db
        .query(
            "SELECT id, COALESCE(vals ->> 'username', ''), COALESCE(vals ->> 'display_name', ''), \
             COALESCE(vals ->> 'role', ''), COALESCE(vals ->> 'org_unit_id', ''), \
             COALESCE(vals ->> '_deleted', 'false') IN ('true', '1') \
             FROM master_row WHERE tbl = 'app_user' \
             ORDER BY vals ->> 'org_unit_id' COLLATE \"C\", vals ->> 'username' COLLATE \"C\", id",
            &[],
        )?
        .iter()
        .map(|r| crate::master::UserSummary {
            id: r.get(0),
            username: r.get(1),
            display_name: r.get(2),
            role: r.get(3),
            org_unit_id: r.get(4),
            disabled: r.get(5),
        })
        .collect())
}

/// Issue 13 §3: the latest audited administrative changes, newest first.
pub(super) fn admin_actions(
    db: &mut impl GenericClient,
    limit: usize,
) -> Result<Vec<crate::master::AdminActionRecord>> {
    Ok(db
        .query(
            "SELECT at_ms, via_site, by_user_id, by_name, action, target, detail FROM admin_action \
             ORDER BY id DESC LIMIT $1",
            &[&i64::try_from(limit).unwrap_or(i64::MAX)],
        )?
        .iter()
        .map(|r| crate::master::AdminActionRecord {
            at_ms: r.get::<_, i64>(0).max(0) as u64,
            via_site: r.get(1),
            by_user_id: r.get(2),
            by: r.get(3),
            action: r.get(4),
            target: r.get(5),
            detail: r.get(6),
        })
        .collect())
}

/// The snapshot and reconciliation reads of [`MasterReads`], for both the writer and a reader.
macro_rules! snapshot_reads {
    () => {
        fn snapshot_origin(&mut self) -> crate::error::Result<(String, u64)> {
            crate::master::postgres::reads::snapshot_origin(&mut self.db, &self.master_id)
        }

        fn owned_rows(
            &mut self,
            def: &'static jiceng_core::tables::TableDef,
            units: &[String],
            after: &str,
            limit: usize,
        ) -> crate::error::Result<Vec<(String, jiceng_core::merge::RowVersions)>> {
            crate::master::postgres::reads::owned_rows(&mut self.db, def, units, after, limit)
        }

        fn conflicts_of(
            &mut self,
            table: &str,
            ids: &[String],
        ) -> crate::error::Result<Vec<jiceng_core::wire::SnapshotConflict>> {
            crate::master::postgres::reads::conflicts_of(&mut self.db, table, ids)
        }

        fn site_activity(
            &mut self,
            from_ms: u64,
            to_ms: u64,
        ) -> crate::error::Result<Vec<crate::master::SiteActivity>> {
            crate::master::postgres::reads::site_activity(&mut self.db, from_ms, to_ms)
        }

        fn users(&mut self) -> crate::error::Result<Vec<crate::master::UserSummary>> {
            crate::master::postgres::reads::users(&mut self.db)
        }

        fn admin_actions(
            &mut self,
            limit: usize,
        ) -> crate::error::Result<Vec<crate::master::AdminActionRecord>> {
            crate::master::postgres::reads::admin_actions(&mut self.db, limit)
        }
    };
}
pub(super) use snapshot_reads;

/// A connection of its own to the master database, for the reads the HTTP layer runs beside the
/// writer.
pub struct PgReader {
    db: Client,
    master_id: String,
    prepared: super::prepared::Prepared,
    places: std::sync::Arc<OrgPlaces>,
}

impl PgReader {
    pub(super) fn open(
        url: &str,
        master_id: &str,
        places: std::sync::Arc<OrgPlaces>,
    ) -> Result<PgReader> {
        Ok(PgReader {
            db: super::connect(url)?,
            master_id: master_id.to_string(),
            prepared: Default::default(),
            places,
        })
    }
}

impl MasterReads for PgReader {
    snapshot_reads!();

    fn authenticate(&mut self, token: &str) -> Result<SiteAuth> {
        authenticate(&mut self.db, &mut self.prepared, &self.places, token)
    }

    fn pull_for_schema(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
        store_schema: u32,
        now_ms: u64,
    ) -> Result<PullResponse> {
        pull(
            (&mut self.db, &mut self.prepared),
            &self.master_id,
            site,
            after,
            limit,
            store_schema,
            now_ms,
        )
    }

    fn record(&mut self, site: &SiteAuth, table: &str, id: &str) -> Result<serde_json::Value> {
        record(&mut self.db, site, table, id)
    }

    fn records(
        &mut self,
        site: &SiteAuth,
        table: &str,
        page: RecordsPage,
    ) -> Result<Vec<serde_json::Value>> {
        records(&mut self.db, site, table, page)
    }
}
