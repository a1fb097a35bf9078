//! D-2 at the district's desktop (issue 13 §3): the org tree, sites and users, each change an
//! audited action of the server. This module holds what both sides share: the wire types and the
//! pure rules (which role fits which org unit, who may be disabled), unit-tested without a store.
//! The server applies them before it writes; the desktop applies them to answer a clerk at once.

use crate::model::{OrgKind, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Longest name of an org unit or a site, and of a user's display name (characters).
pub const MAX_NAME_CHARS: usize = 64;
/// Longest reason given for disabling a user (characters).
pub const MAX_REASON_CHARS: usize = 200;

/// Who asks for an administrative change: the district user signed in at the district's desktop.
/// The site token proves the desktop; the desktop checked the user's password and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AdminActor {
    pub user_id: String,
    /// The user's display name, as the audit shows it.
    pub name: String,
}

/// One administrative change (D-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub enum AdminRequest {
    /// A township under the district, or a community under a township (`kind`: `township` |
    /// `community`; a new district is made on the server's command line only).
    AddOrgUnit {
        parent_id: String,
        kind: String,
        name: String,
    },
    /// A new site (one PC) at an org unit; the answer carries its one-time enrolment code.
    AddSite { org_unit_id: String, name: String },
    /// A new one-time enrolment code for a site (a reinstalled or replaced PC re-enrols with it).
    NewEnrolmentCode { site_id: String },
    /// A user at an org unit, with a first password (the district hands it to the user).
    AddUser {
        username: String,
        display_name: String,
        role: String,
        org_unit_id: String,
        password: String,
    },
    /// A temporary password the user must change at their next sign-in.
    ResetPassword {
        user_id: String,
        temporary_password: String,
    },
    /// Disables (or enables again) a user: a disabled user cannot sign in on any PC. Nothing of the
    /// user's work is removed.
    SetUserDisabled {
        user_id: String,
        disabled: bool,
        #[serde(default)]
        reason: String,
    },
}

impl AdminRequest {
    /// The audit's code for this change.
    pub fn code(&self) -> &'static str {
        match self {
            AdminRequest::AddOrgUnit { .. } => "add_org_unit",
            AdminRequest::AddSite { .. } => "add_site",
            AdminRequest::NewEnrolmentCode { .. } => "new_enrolment_code",
            AdminRequest::AddUser { .. } => "add_user",
            AdminRequest::ResetPassword { .. } => "reset_password",
            AdminRequest::SetUserDisabled { disabled: true, .. } => "disable_user",
            AdminRequest::SetUserDisabled {
                disabled: false, ..
            } => "enable_user",
        }
    }
}

/// `POST /api/v1/admin/actions`: who asks, and the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AdminCall {
    pub by: AdminActor,
    pub request: AdminRequest,
}

/// A user as the district administers them (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_unit_id: String,
    pub disabled: bool,
}

/// An org unit of the district's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct OrgUnitSummary {
    pub id: String,
    pub parent_id: Option<String>,
    pub kind: String,
    pub name: String,
}

/// One audited administrative change, as the district reads its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdminActionRecord {
    #[ts(type = "number")]
    pub at_ms: u64,
    /// The site (desktop) it came from; `cli` for the server's command line.
    pub via_site: String,
    pub by_user_id: String,
    pub by: String,
    /// [`AdminRequest::code`], or the CLI's and revocation's own codes.
    pub action: String,
    /// The unit, site or user changed.
    pub target: String,
    /// What changed, in words (never a password or an enrolment code).
    pub detail: String,
}

/// The answer to an [`AdminCall`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdminOutcome {
    pub record: AdminActionRecord,
    /// A new site's or a re-enrolment's one-time code, shown once to the district.
    pub enrolment_code: Option<String>,
}

/// `GET /api/v1/admin/directory`: the tree, the users and the latest audited changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdminDirectory {
    pub org_units: Vec<OrgUnitSummary>,
    pub users: Vec<UserSummary>,
    /// The latest changes first.
    pub actions: Vec<AdminActionRecord>,
    #[ts(type = "number")]
    pub server_time_ms: u64,
}

/// Why an administrative change is refused (the caller maps it to a 4xx or a zh-CN message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRefusal {
    pub field: &'static str,
    pub en: String,
    pub zh: String,
}

fn refuse(field: &'static str, en: impl Into<String>, zh: impl Into<String>) -> AdminRefusal {
    AdminRefusal {
        field,
        en: en.into(),
        zh: zh.into(),
    }
}

