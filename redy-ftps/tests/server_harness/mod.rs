//! An in-memory FTPS client for the server machine tests: redy-tls client sessions and the
//! shared codec on one side, a [`ServerSession`] on the other, storage in a map, virtual time.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use redy_certs::{DeviceCa, Identity, TrustPolicy};
use redy_ftps::codec::listing::{Entry, EntryKind, Timestamp};
use redy_ftps::codec::reply::{Reply, ReplyParser};
use redy_ftps::server::{
    Action, Answer, Channel, DataId, Event, FtpServerConfig, Listing, Request, Security,
    ServerError, ServerSession, StorageError, WriteMode,
};
use redy_tls::{ClientConfig, TlsSession, TlsVersion};

pub const CLIENT: &str = "127.0.0.1:40000";
pub const SERVER: &str = "127.0.0.1:990";
/// Most bytes moved per write in the simulated transport.
pub const WIRE_CHUNK: usize = 16 * 1024;
/// Most file bytes the storage hands over per read.
pub const FILE_CHUNK: usize = 32 * 1024;

fn pki() -> &'static (DeviceCa, Identity) {
    static PKI: OnceLock<(DeviceCa, Identity)> = OnceLock::new();
    PKI.get_or_init(|| {
        let now = SystemTime::now();
        let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
        let id = ca
            .issue_server_certificate(&["127.0.0.1".parse().unwrap()], now)
            .unwrap();
        (ca, id)
    })
}

pub fn server_config(security: Security, version: TlsVersion) -> FtpServerConfig {
    let tls = redy_tls::ServerConfig::builder(pki().1.clone())
        .versions(version, version)
        .build()
        .unwrap();
    FtpServerConfig::new(security, tls)
}

pub fn client_config() -> ClientConfig {
    let trust = TrustPolicy::CaCertificates(vec![pki().0.certificate().clone()]);
    ClientConfig::builder(trust).build().unwrap()
}

/// Storage in memory, recording every request.
#[derive(Default)]
pub struct MemStorage {
    pub files: BTreeMap<String, Vec<u8>>,
    pub dirs: BTreeSet<String>,
    pub requests: Vec<Request>,
    reading: Option<(Vec<u8>, usize)>,
    writing: Option<String>,
    /// Upload bytes are written only while this is true (backpressure tests).
    pub accept_upload: bool,
    /// Largest upload slice seen at once.
    pub largest_upload_slice: usize,
}

impl MemStorage {
    fn entry(&self, path: &str) -> Result<Entry, StorageError> {
        let name = path
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("/");
        let t = Timestamp::from_utc(2026, 3, 1, 12, 0, 0);
        if path == "/" || self.dirs.contains(path) {
            let mut e = Entry::new(name, EntryKind::Directory);
            e.modified = t;
            return Ok(e);
        }
        let data = self.files.get(path).ok_or(StorageError::NotFound)?;
        let mut e = Entry::new(name, EntryKind::File);
        e.size = Some(data.len() as u64);
        e.modified = t;
        Ok(e)
    }

    pub fn answer(&mut self, request: &Request) -> Answer {
        self.requests.push(request.clone());
        match request {
            Request::CheckCredentials { user, password } => {
                Answer::Login(user == "plc" && password.expose() == "s3cret")
            }
            Request::Stat { path } => Answer::Entry(self.entry(path.as_str())),
            Request::List { path } => {
                let prefix = match path.as_str() {
                    "/" => "/".to_owned(),
                    p => format!("{p}/"),
                };
                let children = self
                    .files
                    .keys()
                    .chain(self.dirs.iter())
                    .filter_map(|k| k.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('/'))
                    .map(|rest| self.entry(&format!("{prefix}{rest}")).unwrap())
                    .collect();
                Answer::Listing(Ok(Listing {
                    entries: children,
                    now: Timestamp::from_utc(2026, 3, 2, 0, 0, 0).unwrap(),
                }))
            }
            Request::OpenRead { path, offset } => match self.files.get(path.as_str()) {
                Some(data) => {
                    let size = data.len() as u64;
                    self.reading = Some((data.clone(), *offset as usize));
                    Answer::Opened(Ok(Some(size)))
                }
                None => Answer::Opened(Err(StorageError::NotFound)),
            },
            Request::OpenWrite { path, mode } => {
                let file = self.files.entry(path.as_str().to_owned()).or_default();
                match mode {
                    WriteMode::Truncate => file.clear(),
                    WriteMode::At(n) => file.truncate(*n as usize),
                    _ => {}
                }
                self.writing = Some(path.as_str().to_owned());
                Answer::Opened(Ok(None))
            }
            Request::FinishUpload { .. } => {
                self.writing = None;
                Answer::Done(Ok(()))
            }
            Request::MakeDir { path } => match self.dirs.insert(path.as_str().to_owned()) {
                true => Answer::Done(Ok(())),
                false => Answer::Done(Err(StorageError::AlreadyExists)),
            },
            Request::RemoveDir { path } => match self.dirs.remove(path.as_str()) {
                true => Answer::Done(Ok(())),
                false => Answer::Done(Err(StorageError::NotFound)),
            },
            Request::Delete { path } => match self.files.remove(path.as_str()) {
                Some(_) => Answer::Done(Ok(())),
                None => Answer::Done(Err(StorageError::NotFound)),
            },
            Request::Rename { from, to } => match self.files.remove(from.as_str()) {
                Some(data) => {
                    self.files.insert(to.as_str().to_owned(), data);
                    Answer::Done(Ok(()))
                }
                None => Answer::Done(Err(StorageError::NotFound)),
            },
            other => panic!("unexpected request {other:?}"),
        }
    }
}

