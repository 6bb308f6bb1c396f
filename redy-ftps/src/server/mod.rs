//! The FTPS server: one Sans-IO machine per client session ([`ServerSession`]).
//!
//! ```text
//!  Implicit: TLS handshake ─┐                      Explicit: 220 in clear ─► AUTH TLS ─► 234 ─► TLS
//!                           ▼                                                  (USER before: 530)
//!  220 greeting ──► USER ──► PASS ──► Request::CheckCredentials ──► 230 logged in
//!                                              └─ refused: 530 after a delay; 421 after N
//!  logged in ── PBSZ 0 / PROT P ── CWD, MKD, DELE, SIZE ... ──► Request::Stat, MakeDir, ...
//!     │
//!     ├─ PASV/EPSV ──► Action::Listen ─ listening() ──► 227/229 ─ data_accepted() (same IP only)
//!     ├─ PORT/EPRT (client's own IP only) ──────────────────► Action::Connect ─ data_connected()
//!     ▼
//!  RETR/STOR/APPE/LIST/NLST/MLSD ──► Request::Open*/List ──► data connection open ──► 150
//!     data TLS must resume the control session (else 522)
//!     download: send_file_data()… file_data_end() ─► close_notify flushed ─► 226
//!     upload:   file_data()/consume_file_data()… ─► client close_notify ─► Request::FinishUpload
//!               ─► 226 (or, cut short: 426 and Event::TransferPartial)
//!  QUIT ──► 221 ──► close_notify ──► Action::CloseControl
//! ```
//!
//! The session does no I/O and reads no clock. The caller:
//! - moves bytes: what arrives on a connection goes to [`ServerSession::receive`] (or
//!   [`ServerSession::receive_eof`]) — bytes not taken are offered again after the next
//!   call —, and what [`ServerSession::transmit`] shows goes out, then
//!   [`ServerSession::advance`];
//! - carries out [`Action`]s (bind a passive listener, connect, close) and reports back;
//! - answers [`Request`]s (credentials, storage) with [`ServerSession::answer`], and moves
//!   file content in bounded chunks ([`ServerSession::send_file_data`],
//!   [`ServerSession::file_data`]);
//! - calls [`ServerSession::handle_timeout`] at [`ServerSession::poll_timeout`].
//!
//! After every call, drain [`ServerSession::poll_action`], [`ServerSession::poll_request`],
//! [`ServerSession::poll_event`] and write what `transmit` shows on both channels.
//!
//! Limits: a command line is at most [`crate::codec::command::MAX_COMMAND_LINE`] bytes (a
//! longer one is discarded unbuffered and answered `500`); paths at most [`MAX_PATH`] bytes;
//! replies waiting to be sent at most [`CONTROL_OUT_LIMIT`] bytes (beyond, no command is read);
//! data at most [`DATA_BUFFER`] bytes buffered each way in clear mode, and the TLS session's
//! [`redy_tls::SEND_BUFFER_LIMIT`] with TLS; listings at most [`MAX_LISTING_ENTRIES`] entries;
//! at most one request outstanding, one command held while a transfer runs.
//!
//! A whole session in memory — the "client" is a clear-text explicit-mode one on a server
//! that allows it, to keep the example short (the tests in `tests/server_*.rs` use TLS):
//!
//! ```
//! use std::time::Instant;
//! use redy_certs::DeviceCa;
//! use redy_ftps::server::{Answer, Channel, FtpServerConfig, Request, Security, ServerSession};
//!
//! let now = std::time::SystemTime::now();
//! let ca = DeviceCa::generate(&"12345-67890".parse()?, now)?;
//! let identity = ca.issue_server_certificate(&["127.0.0.1".parse()?], now)?;
//! let tls = redy_tls::ServerConfig::builder(identity).build()?;
//! let mut config = FtpServerConfig::new(Security::ExplicitTls, tls);
//! config.allow_insecure_plain_ftp = true;
//!
//! let t = Instant::now();
//! let (client, server) = ("127.0.0.1:50000".parse()?, "127.0.0.1:21".parse()?);
//! let mut session = ServerSession::new(config, client, server, t)?;
//! let mut exchange = |s: &mut ServerSession, line: &[u8]| -> Result<String, Box<dyn std::error::Error>> {
//!     s.receive(Channel::Control, line, t)?;
//!     if let Some(Request::CheckCredentials { user, password }) = s.poll_request() {
//!         s.answer(Answer::Login(user == "plc" && password.expose() == "secret"), t)?;
//!     }
//!     let out = String::from_utf8(s.transmit(Channel::Control).to_vec())?;
//!     s.advance(Channel::Control, out.len());
//!     Ok(out)
//! };
//! assert!(exchange(&mut session, b"")?.starts_with("220 "));
//! assert!(exchange(&mut session, b"USER plc\r\n")?.starts_with("331 "));
//! assert!(exchange(&mut session, b"PASS secret\r\n")?.starts_with("230 "));
//! assert_eq!(exchange(&mut session, b"PWD\r\n")?, "257 \"/\" is the current directory\r\n");
//! assert!(exchange(&mut session, b"SITE EXEC x\r\n")?.starts_with("502 "));
//! assert!(exchange(&mut session, b"QUIT\r\n")?.starts_with("221 "));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod answers;
mod commands;
mod config;
mod control;
mod data;
mod error;
mod event;
mod path;
mod replies;
mod request;
mod transfer;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use redy_tls::TlsSession;

