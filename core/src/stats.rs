//! C-21 statistics report (统计报表) of a judicial office or of the district, and its spreadsheet for
//! reporting upward (D-4).
//!
//! "True, accurate, none missed": every figure is counted from the case rows' field history, so the
//! report for an earlier date gives what the record said then. A field's value as of day D is its
//! latest version written on or before D (the version's HLC wall time, on the Asia/Shanghai calendar);
//! a case with no version on or before D did not exist yet. The store side is
//! `Store::statistics` / `Store::statistics_xlsx`; this module holds the report types (exported to
//! TypeScript), the as-of reading of a field history, and the workbook layout.

use crate::merge::{FieldVersion, RowVersions};
use crate::shanghai;
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One category and how many cases are in it (kind, status or supervision level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatsCount {
    /// The code: a `CaseKind`, `CaseStatus` or `SupervisionLevel` code, or "unset" (L-3 not decided).
    pub code: String,
    pub label_zh: String,
    pub count: u32,
}

/// Cases that entered the register or ended, in the month of the report date and in the year so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatsFlow {
    /// "intake" | "released" | "revoked" | "terminated"
    pub code: String,
    pub label_zh: String,
    pub month: u32,
    pub year_to_date: u32,
}

/// C-10 / C-11: how many of the cases in correction met a monthly minimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatsCompliance {
    /// The rule table id, e.g. "C-10.labour_monthly".
    pub rule_id: String,
    /// The DOMAIN.md rule, e.g. "C-10".
    pub rule_ref: String,
    /// zh-CN, with the figures of the rule table.
    pub label_zh: String,
    /// Cases that met the minimum.
    pub numerator: u32,
    /// Cases in correction at the end of the month.
    pub denominator: u32,
}

impl StatsCompliance {
    /// The share as a fraction (0..=1); None when no case was in correction.
    pub fn rate(&self) -> Option<f64> {
        (self.denominator > 0).then(|| f64::from(self.numerator) / f64::from(self.denominator))
    }
}

/// Every figure of the report for one group of cases (an org unit, or all of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatsFigures {
    /// Cases on the register as of the date (every status; deleted ones are not counted).
    pub total: u32,
    /// C-1: the five kinds, in `CaseKind::ALL` order.
    pub by_kind: Vec<StatsCount>,
    /// The lifecycle statuses, in `CaseStatus::ALL` order.
    pub by_status: Vec<StatsCount>,
    /// L-3: strict, normal, lenient, then "unset". Counts cases not yet ended (received, reported, in correction).
    pub by_level: Vec<StatsCount>,
    /// Intake (C-3/C-4) and the endings (L-10, C-18..C-20).
    pub flows: Vec<StatsFlow>,
    /// C-10 and C-11 for the month before the report date.
    pub compliance: Vec<StatsCompliance>,
}

/// The figures of one township (街道/乡镇) office, or of the unit itself for cases held above them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatsUnit {
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub figures: StatsFigures,
}

/// C-21 统计报表 as of one date, for the user's org unit and everything below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatisticsReport {
    /// YYYY-MM-DD (Asia/Shanghai): the report shows the record as it stood at the end of this day.
    pub as_of: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    /// YYYY-MM: the month of `as_of` (the "month" flows).
    pub month: String,
    /// YYYY-MM-DD: 1 January of the year of `as_of` (the "year to date" flows start here).
    pub year_start: String,
    /// YYYY-MM: the month the compliance rates are about (the month before `as_of`).
    pub compliance_month: String,
    /// Per township office (the district sees one row each; an office sees its own); sums to `totals`.
    pub units: Vec<StatsUnit>,
    pub totals: StatsFigures,
}

// ---- reading a field history as of a day ----------------------------------------------------------

/// The Shanghai calendar day a version was written (its HLC wall time).
pub fn version_day(v: &FieldVersion) -> NaiveDate {
    shanghai::today(v.0.millis())
}

