//! The types the desktop shell and the UI exchange with `core`.
//!
//! Every type here derives `ts_rs::TS`; `cargo test -p jiceng-core` writes their TypeScript twins to
//! `ui/src/bindings/`, so the UI never hand-copies a Rust shape.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod community;
mod people;
pub use community::*;
pub use people::*;

/// C-1: the five kinds of community-corrections subjects. L-11 keeps 剥夺政治权利 as a configurable kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CaseKind {
    /// 管制
    Control,
    /// 缓刑
    Probation,
    /// 暂予监外执行
    TemporaryOutside,
    /// 假释
    Parole,
    /// 剥夺政治权利
    DeprivationOfPoliticalRights,
}

impl CaseKind {
    pub const ALL: [CaseKind; 5] = [
        CaseKind::Control,
        CaseKind::Probation,
        CaseKind::TemporaryOutside,
        CaseKind::Parole,
        CaseKind::DeprivationOfPoliticalRights,
    ];
    pub fn code(self) -> &'static str {
        match self {
            CaseKind::Control => "control",
            CaseKind::Probation => "probation",
            CaseKind::TemporaryOutside => "temporary_outside",
            CaseKind::Parole => "parole",
            CaseKind::DeprivationOfPoliticalRights => "deprivation_of_political_rights",
        }
    }
    pub fn from_code(code: &str) -> Option<CaseKind> {
        CaseKind::ALL.into_iter().find(|k| k.code() == code)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseKind::Control => "管制",
            CaseKind::Probation => "缓刑",
            CaseKind::TemporaryOutside => "暂予监外执行",
            CaseKind::Parole => "假释",
            CaseKind::DeprivationOfPoliticalRights => "剥夺政治权利",
        }
    }
}

/// The lifecycle of a corrections case (see ARCHITECTURE.md "State machines are not LWW").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CaseStatus {
    /// 待接收: documents received, subject not yet reported.
    Received,
    /// 已报到
    Reported,
    /// 在矫
    InCorrection,
    /// 解除
    Released,
    /// 撤销 / 收监
    Revoked,
    /// 终止
    Terminated,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::Received,
        CaseStatus::Reported,
        CaseStatus::InCorrection,
        CaseStatus::Released,
        CaseStatus::Revoked,
        CaseStatus::Terminated,
    ];
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::Reported => "reported",
            CaseStatus::InCorrection => "in_correction",
            CaseStatus::Released => "released",
            CaseStatus::Revoked => "revoked",
            CaseStatus::Terminated => "terminated",
        }
    }
    pub fn from_code(code: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// L-3 classified management: the supervision level sets how often the subject reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SupervisionLevel {
    /// 严管
    Strict,
    /// 普管
    Normal,
    /// 宽管
    Lenient,
}

impl SupervisionLevel {
    pub const ALL: [SupervisionLevel; 3] = [
        SupervisionLevel::Strict,
        SupervisionLevel::Normal,
        SupervisionLevel::Lenient,
    ];
    pub fn code(self) -> &'static str {
        match self {
            SupervisionLevel::Strict => "strict",
            SupervisionLevel::Normal => "normal",
            SupervisionLevel::Lenient => "lenient",
        }
    }
    pub fn from_code(code: &str) -> Option<SupervisionLevel> {
        SupervisionLevel::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// C-16: how a subject reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CheckinMethod {
    InPerson,
    Phone,
    Written,
    HomeVisit,
}

