//! Sites on the PostgreSQL master (issue 11 §3): enrolment, codes, token rotation, revocation,
//! recovery codes and the directory the district reads.

use super::{reads, PgMaster};
use crate::error::{Result, ServerError};
use crate::master::{BundleSite, SiteSummary};
use jiceng_core::auth;
use jiceng_core::wire::{EnrolRequest, EnrolResponse};

/// Enrolment codes expire after 14 days.
const CODE_TTL_MS: u64 = 14 * 24 * 3600 * 1000;
const MAX_REASON_CHARS: usize = 500;
const MAX_BY_CHARS: usize = 100;

impl PgMaster {
    pub(super) fn enrol_site(
        &mut self,
        request: &EnrolRequest,
        now_ms: u64,
    ) -> Result<EnrolResponse> {
        let code_hash = auth::secret_digest(&auth::normalise_code(&request.code));
        let mut tx = self.db.transaction()?;
        // The code is spent in the same statement that finds it: two desktops racing with one code
        // (on two server processes) cannot both enrol.
        let site_id: String = tx
            .query_opt(
                "UPDATE enrolment_code SET used_at_ms = $2 \
                 WHERE code_hash = $1 AND used_at_ms IS NULL AND expires_at_ms > $2 RETURNING site_id",
                &[&code_hash, &(now_ms as i64)],
            )?
            .map(|r| r.get(0))
            .ok_or(ServerError::BadCode)?;
        let token = auth::random_token();
        let label: String = request.device_label.chars().take(100).collect();
        let instance: String = request.db_instance_id.chars().take(64).collect();
        // Re-enrolment keeps the site's sequence and hash chain (one log per site, nothing
        // overwritten): the new desktop continues from them (EnrolResponse::last_seq).
        let site = tx.query_one(
            "UPDATE site SET token_hash = $2, enrolled_at_ms = $3, device_label = $4, db_instance_id = $5, \
             token_issued_at_ms = $3, next_token_hash = NULL, prev_token_hash = NULL, revoked = FALSE \
             WHERE id = $1 RETURNING name, org_unit_id, last_seq, last_hash",
            &[
                &site_id,
                &auth::secret_digest(&token),
                &(now_ms as i64),
                &label,
                &instance,
            ],
        )?;
        tx.commit()?;
        let org_unit_id: String = site.get(1);
        let org_unit_name = reads::org_unit_name(&mut self.db, &org_unit_id)?.unwrap_or_default();
        Ok(EnrolResponse {
            site_id,
            site_name: site.get(0),
            org_unit_id,
            org_unit_name,
            token,
            server_time_ms: now_ms,
            last_seq: site.get::<_, i64>(2).max(0) as u64,
            last_hash: site.get(3),
        })
    }

    pub(super) fn issue_enrolment_code(&mut self, site_id: &str, now_ms: u64) -> Result<String> {
        let exists = self
            .db
            .query_opt(
                "SELECT 1 FROM site WHERE id = $1 AND org_unit_id <> ''",
                &[&site_id],
            )?
            .is_some();
        if !exists {
            return Err(ServerError::NotFound(format!("site {site_id}")));
        }
        let code = auth::random_enrolment_code();
        self.db.execute(
            "INSERT INTO enrolment_code (code_hash, site_id, expires_at_ms) VALUES ($1, $2, $3)",
            &[
                &auth::secret_digest(&auth::normalise_code(&code)),
                &site_id,
                &((now_ms + CODE_TTL_MS) as i64),
            ],
        )?;
        Ok(code)
    }

    /// The site's recovery code, made at its first asking and the same ever after.
    pub(super) fn recovery_code_of(&mut self, site_id: &str, now_ms: u64) -> Result<String> {
        let fresh = auth::random_recovery_code();
        // Made once: two processes asking at once both read the first one written.
        let code = self
            .db
            .query_opt(
                "UPDATE site SET recovery_code = COALESCE(recovery_code, $2), \
                 recovery_code_at_ms = COALESCE(recovery_code_at_ms, $3) WHERE id = $1 RETURNING recovery_code",
                &[&site_id, &fresh, &(now_ms as i64)],
            )?
            .ok_or_else(|| ServerError::NotFound(format!("site {site_id}")))?;
        Ok(code.get(0))
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
        let code: Option<String> = self
            .db
            .query_opt("SELECT recovery_code FROM site WHERE id = $1", &[&site_id])?
            .ok_or_else(|| ServerError::NotFound(format!("site {site_id}")))?
            .get(0);
        let Some(code) = code else {
            return Err(ServerError::BadRequest(format!(
                "site {site_id} has no recovery code yet: its desktop asks for one at its next sync"
            )));
        };
        self.db.execute(
            "INSERT INTO recovery_code_read (site_id, read_by, at_ms) VALUES ($1, $2, $3)",
            &[&site_id, &by, &(now_ms as i64)],
        )?;
        tracing::warn!(site = site_id, by = by.as_str(), "recovery code read out");
        Ok(code)
    }

