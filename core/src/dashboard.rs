//! Issue 13 §2: the district's oversight dashboards (D-1): cases per office and per officer, overdue
//! clocks per office and per rule, monthly compliance (C-10, C-11, L-3), appeals by deadline state and
//! satisfaction (W-2), mediation outcomes (W-3), over a chosen date range.
//!
//! This module is pure: it turns plain rows (read by `Store::dashboard`, store/dashboard.rs) into the
//! charts, so every rule here is tested without SQLite and without the real clock. Every bucket carries
//! its records, so each chart drills down to its list on the desktop without another round trip.

use crate::model::{AppealStatus, MediationOutcome, OrgKind};
use crate::shanghai;
use crate::supervision::month_bounds;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use ts_rs::TS;

/// One record behind a bar or a slice: what the drill-down list shows and opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DashboardRecord {
    /// "case" (a corrections case), "appeal" (W-2) or "mediation" (W-3): what `id` names.
    pub kind: String,
    pub id: String,
    /// The person's name, or the appeal's petitioner and subject, or the mediation's parties.
    pub title: String,
    /// The office (township) the record belongs to.
    pub unit: String,
    /// What the bucket says about the record, e.g. the rule and its due date.
    pub detail: String,
    /// YYYY-MM-DD: the day the detail is about (due date, day received, …).
    pub date: String,
}

/// One bar or slice of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DashboardBucket {
    /// Stable key (an org unit id, an officer id, a rule id, a state code).
    pub key: String,
    /// zh-CN label (the UI translates the fixed state codes).
    pub label: String,
    pub count: u32,
    pub records: Vec<DashboardRecord>,
}

/// One rule's monthly figure: of the cases due, how many met it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DashboardRate {
    /// "YYYY-MM:C-10" and so on.
    pub key: String,
    /// "C-10", "C-11" or "L-3".
    pub rule_ref: String,
    pub label: String,
    pub met: u32,
    pub due: u32,
    /// met / due (0..=1); None when no case was due.
    pub rate: Option<f64>,
    /// The cases due, those that missed first.
    pub records: Vec<DashboardRecord>,
}

/// C-10 / C-11 / L-3 of one Shanghai month of the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DashboardMonth {
    /// YYYY-MM
    pub month: String,
    /// "2026年1月"
    pub label: String,
    /// False for the month holding `to` when `to` is not its last day (the figures are so far).
    pub complete: bool,
    pub rates: Vec<DashboardRate>,
}

/// The dashboard of one date range, as of its last day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Dashboard {
    /// YYYY-MM-DD (Asia/Shanghai), first day of the range.
    pub from: String,
    /// YYYY-MM-DD, last day of the range.
    pub to: String,
    /// YYYY-MM-DD: the day clocks and states are read as of (= `to`).
    pub as_of: String,
    pub cases_per_office: Vec<DashboardBucket>,
    pub cases_per_officer: Vec<DashboardBucket>,
    pub overdue_per_office: Vec<DashboardBucket>,
    pub overdue_per_rule: Vec<DashboardBucket>,
    pub compliance_by_month: Vec<DashboardMonth>,
    pub appeals_by_deadline_state: Vec<DashboardBucket>,
    pub appeals_by_satisfaction: Vec<DashboardBucket>,
    pub mediation_by_outcome: Vec<DashboardBucket>,
}

// ---- input rows (plain, no SQLite) -----------------------------------------------------------------

/// An org unit of the tree.
#[derive(Debug, Clone)]
pub struct OrgRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub kind: Option<OrgKind>,
    pub name: String,
    pub deleted: bool,
}

/// A corrections case as it stands.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: String,
    pub name: String,
    pub unit_id: String,
    pub officer_id: Option<String>,
    pub officer_name: String,
    pub sentence_start: String,
    pub sentence_end: String,
    pub status_label: String,
    pub deleted: bool,
}

/// An open clock of the digest computed as of `to` (core::store::tasks).
#[derive(Debug, Clone)]
pub struct ClockRow {
    /// "case" | "appeal" | "mediation"
    pub kind: String,
    pub id: String,
    pub title: String,
    pub unit_id: String,
    pub rule_id: String,
    pub rule_ref: String,
    pub rule_title: String,
    pub due_date: String,
}

