//! The data connection: passive listeners and active connects, the peer check, TLS that must
//! resume the control session, and bytes both ways with bounded buffers.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use redy_tls::{Error as TlsError, Event as TlsEvent, TlsSession};

use super::control::Wait;
use super::{Action, Channel, DATA_BUFFER, DataId, Event, ServerSession, TransferKind};
use crate::codec::address::{format_epsv, format_pasv};

/// How LIST-like commands format entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ListFormat {
    /// `LIST`: `ls -l` lines.
    List,
    /// `NLST`: names only.
    Names,
    /// `MLSD`: RFC 3659 facts.
    Mlsd,
}

/// The session's data connection, from its setup to its close.
#[derive(Debug)]
pub(super) enum DataSlot {
    None,
    /// A passive listener (its address once the caller reported it).
    Listening {
        id: DataId,
    },
    /// PORT/EPRT: where to connect when a transfer starts.
    Active {
        to: SocketAddr,
    },
    /// The caller connects.
    Connecting {
        id: DataId,
    },
    Open(Box<DataConn>),
}

/// An open data connection.
#[derive(Debug)]
pub(super) struct DataConn {
    pub(super) id: DataId,
    /// TLS is required (PROT P); its session starts with the client's first byte.
    pub(super) protected: bool,
    pub(super) tls: Option<TlsSession>,
    /// Clear connection, or TLS handshake done (and resumption checked).
    pub(super) ready: bool,
    /// Clear mode: received bytes, at most [`DATA_BUFFER`].
    pub(super) input: Vec<u8>,
    /// Clear mode: bytes to send, at most [`DATA_BUFFER`].
    pub(super) output: Vec<u8>,
    /// TLS close_notify received.
    pub(super) peer_closed: bool,
    /// TCP end of stream received.
    pub(super) eof: bool,
    /// We are closing: close_notify queued, [`Action::CloseData`] once flushed.
    pub(super) closing: bool,
    /// Why the connection failed, as a reply.
    pub(super) failed: Option<(u16, String)>,
}

impl DataConn {
    /// Takes plaintext to send; how much was taken.
    pub(super) fn send(&mut self, data: &[u8]) -> usize {
        if !self.ready || self.closing || self.failed.is_some() {
            return 0;
        }
        match &mut self.tls {
            Some(tls) => tls.send(data).unwrap_or(0),
            None => {
                let n = data
                    .len()
                    .min(DATA_BUFFER.saturating_sub(self.output.len()));
                self.output.extend_from_slice(&data[..n]);
                n
            }
        }
    }

    pub(super) fn has_room(&self) -> bool {
        self.ready
            && !self.closing
            && self.failed.is_none()
            && (self.tls.is_some() || self.output.len() < DATA_BUFFER)
    }

    fn flushed(&self) -> bool {
        match &self.tls {
            Some(tls) => tls.is_flushed(),
            None => self.output.is_empty(),
        }
    }

    /// Received upload plaintext.
    pub(super) fn received(&mut self) -> &[u8] {
        match &mut self.tls {
            Some(tls) => tls.plaintext().unwrap_or_default(),
            None => &self.input,
        }
    }

    pub(super) fn consume(&mut self, n: usize) {
        match &mut self.tls {
            Some(tls) => tls.consume(n),
            None => {
                self.input.drain(..n.min(self.input.len()));
            }
        }
    }

    /// True when the client ended its data: close_notify, or TCP end of stream.
    pub(super) fn ended(&self) -> bool {
        self.peer_closed || self.eof
    }
}

impl ServerSession {
    pub(super) fn next_id(&mut self) -> DataId {
        self.next_id += 1;
        DataId(self.next_id)
    }

    /// The current data connection's id, whatever its stage.
    fn data_id(&self) -> Option<DataId> {
        match &self.data {
            DataSlot::Listening { id, .. } | DataSlot::Connecting { id } => Some(*id),
            DataSlot::Open(conn) => Some(conn.id),
            DataSlot::None | DataSlot::Active { .. } => None,
        }
    }

    /// PASV / EPSV: asks for a listener; the reply waits for [`ServerSession::listening`].
    pub(super) fn start_listen(&mut self, extended: bool) {
        self.close_data(false);
        self.data_refused = None;
        let id = self.next_id();
        self.actions.push_back(Action::Listen { id });
        self.data = DataSlot::Listening { id };
        self.wait = Wait::Listen { id, extended };
    }

