//! W-5 volunteers and building leaders (志愿者, 楼栋长): registered by skill, their service hours
//! (append-only), the yearly recognition list (calendar year on Asia/Shanghai dates) and the yearly
//! reward fund (the rate per household comes from `schema/rules/community.json`, never from code).
//! C-22: a volunteer may be marked available as a community-corrections volunteer; the judicial office
//! pairs them with subjects on its side.

use super::acked::row_has_unsent_entry;
use super::input::{day_text, needle, optional, optional_id_number, past_date, phone, required};
use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::local_rules::{LocalRules, REWARD_FUND_RULE};
use crate::model::{
    CaseQuery, Page, ServiceInput, ServiceRecord, SessionUser, VolunteerInput, VolunteerRank,
    VolunteerRecord, VolunteerSkill, VolunteerYear,
};
use crate::tables::{self, TableDef, DELETED_FIELD};
use chrono::{Datelike, NaiveDate};
use rusqlite::{params, OptionalExtension, Row};

const MAX_PAGE_SIZE: u32 = 200;
const MINUTES_PER_HOUR: f64 = 60.0;
/// One service record covers at most one day.
const MAX_HOURS_PER_RECORD: f64 = 24.0;

fn def(name: &'static str) -> Result<&'static TableDef> {
    tables::table(name).ok_or(CoreError::NotFound("volunteer table"))
}

fn hours_of(minutes: i64) -> f64 {
    minutes as f64 / MINUTES_PER_HOUR
}

const COLUMNS: &str = concat!("v.id, v.org_unit_id, o.name, v.name, v.id_number, v.phone, v.skills, \
     COALESCE(v.building_leader, 0), v.building, COALESCE(v.corrections_volunteer, 0), v.note, \
     (SELECT COALESCE(SUM(s.minutes), 0) FROM volunteer_service s WHERE s.volunteer_id = v.id AND COALESCE(s._deleted, 0) = 0), \
     COALESCE(v._deleted, 0), \
     ", row_has_unsent_entry!("v.id"), "");

fn text(r: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<VolunteerRecord> {
    let skills: Vec<String> = serde_json::from_str(&text(r, 6)?).unwrap_or_default();
    Ok(VolunteerRecord {
        id: r.get(0)?,
        org_unit_id: text(r, 1)?,
        org_unit_name: text(r, 2)?,
        name: text(r, 3)?,
        id_number: text(r, 4)?,
        phone: text(r, 5)?,
        skills: skills
            .iter()
            .filter_map(|s| VolunteerSkill::from_code(s))
            .collect(),
        building_leader: r.get::<_, i64>(7)? != 0,
        building: text(r, 8)?,
        corrections_volunteer: r.get::<_, i64>(9)? != 0,
        note: text(r, 10)?,
        total_hours: hours_of(r.get(11)?),
        deleted: r.get::<_, i64>(12)? != 0,
        pending_sync: r.get(13)?,
    })
}

fn service_from_row(r: &Row<'_>) -> rusqlite::Result<ServiceRecord> {
    Ok(ServiceRecord {
        id: r.get(0)?,
        volunteer_id: text(r, 1)?,
        served_on: text(r, 2)?,
        hours: hours_of(r.get::<_, Option<i64>>(3)?.unwrap_or(0)),
        activity: text(r, 4)?,
        recorded_by: text(r, 5)?,
    })
}

/// Standard competition ranking over values sorted from highest: equal values share a rank (1, 1, 3).
pub fn competition_ranks(sorted_desc: &[i64]) -> Vec<u32> {
    let mut ranks = Vec::with_capacity(sorted_desc.len());
    for (i, value) in sorted_desc.iter().enumerate() {
        let rank = match (i, ranks.last()) {
            (0, _) | (_, None) => 1,
            (_, Some(&prev)) if sorted_desc[i - 1] == *value => prev,
            _ => i as u32 + 1,
        };
        ranks.push(rank);
    }
    ranks
}

impl Store {
    fn volunteer_in_scope(&self, user: &SessionUser, id: &str) -> Result<VolunteerRecord> {
        self.require_community_work(user)?;
        let record = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM volunteer v LEFT JOIN org_unit o ON o.id = v.org_unit_id \
                 WHERE v.id = ?1 AND v.name IS NOT NULL"
            ))?
            .query_row([id], from_row)
            .optional()?
            .ok_or(CoreError::NotFound("volunteer"))?;
        if !self.is_within(&record.org_unit_id, &user.org_unit_id)? {
            return Err(CoreError::NotFound("volunteer"));
        }
        Ok(record)
    }

    pub fn volunteer(&self, user: &SessionUser, id: &str) -> Result<VolunteerRecord> {
        self.volunteer_in_scope(user, id)
    }

    /// W-5: registers (id None) or edits a volunteer; a building leader names the building.
    pub fn save_volunteer(
        &mut self,
        user: &SessionUser,
        input: VolunteerInput,
    ) -> Result<VolunteerRecord> {
        self.require_community_work(user)?;
        let existing = match &input.id {
            Some(id) => Some(self.volunteer_in_scope(user, id)?),
            None => None,
        };
        let org_unit_id = match &existing {
            Some(v) => v.org_unit_id.clone(),
            None => self.own_community(user, "志愿者")?,
        };
        let name = required(&input.name, 50, "name", "请填写姓名（最多50字）")?;
        let id_number = optional_id_number(&input.id_number)?;
        let phone = phone(&input.phone, "phone")?;
        let building = optional(&input.building, 20, "building", "楼栋不超过20个字")?;
        if input.building_leader && building.is_empty() {
            return Err(CoreError::invalid(
                "building",
                "a building leader needs the building",
                "楼栋长须填写所负责的楼栋",
            ));
        }
        let note = optional(&input.note, 500, "note", "备注过长（最多500字）")?;
        if !id_number.is_empty() {
            let other: Option<String> = self
                .conn
                .query_row(
                    "SELECT name FROM volunteer WHERE org_unit_id = ?1 AND id_number = ?2 \
                     AND COALESCE(_deleted, 0) = 0 AND id IS NOT ?3 LIMIT 1",
                    params![org_unit_id, id_number, input.id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(other) = other {
                return Err(CoreError::invalid(
                    "id_number",
                    "this ID number is already registered as a volunteer",
                    format!("身份证号{id_number}已登记为志愿者（{other}），请勿重复登记"),
                ));
            }
        }
        let mut skills: Vec<&str> = input.skills.iter().map(|s| s.code()).collect();
        skills.sort_unstable();
        skills.dedup();
        let skills =
            serde_json::to_string(&skills).map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let id = input
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        self.write_row(
            &user.user_id,
            def("volunteer")?,
            &id,
            &org_unit_id,
            &[
                WriteChange::new("org_unit_id", org_unit_id.clone()),
                WriteChange::new("name", name),
                WriteChange::new("id_number", id_number),
                WriteChange::new("phone", phone),
                WriteChange::new("skills", skills),
                WriteChange::new("building_leader", input.building_leader),
                WriteChange::new(
                    "building",
                    if input.building_leader {
                        building
                    } else {
                        String::new()
                    },
                ),
                WriteChange::new("corrections_volunteer", input.corrections_volunteer),
                WriteChange::new("note", note),
            ],
        )?;
        self.volunteer(user, &id)
    }

    /// Marks a volunteer as no longer active (or back). Reversible; their hours stay.
    pub fn set_volunteer_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<VolunteerRecord> {
        let current = self.volunteer_in_scope(user, id)?;
        self.write_row(
            &user.user_id,
            def("volunteer")?,
            id,
            &current.org_unit_id,
            &[WriteChange::new(DELETED_FIELD, deleted)],
        )?;
        self.volunteer(user, id)
    }

    /// W-5: one service record (append-only): date, hours (to the minute), activity.
    pub fn add_volunteer_service(
        &mut self,
        user: &SessionUser,
        input: ServiceInput,
    ) -> Result<ServiceRecord> {
        let volunteer = self.volunteer_in_scope(user, &input.volunteer_id)?;
        let today = self.shanghai_today()?;
        let served = past_date(
            Some(&input.served_on),
            today,
            None,
            "served_on",
            "服务日期格式应为YYYY-MM-DD，且不晚于今天",
        )?;
        if !input.hours.is_finite() || input.hours <= 0.0 || input.hours > MAX_HOURS_PER_RECORD {
            return Err(CoreError::invalid(
                "hours",
                "hours must be more than 0 and at most 24",
                "服务时长应大于0小时且不超过24小时",
            ));
        }
        let minutes = (input.hours * MINUTES_PER_HOUR).round() as i64;
        if minutes < 1 {
            return Err(CoreError::invalid(
                "hours",
                "hours must be at least one minute",
                "服务时长至少1分钟",
            ));
        }
        let activity = required(
            &input.activity,
            200,
            "activity",
            "请填写服务内容（最多200字）",
        )?;
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            def("volunteer_service")?,
            &id,
            &volunteer.org_unit_id,
            &[
                WriteChange::new("org_unit_id", volunteer.org_unit_id.clone()),
                WriteChange::new("volunteer_id", volunteer.id.clone()),
                WriteChange::new("served_on", day_text(served)),
                WriteChange::new("minutes", minutes),
                WriteChange::new("activity", activity),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.volunteer_services(user, &volunteer.id)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(CoreError::NotFound("volunteer service"))
    }

    /// A volunteer's service records, newest first.
    pub fn volunteer_services(
        &self,
        user: &SessionUser,
        volunteer_id: &str,
    ) -> Result<Vec<ServiceRecord>> {
        let volunteer = self.volunteer_in_scope(user, volunteer_id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, volunteer_id, served_on, minutes, activity, recorded_by FROM volunteer_service \
             WHERE volunteer_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY served_on DESC, id DESC",
        )?;
        let rows = stmt.query_map([&volunteer.id], service_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Volunteers of the user's scope; text matches the name, its pinyin initials, the ID number, the
    /// phone or the building.
    pub fn list_volunteers(
        &self,
        user: &SessionUser,
        query: &CaseQuery,
    ) -> Result<Page<VolunteerRecord>> {
        self.require_community_work(user)?;
        let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
        let page = query.page.max(1);
        let n = needle(query.text.as_deref());
        let scope = self.scope_json(user)?;
        let filter = "v.org_unit_id IN (SELECT value FROM json_each(?1)) AND v.name IS NOT NULL \
             AND (?2 = '' OR v.name_search LIKE ?9 ESCAPE '\\' OR v.name_initials LIKE ?4 ESCAPE '\\' \
                  OR v.id_number LIKE ?5 ESCAPE '\\' OR v.phone LIKE ?3 ESCAPE '\\' OR v.building LIKE ?3 ESCAPE '\\') \
             AND (?6 OR COALESCE(v._deleted, 0) = 0)";
        let total: u32 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM volunteer v WHERE {filter}"),
            params![
                scope,
                n.text,
                n.pattern,
                n.initials,
                n.id_pattern,
                query.include_deleted,
                // ?7 and ?8 page the list, not the count.
                0u32,
                0u32,
                n.name_pattern
            ],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM volunteer v LEFT JOIN org_unit o ON o.id = v.org_unit_id \
             WHERE {filter} ORDER BY v.name_initials, v.id LIMIT ?7 OFFSET ?8"
        ))?;
        let items = stmt
            .query_map(
                params![
                    scope,
                    n.text,
                    n.pattern,
                    n.initials,
                    n.id_pattern,
                    query.include_deleted,
                    page_size,
                    (page - 1) * page_size,
                    n.name_pattern
                ],
                from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }

    /// W-5 households: distinct addresses (building-unit-room) of the residents in scope, plus household
    /// heads registered without an address (each is a household of its own). Merged duplicate
    /// registrations and removed residents do not count.
    pub fn household_count(&self, user: &SessionUser) -> Result<u32> {
        self.require_community_work(user)?;
        let scope = self.scope_json(user)?;
        Ok(self.conn.query_row(
            "WITH r AS (SELECT org_unit_id, household_head, \
                    COALESCE(building, '') || '-' || COALESCE(unit, '') || '-' || COALESCE(room, '') AS address \
                  FROM resident WHERE org_unit_id IN (SELECT value FROM json_each(?1)) \
                  AND COALESCE(_deleted, 0) = 0 AND merged_into IS NULL AND name IS NOT NULL) \
             SELECT (SELECT COUNT(DISTINCT org_unit_id || '|' || address) FROM r WHERE address <> '--') \
                  + (SELECT COUNT(*) FROM r WHERE address = '--' AND household_head = 'yes')",
            [&scope],
            |r| r.get(0),
        )?)
    }

    /// W-5: the recognition list of a calendar year (None = this year in Asia/Shanghai), ranked by
    /// hours, and the year's reward fund (households × the local rule's rate per household).
    pub fn volunteer_year(&self, user: &SessionUser, year: Option<i32>) -> Result<VolunteerYear> {
        self.require_community_work(user)?;
        let year = match year {
            Some(y) => y,
            None => self.shanghai_today()?.year(),
        };
        let bad_year = || CoreError::invalid("year", "unknown year", "年份无效");
        let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad_year)?;
        let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(bad_year)?;
        let scope = self.scope_json(user)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.id, v.name, COALESCE(v.building_leader, 0), SUM(s.minutes), COUNT(*) \
             FROM volunteer_service s JOIN volunteer v ON v.id = s.volunteer_id \
             WHERE v.org_unit_id IN (SELECT value FROM json_each(?1)) AND COALESCE(v._deleted, 0) = 0 \
             AND COALESCE(s._deleted, 0) = 0 AND s.served_on BETWEEN ?2 AND ?3 \
             GROUP BY v.id HAVING SUM(s.minutes) > 0 \
             ORDER BY SUM(s.minutes) DESC, v.name_initials, v.id",
        )?;
        let rows = stmt
            .query_map(params![scope, day_text(first), day_text(last)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    text(r, 1)?,
                    r.get::<_, i64>(2)? != 0,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let minutes: Vec<i64> = rows.iter().map(|r| r.3).collect();
        let ranks = competition_ranks(&minutes);
        let ranking = rows
            .into_iter()
            .zip(ranks)
            .map(
                |((volunteer_id, name, building_leader, minutes, services), rank)| VolunteerRank {
                    rank,
                    volunteer_id,
                    name,
                    building_leader,
                    hours: hours_of(minutes),
                    services: u32::try_from(services).unwrap_or(u32::MAX),
                },
            )
            .collect();
        let households = self.household_count(user)?;
        let rules =
            LocalRules::embedded().map_err(|e| CoreError::Corrupt(format!("local rules: {e}")))?;
        let rate = rules
            .rule(REWARD_FUND_RULE)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?
            .amount_fen;
        let fund = rules
            .reward_fund_fen(households)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?;
        Ok(VolunteerYear {
            year,
            ranking,
            households,
            reward_rate_fen: rate,
            reward_fund_fen: fund,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::competition_ranks;

    #[test]
    fn w5_equal_hours_share_a_rank() {
        assert_eq!(
            competition_ranks(&[600, 600, 300, 120, 120, 60]),
            vec![1, 1, 3, 4, 4, 6]
        );
        assert!(competition_ranks(&[]).is_empty());
    }
}
