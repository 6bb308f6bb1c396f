//! A state-machine test of eShare diffusion: three nodes exchange deliveries directly (no
//! HTTP) under random delivery failures, delays (virtual time) and restarts with or without a
//! snapshot. Checked: once failures stop, every batch still expected reaches every other site;
//! nothing is applied twice (except after a restart without snapshot, which forgets what was
//! applied); each site's counters equal the successful and failed attempts; outboxes stay
//! within their limit.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use proptest::prelude::*;
use redy_certs::Wid;
use redy_eshare::share::{
    BATCHES_PATH, Delivery, DeliveryError, Domain, Error, Event, JSON, NamedValue, Node,
    NodeConfig, Now, Request, Response, Site, Timestamp, Value,
};

const N: usize = 3;
const OUTBOX: usize = 4;

#[derive(Clone, Copy, Debug)]
enum Outcome {
    Ok,
    RequestLost,
    AnswerLost,
    Busy,
}

#[derive(Clone, Debug)]
enum Action {
    Publish(usize),
    Poll,
    Resolve(usize, Outcome),
    Advance(u64),
    Restart { node: usize, snapshot: bool },
}

fn action() -> impl Strategy<Value = Action> {
    let outcome = prop_oneof![
        3 => Just(Outcome::Ok),
        1 => Just(Outcome::RequestLost),
        1 => Just(Outcome::AnswerLost),
        1 => Just(Outcome::Busy),
    ];
    prop_oneof![
        4 => (0..N).prop_map(Action::Publish),
        4 => Just(Action::Poll),
        6 => (any::<usize>(), outcome).prop_map(|(k, o)| Action::Resolve(k, o)),
        3 => prop_oneof![0..3_000u64, 25_000..40_000u64].prop_map(Action::Advance),
        1 => (0..N, any::<bool>()).prop_map(|(node, snapshot)| Action::Restart { node, snapshot }),
    ]
}

type Key = (usize, u64, u64); // (origin, epoch, seq)

struct Sim {
    t0: Instant,
    ms: u64,
    wids: Vec<Wid>,
    domain: Domain,
    nodes: Vec<Node>,
    epochs: Vec<u64>,
    /// In flight: sender, delivery, when it was handed out, whether it has timed out.
    network: Vec<(usize, Delivery, u64, bool)>,
    published: HashMap<Key, Vec<NamedValue>>,
    /// Per (origin, target): batches the target must eventually apply.
    expected: HashMap<(usize, usize), HashSet<(u64, u64)>>,
    applied_ever: Vec<HashSet<Key>>,
    applied_since_lossy_restart: Vec<HashSet<Key>>,
    /// Per (sender, target): attempts that succeeded / failed.
    successes: HashMap<(usize, usize), u64>,
    failures: HashMap<(usize, usize), u64>,
    counter: i64,
}

impl Sim {
    fn new() -> Self {
        let t0 = Instant::now();
        let wids: Vec<Wid> = ["11111-1", "22222-2", "33333-3"]
            .iter()
            .map(|w| w.parse().unwrap())
            .collect();
        let sites = wids
            .iter()
            .enumerate()
            .map(|(i, w)| {
                Site::new(
                    w.clone(),
                    format!("127.0.0.{}", i + 1).parse().unwrap(),
                    9443,
                )
            })
            .collect();
        let domain = Domain::new(sites).unwrap();
        let mut sim = Self {
            t0,
            ms: 0,
            wids,
            domain,
            nodes: Vec::new(),
            epochs: vec![1; N],
            network: Vec::new(),
            published: HashMap::new(),
            expected: HashMap::new(),
            applied_ever: vec![HashSet::new(); N],
            applied_since_lossy_restart: vec![HashSet::new(); N],
            successes: HashMap::new(),
            failures: HashMap::new(),
            counter: 0,
        };
        sim.nodes = (0..N)
            .map(|i| Node::new(sim.config(i), sim.now()).unwrap())
            .collect();
        sim
    }

    fn config(&self, i: usize) -> NodeConfig {
        let mut c = NodeConfig::new(self.wids[i].clone(), self.domain.clone(), self.epochs[i]);
        c.outbox_limit = OUTBOX;
        c
    }

