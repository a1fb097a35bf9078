//! The keys of an encrypted store (issue 11 §1): one random database key, kept on disk only wrapped,
//! once per account of the office by a key derived from that account's password (the argon2id of its
//! password hash) and once by the site's recovery code (held by the district), so that any user of the
//! office opens the store offline and a laptop without a password gives nothing away. The key file
//! holds no key in clear, no password and no password hash. Pure: secrets in, wrapped entries or the
//! database key out; `vault` keeps the file and SQLCipher opens the store with the key.

use argon2::password_hash::{PasswordHash, PasswordHasher};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const KEY_FILE_VERSION: u32 = 1;

/// The database key (256 bits).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseKey(pub [u8; 32]);

impl std::fmt::Debug for DatabaseKey {
    // Never printed, logged or shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(…)")
    }
}

impl DatabaseKey {
    pub fn generate() -> DatabaseKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        DatabaseKey(key)
    }
}

/// Who an entry opens the store for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    User { username: String },
    DistrictRecovery,
}

/// How the key that wraps an entry is derived from its holder's secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kdf", rename_all = "snake_case")]
pub enum Derivation {
    /// A user's password through the same argon2id (parameters and salt) as the account's password
    /// hash, so that exactly the password the store accepts opens it, and so that every user of the
    /// office gets an entry as soon as the store knows their account (it arrives by sync: they need
    /// not have signed in on this PC before). `stem` is the PHC string without its hash.
    PasswordHash { stem: String },
    /// A recovery code through argon2id with its own salt.
    Argon2id { salt: String },
}

/// The database key wrapped for one holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub holder: Holder,
    #[serde(flatten)]
    pub derivation: Derivation,
    pub nonce: String,
    pub ciphertext: String,
}

/// What the desktop shows before anyone signs in (the enrolment and the login screens): which site
/// this PC is. No token, no case data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCard {
    pub site_id: String,
    pub site_name: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub server_url: String,
}

/// A failed sign-in while the store was locked (it cannot be written then): carried into the store's
/// login record (`auth_event`) at the next opening, and counted for the lockout meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFailure {
    pub username: String,
    pub at_ms: u64,
}

/// The key file beside an encrypted store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    pub version: u32,
    #[serde(default)]
    pub site: Option<SiteCard>,
    pub entries: Vec<WrappedKey>,
    #[serde(default)]
    pub pending_failures: Vec<PendingFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no key entry for {0} on this PC")]
    NoEntry(String),
    #[error("wrong password or recovery code")]
    WrongSecret,
    #[error("the key file is damaged: {0}")]
    Damaged(String),
}

fn damaged(e: impl std::fmt::Display) -> KeyError {
    KeyError::Damaged(e.to_string())
}

/// The key-encryption key of a recovery code: argon2id (19 MiB, 2 passes) over the code and a salt.
fn argon2id_kek(secret: &str, salt: &[u8]) -> Result<[u8; 32], KeyError> {
    let params = Params::new(19 * 1024, 2, 1, Some(32)).map_err(damaged)?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret.as_bytes(), salt, &mut out)
        .map_err(damaged)?;
    Ok(out)
}

/// The key-encryption key from an account's password hash output (the secret half of its PHC string).
fn password_hash_kek(hash_output: &[u8]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(b"jiceng store key v1\0");
    digest.update(hash_output);
    digest.finalize().into()
}

/// The stem (algorithm, version, parameters, salt) and the hash output of a PHC string.
fn split_phc(phc: &str) -> Result<(String, Vec<u8>), KeyError> {
    let parsed = PasswordHash::new(phc).map_err(damaged)?;
    let output = parsed
        .hash
        .ok_or_else(|| KeyError::Damaged("the password hash has no output".to_string()))?;
    let salt = parsed
        .salt
        .ok_or_else(|| KeyError::Damaged("the password hash has no salt".to_string()))?;
    let version = parsed
        .version
        .map(|v| format!("$v={v}"))
        .unwrap_or_default();
    let stem = format!("${}{version}${}${}", parsed.algorithm, parsed.params, salt);
    Ok((stem, output.as_bytes().to_vec()))
}

