//! redy's FTPS server (the `ftps-server` example's driver, in this process, on 127.0.0.1)
//! against real clients: curl, lftp and Python's ftplib, TLS 1.2 and 1.3; hostile clients over
//! real sockets; 50 sessions at once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use redy_examples::blocking::TlsStream;
use redy_examples::ftp_server::{FtpsServer, RunningServer, ServerOptions};
use redy_ftps::codec::address::parse_epsv;
use redy_ftps::codec::reply::{Reply, ReplyParser};
use redy_ftps::server::{FtpServerConfig, Security};
use redy_interop::{DevicePki, require, run_with_timeout, work_dir, write_pseudo_random};
use redy_tls::{ClientConfig, TlsSession, TlsVersion};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const USER: &str = "plc";
const PASSWORD: &str = "s3cret";
const VERSIONS: [TlsVersion; 2] = [TlsVersion::Tls12, TlsVersion::Tls13];
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The example server on an ephemeral port, its root and PKI in a work directory, its log kept.
struct Server {
    running: Option<RunningServer>,
    pki: DevicePki,
    root: PathBuf,
    dir: TempDir,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(name: &str, security: Security, version: TlsVersion) -> Self {
        Self::start_with(name, security, version, |_| {})
    }

    fn start_with(
        name: &str,
        security: Security,
        version: TlsVersion,
        tweak: impl FnOnce(&mut FtpServerConfig),
    ) -> Self {
        let dir = work_dir(name);
        let pki = DevicePki::new(dir.path());
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        let tls = redy_tls::ServerConfig::builder(pki.identity.clone())
            .versions(version, version)
            .build()
            .unwrap();
        let mut config = FtpServerConfig::new(security, tls);
        config.passive_ports = 41000..=41999;
        tweak(&mut config);
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let mut options = ServerOptions::new("127.0.0.1:0".parse().unwrap(), root.clone(), config)
            .user(USER, PASSWORD);
        options.log = Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned()));
        let running = FtpsServer::bind(options).unwrap().spawn().unwrap();
        Self {
            running: Some(running),
            pki,
            root,
            dir,
            log,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.running.as_ref().unwrap().addr()
    }

    fn port(&self) -> u16 {
        self.addr().port()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn ca(&self) -> &str {
        self.pki.ca_crt.to_str().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.running.take());
        if thread::panicking() {
            eprintln!(
                "---- redy FTPS server log ----\n{}\n---- end ----",
                self.log()
            );
        }
    }
}

