//! Sync by USB stick (issue 10 §7): for an office with no network, a push and a pull request travel as a
//! signed file ("sync bundle"), and the server's answer comes back the same way.
//!
//! A bundle is JSON: a header naming the site and the kind, the body as JSON text (`payload`), and an
//! HMAC-SHA256 over the header fields and the payload. The key is derived from the site's token (what
//! the site got at enrolment; the server keeps the token's SHA-256 and derives the same key from it), so
//! a bundle changed on the way, made up by someone without the token, or presented as another site's
//! fails the check. Importing is idempotent like a push: the same bundle twice acknowledges the same
//! operations and merges nothing twice.
//! Pure: bytes in, a checked bundle or a reason out; the store and the server do the rest.

use crate::op::Operation;
use crate::wire::{PullResponse, PushResponse};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const BUNDLE_FORMAT: &str = "jiceng-sync-bundle";
pub const BUNDLE_VERSION: u32 = 1;
/// The file name suffix the desktop and the CLI use.
pub const BUNDLE_EXTENSION: &str = "jcsync";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BundleKind {
    /// From an office to the server: its unsent operations and where its pull stands.
    Outgoing,
    /// From the server back to that office: acknowledgements and what it should receive.
    Answer,
}

/// The file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    pub format: String,
    pub version: u32,
    pub kind: BundleKind,
    pub site_id: String,
    /// The writer's clock (ms since 1970), for the clerk's information only.
    pub created_ms: u64,
    /// The body (`Outgoing` or `Answer`) as JSON text, exactly as signed.
    pub payload: String,
    /// Hex HMAC-SHA256 of the fields above.
    pub signature: String,
}

/// What an office sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outgoing {
    pub db_instance_id: String,
    /// Every operation the server has not acknowledged, in site_seq order.
    pub ops: Vec<Operation>,
    #[serde(default)]
    pub divergent: Vec<u64>,
    /// The office's pull cursor and the master it belongs to.
    pub pull_after: u64,
    pub known_master: Option<String>,
    pub store_schema: u32,
}

/// What the server answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub push: PushResponse,
    /// Everything the office should receive after its cursor, page by page as a network pull would
    /// have received it (each page's rows that left the scope are removed after that page).
    pub pulls: Vec<PullResponse>,
    /// The pull starts from 0 (the cursor could not be served incrementally, or the office's cursor
    /// belongs to another copy of the master): the office re-initialises with it.
    pub from_start: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("bundle_unreadable: not a Jiceng sync bundle ({0})")]
    Unreadable(String),
    #[error("bundle_version: bundle format version {0} is newer than this program; upgrade it")]
    Version(u32),
    #[error("bundle_kind: expected a bundle of kind {expected:?}, got {got:?}")]
    Kind {
        expected: BundleKind,
        got: BundleKind,
    },
    #[error("bundle_signature_invalid: the bundle was changed after it was written, or was not written by site {0} of this district")]
    Signature(String),
    #[error("bundle_other_site: the bundle belongs to site {bundle}, not to {expected}")]
    OtherSite { bundle: String, expected: String },
    #[error("bundle_site_mismatch: the bundle of site {bundle} carries operations of site {op}")]
    SiteMismatch { bundle: String, op: String },
}

