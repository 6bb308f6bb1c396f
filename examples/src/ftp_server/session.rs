//! One session in its thread: control socket, passive listener and data socket polled with
//! mio, bytes moved to and from the [`ServerSession`], requests answered from [`FsStorage`].

mod requests;

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use redy_ftps::server::{Action, Channel, DataId, ServerSession};

use super::{FsStorage, Shared};

const CONTROL: Token = Token(0);
const LISTENER: Token = Token(1);
const DATA: Token = Token(2);
/// Socket reads, and file reads for downloads.
const CHUNK: usize = 64 * 1024;
/// Upload bytes gathered before a write to the file.
const WRITE_BUFFER: usize = 256 * 1024;
/// How long a closed data or control connection is drained before it is dropped (closing a
/// socket with unread bytes sends RST, which can destroy data the client has not read yet).
const LINGER: Duration = Duration::from_secs(2);
/// Longest poll wait, so that a stopping server is noticed.
const TICK: Duration = Duration::from_millis(200);

/// Runs one client's session to its end.
pub(super) fn run(tcp: std::net::TcpStream, peer: SocketAddr, shared: &Shared) {
    let number = shared.next_session.fetch_add(1, Ordering::Relaxed);
    let log = |line: &str| (shared.options.log)(&format!("[{number} {peer}] {line}"));
    let running = shared.sessions.fetch_add(1, Ordering::Relaxed);
    let _count = Count(shared);
    if running >= shared.options.max_sessions {
        log("refused: too many sessions");
        return;
    }
    match Session::new(tcp, peer, shared, &log) {
        Ok(session) => session.run(),
        Err(e) => log(&format!("cannot start the session: {e}")),
    }
}

struct Count<'a>(&'a Shared);

impl Drop for Count<'_> {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

struct DataSocket {
    id: DataId,
    stream: TcpStream,
    connecting: bool,
    input: Vec<u8>,
    readable: bool,
    eof: bool,
}

struct Download {
    file: File,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
}

struct Session<'a> {
    shared: &'a Shared,
    storage: &'a FsStorage,
    log: &'a dyn Fn(&str),
    machine: ServerSession,
    poll: Poll,
    local_ip: IpAddr,
    control: TcpStream,
    control_in: Vec<u8>,
    control_readable: bool,
    control_eof: bool,
    listener: Option<(DataId, TcpListener)>,
    data: Option<DataSocket>,
    lingering: Vec<(std::net::TcpStream, Instant)>,
    download: Option<Download>,
    /// The upload's file, written in large pieces (the TLS records that bring it are 16 KiB).
    upload: Option<io::BufWriter<File>>,
    read_buf: Vec<u8>,
    done: bool,
}

