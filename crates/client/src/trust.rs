//! Which certificate authorities the client accepts: the operating system's trust
//! store plus any extra roots (a self-hosted server's development CA).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::{CertificateDer, pem::PemObject};

use crate::ClientError;

#[derive(Clone, Default)]
pub struct Trust {
    extra_roots: Vec<CertificateDer<'static>>,
    /// Built once and shared by every connection (and clone): building it reads the
    /// system trust store, which is far too slow to repeat per connection.
    config: Arc<OnceLock<Arc<rustls::ClientConfig>>>,
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
        self.config = Arc::default();
        Ok(self)
    }

    /// Also trusts the certificates in PEM text.
    pub fn with_pem(mut self, pem: &[u8]) -> Result<Self, ClientError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::Trust(format!("not a PEM certificate: {e}")))?;
        self.extra_roots.extend(certs);
        self.config = Arc::default();
        Ok(self)
    }

    /// A rustls configuration that verifies servers against these roots.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, ClientError> {
        if let Some(config) = self.config.get() {
            return Ok(config.clone());
        }
        let config = self.build_config()?;
        Ok(self.config.get_or_init(|| config).clone())
    }

    fn build_config(&self) -> Result<Arc<rustls::ClientConfig>, ClientError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_is_built_once_and_rebuilt_when_roots_change() {
        let trust = Trust::system();
        let first = trust.client_config().unwrap();
        assert!(Arc::ptr_eq(&first, &trust.clone().client_config().unwrap()), "clones share it");
        let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let more = trust.with_pem(key.cert.pem().as_bytes()).unwrap();
        assert!(!Arc::ptr_eq(&first, &more.client_config().unwrap()), "new roots, new config");
    }
}