impl BundleError {
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::Unreadable(_) => "bundle_unreadable",
            BundleError::Version(_) => "bundle_version",
            BundleError::Kind { .. } => "bundle_kind",
            BundleError::Signature(_) => "bundle_signature_invalid",
            BundleError::OtherSite { .. } => "bundle_other_site",
            BundleError::SiteMismatch { .. } => "bundle_site_mismatch",
        }
    }

    /// What the clerk reads when the server refused a relayed bundle with `code`.
    pub fn zh_for_code(code: &str) -> Option<&'static str> {
        Some(match code {
            "bundle_unreadable" => "这不是基层通的同步包文件，或文件已损坏",
            "bundle_version" => "同步包由更新版本的基层通生成，请先升级同步服务器",
            "bundle_kind" => "这是区里发回的回执包，应在原单位的电脑上导入",
            "bundle_signature_invalid" => {
                "同步包校验失败：文件在传递中被改动，或不是本区已登记的站点生成的，已拒绝导入"
            }
            "bundle_unknown_site" => "同步包来自本区未登记（或已注销）的站点，已拒绝导入",
            "bundle_site_mismatch" => "同步包中含有其他站点的记录，已拒绝导入",
            _ => return None,
        })
    }

    /// What the clerk reads.
    pub fn message_zh(&self) -> String {
        match self {
            BundleError::Unreadable(_) => "这不是基层通的同步包文件，或文件已损坏".to_string(),
            BundleError::Version(_) => "同步包由更新版本的基层通生成，请先升级本程序".to_string(),
            BundleError::Kind { expected, .. } => match expected {
                BundleKind::Outgoing => "这是区里发回的回执包，应在原单位的电脑上导入".to_string(),
                BundleKind::Answer => {
                    "这是待上传的同步包，应交给区司法局或联网的电脑导入".to_string()
                }
            },
            BundleError::Signature(_) => {
                "同步包校验失败：文件在传递中被改动，或不是本区已登记的站点生成的，已拒绝导入"
                    .to_string()
            }
            BundleError::OtherSite { .. } => "这个同步包属于其他站点，不能在本机导入".to_string(),
            BundleError::SiteMismatch { .. } => {
                "同步包中含有其他站点的记录，已拒绝导入".to_string()
            }
        }
    }
}

/// The signing key of a site, from the SHA-256 (hex) of its token: what the server stores.
pub fn key_from_token_digest(token_digest_hex: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"jiceng sync bundle key v1\0");
    hash.update(token_digest_hex.as_bytes());
    hash.finalize().into()
}

/// The same key, from the token itself (what the site holds).
pub fn key_from_token(token: &str) -> [u8; 32] {
    key_from_token_digest(&crate::auth::secret_digest(token))
}

fn mac(key: &[u8; 32], file: &BundleFile) -> Hmac<Sha256> {
    // new_from_slice accepts keys of any length for HMAC.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in [
        file.format.as_bytes(),
        &file.version.to_be_bytes(),
        match file.kind {
            BundleKind::Outgoing => b"outgoing".as_slice(),
            BundleKind::Answer => b"answer".as_slice(),
        },
        file.site_id.as_bytes(),
        &file.created_ms.to_be_bytes(),
        file.payload.as_bytes(),
    ] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac
}

/// Writes and signs a bundle.
pub fn seal<T: Serialize>(
    key: &[u8; 32],
    kind: BundleKind,
    site_id: &str,
    created_ms: u64,
    body: &T,
) -> Result<Vec<u8>, BundleError> {
    let payload =
        serde_json::to_string(body).map_err(|e| BundleError::Unreadable(e.to_string()))?;
    let mut file = BundleFile {
        format: BUNDLE_FORMAT.to_string(),
        version: BUNDLE_VERSION,
        kind,
        site_id: site_id.to_string(),
        created_ms,
        payload,
        signature: String::new(),
    };
    file.signature = hex::encode(mac(key, &file).finalize().into_bytes());
    serde_json::to_vec_pretty(&file).map_err(|e| BundleError::Unreadable(e.to_string()))
}

/// Reads the header without checking the signature (to find whose key checks it).
pub fn open_unchecked(bytes: &[u8]) -> Result<BundleFile, BundleError> {
    let file: BundleFile =
        serde_json::from_slice(bytes).map_err(|e| BundleError::Unreadable(e.to_string()))?;
    if file.format != BUNDLE_FORMAT {
        return Err(BundleError::Unreadable(format!("format {}", file.format)));
    }
    if file.version > BUNDLE_VERSION {
        return Err(BundleError::Version(file.version));
    }
    Ok(file)
}

