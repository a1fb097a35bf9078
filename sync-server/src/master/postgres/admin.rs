//! The server's own writes on the PostgreSQL master: the org tree, users, the site directory, the
//! quarantine items. Each goes through core's one write path (its validation, its operations) on a
//! replica of the master, which catches up from the log under the log lock first; its operations
//! are then pushed in the same transaction, as the server site's. Whichever process writes, the
//! server site keeps one hash chain: the replica takes up the chain where the master's copy ends
//! before each write.
//!
//! The replica is in memory unless the server is given a `replica_dir`: then it is a site store file
//! there, kept between runs, and a restarted process merges only what the log gained meanwhile
//! instead of the whole log (minutes on a province's master) at its first administrative write. The
//! file is a cache of the master, never a source: one that may disagree with it (another master's,
//! one ahead of the log, one holding a write the master may not have, one that does not open) is
//! replaced by an empty one, which catches up from the start.

use super::{decode_record, ingest, reads, PgMaster, ADMIN_ACTOR};
use crate::error::{Result, ServerError};
use crate::master::review::{self, Held};
use crate::master::SiteAuth;
use jiceng_core::store::Store;
use jiceng_core::store::WallClock;
use jiceng_core::tables;
use jiceng_core::wire::QuarantineDecision;
use postgres::Transaction;
use std::path::{Path, PathBuf};

/// Log records the replica reads per query while catching up.
const CATCH_UP_RECORDS: i64 = 256;

/// Replica files a `replica_dir` may hold: one per server process of the host.
const REPLICA_SLOTS: usize = 16;

/// The replica the server's own writes are made on.
pub(super) struct Replica {
    store: Store,
    /// The last server_seq merged into it.
    cursor: u64,
    /// Operations merged into it since this process opened it.
    merged: u64,
    /// Its file, when kept between runs.
    home: Option<ReplicaFile>,
}

/// A replica's file in the `replica_dir`, locked by this process while it uses it.
struct ReplicaFile {
    path: PathBuf,
    /// Holds the lock on `<file>.lock`: two processes never write one file.
    _lock: std::fs::File,
}

/// What a replica needs to know of its master.
pub(super) struct ReplicaFor<'a> {
    pub(super) server_site_id: &'a str,
    pub(super) master_id: &'a str,
    pub(super) clock: Option<WallClock>,
    pub(super) dir: Option<&'a Path>,
}

/// Where a replica stands, for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaState {
    /// The last server_seq merged into it.
    pub cursor: u64,
    /// Operations merged into it since this process opened it.
    pub merged_since_open: u64,
    /// Its file, if it is kept between runs.
    pub file: Option<PathBuf>,
}

impl Replica {
    fn open(of: &ReplicaFor<'_>) -> Result<Replica> {
        let home = match of.dir {
            Some(dir) => take_slot(dir)?,
            None => None,
        };
        let Some(home) = home else {
            let store = fresh(Store::open_in_memory()?, of)?;
            return Ok(Replica {
                store,
                cursor: 0,
                merged: 0,
                home: None,
            });
        };
        let kept =
            Store::open(&home.path)
                .map_err(|e| e.to_string())
                .and_then(|store| match agrees(&store, of) {
                    Ok(true) => Ok(store),
                    Ok(false) => {
                        Err("made for another master, or holding an unsent write".to_string())
                    }
                    Err(e) => Err(e.to_string()),
                });
        let store = match kept {
            Ok(store) => with_clock(store, of),
            Err(why) => {
                tracing::info!(
                    file = %home.path.display(),
                    "the admin replica is started again from the whole log: {why}"
                );
                replace_with_empty(&home.path, of)?
            }
        };
        let cursor = store.pull_cursor()?;
        Ok(Replica {
            store,
            cursor,
            merged: 0,
            home: Some(home),
        })
    }

    /// The replica emptied, to catch up from the start (it was ahead of the master's log).
    fn emptied(self, of: &ReplicaFor<'_>) -> Result<Replica> {
        let Replica { store, home, .. } = self;
        drop(store);
        let store = match &home {
            Some(home) => replace_with_empty(&home.path, of)?,
            None => fresh(Store::open_in_memory()?, of)?,
        };
        Ok(Replica {
            store,
            cursor: 0,
            merged: 0,
            home,
        })
    }

    pub(super) fn state(&self) -> ReplicaState {
        ReplicaState {
            cursor: self.cursor,
            merged_since_open: self.merged,
            file: self.home.as_ref().map(|h| h.path.clone()),
        }
    }