pub use config::{FtpServerConfig, Security, Timeouts};
pub use error::ServerError;
pub use event::{Action, Channel, DataId, Event, TransferKind};
pub use path::{MAX_PATH, PathError, VirtualPath};
pub use request::{Answer, Listing, Password, Request, StorageError, WriteMode};

use control::ControlConn;
use data::DataSlot;
use transfer::Transfer;

/// Replies waiting to be sent above which no further command is read (a client that sends
/// commands without reading replies is held back, not buffered for).
pub const CONTROL_OUT_LIMIT: usize = 64 * 1024;
/// Most data bytes buffered each way on a clear data connection, and the size of the listing
/// text formatted ahead of the data connection.
pub const DATA_BUFFER: usize = 64 * 1024;
/// Most entries of one listing sent; a longer directory is cut there and the `226` says so.
pub const MAX_LISTING_ENTRIES: usize = 100_000;
/// Most events queued; older ones are dropped when the caller does not poll them.
pub const MAX_EVENTS: usize = 256;

/// One client's FTPS session; see the [module docs](self).
#[derive(Debug)]
pub struct ServerSession {
    config: FtpServerConfig,
    /// This session's TLS resumption scope: its control and data connections only (tickets
    /// reusable, as FTPS clients resume every data connection from the control session).
    scope: redy_tls::ServerConfig,
    /// The same scope for data connections, which issue no tickets of their own.
    data_scope: redy_tls::ServerConfig,
    peer: SocketAddr,
    local: SocketAddr,
    control: ControlConn,
    user: Option<String>,
    logged_in: bool,
    failures: u32,
    pbsz: bool,
    prot_private: bool,
    cwd: VirtualPath,
    rest: u64,
    rename_from: Option<VirtualPath>,
    epsv_all: bool,
    data: DataSlot,
    data_refused: Option<(u16, String)>,
    transfer: Option<Transfer>,
    wait: control::Wait,
    stashed: Option<Vec<u8>>,
    /// The latest time the caller passed in.
    now: Instant,
    requests: VecDeque<Request>,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    last_activity: Instant,
    next_id: u64,
    quitting: bool,
    close_emitted: bool,
    error: Option<ServerError>,
}

impl ServerSession {
    /// A session for a client that connected from `peer` to our `local` address at `now`.
    /// The greeting is queued (in implicit mode, behind the TLS handshake).
    pub fn new(
        config: FtpServerConfig,
        peer: SocketAddr,
        local: SocketAddr,
        now: Instant,
    ) -> Result<Self, ServerError> {
        let scope = config.tls.new_reusable_scope();
        let tls = match config.security {
            Security::ImplicitTls => Some(TlsSession::server(&scope)?),
            Security::ExplicitTls => None,
        };
        let implicit = tls.is_some();
        let mut session = Self {
            data_scope: scope.without_tickets(),
            scope,
            peer,
            local,
            control: ControlConn::new(tls),
            user: None,
            logged_in: false,
            failures: 0,
            pbsz: false,
            // Implicit FTPS protects data connections unless the client asks otherwise.
            prot_private: implicit,
            cwd: VirtualPath::root(),
            rest: 0,
            rename_from: None,
            epsv_all: false,
            data: DataSlot::None,
            data_refused: None,
            transfer: None,
            wait: control::Wait::None,
            stashed: None,
            requests: VecDeque::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            last_activity: now,
            now,
            next_id: 0,
            quitting: false,
            close_emitted: false,
            error: None,
            config,
        };
        let greeting = session.config.greeting.clone();
        session.reply(220, &greeting);
        Ok(session)
    }

