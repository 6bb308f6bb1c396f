//! `ftps`: an FTPS client on the redy client machine.
//!
//! ```text
//! ftps [--ca FILE | --pin sha256//… | --trust-server] [--tls-max 1.2] [--ciphers LIST]
//!      [--active] [--trust-pasv-address] [--ccc] URL COMMAND [ARGS…]
//!
//!   URL      ftps://USER[:PASSWORD]@HOST[:990]/DIR    implicit TLS
//!            ftpes://USER[:PASSWORD]@HOST[:21]/DIR    explicit AUTH TLS (FileZilla's scheme)
//!   COMMAND  ls [PATH] | get REMOTE [LOCAL] | put LOCAL [REMOTE] | put-dir LOCALDIR REMOTEDIR
//!            rm PATH | mkdir PATH | rmdir PATH | mv FROM TO | size PATH | batch FILE
//! ```
//! The password comes from `REDY_FTP_PASSWORD`, else from the URL. `batch` runs one command per
//! line (blank lines and `#` comments skipped) in one session and stops at the first failure.
//! Exits 1 with the server's reply when a command fails. `--ccc` returns the control connection
//! to clear text after login (for NAT routers that must read it; data stays encrypted): anyone
//! on the path can then read and alter the commands, so use it only where a router needs it.
//! `--ciphers` offers only the listed cipher suites (IANA names, comma-separated, most preferred
//! first, e.g. `TLS13_AES_128_GCM_SHA256`); the one agreed on is printed on standard error.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::net::ToSocketAddrs;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use redy_certs::TrustPolicy;
use redy_examples::cli::{authority, trust_flag};
use redy_examples::ftp::{FtpSession, tree};
use redy_ftps::client::{DataConnections, FtpConfig, ListFormat, Outcome, Security};
use redy_ftps::codec::listing::{Entry, EntryKind};
use redy_tls::{ClientConfig, TlsVersion};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str =
    "usage: ftps [--ca FILE | --pin sha256//… | --trust-server] [--tls-max 1.2] [--ciphers LIST]
            [--active] [--trust-pasv-address] [--ccc] (ftps|ftpes)://USER@HOST[:PORT][/DIR] COMMAND [ARGS…]
  commands: ls [PATH] | get REMOTE [LOCAL] | put LOCAL [REMOTE] | put-dir LOCALDIR REMOTEDIR
            rm PATH | mkdir PATH | rmdir PATH | mv FROM TO | size PATH | batch FILE
  password: REDY_FTP_PASSWORD (or in the URL)";

#[derive(Default)]
struct Args {
    trust: Option<TrustPolicy>,
    tls_max: Option<TlsVersion>,
    ciphers: Vec<String>,
    active: bool,
    trust_pasv: bool,
    ccc: bool,
    url: Option<String>,
    command: Vec<String>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ftps: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        if args.url.is_some() {
            args.command.push(arg);
            continue;
        }
        match arg.as_str() {
            "--active" => args.active = true,
            "--trust-pasv-address" => args.trust_pasv = true,
            "--ccc" => args.ccc = true,
            "--ciphers" => {
                let list = it.next().ok_or("--ciphers needs a value")?;
                args.ciphers = list.split(',').map(str::to_owned).collect();
            }
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => {
                let mut value = || {
                    it.next()
                        .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
                };
                match trust_flag("ftps", flag, &mut value, &mut args.trust, &mut args.tls_max) {
                    Some(result) => result?,
                    None => return Err(format!("unknown option {flag}\n{USAGE}").into()),
                }
            }
            _ => args.url = Some(arg),
        }
    }
    if args.command.is_empty() {
        return Err(USAGE.into());
    }
    Ok(args)
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let url = args.url.as_deref().ok_or(USAGE)?;
    let (security, rest) = match url.split_once("://") {
        Some(("ftps", rest)) => (Security::ImplicitTls, rest),
        Some(("ftpes", rest)) => (Security::ExplicitTls, rest),
        _ => return Err(format!("the URL must start with ftps:// or ftpes://, not {url}").into()),
    };
    let (authority_part, dir) = match rest.split_once('/') {
        Some((a, d)) => (a, format!("/{d}")),
        None => (rest, String::new()),
    };
    let (user, url_password, host, port) = authority(authority_part, security.default_port())?;
    let password = std::env::var("REDY_FTP_PASSWORD")
        .ok()
        .or(url_password)
        .ok_or("no password: set REDY_FTP_PASSWORD")?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    let mut tls = ClientConfig::builder(args.trust.clone().unwrap_or(TrustPolicy::WebPkiRoots));
    if let Some(max) = args.tls_max {
        tls = tls.versions(TlsVersion::Tls12, max);
    }
    if !args.ciphers.is_empty() {
        tls = tls.cipher_suites(args.ciphers.clone());
    }
    let mut config = FtpConfig::new(security, tls.build()?, host, addr, user, password);
    if args.active {
        config.data_connections = DataConnections::Active;
    }
    config.trust_pasv_address = args.trust_pasv;

    let mut session = FtpSession::connect(config)?;
    if let Some(info) = session.control_tls() {
        eprintln!("ftps: {:?} {}", info.version, info.cipher_suite);
    }
    if args.ccc {
        session.clear_control()?;
        eprintln!("ftps: CCC accepted: commands and replies now cross in clear text");
    }
    if dir.len() > 1 {
        session.run(|c, now| c.cwd(&dir, now))?;
    }
    if args.command[0] == "batch" {
        let file = args.command.get(1).ok_or("batch needs a FILE")?;
        for line in std::fs::read_to_string(file)?.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            command(&mut session, &words).map_err(|e| format!("{line}: {e}"))?;
        }
    } else {
        command(&mut session, &args.command)?;
    }
    session.quit()?;
    Ok(())
}

