//! Harness for redy's interop tests: real third-party peers (OpenSSL, nginx, curl, ...) run as
//! child processes on 127.0.0.1 against redy's own TLS client and server.
//!
//! ```text
//!   bash interop/setup.sh            installs every peer of interop/peers/*.sh (Debian packages)
//!   cargo test -p redy-interop       runs the tests; a missing peer is SKIPPED, loudly,
//!                                    unless CI or REDY_REQUIRE_PEERS is set: then it fails
//! ```
//!
//! * [`require`] decides whether a test can run with the peers installed here.
//! * [`Peer`] is a spawned peer: its PID, its output in a log file in its work directory, and it
//!   is killed (by that PID) and reaped when dropped. A test that panics prints the log.
//! * [`free_port`] / [`wait_for_port`] find a port and wait for a peer to listen on it.
//! * [`DevicePki`] is a throw-away `REDY-<WID>-CA` and a server identity for `127.0.0.1` and
//!   `localhost`, written as PEM files the peers load.
//! * [`serve_once`] runs a one-connection redy-tls server in a thread, for client peers.
//! * [`run_with_timeout`] runs a client peer to completion, killing it if it hangs.
//! * [`smtp`]: Postfix and aiosmtpd as SMTP submission servers, Python's smtplib as a client.
//! * [`http`]: nginx as an HTTPS server (echo and WebDAV locations).
//! * [`ftp`]: vsftpd, ProFTPD and Pure-FTPd as FTPS servers (implicit and explicit TLS, TLS 1.2
//!   or 1.2 + 1.3, session reuse required or not), Python's ssl as a reference FTPS client.
//!
//! Everything listens and connects on 127.0.0.1 only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use redy_certs::{DeviceCa, Identity, TrustPolicy};
use redy_examples::blocking::TlsStream;
use redy_tls::{ServerConfig, TlsSession};
use tempfile::TempDir;

pub mod eshare;
pub mod ftp;
pub mod http;
pub mod smtp;

/// The only address peers and tests listen and connect on.
pub const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// How long a peer may take to start listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// `interop/peers/`, where the peer scripts (`openssl.sh`, `nginx.sh`, ...) live.
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The full path of a peer binary: searched on `PATH`, then in `/usr/sbin` and `/sbin`
/// (daemons such as nginx live there and are missing from many users' `PATH`).
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when the peer binary `tool` is installed, so the test can run.
///
/// When it is missing: with the environment variable `CI` or `REDY_REQUIRE_PEERS` set, this
/// panics (a CI run must not pass by skipping); otherwise it prints a loud `SKIPPED` line and
/// returns false, and the test should return early:
///
/// ```no_run
/// if !redy_interop::require("openssl") {
///     return;
/// }
/// ```
pub fn require(tool: &str) -> bool {
    which(tool).is_some() || missing_peer(tool)
}

/// What a test does when the peer `name` is missing: with `CI` or `REDY_REQUIRE_PEERS` set it
/// panics (a CI run must not pass by skipping); otherwise it prints a loud `SKIPPED` line and
/// returns false.
pub fn missing_peer(name: &str) -> bool {
    let strict = ["CI", "REDY_REQUIRE_PEERS"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    if strict {
        panic!(
            "interop peer `{name}` is not installed (required because CI or REDY_REQUIRE_PEERS is set): run `bash interop/setup.sh`"
        );
    }
    // Straight to the process's stderr: libtest captures `eprintln!` of passing tests, and a
    // skipped test passes, so the line would never be seen.
    let _ = writeln!(
        io::stderr(),
        "\n*** SKIPPED: needs {name} (run bash interop/setup.sh) ***\n"
    );
    false
}

/// Builds the `redy-examples` binaries `bins` in release mode, in the target directory of the
/// running benchmark, and returns that directory (`target/release/`, beside the bench's
/// `deps/`). For benchmarks: a test uses `env!("CARGO_BIN_EXE_…")` instead.
pub fn release_binaries(bins: &[&str]) -> io::Result<PathBuf> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "--release", "-p", "redy-examples"]);
    for bin in bins {
        cargo.args(["--bin", bin]);
    }
    if !cargo.status()?.success() {
        return Err(io::Error::other(format!("building {bins:?} failed")));
    }
    let exe = std::env::current_exe()?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| io::Error::other("no target directory above the running executable"))
}

