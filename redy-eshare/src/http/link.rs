//! A connection's byte layer: a `redy-tls` session, or clear text under an opt-in whose name
//! says it is insecure (tests, fuzzing, and the port-80 redirect listener).

use redy_tls::{Event as TlsEvent, HandshakeInfo, SEND_BUFFER_LIMIT, TlsSession};

/// Received clear text held at most before [`Link::receive`] takes no more.
const PLAIN_RECEIVE_LIMIT: usize = 64 * 1024;

/// What carries an HTTP connection.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // almost every link is TLS: boxing it would only add a hop
pub enum Link {
    /// HTTPS.
    Tls(TlsSession),
    /// Clear text: see [`Link::insecure_plain`].
    Plain(Plain),
}

/// Clear-text buffers.
#[derive(Debug, Default)]
pub struct Plain {
    inbox: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    ended: bool,
    closing: bool,
}

/// How a link's incoming stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// TLS close_notify (or the end of a clear-text stream).
    Clean,
    /// TCP EOF without close_notify.
    Truncated,
}

impl Link {
    /// **Clear-text HTTP, without TLS**: anyone on the path reads and alters everything. For
    /// tests, fuzzing, and a listener that only redirects to HTTPS.
    pub fn insecure_plain() -> Self {
        Self::Plain(Plain::default())
    }

    pub(super) fn receive(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.receive(data),
            Self::Plain(p) => {
                let n = data
                    .len()
                    .min(PLAIN_RECEIVE_LIMIT.saturating_sub(p.inbox.len()));
                p.inbox.extend_from_slice(&data[..n]);
                Ok(n)
            }
        }
    }

    pub(super) fn receive_eof(&mut self) -> Result<(), redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.receive_eof(),
            Self::Plain(p) => {
                p.ended = true;
                Ok(())
            }
        }
    }

    pub(super) fn plaintext(&mut self) -> Result<&[u8], redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.plaintext(),
            Self::Plain(p) => Ok(&p.inbox),
        }
    }

    pub(super) fn consume(&mut self, n: usize) {
        match self {
            Self::Tls(tls) => tls.consume(n),
            Self::Plain(p) => drop(p.inbox.drain(..n.min(p.inbox.len()))),
        }
    }

    /// Queues bytes to send; how many were taken (fewer when the send buffer is full).
    pub(super) fn send(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.send(data),
            Self::Plain(p) if p.closing => Err(redy_tls::Error::SendAfterClose),
            Self::Plain(p) => {
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

    pub(super) fn transmit(&mut self) -> &[u8] {
        match self {
            Self::Tls(tls) => tls.transmit(),
            Self::Plain(p) => &p.out[p.out_pos..],
        }
    }

    pub(super) fn advance(&mut self, n: usize) {
        match self {
            Self::Tls(tls) => tls.advance(n),
            Self::Plain(p) => p.out_pos = (p.out_pos + n).min(p.out.len()),
        }
    }

    pub(super) fn close(&mut self) {
        match self {
            Self::Tls(tls) => tls.close(),
            Self::Plain(p) => p.closing = true,
        }
    }

    pub(super) fn is_flushed(&self) -> bool {
        match self {
            Self::Tls(tls) => tls.is_flushed(),
            Self::Plain(p) => p.out_pos == p.out.len(),
        }
    }

    pub(super) fn is_established(&self) -> bool {
        match self {
            Self::Tls(tls) => !tls.is_handshaking(),
            Self::Plain(_) => true,
        }
    }

    /// The handshake, once done (`None` without TLS).
    pub(super) fn handshake(&self) -> Option<&HandshakeInfo> {
        match self {
            Self::Tls(tls) => tls.handshake(),
            Self::Plain(_) => None,
        }
    }

    /// How the incoming stream ended, once it did and its bytes were all read.
    pub(super) fn end(&mut self) -> Option<End> {
        match self {
            Self::Tls(tls) => {
                let mut end = None;
                while let Some(event) = tls.poll_event() {
                    match event {
                        TlsEvent::PeerClosed => end = Some(End::Clean),
                        TlsEvent::Truncated => end = Some(End::Truncated),
                        _ => {}
                    }
                }
                end
            }
            Self::Plain(p) => (p.ended && p.inbox.is_empty()).then_some(End::Clean),
        }
    }
}
