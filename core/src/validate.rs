//! One set of value checks for every replicated field, called by the desktop's single write path and by
//! the sync server for every operation a site sends (ARCHITECTURE.md "The server validates with core's
//! validators"; issue 9). Pure: a (table, field, value) goes in, a refusal with a machine code and an
//! English and a Chinese reason comes out.
//!
//! The rule of a field is derived from its name and type, so a new field is checked the day it is added:
//! `*_on`, `*_date`, `sentence_*` are calendar dates (YYYY-MM-DD), `*_at` instants (RFC 3339),
//! `id_number` fields GB 11643 numbers, a small list of coded fields their enum, ids short single-line
//! texts, and every text has a bounded length (counted in characters, so a 4-byte 生僻字 counts once).

use crate::casefile::{DocumentType, GuarantorKind, PersonRole, TeamRole};
use crate::investigation::{AssessmentOpinion, InvestigationStatus, RequestingOrgan};
use crate::model::{
    AppealClass, CaseStatus, CheckinMethod, CommunityFund, EntryKind, OrgKind, Role,
    SupervisionLevel,
};
use crate::tables::{FieldDef, FieldType, TableDef, DELETED_FIELD};
use crate::transfer::TransferStatus;
use serde_json::Value;

/// Why a value was refused: a stable machine code and what to tell people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl Refusal {
    pub fn new(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Refusal {
        Refusal {
            code,
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// Longest user id an operation may carry.
pub const MAX_USER_ID_CHARS: usize = 64;
/// Longest row id (UUIDs, conflict ids, `site:seq` keys).
pub const MAX_ROW_ID_CHARS: usize = 64;
/// Ids of other rows and org units.
const MAX_REF_CHARS: usize = 64;
/// Names of people and units.
const MAX_NAME_CHARS: usize = 100;
/// Ordinary texts (notes, reasons, addresses): the desktop's forms allow at most 5,000.
const MAX_TEXT_CHARS: usize = 5_000;
/// Long texts (plans, minutes, agreements, appeal content).
const MAX_LONG_TEXT_CHARS: usize = 20_000;
/// The district's rule table and holiday calendar as one JSON document.
const MAX_SETTINGS_JSON_BYTES: usize = 1 << 20;
/// Dates before this year are typing errors, not records (the oldest people in the register are
/// born after 1900).
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

/// The checks one field's values get.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Date,
    Instant,
    IdNumber,
    /// A coded value; `optional` lets the empty string through (not chosen yet).
    Code {
        known: fn(&str) -> bool,
        optional: bool,
    },
    /// An id of another row or unit: short, one line.
    Reference,
    Text {
        max_chars: usize,
        multiline: bool,
    },
    Json,
    Integer {
        min: i64,
        max: i64,
    },
    Flag,
}

fn code(known: fn(&str) -> bool) -> Rule {
    Rule::Code {
        known,
        optional: false,
    }
}

fn optional_code(known: fn(&str) -> bool) -> Rule {
    Rule::Code {
        known,
        optional: true,
    }
}

fn sex(code: &str) -> bool {
    matches!(code, "male" | "female")
}

fn coded(table: &str, field: &str) -> Option<Rule> {
    Some(match (table, field) {
        ("corr_case", "status") => code(|c| CaseStatus::from_code(c).is_some()),
        ("corr_case", "supervision_level") => {
            optional_code(|c| SupervisionLevel::from_code(c).is_some())
        }
        (_, "sex") => optional_code(sex),
        ("corr_checkin", "method") => code(|c| CheckinMethod::from_code(c).is_some()),
        ("corr_entry", "kind") => code(|c| EntryKind::from_code(c).is_some()),
        ("app_user", "role") => code(|c| Role::from_code(c).is_some()),
        ("org_unit", "kind") => code(|c| OrgKind::from_code(c).is_some()),
        ("corr_transfer", "status") => code(|c| TransferStatus::from_code(c).is_some()),
        ("appeal", "class") => code(|c| AppealClass::from_code(c).is_some()),
        ("corr_investigation", "status") => code(|c| InvestigationStatus::from_code(c).is_some()),
        ("corr_investigation", "organ") => code(|c| RequestingOrgan::from_code(c).is_some()),
        ("corr_investigation", "opinion") => {
            optional_code(|c| AssessmentOpinion::from_code(c).is_some())
        }
        ("community_fund_entry", "fund") => code(|c| CommunityFund::from_code(c).is_some()),
        ("corr_person", "role") => code(|c| PersonRole::from_code(c).is_some()),
        ("corr_person", "team_role") => optional_code(|c| TeamRole::from_code(c).is_some()),
        ("corr_plan", "guarantor_kind") => optional_code(|c| GuarantorKind::from_code(c).is_some()),
        ("corr_document", "doc_type") => code(|c| DocumentType::from_code(c).is_some()),
        _ => return None,
    })
}

fn integer_range(table: &str, field: &str) -> (i64, i64) {
    match (table, field) {
        // Minutes of one entry or one volunteer's service: at most a day.
        (_, "minutes") => (0, 24 * 60),
        // Labour days of one entry (C-10 counts them per month).
        ("corr_entry", "days") => (0, 31),
        (_, f) if f.starts_with("score_") => (0, 100),
        (_, "year") => (i64::from(MIN_YEAR), i64::from(MAX_YEAR)),
        (_, "reminders") | (_, "seq") => (0, 10_000),
        // Money in fen: up to 100 million yuan, never negative (a refund is its own entry).
        (_, f) if f.ends_with("_fen") => (0, 10_000_000_000),
        _ => (0, i64::MAX),
    }
}

fn text_rule(table: &str, field: &str) -> Rule {
    let long = matches!(
        field,
        "plan_text" | "content" | "minutes" | "agreement_text" | "opinion_summary" | "reply_text"
    );
    let multiline = long
        || matches!(
            field,
            "note"
                | "reason"
                | "decision_note"
                | "decision_reasons"
                | "description"
                | "summary"
                | "result"
                | "follow_up_result"
                | "opinion"
                | "attendees"
                | "topic"
                | "address"
                | "residence"
                | "offence"
                | "purpose"
                | "skills"
                | "place"
                | "action"
                | "chosen_value"
        );
    let name_like = field == "name"
        || field.ends_with("_name")
        || matches!(
            field,
            "username" | "phone" | "petitioner_phone" | "building" | "unit" | "room" | "doc_no"
        );
    let _ = table;
    Rule::Text {
        max_chars: if long {
            MAX_LONG_TEXT_CHARS
        } else if name_like {
            MAX_NAME_CHARS
        } else {
            MAX_TEXT_CHARS
        },
        multiline,
    }
}

fn rule_of(table: &TableDef, field: &FieldDef) -> Rule {
    let name = field.name;
    match field.ty {
        FieldType::Bool => return Rule::Flag,
        FieldType::Integer => {
            let (min, max) = integer_range(table.name, name);
            return Rule::Integer { min, max };
        }
        FieldType::Text => {}
    }
    if let Some(rule) = coded(table.name, name) {
        return rule;
    }
    if name == "json" {
        return Rule::Json;
    }
    if name.ends_with("_on") || name.ends_with("_date") || name.starts_with("sentence_") {
        return Rule::Date;
    }
    if name.ends_with("_at") {
        return Rule::Instant;
    }
    if name.ends_with("id_number") {
        return Rule::IdNumber;
    }
    if name == "id"
        || name.ends_with("_id")
        || name == "merged_into"
        || name == "household_head"
        || name == "ref_entry_id"
        || name == "renewal_of"
    {
        return Rule::Reference;
    }
    text_rule(table.name, name)
}

fn has_control(text: &str, multiline: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r')))
}

/// Checks one value of one field. Null (a cleared field) always passes.
/// A field's name as `table.field`, written out only into a refusal.
struct Qualified<'a>(&'a str, &'a str);

impl std::fmt::Display for Qualified<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

pub fn check_value(table: &TableDef, field: &FieldDef, value: &Value) -> Result<(), Refusal> {
    // Named only when refused: the server checks every operation of every push.
    let what = Qualified(table.name, field.name);
    if !field.ty.accepts(value) {
        return Err(Refusal::new(
            "bad_value",
            format!("{what} has the wrong type (expected {:?})", field.ty),
            format!("字段{what}的类型不正确"),
        ));
    }
    let text = match value {
        Value::Null => return Ok(()),
        Value::String(s) => s.as_str(),
        Value::Number(n) => {
            let n = n.as_i64().unwrap_or(i64::MIN);
            if let Rule::Integer { min, max } = rule_of(table, field) {
                if n < min || n > max {
                    return Err(Refusal::new(
                        "out_of_range",
                        format!("{what} = {n} is outside {min}..={max}"),
                        format!("字段{what}的数值{n}超出允许范围（{min}至{max}）"),
                    ));
                }
            }
            return Ok(());
        }
        _ => return Ok(()),
    };
    match rule_of(table, field) {
        Rule::Date => check_date(&what, text),
        Rule::Instant => {
            if text.is_empty() {
                return Ok(());
            }
            match chrono::DateTime::parse_from_rfc3339(text) {
                Ok(at) if (MIN_YEAR..=MAX_YEAR).contains(&chrono::Datelike::year(&at)) => Ok(()),
                _ => Err(Refusal::new(
                    "bad_instant",
                    format!("{what} is not an RFC 3339 time between {MIN_YEAR} and {MAX_YEAR}"),
                    format!("字段{what}不是有效的时间"),
                )),
            }
        }
        Rule::IdNumber => {
            if text.is_empty() {
                return Ok(());
            }
            match crate::idcard::parse(text) {
                // The write path stores the checked 18-character form only.
                Ok(id) if id.number == text => Ok(()),
                Ok(_) => Err(Refusal::new(
                    "bad_id_number",
                    format!("{what} is not in its 18-character upper-case form"),
                    "身份证号须为18位标准格式",
                )),
                Err(e) => Err(Refusal::new(
                    "bad_id_number",
                    format!("{what}: {e}"),
                    e.message_zh(),
                )),
            }
        }
        Rule::Code { known, optional } => {
            if (optional && text.is_empty()) || known(text) {
                Ok(())
            } else {
                Err(Refusal::new(
                    "bad_code",
                    format!("{what} has no value {:?}", short(text)),
                    format!("字段{what}的取值“{}”不在允许的范围内", short(text)),
                ))
            }
        }
        Rule::Reference => check_text(&what, text, MAX_REF_CHARS, false),
        Rule::Text {
            max_chars,
            multiline,
        } => check_text(&what, text, max_chars, multiline),
        Rule::Json => {
            if text.len() > MAX_SETTINGS_JSON_BYTES {
                return Err(too_long(&what, MAX_SETTINGS_JSON_BYTES));
            }
            serde_json::from_str::<Value>(text)
                .map(|_| ())
                .map_err(|e| {
                    Refusal::new(
                        "bad_json",
                        format!("{what} is not JSON: {e}"),
                        format!("字段{what}不是有效的JSON"),
                    )
                })
        }
        Rule::Integer { .. } | Rule::Flag => Ok(()),
    }
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

fn too_long(what: &Qualified, max: usize) -> Refusal {
    Refusal::new(
        "too_long",
        format!("{what} is longer than {max} characters"),
        format!("字段{what}内容过长（最多{max}字）"),
    )
}

fn check_text(
    what: &Qualified,
    text: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<(), Refusal> {
    if text.chars().count() > max_chars {
        return Err(too_long(what, max_chars));
    }
    if has_control(text, multiline) {
        return Err(Refusal::new(
            "control_characters",
            format!("{what} holds control characters"),
            format!("字段{what}含有不可见的控制字符"),
        ));
    }
    Ok(())
}

fn check_date(what: &Qualified, text: &str) -> Result<(), Refusal> {
    if text.is_empty() {
        return Ok(());
    }
    let parsed = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| text.len() == 10 && (MIN_YEAR..=MAX_YEAR).contains(&chrono::Datelike::year(d)));
    match parsed {
        Some(_) => Ok(()),
        None => Err(Refusal::new(
            "bad_date",
            format!(
                "{what} = {:?} is not a date YYYY-MM-DD between {MIN_YEAR} and {MAX_YEAR}",
                short(text)
            ),
            format!("字段{what}的日期“{}”无效（应为年-月-日）", short(text)),
        )),
    }
}

/// Checks the author of an operation.
pub fn check_user_id(user_id: &str) -> Result<(), Refusal> {
    if user_id.is_empty()
        || user_id.chars().count() > MAX_USER_ID_CHARS
        || has_control(user_id, false)
    {
        return Err(Refusal::new(
            "bad_user_id",
            format!("user id must have 1-{MAX_USER_ID_CHARS} characters and no control characters"),
            "操作人编号无效",
        ));
    }
    Ok(())
}

/// Whether `field` of `table` is the reversible deletion flag (the one field of an append-only row
/// that may change after its creation).
pub fn is_deletion_flag(field: &str) -> bool {
    field == DELETED_FIELD
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::table;
    use serde_json::json;

    fn check(t: &str, f: &str, v: Value) -> Result<(), Refusal> {
        let def = table(t).unwrap();
        check_value(def, def.field(f).unwrap(), &v)
    }

    #[test]
    fn dates_must_be_real_calendar_days() {
        assert!(check("corr_case", "sentence_start", json!("2026-02-28")).is_ok());
        assert!(check("corr_case", "sentence_start", json!("")).is_ok());
        assert!(check("corr_case", "sentence_start", Value::Null).is_ok());
        for bad in [
            "not a date",
            "2026-02-30",
            "2026-2-3",
            "0001-01-01",
            "2026-02-28T00:00",
        ] {
            let e = check("corr_case", "sentence_start", json!(bad)).unwrap_err();
            assert_eq!(e.code, "bad_date", "{bad}");
        }
        assert_eq!(
            check("corr_entry", "occurred_on", json!("yesterday"))
                .unwrap_err()
                .code,
            "bad_date"
        );
    }

    #[test]
    fn instants_are_rfc3339() {
        assert!(check(
            "corr_checkin",
            "occurred_at",
            json!("2026-12-01T09:30:00+08:00")
        )
        .is_ok());
        assert_eq!(
            check("corr_checkin", "occurred_at", json!("12/01 9:30"))
                .unwrap_err()
                .code,
            "bad_instant"
        );
    }

    #[test]
    fn coded_fields_take_only_their_codes() {
        assert!(check("corr_case", "status", json!("in_correction")).is_ok());
        assert_eq!(
            check("corr_case", "status", json!("junk"))
                .unwrap_err()
                .code,
            "bad_code"
        );
        assert_eq!(
            check("corr_case", "status", json!("")).unwrap_err().code,
            "bad_code"
        );
        assert!(check("corr_case", "supervision_level", json!("")).is_ok());
        assert_eq!(
            check("corr_checkin", "method", json!("telepathy"))
                .unwrap_err()
                .code,
            "bad_code"
        );
        assert_eq!(
            check("resident", "sex", json!("x")).unwrap_err().code,
            "bad_code"
        );
    }

    #[test]
    fn id_numbers_pass_gb11643_in_their_stored_form() {
        assert!(check("corr_case", "id_number", json!("110101199003074514")).is_ok());
        let e = check("corr_case", "id_number", json!("110101199003074515")).unwrap_err();
        assert_eq!(e.code, "bad_id_number");
        assert!(e.zh.contains("校验位"));
        // The 15-digit legacy form is upgraded by the write path; the stored value is 18 characters.
        assert_eq!(
            check("resident", "id_number", json!("110101900307451"))
                .unwrap_err()
                .code,
            "bad_id_number"
        );
        assert!(check("appeal", "petitioner_id_number", json!("")).is_ok());
    }

    #[test]
    fn numbers_stay_in_their_range() {
        assert!(check("corr_entry", "minutes", json!(120)).is_ok());
        assert_eq!(
            check("corr_entry", "minutes", json!(-5)).unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            check("corr_assessment", "score_conduct", json!(1000))
                .unwrap_err()
                .code,
            "out_of_range"
        );
        assert_eq!(
            check("community_fund_entry", "amount_fen", json!(-1))
                .unwrap_err()
                .code,
            "out_of_range"
        );
        assert_eq!(
            check("corr_entry", "minutes", json!("12"))
                .unwrap_err()
                .code,
            "bad_value"
        );
    }

    #[test]
    fn texts_are_bounded_in_characters_and_single_line_fields_refuse_control_characters() {
        let rare = "𠀀".repeat(100);
        assert!(
            check("corr_case", "name", json!(rare)).is_ok(),
            "4-byte characters count once"
        );
        assert_eq!(
            check("corr_case", "name", json!("𠀀".repeat(101)))
                .unwrap_err()
                .code,
            "too_long"
        );
        assert_eq!(
            check("corr_case", "name", json!("张三\n李四"))
                .unwrap_err()
                .code,
            "control_characters"
        );
        assert!(check("corr_checkin", "note", json!("第一行\n第二行")).is_ok());
        assert_eq!(
            check("corr_checkin", "note", json!("x".repeat(5001)))
                .unwrap_err()
                .code,
            "too_long"
        );
        assert_eq!(
            check("corr_checkin", "case_id", json!("x".repeat(65)))
                .unwrap_err()
                .code,
            "too_long"
        );
        assert_eq!(
            check("local_setting", "json", json!("{not json"))
                .unwrap_err()
                .code,
            "bad_json"
        );
    }

    #[test]
    fn user_ids_are_bounded() {
        assert!(check_user_id("0190f0e4-7a5b-7c3e-9b1a-2f3d4e5f6a7b").is_ok());
        assert!(check_user_id("").is_err());
        assert!(check_user_id(&"u".repeat(65)).is_err());
        assert!(check_user_id("a\nb").is_err());
    }

    #[test]
    fn every_field_of_every_table_has_a_rule_that_accepts_null() {
        for def in crate::tables::TABLES {
            for field in def.fields {
                assert!(
                    check_value(def, field, &Value::Null).is_ok(),
                    "{}.{}",
                    def.name,
                    field.name
                );
            }
        }
    }
}
