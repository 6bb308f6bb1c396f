//! The one error type of redy-certs.

/// What went wrong, with the cause in the message.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A device WID that is not `xxxxx-yyyyy`-like.
    #[error(
        "invalid WID {0:?}: expected groups of letters or digits separated by '-', at most 32 characters (e.g. 12345-67890)"
    )]
    InvalidWid(String),
    /// A certificate subject name that is neither a DNS name nor an IP address.
    #[error("invalid certificate name {0:?}: neither a DNS name nor an IP address")]
    InvalidName(String),
    /// A server certificate was requested without any name.
    #[error("a server certificate needs at least one DNS name or IP address")]
    NoNames,
    /// Input that holds no PEM section redy understands.
    #[error("no certificate or private key found in the PEM input")]
    NoPem,
    /// PEM framing or base64 is broken.
    #[error("malformed PEM: {0}")]
    Pem(String),
    /// An encrypted PEM private key (`BEGIN ENCRYPTED PRIVATE KEY`).
    #[error(
        "encrypted PEM private keys are not supported: import a PKCS#12 file, or decrypt with `openssl pkcs8 -nocrypt`"
    )]
    EncryptedPemKey,
    /// Certificate DER that does not parse (truncated, trailing bytes, not X.509).
    #[error("malformed certificate: {0}")]
    Certificate(String),
    /// Private key DER that does not parse or uses an unsupported algorithm.
    #[error("malformed or unsupported private key: {0}")]
    PrivateKey(String),
    /// The private key is not the one of the certificate it came with.
    #[error("the private key does not match the certificate for {subject}")]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// More than one private key where one was expected.
    #[error("found {0} private keys where one was expected")]
    SeveralKeys(usize),
    /// A certificate was expected but none was given.
    #[error("no certificate found")]
    NoCertificate,
    /// A private key was expected but none was given.
    #[error("no private key found")]
    NoKey,
    /// The PKCS#12 MAC did not verify: almost always a wrong password.
    #[error("wrong PKCS#12 password (the integrity check failed)")]
    Pkcs12Password,
    /// A PKCS#12 file that does not parse or uses an unsupported algorithm.
    #[error("malformed or unsupported PKCS#12 file: {0}")]
    Pkcs12(String),
    /// An input larger than the documented limit.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit it exceeded.
        limit: usize,
    },
    /// A chain longer than [`crate::MAX_CHAIN_LEN`].
    #[error("chain of {len} certificates exceeds the limit of {limit}")]
    ChainTooLong {
        /// Length of the chain.
        len: usize,
        /// The limit it exceeded.
        limit: usize,
    },
    /// The store already holds [`crate::MAX_ENTRIES`] entries.
    #[error("certificate store is full ({limit} entries)")]
    StoreFull {
        /// The limit.
        limit: usize,
    },
    /// An entry name that is empty, too long or holds control characters.
    #[error("invalid entry name {0:?}: 1 to 64 printable characters")]
    InvalidEntryName(String),
    /// No entry of that name in the store.
    #[error("no certificate store entry named {0:?}")]
    NoSuchEntry(String),
    /// The name is taken.
    #[error("a certificate store entry named {0:?} already exists")]
    DuplicateEntry(String),
    /// A pin that is not 32 bytes in base64 or hex.
    #[error("invalid SPKI pin {0:?}: expected sha256//BASE64 or 64 hex digits")]
    InvalidPin(String),
    /// The certificate given as a device CA is not a CA.
    #[error("{0} is not a CA certificate (basic constraints CA:TRUE missing)")]
    NotCa(String),
    /// A time that certificates cannot express.
    #[error("time out of range for a certificate: {0}")]
    Time(String),
    /// Certificate generation failed inside rcgen.
    #[error("certificate generation failed: {0}")]
    Generate(String),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}
