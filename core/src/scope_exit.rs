//! What a site keeps of a row that left its read scope (issue 10 §5; ARCHITECTURE.md "Scope").
//!
//! A row leaves a site when its owner moves out of the site's units: the L-6 handover moves a case and
//! every record of it to the receiving office. The sending office then no longer supervises the
//! subject, and a laptop that keeps the file of someone it does not supervise only adds to what a lost
//! laptop gives away: the file is removed from its store, while the master keeps every version of it.
//! The office keeps its own record of the handover (the transfer row: to whom, decided and completed
//! when), which its case screen and its C-21 counts of transfers out read.
//!
//! The same rule decides what a full re-initialisation sweeps away: rows the full pull did not bring
//! back and this site never wrote.
//! Pure: a table in, a decision out.

use crate::tables::TableDef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// Removed from the site's store (the master keeps its history).
    Purge,
    /// Kept as the site's own record of the handover, frozen as it was when the row left.
    KeepAsHandoverRecord,
}

/// What happens to a row of `table` at a site it has left.
pub fn on_leaving(table: &TableDef) -> Departure {
    match table.name {
        // L-6: the sending office's record that it handed the case over.
        "corr_transfer" => Departure::KeepAsHandoverRecord,
        _ => Departure::Purge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{table, TABLES};

    #[test]
    fn l6_the_file_leaves_with_the_case_and_the_handover_record_stays() {
        for name in [
            "corr_case",
            "corr_checkin",
            "corr_entry",
            "corr_leave",
            "corr_location_event",
        ] {
            let def = table(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(on_leaving(def), Departure::Purge, "{name}");
        }
        assert_eq!(
            on_leaving(table("corr_transfer").unwrap()),
            Departure::KeepAsHandoverRecord
        );
    }

    #[test]
    fn only_the_handover_record_is_kept_of_all_replicated_tables() {
        let kept: Vec<&str> = TABLES
            .iter()
            .filter(|t| on_leaving(t) == Departure::KeepAsHandoverRecord)
            .map(|t| t.name)
            .collect();
        assert_eq!(kept, vec!["corr_transfer"]);
    }
}
