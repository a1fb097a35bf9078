//! HTTPS for the sync server (issue 11 §2): rustls on the ring provider, a certificate and key from PEM
//! files (`serve --tls-cert --tls-key`), and `tls-init`, which makes a district CA and a server
//! certificate signed by it for an intranet without a public CA. Desktops pin the district CA's
//! fingerprint (`jiceng_core::tls`), printed here as part of the enrolment address.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("cannot write {path}: {detail}")]
    Write { path: PathBuf, detail: String },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("TLS configuration refused: {0}")]
    Config(String),
    #[error("cannot make the certificates: {0}")]
    Generate(String),
}

/// The server's rustls configuration from a certificate chain (server first, then the CA) and its key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let read = |path: &Path, e: &dyn std::fmt::Display| TlsError::Read {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| read(cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| read(cert, &e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| read(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What `tls-init` made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DistrictCertificates {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// SHA-256 (hex) of the district CA: the desktops pin it.
    pub fingerprint: String,
    /// For each host name: the address an office enrols with (`https://host:port#sha256=…`).
    pub enrolment_addresses: Vec<String>,
}

/// Makes a district CA and a server certificate signed by it for `hosts` (names or IP addresses;
/// 127.0.0.1 and localhost are always included), written into `dir` (the key readable by its owner
/// only). The dates are fixed and wide, so no clock decides whether they hold.
pub fn init_district_ca(
    dir: &Path,
    district: &str,
    hosts: &[String],
    port: u16,
) -> Result<DistrictCertificates, TlsError> {
    let generate = |e: rcgen::Error| TlsError::Generate(e.to_string());
    std::fs::create_dir_all(dir).map_err(|e| TlsError::Write {
        path: dir.to_path_buf(),
        detail: e.to_string(),
    })?;
    let ca_key = rcgen::KeyPair::generate().map_err(generate)?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{district} 基层通 CA"));
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).map_err(generate)?;
    let mut names: Vec<String> = hosts
        .iter()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect();
    for local in ["127.0.0.1", "localhost"] {
        if !names.iter().any(|n| n == local) {
            names.push(local.to_string());
        }
    }
    let server_key = rcgen::KeyPair::generate().map_err(generate)?;
    let mut server_params = rcgen::CertificateParams::new(names.clone()).map_err(generate)?;
    server_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("{district} 基层通同步服务器"),
    );
    server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let server = server_params
        .signed_by(&server_key, &ca, &ca_key)
        .map_err(generate)?;
    let write = |name: &str, text: String| -> Result<PathBuf, TlsError> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| TlsError::Write {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        Ok(path)
    };
    let ca_cert = write("district-ca.pem", ca.pem())?;
    let server_cert = write("server.pem", format!("{}{}", server.pem(), ca.pem()))?;
    let server_key_path = write("server.key", server_key.serialize_pem())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&server_key_path, std::fs::Permissions::from_mode(0o600));
    }
    let fingerprint = jiceng_core::tls::fingerprint(ca.der());
    let enrolment_addresses = names
        .iter()
        .map(|host| {
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            format!("https://{host}:{port}#sha256={fingerprint}")
        })
        .collect();
    Ok(DistrictCertificates {
        ca_cert,
        server_cert,
        server_key: server_key_path,
        fingerprint,
        enrolment_addresses,
    })
}

/// Serves `app` over TLS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    config: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tower_service::Service;
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        // As on plain http: no Nagle delay on answers (see `serve`).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            // A client that fails the handshake (a wrong pin, plain http) is only logged.
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(e) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    return;
                }
            };
            let service = hyper::service::service_fn(move |request| app.clone().call(request));
            if let Err(e) = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
}
