//! D-3: the review of what the merge could not decide alone. A conflict item stays on record forever
//! (it is a function of the field's versions); a decision is a replicated resolution row with the
//! conflict's id, and, when the other value is chosen, an ordinary write of that value whose base is
//! the current winner (so it closes the question without opening a new one).

use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::merge::FieldVersion;
use crate::model::{ConflictChoice, ConflictItem, ConflictReview, Page, SessionUser};
use crate::tables::{self, Domain, TableDef, ROW_ID_SCOPE};
use rusqlite::OptionalExtension;

const MAX_PAGE_SIZE: u32 = 200;

fn resolution_table(domain: Domain) -> Option<&'static str> {
    match domain {
        Domain::Corrections | Domain::CorrectionsOffice => Some("corr_conflict_resolution"),
        Domain::Residents => Some("res_conflict_resolution"),
        Domain::Directory | Domain::Settings | Domain::Accounts => None,
    }
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

struct RawConflict {
    id: String,
    table: &'static TableDef,
    row_id: String,
    field: String,
    newer: FieldVersion,
    older: FieldVersion,
}

impl Store {
    fn may_review(&self, user: &SessionUser, domain: Domain) -> bool {
        let reviewer = crate::permissions::may(
            user.role,
            crate::permissions::Area::ConflictReview,
            crate::permissions::Access::Write,
        );
        let reads = match domain {
            Domain::Corrections | Domain::CorrectionsOffice => user.role.may_read_corrections(),
            Domain::Residents => user.role.may_use_residents(),
            Domain::Directory | Domain::Settings | Domain::Accounts => false,
        };
        reviewer && reads
    }

