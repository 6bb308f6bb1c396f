//! How a server runs its sessions: TLS mode and policies, data ports, logins, timeouts.

use std::net::Ipv4Addr;
use std::ops::RangeInclusive;
use std::time::Duration;

/// How the control connection is protected.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (control port 990, data port 989).
    ImplicitTls,
    /// A clear greeting, then `AUTH TLS` before `USER` (port 21). Logins without TLS are refused
    /// unless [`FtpServerConfig::allow_insecure_plain_ftp`] is set.
    ExplicitTls,
}

impl Security {
    /// The usual control port: 990 for implicit FTPS, 21 for explicit.
    pub fn default_port(self) -> u16 {
        match self {
            Self::ImplicitTls => 990,
            Self::ExplicitTls => 21,
        }
    }
}

/// Deadlines of a session.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// No command (and no transfer) for this long ends the session with `421` (5 minutes).
    /// It also bounds the control TLS handshake and the login.
    pub idle: Duration,
    /// A transfer command waits this long for its data connection before `425` (30 s).
    pub data_connect: Duration,
    /// A transfer that moves no byte for this long is aborted with `426` (2 minutes).
    pub transfer_stall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(300),
            data_connect: Duration::from_secs(30),
            transfer_stall: Duration::from_secs(120),
        }
    }
}

/// Everything the sessions of one server share; each [`super::ServerSession`] takes a copy.
#[derive(Clone, Debug)]
pub struct FtpServerConfig {
    /// Implicit or explicit FTPS.
    pub security: Security,
    /// The TLS configuration: certificate, versions. Each session makes its own resumption
    /// scope from it, shared by its control and data connections only.
    pub tls: redy_tls::ServerConfig,
    /// Explicit mode only: lets clients log in without `AUTH TLS`, **sending the password and
    /// the files in clear text**. Off by default.
    pub allow_insecure_plain_ftp: bool,
    /// Accepts `PROT C` (clear data connections) on a TLS control connection. Off by default:
    /// `PROT C` gets `534` and transfers without `PROT P` get `521`.
    pub allow_clear_data: bool,
    /// Data connections must resume the control connection's TLS session, as vsftpd's
    /// `require_ssl_reuse` and proftpd's default do: this proves the data connection comes
    /// from the client that logged in. On by default; one that does not resume gets `522`.
    pub require_data_resumption: bool,
    /// Accepts `CCC` (the control connection returns to clear text after login, for NAT
    /// routers that inspect FTP). Off by default: `CCC` gets `534`.
    pub allow_ccc: bool,
    /// Counts an upload whose data connection ended without TLS close_notify as complete.
    /// Off by default: such an upload is reported partial (`426`), as it may be cut short.
    pub accept_upload_eof_without_close_notify: bool,
    /// The ports the caller binds passive listeners on (answering
    /// [`super::Action::Listen`]); the default 30000–30100.
    pub passive_ports: RangeInclusive<u16>,
    /// The address announced in `PASV` replies instead of the control connection's local
    /// address, for a server behind NAT.
    pub masquerade: Option<Ipv4Addr>,
    /// The local port active-mode (`PORT`/`EPRT`) data connections are made from, such as 989
    /// for implicit FTPS; `None` (the default) lets the system choose.
    pub active_source_port: Option<u16>,
    /// Failed logins after which the session is closed with `421` (default 3).
    pub max_login_failures: u32,
    /// How long the `530` after a failed login is held back, times the number of failures so
    /// far (default 1 s, so 1 s, 2 s, 3 s...). A deadline, not a sleep: the session is idle
    /// meanwhile.
    pub login_failure_delay: Duration,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// The text of the `220` greeting.
    pub greeting: String,
}

impl FtpServerConfig {
    /// A configuration with the safe defaults: TLS required on control and data connections,
    /// data connections resuming the control session, no CCC, 3 login attempts.
    pub fn new(security: Security, tls: redy_tls::ServerConfig) -> Self {
        Self {
            security,
            tls,
            allow_insecure_plain_ftp: false,
            allow_clear_data: false,
            require_data_resumption: true,
            allow_ccc: false,
            accept_upload_eof_without_close_notify: false,
            passive_ports: 30000..=30100,
            masquerade: None,
            active_source_port: None,
            max_login_failures: 3,
            login_failure_delay: Duration::from_secs(1),
            timeouts: Timeouts::default(),
            greeting: "redy FTPS server ready".to_owned(),
        }
    }
}
