//! An eShare node on tokio: the Sans-IO [`Node`] and HTTP machines of `redy-eshare` joined to
//! sockets. The FTPS and SMTPS examples drive the same kind of machines with `std::net` and
//! threads; this one runs many keep-alive connections on one tokio thread.
//!
//! ```text
//!                ┌──────────────────── Arc<Shared { Mutex<Node>, Notify }> ───────────────────┐
//!  HTTPS listener ─► one task per connection: http::Server ─► Node::handle_request ─► answer │
//!  (redirect listener: http::Server on clear text ─► redirect_to_https)                     │
//!  dispatcher: Node::handle_timeout / poll_delivery / poll_event, woken by Notify or deadline │
//!     ├─► one worker per other site: keep-alive http::Client over TLS ─► Node::delivered ────┘
//!     └─► events channel (bounded; drop the receiver to ignore events)
//! ```
//!
//! The mutex is never held across an `.await`: every task locks, calls the node, unlocks, then
//! does its I/O. Whatever changes the node's state wakes the dispatcher, which hands new
//! deliveries to the workers (the node keeps one in flight per site) and events to the caller.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::SystemTime;
//! use redy_certs::{DeviceCa, TrustPolicy};
//! use redy_eshare::share::{Domain, NamedValue, NodeConfig, Site, Timestamp, Value};
//! use redy_examples::eshare::{NodeOptions, RunningNode};
//!
//! let wid = "11111-22222".parse()?;
//! let ca = DeviceCa::generate(&wid, SystemTime::now())?;
//! let identity = ca.issue_server_certificate(&["127.0.0.1".parse()?], SystemTime::now())?;
//! let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
//! let domain = Domain::new(vec![
//!     Site::new(wid.clone(), "127.0.0.1".parse()?, 9443).trust(trust.clone()),
//!     Site::new("33333-44444".parse()?, "127.0.0.2".parse()?, 9443).trust(trust),
//! ])?;
//! let config = NodeConfig::new(wid, domain, 1);
//! let (node, mut events) =
//!     RunningNode::start(NodeOptions::new(config, identity, "127.0.0.1:9443".parse()?)).await?;
//! node.publish(vec![NamedValue::new("level", Value::Float(3.25), Timestamp::from_system(SystemTime::now()))])?;
//! while let Some(event) = events.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

mod deliver;
pub mod exchange;
mod local;
mod serve;
mod wire;

pub use local::{LocalDomain, free_port};

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use redy_certs::Identity;
use redy_eshare::http::Limits;
use redy_eshare::share::{self, Event, NamedValue, Node, NodeConfig, Now};
use redy_tls::{ClientAuth, ServerConfig, TlsVersion};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;

/// Events waiting for the caller; when it does not keep up, the node queues up to
/// [`share::MAX_EVENTS`] more, then answers incoming batches `503` until it catches up.
pub const EVENT_CHANNEL: usize = 256;
/// Connections a listener serves at once; more are closed as soon as accepted.
pub const MAX_CONNECTIONS: usize = 4096;

/// How to run a node.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// The node: its WID, domain, epoch, mutual TLS, outboxes.
    pub config: NodeConfig,
    /// The HTTPS server's certificate chain and key (the device's `ServerREDY.pem`). It is
    /// also the client certificate presented to other sites unless `config.identity` is set.
    pub identity: Identity,
    /// Where the HTTPS server listens (the domain's port).
    pub listen: SocketAddr,
    /// A clear-text HTTP listener that only redirects to HTTPS (the manual's port-80 step).
    pub redirect_from: Option<SocketAddr>,
    /// The HTTP limits of served connections; `max_body` is held to
    /// [`share::MAX_BODY_BYTES`].
    pub limits: Limits,
    /// TLS versions the HTTPS server accepts (default 1.2 to 1.3; deliveries offer both).
    pub tls_versions: (TlsVersion, TlsVersion),
}

impl NodeOptions {
    /// Options with the defaults: no redirect listener, default limits, TLS 1.2 and 1.3.
    pub fn new(config: NodeConfig, identity: Identity, listen: SocketAddr) -> Self {
        Self {
            config,
            identity,
            listen,
            redirect_from: None,
            limits: Limits::default(),
            tls_versions: (TlsVersion::Tls12, TlsVersion::Tls13),
        }
    }
}

