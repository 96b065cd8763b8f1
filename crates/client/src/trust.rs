//! Which certificate authorities the client accepts: the operating system's trust
//! store plus any extra roots (a self-hosted server's development CA).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, pem::PemObject};

use crate::ClientError;

#[derive(Clone, Default)]
pub struct Trust {
    extra_roots: Vec<CertificateDer<'static>>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust").field("extra_roots", &self.extra_roots.len()).finish()
    }
}

impl Trust {
    /// Only the operating system's trust store.
    pub fn system() -> Self {
        Self::default()
    }

    /// Also trusts the certificates in a PEM file (for example `mocha-data/tls/ca.pem`).
    pub fn with_pem_file(mut self, path: &Path) -> Result<Self, ClientError> {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                ClientError::Trust(format!("cannot read certificates from {}: {e}", path.display()))
            })?;
        if certs.is_empty() {
            return Err(ClientError::Trust(format!("{} holds no certificate", path.display())));
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }

    /// Also trusts the certificates in PEM text.
    pub fn with_pem(mut self, pem: &[u8]) -> Result<Self, ClientError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::Trust(format!("not a PEM certificate: {e}")))?;
        self.extra_roots.extend(certs);
        Ok(self)
    }

    /// A rustls configuration that verifies servers against these roots.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.extra_roots.clone(),
            provider.clone(),
        )
        .map_err(|e| ClientError::Trust(e.to_string()))?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Trust(e.to_string()))?
            .dangerous() // not dangerous: the platform verifier does full verification
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}
