//! The district's sites from its desktop (issue 11 §3): the list with each site's enrolment and
//! revocation, and revoking one (a lost laptop, a PC out of service). The server decides who may;
//! the desktop asks first so that a clerk gets a clear answer without a round trip.

use crate::directory_admin::{
    self, AdminActor, AdminCall, AdminDirectory, AdminOutcome, AdminRequest,
};
use crate::error::CoreError;
use crate::model::SessionUser;
use crate::model::{OrgKind, Role};
use crate::store::Store;
use crate::sync::{http_client, read_answer, SyncError};
use crate::wire::{RevokeRequest, SiteList, SiteSummary, API_PREFIX};
use std::sync::Mutex;

fn district_admin(user: &SessionUser) -> Result<(), SyncError> {
    if crate::permissions::may(
        user.role,
        crate::permissions::Area::Sites,
        crate::permissions::Access::Write,
    ) {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "role",
            "only the district administrator manages the sites",
            "只有区司法局管理员可以管理站点",
        )
        .into())
    }
}

fn identity(store: &Mutex<Store>) -> Result<crate::store::SiteIdentity, SyncError> {
    let guard = store
        .lock()
        .map_err(|_| SyncError::Protocol("store lock poisoned".to_string()))?;
    Ok(guard.identity()?.ok_or(CoreError::NotEnrolled)?)
}

fn offline(url: &str, e: reqwest::Error) -> SyncError {
    SyncError::Network {
        url: url.to_string(),
        detail: e.to_string(),
    }
}

/// A GET of the sync API at `path` with the site's token.
async fn district_get<T: serde::de::DeserializeOwned>(
    store: &Mutex<Store>,
    path: &str,
) -> Result<T, SyncError> {
    let identity = identity(store)?;
    let url = format!("{}{API_PREFIX}/{path}", identity.server_url);
    let response = http_client(&identity)?
        .get(&url)
        .bearer_auth(&identity.token)
        .send()
        .await
        .map_err(|e| offline(&url, e))?;
    read_answer(&url, response).await
}

/// Every site of the district, as the server knows them.
pub async fn list_sites(
    store: &Mutex<Store>,
    user: &SessionUser,
) -> Result<Vec<SiteSummary>, SyncError> {
    district_admin(user)?;
    let list: SiteList = district_get(store, "sites").await?;
    Ok(list.sites)
}

/// Takes a site out of the district: its next request is refused as revoked.
pub async fn revoke_site(
    store: &Mutex<Store>,
    user: &SessionUser,
    site_id: &str,
    reason: &str,
) -> Result<SiteSummary, SyncError> {
    district_admin(user)?;
    let identity = identity(store)?;
    if site_id == identity.site_id {
        return Err(CoreError::invalid(
            "site_id",
            "the district's own desktop cannot revoke itself",
            "不能停用本机（区司法局自己的电脑）",
        )
        .into());
    }
    let body = RevokeRequest {
        by: user.display_name.clone(),
        reason: reason.trim().to_string(),
    };
    district_post(store, &format!("sites/{site_id}/revoke"), &body).await
}

/// A POST of the sync API at `path` with the site's token.
async fn district_post<T: serde::de::DeserializeOwned>(
    store: &Mutex<Store>,
    path: &str,
    body: &impl serde::Serialize,
) -> Result<T, SyncError> {
    let identity = identity(store)?;
    let url = format!("{}{API_PREFIX}/{path}", identity.server_url);
    let response = http_client(&identity)?
        .post(&url)
        .bearer_auth(&identity.token)
        .json(body)
        .send()
        .await
        .map_err(|e| offline(&url, e))?;
    read_answer(&url, response).await
}

/// Issue 13 §3: the district's org tree, users and latest audited changes, as the server holds them.
pub async fn admin_directory(
    store: &Mutex<Store>,
    user: &SessionUser,
) -> Result<AdminDirectory, SyncError> {
    district_admin(user)?;
    district_get(store, "admin/directory").await
}

/// Issue 13 §3: one administrative change, made by the server and kept in its audit with the
/// signed-in user's name. Core's rules are checked here first, so that a refusal reads in Chinese
/// without a round trip; the server checks them again.
pub async fn admin_action(
    store: &Mutex<Store>,
    user: &SessionUser,
    request: AdminRequest,
) -> Result<AdminOutcome, SyncError> {
    district_admin(user)?;
    check_locally(store, user, &request)?;
    let call = AdminCall {
        by: AdminActor {
            user_id: user.user_id.clone(),
            name: user.display_name.clone(),
        },
        request,
    };
    district_post(store, "admin/actions", &call)
        .await
        .map_err(refused_in_words)
}

