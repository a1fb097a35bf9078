//! The district master on PostgreSQL (issue 12 §2), for a district (or a city of districts) that has
//! outgrown one SQLite file and one server process.
//!
//! - The same information as the SQLite master, laid out for a shared database server
//!   (`schema/server/postgres/`): replicated rows are kept generically, each with its whole field
//!   history, because the merge rule is core's and runs here in Rust, the same as at every site.
//! - The audit log lives in the database (`log_record`), not in files beside it.
//! - Several server processes may serve one database. Pushes take the log's advisory lock from
//!   their site's cursor to their commit, so server_seqs commit in order and a reader's snapshot
//!   holds a prefix of the log (its head is a safe watermark, see `ingest::lock_log`). Pulls and
//!   record pages never take it, and run on connections of their own beside a push.
//! - The server's own writes (org tree, users, site directory, quarantine items) go through core's
//!   write path on an in-memory replica of the master, caught up from the log under the lock, and are
//!   then pushed like any site's (one hash chain for the server site, whichever process writes).

mod admin;
pub mod backup;
mod ingest;
mod org_places;
mod prepared;
mod reads;
mod sites;
mod statistics;

pub use admin::ReplicaState;
pub use reads::{PgReader, ORG_TREE_LOOKUPS};

use super::{
    AdminActionRecord, Alarm, BundleSite, MasterReads, MasterStore, OrgUnitSummary, QuarantineItem,
    RecordsPage, SiteAuth, SiteSummary, UserSummary,
};
use crate::error::{Result, ServerError};
use crate::policy::DEFAULT_MAX_DRIFT_MS;
use jiceng_core::codec;
use jiceng_core::model::{OrgKind, Role};
use jiceng_core::op::Operation;
use jiceng_core::store::WallClock;
use jiceng_core::wire::{EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse};
use postgres::{Client, NoTls};

const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        include_str!("../../../../schema/server/postgres/0001_master.sql"),
    ),
    (
        2,
        include_str!("../../../../schema/server/postgres/0002_binary_history.sql"),
    ),
    (
        3,
        include_str!("../../../../schema/server/postgres/0003_admin_actions.sql"),
    ),
    (
        4,
        include_str!("../../../../schema/server/postgres/0004_lz4_toast.sql"),
    ),
    (
        5,
        include_str!("../../../../schema/server/postgres/0005_lean_rows.sql"),
    ),
    (
        6,
        include_str!("../../../../schema/server/postgres/0006_statistics_targets.sql"),
    ),
    (
        7,
        include_str!("../../../../schema/server/postgres/0007_org_version.sql"),
    ),
];
/// Taken while migrating, so that two processes starting at once do not both migrate.
const MIGRATION_LOCK: i64 = 0x6a69_6365_6e67_0002;
/// The server's own writes are logged under this user id (as on the SQLite master).
const ADMIN_ACTOR: &str = "admin";

/// A test hook run inside a push's transaction after its log record is written, before its commit.
pub type CommitGate = Box<dyn Fn() + Send>;

pub struct PgMaster {
    db: Client,
    url: String,
    server_site_id: String,
    master_id: String,
    max_drift_ms: u64,
    /// Shared by every session of this process ([`MasterStore::writer_factory`]): the replica is
    /// caught up from the log once, not once per session.
    replica: std::sync::Arc<std::sync::Mutex<Option<admin::Replica>>>,
    /// Where the replica is kept between runs (`replica_dir`); None: in memory, rebuilt from the
    /// whole log at the first administrative write of each run.
    replica_dir: Option<std::path::PathBuf>,
    clock: Option<WallClock>,
    gate: Option<CommitGate>,
    /// This session's prepared statements (the push path's).
    prepared: prepared::Prepared,
    /// Shared by every session of this process: the operations merged since the tables were last
    /// checked against their statistics, and whether an analysis is running.
    statistics: std::sync::Arc<statistics::Statistics>,
    /// Shared by every session and reader of this process: the sites' places in the org tree.
    places: std::sync::Arc<org_places::OrgPlaces>,
}