fn sha256(path: &Path) -> String {
    let digest = Sha256::digest(fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(command: &mut Command) -> (bool, String) {
    let out = run_with_timeout(command, b"", CLIENT_TIMEOUT).unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn curl(server: &Server, args: &[&str]) -> (bool, String) {
    let mut command = Command::new("curl");
    command
        .args(["-sS", "--max-time", "30", "--cacert", server.ca()])
        .args(["--user", &format!("{USER}:{PASSWORD}")])
        .args(args);
    run(&mut command)
}

fn url(server: &Server, security: Security, path: &str) -> String {
    match security {
        Security::ImplicitTls => format!("ftps://127.0.0.1:{}/{path}", server.port()),
        _ => format!("ftp://127.0.0.1:{}/{path}", server.port()),
    }
}

#[test]
fn curl_uploads_downloads_and_lists_implicit_and_explicit() {
    if !require("curl") {
        return;
    }
    for security in [Security::ImplicitTls, Security::ExplicitTls] {
        for version in VERSIONS {
            let server = Server::start("ftp-server-curl", security, version);
            let local = server.dir.path().join("local.bin");
            write_pseudo_random(&local, 3 * 1024 * 1024 + 11);
            let explicit: &[&str] = match security {
                Security::ImplicitTls => &[],
                _ => &["--ssl-reqd"],
            };
            let up = url(&server, security, "logs/journal.bin");
            let mut args = explicit.to_vec();
            args.extend(["--ftp-create-dirs", "-T", local.to_str().unwrap(), &up]);
            let (ok, out) = curl(&server, &args);
            assert!(
                ok,
                "{security:?} {version:?} upload: {out}\n{}",
                server.log()
            );
            assert_eq!(
                sha256(&server.root.join("logs/journal.bin")),
                sha256(&local)
            );

            let back = server.dir.path().join("back.bin");
            let mut args = explicit.to_vec();
            args.extend(["-o", back.to_str().unwrap(), &up]);
            let (ok, out) = curl(&server, &args);
            assert!(ok, "{security:?} {version:?} download: {out}");
            assert_eq!(sha256(&back), sha256(&local), "{security:?} {version:?}");

            let mut args = explicit.to_vec();
            let dir = url(&server, security, "logs/");
            args.push(&dir);
            let (ok, listing) = curl(&server, &args);
            assert!(ok, "{listing}");
            assert!(
                listing.contains(" 3145739 ") && listing.ends_with("journal.bin\n"),
                "{listing}"
            );

            let log = server.log();
            let tls = match version {
                TlsVersion::Tls12 => "TLS on Data: TLS 1.2",
                _ => "TLS on Data: TLS 1.3",
            };
            assert!(log.contains(tls) && log.contains(", resumed"), "{log}");
            assert!(
                log.contains("upload of /logs/journal.bin complete: 3145739 bytes"),
                "{log}"
            );
            assert!(!log.contains(PASSWORD), "the password is never logged");
        }
    }
}

#[test]
fn curl_without_session_reuse_is_refused_with_522() {
    if !require("curl") {
        return;
    }
    for version in VERSIONS {
        let server = Server::start("ftp-server-nosessionid", Security::ImplicitTls, version);
        fs::write(server.root.join("a.txt"), b"hello").unwrap();
        let (ok, out) = curl(
            &server,
            &[
                "--no-sessionid",
                &url(&server, Security::ImplicitTls, "a.txt"),
            ],
        );
        assert!(!ok, "{version:?}: {out}");
        assert!(out.contains("522"), "{version:?}: {out}");
        assert!(
            server.log().contains("data connection refused"),
            "{}",
            server.log()
        );
        // The same download with session reuse works.
        let (ok, out) = curl(&server, &[&url(&server, Security::ImplicitTls, "a.txt")]);
        assert!(ok && out == "hello", "{out}");
    }
}

fn lftp(server: &Server, security: Security, script: &str) -> (bool, String) {
    let scheme = match security {
        Security::ImplicitTls => "ftps",
        _ => "ftp",
    };
    let commands = format!(
        "set ssl:ca-file {ca}\nset ftp:ssl-force true\nset ftp:ssl-protect-data true\n\
         set net:max-retries 1\nset net:timeout 15\nset cmd:fail-exit true\n\
         open -u {USER},{PASSWORD} {scheme}://127.0.0.1:{port}\n{script}\nbye\n",
        ca = server.ca(),
        port = server.port()
    );
    let file = server.dir.path().join("lftp.commands");
    fs::write(&file, commands).unwrap();
    run(Command::new("lftp").arg("-f").arg(&file))
}

fn make_tree(base: &Path) {
    fs::create_dir_all(base.join("a/b/c")).unwrap();
    fs::create_dir_all(base.join("empty")).unwrap();
    for (i, name) in ["top.csv", "a/one.bin", "a/b/two.bin", "a/b/c/three.bin"]
        .iter()
        .enumerate()
    {
        write_pseudo_random(&base.join(name), 1000 + i * 150_000);
    }
    fs::write(base.join("a/name with spaces.txt"), b"spaces").unwrap();
}

fn assert_same_tree(a: &Path, b: &Path) {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs::read_dir(a.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let rel = rel.join(entry.file_name());
            let other = b.join(&rel);
            if entry.file_type().unwrap().is_dir() {
                assert!(other.is_dir(), "{} missing", other.display());
                stack.push(rel);
            } else {
                assert_eq!(sha256(&entry.path()), sha256(&other), "{}", rel.display());
            }
        }
    }
}

#[test]
fn lftp_mirrors_a_tree_up_and_down_implicit_and_explicit() {
    if !require("lftp") {
        return;
    }
    for (security, version) in [
        (Security::ImplicitTls, TlsVersion::Tls13),
        (Security::ExplicitTls, TlsVersion::Tls12),
        (Security::ExplicitTls, TlsVersion::Tls13),
    ] {
        let server = Server::start("ftp-server-lftp", security, version);
        let tree = server.dir.path().join("tree");
        make_tree(&tree);
        let back = server.dir.path().join("back");
        let script = format!(
            "mirror -R {} /uploaded\nmirror /uploaded {}\ncls -l /uploaded/a",
            tree.display(),
            back.display()
        );
        let (ok, out) = lftp(&server, security, &script);
        assert!(ok, "{security:?} {version:?}: {out}\n{}", server.log());
        assert_same_tree(&tree, &server.root.join("uploaded"));
        assert_same_tree(&tree, &back);
        assert!(out.contains("name with spaces.txt"), "{out}");
        assert!(!server.log().contains("< 522"), "{}", server.log());
    }
}

#[test]
fn lftp_active_mode_and_a_resumed_upload() {
    if !require("lftp") {
        return;
    }
    for version in VERSIONS {
        let server = Server::start("ftp-server-lftp-active", Security::ExplicitTls, version);
        let local = server.dir.path().join("big.bin");
        write_pseudo_random(&local, 2 * 1024 * 1024);
        let back = server.dir.path().join("back.bin");
        let script = format!(
            "set ftp:passive-mode false\nput {} -o big.bin\nget big.bin -o {}\nls",
            local.display(),
            back.display()
        );
        let (ok, out) = lftp(&server, Security::ExplicitTls, &script);
        let log = server.log();
        assert!(ok, "{version:?}: {out}\n{log}");
        assert!(
            log.contains("> EPRT") || log.contains("> PORT"),
            "active mode: {log}"
        );
        assert!(!log.contains("> EPSV") && !log.contains("> PASV"), "{log}");
        assert_eq!(sha256(&server.root.join("big.bin")), sha256(&local));
        assert_eq!(sha256(&back), sha256(&local));
    }
}

const FTPLIB: &str = r#"
import ftplib, io, ssl, sys
port, ca, reuse = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "reuse"

class ReusingFTP_TLS(ftplib.FTP_TLS):
    """The usual fix: data connections resume the control connection's TLS session."""
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size

context = ssl.create_default_context(cafile=ca)
ftp = (ReusingFTP_TLS if reuse else ftplib.FTP_TLS)(context=context, timeout=20)
ftp.connect("127.0.0.1", port)
ftp.login("plc", "s3cret")
ftp.prot_p()
data = bytes(range(256)) * 4096
for i in range(3):
    ftp.storbinary(f"STOR py{i}.bin", io.BytesIO(data))
    out = io.BytesIO()
    ftp.retrbinary(f"RETR py{i}.bin", out.write)
    assert out.getvalue() == data, "download differs"
print("names", sorted(ftp.nlst()))
print("version", ftp.sock.version())
ftp.quit()
"#;

fn ftplib(server: &Server, mode: &str) -> (bool, String) {
    let script = server.dir.path().join("ftplib_client.py");
    fs::write(&script, FTPLIB).unwrap();
    let port = server.port().to_string();
    run(Command::new("/usr/bin/python3").args([script.to_str().unwrap(), &port, server.ca(), mode]))
}

#[test]
fn python_ftplib_explicit_prot_p() {
    if !Path::new("/usr/bin/python3").exists() && !redy_interop::missing_peer("python3") {
        return;
    }
    for version in VERSIONS {
        // ftplib with the session-reuse fix works against the default (reuse-requiring) server.
        let server = Server::start("ftp-server-ftplib", Security::ExplicitTls, version);
        let (ok, out) = ftplib(&server, "reuse");
        assert!(ok, "{version:?}: {out}\n{}", server.log());
        assert!(
            out.contains("names ['py0.bin', 'py1.bin', 'py2.bin']"),
            "{out}"
        );
        // Stock ftplib does not resume the session on data connections: refused, with the
        // explanation, and no file is touched.
        let (ok, out) = ftplib(&server, "stock");
        assert!(!ok && out.contains("522") && out.contains("reuse"), "{out}");
        // A server that allows it serves stock ftplib.
        let relaxed =
            Server::start_with("ftp-server-ftplib", Security::ExplicitTls, version, |c| {
                c.require_data_resumption = false;
            });
        let (ok, out) = ftplib(&relaxed, "stock");
        assert!(ok, "{version:?}: {out}\n{}", relaxed.log());
    }
}

/// A minimal FTPS client over redy-tls, for hostile and concurrent sessions.
struct Client {
    control: TlsStream<TcpStream>,
    parser: ReplyParser,
    pending: Vec<u8>,
    tls: ClientConfig,
}

impl Client {
    fn implicit(server: &Server) -> Self {
        let tls = ClientConfig::builder(server.pki.trust()).build().unwrap();
        let tcp = TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let session = TlsSession::client(&tls, "127.0.0.1").unwrap();
        let control = TlsStream::connect(session, tcp).unwrap();
        let mut client = Self {
            control,
            parser: ReplyParser::default(),
            pending: Vec::new(),
            tls,
        };
        assert_eq!(client.reply().code(), 220);
        client
    }

    fn reply(&mut self) -> Reply {
        loop {
            if !self.pending.is_empty() {
                let (n, reply) = self.parser.feed(&self.pending).unwrap();
                self.pending.drain(..n);
                if let Some(reply) = reply {
                    return reply;
                }
            }
            let mut buf = [0u8; 4096];
            let n = self.control.read(&mut buf).unwrap();
            assert!(n > 0, "control connection closed");
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    fn cmd(&mut self, line: &str) -> Reply {
        self.control
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }

    fn login(&mut self) {
        assert_eq!(self.cmd(&format!("USER {USER}")).code(), 331);
        assert_eq!(self.cmd(&format!("PASS {PASSWORD}")).code(), 230);
        assert_eq!(self.cmd("PBSZ 0").code(), 200);
        assert_eq!(self.cmd("PROT P").code(), 200);
    }

    /// EPSV, then a data connection from `from` (127.0.0.1 or another loopback address).
    fn data(&mut self, from: &str) -> TcpStream {
        let reply = self.cmd("EPSV");
        assert_eq!(reply.code(), 229, "{reply}");
        let port = parse_epsv(reply.text()).unwrap();
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(&format!("{from}:0").parse::<SocketAddr>().unwrap().into())
            .unwrap();
        let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        socket.connect(&to.into()).unwrap();
        let tcp: TcpStream = socket.into();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        tcp
    }

    fn tls_data(&mut self) -> TlsStream<TcpStream> {
        let tcp = self.data("127.0.0.1");
        let session = TlsSession::client(&self.tls, "127.0.0.1").unwrap();
        TlsStream::connect(session, tcp).unwrap()
    }

    fn stor(&mut self, path: &str, content: &[u8]) -> Reply {
        let mut data = self.tls_data();
        assert_eq!(self.cmd(&format!("STOR {path}")).code(), 150);
        data.write_all(content).unwrap();
        data.close().unwrap();
        // Read the server's close_notify (and its TLS 1.3 tickets) before closing: a socket
        // closed with unread bytes sends RST, which can destroy our close_notify in flight.
        data.read_to_close().unwrap();
        drop(data);
        self.reply()
    }

    fn retr(&mut self, path: &str) -> (Reply, Vec<u8>) {
        let mut data = self.tls_data();
        assert_eq!(self.cmd(&format!("RETR {path}")).code(), 150);
        let content = data.read_to_close().unwrap();
        (self.reply(), content)
    }
}

#[test]
fn a_data_connection_from_another_address_is_refused() {
    let server = Server::start(
        "ftp-server-hostile",
        Security::ImplicitTls,
        TlsVersion::Tls13,
    );
    fs::write(server.root.join("secret.csv"), b"secret").unwrap();
    let mut client = Client::implicit(&server);
    client.login();
    // 127.0.0.2 is loopback too on Linux: "someone else" racing to the passive port.
    let mut intruder = client.data("127.0.0.2");
    let reply = client.cmd("RETR secret.csv");
    assert_eq!(reply.code(), 425, "{reply}");
    assert!(reply.text().contains("127.0.0.2"), "{reply}");
    let mut buf = [0u8; 16];
    assert!(
        matches!(intruder.read(&mut buf), Ok(0) | Err(_)),
        "closed on the intruder"
    );
    // PORT towards another host is refused too (no FTP bounce).
    assert_eq!(client.cmd("PORT 192,0,2,1,31,144").code(), 501);
    // The client itself still gets its file.
    let (reply, content) = client.retr("secret.csv");
    assert_eq!((reply.code(), content.as_slice()), (226, &b"secret"[..]));
    assert_eq!(client.cmd("QUIT").code(), 221);
}

#[test]
fn fifty_sessions_at_once_each_upload_and_download() {
    let server = Server::start("ftp-server-fifty", Security::ImplicitTls, TlsVersion::Tls13);
    let started = Instant::now();
    let addr_server = Arc::new(server);
    let threads: Vec<_> = (0..50u8)
        .map(|i| {
            let server = addr_server.clone();
            thread::spawn(move || {
                let content: Vec<u8> = (0..300_000u32)
                    .map(|k| (k as u8).wrapping_mul(31).wrapping_add(i))
                    .collect();
                let mut client = Client::implicit(&server);
                client.login();
                let name = format!("session{i}.bin");
                let reply = client.stor(&name, &content);
                assert_eq!(reply.code(), 226, "{i}: {reply}");
                let (reply, back) = client.retr(&name);
                assert_eq!(reply.code(), 226, "{i}: {reply}");
                assert!(back == content, "{i}: download differs");
                assert_eq!(client.cmd("QUIT").code(), 221);
                content
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let content = t.join().unwrap();
        let stored = fs::read(addr_server.root.join(format!("session{i}.bin"))).unwrap();
        assert!(stored == content, "{i}: stored file differs");
    }
    eprintln!("50 sessions in {:?}", started.elapsed());
}

/// redy's own client against the redy server: 100 transfers in one session, alternating
/// uploads and downloads of 0 B to 3 MB, each compared with the file on the server's disk and
/// read back, every data connection resumed; implicit and explicit, TLS 1.2 and 1.3.
#[test]
fn redy_client_hundred_transfers_in_one_session() {
    use redy_examples::ftp::FtpSession;
    use redy_ftps::client::{FtpConfig, Security as ClientSecurity};
    const SIZES: [usize; 5] = [0, 1, 4096, 65_537, 3_000_000];
    for (security, client_security) in [
        (Security::ImplicitTls, ClientSecurity::ImplicitTls),
        (Security::ExplicitTls, ClientSecurity::ExplicitTls),
    ] {
        for version in VERSIONS {
            let server = Server::start("ftp-redy-client", security, version);
            let tls = ClientConfig::builder(server.pki.trust()).build().unwrap();
            let config = FtpConfig::new(
                client_security,
                tls,
                "127.0.0.1",
                server.addr(),
                USER,
                PASSWORD,
            );
            let what = format!("{security:?} {version:?}");
            let mut session = FtpSession::connect(config).unwrap();
            for i in 0..50 {
                let body = redy_interop::pseudo_random(SIZES[i % SIZES.len()], i as u64);
                let name = format!("t{i}.bin");
                let sent = session.store(&name, 0, &mut &body[..]);
                assert_eq!(sent.unwrap(), body.len() as u64, "{what}: upload {i}");
                assert!(
                    fs::read(server.root.join(&name)).unwrap() == body,
                    "{what}: {i}"
                );
                let mut back = Vec::new();
                session.retrieve(&name, 0, &mut back).unwrap();
                assert!(back == body, "{what}: download {i} differs");
            }
            let data = session.data_tls();
            assert_eq!(data.len(), 100, "{what}");
            assert!(
                data.iter().all(|h| h.resumed),
                "{what}: a data connection did not resume"
            );
            assert!(data.iter().all(|h| h.version == version), "{what}");
            eprintln!("{what}: {} renewals", session.renewals());
            session.quit().unwrap();
        }
    }
}
