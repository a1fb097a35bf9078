//! The embedded SQLite master: core's replicated tables (merged with core's own merge) plus the
//! server's tables from `schema/server/`.

use super::log_files::{self, Head, Location, LogFiles};
use super::{
    shared, AdminActionRecord, Alarm, BundleSite, MasterStore, OrgUnitSummary, QuarantineItem,
    SiteAuth, SiteSummary, UserSummary,
};
use crate::error::{Result, ServerError};
use crate::policy::{MasterFacts, RowFacts, DEFAULT_MAX_DRIFT_MS};
use jiceng_core::merge::RowVersions;
use jiceng_core::model::{OrgKind, Role};
use jiceng_core::op::Operation;
use jiceng_core::store::merge_sql::master::{self as merge, OperationLog, RowCache};
use jiceng_core::store::{NewUser, Store};
use jiceng_core::tables::{self, TableDef, ROW_ID_SCOPE};
use jiceng_core::validate::Refusal;
use jiceng_core::wire::{
    Ack, EnrolRequest, EnrolResponse, HeldOperation, PushRequest, PushResponse, RowRef,
};
use jiceng_core::{auth, codec};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::path::Path;

mod quarantine;
mod reads;
use reads::Viewed;
mod sites;

const SERVER_MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../../schema/server/0001_master.sql")),
    (
        2,
        include_str!("../../../schema/server/0002_quarantine_review.sql"),
    ),
    (3, include_str!("../../../schema/server/0003_master_id.sql")),
    (
        4,
        include_str!("../../../schema/server/0004_scope_moves.sql"),
    ),
    (
        5,
        include_str!("../../../schema/server/0005_site_tokens.sql"),
    ),
    (
        6,
        include_str!("../../../schema/server/0006_recovery_codes.sql"),
    ),
    (
        7,
        include_str!("../../../schema/server/0007_admin_actions.sql"),
    ),
];
/// The server's own writes (admin CLI) are logged under this user id.
const ADMIN_ACTOR: &str = "admin";
use shared::SITE_NAME_CHARS;
/// Enrolment codes expire after 14 days.
const CODE_TTL_MS: u64 = 14 * 24 * 3600 * 1000;
/// Rows whose winning clocks the merge keeps in memory between batches (a few hundred bytes each).
const ROW_CACHE_ROWS: usize = 200_000;
const MASTER_CACHE_KIB: i64 = 256 * 1024;
const MASTER_MMAP_BYTES: i64 = 1 << 30;
/// WAL pages before a commit checkpoints (SQLite's default is 1,000 = 4 MiB of WAL). The master is one
/// long-lived writer with a large page cache: a checkpoint copies each page once however many commits
/// changed it since the last one, so checkpointing every ~40 MiB instead of every 4 MiB writes the hot
/// pages (the b-trees' right edges, the site cursors, rows edited again and again) to the file far fewer
/// times, and a push stalls on a checkpoint ten times less often. The price: readers search a larger
/// wal-index and up to 40 MiB more of WAL sits on disk (cut back by `journal_size_limit`).
const MASTER_WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;
/// Bytes the WAL file is cut back to after a checkpoint has reset it.
const MASTER_JOURNAL_SIZE_LIMIT: i64 = 64 << 20;

/// Where a master's audit-log segments are to be found.
enum LogPlace<'a> {
    Memory,
    /// Of the master file `db`, in `dir` if asked (else where the master recorded, else beside it).
    Files {
        db: &'a Path,
        dir: Option<&'a Path>,
    },
}

pub struct SqliteMaster {
    /// Winning clocks of recently merged rows (the server is the master's only writer while it runs),
    /// and the merge's statements. Declared before `store` so that it is dropped first: SQLite does
    /// not close a connection whose statements are not finalized.
    rows: RowCache,
    store: Store,
    /// The audit log's records (segment files beside the master file; `log_chunk` is their index).
    log: LogFiles,
    server_site_id: String,
    /// `PRAGMA data_version` when `rows` was last known to match the file: another connection (the
    /// admin CLI) committing changes it, and the cache is then dropped.
    data_version: i64,
    /// Test hook: the next ingest writes its log records, then fails before its commit (a crash).
    crash_before_commit: bool,
    /// How far an operation's clock may stray from the server's before it is held (one setting).
    max_drift_ms: u64,
    /// This copy of the master record (new when restored from a backup; issue 10 §6).
    master_id: String,
    /// The master file, for readers beside this writer (None in memory).
    path: Option<std::path::PathBuf>,
    /// A read connection of this writer's, opened at the first ingest (a file master only): it asks
    /// the owners of the rows a batch moves on the merge's second thread, from the last commit,
    /// which is the state before the batch while the writer holds its transaction.
    owners_reader: Option<std::sync::Mutex<Connection>>,
}

impl SqliteMaster {
    pub fn open(path: &Path) -> Result<SqliteMaster> {
        SqliteMaster::open_with(path, None)
    }

    /// Opens the master file `path`, its audit-log segments in `oplog_dir` (issue 14 §2; None: where
    /// the master recorded them, else beside it — see [`log_files::resolve_base`]).
    pub fn open_with(path: &Path, oplog_dir: Option<&Path>) -> Result<SqliteMaster> {
        let store = Store::open(path)?;
        let mut master = SqliteMaster::init(
            store,
            LogPlace::Files {
                db: path,
                dir: oplog_dir,
            },
        )?;
        master.path = Some(path.to_path_buf());
        Ok(master)
    }

    pub fn open_in_memory() -> Result<SqliteMaster> {
        SqliteMaster::init(Store::open_in_memory()?, LogPlace::Memory)
    }