/// The client's end of a data connection.
pub struct DataSide {
    pub id: DataId,
    pub tls: Option<TlsSession>,
    pub received: Vec<u8>,
    pub to_server: Vec<u8>,
    /// Upload bytes not yet taken by the TLS session.
    pub upload: Vec<u8>,
    pub closed_by_server: bool,
    pub frozen: bool,
}

pub struct Client {
    pub server: ServerSession,
    pub now: Instant,
    pub tls_config: ClientConfig,
    pub control_tls: Option<TlsSession>,
    to_server: Vec<u8>,
    parser: ReplyParser,
    pub replies: VecDeque<Reply>,
    pub storage: MemStorage,
    pub events: Vec<Event>,
    pub listen: Option<(DataId, SocketAddr)>,
    pub connect: Option<(DataId, SocketAddr, Option<u16>)>,
    pub data: Option<DataSide>,
    /// What the last data connection received before it closed.
    pub last_data: Vec<u8>,
    pub control_closed: bool,
    pub closed_data: Vec<DataId>,
    pub error: Option<ServerError>,
    /// Whether requests are answered at once.
    pub auto_answer: bool,
    /// Whether opened downloads are fed from storage by the harness.
    pub feed_downloads: bool,
    next_port: u16,
}

impl Client {
    pub fn new(config: FtpServerConfig) -> Self {
        let now = Instant::now();
        let implicit = config.security == Security::ImplicitTls;
        let server = ServerSession::new(
            config,
            CLIENT.parse().unwrap(),
            SERVER.parse().unwrap(),
            now,
        )
        .unwrap();
        let tls_config = client_config();
        let control_tls = implicit.then(|| TlsSession::client(&tls_config, "127.0.0.1").unwrap());
        let mut client = Self {
            server,
            now,
            tls_config,
            control_tls,
            to_server: Vec::new(),
            parser: ReplyParser::default(),
            replies: VecDeque::new(),
            storage: MemStorage {
                accept_upload: true,
                ..MemStorage::default()
            },
            events: Vec::new(),
            listen: None,
            connect: None,
            data: None,
            last_data: Vec::new(),
            control_closed: false,
            closed_data: Vec::new(),
            error: None,
            auto_answer: true,
            feed_downloads: true,
            next_port: 30000,
        };
        client.pump();
        client
    }

    pub fn implicit(version: TlsVersion) -> Self {
        Self::new(server_config(Security::ImplicitTls, version))
    }

    pub fn explicit(version: TlsVersion) -> Self {
        Self::new(server_config(Security::ExplicitTls, version))
    }

