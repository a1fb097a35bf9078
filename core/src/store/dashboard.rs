//! Issue 13 §2: the rows of the oversight dashboards, read from the local store and handed to the pure
//! rules of [`crate::dashboard`]. Read only: every row comes through the existing readers (the case,
//! appeal and mediation lists, the task digest as of `to`, the C-10 / C-11 compliance of
//! `supervision::month_compliance`, the statistics' own rule), never through a write.

use super::Store;
use crate::dashboard::{
    self, AppealRow, CaseRow, ClockRow, ComplianceRow, Dashboard, DashboardInput, MediationRow,
    OrgRow,
};
use crate::deadlines::{Moment, TaskStatus};
use crate::error::{CoreError, Result};
use crate::lifecycle::status_label_zh;
use crate::model::{
    CaseQuery, CaseRecord, CaseStatus, OrgKind, ResidentQuery, Role, SessionUser, SupervisionLevel,
};
use crate::permissions::{may, Access, Area};
use crate::shanghai;
use crate::supervision;
use chrono::NaiveDate;
use std::collections::HashMap;

const PAGE: u32 = 200;

/// Page `page` of a whole list, as the dashboards read lists.
fn all_on(page: u32) -> CaseQuery {
    CaseQuery {
        text: None,
        page,
        page_size: PAGE,
        include_deleted: false,
    }
}

/// Every item of a paged list: pages of [`PAGE`] until its total.
fn every_page<T: ts_rs::TS>(
    mut list: impl FnMut(u32) -> Result<crate::model::Page<T>>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let found = list(page)?;
        let total = found.total;
        out.extend(found.items);
        if page * PAGE >= total {
            return Ok(out);
        }
        page += 1;
    }
}

/// The district's rights (its sites: `Area::Sites`), or an office head for the own office: the lists
/// behind the charts are scoped to the user's org subtree already, so a head sees the own office only.
fn require_dashboard(user: &SessionUser) -> Result<()> {
    if may(user.role, Area::Sites, Access::Write) || user.role == Role::OfficeHead {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "the oversight dashboards are the district's (and an office head's, for the office)",
        ))
    }
}

