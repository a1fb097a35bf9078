//! Issue 12 §4: load. A master with `JICENG_LOAD_OFFICES` offices (default 200), each a township with
//! its officer and an enrolled site. For `JICENG_LOAD_SECS` (default 20) every office pushes
//! 1,000-operation batches (its own chain of case-file edits, each naming the version it overwrites as the
//! desktop's write path does, in the binary push body and zstd-compressed as the desktop sends
//! them to a server that takes both; `JICENG_LOAD_JSON=1` sends the JSON body instead) and pulls after each push (the answer in binary, as the desktop asks; JSON with `JICENG_LOAD_JSON=1`), all at once over loopback against the release server. Prints the
//! errors, p50/p95/p99 latency of push and pull, and throughput. Goal: 0 errors, p99 ≤ 1 s per
//! 1,000-operation push on this 2-core machine.
//!
//! `cargo bench -p jiceng-tests --bench load` (release) on the SQLite master; with
//! `JICENG_TEST_MASTER=postgres` on a PostgreSQL master (a throw-away cluster, tests/src/pg.rs). The
//! bench builds the release server first when it is not current. The bodies are built before the clock starts,
//! so the load generator's own work is not what is measured (it still shares the two cores).
//!
//! The offices start as offices that have synced before: each pulls to the head, untimed, and the
//! server is then restarted, so the run starts cold, as after a restart with every office pushing at
//! once. `JICENG_LOAD_FROM_ZERO=1` starts every office's pulls at cursor 0 instead (the bench before
//! 2026-12-06: each office's first pull then also brings the district's org tree, users and sites).
//!
//! On PostgreSQL: `JICENG_LOAD_ANALYZE=1` analyses the master before the run (the statistics of a
//! district just onboarded, BENCHMARKS.md "statistics"); `JICENG_LOAD_PG_STATEMENTS=1` prints
//! PostgreSQL's time by statement after it (with
//! `JICENG_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements"`).

use jiceng_core::hlc::Hlc;
use jiceng_core::model::{OrgKind, Role};
use jiceng_core::op::{Operation, GENESIS_HASH, SCHEMA_VERSION};
use jiceng_core::wire::{EnrolRequest, PushRequest};
use jiceng_tests::TestServer;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: usize = 1_000;

