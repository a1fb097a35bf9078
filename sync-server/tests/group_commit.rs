//! Issue 12 §4, group commit: the pushes waiting for the writer are merged together, each answered
//! as if alone. Three offices push at once: two good pushes and one with a gap in its sequence. The
//! good ones are merged and acknowledged operation by operation; the bad one alone is refused with
//! its gap. The same pushes again are recognised as duplicates with the same server sequence numbers.
//! Two pushes of one site in one group are merged one after the other. On both backends: SQLite
//! merges the group in one transaction; PostgreSQL in one transaction under one hold of the log's
//! lock, each push in a savepoint of its own (PostgreSQL in a throw-away cluster, tests/src/pg.rs).

#[path = "../../tests/src/pg.rs"]
mod pg;

use jiceng_core::model::{OrgKind, Role};
use jiceng_core::store::{SiteIdentity, Store, WriteChange};
use jiceng_core::tables;
use jiceng_core::wire::{EnrolRequest, PushRequest};
use jiceng_server::error::ServerError;
use jiceng_server::master::{MasterStore, PgMaster, SiteAuth, SqliteMaster};
use std::sync::Arc;

const NOW_MS: u64 = 1_796_004_000_000;

struct Office {
    auth: SiteAuth,
    store: Store,
    author: String,
    unit: String,
}

fn office(master: &mut dyn MasterStore, district: &str, name: &str, i: usize) -> Office {
    let unit = master
        .add_org_unit(Some(district), OrgKind::Township, name)
        .unwrap();
    let author = master
        .add_user(
            &format!("officer{i}"),
            &format!("专干{i}"),
            Role::JudicialOfficer,
            &unit,
            "password-1",
        )
        .unwrap();
    let (_, code) = master.add_site(&unit, name, NOW_MS - 86_400_000).unwrap();
    let enrolled = master
        .enrol(
            &EnrolRequest {
                code,
                device_label: name.to_string(),
                db_instance_id: name.to_string(),
            },
            NOW_MS,
        )
        .unwrap();
    let auth = master.authenticate(&enrolled.token).unwrap();
    let mut store = Store::open_in_memory()
        .unwrap()
        .with_clock(Arc::new(|| NOW_MS));
    store
        .set_identity(&SiteIdentity {
            site_id: auth.site_id.clone(),
            site_name: name.to_string(),
            org_unit_id: unit.clone(),
            org_unit_name: name.to_string(),
            server_url: String::new(),
            token: String::new(),
            tls_pin: None,
        })
        .unwrap();
    Office {
        auth,
        store,
        author,
        unit,
    }
}

fn cases(office: &mut Office, rows: usize, tag: &str) -> PushRequest {
    let def = tables::table("corr_case").unwrap();
    for r in 0..rows {
        office
            .store
            .write_row(
                &office.author,
                def,
                &format!("{tag}-{r}"),
                &office.unit,
                &[
                    WriteChange::new("org_unit_id", office.unit.clone()),
                    WriteChange::new("name", format!("对象{tag}{r}")),
                ],
            )
            .unwrap();
    }
    PushRequest {
        db_instance_id: office.auth.site_id.clone(),
        ops: office.store.unacked_ops(100_000).unwrap(),
        divergent: Vec::new(),
    }
}

#[test]
fn a_group_of_pushes_is_merged_together_and_one_bad_push_fails_alone() {
    let sqlite: Box<dyn MasterStore> = Box::new(
        SqliteMaster::open_in_memory()
            .unwrap()
            .with_clock(Arc::new(|| NOW_MS)),
    );
    let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
    let url = cluster.fresh_database("group-commit").unwrap();
    let postgres: Box<dyn MasterStore> = Box::new(
        PgMaster::open(&url)
            .unwrap()
            .with_clock(Arc::new(|| NOW_MS)),
    );
    for (backend, mut master) in [("sqlite", sqlite), ("postgres", postgres)] {
        eprintln!("== {backend}");
        group_of_pushes(master.as_mut());
    }
}

fn group_of_pushes(master: &mut dyn MasterStore) {
    let district = master.add_org_unit(None, OrgKind::District, "区").unwrap();
    let mut a = office(master, &district, "甲乡", 1);
    let mut b = office(master, &district, "乙镇", 2);
    let mut c = office(master, &district, "丙镇", 3);
    let push_a = cases(&mut a, 5, "a");
    let push_b = cases(&mut b, 4, "b");
    let mut push_c = cases(&mut c, 3, "c");
    push_c.ops.remove(0); // a gap: the office's first operation is missing
    let sizes = (push_a.ops.len(), push_b.ops.len());
    let group = vec![
        (a.auth.clone(), push_a.clone()),
        (b.auth.clone(), push_b.clone()),
        (c.auth.clone(), push_c),
    ];
    let results = master.push_group(group, NOW_MS);
    assert_eq!(results.len(), 3);
    let first_a = results[0].as_ref().expect("a merged");
    let first_b = results[1].as_ref().expect("b merged");
    assert!(
        matches!(results[2], Err(ServerError::Gap { .. })),
        "{:?}",
        results[2]
    );
    assert_eq!(first_a.acks.len(), sizes.0);
    assert_eq!(first_b.acks.len(), sizes.1);
    // Each answer acknowledges exactly its own operations, in order.
    let seqs =
        |acks: &[jiceng_core::wire::Ack]| acks.iter().map(|a| a.site_seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(&first_a.acks),
        (1..=sizes.0 as u64).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&first_b.acks),
        (1..=sizes.1 as u64).collect::<Vec<_>>()
    );
    let mut server_seqs: Vec<u64> = first_a
        .acks
        .iter()
        .chain(&first_b.acks)
        .map(|a| a.server_seq)
        .collect();
    server_seqs.sort_unstable();
    server_seqs.dedup();
    assert_eq!(
        server_seqs.len(),
        sizes.0 + sizes.1,
        "one server_seq per operation"
    );
    for (site, office) in [("a", &a), ("b", &b)] {
        let page = master.pull(&office.auth, 0, 1000, NOW_MS).unwrap();
        assert!(page.ops.iter().all(|o| o.site_id != office.auth.site_id));
        let rows = master
            .records(
                &office.auth,
                "corr_case",
                jiceng_server::master::RecordsPage {
                    after: None,
                    offset: 0,
                    limit: 100,
                },
            )
            .unwrap();
        assert_eq!(
            rows.iter()
                .filter(|r| r["id"].as_str().unwrap_or("").starts_with(site))
                .count(),
            if site == "a" { 5 } else { 4 }
        );
    }
    // The same pushes again: duplicates, the same server_seqs.
    let again = master.push_group(
        vec![(a.auth.clone(), push_a.clone()), (b.auth.clone(), push_b)],
        NOW_MS,
    );
    let again_a = again[0].as_ref().unwrap();
    assert_eq!(again_a.duplicates as usize, sizes.0);
    assert_eq!(again_a.acks, first_a.acks);
    // Two pushes of one site in one group: merged one after the other.
    let second = cases(&mut a, 2, "a2");
    let tail = PushRequest {
        ops: second
            .ops
            .iter()
            .filter(|o| o.site_seq > sizes.0 as u64)
            .cloned()
            .collect(),
        ..second
    };
    let both = master.push_group(
        vec![(a.auth.clone(), push_a), (a.auth.clone(), tail.clone())],
        NOW_MS,
    );
    assert!(both.iter().all(|r| r.is_ok()), "{both:?}");
    assert_eq!(both[1].as_ref().unwrap().acks.len(), tail.ops.len());
}
