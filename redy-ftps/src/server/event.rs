//! What the session reports (events, for logging) and asks the transport to do (actions).

use std::fmt;
use std::net::SocketAddr;

use redy_tls::HandshakeInfo;

use super::VirtualPath;

/// The connections of a session: the control connection and its (at most one) data
/// connection.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The control connection.
    Control,
    /// The current data connection.
    Data,
}

/// Names one data connection (a passive listener and what it accepts, or an active connect),
/// so that reports about an earlier one are told apart and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataId(pub(crate) u64);

impl fmt::Display for DataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data#{}", self.0)
    }
}

/// Something the transport must do; see [`super::ServerSession::poll_action`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Bind a TCP listener for a passive data connection, on the control connection's local
    /// address and a free port of [`super::FtpServerConfig::passive_ports`], then report it
    /// with [`super::ServerSession::listening`] (or
    /// [`super::ServerSession::data_failed`]). Report what it accepts with
    /// [`super::ServerSession::data_accepted`].
    Listen {
        /// The data connection.
        id: DataId,
    },
    /// Connect to the client for an active data connection (PORT/EPRT), then report with
    /// [`super::ServerSession::data_connected`] (or [`super::ServerSession::data_failed`]).
    Connect {
        /// The data connection.
        id: DataId,
        /// The client's address (always the control connection's peer IP).
        to: SocketAddr,
        /// The local port to connect from, if configured (989 in implicit mode).
        from_port: Option<u16>,
    },
    /// Close the data connection and its listener, if any, after writing what
    /// [`super::ServerSession::transmit`] still shows for [`Channel::Data`].
    CloseData {
        /// The data connection.
        id: DataId,
    },
    /// Close the control connection, after writing what
    /// [`super::ServerSession::transmit`] still shows for [`Channel::Control`]. The session
    /// is over.
    CloseControl,
}

/// What a transfer moves.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferKind {
    /// `RETR`.
    Download,
    /// `STOR` or `APPE`.
    Upload,
    /// `LIST`, `NLST` or `MLSD`.
    Listing,
}

impl fmt::Display for TransferKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Download => "download",
            Self::Upload => "upload",
            Self::Listing => "listing",
        })
    }
}

/// What the session reports, for logging and for the caller's bookkeeping.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// TLS is up on a connection.
    TlsEstablished {
        /// Which connection.
        channel: Channel,
        /// What the handshake settled on (`resumed` for data connections).
        info: HandshakeInfo,
    },
    /// A command arrived (the `PASS` argument is never shown).
    Command(String),
    /// A reply was queued.
    Replied {
        /// The code.
        code: u16,
        /// The first line's text.
        text: String,
    },
    /// A user logged in.
    LoggedIn {
        /// The user name.
        user: String,
    },
    /// A login failed.
    LoginFailed {
        /// The user name.
        user: String,
        /// Failures in this session so far.
        failures: u32,
    },
    /// A data connection was refused: from another IP, without TLS session resumption, ...
    DataRefused {
        /// Its peer, when known.
        peer: Option<SocketAddr>,
        /// Why.
        reason: String,
    },
    /// A transfer started (its data connection is open).
    TransferStarted {
        /// What it moves.
        kind: TransferKind,
        /// The file or directory.
        path: VirtualPath,
    },
    /// A transfer completed: every byte arrived (uploads: ended with TLS close_notify).
    TransferDone {
        /// What it moved.
        kind: TransferKind,
        /// The file or directory.
        path: VirtualPath,
        /// Bytes moved.
        bytes: u64,
    },
    /// An upload ended without its proper end: the file holds only part of what was sent.
    TransferPartial {
        /// The file.
        path: VirtualPath,
        /// Bytes received.
        bytes: u64,
        /// Why.
        reason: String,
    },
    /// A transfer was abandoned (ABOR, timeout, broken or refused data connection).
    TransferAborted {
        /// What it moved.
        kind: TransferKind,
        /// The file or directory.
        path: VirtualPath,
        /// Bytes moved before.
        bytes: u64,
        /// Why.
        reason: String,
    },
    /// The session ended (QUIT, the client closed, an error, a timeout).
    Closed {
        /// Why.
        reason: String,
    },
}
