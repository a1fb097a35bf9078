//! W-2 residents' appeals and complaints with the L-14 (信访) and L-15 (12345) clocks from the rule table.

use super::acked::row_has_unsent_entry;
use super::input::optional_id_number;
use super::{Store, WriteChange};
use crate::deadlines::Moment;
use crate::error::{CoreError, Result};
use crate::model::{
    AppealAction, AppealClass, AppealInput, AppealRecord, AppealStatus, OrgKind, Page,
    ResidentQuery, RoutingSlip, SessionUser,
};
use crate::search::like_escape;
use crate::shanghai;
use crate::tables;
use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension, Row};

pub const CHANNELS: [&str; 5] = ["phone", "counter", "visit", "letter", "hotline"];
/// W-2: the categories the pilot plans name, plus "other".
pub const CATEGORIES: [&str; 7] = [
    "urban_construction",
    "planning",
    "municipal",
    "environment",
    "housing",
    "epidemic",
    "other",
];
pub const SATISFACTION: [&str; 3] = ["satisfied", "basically_satisfied", "unsatisfied"];
const MAX_TEXT: usize = 2000;

fn status_code(s: AppealStatus) -> &'static str {
    match s {
        AppealStatus::Registered => "registered",
        AppealStatus::Routed => "routed",
        AppealStatus::Resolved => "resolved",
        AppealStatus::Closed => "closed",
    }
}

fn status_from(code: &str) -> AppealStatus {
    match code {
        "routed" => AppealStatus::Routed,
        "resolved" => AppealStatus::Resolved,
        "closed" => AppealStatus::Closed,
        _ => AppealStatus::Registered,
    }
}

/// The handling deadline: L-14 60 days (+30 when extended, counted from the original deadline), L-15 by class.
pub fn handling_due(
    engine: &crate::deadlines::Engine,
    class: AppealClass,
    received: NaiveDate,
    extended: bool,
) -> Result<NaiveDate> {
    let due = |rule: &str, from: NaiveDate| {
        engine
            .due(rule, Moment::Day(from))
            .map(|d| d.due_date)
            .map_err(|e| CoreError::Corrupt(format!("{rule}: {e}")))
    };
    let base = due(class.handling_rule(), received)?;
    if extended && class == AppealClass::Petition {
        due("L-14.handle_extension", base)
    } else {
        Ok(base)
    }
}

const COLUMNS: &str = concat!("a.id, a.channel, a.class, a.category, a.petitioner_name, a.petitioner_phone, a.subject, a.content, \
     a.received_on, a.departments, a.lead_department, a.status, COALESCE(a.extended, 0), a.result, a.resolved_on, \
     a.satisfaction, a.followed_up_on, COALESCE(a.reminders, 0), \
     ", row_has_unsent_entry!("a.id"), ", \
     a.petitioner_id_number, COALESCE(a.whistleblower, 0), a.complained_department");

struct RawAppeal {
    record: AppealRecord,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Option<RawAppeal>> {
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
    };
    // A row still arriving through sync may lack its class: skip it until whole.
    let Some(class) = AppealClass::from_code(&text(2)?) else {
        return Ok(None);
    };
    let departments: Vec<String> = serde_json::from_str(&text(9)?).unwrap_or_default();
    Ok(Some(RawAppeal {
        record: AppealRecord {
            id: r.get(0)?,
            channel: text(1)?,
            class,
            category: text(3)?,
            petitioner_name: text(4)?,
            petitioner_phone: text(5)?,
            subject: text(6)?,
            content: text(7)?,
            received_on: text(8)?,
            departments,
            lead_department: text(10)?,
            status: status_from(&text(11)?),
            extended: r.get::<_, i64>(12)? != 0,
            due_on: String::new(),
            overdue: false,
            result: text(13)?,
            resolved_on: text(14)?,
            satisfaction: text(15)?,
            followed_up_on: text(16)?,
            reminders: u32::try_from(r.get::<_, i64>(17)?).unwrap_or(0),
            pending_sync: r.get(18)?,
            petitioner_id_number: text(19)?,
            whistleblower: r.get::<_, i64>(20)? != 0,
            complained_department: text(21)?,
        },
    }))
}

