//! Which reads are logged (issue 11 §6; L-12, W-2, C-24): reads of sensitive records are written as
//! append-only operations, so the office, the district and the record's own history show who read it
//! and when. Pure: the record's facts and the reader's role in, a decision out.

use crate::model::Role;

/// A corrections case: a sealed minor's (L-12), and every case the procuratorate's auditor opens
/// (C-24: its oversight reads are on record like any other access to the file).
pub fn logs_case_read(role: Role, sealed_minor: bool) -> bool {
    sealed_minor || role == Role::ProcuratorateAuditor
}

/// An appeal: a whistle-blower's (W-2: the petitioner's identity is protected).
pub fn logs_appeal_read(whistleblower: bool) -> bool {
    whistleblower
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_minors_and_every_auditor_read_are_logged_and_nothing_else() {
        for role in Role::ALL {
            assert!(logs_case_read(role, true), "{role:?}");
            assert_eq!(
                logs_case_read(role, false),
                role == Role::ProcuratorateAuditor,
                "{role:?}"
            );
        }
        assert!(logs_appeal_read(true));
        assert!(!logs_appeal_read(false));
    }
}
