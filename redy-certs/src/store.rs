//! The certificate store: named entries imported from PEM, DER or PKCS#12, exported again.
//!
//! The store lives in memory; reading and writing its files is the caller's. Every input is
//! bounded: [`MAX_IMPORT_BYTES`] per import, [`MAX_CHAIN_LEN`] certificates per entry,
//! [`MAX_ENTRIES`] entries, [`MAX_NAME_LEN`] bytes per name.

use std::collections::BTreeMap;

use crate::{Certificate, Error, Identity, PrivateKey, parse_pem, pkcs12};

/// Largest file one import accepts (1 MiB).
pub const MAX_IMPORT_BYTES: usize = 1 << 20;
/// Most certificates one entry holds.
pub const MAX_CHAIN_LEN: usize = 16;
/// Most entries a store holds.
pub const MAX_ENTRIES: usize = 256;
/// Longest entry name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// One named entry: certificates (end entity or CA first) and, for an identity, its key.
#[derive(Clone, Debug)]
pub struct Entry {
    chain: Vec<Certificate>,
    key: Option<PrivateKey>,
}

impl Entry {
    /// An entry from certificates and an optional key, which must belong to the first
    /// certificate.
    pub fn new(chain: Vec<Certificate>, key: Option<PrivateKey>) -> Result<Self, Error> {
        let first = chain.first().ok_or(Error::NoCertificate)?;
        if chain.len() > MAX_CHAIN_LEN {
            return Err(Error::ChainTooLong {
                len: chain.len(),
                limit: MAX_CHAIN_LEN,
            });
        }
        if let Some(key) = &key {
            key.check_matches(first)?;
        }
        Ok(Self { chain, key })
    }

    /// The certificates, first one first.
    pub fn certificates(&self) -> &[Certificate] {
        &self.chain
    }

    /// The first certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    /// The private key, for an identity.
    pub fn key(&self) -> Option<&PrivateKey> {
        self.key.as_ref()
    }

    /// The entry as an identity to present, when it has a key.
    pub fn identity(&self) -> Option<Identity> {
        let key = self.key.clone()?;
        Identity::new(self.chain.clone(), key).ok()
    }
}

/// Named certificate entries, listed in name order.
#[derive(Clone, Debug, Default)]
pub struct CertStore {
    entries: BTreeMap<String, Entry>,
}

impl CertStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Imports every certificate of a PEM text and at most one key, which must belong to the
    /// first certificate.
    pub fn import_pem(&mut self, name: &str, pem: &[u8]) -> Result<&Entry, Error> {
        check_size(pem)?;
        let mut items = parse_pem(pem)?;
        let key = match items.keys.len() {
            0 => None,
            1 => Some(items.keys.remove(0)),
            n => return Err(Error::SeveralKeys(n)),
        };
        self.insert(name, Entry::new(items.certificates, key)?)
    }

    /// Imports one DER certificate.
    pub fn import_der(&mut self, name: &str, der: &[u8]) -> Result<&Entry, Error> {
        check_size(der)?;
        self.insert(name, Entry::new(vec![Certificate::from_der(der)?], None)?)
    }

    /// Imports a PKCS#12 file: its key with its chain, followed by any further certificates it
    /// holds (such as the issuing CA). A wrong password is [`Error::Pkcs12Password`].
    pub fn import_pkcs12(
        &mut self,
        name: &str,
        p12: &[u8],
        password: &str,
    ) -> Result<&Entry, Error> {
        check_size(p12)?;
        let mut contents = pkcs12::parse(p12, password)?;
        let (mut chain, key) = match contents.chains.len() {
            0 => (Vec::new(), None),
            1 => {
                let (chain, key) = contents.chains.remove(0);
                (chain, Some(key))
            }
            n => return Err(Error::SeveralKeys(n)),
        };
        for cert in contents.certificates {
            if !chain.contains(&cert) {
                chain.push(cert);
            }
        }
        self.insert(name, Entry::new(chain, key)?)
    }

    /// Adds an entry under a new name.
    pub fn insert(&mut self, name: &str, entry: Entry) -> Result<&Entry, Error> {
        let valid =
            !name.is_empty() && name.len() <= MAX_NAME_LEN && !name.chars().any(char::is_control);
        if !valid {
            return Err(Error::InvalidEntryName(name.to_owned()));
        }
        if self.entries.contains_key(name) {
            return Err(Error::DuplicateEntry(name.to_owned()));
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(Error::StoreFull { limit: MAX_ENTRIES });
        }
        Ok(self.entries.entry(name.to_owned()).or_insert(entry))
    }

    /// The entry of that name.
    pub fn get(&self, name: &str) -> Result<&Entry, Error> {
        self.entries
            .get(name)
            .ok_or_else(|| Error::NoSuchEntry(name.to_owned()))
    }

    /// Removes and returns the entry of that name.
    pub fn remove(&mut self, name: &str) -> Result<Entry, Error> {
        self.entries
            .remove(name)
            .ok_or_else(|| Error::NoSuchEntry(name.to_owned()))
    }

    /// Every entry, in name order.
    pub fn list(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries
            .iter()
            .map(|(name, entry)| (name.as_str(), entry))
    }

    /// The entry's certificates as PEM, without its key.
    pub fn export_pem(&self, name: &str) -> Result<String, Error> {
        Ok(self
            .get(name)?
            .chain
            .iter()
            .map(Certificate::to_pem)
            .collect())
    }

    /// The entry's certificates then its key, as PEM (`ServerREDY.pem`'s layout).
    pub fn export_pem_with_key(&self, name: &str) -> Result<String, Error> {
        let entry = self.get(name)?;
        let key = entry.key.as_ref().ok_or(Error::NoKey)?;
        Ok(self.export_pem(name)? + &key.to_pem())
    }

    /// The entry's first certificate as DER.
    pub fn export_der(&self, name: &str) -> Result<Vec<u8>, Error> {
        Ok(self.get(name)?.certificate().der().to_vec())
    }
}

fn check_size(input: &[u8]) -> Result<(), Error> {
    match input.len() > MAX_IMPORT_BYTES {
        true => Err(Error::TooLarge {
            size: input.len(),
            limit: MAX_IMPORT_BYTES,
        }),
        false => Ok(()),
    }
}
