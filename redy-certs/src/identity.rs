//! An identity: a certificate chain and the private key of its first certificate.

use crate::{Certificate, Error, PrivateKey, parse_pem};

/// A certificate chain (end entity first) with the end entity's private key: what a TLS server,
/// or a client doing mutual TLS, presents.
#[derive(Clone, Debug)]
pub struct Identity {
    chain: Vec<Certificate>,
    key: PrivateKey,
}

impl Identity {
    /// Checks that the chain is not empty and that the key belongs to its first certificate.
    pub fn new(chain: Vec<Certificate>, key: PrivateKey) -> Result<Self, Error> {
        let leaf = chain.first().ok_or(Error::NoCertificate)?;
        key.check_matches(leaf)?;
        Ok(Self { chain, key })
    }

    /// Reads a PEM text holding the chain and exactly one key, such as `ServerREDY.pem`.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let mut items = parse_pem(pem)?;
        match items.keys.len() {
            0 => Err(Error::NoKey),
            1 => Self::new(items.certificates, items.keys.remove(0)),
            n => Err(Error::SeveralKeys(n)),
        }
    }

    /// `ServerREDY.pem`: the chain then the PKCS#8 key.
    pub fn to_pem(&self) -> String {
        let mut pem: String = self.chain.iter().map(Certificate::to_pem).collect();
        pem.push_str(&self.key.to_pem());
        pem
    }

    /// The chain, end entity first.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The end-entity certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    /// The end entity's private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}
