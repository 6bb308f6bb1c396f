//! Reply handling: what each server reply moves the session to. The session's state lives in
//! [`SmtpClient`]; the replies it waits for are queued as [`Expect`]s, in the order the commands
//! were sent, which is what makes pipelining natural.

use std::time::Instant;

use redy_tls::TlsSession;

use super::{Event, Security, SmtpClient, auth};
use crate::{Address, Capabilities, Error, Mechanism, Reply};

/// A reply the session is waiting for, in the order the commands were sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Expect {
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
    pub(super) fn name(self) -> &'static str {
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
pub(super) enum Phase {
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
pub(super) struct Transaction {
    pub(super) id: u64,
    pub(super) recipients: Vec<Address>,
    /// DSN parameters added to every RCPT TO.
    pub(super) rcpt_suffix: String,
    pub(super) accepted: usize,
    pub(super) failure: Option<Reply>,
}

impl SmtpClient {
    pub(super) fn receive_clear(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
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

    pub(super) fn receive_tls(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
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
    pub(super) fn idle_phase(&self) -> Phase {
        match self
            .expect
            .iter()
            .any(|(e, _)| matches!(e, Expect::EndOfData(_)))
        {
            true => Phase::Submitted,
            false => Phase::Ready,
        }
    }

    pub(super) fn rcpt(&mut self, i: usize, now: Instant) {
        let Some(tx) = &self.transaction else { return };
        let Some(address) = tx.recipients.get(i) else {
            return;
        };
        let line = format!("RCPT TO:<{address}>{}\r\n", tx.rcpt_suffix);
        self.command(&line, Expect::Rcpt(i), now);
    }
}
