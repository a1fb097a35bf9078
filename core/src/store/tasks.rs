//! The officer's daily digest: every open statutory clock of the cases in scope, computed offline from
//! the rule table and the holiday calendar (core::deadlines) and the case data.

use super::Store;
use crate::casefile::{DocumentRecord, DocumentType};
use crate::deadlines::{Engine, Moment, Task, TaskStatus, WindowKind};
use crate::error::{CoreError, Result};
use crate::model::{
    AppealClass, AppealStatus, CaseKind, CaseQuery, CaseRecord, CaseStatus, CaseTask, LeaveStatus,
    SessionUser, TaskDigest,
};
use crate::shanghai;
use crate::supervision;
use chrono::NaiveDate;

/// Tasks due further ahead than this are left out of the digest (they are not today's work).
const DIGEST_HORIZON_DAYS: i64 = 45;
const PAGE: u32 = 200;

impl Store {
    /// Open clocks of every case the user may see, as of `today` (the Shanghai date; None = now).
    pub fn task_digest(&self, user: &SessionUser, today: Option<NaiveDate>) -> Result<TaskDigest> {
        if !user.role.may_read_corrections() && !user.role.may_use_residents() {
            return Err(CoreError::Forbidden("no task list for this role"));
        }
        let today = match today {
            Some(d) => d,
            None => shanghai::today(self.corrected_wall_millis()?),
        };
        let mut tasks = Vec::new();
        if user.role.may_use_residents() {
            tasks.extend(self.appeal_tasks(user, today)?);
            // W-3 / L-16: mediation clocks (store/mediation.rs).
            tasks.extend(self.mediation_tasks(user, today)?);
        }
        if user.role.may_read_corrections() {
            // L-2: pre-decision assessment requests awaiting their opinion.
            tasks.extend(self.investigation_tasks(user, today)?);
            // L-13: the procuratorate's opinions awaiting the written reply.
            tasks.extend(self.recommendation_tasks(user, today)?);
            // C-23: the half-yearly meeting and incidents to report upward.
            tasks.extend(self.meeting_tasks(user, today)?);
        }
        let mut page = 1;
        while user.role.may_read_corrections() {
            let cases = self.list_cases(
                user,
                &CaseQuery {
                    text: None,
                    page,
                    page_size: PAGE,
                    include_deleted: false,
                },
            )?;
            for case in &cases.items {
                tasks.extend(self.case_tasks(case, today)?);
            }
            if page * PAGE >= cases.total {
                break;
            }
            page += 1;
        }
        tasks.retain(|t| t.status != "done" && t.days_left <= DIGEST_HORIZON_DAYS);
        tasks.sort_by(|a, b| {
            (a.status != "overdue", &a.due_date, &a.case_name).cmp(&(
                b.status != "overdue",
                &b.due_date,
                &b.case_name,
            ))
        });
        let count = |s: &str| tasks.iter().filter(|t| t.status == s).count() as u32;
        Ok(TaskDigest {
            today: today.format("%Y-%m-%d").to_string(),
            overdue: count("overdue"),
            due_soon: count("due_soon"),
            due: count("due"),
            tasks,
        })
    }

