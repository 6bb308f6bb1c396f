//! Real SMTP submission servers on 127.0.0.1 for redy-smtps' interop tests and benchmark:
//! Postfix and aiosmtpd, each in its own work directory (on tmpfs when there is one: see
//! `smtp_work_dir`), plus the Python `smtplib` baseline.
//!
//! ```text
//!   Postfix::start(&pki, user, password)            smtps_port(): implicit TLS (465 style)
//!                                                   submission_port(): STARTTLS required (587 style)
//!     .wait_for_messages(n, timeout) / .delivered()   the Maildir's files: LF line endings,
//!                                                   trace headers prepended
//!   Aiosmtpd::start(&pki, TlsMode::Implicit | TlsMode::StartTls, user, password)
//!     .wait_for_messages(n, timeout) / .messages()    the DATA bytes exactly as received, with
//!                                                   the envelope, TLS and AUTH user
//!   smtplib_send(port, mode, ca, user, password, count, size)   elapsed time of Python's smtplib
//! ```
//!
//! Both servers: TLS 1.2 and 1.3 with the [`DevicePki`] server certificate (for `127.0.0.1` and
//! `localhost`), AUTH PLAIN and LOGIN with the one user/password given, offered only under TLS,
//! and required before `MAIL`; any sender and recipient domain is accepted. Both advertise SIZE,
//! 8BITMIME, SMTPUTF8 and PIPELINING. A peer is stopped, with all its processes, when dropped.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{
    DevicePki, Peer, START_TIMEOUT, free_port, peer_script, require, run_with_timeout, which,
};

/// How the client reaches TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
    /// A plain greeting, then `STARTTLS` (submission, port 587).
    StartTls,
}

impl TlsMode {
    /// The mode's name in the peer scripts' arguments: `implicit` or `starttls`.
    pub fn as_arg(self) -> &'static str {
        match self {
            TlsMode::Implicit => "implicit",
            TlsMode::StartTls => "starttls",
        }
    }
}

/// True when Postfix can run here (`postsuper` and `saslpasswd2` installed); see [`require`].
pub fn require_postfix() -> bool {
    require("postsuper") && require("saslpasswd2")
}

/// True when aiosmtpd can run here: a python3 that imports it (`bash aiosmtpd.sh check`).
///
/// Like [`require`]: when it is missing, panics under `CI` or `REDY_REQUIRE_PEERS`, else prints
/// a loud `SKIPPED` line and returns false.
pub fn require_aiosmtpd() -> bool {
    if !require("python3") {
        return false;
    }
    let installed = peer_script("aiosmtpd.sh")
        .arg("check")
        .status()
        .is_ok_and(|s| s.success());
    installed || crate::missing_peer("aiosmtpd")
}

/// A fresh work directory for an SMTP peer, removed when dropped: on tmpfs (`/dev/shm`) when
/// there is one, else [`work_dir`](crate::work_dir) under `interop/.work/`.
///
/// Both servers write files for every message (Postfix fsyncs its queue file and the Maildir
/// file; aiosmtpd writes two files): on this VM's disk that made 1,000 messages take 2 to 4 s
/// and vary by 2x from run to run, on tmpfs about 1 to 1.5 s. A benchmark wants the server's
/// disk out of the measurement.
fn smtp_work_dir(name: &str) -> TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix(&format!("redy-interop-{name}-"))
            .tempdir_in(shm)
    {
        return dir;
    }
    crate::work_dir(name)
}

/// How often the `wait_for_messages` functions look for new messages.
const POLL: Duration = Duration::from_millis(20);

/// Two distinct free ports.
fn two_free_ports() -> (u16, u16) {
    let first = free_port();
    loop {
        let second = free_port();
        if second != first {
            return (first, second);
        }
    }
}

/// Polls `read` until it returns at least `n` items or `timeout` passes.
fn wait_for<T>(
    n: usize,
    timeout: Duration,
    what: &str,
    read: impl Fn() -> Vec<T>,
    log: impl Fn() -> String,
) -> io::Result<Vec<T>> {
    let deadline = Instant::now() + timeout;
    loop {
        let items = read();
        if items.len() >= n {
            return Ok(items);
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{what}: {} of {n} messages after {timeout:?}; its log:\n{}",
                    items.len(),
                    log()
                ),
            ));
        }
        thread::sleep(POLL);
    }
}

