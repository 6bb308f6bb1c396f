//! A blocking FTPS session over `std::net`: [`FtpClient`] driven with real time and
//! non-blocking sockets (`io`), one operation at a time, plus folder uploads ([`tree`]).
//!
//! ```no_run
//! use redy_examples::ftp::FtpSession;
//! use redy_ftps::client::{FtpConfig, Security};
//! use redy_tls::{ClientConfig, redy_certs::TrustPolicy};
//!
//! let tls = ClientConfig::builder(TrustPolicy::WebPkiRoots).build()?;
//! let addr = "192.0.2.7:990".parse()?;
//! let config = FtpConfig::new(Security::ImplicitTls, tls, "ftp.example.com", addr, "plc", "pw");
//! let mut session = FtpSession::connect(config)?;
//! let mut journal = Vec::new();
//! session.retrieve("journal.csv", 0, &mut journal)?;
//! session.quit()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod io;
pub mod tree;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Instant, SystemTime};

use redy_ftps::client::{
    Error, Event, Features, FtpClient, FtpConfig, ListFormat, OpError, Outcome,
};
use redy_ftps::codec::listing::{Entry, ListingError};
use redy_tls::HandshakeInfo;

use io::Transport;

/// Size of the reads from an upload's source.
const UPLOAD_CHUNK: usize = 64 * 1024;

