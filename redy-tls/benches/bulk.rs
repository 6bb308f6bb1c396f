//! Bulk transfer through `TlsSession` against raw rustls, in the same run, as a ratio.
//!
//! ```text
//! cargo bench -p redy-tls --bench bulk            # 256 MiB per run
//! REDY_BENCH_MIB=64 cargo bench -p redy-tls --bench bulk
//! ```
//! Both sides move the same bytes the same way: in memory, 16 KiB plaintext writes, received
//! plaintext read in place (`plaintext`/`consume` for redy, `fill_buf`/`consume` for rustls), on
//! one core doing both peers. The target is a ratio of at least 0.95: redy adds no copy.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use redy_certs::{DeviceCa, Identity, TrustPolicy};
use redy_tls::{ClientConfig, ServerConfig, TlsSession, TlsVersion};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

const WRITE: usize = 16 * 1024;
const ROUNDS: usize = 5;

fn main() {
    let mib: usize = std::env::var("REDY_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let total = mib << 20;
    let now = SystemTime::now();
    let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
    let id = ca
        .issue_server_certificate(&["redy.local".parse().unwrap()], now)
        .unwrap();

    println!(
        "bulk transfer, {mib} MiB in {} KiB writes, in memory, best of {ROUNDS}",
        WRITE / 1024
    );
    println!(
        "{:<8} {:>14} {:>14} {:>8}",
        "version", "rustls MB/s", "redy MB/s", "ratio"
    );
    for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let (mut raw_best, mut redy_best) = (Duration::MAX, Duration::MAX);
        // Interleaved rounds, so that both see the same machine state.
        for _ in 0..ROUNDS {
            raw_best = raw_best.min(raw_rustls(&ca, &id, version, total));
            redy_best = redy_best.min(through_redy(&ca, &id, version, total));
        }
        let rate = |d: Duration| total as f64 / d.as_secs_f64() / 1e6;
        println!(
            "{:<8} {:>14.0} {:>14.0} {:>8.3}",
            version.to_string(),
            rate(raw_best),
            rate(redy_best),
            raw_best.as_secs_f64() / redy_best.as_secs_f64()
        );
    }
}

fn through_redy(ca: &DeviceCa, id: &Identity, version: TlsVersion, total: usize) -> Duration {
    let client_config =
        ClientConfig::builder(TrustPolicy::CaCertificates(vec![ca.certificate().clone()]))
            .versions(version, version)
            .build()
            .unwrap();
    let server_config = ServerConfig::builder(id.clone())
        .versions(version, version)
        .build()
        .unwrap();
    let mut client = TlsSession::client(&client_config, "redy.local").unwrap();
    let mut server = TlsSession::server(&server_config).unwrap();
    let block = vec![0x5a_u8; WRITE];
    let mut pipe: Vec<u8> = Vec::new();
    let mut back: Vec<u8> = Vec::new();
    let (mut sent, mut received) = (0, 0);
    let start = Instant::now();
    while received < total {
        if sent < total {
            sent += client.send(&block[..WRITE.min(total - sent)]).unwrap();
        }
        let out = client.transmit();
        pipe.extend_from_slice(out);
        let n = out.len();
        client.advance(n);
        let mut offset = 0;
        while offset < pipe.len() {
            offset += server.receive(&pipe[offset..]).unwrap();
            loop {
                let chunk = server.plaintext().unwrap();
                if chunk.is_empty() {
                    break;
                }
                let len = std::hint::black_box(chunk).len();
                received += len;
                server.consume(len);
            }
        }
        pipe.clear();
        // Handshake replies and tickets go back to the client.
        let out = server.transmit();
        back.extend_from_slice(out);
        let n = out.len();
        server.advance(n);
        if !back.is_empty() {
            client.receive(&back).unwrap();
            back.clear();
        }
    }
    start.elapsed()
}

fn raw_rustls(ca: &DeviceCa, id: &Identity, version: TlsVersion, total: usize) -> Duration {
    let provider = Arc::new(provider());
    let v = match version {
        TlsVersion::Tls12 => &rustls::version::TLS12,
        _ => &rustls::version::TLS13,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.certificate().der().to_vec()))
        .unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[v])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let chain = id
        .chain()
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key().secret_der().to_vec()));
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[v])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let name = ServerName::try_from("redy.local").unwrap();
    let mut client = rustls::ClientConnection::new(Arc::new(client_config), name).unwrap();
    let mut server = rustls::ServerConnection::new(Arc::new(server_config)).unwrap();
    client.set_buffer_limit(Some(redy_tls::SEND_BUFFER_LIMIT));
    server.set_buffer_limit(Some(redy_tls::SEND_BUFFER_LIMIT));
    let block = vec![0x5a_u8; WRITE];
    let mut pipe: Vec<u8> = Vec::new();
    let mut back: Vec<u8> = Vec::new();
    let (mut sent, mut received) = (0, 0);
    let start = Instant::now();
    while received < total {
        if sent < total {
            sent += client
                .writer()
                .write(&block[..WRITE.min(total - sent)])
                .unwrap();
        }
        while client.wants_write() {
            client.write_tls(&mut pipe).unwrap();
        }
        let mut rest = &pipe[..];
        while !rest.is_empty() {
            server.read_tls(&mut rest).unwrap();
            server.process_new_packets().unwrap();
            let mut reader = server.reader();
            loop {
                let len = match reader.fill_buf() {
                    Ok(chunk) if !chunk.is_empty() => std::hint::black_box(chunk).len(),
                    _ => break,
                };
                received += len;
                reader.consume(len);
            }
        }
        pipe.clear();
        while server.wants_write() {
            server.write_tls(&mut back).unwrap();
        }
        if !back.is_empty() {
            let mut rest = &back[..];
            while !rest.is_empty() {
                client.read_tls(&mut rest).unwrap();
                client.process_new_packets().unwrap();
            }
            back.clear();
        }
    }
    start.elapsed()
}

fn provider() -> rustls::crypto::CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    return rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "aws-lc-rs"))]
    return rustls::crypto::ring::default_provider();
}
