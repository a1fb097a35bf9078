//! Corrections cases (C-1, C-7) and check-ins (C-16) on the local store.

use super::acked::row_has_unsent_entry;
use super::{merge_sql, Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::idcard;
use crate::lifecycle;
use crate::merge::RowVersions;
use crate::model::{
    AccessEntry, CaseDetail, CaseInput, CaseKind, CaseQuery, CaseRecord, CaseStatus, CheckinInput,
    CheckinMethod, CheckinRecord, ConflictItem, FieldChange, Page, SessionUser, SupervisionLevel,
};
use crate::search::like_escape;
use crate::shanghai;
use crate::tables::{self, TableDef, DELETED_FIELD};
use crate::transfer::TransferStatus;
use rusqlite::{params, OptionalExtension, Row};

const MAX_NAME_CHARS: usize = 50;
const MAX_NOTE_CHARS: usize = 2000;
const MAX_PAGE_SIZE: u32 = 200;

fn case_table() -> Result<&'static TableDef> {
    tables::table("corr_case").ok_or(CoreError::NotFound("table corr_case"))
}
fn checkin_table() -> Result<&'static TableDef> {
    tables::table("corr_checkin").ok_or(CoreError::NotFound("table corr_checkin"))
}

const CASE_COLUMNS: &str = concat!("c.id, c.name, c.id_number, c.sex, c.birth_date, c.kind, c.sentence_start, c.sentence_end, \
     c.org_unit_id, o.name, c.status, COALESCE(c._deleted, 0), \
     EXISTS (SELECT 1 FROM conflict k WHERE k.row_id = c.id AND NOT EXISTS ( \
       SELECT 1 FROM corr_conflict_resolution x WHERE x.id = k.id AND COALESCE(x._deleted, 0) = 0)), \
     ", row_has_unsent_entry!("c.id"), ", \
     c.judgment_effective_on, c.reported_on, c.supervision_level, COALESCE(c.sealed_minor, 0), c.address, \
     (SELECT t.status FROM corr_transfer t WHERE t.case_id = c.id AND COALESCE(t._deleted, 0) = 0 \
        AND t.status IN ('applied', 'in_transit') ORDER BY t.applied_on DESC, t.id DESC LIMIT 1), \
     (SELECT t.to_org_unit_name FROM corr_transfer t WHERE t.case_id = c.id AND COALESCE(t._deleted, 0) = 0 \
        AND t.status = 'completed' AND t.from_org_unit_id = c.org_unit_id LIMIT 1), \
     c.officer_id, (SELECT u.display_name FROM app_user u WHERE u.id = c.officer_id), c.priority_groups");

fn case_from_row(r: &Row<'_>) -> rusqlite::Result<CaseRecord> {
    let kind: Option<String> = r.get(5)?;
    let status: Option<String> = r.get(10)?;
    Ok(CaseRecord {
        id: r.get(0)?,
        name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
        id_number: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        sex: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        birth_date: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
        kind: kind
            .as_deref()
            .and_then(CaseKind::from_code)
            .unwrap_or(CaseKind::Probation),
        sentence_start: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
        sentence_end: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        org_unit_id: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
        org_unit_name: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
        status: status
            .as_deref()
            .and_then(CaseStatus::from_code)
            .unwrap_or(CaseStatus::Received),
        deleted: r.get::<_, i64>(11)? != 0,
        has_conflict: r.get(12)?,
        pending_sync: r.get(13)?,
        judgment_effective_on: r.get::<_, Option<String>>(14)?.unwrap_or_default(),
        reported_on: r.get::<_, Option<String>>(15)?.unwrap_or_default(),
        supervision_level: r
            .get::<_, Option<String>>(16)?
            .as_deref()
            .and_then(SupervisionLevel::from_code),
        sealed_minor: r.get::<_, i64>(17)? != 0,
        address: r.get::<_, Option<String>>(18)?.unwrap_or_default(),
        transfer_status: r
            .get::<_, Option<String>>(19)?
            .as_deref()
            .and_then(TransferStatus::from_code),
        transferred_out_to: r.get(20)?,
        officer_id: r.get(21)?,
        officer_name: r.get::<_, Option<String>>(22)?.unwrap_or_default(),
        priority_marks: r.get::<_, Option<String>>(23)?.unwrap_or_default(),
        priority_groups: Vec::new(),
        next_statuses: status
            .as_deref()
            .and_then(CaseStatus::from_code)
            .map(|s| lifecycle::next_statuses(s).to_vec())
            .unwrap_or_default(),
    })
}

