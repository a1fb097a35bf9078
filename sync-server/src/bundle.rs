//! Sync bundles brought in on a USB stick (issue 10 §7): checked, then taken exactly like a push from
//! their site followed by its pull, and answered with a bundle signed for that site. The HTTP endpoint
//! (any enrolled desktop relays) and the admin CLI both come here; this layer asks the master only
//! through its trait.

use crate::error::{Result, ServerError};
use crate::master::MasterStore;
use jiceng_core::bundle::{self, Answer, BundleFile, BundleKind, Outgoing};
use jiceng_core::wire::{BundleRelayResponse, PullResponse, PushRequest, PushResponse};

/// Operations per pull page inside an answer.
const ANSWER_PAGE: usize = 5_000;

/// Takes an office's outgoing bundle and returns the answer for it. `relayed_by` names the desktop
/// that brought it (None from the CLI), for the log; `accept_revoked` takes a revoked office's last
/// work in (issue 11 §3: the district's decision, from the CLI only).
pub fn import(
    master: &mut dyn MasterStore,
    file: &BundleFile,
    relayed_by: Option<&str>,
    accept_revoked: bool,
    now_ms: u64,
) -> Result<BundleRelayResponse> {
    if file.format != bundle::BUNDLE_FORMAT {
        return Err(bundle::BundleError::Unreadable(format!("format {:?}", file.format)).into());
    }
    if file.version > bundle::BUNDLE_VERSION {
        return Err(bundle::BundleError::Version(file.version).into());
    }
    let site = master.bundle_site(&file.site_id)?;
    // Signed under the current token, or the one before a rotation the office has not seen yet.
    let mut checked = Err(bundle::BundleError::Signature(file.site_id.clone()));
    let mut key = [0u8; 32];
    for digest in &site.token_digests {
        key = bundle::key_from_token_digest(digest);
        checked = bundle::verify::<Outgoing>(&key, file, BundleKind::Outgoing);
        if checked.is_ok() {
            break;
        }
    }
    let outgoing = checked?;
    // A revoked office's work is taken only by the district's own decision (the admin CLI).
    if site.revoked && !accept_revoked {
        return Err(ServerError::SiteRevoked { at_ms: 0 });
    }
    bundle::check_ops_are_the_sites(&site.auth.site_id, &outgoing)?;
    let sent = outgoing.ops.len() as u64;
    let push = if outgoing.ops.is_empty() {
        PushResponse {
            acks: Vec::new(),
            duplicates: 0,
            quarantined: Vec::new(),
            held: Vec::new(),
            server_time_ms: now_ms,
        }
    } else {
        master.push(
            &site.auth,
            PushRequest {
                db_instance_id: outgoing.db_instance_id.clone(),
                ops: outgoing.ops,
                divergent: outgoing.divergent,
            },
            now_ms,
        )?
    };
    let schema = outgoing.store_schema;
    let mut pulls = pull_all(master, &site.auth, outgoing.pull_after, schema, now_ms)?;
    // The office's cursor belongs to another copy of the master (restored) or to another scope: the
    // answer then carries its whole scope, and the office re-initialises with it.
    let first = pulls.first();
    let other_master = outgoing.known_master.as_deref().is_some_and(|known| {
        first.is_some_and(|p| !p.master_id.is_empty() && p.master_id != known)
    });
    let rescoped = first.is_some_and(|p| p.reinitialise.is_some());
    let from_start = (other_master || rescoped) && outgoing.pull_after > 0;
    if from_start {
        let reason = first
            .and_then(|p| p.reinitialise.clone())
            .unwrap_or_else(|| "master_changed".to_string());
        pulls = pull_all(master, &site.auth, 0, schema, now_ms)?;
        if let Some(p) = pulls.first_mut() {
            p.reinitialise = Some(reason);
        }
    }
    let delivered: usize = pulls.iter().map(|p| p.ops.len()).sum();
    let answer = Answer {
        push: push.clone(),
        pulls,
        from_start,
    };
    let sealed = bundle::seal(
        &key,
        BundleKind::Answer,
        &site.auth.site_id,
        now_ms,
        &answer,
    )?;
    let answer_file = bundle::open_unchecked(&sealed)?;
    tracing::info!(
        site = %site.auth.site_id,
        relayed_by = relayed_by.unwrap_or("admin cli"),
        sent,
        duplicates = push.duplicates,
        held = push.quarantined.len(),
        delivered,
        "sync bundle imported"
    );
    Ok(BundleRelayResponse {
        site_id: site.auth.site_id.clone(),
        site_name: site.name,
        acknowledged: push.acks.len() as u64,
        duplicates: push.duplicates,
        held: push.quarantined.len() as u64,
        delivered: delivered as u64,
        answer: answer_file,
    })
}

/// The pull windows after `after`, page by page, as a network client would receive them.
fn pull_all(
    master: &mut dyn MasterStore,
    site: &crate::master::SiteAuth,
    after: u64,
    schema: u32,
    now_ms: u64,
) -> Result<Vec<PullResponse>> {
    let mut pages = Vec::new();
    let mut cursor = after;
    loop {
        let page = master.pull_for_schema(site, cursor, ANSWER_PAGE, schema, now_ms)?;
        let done = !page.has_more || page.reinitialise.is_some();
        if page.next_cursor < cursor && page.reinitialise.is_none() {
            return Err(ServerError::Store(format!(
                "the pull went backwards from {cursor} to {}",
                page.next_cursor
            )));
        }
        cursor = page.next_cursor;
        pages.push(page);
        if done {
            return Ok(pages);
        }
    }
}
