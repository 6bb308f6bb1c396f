//! The SMTP client machine in plain mode (the fuzzer reaches protocol states without TLS),
//! driven by arbitrary server bytes, time steps and caller calls. Properties: no panic; once the
//! machine reported a fatal error it sends nothing more; deadlines never go backwards in time.
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use redy_smtps::{Credentials, Envelope, Security, SmtpClient, SmtpConfig};

#[derive(Arbitrary, Debug)]
enum Op {
    Receive(Vec<u8>),
    Eof,
    Wait(u16),
    StartMail(u8),
    WriteBody(Vec<u8>),
    FinishBody,
    Noop,
    Quit,
    Transmit(u16),
}

fuzz_target!(|ops: Vec<Op>| {
    let tls = redy_tls::ClientConfig::builder(redy_certs::TrustPolicy::WebPkiRoots).build().expect("config");
    let mut config = SmtpConfig::new(Security::InsecurePlainForLocalTests, tls, "localhost")
        .credentials(Credentials::Password { user: "u".into(), password: "p".into() });
    config.allow_credentials_in_clear = true;
    let mut now = Instant::now();
    let Ok(mut client) = SmtpClient::new(config, now) else { return };
    let envelope = Envelope::new("a@b.c".parse().expect("address"), vec!["d@e.f".parse().expect("address")]);
    // Bytes queued when the fatal error was reported: the most the machine may ever send after.
    let mut budget: Option<usize> = None;
    for op in ops {
        match op {
            Op::Receive(bytes) => {
                let _ = client.receive(&bytes, now);
            }
            Op::Eof => {
                let _ = client.receive_eof(now);
            }
            Op::Wait(secs) => {
                now += Duration::from_secs(u64::from(secs));
                let _ = client.handle_timeout(now);
            }
            Op::StartMail(n) => {
                let mut e = envelope.clone();
                e.recipients = (0..=n % 4).map(|i| format!("r{i}@x.y").parse().expect("address")).collect();
                let _ = client.start_mail(&e, now);
            }
            Op::WriteBody(bytes) => {
                let _ = client.write_body(&bytes, now);
            }
            Op::FinishBody => {
                let _ = client.finish_body(now);
            }
            Op::Noop => {
                let _ = client.noop(now);
            }
            Op::Quit => {
                let _ = client.quit(now);
            }
            Op::Transmit(n) => {
                let n = client.transmit().len().min(usize::from(n));
                client.advance(n);
                if let Some(b) = &mut budget {
                    *b -= n;
                }
            }
        }
        if client.error().is_some() {
            let pending = client.transmit().len();
            let b = *budget.get_or_insert(pending);
            assert!(pending <= b, "bytes queued after a fatal error: {pending} > {b}");
            assert_eq!(client.poll_timeout(), None, "no deadline after a fatal error");
        }
        let _ = std::iter::from_fn(|| client.poll_event()).count();
    }
});
