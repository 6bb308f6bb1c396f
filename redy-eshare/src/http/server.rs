//! The server side of one HTTP/1.1 connection: requests in, one after the other on a
//! keep-alive connection, each answered by the caller with a head and a streamed body.
//!
//! ```text
//!  Idle ─first byte─► Head ─blank line─► Event::Request ─► Body … Event::BodyEnd ─► Done
//!   ▲     (idle timeout: close)  (head timeout: 408)   (Expect: 100-continue: `100` when the
//!   │                                                   caller reads the body)
//!   └── keep-alive ◄── Event::ResponseDone ◄── respond() ─ send_body()… ─ finish_body()
//!  refused head or body: 400/413/431/501 with `Connection: close`, Event::Failed, close_notify
//! ```

use std::collections::VecDeque;
use std::time::Instant;

use super::chunked::{ChunkedDecoder, LAST_CHUNK, Piece, chunk_header};
use super::head::{self, BodyLength, RequestHead, ResponseHead};
use super::link::{End, Link};
use super::{HttpError, Limits, Timeouts};

/// Response bytes staged before the link takes them.
const STAGE_LIMIT: usize = 64 * 1024;

/// What the server connection reports.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// A request head. Its body follows ([`ServerEvent::Body`] … [`ServerEvent::BodyEnd`]);
    /// answer with [`HttpServer::respond`].
    Request(RequestHead),
    /// Body bytes wait in [`HttpServer::body`].
    Body,
    /// The request body is complete (after the bytes already in [`HttpServer::body`]).
    BodyEnd,
    /// The response was handed to the link entirely.
    ResponseDone,
    /// The connection failed (a refusal was sent when one applied) and is closing.
    Failed(HttpError),
    /// The connection ended; nothing more comes.
    Closed,
}

#[derive(Debug)]
enum Reading {
    /// Between requests (the idle deadline runs).
    Idle,
    /// A head has started (the head deadline runs).
    Head,
    /// A request body.
    Body(BodyReader),
    /// The request was read entirely.
    Done,
    /// Nothing more is read.
    Stopped,
}

#[derive(Debug)]
enum BodyReader {
    Known(u64),
    Chunked(ChunkedDecoder),
}

#[derive(Debug, PartialEq, Eq)]
enum Writing {
    /// No request to answer yet.
    Nothing,
    /// A request waits for its response.
    Due,
    /// The body: bytes still allowed (`None`: chunked).
    Body(Option<u64>),
    /// The response is staged entirely.
    Finished,
}

/// One server connection; see the [module docs](self).
#[derive(Debug)]
pub struct HttpServer {
    link: Link,
    limits: Limits,
    timeouts: Timeouts,
    head: Vec<u8>,
    reading: Reading,
    writing: Writing,
    /// Decoded request body for the caller (at most `limits.body_buffer`).
    body: Vec<u8>,
    body_ended: bool,
    continue_due: bool,
    /// The request's method (a HEAD response has no body).
    method: String,
    keep_alive: bool,
    /// The response body goes in chunks.
    chunked: bool,
    stage: Vec<u8>,
    events: VecDeque<ServerEvent>,
    deadline: Option<(Instant, &'static str)>,
    peer_end: Option<End>,
    error: Option<HttpError>,
    closing: bool,
    closed: bool,
}

impl HttpServer {
    /// A connection that just opened at `now` on `link`.
    pub fn new(link: Link, limits: Limits, timeouts: Timeouts, now: Instant) -> Self {
        Self {
            link,
            limits,
            timeouts,
            head: Vec::new(),
            reading: Reading::Idle,
            writing: Writing::Nothing,
            body: Vec::new(),
            body_ended: false,
            continue_due: false,
            method: String::new(),
            keep_alive: true,
            chunked: false,
            stage: Vec::new(),
            events: VecDeque::new(),
            deadline: Some((now + timeouts.idle, "a request")),
            peer_end: None,
            error: None,
            closing: false,
            closed: false,
        }
    }

    /// Feeds received bytes; returns how many were taken (fewer: read the body out, then
    /// offer the rest).
    pub fn receive(&mut self, data: &[u8], now: Instant) -> Result<usize, HttpError> {
        self.check()?;
        let taken = match self.link.receive(data) {
            Ok(n) => n,
            Err(e) => return Err(self.fail(e.into(), now)),
        };
        self.process(now);
        self.check().map(|()| taken)
    }

    /// The peer ended the connection (TCP EOF).
    pub fn receive_eof(&mut self, now: Instant) -> Result<(), HttpError> {
        self.check()?;
        if let Err(e) = self.link.receive_eof() {
            return Err(self.fail(e.into(), now));
        }
        self.process(now);
        self.check()
    }

