//! The redy FTPS client machine and the redy FTPS server machine wired together in memory, with
//! virtual time, an in-memory store behind the server, and at most one fault on the wires: a
//! flipped byte, a broken connection, or a peer that stalls, at a chosen byte of one direction
//! (counted over all connections).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redy_certs::TrustPolicy;

use crate::seeded::Rng;
use redy_ftps::client::{self, Action, Channel, Event, FtpClient, FtpConfig, OpError, Outcome};
use redy_ftps::codec::listing::{Entry, EntryKind, Timestamp};
use redy_ftps::server::{
    self, Answer, DataId, FtpServerConfig, Listing, Request, ServerSession, StorageError, WriteMode,
};

const SERVER: &str = "127.0.0.1:990";
const CLIENT: &str = "127.0.0.1:50000";
const CLIENT_DATA: &str = "127.0.0.1:50001";
const PASSIVE: &str = "127.0.0.1:30000";
/// File content the server hands over per call, as a storage backend reads it.
const READ_CHUNK: usize = 16 * 1024;

/// Which way bytes travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    ToServer = 0,
    ToClient = 1,
}

/// What goes wrong.
#[derive(Clone, Copy, Debug)]
pub enum FaultKind {
    /// XOR this (non-zero) mask into the byte.
    Flip(u8),
    /// The connection carrying the byte breaks just before it: both ends see its end.
    Cut,
    /// Nothing more travels that way on that connection, and nothing ends.
    Stall,
}

/// A fault at byte `at` of direction `dir`.
#[derive(Clone, Copy, Debug)]
pub struct Fault {
    pub dir: Dir,
    pub at: u64,
    pub kind: FaultKind,
}

/// One direction of one connection.
#[derive(Default)]
struct Pipe {
    bytes: Vec<u8>,
    pos: usize,
    /// The sender is done (FIN), or the connection broke: the end follows the bytes.
    ended: bool,
    end_delivered: bool,
    /// Bytes pushed from now on vanish.
    dead: bool,
}

impl Pipe {
    fn pending(&self) -> &[u8] {
        &self.bytes[self.pos..]
    }

    /// The sender closes its side; on a stalled pipe the end is lost too.
    fn close(&mut self) {
        if !self.dead {
            self.ended = true;
        }
    }
}

/// Where a pipe is.
#[derive(Clone, Copy)]
enum Wire {
    Control(Dir),
    Data(usize, Dir),
}

struct DataConn {
    channel: u64,
    pipes: [Pipe; 2],
    /// The server's current data connection (it has no id for older ones).
    server_side: bool,
    client_side: bool,
}

/// The two machines and everything between them.
pub struct Duo {
    pub client: FtpClient,
    pub server: ServerSession,
    pub now: Instant,
    /// The server's storage.
    pub files: HashMap<String, Vec<u8>>,
    pub outcomes: HashMap<u64, Result<Outcome, OpError>>,
    /// What the client received, per operation.
    pub downloads: HashMap<u64, Vec<u8>>,
    /// What the client sends, per operation, taken when it asks.
    pub uploads: HashMap<u64, Vec<u8>>,
    pub client_error: Option<client::Error>,
    pub server_error: Option<server::ServerError>,
    control: [Pipe; 2],
    data: Vec<DataConn>,
    listener: Option<DataId>,
    fault: Option<Fault>,
    pushed: [u64; 2],
    rng: Rng,
    sending: Option<(u64, Vec<u8>, usize)>,
    /// The download the server reads: the file's bytes from the offset, and how far.
    reading: Option<(Vec<u8>, usize)>,
    /// The upload the server writes: path, mode and bytes so far.
    writing: Option<(String, WriteMode, Vec<u8>)>,
}

impl Duo {
    /// Implicit FTPS between the two machines, user `plc`, with `fault` on the wires and
    /// `seed` for how the bytes are cut into pieces.
    pub fn new(fault: Option<Fault>, seed: u64) -> Self {
        let pki = crate::pki::pki();
        let (ca, identity) = (&pki.ca, &pki.server);
        let now = Instant::now();
        let tls = redy_tls::ServerConfig::builder(identity.clone())
            .build()
            .unwrap();
        let config = FtpServerConfig::new(server::Security::ImplicitTls, tls);
        let server = ServerSession::new(
            config,
            CLIENT.parse().unwrap(),
            SERVER.parse().unwrap(),
            now,
        )
        .unwrap();
        let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
        let tls = redy_tls::ClientConfig::builder(trust).build().unwrap();
        let config = FtpConfig::new(
            client::Security::ImplicitTls,
            tls,
            "ftp.test",
            SERVER.parse().unwrap(),
            "plc",
            "pw",
        );
        Self {
            client: FtpClient::new(config, now).unwrap(),
            server,
            now,
            files: HashMap::new(),
            outcomes: HashMap::new(),
            downloads: HashMap::new(),
            uploads: HashMap::new(),
            client_error: None,
            server_error: None,
            control: [Pipe::default(), Pipe::default()],
            data: Vec::new(),
            listener: None,
            fault,
            pushed: [0; 2],
            rng: Rng::new(seed),
            sending: None,
            reading: None,
            writing: None,
        }
    }