    fn raw_conflicts(&self) -> Result<Vec<RawConflict>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, tbl, row_id, field, newer_json, older_json FROM conflict ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, table, row_id, field, newer, older) = row?;
            let Some(table) = tables::table(&table) else {
                continue;
            };
            let newer: FieldVersion =
                serde_json::from_str(&newer).map_err(|e| CoreError::Corrupt(e.to_string()))?;
            let older: FieldVersion =
                serde_json::from_str(&older).map_err(|e| CoreError::Corrupt(e.to_string()))?;
            out.push(RawConflict {
                id,
                table,
                row_id,
                field,
                newer,
                older,
            });
        }
        Ok(out)
    }

    /// The org unit a record belongs to, and a label and case for it.
    fn record_context(
        &self,
        table: &TableDef,
        row_id: &str,
    ) -> Result<(String, String, Option<String>)> {
        if table.scope_field == ROW_ID_SCOPE {
            return Ok((row_id.to_string(), row_id.to_string(), None));
        }
        let label_field = ["name", "petitioner_name", "summary", "subject"]
            .into_iter()
            .find(|f| table.field(f).is_some());
        let has_case = table.field("case_id").is_some();
        let sql = format!(
            "SELECT {}, {}, {} FROM {} WHERE id = ?1",
            table.scope_field,
            label_field.unwrap_or("NULL"),
            if has_case { "case_id" } else { "NULL" },
            table.name
        );
        let row: Option<(Option<String>, Option<String>, Option<String>)> = self
            .conn
            .prepare(&sql)?
            .query_row([row_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (unit, mut label, mut case_id) = row.unwrap_or_default();
        if table.name == "corr_case" {
            case_id = Some(row_id.to_string());
        }
        if label.is_none() {
            if let Some(case) = case_id.as_deref() {
                label = self
                    .conn
                    .query_row("SELECT name FROM corr_case WHERE id = ?1", [case], |r| {
                        r.get(0)
                    })
                    .optional()?
                    .flatten();
            }
        }
        Ok((unit.unwrap_or_default(), label.unwrap_or_default(), case_id))
    }

    fn resolution_of(
        &self,
        table: &'static str,
        id: &str,
    ) -> Result<Option<(String, String, String)>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT chosen_value, resolved_by, resolved_at FROM {table} \
                 WHERE id = ?1 AND COALESCE(_deleted, 0) = 0"
            ))?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                ))
            })
            .optional()?)
    }

    /// Conflict items the user may review (their scope and domains), open ones first.
    pub fn conflict_reviews(
        &self,
        user: &SessionUser,
        include_resolved: bool,
        page: u32,
        page_size: u32,
    ) -> Result<Page<ConflictReview>> {
        if !crate::permissions::may(
            user.role,
            crate::permissions::Area::ConflictReview,
            crate::permissions::Access::Write,
        ) {
            return Err(CoreError::Forbidden(
                "conflicts are reviewed by the district or the office head",
            ));
        }
        let mut reviews = Vec::new();
        for raw in self.raw_conflicts()? {
            if !self.may_review(user, raw.table.domain) {
                continue;
            }
            let Some(resolutions) = resolution_table(raw.table.domain) else {
                continue;
            };
            let (unit, label, case_id) = self.record_context(raw.table, &raw.row_id)?;
            if unit.is_empty() || !self.is_within(&unit, &user.org_unit_id)? {
                continue;
            }
            let resolution = self.resolution_of(resolutions, &raw.id)?;
            if resolution.is_some() && !include_resolved {
                continue;
            }
            let (chosen_value, resolved_by, resolved_at) = resolution.clone().unwrap_or_default();
            reviews.push(ConflictReview {
                item: ConflictItem {
                    id: raw.id.clone(),
                    table: raw.table.name.to_string(),
                    row_id: raw.row_id.clone(),
                    field: raw.field.clone(),
                    winner_value: value_text(raw.newer.value()),
                    winner_site: raw.newer.1.clone(),
                    winner_site_name: self.site_label(&raw.newer.1)?,
                    other_value: value_text(raw.older.value()),
                    other_site: raw.older.1.clone(),
                    other_site_name: self.site_label(&raw.older.1)?,
                },
                record_label: label,
                org_unit_name: self.org_unit_name(&unit)?.unwrap_or_default(),
                case_id,
                resolved: resolution.is_some(),
                chosen_value,
                resolved_by,
                resolved_at,
            });
        }
        reviews.sort_by(|a, b| (a.resolved, &a.item.id).cmp(&(b.resolved, &b.item.id)));
        Ok(super::input::page_of(
            reviews,
            page,
            page_size,
            MAX_PAGE_SIZE,
        ))
    }

    /// Decides a conflict: the chosen value stands (written again if it is not the current value) and
    /// the decision replicates with the record.
    pub fn resolve_conflict(
        &mut self,
        user: &SessionUser,
        conflict_id: &str,
        choice: ConflictChoice,
        note: &str,
    ) -> Result<ConflictReview> {
        let raw = self
            .raw_conflicts()?
            .into_iter()
            .find(|c| c.id == conflict_id)
            .ok_or(CoreError::NotFound("conflict"))?;
        if !self.may_review(user, raw.table.domain) {
            return Err(CoreError::Forbidden(
                "conflicts are reviewed by the district or the office head",
            ));
        }
        let resolutions =
            resolution_table(raw.table.domain).ok_or(CoreError::NotFound("conflict"))?;
        let (unit, _, _) = self.record_context(raw.table, &raw.row_id)?;
        if unit.is_empty() || !self.is_within(&unit, &user.org_unit_id)? {
            return Err(CoreError::NotFound("conflict"));
        }
        if self.resolution_of(resolutions, conflict_id)?.is_some() {
            return Err(CoreError::invalid(
                "id",
                "the conflict was already decided",
                "该冲突已经处理过",
            ));
        }
        let field = raw
            .table
            .field(&raw.field)
            .ok_or(CoreError::NotFound("field"))?;
        let chosen = match choice {
            ConflictChoice::Winner => raw.newer.value().clone(),
            ConflictChoice::Other => raw.older.value().clone(),
        };
        // The value in force now may already be a later one than either side of this conflict.
        let current = super::merge_sql::load_versions(&self.conn, raw.table, &raw.row_id)?
            .and_then(|row| row.value(field.name).cloned())
            .unwrap_or(serde_json::Value::Null);
        if current != chosen {
            self.write_row(
                &user.user_id,
                raw.table,
                &raw.row_id,
                &unit,
                &[WriteChange::new(field.name, chosen.clone())],
            )?;
        }
        let def = tables::table(resolutions).ok_or(CoreError::NotFound("table"))?;
        let at = crate::shanghai::from_millis(self.corrected_wall_millis()?).to_rfc3339();
        self.write_row(
            &user.user_id,
            def,
            conflict_id,
            &unit,
            &[
                WriteChange::new("org_unit_id", unit.clone()),
                WriteChange::new("chosen_value", value_text(&chosen)),
                WriteChange::new("resolved_by", user.display_name.clone()),
                WriteChange::new("resolved_at", at),
                WriteChange::new("note", note.trim().chars().take(500).collect::<String>()),
            ],
        )?;
        self.conflict_reviews(user, true, 1, MAX_PAGE_SIZE)?
            .items
            .into_iter()
            .find(|r| r.item.id == conflict_id)
            .ok_or(CoreError::NotFound("conflict"))
    }
}
