//! The plaintext server machine driven by arbitrary bytes at arbitrary splits and time steps:
//! nothing after a fatal error, the body slice stays bounded.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use redy_eshare::http::server::BODY_SLICE;
use redy_eshare::http::{Headers, Limits, Link, Server, ServerEvent};

fuzz_target!(|data: (Vec<(u8, u16)>, &[u8])| {
    let (steps, input) = data;
    let t0 = Instant::now();
    let mut now = t0;
    let mut s = Server::new(Link::insecure_plain(), Limits::default(), t0);
    let mut pos = 0;
    let mut dead = false;
    for (len, dt) in steps.iter().take(256) {
        now += Duration::from_millis(u64::from(*dt) * 16);
        let end = (pos + usize::from(*len)).min(input.len());
        pos += s.receive(&input[pos..end], now);
        if dt % 7 == 0 {
            s.handle_timeout(now);
        }
        while let Some(ev) = s.poll_event() {
            assert!(!dead, "event after a fatal error: {ev:?}");
            match ev {
                ServerEvent::Error(_) | ServerEvent::Closed => dead = true,
                ServerEvent::BodyEnd => {
                    let _ = s.respond(200, "OK", &Headers::new(), Some(2)).and_then(|_| s.write_body(b"ok"));
                }
                _ => {}
            }
        }
        assert!(s.body().len() <= BODY_SLICE);
        let n = s.body().len();
        s.consume_body(n, now);
        let out = s.transmit().len();
        s.advance(out);
    }
    s.receive_eof(now);
    while let Some(ev) = s.poll_event() {
        assert!(!dead, "event after a fatal error: {ev:?}");
        dead |= matches!(ev, ServerEvent::Error(_) | ServerEvent::Closed);
    }
});