impl CheckinMethod {
    pub const ALL: [CheckinMethod; 4] = [
        CheckinMethod::InPerson,
        CheckinMethod::Phone,
        CheckinMethod::Written,
        CheckinMethod::HomeVisit,
    ];
    pub fn code(self) -> &'static str {
        match self {
            CheckinMethod::InPerson => "in_person",
            CheckinMethod::Phone => "phone",
            CheckinMethod::Written => "written",
            CheckinMethod::HomeVisit => "home_visit",
        }
    }
    pub fn from_code(code: &str) -> Option<CheckinMethod> {
        CheckinMethod::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    /// 社区工作站 工作人员
    CommunityClerk,
    /// 司法所 工作人员
    JudicialOfficer,
    /// 司法所 所长 / office head
    OfficeHead,
    /// 区司法局 管理员
    DistrictAdmin,
    /// C-24 检察院: read only
    ProcuratorateAuditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::CommunityClerk,
        Role::JudicialOfficer,
        Role::OfficeHead,
        Role::DistrictAdmin,
        Role::ProcuratorateAuditor,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Role::CommunityClerk => "community_clerk",
            Role::JudicialOfficer => "judicial_officer",
            Role::OfficeHead => "office_head",
            Role::DistrictAdmin => "district_admin",
            Role::ProcuratorateAuditor => "procuratorate_auditor",
        }
    }
    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|k| k.code() == code)
    }
    /// Who may write corrections records (C-, L- rules) at all (the permission matrix decides).
    pub fn may_write_corrections(self) -> bool {
        crate::permissions::may(
            self,
            crate::permissions::Area::Corrections,
            crate::permissions::Access::Write,
        )
    }
    pub fn may_read_corrections(self) -> bool {
        crate::permissions::may(
            self,
            crate::permissions::Area::Corrections,
            crate::permissions::Access::Read,
        )
    }
    /// W-: residents' affairs belong to the community workstation (and the district's oversight).
    pub fn may_use_residents(self) -> bool {
        crate::permissions::may(
            self,
            crate::permissions::Area::Residents,
            crate::permissions::Access::Write,
        )
    }
}

/// Levels of the org tree (DOMAIN.md "Organisation tree").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OrgKind {
    /// 区/县
    District,
    /// 街道/乡镇 (with its 司法所)
    Township,
    /// 社区/村 (with its 社区工作站)
    Community,
}

impl OrgKind {
    pub fn code(self) -> &'static str {
        match self {
            OrgKind::District => "district",
            OrgKind::Township => "township",
            OrgKind::Community => "community",
        }
    }
    pub fn from_code(code: &str) -> Option<OrgKind> {
        [OrgKind::District, OrgKind::Township, OrgKind::Community]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// The signed-in person on this desktop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionUser {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_unit_id: String,
}

