//! `eshare-node`: one site of an eShare domain, on tokio.
//!
//! ```text
//! eshare-node --wid 11111-22222 --listen 127.0.0.1:9443 [--cert ServerREDY.pem [--key KEY.pem]]
//!     --site 33333-44444@127.0.0.2 [--site …] (--trust-ca FILE… | --trust-server) [--mtls]
//!     [--publish name=value]… [--redirect-from 127.0.0.1:8080] [--label TEXT]
//!     [--ca-out FILE] [--tls-max 1.2] [--quiet]
//! ```
//!
//! Every site of the domain serves on the listen port (the manual's one-port rule). Without
//! `--cert` a device CA for `--wid` and a server certificate for the listen address are
//! generated; the CA is written to `--ca-out` (default `REDY-<WID>-CA.crt` in the temporary
//! directory) for the other sites' `--trust-ca`. `--trust-ca` files (PEM, several CAs each if
//! need be) are trusted for every site; `--trust-server` accepts any certificate, loudly.
//!
//! `--publish` values go out once at start; then each line read on standard input
//! (`name=value name2=value2`) is one more publication. A value is `true`/`false`, an integer,
//! a decimal number, or text. Events are printed one a line on standard output, unless
//! `--quiet`.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;
use std::{env, fs};

use redy_certs::{SubjectName, TrustPolicy, Wid};
use redy_eshare::share::{Domain, Event, NamedValue, NodeConfig, Site, Timestamp, Value};
use redy_examples::eshare::{NodeOptions, RunningNode};
use redy_tls::TlsVersion;
use tokio::io::AsyncBufReadExt;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: eshare-node --wid WID --listen IP:PORT [--cert PEM [--key PEM]] \
    --site WID@HOST [--site …] (--trust-ca FILE… | --trust-server) [--mtls] \
    [--publish name=value]… [--redirect-from IP:PORT] [--label TEXT] [--ca-out FILE] \
    [--tls-max 1.2] [--quiet]";

#[derive(Default)]
struct Args {
    wid: Option<Wid>,
    listen: Option<SocketAddr>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    ca_out: Option<PathBuf>,
    sites: Vec<(Wid, SubjectName)>,
    trust: Option<TrustPolicy>,
    tls_max: Option<TlsVersion>,
    mtls: bool,
    publish: Vec<NamedValue>,
    redirect_from: Option<SocketAddr>,
    label: Option<String>,
    quiet: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args::default();
    let mut cas = Vec::new();
    let mut it = env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--wid" => args.wid = Some(value()?.parse()?),
            "--listen" => args.listen = Some(value()?.parse()?),
            "--cert" => args.cert = Some(value()?.into()),
            "--key" => args.key = Some(value()?.into()),
            "--ca-out" => args.ca_out = Some(value()?.into()),
            "--site" => {
                let v = value()?;
                let (wid, host) = v.split_once('@').ok_or("--site takes WID@HOST")?;
                args.sites.push((wid.parse()?, host.parse()?));
            }
            "--trust-ca" => {
                let file = value()?;
                let pem = fs::read(&file).map_err(|e| format!("{file}: {e}"))?;
                cas.extend(redy_certs::parse_pem(&pem)?.certificates);
            }
            "--mtls" => args.mtls = true,
            "--publish" => args.publish.extend(parse_values(&value()?)?),
            "--redirect-from" => args.redirect_from = Some(value()?.parse()?),
            "--label" => args.label = Some(value()?),
            "--quiet" => args.quiet = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => {
                let mut value = || it.next().ok_or_else(|| format!("{other} needs a value"));
                match redy_examples::cli::trust_flag(
                    "eshare-node",
                    other,
                    &mut value,
                    &mut args.trust,
                    &mut args.tls_max,
                ) {
                    Some(r) => r?,
                    None => return Err(format!("unknown argument {other}\n{USAGE}").into()),
                }
            }
        }
    }
    if !cas.is_empty() {
        args.trust = Some(TrustPolicy::CaCertificates(cas));
    }
    Ok(args)
}