/// Whether one case met one monthly rule (C-10, C-11, L-3).
#[derive(Debug, Clone)]
pub struct ComplianceRow {
    /// YYYY-MM
    pub month: String,
    pub rule_ref: String,
    pub case_id: String,
    pub name: String,
    pub unit_id: String,
    pub met: bool,
    /// e.g. "劳动 960/960 分钟".
    pub detail: String,
}

/// A W-2 appeal.
#[derive(Debug, Clone)]
pub struct AppealRow {
    pub id: String,
    pub title: String,
    pub unit_id: String,
    pub received_on: String,
    pub due_on: String,
    pub status: AppealStatus,
    pub resolved_on: String,
    pub satisfaction: String,
    pub followed_up_on: String,
    pub deleted: bool,
}

/// A W-3 mediation case.
#[derive(Debug, Clone)]
pub struct MediationRow {
    pub id: String,
    pub title: String,
    pub unit_id: String,
    pub accepted_on: String,
    pub outcome: Option<MediationOutcome>,
    pub concluded_on: String,
    pub conclude_due: String,
    pub deleted: bool,
}

/// Everything the dashboard is made of.
#[derive(Debug, Clone)]
pub struct DashboardInput {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The user's org unit: the top of the scope.
    pub root: String,
    pub org: Vec<OrgRow>,
    pub cases: Vec<CaseRow>,
    pub clocks: Vec<ClockRow>,
    pub compliance: Vec<ComplianceRow>,
    pub appeals: Vec<AppealRow>,
    pub mediations: Vec<MediationRow>,
}

// ---- the org tree ----------------------------------------------------------------------------------

/// The offices of the scope, in the org tree's order (`stats::tree_order`, as the district created
/// them, never the byte order of their names): every township that is not deleted, or the root alone
/// when it has none (an office's own dashboard).
pub struct Offices {
    order: Vec<(String, String)>,
    parent: HashMap<String, (Option<String>, Option<OrgKind>)>,
    names: HashMap<String, String>,
    root: String,
}

impl Offices {
    pub fn new(org: &[OrgRow], root: &str) -> Offices {
        let parents: Vec<(&str, Option<&str>)> = org
            .iter()
            .map(|o| (o.id.as_str(), o.parent_id.as_deref()))
            .collect();
        let tree = crate::stats::tree_order(&parents, root);
        let by_id: HashMap<&str, &OrgRow> = org.iter().map(|o| (o.id.as_str(), o)).collect();
        let mut order: Vec<(String, String)> = tree
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .filter(|o| o.kind == Some(OrgKind::Township) && !o.deleted)
            .map(|o| (o.id.clone(), o.name.clone()))
            .collect();
        let names: HashMap<String, String> =
            org.iter().map(|o| (o.id.clone(), o.name.clone())).collect();
        if order.is_empty() {
            let name = names.get(root).cloned().unwrap_or_else(|| root.to_string());
            order.push((root.to_string(), name));
        }
        Offices {
            order,
            parent: org
                .iter()
                .map(|o| (o.id.clone(), (o.parent_id.clone(), o.kind)))
                .collect(),
            names,
            root: root.to_string(),
        }
    }

    /// The township office a unit reports under (the root itself for records held above them).
    pub fn office_of(&self, unit: &str) -> String {
        let mut at = unit.to_string();
        for _ in 0..64 {
            let Some((parent, kind)) = self.parent.get(&at) else {
                break;
            };
            if *kind == Some(OrgKind::Township) {
                return at;
            }
            if at == self.root {
                break;
            }
            match parent {
                Some(p) => at = p.clone(),
                None => break,
            }
        }
        self.root.clone()
    }

    pub fn name_of(&self, unit: &str) -> String {
        self.names
            .get(unit)
            .cloned()
            .unwrap_or_else(|| unit.to_string())
    }

    /// Position of an office in the tree order (unknown ones last, by id).
    fn position(&self, office: &str) -> usize {
        self.order
            .iter()
            .position(|(id, _)| id == office)
            .unwrap_or(usize::MAX)
    }

