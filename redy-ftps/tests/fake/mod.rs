//! A scripted in-memory FTPS server (implicit or explicit TLS) and the pump that joins it to an
//! `FtpClient` on virtual time. It knows just enough FTP for transcript tests, and has switches
//! for the faults the client must survive.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use redy_certs::TrustPolicy;
use redy_ftps::client::{Action, Channel, Event, FtpClient, FtpConfig, Security};
use redy_ftps::codec::command::Command;
use redy_ftps::codec::listing::LineSplitter;
use redy_tls::{Event as TlsEvent, ServerConfig, TlsSession};

pub use crate::pki::pki;

pub const SERVER: &str = "192.0.2.21:990";

pub fn config(security: Security) -> FtpConfig {
    let trust = TrustPolicy::CaCertificates(vec![pki().ca.certificate().clone()]);
    let tls = redy_tls::ClientConfig::builder(trust).build().unwrap();
    FtpConfig::new(
        security,
        tls,
        "ftp.test",
        SERVER.parse().unwrap(),
        "plc",
        "secret",
    )
}

/// How servers answer ABOR while a transfer runs.
#[derive(Default, Clone, Copy, Debug)]
pub enum AborStyle {
    /// RFC 959: 426 for the transfer, then 226 for ABOR (vsftpd).
    #[default]
    Rfc,
    /// One 226 for both (Pure-FTPd).
    Combined,
    /// 226 for ABOR first, then 426 for the transfer (proftpd, at times).
    Reversed,
}

/// The faults a test can switch on.
#[derive(Default, Clone)]
pub struct Faults {
    /// Answer EPSV with 502 (so the client falls back to PASV).
    pub no_epsv: bool,
    /// The address PASV announces (default: the server's own).
    pub pasv_addr: Option<String>,
    /// Data connections get a fresh TLS scope: they cannot resume, and are refused with 522.
    pub refuse_reuse: bool,
    /// Cut downloads after this many bytes: TCP EOF without close_notify, then a lying 226.
    pub cut_download_after: Option<usize>,
    /// Data connections issue no TLS 1.3 session ticket (as proftpd's).
    pub no_data_tickets: bool,
    /// How ABOR of a running transfer is answered.
    pub abor: AborStyle,
    /// Stop answering after this many commands.
    pub silent_after: Option<usize>,
    /// Send these bytes right after the 234 to AUTH TLS, before any TLS.
    pub after_auth: Option<Vec<u8>>,
}

pub struct FakeServer {
    explicit: bool,
    tls_config: ServerConfig,
    control: Option<TlsSession>,
    plain_out: Vec<u8>,
    lines: LineSplitter,
    data: Option<(u64, TlsSession)>,
    data_waiting: Option<Command>,
    upload: Option<(String, Vec<u8>)>,
    download_sent: bool,
    pub files: HashMap<String, Vec<u8>>,
    pub faults: Faults,
    /// Every command received, as the client sent it (PASS hidden).
    pub log: Vec<String>,
    /// Data connections and whether each resumed.
    pub resumed: Vec<bool>,
    rest: u64,
    answered: usize,
}

impl FakeServer {
    pub fn new(security: Security) -> Self {
        let tls_config = ServerConfig::builder(pki().server.clone())
            .build()
            .unwrap()
            .new_scope();
        let explicit = security == Security::ExplicitTls;
        let mut server = Self {
            explicit,
            control: (!explicit).then(|| TlsSession::server(&tls_config).unwrap()),
            tls_config,
            plain_out: Vec::new(),
            lines: LineSplitter::new(),
            data: None,
            data_waiting: None,
            upload: None,
            download_sent: false,
            files: HashMap::new(),
            faults: Faults::default(),
            log: Vec::new(),
            resumed: Vec::new(),
            rest: 0,
            answered: 0,
        };
        server.reply("220 fake FTPS ready");
        server
    }

    fn reply(&mut self, text: &str) {
        let line = format!("{text}\r\n");
        match &mut self.control {
            Some(tls) => {
                tls.send(line.as_bytes()).unwrap();
            }
            None => self.plain_out.extend_from_slice(line.as_bytes()),
        }
    }

