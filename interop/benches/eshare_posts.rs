//! Small POSTs against the eShare server vs nginx, with the same load generator in the same run.
//!
//! ```text
//! cargo bench -p redy-interop --bench eshare_posts            # 10 s per round
//! REDY_BENCH_QUICK=1 cargo bench -p redy-interop --bench eshare_posts
//! ```
//!
//! Each server runs on one core (`taskset -c 0`; `eshare-node` runs a current-thread tokio
//! runtime, nginx one worker without access log) and wrk on the other: 32 keep-alive TLS
//! connections POSTing one ~200-byte eShare batch each time (nginx echoes it back from
//! `/echo`; the eShare site acknowledges it as a duplicate after the first). Two rounds each,
//! alternating, best of two. Then the memory per idle connection: the server's resident size
//! before and after 400 TLS connections that completed their handshake and stay idle.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failed step is a failed run

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use std::{fs, thread};

use redy_certs::TrustPolicy;
use redy_examples::blocking::TlsStream;
use redy_interop::http::Nginx;
use redy_interop::{free_port, require, wait_for_port};
use redy_tls::{ClientConfig, TlsSession};

const BATCH: &str = r#"{"v":1,"origin":"33333-44444","epoch":1763805600000,"seq":1,"values":[{"name":"tank.level","value":{"float":3.25},"quality":"good","ts":1763805612345},{"name":"pump.running","value":{"bool":true},"ts":1763805612345}]}"#;
const CONNECTIONS: u32 = 32;
const IDLE: usize = 400;

fn seconds() -> u32 {
    match std::env::var_os("REDY_BENCH_QUICK") {
        Some(_) => 2,
        None => 10,
    }
}

/// `eshare-node` on CPU 0, generated certificate; killed when dropped.
struct Site(Child, u16);

impl Site {
    fn start(dir: &Path) -> Self {
        let bins = redy_interop::release_binaries(&["eshare-node"]).expect("build eshare-node");
        let port = free_port();
        let child = Command::new("taskset")
            .args(["-c", "0"])
            .arg(bins.join("eshare-node"))
            .args([
                "--wid",
                "11111-22222",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args([
                "--site",
                "33333-44444@127.0.0.2",
                "--trust-server",
                "--quiet",
            ])
            .arg("--ca-out")
            .arg(dir.join("ca.crt"))
            .stdin(Stdio::piped()) // kept open: the node reads publications from it
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start eshare-node");
        wait_for_port(port, Duration::from_secs(20)).expect("eshare-node listening");
        Self(child, port)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// wrk on CPU 1 against `url`: requests per second.
fn wrk(script: &Path, url: &str, secs: u32) -> f64 {
    let out = Command::new("taskset")
        .args(["-c", "1", "wrk", "-t1"])
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{secs}s"))
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = text
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"));
    assert!(
        errors.is_none(),
        "wrk against {url}: {}\n{text}",
        errors.unwrap_or_default()
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec from wrk:\n{text}"))
}

/// Resident set size of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// KiB of server memory per idle TLS connection: `IDLE` handshakes completed, then left idle.
fn idle_cost(pid: u32, port: u16) -> f64 {
    let config = ClientConfig::builder(TrustPolicy::DangerousTrustAnyServer)
        .build()
        .expect("client config");
    thread::sleep(Duration::from_millis(300));
    let before = rss_kib(pid);
    let idle: Vec<TlsStream<TcpStream>> = (0..IDLE)
        .map(|_| {
            let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            let session = TlsSession::client(&config, "127.0.0.1").expect("session");
            TlsStream::connect(session, tcp).expect("handshake")
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    let after = rss_kib(pid);
    drop(idle);
    after.saturating_sub(before) as f64 / IDLE as f64
}

fn main() {
    if !require("wrk") || !require("nginx") || !require("taskset") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("post.lua");
    fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{BATCH}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ),
    )
    .expect("write wrk script");
    let site = Site::start(dir.path());
    let nginx = Nginx::start_for_load(4096, Some(0)).expect("start nginx");
    let redy_url = format!("https://127.0.0.1:{}/eshare/v1/batches", site.1);
    let nginx_url = format!("https://127.0.0.1:{}/echo", nginx.port());
    let secs = seconds();

    println!(
        "eShare POSTs: {} bytes each, {CONNECTIONS} keep-alive TLS connections, wrk on CPU 1, each server on CPU 0, {secs} s per round",
        BATCH.len()
    );
    wrk(&script, &redy_url, 1); // warm-up: the first batch is applied, the rest are duplicates
    wrk(&script, &nginx_url, 1);
    let (mut redy, mut reference) = (0f64, 0f64);
    for round in 1..=2 {
        let r = wrk(&script, &redy_url, secs);
        let n = wrk(&script, &nginx_url, secs);
        println!("  round {round}: eshare-node {r:.0} req/s, nginx {n:.0} req/s");
        redy = redy.max(r);
        reference = reference.max(n);
    }
    println!(
        "  best: eshare-node {redy:.0} req/s, nginx {reference:.0} req/s, ratio {:.2} (goal >= 1.0)",
        redy / reference
    );

    let redy_idle = idle_cost(site.0.id(), site.1);
    let nginx_idle = idle_cost(nginx.pid(), nginx.port());
    println!(
        "Memory per idle TLS connection ({IDLE} connections): eshare-node {redy_idle:.1} KiB, nginx {nginx_idle:.1} KiB"
    );
}
