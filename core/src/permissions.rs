//! One permission matrix (issue 11 §5): what each role may do in each area, as one table. Core's read
//! and write paths ask it (`may`), the desktop asks core for the signed-in user's `Capabilities`
//! instead of deriving them from the role, and the README prints it (`markdown`, kept current by a
//! test). The server's scope rules (which site may hold and write which tables) sit on top of it.

use crate::model::Role;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How far a role may go in an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Read,
    Write,
}

/// The areas of the product, as the offices see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// 社区矫正 case files: cases, check-ins, entries, documents, leave, transfers (C-, L-).
    Corrections,
    /// L-12: a sealed minor's identity (others see it masked, or not at all).
    SealedMinors,
    /// L-7: location events, which never leave the judicial office.
    LocationTracking,
    /// Assigning the responsible officer of a case (C-6).
    AssignOfficer,
    /// The county's decisions: L-5 leave beyond 7 days, L-6 transfers, L-7 periods.
    CountyDecisions,
    /// W-: the residents' register, appeals, mediation, admission applications, volunteers, funds.
    Residents,
    /// W-4 applications and the W-6 ledger: kept at the community's own desk (the district oversees).
    CommunityBooks,
    /// W-4: deciding admission applications.
    AdmissionDecisions,
    /// D-3: reviewing conflicts between concurrent edits (and seeing the office's held writes).
    ConflictReview,
    /// Issue 9: releasing or rejecting the writes the server held.
    QuarantineDecisions,
    /// L-0: the rule table and the holiday calendar.
    DeadlineRules,
    /// Issue 11 §3: the district's sites (revoking a lost laptop).
    Sites,
    /// Issue 11 §4: resetting others' passwords and lifting locks.
    Accounts,
}

impl Area {
    pub const ALL: [Area; 13] = [
        Area::Corrections,
        Area::SealedMinors,
        Area::LocationTracking,
        Area::AssignOfficer,
        Area::CountyDecisions,
        Area::Residents,
        Area::CommunityBooks,
        Area::AdmissionDecisions,
        Area::ConflictReview,
        Area::QuarantineDecisions,
        Area::DeadlineRules,
        Area::Sites,
        Area::Accounts,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            Area::Corrections => "社区矫正案卷",
            Area::SealedMinors => "封存的未成年人案卷（L-12）",
            Area::LocationTracking => "电子定位记录（L-7）",
            Area::AssignOfficer => "指定责任专干",
            Area::CountyDecisions => "县级决定（L-5 超7日请假、L-6 变更执行地、L-7 定位期限）",
            Area::Residents => "居民信息、诉求、调解、志愿者、经费",
            Area::CommunityBooks => "准入申请与社区经费台账（W-4、W-6）",
            Area::AdmissionDecisions => "社区事务准入审核（W-4）",
            Area::ConflictReview => "冲突审核（D-3）",
            Area::QuarantineDecisions => "暂扣记录的放行与不予接受",
            Area::DeadlineRules => "期限规则与节假日",
            Area::Sites => "站点（停用丢失的电脑）",
            Area::Accounts => "重置他人密码、解除锁定",
        }
    }
}

use Access::{None as N, Read as R, Write as W};

/// The matrix. Columns: community clerk, judicial officer, office head, district administrator,
/// procuratorate auditor (the order of `Role::ALL`).
const MATRIX: [(Area, [Access; 5]); 13] = [
    (Area::Corrections, [N, W, W, W, R]),
    (Area::SealedMinors, [N, W, W, W, N]),
    (Area::LocationTracking, [N, W, W, N, N]),
    (Area::AssignOfficer, [N, W, W, N, N]),
    (Area::CountyDecisions, [N, R, R, W, R]),
    (Area::Residents, [W, N, N, W, N]),
    (Area::CommunityBooks, [W, N, N, R, N]),
    (Area::AdmissionDecisions, [R, N, N, W, N]),
    (Area::ConflictReview, [N, N, W, W, N]),
    (Area::QuarantineDecisions, [N, N, R, W, N]),
    (Area::DeadlineRules, [R, R, R, W, R]),
    (Area::Sites, [N, N, N, W, N]),
    (Area::Accounts, [N, N, W, W, N]),
];

fn column(role: Role) -> usize {
    Role::ALL.iter().position(|r| *r == role).unwrap_or(0)
}

/// What `role` may do in `area`.
pub fn access(role: Role, area: Area) -> Access {
    MATRIX
        .iter()
        .find(|(a, _)| *a == area)
        .map_or(Access::None, |(_, row)| row[column(role)])
}

/// Whether `role` may at least `need` in `area`.
pub fn may(role: Role, area: Area, need: Access) -> bool {
    access(role, area) >= need
}

/// What writing `field` of a row of `table` asks of its author's role (the server checks it again for
/// every operation of a known user): None when the matrix does not govern it (the directory, which
/// only the server writes; account events and passwords, which the own-unit rule governs).
pub fn needed_to_write(table: &crate::tables::TableDef) -> Option<(Area, Access)> {
    use crate::tables::Domain;
    match (table.domain, table.name) {
        // Logging a read is part of reading (L-12, C-24, W-2).
        (_, "corr_access_log") => Some((Area::Corrections, R)),
        (_, "res_access_log") => Some((Area::Residents, W)),
        (Domain::Corrections, _) => Some((Area::Corrections, W)),
        (Domain::CorrectionsOffice, _) => Some((Area::LocationTracking, W)),
        (Domain::Residents, _) => Some((Area::Residents, W)),
        (Domain::Settings, _) => Some((Area::DeadlineRules, W)),
        (Domain::Directory | Domain::Accounts, _) => None,
    }
}

