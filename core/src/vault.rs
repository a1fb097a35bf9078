//! The desktop's encrypted store as files in its data dir (issue 11 §1): the store (`jiceng.sqlite`,
//! SQLCipher) and its key file (`jiceng.keys.json`: the database key wrapped per account and by the
//! site's recovery code, the site's card for the screens before sign-in, the failed sign-ins made
//! while locked). One use case per function: start (encrypting a plain store left by an older
//! release), create at enrolment, unlock by password or recovery code, keep the entries in step with
//! the accounts. The rules are in `keyring` and `accounts`; the SQL in `store::encryption`.

use crate::accounts::{self, LockState};
use crate::error::{CoreError, Result};
use crate::keyring::{DatabaseKey, KeyError, KeyFile, PendingFailure, SiteCard};
use crate::model::SessionUser;
use crate::store::encryption::{encrypt_copy, store_file_kind, StoreFile};
use crate::store::{system_clock, Store, WallClock};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub const STORE_FILE: &str = "jiceng.sqlite";
pub const KEY_FILE: &str = "jiceng.keys.json";

/// An unlocked store and its key (kept in memory only, to re-wrap it when accounts change).
pub struct OpenVault {
    pub store: Mutex<Store>,
    key: DatabaseKey,
}

impl OpenVault {
    /// A poisoned lock only means an earlier command panicked; every write is one transaction.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// For a restore: the backups are encrypted under the same key.
    pub fn key(&self) -> &DatabaseKey {
        &self.key
    }
}

/// What the start of the app found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// No store yet: the enrolment screen.
    Fresh,
    /// An encrypted store, locked until someone signs in.
    Locked,
    /// A plain store from an older release, now encrypted in place (rows copied, backups encrypted).
    Encrypted { rows: u64, backups: usize },
}

pub struct LocalVault {
    dir: PathBuf,
    clock: WallClock,
}

fn io(path: &Path, e: std::io::Error) -> CoreError {
    CoreError::Corrupt(format!("{}: {e}", path.display()))
}

fn key_error(e: KeyError) -> CoreError {
    match e {
        KeyError::WrongSecret => CoreError::BadCredentials,
        KeyError::NoEntry(who) => CoreError::NoKeyEntry(who),
        KeyError::Damaged(why) => CoreError::KeyFile(why),
    }
}

/// Writes a file whole: a crash leaves the old one or the new one, never half of either.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    // Only its owner reads the key file (nothing in it opens the store without a password, but other
    // accounts of the PC have no business guessing at it).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(&tmp, e))?;
    }
    file.write_all(bytes).map_err(|e| io(&tmp, e))?;
    file.sync_all().map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        // Directories cannot be opened for sync on every OS; where they can, the rename is durable.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(path, e)),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn card_of(store: &Store) -> Result<Option<SiteCard>> {
    Ok(store.identity()?.map(|i| SiteCard {
        site_id: i.site_id,
        site_name: i.site_name,
        org_unit_id: i.org_unit_id,
        org_unit_name: i.org_unit_name,
        server_url: i.server_url,
    }))
}

impl LocalVault {
    pub fn new(dir: &Path) -> LocalVault {
        LocalVault {
            dir: dir.to_path_buf(),
            clock: system_clock(),
        }
    }

