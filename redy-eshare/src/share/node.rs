//! The Sans-IO eShare node: publications out through per-site outboxes, batches in through
//! [`Node::handle_request`], events and deadlines for the caller.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redy_certs::{Certificate, Identity, Wid};
use redy_tls::ClientConfig;

use super::batch::{Ack, Batch, ErrorBody, check_values};
use super::domain::Domain;
use super::error::{DeliveryError, DomainError, Error};
use super::event::Event;
use super::exchange::{Delivery, DeliveryId, Now, Response};
use super::outbox::{Backoff, Link, Queued, SiteCounters};
use super::receiver::Receiver;
use super::value::{NamedValue, Timestamp};
use super::{
    BATCHES_PATH, DEFAULT_OUTBOX_LIMIT, JSON, MAX_ACK_BYTES, MAX_EVENTS, MAX_OUTBOX_LIMIT,
};

/// How a node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// This site's WID: a site of the domain.
    pub wid: Wid,
    /// The domain.
    pub domain: Domain,
    /// This run's epoch: it must be greater than the epoch of every earlier run of this site
    /// (for instance the wall clock at start in milliseconds, or a boot counter kept on disk),
    /// or receivers refuse its batches as stale (`409`).
    pub epoch: u64,
    /// The client certificate presented to other sites (mutual TLS), usually the site's own
    /// server identity (`ServerREDY.pem`, whose certificate allows client authentication).
    pub identity: Option<Identity>,
    /// Accept batches only from peers authenticated by a client certificate as their origin
    /// (see [`Domain::client_auth`] for the server side). Default `false`.
    pub mtls: bool,
    /// Retry delays (default 1 s doubling to 60 s).
    pub backoff: Backoff,
    /// How long a delivery may stay unanswered before it counts as failed (default 30 s).
    pub delivery_timeout: Duration,
    /// Batches each site's outbox holds (default [`DEFAULT_OUTBOX_LIMIT`], at most
    /// [`MAX_OUTBOX_LIMIT`]).
    pub outbox_limit: usize,
    /// Seconds between refreshes of the HTML status page (default 5).
    pub refresh_secs: u32,
}

impl NodeConfig {
    /// A configuration with the defaults.
    pub fn new(wid: Wid, domain: Domain, epoch: u64) -> Self {
        Self {
            wid,
            domain,
            epoch,
            identity: None,
            mtls: false,
            backoff: Backoff::default(),
            delivery_timeout: Duration::from_secs(30),
            outbox_limit: DEFAULT_OUTBOX_LIMIT,
            refresh_secs: 5,
        }
    }
}

/// The eShare node of one site; see the [module docs](super).
#[derive(Debug)]
pub struct Node {
    pub(crate) config: NodeConfig,
    /// Indexed like the domain's sites; this site's own entry stays empty.
    pub(crate) links: Vec<Link>,
    tls: Vec<Option<ClientConfig>>,
    pub(crate) next_seq: u64,
    next_id: u64,
    cursor: usize,
    pub(crate) receiver: Receiver,
    pub(crate) events: VecDeque<Event>,
    pub(crate) dropped_events: u64,
}

