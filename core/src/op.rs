//! The operation: one change of one field of one row, the unit of the per-site log and of sync.

use crate::hlc::Hlc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The schema version this build writes; older operations are upcast, newer ones refused.
pub const SCHEMA_VERSION: u32 = 2;

/// Identifies one written value of a field: who wrote it and at which clock. Unique across all sites
/// because one site never issues the same HLC twice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Version {
    pub hlc: Hlc,
    pub site: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operation {
    pub site_id: String,
    /// Contiguous from 1 per site.
    pub site_seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub table: String,
    pub row_id: String,
    pub field: String,
    /// The field's new value: a string, an integer, a boolean or null.
    pub value: serde_json::Value,
    pub hlc: Hlc,
    /// The version this write overwrote at its site (None when the field had no value there).
    pub base: Option<Version>,
    pub user_id: String,
    pub schema_version: u32,
    /// The org unit the row belonged to when written (its scope).
    pub scope: String,
    /// Set by the server when it accepted the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_seq: Option<u64>,
}

impl Operation {
    pub fn version(&self) -> Version {
        Version {
            hlc: self.hlc,
            site: self.site_id.clone(),
        }
    }

    /// SHA-256 over every field the author wrote, chained to the previous operation of the same site.
    pub fn compute_hash(&self) -> String {
        hex::encode(self.digest())
    }

    /// The digest behind [`Operation::compute_hash`]: each part length-prefixed. Numbers and the
    /// value are written as their text into one scratch buffer (the server checks every
    /// operation of every push, and a string per part was a tenth of its time under load); the
    /// bytes hashed are those of the parts' `to_string()`, pinned in `hash_bytes_are_stable`.
    fn digest(&self) -> [u8; 32] {
        use std::io::Write as _;
        fn part(h: &mut Sha256, bytes: &[u8]) {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        let mut h = Sha256::new();
        let mut text: Vec<u8> = Vec::with_capacity(64);
        part(&mut h, self.site_id.as_bytes());
        let _ = write!(text, "{}", self.site_seq);
        part(&mut h, &text);
        part(&mut h, self.prev_hash.as_bytes());
        part(&mut h, self.table.as_bytes());
        part(&mut h, self.row_id.as_bytes());
        part(&mut h, self.field.as_bytes());
        text.clear();
        // Writing to a Vec cannot fail; the text is the value's compact JSON, as `to_string()`.
        let _ = serde_json::to_writer(&mut text, &self.value);
        part(&mut h, &text);
        text.clear();
        let _ = write!(text, "{}", self.hlc.0);
        part(&mut h, &text);
        text.clear();
        if let Some(base) = &self.base {
            let _ = write!(text, "{}@{}", base.hlc.0, base.site);
        }
        part(&mut h, &text);
        part(&mut h, self.user_id.as_bytes());
        text.clear();
        let _ = write!(text, "{}", self.schema_version);
        part(&mut h, &text);
        part(&mut h, self.scope.as_bytes());
        h.finalize().into()
    }

    pub fn hash_is_valid(&self) -> bool {
        let mut hex_digest = [0u8; 64];
        hex::encode_to_slice(self.digest(), &mut hex_digest).is_ok()
            && self.hash.as_bytes() == hex_digest
    }
}

/// The `prev_hash` of a site's first operation.
pub const GENESIS_HASH: &str = "";

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> Operation {
        let mut op = Operation {
            site_id: "s1".into(),
            site_seq: 1,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
            table: "corr_case".into(),
            row_id: "r".into(),
            field: "name".into(),
            value: serde_json::json!("𠀀张"),
            hlc: Hlc(7),
            base: None,
            user_id: "u".into(),
            schema_version: SCHEMA_VERSION,
            scope: "o".into(),
            server_seq: None,
        };
        op.hash = op.compute_hash();
        op
    }

    #[test]
    fn hash_covers_value_and_chain() {
        let a = op();
        assert!(a.hash_is_valid());
        let mut b = a.clone();
        b.value = serde_json::json!("张");
        assert!(!b.hash_is_valid());
        let mut c = a.clone();
        c.prev_hash = "00".into();
        assert!(!c.hash_is_valid());
    }

    /// The hash is stored in every site's log and checked by the server: its bytes never change.
    /// Pinned on values of every kind (a 4-byte character, a base version, a number, an object).
    #[test]
    fn hash_bytes_are_stable() {
        let mut a = op();
        assert_eq!(
            a.compute_hash(),
            "9d0115148976e4e383e2cb21b79f05f2f167ceaea8d8f87b918bb835d47d4cb7"
        );
        a.base = Some(Version {
            hlc: Hlc(1_796_004_000_000 << 16),
            site: "0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        });
        a.value = serde_json::json!({"k": [1, 2.5, null, true, "𡈽\"\n"]});
        a.site_seq = 18_446_744_073_709_551_615;
        a.schema_version = 0;
        assert_eq!(
            a.compute_hash(),
            "1025999811a86a287c9d02ff181d12ffc6a435ddb6659583c46b8e76296b28cb"
        );
        a.value = serde_json::json!(-42);
        a.prev_hash = a.compute_hash();
        assert_eq!(
            a.compute_hash(),
            "81423c3a8f8dd98459c66e52eed4b23f7caa4fbdb9f5a0bd33d49f5225968b83"
        );
    }

    #[test]
    fn server_seq_is_not_part_of_the_hash() {
        let mut a = op();
        a.server_seq = Some(99);
        assert!(a.hash_is_valid());
    }
}
