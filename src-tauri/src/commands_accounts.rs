//! Tauri commands of accounts (issue 11 §4). Thin: the rules and the records are core's
//! (`jiceng_core::accounts`, `Store::change_password` and the like).

use crate::commands::{blocking, current, with_store, CmdResult};
use crate::state::AppState;
use jiceng_core::store::{AccountState, UnitAccount};
use tauri::{AppHandle, State};

#[tauri::command(rename_all = "snake_case")]
pub async fn account_state(app: AppHandle, state: State<'_, AppState>) -> CmdResult<AccountState> {
    let user = current(&state)?;
    with_store(&app, move |s| s.account_state(&user)).await
}

/// Issue 11 §5: what the signed-in user may do, from core's permission matrix (the UI never derives it
/// from the role).
#[tauri::command(rename_all = "snake_case")]
pub async fn capabilities(
    state: State<'_, AppState>,
) -> CmdResult<jiceng_core::permissions::Capabilities> {
    let user = current(&state)?;
    Ok(jiceng_core::permissions::capabilities(user.role))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn change_password(
    app: AppHandle,
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
) -> CmdResult<()> {
    let user = current(&state)?;
    with_store(&app, move |s| {
        s.change_password(&user, &current_password, &new_password)
    })
    .await?;
    refresh_keys(&app).await
}

/// Issue 11 §1: a changed password opens the store from now on, the old one no more.
async fn refresh_keys(app: &AppHandle) -> CmdResult<()> {
    blocking(app, |state| {
        let open = state.opened()?;
        state.vault.refresh(&open)
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn unit_accounts(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Vec<UnitAccount>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.unit_accounts(&user)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn reset_password(
    app: AppHandle,
    state: State<'_, AppState>,
    user_id: String,
    temporary: String,
) -> CmdResult<()> {
    let user = current(&state)?;
    with_store(&app, move |s| s.reset_password(&user, &user_id, &temporary)).await?;
    refresh_keys(&app).await
}

/// The locked screen (idle, or locked by hand) opens with the signed-in user's password; failures
/// count towards the account's lockout like any login.
#[tauri::command(rename_all = "snake_case")]
pub async fn unlock_screen(
    app: AppHandle,
    state: State<'_, AppState>,
    password: String,
) -> CmdResult<()> {
    let user = current(&state)?;
    let username = user.username.clone();
    with_store(&app, move |s| s.login(&username, &password).map(|_| ())).await
}
