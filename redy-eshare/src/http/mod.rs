//! Sans-IO HTTP/1.1 building blocks: bounded head framing and parsing with request-smuggling
//! defences ([`head`]), chunked coding ([`chunked`]), limits ([`limits`]) and typed errors
//! ([`error`]).
//!
//! Heads are framed first (CRLFCRLF must appear within [`Limits::max_head`]; bare CR, bare LF
//! and obsolete line folding are refused while framing), then parsed by `httparse` into at
//! most [`Limits::max_headers`] fields. Body framing refuses Content-Length with
//! Transfer-Encoding, duplicate Content-Length, and any Transfer-Encoding other than exactly
//! `chunked`.

pub mod chunked;
pub mod client;
pub mod error;
pub mod head;
pub mod limits;
pub mod link;
pub mod server;

pub use chunked::{ChunkedDecoder, LAST_CHUNK, encode_chunk};
pub use client::{Client, ClientEvent};
pub use error::HttpError;
pub use error::{ChunkedError, HeadError};
pub use head::{BodyKind, Headers, RequestHead, ResponseHead};
pub use limits::Limits;
pub use link::Link;
pub use server::{Server, ServerEvent};
