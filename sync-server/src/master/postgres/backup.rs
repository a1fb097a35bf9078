//! Online backup and restore of a PostgreSQL master (issue 10 §6 on the issue 12 backend), with the
//! same promises as the SQLite master's (`master::backup`): the backup is one consistent snapshot taken
//! while the servers keep serving, and a restore keeps what it replaces and gives the master a new
//! `master_id`, so every site pulls again and sends again what the restored master lacks.
//!
//! The snapshot is PostgreSQL's own: a repeatable-read transaction exports its snapshot, the log head
//! is read inside it, and `pg_dump --snapshot` dumps exactly that state (so the summary's
//! `last_server_seq` is the dump's, not a racing push's). A restore renames the current database
//! aside (`<db>_replaced_<ms>`, never dropped), creates it anew and `pg_restore`s the dump into it.

use super::connect;
use crate::error::{Result, ServerError};
use crate::master::backup::BackupSummary;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

/// How long a restore waits for the master database's last connections to close: 50 × 100 ms.
const RESTORE_WAIT_POLLS: u32 = 50;

/// The dump inside a backup directory (`pg_dump --format=custom`).
pub const DUMP_FILE: &str = "master.pgdump";

fn io(what: &Path, e: std::io::Error) -> ServerError {
    ServerError::Store(format!("{}: {e}", what.display()))
}

/// Runs a PostgreSQL client program, with a clear error when it is missing or fails.
fn run(program: &str, args: &[&str]) -> Result<()> {
    let output = Command::new(program)
        .args(args)
        // The test command moves the date with faketime; PostgreSQL's programs need the real clock.
        .env_remove("LD_PRELOAD")
        .env_remove("FAKETIME")
        .output()
        .map_err(|e| {
            ServerError::Store(format!(
                "{program} could not be started ({e}); install PostgreSQL's client programs \
                 (Debian: apt-get install postgresql-client)"
            ))
        })?;
    if !output.status.success() {
        return Err(ServerError::Store(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Backs the master at `url` up into the new directory `dir`, while servers may be running.
pub fn backup(url: &str, dir: &Path) -> Result<BackupSummary> {
    if dir.exists() {
        return Err(ServerError::BadRequest(format!(
            "{} exists; back up into a new directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let target = dir.join(DUMP_FILE);
    let target_text = target
        .to_str()
        .ok_or_else(|| ServerError::BadRequest("the backup path is not UTF-8".to_string()))?;
    let mut db = connect(url)?;
    let mut snapshot = db
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let exported: String = snapshot
        .query_one("SELECT pg_export_snapshot()", &[])?
        .get(0);
    let last_server_seq: i64 = snapshot
        .query_one(
            "SELECT COALESCE((SELECT last_seq FROM log_record ORDER BY first_seq DESC LIMIT 1), 0)",
            &[],
        )?
        .get(0);
    // The exported snapshot lives while this transaction is open: dump while holding it.
    run(
        "pg_dump",
        &[
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            &format!("--snapshot={exported}"),
            &format!("--file={target_text}"),
            url,
        ],
    )?;
    snapshot.commit()?;
    let file = std::fs::File::open(&target).map_err(|e| io(&target, e))?;
    file.sync_all().map_err(|e| io(&target, e))?;
    let database_bytes = file.metadata().map_err(|e| io(&target, e))?.len();
    Ok(BackupSummary {
        directory: dir.display().to_string(),
        database_bytes,
        // The audit log is inside the database, hence inside the dump.
        log_segments: 0,
        log_bytes: 0,
        last_server_seq: last_server_seq.max(0) as u64,
    })
}

/// A database name as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Puts the backup in `dir` in place of the master database at `url` (stop every server process
/// first). The database it replaces is renamed to `<db>_replaced_<now_ms>` and kept. Returns that name.
pub fn restore(url: &str, dir: &Path, now_ms: u64) -> Result<Option<String>> {
    let dump = dir.join(DUMP_FILE);
    if !dump.exists() {
        return Err(ServerError::NotFound(format!("backup {}", dump.display())));
    }
    let dump_text = dump
        .to_str()
        .ok_or_else(|| ServerError::BadRequest("the backup path is not UTF-8".to_string()))?;
    let config = postgres::Config::from_str(url)
        .map_err(|e| ServerError::BadRequest(format!("master URL: {e}")))?;
    let name = config
        .get_dbname()
        .ok_or_else(|| ServerError::BadRequest("the master URL names no database".to_string()))?
        .to_string();
    // Rename and create from the maintenance database: a database cannot rename itself.
    let mut maintenance = config.clone();
    maintenance.dbname("postgres");
    let mut admin = maintenance
        .connect(postgres::NoTls)
        .map_err(|e| ServerError::Store(format!("the maintenance database: {e}")))?;
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
        .is_some();
    let aside = if exists {
        // A server process stopped just before leaves its sessions' backends for a moment (each
        // exits when it notices its client gone): they are given a few seconds to go.
        let mut busy: i64;
        let mut polls = 0;
        loop {
            busy = admin
                .query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1",
                    &[&name],
                )?
                .get(0);
            if busy == 0 || polls == RESTORE_WAIT_POLLS {
                break;
            }
            polls += 1;
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if busy > 0 {
            return Err(ServerError::BadRequest(format!(
                "{busy} connections use database {name}: stop every server process before a restore"
            )));
        }
        let aside = format!("{name}_replaced_{now_ms}");
        admin.batch_execute(&format!(
            "ALTER DATABASE {} RENAME TO {}",
            quoted(&name),
            quoted(&aside)
        ))?;
        Some(aside)
    } else {
        None
    };
    admin.batch_execute(&format!("CREATE DATABASE {}", quoted(&name)))?;
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            &format!("--dbname={url}"),
            dump_text,
        ],
    )?;
    // A new name for this copy of the master: every site pulls again and sends again what it lacks.
    let mut db = connect(url)?;
    db.execute(
        "INSERT INTO server_meta (key, value) VALUES ('master_id', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&uuid::Uuid::now_v7().to_string()],
    )?;
    Ok(aside)
}
