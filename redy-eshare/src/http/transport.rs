//! The transport side the client and server machines share, written once: bytes in and out
//! through the link, and the received body buffer. Each machine has `link`, `error`, `body`,
//! `process(now)` and `fail(error)`.

/// Writes `receive`, `receive_eof`, `transmit`, `advance`, `body` and `consume_body` for a
/// machine.
macro_rules! transport_methods {
    () => {
        /// Takes bytes from the transport; returns how many were taken.
        pub fn receive(&mut self, data: &[u8], now: Instant) -> usize {
            if self.error.is_some() {
                return 0;
            }
            match self.link.receive(data) {
                Ok(n) => {
                    self.process(now);
                    n
                }
                Err(e) => {
                    self.fail(e.into());
                    0
                }
            }
        }

        /// The transport reached EOF.
        pub fn receive_eof(&mut self, now: Instant) {
            if self.error.is_none() {
                match self.link.receive_eof() {
                    Ok(()) => self.process(now),
                    Err(e) => self.fail(e.into()),
                }
            }
        }

        /// Bytes to write to the transport.
        pub fn transmit(&mut self) -> &[u8] {
            self.link.transmit()
        }

        /// `n` bytes of [`transmit`](Self::transmit) were written.
        pub fn advance(&mut self, n: usize) {
            self.link.advance(n);
        }

        /// Received body bytes (at most [`BODY_SLICE`](super::server::BODY_SLICE)); release
        /// them with [`consume_body`](Self::consume_body).
        pub fn body(&self) -> &[u8] {
            &self.body
        }

        /// Releases `n` bytes of [`body`](Self::body), making room for more (and for the next
        /// message, which waits until its predecessor's body is taken).
        pub fn consume_body(&mut self, n: usize, now: Instant) {
            self.body.drain(..n.min(self.body.len()));
            self.process(now);
        }
    };
}

pub(super) use transport_methods;
