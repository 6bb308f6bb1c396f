//! The FTPS client: one Sans-IO machine for a control connection and its data connections.
//!
//! ```text
//!  implicit: TLS ──► 220 ─────────────────────────┐
//!  explicit: 220 ──► AUTH TLS ─234─► TLS ─────────┤
//!                                                 ▼
//!       USER ─331─► PASS ─230─► FEAT ─► [OPTS UTF8 ON] ─► PBSZ 0 ─► PROT P ─► TYPE I ─► Ready
//!
//!  Ready: operations run one after another, in the order queued.
//!   transfer: EPSV ─229─► Connect(data n) ─► [REST] ─► RETR/STOR/LIST... ─150─► data flows
//!             (PASV when EPSV is unknown; PORT/EPRT after Listen in active mode)
//!             done = final 226/250  AND  data ended well (close_notify in, or ours flushed)
//!   QUIT ─221─► Closed
//! ```
//!
//! The caller owns the sockets. It starts the machine once the control connection is open,
//! then loops: write what [`transmit`](FtpClient::transmit) shows for each channel, carry out
//! [`poll_action`](FtpClient::poll_action)s (connect, listen, shut down, close), feed what
//! arrives to [`receive`](FtpClient::receive), handle [`poll_event`](FtpClient::poll_event)s,
//! and call [`handle_timeout`](FtpClient::handle_timeout) at
//! [`poll_timeout`](FtpClient::poll_timeout). Keep reading every open connection, uploads
//! included: TLS 1.3 servers send the session tickets the next data connection resumes with.
//!
//! Every data connection resumes the control connection's TLS session, from a resumption
//! scope private to this session and under the control connection's server name.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Instant;
//! use redy_ftps::client::{Channel, FtpClient, FtpConfig, Security};
//! use redy_tls::{ClientConfig, redy_certs::TrustPolicy};
//!
//! let tls = ClientConfig::builder(TrustPolicy::WebPkiRoots).build()?;
//! let addr: SocketAddr = "192.0.2.7:990".parse()?;
//! let config = FtpConfig::new(Security::ImplicitTls, tls, "ftp.example.com", addr, "plc", "secret");
//! let mut client = FtpClient::new(config, Instant::now())?;
//! let id = client.retrieve("/journal.csv", 0, Instant::now())?;
//! // The ClientHello waits for the control connection; nothing is sent before TLS.
//! assert_eq!(client.transmit(Channel::Control)[0], 0x16);
//! # let _ = id;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod data;
mod error;
mod event;
mod features;
mod link;
mod ops;
mod setup;
mod stream;
mod transfer;
pub mod tree;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

pub use config::{DataConnections, DataEnd, FtpConfig, Security, Timeouts};
pub use error::{DataError, Error, OpError};
pub use event::{Action, Channel, Event, ListFormat, Outcome};
pub use features::Features;

use crate::codec::command::Command;
use crate::codec::reply::{Reply, ReplyParser};
use data::DataChannel;
use link::{Link, LinkEvent};
use ops::Op;
use setup::Phase;

/// Most operations queued at once.
pub const MAX_QUEUED_OPS: usize = 1024;
/// Events queued before a listing stops being parsed until the caller polls.
pub const MAX_EVENTS: usize = 256;

/// An FTPS client session; see the [module docs](self).
#[derive(Debug)]
pub struct FtpClient {
    config: FtpConfig,
    tls: redy_tls::ClientConfig,
    control: Link,
    parser: ReplyParser,
    phase: Phase,
    features: Features,
    queue: VecDeque<(u64, Op)>,
    current: Option<(u64, Op)>,
    data: Option<DataChannel>,
    retiring: Vec<DataChannel>,
    next_op: u64,
    next_channel: u64,
    epsv_refused: bool,
    control_closed: bool,
    /// ABOR replies still to come (skipped when their transfer already ended).
    abor_replies_due: u8,
    /// A NOOP was sent after an ambiguous ABOR reply: the replies before its own are
    /// ABOR's leftovers and are skipped.
    abor_fence: bool,
    control_version: Option<redy_tls::TlsVersion>,
    /// TLS 1.3 session tickets held when the login ended.
    login_tickets: usize,
    /// A data connection that did a full handshake ended well: resumption is optional here.
    full_data_handshakes_accepted: bool,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    reply_deadline: Option<(Instant, &'static str)>,
    /// The latest `now` given, for work `poll_event` resumes (a throttled listing).
    last_now: Instant,
    error: Option<Error>,
}

impl FtpClient {
    /// Starts a session on a control connection that just opened at `now`.
    pub fn new(config: FtpConfig, now: Instant) -> Result<Self, Error> {
        let tls = config.tls.new_scope();
        let control = match config.security {
            Security::ImplicitTls => {
                Link::Tls(redy_tls::TlsSession::client(&tls, &config.server_name)?)
            }
            _ => Link::plain(),
        };
        let deadline = Some((now + config.timeouts.connect, "the greeting"));
        Ok(Self {
            config,
            tls,
            control,
            parser: ReplyParser::default(),
            phase: Phase::Greeting,
            features: Features::default(),
            queue: VecDeque::new(),
            current: None,
            data: None,
            retiring: Vec::new(),
            next_op: 0,
            next_channel: 0,
            epsv_refused: false,
            control_closed: false,
            abor_replies_due: 0,
            abor_fence: false,
            control_version: None,
            login_tickets: 0,
            full_data_handshakes_accepted: false,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            reply_deadline: deadline,
            last_now: now,
            error: None,
        })
    }

