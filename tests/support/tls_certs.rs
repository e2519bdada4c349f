//! Certificates made at test time with rcgen: a CA, server and client certificates it
//! signs (for "localhost" and 127.0.0.1), an expired one, and the rustls configurations
//! that use them.

#![allow(dead_code)]

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// A certificate authority and what it signed.
pub struct Pki {
    pub ca: CertificateDer<'static>,
    ca_cert: rcgen::Certificate,
    ca_key: KeyPair,
}

/// A certificate and its private key.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Identity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let ca_cert = params.self_signed(&ca_key).unwrap();
        Pki {
            ca: ca_cert.der().clone(),
            ca_cert,
            ca_key,
        }
    }

    /// A certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn issue(&self, names: &[&str]) -> Identity {
        self.issue_with(names, |_| {})
    }

    /// A certificate that expired in 2001.
    pub fn issue_expired(&self, names: &[&str]) -> Identity {
        self.issue_with(names, |params| {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        })
    }

    fn issue_with(&self, names: &[&str], adjust: impl FnOnce(&mut CertificateParams)) -> Identity {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "anyio test peer");
        adjust(&mut params);
        let cert = params.signed_by(&key, &self.ca_cert, &self.ca_key).unwrap();
        Identity {
            chain: vec![cert.der().clone()],
            key: key.serialize_der(),
        }
    }

    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        roots
    }

    /// A client that trusts this CA.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(self.roots())
            .with_no_client_auth()
    }

    /// A client that trusts this CA and presents `identity`.
    pub fn client_config_with_cert(&self, identity: &Identity) -> ClientConfig {
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(self.roots())
            .with_client_auth_cert(identity.chain.clone(), identity.key())
            .unwrap()
    }
}

/// A server presenting `identity`, asking no client certificate.
pub fn server_config(identity: &Identity) -> ServerConfig {
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key())
        .unwrap()
}

/// A server presenting `identity` that requires a client certificate from `clients`.
pub fn server_config_requiring_clients(identity: &Identity, clients: &Pki) -> ServerConfig {
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(clients.roots()), provider())
            .build()
            .unwrap();
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key())
        .unwrap()
}

/// A server configuration that allows only TLS 1.2 (for version mismatch tests).
pub fn server_config_tls12_only(identity: &Identity) -> ServerConfig {
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key())
        .unwrap()
}

/// A client configuration that allows only TLS 1.3.
pub fn client_config_tls13_only(pki: &Pki) -> ClientConfig {
    ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(pki.roots())
        .with_no_client_auth()
}
