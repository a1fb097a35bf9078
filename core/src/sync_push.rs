//! The desktop's push (issue 12 §5): unsent operations in batches, oldest first, pipelined. While one
//! batch travels and the master merges it, the desktop marks the batch before it as sent, reads the
//! next one from its log and encodes it; on a laptop back from weeks offline that local work took as
//! long as the requests. The requests themselves stay one at a time and in order, so the master sees the same
//! sequence as before and a gap means what it always meant.
//!
//! An operation is marked sent only after the server acknowledged it; a failed or cut push is sent again
//! (the server recognises what it already has).

use crate::store::{SiteIdentity, Store};
use crate::sync::{
    keep_rows_whole, lock, network, push_body, read, with_retries_after, Exchange, SyncError,
    PUSH_BATCH,
};
use crate::wire::{PushRequest, PushResponse, API_PREFIX};
use std::future::Future;
use std::sync::Mutex;

/// One batch read from the log, to be sent.
struct Batch {
    push: PushRequest,
    /// Its operations' site_seqs, in order.
    seqs: Vec<u64>,
}

/// The unsent operations after `after` (None: from the first), a row's writes kept in one batch.
fn read_batch(store: &Mutex<Store>, after: Option<u64>) -> Result<Option<Batch>, SyncError> {
    let guard = lock(store);
    let mut ops = guard.unacked_ops_after(after, PUSH_BATCH)?;
    if ops.len() == PUSH_BATCH {
        keep_rows_whole(&mut ops);
    }
    if ops.is_empty() {
        return Ok(None);
    }
    let seqs: Vec<u64> = ops.iter().map(|o| o.site_seq).collect();
    let divergent = guard.reissued_among(&seqs)?;
    let push = PushRequest {
        db_instance_id: guard.instance_id()?,
        ops,
        divergent,
    };
    Ok(Some(Batch { push, seqs }))
}

/// A push's body as sent: (bytes, Content-Type, Content-Encoding).
type Body = (Vec<u8>, &'static str, Option<&'static str>);

/// Whether `body` is binary and compressed: the best form there is, which no answer improves on.
fn is_best_form(body: &Body) -> bool {
    body.1 == crate::wire::PUSH_BINARY_TYPE && body.2.is_some()
}

/// One attempt at sending `body`; owns what it needs, so it can run as a task of its own.
fn send(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Body,
) -> impl Future<Output = Result<PushResponse, SyncError>> + Send + 'static {
    let (bytes, content_type, encoding) = body;
    let mut request = client
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, *content_type)
        .body(bytes.clone());
    if let Some(encoding) = encoding {
        request = request.header(reqwest::header::CONTENT_ENCODING, *encoding);
    }
    let url = url.to_string();
    async move {
        let response = request.send().await.map_err(|e| network(&url, e))?;
        read(&url, response).await
    }
}

/// Whether the server acknowledged every operation of the batch.
fn acknowledges_all(seqs: &[u64], acks: &[(u64, u64)]) -> bool {
    let acked: std::collections::HashSet<u64> = acks.iter().map(|a| a.0).collect();
    seqs.iter().all(|s| acked.contains(s))
}

/// Pushes every unacknowledged operation, batch after batch.
pub(crate) async fn push_all(
    store: &Mutex<Store>,
    identity: &SiteIdentity,
    client: &reqwest::Client,
    exchange: &mut Exchange,
) -> Result<(), SyncError> {
    let url = format!("{}{API_PREFIX}/push", identity.server_url);
    let token = identity.token.as_str();
    // Counted once: counting the unsent log before each batch cost as much as encoding the batches.
    let mut waiting = lock(store).unacked_count()?;
    let mut next = read_batch(store, None)?;
    let mut acked_not_marked: Option<Vec<(u64, u64)>> = None;
    let mut encoded_ahead: Option<Body> = None;
    while let Some(batch) = next.take() {
        lock(store).set_sync_activity(Some(format!("正在上传（还有{waiting}条）")));
        waiting = waiting.saturating_sub(batch.seqs.len() as u32);
        // Encoded when sent unless encoded ahead: an answer may tell that the server takes binary
        // and zstd.
        let body = match encoded_ahead.take() {
            Some(body) => body,
            None => push_body(&url, &batch.push)?,
        };
        let first_attempt = tokio::spawn(send(client, &url, token, &body));
        // While it travels and merges: the previous batch is marked sent, the next one read.
        if let Some(acks) = acked_not_marked.take() {
            lock(store).mark_acked(&acks)?;
        }
        let last_sent = batch.seqs.last().copied();
        let read_ahead = read_batch(store, last_sent);
        // And encoded, when this body is already in the best form the server takes (binary,
        // compressed), so no answer can change the next one's.
        let ahead = match &read_ahead {
            Ok(Some(next_batch)) if is_best_form(&body) => Some(push_body(&url, &next_batch.push)?),
            _ => None,
        };
        let first = first_attempt.await.unwrap_or_else(|lost| {
            // The task itself was lost (the runtime stopping): a failed attempt like a cut answer.
            Err(SyncError::Protocol(format!(
                "the push's request was lost: {lost}"
            )))
        });
        // A network failure or a cut answer: sent again like any request, with the same backoff.
        let pushed = with_retries_after(Some(first), store, &mut exchange.retries, || {
            send(client, &url, token, &body)
        })
        .await?;
        exchange.quarantined += pushed.quarantined.len();
        exchange.held.extend(pushed.held.iter().cloned());
        if pushed.acks.is_empty() {
            return Err(SyncError::Protocol(
                "the server acknowledged nothing".to_string(),
            ));
        }
        let acks: Vec<(u64, u64)> = pushed
            .acks
            .iter()
            .map(|a| (a.site_seq, a.server_seq))
            .collect();
        match read_ahead {
            Ok(read_ahead) if acknowledges_all(&batch.seqs, &acks) => {
                acked_not_marked = Some(acks);
                next = read_ahead;
                encoded_ahead = ahead;
            }
            read_ahead => {
                // Part of the batch was not acknowledged: it goes again, from the first unsent.
                lock(store).mark_acked(&acks)?;
                read_ahead?;
                next = read_batch(store, None)?;
            }
        }
    }
    if let Some(acks) = acked_not_marked {
        lock(store).mark_acked(&acks)?;
    }
    Ok(())
}
