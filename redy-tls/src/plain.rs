//! [`PlainStream`]: the clear-text counterpart of [`TlsSession`](crate::TlsSession), with the
//! same byte-moving methods, for what runs before a TLS upgrade (the FTP control connection
//! before `AUTH TLS`) and for the **insecure** opt-ins of tests and fuzzing. Nothing here is
//! encrypted or authenticated.
//!
//! Bounds: at most [`PLAIN_RECEIVE_LIMIT`] received bytes wait to be consumed, and
//! [`send`](PlainStream::send) takes no more once [`SEND_BUFFER_LIMIT`] bytes wait to be
//! written out.

use crate::{Error, SEND_BUFFER_LIMIT};

/// Most received clear text a [`PlainStream`] holds before [`PlainStream::receive`] takes no
/// more.
pub const PLAIN_RECEIVE_LIMIT: usize = 64 * 1024;

/// A clear-text byte stream: received bytes in, plaintext out, and the reverse for sending.
#[derive(Debug, Default)]
pub struct PlainStream {
    inbox: Vec<u8>,
    in_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    ended: bool,
    reported_end: bool,
    closing: bool,
}

impl PlainStream {
    /// A stream at its start.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes received bytes; returns how many, fewer than offered when
    /// [`PLAIN_RECEIVE_LIMIT`] bytes wait to be consumed.
    pub fn receive(&mut self, data: &[u8]) -> usize {
        if self.in_pos > 0 {
            self.inbox.drain(..self.in_pos);
            self.in_pos = 0;
        }
        let n = data
            .len()
            .min(PLAIN_RECEIVE_LIMIT.saturating_sub(self.inbox.len()));
        self.inbox.extend_from_slice(&data[..n]);
        n
    }

    /// The peer's end of the stream.
    pub fn receive_eof(&mut self) {
        self.ended = true;
    }

    /// Received bytes not yet consumed.
    pub fn plaintext(&self) -> &[u8] {
        &self.inbox[self.in_pos..]
    }

    /// Marks `n` bytes of [`plaintext`](Self::plaintext) as used.
    pub fn consume(&mut self, n: usize) {
        self.in_pos = (self.in_pos + n).min(self.inbox.len());
    }

    /// Queues bytes for the peer; returns how many were taken (none once
    /// [`SEND_BUFFER_LIMIT`] bytes wait in [`transmit`](Self::transmit)).
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        if self.closing {
            return Err(Error::SendAfterClose);
        }
        self.compact_out();
        let n = data
            .len()
            .min(SEND_BUFFER_LIMIT.saturating_sub(self.out.len()));
        self.out.extend_from_slice(&data[..n]);
        Ok(n)
    }

    /// Queues all of `data`, beyond [`SEND_BUFFER_LIMIT`] if need be: for bounded messages
    /// sent one at a time.
    pub fn send_all(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.closing {
            return Err(Error::SendAfterClose);
        }
        self.compact_out();
        self.out.extend_from_slice(data);
        Ok(())
    }

    /// Bytes to write to the transport.
    pub fn transmit(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as written.
    pub fn advance(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
    }

    /// Ends what we send: nothing can be sent after it.
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// True when nothing waits to be written.
    pub fn is_flushed(&self) -> bool {
        self.out_pos == self.out.len()
    }

    /// True once, when the peer's stream ended and every received byte was consumed.
    pub fn poll_end(&mut self) -> bool {
        let end = self.ended && !self.reported_end && self.plaintext().is_empty();
        self.reported_end |= end;
        end
    }

    fn compact_out(&mut self) {
        if self.out_pos > 0 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiving_stops_at_the_limit_and_resumes_after_a_partial_consume() {
        let mut s = PlainStream::new();
        let data = vec![7u8; PLAIN_RECEIVE_LIMIT + 10];
        assert_eq!(s.receive(&data), PLAIN_RECEIVE_LIMIT);
        assert_eq!(s.receive(b"x"), 0);
        s.consume(5);
        assert_eq!(s.receive(b"abcdefg"), 5, "room is what was consumed");
        assert_eq!(s.plaintext().len(), PLAIN_RECEIVE_LIMIT);
        assert!(s.plaintext().ends_with(b"abcde"));
    }

    #[test]
    fn sending_is_bounded_and_send_all_is_not() {
        let mut s = PlainStream::new();
        let data = vec![1u8; SEND_BUFFER_LIMIT + 3];
        assert_eq!(s.send(&data).unwrap(), SEND_BUFFER_LIMIT);
        assert_eq!(s.send(b"more").unwrap(), 0);
        s.send_all(b"QUIT\r\n").unwrap();
        assert_eq!(s.transmit().len(), SEND_BUFFER_LIMIT + 6);
        s.advance(SEND_BUFFER_LIMIT);
        assert_eq!(s.transmit(), b"QUIT\r\n");
        assert_eq!(s.send(b"ok").unwrap(), 2, "room again once written");
        s.advance(8);
        assert!(s.is_flushed());
    }

    #[test]
    fn nothing_is_sent_after_close() {
        let mut s = PlainStream::new();
        s.close();
        assert_eq!(s.send(b"x"), Err(Error::SendAfterClose));
        assert_eq!(s.send_all(b"x"), Err(Error::SendAfterClose));
    }

    #[test]
    fn the_end_is_reported_once_after_the_last_byte_was_consumed() {
        let mut s = PlainStream::new();
        s.receive(b"bye");
        s.receive_eof();
        assert!(!s.poll_end(), "bytes still unread");
        s.consume(3);
        assert!(s.poll_end());
        assert!(!s.poll_end());
    }
}