/// A command running the peer script `interop/peers/<script>` with bash; add its arguments.
pub fn peer_script(script: &str) -> Command {
    let mut command = Command::new(which("bash").unwrap_or_else(|| PathBuf::from("/bin/bash")));
    command.arg(peers_dir().join(script));
    command
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released for a peer to take).
pub fn free_port() -> u16 {
    TcpListener::bind((LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0 to find a free port: {e}"))
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, probing with connects.
pub fn wait_for_port(port: u16, timeout: Duration) -> io::Result<()> {
    let addr = SocketAddr::from((LOCALHOST, port));
    let deadline = Instant::now() + timeout;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("nothing listening on {addr} after {timeout:?}: {e}"),
                ));
            }
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// A peer process spawned by a test: killed (by its PID) and reaped when dropped.
///
/// Its stdout and stderr go to `<name>.log` in its work directory; when the test is panicking,
/// dropping the peer prints that log, so a failure shows what the peer said.
#[derive(Debug)]
pub struct Peer {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Peer {
    /// Spawns `command` with stdin closed and its output in `work_dir/<name>.log`.
    pub fn spawn(name: &str, mut command: Command, work_dir: &Path) -> io::Result<Self> {
        let log = work_dir.join(format!("{name}.log"));
        let file = OpenOptions::new().create(true).append(true).open(&log)?;
        let child = command
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot start {name} ({command:?}): {e}"))
            })?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
        })
    }

    /// The peer's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the peer's stdout and stderr go.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// What the peer has written so far.
    pub fn log(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits until the peer listens on 127.0.0.1:`port`; fails early, with its log, if it exits.
    pub fn wait_for_port(&mut self, port: u16, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "{} (pid {}) exited with {status} before listening on port {port}; its log:\n{}",
                    self.name,
                    self.pid(),
                    self.log()
                )));
            }
            let step = deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(200));
            match wait_for_port(port, step) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("{}: {e}; its log:\n{}", self.name, self.log()),
                    ));
                }
                Err(_) => {}
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!(
                "---- {} (pid {}) log {} ----\n{}---- end of {} log ----",
                self.name,
                self.pid(),
                self.log.display(),
                self.log(),
                self.name
            );
        }
    }
}

/// A fresh work directory for one test, under the git-ignored `interop/.work/`; removed when
/// dropped.
pub fn work_dir(test: &str) -> TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(".work");
    std::fs::create_dir_all(&root)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
    tempfile::Builder::new()
        .prefix(&format!("{test}-"))
        .tempdir_in(&root)
        .unwrap_or_else(|e| panic!("cannot create a work directory in {}: {e}", root.display()))
}

/// A throw-away device CA and a server identity it issued for `127.0.0.1` and `localhost`,
/// written into a work directory as the PEM files peers load.
#[derive(Debug)]
pub struct DevicePki {
    /// The device CA (`REDY-12345-67890-CA`).
    pub ca: DeviceCa,
    /// The server identity: leaf then CA, and the leaf's key.
    pub identity: Identity,
    /// `ca.crt`: the CA certificate (what `--cacert` / `-CAfile` take).
    pub ca_crt: PathBuf,
    /// `server.crt`: the chain, leaf first (nginx's `ssl_certificate`).
    pub server_crt: PathBuf,
    /// `server.key`: the leaf's PKCS#8 key (nginx's `ssl_certificate_key`).
    pub server_key: PathBuf,
}

impl DevicePki {
    /// Generates the CA and identity now and writes them into `dir`.
    pub fn new(dir: &Path) -> Self {
        let now = SystemTime::now();
        let make = || -> Result<(DeviceCa, Identity), redy_certs::Error> {
            let ca = DeviceCa::generate(&"12345-67890".parse()?, now)?;
            let identity =
                ca.issue_server_certificate(&["127.0.0.1".parse()?, "localhost".parse()?], now)?;
            Ok((ca, identity))
        };
        let (ca, identity) = make().unwrap_or_else(|e| panic!("cannot make the test PKI: {e}"));
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            path
        };
        Self {
            ca_crt: write("ca.crt", ca.certificate().to_pem()),
            server_crt: write(
                "server.crt",
                identity.chain().iter().map(|c| c.to_pem()).collect(),
            ),
            server_key: write("server.key", identity.key().to_pem()),
            ca,
            identity,
        }
    }

    /// Trust in exactly this CA, as a device that imported `REDY-<WID>-CA.crt` has.
    pub fn trust(&self) -> TrustPolicy {
        TrustPolicy::CaCertificates(vec![self.ca.certificate().clone()])
    }
}

