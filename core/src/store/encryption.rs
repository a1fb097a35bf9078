//! The SQL half of encrypted stores (issue 11 §1): SQLCipher opened with a raw 256-bit key (no
//! passphrase KDF: the key is random and comes unwrapped from the key file), and the in-place
//! encryption of a plain store. The keys themselves live in `keyring`; the files in `vault`.

use super::{system_clock, Store};
use crate::error::{CoreError, Result};
use crate::keyring::DatabaseKey;
use rusqlite::Connection;
use std::path::Path;

/// What a store file on disk is, told from its first bytes without opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFile {
    Missing,
    /// A plain SQLite file (every SQLite file starts with this header; an encrypted one never does).
    Plain,
    Encrypted,
}

pub fn store_file_kind(path: &Path) -> Result<StoreFile> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StoreFile::Missing),
        Err(e) => return Err(CoreError::Corrupt(format!("{}: {e}", path.display()))),
    };
    let mut header = [0u8; 16];
    let read = file
        .read(&mut header)
        .map_err(|e| CoreError::Corrupt(format!("{}: {e}", path.display())))?;
    Ok(if read == 0 {
        StoreFile::Missing
    } else if &header[..read.min(16)] == b"SQLite format 3\0" {
        StoreFile::Plain
    } else {
        StoreFile::Encrypted
    })
}

/// Held while SQLCipher sets up a connection's key (its codec context). SQLCipher 4.7+ keeps codec
/// contexts in a process-wide private heap whose bookkeeping races when two threads key connections
/// at once (sqlcipher/sqlcipher#598); the tests saw `PRAGMA key` fail that way, rarely, when many
/// stores were opened at once. The desktop keys a connection at sign-in and for a backup: waiting
/// here costs nothing.
static KEYING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn keying() -> std::sync::MutexGuard<'static, ()> {
    KEYING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `PRAGMA key` with a raw key: SQLCipher's `x'…'` form, our own hex (nothing typed goes here).
fn apply_key(conn: &Connection, key: &DatabaseKey, schema: &str) -> Result<()> {
    // A wrong key is an answer (the clerk is told), not an error for SQLCipher to print on stderr.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    conn.execute_batch(&format!(
        "PRAGMA {schema}.key = \"x'{}'\";",
        hex::encode(key.0)
    ))?;
    Ok(())
}

/// Whether the key opens the file: SQLCipher only finds out at the first read.
fn check_key(conn: &Connection) -> Result<()> {
    match conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(CoreError::WrongStoreKey)
        }
        Err(e) => Err(e.into()),
    }
}

fn table_names(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

/// Writes an encrypted copy of the plain SQLite file `plain` to the new file `target` under `key`,
/// with its schema version, and checks that every table of the copy holds as many rows as the
/// original. Returns the rows copied. `plain` is not changed (its WAL is folded into it first).
pub fn encrypt_copy(plain: &Path, target: &Path, key: &DatabaseKey) -> Result<u64> {
    let target_str = target
        .to_str()
        .ok_or_else(|| CoreError::Corrupt("the store path is not UTF-8".to_string()))?;
    let conn = Connection::open(plain)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Everything committed is in the main file before it is read whole.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    {
        let _keying = keying();
        conn.execute(
            &format!(
                "ATTACH DATABASE ?1 AS encrypted KEY \"x'{}'\"",
                hex::encode(key.0)
            ),
            [target_str],
        )?;
    }
    let exported = (|| -> Result<()> {
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        // sqlcipher_export copies the schema and the rows, not the user version.
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        conn.execute_batch(&format!("PRAGMA encrypted.user_version = {version};"))?;
        Ok(())
    })();
    conn.execute_batch("DETACH DATABASE encrypted;")?;
    exported?;
    let copy = Connection::open(target)?;
    {
        let _keying = keying();
        apply_key(&copy, key, "main")?;
        check_key(&copy)?;
    }
    let mut rows = 0u64;
    for table in table_names(&conn)? {
        let count = |c: &Connection| -> Result<i64> {
            Ok(
                c.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })?,
            )
        };
        let (here, there) = (count(&conn)?, count(&copy)?);
        if here != there {
            return Err(CoreError::Corrupt(format!(
                "the encrypted copy of {table} holds {there} rows, the original {here}"
            )));
        }
        rows += here.max(0) as u64;
    }
    let version_copy: i64 = copy.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version_plain: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version_copy != version_plain {
        return Err(CoreError::Corrupt(
            "the encrypted copy lost the schema version".to_string(),
        ));
    }
    Ok(rows)
}

impl Store {
    /// Opens (or creates) an encrypted store with its database key.
    pub fn open_encrypted(path: &Path, key: &DatabaseKey) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                CoreError::Corrupt(format!("cannot create data dir {}: {e}", dir.display()))
            })?;
        }
        let conn = Connection::open(path)?;
        {
            let _keying = keying();
            apply_key(&conn, key, "main")?;
            check_key(&conn)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // The page cache stays SQLite's default between syncs and grows for a pull (page_cache.rs).
        Store::init(conn, system_clock())
    }

    /// The accounts this store would let sign in (username, password hash): the key file gives
    /// each of them an entry, and nobody else.
    pub fn key_holders(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT username, password_hash FROM app_user \
             WHERE COALESCE(_deleted, 0) = 0 AND username IS NOT NULL AND password_hash IS NOT NULL",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
