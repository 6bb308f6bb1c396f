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

use std::collections::VecDeque;
use std::time::Instant;

use redy_tls::{HandshakeInfo, TlsSession};

pub use config::{Credentials, DeviceIdentity, Security, SmtpConfig, Timeouts};

use crate::{Address, BodyEncoder, Capabilities, Error, Mechanism, Reply, ReplyParser};

/// Most recipients in one message (RFC 5321 asks servers to accept at least 100).
pub const MAX_RECIPIENTS: usize = 100;
/// Bytes waiting to be sent above which [`SmtpClient::write_body`] takes no more.
pub const OUTBOX_LIMIT: usize = 64 * 1024;

/// What the session reports.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// TLS is up (implicit, or after STARTTLS).
    TlsEstablished(HandshakeInfo),
    /// Opportunistic mode only: STARTTLS was not possible; the session continues in CLEAR TEXT.
    TlsSkipped {
        /// Why.
        reason: String,
    },
    /// Greeted, protected as configured and authenticated: [`SmtpClient::start_mail`] may be
    /// called. Carries what the server offers.
    Ready(Capabilities),
    /// The server's answer for one recipient; accepted when `reply.is_positive()`.
    Recipient {
        /// The message, as numbered by [`SmtpClient::start_mail`].
        id: u64,
        /// The recipient.
        address: Address,
        /// The server's reply.
        reply: Reply,
    },
    /// DATA was accepted: write the body with [`SmtpClient::write_body`], then
    /// [`SmtpClient::finish_body`].
    SendBody,
    /// The server accepted the message (final 2xx after the body): it is now responsible for it.
    Sent {
        /// The message, as numbered by [`SmtpClient::start_mail`].
        id: u64,
        /// The server's reply (often with a queue id).
        reply: Reply,
    },
    /// The message was not accepted; the session is ready for another.
    Failed {
        /// The message, as numbered by [`SmtpClient::start_mail`].
        id: u64,
        /// The reply that ended it (MAIL, the last RCPT, DATA or end of data).
        reply: Reply,
    },
    /// The server answered NOOP.
    NoopDone,
    /// The server said goodbye (221): the session is over.
    Closed,
}

/// A reply the session is waiting for, in the order the commands were sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    Auth(Mechanism, usize),
    Mail,
    Rcpt(usize),
    Data,
    EndOfData(u64),
    Rset,
    Noop,
    Quit,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Self::Greeting => "the greeting",
            Self::Ehlo => "the EHLO reply",
            Self::Helo => "the HELO reply",
            Self::StartTls => "the STARTTLS reply",
            Self::Auth(..) => "the AUTH reply",
            Self::Mail => "the MAIL FROM reply",
            Self::Rcpt(_) => "an RCPT TO reply",
            Self::Data => "the DATA reply",
            Self::EndOfData(_) => "the reply to the end of data",
            Self::Rset => "the RSET reply",
            Self::Noop => "the NOOP reply",
            Self::Quit => "the QUIT reply",
        }
    }
}

/// Where the session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before Ready: greeting, EHLO, STARTTLS, AUTH.
    Opening,
    /// TLS handshake after STARTTLS (or implicit TLS before the greeting).
    Handshaking,
    /// Waiting for the caller's next message.
    Ready,
    /// A transaction's commands are out, replies pending.
    Envelope,
    /// The caller is writing the body.
    Body,
    /// The end of data is out, its reply pending.
    Submitted,
    /// QUIT sent.
    Quitting,
    /// 221 received.
    Closed,
}

