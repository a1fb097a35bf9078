//! The merge benchmarks' workload (`merge.rs` on SQLite, `merge_postgres.rs` on PostgreSQL): 20 sites
//! each create 500 corrections cases (9 fields) and then edit one field of each, written through
//! core's real write path, and ingested in batches of 10,000.

#![allow(dead_code)] // each bench uses its part

use jiceng_core::model::OrgKind;
use jiceng_core::op::Operation;
use jiceng_core::store::{Store, WriteChange};
use jiceng_core::tables;
use jiceng_server::master::MasterStore;

pub const SITES: usize = 20;
pub const ROWS_PER_SITE: usize = 500;
pub const BATCH: usize = 10_000;
pub const CASE_FIELDS: [&str; 9] = [
    "org_unit_id",
    "name",
    "id_number",
    "sex",
    "birth_date",
    "kind",
    "sentence_start",
    "sentence_end",
    "status",
];

/// CPU time of this process (all its threads), in seconds: unlike wall time it does not count the
/// time other processes on a shared machine hold the cores (it still counts cache and frequency
/// effects). Process, not thread: the merge writes the audit log on a second thread.
pub fn process_cpu() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Writes every site's operations through the real local write path.
pub fn generate(site_ids: &[String], unit: &str) -> Vec<Vec<Operation>> {
    let table = tables::table("corr_case").expect("corr_case");
    site_ids
        .iter()
        .enumerate()
        .map(|(s, site_id)| {
            let mut store = Store::open_in_memory().expect("store");
            store
                .set_identity(&jiceng_core::store::SiteIdentity {
                    site_id: site_id.clone(),
                    site_name: site_id.clone(),
                    org_unit_id: unit.to_string(),
                    org_unit_name: String::new(),
                    server_url: String::new(),
                    token: String::new(),
                    tls_pin: None,
                })
                .expect("identity");
            let mut rows = Vec::new();
            for r in 0..ROWS_PER_SITE {
                let row_id = uuid::Uuid::now_v7().to_string();
                let birth = chrono::NaiveDate::from_ymd_opt(1960, 1, 1).unwrap()
                    + chrono::Days::new((s * 1000 + r) as u64);
                let changes = [
                    WriteChange::new("org_unit_id", unit),
                    WriteChange::new("name", format!("对象{s}-{r}𠀀")),
                    WriteChange::new(
                        "id_number",
                        jiceng_core::idcard::compose("110101", birth, 11),
                    ),
                    WriteChange::new("sex", "male"),
                    WriteChange::new("birth_date", birth.format("%Y-%m-%d").to_string()),
                    WriteChange::new("kind", "probation"),
                    WriteChange::new("sentence_start", "2026-01-01"),
                    WriteChange::new("sentence_end", "2027-01-01"),
                    WriteChange::new("status", "received"),
                ];
                store
                    .write_row("bench", table, &row_id, unit, &changes)
                    .expect("create");
                rows.push(row_id);
            }
            for row_id in &rows {
                store
                    .write_row(
                        "bench",
                        table,
                        row_id,
                        unit,
                        &[WriteChange::new("status", "in_correction")],
                    )
                    .expect("edit");
            }
            store.own_log().expect("log")
        })
        .collect()
}

/// Batches of 10,000: each batch takes the next slice of every site's log, keeping per-site order.
pub fn batches(logs: &[Vec<Operation>]) -> Vec<Vec<Operation>> {
    let per_site = BATCH / logs.len();
    let rounds = logs
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .div_ceil(per_site);
    (0..rounds)
        .map(|k| {
            logs.iter()
                .flat_map(|log| log.iter().skip(k * per_site).take(per_site).cloned())
                .collect()
        })
        .collect()
}

/// A district with one township and `site_count` sites there: (the sites' ids, the township's id).
pub fn district_with_sites(
    master: &mut dyn MasterStore,
    site_count: usize,
) -> (Vec<String>, String) {
    let district = master
        .add_org_unit(None, OrgKind::District, "区")
        .expect("district");
    let unit = master
        .add_org_unit(Some(&district), OrgKind::Township, "乡")
        .expect("township");
    let sites = (0..site_count)
        .map(|i| {
            master
                .add_site(&unit, &format!("site {i}"), 0)
                .expect("site")
                .0
        })
        .collect();
    (sites, unit)
}
