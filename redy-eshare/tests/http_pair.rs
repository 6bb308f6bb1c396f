//! An in-memory HTTP client/server pair over real TLS with virtual time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use redy_certs::{DeviceCa, Identity, SubjectName, TrustPolicy};
use redy_eshare::http::{
    Client, ClientEvent, Headers, HttpError, Limits, Link, Server, ServerEvent,
};
use redy_tls::{ClientConfig, ServerConfig, TlsSession};

fn configs() -> &'static (ClientConfig, ServerConfig) {
    static C: OnceLock<(ClientConfig, ServerConfig)> = OnceLock::new();
    C.get_or_init(|| {
        let now = SystemTime::now();
        let names: Vec<SubjectName> = vec!["127.0.0.1".parse().unwrap()];
        let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
        let id: Identity = ca.issue_server_certificate(&names, now).unwrap();
        let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
        (
            ClientConfig::builder(trust).build().unwrap(),
            ServerConfig::builder(id).build().unwrap(),
        )
    })
}

fn tls_pair(t: Instant) -> (Client, Server) {
    let (c, s) = configs();
    let client = Client::new(
        Link::tls(TlsSession::client(c, "127.0.0.1").unwrap()),
        Limits::default(),
        t,
    );
    let server = Server::new(
        Link::tls(TlsSession::server(s).unwrap()),
        Limits::default(),
        t,
    );
    (client, server)
}

/// Moves bytes both ways until nothing moves.
fn pump(c: &mut Client, s: &mut Server, t: Instant) {
    loop {
        let out = c.transmit().to_vec();
        let n = s.receive(&out, t);
        c.advance(n);
        let back = s.transmit().to_vec();
        let m = c.receive(&back, t);
        s.advance(m);
        if n == 0 && m == 0 {
            break;
        }
    }
}