/// `name=value` words; see the module docs for the value syntax.
fn parse_values(line: &str) -> Result<Vec<NamedValue>> {
    let ts = Timestamp::from_system(SystemTime::now());
    line.split_whitespace()
        .map(|word| {
            let (name, v) = word.split_once('=').ok_or("values are name=value")?;
            let value = match v {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                v => match (v.parse::<i64>(), v.parse::<f64>()) {
                    (Ok(i), _) => Value::Int(i),
                    (_, Ok(f)) if f.is_finite() => Value::Float(f),
                    _ => Value::Text(v.to_owned()),
                },
            };
            Ok(NamedValue::new(name, value, ts))
        })
        .collect()
}

fn print(event: &Event) {
    match event {
        Event::BatchApplied {
            origin,
            seq,
            values,
            ..
        } => {
            let values: Vec<String> = values
                .iter()
                .map(|v| format!("{}={}", v.name, v.value))
                .collect();
            println!("applied {origin} seq {seq}: {}", values.join(" "));
        }
        Event::DeliverySucceeded { site, seq } => println!("delivered seq {seq} to {site}"),
        Event::DeliveryFailed {
            site, seq, error, ..
        } => println!("delivery of seq {seq} to {site} failed: {error}"),
        other => println!("{other:?}"),
    }
}

async fn run() -> Result<()> {
    let args = parse_args()?;
    let wid = args.wid.clone().ok_or(USAGE)?;
    let listen = args.listen.ok_or(USAGE)?;
    let trust = args
        .trust
        .clone()
        .ok_or("choose how other sites are trusted: --trust-ca FILE or --trust-server")?;
    let identity = redy_examples::cli::server_identity(
        "eshare-node",
        args.cert.as_deref(),
        args.key.as_deref(),
        &wid,
        listen.ip(),
        args.ca_out.clone(),
    )?;
    let port = listen.port();
    let mut own = Site::new(wid.clone(), listen.ip().to_string().parse()?, port)
        .software(concat!("redy ", env!("CARGO_PKG_VERSION")));
    if let Some(label) = &args.label {
        own = own.label(label.clone());
    }
    let mut sites = vec![own];
    for (site, host) in &args.sites {
        sites.push(Site::new(site.clone(), host.clone(), port).trust(trust.clone()));
    }
    let domain = Domain::new(sites)?;
    // A new epoch each run: the wall clock in milliseconds only grows.
    let epoch = Timestamp::from_system(SystemTime::now()).0.max(1);
    let mut config = NodeConfig::new(wid.clone(), domain, epoch);
    config.mtls = args.mtls;
    let mut options = NodeOptions::new(config, identity, listen);
    options.redirect_from = args.redirect_from;
    if let Some(max) = args.tls_max {
        options.tls_versions.1 = max;
    }
    let (node, events) = RunningNode::start(options).await?;
    println!("eShare site {wid} on https://{}/", node.local_addr());
    if let Some(addr) = node.redirect_addr() {
        println!("redirecting http://{addr}/ to https");
    }
    if !args.publish.is_empty() {
        let seq = node.publish(args.publish.clone())?;
        println!("published seq {seq}");
    }
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    // Quiet: the events are not taken at all (the node does not wait for a reader).
    let mut events = (!args.quiet).then_some(events);
    loop {
        tokio::select! {
            event = async { events.as_mut()?.recv().await }, if events.is_some() => match event {
                Some(e) => print(&e),
                None => return Ok(()),
            },
            line = stdin.next_line(), if stdin_open => match line {
                Ok(Some(line)) if line.trim().is_empty() => {}
                Ok(Some(line)) => match parse_values(&line).map(|v| node.publish(v)) {
                    Ok(Ok(seq)) => println!("published seq {seq}"),
                    Ok(Err(e)) => println!("not published: {e}"),
                    Err(e) => println!("not published: {e}"),
                },
                _ => stdin_open = false,
            },
            else => std::future::pending::<()>().await,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("eshare-node: {e}");
        std::process::exit(1);
    }
}