    /// Runs until `id` has an outcome or the client failed, advancing virtual time by a second
    /// whenever nothing moves, for at most `limit`. False when neither happened by then.
    pub fn run_until_done(&mut self, id: u64, limit: Duration) -> bool {
        let end = self.now + limit;
        loop {
            self.settle();
            if self.outcomes.contains_key(&id) || self.client_error.is_some() {
                return true;
            }
            if self.now >= end {
                return false;
            }
            self.now += Duration::from_secs(1);
            if let Err(e) = self.client.handle_timeout(self.now) {
                self.client_error.get_or_insert(e);
            }
            if let Err(e) = self.server.handle_timeout(self.now) {
                self.server_error.get_or_insert(e);
            }
        }
    }

    /// Moves everything that can move at this instant.
    pub fn settle(&mut self) {
        for _ in 0..1_000_000 {
            let mut moved = self.collect();
            moved |= self.deliver();
            moved |= self.client_actions();
            moved |= self.server_actions();
            moved |= self.storage();
            moved |= self.client_events();
            if !moved {
                return;
            }
        }
        panic!("the duo never settled");
    }

    fn pipe(&mut self, wire: Wire) -> &mut Pipe {
        match wire {
            Wire::Control(dir) => &mut self.control[dir as usize],
            Wire::Data(i, dir) => &mut self.data[i].pipes[dir as usize],
        }
    }

    /// Puts `bytes` on `wire`, where the fault may strike.
    fn push(&mut self, wire: Wire, mut bytes: Vec<u8>) -> bool {
        if bytes.is_empty() {
            return false;
        }
        let dir = match wire {
            Wire::Control(d) | Wire::Data(_, d) => d,
        };
        let start = self.pushed[dir as usize];
        let mut kill = None;
        if !self.pipe(wire).dead {
            self.pushed[dir as usize] += bytes.len() as u64;
            if let Some(fault) = self.fault
                && fault.dir == dir
                && (start..start + bytes.len() as u64).contains(&fault.at)
            {
                self.fault = None;
                let i = (fault.at - start) as usize;
                match fault.kind {
                    FaultKind::Flip(mask) => bytes[i] ^= mask,
                    FaultKind::Cut | FaultKind::Stall => {
                        bytes.truncate(i);
                        kill = Some(fault.kind);
                    }
                }
            }
            self.pipe(wire).bytes.extend_from_slice(&bytes);
        }
        match kill {
            Some(FaultKind::Stall) => self.pipe(wire).dead = true,
            Some(_) => {
                let other = match wire {
                    Wire::Control(d) => Wire::Control(flip(d)),
                    Wire::Data(i, d) => Wire::Data(i, flip(d)),
                };
                for w in [wire, other] {
                    let p = self.pipe(w);
                    p.dead = true;
                    p.ended = true;
                }
            }
            None => {}
        }
        true
    }

    /// Takes what both machines want to send.
    fn collect(&mut self) -> bool {
        let mut moved = false;
        let out = self.client.transmit(Channel::Control).to_vec();
        self.client.advance(Channel::Control, out.len(), self.now);
        moved |= self.push(Wire::Control(Dir::ToServer), out);
        for i in 0..self.data.len() {
            let ch = Channel::Data(self.data[i].channel);
            let out = self.client.transmit(ch).to_vec();
            self.client.advance(ch, out.len(), self.now);
            moved |= self.push(Wire::Data(i, Dir::ToServer), out);
        }
        let out = self.server.transmit(server::Channel::Control).to_vec();
        self.server.advance(server::Channel::Control, out.len());
        moved |= self.push(Wire::Control(Dir::ToClient), out);
        let out = self.server.transmit(server::Channel::Data).to_vec();
        self.server.advance(server::Channel::Data, out.len());
        if let Some(i) = self.data.iter().rposition(|c| c.server_side) {
            moved |= self.push(Wire::Data(i, Dir::ToClient), out);
        }
        moved
    }

