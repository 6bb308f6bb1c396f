//! `CCC` between the redy FTPS client and the redy FTPS server over loopback: the control
//! connection returns to clear text after login and the session goes on; data stays under TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use redy_certs::{DeviceCa, TrustPolicy};
use redy_examples::ftp::{FtpError, FtpSession};
use redy_examples::ftp_server::{FtpsServer, RunningServer, ServerOptions};
use redy_ftps::client::{FtpConfig, ListFormat, OpError, Outcome, Security};
use redy_ftps::server::{FtpServerConfig, Security as ServerSecurity};

struct Setup {
    server: RunningServer,
    root: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
    client: FtpConfig,
}

fn setup(allow_ccc: bool) -> Setup {
    let now = SystemTime::now();
    let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
    let identity = ca
        .issue_server_certificate(&["127.0.0.1".parse().unwrap()], now)
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let tls = redy_tls::ServerConfig::builder(identity).build().unwrap();
    let mut config = FtpServerConfig::new(ServerSecurity::ExplicitTls, tls);
    config.allow_ccc = allow_ccc;
    let mut options = ServerOptions::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        root.path().to_owned(),
        config,
    )
    .user("plc", "pw");
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    options.log = Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned()));
    let server = FtpsServer::bind(options).unwrap().spawn().unwrap();
    let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
    let tls = redy_tls::ClientConfig::builder(trust).build().unwrap();
    let client = FtpConfig::new(
        Security::ExplicitTls,
        tls,
        "127.0.0.1",
        server.addr(),
        "plc",
        "pw",
    );
    Setup {
        server,
        root,
        log,
        client,
    }
}

#[test]
fn after_ccc_the_session_goes_on_in_clear_text_with_protected_data() {
    let s = setup(true);
    let mut session = FtpSession::connect(s.client.clone()).unwrap();
    session.clear_control().unwrap();
    // Commands and transfers after CCC, several of them, in both directions.
    session.run(|c, now| c.mkdir("after-ccc", now)).unwrap();
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    session.store("after-ccc/f.bin", 0, &mut &body[..]).unwrap();
    let mut back = Vec::new();
    session.retrieve("after-ccc/f.bin", 0, &mut back).unwrap();
    assert!(back == body);
    let names = session.names(Some("after-ccc")).unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with("f.bin"), "{names:?}");
    let pwd = session.run(|c, now| c.pwd(now)).unwrap();
    assert!(matches!(pwd, Outcome::Path(p) if p == "/"));
    assert!(session.data_tls().iter().all(|hs| hs.resumed));
    session.quit().unwrap();
    assert_eq!(
        std::fs::read(s.root.path().join("after-ccc/f.bin")).unwrap(),
        body
    );
    let log = s.log.lock().unwrap().join("\n");
    assert!(log.contains("> CCC"), "{log}");
    assert!(log.contains("< 200"), "{log}");
    s.server.stop().unwrap();
}

#[test]
fn a_refused_ccc_leaves_the_session_encrypted_and_usable() {
    let s = setup(false);
    let mut session = FtpSession::connect(s.client.clone()).unwrap();
    match session.clear_control() {
        Err(FtpError::Op(OpError::Refused(reply))) => assert_eq!(reply.code(), 534),
        other => panic!("expected 534, got {other:?}"),
    }
    let entries = session.list(None, ListFormat::Mlsd).unwrap();
    assert!(entries.is_empty(), "{entries:?}");
    session.quit().unwrap();
    s.server.stop().unwrap();
}