impl<'a> Session<'a> {
    fn new(
        tcp: std::net::TcpStream,
        peer: SocketAddr,
        shared: &'a Shared,
        log: &'a dyn Fn(&str),
    ) -> io::Result<Self> {
        tcp.set_nodelay(true)?;
        tcp.set_nonblocking(true)?;
        let local = tcp.local_addr()?;
        let machine =
            ServerSession::new(shared.options.config.clone(), peer, local, Instant::now())
                .map_err(io::Error::other)?;
        let poll = Poll::new()?;
        let mut control = TcpStream::from_std(tcp);
        poll.registry().register(
            &mut control,
            CONTROL,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(Self {
            shared,
            storage: &shared.storage,
            log,
            machine,
            poll,
            local_ip: local.ip(),
            control,
            control_in: Vec::new(),
            control_readable: true,
            control_eof: false,
            listener: None,
            data: None,
            lingering: Vec::new(),
            download: None,
            upload: None,
            read_buf: vec![0; CHUNK],
            done: false,
        })
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(16);
        while !self.done {
            if self.shared.stop.load(Ordering::Relaxed) {
                (self.log)("server stopping: session closed");
                break;
            }
            self.drive();
            if self.done {
                break;
            }
            let now = Instant::now();
            let wait = self
                .machine
                .poll_timeout()
                .map(|d| d.saturating_duration_since(now))
                .unwrap_or(TICK)
                .min(TICK);
            if let Err(e) = self.poll.poll(&mut events, Some(wait))
                && e.kind() != io::ErrorKind::Interrupted
            {
                (self.log)(&format!("poll failed: {e}"));
                break;
            }
            for event in events.iter() {
                match event.token() {
                    CONTROL if event.is_readable() || event.is_read_closed() => {
                        self.control_readable = true;
                    }
                    LISTENER => self.accept(),
                    DATA => {
                        if self.data.as_ref().is_some_and(|d| d.connecting)
                            && (event.is_writable() || event.is_error() || event.is_write_closed())
                        {
                            self.finish_connect();
                        }
                        if let Some(data) = &mut self.data
                            && (event.is_readable() || event.is_read_closed())
                        {
                            data.readable = true;
                        }
                    }
                    _ => {}
                }
            }
            self.drain_lingering();
            let now = Instant::now();
            if self.machine.poll_timeout().is_some_and(|d| now >= d)
                && let Err(e) = self.machine.handle_timeout(now)
            {
                (self.log)(&format!("session ends: {e}"));
            }
        }
        self.close_control();
    }

    /// Moves everything that can move, until nothing does.
    fn drive(&mut self) {
        loop {
            let mut progress = false;
            progress |= self.read_control();
            progress |= self.read_data();
            progress |= self.feed();
            progress |= self.actions();
            progress |= self.requests();
            progress |= self.file_data();
            progress |= self.flush();
            self.log_events();
            if self.done || !progress {
                return;
            }
        }
    }

    fn read_control(&mut self) -> bool {
        if !self.control_readable || !self.control_in.is_empty() || self.control_eof {
            return false;
        }
        match self.control.read(&mut self.read_buf) {
            Ok(n) if n > 0 => {
                self.control_in.extend_from_slice(&self.read_buf[..n]);
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.control_readable = false;
                false
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            _ => {
                // End of stream, or a broken connection.
                self.control_eof = true;
                let _ = self.machine.receive_eof(Channel::Control, Instant::now());
                true
            }
        }
    }

    fn read_data(&mut self) -> bool {
        let Some(data) = &mut self.data else {
            return false;
        };
        if data.connecting || !data.readable || !data.input.is_empty() || data.eof {
            return false;
        }
        match data.stream.read(&mut self.read_buf) {
            Ok(0) => {
                data.eof = true;
                let _ = self.machine.receive_eof(Channel::Data, Instant::now());
                true
            }
            Ok(n) => {
                data.input.extend_from_slice(&self.read_buf[..n]);
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                data.readable = false;
                false
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            Err(e) => {
                let id = data.id;
                data.eof = true;
                self.machine.data_failed(id, &e.to_string(), Instant::now());
                true
            }
        }
    }

    /// Offers received bytes to the session (it may take fewer; the rest waits).
    fn feed(&mut self) -> bool {
        let now = Instant::now();
        let mut progress = false;
        if !self.control_in.is_empty() {
            match self
                .machine
                .receive(Channel::Control, &self.control_in, now)
            {
                Ok(n) => {
                    self.control_in.drain(..n);
                    progress |= n > 0;
                }
                Err(e) => {
                    (self.log)(&format!("session ends: {e}"));
                    self.control_in.clear();
                    progress = true;
                }
            }
        }
        if let Some(data) = &mut self.data
            && !data.input.is_empty()
        {
            match self.machine.receive(Channel::Data, &data.input, now) {
                Ok(n) => {
                    data.input.drain(..n);
                    progress |= n > 0;
                }
                Err(_) => data.input.clear(),
            }
        }
        progress
    }

    fn flush(&mut self) -> bool {
        let mut progress = false;
        loop {
            let out = self.machine.transmit(Channel::Control);
            if out.is_empty() {
                break;
            }
            match self.control.write(out) {
                Ok(n) if n > 0 => {
                    self.machine.advance(Channel::Control, n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => {
                    // The client is gone.
                    self.control_eof = true;
                    let _ = self.machine.receive_eof(Channel::Control, Instant::now());
                    self.done = true;
                    return true;
                }
            }
        }
        while let Some(data) = &mut self.data {
            if data.connecting {
                break;
            }
            let out = self.machine.transmit(Channel::Data);
            if out.is_empty() {
                break;
            }
            match data.stream.write(out) {
                Ok(n) if n > 0 => {
                    self.machine.advance(Channel::Data, n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let id = data.id;
                    self.machine.data_failed(id, &e.to_string(), Instant::now());
                    progress = true;
                    break;
                }
                Ok(_) => break,
            }
        }
        progress
    }

    fn actions(&mut self) -> bool {
        let mut progress = false;
        while let Some(action) = self.machine.poll_action() {
            progress = true;
            match action {
                Action::Listen { id } => self.listen(id),
                Action::Connect { id, to, from_port } => self.connect(id, to, from_port),
                Action::CloseData { id } => self.close_data(id),
                Action::CloseControl => self.done = true,
                other => (self.log)(&format!("unexpected action {other:?}")),
            }
        }
        progress
    }

    fn listen(&mut self, id: DataId) {
        self.drop_listener();
        let ports = self.shared.options.config.passive_ports.clone();
        let count = usize::from(ports.end().saturating_sub(*ports.start())) + 1;
        let start = self.shared.next_passive.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        for k in 0..count {
            let Some(port) = u16::try_from((start + k) % count)
                .ok()
                .and_then(|offset| ports.start().checked_add(offset))
            else {
                continue;
            };
            let Ok(std_listener) = std::net::TcpListener::bind((self.local_ip, port)) else {
                continue;
            };
            let bound = std_listener
                .set_nonblocking(true)
                .and_then(|()| std_listener.local_addr());
            let Ok(addr) = bound else { continue };
            let mut listener = TcpListener::from_std(std_listener);
            if let Err(e) =
                self.poll
                    .registry()
                    .register(&mut listener, LISTENER, Interest::READABLE)
            {
                return self.machine.data_failed(id, &e.to_string(), now);
            }
            self.listener = Some((id, listener));
            return self.machine.listening(id, addr, now);
        }
        self.machine.data_failed(
            id,
            &format!("no free port in {}-{}", ports.start(), ports.end()),
            now,
        );
    }

    fn accept(&mut self) {
        let Some((id, listener)) = &self.listener else {
            return;
        };
        let id = *id;
        loop {
            match listener.accept() {
                Ok((mut stream, peer)) => {
                    // One connection per listener: it closes now, whatever the verdict.
                    self.drop_listener();
                    let now = Instant::now();
                    if !self.machine.data_accepted(id, peer, now) {
                        (self.log)(&format!("data connection from {peer} refused"));
                        return;
                    }
                    let _ = stream.set_nodelay(true);
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if let Err(e) = self.poll.registry().register(&mut stream, DATA, interest) {
                        return self.machine.data_failed(id, &e.to_string(), now);
                    }
                    self.data = Some(DataSocket {
                        id,
                        stream,
                        connecting: false,
                        input: Vec::new(),
                        readable: true,
                        eof: false,
                    });
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn connect(&mut self, id: DataId, to: SocketAddr, from_port: Option<u16>) {
        let now = Instant::now();
        // From a chosen port: socket2 binds first, and connects blocking (bounded); otherwise
        // a non-blocking connect finished in the poll loop.
        let (stream, connecting) = match from_port {
            Some(port) => match connect_from(to, SocketAddr::new(self.local_ip, port)) {
                Ok(stream) => (TcpStream::from_std(stream), false),
                Err(e) => {
                    let reason = format!("connect to {to} from port {port}: {e}");
                    return self.machine.data_failed(id, &reason, now);
                }
            },
            None => match TcpStream::connect(to) {
                Ok(stream) => (stream, true),
                Err(e) => {
                    return self
                        .machine
                        .data_failed(id, &format!("connect to {to}: {e}"), now);
                }
            },
        };
        let mut stream = stream;
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self.poll.registry().register(&mut stream, DATA, interest) {
            return self.machine.data_failed(id, &e.to_string(), now);
        }
        self.close_data_socket();
        self.data = Some(DataSocket {
            id,
            stream,
            connecting,
            input: Vec::new(),
            readable: !connecting,
            eof: false,
        });
        if !connecting {
            self.machine.data_connected(id, now);
        }
    }

    fn finish_connect(&mut self) {
        let Some(data) = &mut self.data else { return };
        let now = Instant::now();
        let id = data.id;
        match (data.stream.take_error(), data.stream.peer_addr()) {
            (Ok(None), Ok(_)) => {
                data.connecting = false;
                data.readable = true;
                let _ = data.stream.set_nodelay(true);
                self.machine.data_connected(id, now);
            }
            (Ok(Some(e)) | Err(e), _) | (_, Err(e)) => {
                if e.kind() == io::ErrorKind::NotConnected {
                    return; // not yet
                }
                self.close_data_socket();
                self.machine.data_failed(id, &e.to_string(), now);
            }
        }
    }

    fn close_data(&mut self, id: DataId) {
        if self.listener.as_ref().is_some_and(|(l, _)| *l == id) {
            self.drop_listener();
        }
        if self.data.as_ref().is_some_and(|d| d.id == id) {
            self.close_data_socket();
        }
    }

    fn drop_listener(&mut self) {
        if let Some((_, mut listener)) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
    }

    /// Sends FIN and keeps draining what the client still sends, for [`LINGER`].
    fn close_data_socket(&mut self) {
        if let Some(mut data) = self.data.take() {
            let _ = self.poll.registry().deregister(&mut data.stream);
            let _ = data.stream.shutdown(Shutdown::Write);
            let stream: std::net::TcpStream = data.stream.into();
            self.lingering.push((stream, Instant::now() + LINGER));
        }
    }

    fn drain_lingering(&mut self) {
        let mut buf = [0u8; 4096];
        let now = Instant::now();
        self.lingering.retain_mut(|(stream, deadline)| {
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => return false,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return now < *deadline,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return false,
                }
            }
        });
    }

    fn close_control(&mut self) {
        self.drop_listener();
        self.close_data_socket();
        let _ = self.flush();
        let _ = self.control.shutdown(Shutdown::Write);
        let deadline = Instant::now() + LINGER;
        let mut events = Events::with_capacity(4);
        while Instant::now() < deadline && !self.control_eof {
            match self.control.read(&mut self.read_buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let _ = self.poll.poll(&mut events, Some(Duration::from_millis(50)));
                    self.drain_lingering();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        (self.log)("closed");
    }
}

/// How long a connect from a chosen port may block the session.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connect from `from` (SO_REUSEADDR set, as port 989 is shared by every session's active
/// connections), then non-blocking.
fn connect_from(to: SocketAddr, from: SocketAddr) -> io::Result<std::net::TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(to), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&from.into())?;
    socket.connect_timeout(&to.into(), CONNECT_TIMEOUT)?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    Ok(socket.into())
}
