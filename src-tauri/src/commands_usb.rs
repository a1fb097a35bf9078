//! Tauri commands of sync by USB stick (issue 10 §7). Thin: the bundle, its checks and the import live
//! in `jiceng_core::usb_sync`; the shell finds the sticks, reads and writes the files.

use crate::commands::{blocking, current, CmdResult, UiError};
use crate::state::AppState;
use crate::sync_task;
use jiceng_core::usb_sync::{self, BundleExport, BundleReceipt, RelayOutcome, UsbTarget};
use jiceng_core::SyncError;
use std::path::PathBuf;
use tauri::{AppHandle, State};

/// The sticks the PC sees, then the folder in the user's home.
#[tauri::command(rename_all = "snake_case")]
pub async fn usb_targets(state: State<'_, AppState>) -> CmdResult<Vec<UsbTarget>> {
    current(&state)?;
    let user = std::env::var("USER").unwrap_or_default();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(usb_sync::usb_targets(
        &usb_sync::media_roots(&user),
        home.as_deref(),
    ))
}

/// Writes this office's unsent work to a signed bundle in `dir`.
#[tauri::command(rename_all = "snake_case")]
pub async fn export_sync_bundle(
    app: AppHandle,
    state: State<'_, AppState>,
    dir: String,
) -> CmdResult<BundleExport> {
    current(&state)?;
    blocking(&app, move |state| -> Result<BundleExport, SyncError> {
        let (bytes, mut export) = usb_sync::export_bundle(&state.opened()?.store())?;
        let path = usb_sync::write_bundle(&PathBuf::from(&dir), &export.file_name, &bytes)?;
        export.path = path.display().to_string();
        Ok(export)
    })
    .await
}

/// Applies the answer bundle the district sent back (the file's text, read by the window).
#[tauri::command(rename_all = "snake_case")]
pub async fn import_sync_answer(
    app: AppHandle,
    state: State<'_, AppState>,
    content: String,
) -> CmdResult<BundleReceipt> {
    current(&state)?;
    let receipt = blocking(&app, move |state| -> Result<BundleReceipt, SyncError> {
        usb_sync::import_answer(&mut state.opened()?.store(), content.as_bytes())
    })
    .await?;
    sync_task::emit_status(&app);
    Ok(receipt)
}

/// Takes another office's bundle to the server for it (the district's screen, or any connected
/// desktop) and writes the answer bundle into `dir` for the office.
#[tauri::command(rename_all = "snake_case")]
pub async fn relay_sync_bundle(
    state: State<'_, AppState>,
    content: String,
    dir: String,
) -> CmdResult<RelayOutcome> {
    current(&state)?;
    let open = state.opened()?;
    let relayed = usb_sync::relay(&open.store, content.as_bytes()).await?;
    let answer = serde_json::to_vec_pretty(&relayed.answer)
        .map_err(|e| UiError::new("protocol", format!("同步服务器的回执无法识别：{e}")))?;
    let site_name = relayed.site_name.clone();
    let name = usb_sync::answer_file_name(&site_name, open.store().wall_millis());
    let path = usb_sync::write_bundle(&PathBuf::from(&dir), &name, &answer)?;
    let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(RelayOutcome {
        site_name,
        acknowledged: count(relayed.acknowledged),
        duplicates: count(relayed.duplicates),
        held: count(relayed.held),
        delivered: count(relayed.delivered),
        answer_path: path.display().to_string(),
    })
}
