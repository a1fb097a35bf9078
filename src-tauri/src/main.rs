//! 基层通 Jiceng desktop shell. Thin by design: everything but the window lives in `jiceng-core`.
//!
//! Usage: `jiceng-desktop [--data-dir <path>]` (else env JICENG_DATA_DIR, else the OS app-data dir).
//! The local store is `<data dir>/jiceng.sqlite`.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The same allocator as the server's (Cargo.toml): a sync decodes and merges tens of thousands of
/// operations of short strings, where glibc's malloc spent a quarter of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    keep_large_blocks_returnable();
    interpret_the_pages_script();
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

/// Signing in derives keys with Argon2, 19 MiB a time (core::keyring). glibc serves the first such
/// block by mmap and, when it is freed, raises its mmap threshold to its size, so the next ones come
/// from the heap and stay there after they are freed: some 20 MB held for the whole session
/// (issue 14 §5 measured it). A fixed threshold turns that adjustment off; big blocks go back to
/// the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_large_blocks_returnable() {
    // SAFETY: mallopt only sets an allocator parameter; called first thing, before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_large_blocks_returnable() {}

/// The web process runs the UI's script in JavaScriptCore's interpreter, without its JIT compilers
/// (issue 14 §5): forms and tables of 20 rows do not need them, and their code and profiles were
/// 10–15 MB of the web process on the list screens (BENCHMARKS.md). No pages writable and
/// executable at once is a hardening too, for a program holding case files. A `JSC_useJIT` already
/// set (to compare, or to debug) is left as it is.
fn interpret_the_pages_script() {
    if std::env::var_os("JSC_useJIT").is_none() {
        // Before any thread starts: the web process, started later, inherits the environment.
        std::env::set_var("JSC_useJIT", "false");
    }
}