/// What the desktop knows about itself, shown before and after enrolment.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AppInfo {
    pub enrolled: bool,
    pub site_id: Option<String>,
    pub site_name: Option<String>,
    pub org_unit_id: Option<String>,
    pub org_unit_name: Option<String>,
    pub server_url: Option<String>,
    pub data_dir: String,
    pub version: String,
    /// Issue 11 §2: this PC syncs over plain http with another machine (an explicit setting at
    /// enrolment); the status bar warns.
    #[serde(default)]
    pub plain_http: bool,
    /// Issue 11 §1: the store on disk is encrypted (always, for the desktop).
    #[serde(default)]
    pub encrypted_store: bool,
    /// Nobody has signed in since the app started (or everyone signed out): the store is closed.
    #[serde(default)]
    pub store_locked: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseQuery {
    /// Matches name, pinyin initials (e.g. "zs" for 张三) or the ID number (any part).
    pub text: Option<String>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
    pub include_deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Page<T: TS> {
    pub items: Vec<T>,
    pub total: u32,
    pub page: u32,
    pub page_size: u32,
}

impl CaseInput {
    /// An edit of `case` that changes nothing yet: set the fields to change (only they are logged).
    pub fn edit_of(case: &CaseRecord) -> CaseInput {
        CaseInput {
            id: Some(case.id.clone()),
            name: case.name.clone(),
            id_number: case.id_number.clone(),
            kind: case.kind,
            sentence_start: case.sentence_start.clone(),
            sentence_end: case.sentence_end.clone(),
            org_unit_id: None,
            status: None,
            judgment_effective_on: None,
            reported_on: None,
            supervision_level: None,
            sealed_minor: None,
            address: None,
        }
    }
}

/// A corrections case as stored (C-7 basics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseRecord {
    pub id: String,
    pub name: String,
    pub id_number: String,
    /// "male" | "female", derived from the ID number (GB 11643 digit 17).
    pub sex: String,
    /// YYYY-MM-DD, derived from the ID number.
    pub birth_date: String,
    pub kind: CaseKind,
    /// YYYY-MM-DD
    pub sentence_start: String,
    /// YYYY-MM-DD
    pub sentence_end: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub status: CaseStatus,
    /// L-1: the day the judgment or ruling took effect (starts the reporting clock), YYYY-MM-DD or "".
    pub judgment_effective_on: String,
    /// C-5: the day the subject reported in, or "".
    pub reported_on: String,
    pub supervision_level: Option<SupervisionLevel>,
    /// L-12: a minor's sealed record: identity kept secret, every read logged.
    pub sealed_minor: bool,
    /// C-7: address of residence.
    pub address: String,
    pub deleted: bool,
    /// True while some field has a concurrent edit waiting for review (D-3).
    pub has_conflict: bool,
    /// True until every operation of this case reached the server.
    pub pending_sync: bool,
    /// Where the lifecycle may go from here (core::lifecycle); empty once the case has ended.
    pub next_statuses: Vec<CaseStatus>,
    /// L-6: an open change of the place of execution (applied, or in transfer).
    pub transfer_status: Option<crate::transfer::TransferStatus>,
    /// L-6: this office's copy of a case handed over to another office (read-only), by its name.
    pub transferred_out_to: Option<String>,
    /// The officer responsible for the case (责任矫正专干), when assigned.
    pub officer_id: Option<String>,
    /// Their name, when this site knows the user ("" otherwise).
    pub officer_name: String,
    /// C-2: the groups the office marked by hand (comma-separated codes, as stored).
    pub priority_marks: String,
    /// C-2: every priority group of the subject (marked and derived).
    pub priority_groups: Vec<crate::casefile::PriorityGroup>,
}

/// What the case form sends. `id: None` creates a case; an id edits it (only changed fields are logged).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseInput {
    pub id: Option<String>,
    pub name: String,
    pub id_number: String,
    pub kind: CaseKind,
    pub sentence_start: String,
    pub sentence_end: String,
    /// Defaults to the user's org unit on create.
    pub org_unit_id: Option<String>,
    /// Defaults to `received` on create.
    pub status: Option<CaseStatus>,
    /// L-1 trigger, YYYY-MM-DD.
    #[serde(default)]
    pub judgment_effective_on: Option<String>,
    /// C-5: set to today when the status moves to reported and none is given.
    #[serde(default)]
    pub reported_on: Option<String>,
    #[serde(default)]
    pub supervision_level: Option<SupervisionLevel>,
    /// L-12: seal the record (offence under 18, sentence of 5 years or less).
    #[serde(default)]
    pub sealed_minor: Option<bool>,
    /// C-7: address of residence; None keeps the current one.
    #[serde(default)]
    pub address: Option<String>,
}

/// C-16 check-in / report entry: append-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CheckinRecord {
    pub id: String,
    pub case_id: String,
    /// RFC 3339 in Asia/Shanghai, e.g. 2026-11-26T09:30:00+08:00
    pub occurred_at: String,
    pub method: CheckinMethod,
    pub note: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CheckinInput {
    pub case_id: String,
    /// RFC 3339; a value without offset is read as Asia/Shanghai.
    pub occurred_at: String,
    pub method: CheckinMethod,
    pub note: String,
}