/// A message in progress.
#[derive(Debug)]
struct Transaction {
    id: u64,
    recipients: Vec<Address>,
    /// DSN parameters added to every RCPT TO.
    rcpt_suffix: String,
    accepted: usize,
    failure: Option<Reply>,
}

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

    fn receive_clear(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
        let mut taken = 0;
        while taken < data.len() {
            let (n, reply) = self.parser.feed(&data[taken..])?;
            taken += n;
            if let Some(reply) = reply {
                self.on_reply(reply, now)?;
                if let Some(tls) = &self.tls {
                    // STARTTLS succeeded: whatever else came with the 220 is injected plaintext.
                    let leftover = data.len() - taken;
                    if leftover > 0 || self.parser.is_mid_reply() {
                        return Err(redy_tls::Error::BytesBeforeHandshake(leftover).into());
                    }
                    debug_assert!(tls.is_handshaking());
                    return Ok(taken);
                }
            }
        }
        Ok(taken)
    }

    fn receive_tls(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
        let mut taken = 0;
        loop {
            let tls = self.tls.as_mut().ok_or(Error::NotNow {
                action: "receive",
                state: "no TLS",
            })?;
            taken += tls.receive(&data[taken..])?;
            let events: Vec<redy_tls::Event> = std::iter::from_fn(|| tls.poll_event()).collect();
            for event in events {
                if let redy_tls::Event::HandshakeComplete(info) = event {
                    self.events.push_back(Event::TlsEstablished(info));
                    self.on_handshake(now);
                }
            }
            let tls = self.tls.as_mut().ok_or(Error::NotNow {
                action: "receive",
                state: "no TLS",
            })?;
            let plain = tls.plaintext()?;
            if plain.is_empty() {
                if taken == data.len() {
                    return Ok(taken);
                }
                continue;
            }
            let (n, reply) = self.parser.feed(plain)?;
            if let Some(tls) = &mut self.tls {
                tls.consume(n);
            }
            if let Some(reply) = reply {
                self.on_reply(reply, now)?;
            }
        }
    }

    fn on_handshake(&mut self, now: Instant) {
        match self.expect.front() {
            // Implicit TLS: the greeting comes over TLS.
            Some((Expect::Greeting, _)) => {
                self.phase = Phase::Opening;
                self.expect[0].1 = now;
            }
            // After STARTTLS: forget what was learned in clear, say EHLO again.
            _ => {
                self.caps = Capabilities::default();
                self.phase = Phase::Opening;
                let ehlo = format!("EHLO {}\r\n", self.config.ehlo_name);
                self.command(&ehlo, Expect::Ehlo, now);
            }
        }
    }

    fn on_reply(&mut self, reply: Reply, now: Instant) -> Result<(), Error> {
        let Some((expect, _)) = self.expect.pop_front() else {
            return Err(match reply.code() {
                421 => Error::Refused(reply),
                _ => Error::UnsolicitedData(reply.encode().len()),
            });
        };
        let unexpected = |reply: Reply| Error::UnexpectedReply {
            reply,
            waiting_for: expect.name(),
        };
        match expect {
            Expect::Greeting => match reply.code() {
                220 => self.command(
                    &format!("EHLO {}\r\n", self.config.ehlo_name),
                    Expect::Ehlo,
                    now,
                ),
                _ => return Err(Error::Refused(reply)),
            },
            Expect::Ehlo | Expect::Helo if reply.is_positive() => {
                self.caps = match expect {
                    Expect::Ehlo => Capabilities::from_ehlo(&reply),
                    _ => Capabilities::default(),
                };
                self.after_ehlo(now)?;
            }
            // EHLO refused: an old server; HELO gives no extensions (so no STARTTLS or AUTH).
            Expect::Ehlo if matches!(reply.code(), 500..=504 | 550) => {
                self.command(
                    &format!("HELO {}\r\n", self.config.ehlo_name),
                    Expect::Helo,
                    now,
                );
            }
            Expect::Ehlo | Expect::Helo => return Err(Error::Refused(reply)),
            Expect::StartTls if reply.code() == 220 => {
                self.tls = Some(TlsSession::client_upgrade(
                    &self.config.tls,
                    &self.config.server_name,
                    &[],
                )?);
                self.phase = Phase::Handshaking;
                self.handshake_started = now;
            }
            Expect::StartTls => {
                self.skip_tls(&format!("the server answered STARTTLS with {reply}"), now)?
            }
            Expect::Auth(mechanism, step) => match reply.code() {
                235 => self.ready(),
                334 => {
                    let credentials = self
                        .config
                        .credentials
                        .clone()
                        .ok_or(Error::CredentialsWithoutTls)?;
                    self.command(
                        &auth::response(mechanism, &credentials, step),
                        Expect::Auth(mechanism, step + 1),
                        now,
                    );
                }
                _ => return Err(Error::AuthFailed(reply)),
            },
            Expect::Mail => self.on_mail(reply, now),
            Expect::Rcpt(i) => self.on_rcpt(i, reply, now),
            Expect::Data => self.on_data(reply, now),
            Expect::EndOfData(id) => {
                if self.phase == Phase::Submitted {
                    self.phase = self.idle_phase();
                }
                self.events.push_back(match reply.is_positive() {
                    true => Event::Sent { id, reply },
                    false => Event::Failed { id, reply },
                });
            }
            Expect::Rset => {}
            Expect::Noop if reply.is_positive() => self.events.push_back(Event::NoopDone),
            Expect::Quit if reply.code() == 221 => {
                self.phase = Phase::Closed;
                if let Some(tls) = &mut self.tls {
                    tls.close();
                }
                self.events.push_back(Event::Closed);
            }
            Expect::Noop | Expect::Quit => return Err(unexpected(reply)),
        }
        Ok(())
    }

    /// After a positive EHLO/HELO: STARTTLS if needed, then AUTH, then Ready.
    fn after_ehlo(&mut self, now: Instant) -> Result<(), Error> {
        let wants_tls = matches!(
            self.config.security,
            Security::StartTlsRequired | Security::StartTlsOpportunisticMaySendInClear
        );
        if wants_tls && self.tls.is_none() {
            return match self.caps.starttls {
                true => {
                    self.command("STARTTLS\r\n", Expect::StartTls, now);
                    Ok(())
                }
                false => self.skip_tls("the server does not offer STARTTLS", now),
            };
        }
        self.authenticate(now)
    }

    fn skip_tls(&mut self, reason: &str, now: Instant) -> Result<(), Error> {
        if self.config.security != Security::StartTlsOpportunisticMaySendInClear {
            return Err(Error::TlsUnavailable {
                why: reason.to_owned(),
            });
        }
        self.events.push_back(Event::TlsSkipped {
            reason: format!("{reason}; continuing in CLEAR TEXT"),
        });
        self.authenticate(now)
    }

    fn authenticate(&mut self, now: Instant) -> Result<(), Error> {
        let Some(credentials) = self.config.credentials.clone() else {
            self.ready();
            return Ok(());
        };
        if self.tls.is_none() && !self.config.allow_credentials_in_clear {
            return Err(Error::CredentialsWithoutTls);
        }
        let mechanism = auth::choose(&credentials, &self.config.auth_preference, &self.caps)?;
        self.command(
            &auth::command(mechanism, &credentials),
            Expect::Auth(mechanism, 0),
            now,
        );
        Ok(())
    }

    fn ready(&mut self) {
        self.phase = Phase::Ready;
        self.events.push_back(Event::Ready(self.caps.clone()));
    }

    fn on_mail(&mut self, reply: Reply, now: Instant) {
        let Some(tx) = &mut self.transaction else {
            return;
        };
        if !reply.is_positive() {
            tx.failure = Some(reply);
            if !self.caps.pipelining {
                self.end_transaction(now);
            }
            return;
        }
        // Without pipelining, one RCPT at a time, each sent when the previous reply arrived.
        if !self.caps.pipelining {
            self.rcpt(0, now);
        }
    }

    fn on_rcpt(&mut self, i: usize, reply: Reply, now: Instant) {
        let Some(tx) = &mut self.transaction else {
            return;
        };
        let Some(address) = tx.recipients.get(i).cloned() else {
            return;
        };
        if tx.failure.is_none() {
            if reply.is_positive() {
                tx.accepted += 1;
            }
            let id = tx.id;
            self.events.push_back(Event::Recipient {
                id,
                address,
                reply: reply.clone(),
            });
        }
        let last = i + 1 == tx.recipients.len();
        if self.caps.pipelining {
            if last && tx.accepted == 0 && tx.failure.is_none() {
                tx.failure = Some(reply);
            }
            return;
        }
        match (last, tx.accepted) {
            (false, _) => self.rcpt(i + 1, now),
            (true, 0) => {
                tx.failure = Some(reply);
                self.end_transaction(now);
            }
            (true, _) => self.command("DATA\r\n", Expect::Data, now),
        }
    }

    fn on_data(&mut self, reply: Reply, now: Instant) {
        let Some(tx) = &mut self.transaction else {
            return;
        };
        match (reply.code(), tx.failure.is_some()) {
            (354, false) => {
                self.phase = Phase::Body;
                self.body_progress = now;
                self.events.push_back(Event::SendBody);
            }
            // Pipelined DATA accepted although no recipient was (RFC 2920 §3.1): end it empty,
            // the server then refuses the transaction.
            (354, true) => {
                let (id, failure) = (tx.id, tx.failure.take());
                self.body.finish(&mut self.outbox);
                // The reply to the empty body is only consumed (as if to RSET), not reported.
                self.expect.push_back((Expect::Rset, now));
                self.transaction = None;
                self.phase = self.idle_phase();
                if let Some(reply) = failure {
                    self.events.push_back(Event::Failed { id, reply });
                }
            }
            _ => {
                tx.failure.get_or_insert(reply);
                self.end_transaction(now);
            }
        }
    }

    /// Reports a failed transaction and resets the server's state.
    fn end_transaction(&mut self, now: Instant) {
        if let Some(tx) = self.transaction.take()
            && let Some(reply) = tx.failure
        {
            self.events.push_back(Event::Failed { id: tx.id, reply });
        }
        self.command("RSET\r\n", Expect::Rset, now);
        self.phase = self.idle_phase();
    }

    /// Ready, or Submitted while a message still awaits its final reply.
    fn idle_phase(&self) -> Phase {
        match self
            .expect
            .iter()
            .any(|(e, _)| matches!(e, Expect::EndOfData(_)))
        {
            true => Phase::Submitted,
            false => Phase::Ready,
        }
    }

    fn rcpt(&mut self, i: usize, now: Instant) {
        let Some(tx) = &self.transaction else { return };
        let Some(address) = tx.recipients.get(i) else {
            return;
        };
        let line = format!("RCPT TO:<{address}>{}\r\n", tx.rcpt_suffix);
        self.command(&line, Expect::Rcpt(i), now);
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

/// The envelope of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM.
    pub sender: Address,
    /// RCPT TO, in order (To, Cc and Bcc alike).
    pub recipients: Vec<Address>,
    /// The message size, announced with SIZE when the server supports it.
    pub size: Option<u64>,
    /// The body has 8-bit content (BODY=8BITMIME when offered).
    pub eight_bit: bool,
    /// Headers need SMTPUTF8 (also set automatically for non-ASCII addresses).
    pub utf8: bool,
    /// Delivery status notifications to ask for, when the server offers DSN.
    pub dsn: Option<Dsn>,
}

/// RFC 3461 delivery status notification requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dsn {
    /// What a bounce returns of the message (`RET`).
    pub ret: Option<DsnReturn>,
    /// When to notify (`NOTIFY`); empty means never.
    pub notify: Vec<DsnNotify>,
}

/// `RET=FULL` or `RET=HDRS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsnReturn {
    /// The whole message.
    Full,
    /// Its headers only.
    Headers,
}

/// One `NOTIFY` condition.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsnNotify {
    /// On successful delivery.
    Success,
    /// On failure.
    Failure,
    /// On delay.
    Delay,
}

impl DsnNotify {
    fn keyword(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Delay => "DELAY",
        }
    }
}

impl Envelope {
    /// An envelope from a sender to recipients.
    pub fn new(sender: Address, recipients: Vec<Address>) -> Self {
        Self {
            sender,
            recipients,
            size: None,
            eight_bit: false,
            utf8: false,
            dsn: None,
        }
    }
}