    /// Merges every log record after its cursor (the whole master, the first time).
    fn catch_up(&mut self, tx: &mut Transaction<'_>) -> Result<()> {
        loop {
            let rows = tx.query(
                "SELECT first_seq, last_seq, ops FROM log_record WHERE first_seq > $1 ORDER BY first_seq LIMIT $2",
                &[&(self.cursor as i64), &CATCH_UP_RECORDS],
            )?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            let cursor = last.get::<_, i64>(1).max(0) as u64;
            let mut ops = Vec::new();
            for row in &rows {
                ops.extend(decode_record(row.get(0), row.get(2))?);
            }
            self.store.apply_remote(&ops, cursor)?;
            self.cursor = cursor;
            self.merged += ops.len() as u64;
        }
    }
}

/// The last server_seq of the master's log (0: empty).
fn log_head(tx: &mut Transaction<'_>) -> Result<u64> {
    let head: i64 = tx
        .query_opt(
            "SELECT last_seq FROM log_record ORDER BY first_seq DESC LIMIT 1",
            &[],
        )?
        .map_or(0, |r| r.get(0));
    Ok(head.max(0) as u64)
}

/// The first slot of `dir` no other process holds; None when all are held.
fn take_slot(dir: &Path) -> Result<Option<ReplicaFile>> {
    let failed = |what: &str, path: &Path, e: std::io::Error| {
        ServerError::Store(format!(
            "replica_dir: cannot {what} {}: {e}",
            path.display()
        ))
    };
    // The replica holds the whole district's records: a directory of this user's only, as the
    // master's own data.
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| failed("create", dir, e))?;
    for slot in 0..REPLICA_SLOTS {
        let path = dir.join(format!("admin-replica-{slot}.sqlite"));
        let lock_path = path.with_extension("sqlite.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| failed("open", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => return Ok(Some(ReplicaFile { path, _lock: lock })),
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => return Err(failed("lock", &lock_path, e)),
        }
    }
    tracing::warn!(
        dir = %dir.display(),
        "every admin replica file of replica_dir is in use by another process: this one keeps its replica in memory"
    );
    Ok(None)
}

/// Whether a kept replica may go on for this master: the server site's, the same master's, and
/// holding no write of its own the master may lack (a process stopped between the two).
fn agrees(store: &Store, of: &ReplicaFor<'_>) -> jiceng_core::error::Result<bool> {
    let site = store.identity()?.map(|i| i.site_id);
    Ok(site.as_deref() == Some(of.server_site_id)
        && store.known_master_id()?.as_deref() == Some(of.master_id)
        && store.unacked_count()? == 0)
}

/// Deletes the replica file at `path` (a cache of the master) and makes an empty one there.
fn replace_with_empty(path: &Path, of: &ReplicaFor<'_>) -> Result<Store> {
    for file in [
        path.to_path_buf(),
        PathBuf::from(format!("{}-wal", path.display())),
        PathBuf::from(format!("{}-shm", path.display())),
    ] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ServerError::Store(format!(
                    "cannot replace the admin replica {}: {e}",
                    file.display()
                )))
            }
        }
    }
    fresh(Store::open(path)?, of)
}

fn with_clock(store: Store, of: &ReplicaFor<'_>) -> Store {
    match &of.clock {
        Some(clock) => store.with_clock(clock.clone()),
        None => store,
    }
}

/// An empty store made the server site's replica of this master.
fn fresh(store: Store, of: &ReplicaFor<'_>) -> Result<Store> {
    let mut store = with_clock(store, of);
    store.set_identity(&crate::master::shared::server_site_identity(
        of.server_site_id,
    ))?;
    store.apply_resync(&jiceng_core::resync::Resync {
        remember: Some(of.master_id.to_string()),
        ..Default::default()
    })?;
    Ok(store)
}

