//! Sans-IO FTPS for redy.
//!
//! Here now: [`codec`], the one FTP codec the client and the server share — replies (RFC 959
//! multiline rules), commands (parsed by the server, encoded by the client, never letting a path
//! smuggle a second command), and PASV / EPSV / PORT / EPRT addresses.
//!
//! To come, on `redy-tls` sessions (their own issues):
//! - a client for implicit FTPS (control port 990, data port 989) and explicit `AUTH TLS`,
//!   whose data channels resume the control channel's TLS session, with streaming transfers;
//! - a server that real clients (curl, lftp, FileZilla, Python's ftplib) use, requiring data
//!   connections to resume the control session, with storage and authentication left to the
//!   caller.
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

pub mod codec;
pub mod server;
