//! `demo`: a device identity and secure connections under each trust policy, on 127.0.0.1.
//!
//! ```text
//! cargo run -p redy-examples --bin demo
//! ```
//! It creates `REDY-12345-67890-CA.crt` and `ServerREDY.pem` in a temporary folder, starts a
//! redy-tls server with them on 127.0.0.1, and connects to it as a client under every trust
//! policy, printing what was accepted or refused and why; then sends a mail with redy-smtps,
//! moves a file through the redy FTPS server and client, and shares values between three eShare
//! sites on 127.0.0.1, 127.0.0.2 and 127.0.0.3.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, SystemTime};
use std::{fs, thread};

mod eshare;
mod ftp;
mod smtp;

use redy_certs::{Certificate, DeviceCa, Identity, SpkiPin, TimeSource, TrustPolicy};
use redy_examples::blocking::TlsStream;
use redy_tls::{ClientConfig, ServerConfig, TlsSession, TlsVersion};

pub(crate) type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let now = SystemTime::now();
    println!("redy demo: device certificates and TLS trust policies over 127.0.0.1\n");

    let ca = DeviceCa::generate(&"12345-67890".parse()?, now)?;
    let names = [
        "127.0.0.1".parse()?,
        "localhost".parse()?,
        "redy.local".parse()?,
    ];
    let identity = ca.issue_server_certificate(&names, now)?;
    fs::write(dir.path().join(ca.file_name()), ca.certificate().to_pem())?;
    fs::write(
        dir.path().join(redy_certs::SERVER_FILE_NAME),
        identity.to_pem(),
    )?;
    println!("Created in {}:", dir.path().display());
    println!(
        "  {}  {}",
        ca.file_name(),
        ca.certificate().details().subject
    );
    println!(
        "  {}  {} (SANs {})\n",
        redy_certs::SERVER_FILE_NAME,
        identity.certificate().details().subject,
        identity
            .certificate()
            .details()
            .subject_alt_names
            .join(", ")
    );

    // Another device re-imports the exported CA file, as a user would.
    let imported_ca = Certificate::from_pem(&fs::read(dir.path().join(ca.file_name()))?)?;
    let sibling = ca.issue_server_certificate(&names, now)?;
    let port = serve(identity.clone())?;

    let later = now + Duration::from_secs(3 * 365 * 86_400);
    let cases: Vec<(&str, TrustPolicy, TimeSource, &str)> = vec![
        (
            "web PKI roots (the default)",
            TrustPolicy::WebPkiRoots,
            TimeSource::System,
            "127.0.0.1",
        ),
        (
            "imported REDY CA, by IP",
            TrustPolicy::CaCertificates(vec![imported_ca.clone()]),
            TimeSource::System,
            "127.0.0.1",
        ),
        (
            "imported REDY CA, by name",
            TrustPolicy::CaCertificates(vec![imported_ca.clone()]),
            TimeSource::System,
            "redy.local",
        ),
        (
            "imported REDY CA, wrong name",
            TrustPolicy::CaCertificates(vec![imported_ca.clone()]),
            TimeSource::System,
            "192.168.1.137",
        ),
        (
            "imported REDY CA, in 3 years",
            TrustPolicy::CaCertificates(vec![imported_ca]),
            TimeSource::Fixed(later),
            "127.0.0.1",
        ),
        (
            "chosen server certificate",
            TrustPolicy::ServerCertificate(identity.certificate().clone()),
            TimeSource::System,
            "127.0.0.1",
        ),
        (
            "another certificate chosen",
            TrustPolicy::ServerCertificate(sibling.certificate().clone()),
            TimeSource::System,
            "127.0.0.1",
        ),
        (
            "SPKI pin of the server",
            TrustPolicy::SpkiPins(vec![identity.certificate().spki_pin()]),
            TimeSource::System,
            "127.0.0.1",
        ),
        (
            "wrong SPKI pin",
            TrustPolicy::SpkiPins(vec![SpkiPin::from_sha256([0; 32])]),
            TimeSource::System,
            "127.0.0.1",
        ),
        (
            "DANGER: trust any server",
            TrustPolicy::DangerousTrustAnyServer,
            TimeSource::System,
            "192.168.1.137",
        ),
    ];
    println!("{:<32} {:<9} why", "client trust policy", "result");
    println!("{}", "-".repeat(100));
    for (label, policy, time, name) in cases {
        let config = ClientConfig::builder(policy).time_source(time).build()?;
        let (result, why) = match connect(&config, name, port) {
            Ok(detail) => ("ACCEPTED", detail),
            Err(e) => ("refused", e.to_string()),
        };
        println!("{label:<32} {result:<9} {why}");
    }

    println!("\nResumption: one client scope, five connections per version");
    for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let config =
            ClientConfig::builder(TrustPolicy::CaCertificates(vec![ca.certificate().clone()]))
                .versions(version, version)
                .build()?;
        let kinds: Vec<String> = (0..5)
            .map(|_| connect(&config, "127.0.0.1", port).unwrap_or_else(|e| e.to_string()))
            .collect();
        println!(
            "  {version}: {}",
            kinds
                .iter()
                .map(|k| if k.contains("resumed") {
                    "resumed"
                } else {
                    "full"
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    smtp::run(identity.clone(), ca.certificate().clone())?;
    ftp::run(identity, ca.certificate().clone())?;
    eshare::run()?;

    println!(
        "\n'DANGER: trust any server' accepts any certificate for any name: it only proves the peer holds"
    );
    println!("the key it shows. Use it only towards a server whose origin is known and trusted.");
    Ok(())
}

/// Starts the device's TLS echo server on 127.0.0.1 and returns its port.
fn serve(identity: Identity) -> Result<u16> {
    let config = ServerConfig::builder(identity).build()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            thread::spawn(move || -> Result<()> {
                let mut tls = TlsStream::connect(TlsSession::server(&config)?, tcp)?;
                let mut line = String::new();
                BufReader::new(&mut tls).read_line(&mut line)?;
                tls.write_all(format!("device says: {line}").as_bytes())?;
                Ok(tls.close()?)
            });
        }
    });
    Ok(port)
}

/// Connects, says hello, reads the answer; describes the session.
fn connect(config: &ClientConfig, name: &str, port: u16) -> Result<String> {
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    let mut tls = TlsStream::connect(TlsSession::client(config, name)?, tcp)?;
    tls.write_all(b"hello\n")?;
    let answer = String::from_utf8(tls.read_to_close()?)?;
    let hs = tls.handshake().ok_or("no handshake")?;
    Ok(format!(
        "{}, {}, {}; answer {:?}",
        hs.version,
        hs.cipher_suite,
        if hs.resumed {
            "resumed"
        } else {
            "full handshake"
        },
        answer.trim_end()
    ))
}