/// Why an operation or the session failed.
#[derive(Debug, thiserror::Error)]
pub enum FtpError {
    /// The sockets.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The session ended.
    #[error("{0}")]
    Session(#[from] Error),
    /// The operation failed; the session goes on.
    #[error("{0}")]
    Op(#[from] OpError),
}

/// A connected, logged-in FTPS session.
pub struct FtpSession {
    config: FtpConfig,
    client: FtpClient,
    renewals: u32,
    /// `CCC` was accepted: a renewed session sends it again.
    clear_control: bool,
    transport: Transport,
    control_tls: Option<HandshakeInfo>,
    data_tls: Vec<HandshakeInfo>,
    bad_entries: Vec<ListingError>,
    progress: Option<Box<dyn FnMut(u64) + Send>>,
}

impl std::fmt::Debug for FtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpSession")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Where an operation's data goes or comes from.
enum Sink<'a> {
    None,
    Download(&'a mut dyn Write),
    Upload {
        source: &'a mut dyn Read,
        buf: Vec<u8>,
        pos: usize,
        len: usize,
        open: bool,
        finished: bool,
    },
    Listing(&'a mut dyn FnMut(Entry)),
    Names(&'a mut Vec<String>),
}

impl FtpSession {
    /// Connects to `config.server_addr` and runs the session up to ready (TLS, login,
    /// `PBSZ 0`, `PROT P`, `TYPE I`).
    pub fn connect(config: FtpConfig) -> Result<Self, FtpError> {
        let tcp = TcpStream::connect_timeout(&config.server_addr, config.timeouts.connect)?;
        Self::open(config, tcp)
    }

    /// Runs the session up to ready over a control connection the caller opened.
    pub fn open(config: FtpConfig, tcp: TcpStream) -> Result<Self, FtpError> {
        let client = FtpClient::new(config.clone(), Instant::now())?;
        let mut session = Self {
            config,
            client,
            renewals: 0,
            clear_control: false,
            transport: Transport::new(tcp)?,
            control_tls: None,
            data_tls: Vec::new(),
            bad_entries: Vec::new(),
            progress: None,
        };
        session.drive(None, &mut Sink::None)?;
        Ok(session)
    }

    /// Calls `progress` with the bytes moved so far during each transfer.
    pub fn set_progress(&mut self, progress: impl FnMut(u64) + Send + 'static) {
        self.progress = Some(Box::new(progress));
    }

    /// Stops calling the progress function set by [`set_progress`](Self::set_progress).
    pub fn clear_progress(&mut self) {
        self.progress = None;
    }

    /// The control connection's TLS handshake.
    pub fn control_tls(&self) -> Option<&HandshakeInfo> {
        self.control_tls.as_ref()
    }

    /// Every data connection's TLS handshake so far, in order.
    pub fn data_tls(&self) -> &[HandshakeInfo] {
        &self.data_tls
    }

    /// What the server announced in `FEAT`.
    pub fn features(&self) -> &Features {
        self.client.features()
    }

    /// Listing lines that could not be parsed so far.
    pub fn bad_entries(&self) -> &[ListingError] {
        &self.bad_entries
    }

    /// Lists `path` (`LIST` or `MLSD`), calling `each` per entry as it arrives.
    pub fn list_with(
        &mut self,
        path: Option<&str>,
        format: ListFormat,
        each: &mut dyn FnMut(Entry),
    ) -> Result<u64, FtpError> {
        self.renew_if_spent()?;
        let id = self
            .client
            .list(path, format, SystemTime::now(), Instant::now())?;
        transferred(self.drive(Some(id), &mut Sink::Listing(each))?)
    }

    /// Lists `path` into a vector.
    pub fn list(&mut self, path: Option<&str>, format: ListFormat) -> Result<Vec<Entry>, FtpError> {
        let mut entries = Vec::new();
        self.list_with(path, format, &mut |e| entries.push(e))?;
        Ok(entries)
    }

    /// `NLST`: the names in `path`.
    pub fn names(&mut self, path: Option<&str>) -> Result<Vec<String>, FtpError> {
        self.renew_if_spent()?;
        let id = self
            .client
            .list(path, ListFormat::Names, SystemTime::now(), Instant::now())?;
        let mut names = Vec::new();
        self.drive(Some(id), &mut Sink::Names(&mut names))?;
        Ok(names)
    }

    /// Downloads `remote` from byte `offset` into `sink`; returns the bytes written. When
    /// `sink` fails the transfer is aborted (`ABOR`), the session stays usable, and the error
    /// is returned: resume later from the bytes written with `offset`.
    pub fn retrieve(
        &mut self,
        remote: &str,
        offset: u64,
        sink: &mut dyn Write,
    ) -> Result<u64, FtpError> {
        self.renew_if_spent()?;
        let id = self.client.retrieve(remote, offset, Instant::now())?;
        transferred(self.drive(Some(id), &mut Sink::Download(sink))?)
    }

    /// Uploads `source` to `remote` (from byte `offset` of it when not 0); returns the bytes
    /// sent.
    pub fn store(
        &mut self,
        remote: &str,
        offset: u64,
        source: &mut dyn Read,
    ) -> Result<u64, FtpError> {
        self.renew_if_spent()?;
        let id = self.client.store(remote, offset, Instant::now())?;
        transferred(self.drive(Some(id), &mut upload(source))?)
    }

    /// Appends `source` to `remote`.
    pub fn append(&mut self, remote: &str, source: &mut dyn Read) -> Result<u64, FtpError> {
        self.renew_if_spent()?;
        let id = self.client.append(remote, Instant::now())?;
        transferred(self.drive(Some(id), &mut upload(source))?)
    }

    /// Runs one operation that needs no data connection, queued with `queue` (for example
    /// `|c, now| c.mkdir("logs", now)`).
    pub fn run(
        &mut self,
        queue: impl FnOnce(&mut FtpClient, Instant) -> Result<u64, Error>,
    ) -> Result<Outcome, FtpError> {
        let id = queue(&mut self.client, Instant::now())?;
        self.drive(Some(id), &mut Sink::None)
    }

    /// `CCC`: the control connection returns to clear text (see [`FtpClient::ccc`] for what
    /// that exposes); data connections stay encrypted.
    pub fn clear_control(&mut self) -> Result<(), FtpError> {
        self.run(|c, now| c.ccc(now))?;
        self.clear_control = true;
        Ok(())
    }

    /// How many times the session was renewed because its TLS 1.3 tickets were spent.
    pub fn renewals(&self) -> u32 {
        self.renewals
    }

    /// Before a data connection: when it could not resume the control connection's TLS session
    /// (TLS 1.3 tickets spent, see [`FtpClient::tickets_spent`]), logs in on a new control
    /// connection, returns to the same directory, and quits the old one.
    fn renew_if_spent(&mut self) -> Result<(), FtpError> {
        if !self.client.tickets_spent() {
            return Ok(());
        }
        let dir = match self.run(|c, now| c.pwd(now))? {
            Outcome::Path(dir) => dir,
            _ => "/".to_owned(),
        };
        let mut fresh = Self::connect(self.config.clone())?;
        if self.clear_control {
            fresh.clear_control()?;
        }
        fresh.run(|c, now| c.cwd(&dir, now))?;
        let mut old = std::mem::replace(self, fresh);
        self.renewals = old.renewals + 1;
        self.data_tls.splice(0..0, old.data_tls.drain(..));
        self.bad_entries = std::mem::take(&mut old.bad_entries);
        self.progress = old.progress.take();
        // The old session's transfers are all done; a failing QUIT loses nothing.
        let _ = old.quit();
        Ok(())
    }

    /// Sends `QUIT` and closes the session.
    pub fn quit(mut self) -> Result<(), FtpError> {
        self.client.quit(Instant::now())?;
        self.drive(None, &mut Sink::None).map(drop)
    }

    /// Moves bytes until operation `id` ends (or, with `None`, until the session is ready or
    /// closed).
    fn drive(&mut self, id: Option<u64>, sink: &mut Sink<'_>) -> Result<Outcome, FtpError> {
        let mut result = None;
        let mut sink_error = None;
        loop {
            let now = Instant::now();
            let mut busy = self.feed_upload(sink, now)?;
            busy |= self.transport.act(&mut self.client, now)?;
            busy |= self.transport.flush(&mut self.client, now)?;
            while let Some(event) = self.client.poll_event() {
                match event {
                    Event::Done { id: done, outcome } if Some(done) == id => {
                        result = Some(Ok(outcome))
                    }
                    Event::Failed { id: failed, error } if Some(failed) == id => {
                        result = Some(Err(error))
                    }
                    Event::Ready | Event::Closed if id.is_none() => {
                        result = Some(Ok(Outcome::Path(String::new())));
                    }
                    Event::TlsEstablished(info) => self.control_tls = Some(info),
                    Event::DataTls { info, .. } => self.data_tls.push(info),
                    Event::SendData { .. } => {
                        if let Sink::Upload { open, .. } = sink {
                            *open = true;
                            busy = true;
                        }
                    }
                    Event::Entry { entry, .. } => {
                        if let Sink::Listing(each) = sink {
                            each(entry);
                        }
                    }
                    Event::Name { name, .. } => {
                        if let Sink::Names(names) = sink {
                            names.push(name);
                        }
                    }
                    Event::BadEntry { error, .. } => self.bad_entries.push(error),
                    _ => {}
                }
            }
            match self.drain_download(sink, now) {
                Ok(moved) => busy |= moved,
                // The sink failed: abort the transfer, keep the session, report the sink's error.
                Err(FtpError::Io(e)) if sink_error.is_none() => {
                    self.client.abort(now)?;
                    *sink = Sink::None;
                    sink_error = Some(e);
                }
                Err(e) => return Err(e),
            }
            if let Some(error) = self.client.error() {
                return Err(error.clone().into());
            }
            if let Some(result) = result {
                self.transport.act(&mut self.client, now)?;
                self.transport.flush(&mut self.client, now)?;
                if let Some(e) = sink_error {
                    return Err(e.into());
                }
                return result.map_err(FtpError::from);
            }
            busy |= self.read()?;
            let deadline = self.client.poll_timeout();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.client.handle_timeout(Instant::now())?;
            }
            self.transport
                .wait(&mut self.client, deadline, busy)
                .map_err(|e| self.session_error(e))?;
        }
    }

    fn read(&mut self) -> Result<bool, FtpError> {
        let now = Instant::now();
        self.transport
            .read(&mut self.client, now)
            .map_err(|e| self.session_error(e))
    }

    /// An I/O error, or the session's own error when the client refused the bytes.
    fn session_error(&self, e: std::io::Error) -> FtpError {
        match self.client.error() {
            Some(error) => FtpError::Session(error.clone()),
            None => FtpError::Io(e),
        }
    }

    fn feed_upload(&mut self, sink: &mut Sink<'_>, now: Instant) -> Result<bool, FtpError> {
        let Sink::Upload {
            source,
            buf,
            pos,
            len,
            open: true,
            finished: finished @ false,
        } = sink
        else {
            return Ok(false);
        };
        let mut moved = false;
        loop {
            if *pos == *len {
                *len = source.read(buf)?;
                *pos = 0;
                if *len == 0 {
                    self.client.finish_upload(now)?;
                    *finished = true;
                    return Ok(true);
                }
            }
            match self.client.write_data(&buf[*pos..*len], now) {
                Ok(0) => return Ok(moved),
                Ok(n) => {
                    *pos += n;
                    moved = true;
                    self.report_progress(n as u64);
                }
                // The upload failed: Event::Failed says why.
                Err(Error::Usage(_)) => return Ok(moved),
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn drain_download(&mut self, sink: &mut Sink<'_>, now: Instant) -> Result<bool, FtpError> {
        let Sink::Download(out) = sink else {
            return Ok(false);
        };
        let mut moved = false;
        loop {
            let data = self.client.received();
            if data.is_empty() {
                return Ok(moved);
            }
            out.write_all(data)?;
            let n = data.len();
            self.client.consume(n, now)?;
            self.report_progress(n as u64);
            moved = true;
        }
    }

    fn report_progress(&mut self, n: u64) {
        if let Some(progress) = &mut self.progress {
            progress(n);
        }
    }
}

fn upload(source: &mut dyn Read) -> Sink<'_> {
    Sink::Upload {
        source,
        buf: vec![0; UPLOAD_CHUNK],
        pos: 0,
        len: 0,
        open: false,
        finished: false,
    }
}

fn transferred(outcome: Outcome) -> Result<u64, FtpError> {
    match outcome {
        Outcome::Transferred { bytes, .. } => Ok(bytes),
        _ => Ok(0),
    }
}
