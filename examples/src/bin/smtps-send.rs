//! `smtps-send`: send one message over SMTPS (465) or SMTP+STARTTLS (587).
//!
//! ```text
//! echo "Tank 3 level high" | REDY_SMTP_PASSWORD=… smtps-send \
//!     --url smtps://device%40example.com@smtp.example.com:465 \
//!     --from device@example.com --to ops@example.com --subject "REDY alarm" \
//!     [--cc …] [--bcc …] [--attach journal.csv]… [--ca CA.pem | --pin sha256//… | --trust-server] [--tls-max 1.2]
//! smtps-send --provider gmail --user me@gmail.com --from me@gmail.com --to … --subject …
//! ```
//! The body is read from standard input; the password from `REDY_SMTP_PASSWORD` or the URL.
//! Each recipient's result is printed; the exit status is non-zero, with the server's reply, when
//! the message is not accepted.

use std::fs::File;
use std::io::{self, Read};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::SystemTime;

use redy_certs::TrustPolicy;
use redy_examples::cli::{authority, trust_flag};
use redy_examples::smtp::{MessageReader, SmtpConnection};
use redy_smtps::message::{Attachment, Mailbox, Message, MessageId};
use redy_smtps::{Address, Credentials, Envelope, Security, SmtpConfig, providers};
use redy_tls::TlsVersion;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: smtps-send (--url smtps://USER@HOST[:PORT] | --url smtp://USER@HOST[:PORT] | --provider NAME --user USER)
       --from ADDRESS --to ADDRESS [--to …] [--cc …] [--bcc …] --subject TEXT [--attach FILE]…
       [--ca FILE | --pin sha256//… | --trust-server] [--tls-max 1.2]   (body on stdin, password in REDY_SMTP_PASSWORD)";

#[derive(Default)]
struct Args {
    url: Option<String>,
    provider: Option<String>,
    user: Option<String>,
    from: Option<String>,
    to: Vec<String>,
    cc: Vec<String>,
    bcc: Vec<String>,
    subject: String,
    attach: Vec<String>,
    trust: Option<TrustPolicy>,
    tls_max: Option<TlsVersion>,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("smtps-send: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--url" => args.url = Some(value()?),
            "--provider" => args.provider = Some(value()?),
            "--user" => args.user = Some(value()?),
            "--from" => args.from = Some(value()?),
            "--to" => args.to.push(value()?),
            "--cc" => args.cc.push(value()?),
            "--bcc" => args.bcc.push(value()?),
            "--subject" => args.subject = value()?,
            "--attach" => args.attach.push(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => {
                let mut value = || value().map_err(|e| e.to_string());
                match trust_flag(
                    "smtps-send",
                    other,
                    &mut value,
                    &mut args.trust,
                    &mut args.tls_max,
                ) {
                    Some(result) => result?,
                    None => return Err(format!("unknown argument {other}\n{USAGE}").into()),
                }
            }
        }
    }
    Ok(args)
}

/// Security, host, port and user from `--url` or `--provider`.
fn endpoint(args: &Args) -> Result<(Security, String, u16, String)> {
    if let Some(url) = &args.url {
        let (security, rest) = match url.split_once("://") {
            Some(("smtps", rest)) => (Security::ImplicitTls, rest),
            Some(("smtp", rest)) => (Security::StartTlsRequired, rest),
            _ => {
                return Err(format!("--url must start with smtps:// or smtp://, not {url}").into());
            }
        };
        let (user, password, host, port) =
            authority(rest.trim_end_matches('/'), security.default_port())?;
        if let Some(password) = password {
            let _ = URL_PASSWORD.set(password);
        }
        return Ok((security, host, port, user));
    }
    let name = args.provider.as_deref().ok_or(USAGE)?;
    let provider = providers::provider(name).ok_or_else(|| format!("unknown provider {name}"))?;
    let user = args.user.clone().ok_or("--provider needs --user")?;
    eprintln!("smtps-send: {}: {}", provider.name, provider.notes);
    match (provider.implicit_tls_port, provider.starttls_port) {
        (Some(port), _) => Ok((Security::ImplicitTls, provider.host.to_owned(), port, user)),
        (None, Some(port)) => Ok((
            Security::StartTlsRequired,
            provider.host.to_owned(),
            port,
            user,
        )),
        (None, None) => Err(format!("provider {name} has no port").into()),
    }
}

/// A password given in `--url`, used when `REDY_SMTP_PASSWORD` is not set.
static URL_PASSWORD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn content_type(path: &str) -> &'static str {
    match path
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("txt" | "log") => "text/plain",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

fn run() -> Result<bool> {
    let args = parse_args()?;
    let (security, host, port, user) = endpoint(&args)?;
    let password = std::env::var("REDY_SMTP_PASSWORD")
        .ok()
        .or_else(|| URL_PASSWORD.get().cloned())
        .ok_or("set REDY_SMTP_PASSWORD (or put the password in the URL)")?;

    let from: Mailbox = args.from.as_deref().ok_or("--from is required")?.parse()?;
    let mut random = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut random)?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_secs();
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(args.subject.clone())
        .date(i64::try_from(now)?, 0)
        .message_id(MessageId::for_sender(random, &from)?);
    for to in &args.to {
        builder = builder.to(to.parse()?);
    }
    for cc in &args.cc {
        builder = builder.cc(cc.parse()?);
    }
    for bcc in &args.bcc {
        builder = builder.bcc(bcc.parse()?);
    }
    let mut text = String::new();
    io::stdin().read_to_string(&mut text)?;
    builder = builder.text(text);
    let mut sources: Vec<Box<dyn Read>> = Vec::new();
    for path in &args.attach {
        let name = std::path::Path::new(path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("attachment");
        builder = builder.attach(Attachment::new(name, content_type(path)));
        sources.push(Box::new(
            File::open(path).map_err(|e| format!("{path}: {e}"))?,
        ));
    }
    let message = builder.build()?;

    let mut tls = redy_tls::ClientConfig::builder(args.trust.clone().unwrap_or_default());
    if let Some(max) = args.tls_max {
        tls = tls.versions(TlsVersion::Tls12, max);
    }
    let tcp =
        TcpStream::connect((host.as_str(), port)).map_err(|e| format!("{host}:{port}: {e}"))?;
    let mut config = SmtpConfig::new(security, tls.build()?, &host)
        .credentials(Credentials::Password { user, password });
    config.ehlo_name = format!("[{}]", tcp.local_addr()?.ip());
    let mut conn = SmtpConnection::open(config, tcp)?;
    if let Some(info) = &conn.tls {
        eprintln!(
            "smtps-send: {host}:{port} over {}, {}",
            info.version, info.cipher_suite
        );
    }

    let recipients = message
        .envelope_recipients()
        .iter()
        .map(|a| a.parse())
        .collect::<std::result::Result<Vec<Address>, _>>()?;
    let mut envelope = Envelope::new(from.address().parse()?, recipients);
    envelope.utf8 = message.needs_smtputf8();
    let report = conn.send(&envelope, &mut MessageReader::new(&message, sources))?;
    for (address, reply) in &report.recipients {
        println!("{address}: {reply}");
    }
    let sent = match &report.outcome {
        Ok(reply) => {
            println!("sent: {reply}");
            true
        }
        Err(reply) => {
            eprintln!("smtps-send: message refused: {reply}");
            false
        }
    };
    conn.quit()?;
    Ok(sent)
}
