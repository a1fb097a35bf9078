//! 基层通 Jiceng desktop shell. Thin by design: everything but the window lives in `jiceng-core`.
//!
//! Usage: `jiceng-desktop [--data-dir <path>]` (else env JICENG_DATA_DIR, else the OS app-data dir).
//! The local store is `<data dir>/jiceng.sqlite`.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[macro_use]
mod command_list;
mod commands;
mod commands_accounts;
mod commands_backup;
mod commands_corrections;
mod commands_dashboard;
mod commands_people;
mod commands_print;
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
        // Generated from the commands' own definitions (tests/tests/command_layer.rs).
        .invoke_handler(command_handler!())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("[jiceng] the desktop shell stopped: {e}");
        std::process::exit(1);
    }
}
