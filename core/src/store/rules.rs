//! The deadline engine in force on this store: the rule table and holiday calendar shipped with the build,
//! or the district's own versions of them (table `local_setting`, replicated from the district to every
//! site). The district edits the table (issue 3: "editable by the district") and publishes each new
//! year's official holidays (L-0) without a new build.

use super::{Store, WriteChange};
use crate::deadlines::{Calendar, DeadlineError, Engine, RuleTable};
use crate::error::{CoreError, Result};
use crate::model::{OrgKind, SessionUser};
use crate::tables;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use ts_rs::TS;

/// Row ids of the two documents.
pub const RULES_SETTING: &str = "deadline_rules";
pub const CALENDAR_SETTING: &str = "holiday_calendar";
/// L-11: the case kinds the district no longer takes on (剥夺政治权利 is executed by the police under the
/// current law; the seed's fifth kind stays available until the district switches it off).
pub const CASE_KINDS_SETTING: &str = "case_kinds";

#[derive(Debug, Default, Serialize, Deserialize)]
struct CaseKindsDoc {
    #[serde(default)]
    disabled: Vec<crate::model::CaseKind>,
}

fn shipped() -> Result<&'static Engine> {
    static ENGINE: OnceLock<std::result::Result<Engine, DeadlineError>> = OnceLock::new();
    ENGINE
        .get_or_init(Engine::official)
        .as_ref()
        .map_err(|e| CoreError::Corrupt(format!("rule table or calendar: {e}")))
}

/// What the settings screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeadlineSettings {
    /// The rule table in force, as JSON (the district's version or the shipped one).
    pub rules_json: String,
    pub rules_local: bool,
    pub rules_edited_by: String,
    pub rules_edited_at: String,
    pub calendar_json: String,
    pub calendar_local: bool,
    pub calendar_edited_by: String,
    pub calendar_edited_at: String,
    /// Years the calendar in force lists.
    pub calendar_years: Vec<i32>,
    /// L-11: kinds no new case may take.
    pub disabled_case_kinds: Vec<crate::model::CaseKind>,
}

impl Store {
    /// The engine in force here. Cheap when nothing changed: the key is the size of the settings' field
    /// histories, which grows with every write and every merged operation.
    pub(super) fn engine(&self) -> Result<Arc<Engine>> {
        let key: String = self.conn.query_row(
            "SELECT COUNT(*) || ':' || COALESCE(SUM(length(_versions)), 0) FROM local_setting",
            [],
            |r| r.get(0),
        )?;
        if let Some((cached_key, engine)) = self.engine_cache.borrow().as_ref() {
            if *cached_key == key {
                return Ok(engine.clone());
            }
        }
        let engine = Arc::new(self.build_engine()?);
        *self.engine_cache.borrow_mut() = Some((key, engine.clone()));
        Ok(engine)
    }

    fn build_engine(&self) -> Result<Engine> {
        let shipped = shipped()?;
        let table = match self.setting_json(RULES_SETTING)? {
            Some(json) => RuleTable::from_json(&json).unwrap_or_else(|e| {
                // Validated when written; a row that still fails (a newer build's format) falls back.
                eprintln!("[jiceng] district rule table ignored: {e}");
                shipped.table().clone()
            }),
            None => shipped.table().clone(),
        };
        let calendar = match self.setting_json(CALENDAR_SETTING)? {
            Some(json) => Calendar::from_json(&json).unwrap_or_else(|e| {
                eprintln!("[jiceng] district holiday calendar ignored: {e}");
                shipped.calendar().clone()
            }),
            None => shipped.calendar().clone(),
        };
        Ok(Engine::new(table, calendar))
    }

    fn setting_json(&self, id: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT json FROM local_setting WHERE id = ?1 AND COALESCE(_deleted, 0) = 0",
            )?
            .query_row([id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten()
            .filter(|j| !j.trim().is_empty()))
    }