/// The server's refusal of an administrative change, in words a district clerk reads (the server
/// answers codes and English; the codes' generic wording is about sync).
fn refused_in_words(e: SyncError) -> SyncError {
    let SyncError::Server { code, message, .. } = &e else {
        return e;
    };
    let zh = match code.as_str() {
        "conflict" => "该账号已停用：请先启用，再重置密码。".to_string(),
        "not_found" => "没有找到该单位、站点或用户（可能刚被修改），请点“刷新”后重试。".to_string(),
        "forbidden" => "只有区司法局的电脑可以进行系统管理。".to_string(),
        "bad_request" if message.contains("username is taken") => {
            "用户名已存在，请换一个。".to_string()
        }
        "bad_request" => format!("服务器拒绝了这项操作：{message}"),
        _ => return e,
    };
    CoreError::invalid("request", message.clone(), zh).into()
}

fn refusal(r: directory_admin::AdminRefusal) -> SyncError {
    CoreError::invalid(r.field, r.en, r.zh).into()
}

/// The checks the desktop can make with what it holds: names, the tree's levels, which role fits
/// which unit, not disabling oneself.
fn check_locally(
    store: &Mutex<Store>,
    user: &SessionUser,
    request: &AdminRequest,
) -> Result<(), SyncError> {
    let guard = store
        .lock()
        .map_err(|_| SyncError::Protocol("store lock poisoned".to_string()))?;
    let kind_of =
        |unit: &str| -> Result<Option<OrgKind>, SyncError> { Ok(guard.org_unit_kind(unit)?) };
    match request {
        AdminRequest::AddOrgUnit {
            parent_id,
            kind,
            name,
        } => {
            directory_admin::clean_name("name", name).map_err(refusal)?;
            let child = OrgKind::from_code(kind).ok_or_else(|| {
                refusal(directory_admin::AdminRefusal {
                    field: "kind",
                    en: "kind must be township or community".to_string(),
                    zh: "请选择单位类型（司法所或社区）".to_string(),
                })
            })?;
            if let Some(parent) = kind_of(parent_id)? {
                directory_admin::check_child_kind(parent, child).map_err(refusal)?;
            }
        }
        AdminRequest::AddSite { name, .. } => {
            directory_admin::clean_name("name", name).map_err(refusal)?;
        }
        AdminRequest::AddUser {
            username,
            display_name,
            role,
            org_unit_id,
            password,
        } => {
            directory_admin::clean_name("display_name", display_name).map_err(refusal)?;
            let role = Role::from_code(role).ok_or_else(|| {
                refusal(directory_admin::AdminRefusal {
                    field: "role",
                    en: format!("unknown role {role:?}"),
                    zh: "请选择角色".to_string(),
                })
            })?;
            if let Some(unit) = kind_of(org_unit_id)? {
                directory_admin::role_fits_unit(role, unit).map_err(refusal)?;
            }
            crate::accounts::check_new_password(username.trim(), password)
                .map_err(|p| CoreError::invalid("password", p.en, p.zh))?;
        }
        AdminRequest::ResetPassword {
            user_id,
            temporary_password,
        } => {
            let name = guard
                .user_summaries()?
                .into_iter()
                .find(|u| &u.id == user_id)
                .map(|u| u.username)
                .unwrap_or_default();
            crate::accounts::check_new_password(&name, temporary_password)
                .map_err(|p| CoreError::invalid("password", p.en, p.zh))?;
        }
        AdminRequest::SetUserDisabled {
            user_id,
            disabled: true,
            ..
        } if user_id == &user.user_id => {
            return Err(refusal(directory_admin::AdminRefusal {
                field: "user_id",
                en: "you cannot disable your own account".to_string(),
                zh: "不能停用自己的账号".to_string(),
            }));
        }
        AdminRequest::NewEnrolmentCode { .. } | AdminRequest::SetUserDisabled { .. } => {}
    }
    Ok(())
}

/// Issue 13 §1: the last day the server's nightly consolidation closed (its statistics as of that
/// day's end and the reconciliation per site), for the district's desktop; None before any day was
/// closed. Offline, the error says so and the live figures stay on screen.
pub async fn latest_consolidation(
    store: &Mutex<Store>,
    user: &SessionUser,
) -> Result<Option<crate::consolidation::Consolidation>, SyncError> {
    district_admin(user)?;
    match district_get(store, "consolidation/latest").await {
        Ok(day) => Ok(Some(day)),
        Err(SyncError::Server { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Issue 13 §1: the district closes a day now (yesterday when `day` is None), as the server's nightly
/// job would; answers the closed day.
pub async fn close_day(
    store: &Mutex<Store>,
    user: &SessionUser,
    day: Option<String>,
) -> Result<crate::consolidation::Consolidation, SyncError> {
    district_admin(user)?;
    district_post(
        store,
        "consolidation/close",
        &crate::wire::CloseDayRequest { day },
    )
    .await
}