struct Office {
    token: String,
    /// Where the office's pulls start: 0, or the head it reached before the clock started.
    cursor: u64,
    /// Pre-built push bodies (zstd), in chain order.
    bodies: Vec<Vec<u8>>,
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The clock the real server judges operations by (a bench against a running server, not a test).
fn wall_ms() -> u64 {
    jiceng_server::now_ms()
}

fn json_bodies() -> bool {
    env("JICENG_LOAD_JSON", 0) == 1
}

/// `batches` chained batches of case-file edits by `author` at `unit`, as zstd push bodies.
fn bodies(site_id: &str, unit: &str, author: &str, batches: usize) -> Vec<Vec<u8>> {
    let conflicting = env("JICENG_LOAD_CONFLICTS", 0) == 1;
    let mut prev = GENESIS_HASH.to_string();
    let mut seq = 0u64;
    let start = wall_ms();
    (0..batches)
        .map(|b| {
            let ops: Vec<Operation> = (0..BATCH)
                .map(|i| {
                    seq += 1;
                    let row = format!("{site_id}-case-{}", (b * BATCH + i) / 10);
                    let (field, value) = if i % 10 == 0 {
                        ("org_unit_id", json!(unit))
                    } else {
                        ("name", json!(format!("对象{seq}")))
                    };
                    // As the desktop's write path writes them: an edit names the version it
                    // overwrites (with JICENG_LOAD_CONFLICTS=1, none does, and every edit opens a
                    // conflict item: the first baseline's workload).
                    let base = (field == "name" && i % 10 > 1 && !conflicting).then(|| {
                        jiceng_core::op::Version {
                            hlc: Hlc::from_parts(start + seq - 1, 0),
                            site: site_id.to_string(),
                        }
                    });
                    let mut op = Operation {
                        site_id: site_id.to_string(),
                        site_seq: seq,
                        prev_hash: prev.clone(),
                        hash: String::new(),
                        table: "corr_case".to_string(),
                        row_id: row,
                        field: field.to_string(),
                        value,
                        hlc: Hlc::from_parts(start + seq, 0),
                        base,
                        user_id: author.to_string(),
                        schema_version: SCHEMA_VERSION,
                        scope: unit.to_string(),
                        server_seq: None,
                    };
                    op.hash = op.compute_hash();
                    prev = op.hash.clone();
                    op
                })
                .collect();
            let push = PushRequest {
                db_instance_id: site_id.to_string(),
                ops,
                divergent: Vec::new(),
            };
            // As the desktop sends a push to a server that takes it: binary (JSON with
            // JICENG_LOAD_JSON=1, as to a server of an older release), zstd-compressed.
            let body = if json_bodies() {
                serde_json::to_vec(&push).expect("json")
            } else {
                jiceng_core::codec::encode_push(&push)
            };
            zstd::encode_all(body.as_slice(), 3).expect("zstd")
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{label:<6} n={:<6} p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
        ms.len(),
        percentile(&ms, 0.50),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0)
    );
}

/// CPU seconds (user + system) spent so far by the processes named `comm`, with the children they
/// reaped (PostgreSQL's backends are reaped by the postmaster). Steadier than throughput on a shared
/// machine: it counts the work a push costs, not the time the other engineers' compilers took.
fn cpu_seconds_of(comm: &str) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            // pid (comm) state ppid … utime(14) stime(15) cutime(16) cstime(17): fields after ')'.
            let close = stat.rfind(')')?;
            let name = &stat[stat.find('(')? + 1..close];
            if name != comm {
                return None;
            }
            let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
            let sum: f64 = fields
                .get(11..15)?
                .iter()
                .filter_map(|f| f.parse::<f64>().ok())
                .sum();
            Some(sum / ticks)
        })
        .sum()
}

/// One pull page after `cursor`, asked and read as the desktop does: in binary, unless
/// JICENG_LOAD_JSON=1.
async fn pull_page(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    cursor: u64,
) -> Result<jiceng_core::wire::PullResponse, String> {
    let accept = if json_bodies() {
        "application/json"
    } else {
        jiceng_core::wire::PULL_BINARY_TYPE
    };
    let answer = client
        .get(format!("{base}/api/v1/pull?after={cursor}&limit=5000"))
        .bearer_auth(token)
        .header("accept", accept)
        .send()
        .await
        .map_err(|e| format!("pull {e}"))?;
    if !answer.status().is_success() {
        return Err(format!("pull {}", answer.status()));
    }
    let body = answer.bytes().await.map_err(|e| format!("pull body {e}"))?;
    if json_bodies() {
        serde_json::from_slice(&body).map_err(|e| format!("pull body {e}"))
    } else {
        jiceng_core::codec::decode_pull(&body).map_err(|e| format!("pull body {e}"))
    }
}

/// Every office pulls what it may see up to the head, as an office that has synced before: the
/// timed run then starts from where a working day does (JICENG_LOAD_FROM_ZERO=1: from cursor 0,
/// each office's first pull also bringing the district's org tree, users and site directory).
/// Returns the operations pulled by each office.
async fn sync_before(client: &reqwest::Client, base: &str, offices: &mut [Office]) -> usize {
    let mut pulled = 0;
    for office in offices.iter_mut() {
        pulled = 0;
        loop {
            let page = pull_page(client, base, &office.token, office.cursor)
                .await
                .expect("pull before the run");
            office.cursor = page.next_cursor;
            pulled += page.ops.len();
            if !page.has_more {
                break;
            }
        }
    }
    pulled
}

