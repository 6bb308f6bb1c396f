//! The FTPS servers of `redy_interop::ftp` work with reference clients, and behave as that
//! module's docs say: curl uploads, downloads and lists over implicit and explicit TLS, TLS 1.2
//! and 1.3, against vsftpd, ProFTPD and Pure-FTPd (explicit only); MKD, APPE, REST, RNFR/RNTO,
//! DELE and RMD work; servers that require TLS session reuse refuse `curl --no-sessionid`; the
//! reference client (Python's ssl) shows how each server ends its TLS connections.
//!
//! Every test returns early, with a loud SKIPPED line, when its peers are not installed (and
//! fails instead under `CI` or `REDY_REQUIRE_PEERS`): run `bash interop/setup.sh` first.

// A failed expectation in a test is a test failure with its message: that is what it is for.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use redy_interop::ftp::{
    ClientRun, FTP_PASSWORD, FTP_USER, FtpServer, FtpServerKind, FtpTls, require_ftp_server,
};
use redy_interop::{require, run_with_timeout, work_dir, write_pseudo_random};

/// The size of the file sent back and forth.
const FILE_SIZE: usize = 1 << 20;
/// How long one curl run may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Whether the test can run: the server, curl and python3 (the reference client) installed.
fn required(kind: FtpServerKind) -> bool {
    require_ftp_server(kind) && require("curl") && require("python3")
}

/// `curl` against `server` as the test user, trusting only its CA, with `--ssl-reqd` for
/// explicit TLS, verbose (stderr names the TLS version), then `args`.
fn curl(server: &FtpServer, args: &[&str]) -> Output {
    let mut command = Command::new("curl");
    command
        .args(["--silent", "--show-error", "--verbose", "--max-time", "20"])
        .arg("--cacert")
        .arg(&server.pki().ca_crt)
        .arg("--user")
        .arg(format!("{}:{}", server.user(), server.password()));
    if server.mode() == FtpTls::Explicit {
        command.arg("--ssl-reqd");
    }
    command.args(args);
    run_with_timeout(&mut command, b"", CLIENT_TIMEOUT).expect("run curl")
}

/// [`curl`], which must succeed.
fn curl_ok(server: &FtpServer, args: &[&str]) -> Output {
    let output = curl(server, args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "curl {args:?} against {}:\n{}",
        server.kind().name(),
        describe(&output)
    );
    output
}