/// One change of one field, for the history panel ("Nothing is lost" in DOMAIN.md).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldChange {
    pub field: String,
    /// As shown: org units by name, flags as true/false.
    pub value: String,
    /// When (Shanghai time) the writing PC's clock said it was written.
    pub written_at: String,
    pub hlc: String,
    pub site_id: String,
    /// The writing site by the name the district gave it (its id when this PC has no name for it).
    pub site_name: String,
    /// Written on this PC.
    pub own_site: bool,
    pub user_id: String,
    /// The writer's display name when the user is known here, else the user id.
    pub user_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConflictItem {
    pub id: String,
    pub table: String,
    pub row_id: String,
    pub field: String,
    /// The provisional (deterministic) winner.
    pub winner_value: String,
    pub winner_site: String,
    /// The winner's site by the name the district gave it (its id when this PC has no name for it).
    pub winner_site_name: String,
    pub other_value: String,
    pub other_site: String,
    pub other_site_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseDetail {
    pub case: CaseRecord,
    pub checkins: Vec<CheckinRecord>,
    /// Supervision entries, newest first.
    pub entries: Vec<EntryRecord>,
    /// C-10 / C-11 per month of the correction period so far, newest first (at most 12).
    pub compliance: Vec<MonthCompliance>,
    /// L-8
    pub discipline: DisciplineStatus,
    /// L-5 leave requests, newest first.
    pub leaves: Vec<LeaveRecord>,
    /// C-14 assessments, newest first.
    pub assessments: Vec<AssessmentRecord>,
    /// L-12: who read this sealed record, when (empty for an unsealed case).
    pub access_log: Vec<AccessEntry>,
    /// C-7 family and relations, C-8 team, C-22 volunteers.
    pub persons: Vec<crate::casefile::PersonRecord>,
    /// C-8 correction plan and C-9 supervision agreement (None until first saved).
    pub plan: Option<crate::casefile::CasePlan>,
    /// Legal documents received and issued, oldest first.
    pub documents: Vec<crate::casefile::DocumentRecord>,
    /// What the file still lacks (C-7, C-8, C-9, C-22, L-4).
    pub file_checks: Vec<crate::casefile::FileCheck>,
    /// L-7 electronic location periods, oldest first.
    pub location_periods: Vec<crate::location::LocationPeriod>,
    /// L-6 changes of the place of execution, newest first.
    pub transfers: Vec<crate::transfer::TransferRecord>,
    /// L-7 location events, newest first (held at the judicial office only: empty elsewhere).
    pub location_events: Vec<crate::location::LocationEvent>,
    pub history: Vec<FieldChange>,
    pub conflicts: Vec<ConflictItem>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SyncStatus {
    /// None until the first attempt.
    pub online: Option<bool>,
    /// Operations written here and not yet acknowledged by the server.
    pub pending_ops: u32,
    /// RFC 3339 of the last fully successful push+pull.
    pub last_success_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// zh-CN message of the last failure, cleared on success.
    pub last_error: Option<String>,
    /// Server clock minus this PC's clock, seconds, from the last response.
    #[ts(type = "number | null")]
    pub clock_skew_secs: Option<i64>,
    pub interval_secs: u32,
    /// This PC's writes the server holds in quarantine, waiting for the district (issue 9).
    #[serde(default)]
    pub held_writes: u32,
    /// Requests the last successful sync sent again after the network failed or cut an answer.
    #[serde(default)]
    pub last_retries: u32,
    /// What a sync is doing right now, in Chinese (None when none runs).
    #[serde(default)]
    pub activity: Option<String>,
    /// What the last sync removed from this PC because it left the office's scope, in Chinese
    /// (issue 10 §5; None when nothing left).
    #[serde(default)]
    pub last_scope_notice: Option<String>,
}

impl SyncStatus {
    /// Issue 11 §1: before anyone signs in the store is encrypted and closed; nothing syncs and
    /// nothing about it is known (the status bar says why from `AppInfo::store_locked`).
    pub fn while_locked() -> SyncStatus {
        SyncStatus::default()
    }
}

/// A backup of the local store (the desktop's 备份 / 恢复).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BackupFile {
    pub name: String,
    pub size_bytes: u32,
    /// RFC 3339, Asia/Shanghai.
    pub created_at: String,
}

/// One of this district's writes the sync server held in quarantine instead of merging (issue 9), and
/// the district's decision on it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QuarantinedWrite {
    /// "<site id>:<site_seq>"
    pub id: String,
    pub site_id: String,
    /// The sending PC's name from the site directory.
    pub site_name: String,
    pub site_seq: u32,
    pub table: String,
    pub row_id: String,
    pub field: String,
    /// The value as sent (empty for data the district may not read).
    pub value_preview: String,
    /// Machine code (`bad_date`, `append_only`, `future_clock`, …).
    pub code: String,
    pub reason: String,
    pub reason_zh: String,
    pub received_at: String,
    /// `held`, `released` or `rejected`.
    pub status: String,
    pub decided_by: String,
    pub decided_at: String,
    pub decision_note: String,
}

