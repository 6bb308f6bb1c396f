//! The plaintext client machine with a few requests, fed arbitrary response bytes at
//! arbitrary splits and time steps: nothing after a fatal error, the body slice stays bounded.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use redy_eshare::http::server::BODY_SLICE;
use redy_eshare::http::{Client, ClientEvent, Headers, Limits, Link};

fuzz_target!(|data: (u8, Vec<(u8, u16)>, &[u8])| {
    let (requests, steps, input) = data;
    let t0 = Instant::now();
    let mut now = t0;
    let mut c = Client::new(Link::insecure_plain(), Limits::default(), t0);
    for i in 0..(requests % 4) {
        let method = if i % 2 == 0 { "GET" } else { "HEAD" };
        let _ = c.send_request(method, "/", &Headers::new(), Some(0));
    }
    let mut pos = 0;
    let mut dead = false;
    for (len, dt) in steps.iter().take(256) {
        now += Duration::from_millis(u64::from(*dt) * 16);
        let end = (pos + usize::from(*len)).min(input.len());
        pos += c.receive(&input[pos..end], now);
        if dt % 7 == 0 {
            c.handle_timeout(now);
        }
        while let Some(ev) = c.poll_event() {
            assert!(!dead, "event after a fatal error: {ev:?}");
            dead |= matches!(ev, ClientEvent::Error(_) | ClientEvent::Closed);
        }
        assert!(c.body().len() <= BODY_SLICE);
        let n = c.body().len();
        c.consume_body(n, now);
        let out = c.transmit().len();
        c.advance(out);
    }
    c.receive_eof(now);
    while let Some(ev) = c.poll_event() {
        assert!(!dead, "event after a fatal error: {ev:?}");
        dead |= matches!(ev, ClientEvent::Error(_) | ClientEvent::Closed);
    }
});
