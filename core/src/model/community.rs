//! API types of the community workstation's W-3 (people's mediation), W-4 (community-work admission)
//! and W-5 (volunteers and building leaders) screens. Exported to TypeScript like the rest of `model`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A fieldless enum with stable snake_case codes shared by serde, the store and the UI.
macro_rules! coded {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[ts(export)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

coded! {
    /// W-3: the kinds of civil dispute the mediation committee takes.
    DisputeType {
        /// 婚姻家庭
        MarriageFamily => "marriage_family",
        /// 邻里
        Neighbour => "neighbour",
        /// 房屋宅基地
        HousingLand => "housing_land",
        /// 合同
        Contract => "contract",
        /// 损害赔偿
        Damages => "damages",
        /// 劳动争议
        Labour => "labour",
        /// 物业
        PropertyManagement => "property_management",
        /// 其他
        Other => "other",
    }
}

coded! {
    /// W-3: how a mediation ended (人民调解法 第二十六条, 第二十八条).
    MediationOutcome {
        /// 调解成功: an agreement was reached.
        Success => "success",
        /// 调解不成: the parties are told of arbitration, administrative or court remedies.
        Failed => "failed",
        /// 终止: ended without a result (a party withdrew, the dispute went to court…).
        Terminated => "terminated",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediationPartyInput {
    /// None for a new party; an existing party's id to correct its details.
    pub id: Option<String>,
    pub name: String,
    /// Optional; checked against GB 11643 when given.
    pub id_number: String,
    pub phone: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediationParty {
    pub id: String,
    /// 1-based order: "当事人一", "当事人二", …
    pub seq: u32,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediationInput {
    /// None registers a new case; Some edits one (parties left out of the list are marked removed).
    pub id: Option<String>,
    pub dispute_type: DisputeType,
    /// The dispute in a few sentences.
    pub summary: String,
    /// YYYY-MM-DD; defaults to today (Asia/Shanghai).
    pub accepted_on: Option<String>,
    pub mediator: String,
    /// At least two.
    pub parties: Vec<MediationPartyInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediationSession {
    pub id: String,
    pub held_on: String,
    pub place: String,
    pub attendees: String,
    pub summary: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediationSessionInput {
    pub case_id: String,
    /// YYYY-MM-DD
    pub held_on: String,
    pub place: String,
    pub attendees: String,
    pub summary: String,
}

/// W-3 / L-16: a mediation case with its clocks computed from the rule table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediationRecord {
    pub id: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub dispute_type: DisputeType,
    pub summary: String,
    pub accepted_on: String,
    pub mediator: String,
    pub parties: Vec<MediationParty>,
    pub sessions: Vec<MediationSession>,
    /// None while the mediation is open.
    pub outcome: Option<MediationOutcome>,
    pub concluded_on: String,
    pub agreement_text: String,
    pub agreement_on: String,
    /// L-16.conclude: one month from acceptance (L-0 counting).
    pub conclude_due: String,
    /// Open past `conclude_due`.
    pub conclude_overdue: bool,
    /// L-16.court_confirmation: the last day the parties may jointly apply (empty without an agreement).
    pub court_confirmation_due: String,
    pub court_confirmation_applied_on: String,
    pub follow_up_on: String,
    pub follow_up_result: String,
    /// 激化风险
    pub escalation_risk: bool,
    pub risk_flagged_on: String,
    /// 已报告派出所
    pub police_reported_on: String,
    pub deleted: bool,
    pub pending_sync: bool,
}

/// One step on a mediation case.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "action", rename_all = "snake_case")]
#[ts(export)]
pub enum MediationAction {
    /// Ends the mediation once; a success carries the agreement and the day it took effect.
    Conclude {
        outcome: MediationOutcome,
        /// Required for a success; must be empty otherwise.
        agreement_text: String,
        /// YYYY-MM-DD; required for a success (it starts the L-16 court-confirmation window).
        agreement_on: Option<String>,
    },
    /// L-16 / 人民调解法 第三十三条: the parties applied to the court for confirmation.
    CourtConfirmationApplied { applied_on: String },
    /// W-3 回访 after the mediation ended.
    FollowUp { visited_on: String, result: String },
    /// Sets or clears the escalation-risk flag (人民调解法 第二十五条).
    SetRisk { risk: bool },
    /// The day the risk was reported to the police station.
    ReportToPolice { reported_on: String },
}

/// W-4: where a community-work admission application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AdmissionStatus {
    /// 待审核
    Pending,
    /// 准入 (with its funding: 费随事转)
    Approved,
    /// 不予准入 (with reasons)
    Refused,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AdmissionInput {
    /// The department that wants to bring work into the community.
    pub department: String,
    pub work_item: String,
    pub description: String,
    /// YYYY-MM-DD of the written application; defaults to today.
    pub applied_on: Option<String>,
    /// Funding the department offers with the work, in fen (1 yuan = 100 fen).
    #[ts(type = "number")]
    pub funding_offered_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AdmissionRecord {
    pub id: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub department: String,
    pub work_item: String,
    pub description: String,
    pub applied_on: String,
    #[ts(type = "number")]
    pub funding_offered_fen: i64,
    pub status: AdmissionStatus,
    pub decided_by: String,
    pub decided_on: String,
    pub decision_reasons: String,
    /// The funding that comes with approved work (费随事转), in fen; 0 unless approved.
    #[ts(type = "number")]
    pub funding_approved_fen: i64,
    pub deleted: bool,
    pub pending_sync: bool,
}

/// W-4: the district's decision on an application.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[ts(export)]
pub enum AdmissionDecision {
    /// Approved work comes with its funding (费随事转), in fen, more than zero.
    Approve {
        #[ts(type = "number")]
        funding_fen: i64,
    },
    /// Refusal needs written reasons.
    Refuse { reasons: String },
}

coded! {
    /// W-5: what a volunteer can do.
    VolunteerSkill {
        /// 医疗卫生
        Medical => "medical",
        /// 法律服务
        Legal => "legal",
        /// 教育辅导
        Tutoring => "tutoring",
        /// 为老服务
        ElderlyCare => "elderly_care",
        /// 维修
        Repair => "repair",
        /// 文体
        Culture => "culture",
        /// 心理疏导
        Counselling => "counselling",
        /// 治安巡逻
        Patrol => "patrol",
        /// 其他
        Other => "other",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VolunteerInput {
    pub id: Option<String>,
    pub name: String,
    /// Optional; checked against GB 11643 when given.
    pub id_number: String,
    pub phone: String,
    pub skills: Vec<VolunteerSkill>,
    /// 楼栋长 of `building`.
    pub building_leader: bool,
    pub building: String,
    /// C-22: available as a community-corrections volunteer (the judicial office pairs them).
    pub corrections_volunteer: bool,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VolunteerRecord {
    pub id: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub skills: Vec<VolunteerSkill>,
    pub building_leader: bool,
    pub building: String,
    pub corrections_volunteer: bool,
    pub note: String,
    /// All service hours recorded.
    pub total_hours: f64,
    pub deleted: bool,
    pub pending_sync: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ServiceInput {
    pub volunteer_id: String,
    /// YYYY-MM-DD (Asia/Shanghai), not in the future.
    pub served_on: String,
    /// More than 0, at most 24; kept to the minute.
    pub hours: f64,
    pub activity: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ServiceRecord {
    pub id: String,
    pub volunteer_id: String,
    pub served_on: String,
    pub hours: f64,
    pub activity: String,
    pub recorded_by: String,
}

/// One line of the yearly recognition list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VolunteerRank {
    /// 1-based; equal hours share a rank (1, 1, 3).
    pub rank: u32,
    pub volunteer_id: String,
    pub name: String,
    pub building_leader: bool,
    pub hours: f64,
    pub services: u32,
}

/// W-5: the year's recognition list and reward fund of the user's communities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VolunteerYear {
    pub year: i32,
    pub ranking: Vec<VolunteerRank>,
    /// Distinct households among the residents (addresses, plus heads registered without one).
    pub households: u32,
    /// The local rule's rate per household per year, in fen (W-5).
    #[ts(type = "number")]
    pub reward_rate_fen: i64,
    #[ts(type = "number")]
    pub reward_fund_fen: i64,
}
