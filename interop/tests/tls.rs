//! redy-tls and redy-certs against real peers on 127.0.0.1: `openssl s_server` / `s_client`,
//! nginx and curl, and PKCS#12 files written by `openssl pkcs12 -export`.
//!
//! Every test returns early, with a loud SKIPPED line, when its peer is not installed (and fails
//! instead under `CI` or `REDY_REQUIRE_PEERS`): run `bash interop/setup.sh` first.

// A failed expectation in a test is a test failure with its message: that is what it is for.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use redy_certs::{CertStore, TrustPolicy};
use redy_examples::blocking::TlsStream;
use redy_interop::http::Nginx;
use redy_interop::{
    DevicePki, LOCALHOST, Peer, START_TIMEOUT, free_port, require, run_with_timeout, serve_once,
    work_dir,
};
use redy_tls::{CertificateError, ClientConfig, ServerConfig, TlsSession, TlsVersion};

/// How long a client peer (s_client, curl) may run.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a read from a peer may block.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn client_config(trust: TrustPolicy, min: TlsVersion, max: TlsVersion) -> ClientConfig {
    ClientConfig::builder(trust)
        .versions(min, max)
        .alpn(["http/1.1"])
        .build()
        .expect("client config")
}

fn server_config(pki: &DevicePki, version: TlsVersion) -> ServerConfig {
    ServerConfig::builder(pki.identity.clone())
        .versions(version, version)
        .alpn(["http/1.1"])
        .build()
        .expect("server config")
}

/// Connects to 127.0.0.1:`port` and runs the handshake.
fn connect(config: &ClientConfig, port: u16) -> io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect((LOCALHOST, port))?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let session = TlsSession::client(config, "127.0.0.1").map_err(io::Error::other)?;
    TlsStream::connect(session, tcp)
}

/// The redy-tls error inside an `io::Error` from `TlsStream`.
fn tls_error(err: &io::Error) -> Option<&redy_tls::Error> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<redy_tls::Error>())
}

/// `openssl s_client -tls1_2` / `curl --tls-max 1.2` and the like, and what OpenSSL prints.
fn openssl_name(version: TlsVersion) -> &'static str {
    match version {
        TlsVersion::Tls12 => "TLSv1.2",
        _ => "TLSv1.3",
    }
}

/// Reads until `end` has arrived (or the peer closes); returns everything read.
fn read_until<R: Read>(stream: &mut R, end: &[u8]) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    while !data.windows(end.len()).any(|w| w == end) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Ok(data)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

// ---------------------------------------------------------------------------------------------
// redy-tls client -> openssl s_server
// ---------------------------------------------------------------------------------------------

/// `openssl s_server -www` forced to one version; the redy client offers 1.2 and 1.3, so the
/// version it reports is the one negotiated down (or up) to.
fn redy_client_to_openssl_s_server(version: TlsVersion, flag: &str) {
    if !require("openssl") {
        return;
    }
    let dir = work_dir("s_server");
    let pki = DevicePki::new(dir.path());
    let port = free_port();
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_server",
        "-accept",
        &format!("127.0.0.1:{port}"),
        "-www",
        flag,
    ])
    .arg("-cert")
    .arg(&pki.server_crt)
    .arg("-key")
    .arg(&pki.server_key);
    let mut peer = Peer::spawn("s_server", cmd, dir.path()).expect("spawn s_server");
    peer.wait_for_port(port, START_TIMEOUT)
        .expect("s_server listens");

    let config = client_config(pki.trust(), TlsVersion::Tls12, TlsVersion::Tls13);
    let mut tls = connect(&config, port).expect("handshake with s_server");
    let info = tls.handshake().expect("handshake info").clone();
    assert_eq!(
        info.version, version,
        "negotiated version with s_server {flag}"
    );
    assert!(!info.resumed);

    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")
        .expect("send request");
    let page = text(
        &tls.read_to_close()
            .expect("s_server's page, ended by close_notify"),
    );
    assert!(
        page.starts_with("HTTP/1.0 200 ok"),
        "s_server answered:\n{page}"
    );
    // The -www page describes the session from OpenSSL's side.
    let expected = format!("New, {}, Cipher is ", openssl_name(version));
    assert!(
        page.contains(&expected),
        "s_server's page lacks {expected:?}:\n{page}"
    );
}

