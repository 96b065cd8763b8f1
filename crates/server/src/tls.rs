//! TLS material: a development CA made on first start, and a server certificate
//! signed by it (re-issued at every start, so it always names the configured host
//! and is never near its expiry after a restart). An operator with a real certificate
//! points `tls_cert`/`tls_key` at it instead.
//!
//! Both certificates carry subject and authority key identifiers, which strict
//! verifiers (OpenSSL's `-x509_strict`, Python 3.13's default) require. The server
//! certificate is valid for [`SERVER_CERT_DAYS`]; the CA for [`CA_YEARS`] and only for
//! the names it was made for (a name constraint), so a copy of its key cannot vouch
//! for anyone else's site. A CA whose constraint leaves out a configured name is
//! replaced (clients must then trust the new `ca.pem`); a CA made before constraints
//! existed is kept.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use time::{Duration, OffsetDateTime};

/// How long a generated server certificate is valid: at most a year, the most
/// browsers accept (398 days), with room for clock skew at the start.
pub const SERVER_CERT_DAYS: i64 = 365;
/// How long a new development CA is valid.
pub const CA_YEARS: i64 = 10;
/// Certificates start this long before they are made, for clocks a little behind.
const BACKDATE: Duration = Duration::hours(1);

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
    crate::files::private_dir(dir).map_err(|source| TlsError::Io { path: dir.to_path_buf(), source })?;

    let usable = ca_cert.exists()
        && ca_key.exists()
        && {
            let pem = read(&ca_cert)?;
            match ca_permits(&pem, host_names) {
                Some(true) => true,
                Some(false) => {
                    tracing::warn!(
                        path = %ca_cert.display(),
                        "the development CA was made for other host names: making a new one, which clients must trust instead"
                    );
                    false
                }
                None => return Err(TlsError::Pem { path: ca_cert.clone(), what: "CA certificate" }),
            }
        };
    if !usable {
        let key = KeyPair::generate()?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.distinguished_name.push(DnType::CommonName, "Mocha Development CA");
        params.distinguished_name.push(DnType::OrganizationName, "Mocha (self-hosted)");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now - BACKDATE;
        params.not_after = now + Duration::days(365 * CA_YEARS);
        params.name_constraints = Some(name_constraints(host_names));
        let cert = params.self_signed(&key)?;
        write_private(&ca_key, key.serialize_pem().as_bytes())?;
        write_private(&ca_cert, cert.pem().as_bytes())?;
        tracing::info!(path = %ca_cert.display(), "created a development certificate authority");
    }
    for path in [&ca_cert, &ca_key] {
        crate::files::owner_only(path).map_err(|source| TlsError::Io { path: path.clone(), source })?;
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
    // ExplicitNoCa writes the subject key identifier (and says "not a CA").
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - BACKDATE;
    params.not_after = params.not_before + Duration::days(SERVER_CERT_DAYS);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    write_private(&files.cert, format!("{}{}", cert.pem(), String::from_utf8_lossy(&ca_pem)).as_bytes())?;
    Ok(files)
}

/// The CA may vouch only for these names (and subdomains of the DNS names).
fn name_constraints(host_names: &[String]) -> NameConstraints {
    let permitted_subtrees = host_names
        .iter()
        .map(|name| match name.parse::<IpAddr>() {
            Ok(ip) => GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
                ip,
                if ip.is_ipv4() { 32 } else { 128 },
            )),
            Err(_) => GeneralSubtree::DnsName(name.clone()),
        })
        .collect();
    NameConstraints { permitted_subtrees, excluded_subtrees: Vec::new() }
}

/// Whether the CA in `pem` may vouch for every one of `names`: `None` if it cannot be
/// read, `Some(true)` if it has no name constraint at all.
fn ca_permits(pem: &[u8], names: &[String]) -> Option<bool> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let der = CertificateDer::from_pem_slice(pem).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    let (mut constrained, mut dns, mut ips) = (false, Vec::new(), Vec::new());
    for ext in cert.iter_extensions() {
        let ParsedExtension::NameConstraints(constraints) = ext.parsed_extension() else { continue };
        for subtree in constraints.permitted_subtrees.iter().flatten() {
            constrained = true;
            match subtree.base {
                GeneralName::DNSName(base) => dns.push(base.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) => ips.push(bytes),
                _ => {}
            }
        }
    }
    if !constrained {
        return Some(true);
    }
    let permits = |name: &String| match name.parse::<IpAddr>() {
        Ok(ip) => ips.is_empty() || ips.iter().any(|subnet| ip_in(ip, subnet)),
        Err(_) => {
            let name = name.to_ascii_lowercase();
            dns.is_empty() || dns.iter().any(|base| name == *base || name.ends_with(&format!(".{base}")))
        }
    };
    Some(names.iter().all(permits))
}

/// Whether `ip` is in `subnet`, encoded as in a name constraint: address then mask.
fn ip_in(ip: IpAddr, subnet: &[u8]) -> bool {
    let address = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let (base, mask) = subnet.split_at(subnet.len() / 2);
    base.len() == address.len() && address.iter().zip(base).zip(mask).all(|((a, b), m)| a & m == b & m)
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
    let mut provider = rustls::crypto::ring::default_provider();
    // AES-128-GCM with SHA-256 first, whatever the client prefers: as strong as the
    // X25519 key exchange (128 bits) and cheaper than AES-256 with SHA-384 — SHA-256
    // runs on the CPU's SHA instructions, and the handshake's key schedule hashes a
    // lot (a profile of token sign-ins had 6.6 % of the server in SHA-512 blocks).
    provider
        .cipher_suites
        .sort_by_key(|suite| suite.suite() != rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
}

/// Writes an owner-only file (0600), even where the file was there before with
/// another mode (`mode` applies only to files it creates).
fn write_private(path: &Path, contents: &[u8]) -> Result<(), TlsError> {
    if path.exists() {
        crate::files::owner_only(path).map_err(|source| TlsError::Io { path: path.to_path_buf(), source })?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(contents))
        .map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
}
