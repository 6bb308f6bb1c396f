//! One socket under one HTTP machine: what the server connections and the delivery workers
//! share.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::time::{Duration, Instant};

use redy_eshare::http::{Client, Server};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// Bytes read from the socket at a time (one TLS record and some).
const READ_BUFFER: usize = 18 * 1024;

thread_local! {
    /// The read buffer of every connection a runtime thread serves: a read is handled without
    /// an await between the socket and the machine, so one buffer a thread is enough, and an
    /// idle connection holds none.
    static READ: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUFFER].into_boxed_slice());
}

/// What the HTTP client and server machines have in common.
pub(super) trait Machine {
    fn transmit(&mut self) -> &[u8];
    fn advance(&mut self, n: usize);
    fn receive(&mut self, data: &[u8], now: Instant) -> usize;
    fn receive_eof(&mut self, now: Instant);
    fn poll_timeout(&self) -> Option<Instant>;
    fn handle_timeout(&mut self, now: Instant);
}

macro_rules! machine {
    ($t:ty) => {
        impl Machine for $t {
            fn transmit(&mut self) -> &[u8] {
                <$t>::transmit(self)
            }
            fn advance(&mut self, n: usize) {
                <$t>::advance(self, n)
            }
            fn receive(&mut self, data: &[u8], now: Instant) -> usize {
                <$t>::receive(self, data, now)
            }
            fn receive_eof(&mut self, now: Instant) {
                <$t>::receive_eof(self, now)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$t>::poll_timeout(self)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$t>::handle_timeout(self, now)
            }
        }
    };
}
machine!(Client);
machine!(Server);

/// A socket and its machine, with the bytes read but not yet taken.
pub(super) struct Wire<M> {
    pub(super) stream: TcpStream,
    pub(super) machine: M,
    /// Read but not taken yet (the machine's input was full); empty and unallocated mostly.
    pending: Vec<u8>,
    eof: bool,
    /// The machine's next deadline, kept registered between turns rather than made anew.
    timer: Pin<Box<Sleep>>,
}

impl<M: Machine> Wire<M> {
    pub(super) fn new(stream: TcpStream, machine: M) -> Self {
        Self {
            stream,
            machine,
            pending: Vec::new(),
            eof: false,
            timer: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
        }
    }

    /// Sleeps until `deadline`, then fires the machine's timeouts.
    async fn expire(&mut self, deadline: tokio::time::Instant) {
        self.timer.as_mut().reset(deadline);
        self.timer.as_mut().await;
        self.machine.handle_timeout(Instant::now());
    }

    /// Writes everything the machine has to send.
    pub(super) async fn flush(&mut self) -> io::Result<()> {
        loop {
            let out = self.machine.transmit();
            if out.is_empty() {
                return self.stream.flush().await;
            }
            let n = self.stream.write(out).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.machine.advance(n);
        }
    }

    /// Flushes, then moves the machine on by one step: bytes left from the last read, new
    /// bytes or the end of the stream, or a timeout. The caller handles the machine's events
    /// between turns (taking body bytes is what lets it accept more).
    pub(super) async fn turn(&mut self) -> io::Result<()> {
        self.flush().await?;
        let deadline = self
            .machine
            .poll_timeout()
            .map(tokio::time::Instant::from_std);
        if !self.pending.is_empty() {
            let n = self.machine.receive(&self.pending, Instant::now());
            self.pending.drain(..n);
            if self.pending.is_empty() {
                self.pending = Vec::new();
            }
            // Taking nothing, the machine is full and the caller has nothing to take: only a
            // timeout moves it.
            if let (0, Some(t)) = (n, deadline) {
                self.expire(t).await;
            }
            return Ok(());
        }
        if self.eof {
            let Some(t) = deadline else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            self.expire(t).await;
            return Ok(());
        }
        if let Some(t) = deadline
            && self.timer.deadline() != t
        {
            self.timer.as_mut().reset(t);
        }
        let timer = &mut self.timer;
        tokio::select! {
            ready = self.stream.readable() => {
                ready?;
                READ.with_borrow_mut(|buf| {
                    let n = match self.stream.try_read(buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                        Err(e) => return Err(e),
                    };
                    let now = Instant::now();
                    if n == 0 {
                        self.eof = true;
                        self.machine.receive_eof(now);
                    } else {
                        let taken = self.machine.receive(&buf[..n], now);
                        self.pending.extend_from_slice(&buf[taken..n]);
                    }
                    Ok(())
                })?;
            }
            () = timer.as_mut(), if deadline.is_some() => {
                self.machine.handle_timeout(Instant::now());
            }
        }
        Ok(())
    }

    /// True when the peer has closed or sent bytes while no exchange was under way: a kept-alive
    /// connection that should not carry the next request.
    pub(super) fn stale(&mut self) -> bool {
        if self.eof || !self.pending.is_empty() {
            return true;
        }
        let mut probe = [0u8; 1];
        !matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}
