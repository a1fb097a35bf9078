//! The district master record behind one trait, so the SQLite backend (default, a file) and a
//! PostgreSQL backend (for districts that outgrow one file) are chosen by URI and the HTTP layer never
//! sees SQL.

pub mod backup;
pub mod log_files;
mod pool;
mod postgres;
pub mod review;
mod scope_units;
pub mod shared;
pub mod snapshot;
mod sqlite;

pub use pool::{MasterPool, WriterFactory, WriterSession, MAX_PG_WRITERS};
pub use postgres::{CommitGate, PgMaster, PgReader, ReplicaState, ORG_TREE_LOOKUPS};
pub use scope_units::ScopeUnits;
pub use sqlite::{Ingested, SqliteMaster, MAX_FUTURE_DRIFT_MS};

use crate::error::Result;
use jiceng_core::model::{OrgKind, Role};
use jiceng_core::wire::{EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse};
use serde::Serialize;

/// An authenticated site and what it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteAuth {
    pub site_id: String,
    pub org_unit_id: String,
    pub kind: OrgKind,
    /// The site's org unit and every unit below it.
    pub scope: ScopeUnits,
    /// The site's org unit and every unit above it (the district's settings reach down to every site).
    pub ancestors: Vec<String>,
    /// When the district registered the site: none of its operations can be older (less the drift).
    pub created_at_ms: u64,
}

impl SiteAuth {
    pub fn covers(&self, unit: &str) -> bool {
        self.scope.contains(unit)
    }
}

/// An enrolled site as a sync bundle's signer (issue 10 §7).
#[derive(Debug, Clone)]
pub struct BundleSite {
    pub auth: SiteAuth,
    pub name: String,
    /// The digests of the tokens its bundles may be signed under (current, next, before rotation).
    pub token_digests: Vec<String>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alarm {
    pub at_ms: u64,
    pub site_id: Option<String>,
    pub code: String,
    pub detail: String,
}

/// What the audit log received from one site (issue 13 §1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteActivity {
    pub site_id: String,
    pub operations_in_window: u64,
    pub last_received_ms: u64,
}

/// A page of `/records`: rows with ids after `after` (keyset paging), skipping `offset` of them.
#[derive(Debug, Clone, Default)]
pub struct RecordsPage {
    pub after: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// One operation held in quarantine (issue 9), as the district reviews it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarantineItem {
    pub site_id: String,
    pub site_seq: u64,
    pub received_at_ms: u64,
    pub table: String,
    pub row_id: String,
    pub field: String,
    pub code: String,
    pub reason: String,
    pub reason_zh: String,
    /// `held`, `released` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<u64>,
}

pub use jiceng_core::wire::SiteSummary;

pub use jiceng_core::directory_admin::{AdminActionRecord, OrgUnitSummary, UserSummary};

/// The master's reads (issue 12 §3), on one session (a connection) used by one request at a time;
/// [`MasterPool`] shares sessions between requests. The writer answers them too; readers of their own answer them
/// beside a running push (a pull never waits behind the writer).
pub trait MasterReads: Send {
    fn authenticate(&mut self, token: &str) -> Result<SiteAuth>;
    fn pull(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
        now_ms: u64,
    ) -> Result<PullResponse> {
        self.pull_for_schema(site, after, limit, jiceng_core::store::STORE_SCHEMA, now_ms)
    }
    /// [`MasterReads::pull`] for a site whose store has `store_schema`: rows of tables introduced
    /// later are left out (issue 10 §4), though the cursor moves past them.
    fn pull_for_schema(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
        store_schema: u32,
        now_ms: u64,
    ) -> Result<PullResponse>;
    /// One master row as JSON (its visible fields), if the site may read it.
    fn record(&mut self, site: &SiteAuth, table: &str, id: &str) -> Result<serde_json::Value>;
    /// Master rows of a table inside the site's read scope, ordered by id.
    fn records(
        &mut self,
        site: &SiteAuth,
        table: &str,
        page: RecordsPage,
    ) -> Result<Vec<serde_json::Value>>;

