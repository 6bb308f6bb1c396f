//! eShare: the sites of one domain publishing named values to each other over HTTPS — the
//! domain, the data, the wire format, the outboxes and the Sans-IO [`Node`]. HTTP-agnostic:
//! the caller (the glue) moves requests and answers over its HTTP machines and sockets.
//!
//! ```text
//!  site A                                                       site B
//!  publish(values) ─► Batch{origin A, epoch, seq} ─► outbox[B] ─┐
//!                                                 └► outbox[C]  │ (one in flight per site,
//!  poll_delivery() ─► Delivery{POST /eshare/v1/batches, body} ◄─┘  in order, retried with
//!        │                                                          backoff at poll_timeout)
//!        └── glue: HTTPS POST (client_config(B)) ─────────────────► handle_request(&Request)
//!                                                                     ├► applies once per
//!  delivered(id, Ok(Response{200, {"epoch","applied"}})) ◄── answer ──┘  (origin, epoch, seq)
//!        └► counters of B (successes, failures, last diffusion)     poll_event(): BatchApplied
//! ```
//!
//! # eShare v1 wire specification
//!
//! All sites of a domain serve HTTPS on **one port** (the manual's rule). Bodies are UTF-8
//! JSON (`application/json`), at most [`MAX_BODY_BYTES`] (256 KiB) — larger requests are
//! refused with `413` before parsing. Unknown JSON fields are ignored; `"v"` must be `1`.
//!
//! | method and path | answer |
//! |---|---|
//! | `POST /eshare/v1/batches` | `200 {"epoch": E, "applied": N}`: N is the highest sequence applied for the batch's origin in epoch E |
//! | `GET /eshare/v1/status` | `200`: the domain table (per site WID, label, software, address, successes, failures, pending, last diffusion time and error) and per origin the epoch and sequence applied |
//! | `GET /eshare/v1/values` | `200 {"values": [{origin, name, value, quality, ts, seq}], "skipped": n}`: the latest value of each name |
//! | `GET /` | `200`: an HTML page of the domain table, refreshing itself |
//!
//! A batch:
//!
//! ```json
//! {"v": 1, "origin": "11111-22222", "epoch": 1763805600000, "seq": 42,
//!  "values": [{"name": "temp", "value": {"float": 21.5}, "quality": "good", "ts": 1763805612345},
//!             {"name": "run",  "value": {"bool": true},  "ts": 1763805612345}]}
//! ```
//!
//! - `origin`: the publisher's WID. `epoch`: the publisher's sequence space, which grows each
//!   time it starts without its state. `seq`: 1, 2, 3… in the epoch, one per publication.
//! - `values`: 1 to [`MAX_VALUES_PER_BATCH`] (256), names unique, 1 to [`MAX_NAME_BYTES`] (64)
//!   bytes without control characters. A value is `{"bool": b}`, `{"int": i64}`,
//!   `{"float": finite f64}` or `{"text": at most MAX_TEXT_BYTES (1024) bytes}`.
//!   `quality`: `good` (default), `uncertain`, `bad`. `ts`: milliseconds since 1970 UTC.
//!
//! The receiver keeps, per origin, the epoch and the highest sequence applied:
//!
//! - same epoch, `seq` ≤ applied: a duplicate (a retry whose answer was lost), acknowledged
//!   `200` and ignored;
//! - same epoch, `seq` = applied + 1: applied;
//! - same epoch, `seq` > applied + 1: a gap, reported ([`Event::Gap`]) and applied;
//! - newer epoch (or first batch seen): the origin restarted, applied (a gap when `seq` ≠ 1);
//! - older epoch: `409 {"error": "stale_epoch", "epoch": current}`, not applied; the publisher
//!   drops that batch ([`Event::BatchDropped`]): it belongs to a life of the publisher the
//!   receiver has seen end.
//!
//! Errors are `{"error": code, "message": text}`: `400 invalid_batch`, `403 unknown_origin`
//! (not another site of the domain), `403 origin_mismatch` (client certificate of another
//! site), `403 unauthenticated` (mutual TLS required), `404 not_found`, `405
//! method_not_allowed` (with `Allow`), `409 stale_epoch`, `413 too_large`, `415
//! unsupported_media_type`, `503 busy` (with `Retry-After`: the receiving application does not
//! keep up). A publisher counts a diffusion as successful only on `200` with `epoch` equal to
//! the batch's and `applied` ≥ its `seq`; anything else is a failure, retried after 1 s, 2 s,
//! 4 s… at most 60 s.
//!
//! With curl (`-k` stands for the site's trust policy, e.g. `--cacert REDY-<WID>-CA.crt`):
//!
//! ```text
//! curl -k https://192.0.2.10:443/eshare/v1/status
//! curl -k https://192.0.2.10:443/eshare/v1/values
//! curl -k -H 'Content-Type: application/json' --data-binary \
//!   '{"v":1,"origin":"11111-22222","epoch":1,"seq":1,"values":[{"name":"t","value":{"int":3},"ts":0}]}' \
//!   https://192.0.2.10:443/eshare/v1/batches
//! curl -k --cert ServerREDY.pem ...   # when the receiver requires mutual TLS
//! ```
//!
//! # Restarts
//!
//! [`Node::new`] starts empty in a new epoch: nothing is applied twice *by the publisher's
//! numbering*, but batches still in its outboxes are lost, and as a receiver it may apply again
//! a batch whose answer was lost before the restart (at-least-once). [`Node::snapshot`] and
//! [`Node::restore`] keep outboxes, counters and receiver state: exactly-once when the snapshot
//! is written after each change (see [`Snapshot`]).
//!
//! # Example
//!
//! ```
//! use std::time::{Instant, SystemTime};
//! use redy_eshare::share::{
//!     Domain, Event, Node, NodeConfig, NamedValue, Now, Request, Site, Timestamp, Value,
//! };
//!
//! let (a, b) = ("11111-22222".parse()?, "33333-44444".parse()?);
//! let domain = Domain::new(vec![
//!     Site::new(a, "127.0.0.1".parse()?, 9443).label("pumps"),
//!     Site::new(b, "127.0.0.2".parse()?, 9443).label("tank"),
//! ])?;
//! let now = Now::new(Instant::now(), SystemTime::UNIX_EPOCH);
//! let mut node_a = Node::new(NodeConfig::new("11111-22222".parse()?, domain.clone(), 1), now)?;
//! let mut node_b = Node::new(NodeConfig::new("33333-44444".parse()?, domain, 1), now)?;
//!
//! let level = NamedValue::new("level", Value::Float(3.25), Timestamp(1_763_805_612_345));
//! assert_eq!(node_a.publish(vec![level.clone()], now)?, 1);
//!
//! // The glue POSTs the delivery to site B over HTTPS; here it goes straight to B.
//! let delivery = node_a.poll_delivery(now).expect("a batch for B");
//! let request = Request {
//!     method: delivery.method,
//!     path: delivery.path,
//!     content_type: Some(delivery.content_type),
//!     body: &delivery.body,
//!     peer: None,
//! };
//! let response = node_b.handle_request(&request, now);
//! assert_eq!(response.body, br#"{"epoch":1,"applied":1}"#);
//! node_a.delivered(delivery.id, Ok(response), now)?;
//!
//! assert!(matches!(node_b.poll_event(), Some(Event::NewEpoch { .. })));
//! assert!(matches!(node_b.poll_event(), Some(Event::BatchApplied { values, .. }) if values == [level]));
//! assert_eq!(node_a.counters(&"33333-44444".parse()?).map(|c| c.successes), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod domain;
mod endpoints;
mod error;
mod event;
mod exchange;
mod node;
mod outbox;
mod receiver;
mod snapshot;
mod status;
mod value;

