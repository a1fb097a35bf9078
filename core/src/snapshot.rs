//! Issue 12 §6: a new office (or a replaced laptop) starts from a scoped snapshot of the master
//! instead of replaying the log. The rules, without SQLite: when a store takes a snapshot, whether a
//! page follows the one before it, and how a page's row meets a row the store already holds. The
//! store half (`store/snapshot.rs`) only reads and writes.

use crate::merge::RowVersions;
use crate::tables;
use crate::wire::{RowRef, SnapshotPage};
use serde::{Deserialize, Serialize};

/// How far a snapshot got: the log head it started at and the last row taken (kept in the store, so an
/// interrupted snapshot goes on where it stopped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotProgress {
    pub as_of: u64,
    pub master_id: String,
    pub after: Option<RowRef>,
}

/// A store takes a snapshot when it has never pulled (no cursor, no master known) or one is under way.
pub fn wants_snapshot(pull_cursor: u64, known_master: Option<&str>, under_way: bool) -> bool {
    under_way || (pull_cursor == 0 && known_master.is_none())
}

/// Why a page cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRefused {
    /// The page belongs to another snapshot (another start, or another copy of the master): start
    /// again.
    OtherSnapshot,
    /// A row of a table or field this version does not know: upgrade the desktop.
    Unknown(String),
}

/// What taking a page does to the progress: the new progress, or the end (the pull cursor is then
/// `as_of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterPage {
    Continue(SnapshotProgress),
    Done { as_of: u64, master_id: String },
}

/// Checks a page against the progress so far and says what follows it.
pub fn take_page(
    progress: Option<&SnapshotProgress>,
    page: &SnapshotPage,
) -> Result<AfterPage, PageRefused> {
    if let Some(progress) = progress {
        if progress.as_of != page.as_of || progress.master_id != page.master_id {
            return Err(PageRefused::OtherSnapshot);
        }
    }
    for row in &page.rows {
        let def =
            tables::table(&row.table).ok_or_else(|| PageRefused::Unknown(row.table.clone()))?;
        for (field, versions) in &row.history.fields {
            let known = def
                .field(field)
                .is_some_and(|f| versions.iter().all(|v| f.ty.accepts(&v.4)));
            if !known {
                return Err(PageRefused::Unknown(format!("{}.{field}", row.table)));
            }
        }
    }
    Ok(match &page.next {
        Some(next) => AfterPage::Continue(SnapshotProgress {
            as_of: page.as_of,
            master_id: page.master_id.clone(),
            after: Some(next.clone()),
        }),
        None => AfterPage::Done {
            as_of: page.as_of,
            master_id: page.master_id.clone(),
        },
    })
}

/// A snapshot row joined with the store's own version of it (writes not yet sent, or rows it already
/// pulled): every version of either, each once, in core's order. Nothing local is lost.
pub fn joined(local: Option<RowVersions>, master: &RowVersions) -> RowVersions {
    let Some(mut row) = local else {
        return master.clone();
    };
    for (field, versions) in &master.fields {
        let into = row.fields.entry(field.clone()).or_default();
        for v in versions {
            let key = (v.0, v.1.as_str());
            if let Err(at) = into.binary_search_by(|x| (x.0, x.1.as_str()).cmp(&key)) {
                into.insert(at, v.clone());
            }
        }
    }
    row
}

/// The latest clock in a page (the store's HLC moves past it, as after a pull).
pub fn latest_clock(page: &SnapshotPage) -> crate::hlc::Hlc {
    page.rows
        .iter()
        .flat_map(|r| r.history.fields.values().flatten())
        .map(|v| v.0)
        .max()
        .unwrap_or(crate::hlc::Hlc::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::merge::FieldVersion;
    use crate::wire::SnapshotRow;
    use serde_json::json;

    fn version(at: u64, site: &str, value: serde_json::Value) -> FieldVersion {
        FieldVersion(Hlc(at), site.to_string(), "u".to_string(), None, value)
    }

    fn page(as_of: u64, next: Option<(&str, &str)>, rows: Vec<SnapshotRow>) -> SnapshotPage {
        SnapshotPage {
            as_of,
            master_id: "m".into(),
            rows,
            conflicts: Vec::new(),
            next: next.map(|(t, i)| RowRef {
                table: t.into(),
                id: i.into(),
            }),
            server_time_ms: 0,
        }
    }

    fn case_row(id: &str, name: &str) -> SnapshotRow {
        let mut history = RowVersions::default();
        history
            .fields
            .insert("name".into(), vec![version(5, "a", json!(name))]);
        SnapshotRow {
            table: "corr_case".into(),
            id: id.into(),
            history,
        }
    }

    #[test]
    fn only_a_store_that_never_pulled_or_is_under_way_takes_a_snapshot() {
        assert!(wants_snapshot(0, None, false));
        assert!(
            !wants_snapshot(0, Some("m"), false),
            "a restored master pulls again instead"
        );
        assert!(!wants_snapshot(17, None, false));
        assert!(wants_snapshot(17, Some("m"), true));
    }

    #[test]
    fn pages_follow_one_snapshot_and_the_last_one_ends_it() {
        let first = page(40, Some(("corr_case", "b")), vec![case_row("a", "张𠀀")]);
        let AfterPage::Continue(progress) = take_page(None, &first).unwrap() else {
            panic!("a page with a next goes on");
        };
        assert_eq!(progress.after.as_ref().map(|r| r.id.as_str()), Some("b"));
        let last = page(40, None, vec![case_row("c", "李")]);
        assert_eq!(
            take_page(Some(&progress), &last).unwrap(),
            AfterPage::Done {
                as_of: 40,
                master_id: "m".into()
            }
        );
        let other = page(41, None, vec![]);
        assert_eq!(
            take_page(Some(&progress), &other),
            Err(PageRefused::OtherSnapshot)
        );
    }

    #[test]
    fn a_row_this_version_does_not_know_is_refused() {
        let mut row = case_row("a", "x");
        row.table = "later_table".into();
        assert_eq!(
            take_page(None, &page(1, None, vec![row])),
            Err(PageRefused::Unknown("later_table".into()))
        );
        let mut row = case_row("a", "x");
        row.history
            .fields
            .insert("no_such_field".into(), vec![version(1, "a", json!(1))]);
        assert!(matches!(
            take_page(None, &page(1, None, vec![row])),
            Err(PageRefused::Unknown(_))
        ));
    }

    #[test]
    fn a_snapshot_row_never_drops_a_version_the_store_holds() {
        let mut local = RowVersions::default();
        local
            .fields
            .insert("name".into(), vec![version(9, "me", json!("本机未发送"))]);
        let master = case_row("a", "区里").history;
        let row = joined(Some(local), &master);
        assert_eq!(row.fields["name"].len(), 2);
        assert_eq!(
            row.fields["name"][1].4,
            json!("本机未发送"),
            "the later local write stays shown"
        );
        assert_eq!(joined(None, &master), master);
        assert_eq!(
            joined(Some(master.clone()), &master),
            master,
            "each version once"
        );
    }
}
