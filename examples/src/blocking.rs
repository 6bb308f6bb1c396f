//! [`TlsStream`]: a [`TlsSession`] driven over a blocking `Read + Write` transport.

use std::io::{self, Read, Write};

use redy_tls::{Event, HandshakeInfo, TlsSession};

/// Size of the buffer ciphertext is read into.
const READ_CHUNK: usize = 16 * 1024;

/// A TLS connection over a blocking transport, usable as `Read + Write`.
///
/// `read` returns 0 only after the peer's close_notify; an end of stream without it is an
/// `UnexpectedEof` error, so a truncated transfer never looks complete. Errors from the session
/// come back as `io::Error`s wrapping [`redy_tls::Error`].
#[derive(Debug)]
pub struct TlsStream<S> {
    session: TlsSession,
    io: S,
    buf: Vec<u8>,
    pending: std::ops::Range<usize>,
    peer_closed: bool,
    truncated: bool,
}

impl<S: Read + Write> TlsStream<S> {
    /// Runs the handshake to completion over `io`.
    pub fn connect(session: TlsSession, io: S) -> io::Result<Self> {
        let mut stream = Self {
            session,
            io,
            buf: vec![0; READ_CHUNK],
            pending: 0..0,
            peer_closed: false,
            truncated: false,
        };
        while stream.session.is_handshaking() {
            stream.flush_tls()?;
            if !stream.fill()? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "EOF during the TLS handshake",
                ));
            }
        }
        stream.flush_tls()?;
        Ok(stream)
    }

    /// What the handshake settled on.
    pub fn handshake(&self) -> Option<&HandshakeInfo> {
        self.session.handshake()
    }

    /// The session.
    pub fn session(&self) -> &TlsSession {
        &self.session
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// Sends close_notify and flushes it.
    pub fn close(&mut self) -> io::Result<()> {
        self.session.close();
        self.flush_tls()
    }

    /// Reads everything up to the peer's close_notify.
    pub fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        let mut all = Vec::new();
        self.read_to_end(&mut all)?;
        Ok(all)
    }

    fn flush_tls(&mut self) -> io::Result<()> {
        loop {
            let out = self.session.transmit();
            if out.is_empty() {
                return self.io.flush();
            }
            let n = self.io.write(out)?;
            self.session.advance(n);
        }
    }

    /// Feeds ciphertext to the session; false at the transport's end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pending.is_empty() {
            let n = self.io.read(&mut self.buf)?;
            if n == 0 {
                self.session.receive_eof().map_err(io::Error::other)?;
                self.drain_events();
                return Ok(false);
            }
            self.pending = 0..n;
        }
        let taken = self
            .session
            .receive(&self.buf[self.pending.clone()])
            .map_err(|e| {
                // Still tell the peer why, as a TLS stack should.
                let _ = self.flush_tls();
                io::Error::other(e)
            })?;
        self.pending.start += taken;
        self.drain_events();
        self.flush_tls()?;
        Ok(true)
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::PeerClosed => self.peer_closed = true,
                Event::Truncated => self.truncated = true,
                _ => {}
            }
        }
    }
}

impl<S: Read + Write> Read for TlsStream<S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.session.read(out).map_err(io::Error::other)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            if self.peer_closed {
                return Ok(0);
            }
            if self.truncated {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed without TLS close_notify: data may be truncated",
                ));
            }
            self.fill()?;
        }
    }
}

impl<S: Read + Write> Write for TlsStream<S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        loop {
            let n = self.session.send(data).map_err(io::Error::other)?;
            self.flush_tls()?;
            if n > 0 || data.is_empty() {
                return Ok(n);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()
    }
}