/// A unit's, site's or display name: trimmed, not empty, at most [`MAX_NAME_CHARS`] characters
/// (4-byte characters count as one), no control characters.
pub fn clean_name(field: &'static str, name: &str) -> Result<String, AdminRefusal> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(refuse(
            field,
            format!("{field} must be 1-{MAX_NAME_CHARS} characters"),
            format!("名称应为1到{MAX_NAME_CHARS}个字符"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(refuse(
            field,
            format!("{field} must not contain control characters"),
            "名称不能包含控制字符",
        ));
    }
    Ok(name.to_string())
}

/// DOMAIN.md "Organisation tree": a township sits under the district, a community under a township.
pub fn check_child_kind(parent: OrgKind, child: OrgKind) -> Result<(), AdminRefusal> {
    match (parent, child) {
        (OrgKind::District, OrgKind::Township) | (OrgKind::Township, OrgKind::Community) => Ok(()),
        _ => Err(refuse(
            "kind",
            format!(
                "a {} cannot be placed under a {}",
                child.code(),
                parent.code()
            ),
            "司法所（乡镇街道）应在区之下，社区应在乡镇街道之下",
        )),
    }
}

/// Which org unit a role's user belongs to: the district's administrator at the district, the
/// procuratorate's auditor (C-24) at the district or a township, judicial officers and office heads
/// at a township's judicial office, clerks at a community workstation.
pub fn role_fits_unit(role: Role, unit: OrgKind) -> Result<(), AdminRefusal> {
    let fits = match role {
        Role::DistrictAdmin => unit == OrgKind::District,
        Role::ProcuratorateAuditor => matches!(unit, OrgKind::District | OrgKind::Township),
        Role::JudicialOfficer | Role::OfficeHead => unit == OrgKind::Township,
        Role::CommunityClerk => unit == OrgKind::Community,
    };
    if fits {
        Ok(())
    } else {
        Err(refuse(
            "role",
            format!("a {} cannot belong to a {}", role.code(), unit.code()),
            "该角色不能设在所选单位（区管理员在区，矫正专干和所长在司法所，工作人员在社区）",
        ))
    }
}

/// Whether `target` may be disabled by `actor_user_id`: nobody disables their own account (they
/// would lock themselves out mid-task), and the district keeps at least one enabled administrator.
pub fn check_disable(
    target: &UserSummary,
    actor_user_id: &str,
    enabled_district_admins: usize,
) -> Result<(), AdminRefusal> {
    if target.id == actor_user_id {
        return Err(refuse(
            "user_id",
            "you cannot disable your own account",
            "不能停用自己的账号",
        ));
    }
    if target.role == Role::DistrictAdmin.code() && !target.disabled && enabled_district_admins <= 1
    {
        return Err(refuse(
            "user_id",
            "the district's last enabled administrator cannot be disabled",
            "这是区里唯一可用的管理员账号，不能停用",
        ));
    }
    Ok(())
}

/// The audit's words for a change (never the password or a code).
pub fn describe(request: &AdminRequest) -> (String, String) {
    match request {
        AdminRequest::AddOrgUnit {
            parent_id,
            kind,
            name,
        } => (parent_id.clone(), format!("{kind} {name}")),
        AdminRequest::AddSite { org_unit_id, name } => (org_unit_id.clone(), name.clone()),
        AdminRequest::NewEnrolmentCode { site_id } => (site_id.clone(), String::new()),
        AdminRequest::AddUser {
            username,
            display_name,
            role,
            org_unit_id,
            ..
        } => (
            org_unit_id.clone(),
            format!("{username} ({display_name}) as {role}"),
        ),
        AdminRequest::ResetPassword { user_id, .. } => (user_id.clone(), String::new()),
        AdminRequest::SetUserDisabled {
            user_id, reason, ..
        } => (
            user_id.clone(),
            reason.trim().chars().take(MAX_REASON_CHARS).collect(),
        ),
    }
}

