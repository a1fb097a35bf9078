//! L-5 leave requests on the local store: request, decide (with the offline provisional approval),
//! return report.

use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::leave::{self, LeaveError, LeaveRules};
use crate::model::{
    ApprovalLevel, LeaveDecision, LeaveInput, LeaveRecord, LeaveStatus, SessionUser,
};
use crate::shanghai;
use crate::tables;
use chrono::{Datelike, NaiveDate};
use rusqlite::OptionalExtension;

const MAX_TEXT_CHARS: usize = 500;

fn rules(engine: &crate::deadlines::Engine) -> Result<LeaveRules> {
    LeaveRules::from_table(engine.table())
        .map_err(|e| CoreError::Corrupt(format!("rule table: {e}")))
}

impl From<LeaveError> for CoreError {
    fn from(e: LeaveError) -> Self {
        CoreError::invalid("leave", e.to_string(), e.message_zh())
    }
}

fn status_code(s: LeaveStatus) -> &'static str {
    match s {
        LeaveStatus::Requested => "requested",
        LeaveStatus::Provisional => "provisional",
        LeaveStatus::Approved => "approved",
        LeaveStatus::Refused => "refused",
        LeaveStatus::Cancelled => "cancelled",
        LeaveStatus::Returned => "returned",
    }
}

fn status_from(code: &str) -> Option<LeaveStatus> {
    use LeaveStatus::*;
    [
        Requested,
        Provisional,
        Approved,
        Refused,
        Cancelled,
        Returned,
    ]
    .into_iter()
    .find(|s| status_code(*s) == code)
}

fn level_code(l: ApprovalLevel) -> &'static str {
    match l {
        ApprovalLevel::Office => "office",
        ApprovalLevel::County => "county",
    }
}

/// Leave that counts towards the yearly limit.
fn counts_towards_year(s: LeaveStatus) -> bool {
    matches!(
        s,
        LeaveStatus::Approved | LeaveStatus::Provisional | LeaveStatus::Returned
    )
}

