//! The HTTP/1.1 server machine: keep-alive and pipelining, streamed bodies both ways under
//! TLS, 100-continue, smuggling attempts refused on the wire, deadlines, and any split of the
//! input giving the same events. Virtual time, in memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime};

use proptest::prelude::*;
use redy_certs::{DeviceCa, TrustPolicy};
use redy_eshare::http::{
    BodyLength, ChunkedDecoder, HttpError, HttpServer, Limits, Link, Piece, ResponseHead,
    ServerEvent, Timeouts, frame, parse_response, response_body,
};
use redy_tls::{ClientConfig, ServerConfig, TlsSession};

/// A server connection with an echo application behind it: each request is answered with its
/// method, target and body, chunked when the request body was chunked.
struct Echo {
    server: HttpServer,
    now: Instant,
    events: Vec<ServerEvent>,
    /// Everything the server transmitted, in order.
    wire: Vec<u8>,
    body: Vec<u8>,
    chunked: bool,
}

impl Echo {
    fn new(link: Link) -> Self {
        let now = Instant::now();
        Self {
            server: HttpServer::new(link, Limits::default(), Timeouts::default(), now),
            now,
            events: Vec::new(),
            wire: Vec::new(),
            body: Vec::new(),
            chunked: false,
        }
    }

    fn drain_output(&mut self) {
        let out = self.server.transmit().to_vec();
        self.server.advance(out.len());
        self.wire.extend(out);
    }

    /// Handles events, then body bytes, then sends, until nothing moves.
    fn serve(&mut self) {
        loop {
            if let Some(event) = self.server.poll_event() {
                self.handle(event);
                continue;
            }
            let data = self.server.body().to_vec();
            if !data.is_empty() {
                self.body.extend_from_slice(&data);
                self.server.consume_body(data.len(), self.now);
                continue;
            }
            self.drain_output();
            match self.server.poll_event() {
                Some(event) => self.handle(event),
                None => return,
            }
        }
    }

    fn handle(&mut self, event: ServerEvent) {
        match &event {
            ServerEvent::Request(r) => {
                self.body = format!("{} {}\n", r.method, r.target).into_bytes();
                self.chunked = r.headers.get("transfer-encoding").is_some();
            }
            ServerEvent::BodyEnd => {
                // The last bytes may still wait in `body()`.
                let rest = self.server.body().to_vec();
                self.body.extend_from_slice(&rest);
                self.server.consume_body(rest.len(), self.now);
                self.events.push(event);
                return self.answer();
            }
            _ => {}
        }
        self.events.push(event);
    }

    fn answer(&mut self) {
        let now = self.now;
        let length = match self.chunked {
            true => BodyLength::Chunked,
            false => BodyLength::Known(self.body.len() as u64),
        };
        self.server
            .respond(ResponseHead::new(200), length, now)
            .unwrap();
        let body = std::mem::take(&mut self.body);
        let mut rest = &body[..];
        while !rest.is_empty() {
            let n = self.server.send_body(rest, now).unwrap();
            rest = &rest[n..];
            if n == 0 {
                self.drain_output(); // backpressure: what is staged leaves first
            }
        }
        self.server.finish_body(now).unwrap();
    }
}

/// Parses every response in `wire`: (status, body) each.
fn responses(mut wire: &[u8], method: &str) -> Vec<(u16, Vec<u8>)> {
    let limits = Limits::default();
    let mut out = Vec::new();
    while !wire.is_empty() {
        let n = frame(wire, limits.head)
            .unwrap()
            .expect("a whole response head");
        let head = parse_response(&wire[..n], &limits).unwrap();
        wire = &wire[n..];
        if head.status == 100 {
            out.push((100, Vec::new()));
            continue;
        }
        let body = match response_body(method, &head).unwrap() {
            BodyLength::Known(len) => {
                let (body, rest) = wire.split_at(len as usize);
                wire = rest;
                body.to_vec()
            }
            BodyLength::Chunked => {
                let mut decoder = ChunkedDecoder::new(limits);
                let mut body = Vec::new();
                loop {
                    let (used, piece) = decoder.decode(wire).unwrap();
                    wire = &wire[used..];
                    match piece {
                        Piece::Data(d) => body.extend_from_slice(d),
                        Piece::End => break,
                        Piece::NeedMore => panic!("chunked body cut short"),
                    }
                }
                body
            }
            BodyLength::UntilClose => std::mem::take(&mut wire).to_vec(),
            _ => Vec::new(),
        };
        out.push((head.status, body));
    }
    out
}

const PIPELINE: &[u8] = b"GET /eshare/v1/status HTTP/1.1\r\nHost: a\r\n\r\n\
POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world\
POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n\
GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

