//! Real FTPS servers on 127.0.0.1 for redy-ftps' interop tests: vsftpd, ProFTPD (mod_tls) and
//! Pure-FTPd, one instance per [`FtpServer::start`], each in its own work directory with its
//! own [`DevicePki`] and FTP root.
//!
//! ```text
//!   require_ftp_server(kind)                     installed? else SKIPPED (or a panic under CI)
//!   FtpServer::start(kind, FtpTls::Implicit | FtpTls::Explicit, tls12_only)?
//!     .addr() / .url()                           the control connection, 127.0.0.1:port
//!     .user() / .password()                      the test user, FTP_USER / FTP_PASSWORD
//!     .pki()                                     the CA to trust; the certificate names
//!                                                127.0.0.1 and localhost
//!     .root()                                    the directory the user sees as "/"
//!     .log()                                     what the server logged, for diagnostics
//!     .reference_client(no_reuse, ops)           Python's ssl as the client (ftps_client.py)
//! ```
//!
//! Every server: TLS required for login and for every data connection (`PROT P`), TLS 1.2 and
//! 1.3 (or TLS 1.2 only), passive mode on a few ports of its own announced as 127.0.0.1, the user
//! chrooted into [`root`](FtpServer::root) where uploads, overwriting, MKD, RMD, DELE,
//! RNFR/RNTO, APPE and REST are allowed. The servers run as root and write files as the test
//! user. What differs, as `tests/ftp_peers.rs` checks with curl and the reference client:
//!
//! | | vsftpd 3.0.3 | ProFTPD 1.3.8 | Pure-FTPd 1.0.50 |
//! |---|---|---|---|
//! | implicit TLS | yes | yes | no (explicit `AUTH TLS` only) |
//! | data connection must resume the control connection's TLS session | yes: `522 SSL connection failed: session reuse required` | yes: `150`, then `425 Unable to build data connection: Operation not permitted` | no; with TLS 1.3 it never resumes (no tickets) |
//! | close_notify when it ends a data connection (and in answer to the client's after an upload) | yes | yes | yes |
//! | close_notify after `221` | no: plain TCP close | yes | no: plain TCP close |
//! | TLS 1.3 NewSessionTicket on data connections | yes, after the resumed handshake | no | no |
//! | `LIST` owner and group | numeric (no `/etc/passwd` in the chroot) | names | uid, group name |
//! | `NLST` | names | names | names, and `.` and `..` |
//! | clients at once | unlimited | 50 | 8: half its 16 passive ports |
//! | its log ([`log`](FtpServer::log)) | every command and reply, TLS details | commands with reply codes, TLS details | transfers only (the rest goes to syslog, absent here) |
//!
//! vsftpd's ticket on TLS 1.3 data connections matters for uploads: a client that closes the
//! data connection without reading it makes the kernel answer with a TCP RST, which discards
//! upload data vsftpd has not read yet; vsftpd replies `426 Failure reading network stream` and
//! keeps a truncated file. Debian's curl 7.88 and lftp 4.9 lose uploads this way about half the
//! time (curl issue 6149). A client must read the data connection after sending its
//! close_notify, until vsftpd's close_notify or EOF, as the reference client does.

use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::ops::RangeInclusive;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

use crate::smtp::{json, send_signal};
use crate::{
    DevicePki, LOCALHOST, Peer, START_TIMEOUT, free_port, peer_script, run_with_timeout, which,
};

/// The test user every server logs in (a system account made by `bash interop/setup.sh`; a
/// puredb user of the same name and uid for Pure-FTPd).
pub const FTP_USER: &str = "redyftp";

/// [`FTP_USER`]'s password.
pub const FTP_PASSWORD: &str = "redy-interop-ftp";

/// The server name to verify the certificate against (it also names `127.0.0.1`).
pub const FTP_SERVER_NAME: &str = "localhost";

/// Which FTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FtpServerKind {
    /// vsftpd (Debian's package, apt-installed).
    Vsftpd,
    /// ProFTPD with mod_tls (Debian's packages, unpacked into `interop/.pkg/proftpd`).
    Proftpd,
    /// Pure-FTPd (Debian's package, unpacked into `interop/.pkg/pure-ftpd`).
    PureFtpd,
}

impl FtpServerKind {
    /// All three.
    pub const ALL: [FtpServerKind; 3] = [
        FtpServerKind::Vsftpd,
        FtpServerKind::Proftpd,
        FtpServerKind::PureFtpd,
    ];

