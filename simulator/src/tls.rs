//! HTTPS for firmware teams: Android 9+ refuses cleartext and payment apps verify certificates.
//! `--tls` generates (with `rcgen`) a local CA and a server certificate for the `--tls-host` names,
//! writes the CA certificate where the team can install it on a test device, and serves with
//! rustls (no OpenSSL). `--tls-cert`/`--tls-key` serve a given certificate instead;
//! `--tls-client-ca` requires client certificates signed by that CA (mutual TLS).
//!
//! With `--seed` the CA's key is derived from the seed, and an existing CA file with that key is
//! reused as it is: a device trusts the CA once, across restarts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::server::TlsStream;

use crate::faults::{ConnHandle, Switchable};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write the CA certificate to {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{path} holds no {what} in PEM")]
    Pem { path: String, what: &'static str },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("client CA: {0}")]
    ClientCa(String),
}

/// What `--tls*` asked for.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Names the generated server certificate covers (DNS names and IP addresses).
    pub hosts: Vec<String>,
    /// Where the generated CA certificate is written (PEM).
    pub ca_out: PathBuf,
    pub seed: Option<u64>,
    /// A certificate chain and key to serve instead of generating one.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM).
    pub client_ca: Option<PathBuf>,
}

/// The generated CA, as the team needs it to trust the simulator.
#[derive(Debug, Clone)]
pub struct GeneratedCa {
    pub path: PathBuf,
    pub pem: String,
    /// SHA-256 of the DER certificate, uppercase hex pairs joined by `:` (as Android shows it).
    pub sha256: String,
}

pub struct Tls {
    pub config: Arc<ServerConfig>,
    pub ca: Option<GeneratedCa>,
}

/// `localhost`, `127.0.0.1` and this machine's hostname.
pub fn default_hosts() -> Vec<String> {
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").or_else(|_| std::fs::read_to_string("/etc/hostname"));
    if let Ok(name) = name.map(|n| n.trim().to_owned())
        && !name.is_empty()
        && !hosts.contains(&name)
    {
        hosts.push(name);
    }
    hosts
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.display().to_string(), source })
}

/// A P-256 key: derived from the seed (SHA-256 of the seed and a label as the private scalar, in a
/// PKCS#8 document without the optional public key, which the backend computes), else random.
fn key(seed: Option<u64>, label: &str) -> Result<KeyPair, TlsError> {
    let Some(seed) = seed else { return Ok(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?) };
    let mut counter = 0u32;
    loop {
        let scalar = Sha256::new().chain_update(seed.to_be_bytes()).chain_update(label).chain_update(counter.to_be_bytes()).finalize();
        let mut der = vec![
            0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20,
        ];
        der.extend_from_slice(&scalar);
        // A scalar at or above the group order (odds about 2^-32) is refused: draw the next.
        match KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(der), &rcgen::PKCS_ECDSA_P256_SHA256) {
            Ok(k) => return Ok(k),
            Err(_) if counter < 16 => counter += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn ca_params(seed: Option<u64>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, "viopay-sim local test CA");
    p.distinguished_name.push(DnType::OrganizationName, "viopay-conformance (not VioPay)");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    p.serial_number = Some(SerialNumber::from_slice(&seed.unwrap_or_else(rand::random).to_be_bytes()));
    p
}

/// Generates the CA (or reuses the one in `ca_out` when it has the seed's key) and a server
/// certificate for `hosts`.
fn generate(opts: &TlsOptions) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, GeneratedCa), TlsError> {
    let ca_key = key(opts.seed, "viopay-sim CA")?;
    let params = ca_params(opts.seed);
    let existing = std::fs::read(&opts.ca_out).ok().and_then(|bytes| CertificateDer::from_pem_slice(&bytes).ok());
    let reusable = opts.seed.is_some()
        && existing.as_ref().is_some_and(|der| {
            let spki = ca_key.public_key_raw();
            der.as_ref().windows(spki.len()).any(|w| w == spki)
        });
    let ca_der = match existing.filter(|_| reusable) {
        Some(der) => der,
        None => {
            let cert = params.self_signed(&ca_key)?;
            let pem = cert.pem();
            std::fs::write(&opts.ca_out, &pem).map_err(|source| TlsError::Write { path: opts.ca_out.display().to_string(), source })?;
            cert.der().clone()
        }
    };
    let issuer = Issuer::new(params, ca_key);
    let server_key = key(opts.seed, "viopay-sim server")?;
    let mut leaf = CertificateParams::new(opts.hosts.clone())?;
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name.push(DnType::CommonName, opts.hosts.first().cloned().unwrap_or_else(|| "localhost".into()));
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.not_before = rcgen::date_time_ymd(2025, 1, 1);
    leaf.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let leaf = leaf.signed_by(&server_key, &issuer)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let pem = String::from_utf8_lossy(&read(&opts.ca_out)?).into_owned();
    let ca = GeneratedCa { path: opts.ca_out.clone(), sha256: fingerprint(ca_der.as_ref()), pem };
    Ok((vec![leaf.der().clone(), ca_der], key, ca))
}

fn given(cert: &Path, key: &Path) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert)?).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err(TlsError::Pem { path: cert.display().to_string(), what: "certificate" });
    }
    let key =
        PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|_| TlsError::Pem { path: key.display().to_string(), what: "private key" })?;
    Ok((chain, key))
}

/// The rustls configuration `--tls*` describes, with the generated CA if one was made.
pub fn prepare(opts: &TlsOptions) -> Result<Tls, TlsError> {
    let (chain, key, ca) = match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => {
            let (chain, key) = given(cert, key)?;
            (chain, key, None)
        }
        _ => {
            let (chain, key, ca) = generate(opts)?;
            (chain, key, Some(ca))
        }
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match &opts.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&read(path)?).filter_map(Result::ok) {
                roots.add(cert)?;
            }
            if roots.is_empty() {
                return Err(TlsError::Pem { path: path.display().to_string(), what: "CA certificate" });
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::ClientCa(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { config: Arc::new(config), ca })
}

/// Accepted TLS connections for `axum::serve`. Handshakes run on their own tasks (bounded by a
/// timeout), so a slow or failing client never holds up the others; a failed one is logged.
pub(crate) struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<Switchable>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(conn) => conn,
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(e) => {
                        tracing::warn!(error = %e, "TCP accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let tcp = Switchable::new(tcp);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake failed (does the client trust the CA?)"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<Switchable>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Each TLS connection's fault switch (the plain listener's impl is beside it in `faults`).
impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for ConnHandle {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        stream.io().get_ref().0.handle()
    }
}