pub(super) fn connect(url: &str) -> Result<Client> {
    let failed = |e: postgres::Error| {
        ServerError::Store(format!(
            "cannot connect to the PostgreSQL master ({}): {e}",
            redacted(url)
        ))
    };
    let mut config: postgres::Config = url.parse().map_err(failed)?;
    // The server's statements are short, but the planner's estimate for some (a pull's join over
    // the log, the upsert of a push's rows) crosses `jit_above_cost`, and compiling them with LLVM
    // took a tenth of the cores under load, more than running them. Appended, so it wins over the
    // URL's own options.
    let options = match config.get_options() {
        Some(own) => format!("{own} -c jit=off"),
        None => "-c jit=off".to_string(),
    };
    config.options(&options);
    config.connect(NoTls).map_err(failed)
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Decodes a log record's operations and stamps each with its server_seq.
pub(super) fn decode_record(first_seq: i64, blob: &[u8]) -> Result<Vec<Operation>> {
    let mut ops = codec::decode_ops(blob)
        .map_err(|e| ServerError::Store(format!("log record {first_seq}: {e}")))?;
    for (i, op) in ops.iter_mut().enumerate() {
        op.server_seq = Some(first_seq.max(0) as u64 + i as u64);
    }
    Ok(ops)
}

impl PgMaster {
    /// Connects to the master database at `url` (`postgres://user:password@host:port/db`), creating
    /// or migrating its tables.
    pub fn open(url: &str) -> Result<PgMaster> {
        PgMaster::open_with_replica(url, None)
    }

    /// [`PgMaster::open`], the replica of the server's own writes kept in `replica_dir` between
    /// runs (see `admin.rs`).
    pub fn open_with_replica(url: &str, replica_dir: Option<&std::path::Path>) -> Result<PgMaster> {
        let mut master = PgMaster::connect_session(url)?;
        master.replica_dir = replica_dir.map(std::path::Path::to_path_buf);
        let now = master.wall_millis();
        // Names are for display: a master that cannot write them still serves.
        if let Err(e) = master.name_sites(now) {
            tracing::warn!("could not name the sites in the site directory: {e}");
        }
        Ok(master)
    }

    /// A session on the master database: migrated, its ids read (made on the first start).
    fn connect_session(url: &str) -> Result<PgMaster> {
        let mut db = connect(url)?;
        migrate(&mut db)?;
        let mut tx = db.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let master_id = meta_or_insert(&mut tx, "master_id", || uuid::Uuid::now_v7().to_string())?;
        let server_site_id = meta_or_insert(&mut tx, "server_site_id", || {
            format!("server-{}", uuid::Uuid::now_v7())
        })?;
        tx.execute(
            "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES ($1, 'sync server', '', 0) \
             ON CONFLICT DO NOTHING",
            &[&server_site_id],
        )?;
        tx.commit()?;
        Ok(PgMaster {
            db,
            url: url.to_string(),
            server_site_id,
            master_id,
            max_drift_ms: DEFAULT_MAX_DRIFT_MS,
            replica: Default::default(),
            replica_dir: None,
            clock: None,
            gate: None,
            prepared: Default::default(),
            statistics: std::sync::Arc::new(statistics::Statistics::new(url)),
            places: Default::default(),
        })
    }

    /// Replaces the wall clock of the server's own writes, so tests never read the real date.
    pub fn with_clock(mut self, clock: WallClock) -> PgMaster {
        self.clock = Some(clock);
        self.replica = Default::default();
        self
    }

    /// Test hook: runs inside each push's transaction after its log record is written, before the
    /// commit (a test holds a push there to race a reader or another process against it).
    #[doc(hidden)]
    pub fn set_commit_gate(&mut self, gate: Option<CommitGate>) {
        self.gate = gate;
    }

    fn wall_millis(&self) -> u64 {
        match &self.clock {
            Some(clock) => clock(),
            None => crate::now_ms(),
        }
    }

    fn raise_alarm(&mut self, site_id: Option<&str>, code: &str, detail: &str, now_ms: u64) {
        let result = self.db.execute(
            "INSERT INTO alarm (at_ms, site_id, code, detail) VALUES ($1, $2, $3, $4)",
            &[&(now_ms as i64), &site_id, &code, &detail],
        );
        if let Err(e) = result {
            tracing::error!("could not record alarm {code} for {site_id:?}: {e}");
        }
        tracing::warn!(site = ?site_id, code, "alarm: {}", crate::log_safe(detail));
    }

    /// Accepts already-validated operations of any sites in one transaction under the log's lock:
    /// each site's operations are merged and logged as its push would after the policy's checks
    /// (cursor, chain, merge, log). Public so the benchmark measures exactly that. Returns the
    /// duplicates (operations the log already held).
    pub fn ingest(&mut self, ops: &[Operation], now_ms: u64) -> Result<u64> {
        let mut by_site: std::collections::BTreeMap<&str, Vec<Operation>> = Default::default();
        for op in ops {
            by_site
                .entry(op.site_id.as_str())
                .or_default()
                .push(op.clone());
        }
        let mut tx = self.db.transaction()?;
        let mut sql = prepared::Sql::new(&mut tx, &mut self.prepared);
        ingest::lock_log(&mut sql)?;
        let mut duplicates = 0;
        for (site, ops) in by_site {
            let pushed = ingest::push_locked(
                &mut sql,
                ingest::Pusher::Server(site),
                &ops,
                &[],
                now_ms,
                u64::MAX,
            )?;
            duplicates += pushed.duplicates;
        }
        tx.commit()?;
        self.statistics.after_merge(&mut self.db, ops.len() as u64);
        Ok(duplicates)
    }

    /// Several sites' pushes in one transaction under one hold of the log's lock (issue 12 §4, group
    /// commit): one lock wait and one commit for the group instead of one each. Each push runs in a
    /// savepoint of its own, so a push that fails (a broken hash chain) rolls back alone and the
    /// others commit. Alarms and the quarantine's publication follow the commit.
    fn push_many(
        &mut self,
        items: Vec<(SiteAuth, PushRequest)>,
        now_ms: u64,
    ) -> Vec<Result<PushResponse>> {
        let count = items.len();
        let mut alarms: Vec<(String, String, String)> = Vec::new();
        let mut outcome = self.push_many_in_transaction(&items, now_ms, &mut alarms);
        // A lock cycle that PostgreSQL broke at the group's own statements (the log's lock, the
        // commit) rolled the whole group back: it is done again, as the pushes would be sent again.
        for _ in 0..2 {
            if !matches!(outcome, Err(ServerError::Contended(_))) {
                break;
            }
            alarms.clear();
            outcome = self.push_many_in_transaction(&items, now_ms, &mut alarms);
        }
        for (site_id, code, detail) in &alarms {
            self.raise_alarm(Some(site_id), code, detail, now_ms);
        }
        let results = match outcome {
            Ok(results) => {
                let merged: usize = items
                    .iter()
                    .zip(&results)
                    .filter(|(_, result)| result.is_ok())
                    .map(|((_, request), _)| request.ops.len())
                    .sum();
                self.statistics.after_merge(&mut self.db, merged as u64);
                results
            }
            Err(e) => {
                let why = e.to_string();
                return (0..count)
                    .map(|_| {
                        Err(ServerError::Store(format!(
                            "the group's commit failed: {why}"
                        )))
                    })
                    .collect();
            }
        };
        if results
            .iter()
            .any(|r| r.as_ref().is_ok_and(|p| !p.quarantined.is_empty()))
        {
            // The items reach the site and the district as replicated rows; a failure here is
            // repaired at the next push (the quarantine table is the record).
            if let Err(e) = self.publish_quarantine(now_ms) {
                tracing::error!("could not publish the quarantine items: {e}");
            }
        }
        results
            .into_iter()
            .map(|r| r.map(|pushed| pushed.into_response(now_ms)))
            .collect()
    }

    /// The group's transaction; the alarms to raise after it are collected in `alarms` (site, code,
    /// detail). Err only when the transaction itself failed (every push in it is then unmerged).
    fn push_many_in_transaction(
        &mut self,
        items: &[(SiteAuth, PushRequest)],
        now_ms: u64,
        alarms: &mut Vec<(String, String, String)>,
    ) -> Result<Vec<Result<ingest::Pushed>>> {
        let max_drift_ms = self.max_drift_ms;
        let mut tx = self.db.transaction()?;
        // Phase 1 (see `ingest`): each push staged in a savepoint of its own, beside other
        // writers; the log's lock is taken once for the group, after.
        let mut staged: Vec<ingest::Staged<'_>> = Vec::with_capacity(items.len());
        let mut slots: Vec<std::result::Result<usize, ServerError>> =
            Vec::with_capacity(items.len());
        for (site, request) in items {
            if request.ops.is_empty() {
                slots.push(Ok(staged.len()));
                staged.push(ingest::Staged::empty(&site.site_id));
                continue;
            }
            let sent_instance: String = request.db_instance_id.chars().take(64).collect();
            let mut attempt = 0;
            let mut instance_alarm = None;
            let outcome = loop {
                attempt += 1;
                let mut one = tx.savepoint("push")?;
                let result = stage_one(
                    &mut prepared::Sql::new(&mut one, &mut self.prepared),
                    site,
                    request,
                    &sent_instance,
                    now_ms,
                    max_drift_ms,
                    &mut instance_alarm,
                );
                match result {
                    Ok(one_staged) => {
                        one.commit()?;
                        break Ok(one_staged);
                    }
                    // A lock cycle with another writer: PostgreSQL rolled this push's statements
                    // back; dropping the savepoint releases its locks and the other goes on.
                    Err(ServerError::Contended(_)) if attempt < 3 => drop(one),
                    Err(e) => {
                        drop(one);
                        break Err(e);
                    }
                }
            };
            alarms.extend(instance_alarm);
            match outcome {
                Ok(one_staged) => {
                    if !one_staged.quarantined().is_empty() {
                        let (code, detail) = super::shared::holds_alarm(one_staged.quarantined());
                        alarms.push((site.site_id.clone(), code, detail));
                    }
                    slots.push(Ok(staged.len()));
                    staged.push(one_staged);
                }
                Err(e) => {
                    if matches!(e, ServerError::HashMismatch { .. }) {
                        let detail = format!("{e} (db instance {})", request.db_instance_id);
                        alarms.push((site.site_id.clone(), e.code().to_string(), detail));
                    }
                    slots.push(Err(e));
                }
            }
        }
        // Phase 2: the group's log records, under the log's lock, held to the commit.
        let mut pushed: Vec<Option<ingest::Pushed>> = ingest::log_staged(
            &mut prepared::Sql::new(&mut tx, &mut self.prepared),
            staged,
            now_ms,
        )?
        .into_iter()
        .map(Some)
        .collect();
        if let Some(gate) = &self.gate {
            gate();
        }
        tx.commit()?;
        Ok(slots
            .into_iter()
            .map(|slot| {
                slot.and_then(|i| {
                    pushed
                        .get_mut(i)
                        .and_then(Option::take)
                        .ok_or_else(|| ServerError::Store("a staged push was lost".to_string()))
                })
            })
            .collect())
    }
}

/// Phase 1 of one push of a group: the push staged, and the site's database instance compared with
/// the one it last pushed from (an alarm when it changed, whatever the push's outcome).
fn stage_one<'o>(
    tx: &mut prepared::Sql<'_, '_>,
    site: &SiteAuth,
    request: &'o PushRequest,
    sent_instance: &str,
    now_ms: u64,
    max_drift_ms: u64,
    alarm: &mut Option<(String, String, String)>,
) -> Result<ingest::Staged<'o>> {
    let mut known = None;
    let staged = ingest::stage_from(
        tx,
        ingest::Pusher::Site(site),
        &request.ops,
        &request.divergent,
        now_ms,
        max_drift_ms,
        Some(ingest::Instance {
            sent: sent_instance,
            known: &mut known,
        }),
    );
    *alarm = known
        .filter(|k| !k.is_empty() && k != sent_instance)
        .map(|known| {
            (
                site.site_id.clone(),
                "instance_changed".to_string(),
                format!(
                    "site {} pushed from database instance {} after {}: restored from a backup or copied to another PC",
                    site.site_id, sent_instance, known
                ),
            )
        });
    staged
}

