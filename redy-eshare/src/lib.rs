//! Sans-IO HTTP/1.1 over TLS and eShare for redy.
//!
//! - [`http`]: the HTTP/1.1 server machine on a `redy-tls` session (bounded heads, streamed
//!   bodies, keep-alive, `100-continue`, request-smuggling defences). The client machine is to
//!   come.
//! - eShare (to come): the devices of one domain publishing named values to each other over
//!   HTTPS, each site judged by its own trust policy, with bounded outboxes, retries on
//!   deadlines and per-site diffusion counters.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod http;
