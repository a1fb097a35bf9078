//! The org units a site's scope covers, kept in byte order.
//!
//! Every operation a site pushes asks whether its units are in the site's scope, up to three times
//! (the operation's scope, its author's unit, its row's owner), and a district's scope holds every
//! unit of the district: a city that consolidates districts has thousands. A list scanned from the
//! front cost a 1,000-operation push from such a site more than the rest of its judging; sorted, a
//! lookup is a binary search. Shared (`Arc`): a request's copy of an org place the PostgreSQL backend
//! keeps is no copy (the SQLite backend reads the subtree at each request).

use serde::{Serialize, Serializer};
use std::ops::Deref;
use std::sync::Arc;

/// Org unit ids, sorted by their bytes (as `COLLATE "C"` and SQLite order them), each once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeUnits(Arc<[String]>);

impl ScopeUnits {
    pub fn new(mut units: Vec<String>) -> ScopeUnits {
        units.sort_unstable();
        units.dedup();
        ScopeUnits(units.into())
    }

    pub fn contains(&self, unit: &str) -> bool {
        self.0.binary_search_by(|u| u.as_str().cmp(unit)).is_ok()
    }
}

impl From<Vec<String>> for ScopeUnits {
    fn from(units: Vec<String>) -> ScopeUnits {
        ScopeUnits::new(units)
    }
}

impl Deref for ScopeUnits {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl Serialize for ScopeUnits {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_unit_it_was_given_whatever_their_order_and_no_other() {
        // Ids as the tree has them: uuids, pilot codes, 4-byte characters (生僻字 in a unit's code).
        let given = vec![
            "f3a9c1e2-0000-4000-8000-000000000001".to_string(),
            "0b2d-village".to_string(),
            "𠀀-village".to_string(),
            "district".to_string(),
            "0b2d-village".to_string(),
        ];
        let scope = ScopeUnits::new(given.clone());
        for unit in &given {
            assert!(scope.contains(unit), "{unit}");
        }
        assert_eq!(scope.len(), 4, "each unit once");
        for absent in [
            "",
            "district ",
            "0b2d",
            "𠀀",
            "f3a9c1e2-0000-4000-8000-000000000002",
        ] {
            assert!(!scope.contains(absent), "{absent:?}");
        }
        assert!(scope.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
        assert!(!ScopeUnits::default().contains(""));
    }

    #[test]
    fn a_scope_of_thousands_answers_as_a_list_scan_would() {
        let units: Vec<String> = (0..5_000).rev().map(|i| format!("unit-{i:05}")).collect();
        let scope = ScopeUnits::new(units.clone());
        for probe in (0..10_000).step_by(7).map(|i| format!("unit-{i:05}")) {
            assert_eq!(scope.contains(&probe), units.contains(&probe), "{probe}");
        }
        assert_eq!(
            serde_json::to_string(&ScopeUnits::new(vec!["b".into(), "a".into()])).ok(),
            Some(r#"["a","b"]"#.to_string())
        );
    }
}