    fn init(mut store: Store, place: LogPlace<'_>) -> Result<SqliteMaster> {
        let conn = store.connection_mut();
        // The master is one long-lived process: a large page cache and memory-mapped reads keep the
        // merge's row lookups off the pread path (they were a tenth of the merge's time).
        conn.pragma_update(None, "cache_size", -MASTER_CACHE_KIB)?;
        conn.pragma_update(None, "mmap_size", MASTER_MMAP_BYTES)?;
        conn.pragma_update(None, "wal_autocheckpoint", MASTER_WAL_AUTOCHECKPOINT_PAGES)?;
        conn.pragma_update(None, "journal_size_limit", MASTER_JOURNAL_SIZE_LIMIT)?;
        // Per-table UPDATE shapes and the log's statements stay prepared.
        conn.set_prepared_statement_cache_capacity(256);
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS server_schema (version INTEGER NOT NULL) STRICT;",
        )?;
        let current: u32 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM server_schema",
            [],
            |r| r.get(0),
        )?;
        for (version, sql) in SERVER_MIGRATIONS {
            if *version > current {
                let tx = conn.transaction()?;
                tx.execute_batch(sql)?;
                tx.execute("INSERT INTO server_schema (version) VALUES (?1)", [version])?;
                tx.commit()?;
            }
        }
        merge::ensure_log_columns(conn)?;
        let blob_log: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('log_chunk') WHERE name = 'ops')",
            [],
            |r| r.get(0),
        )?;
        if blob_log {
            return Err(ServerError::Store(
                "this master keeps its audit log inside the database file (a format from before 2026-11-28); no such masters were deployed: create a new master".to_string(),
            ));
        }
        let head = log_head(conn)?.1;
        let log = match place {
            LogPlace::Memory => LogFiles::in_memory(),
            LogPlace::Files { db, dir } => {
                LogFiles::at(&log_files::resolve_base(conn, db, dir, head)?)
            }
        };
        log.check(head)?;
        let master_id: String = match conn
            .query_row(
                "SELECT value FROM server_meta WHERE key = 'master_id'",
                [],
                |r| r.get(0),
            )
            .optional()?
        {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                conn.execute(
                    "INSERT INTO server_meta (key, value) VALUES ('master_id', ?1)",
                    [&id],
                )?;
                id
            }
        };
        let server_site_id = match store.identity()? {
            Some(identity) => identity.site_id,
            None => {
                let site_id = format!("server-{}", uuid::Uuid::now_v7());
                store.set_identity(&shared::server_site_identity(&site_id))?;
                store.connection().execute(
                    "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES (?1, 'sync server', '', 0)",
                    [&site_id],
                )?;
                site_id
            }
        };
        let data_version = data_version(store.connection())?;
        let mut master = SqliteMaster {
            store,
            log,
            server_site_id,
            rows: RowCache::new(ROW_CACHE_ROWS),
            data_version,
            crash_before_commit: false,
            max_drift_ms: DEFAULT_MAX_DRIFT_MS,
            master_id,
            path: None,
            owners_reader: None,
        };
        // Names are for display: a master that cannot write them still serves.
        if let Err(e) = master.name_sites(master.store.wall_millis()) {
            tracing::warn!("could not name the sites in the site directory: {e}");
        }
        Ok(master)
    }

    /// Gives every site that has none an entry in the replicated site directory (its name as the
    /// admin gave it; the server itself as 同步服务器), so that histories and conflict items on the
    /// desktops name the PC a version came from. Sites await their district: a site of a unit with
    /// no district above it is named once there is one.
    fn name_sites(&mut self, now_ms: u64) -> Result<()> {
        let unnamed: Vec<(String, String, String)> = {
            let mut stmt = self.store.connection().prepare(
                "SELECT s.id, s.name, s.org_unit_id FROM site s \
                 WHERE NOT EXISTS (SELECT 1 FROM site_directory d WHERE d.id = s.id) ORDER BY s.id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut named = 0;
        for (site_id, name, unit) in unnamed {
            let district = if unit.is_empty() {
                self.store
                    .connection()
                    .query_row(
                        "SELECT id FROM org_unit WHERE parent_id IS NULL AND COALESCE(_deleted, 0) = 0 ORDER BY id LIMIT 1",
                        [],
                        |r| r.get::<_, String>(0),
                    )
                    .optional()?
            } else {
                self.store.org_ancestors(&unit)?.pop()
            };
            let Some(district) = district else {
                continue;
            };
            // Display only: a name longer than the directory keeps (an older master's) is cut, so
            // that opening the master never fails on it.
            let name: String = if site_id == self.server_site_id {
                "同步服务器".to_string()
            } else {
                name.trim().chars().take(SITE_NAME_CHARS).collect()
            };
            if name.is_empty() {
                continue;
            }
            self.store
                .name_site(ADMIN_ACTOR, &site_id, &district, &unit, &name)?;
            named += 1;
        }
        if named > 0 {
            self.publish_own_writes(now_ms)?;
        }
        Ok(())
    }

    /// Replaces the wall clock of the server's own writes (admin commands, the site directory,
    /// quarantine items), so tests never read the real date.
    pub fn with_clock(mut self, clock: jiceng_core::store::WallClock) -> SqliteMaster {
        self.store = self.store.with_clock(clock);
        self
    }

    /// The one clock-drift setting: operations stamped further ahead of the server's clock, or further
    /// before the site was registered, are held (default one hour).
    pub fn set_max_drift_ms(&mut self, max_drift_ms: u64) {
        self.max_drift_ms = max_drift_ms;
    }

    /// Test hook: the next ingest writes and syncs its log records, then fails without committing,
    /// as a crash between the log append and the SQLite commit would.
    #[doc(hidden)]
    pub fn crash_before_next_commit(&mut self) {
        self.crash_before_commit = true;
    }

    /// The master's domain tables and log, for tests and tools that read SQL directly.
    pub fn connection(&self) -> &Connection {
        self.store.connection()
    }

    /// Moves the server's own writes (admin commands) into the audit log so sites pull them.
    fn publish_own_writes(&mut self, now_ms: u64) -> Result<()> {
        // The admin write path merged into the tables without the row cache.
        self.rows.clear();
        loop {
            let ops = self.store.unacked_ops(10_000)?;
            if ops.is_empty() {
                return Ok(());
            }
            let site_id = self.server_site_id.clone();
            let tx = self
                .store
                .connection_mut()
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Already merged into the master by the local write path: only log them.
            let refs: Vec<&Operation> = ops.iter().collect();
            let (mut next_seq, head) = log_head(&tx)?;
            let record = next_seq;
            let mut pending = Vec::new();
            let acks = append_to_log(&site_id, &refs, &|_| false, &mut next_seq, &mut pending);
            write_log(&tx, &self.log, head, now_ms, pending)?;
            // The rows' `_log` names the record, so their field histories stay complete.
            let mut rows: Vec<(&str, &str)> = refs
                .iter()
                .map(|op| (op.table.as_str(), op.row_id.as_str()))
                .collect();
            rows.sort_unstable();
            rows.dedup();
            merge::add_record_to_rows(&tx, &rows, record)?;
            tx.commit()?;
            let pairs: Vec<(u64, u64)> = acks.iter().map(|a| (a.site_seq, a.server_seq)).collect();
            self.store.mark_acked(&pairs)?;
        }
    }

    /// Accepts already-validated operations: idempotency by (site, site_seq), hash chain, merge, log.
    /// Public so the benchmark measures exactly what a push does after its checks.
    pub fn ingest(&mut self, ops: &[Operation], now_ms: u64) -> Result<Ingested> {
        self.ingest_holding(ops, now_ms, &Holds::default())
    }

    /// [`SqliteMaster::ingest`], holding the operations the policy refused.
    pub fn ingest_holding(
        &mut self,
        ops: &[Operation],
        now_ms: u64,
        holds: &Holds,
    ) -> Result<Ingested> {
        // Emptied first if the last batch never committed (an error, or a panic mid-batch).
        self.rows.begin();
        let result = self.ingest_in_transaction(ops, now_ms, holds);
        match result {
            Ok(_) => self.rows.committed(),
            // The transaction rolled back: the cache may hold rows that were never committed.
            Err(_) => self.rows.clear(),
        }
        result
    }

    fn ingest_in_transaction(
        &mut self,
        ops: &[Operation],
        now_ms: u64,
        holds: &Holds,
    ) -> Result<Ingested> {
        // Per site, sites in id order. A batch holds runs of one site's operations: compare with the
        // previous operation's site before looking the site up.
        let mut by_site: Vec<(&str, Vec<&Operation>)> = Vec::new();
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut current: Option<(&str, usize)> = None;
        for op in ops {
            let site = op.site_id.as_str();
            let i = match current {
                Some((s, i)) if s == site => i,
                _ => *index.entry(site).or_insert_with(|| {
                    by_site.push((site, Vec::new()));
                    by_site.len() - 1
                }),
            };
            current = Some((site, i));
            by_site[i].1.push(op);
        }
        by_site.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let tx = self
            .store
            .connection_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read under the write lock: another process (the admin CLI) may have committed until now.
        let version = data_version(&tx)?;
        if version != self.data_version {
            self.rows.clear();
            self.data_version = version;
        }
        let mut acks = Vec::with_capacity(ops.len());
        let mut duplicates = 0;
        let mut by_site_out: HashMap<String, SiteIngested> = HashMap::new();
        let mut fresh: Vec<(&str, String, Vec<&Operation>)> = Vec::new();
        for (site_id, mut site_ops) in by_site {
            if !site_ops.is_sorted_by_key(|o| o.site_seq) {
                site_ops.sort_by_key(|o| o.site_seq);
            }
            let (last_seq, last_hash): (u64, String) = tx
                .prepare_cached("SELECT last_seq, last_hash FROM site WHERE id = ?1")?
                .query_row([site_id], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
                .optional()?
                .ok_or_else(|| ServerError::NotFound(format!("site {site_id}")))?;
            let split = site_ops.partition_point(|o| o.site_seq <= last_seq);
            if split > 0 {
                let mut stored = StoredOps::default();
                for op in &site_ops[..split] {
                    match stored.find(&tx, &self.log, site_id, op.site_seq)? {
                        Some((hash, server_seq)) if hash == op.hash => {
                            duplicates += 1;
                            let ack = Ack {
                                site_seq: op.site_seq,
                                server_seq,
                            };
                            let out = by_site_out.entry(site_id.to_string()).or_default();
                            out.duplicates += 1;
                            out.acks.push(ack);
                            acks.push(ack);
                        }
                        _ => return Err(ServerError::HashMismatch { seq: op.site_seq }),
                    }
                }
            }
            let new = site_ops.split_off(split);
            shared::check_no_gap(last_seq, &new)?;
            // The hash chain is checked by the log writer below (it reads every hash anyway).
            if !new.is_empty() {
                fresh.push((site_id, last_hash, new));
            }
        }
        // Held operations (the policy's holds, and as a last guard any operation stamped further ahead
        // than the allowed drift) are kept and acknowledged, so the site's queue moves on, but never
        // merged and never delivered.
        let max_drift_ms = self.max_drift_ms;
        let refusal = |op: &Operation| shared::refusal_of(op, holds, now_ms, max_drift_ms);
        // Checked twice per operation (here and by the log writer): no allocation unless something
        // is held.
        let held = |op: &Operation| shared::is_held(op, holds, now_ms, max_drift_ms);
        let mut quarantined = Vec::new();
        if !fresh.is_empty() {
            // Each site's operations go to one log record, whose first server_seq the merge notes in
            // the rows it writes (append_to_log below numbers them the same way).
            let (next_seq, head) = log_head(&tx)?;
            let mut mergeable: Vec<&Operation> = Vec::with_capacity(ops.len());
            let mut records: Vec<u64> = Vec::with_capacity(ops.len());
            let mut record = next_seq;
            let files = &self.log;
            let rows = &mut self.rows;
            // One pass over each site's operations (a batch is larger than the CPU's caches): what
            // merges, what is held; then the site's cursor and quarantine, which the merge does not
            // depend on.
            for (site_id, _, site_ops) in &fresh {
                let before = mergeable.len();
                let mut site_held: Vec<(&Operation, Refusal)> = Vec::new();
                for op in site_ops.iter().copied() {
                    if !held(op) {
                        mergeable.push(op);
                    } else if let Some(refused) = refusal(op) {
                        site_held.push((op, refused));
                    }
                }
                let count = (mergeable.len() - before) as u64;
                records.resize(mergeable.len(), record);
                record += count;
                if !site_held.is_empty() {
                    quarantine(&tx, site_id, &site_held, now_ms)?;
                    let held: Vec<(u64, Refusal)> = site_held
                        .into_iter()
                        .map(|(op, r)| (op.site_seq, r))
                        .collect();
                    by_site_out
                        .entry(site_id.to_string())
                        .or_default()
                        .quarantined
                        .extend(held.iter().cloned());
                    quarantined.extend(held);
                }
                if let Some(last) = site_ops.last() {
                    tx.prepare_cached(
                        "UPDATE site SET last_seq = ?2, last_hash = ?3 WHERE id = ?1",
                    )?
                    .execute(params![
                        site_id,
                        last.site_seq as i64,
                        last.hash
                    ])?;
                }
            }
            if self.owners_reader.is_none() {
                if let Some(path) = &self.path {
                    self.owners_reader = Some(std::sync::Mutex::new(open_owners_reader(path)?));
                }
            }
            let reader = self.owners_reader.as_ref();
            // Without a reader (a master in memory), asked here, before the merge; with one, found
            // and asked on the merge's second thread.
            let owners_here = match reader {
                Some(_) => None,
                None => Some(owners_before(
                    &tx,
                    &rows_moving_owner(&mergeable, &records),
                )?),
            };
            let (mergeable_ref, records_ref) = (&mergeable, &records);
            // The records are checked, encoded, written and synced by the merge's planning thread
            // when it has planned ahead of the writer: they depend only on the numbering above.
            let write_records = || {
                let mut next = next_seq;
                let mut pending = Vec::with_capacity(fresh.len());
                let mut record_acks = Vec::with_capacity(ops.len());
                for (site_id, last_hash, site_ops) in &fresh {
                    shared::check_chain(last_hash, site_ops)?;
                    let site_acks =
                        append_to_log(site_id, site_ops, &held, &mut next, &mut pending);
                    record_acks.push((*site_id, site_acks));
                }
                let locations = append_records(files, head, &pending)?;
                let written: Vec<WrittenRecord<'_>> = pending.into_iter().zip(locations).collect();
                let owners = match reader {
                    Some(reader) => Some(owners_before(
                        &reader.lock().unwrap_or_else(|p| p.into_inner()),
                        &rows_moving_owner(mergeable_ref, records_ref),
                    )?),
                    None => None,
                };
                Ok::<_, ServerError>((record_acks, written, owners))
            };
            let log = LogRecords { conn: &tx, files };
            let (merged, recorded) =
                merge::merge_then(&tx, &mergeable, &records, &log, rows, write_records);
            // A broken hash chain is the cause of whatever else went wrong: reported first.
            let Some(recorded) = recorded else {
                merged?;
                return Err(ServerError::Store(
                    "the merge's planning thread stopped before writing the audit log".to_string(),
                ));
            };
            let (record_acks, written, owners_there) = recorded?;
            merged?;
            for (site_id, site_acks) in record_acks {
                let out = by_site_out.entry(site_id.to_string()).or_default();
                out.acks.extend(site_acks.iter().copied());
                out.acks.sort_by_key(|a| a.site_seq);
                acks.extend(site_acks);
            }
            // The records are on disk (fdatasync) before the commit that makes them part of the log.
            index_log(&tx, now_ms, &written)?;
            let owners = owners_there.or(owners_here).unwrap_or_default();
            record_scope_moves(&tx, owners)?;
        }
        if std::mem::take(&mut self.crash_before_commit) {
            return Err(ServerError::Store(
                "simulated crash before the commit".to_string(),
            ));
        }
        tx.commit()?;
        Ok(Ingested {
            acks,
            duplicates,
            quarantined,
            by_site: by_site_out,
        })
    }

    fn raise_alarm(&mut self, site_id: Option<&str>, code: &str, detail: &str, now_ms: u64) {
        let result = self.store.connection().execute(
            "INSERT INTO alarm (at_ms, site_id, code, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now_ms as i64, site_id, code, detail],
        );
        if let Err(e) = result {
            tracing::error!("could not record alarm {code} for {site_id:?}: {e}");
        }
        tracing::warn!(site = ?site_id, code, "alarm: {}", crate::log_safe(detail));
    }

    /// Runs the policy over a push's new operations (shared::judge over this master's facts).
    fn judge(
        &self,
        site: &SiteAuth,
        ops: &[Operation],
        divergent: &[u64],
        now_ms: u64,
    ) -> Result<Holds> {
        let last_seq: u64 = self
            .store
            .connection()
            .prepare_cached("SELECT last_seq FROM site WHERE id = ?1")?
            .query_row([&site.site_id], |r| r.get::<_, i64>(0))
            .optional()?
            .unwrap_or(0) as u64;
        let facts = Facts {
            conn: self.store.connection(),
        };
        shared::judge(
            site,
            ops,
            divergent,
            last_seq,
            &facts,
            now_ms,
            self.max_drift_ms,
        )
    }

    /// One alarm per push that held operations, counted by code.
    fn alarm_for_holds(&mut self, site: &SiteAuth, held: &[(u64, Refusal)], now_ms: u64) {
        let (code, detail) = shared::holds_alarm(held);
        self.raise_alarm(Some(&site.site_id), &code, &detail, now_ms);
    }

    fn site_auth(&self, site_id: &str, org_unit_id: &str) -> Result<SiteAuth> {
        self.view().site_auth(site_id, org_unit_id)
    }
}

/// The policy's questions answered from the master's tables.
struct Facts<'a> {
    conn: &'a Connection,
}

impl MasterFacts for Facts<'_> {
    fn row(&self, def: &'static TableDef, row_id: &str) -> Result<Option<RowFacts>> {
        let columns: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
        let values: Option<Vec<rusqlite::types::Value>> = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM {} WHERE id = ?1",
                columns.join(", "),
                def.name
            ))?
            .query_row([row_id], |r| (0..columns.len()).map(|i| r.get(i)).collect())
            .optional()?;
        let Some(values) = values else {
            return Ok(None);
        };
        let mut facts = RowFacts::default();
        for (field, value) in def.fields.iter().zip(values) {
            let json = jiceng_core::store::merge_sql::from_sql(field.ty, &value);
            if !json.is_null() {
                facts.values.insert(field.name, json);
            }
        }
        facts.owner = if def.scope_field == ROW_ID_SCOPE {
            Some(row_id.to_string())
        } else {
            facts
                .values
                .get(def.scope_field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Ok(Some(facts))
    }

    fn user(&self, user_id: &str) -> Result<Option<(Role, String)>> {
        let found: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached("SELECT role, org_unit_id FROM app_user WHERE id = ?1")?
            .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(found.and_then(|(role, unit)| {
            Some((Role::from_code(role.as_deref()?)?, unit.unwrap_or_default()))
        }))
    }

    fn moved_away(&self, site: &SiteAuth, def: &'static TableDef, row_id: &str) -> Result<bool> {
        let case_id: Option<String> = if def.name == "corr_case" {
            Some(row_id.to_string())
        } else if def.field("case_id").is_some() {
            self.conn
                .prepare_cached(&format!("SELECT case_id FROM {} WHERE id = ?1", def.name))?
                .query_row([row_id], |r| r.get::<_, Option<String>>(0))
                .optional()?
                .flatten()
        } else {
            None
        };
        let Some(case_id) = case_id else {
            return Ok(false);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT from_org_unit_id FROM corr_transfer WHERE case_id = ?1 AND status = 'completed'",
        )?;
        let froms = stmt.query_map([&case_id], |r| r.get::<_, Option<String>>(0))?;
        for from in froms {
            if from?.is_some_and(|unit| site.covers(&unit)) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A row whose owner field an operation of the batch writes: its owner before the merge, and the
/// first server_seq of the last log record that wrote the field.
struct OwnerWrite {
    def: &'static TableDef,
    row_id: String,
    before: String,
    seq: u64,
}

/// A row whose owner field a batch writes: its table, id and the log record of the last such write.
type MovingRow<'a> = (&'static TableDef, &'a str, u64);

/// A second connection to the master file, which only reads (see `SqliteMaster::owners_reader`).
fn open_owners_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// The rows whose owner field the batch writes, in the order first written.
fn rows_moving_owner<'a>(ops: &[&'a Operation], records: &[u64]) -> Vec<MovingRow<'a>> {
    let mut candidates: Vec<MovingRow<'a>> = Vec::new();
    let mut index: FxHashMap<(&str, &str), usize> = FxHashMap::default();
    // A batch is runs of one table's operations: the last table's definition is reused, which is
    // cheaper than the lookup's hash (a twentieth of the ingest's time, looked up per operation).
    let mut last: Option<&'static tables::TableDef> = None;
    for (op, seq) in ops.iter().zip(records) {
        let def = match last {
            Some(def) if def.name == op.table => def,
            _ => {
                let Some(def) = tables::table(&op.table) else {
                    continue;
                };
                last = Some(def);
                def
            }
        };
        if def.scope_field == ROW_ID_SCOPE || op.field != def.scope_field {
            continue;
        }
        match index.entry((op.table.as_str(), op.row_id.as_str())) {
            std::collections::hash_map::Entry::Occupied(at) => candidates[*at.get()].2 = *seq,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(candidates.len());
                candidates.push((def, op.row_id.as_str(), *seq));
            }
        }
    }
    candidates
}

