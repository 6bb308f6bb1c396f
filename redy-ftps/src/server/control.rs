//! The control connection: clear or TLS bytes in and out, `AUTH TLS` and `CCC` switches,
//! command framing, and what the command flow waits for.

use std::time::Instant;

use redy_tls::{Event as TlsEvent, TlsSession};

use super::{CONTROL_OUT_LIMIT, Channel, DataId, Event, ServerError, ServerSession};
use crate::codec::CodecError;
use crate::codec::command::{Command, CommandFramer};

/// TLS record header: type, version (2 bytes), length (2 bytes).
const RECORD_HEADER: usize = 5;

/// What the command flow waits for before it reads the next command.
#[derive(Debug)]
pub(super) enum Wait {
    /// Nothing: commands are read.
    None,
    /// The answer to the outstanding request, and what to do with it.
    Answer(super::answers::Pending),
    /// The caller's report of the passive listener asked for (PASV or EPSV).
    Listen { id: DataId, extended: bool },
    /// A reply held back until `at` (after a failed login); `close` ends the session then.
    Delayed {
        at: Instant,
        code: u16,
        text: String,
        close: bool,
    },
}

/// The control connection's bytes.
#[derive(Debug)]
pub(super) struct ControlConn {
    pub(super) tls: Option<TlsSession>,
    /// Bytes to send in clear: everything before `AUTH TLS` (its `234` included), or after
    /// `CCC`. Sent before anything TLS.
    clear_out: Vec<u8>,
    /// Replies waiting to enter the TLS session.
    out: Vec<u8>,
    pub(super) framer: CommandFramer,
    /// `AUTH TLS` was answered: the next bytes from the client must be TLS.
    pub(super) upgrade: bool,
    /// `CCC` was answered: TLS ends at the client's close_notify; clear text follows.
    pub(super) ccc: bool,
    closing: bool,
    tls_closed: bool,
}

impl ControlConn {
    pub(super) fn new(tls: Option<TlsSession>) -> Self {
        Self {
            tls,
            clear_out: Vec::new(),
            out: Vec::new(),
            framer: CommandFramer::new(),
            upgrade: false,
            ccc: false,
            closing: false,
            tls_closed: false,
        }
    }

    pub(super) fn queue(&mut self, bytes: &[u8]) {
        if self.closing {
            return;
        }
        match &self.tls {
            Some(_) => self.out.extend_from_slice(bytes),
            None => self.clear_out.extend_from_slice(bytes),
        }
    }

    /// Bytes queued and not yet handed to the transport.
    pub(super) fn pending(&self) -> usize {
        self.clear_out.len() + self.out.len()
    }

    pub(super) fn transmit(&mut self) -> &[u8] {
        if !self.clear_out.is_empty() {
            return &self.clear_out;
        }
        let Some(tls) = &mut self.tls else {
            return &[];
        };
        if tls.error().is_some() {
            self.out.clear();
        } else if !self.out.is_empty()
            && let Ok(n) = tls.send(&self.out)
        {
            self.out.drain(..n);
        }
        if (self.closing || self.ccc) && self.out.is_empty() && !self.tls_closed {
            tls.close();
            self.tls_closed = true;
        }
        tls.transmit()
    }

    pub(super) fn advance(&mut self, n: usize) {
        if !self.clear_out.is_empty() {
            self.clear_out.drain(..n.min(self.clear_out.len()));
        } else if let Some(tls) = &mut self.tls {
            tls.advance(n);
        }
    }

    /// Queues TLS close_notify after the replies already queued.
    pub(super) fn close(&mut self) {
        self.closing = true;
    }

    pub(super) fn is_flushed(&self) -> bool {
        let tls_done = match &self.tls {
            None => true,
            Some(tls) if tls.error().is_some() => tls.is_flushed(),
            Some(tls) => {
                self.out.is_empty() && tls.is_flushed() && (self.tls_closed || tls.is_handshaking())
            }
        };
        self.clear_out.is_empty() && tls_done
    }
}

impl ServerSession {
    pub(super) fn receive_control(
        &mut self,
        data: &[u8],
        now: Instant,
    ) -> Result<usize, ServerError> {
        self.now = now;
        if self.quitting {
            return Ok(data.len());
        }
        match self.control.tls.is_some() {
            true => self.receive_control_tls(data, now),
            false => self.receive_control_clear(data, now),
        }
    }

    fn receive_control_clear(&mut self, data: &[u8], now: Instant) -> Result<usize, ServerError> {
        let mut taken = 0;
        while taken < data.len() && self.can_read_command() {
            let (n, line) = self.control.framer.feed(&data[taken..]);
            taken += n;
            if let Some(line) = line {
                self.handle_line(line, now);
            }
            if std::mem::take(&mut self.control.upgrade) {
                // Whatever followed AUTH TLS before our 234 could be read is an injection.
                let tls = TlsSession::server_upgrade(&self.scope, &data[taken..])?;
                self.control.tls = Some(tls);
                self.control.tls_closed = false;
                return Ok(data.len());
            }
        }
        Ok(taken)
    }

