//! Fault injection: the SMTP client against an in-memory implicit-TLS server, 1,000 seeded
//! sends where one byte of one direction is flipped, the connection breaks there, or its sender
//! stalls. Each send must end with the message intact and `Sent` reported, or with an error
//! reported (a `Failed` reply or a session error): `Sent` with a message the server did not get
//! exactly, or no outcome at all, fails the test and prints the seed.
//!
//! Replay one seed: `REDY_FAULT_SEED=123 cargo test -p redy-smtps --test fault_injection`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake;
#[path = "../../testkit/seeded.rs"]
mod seeded;

use std::time::{Duration, Instant};

use redy_smtps::{Envelope, Event, Security, SmtpClient, unstuff};
use redy_tls::{ServerConfig, TlsSession};
use seeded::{Rng, run_seeds};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    ToServer = 0,
    ToClient = 1,
}

#[derive(Clone, Copy, Debug)]
enum FaultKind {
    Flip(u8),
    Cut,
    Stall,
}

#[derive(Clone, Copy, Debug)]
struct Fault {
    dir: Dir,
    at: u64,
    kind: FaultKind,
}

/// A server that survives anything: a TLS error or an overlong line ends its connection.
struct Server {
    tls: TlsSession,
    input: Vec<u8>,
    data: Option<Vec<u8>>,
    messages: Vec<Vec<u8>>,
    handler: fake::Handler,
    closing: bool,
}

impl Server {
    fn new() -> Self {
        let config = ServerConfig::builder(fake::pki().server.clone())
            .build()
            .unwrap();
        let mut server = Self {
            tls: TlsSession::server(&config).unwrap(),
            input: Vec::new(),
            data: None,
            messages: Vec::new(),
            handler: fake::ordinary(&["PIPELINING", "8BITMIME", "SIZE 10000000"]),
            closing: false,
        };
        server.say("220 mail.test ESMTP\r\n");
        server
    }

    fn say(&mut self, text: &str) {
        if self.tls.send(text.as_bytes()).is_err() {
            self.closing = true;
        }
    }

    fn receive(&mut self, bytes: &[u8]) {
        if self.closing {
            return;
        }
        if self.tls.receive(bytes).is_err() {
            self.closing = true;
            return;
        }
        while let Ok(plain) = self.tls.plaintext() {
            if plain.is_empty() {
                break;
            }
            let n = plain.len();
            self.input.extend_from_slice(plain);
            self.tls.consume(n);
        }
        while let Some(end) = self.input.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.input.drain(..end + 2).collect();
            if let Some(data) = &mut self.data {
                data.extend_from_slice(&line);
                if line == b".\r\n" {
                    let data = self.data.take().unwrap_or_default();
                    match unstuff(&data) {
                        Some(message) => {
                            self.messages.push(message);
                            let reply = (self.handler)(".");
                            self.say(&reply);
                        }
                        None => self.say("554 5.6.0 bad message\r\n"),
                    }
                }
                continue;
            }
            let text = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            let reply = (self.handler)(&text);
            if text.eq_ignore_ascii_case("DATA") && reply.starts_with("354") {
                self.data = Some(Vec::new());
            }
            self.say(&reply);
            if text.eq_ignore_ascii_case("QUIT") {
                self.tls.close();
            }
        }
        if self.input.len() > 64 * 1024 {
            self.closing = true;
        }
    }
}

/// The bytes of one direction, where the fault strikes.
#[derive(Default)]
struct Pipe {
    bytes: Vec<u8>,
    pos: usize,
    ended: bool,
    end_delivered: bool,
    dead: bool,
}

struct World {
    client: SmtpClient,
    server: Server,
    now: Instant,
    pipes: [Pipe; 2],
    pushed: [u64; 2],
    fault: Option<Fault>,
    rng: Rng,
    events: Vec<Event>,
    error: Option<redy_smtps::Error>,
}

