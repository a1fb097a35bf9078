//! C-21 statistics report from the local store: case rows read as of a date through their field
//! history (see [`crate::stats`]), grouped per township office of the user's subtree.

use super::Store;
use crate::codec;
use crate::error::{CoreError, Result};
use crate::lifecycle::status_label_zh;
use crate::merge::RowVersions;
use crate::model::{
    CaseKind, CaseStatus, EntryKind, EntryRecord, OrgKind, SessionUser, SupervisionLevel,
};
use crate::shanghai;
use crate::stats::{
    created_on, deleted_as_of, entered_on, text_as_of, StatisticsReport, StatsCompliance,
    StatsCount, StatsFigures, StatsFlow, StatsUnit,
};
use crate::supervision::{self, SupervisionRules};
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The lifecycle ends the report counts per period (L-10; C-18, C-19, C-20).
const ENDINGS: [CaseStatus; 3] = [
    CaseStatus::Released,
    CaseStatus::Revoked,
    CaseStatus::Terminated,
];

/// Where a flow (intake or ending) falls relative to the report's periods.
#[derive(Default, Clone, Copy)]
struct InPeriod {
    month: bool,
    year: bool,
}

/// What one case contributes to the report.
struct CaseFacts {
    unit: String,
    kind: CaseKind,
    status: CaseStatus,
    level: Option<SupervisionLevel>,
    intake: InPeriod,
    /// The ending the case reached within the year, if any.
    ended: Option<(CaseStatus, InPeriod)>,
    /// (labour met, education met) when the case was in correction at the end of the compliance month.
    compliance: Option<(bool, bool)>,
}

struct OrgNode {
    parent_id: Option<String>,
    kind: Option<OrgKind>,
    name: String,
    deleted: bool,
}

/// The periods of one report.
struct Periods {
    as_of: NaiveDate,
    month_start: NaiveDate,
    year_start: NaiveDate,
    /// The month before `as_of`'s month, for C-10 / C-11.
    compliance_first: NaiveDate,
    compliance_last: NaiveDate,
}

impl Periods {
    fn new(as_of: NaiveDate) -> Periods {
        let month_start = supervision::month_bounds(as_of).0;
        let year_start = as_of.with_ordinal(1).unwrap_or(month_start);
        let previous = month_start.pred_opt().unwrap_or(month_start);
        let (compliance_first, compliance_last) = supervision::month_bounds(previous);
        Periods {
            as_of,
            month_start,
            year_start,
            compliance_first,
            compliance_last,
        }
    }
    fn of(&self, day: Option<NaiveDate>) -> InPeriod {
        match day {
            Some(d) if d <= self.as_of => InPeriod {
                month: d >= self.month_start,
                year: d >= self.year_start,
            },
            _ => InPeriod::default(),
        }
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn level_label_zh(level: Option<SupervisionLevel>) -> &'static str {
    match level {
        Some(SupervisionLevel::Strict) => "严管",
        Some(SupervisionLevel::Normal) => "普管",
        Some(SupervisionLevel::Lenient) => "宽管",
        None => "未定级",
    }
}

fn flow_label_zh(code: &str) -> &'static str {
    match code {
        "intake" => "新接收",
        "released" => "解除",
        "revoked" => "撤销（收监）",
        _ => "终止",
    }
}

fn decode(table: &str, id: &str, bytes: &[u8]) -> Result<RowVersions> {
    codec::decode_row(bytes).map_err(|e| CoreError::Corrupt(format!("{table} {id} history: {e}")))
}

