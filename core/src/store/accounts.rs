//! The store's half of accounts (issue 11 §4; the rules are `crate::accounts`): the account's events
//! read and written through the one write path, the password hash replaced on change and reset.

use super::{Store, WriteChange};
use crate::accounts::{self, AuthEvent, AuthEventKind, LockState};
use crate::auth;
use crate::error::{CoreError, Result};
use crate::model::{Role, SessionUser};
use crate::shanghai;
use crate::tables;
use rusqlite::OptionalExtension;

/// An account of this unit, as the office head sees it to reset a password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct UnitAccount {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Locked after failed logins, until (RFC 3339, Asia/Shanghai).
    pub locked_until: Option<String>,
    pub must_change_password: bool,
}

/// What the desktop needs to know about the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct AccountState {
    pub must_change_password: bool,
    /// The screen locks after this many minutes without input.
    pub idle_lock_minutes: u32,
}

/// An account row of a unit as stored.
struct StoredAccount {
    user_id: String,
    username: String,
    display_name: Option<String>,
    role: Option<String>,
}

/// Issue 11 §5: only a role the permission matrix lets keep accounts (the office head, the district
/// administrator) sees the unit's accounts and resets their passwords.
fn require_account_keeper(head: &SessionUser) -> Result<()> {
    if crate::permissions::may(
        head.role,
        crate::permissions::Area::Accounts,
        crate::permissions::Access::Write,
    ) {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "role",
            "only the office head or the district administrator keeps the unit's accounts",
            "只有单位负责人或区司法局管理员可以管理本单位账号、重置密码",
        ))
    }
}

/// The error of an account locked until `until_ms`, in Asia/Shanghai time for the clerk.
pub fn locked_until(until_ms: u64) -> CoreError {
    CoreError::AccountLocked {
        until: shanghai::from_millis(until_ms)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
    }
}

fn rejected(problem: accounts::PasswordProblem) -> CoreError {
    CoreError::invalid("password", problem.en, problem.zh)
}