fn command(session: &mut FtpSession, words: &[String]) -> Result<()> {
    let arg = |i: usize| {
        words
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("{} needs more arguments\n{USAGE}", words[0]))
    };
    let now_or = |i: usize| words.get(i).map(String::as_str);
    match words[0].as_str() {
        "ls" => {
            let format = match session.features().mlst {
                true => ListFormat::Mlsd,
                false => ListFormat::List,
            };
            let out = &mut std::io::stdout().lock();
            session.list_with(now_or(1), format, &mut |entry| {
                let _ = writeln!(out, "{}", show(&entry));
            })?;
        }
        "get" => {
            let remote = arg(1)?;
            let local = now_or(2).unwrap_or_else(|| remote.rsplit('/').next().unwrap_or(remote));
            let total = match session.run(|c, now| c.size(remote, now)) {
                Ok(Outcome::Size(n)) => Some(n),
                _ => None,
            };
            progress_bar(session, total);
            let mut file = BufWriter::with_capacity(256 * 1024, File::create(local)?);
            let bytes = session.retrieve(remote, 0, &mut file)?;
            file.flush()?;
            finish_bar(session, bytes);
        }
        "put" => {
            let local = arg(1)?;
            let name = Path::new(local)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            let remote = now_or(2)
                .map(str::to_owned)
                .or(name)
                .ok_or("put needs a file")?;
            let mut file = File::open(local)?;
            progress_bar(session, file.metadata().ok().map(|m| m.len()));
            let bytes = session.store(&remote, 0, &mut file)?;
            finish_bar(session, bytes);
        }
        "put-dir" => {
            let report = tree::upload_tree(session, Path::new(arg(1)?), arg(2)?)?;
            println!(
                "{} files, {} bytes, {} folders created, {} skipped",
                report.files,
                report.bytes,
                report.folders_created,
                report.skipped.len()
            );
        }
        "rm" => drop(session.run(|c, now| c.delete(arg(1).unwrap_or(""), now))?),
        "mkdir" => drop(session.run(|c, now| c.mkdir(arg(1).unwrap_or(""), now))?),
        "rmdir" => drop(session.run(|c, now| c.rmdir(arg(1).unwrap_or(""), now))?),
        "mv" => {
            let (from, to) = (arg(1)?, arg(2)?);
            session.run(|c, now| c.rename(from, to, now))?;
        }
        "size" => {
            if let Outcome::Size(n) = session.run(|c, now| c.size(arg(1).unwrap_or(""), now))? {
                println!("{n}");
            }
        }
        other => return Err(format!("unknown command {other}\n{USAGE}").into()),
    }
    Ok(())
}

/// One listing line: type, size, time, name.
fn show(entry: &Entry) -> String {
    let kind = match entry.kind {
        EntryKind::Directory | EntryKind::CurrentDir | EntryKind::ParentDir => 'd',
        EntryKind::Symlink { .. } => 'l',
        EntryKind::File => '-',
        _ => '?',
    };
    let time = entry
        .modified
        .map(|t| {
            let (y, mo, d, h, mi, _) = t.to_utc();
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
        })
        .unwrap_or_else(|| "-".repeat(16));
    let size = entry.size.map(|s| s.to_string()).unwrap_or_default();
    format!("{kind} {size:>12} {time} {}", entry.name)
}

/// A progress bar on stdout when it is a terminal.
fn progress_bar(session: &mut FtpSession, total: Option<u64>) {
    if !std::io::stdout().is_terminal() {
        return;
    }
    let start = Instant::now();
    let mut done = 0u64;
    let mut last = Instant::now();
    session.set_progress(move |n| {
        done += n;
        if last.elapsed().as_millis() < 100 {
            return;
        }
        last = Instant::now();
        let rate = done as f64 / start.elapsed().as_secs_f64().max(1e-3) / 1e6;
        let bar = match total {
            Some(t) if t > 0 => {
                let filled = (done.min(t) * 30 / t) as usize;
                format!(
                    "[{}{}] {:>3}%",
                    "#".repeat(filled),
                    "-".repeat(30 - filled),
                    done * 100 / t
                )
            }
            _ => String::new(),
        };
        print!("\r{bar} {:.1} MB {rate:.1} MB/s ", done as f64 / 1e6);
        let _ = std::io::stdout().flush();
    });
}

/// Ends the bar of one transfer: the next command (in a batch) has its own or none.
fn finish_bar(session: &mut FtpSession, bytes: u64) {
    session.clear_progress();
    if std::io::stdout().is_terminal() {
        println!();
    }
    eprintln!("ftps: {bytes} bytes");
}
