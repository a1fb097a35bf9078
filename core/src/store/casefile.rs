//! The case file's people, plan and documents on the local store (core::casefile has the rules).

use super::{merge_sql, Store, WriteChange};
use crate::casefile::{
    CasePlan, CasePlanInput, DocumentInput, DocumentRecord, DocumentType, GuarantorKind,
    PersonInput, PersonRecord, PersonRole, TeamRole,
};
use crate::error::{CoreError, Result};
use crate::model::{CaseRecord, FieldChange, SessionUser};
use crate::shanghai;
use crate::tables::{self, TableDef};

const MAX_NAME_CHARS: usize = 50;
const MAX_SHORT_CHARS: usize = 100;
const MAX_TEXT_CHARS: usize = 5000;

/// The mutable case-file tables whose field history the case screen shows per record.
const HISTORY_TABLES: [&str; 5] = [
    "corr_person",
    "corr_plan",
    "corr_document",
    "corr_leave",
    "corr_location_period",
];

fn table(name: &'static str) -> Result<&'static TableDef> {
    tables::table(name).ok_or(CoreError::NotFound("table"))
}

fn bounded(text: &str, max: usize, field: &'static str, zh: &'static str) -> Result<String> {
    super::input::optional(text, max, field, zh)
}

fn date_field(text: &str, field: &'static str, zh: &'static str) -> Result<String> {
    shanghai::parse_date(text.trim())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or_else(|| CoreError::invalid(field, "date must be YYYY-MM-DD", zh))
}

fn optional_date_field(text: &str, field: &'static str, zh: &'static str) -> Result<String> {
    if text.trim().is_empty() {
        Ok(String::new())
    } else {
        date_field(text, field, zh)
    }
}

/// "HH:MM", 00:00–23:59.
fn time_field(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .map(|t| t.format("%H:%M").to_string())
        .map_err(|_| {
            CoreError::invalid(
                "time_of_day",
                "time must be HH:MM",
                "时间格式应为HH:MM（24小时制）",
            )
        })
}

impl Store {
    /// A case the user may write, and which is still open to new file entries.
    fn writable_case(&self, user: &SessionUser, case_id: &str) -> Result<CaseRecord> {
        self.require_write(user)?;
        let case = self.case_for_write(user, case_id)?;
        if case.deleted {
            return Err(CoreError::invalid(
                "case_id",
                "the case is deleted",
                "该案件已删除，不能登记",
            ));
        }
        Ok(case)
    }

    /// Adds or edits a family member, social relation, team member or volunteer (C-7, C-8, C-22).
    pub fn save_person(&mut self, user: &SessionUser, input: PersonInput) -> Result<PersonRecord> {
        let case = self.writable_case(user, &input.case_id)?;
        let name = bounded(&input.name, MAX_NAME_CHARS, "name", "姓名过长（最多50字）")?;
        if name.is_empty() {
            return Err(CoreError::invalid("name", "name is empty", "姓名不能为空"));
        }
        let sex = match input.sex.trim() {
            "" => "",
            "male" => "male",
            "female" => "female",
            _ => {
                return Err(CoreError::invalid(
                    "sex",
                    "sex must be male, female or empty",
                    "性别只能为男、女或不填",
                ))
            }
        };
        let team_role = match (input.role, input.team_role) {
            (PersonRole::TeamMember, Some(r)) => Some(r.code()),
            (PersonRole::TeamMember, None) => {
                return Err(CoreError::invalid(
                    "team_role",
                    "a team member needs a seat on the team",
                    "请选择该成员在矫正小组中的身份",
                ))
            }
            (_, _) => None,
        };
        // L-4 counts the women on the team, so a team member's sex must be known.
        if input.role == PersonRole::TeamMember && sex.is_empty() {
            return Err(CoreError::invalid(
                "sex",
                "a team member's sex is needed for L-4",
                "请填写矫正小组成员的性别（女性对象的小组须有女性成员）",
            ));
        }
        let relation = bounded(
            &input.relation,
            MAX_SHORT_CHARS,
            "relation",
            "关系过长（最多100字）",
        )?;
        let phone = bounded(&input.phone, 40, "phone", "电话过长")?;
        if !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ' | '(' | ')'))
        {
            return Err(CoreError::invalid(
                "phone",
                "phone may hold digits, spaces and - + ( ) only",
                "电话号码只能包含数字、空格和 - + ( )",
            ));
        }
        let work_unit = bounded(
            &input.work_unit,
            MAX_SHORT_CHARS,
            "work_unit",
            "工作单位过长（最多100字）",
        )?;
        let note = bounded(&input.note, MAX_TEXT_CHARS, "note", "备注过长")?;
        let id = match &input.id {
            Some(id) => {
                let existing = self.person_by_id(id)?;
                if existing.case_id != case.id {
                    return Err(CoreError::NotFound("person"));
                }
                id.clone()
            }
            None => uuid::Uuid::now_v7().to_string(),
        };
        self.write_row(
            &user.user_id,
            table("corr_person")?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("role", input.role.code()),
                WriteChange::new("team_role", team_role),
                WriteChange::new("name", name),
                WriteChange::new("sex", sex),
                WriteChange::new("relation", relation),
                WriteChange::new("phone", phone),
                WriteChange::new("work_unit", work_unit),
                WriteChange::new("note", note),
            ],
        )?;
        self.person_by_id(&id)
    }

    /// Removes a person from the file, reversibly.
    pub fn set_person_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<()> {
        let (case_id, _) = self.row_case("corr_person", id)?;
        let case = self.writable_case(user, &case_id)?;
        if deleted
            && self
                .plan_of(&case.id)?
                .and_then(|p| p.guarantor_person_id)
                .as_deref()
                == Some(id)
        {
            return Err(CoreError::invalid(
                "id",
                "this person signed the supervision agreement",
                "此人是监督管理协议的签订人，请先在矫正方案中更换签订人",
            ));
        }
        self.write_row(
            &user.user_id,
            table("corr_person")?,
            id,
            &case.org_unit_id,
            &[WriteChange::new(tables::DELETED_FIELD, deleted)],
        )?;
        Ok(())
    }

    fn person_by_id(&self, id: &str) -> Result<PersonRecord> {
        self.persons_where("id = ?1", id)?
            .into_iter()
            .next()
            .ok_or(CoreError::NotFound("person"))
    }

    pub(super) fn persons_of(&self, case_id: &str) -> Result<Vec<PersonRecord>> {
        self.persons_where("case_id = ?1 AND COALESCE(_deleted, 0) = 0", case_id)
    }

    fn persons_where(&self, condition: &str, arg: &str) -> Result<Vec<PersonRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, case_id, role, team_role, name, sex, relation, phone, work_unit, note \
             FROM corr_person WHERE {condition} ORDER BY role, id"
        ))?;
        let rows = stmt.query_map([arg], |r| {
            let text = |i: usize| -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
            };
            Ok((
                text(2)?,
                PersonRecord {
                    id: text(0)?,
                    case_id: text(1)?,
                    role: PersonRole::Family,
                    team_role: TeamRole::from_code(&text(3)?),
                    name: text(4)?,
                    sex: text(5)?,
                    relation: text(6)?,
                    phone: text(7)?,
                    work_unit: text(8)?,
                    note: text(9)?,
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (role, mut person) = row?;
            // A row still arriving through sync may lack its role: skip it until it is whole.
            let Some(role) = PersonRole::from_code(&role) else {
                continue;
            };
            person.role = role;
            out.push(person);
        }
        Ok(out)
    }

    /// C-8 correction plan and C-9 supervision agreement (one row per case, edited field by field).
    pub fn save_plan(&mut self, user: &SessionUser, input: CasePlanInput) -> Result<CasePlan> {
        let case = self.writable_case(user, &input.case_id)?;
        let plan_text = bounded(
            &input.plan_text,
            MAX_TEXT_CHARS,
            "plan_text",
            "矫正方案过长（最多5000字）",
        )?;
        let made_on =
            optional_date_field(&input.made_on, "made_on", "方案制定日期格式应为YYYY-MM-DD")?;
        if !plan_text.is_empty() && made_on.is_empty() {
            return Err(CoreError::invalid(
                "made_on",
                "the plan needs the day it was made",
                "请填写矫正方案的制定日期",
            ));
        }
        let signed_on = optional_date_field(
            &input.agreement_signed_on,
            "agreement_signed_on",
            "协议签订日期格式应为YYYY-MM-DD",
        )?;
        let today = shanghai::today(self.corrected_wall_millis()?)
            .format("%Y-%m-%d")
            .to_string();
        if made_on > today || signed_on > today {
            return Err(CoreError::invalid(
                "made_on",
                "dates may not lie in the future",
                "日期不能晚于今天",
            ));
        }
        let guarantor = match &input.guarantor_person_id {
            Some(pid) if !pid.is_empty() => {
                let person = self.person_by_id(pid)?;
                if person.case_id != case.id {
                    return Err(CoreError::NotFound("person"));
                }
                Some(person)
            }
            _ => None,
        };
        let agreement_parts = [
            !signed_on.is_empty(),
            guarantor.is_some(),
            input.guarantor_kind.is_some(),
        ];
        if agreement_parts.iter().any(|p| *p) && !agreement_parts.iter().all(|p| *p) {
            return Err(CoreError::invalid(
                "agreement_signed_on",
                "an agreement needs its date, the signer and the signer's standing",
                "监督管理协议须同时填写签订日期、签订人和签订人身份",
            ));
        }
        // C-9: relatives sign as relatives: the standing must fit a family member or relation on file.
        if let (Some(person), Some(kind)) = (&guarantor, input.guarantor_kind) {
            let relative_kind = matches!(
                kind,
                GuarantorKind::DirectRelative | GuarantorKind::CloseRelative
            );
            if relative_kind && !matches!(person.role, PersonRole::Family | PersonRole::Relation) {
                return Err(CoreError::invalid(
                    "guarantor_person_id",
                    "a relative signer must be a family member or relation on the file",
                    "以亲属身份签订协议的，须是档案中登记的家庭成员或社会关系",
                ));
            }
        }
        self.write_row(
            &user.user_id,
            table("corr_plan")?,
            &case.id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("plan_text", plan_text),
                WriteChange::new("made_on", made_on),
                WriteChange::new("made_with_police", input.made_with_police),
                WriteChange::new("agreement_signed_on", signed_on),
                WriteChange::new("guarantor_person_id", guarantor.map(|p| p.id)),
                WriteChange::new("guarantor_kind", input.guarantor_kind.map(|k| k.code())),
            ],
        )?;
        self.plan_of(&case.id)?.ok_or(CoreError::NotFound("plan"))
    }

    pub(super) fn plan_of(&self, case_id: &str) -> Result<Option<CasePlan>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT plan_text, made_on, COALESCE(made_with_police, 0), agreement_signed_on, \
                 guarantor_person_id, guarantor_kind FROM corr_plan \
                 WHERE id = ?1 AND COALESCE(_deleted, 0) = 0",
            )?
            .query_row([case_id], |r| {
                let text = |i: usize| -> rusqlite::Result<String> {
                    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
                };
                Ok(CasePlan {
                    case_id: case_id.to_string(),
                    plan_text: text(0)?,
                    made_on: text(1)?,
                    made_with_police: r.get::<_, i64>(2)? != 0,
                    agreement_signed_on: text(3)?,
                    guarantor_person_id: r.get(4)?,
                    guarantor_kind: GuarantorKind::from_code(&text(5)?),
                })
            })
            .optional()?)
    }

    /// Records a legal document received or issued (C-3..C-5, L-1, L-9, C-17, C-18, L-10, C-20).
    pub fn save_document(
        &mut self,
        user: &SessionUser,
        input: DocumentInput,
    ) -> Result<DocumentRecord> {
        let case = self.writable_case(user, &input.case_id)?;
        let dated_on = date_field(&input.dated_on, "dated_on", "文书日期格式应为YYYY-MM-DD")?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        if shanghai::parse_date(&dated_on).is_some_and(|d| d > today) {
            return Err(CoreError::invalid(
                "dated_on",
                "the date is in the future",
                "文书日期不能晚于今天",
            ));
        }
        let time_of_day = time_field(&input.time_of_day)?;
        if input.doc_type.needs_time_of_day() && time_of_day.is_empty() {
            return Err(CoreError::invalid(
                "time_of_day",
                "the 48-hour arrest clock needs the time the request went out",
                "提请逮捕须填写提请时间（人民法院应在四十八小时内作出决定）",
            ));
        }
        let doc_no = bounded(&input.doc_no, MAX_SHORT_CHARS, "doc_no", "文号过长")?;
        let counterpart = bounded(
            &input.counterpart,
            MAX_SHORT_CHARS,
            "counterpart",
            "发文（送达）单位过长",
        )?;
        let note = bounded(&input.note, MAX_TEXT_CHARS, "note", "备注过长")?;
        let id = match &input.id {
            Some(id) => {
                let (owner, _) = self.row_case("corr_document", id)?;
                if owner != case.id {
                    return Err(CoreError::NotFound("document"));
                }
                id.clone()
            }
            None => uuid::Uuid::now_v7().to_string(),
        };
        self.write_row(
            &user.user_id,
            table("corr_document")?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("doc_type", input.doc_type.code()),
                WriteChange::new("doc_no", doc_no),
                WriteChange::new("counterpart", counterpart),
                WriteChange::new("dated_on", dated_on),
                WriteChange::new("time_of_day", time_of_day),
                WriteChange::new("note", note),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.documents_of(&case.id)?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(CoreError::NotFound("document"))
    }

    /// Marks a document entered in error, reversibly. A document an ended case rests on stays.
    pub fn set_document_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<()> {
        let (case_id, _) = self.row_case("corr_document", id)?;
        let case = self.writable_case(user, &case_id)?;
        if deleted && crate::lifecycle::is_final(case.status) {
            return Err(CoreError::invalid(
                "id",
                "the case has ended on these documents",
                "案件已结束，其依据的文书不能删除",
            ));
        }
        self.write_row(
            &user.user_id,
            table("corr_document")?,
            id,
            &case.org_unit_id,
            &[WriteChange::new(tables::DELETED_FIELD, deleted)],
        )?;
        Ok(())
    }

    pub(super) fn documents_of(&self, case_id: &str) -> Result<Vec<DocumentRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, doc_type, doc_no, counterpart, dated_on, time_of_day, note, recorded_by \
             FROM corr_document WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 \
             ORDER BY dated_on, time_of_day, id",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            let text = |i: usize| -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
            };
            Ok([
                text(0)?,
                text(1)?,
                text(2)?,
                text(3)?,
                text(4)?,
                text(5)?,
                text(6)?,
                text(7)?,
            ])
        })?;
        let mut out = Vec::new();
        for row in rows {
            let [id, doc_type, doc_no, counterpart, dated_on, time_of_day, note, recorded_by] =
                row?;
            let Some(doc_type) = DocumentType::from_code(&doc_type) else {
                continue;
            };
            if dated_on.is_empty() {
                continue;
            }
            out.push(DocumentRecord {
                id,
                case_id: case_id.to_string(),
                doc_type,
                stage: doc_type.stage(),
                doc_no,
                counterpart,
                dated_on,
                time_of_day,
                note,
                recorded_by,
            });
        }
        Ok(out)
    }

    /// The case id a case-file row belongs to, and whether it is deleted.
    fn row_case(&self, table_name: &str, id: &str) -> Result<(String, bool)> {
        use rusqlite::OptionalExtension;
        let sql = match table_name {
            "corr_person" => "SELECT case_id, COALESCE(_deleted, 0) FROM corr_person WHERE id = ?1",
            "corr_plan" => "SELECT case_id, COALESCE(_deleted, 0) FROM corr_plan WHERE id = ?1",
            "corr_document" => {
                "SELECT case_id, COALESCE(_deleted, 0) FROM corr_document WHERE id = ?1"
            }
            "corr_leave" => "SELECT case_id, COALESCE(_deleted, 0) FROM corr_leave WHERE id = ?1",
            "corr_location_period" => {
                "SELECT case_id, COALESCE(_deleted, 0) FROM corr_location_period WHERE id = ?1"
            }
            _ => return Err(CoreError::NotFound("table")),
        };
        let row: Option<(Option<String>, i64)> = self
            .conn
            .prepare_cached(sql)?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            Some((Some(case_id), deleted)) => Ok((case_id, deleted != 0)),
            _ => Err(CoreError::NotFound("record")),
        }
    }

    /// Every version of every field of one case-file record (DOMAIN.md: every change keeps who,
    /// from which site, and when).
    pub fn record_history(
        &self,
        user: &SessionUser,
        table_name: &str,
        id: &str,
    ) -> Result<Vec<FieldChange>> {
        self.require_read(user)?;
        let Some(def) = HISTORY_TABLES
            .iter()
            .find(|t| **t == table_name)
            .and_then(|t| tables::table(t))
        else {
            return Err(CoreError::invalid(
                "table",
                format!("no record history for table {table_name}"),
                "该类记录没有修改历史",
            ));
        };
        let (case_id, _) = self.row_case(def.name, id)?;
        self.case_in_scope(user, &case_id)?;
        let versions = merge_sql::load_versions(&self.conn, def, id)?.unwrap_or_default();
        self.history_of(&versions)
    }
}
