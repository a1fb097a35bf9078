//! DOMAIN.md L-0, the way every period counts (刑事诉讼法 第一百零五条): in hours, days, working
//! days or months; the starting hour or day is not counted; a last day that is a holiday (weekend or
//! official holiday, not a make-up working day) moves to the next working day, except for custody
//! (羁押期间), which never extends; a month period ends on the same day number of the target month,
//! or on its last day when the month is shorter. `compute_due` is a pure function of its arguments
//! and the calendar: no wall clock, no table.

use super::calendar::Calendar;
use super::error::DeadlineError;
use crate::shanghai;
use chrono::{DateTime, FixedOffset, Months, NaiveDate, TimeDelta};
use serde::Serialize;

/// How a period is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Hours,
    Days,
    WorkingDays,
    Months,
    /// "At once / the same day" (立即, 当日): due on the trigger day itself; amount is 0.
    SameDay,
}

impl Unit {
    pub fn code(self) -> &'static str {
        match self {
            Unit::Hours => "hours",
            Unit::Days => "days",
            Unit::WorkingDays => "working_days",
            Unit::Months => "months",
            Unit::SameDay => "same_day",
        }
    }

    pub fn from_code(code: &str) -> Option<Unit> {
        [
            Unit::Hours,
            Unit::Days,
            Unit::WorkingDays,
            Unit::Months,
            Unit::SameDay,
        ]
        .into_iter()
        .find(|u| u.code() == code)
    }
}

/// An amount of a unit, e.g. 10 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub amount: u32,
    pub unit: Unit,
}

impl Period {
    pub fn new(amount: u32, unit: Unit) -> Period {
        Period { amount, unit }
    }
}

/// Where the due point lies relative to the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Due the period after the trigger (most clocks).
    After,
    /// The latest point to act ahead of a planned event (L-5, L-6 apply ahead).
    Before,
    /// A window that opens the period before the trigger and closes on it (C-17).
    WithinBefore,
}

impl Direction {
    pub fn code(self) -> &'static str {
        match self {
            Direction::After => "after",
            Direction::Before => "before",
            Direction::WithinBefore => "within_before",
        }
    }

    pub fn from_code(code: &str) -> Option<Direction> {
        [Direction::After, Direction::Before, Direction::WithinBefore]
            .into_iter()
            .find(|d| d.code() == code)
    }
}

/// Whether a last day on a holiday moves to the next working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// The L-0 rule.
    ToNextWorkingDay,
    /// Custody (羁押期间), and maxima of restrictions or services that run every day.
    Never,
}

/// A point on the Shanghai calendar: a date, or an exact time (needed for hour periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Day(NaiveDate),
    At(DateTime<FixedOffset>),
}

impl Moment {
    /// A wall-clock reading in milliseconds, as a Shanghai time.
    pub fn from_millis(millis: u64) -> Moment {
        Moment::At(shanghai::from_millis(millis))
    }

    /// The Shanghai calendar date of this moment.
    pub fn date(self) -> NaiveDate {
        match self {
            Moment::Day(date) => date,
            Moment::At(at) => at.with_timezone(&shanghai::offset()).date_naive(),
        }
    }

    fn at(self) -> Option<DateTime<FixedOffset>> {
        match self {
            Moment::Day(_) => None,
            Moment::At(at) => Some(at.with_timezone(&shanghai::offset())),
        }
    }
}

/// When something is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    /// The last day (Shanghai) on which the act is in time: it is due by the end of this day.
    pub due_date: NaiveDate,
    /// For hour periods (and windows closing on an exact time): the exact due time.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// For `WithinBefore` windows: the first day of the window.
    pub opens_on: Option<NaiveDate>,
    /// The last day fell on a holiday and was moved to the next working day (L-0).
    pub extended_by_holiday: bool,
    /// The answer depended on a day whose year the calendar does not list (weekends only were used).
    pub calendar_unknown: bool,
}

impl Due {
    fn on(date: NaiveDate) -> Due {
        Due {
            due_date: date,
            due_at: None,
            opens_on: None,
            extended_by_holiday: false,
            calendar_unknown: false,
        }
    }
}

/// The due point of `period` counted from `start` in `direction`, per L-0.
pub fn compute_due(
    calendar: &Calendar,
    start: Moment,
    period: Period,
    direction: Direction,
    extension: Extension,
) -> Result<Due, DeadlineError> {
    match direction {
        Direction::After => due_after(calendar, start, period, extension),
        Direction::Before => due_before(calendar, start, period),
        Direction::WithinBefore => window_before(calendar, start, period),
    }
}

