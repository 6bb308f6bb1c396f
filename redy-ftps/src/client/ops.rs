//! The operations a caller queues, and the ones that need no data connection.

use std::time::{Instant, SystemTime};

use super::features::{parse_mdtm, parse_quoted_path, parse_size};
use super::link::Link;
use super::setup::Phase;
use super::transfer::{Transfer, TransferKind};
use super::{Error, Event, FtpClient, ListFormat, MAX_QUEUED_OPS, OpError, Outcome};
use crate::codec::command::Command;
use crate::codec::listing::parse_mlst_entry;
use crate::codec::reply::Reply;

/// A queued or running operation.
#[derive(Debug)]
pub(crate) enum Op {
    /// One command and its final reply.
    Command {
        command: Command,
        expect: Expect,
    },
    /// `RNFR`, `350`, `RNTO`.
    Rename {
        from: String,
        to: String,
        sent_to: bool,
    },
    Transfer(Box<Transfer>),
    Quit,
}

/// What a command's final reply carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    Reply,
    Size,
    Modified,
    Path,
    Entry,
    /// `CCC`: on `200` the control connection leaves TLS.
    ClearControl,
}

impl FtpClient {
    /// Queues a directory listing of `path` (the current directory when `None`); entries
    /// arrive as [`Event::Entry`] (or [`Event::Name`] for [`ListFormat::Names`]).
    /// `wall_clock` dates `LIST` lines that show no year.
    pub fn list(
        &mut self,
        path: Option<&str>,
        format: ListFormat,
        wall_clock: SystemTime,
        now: Instant,
    ) -> Result<u64, Error> {
        let path = path.map(str::to_owned);
        let reference = match wall_clock.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        let command = match format {
            ListFormat::List => Command::List(path),
            ListFormat::Mlsd => Command::Mlsd(path),
            ListFormat::Names => Command::Nlst(path),
        };
        self.queue_transfer(TransferKind::List { format, reference }, command, 0, now)
    }

    /// Queues a download of `path` from byte `offset` (`REST`); the data arrives through
    /// [`received`](Self::received) after [`Event::DataReceived`].
    pub fn retrieve(&mut self, path: &str, offset: u64, now: Instant) -> Result<u64, Error> {
        let command = Command::Retr(path.to_owned());
        self.queue_transfer(TransferKind::Download, command, offset, now)
    }

    /// Queues an upload to `path`, replacing it, or from byte `offset` of it when not 0
    /// (`REST` then `STOR`, to resume an upload). Write the data after [`Event::SendData`].
    pub fn store(&mut self, path: &str, offset: u64, now: Instant) -> Result<u64, Error> {
        let command = Command::Stor(path.to_owned());
        self.queue_transfer(TransferKind::Upload, command, offset, now)
    }

    /// Queues an upload appended to `path` (`APPE`).
    pub fn append(&mut self, path: &str, now: Instant) -> Result<u64, Error> {
        let command = Command::Appe(path.to_owned());
        self.queue_transfer(TransferKind::Upload, command, 0, now)
    }