/// Checks the kind and the signature and reads the body.
pub fn verify<T: serde::de::DeserializeOwned>(
    key: &[u8; 32],
    file: &BundleFile,
    kind: BundleKind,
) -> Result<T, BundleError> {
    if file.kind != kind {
        return Err(BundleError::Kind {
            expected: kind,
            got: file.kind,
        });
    }
    let signature =
        hex::decode(&file.signature).map_err(|_| BundleError::Signature(file.site_id.clone()))?;
    mac(key, file)
        .verify_slice(&signature)
        .map_err(|_| BundleError::Signature(file.site_id.clone()))?;
    serde_json::from_str(&file.payload).map_err(|e| BundleError::Unreadable(e.to_string()))
}

/// An outgoing bundle carries only its own site's operations.
pub fn check_ops_are_the_sites(site_id: &str, outgoing: &Outgoing) -> Result<(), BundleError> {
    match outgoing.ops.iter().find(|op| op.site_id != site_id) {
        Some(op) => Err(BundleError::SiteMismatch {
            bundle: site_id.to_string(),
            op: op.site_id.clone(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing() -> Outgoing {
        Outgoing {
            db_instance_id: "inst".into(),
            ops: Vec::new(),
            divergent: Vec::new(),
            pull_after: 7,
            known_master: Some("m1".into()),
            store_schema: 30,
        }
    }

    #[test]
    fn a_sealed_bundle_opens_with_its_sites_key_and_no_other() {
        let key = key_from_token("secret-token-a");
        let bytes = seal(&key, BundleKind::Outgoing, "site-a", 1, &outgoing()).unwrap();
        let file = open_unchecked(&bytes).unwrap();
        let body: Outgoing = verify(&key, &file, BundleKind::Outgoing).unwrap();
        assert_eq!(body.pull_after, 7);
        let other = key_from_token("secret-token-b");
        assert_eq!(
            verify::<Outgoing>(&other, &file, BundleKind::Outgoing)
                .unwrap_err()
                .code(),
            "bundle_signature_invalid"
        );
        assert_eq!(
            verify::<Answer>(&key, &file, BundleKind::Answer)
                .unwrap_err()
                .code(),
            "bundle_kind"
        );
    }

    #[test]
    fn any_change_to_header_or_body_breaks_the_signature() {
        let key = key_from_token("secret-token-a");
        let bytes = seal(&key, BundleKind::Outgoing, "site-a", 1, &outgoing()).unwrap();
        let file = open_unchecked(&bytes).unwrap();
        let mut renamed = file.clone();
        renamed.site_id = "site-b".into();
        let mut edited = file.clone();
        edited.payload = edited
            .payload
            .replace("\"pull_after\":7", "\"pull_after\":0");
        assert_ne!(edited.payload, file.payload);
        let mut redated = file.clone();
        redated.created_ms = 2;
        for changed in [renamed, edited, redated] {
            assert_eq!(
                verify::<Outgoing>(&key, &changed, BundleKind::Outgoing)
                    .unwrap_err()
                    .code(),
                "bundle_signature_invalid"
            );
        }
    }

    #[test]
    fn the_server_derives_the_same_key_from_the_token_digest_it_stores() {
        let digest = crate::auth::secret_digest("secret-token-a");
        assert_eq!(
            key_from_token_digest(&digest),
            key_from_token("secret-token-a")
        );
    }

    #[test]
    fn junk_and_newer_formats_are_refused_with_a_reason() {
        assert_eq!(
            open_unchecked(b"not json").unwrap_err().code(),
            "bundle_unreadable"
        );
        let key = key_from_token("t");
        let bytes = seal(&key, BundleKind::Outgoing, "s", 1, &outgoing()).unwrap();
        let mut file: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        file["version"] = serde_json::json!(BUNDLE_VERSION + 1);
        let err = open_unchecked(&serde_json::to_vec(&file).unwrap()).unwrap_err();
        assert_eq!(err.code(), "bundle_version");
        assert!(err.message_zh().contains("升级"));
    }
}
