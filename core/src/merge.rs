//! The merge rule, pure and storage-free, shared by every site store and the server's master.
//!
//! A row keeps, per field, every version ever written (its field history). The visible value is the
//! version with the greatest (HLC, site id) — last-writer-wins, deterministic everywhere. Two versions of
//! one field with different values are *concurrent* when the newer one was not written on top of a
//! version at least as new as the older one (`newer.base < older`): then neither writer saw the other and
//! a conflict item records both values (ARCHITECTURE.md "Ownership first, then per-field LWW"; D-3).
//! Because versions are kept and conflicts are a function of the set of versions, applying the same
//! operations in any order, any number of times, gives the same state and the same conflict items.

use crate::hlc::Hlc;
use crate::op::{Operation, Version};
use crate::tables::MergeKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One written value of a field, as kept in the row's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldVersion(
    /// hlc
    pub Hlc,
    /// site id
    pub String,
    /// user id
    pub String,
    /// base: the version this write overwrote at its site
    pub Option<(Hlc, String)>,
    /// value
    pub serde_json::Value,
);

impl FieldVersion {
    pub fn version(&self) -> Version {
        Version {
            hlc: self.0,
            site: self.1.clone(),
        }
    }
    fn key(&self) -> (Hlc, &str) {
        (self.0, self.1.as_str())
    }
    fn base_key(&self) -> Option<(Hlc, &str)> {
        self.3.as_ref().map(|(h, s)| (*h, s.as_str()))
    }
    pub fn value(&self) -> &serde_json::Value {
        &self.4
    }
    pub fn user(&self) -> &str {
        &self.2
    }
}

/// The whole field history of one row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RowVersions {
    /// Per field, versions sorted ascending by (hlc, site).
    pub fields: BTreeMap<String, Vec<FieldVersion>>,
}

/// A concurrent pair of versions of one field with different values.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub field: String,
    pub newer: FieldVersion,
    pub older: FieldVersion,
}

