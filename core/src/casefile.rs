//! The corrections case file beyond the basics (C-7): the people on it (family members and social
//! relations, the supervision team of C-8 with L-4, volunteers of C-22), the correction plan with the
//! supervision agreement (C-8, C-9), and the legal documents received and issued over the case's life
//! (C-3..C-5 and L-1 at intake, L-9 / C-19 revocation, C-17 / C-18 / L-10 release, C-20 / L-10
//! termination). Pure rules here; the store keeps the rows.

use crate::model::{CaseKind, CaseStatus};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// C-2 priority groups (重点对象): handled with particular care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PriorityGroup {
    /// 未成年人 (derived: under 18 when the correction began)
    Minor,
    /// 老年人 (derived: 60 or older today)
    Elderly,
    /// 女性 (derived from the ID number)
    Woman,
    /// 病残 (marked by the office)
    IllOrDisabled,
    /// 初犯 (marked by the office)
    FirstOffence,
    /// 过失犯 (marked by the office)
    Negligent,
}

impl PriorityGroup {
    pub const ALL: [PriorityGroup; 6] = [
        PriorityGroup::Minor,
        PriorityGroup::Elderly,
        PriorityGroup::Woman,
        PriorityGroup::IllOrDisabled,
        PriorityGroup::FirstOffence,
        PriorityGroup::Negligent,
    ];
    /// The groups an office marks by hand; the others follow from the case's data.
    pub const MARKED: [PriorityGroup; 3] = [
        PriorityGroup::IllOrDisabled,
        PriorityGroup::FirstOffence,
        PriorityGroup::Negligent,
    ];
    pub fn code(self) -> &'static str {
        match self {
            PriorityGroup::Minor => "minor",
            PriorityGroup::Elderly => "elderly",
            PriorityGroup::Woman => "woman",
            PriorityGroup::IllOrDisabled => "ill_or_disabled",
            PriorityGroup::FirstOffence => "first_offence",
            PriorityGroup::Negligent => "negligent",
        }
    }
    pub fn from_code(code: &str) -> Option<PriorityGroup> {
        PriorityGroup::ALL.into_iter().find(|g| g.code() == code)
    }
}

/// Age thresholds of C-2 (years).
const ADULT_AGE: u32 = 18;
const ELDERLY_AGE: u32 = 60;

/// C-2: the groups a subject belongs to — those that follow from sex, birth date and the start of the
/// correction, plus those the office marked (comma-separated codes).
pub fn priority_groups(
    sex: &str,
    birth_date: &str,
    sentence_start: &str,
    marked: &str,
    today: chrono::NaiveDate,
) -> Vec<PriorityGroup> {
    use chrono::NaiveDate;
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let age_on = |birth: NaiveDate, day: NaiveDate| day.years_since(birth).unwrap_or(0);
    let mut groups: Vec<PriorityGroup> = marked
        .split(',')
        .filter_map(|c| PriorityGroup::from_code(c.trim()))
        .filter(|g| PriorityGroup::MARKED.contains(g))
        .collect();
    if sex == "female" {
        groups.push(PriorityGroup::Woman);
    }
    if let Some(birth) = parse(birth_date) {
        if parse(sentence_start).is_some_and(|start| age_on(birth, start) < ADULT_AGE) {
            groups.push(PriorityGroup::Minor);
        }
        if age_on(birth, today) >= ELDERLY_AGE {
            groups.push(PriorityGroup::Elderly);
        }
    }
    groups.sort();
    groups.dedup();
    groups
}

/// How a person relates to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PersonRole {
    /// C-7 家庭成员
    Family,
    /// C-7 社会关系
    Relation,
    /// C-8 监督考察小组（矫正小组）成员
    TeamMember,
    /// C-22 志愿者
    Volunteer,
}

impl PersonRole {
    pub const ALL: [PersonRole; 4] = [
        PersonRole::Family,
        PersonRole::Relation,
        PersonRole::TeamMember,
        PersonRole::Volunteer,
    ];
    pub fn code(self) -> &'static str {
        match self {
            PersonRole::Family => "family",
            PersonRole::Relation => "relation",
            PersonRole::TeamMember => "team_member",
            PersonRole::Volunteer => "volunteer",
        }
    }
    pub fn from_code(code: &str) -> Option<PersonRole> {
        PersonRole::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// C-8: the "5+1" seats of the supervision team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TeamRole {
    /// 综治负责人
    GovernanceHead,
    /// 片区民警
    PoliceOfficer,
    /// 包村（居）联络干部
    LiaisonCadre,
    /// 村（居）或所在单位负责人
    LocalResponsible,
    /// 家庭成员
    FamilyMember,
    /// 其他（社会工作者、志愿者……）
    Other,
}

