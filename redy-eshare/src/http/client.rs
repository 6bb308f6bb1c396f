//! The client machine: a bounded queue of requests on one connection (pipelining allowed up
//! to [`MAX_IN_FLIGHT`]), request bodies with backpressure, `Expect: 100-continue`, and
//! responses streamed in bounded slices; close-delimited responses complete only on a clean
//! end (TLS close_notify).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::chunked::{ChunkedDecoder, LAST_CHUNK, send_chunk};
use super::error::{HeadError, HttpError};
use super::head::{self, BodyKind, Headers, RequestHead, ResponseHead};
use super::limits::Limits;
use super::link::{End, Link, LinkEvent};
use super::server::BODY_SLICE;

/// Most requests sent and not yet answered.
pub const MAX_IN_FLIGHT: usize = 8;
/// How long a request with `Expect: 100-continue` waits for `100` before sending its body.
pub const CONTINUE_WAIT: Duration = Duration::from_secs(1);

/// What the client reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A final response head (1xx are handled by the machine); its body follows.
    Response(ResponseHead),
    /// Body bytes are waiting in [`Client::body`].
    BodyData,
    /// The response body is complete.
    BodyEnd,
    /// The connection ended cleanly with nothing in flight.
    Closed,
    /// A fatal error; the last event.
    Error(HttpError),
}

#[derive(Debug)]
enum In {
    Head,
    Length(u64),
    Chunked(ChunkedDecoder),
    Close,
}

#[derive(Debug, PartialEq, Eq)]
enum Out {
    Idle,
    Length(u64),
    Chunked,
}

/// One client connection, Sans-IO.
#[derive(Debug)]
pub struct Client {
    link: Link,
    limits: Limits,
    /// Methods of the requests waiting for their responses, oldest first.
    in_flight: VecDeque<String>,
    input: In,
    output: Out,
    /// Until when body writes wait for `100 Continue` (`None`: not waiting).
    continue_until: Option<Instant>,
    body: Vec<u8>,
    events: VecDeque<ClientEvent>,
    error: Option<HttpError>,
    deadline: Option<(Instant, &'static str)>,
    now: Instant,
    /// Bytes of a close-delimited body so far.
    received: u64,
}

impl Client {
    /// A client on `link` with `limits`, its clock starting at `now`.
    pub fn new(link: Link, limits: Limits, now: Instant) -> Self {
        Self {
            link,
            limits,
            in_flight: VecDeque::new(),
            input: In::Head,
            output: Out::Idle,
            continue_until: None,
            body: Vec::new(),
            events: VecDeque::new(),
            error: None,
            deadline: None,
            now,
            received: 0,
        }
    }

    /// The sticky fatal error, if any.
    pub fn error(&self) -> Option<&HttpError> {
        self.error.as_ref()
    }

    /// True when a new request may be started.
    pub fn can_send_request(&self) -> bool {
        self.error.is_none() && self.output == Out::Idle && self.in_flight.len() < MAX_IN_FLIGHT
    }

    /// Starts a request. `body_len` `Some(n)` sends a Content-Length body (0: none), `None` a
    /// chunked one. `Content-Length`, `Transfer-Encoding` are set by the machine.
    pub fn send_request(
        &mut self,
        method: &str,
        target: &str,
        headers: &Headers,
        body_len: Option<u64>,
    ) -> Result<(), HttpError> {
        self.check()?;
        if !self.can_send_request() {
            return Err(HttpError::Misuse(
                "request queue full or previous body unfinished",
            ));
        }
        head::check_request_line(method, target)?;
        head::check_fields(headers)?;
        let mut all = Headers::new();
        for (n, v) in headers.iter() {
            if !n.eq_ignore_ascii_case("content-length")
                && !n.eq_ignore_ascii_case("transfer-encoding")
            {
                all.push(n, v);
            }
        }
        match body_len {
            Some(0) => {}
            Some(n) => all.push("Content-Length", n.to_string().as_bytes()),
            None => all.push("Transfer-Encoding", b"chunked"),
        }
        let expect = all.has_token("expect", "100-continue") && body_len != Some(0);
        let head = RequestHead {
            method: method.to_owned(),
            target: target.to_owned(),
            version: 1,
            headers: all,
        };
        let mut out = Vec::new();
        head.encode(&mut out);
        self.link.send_all(&out)?;
        self.in_flight.push_back(method.to_owned());
        self.continue_until = expect.then(|| self.now + CONTINUE_WAIT);
        self.output = match body_len {
            Some(0) => Out::Idle,
            Some(n) => Out::Length(n),
            None => Out::Chunked,
        };
        if self.in_flight.len() == 1 {
            self.deadline = Some((self.now + self.limits.head_timeout, "head"));
        }
        Ok(())
    }

