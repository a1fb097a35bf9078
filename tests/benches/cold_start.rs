//! Issue 14 §5: the desktop's cold start to an interactive list, with a district's store holding
//! 100,000 residents and 2,000 cases, under Xvfb, release build; and the memory the app takes above
//! the same app showing its first screen on an empty data dir (the nearest thing to "an empty Tauri
//! window" that is still this program). A benchmark, not a timed test: it prints figures.
//!
//! Needs the release app (`scripts/package.sh` or `npm run tauri -- build --bundles deb` in ui/),
//! Xvfb, tauri-driver and WebKitWebDriver (scripts/test.sh installs them):
//! `cargo bench -p jiceng-tests --bench cold_start`. JICENG_BENCH_RESIDENTS (100000),
//! JICENG_BENCH_CASES (2000), JICENG_BENCH_REPEAT (3; the median is printed).
//!
//! The store is seeded the way a district desktop receives its offices' work: the cases through the
//! write path, the residents as the operations a pull brings, merged in batches (the residents' paging
//! bench seeds the same way). The first start encrypts the plain store (issue 11 §1) and is not
//! timed; each timed start is a new process on the same data dir (the OS's page cache stays warm).

use chrono::{Duration as Days, NaiveDate};
use jiceng_core::hlc::Hlc;
use jiceng_core::idcard;
use jiceng_core::model::{CaseInput, CaseKind, OrgKind, Role};
use jiceng_core::op::{Operation, SCHEMA_VERSION};
use jiceng_core::store::{NewUser, SiteIdentity, Store};
use jiceng_tests::desktop::start_app_in;
use jiceng_tests::target_dir;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DISTRICT: &str = "bench-district";
const TOWNSHIP: &str = "bench-township";
const COMMUNITY: &str = "bench-community";
const PASSWORD: &str = "Bench-cold-2026";
const WAIT: Duration = Duration::from_secs(60);
const NAMES: &[&str] = &["王", "李", "张", "欧阳", "𠮷", "䶮", "买买提·", "刘", "陈"];
const GIVEN: &[&str] = &["伟", "芳", "秀英", "𠀀", "艾力", "建华", "淼", "玥"];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn name(i: usize) -> String {
    format!(
        "{}{}{}",
        NAMES[i % NAMES.len()],
        GIVEN[(i / NAMES.len()) % GIVEN.len()],
        GIVEN[(i / 11) % GIVEN.len()]
    )
}

fn id_number(i: usize) -> String {
    let born =
        NaiveDate::from_ymd_opt(1950, 1, 1).expect("a date") + Days::days((i % 20_000) as i64);
    idcard::compose("110101", born, (i / 20_000) as u16 + 1)
}

/// The operations a community workstation's registration of resident `i` becomes on the wire.
fn resident_ops(i: usize, seq: &mut u64, hlc: &mut Hlc) -> Vec<Operation> {
    let number = id_number(i);
    let parsed = idcard::parse(&number).expect("composed numbers are valid");
    let row = format!("resident-{i:07}");
    [
        ("org_unit_id", json!(COMMUNITY)),
        ("name", json!(name(i))),
        ("id_number", json!(parsed.number)),
        ("sex", json!(parsed.sex_code())),
        (
            "birth_date",
            json!(parsed.birth_date.format("%Y-%m-%d").to_string()),
        ),
        ("phone", json!(format!("139{:08}", i))),
        ("building", json!(format!("{}", i % 60 + 1))),
        ("unit", json!("1")),
        ("room", json!(format!("{}", i % 1800 + 101))),
        ("household_head", json!("no")),
        ("special_groups", json!("[]")),
        ("note", json!("")),
    ]
    .into_iter()
    .map(|(field, value)| {
        *seq += 1;
        *hlc = Hlc::tick(*hlc, 1_780_000_000_000);
        Operation {
            site_id: "bench-workstation".into(),
            site_seq: *seq,
            prev_hash: String::new(),
            hash: String::new(),
            table: "resident".into(),
            row_id: row.clone(),
            field: field.into(),
            value,
            hlc: *hlc,
            base: None,
            user_id: "bench-clerk".into(),
            schema_version: SCHEMA_VERSION,
            scope: COMMUNITY.into(),
            server_seq: Some(*seq),
        }
    })
    .collect()
}