    /// `vsftpd`, `proftpd` or `pure-ftpd`.
    pub fn name(self) -> &'static str {
        match self {
            FtpServerKind::Vsftpd => "vsftpd",
            FtpServerKind::Proftpd => "proftpd",
            FtpServerKind::PureFtpd => "pure-ftpd",
        }
    }

    /// Its script in `interop/peers/`.
    fn script(self) -> &'static str {
        match self {
            FtpServerKind::Vsftpd => "vsftpd.sh",
            FtpServerKind::Proftpd => "proftpd.sh",
            FtpServerKind::PureFtpd => "pureftpd.sh",
        }
    }

    /// Whether it serves `mode`: Pure-FTPd has no implicit TLS.
    pub fn supports(self, mode: FtpTls) -> bool {
        !(self == FtpServerKind::PureFtpd && mode == FtpTls::Implicit)
    }

    /// Whether every data connection must resume the control connection's TLS session (vsftpd
    /// `require_ssl_reuse=YES`, ProFTPD's default); a client that does not is refused.
    pub fn requires_session_reuse(self) -> bool {
        self != FtpServerKind::PureFtpd
    }

    /// Whether it sends a TLS close_notify before closing the control connection after `221`
    /// (only ProFTPD; the others just close TCP: treat that EOF as the normal end).
    pub fn sends_close_notify_after_221(self) -> bool {
        self == FtpServerKind::Proftpd
    }

    /// Whether it sends a TLS close_notify when it ends a data connection (after `RETR` or
    /// `LIST` data, and in answer to the client's close_notify after an upload): all three do.
    pub fn sends_close_notify_on_data(self) -> bool {
        true
    }

    /// Whether, with TLS 1.3, it sends a NewSessionTicket on each (resumed) data connection,
    /// which a client must read before closing an upload's data connection (see the
    /// [`ftp`](crate::ftp) module docs): only vsftpd.
    pub fn sends_ticket_on_tls13_data(self) -> bool {
        self == FtpServerKind::Vsftpd
    }

    /// The files in its work directory that [`FtpServer::log`] adds to its output.
    fn log_files(self) -> &'static [&'static str] {
        match self {
            FtpServerKind::Vsftpd => &["vsftpd.log"],
            FtpServerKind::Proftpd => &["commands.log", "tls.log", "xferlog"],
            FtpServerKind::PureFtpd => &["transfer.log"],
        }
    }
}

/// How the client reaches TLS on the control connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FtpTls {
    /// TLS from the first byte (`ftps://`, port 990 style).
    Implicit,
    /// A plain `220` greeting, then `AUTH TLS` (`ftp://` + `--ssl-reqd`, port 21 style).
    Explicit,
}

impl FtpTls {
    /// The mode's name in the peer scripts' arguments: `implicit` or `explicit`.
    pub fn as_arg(self) -> &'static str {
        match self {
            FtpTls::Implicit => "implicit",
            FtpTls::Explicit => "explicit",
        }
    }
}

/// True when `kind` can run here (`bash interop/peers/<script> check`: the server, its
/// libraries and the test user are installed).
///
/// Like [`require`](crate::require): when it is missing, panics under `CI` or
/// `REDY_REQUIRE_PEERS`, else prints a loud `SKIPPED` line and returns false.
pub fn require_ftp_server(kind: FtpServerKind) -> bool {
    let installed = peer_script(kind.script())
        .arg("check")
        .status()
        .is_ok_and(|s| s.success());
    installed || crate::missing_peer(kind.name())
}

/// How many passive ports each server gets. Pure-FTPd allows at most half as many clients at
/// once as it has passive ports (so as not to run out of them): 16 ports, 8 clients.
const PASSIVE_PORTS: u16 = 16;
/// Passive ranges are taken from here, below Linux's ephemeral ports (32768 to 60999), where
/// [`free_port`] and every client connection get theirs: no connection can be holding one.
const PASSIVE_FIRST: u16 = 20_000;
const PASSIVE_END: u16 = 32_000;
/// The next passive range to try in this process (tests start servers in parallel threads).
static NEXT_PASSIVE: AtomicU32 = AtomicU32::new(0);

