//! D-2 from the district's desktop (issue 13 §3): one administrative change, checked by core's rules
//! (`jiceng_core::directory_admin`), made through the master's trait, and kept in the district's
//! audit with who asked and from which site. Knows no database.

use crate::error::{Result, ServerError};
use crate::master::{AdminActionRecord, MasterStore};
use jiceng_core::directory_admin::{
    self as rules, AdminActor, AdminCall, AdminOutcome, AdminRefusal, AdminRequest,
};
use jiceng_core::model::{OrgKind, Role};

/// The audit's `via_site` of a change made on the server's command line.
pub const VIA_CLI: &str = "cli";

/// How many audited changes the district's screen shows.
pub const ACTIONS_SHOWN: usize = 200;

fn refused(r: AdminRefusal) -> ServerError {
    ServerError::BadRequest(format!("{}: {}", r.field, r.en))
}

fn checked_actor(by: &AdminActor) -> Result<AdminActor> {
    let user_id = by.user_id.trim();
    if user_id.is_empty() || user_id.chars().count() > 64 {
        return Err(ServerError::BadRequest(
            "by.user_id must be the signed-in district user's id (1-64 characters)".to_string(),
        ));
    }
    Ok(AdminActor {
        user_id: user_id.to_string(),
        name: rules::clean_name("by.name", &by.name).map_err(refused)?,
    })
}

fn unit_kind(master: &mut dyn MasterStore, unit_id: &str) -> Result<OrgKind> {
    let unit = master
        .org_units()?
        .into_iter()
        .find(|u| u.id == unit_id)
        .ok_or_else(|| ServerError::NotFound(format!("org unit {unit_id}")))?;
    OrgKind::from_code(&unit.kind)
        .ok_or_else(|| ServerError::Store(format!("org unit {unit_id} has no valid kind")))
}

fn user(master: &mut dyn MasterStore, user_id: &str) -> Result<rules::UserSummary> {
    master
        .users()?
        .into_iter()
        .find(|u| u.id == user_id)
        .ok_or_else(|| ServerError::NotFound(format!("user {user_id}")))
}

/// Makes one change and records it. `via_site` is the district site that asked ([`VIA_CLI`] on the
/// command line). Nothing is recorded when the change is refused.
pub fn perform(
    master: &mut dyn MasterStore,
    via_site: &str,
    call: &AdminCall,
    now_ms: u64,
) -> Result<AdminOutcome> {
    let by = checked_actor(&call.by)?;
    let (mut target, detail) = rules::describe(&call.request);
    let mut enrolment_code = None;
    match &call.request {
        AdminRequest::AddOrgUnit {
            parent_id,
            kind,
            name,
        } => {
            let kind = OrgKind::from_code(kind).ok_or_else(|| {
                ServerError::BadRequest("kind must be township or community".to_string())
            })?;
            rules::check_child_kind(unit_kind(master, parent_id)?, kind).map_err(refused)?;
            let name = rules::clean_name("name", name).map_err(refused)?;
            target = master.add_org_unit(Some(parent_id), kind, &name)?;
        }
        AdminRequest::AddSite { org_unit_id, name } => {
            unit_kind(master, org_unit_id)?;
            let name = rules::clean_name("name", name).map_err(refused)?;
            let (site_id, code) = master.add_site(org_unit_id, &name, now_ms)?;
            target = site_id;
            enrolment_code = Some(code);
        }
        AdminRequest::NewEnrolmentCode { site_id } => {
            enrolment_code = Some(master.new_enrolment_code(site_id, now_ms)?);
        }
        AdminRequest::AddUser {
            username,
            display_name,
            role,
            org_unit_id,
            password,
        } => {
            let role = Role::from_code(role)
                .ok_or_else(|| ServerError::BadRequest(format!("role: unknown role {role:?}")))?;
            rules::role_fits_unit(role, unit_kind(master, org_unit_id)?).map_err(refused)?;
            let display_name = rules::clean_name("display_name", display_name).map_err(refused)?;
            target = master.add_user(username, &display_name, role, org_unit_id, password)?;
        }
        AdminRequest::ResetPassword {
            user_id,
            temporary_password,
        } => {
            let user = user(master, user_id)?;
            if user.disabled {
                return Err(ServerError::Conflict(format!(
                    "user {user_id} is disabled: enable the account before resetting its password"
                )));
            }
            master.reset_password(&user.username, temporary_password, now_ms)?;
        }
        AdminRequest::SetUserDisabled {
            user_id, disabled, ..
        } => {
            let users = master.users()?;
            let user = users
                .iter()
                .find(|u| &u.id == user_id)
                .ok_or_else(|| ServerError::NotFound(format!("user {user_id}")))?;
            if *disabled {
                rules::check_disable(user, &by.user_id, rules::enabled_district_admins(&users))
                    .map_err(refused)?;
            }
            master.set_user_disabled(user_id, *disabled, now_ms)?;
        }
    }
    let record = AdminActionRecord {
        at_ms: now_ms,
        via_site: via_site.to_string(),
        by_user_id: by.user_id,
        by: by.name,
        action: call.request.code().to_string(),
        target,
        detail,
    };
    master.record_admin_action(&record)?;
    Ok(AdminOutcome {
        record,
        enrolment_code,
    })
}

/// Keeps a revocation (made through its own endpoint) in the same audit.
pub fn record_revocation(
    master: &mut dyn MasterStore,
    via_site: &str,
    by: &str,
    site_id: &str,
    reason: &str,
    now_ms: u64,
) -> Result<()> {
    master.record_admin_action(&AdminActionRecord {
        at_ms: now_ms,
        via_site: via_site.to_string(),
        by_user_id: String::new(),
        by: by.trim().chars().take(rules::MAX_NAME_CHARS).collect(),
        action: "revoke_site".to_string(),
        target: site_id.to_string(),
        detail: reason
            .trim()
            .chars()
            .take(rules::MAX_REASON_CHARS)
            .collect(),
    })
}
