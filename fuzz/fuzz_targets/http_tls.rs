//! The HTTP/1.1 client and server machines on their real TLS path, against each other in
//! memory: the fuzzer chooses the requests, how many bytes move at a time in each direction,
//! where a ciphertext byte is flipped, where a direction is cut, and time steps. The server
//! echoes each request's body. Properties: no panic; no event after a fatal error; whatever
//! the faults, a response the client completes carries exactly the body of its request (TLS
//! never lets altered bytes through as data).
#![no_main]

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use redy_certs::{DeviceCa, TrustPolicy};
use redy_eshare::http::{Client, ClientEvent, Headers, Limits, Link, Server, ServerEvent};
use redy_tls::{ClientConfig, ServerConfig, TlsSession};

#[derive(Arbitrary, Debug)]
enum Op {
    /// The client sends a POST with a body of this many bytes (chunked when `chunked`).
    Request { len: u16, chunked: bool },
    /// Move up to `n` bytes (times 64) from client to server (`up`) or back.
    Move { up: bool, n: u8 },
    /// XOR `mask` into the byte `at` of what moves next in that direction.
    Flip { up: bool, at: u16, mask: u8 },
    /// That direction ends now (EOF after what was moved).
    Cut { up: bool },
    Wait(u16),
}

fn configs() -> &'static (ClientConfig, ServerConfig) {
    static C: OnceLock<(ClientConfig, ServerConfig)> = OnceLock::new();
    C.get_or_init(|| {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ca = DeviceCa::generate(&"12345-67890".parse().expect("wid"), now).expect("ca");
        let id = ca.issue_server_certificate(&["eshare.test".parse().expect("name")], now).expect("id");
        let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
        let time = redy_certs::TimeSource::Fixed(now);
        (
            ClientConfig::builder(trust).time_source(time).build().expect("client"),
            ServerConfig::builder(id).build().expect("server"),
        )
    })
}

/// One direction of the in-memory wire.
#[derive(Default)]
struct Pipe {
    flip: Option<(usize, u8)>,
    cut: bool,
    eof_sent: bool,
}

fn body(n: usize, seed: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + seed) as u8).collect()
}

fuzz_target!(|ops: Vec<Op>| {
    let (client_config, server_config) = configs();
    let t0 = Instant::now();
    let mut now = t0;
    let (Ok(c), Ok(s)) = (TlsSession::client(client_config, "eshare.test"), TlsSession::server(server_config)) else {
        return;
    };
    let limits = Limits { max_body: 1 << 16, ..Limits::default() };
    let mut client = Client::new(Link::tls(c), limits.clone(), now);
    let mut server = Server::new(Link::tls(s), limits, now);
    let (mut up, mut down) = (Pipe::default(), Pipe::default());
    let mut sent: VecDeque<Vec<u8>> = VecDeque::new();
    let mut pending_body: Vec<u8> = Vec::new();
    let (mut server_body, mut client_body) = (Vec::new(), Vec::new());
    let mut reply: Option<Vec<u8>> = None;
    let (mut client_dead, mut server_dead) = (false, false);
    for op in ops.into_iter().take(200) {
        match op {
            Op::Request { len, chunked } => {
                if client.can_send_request() && pending_body.is_empty() {
                    let data = body(usize::from(len), sent.len());
                    let declared = (!chunked).then_some(data.len() as u64);
                    if client.send_request("POST", "/echo", &Headers::new(), declared).is_ok() {
                        sent.push_back(data.clone());
                        pending_body = data;
                        if pending_body.is_empty() && chunked {
                            let _ = client.finish_body();
                        }
                    }
                }
            }
            Op::Move { up: is_up, n } => {
                let n = usize::from(n) * 64 + 1;
                let (pipe, out) = match is_up {
                    true => (&mut up, client.transmit().to_vec()),
                    false => (&mut down, server.transmit().to_vec()),
                };
                let mut chunk = out[..n.min(out.len())].to_vec();
                if pipe.cut {
                    chunk.clear();
                }
                if let Some((at, mask)) = pipe.flip.take_if(|_| !chunk.is_empty()) {
                    let i = at % chunk.len();
                    chunk[i] ^= mask;
                }
                let taken = match is_up {
                    true => server.receive(&chunk, now),
                    false => client.receive(&chunk, now),
                };
                let moved = taken.min(chunk.len());
                match is_up {
                    true => client.advance(if up.cut { out.len() } else { moved }),
                    false => server.advance(if down.cut { out.len() } else { moved }),
                }
                let pipe = if is_up { &mut up } else { &mut down };
                if pipe.cut && !pipe.eof_sent {
                    pipe.eof_sent = true;
                    match is_up {
                        true => server.receive_eof(now),
                        false => client.receive_eof(now),
                    }
                }
            }
            Op::Flip { up: is_up, at, mask } => {
                let pipe = if is_up { &mut up } else { &mut down };
                pipe.flip = Some((usize::from(at), mask | 1));
            }
            Op::Cut { up: is_up } => {
                if is_up { up.cut = true } else { down.cut = true }
            }
            Op::Wait(ms) => {
                now += Duration::from_millis(u64::from(ms) * 50);
                client.handle_timeout(now);
                server.handle_timeout(now);
            }
        }
        // The client writes what it can of its body.
        if !pending_body.is_empty() {
            match client.write_body(&pending_body) {
                Ok(n) => {
                    pending_body.drain(..n);
                }
                Err(_) => pending_body.clear(),
            }
        }
        // The server echoes each request.
        while let Some(event) = server.poll_event() {
            assert!(!server_dead, "server event after its end: {event:?}");
            match event {
                ServerEvent::Request(_) => server_body.clear(),
                ServerEvent::BodyData => {
                    server_body.extend_from_slice(server.body());
                    let n = server.body().len();
                    server.consume_body(n, now);
                }
                ServerEvent::BodyEnd => {
                    if server.respond(200, "OK", &Headers::new(), Some(server_body.len() as u64)).is_ok() {
                        reply = Some(std::mem::take(&mut server_body));
                    }
                }
                ServerEvent::Closed | ServerEvent::Error(_) => server_dead = true,
                _ => {}
            }
        }
        if let Some(r) = reply.as_mut() {
            match server.write_body(r) {
                Ok(n) => {
                    r.drain(..n);
                }
                Err(_) => r.clear(),
            }
            if r.is_empty() {
                reply = None;
            }
        }
        while let Some(event) = client.poll_event() {
            assert!(!client_dead, "client event after its end: {event:?}");
            match event {
                ClientEvent::Response(_) => client_body.clear(),
                ClientEvent::BodyData => {
                    client_body.extend_from_slice(client.body());
                    let n = client.body().len();
                    client.consume_body(n, now);
                }
                ClientEvent::BodyEnd => {
                    let expected = sent.pop_front().expect("a response to a request sent");
                    assert_eq!(client_body, expected, "a response body other than the request's");
                }
                ClientEvent::Closed | ClientEvent::Error(_) => client_dead = true,
                _ => {}
            }
        }
    }
});
