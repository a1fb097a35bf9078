//! Sync by USB stick, the desktop's half (issue 10 §7; the file format is `crate::bundle`):
//!
//! - an office without network exports its unsent operations and its pull cursor to a signed bundle;
//! - the district imports it at the server (CLI or its desktop), or any connected desktop relays it;
//! - the answer bundle comes back on the stick and the office imports it: acknowledgements, held
//!   operations, and everything it should receive, applied exactly as a network pull would be.
//!
//! Every step is idempotent: exporting again repeats the unacknowledged operations, importing a bundle
//! twice acknowledges the same operations, an old answer after a newer one changes nothing.

use crate::bundle::{self, Answer, BundleError, BundleKind, Outgoing};
use crate::error::CoreError;
use crate::store::Store;
use crate::sync::SyncError;
use crate::wire::{BundleRelayResponse, API_PREFIX};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use ts_rs::TS;

/// What exporting wrote.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BundleExport {
    /// Suggested file name (site and time), with the bundle extension.
    pub file_name: String,
    pub operations: u32,
    pub size_bytes: u32,
}

/// What importing an answer did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BundleReceipt {
    /// This office's operations the server acknowledged.
    pub acknowledged: u32,
    /// Of those, held for the district's review.
    pub held: u32,
    /// Operations received for this office.
    pub received: u32,
    /// Rows removed because they left the office's scope.
    pub removed: u32,
    /// Operations still waiting for the next bundle or network sync.
    pub still_waiting: u32,
}

/// Writes this office's unsent operations and pull cursor as a signed bundle.
pub fn export_bundle(store: &Store) -> Result<(Vec<u8>, BundleExport), SyncError> {
    let identity = store.identity()?.ok_or(CoreError::NotEnrolled)?;
    let ops = store.unacked_ops(usize::MAX >> 1)?;
    let seqs: Vec<u64> = ops.iter().map(|o| o.site_seq).collect();
    let outgoing = Outgoing {
        db_instance_id: store.instance_id()?,
        divergent: store.reissued_among(&seqs)?,
        ops,
        pull_after: store.pull_cursor()?,
        known_master: store.known_master_id()?,
        store_schema: crate::store::STORE_SCHEMA,
    };
    let now = store.wall_millis();
    let key = bundle::key_from_token(&identity.token);
    let bytes = bundle::seal(
        &key,
        BundleKind::Outgoing,
        &identity.site_id,
        now,
        &outgoing,
    )?;
    let stamp = crate::shanghai::from_millis(now).format("%Y%m%d-%H%M");
    let export = BundleExport {
        file_name: format!(
            "{}-{stamp}.{}",
            safe_file_part(&identity.site_name),
            bundle::BUNDLE_EXTENSION
        ),
        operations: u32::try_from(outgoing.ops.len()).unwrap_or(u32::MAX),
        size_bytes: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
    };
    Ok((bytes, export))
}

/// Applies an answer bundle from the server to this office's store.
pub fn import_answer(store: &mut Store, bytes: &[u8]) -> Result<BundleReceipt, SyncError> {
    let identity = store.identity()?.ok_or(CoreError::NotEnrolled)?;
    let file = bundle::open_unchecked(bytes)?;
    if file.site_id != identity.site_id {
        return Err(BundleError::OtherSite {
            bundle: file.site_id,
            expected: identity.site_id,
        }
        .into());
    }
    let key = bundle::key_from_token(&identity.token);
    let answer: Answer = bundle::verify(&key, &file, BundleKind::Answer)?;
    let acks: Vec<(u64, u64)> = answer
        .push
        .acks
        .iter()
        .map(|a| (a.site_seq, a.server_seq))
        .collect();
    store.mark_acked(&acks)?;
    // The server already pulled from the start when this office's cursor belonged to another copy of
    // the master or to another scope: the pages then hold the whole scope.
    if answer.from_start {
        let reason = answer
            .pulls
            .first()
            .and_then(|p| p.reinitialise.as_deref())
            .unwrap_or("master_changed")
            .to_string();
        store.begin_reinitialise(&reason)?;
    }
    let (mut received, mut removed) = (0, 0);
    for pull in &answer.pulls {
        let known = store.known_master_id()?;
        let decided = crate::resync::resync(&crate::resync::MasterFacts {
            known_master: known.as_deref(),
            master: &pull.master_id,
            site_last_seq: pull.site_last_seq,
            acked_up_to: store.acked_up_to()?,
        });
        // Sent again with the next bundle when the master lacks them; a restored or copied store
        // catches up with its own log at its next network sync.
        store.apply_resync(&crate::resync::Resync {
            restart_pull: false,
            catch_up_after: None,
            ..decided
        })?;
        store.apply_pull(&pull.ops, &pull.left_scope, pull.next_cursor)?;
        received += pull.ops.len();
        removed += pull.left_scope.len();
    }
    removed += store.finish_reinitialise()?.map_or(0, |r| r.swept);
    // The answer's server time is as old as the trip of the stick: it says nothing of this PC's clock.
    Ok(BundleReceipt {
        acknowledged: u32::try_from(acks.len()).unwrap_or(u32::MAX),
        held: u32::try_from(answer.push.quarantined.len()).unwrap_or(u32::MAX),
        received: u32::try_from(received).unwrap_or(u32::MAX),
        removed: u32::try_from(removed).unwrap_or(u32::MAX),
        still_waiting: store.unacked_count()?,
    })
}

/// A connected desktop hands another office's bundle to the server and returns the answer bundle
/// (the district's desktop does the same for the bundles offices bring in).
pub async fn relay_bundle(store: &Mutex<Store>, bytes: &[u8]) -> Result<Vec<u8>, SyncError> {
    let identity = {
        let guard = store
            .lock()
            .map_err(|_| SyncError::Protocol("store lock poisoned".to_string()))?;
        guard.identity()?.ok_or(CoreError::NotEnrolled)?
    };
    // Refuse what is plainly not an outgoing bundle before sending it anywhere.
    let file = bundle::open_unchecked(bytes)?;
    if file.kind != BundleKind::Outgoing {
        return Err(BundleError::Kind {
            expected: BundleKind::Outgoing,
            got: file.kind,
        }
        .into());
    }
    let url = format!("{}{API_PREFIX}/bundle", identity.server_url);
    let response = crate::sync::http_client()?
        .post(&url)
        .bearer_auth(&identity.token)
        .json(&file)
        .send()
        .await
        .map_err(|e| SyncError::Network {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    let relayed: BundleRelayResponse = crate::sync::read_answer(&url, response).await?;
    serde_json::to_vec_pretty(&relayed.answer).map_err(|e| SyncError::Protocol(e.to_string()))
}

/// A site name as a file name part: path separators and control characters replaced.
fn safe_file_part(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if cleaned.trim().is_empty() {
        "site".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_chinese_and_rare_characters_and_drop_separators() {
        assert_eq!(safe_file_part("𠀀家村/工作站"), "𠀀家村_工作站");
        assert_eq!(safe_file_part("  "), "site");
    }
}