impl Node {
    /// A node with empty outboxes and no receiver state; it publishes in `config.epoch` from
    /// sequence 1. Fails when the node's WID is not in the domain, or when `mtls` is set and
    /// the other sites cannot be authenticated as clients.
    pub fn new(config: NodeConfig, now: Now) -> Result<Self, Error> {
        let _ = now;
        if config.domain.site(&config.wid).is_none() {
            return Err(DomainError::NotInDomain(config.wid.clone()).into());
        }
        if config.mtls {
            config.domain.client_auth(&config.wid)?;
        }
        let n = config.domain.sites().len();
        let mut config = config;
        config.outbox_limit = config.outbox_limit.clamp(1, MAX_OUTBOX_LIMIT);
        Ok(Self {
            config,
            links: (0..n).map(|_| Link::default()).collect(),
            tls: vec![None; n],
            next_seq: 1,
            next_id: 1,
            cursor: 0,
            receiver: Receiver::default(),
            events: VecDeque::new(),
            dropped_events: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    fn is_own(&self, index: usize) -> bool {
        self.config
            .domain
            .sites()
            .get(index)
            .is_some_and(|s| s.wid == self.config.wid)
    }

    /// Sends `values` to every other site of the domain as one batch, and returns its
    /// sequence. All or nothing: when the values are invalid or any target outbox is full,
    /// nothing is enqueued anywhere and the error says why.
    pub fn publish(&mut self, values: Vec<NamedValue>, now: Now) -> Result<u64, Error> {
        let _ = now;
        check_values(&values)?;
        let limit = self.config.outbox_limit;
        for (i, link) in self.links.iter().enumerate() {
            if !self.is_own(i) && link.queue.len() >= limit {
                let site = self.config.domain.sites()[i].wid.clone();
                return Err(Error::OutboxFull { site, limit });
            }
        }
        let seq = self.next_seq;
        let next = seq.checked_add(1).ok_or(Error::SequenceExhausted)?;
        let batch = Batch {
            origin: self.config.wid.clone(),
            epoch: self.config.epoch,
            seq,
            values,
        };
        let body = batch.encode()?;
        let queued = Arc::new(Queued { batch, body });
        for i in 0..self.links.len() {
            if !self.is_own(i) {
                self.links[i].queue.push_back(queued.clone());
            }
        }
        self.next_seq = next;
        Ok(seq)
    }

    /// The next HTTP request to make, if a site has a batch due: at most one in flight per
    /// site, batches in order, sites in turn. Call until `None` after every other call.
    pub fn poll_delivery(&mut self, now: Now) -> Option<Delivery> {
        let n = self.links.len();
        for k in 0..n {
            let i = (self.cursor + k) % n;
            if self.is_own(i) {
                continue;
            }
            let Some(queued) = self.links[i].ready(now.instant).cloned() else {
                continue;
            };
            let id = DeliveryId(self.next_id);
            self.next_id += 1;
            self.links[i].start(id, now.instant + self.config.delivery_timeout);
            self.cursor = (i + 1) % n;
            let site = &self.config.domain.sites()[i];
            return Some(Delivery {
                id,
                site: site.wid.clone(),
                address: site.address.clone(),
                port: site.port,
                server_name: site.address.to_string(),
                method: "POST",
                path: BATCHES_PATH,
                content_type: JSON,
                body: queued.body.clone(),
                epoch: queued.batch.epoch,
                seq: queued.batch.seq,
            });
        }
        None
    }

    /// The outcome of a delivery: the site's HTTP answer, or why there was none. Only an
    /// answer `200` whose `applied` covers the batch counts as a success; anything else is a
    /// failure retried after a backoff (except `409 stale_epoch`, see
    /// [`Event::BatchDropped`]).
    pub fn delivered(
        &mut self,
        id: DeliveryId,
        outcome: Result<Response, DeliveryError>,
        now: Now,
    ) -> Result<(), Error> {
        let i = self
            .links
            .iter()
            .position(|l| l.in_flight() == Some(id))
            .ok_or(Error::UnknownDelivery(id))?;
        let Some((epoch, seq)) = self.links[i]
            .queue
            .front()
            .map(|q| (q.batch.epoch, q.batch.seq))
        else {
            return Err(Error::UnknownDelivery(id));
        };
        let site = self.config.domain.sites()[i].wid.clone();
        let wall = Timestamp::from_system(now.wall);
        let error = match outcome {
            Err(e) => e.to_string(),
            Ok(r) if r.status == 200 => match parse_ack(&r.body) {
                Some(ack) if ack.confirms(epoch, seq) => {
                    self.links[i].succeed(wall);
                    self.push_event(Event::DeliverySucceeded { site, seq });
                    return Ok(());
                }
                Some(ack) => format!(
                    "answer does not confirm the batch (epoch {epoch}, seq {seq}): epoch {}, applied {}",
                    ack.epoch, ack.applied
                ),
                None => "answer 200 without a valid acknowledgement".into(),
            },
            Ok(r) => {
                let body = parse_error(&r.body);
                if r.status == 409 && body.as_ref().is_some_and(|b| b.error == "stale_epoch") {
                    let reason = describe(&r, body.as_ref());
                    self.links[i].fail(&reason, now.instant, wall, &self.config.backoff);
                    self.links[i].drop_head();
                    self.push_event(Event::BatchDropped {
                        site,
                        epoch,
                        seq,
                        reason,
                    });
                    return Ok(());
                }
                describe(&r, body.as_ref())
            }
        };
        self.fail(i, seq, &error, now);
        Ok(())
    }

    fn fail(&mut self, i: usize, seq: u64, error: &str, now: Now) {
        let wall = Timestamp::from_system(now.wall);
        let retry_at = self.links[i].fail(error, now.instant, wall, &self.config.backoff);
        let site = self.config.domain.sites()[i].wid.clone();
        self.push_event(Event::DeliveryFailed {
            site,
            seq,
            error: error.to_owned(),
            retry_at,
        });
    }

    /// The next deadline: a delivery unanswered too long, or a retry due. Call
    /// [`handle_timeout`](Self::handle_timeout) then, and [`poll_delivery`](Self::poll_delivery).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.links.iter().filter_map(Link::deadline).min()
    }

    /// Fails the deliveries unanswered past their deadline (their later outcome is refused
    /// as [`Error::UnknownDelivery`]). Retries that are due come from
    /// [`poll_delivery`](Self::poll_delivery).
    pub fn handle_timeout(&mut self, now: Now) {
        for i in 0..self.links.len() {
            if self.links[i].expired(now.instant).is_some() {
                let seq = self.links[i].queue.front().map_or(0, |q| q.batch.seq);
                let secs = self.config.delivery_timeout.as_secs_f64();
                self.fail(i, seq, &format!("no answer within {secs} s"), now);
            }
        }
    }

    /// The next event, if any. Poll them all after each call: while [`MAX_EVENTS`] wait,
    /// incoming batches are answered `503`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        match self.events.len() < MAX_EVENTS {
            true => self.events.push_back(event),
            false => self.dropped_events += 1,
        }
    }

