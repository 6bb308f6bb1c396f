//! The caller's side of a running transfer: upload data in, download data out, abort.

use std::time::Instant;

use super::ops::Op;
use super::transfer::TransferKind;
use super::{Error, FtpClient, OpError};

impl FtpClient {
    /// Queues upload data on the running upload's data connection (after
    /// [`Event::SendData`](super::Event::SendData)); returns how much was taken: 0 when the
    /// send buffer is full, until [`transmit`](Self::transmit) of that channel is drained.
    pub fn write_data(&mut self, data: &[u8], now: Instant) -> Result<usize, Error> {
        self.check()?;
        let n = self.upload_channel()?;
        let taken = match self.data_link(n).map(|link| link.send(data)) {
            Some(Ok(taken)) => taken,
            Some(Err(e)) => {
                let error = super::DataError::Tls(e);
                self.data_failed(n, error, now).map_err(|e| self.fail(e))?;
                return Err(Error::Usage("the upload failed; see Event::Failed"));
            }
            None => return Err(Error::Usage("the upload's data connection is not open")),
        };
        if let Some((_, Op::Transfer(t))) = &mut self.current {
            t.bytes += taken as u64;
        }
        Ok(taken)
    }

    /// Ends the running upload: TLS close_notify after the data, then the connection is shut
    /// down; the upload is [`Done`](super::Event::Done) when the server's `226` arrives.
    pub fn finish_upload(&mut self, now: Instant) -> Result<(), Error> {
        self.check()?;
        let n = self.upload_channel()?;
        if let Some(link) = self.data_link(n) {
            link.close();
        }
        if let Some((_, Op::Transfer(t))) = &mut self.current {
            t.upload_finished = true;
        }
        self.data_advanced(n, 0, now).map_err(|e| self.fail(e))
    }

    /// Downloaded data waiting to be read, without copying (empty when none is). Read until
    /// empty after each [`receive`](Self::receive) of the data connection, calling
    /// [`consume`](Self::consume) with what was used.
    pub fn received(&mut self) -> &[u8] {
        let Some(n) = self.download_channel() else {
            return &[];
        };
        match self.data_link(n).map(|link| link.plaintext()) {
            Some(Ok(data)) => data,
            _ => &[],
        }
    }

    /// Marks `n` bytes of [`received`](Self::received) as used.
    pub fn consume(&mut self, n: usize, now: Instant) -> Result<(), Error> {
        self.check()?;
        let Some(channel) = self.download_channel() else {
            return Err(Error::Usage("no download is running"));
        };
        let available = self.received().len();
        let n = n.min(available);
        if let Some(link) = self.data_link(channel) {
            link.consume(n);
        }
        if let Some((_, Op::Transfer(t))) = &mut self.current {
            t.bytes += n as u64;
            t.data_received_told = false;
        }
        self.progress(now).map_err(|e| self.fail(e))
    }

    /// Aborts the running transfer (`ABOR`); it ends with
    /// [`OpError::Aborted`] and the session goes on.
    pub fn abort(&mut self, now: Instant) -> Result<(), Error> {
        self.check()?;
        self.abort_transfer(OpError::Aborted, now)
            .map_err(|e| self.fail(e))
    }

    fn upload_channel(&self) -> Result<u64, Error> {
        match &self.current {
            Some((_, Op::Transfer(t))) if t.kind == TransferKind::Upload && t.failure.is_none() => {
                Ok(t.channel)
            }
            _ => Err(Error::Usage("no upload is running")),
        }
    }

    fn download_channel(&self) -> Option<u64> {
        match &self.current {
            Some((_, Op::Transfer(t))) if t.kind == TransferKind::Download => Some(t.channel),
            _ => None,
        }
    }
}