#[test]
fn redy_client_to_openssl_s_server_tls12() {
    redy_client_to_openssl_s_server(TlsVersion::Tls12, "-tls1_2");
}

#[test]
fn redy_client_to_openssl_s_server_tls13() {
    redy_client_to_openssl_s_server(TlsVersion::Tls13, "-tls1_3");
}

// ---------------------------------------------------------------------------------------------
// redy-tls client -> nginx
// ---------------------------------------------------------------------------------------------

/// `GET path` with `Connection: close`, read to close_notify.
fn nginx_get(nginx: &Nginx, tls: &mut TlsStream<TcpStream>, path: &str) -> Vec<u8> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).expect("send request");
    tls.read_to_close().unwrap_or_else(|e| {
        panic!(
            "reading nginx's answer to close_notify: {e}\n--- error.log ---\n{}",
            nginx.error_log()
        )
    })
}

/// Splits an HTTP/1.1 response into its head and body.
fn split_response(response: &[u8]) -> (String, &[u8]) {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the response head");
    (text(&response[..end]), &response[end + 4..])
}

fn redy_client_to_nginx(version: TlsVersion) {
    if !require("nginx") {
        return;
    }
    let (nginx, _) = Nginx::start(None).unwrap();
    let config = client_config(nginx.pki().trust(), version, version);
    let mut tls = connect(&config, nginx.port()).expect("handshake with nginx");
    let info = tls.handshake().expect("handshake info").clone();
    assert_eq!(info.version, version);
    assert_eq!(
        info.alpn.as_deref(),
        Some(&b"http/1.1"[..]),
        "ALPN with nginx"
    );

    let response = nginx_get(&nginx, &mut tls, "/");
    let (head, body) = split_response(&response);
    assert!(
        head.starts_with("HTTP/1.1 200 OK"),
        "nginx answered:\n{head}"
    );
    assert_eq!(text(body), "hello from nginx\n");
}

#[test]
fn redy_client_to_nginx_tls12() {
    redy_client_to_nginx(TlsVersion::Tls12);
}

#[test]
fn redy_client_to_nginx_tls13() {
    redy_client_to_nginx(TlsVersion::Tls13);
}

/// 4 MiB through redy-tls's buffers: every byte arrives, and the end is close_notify.
#[test]
fn redy_client_downloads_a_large_file_from_nginx() {
    if !require("nginx") {
        return;
    }
    let (nginx, content) = Nginx::start(Some(4 << 20)).unwrap();
    let config = client_config(nginx.pki().trust(), TlsVersion::Tls12, TlsVersion::Tls13);
    let mut tls = connect(&config, nginx.port()).expect("handshake with nginx");
    let response = nginx_get(&nginx, &mut tls, "/big");
    let (head, body) = split_response(&response);
    assert!(
        head.starts_with("HTTP/1.1 200 OK"),
        "nginx answered:\n{head}"
    );
    assert!(
        head.contains(&format!("Content-Length: {}", content.len())),
        "{head}"
    );
    assert_eq!(body.len(), content.len());
    assert!(
        body == content.as_slice(),
        "the downloaded bytes differ from big.bin"
    );
}

