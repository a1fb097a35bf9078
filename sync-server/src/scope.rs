//! Which site may write and read what: closed by default (ARCHITECTURE.md "Scope").

use jiceng_core::model::OrgKind;
use jiceng_core::tables::{Domain, TableDef};

/// Whether a site enrolled at an org unit of `kind` may hold rows of `table`.
/// A community workstation never receives corrections records (issue: walking skeleton; C-, L-12).
pub fn may_read_table(kind: OrgKind, table: &TableDef) -> bool {
    match table.domain {
        Domain::Directory => true,
        Domain::Corrections => matches!(kind, OrgKind::Township | OrgKind::District),
        Domain::Residents => matches!(kind, OrgKind::Community | OrgKind::District),
        Domain::CorrectionsOffice => kind == OrgKind::Township,
        Domain::Settings => true,
        Domain::Accounts => true,
    }
}

/// Whether a site may write rows of `table` at all (the directory is written only by the server's admin).
pub fn may_write_table(kind: OrgKind, table: &TableDef) -> bool {
    match table.domain {
        Domain::Directory => false,
        Domain::Corrections => matches!(kind, OrgKind::Township | OrgKind::District),
        Domain::Residents => matches!(kind, OrgKind::Community | OrgKind::District),
        Domain::CorrectionsOffice => kind == OrgKind::Township,
        Domain::Settings => kind == OrgKind::District,
        Domain::Accounts => true,
    }
}

/// Rows that replicate down the tree: written at the district, read by every site below it (the
/// district's rule table and holiday calendar, and the names of the district's sites).
pub fn flows_down(table: &TableDef) -> bool {
    table.domain == Domain::Settings || table.name == "site_directory"
}

/// Rows that replicate only to the sites of their own org unit, not to the units above: users
/// (password hashes go nowhere else), and a site's quarantined operations (issue 9), which the
/// district, which reviews them, receives from every unit.
pub fn only_at_own_unit(kind: OrgKind, table: &TableDef) -> bool {
    table.name == "app_user"
        || (matches!(table.name, "sync_quarantine" | "auth_event") && kind != OrgKind::District)
}

/// Issue 11 §4: writes a site may make that its table's domain alone would not allow: a user's
/// password (changed by the user, or reset by the office head) on a PC of the user's own unit. The
/// caller checks that the operation's unit is the site's own.
pub fn may_write_own_unit_field(table: &TableDef, field: &str) -> bool {
    table.name == "app_user" && field == "password_hash"
}

/// Tables whose rows a site writes only for its own unit, not for the units below it.
pub fn written_only_at_own_unit(table: &TableDef) -> bool {
    matches!(table.name, "app_user" | "auth_event")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiceng_core::tables::table;

    #[test]
    fn community_workstation_never_reads_or_writes_corrections() {
        let case = table("corr_case").unwrap();
        let checkin = table("corr_checkin").unwrap();
        assert!(!may_read_table(OrgKind::Community, case));
        assert!(!may_read_table(OrgKind::Community, checkin));
        assert!(!may_write_table(OrgKind::Community, case));
        assert!(may_read_table(OrgKind::Township, case));
        assert!(may_write_table(OrgKind::Township, checkin));
    }

    #[test]
    fn w1_residents_stay_with_the_community_and_the_district() {
        let resident = table("resident").unwrap();
        assert!(may_read_table(OrgKind::Community, resident));
        assert!(may_write_table(OrgKind::Community, resident));
        assert!(may_read_table(OrgKind::District, resident));
        assert!(!may_read_table(OrgKind::Township, resident));
    }

    #[test]
    fn l7_location_data_stays_with_the_judicial_office() {
        let events = table("corr_location_event").unwrap();
        assert!(may_read_table(OrgKind::Township, events));
        assert!(may_write_table(OrgKind::Township, events));
        for kind in [OrgKind::District, OrgKind::Community] {
            assert!(!may_read_table(kind, events));
            assert!(!may_write_table(kind, events));
        }
        // The periods themselves go to the district, which approves them.
        let periods = table("corr_location_period").unwrap();
        assert!(may_read_table(OrgKind::District, periods));
        assert!(!may_read_table(OrgKind::Community, periods));
    }

    #[test]
    fn w3_w4_w5_mediation_admission_and_volunteers_never_reach_a_township_site() {
        // The judicial office guides mediation (W-3) but holds none of the workstation's records.
        for name in [
            "mediation_case",
            "mediation_party",
            "mediation_session",
            "admission_request",
            "volunteer",
            "volunteer_service",
        ] {
            let def = table(name).unwrap();
            assert!(!may_read_table(OrgKind::Township, def), "{name}");
            assert!(!may_write_table(OrgKind::Township, def), "{name}");
            assert!(may_read_table(OrgKind::Community, def), "{name}");
            assert!(may_write_table(OrgKind::Community, def), "{name}");
            // W-4: the district reviews admission applications, so it reads and writes them.
            assert!(may_read_table(OrgKind::District, def), "{name}");
            assert!(may_write_table(OrgKind::District, def), "{name}");
        }
    }

    #[test]
    fn l0_the_districts_rule_table_and_calendar_reach_every_site_and_only_the_district_writes_them()
    {
        let settings = table("local_setting").unwrap();
        assert!(flows_down(settings));
        for kind in [OrgKind::Community, OrgKind::Township, OrgKind::District] {
            assert!(may_read_table(kind, settings));
        }
        assert!(may_write_table(OrgKind::District, settings));
        assert!(!may_write_table(OrgKind::Township, settings));
        assert!(!may_write_table(OrgKind::Community, settings));
        assert!(!flows_down(table("corr_case").unwrap()));
    }

    #[test]
    fn d3_the_site_directory_reaches_every_site_and_no_site_writes_it() {
        let directory = table("site_directory").unwrap();
        assert!(flows_down(directory));
        for kind in [OrgKind::Community, OrgKind::Township, OrgKind::District] {
            assert!(may_read_table(kind, directory));
            assert!(!may_write_table(kind, directory));
        }
    }

    #[test]
    fn w6_community_funds_and_w2_appeals_never_reach_a_township_site() {
        // The W-6 ledger and the W-2 appeals (with whistle-blowers' identities) stay with the community
        // and the district (which sees every community's funds).
        for name in ["community_fund_entry", "appeal"] {
            let def = table(name).unwrap();
            assert!(!may_read_table(OrgKind::Township, def), "{name}");
            assert!(may_read_table(OrgKind::Community, def), "{name}");
            assert!(may_read_table(OrgKind::District, def), "{name}");
        }
    }

    #[test]
    fn quarantine_items_reach_the_sending_unit_and_the_district_and_no_site_writes_them() {
        let items = table("sync_quarantine").unwrap();
        assert!(only_at_own_unit(OrgKind::Township, items));
        assert!(only_at_own_unit(OrgKind::Community, items));
        assert!(!only_at_own_unit(OrgKind::District, items));
        for kind in [OrgKind::Community, OrgKind::Township, OrgKind::District] {
            assert!(may_read_table(kind, items));
            assert!(!may_write_table(kind, items));
        }
    }

    #[test]
    fn no_site_writes_the_directory() {
        for kind in [OrgKind::Community, OrgKind::Township, OrgKind::District] {
            assert!(!may_write_table(kind, table("app_user").unwrap()));
            assert!(!may_write_table(kind, table("org_unit").unwrap()));
        }
    }
}
