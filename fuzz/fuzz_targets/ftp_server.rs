//! The FTPS server session in clear-text mode (the fuzzer reaches protocol states without TLS),
//! driven by arbitrary client bytes on the control and data connections, connection events,
//! storage answers, file data and time steps.
//!
//! Properties: no panic; every path the session hands to storage is normalised under the
//! user's root (absolute, no empty, `.` or `..` component, no control character); the control
//! output stays within its documented limit; once the session failed, nothing new is queued
//! for the control connection.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use redy_ftps::codec::listing::{Entry, EntryKind, Timestamp};
use redy_ftps::server::{
    Action, Answer, Channel, DataId, FtpServerConfig, Listing, Request, Security, ServerSession,
    StorageError, VirtualPath, CONTROL_OUT_LIMIT,
};

/// Commands the session knows, for `Op::Command`: raw bytes rarely spell them.
const VERBS: [&str; 28] = [
    "USER", "PASS", "AUTH", "PBSZ", "PROT", "TYPE", "PASV", "EPSV", "PORT", "EPRT", "RETR",
    "STOR", "APPE", "REST", "LIST", "NLST", "MLSD", "MLST", "CWD", "CDUP", "PWD", "MKD", "RMD",
    "DELE", "RNFR", "RNTO", "ABOR", "QUIT",
];

#[derive(Arbitrary, Debug)]
struct Input {
    /// Start logged in (USER, PASS, PBSZ, PROT C answered), or from the greeting.
    logged_in: bool,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// One of `VERBS` with an argument, as a command line.
    Command(u8, String),
    Control(Vec<u8>),
    ControlEof,
    Data(Vec<u8>),
    DataEof,
    /// Accept the data connection from the client's address, or from another one.
    Accept(bool),
    Connected,
    DataFailed,
    /// Answer the pending request: ok or which failure.
    Answer(bool, u8),
    SendFile(Vec<u8>),
    FileEnd,
    ReadFailed,
    ConsumeFile(u16),
    WriteFailed,
    Wait(u16),
    /// Write this much of what the control (false) or data (true) connection shows.
    Transmit(bool, u16),
}

fn config() -> &'static FtpServerConfig {
    static CONFIG: OnceLock<FtpServerConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ca = redy_certs::DeviceCa::generate(&"12345-67890".parse().expect("wid"), now)
            .expect("ca");
        let id = ca
            .issue_server_certificate(&["127.0.0.1".parse().expect("name")], now)
            .expect("identity");
        let tls = redy_tls::ServerConfig::builder(id).build().expect("tls");
        let mut config = FtpServerConfig::new(Security::ExplicitTls, tls);
        config.allow_insecure_plain_ftp = true;
        config.allow_clear_data = true;
        config.login_failure_delay = Duration::from_millis(10);
        config
    })
}

/// The property every storage path must hold.
fn confined(path: &VirtualPath) -> bool {
    let s = path.as_str();
    s.starts_with('/')
        && (s == "/" || !s.ends_with('/'))
        && path.components().all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('/'))
        && !s.chars().any(char::is_control)
}

fn paths(request: &Request) -> Vec<&VirtualPath> {
    match request {
        Request::Stat { path }
        | Request::List { path }
        | Request::OpenRead { path, .. }
        | Request::OpenWrite { path, .. }
        | Request::FinishUpload { path, .. }
        | Request::MakeDir { path }
        | Request::RemoveDir { path }
        | Request::Delete { path } => vec![path],
        Request::Rename { from, to } => vec![from, to],
        _ => Vec::new(),
    }
}

fn answer(request: &Request, ok: bool, how: u8) -> Answer {
    let failure = match how % 4 {
        0 => StorageError::NotFound,
        1 => StorageError::PermissionDenied,
        2 => StorageError::NoSpace,
        _ => StorageError::Other("disk".into()),
    };
    match request {
        Request::CheckCredentials { .. } => Answer::Login(ok),
        Request::Stat { .. } if ok => Answer::Entry(Ok(Entry::new("f", EntryKind::File))),
        Request::Stat { .. } => Answer::Entry(Err(failure)),
        Request::List { .. } if ok => Answer::Listing(Ok(Listing {
            entries: vec![Entry::new("a", EntryKind::File), Entry::new("d", EntryKind::Directory)],
            now: Timestamp(1_800_000_000),
        })),
        Request::List { .. } => Answer::Listing(Err(failure)),
        Request::OpenRead { .. } | Request::OpenWrite { .. } if ok => {
            Answer::Opened(Ok(Some(u64::from(how))))
        }
        Request::OpenRead { .. } | Request::OpenWrite { .. } => Answer::Opened(Err(failure)),
        _ if ok => Answer::Done(Ok(())),
        _ => Answer::Done(Err(failure)),
    }
}