/// The rows among `candidates` that already exist (issue 10 §5), with their owners before the
/// batch and the last server_seq that writes the owner field. New rows name their owner in their
/// first operation too: they have no owner yet and are not looked at again.
///
/// Asked on `conn`: the writer's own transaction before the merge, or a reader of the last commit while the writer merges (the same state: the writer holds
/// the write lock). One statement per table: a statement per row was a twentieth of the ingest (most
/// rows of a batch are new, and each asked in vain).
fn owners_before(conn: &Connection, candidates: &[MovingRow<'_>]) -> Result<Vec<OwnerWrite>> {
    let mut tables_named: Vec<&'static TableDef> = candidates.iter().map(|c| c.0).collect();
    tables_named.sort_unstable_by_key(|def| def.name);
    tables_named.dedup_by_key(|def| def.name);
    let mut owners: FxHashMap<&str, FxHashMap<String, String>> = FxHashMap::default();
    for def in tables_named {
        let ids: Vec<&str> = candidates
            .iter()
            .filter(|c| c.0.name == def.name)
            .map(|c| c.1)
            .collect();
        let ids = serde_json::to_string(&ids)
            .map_err(|e| ServerError::Store(format!("row ids as JSON: {e}")))?;
        let mut statement = conn.prepare_cached(&format!(
            "SELECT id, {scope} FROM {table} WHERE id IN (SELECT value FROM json_each(?1)) AND {scope} IS NOT NULL",
            scope = def.scope_field,
            table = def.name
        ))?;
        let found = statement
            .query_map([ids], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<FxHashMap<String, String>>>()?;
        owners.insert(def.name, found);
    }
    Ok(candidates
        .iter()
        .filter_map(|&(def, row_id, seq)| {
            let before = owners.get(def.name)?.get(row_id)?;
            Some(OwnerWrite {
                def,
                row_id: row_id.to_string(),
                before: before.clone(),
                seq,
            })
        })
        .collect())
}

/// Notes every row whose owner the merge changed, for the pulls of the sites it left.
fn record_scope_moves(conn: &Connection, writes: Vec<OwnerWrite>) -> Result<()> {
    for write in writes {
        let after: Option<String> = conn
            .prepare_cached(&format!(
                "SELECT {} FROM {} WHERE id = ?1",
                write.def.scope_field, write.def.name
            ))?
            .query_row([&write.row_id], |r| r.get(0))
            .optional()?
            .flatten();
        let Some(after) = after else { continue };
        if after != write.before {
            conn.prepare_cached(
                "INSERT INTO scope_move (seq, tbl, row_id, from_unit, to_unit) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                write.seq as i64,
                write.def.name,
                write.row_id,
                write.before,
                after
            ])?;
        }
    }
    Ok(())
}

/// The rows that left the site's read scope in the window (after, up_to] (see shared::left_scope).
fn left_scope(
    conn: &Connection,
    site: &SiteAuth,
    after: u64,
    up_to: u64,
    reads: impl Fn(&str) -> bool,
) -> Result<Vec<RowRef>> {
    if up_to <= after {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT tbl, row_id, from_unit, to_unit FROM scope_move WHERE seq > ?1 AND seq <= ?2 \
         ORDER BY seq, rowid",
    )?;
    let moves = stmt
        .query_map(params![after as i64, up_to as i64], |r| {
            Ok(shared::ScopeMove {
                table: r.get(0)?,
                row_id: r.get(1)?,
                from_unit: r.get(2)?,
                to_unit: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(shared::left_scope(site, moves, reads))
}

pub use super::shared::Holds;

fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

/// The next global server_seq and the committed end of the log files. Read inside a write
/// transaction begun IMMEDIATE (the write lock is held from the start): the admin CLI may have appended
/// from another process since this one last wrote, and no other process may write the files until this
/// transaction ends.
fn log_head(conn: &Connection) -> Result<(u64, Head)> {
    Ok(conn
        .prepare_cached(
            "SELECT last_seq, segment, byte_offset + byte_len FROM log_chunk ORDER BY first_seq DESC LIMIT 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64 + 1,
                Head {
                    segment: r.get::<_, i64>(1)? as u32,
                    end: r.get::<_, i64>(2)? as u64,
                },
            ))
        })
        .optional()?
        .unwrap_or((1, Head::EMPTY)))
}

fn location(segment: i64, offset: i64, len: i64) -> Location {
    Location {
        segment: segment as u32,
        offset: offset as u64,
        len: len as u32,
    }
}

/// Looks up already-accepted operations of one site by site_seq, for a retried push: in the log record
/// whose site_seq range holds it, else in quarantine. Keeps the last decoded record, since a retry
/// resends a run of consecutive operations.
#[derive(Default)]
struct StoredOps {
    /// (first_site_seq, last_site_seq, first server_seq, operations)
    record: Option<(u64, u64, u64, Vec<Operation>)>,
}

impl StoredOps {
    /// The stored hash and server_seq of (site, seq) (server_seq 0 for a quarantined operation).
    fn find(
        &mut self,
        tx: &Transaction<'_>,
        files: &LogFiles,
        site_id: &str,
        seq: u64,
    ) -> Result<Option<(String, u64)>> {
        let covered = self
            .record
            .as_ref()
            .is_some_and(|(first, last, _, _)| (*first..=*last).contains(&seq));
        if !covered {
            self.record = tx
                .prepare_cached(
                    "SELECT first_site_seq, last_site_seq, first_seq, segment, byte_offset, byte_len FROM log_chunk \
                     WHERE origin_site = ?1 AND last_site_seq >= ?2 ORDER BY last_site_seq LIMIT 1",
                )?
                .query_row(params![site_id, seq as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                        location(r.get(3)?, r.get(4)?, r.get(5)?),
                    ))
                })
                .optional()?
                .filter(|(first, _, _, _)| *first <= seq)
                .map(|(first, last, first_seq, at)| {
                    decode_chunk(first_seq, &files.read(at)?)
                        .map(|ops| (first, last, first_seq, ops))
                })
                .transpose()?;
        }
        if let Some((_, _, _, ops)) = &self.record {
            if let Ok(i) = ops.binary_search_by_key(&seq, |o| o.site_seq) {
                return Ok(Some((ops[i].hash.clone(), ops[i].server_seq.unwrap_or(0))));
            }
        }
        let held: Option<Vec<u8>> = tx
            .prepare_cached("SELECT op FROM quarantine WHERE site_id = ?1 AND site_seq = ?2")?
            .query_row(params![site_id, seq as i64], |r| r.get(0))
            .optional()?;
        let Some(blob) = held else {
            return Ok(None);
        };
        let op = codec::decode_ops(&blob)
            .map_err(|e| ServerError::Store(format!("quarantined operation {seq}: {e}")))?;
        Ok(op.into_iter().next().map(|op| (op.hash, 0)))
    }
}

