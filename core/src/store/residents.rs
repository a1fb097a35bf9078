//! W-1 residents' register (人口信息) of a community workstation.

use super::acked::row_has_unsent_entry;
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

const COLUMNS: &str = concat!(
    "r.id, r.name, r.id_number, r.sex, r.birth_date, r.phone, r.building, r.unit, r.room, \
     r.household_head, r.special_groups, r.note, r.org_unit_id, o.name, COALESCE(r._deleted, 0), \
     ",
    row_has_unsent_entry!("r.id"),
    ", \
     EXISTS (SELECT 1 FROM conflict k WHERE k.row_id = r.id)"
);

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

/// Escapes `*`, `?` and `[` for a GLOB pattern (GLOB is case-sensitive, so SQLite can answer a prefix
/// GLOB from an index where a LIKE, case-insensitive, cannot).
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out
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
        let group = query
            .group
            .map(|g| format!("%\"{}\"%", g.code()))
            .unwrap_or_default();
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        // W-1 "paging 100,000 residents stays instant" (core/benches/residents_paging.rs): the SQL holds
        // only the filters in use, so SQLite never evaluates a search that is not there; every filter
        // column is in the list index (0018), so skipping rows for a deep page or counting them never
        // reads the table; only the page's rows are read whole.
        //
        // One person index: a merged registration is not listed itself (of two registrations merged into
        // each other, the smaller id stays), but a search that matches it finds the person it was merged
        // into.
        let mut filter = String::from(
            "r.org_unit_id IN (SELECT value FROM json_each(?1)) AND (r.merged_into IS NULL OR EXISTS \
             (SELECT 1 FROM resident t WHERE t.id = r.merged_into AND t.merged_into = r.id AND r.id < t.id))",
        );
        if !query.include_deleted {
            filter.push_str(" AND COALESCE(r._deleted, 0) = 0");
        }
        if !group.is_empty() {
            filter.push_str(" AND r.special_groups LIKE ?3");
        }
        // Searching: the registrations matching the text are found first, each by the cheapest access
        // for the text's shape (resident_candidates), then filtered and ordered here.
        let candidates = if needle.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&self.resident_candidates(&scope, needle)?)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?
        };
        if !needle.is_empty() {
            filter.push_str(" AND r.id IN (SELECT value FROM json_each(:candidates))");
        }
        let order = "r.building, r.unit, r.room, r.name_initials, r.id";
        let bind = |stmt: &mut rusqlite::CachedStatement<'_>| -> rusqlite::Result<()> {
            for (name, value) in [
                (":scope", scope.as_str()),
                (":candidates", candidates.as_str()),
            ] {
                if let Some(i) = stmt.parameter_index(name)? {
                    stmt.raw_bind_parameter(i, value)?;
                }
            }
            Ok(())
        };
        let filter = filter.replace("?1", ":scope").replace("?3", ":group");
        let (total, ids) = if needle.is_empty() {
            // Browsing: count and skip along the list index, then read only the page's rows. The indexes
            // are named because a desktop store has no ANALYZE statistics: left alone, SQLite picks the
            // org index and sorts 100,000 rows for every page (0.3 s; BENCHMARKS.md).
            let count_index = if group.is_empty() {
                "resident_scope"
            } else {
                "resident_list"
            };
            let mut count = self.conn.prepare_cached(&format!(
                "SELECT COUNT(*) FROM resident r INDEXED BY {count_index} WHERE {filter}"
            ))?;
            bind(&mut count)?;
            if let Some(i) = count.parameter_index(":group")? {
                count.raw_bind_parameter(i, group.as_str())?;
            }
            let total: u32 = count
                .raw_query()
                .next()?
                .map(|r| r.get(0))
                .transpose()?
                .unwrap_or(0);
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT r.id FROM resident r INDEXED BY resident_list WHERE {filter} ORDER BY {order} LIMIT :limit OFFSET :offset"
            ))?;
            bind(&mut stmt)?;
            if let Some(i) = stmt.parameter_index(":group")? {
                stmt.raw_bind_parameter(i, group.as_str())?;
            }
            if let Some(i) = stmt.parameter_index(":limit")? {
                stmt.raw_bind_parameter(i, page_size)?;
            }
            if let Some(i) = stmt.parameter_index(":offset")? {
                stmt.raw_bind_parameter(i, (page - 1) * page_size)?;
            }
            let ids = stmt
                .raw_query()
                .mapped(|r| r.get::<_, String>(0))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            (total, ids)
        } else {
            // Searching: one pass finds every match (a search matches few of 100,000), counted and
            // paged here rather than scanning twice.
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT r.id FROM resident r WHERE {filter} ORDER BY {order}"
            ))?;
            bind(&mut stmt)?;
            if let Some(i) = stmt.parameter_index(":group")? {
                stmt.raw_bind_parameter(i, group.as_str())?;
            }
            let all = stmt
                .raw_query()
                .mapped(|r| r.get::<_, String>(0))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let total = u32::try_from(all.len()).unwrap_or(u32::MAX);
            let ids = all
                .into_iter()
                .skip(((page - 1) * page_size) as usize)
                .take(page_size as usize)
                .collect();
            (total, ids)
        };
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(resident) = self.resident_by_id(&id)? {
                items.push(self.with_merged(resident)?);
            }
        }
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }

    /// The registrations (their ids, or the id each was merged into) whose name, pinyin initials, ID
    /// number, phone or address match `needle`, within the org units of `scope` (a JSON array).
    ///
    /// W-1 at 100,000 residents: each comparison uses the cheapest access for the text's shape. Pinyin
    /// initials and ID-number prefixes are ranges of an index (GLOB is case-sensitive, so SQLite can use a
    /// BINARY index where LIKE cannot); "any part" of a name, ID number or phone is a scan of the narrow
    /// search index, never of the table (whose rows carry the field history); an address ("3-2-401",
    /// "3栋2单元") is looked up by its parts.
    pub(super) fn resident_candidates(&self, scope: &str, needle: &str) -> Result<Vec<String>> {
        let needle = needle.trim();
        let pattern = format!("%{}%", like_escape(needle));
        let digits = needle
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X');
        let mut sql: Vec<String> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        let mut arg = |value: String| {
            args.push(value);
            format!("?{}", args.len() + 1)
        };
        let target = "COALESCE(merged_into, id)";
        let scoped = "org_unit_id IN (SELECT value FROM json_each(?1))";
        // Pinyin initials from the start (also the initials of a name with kept 生僻字).
        // Issue 14 §5: initials and names are compared folded (middle dots and spaces are no characters).
        let folded = crate::search::fold_name(needle);
        let initials = arg(format!("{}*", glob_escape(&folded.to_lowercase())));
        sql.push(format!(
            "SELECT {target} FROM resident INDEXED BY resident_org WHERE {scoped} AND name_initials GLOB {initials}"
        ));
        if digits {
            let prefix = arg(format!("{}*", glob_escape(&needle.to_uppercase())));
            sql.push(format!(
                "SELECT {target} FROM resident INDEXED BY resident_id_number WHERE id_number GLOB {prefix} AND {scoped}"
            ));
            let any = arg(pattern.clone());
            sql.push(format!(
                "SELECT {target} FROM resident INDEXED BY resident_search WHERE (id_number LIKE {any} ESCAPE '\\' \
                 OR phone LIKE {any} ESCAPE '\\') AND {scoped}"
            ));
        }
        if !digits {
            // A name in any script, any part ("建华", "Smith", "买买提艾力" for 买买提·艾力).
            let any = arg(crate::search::name_pattern(needle));
            sql.push(format!(
                "SELECT {target} FROM resident INDEXED BY resident_search WHERE name_search LIKE {any} ESCAPE '\\' AND {scoped}"
            ));
        }
        // An address: "3-2-401", "3栋2单元401室", "3栋", or a bare building/room number.
        let parts: Vec<String> = needle
            .replace("号楼", "-")
            .replace(['栋', '幢'], "-")
            .replace("单元", "-")
            .replace(['室', '号'], "")
            .split('-')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let addressy = needle.contains('-')
            || ["栋", "幢", "单元", "室", "号楼"]
                .iter()
                .any(|w| needle.contains(w));
        if addressy && (1..=3).contains(&parts.len()) {
            let columns = ["building", "unit", "room"];
            let mut terms = Vec::new();
            for (column, part) in columns.iter().zip(&parts) {
                let p = arg(part.clone());
                terms.push(format!("{column} = {p}"));
            }
            sql.push(format!(
                "SELECT {target} FROM resident INDEXED BY resident_address WHERE {scoped} AND {}",
                terms.join(" AND ")
            ));
        } else if digits && needle.chars().count() <= 4 {
            let p = arg(needle.to_string());
            sql.push(format!(
                "SELECT {target} FROM resident INDEXED BY resident_address WHERE {scoped} AND (building = {p} OR room = {p})"
            ));
        }
        // A registration's own id (a merged one's finds the one it was merged into).
        let own = arg(needle.to_string());
        sql.push(format!(
            "SELECT {target} FROM resident WHERE id = {own} AND {scoped}"
        ));
        let mut stmt = self.conn.prepare_cached(&sql.join(" UNION "))?;
        stmt.raw_bind_parameter(1, scope)?;
        for (i, value) in args.iter().enumerate() {
            stmt.raw_bind_parameter(i + 2, value.as_str())?;
        }
        let ids = stmt
            .raw_query()
            .mapped(|r| r.get::<_, String>(0))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ids)
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