    /// The clocks of one case (done ones included).
    pub fn case_tasks(&self, case: &CaseRecord, today: NaiveDate) -> Result<Vec<CaseTask>> {
        let released = case.status == CaseStatus::Released;
        if case.deleted
            || (crate::lifecycle::is_final(case.status) && !released)
            || case.transferred_out_to.is_some()
        {
            return Ok(Vec::new());
        }
        let engine = self.engine()?;
        let documents = self.documents_of(&case.id)?;
        let mut out = Vec::new();
        let mut add_at = |rule_id: &str, trigger: Moment, done: Option<Moment>| -> Result<()> {
            let task = engine
                .task(rule_id, trigger, done, Moment::Day(today))
                .map_err(|e| CoreError::Corrupt(format!("{rule_id}: {e}")))?;
            out.push(to_case_task(&engine, case, task)?);
            Ok(())
        };
        if released {
            // L-10 / C-18: after the release, the certificate and the notices are still owed.
            if let Some(end) = shanghai::parse_date(&case.sentence_end) {
                let done = all_on_file(&documents, &crate::casefile::RELEASE_PAPERWORK);
                add_at("L-10.release", Moment::Day(end), done.map(Moment::Day))?;
            }
            return Ok(out);
        }
        // L-9: the court's and the deciding organ's clocks on what the office proposed, until their
        // answer is on file.
        for (proposal, answer, rule_id) in [
            (
                DocumentType::RevocationProposal,
                DocumentType::RevocationRuling,
                "L-9.revocation_ruling",
            ),
            (
                DocumentType::CommittalProposal,
                DocumentType::CommittalDecision,
                "L-9.committal_decision",
            ),
            (
                DocumentType::ArrestRequest,
                DocumentType::ArrestRuling,
                "L-9.arrest_ruling",
            ),
        ] {
            for sent in documents.iter().filter(|d| d.doc_type == proposal) {
                let Some(day) = shanghai::parse_date(&sent.dated_on) else {
                    continue;
                };
                let trigger = match shanghai::at_time(day, &sent.time_of_day) {
                    Some(at) => Moment::At(at),
                    None => Moment::Day(day),
                };
                let done = documents
                    .iter()
                    .filter(|d| d.doc_type == answer && d.dated_on >= sent.dated_on)
                    .filter_map(|d| shanghai::parse_date(&d.dated_on))
                    .min();
                add_at(rule_id, trigger, done.map(Moment::Day))?;
            }
        }
        let mut add =
            |rule_id: &str, trigger: NaiveDate, done_on: Option<NaiveDate>| -> Result<()> {
                add_at(rule_id, Moment::Day(trigger), done_on.map(Moment::Day))
            };
        // L-6: once the county decided, the file goes out within 3 working days and the subject reports
        // to the new office within 7 days.
        for transfer in self.transfers_of(&case.id)? {
            if !transfer.status.is_in_transfer() {
                continue;
            }
            let Some(decided) = shanghai::parse_date(&transfer.decided_on) else {
                continue;
            };
            add(
                "L-6.file_transfer",
                decided,
                shanghai::parse_date(&transfer.file_sent_on),
            )?;
            add(
                "L-6.report_new",
                decided,
                shanghai::parse_date(&transfer.reported_on),
            )?;
        }
        // L-1: the deciding organ sends the documents within 10 days of the judgment taking effect.
        if let Some(effective) = shanghai::parse_date(&case.judgment_effective_on) {
            let received = documents
                .iter()
                .filter(|d| d.doc_type.is_sentencing_document())
                .filter_map(|d| shanghai::parse_date(&d.dated_on))
                .min();
            add("L-1.documents", effective, received)?;
        }
        // L-1: subjects of 管制, 缓刑, 假释 report within 10 days of the judgment or ruling taking effect.
        if let Some(effective) = shanghai::parse_date(&case.judgment_effective_on) {
            if case.kind != CaseKind::TemporaryOutside {
                add(
                    "L-1.report",
                    effective,
                    shanghai::parse_date(&case.reported_on),
                )?;
            }
        }
        if let Some(end) = shanghai::parse_date(&case.sentence_end) {
            if case.status == CaseStatus::InCorrection {
                // C-17: self-appraisal, review meeting and appraisal within the 30 days before the end.
                let appraised = all_on_file(
                    &documents,
                    &[
                        DocumentType::SelfAppraisal,
                        DocumentType::ReviewMeeting,
                        DocumentType::Appraisal,
                    ],
                );
                add("C-17.appraisal", end, appraised)?;
                // L-10 / C-18: release announced when the period ends.
                add("L-10.release", end, None)?;
            }
        }
        // L-5: report on return from an approved trip.
        for leave in self.leaves_of(&case.id)? {
            if matches!(
                leave.status,
                LeaveStatus::Approved | LeaveStatus::Provisional | LeaveStatus::Returned
            ) {
                if let Some(end) = shanghai::parse_date(&leave.end_on) {
                    add(
                        "L-5.report_return",
                        end,
                        shanghai::parse_date(&leave.returned_on),
                    )?;
                }
            }
        }
        if case.status == CaseStatus::InCorrection {
            out.extend(self.reporting_tasks(case, today)?);
            out.extend(self.location_tasks(case, today)?);
            out.extend(self.monthly_minima_tasks(case, today)?);
            out.extend(self.assessment_tasks(case, today)?);
        }
        Ok(out)
    }