#[cfg(test)]
mod node_tests;

pub use batch::{Ack, Batch, ErrorBody};
pub use domain::{Domain, Site};
pub use endpoints::redirect_to_https;
pub use error::{BatchError, DeliveryError, DomainError, Error};
pub use event::Event;
pub use exchange::{Delivery, DeliveryId, Now, Request, Response};
pub use node::{Node, NodeConfig};
pub use outbox::{Backoff, LastDiffusion, SiteCounters};
pub use receiver::{OriginState, StoredValue};
pub use snapshot::{SiteSnapshot, Snapshot, SnapshotBatch};
pub use status::{SiteStatus, Status, escape};
pub use value::{NamedValue, Quality, Timestamp, Value};

/// The wire format version.
pub const VERSION: u64 = 1;
/// Largest request body (a batch), refused with `413` before parsing.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest answer body a publisher parses as an acknowledgement or error.
pub const MAX_ACK_BYTES: usize = 4096;
/// Most values in one batch.
pub const MAX_VALUES_PER_BATCH: usize = 256;
/// Longest value name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest text value, in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;
/// Longest site label or software version, in bytes.
pub const MAX_LABEL_BYTES: usize = 128;
/// Longest stored "last error" text, in bytes.
pub const MAX_ERROR_BYTES: usize = 256;
/// Most sites in a domain.
pub const MAX_SITES: usize = 64;
/// Default number of batches a site's outbox holds.
pub const DEFAULT_OUTBOX_LIMIT: usize = 256;
/// Largest configurable outbox (per site).
pub const MAX_OUTBOX_LIMIT: usize = 4096;
/// Most events waiting for [`Node::poll_event`].
pub const MAX_EVENTS: usize = 1024;
/// Most latest values kept for `GET /eshare/v1/values` (further names are counted as skipped).
pub const MAX_STORED_VALUES: usize = 4096;

/// Where batches are posted.
pub const BATCHES_PATH: &str = "/eshare/v1/batches";
/// The JSON status.
pub const STATUS_PATH: &str = "/eshare/v1/status";
/// The latest values received.
pub const VALUES_PATH: &str = "/eshare/v1/values";
/// The content type of batches and JSON answers.
pub const JSON: &str = "application/json";
/// The content type of the status page.
pub const HTML: &str = "text/html; charset=utf-8";

/// A WID as a JSON string.
mod wid_serde {
    use redy_certs::Wid;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(wid: &Wid, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(wid)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Wid, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}
