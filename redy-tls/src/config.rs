//! Client and server configurations, built from a trust policy and an identity.
//!
//! A configuration is also a **resumption scope**: every session made from one configuration
//! value (or its clones) can resume the sessions of the others, and no one else's.
//! [`ClientConfig::new_scope`] and [`ServerConfig::new_scope`] give a configuration identical
//! in all else with a fresh, empty scope — one per FTPS session, for instance, so that its data
//! connections resume its control connection.

use std::fmt;
use std::sync::Arc;

use redy_certs::{Identity, KeyFormat, TimeSource, TrustPolicy};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use rustls::server::ServerSessionMemoryCache;
use rustls::{SupportedCipherSuite, SupportedProtocolVersion};

use crate::Error;
use crate::store::CountingStore;
use crate::verify::{ClientVerifier, ServerVerifier};

/// Sessions a client scope remembers (one per server name; TLS 1.3 keeps several tickets each).
pub const CLIENT_SCOPE_SESSIONS: usize = 64;
/// Sessions a server scope remembers.
pub const SERVER_SCOPE_SESSIONS: usize = 1024;

/// A TLS protocol version.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// TLS 1.2, the version the REDY manual names.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    fn rustls(self) -> &'static SupportedProtocolVersion {
        match self {
            Self::Tls12 => &rustls::version::TLS12,
            Self::Tls13 => &rustls::version::TLS13,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls12 => "TLS 1.2",
            Self::Tls13 => "TLS 1.3",
        })
    }
}

/// The cryptography behind TLS, chosen by the crate features.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// aws-lc-rs (feature `aws-lc-rs`, the default): faster handshakes.
    #[cfg(feature = "aws-lc-rs")]
    AwsLcRs,
    /// ring (feature `ring`): quicker to build, no C toolchain beyond a C compiler.
    #[cfg(feature = "ring")]
    Ring,
}

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!(
    "redy-tls needs a crypto provider: enable the `aws-lc-rs` (default) or `ring` feature"
);

impl Default for Provider {
    /// aws-lc-rs when compiled in, else ring: enabling `ring` as well never changes it.
    fn default() -> Self {
        #[cfg(feature = "aws-lc-rs")]
        return Self::AwsLcRs;
        #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
        return Self::Ring;
    }
}

impl Provider {
    fn rustls(self) -> CryptoProvider {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLcRs => rustls::crypto::aws_lc_rs::default_provider(),
            #[cfg(feature = "ring")]
            Self::Ring => rustls::crypto::ring::default_provider(),
        }
    }
}

/// What a server asks of client certificates (mutual TLS).
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for. The default.
    #[default]
    None,
    /// A certificate is asked for; one that is presented must satisfy the policy.
    Optional(TrustPolicy),
    /// A certificate satisfying the policy is required.
    Required(TrustPolicy),
}

/// Settings shared by the client and server builders.
#[derive(Clone, Debug)]
struct Common {
    min: TlsVersion,
    max: TlsVersion,
    alpn: Vec<Vec<u8>>,
    provider: Provider,
    time: TimeSource,
    cipher_suites: Vec<String>,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            min: TlsVersion::Tls12,
            max: TlsVersion::Tls13,
            alpn: Vec::new(),
            provider: Provider::default(),
            time: TimeSource::System,
            cipher_suites: Vec::new(),
        }
    }
}

impl Common {
    /// The provider, with only the chosen cipher suites (in the order given) when some were.
    fn provider(&self) -> Result<Arc<CryptoProvider>, Error> {
        let mut provider = self.provider.rustls();
        if !self.cipher_suites.is_empty() {
            let name = |s: &SupportedCipherSuite| s.suite().as_str().unwrap_or("");
            let mut chosen = Vec::new();
            for wanted in &self.cipher_suites {
                match provider.cipher_suites.iter().find(|s| name(s) == wanted) {
                    Some(suite) => chosen.push(*suite),
                    None => {
                        let offered: Vec<_> = provider.cipher_suites.iter().map(name).collect();
                        return Err(Error::Config(format!(
                            "unknown cipher suite {wanted}; {:?} offers {}",
                            self.provider,
                            offered.join(", ")
                        )));
                    }
                }
            }
            provider.cipher_suites = chosen;
        }
        Ok(Arc::new(provider))
    }

    fn versions(&self) -> Result<Vec<&'static SupportedProtocolVersion>, Error> {
        if self.min > self.max {
            return Err(Error::Config(format!(
                "minimum {} is above maximum {}",
                self.min, self.max
            )));
        }
        Ok([TlsVersion::Tls12, TlsVersion::Tls13]
            .into_iter()
            .filter(|v| (self.min..=self.max).contains(v))
            .map(TlsVersion::rustls)
            .collect())
    }
}