/// What the desktop shows and offers the signed-in user, from the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Capabilities {
    pub read_corrections: bool,
    pub write_corrections: bool,
    pub track_location: bool,
    pub assign_officer: bool,
    pub county_decisions: bool,
    pub use_residents: bool,
    pub keep_community_books: bool,
    pub decide_admission: bool,
    pub review_conflicts: bool,
    pub decide_quarantine: bool,
    pub edit_rules: bool,
    pub administer_sites: bool,
    pub reset_passwords: bool,
}

pub fn capabilities(role: Role) -> Capabilities {
    Capabilities {
        read_corrections: may(role, Area::Corrections, R),
        write_corrections: may(role, Area::Corrections, W),
        track_location: may(role, Area::LocationTracking, W),
        assign_officer: may(role, Area::AssignOfficer, W),
        county_decisions: may(role, Area::CountyDecisions, W),
        use_residents: may(role, Area::Residents, W),
        keep_community_books: may(role, Area::CommunityBooks, W),
        decide_admission: may(role, Area::AdmissionDecisions, W),
        review_conflicts: may(role, Area::ConflictReview, W),
        decide_quarantine: may(role, Area::QuarantineDecisions, W),
        edit_rules: may(role, Area::DeadlineRules, W),
        administer_sites: may(role, Area::Sites, W),
        reset_passwords: may(role, Area::Accounts, W),
    }
}

/// The matrix as a Markdown table (the README prints it).
pub fn markdown() -> String {
    let roles: Vec<String> = Role::ALL
        .iter()
        .map(|r| format!("{} `{}`", role_zh(*r), r.code()))
        .collect();
    let mut out = format!(
        "| 区域 | {} |\n|---|{}\n",
        roles.join(" | "),
        "---|".repeat(5)
    );
    for (area, row) in MATRIX {
        let cells: Vec<&str> = row
            .iter()
            .map(|a| match a {
                Access::None => "—",
                Access::Read => "查看",
                Access::Write => "办理",
            })
            .collect();
        out.push_str(&format!(
            "| {} | {} |\n",
            area.label_zh(),
            cells.join(" | ")
        ));
    }
    out
}

fn role_zh(role: Role) -> &'static str {
    match role {
        Role::CommunityClerk => "社区工作人员",
        Role::JudicialOfficer => "司法所专干",
        Role::OfficeHead => "司法所所长",
        Role::DistrictAdmin => "区司法局",
        Role::ProcuratorateAuditor => "检察院",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_area_has_one_row_and_the_columns_follow_the_roles() {
        for area in Area::ALL {
            assert_eq!(
                MATRIX.iter().filter(|(a, _)| *a == area).count(),
                1,
                "{area:?}"
            );
        }
        assert_eq!(Role::ALL[0], Role::CommunityClerk);
        assert_eq!(Role::ALL[4], Role::ProcuratorateAuditor);
    }

    #[test]
    fn the_matrix_keeps_the_laws_lines() {
        // A community workstation never reads corrections (C-, L-12); location data stays with the
        // judicial office, not even the district (L-7); the procuratorate reads and changes nothing (C-24).
        assert!(!may(Role::CommunityClerk, Area::Corrections, R));
        assert!(!may(Role::DistrictAdmin, Area::LocationTracking, R));
        for area in Area::ALL {
            assert!(!may(Role::ProcuratorateAuditor, area, W), "{area:?}");
        }
        assert!(!may(Role::ProcuratorateAuditor, Area::SealedMinors, R));
        assert!(may(Role::DistrictAdmin, Area::CountyDecisions, W));
        assert!(!may(Role::OfficeHead, Area::CountyDecisions, W));
        let clerk = capabilities(Role::CommunityClerk);
        assert!(clerk.use_residents && !clerk.read_corrections && !clerk.review_conflicts);
        let head = capabilities(Role::OfficeHead);
        assert!(head.review_conflicts && head.reset_passwords && !head.decide_quarantine);
    }

    #[test]
    fn every_replicated_table_names_what_writing_it_asks() {
        use crate::tables::{table, TABLES};
        for def in TABLES {
            let governed = needed_to_write(def).is_some();
            let exempt = matches!(
                def.domain,
                crate::tables::Domain::Directory | crate::tables::Domain::Accounts
            );
            assert_eq!(governed, !exempt, "{}", def.name);
        }
        let case = table("corr_case").unwrap();
        assert!(!may(
            Role::CommunityClerk,
            needed_to_write(case).unwrap().0,
            W
        ));
        let (area, need) = needed_to_write(table("corr_access_log").unwrap()).unwrap();
        assert!(
            may(Role::ProcuratorateAuditor, area, need),
            "an auditor's read is logged"
        );
    }

    #[test]
    fn the_readme_prints_the_matrix_as_it_is() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md");
        assert!(
            readme.contains(&markdown()),
            "README.md's permission table is stale; paste:\n{}",
            markdown()
        );
    }
}