    pub(super) fn on_listening(&mut self, id: DataId, addr: SocketAddr, now: Instant) {
        self.now = now;
        let extended = match &self.wait {
            Wait::Listen {
                id: waited,
                extended,
            } if *waited == id => *extended,
            _ => {
                // An earlier listener, replaced meanwhile.
                self.actions.push_back(Action::CloseData { id });
                return;
            }
        };
        self.wait = Wait::None;
        self.data = DataSlot::Listening { id };
        if extended {
            return self.reply(229, &format_epsv(addr.port()));
        }
        let ip = match (self.config.masquerade, addr.ip().to_canonical()) {
            (Some(ip), _) => ip,
            (None, IpAddr::V4(ip)) => ip,
            (None, IpAddr::V6(_)) => {
                self.close_data(false);
                return self.reply(501, "PASV needs IPv4: use EPSV");
            }
        };
        let announced = std::net::SocketAddrV4::new(ip, addr.port());
        self.reply(227, &format_pasv(announced));
    }

    pub(super) fn on_accepted(&mut self, id: DataId, peer: SocketAddr, now: Instant) -> bool {
        self.now = now;
        if !matches!(self.data, DataSlot::Listening { id: current, .. } if current == id) {
            return false;
        }
        let own = self.peer.ip().to_canonical();
        if peer.ip().to_canonical() != own {
            let reason = format!(
                "Data connection from {} refused: only the control connection's address {own} may connect",
                peer.ip()
            );
            self.event(Event::DataRefused {
                peer: Some(peer),
                reason: reason.clone(),
            });
            self.close_data(false);
            self.refuse_data(425, reason, now);
            return false;
        }
        self.open_data(id);
        true
    }

    pub(super) fn on_connected(&mut self, id: DataId, now: Instant) {
        self.now = now;
        if !matches!(self.data, DataSlot::Connecting { id: current } if current == id) {
            self.actions.push_back(Action::CloseData { id });
            return;
        }
        self.open_data(id);
    }

    fn open_data(&mut self, id: DataId) {
        let protected = self.prot_private;
        self.data = DataSlot::Open(Box::new(DataConn {
            id,
            protected,
            tls: None,
            ready: !protected,
            input: Vec::new(),
            output: Vec::new(),
            peer_closed: false,
            eof: false,
            closing: false,
            failed: None,
        }));
    }

    pub(super) fn on_data_failed(&mut self, id: DataId, reason: &str, now: Instant) {
        self.now = now;
        if self.data_id() != Some(id) {
            return;
        }
        if matches!(self.wait, Wait::Listen { id: waited, .. } if waited == id) {
            self.wait = Wait::None;
            self.data = DataSlot::None;
            return self.reply(
                425,
                &format!("Cannot open a passive data connection: {reason}"),
            );
        }
        let started = self.transfer_started();
        self.close_data(false);
        let code = if started { 426 } else { 425 };
        self.refuse_data(code, format!("Data connection failed: {reason}"), now);
    }

    /// A data connection that cannot serve: the waiting transfer is aborted with this reply,
    /// or, with none waiting, the next transfer command gets it.
    pub(super) fn refuse_data(&mut self, code: u16, text: String, now: Instant) {
        match self.transfer.is_some() {
            true => self.abort_transfer(code, &text, now),
            false => self.data_refused = Some((code, text)),
        }
    }

    pub(super) fn receive_data(&mut self, data: &[u8], now: Instant) -> usize {
        self.now = now;
        let uploading = self
            .transfer
            .as_ref()
            .map(|t| t.kind == TransferKind::Upload);
        let DataSlot::Open(conn) = &mut self.data else {
            return data.len();
        };
        if conn.failed.is_some() {
            return data.len();
        }
        if conn.protected && conn.tls.is_none() && !data.is_empty() {
            // The TLS session starts with the client's first byte, when the transfer command
            // has usually arrived: an upload's data connection issues no session ticket (the
            // client, only writing, would not read it, and closing a socket with unread bytes
            // sends a TCP reset that can destroy the end of the upload); others issue them so
            // that clients that use up a ticket per connection keep having one.
            let scope = match uploading {
                Some(true) => &self.data_scope,
                _ => &self.scope,
            };
            match TlsSession::server(scope) {
                Ok(s) if self.config.require_data_resumption => {
                    conn.tls = Some(s.require_resumption())
                }
                Ok(s) => conn.tls = Some(s),
                Err(e) => {
                    let text = format!("Cannot start TLS on the data connection: {e}");
                    conn.failed = Some((425, text.clone()));
                    conn.closing = true;
                    self.refuse_data(425, text, now);
                    return data.len();
                }
            }
        }
        let Some(tls) = &mut conn.tls else {
            if conn.protected {
                return 0;
            }
            return match uploading {
                Some(false) => data.len(),
                _ => {
                    let n = data.len().min(DATA_BUFFER.saturating_sub(conn.input.len()));
                    conn.input.extend_from_slice(&data[..n]);
                    n
                }
            };
        };
        let (taken, error) = match tls.receive(data) {
            Ok(n) => (n, None),
            Err(e) => (data.len(), Some(e)),
        };
        let mut events = Vec::new();
        while let Some(event) = tls.poll_event() {
            match event {
                TlsEvent::HandshakeComplete(info) => {
                    conn.ready = true;
                    events.push(Event::TlsEstablished {
                        channel: Channel::Data,
                        info,
                    });
                }
                TlsEvent::PeerClosed => conn.peer_closed = true,
                _ => conn.eof = true,
            }
        }
        if uploading == Some(false) {
            // Nothing is expected from the client during a download: drop it.
            while let Ok(p) = tls.plaintext() {
                let n = p.len();
                if n == 0 {
                    break;
                }
                tls.consume(n);
            }
        }
        for event in events {
            self.event(event);
        }
        if let Some(e) = error {
            self.data_tls_failed(e, now);
        }
        taken
    }

