//! The transport under [`FtpSession`](super::FtpSession): non-blocking sockets polled with
//! mio, one control connection and its data connections and listeners.
//!
//! mio because a session must read several sockets at once: the control connection can
//! answer at any time, and a TLS 1.3 server sends session tickets on every data connection,
//! uploads included, which the next data connection needs to resume.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use redy_ftps::client::{Action, Channel, FtpClient};

/// Size of each socket read.
const READ_CHUNK: usize = 64 * 1024;

/// One socket and what is known of it.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    /// Data may be waiting: read until `WouldBlock`.
    readable: bool,
    /// Bytes read that the client did not take yet.
    pending: Vec<u8>,
    /// Still connecting (an `Action::Connect` in progress).
    connecting: bool,
    eof: bool,
}

impl Conn {
    fn new(stream: TcpStream, connecting: bool) -> Self {
        Self {
            stream,
            readable: true,
            pending: Vec::new(),
            connecting,
            eof: false,
        }
    }
}

/// The sockets of one session.
#[derive(Debug)]
pub(crate) struct Transport {
    poll: Poll,
    events: Events,
    conns: HashMap<Channel, Conn>,
    listeners: HashMap<Channel, TcpListener>,
    buf: Vec<u8>,
}

impl Transport {
    pub(crate) fn new(control: std::net::TcpStream) -> io::Result<Self> {
        control.set_nodelay(true)?;
        control.set_nonblocking(true)?;
        let mut transport = Self {
            poll: Poll::new()?,
            events: Events::with_capacity(64),
            conns: HashMap::new(),
            listeners: HashMap::new(),
            buf: vec![0; READ_CHUNK],
        };
        transport.add(Channel::Control, TcpStream::from_std(control), false)?;
        Ok(transport)
    }

    /// The control connection's local address (active mode listens on its IP).
    pub(crate) fn local_ip(&self) -> io::Result<std::net::IpAddr> {
        match self.conns.get(&Channel::Control) {
            Some(c) => Ok(c.stream.local_addr()?.ip()),
            None => Err(io::Error::new(
                ErrorKind::NotConnected,
                "control connection closed",
            )),
        }
    }

