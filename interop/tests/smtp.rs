//! The redy SMTP client against real servers: Postfix (SASL AUTH PLAIN and LOGIN) and aiosmtpd,
//! implicit TLS and STARTTLS, TLS 1.2 and 1.3; and the `smtps-send` binary as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use redy_examples::smtp::{MessageReader, SmtpConnection};
use redy_interop::smtp::{Aiosmtpd, Postfix, TlsMode, require_aiosmtpd, require_postfix, to_lf};
use redy_interop::{DevicePki, run_with_timeout, work_dir, write_pseudo_random};
use redy_smtps::message::{Attachment, Mailbox, Message, MessageId};
use redy_smtps::{Credentials, Envelope, Error, Mechanism, Security, SmtpConfig};
use redy_tls::{CertificateError, TlsVersion};

const USER: &str = "alice";
const PASSWORD: &str = "S3cret pass:word";
const DELIVERY: Duration = Duration::from_secs(30);
/// Lines a naive client would get wrong: dots at line starts, a lone dot, UTF-8.
const TEXT: &str =
    "Niveau élevé dans la cuve 3.\n.une ligne qui commence par un point\n..deux points\n.\nfin\n";

fn security(mode: TlsMode) -> Security {
    match mode {
        TlsMode::Implicit => Security::ImplicitTls,
        TlsMode::StartTls => Security::StartTlsRequired,
    }
}

fn config(pki: &DevicePki, mode: TlsMode, version: TlsVersion, password: &str) -> SmtpConfig {
    let tls = redy_tls::ClientConfig::builder(pki.trust())
        .versions(version, version)
        .build()
        .unwrap();
    SmtpConfig::new(security(mode), tls, "127.0.0.1").credentials(Credentials::Password {
        user: USER.into(),
        password: password.into(),
    })
}

/// A message with a UTF-8 subject and names, tricky text, and an attachment of `attachment` bytes.
fn message(attachment_len: usize, dir: &std::path::Path) -> (Message, PathBuf, Vec<u8>) {
    let message = Message::builder()
        .from(Mailbox::with_name("Capteur n°3", "device@example.com").unwrap())
        .to(Mailbox::with_name("Équipe d'astreinte", "ops@example.org").unwrap())
        .bcc(Mailbox::new("audit@example.org").unwrap())
        .subject("Alarme : niveau élevé — cuve 3")
        .date(1_795_322_400, 60)
        .message_id(MessageId::new([42; 16], "device.example.com").unwrap())
        .text(TEXT)
        .attach(Attachment::new("journal.bin", "application/octet-stream"))
        .build()
        .unwrap();
    let path = dir.join("journal.bin");
    let content = write_pseudo_random(&path, attachment_len);
    (message, path, content)
}

