//! W-1: "paging 100,000 residents stays instant". Fills a store file with 100,000 residents (names with
//! 4-byte 生僻字, valid GB 11643 numbers), then times `Store::list_residents` — page 1, deep pages, a name
//! search, a pinyin-initials search, an ID-prefix search — each against a plain `SELECT … LIMIT/OFFSET`
//! on the same table in the same run, and prints times and ratios.
//!
//! Seeding: the first 1,000 residents go through the real write path (`Store::save_resident`: checks,
//! op log, merge); the rest arrive the way a workstation receives another PC's registrations, as
//! operations merged by `Store::apply_remote` (the sync path) in batches — the same rows, built by the
//! same merge code, without 99,000 separate desktop transactions. The bench checks that a resident
//! seeded this way reads exactly like one saved through the write path.
//!
//! Issue 11 §1: the whole bench runs twice in the same process, on a plain store and on an encrypted
//! one (SQLCipher, as every desktop store now is), and prints what encryption costs: the write path,
//! the sync merge (`apply_remote`) and every query, encrypted ÷ plain.
//!
//! JICENG_BENCH_RESIDENTS=n (default 100000), JICENG_BENCH_REPEAT=n (default 7; the median is printed),
//! JICENG_BENCH_PLAIN_ONLY=1 skips the encrypted run.

use chrono::{Duration, NaiveDate};
use jiceng_core::hlc::Hlc;
use jiceng_core::idcard;
use jiceng_core::keyring::DatabaseKey;
use jiceng_core::model::{OrgKind, ResidentInput, ResidentQuery, Role, SessionUser};
use jiceng_core::op::{Operation, SCHEMA_VERSION};
use jiceng_core::store::{NewUser, SiteIdentity, Store};
use serde_json::json;
use std::time::Instant;

const COMMUNITY: &str = "community-bench";
const PAGE_SIZE: u32 = 20; // the residents screen's page size (ui/src/views/ResidentList.vue)
const BATCH: usize = 5_000;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "欧阳", "司马", "𠮷", "䶮", "𡈼",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "𠀀", "𪚥", "玥", "喆", "淼", "鑫",
];
const AREAS: &[&str] = &["110101", "110105", "320102", "440305", "510104"];

struct Person {
    name: String,
    id_number: String,
    phone: String,
    building: String,
    unit: String,
    room: String,
}

fn person(i: usize) -> Person {
    let surname = SURNAMES[i % SURNAMES.len()];
    let given = GIVEN[(i / SURNAMES.len()) % GIVEN.len()];
    let given2 = GIVEN[(i / 7) % GIVEN.len()];
    // One in three names has two characters, the rest three (a match, not is_multiple_of: the workspace
    // still declares Rust 1.85).
    let name = match i % 3 {
        0 => format!("{surname}{given}"),
        _ => format!("{surname}{given}{given2}"),
    };
    let born = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + Duration::days((i % 25_000) as i64);
    let id_number = idcard::compose(AREAS[i % AREAS.len()], born, (i / 25_000) as u16 + 1);
    Person {
        name,
        id_number,
        phone: format!("13{:09}", i * 7919 % 1_000_000_000),
        building: format!("{}", i % 60 + 1),
        unit: format!("{}", i / 60 % 6 + 1),
        room: format!("{}{:02}", i / 360 % 18 + 1, i / 6480 % 4 + 1),
    }
}

fn input(p: &Person) -> ResidentInput {
    ResidentInput {
        id: None,
        name: p.name.clone(),
        id_number: p.id_number.clone(),
        phone: p.phone.clone(),
        building: p.building.clone(),
        unit: p.unit.clone(),
        room: p.room.clone(),
        household_head: false,
        special_groups: vec![],
        note: String::new(),
    }
}

/// The operations another workstation's `save_resident` would have logged for `p` (same fields, same
/// values), as the server hands them out.
fn ops_for(p: &Person, row: &str, seq: &mut u64, hlc: &mut Hlc) -> Vec<Operation> {
    let id = idcard::parse(&p.id_number).expect("composed numbers are valid");
    let fields = [
        ("org_unit_id", json!(COMMUNITY)),
        ("name", json!(p.name)),
        ("id_number", json!(id.number)),
        ("sex", json!(id.sex_code())),
        (
            "birth_date",
            json!(id.birth_date.format("%Y-%m-%d").to_string()),
        ),
        ("phone", json!(p.phone)),
        ("building", json!(p.building)),
        ("unit", json!(p.unit)),
        ("room", json!(p.room)),
        ("household_head", json!("no")),
        ("special_groups", json!("[]")),
        ("note", json!("")),
    ];
    fields
        .into_iter()
        .map(|(field, value)| {
            *seq += 1;
            *hlc = Hlc::tick(*hlc, 1_780_000_000_000);
            Operation {
                site_id: "other-pc".into(),
                site_seq: *seq,
                prev_hash: String::new(),
                hash: String::new(),
                table: "resident".into(),
                row_id: row.into(),
                field: field.into(),
                value,
                hlc: *hlc,
                base: None,
                user_id: "other-clerk".into(),
                schema_version: SCHEMA_VERSION,
                scope: COMMUNITY.into(),
                server_seq: Some(*seq),
            }
        })
        .collect()
}

