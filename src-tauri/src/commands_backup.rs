//! Tauri commands of the desktop's 备份 / 恢复 (issue 10 §3). Thin: the files and the restore live in
//! `jiceng_core::backups`; the shell only closes and reopens its store around a restore.

use crate::commands::{current, with_store, CmdResult};
use crate::state::{store_path, AppState};
use crate::sync_task;
use jiceng_core::model::BackupFile;
use jiceng_core::Store;
use tauri::{AppHandle, State};

#[tauri::command(rename_all = "snake_case")]
pub async fn backup_store(app: AppHandle, state: State<'_, AppState>) -> CmdResult<BackupFile> {
    current(&state)?;
    let dir = state.data_dir.clone();
    with_store(&app, move |s| jiceng_core::backups::backup(s, &dir)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_backups(state: State<'_, AppState>) -> CmdResult<Vec<BackupFile>> {
    current(&state)?;
    Ok(jiceng_core::backups::list(&state.data_dir)?)
}

/// Puts a backup in place of the store (the current file kept aside), as a new instance of the site's
/// database; the next sync brings it up to date with the server.
#[tauri::command(rename_all = "snake_case")]
pub async fn restore_store(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<()> {
    current(&state)?;
    // No sync may run while the file is replaced.
    let _gate = state.sync_gate.lock().await;
    let live = store_path(&state.data_dir);
    let open = state.opened()?;
    {
        let mut guard = open.store();
        let now = guard.wall_millis();
        // Close the file: the store is replaced by an empty in-memory one while the file changes.
        let closed = std::mem::replace(&mut *guard, Store::open_in_memory()?);
        drop(closed);
        // Backups are encrypted under the store's own key (issue 11 §1).
        let restored = jiceng_core::backups::restore(&state.data_dir, &name, &live, now)
            .and_then(|_| Store::open_encrypted(&live, open.key()))
            .and_then(|mut store| store.reset_instance_id().map(|_| store));
        match restored {
            Ok(store) => *guard = store,
            Err(e) => {
                // Whatever happened, the app keeps a store: the file as it now is.
                *guard = Store::open_encrypted(&live, open.key())?;
                return Err(e.into());
            }
        }
    }
    state.sync_wake.notify_one();
    sync_task::emit_status(&app);
    Ok(())
}
