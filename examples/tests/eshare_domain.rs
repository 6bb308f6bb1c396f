//! Three eShare nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (one port, mutual TLS, each site
//! trusted by its own generated CA), over real sockets: publications reach every site; a node
//! stopped and restarted misses nothing and applies nothing twice.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use redy_certs::Wid;
use redy_eshare::share::{Backoff, Event, NamedValue, Timestamp, Value};
use redy_examples::eshare::{LocalDomain, RunningNode, free_port};
use tokio::sync::mpsc;

const A: &str = "11111-22222";
const B: &str = "33333-44444";
const C: &str = "55555-66666";

/// The events of one node, collected as they come.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Event>>>);

impl Log {
    fn record(mut events: mpsc::Receiver<Event>) -> Self {
        let log = Self::default();
        let inner = log.0.clone();
        tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                inner.lock().unwrap().push(e);
            }
        });
        log
    }

    /// The sequences applied from `origin`, in order, and the last value of `name` among them.
    fn applied(&self, origin: &str) -> Vec<u64> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::BatchApplied { origin: o, seq, .. } if o.to_string() == origin => Some(*seq),
                _ => None,
            })
            .collect()
    }

    fn last_value(&self, origin: &str) -> Option<Value> {
        self.0.lock().unwrap().iter().rev().find_map(|e| match e {
            Event::BatchApplied {
                origin: o, values, ..
            } if o.to_string() == origin => values.first().map(|v| v.value.clone()),
            _ => None,
        })
    }

    fn count(&self, what: impl Fn(&Event) -> bool) -> usize {
        self.0.lock().unwrap().iter().filter(|e| what(e)).count()
    }
}

fn value(name: &str, v: Value) -> Vec<NamedValue> {
    vec![NamedValue::new(
        name,
        v,
        Timestamp::from_system(SystemTime::now()),
    )]
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn wid(s: &str) -> Wid {
    s.parse().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn three_sites_share_values_and_a_restarted_site_misses_nothing() {
    let ips: Vec<IpAddr> = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|ip| ip.parse().unwrap())
        .collect();
    let port = free_port(&ips).unwrap();
    let local = LocalDomain::generate(&[(A, ips[0]), (B, ips[1]), (C, ips[2])], port).unwrap();
    let start = |i: usize, epoch: u64| {
        let mut options = local.options(i, epoch, true).unwrap();
        options.config.backoff = Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
        };
        async move { RunningNode::start(options).await.unwrap() }
    };
    let (a, events) = start(0, 1).await;
    let log_a = Log::record(events);
    let (b, events) = start(1, 1).await;
    let log_b = Log::record(events);
    let (c, events) = start(2, 1).await;
    let log_c = Log::record(events);

    // Everyone publishes once; every value reaches both other sites.
    a.publish(value("level", Value::Int(1))).unwrap();
    b.publish(value("run", Value::Bool(true))).unwrap();
    c.publish(value("valve", Value::Text("open".into())))
        .unwrap();
    wait_until("every site applied the two others' batches", || {
        [(&log_a, B, C), (&log_b, A, C), (&log_c, A, B)]
            .iter()
            .all(|(log, x, y)| log.applied(x) == [1] && log.applied(y) == [1])
    })
    .await;

    // C stops. A publishes three times and B once while it is away.
    drop(c);
    for k in 2..=4 {
        a.publish(value("level", Value::Int(k))).unwrap();
    }
    b.publish(value("run", Value::Bool(false))).unwrap();
    let failures = |n: &RunningNode| n.with_node(|n| n.counters(&wid(C)).unwrap().failures);
    wait_until("A and B counted failed deliveries to C", || {
        failures(&a) >= 2 && failures(&b) >= 2
    })
    .await;
    // Deliveries to the other site go on meanwhile.
    wait_until("B applied A's batches 1 to 4", || {
        log_b.applied(A) == [1, 2, 3, 4]
    })
    .await;
    let status = a.with_node(|n| n.status());
    let seen = status.sites.iter().find(|s| s.wid == C).unwrap();
    assert!(seen.failures >= 2, "{seen:?}");
    assert_eq!(seen.pending, 3, "A's three batches wait for C: {seen:?}");
    let error = seen.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("connection failed"), "{error}");
    assert_eq!(
        log_c.applied(A),
        [1],
        "C stopped after applying A's first batch"
    );

    // C comes back (a new life: a new epoch, no state kept).
    let (c, events) = start(2, 2).await;
    let log_c2 = Log::record(events);
    let pending = |n: &RunningNode| n.with_node(|n| n.pending(&wid(C)).unwrap());
    wait_until("A's and B's outboxes for C are empty", || {
        pending(&a) == 0 && pending(&b) == 0
    })
    .await;
    // Nothing lost, nothing twice: the first life applied A's 1, the second 2, 3, 4.
    assert_eq!(log_c2.applied(A), [2, 3, 4]);
    assert_eq!(log_c2.applied(B), [2]);
    assert_eq!(log_c2.last_value(A), Some(Value::Int(4)));
    assert_eq!(log_c2.last_value(B), Some(Value::Bool(false)));
    assert_eq!(
        log_c2.count(|e| matches!(e, Event::Duplicate { .. })),
        0,
        "no batch came twice"
    );
    let counters = a.with_node(|n| n.counters(&wid(C)).cloned().unwrap());
    assert_eq!(counters.successes, 4, "{counters:?}");
    let last = counters.last.expect("a last diffusion");
    assert!(
        last.error.is_none(),
        "the last diffusion succeeded: {last:?}"
    );

    // C's new epoch reaches A: A sees C restarted.
    c.publish(value("valve", Value::Text("closed".into())))
        .unwrap();
    wait_until("A applied C's batch of the new epoch", || {
        log_a.count(|e| {
            matches!(e, Event::NewEpoch { origin, previous: Some(1), epoch: 2 } if origin.to_string() == C)
        }) == 1
    })
    .await;
    assert_eq!(
        log_a.applied(C),
        [1, 1],
        "seq 1 of epoch 1, then of epoch 2"
    );
}

/// The receiver closes kept-alive connections after a short idle time; the publisher notices
/// (or retries once on a new connection) and no delivery counts as failed.
#[tokio::test(flavor = "current_thread")]
async fn a_connection_the_receiver_closed_while_idle_costs_no_failure() {
    let ips: Vec<IpAddr> = ["127.0.0.1", "127.0.0.2"]
        .iter()
        .map(|ip| ip.parse().unwrap())
        .collect();
    let port = free_port(&ips).unwrap();
    let local = LocalDomain::generate(&[(A, ips[0]), (B, ips[1])], port).unwrap();
    let (a, _) = RunningNode::start(local.options(0, 1, false).unwrap())
        .await
        .unwrap();
    let mut options = local.options(1, 1, false).unwrap();
    options.limits.idle_timeout = Duration::from_millis(100);
    let (_b, events) = RunningNode::start(options).await.unwrap();
    let log_b = Log::record(events);
    for k in 1..=3 {
        a.publish(value("level", Value::Int(k))).unwrap();
        let seqs: Vec<u64> = (1..=k as u64).collect();
        wait_until("B applied the batch", || log_b.applied(A) == seqs).await;
        // Longer than B's idle timeout: B closes the connection A keeps.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let counters = a.with_node(|n| n.counters(&wid(B)).cloned().unwrap());
    assert_eq!(
        (counters.successes, counters.failures),
        (3, 0),
        "{counters:?}"
    );
}