    /// One bucket per office, in tree order, with or without records ("none missed", C-21); records of
    /// an office outside the list (the root, say) get a bucket of their own after them.
    fn buckets(&self, records: Vec<(String, DashboardRecord)>) -> Vec<DashboardBucket> {
        let mut buckets: Vec<DashboardBucket> = self
            .order
            .iter()
            .map(|(id, name)| bucket(id, name))
            .collect();
        for (office, record) in records {
            match buckets.iter_mut().find(|b| b.key == office) {
                Some(b) => b.records.push(record),
                None => {
                    let mut b = bucket(&office, &self.name_of(&office));
                    b.records.push(record);
                    buckets.push(b);
                }
            }
        }
        finish(buckets)
    }
}

fn bucket(key: &str, label: &str) -> DashboardBucket {
    DashboardBucket {
        key: key.to_string(),
        label: label.to_string(),
        count: 0,
        records: Vec::new(),
    }
}

/// Counts the records of each bucket and sorts them by date, then title.
fn finish(mut buckets: Vec<DashboardBucket>) -> Vec<DashboardBucket> {
    for b in &mut buckets {
        b.records
            .sort_by(|x, y| (&x.date, &x.title, &x.id).cmp(&(&y.date, &y.title, &y.id)));
        b.count = u32::try_from(b.records.len()).unwrap_or(u32::MAX);
    }
    buckets
}

/// Fixed buckets (state codes) in the given order, each with its records.
fn coded_buckets(
    codes: &[(&str, &str)],
    records: Vec<(&str, DashboardRecord)>,
) -> Vec<DashboardBucket> {
    let mut buckets: Vec<DashboardBucket> = codes.iter().map(|(k, l)| bucket(k, l)).collect();
    for (code, record) in records {
        if let Some(b) = buckets.iter_mut().find(|b| b.key == code) {
            b.records.push(record);
        }
    }
    finish(buckets)
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn within(text: &str, from: NaiveDate, to: NaiveDate) -> bool {
    shanghai::parse_date(text).is_some_and(|d| d >= from && d <= to)
}

/// A date field as of the end of `to`: set and not after it.
fn by(text: &str, to: NaiveDate) -> Option<NaiveDate> {
    shanghai::parse_date(text).filter(|d| *d <= to)
}

// ---- the months of the range -----------------------------------------------------------------------

/// The Shanghai months the range touches, each as (first day, last day), first to last; empty when
/// `from` is after `to`.
pub fn months_in_range(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    let mut at = month_bounds(from).0;
    while at <= to {
        let (first, last) = month_bounds(at);
        out.push((first, last));
        match last.succ_opt() {
            Some(next) => at = next,
            None => break,
        }
    }
    out
}

/// The longest range the screen may ask for: one year (366 days with a leap day), so every chart stays
/// readable on A4.
pub const MAX_RANGE_DAYS: i64 = 366;

/// The range the desktop asks for: `to` defaults to `today` (Asia/Shanghai), `from` to the first day
/// of the month two months before `to` (three calendar months in all). A range that starts after it
/// ends, or is longer than [`MAX_RANGE_DAYS`], is refused.
pub fn resolve_range(
    today: NaiveDate,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), crate::CoreError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| {
        month_bounds(to)
            .0
            .checked_sub_months(chrono::Months::new(2))
            .unwrap_or(to)
    });
    if from > to {
        return Err(crate::CoreError::invalid(
            "from",
            "the range starts after it ends",
            "开始日期不能晚于结束日期",
        ));
    }
    if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
        return Err(crate::CoreError::invalid(
            "from",
            "the range is longer than 366 days",
            "日期范围不能超过366天",
        ));
    }
    Ok((from, to))
}

/// "2026-01" → "2026年1月".
pub fn month_label(first: NaiveDate) -> String {
    format!("{}年{}月", first.year(), first.month())
}

// ---- the charts ------------------------------------------------------------------------------------

/// A case counts in the range when its correction period overlaps it (a case without a readable start
/// counts: none missed).
fn case_in_range(c: &CaseRow, from: NaiveDate, to: NaiveDate) -> bool {
    let starts_by_to = shanghai::parse_date(&c.sentence_start).is_none_or(|s| s <= to);
    let ends_after_from = shanghai::parse_date(&c.sentence_end).is_none_or(|e| e >= from);
    !c.deleted && starts_by_to && ends_after_from
}

