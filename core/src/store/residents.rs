//! W-1 residents' register (人口信息) of a community workstation.

use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::idcard;
use crate::model::{
    DuplicateSuggestion, OrgKind, Page, ResidentInput, ResidentQuery, ResidentRecord, SessionUser,
    SpecialGroup,
};
use crate::search::like_escape;
use crate::tables::{self, DELETED_FIELD};
use rusqlite::{params, OptionalExtension, Row};

const MAX_NAME_CHARS: usize = 50;
const MAX_ADDRESS_PART_CHARS: usize = 20;
const MAX_NOTE_CHARS: usize = 500;
const MAX_PAGE_SIZE: u32 = 200;

const COLUMNS: &str =
    "r.id, r.name, r.id_number, r.sex, r.birth_date, r.phone, r.building, r.unit, r.room, \
     r.household_head, r.special_groups, r.note, r.org_unit_id, o.name, COALESCE(r._deleted, 0), \
     EXISTS (SELECT 1 FROM oplog l WHERE l.row_id = r.id AND l.server_seq IS NULL), \
     EXISTS (SELECT 1 FROM conflict k WHERE k.row_id = r.id)";

fn text(r: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

fn resident_from_row(r: &Row<'_>) -> rusqlite::Result<ResidentRecord> {
    let groups: Vec<String> = serde_json::from_str(&text(r, 10)?).unwrap_or_default();
    Ok(ResidentRecord {
        id: r.get(0)?,
        name: text(r, 1)?,
        id_number: text(r, 2)?,
        sex: text(r, 3)?,
        birth_date: text(r, 4)?,
        phone: text(r, 5)?,
        building: text(r, 6)?,
        unit: text(r, 7)?,
        room: text(r, 8)?,
        household_head: text(r, 9)? == "yes",
        special_groups: groups
            .iter()
            .filter_map(|g| SpecialGroup::from_code(g))
            .collect(),
        note: text(r, 11)?,
        org_unit_id: text(r, 12)?,
        org_unit_name: text(r, 13)?,
        merged_ids: Vec::new(),
        other_phones: Vec::new(),
        deleted: r.get::<_, i64>(14)? != 0,
        pending_sync: r.get(15)?,
        has_conflict: r.get(16)?,
    })
}

fn check_length(value: &str, max: usize, field: &'static str, zh: &str) -> Result<()> {
    if value.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
            zh,
        ));
    }
    Ok(())
}

