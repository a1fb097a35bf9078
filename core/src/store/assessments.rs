//! C-14 quarterly and annual assessments (社区矫正对象年(季)度考核表) on the local store.

use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::model::{AssessmentGrade, AssessmentInput, AssessmentRecord, SessionUser};
use crate::shanghai;
use crate::tables;
use chrono::{Datelike, NaiveDate};

/// Each of the form's four parts scores up to this.
pub const PART_MAX: u32 = 25;
/// [local] grade thresholds on the 100-point total; the province's assessment rules (C-15) set them.
const EXCELLENT_FROM: u32 = 90;
const PASS_FROM: u32 = 70;
const BARELY_PASS_FROM: u32 = 60;

pub fn grade_of(total: u32) -> AssessmentGrade {
    match total {
        t if t >= EXCELLENT_FROM => AssessmentGrade::Excellent,
        t if t >= PASS_FROM => AssessmentGrade::Pass,
        t if t >= BARELY_PASS_FROM => AssessmentGrade::BarelyPass,
        _ => AssessmentGrade::Fail,
    }
}

fn grade_code(g: AssessmentGrade) -> &'static str {
    match g {
        AssessmentGrade::Excellent => "excellent",
        AssessmentGrade::Pass => "pass",
        AssessmentGrade::BarelyPass => "barely_pass",
        AssessmentGrade::Fail => "fail",
    }
}

/// First day of an assessment period: "2026-Q3" → 2026-07-01, "2026" → 2026-01-01.
pub fn period_start(period: &str) -> Option<NaiveDate> {
    match period.split_once("-Q") {
        Some((year, quarter)) => {
            let year: i32 = year.parse().ok()?;
            let quarter: u32 = quarter.parse().ok().filter(|q| (1..=4).contains(q))?;
            NaiveDate::from_ymd_opt(year, (quarter - 1) * 3 + 1, 1)
        }
        None if period.len() == 4 => NaiveDate::from_ymd_opt(period.parse().ok()?, 1, 1),
        None => None,
    }
}

/// The quarter label of a date, e.g. "2026-Q4".
pub fn quarter_of(date: NaiveDate) -> String {
    format!("{}-Q{}", date.year(), (date.month() - 1) / 3 + 1)
}

impl Store {
    pub fn add_assessment(
        &mut self,
        user: &SessionUser,
        input: AssessmentInput,
    ) -> Result<AssessmentRecord> {
        self.require_write(user)?;
        let case = self.case_for_write(user, &input.case_id)?;
        if case.deleted {
            return Err(CoreError::invalid(
                "case_id",
                "the case is deleted",
                "该案件已删除",
            ));
        }
        let start = period_start(input.period.trim()).ok_or_else(|| {
            CoreError::invalid(
                "period",
                "period must be YYYY-Qn or YYYY",
                "考核期间应为“2026-Q3”（季度）或“2026”（年度）",
            )
        })?;
        let on = shanghai::parse_date(&input.assessed_on).ok_or_else(|| {
            CoreError::invalid(
                "assessed_on",
                "date must be YYYY-MM-DD",
                "考核日期格式应为YYYY-MM-DD",
            )
        })?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        if on < start || on > today {
            return Err(CoreError::invalid(
                "assessed_on",
                "the assessment date must fall between the period's start and today",
                "考核日期应在考核期间开始之后、今天之前",
            ));
        }
        let parts = [
            input.score_conduct,
            input.score_reporting,
            input.score_study,
            input.score_labour,
        ];
        if parts.iter().any(|p| *p > PART_MAX) {
            return Err(CoreError::invalid(
                "score",
                "each part scores 0-25",
                "每项得分应在0到25分之间",
            ));
        }
        let total: u32 = parts.iter().sum();
        let id = uuid::Uuid::now_v7().to_string();
        let def =
            tables::table("corr_assessment").ok_or(CoreError::NotFound("table corr_assessment"))?;
        self.write_row(
            &user.user_id,
            def,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("period", input.period.trim().to_string()),
                WriteChange::new("assessed_on", on.format("%Y-%m-%d").to_string()),
                WriteChange::new("score_conduct", input.score_conduct),
                WriteChange::new("score_reporting", input.score_reporting),
                WriteChange::new("score_study", input.score_study),
                WriteChange::new("score_labour", input.score_labour),
                WriteChange::new("grade", grade_code(grade_of(total))),
                WriteChange::new(
                    "opinion",
                    input.opinion.trim().chars().take(2000).collect::<String>(),
                ),
                WriteChange::new("assessor", user.display_name.clone()),
            ],
        )?;
        self.assessments_of(&case.id)?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(CoreError::NotFound("assessment"))
    }

    /// Newest first; a later assessment of the same period supersedes the earlier (both are kept).
    pub(super) fn assessments_of(&self, case_id: &str) -> Result<Vec<AssessmentRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, period, assessed_on, score_conduct, score_reporting, score_study, score_labour, opinion, assessor \
             FROM corr_assessment WHERE case_id = ?1 AND COALESCE(_deleted, 0) = 0 ORDER BY assessed_on DESC, id DESC",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            let score = |i: usize| -> rusqlite::Result<u32> {
                Ok(r.get::<_, Option<i64>>(i)?
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0))
            };
            let (a, b, c, d) = (score(3)?, score(4)?, score(5)?, score(6)?);
            Ok(AssessmentRecord {
                id: r.get(0)?,
                case_id: case_id.to_string(),
                period: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                assessed_on: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                score_conduct: a,
                score_reporting: b,
                score_study: c,
                score_labour: d,
                total: a + b + c + d,
                grade: grade_of(a + b + c + d),
                opinion: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                assessor: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c14_periods_and_grades() {
        assert_eq!(period_start("2026-Q3"), NaiveDate::from_ymd_opt(2026, 7, 1));
        assert_eq!(period_start("2026"), NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(period_start("2026-Q5"), None);
        assert_eq!(period_start("Q3"), None);
        assert_eq!(
            quarter_of(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            "2026-Q4"
        );
        assert_eq!(grade_of(100), AssessmentGrade::Excellent);
        assert_eq!(grade_of(70), AssessmentGrade::Pass);
        assert_eq!(grade_of(59), AssessmentGrade::Fail);
    }
}
