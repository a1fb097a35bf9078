//! 基层通 Jiceng desktop shell. Thin by design: everything but the window lives in `jiceng-core`.
//!
//! Usage: `jiceng-desktop [--data-dir <path>]` (else env JICENG_DATA_DIR, else the OS app-data dir).
//! The local store is `<data dir>/jiceng.sqlite`.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod commands_casefile;
mod commands_people;
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
            commands_casefile::save_person,
            commands_casefile::set_person_deleted,
            commands_casefile::save_plan,
            commands_casefile::save_document,
            commands_casefile::set_document_deleted,
            commands_casefile::record_history,
            commands_casefile::save_location_period,
            commands_casefile::end_location_period,
            commands_casefile::add_location_event,
            commands_casefile::apply_transfer,
            commands_casefile::act_on_transfer,
            commands_casefile::judicial_offices,
            commands_casefile::list_investigations,
            commands_casefile::register_investigation,
            commands_casefile::answer_investigation,
            commands_casefile::withdraw_investigation,
            commands_casefile::deadline_settings,
            commands_casefile::save_rule_table,
            commands_casefile::save_calendar,
            commands_casefile::conflict_reviews,
            commands_casefile::resolve_conflict,
            commands_casefile::save_case_kinds,
            commands_casefile::office_officers,
            commands_casefile::assign_officer,
            commands_casefile::list_recommendations,
            commands_casefile::register_recommendation,
            commands_casefile::reply_recommendation,
            commands_casefile::set_priority_groups,
            commands_casefile::list_meetings,
            commands_casefile::save_meeting,
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
            commands_people::record_fund_entry,
            commands_people::set_fund_entry_deleted,
            commands_people::list_fund_entries,
            commands_people::fund_summaries,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("[jiceng] the desktop shell stopped: {e}");
        std::process::exit(1);
    }
}
