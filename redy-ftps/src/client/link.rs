//! One connection's byte layer: TLS, or clear text under an insecure opt-in (and on the
//! control connection before `AUTH TLS`). Both look the same to the rest of the client.

use redy_tls::{Event as TlsEvent, HandshakeInfo, PlainStream, TlsSession};

/// A TLS record header: type, version, length.
const RECORD_HEADER: usize = 5;
/// The largest TLS record (2^14 bytes of plaintext plus the most expansion TLS allows).
const MAX_RECORD: usize = RECORD_HEADER + (1 << 14) + 2048;

/// How a connection's incoming stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// TLS close_notify, or the end of a clear-text stream.
    Clean,
    /// TCP EOF without close_notify.
    Truncated,
}

/// What a link reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkEvent {
    Handshake(HandshakeInfo),
    Ended(End),
}

#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // almost every link is TLS: boxing it would only add a hop
pub(crate) enum Link {
    Tls(TlsSession),
    Plain(PlainStream),
    /// After `CCC`: TLS ends (our close_notify, then the server's), clear text follows.
    Unwinding(Box<Unwinding>),
}

/// A control connection leaving TLS after `CCC`: record by record until the server's
/// close_notify, so that the clear text after it is not taken for TLS.
#[derive(Debug)]
pub(crate) struct Unwinding {
    tls: TlsSession,
    /// Received bytes not yet fed to TLS: at most one record and its successor's start.
    records: Vec<u8>,
    peer_closed: bool,
    plain: PlainStream,
}

impl Link {
    pub(crate) fn plain() -> Self {
        Self::Plain(PlainStream::new())
    }

    /// Leaves TLS after the server accepted `CCC`: queues our close_notify; clear text follows
    /// it both ways.
    pub(crate) fn unwind(&mut self) {
        if let Self::Tls(_) = self {
            let Self::Tls(mut tls) = std::mem::replace(self, Self::plain()) else {
                return;
            };
            tls.close();
            *self = Self::Unwinding(Box::new(Unwinding {
                tls,
                records: Vec::new(),
                peer_closed: false,
                plain: PlainStream::new(),
            }));
        }
    }

    /// After [`unwind`](Self::unwind): the server's close_notify arrived with its `CCC` reply.
    pub(crate) fn unwound_by_peer(&mut self) {
        if let Self::Unwinding(u) = self {
            u.peer_closed = true;
        }
    }

    /// Takes received bytes; fewer than offered when the received plaintext is full.
    pub(crate) fn receive(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.receive(data),
            Self::Plain(p) => Ok(p.receive(data)),
            Self::Unwinding(u) if u.peer_closed => Ok(u.plain.receive(data)),
            Self::Unwinding(u) => u.receive_records(data),
        }
    }

    pub(crate) fn receive_eof(&mut self) -> Result<(), redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.receive_eof(),
            Self::Plain(p) => {
                p.receive_eof();
                Ok(())
            }
            Self::Unwinding(u) => {
                u.plain.receive_eof();
                match u.peer_closed {
                    true => Ok(()),
                    false => u.tls.receive_eof(),
                }
            }
        }
    }

    pub(crate) fn plaintext(&mut self) -> Result<&[u8], redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.plaintext(),
            Self::Plain(p) => Ok(p.plaintext()),
            Self::Unwinding(u) => match u.tls.plaintext()?.is_empty() {
                false => u.tls.plaintext(),
                true => Ok(u.plain.plaintext()),
            },
        }
    }

    pub(crate) fn consume(&mut self, n: usize) {
        match self {
            Self::Tls(tls) => tls.consume(n),
            Self::Plain(p) => p.consume(n),
            Self::Unwinding(u) => match u.tls.plaintext().is_ok_and(|p| !p.is_empty()) {
                true => u.tls.consume(n),
                false => u.plain.consume(n),
            },
        }
    }

    /// Queues plaintext; returns how much was taken (0 when the send buffer is full).
    pub(crate) fn send(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.send(data),
            Self::Plain(p) => p.send(data),
            Self::Unwinding(u) => u.plain.send(data),
        }
    }

    /// Queues all of `data`: for commands, which are bounded and sent one at a time (see
    /// [`TlsSession::send_all`]).
    pub(crate) fn send_all(&mut self, data: &[u8]) -> Result<(), redy_tls::Error> {
        match self {
            Self::Tls(tls) => tls.send_all(data),
            Self::Plain(p) => p.send_all(data),
            Self::Unwinding(u) => u.plain.send_all(data),
        }
    }

    /// Bytes to write: after `CCC`, the last TLS bytes (our close_notify) before clear text.
    pub(crate) fn transmit(&mut self) -> &[u8] {
        match self {
            Self::Tls(tls) => tls.transmit(),
            Self::Plain(p) => p.transmit(),
            Self::Unwinding(u) => match u.tls.is_flushed() {
                false => u.tls.transmit(),
                true => u.plain.transmit(),
            },
        }
    }

    pub(crate) fn advance(&mut self, n: usize) {
        match self {
            Self::Tls(tls) => tls.advance(n),
            Self::Plain(p) => p.advance(n),
            Self::Unwinding(u) => match u.tls.is_flushed() {
                false => u.tls.advance(n),
                true => u.plain.advance(n),
            },
        }
    }

    /// Queues the end of what we send (close_notify with TLS).
    pub(crate) fn close(&mut self) {
        match self {
            Self::Tls(tls) => tls.close(),
            Self::Plain(p) => p.close(),
            Self::Unwinding(u) => u.plain.close(),
        }
    }

    /// True when nothing waits to be written.
    pub(crate) fn is_flushed(&self) -> bool {
        match self {
            Self::Tls(tls) => tls.is_flushed(),
            Self::Plain(p) => p.is_flushed(),
            Self::Unwinding(u) => u.tls.is_flushed() && u.plain.is_flushed(),
        }
    }

    /// True once the handshake completed (always, without TLS).
    pub(crate) fn is_established(&self) -> bool {
        match self {
            Self::Tls(tls) => !tls.is_handshaking(),
            Self::Plain(_) | Self::Unwinding(_) => true,
        }
    }

    pub(crate) fn poll_event(&mut self) -> Option<LinkEvent> {
        match self {
            Self::Tls(tls) => match tls.poll_event()? {
                TlsEvent::HandshakeComplete(info) => Some(LinkEvent::Handshake(info)),
                TlsEvent::PeerClosed => Some(LinkEvent::Ended(End::Clean)),
                TlsEvent::Truncated => Some(LinkEvent::Ended(End::Truncated)),
                _ => None,
            },
            Self::Plain(p) => p.poll_end().then_some(LinkEvent::Ended(End::Clean)),
            Self::Unwinding(u) => {
                while let Some(event) = u.tls.poll_event() {
                    match event {
                        // The end of TLS that `CCC` asked for, not of the connection.
                        TlsEvent::PeerClosed => u.peer_closed = true,
                        TlsEvent::Truncated => return Some(LinkEvent::Ended(End::Truncated)),
                        _ => {}
                    }
                }
                u.plain.poll_end().then_some(LinkEvent::Ended(End::Clean))
            }
        }
    }

    /// Bytes received but not yet consumed, for `AUTH TLS`: they arrived before the handshake.
    pub(crate) fn unread(&self) -> usize {
        match self {
            Self::Tls(_) | Self::Unwinding(_) => 0,
            Self::Plain(p) => p.plaintext().len(),
        }
    }
}

