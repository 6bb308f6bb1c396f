//! PEM text in and out.

use rustls_pki_types::pem::{PemObject, SectionKind};

use crate::{Certificate, Error, KeyFormat, PrivateKey};

/// What a PEM text holds, in the order it appeared.
#[derive(Debug, Default)]
pub struct PemItems {
    /// Every `CERTIFICATE` section.
    pub certificates: Vec<Certificate>,
    /// Every private key section (PKCS#8, PKCS#1 or SEC 1).
    pub keys: Vec<PrivateKey>,
}

/// Parses every certificate and private key in a PEM text; other sections are ignored.
///
/// Input with none of them is [`Error::NoPem`]; an encrypted key is [`Error::EncryptedPemKey`].
pub fn parse_pem(text: &[u8]) -> Result<PemItems, Error> {
    if contains(text, b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || contains(text, b"Proc-Type: 4,ENCRYPTED")
    {
        return Err(Error::EncryptedPemKey);
    }
    let mut items = PemItems::default();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(text) {
        let (kind, der) = section.map_err(|e| Error::Pem(e.to_string()))?;
        match kind {
            SectionKind::Certificate => items.certificates.push(Certificate::from_der(der)?),
            SectionKind::PrivateKey => items
                .keys
                .push(PrivateKey::from_der(der, KeyFormat::Pkcs8)?),
            SectionKind::RsaPrivateKey => items
                .keys
                .push(PrivateKey::from_der(der, KeyFormat::Pkcs1)?),
            SectionKind::EcPrivateKey => {
                items.keys.push(PrivateKey::from_der(der, KeyFormat::Sec1)?)
            }
            _ => {}
        }
    }
    match items.certificates.is_empty() && items.keys.is_empty() {
        true => Err(Error::NoPem),
        false => Ok(items),
    }
}

pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
