//! The one TLS session of redy: Sans-IO, over rustls 0.23, used by every redy protocol.
//!
//! ```text
//!             receive(bytes) ───►┌──────────────┐───► plaintext() / consume(n)
//!          receive_eof()    ───►│  TlsSession  │───► poll_event(): HandshakeComplete,
//!  transport                    │ (client or   │                   PeerClosed, Truncated
//!             transmit()/advance◄│   server)    │◄─── send(plaintext) -> taken
//!                                └──────────────┘◄─── close()   (queues close_notify)
//!
//!   new ──handshake──► established ──close_notify in──► PeerClosed ─┐
//!    │                      │      ──EOF, no close_notify──► Truncated
//!    └──── any error ───────┴──► failed (sticky; transmit() still carries the alert)
//! ```
//!
//! No sockets, threads or clocks: the caller moves the bytes. Configurations are built from a
//! [`redy_certs::TrustPolicy`] and an [`redy_certs::Identity`]; each configuration is a
//! resumption scope (see [`ClientConfig::new_scope`]). Sessions started by STARTTLS or
//! `AUTH TLS` come from [`TlsSession::client_upgrade`] / [`TlsSession::server_upgrade`], which
//! refuse bytes that arrived before the handshake. [`PlainStream`] has the same byte-moving
//! methods for clear text: before such an upgrade, and under insecure opt-ins.
//!
//! rustls is an implementation detail: no rustls type appears in this crate's API, so moving to
//! a later rustls stays inside this crate.
//!
//! ```
//! use std::time::SystemTime;
//! use redy_certs::{DeviceCa, TrustPolicy};
//! use redy_tls::{ClientConfig, Event, ServerConfig, TlsSession};
//!
//! let now = SystemTime::now();
//! let ca = DeviceCa::generate(&"12345-67890".parse()?, now)?;
//! let identity = ca.issue_server_certificate(&["redy.local".parse()?], now)?;
//!
//! let server_config = ServerConfig::builder(identity).build()?;
//! let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
//! let client_config = ClientConfig::builder(trust).build()?;
//!
//! let mut client = TlsSession::client(&client_config, "redy.local")?;
//! let mut server = TlsSession::server(&server_config)?;
//! client.send(b"hello")?; // leaves once the handshake is done
//!
//! // The "transport": move bytes both ways until neither side has anything to say.
//! loop {
//!     let c = client.transmit().to_vec();
//!     client.advance(c.len());
//!     server.receive(&c)?;
//!     let s = server.transmit().to_vec();
//!     server.advance(s.len());
//!     client.receive(&s)?;
//!     if c.is_empty() && s.is_empty() { break; }
//! }
//! assert!(matches!(client.poll_event(), Some(Event::HandshakeComplete(_))));
//! assert_eq!(server.plaintext()?, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Known upstream issue (rustls 0.23, rustls/rustls#959): after a session sent close_notify, a
//! malformed record from the peer trips a `debug_assert!` inside rustls, so a **debug** build
//! panics where a release build returns the error. `cargo fuzz` builds in release mode without
//! debug assertions by default; do not add `--debug-assertions` for targets on the TLS path.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod error;
mod plain;
mod session;
mod store;
mod verify;

pub use config::{
    CLIENT_SCOPE_SESSIONS, ClientAuth, ClientConfig, ClientConfigBuilder, Provider,
    SERVER_SCOPE_SESSIONS, ServerConfig, ServerConfigBuilder, TlsVersion,
};
pub use error::{CertificateError, Error};
pub use plain::{PLAIN_RECEIVE_LIMIT, PlainStream};
pub use session::{Event, HandshakeInfo, SEND_BUFFER_LIMIT, TlsSession};

/// The certificate and trust types every redy protocol takes, re-exported for convenience.
pub use redy_certs;
