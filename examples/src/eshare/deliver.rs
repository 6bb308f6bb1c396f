//! The client side: the dispatcher that runs the node's deadlines and hands out its deliveries
//! and events, and one worker per other site that POSTs batches over a kept-alive HTTPS
//! connection and reports each outcome to the node.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use redy_certs::Wid;
use redy_eshare::http::{Client, ClientEvent, Headers, HttpError, Limits, Link};
use redy_eshare::share::{Delivery, DeliveryError, Event, MAX_ACK_BYTES, Response};
use redy_tls::{ClientConfig, TlsSession};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, timeout};

use super::wire::Wire;
use super::{Shared, now};

/// Deliveries queued for one worker. The node keeps one in flight per site, so one slot is
/// enough; the second covers a retry handed out while the worker still reports a timeout.
pub(super) const WORKER_QUEUE: usize = 2;
/// Events taken from the node at a time before deliveries are looked at again.
const EVENT_BATCH: usize = 64;

/// Runs the node's timeouts, hands deliveries to the workers and events to the caller; sleeps
/// until the node's next deadline or until a task changes the node.
pub(super) async fn dispatch(
    shared: Arc<Shared>,
    workers: Vec<(Wid, mpsc::Sender<Delivery>)>,
    events: mpsc::Sender<Event>,
) {
    loop {
        let (deliveries, batch, deadline) = {
            let mut node = shared.lock();
            let now = now();
            if node.poll_timeout().is_some_and(|t| t <= now.instant) {
                node.handle_timeout(now);
            }
            let deliveries: Vec<Delivery> =
                std::iter::from_fn(|| node.poll_delivery(now)).collect();
            let batch: Vec<Event> = std::iter::from_fn(|| node.poll_event())
                .take(EVENT_BATCH)
                .collect();
            (deliveries, batch, node.poll_timeout())
        };
        for delivery in deliveries {
            let worker = workers.iter().find(|(wid, _)| *wid == delivery.site);
            let refused = match worker {
                Some((_, tx)) => tx.try_send(delivery).err().map(|e| e.into_inner()),
                None => Some(delivery),
            };
            if let Some(d) = refused {
                let outcome = Err(DeliveryError::Http("delivery worker busy".into()));
                let _ = shared.lock().delivered(d.id, outcome, now());
            }
        }
        let more = batch.len() == EVENT_BATCH;
        for event in batch {
            // A dropped receiver means the caller ignores events.
            if events.send(event).await.is_err() {
                shared.events_wanted.store(false, Ordering::Relaxed);
            }
        }
        if more {
            continue;
        }
        match deadline {
            Some(t) => tokio::select! {
                () = shared.wake.notified() => {}
                () = sleep_until(t.into()) => {}
            },
            None => shared.wake.notified().await,
        }
    }
}

/// Delivers one site's batches, one at a time, over one kept-alive connection.
pub(super) async fn worker(
    shared: Arc<Shared>,
    mut deliveries: mpsc::Receiver<Delivery>,
    delivery_timeout: Duration,
) {
    let mut wire: Option<Wire<Client>> = None;
    while let Some(d) = deliveries.recv().await {
        let config = shared.lock().client_config(&d.site);
        let outcome = match config {
            Err(e) => Err(DeliveryError::Tls(e.to_string())),
            Ok(config) => match timeout(delivery_timeout, post(&mut wire, &config, &d)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(DeliveryError::Timeout),
            },
        };
        if outcome.is_err() || wire.as_ref().is_some_and(|w| w.machine.error().is_some()) {
            wire = None;
        }
        // After its own timeout the node no longer knows this delivery: nothing to report.
        let _ = shared.lock().delivered(d.id, outcome, now());
        shared.wake.notify_one();
    }
}

/// One POST, on the kept-alive connection when it is still usable, else on a new one; a kept
/// connection that fails before any answer (the server closed it meanwhile) is retried once on
/// a new one.
async fn post(
    wire: &mut Option<Wire<Client>>,
    config: &ClientConfig,
    d: &Delivery,
) -> Result<Response, DeliveryError> {
    let usable = wire
        .as_mut()
        .is_some_and(|w| !w.stale() && w.machine.can_send_request());
    if let Some(w) = wire.as_mut().filter(|_| usable) {
        match exchange(w, d).await {
            Err(Failure::BeforeAnswer(_)) => {}
            other => return other.map_err(Failure::into_error),
        }
    }
    *wire = None;
    let w = wire.insert(connect(config, d).await?);
    exchange(w, d).await.map_err(Failure::into_error)
}

