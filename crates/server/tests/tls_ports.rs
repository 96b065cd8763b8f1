//! Every TLS port, scanned from outside with real handshakes: the Notification Server,
//! the Switchboard and HTTPS (Passport and the web pages) speak TLS 1.3 only (stricter
//! than "1.2 or later" for HTTPS: every browser Mocha supports has it), with AEAD
//! suites only; TLS 1.2, 1.1 and 1.0 ClientHellos are refused; no compression, and no
//! renegotiation (TLS 1.3 has neither). Two scanners: rustls as a client, and
//! `openssl s_client` (an independent TLS stack, offering the old versions and CBC
//! suites rustls cannot). HSTS on the web pages is checked in web_http.rs and
//! https_limits.rs.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::TestServer;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use rustls::{ProtocolVersion, SupportedProtocolVersion};
use tokio::net::TcpStream;

fn ports(t: &TestServer) -> [(&'static str, SocketAddr); 3] {
    [
        ("NS", t.server.ns_addr.unwrap()),
        ("SB", t.server.sb_addr.unwrap()),
        ("HTTPS", t.server.passport_addr.unwrap()),
    ]
}

fn client(t: &TestServer, versions: &[&'static SupportedProtocolVersion]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&t.server.ca_cert).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn every_tls_port_speaks_tls_1_3_with_aead_suites_only() {
    let t = TestServer::start().await;
    let name = ServerName::try_from("localhost").unwrap();
    for (port, addr) in ports(&t) {
        // TLS 1.2 only: refused.
        let tcp = TcpStream::connect(addr).await.unwrap();
        let refused = client(&t, &[&rustls::version::TLS12]).connect(name.clone(), tcp).await;
        let error = refused.err().unwrap_or_else(|| panic!("{port} accepted TLS 1.2"));
        assert!(error.to_string().contains("ProtocolVersion"), "{port}: {error}");

        // Everything rustls offers (1.3 and 1.2): 1.3 is chosen, with an AEAD suite.
        let tcp = TcpStream::connect(addr).await.unwrap();
        let both = [&rustls::version::TLS13, &rustls::version::TLS12];
        let stream = client(&t, &both).connect(name.clone(), tcp).await.unwrap();
        let (_, session) = stream.get_ref();
        assert_eq!(session.protocol_version(), Some(ProtocolVersion::TLSv1_3), "{port}");
        let suite = format!("{:?}", session.negotiated_cipher_suite().unwrap().suite());
        // The server's choice, not the client's (rustls' client prefers AES-256).
        assert_eq!(suite, "TLS13_AES_128_GCM_SHA256", "{port}");
    }
}

/// `openssl s_client` against `addr` with `args`; its output, and whether it connected.
fn s_client(addr: SocketAddr, ca: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-servername", "localhost", "-CAfile"])
        .arg(ca)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl is installed (scripts/test.sh installs it)");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success() && text.contains("Verify return code: 0 (ok)"), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_finds_no_old_version_no_cbc_no_compression_and_no_renegotiation() {
    let t = TestServer::start().await;
    let ca = t.server.ca_cert.clone();
    for (port, addr) in ports(&t) {
        let ca = ca.clone();
        let (port, checks) = tokio::task::spawn_blocking(move || {
            let mut checks = Vec::new();
            for old in ["-tls1_2", "-tls1_1", "-tls1"] {
                // `@SECLEVEL=0` lets this OpenSSL offer what its defaults would not.
                let (connected, said) = s_client(addr, &ca, &[old, "-cipher", "ALL:@SECLEVEL=0"]);
                checks.push((format!("{old} refused"), !connected, said));
            }
            let (connected, said) =
                s_client(addr, &ca, &["-tls1_2", "-cipher", "AES128-SHA:AES256-SHA256:@SECLEVEL=0"]);
            checks.push(("CBC suites refused".into(), !connected, said));

            let (connected, said) = s_client(addr, &ca, &["-tls1_3"]);
            let suite_ok =
                ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
                    .iter()
                    .any(|suite| said.contains(&format!("TLSv1.3, Cipher is {suite}")));
            checks.push(("TLS 1.3 with an AEAD suite".into(), connected && suite_ok, said.clone()));
            checks.push(("no compression".into(), said.contains("Compression: NONE"), said.clone()));
            checks.push((
                "no renegotiation".into(),
                said.contains("Secure Renegotiation IS NOT supported"),
                said,
            ));
            (port, checks)
        })
        .await
        .unwrap();
        for (what, ok, said) in checks {
            assert!(ok, "{port}: {what}; openssl said:\n{said}");
        }
    }
}