/// Operations stamped more than this ahead of the server's clock are quarantined (the default of the
/// one drift setting, [`SqliteMaster::set_max_drift_ms`]).
pub const MAX_FUTURE_DRIFT_MS: u64 = DEFAULT_MAX_DRIFT_MS;

/// What one ingest did.
#[derive(Debug, Clone, Default)]
pub struct Ingested {
    /// Every acknowledgement: the duplicates', then the merged operations', each part site by site
    /// (sites in id order, each site's in site_seq order). [`Ingested::by_site`] has them per site.
    pub acks: Vec<Ack>,
    pub duplicates: u64,
    /// site_seqs stored but held back in quarantine, with why.
    pub quarantined: Vec<(u64, Refusal)>,
    /// The same, site by site (a group of pushes from several sites is ingested at once).
    pub by_site: HashMap<String, SiteIngested>,
}

/// What one ingest did for one site.
#[derive(Debug, Clone, Default)]
pub struct SiteIngested {
    pub acks: Vec<Ack>,
    pub duplicates: u64,
    pub quarantined: Vec<(u64, Refusal)>,
}

fn quarantine(
    tx: &Transaction<'_>,
    site_id: &str,
    held: &[(&Operation, Refusal)],
    now_ms: u64,
) -> Result<()> {
    for (op, refusal) in held {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO quarantine (site_id, site_seq, received_at_ms, reason, op, code, reason_zh) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            site_id,
            op.site_seq as i64,
            now_ms as i64,
            refusal.en,
            codec::encode_ops(&[*op]),
            refusal.code,
            refusal.zh
        ])?;
    }
    Ok(())
}

