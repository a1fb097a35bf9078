//! L-2 pre-decision community assessment (调查评估, 社区矫正法 Art18; 实施办法 2020 Art14): a court,
//! procuratorate, police or prison asks the judicial office where the person lives whether community
//! correction suits them; the office investigates and sends a written opinion back — within 10 working
//! days, 5 in fast-track proceedings (rule table `L-2.opinion`, `L-2.opinion_fast_track`). The person is
//! not a corrections subject (yet): the request is its own record, linked to a case once one exists
//! with the same ID number.

use crate::model::CaseKind;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RequestingOrgan {
    /// 人民法院
    Court,
    /// 人民检察院
    Procuratorate,
    /// 公安机关
    Police,
    /// 监狱管理机关
    Prison,
}

impl RequestingOrgan {
    pub const ALL: [RequestingOrgan; 4] = [
        RequestingOrgan::Court,
        RequestingOrgan::Procuratorate,
        RequestingOrgan::Police,
        RequestingOrgan::Prison,
    ];
    pub fn code(self) -> &'static str {
        match self {
            RequestingOrgan::Court => "court",
            RequestingOrgan::Procuratorate => "procuratorate",
            RequestingOrgan::Police => "police",
            RequestingOrgan::Prison => "prison",
        }
    }
    pub fn from_code(code: &str) -> Option<RequestingOrgan> {
        RequestingOrgan::ALL.into_iter().find(|o| o.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum InvestigationStatus {
    /// 调查中
    Open,
    /// 已提交评估意见
    Answered,
    /// 委托机关撤回
    Withdrawn,
}

impl InvestigationStatus {
    pub fn code(self) -> &'static str {
        match self {
            InvestigationStatus::Open => "open",
            InvestigationStatus::Answered => "answered",
            InvestigationStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn from_code(code: &str) -> Option<InvestigationStatus> {
        [
            InvestigationStatus::Open,
            InvestigationStatus::Answered,
            InvestigationStatus::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// The written opinion (评估意见).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AssessmentOpinion {
    /// 适宜社区矫正
    Suitable,
    /// 不适宜社区矫正
    Unsuitable,
}

impl AssessmentOpinion {
    pub fn code(self) -> &'static str {
        match self {
            AssessmentOpinion::Suitable => "suitable",
            AssessmentOpinion::Unsuitable => "unsuitable",
        }
    }
    pub fn from_code(code: &str) -> Option<AssessmentOpinion> {
        [AssessmentOpinion::Suitable, AssessmentOpinion::Unsuitable]
            .into_iter()
            .find(|o| o.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InvestigationRecord {
    pub id: String,
    pub org_unit_id: String,
    pub name: String,
    /// "" when the request gives none.
    pub id_number: String,
    pub organ: RequestingOrgan,
    /// 委托机关名称, e.g. 示范区人民法院
    pub organ_name: String,
    /// The measure the requesting organ considers.
    pub proposed_kind: CaseKind,
    /// 涉嫌（被判）罪名
    pub offence: String,
    pub residence: String,
    pub received_on: String,
    /// 速裁程序: 5 working days instead of 10.
    pub fast_track: bool,
    pub status: InvestigationStatus,
    /// The last day for the opinion (L-2), from the rule table.
    pub due_on: String,
    pub overdue: bool,
    pub opinion: Option<AssessmentOpinion>,
    pub opinion_on: String,
    pub opinion_summary: String,
    /// A corrections case of the same person, once one is registered here.
    pub case_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InvestigationInput {
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    pub organ: RequestingOrgan,
    pub organ_name: String,
    pub proposed_kind: CaseKind,
    #[serde(default)]
    pub offence: String,
    pub residence: String,
    pub received_on: String,
    #[serde(default)]
    pub fast_track: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InvestigationQuery {
    pub text: Option<String>,
    pub page: u32,
    pub page_size: u32,
    /// Answered and withdrawn requests too.
    #[serde(default)]
    pub include_closed: bool,
}

/// The rule that sets the opinion's deadline.
pub fn opinion_rule(fast_track: bool) -> &'static str {
    if fast_track {
        "L-2.opinion_fast_track"
    } else {
        "L-2.opinion"
    }
}
