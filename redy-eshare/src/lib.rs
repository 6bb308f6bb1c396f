//! Sans-IO HTTP/1.1 over TLS and eShare for redy — **skeleton**: the machines arrive with their
//! own issue.
//!
//! This crate will hold HTTP/1.1 client and server machines on `redy-tls` sessions (bounded
//! heads, streamed bodies, request-smuggling defences), and eShare: the devices of one domain
//! publishing named values to each other over HTTPS, each site judged by its own trust policy,
//! with bounded outboxes, retries on deadlines and per-site diffusion counters.
//!
//! [`http`] holds the Sans-IO HTTP/1.1 client and server machines: bounded heads parsed with
//! request-smuggling defences, chunked and Content-Length bodies streamed with backpressure,
//! keep-alive, `Expect: 100-continue`, and head/body/idle timeouts.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod http;