/// Sums the facts of a group of cases into the report's figures.
fn figures<'a>(
    facts: impl Iterator<Item = &'a CaseFacts>,
    rules: &SupervisionRules,
) -> StatsFigures {
    let mut total = 0;
    let mut kinds = [0u32; CaseKind::ALL.len()];
    let mut statuses = [0u32; CaseStatus::ALL.len()];
    let mut levels = [0u32; SupervisionLevel::ALL.len() + 1];
    let mut intake = (0, 0);
    let mut ended = [(0u32, 0u32); ENDINGS.len()];
    let (mut labour, mut education, mut in_correction) = (0, 0, 0);
    for f in facts {
        total += 1;
        if let Some(i) = CaseKind::ALL.iter().position(|k| *k == f.kind) {
            kinds[i] += 1;
        }
        if let Some(i) = CaseStatus::ALL.iter().position(|s| *s == f.status) {
            statuses[i] += 1;
        }
        if !crate::lifecycle::is_final(f.status) {
            let i = f
                .level
                .and_then(|l| SupervisionLevel::ALL.iter().position(|x| *x == l))
                .unwrap_or(SupervisionLevel::ALL.len());
            levels[i] += 1;
        }
        intake.0 += u32::from(f.intake.month);
        intake.1 += u32::from(f.intake.year);
        if let Some((status, when)) = f.ended {
            if let Some(i) = ENDINGS.iter().position(|s| *s == status) {
                ended[i].0 += u32::from(when.month);
                ended[i].1 += u32::from(when.year);
            }
        }
        if let Some((l, e)) = f.compliance {
            in_correction += 1;
            labour += u32::from(l);
            education += u32::from(e);
        }
    }
    let count = |code: &str, label: &str, count: u32| StatsCount {
        code: code.to_string(),
        label_zh: label.to_string(),
        count,
    };
    let flow = |code: &str, (month, year_to_date): (u32, u32)| StatsFlow {
        code: code.to_string(),
        label_zh: flow_label_zh(code).to_string(),
        month,
        year_to_date,
    };
    let mut by_level: Vec<StatsCount> = SupervisionLevel::ALL
        .iter()
        .zip(levels)
        .map(|(l, n)| count(l.code(), level_label_zh(Some(*l)), n))
        .collect();
    by_level.push(count(
        "unset",
        level_label_zh(None),
        levels[SupervisionLevel::ALL.len()],
    ));
    let mut flows = vec![flow("intake", intake)];
    flows.extend(ENDINGS.iter().zip(ended).map(|(s, n)| flow(s.code(), n)));
    let labour_days = rules.labour_minutes_per_month / (8 * 60);
    StatsFigures {
        total,
        by_kind: CaseKind::ALL
            .iter()
            .zip(kinds)
            .map(|(k, n)| count(k.code(), k.label_zh(), n))
            .collect(),
        by_status: CaseStatus::ALL
            .iter()
            .zip(statuses)
            .map(|(s, n)| count(s.code(), status_label_zh(*s), n))
            .collect(),
        by_level,
        flows,
        compliance: vec![
            StatsCompliance {
                rule_id: "C-10.labour_monthly".to_string(),
                rule_ref: "C-10".to_string(),
                label_zh: format!("社会公益劳动每月累计不少于{labour_days}个工作日（C-10）"),
                numerator: labour,
                denominator: in_correction,
            },
            StatsCompliance {
                rule_id: "C-11.group_education_monthly".to_string(),
                rule_ref: "C-11".to_string(),
                label_zh: format!(
                    "集中教育每月不少于{}次、每次不少于{}小时（C-11）",
                    rules.group_education_per_month,
                    rules.group_education_min_minutes / 60
                ),
                numerator: education,
                denominator: in_correction,
            },
        ],
    }
}