    /// L-3: the supervision level sets how often the subject reports orally (in person or by phone) and in
    /// writing (a written report or a thought report); each clock runs from the last report of its kind,
    /// or from the day of reporting in.
    fn reporting_tasks(&self, case: &CaseRecord, today: NaiveDate) -> Result<Vec<CaseTask>> {
        use crate::model::SupervisionLevel;
        let Some(level) = case.supervision_level else {
            return Ok(Vec::new());
        };
        let engine = self.engine()?;
        let start = shanghai::parse_date(&case.reported_on)
            .or_else(|| shanghai::parse_date(&case.sentence_start));
        let (oral, written) = self.last_l3_reports(&case.id, None)?;
        let level_code = match level {
            SupervisionLevel::Strict => "strict",
            SupervisionLevel::Normal => "normal",
            SupervisionLevel::Lenient => "lenient",
        };
        let mut out = Vec::new();
        for (kind, last) in [("oral", oral), ("written", written)] {
            let rule_id = format!("L-3.{level_code}_{kind}");
            let rule = engine
                .table()
                .rule(&rule_id)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?;
            let Some(trigger) = last.max(start) else {
                continue;
            };
            if !rule.active {
                continue;
            }
            let task = engine
                .task(&rule_id, Moment::Day(trigger), None, Moment::Day(today))
                .map_err(|e| CoreError::Corrupt(format!("{rule_id}: {e}")))?;
            out.push(to_case_task(&engine, case, task)?);
        }
        Ok(out)
    }

    /// L-7: each running period is due for a decision (end or renew) by its last day; a period left to
    /// lapse without one is overdue.
    fn location_tasks(&self, case: &CaseRecord, today: NaiveDate) -> Result<Vec<CaseTask>> {
        use crate::location::LocationPeriodStatus;
        let engine = self.engine()?;
        let soon_days = engine.table().settings().due_soon_working_days;
        let mut out = Vec::new();
        for period in self.location_periods_of(&case.id)? {
            let rule_id = if period.renewal_of.is_some() {
                "L-7.location_renewal"
            } else {
                "L-7.location_period"
            };
            let rule = engine
                .table()
                .rule(rule_id)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?;
            let Some(end) = shanghai::parse_date(&period.end_on) else {
                continue;
            };
            let soon = engine
                .calendar()
                .sub_working_days(end, soon_days)
                .map(|d| d.date)
                .unwrap_or(end);
            let status = match period.status {
                LocationPeriodStatus::Ended | LocationPeriodStatus::Renewed => "done",
                LocationPeriodStatus::Lapsed => "overdue",
                _ if today >= soon => "due_soon",
                _ => "due",
            };
            out.push(CaseTask {
                subject_kind: "case".to_string(),
                case_id: case.id.clone(),
                case_name: case.name.clone(),
                rule_id: rule.id.clone(),
                rule_ref: rule.rule_ref.clone(),
                rule_name: rule.title_zh.clone(),
                rule_name_en: rule.title_en.clone(),
                title_zh: format!(
                    "{}（{}至{}，期满前决定解除或延长）",
                    rule.title_zh, period.start_on, period.end_on
                ),
                title_en: format!(
                    "{} ({} to {}: end or renew by the last day)",
                    rule.title_en, period.start_on, period.end_on
                ),
                due_date: period.end_on.clone(),
                status: status.to_string(),
                days_left: (end - today).num_days(),
                calendar_unknown: false,
                escalated_to: None,
                officer_id: case.officer_id.clone(),
            });
        }
        Ok(out)
    }

    /// C-10 / C-11 of the current month (due at its end) and of last month when it fell short.
    fn monthly_minima_tasks(&self, case: &CaseRecord, today: NaiveDate) -> Result<Vec<CaseTask>> {
        let entries = self.entries_of(&case.id)?;
        let rules = self.supervision_rules()?;
        let engine = self.engine()?;
        let this_month_first = supervision::month_bounds(today).0;
        let mut out = Vec::new();
        let start = shanghai::parse_date(&case.sentence_start).unwrap_or(this_month_first);
        for month_day in [
            this_month_first.pred_opt().unwrap_or(this_month_first),
            this_month_first,
        ] {
            let (first, last) = supervision::month_bounds(month_day);
            if last < start || first > today {
                continue;
            }
            let m = supervision::month_compliance(&entries, month_day, today, &rules);
            let soon = engine
                .calendar()
                .sub_working_days(last, engine.table().settings().due_soon_working_days)
                .map(|d| d.date)
                .unwrap_or(last);
            let status_of = |ok: bool| -> &'static str {
                if ok {
                    "done"
                } else if last < today {
                    "overdue"
                } else if today >= soon {
                    "due_soon"
                } else {
                    "due"
                }
            };
            for (rule_id, ok) in [
                ("C-10.labour_monthly", m.labour_ok),
                ("C-11.group_education_monthly", m.education_ok),
            ] {
                let rule = engine
                    .table()
                    .rule(rule_id)
                    .map_err(|e| CoreError::Corrupt(e.to_string()))?;
                if !rule.active {
                    continue;
                }
                out.push(CaseTask {
                    subject_kind: "case".to_string(),
                    case_id: case.id.clone(),
                    case_name: case.name.clone(),
                    rule_id: rule.id.clone(),
                    rule_ref: rule.rule_ref.clone(),
                    rule_name: rule.title_zh.clone(),
                    rule_name_en: rule.title_en.clone(),
                    title_zh: format!("{}（{}）", rule.title_zh, m.month),
                    title_en: format!("{} ({})", rule.title_en, m.month),
                    due_date: last.format("%Y-%m-%d").to_string(),
                    status: status_of(ok).to_string(),
                    days_left: (last - today).num_days(),
                    calendar_unknown: false,
                    escalated_to: None,
                    officer_id: case.officer_id.clone(),
                });
            }
        }
        Ok(out)
    }
}

