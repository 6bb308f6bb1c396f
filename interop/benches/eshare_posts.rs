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
//! alternating, best of two, with each server's CPU time per request (wrk on one core may be
//! what sets the pace; the CPU a server spends per request does not depend on it). Then the memory per idle connection: the server's resident size
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

/// What one wrk round measured.
struct Round {
    per_second: f64,
    /// Server CPU time (user + system) per request, in microseconds.
    cpu_us: f64,
}

/// CPU time (user + system) `pid` has used, in seconds, from `/proc/PID/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let hz = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    (ticks(14) + ticks(15)) / hz
}

/// wrk on CPU 1 against the server `pid` at `url` for `secs`.
fn round(script: &Path, pid: u32, url: &str, secs: u32) -> Round {
    let before = cpu_seconds(pid);
    let (per_second, requests) = wrk(script, url, secs);
    let cpu = cpu_seconds(pid) - before;
    Round {
        per_second,
        cpu_us: cpu * 1e6 / requests.max(1.0),
    }
}

/// wrk on CPU 1 against `url`: requests per second, and requests in all.
fn wrk(script: &Path, url: &str, secs: u32) -> (f64, f64) {
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
    let per_second = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec from wrk:\n{text}"));
    // "  123456 requests in 10.00s, ..."
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no request count from wrk:\n{text}"));
    (per_second, requests)
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
    let (redy_pid, nginx_pid) = (site.0.id(), nginx.pid());
    let (mut redy, mut reference) = (Vec::new(), Vec::new());
    for n in 1..=2 {
        let r = round(&script, redy_pid, &redy_url, secs);
        let x = round(&script, nginx_pid, &nginx_url, secs);
        println!(
            "  round {n}: eshare-node {:.0} req/s, {:.1} µs CPU/request | nginx {:.0} req/s, {:.1} µs CPU/request",
            r.per_second, r.cpu_us, x.per_second, x.cpu_us
        );
        redy.push(r);
        reference.push(x);
    }
    let best = |rounds: &[Round]| rounds.iter().map(|r| r.per_second).fold(0.0, f64::max);
    let least = |rounds: &[Round]| rounds.iter().map(|r| r.cpu_us).fold(f64::MAX, f64::min);
    println!(
        "  best: eshare-node {:.0} req/s, nginx {:.0} req/s: ratio {:.2} (goal >= 1.0)",
        best(&redy),
        best(&reference),
        best(&redy) / best(&reference)
    );
    // With wrk on one core the load generator may set the pace for both servers; the CPU
    // each server spends per request does not depend on it.
    println!(
        "  server CPU per request: eshare-node {:.1} µs, nginx {:.1} µs: nginx/eshare-node {:.2}",
        least(&redy),
        least(&reference),
        least(&reference) / least(&redy)
    );

    let redy_idle = idle_cost(redy_pid, site.1);
    let nginx_idle = idle_cost(nginx_pid, nginx.port());
    println!(
        "Memory per idle TLS connection ({IDLE} connections): eshare-node {redy_idle:.1} KiB, nginx {nginx_idle:.1} KiB"
    );
}
