//! A loopback relay that counts the bytes each way (issue 12 §5: bytes on the wire per operation).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

pub struct CountingProxy {
    pub url: String,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on a free loopback port and relays to `upstream` ("127.0.0.1:port").
    pub async fn start(upstream: String) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let (sent, received) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (s, r) = (sent.clone(), received.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (s, r, upstream) = (s.clone(), r.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    // A relay must not add Nagle's delays of its own to what it measures.
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    if let Ok((up, down)) =
                        tokio::io::copy_bidirectional(&mut client, &mut server).await
                    {
                        s.fetch_add(up, Ordering::SeqCst);
                        r.fetch_add(down, Ordering::SeqCst);
                    }
                });
            }
        });
        CountingProxy {
            url,
            sent,
            received,
            task,
        }
    }

    /// Bytes (sites → server, server → sites) of the connections closed so far.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::SeqCst),
            self.received.load(Ordering::SeqCst),
        )
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
