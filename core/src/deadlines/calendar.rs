//! The working-day calendar (DOMAIN.md L-0): weekends, official holidays and make-up working days
//! (调休上班日), all as data from `schema/calendar/cn-official.json`. The State Council publishes the next
//! year's list each November and the district replaces the file, so nothing here knows a holiday by heart.
//! A year the file does not list falls back to plain weekends, and every answer that depended on such a
//! day says so (`calendar_unknown`), so a clerk is never shown a guessed date as certain.

use super::error::{DeadlineError, CALENDAR_FILE};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The official calendar shipped with the build; `Calendar::from_json` takes the district's replacement.
pub const OFFICIAL_CALENDAR_JSON: &str = include_str!("../../../schema/calendar/cn-official.json");

/// The longest official holiday run is 9 days (Spring Festival 2026); a longer range is a typo.
const MAX_HOLIDAY_RUN_DAYS: i64 = 15;

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// Monday to Friday, no official holiday.
    Workday,
    /// Saturday or Sunday that is not a make-up working day.
    Weekend,
    /// An official holiday (whatever the weekday).
    OfficialHoliday,
    /// A Saturday or Sunday declared a working day (调休).
    MakeUpWorkday,
}

impl DayKind {
    /// 节假日 in the sense of L-0: a weekend day or an official holiday, not a make-up working day.
    pub fn is_holiday(self) -> bool {
        matches!(self, DayKind::Weekend | DayKind::OfficialHoliday)
    }
}

/// One date classified, with the flag saying whether the calendar really knows its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayInfo {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub calendar_unknown: bool,
}

/// A date found by walking the calendar, flagged when any day walked over lay beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub calendar_unknown: bool,
}

/// The working-day calendar: validated official holidays and make-up days per known year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeMap<NaiveDate, String>,
    make_up_days: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    #[serde(default)]
    #[allow(dead_code)]
    calendar: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    years: Vec<RawYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i32,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    holidays: Vec<RawHoliday>,
    make_up_working_days: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    from: String,
    to: String,
}

impl Calendar {
    /// The calendar shipped with this build (2025 and 2026; see the file for its sources).
    pub fn official() -> Result<Calendar, DeadlineError> {
        Calendar::from_json(OFFICIAL_CALENDAR_JSON)
    }

    /// Parses and validates a calendar file (the shipped one or the district's yearly replacement).
    /// Refuses bad dates, duplicate years, dates far from their year, reversed or overlong holiday
    /// ranges, make-up days that are not weekend days, and a day that is both holiday and make-up day.
    pub fn from_json(text: &str) -> Result<Calendar, DeadlineError> {
        let raw: RawCalendar = serde_json::from_str(text).map_err(|e| DeadlineError::Json {
            file: CALENDAR_FILE,
            detail: e.to_string(),
        })?;
        if raw.years.is_empty() {
            return Err(DeadlineError::EmptyCalendar);
        }
        let mut calendar = Calendar {
            holidays: BTreeMap::new(),
            make_up_days: BTreeSet::new(),
            years: BTreeSet::new(),
        };
        for year in &raw.years {
            calendar.add_year(year)?;
        }
        if let Some(date) = calendar
            .make_up_days
            .iter()
            .find(|d| calendar.holidays.contains_key(d))
        {
            return Err(DeadlineError::HolidayAndMakeUp(*date));
        }
        Ok(calendar)
    }

    fn add_year(&mut self, raw: &RawYear) -> Result<(), DeadlineError> {
        if !self.years.insert(raw.year) {
            return Err(DeadlineError::DuplicateYear(raw.year));
        }
        for (index, holiday) in raw.holidays.iter().enumerate() {
            let field = |end: &str| format!("years[{}].holidays[{index}].{end}", raw.year);
            let from = parse_calendar_date(&holiday.from, field("from"))?;
            let to = parse_calendar_date(&holiday.to, field("to"))?;
            check_near_year(raw.year, from)?;
            check_near_year(raw.year, to)?;
            let run = (to - from).num_days();
            if !(0..MAX_HOLIDAY_RUN_DAYS).contains(&run) {
                return Err(DeadlineError::BadRange {
                    name: holiday.name.clone(),
                    from,
                    to,
                    max_days: MAX_HOLIDAY_RUN_DAYS,
                });
            }
            for date in from.iter_days().take(run as usize + 1) {
                self.holidays.insert(date, holiday.name.clone());
            }
        }
        for (index, text) in raw.make_up_working_days.iter().enumerate() {
            let field = format!("years[{}].make_up_working_days[{index}]", raw.year);
            let date = parse_calendar_date(text, field)?;
            check_near_year(raw.year, date)?;
            if !is_weekend(date) {
                return Err(DeadlineError::MakeUpNotWeekend(date));
            }
            self.make_up_days.insert(date);
        }
        Ok(())
    }

