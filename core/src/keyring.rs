//! The keys of an encrypted store (issue 11 §1, first part): one random database key, kept on disk only
//! wrapped, once per local user by a key derived from that user's password (argon2id) and once by the
//! district's recovery key, so that any enrolled user of the office opens the store offline and a
//! laptop without a password gives nothing away. The key file holds no key in clear and no password.
//! Pure: secrets in, wrapped entries or the database key out; the store opens SQLCipher with the key.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

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

/// The database key wrapped for one holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub holder: Holder,
    pub salt: String,
    pub nonce: String,
    pub ciphertext: String,
}

/// The key file beside an encrypted store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    pub version: u32,
    pub entries: Vec<WrappedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no key entry for {0} on this PC")]
    NoEntry(String),
    #[error("wrong password or recovery key")]
    WrongSecret,
    #[error("the key file is damaged: {0}")]
    Damaged(String),
}

/// The key-encryption key of a secret: argon2id (19 MiB, 2 passes) over the secret and a salt.
fn kek(secret: &str, salt: &[u8]) -> Result<[u8; 32], KeyError> {
    let params =
        Params::new(19 * 1024, 2, 1, Some(32)).map_err(|e| KeyError::Damaged(e.to_string()))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret.as_bytes(), salt, &mut out)
        .map_err(|e| KeyError::Damaged(e.to_string()))?;
    Ok(out)
}

/// What the ciphertext is bound to: its holder, so an entry cannot be passed off as another's.
fn binding(holder: &Holder) -> Vec<u8> {
    serde_json::to_vec(holder).unwrap_or_default()
}

pub fn wrap(key: &DatabaseKey, holder: Holder, secret: &str) -> Result<WrappedKey, KeyError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&kek(secret, &salt)?));
    let ciphertext = cipher
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
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

pub fn unwrap(entry: &WrappedKey, secret: &str) -> Result<DatabaseKey, KeyError> {
    let decode = |text: &str| hex::decode(text).map_err(|e| KeyError::Damaged(e.to_string()));
    let (salt, nonce, ciphertext) = (
        decode(&entry.salt)?,
        decode(&entry.nonce)?,
        decode(&entry.ciphertext)?,
    );
    if nonce.len() != 12 {
        return Err(KeyError::Damaged("nonce length".to_string()));
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&kek(secret, &salt)?));
    let plain = cipher
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
            entries: Vec::new(),
        }
    }

    /// Adds (or replaces) the entry of `holder`.
    pub fn put(&mut self, key: &DatabaseKey, holder: Holder, secret: &str) -> Result<(), KeyError> {
        let entry = wrap(key, holder.clone(), secret)?;
        self.entries.retain(|e| e.holder != holder);
        self.entries.push(entry);
        Ok(())
    }

    /// The database key for a user signing in with their password.
    pub fn open_for_user(&self, username: &str, password: &str) -> Result<DatabaseKey, KeyError> {
        let holder = Holder::User {
            username: username.trim().to_string(),
        };
        let entry = self
            .entries
            .iter()
            .find(|e| e.holder == holder)
            .ok_or_else(|| KeyError::NoEntry(username.trim().to_string()))?;
        unwrap(entry, password)
    }

    /// The database key with the district's recovery key (a user without an entry on this PC yet,
    /// or a forgotten password).
    pub fn open_with_recovery(&self, recovery_key: &str) -> Result<DatabaseKey, KeyError> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.holder == Holder::DistrictRecovery)
            .ok_or_else(|| KeyError::NoEntry("the district's recovery key".to_string()))?;
        unwrap(entry, recovery_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Holder {
        Holder::User {
            username: name.to_string(),
        }
    }

    #[test]
    fn every_user_of_the_office_and_the_district_open_the_same_key_and_nobody_else() {
        let key = DatabaseKey::generate();
        let mut file = KeyFile::new();
        file.put(&key, user("officer1"), "北新桥-矫正-2027")
            .unwrap();
        file.put(&key, user("head"), "所长-pass-9").unwrap();
        file.put(&key, Holder::DistrictRecovery, "RECOVERY-7Q2M-88ZK")
            .unwrap();
        assert_eq!(
            file.open_for_user("officer1", "北新桥-矫正-2027").unwrap(),
            key
        );
        assert_eq!(file.open_for_user("head", "所长-pass-9").unwrap(), key);
        assert_eq!(file.open_with_recovery("RECOVERY-7Q2M-88ZK").unwrap(), key);
        assert_eq!(
            file.open_for_user("officer1", "wrong-pass-1").unwrap_err(),
            KeyError::WrongSecret
        );
        assert!(matches!(
            file.open_for_user("stranger", "x").unwrap_err(),
            KeyError::NoEntry(_)
        ));
    }

    #[test]
    fn the_key_file_holds_no_key_and_no_password_and_entries_cannot_be_swapped() {
        let key = DatabaseKey::generate();
        let mut file = KeyFile::new();
        file.put(&key, user("officer1"), "北新桥-矫正-2027")
            .unwrap();
        file.put(&key, user("head"), "所长-pass-9").unwrap();
        let text = serde_json::to_string(&file).unwrap();
        assert!(!text.contains(&hex::encode(key.0)));
        assert!(!text.contains("北新桥-矫正-2027"));
        assert_eq!(format!("{key:?}"), "DatabaseKey(…)");
        // The head's entry relabelled as the officer's opens nothing, even with the head's password.
        let mut swapped = file.clone();
        swapped.entries[1].holder = user("officer1");
        swapped.entries.remove(0);
        assert_eq!(
            swapped
                .open_for_user("officer1", "所长-pass-9")
                .unwrap_err(),
            KeyError::WrongSecret
        );
        // A changed byte of the ciphertext opens nothing.
        let mut tampered = file.clone();
        let c = &mut tampered.entries[0].ciphertext;
        let flipped = if c.starts_with('0') { "1" } else { "0" };
        c.replace_range(0..1, flipped);
        assert_eq!(
            tampered
                .open_for_user("officer1", "北新桥-矫正-2027")
                .unwrap_err(),
            KeyError::WrongSecret
        );
    }
}
