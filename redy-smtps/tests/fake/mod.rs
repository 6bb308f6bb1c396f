//! An in-memory SMTP server driven by a handler, over clear text, implicit TLS or STARTTLS,
//! and the pump that joins it to an `SmtpClient` on virtual time.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use redy_certs::{DeviceCa, Identity, TrustPolicy};
use redy_smtps::{Event, Security, SmtpClient, SmtpConfig, unstuff};
use redy_tls::{ServerConfig, TlsSession};

pub struct Pki {
    pub ca: DeviceCa,
    pub server: Identity,
}

pub fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let now = SystemTime::now();
        let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
        let server = ca
            .issue_server_certificate(&["mail.test".parse().unwrap()], now)
            .unwrap();
        Pki { ca, server }
    })
}

pub fn config(security: Security) -> SmtpConfig {
    let trust = TrustPolicy::CaCertificates(vec![pki().ca.certificate().clone()]);
    let tls = redy_tls::ClientConfig::builder(trust).build().unwrap();
    let mut config = SmtpConfig::new(security, tls, "mail.test");
    config.ehlo_name = "device.test".into();
    config
}

/// What the handler returns for a command line: the reply bytes to send (may be empty).
pub type Handler = Box<dyn FnMut(&str) -> String>;

pub struct FakeServer {
    tls: Option<TlsSession>,
    tls_config: ServerConfig,
    input: Vec<u8>,
    clear_out: Vec<u8>,
    pending_plain: Vec<u8>,
    in_data: bool,
    data: Vec<u8>,
    handler: Handler,
    /// Every command line received, in order, with whether TLS was up.
    pub log: Vec<(String, bool)>,
    /// Every message received (unstuffed).
    pub messages: Vec<Vec<u8>>,
    /// Bytes received per `receive` call, to check pipelining.
    pub flights: Vec<Vec<u8>>,
    /// When false the server stops answering.
    pub answering: bool,
    pub closed_by_client: bool,
}

impl FakeServer {
    pub fn new(implicit_tls: bool, greeting: &str, handler: Handler) -> Self {
        let tls_config = ServerConfig::builder(pki().server.clone()).build().unwrap();
        let tls = implicit_tls.then(|| TlsSession::server(&tls_config).unwrap());
        let mut server = Self {
            tls,
            tls_config,
            input: Vec::new(),
            clear_out: Vec::new(),
            pending_plain: Vec::new(),
            in_data: false,
            data: Vec::new(),
            handler,
            log: Vec::new(),
            messages: Vec::new(),
            flights: Vec::new(),
            answering: true,
            closed_by_client: false,
        };
        server.say(greeting);
        server
    }

    fn say(&mut self, text: &str) {
        match &mut self.tls {
            Some(_) => self.pending_plain.extend_from_slice(text.as_bytes()),
            None => self.clear_out.extend_from_slice(text.as_bytes()),
        }
    }

    pub fn receive(&mut self, bytes: &[u8]) {
        match &mut self.tls {
            Some(tls) => {
                let mut rest = bytes;
                while !rest.is_empty() {
                    let n = tls.receive(rest).unwrap();
                    rest = &rest[n..];
                    loop {
                        let plain = tls.plaintext().unwrap();
                        if plain.is_empty() {
                            break;
                        }
                        let n = plain.len();
                        self.input.extend_from_slice(plain);
                        tls.consume(n);
                    }
                }
                while let Some(event) = tls.poll_event() {
                    if event == redy_tls::Event::PeerClosed {
                        self.closed_by_client = true;
                    }
                }
            }
            None => self.input.extend_from_slice(bytes),
        }
        if !bytes.is_empty() {
            self.flights.push(bytes.to_vec());
        }
        self.process();
    }

    fn process(&mut self) {
        while let Some(end) = self.input.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.input.drain(..end + 2).collect();
            if self.in_data {
                self.data.extend_from_slice(&line);
                if line == b".\r\n" {
                    self.in_data = false;
                    let message = unstuff(&std::mem::take(&mut self.data)).unwrap();
                    self.messages.push(message);
                    let reply = (self.handler)(".");
                    self.say(&reply);
                }
                continue;
            }
            let text = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            self.log.push((text.clone(), self.tls.is_some()));
            if !self.answering {
                continue;
            }
            let reply = (self.handler)(&text);
            if text.eq_ignore_ascii_case("DATA") && reply.starts_with("354") {
                self.in_data = true;
            }
            self.say(&reply);
            if text.eq_ignore_ascii_case("STARTTLS") && reply.starts_with("220") {
                self.tls = Some(TlsSession::server_upgrade(&self.tls_config, &self.input).unwrap());
            }
        }
    }

    pub fn transmit(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.clear_out);
        if let Some(tls) = &mut self.tls {
            if tls.handshake().is_some() && !self.pending_plain.is_empty() {
                let n = tls.send(&self.pending_plain).unwrap();
                self.pending_plain.drain(..n);
            }
            let bytes = tls.transmit().to_vec();
            tls.advance(bytes.len());
            out.extend(bytes);
        }
        out
    }

    /// Queues raw bytes in clear (for hostile servers).
    pub fn inject(&mut self, bytes: &[u8]) {
        self.clear_out.extend_from_slice(bytes);
    }
}