    /// First day of the earliest year the file lists.
    pub fn known_from(&self) -> Option<NaiveDate> {
        let year = *self.years.first()?;
        NaiveDate::from_ymd_opt(year, 1, 1)
    }

    /// Last day of the latest year the file lists; later dates fall back to plain weekends.
    pub fn known_through(&self) -> Option<NaiveDate> {
        let year = *self.years.last()?;
        NaiveDate::from_ymd_opt(year, 12, 31)
    }

    /// Whether the file lists the year of `date` (years are published whole, so a year is the unit).
    pub fn is_known(&self, date: NaiveDate) -> bool {
        self.years.contains(&date.year())
    }

    /// Classifies a date; a make-up day is a working day even on a weekend (L-0).
    pub fn day(&self, date: NaiveDate) -> DayInfo {
        let kind = if self.make_up_days.contains(&date) {
            DayKind::MakeUpWorkday
        } else if self.holidays.contains_key(&date) {
            DayKind::OfficialHoliday
        } else if is_weekend(date) {
            DayKind::Weekend
        } else {
            DayKind::Workday
        };
        DayInfo {
            date,
            kind,
            calendar_unknown: !self.is_known(date),
        }
    }

    /// The official holiday's name on `date`, if any (for tooltips: "国庆节").
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// 节假日 per L-0: a weekend day or official holiday, but not a make-up working day.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.day(date).kind.is_holiday()
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.is_holiday(date)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> Result<CalendarDay, DeadlineError> {
        self.shift_working_days(date, 1, Step::Forward)
    }

    /// The last working day strictly before `date`.
    pub fn previous_working_day(&self, date: NaiveDate) -> Result<CalendarDay, DeadlineError> {
        self.shift_working_days(date, 1, Step::Backward)
    }

    /// The `n`th working day after `date`; `date` itself does not count (L-0), so 0 returns `date`.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Result<CalendarDay, DeadlineError> {
        self.shift_working_days(date, n, Step::Forward)
    }

    /// The `n`th working day before `date`; `date` itself does not count.
    pub fn sub_working_days(&self, date: NaiveDate, n: u32) -> Result<CalendarDay, DeadlineError> {
        self.shift_working_days(date, n, Step::Backward)
    }

    /// Walks day by day, counting only working days; every day looked at can raise the flag,
    /// because an unknown year may hide a holiday anywhere on the way.
    fn shift_working_days(
        &self,
        date: NaiveDate,
        n: u32,
        step: Step,
    ) -> Result<CalendarDay, DeadlineError> {
        let mut current = date;
        let mut counted = 0;
        let mut calendar_unknown = false;
        while counted < n {
            current = step.apply(current)?;
            let info = self.day(current);
            calendar_unknown |= info.calendar_unknown;
            if !info.kind.is_holiday() {
                counted += 1;
            }
        }
        Ok(CalendarDay {
            date: current,
            calendar_unknown,
        })
    }
}

/// Direction of a walk over the calendar.
#[derive(Clone, Copy)]
pub(crate) enum Step {
    Forward,
    Backward,
}

impl Step {
    pub(crate) fn apply(self, date: NaiveDate) -> Result<NaiveDate, DeadlineError> {
        match self {
            Step::Forward => date.succ_opt(),
            Step::Backward => date.pred_opt(),
        }
        .ok_or(DeadlineError::OutOfRange)
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn parse_calendar_date(text: &str, field: String) -> Result<NaiveDate, DeadlineError> {
    crate::shanghai::parse_date(text).ok_or_else(|| DeadlineError::BadDate {
        file: CALENDAR_FILE,
        field,
        value: text.to_string(),
    })
}

/// A New Year holiday may start on 30/31 December of the previous year, so the neighbours are allowed;
/// anything further is a mistyped year.
fn check_near_year(year: i32, date: NaiveDate) -> Result<(), DeadlineError> {
    if (date.year() - year).abs() <= 1 {
        Ok(())
    } else {
        Err(DeadlineError::DateOutsideYear { year, date })
    }
}