    /// Feeds bytes received on `channel`; returns how many were taken (fewer: handle events,
    /// read [`received`](Self::received) data, then offer the rest). Bytes for a data
    /// connection the client is done with are taken and dropped.
    pub fn receive(&mut self, channel: Channel, data: &[u8], now: Instant) -> Result<usize, Error> {
        self.check()?;
        self.last_now = now;
        let result = match channel {
            Channel::Control => self.receive_control(data, now),
            Channel::Data(n) => self.receive_data(n, data, now),
        };
        result.map_err(|e| self.fail(e))
    }

    /// Reports that `channel`'s incoming stream ended (TCP EOF).
    pub fn receive_eof(&mut self, channel: Channel, now: Instant) -> Result<(), Error> {
        self.check()?;
        match channel {
            Channel::Control => {
                if self.phase == Phase::Closed {
                    return Ok(());
                }
                let _ = self.control.receive_eof();
                let waiting = self.waiting();
                Err(self.fail(Error::ConnectionClosed(waiting)))
            }
            Channel::Data(n) => self.data_eof(n, now).map_err(|e| self.fail(e)),
        }
    }

    /// Reports that data connection `channel` (from [`Action::Connect`], or accepted after
    /// [`Action::Listen`]) is open, with the peer's address.
    pub fn connected(
        &mut self,
        channel: Channel,
        peer: SocketAddr,
        now: Instant,
    ) -> Result<(), Error> {
        self.check()?;
        let Channel::Data(n) = channel else {
            return Err(Error::Usage(
                "the control connection is open from the start",
            ));
        };
        self.data_connected(n, peer, now).map_err(|e| self.fail(e))
    }

    /// Reports that connecting (or listening, or accepting) for `channel` failed.
    pub fn connect_failed(
        &mut self,
        channel: Channel,
        why: &str,
        now: Instant,
    ) -> Result<(), Error> {
        self.check()?;
        if let Channel::Data(n) = channel {
            self.data_failed(n, DataError::Connect(why.to_owned()), now)
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// Active mode: reports the address the caller listens on for `channel`.
    pub fn listening(
        &mut self,
        channel: Channel,
        addr: SocketAddr,
        now: Instant,
    ) -> Result<(), Error> {
        self.check()?;
        let Channel::Data(n) = channel else {
            return Err(Error::Usage("listening is for data connections"));
        };
        self.data_listening(n, addr, now).map_err(|e| self.fail(e))
    }

    /// Bytes to write on `channel`; call [`advance`](Self::advance) with how many went.
    pub fn transmit(&mut self, channel: Channel) -> &[u8] {
        match channel {
            Channel::Control => self.control.transmit(),
            Channel::Data(n) => match self.data_link(n) {
                Some(link) => link.transmit(),
                None => &[],
            },
        }
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as written on `channel`.
    pub fn advance(&mut self, channel: Channel, n: usize, now: Instant) {
        match channel {
            Channel::Control => {
                self.control.advance(n);
                if self.phase == Phase::Closed && self.control.is_flushed() && !self.control_closed
                {
                    self.control_closed = true;
                    self.push_action(Action::Close { channel });
                }
            }
            Channel::Data(number) => {
                if let Some(link) = self.data_link(number) {
                    link.advance(n);
                }
                self.last_now = now;
                if let Err(e) = self.data_advanced(number, n, now) {
                    self.fail(e);
                }
            }
        }
    }

    /// The next thing to do with the transports.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if self.events.len() < MAX_EVENTS / 2
            && self.error.is_none()
            && let Err(e) = self.progress(self.last_now)
        {
            self.fail(e);
        }
        event
    }

    /// When [`handle_timeout`](Self::handle_timeout) wants to be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() {
            return None;
        }
        let data = self.data.as_ref().and_then(DataChannel::deadline);
        match (self.reply_deadline.map(|(t, _)| t), data) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handles deadlines that passed by `now`: a late reply ends the session; a stalled data
    /// connection fails its operation (and aborts it on the server).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.check()?;
        if let Some((deadline, what)) = self.reply_deadline
            && now >= deadline
        {
            return Err(self.fail(Error::Timeout(what)));
        }
        self.data_timeout(now).map_err(|e| self.fail(e))
    }

