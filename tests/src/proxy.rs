//! A loopback proxy between the sites and the server that misbehaves like a bad network (issue 10 §2):
//! it drops requests, loses replies after the server committed them, cuts replies short, delays
//! requests (so that concurrent sites' requests arrive reordered) and sends requests twice. One
//! request per connection (it asks the server to close), so each fault hits exactly one exchange.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy did to one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Pass,
    /// The request never reaches the server.
    DropRequest,
    /// The server handles the request; its reply never reaches the site.
    LoseReply,
    /// Half of the reply reaches the site, then the connection closes.
    TruncateReply,
    /// The request waits up to 1.5 s before it is sent on.
    Delay,
    /// The request reaches the server twice; the site gets the second reply.
    Duplicate,
}

pub struct FaultyProxy {
    pub url: String,
    faulty: Arc<AtomicBool>,
    counts: Arc<Mutex<BTreeMap<Fault, u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyProxy {
    /// Listens on a free loopback port and forwards to `upstream` ("127.0.0.1:port"); `seed` fixes the
    /// sequence of faults.
    pub async fn start(upstream: String, seed: u64) -> FaultyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let faulty = Arc::new(AtomicBool::new(true));
        let counts: Arc<Mutex<BTreeMap<Fault, u64>>> = Arc::default();
        let state = Arc::new(AtomicU64::new(seed));
        let (f, c) = (faulty.clone(), counts.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = if f.load(Ordering::SeqCst) {
                    pick(&state)
                } else {
                    Fault::Pass
                };
                *c.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(fault)
                    .or_default() += 1;
                let upstream = upstream.clone();
                let delay = next(&state) % 1_500;
                tokio::spawn(async move {
                    let _ = exchange(client, &upstream, fault, delay).await;
                });
            }
        });
        FaultyProxy {
            url,
            faulty,
            counts,
            task,
        }
    }

    /// Faults on (the default) or off (a good network, to settle at the end).
    pub fn set_faulty(&self, on: bool) {
        self.faulty.store(on, Ordering::SeqCst);
    }

    /// How many exchanges got each treatment.
    pub fn counts(&self) -> BTreeMap<Fault, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn next(state: &AtomicU64) -> u64 {
    let mut x = state.load(Ordering::SeqCst);
    x = x
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    state.store(x, Ordering::SeqCst);
    x >> 33
}

fn pick(state: &AtomicU64) -> Fault {
    match next(state) % 20 {
        0..=7 => Fault::Pass,
        8..=9 => Fault::DropRequest,
        10..=12 => Fault::LoseReply,
        13..=14 => Fault::TruncateReply,
        15..=17 => Fault::Delay,
        _ => Fault::Duplicate,
    }
}

/// Reads one HTTP/1.1 request (head and Content-Length body).
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    // One request per connection: the server closes after answering.
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut rewritten: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:") && !l.is_empty())
        .collect::<Vec<_>>()
        .join("\r\n");
    rewritten.push_str("\r\nConnection: close\r\n\r\n");
    let mut out = rewritten.into_bytes();
    out.extend_from_slice(&buf[head_end..]);
    Ok(out)
}

async fn forward(upstream: &str, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request).await?;
    let mut reply = Vec::new();
    server.read_to_end(&mut reply).await?;
    Ok(reply)
}

async fn exchange(
    mut client: TcpStream,
    upstream: &str,
    fault: Fault,
    delay_ms: u64,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    match fault {
        Fault::DropRequest => return Ok(()),
        Fault::Delay => tokio::time::sleep(Duration::from_millis(delay_ms)).await,
        _ => {}
    }
    if fault == Fault::Duplicate {
        forward(upstream, &request).await?;
    }
    let reply = forward(upstream, &request).await?;
    match fault {
        Fault::LoseReply => Ok(()),
        Fault::TruncateReply => {
            client.write_all(&reply[..reply.len() / 2]).await?;
            client.shutdown().await
        }
        _ => {
            client.write_all(&reply).await?;
            client.shutdown().await
        }
    }
}
