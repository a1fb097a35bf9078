//! The district's sites from its desktop (issue 11 §3): the list with each site's enrolment and
//! revocation, and revoking one (a lost laptop, a PC out of service). The server decides who may;
//! the desktop asks first so that a clerk gets a clear answer without a round trip.

use crate::error::CoreError;
use crate::model::SessionUser;
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
    let url = format!("{}{API_PREFIX}/sites/{site_id}/revoke", identity.server_url);
    let body = RevokeRequest {
        by: user.display_name.clone(),
        reason: reason.trim().to_string(),
    };
    let response = http_client(&identity)?
        .post(&url)
        .bearer_auth(&identity.token)
        .json(&body)
        .send()
        .await
        .map_err(|e| offline(&url, e))?;
    read_answer(&url, response).await
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