    /// Feeds bytes received on `channel` and returns how many were taken: fewer means the
    /// session is busy (a request, a transfer, a full buffer); offer the rest again later.
    /// Bytes for a data connection that no longer exists are taken and dropped.
    pub fn receive(
        &mut self,
        channel: Channel,
        data: &[u8],
        now: Instant,
    ) -> Result<usize, ServerError> {
        self.check()?;
        let taken = match channel {
            Channel::Control => self.receive_control(data, now),
            Channel::Data => Ok(self.receive_data(data, now)),
        };
        let taken = taken.map_err(|e| self.fail(e))?;
        self.after_input(now);
        Ok(taken)
    }

    /// Reports that `channel`'s peer closed its side (TCP end of stream). On the control
    /// connection this ends the session (aborting any transfer); on a data connection it ends
    /// an upload, which is complete only if TLS close_notify came first.
    pub fn receive_eof(&mut self, channel: Channel, now: Instant) -> Result<(), ServerError> {
        self.check()?;
        match channel {
            Channel::Control => self.control_eof(now),
            Channel::Data => self.data_eof(now),
        }
        self.after_input(now);
        Ok(())
    }

    /// Bytes to write on `channel`; call [`advance`](Self::advance) with how many were
    /// written. Still available after an error (a `421`, a TLS alert).
    pub fn transmit(&mut self, channel: Channel) -> &[u8] {
        match channel {
            Channel::Control => self.control.transmit(),
            Channel::Data => self.transmit_data(),
        }
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) for `channel` as written.
    pub fn advance(&mut self, channel: Channel, n: usize) {
        match channel {
            Channel::Control => self.control.advance(n),
            Channel::Data => self.advance_data(n),
        }
        self.check_flushed();
    }

    /// The next action for the transport.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The outstanding request, handed out once; answer it with [`answer`](Self::answer).
    pub fn poll_request(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Answers the outstanding [`Request`]; an answer of the wrong kind, or with none
    /// outstanding, is [`ServerError::NotNow`] (and changes nothing).
    pub fn answer(&mut self, answer: Answer, now: Instant) -> Result<(), ServerError> {
        self.check()?;
        self.take_answer(answer, now)?;
        self.after_input(now);
        Ok(())
    }

    /// Reports the passive listener asked for by [`Action::Listen`]: its local address.
    pub fn listening(&mut self, id: DataId, addr: SocketAddr, now: Instant) {
        self.on_listening(id, addr, now);
        self.after_input(now);
    }

    /// Reports a connection accepted on the passive listener `id` from `peer`. Returns false
    /// when it is refused (another IP than the control connection's, or no longer wanted):
    /// close it. An accepted one becomes the [`Channel::Data`] connection.
    pub fn data_accepted(&mut self, id: DataId, peer: SocketAddr, now: Instant) -> bool {
        let accepted = self.on_accepted(id, peer, now);
        self.after_input(now);
        accepted
    }

    /// Reports that the active connection asked for by [`Action::Connect`] is established.
    pub fn data_connected(&mut self, id: DataId, now: Instant) {
        self.on_connected(id, now);
        self.after_input(now);
    }

    /// Reports that data connection `id` failed: the listener could not be bound, the connect
    /// failed, or the socket broke. `reason` is shown to the client.
    pub fn data_failed(&mut self, id: DataId, reason: &str, now: Instant) {
        self.on_data_failed(id, reason, now);
        self.after_input(now);
    }

    /// True while a download takes file content through
    /// [`send_file_data`](Self::send_file_data).
    pub fn wants_file_data(&self) -> bool {
        self.download_wants_data()
    }

    /// Hands over file content for the running download; returns how much was taken (0 when
    /// the data connection's buffer is full: write out [`Channel::Data`] first).
    pub fn send_file_data(&mut self, data: &[u8], now: Instant) -> Result<usize, ServerError> {
        self.check()?;
        Ok(self.push_download(data, now))
    }

    /// The download's file content ended (end of file reached).
    pub fn file_data_end(&mut self, now: Instant) -> Result<(), ServerError> {
        self.check()?;
        self.download_source_ended(None, now);
        self.after_input(now);
        Ok(())
    }

    /// Reading the download's file failed: the transfer is aborted with `451` and `reason`.
    pub fn file_read_failed(&mut self, reason: &str, now: Instant) -> Result<(), ServerError> {
        self.check()?;
        self.download_source_ended(Some(reason), now);
        self.after_input(now);
        Ok(())
    }

    /// Received upload content waiting to be written to the file (empty when none).
    pub fn file_data(&mut self) -> &[u8] {
        self.upload_data()
    }

    /// Marks `n` bytes of [`file_data`](Self::file_data) as written to the file.
    pub fn consume_file_data(&mut self, n: usize, now: Instant) {
        self.consume_upload(n, now);
        self.after_input(now);
    }

    /// Writing the upload's file failed: the transfer is aborted with the error's reply code
    /// (`452` for a full disk, `451` otherwise), reported partial, and the file closed through
    /// [`Request::FinishUpload`].
    pub fn file_write_failed(
        &mut self,
        error: &StorageError,
        now: Instant,
    ) -> Result<(), ServerError> {
        self.check()?;
        self.now = now;
        if self
            .transfer
            .as_ref()
            .is_some_and(|t| t.kind == TransferKind::Upload)
        {
            let code = match error.reply_code() {
                452 => 452,
                _ => 451,
            };
            self.abort_transfer(
                code,
                &format!("Write error: {error}: transfer aborted"),
                now,
            );
        }
        self.after_input(now);
        Ok(())
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() || self.close_emitted {
            return None;
        }
        let mut deadlines = Vec::new();
        // The idle deadline only counts while the session waits for the client (as in
        // `handle_timeout`): not while the caller owes an answer or a transfer runs.
        if self.transfer.is_none() && matches!(self.wait, control::Wait::None) {
            deadlines.push(self.last_activity + self.config.timeouts.idle);
        }
        if let control::Wait::Delayed { at, .. } = &self.wait {
            deadlines.push(*at);
        }
        deadlines.extend(self.transfer_deadline());
        deadlines.into_iter().min()
    }

    /// Acts on the deadlines that passed: a delayed reply, a data connection that did not
    /// come, a stalled transfer, an idle session (`421`, then [`ServerError::Timeout`]).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ServerError> {
        self.check()?;
        if let control::Wait::Delayed { at, .. } = &self.wait
            && now >= *at
        {
            self.release_delayed(now);
            self.check()?;
        }
        self.transfer_timeouts(now);
        let idle = self.transfer.is_none()
            && matches!(self.wait, control::Wait::None)
            && now >= self.last_activity + self.config.timeouts.idle;
        if idle {
            self.reply(421, "Idle timeout: closing the control connection");
            self.shutdown("idle timeout");
            return Err(self.fail(ServerError::Timeout("a command (idle session)")));
        }
        self.after_input(now);
        Ok(())
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref().filter(|_| self.logged_in)
    }