impl World {
    fn push(&mut self, dir: Dir, mut bytes: Vec<u8>) -> bool {
        if bytes.is_empty() {
            return false;
        }
        let d = dir as usize;
        if self.pipes[d].dead {
            return true;
        }
        let start = self.pushed[d];
        self.pushed[d] += bytes.len() as u64;
        let mut kill = None;
        if let Some(fault) = self.fault
            && fault.dir == dir
            && (start..self.pushed[d]).contains(&fault.at)
        {
            self.fault = None;
            let i = (fault.at - start) as usize;
            match fault.kind {
                FaultKind::Flip(mask) => bytes[i] ^= mask,
                kind => {
                    bytes.truncate(i);
                    kill = Some(kind);
                }
            }
        }
        self.pipes[d].bytes.extend_from_slice(&bytes);
        match kill {
            Some(FaultKind::Cut) => {
                for p in &mut self.pipes {
                    p.dead = true;
                    p.ended = true;
                }
            }
            Some(_) => self.pipes[d].dead = true,
            None => {}
        }
        true
    }

    fn step(&mut self) -> bool {
        let out = self.client.transmit().to_vec();
        self.client.advance(out.len());
        let mut moved = self.push(Dir::ToServer, out);
        let out = self.server.tls.transmit().to_vec();
        self.server.tls.advance(out.len());
        moved |= self.push(Dir::ToClient, out);
        if self.server.closing && self.server.tls.is_flushed() && !self.pipes[1].dead {
            self.pipes[1].ended = true;
        }
        for dir in [Dir::ToServer, Dir::ToClient] {
            let size = 1 + self.rng.below(20_000) as usize;
            let p = &mut self.pipes[dir as usize];
            let piece = p.bytes[p.pos..(p.pos + size).min(p.bytes.len())].to_vec();
            let at_end = p.pos + piece.len() == p.bytes.len() && p.ended && !p.end_delivered;
            if at_end {
                p.end_delivered = true;
            }
            if !piece.is_empty() {
                moved = true;
                let taken = match dir {
                    Dir::ToServer => {
                        self.server.receive(&piece);
                        piece.len()
                    }
                    Dir::ToClient => match self.client.receive(&piece, self.now) {
                        Ok(n) => n,
                        Err(e) => {
                            self.error.get_or_insert(e);
                            piece.len()
                        }
                    },
                };
                self.pipes[dir as usize].pos += taken;
            }
            if at_end {
                moved = true;
                match dir {
                    Dir::ToServer => self.server.closing = true,
                    Dir::ToClient => {
                        if let Err(e) = self.client.receive_eof(self.now) {
                            self.error.get_or_insert(e);
                        }
                    }
                }
            }
        }
        while let Some(event) = self.client.poll_event() {
            moved = true;
            self.events.push(event);
        }
        moved
    }

    fn settle(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                return;
            }
        }
        panic!("never settled");
    }

    /// Settles, then lets virtual time pass a second at a time until `done` or `limit`.
    fn run_until(&mut self, done: impl Fn(&Self) -> bool, limit: Duration) -> bool {
        let end = self.now + limit;
        loop {
            self.settle();
            if done(self) || self.error.is_some() {
                return true;
            }
            if self.now >= end {
                return false;
            }
            self.now += Duration::from_secs(1);
            if let Err(e) = self.client.handle_timeout(self.now) {
                self.error.get_or_insert(e);
            }
        }
    }
}