    fn data_tls_failed(&mut self, error: TlsError, now: Instant) {
        let DataSlot::Open(conn) = &mut self.data else {
            return;
        };
        let (code, text) = match (&error, conn.ready) {
            (TlsError::ResumptionRequired, _) => (
                522,
                "Data connection refused: its TLS session does not resume the control connection's. This server requires TLS session reuse (like vsftpd's require_ssl_reuse) so that only the logged-in client can open data connections: use a client that reuses the session (curl, lftp, FileZilla do), or have the administrator allow data connections without reuse".to_owned(),
            ),
            (_, false) => (522, format!("TLS negotiation failed on the data connection: {error}")),
            (_, true) => (426, format!("TLS failure on the data connection: {error}")),
        };
        conn.failed = Some((code, text.clone()));
        // The alert (or close_notify) still goes out; the connection closes once it has.
        conn.closing = true;
        if matches!(error, TlsError::ResumptionRequired) {
            self.event(Event::DataRefused {
                peer: None,
                reason: "the data connection's TLS session did not resume the control session"
                    .to_owned(),
            });
        }
        self.refuse_data(code, text, now);
    }

    pub(super) fn data_eof(&mut self, now: Instant) {
        self.now = now;
        let DataSlot::Open(conn) = &mut self.data else {
            return;
        };
        conn.eof = true;
        let Some(tls) = &mut conn.tls else {
            if conn.protected && conn.failed.is_none() {
                self.data_tls_failed(TlsError::HandshakeEof, now);
            }
            return;
        };
        let result = tls.receive_eof();
        while let Some(event) = tls.poll_event() {
            if event == TlsEvent::PeerClosed {
                conn.peer_closed = true;
            }
        }
        if let Err(e) = result
            && conn.failed.is_none()
        {
            self.data_tls_failed(e, now);
        }
    }

    pub(super) fn transmit_data(&mut self) -> &[u8] {
        self.fill_listing();
        match &mut self.data {
            DataSlot::Open(conn) => match &mut conn.tls {
                Some(tls) => tls.transmit(),
                None => &conn.output,
            },
            _ => &[],
        }
    }

    pub(super) fn advance_data(&mut self, n: usize) {
        if let DataSlot::Open(conn) = &mut self.data {
            match &mut conn.tls {
                Some(tls) => tls.advance(n),
                None => {
                    conn.output.drain(..n.min(conn.output.len()));
                }
            }
            if n > 0
                && let Some(t) = &mut self.transfer
            {
                t.last_progress = self.now;
            }
        }
    }

    /// Closes the data connection: `graceful` sends TLS close_notify first (the close then
    /// follows once everything is out), otherwise it is closed at once.
    pub(super) fn close_data(&mut self, graceful: bool) {
        match std::mem::replace(&mut self.data, DataSlot::None) {
            DataSlot::Open(mut conn) if graceful || conn.closing => {
                if let Some(tls) = &mut conn.tls {
                    tls.close();
                }
                conn.closing = true;
                self.data = DataSlot::Open(conn);
            }
            DataSlot::Open(conn) => self.actions.push_back(Action::CloseData { id: conn.id }),
            DataSlot::Listening { id, .. } | DataSlot::Connecting { id } => {
                self.actions.push_back(Action::CloseData { id })
            }
            DataSlot::None | DataSlot::Active { .. } => {}
        }
    }

    /// Closes a closing data connection once its last bytes are out; completes a download.
    pub(super) fn data_flushed(&mut self) {
        let DataSlot::Open(conn) = &self.data else {
            return;
        };
        if !conn.closing || !conn.flushed() {
            return;
        }
        let id = conn.id;
        let failed = conn.failed.is_some();
        self.data = DataSlot::None;
        self.actions.push_back(Action::CloseData { id });
        if !failed {
            self.download_flushed();
        }
    }

    /// Closes everything of the data connection at once (session end).
    pub(super) fn close_data_now(&mut self) {
        if let DataSlot::Open(conn) = &mut self.data {
            conn.closing = false;
        }
        self.close_data(false);
    }
}