    /// Bytes to send; then [`advance`](Self::advance) by how many went.
    pub fn transmit(&mut self) -> &[u8] {
        self.flush();
        self.link.transmit()
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as sent.
    pub fn advance(&mut self, n: usize) {
        self.link.advance(n);
        if self.closing && self.link.is_flushed() && self.stage.is_empty() && !self.closed {
            self.closed = true;
            self.events.push_back(ServerEvent::Closed);
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) wants to run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.error.is_some() || self.closing {
            true => None,
            false => self.deadline.map(|(t, _)| t),
        }
    }

    /// Acts on a passed deadline: an idle connection closes, a slow head gets `408`, a stalled
    /// body ends the connection.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), HttpError> {
        self.check()?;
        let Some((at, what)) = self.deadline else {
            return Ok(());
        };
        if now < at {
            return Ok(());
        }
        if matches!(self.reading, Reading::Idle) {
            self.close();
            return Ok(());
        }
        Err(self.fail(HttpError::Timeout(what), now))
    }

    /// The request body bytes received so far and not consumed. Reading it answers a request's
    /// `Expect: 100-continue`.
    pub fn body(&mut self) -> &[u8] {
        self.send_continue();
        &self.body
    }

    /// Marks `n` bytes of [`body`](Self::body) as consumed; reading resumes.
    pub fn consume_body(&mut self, n: usize, now: Instant) {
        self.send_continue();
        self.body.drain(..n.min(self.body.len()));
        self.process(now);
    }

    /// Starts the response to the current request. The machine sets the framing fields
    /// (`Content-Length`, `Transfer-Encoding`, `Connection: close`) itself from `length` and
    /// the connection's state: `head` must not hold them.
    pub fn respond(
        &mut self,
        mut head: ResponseHead,
        length: BodyLength,
        now: Instant,
    ) -> Result<(), HttpError> {
        self.check()?;
        if self.writing != Writing::Due {
            return Err(HttpError::Usage("no request waits for a response"));
        }
        for field in ["content-length", "transfer-encoding", "connection"] {
            if head.headers.get(field).is_some() {
                return Err(HttpError::Argument(format!(
                    "{field} is set by the connection"
                )));
            }
        }
        if !matches!(self.reading, Reading::Done | Reading::Idle) || !self.body.is_empty() {
            // An unread request body cannot be skipped safely: this is the last exchange.
            self.keep_alive = false;
        }
        let no_body = self.method.eq_ignore_ascii_case("HEAD")
            || head.status == 204
            || head.status == 304
            || (100..200).contains(&head.status);
        let length = match (length, head.minor_version) {
            (BodyLength::Chunked, 0) => BodyLength::UntilClose,
            (length, _) => length,
        };
        let allowed = match length {
            BodyLength::Empty if !no_body => {
                head.headers.push("Content-Length", "0")?;
                Some(0)
            }
            BodyLength::Known(n) => {
                head.headers.push("Content-Length", n.to_string())?;
                Some(if no_body { 0 } else { n })
            }
            BodyLength::Chunked if !no_body => {
                head.headers.push("Transfer-Encoding", "chunked")?;
                None
            }
            BodyLength::UntilClose => {
                self.keep_alive = false;
                None
            }
            _ => Some(0),
        };
        if !self.keep_alive {
            head.headers.push("Connection", "close")?;
        }
        self.stage.extend(head.encode()?);
        self.continue_due = false;
        self.writing = match (length, allowed) {
            (BodyLength::UntilClose, _) if no_body => Writing::Body(Some(0)),
            (BodyLength::UntilClose, _) => Writing::Body(Some(u64::MAX)),
            (_, allowed) => Writing::Body(allowed),
        };
        self.chunked = matches!(length, BodyLength::Chunked) && !no_body;
        self.flush();
        let _ = now;
        Ok(())
    }

    /// Sends body bytes; returns how many were taken (0 when the connection's buffers are full:
    /// write out [`transmit`](Self::transmit) first).
    pub fn send_body(&mut self, data: &[u8], now: Instant) -> Result<usize, HttpError> {
        self.check()?;
        let Writing::Body(allowed) = self.writing else {
            return Err(HttpError::Usage("no response body is open"));
        };
        let room = STAGE_LIMIT.saturating_sub(self.stage.len());
        let n = data.len().min(room.saturating_sub(32));
        if n == 0 {
            self.flush();
            return Ok(0);
        }
        match allowed {
            Some(left) if (n as u64) > left => {
                return Err(HttpError::Usage(
                    "more body than the Content-Length announced",
                ));
            }
            Some(left) => self.writing = Writing::Body(Some(left - n as u64)),
            None => {}
        }
        if self.chunked {
            self.stage.extend(chunk_header(n));
            self.stage.extend_from_slice(&data[..n]);
            self.stage.extend_from_slice(b"\r\n");
        } else {
            self.stage.extend_from_slice(&data[..n]);
        }
        self.flush();
        let _ = now;
        Ok(n)
    }

