//! Certificate verifiers that enforce a [`TrustPolicy`] at the time its [`TimeSource`] gives.
//!
//! Every policy, `DangerousTrustAnyServer` included, still verifies the handshake signature
//! with the presented key; only what is checked of the certificate itself differs.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redy_certs::{Certificate, SpkiPin, TimeSource, TrustPolicy};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

use crate::Error;
use crate::error::{PolicyRejection, rejection};

/// What is checked of the end entity when no chain is built.
#[derive(Debug)]
enum EndEntity {
    Exact(Vec<u8>),
    Pins(Vec<SpkiPin>),
    Anything,
}

impl EndEntity {
    fn check(&self, ee: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
        let cert = || {
            Certificate::from_der(ee.as_ref()).map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
            })
        };
        let in_time = |cert: &Certificate| {
            let validity = cert.validity();
            let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
            match () {
                _ if now < validity.not_before => Err(rustls::CertificateError::NotValidYet.into()),
                _ if now > validity.not_after => Err(rustls::CertificateError::Expired.into()),
                _ => Ok(()),
            }
        };
        match self {
            Self::Exact(der) if der.as_slice() != ee.as_ref() => {
                Err(rejection(PolicyRejection::NotTheChosenCertificate))
            }
            Self::Exact(_) => in_time(&cert()?),
            Self::Pins(pins) => {
                let cert = cert()?;
                match pins.contains(&cert.spki_pin()) {
                    true => in_time(&cert),
                    false => Err(rejection(PolicyRejection::PinMismatch)),
                }
            }
            Self::Anything => Ok(()),
        }
    }
}

/// The handshake-signature checks every policy keeps, `DangerousTrustAnyServer` included: the
/// peer must prove it holds the key of the certificate it presented.
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    };
}

/// Judges servers by a trust policy.
#[derive(Debug)]
pub(crate) struct ServerVerifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    end_entity: EndEntity,
    time: TimeSource,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerVerifier {
    pub(crate) fn new(
        policy: &TrustPolicy,
        time: TimeSource,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, Error> {
        let (chain, end_entity) = match policy {
            TrustPolicy::WebPkiRoots => {
                let roots = RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                (Some(webpki_server(roots, provider)?), EndEntity::Anything)
            }
            TrustPolicy::CaCertificates(cas) => (
                Some(webpki_server(anchors(cas)?, provider)?),
                EndEntity::Anything,
            ),
            TrustPolicy::ServerCertificate(cert) => (None, EndEntity::Exact(cert.der().to_vec())),
            TrustPolicy::SpkiPins(pins) if pins.is_empty() => {
                return Err(Error::Config("SpkiPins needs at least one pin".into()));
            }
            TrustPolicy::SpkiPins(pins) => (None, EndEntity::Pins(pins.clone())),
            TrustPolicy::DangerousTrustAnyServer => (None, EndEntity::Anything),
            other => return Err(Error::Config(format!("unsupported trust policy {other}"))),
        };
        Ok(Self {
            chain,
            end_entity,
            time,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let now = resolve(&self.time, now);
        match &self.chain {
            Some(chain) => {
                chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => self
                .end_entity
                .check(end_entity, now)
                .map(|()| ServerCertVerified::assertion()),
        }
    }

    handshake_signatures!();
}

/// Judges client certificates (mutual TLS) by a trust policy.
#[derive(Debug)]
pub(crate) struct ClientVerifier {
    chain: Option<Arc<dyn ClientCertVerifier>>,
    end_entity: EndEntity,
    required: bool,
    time: TimeSource,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientVerifier {
    pub(crate) fn new(
        policy: &TrustPolicy,
        required: bool,
        time: TimeSource,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, Error> {
        let (chain, end_entity) = match policy {
            TrustPolicy::CaCertificates(cas) => {
                let builder = WebPkiClientVerifier::builder_with_provider(
                    Arc::new(anchors(cas)?),
                    provider.clone(),
                );
                let builder = if required {
                    builder
                } else {
                    builder.allow_unauthenticated()
                };
                (
                    Some(builder.build().map_err(|e| Error::Config(e.to_string()))?),
                    EndEntity::Anything,
                )
            }
            TrustPolicy::ServerCertificate(cert) => (None, EndEntity::Exact(cert.der().to_vec())),
            TrustPolicy::SpkiPins(pins) if !pins.is_empty() => {
                (None, EndEntity::Pins(pins.clone()))
            }
            other => {
                return Err(Error::Config(format!(
                    "client certificates cannot be judged by {other}: use CA certificates, a certificate or pins"
                )));
            }
        };
        Ok(Self {
            chain,
            end_entity,
            required,
            time,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.required
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        match &self.chain {
            Some(chain) => chain.root_hint_subjects(),
            None => &[],
        }
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let now = resolve(&self.time, now);
        match &self.chain {
            Some(chain) => chain.verify_client_cert(end_entity, intermediates, now),
            None => self
                .end_entity
                .check(end_entity, now)
                .map(|()| ClientCertVerified::assertion()),
        }
    }

    handshake_signatures!();
}

fn anchors(cas: &[Certificate]) -> Result<RootCertStore, Error> {
    if cas.is_empty() {
        return Err(Error::Config(
            "CaCertificates needs at least one CA certificate".into(),
        ));
    }
    let mut roots = RootCertStore::empty();
    for ca in cas {
        roots
            .add(CertificateDer::from(ca.der().to_vec()))
            .map_err(|e| {
                Error::Config(format!(
                    "{} cannot be a trust anchor: {e}",
                    ca.details().subject
                ))
            })?;
    }
    Ok(roots)
}

fn webpki_server(
    roots: RootCertStore,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, Error> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::Config(e.to_string()))
}

fn resolve(time: &TimeSource, now: UnixTime) -> UnixTime {
    let clock = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs());
    let at = time
        .resolve(clock)
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    UnixTime::since_unix_epoch(at)
}