    /// Tests run the PC at a chosen time (lockouts, login records).
    pub fn with_clock(mut self, clock: WallClock) -> LocalVault {
        self.clock = clock;
        self
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    fn read_keys(&self) -> Result<Option<KeyFile>> {
        let path = self.key_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CoreError::KeyFile(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    fn keys(&self) -> Result<KeyFile> {
        self.read_keys()?
            .ok_or_else(|| CoreError::KeyFile("the key file is missing".to_string()))
    }

    fn write_keys(&self, keys: &KeyFile) -> Result<()> {
        let bytes =
            serde_json::to_vec_pretty(keys).map_err(|e| CoreError::KeyFile(e.to_string()))?;
        write_whole(&self.key_path(), &bytes)
    }

    fn open_store(&self, key: DatabaseKey) -> Result<OpenVault> {
        let store = Store::open_encrypted(&self.store_path(), &key)?.with_clock(self.clock.clone());
        Ok(OpenVault {
            store: Mutex::new(store),
            key,
        })
    }

    /// What the desktop shows of itself: from the store when it is open, else from the site's card.
    pub fn app_info(&self, open: Option<&OpenVault>) -> Result<crate::model::AppInfo> {
        let data_dir = self.dir.to_string_lossy().into_owned();
        let encrypted = store_file_kind(&self.store_path())? == StoreFile::Encrypted;
        let mut info = match open {
            Some(open) => open.store().app_info(&data_dir)?,
            None => {
                let card = self.site_card()?;
                crate::model::AppInfo {
                    enrolled: card.is_some(),
                    site_id: card.as_ref().map(|c| c.site_id.clone()),
                    site_name: card.as_ref().map(|c| c.site_name.clone()),
                    org_unit_id: card.as_ref().map(|c| c.org_unit_id.clone()),
                    org_unit_name: card.as_ref().map(|c| c.org_unit_name.clone()),
                    server_url: card.as_ref().map(|c| c.server_url.clone()),
                    plain_http: card
                        .as_ref()
                        .is_some_and(|c| crate::tls::is_plain_remote(&c.server_url)),
                    data_dir,
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    encrypted_store: false,
                    store_locked: true,
                }
            }
        };
        info.encrypted_store = encrypted;
        Ok(info)
    }

    /// Which site this PC is, before anyone signs in (None: not enrolled).
    pub fn site_card(&self) -> Result<Option<SiteCard>> {
        Ok(self.read_keys()?.and_then(|k| k.site))
    }

    /// At every start of the app: a plain store left by an older release is encrypted in place
    /// (every row kept, checked table by table; its backups too) before anything else reads it.
    /// The plain file stays the one true store until the encrypted one replaces it by a rename: a
    /// crash at any point leaves either the plain store (done again at the next start, under a new
    /// key) or the encrypted one with its key file.
    pub fn start(&self) -> Result<Started> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let live = self.store_path();
        let partial = with_suffix(&live, ".encrypting");
        for leftover in [&partial, &with_suffix(&partial, "-journal")] {
            remove_if_present(leftover)?;
        }
        match store_file_kind(&live)? {
            StoreFile::Missing => Ok(Started::Fresh),
            StoreFile::Encrypted => Ok(Started::Locked),
            StoreFile::Plain => {
                // Bring the old store to this release's schema first: the copy is then current.
                let (holders, card) = {
                    let store = Store::open(&live)?;
                    (store.key_holders()?, card_of(&store)?)
                };
                let key = DatabaseKey::generate();
                let rows = encrypt_copy(&live, &partial, &key)?;
                let mut keys = KeyFile::new();
                keys.site = card;
                keys.sync_users(&key, &holders).map_err(key_error)?;
                let backups = self.encrypt_backups(&key)?;
                self.write_keys(&keys)?;
                for side in ["-wal", "-shm"] {
                    remove_if_present(&with_suffix(&live, side))?;
                }
                std::fs::rename(&partial, &live).map_err(|e| io(&live, e))?;
                sync_dir(&live)?;
                Ok(Started::Encrypted { rows, backups })
            }
        }
    }

    /// The plain backups an older release left: encrypted under the store's key, each replaced by a
    /// rename once its copy is checked.
    fn encrypt_backups(&self, key: &DatabaseKey) -> Result<usize> {
        let dir = crate::backups::backup_dir(&self.dir);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(0);
        };
        let mut done = 0;
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            let is_backup = path.extension().is_some_and(|e| e == "sqlite");
            if !is_backup || store_file_kind(&path)? != StoreFile::Plain {
                continue;
            }
            let partial = with_suffix(&path, ".encrypting");
            remove_if_present(&partial)?;
            encrypt_copy(&path, &partial, key)?;
            std::fs::rename(&partial, &path).map_err(|e| io(&path, e))?;
            done += 1;
        }
        Ok(done)
    }

    /// A new store for an enrolment, under a new key. A store that never finished an enrolment holds
    /// nothing (nobody could sign in to write): it is moved aside, never deleted.
    pub fn create(&self) -> Result<OpenVault> {
        let live = self.store_path();
        if store_file_kind(&live)? != StoreFile::Missing {
            if self.site_card()?.is_some() {
                return Err(CoreError::Corrupt(
                    "this PC is already enrolled; its store is kept".to_string(),
                ));
            }
            let aside = with_suffix(&live, &format!(".unenrolled-{}", (self.clock)()));
            std::fs::rename(&live, &aside).map_err(|e| io(&live, e))?;
            for side in ["-wal", "-shm"] {
                let from = with_suffix(&live, side);
                if from.exists() {
                    std::fs::rename(&from, with_suffix(&aside, side)).map_err(|e| io(&from, e))?;
                }
            }
        }
        let key = DatabaseKey::generate();
        let open = self.open_store(key)?;
        self.write_keys(&KeyFile::new())?;
        Ok(open)
    }

