//! Property test of the merge (ARCHITECTURE.md "Convergence"): five or more replicas make random creates,
//! edits, deletes and restores with skewed wall clocks, exchange operations in random subsets, orders,
//! duplicates and split batches, and finally everyone receives everything. Then every replica must hold
//! identical tables and conflict items, and no overwritten concurrent value may be missing a conflict item.
//!
//! Cases: 1,000 by default; set JICENG_PROPTEST_CASES for more.

mod common_setup;

use jiceng_core::merge::FieldVersion;
use jiceng_core::op::Operation;
use jiceng_core::store::{Store, WriteChange};
use jiceng_core::tables::{self, DELETED_FIELD};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const ROWS: usize = 3;
const FIELDS: [&str; 3] = ["name", "status", "sentence_end"];
/// Valid values per field (the write path checks them with core's validators).
const VALUES: [[&str; 4]; 3] = [
    ["甲", "乙", "𠀀", "丁"],
    ["received", "reported", "in_correction", "released"],
    ["2026-01-31", "2026-02-28", "2027-03-01", "2028-02-29"],
];
const NOTES: [&str; 3] = ["准时报到", "电话报到", "𠀀补记"];

#[derive(Debug, Clone)]
enum Step {
    Edit {
        replica: usize,
        row: usize,
        field: usize,
        value: usize,
    },
    Delete {
        replica: usize,
        row: usize,
    },
    Restore {
        replica: usize,
        row: usize,
    },
    /// Records an append-only check-in (issue 9): a replica that does not hold the row yet creates
    /// it, so two replicas may create one row with different values, and the creation that came
    /// first must show everywhere; a replica that holds it is refused by its write path.
    Record {
        replica: usize,
        row: usize,
        note: usize,
    },
    /// Deliver a random selection (by these picks) of all operations so far to a replica.
    Deliver {
        replica: usize,
        picks: Vec<usize>,
        split: usize,
    },
}

fn step(replicas: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..replicas, 0..ROWS, 0..FIELDS.len(), 0..VALUES.len())
            .prop_map(|(replica, row, field, value)| Step::Edit { replica, row, field, value }),
        1 => (0..replicas, 0..ROWS).prop_map(|(replica, row)| Step::Delete { replica, row }),
        1 => (0..replicas, 0..ROWS).prop_map(|(replica, row)| Step::Restore { replica, row }),
        2 => (0..replicas, 0..ROWS, 0..NOTES.len())
            .prop_map(|(replica, row, note)| Step::Record { replica, row, note }),
        3 => (0..replicas, prop::collection::vec(any::<usize>(), 0..12), 1..5usize)
            .prop_map(|(replica, picks, split)| Step::Deliver { replica, picks, split }),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    /// Per replica, its wall-clock offset in ms (some PCs run hours behind or ahead).
    skews: Vec<i64>,
    steps: Vec<Step>,
    /// Final delivery: a permutation seed and duplication per replica.
    final_orders: Vec<Vec<usize>>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (5..=7usize).prop_flat_map(|replicas| {
        (
            prop::collection::vec(-7_200_000i64..7_200_000, replicas),
            prop::collection::vec(step(replicas), 1..40),
            prop::collection::vec(prop::collection::vec(any::<usize>(), 0..30), replicas),
        )
            .prop_map(|(skews, steps, final_orders)| Scenario {
                skews,
                steps,
                final_orders,
            })
    })
}

fn row_id(row: usize) -> String {
    format!("0190000{row}-0000-7000-8000-000000000000")
}

fn make_replica(index: usize, skew: i64, tick: Arc<std::sync::atomic::AtomicU64>) -> Store {
    let base = 1_790_000_000_000i64;
    let clock = Arc::new(move || {
        (base + skew + tick.load(std::sync::atomic::Ordering::SeqCst) as i64) as u64
    });
    let mut store = Store::open_in_memory().expect("store").with_clock(clock);
    store
        .set_identity(&common_setup::identity(&format!("site-{index}")))
        .expect("identity");
    store
}

fn deliver(store: &mut Store, ops: &[Operation], split: usize) {
    for batch in ops.chunks(split.max(1)) {
        store.apply_remote(batch, 0).expect("apply");
    }
}

/// Every case row (id, field history, deletion flag) and every conflict id of a replica.
type Snapshot = (Vec<(String, Vec<u8>, Option<i64>)>, BTreeSet<String>);