impl Store {
    /// W-2: the handling clock of every open appeal (L-14 / L-15) and the follow-up call after a
    /// hotline appeal is resolved (L-15).
    fn appeal_tasks(&self, user: &SessionUser, today: NaiveDate) -> Result<Vec<CaseTask>> {
        let engine = self.engine()?;
        let appeals = self.list_appeals(
            user,
            &crate::model::ResidentQuery {
                text: None,
                group: None,
                page: 1,
                page_size: 200,
                include_deleted: false,
            },
        )?;
        let mut out = Vec::new();
        for appeal in appeals.items {
            let open = matches!(
                appeal.status,
                AppealStatus::Registered | AppealStatus::Routed
            );
            let followup =
                appeal.status == AppealStatus::Resolved && appeal.class != AppealClass::Petition;
            let (rule_id, trigger) = if open {
                (
                    appeal.class.handling_rule(),
                    shanghai::parse_date(&appeal.received_on),
                )
            } else if followup {
                ("L-15.follow_up", shanghai::parse_date(&appeal.resolved_on))
            } else {
                continue;
            };
            let Some(trigger) = trigger else { continue };
            let rule = engine
                .table()
                .rule(rule_id)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?;
            let mut task = engine
                .task(rule_id, Moment::Day(trigger), None, Moment::Day(today))
                .map_err(|e| CoreError::Corrupt(format!("{rule_id}: {e}")))?;
            if open && appeal.extended {
                // L-14: the extension moves the deadline (core::store::appeals::handling_due).
                let due = shanghai::parse_date(&appeal.due_on).unwrap_or(task.due.due_date);
                task.due.due_date = due;
                task.days_left = (due - today).num_days();
                task.status = if due < today {
                    TaskStatus::Overdue
                } else {
                    task.status
                };
            }
            out.push(CaseTask {
                subject_kind: "appeal".to_string(),
                case_id: appeal.id.clone(),
                case_name: format!("{}：{}", appeal.petitioner_name, appeal.subject),
                rule_id: rule.id.clone(),
                rule_ref: rule.rule_ref.clone(),
                rule_name: rule.title_zh.clone(),
                rule_name_en: rule.title_en.clone(),
                title_zh: rule.title_zh.clone(),
                title_en: rule.title_en.clone(),
                due_date: task.due.due_date.format("%Y-%m-%d").to_string(),
                status: match task.status {
                    TaskStatus::Done => "done",
                    TaskStatus::Overdue => "overdue",
                    TaskStatus::DueSoon => "due_soon",
                    TaskStatus::Due => "due",
                }
                .to_string(),
                days_left: task.days_left,
                calendar_unknown: task.due.calendar_unknown,
                escalated_to: task.escalation.filter(|e| e.reached).map(|e| e.to),
                officer_id: None,
            });
        }
        Ok(out)
    }