/// Kinds of day-to-day supervision entries on a case (append-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EntryKind {
    /// C-10 社会公益劳动 (minutes)
    Labour,
    /// C-11 集中教育 (minutes)
    GroupEducation,
    /// C-11 个别教育 (minutes)
    IndividualEducation,
    /// C-12 心理矫正 session (minutes)
    PsychSession,
    /// C-16 思想汇报
    ThoughtReport,
    /// C-16 会客
    Visitor,
    /// C-15 表扬 / commendation
    Commendation,
    /// L-8 训诫
    Reprimand,
    /// L-8 警告
    Warning,
    /// L-8 脱管/失联: a period out of contact (days)
    OutOfContact,
    /// L-8: the subject corrected the behaviour of an earlier reprimand or warning (ref_entry_id)
    Corrected,
}

impl EntryKind {
    pub const ALL: [EntryKind; 11] = [
        EntryKind::Labour,
        EntryKind::GroupEducation,
        EntryKind::IndividualEducation,
        EntryKind::PsychSession,
        EntryKind::ThoughtReport,
        EntryKind::Visitor,
        EntryKind::Commendation,
        EntryKind::Reprimand,
        EntryKind::Warning,
        EntryKind::OutOfContact,
        EntryKind::Corrected,
    ];
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Labour => "labour",
            EntryKind::GroupEducation => "group_education",
            EntryKind::IndividualEducation => "individual_education",
            EntryKind::PsychSession => "psych_session",
            EntryKind::ThoughtReport => "thought_report",
            EntryKind::Visitor => "visitor",
            EntryKind::Commendation => "commendation",
            EntryKind::Reprimand => "reprimand",
            EntryKind::Warning => "warning",
            EntryKind::OutOfContact => "out_of_contact",
            EntryKind::Corrected => "corrected",
        }
    }
    pub fn from_code(code: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.code() == code)
    }
    /// Entries measured in minutes (labour, education, psychological sessions).
    pub fn takes_minutes(self) -> bool {
        matches!(
            self,
            EntryKind::Labour
                | EntryKind::GroupEducation
                | EntryKind::IndividualEducation
                | EntryKind::PsychSession
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EntryRecord {
    pub id: String,
    pub case_id: String,
    pub kind: EntryKind,
    /// YYYY-MM-DD (Shanghai calendar)
    pub occurred_on: String,
    pub minutes: Option<u32>,
    pub days: Option<u32>,
    /// For `corrected`: the reprimand or warning it closes.
    pub ref_entry_id: Option<String>,
    pub note: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EntryInput {
    pub case_id: String,
    pub kind: EntryKind,
    pub occurred_on: String,
    pub minutes: Option<u32>,
    pub days: Option<u32>,
    pub ref_entry_id: Option<String>,
    pub note: String,
}

/// C-10 / C-11 for one calendar month (Asia/Shanghai).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MonthCompliance {
    /// YYYY-MM
    pub month: String,
    pub labour_minutes: u32,
    pub labour_required_minutes: u32,
    pub group_education_sessions: u32,
    pub group_education_required_sessions: u32,
    pub labour_ok: bool,
    pub education_ok: bool,
    /// The month is still running: a shortfall is "not yet", not a breach.
    pub in_progress: bool,
}

/// L-8: where the subject stands on the discipline ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DisciplineStatus {
    pub uncorrected_reprimands: u32,
    pub uncorrected_warnings: u32,
    /// Longest recorded period out of contact, days.
    pub longest_out_of_contact_days: u32,
    /// The strongest measure the record makes eligible: "none" | "reprimand" | "warning" | "revocation_proposal".
    pub eligible: String,
    /// zh-CN explanation citing L-8.
    pub reason: String,
}

/// One statutory clock of one case, as the officer's digest shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseTask {
    /// "case" (a corrections case) or "appeal" (a W-2 appeal): what `case_id` names.
    pub subject_kind: String,
    pub case_id: String,
    pub case_name: String,
    /// The rule table id, e.g. "L-1.report".
    pub rule_id: String,
    /// The DOMAIN.md rule, e.g. "L-1".
    pub rule_ref: String,
    /// The rule's name from the rule table (`title_zh`), e.g. "每季度考评一次": what a screen shows
    /// in place of the id (issue 14 §5).
    pub rule_name: String,
    /// The rule's English name (`title_en`).
    pub rule_name_en: String,
    pub title_zh: String,
    pub title_en: String,
    /// YYYY-MM-DD
    pub due_date: String,
    /// "done" | "overdue" | "due_soon" | "due"
    pub status: String,
    #[ts(type = "number")]
    pub days_left: i64,
    /// The due date depends on a year the holiday calendar does not know yet (weekends only).
    pub calendar_unknown: bool,
    /// The role the task escalates to, once its escalation day has come.
    pub escalated_to: Option<Role>,
    /// The officer responsible for the case, when the task is a case's (lets an officer see their own).
    pub officer_id: Option<String>,
}