impl TeamRole {
    pub const ALL: [TeamRole; 6] = [
        TeamRole::GovernanceHead,
        TeamRole::PoliceOfficer,
        TeamRole::LiaisonCadre,
        TeamRole::LocalResponsible,
        TeamRole::FamilyMember,
        TeamRole::Other,
    ];
    /// The seats the pilot plan's "5+1" team fills (C-8, a seed rule: advice, not a refusal).
    pub const FIVE_PLUS_ONE: [TeamRole; 5] = [
        TeamRole::GovernanceHead,
        TeamRole::PoliceOfficer,
        TeamRole::LiaisonCadre,
        TeamRole::LocalResponsible,
        TeamRole::FamilyMember,
    ];
    pub fn code(self) -> &'static str {
        match self {
            TeamRole::GovernanceHead => "governance_head",
            TeamRole::PoliceOfficer => "police_officer",
            TeamRole::LiaisonCadre => "liaison_cadre",
            TeamRole::LocalResponsible => "local_responsible",
            TeamRole::FamilyMember => "family_member",
            TeamRole::Other => "other",
        }
    }
    pub fn from_code(code: &str) -> Option<TeamRole> {
        TeamRole::ALL.into_iter().find(|r| r.code() == code)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            TeamRole::GovernanceHead => "综治负责人",
            TeamRole::PoliceOfficer => "片区民警",
            TeamRole::LiaisonCadre => "联络干部",
            TeamRole::LocalResponsible => "村（居）或单位负责人",
            TeamRole::FamilyMember => "家庭成员",
            TeamRole::Other => "其他",
        }
    }
}

/// C-9: who signs the supervision agreement, in the order the pilot plan prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum GuarantorKind {
    /// 有监护能力的直系亲属
    DirectRelative,
    /// 所在单位
    Employer,
    /// 村（居）委会
    Committee,
    /// 自愿担任的近亲属
    CloseRelative,
}

impl GuarantorKind {
    pub const ALL: [GuarantorKind; 4] = [
        GuarantorKind::DirectRelative,
        GuarantorKind::Employer,
        GuarantorKind::Committee,
        GuarantorKind::CloseRelative,
    ];
    pub fn code(self) -> &'static str {
        match self {
            GuarantorKind::DirectRelative => "direct_relative",
            GuarantorKind::Employer => "employer",
            GuarantorKind::Committee => "committee",
            GuarantorKind::CloseRelative => "close_relative",
        }
    }
    pub fn from_code(code: &str) -> Option<GuarantorKind> {
        GuarantorKind::ALL.into_iter().find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PersonRecord {
    pub id: String,
    pub case_id: String,
    pub role: PersonRole,
    pub team_role: Option<TeamRole>,
    pub name: String,
    /// "male" | "female" | "" (L-4 needs it for team members)
    pub sex: String,
    /// 称谓 / 关系, e.g. 父亲, 配偶, 同事
    pub relation: String,
    pub phone: String,
    pub work_unit: String,
    pub note: String,
}

/// `id: None` adds a person; an id edits one (only changed fields are logged).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PersonInput {
    pub id: Option<String>,
    pub case_id: String,
    pub role: PersonRole,
    #[serde(default)]
    pub team_role: Option<TeamRole>,
    pub name: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub work_unit: String,
    #[serde(default)]
    pub note: String,
}

/// C-8 correction plan and C-9 supervision agreement of a case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CasePlan {
    pub case_id: String,
    pub plan_text: String,
    /// YYYY-MM-DD or ""
    pub made_on: String,
    /// C-8: the plan is made together with the police station.
    pub made_with_police: bool,
    /// C-9, YYYY-MM-DD or ""
    pub agreement_signed_on: String,
    /// The person (on this case file) who signed the agreement.
    pub guarantor_person_id: Option<String>,
    pub guarantor_kind: Option<GuarantorKind>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CasePlanInput {
    pub case_id: String,
    pub plan_text: String,
    pub made_on: String,
    pub made_with_police: bool,
    #[serde(default)]
    pub agreement_signed_on: String,
    #[serde(default)]
    pub guarantor_person_id: Option<String>,
    #[serde(default)]
    pub guarantor_kind: Option<GuarantorKind>,
}

