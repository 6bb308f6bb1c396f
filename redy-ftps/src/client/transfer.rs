//! Transfers: the steps on the control connection that open the data connection (EPSV or
//! PASV, or PORT/EPRT), REST, the transfer command, the data itself as events, and the two
//! conditions that complete a transfer (the final reply and a well-ended data connection).
//! The data connections' own life is in `data.rs`.

use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::time::Instant;

use redy_tls::TlsSession;

use super::link::{End, Link, LinkEvent};
use super::ops::Op;
use super::{
    Action, Channel, DataEnd, DataError, Error, Event, FtpClient, ListFormat, MAX_EVENTS, OpError,
    Outcome, Security,
};
use crate::codec::address::{format_eprt, format_port, parse_epsv, parse_pasv};
use crate::codec::command::Command;
use crate::codec::listing::{LineSplitter, parse_list_line, parse_mlsx_line};
use crate::codec::reply::Reply;

/// What a transfer moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransferKind {
    /// A listing; `reference` (Unix seconds) dates `LIST` lines without a year.
    List {
        format: ListFormat,
        reference: i64,
    },
    Download,
    Upload,
}

/// Where a transfer stands on the control connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for the `EPSV` reply.
    Epsv,
    /// Waiting for the `PASV` reply.
    Pasv,
    /// Passive: waiting for the caller to connect.
    Connecting,
    /// Active: waiting for the caller's listening address.
    Listening,
    /// Waiting for the `PORT`/`EPRT` reply.
    Port,
    /// Waiting for the `REST` reply.
    Rest,
    /// The transfer command was sent.
    Sent,
}

/// A running transfer.
#[derive(Debug)]
pub(crate) struct Transfer {
    pub(super) kind: TransferKind,
    command: Command,
    offset: u64,
    stage: Stage,
    pub(super) channel: u64,
    started: bool,
    send_data_told: bool,
    pub(super) data_received_told: bool,
    pub(super) upload_finished: bool,
    listing_done: bool,
    final_reply: Option<Reply>,
    pub(super) failure: Option<OpError>,
    abor_pending: bool,
    /// Whether the data connection's handshake resumed the control session.
    resumed: Option<bool>,
    pub(super) bytes: u64,
    lines: LineSplitter,
}

impl Transfer {
    pub(crate) fn new(kind: TransferKind, command: Command, offset: u64) -> Self {
        Self {
            kind,
            command,
            offset,
            stage: Stage::Epsv,
            channel: 0,
            started: false,
            send_data_told: false,
            data_received_told: false,
            upload_finished: false,
            listing_done: false,
            final_reply: None,
            failure: None,
            abor_pending: false,
            resumed: None,
            bytes: 0,
            lines: LineSplitter::new(),
        }
    }
}

impl FtpClient {
    /// Opens the data connection: `EPSV` (or `PASV`), or `Listen` in active mode.
    pub(super) fn start_transfer(
        &mut self,
        id: u64,
        mut t: Box<Transfer>,
        now: Instant,
    ) -> Result<(), Error> {
        self.retire_data();
        self.next_channel += 1;
        t.channel = self.next_channel;
        if self.config.data_connections == super::DataConnections::Active {
            self.open_data(t.channel, now);
            self.push_action(Action::Listen {
                channel: Channel::Data(t.channel),
            });
            t.stage = Stage::Listening;
        } else if self.epsv_refused {
            self.send_command(&Command::Pasv, "the PASV reply", now)?;
            t.stage = Stage::Pasv;
        } else {
            self.send_command(&Command::Epsv(None), "the EPSV reply", now)?;
            t.stage = Stage::Epsv;
        }
        self.current = Some((id, Op::Transfer(t)));
        Ok(())
    }

    /// Aborts the running transfer for `failure`: `ABOR` when its command was sent (the
    /// server then answers the command and `ABOR`), at once otherwise.
    pub(super) fn abort_transfer(&mut self, failure: OpError, now: Instant) -> Result<(), Error> {
        let Some((id, Op::Transfer(mut t))) = self.take_transfer() else {
            return Err(Error::Usage("no transfer is running"));
        };
        t.failure.get_or_insert(failure);
        if t.stage == Stage::Sent && !t.abor_pending {
            self.send_command(&Command::Abor, "the ABOR reply", now)?;
            t.abor_pending = true;
            self.abor_replies_due += 1;
        }
        self.drop_data();
        self.current = Some((id, Op::Transfer(t)));
        self.progress(now)
    }

