//! redy's FTPS client against real servers on 127.0.0.1: vsftpd and proftpd (implicit and
//! explicit, session reuse required) and pure-ftpd (explicit), each with TLS 1.2 and 1.3.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Write};
use std::time::SystemTime;

use redy_examples::ftp::{FtpSession, tree};
use redy_ftps::client::{DataConnections, FtpConfig, ListFormat, Security};
use redy_interop::ftp::{FTP_SERVER_NAME, FtpServer, FtpServerKind, FtpTls, require_ftp_server};
use redy_interop::pseudo_random;
use redy_tls::{ClientConfig, TlsVersion};

fn combos() -> Vec<(FtpServerKind, FtpTls, bool)> {
    let mut all = Vec::new();
    for kind in FtpServerKind::ALL {
        for mode in [FtpTls::Implicit, FtpTls::Explicit] {
            for tls12 in [true, false] {
                if kind.supports(mode) {
                    all.push((kind, mode, tls12));
                }
            }
        }
    }
    all
}

fn config(server: &FtpServer, tls12: bool) -> FtpConfig {
    let mut tls = ClientConfig::builder(server.pki().trust());
    if tls12 {
        tls = tls.versions(TlsVersion::Tls12, TlsVersion::Tls12);
    }
    let security = match server.mode() {
        FtpTls::Implicit => Security::ImplicitTls,
        _ => Security::ExplicitTls,
    };
    FtpConfig::new(
        security,
        tls.build().unwrap(),
        FTP_SERVER_NAME,
        server.addr(),
        server.user(),
        server.password(),
    )
}

fn start(kind: FtpServerKind, mode: FtpTls, tls12: bool) -> Option<FtpServer> {
    require_ftp_server(kind).then(|| FtpServer::start(kind, mode, tls12).unwrap())
}

/// 100 transfers in one session, alternating uploads and downloads of 0 bytes to 3 MB, each
/// compared byte for byte, every data connection resumed; then 10 uploads in a row. Where TLS 1.3
/// tickets run out (proftpd issues none on data connections), the session renews itself with a
/// new login before the data connection that could not resume.
#[test]
fn hundred_transfers_in_one_session_all_resumed() {
    const SIZES: [usize; 5] = [0, 1, 4096, 65_537, 3_000_000];
    for (kind, mode, tls12) in combos() {
        let Some(server) = start(kind, mode, tls12) else {
            return;
        };
        let what = format!(
            "{} {mode:?} TLS {}",
            kind.name(),
            if tls12 { "1.2" } else { "1.3" }
        );
        let mut session = FtpSession::connect(config(&server, tls12)).unwrap();
        for i in 0..50 {
            let body = pseudo_random(SIZES[i % SIZES.len()], i as u64);
            let name = format!("t{i}.bin");
            let sent = session.store(&name, 0, &mut &body[..]);
            let sent = sent.unwrap_or_else(|e| panic!("{what}: upload {i}: {e}\n{}", server.log()));
            assert_eq!(sent, body.len() as u64, "{what}");
            assert_eq!(
                std::fs::read(server.root().join(&name)).unwrap(),
                body,
                "{what}: stored {i}"
            );
            let mut back = Vec::new();
            if let Err(e) = session.retrieve(&name, 0, &mut back) {
                panic!("{what}: download {i}: {e}\n{}", server.log());
            }
            assert!(back == body, "{what}: download {i} differs");
        }
        let alternating_renewals = session.renewals();
        for i in 0..10 {
            let body = pseudo_random(65_537, 100 + i);
            let name = format!("u{i}.bin");
            if let Err(e) = session.store(&name, 0, &mut &body[..]) {
                panic!("{what}: upload in a row {i}: {e}\n{}", server.log());
            }
            assert_eq!(std::fs::read(server.root().join(&name)).unwrap(), body);
        }
        let handshakes = session.data_tls();
        assert_eq!(handshakes.len(), 110, "{what}");
        // Pure-FTPd never resumes TLS 1.3 sessions (and does not require it).
        if kind.requires_session_reuse() || tls12 {
            assert!(
                handshakes.iter().all(|h| h.resumed),
                "{what}: a data connection did not resume"
            );
        }
        // proftpd issues no TLS 1.3 ticket on data connections: the login's run out.
        if !tls12 && kind.requires_session_reuse() && !kind.sends_ticket_on_tls13_data() {
            assert!(alternating_renewals > 0, "{what}");
            assert!(session.renewals() > alternating_renewals, "{what}");
        } else {
            assert_eq!(session.renewals(), 0, "{what}: renewed without need");
        }
        eprintln!(
            "{what}: {alternating_renewals} renewals in 100 alternating transfers, {} in all",
            session.renewals()
        );
        session.quit().unwrap();
    }
}