/// One log record waiting to be written: one site's contiguous operations of a batch.
struct PendingRecord<'a> {
    first_seq: u64,
    last_seq: u64,
    site_id: &'a str,
    first_site_seq: u64,
    last_site_seq: u64,
    ops: Vec<u8>,
    /// The record's (scope, table) pairs, for pulls.
    pairs: Vec<(&'a str, &'a str)>,
}

/// Numbers one site's contiguous operations for the audit log as one record, assigning global
/// server_seqs from `next_seq` in site_seq order (quarantined operations get none and stay out of the
/// record); the record goes to `pending` for [`write_log`].
fn append_to_log<'a>(
    site_id: &'a str,
    ops: &[&'a Operation],
    held: &dyn Fn(&Operation) -> bool,
    next_seq: &mut u64,
    pending: &mut Vec<PendingRecord<'a>>,
) -> Vec<Ack> {
    let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
        return Vec::new();
    };
    let first_seq = *next_seq;
    let mut acks = Vec::with_capacity(ops.len());
    let mut members: Vec<&Operation> = Vec::with_capacity(ops.len());
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for op in ops.iter().copied() {
        if held(op) {
            acks.push(Ack {
                site_seq: op.site_seq,
                server_seq: 0,
            });
            continue;
        }
        acks.push(Ack {
            site_seq: op.site_seq,
            server_seq: *next_seq,
        });
        *next_seq += 1;
        members.push(op);
        let pair = (op.scope.as_str(), op.table.as_str());
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    if !members.is_empty() {
        pending.push(PendingRecord {
            first_seq,
            last_seq: *next_seq - 1,
            site_id,
            first_site_seq: first.site_seq,
            last_site_seq: last.site_seq,
            ops: codec::encode_ops(&members),
            pairs,
        });
    }
    acks
}

/// A log record written to the files, waiting for its index row.
type WrittenRecord<'a> = (PendingRecord<'a>, Location);

/// Writes the batch's records to the log files after the committed `head` (durable when this
/// returns) and indexes them in `log_chunk` / `log_scope` inside the caller's transaction, which
/// commits them.
fn write_log(
    tx: &Transaction<'_>,
    files: &LogFiles,
    head: Head,
    now_ms: u64,
    pending: Vec<PendingRecord<'_>>,
) -> Result<()> {
    let locations = append_records(files, head, &pending)?;
    let written: Vec<WrittenRecord<'_>> = pending.into_iter().zip(locations).collect();
    index_log(tx, now_ms, &written)
}

/// Writes the records to the log files after the committed `head`; durable when this returns.
fn append_records(
    files: &LogFiles,
    head: Head,
    pending: &[PendingRecord<'_>],
) -> Result<Vec<Location>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let payloads: Vec<(u64, &[u8])> = pending
        .iter()
        .map(|r| (r.first_seq, r.ops.as_slice()))
        .collect();
    files.append(head, &payloads)
}

/// Indexes written records in `log_chunk` / `log_scope`: they become part of the log when the
/// caller's transaction commits.
fn index_log(tx: &Transaction<'_>, now_ms: u64, written: &[WrittenRecord<'_>]) -> Result<()> {
    if written.is_empty() {
        return Ok(());
    }
    let mut chunk = tx.prepare_cached(
        "INSERT INTO log_chunk (first_seq, last_seq, origin_site, first_site_seq, last_site_seq, received_at_ms, segment, byte_offset, byte_len) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut scope =
        tx.prepare_cached("INSERT INTO log_scope (scope, tbl, first_seq) VALUES (?1, ?2, ?3)")?;
    for (record, at) in written {
        chunk.execute(params![
            record.first_seq as i64,
            record.last_seq as i64,
            record.site_id,
            record.first_site_seq as i64,
            record.last_site_seq as i64,
            now_ms as i64,
            at.segment as i64,
            at.offset as i64,
            at.len as i64
        ])?;
        for (s, table) in &record.pairs {
            scope.execute(params![s, table, record.first_seq as i64])?;
        }
    }
    Ok(())
}

/// The audit log as the master merge reads a row's older operations from it.
pub(super) struct LogRecords<'a> {
    pub(super) conn: &'a Connection,
    pub(super) files: &'a LogFiles,
}