/// The value a field had at the end of `day`: its latest version written on or before that day
/// (versions are kept sorted by (HLC, site), the merge's order, so this is the merge winner of then).
pub fn value_as_of<'a>(
    row: &'a RowVersions,
    field: &str,
    day: NaiveDate,
) -> Option<&'a serde_json::Value> {
    row.fields
        .get(field)?
        .iter()
        .rev()
        .find(|v| version_day(v) <= day)
        .map(|v| v.value())
}

/// A text field as of `day` (None when unset, cleared or not yet written).
pub fn text_as_of<'a>(row: &'a RowVersions, field: &str, day: NaiveDate) -> Option<&'a str> {
    value_as_of(row, field, day).and_then(|v| v.as_str())
}

/// The reversible deletion flag as of `day`.
pub fn deleted_as_of(row: &RowVersions, day: NaiveDate) -> bool {
    matches!(
        value_as_of(row, crate::tables::DELETED_FIELD, day),
        Some(serde_json::Value::Bool(true))
    )
}

/// The day the row was first written here or anywhere (its earliest version).
pub fn created_on(row: &RowVersions) -> Option<NaiveDate> {
    row.fields
        .values()
        .filter_map(|versions| versions.first())
        .map(|v| v.0)
        .min()
        .map(|hlc| shanghai::today(hlc.millis()))
}

/// The day the field last took `value` and kept it up to the end of `day`; None when it does not hold
/// `value` as of `day`.
pub fn entered_on(
    row: &RowVersions,
    field: &str,
    value: &str,
    day: NaiveDate,
) -> Option<NaiveDate> {
    let versions = row.fields.get(field)?;
    let upto: Vec<&FieldVersion> = versions.iter().filter(|v| version_day(v) <= day).collect();
    let holds = |v: &FieldVersion| v.value().as_str() == Some(value);
    if !upto.last().is_some_and(|v| holds(v)) {
        return None;
    }
    let first_of_run = upto
        .iter()
        .rposition(|v| !holds(v))
        .map_or(0, |last_other| last_other + 1);
    upto.get(first_of_run).map(|v| version_day(v))
}

// ---- the workbook (D-4) ----------------------------------------------------------------------------

/// Sheet names of the workbook.
pub const SHEET_COMPLIANCE: &str = "合规率";

/// The org tree's order below `root`: depth first, `root` first, each unit's children in the order
/// the district created them (their ids are time-ordered UUIDs; any other ids sort as text).
pub fn tree_order(parents: &[(&str, Option<&str>)], root: &str) -> Vec<String> {
    let mut order = Vec::new();
    let mut stack = vec![root.to_string()];
    while let Some(unit) = stack.pop() {
        if order.contains(&unit) {
            continue; // a cycle in a corrupt tree ends here
        }
        let mut children: Vec<&str> = parents
            .iter()
            .filter(|(_, parent)| *parent == Some(unit.as_str()))
            .map(|(id, _)| *id)
            .collect();
        children.sort_unstable();
        // Pushed last first, so the first-created child is visited next.
        stack.extend(children.into_iter().rev().map(str::to_string));
        order.push(unit);
    }
    order
}

#[cfg(test)]
mod tree_order_tests {
    use super::tree_order;

    #[test]
    fn units_follow_the_tree_in_creation_order_whatever_their_names() {
        // Ids as the district created them; names do not matter.
        let parents = [
            ("0-district", None),
            ("1-township-𠀀家镇", Some("0-district")),
            ("2-township-安定门", Some("0-district")),
            ("3-community-under-1", Some("1-township-𠀀家镇")),
            ("4-community-under-2", Some("2-township-安定门")),
        ];
        assert_eq!(
            tree_order(&parents, "0-district"),
            vec![
                "0-district",
                "1-township-𠀀家镇",
                "3-community-under-1",
                "2-township-安定门",
                "4-community-under-2"
            ]
        );
        assert_eq!(tree_order(&parents, "2-township-安定门").len(), 2);
        let cycle = [("a", Some("b")), ("b", Some("a"))];
        assert_eq!(tree_order(&cycle, "a"), vec!["a", "b"]);
    }
}

pub fn report_title(as_of: &str) -> String {
    format!("社区矫正统计报表（截至{as_of}）")
}