    fn on_command(&mut self, line: &[u8]) {
        let command = Command::parse(line).unwrap();
        self.log.push(format!("{command:?}"));
        if self.faults.silent_after.is_some_and(|n| self.answered >= n) {
            return;
        }
        self.answered += 1;
        match command {
            Command::Auth(_) => {
                self.reply("234 AUTH TLS ok");
                if let Some(extra) = self.faults.after_auth.clone() {
                    self.plain_out.extend_from_slice(&extra);
                }
                self.control = Some(TlsSession::server(&self.tls_config).unwrap());
            }
            Command::User(_) => self.reply("331 password please"),
            Command::Pass(p) if p == "secret" => self.reply("230 logged in"),
            Command::Pass(_) => self.reply("530 Login incorrect."),
            Command::Feat => {
                for line in [
                    "211-Features:",
                    " EPSV",
                    " PASV",
                    " REST STREAM",
                    " SIZE",
                    " UTF8",
                    "211 End",
                ] {
                    self.reply(line);
                }
            }
            Command::Opts(_) | Command::Pbsz(_) | Command::Prot(_) | Command::Type(_) => {
                self.reply("200 ok")
            }
            Command::Epsv(_) if self.faults.no_epsv => self.reply("502 EPSV not implemented"),
            Command::Epsv(_) => self.reply("229 Entering Extended Passive Mode (|||40001|)"),
            Command::Pasv => {
                let addr = self
                    .faults
                    .pasv_addr
                    .clone()
                    .unwrap_or("192,0,2,21,156,65".into());
                self.reply(&format!("227 Entering Passive Mode ({addr})."));
            }
            Command::Rest(n) => {
                self.rest = n;
                self.reply("350 Restarting");
            }
            Command::Size(p) => match self.files.get(&p) {
                Some(f) => self.reply(&format!("213 {}", f.len())),
                None => self.reply("550 Could not get file size."),
            },
            Command::Mkd(p) => self.reply(&format!("257 \"{p}\" created")),
            Command::Pwd => self.reply("257 \"/home/plc\" is the current directory"),
            Command::Dele(p) => match self.files.remove(&p) {
                Some(_) => self.reply("250 Delete operation successful."),
                None => self.reply("550 Delete operation failed."),
            },
            Command::Rnfr(_) => self.reply("350 Ready for RNTO."),
            Command::Rnto(_) => self.reply("250 Rename successful."),
            Command::Noop => self.reply("200 NOOP ok."),
            Command::Quit => {
                self.reply("221 Goodbye.");
                if let Some(tls) = &mut self.control {
                    tls.close();
                }
            }
            Command::Abor => {
                let running = self.data.take().is_some() || self.data_waiting.take().is_some();
                self.upload = None;
                match (running, self.faults.abor) {
                    (false, _) => self.reply("225 No transfer to ABOR."),
                    (true, AborStyle::Rfc) => {
                        self.reply("426 Transfer aborted.");
                        self.reply("226 ABOR successful.");
                    }
                    (true, AborStyle::Combined) => {
                        self.reply("150 0.001 seconds (measured here)");
                        self.reply("226 Since you see this ABOR must've succeeded");
                    }
                    (true, AborStyle::Reversed) => {
                        self.reply("226 Abort successful");
                        self.reply("426 Transfer aborted. Data connection closed");
                    }
                }
            }
            c @ (Command::Retr(_)
            | Command::Stor(_)
            | Command::Appe(_)
            | Command::List(_)
            | Command::Mlsd(_)
            | Command::Nlst(_)) => {
                if let (Command::Retr(p), false) = (
                    &c,
                    self.files
                        .contains_key(c.argument().as_deref().unwrap_or("")),
                ) {
                    self.reply(&format!("550 {p}: no such file"));
                    return;
                }
                self.reply("150 Opening BINARY mode data connection.");
                self.data_waiting = Some(c);
            }
            other => self.reply(&format!("502 {} not implemented", other.verb())),
        }
    }

