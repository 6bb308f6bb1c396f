//! An FTPS server over `std::net`: [`FtpsServer`] accepts clients and runs each session's
//! [`redy_ftps::server::ServerSession`] in a thread of its own, on [`FsStorage`].
//!
//! ```text
//!   FtpsServer::bind(options) ─► local_addr() ─► run()            (blocking, the binary)
//!                                            └─► spawn() ─► RunningServer (tests, demos;
//!                                                            stops when dropped)
//!   per session (thread): mio poll over control socket, passive listener, data socket
//!      bytes ⇄ ServerSession ⇄ Request/Answer ⇄ FsStorage (files in 64 KiB chunks)
//! ```
//!
//! Each command and transfer is logged through [`ServerOptions::log`] (never a password).
//! Sessions are limited to [`ServerOptions::max_sessions`] at once; more are refused with `421`.

mod fs;
mod session;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use fs::{FsStorage, storage_error};
use redy_ftps::server::FtpServerConfig;

/// Where log lines go: one call per line, without line end.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// A logger writing to standard error.
pub fn stderr_logger() -> Logger {
    Arc::new(|line: &str| {
        let _ = writeln!(io::stderr(), "{line}");
    })
}

/// What a server serves, to whom, and how.
#[derive(Clone)]
pub struct ServerOptions {
    /// Where to listen for control connections.
    pub listen: SocketAddr,
    /// The directory served as every user's root.
    pub root: PathBuf,
    /// User names and their passwords.
    pub users: HashMap<String, String>,
    /// The session configuration: implicit/explicit, TLS, passive ports, policies.
    pub config: FtpServerConfig,
    /// Most sessions at once (default 64).
    pub max_sessions: usize,
    /// Where each command and transfer is logged.
    pub log: Logger,
}

impl ServerOptions {
    /// Options with the defaults: 64 sessions, logs to standard error.
    pub fn new(listen: SocketAddr, root: PathBuf, config: FtpServerConfig) -> Self {
        Self {
            listen,
            root,
            users: HashMap::new(),
            config,
            max_sessions: 64,
            log: stderr_logger(),
        }
    }

    /// Adds a user.
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users.insert(name.to_owned(), password.to_owned());
        self
    }
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("listen", &self.listen)
            .field("root", &self.root)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("max_sessions", &self.max_sessions)
            .finish_non_exhaustive()
    }
}

/// What the sessions share.
struct Shared {
    options: ServerOptions,
    storage: FsStorage,
    sessions: AtomicUsize,
    next_session: AtomicU64,
    next_passive: AtomicUsize,
    stop: AtomicBool,
}

/// A bound FTPS server, not yet accepting.
pub struct FtpsServer {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl FtpsServer {
    /// Binds the control port and checks the root.
    pub fn bind(options: ServerOptions) -> io::Result<Self> {
        let storage = FsStorage::new(&options.root)?;
        let listener = TcpListener::bind(options.listen)?;
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                options,
                storage,
                sessions: AtomicUsize::new(0),
                next_session: AtomicU64::new(1),
                next_passive: AtomicUsize::new(0),
                stop: AtomicBool::new(false),
            }),
        })
    }

    /// The address the control port is bound to (a port 0 in the options is resolved here).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts clients until an accept fails (or, from [`spawn`](Self::spawn), until stopped).
    pub fn run(self) -> io::Result<()> {
        let log = self.shared.options.log.clone();
        log(&format!(
            "listening on {} ({:?} FTPS), root {}",
            self.local_addr()?,
            self.shared.options.config.security,
            self.shared.storage.root().display()
        ));
        self.listener.set_nonblocking(true)?;
        let mut sessions: Vec<JoinHandle<()>> = Vec::new();
        while !self.shared.stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((tcp, peer)) => {
                    let shared = self.shared.clone();
                    sessions.retain(|s| !s.is_finished());
                    sessions.push(thread::spawn(move || session::run(tcp, peer, &shared)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log(&format!("accept failed: {e}"));
                    thread::sleep(Duration::from_millis(50));
                }
            }
        }
        for s in sessions {
            let _ = s.join();
        }
        Ok(())
    }

    /// Runs the server in a thread; it stops (sessions included) when the handle is dropped.
    pub fn spawn(self) -> io::Result<RunningServer> {
        let addr = self.local_addr()?;
        let shared = self.shared.clone();
        let thread = thread::spawn(move || self.run());
        Ok(RunningServer {
            addr,
            shared,
            thread: Some(thread),
        })
    }
}

/// A server running in a thread of this process.
pub struct RunningServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl RunningServer {
    /// The control port's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sessions running now.
    pub fn sessions(&self) -> usize {
        self.shared.sessions.load(Ordering::Relaxed)
    }

    /// Stops accepting, ends the sessions and waits for them.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> io::Result<()> {
        self.shared.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| io::Error::other("server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}
