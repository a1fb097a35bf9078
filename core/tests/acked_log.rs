//! Issue 12 §5: the site's log knows which operations the server acknowledged as ranges of site_seqs
//! (store schema 35, `oplog_acked`), not as a number written into every log row. Whatever order and
//! part the server acknowledges in, exactly the rest waits to be sent, the lists' "not yet sent" mark
//! follows, a resync puts back exactly what it must, and a store of schema 34 keeps what it knew.

mod common_setup;

use common_setup::{case_input, fixed_clock, identity, office_store, seed_office_user};
use jiceng_core::model::{CaseQuery, SessionUser};
use jiceng_core::op::Operation;
use jiceng_core::resync::Resync;
use jiceng_core::store::Store;
use std::collections::BTreeSet;

const ID_NUMBERS: [&str; 5] = [
    "110101199003071014",
    "110101199003071030",
    "110101199003071057",
    "110101199003071073",
    "11010119900307109X",
];

/// Five cases (names with 4-byte characters); each case's id and the site_seqs of its operations.
fn five_cases(store: &mut Store, user: &SessionUser) -> Vec<(String, Vec<u64>)> {
    let mut cases = Vec::new();
    for (i, id_number) in ID_NUMBERS.iter().enumerate() {
        let before = store.own_log().unwrap().len();
        let saved = store
            .save_case(user, case_input(&format!("𠀀案{i}"), id_number))
            .unwrap();
        let seqs = store.own_log().unwrap()[before..]
            .iter()
            .map(|op| op.site_seq)
            .collect();
        cases.push((saved.id, seqs));
    }
    cases
}

/// Each case's "not yet sent" mark, by case id.
fn pending(store: &Store, user: &SessionUser) -> Vec<(String, bool)> {
    let page = store
        .list_cases(
            user,
            &CaseQuery {
                text: None,
                page: 1,
                page_size: 50,
                include_deleted: false,
            },
        )
        .unwrap();
    let mut marks: Vec<(String, bool)> = page
        .items
        .into_iter()
        .map(|c| (c.id, c.pending_sync))
        .collect();
    marks.sort();
    marks
}

fn seqs(ops: &[Operation]) -> Vec<u64> {
    ops.iter().map(|op| op.site_seq).collect()
}

fn ranges(store: &Store) -> Vec<(i64, i64)> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT first_site_seq, last_site_seq FROM oplog_acked ORDER BY first_site_seq")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn acknowledgements_in_any_order_and_part_leave_exactly_the_rest_waiting() {
    let (mut store, user) = office_store("acked-order");
    let cases = five_cases(&mut store, &user);
    let all: Vec<u64> = seqs(&store.own_log().unwrap());
    assert_eq!(seqs(&store.unacked_ops(usize::MAX).unwrap()), all);

    // The server acknowledges cases 4, 0 and 2, last first, with made-up numbers out of order.
    let mut acks: Vec<(u64, u64)> = Vec::new();
    for i in [4usize, 0, 2] {
        for (k, seq) in cases[i].1.iter().rev().enumerate() {
            acks.push((*seq, 9_000 - (i * 100 + k) as u64));
        }
    }
    store.mark_acked(&acks).unwrap();
    let acked: BTreeSet<u64> = acks.iter().map(|a| a.0).collect();
    let waiting: Vec<u64> = all.iter().copied().filter(|s| !acked.contains(s)).collect();
    assert!(!waiting.is_empty() && waiting.len() < all.len());
    assert_eq!(seqs(&store.unacked_ops(usize::MAX).unwrap()), waiting);
    assert_eq!(store.unacked_count().unwrap() as usize, waiting.len());
    // In batches, as the push reads them: each from after the last one sent, none lost or doubled.
    let mut batched = Vec::new();
    let mut after = None;
    loop {
        let batch = store.unacked_ops_after(after, 3).unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.site_seq);
        batched.extend(seqs(&batch));
    }
    assert_eq!(batched, waiting);
    assert_eq!(store.acked_up_to().unwrap(), *acked.last().unwrap());
    let expected: Vec<(String, bool)> = {
        let mut marks: Vec<(String, bool)> = cases
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), ![4, 0, 2].contains(&i)))
            .collect();
        marks.sort();
        marks
    };
    assert_eq!(pending(&store, &user), expected);

    // Acknowledged again (a retried push's answer): nothing changes.
    let rows_before = ranges(&store);
    store.mark_acked(&acks).unwrap();
    assert_eq!(ranges(&store), rows_before);

    // The rest: nothing waits, no case is marked, and the log's acknowledgements are one row.
    let rest: Vec<(u64, u64)> = waiting.iter().map(|s| (*s, 10_000 + s)).collect();
    store.mark_acked(&rest).unwrap();
    assert!(store.unacked_ops(usize::MAX).unwrap().is_empty());
    assert_eq!(store.unacked_count().unwrap(), 0);
    assert!(pending(&store, &user).iter().all(|(_, marked)| !marked));
    assert_eq!(
        ranges(&store),
        vec![(all[0] as i64, *all.last().unwrap() as i64)]
    );

    // Written after: waits, and only it.
    let later = store.own_log().unwrap().len();
    store
        .save_case(&user, case_input("𪚥新", "110101199003071110"))
        .unwrap();
    let new: Vec<u64> = seqs(&store.own_log().unwrap()[later..]);
    assert_eq!(seqs(&store.unacked_ops(usize::MAX).unwrap()), new);
}

