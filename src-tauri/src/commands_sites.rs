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
