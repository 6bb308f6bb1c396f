//! The demo's FTPS step: the redy FTPS server (the `ftps-server` example's driver) in this
//! process on 127.0.0.1, and the redy FTPS client uploading, listing and downloading through it.

use std::net::SocketAddr;
use std::sync::Arc;

use redy_certs::{Certificate, Identity, TrustPolicy};
use redy_examples::ftp::FtpSession;
use redy_examples::ftp_server::{FtpsServer, ServerOptions};
use redy_ftps::client::{FtpConfig, ListFormat, Security as ClientSecurity};
use redy_ftps::server::{FtpServerConfig, Security as ServerSecurity};

use crate::Result;

const USER: &str = "plc";
const PASSWORD: &str = "demo-ftp-password";

/// Runs the FTPS step of the demo.
pub fn run(identity: Identity, ca: Certificate) -> Result<()> {
    println!("\nFTPS: the redy client and the redy server on 127.0.0.1 (explicit AUTH TLS)");
    let root = tempfile::tempdir()?;
    let tls = redy_tls::ServerConfig::builder(identity).build()?;
    let mut options = ServerOptions::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        root.path().to_owned(),
        FtpServerConfig::new(ServerSecurity::ExplicitTls, tls),
    )
    .user(USER, PASSWORD);
    // The server logs every command; the demo shows its TLS and transfer lines.
    options.log = Arc::new(|line: &str| {
        if line.contains("TLS on") || line.contains(" complete") {
            println!("  server | {line}");
        }
    });
    let server = FtpsServer::bind(options)?.spawn()?;

    let tls = redy_tls::ClientConfig::builder(TrustPolicy::CaCertificates(vec![ca])).build()?;
    let config = FtpConfig::new(
        ClientSecurity::ExplicitTls,
        tls,
        "127.0.0.1",
        server.addr(),
        USER,
        PASSWORD,
    );
    let mut session = FtpSession::connect(config)?;
    let report: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    session.run(|c, now| c.mkdir("reports", now))?;
    let sent = session.store("reports/day-1.bin", 0, &mut &report[..])?;
    let mut back = Vec::new();
    session.retrieve("reports/day-1.bin", 0, &mut back)?;
    let listing = session.list(Some("reports"), ListFormat::Mlsd)?;
    let on_disk = std::fs::read(root.path().join("reports/day-1.bin"))?;
    let resumed = session.data_tls().iter().filter(|hs| hs.resumed).count();
    let data_connections = session.data_tls().len();
    session.quit()?;
    server.stop()?;

    for entry in &listing {
        println!(
            "  listed   {} ({} bytes)",
            entry.name,
            entry.size.unwrap_or(0)
        );
    }
    println!(
        "  uploaded {sent} bytes, downloaded {} bytes: {}; file on the server's disk {}",
        back.len(),
        if back == report {
            "identical"
        } else {
            "DIFFERENT"
        },
        if on_disk == report {
            "identical"
        } else {
            "DIFFERENT"
        },
    );
    println!(
        "  {resumed} of {data_connections} data connections resumed the control connection's TLS session"
    );
    if back != report || on_disk != report {
        return Err("FTPS round trip changed the bytes".into());
    }
    Ok(())
}
