//! Supervision entries of a corrections case (C-10..C-12, C-15, C-16, L-8): append-only records and the
//! monthly and discipline figures computed from them.

use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::model::{
    CaseRecord, CaseStatus, EntryInput, EntryKind, EntryRecord, MonthCompliance, SessionUser,
};
use crate::shanghai;
use crate::supervision::{self, SupervisionRules};
use crate::tables;
use chrono::Months;

const MAX_NOTE_CHARS: usize = 2000;
/// A single entry longer than a day of minutes is a typing error, not a labour record.
const MAX_ENTRY_MINUTES: u32 = 24 * 60;
const MAX_OUT_OF_CONTACT_DAYS: u32 = 3660;
const COMPLIANCE_MONTHS_SHOWN: usize = 12;

impl Store {
    /// The figures behind C-10, C-11 and L-8, from the rule table.
    pub fn supervision_rules(&self) -> Result<SupervisionRules> {
        SupervisionRules::from_table(self.engine()?.table())
            .map_err(|e| CoreError::Corrupt(format!("rule table: {e}")))
    }

    /// Records one supervision entry. Append-only: a mistake is answered by a new entry, never an edit.
    pub fn add_entry(&mut self, user: &SessionUser, input: EntryInput) -> Result<EntryRecord> {
        self.require_write(user)?;
        let case = self.case_for_write(user, &input.case_id)?;
        if case.deleted {
            return Err(CoreError::invalid(
                "case_id",
                "the case is deleted",
                "该案件已删除，不能登记",
            ));
        }
        let on = shanghai::parse_date(&input.occurred_on).ok_or_else(|| {
            CoreError::invalid(
                "occurred_on",
                "date must be YYYY-MM-DD",
                "日期格式应为YYYY-MM-DD",
            )
        })?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        if on > today {
            return Err(CoreError::invalid(
                "occurred_on",
                "the date is in the future",
                "登记日期不能晚于今天",
            ));
        }
        let minutes = match (input.kind.takes_minutes(), input.minutes) {
            (true, Some(m)) if (1..=MAX_ENTRY_MINUTES).contains(&m) => Some(m),
            (true, _) => {
                return Err(CoreError::invalid(
                    "minutes",
                    "labour, education and counselling entries need 1-1440 minutes",
                    "劳动、教育、心理矫正记录须填写时长（1至1440分钟）",
                ))
            }
            (false, _) => None,
        };
        let days = match (input.kind, input.days) {
            (EntryKind::OutOfContact, Some(d)) if (1..=MAX_OUT_OF_CONTACT_DAYS).contains(&d) => {
                Some(d)
            }
            (EntryKind::OutOfContact, _) => {
                return Err(CoreError::invalid(
                    "days",
                    "out-of-contact entries need the number of days",
                    "失联记录须填写失联天数",
                ))
            }
            _ => None,
        };
        let ref_entry_id = match input.kind {
            EntryKind::Corrected => {
                let target = input.ref_entry_id.as_deref().unwrap_or("");
                let refers_to_discipline = self.entries_of(&case.id)?.iter().any(|e| {
                    e.id == target && matches!(e.kind, EntryKind::Reprimand | EntryKind::Warning)
                });
                if !refers_to_discipline {
                    return Err(CoreError::invalid(
                        "ref_entry_id",
                        "a correction must name a reprimand or warning of this case",
                        "“已改正”须对应本案件的一条训诫或警告记录",
                    ));
                }
                Some(target.to_string())
            }
            _ => None,
        };
        let note = input.note.trim().to_string();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(CoreError::invalid(
                "note",
                "note is too long",
                "备注过长（最多2000字）",
            ));
        }
        let def = tables::table("corr_entry").ok_or(CoreError::NotFound("table corr_entry"))?;
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            def,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("kind", input.kind.code()),
                WriteChange::new("occurred_on", on.format("%Y-%m-%d").to_string()),
                WriteChange::new("minutes", minutes),
                WriteChange::new("days", days),
                WriteChange::new("ref_entry_id", ref_entry_id),
                WriteChange::new("note", note),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.entries_of(&case.id)?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or(CoreError::NotFound("entry"))
    }

    pub(super) fn entries_of(&self, case_id: &str) -> Result<Vec<EntryRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, case_id, kind, occurred_on, minutes, days, ref_entry_id, note, recorded_by FROM corr_entry \
             WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY occurred_on DESC, id DESC",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            let kind: Option<String> = r.get(2)?;
            Ok((
                kind,
                EntryRecord {
                    id: r.get(0)?,
                    case_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    kind: EntryKind::Labour,
                    occurred_on: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    minutes: r
                        .get::<_, Option<i64>>(4)?
                        .and_then(|m| u32::try_from(m).ok()),
                    days: r
                        .get::<_, Option<i64>>(5)?
                        .and_then(|d| u32::try_from(d).ok()),
                    ref_entry_id: r.get(6)?,
                    note: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    recorded_by: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                },
            ))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (kind, mut entry) = row?;
            // A row still arriving through sync may lack its kind: skip it until it is whole.
            let Some(kind) = kind.as_deref().and_then(EntryKind::from_code) else {
                continue;
            };
            entry.kind = kind;
            entries.push(entry);
        }
        Ok(entries)
    }

    /// C-10 / C-11 month by month over the correction period up to today, newest first.
    pub(super) fn compliance_of(
        &self,
        case: &CaseRecord,
        entries: &[EntryRecord],
    ) -> Result<Vec<MonthCompliance>> {
        let (Some(start), Some(end)) = (
            shanghai::parse_date(&case.sentence_start),
            shanghai::parse_date(&case.sentence_end),
        ) else {
            return Ok(Vec::new());
        };
        if !matches!(case.status, CaseStatus::InCorrection | CaseStatus::Released) {
            return Ok(Vec::new());
        }
        let today = shanghai::today(self.corrected_wall_millis()?);
        let rules = self.supervision_rules()?;
        let last = today.min(end);
        let mut months = Vec::new();
        let mut month = supervision::month_bounds(start).0;
        while month <= last {
            months.push(supervision::month_compliance(entries, month, today, &rules));
            month = match month.checked_add_months(Months::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
        months.reverse();
        months.truncate(COMPLIANCE_MONTHS_SHOWN);
        Ok(months)
    }
}