/// A message of CRLF lines, some starting with dots, some a lone dot.
fn message(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut body = b"Subject: fault injection\r\n\r\n".to_vec();
    while body.len() < size {
        match rng.below(8) {
            0 => body.extend_from_slice(b".\r\n"),
            1 => body.extend_from_slice(b"..leading dots\r\n"),
            _ => {
                let len = rng.below(120) as usize;
                body.extend((0..len).map(|_| b' ' + rng.below(94) as u8));
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body
}

fn iteration(seed: u64) -> Result<&'static str, String> {
    let mut rng = Rng::new(seed);
    let size = match rng.below(3) {
        0 => rng.below(200),
        _ => rng.below(300_000),
    } as usize;
    let body = message(&mut rng, size);
    let span = if rng.below(2) == 0 {
        5_000
    } else {
        5_000 + body.len() as u64
    };
    let fault = Fault {
        dir: if rng.below(2) == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        },
        at: rng.below(span),
        kind: match rng.below(3) {
            0 => FaultKind::Flip(1 + rng.below(255) as u8),
            1 => FaultKind::Cut,
            _ => FaultKind::Stall,
        },
    };
    let now = Instant::now();
    let mut w = World {
        client: SmtpClient::new(fake::config(Security::ImplicitTls), now).unwrap(),
        server: Server::new(),
        now,
        pipes: [Pipe::default(), Pipe::default()],
        pushed: [0; 2],
        fault: Some(fault),
        rng,
        events: Vec::new(),
        error: None,
    };
    let patience = Duration::from_secs(1_200);
    let ready = |w: &World| w.events.iter().any(|e| matches!(e, Event::Ready(_)));
    if !w.run_until(ready, patience) {
        return Err(format!(
            "{fault:?}: the session neither got ready nor failed"
        ));
    }
    if w.error.is_some() {
        return Ok("failed before the message, and said so");
    }
    let envelope = Envelope::new(
        "device@test".parse().unwrap(),
        vec!["ops@test".parse().unwrap()],
    );
    let id = w.client.start_mail(&envelope, w.now).unwrap();
    let asked = |w: &World| {
        w.events.iter().any(|e| {
            matches!(e, Event::SendBody) || matches!(e, Event::Failed { id: i, .. } if *i == id)
        })
    };
    if !w.run_until(asked, patience) {
        return Err(format!("{fault:?}: no body asked for, no failure"));
    }
    if w.error.is_none() && w.events.iter().any(|e| matches!(e, Event::SendBody)) {
        let mut pos = 0;
        while pos < body.len() && w.error.is_none() {
            match w.client.write_body(&body[pos..], w.now) {
                Ok(n) => pos += n,
                Err(e) => drop(w.error.get_or_insert(e)),
            }
            w.settle();
            if pos < body.len() && w.client.transmit().is_empty() {
                // Backpressure that never clears: let time pass so deadlines can fire.
                w.now += Duration::from_secs(1);
                if let Err(e) = w.client.handle_timeout(w.now) {
                    w.error.get_or_insert(e);
                }
            }
        }
        if w.error.is_none()
            && let Err(e) = w.client.finish_body(w.now)
        {
            w.error.get_or_insert(e);
        }
    }
    let ended = |w: &World| {
        w.events.iter().any(
            |e| matches!(e, Event::Sent { id: i, .. } | Event::Failed { id: i, .. } if *i == id),
        )
    };
    if !w.run_until(ended, patience) {
        return Err(format!("{fault:?}: the message neither sent nor failed"));
    }
    let sent = w
        .events
        .iter()
        .any(|e| matches!(e, Event::Sent { id: i, .. } if *i == id));
    if sent {
        return match w.server.messages.last() {
            Some(m) if *m == body => Ok("sent intact"),
            Some(m) => Err(format!(
                "{fault:?}: Sent, but the server holds {} bytes of {}, {}",
                m.len(),
                body.len(),
                if m.len() == body.len() {
                    "altered"
                } else {
                    "cut"
                }
            )),
            None => Err(format!("{fault:?}: Sent, but the server holds nothing")),
        };
    }
    Ok("failed, and said so")
}

#[test]
fn a_thousand_faulty_sends_end_intact_or_in_an_error() {
    let tally = run_seeds(1_000, iteration);
    if tally.values().sum::<u64>() == 1_000 {
        assert!(
            tally.get("sent intact").is_some_and(|n| *n > 50),
            "{tally:?}"
        );
        assert!(
            tally.values().sum::<u64>() > tally["sent intact"],
            "{tally:?}"
        );
    }
}
