//! TLS material: a development CA made on first start, and a server certificate
//! signed by it (re-issued at every start, so it always names the configured host).
//! An operator with a real certificate points `tls_cert`/`tls_key` at it instead.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot make certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path} holds no usable {what}")]
    Pem { path: PathBuf, what: &'static str },
    #[error("the certificate and key do not work together: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Where the TLS files live and what the server certificate must name.
pub struct TlsFiles {
    pub ca_cert: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes sure a development CA and a fresh server certificate exist under `dir`.
pub fn ensure_dev_certificates(dir: &Path, host_names: &[String]) -> Result<TlsFiles, TlsError> {
    let ca_cert = dir.join("ca.pem");
    let ca_key = dir.join("ca-key.pem");
    let files =
        TlsFiles { ca_cert: ca_cert.clone(), cert: dir.join("server.pem"), key: dir.join("server-key.pem") };
    fs::create_dir_all(dir).map_err(|source| TlsError::Io { path: dir.to_path_buf(), source })?;

    if !ca_cert.exists() || !ca_key.exists() {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.distinguished_name.push(DnType::CommonName, "Mocha Development CA");
        params.distinguished_name.push(DnType::OrganizationName, "Mocha (self-hosted)");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_after = rcgen::date_time_ymd(2046, 1, 1);
        let cert = params.self_signed(&key)?;
        write_private(&ca_key, key.serialize_pem().as_bytes())?;
        write_file(&ca_cert, cert.pem().as_bytes())?;
        tracing::info!(path = %ca_cert.display(), "created a development certificate authority");
    }

    let ca_pem = read(&ca_cert)?;
    let ca_key_pem = read(&ca_key)?;
    let ca_key = KeyPair::from_pem(&String::from_utf8_lossy(&ca_key_pem))?;
    let issuer = Issuer::from_ca_cert_pem(&String::from_utf8_lossy(&ca_pem), ca_key)?;

    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, host_names.first().map_or("localhost", String::as_str));
    params.subject_alt_names = host_names
        .iter()
        .map(|name| match name.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => name.clone().try_into().map(SanType::DnsName),
        })
        .collect::<Result<_, _>>()?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_after = rcgen::date_time_ymd(2046, 1, 1);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    write_file(&files.cert, format!("{}{}", cert.pem(), String::from_utf8_lossy(&ca_pem)).as_bytes())?;
    Ok(files)
}

/// A TLS 1.3-only server configuration from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|_| TlsError::Pem { path: cert.to_path_buf(), what: "certificate" })?
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Pem { path: cert.to_path_buf(), what: "certificate" })?;
    if certs.is_empty() {
        return Err(TlsError::Pem { path: cert.to_path_buf(), what: "certificate" });
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|_| TlsError::Pem { path: key.to_path_buf(), what: "private key" })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
}

fn write_file(path: &Path, contents: &[u8]) -> Result<(), TlsError> {
    fs::write(path, contents).map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), TlsError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(contents))
        .map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
}
