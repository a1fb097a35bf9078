//! Issue 13 §1 (D-1): the district's nightly consolidation. It closes a day (Asia/Shanghai) into a
//! directory of its own:
//! - `district.sqlite`: the district's record as a site store file (the district desktop's scope,
//!   every row with its whole history), made from the master's snapshot pages (issue 12 §6), so it is
//!   the same on both backends and opens with the desktop's own code; written once, then read-only;
//! - `consolidation.json`: the day's C-21 statistics as the record stood at the day's end (core's
//!   `Store::statistics`, reproducible: later edits do not change an earlier day's figures), and a
//!   reconciliation per site (operations received that day, held, alarms, clock warnings, silent for
//!   more than N days);
//! - `statistics.xlsx`: the same statistics as a workbook (D-4).
//!
//! The rules of when and which day are core's (`jiceng_core::consolidation`).

use crate::error::{Result, ServerError};
use crate::master::snapshot::{snapshot_page, SnapshotRequest, MAX_SNAPSHOT_ROWS};
use crate::master::{MasterStore, SiteAuth};
use chrono::NaiveDate;
use jiceng_core::consolidation::{day_window, is_silent};
use jiceng_core::model::{OrgKind, Role, SessionUser};
use jiceng_core::store::Store;
use std::path::{Path, PathBuf};

/// The record file inside a day's directory.
pub const RECORD_FILE: &str = "district.sqlite";
/// The summary inside a day's directory.
pub const SUMMARY_FILE: &str = "consolidation.json";
pub const STATISTICS_FILE: &str = "statistics.xlsx";

/// Alarms that say a site's clock is wrong.
const CLOCK_ALARMS: &[&str] = &["future_clock", "clock_before_site", "clock_skew"];

pub use jiceng_core::consolidation::{Consolidation, SiteDay};

fn io(what: &Path, e: std::io::Error) -> ServerError {
    ServerError::Store(format!("{}: {e}", what.display()))
}

/// The district as a site that reads everything of it (its whole tree).
fn district_reader(master: &mut dyn MasterStore) -> Result<SiteAuth> {
    let units = master.org_units()?;
    let district = units
        .iter()
        .find(|u| u.parent_id.is_none() && u.kind == OrgKind::District.code())
        .ok_or_else(|| ServerError::NotFound("the district (the org tree is empty)".to_string()))?;
    let mut scope = vec![district.id.clone()];
    let mut i = 0;
    while i < scope.len() {
        let parent = scope[i].clone();
        scope.extend(
            units
                .iter()
                .filter(|u| u.parent_id.as_deref() == Some(parent.as_str()))
                .map(|u| u.id.clone()),
        );
        i += 1;
    }
    Ok(SiteAuth {
        site_id: "consolidation".to_string(),
        org_unit_id: district.id.clone(),
        kind: OrgKind::District,
        scope: scope.into(),
        ancestors: vec![district.id.clone()],
        created_at_ms: 0,
    })
}