    /// Sends raw bytes on the control connection.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if self.control_tls.is_none() {
            self.to_server.extend_from_slice(bytes);
        }
        let mut rest = bytes;
        while let Some(tls) = &mut self.control_tls
            && !rest.is_empty()
        {
            let n = tls.send(rest).unwrap();
            rest = &rest[n..];
            self.pump();
        }
        self.pump();
    }

    /// Sends a command line and returns the next reply.
    pub fn cmd(&mut self, line: &str) -> Reply {
        self.send_raw(format!("{line}\r\n").as_bytes());
        self.next_reply()
    }

    pub fn next_reply(&mut self) -> Reply {
        self.pump();
        self.replies
            .pop_front()
            .unwrap_or_else(|| panic!("no reply; events {:#?}", self.events))
    }

    /// AUTH TLS and the handshake.
    pub fn auth_tls(&mut self) {
        let reply = self.cmd("AUTH TLS");
        assert_eq!(reply.code(), 234, "{reply}");
        self.control_tls =
            Some(TlsSession::client_upgrade(&self.tls_config, "127.0.0.1", b"").unwrap());
        self.pump();
    }

    pub fn login(&mut self) {
        if self.control_tls.is_none() {
            self.auth_tls();
        }
        assert_eq!(self.cmd("USER plc").code(), 331);
        let reply = self.cmd("PASS s3cret");
        assert_eq!(reply.code(), 230, "{reply}");
        assert_eq!(self.cmd("PBSZ 0").code(), 200);
        assert_eq!(self.cmd("PROT P").code(), 200);
    }

    /// EPSV, then the client connects from `from` with its data TLS session from `tls` (the
    /// control connection's config resumes; a new scope does not).
    pub fn epsv_connect(&mut self, from: &str, tls: Option<ClientConfig>) -> bool {
        let reply = self.cmd("EPSV");
        assert_eq!(reply.code(), 229, "{reply}");
        self.connect_passive(from, tls)
    }

    pub fn connect_passive(&mut self, from: &str, tls: Option<ClientConfig>) -> bool {
        let (id, _) = self.listen.expect("a listener");
        let accepted = self
            .server
            .data_accepted(id, from.parse().unwrap(), self.now);
        if accepted {
            self.attach_data(id, tls);
        }
        self.pump();
        accepted
    }

    pub fn attach_data(&mut self, id: DataId, tls: Option<ClientConfig>) {
        self.data = Some(DataSide {
            id,
            tls: tls.map(|c| TlsSession::client(&c, "127.0.0.1").unwrap()),
            received: Vec::new(),
            to_server: Vec::new(),
            upload: Vec::new(),
            closed_by_server: false,
            frozen: false,
        });
    }

    /// The final reply of a transfer: skips the 150, checking it came.
    pub fn transfer_reply(&mut self) -> Reply {
        let first = self.next_reply();
        if first.code() != 150 {
            return first;
        }
        for _ in 0..10_000 {
            self.pump();
            if let Some(r) = self.replies.pop_front() {
                return r;
            }
        }
        panic!("no final reply; events {:#?}", self.events)
    }

    pub fn retr(&mut self, path: &str) -> (Reply, Vec<u8>) {
        assert!(self.epsv_connect(CLIENT, Some(self.tls_config.clone())));
        self.send_raw(format!("RETR {path}\r\n").as_bytes());
        let reply = self.transfer_reply();
        (reply, std::mem::take(&mut self.last_data))
    }

    pub fn stor(&mut self, path: &str, content: &[u8]) -> Reply {
        assert!(self.epsv_connect(CLIENT, Some(self.tls_config.clone())));
        self.send_raw(format!("STOR {path}\r\n").as_bytes());
        let first = self.next_reply();
        assert_eq!(first.code(), 150, "{first}");
        self.upload(content, true);
        self.transfer_reply_after_150()
    }

    pub fn transfer_reply_after_150(&mut self) -> Reply {
        for _ in 0..10_000 {
            self.pump();
            if let Some(r) = self.replies.pop_front() {
                return r;
            }
        }
        panic!("no final reply; events {:#?}", self.events)
    }

    /// Sends upload bytes, then ends the data connection: with close_notify or a bare EOF.
    pub fn upload(&mut self, content: &[u8], close_notify: bool) {
        let data = self.data.as_mut().expect("a data connection");
        data.upload.extend_from_slice(content);
        self.pump();
        while self.data.as_ref().is_some_and(|d| !d.upload.is_empty()) {
            self.pump();
        }
        let Some(data) = self.data.as_mut() else {
            return;
        };
        if close_notify && let Some(tls) = &mut data.tls {
            tls.close();
        }
        self.pump();
        if self.data.is_some() {
            self.server.receive_eof(Channel::Data, self.now).unwrap();
        }
        self.pump();
    }

    pub fn advance_time(&mut self, by: Duration) -> Result<(), ServerError> {
        self.now += by;
        let result = self.server.handle_timeout(self.now);
        self.pump();
        result
    }

    /// Moves bytes, actions, requests and file data until nothing moves.
    pub fn pump(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                return;
            }
        }
        panic!("pump did not settle");
    }

    fn step(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        // Client → server, control.
        if let Some(tls) = &mut self.control_tls {
            let out = tls.transmit().to_vec();
            tls.advance(out.len());
            self.to_server.extend_from_slice(&out);
        }
        if !self.to_server.is_empty() && !self.control_closed {
            let chunk = self.to_server.len().min(WIRE_CHUNK);
            match self
                .server
                .receive(Channel::Control, &self.to_server[..chunk], now)
            {
                Ok(n) => {
                    moved |= n > 0;
                    self.to_server.drain(..n);
                }
                Err(e) => {
                    self.error = Some(e);
                    self.to_server.clear();
                    moved = true;
                }
            }
        }
        // Server → client, control.
        let out = self.server.transmit(Channel::Control).to_vec();
        self.server.advance(Channel::Control, out.len());
        if !out.is_empty() {
            moved = true;
            match &mut self.control_tls {
                Some(tls) => {
                    let _ = tls.receive(&out);
                }
                None => self.parse_replies(&out),
            }
        }
        if let Some(tls) = &mut self.control_tls {
            let mut plain = Vec::new();
            while let Ok(p) = tls.plaintext() {
                if p.is_empty() {
                    break;
                }
                plain.extend_from_slice(p);
                let n = p.len();
                tls.consume(n);
            }
            if !plain.is_empty() {
                self.parse_replies(&plain);
            }
        }
        moved |= self.step_data();
        moved |= self.step_machine();
        moved
    }

    fn parse_replies(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (n, reply) = self.parser.feed(bytes).unwrap();
            bytes = &bytes[n..];
            self.replies.extend(reply);
        }
    }

    fn step_data(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        let Some(data) = &mut self.data else {
            return false;
        };
        if data.frozen {
            return false;
        }
        match &mut data.tls {
            Some(tls) => {
                if !data.upload.is_empty() && !tls.is_handshaking() {
                    let n = tls.send(&data.upload).unwrap_or(0);
                    data.upload.drain(..n);
                    moved |= n > 0;
                }
                let out = tls.transmit().to_vec();
                tls.advance(out.len());
                data.to_server.extend_from_slice(&out);
            }
            None => {
                let upload = std::mem::take(&mut data.upload);
                data.to_server.extend_from_slice(&upload);
            }
        }
        if !data.to_server.is_empty() && !data.closed_by_server {
            let chunk = data.to_server.len().min(WIRE_CHUNK);
            let n = self
                .server
                .receive(Channel::Data, &data.to_server[..chunk], now)
                .unwrap();
            data.to_server.drain(..n);
            moved |= n > 0;
        }
        let out = self.server.transmit(Channel::Data).to_vec();
        let take = out.len().min(WIRE_CHUNK);
        self.server.advance(Channel::Data, take);
        if take > 0 {
            moved = true;
            let data = self.data.as_mut().unwrap();
            match &mut data.tls {
                Some(tls) => {
                    let _ = tls.receive(&out[..take]);
                    while let Ok(p) = tls.plaintext() {
                        if p.is_empty() {
                            break;
                        }
                        data.received.extend_from_slice(p);
                        let n = p.len();
                        tls.consume(n);
                    }
                }
                None => data.received.extend_from_slice(&out[..take]),
            }
        }
        moved
    }

    fn step_machine(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        while let Some(action) = self.server.poll_action() {
            moved = true;
            match action {
                Action::Listen { id } => {
                    self.next_port += 1;
                    let addr: SocketAddr = format!("127.0.0.1:{}", self.next_port).parse().unwrap();
                    self.listen = Some((id, addr));
                    self.server.listening(id, addr, now);
                }
                Action::Connect { id, to, from_port } => self.connect = Some((id, to, from_port)),
                Action::CloseData { id } => {
                    self.closed_data.push(id);
                    if self.data.as_ref().is_some_and(|d| d.id == id) {
                        let mut data = self.data.take().unwrap();
                        data.closed_by_server = true;
                        self.last_data = data.received;
                    }
                }
                Action::CloseControl => self.control_closed = true,
                other => panic!("unexpected action {other:?}"),
            }
        }
        if self.auto_answer {
            while let Some(request) = self.server.poll_request() {
                moved = true;
                let answer = self.storage.answer(&request);
                let _ = self.server.answer(answer, now);
            }
        }
        // File content, in bounded chunks both ways.
        if let Some((content, pos)) = &mut self.storage.reading
            && self.feed_downloads
            && self.server.wants_file_data()
        {
            let end = (*pos + FILE_CHUNK).min(content.len());
            let n = self
                .server
                .send_file_data(&content[*pos..end], now)
                .unwrap();
            *pos += n;
            moved |= n > 0;
            if *pos == content.len() {
                self.storage.reading = None;
                self.server.file_data_end(now).unwrap();
                moved = true;
            }
        }
        if let Some(path) = self.storage.writing.clone()
            && self.storage.accept_upload
        {
            let chunk = self.server.file_data().to_vec();
            if !chunk.is_empty() {
                self.storage.largest_upload_slice =
                    self.storage.largest_upload_slice.max(chunk.len());
                self.storage
                    .files
                    .get_mut(&path)
                    .unwrap()
                    .extend_from_slice(&chunk);
                self.server.consume_file_data(chunk.len(), now);
                moved = true;
            }
        }
        while let Some(event) = self.server.poll_event() {
            self.events.push(event);
        }
        moved
    }

    pub fn reply_codes(&self) -> Vec<u16> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Replied { code, .. } => Some(*code),
                _ => None,
            })
            .collect()
    }
}

/// Deterministic pseudo-random bytes.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}