/// A range of [`PASSIVE_PORTS`] ports that are free now and not given to another server of
/// this process. The first range tried depends on the process ID, so that two test processes
/// (two worktrees) mostly try different ones.
fn passive_ports() -> io::Result<RangeInclusive<u16>> {
    let slots = u32::from((PASSIVE_END - PASSIVE_FIRST) / PASSIVE_PORTS);
    let offset = std::process::id() % slots;
    for _ in 0..slots {
        let slot = (offset + NEXT_PASSIVE.fetch_add(1, Ordering::Relaxed)) % slots;
        let Ok(slot) = u16::try_from(slot) else {
            continue;
        };
        let first = PASSIVE_FIRST + slot * PASSIVE_PORTS;
        let range = first..=first + PASSIVE_PORTS - 1;
        if range
            .clone()
            .all(|port| TcpListener::bind((LOCALHOST, port)).is_ok())
        {
            return Ok(range);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no {PASSIVE_PORTS} free passive ports in {PASSIVE_FIRST}..{PASSIVE_END}"),
    ))
}

/// An FTPS server of its own (`interop/peers/<kind>.sh run`): configuration, logs, [`DevicePki`]
/// and FTP root in a fresh work directory under `interop/.work/`, the daemon in the foreground.
///
/// Dropping it kills the daemon and its session processes (by their PIDs) and removes the work
/// directory; when the test is panicking, it prints [`log`](Self::log) first.
#[derive(Debug)]
pub struct FtpServer {
    peer: Option<Peer>,
    kind: FtpServerKind,
    mode: FtpTls,
    tls12_only: bool,
    port: u16,
    passive_ports: RangeInclusive<u16>,
    root: PathBuf,
    pki: DevicePki,
    dir: TempDir,
}