    fn setting_meta(&self, id: &str) -> Result<(String, String)> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT edited_by, edited_at FROM local_setting WHERE id = ?1 AND COALESCE(_deleted, 0) = 0",
            )?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })
            .optional()?
            .unwrap_or_default())
    }

    /// The rule table and calendar in force, for every user who works with deadlines.
    pub fn deadline_settings(&self, _user: &SessionUser) -> Result<DeadlineSettings> {
        let engine = self.engine()?;
        let rules_json = match self.setting_json(RULES_SETTING)? {
            Some(json) => json,
            None => crate::deadlines::DEADLINE_RULES_JSON.to_string(),
        };
        let calendar_json = match self.setting_json(CALENDAR_SETTING)? {
            Some(json) => json,
            None => crate::deadlines::OFFICIAL_CALENDAR_JSON.to_string(),
        };
        let (rules_edited_by, rules_edited_at) = self.setting_meta(RULES_SETTING)?;
        let (calendar_edited_by, calendar_edited_at) = self.setting_meta(CALENDAR_SETTING)?;
        let years = match (
            engine.calendar().known_from(),
            engine.calendar().known_through(),
        ) {
            (Some(from), Some(through)) => {
                use chrono::Datelike;
                (from.year()..=through.year()).collect()
            }
            _ => Vec::new(),
        };
        Ok(DeadlineSettings {
            rules_local: self.setting_json(RULES_SETTING)?.is_some(),
            rules_json,
            rules_edited_by,
            rules_edited_at,
            calendar_local: self.setting_json(CALENDAR_SETTING)?.is_some(),
            calendar_json,
            calendar_edited_by,
            calendar_edited_at,
            calendar_years: years,
            disabled_case_kinds: self.disabled_case_kinds()?,
        })
    }

    /// L-11: the kinds the district switched off for new cases.
    pub fn disabled_case_kinds(&self) -> Result<Vec<crate::model::CaseKind>> {
        Ok(match self.setting_json(CASE_KINDS_SETTING)? {
            Some(json) => serde_json::from_str::<CaseKindsDoc>(&json)
                .map(|d| d.disabled)
                .unwrap_or_default(),
            None => Vec::new(),
        })
    }

    /// L-11: the district switches case kinds off (or on again) for new cases.
    pub fn save_case_kinds(
        &mut self,
        user: &SessionUser,
        disabled: Vec<crate::model::CaseKind>,
    ) -> Result<()> {
        let json = serde_json::to_string(&CaseKindsDoc { disabled })
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        self.save_setting(user, CASE_KINDS_SETTING, Some(&json))
    }

    /// The district publishes its rule table (None: back to the shipped one). Validated like the shipped
    /// table: a table that does not load is refused with the reason.
    pub fn save_rule_table(&mut self, user: &SessionUser, json: Option<&str>) -> Result<()> {
        if let Some(json) = json {
            RuleTable::from_json(json).map_err(|e| {
                CoreError::invalid(
                    "json",
                    format!("rule table does not load: {e}"),
                    format!("规则表无法加载：{}", e.message_zh()),
                )
            })?;
        }
        self.save_setting(user, RULES_SETTING, json)
    }

    /// The district publishes a holiday calendar (e.g. next year's, once the State Council announces it).
    pub fn save_calendar(&mut self, user: &SessionUser, json: Option<&str>) -> Result<()> {
        if let Some(json) = json {
            Calendar::from_json(json).map_err(|e| {
                CoreError::invalid(
                    "json",
                    format!("calendar does not load: {e}"),
                    format!("节假日安排无法加载：{}", e.message_zh()),
                )
            })?;
        }
        self.save_setting(user, CALENDAR_SETTING, json)
    }

    fn save_setting(&mut self, user: &SessionUser, id: &str, json: Option<&str>) -> Result<()> {
        if !crate::permissions::may(
            user.role,
            crate::permissions::Area::DeadlineRules,
            crate::permissions::Access::Write,
        ) || self.org_unit_kind(&user.org_unit_id)? != Some(OrgKind::District)
        {
            return Err(CoreError::Forbidden(
                "only the district administers the rule table and the calendar",
            ));
        }
        let def = tables::table("local_setting").ok_or(CoreError::NotFound("table"))?;
        let at = crate::shanghai::from_millis(self.corrected_wall_millis()?).to_rfc3339();
        let mut changes = vec![
            WriteChange::new("org_unit_id", user.org_unit_id.clone()),
            WriteChange::new("edited_by", user.display_name.clone()),
            WriteChange::new("edited_at", at),
            WriteChange::new(tables::DELETED_FIELD, json.is_none()),
        ];
        if let Some(json) = json {
            changes.push(WriteChange::new("json", json.to_string()));
        }
        let org = user.org_unit_id.clone();
        self.write_row(&user.user_id, def, id, &org, &changes)?;
        Ok(())
    }
}