/// Runs `command` to completion with `stdin` as its input; kills it after `timeout`.
///
/// Returns its output (a killed command has no exit code); an error only if it cannot start.
pub fn run_with_timeout(
    command: &mut Command,
    stdin: &[u8],
    timeout: Duration,
) -> io::Result<Output> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut input = child.stdin.take();
    let stdin = stdin.to_vec();
    let writer = thread::spawn(move || {
        if let Some(pipe) = input.as_mut() {
            let _ = pipe.write_all(&stdin);
        }
        // Dropping the pipe closes the command's stdin.
    });
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// How long [`serve_once`] waits for its client, and how long a read or write may block.
pub const SERVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A redy-tls server for one connection, in a thread: listens on 127.0.0.1 (a free port),
/// accepts one client, completes the handshake, then hands the stream to `handler`.
///
/// Returns the port and the thread; its result is the handshake's or the handler's error,
/// else the handler's value. Waiting for the client, reads and writes each give up after
/// [`SERVE_TIMEOUT`].
pub fn serve_once<T, F>(config: ServerConfig, handler: F) -> (u16, JoinHandle<io::Result<T>>)
where
    T: Send + 'static,
    F: FnOnce(&mut TlsStream<TcpStream>) -> io::Result<T> + Send + 'static,
{
    let listener = TcpListener::bind((LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no local address: {e}"));
    let thread = thread::spawn(move || {
        let tcp = accept_within(&listener, SERVE_TIMEOUT)?;
        tcp.set_read_timeout(Some(SERVE_TIMEOUT))?;
        tcp.set_write_timeout(Some(SERVE_TIMEOUT))?;
        let session = TlsSession::server(&config).map_err(io::Error::other)?;
        let mut stream = TlsStream::connect(session, tcp)?;
        handler(&mut stream)
    });
    (port, thread)
}

fn accept_within(listener: &TcpListener, timeout: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false)?;
                return Ok(tcp);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no client connected",
                ));
            }
            Err(e) => return Err(e),
        }
    }
}

/// `len` deterministic pseudo-random bytes (xorshift); different seeds give different bytes.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Creates a file of `len` [`pseudo_random`] bytes (seed 0), e.g. nginx's `big.bin`, and
/// returns its content.
pub fn write_pseudo_random(path: &Path, len: usize) -> Vec<u8> {
    let data = pseudo_random(len, 0);
    let mut file =
        File::create(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    file.write_all(&data)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    data
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_peer_that_exits_early_is_reported_with_its_log() {
        let dir = work_dir("harness");
        let mut command = Command::new("sh");
        command.args(["-c", "echo 'cannot load certificate' >&2; exit 3"]);
        let mut peer = Peer::spawn("failing", command, dir.path()).unwrap();
        let err = peer
            .wait_for_port(free_port(), Duration::from_secs(5))
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("exited with exit status: 3"), "{message}");
        assert!(message.contains("cannot load certificate"), "{message}");
    }

    #[test]
    fn a_dropped_peer_is_killed() {
        let dir = work_dir("harness");
        let mut command = Command::new("sleep");
        command.arg("30");
        let peer = Peer::spawn("sleeper", command, dir.path()).unwrap();
        let proc_dir = PathBuf::from(format!("/proc/{}", peer.pid()));
        assert!(proc_dir.exists());
        drop(peer);
        assert!(!proc_dir.exists(), "killed and reaped");
    }

    #[test]
    fn waiting_for_a_closed_port_times_out() {
        let err = wait_for_port(free_port(), Duration::from_millis(300)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_hanging_command_is_killed_after_its_timeout() {
        let start = Instant::now();
        let output = run_with_timeout(
            Command::new("sleep").arg("30"),
            b"",
            Duration::from_millis(300),
        )
        .unwrap();
        assert!(!output.status.success());
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn device_pki_files_are_pem() {
        let dir = work_dir("harness");
        let pki = DevicePki::new(dir.path());
        let chain = std::fs::read_to_string(&pki.server_crt).unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf and CA");
        assert!(
            std::fs::read_to_string(&pki.server_key)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        let ca = std::fs::read(&pki.ca_crt).unwrap();
        assert_eq!(
            redy_certs::Certificate::from_pem(&ca).unwrap(),
            *pki.ca.certificate()
        );
    }
}
