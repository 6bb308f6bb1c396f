//! What redy's example binaries share: a blocking adapter that drives a [`TlsSession`] over any
//! `std::io` transport (a `TcpStream`, usually), and a blocking SMTP session ([`smtp`]). It lives here, not in the protocol crates, which
//! do no I/O of their own.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blocking;
pub mod cli;
pub mod eshare;
pub mod ftp;
pub mod ftp_server;
pub mod smtp;

pub use redy_tls::TlsSession;
