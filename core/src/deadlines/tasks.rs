//! Tasks: a rule applied to one case's trigger, seen from a given day. "Today" is always a parameter
//! (the desktop passes its Shanghai date, tests pass fixed dates), never the wall clock, so the same
//! inputs give the same answer on every replica and in every test.

use super::calendar::Calendar;
use super::error::DeadlineError;
use super::period::{compute_due, Direction, Due, Moment};
use super::rules::{Rule, RuleTable, Settings};
use crate::model::Role;
use chrono::NaiveDate;
use serde::Serialize;

/// Where a task stands as of a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Done,
    Overdue,
    /// Due within the table's `due_soon_working_days`.
    DueSoon,
    /// Due, but not yet soon.
    Due,
}

/// When an open task is escalated, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EscalationDue {
    pub to: Role,
    pub on: NaiveDate,
    /// The escalation day has come (as of the task's "today").
    pub reached: bool,
    pub calendar_unknown: bool,
}

/// One clock of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub rule_id: String,
    pub due: Due,
    pub status: TaskStatus,
    /// Calendar days from today to the due date; negative when overdue.
    pub days_left: i64,
    /// Done after the due point.
    pub late: bool,
    /// Done before a `within_before` window opened (C-17 appraisal written too early).
    pub early: bool,
    /// Set while the task is open and the rule names an escalation.
    pub escalation: Option<EscalationDue>,
}

/// The rule table and the calendar together: what the desktop and the server hold once.
#[derive(Debug, Clone)]
pub struct Engine {
    table: RuleTable,
    calendar: Calendar,
}

impl Engine {
    pub fn new(table: RuleTable, calendar: Calendar) -> Engine {
        Engine { table, calendar }
    }

    /// The rule table and calendar shipped with this build.
    pub fn official() -> Result<Engine, DeadlineError> {
        Ok(Engine::new(RuleTable::embedded()?, Calendar::official()?))
    }

    pub fn table(&self) -> &RuleTable {
        &self.table
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The due point of rule `rule_id` for a trigger moment.
    pub fn due(&self, rule_id: &str, trigger: Moment) -> Result<Due, DeadlineError> {
        self.table.rule(rule_id)?.due(&self.calendar, trigger)
    }

    /// The task of rule `rule_id` for a trigger, optionally completed, as of `today`.
    pub fn task(
        &self,
        rule_id: &str,
        trigger: Moment,
        completed: Option<Moment>,
        today: Moment,
    ) -> Result<Task, DeadlineError> {
        let rule = self.table.rule(rule_id)?;
        task(
            rule,
            &self.calendar,
            self.table.settings(),
            trigger,
            completed,
            today,
        )
    }
}

/// The task of `rule` for a trigger, as of `today` (pure: same inputs, same task).
pub fn task(
    rule: &Rule,
    calendar: &Calendar,
    settings: &Settings,
    trigger: Moment,
    completed: Option<Moment>,
    today: Moment,
) -> Result<Task, DeadlineError> {
    let due = rule.due(calendar, trigger)?;
    let days_left = (due.due_date - today.date()).num_days();
    let mut task = Task {
        rule_id: rule.id.clone(),
        due,
        status: TaskStatus::Due,
        days_left,
        late: false,
        early: false,
        escalation: None,
    };
    if let Some(done) = completed {
        task.status = TaskStatus::Done;
        task.late = is_past(&due, done);
        task.early = due.opens_on.is_some_and(|opens| done.date() < opens);
        return Ok(task);
    }
    task.status = open_status(calendar, settings, &due, today)?;
    task.escalation = escalation(rule, calendar, &due, today)?;
    Ok(task)
}

/// Overdue once the due point has passed; due soon when the due date is no later than the
/// `due_soon_working_days`th working day after today (so a Friday sees next Wednesday as soon).
fn open_status(
    calendar: &Calendar,
    settings: &Settings,
    due: &Due,
    today: Moment,
) -> Result<TaskStatus, DeadlineError> {
    if is_past(due, today) {
        return Ok(TaskStatus::Overdue);
    }
    let horizon = calendar.add_working_days(today.date(), settings.due_soon_working_days)?;
    Ok(if due.due_date <= horizon.date {
        TaskStatus::DueSoon
    } else {
        TaskStatus::Due
    })
}

/// Past the due point: by the exact time when both are known (hour periods), else by the date
/// (a day period is in time until the end of its last day).
fn is_past(due: &Due, moment: Moment) -> bool {
    match (due.due_at, moment) {
        (Some(due_at), Moment::At(at)) => at > due_at,
        _ => moment.date() > due.due_date,
    }
}

/// The escalation day counts from the due date like any period of the rule (L-0, with the rule's own
/// holiday extension), so "1 working day after" a Friday deadline is the Monday.
fn escalation(
    rule: &Rule,
    calendar: &Calendar,
    due: &Due,
    today: Moment,
) -> Result<Option<EscalationDue>, DeadlineError> {
    let Some(escalation) = rule.escalation else {
        return Ok(None);
    };
    let on = compute_due(
        calendar,
        Moment::Day(due.due_date),
        escalation.after,
        Direction::After,
        rule.extension(),
    )?;
    Ok(Some(EscalationDue {
        to: escalation.to,
        on: on.due_date,
        reached: today.date() >= on.due_date,
        calendar_unknown: on.calendar_unknown,
    }))
}
