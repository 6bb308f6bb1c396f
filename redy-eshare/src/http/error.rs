//! What goes wrong on an HTTP connection, with the status a server answers for it.

/// Why a message or a connection was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The head is longer than [`Limits::head`](super::Limits::head).
    #[error("head longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// More header lines than [`Limits::headers`](super::Limits::headers).
    #[error("more than {limit} header lines")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// A CR not followed by LF, or an LF not preceded by CR, in a head or chunk line.
    #[error("bare CR or LF in {0}")]
    BareLineBreak(&'static str),
    /// A header line starting with a space or tab (obsolete line folding, RFC 9112 5.2).
    #[error("obsolete line folding in the header section")]
    ObsoleteFolding,
    /// The head does not parse as HTTP/1.x.
    #[error("malformed head: {0}")]
    Malformed(String),
    /// Content-Length and Transfer-Encoding together (a request-smuggling vector).
    #[error("both Content-Length and Transfer-Encoding")]
    LengthAndEncoding,
    /// More than one Content-Length, or a list.
    #[error("Content-Length given more than once")]
    DuplicateLength,
    /// A Content-Length that is not a plain decimal number.
    #[error("Content-Length is not a decimal number: {0:?}")]
    BadLength(String),
    /// A transfer coding other than `chunked` alone.
    #[error("unsupported Transfer-Encoding: {0:?}")]
    UnsupportedEncoding(String),
    /// A chunk-size line that is not hex digits and extensions, or too long.
    #[error("bad chunk: {0}")]
    BadChunk(&'static str),
    /// The body is longer than [`Limits::body`](super::Limits::body).
    #[error("body longer than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The peer ended the connection in the middle of a message.
    #[error("connection ended within {0}")]
    Truncated(&'static str),
    /// A deadline passed.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// TLS failed.
    #[error("TLS: {0}")]
    Tls(#[from] redy_tls::Error),
    /// The caller asked for something the connection cannot do now.
    #[error("not now: {0}")]
    Usage(&'static str),
    /// The caller gave an invalid head (a header the machine sets itself, a line break in a
    /// value, ...).
    #[error("invalid head from the caller: {0}")]
    Argument(String),
}

impl HttpError {
    /// The status a server answers a request refused for this reason, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::HeadTooLarge { .. } | Self::TooManyHeaders { .. } => Some(431),
            Self::BodyTooLarge { .. } => Some(413),
            Self::UnsupportedEncoding(_) => Some(501),
            Self::Timeout("a request head") => Some(408),
            Self::BareLineBreak(_)
            | Self::ObsoleteFolding
            | Self::Malformed(_)
            | Self::LengthAndEncoding
            | Self::DuplicateLength
            | Self::BadLength(_)
            | Self::BadChunk(_) => Some(400),
            _ => None,
        }
    }
}
