//! Issue 12 §3: pulls and record reads run beside a push. The test holds the master's writer (a push
//! in progress, as long as it likes) and asks for a pull and a page of records over HTTP: both are
//! answered at once, by readers of their own. A push sent meanwhile waits for the writer and is
//! answered after it is released.

use jiceng_core::wire::EnrolRequest;
use jiceng_server::http::router;
use jiceng_server::master::{MasterPool, MasterStore, SqliteMaster};
use std::future::IntoFuture;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NOW_MS: u64 = 1_796_004_000_000;

/// One HTTP/1.1 exchange on its own connection: (status line, whole response).
async fn exchange(addr: std::net::SocketAddr, request: String) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    (text.lines().next().unwrap_or("").to_string(), text)
}

fn get(path: &str, token: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_and_a_records_page_are_answered_while_a_push_holds_the_writer() {
    let dir = std::env::temp_dir().join(format!(
        "jiceng-concurrent-reads-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut master = SqliteMaster::open(&dir.join("master.sqlite")).unwrap();
    let demo = jiceng_server::admin::seed_demo(&mut master, NOW_MS).unwrap();
    let code = demo
        .site("北新桥街道司法所")
        .expect("demo site")
        .enrolment_code
        .clone();
    let token = master
        .enrol(
            &EnrolRequest {
                code,
                device_label: "laptop".into(),
                db_instance_id: "laptop".into(),
            },
            NOW_MS,
        )
        .unwrap()
        .token;
    let shared = std::sync::Arc::new(MasterPool::new(Box::new(master)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router(shared.clone())).into_future());

    // A push in progress: the writer is held for 3 s.
    let hold = Duration::from_secs(3);
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let holder = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let _writer = shared.writer().expect("the writer");
            held_tx.send(Instant::now()).unwrap();
            std::thread::sleep(hold);
        })
    };
    let held_at = held_rx.recv().unwrap();

    let push_body = r#"{"db_instance_id":"laptop","ops":[]}"#;
    let push = tokio::spawn(exchange(
        addr,
        format!(
            "POST /api/v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{push_body}",
            push_body.len()
        ),
    ));
    let (pull_status, pull) = exchange(addr, get("/api/v1/pull?after=0&limit=100", &token)).await;
    let pulled_after = held_at.elapsed();
    let (records_status, records) =
        exchange(addr, get("/api/v1/records/corr_case?limit=10", &token)).await;
    let records_after = held_at.elapsed();
    assert!(pull_status.contains("200"), "{pull}");
    assert!(pull.contains("\"next_cursor\""), "{pull}");
    assert!(records_status.contains("200"), "{records}");
    assert!(records.contains("张𠀀明"), "the demo's cases: {records}");
    assert!(
        pulled_after < Duration::from_secs(2) && records_after < Duration::from_secs(2),
        "reads waited for the writer: pull {pulled_after:?}, records {records_after:?}"
    );
    assert!(
        !push.is_finished(),
        "a push cannot run while the writer is held"
    );
    let (push_status, pushed) = push.await.unwrap();
    assert!(
        held_at.elapsed() >= hold,
        "the push was answered before the writer was released"
    );
    assert!(!push_status.is_empty(), "{pushed}");
    holder.join().unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
