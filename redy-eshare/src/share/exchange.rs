//! What passes between the node and its caller: clocks, deliveries to make, requests received
//! and answers.

use std::fmt;
use std::time::{Instant, SystemTime};

use redy_certs::{SubjectName, Wid};

/// The caller's clocks at the time of a call: a monotonic instant for deadlines and the wall
/// clock for the "last diffusion" times shown to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time: deadlines and retries.
    pub instant: Instant,
    /// Wall clock: diffusion times in the status.
    pub wall: SystemTime,
}

impl Now {
    /// Both clocks.
    pub fn new(instant: Instant, wall: SystemTime) -> Self {
        Self { instant, wall }
    }
}

/// Names one delivery between [`Node::poll_delivery`](super::Node::poll_delivery) and
/// [`Node::delivered`](super::Node::delivered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryId(pub u64);

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An HTTP request the caller must make: `POST` the body to the site over HTTPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Report the outcome with this id.
    pub id: DeliveryId,
    /// The target site.
    pub site: Wid,
    /// Where to connect.
    pub address: SubjectName,
    /// The domain's HTTPS port.
    pub port: u16,
    /// The TLS server name (and HTTP `Host`): the site's address.
    pub server_name: String,
    /// `POST`.
    pub method: &'static str,
    /// `/eshare/v1/batches`.
    pub path: &'static str,
    /// `application/json`.
    pub content_type: &'static str,
    /// The batch (at most [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES)).
    pub body: Vec<u8>,
    /// The batch's epoch.
    pub epoch: u64,
    /// The batch's sequence number.
    pub seq: u64,
}

/// An HTTP request as the server side received it, for
/// [`Node::handle_request`](super::Node::handle_request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The request target, e.g. `/eshare/v1/status` (a query string is ignored).
    pub path: &'a str,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The body (bound it by [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES) while reading).
    pub body: &'a [u8],
    /// The site the client authenticated as with its certificate .
    pub peer: Option<&'a Wid>,
}

/// An HTTP response: from [`Node::handle_request`](super::Node::handle_request) to send, or
/// from a site to hand to [`Node::delivered`](super::Node::delivered) (only `status` and `body`
/// are read there).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` (empty: none).
    pub content_type: String,
    /// Other headers to send, such as `Location`, `Allow` or `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a status and a body, no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            body: body.into(),
            ..Self::default()
        }
    }
}