fn migrate(db: &mut Client) -> Result<()> {
    let mut tx = db.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS server_schema (version INTEGER NOT NULL)")?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM server_schema", &[])?
        .get(0);
    for (version, sql) in MIGRATIONS {
        if *version > current {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO server_schema (version) VALUES ($1)",
                &[version],
            )?;
        }
    }
    convert_json_histories(&mut tx)?;
    tx.commit()?;
    Ok(())
}

/// Migration 2: every history still kept as JSON goes to core's binary encoding (a few thousand rows
/// per statement, inside the migration's transaction).
fn convert_json_histories(tx: &mut postgres::Transaction<'_>) -> Result<()> {
    loop {
        let rows = tx.query(
            "SELECT tbl, id, versions::text FROM master_row WHERE history IS NULL LIMIT 5000",
            &[],
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tables = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        let mut histories = Vec::with_capacity(rows.len());
        for row in &rows {
            let table: String = row.get(0);
            let id: String = row.get(1);
            let json: Option<String> = row.get(2);
            let versions: jiceng_core::merge::RowVersions =
                serde_json::from_str(json.as_deref().unwrap_or("{}"))
                    .map_err(|e| ServerError::Store(format!("{table} {id} history: {e}")))?;
            histories.push(codec::encode_row(&versions));
            tables.push(table);
            ids.push(id);
        }
        tx.execute(
            "UPDATE master_row m SET history = h.history, versions = NULL \
             FROM unnest($1::text[], $2::text[], $3::bytea[]) AS h(tbl, id, history) \
             WHERE m.tbl = h.tbl AND m.id = h.id",
            &[&tables, &ids, &histories],
        )?;
    }
}

fn meta_or_insert(
    tx: &mut postgres::Transaction<'_>,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String> {
    if let Some(row) = tx.query_opt("SELECT value FROM server_meta WHERE key = $1", &[&key])? {
        return Ok(row.get(0));
    }
    let value = make();
    tx.execute(
        "INSERT INTO server_meta (key, value) VALUES ($1, $2)",
        &[&key, &value],
    )?;
    Ok(value)
}

impl MasterReads for PgMaster {
    reads::snapshot_reads!();

    fn authenticate(&mut self, token: &str) -> Result<SiteAuth> {
        reads::authenticate(&mut self.db, &mut self.prepared, &self.places, token)
    }

    fn pull_for_schema(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
        store_schema: u32,
        now_ms: u64,
    ) -> Result<PullResponse> {
        reads::pull(
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
        reads::record(&mut self.db, site, table, id)
    }

    fn records(
        &mut self,
        site: &SiteAuth,
        table: &str,
        page: RecordsPage,
    ) -> Result<Vec<serde_json::Value>> {
        reads::records(&mut self.db, site, table, page)
    }
}

impl MasterStore for PgMaster {
    fn writer_factory(&self) -> Option<super::WriterFactory> {
        let url = self.url.clone();
        let clock = self.clock.clone();
        let max_drift_ms = self.max_drift_ms;
        let replica = self.replica.clone();
        let replica_dir = self.replica_dir.clone();
        let statistics = self.statistics.clone();
        let places = self.places.clone();
        Some(Box::new(move || {
            let mut session = PgMaster::connect_session(&url)?;
            session.statistics = statistics.clone();
            session.places = places.clone();
            session.clock = clock.clone();
            session.max_drift_ms = max_drift_ms;
            session.replica = replica.clone();
            session.replica_dir = replica_dir.clone();
            Ok(Box::new(session) as Box<dyn MasterStore>)
        }))
    }

    fn reader_factory(&self) -> Option<super::ReaderFactory> {
        let url = self.url.clone();
        let master_id = self.master_id.clone();
        let places = self.places.clone();
        Some(Box::new(move || {
            Ok(Box::new(PgReader::open(&url, &master_id, places.clone())?) as Box<dyn MasterReads>)
        }))
    }

    fn enrol(&mut self, request: &EnrolRequest, now_ms: u64) -> Result<EnrolResponse> {
        self.enrol_site(request, now_ms)
    }

    fn push(&mut self, site: &SiteAuth, request: PushRequest, now_ms: u64) -> Result<PushResponse> {
        self.push_many(vec![(site.clone(), request)], now_ms)
            .pop()
            .unwrap_or_else(|| Err(ServerError::Store("the push was not processed".to_string())))
    }

    fn push_group(
        &mut self,
        items: Vec<(SiteAuth, PushRequest)>,
        now_ms: u64,
    ) -> Vec<Result<PushResponse>> {
        self.push_many(items, now_ms)
    }

    fn add_org_unit(
        &mut self,
        parent_id: Option<&str>,
        kind: OrgKind,
        name: &str,
    ) -> Result<String> {
        let parent_kind = match parent_id {
            Some(parent) => Some(
                reads::org_unit_kind(&mut self.db, &mut self.prepared, parent)?
                    .ok_or_else(|| ServerError::NotFound(format!("org unit {parent}")))?,
            ),
            None => None,
        };
        super::shared::check_org_parent(parent_kind, kind)?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.wall_millis();
        self.admin_write(now, |store| {
            store.create_org_unit(ADMIN_ACTOR, &id, parent_id, kind, name)?;
            Ok(())
        })?;
        if parent_id.is_none() {
            // The server's own site belongs to the new district.
            self.name_sites(now)?;
        }
        Ok(id)
    }

    fn org_units(&mut self) -> Result<Vec<OrgUnitSummary>> {
        Ok(self
            .db
            .query(
                "SELECT id, vals ->> 'parent_id', COALESCE(vals ->> 'kind', ''), COALESCE(vals ->> 'name', '') \
                 FROM master_row WHERE tbl = 'org_unit' \
                 ORDER BY vals ->> 'kind' COLLATE \"C\", vals ->> 'name' COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| OrgUnitSummary {
                id: r.get(0),
                parent_id: r.get(1),
                kind: r.get(2),
                name: r.get(3),
            })
            .collect())
    }

    fn add_site(&mut self, org_unit_id: &str, name: &str, now_ms: u64) -> Result<(String, String)> {
        if reads::org_unit_kind(&mut self.db, &mut self.prepared, org_unit_id)?.is_none() {
            return Err(ServerError::NotFound(format!("org unit {org_unit_id}")));
        }
        let name = super::shared::site_name(name)?;
        let site_id = uuid::Uuid::now_v7().to_string();
        self.db.execute(
            "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES ($1, $2, $3, $4)",
            &[&site_id, &name, &org_unit_id, &(now_ms as i64)],
        )?;
        self.name_sites(now_ms)?;
        let code = self.new_enrolment_code(&site_id, now_ms)?;
        Ok((site_id, code))
    }

    fn new_enrolment_code(&mut self, site_id: &str, now_ms: u64) -> Result<String> {
        self.issue_enrolment_code(site_id, now_ms)
    }

    fn sites(&mut self) -> Result<Vec<SiteSummary>> {
        self.site_summaries(None)
    }

    fn add_user(
        &mut self,
        username: &str,
        display_name: &str,
        role: Role,
        org_unit_id: &str,
        password: &str,
    ) -> Result<String> {
        let user = jiceng_core::store::NewUser {
            username: username.to_string(),
            display_name: display_name.to_string(),
            role,
            org_unit_id: org_unit_id.to_string(),
            password: password.to_string(),
        };
        let now = self.wall_millis();
        self.admin_write(now, |store| Ok(store.create_user(ADMIN_ACTOR, &user)?))
    }

    fn add_case_as_admin(&mut self, input: jiceng_core::model::CaseInput) -> Result<String> {
        let district = self
            .org_units()?
            .into_iter()
            .find(|u| u.kind == OrgKind::District.code())
            .ok_or_else(|| ServerError::NotFound("district org unit".to_string()))?;
        let admin = jiceng_core::model::SessionUser {
            user_id: ADMIN_ACTOR.to_string(),
            username: ADMIN_ACTOR.to_string(),
            display_name: "区司法局".to_string(),
            role: Role::DistrictAdmin,
            org_unit_id: district.id,
        };
        let now = self.wall_millis();
        self.admin_write(now, |store| Ok(store.save_case(&admin, input)?.id))
    }

    fn alarms(&mut self) -> Result<Vec<Alarm>> {
        Ok(self
            .db
            .query(
                "SELECT at_ms, site_id, code, detail FROM alarm ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| Alarm {
                at_ms: r.get::<_, i64>(0).max(0) as u64,
                site_id: r.get(1),
                code: r.get(2),
                detail: r.get(3),
            })
            .collect())
    }

    fn own_log(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<Operation>, bool)> {
        let mut ops: Vec<Operation> = Vec::new();
        for row in self.db.query(
            "SELECT first_seq, ops FROM log_record WHERE origin_site = $1 AND last_site_seq > $2 \
             ORDER BY first_site_seq",
            &[&site.site_id, &(after as i64)],
        )? {
            ops.extend(
                decode_record(row.get(0), row.get(1))?
                    .into_iter()
                    .filter(|op| op.site_seq > after),
            );
            if ops.len() > limit {
                break;
            }
        }
        for row in self.db.query(
            "SELECT site_seq, op FROM quarantine WHERE site_id = $1 AND site_seq > $2 ORDER BY site_seq",
            &[&site.site_id, &(after as i64)],
        )? {
            let mut op = super::review::decode_held(row.get::<_, i64>(0).max(0) as u64, row.get(1))?;
            op.server_seq = Some(0);
            ops.push(op);
        }
        ops.sort_by_key(|op| op.site_seq);
        ops.dedup_by_key(|op| op.site_seq);
        let has_more = ops.len() > limit;
        ops.truncate(limit);
        Ok((ops, has_more))
    }

    fn quarantine(&mut self) -> Result<Vec<QuarantineItem>> {
        Ok(self
            .held(None, false)?
            .into_iter()
            .map(super::review::item_of)
            .collect())
    }

    fn decide_quarantine(
        &mut self,
        decider: &SiteAuth,
        decision: &jiceng_core::wire::QuarantineDecision,
        now_ms: u64,
    ) -> Result<QuarantineItem> {
        self.decide_held(decider, decision, now_ms)
    }

    fn bundle_site(&mut self, site_id: &str) -> Result<BundleSite> {
        self.bundle_signer(site_id)
    }

    fn reset_password(&mut self, username: &str, temporary: &str, now_ms: u64) -> Result<String> {
        self.admin_write(now_ms, |store| {
            Ok(store.reset_password_by_district(ADMIN_ACTOR, username, temporary)?)
        })
    }

    fn set_user_disabled(
        &mut self,
        user_id: &str,
        disabled: bool,
        now_ms: u64,
    ) -> Result<UserSummary> {
        self.admin_write(now_ms, |store| {
            Ok(store.set_user_disabled(ADMIN_ACTOR, user_id, disabled)?)
        })
    }

    fn record_admin_action(&mut self, record: &AdminActionRecord) -> Result<()> {
        self.db.execute(
            "INSERT INTO admin_action (at_ms, via_site, by_user_id, by_name, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &(record.at_ms as i64),
                &record.via_site,
                &record.by_user_id,
                &record.by,
                &record.action,
                &record.target,
                &record.detail,
            ],
        )?;
        Ok(())
    }

    fn rotate_token(&mut self, site: &SiteAuth, now_ms: u64) -> Result<String> {
        self.issue_next_token(&site.site_id, now_ms)
    }

    fn site_recovery_code(&mut self, site: &SiteAuth, now_ms: u64) -> Result<String> {
        self.recovery_code_of(&site.site_id, now_ms)
    }

    fn read_recovery_code(&mut self, site_id: &str, by: &str, now_ms: u64) -> Result<String> {
        self.recovery_code_for_district(site_id, by, now_ms)
    }

    fn revoke_site(
        &mut self,
        site_id: &str,
        by: &str,
        reason: &str,
        now_ms: u64,
    ) -> Result<SiteSummary> {
        self.revoke(site_id, by, reason, now_ms)
    }

    fn set_max_drift_ms(&mut self, max_drift_ms: u64) {
        self.max_drift_ms = max_drift_ms;
    }

    fn set_wall_clock(&mut self, clock: jiceng_core::store::WallClock) {
        self.clock = Some(clock);
        // The replica writes with the clock it was made with: the next admin write makes another.
        *self.replica.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn log_len(&mut self) -> Result<u64> {
        let len: i64 = self
            .db
            .query_one(
                "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0)::bigint FROM log_record",
                &[],
            )?
            .get(0);
        Ok(len.max(0) as u64)
    }
}