/// Feeds `input` to a clear-text echo server in pieces of `cuts` sizes; what it sent, and its
/// events.
fn run_plain(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<ServerEvent>) {
    let mut echo = Echo::new(Link::insecure_plain());
    let now = echo.now;
    let mut pos = 0;
    let mut i = 0;
    while pos < input.len() && echo.server.error().is_none() {
        let size = cuts
            .get(i % cuts.len().max(1))
            .copied()
            .unwrap_or(input.len())
            .max(1);
        i += 1;
        let mut piece = &input[pos..(pos + size).min(input.len())];
        pos += piece.len();
        while !piece.is_empty() {
            let Ok(n) = echo.server.receive(piece, now) else {
                break;
            };
            piece = &piece[n..];
            echo.serve();
        }
    }
    echo.serve();
    (echo.wire, echo.events)
}

#[test]
fn pipelined_keep_alive_requests_are_answered_in_order() {
    let (wire, events) = run_plain(PIPELINE, &[]);
    let got = responses(&wire, "GET");
    assert_eq!(
        got,
        vec![
            (200, b"GET /eshare/v1/status\n".to_vec()),
            (200, b"POST /echo\nhello world".to_vec()),
            (200, b"POST /echo\nhello world".to_vec()),
            (200, b"GET /last\n".to_vec()),
        ]
    );
    assert!(String::from_utf8_lossy(&wire).contains("Transfer-Encoding: chunked"));
    assert!(String::from_utf8_lossy(&wire).ends_with("GET /last\n"));
    assert!(String::from_utf8_lossy(&wire).contains("Connection: close"));
    assert_eq!(events.last(), Some(&ServerEvent::Closed), "{events:?}");
}

proptest! {
    #[test]
    fn any_split_of_the_input_gives_the_same_responses(cuts in proptest::collection::vec(1usize..60, 1..12)) {
        let whole = run_plain(PIPELINE, &[]);
        let split = run_plain(PIPELINE, &cuts);
        prop_assert_eq!(responses(&split.0, "GET"), responses(&whole.0, "GET"));
        let requests = |e: &[ServerEvent]| e.iter().filter(|e| matches!(e, ServerEvent::Request(_))).count();
        prop_assert_eq!(requests(&split.1), 4);
    }
}

#[test]
fn smuggling_attempts_get_400_and_the_connection_closes() {
    for (input, why) in [
        (
            &b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                [..],
            HttpError::LengthAndEncoding,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
            HttpError::DuplicateLength,
        ),
        (
            b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
            HttpError::ObsoleteFolding,
        ),
        (
            b"GET / HTTP/1.1\nHost: a\r\n\r\n",
            HttpError::BareLineBreak("the head"),
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            HttpError::BadChunk("chunk size is not hex digits"),
        ),
    ] {
        let (wire, events) = run_plain(input, &[]);
        let text = String::from_utf8_lossy(&wire);
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(text.contains("Connection: close"), "{text}");
        assert!(
            events.contains(&ServerEvent::Failed(why.clone())),
            "{events:?}"
        );
        assert_eq!(events.last(), Some(&ServerEvent::Closed));
    }
    let big = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
    let (wire, _) = run_plain(big.as_bytes(), &[]);
    assert!(
        wire.starts_with(b"HTTP/1.1 431 "),
        "{}",
        String::from_utf8_lossy(&wire)
    );
    let (wire, _) = run_plain(
        b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n",
        &[],
    );
    assert!(wire.starts_with(b"HTTP/1.1 413 "));
}

#[test]
fn expect_100_continue_is_answered_when_the_body_is_read() {
    let now = Instant::now();
    let mut server = HttpServer::new(
        Link::insecure_plain(),
        Limits::default(),
        Timeouts::default(),
        now,
    );
    server
        .receive(
            b"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            now,
        )
        .unwrap();
    assert!(matches!(server.poll_event(), Some(ServerEvent::Request(_))));
    assert_eq!(
        server.transmit(),
        b"",
        "no 100 before the caller reads the body"
    );
    assert_eq!(server.body(), b"");
    assert_eq!(server.transmit(), b"HTTP/1.1 100 Continue\r\n\r\n");
    // A caller that refuses without reading: no 100, and the connection closes after.
    let mut server = HttpServer::new(
        Link::insecure_plain(),
        Limits::default(),
        Timeouts::default(),
        now,
    );
    server
        .receive(
            b"POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            now,
        )
        .unwrap();
    assert!(matches!(server.poll_event(), Some(ServerEvent::Request(_))));
    server
        .respond(ResponseHead::new(403), BodyLength::Empty, now)
        .unwrap();
    server.finish_body(now).unwrap();
    let text = String::from_utf8(server.transmit().to_vec()).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 403 Forbidden\r\n") && text.contains("Connection: close"),
        "{text}"
    );
}

