//! The office's own oversight records. C-23: work meetings at least every half year, and serious incidents
//! reported upward the same day (`C-23.meeting`, `C-23.urgent_report`). L-13 / C-24: the procuratorate
//! supervises community corrections. Its correction opinions and
//! recommendations (纠正意见、检察建议) get a written reply saying whether they were adopted, with the
//! reasons when they were not (社区矫正法 Art62); the reply is due within the period of the rule table
//! (`L-13.reply`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RecommendationKind {
    /// 纠正意见
    CorrectionOpinion,
    /// 检察建议
    Recommendation,
}

impl RecommendationKind {
    pub fn code(self) -> &'static str {
        match self {
            RecommendationKind::CorrectionOpinion => "correction_opinion",
            RecommendationKind::Recommendation => "recommendation",
        }
    }
    pub fn from_code(code: &str) -> Option<RecommendationKind> {
        [
            RecommendationKind::CorrectionOpinion,
            RecommendationKind::Recommendation,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RecommendationRecord {
    pub id: String,
    pub org_unit_id: String,
    /// The case it concerns, when it concerns one.
    pub case_id: Option<String>,
    pub case_name: String,
    pub kind: RecommendationKind,
    pub procuratorate: String,
    pub doc_no: String,
    pub received_on: String,
    pub content: String,
    /// The last day for the written reply (L-13.reply).
    pub reply_due: String,
    pub answered: bool,
    pub overdue: bool,
    pub adopted: Option<bool>,
    pub reply_on: String,
    /// The reply; when not adopted, the reasons.
    pub reply_text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RecommendationInput {
    #[serde(default)]
    pub case_id: Option<String>,
    pub kind: RecommendationKind,
    pub procuratorate: String,
    #[serde(default)]
    pub doc_no: String,
    pub received_on: String,
    pub content: String,
}

/// C-23: a work meeting, or a serious incident to report upward at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MeetingKind {
    /// 工作例会
    Regular,
    /// 重大情况（边处置边报告）
    Incident,
}

impl MeetingKind {
    pub fn code(self) -> &'static str {
        match self {
            MeetingKind::Regular => "regular",
            MeetingKind::Incident => "incident",
        }
    }
    pub fn from_code(code: &str) -> Option<MeetingKind> {
        [MeetingKind::Regular, MeetingKind::Incident]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MeetingRecord {
    pub id: String,
    pub org_unit_id: String,
    pub kind: MeetingKind,
    /// The meeting's day, or the day the incident happened.
    pub held_on: String,
    pub topic: String,
    pub attendees: String,
    pub minutes: String,
    /// Incidents: the day it was reported upward, and to whom.
    pub reported_on: String,
    pub reported_to: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MeetingInput {
    /// None records a new one; an id completes one (e.g. an incident's report upward).
    #[serde(default)]
    pub id: Option<String>,
    pub kind: MeetingKind,
    pub held_on: String,
    pub topic: String,
    #[serde(default)]
    pub attendees: String,
    #[serde(default)]
    pub minutes: String,
    #[serde(default)]
    pub reported_on: String,
    #[serde(default)]
    pub reported_to: String,
}
