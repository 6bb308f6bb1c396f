//! Sans-IO HTTP/1.1 client and server machines over a [`Link`]: a `redy-tls` session, or
//! clear text under the explicitly insecure [`Link::insecure_plain`] (tests and fuzzing).
//!
//! The caller moves bytes, exactly as with the FTPS and SMTPS machines: transport input goes
//! into `receive(data, now)` / `receive_eof(now)`, `transmit()` shows what to write (then
//! `advance(n)`), `poll_event()` reports, `poll_timeout()` / `handle_timeout(now)` run the
//! head, body and keep-alive idle timeouts of [`Limits`]. Received bodies come out in slices of
//! at most [`server::BODY_SLICE`] bytes through `body()` / `consume_body(n, now)`; bodies sent
//! go through `write_body(data) -> accepted` (0 while the send buffer is full).
//!
//! Heads are framed first (CRLFCRLF within [`Limits::max_head`]; bare CR, bare LF and obsolete
//! line folding are refused while framing), then parsed by `httparse` into at most
//! [`Limits::max_headers`] fields. Body framing refuses Content-Length with
//! Transfer-Encoding, duplicate Content-Length, and any Transfer-Encoding other than exactly
//! `chunked`. A refused request is answered 400 (413, 431 for limits) with `Connection: close`.
//!
//! ```text
//! server, per connection:
//!
//!   ┌──────────── idle (idle_timeout: close quietly) ◄─────────────────────────┐
//!   │ first byte                                                               │
//!   ▼                                                                          │
//! head (head_timeout) ──refused──► 400/413/431 + Connection: close ──► Error   │
//!   │ Request event (100 Continue sent if expected)                           │
//!   ▼                                                                          │
//! body (body_timeout between bytes): BodyData… BodyEnd                        │
//!   │            respond() / write_body() / finish_body() (any time after the │
//!   ▼            Request event)                                               │
//! request and response complete ──keep-alive──────────────────────────────────┘
//!                              └──Connection: close / HTTP/1.0──► Closed
//! ```
//!
//! An in-memory exchange (clear text here; the tests run the same over TLS):
//!
//! ```
//! use std::time::Instant;
//! use redy_eshare::http::{Client, ClientEvent, Headers, Limits, Link, Server, ServerEvent};
//!
//! let now = Instant::now();
//! let mut client = Client::new(Link::insecure_plain(), Limits::default(), now);
//! let mut server = Server::new(Link::insecure_plain(), Limits::default(), now);
//! client.send_request("POST", "/echo", &Headers::new(), Some(5))?;
//! assert_eq!(client.write_body(b"hello")?, 5);
//!
//! let wire = client.transmit().to_vec();
//! client.advance(server.receive(&wire, now));
//! assert!(matches!(server.poll_event(), Some(ServerEvent::Request(r)) if r.target == "/echo"));
//! let body = server.body().to_vec();
//! server.consume_body(body.len(), now);
//! server.respond(200, "OK", &Headers::new(), None)?; // chunked
//! server.write_body(&body)?;
//! server.finish_body()?;
//!
//! let wire = server.transmit().to_vec();
//! server.advance(client.receive(&wire, now));
//! assert!(matches!(client.poll_event(), Some(ClientEvent::Response(r)) if r.status == 200));
//! assert_eq!(client.body(), b"hello");
//! # Ok::<(), redy_eshare::http::HttpError>(())
//! ```

pub mod chunked;
pub mod client;
pub mod error;
pub mod head;
pub mod limits;
pub mod link;
pub mod server;
mod transport;

pub use chunked::{ChunkedDecoder, LAST_CHUNK, encode_chunk};
pub use client::{Client, ClientEvent};
pub use error::HttpError;
pub use error::{ChunkedError, HeadError};
pub use head::{BodyKind, Headers, RequestHead, ResponseHead};
pub use limits::Limits;
pub use link::Link;
pub use server::{Server, ServerEvent};