    /// Offers a random-sized piece of every pipe to its receiver; ends what ended.
    fn deliver(&mut self) -> bool {
        let mut moved = false;
        let mut wires = vec![Wire::Control(Dir::ToServer), Wire::Control(Dir::ToClient)];
        for i in 0..self.data.len() {
            wires.extend([Wire::Data(i, Dir::ToServer), Wire::Data(i, Dir::ToClient)]);
        }
        for wire in wires {
            let size = 1 + self.rng.below(24_000) as usize;
            let now = self.now;
            let pipe = self.pipe(wire);
            let piece = pipe.pending()[..pipe.pending().len().min(size)].to_vec();
            let at_end = pipe.pending().is_empty() && pipe.ended && !pipe.end_delivered;
            if at_end {
                pipe.end_delivered = true;
            }
            if !piece.is_empty() {
                let taken = match wire {
                    Wire::Control(Dir::ToServer) => self
                        .server
                        .receive(server::Channel::Control, &piece, now)
                        .map_err(|e| keep(&mut self.server_error, e)),
                    Wire::Control(Dir::ToClient) => self
                        .client
                        .receive(Channel::Control, &piece, now)
                        .map_err(|e| keep(&mut self.client_error, e)),
                    Wire::Data(i, Dir::ToServer) if self.data[i].server_side => self
                        .server
                        .receive(server::Channel::Data, &piece, now)
                        .map_err(|e| keep(&mut self.server_error, e)),
                    Wire::Data(i, Dir::ToClient) if self.data[i].client_side => {
                        let ch = Channel::Data(self.data[i].channel);
                        self.client
                            .receive(ch, &piece, now)
                            .map_err(|e| keep(&mut self.client_error, e))
                    }
                    // Nobody reads this end any more: the bytes are lost.
                    Wire::Data(..) => Ok(piece.len()),
                };
                // A failed machine reads nothing more.
                let taken = taken.unwrap_or(piece.len());
                self.pipe(wire).pos += taken;
                moved |= taken > 0;
            }
            if at_end {
                moved = true;
                let result = match wire {
                    Wire::Control(Dir::ToServer) => self
                        .server
                        .receive_eof(server::Channel::Control, now)
                        .map_err(|e| keep(&mut self.server_error, e)),
                    Wire::Control(Dir::ToClient) => self
                        .client
                        .receive_eof(Channel::Control, now)
                        .map_err(|e| keep(&mut self.client_error, e)),
                    Wire::Data(i, Dir::ToServer) if self.data[i].server_side => self
                        .server
                        .receive_eof(server::Channel::Data, now)
                        .map_err(|e| keep(&mut self.server_error, e)),
                    Wire::Data(i, Dir::ToClient) if self.data[i].client_side => self
                        .client
                        .receive_eof(Channel::Data(self.data[i].channel), now)
                        .map_err(|e| keep(&mut self.client_error, e)),
                    Wire::Data(..) => Ok(()),
                };
                let _ = result;
            }
        }
        moved
    }

    fn client_actions(&mut self) -> bool {
        let mut moved = false;
        while let Some(action) = self.client.poll_action() {
            moved = true;
            match action {
                Action::Connect {
                    channel: Channel::Data(n),
                    ..
                } => {
                    let Some(id) = self.listener.take() else {
                        let _ = self
                            .client
                            .connect_failed(Channel::Data(n), "refused", self.now);
                        continue;
                    };
                    for conn in &mut self.data {
                        conn.server_side = false;
                    }
                    self.data.push(DataConn {
                        channel: n,
                        pipes: [Pipe::default(), Pipe::default()],
                        server_side: true,
                        client_side: true,
                    });
                    let peer = CLIENT_DATA.parse().unwrap();
                    if !self.server.data_accepted(id, peer, self.now) {
                        self.data.last_mut().unwrap().server_side = false;
                    }
                    if let Err(e) =
                        self.client
                            .connected(Channel::Data(n), SERVER.parse().unwrap(), self.now)
                    {
                        self.client_error.get_or_insert(e);
                    }
                }
                Action::Shutdown { channel } | Action::Close { channel } => {
                    let close = matches!(action, Action::Close { .. });
                    let wire = match channel {
                        Channel::Control => Some(Wire::Control(Dir::ToServer)),
                        Channel::Data(n) => self
                            .data
                            .iter()
                            .position(|c| c.channel == n)
                            .map(|i| Wire::Data(i, Dir::ToServer)),
                        _ => None,
                    };
                    if let Some(wire) = wire {
                        self.pipe(wire).close();
                        if let (true, Wire::Data(i, _)) = (close, wire) {
                            self.data[i].client_side = false;
                        }
                    }
                }
                other => panic!("the passive-mode client asked for {other:?}"),
            }
        }
        moved
    }