/// Closes `day` into `<root>/<day>/` (a directory there already is kept aside as
/// `<day>.replaced-<now_ms>`). `now_ms` is the server's clock.
pub fn consolidate(
    master: &mut dyn MasterStore,
    root: &Path,
    day: NaiveDate,
    silent_days: u64,
    now_ms: u64,
) -> Result<Consolidation> {
    let day_text = day.format("%Y-%m-%d").to_string();
    let (from_ms, to_ms) = day_window(day);
    if from_ms >= now_ms {
        return Err(ServerError::BadRequest(format!(
            "{day_text} has not begun yet (Asia/Shanghai): a day is closed once it has ended, or during it on demand"
        )));
    }
    std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
    let partial = root.join(format!("{day_text}.partial-{now_ms}"));
    std::fs::create_dir_all(&partial).map_err(|e| io(&partial, e))?;
    let reader = district_reader(master)?;

    // The record: the district's snapshot, page by page, into a store file of its own.
    let record_path = partial.join(RECORD_FILE);
    let clock_ms = now_ms;
    let mut store = Store::open(&record_path)?.with_clock(std::sync::Arc::new(move || clock_ms));
    let mut request = SnapshotRequest {
        as_of: None,
        after: None,
        limit: MAX_SNAPSHOT_ROWS,
        store_schema: jiceng_core::store::STORE_SCHEMA,
    };
    let mut rows = 0u64;
    let as_of = loop {
        let page = snapshot_page(master, &reader, &request, now_ms)?;
        rows += page.rows.len() as u64;
        store.apply_snapshot_page(&page)?;
        match page.next {
            Some(next) => {
                request.as_of = Some(page.as_of);
                request.after = Some(next);
            }
            None => break page.as_of,
        }
    };

    // The day's statistics, as the record stood at its end.
    let district_user = SessionUser {
        user_id: "consolidation".to_string(),
        username: "consolidation".to_string(),
        display_name: "夜间汇总".to_string(),
        role: Role::DistrictAdmin,
        org_unit_id: reader.org_unit_id.clone(),
    };
    let statistics = store.statistics(&district_user, day)?;
    let workbook = jiceng_core::stats::write_xlsx(&statistics)
        .map_err(|e| ServerError::Store(format!("statistics workbook: {e}")))?;
    drop(store);

    // The reconciliation per site.
    let activity = master.site_activity(from_ms, to_ms)?;
    let held = master.quarantine()?;
    let alarms = master.alarms()?;
    let in_day = |at: u64| at >= from_ms && at < to_ms;
    let sites: Vec<SiteDay> = master
        .sites()?
        .into_iter()
        .map(|site| {
            let seen = activity.iter().find(|a| a.site_id == site.id);
            let site_alarms: Vec<String> = alarms
                .iter()
                .filter(|a| a.site_id.as_deref() == Some(site.id.as_str()) && in_day(a.at_ms))
                .map(|a| a.code.clone())
                .collect();
            let last_received_ms = seen.map(|a| a.last_received_ms);
            SiteDay {
                operations_received: seen.map(|a| a.operations_in_window).unwrap_or(0),
                held: held
                    .iter()
                    .filter(|h| h.site_id == site.id && in_day(h.received_at_ms))
                    .count() as u64,
                clock_warnings: site_alarms
                    .iter()
                    .filter(|c| CLOCK_ALARMS.contains(&c.as_str()))
                    .count() as u64,
                alarms: site_alarms,
                silent: !site.revoked && is_silent(last_received_ms, day, silent_days),
                last_received_ms,
                site_id: site.id,
                name: site.name,
                org_unit_id: site.org_unit_id,
                revoked: site.revoked,
            }
        })
        .collect();

    let target = root.join(&day_text);
    let summary = Consolidation {
        day: day_text.clone(),
        made_at_ms: now_ms,
        directory: target.display().to_string(),
        rows,
        as_of,
        silent_days,
        statistics,
        sites,
    };
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| ServerError::Store(format!("consolidation summary: {e}")))?;
    for (name, bytes) in [(SUMMARY_FILE, &json), (STATISTICS_FILE, &workbook)] {
        let path = partial.join(name);
        std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
    }
    // Read-only from now on: the record of a closed day does not change.
    for name in [RECORD_FILE, SUMMARY_FILE, STATISTICS_FILE] {
        let path = partial.join(name);
        let mut permissions = std::fs::metadata(&path)
            .map_err(|e| io(&path, e))?
            .permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions).map_err(|e| io(&path, e))?;
    }
    if target.exists() {
        let aside = root.join(format!("{day_text}.replaced-{now_ms}"));
        std::fs::rename(&target, &aside).map_err(|e| io(&target, e))?;
    }
    std::fs::rename(&partial, &target).map_err(|e| io(&partial, e))?;
    Ok(summary)
}

/// The latest closed day under `root` (directories named `YYYY-MM-DD`), if any.
pub fn latest(root: &Path) -> Result<Option<Consolidation>> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(None);
    };
    let mut days: Vec<(NaiveDate, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            Some((jiceng_core::shanghai::parse_date(&name)?, e.path()))
        })
        .filter(|(_, path)| path.join(SUMMARY_FILE).exists())
        .collect();
    days.sort();
    let Some((_, path)) = days.pop() else {
        return Ok(None);
    };
    let file = path.join(SUMMARY_FILE);
    let bytes = std::fs::read(&file).map_err(|e| io(&file, e))?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ServerError::Store(format!("{}: {e}", file.display())))
}
