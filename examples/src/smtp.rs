//! A blocking SMTP session over a `TcpStream`: [`SmtpClient`] driven with real time.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use redy_smtps::{Address, Capabilities, Envelope, Event, Reply, SmtpClient, SmtpConfig};

/// Size of the reads from the socket and from the body source.
const CHUNK: usize = 16 * 1024;

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendReport {
    /// Each recipient with the server's reply to its RCPT TO.
    pub recipients: Vec<(Address, Reply)>,
    /// `Ok` with the final reply when the server took the message, `Err` with the reply that
    /// refused it.
    pub outcome: Result<Reply, Reply>,
}

/// A connected, greeted (and, as configured, TLS-protected and authenticated) SMTP session.
#[derive(Debug)]
pub struct SmtpConnection {
    client: SmtpClient,
    tcp: TcpStream,
    buf: Vec<u8>,
    capabilities: Capabilities,
    /// TLS details, once TLS is up.
    pub tls: Option<redy_tls::HandshakeInfo>,
    /// Set when opportunistic mode continued in clear text.
    pub tls_skipped: Option<String>,
}

impl SmtpConnection {
    /// Runs the session up to Ready over `tcp`.
    pub fn open(config: SmtpConfig, tcp: TcpStream) -> io::Result<Self> {
        let client = SmtpClient::new(config, Instant::now()).map_err(io::Error::other)?;
        let mut conn = Self {
            client,
            tcp,
            buf: vec![0; CHUNK],
            capabilities: Capabilities::default(),
            tls: None,
            tls_skipped: None,
        };
        conn.run_until(|e| matches!(e, Event::Ready(_)))?;
        Ok(conn)
    }

    /// What the server offered.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Sends one message, its body read from `body` to the end, and reports the outcome.
    pub fn send(&mut self, envelope: &Envelope, body: &mut dyn Read) -> io::Result<SendReport> {
        self.client
            .start_mail(envelope, Instant::now())
            .map_err(io::Error::other)?;
        let mut recipients = Vec::new();
        loop {
            match self.next_event()? {
                Event::Recipient { address, reply } => recipients.push((address, reply)),
                Event::Failed { reply } => {
                    return Ok(SendReport {
                        recipients,
                        outcome: Err(reply),
                    });
                }
                Event::SendBody => break,
                _ => {}
            }
        }
        let mut chunk = vec![0; CHUNK];
        loop {
            let n = body.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            let mut rest = &chunk[..n];
            while !rest.is_empty() {
                let taken = self
                    .client
                    .write_body(rest, Instant::now())
                    .map_err(io::Error::other)?;
                rest = &rest[taken..];
                self.flush()?;
            }
        }
        self.client
            .finish_body(Instant::now())
            .map_err(io::Error::other)?;
        loop {
            match self.next_event()? {
                Event::Sent { reply } => {
                    return Ok(SendReport {
                        recipients,
                        outcome: Ok(reply),
                    });
                }
                Event::Failed { reply } => {
                    return Ok(SendReport {
                        recipients,
                        outcome: Err(reply),
                    });
                }
                _ => {}
            }
        }
    }

    /// QUIT, then waits for `221`.
    pub fn quit(mut self) -> io::Result<()> {
        self.client.quit(Instant::now()).map_err(io::Error::other)?;
        self.run_until(|e| *e == Event::Closed)?;
        self.flush()
    }

    fn run_until(&mut self, done: impl Fn(&Event) -> bool) -> io::Result<()> {
        loop {
            if done(&self.next_event()?) {
                return Ok(());
            }
        }
    }

    /// Moves bytes and time until the machine has an event.
    fn next_event(&mut self) -> io::Result<Event> {
        loop {
            if let Some(event) = self.client.poll_event() {
                match &event {
                    Event::Ready(caps) => self.capabilities = caps.clone(),
                    Event::TlsEstablished(info) => self.tls = Some(info.clone()),
                    Event::TlsSkipped { reason } => self.tls_skipped = Some(reason.clone()),
                    _ => {}
                }
                return Ok(event);
            }
            self.flush()?;
            let now = Instant::now();
            let wait = self
                .client
                .poll_timeout()
                .map(|d| d.saturating_duration_since(now));
            self.tcp.set_read_timeout(Some(
                wait.unwrap_or(Duration::from_secs(300))
                    .max(Duration::from_millis(1)),
            ))?;
            match self.tcp.read(&mut self.buf) {
                Ok(0) => self
                    .client
                    .receive_eof(Instant::now())
                    .map_err(io::Error::other)?,
                Ok(n) => {
                    let mut rest = &self.buf[..n];
                    while !rest.is_empty() {
                        let taken = self
                            .client
                            .receive(rest, Instant::now())
                            .map_err(io::Error::other)?;
                        rest = &rest[taken..];
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.client
                        .handle_timeout(Instant::now())
                        .map_err(io::Error::other)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            let out = self.client.transmit();
            if out.is_empty() {
                return Ok(());
            }
            let n = self.tcp.write(out)?;
            self.client.advance(n);
        }
    }
}

/// A [`Message`](redy_smtps::message::Message) as a `Read`, its attachments streamed from
/// readers (files, usually) through the message encoder: nothing holds a whole attachment.
pub struct MessageReader<'a> {
    encoder: redy_smtps::message::MessageEncoder<'a>,
    attachments: Vec<Box<dyn Read + 'a>>,
    out: Vec<u8>,
    pos: usize,
    chunk: Vec<u8>,
    pending: std::ops::Range<usize>,
    done: bool,
}

impl<'a> MessageReader<'a> {
    /// Reads `message`, taking attachment `n`'s content from `attachments[n]`.
    pub fn new(
        message: &'a redy_smtps::message::Message,
        attachments: Vec<Box<dyn Read + 'a>>,
    ) -> Self {
        Self {
            encoder: message.encoder(),
            attachments,
            out: Vec::with_capacity(CHUNK),
            pos: 0,
            chunk: vec![0; CHUNK],
            pending: 0..0,
            done: false,
        }
    }
}

impl Read for MessageReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use redy_smtps::message::Step;
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            self.out.clear();
            self.pos = 0;
            match self.encoder.next(&mut self.out, CHUNK) {
                Step::Data => {}
                Step::Done => self.done = true,
                Step::NeedAttachment(i) => {
                    if self.pending.is_empty() {
                        let source = self.attachments.get_mut(i).ok_or_else(|| {
                            io::Error::other(format!("no source for attachment {i}"))
                        })?;
                        let n = source.read(&mut self.chunk)?;
                        match n {
                            0 => self.encoder.attachment_end().map_err(io::Error::other)?,
                            n => self.pending = 0..n,
                        }
                    }
                    if !self.pending.is_empty() {
                        let taken = self
                            .encoder
                            .attachment_data(&self.chunk[self.pending.clone()])
                            .map_err(io::Error::other)?;
                        self.pending.start += taken;
                    }
                }
            }
        }
    }
}
