//! The details view: what `openssl x509 -text` shows that a user checks.

use std::fmt;
use std::net::IpAddr;

use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::prelude::X509Certificate;

use crate::{SpkiPin, Validity, crypto};

/// The fields of a certificate a person checks; `Display` prints them like `openssl x509 -text`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateDetails {
    /// X.509 version (3 for every modern certificate).
    pub version: u32,
    /// Serial number as colon-separated hex.
    pub serial: String,
    /// Signature algorithm, e.g. `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
    /// Issuer distinguished name, e.g. `CN=REDY-12345-67890-CA, O=REDY`.
    pub issuer: String,
    /// Subject distinguished name.
    pub subject: String,
    /// Validity period.
    pub validity: Validity,
    /// `notBefore` as text, e.g. `Nov 22 04:59:33 2026 +00:00`.
    pub not_before: String,
    /// `notAfter` as text.
    pub not_after: String,
    /// Subject alternative names, as `DNS:redy.local` or `IP Address:192.168.1.137`.
    pub subject_alt_names: Vec<String>,
    /// The public key.
    pub key: KeyInfo,
    /// Key usage flags, e.g. `Digital Signature`.
    pub key_usage: Vec<String>,
    /// Extended key usage purposes, e.g. `TLS Web Server Authentication`.
    pub extended_key_usage: Vec<String>,
    /// Basic constraints: CA flag and path length, when the extension is present.
    pub basic_constraints: Option<(bool, Option<u32>)>,
    /// SHA-256 of the DER.
    pub sha256: [u8; 32],
    /// SHA-1 of the DER (what older tools show).
    pub sha1: [u8; 20],
    /// SHA-256 of the subject public key info.
    pub spki_pin: SpkiPin,
    pub(crate) subject_public_key: Vec<u8>,
}

/// The public key's algorithm and size.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// `RSA`, `EC` or `Ed25519`, or the algorithm's OID when unknown.
    pub algorithm: String,
    /// Key size in bits.
    pub bits: usize,
    /// The curve of an EC key, e.g. `prime256v1`.
    pub curve: Option<String>,
}

impl CertificateDetails {
    pub(crate) fn from_parsed(cert: &X509Certificate<'_>, der: &[u8]) -> Self {
        let spki = cert.public_key();
        let validity = cert.validity();
        let mut details = Self {
            version: cert.version().0 + 1,
            serial: hex(cert.raw_serial(), ":"),
            signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
            issuer: cert.issuer().to_string(),
            subject: cert.subject().to_string(),
            validity: Validity {
                not_before: validity.not_before.timestamp(),
                not_after: validity.not_after.timestamp(),
            },
            not_before: validity.not_before.to_string(),
            not_after: validity.not_after.to_string(),
            subject_alt_names: Vec::new(),
            key: key_info(cert),
            key_usage: Vec::new(),
            extended_key_usage: Vec::new(),
            basic_constraints: None,
            sha256: crypto::sha256(der),
            sha1: crypto::sha1(der),
            spki_pin: SpkiPin::from_sha256(crypto::sha256(spki.raw)),
            subject_public_key: spki.subject_public_key.data.to_vec(),
        };
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            details.subject_alt_names = san.value.general_names.iter().map(general_name).collect();
        }
        if let Ok(Some(ku)) = cert.key_usage() {
            details.key_usage = ku
                .value
                .to_string()
                .split(", ")
                .map(str::to_owned)
                .collect();
        }
        if let Ok(Some(eku)) = cert.extended_key_usage() {
            let e = eku.value;
            let named = [
                (e.server_auth, "TLS Web Server Authentication"),
                (e.client_auth, "TLS Web Client Authentication"),
                (e.code_signing, "Code Signing"),
                (e.email_protection, "E-mail Protection"),
                (e.time_stamping, "Time Stamping"),
                (e.ocsp_signing, "OCSP Signing"),
                (e.any, "Any Extended Key Usage"),
            ];
            details.extended_key_usage = named
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| n.to_string())
                .collect();
            details
                .extended_key_usage
                .extend(e.other.iter().map(|oid| oid.to_id_string()));
        }
        if let Ok(Some(bc)) = cert.basic_constraints() {
            details.basic_constraints = Some((bc.value.ca, bc.value.path_len_constraint));
        }
        details
    }
}

impl fmt::Display for CertificateDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Certificate:")?;
        writeln!(f, "    Version: {}", self.version)?;
        writeln!(f, "    Serial Number: {}", self.serial)?;
        writeln!(f, "    Signature Algorithm: {}", self.signature_algorithm)?;
        writeln!(f, "    Issuer: {}", self.issuer)?;
        writeln!(f, "    Validity")?;
        writeln!(f, "        Not Before: {}", self.not_before)?;
        writeln!(f, "        Not After : {}", self.not_after)?;
        writeln!(f, "    Subject: {}", self.subject)?;
        write!(
            f,
            "    Public Key: {} ({} bit",
            self.key.algorithm, self.key.bits
        )?;
        match &self.key.curve {
            Some(curve) => writeln!(f, ", {curve})")?,
            None => writeln!(f, ")")?,
        }
        if let Some((ca, path_len)) = self.basic_constraints {
            let ca = if ca { "TRUE" } else { "FALSE" };
            match path_len {
                Some(n) => writeln!(f, "    Basic Constraints: CA:{ca}, pathlen:{n}")?,
                None => writeln!(f, "    Basic Constraints: CA:{ca}")?,
            }
        }
        if !self.key_usage.is_empty() {
            writeln!(f, "    Key Usage: {}", self.key_usage.join(", "))?;
        }
        if !self.extended_key_usage.is_empty() {
            writeln!(
                f,
                "    Extended Key Usage: {}",
                self.extended_key_usage.join(", ")
            )?;
        }
        if !self.subject_alt_names.is_empty() {
            writeln!(
                f,
                "    Subject Alternative Name: {}",
                self.subject_alt_names.join(", ")
            )?;
        }
        writeln!(f, "    SHA256 Fingerprint: {}", hex(&self.sha256, ":"))?;
        writeln!(f, "    SHA1 Fingerprint: {}", hex(&self.sha1, ":"))?;
        writeln!(f, "    SPKI Pin: {}", self.spki_pin)
    }
}

fn key_info(cert: &X509Certificate<'_>) -> KeyInfo {
    let spki = cert.public_key();
    let alg = &spki.algorithm;
    let bits = spki.parsed().map(|k| k.key_size()).unwrap_or(0);
    let curve = alg
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid_name(&oid));
    let algorithm = match alg.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => "RSA".to_owned(),
        "1.2.840.10045.2.1" => "EC".to_owned(),
        "1.3.101.112" => "Ed25519".to_owned(),
        other => other.to_owned(),
    };
    let curve = if algorithm == "EC" { curve } else { None };
    KeyInfo {
        algorithm,
        bits,
        curve,
    }
}

fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::RFC822Name(mail) => format!("email:{mail}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
        GeneralName::IPAddress(bytes) => match <[u8; 4]>::try_from(*bytes) {
            Ok(v4) => format!("IP Address:{}", IpAddr::from(v4)),
            Err(_) => match <[u8; 16]>::try_from(*bytes) {
                Ok(v6) => format!("IP Address:{}", IpAddr::from(v6)),
                Err(_) => format!("IP Address:<{} bytes>", bytes.len()),
            },
        },
        other => other.to_string(),
    }
}

fn oid_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    oid2sn(oid, oid_registry())
        .map(str::to_owned)
        .unwrap_or_else(|_| oid.to_id_string())
}

pub(crate) fn hex(bytes: &[u8], sep: &str) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(sep)
}