    /// Writes request body bytes; returns how many were accepted (0 while waiting for
    /// `100 Continue` or while the send buffer is full).
    pub fn write_body(&mut self, data: &[u8]) -> Result<usize, HttpError> {
        self.check()?;
        if self.continue_until.is_some() {
            return Ok(0);
        }
        match self.output {
            Out::Idle => Err(HttpError::Misuse("body without a request head")),
            Out::Length(left) => {
                let take = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = self.link.send(&data[..take])?;
                let left = left - n as u64;
                self.output = if left == 0 {
                    Out::Idle
                } else {
                    Out::Length(left)
                };
                Ok(n)
            }
            Out::Chunked => Ok(send_chunk(&mut self.link, data)?),
        }
    }

    /// Ends a chunked request body (a Content-Length body ends by itself).
    pub fn finish_body(&mut self) -> Result<(), HttpError> {
        self.check()?;
        match self.output {
            Out::Chunked if self.continue_until.is_none() => {
                self.link.send_all(LAST_CHUNK)?;
                self.output = Out::Idle;
                Ok(())
            }
            Out::Idle => Ok(()),
            _ => Err(HttpError::Misuse(
                "finish_body before the body may or must end",
            )),
        }
    }

    super::transport::transport_methods!();

    /// Queues the end of the connection (close_notify with TLS).
    pub fn close(&mut self) {
        self.link.close();
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() {
            return None;
        }
        let d = self.deadline.map(|(t, _)| t);
        match (d, self.continue_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires due timeouts: the end of the `100 Continue` wait lets the body go; a late head
    /// or body is a fatal error; an idle connection closes quietly.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if self.continue_until.is_some_and(|t| now >= t) {
            self.continue_until = None;
        }
        if let Some((t, what)) = self.deadline
            && now >= t
            && self.error.is_none()
        {
            self.deadline = None;
            if what == "idle" {
                self.link.close();
                self.events.push_back(ClientEvent::Closed);
                self.error = Some(HttpError::Timeout("idle"));
            } else {
                self.fail(HttpError::Timeout(what));
            }
        }
    }

    fn check(&self) -> Result<(), HttpError> {
        self.error.clone().map_or(Ok(()), Err)
    }

    fn fail(&mut self, e: HttpError) {
        if self.error.is_none() {
            self.events.push_back(ClientEvent::Error(e.clone()));
            self.error = Some(e);
            self.link.close();
        }
    }

    fn process(&mut self, now: Instant) {
        self.now = self.now.max(now);
        while self.error.is_none() {
            match self.step() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return self.fail(e),
            }
        }
        while let Some(ev) = self.link.poll_event() {
            if let LinkEvent::Ended(end) = ev {
                self.ended(end);
            }
        }
    }

    fn ended(&mut self, end: End) {
        if self.error.is_some() {
            return;
        }
        let pending = self
            .link
            .plaintext()
            .map(|p| !p.is_empty())
            .unwrap_or(false);
        match (&self.input, end) {
            (In::Close, End::Clean) if !pending => {
                self.input = In::Head;
                self.in_flight.pop_front();
                self.events.push_back(ClientEvent::BodyEnd);
                self.events.push_back(ClientEvent::Closed);
                self.error = Some(HttpError::Misuse("connection closed"));
            }
            (In::Head, End::Clean) if self.in_flight.is_empty() && !pending => {
                self.events.push_back(ClientEvent::Closed);
                self.error = Some(HttpError::Misuse("connection closed"));
            }
            _ => self.fail(HttpError::Truncated),
        }
    }