impl OperationLog for LogRecords<'_> {
    fn record(&self, first_seq: u64) -> jiceng_core::error::Result<Vec<Operation>> {
        let at: Option<Location> = self
            .conn
            .prepare_cached(
                "SELECT segment, byte_offset, byte_len FROM log_chunk WHERE first_seq = ?1",
            )?
            .query_row([first_seq as i64], |r| {
                Ok(location(r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some(at) = at else {
            return Ok(Vec::new());
        };
        let corrupt =
            |e: String| jiceng_core::CoreError::Corrupt(format!("log record {first_seq}: {e}"));
        let blob = self.files.read(at).map_err(|e| corrupt(e.to_string()))?;
        codec::decode_ops(&blob).map_err(|e| corrupt(e.to_string()))
    }
}

impl SqliteMaster {
    /// A master row's full field history, rebuilt from the audit log (None when the row does not
    /// exist): the same as a site holds that merged the same operations.
    pub fn row_history(&self, table: &str, row_id: &str) -> Result<Option<RowVersions>> {
        let def =
            tables::table(table).ok_or_else(|| ServerError::UnknownTable(table.to_string()))?;
        let conn = self.store.connection();
        let log = LogRecords {
            conn,
            files: &self.log,
        };
        Ok(merge::row_history(conn, def, row_id, &log)?)
    }
}

/// Decodes a log chunk and stamps each operation with its server_seq.
fn decode_chunk(first_seq: u64, blob: &[u8]) -> Result<Vec<Operation>> {
    let mut ops = codec::decode_ops(blob)
        .map_err(|e| ServerError::Store(format!("log chunk {first_seq}: {e}")))?;
    for (i, op) in ops.iter_mut().enumerate() {
        op.server_seq = Some(first_seq + i as u64);
    }
    Ok(ops)
}

/// Operations one group commit takes at most (a group is one transaction and one fsync of the log).
const GROUP_MAX_OPS: usize = 50_000;

fn empty_push_response(now_ms: u64) -> PushResponse {
    PushResponse {
        acks: Vec::new(),
        duplicates: 0,
        quarantined: Vec::new(),
        held: Vec::new(),
        server_time_ms: now_ms,
    }
}

impl SqliteMaster {
    /// Issue 12 §4, group commit: the pushes waiting for the writer are merged in as few transactions
    /// (and fsyncs of the audit log) as their independence allows. A group holds at most one push per
    /// site, no two pushes touching the same row (each push is judged against the master as it was
    /// before the group, which is then what judging them one after another would have seen), and at
    /// most GROUP_MAX_OPS operations. A group that fails (a gap, a broken chain) is done again push
    /// by push, so that one bad push never fails the others. Answers come in the order of `items`.
    fn ingest_group(
        &mut self,
        mut items: Vec<(SiteAuth, PushRequest)>,
        now_ms: u64,
    ) -> Vec<Result<PushResponse>> {
        let mut results: Vec<Option<Result<PushResponse>>> = items.iter().map(|_| None).collect();
        let mut remaining: Vec<usize> = (0..items.len()).collect();
        while !remaining.is_empty() {
            let mut group: Vec<usize> = Vec::new();
            let mut rest: Vec<usize> = Vec::new();
            {
                // Fx, not SipHash: a group's 50,000 row keys are hashed in the writer's serial section.
                let mut sites: rustc_hash::FxHashSet<&str> = Default::default();
                let mut rows: rustc_hash::FxHashSet<(&str, &str)> = Default::default();
                let mut ops = 0usize;
                for &i in &remaining {
                    let (site, request) = &items[i];
                    if request.ops.is_empty() {
                        results[i] = Some(Ok(empty_push_response(now_ms)));
                        continue;
                    }
                    let touches = request
                        .ops
                        .iter()
                        .any(|o| rows.contains(&(o.table.as_str(), o.row_id.as_str())));
                    let full = !group.is_empty() && ops + request.ops.len() > GROUP_MAX_OPS;
                    if sites.contains(site.site_id.as_str()) || touches || full {
                        rest.push(i);
                        continue;
                    }
                    sites.insert(site.site_id.as_str());
                    rows.extend(
                        request
                            .ops
                            .iter()
                            .map(|o| (o.table.as_str(), o.row_id.as_str())),
                    );
                    ops += request.ops.len();
                    group.push(i);
                }
            }
            remaining = rest;
            // Judged one by one: a push refused as a whole (a protocol error) leaves the group.
            let mut holds = Holds::default();
            let mut judged: Vec<usize> = Vec::new();
            for &i in &group {
                let (site, request) = &items[i];
                match self.prepare_push(site, request, now_ms) {
                    Ok(site_holds) => {
                        for (site_id, seqs) in site_holds {
                            holds.entry(site_id).or_default().extend(seqs);
                        }
                        judged.push(i);
                    }
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
            if judged.is_empty() {
                continue;
            }
            let mut all_ops: Vec<Operation> = Vec::new();
            let mut ranges: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
            for &i in &judged {
                let ops = std::mem::take(&mut items[i].1.ops);
                let start = all_ops.len();
                all_ops.extend(ops);
                ranges.push((i, start..all_ops.len()));
            }
            match self.ingest_holding(&all_ops, now_ms, &holds) {
                Ok(mut ingested) => {
                    for (i, _) in &ranges {
                        let (site, request) = &items[*i];
                        let outcome = ingested.by_site.remove(&site.site_id).unwrap_or_default();
                        results[*i] =
                            Some(self.finish_push(site, &request.db_instance_id, outcome, now_ms));
                    }
                }
                Err(e) if ranges.len() == 1 => {
                    let (i, _) = &ranges[0];
                    let (site, request) = &items[*i];
                    results[*i] = Some(Err(self.push_failed(site, request, e, now_ms)));
                }
                Err(_) => {
                    // One push of the group is bad: each again on its own (judged afresh).
                    for (i, range) in ranges {
                        items[i].1.ops = all_ops[range].to_vec();
                        let (site, request) = items[i].clone();
                        results[i] = Some(
                            self.ingest_group(vec![(site, request)], now_ms)
                                .pop()
                                .unwrap_or_else(|| {
                                    Err(ServerError::Store(
                                        "the push was not processed".to_string(),
                                    ))
                                }),
                        );
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ServerError::Store("the push was not processed".to_string()))
                })
            })
            .collect()
    }

    /// Before a push's ingest: the policy's holds, and an alarm when another copy of the site's
    /// database pushes (issue 10 §3).
    fn prepare_push(
        &mut self,
        site: &SiteAuth,
        request: &PushRequest,
        now_ms: u64,
    ) -> Result<Holds> {
        let holds = self.judge(site, &request.ops, &request.divergent, now_ms)?;
        let known_instance: Option<String> = self
            .store
            .connection()
            .prepare_cached("SELECT db_instance_id FROM site WHERE id = ?1")?
            .query_row([&site.site_id], |r| r.get(0))
            .optional()?
            .flatten();
        if let Some(known) = known_instance.filter(|k| !k.is_empty()) {
            let sent: String = request.db_instance_id.chars().take(64).collect();
            if known != sent {
                let detail = format!(
                    "site {} pushed from database instance {} after {}: restored from a backup or copied to another PC",
                    site.site_id, sent, known
                );
                self.raise_alarm(Some(&site.site_id), "instance_changed", &detail, now_ms);
            }
        }
        Ok(holds)
    }

    /// After a push's ingest: the instance that pushed, the alarms and published quarantine items,
    /// the answer.
    fn finish_push(
        &mut self,
        site: &SiteAuth,
        db_instance_id: &str,
        outcome: SiteIngested,
        now_ms: u64,
    ) -> Result<PushResponse> {
        let SiteIngested {
            acks,
            duplicates,
            quarantined,
        } = outcome;
        self.store.connection().execute(
            "UPDATE site SET db_instance_id = ?2 WHERE id = ?1",
            params![
                site.site_id,
                db_instance_id.chars().take(64).collect::<String>()
            ],
        )?;
        if !quarantined.is_empty() {
            self.alarm_for_holds(site, &quarantined, now_ms);
            // The items reach the site and the district as replicated rows; a failure here is
            // repaired at the next push (the quarantine table is the record).
            if let Err(e) = self.publish_quarantine(now_ms) {
                tracing::error!("could not publish the quarantine items: {e}");
            }
        }
        let held = quarantined
            .iter()
            .map(|(seq, refusal)| HeldOperation {
                site_seq: *seq,
                code: refusal.code.to_string(),
                reason: refusal.en.clone(),
                reason_zh: refusal.zh.clone(),
            })
            .collect();
        Ok(PushResponse {
            acks,
            duplicates,
            quarantined: quarantined.iter().map(|(seq, _)| *seq).collect(),
            held,
            server_time_ms: now_ms,
        })
    }

    /// A push whose ingest failed: a broken hash chain raises an alarm.
    fn push_failed(
        &mut self,
        site: &SiteAuth,
        request: &PushRequest,
        e: ServerError,
        now_ms: u64,
    ) -> ServerError {
        if matches!(e, ServerError::HashMismatch { .. }) {
            let detail = format!("{e} (db instance {})", request.db_instance_id);
            self.raise_alarm(Some(&site.site_id), e.code(), &detail, now_ms);
        }
        e
    }
}

/// The writer answers reads over its own connection.
impl reads::Viewed for SqliteMaster {
    fn view(&self) -> reads::ReadView<'_> {
        reads::ReadView {
            store: &self.store,
            log: &self.log,
            master_id: &self.master_id,
        }
    }
}

impl MasterStore for SqliteMaster {
    fn reader_factory(&self) -> Option<crate::master::ReaderFactory> {
        let path = self.path.clone()?;
        let log_base = self.log.base()?.to_path_buf();
        let master_id = self.master_id.clone();
        Some(Box::new(move || {
            let reader = reads::SqliteReader::open(&path, &log_base, &master_id)?;
            Ok(Box::new(reader) as Box<dyn crate::master::MasterReads>)
        }))
    }

    fn enrol(&mut self, request: &EnrolRequest, now_ms: u64) -> Result<EnrolResponse> {
        let code_hash = auth::secret_digest(&auth::normalise_code(&request.code));
        let tx = self.store.connection_mut().transaction()?;
        let site_id: Option<String> = tx
            .query_row(
                "SELECT site_id FROM enrolment_code WHERE code_hash = ?1 AND used_at_ms IS NULL AND expires_at_ms > ?2",
                params![code_hash, now_ms as i64],
                |r| r.get(0),
            )
            .optional()?;
        let site_id = site_id.ok_or(ServerError::BadCode)?;
        let token = auth::random_token();
        tx.execute(
            "UPDATE enrolment_code SET used_at_ms = ?2 WHERE code_hash = ?1",
            params![code_hash, now_ms as i64],
        )?;
        // Re-enrolment keeps the site's sequence and hash chain (one log per site, nothing
        // overwritten): the new desktop continues from them (EnrolResponse::last_seq).
        tx.execute(
            "UPDATE site SET token_hash = ?2, enrolled_at_ms = ?3, device_label = ?4, db_instance_id = ?5, \
             token_issued_at_ms = ?3, next_token_hash = NULL, prev_token_hash = NULL, revoked = 0 \
             WHERE id = ?1",
            params![
                site_id,
                auth::secret_digest(&token),
                now_ms as i64,
                request.device_label.chars().take(100).collect::<String>(),
                request.db_instance_id.chars().take(64).collect::<String>()
            ],
        )?;
        let (site_name, org_unit_id, last_seq, last_hash): (String, String, i64, String) = tx
            .query_row(
                "SELECT name, org_unit_id, last_seq, last_hash FROM site WHERE id = ?1",
                [&site_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        tx.commit()?;
        let org_unit_name = self.store.org_unit_name(&org_unit_id)?.unwrap_or_default();
        Ok(EnrolResponse {
            site_id,
            site_name,
            org_unit_id,
            org_unit_name,
            token,
            server_time_ms: now_ms,
            last_seq: last_seq.max(0) as u64,
            last_hash,
        })
    }

    fn push(&mut self, site: &SiteAuth, request: PushRequest, now_ms: u64) -> Result<PushResponse> {
        self.push_group(vec![(site.clone(), request)], now_ms)
            .pop()
            .unwrap_or_else(|| Err(ServerError::Store("the push was not processed".to_string())))
    }

    fn push_group(
        &mut self,
        items: Vec<(SiteAuth, PushRequest)>,
        now_ms: u64,
    ) -> Vec<Result<PushResponse>> {
        self.ingest_group(items, now_ms)
    }

    fn add_org_unit(
        &mut self,
        parent_id: Option<&str>,
        kind: OrgKind,
        name: &str,
    ) -> Result<String> {
        let parent_kind = match parent_id {
            Some(parent) => Some(
                self.store
                    .org_unit_kind(parent)?
                    .ok_or_else(|| ServerError::NotFound(format!("org unit {parent}")))?,
            ),
            None => None,
        };
        shared::check_org_parent(parent_kind, kind)?;
        let id = uuid::Uuid::now_v7().to_string();
        self.store
            .create_org_unit(ADMIN_ACTOR, &id, parent_id, kind, name)?;
        self.publish_own_writes(self.store.wall_millis())?;
        if parent_id.is_none() {
            // The server's own site belongs to the new district.
            self.name_sites(self.store.wall_millis())?;
        }
        Ok(id)
    }

    fn org_units(&mut self) -> Result<Vec<OrgUnitSummary>> {
        let mut stmt = self
            .store
            .connection()
            .prepare("SELECT id, parent_id, kind, name FROM org_unit ORDER BY kind, name")?;
        let rows = stmt.query_map([], |r| {
            Ok(OrgUnitSummary {
                id: r.get(0)?,
                parent_id: r.get(1)?,
                kind: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                name: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn add_site(&mut self, org_unit_id: &str, name: &str, now_ms: u64) -> Result<(String, String)> {
        if self.store.org_unit_kind(org_unit_id)?.is_none() {
            return Err(ServerError::NotFound(format!("org unit {org_unit_id}")));
        }
        let name = shared::site_name(name)?;
        let site_id = uuid::Uuid::now_v7().to_string();
        self.store.connection().execute(
            "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![site_id, name, org_unit_id, now_ms as i64],
        )?;
        self.name_sites(now_ms)?;
        let code = self.new_enrolment_code(&site_id, now_ms)?;
        Ok((site_id, code))
    }

    fn new_enrolment_code(&mut self, site_id: &str, now_ms: u64) -> Result<String> {
        let exists: bool = self.store.connection().query_row(
            "SELECT EXISTS (SELECT 1 FROM site WHERE id = ?1 AND org_unit_id <> '')",
            [site_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(ServerError::NotFound(format!("site {site_id}")));
        }
        let code = auth::random_enrolment_code();
        self.store.connection().execute(
            "INSERT INTO enrolment_code (code_hash, site_id, expires_at_ms) VALUES (?1, ?2, ?3)",
            params![
                auth::secret_digest(&auth::normalise_code(&code)),
                site_id,
                (now_ms + CODE_TTL_MS) as i64
            ],
        )?;
        Ok(code)
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
        let id = self.store.create_user(
            ADMIN_ACTOR,
            &NewUser {
                username: username.to_string(),
                display_name: display_name.to_string(),
                role,
                org_unit_id: org_unit_id.to_string(),
                password: password.to_string(),
            },
        )?;
        self.publish_own_writes(self.store.wall_millis())?;
        Ok(id)
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
        let case = self.store.save_case(&admin, input)?;
        self.publish_own_writes(self.store.wall_millis())?;
        Ok(case.id)
    }

    fn alarms(&mut self) -> Result<Vec<Alarm>> {
        let mut stmt = self
            .store
            .connection()
            .prepare("SELECT at_ms, site_id, code, detail FROM alarm ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Alarm {
                at_ms: r.get::<_, i64>(0)? as u64,
                site_id: r.get(1)?,
                code: r.get(2)?,
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn quarantine(&mut self) -> Result<Vec<QuarantineItem>> {
        self.quarantine_items()
    }

    fn own_log(
        &mut self,
        site: &SiteAuth,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<Operation>, bool)> {
        let conn = self.store.connection();
        let mut ops: Vec<Operation> = Vec::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT first_seq, segment, byte_offset, byte_len FROM log_chunk \
                 WHERE origin_site = ?1 AND last_site_seq > ?2 ORDER BY first_site_seq",
            )?;
            let mut rows = stmt.query(params![site.site_id, after as i64])?;
            while let Some(row) = rows.next()? {
                let first_seq: i64 = row.get(0)?;
                let blob = self
                    .log
                    .read(location(row.get(1)?, row.get(2)?, row.get(3)?))?;
                ops.extend(
                    decode_chunk(first_seq as u64, &blob)?
                        .into_iter()
                        .filter(|op| op.site_seq > after),
                );
                if ops.len() > limit {
                    break;
                }
            }
        }
        let mut stmt = conn.prepare_cached(
            "SELECT op FROM quarantine WHERE site_id = ?1 AND site_seq > ?2 ORDER BY site_seq",
        )?;
        let held = stmt.query_map(params![site.site_id, after as i64], |r| {
            r.get::<_, Vec<u8>>(0)
        })?;
        for blob in held {
            let decoded = codec::decode_ops(&blob?)
                .map_err(|e| ServerError::Store(format!("quarantined operation: {e}")))?;
            ops.extend(decoded.into_iter().map(|mut op| {
                op.server_seq = Some(0);
                op
            }));
        }
        ops.sort_by_key(|op| op.site_seq);
        ops.dedup_by_key(|op| op.site_seq);
        let has_more = ops.len() > limit;
        ops.truncate(limit);
        Ok((ops, has_more))
    }

    fn bundle_site(&mut self, site_id: &str) -> Result<BundleSite> {
        let found: Option<(String, bool, String)> = self
            .store
            .connection()
            .prepare_cached(
                "SELECT org_unit_id, revoked <> 0, name FROM site WHERE id = ?1 AND org_unit_id <> '' \
                 AND token_hash IS NOT NULL",
            )?
            .query_row([site_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((org_unit_id, revoked, name)) = found else {
            return Err(ServerError::BundleUnknownSite(crate::log_safe(
                &site_id.chars().take(64).collect::<String>(),
            )));
        };
        Ok(BundleSite {
            auth: self.site_auth(site_id, &org_unit_id)?,
            name,
            token_digests: self.bundle_digests(site_id)?,
            revoked,
        })
    }

    fn reset_password(&mut self, username: &str, temporary: &str, now_ms: u64) -> Result<String> {
        let id = self
            .store
            .reset_password_by_district(ADMIN_ACTOR, username, temporary)?;
        self.publish_own_writes(now_ms)?;
        Ok(id)
    }

    fn set_user_disabled(
        &mut self,
        user_id: &str,
        disabled: bool,
        now_ms: u64,
    ) -> Result<UserSummary> {
        let user = self
            .store
            .set_user_disabled(ADMIN_ACTOR, user_id, disabled)?;
        self.publish_own_writes(now_ms)?;
        Ok(user)
    }

    fn record_admin_action(&mut self, record: &AdminActionRecord) -> Result<()> {
        self.store.connection().execute(
            "INSERT INTO admin_action (at_ms, via_site, by_user_id, by_name, action, target, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                record.at_ms as i64,
                record.via_site,
                record.by_user_id,
                record.by,
                record.action,
                record.target,
                record.detail
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
        SqliteMaster::set_max_drift_ms(self, max_drift_ms);
    }

    fn set_wall_clock(&mut self, clock: jiceng_core::store::WallClock) {
        self.store.set_clock(clock);
    }

    fn decide_quarantine(
        &mut self,
        decider: &SiteAuth,
        decision: &jiceng_core::wire::QuarantineDecision,
        now_ms: u64,
    ) -> Result<QuarantineItem> {
        self.decide_held(decider, decision, now_ms)
    }

    fn log_len(&mut self) -> Result<u64> {
        Ok(self.store.connection().query_row(
            "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) FROM log_chunk",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}

fn row_owner(def: &TableDef, row: &serde_json::Value) -> String {
    let field = if def.scope_field == ROW_ID_SCOPE {
        "id"
    } else {
        def.scope_field
    };
    row.get(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// The index of a replicated table's text primary key (`id TEXT PRIMARY KEY`): a page walks it from the
/// last id, and reads only its own rows, whatever other index the planner might prefer for the scope
/// filter (issue 9: a page used to read the whole table).
pub(super) fn primary_key_index(def: &TableDef) -> String {
    format!("sqlite_autoindex_{}_1", def.name)
}

/// Which master rows [`select_rows`] reads.
enum RowFilter<'a> {
    Id(&'a str),
    /// Rows owned by a unit of `scope_json` (a JSON array), with ids after `after`, in id order.
    Scope {
        scope_json: &'a str,
        after: &'a str,
    },
}

/// Visible fields of master rows as JSON objects (never the password hash).
fn select_rows(
    conn: &Connection,
    def: &TableDef,
    filter: RowFilter<'_>,
    offset: u64,
    limit: u64,
) -> Result<Vec<serde_json::Value>> {
    let columns: Vec<&str> = def
        .fields
        .iter()
        .map(|f| f.name)
        .filter(|f| *f != "password_hash")
        .collect();
    let owner = if def.scope_field == ROW_ID_SCOPE {
        "id"
    } else {
        def.scope_field
    };
    let (condition, key, scope) = match filter {
        RowFilter::Id(id) => ("id = ?1".to_string(), id, ""),
        RowFilter::Scope { scope_json, after } => (
            format!("id > ?1 AND {owner} IN (SELECT value FROM json_each(?4))"),
            after,
            scope_json,
        ),
    };
    let sql = format!(
        "SELECT id, {} FROM {} INDEXED BY {} WHERE {condition} ORDER BY id LIMIT ?2 OFFSET ?3",
        columns.join(", "),
        def.name,
        primary_key_index(def)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let mut rows = if scope.is_empty() {
        stmt.query(params![key, limit, offset])?
    } else {
        stmt.query(params![key, limit, offset, scope])?
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut object = serde_json::Map::new();
        object.insert("id".to_string(), serde_json::Value::String(row.get(0)?));
        for (i, column) in columns.iter().enumerate() {
            let value: rusqlite::types::Value = row.get(i + 1)?;
            let json = match value {
                rusqlite::types::Value::Null => serde_json::Value::Null,
                rusqlite::types::Value::Integer(n) if *column == "_deleted" => {
                    serde_json::Value::Bool(n != 0)
                }
                rusqlite::types::Value::Integer(n) => serde_json::Value::from(n),
                rusqlite::types::Value::Real(f) => serde_json::Value::from(f),
                rusqlite::types::Value::Text(t) => serde_json::Value::String(t),
                rusqlite::types::Value::Blob(_) => serde_json::Value::Null,
            };
            object.insert((*column).to_string(), json);
        }
        out.push(serde_json::Value::Object(object));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::{MasterReads, RecordsPage};

    const DAY_MS: u64 = 24 * 3600 * 1000;
    const T0: u64 = 1_800_000_000_000;

    fn master_with_site() -> (SqliteMaster, String) {
        let mut master = SqliteMaster::open_in_memory().unwrap();
        let district = master
            .add_org_unit(None, OrgKind::District, "示范区")
            .unwrap();
        let town = master
            .add_org_unit(Some(&district), OrgKind::Township, "𠀀家镇")
            .unwrap();
        let (site, _) = master.add_site(&town, "𠀀家镇司法所", T0).unwrap();
        (master, site)
    }

    fn enrol(master: &mut SqliteMaster, code: &str, at: u64) -> Result<EnrolResponse> {
        master.enrol(
            &EnrolRequest {
                code: code.to_string(),
                device_label: "laptop".to_string(),
                db_instance_id: "inst".to_string(),
            },
            at,
        )
    }

    /// Issue 11 §3: a code works once, and only for 14 days.
    #[test]
    fn enrolment_codes_expire_after_14_days_and_work_once() {
        let (mut master, site) = master_with_site();
        let late = master.new_enrolment_code(&site, T0).unwrap();
        assert!(matches!(
            enrol(&mut master, &late, T0 + 14 * DAY_MS),
            Err(ServerError::BadCode)
        ));
        let code = master.new_enrolment_code(&site, T0).unwrap();
        assert!(enrol(&mut master, &code, T0 + 13 * DAY_MS).is_ok());
        assert!(matches!(
            enrol(&mut master, &code, T0 + 13 * DAY_MS),
            Err(ServerError::BadCode)
        ));
    }

    /// Issue 11 §3: a revoked site's token and unused codes stop at once, as `site_revoked`; a new code
    /// re-enrols it; revoking twice is a conflict.
    #[test]
    fn a_revoked_site_is_refused_as_revoked_until_the_district_re_enrols_it() {
        let (mut master, site) = master_with_site();
        let code = master.new_enrolment_code(&site, T0).unwrap();
        let token = enrol(&mut master, &code, T0).unwrap().token;
        let spare = master.new_enrolment_code(&site, T0).unwrap();
        assert!(master.authenticate(&token).is_ok());
        let revoked = master
            .revoke_site(&site, "区司法局管理员", "笔记本丢失", T0 + 1)
            .unwrap();
        assert!(revoked.revoked);
        assert_eq!(revoked.revoked_reason.as_deref(), Some("笔记本丢失"));
        assert!(matches!(
            master.authenticate(&token),
            Err(ServerError::SiteRevoked { at_ms }) if at_ms == T0 + 1
        ));
        assert_eq!(
            ServerError::SiteRevoked { at_ms: 0 }.status(),
            401,
            "a revoked site is told so, with 401"
        );
        assert!(matches!(
            enrol(&mut master, &spare, T0 + 2),
            Err(ServerError::BadCode)
        ));
        assert!(matches!(
            master.revoke_site(&site, "管理员", "", T0 + 3),
            Err(ServerError::Conflict(_))
        ));
        assert!(matches!(
            master.revoke_site("no-such-site", "管理员", "", T0 + 3),
            Err(ServerError::NotFound(_))
        ));
        let alarms = master.alarms().unwrap();
        assert!(alarms.iter().any(|a| a.code == "site_revoked"));
        let fresh = master.new_enrolment_code(&site, T0 + 4).unwrap();
        let again = enrol(&mut master, &fresh, T0 + 5).unwrap();
        assert!(master.authenticate(&again.token).is_ok());
        assert!(!master.sites().unwrap()[0].revoked);
    }

    /// Issue 11 §3: a rotated token works beside the current one until first used, which retires the
    /// current one; an answer lost on the way locks nothing out.
    #[test]
    fn a_rotated_token_retires_the_old_one_at_its_first_use() {
        let (mut master, site) = master_with_site();
        let code = master.new_enrolment_code(&site, T0).unwrap();
        let old = enrol(&mut master, &code, T0).unwrap().token;
        let auth = master.authenticate(&old).unwrap();
        let lost = master.rotate_token(&auth, T0 + 1).unwrap();
        assert!(
            master.authenticate(&old).is_ok(),
            "the reply was lost: the old token still works"
        );
        let next = master.rotate_token(&auth, T0 + 2).unwrap();
        assert!(matches!(
            master.authenticate(&lost),
            Err(ServerError::BadToken)
        ));
        assert!(master.authenticate(&next).is_ok());
        assert!(matches!(
            master.authenticate(&old),
            Err(ServerError::BadToken)
        ));
        assert!(master.authenticate(&next).is_ok());
        // Bundles signed under the token before the rotation still verify.
        let digests = master.bundle_digests(&site).unwrap();
        assert!(digests.contains(&auth::secret_digest(&old)));
        assert!(digests.contains(&auth::secret_digest(&next)));
    }

    /// Issue 9: a page of `/records` walks the primary key from the last id and never scans or sorts
    /// the table, for every replicated table.
    #[test]
    fn a_records_page_reads_by_key_and_never_sorts_the_table() {
        let master = SqliteMaster::open_in_memory().unwrap();
        let conn = master.connection();
        for def in tables::TABLES {
            let columns: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
            let owner = if def.scope_field == ROW_ID_SCOPE {
                "id"
            } else {
                def.scope_field
            };
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT id, {} FROM {} INDEXED BY {} WHERE id > ?1 AND {owner} IN (SELECT value FROM json_each(?4)) ORDER BY id LIMIT ?2 OFFSET ?3",
                columns.join(", "),
                def.name,
                primary_key_index(def)
            );
            let mut stmt = conn.prepare(&sql).unwrap();
            let plan: Vec<String> = stmt
                .query_map(params!["", 10, 0, "[]"], |r| r.get::<_, String>(3))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            let text = plan.join(" | ");
            assert!(
                text.contains(&format!("SEARCH {}", def.name))
                    && (text.contains("(id>?)") || text.contains("(id=?)")),
                "{}: {text}",
                def.name
            );
            assert!(!text.contains("TEMP B-TREE"), "{}: {text}", def.name);
        }
        // And the page itself works on an empty master.
        let site = SiteAuth {
            site_id: "s".into(),
            org_unit_id: "u".into(),
            kind: OrgKind::District,
            scope: vec!["u".to_string()].into(),
            ancestors: vec!["u".into()],
            created_at_ms: 0,
        };
        let mut master = master;
        let rows = master
            .records(
                &site,
                "corr_case",
                RecordsPage {
                    after: None,
                    offset: 0,
                    limit: 10,
                },
            )
            .unwrap();
        assert!(rows.is_empty());
    }
}
