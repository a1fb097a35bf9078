//! Issue 13 §6: the run command's demo district with a month of work. Each office's and workstation's
//! month is written by a site store of its own through the desktop's write paths (core's
//! `demo_month`), enrolled in process and pushed to the master as its desktop would, so the master
//! holds what real offices would have sent: hash chains, clocks through the month, the guard's
//! judgement. Every site then gets a fresh enrolment code, and a desktop enrolled with it continues
//! the site's chain and starts from its snapshot.

use crate::admin::{seed_demo_registered, DemoDistrict, DEMO_PASSWORD};
use crate::error::{Result, ServerError};
use crate::master::MasterStore;
use jiceng_core::demo_month::{self, MonthClock, MonthWritten};
use jiceng_core::store::{SiteIdentity, Store};
use jiceng_core::wire::{EnrolRequest, PushRequest};
use serde::Serialize;

/// What the month wrote, per site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteMonth {
    pub site: String,
    pub cases: u32,
    pub checkins: u32,
    pub residents: u32,
    pub appeals: u32,
    pub mediations: u32,
    pub operations: u64,
    pub held: u64,
}

/// The demo district and its month.
#[derive(Debug, Clone, Serialize)]
pub struct DemoMonth {
    #[serde(flatten)]
    pub district: DemoDistrict,
    pub month: Vec<SiteMonth>,
}

/// Cases per judicial office and residents per workstation.
const CASES_PER_OFFICE: u32 = 18;
const RESIDENTS_PER_WORKSTATION: u32 = 60;

/// Creates the demo district with a month of work ending yesterday (Asia/Shanghai).
pub fn seed_demo_month(master: &mut dyn MasterStore, now_ms: u64) -> Result<DemoMonth> {
    let registered = demo_month::registered_before(now_ms);
    let mut district = seed_demo_registered(master, registered)?;
    let (first_day, last_day) = demo_month::last_month(now_ms);
    let month_start = jiceng_core::consolidation::day_window(first_day).0;
    let mut month = Vec::new();
    for (slot, site) in district.sites.iter_mut().enumerate() {
        let (unit_name, township) = if let Some(unit) = site.name.strip_suffix("司法所") {
            (unit, true)
        } else if let Some(unit) = site.name.strip_suffix("工作站") {
            (unit, false)
        } else {
            continue; // the district's own desktop writes no office work
        };
        let Some(user) = district
            .users
            .iter()
            .find(|u| u.org_unit == unit_name)
            .map(|u| u.username.clone())
        else {
            continue;
        };
        let clock = MonthClock::new(month_start);
        let mut store = Store::open_in_memory()?.with_clock(clock.wall());
        let enrolled = master.enrol(
            &EnrolRequest {
                code: site.enrolment_code.clone(),
                device_label: "demo".to_string(),
                db_instance_id: store.instance_id()?,
            },
            month_start,
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
        // The site's directory (its unit, its users) before anyone logs in.
        let mut cursor = 0;
        loop {
            let pulled = master.pull(&auth, cursor, 5_000, now_ms)?;
            store.apply_pull(&pulled.ops, &pulled.left_scope, pulled.next_cursor)?;
            cursor = pulled.next_cursor;
            if !pulled.has_more {
                break;
            }
        }
        let officer = store.login(&user, DEMO_PASSWORD)?;
        let written: MonthWritten = if township {
            demo_month::township_month(
                &mut store,
                &officer,
                &clock,
                (first_day, last_day),
                CASES_PER_OFFICE,
                slot as u64,
            )?
        } else {
            demo_month::community_month(
                &mut store,
                &officer,
                &clock,
                (first_day, last_day),
                RESIDENTS_PER_WORKSTATION,
                slot as u64,
            )?
        };
        let (operations, held) = push_all(master, &auth, &mut store, now_ms)?;
        site.enrolment_code = master.new_enrolment_code(&site.site_id, now_ms)?;
        month.push(SiteMonth {
            site: site.name.clone(),
            cases: written.cases,
            checkins: written.checkins,
            residents: written.residents,
            appeals: written.appeals,
            mediations: written.mediations,
            operations,
            held,
        });
    }
    Ok(DemoMonth { district, month })
}

/// Pushes everything the store wrote, as its desktop would (whole rows per batch); returns the
/// operations sent and held.
fn push_all(
    master: &mut dyn MasterStore,
    auth: &crate::master::SiteAuth,
    store: &mut Store,
    now_ms: u64,
) -> Result<(u64, u64)> {
    let (mut sent, mut held) = (0u64, 0u64);
    loop {
        let mut ops = store.unacked_ops(1_000)?;
        if ops.is_empty() {
            return Ok((sent, held));
        }
        jiceng_core::sync::keep_rows_whole(&mut ops);
        let answer = master.push(
            auth,
            PushRequest {
                db_instance_id: store.instance_id()?,
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
        store.mark_acked(&pairs)?;
    }
}
