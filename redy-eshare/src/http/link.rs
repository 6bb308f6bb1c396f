//! One connection's byte layer under the HTTP machines: TLS, or clear text under an insecure
//! opt-in.

use redy_tls::{Event as TlsEvent, HandshakeInfo, PlainStream, TlsSession};

/// Most received plaintext a link holds before [`Link::receive`] takes no more.
pub use redy_tls::PLAIN_RECEIVE_LIMIT;

/// How a connection's incoming stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// TLS close_notify, or the end of a clear-text stream.
    Clean,
    /// TCP EOF without close_notify.
    Truncated,
}

/// What a link reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Handshake done.
    Handshake(HandshakeInfo),
    /// Input ended.
    Ended(End),
}

/// The byte layer of one connection.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // almost every link is TLS: boxing it would only add a hop
pub enum Link {
    /// TLS. The session hands out its plaintext a record at a time; the inbox gathers it, so
    /// that a head split over several records is seen whole.
    Tls(TlsSession, Inbox),
    /// Clear text (insecure opt-in).
    Plain(PlainStream),
}

/// Received plaintext not yet consumed, contiguous, at most [`PLAIN_RECEIVE_LIMIT`] bytes.
#[derive(Debug, Default)]
pub struct Inbox {
    buf: Vec<u8>,
    pos: usize,
}

impl Inbox {
    fn unread(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn room(&self) -> usize {
        PLAIN_RECEIVE_LIMIT.saturating_sub(self.unread().len())
    }

    /// Appends up to [`room`](Self::room) bytes of `data`; returns how many.
    fn push(&mut self, data: &[u8]) -> usize {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let n = data.len().min(self.room());
        self.buf.extend_from_slice(&data[..n]);
        n
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }
}

impl Link {
    /// Clear text, **insecure**: for tests and fuzzing only; nothing is encrypted or
    /// authenticated.
    pub fn insecure_plain() -> Self {
        Self::Plain(PlainStream::new())
    }

    /// A link on a TLS session (client or server).
    pub fn tls(session: TlsSession) -> Self {
        Self::Tls(session, Inbox::default())
    }

    /// Takes received bytes; fewer than offered when the received plaintext is full.
    pub fn receive(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => tls.receive(data),
            Self::Plain(p) => Ok(p.receive(data)),
        }
    }

    /// See [`TlsSession::receive_eof`].
    pub fn receive_eof(&mut self) -> Result<(), redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => tls.receive_eof(),
            Self::Plain(p) => {
                p.receive_eof();
                Ok(())
            }
        }
    }

    /// All received plaintext not yet consumed, in one slice (over TLS, gathered from the
    /// session's records up to [`PLAIN_RECEIVE_LIMIT`]).
    pub fn plaintext(&mut self) -> Result<&[u8], redy_tls::Error> {
        match self {
            Self::Tls(tls, inbox) => {
                while inbox.room() > 0 {
                    let record = tls.plaintext()?;
                    if record.is_empty() {
                        break;
                    }
                    let n = inbox.push(record);
                    tls.consume(n);
                }
                Ok(inbox.unread())
            }
            Self::Plain(p) => Ok(p.plaintext()),
        }
    }

    /// Marks `n` bytes of [`plaintext`](Self::plaintext) as used.
    pub fn consume(&mut self, n: usize) {
        match self {
            Self::Tls(_, inbox) => inbox.consume(n),
            Self::Plain(p) => p.consume(n),
        }
    }

    /// Queues plaintext; returns how much was taken (0 when the send buffer is full).
    pub fn send(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => tls.send(data),
            Self::Plain(p) => p.send(data),
        }
    }

    /// Queues all of `data`: for heads and other bounded pieces (see
    /// [`TlsSession::send_all`]).
    pub fn send_all(&mut self, data: &[u8]) -> Result<(), redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => tls.send_all(data),
            Self::Plain(p) => p.send_all(data),
        }
    }

    /// See [`TlsSession::transmit`].
    pub fn transmit(&mut self) -> &[u8] {
        match self {
            Self::Tls(tls, _) => tls.transmit(),
            Self::Plain(p) => p.transmit(),
        }
    }

    /// See [`TlsSession::advance`].
    pub fn advance(&mut self, n: usize) {
        match self {
            Self::Tls(tls, _) => tls.advance(n),
            Self::Plain(p) => p.advance(n),
        }
    }

    /// Queues the end of what we send (close_notify with TLS).
    pub fn close(&mut self) {
        match self {
            Self::Tls(tls, _) => tls.close(),
            Self::Plain(p) => p.close(),
        }
    }

    /// True when nothing waits to be written.
    pub fn is_flushed(&self) -> bool {
        match self {
            Self::Tls(tls, _) => tls.is_flushed(),
            Self::Plain(p) => p.is_flushed(),
        }
    }

    /// The peer's certificates, end entity first, once the handshake is done (none without
    /// TLS, or when the peer sent none).
    pub fn peer_certificates(&self) -> Vec<redy_certs::Certificate> {
        match self {
            Self::Tls(tls, _) => tls.peer_certificates(),
            Self::Plain(_) => Vec::new(),
        }
    }

    /// True once the handshake completed (always, without TLS).
    pub fn is_established(&self) -> bool {
        match self {
            Self::Tls(tls, _) => !tls.is_handshaking(),
            Self::Plain(_) => true,
        }
    }

    /// See [`TlsSession::poll_event`].
    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        match self {
            Self::Tls(tls, _) => match tls.poll_event()? {
                TlsEvent::HandshakeComplete(info) => Some(LinkEvent::Handshake(info)),
                TlsEvent::PeerClosed => Some(LinkEvent::Ended(End::Clean)),
                TlsEvent::Truncated => Some(LinkEvent::Ended(End::Truncated)),
                _ => None,
            },
            Self::Plain(p) => p.poll_end().then_some(LinkEvent::Ended(End::Clean)),
        }
    }
}
