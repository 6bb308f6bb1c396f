//! Sans-IO HTTP/1.1 over TLS and eShare for redy.
//!
//! [`http`] holds the Sans-IO HTTP/1.1 client and server machines: bounded heads parsed with
//! request-smuggling defences, chunked and Content-Length bodies streamed with backpressure,
//! keep-alive, `Expect: 100-continue`, and head/body/idle timeouts.
//!
//! eShare itself (to come): the devices of one domain publishing named values to each other over
//! HTTPS, each site judged by its own trust policy, with bounded outboxes, retries on deadlines
//! and per-site diffusion counters.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod http;
