//! The audit log's bytes: append-only segment files beside the master file (`<db file>-oplog-000001`,
//! `-000002`, …), one per [`SEGMENT_BYTES`] or so. Issue 14 §2: they may live in a directory of their
//! own (`--oplog-dir`); the master then keeps that directory in `server_meta` (`oplog_dir`), so that
//! it finds them when opened without the setting (the admin CLI, a restart) — see [`resolve_base`]. The master's `log_chunk` table is the index: a
//! record exists only when the SQLite transaction that wrote its (segment, offset, length) committed.
//!
//! Writing a batch (the caller holds the SQLite write lock, so no other process writes the files):
//! 1. the committed end is read inside the write transaction (`log_chunk`'s last record);
//! 2. the records are written there in one `pwrite` (anything past it — bytes of a push that crashed or
//!    rolled back before its commit — is cut off first);
//! 3. `fdatasync`, then the SQLite commit that records their locations; only then is the push
//!    acknowledged.
//!
//! A crash before 3 leaves bytes no committed row points to: they are never read (pulls, retries and
//! the merge go through `log_chunk`), and the next append overwrites them. A crash after the commit
//! loses nothing: the bytes were on disk before the commit was. Each record is prefixed by a 12-byte
//! header (first server_seq, u64 LE; payload length, u32 LE) so the files can be read without the index.
//!
//! An in-memory master (tests) keeps its segments in memory with the same rules.

use crate::error::{Result, ServerError};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// A segment is closed once a batch ends past this size (a batch is never split across segments).
pub const SEGMENT_BYTES: u64 = 1 << 30;
/// Bytes before each record's payload: first server_seq (u64 LE), payload length (u32 LE).
pub const HEADER_BYTES: u64 = 12;

/// Where a record's payload (the encoded operations) lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub segment: u32,
    pub offset: u64,
    pub len: u32,
}

/// The end of the committed log: the next record goes at (segment, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub segment: u32,
    pub end: u64,
}

impl Head {
    pub const EMPTY: Head = Head { segment: 1, end: 0 };
}

enum Backing {
    Memory(Mutex<Vec<Vec<u8>>>),
    Files {
        /// The segments' base path: `<base>-oplog-000001`, … (the master file itself, or its name in
        /// the oplog directory).
        db: PathBuf,
        /// Open segments by number (read and written through `pread`/`pwrite`, outside the lock:
        /// a read of a committed record does not wait for another thread's append and sync).
        open: Mutex<Vec<Option<Arc<File>>>>,
    },
}

pub struct LogFiles {
    backing: Backing,
}

/// The path of a master's log segment (also read by the cross-component tests).
pub fn segment_path(db: &Path, segment: u32) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!("-oplog-{segment:06}"));
    db.with_file_name(name)
}

/// The base path of the segments of the master file `db` kept in `dir` (None: beside it).
pub fn log_base(db: &Path, dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(dir) => dir.join(db.file_name().unwrap_or_default()),
        None => db.to_path_buf(),
    }
}

/// The `server_meta` key under which a master keeps the directory of its segments.
pub const OPLOG_DIR_KEY: &str = "oplog_dir";

fn has_meta(conn: &rusqlite::Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'server_meta')",
        [],
        |r| r.get(0),
    )?)
}

/// The directory a master recorded for its segments (None: beside it, as before issue 14).
pub fn stored_dir(conn: &rusqlite::Connection) -> Result<Option<PathBuf>> {
    use rusqlite::OptionalExtension;
    if !has_meta(conn)? {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            "SELECT value FROM server_meta WHERE key = ?1",
            [OPLOG_DIR_KEY],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .map(PathBuf::from))
}

/// Records (Some) or forgets (None: beside the master) the directory of a master's segments.
pub fn store_dir(conn: &rusqlite::Connection, dir: Option<&Path>) -> Result<()> {
    match dir {
        Some(dir) => {
            let text = dir.to_str().ok_or_else(|| {
                ServerError::BadRequest(format!("{} is not a UTF-8 path", dir.display()))
            })?;
            conn.execute(
                "INSERT INTO server_meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [OPLOG_DIR_KEY, text],
            )?;
        }
        None => {
            if has_meta(conn)? {
                conn.execute("DELETE FROM server_meta WHERE key = ?1", [OPLOG_DIR_KEY])?;
            }
        }
    }
    Ok(())
}

