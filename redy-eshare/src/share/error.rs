//! The error types of eShare: what a call refuses, and why a batch or a domain is invalid.

use redy_certs::Wid;

use super::exchange::DeliveryId;

/// Why a value, a publication or a received batch is invalid.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// A publication or batch with no value.
    #[error("a batch needs at least one value")]
    Empty,
    /// More values than [`MAX_VALUES_PER_BATCH`](super::MAX_VALUES_PER_BATCH).
    #[error("{count} values in one batch, the limit is {limit}")]
    TooManyValues {
        /// Values given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A name that is empty, longer than [`MAX_NAME_BYTES`](super::MAX_NAME_BYTES) or holds a
    /// control character.
    #[error(
        "invalid value name {0:?}: 1 to {limit} bytes of UTF-8 without control characters",
        limit = super::MAX_NAME_BYTES
    )]
    InvalidName(String),
    /// The same name twice in one batch.
    #[error("value name {0:?} appears twice in one batch")]
    DuplicateName(String),
    /// A float that JSON cannot carry (NaN or an infinity).
    #[error("value {name:?}: {value} cannot be sent (JSON carries only finite numbers)")]
    NonFinite {
        /// The value's name.
        name: String,
        /// The float, as text (`NaN`, `inf`, `-inf`).
        value: String,
    },
    /// A text longer than [`MAX_TEXT_BYTES`](super::MAX_TEXT_BYTES).
    #[error("value {name:?}: text of {len} bytes, the limit is {limit}")]
    TextTooLong {
        /// The value's name.
        name: String,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Sequence numbers start at 1.
    #[error("sequence number 0 is not valid (sequences start at 1)")]
    ZeroSequence,
    /// An encoded batch above [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES), refused before parsing.
    #[error("batch of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the body.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A `"v"` other than 1.
    #[error("unsupported eShare version {0} (this node speaks version 1)")]
    Version(u64),
    /// Bytes that are not the JSON of a batch (syntax, types, a bad WID...).
    #[error("malformed batch JSON: {0}")]
    Json(String),
}

/// Why a domain cannot be built, or a node cannot run with it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A domain with no site.
    #[error("an eShare domain needs at least one site")]
    Empty,
    /// More sites than [`MAX_SITES`](super::MAX_SITES).
    #[error("{count} sites in the domain, the limit is {limit}")]
    TooManySites {
        /// Sites given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The manual's rule: every site of a domain serves HTTPS on the same port.
    #[error(
        "site {wid} uses HTTPS port {port} but the domain uses {expected}: all sites of an eShare domain must have the same port"
    )]
    PortMismatch {
        /// The site that differs.
        wid: Wid,
        /// Its port.
        port: u16,
        /// The port of the first site.
        expected: u16,
    },
    /// Two sites with one WID.
    #[error("site {0} appears twice in the domain")]
    DuplicateSite(Wid),
    /// A label or software version longer than [`MAX_LABEL_BYTES`](super::MAX_LABEL_BYTES).
    #[error("site {wid}: {field} of {len} bytes, the limit is {limit}")]
    TextTooLong {
        /// The site.
        wid: Wid,
        /// `label` or `software`.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The node's own WID is not a site of its domain.
    #[error("this node's WID {0} is not a site of the domain")]
    NotInDomain(Wid),
    /// Mutual TLS needs every other site to be identifiable by its certificate.
    #[error(
        "mutual TLS: site {wid} is trusted by {policy}, which cannot authenticate a client; use its CA certificate, its certificate or an SPKI pin"
    )]
    MtlsPolicy {
        /// The site.
        wid: Wid,
        /// Its trust policy, as text.
        policy: String,
    },
    /// Mutual TLS needs the other sites to be trusted the same way: all by CA certificates,
    /// or all by certificates and pins.
    #[error(
        "mutual TLS: the sites mix CA certificates with certificates or pins; one client verifier takes one kind"
    )]
    MtlsMixedPolicies,
}

/// Why a [`Node`](super::Node) call was refused. No error is sticky: the node stays usable.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The publication is invalid (nothing was enqueued).
    #[error("invalid publication: {0}")]
    Batch(#[from] BatchError),
    /// A target site's outbox is full: nothing was enqueued anywhere.
    #[error(
        "outbox of site {site} is full ({limit} batches waiting): nothing was published, retry once deliveries progress"
    )]
    OutboxFull {
        /// The first full site.
        site: Wid,
        /// The outbox limit.
        limit: usize,
    },
    /// The domain or the node's place in it is invalid.
    #[error("eShare domain: {0}")]
    Domain(#[from] DomainError),
    /// A WID that is not a site of the domain.
    #[error("site {0} is not in the domain")]
    UnknownSite(Wid),
    /// An outcome for a delivery that is not in flight (already reported, or timed out).
    #[error("delivery {0} is not in flight (already reported or timed out)")]
    UnknownDelivery(DeliveryId),
    /// The TLS client configuration of a site could not be built.
    #[error("TLS configuration for site {site}: {source}")]
    Tls {
        /// The site.
        site: Wid,
        /// The cause.
        source: redy_tls::Error,
    },
    /// A snapshot that does not fit this node's configuration, or is not valid JSON.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// The sequence counter is exhausted (after 2^64 - 1 publications: start a new epoch).
    #[error("sequence numbers exhausted in this epoch")]
    SequenceExhausted,
}

/// Why a delivery failed, as the glue reports it to [`Node::delivered`](super::Node::delivered).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Name resolution or TCP connection failed.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The TLS handshake or session failed (untrusted certificate, alert...).
    #[error("TLS: {0}")]
    Tls(String),
    /// The HTTP exchange failed (malformed or truncated response, connection closed...).
    #[error("HTTP: {0}")]
    Http(String),
    /// No complete response in time.
    #[error("timed out")]
    Timeout,
}