impl Store {
    fn require_appeals(&self, user: &SessionUser) -> Result<()> {
        if user.role.may_use_residents() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "appeals are handled by community workstations",
            ))
        }
    }

    fn with_due(&self, mut record: AppealRecord, today: NaiveDate) -> Result<AppealRecord> {
        if let Some(received) = shanghai::parse_date(&record.received_on) {
            let due = handling_due(&*self.engine()?, record.class, received, record.extended)?;
            record.due_on = due.format("%Y-%m-%d").to_string();
            record.overdue = matches!(
                record.status,
                AppealStatus::Registered | AppealStatus::Routed
            ) && today > due;
        }
        Ok(record)
    }

    /// W-2 intake by phone, counter, visit, letter or the hotline.
    pub fn register_appeal(
        &mut self,
        user: &SessionUser,
        input: AppealInput,
    ) -> Result<AppealRecord> {
        self.require_appeals(user)?;
        if self.org_unit_kind(&user.org_unit_id)? != Some(OrgKind::Community) {
            return Err(CoreError::invalid(
                "org_unit_id",
                "appeals are registered by a workstation",
                "诉求由社区工作站登记",
            ));
        }
        if !CHANNELS.contains(&input.channel.as_str()) {
            return Err(CoreError::invalid(
                "channel",
                "unknown channel",
                "请选择受理渠道",
            ));
        }
        if !CATEGORIES.contains(&input.category.as_str()) {
            return Err(CoreError::invalid(
                "category",
                "unknown category",
                "请选择诉求类别",
            ));
        }
        let name = input.petitioner_name.trim().to_string();
        let subject = input.subject.trim().to_string();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(CoreError::invalid(
                "petitioner_name",
                "name is required",
                "请填写诉求人姓名（最多50字）",
            ));
        }
        if subject.is_empty() || subject.chars().count() > 200 {
            return Err(CoreError::invalid(
                "subject",
                "subject is required",
                "请填写诉求摘要（最多200字）",
            ));
        }
        let petitioner_id_number = optional_id_number(&input.petitioner_id_number)?;
        let complained_department = input.complained_department.trim().to_string();
        // W-2: a whistle-blower's report names the department complained about, so that department's
        // routing slip can mask the petitioner; a plain appeal names none.
        if input.whistleblower
            && (complained_department.is_empty() || complained_department.chars().count() > 50)
        {
            return Err(CoreError::invalid(
                "complained_department",
                "a whistle-blower appeal names the department complained about",
                "举报事项须填写被举报部门（最多50字）",
            ));
        }
        let complained_department = if input.whistleblower {
            complained_department
        } else {
            String::new()
        };
        let content = input
            .content
            .trim()
            .chars()
            .take(MAX_TEXT)
            .collect::<String>();
        let today = shanghai::today(self.corrected_wall_millis()?);
        let received = match input
            .received_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => today,
            Some(text) => shanghai::parse_date(text)
                .filter(|d| *d <= today)
                .ok_or_else(|| {
                    CoreError::invalid(
                        "received_on",
                        "bad date",
                        "受理日期格式应为YYYY-MM-DD，且不晚于今天",
                    )
                })?,
        };
        let id = uuid::Uuid::now_v7().to_string();
        let def = tables::table("appeal").ok_or(CoreError::NotFound("table appeal"))?;
        self.write_row(
            &user.user_id,
            def,
            &id,
            &user.org_unit_id,
            &[
                WriteChange::new("org_unit_id", user.org_unit_id.clone()),
                WriteChange::new("channel", input.channel.clone()),
                WriteChange::new("class", input.class.code()),
                WriteChange::new("category", input.category.clone()),
                WriteChange::new("petitioner_name", name),
                WriteChange::new(
                    "petitioner_phone",
                    input
                        .petitioner_phone
                        .trim()
                        .chars()
                        .take(20)
                        .collect::<String>(),
                ),
                WriteChange::new("subject", subject),
                WriteChange::new("content", content),
                WriteChange::new("received_on", received.format("%Y-%m-%d").to_string()),
                WriteChange::new("status", status_code(AppealStatus::Registered)),
                WriteChange::new("petitioner_id_number", petitioner_id_number),
                WriteChange::new("whistleblower", input.whistleblower),
                WriteChange::new("complained_department", complained_department),
            ],
        )?;
        self.appeal(user, &id)
    }

    pub fn appeal(&self, user: &SessionUser, id: &str) -> Result<AppealRecord> {
        self.require_appeals(user)?;
        let raw = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM appeal a WHERE a.id = ?1"))?
            .query_row([id], from_row)
            .optional()?
            .flatten()
            .ok_or(CoreError::NotFound("appeal"))?;
        let org: Option<String> =
            self.conn
                .query_row("SELECT org_unit_id FROM appeal WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
        if !self.is_within(org.as_deref().unwrap_or(""), &user.org_unit_id)? {
            return Err(CoreError::NotFound("appeal"));
        }
        self.with_due(raw.record, shanghai::today(self.corrected_wall_millis()?))
    }

    /// The next step on an appeal: route, extend (L-14), remind (催办), resolve, follow up (L-15).
    pub fn act_on_appeal(
        &mut self,
        user: &SessionUser,
        id: &str,
        action: AppealAction,
    ) -> Result<AppealRecord> {
        let current = self.appeal(user, id)?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let day = today.format("%Y-%m-%d").to_string();
        let not_now = |zh: &str| {
            Err(CoreError::invalid(
                "status",
                "not allowed in this status",
                zh,
            ))
        };
        let changes = match action {
            AppealAction::Route {
                departments,
                lead_department,
            } => {
                if current.status != AppealStatus::Registered
                    && current.status != AppealStatus::Routed
                {
                    return not_now("已办结的诉求不能再转办");
                }
                let mut departments: Vec<String> = departments
                    .iter()
                    .map(|d| d.trim().to_string())
                    .filter(|d| !d.is_empty())
                    .collect();
                departments.dedup();
                if departments.is_empty() {
                    return Err(CoreError::invalid(
                        "departments",
                        "route to at least one department",
                        "请至少选择一个承办部门",
                    ));
                }
                // W-2: a case that needs several departments has a lead department among them.
                let lead = if departments.len() == 1 {
                    departments[0].clone()
                } else {
                    lead_department.trim().to_string()
                };
                if !departments.contains(&lead) {
                    return Err(CoreError::invalid(
                        "lead_department",
                        "the lead must be one of the departments",
                        "多部门办理须从承办部门中指定牵头部门",
                    ));
                }
                // W-2: the department complained about never handles the complaint about itself.
                if current.whistleblower && same_department(&lead, &current.complained_department) {
                    return Err(CoreError::invalid(
                        "lead_department",
                        "the department complained about cannot lead the case about itself",
                        format!(
                            "被举报部门（{}）不能作为牵头部门办理对其本身的举报，请另选牵头部门（W-2）",
                            current.complained_department
                        ),
                    ));
                }
                let list = serde_json::to_string(&departments)
                    .map_err(|e| CoreError::Corrupt(e.to_string()))?;
                vec![
                    WriteChange::new("departments", list),
                    WriteChange::new("lead_department", lead),
                    WriteChange::new("status", status_code(AppealStatus::Routed)),
                ]
            }
            AppealAction::Extend => {
                if current.class != AppealClass::Petition || current.extended {
                    return not_now("只有信访事项可延期一次（L-14，不超过30日）");
                }
                if !matches!(
                    current.status,
                    AppealStatus::Registered | AppealStatus::Routed
                ) {
                    return not_now("已办结的诉求不能延期");
                }
                vec![WriteChange::new("extended", true)]
            }
            AppealAction::Remind => {
                if !current.overdue {
                    return not_now("未超过办理期限，无需催办");
                }
                vec![WriteChange::new(
                    "reminders",
                    i64::from(current.reminders) + 1,
                )]
            }
            AppealAction::Resolve { result } => {
                let result = result.trim().to_string();
                if current.status != AppealStatus::Routed {
                    return not_now("诉求须先转办承办部门，才能登记办理结果");
                }
                if result.is_empty() {
                    return Err(CoreError::invalid(
                        "result",
                        "result is required",
                        "请填写办理结果",
                    ));
                }
                vec![
                    WriteChange::new("result", result.chars().take(MAX_TEXT).collect::<String>()),
                    WriteChange::new("resolved_on", day.clone()),
                    WriteChange::new("status", status_code(AppealStatus::Resolved)),
                ]
            }
            AppealAction::FollowUp { satisfaction } => {
                if current.status != AppealStatus::Resolved {
                    return not_now("办结后才能回访");
                }
                if !SATISFACTION.contains(&satisfaction.as_str()) {
                    return Err(CoreError::invalid(
                        "satisfaction",
                        "unknown satisfaction",
                        "请选择满意度",
                    ));
                }
                vec![
                    WriteChange::new("satisfaction", satisfaction),
                    WriteChange::new("followed_up_on", day.clone()),
                    WriteChange::new("status", status_code(AppealStatus::Closed)),
                ]
            }
        };
        let org =
            self.conn
                .query_row("SELECT org_unit_id FROM appeal WHERE id = ?1", [id], |r| {
                    r.get::<_, String>(0)
                })?;
        let def = tables::table("appeal").ok_or(CoreError::NotFound("table appeal"))?;
        self.write_row(&user.user_id, def, id, &org, &changes)?;
        self.appeal(user, id)
    }

    /// W-2 转办单: one slip per routed department, the complained-about department's masked
    /// ([`routing_slips`]).
    pub fn appeal_routing_slips(&self, user: &SessionUser, id: &str) -> Result<Vec<RoutingSlip>> {
        let appeal = self.appeal(user, id)?;
        let org_name: String = self
            .conn
            .query_row(
                "SELECT COALESCE(o.name, '') FROM appeal a LEFT JOIN org_unit o ON o.id = a.org_unit_id WHERE a.id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default();
        Ok(routing_slips(&appeal, &org_name))
    }

    /// Appeals of the user's scope, open ones first by deadline; text matches the petitioner (name,
    /// pinyin initials or ID number), the subject or the phone.
    pub fn list_appeals(
        &self,
        user: &SessionUser,
        query: &ResidentQuery,
    ) -> Result<Page<AppealRecord>> {
        self.require_appeals(user)?;
        let page_size = query.page_size.clamp(1, 200);
        let page = query.page.max(1);
        let needle = query.text.as_deref().map(str::trim).unwrap_or("");
        let pattern = format!("%{}%", like_escape(needle));
        // W-2, issue 14 §5: the petitioner's name is searched folded (middle dots and spaces ignored).
        let name_pattern = crate::search::name_pattern(needle);
        let initials = crate::search::initials_pattern(needle);
        let id_pattern = format!("%{}%", like_escape(&needle.to_uppercase()));
        let scope = serde_json::to_string(&self.org_subtree(&user.org_unit_id)?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let filter = "a.org_unit_id IN (SELECT value FROM json_each(?1)) \
             AND (?2 = '' OR a.name_search LIKE ?7 ESCAPE '\\' OR a.name_initials LIKE ?4 ESCAPE '\\' \
                  OR a.subject LIKE ?3 ESCAPE '\\' OR a.petitioner_phone LIKE ?3 ESCAPE '\\' \
                  OR a.petitioner_id_number LIKE ?6 ESCAPE '\\') \
             AND (?5 OR COALESCE(a._deleted, 0) = 0)";
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM appeal a WHERE {filter}"))?;
        let rows = stmt.query_map(
            params![
                scope,
                needle,
                pattern,
                initials,
                query.include_deleted,
                id_pattern,
                name_pattern
            ],
            from_row,
        )?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let mut all = Vec::new();
        for row in rows {
            if let Some(raw) = row? {
                all.push(self.with_due(raw.record, today)?);
            }
        }
        let open =
            |a: &AppealRecord| matches!(a.status, AppealStatus::Registered | AppealStatus::Routed);
        all.sort_by(|a, b| (!open(a), &a.due_on, &a.id).cmp(&(!open(b), &b.due_on, &b.id)));
        let total = all.len() as u32;
        let items = all
            .into_iter()
            .skip(((page - 1) * page_size) as usize)
            .take(page_size as usize)
            .collect();
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }
}

/// W-2: the name a masked slip shows instead of the whistle-blower's.
pub const MASKED_PETITIONER: &str = "举报人（已保密）";
/// W-2: what a masked slip shows instead of the whistle-blower's own words.
pub const WITHHELD_CONTENT: &str =
    "（举报材料原文不向被举报部门转交，以保护举报人；请依据上列事项摘要办理并答复转办单位。）";

/// Whether two department names denote the same department: spaces ignored, and one name containing
/// the other ("市政" / "区市政局") counts as the same, so a variant spelling errs towards protecting the
/// whistle-blower rather than exposing them.
pub fn same_department(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && !b.is_empty() && (a == b || a.contains(&b) || b.contains(&a))
}

/// W-2 转办单 per routed department. Every department gets the petitioner's name, phone, ID number and the
/// verbatim content — except, for a whistle-blower appeal, the department complained about: its slip says
/// "举报人（已保密）", carries no phone and no ID number, and withholds the verbatim material (the
/// whistle-blower's own words can identify them); it keeps the clerk's subject line so the department
/// knows what to answer. "Whistle-blower material is never visible to the department complained about."
pub fn routing_slips(appeal: &AppealRecord, org_unit_name: &str) -> Vec<RoutingSlip> {
    appeal
        .departments
        .iter()
        .map(|department| {
            let masked =
                appeal.whistleblower && same_department(department, &appeal.complained_department);
            let (name, phone, id_number, content) = if masked {
                (
                    MASKED_PETITIONER.to_string(),
                    String::new(),
                    String::new(),
                    WITHHELD_CONTENT.to_string(),
                )
            } else {
                (
                    appeal.petitioner_name.clone(),
                    appeal.petitioner_phone.clone(),
                    appeal.petitioner_id_number.clone(),
                    appeal.content.clone(),
                )
            };
            RoutingSlip {
                appeal_id: appeal.id.clone(),
                department: department.clone(),
                lead: appeal.departments.len() > 1 && *department == appeal.lead_department,
                masked,
                petitioner_name: name,
                petitioner_phone: phone,
                petitioner_id_number: id_number,
                class: appeal.class.code().to_string(),
                category: appeal.category.clone(),
                channel: appeal.channel.clone(),
                received_on: appeal.received_on.clone(),
                due_on: appeal.due_on.clone(),
                subject: appeal.subject.clone(),
                content,
                other_departments: appeal
                    .departments
                    .iter()
                    .filter(|d| *d != department)
                    .cloned()
                    .collect(),
                org_unit_name: org_unit_name.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whistle_appeal() -> AppealRecord {
        AppealRecord {
            id: "a1".into(),
            channel: "visit".into(),
            class: AppealClass::Petition,
            category: "municipal".into(),
            petitioner_name: "𠮷田䶮".into(),
            petitioner_phone: "13800138000".into(),
            subject: "举报市政所工程验收不实".into(),
            content: "我在市政所工作，亲眼看到……".into(),
            received_on: "2026-11-02".into(),
            departments: vec!["街道办".into(), "市政".into(), "城建".into()],
            lead_department: "街道办".into(),
            status: AppealStatus::Routed,
            extended: false,
            due_on: "2027-01-04".into(),
            overdue: false,
            result: String::new(),
            resolved_on: String::new(),
            satisfaction: String::new(),
            followed_up_on: String::new(),
            reminders: 0,
            petitioner_id_number: "11010519491231002X".into(),
            whistleblower: true,
            complained_department: " 市政 ".into(),
            pending_sync: false,
        }
    }

    #[test]
    fn w2_the_complained_about_department_gets_a_masked_slip_and_the_others_the_full_one() {
        let slips = routing_slips(&whistle_appeal(), "民安社区");
        assert_eq!(slips.len(), 3, "one slip per routed department");
        for slip in &slips {
            if slip.department == "市政" {
                assert!(slip.masked);
                assert_eq!(slip.petitioner_name, MASKED_PETITIONER);
                assert_eq!(
                    (
                        slip.petitioner_phone.as_str(),
                        slip.petitioner_id_number.as_str()
                    ),
                    ("", "")
                );
                assert!(
                    !slip.content.contains("亲眼"),
                    "the whistle-blower's words stay home"
                );
                assert_eq!(slip.subject, "举报市政所工程验收不实");
                let all = serde_json::to_string(slip).unwrap();
                for secret in ["𠮷田䶮", "13800138000", "11010519491231002X", "亲眼"] {
                    assert!(
                        !all.contains(secret),
                        "{secret} leaked into the masked slip"
                    );
                }
            } else {
                assert!(!slip.masked);
                assert_eq!(slip.petitioner_name, "𠮷田䶮");
                assert_eq!(slip.petitioner_phone, "13800138000");
                assert_eq!(slip.petitioner_id_number, "11010519491231002X");
                assert_eq!(slip.content, "我在市政所工作，亲眼看到……");
            }
        }
        assert!(
            slips
                .iter()
                .find(|s| s.department == "街道办")
                .unwrap()
                .lead
        );
    }

    #[test]
    fn w2_a_plain_appeal_masks_nobody_and_variant_names_err_towards_masking() {
        let mut plain = whistle_appeal();
        plain.whistleblower = false;
        assert!(routing_slips(&plain, "").iter().all(|s| !s.masked));
        let mut variant = whistle_appeal();
        variant.complained_department = "区市政局".into();
        variant.departments = vec!["区市政局".into(), "城建".into()];
        let slips = routing_slips(&variant, "");
        assert!(slips[0].masked && !slips[1].masked);
        assert!(same_department("市政", "区 市政局"));
        assert!(!same_department("市政", ""));
        assert!(!same_department("城建", "规划"));
    }
}