/// The hash output `password` gives under a stem's algorithm, parameters and salt.
fn hash_output_for(stem: &str, password: &str) -> Result<Vec<u8>, KeyError> {
    let parsed = PasswordHash::new(stem).map_err(damaged)?;
    let salt = parsed
        .salt
        .ok_or_else(|| KeyError::Damaged("the stem has no salt".to_string()))?;
    let params = Params::try_from(&parsed).map_err(damaged)?;
    let hashed = Argon2::default()
        .hash_password_customized(
            password.as_bytes(),
            Some(parsed.algorithm),
            parsed.version,
            params,
            salt,
        )
        .map_err(damaged)?;
    hashed
        .hash
        .map(|h| h.as_bytes().to_vec())
        .ok_or_else(|| KeyError::Damaged("argon2 gave no output".to_string()))
}

/// What the ciphertext is bound to: its holder, so an entry cannot be passed off as another's.
fn binding(holder: &Holder) -> Vec<u8> {
    serde_json::to_vec(holder).unwrap_or_default()
}

fn seal(
    key: &DatabaseKey,
    holder: Holder,
    derivation: Derivation,
    kek: &[u8; 32],
) -> Result<WrappedKey, KeyError> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ciphertext = ChaCha20Poly1305::new(Key::from_slice(kek))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &key.0,
                aad: &binding(&holder),
            },
        )
        .map_err(|_| KeyError::Damaged("encryption failed".to_string()))?;
    Ok(WrappedKey {
        holder,
        derivation,
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// The database key wrapped for a user, from their account's password hash (no password needed).
pub fn wrap_for_user(
    key: &DatabaseKey,
    username: &str,
    password_hash: &str,
) -> Result<WrappedKey, KeyError> {
    let (stem, output) = split_phc(password_hash)?;
    let holder = Holder::User {
        username: username.trim().to_string(),
    };
    seal(
        key,
        holder,
        Derivation::PasswordHash { stem },
        &password_hash_kek(&output),
    )
}

/// The database key wrapped for the district's recovery code of this site.
pub fn wrap_for_recovery(key: &DatabaseKey, recovery_code: &str) -> Result<WrappedKey, KeyError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let kek = argon2id_kek(&normalise_recovery_code(recovery_code), &salt)?;
    seal(
        key,
        Holder::DistrictRecovery,
        Derivation::Argon2id {
            salt: hex::encode(salt),
        },
        &kek,
    )
}

/// A recovery code as typed (case, spaces and dashes do not matter).
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The database key from an entry and its holder's secret (a password or a recovery code).
pub fn unwrap(entry: &WrappedKey, secret: &str) -> Result<DatabaseKey, KeyError> {
    let decode = |text: &str| hex::decode(text).map_err(damaged);
    let kek = match &entry.derivation {
        Derivation::PasswordHash { stem } => password_hash_kek(&hash_output_for(stem, secret)?),
        Derivation::Argon2id { salt } => {
            argon2id_kek(&normalise_recovery_code(secret), &decode(salt)?)?
        }
    };
    let (nonce, ciphertext) = (decode(&entry.nonce)?, decode(&entry.ciphertext)?);
    if nonce.len() != 12 {
        return Err(KeyError::Damaged("nonce length".to_string()));
    }
    let plain = ChaCha20Poly1305::new(Key::from_slice(&kek))
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &binding(&entry.holder),
            },
        )
        .map_err(|_| KeyError::WrongSecret)?;
    let key: [u8; 32] = plain
        .try_into()
        .map_err(|_| KeyError::Damaged("key length".to_string()))?;
    Ok(DatabaseKey(key))
}

impl KeyFile {
    pub fn new() -> KeyFile {
        KeyFile {
            version: KEY_FILE_VERSION,
            ..KeyFile::default()
        }
    }

    fn entry_of(&self, holder: &Holder) -> Option<&WrappedKey> {
        self.entries.iter().find(|e| &e.holder == holder)
    }

    fn replace(&mut self, entry: WrappedKey) {
        self.entries.retain(|e| e.holder != entry.holder);
        self.entries.push(entry);
    }