#[test]
fn a_resync_puts_back_exactly_what_was_acknowledged_after_its_point() {
    let (mut store, user) = office_store("acked-resync");
    let cases = five_cases(&mut store, &user);
    let all: Vec<u64> = seqs(&store.own_log().unwrap());
    let acks: Vec<(u64, u64)> = all.iter().map(|s| (*s, s + 500)).collect();
    store.mark_acked(&acks).unwrap();
    assert_eq!(store.unacked_count().unwrap(), 0);

    // The master lacks everything after case 2's last operation.
    let point = *cases[2].1.last().unwrap();
    let put_back = store
        .apply_resync(&Resync {
            resend_after: Some(point),
            ..Resync::default()
        })
        .unwrap();
    let after: Vec<u64> = all.iter().copied().filter(|s| *s > point).collect();
    assert_eq!(put_back as usize, after.len());
    assert_eq!(seqs(&store.unacked_ops(usize::MAX).unwrap()), after);
    assert_eq!(store.acked_up_to().unwrap(), point);
    let marks = pending(&store, &user);
    for (i, (id, _)) in cases.iter().enumerate() {
        let marked = marks.iter().find(|(m, _)| m == id).unwrap().1;
        assert_eq!(marked, i > 2, "case {i}");
    }
    // Nothing acknowledged after the point: putting back again puts back nothing.
    let again = store
        .apply_resync(&Resync {
            resend_after: Some(point),
            ..Resync::default()
        })
        .unwrap();
    assert_eq!(again, 0);
}

#[test]
fn a_store_of_schema_34_keeps_what_the_server_acknowledged_when_it_opens() {
    let dir = std::env::temp_dir().join(format!("jiceng-acked-34-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("site.sqlite");
    let (all, acked, cases) = {
        let mut old = Store::open_at_schema(&path, 34)
            .unwrap()
            .with_clock(fixed_clock());
        old.set_identity(&identity("laptop-34")).unwrap();
        let user = seed_office_user(&mut old);
        let cases = five_cases(&mut old, &user);
        let all: Vec<u64> = seqs(&old.own_log().unwrap());
        // As schema 34 kept them: the server's number in each acknowledged row. Everything up to
        // case 1, and case 3; case 2 and case 4 wait.
        let acked: Vec<u64> = all
            .iter()
            .copied()
            .filter(|s| {
                *s <= *cases[1].1.last().unwrap()
                    || (cases[3].1.first().unwrap()..=cases[3].1.last().unwrap()).contains(&s)
            })
            .collect();
        for seq in &acked {
            old.connection()
                .execute(
                    "UPDATE oplog SET server_seq = ?2 WHERE site_seq = ?1",
                    [*seq as i64, 70_000 + *seq as i64],
                )
                .unwrap();
        }
        (all, acked, cases)
    };
    let mut store = Store::open(&path).unwrap().with_clock(fixed_clock());
    assert_eq!(
        store.schema_version().unwrap(),
        jiceng_core::store::STORE_SCHEMA
    );
    let waiting: Vec<u64> = all.iter().copied().filter(|s| !acked.contains(s)).collect();
    assert_eq!(seqs(&store.unacked_ops(usize::MAX).unwrap()), waiting);
    assert_eq!(store.unacked_count().unwrap() as usize, waiting.len());
    let c1 = *cases[1].1.last().unwrap() as i64;
    let c3 = (
        *cases[3].1.first().unwrap() as i64,
        *cases[3].1.last().unwrap() as i64,
    );
    assert_eq!(ranges(&store), vec![(all[0] as i64, c1), c3]);
    let user = store.login("officer", "password-1").unwrap();
    let marks = pending(&store, &user);
    for (i, (id, _)) in cases.iter().enumerate() {
        let marked = marks.iter().find(|(m, _)| m == id).unwrap().1;
        assert_eq!(marked, i == 2 || i == 4, "case {i}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
