//! The eShare server glue (`redy_examples::eshare::exchange`, what each tokio connection task
//! runs) on a clear-text HTTP server machine and a real node: arbitrary request bytes cut into
//! chunks of any size, with time steps. Checked: no panic; every complete request is answered
//! with a documented status; nothing after a fatal error; a batch origin's applied sequence
//! never goes back within an epoch.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use redy_eshare::http::{Limits, Link, Server};
use redy_eshare::share::{Domain, MAX_BODY_BYTES, Node, NodeConfig, Now, Site};
use redy_examples::eshare::exchange::{Exchange, Step, begin_response, request};

const STATUSES: [u16; 11] = [200, 400, 403, 404, 405, 409, 413, 415, 503, 301, 308];

fuzz_target!(|input: (u8, u8, &[u8])| {
    let (cut, dt, data) = input;
    let t0 = Instant::now();
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_763_805_600);
    let a = "11111-22222".parse().unwrap();
    let domain = Domain::new(vec![
        Site::new("11111-22222".parse().unwrap(), "127.0.0.1".parse().unwrap(), 9443),
        Site::new("33333-44444".parse().unwrap(), "127.0.0.2".parse().unwrap(), 9443),
    ])
    .unwrap();
    let mut node = Node::new(NodeConfig::new(a, domain, 1), Now::new(t0, wall)).unwrap();
    let limits = Limits {
        max_body: MAX_BODY_BYTES as u64,
        ..Limits::default()
    };
    let mut server = Server::new(Link::insecure_plain(), limits, t0);
    let mut exchange = Exchange::new();
    let mut applied: HashMap<String, (u64, u64)> = HashMap::new();
    let mut now = t0;
    let mut ended = false;
    let mut pending = data;
    let mut feed_eof = true;
    while !ended {
        if pending.is_empty() && feed_eof {
            server.receive_eof(now);
            feed_eof = false;
        } else if !pending.is_empty() {
            let n = usize::from(cut.max(1)).min(pending.len());
            let taken = server.receive(&pending[..n], now);
            pending = &pending[taken..];
            now += Duration::from_millis(u64::from(dt) * 64);
            if dt % 5 == 0 {
                server.handle_timeout(now);
            }
            if taken == 0 && server.poll_timeout().is_none() {
                break;
            }
        } else {
            break;
        }
        while let Some(event) = server.poll_event() {
            assert!(!ended, "event after the end: {event:?}");
            let (head_only, response) = match exchange.on_event(event, &mut server) {
                Step::Nothing => continue,
                Step::End => {
                    ended = true;
                    continue;
                }
                Step::Complete(h, body) => {
                    assert!(body.len() <= MAX_BODY_BYTES);
                    let r = node.handle_request(&request(h, body, None), Now::new(now, wall));
                    (h.method == "HEAD", r)
                }
            };
            assert!(STATUSES.contains(&response.status), "{}", response.status);
            let Ok(body) = begin_response(&mut server, head_only, &response) else {
                continue;
            };
            let mut rest = body;
            while !rest.is_empty() {
                match server.write_body(rest) {
                    Ok(0) => {
                        let n = server.transmit().len();
                        server.advance(n);
                    }
                    Ok(n) => rest = &rest[n..],
                    Err(_) => break,
                }
            }
            let status = node.status();
            for o in &status.origins {
                let key = o.origin.to_string();
                if let Some(&(epoch, seq)) = applied.get(&key) {
                    assert!(o.epoch > epoch || (o.epoch == epoch && o.applied >= seq));
                }
                applied.insert(key, (o.epoch, o.applied));
            }
            while node.poll_event().is_some() {}
        }
        let n = server.transmit().len();
        server.advance(n);
    }
});
