//! How a client connects: security mode, TLS, credentials, timeouts.

use std::time::Duration;

use crate::{Address, Mechanism};

/// How the session is protected.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (port 465). The default.
    ImplicitTls,
    /// Plain-text greeting, then STARTTLS, which must succeed (port 587).
    StartTlsRequired,
    /// STARTTLS when the server offers it, **clear text otherwise**: mail (and, if allowed,
    /// credentials) may cross the network readable by anyone. [`crate::client::Event::TlsSkipped`]
    /// says when that happened.
    StartTlsOpportunisticMaySendInClear,
    /// No TLS at all: only for tests against a server on localhost.
    InsecurePlainForLocalTests,
}

impl Security {
    /// The usual port: 465 for implicit TLS, 587 for STARTTLS, 25 for plain.
    pub fn default_port(self) -> u16 {
        match self {
            Self::ImplicitTls => 465,
            Self::StartTlsRequired | Self::StartTlsOpportunisticMaySendInClear => 587,
            Self::InsecurePlainForLocalTests => 25,
        }
    }
}

/// Credentials for AUTH.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// User name and password (AUTH PLAIN, else LOGIN).
    Password {
        /// User name, often the mail address.
        user: String,
        /// Password (or an application password / account key).
        password: String,
    },
    /// An OAuth 2 bearer token the caller obtained (AUTH XOAUTH2).
    OAuth2 {
        /// User name (the mail address).
        user: String,
        /// Access token.
        token: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password { user, .. } => write!(f, "Password {{ user: {user:?}, .. }}"),
            Self::OAuth2 { user, .. } => write!(f, "OAuth2 {{ user: {user:?}, .. }}"),
        }
    }
}

/// The device identity the manual calls "use the device parameters": an address and its
/// password, used by every connection that does not override them.
#[derive(Clone, Debug)]
pub struct DeviceIdentity {
    /// The device's sender address.
    pub address: Address,
    /// Its credentials.
    pub credentials: Credentials,
}

/// How long to wait for each reply (RFC 5321 §4.5.3.2 defaults).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// The 220 greeting (5 minutes).
    pub greeting: Duration,
    /// EHLO, STARTTLS and its handshake, AUTH, MAIL, RCPT, RSET, NOOP, QUIT (5 minutes).
    pub command: Duration,
    /// The 354 after DATA (2 minutes).
    pub data_init: Duration,
    /// Between two pieces of body handed over by the caller (3 minutes).
    pub data_block: Duration,
    /// The reply after the final `.` (10 minutes).
    pub end_of_data: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        let min = |m: u64| Duration::from_secs(60 * m);
        Self {
            greeting: min(5),
            command: min(5),
            data_init: min(2),
            data_block: min(3),
            end_of_data: min(10),
        }
    }
}

/// Everything a session needs besides its transport.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// How the session is protected.
    pub security: Security,
    /// TLS settings: trust policy, versions. Its resumption scope is shared by the sessions
    /// made from it.
    pub tls: redy_tls::ClientConfig,
    /// The server's name as certificates must show it (DNS name or IP address).
    pub server_name: String,
    /// The name we give in EHLO (a domain or an address literal such as `[192.168.1.137]`).
    pub ehlo_name: String,
    /// Credentials, if the server wants AUTH.
    pub credentials: Option<Credentials>,
    /// Allows AUTH without TLS (only meaningful with the plain or opportunistic modes).
    pub allow_credentials_in_clear: bool,
    /// AUTH mechanisms in order of preference (default: PLAIN, LOGIN, XOAUTH2); the first one
    /// the server offers that fits the credentials is used.
    pub auth_preference: Vec<Mechanism>,
    /// Reply timeouts.
    pub timeouts: Timeouts,
}

impl SmtpConfig {
    /// A configuration with the defaults: EHLO name `localhost`, no credentials, RFC timeouts.
    pub fn new(security: Security, tls: redy_tls::ClientConfig, server_name: &str) -> Self {
        Self {
            security,
            tls,
            server_name: server_name.to_owned(),
            ehlo_name: "localhost".to_owned(),
            credentials: None,
            allow_credentials_in_clear: false,
            auth_preference: vec![Mechanism::Plain, Mechanism::Login, Mechanism::XOAuth2],
            timeouts: Timeouts::default(),
        }
    }

    /// Uses the device identity's credentials (the manual's "use the device parameters").
    pub fn device(mut self, device: &DeviceIdentity) -> Self {
        self.credentials = Some(device.credentials.clone());
        self
    }

    /// Uses these credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
}
