//! An in-memory client/server link and certificates made once per test binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // shared by several test binaries; a failed unwrap is a failed test

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use redy_certs::{DeviceCa, Identity, SubjectName, TrustPolicy};
use redy_tls::{ClientConfig, Error, Event, ServerConfig, TlsSession};

pub const NOW: u64 = 1_790_000_000;

pub fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

pub struct Fixture {
    /// The device CA of the server under test.
    pub ca: DeviceCa,
    /// Another device's CA.
    pub other_ca: DeviceCa,
    /// Server identity for 127.0.0.1 and redy.local, issued by `ca`.
    pub server: Identity,
    /// Another identity from `ca` (same names, other key).
    pub sibling: Identity,
    /// An identity from `other_ca`.
    pub stranger: Identity,
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let now = SystemTime::now();
        let names: Vec<SubjectName> =
            vec!["127.0.0.1".parse().unwrap(), "redy.local".parse().unwrap()];
        let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
        let other_ca = DeviceCa::generate(&"99999-00000".parse().unwrap(), now).unwrap();
        Fixture {
            server: ca.issue_server_certificate(&names, now).unwrap(),
            sibling: ca.issue_server_certificate(&names, now).unwrap(),
            stranger: other_ca.issue_server_certificate(&names, now).unwrap(),
            ca,
            other_ca,
        }
    })
}

pub fn trust_ca() -> TrustPolicy {
    TrustPolicy::CaCertificates(vec![fixture().ca.certificate().clone()])
}

pub fn server_config() -> ServerConfig {
    ServerConfig::builder(fixture().server.clone())
        .build()
        .unwrap()
}

pub fn client_config(trust: TrustPolicy) -> ClientConfig {
    ClientConfig::builder(trust).build().unwrap()
}

/// A client and a server joined by two in-memory byte pipes, like a TCP connection.
pub struct Link {
    pub client: TlsSession,
    pub server: TlsSession,
    c2s: Vec<u8>,
    s2c: Vec<u8>,
}

impl Link {
    pub fn new(client: TlsSession, server: TlsSession) -> Self {
        Self {
            client,
            server,
            c2s: Vec::new(),
            s2c: Vec::new(),
        }
    }

    pub fn connect(client: &ClientConfig, name: &str, server: &ServerConfig) -> Self {
        let mut link = Self::new(
            TlsSession::client(client, name).unwrap(),
            TlsSession::server(server).unwrap(),
        );
        link.pump();
        link
    }

    /// Moves bytes both ways until neither side has anything more to say or take. Bytes a
    /// failed session cannot take are dropped, as a closed socket would.
    pub fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            progress |= flush(&mut self.client, &mut self.c2s);
            progress |= flush(&mut self.server, &mut self.s2c);
            progress |= deliver(&mut self.c2s, &mut self.server);
            progress |= deliver(&mut self.s2c, &mut self.client);
            if !progress {
                return;
            }
        }
        panic!("link never went quiet");
    }

    /// Pumps and reads both sides' plaintext until nothing moves; returns (what the client
    /// received, what the server received).
    pub fn settle(&mut self) -> (Vec<u8>, Vec<u8>) {
        let (mut to_client, mut to_server) = (Vec::new(), Vec::new());
        loop {
            self.pump();
            let c = drain_plaintext(&mut self.client);
            let s = drain_plaintext(&mut self.server);
            if c.is_empty() && s.is_empty() {
                return (to_client, to_server);
            }
            to_client.extend(c);
            to_server.extend(s);
        }
    }

    pub fn errors(&self) -> (Option<Error>, Option<Error>) {
        (self.client.error().cloned(), self.server.error().cloned())
    }

    pub fn resumed(&self) -> bool {
        let c = self.client.handshake().map(|h| h.resumed);
        let s = self.server.handshake().map(|h| h.resumed);
        assert_eq!(c, s, "both sides agree on resumption");
        c.unwrap_or(false)
    }
}

fn flush(from: &mut TlsSession, pipe: &mut Vec<u8>) -> bool {
    let out = from.transmit();
    let n = out.len();
    pipe.extend_from_slice(out);
    from.advance(n);
    n > 0
}

fn deliver(pipe: &mut Vec<u8>, to: &mut TlsSession) -> bool {
    if pipe.is_empty() {
        return false;
    }
    match to.receive(pipe) {
        Ok(n) => {
            pipe.drain(..n);
            n > 0
        }
        Err(_) => {
            pipe.clear();
            true
        }
    }
}

/// Reads every byte of plaintext waiting in `session`.
pub fn drain_plaintext(session: &mut TlsSession) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let chunk = session.plaintext().unwrap();
        if chunk.is_empty() {
            return all;
        }
        let n = chunk.len();
        all.extend_from_slice(chunk);
        session.consume(n);
    }
}

/// Asserts two byte strings are equal without printing megabytes.
#[track_caller]
pub fn assert_same(got: &[u8], want: &[u8]) {
    let first_diff = got.iter().zip(want).position(|(a, b)| a != b);
    assert!(
        got == want,
        "got {} bytes, want {}; first difference at {first_diff:?}",
        got.len(),
        want.len()
    );
}

pub fn events(session: &mut TlsSession) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}