    /// A data connection arrived (client side connected).
    pub fn accept_data(&mut self, n: u64) {
        let config = match (self.faults.refuse_reuse, self.faults.no_data_tickets) {
            (true, _) => self.tls_config.new_scope(),
            (false, true) => self.tls_config.without_tickets(),
            (false, false) => self.tls_config.clone(),
        };
        let session = TlsSession::server(&config).unwrap().require_resumption();
        self.data = Some((n, session));
        self.download_sent = false;
    }

    /// Works the data connection after new bytes: handshake, upload collection, download.
    fn work_data(&mut self) -> Option<DataOut> {
        let (n, tls) = self.data.as_mut()?;
        let n = *n;
        if let Some(e) = tls.error().cloned() {
            assert_eq!(e, redy_tls::Error::ResumptionRequired);
            self.data = None;
            self.data_waiting = None;
            self.reply("522 SSL connection failed: session reuse required");
            return Some(DataOut::Close(n));
        }
        let mut peer_closed = false;
        while let Some(event) = tls.poll_event() {
            match event {
                TlsEvent::HandshakeComplete(info) => self.resumed.push(info.resumed),
                TlsEvent::PeerClosed => peer_closed = true,
                _ => {}
            }
        }
        let _ = n;
        if peer_closed {
            let (_, tls) = self.data.as_mut()?;
            let plain = tls.plaintext().unwrap().to_vec();
            tls.consume(plain.len());
            if let Some((path, mut body)) = self.upload.take() {
                body.extend_from_slice(&plain);
                self.files.insert(path, body);
                self.data_waiting = None;
                self.reply("226 Transfer complete.");
            }
        }
        let (_, tls) = self.data.as_mut()?;
        if tls.is_handshaking() {
            return None;
        }
        let plain = tls.plaintext().unwrap().to_vec();
        tls.consume(plain.len());
        if let Some((_, body)) = &mut self.upload {
            body.extend_from_slice(&plain);
        }
        match self.data_waiting.clone() {
            Some(Command::Stor(p)) if self.upload.is_none() => {
                self.upload = Some((p, Vec::new()));
                self.data_waiting = Some(Command::Noop);
            }
            Some(Command::Retr(p)) if !self.download_sent => {
                self.download_sent = true;
                let file = self.files[&p][self.rest as usize..].to_vec();
                self.rest = 0;
                if let Some(cut) = self.faults.cut_download_after {
                    tls.send(&file[..cut.min(file.len())]).unwrap();
                    self.reply("226 Transfer complete.");
                    return Some(DataOut::Cut(n));
                }
                return Some(DataOut::Send(n, file));
            }
            Some(Command::List(_)) if !self.download_sent => {
                self.download_sent = true;
                let listing = "total 8\r\n-rw-r--r--    1 1000     1000         1024 Nov 22 05:40 journal.csv\r\ndrwxr-xr-x    2 1000     1000         4096 Jan 02  2025 logs\r\n";
                return Some(DataOut::Send(n, listing.as_bytes().to_vec()));
            }
            _ => {}
        }
        None
    }
}

enum DataOut {
    Send(u64, Vec<u8>),
    Cut(u64),
    Close(u64),
}

/// A client and the fake server, with virtual time.
pub struct Pair {
    pub client: FtpClient,
    pub server: FakeServer,
    pub now: Instant,
    pub events: Vec<Event>,
    pub actions: Vec<Action>,
    /// Upload bodies by operation id, written when the client asks for data.
    pub uploads: HashMap<u64, Vec<u8>>,
    /// Downloads by operation id.
    pub downloads: HashMap<u64, Vec<u8>>,
    /// Sizes the bytes for the client are cut into, in turn (empty: delivered whole).
    pub cuts: Vec<usize>,
    next_cut: usize,
    sending: Option<(u64, Vec<u8>)>,
    outgoing: Vec<(u64, Vec<u8>)>,
    cut: Option<u64>,
}

impl Pair {
    pub fn new(security: Security) -> Self {
        Self::with(config(security), FakeServer::new(security))
    }