    /// Ends the response body (all of a `Content-Length` must have been sent).
    pub fn finish_body(&mut self, now: Instant) -> Result<(), HttpError> {
        self.check()?;
        match self.writing {
            Writing::Body(Some(left)) if left > 0 && left != u64::MAX => {
                return Err(HttpError::Usage(
                    "the body is shorter than its Content-Length",
                ));
            }
            Writing::Body(Some(u64::MAX)) => self.keep_alive = false,
            Writing::Body(_) => {}
            _ => return Err(HttpError::Usage("no response body is open")),
        }
        if self.chunked {
            self.stage.extend_from_slice(LAST_CHUNK);
        }
        self.writing = Writing::Finished;
        self.flush();
        self.after_response(now);
        Ok(())
    }

    /// The TLS handshake, once done (`None` on a clear-text link).
    pub fn handshake(&self) -> Option<&redy_tls::HandshakeInfo> {
        self.link.handshake()
    }

    /// The peer's certificates (mutual TLS), leaf first.
    pub fn peer_certificates(&self) -> Vec<redy_tls::redy_certs::Certificate> {
        match &self.link {
            Link::Tls(tls) => tls.peer_certificates(),
            Link::Plain(_) => Vec::new(),
        }
    }

    /// The error that ended the connection, if one did.
    pub fn error(&self) -> Option<&HttpError> {
        self.error.as_ref()
    }

    /// True once everything was sent and the connection can be dropped.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn check(&self) -> Result<(), HttpError> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Moves staged response bytes into the link.
    fn flush(&mut self) {
        if self.stage.is_empty() || !self.link.is_established() {
            return;
        }
        match self.link.send(&self.stage) {
            Ok(n) => drop(self.stage.drain(..n)),
            Err(e) => {
                // The link failed: what is staged cannot go, and the caller hears why.
                self.stage.clear();
                if self.error.is_none() {
                    let error = HttpError::from(e);
                    self.events.push_back(ServerEvent::Failed(error.clone()));
                    self.error = Some(error);
                }
            }
        }
    }

    /// Reads what the link holds, as far as the state allows.
    fn process(&mut self, now: Instant) {
        if let Some(end) = self.link.end() {
            self.peer_end.get_or_insert(end);
        }
        loop {
            let progressed = match self.reading {
                Reading::Idle | Reading::Head => self.read_head(now),
                Reading::Body(_) => self.read_body(now),
                Reading::Done | Reading::Stopped => false,
            };
            if self.error.is_some() || !progressed {
                break;
            }
        }
        if self.error.is_none() {
            self.check_end(now);
        }
    }

    fn read_head(&mut self, now: Instant) -> bool {
        let limits = self.limits;
        let available = match self.link.plaintext() {
            Ok(p) => p,
            Err(e) => {
                self.fail(e.into(), now);
                return false;
            }
        };
        if available.is_empty() {
            return false;
        }
        let mut skip = 0;
        if matches!(self.reading, Reading::Idle) {
            // Empty lines before a request are ignored (RFC 9112 2.2).
            while available[skip..].starts_with(b"\r\n") {
                skip += 2;
            }
        }
        let before = self.head.len();
        let room = limits.head.saturating_sub(before);
        let take = (available.len() - skip).min(room.max(1));
        self.head.extend_from_slice(&available[skip..skip + take]);
        if matches!(self.reading, Reading::Idle) && !self.head.is_empty() {
            self.reading = Reading::Head;
            self.deadline = Some((now + self.timeouts.head, "a request head"));
        }
        match head::frame(&self.head, limits.head) {
            Err(e) => {
                self.fail(e, now);
                false
            }
            Ok(None) => {
                self.link.consume(skip + take);
                skip + take > 0
            }
            Ok(Some(n)) => {
                self.link.consume(skip + n - before);
                let bytes = std::mem::take(&mut self.head);
                match head::parse_request(&bytes[..n], &limits) {
                    Ok(request) => self.on_request(request, now),
                    Err(e) => drop(self.fail(e, now)),
                }
                self.error.is_none()
            }
        }
    }

