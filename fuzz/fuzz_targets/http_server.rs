//! The HTTP server machine on a clear-text link, driven by arbitrary request bytes split at
//! arbitrary points, arbitrary caller answers and time steps. Properties: no panic; the body
//! held for the caller never exceeds its limit; after a failure no new bytes are queued and no
//! deadline remains; a deadline never lies in the past after `handle_timeout`.
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use redy_eshare::http::{BodyLength, HttpServer, Limits, Link, ResponseHead, ServerEvent, Timeouts};

#[derive(Arbitrary, Debug)]
enum Op {
    Bytes(Vec<u8>),
    /// Well-formed pieces that raw bytes rarely spell.
    Head(u8, u16),
    Eof,
    ReadBody(u16),
    Respond(u8, u16, bool),
    SendBody(Vec<u8>),
    Finish,
    Transmit(u16),
    Wait(u16),
}

const HEADS: [&str; 5] = [
    "GET /eshare/v1/status HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /eshare/v1/batches HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n",
];

fuzz_target!(|ops: Vec<Op>| {
    let mut now = Instant::now();
    let mut limits = Limits::default();
    limits.body_buffer = 1024;
    let mut server = HttpServer::new(Link::insecure_plain(), limits, Timeouts::default(), now);
    let mut after_failure: Option<usize> = None;
    for op in ops {
        match op {
            Op::Bytes(b) => drop(server.receive(&b, now)),
            Op::Head(i, len) => {
                let head = HEADS[usize::from(i) % HEADS.len()].replace("{}", &len.to_string());
                let _ = server.receive(head.as_bytes(), now);
            }
            Op::Eof => drop(server.receive_eof(now)),
            Op::ReadBody(n) => {
                let n = server.body().len().min(usize::from(n));
                server.consume_body(n, now);
            }
            Op::Respond(kind, len, chunked) => {
                let length = match (kind % 3, chunked) {
                    (0, _) => BodyLength::Empty,
                    (_, true) => BodyLength::Chunked,
                    _ => BodyLength::Known(u64::from(len)),
                };
                let _ = server.respond(ResponseHead::new(200 + u16::from(kind % 5)), length, now);
            }
            Op::SendBody(b) => drop(server.send_body(&b, now)),
            Op::Finish => drop(server.finish_body(now)),
            Op::Transmit(n) => {
                let n = server.transmit().len().min(usize::from(n));
                server.advance(n);
            }
            Op::Wait(ms) => {
                now += Duration::from_millis(u64::from(ms) * 20);
                let _ = server.handle_timeout(now);
                if let Some(at) = server.poll_timeout() {
                    assert!(at > now, "a deadline left in the past");
                }
            }
        }
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Failed(_) = event {
                assert!(server.error().is_some());
            }
        }
        assert!(server.body().len() <= limits.body_buffer, "body buffer past its limit");
        if server.error().is_some() {
            let queued = server.transmit().len();
            if let Some(before) = after_failure {
                assert!(queued <= before, "bytes queued after the failure");
            }
            after_failure = Some(queued);
            assert!(server.poll_timeout().is_none());
        }
    }
});
