//! 1,000 messages in one SMTP session: redy-smtps (pipelined) against Python's smtplib, to the
//! same aiosmtpd server (implicit TLS and STARTTLS, AUTH), in the same run; prints the ratio.
//!
//! ```text
//! cargo bench -p redy-interop --bench smtp_session          # needs bash interop/setup.sh
//! REDY_BENCH_MESSAGES=200 cargo bench -p redy-interop --bench smtp_session
//! ```
//! Both send messages of the same size and shape (76-character lines, no dot lines) with the
//! same envelope, and both times run from connect to the QUIT reply.
#![allow(clippy::expect_used)] // a benchmark: a failure ends the run with its cause

use std::net::TcpStream;
use std::time::{Duration, Instant};

use redy_examples::smtp::SmtpConnection;
use redy_interop::smtp::{Aiosmtpd, TlsMode, require_aiosmtpd, smtplib_send};
use redy_interop::{DevicePki, work_dir};
use redy_smtps::{Credentials, Envelope, Security, SmtpConfig};

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
const SIZE: usize = 1024;

fn body(i: usize, count: usize) -> Vec<u8> {
    let mut text = format!(
        "From: <sender@example.com>\r\nTo: <rcpt@example.org>\r\nSubject: message {i} of {count}\r\n\r\n"
    );
    let line = format!("{}\r\n", "x".repeat(76));
    while text.len() + line.len() <= SIZE {
        text.push_str(&line);
    }
    text.into_bytes()
}

fn redy(pki: &DevicePki, mode: TlsMode, port: u16, count: usize) -> Duration {
    let security = match mode {
        TlsMode::Implicit => Security::ImplicitTls,
        TlsMode::StartTls => Security::StartTlsRequired,
    };
    let tls = redy_tls::ClientConfig::builder(pki.trust())
        .build()
        .expect("TLS config");
    let config = SmtpConfig::new(security, tls, "127.0.0.1").credentials(Credentials::Password {
        user: USER.into(),
        password: PASSWORD.into(),
    });
    let envelope = Envelope::new(
        "sender@example.com".parse().expect("address"),
        vec!["rcpt@example.org".parse().expect("address")],
    );
    let bodies: Vec<Vec<u8>> = (1..=count).map(|i| body(i, count)).collect();
    let start = Instant::now();
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut conn = SmtpConnection::open(config, tcp).expect("session");
    let mut readers: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let messages = readers
        .iter_mut()
        .map(|r| (&envelope, r as &mut dyn std::io::Read))
        .collect();
    for report in conn.send_all(messages).expect("send") {
        assert!(report.outcome.is_ok(), "{report:?}");
    }
    conn.quit().expect("quit");
    start.elapsed()
}

fn main() {
    if !require_aiosmtpd() {
        return;
    }
    let count: usize = std::env::var("REDY_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = work_dir("bench-smtp");
    let pki = DevicePki::new(dir.path());
    println!("{count} messages of {SIZE} bytes in one session to aiosmtpd on 127.0.0.1, best of 3");
    println!(
        "{:<10} {:>12} {:>12} {:>8}",
        "mode", "smtplib s", "redy s", "ratio"
    );
    for mode in [TlsMode::Implicit, TlsMode::StartTls] {
        let server = Aiosmtpd::start(&pki, mode, USER, PASSWORD);
        let (mut python, mut ours) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            python = python.min(
                smtplib_send(
                    server.port(),
                    mode,
                    &pki.ca_crt,
                    USER,
                    PASSWORD,
                    count,
                    SIZE,
                )
                .expect("smtplib"),
            );
            ours = ours.min(redy(&pki, mode, server.port(), count));
        }
        let received = server.messages().len();
        assert_eq!(received, 6 * count, "every message arrived");
        println!(
            "{:<10} {:>12.3} {:>12.3} {:>7.2}x",
            mode.as_arg(),
            python.as_secs_f64(),
            ours.as_secs_f64(),
            python.as_secs_f64() / ours.as_secs_f64()
        );
    }
}
