//! Online backup and restore of the SQLite master (issue 10 §6): the database file as one consistent
//! snapshot (`VACUUM INTO`, a read transaction that never blocks the running server's writes), then the
//! audit log's segment files up to the end that snapshot indexes (the files are append-only, so their
//! first bytes are what the snapshot committed). A restore puts the copy in place (keeping the replaced
//! files aside, never deleting them) and gives the master a new `master_id`, so that every site pulls
//! again and sends again what the restored master lacks.

use super::log_files::{log_base, segment_path, store_dir, stored_dir};
use crate::error::{Result, ServerError};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The backup's database file inside its directory (its segment files sit beside it, as in service).
pub const BACKUP_FILE: &str = "master.sqlite";

#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub directory: String,
    pub database_bytes: u64,
    pub log_segments: u32,
    pub log_bytes: u64,
    /// The last server_seq the backup holds.
    pub last_server_seq: u64,
}

fn io(what: &Path, e: std::io::Error) -> ServerError {
    ServerError::Store(format!("{}: {e}", what.display()))
}

/// The committed end of the log a database indexes: (segment, end byte, last server_seq).
fn log_head(conn: &Connection) -> Result<Option<(u32, u64, u64)>> {
    Ok(conn
        .query_row(
            "SELECT segment, byte_offset + byte_len, last_seq FROM log_chunk ORDER BY first_seq DESC LIMIT 1",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)? as u32,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            },
        )
        .optional()?)
}

/// Copies segments 1..=`last` of the log at base `from` to base `to`, the last one up to `end` bytes.
fn copy_segments(from: &Path, to: &Path, last: u32, end: u64) -> Result<u64> {
    let mut bytes = 0;
    for segment in 1..=last {
        let source = segment_path(from, segment);
        let target = segment_path(to, segment);
        let mut data = std::fs::read(&source).map_err(|e| io(&source, e))?;
        if segment == last {
            if (data.len() as u64) < end {
                return Err(ServerError::Store(format!(
                    "{} holds {} bytes, the backup's index needs {end}",
                    source.display(),
                    data.len()
                )));
            }
            data.truncate(end as usize);
        }
        bytes += data.len() as u64;
        std::fs::write(&target, &data).map_err(|e| io(&target, e))?;
        let file = std::fs::File::open(&target).map_err(|e| io(&target, e))?;
        file.sync_all().map_err(|e| io(&target, e))?;
    }
    Ok(bytes)
}

/// Backs the master at `db` up into the new directory `dir`, while the server may be running.
pub fn backup(db: &Path, dir: &Path) -> Result<BackupSummary> {
    if dir.exists() {
        return Err(ServerError::BadRequest(format!(
            "{} exists; back up into a new directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let target = dir.join(BACKUP_FILE);
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // The segments are where the master keeps them (issue 14 §2: maybe a directory of their own).
    let source_base = log_base(db, stored_dir(&conn)?.as_deref());
    let target_text = target
        .to_str()
        .ok_or_else(|| ServerError::BadRequest("the backup path is not UTF-8".to_string()))?;
    conn.execute("VACUUM INTO ?1", [target_text])?;
    drop(conn);
    // The backup is whole in its directory: its segments beside its file, as the snapshot now says.
    let snapshot = Connection::open(&target)?;
    store_dir(&snapshot, None)?;
    let head = log_head(&snapshot)?;
    drop(snapshot);
    let (log_segments, log_bytes, last_server_seq) = match head {
        Some((segment, end, last)) => (
            segment,
            copy_segments(&source_base, &target, segment, end)?,
            last,
        ),
        None => (0, 0, 0),
    };
    let database_bytes = std::fs::metadata(&target)
        .map_err(|e| io(&target, e))?
        .len();
    Ok(BackupSummary {
        directory: dir.display().to_string(),
        database_bytes,
        log_segments,
        log_bytes,
        last_server_seq,
    })
}

/// Puts the backup in `dir` in place of the master at `db` (the server must be stopped). The files it
/// replaces are moved aside to `<db>.replaced-<ms>…`, never deleted. Returns where they went. The
/// restored segments go to `oplog_dir` when given, else where the replaced master kept its own.
pub fn restore(
    db: &Path,
    oplog_dir: Option<&Path>,
    dir: &Path,
    now_ms: u64,
) -> Result<Option<PathBuf>> {
    let source = dir.join(BACKUP_FILE);
    if !source.exists() {
        return Err(ServerError::NotFound(format!(
            "backup {}",
            source.display()
        )));
    }
    // Where the replaced master keeps its segments (issue 14 §2).
    let replaced_dir = if db.exists() {
        let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        stored_dir(&conn)?
    } else {
        None
    };
    let replaced_base = log_base(db, replaced_dir.as_deref());
    let target_dir = match oplog_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            Some(std::fs::canonicalize(dir).map_err(|e| io(dir, e))?)
        }
        None => replaced_dir.clone(),
    };
    let target_base = log_base(db, target_dir.as_deref());
    let aside = if db.exists() {
        let mut name = db.as_os_str().to_owned();
        name.push(format!(".replaced-{now_ms}"));
        let aside = PathBuf::from(name);
        std::fs::rename(db, &aside).map_err(|e| io(db, e))?;
        for suffix in ["-wal", "-shm"] {
            let mut from = db.as_os_str().to_owned();
            from.push(suffix);
            let mut to = aside.as_os_str().to_owned();
            to.push(suffix);
            let from = PathBuf::from(from);
            if from.exists() {
                std::fs::rename(&from, PathBuf::from(to)).map_err(|e| io(&from, e))?;
            }
        }
        let aside_base = log_base(&aside, replaced_dir.as_deref());
        let mut segment = 1;
        while segment_path(&replaced_base, segment).exists() {
            let from = segment_path(&replaced_base, segment);
            std::fs::rename(&from, segment_path(&aside_base, segment)).map_err(|e| io(&from, e))?;
            segment += 1;
        }
        Some(aside)
    } else {
        None
    };
    std::fs::copy(&source, db).map_err(|e| io(&source, e))?;
    let mut segment = 1;
    while segment_path(&source, segment).exists() {
        let from = segment_path(&source, segment);
        std::fs::copy(&from, segment_path(&target_base, segment)).map_err(|e| io(&from, e))?;
        segment += 1;
    }
    // A new name for this copy of the master: every site pulls again and sends again what it lacks.
    let conn = Connection::open(db)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;",
    )?;
    conn.execute(
        "INSERT INTO server_meta (key, value) VALUES ('master_id', ?1) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [uuid::Uuid::now_v7().to_string()],
    )?;
    store_dir(&conn, target_dir.as_deref())?;
    Ok(aside)
}