fn setup(path: &std::path::Path, key: Option<&DatabaseKey>) -> (Store, SessionUser) {
    let mut store = match key {
        Some(key) => Store::open_encrypted(path, key).expect("encrypted store"),
        None => Store::open(path).expect("store"),
    };
    store
        .set_identity(&SiteIdentity {
            site_id: "bench".into(),
            site_name: "bench".into(),
            org_unit_id: COMMUNITY.into(),
            org_unit_name: "民安社区".into(),
            server_url: "http://127.0.0.1:9".into(),
            token: "t".into(),
            tls_pin: None,
        })
        .expect("identity");
    store
        .create_org_unit("setup", "district", None, OrgKind::District, "示范区")
        .unwrap();
    store
        .create_org_unit(
            "setup",
            "township",
            Some("district"),
            OrgKind::Township,
            "北新桥街道",
        )
        .unwrap();
    store
        .create_org_unit(
            "setup",
            COMMUNITY,
            Some("township"),
            OrgKind::Community,
            "民安社区",
        )
        .unwrap();
    store
        .create_user(
            "setup",
            &NewUser {
                username: "clerk".into(),
                display_name: "社区工作人员".into(),
                role: Role::CommunityClerk,
                org_unit_id: COMMUNITY.into(),
                password: "password-1".into(),
            },
        )
        .unwrap();
    let clerk = store.login("clerk", "password-1").unwrap();
    (store, clerk)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time_ms<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(repeat);
    let mut last = None;
    for _ in 0..repeat {
        let t = Instant::now();
        let out = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(out);
    }
    (median(times), last.expect("repeat > 0"))
}

/// What one run measured: seconds of the write path and of the sync merge, ms per query.
struct Figures {
    write_secs: f64,
    merge_secs: f64,
    queries: Vec<(String, f64)>,
}

