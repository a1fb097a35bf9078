//! 基层通 Jiceng desktop shell. Thin by design: everything but the window lives in `jiceng-core`.
//!
//! Usage: `jiceng-desktop [--data-dir <path>]` (else env JICENG_DATA_DIR, else the OS app-data dir).
//! The local store is `<data dir>/jiceng.sqlite`.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod commands_accounts;
mod commands_backup;
mod commands_corrections;
mod commands_people;
mod commands_quarantine;
mod commands_sites;
mod commands_usb;
mod state;
mod sync_task;

use state::AppState;
use tauri::Manager;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let explicit_dir = state::data_dir_from(&args, std::env::var("JICENG_DATA_DIR").ok());

    let result = tauri::Builder::default()
        .setup(move |app| {
            let data_dir = match explicit_dir.clone() {
                Some(d) => d,
                None => app.path().app_data_dir()?,
            };
            let state = AppState::open(data_dir)?;
            eprintln!("[jiceng] data dir {}", state.data_dir.display());
            app.manage(state);
            sync_task::spawn(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::enrol,
            commands::login,
            commands::logout,
            commands::unlock_with_recovery_code,
            commands::current_user,
            commands::list_cases,
            commands::get_case,
            commands::save_case,
            commands::delete_case,
            commands::restore_case,
            commands::add_checkin,
            commands::add_entry,
            commands::task_digest,
            commands::duplicate_suggestions,
            commands::merge_residents,
            commands::undo_resident_merge,
            commands::list_appeals,
            commands::register_appeal,
            commands::act_on_appeal,
            commands::list_residents,
            commands::save_resident,
            commands::set_resident_deleted,
            commands::request_leave,
            commands::decide_leave,
            commands::record_leave_return,
            commands::add_assessment,
            commands_corrections::save_person,
            commands_corrections::set_person_deleted,
            commands_corrections::save_plan,
            commands_corrections::save_document,
            commands_corrections::set_document_deleted,
            commands_corrections::record_history,
            commands_corrections::save_location_period,
            commands_corrections::end_location_period,
            commands_corrections::add_location_event,
            commands_corrections::apply_transfer,
            commands_corrections::act_on_transfer,
            commands_corrections::judicial_offices,
            commands_corrections::list_investigations,
            commands_corrections::register_investigation,
            commands_corrections::answer_investigation,
            commands_corrections::withdraw_investigation,
            commands_corrections::deadline_settings,
            commands_corrections::save_rule_table,
            commands_corrections::save_calendar,
            commands_corrections::conflict_reviews,
            commands_corrections::resolve_conflict,
            commands_corrections::save_case_kinds,
            commands_corrections::office_officers,
            commands_corrections::assign_officer,
            commands_corrections::list_recommendations,
            commands_corrections::register_recommendation,
            commands_corrections::reply_recommendation,
            commands_corrections::set_priority_groups,
            commands_corrections::list_meetings,
            commands_corrections::save_meeting,
            commands::sync_status,
            commands::sync_now,
            commands::set_sync_interval,
            commands::statistics,
            commands::export_statistics,
            commands::list_mediations,
            commands::get_mediation,
            commands::save_mediation,
            commands::add_mediation_session,
            commands::act_on_mediation,
            commands::set_mediation_deleted,
            commands::list_admissions,
            commands::register_admission,
            commands::decide_admission,
            commands::set_admission_deleted,
            commands::list_volunteers,
            commands::save_volunteer,
            commands::set_volunteer_deleted,
            commands::add_volunteer_service,
            commands::volunteer_services,
            commands::volunteer_year,
            commands_people::search_people,
            commands_people::person_profile,
            commands_people::appeal_routing_slips,
            commands_people::read_appeal,
            commands_people::record_fund_entry,
            commands_people::set_fund_entry_deleted,
            commands_people::list_fund_entries,
            commands_people::fund_summaries,
            commands_quarantine::quarantined_writes,
            commands_quarantine::quarantined_writes_of,
            commands_quarantine::decide_quarantine,
            commands_backup::backup_store,
            commands_backup::list_backups,
            commands_backup::restore_store,
            commands_accounts::account_state,
            commands_accounts::capabilities,
            commands_accounts::change_password,
            commands_accounts::unit_accounts,
            commands_accounts::reset_password,
            commands_accounts::unlock_screen,
            commands_sites::list_sites,
            commands_sites::revoke_site,
            commands_usb::usb_targets,
            commands_usb::export_sync_bundle,
            commands_usb::import_sync_answer,
            commands_usb::relay_sync_bundle,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("[jiceng] the desktop shell stopped: {e}");
        std::process::exit(1);
    }
}