    fn step(&mut self) -> Result<bool, HttpError> {
        let limits = &self.limits;
        let now = self.now;
        match &mut self.input {
            // One body buffer: the next response waits until the caller took the last body.
            In::Head if !self.body.is_empty() => Ok(false),
            In::Head => {
                let buf = self.link.plaintext()?;
                if buf.is_empty() {
                    return Ok(false);
                }
                let Some(method) = self.in_flight.front() else {
                    return Err(HeadError::Syntax("response without a request".into()).into());
                };
                let Some(n) = head::frame(buf, limits.max_head)? else {
                    return Ok(false);
                };
                let resp = head::parse_response(&buf[..n], limits)?;
                let kind = head::response_body(&resp, method, limits)?;
                self.link.consume(n);
                if resp.status == 101 {
                    return Err(HeadError::Syntax("protocol switch not supported".into()).into());
                }
                if resp.status < 200 {
                    if resp.status == 100 {
                        self.continue_until = None;
                    }
                    return Ok(true);
                }
                // A final answer before the body was sent: the body is not wanted.
                self.continue_until = None;
                self.input = match kind {
                    BodyKind::Length(n) => In::Length(n),
                    BodyKind::Chunked => In::Chunked(ChunkedDecoder::new(limits)),
                    BodyKind::CloseDelimited => In::Close,
                    BodyKind::Empty => In::Head,
                };
                self.events.push_back(ClientEvent::Response(resp));
                self.deadline = Some((now + limits.body_timeout, "body"));
                if matches!(self.input, In::Head) {
                    self.end_response();
                }
                Ok(true)
            }
            In::Length(left) => {
                let room = BODY_SLICE - self.body.len();
                let buf = self.link.plaintext()?;
                let take = buf
                    .len()
                    .min(room)
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                if take == 0 {
                    return Ok(false);
                }
                self.body.extend_from_slice(&buf[..take]);
                self.link.consume(take);
                *left -= take as u64;
                let done = *left == 0;
                self.body_progress(done);
                Ok(true)
            }
            In::Close => {
                let room = BODY_SLICE - self.body.len();
                let max = limits.max_body;
                let buf = self.link.plaintext()?;
                let take = buf.len().min(room);
                if take == 0 {
                    return Ok(false);
                }
                self.body.extend_from_slice(&buf[..take]);
                self.link.consume(take);
                self.received = self.received.saturating_add(take as u64);
                if self.received > max {
                    return Err(super::ChunkedError::BodyTooLarge { limit: max }.into());
                }
                self.body_progress(false);
                Ok(true)
            }
            In::Chunked(dec) => {
                let room = BODY_SLICE - self.body.len();
                let buf = self.link.plaintext()?;
                if buf.is_empty() || room == 0 {
                    return Ok(false);
                }
                let before = self.body.len();
                let n = dec.decode(buf, &mut self.body, room)?;
                let done = dec.is_done();
                self.link.consume(n);
                if n == 0 {
                    return Ok(false);
                }
                if self.body.len() > before || done {
                    self.body_progress(done);
                }
                Ok(true)
            }
        }
    }

    fn body_progress(&mut self, done: bool) {
        self.deadline = Some((self.now + self.limits.body_timeout, "body"));
        if self.events.back() != Some(&ClientEvent::BodyData) && !self.body.is_empty() {
            self.events.push_back(ClientEvent::BodyData);
        }
        if done {
            self.input = In::Head;
            self.end_response();
        }
    }

    fn end_response(&mut self) {
        self.in_flight.pop_front();
        self.received = 0;
        self.events.push_back(ClientEvent::BodyEnd);
        self.deadline = Some(if self.in_flight.is_empty() {
            (self.now + self.limits.idle_timeout, "idle")
        } else {
            (self.now + self.limits.head_timeout, "head")
        });
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
