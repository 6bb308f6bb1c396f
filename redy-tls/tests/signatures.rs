//! "Trust any server" still verifies the handshake signature: a server presenting someone
//! else's certificate, without its key, is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::sync::Arc;

use common::*;
use redy_certs::{Identity, TrustPolicy};
use redy_tls::{CertificateError, ClientConfig, Error, TlsSession, TlsVersion};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

fn provider() -> CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    return rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "aws-lc-rs"))]
    return rustls::crypto::ring::default_provider();
}

/// Presents `shown`'s certificate but signs with `signer`'s key.
#[derive(Debug)]
struct Impostor(Arc<CertifiedKey>);

impl ResolvesServerCert for Impostor {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn raw_server(
    shown: &Identity,
    signer: &Identity,
    version: &'static rustls::SupportedProtocolVersion,
) -> rustls::ServerConnection {
    let provider = provider();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signer.key().secret_der().to_vec()));
    let signing_key = provider.key_provider.load_private_key(key).unwrap();
    let chain = shown
        .chain()
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let certified = CertifiedKey::new(chain, signing_key);
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Impostor(Arc::new(certified))));
    rustls::ServerConnection::new(Arc::new(config)).unwrap()
}

/// Runs the handshake between our client and a raw rustls server; returns the client's error.
fn client_error(mut server: rustls::ServerConnection, version: TlsVersion) -> Option<Error> {
    let config = ClientConfig::builder(TrustPolicy::DangerousTrustAnyServer)
        .versions(version, version)
        .build()
        .unwrap();
    let mut client = TlsSession::client(&config, "redy.local").unwrap();
    for _ in 0..20 {
        let out = client.transmit().to_vec();
        client.advance(out.len());
        let _ = server.read_tls(&mut &out[..]);
        let _ = server.process_new_packets();
        let mut back = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut back).unwrap();
        }
        if client.receive(&back).is_err() {
            break;
        }
    }
    assert!(
        client.error().is_some() || client.handshake().is_some(),
        "handshake neither failed nor completed"
    );
    client.error().cloned()
}

#[test]
fn a_forged_handshake_signature_is_refused_even_when_trusting_any_server() {
    let f = fixture();
    for (v, raw) in [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ] {
        assert_eq!(
            client_error(raw_server(&f.server, &f.server, raw), v),
            None,
            "{v}: honest server accepted"
        );
        assert_eq!(
            client_error(raw_server(&f.server, &f.sibling, raw), v),
            Some(Error::Certificate(CertificateError::BadSignature)),
            "{v}: impostor refused"
        );
    }
}
