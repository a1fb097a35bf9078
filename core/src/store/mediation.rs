//! W-3 people's mediation (人民调解) with the L-16 clocks from the rule table: one case per dispute,
//! its parties, append-only sessions, the outcome and agreement, the court-confirmation window
//! (人民调解法 第三十三条), the follow-up visit and the escalation-risk report to the police station
//! (第二十五条). Mediation is free (第四条): nothing here records a fee.

use super::acked::row_has_unsent_entry;
use super::input::{
    day_text, digest_task, needle, optional, optional_id_number, past_date, phone, required,
};

use super::{Store, WriteChange};
use crate::deadlines::Moment;
use crate::error::{CoreError, Result};
use crate::model::{
    CaseQuery, CaseTask, DisputeType, MediationAction, MediationInput, MediationOutcome,
    MediationParty, MediationRecord, MediationSession, MediationSessionInput, Page, SessionUser,
};
use crate::shanghai;
use crate::tables::{self, TableDef, DELETED_FIELD};
use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension, Row};

const MAX_TEXT: usize = 5000;
const MAX_PAGE_SIZE: u32 = 200;
/// A dispute has two sides at least (W-3).
const MIN_PARTIES: usize = 2;

fn def(name: &'static str) -> Result<&'static TableDef> {
    tables::table(name).ok_or(CoreError::NotFound("mediation table"))
}

fn rule_due(engine: &crate::deadlines::Engine, rule: &str, from: NaiveDate) -> Result<NaiveDate> {
    engine
        .due(rule, Moment::Day(from))
        .map(|d| d.due_date)
        .map_err(|e| CoreError::Corrupt(format!("{rule}: {e}")))
}

/// L-16.conclude: a mediation is usually concluded within one month of acceptance (L-0 counting).
pub fn conclude_due(engine: &crate::deadlines::Engine, accepted: NaiveDate) -> Result<NaiveDate> {
    rule_due(engine, "L-16.conclude", accepted)
}

/// L-16.court_confirmation: the last day the parties may jointly apply for court confirmation.
pub fn court_confirmation_due(
    engine: &crate::deadlines::Engine,
    agreement: NaiveDate,
) -> Result<NaiveDate> {
    rule_due(engine, "L-16.court_confirmation", agreement)
}

const COLUMNS: &str = concat!(
    "m.id, m.org_unit_id, o.name, m.dispute_type, m.summary, m.accepted_on, m.mediator, \
     m.outcome, m.concluded_on, m.agreement_text, m.agreement_on, m.court_confirmation_applied_on, \
     m.follow_up_on, m.follow_up_result, COALESCE(m.escalation_risk, 0), m.risk_flagged_on, \
     m.police_reported_on, COALESCE(m._deleted, 0), \
     ",
    row_has_unsent_entry!("m.id")
);

fn text(r: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

fn case_from_row(r: &Row<'_>) -> rusqlite::Result<MediationRecord> {
    Ok(MediationRecord {
        id: r.get(0)?,
        org_unit_id: text(r, 1)?,
        org_unit_name: text(r, 2)?,
        // Rows still arriving through sync without their type are filtered out in SQL.
        dispute_type: DisputeType::from_code(&text(r, 3)?).unwrap_or(DisputeType::Other),
        summary: text(r, 4)?,
        accepted_on: text(r, 5)?,
        mediator: text(r, 6)?,
        parties: Vec::new(),
        sessions: Vec::new(),
        outcome: MediationOutcome::from_code(&text(r, 7)?),
        concluded_on: text(r, 8)?,
        agreement_text: text(r, 9)?,
        agreement_on: text(r, 10)?,
        conclude_due: String::new(),
        conclude_overdue: false,
        court_confirmation_due: String::new(),
        court_confirmation_applied_on: text(r, 11)?,
        follow_up_on: text(r, 12)?,
        follow_up_result: text(r, 13)?,
        escalation_risk: r.get::<_, i64>(14)? != 0,
        risk_flagged_on: text(r, 15)?,
        police_reported_on: text(r, 16)?,
        deleted: r.get::<_, i64>(17)? != 0,
        pending_sync: r.get(18)?,
    })
}

fn outcome_zh(outcome: MediationOutcome) -> &'static str {
    match outcome {
        MediationOutcome::Success => "调解成功",
        MediationOutcome::Failed => "调解不成",
        MediationOutcome::Terminated => "终止调解",
    }
}

impl Store {
    fn mediation_row(&self, id: &str) -> Result<Option<MediationRecord>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM mediation_case m LEFT JOIN org_unit o ON o.id = m.org_unit_id \
                 WHERE m.id = ?1 AND m.dispute_type IS NOT NULL"
            ))?
            .query_row([id], case_from_row)
            .optional()?)
    }

    /// The parties (not removed) in their order.
    fn mediation_parties(&self, case_id: &str) -> Result<Vec<MediationParty>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, COALESCE(seq, 0), name, id_number, phone, address FROM mediation_party \
             WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY seq, id",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            Ok(MediationParty {
                id: r.get(0)?,
                seq: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                name: text(r, 2)?,
                id_number: text(r, 3)?,
                phone: text(r, 4)?,
                address: text(r, 5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn mediation_sessions(&self, case_id: &str) -> Result<Vec<MediationSession>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, held_on, place, attendees, summary, recorded_by FROM mediation_session \
             WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY held_on, id",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            Ok(MediationSession {
                id: r.get(0)?,
                held_on: text(r, 1)?,
                place: text(r, 2)?,
                attendees: text(r, 3)?,
                summary: text(r, 4)?,
                recorded_by: text(r, 5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Fills in parties, sessions and the L-16 clocks as of `today`.
    fn complete_mediation(
        &self,
        mut record: MediationRecord,
        today: NaiveDate,
    ) -> Result<MediationRecord> {
        record.parties = self.mediation_parties(&record.id)?;
        record.sessions = self.mediation_sessions(&record.id)?;
        if let Some(accepted) = shanghai::parse_date(&record.accepted_on) {
            let due = conclude_due(&*self.engine()?, accepted)?;
            record.conclude_due = day_text(due);
            record.conclude_overdue = record.outcome.is_none() && today > due;
        }
        if record.outcome == Some(MediationOutcome::Success) {
            if let Some(agreed) = shanghai::parse_date(&record.agreement_on) {
                record.court_confirmation_due =
                    day_text(court_confirmation_due(&*self.engine()?, agreed)?);
            }
        }
        Ok(record)
    }

    fn mediation_in_scope(&self, user: &SessionUser, id: &str) -> Result<MediationRecord> {
        self.require_community_work(user)?;
        let record = self
            .mediation_row(id)?
            .ok_or(CoreError::NotFound("mediation case"))?;
        if !self.is_within(&record.org_unit_id, &user.org_unit_id)? {
            return Err(CoreError::NotFound("mediation case"));
        }
        Ok(record)
    }

    /// One mediation case with its parties, sessions and clocks.
    pub fn mediation(&self, user: &SessionUser, id: &str) -> Result<MediationRecord> {
        let record = self.mediation_in_scope(user, id)?;
        self.complete_mediation(record, self.shanghai_today()?)
    }

    /// W-3: registers (id None) or edits a mediation case and its parties (at least two).
    pub fn save_mediation(
        &mut self,
        user: &SessionUser,
        input: MediationInput,
    ) -> Result<MediationRecord> {
        self.require_community_work(user)?;
        let today = self.shanghai_today()?;
        let existing = match &input.id {
            Some(id) => Some(self.mediation_in_scope(user, id)?),
            None => None,
        };
        let org_unit_id = match &existing {
            Some(e) => e.org_unit_id.clone(),
            None => self.own_community(user, "调解案件")?,
        };
        let summary = required(
            &input.summary,
            MAX_TEXT,
            "summary",
            "请填写纠纷简要情况（最多5000字）",
        )?;
        let mediator = required(
            &input.mediator,
            50,
            "mediator",
            "请填写人民调解员姓名（最多50字）",
        )?;
        let default_accepted = existing
            .as_ref()
            .and_then(|e| shanghai::parse_date(&e.accepted_on))
            .unwrap_or(today);
        let accepted = past_date(
            input.accepted_on.as_deref(),
            today,
            Some(default_accepted),
            "accepted_on",
            "受理日期格式应为YYYY-MM-DD，且不晚于今天",
        )?;
        // Validate every party before writing anything, so a bad one leaves the case untouched.
        let mut parties = Vec::with_capacity(input.parties.len());
        for (i, p) in input.parties.iter().enumerate() {
            let n = i + 1;
            let name = required(
                &p.name,
                50,
                "parties",
                &format!("请填写当事人{n}的姓名（最多50字）"),
            )?;
            let id_number = optional_id_number(&p.id_number)?;
            let phone = phone(&p.phone, "parties")?;
            let address = optional(
                &p.address,
                200,
                "parties",
                &format!("当事人{n}的住址过长（最多200字）"),
            )?;
            parties.push((p.id.clone(), name, id_number, phone, address));
        }
        if parties.len() < MIN_PARTIES {
            return Err(CoreError::invalid(
                "parties",
                "a dispute needs at least two parties",
                "纠纷当事人至少两方，请补充当事人",
            ));
        }
        let current = match &existing {
            Some(e) => self.mediation_parties(&e.id)?,
            None => Vec::new(),
        };
        for (id, ..) in &parties {
            if let Some(id) = id {
                if !current.iter().any(|c| &c.id == id) {
                    return Err(CoreError::NotFound("mediation party"));
                }
            }
        }
        let id = input
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        self.write_row(
            &user.user_id,
            def("mediation_case")?,
            &id,
            &org_unit_id,
            &[
                WriteChange::new("org_unit_id", org_unit_id.clone()),
                WriteChange::new("dispute_type", input.dispute_type.code()),
                WriteChange::new("summary", summary),
                WriteChange::new("accepted_on", day_text(accepted)),
                WriteChange::new("mediator", mediator),
            ],
        )?;
        let party_def = def("mediation_party")?;
        // Parties left out of the list are marked removed, never deleted (DOMAIN.md "Nothing is lost").
        for gone in current.iter().filter(|c| {
            !parties
                .iter()
                .any(|p| p.0.as_deref() == Some(c.id.as_str()))
        }) {
            self.write_row(
                &user.user_id,
                party_def,
                &gone.id,
                &org_unit_id,
                &[WriteChange::new(DELETED_FIELD, true)],
            )?;
        }
        for (seq, (party_id, name, id_number, phone, address)) in parties.into_iter().enumerate() {
            let party_id = party_id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
            self.write_row(
                &user.user_id,
                party_def,
                &party_id,
                &org_unit_id,
                &[
                    WriteChange::new("org_unit_id", org_unit_id.clone()),
                    WriteChange::new("case_id", id.clone()),
                    WriteChange::new("seq", seq as i64 + 1),
                    WriteChange::new("name", name),
                    WriteChange::new("id_number", id_number),
                    WriteChange::new("phone", phone),
                    WriteChange::new("address", address),
                ],
            )?;
        }
        self.mediation(user, &id)
    }

    /// W-3: a mediation session (append-only; 人民调解法 第二十七条 记录调解情况).
    pub fn add_mediation_session(
        &mut self,
        user: &SessionUser,
        input: MediationSessionInput,
    ) -> Result<MediationSession> {
        let case = self.mediation_in_scope(user, &input.case_id)?;
        let today = self.shanghai_today()?;
        let held = past_date(
            Some(&input.held_on),
            today,
            None,
            "held_on",
            "调解日期格式应为YYYY-MM-DD，且不晚于今天",
        )?;
        if shanghai::parse_date(&case.accepted_on).is_some_and(|a| held < a) {
            return Err(CoreError::invalid(
                "held_on",
                "a session cannot precede acceptance",
                format!("调解日期不能早于受理日期（{}）", case.accepted_on),
            ));
        }
        let place = required(&input.place, 100, "place", "请填写调解地点（最多100字）")?;
        let attendees = required(
            &input.attendees,
            500,
            "attendees",
            "请填写参加人员（最多500字）",
        )?;
        let summary = required(
            &input.summary,
            MAX_TEXT,
            "summary",
            "请填写调解情况记录（最多5000字）",
        )?;
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            def("mediation_session")?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("held_on", day_text(held)),
                WriteChange::new("place", place),
                WriteChange::new("attendees", attendees),
                WriteChange::new("summary", summary),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.mediation_sessions(&case.id)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(CoreError::NotFound("mediation session"))
    }

    /// The next step on a mediation case; illegal steps are refused with a reason (zh + en).
    pub fn act_on_mediation(
        &mut self,
        user: &SessionUser,
        id: &str,
        action: MediationAction,
    ) -> Result<MediationRecord> {
        let case = self.mediation_in_scope(user, id)?;
        let today = self.shanghai_today()?;
        let accepted = shanghai::parse_date(&case.accepted_on);
        let not_before =
            |field: &'static str, day: NaiveDate, floor: Option<NaiveDate>, zh: String| {
                if floor.is_some_and(|f| day < f) {
                    Err(CoreError::invalid(field, "date is too early", zh))
                } else {
                    Ok(())
                }
            };
        let changes = match action {
            MediationAction::Conclude {
                outcome,
                agreement_text,
                agreement_on,
            } => {
                if let Some(done) = case.outcome {
                    return Err(CoreError::invalid(
                        "outcome",
                        "the mediation is already concluded",
                        format!("本案已结案（{}），不能重复结案", outcome_zh(done)),
                    ));
                }
                let agreement_text = agreement_text.trim().to_string();
                let agreement_on = agreement_on
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty());
                if outcome == MediationOutcome::Success {
                    let agreement_text = required(
                        &agreement_text,
                        MAX_TEXT,
                        "agreement_text",
                        "调解成功须填写调解协议内容（最多5000字）",
                    )?;
                    let agreed = past_date(
                        agreement_on,
                        today,
                        None,
                        "agreement_on",
                        "调解成功须填写协议生效日期（YYYY-MM-DD，不晚于今天）",
                    )?;
                    not_before(
                        "agreement_on",
                        agreed,
                        accepted,
                        format!("协议生效日期不能早于受理日期（{}）", case.accepted_on),
                    )?;
                    vec![
                        WriteChange::new("outcome", outcome.code()),
                        WriteChange::new("concluded_on", day_text(agreed)),
                        WriteChange::new("agreement_text", agreement_text),
                        WriteChange::new("agreement_on", day_text(agreed)),
                    ]
                } else {
                    if !agreement_text.is_empty() || agreement_on.is_some() {
                        return Err(CoreError::invalid(
                            "agreement_text",
                            "only a successful mediation has an agreement",
                            "只有调解成功才有调解协议；调解不成或终止时请勿填写协议",
                        ));
                    }
                    vec![
                        WriteChange::new("outcome", outcome.code()),
                        WriteChange::new("concluded_on", day_text(today)),
                    ]
                }
            }
            MediationAction::CourtConfirmationApplied { applied_on } => {
                if case.outcome != Some(MediationOutcome::Success) {
                    return Err(CoreError::invalid(
                        "court_confirmation_applied_on",
                        "only an agreement can be confirmed by the court",
                        "只有达成调解协议的案件才能申请司法确认",
                    ));
                }
                if !case.court_confirmation_applied_on.is_empty() {
                    return Err(CoreError::invalid(
                        "court_confirmation_applied_on",
                        "court confirmation was already applied for",
                        format!(
                            "已于{}申请司法确认，不能重复登记",
                            case.court_confirmation_applied_on
                        ),
                    ));
                }
                let applied = past_date(
                    Some(&applied_on),
                    today,
                    None,
                    "court_confirmation_applied_on",
                    "申请日期格式应为YYYY-MM-DD，且不晚于今天",
                )?;
                let agreed = shanghai::parse_date(&case.agreement_on);
                not_before(
                    "court_confirmation_applied_on",
                    applied,
                    agreed,
                    format!("申请日期不能早于协议生效日期（{}）", case.agreement_on),
                )?;
                if let Some(agreed) = agreed {
                    // L-16 / 人民调解法 第三十三条: thirty days from the agreement taking effect.
                    let due = court_confirmation_due(&*self.engine()?, agreed)?;
                    if applied > due {
                        return Err(CoreError::invalid(
                            "court_confirmation_applied_on",
                            "the 30-day court confirmation window has closed",
                            format!(
                                "已超过申请司法确认的期限（协议生效之日起三十日内，截至{}）",
                                day_text(due)
                            ),
                        ));
                    }
                }
                vec![WriteChange::new(
                    "court_confirmation_applied_on",
                    day_text(applied),
                )]
            }
            MediationAction::FollowUp { visited_on, result } => {
                if case.outcome.is_none() {
                    return Err(CoreError::invalid(
                        "follow_up_on",
                        "follow-up comes after the mediation ends",
                        "调解结案后才能登记回访",
                    ));
                }
                let visited = past_date(
                    Some(&visited_on),
                    today,
                    None,
                    "follow_up_on",
                    "回访日期格式应为YYYY-MM-DD，且不晚于今天",
                )?;
                not_before(
                    "follow_up_on",
                    visited,
                    shanghai::parse_date(&case.concluded_on),
                    format!("回访日期不能早于结案日期（{}）", case.concluded_on),
                )?;
                let result = required(
                    &result,
                    2000,
                    "follow_up_result",
                    "请填写回访情况（如协议履行情况，最多2000字）",
                )?;
                vec![
                    WriteChange::new("follow_up_on", day_text(visited)),
                    WriteChange::new("follow_up_result", result),
                ]
            }
            MediationAction::SetRisk { risk } => {
                if risk == case.escalation_risk {
                    return self.complete_mediation(case, today);
                }
                if risk {
                    vec![
                        WriteChange::new("escalation_risk", true),
                        WriteChange::new("risk_flagged_on", day_text(today)),
                    ]
                } else {
                    vec![WriteChange::new("escalation_risk", false)]
                }
            }
            MediationAction::ReportToPolice { reported_on } => {
                if !case.escalation_risk {
                    return Err(CoreError::invalid(
                        "police_reported_on",
                        "only a case flagged at risk is reported to the police",
                        "请先标记“激化风险”，再登记报告派出所的日期",
                    ));
                }
                let reported = past_date(
                    Some(&reported_on),
                    today,
                    None,
                    "police_reported_on",
                    "报告日期格式应为YYYY-MM-DD，且不晚于今天",
                )?;
                not_before(
                    "police_reported_on",
                    reported,
                    accepted,
                    format!("报告日期不能早于受理日期（{}）", case.accepted_on),
                )?;
                vec![WriteChange::new("police_reported_on", day_text(reported))]
            }
        };
        self.write_row(
            &user.user_id,
            def("mediation_case")?,
            id,
            &case.org_unit_id,
            &changes,
        )?;
        self.mediation(user, id)
    }

    /// Marks a case removed (entered by mistake) or restores it. Reversible; nothing is deleted.
    pub fn set_mediation_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<MediationRecord> {
        let case = self.mediation_in_scope(user, id)?;
        self.write_row(
            &user.user_id,
            def("mediation_case")?,
            id,
            &case.org_unit_id,
            &[WriteChange::new(DELETED_FIELD, deleted)],
        )?;
        self.mediation(user, id)
    }

    /// Mediation cases of the user's scope, open ones first; text matches a party (name, pinyin
    /// initials, ID number, phone), the mediator or the summary.
    pub fn list_mediations(
        &self,
        user: &SessionUser,
        query: &CaseQuery,
    ) -> Result<Page<MediationRecord>> {
        self.require_community_work(user)?;
        let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
        let page = query.page.max(1);
        let n = needle(query.text.as_deref());
        let scope = self.scope_json(user)?;
        let filter = "m.org_unit_id IN (SELECT value FROM json_each(?1)) AND m.dispute_type IS NOT NULL \
             AND (?2 = '' OR m.mediator LIKE ?3 ESCAPE '\\' OR m.summary LIKE ?3 ESCAPE '\\' \
                  OR EXISTS (SELECT 1 FROM mediation_party p WHERE p.case_id = m.id AND COALESCE(p._deleted, 0) = 0 \
                      AND (p.name_search LIKE ?9 ESCAPE '\\' OR p.name_initials LIKE ?4 ESCAPE '\\' \
                           OR p.id_number LIKE ?5 ESCAPE '\\' OR p.phone LIKE ?3 ESCAPE '\\'))) \
             AND (?6 OR COALESCE(m._deleted, 0) = 0)";
        let total: u32 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM mediation_case m WHERE {filter}"),
            params![
                scope,
                n.text,
                n.pattern,
                n.initials,
                n.id_pattern,
                query.include_deleted,
                // ?7 and ?8 page the list, not the count.
                0u32,
                0u32,
                n.name_pattern
            ],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM mediation_case m LEFT JOIN org_unit o ON o.id = m.org_unit_id \
             WHERE {filter} ORDER BY m.outcome IS NOT NULL, m.accepted_on DESC, m.id LIMIT ?7 OFFSET ?8"
        ))?;
        let rows = stmt
            .query_map(
                params![
                    scope,
                    n.text,
                    n.pattern,
                    n.initials,
                    n.id_pattern,
                    query.include_deleted,
                    page_size,
                    (page - 1) * page_size,
                    n.name_pattern
                ],
                case_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let today = self.shanghai_today()?;
        let items = rows
            .into_iter()
            .map(|r| self.complete_mediation(r, today))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }

    /// L-16 tasks for the clerk's digest: conclusion due/overdue (L-16.conclude), the court-confirmation
    /// window closing (L-16.court_confirmation; once closed there is nothing left to do, so it drops out)
    /// and a flagged escalation risk not yet reported to the police station (L-16.risk_report).
    pub(super) fn mediation_tasks(
        &self,
        user: &SessionUser,
        today: NaiveDate,
    ) -> Result<Vec<CaseTask>> {
        let engine = self.engine()?;
        let scope = self.scope_json(user)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id FROM mediation_case m WHERE m.org_unit_id IN (SELECT value FROM json_each(?1)) \
             AND m.dispute_type IS NOT NULL AND COALESCE(m._deleted, 0) = 0 \
             AND (m.outcome IS NULL OR (m.outcome = 'success' AND m.court_confirmation_applied_on IS NULL) \
                  OR (COALESCE(m.escalation_risk, 0) = 1 AND m.police_reported_on IS NULL)) \
             ORDER BY m.accepted_on, m.id",
        )?;
        let ids = stmt
            .query_map([&scope], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for id in ids {
            let Some(case) = self.mediation_row(&id)? else {
                continue;
            };
            let names: Vec<String> = self
                .mediation_parties(&id)?
                .into_iter()
                .map(|p| p.name)
                .collect();
            let name = names.join("、");
            let mut add = |rule: &str, trigger: NaiveDate, keep_when_overdue: bool| -> Result<()> {
                let task = engine
                    .task(rule, Moment::Day(trigger), None, Moment::Day(today))
                    .map_err(|e| CoreError::Corrupt(format!("{rule}: {e}")))?;
                if keep_when_overdue || task.status != crate::deadlines::TaskStatus::Overdue {
                    out.push(digest_task(&engine, task, "mediation", &id, &name)?);
                }
                Ok(())
            };
            if case.outcome.is_none() {
                if let Some(accepted) = shanghai::parse_date(&case.accepted_on) {
                    add("L-16.conclude", accepted, true)?;
                }
            }
            if case.outcome == Some(MediationOutcome::Success)
                && case.court_confirmation_applied_on.is_empty()
            {
                if let Some(agreed) = shanghai::parse_date(&case.agreement_on) {
                    add("L-16.court_confirmation", agreed, false)?;
                }
            }
            if case.escalation_risk && case.police_reported_on.is_empty() {
                let flagged = shanghai::parse_date(&case.risk_flagged_on)
                    .or_else(|| shanghai::parse_date(&case.accepted_on))
                    .unwrap_or(today);
                add("L-16.risk_report", flagged, true)?;
            }
        }
        Ok(out)
    }
}
