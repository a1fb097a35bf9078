//! L-7 electronic location on the local store: periods (with renewals and early ends) and the location
//! events that stay at the judicial office (core::location has the rules).

use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::location::{
    self, LocationEvent, LocationEventInput, LocationEventKind, LocationGround, LocationPeriod,
    LocationPeriodInput, PeriodError,
};
use crate::model::{OrgKind, SessionUser};
use crate::shanghai;
use crate::tables::{self, TableDef};

const MAX_TEXT_CHARS: usize = 1000;

fn table(name: &'static str) -> Result<&'static TableDef> {
    tables::table(name).ok_or(CoreError::NotFound("table"))
}

impl From<PeriodError> for CoreError {
    fn from(e: PeriodError) -> Self {
        CoreError::invalid("end_on", e.to_string(), e.message_zh())
    }
}

fn date(text: &str, field: &'static str, zh: &'static str) -> Result<chrono::NaiveDate> {
    shanghai::parse_date(text)
        .ok_or_else(|| CoreError::invalid(field, "date must be YYYY-MM-DD", zh))
}

impl Store {
    /// Records an approved period, or a renewal of one (`renewal_of`).
    pub fn save_location_period(
        &mut self,
        user: &SessionUser,
        input: LocationPeriodInput,
    ) -> Result<LocationPeriod> {
        self.require_write(user)?;
        let case = self.case_for_write(user, &input.case_id)?;
        if case.deleted || crate::lifecycle::is_final(case.status) {
            return Err(CoreError::invalid(
                "case_id",
                "the case is not open",
                "该案件已结束或已删除，不能使用电子定位",
            ));
        }
        let approved_by = input.approved_by.trim().to_string();
        if approved_by.is_empty() || approved_by.chars().count() > 50 {
            return Err(CoreError::invalid(
                "approved_by",
                "the approving county head is required",
                "请填写批准的县级司法行政机关负责人",
            ));
        }
        let approved_on = date(
            &input.approved_on,
            "approved_on",
            "批准日期格式应为YYYY-MM-DD",
        )?;
        let start = date(&input.start_on, "start_on", "开始日期格式应为YYYY-MM-DD")?;
        let end = date(&input.end_on, "end_on", "结束日期格式应为YYYY-MM-DD")?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        if approved_on > today {
            return Err(CoreError::invalid(
                "approved_on",
                "approval date in the future",
                "批准日期不能晚于今天",
            ));
        }
        let renews = match input.renewal_of.as_deref().filter(|s| !s.is_empty()) {
            Some(previous_id) => {
                let previous = self.location_period(previous_id)?;
                if previous.case_id != case.id {
                    return Err(CoreError::NotFound("location period"));
                }
                if !previous.ended_on.is_empty()
                    || self
                        .location_periods_of(&case.id)?
                        .iter()
                        .any(|p| p.renewal_of.as_deref() == Some(previous_id))
                {
                    return Err(CoreError::invalid(
                        "renewal_of",
                        "the period has ended or was already renewed",
                        "该期限已结束或已延长过，不能再次延长",
                    ));
                }
                Some((previous.id.clone(), date(&previous.end_on, "end_on", "")?))
            }
            None => None,
        };
        location::check_period(
            &*self.engine()?,
            approved_on,
            start,
            end,
            renews.as_ref().map(|(_, end)| *end),
        )?;
        let note = input.note.trim().to_string();
        if note.chars().count() > MAX_TEXT_CHARS {
            return Err(CoreError::invalid("note", "note is too long", "备注过长"));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            table("corr_location_period")?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("ground", input.ground.code()),
                WriteChange::new("approved_by", approved_by),
                WriteChange::new("approved_on", approved_on.format("%Y-%m-%d").to_string()),
                WriteChange::new("start_on", start.format("%Y-%m-%d").to_string()),
                WriteChange::new("end_on", end.format("%Y-%m-%d").to_string()),
                WriteChange::new("renewal_of", renews.map(|(id, _)| id)),
                WriteChange::new("note", note),
            ],
        )?;
        self.location_period(&id)
    }

    /// Takes the device off before (or at) the end of its period, with the reason.
    pub fn end_location_period(
        &mut self,
        user: &SessionUser,
        id: &str,
        ended_on: &str,
        reason: &str,
    ) -> Result<LocationPeriod> {
        self.require_write(user)?;
        let period = self.location_period(id)?;
        let case = self.case_for_write(user, &period.case_id)?;
        if !period.ended_on.is_empty() {
            return Err(CoreError::invalid(
                "ended_on",
                "the period has already ended",
                "该期限已经结束",
            ));
        }
        let ended = date(ended_on, "ended_on", "解除日期格式应为YYYY-MM-DD")?;
        let start = date(&period.start_on, "start_on", "")?;
        let end = date(&period.end_on, "end_on", "")?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        if ended < start || ended > end.min(today) {
            return Err(CoreError::invalid(
                "ended_on",
                "the end lies outside the period or in the future",
                "解除日期应在本期限内且不晚于今天",
            ));
        }
        let reason = reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > MAX_TEXT_CHARS {
            return Err(CoreError::invalid(
                "end_reason",
                "give the reason for ending",
                "请填写解除电子定位的原因",
            ));
        }
        self.write_row(
            &user.user_id,
            table("corr_location_period")?,
            id,
            &case.org_unit_id,
            &[
                WriteChange::new("ended_on", ended.format("%Y-%m-%d").to_string()),
                WriteChange::new("end_reason", reason),
            ],
        )?;
        self.location_period(id)
    }

    /// An alarm or check from the location platform. Only a judicial office records these (L-7: the
    /// data stays there).
    pub fn add_location_event(
        &mut self,
        user: &SessionUser,
        input: LocationEventInput,
    ) -> Result<LocationEvent> {
        self.require_write(user)?;
        if self.org_unit_kind(&user.org_unit_id)? != Some(OrgKind::Township) {
            return Err(CoreError::Forbidden(
                "location data is kept at the judicial office only (L-7)",
            ));
        }
        let period = self.location_period(&input.period_id)?;
        let case = self.case_for_write(user, &period.case_id)?;
        let occurred_at = shanghai::normalise_datetime(&input.occurred_at).ok_or_else(|| {
            CoreError::invalid(
                "occurred_at",
                "time must be YYYY-MM-DD HH:MM",
                "时间格式应为YYYY-MM-DD HH:MM",
            )
        })?;
        let day = occurred_at.get(..10).and_then(shanghai::parse_date);
        let inside = day.is_some_and(|d| {
            shanghai::parse_date(&period.start_on).is_some_and(|s| d >= s)
                && shanghai::parse_date(&period.end_on).is_some_and(|e| d <= e)
        });
        let today = shanghai::today(self.corrected_wall_millis()?);
        if day.is_some_and(|d| d > today) {
            return Err(CoreError::invalid(
                "occurred_at",
                "the event lies in the future",
                "记录时间不能晚于今天",
            ));
        }
        if !inside {
            return Err(CoreError::invalid(
                "occurred_at",
                "the event lies outside the location period",
                "该记录的时间不在电子定位期限内",
            ));
        }
        let place = input.place.trim().to_string();
        let action = input.action.trim().to_string();
        if place.chars().count() > MAX_TEXT_CHARS || action.chars().count() > MAX_TEXT_CHARS {
            return Err(CoreError::invalid("place", "text too long", "内容过长"));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            table("corr_location_event")?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("period_id", period.id.clone()),
                WriteChange::new("kind", input.kind.code()),
                WriteChange::new("occurred_at", occurred_at),
                WriteChange::new("place", place),
                WriteChange::new("action", action),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.location_events_of(&case.id)?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or(CoreError::NotFound("location event"))
    }

    fn location_period(&self, id: &str) -> Result<LocationPeriod> {
        self.location_periods_where("id = ?1", id)?
            .into_iter()
            .next()
            .ok_or(CoreError::NotFound("location period"))
    }

    pub(super) fn location_periods_of(&self, case_id: &str) -> Result<Vec<LocationPeriod>> {
        self.location_periods_where("case_id = ?1", case_id)
    }

    fn location_periods_where(&self, condition: &str, arg: &str) -> Result<Vec<LocationPeriod>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, case_id, ground, approved_by, approved_on, start_on, end_on, renewal_of, ended_on, \
             end_reason, note FROM corr_location_period \
             WHERE {condition} AND COALESCE(_deleted, 0) = 0 ORDER BY start_on, id"
        ))?;
        let rows = stmt.query_map([arg], |r| {
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
                text(8)?,
                text(9)?,
                text(10)?,
            ])
        })?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let mut periods = Vec::new();
        for row in rows {
            let [id, case_id, ground, approved_by, approved_on, start_on, end_on, renewal_of, ended_on, end_reason, note] =
                row?;
            // A row still arriving through sync may be incomplete: skip it until it is whole.
            let (Some(ground), Some(start), Some(end)) = (
                LocationGround::from_code(&ground),
                shanghai::parse_date(&start_on),
                shanghai::parse_date(&end_on),
            ) else {
                continue;
            };
            periods.push((
                start,
                end,
                LocationPeriod {
                    id,
                    case_id,
                    ground,
                    approved_by,
                    approved_on,
                    start_on,
                    end_on,
                    renewal_of: Some(renewal_of).filter(|r| !r.is_empty()),
                    ended_on,
                    end_reason,
                    note,
                    status: location::LocationPeriodStatus::Approved,
                },
            ));
        }
        let renewed: Vec<String> = self.renewed_period_ids(&periods)?;
        Ok(periods
            .into_iter()
            .map(|(start, end, mut p)| {
                p.status = location::period_status(
                    start,
                    end,
                    shanghai::parse_date(&p.ended_on),
                    renewed.contains(&p.id),
                    today,
                );
                p
            })
            .collect())
    }

    /// Ids of periods some renewal continues (looked up across the case, not only the rows at hand).
    fn renewed_period_ids(
        &self,
        periods: &[(chrono::NaiveDate, chrono::NaiveDate, LocationPeriod)],
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT 1 FROM corr_location_period WHERE renewal_of = ?1 AND COALESCE(_deleted, 0) = 0 LIMIT 1",
        )?;
        for (_, _, p) in periods {
            if stmt.exists([&p.id])? {
                out.push(p.id.clone());
            }
        }
        Ok(out)
    }

    pub(super) fn location_events_of(&self, case_id: &str) -> Result<Vec<LocationEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, period_id, kind, occurred_at, place, action, recorded_by FROM corr_location_event \
             WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY occurred_at DESC, id DESC",
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
            ])
        })?;
        let mut out = Vec::new();
        for row in rows {
            let [id, period_id, kind, occurred_at, place, action, recorded_by] = row?;
            let Some(kind) = LocationEventKind::from_code(&kind) else {
                continue;
            };
            out.push(LocationEvent {
                id,
                case_id: case_id.to_string(),
                period_id,
                kind,
                occurred_at,
                place,
                action,
                recorded_by,
            });
        }
        Ok(out)
    }
}