    fn now(&self) -> Now {
        Now::new(
            self.t0 + Duration::from_millis(self.ms),
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + self.ms),
        )
    }

    fn index(&self, wid: &Wid) -> usize {
        self.wids.iter().position(|w| w == wid).unwrap()
    }

    fn pending(&self, i: usize) -> Vec<usize> {
        (0..N)
            .map(|j| self.nodes[i].pending(&self.wids[j]).unwrap())
            .collect()
    }

    fn step(&mut self, action: &Action) {
        match *action {
            Action::Publish(i) => self.publish(i),
            Action::Poll => self.poll(),
            Action::Resolve(k, outcome) if !self.network.is_empty() => {
                let k = k % self.network.len();
                let (sender, d, _, expired) = self.network.remove(k);
                self.resolve(sender, d, expired, outcome);
            }
            Action::Resolve(..) => {}
            Action::Advance(ms) => self.ms += ms,
            Action::Restart { node, snapshot } => self.restart(node, snapshot),
        }
        self.drain_events();
        for i in 0..N {
            assert!(self.pending(i).iter().all(|p| *p <= OUTBOX));
        }
    }

    fn publish(&mut self, i: usize) {
        self.counter += 1;
        let values = vec![NamedValue::new(
            "n",
            Value::Int(self.counter),
            Timestamp(self.ms),
        )];
        let before = self.pending(i);
        let now = self.now();
        match self.nodes[i].publish(values.clone(), now) {
            Ok(seq) => {
                let key = (i, self.epochs[i], seq);
                self.published.insert(key, values);
                for j in (0..N).filter(|j| *j != i) {
                    self.expected
                        .entry((i, j))
                        .or_default()
                        .insert((key.1, seq));
                }
            }
            Err(Error::OutboxFull { .. }) => {
                assert_eq!(
                    self.pending(i),
                    before,
                    "a refused publication enqueued nothing"
                );
                assert!(before.contains(&OUTBOX));
            }
            Err(e) => panic!("publish: {e}"),
        }
    }

    fn poll(&mut self) {
        let now = self.now();
        // The node fails deliveries unanswered for 30 s when its timeout is handled.
        for (sender, d, issued, expired) in &mut self.network {
            if !*expired && self.ms >= *issued + 30_000 {
                *expired = true;
                let target = self.wids.iter().position(|w| *w == d.site).unwrap();
                *self.failures.entry((*sender, target)).or_default() += 1;
            }
        }
        for i in 0..N {
            self.nodes[i].handle_timeout(now);
            while let Some(d) = self.nodes[i].poll_delivery(now) {
                assert_eq!(
                    (d.method, d.path, d.content_type),
                    ("POST", BATCHES_PATH, JSON)
                );
                self.network.push((i, d, self.ms, false));
            }
        }
    }

    fn resolve(&mut self, sender: usize, d: Delivery, expired: bool, outcome: Outcome) {
        let now = self.now();
        let target = self.index(&d.site);
        let answer = |sim: &mut Self| {
            let request = Request {
                method: d.method,
                path: d.path,
                content_type: Some(d.content_type),
                body: &d.body,
                peer: Some(&sim.wids[sender]),
            };
            sim.nodes[target].handle_request(&request, now)
        };
        let result = match outcome {
            Outcome::Ok => Ok(answer(self)),
            Outcome::RequestLost => Err(DeliveryError::Connect("refused".into())),
            Outcome::AnswerLost => {
                answer(self);
                Err(DeliveryError::Timeout)
            }
            Outcome::Busy => Ok(Response::new(503, "busy")),
        };
        let success = matches!(&result, Ok(r) if r.status == 200);
        match (expired, self.nodes[sender].delivered(d.id, result, now)) {
            // It timed out before: the node counted that failure then, and refuses it now.
            (true, Err(Error::UnknownDelivery(_))) => {}
            (true, other) => panic!("a timed-out delivery was accepted: {other:?}"),
            (false, Ok(())) if success => *self.successes.entry((sender, target)).or_default() += 1,
            (false, Ok(())) => *self.failures.entry((sender, target)).or_default() += 1,
            (false, Err(e)) => panic!("delivered: {e}"),
        }
    }

    fn restart(&mut self, i: usize, snapshot: bool) {
        // The process dies: its connections with it.
        self.network.retain(|(sender, ..)| *sender != i);
        let saved = self.nodes[i].snapshot();
        self.epochs[i] += 1;
        let node = match snapshot {
            true => Node::restore(self.config(i), saved, self.now()).unwrap(),
            false => {
                // Its unsent batches are gone, its counters and receiver state too.
                for j in (0..N).filter(|j| *j != i) {
                    let applied = &self.applied_ever[j];
                    if let Some(set) = self.expected.get_mut(&(i, j)) {
                        set.retain(|(e, s)| applied.contains(&(i, *e, *s)));
                    }
                    self.successes.remove(&(i, j));
                    self.failures.remove(&(i, j));
                }
                self.applied_since_lossy_restart[i].clear();
                Node::new(self.config(i), self.now()).unwrap()
            }
        };
        self.nodes[i] = node;
    }

    fn drain_events(&mut self) {
        for r in 0..N {
            while let Some(event) = self.nodes[r].poll_event() {
                match event {
                    Event::BatchApplied {
                        origin,
                        epoch,
                        seq,
                        values,
                    } => {
                        let key = (self.index(&origin), epoch, seq);
                        assert_eq!(self.published.get(&key), Some(&values), "{key:?}");
                        assert!(
                            self.applied_since_lossy_restart[r].insert(key),
                            "site {r} applied {key:?} twice"
                        );
                        self.applied_ever[r].insert(key);
                    }
                    // A late copy of an old epoch's batch (its delivery timed out and was
                    // retried) is refused as stale once the receiver saw the next epoch: fine.
                    // A live delivery refused so would be a loss.
                    Event::BatchDropped { .. } => panic!("no batch may be dropped: {event:?}"),
                    _ => {}
                }
            }
            assert_eq!(self.nodes[r].dropped_events(), 0);
        }
    }

    /// Failures stop: deliver everything until every outbox is empty.
    fn settle(&mut self) {
        for _ in 0..1000 {
            self.poll();
            while let Some((sender, d, _, expired)) = self.network.pop() {
                self.resolve(sender, d, expired, Outcome::Ok);
            }
            self.drain_events();
            if (0..N).all(|i| self.pending(i).iter().all(|p| *p == 0)) {
                return;
            }
            let next = self.nodes.iter().filter_map(Node::poll_timeout).min();
            let wait = next.map_or(Duration::ZERO, |t| {
                t.saturating_duration_since(self.now().instant)
            });
            self.ms += u64::try_from(wait.as_millis()).unwrap().max(1);
        }
        panic!("the outboxes never emptied");
    }

    fn check(&self) {
        for ((origin, target), batches) in &self.expected {
            for (epoch, seq) in batches {
                assert!(
                    self.applied_ever[*target].contains(&(*origin, *epoch, *seq)),
                    "batch {seq} of epoch {epoch} from {origin} never reached {target}"
                );
            }
        }
        for i in 0..N {
            for j in (0..N).filter(|j| *j != i) {
                let c = self.nodes[i].counters(&self.wids[j]).unwrap();
                let want = (
                    self.successes.get(&(i, j)).copied().unwrap_or(0),
                    self.failures.get(&(i, j)).copied().unwrap_or(0),
                );
                assert_eq!(
                    (c.successes, c.failures),
                    want,
                    "counters of {i} towards {j}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn diffusion_loses_nothing_and_applies_once(actions in proptest::collection::vec(action(), 1..120)) {
        let mut sim = Sim::new();
        for a in &actions {
            sim.step(a);
        }
        sim.settle();
        sim.check();
    }
}

#[test]
fn a_stopped_site_catches_up_after_its_restart() {
    let mut sim = Sim::new();
    for _ in 0..3 {
        sim.step(&Action::Publish(0));
    }
    // Site 1 is down: every attempt to reach it fails for a while.
    for _ in 0..5 {
        sim.step(&Action::Poll);
        while let Some(k) = sim
            .network
            .iter()
            .position(|(_, d, ..)| d.site == sim.wids[1])
        {
            sim.step(&Action::Resolve(k, Outcome::RequestLost));
        }
        sim.step(&Action::Advance(60_000));
    }
    sim.step(&Action::Restart {
        node: 1,
        snapshot: false,
    });
    sim.settle();
    sim.check();
    let c = sim.nodes[0].counters(&sim.wids[1]).unwrap();
    assert_eq!((c.successes, c.failures), (3, 5));
    assert!(c.last.as_ref().unwrap().error.is_none());
}
