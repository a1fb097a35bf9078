//! Input checks shared by the store modules (texts, dates, ID numbers, scopes).

use super::Store;
use crate::error::{CoreError, Result};
use crate::idcard;
use crate::model::{OrgKind, SessionUser};
use crate::search::like_escape;
use crate::shanghai;
use chrono::NaiveDate;

pub(super) const DATE_FORMAT: &str = "%Y-%m-%d";

pub(super) fn day_text(day: NaiveDate) -> String {
    day.format(DATE_FORMAT).to_string()
}

/// A trimmed text that must be present and at most `max` characters (counted as characters, so a
/// 4-byte 生僻字 counts once).
pub(super) fn required(value: &str, max: usize, field: &'static str, zh: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("{field} is required (at most {max} characters)"),
            zh,
        ));
    }
    Ok(value.to_string())
}

/// A trimmed text that must be present (`zh_missing` says what to fill in) and at most `max` characters.
pub(super) fn required_text(
    value: &str,
    max: usize,
    field: &'static str,
    zh_missing: &str,
) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(CoreError::invalid(
            field,
            format!("{field} is required"),
            zh_missing,
        ));
    }
    if value.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
            format!("内容过长（最多{max}字）"),
        ));
    }
    Ok(value.to_string())
}

/// A trimmed optional text of at most `max` characters.
pub(super) fn optional(value: &str, max: usize, field: &'static str, zh: &str) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
            zh,
        ));
    }
    Ok(value.to_string())
}

/// An optional ID number: empty stays empty, anything else must pass GB 11643 (15 digits upgraded).
pub(super) fn optional_id_number(value: &str) -> Result<String> {
    if value.trim().is_empty() {
        return Ok(String::new());
    }
    Ok(idcard::parse(value)?.number)
}

/// Digits with "-", "+" or spaces, like the residents' register.
pub(super) fn phone(value: &str, field: &'static str) -> Result<String> {
    let phone = value.trim();
    let ok = phone.is_empty()
        || (phone.len() <= 20
            && phone.chars().filter(char::is_ascii_digit).count() >= 5
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ')));
    if ok {
        Ok(phone.to_string())
    } else {
        Err(CoreError::invalid(
            field,
            "phone must be digits (with - or +)",
            "电话号码只能包含数字、“-”或“+”",
        ))
    }
}

/// A YYYY-MM-DD date no later than `today`; `None`/empty gives `default`.
pub(super) fn past_date(
    value: Option<&str>,
    today: NaiveDate,
    default: Option<NaiveDate>,
    field: &'static str,
    zh: &str,
) -> Result<NaiveDate> {
    let bad = || CoreError::invalid(field, "a date YYYY-MM-DD not after today is required", zh);
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => default.ok_or_else(bad),
        Some(text) => shanghai::parse_date(text)
            .filter(|d| *d <= today)
            .ok_or_else(bad),
    }
}

/// The LIKE patterns of a list search: anywhere in the text, a name anywhere in the folded name column
/// (`name_search`, issue 14 §5: middle dots and spaces are no characters to search), initials from the
/// start (folded the same way), ID numbers upper-cased (the X check digit).
pub(super) struct Needle {
    pub text: String,
    pub pattern: String,
    pub name_pattern: String,
    pub initials: String,
    pub id_pattern: String,
}

pub(super) fn needle(text: Option<&str>) -> Needle {
    let text = text.map(str::trim).unwrap_or("").to_string();
    Needle {
        pattern: format!("%{}%", like_escape(&text)),
        name_pattern: crate::search::name_pattern(&text),
        initials: crate::search::initials_pattern(&text),
        id_pattern: format!("%{}%", like_escape(&text.to_uppercase())),
        text,
    }
}

impl Store {
    /// W-: residents' affairs are for the community workstation and the district's oversight.
    pub(super) fn require_community_work(&self, user: &SessionUser) -> Result<()> {
        if user.role.may_use_residents() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "residents' affairs are handled by community workstations",
            ))
        }
    }

    /// New W-3/W-4/W-5 records belong to the clerk's own community.
    pub(super) fn own_community(&self, user: &SessionUser, what_zh: &str) -> Result<String> {
        if self.org_unit_kind(&user.org_unit_id)? == Some(OrgKind::Community) {
            Ok(user.org_unit_id.clone())
        } else {
            Err(CoreError::invalid(
                "org_unit_id",
                "registered by the community workstation",
                format!("{what_zh}由所在社区工作站登记"),
            ))
        }
    }

    /// The user's org subtree as a JSON array for `json_each` in list queries.
    pub(super) fn scope_json(&self, user: &SessionUser) -> Result<String> {
        serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))
    }

    pub(super) fn shanghai_today(&self) -> Result<NaiveDate> {
        Ok(shanghai::today(self.corrected_wall_millis()?))
    }
}

/// A rule-table task as a line of the clerk's digest (`store/tasks.rs`).
pub(super) fn digest_task(
    engine: &crate::deadlines::Engine,
    task: crate::deadlines::Task,
    subject_kind: &str,
    id: &str,
    name: &str,
) -> Result<crate::model::CaseTask> {
    use crate::deadlines::TaskStatus;
    let rule = engine
        .table()
        .rule(&task.rule_id)
        .map_err(|e| CoreError::Corrupt(e.to_string()))?;
    Ok(crate::model::CaseTask {
        subject_kind: subject_kind.to_string(),
        case_id: id.to_string(),
        case_name: name.to_string(),
        rule_id: rule.id.clone(),
        rule_ref: rule.rule_ref.clone(),
        rule_name: rule.title_zh.clone(),
        rule_name_en: rule.title_en.clone(),
        title_zh: rule.title_zh.clone(),
        title_en: rule.title_en.clone(),
        due_date: day_text(task.due.due_date),
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
    })
}

/// One page of a list already filtered and sorted in memory (lists that stay small per office).
pub(super) fn page_of<T: ts_rs::TS>(
    items: Vec<T>,
    page: u32,
    page_size: u32,
    max_page_size: u32,
) -> crate::model::Page<T> {
    let page_size = page_size.clamp(1, max_page_size);
    let page = page.max(1);
    let total = items.len() as u32;
    let items = items
        .into_iter()
        .skip(((page - 1) * page_size) as usize)
        .take(page_size as usize)
        .collect();
    crate::model::Page {
        items,
        total,
        page,
        page_size,
    }
}
