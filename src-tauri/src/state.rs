//! What the shell keeps between commands: the local vault (the encrypted store, open once someone has
//! signed in), the signed-in user, the data dir.

use jiceng_core::model::SessionUser;
use jiceng_core::vault::{LocalVault, OpenVault, Started};
use jiceng_core::CoreError;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

pub struct AppState {
    pub vault: LocalVault,
    /// The unlocked store (issue 11 §1): None until a sign-in, an enrolment or the recovery code
    /// opens it, and again after a sign-out. `Store` is `Send` but not `Sync`: every access goes
    /// through its own lock, never held across an `.await`.
    open: Mutex<Option<Arc<OpenVault>>>,
    pub user: Mutex<Option<SessionUser>>,
    pub data_dir: PathBuf,
    /// One sync at a time (background task, "立即同步", enrolment).
    pub sync_gate: tokio::sync::Mutex<()>,
    /// Wakes the background sync task early (interval changed, enrolment finished).
    pub sync_wake: Notify,
}

/// A poisoned lock only means an earlier command panicked; keep going rather than wedge the app.
fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// Starts on the data dir: a plain store of an older release is encrypted in place first.
    pub fn open(data_dir: PathBuf) -> Result<AppState, String> {
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create the data dir {}: {e}", data_dir.display()))?;
        let vault = LocalVault::new(&data_dir);
        match vault.start() {
            Ok(Started::Encrypted { rows, backups }) => eprintln!(
                "[jiceng] the plain store of the previous release is now encrypted ({rows} rows, {backups} backups)"
            ),
            Ok(_) => {}
            Err(e) => return Err(format!("cannot prepare the store in {}: {e}", data_dir.display())),
        }
        Ok(AppState {
            vault,
            open: Mutex::new(None),
            user: Mutex::new(None),
            data_dir,
            sync_gate: tokio::sync::Mutex::new(()),
            sync_wake: Notify::new(),
        })
    }

    /// The unlocked store, if any.
    pub fn unlocked(&self) -> Option<Arc<OpenVault>> {
        relock(&self.open).clone()
    }

    /// The unlocked store, or "sign in first".
    pub fn opened(&self) -> Result<Arc<OpenVault>, CoreError> {
        self.unlocked().ok_or(CoreError::StoreLocked)
    }

    pub fn set_unlocked(&self, open: Option<Arc<OpenVault>>) {
        *relock(&self.open) = open;
    }

    pub fn session(&self) -> MutexGuard<'_, Option<SessionUser>> {
        relock(&self.user)
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
    data_dir.join(jiceng_core::vault::STORE_FILE)
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
