//! The statutory clock engine (DOMAIN.md L-0 and every deadline rule: L-1, L-5…L-9, L-14…L-16, C-4,
//! C-10, C-11, C-14, C-17).
//!
//! - [`calendar`]: the working-day calendar as data (`schema/calendar/cn-official.json`), replaceable yearly;
//! - [`period`]: L-0 period counting, a pure function ([`compute_due`]);
//! - [`rules`]: the one rule table (`schema/rules/deadlines.json`), validated on load;
//! - [`tasks`]: a rule applied to a trigger as of a given day (done, overdue, due soon, due);
//! - [`windows`]: month, quarter and year windows for the per-period minima.
//!
//! No figure of any deadline is written in this code: periods, thresholds and the "due soon" horizon
//! all come from the table, and holidays from the calendar.

/// A fieldless enum with stable snake_case codes: `code()`, `from_code()`, `ALL`, and serde by code.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

pub mod calendar;
pub mod error;
pub mod period;
pub mod rules;
pub mod tasks;
pub mod windows;

#[cfg(test)]
mod tests;

pub use calendar::{Calendar, CalendarDay, DayInfo, DayKind, OFFICIAL_CALENDAR_JSON};
pub use error::DeadlineError;
pub use period::{compute_due, Direction, Due, Extension, Moment, Period, Unit};
pub use rules::{
    Era, Escalation, Measure, Quantity, Rule, RuleKind, RuleTable, Settings, Trigger, WindowKind,
    DEADLINE_RULES_JSON,
};
pub use tasks::{task, Engine, EscalationDue, Task, TaskStatus};
pub use windows::{month_window, quarter_window, window, year_window, Window};