/// Client and server joined in memory, on virtual time.
pub struct Session {
    pub client: SmtpClient,
    pub server: FakeServer,
    pub now: Instant,
    pub events: Vec<Event>,
    /// Splits every server→client delivery into chunks of these sizes (cycled); empty = whole.
    pub cuts: Vec<usize>,
    cut: usize,
}

impl Session {
    pub fn new(config: SmtpConfig, server: FakeServer) -> Self {
        let now = Instant::now();
        Self {
            client: SmtpClient::new(config, now).unwrap(),
            server,
            now,
            events: Vec::new(),
            cuts: Vec::new(),
            cut: 0,
        }
    }

    /// Moves bytes until quiet; returns the client's error if it failed.
    pub fn pump(&mut self) -> Result<(), redy_smtps::Error> {
        for _ in 0..10_000 {
            let c = self.client.transmit().to_vec();
            self.client.advance(c.len());
            if !c.is_empty() {
                self.server.receive(&c);
            }
            let s = self.server.transmit();
            let mut rest = &s[..];
            while !rest.is_empty() {
                let size = match self.cuts.is_empty() {
                    true => rest.len(),
                    false => self.cuts[self.cut % self.cuts.len()].min(rest.len()),
                };
                self.cut += 1;
                let n = self.client.receive(&rest[..size], self.now)?;
                rest = &rest[n..];
            }
            self.events
                .extend(std::iter::from_fn(|| self.client.poll_event()));
            if c.is_empty() && s.is_empty() {
                return Ok(());
            }
        }
        panic!("never quiet");
    }

    pub fn advance_time(&mut self, by: Duration) -> Result<(), redy_smtps::Error> {
        self.now += by;
        self.client.handle_timeout(self.now)
    }

    /// Sends one message and pumps until its outcome.
    pub fn send(
        &mut self,
        envelope: &redy_smtps::Envelope,
        body: &[u8],
    ) -> Result<(), redy_smtps::Error> {
        self.client.start_mail(envelope, self.now)?;
        self.pump()?;
        if self.events.last() == Some(&Event::SendBody) {
            let mut rest = body;
            while !rest.is_empty() {
                let n = self.client.write_body(rest, self.now)?;
                rest = &rest[n..];
                self.pump()?;
            }
            self.client.finish_body(self.now)?;
            self.pump()?;
        }
        Ok(())
    }
}

/// A handler for an ordinary server: `extensions` are the EHLO lines after the greeting line.
pub fn ordinary(extensions: &'static [&'static str]) -> Handler {
    let mut accepted = 0;
    Box::new(move |line: &str| {
        let upper = line.to_ascii_uppercase();
        match upper.split(' ').next().unwrap_or("") {
            "EHLO" => {
                let mut reply = String::from("250-mail.test hello\r\n");
                for (i, ext) in extensions.iter().enumerate() {
                    let sep = if i + 1 == extensions.len() { ' ' } else { '-' };
                    reply.push_str(&format!("250{sep}{ext}\r\n"));
                }
                if extensions.is_empty() {
                    reply = "250 mail.test hello\r\n".into();
                }
                reply
            }
            "HELO" => "250 mail.test\r\n".into(),
            "STARTTLS" => "220 2.0.0 Ready to start TLS\r\n".into(),
            "AUTH" => "235 2.7.0 Authentication successful\r\n".into(),
            "MAIL" => {
                accepted = 0;
                "250 2.1.0 Ok\r\n".into()
            }
            "RCPT" if upper.contains("REJECT") => {
                "550 5.1.1 <rejected@test>: Recipient address rejected\r\n".into()
            }
            "RCPT" => {
                accepted += 1;
                "250 2.1.5 Ok\r\n".into()
            }
            "DATA" if accepted == 0 => "554 5.5.1 Error: no valid recipients\r\n".into(),
            "DATA" => "354 End data with <CR><LF>.<CR><LF>\r\n".into(),
            "." => "250 2.0.0 Ok: queued as ABC123\r\n".into(),
            "RSET" | "NOOP" => "250 2.0.0 Ok\r\n".into(),
            "QUIT" => "221 2.0.0 Bye\r\n".into(),
            _ => "502 5.5.2 Error: command not recognized\r\n".into(),
        }
    })
}
