//! Unit tests of the node: publication, deliveries, endpoints, mutual TLS, snapshots.

use std::time::{Duration, Instant, SystemTime};

use redy_certs::{DeviceCa, TrustPolicy, Wid};

use super::*;

fn wid(s: &str) -> Wid {
    s.parse().unwrap()
}

fn domain() -> Domain {
    Domain::new(vec![
        Site::new(wid("1-1"), "127.0.0.1".parse().unwrap(), 9443)
            .label("A <script>alert(1)</script>"),
        Site::new(wid("2-2"), "127.0.0.2".parse().unwrap(), 9443).software("REDY 10.0.0"),
        Site::new(wid("3-3"), "127.0.0.3".parse().unwrap(), 9443),
    ])
    .unwrap()
}

fn at(t0: Instant, ms: u64) -> Now {
    Now::new(
        t0 + Duration::from_millis(ms),
        SystemTime::UNIX_EPOCH + Duration::from_millis(1_535_474_479_000 + ms),
    )
}

fn node(own: &str, t0: Instant) -> Node {
    Node::new(NodeConfig::new(wid(own), domain(), 10), at(t0, 0)).unwrap()
}

fn values(n: i64) -> Vec<NamedValue> {
    vec![NamedValue::new("v", Value::Int(n), Timestamp(0))]
}

fn post(body: &[u8]) -> Request<'_> {
    Request {
        method: "POST",
        path: BATCHES_PATH,
        content_type: Some("application/json"),
        body,
        peer: None,
    }
}

fn error_code(r: &Response) -> String {
    serde_json::from_slice::<ErrorBody>(&r.body).unwrap().error
}

#[test]
fn a_full_outbox_refuses_the_publication_everywhere() {
    let t0 = Instant::now();
    let mut config = NodeConfig::new(wid("1-1"), domain(), 1);
    config.outbox_limit = 2;
    let mut a = Node::new(config, at(t0, 0)).unwrap();
    a.publish(values(1), at(t0, 0)).unwrap();
    // Site 2 drains one batch; site 3 stays full after the next publication.
    let d = a.poll_delivery(at(t0, 0)).unwrap();
    assert_eq!(d.site, wid("2-2"));
    let mut b = node("2-2", t0);
    let answer = b.handle_request(&post(&d.body), at(t0, 0));
    a.delivered(d.id, Ok(answer), at(t0, 0)).unwrap();
    assert_eq!(a.publish(values(2), at(t0, 0)), Ok(2));
    assert_eq!(
        a.publish(values(3), at(t0, 0)),
        Err(Error::OutboxFull {
            site: wid("3-3"),
            limit: 2
        })
    );
    assert_eq!(a.pending(&wid("2-2")), Some(1));
    assert_eq!(a.pending(&wid("3-3")), Some(2));
    assert_eq!(
        a.status().published,
        2,
        "the refused publication used no sequence"
    );
    assert!(matches!(
        a.publish(vec![], at(t0, 0)),
        Err(Error::Batch(BatchError::Empty))
    ));
}

