//! Session set-up: greeting, `AUTH TLS`, login, `FEAT`, `OPTS UTF8 ON`, `PBSZ 0`, `PROT P`,
//! `TYPE I`.

use std::time::Instant;

use redy_tls::TlsSession;

use super::link::Link;
use super::{Error, Event, Features, FtpClient, Security};
use crate::codec::command::{Command, ProtectionLevel, TransferType};
use crate::codec::reply::Reply;

/// Where the session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Greeting,
    AuthTls,
    User,
    Pass,
    Feat,
    Utf8,
    Pbsz,
    Prot,
    Type,
    Ready,
    Quitting,
    Closed,
}

impl FtpClient {
    /// Handles a reply before the session is ready; true when `AUTH TLS` was accepted.
    pub(super) fn on_setup_reply(&mut self, reply: Reply, now: Instant) -> Result<bool, Error> {
        let code = reply.code();
        match self.phase {
            // 120: "ready in n minutes"; the 220 follows.
            Phase::Greeting if reply.is_preliminary() => {}
            Phase::Greeting if code == 220 => match self.config.security {
                Security::ExplicitTls => {
                    self.send_command(&Command::Auth("TLS".into()), "the AUTH TLS reply", now)?;
                    self.phase = Phase::AuthTls;
                }
                _ => self.send_user(now)?,
            },
            Phase::Greeting => return Err(refused("the greeting", reply)),
            Phase::AuthTls if code == 234 => return Ok(true),
            Phase::AuthTls => return Err(refused("AUTH TLS", reply)),
            Phase::User if code == 331 => {
                let pass = Command::Pass(self.config.password.clone());
                self.send_command(&pass, "the PASS reply", now)?;
                self.phase = Phase::Pass;
            }
            Phase::User | Phase::Pass if code == 230 || code == 202 => {
                self.send_command(&Command::Feat, "the FEAT reply", now)?;
                self.phase = Phase::Feat;
            }
            Phase::User | Phase::Pass => return Err(refused("login", reply)),
            Phase::Feat => {
                if code == 211 {
                    self.features = Features::parse(&reply);
                }
                if self.features.utf8 {
                    let opts = Command::Opts("UTF8 ON".into());
                    self.send_command(&opts, "the OPTS UTF8 reply", now)?;
                    self.phase = Phase::Utf8;
                } else {
                    self.protect(now)?;
                }
            }
            // Refusing UTF-8 is not fatal: paths then go as the caller gave them.
            Phase::Utf8 => self.protect(now)?,
            Phase::Pbsz if reply.is_positive() => {
                let prot = Command::Prot(ProtectionLevel::Private);
                self.send_command(&prot, "the PROT P reply", now)?;
                self.phase = Phase::Prot;
            }
            Phase::Pbsz => return Err(refused("PBSZ 0", reply)),
            Phase::Prot if reply.is_positive() => self.binary(now)?,
            Phase::Prot => return Err(refused("PROT P", reply)),
            Phase::Type if reply.is_positive() => {
                self.phase = Phase::Ready;
                self.login_tickets = self.tls.tls13_tickets(&self.config.server_name);
                self.events.push_back(Event::Ready);
                self.start_next(now)?;
            }
            Phase::Type => return Err(refused("TYPE I", reply)),
            Phase::Quitting if reply.is_preliminary() => {}
            Phase::Quitting => {
                self.phase = Phase::Closed;
                self.control.close();
                self.events.push_back(Event::Closed);
            }
            Phase::Ready | Phase::Closed => {
                return Err(Error::UnexpectedReply {
                    waiting: "nothing",
                    reply,
                });
            }
        }
        Ok(false)
    }

    /// Switches the control connection to TLS after `234`; `pending` bytes had arrived after
    /// it (together with what the clear-text link still holds, they came before the
    /// handshake and are refused).
    pub(super) fn start_control_tls(&mut self, pending: usize, now: Instant) -> Result<(), Error> {
        let leftover = self.control.unread() + pending;
        let session = TlsSession::client_upgrade(
            &self.tls,
            &self.config.server_name,
            &vec![0; leftover.min(1)],
        )
        .map_err(|e| match e {
            redy_tls::Error::BytesBeforeHandshake(_) => {
                redy_tls::Error::BytesBeforeHandshake(leftover)
            }
            e => e,
        })?;
        self.control = Link::Tls(session);
        // The USER reply comes after the handshake.
        let deadline = now + self.config.timeouts.connect + self.config.timeouts.reply;
        self.reply_deadline = Some((deadline, "the TLS handshake and the USER reply"));
        let user = Command::User(self.config.user.clone());
        let line = user.encode().map_err(Error::Argument)?;
        self.control.send_all(&line)?;
        self.phase = Phase::User;
        Ok(())
    }

    fn send_user(&mut self, now: Instant) -> Result<(), Error> {
        let user = Command::User(self.config.user.clone());
        self.send_command(&user, "the USER reply", now)?;
        self.phase = Phase::User;
        Ok(())
    }

    /// `PBSZ 0` and `PROT P` over TLS, in implicit mode too; straight to `TYPE I` without TLS.
    fn protect(&mut self, now: Instant) -> Result<(), Error> {
        match self.config.security.is_tls() {
            true => {
                self.send_command(&Command::Pbsz(0), "the PBSZ reply", now)?;
                self.phase = Phase::Pbsz;
                Ok(())
            }
            false => self.binary(now),
        }
    }

    fn binary(&mut self, now: Instant) -> Result<(), Error> {
        self.send_command(&Command::Type(TransferType::Image), "the TYPE reply", now)?;
        self.phase = Phase::Type;
        Ok(())
    }
}

fn refused(step: &'static str, reply: Reply) -> Error {
    Error::Refused { step, reply }
}
