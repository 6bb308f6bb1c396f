//! Sans-IO HTTP/1.1 on a `redy-tls` session: heads framed and bounded, then parsed with
//! `httparse`; bodies by `Content-Length` or chunked, streamed in bounded pieces; keep-alive;
//! `Expect: 100-continue`; deadlines; and the request-smuggling defences of RFC 9112 (no
//! `Content-Length` with `Transfer-Encoding`, no duplicate or list `Content-Length`, `chunked`
//! as the only coding, no obsolete line folding, no bare CR or LF, strict chunk sizes).
//!
//! [`HttpServer`] is one server connection. Like every redy machine it does no I/O and reads
//! no clock: feed it received bytes with [`HttpServer::receive`], write what
//! [`HttpServer::transmit`] shows, drain [`HttpServer::poll_event`], and call
//! [`HttpServer::handle_timeout`] at [`HttpServer::poll_timeout`].
//!
//! Limits ([`Limits`], defaults): head 16 KiB, 64 header lines, body 16 MiB, chunk-size line
//! 256 bytes, trailers 4 KiB, 64 KiB of decoded body held for the caller. Deadlines
//! ([`Timeouts`]): 10 s for a head, 30 s between body pieces, 60 s idle between requests.
//!
//! ```
//! use std::time::Instant;
//! use redy_eshare::http::{BodyLength, HttpServer, Limits, Link, ResponseHead, ServerEvent, Timeouts};
//!
//! let now = Instant::now();
//! // Clear text to keep the example short; `Link::Tls(session)` in real use.
//! let mut server = HttpServer::new(Link::insecure_plain(), Limits::default(), Timeouts::default(), now);
//! server.receive(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", now)?;
//! assert!(matches!(server.poll_event(), Some(ServerEvent::Request(r)) if r.target == "/echo"));
//! assert_eq!(server.poll_event(), Some(ServerEvent::Body));
//! let body = server.body().to_vec();
//! server.consume_body(body.len(), now);
//! server.respond(ResponseHead::new(200), BodyLength::Known(body.len() as u64), now)?;
//! server.send_body(&body, now)?;
//! server.finish_body(now)?;
//! let wire = server.transmit().to_vec();
//! assert!(wire.starts_with(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
//! # Ok::<(), redy_eshare::http::HttpError>(())
//! ```

mod chunked;
mod error;
mod head;
mod limits;
mod link;
mod server;

pub use chunked::{ChunkedDecoder, LAST_CHUNK, Piece, chunk_header};
pub use error::HttpError;
pub use head::{
    BodyLength, Headers, RequestHead, ResponseHead, frame, keep_alive, parse_request,
    parse_response, reason, request_body, response_body,
};
pub use limits::{Limits, Timeouts};
pub use link::Link;
pub use server::{HttpServer, ServerEvent};
