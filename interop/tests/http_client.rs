//! The redy HTTP/1.1 client machine against nginx over TLS 1.2 and 1.3, on one keep-alive
//! connection per version: POST echo with Content-Length and chunked bodies, then 50 MiB PUT
//! (Content-Length) and 8 MiB PUT (chunked) to WebDAV and GET back, compared by SHA-256.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use redy_eshare::http::{Client, ClientEvent, Headers, Limits, Link};
use redy_interop::http::Nginx;
use redy_interop::{pseudo_random, require};
use redy_tls::{ClientConfig, TlsSession, TlsVersion};
use sha2::{Digest, Sha256};

/// The client machine over a blocking TCP stream.
struct Conn {
    client: Client,
    tcp: TcpStream,
}

impl Conn {
    fn open(nginx: &Nginx, version: TlsVersion) -> Self {
        let config = ClientConfig::builder(nginx.pki().trust())
            .versions(version, version)
            .build()
            .unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", nginx.port())).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let session = TlsSession::client(&config, "127.0.0.1").unwrap();
        let limits = Limits {
            max_body: 256 << 20,
            ..Limits::default()
        };
        Self {
            client: Client::new(Link::tls(session), limits, Instant::now()),
            tcp,
        }
    }

    fn flush(&mut self) {
        loop {
            let out = self.client.transmit().to_vec();
            if out.is_empty() {
                return;
            }
            self.tcp.write_all(&out).unwrap();
            self.client.advance(out.len());
        }
    }

    /// Sends a request with `body` (chunked in pieces of `chunk` when `chunked`), and returns
    /// the response status and the SHA-256 and length of its body.
    fn exchange(
        &mut self,
        method: &str,
        target: &str,
        body: &[u8],
        chunked: bool,
    ) -> (u16, [u8; 32], usize, Vec<u8>) {
        let mut headers = Headers::new();
        headers.push("Host", b"localhost");
        let length = (!chunked).then_some(body.len() as u64);
        self.client
            .send_request(method, target, &headers, length)
            .unwrap();
        let mut rest = body;
        while !rest.is_empty() {
            let piece = &rest[..rest.len().min(if chunked { 100_000 } else { rest.len() })];
            let n = self.client.write_body(piece).unwrap();
            rest = &rest[n..];
            self.flush();
        }
        if chunked || !body.is_empty() {
            self.client.finish_body().unwrap();
        }
        self.flush();
        let (mut status, mut hash, mut len, mut first) = (0, Sha256::new(), 0, Vec::new());
        let mut buf = vec![0; 64 * 1024];
        loop {
            while let Some(event) = self.client.poll_event() {
                match event {
                    ClientEvent::Response(head) => status = head.status,
                    ClientEvent::BodyData => {}
                    ClientEvent::BodyEnd => {
                        // The last bytes may still wait in `body()`.
                        let data = self.client.body().to_vec();
                        hash.update(&data);
                        len += data.len();
                        first.extend_from_slice(&data[..data.len().min(64)]);
                        self.client.consume_body(data.len(), Instant::now());
                        return (status, hash.finalize().into(), len, first);
                    }
                    other => panic!("{method} {target}: {other:?}"),
                }
            }
            let data = self.client.body().to_vec();
            if !data.is_empty() {
                hash.update(&data);
                len += data.len();
                if first.len() < 64 {
                    first.extend_from_slice(&data[..data.len().min(64)]);
                }
                self.client.consume_body(data.len(), Instant::now());
                continue;
            }
            self.flush();
            let n = self.tcp.read(&mut buf).unwrap();
            assert!(n > 0, "{method} {target}: nginx closed the connection");
            let mut got = &buf[..n];
            while !got.is_empty() {
                let taken = self.client.receive(got, Instant::now());
                got = &got[taken..];
                if taken == 0 {
                    // The body buffer is full: read it out first.
                    let data = self.client.body().to_vec();
                    hash.update(&data);
                    len += data.len();
                    self.client.consume_body(data.len(), Instant::now());
                    while let Some(event) = self.client.poll_event() {
                        match event {
                            ClientEvent::Response(head) => status = head.status,
                            ClientEvent::BodyEnd => panic!("end before all bytes were read"),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[test]
fn redy_http_client_against_nginx_echo_and_webdav() {
    if !require("nginx") {
        return;
    }
    let (nginx, _) = Nginx::start(None).unwrap();
    for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let mut conn = Conn::open(&nginx, version);
        let small = pseudo_random(10_000, 1);
        let (status, hash, len, _) = conn.exchange("POST", "/echo", &small, false);
        assert_eq!(
            (status, hash, len),
            (200, sha256(&small), small.len()),
            "{version:?}"
        );
        let (status, hash, len, _) = conn.exchange("POST", "/echo", &small[..7_777], true);
        assert_eq!(
            (status, hash, len),
            (200, sha256(&small[..7_777]), 7_777),
            "{version:?}: chunked echo"
        );
        for (name, size, chunked) in [("big.bin", 50 << 20, false), ("chunked.bin", 8 << 20, true)]
        {
            let body = pseudo_random(size, size as u64);
            let target = format!("/dav/{version:?}-{name}");
            let (status, _, _, text) = conn.exchange("PUT", &target, &body, chunked);
            assert!(
                status == 201 || status == 204,
                "{version:?} PUT {target}: {status} {}\n{}",
                String::from_utf8_lossy(&text),
                nginx.error_log()
            );
            let stored =
                std::fs::read(nginx.dav_dir().join(format!("{version:?}-{name}"))).unwrap();
            assert_eq!(
                sha256(&stored),
                sha256(&body),
                "{version:?}: nginx stored other bytes"
            );
            let (status, hash, len, _) = conn.exchange("GET", &target, &[], false);
            assert_eq!((status, len), (200, size), "{version:?} GET {target}");
            assert_eq!(
                hash,
                sha256(&body),
                "{version:?}: {target} came back altered"
            );
        }
    }
}
