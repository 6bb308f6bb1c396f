//! How a client connects: security mode, TLS, credentials, data connections, timeouts.

use std::net::SocketAddr;
use std::time::Duration;

/// How the control and data connections are protected.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte on the control and every data connection (`ftps://`, port 990).
    /// The default.
    ImplicitTls,
    /// A plain-text greeting, then `AUTH TLS`, which must succeed (`ftpes://`, port 21). A
    /// server that refuses it ends the session: there is no fallback to clear text.
    ExplicitTls,
    /// No TLS at all: **the password and every file cross the network readable by anyone**.
    /// Only for tests against a server on localhost.
    InsecurePlainFtp,
}

impl Security {
    /// The usual control port: 990 for implicit TLS, 21 otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            Self::ImplicitTls => 990,
            Self::ExplicitTls | Self::InsecurePlainFtp => 21,
        }
    }

    /// True unless this is [`Security::InsecurePlainFtp`].
    pub fn is_tls(self) -> bool {
        self != Self::InsecurePlainFtp
    }
}

/// Who opens data connections.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataConnections {
    /// Passive: `EPSV`, then `PASV` if the server does not know `EPSV`; the client connects.
    /// The default, and what works through NAT on the client's side.
    Passive,
    /// Active: the caller listens, the client announces the address with `PORT` or `EPRT`
    /// and the server connects.
    Active,
}

/// What ends a download's data connection well.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataEnd {
    /// TLS close_notify (or, without TLS, the end of the stream). A connection that ends
    /// without close_notify is a truncated download. The default.
    RequireCloseNotify,
    /// The end of the TCP stream counts as the end of the file, with or without close_notify,
    /// for servers known not to send it. The server's `226` still has to arrive.
    AcceptEofWithoutCloseNotify,
}

/// How long to wait. Each is measured on the `now` the caller passes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// The greeting, and the TLS handshake of the control connection (30 s).
    pub connect: Duration,
    /// Each reply on the control connection (60 s).
    pub reply: Duration,
    /// A data connection to connect or be accepted, and its TLS handshake (30 s).
    pub data_connect: Duration,
    /// A data connection on which nothing moved, in either direction (120 s).
    pub data_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            reply: Duration::from_secs(60),
            data_connect: Duration::from_secs(30),
            data_idle: Duration::from_secs(120),
        }
    }
}

/// Everything a session needs besides its transports. Its `Debug` hides the password.
#[derive(Clone)]
pub struct FtpConfig {
    /// How the session is protected.
    pub security: Security,
    /// TLS settings: trust policy, versions (for `tls_max = 1.2`, build it with
    /// `.versions(TlsVersion::Tls12, TlsVersion::Tls12)`). Each session takes a private
    /// resumption scope from it, so data connections resume this session's TLS session only.
    pub tls: redy_tls::ClientConfig,
    /// The server's name as its certificate must show it (DNS name or IP address). Data
    /// connections use it too, never the address in a `PASV` reply.
    pub server_name: String,
    /// The address of the control connection's peer. Passive data connections go to this
    /// address, with the port from `EPSV` or `PASV`.
    pub server_addr: SocketAddr,
    /// The user name.
    pub user: String,
    /// The password (sent only over TLS, unless [`Security::InsecurePlainFtp`]).
    pub password: String,
    /// Passive (default) or active data connections.
    pub data_connections: DataConnections,
    /// Connect to the address a `PASV` reply names instead of the control connection's peer.
    /// Off by default: behind NAT that address is often private or wrong, and following it
    /// lets a server aim the client at any host (curl's default is the same).
    pub trust_pasv_address: bool,
    /// What ends a download's data connection well.
    pub data_end: DataEnd,
    /// Timeouts.
    pub timeouts: Timeouts,
}

impl FtpConfig {
    /// A configuration with the defaults: passive data connections, close_notify required,
    /// `PASV` addresses ignored.
    pub fn new(
        security: Security,
        tls: redy_tls::ClientConfig,
        server_name: impl Into<String>,
        server_addr: SocketAddr,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            security,
            tls,
            server_name: server_name.into(),
            server_addr,
            user: user.into(),
            password: password.into(),
            data_connections: DataConnections::Passive,
            trust_pasv_address: false,
            data_end: DataEnd::RequireCloseNotify,
            timeouts: Timeouts::default(),
        }
    }
}

impl std::fmt::Debug for FtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpConfig")
            .field("security", &self.security)
            .field("server_name", &self.server_name)
            .field("server_addr", &self.server_addr)
            .field("user", &self.user)
            .field("data_connections", &self.data_connections)
            .field("trust_pasv_address", &self.trust_pasv_address)
            .field("data_end", &self.data_end)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}