/// The daily digest (issue: statutory clock engine): open clocks of the user's cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TaskDigest {
    /// YYYY-MM-DD, Asia/Shanghai
    pub today: String,
    pub overdue: u32,
    pub due_soon: u32,
    pub due: u32,
    /// Overdue first, then by due date.
    pub tasks: Vec<CaseTask>,
}

/// L-5: who decides a leave request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ApprovalLevel {
    /// 司法所 (trips up to the office's maximum, 7 days)
    Office,
    /// 县级司法行政机关 (longer trips)
    County,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LeaveStatus {
    Requested,
    /// Given offline by an officer in the field, numbered, pending the county's decision.
    Provisional,
    Approved,
    Refused,
    Cancelled,
    /// The subject came back and reported (L-5).
    Returned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LeaveRecord {
    pub id: String,
    pub case_id: String,
    pub destination: String,
    pub reason: String,
    pub start_on: String,
    pub end_on: String,
    pub days: u32,
    pub requested_on: String,
    pub approval_level: ApprovalLevel,
    /// The last day to apply (L-5: 3 or 7 working days ahead).
    pub apply_by: String,
    pub late_application: bool,
    pub status: LeaveStatus,
    pub provisional_no: String,
    pub decided_by: String,
    pub decided_on: String,
    pub decision_note: String,
    pub returned_on: String,
    /// Days of approved leave in the trip's calendar year, this trip included.
    pub year_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LeaveInput {
    pub case_id: String,
    pub destination: String,
    pub reason: String,
    pub start_on: String,
    pub end_on: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LeaveDecision {
    Approve,
    Refuse,
    /// An officer's offline approval of a county-level request, pending the county.
    ApproveProvisionally,
    Cancel,
}

/// C-14: the result of a quarterly or annual assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AssessmentGrade {
    /// 优秀
    Excellent,
    /// 合格
    Pass,
    /// 基本合格
    BarelyPass,
    /// 不合格
    Fail,
}

/// C-14 社区矫正对象年(季)度考核表: four scored parts of 25 points each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AssessmentRecord {
    pub id: String,
    pub case_id: String,
    /// "2026-Q3" for a quarter, "2026" for the annual assessment.
    pub period: String,
    pub assessed_on: String,
    /// 遵纪守法
    pub score_conduct: u32,
    /// 日常报到与请销假
    pub score_reporting: u32,
    /// 教育学习与思想汇报
    pub score_study: u32,
    /// 公益劳动
    pub score_labour: u32,
    pub total: u32,
    pub grade: AssessmentGrade,
    pub opinion: String,
    pub assessor: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AssessmentInput {
    pub case_id: String,
    pub period: String,
    pub assessed_on: String,
    pub score_conduct: u32,
    pub score_reporting: u32,
    pub score_study: u32,
    pub score_labour: u32,
    pub opinion: String,
}

/// W-1 special groups of residents the workstation looks after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SpecialGroup {
    /// 独居老人
    ElderlyAlone,
    /// 低保
    LowIncome,
    /// 残疾人
    Disabled,
    /// 优抚对象
    Veteran,
    /// 留守儿童
    LeftBehindChild,
}

impl SpecialGroup {
    pub const ALL: [SpecialGroup; 5] = [
        SpecialGroup::ElderlyAlone,
        SpecialGroup::LowIncome,
        SpecialGroup::Disabled,
        SpecialGroup::Veteran,
        SpecialGroup::LeftBehindChild,
    ];
    pub fn code(self) -> &'static str {
        match self {
            SpecialGroup::ElderlyAlone => "elderly_alone",
            SpecialGroup::LowIncome => "low_income",
            SpecialGroup::Disabled => "disabled",
            SpecialGroup::Veteran => "veteran",
            SpecialGroup::LeftBehindChild => "left_behind_child",
        }
    }
    pub fn from_code(code: &str) -> Option<SpecialGroup> {
        SpecialGroup::ALL.into_iter().find(|g| g.code() == code)
    }
}

