//! Errors: [`Error`] ends the session, [`OpError`] only the operation.

use crate::codec::CodecError;
use crate::codec::listing::ListingError;
use crate::codec::reply::Reply;

/// Why the session ended, or why a call was refused.
///
/// Errors other than [`Error::Usage`] and [`Error::Argument`] are sticky: every later call
/// returns the same error. Those two only refuse the call.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// TLS failed on the control connection (certificate, handshake, alert...).
    #[error("control connection TLS: {0}")]
    Tls(#[from] redy_tls::Error),
    /// The server's bytes on the control connection are not FTP replies.
    #[error("control connection: {0}")]
    Codec(#[from] CodecError),
    /// The server refused a step of the session set-up (greeting, `AUTH TLS`, login, `PBSZ`,
    /// `PROT`...).
    #[error("{step} refused: {reply}")]
    Refused {
        /// The step.
        step: &'static str,
        /// The server's reply.
        reply: Reply,
    },
    /// The server sent a reply nobody asked for, or one that makes no sense where it came.
    #[error("unexpected reply while {waiting}: {reply}")]
    UnexpectedReply {
        /// What the client was waiting for.
        waiting: &'static str,
        /// The reply.
        reply: Reply,
    },
    /// The server closes the session (`421`).
    #[error("server closed the session: {0}")]
    ServiceClosing(Reply),
    /// The control connection ended.
    #[error("control connection closed while {0}")]
    ConnectionClosed(&'static str),
    /// A deadline passed.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// A call that does not fit the session's state (the session is not harmed).
    #[error("invalid call: {0}")]
    Usage(&'static str),
    /// An argument that cannot be sent, such as a path with CR or LF (the session is not
    /// harmed).
    #[error("invalid argument: {0}")]
    Argument(CodecError),
}

/// Why one operation failed. The session stays usable.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The server refused it; its code and text.
    #[error("server refused: {0}")]
    Refused(Reply),
    /// A reply the operation cannot use (a `SIZE` that is not a number...).
    #[error("unusable reply: {0}")]
    BadReply(Reply),
    /// The data connection failed.
    #[error("data connection: {0}")]
    Data(#[from] DataError),
    /// The caller aborted the transfer.
    #[error("aborted")]
    Aborted,
}

/// Why a data connection failed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The server requires data connections to reuse the control connection's TLS session
    /// and refused this one (vsftpd answers `522`; proftpd drops the connection during the
    /// handshake).
    #[error("the server requires TLS session reuse on data connections and refused this one: {0}")]
    ReuseRequired(String),
    /// TLS failed on the data connection.
    #[error("TLS: {0}")]
    Tls(redy_tls::Error),
    /// The connection ended without TLS close_notify: the data may be cut short.
    #[error(
        "connection ended without TLS close_notify after {bytes} bytes: the transfer may be truncated"
    )]
    Truncated {
        /// Bytes received.
        bytes: u64,
    },
    /// The connection ended before the transfer completed.
    #[error("connection closed before the transfer completed")]
    Closed,
    /// The caller could not connect or accept.
    #[error("could not connect: {0}")]
    Connect(String),
    /// A `PASV`/`EPSV` reply without a usable address.
    #[error("bad passive reply: {0}")]
    Address(CodecError),
    /// An active-mode connection came from another host than the server.
    #[error("active connection from {0}, not from the server")]
    ForeignPeer(std::net::SocketAddr),
    /// A listing line too long to frame.
    #[error("listing: {0}")]
    Listing(ListingError),
    /// Nothing moved for too long, or the connection took too long to open.
    #[error("timed out: {0}")]
    Timeout(&'static str),
}
