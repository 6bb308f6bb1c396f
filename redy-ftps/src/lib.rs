//! Sans-IO FTPS for redy — **skeleton**: the client and server state machines arrive with their
//! own issues.
//!
//! This crate will hold, on `redy-tls` sessions:
//! - a client for implicit FTPS (control port 990, data port 989) and explicit `AUTH TLS`,
//!   whose data channels resume the control channel's TLS session, with streaming transfers;
//! - a server that real clients (curl, lftp, FileZilla, Python's ftplib) use, requiring data
//!   connections to resume the control session, with storage and authentication left to the
//!   caller;
//! - one FTP command and reply codec shared by both.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
