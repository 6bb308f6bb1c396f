//! Sans-IO SMTP submission for redy (work in progress).
//!
//! - [`message`]: builds RFC 5322 / MIME messages as a bounded stream of bytes;
//! - [`providers`]: the manual's table of mail providers, as data.
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
