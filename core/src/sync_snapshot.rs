//! Issue 12 §6: the desktop's side of a snapshot. A store that never pulled takes the master's scoped
//! snapshot page by page (each page in one transaction, so an interruption loses nothing and the next
//! sync goes on from the last page), then pulls from the snapshot's `as_of` as usual.

use crate::store::{SiteIdentity, Store};
use crate::sync::{get_with_retries, SyncError};
use crate::wire::{SnapshotPage, API_PREFIX};
use std::sync::Mutex;

/// Rows asked per page.
pub const SNAPSHOT_PAGE_ROWS: usize = 1000;

/// What a snapshot run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotOutcome {
    pub pages: usize,
    pub rows: usize,
    /// Every page is in (false: stopped at `max_pages`, or the server has no snapshots).
    pub complete: bool,
    /// The server predates snapshots: the store pulls the log instead.
    pub unsupported: bool,
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes the snapshot (or goes on with one under way), at most `max_pages` pages (None: all).
pub async fn fetch_snapshot(
    store: &Mutex<Store>,
    identity: &SiteIdentity,
    client: &reqwest::Client,
    retries: &mut u32,
    max_pages: Option<usize>,
) -> Result<SnapshotOutcome, SyncError> {
    let mut outcome = SnapshotOutcome::default();
    loop {
        if max_pages.is_some_and(|max| outcome.pages >= max) {
            return Ok(outcome);
        }
        let progress = lock(store).snapshot_progress()?;
        let mut params: Vec<(&str, String)> = vec![
            ("limit", SNAPSHOT_PAGE_ROWS.to_string()),
            ("store_schema", crate::store::STORE_SCHEMA.to_string()),
        ];
        if let Some(progress) = &progress {
            params.push(("as_of", progress.as_of.to_string()));
            if let Some(after) = &progress.after {
                params.push(("after_table", after.table.clone()));
                params.push(("after_id", after.id.clone()));
            }
        }
        let url = reqwest::Url::parse_with_params(
            &format!("{}{API_PREFIX}/snapshot", identity.server_url),
            &params,
        )
        .map_err(|_| SyncError::BadUrl(identity.server_url.clone()))?;
        let page: SnapshotPage =
            match get_with_retries(store, client, url.as_str(), &identity.token, retries).await {
                Ok(page) => page,
                Err(SyncError::Server { status: 404, .. }) if progress.is_none() => {
                    outcome.unsupported = true;
                    return Ok(outcome);
                }
                // The snapshot it started is gone (the master restored, or its log cut back):
                // the next sync starts another; the rows taken stay and merge with it.
                Err(SyncError::Server { status: 400, .. }) if progress.is_some() => {
                    lock(store).drop_snapshot_progress()?;
                    return Ok(outcome);
                }
                Err(e) => return Err(e),
            };
        let done = {
            let mut guard = lock(store);
            let done = guard.apply_snapshot_page(&page)?;
            outcome.pages += 1;
            outcome.rows += page.rows.len();
            guard.set_sync_activity(Some(format!(
                "正在下载本站记录（快照）：已收到 {} 条",
                outcome.rows
            )));
            done
        };
        if done {
            outcome.complete = true;
            return Ok(outcome);
        }
    }
}

/// [`fetch_snapshot`] for a store's own identity and client (tests, and an interrupted snapshot's
/// resumption by hand).
pub async fn fetch_snapshot_for(
    store: &Mutex<Store>,
    max_pages: Option<usize>,
) -> Result<SnapshotOutcome, SyncError> {
    let identity = lock(store)
        .identity()?
        .ok_or(crate::error::CoreError::NotEnrolled)?;
    let client = crate::sync::http_client(&identity)?;
    let mut retries = 0;
    fetch_snapshot(store, &identity, &client, &mut retries, max_pages).await
}