/// A device CA is not a public CA: a client that trusts only the web PKI refuses nginx.
#[test]
fn redy_client_with_web_pki_roots_refuses_nginx_with_a_device_certificate() {
    if !require("nginx") {
        return;
    }
    let (nginx, _) = Nginx::start(None).unwrap();
    for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let config = client_config(TrustPolicy::WebPkiRoots, version, version);
        let err = connect(&config, nginx.port()).expect_err("a device certificate is not web PKI");
        assert_eq!(
            tls_error(&err),
            Some(&redy_tls::Error::Certificate(
                CertificateError::UnknownIssuer
            )),
            "{version}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// openssl s_client -> redy-tls server
// ---------------------------------------------------------------------------------------------

/// After our close_notify, waits for the client to close too, so that it reads everything
/// before the socket goes away. Errors do not matter here.
fn linger(tls: &mut TlsStream<TcpStream>) {
    let _ = tls.read_to_close();
}

fn openssl_s_client_to_redy_server(version: TlsVersion, flag: &str) {
    if !require("openssl") {
        return;
    }
    let dir = work_dir("s_client");
    let pki = DevicePki::new(dir.path());
    let (port, server) = serve_once(server_config(&pki, version), |tls| {
        let info = tls.handshake().cloned();
        let line = read_until(tls, b"\n")?;
        tls.write_all(b"redy echoes: ")?;
        tls.write_all(&line)?;
        tls.close()?;
        linger(tls);
        Ok((info, line))
    });

    let output = run_with_timeout(
        Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), flag])
            .args([
                "-verify_return_error",
                "-verify_ip",
                "127.0.0.1",
                "-ign_eof",
                "-CAfile",
            ])
            .arg(&pki.ca_crt),
        b"hello from s_client\n",
        CLIENT_TIMEOUT,
    )
    .expect("run s_client");
    let server = server.join().expect("server thread");
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "s_client failed (server: {server:?}):\n{}",
        describe(&output)
    );
    assert!(
        stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        describe(&output)
    );
    assert!(
        stdout.contains("redy echoes: hello from s_client\n"),
        "{}",
        describe(&output)
    );
    let protocol = format!("Protocol  : {}", openssl_name(version));
    assert!(
        stdout.contains(&protocol),
        "no {protocol:?} in:\n{}",
        describe(&output)
    );

    let (info, line) = server.expect("redy server");
    assert_eq!(info.map(|i| i.version), Some(version));
    assert_eq!(line, b"hello from s_client\n");
}

#[test]
fn openssl_s_client_to_redy_server_tls12() {
    openssl_s_client_to_redy_server(TlsVersion::Tls12, "-tls1_2");
}

#[test]
fn openssl_s_client_to_redy_server_tls13() {
    openssl_s_client_to_redy_server(TlsVersion::Tls13, "-tls1_3");
}

// ---------------------------------------------------------------------------------------------
// curl -> redy-tls server
// ---------------------------------------------------------------------------------------------

const CURL_BODY: &str = "hello from redy\n";

/// The server thread's result: its handshake and the request it received.
type ServerThread = std::thread::JoinHandle<io::Result<(Option<redy_tls::HandshakeInfo>, String)>>;

/// A redy server thread that answers one HTTP/1.1 request, then sends close_notify.
fn http_server(pki: &DevicePki, version: TlsVersion) -> (u16, ServerThread) {
    serve_once(server_config(pki, version), |tls| {
        let info = tls.handshake().cloned();
        let request = text(&read_until(tls, b"\r\n\r\n")?);
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{CURL_BODY}",
            CURL_BODY.len()
        );
        tls.write_all(response.as_bytes())?;
        tls.close()?;
        linger(tls);
        Ok((info, request))
    })
}