/// A district desktop's plain store with `residents` and `cases`, and its administrator.
fn seed(dir: &Path, residents: usize, cases: usize) {
    std::fs::create_dir_all(dir).expect("data dir");
    let mut store = Store::open(&dir.join(jiceng_core::vault::STORE_FILE)).expect("store");
    store
        .set_identity(&SiteIdentity {
            site_id: "bench-site".into(),
            site_name: "区司法局".into(),
            org_unit_id: DISTRICT.into(),
            org_unit_name: "示范区".into(),
            server_url: "http://127.0.0.1:9".into(),
            token: "t".into(),
            tls_pin: None,
        })
        .expect("identity");
    store
        .create_org_unit("setup", DISTRICT, None, OrgKind::District, "示范区")
        .expect("district");
    store
        .create_org_unit(
            "setup",
            TOWNSHIP,
            Some(DISTRICT),
            OrgKind::Township,
            "北新桥街道",
        )
        .expect("township");
    store
        .create_org_unit(
            "setup",
            COMMUNITY,
            Some(TOWNSHIP),
            OrgKind::Community,
            "民安社区",
        )
        .expect("community");
    store
        .create_user(
            "setup",
            &NewUser {
                username: "admin".into(),
                display_name: "区司法局管理员".into(),
                role: Role::DistrictAdmin,
                org_unit_id: DISTRICT.into(),
                password: PASSWORD.into(),
            },
        )
        .expect("admin");
    let admin = store.login("admin", PASSWORD).expect("login");
    let started = Instant::now();
    for i in 0..cases {
        let start =
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date") + Days::days((i % 300) as i64);
        store
            .save_case(
                &admin,
                CaseInput {
                    id: None,
                    name: name(i + 7),
                    id_number: id_number(500_000 + i),
                    kind: [CaseKind::Probation, CaseKind::Parole, CaseKind::Control][i % 3],
                    sentence_start: start.format("%Y-%m-%d").to_string(),
                    sentence_end: (start + Days::days(730)).format("%Y-%m-%d").to_string(),
                    org_unit_id: Some(TOWNSHIP.into()),
                    status: None,
                    judgment_effective_on: None,
                    reported_on: None,
                    supervision_level: None,
                    sealed_minor: None,
                    address: None,
                },
            )
            .expect("case");
    }
    let cases_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (mut seq, mut hlc, mut ops) = (0u64, Hlc::ZERO, Vec::new());
    for i in 0..residents {
        ops.extend(resident_ops(i, &mut seq, &mut hlc));
        if ops.len() >= 60_000 || i + 1 == residents {
            store.apply_remote(&ops, seq).expect("merge");
            ops.clear();
        }
    }
    println!(
        "seeded: {cases} cases through the write path in {cases_secs:.1} s, {residents} residents merged in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// PSS (KiB) of the app's process and the WebKit processes it started.
fn app_pss_kib(app: &Path) -> u64 {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let parent_of = |pid: &str| -> Option<String> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit(')')
            .next()?
            .split_whitespace()
            .nth(1)
            .map(str::to_string)
    };
    let all: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        .collect();
    for pid in &all {
        if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app) {
            pids.push(pid.clone());
        }
    }
    let apps = pids.clone();
    for pid in &all {
        if parent_of(pid).is_some_and(|p| apps.contains(&p)) {
            pids.push(pid.clone());
        }
    }
    let mut total = 0;
    for pid in &pids {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let pss = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("Pss:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            })
            .unwrap_or(0);
        if std::env::var("JICENG_BENCH_VERBOSE").is_ok() {
            println!("    {:<20} {:>8.1} MB", name.trim(), pss as f64 / 1024.0);
            for (mapping, kib) in largest_mappings(pid, 6) {
                println!("        {:>7.1} MB  {mapping}", kib as f64 / 1024.0);
            }
        }
        total += pss;
    }
    total
}

/// The process's memory by what it maps (a file, or `[anon]`, `[heap]`…), PSS in KiB, largest first.
fn largest_mappings(pid: &str, n: usize) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut current = String::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields
            .first()
            .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
        {
            current = fields
                .get(5)
                .map_or("[anon]".to_string(), |p| p.to_string());
        } else if fields.first() == Some(&"Pss:") {
            *by.entry(current.clone()).or_default() += fields
                .get(1)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    let mut list: Vec<_> = by.into_iter().collect();
    list.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    list.truncate(n);
    list
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

struct Start {
    /// Process start (the WebDriver session's request) to the sign-in screen.
    to_login: f64,
    /// The sign-in's submit to the case list's first page.
    to_cases: f64,
    /// The residents' screen opened to its first page.
    to_residents: f64,
    pss_kib: u64,
}

async fn one_start(root: &Path, label: &str, app: &Path) -> Result<Start, String> {
    let t0 = Instant::now();
    let desktop = start_app_in(root, label, app, true).await;
    let wd = &desktop.wd;
    let result = async {
        wd.wait_for("[data-testid=login-view]", WAIT).await?;
        let to_login = t0.elapsed().as_secs_f64();
        wd.type_into("[data-testid=login-username] input", "admin").await?;
        wd.type_into("[data-testid=login-password] input", PASSWORD).await?;
        let t1 = Instant::now();
        wd.click_css("[data-testid=login-submit]").await?;
        wd.wait_for("[data-testid=case-row]", WAIT).await?;
        let to_cases = t1.elapsed().as_secs_f64();
        wd.click_css("[data-testid=nav-community]").await?;
        wd.wait_until(
            "(() => { const e = document.querySelector('[data-testid=nav-residents]'); return !!e && e.offsetParent !== null; })()",
            WAIT,
        )
        .await?;
        let t2 = Instant::now();
        wd.click_css("[data-testid=nav-residents]").await?;
        wd.wait_until(
            "document.querySelectorAll('[data-testid=resident-list] .el-table__row').length > 0",
            WAIT,
        )
        .await?;
        let to_residents = t2.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(Start {
            to_login,
            to_cases,
            to_residents,
            pss_kib: app_pss_kib(app),
        })
    }
    .await;
    wd.quit().await;
    result
}

/// The same program on an empty data dir, at its first screen: the baseline of memory.
async fn empty_window(root: &Path, app: &Path) -> Result<(f64, u64), String> {
    let t0 = Instant::now();
    let desktop = start_app_in(root, "empty", app, true).await;
    let wd = &desktop.wd;
    let result = async {
        wd.wait_for("[data-testid=enrol-view]", WAIT).await?;
        let shown = t0.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok((shown, app_pss_kib(app)))
    }
    .await;
    wd.quit().await;
    result
}

fn main() {
    let app = std::env::var("JICENG_DESKTOP_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|_| target_dir().join("jiceng-desktop"));
    assert!(
        app.exists(),
        "{} is missing: build the release app (scripts/package.sh)",
        app.display()
    );
    let residents = env_number("JICENG_BENCH_RESIDENTS", 100_000);
    let cases = env_number("JICENG_BENCH_CASES", 2_000);
    let repeat = env_number("JICENG_BENCH_REPEAT", 3).max(1);
    let root = std::env::temp_dir().join(format!("jiceng-cold-start-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    seed(&root.join("district"), residents, cases);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        jiceng_core::tls::ensure_crypto_provider();
        let (empty_secs, empty_kib) = empty_window(&root, &app).await.expect("the empty window");
        // The first start encrypts the plain store (issue 11 §1): not timed.
        one_start(&root, "district", &app).await.expect("the first start");
        let mut starts = Vec::new();
        for _ in 0..repeat {
            starts.push(one_start(&root, "district", &app).await.expect("a start"));
        }
        let pick = |f: fn(&Start) -> f64| median(starts.iter().map(f).collect());
        let to_login = pick(|s| s.to_login);
        let to_cases = pick(|s| s.to_cases);
        let to_residents = pick(|s| s.to_residents);
        let pss = median(starts.iter().map(|s| s.pss_kib as f64).collect());
        println!("cold start, {residents} residents and {cases} cases, median of {repeat} (release, Xvfb):");
        println!("  app start to the sign-in screen      {:>7.2} s   (empty data dir: {empty_secs:.2} s)", to_login);
        println!("  sign-in to the case list             {:>7.2} s", to_cases);
        println!("  start + sign-in to the case list     {:>7.2} s   (goal ≤ 1.5 s; typing not counted)", to_login + to_cases);
        println!("  residents' screen to its first page  {:>7.2} s", to_residents);
        println!(
            "  memory (PSS, app + WebKit processes) {:>7.1} MB, empty window {:.1} MB, above it {:.1} MB (goal ≤ 60 MB)",
            pss / 1024.0,
            empty_kib as f64 / 1024.0,
            (pss - empty_kib as f64) / 1024.0
        );
    });
    let _ = std::fs::remove_dir_all(&root);
}
