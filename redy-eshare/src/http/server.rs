//! The server machine: sequential requests on one connection, bodies streamed in bounded
//! slices, responses with Content-Length or chunked bodies and send backpressure.

use std::collections::VecDeque;
use std::time::Instant;

use super::chunked::{ChunkedDecoder, LAST_CHUNK, send_chunk};
use super::error::{HeadError, HttpError};
use super::head::{self, BodyKind, Headers, RequestHead, ResponseHead};
use super::limits::Limits;
use super::link::{End, Link, LinkEvent};

/// Largest slice of request body held for the caller at once.
pub const BODY_SLICE: usize = 16 * 1024;

/// What the server reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A request head; its body (if any) follows through [`Server::body`].
    Request(RequestHead),
    /// Body bytes are waiting in [`Server::body`].
    BodyData,
    /// The request body is complete.
    BodyEnd,
    /// The connection ended cleanly between requests (or after `Connection: close`).
    Closed,
    /// A fatal error; the last event.
    Error(HttpError),
}

#[derive(Debug)]
enum In {
    Head,
    Length(u64),
    Chunked(ChunkedDecoder),
    Done,
}

#[derive(Debug, PartialEq, Eq)]
enum Out {
    /// No response started for the current request.
    Idle,
    Length(u64),
    Chunked,
}

/// One server connection, Sans-IO.
#[derive(Debug)]
pub struct Server {
    link: Link,
    limits: Limits,
    input: In,
    output: Out,
    in_request: bool,
    close_after: bool,
    body: Vec<u8>,
    events: VecDeque<ServerEvent>,
    error: Option<HttpError>,
    deadline: Option<(Instant, &'static str)>,
    ended: bool,
    responded: bool,
    now: Instant,
}

impl Server {
    /// A server on `link` with `limits`, starting its idle clock at `now`.
    pub fn new(link: Link, limits: Limits, now: Instant) -> Self {
        let deadline = Some((now + limits.idle_timeout, "idle"));
        Self {
            link,
            limits,
            input: In::Head,
            output: Out::Idle,
            in_request: false,
            close_after: false,
            body: Vec::new(),
            events: VecDeque::new(),
            error: None,
            deadline,
            ended: false,
            responded: false,
            now,
        }
    }

    /// The sticky fatal error, if any.
    pub fn error(&self) -> Option<&HttpError> {
        self.error.as_ref()
    }

    /// The client's certificates, end entity first (mutual TLS): none before the handshake,
    /// without TLS, or when the client sent none. The TLS configuration verified them.
    pub fn peer_certificates(&self) -> Vec<redy_certs::Certificate> {
        self.link.peer_certificates()
    }

    super::transport::transport_methods!();

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
            .filter(|_| self.error.is_none())
            .map(|(t, _)| t)
    }

