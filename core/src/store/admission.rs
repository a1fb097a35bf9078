//! W-4 community-work admission (社区工作准入): a department that wants to bring work into the
//! community applies in writing; the workstation registers the application; the district reviews it
//! and approves it with the funding that comes with the work (费随事转) or refuses it with reasons.
//! Money is integer fen.

use super::acked::row_has_unsent_entry;
use super::input::{day_text, needle, optional, past_date, required};
use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::model::{
    AdmissionDecision, AdmissionInput, AdmissionRecord, AdmissionStatus, CaseQuery, Page,
    SessionUser,
};
use crate::tables::{self, TableDef, DELETED_FIELD};
use rusqlite::{params, OptionalExtension, Row};

const MAX_PAGE_SIZE: u32 = 200;
/// 1,000,000,000 yuan in fen: anything larger is a typing error, not a community budget.
const MAX_FEN: i64 = 100_000_000_000;

fn def() -> Result<&'static TableDef> {
    tables::table("admission_request").ok_or(CoreError::NotFound("table admission_request"))
}

fn status_code(s: AdmissionStatus) -> &'static str {
    match s {
        AdmissionStatus::Pending => "pending",
        AdmissionStatus::Approved => "approved",
        AdmissionStatus::Refused => "refused",
    }
}

fn status_from(code: &str) -> AdmissionStatus {
    match code {
        "approved" => AdmissionStatus::Approved,
        "refused" => AdmissionStatus::Refused,
        _ => AdmissionStatus::Pending,
    }
}

fn fen(value: i64, field: &'static str, zh: &str) -> Result<i64> {
    if (0..=MAX_FEN).contains(&value) {
        Ok(value)
    } else {
        Err(CoreError::invalid(
            field,
            "amount must be between 0 and 1,000,000,000 yuan",
            zh,
        ))
    }
}

const COLUMNS: &str = concat!(
    "a.id, a.org_unit_id, o.name, a.department, a.work_item, a.description, a.applied_on, \
     COALESCE(a.funding_offered_fen, 0), a.status, a.decided_by, a.decided_on, a.decision_reasons, \
     COALESCE(a.funding_approved_fen, 0), COALESCE(a._deleted, 0), \
     ",
    row_has_unsent_entry!("a.id")
);

