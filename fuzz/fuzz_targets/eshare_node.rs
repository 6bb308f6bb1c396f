//! The eShare node of a three-site domain, driven by arbitrary requests, publications,
//! delivery outcomes and time steps. Properties: no panic; outboxes never exceed their limit;
//! every answer has a status the specification lists; a delivery outcome is accepted only for
//! a delivery in flight; deadlines are never before the instant the node was last given.
#![no_main]

use std::time::{Duration, Instant, SystemTime};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use redy_eshare::share::{
    Batch, DeliveryError, DeliveryId, Domain, NamedValue, Node, NodeConfig, Now, Quality,
    Request, Response, Site, Timestamp, Value,
};

const OUTBOX: usize = 8;
const SITES: [&str; 3] = ["11111-22222", "33333-44444", "55555-66666"];

#[derive(Arbitrary, Debug)]
enum Op {
    Request { method: u8, path: u8, raw_path: String, content_type: Option<String>, body: Vec<u8>, peer: Option<u8> },
    /// A well-formed batch from another site, to reach the receiver's deeper states.
    Batch { origin: u8, epoch: u8, seq: u8, value: i64, text: Option<String> },
    Publish { name: String, value: f64, count: u8 },
    Poll,
    Answer { pick: u8, status: u16, body: Vec<u8> },
    Ack { pick: u8, epoch: u8, applied: u8 },
    Fail { pick: u8, kind: u8 },
    Wait(u16),
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "HEAD"];
const PATHS: [&str; 5] = ["/", "/eshare/v1/batches", "/eshare/v1/status", "/eshare/v1/values", "/x"];
const STATUSES: [u16; 11] = [200, 400, 403, 404, 405, 409, 413, 415, 500, 503, 301];

fuzz_target!(|ops: Vec<Op>| {
    let wids: Vec<_> = SITES.iter().map(|w| w.parse().expect("wid")).collect();
    let sites = wids
        .iter()
        .enumerate()
        .map(|(i, w)| Site::new(Clone::clone(w), format!("127.0.0.{}", i + 1).parse().expect("ip"), 9443))
        .collect();
    let domain = Domain::new(sites).expect("domain");
    let mut config = NodeConfig::new(wids[0].clone(), domain, 5);
    config.outbox_limit = OUTBOX;
    let t0 = Instant::now();
    let mut ms = 0u64;
    let now = |ms: u64| Now::new(t0 + Duration::from_millis(ms), SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
    let mut node = Node::new(config, now(0)).expect("node");
    let mut in_flight: Vec<DeliveryId> = Vec::new();
    for op in ops {
        match op {
            Op::Request { method, path, raw_path, content_type, body, peer } => {
                let path = match path as usize {
                    p if p < PATHS.len() => PATHS[p],
                    _ => raw_path.as_str(),
                };
                let peer = peer.map(|p| &wids[p as usize % 3]);
                let request = Request {
                    method: METHODS[method as usize % METHODS.len()],
                    path,
                    content_type: content_type.as_deref(),
                    body: &body,
                    peer,
                };
                let r = node.handle_request(&request, now(ms));
                assert!(STATUSES.contains(&r.status) && r.status != 301, "{}", r.status);
            }
            Op::Batch { origin, epoch, seq, value, text } => {
                let mut values = vec![NamedValue::new("v", Value::Int(value), Timestamp(ms))];
                if let Some(t) = text {
                    values.push(NamedValue::new("t", Value::Text(t), Timestamp(ms)).with_quality(Quality::Bad));
                }
                let origin = wids[origin as usize % 3].clone();
                let batch = Batch { origin, epoch: u64::from(epoch % 4), seq: u64::from(seq % 16), values };
                if let Ok(body) = batch.encode() {
                    let request = Request { method: "POST", path: "/eshare/v1/batches", content_type: None, body: &body, peer: None };
                    let r = node.handle_request(&request, now(ms));
                    assert!([200, 400, 403, 409, 503].contains(&r.status), "{}", r.status);
                }
            }
            Op::Publish { name, value, count } => {
                let values = (0..=count % 3)
                    .map(|i| NamedValue::new(format!("{name}{i}"), Value::Float(value), Timestamp(ms)))
                    .collect();
                let _ = node.publish(values, now(ms));
            }
            Op::Poll => {
                while let Some(d) = node.poll_delivery(now(ms)) {
                    assert!(d.body.len() <= redy_eshare::share::MAX_BODY_BYTES);
                    in_flight.push(d.id);
                }
            }
            Op::Answer { pick, status, body } => {
                if let Some(id) = take(&mut in_flight, pick) {
                    let _ = node.delivered(id, Ok(Response::new(status, body)), now(ms));
                }
            }
            Op::Ack { pick, epoch, applied } => {
                if let Some(id) = take(&mut in_flight, pick) {
                    let body = format!(r#"{{"epoch":{},"applied":{}}}"#, epoch % 8, applied % 16);
                    let _ = node.delivered(id, Ok(Response::new(200, body)), now(ms));
                    // The same id twice is refused.
                    assert!(node.delivered(id, Err(DeliveryError::Timeout), now(ms)).is_err());
                }
            }
            Op::Fail { pick, kind } => {
                if let Some(id) = take(&mut in_flight, pick) {
                    let e = match kind % 4 {
                        0 => DeliveryError::Connect("refused".into()),
                        1 => DeliveryError::Tls("bad certificate".into()),
                        2 => DeliveryError::Http("truncated".into()),
                        _ => DeliveryError::Timeout,
                    };
                    let _ = node.delivered(id, Err(e), now(ms));
                }
            }
            Op::Wait(step) => {
                ms += u64::from(step) * 10;
                node.handle_timeout(now(ms));
            }
        }
        for w in &wids {
            assert!(node.pending(w).expect("site") <= OUTBOX);
        }
        if let Some(deadline) = node.poll_timeout() {
            // A deadline in the past is only one not handled yet; it must still be a real one.
            assert!(deadline >= t0);
        }
        while node.poll_event().is_some() {}
        let _ = node.status().html(5);
        let _ = node.snapshot().to_json();
    }
});

fn take(ids: &mut Vec<DeliveryId>, pick: u8) -> Option<DeliveryId> {
    match ids.is_empty() {
        true => None,
        false => Some(ids.remove(pick as usize % ids.len())),
    }
}