    pub fn with(config: FtpConfig, server: FakeServer) -> Self {
        let now = Instant::now();
        Self {
            client: FtpClient::new(config, now).unwrap(),
            server,
            now,
            events: Vec::new(),
            actions: Vec::new(),
            uploads: HashMap::new(),
            downloads: HashMap::new(),
            cuts: Vec::new(),
            next_cut: 0,
            sending: None,
            outgoing: Vec::new(),
            cut: None,
        }
    }

    pub fn advance_time(&mut self, d: Duration) {
        self.now += d;
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            let _ = self.client.handle_timeout(self.now);
        }
    }

    /// Moves bytes until nothing moves; the client's error, if it failed.
    pub fn run(&mut self) -> Result<(), redy_ftps::client::Error> {
        for _ in 0..10_000 {
            if !self.step()? {
                return Ok(());
            }
        }
        panic!("the pair never settled");
    }

    /// One round of moving bytes; false when nothing moved (or the client failed).
    pub fn run_once(&mut self) -> bool {
        self.step().unwrap_or(false)
    }

    fn step(&mut self) -> Result<bool, redy_ftps::client::Error> {
        let mut moved = false;
        // Control, client to server.
        let out = self.client.transmit(Channel::Control).to_vec();
        self.client.advance(Channel::Control, out.len(), self.now);
        if !out.is_empty() {
            moved = true;
            match &mut self.server.control {
                Some(tls) => {
                    tls.receive(&out).unwrap();
                }
                None => {
                    let mut rest = &out[..];
                    while !rest.is_empty() {
                        let (n, line) = self.server.lines.feed(rest).unwrap();
                        rest = &rest[n..];
                        if let Some(line) = line {
                            self.server.on_command(&line);
                        }
                    }
                }
            }
        }
        if let Some(tls) = &mut self.server.control {
            let plain = tls.plaintext().unwrap().to_vec();
            tls.consume(plain.len());
            let mut rest = &plain[..];
            while !rest.is_empty() {
                let (n, line) = self.server.lines.feed(rest).unwrap();
                rest = &rest[n..];
                if let Some(line) = line {
                    self.server.on_command(&line);
                }
            }
        }
        // Control, server to client.
        let mut back = std::mem::take(&mut self.server.plain_out);
        if let Some(tls) = &mut self.server.control {
            back.extend_from_slice(tls.transmit());
            let n = tls.transmit().len();
            tls.advance(n);
        }
        if !back.is_empty() {
            moved = true;
            let mut rest = &back[..];
            while !rest.is_empty() {
                let piece = self.cut(rest);
                let taken = self.client.receive(Channel::Control, piece, self.now)?;
                assert!(taken > 0, "the client took none of a control reply");
                rest = &rest[taken..];
            }
        }
        // Actions.
        while let Some(action) = self.client.poll_action() {
            moved = true;
            if let Action::Connect {
                channel: Channel::Data(n),
                ..
            } = action
            {
                self.client.connected(
                    Channel::Data(n),
                    SERVER.parse::<SocketAddr>().unwrap(),
                    self.now,
                )?;
                self.server.accept_data(n);
            }
            self.actions.push(action);
        }
        // Data.
        moved |= self.pump_data()?;
        // Events.
        while let Some(event) = self.client.poll_event() {
            moved = true;
            match &event {
                Event::SendData { id } => {
                    let body = self.uploads.remove(id).unwrap_or_default();
                    self.sending = Some((*id, body));
                }
                Event::DataReceived { id } => {
                    let id = *id;
                    loop {
                        let data = self.client.received().to_vec();
                        if data.is_empty() {
                            break;
                        }
                        self.downloads
                            .entry(id)
                            .or_default()
                            .extend_from_slice(&data);
                        self.client.consume(data.len(), self.now)?;
                    }
                }
                _ => {}
            }
            self.events.push(event);
        }
        if let Some((_, body)) = &mut self.sending {
            if body.is_empty() {
                self.client.finish_upload(self.now)?;
                self.sending = None;
            } else {
                let n = self.client.write_data(body, self.now)?;
                body.drain(..n);
            }
            moved = true;
        }
        Ok(moved)
    }

    fn pump_data(&mut self) -> Result<bool, redy_ftps::client::Error> {
        let mut moved = false;
        let Some((n, _)) = &self.server.data else {
            return Ok(false);
        };
        let n = *n;
        let current = n;
        let ch = Channel::Data(n);
        let out = self.client.transmit(ch).to_vec();
        self.client.advance(ch, out.len(), self.now);
        if !out.is_empty() {
            moved = true;
            let mut rest = &out[..];
            while let Some((_, tls)) = &mut self.server.data
                && !rest.is_empty()
            {
                let Ok(taken) = tls.receive(rest) else { break };
                rest = &rest[taken..];
                if !tls.is_handshaking() {
                    let plain = tls.plaintext().unwrap().to_vec();
                    tls.consume(plain.len());
                    if let Some((_, body)) = &mut self.server.upload {
                        body.extend_from_slice(&plain);
                    }
                }
            }
        }
        match self.server.work_data() {
            Some(DataOut::Send(n, file)) => self.outgoing.push((n, file)),
            Some(DataOut::Cut(n)) => self.cut = Some(n),
            Some(DataOut::Close(n)) => {
                let alert = self.server_data_transmit();
                if !alert.is_empty() {
                    let _ = self.client.receive(Channel::Data(n), &alert, self.now)?;
                }
                self.client.receive_eof(Channel::Data(n), self.now)?;
                return Ok(true);
            }
            None => {}
        }
        // A download whose data connection is gone (ABOR) sends nothing more.
        self.outgoing.retain(|(n, _)| *n == current);
        if let Some((n, file)) = self.outgoing.first_mut()
            && let Some((_, tls)) = &mut self.server.data
        {
            let _ = n;
            let taken = tls.send(file).unwrap();
            file.drain(..taken);
            moved |= taken > 0;
            if file.is_empty() {
                tls.close();
                self.outgoing.clear();
                self.server.data_waiting = None;
                self.server.reply("226 Transfer complete.");
            }
        }
        let back = self.server_data_transmit();
        if !back.is_empty() {
            moved = true;
            let mut rest = &back[..];
            while !rest.is_empty() {
                let piece = self.cut(rest);
                let taken = self.client.receive(ch, piece, self.now)?;
                rest = &rest[taken..];
                loop {
                    let data = self.client.received().to_vec();
                    if data.is_empty() {
                        break;
                    }
                    let id = self.current_download_id();
                    self.downloads
                        .entry(id)
                        .or_default()
                        .extend_from_slice(&data);
                    self.client.consume(data.len(), self.now)?;
                }
            }
        }
        if self.cut.take().is_some() {
            self.server.data = None;
            self.client.receive_eof(ch, self.now)?;
            moved = true;
        }
        Ok(moved)
    }

    /// The next piece of `bytes` to give the client, as `cuts` says.
    fn cut<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        if self.cuts.is_empty() {
            return bytes;
        }
        let size = self.cuts[self.next_cut % self.cuts.len()].max(1);
        self.next_cut += 1;
        &bytes[..size.min(bytes.len())]
    }

    fn server_data_transmit(&mut self) -> Vec<u8> {
        match &mut self.server.data {
            Some((_, tls)) => {
                let out = tls.transmit().to_vec();
                tls.advance(out.len());
                out
            }
            None => Vec::new(),
        }
    }

    fn current_download_id(&self) -> u64 {
        self.events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::DataTls { id, .. } => Some(*id),
                _ => None,
            })
            .unwrap_or(0)
    }

    pub fn done(&self, id: u64) -> Option<&redy_ftps::client::Outcome> {
        self.events.iter().find_map(|e| match e {
            Event::Done { id: i, outcome } if *i == id => Some(outcome),
            _ => None,
        })
    }

    pub fn failed(&self, id: u64) -> Option<&redy_ftps::client::OpError> {
        self.events.iter().find_map(|e| match e {
            Event::Failed { id: i, error } if *i == id => Some(error),
            _ => None,
        })
    }
}