impl Store {
    /// C-21: the statistics report of the user's org unit and the units below it, as the record stood
    /// at the end of `as_of` (Asia/Shanghai). Reproducible: a later edit does not change the figures of
    /// an earlier date.
    pub fn statistics(&self, user: &SessionUser, as_of: NaiveDate) -> Result<StatisticsReport> {
        self.require_read(user)?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        if as_of > today {
            return Err(CoreError::invalid(
                "as_of",
                "the report date is in the future",
                "统计日期不能晚于今天",
            ));
        }
        let periods = Periods::new(as_of);
        let rules = self.supervision_rules()?;
        let orgs = self.org_nodes()?;
        let scope: HashSet<String> = self.org_subtree(&user.org_unit_id)?.into_iter().collect();
        let root = user.org_unit_id.as_str();
        // The township office a unit reports under (the root itself for cases held above them).
        let unit_of = |org: &str| -> String {
            let mut at = org;
            for _ in 0..64 {
                if !scope.contains(at) {
                    break;
                }
                let Some(node) = orgs.get(at) else { break };
                if node.kind == Some(OrgKind::Township) {
                    return at.to_string();
                }
                if at == root {
                    break;
                }
                match node.parent_id.as_deref() {
                    Some(parent) => at = parent,
                    None => break,
                }
            }
            root.to_string()
        };

        let cases = self.case_histories(&periods, &scope)?;
        let entries = self.compliance_entries(&periods, &cases)?;
        let mut facts = Vec::with_capacity(cases.len());
        for (id, org, row) in &cases {
            let read = |field| text_as_of(row, field, as_of);
            let (Some(kind), Some(status)) = (
                read("kind").and_then(CaseKind::from_code),
                read("status").and_then(CaseStatus::from_code),
            ) else {
                // A row still arriving through sync without its kind or status is not a case yet.
                continue;
            };
            let ended = ENDINGS.iter().find(|s| **s == status).and_then(|s| {
                let when = periods.of(entered_on(row, "status", s.code(), as_of));
                (when.month || when.year).then_some((*s, when))
            });
            let month_end = periods.compliance_last;
            let in_correction_then = text_as_of(row, "status", month_end)
                == Some(CaseStatus::InCorrection.code())
                && text_as_of(row, "sentence_start", month_end)
                    .and_then(shanghai::parse_date)
                    .is_some_and(|start| start <= month_end);
            let compliance = in_correction_then.then(|| {
                let m = supervision::month_compliance(
                    entries.get(id.as_str()).map_or(&[][..], Vec::as_slice),
                    month_end,
                    as_of,
                    &rules,
                );
                (m.labour_ok, m.education_ok)
            });
            facts.push(CaseFacts {
                unit: unit_of(org),
                kind,
                status,
                level: read("supervision_level").and_then(SupervisionLevel::from_code),
                intake: periods.of(created_on(row)),
                ended,
                compliance,
            });
        }

        // Every township office of the scope gets a row, with or without cases ("none missed").
        let mut unit_ids: Vec<String> = scope
            .iter()
            .filter(|id| {
                orgs.get(id.as_str())
                    .is_some_and(|o| o.kind == Some(OrgKind::Township) && !o.deleted)
            })
            .cloned()
            .collect();
        if unit_ids.is_empty() {
            unit_ids.push(root.to_string());
        }
        for f in &facts {
            if !unit_ids.contains(&f.unit) {
                unit_ids.push(f.unit.clone());
            }
        }
        let name_of = |id: &str| {
            orgs.get(id)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let mut units: Vec<StatsUnit> = unit_ids
            .into_iter()
            .map(|id| StatsUnit {
                org_unit_name: name_of(&id),
                figures: figures(facts.iter().filter(|f| f.unit == id), &rules),
                org_unit_id: id,
            })
            .collect();
        // D-4: in the org tree's order (as the district created its units), as the city's forms list
        // them, not in the byte order of their names (which put a township named with a 生僻字 last).
        let parents: Vec<(&str, Option<&str>)> = orgs
            .iter()
            .map(|(id, o)| (id.as_str(), o.parent_id.as_deref()))
            .collect();
        let order = crate::stats::tree_order(&parents, root);
        let position = |id: &str| order.iter().position(|o| o == id).unwrap_or(usize::MAX);
        units.sort_by_key(|u| (position(&u.org_unit_id), u.org_unit_id.clone()));
        Ok(StatisticsReport {
            as_of: day(as_of),
            org_unit_id: root.to_string(),
            org_unit_name: name_of(root),
            month: periods.month_start.format("%Y-%m").to_string(),
            year_start: day(periods.year_start),
            compliance_month: periods.compliance_first.format("%Y-%m").to_string(),
            units,
            totals: figures(facts.iter(), &rules),
        })
    }

    /// C-21 / D-4: the report of [`Store::statistics`] as an .xlsx workbook.
    pub fn statistics_xlsx(&self, user: &SessionUser, as_of: NaiveDate) -> Result<Vec<u8>> {
        let report = self.statistics(user, as_of)?;
        crate::stats::write_xlsx(&report).map_err(|e| {
            CoreError::invalid(
                "export",
                format!("cannot write the workbook: {e}"),
                "生成Excel文件失败，请重试。",
            )
        })
    }

    fn org_nodes(&self) -> Result<HashMap<String, OrgNode>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, parent_id, kind, name, COALESCE(_deleted, 0) FROM org_unit",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                OrgNode {
                    parent_id: r.get(1)?,
                    kind: r
                        .get::<_, Option<String>>(2)?
                        .as_deref()
                        .and_then(OrgKind::from_code),
                    name: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    deleted: r.get::<_, i64>(4)? != 0,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
    }

