//! Sans-IO HTTP/1.1 over TLS and eShare for redy.
//!
//! - [`http`]: the Sans-IO HTTP/1.1 client and server machines: bounded heads parsed with
//!   request-smuggling defences, chunked and Content-Length bodies streamed with backpressure,
//!   keep-alive, `Expect: 100-continue`, and head/body/idle timeouts.
//! - [`share`]: eShare — the devices of one domain publishing named values to each other over
//!   HTTPS: the domain table (one HTTPS port, a trust policy per site, diffusion counters), the
//!   versioned wire format "eShare v1" (JSON over `POST /eshare/v1/batches`, status as JSON and
//!   HTML), bounded per-site outboxes retried with backoff on deadlines, and the Sans-IO
//!   [`share::Node`] that the glue drives: it hands out HTTP requests to make and answers the
//!   requests received, without sockets, threads or clocks of its own.
//!
//! eShare does not depend on the HTTP machines: the glue joins them — `redy_examples::eshare`
//! on tokio (the `eshare-node` binary), whose per-connection request handling
//! (`redy_examples::eshare::exchange`) shows the few calls a driver for another runtime makes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod http;
pub mod share;