    /// A new token for the site, valid beside the current one until it is first used.
    pub(super) fn issue_next_token(&mut self, site_id: &str, now_ms: u64) -> Result<String> {
        let token = auth::random_token();
        let changed = self.db.execute(
            "UPDATE site SET next_token_hash = $2, token_issued_at_ms = $3 WHERE id = $1 AND NOT revoked",
            &[&site_id, &auth::secret_digest(&token), &(now_ms as i64)],
        )?;
        if changed == 0 {
            return Err(ServerError::NotFound(format!("site {site_id}")));
        }
        Ok(token)
    }

    /// The district takes a desktop out of the district: its token and unused codes stop at once.
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
        let mut tx = self.db.transaction()?;
        let changed = tx.execute(
            "UPDATE site SET revoked = TRUE, revoked_at_ms = $2, revoked_by = $3, revoked_reason = $4, \
             next_token_hash = NULL WHERE id = $1 AND org_unit_id <> '' AND NOT revoked",
            &[&site_id, &(now_ms as i64), &by, &reason],
        )?;
        if changed == 0 {
            let exists = tx
                .query_opt(
                    "SELECT 1 FROM site WHERE id = $1 AND org_unit_id <> ''",
                    &[&site_id],
                )?
                .is_some();
            return Err(if exists {
                ServerError::Conflict(format!("site {site_id} is already revoked"))
            } else {
                ServerError::NotFound(format!("site {site_id}"))
            });
        }
        tx.execute(
            "UPDATE enrolment_code SET used_at_ms = $2 WHERE site_id = $1 AND used_at_ms IS NULL",
            &[&site_id, &(now_ms as i64)],
        )?;
        tx.execute(
            "INSERT INTO alarm (at_ms, site_id, code, detail) VALUES ($1, $2, 'site_revoked', $3)",
            &[
                &(now_ms as i64),
                &site_id,
                &format!("revoked by {by}: {reason}"),
            ],
        )?;
        tx.commit()?;
        self.site_summaries(Some(site_id))?
            .into_iter()
            .next()
            .ok_or_else(|| ServerError::NotFound(format!("site {site_id}")))
    }

    /// Every site (or one), with its enrolment and revocation, by name.
    pub(super) fn site_summaries(&mut self, only: Option<&str>) -> Result<Vec<SiteSummary>> {
        Ok(self
            .db
            .query(
                "SELECT id, name, org_unit_id, token_hash IS NOT NULL, last_seq, revoked, \
                 revoked_at_ms, revoked_by, revoked_reason, enrolled_at_ms, device_label FROM site \
                 WHERE org_unit_id <> '' AND ($1::text IS NULL OR id = $1) ORDER BY name COLLATE \"C\"",
                &[&only],
            )?
            .iter()
            .map(|r| SiteSummary {
                id: r.get(0),
                name: r.get(1),
                org_unit_id: r.get(2),
                enrolled: r.get(3),
                last_seq: r.get::<_, i64>(4).max(0) as u64,
                revoked: r.get(5),
                revoked_at_ms: r.get::<_, Option<i64>>(6).map(|v| v.max(0) as u64),
                revoked_by: r.get(7),
                revoked_reason: r.get(8),
                enrolled_at_ms: r.get::<_, Option<i64>>(9).map(|v| v.max(0) as u64),
                device_label: r.get(10),
            })
            .collect())
    }

    /// The site a sync bundle names, with the token digests its bundles may be signed under.
    pub(super) fn bundle_signer(&mut self, site_id: &str) -> Result<BundleSite> {
        let found = self.db.query_opt(
            "SELECT org_unit_id, revoked, name, token_hash, next_token_hash, prev_token_hash, created_at_ms \
             FROM site WHERE id = $1 AND org_unit_id <> '' AND token_hash IS NOT NULL",
            &[&site_id],
        )?;
        let Some(found) = found else {
            return Err(ServerError::BundleUnknownSite(crate::log_safe(
                &site_id.chars().take(64).collect::<String>(),
            )));
        };
        let org_unit_id: String = found.get(0);
        let token_digests = [3, 4, 5]
            .iter()
            .filter_map(|i| found.get::<_, Option<String>>(*i))
            .collect();
        Ok(BundleSite {
            auth: reads::site_auth(
                &mut self.db,
                &mut self.prepared,
                &self.places,
                reads::SiteRow {
                    site_id: site_id.to_string(),
                    org_unit_id,
                    created_at_ms: found.get(6),
                },
            )?,
            name: found.get(2),
            token_digests,
            revoked: found.get(1),
        })
    }
}
