//! The SMTP submission client: one Sans-IO machine per connection.
//!
//! ```text
//!  ImplicitTls: TLS handshake ─┐
//!                              ▼
//!  connect ──► 220 greeting ──► EHLO ──► (STARTTLS ─► 220 ─► TLS ─► EHLO again)
//!                 (HELO if EHLO refused)        │ required mode: not offered / refused = error
//!                                               ▼
//!                          AUTH PLAIN | LOGIN | XOAUTH2 (only over TLS) ──► Ready
//!  Ready ─ start_mail ─► MAIL FROM, RCPT TO… , DATA   (one flight with PIPELINING)
//!        ◄─ Recipient events ─ SendBody (354) ─ write_body… finish_body ─► Sent | Failed
//!        ─ quit ─► QUIT ─► 221 ─► close_notify ─► Closed
//! ```
//!
//! The caller moves bytes ([`SmtpClient::receive`], [`SmtpClient::transmit`] /
//! [`SmtpClient::advance`]), passes the time in, and calls [`SmtpClient::handle_timeout`] at
//! [`SmtpClient::poll_timeout`]. Errors are fatal and sticky; a failed transaction is not an
//! error (an [`Event::Failed`], after which the session is usable again).
//!
//! Limits: replies as in [`crate::reply`]; at most [`MAX_RECIPIENTS`] recipients per message;
//! [`write_body`](SmtpClient::write_body) stops taking input while [`OUTBOX_LIMIT`] bytes wait
//! to be sent.

mod auth;
mod config;
mod envelope;
mod event;
mod replies;

use std::collections::VecDeque;
use std::time::Instant;

use redy_tls::TlsSession;

pub use config::{Credentials, DeviceIdentity, Security, SmtpConfig, Timeouts};
pub use envelope::{Dsn, DsnNotify, DsnReturn, Envelope};
pub use event::Event;

use replies::{Expect, Phase, Transaction};

use crate::{Address, BodyEncoder, Capabilities, Error, ReplyParser};

/// Most recipients in one message (RFC 5321 asks servers to accept at least 100).
pub const MAX_RECIPIENTS: usize = 100;
/// Bytes waiting to be sent above which [`SmtpClient::write_body`] takes no more.
pub const OUTBOX_LIMIT: usize = 64 * 1024;

/// An SMTP submission session; see the [module docs](self).
#[derive(Debug)]
pub struct SmtpClient {
    config: SmtpConfig,
    tls: Option<TlsSession>,
    phase: Phase,
    expect: VecDeque<(Expect, Instant)>,
    parser: ReplyParser,
    outbox: Vec<u8>,
    events: VecDeque<Event>,
    caps: Capabilities,
    transaction: Option<Transaction>,
    next_id: u64,
    body: BodyEncoder,
    body_progress: Instant,
    handshake_started: Instant,
    error: Option<Error>,
}

impl SmtpClient {
    /// Starts a session on a transport that just connected at `now`.
    pub fn new(config: SmtpConfig, now: Instant) -> Result<Self, Error> {
        let tls = match config.security {
            Security::ImplicitTls => Some(TlsSession::client(&config.tls, &config.server_name)?),
            _ => None,
        };
        let phase = if tls.is_some() {
            Phase::Handshaking
        } else {
            Phase::Opening
        };
        Ok(Self {
            config,
            tls,
            phase,
            expect: VecDeque::from([(Expect::Greeting, now)]),
            parser: ReplyParser::default(),
            outbox: Vec::new(),
            events: VecDeque::new(),
            caps: Capabilities::default(),
            transaction: None,
            next_id: 0,
            body: BodyEncoder::new(),
            body_progress: now,
            handshake_started: now,
            error: None,
        })
    }

    /// Feeds bytes received from the transport; returns how many were taken (fewer means
    /// offer the rest again after handling events).
    pub fn receive(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
        self.check()?;
        let result = match self.tls.is_some() {
            true => self.receive_tls(data, now),
            false => self.receive_clear(data, now),
        };
        result.map_err(|e| self.fail(e))
    }

