//! A push's acknowledgements as runs: consecutive site_seqs acknowledged with consecutive server_seqs
//! (the usual case: the server numbers a push's new operations in order), so the store marks a run
//! with one statement instead of one per operation.

/// Operations `first_site_seq..=last_site_seq`, stored as `first_server_seq` onwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckRun {
    pub first_site_seq: u64,
    pub last_site_seq: u64,
    pub first_server_seq: u64,
}

/// `(site_seq, server_seq)` pairs, in any order, as runs covering exactly those pairs.
pub fn ack_runs(acks: &[(u64, u64)]) -> Vec<AckRun> {
    let mut sorted = acks.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<AckRun> = Vec::new();
    for (site_seq, server_seq) in sorted {
        match runs.last_mut() {
            Some(run)
                if run.last_site_seq.checked_add(1) == Some(site_seq)
                    && run
                        .first_server_seq
                        .checked_add(site_seq - run.first_site_seq)
                        == Some(server_seq) =>
            {
                run.last_site_seq = site_seq;
            }
            _ => runs.push(AckRun {
                first_site_seq: site_seq,
                last_site_seq: site_seq,
                first_server_seq: server_seq,
            }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair the runs stand for, in order.
    fn pairs(runs: &[AckRun]) -> Vec<(u64, u64)> {
        runs.iter()
            .flat_map(|r| {
                (r.first_site_seq..=r.last_site_seq)
                    .map(move |s| (s, r.first_server_seq + (s - r.first_site_seq)))
            })
            .collect()
    }

    #[test]
    fn a_push_numbered_in_order_is_one_run() {
        let acks: Vec<(u64, u64)> = (5..1005).map(|s| (s, s + 70_000)).collect();
        let runs = ack_runs(&acks);
        assert_eq!(
            runs,
            vec![AckRun {
                first_site_seq: 5,
                last_site_seq: 1004,
                first_server_seq: 70_005
            }]
        );
    }

    #[test]
    fn duplicates_gaps_and_interleaved_numbers_split_runs_and_lose_nothing() {
        // 3 was stored earlier (an old server_seq), 6 is missing, 9 and 10 were numbered apart.
        let acks = [
            (1, 100),
            (2, 101),
            (3, 7),
            (4, 103),
            (5, 104),
            (7, 105),
            (9, 200),
            (10, 300),
            (2, 101),
        ];
        let runs = ack_runs(&acks);
        let mut expected: Vec<(u64, u64)> = acks.to_vec();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(pairs(&runs), expected);
        assert_eq!(runs.len(), 6);
        assert!(ack_runs(&[]).is_empty());
        assert_eq!(
            pairs(&ack_runs(&[(u64::MAX, u64::MAX), (1, u64::MAX)])),
            vec![(1, u64::MAX), (u64::MAX, u64::MAX)]
        );
    }

    proptest::proptest! {
        #[test]
        fn runs_cover_exactly_the_acknowledgements(acks in proptest::collection::vec((0u64..60, 0u64..60), 0..80)) {
            let mut expected = acks.clone();
            expected.sort_unstable();
            expected.dedup();
            proptest::prop_assert_eq!(pairs(&ack_runs(&acks)), expected);
        }
    }
}
