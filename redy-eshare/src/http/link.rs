//! One connection's byte layer: TLS, or clear text under an insecure opt-in (and on the
//! HTTP machine.

use redy_tls::{Event as TlsEvent, HandshakeInfo, SEND_BUFFER_LIMIT, TlsSession};

/// Most received plaintext a link holds before [`Link::receive`] takes no more.
pub const PLAIN_RECEIVE_LIMIT: usize = 64 * 1024;

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
    Plain(Plain),
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

/// The clear-text byte layer.
#[derive(Debug, Default)]
pub struct Plain {
    inbox: Inbox,
    out: Vec<u8>,
    out_pos: usize,
    ended: bool,
    reported_end: bool,
    closing: bool,
}

impl Link {
    /// Clear text, **insecure**: for tests and fuzzing only; nothing is encrypted or
    /// authenticated.
    pub fn insecure_plain() -> Self {
        Self::Plain(Plain::default())
    }

    /// A link on a TLS session (client or server).
    pub fn tls(session: TlsSession) -> Self {
        Self::Tls(session, Inbox::default())
    }

    /// Takes received bytes; fewer than offered when the received plaintext is full.
    pub fn receive(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => tls.receive(data),
            Self::Plain(p) => Ok(p.inbox.push(data)),
        }
    }

    /// See [`TlsSession::receive_eof`].
    pub fn receive_eof(&mut self) -> Result<(), redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => tls.receive_eof(),
            Self::Plain(p) => {
                p.ended = true;
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
            Self::Plain(p) => Ok(p.inbox.unread()),
        }
    }

    /// Marks `n` bytes of [`plaintext`](Self::plaintext) as used.
    pub fn consume(&mut self, n: usize) {
        match self {
            Self::Tls(_, inbox) => inbox.consume(n),
            Self::Plain(p) => p.inbox.consume(n),
        }
    }

    /// Queues plaintext; returns how much was taken (0 when the send buffer is full).
    pub fn send(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => tls.send(data),
            Self::Plain(p) => {
                if p.closing {
                    return Err(redy_tls::Error::SendAfterClose);
                }
                if p.out_pos == p.out.len() {
                    p.out.clear();
                    p.out_pos = 0;
                }
                let n = data
                    .len()
                    .min(SEND_BUFFER_LIMIT.saturating_sub(p.out.len()));
                p.out.extend_from_slice(&data[..n]);
                Ok(n)
            }
        }
    }

    /// Queues all of `data`, beyond the send limit if need be: for commands, which are
    /// bounded and sent one at a time.
    pub fn send_all(&mut self, data: &[u8]) -> Result<(), redy_tls::Error> {
        match self {
            Self::Tls(tls, _) => {
                let mut rest = data;
                while !rest.is_empty() {
                    match tls.send(rest)? {
                        // Only with SEND_BUFFER_LIMIT of ciphertext unsent: the caller stopped
                        // writing the control connection.
                        0 => return Err(redy_tls::Error::Other("control send buffer full".into())),
                        n => rest = &rest[n..],
                    }
                }
                Ok(())
            }
            Self::Plain(p) => {
                if p.closing {
                    return Err(redy_tls::Error::SendAfterClose);
                }
                p.out.extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// See [`TlsSession::transmit`].
    pub fn transmit(&mut self) -> &[u8] {
        match self {
            Self::Tls(tls, _) => tls.transmit(),
            Self::Plain(p) => &p.out[p.out_pos..],
        }
    }

    /// See [`TlsSession::advance`].
    pub fn advance(&mut self, n: usize) {
        match self {
            Self::Tls(tls, _) => tls.advance(n),
            Self::Plain(p) => p.out_pos = (p.out_pos + n).min(p.out.len()),
        }
    }

    /// Queues the end of what we send (close_notify with TLS).
    pub fn close(&mut self) {
        match self {
            Self::Tls(tls, _) => tls.close(),
            Self::Plain(p) => p.closing = true,
        }
    }

    /// True when nothing waits to be written.
    pub fn is_flushed(&self) -> bool {
        match self {
            Self::Tls(tls, _) => tls.is_flushed(),
            Self::Plain(p) => p.out_pos == p.out.len(),
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
            Self::Plain(p) if p.ended && !p.reported_end && p.inbox.unread().is_empty() => {
                p.reported_end = true;
                Some(LinkEvent::Ended(End::Clean))
            }
            Self::Plain(_) => None,
        }
    }
}