fn cevents(c: &mut Client) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}
fn sevents(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Sends one request with `body` (chunked if `chunked`), echoes it back from the server
/// (chunked or by length), and returns what the client received.
fn exchange(c: &mut Client, s: &mut Server, t: Instant, body: &[u8], chunked: bool) -> Vec<u8> {
    let len = (!chunked).then_some(body.len() as u64);
    c.send_request("POST", "/echo", &Headers::new(), len)
        .unwrap();
    let (mut sent, mut echoed_len, mut got) = (0, None::<u64>, Vec::new());
    let mut upload = Vec::new();
    let mut echo_pos = 0;
    let mut finished = false;
    for _ in 0..100_000 {
        if sent < body.len() {
            sent += c.write_body(&body[sent..]).unwrap();
        } else if chunked && !finished {
            c.finish_body().unwrap();
            finished = true;
        }
        pump(c, s, t);
        for ev in sevents(s) {
            match ev {
                ServerEvent::Request(r) => assert_eq!(r.target, "/echo"),
                ServerEvent::BodyData | ServerEvent::BodyEnd => {}
                e => panic!("server: {e:?}"),
            }
        }
        upload.extend_from_slice(s.body());
        let n = s.body().len();
        s.consume_body(n, t);
        if upload.len() == body.len() && echoed_len.is_none() {
            // Respond the other way round from the upload: chunked answers a length upload.
            let l = if chunked {
                Some(body.len() as u64)
            } else {
                None
            };
            s.respond(200, "OK", &Headers::new(), l).unwrap();
            echoed_len = Some(body.len() as u64);
        }
        if echoed_len.is_some() && echo_pos <= upload.len() {
            if echo_pos < upload.len() {
                echo_pos += s.write_body(&upload[echo_pos..]).unwrap();
            }
            if echo_pos == upload.len() && !chunked {
                s.finish_body().unwrap();
                echo_pos += 1;
            }
        }
        pump(c, s, t);
        got.extend_from_slice(c.body());
        let n = c.body().len();
        c.consume_body(n, t);
        for ev in cevents(c) {
            match ev {
                ClientEvent::Response(r) => assert_eq!(r.status, 200),
                ClientEvent::BodyData => {}
                ClientEvent::BodyEnd => {
                    if chunked && !finished {
                        c.finish_body().unwrap();
                        pump(c, s, t);
                    }
                    assert!(
                        sevents(s)
                            .iter()
                            .all(|e| !matches!(e, ServerEvent::Error(_)))
                    );
                    got.extend_from_slice(c.body());
                    let n = c.body().len();
                    c.consume_body(n, t);
                    return got;
                }
                e => panic!("client: {e:?}"),
            }
        }
    }
    panic!(
        "exchange did not finish ({} of {} uploaded)",
        upload.len(),
        body.len()
    );
}

#[test]
fn keep_alive_requests_chunked_and_large_bodies_over_tls() {
    let t = Instant::now();
    let (mut c, mut s) = tls_pair(t);
    for (len, chunked) in [
        (0, false),
        (10, false),
        (1000, true),
        (100_000, true),
        (5 * 1024 * 1024, false),
    ] {
        let body = data(len);
        let got = exchange(&mut c, &mut s, t, &body, chunked);
        assert!(
            got == body,
            "body of {len} bytes (chunked {chunked}) differs"
        );
    }
    assert!(c.error().is_none() && s.error().is_none());
}

#[test]
fn expect_continue_waits_for_100() {
    let t = Instant::now();
    let (mut c, mut s) = tls_pair(t);
    let mut h = Headers::new();
    h.push("Expect", b"100-continue");
    c.send_request("PUT", "/x", &h, Some(3)).unwrap();
    assert_eq!(
        c.write_body(b"abc").unwrap(),
        0,
        "body held until 100 Continue"
    );
    pump(&mut c, &mut s, t);
    assert_eq!(c.write_body(b"abc").unwrap(), 3);
    pump(&mut c, &mut s, t);
    assert_eq!(s.body(), b"abc");
}

#[test]
fn client_head_timeout_fires_and_is_sticky() {
    let t = Instant::now();
    let (mut c, mut s) = tls_pair(t);
    c.send_request("GET", "/", &Headers::new(), Some(0))
        .unwrap();
    pump(&mut c, &mut s, t);
    let due = c.poll_timeout().unwrap();
    assert_eq!(due, t + Duration::from_secs(30));
    c.handle_timeout(due);
    assert_eq!(
        cevents(&mut c),
        vec![ClientEvent::Error(HttpError::Timeout("head"))]
    );
    assert_eq!(c.receive(b"anything", due), 0);
    assert!(cevents(&mut c).is_empty());
}

/// A raw TLS server sends a close-delimited response, with or without close_notify.
fn close_delimited(with_close_notify: bool) -> Vec<ClientEvent> {
    let t = Instant::now();
    let (cc, sc) = configs();
    let mut c = Client::new(
        Link::tls(TlsSession::client(cc, "127.0.0.1").unwrap()),
        Limits::default(),
        t,
    );
    let mut s = TlsSession::server(sc).unwrap();
    c.send_request("GET", "/", &Headers::new(), Some(0))
        .unwrap();
    let mut events = Vec::new();
    let mut replied = false;
    for _ in 0..20 {
        let out = c.transmit().to_vec();
        let n = s.receive(&out).unwrap();
        c.advance(n);
        let p = s.plaintext().unwrap().len();
        s.consume(p);
        if p > 0 && !replied {
            s.send(b"HTTP/1.1 200 OK\r\n\r\nuntil the end").unwrap();
            if with_close_notify {
                s.close();
            }
            replied = true;
        }
        let back = s.transmit().to_vec();
        let m = c.receive(&back, t);
        s.advance(m);
        events.extend(cevents(&mut c));
    }
    c.receive_eof(t);
    events.extend(cevents(&mut c));
    events
}

#[test]
fn close_delimited_complete_only_with_close_notify() {
    let ok = close_delimited(true);
    assert!(
        ok.ends_with(&[ClientEvent::BodyEnd, ClientEvent::Closed]),
        "{ok:?}"
    );
    let cut = close_delimited(false);
    assert_eq!(
        cut.last(),
        Some(&ClientEvent::Error(HttpError::Truncated)),
        "{cut:?}"
    );
}

/// A machine's transport side, for [`pump_raw`].
trait Wire {
    fn take_out(&mut self) -> Vec<u8>;
    fn put_in(&mut self, data: &[u8]) -> usize;
}

macro_rules! wire {
    ($($machine:ty),*) => {$(
        impl Wire for $machine {
            fn take_out(&mut self) -> Vec<u8> {
                let out = self.transmit().to_vec();
                self.advance(out.len());
                out
            }
            fn put_in(&mut self, data: &[u8]) -> usize {
                self.receive(data, Instant::now())
            }
        }
    )*};
}
wire!(Server, Client);

/// Moves bytes between a bare TLS session and a machine until nothing moves.
fn pump_raw(raw: &mut TlsSession, machine: &mut dyn Wire) {
    loop {
        let out = raw.transmit().to_vec();
        let n = machine.put_in(&out);
        raw.advance(n);
        let back = machine.take_out();
        assert_eq!(raw.receive(&back).unwrap(), back.len());
        if n == 0 && back.is_empty() {
            break;
        }
    }
}

/// Everything a bare TLS session received, gathered from its records.
fn read_all(raw: &mut TlsSession) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match raw.read(&mut buf).unwrap() {
            0 => return String::from_utf8(text).unwrap(),
            n => text.extend_from_slice(&buf[..n]),
        }
    }
}