    /// Signs `username` in while the store is locked: the key file's entry opens the store, which
    /// then checks the account as always (lock, disabled, must-change). Failures while locked are
    /// kept in the key file, count towards the lockout, and go into the store's login record at the
    /// next opening.
    pub fn unlock(&self, username: &str, password: &str) -> Result<(OpenVault, SessionUser)> {
        let mut keys = self.keys()?;
        let username = username.trim();
        let now = (self.clock)();
        if let LockState::Locked { until_ms } =
            accounts::lock_state(&keys.pending_events(username), now)
        {
            return Err(crate::store::locked_until(until_ms));
        }
        let key = match keys.open_for_user(username, password) {
            Ok(key) => key,
            Err(KeyError::WrongSecret) => {
                keys.pending_failures.push(PendingFailure {
                    username: username.to_string(),
                    at_ms: now,
                });
                self.write_keys(&keys)?;
                if let LockState::Locked { until_ms } =
                    accounts::lock_state(&keys.pending_events(username), now)
                {
                    return Err(crate::store::locked_until(until_ms));
                }
                return Err(CoreError::BadCredentials);
            }
            Err(e) => return Err(key_error(e)),
        };
        let open = self.open_store(key)?;
        self.settle_pending(&open)?;
        let user = open.store().login(username, password)?;
        Ok((open, user))
    }

    /// Opens the store with the site's recovery code (from the district), nobody signed in: the
    /// next sync brings a reset password, and the sign-in then goes through the open store.
    pub fn unlock_with_recovery(&self, recovery_code: &str) -> Result<OpenVault> {
        let keys = self.keys()?;
        let key = keys
            .open_with_recovery(recovery_code)
            .map_err(|e| match e {
                KeyError::WrongSecret => CoreError::invalid(
                    "recovery_code",
                    "the recovery code does not open this PC's store",
                    "恢复码不对，打不开本机数据。请核对区司法局提供的本机恢复码。",
                ),
                other => key_error(other),
            })?;
        let open = self.open_store(key)?;
        self.settle_pending(&open)?;
        Ok(open)
    }

    /// Right after an opening: the failures made while locked go into the store's login record, and
    /// the entries follow the accounts as the store now knows them.
    fn settle_pending(&self, open: &OpenVault) -> Result<()> {
        let mut keys = self.keys()?;
        if !keys.pending_failures.is_empty() {
            open.store()
                .record_failures_while_locked(&keys.pending_failures)?;
            keys.pending_failures.clear();
            self.write_keys(&keys)?;
        }
        self.refresh(open)
    }

    /// Keeps the key file in step with the store: an entry for exactly the accounts it would let in,
    /// the site's card. Run after every sync, enrolment and password change. Writes only on change.
    pub fn refresh(&self, open: &OpenVault) -> Result<()> {
        let (holders, card) = {
            let store = open.store();
            (store.key_holders()?, card_of(&store)?)
        };
        let mut keys = self.read_keys()?.unwrap_or_else(KeyFile::new);
        let mut changed = keys.sync_users(&open.key, &holders).map_err(key_error)?;
        if card.is_some() && keys.site != card {
            keys.site = card;
            changed = true;
        }
        if changed {
            self.write_keys(&keys)?;
        }
        Ok(())
    }

    /// Whether the key file still waits for the site's recovery code (asked of the server).
    pub fn needs_recovery_code(&self) -> Result<bool> {
        Ok(!self.read_keys()?.is_some_and(|k| k.has_recovery()))
    }

    /// Wraps the key for the site's recovery code; the code itself is not kept.
    pub fn set_recovery_code(&self, open: &OpenVault, recovery_code: &str) -> Result<()> {
        let mut keys = self.read_keys()?.unwrap_or_else(KeyFile::new);
        keys.put_recovery(&open.key, recovery_code)
            .map_err(key_error)?;
        self.write_keys(&keys)
    }
}