fn snapshot(store: &Store) -> Snapshot {
    let conn = store.connection();
    let mut stmt = conn
        .prepare(
            "SELECT id, _versions, _deleted FROM corr_case UNION ALL \
             SELECT id || ':' || COALESCE(note, ''), _versions, _deleted FROM corr_checkin ORDER BY 1",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut stmt = conn.prepare("SELECT id FROM conflict").unwrap();
    let conflicts = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (rows, conflicts)
}

fn run(s: &Scenario) -> Result<(), TestCaseError> {
    let tick = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut replicas: Vec<Store> = s
        .skews
        .iter()
        .enumerate()
        .map(|(i, skew)| make_replica(i, *skew, tick.clone()))
        .collect();
    let table = tables::table("corr_case").unwrap();
    let checkins = tables::table("corr_checkin").unwrap();
    // Every write names the row's owner (a new row's first operation must; later it is unchanged).
    let owner = || WriteChange::new("org_unit_id", "office-1");
    let mut all_ops: Vec<Operation> = Vec::new();
    for step in &s.steps {
        tick.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let written = match step {
            Step::Edit {
                replica,
                row,
                field,
                value,
            } => replicas[*replica]
                .write_row(
                    "u",
                    table,
                    &row_id(*row),
                    "office-1",
                    &[
                        owner(),
                        WriteChange::new(FIELDS[*field], VALUES[*field][*value]),
                    ],
                )
                .expect("edit"),
            Step::Delete { replica, row } => replicas[*replica]
                .write_row(
                    "u",
                    table,
                    &row_id(*row),
                    "office-1",
                    &[owner(), WriteChange::new(DELETED_FIELD, true)],
                )
                .expect("delete"),
            Step::Restore { replica, row } => replicas[*replica]
                .write_row(
                    "u",
                    table,
                    &row_id(*row),
                    "office-1",
                    &[owner(), WriteChange::new(DELETED_FIELD, false)],
                )
                .expect("restore"),
            Step::Record { replica, row, note } => {
                match replicas[*replica].write_row(
                    "u",
                    checkins,
                    &row_id(*row),
                    "office-1",
                    &[
                        owner(),
                        WriteChange::new("case_id", row_id(0)),
                        WriteChange::new("note", NOTES[*note]),
                    ],
                ) {
                    Ok(ops) => ops,
                    Err(jiceng_core::CoreError::AppendOnly(_)) => Vec::new(),
                    Err(e) => panic!("record: {e}"),
                }
            }
            Step::Deliver {
                replica,
                picks,
                split,
            } => {
                if !all_ops.is_empty() {
                    let chosen: Vec<Operation> = picks
                        .iter()
                        .map(|p| all_ops[p % all_ops.len()].clone())
                        .collect();
                    deliver(&mut replicas[*replica], &chosen, *split);
                }
                Vec::new()
            }
        };
        all_ops.extend(written);
    }
    // Everyone receives everything: shuffled by the scenario's picks, with duplicates, in split batches.
    for (i, store) in replicas.iter_mut().enumerate() {
        let mut order: Vec<Operation> = Vec::new();
        for p in &s.final_orders[i] {
            if !all_ops.is_empty() {
                order.push(all_ops[p % all_ops.len()].clone());
            }
        }
        let rotate = s.final_orders[i].first().copied().unwrap_or(0) % all_ops.len().max(1);
        let mut rest = all_ops.clone();
        rest.rotate_left(rotate);
        if i % 2 == 1 {
            rest.reverse();
        }
        order.extend(rest);
        deliver(store, &order, 1 + i % 4);
    }
    let reference = snapshot(&replicas[0]);
    for (i, store) in replicas.iter().enumerate().skip(1) {
        prop_assert_eq!(&snapshot(store), &reference, "replica {} diverged", i);
    }
    check_no_silent_loss(&replicas[0])?;
    check_first_record_shows(&replicas[0])?;
    Ok(())
}

/// An append-only row shows the value of its first version, the one every replica agrees on.
fn check_first_record_shows(store: &Store) -> Result<(), TestCaseError> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT id, note, _versions FROM corr_checkin")
        .unwrap();
    let rows: Vec<(String, Option<String>, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (id, note, versions) in rows {
        let versions = jiceng_core::codec::decode_row(&versions).unwrap();
        let first = versions
            .fields
            .get("note")
            .and_then(|v| v.first())
            .and_then(|v| v.value().as_str().map(str::to_string));
        prop_assert_eq!(note, first, "check-in {} shows a rewrite", id);
    }
    Ok(())
}

/// Every version that lost to a different value either was knowingly overwritten (a later write was based
/// on it or on something newer) or appears in a conflict item.
fn check_no_silent_loss(store: &Store) -> Result<(), TestCaseError> {
    let conn = store.connection();
    let mut in_conflict: BTreeSet<(String, String, u64, String)> = BTreeSet::new();
    let mut stmt = conn
        .prepare("SELECT row_id, field, newer_json, older_json FROM conflict")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (row_id, field, newer, older) = row.unwrap();
        for v in [newer, older] {
            let v: FieldVersion = serde_json::from_str(&v).unwrap();
            in_conflict.insert((row_id.clone(), field.clone(), v.0 .0, v.1.clone()));
        }
    }
    // Append-only rows keep their first version on purpose (checked by check_first_record_shows).
    let mut stmt = conn.prepare("SELECT id, _versions FROM corr_case").unwrap();
    let rows: Vec<(String, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (row_id, text) in rows {
        let versions = jiceng_core::codec::decode_row(&text).unwrap();
        let mut bases: BTreeMap<&str, Vec<(u64, String)>> = BTreeMap::new();
        for (field, list) in &versions.fields {
            bases.entry(field.as_str()).or_default().extend(
                list.iter()
                    .filter_map(|v| v.3.as_ref().map(|(h, s)| (h.0, s.clone()))),
            );
        }
        for (field, list) in &versions.fields {
            let Some(winner) = list.last() else { continue };
            for v in list {
                if v.value() == winner.value() {
                    continue;
                }
                let key = (v.0 .0, v.1.clone());
                let overwritten_knowingly = bases
                    .get(field.as_str())
                    .is_some_and(|b| b.iter().any(|b| *b >= key));
                let flagged =
                    in_conflict.contains(&(row_id.clone(), field.clone(), v.0 .0, v.1.clone()));
                prop_assert!(
                    overwritten_knowingly || flagged,
                    "value {:?} of {}.{} was lost without a conflict item",
                    v.value(),
                    row_id,
                    field
                );
            }
        }
    }
    Ok(())
}

#[test]
fn replicas_converge_and_keep_every_concurrent_value() {
    let cases: u32 = std::env::var("JICENG_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    runner
        .run(&scenario(), |s| run(&s))
        .expect("convergence property");
    // Printed so the test output shows how many cases ran (run with --nocapture to see it).
    println!(
        "convergence property: {cases} cases of 5-7 replicas passed in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