/// The tests' throw-away cluster (`initdb` + `pg_ctl` on a free local port).
#[cfg(test)]
#[path = "../../../../tests/src/pg.rs"]
#[allow(dead_code)]
mod pg;

#[cfg(test)]
mod tests {
    use super::pg;

    /// The server's sessions run without PostgreSQL's JIT, even when the URL's own options turn it
    /// on: compiling the push's and pull's statements took a tenth of the cores under load (issue 12
    /// §4, BENCHMARKS.md). The URL's other options still apply.
    #[test]
    fn sessions_run_without_jit_whatever_the_url_asks() {
        let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
        let url = cluster.fresh_database("jit").unwrap();
        let separator = if url.contains('?') { '&' } else { '?' };
        let asking = format!("{url}{separator}options=-c%20jit%3Don%20-c%20work_mem%3D7MB");
        for url in [&url, &asking] {
            let mut session = super::connect(url).unwrap();
            let jit: String = session.query_one("SHOW jit", &[]).unwrap().get(0);
            assert_eq!(jit, "off", "{url}");
        }
        let mut session = super::connect(&asking).unwrap();
        let work_mem: String = session.query_one("SHOW work_mem", &[]).unwrap().get(0);
        assert_eq!(work_mem, "7MB", "the URL's other options still apply");
    }
}