fn text(r: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<AdmissionRecord> {
    Ok(AdmissionRecord {
        id: r.get(0)?,
        org_unit_id: text(r, 1)?,
        org_unit_name: text(r, 2)?,
        department: text(r, 3)?,
        work_item: text(r, 4)?,
        description: text(r, 5)?,
        applied_on: text(r, 6)?,
        funding_offered_fen: r.get(7)?,
        status: status_from(&text(r, 8)?),
        decided_by: text(r, 9)?,
        decided_on: text(r, 10)?,
        decision_reasons: text(r, 11)?,
        funding_approved_fen: r.get(12)?,
        deleted: r.get::<_, i64>(13)? != 0,
        pending_sync: r.get(14)?,
    })
}

impl Store {
    fn admission_in_scope(&self, user: &SessionUser, id: &str) -> Result<AdmissionRecord> {
        self.require_community_work(user)?;
        let record = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM admission_request a LEFT JOIN org_unit o ON o.id = a.org_unit_id \
                 WHERE a.id = ?1 AND a.department IS NOT NULL"
            ))?
            .query_row([id], from_row)
            .optional()?
            .ok_or(CoreError::NotFound("admission application"))?;
        if !self.is_within(&record.org_unit_id, &user.org_unit_id)? {
            return Err(CoreError::NotFound("admission application"));
        }
        Ok(record)
    }

    pub fn admission(&self, user: &SessionUser, id: &str) -> Result<AdmissionRecord> {
        self.admission_in_scope(user, id)
    }

    /// W-4: the workstation registers a department's written application (pending review).
    pub fn register_admission(
        &mut self,
        user: &SessionUser,
        input: AdmissionInput,
    ) -> Result<AdmissionRecord> {
        self.require_community_work(user)?;
        let org_unit_id = self.own_community(user, "准入申请")?;
        let today = self.shanghai_today()?;
        let department = required(
            &input.department,
            100,
            "department",
            "请填写申请部门（最多100字）",
        )?;
        let work_item = required(
            &input.work_item,
            200,
            "work_item",
            "请填写申请进入社区的工作事项（最多200字）",
        )?;
        let description = optional(
            &input.description,
            5000,
            "description",
            "事项说明过长（最多5000字）",
        )?;
        let applied = past_date(
            input.applied_on.as_deref(),
            today,
            Some(today),
            "applied_on",
            "申请日期格式应为YYYY-MM-DD，且不晚于今天",
        )?;
        let offered = fen(
            input.funding_offered_fen,
            "funding_offered_fen",
            "随事项拨付的经费应在0至10亿元之间",
        )?;
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            def()?,
            &id,
            &org_unit_id,
            &[
                WriteChange::new("org_unit_id", org_unit_id.clone()),
                WriteChange::new("department", department),
                WriteChange::new("work_item", work_item),
                WriteChange::new("description", description),
                WriteChange::new("applied_on", day_text(applied)),
                WriteChange::new("funding_offered_fen", offered),
                WriteChange::new("status", status_code(AdmissionStatus::Pending)),
            ],
        )?;
        self.admission(user, &id)
    }

    /// W-4: the district decides once: approve with the funding that comes with the work (费随事转),
    /// or refuse with written reasons.
    pub fn decide_admission(
        &mut self,
        user: &SessionUser,
        id: &str,
        decision: AdmissionDecision,
    ) -> Result<AdmissionRecord> {
        if !crate::permissions::may(
            user.role,
            crate::permissions::Area::AdmissionDecisions,
            crate::permissions::Access::Write,
        ) {
            return Err(CoreError::Forbidden(
                "community-work admission is decided by the district",
            ));
        }
        let current = self.admission_in_scope(user, id)?;
        if current.deleted {
            return Err(CoreError::invalid(
                "status",
                "the application was withdrawn",
                "该申请已撤销，不能审核",
            ));
        }
        if current.status != AdmissionStatus::Pending {
            let done_zh = if current.status == AdmissionStatus::Approved {
                "准予准入"
            } else {
                "不予准入"
            };
            return Err(CoreError::invalid(
                "status",
                "the application was already decided",
                format!(
                    "该申请已于{}审核（{done_zh}），不能重复审核",
                    current.decided_on
                ),
            ));
        }
        let today = day_text(self.shanghai_today()?);
        let mut changes = match decision {
            AdmissionDecision::Approve { funding_fen } => {
                let funding = fen(
                    funding_fen,
                    "funding_approved_fen",
                    "核定经费应在0至10亿元之间",
                )?;
                if funding == 0 {
                    return Err(CoreError::invalid(
                        "funding_approved_fen",
                        "approved work comes with its funding",
                        "准入的工作事项须同时核定随事项拨付的经费（费随事转）",
                    ));
                }
                vec![
                    WriteChange::new("status", status_code(AdmissionStatus::Approved)),
                    WriteChange::new("funding_approved_fen", funding),
                ]
            }
            AdmissionDecision::Refuse { reasons } => {
                let reasons = required(
                    &reasons,
                    2000,
                    "decision_reasons",
                    "不予准入须填写理由（最多2000字）",
                )?;
                vec![
                    WriteChange::new("status", status_code(AdmissionStatus::Refused)),
                    WriteChange::new("decision_reasons", reasons),
                    WriteChange::new("funding_approved_fen", 0),
                ]
            }
        };
        changes.push(WriteChange::new("decided_by", user.display_name.clone()));
        changes.push(WriteChange::new("decided_on", today));
        self.write_row(&user.user_id, def()?, id, &current.org_unit_id, &changes)?;
        self.admission(user, id)
    }

    /// Withdraws (or restores) an application registered by mistake. Reversible; nothing is deleted.
    pub fn set_admission_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<AdmissionRecord> {
        let current = self.admission_in_scope(user, id)?;
        self.write_row(
            &user.user_id,
            def()?,
            id,
            &current.org_unit_id,
            &[WriteChange::new(DELETED_FIELD, deleted)],
        )?;
        self.admission(user, id)
    }

    /// Applications of the user's scope, pending first; text matches the department (or its pinyin
    /// initials), the work item or the description.
    pub fn list_admissions(
        &self,
        user: &SessionUser,
        query: &CaseQuery,
    ) -> Result<Page<AdmissionRecord>> {
        self.require_community_work(user)?;
        let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
        let page = query.page.max(1);
        let n = needle(query.text.as_deref());
        let scope = self.scope_json(user)?;
        let filter = "a.org_unit_id IN (SELECT value FROM json_each(?1)) AND a.department IS NOT NULL \
             AND (?2 = '' OR a.department LIKE ?3 ESCAPE '\\' OR a.name_initials LIKE ?4 ESCAPE '\\' \
                  OR a.work_item LIKE ?3 ESCAPE '\\' OR a.description LIKE ?3 ESCAPE '\\') \
             AND (?5 OR COALESCE(a._deleted, 0) = 0)";
        let total: u32 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM admission_request a WHERE {filter}"),
            params![scope, n.text, n.pattern, n.initials, query.include_deleted],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM admission_request a LEFT JOIN org_unit o ON o.id = a.org_unit_id \
             WHERE {filter} ORDER BY a.status <> 'pending', a.applied_on DESC, a.id LIMIT ?6 OFFSET ?7"
        ))?;
        let items = stmt
            .query_map(
                params![
                    scope,
                    n.text,
                    n.pattern,
                    n.initials,
                    query.include_deleted,
                    page_size,
                    (page - 1) * page_size
                ],
                from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }
}