/// The directory a path lies in, made absolute (a relative master file's is the working directory).
fn absolute_dir(dir: &Path) -> Result<PathBuf> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::canonicalize(dir).map_err(|e| io_error(dir, e))
}

/// Where the segments of the master file `db` are, given the directory the master recorded and the
/// one asked for now (`wanted`, the `oplog_dir` setting), whose committed log ends at `head`:
/// - nothing asked: where the master recorded (else beside it);
/// - asked where they are: there;
/// - asked elsewhere: the new directory is recorded when the log is still empty, or when every
///   segment is already there (the administrator moved them, the server stopped); otherwise the
///   master refuses to open, naming both places, so no segment is ever looked for where it is not.
pub fn resolve_base(
    conn: &rusqlite::Connection,
    db: &Path,
    wanted: Option<&Path>,
    head: Head,
) -> Result<PathBuf> {
    let stored = stored_dir(conn)?;
    let current = log_base(db, stored.as_deref());
    let Some(wanted) = wanted else {
        return Ok(current);
    };
    std::fs::create_dir_all(wanted).map_err(|e| io_error(wanted, e))?;
    let wanted = absolute_dir(wanted)?;
    let current_dir = absolute_dir(current.parent().unwrap_or(Path::new("")))?;
    if current_dir == wanted {
        return Ok(current);
    }
    let wanted_base = log_base(db, Some(&wanted));
    let moved = (1..=head.segment).all(|segment| segment_path(&wanted_base, segment).exists());
    if head.end == 0 || moved {
        let beside = absolute_dir(db.parent().unwrap_or(Path::new("")))?;
        store_dir(conn, (wanted != beside).then_some(wanted.as_path()))?;
        return Ok(wanted_base);
    }
    Err(ServerError::Store(format!(
        "this master's audit log is in {} ({}, …); to keep it in {}, stop the server, move the files {}-oplog-* there, then start with the setting again (or leave oplog_dir unset)",
        current_dir.display(),
        segment_path(&current, 1).display(),
        wanted.display(),
        current.file_name().unwrap_or_default().to_string_lossy(),
    )))
}

impl LogFiles {
    /// The segments beside the master file `db`.
    pub fn beside(db: &Path) -> LogFiles {
        LogFiles::at(db)
    }

    /// The segments at `base` (`<base>-oplog-000001`, …; see [`log_base`]).
    pub fn at(base: &Path) -> LogFiles {
        LogFiles {
            backing: Backing::Files {
                db: base.to_path_buf(),
                open: Mutex::new(Vec::new()),
            },
        }
    }

    /// The base path of file-backed segments (None in memory).
    pub fn base(&self) -> Option<&Path> {
        match &self.backing {
            Backing::Files { db, .. } => Some(db),
            Backing::Memory(_) => None,
        }
    }

    pub fn in_memory() -> LogFiles {
        LogFiles {
            backing: Backing::Memory(Mutex::new(Vec::new())),
        }
    }

    /// Runs `f` on the segment's open file, opening (and, for `create`, creating) it first.
    fn with_file<T>(
        &self,
        segment: u32,
        create: bool,
        f: impl FnOnce(&File) -> std::io::Result<T>,
    ) -> Result<T> {
        let Backing::Files { db, open } = &self.backing else {
            unreachable!("file access on an in-memory log");
        };
        let file = {
            let mut open = lock(open);
            let slot = segment as usize;
            if open.len() <= slot {
                open.resize_with(slot + 1, || None);
            }
            if open[slot].is_none() {
                let path = segment_path(db, segment);
                let existed = path.exists();
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(create)
                    .truncate(false)
                    .open(&path)
                    .map_err(|e| io_error(&path, e))?;
                if create && !existed {
                    // The new file's directory entry must be durable before a commit points into it.
                    if let Some(dir) = path.parent() {
                        File::open(dir)
                            .and_then(|d| d.sync_all())
                            .map_err(|e| io_error(dir, e))?;
                    }
                }
                open[slot] = Some(Arc::new(file));
            }
            match &open[slot] {
                Some(file) => Arc::clone(file),
                None => {
                    return Err(ServerError::Store(format!(
                        "audit log segment {segment} is not open"
                    )))
                }
            }
        };
        f(&file).map_err(|e| io_error(&segment_path(db, segment), e))
    }

