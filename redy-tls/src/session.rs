//! [`TlsSession`]: one TLS connection as a Sans-IO state machine.

use std::collections::VecDeque;
use std::io::{BufRead, Read, Write};

use redy_certs::Certificate;
use rustls::pki_types::ServerName;
use rustls::{HandshakeKind, ProtocolVersion};

use crate::{ClientConfig, Error, ServerConfig, TlsVersion};

/// Most ciphertext a session holds for sending before [`TlsSession::send`] takes no more
/// plaintext; rustls holds at most as much again inside.
pub const SEND_BUFFER_LIMIT: usize = 64 * 1024;

/// TLS record types that may begin what a peer sends after an upgrade: handshake, alert.
const HANDSHAKE_RECORD: u8 = 0x16;
const ALERT_RECORD: u8 = 0x15;

/// Something the session reports; see [`TlsSession::poll_event`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed and the peer was judged acceptable.
    HandshakeComplete(HandshakeInfo),
    /// The peer sent close_notify: everything it sent has arrived, nothing was cut off.
    PeerClosed,
    /// The transport ended without close_notify: what arrived may be cut short. Whether that
    /// is acceptable (an SMTP server after `221`) or a truncation (a download) is the
    /// protocol's call.
    Truncated,
}

/// What the handshake settled on.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeInfo {
    /// The protocol version.
    pub version: TlsVersion,
    /// The cipher suite, e.g. `TLS13_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    /// True when a previous session was resumed (no full handshake).
    pub resumed: bool,
    /// The ALPN protocol agreed on, if any.
    pub alpn: Option<Vec<u8>>,
}

/// One TLS connection, client or server, with no I/O of its own.
///
/// The caller moves bytes: what arrives from the transport goes into [`receive`](Self::receive)
/// (or [`receive_eof`](Self::receive_eof)), what [`transmit`](Self::transmit) shows goes out
/// (then [`advance`](Self::advance)); plaintext comes out of [`plaintext`](Self::plaintext) /
/// [`consume`](Self::consume) and goes in through [`send`](Self::send).
///
/// Errors are fatal and sticky: the first one is returned by every later call, while the alert
/// telling the peer why stays available from `transmit`.
pub struct TlsSession {
    conn: rustls::Connection,
    out: Vec<u8>,
    out_pos: usize,
    events: VecDeque<Event>,
    error: Option<Error>,
    handshake: Option<HandshakeInfo>,
    require_resumption: bool,
    expect_record: bool,
    close_notify_received: bool,
    eof: bool,
    closing: bool,
}

