//! What the server leaves on disk and shows the world: every file in the data folder
//! owner-only, and a development certificate that strict verifiers accept — valid for
//! at most a year, with subject and authority key identifiers, from a CA limited to
//! the server's own names.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod notification_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::TestServer;
use notification_support::*;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use x509_parser::extensions::ParsedExtension;

/// Every file and folder under `dir`, with its mode.
fn modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        found.push((path.clone(), meta.permissions().mode() & 0o7777));
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
        }
    }
    found
}

fn assert_owner_only(dir: &Path) {
    let found = modes(dir);
    let open: Vec<_> = found.iter().filter(|(_, mode)| mode & 0o077 != 0).collect();
    assert!(open.is_empty(), "readable by others: {open:?}");
    for name in ["mocha.db", "mocha.db-wal", "mocha.db-shm", "updates.json", "keys", "tls"] {
        assert!(found.iter().any(|(path, _)| path.ends_with(name)), "{name} was made: {found:?}");
    }
    for (path, mode) in &found {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*mode, expected, "{}", path.display());
    }
}

#[tokio::test]
async fn every_file_in_the_data_folder_is_owner_only() {
    let t = TestServer::start().await;
    // Writes: accounts, a contact request, a sign-in on the NS.
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;
    signed_in(&t, &alice).await.ping().await.unwrap();
    assert_owner_only(t.dir.path());

    // A data folder from before (files the umask left world-readable) is tightened.
    let (dir, config) = t.stop().await;
    for name in ["mocha.db", "updates.json", "tls/ca.pem", "keys"] {
        let mode = if name == "keys" { 0o755 } else { 0o644 };
        std::fs::set_permissions(dir.path().join(name), std::os::unix::fs::PermissionsExt::from_mode(mode))
            .unwrap();
    }
    let t = TestServer::start_in(dir, config).await;
    t.user("carol").await;
    assert_owner_only(t.dir.path());
}

fn pem_certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path).unwrap().map(Result::unwrap).collect()
}

/// The certificate the server presents on its NS port.
async fn presented_certificate(t: &TestServer) -> CertificateDer<'static> {
    let ca = pem_certs(&t.server.ca_cert);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca[0].clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(t.server.ns_addr.unwrap()).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].clone().into_owned()
}

fn key_identifiers(der: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    let (mut ski, mut aki) = (None, None);
    for ext in cert.iter_extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => ski = Some(id.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(id) => {
                aki = id.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => {}
        }
    }
    (ski, aki)
}

fn validity(der: &[u8]) -> (time::OffsetDateTime, time::OffsetDateTime) {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    (cert.validity().not_before.to_datetime(), cert.validity().not_after.to_datetime())
}

#[tokio::test]
async fn the_server_certificate_lasts_a_year_names_its_issuer_and_strict_verifiers_accept_it() {
    let t = TestServer::start().await;
    let leaf = presented_certificate(&t).await;
    let ca = pem_certs(&t.server.ca_cert).remove(0);

    let (not_before, not_after) = validity(&leaf);
    let now = time::OffsetDateTime::now_utc();
    assert!(not_before <= now && now < not_after, "valid now: {not_before} – {not_after}");
    assert!(not_after - not_before <= time::Duration::days(366), "{not_before} – {not_after}");
    assert!(not_after - now > time::Duration::days(300), "fresh: until {not_after}");

    let (leaf_ski, leaf_aki) = key_identifiers(&leaf);
    let (ca_ski, _) = key_identifiers(&ca);
    assert!(leaf_ski.is_some(), "the server certificate has a subject key identifier");
    assert!(ca_ski.is_some(), "the CA has a subject key identifier");
    assert_eq!(leaf_aki, ca_ski, "the authority key identifier names the CA");
    let (_, ca_parsed) = x509_parser::parse_x509_certificate(&ca).unwrap();
    let constrained = ca_parsed
        .iter_extensions()
        .any(|ext| matches!(ext.parsed_extension(), ParsedExtension::NameConstraints(_)));
    assert!(constrained, "the CA carries a name constraint");

    // webpki (what rustls and mocha-client use), name constraint included.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
    for name in ["localhost", "127.0.0.1"] {
        let name = ServerName::try_from(name).unwrap();
        verifier.verify_server_cert(&leaf, &[], &name, &[], UnixTime::now()).unwrap();
    }
    let stranger = ServerName::try_from("example.com").unwrap();
    assert!(verifier.verify_server_cert(&leaf, &[], &stranger, &[], UnixTime::now()).is_err());

    // OpenSSL in strict mode, which refuses certificates without the identifiers.
    let tls = mocha_server::layout::tls_dir(t.dir.path());
    let output = std::process::Command::new("openssl")
        .args(["verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "localhost", "-CAfile"])
        .arg(tls.join("ca.pem"))
        .arg(tls.join("server.pem"))
        .output()
        .expect("openssl runs (CI installs it)");
    let said = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "openssl -x509_strict: {said}");
}

#[tokio::test]
async fn a_certificate_near_its_expiry_is_replaced_at_start_and_a_new_name_gets_a_new_ca() {
    let t = TestServer::start().await;
    let (dir, mut config) = t.stop().await;
    let tls = mocha_server::layout::tls_dir(dir.path());

    // Leave a server certificate that expires in five days, signed by the same CA.
    let ca_pem = std::fs::read_to_string(tls.join("ca.pem")).unwrap();
    let ca_key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(tls.join("ca-key.pem")).unwrap()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, ca_key).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(360);
    params.not_after = now + time::Duration::days(5);
    let key = rcgen::KeyPair::generate().unwrap();
    let old = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(tls.join("server.pem"), old.pem()).unwrap();
    std::fs::write(tls.join("server-key.pem"), key.serialize_pem()).unwrap();

    let t = TestServer::start_in(dir, config.clone()).await;
    let presented = presented_certificate(&t).await;
    let (_, not_after) = validity(&presented);
    assert!(not_after - time::OffsetDateTime::now_utc() > time::Duration::days(300), "renewed: {not_after}");
    assert_eq!(std::fs::read_to_string(&t.server.ca_cert).unwrap(), ca_pem, "same CA");
    signed_in(&t, &t.user("alice").await).await;

    // A public host name outside the CA's constraint: a new CA that permits it.
    let (dir, _) = t.stop().await;
    config.public_host = "chat.example.org".into();
    let t = TestServer::start_in(dir, config).await;
    let new_ca = std::fs::read_to_string(&t.server.ca_cert).unwrap();
    assert_ne!(new_ca, ca_pem, "a new CA");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pem_certs(&t.server.ca_cert).remove(0)).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
    let leaf = presented_certificate(&t).await;
    for name in ["chat.example.org", "localhost"] {
        verifier
            .verify_server_cert(&leaf, &[], &ServerName::try_from(name).unwrap(), &[], UnixTime::now())
            .unwrap();
    }
}