/// Found by a Python client writing its request head in pieces: each piece is a TLS record,
/// and the machines framed the head in the first record only, so the server never answered.
#[test]
fn heads_split_over_several_tls_records_are_read_whole() {
    let t = Instant::now();
    let (client_config, server_config) = configs();

    // The server machine against a client writing its head in three records.
    let mut raw = TlsSession::client(client_config, "127.0.0.1").unwrap();
    let mut server = Server::new(
        Link::tls(TlsSession::server(server_config).unwrap()),
        Limits::default(),
        t,
    );
    for piece in ["GET /split HTTP/1.1\r\n", "Host: 127.0.0.1\r\n", "\r\n"] {
        assert_eq!(raw.send(piece.as_bytes()).unwrap(), piece.len());
        pump_raw(&mut raw, &mut server);
    }
    let events = sevents(&mut server);
    assert!(
        matches!(&events[0], ServerEvent::Request(r) if r.target == "/split"),
        "{events:?}"
    );
    server
        .respond_with_body(200, "OK", &Headers::new(), b"whole")
        .unwrap();
    let out = server.transmit().to_vec();
    server.advance(out.len());
    raw.receive(&out).unwrap();
    let answer = read_all(&mut raw);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nwhole"));

    // The client machine against a server writing its answer head in three records.
    let mut raw = TlsSession::server(server_config).unwrap();
    let mut client = Client::new(
        Link::tls(TlsSession::client(client_config, "127.0.0.1").unwrap()),
        Limits::default(),
        t,
    );
    client
        .send_request("GET", "/", &Headers::new(), Some(0))
        .unwrap();
    let pieces = ["HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "\r\nwhole"];
    let mut sent = 0;
    loop {
        pump_raw(&mut raw, &mut client);
        // The request has arrived once the handshake is done: answer it piece by piece.
        if raw.is_handshaking() || sent == pieces.len() {
            if sent == pieces.len() {
                break;
            }
            continue;
        }
        let _ = read_all(&mut raw);
        raw.send(pieces[sent].as_bytes()).unwrap();
        sent += 1;
    }
    let events = cevents(&mut client);
    assert!(
        matches!(&events[0], ClientEvent::Response(r) if r.status == 200),
        "{events:?}"
    );
    assert_eq!(client.body(), b"whole");
}
