//! L-2 pre-decision assessment requests on the local store (core::investigation has the types).

use super::{Store, WriteChange};
use crate::deadlines::Moment;
use crate::error::{CoreError, Result};
use crate::idcard;
use crate::investigation::{
    opinion_rule, AssessmentOpinion, InvestigationInput, InvestigationQuery, InvestigationRecord,
    InvestigationStatus, RequestingOrgan,
};
use crate::model::{CaseKind, Page, SessionUser};
use crate::shanghai;
use crate::tables::{self, TableDef};
use rusqlite::params;

const MAX_TEXT_CHARS: usize = 2000;
const MAX_PAGE_SIZE: u32 = 200;

fn table() -> Result<&'static TableDef> {
    tables::table("corr_investigation").ok_or(CoreError::NotFound("table"))
}

fn text_field(value: &str, field: &'static str, required_zh: &'static str) -> Result<String> {
    super::input::required_text(value, MAX_TEXT_CHARS, field, required_zh)
}

impl Store {
    /// Registers a request received from a court, procuratorate, police or prison (L-2).
    pub fn register_investigation(
        &mut self,
        user: &SessionUser,
        input: InvestigationInput,
    ) -> Result<InvestigationRecord> {
        self.require_write(user)?;
        let name = text_field(&input.name, "name", "请填写被调查评估对象的姓名")?;
        if name.chars().count() > 50 {
            return Err(CoreError::invalid(
                "name",
                "name is too long",
                "姓名过长（最多50个字）",
            ));
        }
        let id_number = if input.id_number.trim().is_empty() {
            String::new()
        } else {
            idcard::parse(&input.id_number)?.number
        };
        let organ_name = text_field(&input.organ_name, "organ_name", "请填写委托机关名称")?;
        let residence = text_field(&input.residence, "residence", "请填写居住地")?;
        let offence = input.offence.trim().to_string();
        let received = shanghai::parse_date(&input.received_on).ok_or_else(|| {
            CoreError::invalid(
                "received_on",
                "date must be YYYY-MM-DD",
                "收到委托日期格式应为YYYY-MM-DD",
            )
        })?;
        if received > shanghai::today(self.corrected_wall_millis()?) {
            return Err(CoreError::invalid(
                "received_on",
                "the date is in the future",
                "收到委托日期不能晚于今天",
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            table()?,
            &id,
            &user.org_unit_id,
            &[
                WriteChange::new("org_unit_id", user.org_unit_id.clone()),
                WriteChange::new("name", name),
                WriteChange::new("id_number", id_number),
                WriteChange::new("organ", input.organ.code()),
                WriteChange::new("organ_name", organ_name),
                WriteChange::new("proposed_kind", input.proposed_kind.code()),
                WriteChange::new("offence", offence),
                WriteChange::new("residence", residence),
                WriteChange::new("received_on", received.format("%Y-%m-%d").to_string()),
                WriteChange::new("fast_track", input.fast_track),
                WriteChange::new("status", InvestigationStatus::Open.code()),
            ],
        )?;
        self.investigation(user, &id)
    }

    /// The written opinion goes back to the requesting organ (closes the L-2 clock).
    pub fn answer_investigation(
        &mut self,
        user: &SessionUser,
        id: &str,
        opinion: AssessmentOpinion,
        opinion_on: &str,
        summary: &str,
    ) -> Result<InvestigationRecord> {
        self.require_write(user)?;
        let current = self.investigation(user, id)?;
        if current.status != InvestigationStatus::Open {
            return Err(CoreError::invalid(
                "status",
                "the request is no longer open",
                "该调查评估已办结或已撤回",
            ));
        }
        let on = shanghai::parse_date(opinion_on).ok_or_else(|| {
            CoreError::invalid(
                "opinion_on",
                "date must be YYYY-MM-DD",
                "意见日期格式应为YYYY-MM-DD",
            )
        })?;
        let received = shanghai::parse_date(&current.received_on).unwrap_or(on);
        if on < received || on > shanghai::today(self.corrected_wall_millis()?) {
            return Err(CoreError::invalid(
                "opinion_on",
                "the opinion lies before the request or in the future",
                "意见日期应在收到委托之后且不晚于今天",
            ));
        }
        let summary = text_field(summary, "opinion_summary", "请填写评估意见的主要内容")?;
        self.write_row(
            &user.user_id,
            table()?,
            id,
            &current.org_unit_id,
            &[
                WriteChange::new("status", InvestigationStatus::Answered.code()),
                WriteChange::new("opinion", opinion.code()),
                WriteChange::new("opinion_on", on.format("%Y-%m-%d").to_string()),
                WriteChange::new("opinion_summary", summary),
            ],
        )?;
        self.investigation(user, id)
    }

    /// The requesting organ withdrew the request.
    pub fn withdraw_investigation(
        &mut self,
        user: &SessionUser,
        id: &str,
        note: &str,
    ) -> Result<InvestigationRecord> {
        self.require_write(user)?;
        let current = self.investigation(user, id)?;
        if current.status != InvestigationStatus::Open {
            return Err(CoreError::invalid(
                "status",
                "the request is no longer open",
                "该调查评估已办结或已撤回",
            ));
        }
        let note = text_field(note, "opinion_summary", "请填写撤回的情况")?;
        self.write_row(
            &user.user_id,
            table()?,
            id,
            &current.org_unit_id,
            &[
                WriteChange::new("status", InvestigationStatus::Withdrawn.code()),
                WriteChange::new("opinion_summary", note),
            ],
        )?;
        self.investigation(user, id)
    }

    pub fn investigation(&self, user: &SessionUser, id: &str) -> Result<InvestigationRecord> {
        self.require_read(user)?;
        let scope = self.org_subtree(&user.org_unit_id)?;
        self.investigations_where("i.id = ?1", id)?
            .into_iter()
            .find(|i| scope.contains(&i.org_unit_id))
            .ok_or(CoreError::NotFound("investigation"))
    }

    /// Requests in scope: open ones first by deadline, then the rest newest first; search by name, pinyin
    /// initials or ID number.
    pub fn list_investigations(
        &self,
        user: &SessionUser,
        query: &InvestigationQuery,
    ) -> Result<Page<InvestigationRecord>> {
        self.require_read(user)?;
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let text = query.text.as_deref().map(str::trim).unwrap_or("");
        let mut all = self
            .investigations_where("i.org_unit_id IN (SELECT value FROM json_each(?1))", &scope)?;
        // Issue 14 §5: names compared folded (middle dots and spaces are no characters to search).
        let folded = crate::search::fold_name(text);
        let needle = folded.to_lowercase();
        all.retain(|i| {
            (query.include_closed || i.status == InvestigationStatus::Open)
                && (text.is_empty()
                    || crate::search::fold_name(&i.name).contains(&folded)
                    || crate::search::pinyin_initials(&i.name).starts_with(&needle)
                    || i.id_number.contains(&text.to_uppercase()))
        });
        all.sort_by(|a, b| {
            let open = |i: &InvestigationRecord| i.status != InvestigationStatus::Open;
            (open(a), &a.due_on, std::cmp::Reverse(&a.received_on)).cmp(&(
                open(b),
                &b.due_on,
                std::cmp::Reverse(&b.received_on),
            ))
        });
        Ok(super::input::page_of(
            all,
            query.page,
            query.page_size,
            MAX_PAGE_SIZE,
        ))
    }

    /// L-2 clocks of the open requests in the user's scope, as digest tasks.
    pub(super) fn investigation_tasks(
        &self,
        user: &SessionUser,
        today: chrono::NaiveDate,
    ) -> Result<Vec<crate::model::CaseTask>> {
        let engine = self.engine()?;
        let page = self.list_investigations(
            user,
            &InvestigationQuery {
                text: None,
                page: 1,
                page_size: MAX_PAGE_SIZE,
                include_closed: false,
            },
        )?;
        let mut out = Vec::new();
        for i in page.items {
            let Some(received) = shanghai::parse_date(&i.received_on) else {
                continue;
            };
            let rule_id = opinion_rule(i.fast_track);
            let task = engine
                .task(rule_id, Moment::Day(received), None, Moment::Day(today))
                .map_err(|e| CoreError::Corrupt(format!("{rule_id}: {e}")))?;
            out.push(super::input::digest_task(
                &engine,
                task,
                "investigation",
                &i.id,
                &format!("{}（{}）", i.name, i.organ_name),
            )?);
        }
        Ok(out)
    }

    pub(super) fn investigations_where(
        &self,
        condition: &str,
        arg: &str,
    ) -> Result<Vec<InvestigationRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT i.id, i.org_unit_id, i.name, i.id_number, i.organ, i.organ_name, i.proposed_kind, i.offence, \
             i.residence, i.received_on, COALESCE(i.fast_track, 0), i.status, i.opinion, i.opinion_on, \
             i.opinion_summary, \
             (SELECT c.id FROM corr_case c WHERE c.id_number = i.id_number AND i.id_number <> '' \
                AND COALESCE(c._deleted, 0) = 0 LIMIT 1) \
             FROM corr_investigation i WHERE {condition} AND COALESCE(i._deleted, 0) = 0"
        ))?;
        let rows = stmt.query_map(params![arg], |r| {
            let text = |i: usize| -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
            };
            Ok((
                [
                    text(0)?,
                    text(1)?,
                    text(2)?,
                    text(3)?,
                    text(4)?,
                    text(5)?,
                    text(6)?,
                    text(7)?,
                    text(8)?,
                    text(9)?,
                    text(11)?,
                    text(12)?,
                    text(13)?,
                    text(14)?,
                ],
                r.get::<_, i64>(10)? != 0,
                r.get::<_, Option<String>>(15)?,
            ))
        })?;
        let engine = self.engine()?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let mut out = Vec::new();
        for row in rows {
            let (v, fast_track, case_id) = row?;
            let [id, org_unit_id, name, id_number, organ, organ_name, kind, offence, residence, received_on, status, opinion, opinion_on, opinion_summary] =
                v;
            // A row still arriving through sync may be incomplete: skip it until it is whole.
            let (Some(organ), Some(status), Some(received)) = (
                RequestingOrgan::from_code(&organ),
                InvestigationStatus::from_code(&status),
                shanghai::parse_date(&received_on),
            ) else {
                continue;
            };
            let due = engine
                .table()
                .rule(opinion_rule(fast_track))
                .and_then(|rule| rule.due(engine.calendar(), Moment::Day(received)))
                .map_err(|e| CoreError::Corrupt(e.to_string()))?
                .due_date;
            let answered_on = shanghai::parse_date(&opinion_on);
            let overdue = match status {
                InvestigationStatus::Open => today > due,
                InvestigationStatus::Answered => answered_on.is_some_and(|a| a > due),
                InvestigationStatus::Withdrawn => false,
            };
            out.push(InvestigationRecord {
                id,
                org_unit_id,
                name,
                id_number,
                organ,
                organ_name,
                proposed_kind: CaseKind::from_code(&kind).unwrap_or(CaseKind::Probation),
                offence,
                residence,
                received_on,
                fast_track,
                status,
                due_on: due.format("%Y-%m-%d").to_string(),
                overdue,
                opinion: AssessmentOpinion::from_code(&opinion),
                opinion_on,
                opinion_summary,
                case_id,
            });
        }
        Ok(out)
    }
}
