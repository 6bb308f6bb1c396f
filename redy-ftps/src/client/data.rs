//! Data connections: the one of the running transfer (asked for, open, then closing) and the
//! retiring ones that still flush our close_notify or wait for the server's, whose session
//! tickets the next data connection resumes with.

use std::time::Instant;

use super::link::{End, Link, LinkEvent};
use super::ops::Op;
use super::{Action, Channel, DataError, Error, FtpClient};

/// A data connection: asked for, open, or closing.
#[derive(Debug)]
pub(crate) struct DataChannel {
    pub(super) number: u64,
    pub(super) link: Option<Link>,
    pub(super) end: Option<End>,
    pub(super) shut: bool,
    pub(super) deadline: Option<(Instant, &'static str)>,
}

impl DataChannel {
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline.map(|(t, _)| t)
    }
}

impl FtpClient {
    pub(super) fn open_data(&mut self, number: u64, now: Instant) {
        let deadline = Some((
            now + self.config.timeouts.data_connect,
            "the data connection",
        ));
        self.data = Some(DataChannel {
            number,
            link: None,
            end: None,
            shut: false,
            deadline,
        });
    }

    pub(super) fn data_failed(
        &mut self,
        n: u64,
        error: DataError,
        now: Instant,
    ) -> Result<(), Error> {
        if let Some((_, Op::Transfer(t))) = &mut self.current
            && t.channel == n
        {
            t.failure.get_or_insert(error.into());
        }
        self.progress(now)
    }

    /// Bytes received on data connection `n`.
    pub(super) fn receive_data(
        &mut self,
        n: u64,
        data: &[u8],
        now: Instant,
    ) -> Result<usize, Error> {
        let idle = self.config.timeouts.data_idle;
        let Some(d) = self.data.as_mut().filter(|d| d.number == n) else {
            if let Some(link) = self
                .retiring
                .iter_mut()
                .find(|d| d.number == n)
                .and_then(|d| d.link.as_mut())
            {
                // Session tickets, close_notify: taken; plaintext: dropped.
                let _ = link.receive(data);
                let len = link.plaintext().map(<[u8]>::len).unwrap_or(0);
                link.consume(len);
            }
            self.settle_retiring(n);
            return Ok(data.len());
        };
        let Some(link) = d.link.as_mut() else {
            return Ok(data.len());
        };
        let taken = match link.receive(data) {
            Ok(taken) => taken,
            Err(e) => {
                self.data_tls_error(n, e);
                data.len()
            }
        };
        if let Some(d) = self
            .data
            .as_mut()
            .filter(|d| d.link.as_ref().is_some_and(Link::is_established))
        {
            d.deadline = Some((now + idle, "data on the data connection"));
        }
        self.progress(now)?;
        Ok(taken)
    }

    pub(super) fn data_eof(&mut self, n: u64, now: Instant) -> Result<(), Error> {
        if let Some(link) = self
            .data
            .as_mut()
            .filter(|d| d.number == n)
            .and_then(|d| d.link.as_mut())
        {
            if let Err(e) = link.receive_eof() {
                self.data_tls_error(n, e);
            }
        } else {
            if let Some(d) = self.retiring.iter_mut().find(|d| d.number == n) {
                d.end.get_or_insert(End::Truncated);
            }
            self.settle_retiring(n);
        }
        self.progress(now)
    }

    /// Closes retiring data connection `n` once it has nothing more to do: our close_notify
    /// sent and, after an upload, the server's end of the stream seen (it may still send the
    /// session tickets the next data connection resumes with; proftpd does, with its
    /// close_notify).
    fn settle_retiring(&mut self, n: u64) {
        let Some(pos) = self.retiring.iter().position(|d| d.number == n) else {
            return;
        };
        let d = &mut self.retiring[pos];
        if let Some(link) = d.link.as_mut() {
            while let Some(event) = link.poll_event() {
                if let LinkEvent::Ended(end) = event {
                    d.end.get_or_insert(end);
                }
            }
        }
        let flushed = d.link.as_ref().is_none_or(Link::is_flushed);
        if flushed && (d.end.is_some() || !d.shut) {
            self.retiring.remove(pos);
            self.push_action(Action::Close {
                channel: Channel::Data(n),
            });
        }
    }

    fn data_tls_error(&mut self, n: u64, e: redy_tls::Error) {
        let error = match e {
            redy_tls::Error::HandshakeEof => DataError::ReuseRequired(
                "the server closed the data connection during the TLS handshake, as servers that \
                 require session reuse do with data connections that do not resume"
                    .into(),
            ),
            e => DataError::Tls(e),
        };
        if let Some((_, Op::Transfer(t))) = &mut self.current
            && t.channel == n
        {
            t.failure.get_or_insert(error.into());
        }
    }

    pub(super) fn data_advanced(
        &mut self,
        n: u64,
        written: usize,
        now: Instant,
    ) -> Result<(), Error> {
        let idle = self.config.timeouts.data_idle;
        self.settle_retiring(n);
        if let Some(d) = self.data.as_mut().filter(|d| d.number == n) {
            if written > 0 && d.link.as_ref().is_some_and(Link::is_established) {
                d.deadline = Some((now + idle, "data on the data connection"));
            }
            let upload_finished =
                matches!(&self.current, Some((_, Op::Transfer(t))) if t.upload_finished);
            if upload_finished && !d.shut && d.link.as_ref().is_some_and(Link::is_flushed) {
                d.shut = true;
                self.actions.push_back(Action::Shutdown {
                    channel: Channel::Data(n),
                });
            }
        }
        self.progress(now)
    }

    pub(super) fn data_link(&mut self, n: u64) -> Option<&mut Link> {
        match self.data.as_mut().filter(|d| d.number == n) {
            Some(d) => d.link.as_mut(),
            None => self
                .retiring
                .iter_mut()
                .find(|d| d.number == n)?
                .link
                .as_mut(),
        }
    }

    pub(super) fn data_timeout(&mut self, now: Instant) -> Result<(), Error> {
        let Some(d) = self.data.as_mut() else {
            return Ok(());
        };
        match d.deadline {
            Some((deadline, what)) if now >= deadline => {
                d.deadline = None;
                self.abort_transfer(DataError::Timeout(what).into(), now)
            }
            _ => Ok(()),
        }
    }

    /// Ends the current data connection well: close_notify, then `Close` once it is sent.
    pub(super) fn retire_data(&mut self) {
        let Some(mut d) = self.data.take() else {
            return;
        };
        d.deadline = None;
        match d.link.as_mut() {
            Some(link) => {
                link.close();
                let n = d.number;
                self.retiring.push(d);
                // Keep at most a few; the oldest is just closed.
                while self.retiring.len() > 4 {
                    let old = self.retiring.remove(0);
                    self.actions.push_back(Action::Close {
                        channel: Channel::Data(old.number),
                    });
                }
                self.settle_retiring(n);
            }
            None => self.actions.push_back(Action::Close {
                channel: Channel::Data(d.number),
            }),
        }
    }

    /// Drops the current data connection at once (after a failure).
    pub(super) fn drop_data(&mut self) {
        if let Some(d) = self.data.take() {
            self.push_action(Action::Close {
                channel: Channel::Data(d.number),
            });
        }
    }
}