impl FtpServer {
    /// Starts `kind` in `mode`, TLS 1.2 only when `tls12_only` (else TLS 1.2 and 1.3), and
    /// waits until it accepts connections.
    ///
    /// Fails when `kind` does not support `mode` (Pure-FTPd and [`FtpTls::Implicit`]), when it
    /// is not installed (check [`require_ftp_server`] first), or when it does not start (the
    /// error holds its log).
    pub fn start(kind: FtpServerKind, mode: FtpTls, tls12_only: bool) -> io::Result<Self> {
        if !kind.supports(mode) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{} has no {} TLS", kind.name(), mode.as_arg()),
            ));
        }
        let dir = crate::work_dir(&format!("ftp-{}", kind.name()));
        let pki = DevicePki::new(dir.path());
        let root = dir.path().join("root");
        std::fs::create_dir(&root)?;
        let port = free_port();
        let passive_ports = passive_ports()?;
        let mut command = peer_script(kind.script());
        command
            .arg("run")
            .arg(dir.path())
            .arg(mode.as_arg())
            .arg(port.to_string())
            .arg(passive_ports.start().to_string())
            .arg(passive_ports.end().to_string())
            .arg(&pki.server_crt)
            .arg(&pki.server_key)
            .arg(if tls12_only { "1.2" } else { "1.3" })
            .arg(&root);
        let mut peer = Peer::spawn(kind.name(), command, dir.path())?;
        peer.wait_for_port(port, START_TIMEOUT)?;
        Ok(Self {
            peer: Some(peer),
            kind,
            mode,
            tls12_only,
            port,
            passive_ports,
            root,
            pki,
            dir,
        })
    }

    /// Which server this is.
    pub fn kind(&self) -> FtpServerKind {
        self.kind
    }

    /// The mode it was started in.
    pub fn mode(&self) -> FtpTls {
        self.mode
    }

    /// Whether it offers TLS 1.2 only (else TLS 1.2 and 1.3).
    pub fn tls12_only(&self) -> bool {
        self.tls12_only
    }

    /// The control connection's address, 127.0.0.1:port.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((LOCALHOST, self.port))
    }

    /// The control connection's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of its root directory: `ftps://127.0.0.1:PORT/` for implicit TLS,
    /// `ftp://127.0.0.1:PORT/` for explicit (curl then needs `--ssl-reqd`).
    pub fn url(&self) -> String {
        let scheme = match self.mode {
            FtpTls::Implicit => "ftps",
            FtpTls::Explicit => "ftp",
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// The ports its passive data connections listen on (on 127.0.0.1, which its `PASV`
    /// replies announce).
    pub fn passive_ports(&self) -> RangeInclusive<u16> {
        self.passive_ports.clone()
    }

    /// The user to log in as: [`FTP_USER`].
    pub fn user(&self) -> &str {
        FTP_USER
    }

    /// The user's password: [`FTP_PASSWORD`].
    pub fn password(&self) -> &str {
        FTP_PASSWORD
    }

    /// The directory the user sees as `/` (a chroot), owned by the test user. The test (root)
    /// can read and write it directly; files it creates there with
    /// [`create_file`](Self::create_file) belong to the test user, so the server can also
    /// overwrite, append to and rename them.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The CA to trust and the server's identity (a certificate for `127.0.0.1` and
    /// `localhost`; see [`FTP_SERVER_NAME`]).
    pub fn pki(&self) -> &DevicePki {
        &self.pki
    }

    /// See [`FtpServerKind::requires_session_reuse`].
    pub fn requires_reuse(&self) -> bool {
        self.kind.requires_session_reuse()
    }

    /// See [`FtpServerKind::sends_close_notify_after_221`].
    pub fn sends_close_notify_after_221(&self) -> bool {
        self.kind.sends_close_notify_after_221()
    }

    /// See [`FtpServerKind::sends_close_notify_on_data`].
    pub fn sends_close_notify_on_data(&self) -> bool {
        self.kind.sends_close_notify_on_data()
    }

    /// Writes `contents` to `relative` (a path below [`root`](Self::root), parent directories
    /// created) and gives the file and the directories made to the test user. Returns the path.
    pub fn create_file(&self, relative: &str, contents: &[u8]) -> io::Result<PathBuf> {
        let path = self.root.join(relative.trim_start_matches('/'));
        if let Some(parent) = path.parent() {
            self.create_dir(parent)?;
        }
        std::fs::write(&path, contents)?;
        self.give_to_user(&path)?;
        Ok(path)
    }

    /// Creates `dir` (below [`root`](Self::root)) and its missing parents, owned by the test user.
    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.create_dir(parent)?;
        }
        std::fs::create_dir(dir)?;
        self.give_to_user(dir)
    }

    /// Changes `path`'s owner to the test user, who owns [`root`](Self::root) (the run script
    /// made it so).
    fn give_to_user(&self, path: &Path) -> io::Result<()> {
        let owner = std::fs::metadata(&self.root)?;
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid()))
    }

    /// The daemon's PID (its listener; sessions are its child processes).
    pub fn pid(&self) -> u32 {
        self.peer.as_ref().map_or(0, Peer::pid)
    }

    /// Its work directory (configuration, PKI, logs, `root/`).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server logged so far: its stdout and stderr, then its log files (vsftpd: every
    /// command and reply with TLS details; ProFTPD: commands with reply codes, TLS details,
    /// transfers; Pure-FTPd: transfers only, it logs the rest to syslog, which is not there).
    pub fn log(&self) -> String {
        let mut log = self.peer.as_ref().map(Peer::log).unwrap_or_default();
        for name in self.kind.log_files() {
            if let Ok(text) = std::fs::read(self.dir.path().join(name)) {
                let _ = write!(log, "---- {name} ----\n{}", String::from_utf8_lossy(&text));
            }
        }
        log
    }

    /// A command running the reference client, `interop/peers/ftps_client.py`, against this
    /// server: Python's `ssl` (OpenSSL), trusting only [`pki`](Self::pki)'s CA, as
    /// [`FTP_USER`], with TLS 1.2 only when `tls12_only` (else up to TLS 1.3), resuming the
    /// control connection's TLS session on data connections unless `no_reuse`. Add its OPs
    /// (`put:LOCAL:REMOTE`, `putrest:OFFSET:LOCAL:REMOTE`, `get:REMOTE:LOCAL`, `list[:PATH]`;
    /// see the script's docs) and run it, or use
    /// [`run_reference_client`](Self::run_reference_client).
    pub fn reference_client(&self, tls12_only: bool, no_reuse: bool) -> Command {
        let python = which("python3").unwrap_or_else(|| PathBuf::from("/usr/bin/python3"));
        let mut command = Command::new(python);
        command
            .arg(crate::peers_dir().join("ftps_client.py"))
            .args([
                "--port",
                &self.port.to_string(),
                "--mode",
                self.mode.as_arg(),
            ])
            .arg("--cafile")
            .arg(&self.pki.ca_crt)
            .args(["--server-name", FTP_SERVER_NAME])
            .args(["--user", FTP_USER, "--password", FTP_PASSWORD])
            .args(["--tls-max", if tls12_only { "1.2" } else { "1.3" }]);
        if no_reuse {
            command.arg("--no-reuse");
        }
        command
    }

    /// Runs the [`reference_client`](Self::reference_client) with `ops` (killed after 60 s)
    /// and returns what it reported. An error only when it cannot run.
    pub fn run_reference_client(
        &self,
        tls12_only: bool,
        no_reuse: bool,
        ops: &[String],
    ) -> io::Result<ClientRun> {
        let mut command = self.reference_client(tls12_only, no_reuse);
        command.args(ops);
        let output = run_with_timeout(&mut command, b"", Duration::from_secs(60))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let steps = stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(ClientStep::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io::Error::other(format!("ftps_client.py printed {e}:\n{stdout}")))?;
        Ok(ClientRun {
            success: output.status.success(),
            steps,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        let Some(peer) = self.peer.take() else {
            return;
        };
        if thread::panicking() {
            // The peer prints its own stdout and stderr; this adds the log files.
            let mut files = String::new();
            for name in self.kind.log_files() {
                if let Ok(text) = std::fs::read(self.dir.path().join(name)) {
                    let _ = write!(
                        files,
                        "---- {name} ----\n{}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
            eprintln!(
                "---- {} log files in {} ----\n{files}",
                self.kind.name(),
                self.dir.path().display()
            );
        }
        // The sessions first, while they are certainly the daemon's children; then the daemon
        // (killed and reaped by the peer).
        for pid in descendants(peer.pid()) {
            send_signal("KILL", &pid.to_string());
        }
        drop(peer);
    }
}

/// The processes below `pid` (children, their children, ...), read from `/proc`.
fn descendants(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| {
            let child: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
            let _state = fields.next()?;
            let ppid: u32 = fields.next()?.parse().ok()?;
            Some((child, ppid))
        })
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while let Some(&parent) = found.get(i) {
        found.extend(
            parents
                .iter()
                .filter(|&&(child, ppid)| ppid == parent && !found.contains(&child))
                .map(|&(child, _)| child)
                .collect::<Vec<_>>(),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// What [`FtpServer::run_reference_client`] reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRun {
    /// Whether every reply was a success (its exit status).
    pub success: bool,
    /// The steps that completed, in order: `login`, then one per OP, then `quit`.
    pub steps: Vec<ClientStep>,
    /// Its stderr: the failing reply or error when not [`success`](Self::success).
    pub stderr: String,
}

impl ClientRun {
    /// The first step named `op` (`login`, `put`, `putrest`, `get`, `list`, `quit`).
    pub fn step(&self, op: &str) -> Option<&ClientStep> {
        self.steps.iter().find(|s| s.op == op)
    }
}

/// One step of the reference client's session (one line of its JSON output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientStep {
    /// `login`, `put`, `putrest`, `get`, `list` or `quit`.
    pub op: String,
    /// The server's final reply (`226 ...`, `221 ...`); multi-line replies joined by `\n`.
    pub reply: Option<String>,
    /// The connection's TLS version, `TLSv1.2` or `TLSv1.3` (login: control; others: data).
    pub tls_version: Option<String>,
    /// Whether the data connection resumed the control connection's TLS session.
    pub resumed: Option<bool>,
    /// Whether the server ended the connection with a TLS close_notify (see
    /// `ftps_client.py`): the data connection for transfers, the control one for `quit`.
    pub close_notify: Option<bool>,
    /// Bytes sent (put, putrest) or received (get, list).
    pub bytes: Option<u64>,
    /// The listing's text (list).
    pub listing: Option<String>,
}

impl ClientStep {
    fn parse(line: &str) -> Result<Self, String> {
        let value = json::parse(line)?;
        let string = |key: &str| {
            value
                .get(key)
                .and_then(json::Value::as_str)
                .map(str::to_owned)
        };
        Ok(Self {
            op: string("op").ok_or("no op")?,
            reply: string("reply"),
            tls_version: string("tls_version"),
            resumed: value.get("resumed").and_then(json::Value::as_bool),
            close_notify: value.get("close_notify").and_then(json::Value::as_bool),
            bytes: value.get("bytes").and_then(json::Value::as_u64),
            listing: string("listing"),
        })
    }
}
