//! Key/value facts of the site: identity, clocks, cursors and sync status.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

pub(crate) const HLC_LAST: &str = "hlc_last";
pub(crate) const SEQ_LAST: &str = "site_seq_last";
pub(crate) const HASH_LAST: &str = "hash_last";
pub(crate) const INSTANCE_ID: &str = "db_instance_id";
pub(crate) const IDENTITY: &str = "site_identity";
pub(crate) const PULL_CURSOR: &str = "pull_cursor";
pub(crate) const SYNC_STATUS: &str = "sync_status";
pub(crate) const CLOCK_OFFSET_MS: &str = "clock_offset_ms";
pub(crate) const MASTER_ID: &str = "master_id";
/// When the site's token was issued (ms; issue 11 §3: rotated every 30 days).
pub(crate) const TOKEN_ISSUED_MS: &str = "token_issued_ms";
/// Why the site is re-initialising (set while a full pull runs; issue 10 §5).
pub(crate) const REINITIALISING: &str = "reinitialising";

/// Who this site is, as the server told it at enrolment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteIdentity {
    pub site_id: String,
    pub site_name: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub server_url: String,
    /// Bearer token for the sync API (kept only here; the server stores its hash).
    pub token: String,
    /// Issue 11 §2: SHA-256 (hex) of the district's certificate this site trusts (https only).
    #[serde(default)]
    pub tls_pin: Option<String>,
}

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    // Cached: every write reads and sets the clock, the sequence and the chain's last hash here.
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

pub(crate) fn get_u64(conn: &Connection, key: &str) -> Result<Option<u64>> {
    Ok(get(conn, key)?.and_then(|v| v.parse().ok()))
}

pub(crate) fn get_json<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    key: &str,
) -> Result<Option<T>> {
    match get(conn, key)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| crate::error::CoreError::Corrupt(format!("meta {key}: {e}"))),
    }
}

pub(crate) fn set_json<T: Serialize>(conn: &Connection, key: &str, value: &T) -> Result<()> {
    let text = serde_json::to_string(value)
        .map_err(|e| crate::error::CoreError::Corrupt(e.to_string()))?;
    set(conn, key, &text)
}

impl super::Store {
    pub(super) fn ensure_instance_id(&mut self) -> Result<()> {
        if get(&self.conn, INSTANCE_ID)?.is_none() {
            set(&self.conn, INSTANCE_ID, &uuid::Uuid::now_v7().to_string())?;
        }
        Ok(())
    }

    /// Identifies this database file instance; a restored or cloned copy gets a new one through
    /// [`Store::reset_instance_id`] so the server can tell two copies of one site apart.
    pub fn instance_id(&self) -> Result<String> {
        Ok(get(&self.conn, INSTANCE_ID)?.unwrap_or_default())
    }

    pub fn reset_instance_id(&mut self) -> Result<()> {
        set(&self.conn, INSTANCE_ID, &uuid::Uuid::now_v7().to_string())
    }

    pub fn identity(&self) -> Result<Option<SiteIdentity>> {
        get_json(&self.conn, IDENTITY)
    }

    pub fn set_identity(&mut self, identity: &SiteIdentity) -> Result<()> {
        let now = self.wall_millis();
        let tx = self.conn.transaction()?;
        set_json(&tx, IDENTITY, identity)?;
        set(&tx, TOKEN_ISSUED_MS, &now.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// When this site's token was issued (None: before the store kept it).
    pub fn token_issued_ms(&self) -> Result<Option<u64>> {
        get_u64(&self.conn, TOKEN_ISSUED_MS)
    }

    /// Issue 11 §3: the server issued the site a new token; it replaces the current one at once (the
    /// server keeps the current one valid until the new one is first used).
    pub fn replace_token(&mut self, token: &str) -> Result<()> {
        let Some(mut identity) = self.identity()? else {
            return Err(crate::error::CoreError::NotEnrolled);
        };
        identity.token = token.to_string();
        self.set_identity(&identity)
    }

    /// Re-enrolment (issue 9): a store that has written nothing yet continues its site's log where the
    /// master's copy ends, so the site keeps one contiguous hash chain and a retried push finds its
    /// own records. A store that already wrote keeps its own numbering.
    pub fn continue_site_log(&mut self, last_seq: u64, last_hash: &str) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let written = get_u64(&tx, SEQ_LAST)?.unwrap_or(0) > 0;
        if written || last_seq == 0 {
            return Ok(false);
        }
        set(&tx, SEQ_LAST, &last_seq.to_string())?;
        set(&tx, HASH_LAST, last_hash)?;
        tx.commit()?;
        Ok(true)
    }

    /// A sync server's administration replica (issue 12 §2): several server processes write as the one
    /// server site, so before each write the replica takes up the chain where the master's copy ends
    /// (read under the master's log lock). Refused while operations of its own wait to be sent.
    pub fn adopt_site_log_head(&mut self, last_seq: u64, last_hash: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        let waiting = super::acked::unsent_count(&tx)?;
        if waiting > 0 {
            return Err(crate::error::CoreError::Corrupt(
                "operations of this store wait to be sent: its log cannot be moved".to_string(),
            ));
        }
        set(&tx, SEQ_LAST, &last_seq.to_string())?;
        set(&tx, HASH_LAST, last_hash)?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn require_identity(&self) -> Result<SiteIdentity> {
        self.identity()?.ok_or(crate::error::CoreError::NotEnrolled)
    }
}
