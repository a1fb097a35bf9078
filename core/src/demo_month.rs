//! Issue 13 §6: a month of an office's work for the demo district, written through the desktop's own
//! write paths (a site's store, its user, its clock walking through the month), so that every list and
//! figure shows something to a newcomer. Deterministic: the same seed writes the same month.
//!
//! A judicial office registers cases of every kind with rare names (生僻字, minority names with the
//! middle dot), checks in with them through the month by every method; a community workstation keeps
//! residents, registers appeals received on different days (so that some are fresh, some near their
//! deadline and some overdue) and takes in mediation cases.

use crate::error::Result;
use crate::model::{
    AppealClass, AppealInput, CaseInput, CaseKind, CaseStatus, CheckinInput, CheckinMethod,
    EntryInput, EntryKind, LeaveDecision, LeaveInput, ResidentInput, SessionUser,
};
use crate::model::{DisputeType, MediationInput, MediationPartyInput};
use crate::store::Store;
use chrono::{Days, NaiveDate};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// Given names and surnames the demo combines: common, rare (4-byte), minority.
const SURNAMES: &[&str] = &[
    "王", "李", "张", "欧阳", "𠀀", "䶮", "司马", "赵", "钱", "孙",
];
const GIVEN: &[&str] = &[
    "明", "𠮷", "䶮", "建国", "秀英", "丽", "伟", "静", "𡈽", "强",
];
const MINORITY: &[&str] = &[
    "买买提·艾力",
    "阿依古丽·吐尔逊",
    "扎西·多吉",
    "古丽娜尔·买买提",
];

/// What a month wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MonthWritten {
    pub cases: u32,
    pub checkins: u32,
    /// C-10 labour and C-11 education entries.
    pub entries: u32,
    pub leaves: u32,
    pub transfers: u32,
    pub residents: u32,
    pub appeals: u32,
    pub mediations: u32,
}

/// A small deterministic generator (the demo must not change from run to run).
struct Dice(u64);

