//! API types of the one person index (一人一档), the W-2 routing slip and the W-6 community funds.
//! Exported to TypeScript like the rest of `model`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where a record of a person lives. Which of these a user may see follows the role's domains
/// (`Role::may_use_residents`, `Role::may_read_corrections`): the index never widens a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PersonDomain {
    /// W-1 居民
    Resident,
    /// W-2 诉求人 (appeals with the petitioner's ID number)
    Appeal,
    /// W-3 调解当事人
    Mediation,
    /// W-5 志愿者
    Volunteer,
    /// 社区矫正对象 (judicial office and district only)
    Corrections,
}

impl PersonDomain {
    pub fn code(self) -> &'static str {
        match self {
            PersonDomain::Resident => "resident",
            PersonDomain::Appeal => "appeal",
            PersonDomain::Mediation => "mediation",
            PersonDomain::Volunteer => "volunteer",
            PersonDomain::Corrections => "corrections",
        }
    }
}

/// One record of a person in one domain, with enough to recognise it and the id to open it in its tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PersonRecordRef {
    pub domain: PersonDomain,
    /// The id to open in the domain's tab (for a mediation party: the mediation case).
    pub record_id: String,
    /// The name as this record spells it (records may differ).
    pub name: String,
    pub org_unit_name: String,
    /// A line describing the record (address, dispute, appeal subject, case kind…).
    pub summary: String,
    /// The record's date (registration, acceptance, receipt…), YYYY-MM-DD, or empty.
    pub date: String,
    /// A kind code of the domain (case kind, dispute type), or empty.
    pub kind: String,
    /// A status code of the domain ("routed", "in_correction"…), or empty.
    pub status: String,
    /// W-1: registrations merged into this one (found by their own ids too).
    pub merged_ids: Vec<String>,
    /// Removed (reversibly) in its domain.
    pub deleted: bool,
}

/// 一人一档: every record of one person (by the normalised ID number) that the user may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PersonProfile {
    /// Always 18 characters (a 15-digit legacy number is upgraded).
    pub id_number: String,
    /// The names the records give, most frequent first (records may spell it differently).
    pub names: Vec<String>,
    pub sex: String,
    pub birth_date: String,
    /// Grouped by domain (in `PersonDomain` order), oldest first within a domain.
    pub records: Vec<PersonRecordRef>,
    /// The domains this user's role may see (an empty group in the UI means "none here", not "hidden").
    pub visible_domains: Vec<PersonDomain>,
}

/// One person found by a search: the ID number joins the records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PersonHit {
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    /// The domains holding records of this person that the user may see.
    pub domains: Vec<PersonDomain>,
    pub records: u32,
}

/// W-2 转办单: what one routed department receives. Built in core (`appeals::routing_slips`) so the rule
/// that protects a whistle-blower is not left to the screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoutingSlip {
    pub appeal_id: String,
    pub department: String,
    /// The lead department of a multi-department case.
    pub lead: bool,
    /// W-2: this is the department complained about: the petitioner's identity is masked.
    pub masked: bool,
    pub petitioner_name: String,
    pub petitioner_phone: String,
    pub petitioner_id_number: String,
    pub class: String,
    pub category: String,
    pub channel: String,
    pub received_on: String,
    pub due_on: String,
    pub subject: String,
    /// The verbatim content, or for a masked slip a note that the whistle-blower's material is withheld.
    pub content: String,
    pub other_departments: Vec<String>,
    pub org_unit_name: String,
}

/// W-6: the community's own funds (working funds are kept as their two parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CommunityFund {
    /// 社区发展经费
    Development,
    /// 工作经费（工作）
    WorkingWork,
    /// 工作经费（关爱帮扶）
    WorkingCare,
    /// 低保工作经费
    LowIncomeWork,
}

impl CommunityFund {
    pub const ALL: [CommunityFund; 4] = [
        CommunityFund::Development,
        CommunityFund::WorkingWork,
        CommunityFund::WorkingCare,
        CommunityFund::LowIncomeWork,
    ];
    pub fn code(self) -> &'static str {
        match self {
            CommunityFund::Development => "development",
            CommunityFund::WorkingWork => "working_work",
            CommunityFund::WorkingCare => "working_care",
            CommunityFund::LowIncomeWork => "low_income_work",
        }
    }
    pub fn from_code(code: &str) -> Option<CommunityFund> {
        CommunityFund::ALL.into_iter().find(|f| f.code() == code)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FundEntryInput {
    pub fund: CommunityFund,
    /// Spending in fen (1 yuan = 100 fen), more than 0.
    #[ts(type = "number")]
    pub amount_fen: i64,
    /// YYYY-MM-DD (Asia/Shanghai), not in the future; its year is the ledger year.
    pub spent_on: String,
    pub purpose: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FundEntryRecord {
    pub id: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub year: i32,
    pub fund: CommunityFund,
    #[ts(type = "number")]
    pub amount_fen: i64,
    pub spent_on: String,
    pub purpose: String,
    pub recorded_by: String,
    pub deleted: bool,
    pub pending_sync: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FundQuery {
    /// Calendar year; None = this year (Asia/Shanghai).
    pub year: Option<i32>,
    pub fund: Option<CommunityFund>,
    /// Matches the purpose, the recorder or the community's name.
    pub text: Option<String>,
    pub page: u32,
    pub page_size: u32,
    pub include_deleted: bool,
}

/// W-6: one fund of one community in one year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FundLine {
    pub fund: CommunityFund,
    /// The local rule's yearly figure (schema/rules/community.json).
    #[ts(type = "number")]
    pub allotted_fen: i64,
    #[ts(type = "number")]
    pub spent_fen: i64,
    /// allotted − spent; negative only when two offline entries together overspent (flagged).
    #[ts(type = "number")]
    pub remaining_fen: i64,
    pub overspent: bool,
    pub entries: u32,
    pub rule_id: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CommunityFundSummary {
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub year: i32,
    pub funds: Vec<FundLine>,
    #[ts(type = "number")]
    pub allotted_fen: i64,
    #[ts(type = "number")]
    pub spent_fen: i64,
    pub overspent: bool,
}
