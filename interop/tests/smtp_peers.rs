//! The SMTP servers of `redy_interop::smtp` work with reference clients: curl against Postfix
//! (implicit TLS and STARTTLS), Python's smtplib and curl against aiosmtpd. They show what a
//! redy-smtps test can rely on.
//!
//! Every test returns early, with a loud SKIPPED line, when its peers are not installed (and
//! fails instead under `CI` or `REDY_REQUIRE_PEERS`): run `bash interop/setup.sh` first.

// A failed expectation in a test is a test failure with its message: that is what it is for.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use redy_interop::smtp::{
    Aiosmtpd, Postfix, TlsMode, header_value, live_processes_in_group, message_body,
    require_aiosmtpd, require_postfix, smtplib_send, to_lf,
};
use redy_interop::{DevicePki, LOCALHOST, require, run_with_timeout, work_dir};

const USER: &str = "alice";
const PASSWORD: &str = "S3cret pass:word";
const FROM: &str = "alice@example.com";
const TO: &str = "bob@example.org";

/// How long a client (curl, smtplib) may run.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long delivery into the Maildir may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// A message as a client sends it: CRLF lines, lines that need dot-stuffing, 8-bit UTF-8.
const MESSAGE: &[u8] = b"From: <alice@example.com>\r\n\
To: <bob@example.org>\r\n\
Subject: interop\r\n\
Message-ID: <interop.1@example.com>\r\n\
Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
first line\r\n\
.a line starting with a dot\r\n\
..two dots\r\n\
.\r\n\
\x20. spaced\r\n\
\xc3\xa9t\xc3\xa9 \xe2\x82\xac\r\n\
\r\n\
last line\r\n";

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `curl URL --upload-file MESSAGE` as `user:password`, trusting only the test CA.
fn curl_send(url: &str, pki: &DevicePki, dir: &Path, password: &str, flags: &[&str]) -> Output {
    let file = dir.join("message.eml");
    std::fs::write(&file, MESSAGE).expect("write message.eml");
    run_with_timeout(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "15"])
            .args(flags)
            .arg("--cacert")
            .arg(&pki.ca_crt)
            .arg("--user")
            .arg(format!("{USER}:{password}"))
            .args(["--mail-from", FROM, "--mail-rcpt", TO])
            .arg("--upload-file")
            .arg(&file)
            .arg(url),
        b"",
        CLIENT_TIMEOUT,
    )
    .expect("run curl")
}

/// Checks a message Postfix delivered from [`MESSAGE`], sent over TLS `version` as [`USER`].
fn assert_postfix_delivered(postfix: &Postfix, version: &str) {
    let delivered = postfix
        .wait_for_messages(1, DELIVERY_TIMEOUT)
        .expect("delivery");
    assert_eq!(delivered.len(), 1);
    let stored = &delivered[0];
    let shown = String::from_utf8_lossy(stored);
    // Stored with LF line endings, dot-stuffing undone, the body byte for byte.
    assert!(!stored.contains(&b'\r'), "Postfix stores LF only:\n{shown}");
    assert_eq!(
        message_body(stored),
        message_body(&to_lf(MESSAGE)),
        "{shown}"
    );
    // The original headers follow the trace headers Postfix prepends.
    assert!(stored.ends_with(&to_lf(MESSAGE)), "{shown}");
    assert_eq!(
        header_value(stored, "Return-Path").as_deref(),
        Some("<alice@example.com>")
    );
    assert_eq!(
        header_value(stored, "Delivered-To").as_deref(),
        Some(TO),
        "{shown}"
    );
    let received = header_value(stored, "Received").expect("a Received header");
    assert!(
        received.contains(&format!("using {version} with cipher")),
        "{received}"
    );
    assert!(
        received.contains("(Authenticated sender: alice@localhost)"),
        "{received}"
    );
    assert!(received.contains("with ESMTPSA"), "{received}");
}

#[test]
fn postfix_implicit_tls_delivers_curls_message_intact() {
    if !require_postfix() || !require("curl") {
        return;
    }
    let dir = work_dir("smtp-postfix-implicit");
    let pki = DevicePki::new(dir.path());
    let postfix = Postfix::start(&pki, USER, PASSWORD);
    let url = format!("smtps://127.0.0.1:{}", postfix.smtps_port());
    let output = curl_send(&url, &pki, dir.path(), PASSWORD, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "curl:\n{}",
        describe(&output)
    );
    assert_postfix_delivered(&postfix, "TLSv1.3");
}

