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
    ///
    /// Sets `TCP_NODELAY`: SMTP is request/response, and Nagle's algorithm would hold the end of
    /// each message (or a pipelined command flight) until the server's delayed ACK, ~40 ms.
    pub fn open(config: SmtpConfig, tcp: TcpStream) -> io::Result<Self> {
        tcp.set_nodelay(true)?;
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
        let mut reports = self.send_all(vec![(envelope, body)])?;
        reports.pop().ok_or_else(|| io::Error::other("no report"))
    }

    /// Sends messages in order and reports each outcome. When the server offers PIPELINING,
    /// each message's commands leave with the previous message's final dot, so a message costs
    /// one round trip (the wait for 354) instead of two.
    pub fn send_all(
        &mut self,
        messages: Vec<(&Envelope, &mut dyn Read)>,
    ) -> io::Result<Vec<SendReport>> {
        let mut reports: Vec<Pending> = Vec::new();
        let mut first_id = None;
        let mut chunk = vec![0; CHUNK];
        for (envelope, body) in messages {
            // Without pipelining (or while a reply is due) the next message waits its turn.
            let id = loop {
                match self.client.start_mail(envelope, Instant::now()) {
                    Ok(id) => break id,
                    Err(redy_smtps::Error::NotNow { .. }) => {
                        let event = self.next_event()?;
                        record(&mut reports, first_id, event);
                    }
                    Err(e) => return Err(io::Error::other(e)),
                }
            };
            let base = *first_id.get_or_insert(id);
            reports.push(Pending::default());
            let wants_body = loop {
                match self.next_event()? {
                    Event::SendBody => break true,
                    event => {
                        record(&mut reports, first_id, event);
                        if reports
                            .get((id - base) as usize)
                            .is_some_and(|r| r.outcome.is_some())
                        {
                            break false;
                        }
                    }
                }
            };
            if !wants_body {
                continue;
            }
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
        }
        while reports.iter().any(|r| r.outcome.is_none()) {
            let event = self.next_event()?;
            record(&mut reports, first_id, event);
        }
        Ok(reports
            .into_iter()
            .map(|p| SendReport {
                recipients: p.recipients,
                outcome: p.outcome.unwrap_or_else(|| Err(Reply::new(0, vec![]))),
            })
            .collect())
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

/// A message whose outcome may still be coming.
#[derive(Default)]
struct Pending {
    recipients: Vec<(Address, Reply)>,
    outcome: Option<Result<Reply, Reply>>,
}

/// Files a message event under its message (numbered from `first_id`).
fn record(reports: &mut [Pending], first_id: Option<u64>, event: Event) {
    let id = match &event {
        Event::Recipient { id, .. } | Event::Sent { id, .. } | Event::Failed { id, .. } => *id,
        _ => return,
    };
    let slot = first_id
        .and_then(|base| id.checked_sub(base))
        .and_then(|i| usize::try_from(i).ok());
    let Some(pending) = slot.and_then(|i| reports.get_mut(i)) else {
        return;
    };
    match event {
        Event::Recipient { address, reply, .. } => pending.recipients.push((address, reply)),
        Event::Sent { reply, .. } => pending.outcome = Some(Ok(reply)),
        Event::Failed { reply, .. } => pending.outcome = Some(Err(reply)),
        _ => {}
    }
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