    /// Queues `CWD path`.
    pub fn cwd(&mut self, path: &str, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Cwd(path.to_owned()), Expect::Reply, now)
    }

    /// Queues `CDUP`.
    pub fn cdup(&mut self, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Cdup, Expect::Reply, now)
    }

    /// Queues `PWD`; gives [`Outcome::Path`].
    pub fn pwd(&mut self, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Pwd, Expect::Path, now)
    }

    /// Queues `MKD path`.
    pub fn mkdir(&mut self, path: &str, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Mkd(path.to_owned()), Expect::Reply, now)
    }

    /// Queues `RMD path`.
    pub fn rmdir(&mut self, path: &str, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Rmd(path.to_owned()), Expect::Reply, now)
    }

    /// Queues `DELE path`.
    pub fn delete(&mut self, path: &str, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Dele(path.to_owned()), Expect::Reply, now)
    }

    /// Queues `RNFR from` then `RNTO to`.
    pub fn rename(&mut self, from: &str, to: &str, now: Instant) -> Result<u64, Error> {
        Command::Rnfr(from.to_owned())
            .encode()
            .map_err(Error::Argument)?;
        Command::Rnto(to.to_owned())
            .encode()
            .map_err(Error::Argument)?;
        let op = Op::Rename {
            from: from.to_owned(),
            to: to.to_owned(),
            sent_to: false,
        };
        self.queue(op, now)
    }

    /// Queues `SIZE path`; gives [`Outcome::Size`].
    pub fn size(&mut self, path: &str, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Size(path.to_owned()), Expect::Size, now)
    }

    /// Queues `MDTM path`; gives [`Outcome::Modified`].
    pub fn modified(&mut self, path: &str, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Mdtm(path.to_owned()), Expect::Modified, now)
    }

    /// Queues `MLST path`; gives [`Outcome::Entry`].
    pub fn mlst(&mut self, path: Option<&str>, now: Instant) -> Result<u64, Error> {
        let command = Command::Mlst(path.map(str::to_owned));
        self.queue_command(command, Expect::Entry, now)
    }

    /// Queues `SYST`.
    pub fn system(&mut self, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Syst, Expect::Reply, now)
    }

    /// Queues `CCC` (RFC 4217 §6): after the server's `200` the control connection returns to
    /// clear text, for NAT routers and firewalls that must read `PASV`/`PORT` replies; data
    /// connections stay under TLS (`PROT P`).
    ///
    /// **This lowers security, and is an explicit opt-in**: from then on anyone on the path can
    /// read the commands and replies (paths, file names, sizes) and alter them. The login is
    /// over, so no password crosses in clear. Fails with a usage error without a TLS control
    /// connection; a server that refuses (`534`, `500`) leaves the session as it was.
    pub fn ccc(&mut self, now: Instant) -> Result<u64, Error> {
        if !matches!(self.control, Link::Tls(_)) {
            return Err(Error::Usage("CCC needs a TLS control connection"));
        }
        self.queue_command(Command::Ccc, Expect::ClearControl, now)
    }

    /// Queues `NOOP` (keeps an idle session alive).
    pub fn noop(&mut self, now: Instant) -> Result<u64, Error> {
        self.queue_command(Command::Noop, Expect::Reply, now)
    }

    /// Queues `QUIT`; [`Event::Closed`] follows its reply. Nothing can be queued after it.
    pub fn quit(&mut self, now: Instant) -> Result<u64, Error> {
        self.queue(Op::Quit, now)
    }

    fn queue_command(
        &mut self,
        command: Command,
        expect: Expect,
        now: Instant,
    ) -> Result<u64, Error> {
        command.encode().map_err(Error::Argument)?;
        self.queue(Op::Command { command, expect }, now)
    }

    fn queue_transfer(
        &mut self,
        kind: TransferKind,
        command: Command,
        offset: u64,
        now: Instant,
    ) -> Result<u64, Error> {
        command.encode().map_err(Error::Argument)?;
        self.queue(
            Op::Transfer(Box::new(Transfer::new(kind, command, offset))),
            now,
        )
    }

    fn queue(&mut self, op: Op, now: Instant) -> Result<u64, Error> {
        self.check()?;
        let quitting = matches!(self.phase, Phase::Quitting | Phase::Closed)
            || matches!(self.queue.back(), Some((_, Op::Quit)));
        if quitting {
            return Err(Error::Usage("QUIT was already queued"));
        }
        if self.queue.len() >= MAX_QUEUED_OPS {
            return Err(Error::Usage("too many queued operations"));
        }
        self.next_op += 1;
        let id = self.next_op;
        self.queue.push_back((id, op));
        self.start_next(now).map_err(|e| self.fail(e))?;
        Ok(id)
    }

    /// Starts the next queued operation when the session is ready and idle.
    pub(super) fn start_next(&mut self, now: Instant) -> Result<(), Error> {
        if self.phase != Phase::Ready || self.current.is_some() {
            return Ok(());
        }
        let Some((id, op)) = self.queue.pop_front() else {
            return Ok(());
        };
        match op {
            Op::Command { command, expect } => {
                self.send_command(&command, "a command's reply", now)?;
                self.current = Some((id, Op::Command { command, expect }));
            }
            Op::Rename { from, to, .. } => {
                self.send_command(&Command::Rnfr(from.clone()), "the RNFR reply", now)?;
                let sent_to = false;
                self.current = Some((id, Op::Rename { from, to, sent_to }));
            }
            Op::Transfer(transfer) => self.start_transfer(id, transfer, now)?,
            Op::Quit => {
                self.send_command(&Command::Quit, "the QUIT reply", now)?;
                self.phase = Phase::Quitting;
            }
        }
        Ok(())
    }

    /// Handles a reply while the session is ready.
    pub(super) fn on_op_reply(&mut self, reply: Reply, now: Instant) -> Result<(), Error> {
        if self.abor_fence {
            // Until the NOOP's reply (2xx, or 500-504 from a server without NOOP), replies are
            // left over from ABOR: 225/226, and the transfer's 426 that proftpd sometimes sends
            // after its ABOR reply.
            let code = reply.code();
            if (200..300).contains(&code) && code != 225 && code != 226
                || (500..=504).contains(&code)
            {
                self.abor_fence = false;
            }
            return Ok(());
        }
        // The reply to an ABOR whose transfer already ended: replies come in order, so it is
        // the first one after that transfer's.
        if self.abor_replies_due > 0 && !self.awaits_abor_reply() {
            self.abor_replies_due -= 1;
            return Ok(());
        }
        let Some((id, op)) = self.current.take() else {
            return Err(Error::UnexpectedReply {
                waiting: "nothing",
                reply,
            });
        };
        match op {
            Op::Transfer(transfer) => return self.on_transfer_reply(id, transfer, reply, now),
            op if reply.is_preliminary() => self.current = Some((id, op)),
            Op::Command { expect, .. } => {
                if expect == Expect::ClearControl && reply.is_positive() {
                    self.control.unwind();
                }
                self.finish(id, outcome(expect, reply), now)?
            }
            Op::Rename { from, to, sent_to } if !sent_to && reply.code() == 350 => {
                self.send_command(&Command::Rnto(to.clone()), "the RNTO reply", now)?;
                let sent_to = true;
                self.current = Some((id, Op::Rename { from, to, sent_to }));
            }
            Op::Rename { .. } => self.finish(id, outcome(Expect::Reply, reply), now)?,
            Op::Quit => {}
        }
        Ok(())
    }

    /// Reports operation `id`'s result and starts the next one.
    pub(super) fn finish(
        &mut self,
        id: u64,
        result: Result<Outcome, OpError>,
        now: Instant,
    ) -> Result<(), Error> {
        self.current = None;
        self.events.push_back(match result {
            Ok(outcome) => Event::Done { id, outcome },
            Err(error) => Event::Failed { id, error },
        });
        self.start_next(now)
    }
}

/// A command's final reply as the caller wants it.
fn outcome(expect: Expect, reply: Reply) -> Result<Outcome, OpError> {
    if !reply.is_positive() {
        return Err(OpError::Refused(reply));
    }
    let value = match expect {
        Expect::Reply | Expect::ClearControl => Some(Outcome::Reply(reply.clone())),
        Expect::Size => parse_size(&reply).map(Outcome::Size),
        Expect::Modified => parse_mdtm(&reply).map(Outcome::Modified),
        Expect::Path => parse_quoted_path(&reply).map(Outcome::Path),
        Expect::Entry => reply
            .lines()
            .iter()
            .skip(1)
            .find_map(|line| parse_mlst_entry(line.as_bytes()).ok())
            .map(Outcome::Entry),
    };
    value.ok_or(OpError::BadReply(reply))
}
