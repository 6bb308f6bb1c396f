//! The one error type of redy-smtps.

use crate::Reply;

/// Why an SMTP session failed, or why a call was refused. Each names the cause; those that come
/// from the server carry its reply (code, enhanced code and text).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// TLS failed (certificate refused, alert, injection before the handshake, ...).
    #[error("TLS: {0}")]
    Tls(#[from] redy_tls::Error),
    /// STARTTLS is required but the server did not offer it or refused it.
    #[error("TLS could not be established: {why}")]
    TlsUnavailable {
        /// What the server did.
        why: String,
    },
    /// Credentials would have been sent without TLS.
    #[error("refusing to send credentials without TLS")]
    CredentialsWithoutTls,
    /// The server offers no AUTH mechanism redy can use with the given credentials.
    #[error("the server offers no usable AUTH mechanism (offered: {offered})")]
    NoAuthMechanism {
        /// What it offered.
        offered: String,
    },
    /// The server refused the credentials.
    #[error("authentication failed: {0}")]
    AuthFailed(Reply),
    /// The server refused the connection or a session command.
    #[error("server refused: {0}")]
    Refused(Reply),
    /// The server answered with a code that makes no sense here.
    #[error("unexpected reply {reply} while waiting for {waiting_for}")]
    UnexpectedReply {
        /// The reply.
        reply: Reply,
        /// What we were waiting for.
        waiting_for: &'static str,
    },
    /// A reply line longer than [`crate::reply::MAX_LINE`].
    #[error("reply line longer than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A reply longer than [`crate::reply::MAX_REPLY`] bytes or [`crate::reply::MAX_LINES`] lines.
    #[error("reply longer than {limit} bytes or {lines} lines")]
    ReplyTooLong {
        /// Byte limit.
        limit: usize,
        /// Line limit.
        lines: usize,
    },
    /// A reply line that is not `NNN[ -]text`.
    #[error("malformed reply line {0:?}")]
    MalformedReply(String),
    /// The lines of a multiline reply had different codes.
    #[error("multiline reply changed code from {first} to {then}")]
    InconsistentCodes {
        /// The first line's code.
        first: u16,
        /// The differing code.
        then: u16,
    },
    /// The server sent bytes nobody asked for.
    #[error("server sent {0} bytes when no reply was expected")]
    UnsolicitedData(usize),
    /// The server did not answer in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The connection ended early.
    #[error("connection closed by the server while waiting for {0}")]
    ConnectionClosed(&'static str),
    /// An address that could break the protocol.
    #[error("invalid address {address:?}: {why}")]
    InvalidAddress {
        /// The address, escaped.
        address: String,
        /// What is wrong.
        why: String,
    },
    /// The message is larger than the server's announced SIZE limit.
    #[error("message of {size} bytes exceeds the server's limit of {limit} bytes")]
    TooLarge {
        /// The message size.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
    /// The server lacks an extension the message needs.
    #[error("the server does not support {0}, which this message needs")]
    Unsupported(&'static str),
    /// A call made in a state where it cannot be honoured.
    #[error("cannot {action} now: {state}")]
    NotNow {
        /// What was asked.
        action: &'static str,
        /// The session's state.
        state: &'static str,
    },
}
