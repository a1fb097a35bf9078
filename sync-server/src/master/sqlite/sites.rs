//! Sites as the district administers them (issue 11 §3): authentication by token (with rotation),
//! revocation, and the keys a site's sync bundles may be signed with.

use super::SqliteMaster;
use crate::error::{Result, ServerError};
use crate::master::SiteSummary;
use jiceng_core::auth;
use rusqlite::{params, Connection, OptionalExtension};

const MAX_REASON_CHARS: usize = 500;
const MAX_BY_CHARS: usize = 100;

/// The site a token belongs to: (site id, org unit). A site's next token (after a rotation) is
/// promoted by its first use. A revoked site's token is recognised and refused as revoked.
pub(super) fn site_of_token(conn: &Connection, token: &str) -> Result<(String, String)> {
    let digest = auth::secret_digest(token);
    let found: Option<(String, String, bool, bool, Option<i64>)> = conn
        .prepare_cached(
            "SELECT id, org_unit_id, revoked <> 0, token_hash = ?1, revoked_at_ms FROM site \
             WHERE token_hash = ?1 OR next_token_hash = ?1",
        )?
        .query_row([&digest], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((site_id, org_unit_id, revoked, current, revoked_at)) = found else {
        return Err(ServerError::BadToken);
    };
    if revoked {
        return Err(ServerError::SiteRevoked {
            at_ms: revoked_at.unwrap_or(0).max(0) as u64,
        });
    }
    if !current {
        conn.prepare_cached(
            "UPDATE site SET prev_token_hash = token_hash, token_hash = next_token_hash, \
             next_token_hash = NULL WHERE id = ?1",
        )?
        .execute([&site_id])?;
    }
    Ok((site_id, org_unit_id))
}

impl SqliteMaster {
    /// The site's recovery code, made at its first asking and the same ever after (the desktop's key
    /// file holds the store's key wrapped for it).
    pub(super) fn recovery_code_of(&mut self, site_id: &str, now_ms: u64) -> Result<String> {
        let conn = self.store.connection();
        let current: Option<Option<String>> = conn
            .query_row(
                "SELECT recovery_code FROM site WHERE id = ?1",
                [site_id],
                |r| r.get(0),
            )
            .optional()?;
        match current {
            None => Err(ServerError::NotFound(format!("site {site_id}"))),
            Some(Some(code)) => Ok(code),
            Some(None) => {
                let code = auth::random_recovery_code();
                conn.execute(
                    "UPDATE site SET recovery_code = ?2, recovery_code_at_ms = ?3 WHERE id = ?1",
                    params![site_id, code, now_ms as i64],
                )?;
                Ok(code)
            }
        }
    }

    /// The district reads a site's recovery code out to its users; every reading is recorded.
    pub(super) fn recovery_code_for_district(
        &mut self,
        site_id: &str,
        by: &str,
        now_ms: u64,
    ) -> Result<String> {
        let by: String = by.trim().chars().take(MAX_BY_CHARS).collect();
        if by.is_empty() {
            return Err(ServerError::BadRequest(
                "say who reads the recovery code (by)".to_string(),
            ));
        }
        let conn = self.store.connection();
        let code: Option<Option<String>> = conn
            .query_row(
                "SELECT recovery_code FROM site WHERE id = ?1",
                [site_id],
                |r| r.get(0),
            )
            .optional()?;
        let code = match code {
            None => return Err(ServerError::NotFound(format!("site {site_id}"))),
            Some(None) => {
                return Err(ServerError::BadRequest(format!(
                    "site {site_id} has no recovery code yet: its desktop asks for one at its next sync"
                )))
            }
            Some(Some(code)) => code,
        };
        conn.execute(
            "INSERT INTO recovery_code_read (site_id, read_by, at_ms) VALUES (?1, ?2, ?3)",
            params![site_id, by, now_ms as i64],
        )?;
        tracing::warn!(site = site_id, by = by.as_str(), "recovery code read out");
        Ok(code)
    }

    /// A new token for the site, valid beside the current one until it is first used.
    pub(super) fn issue_next_token(&mut self, site_id: &str, now_ms: u64) -> Result<String> {
        let token = auth::random_token();
        let changed = self.store.connection().execute(
            "UPDATE site SET next_token_hash = ?2, token_issued_at_ms = ?3 WHERE id = ?1 AND revoked = 0",
            params![site_id, auth::secret_digest(&token), now_ms as i64],
        )?;
        if changed == 0 {
            return Err(ServerError::NotFound(format!("site {site_id}")));
        }
        Ok(token)
    }

    /// The district takes a desktop out of the district: its token and its unused enrolment codes stop
    /// working at once. Its history stays; a new code re-enrols the site on another PC.
    pub(super) fn revoke(
        &mut self,
        site_id: &str,
        by: &str,
        reason: &str,
        now_ms: u64,
    ) -> Result<SiteSummary> {
        let by: String = by.trim().chars().take(MAX_BY_CHARS).collect();
        if by.is_empty() {
            return Err(ServerError::BadRequest(
                "say who revokes the site (by)".to_string(),
            ));
        }
        let reason: String = reason.trim().chars().take(MAX_REASON_CHARS).collect();
        let tx = self.store.connection_mut().transaction()?;
        let changed = tx.execute(
            "UPDATE site SET revoked = 1, revoked_at_ms = ?2, revoked_by = ?3, revoked_reason = ?4, \
             next_token_hash = NULL WHERE id = ?1 AND org_unit_id <> '' AND revoked = 0",
            params![site_id, now_ms as i64, by, reason],
        )?;
        if changed == 0 {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM site WHERE id = ?1 AND org_unit_id <> '')",
                [site_id],
                |r| r.get(0),
            )?;
            return Err(if exists {
                ServerError::Conflict(format!("site {site_id} is already revoked"))
            } else {
                ServerError::NotFound(format!("site {site_id}"))
            });
        }
        tx.execute(
            "UPDATE enrolment_code SET used_at_ms = ?2 WHERE site_id = ?1 AND used_at_ms IS NULL",
            params![site_id, now_ms as i64],
        )?;
        tx.execute(
            "INSERT INTO alarm (at_ms, site_id, code, detail) VALUES (?1, ?2, 'site_revoked', ?3)",
            params![now_ms as i64, site_id, format!("revoked by {by}: {reason}")],
        )?;
        tx.commit()?;
        self.site_summaries(Some(site_id))?
            .into_iter()
            .next()
            .ok_or_else(|| ServerError::NotFound(format!("site {site_id}")))
    }

    /// Every site (or one), with its enrolment and revocation.
    pub(super) fn site_summaries(&self, only: Option<&str>) -> Result<Vec<SiteSummary>> {
        let mut stmt = self.store.connection().prepare_cached(
            "SELECT id, name, org_unit_id, token_hash IS NOT NULL, last_seq, revoked <> 0, \
             revoked_at_ms, revoked_by, revoked_reason, enrolled_at_ms, device_label FROM site \
             WHERE org_unit_id <> '' AND (?1 IS NULL OR id = ?1) ORDER BY name",
        )?;
        let rows = stmt.query_map([only], |r| {
            Ok(SiteSummary {
                id: r.get(0)?,
                name: r.get(1)?,
                org_unit_id: r.get(2)?,
                enrolled: r.get(3)?,
                last_seq: r.get::<_, i64>(4)?.max(0) as u64,
                revoked: r.get(5)?,
                revoked_at_ms: r.get::<_, Option<i64>>(6)?.map(|v| v.max(0) as u64),
                revoked_by: r.get(7)?,
                revoked_reason: r.get(8)?,
                enrolled_at_ms: r.get::<_, Option<i64>>(9)?.map(|v| v.max(0) as u64),
                device_label: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The token digests a site's bundles may be signed under: the current token, one issued and not
    /// yet used, and the one before the last rotation (a bundle exported before it).
    pub(super) fn bundle_digests(&self, site_id: &str) -> Result<Vec<String>> {
        let found: Option<(Option<String>, Option<String>, Option<String>)> = self
            .store
            .connection()
            .prepare_cached(
                "SELECT token_hash, next_token_hash, prev_token_hash FROM site WHERE id = ?1",
            )?
            .query_row([site_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(found
            .map(|(a, b, c)| [a, b, c].into_iter().flatten().collect())
            .unwrap_or_default())
    }
}