impl Store {
    fn leave_table() -> Result<&'static tables::TableDef> {
        tables::table("corr_leave").ok_or(CoreError::NotFound("table corr_leave"))
    }

    pub fn request_leave(&mut self, user: &SessionUser, input: LeaveInput) -> Result<LeaveRecord> {
        self.require_write(user)?;
        let case = self.case_for_write(user, &input.case_id)?;
        if case.deleted || crate::lifecycle::is_final(case.status) {
            return Err(CoreError::invalid(
                "case_id",
                "the case is not open",
                "该案件已结束或已删除，不能申请外出",
            ));
        }
        let date = |text: &str, field: &'static str| {
            shanghai::parse_date(text).ok_or_else(|| {
                CoreError::invalid(field, "date must be YYYY-MM-DD", "日期格式应为YYYY-MM-DD")
            })
        };
        let start = date(&input.start_on, "start_on")?;
        let end = date(&input.end_on, "end_on")?;
        let destination = input.destination.trim().to_string();
        if destination.is_empty() || destination.chars().count() > MAX_TEXT_CHARS {
            return Err(CoreError::invalid(
                "destination",
                "destination is required",
                "请填写外出目的地",
            ));
        }
        let reason = input.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > MAX_TEXT_CHARS {
            return Err(CoreError::invalid(
                "reason",
                "reason is required",
                "请填写外出事由",
            ));
        }
        let today = shanghai::today(self.corrected_wall_millis()?);
        let used = self.leave_days_in_year(&case.id, start.year())?;
        let engine = self.engine()?;
        let assessment = leave::assess(&engine, &rules(&engine)?, start, end, today, used)?;
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            Self::leave_table()?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("destination", destination),
                WriteChange::new("reason", reason),
                WriteChange::new("start_on", start.format("%Y-%m-%d").to_string()),
                WriteChange::new("end_on", end.format("%Y-%m-%d").to_string()),
                WriteChange::new("requested_on", today.format("%Y-%m-%d").to_string()),
                WriteChange::new("approval_level", level_code(assessment.level)),
                WriteChange::new("status", status_code(LeaveStatus::Requested)),
            ],
        )?;
        self.leave_by_id(&id)
    }

    /// Approves, refuses, provisionally approves (offline, numbered) or cancels a request.
    pub fn decide_leave(
        &mut self,
        user: &SessionUser,
        leave_id: &str,
        decision: LeaveDecision,
        note: &str,
    ) -> Result<LeaveRecord> {
        self.require_write(user)?;
        let current = self.leave_by_id(leave_id)?;
        self.case_for_write(user, &current.case_id)?;
        let next = leave::decide(current.status, decision, current.approval_level, user.role)?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let mut changes = vec![
            WriteChange::new("status", status_code(next)),
            WriteChange::new("decided_by", user.display_name.clone()),
            WriteChange::new("decided_on", today.format("%Y-%m-%d").to_string()),
            WriteChange::new(
                "decision_note",
                note.trim().chars().take(MAX_TEXT_CHARS).collect::<String>(),
            ),
        ];
        if next == LeaveStatus::Provisional {
            changes.push(WriteChange::new(
                "provisional_no",
                self.next_provisional_number(today)?,
            ));
        }
        let org = self.case_for_write(user, &current.case_id)?.org_unit_id;
        self.write_row(
            &user.user_id,
            Self::leave_table()?,
            leave_id,
            &org,
            &changes,
        )?;
        self.leave_by_id(leave_id)
    }

    /// L-5: the subject reported back.
    pub fn record_leave_return(
        &mut self,
        user: &SessionUser,
        leave_id: &str,
        returned_on: &str,
    ) -> Result<LeaveRecord> {
        self.require_write(user)?;
        let current = self.leave_by_id(leave_id)?;
        let case = self.case_for_write(user, &current.case_id)?;
        if !matches!(
            current.status,
            LeaveStatus::Approved | LeaveStatus::Provisional
        ) {
            return Err(CoreError::invalid(
                "status",
                "only approved leave can be closed by a return",
                "只有已批准的外出才能登记返回",
            ));
        }
        let returned = shanghai::parse_date(returned_on).ok_or_else(|| {
            CoreError::invalid(
                "returned_on",
                "date must be YYYY-MM-DD",
                "返回日期格式应为YYYY-MM-DD",
            )
        })?;
        let start = shanghai::parse_date(&current.start_on).unwrap_or(returned);
        if returned < start || returned > shanghai::today(self.corrected_wall_millis()?) {
            return Err(CoreError::invalid(
                "returned_on",
                "return date out of range",
                "返回日期应在外出开始之后、今天之前",
            ));
        }
        self.write_row(
            &user.user_id,
            Self::leave_table()?,
            leave_id,
            &case.org_unit_id,
            &[
                WriteChange::new("status", status_code(LeaveStatus::Returned)),
                WriteChange::new("returned_on", returned.format("%Y-%m-%d").to_string()),
            ],
        )?;
        self.leave_by_id(leave_id)
    }

    /// Numbered per site and day so two laptops never give the same number offline.
    fn next_provisional_number(&self, today: NaiveDate) -> Result<String> {
        let site = self.require_identity()?.site_id;
        let short: String = site
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .rev()
            .take(4)
            .collect();
        let count: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM corr_leave WHERE provisional_no LIKE ?1",
            [format!("临{short}-%")],
            |r| r.get(0),
        )?;
        Ok(format!(
            "临{short}-{}-{:03}",
            today.format("%Y%m%d"),
            count + 1
        ))
    }

    fn leave_days_in_year(&self, case_id: &str, year: i32) -> Result<u32> {
        Ok(self
            .leaves_of(case_id)?
            .iter()
            .filter(|l| counts_towards_year(l.status))
            .filter(|l| l.start_on.starts_with(&format!("{year:04}-")))
            .map(|l| l.days)
            .sum())
    }

    fn leave_by_id(&self, id: &str) -> Result<LeaveRecord> {
        let case_id: Option<Option<String>> = self
            .conn
            .query_row("SELECT case_id FROM corr_leave WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let case_id = case_id
            .flatten()
            .ok_or(CoreError::NotFound("leave request"))?;
        self.leaves_of(&case_id)?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(CoreError::NotFound("leave request"))
    }

    pub(super) fn leaves_of(&self, case_id: &str) -> Result<Vec<LeaveRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, destination, reason, start_on, end_on, requested_on, approval_level, status, provisional_no, \
             decided_by, decided_on, decision_note, returned_on FROM corr_leave \
             WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY start_on DESC, id DESC",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            let text = |i: usize| -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
            };
            Ok([
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
                text(10)?,
                text(11)?,
                text(12)?,
            ])
        })?;
        let engine = self.engine()?;
        let mut out = Vec::new();
        for row in rows {
            let [id, destination, reason, start_on, end_on, requested_on, level, status, provisional_no, decided_by, decided_on, decision_note, returned_on] =
                row?;
            // A request still arriving through sync may be incomplete: show it once whole.
            let (Some(start), Some(end), Some(status)) = (
                shanghai::parse_date(&start_on),
                shanghai::parse_date(&end_on),
                status_from(&status),
            ) else {
                continue;
            };
            let requested = shanghai::parse_date(&requested_on).unwrap_or(start);
            let level = if level == "county" {
                ApprovalLevel::County
            } else {
                ApprovalLevel::Office
            };
            let days = leave::trip_days(start, end);
            let ahead_rule = if level == ApprovalLevel::Office {
                "L-5.apply_ahead_short"
            } else {
                "L-5.apply_ahead_long"
            };
            let apply_by = engine
                .due(ahead_rule, crate::deadlines::Moment::Day(start))
                .map(|d| d.due_date)
                .unwrap_or(start);
            out.push(LeaveRecord {
                id,
                case_id: case_id.to_string(),
                destination,
                reason,
                start_on,
                end_on,
                days,
                requested_on,
                approval_level: level,
                apply_by: apply_by.format("%Y-%m-%d").to_string(),
                late_application: requested > apply_by,
                status,
                provisional_no,
                decided_by,
                decided_on,
                decision_note,
                returned_on,
                year_days: 0,
            });
        }
        // Year totals per trip, for the form's "days used" line.
        let totals: Vec<(String, u32)> = out
            .iter()
            .filter(|l| counts_towards_year(l.status))
            .map(|l| (l.start_on[..4].to_string(), l.days))
            .collect();
        for leave in &mut out {
            let year = &leave.start_on[..4.min(leave.start_on.len())];
            leave.year_days = totals
                .iter()
                .filter(|(y, _)| y == year)
                .map(|(_, d)| d)
                .sum();
        }
        Ok(out)
    }
}