impl Store {
    /// The events of one account, from every PC of its unit that has synced.
    pub(super) fn auth_events(&self, user_id: &str) -> Result<Vec<AuthEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, at FROM auth_event WHERE user_id = ?1 AND COALESCE(_deleted, 0) = 0",
        )?;
        let rows = stmt.query_map([user_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
            ))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (kind, at) = row?;
            let kind = kind.as_deref().and_then(AuthEventKind::from_code);
            let at = at
                .as_deref()
                .and_then(|a| chrono::DateTime::parse_from_rfc3339(a).ok())
                .map(|a| a.timestamp_millis().max(0) as u64);
            if let (Some(kind), Some(at_ms)) = (kind, at) {
                events.push(AuthEvent { kind, at_ms });
            }
        }
        Ok(events)
    }

    /// Records an event of `user_id` (of `org_unit_id`) by `actor_id`. A store not enrolled yet has
    /// no log to write to and records nothing (nobody logs in there).
    pub(super) fn record_auth_event(
        &mut self,
        actor_id: &str,
        user_id: &str,
        org_unit_id: &str,
        kind: AuthEventKind,
        at_ms: u64,
    ) -> Result<()> {
        let Some(identity) = self.identity()? else {
            return Ok(());
        };
        let def = tables::table("auth_event").ok_or(CoreError::NotFound("table auth_event"))?;
        self.write_row(
            actor_id,
            def,
            &uuid::Uuid::now_v7().to_string(),
            org_unit_id,
            &[
                WriteChange::new("org_unit_id", org_unit_id),
                WriteChange::new("user_id", user_id),
                WriteChange::new("kind", kind.code()),
                WriteChange::new("at", shanghai::from_millis(at_ms).to_rfc3339()),
                WriteChange::new("actor_id", actor_id),
                WriteChange::new("site_id", identity.site_id),
            ],
        )?;
        Ok(())
    }

    /// The lock of an account now, as an error for the clerk when locked.
    pub(super) fn refuse_if_locked(&self, user_id: &str, now_ms: u64) -> Result<LockState> {
        let state = accounts::lock_state(&self.auth_events(user_id)?, now_ms);
        if let LockState::Locked { until_ms } = state {
            return Err(locked_until(until_ms));
        }
        Ok(state)
    }

    /// Issue 11 §1: the failed sign-ins made while the store was encrypted and locked (kept in the
    /// key file meanwhile) go into the login record with their own times, as if made here then.
    /// Failures for names the store does not know are dropped (nobody to lock).
    pub fn record_failures_while_locked(
        &mut self,
        failures: &[crate::keyring::PendingFailure],
    ) -> Result<()> {
        for failure in failures {
            let account: Option<(String, Option<String>)> = self
                .conn
                .query_row(
                    "SELECT id, org_unit_id FROM app_user WHERE username = ?1 AND COALESCE(_deleted, 0) = 0",
                    [failure.username.trim()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((user_id, unit)) = account {
                let unit = unit.unwrap_or_default();
                self.record_auth_event(
                    &user_id,
                    &user_id,
                    &unit,
                    AuthEventKind::LoginFailed,
                    failure.at_ms,
                )?;
            }
        }
        Ok(())
    }

    /// Whether the signed-in user must choose a new password first, and the idle lock.
    pub fn account_state(&self, user: &SessionUser) -> Result<AccountState> {
        Ok(AccountState {
            must_change_password: accounts::must_change_password(&self.auth_events(&user.user_id)?),
            idle_lock_minutes: accounts::IDLE_LOCK_MINUTES,
        })
    }

    /// The user changes their own password (the current one first).
    pub fn change_password(&mut self, user: &SessionUser, current: &str, new: &str) -> Result<()> {
        let now = self.wall_millis();
        self.refuse_if_locked(&user.user_id, now)?;
        let hash = self.password_hash_of(&user.user_id)?;
        if !hash.is_some_and(|h| auth::verify_password(current, &h)) {
            self.record_auth_event(
                &user.user_id,
                &user.user_id,
                &user.org_unit_id,
                AuthEventKind::LoginFailed,
                now,
            )?;
            return Err(CoreError::invalid(
                "current",
                "the current password is wrong",
                "当前密码不正确",
            ));
        }
        if current == new {
            return Err(CoreError::invalid(
                "password",
                "the new password is the current one",
                "新密码不能与当前密码相同",
            ));
        }
        accounts::check_new_password(&user.username, new).map_err(rejected)?;
        self.set_password(&user.user_id, &user.user_id, &user.org_unit_id, new)?;
        self.record_auth_event(
            &user.user_id,
            &user.user_id,
            &user.org_unit_id,
            AuthEventKind::PasswordChanged,
            now,
        )
    }

    /// The office head (or the district administrator, for the district's own users) sets a
    /// temporary password for a user of the same unit, who must change it at next login. Also lifts
    /// a lock.
    pub fn reset_password(
        &mut self,
        head: &SessionUser,
        user_id: &str,
        temporary: &str,
    ) -> Result<()> {
        require_account_keeper(head)?;
        let target = self
            .unit_accounts_raw(&head.org_unit_id)?
            .into_iter()
            .find(|a| a.user_id == user_id)
            .ok_or(CoreError::NotFound("user of this unit"))?;
        if target.user_id == head.user_id {
            return Err(CoreError::invalid(
                "user_id",
                "change your own password instead of resetting it",
                "自己的密码请用“修改密码”",
            ));
        }
        accounts::check_new_password(&target.username, temporary).map_err(rejected)?;
        self.set_password(&head.user_id, user_id, &head.org_unit_id, temporary)?;
        let now = self.wall_millis();
        self.record_auth_event(
            &head.user_id,
            user_id,
            &head.org_unit_id,
            AuthEventKind::PasswordReset,
            now,
        )
    }

    /// The district resets a password from the server (the admin CLI), for a user of any unit; the
    /// user must change it at next login. Returns the user's id.
    pub fn reset_password_by_district(
        &mut self,
        actor_id: &str,
        username: &str,
        temporary: &str,
    ) -> Result<String> {
        let user_id = self
            .user_id_by_name(username.trim())?
            .ok_or(CoreError::NotFound("user"))?;
        let unit: Option<String> = self
            .conn
            .prepare_cached("SELECT org_unit_id FROM app_user WHERE id = ?1")?
            .query_row([&user_id], |r| r.get(0))?;
        let unit = unit.unwrap_or_default();
        accounts::check_new_password(username.trim(), temporary).map_err(rejected)?;
        self.set_password(actor_id, &user_id, &unit, temporary)?;
        let now = self.wall_millis();
        self.record_auth_event(actor_id, &user_id, &unit, AuthEventKind::PasswordReset, now)?;
        Ok(user_id)
    }

    /// The accounts of the head's unit, with their lock and whether they must change a password.
    pub fn unit_accounts(&self, head: &SessionUser) -> Result<Vec<UnitAccount>> {
        require_account_keeper(head)?;
        let now = self.wall_millis();
        let mut out = Vec::new();
        for StoredAccount {
            user_id,
            username,
            display_name,
            role,
        } in self.unit_accounts_raw(&head.org_unit_id)?
        {
            let events = self.auth_events(&user_id)?;
            let locked_until = match accounts::lock_state(&events, now) {
                LockState::Locked { until_ms } => {
                    Some(shanghai::from_millis(until_ms).to_rfc3339())
                }
                LockState::Open { .. } => None,
            };
            out.push(UnitAccount {
                must_change_password: accounts::must_change_password(&events),
                user_id,
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                role: role
                    .as_deref()
                    .and_then(Role::from_code)
                    .unwrap_or(head.role),
                locked_until,
            });
        }
        Ok(out)
    }

    fn unit_accounts_raw(&self, unit: &str) -> Result<Vec<StoredAccount>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, username, display_name, role FROM app_user \
             WHERE org_unit_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY username",
        )?;
        let rows = stmt.query_map([unit], |r| {
            Ok(StoredAccount {
                user_id: r.get(0)?,
                username: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                display_name: r.get(2)?,
                role: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn password_hash_of(&self, user_id: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached("SELECT password_hash FROM app_user WHERE id = ?1")?
            .query_row([user_id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    fn set_password(
        &mut self,
        actor_id: &str,
        user_id: &str,
        unit: &str,
        password: &str,
    ) -> Result<()> {
        let def = tables::table("app_user").ok_or(CoreError::NotFound("table app_user"))?;
        self.write_row(
            actor_id,
            def,
            user_id,
            unit,
            &[WriteChange::new(
                "password_hash",
                auth::hash_password(password),
            )],
        )?;
        Ok(())
    }
}