#[test]
fn deadlines_close_idle_connections_and_answer_slow_heads_408() {
    let now = Instant::now();
    let timeouts = Timeouts::default();
    let mut server = HttpServer::new(Link::insecure_plain(), Limits::default(), timeouts, now);
    let idle = server.poll_timeout().unwrap();
    assert_eq!(idle, now + timeouts.idle);
    server.handle_timeout(idle).unwrap();
    assert_eq!(server.poll_event(), Some(ServerEvent::Closed));
    assert!(server.is_closed());

    let mut server = HttpServer::new(Link::insecure_plain(), Limits::default(), timeouts, now);
    server.receive(b"GET / HTTP/1.1\r\nHo", now).unwrap();
    let at = server.poll_timeout().unwrap();
    assert_eq!(at, now + timeouts.head);
    assert_eq!(
        server.handle_timeout(at),
        Err(HttpError::Timeout("a request head"))
    );
    assert!(
        server
            .transmit()
            .starts_with(b"HTTP/1.1 408 Request Timeout\r\n")
    );
    assert_eq!(server.poll_timeout(), None, "nothing after the failure");

    let mut server = HttpServer::new(Link::insecure_plain(), Limits::default(), timeouts, now);
    server
        .receive(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", now)
        .unwrap();
    let at = server.poll_timeout().unwrap();
    assert_eq!(at, now + timeouts.body);
    assert_eq!(
        server.handle_timeout(at),
        Err(HttpError::Timeout("the request body"))
    );
}

#[test]
fn a_body_cut_short_is_an_error_not_a_request() {
    let now = Instant::now();
    let mut server = HttpServer::new(
        Link::insecure_plain(),
        Limits::default(),
        Timeouts::default(),
        now,
    );
    server
        .receive(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", now)
        .unwrap();
    assert_eq!(
        server.receive_eof(now),
        Err(HttpError::Truncated("a request body"))
    );
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(!events.contains(&ServerEvent::BodyEnd), "{events:?}");
}

/// Moves bytes between a TLS client session and the echo server until neither moves; the
/// client's plaintext goes to `got`.
fn pump(client: &mut TlsSession, echo: &mut Echo, got: &mut Vec<u8>) {
    loop {
        let out = client.transmit().to_vec();
        client.advance(out.len());
        let mut rest = &out[..];
        while !rest.is_empty() {
            let n = echo.server.receive(rest, echo.now).unwrap();
            rest = &rest[n..];
            echo.serve();
        }
        echo.serve();
        let back = std::mem::take(&mut echo.wire);
        let mut rest = &back[..];
        while !rest.is_empty() {
            let n = client.receive(rest).unwrap();
            rest = &rest[n..];
            loop {
                let plain = client.plaintext().unwrap().to_vec();
                if plain.is_empty() {
                    break;
                }
                client.consume(plain.len());
                got.extend(plain);
            }
        }
        if out.is_empty() && back.is_empty() {
            return;
        }
    }
}

#[test]
fn under_tls_large_bodies_stream_both_ways_with_bounded_buffers() {
    let now = SystemTime::now();
    let ca = DeviceCa::generate(&"11111-22222".parse().unwrap(), now).unwrap();
    let identity = ca
        .issue_server_certificate(&["127.0.0.1".parse().unwrap()], now)
        .unwrap();
    let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
    let client_config = ClientConfig::builder(trust).build().unwrap();
    let server_config = ServerConfig::builder(identity).build().unwrap();
    let limits = Limits::default();
    let mut echo = Echo::new(Link::Tls(TlsSession::server(&server_config).unwrap()));
    let mut client = TlsSession::client(&client_config, "127.0.0.1").unwrap();
    let body: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut request = format!(
        "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request.extend_from_slice(b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut got = Vec::new();
    let mut rest = &request[..];
    while !rest.is_empty() {
        let n = client.send(rest).unwrap();
        rest = &rest[n..];
        pump(&mut client, &mut echo, &mut got);
    }
    pump(&mut client, &mut echo, &mut got);
    let events = &echo.events;
    let answers = responses(&got, "POST");
    assert_eq!(answers.len(), 2, "{events:?}");
    let mut expected = b"POST /big\n".to_vec();
    expected.extend_from_slice(&body);
    assert!(answers[0].1 == expected, "the 5 MB body came back intact");
    assert_eq!(answers[1], (200, b"GET /after\n".to_vec()));
    let pieces = events.iter().filter(|e| **e == ServerEvent::Body).count();
    assert!(
        pieces >= body.len() / limits.body_buffer,
        "{pieces} pieces: the body was streamed"
    );
    assert!(echo.server.handshake().is_some());
}

#[test]
fn a_response_waits_for_its_request_and_framing_fields_are_the_machines() {
    let now = Instant::now();
    let mut server = HttpServer::new(
        Link::insecure_plain(),
        Limits::default(),
        Timeouts::default(),
        now,
    );
    assert!(matches!(
        server.respond(ResponseHead::new(200), BodyLength::Empty, now),
        Err(HttpError::Usage(_))
    ));
    server.receive(b"GET / HTTP/1.1\r\n\r\n", now).unwrap();
    let mut head = ResponseHead::new(200);
    head.headers.push("Content-Length", "5").unwrap();
    assert!(matches!(
        server.respond(head, BodyLength::Known(5), now),
        Err(HttpError::Argument(_))
    ));
    server
        .respond(ResponseHead::new(200), BodyLength::Known(2), now)
        .unwrap();
    assert!(matches!(
        server.send_body(b"abc", now),
        Err(HttpError::Usage(_))
    ));
    assert_eq!(server.send_body(b"ab", now), Ok(2));
    server.finish_body(now).unwrap();
    let _ = Duration::ZERO;
}