/// How many of the district's administrators are enabled ([`check_disable`] keeps one).
pub fn enabled_district_admins(users: &[UserSummary]) -> usize {
    users
        .iter()
        .filter(|u| u.role == Role::DistrictAdmin.code() && !u.disabled)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, role: Role, disabled: bool) -> UserSummary {
        UserSummary {
            id: id.to_string(),
            username: id.to_string(),
            display_name: id.to_string(),
            role: role.code().to_string(),
            org_unit_id: "u".to_string(),
            disabled,
        }
    }

    #[test]
    fn names_count_characters_not_bytes() {
        // 64 four-byte characters are a valid name; 65 are not.
        let rare = "𠀀".repeat(MAX_NAME_CHARS);
        assert_eq!(clean_name("name", &rare).as_deref(), Ok(rare.as_str()));
        assert!(clean_name("name", &format!("{rare}𠀀")).is_err());
        assert_eq!(clean_name("name", "  䶮溪社区 ").as_deref(), Ok("䶮溪社区"));
        assert!(clean_name("name", "   ").is_err());
        assert!(clean_name("name", "a\u{7}b").is_err());
    }

    #[test]
    fn the_tree_has_three_levels() {
        assert!(check_child_kind(OrgKind::District, OrgKind::Township).is_ok());
        assert!(check_child_kind(OrgKind::Township, OrgKind::Community).is_ok());
        assert!(check_child_kind(OrgKind::District, OrgKind::Community).is_err());
        assert!(check_child_kind(OrgKind::Community, OrgKind::Community).is_err());
        assert!(check_child_kind(OrgKind::Township, OrgKind::District).is_err());
    }

    #[test]
    fn roles_belong_to_their_level() {
        assert!(role_fits_unit(Role::DistrictAdmin, OrgKind::District).is_ok());
        assert!(role_fits_unit(Role::DistrictAdmin, OrgKind::Township).is_err());
        assert!(role_fits_unit(Role::JudicialOfficer, OrgKind::Township).is_ok());
        assert!(role_fits_unit(Role::JudicialOfficer, OrgKind::Community).is_err());
        assert!(role_fits_unit(Role::OfficeHead, OrgKind::Township).is_ok());
        assert!(role_fits_unit(Role::CommunityClerk, OrgKind::Community).is_ok());
        assert!(role_fits_unit(Role::CommunityClerk, OrgKind::District).is_err());
        assert!(role_fits_unit(Role::ProcuratorateAuditor, OrgKind::District).is_ok());
        assert!(role_fits_unit(Role::ProcuratorateAuditor, OrgKind::Community).is_err());
    }

    #[test]
    fn nobody_disables_themselves_or_the_last_administrator() {
        let me = user("me", Role::DistrictAdmin, false);
        let other = user("other", Role::DistrictAdmin, false);
        let clerk = user("clerk", Role::CommunityClerk, false);
        assert!(check_disable(&me, "me", 2).is_err());
        assert!(check_disable(&other, "me", 2).is_ok());
        assert!(check_disable(&other, "me", 1).is_err());
        assert!(check_disable(&clerk, "me", 1).is_ok());
        // Enabling a disabled administrator again is never refused for the count.
        let off = user("off", Role::DistrictAdmin, true);
        assert!(check_disable(&off, "me", 1).is_ok());
        assert_eq!(enabled_district_admins(&[me, other, clerk, off]), 2);
    }

    #[test]
    fn the_audit_never_holds_a_password() {
        let add = AdminRequest::AddUser {
            username: "wang".into(),
            display_name: "王𠮷".into(),
            role: "community_clerk".into(),
            org_unit_id: "c1".into(),
            password: "Secret-123456".into(),
        };
        let (target, detail) = describe(&add);
        assert_eq!(target, "c1");
        assert!(!detail.contains("Secret"));
        assert!(detail.contains("王𠮷"));
        let reset = AdminRequest::ResetPassword {
            user_id: "u1".into(),
            temporary_password: "Temp-99999999".into(),
        };
        assert!(!describe(&reset).1.contains("Temp"));
        assert_eq!(add.code(), "add_user");
    }

    #[test]
    fn requests_are_tagged_and_strict() {
        let call: AdminCall = serde_json::from_str(
            r#"{"by":{"user_id":"u","name":"管理员"},"request":{"action":"add_site","org_unit_id":"o","name":"新站"}}"#,
        )
        .expect("a valid call");
        assert_eq!(call.request.code(), "add_site");
        assert!(serde_json::from_str::<AdminCall>(
            r#"{"by":{"user_id":"u","name":"a"},"request":{"action":"drop_table"}}"#
        )
        .is_err());
        assert!(serde_json::from_str::<AdminCall>(
            r#"{"by":{"user_id":"u","name":"a"},"request":{"action":"add_site","org_unit_id":"o","name":"n","extra":1}}"#
        )
        .is_err());
    }
}