/// Adds `offices` townships, each with its officer and an enrolled site, straight into the master
/// before it serves: (site id, unit, author, token) each.
fn add_offices(
    master_name: &std::path::Path,
    offices: usize,
) -> Vec<(String, String, String, String)> {
    let mut built = Vec::new();
    let mut master =
        jiceng_server::master::open(master_name.to_str().expect("utf-8 master")).expect("master");
    let district = master
        .org_units()
        .expect("units")
        .into_iter()
        .find(|u| u.kind == "district")
        .expect("district")
        .id;
    for i in 0..offices {
        let unit = master
            .add_org_unit(Some(&district), OrgKind::Township, &format!("负载乡{i}"))
            .expect("unit");
        let author = master
            .add_user(
                &format!("load{i}"),
                &format!("专干{i}"),
                Role::JudicialOfficer,
                &unit,
                "load-pass-1",
            )
            .expect("user");
        let (_, code) = master
            .add_site(&unit, &format!("负载所{i}"), wall_ms() - 60_000)
            .expect("site");
        let enrolled = master
            .enrol(
                &EnrolRequest {
                    code,
                    device_label: format!("load-{i}"),
                    db_instance_id: format!("load-{i}"),
                },
                wall_ms(),
            )
            .expect("enrol");
        built.push((enrolled.site_id, unit, author, enrolled.token));
    }
    built
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let offices = env("JICENG_LOAD_OFFICES", 200) as usize;
    let secs = env("JICENG_LOAD_SECS", 20);
    let batches = env("JICENG_LOAD_BATCHES", 4) as usize;
    let (mut server, _demo) = TestServer::start_demo("load");
    server.kill();
    // The offices, written straight into the master before it serves.
    let t = Instant::now();
    let master_name = server.master_path();
    // The synchronous PostgreSQL client must not run on the async runtime's threads.
    let built =
        std::thread::scope(|scope| scope.spawn(|| add_offices(&master_name, offices)).join())
            .expect("adding the offices");
    let mut offices_ready: Vec<Office> = built
        .into_iter()
        .map(|(site, unit, author, token)| Office {
            bodies: bodies(&site, &unit, &author, batches),
            token,
            cursor: 0,
        })
        .collect();
    println!(
        "{offices} offices, {batches} batches of {BATCH} operations ready in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    server.start();
    let base = server.url();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(offices)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    if env("JICENG_LOAD_FROM_ZERO", 0) == 0 {
        let pulled = sync_before(&client, &base, &mut offices_ready).await;
        // A cold server, as after a restart: its sessions, caches and threads start afresh.
        server.kill();
        server.start();
        println!(
            "offices synced before the run ({pulled} operations each, untimed); server restarted"
        );
    } else {
        println!("offices pull from cursor 0 (JICENG_LOAD_FROM_ZERO=1)");
    }
    if server.is_postgres() && env("JICENG_LOAD_ANALYZE", 0) == 1 {
        // The statistics of a district just onboarded: autovacuum analysed the master while it held
        // little more than the org tree (it does so within a minute of the tree's writes).
        on_master(&server, "ANALYZE").await;
        println!("the master analysed before the run (JICENG_LOAD_ANALYZE=1)");
    }
    // Where PostgreSQL's time goes, by statement (the cluster must preload it:
    // JICENG_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements").
    let statements = server.is_postgres() && env("JICENG_LOAD_PG_STATEMENTS", 0) == 1;
    if statements {
        on_master(
            &server,
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()",
        )
        .await;
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(offices)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let cpu_before = (cpu_seconds_of("jiceng-server"), cpu_seconds_of("postgres"));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for office in offices_ready {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut push_ms = Vec::new();
            let mut pull_ms = Vec::new();
            let mut errors = Vec::new();
            let mut pushed = 0usize;
            let mut cursor = office.cursor;
            let token = Arc::new(office.token);
            for (round, body) in office.bodies.into_iter().enumerate() {
                if Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let answer = client
                    .post(format!("{base}/api/v1/push"))
                    .bearer_auth(token.as_str())
                    .header(
                        "content-type",
                        if json_bodies() {
                            "application/json"
                        } else {
                            jiceng_core::wire::PUSH_BINARY_TYPE
                        },
                    )
                    .header("content-encoding", "zstd")
                    .body(body)
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        push_ms.push((round, t.elapsed().as_secs_f64() * 1000.0));
                        pushed += BATCH;
                    }
                    Ok(r) => errors.push(format!("push {}", r.status())),
                    Err(e) => errors.push(format!("push {e}")),
                }
                let t = Instant::now();
                match pull_page(&client, &base, &token, cursor).await {
                    Ok(page) => {
                        cursor = page.next_cursor;
                        pull_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    Err(e) => errors.push(e),
                }
            }
            (push_ms, pull_ms, errors, pushed)
        }));
    }
    let (mut push_ms, mut pull_ms, mut errors, mut pushed) =
        (Vec::new(), Vec::new(), Vec::new(), 0);
    for task in tasks {
        let (a, b, c, d) = task.await.expect("office");
        push_ms.extend(a);
        pull_ms.extend(b);
        errors.extend(c);
        pushed += d;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = (cpu_seconds_of("jiceng-server"), cpu_seconds_of("postgres"));
    let backend = if server.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("{backend} master, {offices} offices at once for up to {secs} s ({elapsed:.1} s):");
    summary("push", push_ms.iter().map(|(_, ms)| *ms).collect());
    // Where the slow pushes are: the first round starts all offices at once on a cold server.
    let mut by_round: Vec<Vec<f64>> = Vec::new();
    for (round, ms) in push_ms {
        if by_round.len() <= round {
            by_round.resize(round + 1, Vec::new());
        }
        by_round[round].push(ms);
    }
    let rounds: Vec<String> = by_round
        .iter_mut()
        .enumerate()
        .map(|(i, ms)| {
            ms.sort_by(|a, b| a.total_cmp(b));
            format!(
                "{}:{:.0}/{:.0}",
                i + 1,
                percentile(ms, 0.5),
                percentile(ms, 0.99)
            )
        })
        .collect();
    println!("push by round (p50/p99 ms): {}", rounds.join(" "));
    if let Some(first) = by_round.first() {
        // All offices start at once: the first round's latencies are its completion times.
        let at: Vec<String> = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
            .iter()
            .map(|p| format!("{:.0}%:{:.0}", p * 100.0, percentile(first, *p)))
            .collect();
        println!("first round's pushes answered by (ms): {}", at.join(" "));
    }
    summary("pull", pull_ms);
    println!(
        "{pushed} operations merged, {:.0} operations/s; errors: {}",
        pushed as f64 / elapsed,
        errors.len()
    );
    let (server_cpu, database_cpu) = (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
    let pushes = (pushed / BATCH).max(1) as f64;
    println!(
        "CPU per 1,000-operation push (with its pull): server {:.1} ms, PostgreSQL {:.1} ms ({server_cpu:.1} s + {database_cpu:.1} s over the run)",
        server_cpu * 1000.0 / pushes,
        database_cpu * 1000.0 / pushes
    );
    for e in errors.iter().take(10) {
        println!("  error: {e}");
    }
    if statements {
        let report = on_master(
            &server,
            "SELECT round(total_exec_time)::text || ' ms  ' || calls::text || ' calls  ' || \
             round((total_exec_time / greatest(calls, 1))::numeric, 3)::text || ' ms each  ' || \
             left(regexp_replace(query, '\\s+', ' ', 'g'), 110) \
             FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15",
        )
        .await;
        println!("PostgreSQL's time by statement (JICENG_LOAD_PG_STATEMENTS=1):");
        for line in report {
            println!("  {line}");
        }
    }
}

/// Runs `sql` on the PostgreSQL master, returning the first column of its last statement's rows.
async fn on_master(server: &TestServer, sql: &str) -> Vec<String> {
    let url = server.master_path().to_string_lossy().into_owned();
    let sql = sql.to_string();
    tokio::task::spawn_blocking(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("connecting");
        db.simple_query(&sql)
            .expect("a statement on the master")
            .into_iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .collect()
    })
    .await
    .expect("a statement on the master")
}