fn case_record(c: &CaseRow, offices: &Offices) -> DashboardRecord {
    DashboardRecord {
        kind: "case".to_string(),
        id: c.id.clone(),
        title: c.name.clone(),
        unit: offices.name_of(&offices.office_of(&c.unit_id)),
        detail: format!(
            "{}（{}至{}）",
            c.status_label, c.sentence_start, c.sentence_end
        ),
        date: c.sentence_start.clone(),
    }
}

/// C-21 / D-1: the cases under correction in the range, per office.
pub fn cases_per_office(input: &DashboardInput, offices: &Offices) -> Vec<DashboardBucket> {
    offices.buckets(
        input
            .cases
            .iter()
            .filter(|c| case_in_range(c, input.from, input.to))
            .map(|c| (offices.office_of(&c.unit_id), case_record(c, offices)))
            .collect(),
    )
}

/// The same cases per responsible officer (责任矫正专干): officers by their office's tree order, then
/// name; cases without one last ("未指定").
pub fn cases_per_officer(input: &DashboardInput, offices: &Offices) -> Vec<DashboardBucket> {
    let mut keyed: Vec<(usize, DashboardBucket)> = Vec::new();
    for c in input
        .cases
        .iter()
        .filter(|c| case_in_range(c, input.from, input.to))
    {
        let (key, label, position) = match &c.officer_id {
            Some(id) if !id.is_empty() => {
                let name = if c.officer_name.is_empty() {
                    id.clone()
                } else {
                    c.officer_name.clone()
                };
                (
                    id.clone(),
                    name,
                    offices.position(&offices.office_of(&c.unit_id)),
                )
            }
            _ => ("unassigned".to_string(), "未指定".to_string(), usize::MAX),
        };
        let record = case_record(c, offices);
        match keyed.iter_mut().find(|(_, b)| b.key == key) {
            Some((p, b)) => {
                *p = (*p).min(position);
                b.records.push(record);
            }
            None => {
                let mut b = bucket(&key, &label);
                b.records.push(record);
                keyed.push((position, b));
            }
        }
    }
    keyed.sort_by(|(p, a), (q, b)| (p, &a.label, &a.key).cmp(&(q, &b.label, &b.key)));
    finish(keyed.into_iter().map(|(_, b)| b).collect())
}

/// The clocks overdue at the end of `to`: due before it (L-0: a period ends at the end of its last
/// day). The digest computed them as of `to`, never as of the real clock.
fn overdue_clocks(input: &DashboardInput) -> impl Iterator<Item = &ClockRow> {
    input
        .clocks
        .iter()
        .filter(move |c| shanghai::parse_date(&c.due_date).is_some_and(|due| due < input.to))
}

fn clock_record(c: &ClockRow, offices: &Offices) -> DashboardRecord {
    DashboardRecord {
        kind: c.kind.clone(),
        id: c.id.clone(),
        title: c.title.clone(),
        unit: offices.name_of(&offices.office_of(&c.unit_id)),
        detail: format!("{} {}（应于{}前）", c.rule_ref, c.rule_title, c.due_date),
        date: c.due_date.clone(),
    }
}

/// Overdue clocks (cases' C-/L- rules, W-2 appeals, W-3 mediations) per office.
pub fn overdue_per_office(input: &DashboardInput, offices: &Offices) -> Vec<DashboardBucket> {
    offices.buckets(
        overdue_clocks(input)
            .map(|c| (offices.office_of(&c.unit_id), clock_record(c, offices)))
            .collect(),
    )
}

/// Overdue clocks per rule of the rule table, most first (then by rule id).
pub fn overdue_per_rule(input: &DashboardInput, offices: &Offices) -> Vec<DashboardBucket> {
    let mut buckets: Vec<DashboardBucket> = Vec::new();
    for c in overdue_clocks(input) {
        let record = clock_record(c, offices);
        match buckets.iter_mut().find(|b| b.key == c.rule_id) {
            Some(b) => b.records.push(record),
            None => {
                let mut b = bucket(&c.rule_id, &format!("{} {}", c.rule_ref, c.rule_title));
                b.records.push(record);
                buckets.push(b);
            }
        }
    }
    let mut buckets = finish(buckets);
    buckets.sort_by(|a, b| (b.count, &a.key).cmp(&(a.count, &b.key)));
    buckets
}