/// Sends `signal` (a name such as `TERM` or `KILL`) to `target` (a PID, or `-PGID` for a
/// process group) with `kill`; false when it could not be sent (e.g. nothing is there any more).
pub(crate) fn send_signal(signal: &str, target: &str) -> bool {
    // bash's builtin kill: bash is there wherever the peer scripts run.
    Command::new(which("bash").unwrap_or_else(|| PathBuf::from("/bin/bash")))
        .args([
            "-c",
            "kill -s \"$1\" -- \"$2\" 2>/dev/null",
            "kill",
            signal,
            target,
        ])
        .status()
        .is_ok_and(|s| s.success())
}

/// The live (not zombie) processes whose process group is `pgid`, read from `/proc`.
///
/// Postfix's master leads its own process group (it calls `setsid`), so after a [`Postfix`] is
/// dropped this is empty for its [`Postfix::pid`].
pub fn live_processes_in_group(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
            let state = fields.next()?;
            let _ppid = fields.next()?;
            let pgrp: u32 = fields.next()?.parse().ok()?;
            (pgrp == pgid && state != "Z").then_some(pid)
        })
        .collect()
}

/// Whether process `pid` has exited (gone, or a zombie waiting to be reaped).
fn has_exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat.get(i + 1..))
            .and_then(|rest| rest.split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Postfix

/// A Postfix instance of its own (`interop/peers/postfix.sh run`): configuration, queue and
/// Maildir in a fresh work directory, the master daemon in the foreground.
///
/// * [`smtps_port`](Self::smtps_port): implicit TLS (`smtpd_tls_wrappermode=yes`).
/// * [`submission_port`](Self::submission_port): STARTTLS, required before `MAIL` and `AUTH`
///   (`smtpd_tls_security_level=encrypt`, `smtpd_tls_auth_only=yes`).
///
/// AUTH PLAIN and LOGIN check the one user against a Cyrus sasldb; Postfix knows a user `alice`
/// as `alice@localhost` (its SASL realm; a user `bob@example.com` stays as it is), which is what
/// it logs and writes in the `Received` header: `(Authenticated sender: alice@localhost)`.
/// Only an authenticated client may send; every recipient is delivered into the one Maildir.
///
/// What [`delivered`](Self::delivered) returns is what Postfix stored, not what the client
/// sent: LF line endings instead of CRLF (dot-stuffing removed), `Return-Path`,
/// `X-Original-To`, `Delivered-To` and a `Received` header (naming the TLS version and cipher
/// and the authenticated user) prepended, and `Message-Id` / `Date` headers added when the
/// message had none. Compare bodies with [`message_body`] and [`to_lf`].
///
/// Dropping it sends SIGTERM to the master, which stops every Postfix process of the instance;
/// any process of its group still alive after 5 s is killed.
#[derive(Debug)]
pub struct Postfix {
    peer: Option<Peer>,
    smtps_port: u16,
    submission_port: u16,
    dir: TempDir,
}

impl Postfix {
    /// Starts Postfix with the test PKI's server certificate and one SASL user, and waits until
    /// both ports listen. Panics, with Postfix's log, when it cannot start.
    pub fn start(pki: &DevicePki, user: &str, password: &str) -> Self {
        let dir = smtp_work_dir("postfix");
        let (smtps_port, submission_port) = two_free_ports();
        let mut command = peer_script("postfix.sh");
        command
            .arg("run")
            .arg(dir.path())
            .arg(smtps_port.to_string())
            .arg(submission_port.to_string())
            .arg(&pki.server_crt)
            .arg(&pki.server_key)
            .arg(user)
            .arg(password);
        let mut peer = Peer::spawn("postfix", command, dir.path())
            .unwrap_or_else(|e| panic!("cannot start postfix: {e}"));
        for port in [smtps_port, submission_port] {
            peer.wait_for_port(port, START_TIMEOUT)
                .unwrap_or_else(|e| panic!("postfix did not start: {e}"));
        }
        Self {
            peer: Some(peer),
            smtps_port,
            submission_port,
            dir,
        }
    }

    /// The implicit-TLS port on 127.0.0.1.
    pub fn smtps_port(&self) -> u16 {
        self.smtps_port
    }

    /// The STARTTLS-required submission port on 127.0.0.1.
    pub fn submission_port(&self) -> u16 {
        self.submission_port
    }

    /// The port for `mode`: [`smtps_port`](Self::smtps_port) or
    /// [`submission_port`](Self::submission_port).
    pub fn port(&self, mode: TlsMode) -> u16 {
        match mode {
            TlsMode::Implicit => self.smtps_port,
            TlsMode::StartTls => self.submission_port,
        }
    }

    /// The master daemon's PID, which is also its process group's ID.
    pub fn pid(&self) -> u32 {
        self.peer.as_ref().map_or(0, Peer::pid)
    }

    /// The instance's work directory (`etc/`, `queue/`, `data/`, `Maildir/`, `postfix.log`).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The Maildir's `new/` directory, where delivered messages appear, one file each.
    pub fn maildir_new(&self) -> PathBuf {
        self.dir.path().join("Maildir").join("new")
    }

    /// Postfix's log so far (its `maillog_file` is its stdout).
    pub fn log(&self) -> String {
        self.peer.as_ref().map(Peer::log).unwrap_or_default()
    }

    /// Every message delivered so far, as stored (see the type's docs), oldest first (by file
    /// time, then name: Postfix may deliver concurrently, so do not rely on the order of
    /// messages sent close together; match them by content).
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir_new()) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                let modified = e.metadata().ok()?.modified().ok()?;
                Some((modified, e.path()))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(path).ok())
            .collect()
    }

    /// Waits until at least `n` messages have been delivered, and returns them all
    /// ([`delivered`](Self::delivered)); times out with an error holding Postfix's log.
    pub fn wait_for_messages(&self, n: usize, timeout: Duration) -> io::Result<Vec<Vec<u8>>> {
        wait_for(n, timeout, "postfix", || self.delivered(), || self.log())
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let Some(peer) = self.peer.take() else {
            return;
        };
        let pid = peer.pid();
        // master answers SIGTERM by sending SIGTERM to its process group, then exits.
        send_signal("TERM", &pid.to_string());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !has_exited(pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        // Kills master if it is still there, reaps it, prints the log if the test failed.
        drop(peer);
        while !live_processes_in_group(pid).is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        if !live_processes_in_group(pid).is_empty() {
            send_signal("KILL", &format!("-{pid}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// aiosmtpd

/// One message received by [`Aiosmtpd`], with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The DATA bytes exactly as received: dot-stuffing and the final `.CRLF` removed, so with
    /// the client's CRLF line endings and the CRLF that ended the last line.
    pub data: Vec<u8>,
    /// `MAIL FROM` address (without the angle brackets).
    pub mail_from: String,
    /// The `RCPT TO` addresses, in order.
    pub rcpt_to: Vec<String>,
    /// The `MAIL FROM` parameters, e.g. `SIZE=1024`, `BODY=8BITMIME`, `SMTPUTF8`.
    pub mail_options: Vec<String>,
    /// Whether the client asked for SMTPUTF8.
    pub smtputf8: bool,
    /// Whether the connection was TLS when the message was received.
    pub tls: bool,
    /// `TLSv1.2` or `TLSv1.3` (OpenSSL's name), under TLS.
    pub tls_version: Option<String>,
    /// The user who authenticated (as the client gave it).
    pub auth_user: Option<String>,
    /// The TCP connection's number (1, 2, ... in order of arrival at this server; 1 is the
    /// harness's probe for the listening port): messages sent in one session share it.
    pub connection: u64,
    /// The EHLO/HELO name.
    pub helo: Option<String>,
}

/// An aiosmtpd server (`interop/peers/aiosmtpd.sh run`, i.e. `aiosmtpd_server.py`) that records
/// every message it receives in its work directory.
///
/// [`TlsMode::Implicit`]: TLS from the first byte. [`TlsMode::StartTls`]: STARTTLS required
/// before anything but EHLO/HELO, NOOP and QUIT; AUTH offered only after it. AUTH (PLAIN or
/// LOGIN) is required before `MAIL`. Replies `250 2.0.0 OK queued as N` to each message.
#[derive(Debug)]
pub struct Aiosmtpd {
    peer: Peer,
    port: u16,
    mode: TlsMode,
    out: PathBuf,
    dir: TempDir,
}

impl Aiosmtpd {
    /// Starts aiosmtpd in `mode` with the test PKI's server certificate and one user, and waits
    /// until it listens. Panics, with its log, when it cannot start.
    pub fn start(pki: &DevicePki, mode: TlsMode, user: &str, password: &str) -> Self {
        let dir = smtp_work_dir("aiosmtpd");
        let port = free_port();
        let out = dir.path().join("messages");
        let mut command = peer_script("aiosmtpd.sh");
        command
            .arg("run")
            .args(["--mode", mode.as_arg()])
            .args(["--port", &port.to_string()])
            .arg("--cert")
            .arg(&pki.server_crt)
            .arg("--key")
            .arg(&pki.server_key)
            .args(["--user", user, "--password", password])
            .arg("--out")
            .arg(&out);
        let mut peer = Peer::spawn("aiosmtpd", command, dir.path())
            .unwrap_or_else(|e| panic!("cannot start aiosmtpd: {e}"));
        peer.wait_for_port(port, START_TIMEOUT)
            .unwrap_or_else(|e| panic!("aiosmtpd did not start: {e}"));
        Self {
            peer,
            port,
            mode,
            out,
            dir,
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The mode it was started in.
    pub fn mode(&self) -> TlsMode {
        self.mode
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.peer.pid()
    }

    /// Its work directory; messages are in `messages/` as `N.eml` and `N.json`.
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server has written to stdout and stderr so far.
    pub fn log(&self) -> String {
        self.peer.log()
    }

    /// Every message received so far, in the order received.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        let mut messages = Vec::new();
        for number in 1.. {
            let envelope = self.out.join(format!("{number}.json"));
            // The server writes N.eml, then N.json (renamed into place): N.json means both.
            let Ok(json) = std::fs::read_to_string(&envelope) else {
                break;
            };
            let data = std::fs::read(self.out.join(format!("{number}.eml"))).unwrap_or_else(|e| {
                panic!("aiosmtpd wrote {number}.json but no {number}.eml: {e}")
            });
            let message = parse_envelope(&json, data)
                .unwrap_or_else(|e| panic!("{}: {e}: {json}", envelope.display()));
            messages.push(message);
        }
        messages
    }

    /// Waits until at least `n` messages have been received, and returns them all
    /// ([`messages`](Self::messages)); times out with an error holding the server's log.
    pub fn wait_for_messages(
        &self,
        n: usize,
        timeout: Duration,
    ) -> io::Result<Vec<ReceivedMessage>> {
        wait_for(n, timeout, "aiosmtpd", || self.messages(), || self.log())
    }
}

fn parse_envelope(text: &str, data: Vec<u8>) -> Result<ReceivedMessage, String> {
    let value = json::parse(text)?;
    let string = |key: &str| {
        value
            .get(key)
            .and_then(json::Value::as_str)
            .map(str::to_owned)
    };
    let strings = |key: &str| -> Vec<String> {
        value
            .get(key)
            .and_then(json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let flag = |key: &str| value.get(key).and_then(json::Value::as_bool) == Some(true);
    Ok(ReceivedMessage {
        data,
        mail_from: string("mail_from").ok_or("no mail_from")?,
        rcpt_to: strings("rcpt_to"),
        mail_options: strings("mail_options"),
        smtputf8: flag("smtputf8"),
        tls: flag("tls"),
        tls_version: string("tls_version"),
        auth_user: string("auth_user"),
        connection: value
            .get("connection")
            .and_then(json::Value::as_u64)
            .ok_or("no connection")?,
        helo: string("helo"),
    })
}

// ---------------------------------------------------------------------------------------------
// smtplib, the baseline client

/// Runs `interop/peers/smtplib_send.py`: Python's smtplib sends `count` messages of `size`
/// bytes in ONE session to 127.0.0.1:`port` (`SMTP_SSL` for [`TlsMode::Implicit`], `SMTP` +
/// `starttls()` for [`TlsMode::StartTls`]), trusting only `ca_file`, after AUTH as `user`.
///
/// Returns the time it printed (`elapsed=`: from connect to the QUIT reply, TLS handshake and
/// AUTH included, message generation excluded). An error holds its output when it fails (a
/// refused login, a certificate it does not trust, ...) or runs longer than 10 minutes.
///
/// Message `i` (1-based) has `Subject: message i of COUNT`, `From: <sender@example.com>`,
/// `To: <rcpt@example.org>` (also the envelope), and a body of 76-character CRLF lines, no line
/// starting with a dot.
pub fn smtplib_send(
    port: u16,
    mode: TlsMode,
    ca_file: &Path,
    user: &str,
    password: &str,
    count: usize,
    size: usize,
) -> io::Result<Duration> {
    // Only the standard library: any python3 runs it.
    let python = which("python3").unwrap_or_else(|| PathBuf::from("/usr/bin/python3"));
    let mut command = Command::new(python);
    command
        .arg(crate::peers_dir().join("smtplib_send.py"))
        .args(["--port", &port.to_string(), "--mode", mode.as_arg()])
        .arg("--cafile")
        .arg(ca_file)
        .args(["--user", user, "--password", password])
        .args(["--count", &count.to_string(), "--size", &size.to_string()]);
    let output = run_with_timeout(&mut command, b"", Duration::from_secs(600))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let elapsed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("elapsed="))
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|_| output.status.success())
        .and_then(|s| Duration::try_from_secs_f64(s).ok());
    elapsed.ok_or_else(|| {
        io::Error::other(format!(
            "smtplib_send.py failed ({}):\n{stdout}{stderr}",
            output.status
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Comparing messages

/// The body of a message: what follows the first empty line (CRLF CRLF or LF LF); empty when
/// there is none.
pub fn message_body(message: &[u8]) -> &[u8] {
    let crlf = message.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = message.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(c), Some(l)) if c < l => &message[c + 4..],
        (_, Some(l)) => &message[l + 2..],
        (Some(c), None) => &message[c + 4..],
        (None, None) => &[],
    }
}

/// The value of the first header field `name` (case-insensitive), unfolded and trimmed; `None`
/// when the header section has no such field.
pub fn header_value(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut value: Option<String> = None;
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(v) = value.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((field, rest)) = line.split_once(':')
            && field.eq_ignore_ascii_case(name)
        {
            value = Some(rest.trim().to_owned());
        }
    }
    value
}

/// `data` with every CRLF turned into LF, as Postfix stores messages.
pub fn to_lf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------

/// The little JSON the peers' Python scripts write (aiosmtpd_server.py, ftps_client.py):
/// objects, arrays, strings, numbers, true, false, null (no dependency for that).
pub(crate) mod json {
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        Number(f64),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        pub fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        pub fn as_str(&self) -> Option<&str> {
            match self {
                Value::String(s) => Some(s),
                _ => None,
            }
        }

        pub fn as_bool(&self) -> Option<bool> {
            match self {
                Value::Bool(b) => Some(*b),
                _ => None,
            }
        }

        pub fn as_u64(&self) -> Option<u64> {
            match self {
                Value::Number(n) if *n >= 0.0 && n.fract() == 0.0 => Some(*n as u64),
                _ => None,
            }
        }

        pub fn as_array(&self) -> Option<&[Value]> {
            match self {
                Value::Array(a) => Some(a),
                _ => None,
            }
        }
    }

    pub fn parse(text: &str) -> Result<Value, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value(0)?;
        parser.skip_ws();
        if parser.pos != parser.bytes.len() {
            return Err(format!("trailing characters at {}", parser.pos));
        }
        Ok(value)
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl Parser<'_> {
        fn skip_ws(&mut self) {
            while self
                .bytes
                .get(self.pos)
                .is_some_and(|b| b.is_ascii_whitespace())
            {
                self.pos += 1;
            }
        }

        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.pos).copied()
        }

        fn expect(&mut self, byte: u8) -> Result<(), String> {
            self.skip_ws();
            if self.peek() == Some(byte) {
                self.pos += 1;
                Ok(())
            } else {
                Err(format!("expected '{}' at {}", byte as char, self.pos))
            }
        }

        fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
            if self.bytes[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                Ok(value)
            } else {
                Err(format!("unexpected character at {}", self.pos))
            }
        }

        fn value(&mut self, depth: usize) -> Result<Value, String> {
            if depth > 32 {
                return Err("nested too deep".into());
            }
            self.skip_ws();
            match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    let mut members = Vec::new();
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Value::Object(members));
                    }
                    loop {
                        self.skip_ws();
                        let key = self.string()?;
                        self.expect(b':')?;
                        members.push((key, self.value(depth + 1)?));
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                return Ok(Value::Object(members));
                            }
                            _ => return Err(format!("expected ',' or '}}' at {}", self.pos)),
                        }
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    let mut items = Vec::new();
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Value::Array(items));
                    }
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                return Ok(Value::Array(items));
                            }
                            _ => return Err(format!("expected ',' or ']' at {}", self.pos)),
                        }
                    }
                }
                Some(b'"') => self.string().map(Value::String),
                Some(b't') => self.literal("true", Value::Bool(true)),
                Some(b'f') => self.literal("false", Value::Bool(false)),
                Some(b'n') => self.literal("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.pos;
                    while self.peek().is_some_and(|b| {
                        matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    }) {
                        self.pos += 1;
                    }
                    std::str::from_utf8(&self.bytes[start..self.pos])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .map(Value::Number)
                        .ok_or_else(|| format!("bad number at {start}"))
                }
                _ => Err(format!("unexpected character at {}", self.pos)),
            }
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let digits = self
                .bytes
                .get(self.pos..self.pos + 4)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| u32::from_str_radix(d, 16).ok())
                .ok_or_else(|| format!("bad \\u escape at {}", self.pos))?;
            self.pos += 4;
            Ok(digits)
        }

        fn string(&mut self) -> Result<String, String> {
            if self.peek() != Some(b'"') {
                return Err(format!("expected a string at {}", self.pos));
            }
            self.pos += 1;
            let mut out = String::new();
            loop {
                let start = self.pos;
                while self.peek().is_some_and(|b| b != b'"' && b != b'\\') {
                    self.pos += 1;
                }
                out.push_str(
                    std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|e| e.to_string())?,
                );
                match self.peek() {
                    Some(b'"') => {
                        self.pos += 1;
                        return Ok(out);
                    }
                    Some(b'\\') => {
                        self.pos += 1;
                        let escape = self.peek().ok_or("unterminated string")?;
                        self.pos += 1;
                        match escape {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let mut code = self.hex4()?;
                                if (0xD800..0xDC00).contains(&code)
                                    && self.bytes[self.pos..].starts_with(b"\\u")
                                {
                                    self.pos += 2;
                                    let low = self.hex4()?;
                                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                }
                                // Lone surrogates (Python's surrogateescape) become U+FFFD.
                                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            }
                            _ => return Err(format!("bad escape at {}", self.pos - 1)),
                        }
                    }
                    _ => return Err("unterminated string".into()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use super::*;

    #[test]
    fn envelopes_as_aiosmtpd_server_writes_them_parse() {
        let json = r#"{"mail_from": "j\u00f6rg@example.com", "rcpt_to": ["a@example.org", "b@example.org"], "mail_options": ["SMTPUTF8", "BODY=8BITMIME"], "rcpt_options": [[], []], "smtputf8": true, "tls": true, "tls_version": "TLSv1.3", "tls_cipher": "TLS_AES_256_GCM_SHA384", "auth_user": "alice", "connection": 3, "helo": "x \ud83d\ude00 \"q\""}"#;
        let m = parse_envelope(json, b"data".to_vec()).unwrap();
        assert_eq!(m.mail_from, "jörg@example.com");
        assert_eq!(m.rcpt_to, ["a@example.org", "b@example.org"]);
        assert_eq!(m.mail_options, ["SMTPUTF8", "BODY=8BITMIME"]);
        assert!(m.smtputf8 && m.tls);
        assert_eq!(m.tls_version.as_deref(), Some("TLSv1.3"));
        assert_eq!(m.auth_user.as_deref(), Some("alice"));
        assert_eq!(m.connection, 3);
        assert_eq!(m.helo.as_deref(), Some("x 😀 \"q\""));

        let m = parse_envelope(
            r#"{"mail_from": "", "rcpt_to": [], "tls": false, "auth_user": null, "connection": 1, "helo": null}"#,
            Vec::new(),
        )
        .unwrap();
        assert_eq!(m.mail_from, "");
        assert!(!m.tls);
        assert_eq!(m.auth_user, None);
        assert!(parse_envelope("{\"mail_from\": \"a\"", Vec::new()).is_err());
        assert!(parse_envelope("[1, 2] x", Vec::new()).is_err());
    }

    #[test]
    fn bodies_and_headers_of_crlf_and_lf_messages() {
        let crlf = b"Subject: a\r\n b\r\nX-Other: c\r\n\r\nline\n\nstill body\r\n";
        assert_eq!(message_body(crlf), b"line\n\nstill body\r\n");
        assert_eq!(header_value(crlf, "subject").as_deref(), Some("a b"));
        assert_eq!(header_value(crlf, "X-Other").as_deref(), Some("c"));
        assert_eq!(header_value(crlf, "line"), None);
        let lf = to_lf(crlf);
        assert_eq!(lf, b"Subject: a\n b\nX-Other: c\n\nline\n\nstill body\n");
        assert_eq!(message_body(&lf), b"line\n\nstill body\n");
        assert_eq!(header_value(&lf, "SUBJECT").as_deref(), Some("a b"));
        assert_eq!(message_body(b"no body"), b"");
        assert_eq!(to_lf(b"a\r\r\nb\r"), b"a\r\nb\r");
    }
}
