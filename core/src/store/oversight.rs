//! L-13 / C-24 on the local store: the procuratorate's opinions and recommendations and their replies.

use super::{Store, WriteChange};
use crate::deadlines::Moment;
use crate::error::{CoreError, Result};
use crate::model::{Page, SessionUser};
use crate::oversight::{RecommendationInput, RecommendationKind, RecommendationRecord};
use crate::shanghai;
use crate::tables::{self, TableDef};

const MAX_TEXT_CHARS: usize = 5000;
const MAX_PAGE_SIZE: u32 = 200;

fn table() -> Result<&'static TableDef> {
    tables::table("corr_recommendation").ok_or(CoreError::NotFound("table"))
}

fn required(text: &str, field: &'static str, zh: &'static str) -> Result<String> {
    super::input::required_text(text, MAX_TEXT_CHARS, field, zh)
}

impl Store {
    /// Registers an opinion or recommendation received from the procuratorate.
    pub fn register_recommendation(
        &mut self,
        user: &SessionUser,
        input: RecommendationInput,
    ) -> Result<RecommendationRecord> {
        self.require_write(user)?;
        let (org, case_id) = match input.case_id.as_deref().filter(|c| !c.is_empty()) {
            Some(case_id) => {
                let case = self.case_for_write(user, case_id)?;
                (case.org_unit_id, Some(case.id))
            }
            None => (user.org_unit_id.clone(), None),
        };
        let procuratorate = required(
            &input.procuratorate,
            "procuratorate",
            "请填写人民检察院名称",
        )?;
        let content = required(&input.content, "content", "请填写纠正意见或检察建议的内容")?;
        let received = shanghai::parse_date(&input.received_on).ok_or_else(|| {
            CoreError::invalid(
                "received_on",
                "date must be YYYY-MM-DD",
                "收到日期格式应为YYYY-MM-DD",
            )
        })?;
        if received > shanghai::today(self.corrected_wall_millis()?) {
            return Err(CoreError::invalid(
                "received_on",
                "the date is in the future",
                "收到日期不能晚于今天",
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            table()?,
            &id,
            &org,
            &[
                WriteChange::new("org_unit_id", org.clone()),
                WriteChange::new("case_id", case_id),
                WriteChange::new("kind", input.kind.code()),
                WriteChange::new("procuratorate", procuratorate),
                WriteChange::new("doc_no", input.doc_no.trim().to_string()),
                WriteChange::new("received_on", received.format("%Y-%m-%d").to_string()),
                WriteChange::new("content", content),
            ],
        )?;
        self.recommendation(user, &id)
    }

    /// The written reply (L-13): adopted, or not adopted with the reasons.
    pub fn reply_recommendation(
        &mut self,
        user: &SessionUser,
        id: &str,
        adopted: bool,
        reply_on: &str,
        reply_text: &str,
    ) -> Result<RecommendationRecord> {
        self.require_write(user)?;
        let current = self.recommendation(user, id)?;
        if current.answered {
            return Err(CoreError::invalid(
                "reply_on",
                "already answered",
                "已经书面回复过",
            ));
        }
        let on = shanghai::parse_date(reply_on).ok_or_else(|| {
            CoreError::invalid(
                "reply_on",
                "date must be YYYY-MM-DD",
                "回复日期格式应为YYYY-MM-DD",
            )
        })?;
        let received = shanghai::parse_date(&current.received_on).unwrap_or(on);
        if on < received || on > shanghai::today(self.corrected_wall_millis()?) {
            return Err(CoreError::invalid(
                "reply_on",
                "the reply lies before the receipt or in the future",
                "回复日期应在收到之后且不晚于今天",
            ));
        }
        let zh = if adopted {
            "请填写采纳情况"
        } else {
            "未采纳的，应当说明理由（社区矫正法第六十二条）"
        };
        let text = required(reply_text, "reply_text", zh)?;
        self.write_row(
            &user.user_id,
            table()?,
            id,
            &current.org_unit_id,
            &[
                WriteChange::new("adopted", adopted),
                WriteChange::new("reply_on", on.format("%Y-%m-%d").to_string()),
                WriteChange::new("reply_text", text),
            ],
        )?;
        self.recommendation(user, id)
    }

    pub fn recommendation(&self, user: &SessionUser, id: &str) -> Result<RecommendationRecord> {
        self.require_read(user)?;
        let scope = self.org_subtree(&user.org_unit_id)?;
        self.recommendations_where("r.id = ?1", id)?
            .into_iter()
            .find(|r| scope.contains(&r.org_unit_id))
            .ok_or(CoreError::NotFound("recommendation"))
    }

    /// Opinions and recommendations in scope: unanswered first by due date, then the rest newest first.
    pub fn list_recommendations(
        &self,
        user: &SessionUser,
        page: u32,
        page_size: u32,
    ) -> Result<Page<RecommendationRecord>> {
        self.require_read(user)?;
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let mut all = self
            .recommendations_where("r.org_unit_id IN (SELECT value FROM json_each(?1))", &scope)?;
        all.sort_by(|a, b| {
            (a.answered, &a.reply_due, std::cmp::Reverse(&a.received_on)).cmp(&(
                b.answered,
                &b.reply_due,
                std::cmp::Reverse(&b.received_on),
            ))
        });
        Ok(super::input::page_of(all, page, page_size, MAX_PAGE_SIZE))
    }

    /// L-13 clocks of the unanswered ones, as digest tasks.
    pub(super) fn recommendation_tasks(
        &self,
        user: &SessionUser,
        today: chrono::NaiveDate,
    ) -> Result<Vec<crate::model::CaseTask>> {
        let engine = self.engine()?;
        let rule = engine
            .table()
            .rule("L-13.reply")
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let mut out = Vec::new();
        for r in self.list_recommendations(user, 1, MAX_PAGE_SIZE)?.items {
            let Some(received) = shanghai::parse_date(&r.received_on) else {
                continue;
            };
            if r.answered || !rule.active {
                continue;
            }
            let task = engine
                .task(
                    "L-13.reply",
                    Moment::Day(received),
                    None,
                    Moment::Day(today),
                )
                .map_err(|e| CoreError::Corrupt(format!("L-13.reply: {e}")))?;
            out.push(super::input::digest_task(
                &engine,
                task,
                "recommendation",
                &r.id,
                &format!("{}（{}）", r.procuratorate, r.received_on),
            )?);
        }
        Ok(out)
    }

    fn recommendations_where(
        &self,
        condition: &str,
        arg: &str,
    ) -> Result<Vec<RecommendationRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT r.id, r.org_unit_id, r.case_id, c.name, r.kind, r.procuratorate, r.doc_no, r.received_on, \
             r.content, r.adopted, r.reply_on, r.reply_text \
             FROM corr_recommendation r LEFT JOIN corr_case c ON c.id = r.case_id \
             WHERE {condition} AND COALESCE(r._deleted, 0) = 0"
        ))?;
        let rows = stmt.query_map([arg], |r| {
            let text = |i: usize| -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
            };
            Ok((
                [
                    text(0)?,
                    text(1)?,
                    text(3)?,
                    text(4)?,
                    text(5)?,
                    text(6)?,
                    text(7)?,
                    text(8)?,
                    text(10)?,
                    text(11)?,
                ],
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(9)?,
            ))
        })?;
        let engine = self.engine()?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let mut out = Vec::new();
        for row in rows {
            let (v, case_id, adopted) = row?;
            let [id, org_unit_id, case_name, kind, procuratorate, doc_no, received_on, content, reply_on, reply_text] =
                v;
            // A row still arriving through sync may be incomplete: skip it until it is whole.
            let (Some(kind), Some(received)) = (
                RecommendationKind::from_code(&kind),
                shanghai::parse_date(&received_on),
            ) else {
                continue;
            };
            let due = engine
                .table()
                .rule("L-13.reply")
                .and_then(|rule| rule.due(engine.calendar(), Moment::Day(received)))
                .map_err(|e| CoreError::Corrupt(e.to_string()))?
                .due_date;
            let answered = !reply_on.is_empty();
            let replied = shanghai::parse_date(&reply_on);
            let overdue = match replied {
                Some(on) => on > due,
                None => today > due,
            };
            out.push(RecommendationRecord {
                id,
                org_unit_id,
                case_id,
                case_name,
                kind,
                procuratorate,
                doc_no,
                received_on,
                content,
                reply_due: due.format("%Y-%m-%d").to_string(),
                answered,
                overdue,
                adopted: answered.then_some(adopted.unwrap_or(0) != 0),
                reply_on,
                reply_text,
            });
        }
        Ok(out)
    }
}