/// W-1: a resident of the community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ResidentRecord {
    pub id: String,
    pub name: String,
    /// Always 18 characters (a 15-digit legacy number is upgraded on entry).
    pub id_number: String,
    pub sex: String,
    pub birth_date: String,
    pub phone: String,
    /// 楼 / 单元 / 室
    pub building: String,
    pub unit: String,
    pub room: String,
    pub household_head: bool,
    pub special_groups: Vec<SpecialGroup>,
    pub note: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    /// Other registrations of the same person merged into this one (their ids), kept in full.
    pub merged_ids: Vec<String>,
    /// Phones of the merged registrations that differ from this one's (nothing is lost in a merge).
    pub other_phones: Vec<String>,
    pub deleted: bool,
    pub pending_sync: bool,
    pub has_conflict: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ResidentInput {
    pub id: Option<String>,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub household_head: bool,
    pub special_groups: Vec<SpecialGroup>,
    pub note: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ResidentQuery {
    /// Name, pinyin initials, ID number (any part) or address ("3-2-401", "3栋").
    pub text: Option<String>,
    /// Only residents of this special group.
    pub group: Option<SpecialGroup>,
    pub page: u32,
    pub page_size: u32,
    pub include_deleted: bool,
}

/// W-2 / L-14 / L-15: which clock an appeal runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AppealClass {
    /// 信访事项 (L-14: 60 days, +30 extension)
    Petition,
    /// 12345 紧急 (L-15: same day)
    HotlineUrgent,
    /// 12345 咨询 (L-15: 3 working days)
    HotlineEnquiry,
    /// 12345 投诉 (L-15: 13 working days)
    HotlineComplaint,
}

