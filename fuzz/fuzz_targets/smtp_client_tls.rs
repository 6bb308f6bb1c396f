//! The SMTP client machine on its real TLS path (implicit TLS) against a fixed in-memory
//! redy-tls server: the fuzzer chooses what the server says in plaintext (through TLS), where a
//! ciphertext byte is flipped, where the stream is cut, and time steps. Properties: no panic;
//! once the client failed it queues nothing more and holds no deadline; a byte flipped in a
//! flight's first record never lets that flight count as a reply (no message reported sent).
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use redy_certs::{DeviceCa, TrustPolicy};
use redy_smtps::{Envelope, Event, Security, SmtpClient, SmtpConfig};
use redy_tls::{ClientConfig, ServerConfig, TlsSession};

#[derive(Arbitrary, Debug)]
enum Op {
    /// The server sends these plaintext bytes (replies, garbage) through TLS.
    Say(Vec<u8>),
    /// A canned reply, so that the session gets past the greeting and EHLO.
    Reply(u8),
    /// XOR `mask` into ciphertext byte `at` of the next flight to the client.
    Flip(u16, u8),
    /// Deliver only `n` bytes of the next flight, then end the connection.
    Cut(u16),
    StartMail,
    WriteBody(Vec<u8>),
    FinishBody,
    Wait(u16),
}

const REPLIES: [&[u8]; 6] = [
    b"220 mail.test ESMTP\r\n",
    b"250-mail.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
    b"250 2.1.0 Ok\r\n",
    b"354 go ahead\r\n",
    b"250 2.0.0 queued\r\n",
    b"421 4.3.2 shutting down\r\n",
];

fn configs() -> &'static (ClientConfig, ServerConfig) {
    static C: OnceLock<(ClientConfig, ServerConfig)> = OnceLock::new();
    C.get_or_init(|| {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ca = DeviceCa::generate(&"12345-67890".parse().expect("wid"), now).expect("ca");
        let id = ca.issue_server_certificate(&["mail.test".parse().expect("name")], now).expect("id");
        let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
        let time = redy_certs::TimeSource::Fixed(now);
        (
            ClientConfig::builder(trust).time_source(time).build().expect("client"),
            ServerConfig::builder(id).build().expect("server"),
        )
    })
}

fuzz_target!(|ops: Vec<Op>| {
    let (client_config, server_config) = configs();
    let mut now = Instant::now();
    let config = SmtpConfig::new(Security::ImplicitTls, client_config.clone(), "mail.test");
    let Ok(mut client) = SmtpClient::new(config, now) else { return };
    let Ok(mut server) = TlsSession::server(server_config) else { return };
    let envelope = Envelope::new("a@b.c".parse().expect("address"), vec!["d@e.f".parse().expect("address")]);
    let mut flip: Option<(usize, u8)> = None;
    let mut cut: Option<usize> = None;
    let mut ended = false;
    let mut after_failure: Option<usize> = None;
    for op in ops {
        match op {
            Op::Say(bytes) => drop(server.send(&bytes)),
            Op::Reply(i) => drop(server.send(REPLIES[usize::from(i) % REPLIES.len()])),
            Op::Flip(at, mask) => flip = Some((usize::from(at), mask | 1)),
            Op::Cut(n) => cut = Some(usize::from(n)),
            Op::StartMail => drop(client.start_mail(&envelope, now)),
            Op::WriteBody(b) => drop(client.write_body(&b, now)),
            Op::FinishBody => drop(client.finish_body(now)),
            Op::Wait(ms) => {
                now += Duration::from_millis(u64::from(ms) * 100);
                let _ = client.handle_timeout(now);
            }
        }
        // Client to server, whole.
        let out = client.transmit().to_vec();
        client.advance(out.len());
        if server.receive(&out).is_ok() {
            while let Ok(p) = server.plaintext() {
                let n = p.len();
                if n == 0 {
                    break;
                }
                server.consume(n);
            }
        }
        // Server to client, with the fault.
        let mut flight = server.transmit().to_vec();
        server.advance(flight.len());
        if ended {
            flight.clear();
        }
        let mut flipped = false;
        if flight.len() > 5 && let Some((at, mask)) = flip.take() {
            // Within the first record: nothing of this flight may then be read as plaintext.
            let first = 5 + (usize::from(flight[3]) << 8 | usize::from(flight[4]));
            let i = at % first.min(flight.len());
            flight[i] ^= mask;
            flipped = true;
        }
        if let Some(n) = cut.take() {
            flight.truncate(n.min(flight.len()));
            ended = true;
        }
        let mut rest = &flight[..];
        while !rest.is_empty() {
            match client.receive(rest, now) {
                Ok(0) | Err(_) => break,
                Ok(n) => rest = &rest[n..],
            }
        }
        if ended {
            let _ = client.receive_eof(now);
        }
        while let Some(event) = client.poll_event() {
            if flipped {
                assert!(
                    !matches!(event, Event::Sent { .. }),
                    "a message reported sent on a flight with a flipped byte"
                );
            }
        }
        if client.error().is_some() {
            let queued = client.transmit().len();
            if let Some(before) = after_failure {
                assert!(queued <= before, "bytes queued after the failure");
            }
            after_failure = Some(queued);
            assert!(client.poll_timeout().is_none(), "a deadline after the failure");
        }
    }
});