#[test]
fn postfix_submission_requires_starttls_and_delivers_curls_message_intact() {
    if !require_postfix() || !require("curl") {
        return;
    }
    let dir = work_dir("smtp-postfix-starttls");
    let pki = DevicePki::new(dir.path());
    let postfix = Postfix::start(&pki, USER, PASSWORD);

    // In plain text: STARTTLS offered, AUTH not, MAIL refused.
    let tcp = TcpStream::connect((LOCALHOST, postfix.submission_port())).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut writer = tcp.try_clone().unwrap();
    let mut reader = BufReader::new(tcp);
    let mut reply = || {
        let mut lines = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read a reply");
            lines.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return lines;
            }
        }
    };
    assert!(reply().starts_with("220 "));
    writer.write_all(b"EHLO client.example\r\n").unwrap();
    let ehlo = reply();
    for extension in ["STARTTLS", "PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8"] {
        assert!(ehlo.contains(extension), "{extension}? {ehlo}");
    }
    assert!(!ehlo.contains("AUTH"), "no AUTH before TLS: {ehlo}");
    writer
        .write_all(b"MAIL FROM:<alice@example.com>\r\n")
        .unwrap();
    let mail = reply();
    assert!(mail.starts_with("530 "), "{mail}");
    writer.write_all(b"QUIT\r\n").unwrap();

    // curl with STARTTLS, and TLS 1.2 to show that it is enabled too.
    let url = format!("smtp://127.0.0.1:{}", postfix.submission_port());
    let flags = ["--ssl-reqd", "--tlsv1.2", "--tls-max", "1.2"];
    let output = curl_send(&url, &pki, dir.path(), PASSWORD, &flags);
    assert_eq!(
        output.status.code(),
        Some(0),
        "curl:\n{}",
        describe(&output)
    );
    assert_postfix_delivered(&postfix, "TLSv1.2");
}

/// A wrong password is refused on both ports (curl's "login denied", 67) and nothing is
/// delivered; dropping Postfix leaves none of its processes behind.
#[test]
fn postfix_refuses_a_wrong_password_and_stops_with_all_its_processes() {
    if !require_postfix() || !require("curl") {
        return;
    }
    let dir = work_dir("smtp-postfix-login");
    let pki = DevicePki::new(dir.path());
    let postfix = Postfix::start(&pki, USER, PASSWORD);
    let urls = [
        (
            format!("smtps://127.0.0.1:{}", postfix.smtps_port()),
            &[][..],
        ),
        (
            format!("smtp://127.0.0.1:{}", postfix.submission_port()),
            &["--ssl-reqd"][..],
        ),
    ];
    for (url, flags) in &urls {
        let output = curl_send(url, &pki, dir.path(), "wrong password", flags);
        assert_eq!(
            output.status.code(),
            Some(67),
            "{url}:\n{}",
            describe(&output)
        );
    }
    assert!(postfix.delivered().is_empty());
    assert!(postfix.log().contains("authentication failed"));

    let pgid = postfix.pid();
    assert!(
        live_processes_in_group(pgid).len() > 1,
        "master and its children (smtpd, qmgr, ...) run in their own process group"
    );
    drop(postfix);
    assert_eq!(live_processes_in_group(pgid), Vec::<u32>::new());
}

fn aiosmtpd_receives_smtplibs_messages(mode: TlsMode) {
    if !require_aiosmtpd() {
        return;
    }
    let dir = work_dir("smtp-aiosmtpd-smtplib");
    let pki = DevicePki::new(dir.path());
    let server = Aiosmtpd::start(&pki, mode, USER, PASSWORD);
    let size = 2000;
    let elapsed = smtplib_send(server.port(), mode, &pki.ca_crt, USER, PASSWORD, 3, size)
        .unwrap_or_else(|e| panic!("{e}\nserver log:\n{}", server.log()));
    assert!(elapsed > Duration::ZERO && elapsed < CLIENT_TIMEOUT);

    let messages = server
        .wait_for_messages(3, DELIVERY_TIMEOUT)
        .expect("3 messages");
    assert_eq!(messages.len(), 3);
    for (i, message) in messages.iter().enumerate() {
        assert!(message.tls, "{message:?}");
        assert_eq!(message.auth_user.as_deref(), Some(USER));
        assert_eq!(message.connection, messages[0].connection, "one session");
        assert_eq!(message.mail_from, "sender@example.com");
        assert_eq!(message.rcpt_to, ["rcpt@example.org"]);
        assert_eq!(message.data.len(), size);
        assert!(message.data.ends_with(b"\r\n"));
        assert_eq!(
            header_value(&message.data, "Subject"),
            Some(format!("message {} of 3", i + 1))
        );
    }

    // The wrong password: smtplib's SMTPAuthenticationError, nothing more received.
    let err = smtplib_send(server.port(), mode, &pki.ca_crt, USER, "wrong", 1, 100)
        .expect_err("a wrong password must fail");
    assert!(err.to_string().contains("535"), "{err}");
    assert_eq!(server.messages().len(), 3);
}

