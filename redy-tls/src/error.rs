//! The one error type of redy-tls: fatal, sticky, and naming the cause.

use std::sync::Arc;

/// Why a TLS session failed. Once a session returns an error it returns the same error from
/// every later call; the alert that tells the peer why is still available from
/// [`crate::TlsSession::transmit`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// We rejected the peer's certificate.
    #[error("peer certificate rejected: {0}")]
    Certificate(CertificateError),
    /// The peer sent a fatal alert (for instance, it rejected our certificate).
    #[error("peer sent TLS alert: {0}")]
    AlertReceived(String),
    /// The peer sent bytes that are not valid TLS.
    #[error("peer sent an invalid TLS message: {0}")]
    InvalidMessage(String),
    /// No protocol version, cipher suite, ALPN protocol or signature scheme in common.
    #[error("no TLS parameters in common with the peer: {0}")]
    PeerIncompatible(String),
    /// The peer broke the TLS protocol.
    #[error("peer broke the TLS protocol: {0}")]
    PeerMisbehaved(String),
    /// Bytes from the peer after the upgrade reply (STARTTLS, AUTH TLS) and before the TLS
    /// handshake: a plaintext injection attempt. They were never processed.
    #[error(
        "{0} bytes received before the TLS handshake after the upgrade reply: possible plaintext injection, refused unprocessed"
    )]
    BytesBeforeHandshake(usize),
    /// The connection ended before the handshake completed.
    #[error("connection closed by the peer during the TLS handshake")]
    HandshakeEof,
    /// A server session that must resume a session of its scope did a full handshake.
    #[error(
        "TLS session was not resumed, but this connection must resume a session of the same scope (e.g. the FTPS control connection's)"
    )]
    ResumptionRequired,
    /// Plaintext was offered after [`crate::TlsSession::close`].
    #[error("cannot send after close_notify was queued")]
    SendAfterClose,
    /// [`crate::TlsSession::send_all`] found [`crate::SEND_BUFFER_LIMIT`] bytes still unsent:
    /// the caller stopped writing [`crate::TlsSession::transmit`] out.
    #[error("send buffer full: {0} bytes wait to be written out")]
    SendBufferFull(usize),
    /// A server name that is neither a DNS name nor an IP address.
    #[error("invalid server name {0:?}: neither a DNS name nor an IP address")]
    InvalidServerName(String),
    /// A configuration that cannot work.
    #[error("invalid TLS configuration: {0}")]
    Config(String),
    /// Anything else rustls reported.
    #[error("TLS failure: {0}")]
    Other(String),
}

/// Why a peer certificate was rejected.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// It does not chain to a trusted anchor of the policy.
    #[error("issuer unknown: not signed by a trusted CA")]
    UnknownIssuer,
    /// It is not valid for the name (DNS name or IP address) we connected to.
    #[error("not valid for the server name")]
    NotValidForName,
    /// Its validity ended before the checked time.
    #[error("expired at the checked time")]
    Expired,
    /// Its validity starts after the checked time.
    #[error("not valid yet at the checked time")]
    NotValidYet,
    /// A signature in the chain or on the handshake does not verify.
    #[error("bad signature")]
    BadSignature,
    /// It is not for this purpose (e.g. no serverAuth extended key usage).
    #[error("not valid for this purpose (extended key usage)")]
    InvalidPurpose,
    /// It does not parse.
    #[error("malformed certificate")]
    BadEncoding,
    /// It is not the chosen server certificate (policy `ServerCertificate`).
    #[error("not the chosen server certificate")]
    NotTheChosenCertificate,
    /// Its key matches none of the pins (policy `SpkiPins`).
    #[error("public key matches none of the pins")]
    PinMismatch,
    /// The peer presented no certificate where one was required.
    #[error("no certificate presented")]
    NoCertificate,
    /// Any other reason, as rustls words it.
    #[error("{0}")]
    Other(String),
}

/// Rejections our own verifiers raise, carried through rustls as `CertificateError::Other`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PolicyRejection {
    #[error("not the chosen server certificate")]
    NotTheChosenCertificate,
    #[error("public key matches none of the pins")]
    PinMismatch,
}

pub(crate) fn rejection(r: PolicyRejection) -> rustls::Error {
    rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
        Arc::new(r),
    )))
}

impl From<rustls::Error> for Error {
    fn from(e: rustls::Error) -> Self {
        use rustls::Error as E;
        match e {
            E::InvalidCertificate(c) => Self::Certificate(c.into()),
            E::NoCertificatesPresented => Self::Certificate(CertificateError::NoCertificate),
            E::AlertReceived(alert) => Self::AlertReceived(format!("{alert:?}")),
            E::InvalidMessage(m) => Self::InvalidMessage(format!("{m:?}")),
            E::PeerIncompatible(p) => Self::PeerIncompatible(format!("{p:?}")),
            E::NoApplicationProtocol => Self::PeerIncompatible("no ALPN protocol in common".into()),
            E::PeerMisbehaved(p) => Self::PeerMisbehaved(format!("{p:?}")),
            other => Self::Other(other.to_string()),
        }
    }
}

impl From<rustls::CertificateError> for CertificateError {
    fn from(e: rustls::CertificateError) -> Self {
        use rustls::CertificateError as C;
        match e {
            C::UnknownIssuer => Self::UnknownIssuer,
            C::NotValidForName | C::NotValidForNameContext { .. } => Self::NotValidForName,
            C::Expired | C::ExpiredContext { .. } => Self::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => Self::NotValidYet,
            C::BadSignature => Self::BadSignature,
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => Self::InvalidPurpose,
            C::BadEncoding => Self::BadEncoding,
            C::Other(ref other) => match other.0.downcast_ref::<PolicyRejection>() {
                Some(PolicyRejection::NotTheChosenCertificate) => Self::NotTheChosenCertificate,
                Some(PolicyRejection::PinMismatch) => Self::PinMismatch,
                None => Self::Other(e.to_string()),
            },
            other => Self::Other(other.to_string()),
        }
    }
}
