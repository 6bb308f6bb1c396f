//! The bounds every connection keeps, and its deadlines.

use std::time::Duration;

/// What a connection accepts at most. Going past one is an error, never a growing buffer.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of a head: the request or status line, the header lines and the blank line
    /// (default 16 KiB; beyond it a server answers `431`).
    pub head: usize,
    /// Header lines in a head (default 64; beyond it `431`).
    pub headers: usize,
    /// Bytes of a body, whichever its framing (default 16 MiB; beyond it `413`).
    pub body: u64,
    /// Bytes of a chunk-size line, extensions included (default 256).
    pub chunk_line: usize,
    /// Bytes of the trailer section after the last chunk (default 4 KiB).
    pub trailers: usize,
    /// Decoded body bytes held for the caller before the connection stops reading
    /// (default 64 KiB).
    pub body_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            head: 16 * 1024,
            headers: 64,
            body: 16 * 1024 * 1024,
            chunk_line: 256,
            trailers: 4 * 1024,
            body_buffer: 64 * 1024,
        }
    }
}

/// How long a connection waits for its peer.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a head to its end (default 10 s; a server then answers `408`).
    pub head: Duration,
    /// Between two pieces of a body (default 30 s).
    pub body: Duration,
    /// An idle keep-alive connection, between messages (default 60 s; then it is closed).
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            head: Duration::from_secs(10),
            body: Duration::from_secs(30),
            idle: Duration::from_secs(60),
        }
    }
}