/// Why a node did not start.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The node refused its configuration.
    #[error("eShare: {0}")]
    Node(#[from] share::Error),
    /// The domain cannot authenticate its sites as clients (mutual TLS).
    #[error("eShare domain: {0}")]
    Domain(#[from] share::DomainError),
    /// The TLS server configuration could not be built.
    #[error("TLS: {0}")]
    Tls(#[from] redy_tls::Error),
}

/// What every task of a node shares.
struct Shared {
    node: Mutex<Node>,
    /// Wakes the dispatcher after a change of the node's state.
    wake: Notify,
    /// False once the caller dropped the events receiver: connection tasks then discard the
    /// node's events themselves instead of waking the dispatcher for each request.
    events_wanted: AtomicBool,
}

impl Shared {
    /// The node; a task that panicked while holding it left it in a state the node itself
    /// keeps consistent between calls, so a poisoned lock is taken over.
    fn lock(&self) -> MutexGuard<'_, Node> {
        self.node.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Both clocks now.
fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

/// A node serving and delivering; it stops (every task, every connection) when dropped.
pub struct RunningNode {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    redirect_addr: Option<SocketAddr>,
    _tasks: JoinSet<()>,
}

impl RunningNode {
    /// Binds the listeners and starts serving and delivering. Events come out of the returned
    /// receiver; drop it to ignore them.
    pub async fn start(options: NodeOptions) -> Result<(Self, mpsc::Receiver<Event>), StartError> {
        let NodeOptions {
            mut config,
            identity,
            listen,
            redirect_from,
            mut limits,
            tls_versions: (min, max),
        } = options;
        limits.max_body = limits.max_body.min(share::MAX_BODY_BYTES as u64);
        let client_auth = match config.mtls {
            true => config.domain.client_auth(&config.wid)?,
            false => ClientAuth::None,
        };
        let tls = ServerConfig::builder(identity.clone())
            .versions(min, max)
            .client_auth(client_auth)
            .build()?;
        if config.identity.is_none() {
            config.identity = Some(identity);
        }
        let own = config.domain.site(&config.wid).cloned();
        let delivery_timeout = config.delivery_timeout;
        let node = Node::new(config, now())?;
        let others: Vec<_> = node
            .config()
            .domain
            .sites()
            .iter()
            .filter(|s| s.wid != node.config().wid)
            .map(|s| s.wid.clone())
            .collect();
        let shared = Arc::new(Shared {
            node: Mutex::new(node),
            wake: Notify::new(),
            events_wanted: AtomicBool::new(true),
        });

        let bind = |addr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })
        };
        let listener = bind(listen).await?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
        let mut tasks = JoinSet::new();
        let role = serve::Role::Node;
        tasks.spawn(serve::accept(
            listener,
            Some(tls),
            shared.clone(),
            role,
            limits.clone(),
        ));
        let mut redirect_addr = None;
        if let Some(addr) = redirect_from {
            let listener = bind(addr).await?;
            redirect_addr = listener.local_addr().ok();
            let host = own.map_or_else(|| local_addr.ip().to_string(), |s| s.address.to_string());
            let role = serve::Role::Redirect {
                host,
                port: local_addr.port(),
            };
            tasks.spawn(serve::accept(listener, None, shared.clone(), role, limits));
        }

        let (events_tx, events_rx) = mpsc::channel(EVENT_CHANNEL);
        let mut workers = Vec::new();
        for wid in others {
            let (tx, rx) = mpsc::channel(deliver::WORKER_QUEUE);
            tasks.spawn(deliver::worker(shared.clone(), rx, delivery_timeout));
            workers.push((wid, tx));
        }
        tasks.spawn(deliver::dispatch(shared.clone(), workers, events_tx));
        let node = Self {
            shared,
            local_addr,
            redirect_addr,
            _tasks: tasks,
        };
        Ok((node, events_rx))
    }

    /// The HTTPS server's address (with the port chosen when `listen` had port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The redirect listener's address, when there is one.
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect_addr
    }

    /// Publishes values to every other site (see [`Node::publish`]): the batch's sequence.
    pub fn publish(&self, values: Vec<NamedValue>) -> Result<u64, share::Error> {
        let seq = self.shared.lock().publish(values, now());
        self.shared.wake.notify_one();
        seq
    }

    /// Reads the node (status, counters, pending batches); do not block inside `f`.
    pub fn with_node<R>(&self, f: impl FnOnce(&Node) -> R) -> R {
        f(&self.shared.lock())
    }
}