    fn receive_control_tls(&mut self, data: &[u8], now: Instant) -> Result<usize, ServerError> {
        let taken = match self.control.ccc {
            false => match &mut self.control.tls {
                Some(tls) => tls.receive(data)?,
                None => return Ok(0),
            },
            // After CCC: whole records only, so that the clear text following the client's
            // close_notify is not swallowed by the TLS session.
            true => {
                let mut taken = 0;
                while let Some(header) = data.get(taken..taken + RECORD_HEADER) {
                    let length = usize::from(header[3]) << 8 | usize::from(header[4]);
                    let end = taken + RECORD_HEADER + length;
                    let (Some(record), Some(tls)) = (data.get(taken..end), &mut self.control.tls)
                    else {
                        break;
                    };
                    tls.receive(record)?;
                    taken = end;
                    if self.control_tls_events() {
                        return Ok(taken + self.receive_control_clear(&data[taken..], now)?);
                    }
                }
                taken
            }
        };
        if self.control_tls_events() {
            return Ok(taken + self.receive_control_clear(&data[taken..], now)?);
        }
        self.pump_tls_commands(now);
        Ok(taken)
    }

    /// Handles the control TLS session's events; true when TLS just ended after `CCC` (the
    /// connection is clear from here on).
    fn control_tls_events(&mut self) -> bool {
        let mut ended = false;
        while let Some(event) = self.control.tls.as_mut().and_then(TlsSession::poll_event) {
            match event {
                TlsEvent::HandshakeComplete(info) => self.event(Event::TlsEstablished {
                    channel: Channel::Control,
                    info,
                }),
                TlsEvent::PeerClosed if self.control.ccc => ended = true,
                _ => self.shutdown("the client closed the control connection"),
            }
        }
        if ended {
            self.control.ccc = false;
            if let Some(tls) = self.control.tls.take() {
                // Our close_notify went out after the 200; anything still queued goes clear.
                drop(tls);
            }
            let pending = std::mem::take(&mut self.control.out);
            self.control.clear_out.extend_from_slice(&pending);
        }
        ended
    }

    /// Reads commands out of the TLS session's plaintext while the flow allows.
    pub(super) fn pump_tls_commands(&mut self, now: Instant) {
        while self.can_read_command() {
            let Some(tls) = &mut self.control.tls else {
                return;
            };
            let plaintext = match tls.plaintext() {
                Ok(p) if !p.is_empty() => p,
                _ => return,
            };
            let (n, line) = self.control.framer.feed(plaintext);
            tls.consume(n);
            if let Some(line) = line {
                self.handle_line(line, now);
            }
        }
    }

    pub(super) fn control_eof(&mut self, now: Instant) {
        self.now = now;
        if let Some(tls) = &mut self.control.tls {
            let _ = tls.receive_eof();
        }
        self.shutdown("the client closed the control connection");
    }

    /// True when the next command may be read.
    pub(super) fn can_read_command(&self) -> bool {
        self.error.is_none()
            && !self.quitting
            && matches!(self.wait, Wait::None)
            && self.stashed.is_none()
            && !self.control.upgrade
            && self.control.pending() < CONTROL_OUT_LIMIT
    }

    /// Runs a held command once the transfer that held it is over, then reads on.
    pub(super) fn resume_commands(&mut self, now: Instant) {
        if self.transfer.is_none()
            && matches!(self.wait, Wait::None)
            && !self.quitting
            && let Some(line) = self.stashed.take()
        {
            self.handle_line(Ok(line), now);
        }
        if self.control.tls.is_some() && !self.control.ccc {
            self.pump_tls_commands(now);
        }
    }

    /// One framed line (or the refusal of an overlong one).
    fn handle_line(&mut self, line: Result<Vec<u8>, CodecError>, now: Instant) {
        self.last_activity = now;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                self.event(Event::Command("<overlong line discarded>".to_owned()));
                return self.reply(500, &format!("Command line refused: {e}"));
            }
        };
        let command = match Command::parse(&line) {
            Ok(command) => command,
            Err(CodecError::MalformedCommand { verb, why })
                if !verb.is_empty() && why != "not a command verb" =>
            {
                self.event(Event::Command(verb.clone()));
                return self.reply(501, &format!("Syntax error in the {verb} arguments: {why}"));
            }
            Err(e) => {
                self.event(Event::Command("<malformed>".to_owned()));
                return self.reply(500, &format!("Syntax error: {e}"));
            }
        };
        // While a transfer runs only ABOR, STAT and NOOP are answered; one other command
        // waits for its end (and no further line is read meanwhile).
        if self.transfer.is_some()
            && !matches!(command, Command::Abor | Command::Stat(None) | Command::Noop)
        {
            self.stashed = Some(line);
            return;
        }
        self.event(Event::Command(shown(&command)));
        self.command(command, now);
    }

    /// Releases the reply held back after a failed login.
    pub(super) fn release_delayed(&mut self, _now: Instant) {
        if let Wait::Delayed {
            code, text, close, ..
        } = std::mem::replace(&mut self.wait, Wait::None)
        {
            self.reply(code, &text);
            if close {
                let failures = self.failures;
                self.reply(
                    421,
                    "Too many failed logins: closing the control connection",
                );
                self.fail(ServerError::TooManyLoginFailures(failures));
            }
        }
    }
}

/// A command as logged: verb and argument, the password hidden.
fn shown(command: &Command) -> String {
    match (command, command.argument()) {
        (Command::Pass(_), _) => "PASS <hidden>".to_owned(),
        (_, Some(arg)) => format!("{} {arg}", command.verb()),
        (_, None) => command.verb().to_owned(),
    }
}