    /// C-14: this quarter's assessment (due at the quarter's end), last quarter's when it is missing, and
    /// the annual assessment in the last quarter.
    fn assessment_tasks(&self, case: &CaseRecord, today: NaiveDate) -> Result<Vec<CaseTask>> {
        let engine = self.engine()?;
        let done: Vec<String> = self
            .assessments_of(&case.id)?
            .into_iter()
            .map(|a| a.period)
            .collect();
        let start = shanghai::parse_date(&case.sentence_start).unwrap_or(today);
        let this_quarter = window(WindowKind::Quarter, today)?;
        let mut periods = vec![(
            crate::store::assessments::quarter_of(today),
            this_quarter,
            "C-14.quarterly_assessment",
        )];
        if let Some(previous_day) = this_quarter.first.pred_opt() {
            let previous = window(WindowKind::Quarter, previous_day)?;
            if previous.last >= start {
                periods.push((
                    crate::store::assessments::quarter_of(previous_day),
                    previous,
                    "C-14.quarterly_assessment",
                ));
            }
        }
        if this_quarter.last == window(WindowKind::Year, today)?.last {
            periods.push((
                today.format("%Y").to_string(),
                window(WindowKind::Year, today)?,
                "C-14.annual_assessment",
            ));
        }
        let soon_days = engine.table().settings().due_soon_working_days;
        let mut out = Vec::new();
        for (period, w, rule_id) in periods {
            let rule = engine
                .table()
                .rule(rule_id)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?;
            if !rule.active || w.last < start {
                continue;
            }
            let soon = engine
                .calendar()
                .sub_working_days(w.last, soon_days)
                .map(|d| d.date)
                .unwrap_or(w.last);
            let status = if done.contains(&period) {
                "done"
            } else if w.last < today {
                "overdue"
            } else if today >= soon {
                "due_soon"
            } else {
                "due"
            };
            out.push(CaseTask {
                subject_kind: "case".to_string(),
                case_id: case.id.clone(),
                case_name: case.name.clone(),
                rule_id: rule.id.clone(),
                rule_ref: rule.rule_ref.clone(),
                rule_name: rule.title_zh.clone(),
                rule_name_en: rule.title_en.clone(),
                title_zh: format!("{}（{period}）", rule.title_zh),
                title_en: format!("{} ({period})", rule.title_en),
                due_date: w.last.format("%Y-%m-%d").to_string(),
                status: status.to_string(),
                days_left: (w.last - today).num_days(),
                calendar_unknown: false,
                escalated_to: None,
                officer_id: case.officer_id.clone(),
            });
        }
        Ok(out)
    }
}

/// The day the last of `needed` came on file, once all of them are.
fn all_on_file(documents: &[DocumentRecord], needed: &[DocumentType]) -> Option<NaiveDate> {
    needed
        .iter()
        .map(|t| {
            documents
                .iter()
                .filter(|d| d.doc_type == *t)
                .filter_map(|d| shanghai::parse_date(&d.dated_on))
                .min()
        })
        .collect::<Option<Vec<NaiveDate>>>()
        .and_then(|days| days.into_iter().max())
}

fn window(kind: WindowKind, day: NaiveDate) -> Result<crate::deadlines::Window> {
    crate::deadlines::window(kind, day).map_err(|e| CoreError::Corrupt(e.to_string()))
}

fn to_case_task(engine: &Engine, case: &CaseRecord, task: Task) -> Result<CaseTask> {
    let rule = engine
        .table()
        .rule(&task.rule_id)
        .map_err(|e| CoreError::Corrupt(e.to_string()))?;
    Ok(CaseTask {
        subject_kind: "case".to_string(),
        case_id: case.id.clone(),
        case_name: case.name.clone(),
        rule_id: task.rule_id.clone(),
        rule_ref: rule.rule_ref.clone(),
        rule_name: rule.title_zh.clone(),
        rule_name_en: rule.title_en.clone(),
        title_zh: rule.title_zh.clone(),
        title_en: rule.title_en.clone(),
        due_date: task.due.due_date.format("%Y-%m-%d").to_string(),
        status: match task.status {
            TaskStatus::Done => "done",
            TaskStatus::Overdue => "overdue",
            TaskStatus::DueSoon => "due_soon",
            TaskStatus::Due => "due",
        }
        .to_string(),
        days_left: task.days_left,
        calendar_unknown: task.due.calendar_unknown,
        escalated_to: task.escalation.filter(|e| e.reached).map(|e| e.to),
        officer_id: case.officer_id.clone(),
    })
}

impl Store {
    /// L-3: the last oral report (in person or by phone) and the last written one (a written
    /// check-in or a thought report) of a case, up to `until` when given. The digest's reporting
    /// clocks and the dashboards' monthly L-3 compliance read the same days.
    pub(super) fn last_l3_reports(
        &self,
        case_id: &str,
        until: Option<NaiveDate>,
    ) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
        let within = |d: &NaiveDate| until.is_none_or(|u| *d <= u);
        let checkins = self.checkins_of(case_id)?;
        let last_of = |methods: &[crate::model::CheckinMethod]| {
            checkins
                .iter()
                .filter(|c| methods.contains(&c.method))
                .filter_map(|c| c.occurred_at.get(..10).and_then(shanghai::parse_date))
                .filter(within)
                .max()
        };
        let thought_report = self
            .entries_of(case_id)?
            .into_iter()
            .filter(|e| e.kind == crate::model::EntryKind::ThoughtReport)
            .filter_map(|e| shanghai::parse_date(&e.occurred_on))
            .filter(within)
            .max();
        let oral = last_of(&[
            crate::model::CheckinMethod::InPerson,
            crate::model::CheckinMethod::Phone,
        ]);
        let written = last_of(&[crate::model::CheckinMethod::Written]).max(thought_report);
        Ok((oral, written))
    }
}
