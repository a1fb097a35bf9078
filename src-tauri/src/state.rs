//! What the shell keeps between commands: the one local store, the signed-in user, the data dir.

use jiceng_core::model::SessionUser;
use jiceng_core::Store;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::Notify;

/// The file name of the local store inside the data dir.
pub const STORE_FILE: &str = "jiceng.sqlite";

pub struct AppState {
    /// `Store` is `Send` but not `Sync`: every access goes through this lock, never held across an `.await`.
    pub store: Mutex<Store>,
    pub user: Mutex<Option<SessionUser>>,
    pub data_dir: PathBuf,
    /// One sync at a time (background task, "立即同步", enrolment).
    pub sync_gate: tokio::sync::Mutex<()>,
    /// Wakes the background sync task early (interval changed, enrolment finished).
    pub sync_wake: Notify,
}

impl AppState {
    pub fn open(data_dir: PathBuf) -> Result<AppState, String> {
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create the data dir {}: {e}", data_dir.display()))?;
        let path = store_path(&data_dir);
        let store = Store::open(&path)
            .map_err(|e| format!("cannot open the store {}: {e}", path.display()))?;
        Ok(AppState {
            store: Mutex::new(store),
            user: Mutex::new(None),
            data_dir,
            sync_gate: tokio::sync::Mutex::new(()),
            sync_wake: Notify::new(),
        })
    }

    /// A poisoned lock only means an earlier command panicked; the store itself stays consistent
    /// (every write is one SQLite transaction), so keep going rather than wedge the app.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn session(&self) -> MutexGuard<'_, Option<SessionUser>> {
        self.user.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn data_dir_str(&self) -> String {
        self.data_dir.to_string_lossy().into_owned()
    }
}

/// `--data-dir <path>` (or `--data-dir=<path>`), else `JICENG_DATA_DIR`, else `None` (the caller
/// then uses the OS app-data dir).
pub fn data_dir_from(args: &[String], env: Option<String>) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--data-dir" {
            if let Some(v) = it.next() {
                return Some(PathBuf::from(v));
            }
        } else if let Some(v) = a.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(v));
        }
    }
    env.filter(|v| !v.trim().is_empty()).map(PathBuf::from)
}

pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STORE_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn data_dir_argument_wins_over_env() {
        assert_eq!(
            data_dir_from(
                &args(&["app", "--data-dir", "/tmp/a"]),
                Some("/tmp/b".into())
            ),
            Some(PathBuf::from("/tmp/a"))
        );
        assert_eq!(
            data_dir_from(&args(&["app", "--data-dir=/tmp/c"]), None),
            Some(PathBuf::from("/tmp/c"))
        );
        assert_eq!(
            data_dir_from(&args(&["app"]), Some("/tmp/b".into())),
            Some(PathBuf::from("/tmp/b"))
        );
        assert_eq!(data_dir_from(&args(&["app"]), Some("  ".into())), None);
        assert_eq!(data_dir_from(&args(&["app"]), None), None);
        assert_eq!(
            store_path(Path::new("/x")),
            PathBuf::from("/x/jiceng.sqlite")
        );
    }
}
