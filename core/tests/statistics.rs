//! C-21 statistics report: counts as of a date from the field history, per office and in total, and
//! the spreadsheet export (D-4).

mod common_setup;

use chrono::{NaiveDate, TimeZone, Utc};
use common_setup::{identity, DISTRICT, OFFICE};
use jiceng_core::model::{
    CaseInput, CaseKind, CaseRecord, CaseStatus, EntryInput, EntryKind, OrgKind, Role, SessionUser,
    SupervisionLevel,
};
use jiceng_core::stats::{StatisticsReport, StatsFigures, REPORT_SHEETS};
use jiceng_core::store::{NewUser, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const OFFICE_2: &str = "office-2";

/// Shanghai noon of `day`, in Unix milliseconds.
fn noon(day: &str) -> u64 {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    jiceng_core::shanghai::offset()
        .from_local_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_millis() as u64
}

fn d(day: &str) -> NaiveDate {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()
}

/// A valid GB 11643 number, distinct per `n`.
fn id_number(n: u32) -> String {
    let body = format!("11010119900307{:03}", n);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

struct Fixture {
    store: Store,
    clock: Arc<AtomicU64>,
    officer: SessionUser,
    district: SessionUser,
    next_id: u32,
}

impl Fixture {
    /// A district with two township offices, an officer of the first and a district admin; every write
    /// is stamped by a clock the test sets (starting on `day`).
    fn new(day: &str) -> Fixture {
        let clock = Arc::new(AtomicU64::new(noon(day)));
        let wall = clock.clone();
        let mut store = Store::open_in_memory()
            .unwrap()
            .with_clock(Arc::new(move || wall.load(Ordering::SeqCst)));
        store.set_identity(&identity("site-a")).unwrap();
        store
            .create_org_unit("setup", DISTRICT, None, OrgKind::District, "示范区")
            .unwrap();
        store
            .create_org_unit(
                "setup",
                OFFICE,
                Some(DISTRICT),
                OrgKind::Township,
                "北新桥街道",
            )
            .unwrap();
        store
            .create_org_unit(
                "setup",
                OFFICE_2,
                Some(DISTRICT),
                OrgKind::Township,
                "东四街道",
            )
            .unwrap();
        let mut login = |username: &str, role: Role, org: &str| {
            store
                .create_user(
                    "setup",
                    &NewUser {
                        username: username.to_string(),
                        display_name: username.to_string(),
                        role,
                        org_unit_id: org.to_string(),
                        password: "password-1".to_string(),
                    },
                )
                .unwrap();
            store.login(username, "password-1").unwrap()
        };
        let officer = login("officer", Role::JudicialOfficer, OFFICE);
        let district = login("admin", Role::DistrictAdmin, DISTRICT);
        Fixture {
            store,
            clock,
            officer,
            district,
            next_id: 1,
        }
    }

    fn at(&self, day: &str) {
        self.clock.store(noon(day), Ordering::SeqCst);
    }

    fn input(&mut self, kind: CaseKind, status: CaseStatus, org: &str) -> CaseInput {
        self.next_id += 1;
        CaseInput {
            id: None,
            name: format!("对象{}", self.next_id),
            id_number: id_number(self.next_id),
            kind,
            sentence_start: "2025-12-01".to_string(),
            sentence_end: "2026-02-28".to_string(),
            org_unit_id: Some(org.to_string()),
            status: Some(status),
            judgment_effective_on: None,
            reported_on: None,
            supervision_level: None,
            sealed_minor: None,
            address: None,
        }
    }

    fn create(
        &mut self,
        kind: CaseKind,
        status: CaseStatus,
        org: &str,
        level: Option<SupervisionLevel>,
    ) -> (CaseRecord, CaseInput) {
        let mut input = self.input(kind, status, org);
        input.supervision_level = level;
        let user = self.district.clone();
        let case = self.store.save_case(&user, input.clone()).unwrap();
        input.id = Some(case.id.clone());
        (case, input)
    }

    fn set_status(&mut self, input: &CaseInput, status: CaseStatus) {
        let mut edit = input.clone();
        edit.status = Some(status);
        let user = self.district.clone();
        // C-17 / L-9 / L-10: an ending rests on its documents, recorded first.
        let case_id = edit.id.clone().expect("an existing case");
        let today = self.store.task_digest(&user, None).unwrap().today;
        if let Some((needed, _)) =
            jiceng_core::casefile::documents_missing_for(status, edit.kind, &[])
        {
            for doc_type in needed {
                self.store
                    .save_document(
                        &user,
                        jiceng_core::casefile::DocumentInput {
                            id: None,
                            case_id: case_id.clone(),
                            doc_type,
                            doc_no: String::new(),
                            counterpart: String::new(),
                            dated_on: today.clone(),
                            time_of_day: String::new(),
                            note: String::new(),
                        },
                    )
                    .unwrap();
            }
        }
        self.store.save_case(&user, edit).unwrap();
    }

    fn entry(&mut self, case: &CaseRecord, kind: EntryKind, on: &str, minutes: u32) {
        let user = self.district.clone();
        self.store
            .add_entry(
                &user,
                EntryInput {
                    case_id: case.id.clone(),
                    kind,
                    occurred_on: on.to_string(),
                    minutes: Some(minutes),
                    days: None,
                    ref_entry_id: None,
                    note: String::new(),
                },
            )
            .unwrap();
    }

    fn report(&self, as_of: &str) -> StatisticsReport {
        self.store.statistics(&self.district, d(as_of)).unwrap()
    }
}

fn count(rows: &[jiceng_core::stats::StatsCount], code: &str) -> u32 {
    rows.iter().find(|c| c.code == code).unwrap().count
}

fn flow(f: &StatsFigures, code: &str) -> (u32, u32) {
    let fl = f.flows.iter().find(|x| x.code == code).unwrap();
    (fl.month, fl.year_to_date)
}

fn status(f: &StatsFigures, s: CaseStatus) -> u32 {
    count(&f.by_status, s.code())
}

#[test]
fn c21_c1_l3_counts_by_kind_status_and_level_per_office_with_a_totals_row() {
    use CaseStatus::*;
    let mut fx = Fixture::new("2026-01-05");
    let s = Some(SupervisionLevel::Strict);
    let n = Some(SupervisionLevel::Normal);
    let l = Some(SupervisionLevel::Lenient);
    fx.create(CaseKind::Probation, Received, OFFICE, None);
    fx.create(CaseKind::Parole, InCorrection, OFFICE, s);
    fx.create(CaseKind::Control, Reported, OFFICE, n);
    fx.create(CaseKind::Probation, InCorrection, OFFICE, n);
    fx.create(CaseKind::TemporaryOutside, InCorrection, OFFICE_2, l);
    fx.create(
        CaseKind::DeprivationOfPoliticalRights,
        Received,
        OFFICE_2,
        None,
    );

    let report = fx.report("2026-01-05");
    let t = &report.totals;
    assert_eq!(t.total, 6);
    let kinds: Vec<u32> = t.by_kind.iter().map(|c| c.count).collect();
    assert_eq!(kinds, vec![1, 2, 1, 1, 1], "C-1: the five kinds in order");
    assert_eq!(t.by_kind[2].label_zh, "暂予监外执行");
    assert_eq!(
        (
            status(t, Received),
            status(t, Reported),
            status(t, InCorrection)
        ),
        (2, 1, 3)
    );
    assert_eq!(
        status(t, Released) + status(t, Revoked) + status(t, Terminated),
        0
    );
    assert_eq!(
        (
            count(&t.by_level, "strict"),
            count(&t.by_level, "normal"),
            count(&t.by_level, "lenient"),
            count(&t.by_level, "unset")
        ),
        (1, 2, 1, 2),
        "L-3"
    );
    assert_eq!(flow(t, "intake"), (6, 6));

    // One row per township office of the district, and the rows add up to the totals row.
    let names: Vec<&str> = report
        .units
        .iter()
        .map(|u| u.org_unit_name.as_str())
        .collect();
    // D-4: in the org tree's order (北新桥 was created first), not the byte order of the names.
    assert_eq!(names, vec!["北新桥街道", "东四街道"]);
    assert_eq!(report.org_unit_name, "示范区");
    let sum = |pick: &dyn Fn(&StatsFigures) -> u32| -> u32 {
        report.units.iter().map(|u| pick(&u.figures)).sum()
    };
    assert_eq!(sum(&|f| f.total), t.total);
    for (i, k) in t.by_kind.iter().enumerate() {
        assert_eq!(sum(&|f| f.by_kind[i].count), k.count);
    }
    assert_eq!(report.units[0].figures.total, 4);

    // The office sees only its own cases.
    let own = fx.store.statistics(&fx.officer, d("2026-01-05")).unwrap();
    assert_eq!(own.totals.total, 4);
    assert_eq!(own.units.len(), 1);
    assert_eq!(own.units[0].org_unit_id, OFFICE);

    // Before the cases were written, nothing was on record; a future date is refused.
    assert_eq!(fx.report("2026-01-04").totals.total, 0);
    assert!(fx.store.statistics(&fx.district, d("2026-01-06")).is_err());
}

#[test]
fn c21_l10_an_earlier_date_gives_the_status_then_and_endings_count_in_their_month_and_year() {
    use CaseStatus::*;
    let mut fx = Fixture::new("2026-01-05");
    let (_, released) = fx.create(CaseKind::Probation, InCorrection, OFFICE, None);
    let (_, revoked) = fx.create(CaseKind::TemporaryOutside, InCorrection, OFFICE, None);
    fx.create(CaseKind::Parole, Reported, OFFICE, None);

    fx.at("2026-02-10");
    fx.set_status(&revoked, Revoked);
    // L-10: release only once the period (to 2026-02-28) has run.
    fx.at("2026-03-02");
    fx.set_status(&released, Released);
    fx.at("2026-04-10");

    let jan = fx.report("2026-01-31");
    assert_eq!(status(&jan.totals, InCorrection), 2);
    assert_eq!(status(&jan.totals, Revoked), 0);

    let feb = fx.report("2026-02-27");
    assert_eq!(
        (
            status(&feb.totals, InCorrection),
            status(&feb.totals, Revoked)
        ),
        (1, 1),
        "the status as of the date, not today's"
    );
    assert_eq!(flow(&feb.totals, "revoked"), (1, 1));
    assert_eq!(flow(&feb.totals, "released"), (0, 0));
    assert_eq!(flow(&feb.totals, "intake"), (0, 3));

    let march = fx.report("2026-03-02");
    assert_eq!(status(&march.totals, Released), 1);
    assert_eq!(status(&march.totals, InCorrection), 0);
    assert_eq!(flow(&march.totals, "released"), (1, 1));
    assert_eq!(
        flow(&march.totals, "revoked"),
        (0, 1),
        "February's, this year"
    );
    assert_eq!(march.month, "2026-03");
    assert_eq!(march.year_start, "2026-01-01");
    // Ended cases stay on the register under their end status; L-3 counts open cases only.
    assert_eq!(march.totals.total, 3);
    assert_eq!(count(&march.totals.by_level, "unset"), 1);

    // Reproducible: asking again later for the same date gives the same report.
    assert_eq!(fx.report("2026-02-27"), feb);
    assert_eq!(fx.report("2025-12-31").totals.total, 0);
}

#[test]
fn c21_deleted_cases_are_not_counted_from_the_day_of_deletion() {
    use CaseStatus::*;
    let mut fx = Fixture::new("2026-01-05");
    let (mistake, _) = fx.create(CaseKind::Probation, Received, OFFICE, None);
    fx.create(CaseKind::Probation, Received, OFFICE, None);
    fx.at("2026-01-10");
    let admin = fx.district.clone();
    fx.store.delete_case(&admin, &mistake.id).unwrap();

    assert_eq!(fx.report("2026-01-09").totals.total, 2);
    let after = fx.report("2026-01-10");
    assert_eq!(after.totals.total, 1);
    assert_eq!(count(&after.totals.by_kind, "probation"), 1);
    assert_eq!(flow(&after.totals, "intake"), (1, 1));

    // Restored: counted again (the deletion is a reversible state, DOMAIN.md "Nothing is lost").
    fx.at("2026-01-12");
    fx.store.restore_case(&admin, &mistake.id).unwrap();
    assert_eq!(fx.report("2026-01-12").totals.total, 2);
    assert_eq!(fx.report("2026-01-11").totals.total, 1);
}

#[test]
fn c21_c10_c11_compliance_rate_of_the_previous_month_as_numerator_and_denominator() {
    use CaseStatus::*;
    let mut fx = Fixture::new("2026-01-05");
    let (full, _) = fx.create(CaseKind::Probation, InCorrection, OFFICE, None);
    let (half, _) = fx.create(CaseKind::Probation, InCorrection, OFFICE, None);
    let (late, _) = fx.create(CaseKind::Parole, InCorrection, OFFICE_2, None);
    // Not in correction: outside the denominator.
    let (reported, _) = fx.create(CaseKind::Control, Reported, OFFICE_2, None);

    fx.at("2026-01-31");
    // C-10: two working days (8 h each) cumulative; C-11: one group session of at least 2 hours.
    fx.entry(&full, EntryKind::Labour, "2026-01-10", 8 * 60);
    fx.entry(&full, EntryKind::Labour, "2026-01-24", 8 * 60);
    fx.entry(&full, EntryKind::GroupEducation, "2026-01-15", 120);
    fx.entry(&half, EntryKind::Labour, "2026-01-10", 8 * 60);
    fx.entry(&half, EntryKind::GroupEducation, "2026-01-15", 90);
    fx.entry(&reported, EntryKind::Labour, "2026-01-10", 16 * 60);
    // February's labour does not count for January.
    fx.at("2026-02-05");
    fx.entry(&half, EntryKind::Labour, "2026-02-02", 8 * 60);
    // January's labour of `late`, recorded in February.
    fx.at("2026-02-06");
    fx.entry(&late, EntryKind::Labour, "2026-01-20", 16 * 60);
    fx.entry(&late, EntryKind::GroupEducation, "2026-01-20", 150);

    let before = fx.report("2026-02-05");
    assert_eq!(before.compliance_month, "2026-01");
    let rate = |r: &StatisticsReport, rule: &str| {
        let c = r
            .totals
            .compliance
            .iter()
            .find(|c| c.rule_ref == rule)
            .unwrap();
        (c.numerator, c.denominator)
    };
    assert_eq!(rate(&before, "C-10"), (1, 3));
    assert_eq!(rate(&before, "C-11"), (1, 3));
    // As of the 6th, the late records are on file.
    let after = fx.report("2026-02-06");
    assert_eq!(rate(&after, "C-10"), (2, 3));
    assert_eq!(rate(&after, "C-11"), (2, 3));
    let office_2 = after
        .units
        .iter()
        .find(|u| u.org_unit_id == OFFICE_2)
        .unwrap();
    assert_eq!(
        (
            office_2.figures.compliance[0].numerator,
            office_2.figures.compliance[0].denominator
        ),
        (1, 1)
    );
    let c10 = &after.totals.compliance[0];
    assert_eq!(c10.rule_id, "C-10.labour_monthly");
    assert!(c10.label_zh.contains("2个工作日"));
    assert!((c10.rate().unwrap() - 2.0 / 3.0).abs() < 1e-9);

    // In January nobody was in correction at the end of December: no rate, not 0 %.
    let jan = fx.report("2026-01-31");
    assert_eq!(rate(&jan, "C-10"), (0, 0));
    assert_eq!(jan.totals.compliance[0].rate(), None);
}

#[test]
fn c21_d4_the_report_exports_as_an_xlsx_workbook() {
    use CaseStatus::*;
    let mut fx = Fixture::new("2026-01-05");
    for kind in CaseKind::ALL {
        fx.create(kind, InCorrection, OFFICE, None);
    }
    fx.create(CaseKind::Probation, Received, OFFICE_2, None);
    fx.store
        .create_org_unit(
            "setup",
            "office-3",
            Some(DISTRICT),
            OrgKind::Township,
            "𠀀家镇",
        )
        .unwrap();
    fx.create(CaseKind::Parole, InCorrection, "office-3", None);
    let bytes = fx
        .store
        .statistics_xlsx(&fx.district, d("2026-01-05"))
        .unwrap();
    assert!(bytes.starts_with(b"PK"), "an .xlsx is a ZIP archive");
    assert!(bytes.len() > 2000);
    // D-4: the layout the city and province use: one sheet per table, the unit and date in each
    // title, header rows merged as on the paper form, units in the org tree's order, 4-byte names
    // intact.
    let book = Workbook::read(&bytes);
    let names: Vec<&str> = REPORT_SHEETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(book.sheet_names(), [names, vec!["合规率"]].concat());
    let strings = book.text("xl/sharedStrings.xml");
    for (_, title) in REPORT_SHEETS {
        assert!(
            strings.contains(&format!("社区矫正统计报表（截至2026-01-05）（{title}）")),
            "{title}"
        );
    }
    assert!(strings.contains("填报单位：示范区"));
    assert!(strings.contains("𠀀家镇"), "the 4-byte name is intact");
    let table_one = book.text("xl/worksheets/sheet1.xml");
    // 单位 down both header rows, 矫正类别 across one column per kind, 合计 down.
    let letter = |i: usize| char::from(b'A' + i as u8);
    let kinds = CaseKind::ALL.len();
    let ranges = [
        "A4:A5".to_string(),
        format!("B4:{}4", letter(kinds)),
        format!("{0}4:{0}5", letter(kinds + 1)),
    ];
    for merged in &ranges {
        assert!(
            table_one.contains(&format!("<mergeCell ref=\"{merged}\"/>")),
            "{merged} merged in {table_one}"
        );
    }
    // Rows: 北新桥 (created first), 东四, 𠀀家镇 (created last, whatever its bytes), 合计.
    let column_a: Vec<usize> = table_one
        .split("<c r=\"A")
        .skip(1)
        .filter(|cell| {
            cell.split('>')
                .next()
                .is_some_and(|attrs| attrs.contains("t=\"s\""))
        })
        .filter_map(|cell| cell.split("<v>").nth(1)?.split('<').next()?.parse().ok())
        .collect();
    let rows: Vec<usize> = ["北新桥街道", "东四街道", "𠀀家镇", "合计"]
        .iter()
        .map(|name| book.string_index(name))
        .collect();
    assert!(column_a.ends_with(&rows), "{column_a:?} ends with {rows:?}");
    let report = fx.report("2026-01-05");
    assert_eq!(report.totals.total, 7);
    assert_eq!(report.units.iter().map(|u| u.figures.total).sum::<u32>(), 7);
    // The workbook of an office reads only its scope; a role without corrections access gets nothing.
    assert!(fx
        .store
        .statistics_xlsx(&fx.officer, d("2026-01-05"))
        .unwrap()
        .starts_with(b"PK"));
    let mut clerk = fx.officer.clone();
    clerk.role = Role::CommunityClerk;
    assert_eq!(
        fx.store
            .statistics_xlsx(&clerk, d("2026-01-05"))
            .unwrap_err()
            .code(),
        "forbidden"
    );
}

/// An .xlsx read back for the assertions: its parts as text.
struct Workbook {
    parts: std::collections::BTreeMap<String, String>,
}

impl Workbook {
    fn read(bytes: &[u8]) -> Workbook {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut parts = std::collections::BTreeMap::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut file, &mut text).unwrap();
            parts.insert(file.name().unwrap().to_string(), text);
        }
        Workbook { parts }
    }

    fn text(&self, part: &str) -> &str {
        self.parts.get(part).map(String::as_str).unwrap_or("")
    }

    fn sheet_names(&self) -> Vec<&str> {
        self.text("xl/workbook.xml")
            .split("<sheet name=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect()
    }

    /// The index of a shared string (cells refer to strings by it).
    fn string_index(&self, text: &str) -> usize {
        self.text("xl/sharedStrings.xml")
            .split("<si>")
            .skip(1)
            .position(|si| si.contains(&format!(">{text}<")))
            .unwrap_or_else(|| panic!("{text} not among the shared strings"))
    }
}
