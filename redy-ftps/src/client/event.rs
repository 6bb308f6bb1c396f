//! What the client asks of its caller ([`Action`]) and reports ([`Event`]).

use std::net::SocketAddr;

use redy_tls::HandshakeInfo;

use super::OpError;
use crate::codec::listing::{Entry, ListingError, Timestamp};
use crate::codec::reply::Reply;

/// A connection of the session: the control connection, or data connection `n` (numbered from
/// 1 in the order the client asked for them; a number is never reused).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The control connection the session was started on.
    Control,
    /// A data connection.
    Data(u64),
}

/// Something the caller must do with its transports; see
/// [`FtpClient::poll_action`](super::FtpClient::poll_action).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection to `addr` for `channel`, then report it with
    /// [`connected`](super::FtpClient::connected) (or the failure with
    /// [`connect_failed`](super::FtpClient::connect_failed)).
    Connect {
        /// The data connection.
        channel: Channel,
        /// Where to connect.
        addr: SocketAddr,
    },
    /// Active mode: listen for the server's data connection, report the address with
    /// [`listening`](super::FtpClient::listening), then the accepted connection with
    /// [`connected`](super::FtpClient::connected).
    Listen {
        /// The data connection.
        channel: Channel,
    },
    /// Everything for `channel` has been handed over by `transmit`: shut down its sending
    /// side (TCP FIN) but keep delivering what arrives.
    Shutdown {
        /// The connection.
        channel: Channel,
    },
    /// Close `channel` (and its listener, in active mode); the client neither reads nor
    /// writes it any more.
    Close {
        /// The connection.
        channel: Channel,
    },
}

/// How a directory is listed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// `LIST`: Unix `ls -l` or DOS lines, parsed.
    List,
    /// `MLSD` (RFC 3659): machine-readable facts.
    Mlsd,
    /// `NLST`: names only.
    Names,
}

/// Something the client reports; see [`FtpClient::poll_event`](super::FtpClient::poll_event).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The control connection's TLS handshake completed.
    TlsEstablished(HandshakeInfo),
    /// Logged in, protection and binary type set: operations run from now on.
    Ready,
    /// Operation `id`'s data connection completed its TLS handshake; `info.resumed` tells
    /// whether it resumed the control connection's TLS session.
    DataTls {
        /// The operation.
        id: u64,
        /// The handshake.
        info: HandshakeInfo,
    },
    /// An upload's data connection is open: write with
    /// [`write_data`](super::FtpClient::write_data).
    SendData {
        /// The operation.
        id: u64,
    },
    /// A download's data waits in [`received`](super::FtpClient::received).
    DataReceived {
        /// The operation.
        id: u64,
    },
    /// One entry of a `LIST` or `MLSD` listing.
    Entry {
        /// The operation.
        id: u64,
        /// The entry.
        entry: Entry,
    },
    /// One name of an `NLST` listing.
    Name {
        /// The operation.
        id: u64,
        /// The name, lossy UTF-8.
        name: String,
    },
    /// A listing line that could not be parsed; the listing goes on.
    BadEntry {
        /// The operation.
        id: u64,
        /// Why.
        error: ListingError,
    },
    /// Operation `id` completed.
    Done {
        /// The operation.
        id: u64,
        /// What it gave.
        outcome: Outcome,
    },
    /// Operation `id` failed; the session goes on with the next one.
    Failed {
        /// The operation.
        id: u64,
        /// Why.
        error: OpError,
    },
    /// The server answered `QUIT`; the control connection is being closed.
    Closed,
}

/// What a completed operation gave.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server's final reply (CWD, MKD, DELE, RNTO, NOOP, SYST...).
    Reply(Reply),
    /// A transfer or listing: the server's final reply and the bytes that crossed the data
    /// connection (file bytes after the restart offset, or listing bytes).
    Transferred {
        /// The final reply (`226` or `250`).
        reply: Reply,
        /// Bytes moved.
        bytes: u64,
    },
    /// `SIZE`.
    Size(u64),
    /// `MDTM`.
    Modified(Timestamp),
    /// `PWD` (or `MKD`'s `257`): the quoted path.
    Path(String),
    /// `MLST`: the entry.
    Entry(Entry),
}