/// The exact bytes the encoder makes of `message` (what the server must store).
fn encoded(message: &Message, attachment: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let file = std::fs::File::open(attachment).unwrap();
    MessageReader::new(message, vec![Box::new(file)])
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn send(
    config: SmtpConfig,
    port: u16,
    message: &Message,
    attachment: &std::path::Path,
) -> Result<redy_examples::smtp::SendReport, std::io::Error> {
    let mut conn = SmtpConnection::open(config, TcpStream::connect(("127.0.0.1", port))?)?;
    let envelope = Envelope::new(
        message.sender().address().parse().unwrap(),
        message
            .envelope_recipients()
            .iter()
            .map(|a| a.parse().unwrap())
            .collect(),
    );
    let file = std::fs::File::open(attachment)?;
    let report = conn.send(
        &envelope,
        &mut MessageReader::new(message, vec![Box::new(file)]),
    )?;
    conn.quit()?;
    Ok(report)
}

fn smtp_error(err: &std::io::Error) -> Option<&Error> {
    err.get_ref().and_then(|e| e.downcast_ref::<Error>())
}

#[test]
fn postfix_receives_a_multi_megabyte_message_intact_in_every_mode_and_version() {
    if !require_postfix() {
        return;
    }
    let dir = work_dir("redy-postfix");
    let pki = DevicePki::new(dir.path());
    let postfix = Postfix::start(&pki, USER, PASSWORD);
    let (message, attachment, _) = message(3 << 20, dir.path());
    let expected = to_lf(&encoded(&message, &attachment));
    let mut sent = 0;
    for mode in [TlsMode::Implicit, TlsMode::StartTls] {
        for (version, mechanism) in [
            (TlsVersion::Tls12, Mechanism::Plain),
            (TlsVersion::Tls13, Mechanism::Login),
        ] {
            let mut cfg = config(&pki, mode, version, PASSWORD);
            cfg.auth_preference = vec![mechanism];
            let report = send(cfg, postfix.port(mode), &message, &attachment).unwrap();
            assert!(
                report.outcome.is_ok(),
                "{mode:?} {version}: {report:?}\n{}",
                postfix.log()
            );
            assert_eq!(
                report.recipients.len(),
                2,
                "To and Bcc are both envelope recipients"
            );
            sent += 1;
            let delivered = postfix.wait_for_messages(sent, DELIVERY).unwrap();
            let stored = delivered.last().unwrap();
            // Postfix prepends trace headers and stores LF line ends; the rest is ours, exactly.
            assert!(
                stored.ends_with(&expected),
                "{mode:?} {version} {mechanism:?}: stored message differs from what was sent"
            );
            let head = String::from_utf8_lossy(&stored[..stored.len() - expected.len()]);
            assert!(
                head.contains("Received:") && !head.contains("Bcc"),
                "{head}"
            );
        }
    }
}

#[test]
fn postfix_refuses_a_wrong_password_and_an_untrusted_certificate_with_clear_errors() {
    if !require_postfix() {
        return;
    }
    let dir = work_dir("redy-postfix-refusals");
    let pki = DevicePki::new(dir.path());
    let postfix = Postfix::start(&pki, USER, PASSWORD);
    let (message, attachment, _) = message(10, dir.path());
    for mode in [TlsMode::Implicit, TlsMode::StartTls] {
        let err = send(
            config(&pki, mode, TlsVersion::Tls13, "wrong"),
            postfix.port(mode),
            &message,
            &attachment,
        )
        .unwrap_err();
        assert!(
            matches!(smtp_error(&err), Some(Error::AuthFailed(r)) if r.code() == 535),
            "{mode:?}: {err}"
        );

        let tls = redy_tls::ClientConfig::builder(redy_certs::TrustPolicy::WebPkiRoots)
            .build()
            .unwrap();
        let cfg =
            SmtpConfig::new(security(mode), tls, "127.0.0.1").credentials(Credentials::Password {
                user: USER.into(),
                password: PASSWORD.into(),
            });
        let err = send(cfg, postfix.port(mode), &message, &attachment).unwrap_err();
        assert_eq!(
            smtp_error(&err),
            Some(&Error::Tls(redy_tls::Error::Certificate(
                CertificateError::UnknownIssuer
            ))),
            "{mode:?}: {err}"
        );
        assert!(err.to_string().contains("issuer unknown"), "{err}");
    }
    assert!(postfix.delivered().is_empty());
}

#[test]
fn aiosmtpd_keeps_the_exact_bytes_of_the_message_and_the_envelope() {
    if !require_aiosmtpd() {
        return;
    }
    let dir = work_dir("redy-aiosmtpd");
    let pki = DevicePki::new(dir.path());
    let (message, attachment, _) = message(2 << 20, dir.path());
    let expected = encoded(&message, &attachment);
    for mode in [TlsMode::Implicit, TlsMode::StartTls] {
        let server = Aiosmtpd::start(&pki, mode, USER, PASSWORD);
        for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
            let report = send(
                config(&pki, mode, version, PASSWORD),
                server.port(),
                &message,
                &attachment,
            )
            .unwrap();
            assert!(report.outcome.is_ok(), "{mode:?} {version}: {report:?}");
        }
        let received = server.wait_for_messages(2, DELIVERY).unwrap();
        for m in &received {
            assert!(
                m.data == expected,
                "{mode:?}: {} bytes received, {} sent",
                m.data.len(),
                expected.len()
            );
            assert_eq!(m.mail_from, "device@example.com");
            assert_eq!(m.rcpt_to, ["ops@example.org", "audit@example.org"]);
            assert!(m.tls, "{mode:?}: received over TLS");
            assert_eq!(m.auth_user.as_deref(), Some(USER));
        }
    }
}

/// The `smtps-send` binary beside this test's executable (cargo builds every workspace binary
/// before running tests).
fn smtps_send() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("smtps-send");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p redy-examples`",
        bin.display()
    );
    bin
}

#[test]
fn smtps_send_delivers_with_an_attachment_and_reports_refusals() {
    if !require_aiosmtpd() {
        return;
    }
    let dir = work_dir("smtps-send");
    let pki = DevicePki::new(dir.path());
    let server = Aiosmtpd::start(&pki, TlsMode::Implicit, USER, PASSWORD);
    let journal = dir.path().join("journal.csv");
    let content = write_pseudo_random(&journal, 300_000);
    let run = |password: &str, extra: &[&str]| {
        let mut command = Command::new(smtps_send());
        command
            .env("REDY_SMTP_PASSWORD", password)
            .args([
                "--url",
                &format!("smtps://{USER}@127.0.0.1:{}", server.port()),
            ])
            .args([
                "--from",
                "device@example.com",
                "--to",
                "ops@example.org",
                "--subject",
                "Journal du jour",
            ])
            .arg("--ca")
            .arg(&pki.ca_crt)
            .args(extra);
        run_with_timeout(&mut command, TEXT.as_bytes(), Duration::from_secs(60)).unwrap()
    };
    let out = run(
        PASSWORD,
        &["--attach", journal.to_str().unwrap(), "--tls-max", "1.2"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ops@example.org: 250") && stdout.contains("sent: 250"),
        "{stdout}"
    );
    let received = server.wait_for_messages(1, DELIVERY).unwrap();
    let data = &received[0].data;
    assert_eq!(received[0].tls_version.as_deref(), Some("TLSv1.2"));
    // The attachment comes back bit for bit from the base64 part.
    let text = String::from_utf8_lossy(data);
    let b64: String = text
        .split("Content-Disposition: attachment")
        .nth(1)
        .filter(|part| part.contains("journal.csv"))
        .and_then(|rest| rest.split("\r\n\r\n").nth(1))
        .and_then(|part| part.split("\r\n--").next())
        .unwrap()
        .replace("\r\n", "");
    use base64::Engine;
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
            == content,
        "attachment altered"
    );

    let out = run("wrong", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("535"), "{stderr}");
}
