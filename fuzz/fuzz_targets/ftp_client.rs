//! The FTP client machine in plain mode (the fuzzer reaches protocol states without TLS),
//! driven by arbitrary server bytes on the control and data connections, connection events,
//! time steps and caller calls. Properties: no panic; after a fatal error nothing more is
//! queued for the control connection and no deadline is left; deadlines never lie in the past
//! after `handle_timeout`.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use redy_ftps::client::{Action, Channel, FtpClient, FtpConfig, ListFormat, Security};

#[derive(Arbitrary, Debug)]
enum Op {
    Control(Vec<u8>),
    ControlEof,
    Data(Vec<u8>),
    DataEof,
    Connected,
    ConnectFailed,
    Wait(u16),
    List(u8),
    Retrieve(u16),
    Store,
    WriteData(Vec<u8>),
    FinishUpload,
    Consume(u16),
    Simple(u8),
    Abort,
    Quit,
    Transmit(bool, u16),
}

fuzz_target!(|ops: Vec<Op>| {
    let tls = redy_tls::ClientConfig::builder(redy_certs::TrustPolicy::WebPkiRoots)
        .build()
        .expect("config");
    let server: SocketAddr = "192.0.2.1:21".parse().expect("addr");
    let config = FtpConfig::new(Security::InsecurePlainFtp, tls, "ftp.test", server, "u", "p");
    let mut now = Instant::now();
    let Ok(mut client) = FtpClient::new(config, now) else { return };
    let mut data: Option<u64> = None;
    let mut budget: Option<usize> = None;
    for op in ops {
        match op {
            Op::Control(bytes) => drop(client.receive(Channel::Control, &bytes, now)),
            Op::ControlEof => drop(client.receive_eof(Channel::Control, now)),
            Op::Data(bytes) => {
                if let Some(n) = data {
                    let _ = client.receive(Channel::Data(n), &bytes, now);
                }
            }
            Op::DataEof => {
                if let Some(n) = data {
                    let _ = client.receive_eof(Channel::Data(n), now);
                }
            }
            Op::Connected => {
                if let Some(n) = data {
                    let _ = client.connected(Channel::Data(n), server, now);
                }
            }
            Op::ConnectFailed => {
                if let Some(n) = data {
                    let _ = client.connect_failed(Channel::Data(n), "refused", now);
                }
            }
            Op::Wait(secs) => {
                now += Duration::from_secs(u64::from(secs));
                let _ = client.handle_timeout(now);
            }
            Op::List(f) => {
                let format = [ListFormat::List, ListFormat::Mlsd, ListFormat::Names][usize::from(f % 3)];
                let _ = client.list(None, format, SystemTime::UNIX_EPOCH, now);
            }
            Op::Retrieve(offset) => drop(client.retrieve("f", u64::from(offset), now)),
            Op::Store => drop(client.store("f", 0, now)),
            Op::WriteData(bytes) => drop(client.write_data(&bytes, now)),
            Op::FinishUpload => drop(client.finish_upload(now)),
            Op::Consume(n) => drop(client.consume(usize::from(n), now)),
            Op::Simple(k) => drop(match k % 6 {
                0 => client.size("f", now),
                1 => client.modified("f", now),
                2 => client.pwd(now),
                3 => client.rename("a", "b", now),
                4 => client.mlst(Some("f"), now),
                _ => client.mkdir("d", now),
            }),
            Op::Abort => drop(client.abort(now)),
            Op::Quit => drop(client.quit(now)),
            Op::Transmit(on_data, n) => {
                let channel = match (on_data, data) {
                    (true, Some(d)) => Channel::Data(d),
                    _ => Channel::Control,
                };
                let n = client.transmit(channel).len().min(usize::from(n));
                client.advance(channel, n, now);
                if let (Some(b), Channel::Control) = (&mut budget, channel) {
                    *b -= n;
                }
            }
        }
        while let Some(action) = client.poll_action() {
            if let Action::Connect { channel: Channel::Data(n), .. } | Action::Listen { channel: Channel::Data(n) } = action {
                data = Some(n);
            }
        }
        if client.error().is_some() {
            let pending = client.transmit(Channel::Control).len();
            let b = *budget.get_or_insert(pending);
            assert!(pending <= b, "control bytes queued after a fatal error: {pending} > {b}");
            assert_eq!(client.poll_timeout(), None, "no deadline after a fatal error");
        }
        let _ = std::iter::from_fn(|| client.poll_event()).count();
        let _ = client.received().len();
    }
});
