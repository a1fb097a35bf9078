//! Calendar windows on the Shanghai calendar, for the per-month, per-quarter and per-year rules
//! (C-10 labour, C-11 education, C-14 assessments, L-5 yearly leave): which month or quarter a dated
//! entry counts towards is a calendar question, not a 30-day or 90-day one.

use super::error::DeadlineError;
use super::rules::WindowKind;
use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

/// A closed range of dates, first and last day included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Window {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }

    /// Number of calendar days in the window.
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

/// The calendar month of `date`.
pub fn month_window(date: NaiveDate) -> Result<Window, DeadlineError> {
    span(date.year(), date.month(), 1)
}

/// The calendar quarter of `date` (Q1 = January–March).
pub fn quarter_window(date: NaiveDate) -> Result<Window, DeadlineError> {
    let first_month = (date.month0() / 3) * 3 + 1;
    span(date.year(), first_month, 3)
}

/// The half year of `date` (January–June, July–December).
pub fn half_year_window(date: NaiveDate) -> Result<Window, DeadlineError> {
    let first_month = if date.month() <= 6 { 1 } else { 7 };
    span(date.year(), first_month, 6)
}

/// The calendar year of `date`.
pub fn year_window(date: NaiveDate) -> Result<Window, DeadlineError> {
    span(date.year(), 1, 12)
}

/// The window of a rule's `per` that contains `date`.
pub fn window(kind: WindowKind, date: NaiveDate) -> Result<Window, DeadlineError> {
    match kind {
        WindowKind::Month => month_window(date),
        WindowKind::Quarter => quarter_window(date),
        WindowKind::HalfYear => half_year_window(date),
        WindowKind::Year => year_window(date),
    }
}

/// `months` whole months from the first of `first_month`; the last day is the day before the next
/// window starts, so month lengths and leap years come from chrono, not from a table here.
fn span(year: i32, first_month: u32, months: u32) -> Result<Window, DeadlineError> {
    let first = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or(DeadlineError::OutOfRange)?;
    let last = first
        .checked_add_months(Months::new(months))
        .and_then(|next| next.pred_opt())
        .ok_or(DeadlineError::OutOfRange)?;
    Ok(Window { first, last })
}
