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
    /// Where it was written (set by the shell).
    #[serde(default)]
    pub path: String,
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
        path: String::new(),
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
    let relayed = relay(store, bytes).await?;
    serde_json::to_vec_pretty(&relayed.answer).map_err(|e| SyncError::Protocol(e.to_string()))
}

/// [`relay_bundle`] with the server's account of the import (the office, how many operations).
pub async fn relay(store: &Mutex<Store>, bytes: &[u8]) -> Result<BundleRelayResponse, SyncError> {
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
    let response = crate::sync::http_client(&identity)?
        .post(&url)
        .bearer_auth(&identity.token)
        .json(&file)
        .send()
        .await
        .map_err(|e| SyncError::Network {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    crate::sync::read_answer(&url, response).await
}

/// Where a bundle can be written: a USB stick the desktop sees mounted, or a folder in the user's home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UsbTarget {
    pub label: String,
    pub path: String,
    /// A removable medium (mounted under /media or /run/media), not the fallback folder.
    pub removable: bool,
}

/// What relaying another office's bundle did (the district's screen or a connected desktop).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RelayOutcome {
    pub site_name: String,
    pub acknowledged: u32,
    pub duplicates: u32,
    pub held: u32,
    pub delivered: u32,
    /// Where the answer bundle for the office was written.
    pub answer_path: String,
}

/// The name of the fallback folder in the user's home.
pub const HOME_FOLDER: &str = "基层通同步包";

/// The places a bundle can go: mounted removable media first (as the desktop environments of UOS,
/// Kylin and Debian mount them: `/media/<user>/<label>`, `/run/media/<user>/<label>`), then
/// `<home>/基层通同步包`.
pub fn usb_targets(
    media_roots: &[std::path::PathBuf],
    home: Option<&std::path::Path>,
) -> Vec<UsbTarget> {
    let mut out = Vec::new();
    for root in media_roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut found: Vec<UsbTarget> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| UsbTarget {
                label: e.file_name().to_string_lossy().into_owned(),
                path: e.path().display().to_string(),
                removable: true,
            })
            .collect();
        found.sort_by(|a, b| a.label.cmp(&b.label));
        out.extend(found);
    }
    if let Some(home) = home {
        out.push(UsbTarget {
            label: HOME_FOLDER.to_string(),
            path: home.join(HOME_FOLDER).display().to_string(),
            removable: false,
        });
    }
    out
}

/// The media roots of this user on Linux desktops.
pub fn media_roots(user: &str) -> Vec<std::path::PathBuf> {
    vec![
        std::path::Path::new("/media").join(user),
        std::path::Path::new("/run/media").join(user),
    ]
}

/// Writes a bundle into `dir` under `file_name`, whole or not at all (a stick pulled out mid-write
/// leaves a temporary file, never a cut bundle under the real name).
pub fn write_bundle(
    dir: &std::path::Path,
    file_name: &str,
    bytes: &[u8],
) -> Result<std::path::PathBuf, CoreError> {
    use std::io::Write;
    let failed = |e: std::io::Error| {
        CoreError::invalid(
            "dir",
            format!("cannot write the bundle to {}: {e}", dir.display()),
            format!(
                "无法写入同步包到 {}：{e}（U盘是否已拔出或写保护？）",
                dir.display()
            ),
        )
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let path = dir.join(file_name);
    let partial = dir.join(format!("{file_name}.part"));
    let mut file = std::fs::File::create(&partial).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    drop(file);
    std::fs::rename(&partial, &path).map_err(failed)?;
    Ok(path)
}

/// The answer bundle's file name for an office: its name, 回执 and the time.
pub fn answer_file_name(site_name: &str, now_ms: u64) -> String {
    let stamp = crate::shanghai::from_millis(now_ms).format("%Y%m%d-%H%M");
    format!(
        "{}-回执-{stamp}.{}",
        safe_file_part(site_name),
        bundle::BUNDLE_EXTENSION
    )
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

    #[test]
    fn sticks_come_first_then_the_home_folder_and_a_written_bundle_is_whole() {
        let root = std::env::temp_dir().join(format!("jiceng-media-{}", uuid::Uuid::now_v7()));
        let user_media = root.join("media").join("clerk");
        std::fs::create_dir_all(user_media.join("KINGSTON")).unwrap();
        std::fs::create_dir_all(user_media.join("U盘𠀀")).unwrap();
        let home = root.join("home");
        let targets = usb_targets(&[user_media.clone(), root.join("absent")], Some(&home));
        let labels: Vec<&str> = targets.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, vec!["KINGSTON", "U盘𠀀", HOME_FOLDER]);
        assert!(targets[0].removable && !targets[2].removable);
        let written =
            write_bundle(std::path::Path::new(&targets[2].path), "a.jcsync", b"{}").unwrap();
        assert_eq!(std::fs::read(&written).unwrap(), b"{}");
        assert!(!written.with_file_name("a.jcsync.part").exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
