//! Issue 13 §6: the run command's demo district with a month of work. Each office's and workstation's
//! month is written by a site store of its own through the desktop's write paths (core's
//! `demo_month`), enrolled in process and pushed to the master as its desktop would, so the master
//! holds what real offices would have sent: hash chains, clocks through the month, the guard's
//! judgement. Then what the district reviews: the district's desktop and an office edit one case's
//! address at once (a conflict), and a workstation PC with its clock three days ahead registers a
//! resident (held in quarantine). Every site then gets a fresh enrolment code; a desktop enrolled
//! with it continues its site's chain and starts from its snapshot.

use crate::admin::{seed_demo_registered, DemoDistrict, DemoSite, DEMO_PASSWORD};
use crate::error::{Result, ServerError};
use crate::master::{MasterStore, SiteAuth};
use jiceng_core::demo_month::{self, MonthClock, MonthWritten};
use jiceng_core::model::{CaseInput, CaseQuery, ResidentInput, SessionUser};
use jiceng_core::store::{SiteIdentity, Store};
use jiceng_core::wire::{EnrolRequest, PushRequest};
use serde::Serialize;

/// What the month wrote, per site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteMonth {
    pub site: String,
    #[serde(flatten)]
    pub written: MonthWritten,
    pub operations: u64,
    pub held: u64,
}

/// The demo district and its month.
#[derive(Debug, Clone, Serialize)]
pub struct DemoMonth {
    #[serde(flatten)]
    pub district: DemoDistrict,
    pub month: Vec<SiteMonth>,
    /// Conflict items and held operations left for the district's review.
    pub conflicts: u64,
    pub held: u64,
}

/// Cases per judicial office and residents per workstation.
const CASES_PER_OFFICE: u32 = 18;
const RESIDENTS_PER_WORKSTATION: u32 = 60;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// A demo site's desktop, in process: its store, its token's view, its clock, its user.
struct Desk {
    store: Store,
    auth: SiteAuth,
    clock: MonthClock,
    user: SessionUser,
}

impl Desk {
    /// Enrols `site` (its code, at `enrolled_at`) and pulls what it may read, then logs `username` in.
    fn open(
        master: &mut dyn MasterStore,
        site: &DemoSite,
        username: &str,
        enrolled_at: u64,
        now_ms: u64,
    ) -> Result<Desk> {
        let clock = MonthClock::new(enrolled_at);
        let mut store = Store::open_in_memory()?.with_clock(clock.wall());
        let enrolled = master.enrol(
            &EnrolRequest {
                code: site.enrolment_code.clone(),
                device_label: "demo".to_string(),
                db_instance_id: store.instance_id()?,
            },
            enrolled_at,
        )?;
        let auth = master.authenticate(&enrolled.token)?;
        store.continue_site_log(enrolled.last_seq, &enrolled.last_hash)?;
        store.set_identity(&SiteIdentity {
            site_id: enrolled.site_id.clone(),
            site_name: enrolled.site_name.clone(),
            org_unit_id: enrolled.org_unit_id.clone(),
            org_unit_name: enrolled.org_unit_name.clone(),
            server_url: String::new(),
            token: enrolled.token.clone(),
            tls_pin: None,
        })?;
        let mut desk = Desk {
            user: SessionUser {
                user_id: String::new(),
                username: String::new(),
                display_name: String::new(),
                role: jiceng_core::model::Role::CommunityClerk,
                org_unit_id: String::new(),
            },
            store,
            auth,
            clock,
        };
        desk.pull(master, now_ms)?;
        desk.user = desk.store.login(username, DEMO_PASSWORD)?;
        Ok(desk)
    }

    fn pull(&mut self, master: &mut dyn MasterStore, now_ms: u64) -> Result<()> {
        let mut cursor = self.store.pull_cursor()?;
        loop {
            let pulled = master.pull(&self.auth, cursor, 5_000, now_ms)?;
            self.store
                .apply_pull(&pulled.ops, &pulled.left_scope, pulled.next_cursor)?;
            cursor = pulled.next_cursor;
            if !pulled.has_more {
                return Ok(());
            }
        }
    }

    /// Pushes everything the store wrote, as its desktop would (whole rows per batch); returns the
    /// operations sent and held.
    fn push(&mut self, master: &mut dyn MasterStore, now_ms: u64) -> Result<(u64, u64)> {
        let (mut sent, mut held) = (0u64, 0u64);
        loop {
            let mut ops = self.store.unacked_ops(1_000)?;
            if ops.is_empty() {
                return Ok((sent, held));
            }
            jiceng_core::sync::keep_rows_whole(&mut ops);
            let answer = master.push(
                &self.auth,
                PushRequest {
                    db_instance_id: self.store.instance_id()?,
                    ops,
                    divergent: Vec::new(),
                },
                now_ms,
            )?;
            if answer.acks.is_empty() {
                return Err(ServerError::Store(
                    "the master acknowledged none of a demo batch".to_string(),
                ));
            }
            sent += answer.acks.len() as u64;
            held += answer.quarantined.len() as u64;
            let pairs: Vec<(u64, u64)> = answer
                .acks
                .iter()
                .map(|a| (a.site_seq, a.server_seq))
                .collect();
            self.store.mark_acked(&pairs)?;
        }
    }
}