fn curl_to_redy_server(version: TlsVersion, flags: &[&str]) {
    if !require("curl") {
        return;
    }
    let dir = work_dir("curl");
    let pki = DevicePki::new(dir.path());
    let (port, server) = http_server(&pki, version);
    let output = run_with_timeout(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10"])
            .args(flags)
            .arg("--cacert")
            .arg(&pki.ca_crt)
            .arg(format!("https://127.0.0.1:{port}/")),
        b"",
        CLIENT_TIMEOUT,
    )
    .expect("run curl");
    let server = server.join().expect("server thread");
    assert_eq!(
        output.status.code(),
        Some(0),
        "curl failed (server: {server:?}):\n{}",
        describe(&output)
    );
    assert_eq!(text(&output.stdout), CURL_BODY);

    let (info, request) = server.expect("redy server");
    let info = info.expect("handshake info");
    assert_eq!(info.version, version);
    assert_eq!(
        info.alpn.as_deref(),
        Some(&b"http/1.1"[..]),
        "ALPN with curl"
    );
    assert!(
        request.starts_with("GET / HTTP/1.1\r\n"),
        "curl sent:\n{request}"
    );
}

#[test]
fn curl_to_redy_server_tls12() {
    curl_to_redy_server(TlsVersion::Tls12, &["--tlsv1.2", "--tls-max", "1.2"]);
}

#[test]
fn curl_to_redy_server_tls13() {
    curl_to_redy_server(TlsVersion::Tls13, &["--tlsv1.3", "--tls-max", "1.3"]);
}

/// Without `--cacert` curl trusts only the system's CAs: it refuses the device certificate with
/// exit code 60, and the redy server sees the alert.
#[test]
fn curl_without_cacert_refuses_the_device_certificate() {
    if !require("curl") {
        return;
    }
    let dir = work_dir("curl-untrusted");
    let pki = DevicePki::new(dir.path());
    let (port, server) = http_server(&pki, TlsVersion::Tls13);
    let output = run_with_timeout(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10"])
            .arg(format!("https://127.0.0.1:{port}/")),
        b"",
        CLIENT_TIMEOUT,
    )
    .expect("run curl");
    assert_eq!(
        output.status.code(),
        Some(60),
        "curl should refuse the certificate:\n{}",
        describe(&output)
    );
    assert!(output.stdout.is_empty());

    let err = server
        .join()
        .expect("server thread")
        .expect_err("the handshake must fail");
    // OpenSSL tells the server why: the unknown_ca alert.
    assert_eq!(
        tls_error(&err),
        Some(&redy_tls::Error::AlertReceived("UnknownCA".into())),
        "the server should see curl's alert, got: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// PKCS#12 from `openssl pkcs12 -export` -> CertStore::import_pkcs12
// ---------------------------------------------------------------------------------------------

const P12_PASSWORD: &str = "redy-p12-pass";

/// Runs openssl in `dir` and insists it succeeds.
fn openssl(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {}:\n{}",
        args.join(" "),
        describe(&output)
    );
    output
}

#[derive(Clone, Copy, Debug)]
enum KeyKind {
    Rsa,
    Ec,
}

impl KeyKind {
    fn newkey(self) -> &'static [&'static str] {
        match self {
            Self::Rsa => &["-newkey", "rsa:2048"],
            Self::Ec => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        }
    }
}

/// How the PKCS#12 file is protected.
#[derive(Clone, Copy, Debug)]
enum P12Kind {
    /// OpenSSL 3's default: PBES2 / PBKDF2 / AES-256-CBC, HMAC-SHA-256 MAC.
    Aes,
    /// `-legacy`: RC2-40 for the certificates, 3DES for the key, SHA-1 MAC (OpenSSL 1.x's
    /// default, what older devices and Windows produce). Needs OpenSSL's legacy provider,
    /// which Debian 12 ships (`ossl-modules/legacy.so`).
    Legacy,
    /// 3DES for both and a SHA-1 MAC: the legacy-compatible file one can still write when the
    /// legacy provider (RC2) is missing.
    Sha1TripleDes,
}