#[test]
fn failures_back_off_and_success_needs_a_confirming_answer() {
    let t0 = Instant::now();
    let mut a = node("1-1", t0);
    a.publish(values(1), at(t0, 0)).unwrap();
    let d2 = a.poll_delivery(at(t0, 0)).unwrap();
    let d3 = a.poll_delivery(at(t0, 0)).unwrap();
    assert_eq!((d2.site.clone(), d3.site.clone()), (wid("2-2"), wid("3-3")));
    assert!(
        a.poll_delivery(at(t0, 0)).is_none(),
        "one in flight per site"
    );
    assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_secs(30)));

    // An answer that does not confirm the batch is a failure.
    let unconfirmed = Response::new(200, r#"{"epoch":10,"applied":0}"#);
    a.delivered(d2.id, Ok(unconfirmed), at(t0, 100)).unwrap();
    assert_eq!(
        a.delivered(d2.id, Ok(Response::new(200, "")), at(t0, 100)),
        Err(Error::UnknownDelivery(d2.id))
    );
    let c = a.counters(&wid("2-2")).unwrap();
    assert_eq!((c.successes, c.failures), (0, 1));
    let last = c.last.clone().unwrap();
    assert!(last.error.unwrap().contains("does not confirm"));
    assert_eq!(last.at, Timestamp(1_535_474_479_100));
    assert!(
        matches!(a.poll_event(), Some(Event::DeliveryFailed { retry_at, .. }) if retry_at == t0 + Duration::from_millis(1100))
    );

    // Not before the backoff.
    assert!(a.poll_delivery(at(t0, 1099)).is_none());
    let again = a.poll_delivery(at(t0, 1100)).unwrap();
    assert_eq!((again.seq, again.body.clone()), (1, d2.body.clone()));
    a.delivered(again.id, Err(DeliveryError::Timeout), at(t0, 1200))
        .unwrap();
    assert!(
        a.poll_delivery(at(t0, 3199)).is_none(),
        "2 s after the second failure"
    );
    let third = a.poll_delivery(at(t0, 3200)).unwrap();
    let ok = Response::new(200, r#"{"epoch":10,"applied":1}"#);
    a.delivered(third.id, Ok(ok), at(t0, 3300)).unwrap();
    let c = a.counters(&wid("2-2")).unwrap();
    assert_eq!((c.successes, c.failures), (1, 2));
    assert_eq!(c.last.as_ref().unwrap().error, None);
    assert_eq!(a.pending(&wid("2-2")), Some(0));

    // Site 3 never answers: the delivery times out, and its late answer is refused.
    a.handle_timeout(at(t0, 30_000));
    let c = a.counters(&wid("3-3")).unwrap();
    assert_eq!(c.failures, 1);
    assert!(
        c.last
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .contains("no answer")
    );
    assert_eq!(
        a.delivered(d3.id, Ok(Response::new(200, "")), at(t0, 30_001)),
        Err(Error::UnknownDelivery(d3.id))
    );
}

#[test]
fn a_stale_epoch_answer_drops_the_batch_explicitly() {
    let t0 = Instant::now();
    let mut a = node("1-1", t0);
    let mut b = node("2-2", t0);
    // B has seen a newer life of A.
    let newer = Batch {
        origin: wid("1-1"),
        epoch: 11,
        seq: 1,
        values: values(0),
    };
    assert_eq!(
        b.handle_request(&post(&newer.encode().unwrap()), at(t0, 0))
            .status,
        200
    );
    a.publish(values(1), at(t0, 0)).unwrap();
    let d = a.poll_delivery(at(t0, 0)).unwrap();
    let answer = b.handle_request(&post(&d.body), at(t0, 0));
    assert_eq!(
        (answer.status, error_code(&answer)),
        (409, "stale_epoch".into())
    );
    a.delivered(d.id, Ok(answer), at(t0, 0)).unwrap();
    assert_eq!(a.pending(&wid("2-2")), Some(0));
    assert_eq!(a.counters(&wid("2-2")).unwrap().failures, 1);
    let dropped = std::iter::from_fn(|| a.poll_event()).any(|e| {
        matches!(
            e,
            Event::BatchDropped {
                seq: 1,
                epoch: 10,
                ..
            }
        )
    });
    assert!(dropped);
}

#[test]
fn the_receiver_applies_once_and_reports_gaps() {
    let t0 = Instant::now();
    let mut b = node("2-2", t0);
    let batch = |seq| Batch {
        origin: wid("1-1"),
        epoch: 4,
        seq,
        values: values(seq as i64),
    };
    let answer = |b: &mut Node, seq| {
        let r = b.handle_request(&post(&batch(seq).encode().unwrap()), at(t0, 0));
        (r.status, String::from_utf8(r.body).unwrap())
    };
    assert_eq!(
        answer(&mut b, 1),
        (200, r#"{"epoch":4,"applied":1}"#.into())
    );
    assert_eq!(
        answer(&mut b, 1),
        (200, r#"{"epoch":4,"applied":1}"#.into())
    );
    assert_eq!(
        answer(&mut b, 3),
        (200, r#"{"epoch":4,"applied":3}"#.into())
    );
    let events: Vec<Event> = std::iter::from_fn(|| b.poll_event()).collect();
    let applied: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::BatchApplied { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(applied, [1, 3]);
    assert!(events.contains(&Event::Duplicate {
        origin: wid("1-1"),
        epoch: 4,
        seq: 1,
        applied: 1
    }));
    assert!(events.contains(&Event::Gap {
        origin: wid("1-1"),
        epoch: 4,
        expected: 2,
        got: 3
    }));
    let values = b.handle_request(
        &Request {
            method: "GET",
            path: VALUES_PATH,
            ..post(b"")
        },
        at(t0, 0),
    );
    let text = String::from_utf8(values.body).unwrap();
    assert!(
        text.contains(r#""origin":"1-1","name":"v","value":{"int":3}"#),
        "{text}"
    );
}

#[test]
fn every_endpoint_answers_with_the_documented_status() {
    let t0 = Instant::now();
    let mut b = node("2-2", t0);
    let req = |method, path, ct, body| Request {
        method,
        path,
        content_type: ct,
        body,
        peer: None,
    };
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let own = Batch {
        origin: wid("2-2"),
        epoch: 1,
        seq: 1,
        values: values(1),
    }
    .encode()
    .unwrap();
    let stranger = own.replace_wid("2-2", "9-9");
    let cases: Vec<(Request<'_>, u16, &str)> = vec![
        (req("GET", "/nope", None, b""), 404, "not_found"),
        (
            req("DELETE", BATCHES_PATH, None, b""),
            405,
            "method_not_allowed",
        ),
        (
            req("POST", STATUS_PATH, None, b""),
            405,
            "method_not_allowed",
        ),
        (req("POST", BATCHES_PATH, None, &big), 413, "too_large"),
        (
            req("POST", BATCHES_PATH, Some("text/plain"), b"{}"),
            415,
            "unsupported_media_type",
        ),
        (req("POST", BATCHES_PATH, None, b"{"), 400, "invalid_batch"),
        (req("POST", BATCHES_PATH, None, &own), 403, "unknown_origin"),
        (
            req("POST", BATCHES_PATH, None, &stranger),
            403,
            "unknown_origin",
        ),
    ];
    for (request, status, code) in cases {
        let r = b.handle_request(&request, at(t0, 0));
        assert_eq!(
            (r.status, error_code(&r)),
            (status, code.into()),
            "{request:?}"
        );
        assert_eq!(r.content_type, JSON);
    }
    let r = b.handle_request(&req("PUT", "/", None, b""), at(t0, 0));
    assert!(r.headers.contains(&("Allow".into(), "GET".into())));
    let r = b.handle_request(&req("GET", "/eshare/v1/status?x", None, b""), at(t0, 0));
    let status: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(status["sites"][1]["software"], "REDY 10.0.0");
    assert_eq!(status["sites"][1]["self"], true);
    assert_eq!(status["port"], 9443);
}

trait ReplaceWid {
    fn replace_wid(&self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceWid for Vec<u8> {
    fn replace_wid(&self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8_lossy(self)
            .replace(&format!("\"{from}\""), &format!("\"{to}\""))
            .into_bytes()
    }
}

#[test]
fn a_receiver_that_does_not_poll_events_answers_busy() {
    let t0 = Instant::now();
    let mut b = node("2-2", t0);
    let mut seq = 0;
    let status = loop {
        seq += 1;
        let batch = Batch {
            origin: wid("1-1"),
            epoch: 1,
            seq,
            values: values(1),
        };
        let r = b.handle_request(&post(&batch.encode().unwrap()), at(t0, 0));
        if r.status != 200 {
            break r;
        }
    };
    assert_eq!((status.status, error_code(&status)), (503, "busy".into()));
    assert!(seq > 100);
    while b.poll_event().is_some() {}
    let batch = Batch {
        origin: wid("1-1"),
        epoch: 1,
        seq,
        values: values(1),
    };
    assert_eq!(
        b.handle_request(&post(&batch.encode().unwrap()), at(t0, 0))
            .status,
        200
    );
}

#[test]
fn the_status_page_escapes_every_text() {
    let t0 = Instant::now();
    let mut a = node("2-2", t0);
    let r = a.handle_request(
        &Request {
            method: "GET",
            path: "/",
            ..post(b"")
        },
        at(t0, 0),
    );
    let page = String::from_utf8(r.body).unwrap();
    assert_eq!(r.content_type, HTML);
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("A &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains(r#"<meta http-equiv="refresh" content="5">"#));
    assert!(page.contains("<td>127.0.0.1:9443</td>"));
}

#[test]
fn mutual_tls_accepts_only_the_authenticated_origin() {
    let now = SystemTime::now();
    let t0 = Instant::now();
    let ca1 = DeviceCa::generate(&wid("1-1"), now).unwrap();
    let ca3 = DeviceCa::generate(&wid("3-3"), now).unwrap();
    let id1 = ca1
        .issue_server_certificate(&["127.0.0.1".parse().unwrap()], now)
        .unwrap();
    let id3 = ca3
        .issue_server_certificate(&["127.0.0.3".parse().unwrap()], now)
        .unwrap();
    let trust = |ca: &DeviceCa| TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
    let sites = domain().sites().to_vec();
    let d = Domain::new(vec![
        sites[0].clone().trust(trust(&ca1)),
        sites[1].clone(),
        sites[2].clone().trust(trust(&ca3)),
    ])
    .unwrap();
    let mut config = NodeConfig::new(wid("2-2"), d.clone(), 1);
    config.mtls = true;
    let mut b = Node::new(config, at(t0, 0)).unwrap();
    assert!(
        matches!(d.client_auth(&wid("2-2")), Ok(redy_tls::ClientAuth::Optional(TrustPolicy::CaCertificates(cas))) if cas.len() == 2)
    );
    assert_eq!(b.authorize_peer(id1.chain()), Some(wid("1-1")));
    assert_eq!(b.authorize_peer(id3.chain()), Some(wid("3-3")));
    assert_eq!(b.authorize_peer(&[]), None);
    let body = Batch {
        origin: wid("1-1"),
        epoch: 1,
        seq: 1,
        values: values(1),
    }
    .encode()
    .unwrap();
    let (w1, w3) = (wid("1-1"), wid("3-3"));
    let r = b.handle_request(&post(&body), at(t0, 0));
    assert_eq!((r.status, error_code(&r)), (403, "unauthenticated".into()));
    let r = b.handle_request(
        &Request {
            peer: Some(&w3),
            ..post(&body)
        },
        at(t0, 0),
    );
    assert_eq!((r.status, error_code(&r)), (403, "origin_mismatch".into()));
    let r = b.handle_request(
        &Request {
            peer: Some(&w1),
            ..post(&body)
        },
        at(t0, 0),
    );
    assert_eq!(r.status, 200);

    // A node presents its identity as client certificate; configurations are built per site.
    let mut config = NodeConfig::new(wid("1-1"), d, 1);
    config.identity = Some(id1);
    let mut a = Node::new(config, at(t0, 0)).unwrap();
    assert!(a.client_config(&wid("3-3")).is_ok());
    assert!(a.client_config(&wid("3-3")).is_ok());
    assert!(matches!(
        a.client_config(&wid("9-9")),
        Err(Error::UnknownSite(_))
    ));
    // Site 2 has the web PKI policy: it cannot take part in mutual TLS.
    let mut config = NodeConfig::new(wid("1-1"), domain(), 1);
    config.mtls = true;
    assert!(matches!(
        Node::new(config, at(t0, 0)),
        Err(Error::Domain(DomainError::MtlsPolicy { .. }))
    ));
}

#[test]
fn snapshots_keep_outboxes_counters_and_receiver_state() {
    let t0 = Instant::now();
    let mut a = node("1-1", t0);
    a.publish(values(1), at(t0, 0)).unwrap();
    a.publish(values(2), at(t0, 0)).unwrap();
    let d = a.poll_delivery(at(t0, 0)).unwrap();
    let mut b = node("2-2", t0);
    let r = b.handle_request(&post(&d.body), at(t0, 0));
    a.delivered(d.id, Ok(r), at(t0, 0)).unwrap();
    let c = Batch {
        origin: wid("3-3"),
        epoch: 2,
        seq: 5,
        values: values(5),
    };
    assert_eq!(
        a.handle_request(&post(&c.encode().unwrap()), at(t0, 0))
            .status,
        200
    );

    let json = a.snapshot().to_json();
    let snapshot = Snapshot::from_json(&json).unwrap();
    assert_eq!(snapshot, a.snapshot());
    assert_eq!(snapshot.batches.len(), 2, "each batch once");
    let same_epoch = NodeConfig::new(wid("1-1"), domain(), 10);
    assert!(matches!(
        Node::restore(same_epoch, snapshot.clone(), at(t0, 0)),
        Err(Error::Snapshot(_))
    ));
    let other = NodeConfig::new(wid("2-2"), domain(), 11);
    assert!(Node::restore(other, snapshot.clone(), at(t0, 0)).is_err());
    let mut a2 = Node::restore(
        NodeConfig::new(wid("1-1"), domain(), 11),
        snapshot,
        at(t0, 0),
    )
    .unwrap();
    assert_eq!(a2.pending(&wid("2-2")), Some(1));
    assert_eq!(a2.pending(&wid("3-3")), Some(2));
    assert_eq!(a2.counters(&wid("2-2")).unwrap().successes, 1);
    // The old batches first, in their epoch; then the new epoch from 1.
    assert_eq!(a2.publish(values(3), at(t0, 0)), Ok(1));
    let d = a2.poll_delivery(at(t0, 0)).unwrap();
    assert_eq!((d.site, d.epoch, d.seq), (wid("2-2"), 10, 2));
    // The receiver state survived: the batch of 3-3 is a duplicate.
    let r = a2.handle_request(&post(&c.encode().unwrap()), at(t0, 0));
    assert_eq!(r.body, br#"{"epoch":2,"applied":5}"#);
    assert!(matches!(a2.poll_event(), Some(Event::Duplicate { .. })));
}
