//! DER certificates and private keys, checked when they are made.

use std::fmt;
use std::sync::Arc;

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::details::CertificateDetails;
use crate::{Error, SpkiPin};

/// An X.509 certificate: its DER bytes, parsed once when it is made.
///
/// Two certificates are equal when their DER bytes are.
#[derive(Clone)]
pub struct Certificate {
    der: Arc<[u8]>,
    details: Arc<CertificateDetails>,
}

impl Certificate {
    /// Parses DER bytes; truncated input, trailing bytes or anything but X.509 is an error.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let der: Vec<u8> = der.into();
        let details = {
            let (rest, cert) = X509Certificate::from_der(&der)
                .map_err(|e| Error::Certificate(format!("DER does not parse: {e}")))?;
            if !rest.is_empty() {
                return Err(Error::Certificate(format!(
                    "{} bytes after the end of the certificate",
                    rest.len()
                )));
            }
            CertificateDetails::from_parsed(&cert, &der)
        };
        Ok(Self {
            der: der.into(),
            details: Arc::new(details),
        })
    }

    /// Parses the first certificate of a PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        crate::parse_pem(pem)?
            .certificates
            .into_iter()
            .next()
            .ok_or(Error::NoCertificate)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM encoding (`-----BEGIN CERTIFICATE-----`).
    pub fn to_pem(&self) -> String {
        crate::pem::encode("CERTIFICATE", &self.der)
    }

    /// Everything `openssl x509 -text` would show that matters here.
    pub fn details(&self) -> &CertificateDetails {
        &self.details
    }

    /// The SHA-256 hash of the subject public key info, as pinned by [`crate::TrustPolicy::SpkiPins`].
    pub fn spki_pin(&self) -> SpkiPin {
        self.details.spki_pin
    }

    /// The validity period.
    pub fn validity(&self) -> Validity {
        self.details.validity
    }

    /// True for a CA certificate (basic constraints CA:TRUE).
    pub fn is_ca(&self) -> bool {
        matches!(self.details.basic_constraints, Some((true, _)))
    }

    pub(crate) fn subject_public_key(&self) -> &[u8] {
        &self.details.subject_public_key
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.details.subject)
            .field("serial", &self.details.serial)
            .finish()
    }
}

/// A certificate's validity period, in seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// `notBefore`.
    pub not_before: i64,
    /// `notAfter`.
    pub not_after: i64,
}

impl Validity {
    /// True if `unix_secs` lies inside the period (both ends included, as RFC 5280 says).
    pub fn contains(&self, unix_secs: i64) -> bool {
        self.not_before <= unix_secs && unix_secs <= self.not_after
    }
}

/// How a private key's DER is framed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFormat {
    /// PKCS#8 `PrivateKeyInfo` (`BEGIN PRIVATE KEY`), what redy writes.
    Pkcs8,
    /// PKCS#1 `RSAPrivateKey` (`BEGIN RSA PRIVATE KEY`).
    Pkcs1,
    /// SEC 1 `ECPrivateKey` (`BEGIN EC PRIVATE KEY`).
    Sec1,
}

/// A private key. Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey {
    der: Arc<[u8]>,
    format: KeyFormat,
    public_key: Arc<[u8]>,
}

impl PrivateKey {
    /// Parses a key and derives its public key, so that it can be matched to a certificate.
    pub fn from_der(der: impl Into<Vec<u8>>, format: KeyFormat) -> Result<Self, Error> {
        use rustls_pki_types::{
            PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
        };
        let der: Vec<u8> = der.into();
        let key = match format {
            KeyFormat::Pkcs8 => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.as_slice())),
            KeyFormat::Pkcs1 => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der.as_slice())),
            KeyFormat::Sec1 => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der.as_slice())),
        };
        let pair = rcgen::KeyPair::try_from(&key).map_err(|e| Error::PrivateKey(e.to_string()))?;
        Ok(Self {
            public_key: pair.public_key_raw().into(),
            der: der.into(),
            format,
        })
    }

    /// The DER bytes. They are the secret: keep them out of logs.
    pub fn secret_der(&self) -> &[u8] {
        &self.der
    }

    /// How the DER is framed.
    pub fn format(&self) -> KeyFormat {
        self.format
    }

    /// The PEM encoding, with the label of its format.
    pub fn to_pem(&self) -> String {
        let label = match self.format {
            KeyFormat::Pkcs8 => "PRIVATE KEY",
            KeyFormat::Pkcs1 => "RSA PRIVATE KEY",
            KeyFormat::Sec1 => "EC PRIVATE KEY",
        };
        crate::pem::encode(label, &self.der)
    }

    /// Checks that this key belongs to `cert`.
    pub fn check_matches(&self, cert: &Certificate) -> Result<(), Error> {
        match *self.public_key == *cert.subject_public_key() {
            true => Ok(()),
            false => Err(Error::KeyMismatch {
                subject: cert.details().subject.clone(),
            }),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}
