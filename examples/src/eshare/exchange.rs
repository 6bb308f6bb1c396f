//! A served connection's requests, without I/O: the HTTP server machine's events gathered into
//! complete requests for the node, and the node's answers started on the machine. The tokio
//! connection task runs it, and so does the `eshare_serve` fuzz target.

use std::time::Instant;

use redy_certs::Wid;
use redy_eshare::http::server::BODY_SLICE;
use redy_eshare::http::{Headers, HttpError, RequestHead, Server, ServerEvent};
use redy_eshare::share::{Request, Response};

/// What an event asks of the caller.
#[derive(Debug)]
pub enum Step<'a> {
    /// Nothing yet.
    Nothing,
    /// A request is complete: answer it (see [`begin_response`]).
    Complete(&'a RequestHead, &'a [u8]),
    /// The connection is over: send what the machine still has, then close.
    End,
}

/// The request being received on one connection.
#[derive(Debug, Default)]
pub struct Exchange {
    head: Option<RequestHead>,
    complete: Option<RequestHead>,
    /// Bounded by the server's `max_body` (at most `share::MAX_BODY_BYTES`).
    body: Vec<u8>,
}

impl Exchange {
    /// Nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event of `server`.
    pub fn on_event(&mut self, event: ServerEvent, server: &mut Server) -> Step<'_> {
        match event {
            ServerEvent::Request(h) => {
                self.head = Some(h);
                self.body.clear();
                Step::Nothing
            }
            ServerEvent::BodyData => {
                let data = server.body();
                self.body.extend_from_slice(data);
                let n = data.len();
                server.consume_body(n, Instant::now());
                Step::Nothing
            }
            ServerEvent::BodyEnd => {
                self.complete = self.head.take();
                match &self.complete {
                    Some(h) => Step::Complete(h, &self.body),
                    None => Step::Nothing,
                }
            }
            ServerEvent::Closed | ServerEvent::Error(_) => Step::End,
            _ => Step::Nothing,
        }
    }
}

/// The node's view of a complete request.
pub fn request<'a>(h: &'a RequestHead, body: &'a [u8], peer: Option<&'a Wid>) -> Request<'a> {
    Request {
        method: &h.method,
        path: &h.target,
        content_type: h.headers.get_str("content-type"),
        body,
        peer,
    }
}

/// Starts the answer `r` on `server` and returns the body still to write with `write_body`:
/// none when it went out whole with the head (up to `BODY_SLICE` bytes, one TLS record), or
/// for a `HEAD` request (`head_only`), whose length is left out rather than computed.
pub fn begin_response<'r>(
    server: &mut Server,
    head_only: bool,
    r: &'r Response,
) -> Result<&'r [u8], HttpError> {
    let mut headers = Headers::new();
    if !r.content_type.is_empty() {
        headers.push("Content-Type", r.content_type.as_bytes());
    }
    for (name, value) in &r.headers {
        headers.push(name, value.as_bytes());
    }
    let body: &[u8] = match head_only {
        true => b"",
        false => &r.body,
    };
    let reason = reason(r.status);
    if body.len() <= BODY_SLICE {
        server.respond_with_body(r.status, reason, &headers, body)?;
        return Ok(b"");
    }
    server.respond(r.status, reason, &headers, Some(body.len() as u64))?;
    Ok(body)
}

/// The reason phrase of the statuses the node and the redirect answer with.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        503 => "Service Unavailable",
        _ => "",
    }
}