    fn server_actions(&mut self) -> bool {
        let mut moved = false;
        while let Some(action) = self.server.poll_action() {
            moved = true;
            match action {
                server::Action::Listen { id } => {
                    self.listener = Some(id);
                    self.server
                        .listening(id, PASSIVE.parse().unwrap(), self.now);
                }
                server::Action::CloseData { .. } => {
                    if let Some(conn) = self.data.iter_mut().rev().find(|c| c.server_side) {
                        conn.server_side = false;
                        conn.pipes[Dir::ToClient as usize].close();
                    }
                }
                server::Action::CloseControl => self.control[Dir::ToClient as usize].close(),
                other => panic!("the server asked for {other:?}"),
            }
        }
        moved
    }

    /// Answers the server's requests from `files`, and moves file content.
    fn storage(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        while let Some(request) = self.server.poll_request() {
            moved = true;
            let answer = match request {
                Request::CheckCredentials { user, password } => {
                    Answer::Login(user == "plc" && password.expose() == "pw")
                }
                Request::OpenRead { path, offset } => match self.files.get(path.as_str()) {
                    Some(file) => {
                        let from = (offset as usize).min(file.len());
                        self.reading = Some((file[from..].to_vec(), 0));
                        Answer::Opened(Ok(Some((file.len() - from) as u64)))
                    }
                    None => Answer::Opened(Err(StorageError::NotFound)),
                },
                Request::OpenWrite { path, mode } => {
                    self.writing = Some((path.as_str().to_owned(), mode, Vec::new()));
                    Answer::Opened(Ok(None))
                }
                Request::FinishUpload { complete, .. } => {
                    if let Some((path, mode, bytes)) = self.writing.take()
                        && complete
                    {
                        let file = self.files.entry(path).or_default();
                        match mode {
                            WriteMode::Append => file.extend_from_slice(&bytes),
                            _ => *file = bytes,
                        }
                    }
                    Answer::Done(Ok(()))
                }
                Request::Stat { path } => match self.files.get(path.as_str()) {
                    Some(f) => {
                        let mut entry =
                            Entry::new(path.file_name().unwrap_or("/"), EntryKind::File);
                        entry.size = Some(f.len() as u64);
                        Answer::Entry(Ok(entry))
                    }
                    None => Answer::Entry(Err(StorageError::NotFound)),
                },
                Request::List { .. } => Answer::Listing(Ok(Listing {
                    entries: self
                        .files
                        .keys()
                        .map(|name| Entry::new(name.trim_start_matches('/'), EntryKind::File))
                        .collect(),
                    now: Timestamp(1_800_000_000),
                })),
                _ => Answer::Done(Ok(())),
            };
            if let Err(e) = self.server.answer(answer, now) {
                self.server_error.get_or_insert(e);
            }
        }
        if let Some((file, pos)) = &mut self.reading
            && self.server.wants_file_data()
        {
            let end = (*pos + READ_CHUNK).min(file.len());
            match self.server.send_file_data(&file[*pos..end], now) {
                Ok(n) => {
                    *pos += n;
                    moved |= n > 0;
                }
                Err(e) => keep(&mut self.server_error, e),
            }
            if *pos == file.len() {
                self.reading = None;
                moved = true;
                if let Err(e) = self.server.file_data_end(now) {
                    self.server_error.get_or_insert(e);
                }
            }
        }
        let received = self.server.file_data().to_vec();
        if !received.is_empty() {
            moved = true;
            if let Some((_, _, bytes)) = &mut self.writing {
                bytes.extend_from_slice(&received);
            }
            self.server.consume_file_data(received.len(), now);
        }
        while self.server.poll_event().is_some() {}
        moved
    }