async fn connect(config: &ClientConfig, d: &Delivery) -> Result<Wire<Client>, DeliveryError> {
    let stream = TcpStream::connect((d.server_name.as_str(), d.port))
        .await
        .map_err(|e| DeliveryError::Connect(format!("{}:{}: {e}", d.server_name, d.port)))?;
    let _ = stream.set_nodelay(true);
    let session = TlsSession::client(config, &d.server_name)
        .map_err(|e| DeliveryError::Tls(e.to_string()))?;
    let limits = Limits {
        max_body: MAX_ACK_BYTES as u64,
        ..Limits::default()
    };
    Ok(Wire::new(
        stream,
        Client::new(Link::tls(session), limits, Instant::now()),
    ))
}

/// How an exchange failed: before any byte of the answer (a retry on a new connection is
/// safe: the receiver applies a batch once), or after.
enum Failure {
    BeforeAnswer(DeliveryError),
    Answer(DeliveryError),
}

impl Failure {
    fn into_error(self) -> DeliveryError {
        match self {
            Self::BeforeAnswer(e) | Self::Answer(e) => e,
        }
    }
}

async fn exchange(w: &mut Wire<Client>, d: &Delivery) -> Result<Response, Failure> {
    let mut headers = Headers::new();
    headers.push("Host", authority(&d.server_name, d.port).as_bytes());
    headers.push("Content-Type", d.content_type.as_bytes());
    let http = |e: HttpError| Failure::BeforeAnswer(classify(e));
    w.machine
        .send_request(d.method, d.path, &headers, Some(d.body.len() as u64))
        .map_err(http)?;
    let mut rest = &d.body[..];
    while !rest.is_empty() {
        match w.machine.write_body(rest).map_err(http)? {
            0 => w.flush().await.map_err(io_failure(false))?,
            n => rest = &rest[n..],
        }
    }
    let mut answer: Option<Response> = None;
    loop {
        while let Some(event) = w.machine.poll_event() {
            match event {
                ClientEvent::Response(head) => answer = Some(Response::new(head.status, [])),
                ClientEvent::BodyData => {
                    // Bounded by the client's max_body (MAX_ACK_BYTES).
                    let data = w.machine.body();
                    if let Some(a) = answer.as_mut() {
                        a.body.extend_from_slice(data);
                    }
                    let n = data.len();
                    w.machine.consume_body(n, Instant::now());
                }
                ClientEvent::BodyEnd => {
                    return answer.ok_or_else(|| {
                        Failure::Answer(DeliveryError::Http("body without an answer".into()))
                    });
                }
                ClientEvent::Closed => {
                    let e = DeliveryError::Http("connection closed before the answer".into());
                    return Err(match answer {
                        None => Failure::BeforeAnswer(e),
                        Some(_) => Failure::Answer(e),
                    });
                }
                ClientEvent::Error(e) => {
                    return Err(match answer {
                        None => Failure::BeforeAnswer(classify(e)),
                        Some(_) => Failure::Answer(classify(e)),
                    });
                }
                _ => {}
            }
        }
        w.turn().await.map_err(io_failure(answer.is_some()))?;
    }
}

fn io_failure(answered: bool) -> impl Fn(std::io::Error) -> Failure {
    move |e| {
        let e = DeliveryError::Http(e.to_string());
        match answered {
            false => Failure::BeforeAnswer(e),
            true => Failure::Answer(e),
        }
    }
}

fn classify(e: HttpError) -> DeliveryError {
    match e {
        HttpError::Tls(e) => DeliveryError::Tls(e.to_string()),
        HttpError::Timeout(_) => DeliveryError::Timeout,
        e => DeliveryError::Http(e.to_string()),
    }
}

/// `host[:port]` for the `Host` header, IPv6 in brackets.
fn authority(host: &str, port: u16) -> String {
    let host = match host.contains(':') {
        true => format!("[{host}]"),
        false => host.to_owned(),
    };
    match port {
        443 => host,
        _ => format!("{host}:{port}"),
    }
}
