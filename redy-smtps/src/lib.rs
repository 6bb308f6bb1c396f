//! Sans-IO SMTP submission for redy: implicit TLS (465) and STARTTLS (587) on the redy-tls
//! session, with the message builder and the manual's provider table.
//!
//! - [`SmtpClient`] ([`client`]): one machine per connection — greeting, EHLO, STARTTLS that
//!   refuses injected bytes and never falls back to clear text unless asked, AUTH only over TLS,
//!   pipelined envelopes, per-recipient results, streamed dot-stuffed bodies, RFC 5321 deadlines;
//! - [`reply`]: bounded framing and nom parsing of replies; [`Capabilities`] from EHLO;
//! - [`message`]: RFC 5322 / MIME messages streamed in bounded pieces (attachments never whole);
//! - [`providers`]: Orange, SFR, Free, Gmail, … as data.
//!
//! The caller moves bytes and passes the time; here the "server" is typed in by hand:
//!
//! ```
//! use std::time::Instant;
//! use redy_certs::TrustPolicy;
//! use redy_smtps::{Envelope, Event, Security, SmtpClient, SmtpConfig};
//!
//! let tls = redy_tls::ClientConfig::builder(TrustPolicy::WebPkiRoots).build()?;
//! let config = SmtpConfig::new(Security::InsecurePlainForLocalTests, tls, "localhost");
//! let now = Instant::now();
//! let mut client = SmtpClient::new(config, now)?;
//!
//! let mut exchange = |client: &mut SmtpClient, server: &[u8]| -> Result<Vec<u8>, redy_smtps::Error> {
//!     client.receive(server, now)?;
//!     let sent = client.transmit().to_vec();
//!     client.advance(sent.len());
//!     Ok(sent)
//! };
//! assert_eq!(exchange(&mut client, b"220 mail.example ESMTP\r\n")?, b"EHLO localhost\r\n");
//! exchange(&mut client, b"250-mail.example\r\n250 PIPELINING\r\n")?;
//! assert!(matches!(client.poll_event(), Some(Event::Ready(caps)) if caps.pipelining));
//!
//! let envelope = Envelope::new("device@example.com".parse()?, vec!["ops@example.com".parse()?]);
//! client.start_mail(&envelope, now)?;
//! let flight = exchange(&mut client, b"")?;
//! assert_eq!(flight, b"MAIL FROM:<device@example.com>\r\nRCPT TO:<ops@example.com>\r\nDATA\r\n");
//! exchange(&mut client, b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n")?;
//! client.write_body(b"Subject: hi\r\n\r\n.leading dot\r\n", now)?;
//! client.finish_body(now)?;
//! assert_eq!(exchange(&mut client, b"")?, b"Subject: hi\r\n\r\n..leading dot\r\n.\r\n");
//! exchange(&mut client, b"250 2.0.0 Ok: queued as 42\r\n")?;
//! let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
//! assert!(matches!(events.last(), Some(Event::Sent { reply, .. }) if reply.code() == 250));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod body;
mod capabilities;
pub mod client;
mod error;
pub mod message;
pub mod providers;
pub mod reply;

pub use address::{Address, MAX_ADDRESS};
pub use body::{BodyEncoder, unstuff};
pub use capabilities::{Capabilities, Mechanism};
pub use client::{
    Credentials, Dsn, DsnNotify, DsnReturn, Envelope, Event, Security, SmtpClient, SmtpConfig,
};
pub use error::Error;
pub use reply::{EnhancedCode, Reply, ReplyParser};
