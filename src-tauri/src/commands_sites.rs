//! Tauri commands of the district's site list (issue 11 §3). Thin: `jiceng_core::district_sites`.

use crate::commands::{current, CmdResult};
use crate::state::AppState;
use jiceng_core::district_sites;
use jiceng_core::wire::SiteSummary;
use tauri::State;

#[tauri::command(rename_all = "snake_case")]
pub async fn list_sites(state: State<'_, AppState>) -> CmdResult<Vec<SiteSummary>> {
    let user = current(&state)?;
    Ok(district_sites::list_sites(&state.opened()?.store, &user).await?)
}

/// Revokes a site (a lost laptop): its next request is refused as revoked.
#[tauri::command(rename_all = "snake_case")]
pub async fn revoke_site(
    state: State<'_, AppState>,
    site_id: String,
    reason: String,
) -> CmdResult<SiteSummary> {
    let user = current(&state)?;
    Ok(district_sites::revoke_site(&state.opened()?.store, &user, &site_id, &reason).await?)
}

/// Issue 13 §1: the last day the server closed (its statistics and reconciliation), or none yet.
#[tauri::command(rename_all = "snake_case")]
pub async fn latest_consolidation(
    state: State<'_, AppState>,
) -> CmdResult<Option<jiceng_core::consolidation::Consolidation>> {
    let user = current(&state)?;
    Ok(district_sites::latest_consolidation(&state.opened()?.store, &user).await?)
}

/// Issue 13 §3: the district's org tree, users and latest audited changes (online).
#[tauri::command(rename_all = "snake_case")]
pub async fn admin_directory(
    state: State<'_, AppState>,
) -> CmdResult<jiceng_core::directory_admin::AdminDirectory> {
    let user = current(&state)?;
    Ok(district_sites::admin_directory(&state.opened()?.store, &user).await?)
}

/// Issue 13 §3: one administrative change (a unit, a site and its code, a user, a reset, disabling),
/// made by the server and audited under the signed-in user's name.
#[tauri::command(rename_all = "snake_case")]
pub async fn admin_action(
    state: State<'_, AppState>,
    request: jiceng_core::directory_admin::AdminRequest,
) -> CmdResult<jiceng_core::directory_admin::AdminOutcome> {
    let user = current(&state)?;
    Ok(district_sites::admin_action(&state.opened()?.store, &user, request).await?)
}

/// Issue 13 §1: closes a day now (yesterday when none is given), as the server does each night.
#[tauri::command(rename_all = "snake_case")]
pub async fn close_consolidation_day(
    state: State<'_, AppState>,
    day: Option<String>,
) -> CmdResult<jiceng_core::consolidation::Consolidation> {
    let user = current(&state)?;
    Ok(district_sites::close_day(&state.opened()?.store, &user, day).await?)
}
