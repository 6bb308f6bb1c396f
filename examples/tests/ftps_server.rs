//! The `ftps-server` binary as a user runs it: a generated certificate whose CA it names, an
//! explicit-mode login after AUTH TLS, logs without the password.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redy_certs::{Certificate, TrustPolicy};
use redy_examples::blocking::TlsStream;
use redy_tls::{ClientConfig, TlsSession};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn line(stream: &mut impl Read) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "connection closed");
        out.push(byte[0]);
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn ftps_server_generates_its_certificate_and_serves_an_explicit_login() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ftps-server"))
        .args([
            "--root",
            root.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--explicit",
        ])
        .args(["--user", "plc", "--ca-out", ca_path.to_str().unwrap()])
        .env("REDY_FTP_USERS", "plc:s3cret,other:x")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let (tx, rx) = mpsc::channel();
    let stderr = server.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines() {
            let _ = tx.send(l.unwrap_or_default());
        }
    });
    let mut logs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let port: u16 = loop {
        let l = rx
            .recv_timeout(deadline - Instant::now())
            .expect("no listening line");
        logs.push(l.clone());
        if let Some(rest) = l.strip_prefix("listening on 127.0.0.1:") {
            break rest.split(' ').next().unwrap().parse().unwrap();
        }
    };
    assert!(
        logs.iter()
            .any(|l| l.contains("clients trust the CA written to") && l.contains("ca.pem")),
        "{logs:?}"
    );
    let ca = Certificate::from_pem(&std::fs::read(&ca_path).unwrap()).unwrap();

    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(line(&mut tcp).starts_with("220 "));
    tcp.write_all(b"USER plc\r\n").unwrap();
    assert!(
        line(&mut tcp).starts_with("530 "),
        "no login before AUTH TLS"
    );
    tcp.write_all(b"AUTH TLS\r\n").unwrap();
    assert!(line(&mut tcp).starts_with("234 "));
    let tls = ClientConfig::builder(TrustPolicy::CaCertificates(vec![ca]))
        .build()
        .unwrap();
    let session = TlsSession::client_upgrade(&tls, "127.0.0.1", b"").unwrap();
    let mut control = TlsStream::connect(session, tcp).unwrap();
    control.write_all(b"USER plc\r\n").unwrap();
    assert!(line(&mut control).starts_with("331 "));
    control.write_all(b"PASS s3cret\r\n").unwrap();
    assert!(line(&mut control).starts_with("230 "));
    control.write_all(b"QUIT\r\n").unwrap();
    assert!(line(&mut control).starts_with("221 "));

    let deadline = Instant::now() + Duration::from_secs(10);
    while !logs.iter().any(|l| l.ends_with("closed")) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => logs.push(l),
            Err(_) => break,
        }
    }
    let all = logs.join("\n");
    assert!(
        all.contains("> USER plc") && all.contains("> PASS <hidden>"),
        "{all}"
    );
    assert!(all.contains("user plc logged in"), "{all}");
    assert!(
        !all.contains("s3cret"),
        "the password is never logged: {all}"
    );
}

#[test]
fn ftps_server_refuses_a_user_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ftps-server"))
        .args([
            "--root",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--implicit",
        ])
        .args(["--user", "nobody"])
        .env("REDY_FTP_USERS", "plc:s3cret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no password for user nobody"),
        "{err}"
    );
}