fn due_after(
    calendar: &Calendar,
    start: Moment,
    period: Period,
    extension: Extension,
) -> Result<Due, DeadlineError> {
    let from = start.date();
    let amount = period.amount;
    match period.unit {
        Unit::Hours => hours_after(start, amount),
        Unit::Days => last_day(calendar, add_days(from, amount)?, extension),
        Unit::Months => last_day(calendar, add_months(from, amount)?, extension),
        Unit::SameDay => last_day(calendar, from, extension),
        Unit::WorkingDays => {
            let day = calendar.add_working_days(from, amount)?;
            Ok(Due {
                calendar_unknown: day.calendar_unknown,
                ..Due::on(day.date)
            })
        }
    }
}

/// "Apply N ahead": the latest point that still leaves the full period before the event. The event
/// day is not counted, mirroring L-0. A holiday is never moved forward here: moving a latest date
/// later would shorten the notice the rule demands.
fn due_before(calendar: &Calendar, event: Moment, period: Period) -> Result<Due, DeadlineError> {
    let to = event.date();
    let amount = period.amount;
    match period.unit {
        Unit::Hours => hours_before(event, amount),
        Unit::Days => Ok(Due::on(sub_days(to, amount)?)),
        Unit::Months => Ok(Due::on(sub_months(to, amount)?)),
        Unit::SameDay => Ok(Due::on(to)),
        Unit::WorkingDays => {
            let day = calendar.sub_working_days(to, amount)?;
            Ok(Due {
                calendar_unknown: day.calendar_unknown,
                ..Due::on(day.date)
            })
        }
    }
}

/// C-17 "within the 30 days before the end": the window closes on the event itself (its date is fixed
/// by the sentence and never extended) and opens the period before it.
fn window_before(calendar: &Calendar, end: Moment, period: Period) -> Result<Due, DeadlineError> {
    let opens = due_before(calendar, end, period)?;
    Ok(Due {
        due_date: end.date(),
        due_at: end.at(),
        opens_on: Some(opens.due_date),
        extended_by_holiday: false,
        calendar_unknown: opens.calendar_unknown,
    })
}

/// The last day of a day or month period, moved past holidays unless the extension is off.
fn last_day(
    calendar: &Calendar,
    day: NaiveDate,
    extension: Extension,
) -> Result<Due, DeadlineError> {
    let info = calendar.day(day);
    if extension == Extension::Never || !info.kind.is_holiday() {
        return Ok(Due {
            calendar_unknown: info.calendar_unknown,
            ..Due::on(day)
        });
    }
    let next = calendar.next_working_day(day)?;
    Ok(Due {
        extended_by_holiday: true,
        calendar_unknown: info.calendar_unknown || next.calendar_unknown,
        ..Due::on(next.date)
    })
}

/// Hour periods start at the next full hour (the starting hour is not counted: a request at 09:30
/// starts the clock at 10:00) and run through nights and holidays: the law counts them on the clock.
fn hours_after(start: Moment, amount: u32) -> Result<Due, DeadlineError> {
    let due = floor_to_hour(start)?
        .checked_add_signed(TimeDelta::hours(i64::from(amount) + 1))
        .ok_or(DeadlineError::OutOfRange)?;
    Ok(Due {
        due_at: Some(due),
        ..Due::on(due.date_naive())
    })
}

/// Mirror of `hours_after`: the event's own hour is not counted, so counting back starts at its top.
fn hours_before(event: Moment, amount: u32) -> Result<Due, DeadlineError> {
    let due = floor_to_hour(event)?
        .checked_sub_signed(TimeDelta::hours(i64::from(amount)))
        .ok_or(DeadlineError::OutOfRange)?;
    Ok(Due {
        due_at: Some(due),
        ..Due::on(due.date_naive())
    })
}

/// The start of the Shanghai hour of `moment` (UTC+8 is a whole number of hours, so flooring the
/// Unix time is exact).
fn floor_to_hour(moment: Moment) -> Result<DateTime<FixedOffset>, DeadlineError> {
    let at = moment.at().ok_or(DeadlineError::HoursNeedTime)?;
    let seconds = at.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(3600), 0)
        .map(|utc| utc.with_timezone(&shanghai::offset()))
        .ok_or(DeadlineError::OutOfRange)
}

fn add_days(date: NaiveDate, amount: u32) -> Result<NaiveDate, DeadlineError> {
    date.checked_add_days(chrono::Days::new(u64::from(amount)))
        .ok_or(DeadlineError::OutOfRange)
}

fn sub_days(date: NaiveDate, amount: u32) -> Result<NaiveDate, DeadlineError> {
    date.checked_sub_days(chrono::Days::new(u64::from(amount)))
        .ok_or(DeadlineError::OutOfRange)
}

/// Same day number in the target month, or its last day (chrono clamps exactly as L-0 says).
fn add_months(date: NaiveDate, amount: u32) -> Result<NaiveDate, DeadlineError> {
    date.checked_add_months(Months::new(amount))
        .ok_or(DeadlineError::OutOfRange)
}

fn sub_months(date: NaiveDate, amount: u32) -> Result<NaiveDate, DeadlineError> {
    date.checked_sub_months(Months::new(amount))
        .ok_or(DeadlineError::OutOfRange)
}