/// The monthly rules, in the order the chart shows them.
pub const MONTHLY_RULES: [(&str, &str); 3] = [
    ("C-10", "社会公益劳动（C-10）"),
    ("C-11", "集中教育（C-11）"),
    ("L-3", "分类管理报告（L-3）"),
];

/// C-10, C-11, L-3: per Shanghai month of the range, of the cases due, how many met the rule.
pub fn compliance_by_month(input: &DashboardInput, offices: &Offices) -> Vec<DashboardMonth> {
    months_in_range(input.from, input.to)
        .into_iter()
        .map(|(first, last)| {
            let month = first.format("%Y-%m").to_string();
            let rates = MONTHLY_RULES
                .iter()
                .map(|(rule_ref, label)| {
                    let rows: Vec<&ComplianceRow> = input
                        .compliance
                        .iter()
                        .filter(|r| r.month == month && r.rule_ref == *rule_ref)
                        .collect();
                    let due = u32::try_from(rows.len()).unwrap_or(u32::MAX);
                    let met = u32::try_from(rows.iter().filter(|r| r.met).count()).unwrap_or(0);
                    let mut records: Vec<(bool, DashboardRecord)> = rows
                        .iter()
                        .map(|r| {
                            let state = if r.met { "达标" } else { "未达标" };
                            (
                                r.met,
                                DashboardRecord {
                                    kind: "case".to_string(),
                                    id: r.case_id.clone(),
                                    title: r.name.clone(),
                                    unit: offices.name_of(&offices.office_of(&r.unit_id)),
                                    detail: format!("{rule_ref} {state}：{}", r.detail),
                                    date: day(last.min(input.to)),
                                },
                            )
                        })
                        .collect();
                    records
                        .sort_by(|(m, a), (n, b)| (m, &a.title, &a.id).cmp(&(n, &b.title, &b.id)));
                    DashboardRate {
                        key: format!("{month}:{rule_ref}"),
                        rule_ref: (*rule_ref).to_string(),
                        label: (*label).to_string(),
                        met,
                        due,
                        rate: (due > 0).then(|| f64::from(met) / f64::from(due)),
                        records: records.into_iter().map(|(_, r)| r).collect(),
                    }
                })
                .collect();
            DashboardMonth {
                label: month_label(first),
                month,
                complete: last <= input.to,
                rates,
            }
        })
        .collect()
}

/// W-2 deadline states, as of the end of `to`.
pub const APPEAL_STATES: [(&str, &str); 4] = [
    ("open_in_time", "办理中（未超期）"),
    ("open_overdue", "办理中（已超期）"),
    ("resolved_in_time", "按期办结"),
    ("resolved_late", "超期办结"),
];

/// W-2 satisfaction of the appeals resolved by `to` (L-15 follow-up call).
pub const SATISFACTION: [(&str, &str); 4] = [
    ("satisfied", "满意"),
    ("basically_satisfied", "基本满意"),
    ("unsatisfied", "不满意"),
    ("awaiting", "待回访"),
];

fn appeal_record(a: &AppealRow, offices: &Offices, detail: String) -> DashboardRecord {
    DashboardRecord {
        kind: "appeal".to_string(),
        id: a.id.clone(),
        title: a.title.clone(),
        unit: offices.name_of(&offices.office_of(&a.unit_id)),
        detail,
        date: a.received_on.clone(),
    }
}

/// The appeals received in the range, not deleted.
fn appeals_in_range(input: &DashboardInput) -> impl Iterator<Item = &AppealRow> {
    input
        .appeals
        .iter()
        .filter(move |a| !a.deleted && within(&a.received_on, input.from, input.to))
}

/// The day an appeal was resolved, when that was by `to` (a later resolution is still open then).
fn resolved_by(a: &AppealRow, to: NaiveDate) -> Option<NaiveDate> {
    matches!(a.status, AppealStatus::Resolved | AppealStatus::Closed)
        .then(|| by(&a.resolved_on, to))
        .flatten()
}

