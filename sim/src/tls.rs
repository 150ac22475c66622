//! HTTPS for the simulator: a CA generated per run, and a serving certificate for 127.0.0.1 and
//! localhost signed by it. Clients trust the CA through the kubeconfig the simulator writes.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A generated CA and the server configuration it signed.
#[derive(Clone, Debug)]
pub struct Tls {
    /// The CA certificate, PEM, for kubeconfig `certificate-authority-data`.
    pub ca_pem: String,
    /// The CA certificate, DER, for clients built in code.
    pub ca_der: Vec<u8>,
    /// The rustls server configuration.
    pub server_config: Arc<rustls::ServerConfig>,
}

/// A failure to generate certificates or configure TLS.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up TLS for the simulator: {0}")]
pub struct TlsError(pub String);

fn err(e: impl std::fmt::Display) -> TlsError {
    TlsError(e.to_string())
}

/// Generates a CA and a serving certificate for `127.0.0.1` and `localhost`.
///
/// # Errors
/// [`TlsError`] when key generation or signing fails.
pub fn generate() -> Result<Tls, TlsError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "sluice-sim CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).map_err(err)?;
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    leaf.distinguished_name.push(DnType::CommonName, "sluice-sim");
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(err)?;
    let chain: Vec<CertificateDer<'static>> = vec![leaf_cert.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem: ca.pem(),
        ca_der: ca.der().to_vec(),
        server_config: Arc::new(config),
    })
}

/// Installs ring as the process-wide rustls crypto provider unless one is installed already.
/// HTTP clients (reqwest with `rustls-no-provider`) need one before they are built.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