/// The stage of the case a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DocumentStage {
    Intake,
    Transfer,
    Revocation,
    Release,
    Termination,
    Other,
}

/// The legal documents of a case, received (from the court, prison, police) or issued by the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DocumentType {
    /// C-3 判决书
    Judgment,
    /// C-3 裁定书（假释裁定等）
    Ruling,
    /// C-3 暂予监外执行决定书
    TemporaryExecutionDecision,
    /// C-3 执行通知书
    ExecutionNotice,
    /// C-3 出监（所）鉴定
    PrisonAppraisal,
    /// L-2 调查评估意见书
    InvestigationOpinion,
    /// C-5 报到时的教育谈话记录（家属到场）
    IntakeTalk,
    /// 入矫宣告
    IntakeAnnouncement,
    /// L-6 变更执行地决定书
    TransferDecision,
    /// L-6 档案移交
    FileHandover,
    /// L-9 撤销缓刑（假释）建议书，送人民法院并抄送人民检察院
    RevocationProposal,
    /// C-19 / L-9 收监执行建议书（暂予监外执行）
    CommittalProposal,
    /// L-9 提请逮捕
    ArrestRequest,
    /// L-9 人民法院逮捕决定
    ArrestRuling,
    /// L-9 撤销缓刑（假释）裁定书
    RevocationRuling,
    /// L-9 收监执行决定书
    CommittalDecision,
    /// C-17 自我鉴定
    SelfAppraisal,
    /// C-17 评议会记录
    ReviewMeeting,
    /// C-17 鉴定意见（报区司法局、公安机关）
    Appraisal,
    /// C-18 解除社区矫正宣告
    ReleaseAnnouncement,
    /// L-10 解除社区矫正证明书
    ReleaseCertificate,
    /// L-10 通知社区矫正决定机关
    NoticeCourt,
    /// L-10 通知人民检察院
    NoticeProcuratorate,
    /// L-10 通知公安机关
    NoticePolice,
    /// L-10 / C-20 死亡通报（死亡证明）
    DeathReport,
    /// L-10 / C-20 终止社区矫正通知书
    TerminationNotice,
    Other,
}

impl DocumentType {
    pub const ALL: [DocumentType; 27] = [
        DocumentType::Judgment,
        DocumentType::Ruling,
        DocumentType::TemporaryExecutionDecision,
        DocumentType::ExecutionNotice,
        DocumentType::PrisonAppraisal,
        DocumentType::InvestigationOpinion,
        DocumentType::IntakeTalk,
        DocumentType::IntakeAnnouncement,
        DocumentType::TransferDecision,
        DocumentType::FileHandover,
        DocumentType::RevocationProposal,
        DocumentType::CommittalProposal,
        DocumentType::ArrestRequest,
        DocumentType::ArrestRuling,
        DocumentType::RevocationRuling,
        DocumentType::CommittalDecision,
        DocumentType::SelfAppraisal,
        DocumentType::ReviewMeeting,
        DocumentType::Appraisal,
        DocumentType::ReleaseAnnouncement,
        DocumentType::ReleaseCertificate,
        DocumentType::NoticeCourt,
        DocumentType::NoticeProcuratorate,
        DocumentType::NoticePolice,
        DocumentType::DeathReport,
        DocumentType::TerminationNotice,
        DocumentType::Other,
    ];

