//! PKCS#12 (`.p12`, `.pfx`) import through the pure-Rust `p12-keystore` crate.
//!
//! It reads what `openssl pkcs12 -export` writes: OpenSSL 3's PBES2 / AES-256-CBC with an
//! HMAC-SHA-256 MAC, and the legacy PBES1 3DES / RC2-40 files. Iteration counts above
//! 1,000,000 (MAC or key derivation) are refused by the parser, bounding the work a hostile
//! file can ask for.

use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};

use crate::{Certificate, Error, KeyFormat, PrivateKey};

/// What one PKCS#12 file held: its key chains and its lone certificates.
pub(crate) struct Pkcs12Contents {
    pub(crate) chains: Vec<(Vec<Certificate>, PrivateKey)>,
    pub(crate) certificates: Vec<Certificate>,
}

pub(crate) fn parse(data: &[u8], password: &str) -> Result<Pkcs12Contents, Error> {
    let store = KeyStore::from_pkcs12(data, password, Pkcs12ImportPolicy::Relaxed).map_err(
        |e| match e {
            p12_keystore::error::Error::MacError(_) => Error::Pkcs12Password,
            other => Error::Pkcs12(other.to_string()),
        },
    )?;
    let mut contents = Pkcs12Contents {
        chains: Vec::new(),
        certificates: Vec::new(),
    };
    for (_, entry) in store.entries() {
        match entry {
            KeyStoreEntry::PrivateKeyChain(chain) => {
                let certs = chain
                    .certs()
                    .iter()
                    .map(|c| Certificate::from_der(c.as_der().to_vec()))
                    .collect::<Result<Vec<_>, _>>()?;
                let key = PrivateKey::from_der(chain.key().as_der().to_vec(), KeyFormat::Pkcs8)?;
                contents.chains.push((certs, key));
            }
            KeyStoreEntry::Certificate(cert) => {
                contents
                    .certificates
                    .push(Certificate::from_der(cert.as_der().to_vec())?);
            }
            _ => {}
        }
    }
    Ok(contents)
}