impl Conflict {
    /// Deterministic id: the same pair gives the same id on every replica.
    pub fn id(&self, table: &str, row_id: &str) -> String {
        let mut h = Sha256::new();
        for part in [
            table,
            row_id,
            &self.field,
            &self.newer.0 .0.to_string(),
            &self.newer.1,
            &self.older.0 .0.to_string(),
            &self.older.1,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(&h.finalize()[..16])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// This version was already here: nothing changed.
    Duplicate,
    New {
        /// Whether the visible value of the field changed.
        winner_changed: bool,
        conflicts: Vec<Conflict>,
    },
}

impl RowVersions {
    pub fn winner(&self, field: &str) -> Option<&FieldVersion> {
        self.fields.get(field).and_then(|v| v.last())
    }

    pub fn value(&self, field: &str) -> Option<&serde_json::Value> {
        self.winner(field).map(|v| &v.4)
    }

    /// The version a field shows under its table's merge kind: the greatest for mutable rows; for an
    /// append-only row the first (its creation), so a later rewrite never changes the record whatever
    /// order replicas receive it in (ARCHITECTURE.md "Append-only kinds are never rewritten"); only the
    /// reversible deletion flag follows the greatest version there too.
    pub fn shown(&self, field: &str, kind: MergeKind) -> Option<&FieldVersion> {
        let versions = self.fields.get(field)?;
        if first_wins(kind, field) {
            versions.first()
        } else {
            versions.last()
        }
    }

    /// The value [`RowVersions::shown`] shows.
    pub fn shown_value(&self, field: &str, kind: MergeKind) -> Option<&serde_json::Value> {
        self.shown(field, kind).map(|v| &v.4)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Merges one operation into the row.
    pub fn apply(&mut self, op: &Operation, kind: MergeKind) -> Applied {
        let incoming = FieldVersion(
            op.hlc,
            op.site_id.clone(),
            op.user_id.clone(),
            op.base.as_ref().map(|b| (b.hlc, b.site.clone())),
            op.value.clone(),
        );
        // Look the field up before allocating its name: it usually exists already.
        if !self.fields.contains_key(op.field.as_str()) {
            self.fields.insert(op.field.clone(), Vec::new());
        }
        let versions = self
            .fields
            .get_mut(op.field.as_str())
            .expect("the field was inserted above");
        let pos = match versions.binary_search_by(|v| v.key().cmp(&incoming.key())) {
            Ok(_) => return Applied::Duplicate,
            Err(pos) => pos,
        };
        let mut conflicts = Vec::new();
        if kind == MergeKind::Mutable {
            for other in versions.iter() {
                if other.4 == incoming.4 {
                    continue;
                }
                let (newer, older) = if other.key() > incoming.key() {
                    (other, &incoming)
                } else {
                    (&incoming, other)
                };
                let newer_saw_older = newer.base_key().is_some_and(|b| b >= older.key());
                if !newer_saw_older {
                    conflicts.push(Conflict {
                        field: op.field.clone(),
                        newer: newer.clone(),
                        older: older.clone(),
                    });
                }
            }
        }
        let winner_changed = if first_wins(kind, &op.field) {
            pos == 0
        } else {
            pos == versions.len()
        };
        versions.insert(pos, incoming);
        Applied::New {
            winner_changed,
            conflicts,
        }
    }
}

/// Whether a field keeps its first version visible: every field of an append-only row but its
/// deletion flag.
pub fn first_wins(kind: MergeKind, field: &str) -> bool {
    kind == MergeKind::AppendOnly
        && field != crate::tables::DELETED_FIELD
        && field != crate::tables::APPEND_ONLY_OWNER_FIELD
}

/// The base a local write records: the version it overwrites.
pub fn base_of(row: &RowVersions, field: &str) -> Option<Version> {
    row.winner(field).map(FieldVersion::version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(
        site: &str,
        hlc: u64,
        field: &str,
        value: serde_json::Value,
        base: Option<(u64, &str)>,
    ) -> Operation {
        Operation {
            site_id: site.into(),
            site_seq: 1,
            prev_hash: String::new(),
            hash: String::new(),
            table: "corr_case".into(),
            row_id: "r".into(),
            field: field.into(),
            value,
            hlc: Hlc(hlc),
            base: base.map(|(h, s)| Version {
                hlc: Hlc(h),
                site: s.into(),
            }),
            user_id: "u".into(),
            schema_version: 1,
            scope: "o".into(),
            server_seq: None,
        }
    }

    #[test]
    fn sequential_edits_do_not_conflict_and_last_wins() {
        let mut row = RowVersions::default();
        row.apply(&op("a", 1, "name", json!("甲"), None), MergeKind::Mutable);
        let r = row.apply(
            &op("b", 2, "name", json!("乙"), Some((1, "a"))),
            MergeKind::Mutable,
        );
        assert_eq!(
            r,
            Applied::New {
                winner_changed: true,
                conflicts: vec![]
            }
        );
        assert_eq!(row.value("name"), Some(&json!("乙")));
    }

    #[test]
    fn concurrent_different_values_open_one_conflict_in_either_order() {
        let a = op("a", 1, "name", json!("甲"), None);
        let b = op("b", 2, "name", json!("乙"), Some((0, "x")));
        let c = op("c", 3, "name", json!("丙"), Some((0, "x")));
        let mut one = RowVersions::default();
        let mut two = RowVersions::default();
        let mut found_one = vec![];
        let mut found_two = vec![];
        for o in [&a, &b, &c] {
            if let Applied::New { conflicts, .. } = one.apply(o, MergeKind::Mutable) {
                found_one.extend(conflicts.into_iter().map(|c| c.id("t", "r")));
            }
        }
        for o in [&c, &a, &b, &c] {
            if let Applied::New { conflicts, .. } = two.apply(o, MergeKind::Mutable) {
                found_two.extend(conflicts.into_iter().map(|c| c.id("t", "r")));
            }
        }
        found_one.sort();
        found_two.sort();
        assert_eq!(one, two);
        assert_eq!(found_one, found_two);
        assert_eq!(
            found_one.len(),
            3,
            "a/b, a/c and b/c are pairwise concurrent"
        );
        assert_eq!(one.value("name"), Some(&json!("丙")));
    }

    #[test]
    fn same_value_written_concurrently_is_not_a_conflict() {
        let mut row = RowVersions::default();
        row.apply(&op("a", 1, "name", json!("甲"), None), MergeKind::Mutable);
        let r = row.apply(&op("b", 2, "name", json!("甲"), None), MergeKind::Mutable);
        assert_eq!(
            r,
            Applied::New {
                winner_changed: true,
                conflicts: vec![]
            }
        );
    }

    #[test]
    fn duplicates_are_ignored() {
        let mut row = RowVersions::default();
        let a = op("a", 1, "name", json!("甲"), None);
        row.apply(&a, MergeKind::Mutable);
        assert_eq!(row.apply(&a, MergeKind::Mutable), Applied::Duplicate);
    }

    #[test]
    fn an_older_late_arrival_does_not_win_but_still_conflicts() {
        let mut row = RowVersions::default();
        row.apply(&op("b", 5, "name", json!("乙"), None), MergeKind::Mutable);
        let r = row.apply(&op("a", 3, "name", json!("甲"), None), MergeKind::Mutable);
        match r {
            Applied::New {
                winner_changed,
                conflicts,
            } => {
                assert!(!winner_changed);
                assert_eq!(conflicts.len(), 1);
            }
            Applied::Duplicate => panic!("not a duplicate"),
        }
        assert_eq!(row.value("name"), Some(&json!("乙")));
    }

    #[test]
    fn append_only_rows_never_conflict_and_a_rewrite_never_shows_whatever_the_order() {
        // ARCHITECTURE.md "Append-only kinds are never rewritten": the creation's value stays shown.
        let mut row = RowVersions::default();
        row.apply(&op("a", 1, "note", json!("x"), None), MergeKind::AppendOnly);
        let r = row.apply(&op("b", 2, "note", json!("y"), None), MergeKind::AppendOnly);
        assert_eq!(
            r,
            Applied::New {
                winner_changed: false,
                conflicts: vec![]
            }
        );
        assert_eq!(
            row.shown_value("note", MergeKind::AppendOnly),
            Some(&json!("x"))
        );
        // The other order: the rewrite arrives first, then the creation takes its place.
        let mut other = RowVersions::default();
        other.apply(&op("b", 2, "note", json!("y"), None), MergeKind::AppendOnly);
        let r = other.apply(&op("a", 1, "note", json!("x"), None), MergeKind::AppendOnly);
        assert!(matches!(
            r,
            Applied::New {
                winner_changed: true,
                ..
            }
        ));
        assert_eq!(other, row, "both orders keep both versions");
        assert_eq!(
            other.shown_value("note", MergeKind::AppendOnly),
            Some(&json!("x"))
        );
        // The reversible deletion flag still follows the latest version.
        row.apply(
            &op("a", 3, "_deleted", json!(true), None),
            MergeKind::AppendOnly,
        );
        row.apply(
            &op("a", 4, "_deleted", json!(false), None),
            MergeKind::AppendOnly,
        );
        assert_eq!(
            row.shown_value("_deleted", MergeKind::AppendOnly),
            Some(&json!(false))
        );
        // So does the owning unit: L-6 moves a case's check-ins with it, whatever the order.
        let moved = |first: (&str, u64, &str), second: (&str, u64, &str)| {
            let mut row = RowVersions::default();
            for (site, at, unit) in [first, second] {
                row.apply(
                    &op(site, at, "org_unit_id", json!(unit), None),
                    MergeKind::AppendOnly,
                );
            }
            row.shown_value("org_unit_id", MergeKind::AppendOnly)
                .cloned()
        };
        assert_eq!(moved(("a", 1, "A"), ("d", 5, "B")), Some(json!("B")));
        assert_eq!(moved(("d", 5, "B"), ("a", 1, "A")), Some(json!("B")));
    }

    #[test]
    fn round_trip_keeps_four_byte_characters() {
        let mut row = RowVersions::default();
        row.apply(&op("a", 1, "name", json!("𠀀𪚥"), None), MergeKind::Mutable);
        let back = crate::codec::decode_row(&crate::codec::encode_row(&row)).unwrap();
        assert_eq!(back, row);
    }
}