impl Dice {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// The clock a demo store writes by: set to each day of the month as the month is written.
#[derive(Clone)]
pub struct MonthClock(Arc<AtomicU64>);

impl MonthClock {
    pub fn new(start_ms: u64) -> MonthClock {
        MonthClock(Arc::new(AtomicU64::new(start_ms)))
    }
    /// The store's wall clock (ms), moving on 1 ms per read so clocks stay distinct.
    pub fn wall(&self) -> crate::store::WallClock {
        let at = self.0.clone();
        Arc::new(move || at.fetch_add(1, Ordering::SeqCst))
    }
    /// Moves the clock on to `at_ms` (never back).
    pub fn set(&self, at_ms: u64) {
        self.0.fetch_max(at_ms, Ordering::SeqCst);
    }
    fn set_day(&self, day: NaiveDate, hour: u32) {
        let at = crate::shanghai::at_time(day, &format!("{hour:02}:00"))
            .map(|t| t.timestamp_millis().max(0) as u64)
            .unwrap_or(0);
        self.0.fetch_max(at, Ordering::SeqCst);
    }
}

fn name(dice: &mut Dice, n: usize) -> String {
    if n % 7 == 3 {
        return MINORITY[dice.next(MINORITY.len())].to_string();
    }
    format!(
        "{}{}",
        SURNAMES[dice.next(SURNAMES.len())],
        GIVEN[dice.next(GIVEN.len())]
    )
}

/// A valid ID number, distinct per `slot` (0-9) and `n` (< 3,000).
fn id_number(slot: u64, n: u64) -> String {
    let birth = NaiveDate::from_ymd_opt(1955, 1, 1).unwrap_or_default()
        + Days::new((slot % 10) * 3_000 + n % 3_000);
    crate::idcard::compose("110101", birth, (n % 997) as u16 + 1)
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A judicial office's month from `first_day` to `last_day`: `cases` cases, each checked in with
/// about weekly, C-10/C-11 entries, a leave; with `transfer`, a change of residence applied for.
pub fn township_month(
    store: &mut Store,
    officer: &SessionUser,
    clock: &MonthClock,
    (first_day, last_day): (NaiveDate, NaiveDate),
    (cases, transfer): (u32, bool),
    slot: u64,
) -> Result<MonthWritten> {
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ slot);
    let mut written = MonthWritten::default();
    let kinds = [
        CaseKind::Probation,
        CaseKind::Parole,
        CaseKind::Control,
        CaseKind::TemporaryOutside,
    ];
    let mut case_ids = Vec::new();
    clock.set_day(first_day, 9);
    for n in 0..cases {
        let start = first_day
            .checked_sub_days(Days::new(30 + 20 * u64::from(n)))
            .unwrap_or(first_day);
        let end = start
            .checked_add_days(Days::new(365 + 45 * u64::from(n % 9)))
            .unwrap_or(start);
        let case = store.save_case(
            officer,
            CaseInput {
                id: None,
                name: name(&mut dice, n as usize),
                id_number: id_number(slot, u64::from(n)),
                kind: kinds[n as usize % kinds.len()],
                sentence_start: day_text(start),
                sentence_end: day_text(end),
                org_unit_id: None,
                // Most in correction; some just received, awaiting their first report.
                status: (n % 6 != 5).then_some(CaseStatus::InCorrection),
                judgment_effective_on: None,
                reported_on: None,
                supervision_level: None,
                sealed_minor: None,
                address: Some(format!("{}号楼{}单元", n % 20 + 1, n % 4 + 1)),
            },
        )?;
        if case.status == CaseStatus::InCorrection {
            case_ids.push(case.id);
        }
        written.cases += 1;
    }
    let mut day = first_day;
    let mut week_day = 0u64;
    while day <= last_day {
        clock.set_day(day, 10);
        for (i, case_id) in case_ids.iter().enumerate() {
            // About once a week per case, on a day of its own.
            if !(i as u64 + week_day).is_multiple_of(7) {
                continue;
            }
            let method = CheckinMethod::ALL[dice.next(CheckinMethod::ALL.len())];
            store.add_checkin(
                officer,
                CheckinInput {
                    case_id: case_id.clone(),
                    occurred_at: format!("{}T09:{:02}:00+08:00", day_text(day), i % 60),
                    method,
                    note: "按时报到，思想汇报正常".to_string(),
                },
            )?;
            written.checkins += 1;
        }
        // C-10 / C-11: labour once a week, group education once in the month's first week.
        for (i, case_id) in case_ids.iter().enumerate() {
            let (kind, minutes) = match (week_day + i as u64) % 7 {
                3 => (EntryKind::Labour, 240),
                5 if week_day < 7 => (EntryKind::GroupEducation, 120),
                _ => continue,
            };
            store.add_entry(
                officer,
                EntryInput {
                    case_id: case_id.clone(),
                    kind,
                    occurred_on: day_text(day),
                    minutes: Some(minutes),
                    days: None,
                    ref_entry_id: None,
                    note: String::new(),
                },
            )?;
            written.entries += 1;
        }
        week_day += 1;
        day = day
            .checked_add_days(Days::new(1))
            .unwrap_or(last_day + Days::new(1));
    }
    // A leave asked for, approved and returned from in the month's second week.
    if let (Some(case_id), Some(asked)) =
        (case_ids.first(), first_day.checked_add_days(Days::new(7)))
    {
        clock.set_day(asked, 11);
        let start = asked + Days::new(2);
        let end = asked + Days::new(5);
        let leave = store.request_leave(
            officer,
            LeaveInput {
                case_id: case_id.clone(),
                destination: "天津市河西区".to_string(),
                reason: "探望住院的母亲".to_string(),
                start_on: day_text(start),
                end_on: day_text(end),
            },
        )?;
        store.decide_leave(officer, &leave.id, LeaveDecision::Approve, "同意，按时销假")?;
        clock.set_day(end, 17);
        store.record_leave_return(officer, &leave.id, &day_text(end))?;
        written.leaves += 1;
    }
    // A change of residence (L-6) applied for a few days ago, in progress.
    if transfer {
        if let Some(case_id) = case_ids.get(1) {
            let applied = last_day.checked_sub_days(Days::new(3)).unwrap_or(last_day);
            clock.set_day(applied, 16);
            store.apply_transfer(
                officer,
                crate::transfer::TransferInput {
                    case_id: case_id.clone(),
                    destination: "和平里街道".to_string(),
                    reason: "随子女迁居".to_string(),
                    move_on: day_text(last_day + Days::new(30)),
                },
            )?;
            written.transfers += 1;
        }
    }
    clock.set_day(last_day, 18);
    Ok(written)
}

/// A community workstation's month: `residents` residents, appeals received through the month (a
/// few a week, of every class) and mediation cases.
pub fn community_month(
    store: &mut Store,
    clerk: &SessionUser,
    clock: &MonthClock,
    (first_day, last_day): (NaiveDate, NaiveDate),
    residents: u32,
    slot: u64,
) -> Result<MonthWritten> {
    let mut dice = Dice(0x2545_f491_4f6c_dd1d ^ slot);
    let mut written = MonthWritten::default();
    clock.set_day(first_day, 9);
    for n in 0..residents {
        store.save_resident(
            clerk,
            ResidentInput {
                id: None,
                name: name(&mut dice, n as usize),
                id_number: id_number(slot, u64::from(n)),
                phone: format!("1380013{:04}", n % 10_000),
                building: format!("{}", n % 12 + 1),
                unit: format!("{}", n % 3 + 1),
                room: format!("{}", 101 + (n % 6) * 100 + n % 4),
                household_head: n % 3 == 0,
                special_groups: Vec::new(),
                note: String::new(),
            },
        )?;
        written.residents += 1;
    }
    let subjects = [
        ("小区路灯不亮", "3号楼前路灯损坏已一周"),
        ("噪音扰民", "夜间施工噪音影响休息"),
        ("物业收费", "对物业费上涨有异议"),
        ("道路积水", "雨后小区门口积水严重"),
    ];
    let mut day = first_day;
    let mut n = 0usize;
    while day <= last_day {
        clock.set_day(day, 15);
        if n.is_multiple_of(3) {
            let (subject, content) = subjects[dice.next(subjects.len())];
            store.register_appeal(
                clerk,
                AppealInput {
                    channel: "phone".into(),
                    class: AppealClass::ALL[(n / 3) % AppealClass::ALL.len()],
                    category: "municipal".into(),
                    petitioner_name: name(&mut dice, n),
                    petitioner_phone: "13800138000".into(),
                    subject: subject.into(),
                    content: content.into(),
                    received_on: Some(day_text(day)),
                    petitioner_id_number: String::new(),
                    whistleblower: false,
                    complained_department: String::new(),
                },
            )?;
            written.appeals += 1;
        }
        if n % 9 == 4 {
            store.save_mediation(
                clerk,
                MediationInput {
                    id: None,
                    dispute_type: DisputeType::Neighbour,
                    summary: "楼上漏水致楼下天花板受损，双方就维修费用发生争执".into(),
                    accepted_on: Some(day_text(day)),
                    mediator: "王调解".into(),
                    parties: (0..2)
                        .map(|p| MediationPartyInput {
                            id: None,
                            name: name(&mut dice, n + p),
                            id_number: String::new(),
                            phone: String::new(),
                            address: format!("{}号楼", p + 3),
                        })
                        .collect(),
                },
            )?;
            written.mediations += 1;
        }
        n += 1;
        day = day
            .checked_add_days(Days::new(1))
            .unwrap_or(last_day + Days::new(1));
    }
    Ok(written)
}

/// The month ending yesterday (Asia/Shanghai) for a clock at `now_ms`: its first and last day.
pub fn last_month(now_ms: u64) -> (NaiveDate, NaiveDate) {
    let today = crate::shanghai::today(now_ms);
    let last = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let first = today.checked_sub_days(Days::new(30)).unwrap_or(today);
    (first, last)
}

/// The instant (ms) a demo site must have been registered by for its month's operations to be
/// accepted: a day before the month.
pub fn registered_before(now_ms: u64) -> u64 {
    now_ms.saturating_sub(32 * DAY_MS)
}