fn main() {
    let n: usize = std::env::var("JICENG_BENCH_RESIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let repeat: usize = std::env::var("JICENG_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(1);
    println!("== plain store ==");
    let plain = run(n, repeat, None);
    if std::env::var("JICENG_BENCH_PLAIN_ONLY").is_ok() {
        return;
    }
    println!("\n== encrypted store (SQLCipher, raw 256-bit key) ==");
    let encrypted = run(n, repeat, Some(&DatabaseKey::generate()));
    println!("\n== cost of encryption (same run): encrypted ÷ plain ==");
    let line = |label: &str, p: f64, e: f64, unit: &str| {
        println!(
            "{label:<40} {p:>10.2} {e:>10.2} {unit:<3} {:>6.2}×",
            e / p.max(1e-9)
        );
    };
    println!(
        "{:<40} {:>10} {:>10} {:<3} {:>7}",
        "", "plain", "encrypted", "", "ratio"
    );
    line(
        "write path (save_resident ×1,000)",
        plain.write_secs,
        encrypted.write_secs,
        "s",
    );
    line(
        &format!("sync merge (apply_remote ×{})", n.saturating_sub(1_000)),
        plain.merge_secs,
        encrypted.merge_secs,
        "s",
    );
    for ((label, p), (_, e)) in plain.queries.iter().zip(&encrypted.queries) {
        line(label, *p, *e, "ms");
    }
}

fn run(n: usize, repeat: usize, key: Option<&DatabaseKey>) -> Figures {
    let dir = std::env::temp_dir().join(format!(
        "jiceng-residents-bench-{}-{}",
        std::process::id(),
        if key.is_some() { "encrypted" } else { "plain" }
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut store, clerk) = setup(&dir.join("site.db"), key);
    let mut queries = Vec::new();

    let t = Instant::now();
    let real = n.min(1_000);
    for i in 0..real {
        store
            .save_resident(&clerk, input(&person(i)))
            .expect("save");
    }
    let real_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (mut seq, mut hlc) = (0u64, Hlc::ZERO);
    let mut ops = Vec::with_capacity(BATCH * 12);
    // As a sync's pull merges: the page cache large for its length (store/page_cache.rs).
    store.bulk_page_cache(true).expect("bulk cache");
    for i in real..n {
        ops.extend(ops_for(&person(i), &format!("r{i:07}"), &mut seq, &mut hlc));
        if ops.len() >= BATCH * 12 || i + 1 == n {
            store.apply_remote(&ops, seq).expect("merge");
            ops.clear();
        }
    }
    store.bulk_page_cache(false).expect("resting cache");
    let sync_secs = t.elapsed().as_secs_f64();
    // No ANALYZE: a desktop store never runs it, so the plans measured are the ones clerks get.
    println!(
        "seeded {n} residents: {real} through save_resident in {real_secs:.1} s, {} through apply_remote in {sync_secs:.1} s",
        n - real
    );

    // The seeding path makes the same rows as the write path: a resident saved through save_resident and
    // the same person merged from operations read the same (apart from their ids and sync state).
    if n > real {
        let probe = person(n - 1);
        let query = |text: &str| ResidentQuery {
            text: Some(text.into()),
            page: 1,
            page_size: 10,
            include_deleted: true,
            ..Default::default()
        };
        let seeded = store
            .list_residents(&clerk, &query(&probe.id_number))
            .unwrap();
        let mut twin_store = setup(&dir.join("twin.db"), key);
        let saved = twin_store
            .0
            .save_resident(&twin_store.1, input(&probe))
            .unwrap();
        let mut a = seeded.items[0].clone();
        let mut b = saved;
        for r in [&mut a, &mut b] {
            r.id.clear();
            r.pending_sync = false;
        }
        assert_eq!(a, b, "a seeded row reads like a saved one");
    }

    let conn = store.connection();
    let plain = |sql: &str| {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .unwrap()
            .count();
        rows
    };
    let last_page = (n as u32).div_ceil(PAGE_SIZE);
    let probe = person(n / 2);
    let name_part: String = probe.name.chars().skip(1).take(2).collect();
    let initials = jiceng_core::search::pinyin_initials(&probe.name);
    let id_prefix = &probe.id_number[..10];
    let cols = "SELECT id, name, id_number FROM resident";
    let cases: Vec<(String, ResidentQuery, String)> = vec![
        (
            "page 1".into(),
            ResidentQuery {
                page: 1,
                ..Default::default()
            },
            format!("{cols} LIMIT {PAGE_SIZE}"),
        ),
        (
            "page 2,000".into(),
            ResidentQuery {
                page: 2_000,
                ..Default::default()
            },
            format!("{cols} LIMIT {PAGE_SIZE} OFFSET {}", 1_999 * PAGE_SIZE),
        ),
        (
            format!("last page ({last_page})"),
            ResidentQuery {
                page: last_page,
                ..Default::default()
            },
            format!(
                "{cols} LIMIT {PAGE_SIZE} OFFSET {}",
                (last_page - 1) * PAGE_SIZE
            ),
        ),
        (
            format!("name \"{name_part}\""),
            ResidentQuery {
                text: Some(name_part.clone()),
                page: 1,
                ..Default::default()
            },
            format!("{cols} WHERE name LIKE '%{name_part}%' LIMIT {PAGE_SIZE}"),
        ),
        (
            format!("initials \"{initials}\""),
            ResidentQuery {
                text: Some(initials.clone()),
                page: 1,
                ..Default::default()
            },
            format!("{cols} WHERE name_initials LIKE '{initials}%' LIMIT {PAGE_SIZE}"),
        ),
        (
            format!("ID prefix \"{id_prefix}\""),
            ResidentQuery {
                text: Some(id_prefix.to_string()),
                page: 1,
                ..Default::default()
            },
            format!("{cols} WHERE id_number LIKE '{id_prefix}%' LIMIT {PAGE_SIZE}"),
        ),
    ];
    println!(
        "{:<28} {:>10} {:>8} {:>12} {:>8}",
        "query (page size 20)", "list ms", "total", "baseline ms", "ratio"
    );
    let mut worst: f64 = 0.0;
    for (label, mut query, baseline_sql) in cases {
        if query.page > last_page {
            continue;
        }
        query.page_size = PAGE_SIZE;
        let (ms, page) = time_ms(repeat, || {
            store.list_residents(&clerk, &query).expect("list")
        });
        let (base_ms, base_rows) = time_ms(repeat, || plain(&baseline_sql));
        assert!(!page.items.is_empty() && base_rows > 0, "{label}: no rows");
        worst = worst.max(ms);
        queries.push((label.clone(), ms));
        println!(
            "{label:<28} {ms:>10.2} {:>8} {base_ms:>12.3} {:>7.1}×",
            page.total,
            ms / base_ms.max(0.001)
        );
    }
    println!("slowest list_residents: {worst:.1} ms (goal: under ~50 ms)");
    // The person index (一人一档) searches the register through the same indexed path.
    for text in [name_part.as_str(), initials.as_str(), id_prefix] {
        let query = jiceng_core::model::CaseQuery {
            text: Some(text.to_string()),
            page: 1,
            page_size: PAGE_SIZE,
            include_deleted: false,
        };
        let (ms, page) = time_ms(repeat, || {
            store.search_people(&clerk, &query).expect("people")
        });
        println!(
            "search_people \"{text}\": {ms:.2} ms, {} people",
            page.total
        );
        queries.push((format!("search_people \"{text}\""), ms));
    }
    drop(store);
    if std::env::var("JICENG_BENCH_KEEP").is_ok() {
        println!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Figures {
        write_secs: real_secs,
        merge_secs: sync_secs,
        queries,
    }
}