/// Creates the demo district with a month of work ending yesterday (Asia/Shanghai).
pub fn seed_demo_month(master: &mut dyn MasterStore, now_ms: u64) -> Result<DemoMonth> {
    let registered = demo_month::registered_before(now_ms);
    // The district's directory is written as of the month's start: the offices' month, stamped by
    // their desks' clocks after they pulled it, then reads in every closed day since (D-1).
    let started = std::time::Instant::now();
    master.set_wall_clock(std::sync::Arc::new(move || {
        registered + started.elapsed().as_millis() as u64
    }));
    let mut district = seed_demo_registered(master, registered)?;
    master.set_wall_clock(jiceng_core::store::system_clock());
    let (first_day, last_day) = demo_month::last_month(now_ms);
    let month_start = jiceng_core::consolidation::day_window(first_day).0;
    let user_of = |district: &DemoDistrict, unit: &str| {
        district
            .users
            .iter()
            .find(|u| u.org_unit == unit)
            .map(|u| u.username.clone())
    };
    let mut month = Vec::new();
    // One office has a change of residence in progress.
    let mut transfer_left = true;
    let mut first_office: Option<Desk> = None;
    let mut first_workstation: Option<Desk> = None;
    let sites = district.sites.clone();
    for (slot, site) in sites.iter().enumerate() {
        let (unit_name, township) = if let Some(unit) = site.name.strip_suffix("司法所") {
            (unit, true)
        } else if let Some(unit) = site.name.strip_suffix("工作站") {
            (unit, false)
        } else {
            continue; // the district's own desktop writes no office work
        };
        let Some(username) = user_of(&district, unit_name) else {
            continue;
        };
        let mut desk = Desk::open(master, site, &username, month_start, now_ms)?;
        let written: MonthWritten = if township {
            demo_month::township_month(
                &mut desk.store,
                &desk.user,
                &desk.clock,
                (first_day, last_day),
                (CASES_PER_OFFICE, std::mem::take(&mut transfer_left)),
                slot as u64,
            )?
        } else {
            demo_month::community_month(
                &mut desk.store,
                &desk.user,
                &desk.clock,
                (first_day, last_day),
                RESIDENTS_PER_WORKSTATION,
                slot as u64,
            )?
        };
        let (operations, held) = desk.push(master, now_ms)?;
        month.push(SiteMonth {
            site: site.name.clone(),
            written,
            operations,
            held,
        });
        match (township, &first_office, &first_workstation) {
            (true, None, _) => first_office = Some(desk),
            (false, _, None) => first_workstation = Some(desk),
            _ => {}
        }
    }
    let (conflicts, held) =
        leave_for_review(master, &district, (first_office, first_workstation), now_ms)?;
    for site in &mut district.sites {
        site.enrolment_code = master.new_enrolment_code(&site.site_id, now_ms)?;
    }
    Ok(DemoMonth {
        district,
        month,
        conflicts,
        held,
    })
}

/// What the district reviews: a conflict (its desktop and an office edit one case's address at once)
/// and a held operation (a workstation PC three days ahead registers a resident). Returns how many
/// of each the master holds.
fn leave_for_review(
    master: &mut dyn MasterStore,
    district: &DemoDistrict,
    (office, workstation): (Option<Desk>, Option<Desk>),
    now_ms: u64,
) -> Result<(u64, u64)> {
    let (Some(mut office), Some(mut workstation)) = (office, workstation) else {
        return Ok((0, 0));
    };
    let Some(district_site) = district.sites.iter().find(|s| s.kind == "district") else {
        return Ok((0, 0));
    };
    let yesterday = now_ms.saturating_sub(DAY_MS);
    // Enrolled when the month began (its first code was made then), working yesterday.
    let enrolled_at = jiceng_core::consolidation::day_window(demo_month::last_month(now_ms).0).0;
    let mut desk = Desk::open(master, district_site, "admin", enrolled_at, now_ms)?;
    let query = CaseQuery {
        text: None,
        page: 1,
        page_size: 50,
        include_deleted: false,
    };
    let listed = office.store.list_cases(&office.user, &query)?;
    let Some(case) = listed.items.iter().find(|c| c.transfer_status.is_none()) else {
        return Ok((0, 0));
    };
    // Both edit the address as they know it, neither having seen the other's.
    for (desk, address) in [
        (&mut office, "北新桥三条8号（本人电话告知）"),
        (&mut desk, "北新桥三条10号（派出所核实）"),
    ] {
        desk.clock.set(yesterday);
        let current = desk.store.get_case(&desk.user, &case.id)?.case;
        desk.store.save_case(
            &desk.user,
            CaseInput {
                address: Some(address.to_string()),
                ..CaseInput::edit_of(&current)
            },
        )?;
    }
    office.push(master, now_ms)?;
    desk.push(master, now_ms)?;
    // A PC whose clock runs three days ahead.
    workstation.clock.set(now_ms + 3 * DAY_MS);
    workstation.store.save_resident(
        &workstation.user,
        ResidentInput {
            id: None,
            name: "时钟快了三天".to_string(),
            id_number: jiceng_core::idcard::compose(
                "110101",
                chrono::NaiveDate::from_ymd_opt(1980, 6, 1).unwrap_or_default(),
                321,
            ),
            phone: String::new(),
            building: "9".to_string(),
            unit: "1".to_string(),
            room: "101".to_string(),
            household_head: false,
            special_groups: Vec::new(),
            note: "电脑时间设置错误时登记".to_string(),
        },
    )?;
    let (_, held) = workstation.push(master, now_ms)?;
    // The district's desktop sees the conflict once it has the office's edit too.
    desk.pull(master, now_ms)?;
    let conflicts = desk.store.conflict_count()?;
    Ok((conflicts, held))
}