    // Issue 12 §6, a new site's snapshot (`snapshot::snapshot_page` asks these).
    /// This copy of the master's id and its log head: every server_seq up to it is committed.
    fn snapshot_origin(&mut self) -> Result<(String, u64)>;
    /// Rows of `def` owned by one of `units`, with ids after `after`, in id order, at most `limit`:
    /// each with its whole field history (what a site that merged every operation holds).
    fn owned_rows(
        &mut self,
        def: &'static jiceng_core::tables::TableDef,
        units: &[String],
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, jiceng_core::merge::RowVersions)>>;
    /// Issue 13 §3: every user of the district (disabled ones too), never a password hash.
    fn users(&mut self) -> Result<Vec<UserSummary>>;
    /// Issue 13 §3: the latest `limit` audited administrative changes, newest first.
    fn admin_actions(&mut self, limit: usize) -> Result<Vec<AdminActionRecord>>;
    /// Issue 13 §1, the nightly reconciliation: per site that ever sent anything, the operations
    /// received in [from_ms, to_ms) and when its last one arrived.
    fn site_activity(&mut self, from_ms: u64, to_ms: u64) -> Result<Vec<SiteActivity>>;
    /// The conflict items of rows of a table.
    fn conflicts_of(
        &mut self,
        table: &str,
        ids: &[String],
    ) -> Result<Vec<jiceng_core::wire::SnapshotConflict>>;
}

/// Opens another reader of a master.
pub type ReaderFactory = Box<dyn Fn() -> Result<Box<dyn MasterReads>> + Send + Sync>;

/// A writer session of the master: one connection, used by one request at a time ([`MasterPool`]
/// shares a backend's sessions between requests, `&self`).
pub trait MasterStore: MasterReads {
    /// How to open readers beside this writer; None when the master cannot be read beside it (in
    /// memory), and every read then goes through the writer.
    fn reader_factory(&self) -> Option<ReaderFactory> {
        None
    }
    /// How to open more writer sessions beside this one (PostgreSQL); None when the master has one
    /// writer (SQLite).
    fn writer_factory(&self) -> Option<WriterFactory> {
        None
    }
    fn enrol(&mut self, request: &EnrolRequest, now_ms: u64) -> Result<EnrolResponse>;
    /// Appends a site's operations to the log and merges them into the master (idempotent on
    /// (site id, site_seq)).
    fn push(&mut self, site: &SiteAuth, request: PushRequest, now_ms: u64) -> Result<PushResponse>;
    /// Several sites' pushes at once (issue 12 §4, group commit), answered in their order. A backend
    /// that cannot group them pushes them one by one.
    fn push_group(
        &mut self,
        items: Vec<(SiteAuth, PushRequest)>,
        now_ms: u64,
    ) -> Vec<Result<PushResponse>> {
        items
            .into_iter()
            .map(|(site, request)| self.push(&site, request, now_ms))
            .collect()
    }

    // Administration (D-2).
    fn add_org_unit(
        &mut self,
        parent_id: Option<&str>,
        kind: OrgKind,
        name: &str,
    ) -> Result<String>;
    fn org_units(&mut self) -> Result<Vec<OrgUnitSummary>>;
    /// Registers a site at an org unit; returns its id and a one-time enrolment code.
    fn add_site(&mut self, org_unit_id: &str, name: &str, now_ms: u64) -> Result<(String, String)>;
    fn new_enrolment_code(&mut self, site_id: &str, now_ms: u64) -> Result<String>;
    fn sites(&mut self) -> Result<Vec<SiteSummary>>;
    fn add_user(
        &mut self,
        username: &str,
        display_name: &str,
        role: Role,
        org_unit_id: &str,
        password: &str,
    ) -> Result<String>;
    /// Writes a corrections case as the district administrator (demo data, imports).
    fn add_case_as_admin(&mut self, input: jiceng_core::model::CaseInput) -> Result<String>;
    fn alarms(&mut self) -> Result<Vec<Alarm>>;
    /// The site's own operations after `after` (merged or held), in site_seq order, at most `limit`;
    /// and whether more follow (issue 10 §3: a restored or copied store catches up with its log).
    fn own_log(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<jiceng_core::op::Operation>, bool)>;
    /// Every operation ever held in quarantine, oldest first.
    fn quarantine(&mut self) -> Result<Vec<QuarantineItem>>;
    /// The district's decision on one held operation (`decider` must be a district site).
    fn decide_quarantine(
        &mut self,
        decider: &SiteAuth,
        decision: &jiceng_core::wire::QuarantineDecision,
        now_ms: u64,
    ) -> Result<QuarantineItem>;
    /// The one clock-drift setting (see [`crate::policy::DEFAULT_MAX_DRIFT_MS`]).
    /// The site a sync bundle names, with the digests of its tokens (the bundle's key is derived from
    /// one) and its name; an unknown site is `BundleUnknownSite`.
    fn bundle_site(&mut self, site_id: &str) -> Result<BundleSite>;
    /// Issue 11 §4: the district resets a user's password (must be changed at next login); replicated
    /// to the user's unit and audited as an account event.
    fn reset_password(&mut self, username: &str, temporary: &str, now_ms: u64) -> Result<String>;
    /// Issue 13 §3: disables a user (no sign-in anywhere; their work stays) or enables them again;
    /// replicated to the user's unit like any directory change.
    fn set_user_disabled(
        &mut self,
        user_id: &str,
        disabled: bool,
        now_ms: u64,
    ) -> Result<UserSummary>;
    /// Issue 13 §3: keeps one administrative change in the district's audit.
    fn record_admin_action(&mut self, record: &AdminActionRecord) -> Result<()>;
    /// Issue 11 §3: a new token for the site (valid beside the current one until first used).
    fn rotate_token(&mut self, site: &SiteAuth, now_ms: u64) -> Result<String>;
    /// Issue 11 §1: the site's recovery code (made at its first asking), which its desktop wraps its
    /// store's key for.
    fn site_recovery_code(&mut self, site: &SiteAuth, now_ms: u64) -> Result<String>;
    /// Issue 11 §1: the district reads a site's recovery code out (recorded with who and when).
    fn read_recovery_code(&mut self, site_id: &str, by: &str, now_ms: u64) -> Result<String>;
    /// Issue 11 §3: the district takes a site out (its token and codes stop working).
    fn revoke_site(
        &mut self,
        site_id: &str,
        by: &str,
        reason: &str,
        now_ms: u64,
    ) -> Result<SiteSummary>;
    fn set_max_drift_ms(&mut self, max_drift_ms: u64);
    /// The wall clock of the server's own writes from now on (the demo month writes its directory
    /// as of a month ago, so that a closed day before today already holds it).
    fn set_wall_clock(&mut self, clock: jiceng_core::store::WallClock);
    /// Total operations in the audit log.
    fn log_len(&mut self) -> Result<u64>;
}