impl P12Kind {
    fn args(self) -> &'static [&'static str] {
        match self {
            Self::Aes => &[],
            Self::Legacy => &["-legacy"],
            Self::Sha1TripleDes => &[
                "-keypbe",
                "PBE-SHA1-3DES",
                "-certpbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ],
        }
    }

    /// What `openssl pkcs12 -info` must report, to be sure the file is the kind under test.
    fn info(self) -> &'static str {
        match self {
            Self::Aes => "AES-256-CBC",
            Self::Legacy => "pbeWithSHA1And40BitRC2-CBC",
            Self::Sha1TripleDes => "pbeWithSHA1And3-KeyTripleDES-CBC",
        }
    }
}

/// A self-signed certificate and key made by `openssl req -x509`: `<name>.crt`, `<name>.key`.
fn self_signed(dir: &Path, name: &str, key: KeyKind) {
    let (crt, key_file, subject) = (
        format!("{name}.crt"),
        format!("{name}.key"),
        format!("/CN={name}/O=redy interop"),
    );
    let mut args = vec![
        "req", "-x509", "-nodes", "-days", "2", "-subj", &subject, "-keyout", &key_file, "-out",
        &crt,
    ];
    args.extend_from_slice(key.newkey());
    openssl(dir, &args);
}

/// `<name>.crt` and `<name>.key` issued by the CA `<ca>.crt` / `<ca>.key`.
fn issued_by(dir: &Path, name: &str, ca: &str, key: KeyKind) {
    let (csr, crt, key_file, subject) = (
        format!("{name}.csr"),
        format!("{name}.crt"),
        format!("{name}.key"),
        format!("/CN={name}/O=redy interop"),
    );
    let mut args = vec![
        "req", "-new", "-nodes", "-subj", &subject, "-keyout", &key_file, "-out", &csr,
    ];
    args.extend_from_slice(key.newkey());
    openssl(dir, &args);
    let (ca_crt, ca_key) = (format!("{ca}.crt"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509", "-req", "-days", "2", "-in", &csr, "-CA", &ca_crt, "-CAkey", &ca_key, "-out",
            &crt,
        ],
    );
}

/// `openssl pkcs12 -export` of `<name>.crt` + `<name>.key` (+ `-certfile`), returned as bytes.
fn export_p12(
    dir: &Path,
    name: &str,
    kind: P12Kind,
    password: &str,
    certfile: Option<&str>,
) -> Vec<u8> {
    let (crt, key, out, pass) = (
        format!("{name}.crt"),
        format!("{name}.key"),
        format!("{name}.p12"),
        format!("pass:{password}"),
    );
    let mut args = vec![
        "pkcs12", "-export", "-in", &crt, "-inkey", &key, "-name", name, "-out", &out, "-passout",
        &pass,
    ];
    args.extend_from_slice(kind.args());
    if let Some(certfile) = certfile {
        args.extend_from_slice(&["-certfile", certfile]);
    }
    openssl(dir, &args);

    let mut info = vec!["pkcs12", "-info", "-noout", "-in", &out, "-passin", &pass];
    if matches!(kind, P12Kind::Legacy) {
        info.push("-legacy");
    }
    let described = openssl(dir, &info);
    let described = text(&described.stderr) + &text(&described.stdout);
    assert!(
        described.contains(kind.info()),
        "{out} is not a {kind:?} file:\n{described}"
    );
    std::fs::read(dir.join(&out)).expect("read the PKCS#12 file")
}

/// The DER of a PEM certificate file, as `openssl x509 -outform der` writes it.
fn cert_der(dir: &Path, crt: &str) -> Vec<u8> {
    openssl(dir, &["x509", "-in", crt, "-outform", "der"]).stdout
}