    /// Makes the user entries exactly the accounts the store knows (username, password hash): a new
    /// account gets one, a changed password a new one (the old password no longer opens the store),
    /// an account gone loses its own. Unchanged entries are kept as they are. Returns whether the
    /// file changed.
    pub fn sync_users(
        &mut self,
        key: &DatabaseKey,
        accounts: &[(String, String)],
    ) -> Result<bool, KeyError> {
        let mut changed = false;
        let wanted: std::collections::BTreeMap<&str, &str> = accounts
            .iter()
            .map(|(user, hash)| (user.trim(), hash.as_str()))
            .collect();
        let before = self.entries.len();
        self.entries.retain(|e| match &e.holder {
            Holder::User { username } => wanted.contains_key(username.as_str()),
            Holder::DistrictRecovery => true,
        });
        changed |= self.entries.len() != before;
        for (username, hash) in wanted {
            let holder = Holder::User {
                username: username.to_string(),
            };
            let Ok((stem, _)) = split_phc(hash) else {
                // An account without a usable hash cannot sign in anywhere: no entry.
                continue;
            };
            let current = self.entry_of(&holder).map(|e| &e.derivation);
            if current == Some(&Derivation::PasswordHash { stem: stem.clone() }) {
                continue;
            }
            self.replace(wrap_for_user(key, username, hash)?);
            changed = true;
        }
        Ok(changed)
    }

    pub fn has_recovery(&self) -> bool {
        self.entry_of(&Holder::DistrictRecovery).is_some()
    }

    pub fn put_recovery(&mut self, key: &DatabaseKey, recovery_code: &str) -> Result<(), KeyError> {
        self.replace(wrap_for_recovery(key, recovery_code)?);
        Ok(())
    }

    pub fn has_user(&self, username: &str) -> bool {
        self.entry_of(&Holder::User {
            username: username.trim().to_string(),
        })
        .is_some()
    }

    /// The database key for a user signing in with their password.
    pub fn open_for_user(&self, username: &str, password: &str) -> Result<DatabaseKey, KeyError> {
        let holder = Holder::User {
            username: username.trim().to_string(),
        };
        let entry = self
            .entry_of(&holder)
            .ok_or_else(|| KeyError::NoEntry(username.trim().to_string()))?;
        unwrap(entry, password)
    }

    /// The database key with the district's recovery code of this site (a forgotten password, or an
    /// account this PC has not heard of yet).
    pub fn open_with_recovery(&self, recovery_code: &str) -> Result<DatabaseKey, KeyError> {
        let entry = self
            .entry_of(&Holder::DistrictRecovery)
            .ok_or_else(|| KeyError::NoEntry("the district's recovery code".to_string()))?;
        unwrap(entry, recovery_code)
    }