macro_rules! common_setters {
    () => {
        /// Lowest and highest TLS versions (default: 1.2 to 1.3).
        pub fn versions(mut self, min: TlsVersion, max: TlsVersion) -> Self {
            (self.common.min, self.common.max) = (min, max);
            self
        }

        /// ALPN protocols, most preferred first (default: none).
        pub fn alpn<P: AsRef<[u8]>>(mut self, protocols: impl IntoIterator<Item = P>) -> Self {
            self.common.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
            self
        }

        /// The crypto provider (default: [`Provider::default`]).
        pub fn provider(mut self, provider: Provider) -> Self {
            self.common.provider = provider;
            self
        }

        /// Only these cipher suites, most preferred first, by their IANA names as
        /// [`HandshakeInfo::cipher_suite`](crate::HandshakeInfo) shows them, e.g.
        /// `TLS13_AES_128_GCM_SHA256` (default: the provider's, AES-256-GCM first). `build`
        /// fails on a name the provider does not offer.
        pub fn cipher_suites<S: Into<String>>(
            mut self,
            names: impl IntoIterator<Item = S>,
        ) -> Self {
            self.common.cipher_suites = names.into_iter().map(Into::into).collect();
            self
        }

        /// The time peer certificates are checked at (default: the system clock).
        pub fn time_source(mut self, time: TimeSource) -> Self {
            self.common.time = time;
            self
        }
    };
}

/// A client configuration, and the resumption scope of the sessions made from it.
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) inner: Arc<rustls::ClientConfig>,
    store: Arc<CountingStore>,
}

impl ClientConfig {
    /// Starts a configuration that judges servers by `trust`.
    pub fn builder(trust: TrustPolicy) -> ClientConfigBuilder {
        ClientConfigBuilder {
            trust,
            identity: None,
            common: Common::default(),
        }
    }

    /// The same configuration with a new, empty resumption scope.
    pub fn new_scope(&self) -> Self {
        let store = Arc::new(CountingStore::new(CLIENT_SCOPE_SESSIONS));
        let mut inner = (*self.inner).clone();
        inner.resumption = Resumption::store(store.clone());
        Self {
            inner: Arc::new(inner),
            store,
        }
    }