    /// A control reply during a transfer.
    pub(super) fn on_transfer_reply(
        &mut self,
        id: u64,
        mut t: Box<Transfer>,
        reply: Reply,
        now: Instant,
    ) -> Result<(), Error> {
        let code = reply.code();
        match t.stage {
            _ if t.failure.is_some() && t.stage != Stage::Sent => {}
            Stage::Epsv if code == 229 => match parse_epsv(reply.text()) {
                Ok(port) => self.connect_passive(&mut t, port, None, now),
                Err(e) => t.failure = Some(DataError::Address(e).into()),
            },
            Stage::Epsv if (500..600).contains(&code) => {
                // Not known, or not for this address family: PASV from now on.
                self.epsv_refused = true;
                self.send_command(&Command::Pasv, "the PASV reply", now)?;
                t.stage = Stage::Pasv;
            }
            Stage::Pasv if code == 227 => match parse_pasv(reply.text()) {
                Ok(addr) => self.connect_passive(&mut t, addr.port(), Some(addr), now),
                Err(e) => t.failure = Some(DataError::Address(e).into()),
            },
            Stage::Port | Stage::Rest if reply.is_positive() || reply.is_intermediate() => {
                self.send_rest_or_command(&mut t, now)?;
            }
            Stage::Epsv | Stage::Pasv | Stage::Port | Stage::Rest => {
                t.failure = Some(OpError::Refused(reply));
            }
            Stage::Connecting | Stage::Listening => {
                return Err(Error::UnexpectedReply {
                    waiting: "a data connection",
                    reply,
                });
            }
            Stage::Sent if t.abor_pending && t.final_reply.is_some() => {
                t.abor_pending = false;
                self.abor_replies_due -= 1;
            }
            Stage::Sent if t.abor_pending && reply.is_positive() => {
                // A 225/226 first: either the transfer ended before ABOR and ABOR's own reply
                // follows, or the server answered both at once (Pure-FTPd). A NOOP tells them
                // apart: replies before its 200 are ABOR's.
                t.final_reply = Some(reply);
                t.abor_pending = false;
                self.abor_replies_due -= 1;
                self.send_command(&Command::Noop, "the NOOP after ABOR", now)?;
                self.abor_fence = true;
            }
            Stage::Sent if reply.is_preliminary() => {
                // The transfer runs; the data connection's idle deadline watches it now.
                t.started = true;
                self.reply_deadline = None;
            }
            Stage::Sent => t.final_reply = Some(reply),
        }
        if t.abor_pending {
            // The ABOR reply is still due: keep a deadline on it.
            self.reply_deadline = Some((now + self.config.timeouts.reply, "the ABOR reply"));
        }
        self.current = Some((id, Op::Transfer(t)));
        self.progress(now)
    }

    /// Passive mode: asks the caller to connect, to the control connection's peer unless the
    /// `PASV` address is trusted.
    fn connect_passive(
        &mut self,
        t: &mut Transfer,
        port: u16,
        pasv: Option<SocketAddrV4>,
        now: Instant,
    ) {
        let addr = match pasv {
            Some(addr) if self.config.trust_pasv_address => SocketAddr::V4(addr),
            _ => SocketAddr::new(self.config.server_addr.ip(), port),
        };
        self.open_data(t.channel, now);
        self.push_action(Action::Connect {
            channel: Channel::Data(t.channel),
            addr,
        });
        t.stage = Stage::Connecting;
    }

    fn send_rest_or_command(&mut self, t: &mut Transfer, now: Instant) -> Result<(), Error> {
        if t.offset > 0 && t.stage != Stage::Rest {
            self.send_command(&Command::Rest(t.offset), "the REST reply", now)?;
            t.stage = Stage::Rest;
        } else {
            self.send_command(&t.command, "the transfer's reply", now)?;
            t.stage = Stage::Sent;
        }
        Ok(())
    }

    pub(super) fn data_listening(
        &mut self,
        n: u64,
        addr: SocketAddr,
        now: Instant,
    ) -> Result<(), Error> {
        let Some((id, Op::Transfer(mut t))) = self.take_transfer() else {
            return Err(Error::Usage("no transfer is waiting for a listener"));
        };
        if t.channel != n || t.stage != Stage::Listening {
            self.current = Some((id, Op::Transfer(t)));
            return Err(Error::Usage(
                "this data connection is not waiting for a listener",
            ));
        }
        let command = match addr {
            SocketAddr::V4(v4) => Command::Port(format_port(v4)),
            SocketAddr::V6(_) => Command::Eprt(format_eprt(addr)),
        };
        self.send_command(&command, "the PORT reply", now)?;
        t.stage = Stage::Port;
        self.current = Some((id, Op::Transfer(t)));
        Ok(())
    }

