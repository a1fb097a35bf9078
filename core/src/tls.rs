//! The desktop's connection to its district (issue 11 §2): HTTPS with rustls, pinned to the district's
//! certificate. The pin (SHA-256 of the district's CA or server certificate) comes with the enrolment
//! address (`https://host:port#sha256=<hex>`, as `jiceng-server tls-init` prints it) and is kept with
//! the site's identity; a server that does not present that certificate is refused, whatever public
//! CA signed it. Plain http is accepted only to this PC (127.0.0.1, localhost), where nothing travels.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Said by the verifier when the server's certificate is not the pinned one (found again in the error
/// chain by the sync client, `crate::sync`).
pub const NOT_PINNED: &str = "the server's certificate is not the district's pinned one";

/// The address a site syncs with, and the certificate it trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Without the fragment.
    pub url: String,
    /// Lower-case hex SHA-256 of the pinned certificate (https only).
    pub pin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("tls_pin_missing: an https address needs the district's certificate fingerprint (https://host:port#sha256=…, printed by jiceng-server tls-init)")]
    PinMissing,
    #[error("tls_pin_malformed: the certificate fingerprint is not 64 hexadecimal digits")]
    PinMalformed,
    #[error("plain_http_refused: plain http is only for this PC (127.0.0.1); use the district's https address")]
    PlainHttp,
}

impl EndpointError {
    pub fn code(&self) -> &'static str {
        match self {
            EndpointError::PinMissing => "tls_pin_missing",
            EndpointError::PinMalformed => "tls_pin_malformed",
            EndpointError::PlainHttp => "plain_http_refused",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            EndpointError::PinMissing => {
                "https地址需要附带区里服务器证书的指纹（地址形如 https://主机:端口#sha256=…，由区司法局提供）"
            }
            EndpointError::PinMalformed => "证书指纹格式不对，应为64位十六进制数字",
            EndpointError::PlainHttp => {
                "为保护案卷信息，只有本机地址（127.0.0.1）可以不加密连接；请使用区司法局提供的https地址"
            }
        }
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

/// Whether `url` is plain http to another machine than this PC (allowed only by an explicit setting).
pub fn is_plain_remote(url: &str) -> bool {
    url.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        !is_loopback(host)
    })
}

/// Reads an enrolment address: `https://host:port#sha256=<hex>` or `http://127.0.0.1:port`.
pub fn parse_endpoint(address: &str) -> Result<Endpoint, EndpointError> {
    parse_endpoint_with(address, false)
}

/// [`parse_endpoint`], with plain http to another machine allowed when the person enrolling chose
/// so explicitly (an intranet the district has not given TLS yet; the desktop warns all along).
pub fn parse_endpoint_with(
    address: &str,
    allow_plain_http: bool,
) -> Result<Endpoint, EndpointError> {
    let address = address.trim();
    let (url, fragment) = match address.split_once('#') {
        Some((url, fragment)) => (url.trim_end_matches('/'), Some(fragment)),
        None => (address.trim_end_matches('/'), None),
    };
    let pin = match fragment {
        Some(f) => {
            let hex = f
                .strip_prefix("sha256=")
                .unwrap_or(f)
                .replace(':', "")
                .to_ascii_lowercase();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(EndpointError::PinMalformed);
            }
            Some(hex)
        }
        None => None,
    };
    if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !is_loopback(host) && !allow_plain_http {
            return Err(EndpointError::PlainHttp);
        }
        return Ok(Endpoint {
            url: url.to_string(),
            pin: None,
        });
    }
    if url.starts_with("https://") && pin.is_none() {
        return Err(EndpointError::PinMissing);
    }
    Ok(Endpoint {
        url: url.to_string(),
        pin,
    })
}

/// Installs rustls's ring provider as this process's default, once. reqwest is built without a provider
/// of its own (aws-lc needs cmake): every client, plain http included, needs one installed.
pub fn ensure_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already: either will do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Lower-case hex SHA-256 of a certificate (DER), as pinned.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// A verifier that trusts exactly the pinned certificate: the server's own (self-signed), or the
/// district CA it presents in its chain, which must then have signed the server's certificate for the
/// name connected to.
#[derive(Debug)]
struct Pinned {
    pin: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity) == self.pin {
            return Ok(ServerCertVerified::assertion());
        }
        let anchor = intermediates
            .iter()
            .find(|c| fingerprint(c) == self.pin)
            .ok_or_else(|| rustls::Error::General(NOT_PINNED.to_string()))?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(anchor.clone().into_owned())
            .map_err(|e| rustls::Error::General(format!("pinned certificate unusable: {e}")))?;
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            self.provider.clone(),
        )
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
        webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls configuration of a site pinned to `pin`.
pub fn pinned_config(pin: &str) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned {
        pin: pin.to_ascii_lowercase(),
        provider: provider.clone(),
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34";

    #[test]
    fn https_addresses_carry_the_pin_and_plain_http_is_for_this_pc_only() {
        let e = parse_endpoint(&format!("https://192.168.1.10:8470/#sha256={PIN}")).unwrap();
        assert_eq!(e.url, "https://192.168.1.10:8470");
        assert_eq!(e.pin.as_deref(), Some(PIN));
        let colons: String = PIN
            .to_ascii_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(
            parse_endpoint(&format!("https://d.example#sha256={colons}"))
                .unwrap()
                .pin
                .as_deref(),
            Some(PIN)
        );
        assert_eq!(
            parse_endpoint("https://192.168.1.10:8470"),
            Err(EndpointError::PinMissing)
        );
        assert_eq!(
            parse_endpoint("https://h#sha256=12"),
            Err(EndpointError::PinMalformed)
        );
        assert_eq!(
            parse_endpoint("http://192.168.1.10:8470"),
            Err(EndpointError::PlainHttp)
        );
        assert!(parse_endpoint("http://127.0.0.1:8470").is_ok());
        assert!(parse_endpoint("http://localhost:8470/").is_ok());
        assert!(EndpointError::PlainHttp.message_zh().contains("127.0.0.1"));
        // Only by an explicit setting, which the desktop then warns about.
        assert!(parse_endpoint_with("http://192.168.1.10:8470", true).is_ok());
        assert!(is_plain_remote("http://192.168.1.10:8470"));
        assert!(!is_plain_remote("http://127.0.0.1:8470"));
        assert!(!is_plain_remote("https://192.168.1.10:8470"));
    }
}