    /// Reports that the transport ended. After `221` this is the normal end, with or without
    /// TLS close_notify; anywhere else it is [`Error::ConnectionClosed`].
    pub fn receive_eof(&mut self, _now: Instant) -> Result<(), Error> {
        self.check()?;
        if self.phase == Phase::Closed {
            return Ok(());
        }
        if let Some(tls) = &mut self.tls {
            tls.receive_eof()
                .map_err(Error::from)
                .map_err(|e| self.fail(e))?;
        }
        let waiting = self
            .expect
            .front()
            .map(|(e, _)| e.name())
            .unwrap_or("the next reply");
        Err(self.fail(Error::ConnectionClosed(waiting)))
    }

    /// Bytes to write to the transport; call [`advance`](Self::advance) with how many went.
    pub fn transmit(&mut self) -> &[u8] {
        match &mut self.tls {
            Some(tls) => {
                if !self.outbox.is_empty()
                    && tls.handshake().is_some()
                    && let Ok(n) = tls.send(&self.outbox)
                {
                    self.outbox.drain(..n);
                }
                tls.transmit()
            }
            None => &self.outbox,
        }
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as written.
    pub fn advance(&mut self, n: usize) {
        match &mut self.tls {
            Some(tls) => tls.advance(n),
            None => {
                self.outbox.drain(..n.min(self.outbox.len()));
            }
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called, if anything is awaited.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() {
            return None;
        }
        let t = &self.config.timeouts;
        if self.phase == Phase::Handshaking
            && self.expect.front().map(|(e, _)| *e) != Some(Expect::Greeting)
        {
            return Some(self.handshake_started + t.command);
        }
        if self.phase == Phase::Body {
            return Some(self.body_progress + t.data_block);
        }
        let (expect, since) = self.expect.front()?;
        let wait = match expect {
            Expect::Greeting => t.greeting,
            Expect::Data => t.data_init,
            Expect::EndOfData(_) => t.end_of_data,
            _ => t.command,
        };
        Some(*since + wait)
    }

    /// Fails the session if its deadline has passed.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.check()?;
        match self.poll_timeout() {
            Some(deadline) if now >= deadline => {
                let what = match self.phase {
                    Phase::Body => "the caller's next piece of body",
                    Phase::Handshaking
                        if self.expect.front().map(|(e, _)| *e) != Some(Expect::Greeting) =>
                    {
                        "the TLS handshake"
                    }
                    _ => self
                        .expect
                        .front()
                        .map(|(e, _)| e.name())
                        .unwrap_or("the server"),
                };
                Err(self.fail(Error::Timeout(what)))
            }
            _ => Ok(()),
        }
    }

    /// What the server offers (after [`Event::Ready`]).
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The error that ended the session, if one did.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Starts a message and returns its number, which its events carry: MAIL FROM with SIZE /
    /// BODY=8BITMIME / SMTPUTF8 / DSN when offered and needed, RCPT TO for each recipient and
    /// DATA — in one flight when the server offers PIPELINING. With PIPELINING a message may
    /// start while the previous one still awaits its final reply (RFC 2920 §3.1): its commands
    /// then follow that message's final dot.
    pub fn start_mail(&mut self, envelope: &Envelope, now: Instant) -> Result<u64, Error> {
        self.check()?;
        self.require(Phase::Ready, "start a message")?;
        if envelope.recipients.is_empty() || envelope.recipients.len() > MAX_RECIPIENTS {
            return Err(Error::NotNow {
                action: "start a message",
                state: "it needs 1 to 100 recipients",
            });
        }
        let utf8 = envelope.utf8
            || envelope.sender.needs_utf8()
            || envelope.recipients.iter().any(Address::needs_utf8);
        if utf8 && !self.caps.smtp_utf8 {
            return Err(Error::Unsupported("SMTPUTF8"));
        }
        if let (Some(size), Some(limit)) = (envelope.size, self.caps.size)
            && limit > 0
            && size > limit
        {
            return Err(Error::TooLarge { size, limit });
        }
        let mut mail = format!("MAIL FROM:<{}>", envelope.sender);
        if let (Some(size), Some(_)) = (envelope.size, self.caps.size) {
            mail.push_str(&format!(" SIZE={size}"));
        }
        let dsn = envelope.dsn.as_ref().filter(|_| self.caps.dsn);
        if let Some(ret) = dsn.and_then(|d| d.ret) {
            mail.push_str(if ret == DsnReturn::Full {
                " RET=FULL"
            } else {
                " RET=HDRS"
            });
        }
        if envelope.eight_bit && self.caps.eight_bit_mime {
            mail.push_str(" BODY=8BITMIME");
        }
        if utf8 {
            mail.push_str(" SMTPUTF8");
        }
        mail.push_str("\r\n");
        self.command(&mail, Expect::Mail, now);
        let rcpt_suffix = match dsn.map(|d| d.notify.as_slice()) {
            Some([]) => " NOTIFY=NEVER".to_owned(),
            Some(notify) => {
                let names: Vec<&str> = notify.iter().map(|n| n.keyword()).collect();
                format!(" NOTIFY={}", names.join(","))
            }
            None => String::new(),
        };
        let id = self.next_id;
        self.next_id += 1;
        self.transaction = Some(Transaction {
            id,
            recipients: envelope.recipients.clone(),
            rcpt_suffix,
            accepted: 0,
            failure: None,
        });
        if self.caps.pipelining {
            for i in 0..envelope.recipients.len() {
                self.rcpt(i, now);
            }
            self.command("DATA\r\n", Expect::Data, now);
        }
        self.phase = Phase::Envelope;
        Ok(id)
    }

    /// Hands over body bytes (after [`Event::SendBody`]); returns how many were taken, 0 while
    /// [`OUTBOX_LIMIT`] bytes wait to be sent. Line ends become CRLF and leading dots are doubled.
    pub fn write_body(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
        self.check()?;
        self.require(Phase::Body, "write the body")?;
        self.body_progress = now;
        let room = OUTBOX_LIMIT.saturating_sub(self.pending_out());
        let n = data.len().min(room / 2);
        self.body.encode(&data[..n], &mut self.outbox);
        Ok(n)
    }

    /// Ends the body; the reply comes as [`Event::Sent`] or [`Event::Failed`].
    pub fn finish_body(&mut self, now: Instant) -> Result<(), Error> {
        self.check()?;
        self.require(Phase::Body, "finish the body")?;
        self.body.finish(&mut self.outbox);
        let id = self.transaction.take().map(|tx| tx.id).unwrap_or_default();
        self.expect.push_back((Expect::EndOfData(id), now));
        self.phase = Phase::Submitted;
        Ok(())
    }

    /// Sends NOOP (keeps an idle session alive); answered by [`Event::NoopDone`].
    pub fn noop(&mut self, now: Instant) -> Result<(), Error> {
        self.check()?;
        self.require(Phase::Ready, "send NOOP")?;
        self.command("NOOP\r\n", Expect::Noop, now);
        Ok(())
    }

    /// Ends the session politely: QUIT, then [`Event::Closed`] on `221`.
    pub fn quit(&mut self, now: Instant) -> Result<(), Error> {
        self.check()?;
        self.require(Phase::Ready, "quit")?;
        self.command("QUIT\r\n", Expect::Quit, now);
        self.phase = Phase::Quitting;
        Ok(())
    }

    fn command(&mut self, line: &str, expect: Expect, now: Instant) {
        self.outbox.extend_from_slice(line.as_bytes());
        self.expect.push_back((expect, now));
    }

    fn pending_out(&self) -> usize {
        self.outbox.len()
    }

    /// Checks that `action` fits the session's state. `Phase::Ready` means idle: no transaction
    /// open and only RSET or (with PIPELINING) end-of-data replies outstanding.
    fn require(&self, phase: Phase, action: &'static str) -> Result<(), Error> {
        let ok = match phase {
            Phase::Ready => {
                let pending_end = self
                    .expect
                    .iter()
                    .any(|(e, _)| matches!(e, Expect::EndOfData(_)));
                matches!(self.phase, Phase::Ready | Phase::Submitted)
                    && self.transaction.is_none()
                    && self
                        .expect
                        .iter()
                        .all(|(e, _)| matches!(e, Expect::Rset | Expect::EndOfData(_)))
                    && (self.caps.pipelining || !pending_end)
            }
            other => self.phase == other,
        };
        if ok {
            return Ok(());
        }
        let state = match self.phase {
            Phase::Opening | Phase::Handshaking => "the session is still opening",
            Phase::Ready => "the session is waiting for a reply",
            Phase::Envelope => "the envelope is being sent",
            Phase::Body => "the body is being written",
            Phase::Submitted => "the message awaits its final reply",
            Phase::Quitting | Phase::Closed => "the session is closing",
        };
        Err(Error::NotNow { action, state })
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