    /// The working directory.
    pub fn cwd(&self) -> &VirtualPath {
        &self.cwd
    }

    /// Bytes of the command line being framed that the session holds (at most
    /// [`crate::codec::command::MAX_COMMAND_LINE`]; nothing of an overlong line).
    pub fn control_buffered(&self) -> usize {
        self.control.framer.buffered()
    }

    /// The client's address (the control connection's peer).
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The error that ended the session, if one did.
    pub fn error(&self) -> Option<&ServerError> {
        self.error.as_ref()
    }

    /// True once the session asked for the control connection to close.
    pub fn is_closed(&self) -> bool {
        self.close_emitted
    }

    fn check(&self) -> Result<(), ServerError> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Records a fatal error: the session winds down (data closed, control closed once its
    /// last bytes are out).
    fn fail(&mut self, error: ServerError) -> ServerError {
        if self.error.is_none() {
            self.error = Some(error.clone());
            self.shutdown(&error.to_string());
        }
        error
    }

    fn event(&mut self, event: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Queues a one-line reply.
    fn reply(&mut self, code: u16, text: &str) {
        self.reply_lines(code, vec![text.to_owned()]);
    }

    fn reply_lines(&mut self, code: u16, lines: Vec<String>) {
        let text = lines.first().cloned().unwrap_or_default();
        let reply = crate::codec::reply::Reply::new(code, lines);
        self.control.queue(&reply.encode());
        self.event(Event::Replied { code, text });
    }

    /// Work that may follow any input: commands held back, finished transfers, closes.
    fn after_input(&mut self, now: Instant) {
        if self.error.is_some() {
            self.check_flushed();
            return;
        }
        self.progress_transfer(now);
        self.resume_commands(now);
        self.check_flushed();
    }

    /// Ends the session: aborts the transfer, closes the data connection, queues TLS
    /// close_notify; [`Action::CloseControl`] follows once the control bytes are out.
    fn shutdown(&mut self, reason: &str) {
        if self.quitting {
            return;
        }
        self.quitting = true;
        self.drop_transfer(reason);
        self.close_data_now();
        self.control.close();
        self.event(Event::Closed {
            reason: reason.to_owned(),
        });
    }

    fn check_flushed(&mut self) {
        self.data_flushed();
        if self.quitting && !self.close_emitted && self.control.is_flushed() {
            self.close_emitted = true;
            self.actions.push_back(Action::CloseControl);
        }
    }
}