impl Store {
    fn require_residents(&self, user: &SessionUser) -> Result<()> {
        if user.role.may_use_residents() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "residents' records are for community workstations",
            ))
        }
    }

    pub fn list_residents(
        &self,
        user: &SessionUser,
        query: &ResidentQuery,
    ) -> Result<Page<ResidentRecord>> {
        self.require_residents(user)?;
        let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
        let page = query.page.max(1);
        let needle = query.text.as_deref().map(str::trim).unwrap_or("");
        let pattern = format!("%{}%", like_escape(needle));
        let initials = format!("{}%", like_escape(&needle.to_lowercase()));
        let id_pattern = format!("%{}%", like_escape(&needle.to_uppercase()));
        let group = query
            .group
            .map(|g| format!("%\"{}\"%", g.code()))
            .unwrap_or_default();
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        // One person index: a merged registration is not listed itself, but a search that matches it finds
        // the person it was merged into.
        let filter = "r.org_unit_id IN (SELECT value FROM json_each(?1)) AND (r.merged_into IS NULL OR EXISTS \
                  (SELECT 1 FROM resident t WHERE t.id = r.merged_into AND t.merged_into = r.id AND r.id < t.id)) \
             AND (?2 = '' OR r.id IN (SELECT COALESCE(m.merged_into, m.id) FROM resident m WHERE \
                  m.name LIKE ?3 ESCAPE '\\' OR m.name_initials LIKE ?4 ESCAPE '\\' \
                  OR m.id_number LIKE ?5 ESCAPE '\\' OR m.phone LIKE ?3 ESCAPE '\\' \
                  OR (COALESCE(m.building, '') || '-' || COALESCE(m.unit, '') || '-' || COALESCE(m.room, '')) LIKE ?3 ESCAPE '\\')) \
             AND (?6 = '' OR r.special_groups LIKE ?6) \
             AND (?7 OR COALESCE(r._deleted, 0) = 0)";
        let total: u32 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM resident r WHERE {filter}"),
            params![
                scope,
                needle,
                pattern,
                initials,
                id_pattern,
                group,
                query.include_deleted
            ],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM resident r LEFT JOIN org_unit o ON o.id = r.org_unit_id \
             WHERE {filter} ORDER BY r.building, r.unit, r.room, r.name_initials, r.id LIMIT ?8 OFFSET ?9"
        ))?;
        let items = stmt
            .query_map(
                params![
                    scope,
                    needle,
                    pattern,
                    initials,
                    id_pattern,
                    group,
                    query.include_deleted,
                    page_size,
                    (page - 1) * page_size
                ],
                resident_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let items = items
            .into_iter()
            .map(|r| self.with_merged(r))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }

    fn resident_by_id(&self, id: &str) -> Result<Option<ResidentRecord>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM resident r LEFT JOIN org_unit o ON o.id = r.org_unit_id WHERE r.id = ?1"
            ))?
            .query_row([id], resident_from_row)
            .optional()?)
    }

    fn resident_in_scope(&self, user: &SessionUser, id: &str) -> Result<ResidentRecord> {
        let resident = self
            .resident_by_id(id)?
            .ok_or(CoreError::NotFound("resident"))?;
        if !self.is_within(&resident.org_unit_id, &user.org_unit_id)? {
            return Err(CoreError::NotFound("resident"));
        }
        Ok(resident)
    }

    /// W-1: registers (id None) or edits a resident. Only changed fields are logged.
    pub fn save_resident(
        &mut self,
        user: &SessionUser,
        input: ResidentInput,
    ) -> Result<ResidentRecord> {
        self.require_residents(user)?;
        let name = input.name.trim().to_string();
        if name.is_empty() {
            return Err(CoreError::invalid("name", "name is empty", "姓名不能为空"));
        }
        check_length(&name, MAX_NAME_CHARS, "name", "姓名过长（最多50个字）")?;
        let id_number = idcard::parse(&input.id_number)?;
        let phone = input.phone.trim().to_string();
        let phone_ok = phone.is_empty()
            || (phone.len() <= 20
                && phone.chars().filter(char::is_ascii_digit).count() >= 5
                && phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ')));
        if !phone_ok {
            return Err(CoreError::invalid(
                "phone",
                "phone must be digits (with - or +)",
                "电话号码只能包含数字、“-”或“+”",
            ));
        }
        let (building, unit, room) = (input.building.trim(), input.unit.trim(), input.room.trim());
        for part in [building, unit, room] {
            check_length(
                part,
                MAX_ADDRESS_PART_CHARS,
                "address",
                "楼、单元、室号各不超过20个字",
            )?;
        }
        let note = input.note.trim().to_string();
        check_length(&note, MAX_NOTE_CHARS, "note", "备注过长（最多500字）")?;
        let existing = match &input.id {
            Some(id) => Some(self.resident_in_scope(user, id)?),
            None => None,
        };
        let org_unit_id = match &existing {
            Some(r) => r.org_unit_id.clone(),
            None if self.org_unit_kind(&user.org_unit_id)? == Some(OrgKind::Community) => {
                user.org_unit_id.clone()
            }
            None => {
                return Err(CoreError::invalid(
                    "org_unit_id",
                    "residents are registered by the community workstation",
                    "居民信息由所在社区工作站登记",
                ))
            }
        };
        self.refuse_duplicate_resident(&org_unit_id, &id_number.number, input.id.as_deref())?;
        let mut groups: Vec<&str> = input.special_groups.iter().map(|g| g.code()).collect();
        groups.sort_unstable();
        groups.dedup();
        let groups =
            serde_json::to_string(&groups).map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let id = input
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let def = tables::table("resident").ok_or(CoreError::NotFound("table resident"))?;
        self.write_row(
            &user.user_id,
            def,
            &id,
            &org_unit_id,
            &[
                WriteChange::new("org_unit_id", org_unit_id.clone()),
                WriteChange::new("name", name),
                WriteChange::new("id_number", id_number.number.clone()),
                WriteChange::new("sex", id_number.sex_code()),
                WriteChange::new(
                    "birth_date",
                    id_number.birth_date.format("%Y-%m-%d").to_string(),
                ),
                WriteChange::new("phone", phone),
                WriteChange::new("building", building),
                WriteChange::new("unit", unit),
                WriteChange::new("room", room),
                WriteChange::new(
                    "household_head",
                    if input.household_head { "yes" } else { "no" },
                ),
                WriteChange::new("special_groups", groups),
                WriteChange::new("note", note),
            ],
        )?;
        self.resident_by_id(&id)?
            .ok_or(CoreError::NotFound("resident"))
    }

    fn refuse_duplicate_resident(
        &self,
        org_unit_id: &str,
        id_number: &str,
        own_id: Option<&str>,
    ) -> Result<()> {
        let other: Option<String> = self
            .conn
            .query_row(
                "SELECT name FROM resident WHERE org_unit_id = ?1 AND id_number = ?2 AND COALESCE(_deleted, 0) = 0 \
                 AND merged_into IS NULL AND id IS NOT ?3 LIMIT 1",
                params![org_unit_id, id_number, own_id],
                |r| r.get(0),
            )
            .optional()?;
        match other {
            Some(name) => Err(CoreError::invalid(
                "id_number",
                "this ID number is already registered in the community",
                format!("身份证号{id_number}已登记（{name}），请勿重复登记"),
            )),
            None => Ok(()),
        }
    }

    /// Marks a resident as removed from the register (moved away, deceased). Reversible.
    pub fn set_resident_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<ResidentRecord> {
        self.require_residents(user)?;
        let resident = self.resident_in_scope(user, id)?;
        if !deleted {
            self.refuse_duplicate_resident(&resident.org_unit_id, &resident.id_number, Some(id))?;
        }
        let def = tables::table("resident").ok_or(CoreError::NotFound("table resident"))?;
        self.write_row(
            &user.user_id,
            def,
            id,
            &resident.org_unit_id,
            &[WriteChange::new(DELETED_FIELD, deleted)],
        )?;
        self.resident_by_id(id)?
            .ok_or(CoreError::NotFound("resident"))
    }

    /// The registrations merged into this one, and their phones that differ (nothing is lost).
    fn with_merged(&self, mut resident: ResidentRecord) -> Result<ResidentRecord> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, COALESCE(phone, '') FROM resident WHERE merged_into = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([&resident.id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, phone) = row?;
            resident.merged_ids.push(id);
            if !phone.is_empty()
                && phone != resident.phone
                && !resident.other_phones.contains(&phone)
            {
                resident.other_phones.push(phone);
            }
        }
        Ok(resident)
    }

    /// One person index: registrations sharing an ID number in the user's scope (e.g. two clerks who
    /// registered the same person offline), oldest first.
    pub fn duplicate_suggestions(&self, user: &SessionUser) -> Result<Vec<DuplicateSuggestion>> {
        self.require_residents(user)?;
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id_number FROM resident WHERE org_unit_id IN (SELECT value FROM json_each(?1)) \
             AND merged_into IS NULL AND COALESCE(_deleted, 0) = 0 AND id_number IS NOT NULL \
             GROUP BY id_number HAVING COUNT(*) > 1 ORDER BY id_number",
        )?;
        let numbers = stmt
            .query_map([&scope], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for id_number in numbers {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM resident r LEFT JOIN org_unit o ON o.id = r.org_unit_id \
                 WHERE r.id_number = ?1 AND r.org_unit_id IN (SELECT value FROM json_each(?2)) \
                 AND r.merged_into IS NULL AND COALESCE(r._deleted, 0) = 0 ORDER BY r.id"
            ))?;
            let residents = stmt
                .query_map(params![id_number, scope], resident_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            out.push(DuplicateSuggestion {
                id_number,
                residents,
            });
        }
        Ok(out)
    }

    /// Merges one registration into another of the same person: an operation, undoable, nothing deleted.
    pub fn merge_residents(
        &mut self,
        user: &SessionUser,
        keep_id: &str,
        merge_id: &str,
    ) -> Result<ResidentRecord> {
        self.require_residents(user)?;
        let keep = self.resident_in_scope(user, keep_id)?;
        let merge = self.resident_in_scope(user, merge_id)?;
        if keep.id == merge.id || keep.id_number != merge.id_number {
            return Err(CoreError::invalid(
                "merge_id",
                "only two registrations with the same ID number can be merged",
                "只能合并身份证号相同的两条登记",
            ));
        }
        let def = tables::table("resident").ok_or(CoreError::NotFound("table resident"))?;
        self.write_row(
            &user.user_id,
            def,
            &merge.id,
            &merge.org_unit_id,
            &[WriteChange::new("merged_into", keep.id.clone())],
        )?;
        let kept = self
            .resident_by_id(&keep.id)?
            .ok_or(CoreError::NotFound("resident"))?;
        self.with_merged(kept)
    }

    /// Undoes a merge: the registration stands on its own again.
    pub fn undo_resident_merge(
        &mut self,
        user: &SessionUser,
        merged_id: &str,
    ) -> Result<ResidentRecord> {
        self.require_residents(user)?;
        let merged = self.resident_in_scope(user, merged_id)?;
        let def = tables::table("resident").ok_or(CoreError::NotFound("table resident"))?;
        self.write_row(
            &user.user_id,
            def,
            &merged.id,
            &merged.org_unit_id,
            &[WriteChange::new("merged_into", serde_json::Value::Null)],
        )?;
        let restored = self
            .resident_by_id(&merged.id)?
            .ok_or(CoreError::NotFound("resident"))?;
        self.with_merged(restored)
    }
}