    /// The TLS 1.3 session tickets this scope holds for `server_name`. rustls resumes a TLS 1.3
    /// session once per ticket, so this is how many more connections to that server can resume
    /// a TLS 1.3 session of this scope (TLS 1.2 sessions resume any number of times). 0 for a
    /// name that is not a valid server name.
    pub fn tls13_tickets(&self, server_name: &str) -> usize {
        ServerName::try_from(server_name).map_or(0, |name| self.store.tls13_tickets(&name))
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("alpn", &self.inner.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ClientConfig`].
#[derive(Clone, Debug)]
pub struct ClientConfigBuilder {
    trust: TrustPolicy,
    identity: Option<Identity>,
    common: Common,
}

impl ClientConfigBuilder {
    common_setters!();

    /// A client certificate to present when the server asks (mutual TLS).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Builds the configuration, with its own resumption scope.
    pub fn build(self) -> Result<ClientConfig, Error> {
        let provider = self.common.provider()?;
        let verifier = ServerVerifier::new(&self.trust, self.common.time.clone(), &provider)?;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&self.common.versions()?)
            .map_err(config_err)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let mut inner = match self.identity {
            Some(id) => builder
                .with_client_auth_cert(chain(&id), key(&id))
                .map_err(config_err)?,
            None => builder.with_no_client_auth(),
        };
        inner.alpn_protocols = self.common.alpn;
        Ok(ClientConfig {
            inner: Arc::new(inner),
            store: Arc::new(CountingStore::new(0)),
        }
        .new_scope())
    }
}

/// A server configuration, and the resumption scope of the sessions made from it.
#[derive(Clone)]
pub struct ServerConfig {
    pub(crate) inner: Arc<rustls::ServerConfig>,
}

impl ServerConfig {
    /// Starts a configuration that presents `identity`.
    pub fn builder(identity: Identity) -> ServerConfigBuilder {
        ServerConfigBuilder {
            identity,
            client_auth: ClientAuth::None,
            common: Common::default(),
        }
    }

    /// The same configuration with a new, empty resumption scope.
    ///
    /// Resumption is stateful (TLS 1.2 session IDs, TLS 1.3 tickets that name a cache entry
    /// and are used once), so a session resumes only within the scope that made it.
    pub fn new_scope(&self) -> Self {
        let mut inner = (*self.inner).clone();
        inner.session_storage = ServerSessionMemoryCache::new(SERVER_SCOPE_SESSIONS);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The same configuration and scope, whose sessions send no TLS 1.3 session tickets.
    ///
    /// For FTPS data connections: they resume the control connection's session and need no
    /// tickets of their own, and a ticket the client never reads (an upload only writes) makes
    /// its close send a TCP reset, which can destroy the end of the upload in flight.
    pub fn without_tickets(&self) -> Self {
        let mut inner = (*self.inner).clone();
        inner.send_tls13_tickets = 0;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Like [`new_scope`](Self::new_scope), but a TLS 1.3 ticket of this scope resumes any
    /// number of connections instead of one.
    ///
    /// FTPS clients resume every data connection from the control connection's session: lftp
    /// (GnuTLS) and Python's `ssl` hand the same ticket over each time, which a single-use
    /// ticket refuses from the second data connection on. OpenSSL servers (vsftpd, proftpd)
    /// accept that reuse. With no early data (redy enables none), reusing a ticket within one
    /// small scope replays nothing; TLS 1.2 session IDs are reusable in any scope.
    pub fn new_reusable_scope(&self) -> Self {
        let mut inner = (*self.inner).clone();
        inner.session_storage = Arc::new(ReusableTickets(ServerSessionMemoryCache::new(
            SERVER_SCOPE_SESSIONS,
        )));
        Self {
            inner: Arc::new(inner),
        }
    }
}

/// A server session cache whose entries survive being used: `take` (what rustls calls for a
/// stateful TLS 1.3 ticket) only reads. See [`ServerConfig::new_reusable_scope`].
#[derive(Debug)]
struct ReusableTickets(Arc<ServerSessionMemoryCache>);

impl rustls::server::StoresServerSessions for ReusableTickets {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.0.put(key, value)
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key)
    }

    fn can_cache(&self) -> bool {
        self.0.can_cache()
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("alpn", &self.inner.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ServerConfig`].
#[derive(Clone, Debug)]
pub struct ServerConfigBuilder {
    identity: Identity,
    client_auth: ClientAuth,
    common: Common,
}

impl ServerConfigBuilder {
    common_setters!();

    /// Whether and how clients authenticate with certificates (default: they do not).
    pub fn client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }

    /// Builds the configuration, with its own resumption scope.
    pub fn build(self) -> Result<ServerConfig, Error> {
        let provider = self.common.provider()?;
        let client_verifier = match &self.client_auth {
            ClientAuth::None => None,
            ClientAuth::Optional(policy) => Some(ClientVerifier::new(
                policy,
                false,
                self.common.time.clone(),
                &provider,
            )?),
            ClientAuth::Required(policy) => Some(ClientVerifier::new(
                policy,
                true,
                self.common.time.clone(),
                &provider,
            )?),
        };
        let builder = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&self.common.versions()?)
            .map_err(config_err)?;
        let builder = match client_verifier {
            Some(verifier) => builder.with_client_cert_verifier(Arc::new(verifier)),
            None => builder.with_no_client_auth(),
        };
        let mut inner = builder
            .with_single_cert(chain(&self.identity), key(&self.identity))
            .map_err(config_err)?;
        inner.alpn_protocols = self.common.alpn;
        Ok(ServerConfig {
            inner: Arc::new(inner),
        }
        .new_scope())
    }
}

fn chain(identity: &Identity) -> Vec<CertificateDer<'static>> {
    identity
        .chain()
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect()
}

fn key(identity: &Identity) -> PrivateKeyDer<'static> {
    let der = identity.key().secret_der().to_vec();
    match identity.key().format() {
        KeyFormat::Pkcs1 => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
        KeyFormat::Sec1 => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)),
        _ => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
    }
}

fn config_err(e: rustls::Error) -> Error {
    Error::Config(e.to_string())
}

#[cfg(test)]
mod tests {
    use rustls::server::StoresServerSessions;

    use super::*;

    #[test]
    fn reusable_scopes_keep_a_ticket_after_it_resumed() {
        let single = ServerSessionMemoryCache::new(4);
        let reusable = ReusableTickets(ServerSessionMemoryCache::new(4));
        for cache in [&*single as &dyn StoresServerSessions, &reusable] {
            assert!(cache.put(b"ticket".to_vec(), b"session".to_vec()));
            assert_eq!(cache.take(b"ticket"), Some(b"session".to_vec()));
        }
        assert_eq!(
            single.take(b"ticket"),
            None,
            "rustls: a ticket resumes once"
        );
        assert_eq!(
            reusable.take(b"ticket"),
            Some(b"session".to_vec()),
            "again and again"
        );
    }
}