/// The PKCS#8 DER of a PEM key file, as `openssl pkcs8 -topk8 -nocrypt -outform der` writes it.
/// (`openssl pkey -outform der` writes the type-specific PKCS#1 / SEC 1 form instead.)
fn key_der(dir: &Path, key: &str) -> Vec<u8> {
    openssl(
        dir,
        &["pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "der"],
    )
    .stdout
}

/// Imports `<name>.p12` and checks it against openssl's own view of `<name>.crt` / `.key`, then
/// checks that a wrong password is reported as such. Returns the imported certificates' DER.
fn import_and_check(dir: &Path, name: &str, p12: &[u8], password: &str) -> Vec<Vec<u8>> {
    let mut store = CertStore::new();
    let entry = store
        .import_pkcs12(name, p12, password)
        .unwrap_or_else(|e| panic!("import {name}.p12: {e}"));
    let certs: Vec<Vec<u8>> = entry
        .certificates()
        .iter()
        .map(|c| c.der().to_vec())
        .collect();
    assert_eq!(
        certs.first(),
        Some(&cert_der(dir, &format!("{name}.crt"))),
        "the end-entity certificate"
    );
    let key = entry.key().expect("the PKCS#12 file's key");
    key.check_matches(entry.certificate())
        .expect("the key belongs to the certificate");
    assert!(
        key.secret_der() == key_der(dir, &format!("{name}.key")).as_slice(),
        "the key differs from openssl's"
    );
    assert!(entry.identity().is_some());

    let wrong = CertStore::new()
        .import_pkcs12(name, p12, "not the password")
        .map(|_| ())
        .expect_err("wrong password");
    assert_eq!(wrong, redy_certs::Error::Pkcs12Password);
    certs
}

fn pkcs12_self_signed(key: KeyKind, kind: P12Kind, password: &str) {
    if !require("openssl") {
        return;
    }
    let dir = work_dir("pkcs12");
    self_signed(dir.path(), "device", key);
    let p12 = export_p12(dir.path(), "device", kind, password, None);
    let certs = import_and_check(dir.path(), "device", &p12, password);
    assert_eq!(certs.len(), 1);
}

#[test]
fn pkcs12_rsa_openssl3_default_aes() {
    pkcs12_self_signed(KeyKind::Rsa, P12Kind::Aes, P12_PASSWORD);
}

#[test]
fn pkcs12_rsa_legacy_rc2_3des() {
    pkcs12_self_signed(KeyKind::Rsa, P12Kind::Legacy, P12_PASSWORD);
}

#[test]
fn pkcs12_rsa_sha1_3des() {
    pkcs12_self_signed(KeyKind::Rsa, P12Kind::Sha1TripleDes, P12_PASSWORD);
}

#[test]
fn pkcs12_ec_openssl3_default_aes() {
    pkcs12_self_signed(KeyKind::Ec, P12Kind::Aes, P12_PASSWORD);
}

#[test]
fn pkcs12_ec_legacy_rc2_3des() {
    pkcs12_self_signed(KeyKind::Ec, P12Kind::Legacy, P12_PASSWORD);
}

/// Devices often export with an empty password.
#[test]
fn pkcs12_ec_empty_password() {
    pkcs12_self_signed(KeyKind::Ec, P12Kind::Aes, "");
}

/// `-certfile ca.crt`: the issuing CA comes along and follows the end entity in the entry.
fn pkcs12_with_ca(kind: P12Kind) {
    if !require("openssl") {
        return;
    }
    let dir = work_dir("pkcs12-ca");
    self_signed(dir.path(), "ca", KeyKind::Ec);
    issued_by(dir.path(), "device", "ca", KeyKind::Rsa);
    let p12 = export_p12(dir.path(), "device", kind, P12_PASSWORD, Some("ca.crt"));
    let certs = import_and_check(dir.path(), "device", &p12, P12_PASSWORD);
    assert_eq!(certs.len(), 2, "end entity and CA");
    assert_eq!(
        certs[1],
        cert_der(dir.path(), "ca.crt"),
        "the CA from -certfile"
    );
}

#[test]
fn pkcs12_with_ca_certfile_aes() {
    pkcs12_with_ca(P12Kind::Aes);
}

#[test]
fn pkcs12_with_ca_certfile_legacy() {
    pkcs12_with_ca(P12Kind::Legacy);
}
