//! Sans-IO SMTP submission for redy (work in progress).
//!
//! - [`message`]: builds RFC 5322 / MIME messages as a bounded stream of bytes;
//! - [`providers`]: the manual's table of mail providers, as data.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod message;
pub mod providers;
