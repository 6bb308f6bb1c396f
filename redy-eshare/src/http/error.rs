//! Errors of the HTTP/1.1 machines: every refusal is typed and says why.

/// A head (request or status line plus header fields) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// No end of head (CRLFCRLF) within the head limit.
    #[error("head larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// More header fields than allowed.
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// A LF not preceded by CR.
    #[error("bare LF in head at byte {at}")]
    BareLf {
        /// Offset in the head.
        at: usize,
    },
    /// A CR not followed by LF.
    #[error("bare CR in head at byte {at}")]
    BareCr {
        /// Offset in the head.
        at: usize,
    },
    /// A header line starting with space or tab (obsolete line folding, RFC 9112 section 5.2).
    #[error("obsolete line folding in head at byte {at}")]
    ObsFold {
        /// Offset in the head.
        at: usize,
    },
    /// The parser refused the syntax (invalid token, header name or value bytes, version...).
    #[error("malformed head: {0}")]
    Syntax(String),
    /// The method, target or reason is not valid UTF-8 / ASCII as required.
    #[error("non-text bytes in {0}")]
    NotText(&'static str),
    /// Content-Length and Transfer-Encoding together (request smuggling vector).
    #[error("Content-Length together with Transfer-Encoding")]
    LengthWithTransferEncoding,
    /// More than one Content-Length field or value.
    #[error("duplicate Content-Length")]
    DuplicateContentLength,
    /// Content-Length not a plain decimal number.
    #[error("invalid Content-Length {0:?}")]
    InvalidContentLength(String),
    /// Transfer-Encoding other than exactly `chunked`.
    #[error("unsupported Transfer-Encoding {0:?} (only \"chunked\" is accepted)")]
    UnsupportedTransferEncoding(String),
    /// The declared body is larger than the body limit.
    #[error("body of {declared} bytes is larger than the limit of {limit}")]
    BodyTooLarge {
        /// Declared length.
        declared: u64,
        /// The limit.
        limit: u64,
    },
}

/// A chunked body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkedError {
    /// A chunk size with no hex digit, or a non-hex byte in it.
    #[error("invalid chunk size byte {0:#04x}")]
    InvalidSize(u8),
    /// More hex digits than fit in 64 bits.
    #[error("chunk size too long")]
    SizeTooLong,
    /// Chunk extension longer than its limit.
    #[error("chunk extension longer than {limit} bytes")]
    ExtensionTooLong {
        /// The limit.
        limit: usize,
    },
    /// A control byte inside a chunk extension.
    #[error("invalid byte {0:#04x} in chunk extension")]
    InvalidExtension(u8),
    /// Chunk data not followed by CRLF, or a CR without LF.
    #[error("missing CRLF in chunked framing")]
    MissingCrlf,
    /// The trailer section is larger than its limit.
    #[error("trailer longer than {limit} bytes")]
    TrailerTooLong {
        /// The limit.
        limit: usize,
    },
    /// The decoded body is larger than the body limit.
    #[error("chunked body larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: u64,
    },
}

/// A fatal error of an HTTP machine; sticky: after it nothing more is emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The peer's head was refused.
    #[error("head refused: {0}")]
    Head(#[from] HeadError),
    /// The peer's chunked body was refused.
    #[error("chunked body refused: {0}")]
    Chunked(#[from] ChunkedError),
    /// The TLS layer failed.
    #[error("TLS: {0}")]
    Tls(#[from] redy_tls::Error),
    /// A timeout fired.
    #[error("{0} timeout")]
    Timeout(&'static str),
    /// The input ended in the middle of a message (or without close_notify on TLS).
    #[error("connection ended in the middle of a message")]
    Truncated,
    /// The caller used the machine out of order (e.g. a body without a response head).
    #[error("misuse: {0}")]
    Misuse(&'static str),
}
