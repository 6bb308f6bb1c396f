//! Sans-IO FTPS for redy.
//!
//! - [`codec`], the one FTP codec the client and the server share — replies (RFC 959
//!   multiline rules), commands (parsed by the server, encoded by the client, never letting a
//!   path smuggle a second command), PASV / EPSV / PORT / EPRT addresses, listings;
//! - [`server`], a Sans-IO FTPS server session (implicit 990/989 and explicit `AUTH TLS`) that
//!   real clients (curl, lftp, Python's ftplib) use: data connections must resume the control
//!   session, paths are confined before any request leaves it, storage and authentication are
//!   the caller's (`examples/src/ftp_server/` drives it over `std::net` with a filesystem).
//!
//! To come, on `redy-tls` sessions (its own issue): a client for implicit FTPS (control port
//! 990, data port 989) and explicit `AUTH TLS`, whose data channels resume the control
//! channel's TLS session, with streaming transfers.
//!
//! ```
//! use redy_ftps::codec::command::Command;
//! use redy_ftps::codec::reply::ReplyParser;
//!
//! assert_eq!(Command::Retr("journal.csv".into()).encode()?, b"RETR journal.csv\r\n");
//! assert!(Command::Retr("x\r\nDELE y".into()).encode().is_err());
//!
//! let mut parser = ReplyParser::default();
//! let (_, reply) = parser.feed(b"211-Features:\r\n EPSV\r\n PROT\r\n211 End\r\n")?;
//! assert_eq!(reply.map(|r| r.lines().len()), Some(4));
//! # Ok::<(), redy_ftps::codec::CodecError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod codec;
pub mod server;