    fn client_events(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        while let Some(event) = self.client.poll_event() {
            moved = true;
            match event {
                Event::SendData { id } => {
                    let body = self.uploads.remove(&id).unwrap_or_default();
                    self.sending = Some((id, body, 0));
                }
                Event::DataReceived { id } => loop {
                    let data = self.client.received().to_vec();
                    if data.is_empty() {
                        break;
                    }
                    self.downloads
                        .entry(id)
                        .or_default()
                        .extend_from_slice(&data);
                    if let Err(e) = self.client.consume(data.len(), now) {
                        self.client_error.get_or_insert(e);
                        break;
                    }
                },
                Event::Done { id, outcome } => drop(self.outcomes.insert(id, Ok(outcome))),
                Event::Failed { id, error } => drop(self.outcomes.insert(id, Err(error))),
                _ => {}
            }
        }
        if let Some((id, body, pos)) = &mut self.sending {
            if self.outcomes.contains_key(id) {
                self.sending = None;
            } else if *pos == body.len() {
                if let Err(e) = self.client.finish_upload(now) {
                    self.client_error.get_or_insert(e);
                }
                self.sending = None;
                moved = true;
            } else {
                match self.client.write_data(&body[*pos..], now) {
                    Ok(n) => {
                        *pos += n;
                        moved |= n > 0;
                    }
                    Err(e) => {
                        self.client_error.get_or_insert(e);
                        self.sending = None;
                    }
                }
            }
        }
        moved
    }
}

fn flip(d: Dir) -> Dir {
    match d {
        Dir::ToServer => Dir::ToClient,
        Dir::ToClient => Dir::ToServer,
    }
}

/// Keeps the first error a machine reported.
fn keep<E>(slot: &mut Option<E>, error: E) {
    slot.get_or_insert(error);
}

/// One session with one upload (`upload`) or download of `body` and `fault` on the wires: what
/// happened when it ended intact or in a reported error, or why it broke the promise (success
/// with wrong or missing bytes, or no outcome within `patience` of virtual time). The fault
/// injection test draws these at random; the `ftp_tls` fuzz target lets the fuzzer choose.
pub fn transfer_with_fault(
    body: &[u8],
    upload: bool,
    fault: Fault,
    seed: u64,
    patience: Duration,
) -> Result<&'static str, String> {
    let size = body.len();
    let mut duo = Duo::new(Some(fault), seed);
    let Ok(ready) = duo.client.noop(duo.now) else {
        return Err("NOOP refused before any fault".into());
    };
    if !duo.run_until_done(ready, patience) {
        return Err(format!("{fault:?}: the login neither ended nor failed"));
    }
    if !matches!(duo.outcomes.get(&ready), Some(Ok(_))) {
        return Ok("failed before the transfer, and said so");
    }
    let started = if upload {
        duo.client.store("f.bin", 0, duo.now).inspect(|id| {
            duo.uploads.insert(*id, body.to_vec());
        })
    } else {
        duo.files.insert("/f.bin".into(), body.to_vec());
        duo.client.retrieve("f.bin", 0, duo.now)
    };
    let Ok(id) = started else {
        return Ok("the transfer was refused after a fault, and said so");
    };
    if !duo.run_until_done(id, patience) {
        return Err(format!(
            "{fault:?}: the {} neither ended nor failed",
            if upload { "upload" } else { "download" }
        ));
    }
    match (duo.outcomes.get(&id), upload) {
        (Some(Ok(Outcome::Transferred { bytes, .. })), true) => {
            let stored = duo.files.get("/f.bin");
            if *bytes != size as u64 || stored.map(Vec::as_slice) != Some(body) {
                return Err(format!(
                    "{fault:?}: upload reported done ({bytes} bytes) but the server holds {:?} of {size}",
                    stored.map(Vec::len)
                ));
            }
            Ok("transferred intact")
        }
        (Some(Ok(Outcome::Transferred { bytes, .. })), false) => {
            let got = duo.downloads.get(&id).map_or(&[][..], Vec::as_slice);
            if got != body || *bytes != size as u64 {
                return Err(format!(
                    "{fault:?}: download reported done ({bytes} bytes) with {} of {size} bytes, {}",
                    got.len(),
                    if got.len() == size {
                        "altered"
                    } else {
                        "missing some"
                    }
                ));
            }
            Ok("transferred intact")
        }
        (Some(Ok(other)), _) => Err(format!("{fault:?}: unexpected outcome {other:?}")),
        (Some(Err(_)), _) => Ok("failed, and said so"),
        (None, _) => match duo.client_error {
            Some(_) => Ok("session failed, and said so"),
            None => Err(format!("{fault:?}: no outcome")),
        },
    }
}