impl TlsSession {
    /// A client session towards `server_name` (a DNS name or an IP address), checked against
    /// the configuration's trust policy.
    pub fn client(config: &ClientConfig, server_name: &str) -> Result<Self, Error> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| Error::InvalidServerName(server_name.to_owned()))?;
        let conn =
            rustls::ClientConnection::new(config.inner.clone(), name).map_err(Error::from)?;
        Ok(Self::new(conn.into()))
    }

    /// A server session.
    pub fn server(config: &ServerConfig) -> Result<Self, Error> {
        let conn = rustls::ServerConnection::new(config.inner.clone()).map_err(Error::from)?;
        Ok(Self::new(conn.into()))
    }

    /// A client session started by a plain-text upgrade (STARTTLS, AUTH TLS).
    ///
    /// `leftover` is whatever the plain-text protocol had received but not used when the
    /// upgrade reply arrived: anything there is [`Error::BytesBeforeHandshake`]. The first byte
    /// the peer sends must then begin a TLS record, or the same error is returned.
    pub fn client_upgrade(
        config: &ClientConfig,
        server_name: &str,
        leftover: &[u8],
    ) -> Result<Self, Error> {
        refuse_leftover(leftover)?;
        let mut session = Self::client(config, server_name)?;
        session.expect_record = true;
        Ok(session)
    }

    /// A server session started by a plain-text upgrade; see [`client_upgrade`](Self::client_upgrade).
    pub fn server_upgrade(config: &ServerConfig, leftover: &[u8]) -> Result<Self, Error> {
        refuse_leftover(leftover)?;
        let mut session = Self::server(config)?;
        session.expect_record = true;
        Ok(session)
    }

    /// Requires this server session to resume a session of its configuration's scope: a full
    /// handshake ends it with [`Error::ResumptionRequired`] (and close_notify to the peer).
    pub fn require_resumption(mut self) -> Self {
        self.require_resumption = true;
        self
    }

    fn new(mut conn: rustls::Connection) -> Self {
        conn.set_buffer_limit(Some(SEND_BUFFER_LIMIT));
        Self {
            conn,
            out: Vec::new(),
            out_pos: 0,
            events: VecDeque::new(),
            error: None,
            handshake: None,
            require_resumption: false,
            expect_record: false,
            close_notify_received: false,
            eof: false,
            closing: false,
        }
    }

    /// Feeds bytes received from the transport and returns how many were taken.
    ///
    /// Fewer than offered means the received-plaintext buffer is full: read it out with
    /// [`plaintext`](Self::plaintext) and [`consume`](Self::consume), then offer the rest.
    /// Bytes after the peer's close_notify are taken and dropped.
    pub fn receive(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.check()?;
        if self.expect_record {
            match data.first() {
                None => return Ok(0),
                Some(&HANDSHAKE_RECORD | &ALERT_RECORD) => self.expect_record = false,
                Some(_) => return Err(self.fail(Error::BytesBeforeHandshake(data.len()))),
            }
        }
        let mut rest = data;
        while !rest.is_empty() && !self.close_notify_received {
            match self.conn.read_tls(&mut rest) {
                Ok(0) | Err(_) => break,
                Ok(_) => self.process()?,
            }
        }
        match self.close_notify_received {
            true => Ok(data.len()),
            false => Ok(data.len() - rest.len()),
        }
    }

    /// Reports that the transport ended (TCP EOF).
    ///
    /// During the handshake this is [`Error::HandshakeEof`]; afterwards, without a prior
    /// close_notify, it raises [`Event::Truncated`].
    pub fn receive_eof(&mut self) -> Result<(), Error> {
        self.check()?;
        if std::mem::replace(&mut self.eof, true) {
            return Ok(());
        }
        let _ = self.conn.read_tls(&mut &[][..]);
        if self.handshake.is_none() {
            return Err(self.fail(Error::HandshakeEof));
        }
        if !self.close_notify_received {
            self.events.push_back(Event::Truncated);
        }
        Ok(())
    }

    /// Bytes waiting to go to the transport; call [`advance`](Self::advance) with how many
    /// were written. Available after an error too: it then carries the alert.
    pub fn transmit(&mut self) -> &[u8] {
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.out).is_err() {
                break;
            }
        }
        &self.out[self.out_pos..]
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as written.
    pub fn advance(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
    }

    /// True when nothing waits to be written: after [`close`](Self::close), the close_notify
    /// has been handed to the transport.
    pub fn is_flushed(&self) -> bool {
        self.out_pos == self.out.len() && !self.conn.wants_write()
    }

    /// Received plaintext, without copying, one TLS record at a time: the oldest record's
    /// unread bytes, and the next record's once those are consumed. A message split over
    /// several records (an HTTP head written in pieces) must be gathered by the caller;
    /// [`read`](Self::read) copies across records. Empty when nothing is waiting.
    pub fn plaintext(&mut self) -> Result<&[u8], Error> {
        self.check()?;
        Ok(self.conn.reader().into_first_chunk().unwrap_or_default())
    }

    /// Marks `n` bytes of [`plaintext`](Self::plaintext) as used (at most what it showed).
    pub fn consume(&mut self, n: usize) {
        let available = self
            .conn
            .reader()
            .into_first_chunk()
            .map(<[u8]>::len)
            .unwrap_or(0);
        self.conn.reader().consume(n.min(available));
    }

    /// Copies received plaintext into `buf`; 0 when nothing is waiting.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        Ok(self.conn.reader().read(buf).unwrap_or(0))
    }

    /// Queues plaintext for the peer and returns how much was taken: fewer bytes than offered
    /// (possibly none) when [`SEND_BUFFER_LIMIT`] is reached, until `transmit` is drained.
    /// Plaintext sent during the handshake leaves once it completes.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.check()?;
        if self.closing {
            return Err(Error::SendAfterClose);
        }
        if self.out.len() - self.out_pos >= SEND_BUFFER_LIMIT {
            return Ok(0);
        }
        self.conn
            .writer()
            .write(data)
            .map_err(|e| self.fail(Error::Other(e.to_string())))
    }

    /// Queues all of `data`, for bounded messages sent one at a time (commands, heads): fails
    /// with [`Error::SendBufferFull`], which is sticky like every error, when
    /// [`SEND_BUFFER_LIMIT`] bytes still wait in [`transmit`](Self::transmit).
    pub fn send_all(&mut self, data: &[u8]) -> Result<(), Error> {
        let mut rest = data;
        while !rest.is_empty() {
            match self.send(rest)? {
                0 => {
                    let unsent = self.out.len() - self.out_pos;
                    return Err(self.fail(Error::SendBufferFull(unsent)));
                }
                n => rest = &rest[n..],
            }
        }
        Ok(())
    }

    /// Queues close_notify after any plaintext already sent; nothing can be sent after it.
    /// During the handshake it waits until the handshake completes and the plaintext sent
    /// meanwhile has left (rustls alone would send it first, before the handshake ends).
    pub fn close(&mut self) {
        if !std::mem::replace(&mut self.closing, true) && self.handshake.is_some() {
            self.conn.send_close_notify();
        }
    }

    /// The next event, if any. At most three are ever queued.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// What the handshake settled on, once it completed.
    pub fn handshake(&self) -> Option<&HandshakeInfo> {
        self.handshake.as_ref()
    }

    /// True until the handshake completed.
    pub fn is_handshaking(&self) -> bool {
        self.handshake.is_none()
    }

    /// The peer's certificate chain, end entity first, once the handshake completed.
    pub fn peer_certificates(&self) -> Vec<Certificate> {
        self.conn
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .filter_map(|c| Certificate::from_der(c.as_ref()).ok())
            .collect()
    }

    /// The error that ended the session, if one did.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// True for a client session.
    pub fn is_client(&self) -> bool {
        matches!(self.conn, rustls::Connection::Client(_))
    }

    fn process(&mut self) -> Result<(), Error> {
        let state = match self.conn.process_new_packets() {
            Ok(state) => state,
            Err(e) => return Err(self.fail(e.into())),
        };
        if self.handshake.is_none() && !self.conn.is_handshaking() {
            let info = self.handshake_info();
            if self.require_resumption && !info.resumed {
                self.conn.send_close_notify();
                return Err(self.fail(Error::ResumptionRequired));
            }
            self.handshake = Some(info.clone());
            self.events.push_back(Event::HandshakeComplete(info));
            if self.closing {
                self.conn.send_close_notify();
            }
        }
        if state.peer_has_closed() && !self.close_notify_received {
            self.close_notify_received = true;
            self.events.push_back(Event::PeerClosed);
        }
        Ok(())
    }

    fn handshake_info(&self) -> HandshakeInfo {
        HandshakeInfo {
            version: match self.conn.protocol_version() {
                Some(ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
                _ => TlsVersion::Tls13,
            },
            cipher_suite: self
                .conn
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .unwrap_or("unknown")
                .to_owned(),
            resumed: self.conn.handshake_kind() == Some(HandshakeKind::Resumed),
            alpn: self.conn.alpn_protocol().map(<[u8]>::to_vec),
        }
    }

    fn check(&self) -> Result<(), Error> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        self.error.get_or_insert(e).clone()
    }
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("client", &self.is_client())
            .field("handshake", &self.handshake)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

fn refuse_leftover(leftover: &[u8]) -> Result<(), Error> {
    match leftover.len() {
        0 => Ok(()),
        n => Err(Error::BytesBeforeHandshake(n)),
    }
}