    /// The failed sign-ins of `username` made while the store was locked, as login events.
    pub fn pending_events(&self, username: &str) -> Vec<crate::accounts::AuthEvent> {
        self.pending_failures
            .iter()
            .filter(|f| f.username == username.trim())
            .map(|f| crate::accounts::AuthEvent {
                kind: crate::accounts::AuthEventKind::LoginFailed,
                at_ms: f.at_ms,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hash_password;

    fn accounts(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(u, p)| (u.to_string(), hash_password(p)))
            .collect()
    }

    #[test]
    fn every_account_of_the_office_and_the_recovery_code_open_the_same_key_and_nothing_else_does() {
        let key = DatabaseKey::generate();
        let mut file = KeyFile::new();
        let known = accounts(&[("officer1", "北新桥-矫正-2027"), ("head", "所长-pass-9")]);
        assert!(file.sync_users(&key, &known).unwrap());
        file.put_recovery(&key, "7q2m-88zk-PLX4-ab12").unwrap();
        assert_eq!(
            file.open_for_user("officer1", "北新桥-矫正-2027").unwrap(),
            key
        );
        assert_eq!(file.open_for_user(" head ", "所长-pass-9").unwrap(), key);
        // The recovery code as typed: case and dashes do not matter.
        assert_eq!(file.open_with_recovery("7Q2M 88ZK PLX4 AB12").unwrap(), key);
        assert_eq!(
            file.open_with_recovery("7Q2M-88ZK-PLX4-AB13").unwrap_err(),
            KeyError::WrongSecret
        );
        assert_eq!(
            file.open_for_user("officer1", "wrong-pass-1").unwrap_err(),
            KeyError::WrongSecret
        );
        // Another account's password opens nothing.
        assert_eq!(
            file.open_for_user("officer1", "所长-pass-9").unwrap_err(),
            KeyError::WrongSecret
        );
        assert!(matches!(
            file.open_for_user("stranger", "x").unwrap_err(),
            KeyError::NoEntry(_)
        ));
    }

    #[test]
    fn the_key_file_holds_no_key_no_password_no_hash_and_entries_cannot_be_swapped() {
        let key = DatabaseKey::generate();
        let mut file = KeyFile::new();
        let known = accounts(&[("officer1", "北新桥-矫正-2027"), ("head", "所长-pass-9")]);
        file.sync_users(&key, &known).unwrap();
        let text = serde_json::to_string(&file).unwrap();
        assert!(!text.contains(&hex::encode(key.0)));
        assert!(!text.contains("北新桥-矫正-2027"));
        for (_, phc) in &known {
            // The secret half of the account's hash never reaches the file.
            let output = phc.rsplit('$').next().unwrap();
            assert!(!text.contains(output), "{text}");
        }
        assert_eq!(format!("{key:?}"), "DatabaseKey(…)");
        // The head's entry relabelled as the officer's opens nothing, even with the head's password.
        let mut swapped = file.clone();
        let head = swapped
            .entries
            .iter()
            .position(|e| {
                e.holder
                    == Holder::User {
                        username: "head".into(),
                    }
            })
            .unwrap();
        swapped.entries[head].holder = Holder::User {
            username: "officer1".into(),
        };
        swapped.entries.remove(1 - head);
        assert_eq!(
            swapped
                .open_for_user("officer1", "所长-pass-9")
                .unwrap_err(),
            KeyError::WrongSecret
        );
        // A changed byte of the ciphertext opens nothing.
        let mut tampered = file.clone();
        for entry in &mut tampered.entries {
            let c = &mut entry.ciphertext;
            let flipped = if c.starts_with('0') { "1" } else { "0" };
            c.replace_range(0..1, flipped);
        }
        assert_eq!(
            tampered
                .open_for_user("officer1", "北新桥-矫正-2027")
                .unwrap_err(),
            KeyError::WrongSecret
        );
        // A key file read back from disk is the same file.
        let back: KeyFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, file);
    }

    #[test]
    fn entries_follow_the_accounts_a_changed_password_replaces_the_old_one_and_a_gone_account_loses_it(
    ) {
        let key = DatabaseKey::generate();
        let mut file = KeyFile::new();
        let first = accounts(&[("officer1", "old-pass-2026"), ("clerk", "clerk-pass-1")]);
        file.sync_users(&key, &first).unwrap();
        file.put_recovery(&key, "RECOVERY1").unwrap();
        let clerk_before = file.clone();
        // Nothing changed: nothing rewritten.
        assert!(!file.sync_users(&key, &first).unwrap());
        assert_eq!(file, clerk_before);
        // officer1 changed the password elsewhere; the clerk left the office.
        let second = vec![("officer1".to_string(), hash_password("new-pass-2027"))];
        assert!(file.sync_users(&key, &second).unwrap());
        assert_eq!(
            file.open_for_user("officer1", "new-pass-2027").unwrap(),
            key
        );
        assert_eq!(
            file.open_for_user("officer1", "old-pass-2026").unwrap_err(),
            KeyError::WrongSecret
        );
        assert!(!file.has_user("clerk"));
        assert!(file.has_recovery(), "the recovery entry is never dropped");
        // An account whose hash is unusable gets no entry and breaks nothing.
        let third = vec![
            second[0].clone(),
            ("broken".to_string(), "not-a-phc".to_string()),
        ];
        file.sync_users(&key, &third).unwrap();
        assert!(!file.has_user("broken"));
    }
}
