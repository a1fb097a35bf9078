//! # jiceng-server
//!
//! The sync server of 基层通 Jiceng: accepts each site's operation log (`/api/v1/push`), merges it with
//! `jiceng-core`'s merge into the district master record, and hands each site back what its scope allows
//! (`/api/v1/pull`). The master sits behind [`master::MasterStore`]; [`admin`] holds the org-tree and
//! enrolment tooling used by the `jiceng-server admin …` CLI and the demo district.

pub mod admin;
pub mod api_doc;
pub mod bundle;
pub mod config;
pub mod consolidate;
pub mod demo_month;
pub mod directory_admin;
pub mod error;
pub mod http;
pub mod master;
pub mod policy;
pub mod scope;
pub mod tls;

/// A text from a request made safe for one log line: control characters (a newline that would forge
/// a second log line, escape sequences) are written escaped.
pub fn log_safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<char>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The nightly consolidation a server runs (issue 13 §1).
#[derive(Debug, Clone)]
pub struct Nightly {
    /// HH:MM Asia/Shanghai; None: never on its own (the CLI still closes days on demand).
    pub at: Option<String>,
    pub dir: std::path::PathBuf,
    pub silent_days: u64,
}

/// Closes each day at its time, for as long as the server runs.
async fn run_nightly(master: http::SharedMaster, nightly: Nightly) {
    let Some(at) = nightly.at.clone() else {
        return;
    };
    loop {
        let Some((run_at, day)) = jiceng_core::consolidation::next_run(now_ms(), &at) else {
            return;
        };
        tokio::time::sleep(std::time::Duration::from_millis(
            run_at.saturating_sub(now_ms()),
        ))
        .await;
        let nightly = nightly.clone();
        let closed = http::with_master(&master, move |m| {
            consolidate::consolidate(m, &nightly.dir, day, nightly.silent_days, now_ms())
        })
        .await;
        match closed {
            Ok(done) => tracing::info!(
                "closed {}: {} rows, {} sites, in {}",
                done.day,
                done.rows,
                done.sites.len(),
                done.directory
            ),
            Err(e) => tracing::error!("the nightly consolidation of {day} failed: {e}"),
        }
    }
}

/// Serves the API on `listen` until Ctrl-C / SIGTERM.
pub async fn serve(
    master: Box<dyn master::MasterStore>,
    listen: std::net::SocketAddr,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    nightly: Nightly,
) -> std::io::Result<()> {
    let shared = std::sync::Arc::new(master::MasterPool::new(master));
    // Best effort: a database short of connections (several processes, a low max_connections)
    // leaves the rest to be opened when needed, as before, rather than the server not starting.
    let opening = shared.clone();
    match tokio::task::spawn_blocking(move || opening.open_sessions()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("not every database session could be opened at start: {e}"),
        Err(e) => tracing::warn!("opening the database sessions at start failed: {e}"),
    }
    let app = http::router_with_consolidation(
        shared.clone(),
        Some(nightly.dir.clone()),
        nightly.silent_days,
    );
    let nightly_task = tokio::spawn(run_nightly(shared.clone(), nightly));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        "jiceng-server listening on {scheme}://{}",
        listener.local_addr()?
    );
    let served = match tls {
        Some(config) => tls::serve_tls(listener, app, config, shutdown_signal()).await,
        None => {
            // Answers go out at once: with Nagle's algorithm a response written in two pieces waits
            // for the client's delayed ACK (tens of ms per request; a 30-batch sync took 3× longer).
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::warn!("cannot set TCP_NODELAY: {e}");
                }
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
    };
    nightly_task.abort();
    let _ = nightly_task.await;
    // The master is closed off the async runtime: a PostgreSQL connection closes by blocking.
    let _ = tokio::task::spawn_blocking(move || drop(shared)).await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_newline_in_a_request_never_forges_a_log_line() {
        let forged = "bad\n2026-12-02T00:00:00Z  INFO site enrolled\u{1b}[31m";
        let safe = super::log_safe(forged);
        assert!(!safe.contains('\n') && !safe.contains('\u{1b}'), "{safe}");
        assert!(safe.contains("\\n"));
        assert_eq!(super::log_safe("张𠀀 ok"), "张𠀀 ok");
    }
}