    fn on_request(&mut self, request: RequestHead, now: Instant) {
        let length = match head::request_body(&request) {
            Ok(length) => length,
            Err(e) => return drop(self.fail(e, now)),
        };
        if let BodyLength::Known(n) = length
            && n > self.limits.body
        {
            return drop(self.fail(
                HttpError::BodyTooLarge {
                    limit: self.limits.body,
                },
                now,
            ));
        }
        self.keep_alive = head::keep_alive(request.minor_version, &request.headers);
        self.method = request.method.clone();
        self.writing = Writing::Due;
        self.body_ended = false;
        let has_body = matches!(length, BodyLength::Known(_) | BodyLength::Chunked);
        self.continue_due = has_body
            && request.minor_version == 1
            && request.headers.has_token("expect", "100-continue");
        self.events.push_back(ServerEvent::Request(request));
        self.reading = match length {
            BodyLength::Known(n) => Reading::Body(BodyReader::Known(n)),
            BodyLength::Chunked => {
                Reading::Body(BodyReader::Chunked(ChunkedDecoder::new(self.limits)))
            }
            _ => {
                self.events.push_back(ServerEvent::BodyEnd);
                self.body_ended = true;
                Reading::Done
            }
        };
        self.deadline = match self.reading {
            Reading::Body(_) => Some((now + self.timeouts.body, "the request body")),
            _ => None,
        };
    }

    fn read_body(&mut self, now: Instant) -> bool {
        let room = self.limits.body_buffer.saturating_sub(self.body.len());
        if room == 0 {
            return false;
        }
        let available = match self.link.plaintext() {
            Ok(p) => p,
            Err(e) => {
                self.fail(e.into(), now);
                return false;
            }
        };
        let input = &available[..available.len().min(room)];
        let Reading::Body(reader) = &mut self.reading else {
            return false;
        };
        let had = self.body.len();
        let (used, complete) = match reader {
            BodyReader::Known(left) => {
                let n = input
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                self.body.extend_from_slice(&input[..n]);
                *left -= n as u64;
                (n, *left == 0)
            }
            BodyReader::Chunked(decoder) => match decoder.decode(input) {
                Ok((n, Piece::Data(data))) => {
                    self.body.extend_from_slice(data);
                    (n, false)
                }
                Ok((n, Piece::End)) => (n, true),
                Ok((n, Piece::NeedMore)) => (n, false),
                Err(e) => {
                    self.fail(e, now);
                    return false;
                }
            },
        };
        self.link.consume(used);
        if self.body.len() > had {
            self.events.push_back(ServerEvent::Body);
            self.deadline = Some((now + self.timeouts.body, "the request body"));
        }
        if complete {
            self.reading = Reading::Done;
            self.body_ended = true;
            self.deadline = None;
            self.events.push_back(ServerEvent::BodyEnd);
            self.after_response(now);
        }
        used > 0 || complete
    }

    /// The peer's end of stream: fine between requests, a truncation inside one.
    fn check_end(&mut self, now: Instant) {
        let Some(end) = self.peer_end else {
            return;
        };
        let pending = self
            .link
            .plaintext()
            .map(|p| !p.is_empty())
            .unwrap_or(false);
        match self.reading {
            Reading::Idle if !pending => self.close(),
            Reading::Head => drop(self.fail(HttpError::Truncated("a request head"), now)),
            Reading::Body(_) if !pending => {
                drop(self.fail(HttpError::Truncated("a request body"), now))
            }
            // The response may still go out; then the connection closes.
            Reading::Done => self.keep_alive = false,
            _ => {}
        }
        let _ = end;
    }

    /// After the response was staged: the next request, or the end of the connection.
    fn after_response(&mut self, now: Instant) {
        if self.writing != Writing::Finished || !matches!(self.reading, Reading::Done) {
            return;
        }
        self.events.push_back(ServerEvent::ResponseDone);
        self.writing = Writing::Nothing;
        if !self.keep_alive || self.peer_end.is_some() {
            self.reading = Reading::Stopped;
            self.close();
            return;
        }
        self.reading = Reading::Idle;
        self.deadline = Some((now + self.timeouts.idle, "a request"));
        self.process(now);
    }

    fn send_continue(&mut self) {
        if std::mem::take(&mut self.continue_due) {
            let mut line = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
            line.append(&mut self.stage);
            self.stage = line;
            self.flush();
        }
    }

    /// Ends the connection after what is staged: close_notify, then [`ServerEvent::Closed`].
    fn close(&mut self) {
        if self.closing {
            return;
        }
        self.flush();
        self.closing = true;
        self.deadline = None;
        self.link.close();
        if self.link.is_flushed() && self.stage.is_empty() {
            self.closed = true;
            self.events.push_back(ServerEvent::Closed);
        }
    }

    /// Fails the connection for `error`: a refusal when no response started, then close.
    fn fail(&mut self, error: HttpError, now: Instant) -> HttpError {
        if self.error.is_some() {
            return error;
        }
        if let Some(status) = error.status()
            && matches!(self.writing, Writing::Nothing | Writing::Due)
        {
            let text = format!("{error}\n");
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                head::reason(status),
                text.len()
            );
            self.stage.extend_from_slice(head.as_bytes());
            self.stage.extend_from_slice(text.as_bytes());
        }
        self.reading = Reading::Stopped;
        self.events.push_back(ServerEvent::Failed(error.clone()));
        self.close();
        self.error = Some(error.clone());
        let _ = now;
        error
    }
}