    pub fn code(self) -> &'static str {
        use DocumentType::*;
        match self {
            Judgment => "judgment",
            Ruling => "ruling",
            TemporaryExecutionDecision => "temporary_execution_decision",
            ExecutionNotice => "execution_notice",
            PrisonAppraisal => "prison_appraisal",
            InvestigationOpinion => "investigation_opinion",
            IntakeTalk => "intake_talk",
            IntakeAnnouncement => "intake_announcement",
            TransferDecision => "transfer_decision",
            FileHandover => "file_handover",
            RevocationProposal => "revocation_proposal",
            CommittalProposal => "committal_proposal",
            ArrestRequest => "arrest_request",
            ArrestRuling => "arrest_ruling",
            RevocationRuling => "revocation_ruling",
            CommittalDecision => "committal_decision",
            SelfAppraisal => "self_appraisal",
            ReviewMeeting => "review_meeting",
            Appraisal => "appraisal",
            ReleaseAnnouncement => "release_announcement",
            ReleaseCertificate => "release_certificate",
            NoticeCourt => "notice_court",
            NoticeProcuratorate => "notice_procuratorate",
            NoticePolice => "notice_police",
            DeathReport => "death_report",
            TerminationNotice => "termination_notice",
            Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<DocumentType> {
        DocumentType::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn stage(self) -> DocumentStage {
        use DocumentType::*;
        match self {
            Judgment
            | Ruling
            | TemporaryExecutionDecision
            | ExecutionNotice
            | PrisonAppraisal
            | InvestigationOpinion
            | IntakeTalk
            | IntakeAnnouncement => DocumentStage::Intake,
            TransferDecision | FileHandover => DocumentStage::Transfer,
            RevocationProposal | CommittalProposal | ArrestRequest | ArrestRuling
            | RevocationRuling | CommittalDecision => DocumentStage::Revocation,
            SelfAppraisal | ReviewMeeting | Appraisal | ReleaseAnnouncement
            | ReleaseCertificate | NoticeCourt | NoticeProcuratorate | NoticePolice => {
                DocumentStage::Release
            }
            DeathReport | TerminationNotice => DocumentStage::Termination,
            Other => DocumentStage::Other,
        }
    }

    pub fn label_zh(self) -> &'static str {
        use DocumentType::*;
        match self {
            Judgment => "判决书",
            Ruling => "裁定书",
            TemporaryExecutionDecision => "暂予监外执行决定书",
            ExecutionNotice => "执行通知书",
            PrisonAppraisal => "出监（所）鉴定",
            InvestigationOpinion => "调查评估意见书",
            IntakeTalk => "报到教育谈话记录",
            IntakeAnnouncement => "入矫宣告",
            TransferDecision => "变更执行地决定书",
            FileHandover => "档案移交",
            RevocationProposal => "撤销缓刑（假释）建议书",
            CommittalProposal => "收监执行建议书",
            ArrestRequest => "提请逮捕",
            ArrestRuling => "逮捕决定",
            RevocationRuling => "撤销缓刑（假释）裁定书",
            CommittalDecision => "收监执行决定书",
            SelfAppraisal => "自我鉴定",
            ReviewMeeting => "评议会记录",
            Appraisal => "鉴定意见",
            ReleaseAnnouncement => "解除社区矫正宣告",
            ReleaseCertificate => "解除社区矫正证明书",
            NoticeCourt => "通知决定机关",
            NoticeProcuratorate => "通知人民检察院",
            NoticePolice => "通知公安机关",
            DeathReport => "死亡通报",
            TerminationNotice => "终止社区矫正通知书",
            Other => "其他文书",
        }
    }

    /// L-9: the 48-hour arrest clock needs the hour the request went out.
    pub fn needs_time_of_day(self) -> bool {
        self == DocumentType::ArrestRequest
    }

    /// The documents by which a case's intake documents count as received (L-1.documents).
    pub fn is_sentencing_document(self) -> bool {
        use DocumentType::*;
        matches!(
            self,
            Judgment | Ruling | TemporaryExecutionDecision | ExecutionNotice
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DocumentRecord {
    pub id: String,
    pub case_id: String,
    pub doc_type: DocumentType,
    pub stage: DocumentStage,
    /// 文号
    pub doc_no: String,
    /// Who issued it (received documents) or to whom it went (issued ones).
    pub counterpart: String,
    /// The day it was received, issued or held, YYYY-MM-DD.
    pub dated_on: String,
    /// HH:MM (Asia/Shanghai) or "": only hour-counted clocks need it (L-9 arrest: 48 h).
    pub time_of_day: String,
    pub note: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DocumentInput {
    pub id: Option<String>,
    pub case_id: String,
    pub doc_type: DocumentType,
    #[serde(default)]
    pub doc_no: String,
    #[serde(default)]
    pub counterpart: String,
    pub dated_on: String,
    #[serde(default)]
    pub time_of_day: String,
    #[serde(default)]
    pub note: String,
}

/// "required": the law or a binding rule asks for it; "advice": the pilot plan's practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CheckSeverity {
    Required,
    Advice,
}

/// One thing missing from the case file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FileCheck {
    /// The DOMAIN.md rule, e.g. "L-4".
    pub rule_ref: String,
    pub severity: CheckSeverity,
    pub message_zh: String,
    pub message_en: String,
}

impl FileCheck {
    fn new(rule_ref: &str, severity: CheckSeverity, zh: String, en: String) -> FileCheck {
        FileCheck {
            rule_ref: rule_ref.to_string(),
            severity,
            message_zh: zh,
            message_en: en,
        }
    }
}

/// What the case file still lacks for a case in `status` with a subject of `subject_sex`.
pub fn file_checks(
    status: CaseStatus,
    subject_sex: &str,
    persons: &[PersonRecord],
    plan: Option<&CasePlan>,
) -> Vec<FileCheck> {
    let mut out = Vec::new();
    if !matches!(status, CaseStatus::Reported | CaseStatus::InCorrection) {
        return out;
    }
    let team: Vec<&PersonRecord> = persons
        .iter()
        .filter(|p| p.role == PersonRole::TeamMember)
        .collect();
    if team.is_empty() {
        out.push(FileCheck::new(
            "C-8",
            CheckSeverity::Required,
            "尚未组建矫正小组（监督考察小组）。".into(),
            "No supervision team yet.".into(),
        ));
    } else {
        // L-4 [law Art25]: a female subject's team must include a woman.
        if subject_sex == "female" && !team.iter().any(|p| p.sex == "female") {
            out.push(FileCheck::new(
                "L-4",
                CheckSeverity::Required,
                "矫正对象为女性，矫正小组中应当有女性成员（社区矫正法第二十五条）。".into(),
                "The subject is a woman: the team must include a woman (law Art. 25).".into(),
            ));
        }
        let missing: Vec<TeamRole> = TeamRole::FIVE_PLUS_ONE
            .into_iter()
            .filter(|seat| !team.iter().any(|p| p.team_role == Some(*seat)))
            .collect();
        if !missing.is_empty() {
            let zh: Vec<&str> = missing.iter().map(|r| r.label_zh()).collect();
            let en: Vec<&str> = missing.iter().map(|r| r.code()).collect();
            out.push(FileCheck::new(
                "C-8",
                CheckSeverity::Advice,
                format!("“5+1”矫正小组尚缺：{}。", zh.join("、")),
                format!("The 5+1 team lacks: {}.", en.join(", ")),
            ));
        }
    }
    let plan_made = plan.is_some_and(|p| !p.plan_text.trim().is_empty() && !p.made_on.is_empty());
    if !plan_made {
        out.push(FileCheck::new(
            "C-8",
            CheckSeverity::Required,
            "尚未制定矫正方案。".into(),
            "No correction plan yet.".into(),
        ));
    }
    let agreement_signed = plan.is_some_and(|p| {
        !p.agreement_signed_on.is_empty()
            && p.guarantor_person_id.is_some()
            && p.guarantor_kind.is_some()
    });
    if !agreement_signed {
        out.push(FileCheck::new(
            "C-9",
            CheckSeverity::Required,
            "尚未与监护人（担保人）签订监督管理协议。".into(),
            "No supervision agreement signed yet.".into(),
        ));
    }
    if !persons.iter().any(|p| p.role == PersonRole::Volunteer) {
        out.push(FileCheck::new(
            "C-22",
            CheckSeverity::Advice,
            "尚未安排志愿者（试点方案：每名对象1名志愿者）。".into(),
            "No volunteer assigned (pilot plan: one per subject).".into(),
        ));
    }
    if !persons.iter().any(|p| p.role == PersonRole::Family) {
        out.push(FileCheck::new(
            "C-7",
            CheckSeverity::Advice,
            "档案中尚无家庭成员信息。".into(),
            "The file lists no family members.".into(),
        ));
    }
    out
}

/// The documents a status change needs on file first, as (missing documents, rule id).
/// Release (C-17): the self-appraisal, the review meeting and the appraisal come before the end.
/// Revocation (L-9, C-19): the court's ruling or the committal decision. Termination (L-10, C-20): the
/// death report or the termination notice (detention alone does not terminate a case).
pub fn documents_missing_for(
    to: CaseStatus,
    kind: CaseKind,
    on_file: &[DocumentType],
) -> Option<(Vec<DocumentType>, &'static str)> {
    use DocumentType::*;
    let has = |d: DocumentType| on_file.contains(&d);
    match to {
        CaseStatus::Released => {
            let missing: Vec<DocumentType> = [SelfAppraisal, ReviewMeeting, Appraisal]
                .into_iter()
                .filter(|d| !has(*d))
                .collect();
            (!missing.is_empty()).then_some((missing, "C-17"))
        }
        CaseStatus::Revoked => {
            let decisive = if kind == CaseKind::TemporaryOutside {
                vec![CommittalDecision]
            } else {
                vec![RevocationRuling, CommittalDecision]
            };
            (!decisive.iter().any(|d| has(*d))).then_some((decisive, "L-9"))
        }
        CaseStatus::Terminated => {
            let grounds = vec![DeathReport, TerminationNotice];
            (!grounds.iter().any(|d| has(*d))).then_some((grounds, "L-10"))
        }
        _ => None,
    }
}

/// The paperwork L-10 and C-18 ask for once a case is released.
pub const RELEASE_PAPERWORK: [DocumentType; 5] = [
    DocumentType::ReleaseAnnouncement,
    DocumentType::ReleaseCertificate,
    DocumentType::NoticeCourt,
    DocumentType::NoticeProcuratorate,
    DocumentType::NoticePolice,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: PersonRole, team_role: Option<TeamRole>, sex: &str) -> PersonRecord {
        PersonRecord {
            id: format!("{}-{:?}-{sex}", role.code(), team_role),
            case_id: "c".into(),
            role,
            team_role,
            name: "某某".into(),
            sex: sex.into(),
            relation: String::new(),
            phone: String::new(),
            work_unit: String::new(),
            note: String::new(),
        }
    }

    fn full_team(sex: &str) -> Vec<PersonRecord> {
        TeamRole::FIVE_PLUS_ONE
            .into_iter()
            .map(|r| person(PersonRole::TeamMember, Some(r), sex))
            .collect()
    }

    fn signed_plan() -> CasePlan {
        CasePlan {
            case_id: "c".into(),
            plan_text: "每周电话报告".into(),
            made_on: "2026-03-01".into(),
            made_with_police: true,
            agreement_signed_on: "2026-03-01".into(),
            guarantor_person_id: Some("p".into()),
            guarantor_kind: Some(GuarantorKind::DirectRelative),
        }
    }

    fn refs(checks: &[FileCheck]) -> Vec<(&str, CheckSeverity)> {
        checks
            .iter()
            .map(|c| (c.rule_ref.as_str(), c.severity))
            .collect()
    }

    #[test]
    fn l4_female_subject_needs_a_woman_on_the_team() {
        let mut persons = full_team("male");
        persons.push(person(PersonRole::Volunteer, None, "male"));
        persons.push(person(PersonRole::Family, None, "male"));
        let plan = signed_plan();
        let checks = file_checks(CaseStatus::InCorrection, "female", &persons, Some(&plan));
        assert_eq!(refs(&checks), vec![("L-4", CheckSeverity::Required)]);
        assert!(checks[0].message_zh.contains("女性"));
        // The same team is fine for a male subject, and a woman on it satisfies L-4.
        assert!(file_checks(CaseStatus::InCorrection, "male", &persons, Some(&plan)).is_empty());
        persons[4].sex = "female".into();
        assert!(file_checks(CaseStatus::InCorrection, "female", &persons, Some(&plan)).is_empty());
    }

    #[test]
    fn c8_c9_c22_c7_missing_parts_of_the_file_are_named() {
        let checks = file_checks(CaseStatus::InCorrection, "male", &[], None);
        assert_eq!(
            refs(&checks),
            vec![
                ("C-8", CheckSeverity::Required),
                ("C-8", CheckSeverity::Required),
                ("C-9", CheckSeverity::Required),
                ("C-22", CheckSeverity::Advice),
                ("C-7", CheckSeverity::Advice),
            ]
        );
        let mut team = full_team("female");
        team.remove(1);
        let checks = file_checks(CaseStatus::InCorrection, "male", &team, None);
        let advice = checks
            .iter()
            .find(|c| c.rule_ref == "C-8" && c.severity == CheckSeverity::Advice)
            .expect("the missing seat is named");
        assert!(
            advice.message_zh.contains("片区民警"),
            "{}",
            advice.message_zh
        );
    }

    #[test]
    fn c9_agreement_needs_date_signer_and_kind() {
        let persons = full_team("male");
        let mut plan = signed_plan();
        plan.guarantor_kind = None;
        let checks = file_checks(CaseStatus::InCorrection, "male", &persons, Some(&plan));
        assert!(checks.iter().any(|c| c.rule_ref == "C-9"));
    }

    #[test]
    fn ended_or_not_yet_reported_cases_are_not_checked() {
        for status in [
            CaseStatus::Received,
            CaseStatus::Released,
            CaseStatus::Revoked,
            CaseStatus::Terminated,
        ] {
            assert!(file_checks(status, "female", &[], None).is_empty());
        }
    }

    #[test]
    fn c17_release_needs_the_appraisal_documents() {
        use DocumentType::*;
        let (missing, rule) =
            documents_missing_for(CaseStatus::Released, CaseKind::Probation, &[SelfAppraisal])
                .expect("missing");
        assert_eq!(rule, "C-17");
        assert_eq!(missing, vec![ReviewMeeting, Appraisal]);
        assert!(documents_missing_for(
            CaseStatus::Released,
            CaseKind::Probation,
            &[Appraisal, ReviewMeeting, SelfAppraisal]
        )
        .is_none());
    }

    #[test]
    fn l9_revocation_needs_the_ruling_and_temporary_execution_the_committal_decision() {
        use DocumentType::*;
        assert!(documents_missing_for(
            CaseStatus::Revoked,
            CaseKind::Probation,
            &[RevocationProposal]
        )
        .is_some());
        assert!(
            documents_missing_for(CaseStatus::Revoked, CaseKind::Parole, &[RevocationRuling])
                .is_none()
        );
        // A court ruling on probation does not revoke a temporary execution outside prison (C-19).
        assert!(documents_missing_for(
            CaseStatus::Revoked,
            CaseKind::TemporaryOutside,
            &[RevocationRuling]
        )
        .is_some());
        assert!(documents_missing_for(
            CaseStatus::Revoked,
            CaseKind::TemporaryOutside,
            &[CommittalDecision]
        )
        .is_none());
    }

    #[test]
    fn l10_termination_needs_its_ground_on_file() {
        use DocumentType::*;
        assert!(documents_missing_for(CaseStatus::Terminated, CaseKind::Probation, &[]).is_some());
        assert!(
            documents_missing_for(CaseStatus::Terminated, CaseKind::Probation, &[DeathReport])
                .is_none()
        );
        assert!(
            documents_missing_for(CaseStatus::InCorrection, CaseKind::Probation, &[]).is_none()
        );
    }

    #[test]
    fn c2_priority_groups_follow_from_the_data_and_the_offices_marks() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        // A woman of 17 when her correction began, marked as a first offender; a junk mark is ignored,
        // and a derived group cannot be marked by hand.
        assert_eq!(
            priority_groups(
                "female",
                "2008-09-01",
                "2026-03-01",
                "first_offence,bogus,elderly",
                today
            ),
            vec![
                PriorityGroup::Minor,
                PriorityGroup::Woman,
                PriorityGroup::FirstOffence
            ]
        );
        // 18 on the day the correction began is no longer a minor; 60 today is elderly.
        assert_eq!(
            priority_groups("male", "2008-03-01", "2026-03-01", "", today),
            Vec::<PriorityGroup>::new()
        );
        assert_eq!(
            priority_groups("male", "1966-06-01", "2026-03-01", "negligent", today),
            vec![PriorityGroup::Elderly, PriorityGroup::Negligent]
        );
    }

    #[test]
    fn every_document_type_has_a_unique_code_and_a_stage() {
        let mut codes: Vec<&str> = DocumentType::ALL.iter().map(|d| d.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), DocumentType::ALL.len());
        for d in DocumentType::ALL {
            assert_eq!(DocumentType::from_code(d.code()), Some(d));
            assert!(!d.label_zh().is_empty());
        }
        assert_eq!(
            DocumentType::RevocationRuling.stage(),
            DocumentStage::Revocation
        );
    }
}