impl AppealClass {
    pub const ALL: [AppealClass; 4] = [
        AppealClass::Petition,
        AppealClass::HotlineUrgent,
        AppealClass::HotlineEnquiry,
        AppealClass::HotlineComplaint,
    ];
    pub fn code(self) -> &'static str {
        match self {
            AppealClass::Petition => "petition",
            AppealClass::HotlineUrgent => "hotline_urgent",
            AppealClass::HotlineEnquiry => "hotline_enquiry",
            AppealClass::HotlineComplaint => "hotline_complaint",
        }
    }
    pub fn from_code(code: &str) -> Option<AppealClass> {
        AppealClass::ALL.into_iter().find(|c| c.code() == code)
    }
    /// The rule table id of the handling clock.
    pub fn handling_rule(self) -> &'static str {
        match self {
            AppealClass::Petition => "L-14.handle",
            AppealClass::HotlineUrgent => "L-15.urgent",
            AppealClass::HotlineEnquiry => "L-15.enquiry",
            AppealClass::HotlineComplaint => "L-15.complaint",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AppealStatus {
    /// 已登记
    Registered,
    /// 已转办 to the responsible department(s)
    Routed,
    /// 已办结, result given
    Resolved,
    /// 已回访: the follow-up call recorded the resident's satisfaction
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AppealRecord {
    pub id: String,
    /// phone | counter | visit | letter | hotline
    pub channel: String,
    pub class: AppealClass,
    /// W-2 categories: urban_construction, planning, municipal, environment, housing, epidemic, other
    pub category: String,
    pub petitioner_name: String,
    pub petitioner_phone: String,
    pub subject: String,
    pub content: String,
    pub received_on: String,
    pub departments: Vec<String>,
    pub lead_department: String,
    pub status: AppealStatus,
    pub extended: bool,
    /// The handling deadline (L-14 / L-15), with the L-14 extension when granted.
    pub due_on: String,
    pub overdue: bool,
    pub result: String,
    pub resolved_on: String,
    pub satisfaction: String,
    pub followed_up_on: String,
    /// 催办 sent after the deadline passed.
    pub reminders: u32,
    /// One person index: 18 characters, or empty when not given.
    pub petitioner_id_number: String,
    /// W-2 举报: the petitioner reports a department; its routing slip masks the petitioner's identity.
    pub whistleblower: bool,
    /// W-2: the department complained about (empty unless `whistleblower`).
    pub complained_department: String,
    pub pending_sync: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AppealInput {
    pub channel: String,
    pub class: AppealClass,
    pub category: String,
    pub petitioner_name: String,
    pub petitioner_phone: String,
    pub subject: String,
    pub content: String,
    /// YYYY-MM-DD; defaults to today.
    pub received_on: Option<String>,
    /// Optional; checked against GB 11643 when given (15 digits are upgraded).
    #[serde(default)]
    pub petitioner_id_number: String,
    /// W-2 举报 against a department: requires `complained_department`.
    #[serde(default)]
    pub whistleblower: bool,
    #[serde(default)]
    pub complained_department: String,
}

/// One step on an appeal.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "action", rename_all = "snake_case")]
#[ts(export)]
pub enum AppealAction {
    Route {
        departments: Vec<String>,
        lead_department: String,
    },
    /// L-14: extend a complex petition once by up to 30 days.
    Extend,
    /// 催办 after the deadline.
    Remind,
    Resolve {
        result: String,
    },
    /// L-15: the follow-up call; satisfaction: satisfied | basically_satisfied | unsatisfied.
    FollowUp {
        satisfaction: String,
    },
}

/// L-12: one read of a sealed record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AccessEntry {
    pub user_name: String,
    /// RFC 3339, Asia/Shanghai
    pub accessed_at: String,
}

/// Two registrations of one person (same ID number) in the user's scope, waiting for a clerk to merge them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DuplicateSuggestion {
    pub id_number: String,
    /// Oldest registration first: the suggested one to keep.
    pub residents: Vec<ResidentRecord>,
}

/// An org unit by id and name (for pickers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OrgUnitRef {
    pub id: String,
    pub name: String,
}

/// D-3: a conflict item as the review screen shows it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConflictReview {
    pub item: ConflictItem,
    /// What the record is, in words (a case's or resident's name…).
    pub record_label: String,
    pub org_unit_name: String,
    /// The case to open, when the record belongs to one.
    pub case_id: Option<String>,
    pub resolved: bool,
    pub chosen_value: String,
    pub resolved_by: String,
    pub resolved_at: String,
}

/// Which of the two values of a conflict stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConflictChoice {
    /// The provisional winner (the later write).
    Winner,
    /// The other value.
    Other,
}