    pub(super) fn data_connected(
        &mut self,
        n: u64,
        peer: SocketAddr,
        now: Instant,
    ) -> Result<(), Error> {
        let link = match self.config.security {
            Security::InsecurePlainFtp => Ok(Link::plain()),
            _ => TlsSession::client(&self.tls, &self.config.server_name).map(Link::Tls),
        };
        let waiting = self
            .data
            .as_ref()
            .is_some_and(|d| d.number == n && d.link.is_none());
        let transfer = if waiting { self.take_transfer() } else { None };
        let Some((id, Op::Transfer(mut t))) = transfer else {
            // A connection nobody waits for any more.
            self.push_action(Action::Close {
                channel: Channel::Data(n),
            });
            return Ok(());
        };
        let Some(d) = self.data.as_mut() else {
            self.current = Some((id, Op::Transfer(t)));
            return Ok(());
        };
        match link {
            Ok(link) => d.link = Some(link),
            Err(e) => t.failure = Some(DataError::Tls(e).into()),
        }
        d.deadline = Some((
            now + self.config.timeouts.data_connect,
            "the data connection's TLS handshake",
        ));
        if t.stage == Stage::Connecting {
            self.send_rest_or_command(&mut t, now)?;
        } else if peer.ip() != self.config.server_addr.ip()
            && !is_loopback_pair(peer.ip(), self.config.server_addr.ip())
        {
            t.failure = Some(DataError::ForeignPeer(peer).into());
        }
        self.current = Some((id, Op::Transfer(t)));
        self.progress(now)
    }

    /// Moves the running transfer on after anything happened: data connection events,
    /// listing lines, `SendData`, then completion or failure.
    pub(super) fn progress(&mut self, now: Instant) -> Result<(), Error> {
        let Some((id, Op::Transfer(mut t))) = self.take_transfer() else {
            return Ok(());
        };
        let data_end = self.config.data_end;
        if let Some(d) = self.data.as_mut().filter(|d| d.number == t.channel)
            && let Some(link) = d.link.as_mut()
        {
            while let Some(event) = link.poll_event() {
                let end = match event {
                    LinkEvent::Handshake(info) => {
                        t.resumed = Some(info.resumed);
                        self.events.push_back(Event::DataTls { id, info });
                        continue;
                    }
                    LinkEvent::Ended(End::Truncated)
                        if data_end == DataEnd::AcceptEofWithoutCloseNotify =>
                    {
                        End::Clean
                    }
                    LinkEvent::Ended(end) => end,
                };
                d.end.get_or_insert(end);
                if end == End::Truncated && t.kind != TransferKind::Upload {
                    t.failure
                        .get_or_insert(DataError::Truncated { bytes: t.bytes }.into());
                }
                // Answer the server's close_notify at once: vsftpd waits for ours before it
                // sends 226.
                if end == End::Clean && t.kind != TransferKind::Upload {
                    link.close();
                }
            }
        }
        if t.failure.is_some() && t.abor_pending {
            // Wait for the replies to the transfer command and to ABOR.
            self.current = Some((id, Op::Transfer(t)));
            return Ok(());
        }
        if let Some(failure) = t.failure.clone() {
            if t.stage == Stage::Sent && t.final_reply.is_none() {
                self.drop_data();
                self.current = Some((id, Op::Transfer(t)));
                return Ok(());
            }
            if t.stage != Stage::Sent && self.reply_deadline.is_some() {
                // A reply to EPSV, PASV, PORT or REST is still due.
                self.current = Some((id, Op::Transfer(t)));
                return Ok(());
            }
            self.drop_data();
            let failure = self.reuse_failure(&t).map_or(failure, OpError::from);
            return self.finish(id, Err(failure), now);
        }
        self.tell_caller(id, &mut t);
        match t.final_reply.clone() {
            Some(reply) if !reply.is_positive() => {
                self.drop_data();
                let failure = self
                    .reuse_failure(&t)
                    .map_or(OpError::Refused(reply), OpError::from);
                return self.finish(id, Err(failure), now);
            }
            Some(reply) if self.data_complete(&mut t) => {
                self.retire_data();
                if t.resumed == Some(false) {
                    // The server accepts data connections that do not resume.
                    self.full_data_handshakes_accepted = true;
                }
                let bytes = t.bytes;
                return self.finish(id, Ok(Outcome::Transferred { reply, bytes }), now);
            }
            None if t.stage == Stage::Sent
                && self.reply_deadline.is_none()
                && self.data_complete(&mut t) =>
            {
                self.reply_deadline = Some((
                    now + self.config.timeouts.reply,
                    "the transfer's final reply",
                ));
            }
            _ => {}
        }
        self.current = Some((id, Op::Transfer(t)));
        Ok(())
    }