    fn add(&mut self, channel: Channel, mut stream: TcpStream, connecting: bool) -> io::Result<()> {
        self.poll.registry().register(
            &mut stream,
            token(channel, false),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.conns.insert(channel, Conn::new(stream, connecting));
        Ok(())
    }

    /// Writes what the client has for every open connection; true when something went.
    pub(crate) fn flush(&mut self, client: &mut FtpClient, now: Instant) -> io::Result<bool> {
        let mut wrote = false;
        for (&channel, conn) in self.conns.iter_mut().filter(|(_, c)| !c.connecting) {
            loop {
                let out = client.transmit(channel);
                if out.is_empty() {
                    break;
                }
                match conn.stream.write(out) {
                    Ok(0) => return Err(ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        client.advance(channel, n, now);
                        wrote = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    // A data connection the server dropped: the client hears of it on read.
                    Err(_) if channel != Channel::Control => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(wrote)
    }

    /// Carries out the client's actions; true when there were some.
    pub(crate) fn act(&mut self, client: &mut FtpClient, now: Instant) -> io::Result<bool> {
        let mut acted = false;
        while let Some(action) = client.poll_action() {
            acted = true;
            match action {
                Action::Connect { channel, addr } => match TcpStream::connect(addr) {
                    Ok(stream) => self.add(channel, stream, true)?,
                    Err(e) => client
                        .connect_failed(channel, &e.to_string(), now)
                        .map_err(io::Error::other)?,
                },
                Action::Listen { channel } => {
                    let addr = SocketAddr::new(self.local_ip()?, 0);
                    let mut listener = TcpListener::bind(addr)?;
                    self.poll.registry().register(
                        &mut listener,
                        token(channel, true),
                        Interest::READABLE,
                    )?;
                    let local = listener.local_addr()?;
                    self.listeners.insert(channel, listener);
                    client
                        .listening(channel, local, now)
                        .map_err(io::Error::other)?;
                }
                Action::Shutdown { channel } => {
                    if let Some(conn) = self.conns.get(&channel) {
                        let _ = conn.stream.shutdown(Shutdown::Write);
                    }
                }
                Action::Close { channel } => {
                    if let Some(mut conn) = self.conns.remove(&channel) {
                        let _ = self.poll.registry().deregister(&mut conn.stream);
                    }
                    if let Some(mut listener) = self.listeners.remove(&channel) {
                        let _ = self.poll.registry().deregister(&mut listener);
                    }
                }
                _ => {}
            }
        }
        Ok(acted)
    }

    /// Reads what is waiting on every readable connection into the client; true when
    /// something arrived.
    pub(crate) fn read(&mut self, client: &mut FtpClient, now: Instant) -> io::Result<bool> {
        let mut progressed = false;
        let channels: Vec<Channel> = self.conns.keys().copied().collect();
        for channel in channels {
            let Some(conn) = self.conns.get_mut(&channel) else {
                continue;
            };
            if conn.connecting {
                continue;
            }
            if !conn.pending.is_empty() {
                let taken = client
                    .receive(channel, &conn.pending, now)
                    .map_err(io::Error::other)?;
                conn.pending.drain(..taken);
                progressed |= taken > 0;
                continue;
            }
            if !conn.readable || conn.eof {
                continue;
            }
            match conn.stream.read(&mut self.buf) {
                Ok(0) => {
                    if std::env::var_os("REDY_FTP_TRACE").is_some() {
                        eprintln!("read {channel:?}: EOF");
                    }
                    conn.eof = true;
                    progressed = true;
                    client.receive_eof(channel, now).map_err(io::Error::other)?;
                }
                Ok(n) => {
                    progressed = true;
                    if std::env::var_os("REDY_FTP_TRACE").is_some() {
                        eprintln!("read {channel:?}: {n} bytes");
                    }
                    let taken = client
                        .receive(channel, &self.buf[..n], now)
                        .map_err(io::Error::other)?;
                    conn.pending.extend_from_slice(&self.buf[taken..n]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => conn.readable = false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if channel == Channel::Control => return Err(e),
                // A reset data connection ends like a closed one, without close_notify.
                Err(_) => {
                    conn.eof = true;
                    client.receive_eof(channel, now).map_err(io::Error::other)?;
                }
            }
        }
        Ok(progressed)
    }

    /// Waits for readiness (at most until `deadline`, not at all when `busy`), then marks
    /// connections readable, completes connects and accepts.
    pub(crate) fn wait(
        &mut self,
        client: &mut FtpClient,
        deadline: Option<Instant>,
        busy: bool,
    ) -> io::Result<()> {
        let timeout = match (busy, deadline) {
            (true, _) => Some(Duration::ZERO),
            (false, Some(d)) => Some(d.saturating_duration_since(Instant::now())),
            (false, None) => Some(Duration::from_secs(1)),
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        let ready: Vec<(Token, bool)> = self
            .events
            .iter()
            .map(|e| {
                (
                    e.token(),
                    e.is_readable() || e.is_read_closed() || e.is_error(),
                )
            })
            .collect();
        for (token, readable) in ready {
            let (channel, listener) = channel_of(token);
            if listener {
                self.accept(client, channel, now)?;
                continue;
            }
            let Some(conn) = self.conns.get_mut(&channel) else {
                continue;
            };
            conn.readable |= readable;
            if conn.connecting {
                if let Ok(Some(e)) | Err(e) = conn.stream.take_error() {
                    let _ = self.conns.remove(&channel);
                    client
                        .connect_failed(channel, &e.to_string(), now)
                        .map_err(io::Error::other)?;
                    continue;
                }
                match conn.stream.peer_addr() {
                    Ok(peer) => {
                        conn.connecting = false;
                        conn.stream.set_nodelay(true)?;
                        client
                            .connected(channel, peer, now)
                            .map_err(io::Error::other)?;
                    }
                    Err(e) if e.kind() == ErrorKind::NotConnected => {}
                    Err(e) => {
                        let _ = self.conns.remove(&channel);
                        client
                            .connect_failed(channel, &e.to_string(), now)
                            .map_err(io::Error::other)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn accept(&mut self, client: &mut FtpClient, channel: Channel, now: Instant) -> io::Result<()> {
        let Some(listener) = self.listeners.get(&channel) else {
            return Ok(());
        };
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Some(mut listener) = self.listeners.remove(&channel) {
                    let _ = self.poll.registry().deregister(&mut listener);
                }
                stream.set_nodelay(true)?;
                self.add(channel, stream, false)?;
                client
                    .connected(channel, peer, now)
                    .map_err(io::Error::other)
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(()),
            Err(e) => client
                .connect_failed(channel, &e.to_string(), now)
                .map_err(io::Error::other),
        }
    }
}

/// Tokens: the control connection is 0; data connection n is 2n, its listener 2n + 1.
fn token(channel: Channel, listener: bool) -> Token {
    match channel {
        Channel::Data(n) => {
            Token(usize::try_from(n).unwrap_or(usize::MAX / 2) * 2 + usize::from(listener))
        }
        _ => Token(0),
    }
}

fn channel_of(token: Token) -> (Channel, bool) {
    match token.0 {
        0 => (Channel::Control, false),
        t => (Channel::Data((t / 2) as u64), t % 2 == 1),
    }
}
