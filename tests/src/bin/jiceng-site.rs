//! A site as a process of its own, for the crash harness (issue 10): opens (and if asked enrols) a store
//! file, writes records as the office's user, and syncs with the real client, round after round, so the
//! harness can kill it with SIGKILL at any point of a write, a push or a pull.
//!
//! `jiceng-site --store <file> --server <url> [--code <enrolment code>] --user <name> --rounds <n>
//!  --writes <per round> --tag <name prefix> --slot <0-3, distinct per writing site> --first <first record
//!  number>`; prints `synced <pending after>` after each successful sync.

use jiceng_core::Store;
use std::sync::Mutex;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn number(args: &[String], name: &str, default: u64) -> u64 {
    arg(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(server), Some(username), Some(tag)) = (
        arg(&args, "--store"),
        arg(&args, "--server"),
        arg(&args, "--user"),
        arg(&args, "--tag"),
    ) else {
        eprintln!("usage: jiceng-site --store <file> --server <url> --user <name> --tag <text> [--code <code>] [--rounds n] [--writes n]");
        return std::process::ExitCode::from(2);
    };
    let store = match Store::open(std::path::Path::new(&path)) {
        Ok(store) => Mutex::new(store),
        Err(e) => {
            eprintln!("cannot open the store {path}: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let enrolled = store
        .lock()
        .map(|s| s.identity().ok().flatten().is_some())
        .unwrap_or(false);
    if !enrolled {
        let Some(code) = arg(&args, "--code") else {
            eprintln!("the store is not enrolled and no --code was given");
            return std::process::ExitCode::from(2);
        };
        if let Err(e) = jiceng_core::sync::enrol(&store, &server, &code).await {
            eprintln!("enrolment failed: {e}");
            return std::process::ExitCode::from(1);
        }
    }
    let rounds = number(&args, "--rounds", 1);
    let writes = number(&args, "--writes", 0);
    let slot = number(&args, "--slot", 0) % 4;
    let first = number(&args, "--first", 0);
    let user = match store.lock().map(|mut s| s.login(&username, "jiceng-demo")) {
        Ok(Ok(user)) => user,
        _ => {
            eprintln!("cannot log in as {username}");
            return std::process::ExitCode::from(1);
        }
    };
    for round in 0..rounds {
        for i in 0..writes {
            let n = first + round * writes + i;
            let result = store
                .lock()
                .map(|mut s| jiceng_tests::write_record(&mut s, &user, &tag, slot, n));
            if let Ok(Err(e)) = result {
                eprintln!("write {n} failed: {e}");
                return std::process::ExitCode::from(1);
            }
        }
        match jiceng_core::sync::sync_now(&store).await {
            Ok(status) => println!("synced {}", status.pending_ops),
            // The server may be down (the harness kills it): the work waits, as on a real PC.
            Err(e) => eprintln!("sync failed: {e}"),
        }
    }
    std::process::ExitCode::SUCCESS
}