    /// The TLS client configuration towards a site: its trust policy, and this node's
    /// identity for mutual TLS. Built on first use and kept, so sessions resume.
    pub fn client_config(&mut self, site: &Wid) -> Result<ClientConfig, Error> {
        let sites = self.config.domain.sites();
        let i = sites
            .iter()
            .position(|s| &s.wid == site)
            .ok_or_else(|| Error::UnknownSite(site.clone()))?;
        if let Some(Some(config)) = self.tls.get(i) {
            return Ok(config.clone());
        }
        let mut builder = ClientConfig::builder(sites[i].trust.clone());
        if let Some(identity) = &self.config.identity {
            builder = builder.identity(identity.clone());
        }
        let config = builder.build().map_err(|source| Error::Tls {
            site: site.clone(),
            source,
        })?;
        self.tls[i] = Some(config.clone());
        Ok(config)
    }

    /// Which other site of the domain a TLS client's certificates (end entity first) belong
    /// to; see [`Domain::identify`] for what it checks and what it leaves to TLS.
    pub fn authorize_peer(&self, chain: &[Certificate]) -> Option<Wid> {
        self.config.domain.identify(&self.config.wid, chain)
    }

    /// A site's diffusion counters.
    pub fn counters(&self, site: &Wid) -> Option<&SiteCounters> {
        let i = self.site_index(site)?;
        Some(&self.links[i].counters)
    }

    /// Batches waiting in a site's outbox (the one in flight included).
    pub fn pending(&self, site: &Wid) -> Option<usize> {
        let i = self.site_index(site)?;
        Some(self.links[i].queue.len())
    }

    /// Events lost because the caller did not poll them (at most [`MAX_EVENTS`] wait).
    /// Applied batches are never among them: the node refuses batches instead.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    pub(crate) fn site_index(&self, site: &Wid) -> Option<usize> {
        self.config
            .domain
            .sites()
            .iter()
            .position(|s| &s.wid == site)
    }
}

fn parse_ack(body: &[u8]) -> Option<Ack> {
    (body.len() <= MAX_ACK_BYTES)
        .then(|| serde_json::from_slice(body).ok())
        .flatten()
}

fn parse_error(body: &[u8]) -> Option<ErrorBody> {
    (body.len() <= MAX_ACK_BYTES)
        .then(|| serde_json::from_slice(body).ok())
        .flatten()
}

fn describe(r: &Response, body: Option<&ErrorBody>) -> String {
    match body {
        Some(b) => format!("HTTP {}: {}: {}", r.status, b.error, b.message),
        None => {
            let text = String::from_utf8_lossy(&r.body[..r.body.len().min(200)]);
            format!("HTTP {}: {}", r.status, text.trim())
        }
    }
}