impl Store {
    pub(super) fn require_read(&self, user: &SessionUser) -> Result<()> {
        if user.role.may_read_corrections() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "corrections records are for judicial offices only",
            ))
        }
    }

    pub(super) fn require_write(&self, user: &SessionUser) -> Result<()> {
        if user.role.may_write_corrections() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "this role cannot change corrections records",
            ))
        }
    }

    pub fn list_cases(&self, user: &SessionUser, query: &CaseQuery) -> Result<Page<CaseRecord>> {
        self.require_read(user)?;
        let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
        let page = query.page.max(1);
        let text = query.text.as_deref().map(str::trim).unwrap_or("");
        // C-7, issue 14 §5: a name is searched folded (买买提艾力 finds 买买提·艾力).
        let pattern = crate::search::name_pattern(text);
        let initials = crate::search::initials_pattern(text);
        let id_pattern = format!("%{}%", like_escape(&text.to_uppercase()));
        let scope = self.org_subtree(&user.org_unit_id)?;
        let scope_json =
            serde_json::to_string(&scope).map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let filter = "(c.org_unit_id IN (SELECT value FROM json_each(?1)) \
             OR c.id IN (SELECT t.case_id FROM corr_transfer t WHERE t.status = 'in_transit' \
               AND COALESCE(t._deleted, 0) = 0 AND t.to_org_unit_id IN (SELECT value FROM json_each(?1)))) \
             AND (?2 = '' OR c.name_search LIKE ?3 ESCAPE '\\' OR c.name_initials LIKE ?4 ESCAPE '\\' OR c.id_number LIKE ?5 ESCAPE '\\') \
             AND (?6 OR COALESCE(c._deleted, 0) = 0)";
        let total: u32 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM corr_case c WHERE {filter}"),
            params![
                scope_json,
                text,
                pattern,
                initials,
                id_pattern,
                query.include_deleted
            ],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CASE_COLUMNS} FROM corr_case c LEFT JOIN org_unit o ON o.id = c.org_unit_id \
             WHERE {filter} ORDER BY c.id DESC LIMIT ?7 OFFSET ?8"
        ))?;
        let items = stmt
            .query_map(
                params![
                    scope_json,
                    text,
                    pattern,
                    initials,
                    id_pattern,
                    query.include_deleted,
                    page_size,
                    (page - 1) * page_size
                ],
                case_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(|case| self.with_derived(case))
            .collect::<Result<Vec<_>>>()?;
        // L-12: a sealed minor's identity stays secret from readers outside the corrections line.
        let items = if !crate::permissions::may(
            user.role,
            crate::permissions::Area::SealedMinors,
            crate::permissions::Access::Read,
        ) {
            items.into_iter().map(mask_sealed).collect()
        } else {
            items
        };
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }

    fn case_by_id(&self, id: &str) -> Result<Option<CaseRecord>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {CASE_COLUMNS} FROM corr_case c LEFT JOIN org_unit o ON o.id = c.org_unit_id WHERE c.id = ?1"
            ))?
            .query_row([id], case_from_row)
            .optional()?
            .map(|case| self.with_derived(case))
            .transpose()
    }

    /// C-2: fills in the priority groups that follow from the data as of today.
    fn with_derived(&self, mut case: CaseRecord) -> Result<CaseRecord> {
        let today = shanghai::today(self.corrected_wall_millis()?);
        case.priority_groups = crate::casefile::priority_groups(
            &case.sex,
            &case.birth_date,
            &case.sentence_start,
            &case.priority_marks,
            today,
        );
        Ok(case)
    }

    /// C-2: the groups the office marks by hand (the others follow from the case's data).
    pub fn set_priority_groups(
        &mut self,
        user: &SessionUser,
        case_id: &str,
        groups: &[crate::casefile::PriorityGroup],
    ) -> Result<CaseRecord> {
        let case = self.case_for_write(user, case_id)?;
        if let Some(derived) = groups
            .iter()
            .find(|g| !crate::casefile::PriorityGroup::MARKED.contains(g))
        {
            return Err(CoreError::invalid(
                "priority_groups",
                format!("{} follows from the case's data", derived.code()),
                "未成年人、老年人、女性由身份证号和日期自动判断，不能手工标记",
            ));
        }
        let mut codes: Vec<&str> = groups.iter().map(|g| g.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        self.write_row(
            &user.user_id,
            case_table()?,
            &case.id,
            &case.org_unit_id,
            &[WriteChange::new("priority_groups", codes.join(","))],
        )?;
        self.case_by_id(&case.id)?
            .ok_or(CoreError::NotFound("case"))
    }

    pub(super) fn case_in_scope(&self, user: &SessionUser, id: &str) -> Result<CaseRecord> {
        let Some(case) = self.case_by_id(id)? else {
            return Err(self
                .handed_over_error(id)?
                .unwrap_or(CoreError::NotFound("case")));
        };
        // L-6: an office receiving a case in transfer reads it before the handover completes.
        if !self.is_within(&case.org_unit_id, &user.org_unit_id)?
            && !self.in_transfer_to(&case.id, &user.org_unit_id)?
        {
            return Err(CoreError::NotFound("case"));
        }
        Ok(case)
    }

    /// Opens a case for a person: like [`Store::get_case`], and a read of a sealed minor's record (L-12)
    /// or any read by the procuratorate's auditor (C-24, issue 11 §6) is logged first, as an
    /// append-only operation that syncs to the office and the district.
    pub fn read_case(&mut self, user: &SessionUser, id: &str) -> Result<CaseDetail> {
        self.require_read(user)?;
        let case = self.case_in_scope(user, id)?;
        if crate::read_log::logs_case_read(user.role, case.sealed_minor) {
            let def = tables::table("corr_access_log")
                .ok_or(CoreError::NotFound("table corr_access_log"))?;
            let at = shanghai::from_millis(self.corrected_wall_millis()?).to_rfc3339();
            // An office reading a case in transfer (L-6) logs the read in its own scope: it may not
            // write the sending office's records.
            let scope = if self.is_within(&case.org_unit_id, &user.org_unit_id)? {
                case.org_unit_id.clone()
            } else {
                user.org_unit_id.clone()
            };
            self.write_row(
                &user.user_id,
                def,
                &uuid::Uuid::now_v7().to_string(),
                &scope,
                &[
                    WriteChange::new("org_unit_id", scope.clone()),
                    WriteChange::new("case_id", case.id.clone()),
                    WriteChange::new("user_id", user.user_id.clone()),
                    WriteChange::new("user_name", user.display_name.clone()),
                    WriteChange::new("accessed_at", at),
                ],
            )?;
        }
        self.get_case(user, id)
    }

    fn access_log_of(&self, case_id: &str) -> Result<Vec<AccessEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT user_name, accessed_at FROM corr_access_log WHERE case_id = ?1 ORDER BY accessed_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            Ok(AccessEntry {
                user_name: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                accessed_at: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn get_case(&self, user: &SessionUser, id: &str) -> Result<CaseDetail> {
        self.require_read(user)?;
        let case = self.case_in_scope(user, id)?;
        let checkins = self.checkins_of(id)?;
        let versions = merge_sql::load_versions(&self.conn, case_table()?, id)?.unwrap_or_default();
        let entries = self.entries_of(id)?;
        let compliance = self.compliance_of(&case, &entries)?;
        let discipline =
            crate::supervision::discipline_status(&entries, &self.supervision_rules()?);
        let persons = self.persons_of(id)?;
        let plan = self.plan_of(id)?;
        let file_checks =
            crate::casefile::file_checks(case.status, &case.sex, &persons, plan.as_ref());
        Ok(CaseDetail {
            case,
            checkins,
            history: self.history_of(&versions)?,
            entries,
            compliance,
            discipline,
            leaves: self.leaves_of(id)?,
            assessments: self.assessments_of(id)?,
            access_log: self.access_log_of(id)?,
            conflicts: self.conflicts_of(id)?,
            file_checks,
            persons,
            plan,
            documents: self.documents_of(id)?,
            location_periods: self.location_periods_of(id)?,
            transfers: self.transfers_of(id)?,
            location_events: self.location_events_of(id)?,
        })
    }

    /// Creates (input.id = None) or edits a case. Only changed fields are logged.
    pub fn save_case(&mut self, user: &SessionUser, input: CaseInput) -> Result<CaseRecord> {
        self.require_write(user)?;
        let name = input.name.trim().to_string();
        if name.is_empty() {
            return Err(CoreError::invalid("name", "name is empty", "姓名不能为空"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(CoreError::invalid(
                "name",
                "name is too long",
                "姓名过长（最多50个字）",
            ));
        }
        let id_number = idcard::parse(&input.id_number)?;
        let start = shanghai::parse_date(&input.sentence_start).ok_or_else(|| {
            CoreError::invalid(
                "sentence_start",
                "start date must be YYYY-MM-DD",
                "矫正起始日期格式应为YYYY-MM-DD",
            )
        })?;
        let end = shanghai::parse_date(&input.sentence_end).ok_or_else(|| {
            CoreError::invalid(
                "sentence_end",
                "end date must be YYYY-MM-DD",
                "矫正结束日期格式应为YYYY-MM-DD",
            )
        })?;
        if end <= start {
            return Err(CoreError::invalid(
                "sentence_end",
                "the correction period must end after it starts",
                "矫正结束日期必须晚于起始日期",
            ));
        }
        if start < id_number.birth_date {
            return Err(CoreError::invalid(
                "sentence_start",
                "the correction period starts before the birth date",
                "矫正起始日期早于出生日期，请核对",
            ));
        }
        let existing = match &input.id {
            Some(id) => Some(self.case_for_write(user, id)?),
            None => None,
        };
        let org_unit_id = input
            .org_unit_id
            .clone()
            .or_else(|| existing.as_ref().map(|c| c.org_unit_id.clone()))
            .unwrap_or_else(|| user.org_unit_id.clone());
        if !self.is_within(&org_unit_id, &user.org_unit_id)? {
            return Err(CoreError::Forbidden(
                "the case's org unit is outside your office",
            ));
        }
        if let Some(case) = &existing {
            if case.org_unit_id != org_unit_id {
                // L-6: moving a case between offices is the explicit two-phase transfer, not an edit.
                return Err(CoreError::invalid(
                    "org_unit_id",
                    "use a transfer to move a case to another office",
                    "变更执行地须走交接流程，不能直接修改所属单位",
                ));
            }
        }
        self.refuse_duplicate_active_case(&id_number.number, input.id.as_deref())?;
        // L-11: a kind the district switched off takes no new case (existing cases keep theirs).
        let kind_changes = existing.as_ref().is_none_or(|c| c.kind != input.kind);
        if kind_changes && self.disabled_case_kinds()?.contains(&input.kind) {
            return Err(CoreError::invalid(
                "kind",
                "the district no longer takes cases of this kind (L-11)",
                "区司法局已停用该矫正类别（L-11：剥夺政治权利由公安机关执行），不能新登记此类案件",
            ));
        }
        let status = input
            .status
            .or(existing.as_ref().map(|c| c.status))
            .unwrap_or(CaseStatus::Received);
        match &existing {
            Some(case) => {
                let today = shanghai::today(self.corrected_wall_millis()?);
                lifecycle::check_transition(case.status, status, end, today)?;
                if status != case.status {
                    self.refuse_without_documents(case, status)?;
                }
            }
            None if !lifecycle::may_start_in(status) => {
                return Err(CoreError::invalid(
                    "status",
                    "a new case cannot start in an ended status",
                    "新建案件不能直接处于已结束状态",
                ));
            }
            None => {}
        }
        let today = shanghai::today(self.corrected_wall_millis()?);
        let judgment_effective_on = optional_date(
            input.judgment_effective_on.as_deref(),
            "judgment_effective_on",
            "判决（裁定）生效日期格式应为YYYY-MM-DD",
        )?
        .or_else(|| {
            existing
                .as_ref()
                .and_then(|c| shanghai::parse_date(&c.judgment_effective_on))
        });
        let mut reported_on = optional_date(
            input.reported_on.as_deref(),
            "reported_on",
            "报到日期格式应为YYYY-MM-DD",
        )?
        .or_else(|| {
            existing
                .as_ref()
                .and_then(|c| shanghai::parse_date(&c.reported_on))
        });
        // C-5: the day of reporting is recorded with the status change when the officer gives none.
        if reported_on.is_none()
            && matches!(status, CaseStatus::Reported | CaseStatus::InCorrection)
        {
            reported_on = Some(today);
        }
        for (date, field, zh) in [
            (
                judgment_effective_on,
                "judgment_effective_on",
                "判决（裁定）生效日期不能晚于今天",
            ),
            (reported_on, "reported_on", "报到日期不能晚于今天"),
        ] {
            if date.is_some_and(|d| d > today) {
                return Err(CoreError::invalid(field, "the date is in the future", zh));
            }
        }
        if let (Some(effective), Some(reported)) = (judgment_effective_on, reported_on) {
            if reported < effective {
                return Err(CoreError::invalid(
                    "reported_on",
                    "reporting cannot precede the judgment taking effect",
                    "报到日期不能早于判决（裁定）生效日期",
                ));
            }
        }
        let supervision_level = input
            .supervision_level
            .or(existing.as_ref().and_then(|c| c.supervision_level));
        let address = match &input.address {
            Some(a) => a.trim().to_string(),
            None => existing
                .as_ref()
                .map(|c| c.address.clone())
                .unwrap_or_default(),
        };
        if address.chars().count() > 200 {
            return Err(CoreError::invalid(
                "address",
                "address is too long",
                "居住地址过长（最多200字）",
            ));
        }
        let sealed_minor = input
            .sealed_minor
            .unwrap_or_else(|| existing.as_ref().is_some_and(|c| c.sealed_minor));
        let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        let id = input
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let mut changes = vec![
            WriteChange::new("judgment_effective_on", day(judgment_effective_on)),
            WriteChange::new("reported_on", day(reported_on)),
            WriteChange::new("supervision_level", supervision_level.map(|l| l.code())),
            WriteChange::new("sealed_minor", sealed_minor),
            WriteChange::new("address", (!address.is_empty()).then_some(address)),
            WriteChange::new("org_unit_id", org_unit_id.clone()),
            WriteChange::new("name", name),
            WriteChange::new("id_number", id_number.number.clone()),
            WriteChange::new("sex", id_number.sex_code()),
            WriteChange::new(
                "birth_date",
                id_number.birth_date.format("%Y-%m-%d").to_string(),
            ),
            WriteChange::new("kind", input.kind.code()),
            WriteChange::new("sentence_start", start.format("%Y-%m-%d").to_string()),
            WriteChange::new("sentence_end", end.format("%Y-%m-%d").to_string()),
            WriteChange::new("status", status.code()),
        ];
        // An officer registering a case is responsible for it until someone else is assigned.
        if existing.is_none() && user.role == crate::model::Role::JudicialOfficer {
            changes.push(WriteChange::new("officer_id", user.user_id.clone()));
        }
        self.write_row(&user.user_id, case_table()?, &id, &org_unit_id, &changes)?;
        self.case_by_id(&id)?.ok_or(CoreError::NotFound("case"))
    }

    /// The officers of the user's office who can be made responsible for a case.
    pub fn office_officers(&self, user: &SessionUser) -> Result<Vec<crate::model::OrgUnitRef>> {
        self.require_read(user)?;
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, display_name FROM app_user WHERE role IN ('judicial_officer', 'office_head') \
             AND COALESCE(_deleted, 0) = 0 AND org_unit_id IN (SELECT value FROM json_each(?1)) \
             ORDER BY display_name",
        )?;
        let rows = stmt.query_map([scope], |r| {
            Ok(crate::model::OrgUnitRef {
                id: r.get(0)?,
                name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Makes an officer of the case's office responsible for it (None: nobody in particular).
    pub fn assign_officer(
        &mut self,
        user: &SessionUser,
        case_id: &str,
        officer_id: Option<&str>,
    ) -> Result<CaseRecord> {
        let case = self.case_for_write(user, case_id)?;
        if let Some(officer) = officer_id {
            let known = self
                .office_officers(user)?
                .into_iter()
                .any(|o| o.id == officer);
            if !known {
                return Err(CoreError::invalid(
                    "officer_id",
                    "not an officer of this office",
                    "只能指定本司法所的矫正工作人员",
                ));
            }
        }
        self.write_row(
            &user.user_id,
            case_table()?,
            &case.id,
            &case.org_unit_id,
            &[WriteChange::new(
                "officer_id",
                officer_id.map(str::to_string),
            )],
        )?;
        self.case_by_id(&case.id)?
            .ok_or(CoreError::NotFound("case"))
    }

    /// C-17, L-9, L-10: an ending rests on documents on file (core::casefile::documents_missing_for).
    fn refuse_without_documents(&self, case: &CaseRecord, to: CaseStatus) -> Result<()> {
        let on_file: Vec<_> = self
            .documents_of(&case.id)?
            .into_iter()
            .map(|d| d.doc_type)
            .collect();
        let Some((missing, rule)) = crate::casefile::documents_missing_for(to, case.kind, &on_file)
        else {
            return Ok(());
        };
        let zh: Vec<&str> = missing.iter().map(|d| d.label_zh()).collect();
        let en: Vec<&str> = missing.iter().map(|d| d.code()).collect();
        let (joiner_zh, joiner_en) = if to == CaseStatus::Released {
            ("、", " and ")
        } else {
            ("或", " or ")
        };
        Err(CoreError::invalid(
            "status",
            format!("{rule}: record {} first", en.join(joiner_en)),
            format!(
                "请先登记{}（{rule}），再将案件改为“{}”。",
                zh.join(joiner_zh),
                lifecycle::status_label_zh(to)
            ),
        ))
    }

    fn refuse_duplicate_active_case(&self, id_number: &str, own_id: Option<&str>) -> Result<()> {
        let other: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM corr_case WHERE id_number = ?1 AND COALESCE(_deleted, 0) = 0 \
                 AND status NOT IN ('released', 'revoked', 'terminated') AND id IS NOT ?2 LIMIT 1",
                params![id_number, own_id],
                |r| r.get(0),
            )
            .optional()?;
        match other {
            Some(_) => Err(CoreError::DuplicateCase(id_number.to_string())),
            None => Ok(()),
        }
    }

    /// Marks a case deleted. Reversible with [`Store::restore_case`]; nothing is removed.
    pub fn delete_case(&mut self, user: &SessionUser, id: &str) -> Result<CaseRecord> {
        self.set_case_deleted(user, id, true)
    }

    pub fn restore_case(&mut self, user: &SessionUser, id: &str) -> Result<CaseRecord> {
        self.set_case_deleted(user, id, false)
    }

    fn set_case_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<CaseRecord> {
        self.require_write(user)?;
        let case = self.case_for_write(user, id)?;
        if !deleted {
            self.refuse_duplicate_active_case(&case.id_number, Some(id))?;
        }
        self.write_row(
            &user.user_id,
            case_table()?,
            id,
            &case.org_unit_id,
            &[WriteChange::new(DELETED_FIELD, deleted)],
        )?;
        self.case_by_id(id)?.ok_or(CoreError::NotFound("case"))
    }

    /// C-16: records a check-in. Append-only: entries are never edited.
    pub fn add_checkin(
        &mut self,
        user: &SessionUser,
        input: CheckinInput,
    ) -> Result<CheckinRecord> {
        self.require_write(user)?;
        let case = self.case_for_write(user, &input.case_id)?;
        if case.deleted {
            return Err(CoreError::invalid(
                "case_id",
                "the case is deleted",
                "该案件已删除，不能登记报到",
            ));
        }
        let occurred_at = shanghai::normalise_datetime(&input.occurred_at).ok_or_else(|| {
            CoreError::invalid(
                "occurred_at",
                "time must be RFC 3339 or YYYY-MM-DD HH:MM",
                "报到时间格式不正确",
            )
        })?;
        let note = input.note.trim().to_string();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(CoreError::invalid(
                "note",
                "note is too long",
                "备注过长（最多2000字）",
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            checkin_table()?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("occurred_at", occurred_at),
                WriteChange::new("method", input.method.code()),
                WriteChange::new("note", note),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.checkins_of(&case.id)?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(CoreError::NotFound("check-in"))
    }

    pub(super) fn checkins_of(&self, case_id: &str) -> Result<Vec<CheckinRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, case_id, occurred_at, method, note, recorded_by FROM corr_checkin \
             WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY occurred_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            let method: Option<String> = r.get(3)?;
            Ok(CheckinRecord {
                id: r.get(0)?,
                case_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                occurred_at: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                method: method
                    .as_deref()
                    .and_then(CheckinMethod::from_code)
                    .unwrap_or(CheckinMethod::InPerson),
                note: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                recorded_by: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn conflicts_of(&self, row_id: &str) -> Result<Vec<ConflictItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, tbl, row_id, field, newer_json, older_json FROM conflict k WHERE row_id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM corr_conflict_resolution x WHERE x.id = k.id AND COALESCE(x._deleted, 0) = 0) \
             ORDER BY field, id",
        )?;
        let rows = stmt.query_map([row_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut items = Vec::new();
        for row in rows {
            let (id, table, row_id, field, newer, older) = row?;
            let newer: crate::merge::FieldVersion =
                serde_json::from_str(&newer).map_err(|e| CoreError::Corrupt(e.to_string()))?;
            let older: crate::merge::FieldVersion =
                serde_json::from_str(&older).map_err(|e| CoreError::Corrupt(e.to_string()))?;
            items.push(ConflictItem {
                id,
                table,
                row_id,
                field,
                winner_value: display_value(newer.value()),
                winner_site: newer.1.clone(),
                winner_site_name: self.site_label(&newer.1)?,
                other_value: display_value(older.value()),
                other_site: older.1.clone(),
                other_site_name: self.site_label(&older.1)?,
            });
        }
        Ok(items)
    }

    /// Open conflict items of the whole store (D-3 review list).
    pub fn conflict_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM conflict", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

/// Parses an optional YYYY-MM-DD field; empty means "not given".
fn optional_date(
    text: Option<&str>,
    field: &'static str,
    zh: &str,
) -> Result<Option<chrono::NaiveDate>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => shanghai::parse_date(t)
            .map(Some)
            .ok_or_else(|| CoreError::invalid(field, "date must be YYYY-MM-DD", zh)),
    }
}

fn mask_sealed(mut case: CaseRecord) -> CaseRecord {
    if case.sealed_minor {
        let first: String = case.name.chars().take(1).collect();
        case.name = format!("{first}＊＊");
        let keep: String = case.id_number.chars().take(6).collect();
        case.id_number = format!("{keep}＊＊＊＊＊＊＊＊＊＊＊＊");
    }
    case
}

fn display_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Store {
    /// Every version of every field, oldest first (DOMAIN.md: every change keeps who, where, when).
    pub(super) fn history_of(&self, row: &RowVersions) -> Result<Vec<FieldChange>> {
        let own_site = self.identity()?.map(|i| i.site_id).unwrap_or_default();
        let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut site_names: std::collections::HashMap<String, String> =
            std::collections::HashMap::new();
        let mut changes = Vec::new();
        for (field, versions) in &row.fields {
            for v in versions {
                let user_name = match names.get(v.user()) {
                    Some(name) => name.clone(),
                    None => {
                        let name = self
                            .user_display_name(v.user())?
                            .unwrap_or_else(|| v.user().to_string());
                        names.insert(v.user().to_string(), name.clone());
                        name
                    }
                };
                let raw = display_value(v.value());
                let value = if field == "org_unit_id" {
                    self.org_unit_name(&raw)?.unwrap_or(raw)
                } else {
                    raw
                };
                let site_name = match site_names.get(&v.1) {
                    Some(name) => name.clone(),
                    None => {
                        let name = self.site_label(&v.1)?;
                        site_names.insert(v.1.clone(), name.clone());
                        name
                    }
                };
                changes.push(FieldChange {
                    field: field.clone(),
                    value,
                    written_at: shanghai::from_millis(v.0.millis())
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    hlc: v.0.to_string(),
                    site_id: v.1.clone(),
                    site_name,
                    own_site: v.1 == own_site,
                    user_id: v.user().to_string(),
                    user_name,
                });
            }
        }
        changes.sort_by(|a, b| a.hlc.cmp(&b.hlc).then(a.field.cmp(&b.field)));
        Ok(changes)
    }
}
