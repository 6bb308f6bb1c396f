//! Size and time limits of the HTTP/1.1 machines, each with a documented default.

use std::time::Duration;

/// Default largest head (request or status line plus header fields, with the final CRLFCRLF).
pub const DEFAULT_MAX_HEAD: usize = 16 * 1024;
/// Default largest number of header fields in one head.
pub const DEFAULT_MAX_HEADERS: usize = 64;
/// Default largest body (decoded bytes), 64 MiB.
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;
/// Default largest chunk-size line after the hex digits (extensions and whitespace).
pub const DEFAULT_MAX_CHUNK_EXT: usize = 256;
/// Largest number of hex digits in a chunk size (16 digits fill a `u64`).
pub const MAX_CHUNK_SIZE_DIGITS: usize = 16;
/// Default largest trailer section of a chunked body.
pub const DEFAULT_MAX_TRAILER: usize = 4 * 1024;

/// Bounds applied to everything a peer sends.
/// Build with struct update syntax: `Limits { max_body: 1 << 20, ..Limits::default() }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest head in bytes ([`DEFAULT_MAX_HEAD`]); a larger head is refused (431 on a server).
    pub max_head: usize,
    /// Largest number of header fields ([`DEFAULT_MAX_HEADERS`]).
    pub max_headers: usize,
    /// Largest body in decoded bytes ([`DEFAULT_MAX_BODY`]); larger is refused (413).
    pub max_body: u64,
    /// Largest chunk extension (bytes after the size digits, [`DEFAULT_MAX_CHUNK_EXT`]).
    pub max_chunk_ext: usize,
    /// Largest trailer section ([`DEFAULT_MAX_TRAILER`]).
    pub max_trailer: usize,
    /// Time allowed to receive a whole head once its first byte is expected (default 30 s).
    pub head_timeout: Duration,
    /// Longest silence between body bytes (default 30 s).
    pub body_timeout: Duration,
    /// Longest idle time of a kept-alive connection between requests (default 60 s).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head: DEFAULT_MAX_HEAD,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body: DEFAULT_MAX_BODY,
            max_chunk_ext: DEFAULT_MAX_CHUNK_EXT,
            max_trailer: DEFAULT_MAX_TRAILER,
            head_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        }
    }
}
