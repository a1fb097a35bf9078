//! Which of a site's operations the server acknowledged, kept as ranges of site_seqs (issue 12 §5).
//!
//! The site's log used to carry each operation's server_seq in its own row: marking a 1,000-operation
//! batch sent rewrote 1,000 rows (and their index entries) of the encrypted store, the largest part
//! of a laptop's push. Nothing ever read the number back, only whether it was there. A range costs
//! one row however many operations it covers, and ranges that touch are joined, so a site that
//! pushes in order keeps one row.
//!
//! This module is the pure half: sets of ranges in, ranges out. The store half
//! (`store/acked.rs`) reads and writes them.

/// Site_seqs `first..=last`, all acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeqRange {
    pub first: u64,
    pub last: u64,
}

/// `seqs`, in any order and with repeats, as the fewest ranges that hold exactly them, ascending.
pub fn ranges_of(seqs: impl IntoIterator<Item = u64>) -> Vec<SeqRange> {
    let mut sorted: Vec<u64> = seqs.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<SeqRange> = Vec::new();
    for seq in sorted {
        match ranges.last_mut() {
            Some(range) if range.last.checked_add(1) == Some(seq) => range.last = seq,
            _ => ranges.push(SeqRange {
                first: seq,
                last: seq,
            }),
        }
    }
    ranges
}

/// The union of two sets of ranges, ranges that overlap or touch joined, ascending.
pub fn union(a: &[SeqRange], b: &[SeqRange]) -> Vec<SeqRange> {
    let mut all: Vec<SeqRange> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    let mut joined: Vec<SeqRange> = Vec::new();
    for range in all {
        match joined.last_mut() {
            Some(prev) if range.first <= prev.last.saturating_add(1) => {
                prev.last = prev.last.max(range.last);
            }
            _ => joined.push(range),
        }
    }
    joined
}

/// The part of `ranges` at or below `last`: what stays acknowledged when everything after `last`
/// waits to be sent again.
pub fn up_to(ranges: &[SeqRange], last: u64) -> Vec<SeqRange> {
    ranges
        .iter()
        .filter(|r| r.first <= last)
        .map(|r| SeqRange {
            first: r.first,
            last: r.last.min(last),
        })
        .collect()
}

/// The site_seqs after `after` that no range holds, as spans `(first, last)`, ascending; the last
/// span is open (`None`): everything after the last range waits to be sent.
pub fn gaps_after(ranges: &[SeqRange], after: u64) -> Vec<(u64, Option<u64>)> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut gaps = Vec::new();
    let Some(mut next) = after.checked_add(1) else {
        return gaps;
    };
    for range in sorted {
        if range.last < next {
            continue;
        }
        if range.first > next {
            gaps.push((next, Some(range.first - 1)));
        }
        match range.last.checked_add(1) {
            Some(after_range) => next = after_range,
            None => return gaps,
        }
    }
    gaps.push((next, None));
    gaps
}

/// Whether a range holds `seq`.
pub fn holds(ranges: &[SeqRange], seq: u64) -> bool {
    ranges.iter().any(|r| r.first <= seq && seq <= r.last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(first: u64, last: u64) -> SeqRange {
        SeqRange { first, last }
    }

    /// Every seq up to `max` the ranges hold.
    fn members(ranges: &[SeqRange], max: u64) -> Vec<u64> {
        (0..=max).filter(|s| holds(ranges, *s)).collect()
    }

    #[test]
    fn a_batch_acknowledged_in_order_is_one_range() {
        assert_eq!(ranges_of(5..1005), vec![r(5, 1004)]);
    }

    #[test]
    fn repeats_and_gaps_split_ranges_and_lose_nothing() {
        let seqs = [9, 1, 2, 3, 2, 7, 5, 4, 10];
        let ranges = ranges_of(seqs);
        assert_eq!(ranges, vec![r(1, 5), r(7, 7), r(9, 10)]);
        assert_eq!(members(&ranges, 20), vec![1, 2, 3, 4, 5, 7, 9, 10]);
        assert!(ranges_of([]).is_empty());
    }

    #[test]
    fn ranges_that_touch_or_overlap_are_joined_and_others_kept() {
        assert_eq!(union(&[r(1, 1000)], &[r(1001, 2000)]), vec![r(1, 2000)]);
        assert_eq!(
            union(&[r(1, 10), r(20, 30)], &[r(5, 12), r(40, 40)]),
            vec![r(1, 12), r(20, 30), r(40, 40)]
        );
        // A range filling the gap between two joins all three.
        assert_eq!(union(&[r(1, 10), r(20, 30)], &[r(11, 19)]), vec![r(1, 30)]);
        // Acknowledged twice: once.
        assert_eq!(union(&[r(3, 8)], &[r(4, 6)]), vec![r(3, 8)]);
        assert_eq!(union(&[], &[r(7, 9)]), vec![r(7, 9)]);
    }

    #[test]
    fn the_union_holds_exactly_what_either_side_holds() {
        // Every pair of small sets over 0..12 (as bit masks), against membership one by one.
        for a_mask in (0u32..4096).step_by(37) {
            for b_mask in (0u32..4096).step_by(53) {
                let set = |mask: u32| (0u32..12).filter(move |s| mask & (1 << s) != 0);
                let a = ranges_of(set(a_mask).map(u64::from));
                let b = ranges_of(set(b_mask).map(u64::from));
                let joined = union(&a, &b);
                let expected: Vec<u64> = set(a_mask | b_mask).map(u64::from).collect();
                assert_eq!(members(&joined, 12), expected);
                assert_eq!(joined, ranges_of(expected), "joined as far as they touch");
            }
        }
    }

    #[test]
    fn up_to_cuts_the_range_across_the_line_and_drops_those_after() {
        let ranges = [r(1, 10), r(15, 20), r(30, 40)];
        assert_eq!(up_to(&ranges, 17), vec![r(1, 10), r(15, 17)]);
        assert_eq!(up_to(&ranges, 14), vec![r(1, 10)]);
        assert_eq!(up_to(&ranges, 0), vec![]);
        assert_eq!(up_to(&ranges, 40), ranges.to_vec());
    }

    #[test]
    fn gaps_are_what_no_range_holds_after_the_point_given() {
        let ranges = [r(1, 10), r(15, 20), r(30, 40)];
        assert_eq!(
            gaps_after(&ranges, 0),
            vec![(11, Some(14)), (21, Some(29)), (41, None)]
        );
        assert_eq!(
            gaps_after(&ranges, 12),
            vec![(13, Some(14)), (21, Some(29)), (41, None)]
        );
        assert_eq!(gaps_after(&ranges, 45), vec![(46, None)]);
        assert_eq!(gaps_after(&[], 0), vec![(1, None)]);
        assert_eq!(gaps_after(&[r(3, 5)], 0), vec![(1, Some(2)), (6, None)]);
        assert_eq!(gaps_after(&[r(1, u64::MAX)], 0), vec![]);
        assert_eq!(gaps_after(&[], u64::MAX), vec![]);
    }

    #[test]
    fn gaps_and_ranges_split_every_seq_between_them() {
        let ranges = ranges_of([2, 3, 4, 8, 9, 13]);
        for after in 0..15 {
            let gaps = gaps_after(&ranges, after);
            for seq in after + 1..30 {
                let in_gap = gaps
                    .iter()
                    .any(|(first, last)| *first <= seq && last.is_none_or(|last| seq <= last));
                assert_ne!(in_gap, holds(&ranges, seq), "seq {seq} after {after}");
            }
        }
    }
}