impl Unwinding {
    /// Feeds TLS whole records until the server's close_notify; what follows is clear text.
    fn receive_records(&mut self, data: &[u8]) -> Result<usize, redy_tls::Error> {
        let n = data.len().min(2 * MAX_RECORD - self.records.len());
        self.records.extend_from_slice(&data[..n]);
        while !self.peer_closed {
            let Some(header) = self.records.get(..RECORD_HEADER) else {
                break;
            };
            let end = RECORD_HEADER + (usize::from(header[3]) << 8 | usize::from(header[4]));
            if end > MAX_RECORD {
                return Err(redy_tls::Error::Other(
                    "a TLS record longer than TLS allows after CCC".into(),
                ));
            }
            if self.records.len() < end {
                break;
            }
            let record: Vec<u8> = self.records.drain(..end).collect();
            self.tls.receive(&record)?;
            while let Some(event) = self.tls.poll_event() {
                if event == TlsEvent::PeerClosed {
                    self.peer_closed = true;
                }
            }
        }
        if self.peer_closed {
            let rest = std::mem::take(&mut self.records);
            let taken = self.plain.receive(&rest);
            if taken < rest.len() {
                return Err(redy_tls::Error::Other(
                    "clear text after CCC overflows the receive buffer".into(),
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use redy_tls::redy_certs::{DeviceCa, TrustPolicy};
    use redy_tls::{ClientConfig, ServerConfig};

    use super::*;

    /// A client link and a server session, handshake done, as after a `CCC` reply.
    fn unwinding_pair() -> (Link, TlsSession) {
        let now = SystemTime::now();
        let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
        let id = ca
            .issue_server_certificate(&["ftp.test".parse().unwrap()], now)
            .unwrap();
        let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
        let client = ClientConfig::builder(trust).build().unwrap();
        let mut link = Link::Tls(TlsSession::client(&client, "ftp.test").unwrap());
        let mut server = TlsSession::server(&ServerConfig::builder(id).build().unwrap()).unwrap();
        for _ in 0..10 {
            let out = link.transmit().to_vec();
            link.advance(out.len());
            server.receive(&out).unwrap();
            let back = server.transmit().to_vec();
            server.advance(back.len());
            link.receive(&back).unwrap();
        }
        assert!(link.is_established() && !server.is_handshaking());
        while link.poll_event().is_some() {}
        link.unwind();
        (link, server)
    }

    /// The server's close_notify and the clear text after it, cut anywhere.
    #[test]
    fn clear_text_after_the_servers_close_notify_is_not_taken_for_tls() {
        for cut in 1..40 {
            let (mut link, mut server) = unwinding_pair();
            server.close();
            let mut wire = server.transmit().to_vec();
            wire.extend_from_slice(b"250 in clear\r\n");
            // Our close_notify goes first, then the clear command.
            link.send_all(b"PWD\r\n").unwrap();
            let tls_out = link.transmit().to_vec();
            // The close_notify record (an encrypted alert: type 23 with TLS 1.3).
            assert!(matches!(tls_out[..3], [21 | 23, 3, 3]), "{tls_out:?}");
            link.advance(tls_out.len());
            assert_eq!(link.transmit(), b"PWD\r\n");
            let cut = cut.min(wire.len() - 1);
            for piece in [&wire[..cut], &wire[cut..]] {
                assert_eq!(link.receive(piece).unwrap(), piece.len());
            }
            assert_eq!(link.poll_event(), None, "TLS ended; the connection did not");
            assert_eq!(
                link.plaintext().unwrap(),
                b"250 in clear\r\n",
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_oversized_record_after_ccc_is_an_error() {
        let (mut link, _) = unwinding_pair();
        assert!(link.receive(&[23, 3, 3, 0xff, 0xff, 0]).is_err());
    }
}
