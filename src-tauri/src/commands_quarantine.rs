//! Tauri commands of the quarantine review (issue 9): the writes the sync server held, on a record and
//! as the district's list, and the district's decision (sent to the server, then synced back).

use crate::commands::{current, with_store, CmdResult};
use crate::state::AppState;
use crate::sync_task;
use jiceng_core::model::{QuarantinedWrite, Role, SyncStatus};
use jiceng_core::wire::QuarantineDecision;
use jiceng_core::CoreError;
use tauri::{AppHandle, State};

#[tauri::command(rename_all = "snake_case")]
pub async fn quarantined_writes(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Vec<QuarantinedWrite>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.quarantined_writes(&user)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn quarantined_writes_of(
    app: AppHandle,
    state: State<'_, AppState>,
    table: String,
    row_id: String,
) -> CmdResult<Vec<QuarantinedWrite>> {
    current(&state)?;
    with_store(&app, move |s| s.quarantined_writes_of(&table, &row_id)).await
}

/// `decision`: "release" or "reject". Only the district decides; the server checks it again.
#[tauri::command(rename_all = "snake_case")]
pub async fn decide_quarantine(
    app: AppHandle,
    state: State<'_, AppState>,
    site_id: String,
    site_seq: u32,
    decision: String,
    note: String,
) -> CmdResult<SyncStatus> {
    let user = current(&state)?;
    if user.role != Role::DistrictAdmin {
        return Err(
            CoreError::Forbidden("only the district decides on quarantined operations").into(),
        );
    }
    let request = QuarantineDecision {
        site_id,
        site_seq: u64::from(site_seq),
        decision,
        decided_by: user.display_name.clone(),
        note,
    };
    let status = jiceng_core::sync::decide_quarantine(&state.opened()?.store, request).await?;
    sync_task::emit_status(&app);
    Ok(status)
}