/// W-2 (L-14, L-15): the appeals received in the range by where their handling deadline stands.
pub fn appeals_by_deadline_state(
    input: &DashboardInput,
    offices: &Offices,
) -> Vec<DashboardBucket> {
    let records = appeals_in_range(input)
        .map(|a| {
            let due = shanghai::parse_date(&a.due_on);
            let state = match resolved_by(a, input.to) {
                Some(done) if due.is_none_or(|d| done <= d) => "resolved_in_time",
                Some(_) => "resolved_late",
                None if due.is_some_and(|d| d < input.to) => "open_overdue",
                None => "open_in_time",
            };
            let detail = match resolved_by(a, input.to) {
                Some(done) => format!("办结于{}，期限{}", day(done), a.due_on),
                None => format!("期限{}", a.due_on),
            };
            (state, appeal_record(a, offices, detail))
        })
        .collect();
    coded_buckets(&APPEAL_STATES, records)
}

/// W-2 / L-15: the appeals of the range resolved by `to`, by the satisfaction their follow-up call
/// recorded by `to`.
pub fn appeals_by_satisfaction(input: &DashboardInput, offices: &Offices) -> Vec<DashboardBucket> {
    let records = appeals_in_range(input)
        .filter(|a| resolved_by(a, input.to).is_some())
        .map(|a| {
            let followed = by(&a.followed_up_on, input.to).is_some();
            let code = SATISFACTION
                .iter()
                .map(|(code, _)| *code)
                .find(|code| followed && *code == a.satisfaction)
                .unwrap_or("awaiting");
            let detail = if code == "awaiting" {
                format!("办结于{}，待回访", a.resolved_on)
            } else {
                format!("回访于{}", a.followed_up_on)
            };
            (code, appeal_record(a, offices, detail))
        })
        .collect();
    coded_buckets(&SATISFACTION, records)
}

/// W-3 outcomes as of the end of `to`, open ones split by the L-16 one-month conclusion clock.
pub const MEDIATION_OUTCOMES: [(&str, &str); 5] = [
    ("success", "调解成功"),
    ("failed", "调解不成"),
    ("terminated", "终止"),
    ("open", "调解中"),
    ("open_overdue", "调解中（超一个月）"),
];

/// W-3: the mediations accepted in the range by outcome.
pub fn mediation_by_outcome(input: &DashboardInput, offices: &Offices) -> Vec<DashboardBucket> {
    let records = input
        .mediations
        .iter()
        .filter(|m| !m.deleted && within(&m.accepted_on, input.from, input.to))
        .map(|m| {
            let ended = m
                .outcome
                .filter(|_| by(&m.concluded_on, input.to).is_some());
            let (code, detail) = match ended {
                Some(o) => (o.code(), format!("结案于{}", m.concluded_on)),
                None if shanghai::parse_date(&m.conclude_due).is_some_and(|d| d < input.to) => (
                    "open_overdue",
                    format!("应于{}前结案（L-16）", m.conclude_due),
                ),
                None => ("open", format!("应于{}前结案", m.conclude_due)),
            };
            let record = DashboardRecord {
                kind: "mediation".to_string(),
                id: m.id.clone(),
                title: m.title.clone(),
                unit: offices.name_of(&offices.office_of(&m.unit_id)),
                detail,
                date: m.accepted_on.clone(),
            };
            (code, record)
        })
        .collect();
    coded_buckets(&MEDIATION_OUTCOMES, records)
}

/// The whole dashboard of the input's range.
pub fn build(input: &DashboardInput) -> Dashboard {
    let offices = Offices::new(&input.org, &input.root);
    Dashboard {
        from: day(input.from),
        to: day(input.to),
        as_of: day(input.to),
        cases_per_office: cases_per_office(input, &offices),
        cases_per_officer: cases_per_officer(input, &offices),
        overdue_per_office: overdue_per_office(input, &offices),
        overdue_per_rule: overdue_per_rule(input, &offices),
        compliance_by_month: compliance_by_month(input, &offices),
        appeals_by_deadline_state: appeals_by_deadline_state(input, &offices),
        appeals_by_satisfaction: appeals_by_satisfaction(input, &offices),
        mediation_by_outcome: mediation_by_outcome(input, &offices),
    }
}

#[cfg(test)]
#[path = "dashboard_tests.rs"]
mod tests;