    /// Fires due timeouts: an idle kept-alive connection closes quietly, a late head or body
    /// is a fatal error.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if let Some((t, what)) = self.deadline
            && now >= t
            && self.error.is_none()
        {
            self.deadline = None;
            if what == "idle" {
                self.link.close();
                self.events.push_back(ServerEvent::Closed);
                self.error = Some(HttpError::Timeout("idle"));
            } else {
                self.fail(HttpError::Timeout(what));
            }
        }
    }

    /// Starts the response to the current request. `body_len` `Some(n)` sends a
    /// Content-Length body, `None` a chunked one. `Content-Length`, `Transfer-Encoding` and
    /// `Connection` are set by the machine.
    pub fn respond(
        &mut self,
        status: u16,
        reason: &str,
        headers: &Headers,
        body_len: Option<u64>,
    ) -> Result<(), HttpError> {
        let out = self.response_head(status, reason, headers, body_len)?;
        self.link.send_all(&out)?;
        self.output = match body_len {
            Some(n) => Out::Length(n),
            None => Out::Chunked,
        };
        if body_len == Some(0) {
            self.finish_response()?;
        }
        Ok(())
    }

    /// The whole response to the current request at once, with a Content-Length body of at
    /// most [`BODY_SLICE`] bytes: head and body go out in one write (one TLS record), as small
    /// answers should. Larger bodies go through [`respond`](Self::respond) and
    /// [`write_body`](Self::write_body).
    pub fn respond_with_body(
        &mut self,
        status: u16,
        reason: &str,
        headers: &Headers,
        body: &[u8],
    ) -> Result<(), HttpError> {
        if body.len() > BODY_SLICE {
            return Err(HttpError::Misuse(
                "respond_with_body takes at most BODY_SLICE bytes",
            ));
        }
        let mut out = self.response_head(status, reason, headers, Some(body.len() as u64))?;
        out.extend_from_slice(body);
        self.link.send_all(&out)?;
        self.finish_response()
    }

    /// The encoded head of a response to the current request, after checking it may be sent.
    fn response_head(
        &self,
        status: u16,
        reason: &str,
        headers: &Headers,
        body_len: Option<u64>,
    ) -> Result<Vec<u8>, HttpError> {
        self.check()?;
        if !self.in_request || self.responded || self.output != Out::Idle {
            return Err(HttpError::Misuse("respond without a pending request"));
        }
        head::check_status_line(status, reason)?;
        head::check_fields(headers)?;
        let mut all = Headers::new();
        for (n, v) in headers.iter() {
            let lower = n.to_ascii_lowercase();
            if !matches!(
                lower.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                all.push(n, v);
            }
        }
        match body_len {
            Some(n) => all.push("Content-Length", n.to_string().as_bytes()),
            None => all.push("Transfer-Encoding", b"chunked"),
        }
        if self.close_after {
            all.push("Connection", b"close");
        }
        let mut out = Vec::new();
        ResponseHead {
            version: 1,
            status,
            reason: reason.to_owned(),
            headers: all,
        }
        .encode(&mut out);
        Ok(out)
    }

    /// Writes response body bytes; returns how many were accepted (0 while the send buffer
    /// is full: write [`transmit`](Self::transmit) out, then retry).
    pub fn write_body(&mut self, data: &[u8]) -> Result<usize, HttpError> {
        self.check()?;
        match self.output {
            Out::Idle => Err(HttpError::Misuse("body without a response head")),
            Out::Length(left) => {
                let take = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = self.link.send(&data[..take])?;
                self.output = Out::Length(left - n as u64);
                if left == n as u64 {
                    self.finish_response()?;
                }
                Ok(n)
            }
            Out::Chunked => Ok(send_chunk(&mut self.link, data)?),
        }
    }

    /// Ends a chunked response body (a Content-Length body ends by itself).
    pub fn finish_body(&mut self) -> Result<(), HttpError> {
        self.check()?;
        match self.output {
            Out::Chunked => {
                self.link.send_all(LAST_CHUNK)?;
                self.finish_response()
            }
            Out::Length(0) => Ok(()),
            _ => Err(HttpError::Misuse(
                "finish_body before the declared length was written",
            )),
        }
    }

    fn finish_response(&mut self) -> Result<(), HttpError> {
        self.output = Out::Idle;
        self.responded = true;
        if matches!(self.input, In::Done) {
            self.next_request();
            // A pipelined request may already be waiting.
            self.process(self.now);
        }
        Ok(())
    }

    fn check(&self) -> Result<(), HttpError> {
        self.error.clone().map_or(Ok(()), Err)
    }

    fn fail(&mut self, e: HttpError) {
        if self.error.is_none() {
            self.events.push_back(ServerEvent::Error(e.clone()));
            self.error = Some(e);
            self.link.close();
        }
    }

    /// Refuses a request: status, `Connection: close`, then close.
    fn refuse(&mut self, e: HttpError) {
        let status = match &e {
            HttpError::Head(HeadError::TooLarge { .. } | HeadError::TooManyHeaders { .. }) => {
                "431 Request Header Fields Too Large"
            }
            HttpError::Head(HeadError::BodyTooLarge { .. })
            | HttpError::Chunked(super::ChunkedError::BodyTooLarge { .. }) => {
                "413 Content Too Large"
            }
            _ => "400 Bad Request",
        };
        if self.output == Out::Idle {
            let msg =
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = self.link.send_all(msg.as_bytes());
        }
        self.fail(e);
    }

    fn process(&mut self, now: Instant) {
        self.now = self.now.max(now);
        while self.error.is_none() {
            let progressed = match self.step(now) {
                Ok(p) => p,
                Err(e) => {
                    self.refuse(e);
                    return;
                }
            };
            if !progressed {
                break;
            }
        }
        while let Some(ev) = self.link.poll_event() {
            if let LinkEvent::Ended(end) = ev {
                self.ended = true;
                let between = matches!(self.input, In::Head) && !self.in_request;
                let pending = self
                    .link
                    .plaintext()
                    .map(|p| !p.is_empty())
                    .unwrap_or(false);
                if between && !pending && end == End::Clean {
                    self.events.push_back(ServerEvent::Closed);
                    self.error = Some(HttpError::Misuse("connection closed"));
                    self.link.close();
                } else {
                    self.fail(HttpError::Truncated);
                }
            }
        }
    }

    /// One step of input processing; `Ok(true)` when something moved.
    fn step(&mut self, now: Instant) -> Result<bool, HttpError> {
        let limits = &self.limits;
        match &mut self.input {
            // One body buffer: the next request waits until the caller took the last body.
            In::Head if !self.in_request && !self.body.is_empty() => Ok(false),
            In::Head if !self.in_request => {
                let buf = self.link.plaintext()?;
                if buf.is_empty() {
                    return Ok(false);
                }
                if matches!(self.deadline, Some((_, "idle")) | None) {
                    self.deadline = Some((now + limits.head_timeout, "head"));
                }
                let Some(n) = head::frame(buf, limits.max_head)? else {
                    return Ok(false);
                };
                let req = head::parse_request(&buf[..n], limits)?;
                let kind = head::request_body(&req, limits)?;
                self.link.consume(n);
                self.close_after = req.version == 0 || req.headers.has_token("connection", "close");
                let expect = req.headers.get("expect").map(<[u8]>::trim_ascii);
                if let Some(e) = expect {
                    if !e.eq_ignore_ascii_case(b"100-continue") {
                        return Err(HeadError::Syntax("unsupported Expect".into()).into());
                    }
                    if kind != BodyKind::Empty {
                        self.link.send_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                    }
                }
                self.in_request = true;
                self.input = match kind {
                    BodyKind::Length(n) => In::Length(n),
                    BodyKind::Chunked => In::Chunked(ChunkedDecoder::new(limits)),
                    _ => In::Done,
                };
                self.deadline = Some((now + limits.body_timeout, "body"));
                self.events.push_back(ServerEvent::Request(req));
                if matches!(self.input, In::Done) {
                    self.end_request_body(now);
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
                self.body_progress(now, done);
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
                    self.body_progress(now, done);
                }
                Ok(true)
            }
            In::Head | In::Done => Ok(false),
        }
    }

    fn body_progress(&mut self, now: Instant, done: bool) {
        self.deadline = Some((now + self.limits.body_timeout, "body"));
        if self.events.back() != Some(&ServerEvent::BodyData) && !self.body.is_empty() {
            self.events.push_back(ServerEvent::BodyData);
        }
        if done {
            self.end_request_body(now);
        }
    }

    fn end_request_body(&mut self, _now: Instant) {
        self.input = In::Done;
        self.events.push_back(ServerEvent::BodyEnd);
        // The caller's response is not timed.
        self.deadline = None;
        if self.responded {
            self.next_request();
        }
    }

    /// Request and response both complete: close, or wait for the next request.
    fn next_request(&mut self) {
        self.in_request = false;
        self.responded = false;
        self.input = In::Head;
        if self.close_after {
            self.link.close();
            self.events.push_back(ServerEvent::Closed);
            self.error = Some(HttpError::Misuse("connection closed"));
        } else {
            self.deadline = Some((self.now + self.limits.idle_timeout, "idle"));
        }
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