/// "2026-01" → "2026年1月".
fn month_zh(month: &str) -> String {
    match month.split_once('-') {
        Some((y, m)) => format!("{y}年{}月", m.trim_start_matches('0')),
        None => month.to_string(),
    }
}

struct Formats {
    title: Format,
    header: Format,
    cell: Format,
    number: Format,
    total_cell: Format,
    total_number: Format,
    percent: Format,
    total_percent: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin);
        let number = cell.clone().set_align(FormatAlign::Right);
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center),
            header: Format::new()
                .set_bold()
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center)
                .set_background_color(0xD9E1F2),
            total_cell: cell.clone().set_bold(),
            total_number: number.clone().set_bold(),
            percent: number.clone().set_num_format("0.0%"),
            total_percent: number.clone().set_bold().set_num_format("0.0%"),
            cell,
            number,
        }
    }
}

/// The rows a table shows: one per unit when there are several, then the total.
fn table_rows(report: &StatisticsReport) -> Vec<(&str, &StatsFigures, bool)> {
    let mut rows: Vec<(&str, &StatsFigures, bool)> = Vec::new();
    if report.units.len() > 1 {
        rows.extend(
            report
                .units
                .iter()
                .map(|u| (u.org_unit_name.as_str(), &u.figures, false)),
        );
    }
    rows.push(("合计", &report.totals, true));
    rows
}

/// One row of a table of counts: the unit's name, its figures, and whether it is the totals row.
struct TableRow<'a> {
    name: &'a str,
    values: Vec<u32>,
    total: bool,
}

/// A header group of a paper form: a label over `columns` columns (merged), or over one column and
/// both header rows when `columns` is 0.
struct HeaderGroup {
    label: String,
    sub: Vec<String>,
}

/// One table of the C-21 report on a sheet of its own, laid out as the city's paper form: the title
/// (merged across the table) with the unit and the date, two header rows merged as on the form (单位
/// and 合计 down both rows, each group across its columns), a row per unit in the org tree's order,
/// the totals row. The sheet's name is the table's.
fn write_table_sheet(
    workbook: &mut Workbook,
    f: &Formats,
    report: &StatisticsReport,
    (sheet_name, title): (&str, &str),
    groups: &[HeaderGroup],
    rows: &[TableRow<'_>],
) -> Result<(), XlsxError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name)?;
    let columns: usize = groups.iter().map(|g| g.sub.len().max(1)).sum();
    let last = col(columns);
    sheet.set_column_width(0, 22)?;
    for c in 1..=last {
        sheet.set_column_width(c, 12)?;
    }
    sheet.merge_range(
        0,
        0,
        0,
        last,
        &format!("{}（{}）", report_title(&report.as_of), title),
        &f.title,
    )?;
    sheet.merge_range(
        1,
        0,
        1,
        last,
        &format!(
            "填报单位：{}　　统计日期：截至{}日终　　本月：{}　　本年自{}起",
            report.org_unit_name,
            report.as_of,
            month_zh(&report.month),
            report.year_start
        ),
        &f.cell,
    )?;
    let (top, under) = (3u32, 4u32);
    sheet.merge_range(top, 0, under, 0, "单位", &f.header)?;
    let mut at = 1usize;
    for group in groups {
        if group.sub.is_empty() {
            sheet.merge_range(top, col(at), under, col(at), &group.label, &f.header)?;
            at += 1;
            continue;
        }
        let end = at + group.sub.len() - 1;
        if end > at {
            sheet.merge_range(top, col(at), top, col(end), &group.label, &f.header)?;
        } else {
            sheet.write_string_with_format(top, col(at), &group.label, &f.header)?;
        }
        for (i, label) in group.sub.iter().enumerate() {
            sheet.write_string_with_format(under, col(at + i), label, &f.header)?;
        }
        at = end + 1;
    }
    for (row, r) in (under + 1..).zip(rows) {
        let (text, number) = if r.total {
            (&f.total_cell, &f.total_number)
        } else {
            (&f.cell, &f.number)
        };
        sheet.write_string_with_format(row, 0, r.name, text)?;
        for (i, v) in r.values.iter().enumerate() {
            sheet.write_number_with_format(row, col(i + 1), *v, number)?;
        }
    }
    sheet.set_freeze_panes(under + 1, 1)?;
    Ok(())
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// A table of counts by one breakdown: its group header over the breakdown's labels, 合计 down.
fn counts_table<'r>(
    report: &'r StatisticsReport,
    group: &str,
    pick: impl Fn(&StatsFigures) -> &Vec<StatsCount>,
) -> (Vec<HeaderGroup>, Vec<TableRow<'r>>) {
    let groups = vec![
        HeaderGroup {
            label: group.to_string(),
            sub: pick(&report.totals)
                .iter()
                .map(|c| c.label_zh.clone())
                .collect(),
        },
        HeaderGroup {
            label: "合计".to_string(),
            sub: Vec::new(),
        },
    ];
    let rows = table_rows(report)
        .into_iter()
        .map(|(name, figures, total)| {
            let mut values: Vec<u32> = pick(figures).iter().map(|c| c.count).collect();
            values.push(values.iter().sum());
            TableRow {
                name,
                values,
                total,
            }
        })
        .collect();
    (groups, rows)
}

