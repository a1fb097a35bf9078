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
        let mut h = Sha256::new();
        let base = self
            .base
            .as_ref()
            .map(|b| format!("{}@{}", b.hlc.0, b.site))
            .unwrap_or_default();
        for part in [
            self.site_id.as_str(),
            &self.site_seq.to_string(),
            &self.prev_hash,
            &self.table,
            &self.row_id,
            &self.field,
            &self.value.to_string(),
            &self.hlc.0.to_string(),
            &base,
            &self.user_id,
            &self.schema_version.to_string(),
            &self.scope,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }

    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash() == self.hash
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

    #[test]
    fn server_seq_is_not_part_of_the_hash() {
        let mut a = op();
        a.server_seq = Some(99);
        assert!(a.hash_is_valid());
    }
}