fuzz_target!(|input: Input| {
    let client: SocketAddr = "127.0.0.1:50000".parse().expect("addr");
    let server: SocketAddr = "127.0.0.1:21".parse().expect("addr");
    let mut now = Instant::now();
    let Ok(mut session) = ServerSession::new(config().clone(), client, server, now) else {
        return;
    };
    let mut pending: Option<Request> = None;
    let mut data: Option<DataId> = None;
    let mut after_error: Option<usize> = None;
    if input.logged_in {
        let _ = session.receive(Channel::Control, b"USER u\r\nPASS p\r\n", now);
        if let Some(request) = session.poll_request() {
            let _ = session.answer(answer(&request, true, 0), now);
        }
        let _ = session.receive(Channel::Control, b"PBSZ 0\r\nPROT C\r\nTYPE I\r\n", now);
        let n = session.transmit(Channel::Control).len();
        session.advance(Channel::Control, n);
    }
    for op in input.ops {
        match op {
            Op::Command(verb, argument) => {
                let verb = VERBS[usize::from(verb) % VERBS.len()];
                let line = format!("{verb} {argument}\r\n");
                let _ = session.receive(Channel::Control, line.as_bytes(), now);
            }
            Op::Control(bytes) => drop(session.receive(Channel::Control, &bytes, now)),
            Op::ControlEof => drop(session.receive_eof(Channel::Control, now)),
            Op::Data(bytes) => drop(session.receive(Channel::Data, &bytes, now)),
            Op::DataEof => drop(session.receive_eof(Channel::Data, now)),
            Op::Accept(same) => {
                if let Some(id) = data {
                    let peer = if same { "127.0.0.1:50001" } else { "192.0.2.9:50001" };
                    session.data_accepted(id, peer.parse().expect("addr"), now);
                }
            }
            Op::Connected => {
                if let Some(id) = data {
                    session.data_connected(id, now);
                }
            }
            Op::DataFailed => {
                if let Some(id) = data.take() {
                    session.data_failed(id, "refused", now);
                }
            }
            Op::Answer(ok, how) => {
                if let Some(request) = pending.take() {
                    let _ = session.answer(answer(&request, ok, how), now);
                }
            }
            Op::SendFile(bytes) => drop(session.send_file_data(&bytes, now)),
            Op::FileEnd => drop(session.file_data_end(now)),
            Op::ReadFailed => drop(session.file_read_failed("io", now)),
            Op::ConsumeFile(n) => {
                let n = session.file_data().len().min(usize::from(n));
                session.consume_file_data(n, now);
            }
            Op::WriteFailed => {
                drop(session.file_write_failed(&StorageError::NoSpace, now));
            }
            Op::Wait(ms) => {
                now += Duration::from_millis(u64::from(ms) * 50);
                let _ = session.handle_timeout(now);
                if let Some(deadline) = session.poll_timeout() {
                    assert!(deadline > now, "a deadline left in the past");
                }
            }
            Op::Transmit(on_data, n) => {
                let channel = if on_data { Channel::Data } else { Channel::Control };
                let n = session.transmit(channel).len().min(usize::from(n));
                session.advance(channel, n);
            }
        }
        while let Some(action) = session.poll_action() {
            match action {
                Action::Listen { id } => {
                    data = Some(id);
                    session.listening(id, "127.0.0.1:30000".parse().expect("addr"), now);
                }
                Action::Connect { id, .. } => data = Some(id),
                Action::CloseData { .. } => data = None,
                _ => {}
            }
        }
        while let Some(request) = session.poll_request() {
            for path in paths(&request) {
                assert!(confined(path), "path leaves the root: {path:?}");
            }
            pending = Some(request);
        }
        while session.poll_event().is_some() {}
        let control = session.transmit(Channel::Control).len();
        // The limit, plus the one reply that may cross it.
        assert!(control <= CONTROL_OUT_LIMIT + 16 * 1024, "control output grew to {control}");
        if session.error().is_some() {
            if let Some(last) = after_error {
                assert!(control <= last, "bytes queued after the fatal error");
            }
            after_error = Some(control);
        }
    }
});