#[test]
fn aiosmtpd_implicit_tls_receives_smtplibs_messages() {
    aiosmtpd_receives_smtplibs_messages(TlsMode::Implicit);
}

#[test]
fn aiosmtpd_starttls_receives_smtplibs_messages() {
    aiosmtpd_receives_smtplibs_messages(TlsMode::StartTls);
}

/// aiosmtpd keeps the DATA bytes exactly: curl's dot-stuffing is undone, CRLF kept, 8-bit kept.
#[test]
fn aiosmtpd_keeps_curls_message_byte_for_byte() {
    if !require_aiosmtpd() || !require("curl") {
        return;
    }
    let dir = work_dir("smtp-aiosmtpd-curl");
    let pki = DevicePki::new(dir.path());
    for (mode, scheme, flags) in [
        (TlsMode::Implicit, "smtps", &[][..]),
        (TlsMode::StartTls, "smtp", &["--ssl-reqd"][..]),
    ] {
        let server = Aiosmtpd::start(&pki, mode, USER, PASSWORD);
        let url = format!("{scheme}://127.0.0.1:{}", server.port());
        let output = curl_send(&url, &pki, dir.path(), PASSWORD, flags);
        assert_eq!(
            output.status.code(),
            Some(0),
            "curl:\n{}",
            describe(&output)
        );
        let messages = server
            .wait_for_messages(1, DELIVERY_TIMEOUT)
            .expect("1 message");
        let message = &messages[0];
        assert_eq!(
            message.data,
            MESSAGE,
            "{mode:?}:\n{}",
            String::from_utf8_lossy(&message.data)
        );
        assert_eq!(message.mail_from, FROM);
        assert_eq!(message.rcpt_to, [TO]);
        assert!(message.tls);
        assert_eq!(message.auth_user.as_deref(), Some(USER));
    }
}

/// The benchmark baseline, by hand: Python's smtplib sends 1,000 messages of 1 KiB in one
/// session to each server and mode, and Postfix delivers them.
///
/// `cargo test -p redy-interop --test smtp_peers -- --ignored --nocapture smtplib_baseline`
#[test]
#[ignore = "a benchmark baseline (a few seconds per server), run by hand"]
fn smtplib_baseline_1000_messages() {
    if !require_postfix() || !require_aiosmtpd() {
        return;
    }
    const COUNT: usize = 1000;
    const SIZE: usize = 1024;
    let dir = work_dir("smtp-baseline");
    let pki = DevicePki::new(dir.path());
    for mode in [TlsMode::Implicit, TlsMode::StartTls] {
        let server = Aiosmtpd::start(&pki, mode, USER, PASSWORD);
        let elapsed = smtplib_send(
            server.port(),
            mode,
            &pki.ca_crt,
            USER,
            PASSWORD,
            COUNT,
            SIZE,
        )
        .expect("smtplib to aiosmtpd");
        assert_eq!(server.messages().len(), COUNT);
        println!("smtplib -> aiosmtpd {mode:?}: {COUNT} x {SIZE} B in {elapsed:?}");
    }
    for mode in [TlsMode::Implicit, TlsMode::StartTls] {
        let postfix = Postfix::start(&pki, USER, PASSWORD);
        let start = std::time::Instant::now();
        let elapsed = smtplib_send(
            postfix.port(mode),
            mode,
            &pki.ca_crt,
            USER,
            PASSWORD,
            COUNT,
            SIZE,
        )
        .expect("smtplib to postfix");
        postfix
            .wait_for_messages(COUNT, Duration::from_secs(120))
            .expect("delivery");
        println!(
            "smtplib -> postfix {mode:?}: {COUNT} x {SIZE} B in {elapsed:?}, all delivered after {:?}",
            start.elapsed()
        );
    }
}
