//! Errors of the statutory clock: a bad replacement calendar or rule table (the district edits both),
//! or a computation the data cannot answer. English in `Display` (logs, CLI), zh-CN in `message_zh`
//! (what the district administrator reads), a stable machine `code` for both, like `crate::error`.

use chrono::NaiveDate;
use thiserror::Error;

/// Which data file an error is about.
pub const CALENDAR_FILE: &str = "calendar";
pub const RULES_FILE: &str = "rule table";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeadlineError {
    #[error("{file} is not valid JSON of the expected shape: {detail}")]
    Json { file: &'static str, detail: String },
    #[error("{file}: {field} holds {value:?}, which is not a date (expected YYYY-MM-DD)")]
    BadDate {
        file: &'static str,
        field: String,
        value: String,
    },
    #[error("calendar lists no year")]
    EmptyCalendar,
    #[error("calendar lists year {0} twice")]
    DuplicateYear(i32),
    #[error("calendar: {date} is listed under year {year} but lies outside it and its neighbours")]
    DateOutsideYear { year: i32, date: NaiveDate },
    #[error("calendar: holiday {name:?} runs from {from} to {to}: it must not end before it starts nor last over {max_days} days")]
    BadRange {
        name: String,
        from: NaiveDate,
        to: NaiveDate,
        max_days: i64,
    },
    #[error("calendar: {0} is listed both as a holiday and as a make-up working day")]
    HolidayAndMakeUp(NaiveDate),
    #[error("calendar: make-up working day {0} is not a Saturday or Sunday")]
    MakeUpNotWeekend(NaiveDate),
    #[error("rule table: rule id {0} appears twice")]
    DuplicateRule(String),
    #[error("rule {rule}: unknown {field} {value:?}")]
    Unknown {
        rule: String,
        field: &'static str,
        value: String,
    },
    #[error("rule {rule}: {field} must be a positive whole number (0 only for the same_day unit), found {value}")]
    BadAmount {
        rule: String,
        field: &'static str,
        value: i64,
    },
    #[error("rule {rule}: {reason}")]
    Inconsistent {
        rule: String,
        reason: String,
        reason_zh: String,
    },
    #[error("rule {0} is not in the rule table")]
    UnknownRule(String),
    #[error("rule {0} is a per-period quota and has no due date")]
    NoDueDate(String),
    #[error("an hour period needs a start time, not only a date")]
    HoursNeedTime,
    #[error("the date is outside the range this system can compute")]
    OutOfRange,
}

impl DeadlineError {
    /// Builds an `Inconsistent` error in both languages.
    pub(crate) fn inconsistent(
        rule: &str,
        reason: impl Into<String>,
        reason_zh: impl Into<String>,
    ) -> DeadlineError {
        DeadlineError::Inconsistent {
            rule: rule.to_string(),
            reason: reason.into(),
            reason_zh: reason_zh.into(),
        }
    }

    /// A stable machine code for the UI and the server's 4xx answers.
    pub fn code(&self) -> &'static str {
        match self {
            DeadlineError::Json { .. } => "deadline_json",
            DeadlineError::BadDate { .. } => "deadline_bad_date",
            DeadlineError::EmptyCalendar => "calendar_empty",
            DeadlineError::DuplicateYear(_) => "calendar_duplicate_year",
            DeadlineError::DateOutsideYear { .. } => "calendar_date_outside_year",
            DeadlineError::BadRange { .. } => "calendar_bad_range",
            DeadlineError::HolidayAndMakeUp(_) => "calendar_holiday_and_make_up",
            DeadlineError::MakeUpNotWeekend(_) => "calendar_make_up_not_weekend",
            DeadlineError::DuplicateRule(_) => "rule_duplicate_id",
            DeadlineError::Unknown { .. } => "rule_unknown_value",
            DeadlineError::BadAmount { .. } => "rule_bad_amount",
            DeadlineError::Inconsistent { .. } => "rule_inconsistent",
            DeadlineError::UnknownRule(_) => "rule_not_found",
            DeadlineError::NoDueDate(_) => "rule_no_due_date",
            DeadlineError::HoursNeedTime => "hours_need_time",
            DeadlineError::OutOfRange => "date_out_of_range",
        }
    }

    /// What the district administrator reads when a replacement file is refused.
    pub fn message_zh(&self) -> String {
        match self {
            DeadlineError::Json { file, detail } => {
                format!("{}文件格式错误：{detail}。请对照原文件修改后重新导入。", file_zh(file))
            }
            DeadlineError::BadDate { file, field, value } => format!(
                "{}文件中 {field} 的值“{value}”不是有效日期，应为“年-月-日”格式，如 2026-10-01。",
                file_zh(file)
            ),
            DeadlineError::EmptyCalendar => "节假日日历中没有任何年份。".to_string(),
            DeadlineError::DuplicateYear(year) => format!("节假日日历中{year}年重复出现。"),
            DeadlineError::DateOutsideYear { year, date } => {
                format!("节假日日历{year}年下的日期{date}不在该年份（或相邻年份）内，请检查是否填错年份。")
            }
            DeadlineError::BadRange {
                name,
                from,
                to,
                max_days,
            } => format!(
                "节假日“{name}”从{from}到{to}：结束日期不能早于开始日期，且一段假期不能超过{max_days}天。"
            ),
            DeadlineError::HolidayAndMakeUp(date) => {
                format!("{date}同时被列为放假日和调休上班日，请只保留其一。")
            }
            DeadlineError::MakeUpNotWeekend(date) => {
                format!("调休上班日{date}不是周六或周日，请核对国务院办公厅通知。")
            }
            DeadlineError::DuplicateRule(id) => format!("期限规则编号“{id}”重复出现。"),
            DeadlineError::Unknown { rule, field, value } => {
                format!("期限规则“{rule}”的 {field} 取值“{value}”无法识别。")
            }
            DeadlineError::BadAmount { rule, field, value } => format!(
                "期限规则“{rule}”的 {field} 为{value}：应为正整数（仅“当日”单位为0）。"
            ),
            DeadlineError::Inconsistent {
                rule, reason_zh, ..
            } => format!("期限规则“{rule}”：{reason_zh}"),
            DeadlineError::UnknownRule(id) => format!("期限规则表中没有“{id}”。"),
            DeadlineError::NoDueDate(id) => {
                format!("“{id}”是按月、季或年计算的最低次数要求，没有截止日期。")
            }
            DeadlineError::HoursNeedTime => "按小时计算的期限需要填写具体时间。".to_string(),
            DeadlineError::OutOfRange => "日期超出了系统可计算的范围。".to_string(),
        }
    }
}

fn file_zh(file: &str) -> &'static str {
    if file == CALENDAR_FILE {
        "节假日日历"
    } else {
        "期限规则表"
    }
}
