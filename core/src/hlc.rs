//! Hybrid logical clock.
//!
//! A timestamp packs wall-clock milliseconds (upper 48 bits) and a logical counter (lower 16 bits) in
//! one `u64`, so it sorts as an integer and fits SQLite's INTEGER. The clock orders operations; it does
//! not prove causality (site_seq and the op's base do). It never goes backwards: the last value is
//! persisted by the store, and a wall clock set back only makes the counter advance.

use serde::{Deserialize, Serialize};
use std::fmt;

const COUNTER_BITS: u32 = 16;
const COUNTER_MASK: u64 = (1 << COUNTER_BITS) - 1;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hlc(pub u64);

impl Hlc {
    pub const ZERO: Hlc = Hlc(0);

    pub fn from_parts(millis: u64, counter: u16) -> Hlc {
        Hlc((millis << COUNTER_BITS) | u64::from(counter))
    }
    pub fn millis(self) -> u64 {
        self.0 >> COUNTER_BITS
    }
    pub fn counter(self) -> u16 {
        (self.0 & COUNTER_MASK) as u16
    }

    /// The next timestamp for a local event, given the last one issued here and the wall clock.
    pub fn tick(last: Hlc, wall_millis: u64) -> Hlc {
        if wall_millis > last.millis() {
            Hlc::from_parts(wall_millis, 0)
        } else {
            Hlc(last.0 + 1)
        }
    }

    /// Folds a timestamp received from elsewhere into the local clock so later local events sort
    /// after it.
    pub fn observe(last: Hlc, remote: Hlc) -> Hlc {
        last.max(remote)
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:04}", self.millis(), self.counter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_follows_the_wall_clock_when_it_advances() {
        let t = Hlc::tick(Hlc::from_parts(1000, 5), 2000);
        assert_eq!((t.millis(), t.counter()), (2000, 0));
    }

    #[test]
    fn tick_never_goes_backwards_when_the_wall_clock_is_set_back() {
        let last = Hlc::from_parts(5_000_000, 0);
        let a = Hlc::tick(last, 1_000);
        let b = Hlc::tick(a, 1_000);
        assert!(a > last && b > a);
        assert_eq!(a.millis(), 5_000_000);
    }

    #[test]
    fn observe_moves_past_remote_timestamps() {
        let local = Hlc::from_parts(10, 0);
        let remote = Hlc::from_parts(99, 3);
        let merged = Hlc::observe(local, remote);
        assert!(Hlc::tick(merged, 50) > remote);
    }
}