impl Store {
    /// C-23: records a work meeting or a serious incident (with its report upward once made).
    pub fn save_meeting(
        &mut self,
        user: &SessionUser,
        input: crate::oversight::MeetingInput,
    ) -> Result<crate::oversight::MeetingRecord> {
        use crate::oversight::MeetingKind;
        self.require_write(user)?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let held = shanghai::parse_date(&input.held_on).ok_or_else(|| {
            CoreError::invalid(
                "held_on",
                "date must be YYYY-MM-DD",
                "日期格式应为YYYY-MM-DD",
            )
        })?;
        if held > today {
            return Err(CoreError::invalid(
                "held_on",
                "the date is in the future",
                "日期不能晚于今天",
            ));
        }
        let topic = required(&input.topic, "topic", "请填写会议议题或情况摘要")?;
        let reported_on = match input.reported_on.trim() {
            "" => String::new(),
            text => {
                let on = shanghai::parse_date(text).ok_or_else(|| {
                    CoreError::invalid(
                        "reported_on",
                        "date must be YYYY-MM-DD",
                        "报告日期格式应为YYYY-MM-DD",
                    )
                })?;
                if on < held || on > today {
                    return Err(CoreError::invalid(
                        "reported_on",
                        "the report lies before the incident or in the future",
                        "报告日期应在情况发生之后且不晚于今天",
                    ));
                }
                on.format("%Y-%m-%d").to_string()
            }
        };
        let reported_to = input.reported_to.trim().to_string();
        if input.kind == MeetingKind::Incident && !reported_on.is_empty() && reported_to.is_empty()
        {
            return Err(CoreError::invalid(
                "reported_to",
                "say to whom the incident was reported",
                "请填写报告对象（如区司法局、公安机关）",
            ));
        }
        let (id, org) = match &input.id {
            Some(id) => {
                let existing = self
                    .meetings_where("m.id = ?1", id)?
                    .into_iter()
                    .next()
                    .ok_or(CoreError::NotFound("meeting"))?;
                if !self.is_within(&existing.org_unit_id, &user.org_unit_id)? {
                    return Err(CoreError::NotFound("meeting"));
                }
                (id.clone(), existing.org_unit_id)
            }
            None => (uuid::Uuid::now_v7().to_string(), user.org_unit_id.clone()),
        };
        let def = tables::table("corr_meeting").ok_or(CoreError::NotFound("table"))?;
        self.write_row(
            &user.user_id,
            def,
            &id,
            &org,
            &[
                WriteChange::new("org_unit_id", org.clone()),
                WriteChange::new("kind", input.kind.code()),
                WriteChange::new("held_on", held.format("%Y-%m-%d").to_string()),
                WriteChange::new("topic", topic),
                WriteChange::new("attendees", input.attendees.trim().to_string()),
                WriteChange::new("minutes", input.minutes.trim().to_string()),
                WriteChange::new("reported_on", reported_on),
                WriteChange::new("reported_to", reported_to),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.meetings_where("m.id = ?1", &id)?
            .into_iter()
            .next()
            .ok_or(CoreError::NotFound("meeting"))
    }

    /// C-23 records of the user's scope, newest first.
    pub fn list_meetings(
        &self,
        user: &SessionUser,
    ) -> Result<Vec<crate::oversight::MeetingRecord>> {
        self.require_read(user)?;
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        self.meetings_where("m.org_unit_id IN (SELECT value FROM json_each(?1))", &scope)
    }

    fn meetings_where(
        &self,
        condition: &str,
        arg: &str,
    ) -> Result<Vec<crate::oversight::MeetingRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT m.id, m.org_unit_id, m.kind, m.held_on, m.topic, m.attendees, m.minutes, m.reported_on, \
             m.reported_to, m.recorded_by FROM corr_meeting m \
             WHERE {condition} AND COALESCE(m._deleted, 0) = 0 ORDER BY m.held_on DESC, m.id DESC"
        ))?;
        let rows = stmt.query_map([arg], |r| {
            let mut v = Vec::with_capacity(10);
            for i in 0..10 {
                v.push(r.get::<_, Option<String>>(i)?.unwrap_or_default());
            }
            Ok(v)
        })?;
        let mut out = Vec::new();
        for row in rows {
            let v = row?;
            let Some(kind) = crate::oversight::MeetingKind::from_code(&v[2]) else {
                continue;
            };
            out.push(crate::oversight::MeetingRecord {
                id: v[0].clone(),
                org_unit_id: v[1].clone(),
                kind,
                held_on: v[3].clone(),
                topic: v[4].clone(),
                attendees: v[5].clone(),
                minutes: v[6].clone(),
                reported_on: v[7].clone(),
                reported_to: v[8].clone(),
                recorded_by: v[9].clone(),
            });
        }
        Ok(out)
    }

    /// C-23 clocks of a judicial office: this half year's meeting, and incidents not yet reported.
    pub(super) fn meeting_tasks(
        &self,
        user: &SessionUser,
        today: chrono::NaiveDate,
    ) -> Result<Vec<crate::model::CaseTask>> {
        use crate::oversight::MeetingKind;
        if self.org_unit_kind(&user.org_unit_id)? != Some(crate::model::OrgKind::Township) {
            return Ok(Vec::new());
        }
        let engine = self.engine()?;
        let meetings = self.list_meetings(user)?;
        let mut out = Vec::new();
        let meeting_rule = engine
            .table()
            .rule("C-23.meeting")
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        if meeting_rule.active {
            let window = crate::deadlines::window(crate::deadlines::WindowKind::HalfYear, today)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?;
            let held = meetings.iter().any(|m| {
                m.kind == MeetingKind::Regular
                    && shanghai::parse_date(&m.held_on).is_some_and(|d| window.contains(d))
            });
            let soon = engine
                .calendar()
                .sub_working_days(window.last, engine.table().settings().due_soon_working_days)
                .map(|d| d.date)
                .unwrap_or(window.last);
            let status = if held {
                "done"
            } else if today >= soon {
                "due_soon"
            } else {
                "due"
            };
            out.push(crate::model::CaseTask {
                subject_kind: "office".to_string(),
                case_id: user.org_unit_id.clone(),
                case_name: self.org_unit_name(&user.org_unit_id)?.unwrap_or_default(),
                rule_id: meeting_rule.id.clone(),
                rule_ref: meeting_rule.rule_ref.clone(),
                rule_name: meeting_rule.title_zh.clone(),
                rule_name_en: meeting_rule.title_en.clone(),
                title_zh: format!(
                    "{}（{}至{}）",
                    meeting_rule.title_zh, window.first, window.last
                ),
                title_en: format!(
                    "{} ({} to {})",
                    meeting_rule.title_en, window.first, window.last
                ),
                due_date: window.last.format("%Y-%m-%d").to_string(),
                status: status.to_string(),
                days_left: (window.last - today).num_days(),
                calendar_unknown: false,
                escalated_to: None,
                officer_id: None,
            });
        }
        for m in meetings.iter().filter(|m| m.kind == MeetingKind::Incident) {
            let Some(happened) = shanghai::parse_date(&m.held_on) else {
                continue;
            };
            let task = engine
                .task(
                    "C-23.urgent_report",
                    Moment::Day(happened),
                    shanghai::parse_date(&m.reported_on).map(Moment::Day),
                    Moment::Day(today),
                )
                .map_err(|e| CoreError::Corrupt(format!("C-23.urgent_report: {e}")))?;
            out.push(super::input::digest_task(
                &engine, task, "office", &m.id, &m.topic,
            )?);
        }
        Ok(out)
    }
}