impl PgMaster {
    fn replica_for(&self) -> ReplicaFor<'_> {
        ReplicaFor {
            server_site_id: &self.server_site_id,
            master_id: &self.master_id,
            clock: self.clock.clone(),
            dir: self.replica_dir.as_deref(),
        }
    }

    /// Where this process's admin replica stands (None before its first administrative write).
    #[doc(hidden)]
    pub fn admin_replica_state(&self) -> Option<ReplicaState> {
        self.replica
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(Replica::state)
    }

    /// Runs one of the server's own writes on the replica and pushes its operations, in one
    /// transaction under the log lock. A failure drops the replica (rebuilt at the next write), so it
    /// never holds a write the master does not.
    pub(super) fn admin_write<T>(
        &mut self,
        now_ms: u64,
        write: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        // Held to the end of the write: the process's sessions share one replica, and the lock order
        // is always this mutex, then the log's advisory lock.
        let shared = self.replica.clone();
        let mut slot = shared.lock().unwrap_or_else(|p| p.into_inner());
        let replica = match slot.take() {
            Some(replica) => replica,
            None => Replica::open(&self.replica_for())?,
        };
        let (replica, out) = self.write_on(replica, now_ms, write)?;
        *slot = Some(replica);
        Ok(out)
    }

    fn write_on<T>(
        &mut self,
        mut replica: Replica,
        now_ms: u64,
        write: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<(Replica, T)> {
        let server_site = self.server_site_id.clone();
        let mut tx = self.db.transaction()?;
        ingest::lock_log(&mut super::prepared::Sql::new(&mut tx, &mut self.prepared))?;
        if replica.cursor > log_head(&mut tx)? {
            // Ahead of the log it replicates: not this log's copy. Never the case while the
            // master keeps its id (a restored master gets a new one), checked all the same.
            replica = replica.emptied(&ReplicaFor {
                server_site_id: &self.server_site_id,
                master_id: &self.master_id,
                clock: self.clock.clone(),
                dir: self.replica_dir.as_deref(),
            })?;
        }
        replica.catch_up(&mut tx)?;
        let head = tx.query_one(
            "SELECT last_seq, last_hash FROM site WHERE id = $1",
            &[&server_site],
        )?;
        replica
            .store
            .adopt_site_log_head(head.get::<_, i64>(0).max(0) as u64, head.get(1))?;
        let out = write(&mut replica.store)?;
        let ops = replica.store.unacked_ops(usize::MAX)?;
        let pushed = ingest::push_locked(
            &mut super::prepared::Sql::new(&mut tx, &mut self.prepared),
            ingest::Pusher::Server(&server_site),
            &ops,
            &[],
            now_ms,
            u64::MAX,
        )?;
        // Under the log's lock since the catch-up: the log gained only this write's records,
        // which the replica holds already (it made them).
        let end = log_head(&mut tx)?;
        tx.commit()?;
        let pairs: Vec<(u64, u64)> = pushed
            .acks
            .iter()
            .map(|a| (a.site_seq, a.server_seq))
            .collect();
        replica.store.mark_acked(&pairs)?;
        replica.store.apply_remote(&[], end)?;
        replica.cursor = end;
        Ok((replica, out))
    }

    /// Gives every site that has none an entry in the replicated site directory (see the SQLite
    /// master's `name_sites`).
    pub(super) fn name_sites(&mut self, now_ms: u64) -> Result<()> {
        let unnamed: Vec<(String, String, String)> = self
            .db
            .query(
                "SELECT s.id, s.name, s.org_unit_id FROM site s WHERE NOT EXISTS \
                 (SELECT 1 FROM master_row d WHERE d.tbl = 'site_directory' AND d.id = s.id) ORDER BY s.id",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let mut names: Vec<(String, String, String, String)> = Vec::new();
        for (site_id, name, unit) in unnamed {
            let district = if unit.is_empty() {
                self.db
                    .query_opt(
                        "SELECT id FROM master_row WHERE tbl = 'org_unit' AND vals ->> 'parent_id' IS NULL \
                         AND NOT COALESCE((vals ->> '_deleted')::boolean, FALSE) ORDER BY id LIMIT 1",
                        &[],
                    )?
                    .map(|r| r.get::<_, String>(0))
            } else {
                reads::org_ancestors(&mut self.db, &mut self.prepared, &unit)?.pop()
            };
            let Some(district) = district else {
                continue;
            };
            let name: String = if site_id == self.server_site_id {
                "同步服务器".to_string()
            } else {
                name.trim()
                    .chars()
                    .take(crate::master::shared::SITE_NAME_CHARS)
                    .collect()
            };
            if !name.is_empty() {
                names.push((site_id, district, unit, name));
            }
        }
        if names.is_empty() {
            return Ok(());
        }
        self.admin_write(now_ms, |store| {
            for (site_id, district, unit, name) in &names {
                store.name_site(ADMIN_ACTOR, site_id, district, unit, name)?;
            }
            Ok(())
        })
    }

    /// Held operations (all, or one by site and seq; or those whose replicated row does not show
    /// their status yet), oldest first.
    pub(super) fn held(
        &mut self,
        one: Option<(&str, i64)>,
        unpublished: bool,
    ) -> Result<Vec<Held>> {
        let (site, seq) = match one {
            Some((site, seq)) => (Some(site), Some(seq)),
            None => (None, None),
        };
        self.db
            .query(
                "SELECT site_id, site_seq, received_at_ms, code, reason, reason_zh, status, decided_by, \
                 decided_at_ms, decision_note, op FROM quarantine \
                 WHERE ($1::text IS NULL OR (site_id = $1 AND site_seq = $2)) \
                 AND (NOT $3 OR published_status IS NULL OR published_status <> status) \
                 ORDER BY received_at_ms, site_id COLLATE \"C\", site_seq",
                &[&site, &seq, &unpublished],
            )?
            .iter()
            .map(|r| {
                let site_seq = r.get::<_, i64>(1).max(0) as u64;
                Ok(Held {
                    site_id: r.get(0),
                    site_seq,
                    received_at_ms: r.get::<_, i64>(2).max(0) as u64,
                    code: r.get(3),
                    reason: r.get(4),
                    reason_zh: r.get(5),
                    status: r.get(6),
                    decided_by: r.get(7),
                    decided_at_ms: r.get::<_, Option<i64>>(8).map(|d| d.max(0) as u64),
                    decision_note: r.get(9),
                    op: review::decode_held(site_seq, r.get(10))?,
                })
            })
            .collect()
    }

    /// Writes the replicated row of every held operation whose status it does not show yet.
    /// Idempotent: a crash between the push and this is repaired by the next call.
    pub(super) fn publish_quarantine(&mut self, now_ms: u64) -> Result<()> {
        let pending: Vec<Held> = self.held(None, true)?;
        if pending.is_empty() {
            return Ok(());
        }
        let def = tables::table("sync_quarantine").ok_or_else(|| {
            ServerError::Store("sync_quarantine is not a replicated table".into())
        })?;
        let mut rows = Vec::new();
        for item in &pending {
            let unit: Option<String> = self
                .db
                .query_opt(
                    "SELECT org_unit_id FROM site WHERE id = $1",
                    &[&item.site_id],
                )?
                .map(|r| r.get(0));
            if let Some(unit) = unit.filter(|u| !u.is_empty()) {
                let changes = review::publication(item, &unit);
                rows.push((review::publication_id(item), unit, changes));
            }
        }
        self.admin_write(now_ms, |store| {
            for (id, unit, changes) in &rows {
                store.write_row(ADMIN_ACTOR, def, id, unit, changes)?;
            }
            Ok(())
        })?;
        for item in &pending {
            self.db.execute(
                "UPDATE quarantine SET published_status = $3 WHERE site_id = $1 AND site_seq = $2",
                &[&item.site_id, &(item.site_seq as i64), &item.status],
            )?;
        }
        Ok(())
    }

    /// The district's decision on one held operation: `release` merges it into the master as the site
    /// sent it (logged under the server's record); `reject` keeps it, never merged.
    pub(super) fn decide_held(
        &mut self,
        decider: &SiteAuth,
        decision: &QuarantineDecision,
        now_ms: u64,
    ) -> Result<crate::master::QuarantineItem> {
        let review::Decision {
            release,
            status,
            by,
            seq,
        } = review::check_decision(decider, decision)?;
        let one = Some((decision.site_id.as_str(), seq));
        let item = self.held(one, false)?.into_iter().next().ok_or_else(|| {
            ServerError::NotFound(format!(
                "quarantined operation {}:{}",
                decision.site_id, decision.site_seq
            ))
        })?;
        review::check_decidable(&item, release)?;
        let server_site = self.server_site_id.clone();
        let mut tx = self.db.transaction()?;
        ingest::lock_log(&mut super::prepared::Sql::new(&mut tx, &mut self.prepared))?;
        // Decided once, even by two processes at once.
        let still_held = tx.query_opt(
            "SELECT 1 FROM quarantine WHERE site_id = $1 AND site_seq = $2 AND status = 'held' FOR UPDATE",
            &[&item.site_id, &(item.site_seq as i64)],
        )?;
        if still_held.is_none() {
            return Err(ServerError::Conflict(
                "this operation was already decided".to_string(),
            ));
        }
        if release {
            ingest::merge_and_log(
                &mut super::prepared::Sql::new(&mut tx, &mut self.prepared),
                &server_site,
                &[&item.op],
                (item.op.site_seq, item.op.site_seq),
                now_ms,
            )?;
        }
        tx.execute(
            "UPDATE quarantine SET status = $3, decided_by = $4, decided_at_ms = $5, decision_note = $6 \
             WHERE site_id = $1 AND site_seq = $2",
            &[
                &item.site_id,
                &(item.site_seq as i64),
                &status,
                &by,
                &(now_ms as i64),
                &decision.note.trim(),
            ],
        )?;
        tx.commit()?;
        tracing::info!(site = %item.site_id, seq = item.site_seq, status, "quarantined operation decided");
        self.publish_quarantine(now_ms)?;
        self.held(one, false)?
            .into_iter()
            .next()
            .map(review::item_of)
            .ok_or_else(|| ServerError::Store("the decided operation vanished".to_string()))
    }
}