impl Store {
    /// The oversight dashboards of the user's scope for the Shanghai dates `from`..=`to`, every clock
    /// and state read as of the end of `to` (never the real clock).
    pub fn dashboard(
        &self,
        user: &SessionUser,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Dashboard> {
        require_dashboard(user)?;
        if from > to {
            return Err(CoreError::invalid(
                "from",
                "the range starts after it ends",
                "开始日期不能晚于结束日期",
            ));
        }
        let cases = self.dashboard_cases(user)?;
        let mut units: HashMap<String, String> = cases
            .iter()
            .map(|c| (c.id.clone(), c.org_unit_id.clone()))
            .collect();
        let (appeals, mediations) = if user.role.may_use_residents() {
            (
                self.dashboard_appeals(user)?,
                self.dashboard_mediations(user)?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        units.extend(appeals.iter().map(|a| (a.id.clone(), a.unit_id.clone())));
        units.extend(mediations.iter().map(|m| (m.id.clone(), m.unit_id.clone())));
        let input = DashboardInput {
            from,
            to,
            root: user.org_unit_id.clone(),
            org: self.dashboard_org()?,
            clocks: self.dashboard_clocks(user, to, &units)?,
            compliance: self.dashboard_compliance(&cases, from, to)?,
            cases: cases.iter().map(case_row).collect(),
            appeals,
            mediations,
        };
        Ok(dashboard::build(&input))
    }

    fn dashboard_org(&self) -> Result<Vec<OrgRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, parent_id, kind, name, COALESCE(_deleted, 0) FROM org_unit",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OrgRow {
                id: r.get(0)?,
                parent_id: r.get(1)?,
                kind: r
                    .get::<_, Option<String>>(2)?
                    .as_deref()
                    .and_then(OrgKind::from_code),
                name: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                deleted: r.get::<_, i64>(4)? != 0,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every case of the scope as the case list shows it; a copy handed over to another office (L-6)
    /// counts at the new office only.
    fn dashboard_cases(&self, user: &SessionUser) -> Result<Vec<CaseRecord>> {
        let cases = every_page(|page| self.list_cases(user, &all_on(page)))?;
        Ok(cases
            .into_iter()
            .filter(|c| c.transferred_out_to.is_none())
            .collect())
    }

    /// The digest's open clocks as of `to`, each with the org unit of its record.
    fn dashboard_clocks(
        &self,
        user: &SessionUser,
        to: NaiveDate,
        units: &HashMap<String, String>,
    ) -> Result<Vec<ClockRow>> {
        let engine = self.engine()?;
        let digest = self.task_digest(user, Some(to))?;
        Ok(digest
            .tasks
            .into_iter()
            .filter(|t| t.status != "done")
            .map(|t| ClockRow {
                unit_id: units
                    .get(&t.case_id)
                    .cloned()
                    .unwrap_or_else(|| user.org_unit_id.clone()),
                rule_title: engine
                    .table()
                    .rule(&t.rule_id)
                    .map(|r| r.title_zh.clone())
                    .unwrap_or(t.title_zh),
                kind: t.subject_kind,
                id: t.case_id,
                title: t.case_name,
                rule_id: t.rule_id,
                rule_ref: t.rule_ref,
                due_date: t.due_date,
            })
            .collect())
    }

    fn dashboard_appeals(&self, user: &SessionUser) -> Result<Vec<AppealRow>> {
        let mut unit_of: HashMap<String, String> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, org_unit_id FROM appeal")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        })?;
        for row in rows {
            let (id, unit) = row?;
            unit_of.insert(id, unit);
        }
        let appeals = every_page(|page| {
            self.list_appeals(
                user,
                &ResidentQuery {
                    text: None,
                    group: None,
                    page,
                    page_size: PAGE,
                    include_deleted: false,
                },
            )
        })?;
        Ok(appeals
            .into_iter()
            .map(|a| AppealRow {
                unit_id: unit_of.get(&a.id).cloned().unwrap_or_default(),
                title: format!("{}：{}", a.petitioner_name, a.subject),
                id: a.id,
                received_on: a.received_on,
                due_on: a.due_on,
                status: a.status,
                resolved_on: a.resolved_on,
                satisfaction: a.satisfaction,
                followed_up_on: a.followed_up_on,
                deleted: false,
            })
            .collect())
    }

    fn dashboard_mediations(&self, user: &SessionUser) -> Result<Vec<MediationRow>> {
        let mediations = every_page(|page| self.list_mediations(user, &all_on(page)))?;
        Ok(mediations
            .into_iter()
            .map(|m| MediationRow {
                title: m
                    .parties
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                id: m.id,
                unit_id: m.org_unit_id,
                accepted_on: m.accepted_on,
                outcome: m.outcome,
                concluded_on: m.concluded_on,
                conclude_due: m.conclude_due,
                deleted: m.deleted,
            })
            .collect())
    }

    /// C-10 / C-11 (the statistics' `month_compliance`) and L-3 per case and month of the range, each
    /// month read at its last day (or at `to` for the running month). A case is due in a month when it
    /// was in correction on that day by its current record (the C-21 report reads the history instead;
    /// the dashboard is the day-to-day view).
    fn dashboard_compliance(
        &self,
        cases: &[CaseRecord],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ComplianceRow>> {
        let rules = self.supervision_rules()?;
        let months = dashboard::months_in_range(from, to);
        let mut out = Vec::new();
        for case in cases {
            if case.deleted
                || !matches!(case.status, CaseStatus::InCorrection | CaseStatus::Released)
            {
                continue;
            }
            let (Some(start), Some(end)) = (
                shanghai::parse_date(&case.sentence_start),
                shanghai::parse_date(&case.sentence_end),
            ) else {
                continue;
            };
            let due_months: Vec<(NaiveDate, NaiveDate)> = months
                .iter()
                .map(|(first, last)| (*first, (*last).min(to)))
                .filter(|(_, eval)| start <= *eval && *eval <= end)
                .collect();
            if due_months.is_empty() {
                continue;
            }
            let entries = self.entries_of(&case.id)?;
            for (first, eval) in due_months {
                let month = first.format("%Y-%m").to_string();
                let known: Vec<_> = entries
                    .iter()
                    .filter(|e| shanghai::parse_date(&e.occurred_on).is_some_and(|d| d <= eval))
                    .cloned()
                    .collect();
                let m = supervision::month_compliance(&known, first, eval, &rules);
                let row = |rule_ref: &str, met: bool, detail: String| ComplianceRow {
                    month: month.clone(),
                    rule_ref: rule_ref.to_string(),
                    case_id: case.id.clone(),
                    name: case.name.clone(),
                    unit_id: case.org_unit_id.clone(),
                    met,
                    detail,
                };
                out.push(row(
                    "C-10",
                    m.labour_ok,
                    format!("劳动{}/{}分钟", m.labour_minutes, m.labour_required_minutes),
                ));
                out.push(row(
                    "C-11",
                    m.education_ok,
                    format!(
                        "集中教育{}/{}次",
                        m.group_education_sessions, m.group_education_required_sessions
                    ),
                ));
                if let Some((met, detail)) = self.reporting_met(case, eval)? {
                    out.push(row("L-3", met, detail));
                }
            }
        }
        Ok(out)
    }

    /// L-3 on `day`: none of the case's reporting clocks (oral, written; by its supervision level) was
    /// overdue, each running from the last report of its kind made by then, or from reporting in, as
    /// the digest counts them. None when the case has no level (L-3 not decided).
    fn reporting_met(&self, case: &CaseRecord, day: NaiveDate) -> Result<Option<(bool, String)>> {
        let Some(level) = case.supervision_level else {
            return Ok(None);
        };
        let engine = self.engine()?;
        let start = shanghai::parse_date(&case.reported_on)
            .or_else(|| shanghai::parse_date(&case.sentence_start));
        let (oral, written) = self.last_l3_reports(&case.id, Some(day))?;
        let level_code = match level {
            SupervisionLevel::Strict => "strict",
            SupervisionLevel::Normal => "normal",
            SupervisionLevel::Lenient => "lenient",
        };
        let mut met = true;
        let mut late = Vec::new();
        for (kind, zh, last) in [("oral", "口头报告", oral), ("written", "书面报告", written)]
        {
            let rule_id = format!("L-3.{level_code}_{kind}");
            let rule = engine
                .table()
                .rule(&rule_id)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?;
            let Some(trigger) = last.max(start) else {
                continue;
            };
            if !rule.active || trigger > day {
                continue;
            }
            let task = engine
                .task(&rule_id, Moment::Day(trigger), None, Moment::Day(day))
                .map_err(|e| CoreError::Corrupt(format!("{rule_id}: {e}")))?;
            if task.status == TaskStatus::Overdue {
                met = false;
                late.push(format!(
                    "{zh}应于{}前",
                    task.due.due_date.format("%Y-%m-%d")
                ));
            }
        }
        let detail = if late.is_empty() {
            "按期报告".to_string()
        } else {
            late.join("，")
        };
        Ok(Some((met, detail)))
    }
}

fn case_row(c: &CaseRecord) -> CaseRow {
    CaseRow {
        id: c.id.clone(),
        name: c.name.clone(),
        unit_id: c.org_unit_id.clone(),
        officer_id: c.officer_id.clone(),
        officer_name: c.officer_name.clone(),
        sentence_start: c.sentence_start.clone(),
        sentence_end: c.sentence_end.clone(),
        status_label: status_label_zh(c.status).to_string(),
        deleted: c.deleted,
    }
}
