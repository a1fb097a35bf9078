//! Issue 10 §1, the crash harness: the real `jiceng-server` and real sites, each a process of its own
//! (`jiceng-site`, the real store and sync client), killed with SIGKILL at random points of their writes,
//! pushes, merges and pulls, then restarted. Afterwards: no operation lost, none doubled, no queue
//! wedged, every replica equal to the master within its scope (ARCHITECTURE.md "At least once, exactly
//! once in effect"). Prints kills, runs, syncs, log records, operations, lost, doubled, wedged.
//!
//! About 20 kills by default; `JICENG_CRASH_KILLS=200` for the long run, `JICENG_CRASH_SEED` to vary.

use jiceng_tests::{assert_site_equals_scoped_master, log_accounting, temp_dir, Site, TestServer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A site of the harness: the demo site it enrols as, its user, whether it reads corrections, and
/// whether it writes (the district only reads).
struct Writer {
    site: &'static str,
    user: &'static str,
    corrections: bool,
    writes: bool,
}

const WRITERS: &[Writer] = &[
    Writer {
        site: "北新桥街道司法所",
        user: "officer1",
        corrections: true,
        writes: true,
    },
    Writer {
        site: "和平里街道司法所",
        user: "officer2",
        corrections: true,
        writes: true,
    },
    Writer {
        site: "民安社区工作站",
        user: "clerk1",
        corrections: false,
        writes: true,
    },
    Writer {
        site: "区司法局",
        user: "admin",
        corrections: true,
        writes: false,
    },
];
const ROUNDS: u64 = 2;
const WRITES: u64 = 4;

/// A small deterministic generator (the harness must be replayable from its seed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

fn site_binary() -> &'static str {
    env!("CARGO_BIN_EXE_jiceng-site")
}

fn run_site(
    store: &Path,
    url: &str,
    writer: &Writer,
    slot: usize,
    first: u64,
    rounds: u64,
    code: Option<&str>,
) -> Child {
    let mut command = Command::new(site_binary());
    command
        .arg("--store")
        .arg(store)
        .args(["--server", url, "--user", writer.user])
        .args(["--tag", &format!("崩{slot}-")])
        .args(["--slot", &slot.to_string(), "--first", &first.to_string()])
        .args(["--rounds", &rounds.to_string()])
        .args(["--writes", if writer.writes { "4" } else { "0" }])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(code) = code {
        command.args(["--code", code]);
    }
    command.spawn().expect("spawn jiceng-site")
}

/// Waits for a site process (killing it past the deadline); returns how many syncs it completed.
fn finish(mut child: Child, deadline: Instant) -> (usize, bool) {
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return (0, true);
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        use std::io::Read;
        let _ = stdout.read_to_string(&mut out);
    }
    (
        out.lines().filter(|l| l.starts_with("synced")).count(),
        false,
    )
}

#[test]
fn sites_and_the_server_killed_at_random_lose_double_and_wedge_nothing() {
    let goal: u64 = std::env::var("JICENG_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut rng = Lcg(std::env::var("JICENG_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7));
    let (mut server, demo) = TestServer::start_demo("crash");
    let url = server.url();
    let dir = temp_dir("crash-sites");
    let stores: Vec<PathBuf> = (0..WRITERS.len())
        .map(|i| dir.join(format!("site-{i}.sqlite")))
        .collect();
    // Enrolment once, undisturbed (a code is used once).
    for (i, writer) in WRITERS.iter().enumerate() {
        let code = demo["sites"]
            .as_array()
            .and_then(|sites| sites.iter().find(|s| s["name"] == writer.site))
            .and_then(|s| s["enrolment_code"].as_str())
            .expect("demo site")
            .to_string();
        let (_, stuck) = finish(
            run_site(&stores[i], &url, writer, i, 0, 1, Some(&code)),
            Instant::now() + Duration::from_secs(60),
        );
        assert!(!stuck, "{} did not enrol", writer.site);
    }
    let mut next = vec![0u64; WRITERS.len()];
    let (mut server_kills, mut client_kills, mut runs, mut syncs) = (0u64, 0u64, 0u64, 0usize);
    while server_kills + client_kills < goal {
        let mut children: Vec<Option<Child>> = WRITERS
            .iter()
            .enumerate()
            .map(|(i, writer)| {
                let first = next[i];
                next[i] += ROUNDS * WRITES;
                runs += 1;
                Some(run_site(&stores[i], &url, writer, i, first, ROUNDS, None))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50 + rng.below(700)));
        if rng.below(2) == 0 {
            server.kill();
            server_kills += 1;
            std::thread::sleep(Duration::from_millis(rng.below(300)));
            server.start();
        } else {
            let victim = rng.below(WRITERS.len() as u64) as usize;
            if let Some(child) = children[victim].as_mut() {
                if matches!(child.try_wait(), Ok(None)) {
                    let _ = child.kill();
                    let _ = child.wait();
                    client_kills += 1;
                    children[victim] = None;
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        for child in children.into_iter().flatten() {
            let (done, stuck) = finish(child, deadline);
            assert!(!stuck, "a site process hung");
            syncs += done;
        }
    }
    // Settle: every site syncs until nothing waits.
    for _ in 0..2 {
        for (i, writer) in WRITERS.iter().enumerate() {
            let (done, stuck) = finish(
                run_site(&stores[i], &url, writer, i, next[i], 2, None),
                Instant::now() + Duration::from_secs(120),
            );
            assert!(!stuck);
            syncs += done;
        }
    }

    let master = server.master();
    let (mut operations, mut lost, mut doubled, mut wedged, mut records) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut sites = Vec::new();
    for (i, writer) in WRITERS.iter().enumerate() {
        let store = jiceng_core::Store::open(&stores[i]).expect("store");
        let identity = store.identity().unwrap().expect("enrolled");
        let own: Vec<u64> = store
            .own_log()
            .unwrap()
            .iter()
            .map(|op| op.site_seq)
            .collect();
        operations += own.len() as u64;
        if store.unacked_count().unwrap() > 0 {
            wedged += 1;
        }
        let (site_lost, site_doubled) = log_accounting(&master, &identity.site_id, &own);
        lost += site_lost;
        doubled += site_doubled;
        records += master.log_ranges(&identity.site_id).len() as u64;
        sites.push(Site {
            name: writer.site.to_string(),
            store: std::sync::Mutex::new(store),
            path: stores[i].clone(),
        });
    }
    println!(
        "crash harness: {} kills (server {server_kills}, sites {client_kills}), {runs} site runs, {syncs} syncs completed, {records} log records, {operations} operations, lost {lost}, doubled {doubled}, wedged {wedged}",
        server_kills + client_kills
    );
    assert_eq!((lost, doubled, wedged), (0, 0, 0));
    for (site, writer) in sites.iter().zip(WRITERS) {
        assert_site_equals_scoped_master(&server, site, writer.corrections);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