    /// A failed transfer explained as a refused session reuse: vsftpd's `522`, or any failure
    /// after a data connection that did a full handshake (proftpd then answers `425`).
    fn reuse_failure(&self, t: &Transfer) -> Option<DataError> {
        let reply = t.final_reply.as_ref();
        if reply.is_none_or(|r| r.code() != 522) && t.resumed != Some(false) {
            return None;
        }
        let said = reply.map(|r| format!("{r}; ")).unwrap_or_default();
        let tls13 = self.control_version == Some(redy_tls::TlsVersion::Tls13);
        let hint = match (t.resumed, tls13) {
            (Some(false), true) => {
                "the data connection did a full TLS handshake: no TLS 1.3 session ticket was left \
                 to resume with (OpenSSL-based servers such as vsftpd and proftpd issue none on \
                 upload connections, and rustls uses each ticket once); open a new session when \
                 `tickets_spent` says so, or cap TLS at 1.2"
            }
            (Some(false), false) => "the data connection did a full TLS handshake",
            _ => "the data connection did not resume the control connection's TLS session",
        };
        Some(DataError::ReuseRequired(format!("{said}{hint}")))
    }

    /// `SendData`, `DataReceived` and listing entries.
    fn tell_caller(&mut self, id: u64, t: &mut Transfer) {
        let Some(link) = self
            .data
            .as_mut()
            .filter(|d| d.number == t.channel)
            .and_then(|d| d.link.as_mut())
        else {
            return;
        };
        match t.kind {
            TransferKind::Upload if t.started && link.is_established() && !t.send_data_told => {
                t.send_data_told = true;
                self.events.push_back(Event::SendData { id });
            }
            TransferKind::Download
                if !t.data_received_told && link.plaintext().is_ok_and(|p| !p.is_empty()) =>
            {
                t.data_received_told = true;
                self.events.push_back(Event::DataReceived { id });
            }
            TransferKind::List { format, reference } => {
                while self.events.len() < MAX_EVENTS {
                    let Ok(plaintext) = link.plaintext() else {
                        break;
                    };
                    if plaintext.is_empty() {
                        break;
                    }
                    match t.lines.feed(plaintext) {
                        Ok((n, line)) => {
                            link.consume(n);
                            t.bytes += n as u64;
                            if let Some(line) = line {
                                self.events
                                    .extend(listing_event(id, format, reference, &line));
                            }
                        }
                        Err(e) => {
                            t.failure.get_or_insert(DataError::Listing(e).into());
                            break;
                        }
                    }
                }
                let drained = link.plaintext().is_ok_and(<[u8]>::is_empty);
                if drained
                    && !t.listing_done
                    && self
                        .data
                        .as_ref()
                        .is_some_and(|d| d.end == Some(End::Clean))
                {
                    t.listing_done = true;
                    if let Some(line) = t.lines.finish() {
                        self.events
                            .extend(listing_event(id, format, reference, &line));
                    }
                }
            }
            _ => {}
        }
    }

    fn data_complete(&mut self, t: &mut Transfer) -> bool {
        let Some(d) = self.data.as_mut().filter(|d| d.number == t.channel) else {
            return false;
        };
        match t.kind {
            TransferKind::Upload => t.upload_finished && d.shut,
            TransferKind::List { .. } => t.listing_done,
            TransferKind::Download => {
                d.end == Some(End::Clean)
                    && d.link
                        .as_mut()
                        .is_some_and(|l| l.plaintext().is_ok_and(<[u8]>::is_empty))
            }
        }
    }

    /// True when the running transfer waits for its ABOR reply itself.
    pub(super) fn awaits_abor_reply(&self) -> bool {
        matches!(&self.current, Some((_, Op::Transfer(t))) if t.abor_pending)
    }

    /// The running operation when it is a transfer (the caller puts it back).
    fn take_transfer(&mut self) -> Option<(u64, Op)> {
        self.current
            .take_if(|(_, op)| matches!(op, Op::Transfer(_)))
    }
}

/// A listing line as an event (`None` for blank and `total` lines).
fn listing_event(id: u64, format: ListFormat, reference: i64, line: &[u8]) -> Option<Event> {
    let parsed = match format {
        ListFormat::Names if line.iter().all(u8::is_ascii_whitespace) => return None,
        ListFormat::Names => {
            let name = String::from_utf8_lossy(line).into_owned();
            return Some(Event::Name { id, name });
        }
        ListFormat::List => parse_list_line(line, reference),
        ListFormat::Mlsd if line.is_empty() => return None,
        ListFormat::Mlsd => parse_mlsx_line(line).map(Some),
    };
    match parsed {
        Ok(entry) => entry.map(|entry| Event::Entry { id, entry }),
        Err(error) => Some(Event::BadEntry { id, error }),
    }
}

/// 127.0.0.1 and ::1 (or two loopback addresses) are the same host.
fn is_loopback_pair(a: IpAddr, b: IpAddr) -> bool {
    a.is_loopback() && b.is_loopback()
}
