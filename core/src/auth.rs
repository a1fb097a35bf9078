//! Password hashing (argon2id, PHC strings) and random secrets for tokens and enrolment codes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;
use sha2::{Digest, Sha256};

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Hashing only fails for absurd parameter sets, which we never pass.
        .unwrap_or_default()
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random URL-safe secret (for sync tokens).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// A one-time enrolment code a clerk can type: 12 characters without look-alikes, grouped by 4.
pub fn random_enrolment_code() -> String {
    random_typed_code(12)
}

/// A site's recovery code (issue 11 §1): 20 characters without look-alikes (100 bits), grouped by 4,
/// to be read out over the phone.
pub fn random_recovery_code() -> String {
    random_typed_code(20)
}

/// `len` random characters without look-alikes (no I, O, 0, 1), grouped by 4 with dashes.
fn random_typed_code(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Normalises a typed enrolment code (case, spaces, dashes) before hashing.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Issue 11 §3: a site's token is rotated after this long.
pub const TOKEN_MAX_AGE_MS: u64 = 30 * 24 * 3600 * 1000;

/// Whether a token issued at `issued_ms` (None: unknown, from a store before it was kept) is due for
/// rotation at `now_ms`. A clock set back does not make a token younger than it is for ever: an issue
/// time in the future counts as due too.
pub fn token_rotation_due(issued_ms: Option<u64>, now_ms: u64) -> bool {
    match issued_ms {
        None => true,
        Some(issued) => issued > now_ms || now_ms - issued >= TOKEN_MAX_AGE_MS,
    }
}

/// SHA-256 hex of a high-entropy secret (tokens and codes are stored only as this).
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_rotated_after_30_days_or_when_its_age_is_unknown_or_impossible() {
        let issued = 1_800_000_000_000;
        assert!(!token_rotation_due(Some(issued), issued));
        assert!(!token_rotation_due(
            Some(issued),
            issued + TOKEN_MAX_AGE_MS - 1
        ));
        assert!(token_rotation_due(Some(issued), issued + TOKEN_MAX_AGE_MS));
        assert!(token_rotation_due(None, issued));
        assert!(token_rotation_due(Some(issued), issued - 1));
    }

    #[test]
    fn password_round_trip() {
        let phc = hash_password("正确的密码1");
        assert!(phc.starts_with("$argon2"));
        assert!(verify_password("正确的密码1", &phc));
        assert!(!verify_password("wrong", &phc));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn enrolment_codes_normalise() {
        let code = random_enrolment_code();
        assert_eq!(code.len(), 14);
        assert_eq!(
            normalise_code(&code.to_lowercase().replace('-', " ")),
            normalise_code(&code)
        );
    }
}