    /// What the server announced in `FEAT`.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// True when the next data connection could not resume the control connection's TLS
    /// session, and a new session (a new login) would let it.
    ///
    /// With TLS 1.3 each session ticket the server issued resumes one connection, and
    /// OpenSSL-based servers such as proftpd issue none on data connections, so a long session
    /// spends its login's tickets; a server that requires reuse then refuses the next data
    /// connection. This is true when the control connection runs TLS 1.3, its login brought
    /// tickets, they are all spent, and no data connection of this session has yet succeeded
    /// without resuming. Never with TLS 1.2, whose session resumes any number of times.
    /// `redy-examples`' `FtpSession` logs in again and returns to the directory when it is.
    pub fn tickets_spent(&self) -> bool {
        self.control_version == Some(redy_tls::TlsVersion::Tls13)
            && self.login_tickets > 0
            && !self.full_data_handshakes_accepted
            && self.tls.tls13_tickets(&self.config.server_name) == 0
    }

    /// True once logged in and set up, until `QUIT`.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// The error that ended the session, if one did.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    fn receive_control(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
        let mut taken = 0;
        loop {
            let was_tls = matches!(self.control, Link::Tls(_));
            let n = self.control.receive(&data[taken..])?;
            taken += n;
            let mut ended = false;
            while let Some(event) = self.control.poll_event() {
                match event {
                    LinkEvent::Handshake(info) => {
                        self.control_version = Some(info.version);
                        self.events.push_back(Event::TlsEstablished(info));
                    }
                    LinkEvent::Ended(_) => ended = true,
                }
            }
            let upgraded = self.read_replies(now)?;
            if ended && was_tls && matches!(self.control, Link::Unwinding(_)) {
                // The server's close_notify came with its reply to `CCC`.
                self.control.unwound_by_peer();
                ended = false;
            }
            if ended && self.phase != Phase::Closed {
                return Err(Error::ConnectionClosed(self.waiting()));
            }
            if upgraded {
                // `AUTH TLS` was accepted: whatever followed the 234 came before the
                // handshake.
                self.start_control_tls(data.len() - taken, now)?;
                return Ok(data.len());
            }
            if n == 0 || taken == data.len() {
                return Ok(taken);
            }
        }
    }

    /// Parses and handles every complete reply; true when `AUTH TLS` was just accepted.
    fn read_replies(&mut self, now: Instant) -> Result<bool, Error> {
        loop {
            let plaintext = self.control.plaintext()?;
            if plaintext.is_empty() {
                return Ok(false);
            }
            let (n, reply) = self.parser.feed(plaintext)?;
            self.control.consume(n);
            let Some(reply) = reply else { continue };
            if self.on_reply(reply, now)? {
                return Ok(true);
            }
        }
    }

    /// Routes a reply; true when `AUTH TLS` was accepted.
    fn on_reply(&mut self, reply: Reply, now: Instant) -> Result<bool, Error> {
        if reply.code() == 421 {
            return Err(Error::ServiceClosing(reply));
        }
        if !reply.is_preliminary() {
            self.reply_deadline = None;
        }
        match self.phase {
            Phase::Ready => self.on_op_reply(reply, now).map(|()| false),
            _ => self.on_setup_reply(reply, now),
        }
    }

    fn send_command(
        &mut self,
        command: &Command,
        what: &'static str,
        now: Instant,
    ) -> Result<(), Error> {
        let line = command.encode().map_err(Error::Argument)?;
        self.control.send_all(&line)?;
        self.reply_deadline = Some((now + self.config.timeouts.reply, what));
        Ok(())
    }

    fn push_action(&mut self, action: Action) {
        if !self.actions.contains(&action) {
            self.actions.push_back(action);
        }
    }

    fn waiting(&self) -> &'static str {
        self.reply_deadline.map(|(_, what)| what).unwrap_or("idle")
    }

    fn check(&self) -> Result<(), Error> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        match e {
            Error::Usage(_) | Error::Argument(_) => e,
            e => self.error.get_or_insert(e).clone(),
        }
    }
}
