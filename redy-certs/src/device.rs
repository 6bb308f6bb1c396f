//! The device identity the manual describes: `REDY-<WID>-CA` and the server certificate it issues.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::SystemTime;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::OffsetDateTime;

use crate::{Certificate, Error, Identity, KeyFormat, PrivateKey, crypto};

/// Days the device CA is valid: about ten years.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// Days a server certificate is valid at most (the CA/Browser Forum's former ceiling, which
/// Apple platforms still enforce).
pub const SERVER_VALIDITY_DAYS: i64 = 825;
/// The file name the manual gives the server identity.
pub const SERVER_FILE_NAME: &str = "ServerREDY.pem";
/// How far `notBefore` is set before `now`, for peers whose clocks run a little behind.
const BACKDATE_SECS: i64 = 3600;
const DAY_SECS: i64 = 86_400;

/// A device's WID, such as `12345-67890`: groups of ASCII letters or digits joined by `-`,
/// at most 32 characters, so that it is safe in a file name and a certificate name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Wid(String);

impl FromStr for Wid {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.split('-')
                .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_alphanumeric()));
        match ok {
            true => Ok(Self(s.to_owned())),
            false => Err(Error::InvalidWid(s.to_owned())),
        }
    }
}

impl fmt::Display for Wid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name a server certificate is valid for: a DNS name or an IP address.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SubjectName {
    /// A DNS name such as `redy.local`.
    Dns(String),
    /// An IP address such as `192.168.1.137`.
    Ip(IpAddr),
}

impl FromStr for SubjectName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        match rustls_pki_types::DnsName::try_from(s) {
            Ok(_) if !s.ends_with('.') => Ok(Self::Dns(s.to_ascii_lowercase())),
            _ => Err(Error::InvalidName(s.to_owned())),
        }
    }
}

impl fmt::Display for SubjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name),
            Self::Ip(ip) => ip.fmt(f),
        }
    }
}

/// The device CA `REDY-<WID>-CA` with its key: it issues the device's server certificates.
#[derive(Clone, Debug)]
pub struct DeviceCa {
    wid: Wid,
    cert: Certificate,
    key: PrivateKey,
}

impl DeviceCa {
    /// Creates a CA (CA:TRUE, path length 0, ECDSA P-256, [`CA_VALIDITY_DAYS`] days from `now`,
    /// random 128-bit serial).
    pub fn generate(wid: &Wid, now: SystemTime) -> Result<Self, Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(gen_err)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(&format!("REDY-{wid}-CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial()?);
        let start = unix(now) - BACKDATE_SECS;
        (params.not_before, params.not_after) =
            (date(start)?, date(start + CA_VALIDITY_DAYS * DAY_SECS)?);
        let cert = params.self_signed(&key).map_err(gen_err)?;
        Ok(Self {
            wid: wid.clone(),
            cert: Certificate::from_der(cert.der().to_vec())?,
            key: PrivateKey::from_der(key.serialize_der(), KeyFormat::Pkcs8)?,
        })
    }

    /// Reloads a CA from its certificate and key, e.g. to reissue the server certificate.
    pub fn from_parts(cert: Certificate, key: PrivateKey) -> Result<Self, Error> {
        let subject = cert.details().subject.clone();
        if !cert.is_ca() {
            return Err(Error::NotCa(subject));
        }
        key.check_matches(&cert)?;
        let wid = subject
            .split(", ")
            .find_map(|rdn| rdn.strip_prefix("CN=REDY-")?.strip_suffix("-CA"))
            .ok_or_else(|| Error::NotCa(format!("{subject} (not named CN=REDY-<WID>-CA)")))?
            .parse()?;
        Ok(Self { wid, cert, key })
    }

    /// Issues a server certificate for `names` (CA:FALSE, serverAuth + clientAuth,
    /// digitalSignature, valid [`SERVER_VALIDITY_DAYS`] days from `now` but never past the CA)
    /// with a fresh P-256 key. The CA stays the same.
    pub fn issue_server_certificate(
        &self,
        names: &[SubjectName],
        now: SystemTime,
    ) -> Result<Identity, Error> {
        let first = names.first().ok_or(Error::NoNames)?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(gen_err)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(&first.to_string());
        params.subject_alt_names = names
            .iter()
            .map(|n| match n {
                SubjectName::Ip(ip) => Ok(SanType::IpAddress(*ip)),
                SubjectName::Dns(dns) => dns
                    .clone()
                    .try_into()
                    .map(SanType::DnsName)
                    .map_err(gen_err),
            })
            .collect::<Result<_, _>>()?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        let start = (unix(now) - BACKDATE_SECS).max(self.cert.validity().not_before);
        let end = (start + SERVER_VALIDITY_DAYS * DAY_SECS).min(self.cert.validity().not_after);
        (params.not_before, params.not_after) = (date(start)?, date(end)?);

        let ca_key = KeyPair::try_from(self.key.secret_der()).map_err(gen_err)?;
        let ca_der = rustls_pki_types::CertificateDer::from(self.cert.der());
        let issuer = Issuer::from_ca_cert_der(&ca_der, ca_key).map_err(gen_err)?;
        let leaf = params.signed_by(&key, &issuer).map_err(gen_err)?;
        Identity::new(
            vec![
                Certificate::from_der(leaf.der().to_vec())?,
                self.cert.clone(),
            ],
            PrivateKey::from_der(key.serialize_der(), KeyFormat::Pkcs8)?,
        )
    }

    /// The device's WID.
    pub fn wid(&self) -> &Wid {
        &self.wid
    }

    /// The CA certificate, the one to export to other devices and servers.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The CA's private key (keep it on the device).
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// `REDY-<WID>-CA.crt`, the manual's name for the exported CA certificate.
    pub fn file_name(&self) -> String {
        format!("REDY-{}-CA.crt", self.wid)
    }

    /// `REDY-<WID>-CA.key`, where redy's tools keep the CA key beside it.
    pub fn key_file_name(&self) -> String {
        format!("REDY-{}-CA.key", self.wid)
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "REDY");
    dn
}

fn random_serial() -> Result<SerialNumber, Error> {
    let mut serial: [u8; 16] = crypto::random()?;
    // Positive and exactly 128 bits of entropy's width: clear the sign bit, keep the top byte nonzero.
    serial[0] = (serial[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&serial))
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn date(unix_secs: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(unix_secs.max(0)).map_err(|e| Error::Time(e.to_string()))
}

fn gen_err(e: rcgen::Error) -> Error {
    Error::Generate(e.to_string())
}
