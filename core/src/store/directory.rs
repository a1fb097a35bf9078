//! The org tree and users as replicated to this site; login against the local copy (works offline).

use super::{Store, WriteChange};
use crate::auth;
use crate::error::{CoreError, Result};
use crate::model::{AppInfo, OrgKind, Role, SessionUser};
use crate::tables;
use rusqlite::{params, OptionalExtension};

/// A user row as stored (columns may be empty while a row is still arriving through sync).
struct StoredUser {
    user_id: String,
    username: String,
    display_name: Option<String>,
    role: Option<String>,
    org_unit_id: Option<String>,
    password_hash: Option<String>,
}

/// A well-formed hash of no password, checked when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// What `create_user` needs.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_unit_id: String,
    pub password: String,
}

impl Store {
    pub fn org_unit_name(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT name FROM org_unit WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// A site's name as the district named it (None for a site this store has no entry for).
    pub fn site_name(&self, site_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT name FROM site_directory WHERE id = ?1 AND COALESCE(_deleted, 0) = 0",
            )?
            .query_row([site_id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// A site as people read it: its name, else its id.
    pub fn site_label(&self, site_id: &str) -> Result<String> {
        Ok(self
            .site_name(site_id)?
            .unwrap_or_else(|| site_id.to_string()))
    }

    /// Records a site's name in the district's directory (the server's admin; replicated to every
    /// site of the district).
    pub fn name_site(
        &mut self,
        actor_id: &str,
        site_id: &str,
        district_id: &str,
        org_unit_id: &str,
        name: &str,
    ) -> Result<()> {
        let name = super::input::required(name, 100, "name", "站点名称不能为空（最多100字）")?;
        let def =
            tables::table("site_directory").ok_or(CoreError::NotFound("table site_directory"))?;
        self.write_row(
            actor_id,
            def,
            site_id,
            district_id,
            &[
                WriteChange::new("district_id", district_id),
                WriteChange::new("org_unit_id", org_unit_id),
                WriteChange::new("name", name.as_str()),
            ],
        )?;
        Ok(())
    }

    pub fn user_display_name(&self, user_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT display_name FROM app_user WHERE id = ?1")?
            .query_row([user_id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    pub fn org_unit_kind(&self, id: &str) -> Result<Option<OrgKind>> {
        let kind: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT kind FROM org_unit WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(kind.flatten().and_then(|k| OrgKind::from_code(&k)))
    }

    /// The unit and every unit below it.
    pub fn org_subtree(&self, root: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION SELECT o.id FROM org_unit o JOIN sub ON o.parent_id = sub.id) \
             SELECT id FROM sub",
        )?;
        let ids = stmt.query_map([root], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// `unit` and every unit above it, up to the district.
    pub fn org_ancestors(&self, unit: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "WITH RECURSIVE up(id, depth) AS (SELECT ?1, 0 UNION SELECT o.parent_id, up.depth + 1 FROM org_unit o \
             JOIN up ON o.id = up.id WHERE o.parent_id IS NOT NULL) SELECT id FROM up ORDER BY depth",
        )?;
        let ids = stmt.query_map([unit], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    pub fn is_within(&self, unit: &str, root: &str) -> Result<bool> {
        Ok(self.org_subtree(root)?.iter().any(|u| u == unit))
    }

    /// Adds an org unit (admin tooling; replicated like every other record).
    pub fn create_org_unit(
        &mut self,
        actor_id: &str,
        id: &str,
        parent_id: Option<&str>,
        kind: OrgKind,
        name: &str,
    ) -> Result<()> {
        let name = super::input::required(name, 100, "name", "单位名称不能为空（最多100字）")?;
        if let Some(parent) = parent_id {
            if self.org_unit_kind(parent)?.is_none() {
                return Err(CoreError::NotFound("parent org unit"));
            }
        }
        let def = tables::table("org_unit").ok_or(CoreError::NotFound("table org_unit"))?;
        self.write_row(
            actor_id,
            def,
            id,
            id,
            &[
                WriteChange::new("parent_id", parent_id.map(str::to_string)),
                WriteChange::new("kind", kind.code()),
                WriteChange::new("name", name),
            ],
        )?;
        Ok(())
    }

    pub fn create_user(&mut self, actor_id: &str, user: &NewUser) -> Result<String> {
        let username = user.username.trim();
        if username.is_empty() || username.chars().count() > 64 {
            return Err(CoreError::invalid(
                "username",
                "username must be 1-64 characters",
                "用户名应为1到64个字符",
            ));
        }
        crate::accounts::check_new_password(username, &user.password)
            .map_err(|p| CoreError::invalid("password", p.en, p.zh))?;
        if self.user_id_by_name(username)?.is_some() {
            return Err(CoreError::invalid(
                "username",
                "username is taken",
                "用户名已存在",
            ));
        }
        if self.org_unit_kind(&user.org_unit_id)?.is_none() {
            return Err(CoreError::NotFound("org unit"));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let def = tables::table("app_user").ok_or(CoreError::NotFound("table app_user"))?;
        self.write_row(
            actor_id,
            def,
            &id,
            &user.org_unit_id,
            &[
                WriteChange::new("org_unit_id", user.org_unit_id.clone()),
                WriteChange::new("username", username),
                WriteChange::new("display_name", user.display_name.trim()),
                WriteChange::new("role", user.role.code()),
                WriteChange::new("password_hash", auth::hash_password(&user.password)),
            ],
        )?;
        Ok(id)
    }

    pub(super) fn user_id_by_name(&self, username: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM app_user WHERE username = ?1 AND COALESCE(_deleted, 0) = 0",
            )?
            .query_row([username], |r| r.get(0))
            .optional()?)
    }

    /// Checks a password against the local copy of the user list (works offline).
    /// Issue 11 §4: a failure is recorded (an operation that syncs to the unit's PCs and the district),
    /// and five in a row lock the account for 15 minutes, offline too.
    pub fn login(&mut self, username: &str, password: &str) -> Result<SessionUser> {
        let row: Option<StoredUser> = self
            .conn
            .prepare_cached(
                "SELECT id, username, display_name, role, org_unit_id, password_hash FROM app_user \
                 WHERE username = ?1 AND COALESCE(_deleted, 0) = 0",
            )?
            .query_row([username.trim()], |r| {
                Ok(StoredUser {
                    user_id: r.get(0)?,
                    username: r.get(1)?,
                    display_name: r.get(2)?,
                    role: r.get(3)?,
                    org_unit_id: r.get(4)?,
                    password_hash: r.get(5)?,
                })
            })
            .optional()?;
        let Some(StoredUser {
            user_id,
            username,
            display_name,
            role,
            org_unit_id,
            password_hash: hash,
        }) = row
        else {
            // Spend the same time as a real check so a missing user is not told apart by timing.
            auth::verify_password(password, DUMMY_HASH);
            return Err(CoreError::BadCredentials);
        };
        let unit = org_unit_id.clone().unwrap_or_default();
        let now = self.wall_millis();
        let before = self.refuse_if_locked(&user_id, now)?;
        if !hash.is_some_and(|h| auth::verify_password(password, &h)) {
            self.record_auth_event(
                &user_id,
                &user_id,
                &unit,
                crate::accounts::AuthEventKind::LoginFailed,
                now,
            )?;
            self.refuse_if_locked(&user_id, now)?;
            return Err(CoreError::BadCredentials);
        }
        if matches!(before, crate::accounts::LockState::Open { failures } if failures > 0) {
            self.record_auth_event(
                &user_id,
                &user_id,
                &unit,
                crate::accounts::AuthEventKind::LoginOk,
                now,
            )?;
        }
        let role = role
            .as_deref()
            .and_then(Role::from_code)
            .ok_or_else(|| CoreError::Corrupt(format!("user {username} has no valid role")))?;
        Ok(SessionUser {
            user_id,
            display_name: display_name.unwrap_or_else(|| username.clone()),
            username,
            role,
            org_unit_id: org_unit_id.unwrap_or_default(),
        })
    }

    pub fn app_info(&self, data_dir: &str) -> Result<AppInfo> {
        let identity = self.identity()?;
        Ok(AppInfo {
            enrolled: identity.is_some(),
            site_id: identity.as_ref().map(|i| i.site_id.clone()),
            site_name: identity.as_ref().map(|i| i.site_name.clone()),
            org_unit_id: identity.as_ref().map(|i| i.org_unit_id.clone()),
            org_unit_name: identity.as_ref().map(|i| i.org_unit_name.clone()),
            server_url: identity.as_ref().map(|i| i.server_url.clone()),
            plain_http: identity
                .as_ref()
                .is_some_and(|i| crate::tls::is_plain_remote(&i.server_url)),
            data_dir: data_dir.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            encrypted_store: false,
            store_locked: false,
        })
    }

    /// Number of rows of a replicated table (for tests and status screens).
    pub fn count_rows(&self, table: &str) -> Result<u64> {
        let def = tables::table(table).ok_or(CoreError::NotFound("table"))?;
        Ok(self.conn.query_row(
            &format!("SELECT COUNT(*) FROM {}", def.name),
            params![],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}
