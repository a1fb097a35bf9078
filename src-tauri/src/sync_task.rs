//! The periodic background sync, the optional auto-enrolment at start, and the "sync-status" event.
//! A failed sync is logged (English) and shown in the status bar; it never stops the app.

use crate::state::AppState;
use jiceng_core::model::SyncStatus;
use jiceng_core::vault::OpenVault;
use jiceng_core::SyncError;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// The event the UI listens to; its payload is a `SyncStatus`.
pub const SYNC_STATUS_EVENT: &str = "sync-status";

/// Used when the store does not say (it always should) and as a floor against a busy loop.
const FALLBACK_INTERVAL_SECS: u32 = 300;
const MIN_INTERVAL_SECS: u32 = 5;
/// Let the window come up before the first attempt.
const FIRST_DELAY: Duration = Duration::from_secs(2);

/// One push+pull, serialised with every other sync of this process. The store must be open (issue
/// 11 §1: nobody signed in, nothing to sync with).
pub async fn sync_once(_app: &AppHandle, state: &AppState) -> Result<SyncStatus, SyncError> {
    let _gate = state.sync_gate.lock().await;
    let open = state.opened()?;
    let status = jiceng_core::sync::sync_now(&open.store).await;
    after_sync(state, &open).await;
    status
}

/// After a sync (or the enrolment): the key file follows the accounts the store now knows, and a
/// site without its recovery entry asks the server for its code. Failures are logged and tried
/// again after the next sync; they never fail the sync.
pub async fn after_sync(state: &AppState, open: &Arc<OpenVault>) {
    if let Err(e) = state.vault.refresh(open) {
        eprintln!("[jiceng] cannot update the key file: {e}");
    }
    if !state.vault.needs_recovery_code().unwrap_or(true) {
        return;
    }
    match jiceng_core::sync::fetch_recovery_code(&open.store).await {
        Ok(code) => {
            if let Err(e) = state.vault.set_recovery_code(open, &code) {
                eprintln!("[jiceng] cannot keep the recovery entry: {e}");
            }
        }
        Err(e) => eprintln!(
            "[jiceng] no recovery code from the server yet ({}): {e}",
            e.code()
        ),
    }
}

fn read_status(app: &AppHandle) -> Option<SyncStatus> {
    let state = app.state::<AppState>();
    let open = state.unlocked()?;
    let status = open.store().sync_status();
    match status {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("[jiceng] cannot read the sync status: {e}");
            None
        }
    }
}

/// Tells the UI the current sync status (pending count, last error, clock skew…).
pub fn emit_status(app: &AppHandle) {
    if let Some(status) = read_status(app) {
        if let Err(e) = app.emit(SYNC_STATUS_EVENT, &status) {
            eprintln!("[jiceng] cannot emit {SYNC_STATUS_EVENT}: {e}");
        }
    }
}

fn is_enrolled(app: &AppHandle) -> bool {
    let state = app.state::<AppState>();
    let open = state.unlocked();
    let info = state.vault.app_info(open.as_deref());
    match info {
        Ok(info) => info.enrolled,
        Err(e) => {
            eprintln!("[jiceng] cannot read the app info: {e}");
            false
        }
    }
}

/// Demo and test runs: enrol on start when JICENG_SERVER_URL and JICENG_ENROL_CODE are set and this
/// store is not enrolled yet.
async fn auto_enrol(app: &AppHandle) {
    let (Ok(url), Ok(code)) = (
        std::env::var("JICENG_SERVER_URL"),
        std::env::var("JICENG_ENROL_CODE"),
    ) else {
        return;
    };
    if url.trim().is_empty() || code.trim().is_empty() || is_enrolled(app) {
        return;
    }
    let state = app.state::<AppState>();
    let outcome = {
        let _gate = state.sync_gate.lock().await;
        let open = match state.unlocked() {
            Some(open) => Ok(open),
            None => state.vault.create().map(Arc::new),
        };
        match open {
            Ok(open) => {
                state.set_unlocked(Some(open.clone()));
                let enrolled = jiceng_core::sync::enrol(&open.store, url.trim(), code.trim()).await;
                after_sync(&state, &open).await;
                enrolled
            }
            Err(e) => Err(e.into()),
        }
    };
    match outcome {
        Ok(info) => eprintln!(
            "[jiceng] auto-enrolled with {} as site {}",
            url.trim(),
            info.site_name.as_deref().unwrap_or("?")
        ),
        Err(e) => eprintln!("[jiceng] auto-enrolment with {} failed: {e}", url.trim()),
    }
    emit_status(app);
}

fn interval(app: &AppHandle) -> Duration {
    let secs = read_status(app)
        .map(|s| s.interval_secs)
        .unwrap_or(FALLBACK_INTERVAL_SECS);
    let secs = if secs == 0 {
        FALLBACK_INTERVAL_SECS
    } else {
        secs.max(MIN_INTERVAL_SECS)
    };
    Duration::from_secs(u64::from(secs))
}

/// Starts the background task: auto-enrol if asked to, then sync every `interval_secs` (re-read each
/// round, so the settings dialog takes effect at once) and emit "sync-status" after each attempt.
pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        // Enrol first (it syncs once itself), so a demo run shows the login screen at once.
        auto_enrol(&app).await;
        tokio::time::sleep(FIRST_DELAY).await;
        loop {
            let state = app.state::<AppState>();
            if is_enrolled(&app) && state.unlocked().is_some() {
                if let Err(e) = sync_once(&app, &state).await {
                    eprintln!("[jiceng] background sync failed ({}): {e}", e.code());
                }
                emit_status(&app);
            }
            let wait = interval(&app);
            let state = app.state::<AppState>();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = state.sync_wake.notified() => {}
            }
        }
    });
}
