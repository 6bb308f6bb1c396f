//! Certificates and trust for redy: the device CA and server certificate a REDY creates for
//! itself, a store of imported certificates and keys, an `openssl x509 -text`-like details view,
//! and the [`TrustPolicy`] every redy protocol uses to decide whether a peer is who it claims.
//!
//! ```text
//!   DeviceCa::generate(wid, now) ──► REDY-<WID>-CA.crt  (CA:TRUE, pathlen 0, P-256, ~10 years)
//!          │                                  │ exported to other devices / servers
//!          └─ issue_server_certificate ──► ServerREDY.pem (leaf + CA + PKCS#8 key, ≤ 825 days)
//!
//!   CertStore: import PEM / DER / PKCS#12 ──► named entries ──► export PEM / DER, details, pins
//!
//!   TrustPolicy: WebPkiRoots | CaCertificates | ServerCertificate | SpkiPins
//!                | DangerousTrustAnyServer  (still checks handshake signatures, in redy-tls)
//! ```
//!
//! Nothing here reads the clock, the file system or the network: the caller passes `now`, the
//! bytes of files and receives the bytes to write.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use redy_certs::{DeviceCa, SubjectName, TrustPolicy, Wid};
//!
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
//! let ca = DeviceCa::generate(&"12345-67890".parse::<Wid>()?, now)?;
//! let names = ["192.168.1.137".parse::<SubjectName>()?, "redy.local".parse()?];
//! let server = ca.issue_server_certificate(&names, now)?;
//!
//! assert_eq!(ca.file_name(), "REDY-12345-67890-CA.crt");
//! assert!(server.to_pem().contains("BEGIN PRIVATE KEY"));
//! // Another device trusts this one by importing its CA certificate:
//! let _policy = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
//! # Ok::<(), redy_certs::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod certificate;
mod crypto;
mod details;
mod device;
mod error;
mod identity;
mod pem;
mod pkcs12;
mod store;
mod trust;

pub use certificate::{Certificate, KeyFormat, PrivateKey, Validity};
pub use details::{CertificateDetails, KeyInfo};
pub use device::{
    CA_VALIDITY_DAYS, DeviceCa, SERVER_FILE_NAME, SERVER_VALIDITY_DAYS, SubjectName, Wid,
};
pub use error::Error;
pub use identity::Identity;
pub use pem::{PemItems, parse_pem};
pub use store::{CertStore, Entry, MAX_CHAIN_LEN, MAX_ENTRIES, MAX_IMPORT_BYTES, MAX_NAME_LEN};
pub use trust::{LastKnownGood, SpkiPin, TimeSource, TrustPolicy};
