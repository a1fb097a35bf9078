//! The store half of D-2's user administration (issue 13 §3): reads the tree and the users as the
//! district administers them, and disables or enables a user through the one write path. The rules
//! (who may be disabled) are in `crate::directory_admin`.

use super::{Store, WriteChange};
use crate::directory_admin::{OrgUnitSummary, UserSummary};
use crate::error::{CoreError, Result};
use crate::tables::{self, DELETED_FIELD};

impl Store {
    /// Every user of this store's copy of the directory, disabled ones too (never a password hash).
    pub fn user_summaries(&self) -> Result<Vec<UserSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, COALESCE(username, ''), COALESCE(display_name, ''), COALESCE(role, ''), \
             COALESCE(org_unit_id, ''), COALESCE(_deleted, 0) <> 0 FROM app_user \
             ORDER BY org_unit_id, username, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(UserSummary {
                id: r.get(0)?,
                username: r.get(1)?,
                display_name: r.get(2)?,
                role: r.get(3)?,
                org_unit_id: r.get(4)?,
                disabled: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The org tree as this store holds it.
    pub fn org_unit_summaries(&self) -> Result<Vec<OrgUnitSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, parent_id, COALESCE(kind, ''), COALESCE(name, '') FROM org_unit \
             WHERE COALESCE(_deleted, 0) = 0 ORDER BY kind, name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OrgUnitSummary {
                id: r.get(0)?,
                parent_id: r.get(1)?,
                kind: r.get(2)?,
                name: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Disables a user (they can no longer sign in anywhere; their work stays) or enables them
    /// again. Enabling is refused while another enabled account holds the same username.
    pub fn set_user_disabled(
        &mut self,
        actor_id: &str,
        user_id: &str,
        disabled: bool,
    ) -> Result<UserSummary> {
        let user = self
            .user_summaries()?
            .into_iter()
            .find(|u| u.id == user_id)
            .ok_or(CoreError::NotFound("user"))?;
        if !disabled && user.disabled {
            if let Some(holder) = self.user_id_by_name(&user.username)? {
                if holder != user.id {
                    return Err(CoreError::invalid(
                        "username",
                        "another enabled account holds this username",
                        "已有另一个启用的账号使用该用户名",
                    ));
                }
            }
        }
        if user.disabled != disabled {
            let def = tables::table("app_user").ok_or(CoreError::NotFound("table app_user"))?;
            self.write_row(
                actor_id,
                def,
                user_id,
                &user.org_unit_id,
                &[WriteChange::new(DELETED_FIELD, disabled)],
            )?;
        }
        Ok(UserSummary { disabled, ..user })
    }
}