    /// Writes `records` (first server_seq, encoded operations) after the committed `head` and makes
    /// them durable (`fdatasync`); returns where each payload lies. Nothing is committed here: the
    /// caller records the locations in the same SQLite transaction and commits after this returns.
    pub fn append(&self, head: Head, records: &[(u64, &[u8])]) -> Result<Vec<Location>> {
        let mut head = head;
        if head.end >= SEGMENT_BYTES {
            head = Head {
                segment: head.segment + 1,
                end: 0,
            };
        }
        let total: usize = records
            .iter()
            .map(|(_, payload)| HEADER_BYTES as usize + payload.len())
            .sum();
        let mut bytes = Vec::with_capacity(total);
        let mut locations = Vec::with_capacity(records.len());
        for (first_seq, payload) in records {
            let len = u32::try_from(payload.len())
                .map_err(|_| ServerError::Store("log record over 4 GiB".to_string()))?;
            bytes.extend_from_slice(&first_seq.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            locations.push(Location {
                segment: head.segment,
                offset: head.end + bytes.len() as u64,
                len,
            });
            bytes.extend_from_slice(payload);
        }
        match &self.backing {
            Backing::Memory(segments) => {
                let mut segments = lock(segments);
                let slot = head.segment as usize;
                if segments.len() <= slot {
                    segments.resize_with(slot + 1, Vec::new);
                }
                let segment = &mut segments[slot];
                // Bytes past the committed end belong to an append that never committed.
                segment.resize(head.end as usize, 0);
                segment.extend_from_slice(&bytes);
            }
            Backing::Files { .. } => self.with_file(head.segment, true, |file| {
                if file.metadata()?.len() > head.end {
                    file.set_len(head.end)?;
                }
                file.write_all_at(&bytes, head.end)?;
                file.sync_data()
            })?,
        }
        Ok(locations)
    }

    /// A committed record's payload.
    pub fn read(&self, at: Location) -> Result<Vec<u8>> {
        match &self.backing {
            Backing::Memory(segments) => {
                let segments = lock(segments);
                let start = at.offset as usize;
                segments
                    .get(at.segment as usize)
                    .and_then(|s| s.get(start..start + at.len as usize))
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| missing(at))
            }
            Backing::Files { .. } => {
                let mut payload = vec![0; at.len as usize];
                self.with_file(at.segment, false, |file| {
                    file.read_exact_at(&mut payload, at.offset)
                })
                .map_err(|e| match e {
                    ServerError::Store(detail) => ServerError::Store(format!(
                        "{detail} (log record at segment {} offset {})",
                        at.segment, at.offset
                    )),
                    other => other,
                })?;
                Ok(payload)
            }
        }
    }

    /// Checks at open that the committed log is on disk: the last segment holds at least `head.end`
    /// bytes (bytes past it are an append that never committed and are ignored).
    pub fn check(&self, head: Head) -> Result<()> {
        if head.end == 0 {
            return Ok(());
        }
        let len = match &self.backing {
            Backing::Memory(segments) => lock(segments)
                .get(head.segment as usize)
                .map_or(0, |s| s.len() as u64),
            Backing::Files { .. } => {
                self.with_file(head.segment, false, |f| Ok(f.metadata()?.len()))?
            }
        };
        if len < head.end {
            return Err(ServerError::Store(format!(
                "audit log segment {} holds {len} bytes, the master's index needs {}: the log files do not belong to this master file",
                head.segment, head.end
            )));
        }
        Ok(())
    }
}

/// The lock guards plain bytes and file handles, so a panic elsewhere cannot leave them inconsistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn missing(at: Location) -> ServerError {
    ServerError::Store(format!(
        "log record at segment {} offset {} is missing",
        at.segment, at.offset
    ))
}

fn io_error(path: &Path, e: std::io::Error) -> ServerError {
    ServerError::Store(format!("audit log file {}: {e}", path.display()))
}
