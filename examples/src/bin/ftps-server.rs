//! `ftps-server`: an implicit or explicit FTPS server on a directory.
//!
//! ```text
//! REDY_FTP_USERS=plc:s3cret ftps-server --root DIR --listen 127.0.0.1:9990 (--implicit | --explicit)
//!     --user NAME [--user NAME2] [--cert ServerREDY.pem [--key KEY.pem]] [--users-file FILE]
//!     [--pasv-ports 30000-30100] [--masquerade ADDR] [--active-port 989] [--allow-no-reuse]
//!     [--accept-upload-eof] [--tls-max 1.2] [--ca-out FILE]
//! ```
//! Passwords come from `REDY_FTP_USERS` (`name:password,…`) or `--users-file` (one
//! `name:password` a line), never from the command line. `--cert` takes a PEM holding the chain
//! and, unless `--key` is given, the key (as `redy-cert generate` writes `ServerREDY.pem`).
//! Without `--cert` a device CA and server certificate are generated, and the CA is written
//! where `--ca-out` says (default: the system's temporary directory) for clients to trust.
//! Each command and transfer is logged to standard error.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::{env, fs};

use redy_examples::ftp_server::{FtpsServer, ServerOptions};
use redy_ftps::server::{FtpServerConfig, Security};
use redy_tls::TlsVersion;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: ftps-server --root DIR --listen ADDR:PORT (--implicit | --explicit) --user NAME [--user NAME]...
       [--cert PEM [--key PEM]] [--users-file FILE] [--pasv-ports LOW-HIGH] [--masquerade IPV4]
       [--active-port PORT] [--allow-no-reuse] [--accept-upload-eof] [--tls-max 1.2] [--ca-out FILE]
       (passwords in REDY_FTP_USERS=name:password,... or --users-file)";

#[derive(Default)]
struct Args {
    root: Option<PathBuf>,
    listen: Option<SocketAddr>,
    security: Option<Security>,
    users: Vec<String>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    users_file: Option<PathBuf>,
    pasv_ports: Option<(u16, u16)>,
    masquerade: Option<std::net::Ipv4Addr>,
    active_port: Option<u16>,
    allow_no_reuse: bool,
    accept_upload_eof: bool,
    tls_max: Option<TlsVersion>,
    ca_out: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ftps-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut args = Args::default();
    let mut it = env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--root" => args.root = Some(value()?.into()),
            "--listen" => args.listen = Some(value()?.parse()?),
            "--implicit" => args.security = Some(Security::ImplicitTls),
            "--explicit" => args.security = Some(Security::ExplicitTls),
            "--user" => args.users.push(value()?),
            "--cert" => args.cert = Some(value()?.into()),
            "--key" => args.key = Some(value()?.into()),
            "--users-file" => args.users_file = Some(value()?.into()),
            "--pasv-ports" => {
                let v = value()?;
                let (low, high) = v.split_once('-').ok_or("--pasv-ports takes LOW-HIGH")?;
                let (low, high): (u16, u16) = (low.parse()?, high.parse()?);
                if low == 0 || low > high {
                    return Err(format!("bad passive port range {v}").into());
                }
                args.pasv_ports = Some((low, high));
            }
            "--masquerade" => args.masquerade = Some(value()?.parse()?),
            "--active-port" => args.active_port = Some(value()?.parse()?),
            "--allow-no-reuse" => args.allow_no_reuse = true,
            "--accept-upload-eof" => args.accept_upload_eof = true,
            "--tls-max" => {
                args.tls_max = Some(match value()?.as_str() {
                    "1.2" => TlsVersion::Tls12,
                    "1.3" => TlsVersion::Tls13,
                    other => return Err(format!("--tls-max takes 1.2 or 1.3, not {other}").into()),
                })
            }
            "--ca-out" => args.ca_out = Some(value()?.into()),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    Ok(args)
}

/// `name:password` pairs, comma- or line-separated.
fn parse_users(text: &str) -> Result<HashMap<String, String>> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty() && !entry.starts_with('#'))
        .map(|entry| {
            entry
                .split_once(':')
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .ok_or_else(|| "user entries are name:password".into())
        })
        .collect()
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let root = args.root.clone().ok_or(USAGE)?;
    let listen = args.listen.ok_or(USAGE)?;
    let security = args
        .security
        .ok_or("--implicit or --explicit is required")?;
    if args.users.is_empty() {
        return Err(format!("at least one --user is required\n{USAGE}").into());
    }
    let mut known = match env::var("REDY_FTP_USERS") {
        Ok(text) => parse_users(&text)?,
        Err(_) => HashMap::new(),
    };
    if let Some(file) = &args.users_file {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        known.extend(parse_users(&text)?);
    }
    let identity = redy_examples::cli::server_identity(
        "ftps-server",
        args.cert.as_deref(),
        args.key.as_deref(),
        &"12345-67890".parse()?,
        listen.ip(),
        args.ca_out.clone(),
    )?;
    let mut builder = redy_tls::ServerConfig::builder(identity);
    if let Some(max) = args.tls_max {
        builder = builder.versions(TlsVersion::Tls12, max);
    }
    let mut config = FtpServerConfig::new(security, builder.build()?);
    if let Some((low, high)) = args.pasv_ports {
        config.passive_ports = low..=high;
    }
    config.masquerade = args.masquerade;
    config.active_source_port = args.active_port;
    config.require_data_resumption = !args.allow_no_reuse;
    config.accept_upload_eof_without_close_notify = args.accept_upload_eof;
    let mut options = ServerOptions::new(listen, root, config);
    for user in &args.users {
        let password = known.get(user).ok_or_else(|| {
            format!("no password for user {user}: set REDY_FTP_USERS=name:password or --users-file")
        })?;
        options = options.user(user, password);
    }
    FtpsServer::bind(options)?.run()?;
    Ok(())
}