/// The sheets of the report, in the form's order: (sheet name, table title).
pub const REPORT_SHEETS: [(&str, &str); 4] = [
    ("表一 矫正类别", "表一：按矫正类别（C-1）"),
    ("表二 矫正状态", "表二：按矫正状态"),
    ("表三 管理等级", "表三：按管理等级（L-3，未结案对象）"),
    ("表四 变动情况", "表四：本月及本年变动"),
];

/// The report as an .xlsx workbook in the layout the city and province use (D-4): one sheet per
/// table of the C-21 report (表一 to 表四, see [`REPORT_SHEETS`]) and sheet 合规率 (C-10 / C-11 rates of
/// the month before the report date).
pub fn write_xlsx(report: &StatisticsReport) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut workbook = Workbook::new();
    let (groups, rows) = counts_table(report, "矫正类别", |f| &f.by_kind);
    write_table_sheet(&mut workbook, &f, report, REPORT_SHEETS[0], &groups, &rows)?;
    let (groups, rows) = counts_table(report, "矫正状态", |f| &f.by_status);
    write_table_sheet(&mut workbook, &f, report, REPORT_SHEETS[1], &groups, &rows)?;
    let (groups, rows) = counts_table(report, "管理等级", |f| &f.by_level);
    write_table_sheet(&mut workbook, &f, report, REPORT_SHEETS[2], &groups, &rows)?;
    let groups: Vec<HeaderGroup> = ["本月", "本年累计"]
        .iter()
        .map(|period| HeaderGroup {
            label: (*period).to_string(),
            sub: report
                .totals
                .flows
                .iter()
                .map(|fl| fl.label_zh.clone())
                .collect(),
        })
        .collect();
    let rows: Vec<TableRow<'_>> = table_rows(report)
        .into_iter()
        .map(|(name, figures, total)| TableRow {
            name,
            values: figures
                .flows
                .iter()
                .map(|fl| fl.month)
                .chain(figures.flows.iter().map(|fl| fl.year_to_date))
                .collect(),
            total,
        })
        .collect();
    write_table_sheet(&mut workbook, &f, report, REPORT_SHEETS[3], &groups, &rows)?;

    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_COMPLIANCE)?;
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 46)?;
    for c in 2..=4 {
        sheet.set_column_width(c, 12)?;
    }
    sheet.merge_range(
        0,
        0,
        0,
        4,
        &format!(
            "社区矫正月度监管合规率（{}，截至{}）",
            month_zh(&report.compliance_month),
            report.as_of
        ),
        &f.title,
    )?;
    sheet.write_string(1, 0, format!("填报单位：{}", report.org_unit_name))?;
    sheet.write_string(
        2,
        0,
        format!(
            "口径：{}末在矫的对象中，当月达到最低要求的人数（C-10 社会公益劳动，C-11 集中教育）。",
            month_zh(&report.compliance_month)
        ),
    )?;
    let mut row = 4;
    for (i, h) in ["单位", "规则", "达标人数", "在矫人数", "合规率"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(row, col(i), *h, &f.header)?;
    }
    row += 1;
    for (name, figures, total) in table_rows(report) {
        let (text, number, percent) = if total {
            (&f.total_cell, &f.total_number, &f.total_percent)
        } else {
            (&f.cell, &f.number, &f.percent)
        };
        for c in &figures.compliance {
            sheet.write_string_with_format(row, 0, name, text)?;
            sheet.write_string_with_format(row, 1, &c.label_zh, text)?;
            sheet.write_number_with_format(row, 2, c.numerator, number)?;
            sheet.write_number_with_format(row, 3, c.denominator, number)?;
            match c.rate() {
                Some(rate) => sheet.write_number_with_format(row, 4, rate, percent)?,
                None => sheet.write_string_with_format(row, 4, "—", number)?,
            };
            row += 1;
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use chrono::{TimeZone, Utc};

    /// Shanghai noon of the day, in Unix milliseconds.
    fn noon(day: &str) -> u64 {
        let d = shanghai::parse_date(day).unwrap();
        let local = d.and_hms_opt(12, 0, 0).unwrap();
        shanghai::offset()
            .from_local_datetime(&local)
            .single()
            .unwrap()
            .with_timezone(&Utc)
            .timestamp_millis() as u64
    }

    fn version(day: &str, value: serde_json::Value) -> FieldVersion {
        FieldVersion(
            Hlc::from_parts(noon(day), 0),
            "site".into(),
            "u".into(),
            None,
            value,
        )
    }

    fn d(s: &str) -> NaiveDate {
        shanghai::parse_date(s).unwrap()
    }

    fn history() -> RowVersions {
        let mut row = RowVersions::default();
        row.fields.insert(
            "status".into(),
            vec![
                version("2026-01-05", "received".into()),
                version("2026-02-01", "in_correction".into()),
                version("2026-06-30", "released".into()),
            ],
        );
        row.fields.insert(
            "kind".into(),
            vec![version("2026-01-05", "probation".into())],
        );
        row.fields.insert(
            "_deleted".into(),
            vec![version("2026-08-01", serde_json::Value::Bool(true))],
        );
        row
    }

    #[test]
    fn c21_a_field_as_of_a_day_is_its_latest_version_written_by_then() {
        let row = history();
        assert_eq!(text_as_of(&row, "status", d("2026-01-04")), None);
        assert_eq!(
            text_as_of(&row, "status", d("2026-01-31")),
            Some("received")
        );
        assert_eq!(
            text_as_of(&row, "status", d("2026-02-01")),
            Some("in_correction")
        );
        assert_eq!(
            text_as_of(&row, "status", d("2026-07-01")),
            Some("released")
        );
        assert_eq!(created_on(&row), Some(d("2026-01-05")));
        assert!(!deleted_as_of(&row, d("2026-07-31")));
        assert!(deleted_as_of(&row, d("2026-08-01")));
    }

    #[test]
    fn c21_the_day_a_status_was_entered_is_the_start_of_its_current_run() {
        let row = history();
        assert_eq!(
            entered_on(&row, "status", "released", d("2026-12-31")),
            Some(d("2026-06-30"))
        );
        assert_eq!(
            entered_on(&row, "status", "released", d("2026-06-29")),
            None
        );
        assert_eq!(
            entered_on(&row, "status", "in_correction", d("2026-03-01")),
            Some(d("2026-02-01"))
        );
        assert_eq!(
            entered_on(&row, "status", "received", d("2026-01-20")),
            Some(d("2026-01-05"))
        );
    }

    #[test]
    fn c21_shanghai_midnight_decides_the_day_of_a_version() {
        // 2026-03-31T16:30Z is already 1 April in Shanghai.
        let millis = Utc
            .with_ymd_and_hms(2026, 3, 31, 16, 30, 0)
            .unwrap()
            .timestamp_millis() as u64;
        let v = FieldVersion(
            Hlc::from_parts(millis, 0),
            "s".into(),
            "u".into(),
            None,
            "x".into(),
        );
        assert_eq!(version_day(&v), d("2026-04-01"));
    }
}