#[test]
fn folder_tree_upload_and_listings() {
    for kind in FtpServerKind::ALL {
        let Some(server) = start(kind, FtpTls::Explicit, true) else {
            return;
        };
        let local = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(local.path().join("logs/2026")).unwrap();
        std::fs::write(local.path().join("config.json"), b"{}").unwrap();
        std::fs::write(local.path().join("logs/a.csv"), pseudo_random(10_000, 1)).unwrap();
        std::fs::write(
            local.path().join("logs/2026/b.csv"),
            pseudo_random(70_000, 2),
        )
        .unwrap();
        let mut session = FtpSession::connect(config(&server, true)).unwrap();
        let report = tree::upload_tree(&mut session, local.path(), "/backup").unwrap();
        assert_eq!(report.files, 3, "{}", kind.name());
        for f in ["config.json", "logs/a.csv", "logs/2026/b.csv"] {
            assert_eq!(
                std::fs::read(server.root().join("backup").join(f)).unwrap(),
                std::fs::read(local.path().join(f)).unwrap(),
                "{}: {f}",
                kind.name()
            );
        }
        // Uploading again works over the existing folders.
        tree::upload_tree(&mut session, local.path(), "/backup").unwrap();

        let list = session
            .list(Some("/backup/logs"), ListFormat::List)
            .unwrap();
        let a = list
            .iter()
            .find(|e| e.name == "a.csv")
            .unwrap_or_else(|| panic!("{}: {list:?}", kind.name()));
        assert_eq!(a.size, Some(10_000));
        assert!(
            list.iter()
                .any(|e| e.name == "2026"
                    && e.kind == redy_ftps::codec::listing::EntryKind::Directory)
        );
        let names = session.names(Some("/backup")).unwrap();
        assert!(
            names.iter().any(|n| n.ends_with("config.json")),
            "{}: {names:?}",
            kind.name()
        );
        if kind != FtpServerKind::Vsftpd {
            let mlsd = session
                .list(Some("/backup/logs"), ListFormat::Mlsd)
                .unwrap();
            let b = mlsd.iter().find(|e| e.name == "a.csv").unwrap();
            assert_eq!(b.size, Some(10_000), "{}", kind.name());
        }
        assert!(
            session.bad_entries().is_empty(),
            "{:?}",
            session.bad_entries()
        );
        let _ = SystemTime::now();
        session.quit().unwrap();
    }
}

/// A sink that fails after `limit` bytes, like a full disk.
struct FailingAfter {
    written: Vec<u8>,
    limit: usize,
}

impl Write for FailingAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written.len() + buf.len() > self.limit {
            return Err(io::Error::other("disk full"));
        }
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn interrupted_download_resumes_with_rest() {
    for kind in FtpServerKind::ALL {
        let Some(server) = start(kind, FtpTls::Explicit, false) else {
            return;
        };
        let file = pseudo_random(5_000_000, 7);
        server.create_file("big.bin", &file).unwrap();
        let mut session = FtpSession::connect(config(&server, false)).unwrap();
        let mut sink = FailingAfter {
            written: Vec::new(),
            limit: 1_000_000,
        };
        let error = session.retrieve("big.bin", 0, &mut sink).unwrap_err();
        assert!(error.to_string().contains("disk full"), "{error}");
        let mut rest = Vec::new();
        session
            .retrieve("big.bin", sink.written.len() as u64, &mut rest)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", kind.name(), server.log()));
        sink.written.extend_from_slice(&rest);
        assert!(
            sink.written == file,
            "{}: resumed download differs",
            kind.name()
        );
        session.quit().unwrap();
    }
}

#[test]
fn active_mode_transfers() {
    let Some(server) = start(FtpServerKind::Vsftpd, FtpTls::Implicit, false) else {
        return;
    };
    let mut cfg = config(&server, false);
    cfg.data_connections = DataConnections::Active;
    let mut session = FtpSession::connect(cfg).unwrap();
    let body = pseudo_random(500_000, 3);
    session.store("active.bin", 0, &mut &body[..]).unwrap();
    let mut back = Vec::new();
    session.retrieve("active.bin", 0, &mut back).unwrap();
    assert!(back == body);
    session.quit().unwrap();
}

#[test]
fn untrusted_server_certificate_is_refused_before_login() {
    let Some(server) = start(FtpServerKind::Proftpd, FtpTls::Explicit, false) else {
        return;
    };
    let other =
        redy_certs::DeviceCa::generate(&"99999-00000".parse().unwrap(), SystemTime::now()).unwrap();
    let mut cfg = config(&server, false);
    cfg.tls = ClientConfig::builder(redy_certs::TrustPolicy::CaCertificates(vec![
        other.certificate().clone(),
    ]))
    .build()
    .unwrap();
    let error = FtpSession::connect(cfg).unwrap_err();
    assert!(error.to_string().contains("certificate"), "{error}");
    assert!(
        !server.log().contains("USER"),
        "no USER was sent:\n{}",
        server.log()
    );
}