    /// The cases that existed at the end of `as_of`, were not deleted then and belonged to a unit of
    /// the scope then: (id, org unit then, history).
    fn case_histories(
        &self,
        periods: &Periods,
        scope: &HashSet<String>,
    ) -> Result<Vec<(String, String, RowVersions)>> {
        // Every row is read, not only those in scope today: a case transferred out after the date was
        // still this office's on that date (scope is decided by the history below).
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, _versions FROM corr_case ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        // L-6: the sending office's copy of a case handed over never learns of the move, so its own
        // history would keep the case here: the completed transfer decides from its completion day.
        let mut handed_over: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut transfers = self.conn.prepare_cached(
            "SELECT case_id, from_org_unit_id, completed_on FROM corr_transfer \
             WHERE status = 'completed' AND COALESCE(_deleted, 0) = 0",
        )?;
        let found = transfers.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            ))
        })?;
        for transfer in found {
            let (case_id, from, on) = transfer?;
            handed_over.entry(case_id).or_default().push((from, on));
        }
        let as_of_text = periods.as_of.format("%Y-%m-%d").to_string();
        let mut out = Vec::new();
        for row in rows {
            let (id, bytes) = row?;
            let history = decode("corr_case", &id, &bytes)?;
            if deleted_as_of(&history, periods.as_of) {
                continue;
            }
            let Some(org) = text_as_of(&history, "org_unit_id", periods.as_of) else {
                continue;
            };
            if !scope.contains(org) {
                continue;
            }
            let gone = handed_over.get(&id).is_some_and(|moves| {
                moves
                    .iter()
                    .any(|(from, on)| from == org && !on.is_empty() && *on <= as_of_text)
            });
            if gone {
                continue;
            }
            let org = org.to_string();
            out.push((id, org, history));
        }
        Ok(out)
    }

    /// The labour and group-education entries of the compliance month that were on record (and not
    /// deleted) at the end of the report date, per case.
    fn compliance_entries(
        &self,
        periods: &Periods,
        cases: &[(String, String, RowVersions)],
    ) -> Result<HashMap<String, Vec<EntryRecord>>> {
        let wanted: HashSet<&str> = cases.iter().map(|(id, _, _)| id.as_str()).collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, case_id, kind, occurred_on, minutes, _versions FROM corr_entry \
             WHERE kind IN (?1, ?2) AND occurred_on BETWEEN ?3 AND ?4 ORDER BY id",
        )?;
        let rows = stmt.query_map(
            rusqlite::params![
                EntryKind::Labour.code(),
                EntryKind::GroupEducation.code(),
                day(periods.compliance_first),
                day(periods.compliance_last),
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                ))
            },
        )?;
        let mut out: BTreeMap<String, Vec<EntryRecord>> = BTreeMap::new();
        for row in rows {
            let (id, case_id, kind, occurred_on, minutes, bytes) = row?;
            if !wanted.contains(case_id.as_str()) {
                continue;
            }
            let Some(kind) = kind.as_deref().and_then(EntryKind::from_code) else {
                continue;
            };
            let history = decode("corr_entry", &id, &bytes)?;
            let recorded_by_then = created_on(&history).is_some_and(|d| d <= periods.as_of);
            if !recorded_by_then || deleted_as_of(&history, periods.as_of) {
                continue;
            }
            out.entry(case_id.clone()).or_default().push(EntryRecord {
                id,
                case_id,
                kind,
                occurred_on,
                minutes: minutes.and_then(|m| u32::try_from(m).ok()),
                days: None,
                ref_entry_id: None,
                note: String::new(),
                recorded_by: String::new(),
            });
        }
        Ok(out.into_iter().collect())
    }
}