fn is_postgres(uri: &str) -> bool {
    uri.starts_with("postgres://") || uri.starts_with("postgresql://")
}

/// Backs the master named by `uri` up into the new directory `dir` while it serves (issue 10 §6):
/// the SQLite file and its log segments, or a PostgreSQL dump of one snapshot.
pub fn backup_to(uri: &str, dir: &std::path::Path) -> Result<backup::BackupSummary> {
    if is_postgres(uri) {
        return postgres::backup::backup(uri, dir);
    }
    let path = uri.strip_prefix("sqlite://").unwrap_or(uri);
    backup::backup(std::path::Path::new(path), dir)
}

/// Puts the backup in `dir` in place of the master named by `uri` (every server stopped); returns
/// where what it replaced was kept (a file path, or the renamed PostgreSQL database).
/// A SQLite master's segments go to `oplog_dir` when given (else where the replaced master kept its).
pub fn restore_from(
    uri: &str,
    oplog_dir: Option<&std::path::Path>,
    dir: &std::path::Path,
    now_ms: u64,
) -> Result<Option<String>> {
    if is_postgres(uri) {
        return postgres::backup::restore(uri, dir, now_ms);
    }
    let path = uri.strip_prefix("sqlite://").unwrap_or(uri);
    Ok(
        backup::restore(std::path::Path::new(path), oplog_dir, dir, now_ms)?
            .map(|p| p.display().to_string()),
    )
}

/// Opens the master named by `uri`: a file path (or `sqlite://path`) for the embedded SQLite backend,
/// `postgres://user:password@host:port/database` for PostgreSQL.
pub fn open(uri: &str) -> Result<Box<dyn MasterStore>> {
    open_with(uri, None, None)
}

/// [`open`], a SQLite master's audit-log segments in `oplog_dir` (issue 14 §2; None: where the
/// master recorded them, else beside the file). A PostgreSQL master keeps its log in the database
/// and ignores the setting; it keeps the replica of the server's own writes in `replica_dir` between
/// runs (None: in memory), which a SQLite master has no need of (it writes on its own store).
pub fn open_with(
    uri: &str,
    oplog_dir: Option<&std::path::Path>,
    replica_dir: Option<&std::path::Path>,
) -> Result<Box<dyn MasterStore>> {
    if is_postgres(uri) {
        if let Some(dir) = oplog_dir {
            tracing::warn!(
                "oplog_dir {} is ignored: a PostgreSQL master keeps its audit log in the database",
                dir.display()
            );
        }
        return Ok(Box::new(PgMaster::open_with_replica(uri, replica_dir)?));
    }
    if let Some(dir) = replica_dir {
        tracing::warn!(
            "replica_dir {} is ignored: a SQLite master makes its own writes on its own file",
            dir.display()
        );
    }
    let path = uri.strip_prefix("sqlite://").unwrap_or(uri);
    Ok(Box::new(SqliteMaster::open_with(
        std::path::Path::new(path),
        oplog_dir,
    )?))
}