/// The TLS version curl reports for its connections (`SSL connection using TLSv1.3 / ...`):
/// every one it made, control and data.
fn curl_tls_versions(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("* SSL connection using "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

fn assert_reference_ok(server: &FtpServer, run: &ClientRun) {
    assert!(
        run.success,
        "ftps_client.py against {}:\n{run:#?}\n{}",
        server.kind().name(),
        server.log()
    );
}

/// curl's TLS options for `version`: TLS 1.2 exactly, or TLS 1.3 exactly.
fn curl_tls(version: &str) -> [&'static str; 3] {
    match version {
        "TLSv1.2" => ["--tlsv1.2", "--tls-max", "1.2"],
        _ => ["--tlsv1.3", "--tls-max", "1.3"],
    }
}

/// The whole check of one server, mode and TLS version; see the file's docs.
fn round_trip(kind: FtpServerKind, mode: FtpTls, tls13: bool) {
    if !required(kind) {
        return;
    }
    let server = FtpServer::start(kind, mode, !tls13).expect("start the server");
    let version = if tls13 { "TLSv1.3" } else { "TLSv1.2" };
    let client_dir = work_dir("ftp-client");
    let local = client_dir.path().join("upload.bin");
    let data = write_pseudo_random(&local, FILE_SIZE);
    let url = server.url();
    let remote = format!("{url}upload.bin");

    // Upload. curl 7.88 with TLS 1.3 loses vsftpd uploads (the RST of its unread ticket, see
    // redy_interop::ftp): the reference client uploads there; it is what a correct client does.
    if kind.sends_ticket_on_tls13_data() && tls13 {
        let run = server
            .run_reference_client(
                false,
                false,
                &[format!("put:{}:upload.bin", path_str(&local))],
            )
            .unwrap();
        assert_reference_ok(&server, &run);
        let put = run.step("put").unwrap();
        assert_eq!(put.tls_version.as_deref(), Some(version));
        assert_eq!(put.resumed, Some(true));
        assert_eq!(put.bytes, Some(FILE_SIZE as u64));
        // vsftpd answered the client's close_notify with its own.
        assert_eq!(put.close_notify, Some(true));
    } else {
        // The client offers TLS 1.2 and 1.3: the server's cap decides.
        let output = curl_ok(&server, &["--tlsv1.2", "-T", path_str(&local), &remote]);
        let versions = curl_tls_versions(&output);
        assert_eq!(versions.len(), 2, "control and data: {versions:?}");
        assert!(versions.iter().all(|v| v == version), "{versions:?}");
    }
    // On the server, byte for byte, written as the test user.
    let stored = server.root().join("upload.bin");
    assert!(
        std::fs::read(&stored).unwrap() == data,
        "stored file differs"
    );
    let owner = std::fs::metadata(server.root()).unwrap().uid();
    assert_eq!(std::fs::metadata(&stored).unwrap().uid(), owner);

    // Download it back.
    let back = client_dir.path().join("back.bin");
    let output = curl_ok(&server, &["--tlsv1.2", "-o", path_str(&back), &remote]);
    assert!(curl_tls_versions(&output).iter().all(|v| v == version));
    assert!(
        std::fs::read(&back).unwrap() == data,
        "downloaded file differs"
    );

    // LIST shows it with its size; NLST names it alone.
    let output = curl_ok(&server, &["--tlsv1.2", &url]);
    let listing = String::from_utf8_lossy(&output.stdout);
    let line = listing
        .lines()
        .find(|l| l.ends_with(" upload.bin"))
        .unwrap_or_else(|| panic!("no upload.bin in the listing:\n{listing}"));
    assert!(line.starts_with("-rw-"), "{line}");
    assert!(line.contains(&format!(" {FILE_SIZE} ")), "{line}");
    // (curl ends ASCII lines with LF; Pure-FTPd's NLST names "." and ".." too.)
    let output = curl_ok(&server, &["--tlsv1.2", "--list-only", &url]);
    let names = String::from_utf8_lossy(&output.stdout);
    let mut names: Vec<&str> = names.lines().collect();
    if kind == FtpServerKind::PureFtpd {
        names.retain(|n| *n != "." && *n != "..");
    }
    assert_eq!(names, ["upload.bin"]);

    // The version cap: a TLS 1.2-only server refuses a TLS 1.3-only client (handshake, 35).
    if !tls13 {
        let output = curl(&server, &["--tlsv1.3", &url]);
        assert_eq!(output.status.code(), Some(35), "{}", describe(&output));
    }

    // Session reuse: curl --no-sessionid makes a full handshake on the data connection.
    let output = curl(
        &server,
        &[&curl_tls(version)[..], &["--no-sessionid", &remote]].concat(),
    );
    if server.requires_reuse() {
        assert_ne!(output.status.code(), Some(0), "{}", describe(&output));
        assert!(output.stdout.is_empty(), "no data without reuse");
        // vsftpd.log has its reply; proftpd's tls.log says why it closed the data connection.
        let refusal = match kind {
            FtpServerKind::Vsftpd => "522 SSL connection failed: session reuse required",
            _ => "client did not reuse TLS session",
        };
        assert!(server.log().contains(refusal), "{}", server.log());
    } else {
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        assert!(output.stdout == data);
    }

    // How the server ends its TLS connections, seen by the reference client.
    let run = server
        .run_reference_client(
            !tls13,
            false,
            &[
                format!("get:upload.bin:{}", path_str(&back)),
                "list".to_owned(),
            ],
        )
        .unwrap();
    assert_reference_ok(&server, &run);
    assert_eq!(
        run.step("login").unwrap().tls_version.as_deref(),
        Some(version)
    );
    for op in ["get", "list"] {
        let step = run.step(op).unwrap();
        assert_eq!(
            step.reply.as_deref().map(|r| &r[..3]),
            Some("226"),
            "{step:?}"
        );
        assert_eq!(step.tls_version.as_deref(), Some(version), "{step:?}");
        assert_eq!(
            step.close_notify,
            Some(server.sends_close_notify_on_data()),
            "{op}: {step:?}"
        );
        // Pure-FTPd resumes TLS 1.2 sessions when offered, and TLS 1.3 never (no tickets).
        let resumes = server.requires_reuse() || !tls13;
        assert_eq!(step.resumed, Some(resumes), "{op}: {step:?}");
    }
    assert!(std::fs::read(&back).unwrap() == data);
    let listing = run.step("list").unwrap().listing.as_deref().unwrap();
    assert!(listing.contains(" upload.bin\r\n"), "{listing}");
    let quit = run.step("quit").unwrap();
    assert_eq!(quit.reply.as_deref().map(|r| &r[..3]), Some("221"));
    assert_eq!(
        quit.close_notify,
        Some(server.sends_close_notify_after_221()),
        "{quit:?}"
    );

    // The reference client without reuse: refused as curl was, with the server's reply.
    let run = server
        .run_reference_client(!tls13, true, &["list".to_owned()])
        .unwrap();
    if server.requires_reuse() {
        assert!(!run.success, "{run:?}");
        let reply = match kind {
            FtpServerKind::Vsftpd => "522 SSL connection failed: session reuse required",
            _ => "425 Unable to build data connection: Operation not permitted",
        };
        assert!(run.stderr.contains(reply), "{run:?}");
    } else {
        assert_reference_ok(&server, &run);
        assert_eq!(run.step("list").unwrap().resumed, Some(false));
    }

    if !tls13 {
        file_operations(&server, &data, client_dir.path());
    }
}

/// MKD (curl --ftp-create-dirs), APPE, REST for downloads and uploads, RNFR/RNTO, DELE, RMD,
/// and a file the test put into the root itself: over TLS 1.2, where curl's uploads are safe.
fn file_operations(server: &FtpServer, data: &[u8], dir: &Path) {
    let url = server.url();
    let (first, second) = data.split_at(FILE_SIZE / 2);
    let part1 = dir.join("part1.bin");
    let part2 = dir.join("part2.bin");
    std::fs::write(&part1, first).unwrap();
    std::fs::write(&part2, second).unwrap();
    let remote = format!("{url}sub/dir/file.bin");

    curl_ok(
        server,
        &["--ftp-create-dirs", "-T", path_str(&part1), &remote],
    );
    curl_ok(server, &["--append", "-T", path_str(&part2), &remote]);
    let stored = server.root().join("sub/dir/file.bin");
    assert!(std::fs::read(&stored).unwrap() == data, "MKD + STOR + APPE");

    // REST 1000 + RETR.
    let tail = dir.join("tail.bin");
    curl_ok(server, &["-C", "1000", "-o", path_str(&tail), &remote]);
    assert!(std::fs::read(&tail).unwrap() == data[1000..]);

    // REST + STOR onto a file the test created (owned by the test user): a resumed upload.
    server.create_file("sub/resumed.bin", first).unwrap();
    let whole = dir.join("whole.bin");
    std::fs::write(&whole, data).unwrap();
    let run = server
        .run_reference_client(
            true,
            false,
            &[format!(
                "putrest:{}:{}:sub/resumed.bin",
                first.len(),
                path_str(&whole)
            )],
        )
        .unwrap();
    assert_reference_ok(server, &run);
    assert_eq!(
        run.step("putrest").unwrap().bytes,
        Some(second.len() as u64)
    );
    assert!(std::fs::read(server.root().join("sub/resumed.bin")).unwrap() == data);

    // RNFR/RNTO, DELE, RMD as quoted commands before listing the root.
    curl_ok(
        server,
        &[
            "-Q",
            "RNFR sub/dir/file.bin",
            "-Q",
            "RNTO sub/renamed.bin",
            "-Q",
            "RMD sub/dir",
            "-Q",
            "DELE sub/resumed.bin",
            "--list-only",
            &format!("{url}sub/"),
        ],
    );
    assert!(std::fs::read(server.root().join("sub/renamed.bin")).unwrap() == data);
    assert!(!server.root().join("sub/dir").exists());
    assert!(!server.root().join("sub/resumed.bin").exists());
}

#[test]
fn vsftpd_implicit_tls12() {
    round_trip(FtpServerKind::Vsftpd, FtpTls::Implicit, false);
}

#[test]
fn vsftpd_implicit_tls13() {
    round_trip(FtpServerKind::Vsftpd, FtpTls::Implicit, true);
}

#[test]
fn vsftpd_explicit_tls12() {
    round_trip(FtpServerKind::Vsftpd, FtpTls::Explicit, false);
}

#[test]
fn vsftpd_explicit_tls13() {
    round_trip(FtpServerKind::Vsftpd, FtpTls::Explicit, true);
}

#[test]
fn proftpd_implicit_tls12() {
    round_trip(FtpServerKind::Proftpd, FtpTls::Implicit, false);
}

#[test]
fn proftpd_implicit_tls13() {
    round_trip(FtpServerKind::Proftpd, FtpTls::Implicit, true);
}

#[test]
fn proftpd_explicit_tls12() {
    round_trip(FtpServerKind::Proftpd, FtpTls::Explicit, false);
}

#[test]
fn proftpd_explicit_tls13() {
    round_trip(FtpServerKind::Proftpd, FtpTls::Explicit, true);
}

#[test]
fn pureftpd_explicit_tls12() {
    round_trip(FtpServerKind::PureFtpd, FtpTls::Explicit, false);
}

#[test]
fn pureftpd_explicit_tls13() {
    round_trip(FtpServerKind::PureFtpd, FtpTls::Explicit, true);
}

/// Pure-FTPd has no implicit TLS: asking for it is an error, not a server in another mode.
#[test]
fn pureftpd_implicit_is_unsupported() {
    let err = FtpServer::start(FtpServerKind::PureFtpd, FtpTls::Implicit, false).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    assert!(!FtpServerKind::PureFtpd.supports(FtpTls::Implicit));
}

/// Without TLS nothing is possible: the explicit servers refuse USER before AUTH TLS, and
/// dropping a server stops it and its sessions.
#[test]
fn servers_refuse_clear_text_and_stop_when_dropped() {
    for kind in FtpServerKind::ALL {
        if !required(kind) {
            continue;
        }
        let server = FtpServer::start(kind, FtpTls::Explicit, false).expect("start");
        // Plain FTP, no --ssl-reqd: curl logs in without TLS and the server refuses.
        let output = run_with_timeout(
            Command::new("curl")
                .args(["--silent", "--show-error", "--max-time", "20", "--user"])
                .arg(format!("{FTP_USER}:{FTP_PASSWORD}"))
                .arg(server.url()),
            b"",
            CLIENT_TIMEOUT,
        )
        .unwrap();
        assert_ne!(output.status.code(), Some(0), "{}", describe(&output));
        assert!(output.stdout.is_empty());

        let pid = server.pid();
        let proc_dir = format!("/proc/{pid}");
        assert!(Path::new(&proc_dir).exists());
        drop(server);
        assert!(!Path::new(&proc_dir).exists(), "{} stopped", kind.name());
    }
}

/// Servers started at once (tests run in parallel threads) get their own ports.
#[test]
fn servers_started_together_have_their_own_ports() {
    if !required(FtpServerKind::Proftpd) {
        return;
    }
    let a = FtpServer::start(FtpServerKind::Proftpd, FtpTls::Implicit, false).unwrap();
    let b = FtpServer::start(FtpServerKind::Proftpd, FtpTls::Explicit, false).unwrap();
    assert_ne!(a.port(), b.port());
    let (pa, pb) = (a.passive_ports(), b.passive_ports());
    assert!(
        pa.end() < pb.start() || pb.end() < pa.start(),
        "{pa:?} {pb:?}"
    );
    assert!(*pa.end() < 32_768, "below the ephemeral ports");
    assert_ne!(a.root(), b.root());
}
