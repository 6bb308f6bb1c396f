//! FTPS throughput and memory, as ratios against baselines measured in the same run.
//!
//! ```text
//! cargo bench -p redy-interop --bench ftps_transfers              # needs bash interop/setup.sh
//! REDY_BENCH_QUICK=1 cargo bench -p redy-interop --bench ftps_transfers   # sizes / 16
//! REDY_BENCH_ONLY=curl|many|raw cargo bench -p redy-interop --bench ftps_transfers  # one part
//! ```
//! 1. The `ftps` binary against curl, to the same vsftpd and proftpd (implicit FTPS): 200 MB up
//!    and down, then 1,000 files of 1 KiB uploaded in one session (TLS 1.2 on both sides there:
//!    with TLS 1.3 proftpd issues no ticket on data connections, see the README).
//! 2. The `ftps` binary to the `ftps-server` binary against the same bytes over one raw rustls
//!    connection over TCP (no FTP, no redy) on loopback, both on TLS 1.3 with AES-128-GCM only
//!    (`ftps --ciphers`): 1 GiB up and down, with the peak RSS of the client and the server,
//!    which shows that both stream in bounded memory. Files live on tmpfs (`/dev/shm`) when
//!    there is one, so that the disk does not set the pace; both read and write the same files,
//!    in seven rounds of FTPS and raw TLS (alternately first); the median round counts.
//!
//! Each client runs as its own process under `/usr/bin/time` (elapsed time, CPU time and peak
//! RSS). Part 1 also shows the third-party server's CPU time during each run, its session
//! processes included (sampled from `/proc`): where the server is busy most of the elapsed
//! time, no client can make it go much faster. The server's peak RSS in part 2 is read from
//! `/proc/PID/status` (`VmHWM`) before it is stopped. Figures on a shared 2-core machine are
//! noisy: read the ratios, run twice.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: a failure ends the run

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use redy_interop::ftp::{FtpServer, FtpServerKind, FtpTls, require_ftp_server};
use redy_interop::{DevicePki, free_port, require, wait_for_port, work_dir};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};

const MB: u64 = 1_000_000;
const CHUNK: usize = 256 * 1024;
/// Rounds of the comparison with raw TLS.
const ROUNDS: usize = 7;

/// A measured client run.
struct Run {
    seconds: f64,
    peak_kib: u64,
    /// The client's CPU time (user and system), seconds.
    cpu: f64,
    /// The server's CPU time during the run, seconds, where measured.
    server_cpu: Option<f64>,
    stderr: String,
}

fn quick() -> u64 {
    if std::env::var_os("REDY_BENCH_QUICK").is_some() {
        16
    } else {
        1
    }
}

/// `target/release/`, where the example binaries this bench runs were built (by `main`).
fn bin_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        redy_interop::release_binaries(&["ftps", "ftps-server"])
            .expect("build ftps and ftps-server")
    })
    .clone()
}

/// Runs `command` to completion under `/usr/bin/time`; panics with its output on failure.
fn timed(command: Command) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("time");
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
    let envs: Vec<_> = command
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let mut time = Command::new("/usr/bin/time");
    if let Some(dir) = command.get_current_dir() {
        time.current_dir(dir);
    }
    let output = time
        .arg("-f")
        .arg("%e %M %U %S")
        .arg("-o")
        .arg(&report)
        .arg(&program)
        .args(&args)
        .envs(envs)
        .stdin(Stdio::null())
        .output()
        .expect("run /usr/bin/time");
    assert!(
        output.status.success(),
        "{program:?} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = fs::read_to_string(&report).expect("time report");
    let mut fields = text.split_whitespace();
    let mut field = |what| fields.next().and_then(|s| s.parse().ok()).expect(what);
    Run {
        seconds: field("elapsed"),
        peak_kib: field("max RSS") as u64,
        cpu: field("user time") + field("system time"),
        server_cpu: None,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// [`timed`], also measuring the CPU time the server `pid` and the processes it forks spent
/// meanwhile (sampled every [`SAMPLE`]: a process's last sample period before it exits is lost).
fn timed_against(command: Command, pid: u32) -> Run {
    let done = Arc::new(AtomicBool::new(false));
    let before: HashMap<_, _> = process_tree(pid).into_iter().collect();
    let sampler = thread::spawn({
        let done = done.clone();
        move || {
            // CPU ticks per process (pid, start time): before the run, at the last sample.
            let mut seen: HashMap<(u32, u64), (u64, u64)> = HashMap::new();
            while !done.load(Ordering::Relaxed) {
                for (key, ticks) in process_tree(pid) {
                    let from = before.get(&key).copied().unwrap_or(0);
                    seen.insert(key, (from, ticks));
                }
                thread::sleep(SAMPLE);
            }
            let ticks: u64 = seen.values().map(|(from, to)| to - from).sum();
            ticks as f64 / 100.0
        }
    });
    let mut run = timed(command);
    done.store(true, Ordering::Relaxed);
    run.server_cpu = sampler.join().ok();
    run
}

/// How often [`timed_against`] samples the server's processes.
const SAMPLE: Duration = Duration::from_millis(20);

/// `pid` and its descendants, each as (pid, start time) with its own CPU time so far, in clock
/// ticks of 1/100 s (`/proc/PID/stat` fields 14, 15 and 22; children's times are left out, as
/// those children are counted themselves).
fn process_tree(pid: u32) -> Vec<((u32, u64), u64)> {
    let mut tree = Vec::new();
    let mut pending = vec![pid];
    while let Some(pid) = pending.pop() {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue; // gone meanwhile
        };
        // The fields after the command name (in parentheses), from field 3 (state) on.
        let fields: Vec<u64> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        if fields.len() > 19 {
            tree.push(((pid, fields[19]), fields[11] + fields[12]));
        }
        let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
        pending.extend(
            children
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    tree
}

fn write_file(path: &Path, len: u64) {
    let mut file = fs::File::create(path).expect("create");
    let block = redy_interop::pseudo_random(CHUNK, 1);
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        file.write_all(&block[..n]).expect("write");
        left -= n as u64;
    }
}

fn same_content(a: &Path, b: &Path) -> bool {
    let (mut a, mut b) = (
        fs::File::open(a).expect("open"),
        fs::File::open(b).expect("open"),
    );
    let (mut x, mut y) = (vec![0; CHUNK], vec![0; CHUNK]);
    loop {
        let n = a.read(&mut x).expect("read");
        let mut m = 0;
        while m < n {
            let k = b.read(&mut y[m..n]).expect("read");
            if k == 0 {
                return false;
            }
            m += k;
        }
        if n == 0 {
            return b.read(&mut y).expect("read") == 0;
        }
        if x[..n] != y[..n] {
            return false;
        }
    }
}

/// `ftps --ca CA OPTIONS… URL COMMAND…` with the password in the environment.
fn ftps(url: &str, ca: &Path, password: &str, options: &[&str], command: &[&str]) -> Command {
    let mut c = Command::new(bin_dir().join("ftps"));
    c.arg("--ca").arg(ca).args(options);
    c.arg(url).args(command).env("REDY_FTP_PASSWORD", password);
    c
}

fn curl(ca: &Path, tls12: bool) -> Command {
    let mut c = Command::new("curl");
    c.args(["-sS", "--fail", "--cacert"]).arg(ca);
    if tls12 {
        c.args(["--tls-max", "1.2"]);
    }
    c
}

/// One comparison: elapsed time, CPU time (client / server) and peak RSS of each, the ratio.
fn line(what: &str, redy: &Run, curl: &Run, goal: &str, faster_is: &str) {
    let side = |run: &Run| {
        let server = run.server_cpu.map_or("-".into(), |s| format!("{s:.2}"));
        format!(
            "{:>7.2} s (CPU {:.2}/{server} s) {:>6} KiB",
            run.seconds, run.cpu, run.peak_kib
        )
    };
    println!(
        "  {what:<20} redy {} | curl {} | {faster_is} {:>5.2}x (goal {goal})",
        side(redy),
        side(curl),
        curl.seconds / redy.seconds.max(0.001),
    );
}

/// The server's URL for `ftps` (password in the environment) and for curl (in the URL).
fn urls(server: &FtpServer) -> (String, String) {
    let (user, port) = (server.user(), server.addr().port());
    (
        format!("ftps://{user}@127.0.0.1:{port}"),
        format!("ftps://{user}:{}@127.0.0.1:{port}", server.password()),
    )
}

/// 1. The `ftps` binary against curl on one third-party server: 200 MB up and down.
fn against_curl(kind: FtpServerKind, work: &Path) {
    let server = FtpServer::start(kind, FtpTls::Implicit, false).expect("server");
    let (ca, password) = (&server.pki().ca_crt, server.password());
    let (base, curl_base) = urls(&server);
    let size = 200 * MB / quick();
    let source = work.join("source.bin");
    if !source.exists() {
        write_file(&source, size);
    }
    println!("{} (implicit FTPS), {} MB:", kind.name(), size / MB);

    let up_redy = timed_against(
        ftps(
            &base,
            ca,
            password,
            &[],
            &["put", source.to_str().unwrap(), "redy.bin"],
        ),
        server.pid(),
    );
    let mut c = curl(ca, false);
    c.arg("-T")
        .arg(&source)
        .arg(format!("{curl_base}/curl.bin"));
    let up_curl = timed_against(c, server.pid());
    for name in ["redy.bin", "curl.bin"] {
        assert!(
            same_content(&source, &server.root().join(name)),
            "{name} differs"
        );
    }
    line("upload", &up_redy, &up_curl, "1.5x", "redy faster by");

    let down = work.join("down.bin");
    let down_redy = timed_against(
        ftps(
            &base,
            ca,
            password,
            &[],
            &["get", "redy.bin", down.to_str().unwrap()],
        ),
        server.pid(),
    );
    assert!(same_content(&source, &down), "redy download differs");
    let mut c = curl(ca, false);
    c.arg("-o").arg(&down).arg(format!("{curl_base}/curl.bin"));
    let down_curl = timed_against(c, server.pid());
    assert!(same_content(&source, &down), "curl download differs");
    line("download", &down_redy, &down_curl, "1.0x", "redy faster by");
}

/// 1b. 1,000 files of 1 KiB uploaded in one session by the `ftps` binary and by curl.
fn many_files(kind: FtpServerKind, work: &Path) {
    let server = FtpServer::start(kind, FtpTls::Implicit, false).expect("server");
    let (ca, password) = (&server.pki().ca_crt, server.password());
    let (base, curl_base) = urls(&server);
    let files = 1_000 / quick() as usize;
    println!(
        "{} (implicit FTPS), {files} files in one session:",
        kind.name()
    );
    let dir = work.join(format!("many-{}", kind.name()));
    fs::create_dir_all(&dir).expect("dir");
    let names: Vec<String> = (0..files).map(|i| format!("f{i:04}.txt")).collect();
    for (i, name) in names.iter().enumerate() {
        fs::write(dir.join(name), redy_interop::pseudo_random(1024, i as u64)).expect("write");
    }
    let many_redy = timed_against(
        ftps(
            &base,
            ca,
            password,
            &["--tls-max", "1.2"],
            &["put-dir", dir.to_str().unwrap(), "/many-redy"],
        ),
        server.pid(),
    );
    let mut c = curl(ca, true);
    c.current_dir(&dir)
        .arg("--ftp-create-dirs")
        .arg("-T")
        .arg(format!("{{{}}}", names.join(",")))
        .arg(format!("{curl_base}/many-curl/"));
    let many_curl = timed_against(c, server.pid());
    for name in &names {
        for remote in ["many-redy", "many-curl"] {
            assert!(
                same_content(&dir.join(name), &server.root().join(remote).join(name)),
                "{remote}/{name}"
            );
        }
    }
    line(
        "1 KiB each, TLS 1.2",
        &many_redy,
        &many_curl,
        "3x",
        "redy faster by",
    );
}

/// The server's peak RSS so far (`VmHWM`), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The one cipher suite of the comparison with raw TLS, on both sides.
const SUITE: &str = "TLS13_AES_128_GCM_SHA256";

/// rustls configurations for the raw TLS baseline: TLS 1.3 with [`SUITE`] only, the server
/// presenting `pki`'s identity, the client trusting its CA.
fn raw_configs(pki: &DevicePki) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    #[cfg(feature = "aws-lc-rs")]
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "aws-lc-rs"))]
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .retain(|s| s.suite().as_str() == Some(SUITE));
    let provider = Arc::new(provider);
    let chain = pki.identity.chain().iter();
    let chain = chain
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivatePkcs8KeyDer::from(pki.identity.key().secret_der().to_vec());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key.into())
        .expect("server config");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(pki.ca.certificate().der().to_vec()))
        .expect("root");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// A `TcpStream` read through a `CHUNK`-sized buffer: rustls reads at most a few KiB per call,
/// and one `read` system call per few KiB would make the baseline slow for no TLS reason.
struct Buffered(std::io::BufReader<TcpStream>);

impl Buffered {
    fn new(tcp: TcpStream) -> Self {
        tcp.set_nodelay(true).expect("nodelay");
        Self(std::io::BufReader::with_capacity(CHUNK, tcp))
    }
}

impl Read for Buffered {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Buffered {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.get_mut().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.get_mut().flush()
    }
}

/// The same file over one raw rustls connection (`StreamOwned` on a `TcpStream`) on loopback,
/// with the same file I/O as the FTPS run: `source` up into `up_to`, then `source` down into
/// `down_to`. Seconds each way.
fn raw_tls(pki: &DevicePki, source: &Path, up_to: &Path, down_to: &Path) -> (f64, f64) {
    let (server_config, client_config) = raw_configs(pki);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (source_s, up_to) = (source.to_path_buf(), up_to.to_path_buf());
    let size = fs::metadata(source).expect("source").len();
    let server = thread::spawn(move || {
        for upload in [true, false] {
            let (tcp, _) = listener.accept().expect("accept");
            let conn = rustls::ServerConnection::new(server_config.clone()).expect("tls");
            let mut tls = rustls::StreamOwned::new(conn, Buffered::new(tcp));
            if upload {
                let file = fs::File::create(&up_to).expect("create");
                let mut file = std::io::BufWriter::with_capacity(CHUNK, file);
                copy_exact(&mut tls, &mut file, size);
                file.flush().expect("flush");
                tls.write_all(b"k").expect("ack");
            } else {
                copy(&mut fs::File::open(&source_s).expect("open"), &mut tls);
            }
            tls.conn.send_close_notify();
            tls.flush().expect("close");
        }
    });
    let mut times = Vec::new();
    for upload in [true, false] {
        let start = Instant::now();
        let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let name = ServerName::try_from("127.0.0.1").expect("name");
        let conn = rustls::ClientConnection::new(client_config.clone(), name).expect("tls");
        let mut tls = rustls::StreamOwned::new(conn, Buffered::new(tcp));
        if upload {
            copy(&mut fs::File::open(source).expect("open"), &mut tls);
            let mut ack = [0u8; 1];
            tls.read_exact(&mut ack).expect("ack");
        } else {
            let file = fs::File::create(down_to).expect("create");
            let mut file = std::io::BufWriter::with_capacity(CHUNK, file);
            assert_eq!(copy(&mut tls, &mut file), size, "raw download cut short");
            file.flush().expect("flush");
        }
        let suite = tls.conn.negotiated_cipher_suite().map(|s| s.suite());
        assert_eq!(suite.and_then(|s| s.as_str()), Some(SUITE));
        times.push(start.elapsed().as_secs_f64());
    }
    server.join().expect("raw server");
    (times[0], times[1])
}

/// Copies exactly `size` bytes from `from` to `to`.
fn copy_exact(from: &mut impl Read, to: &mut impl Write, size: u64) {
    let mut buf = vec![0; CHUNK];
    let mut left = size;
    while left > 0 {
        let want = left.min(CHUNK as u64) as usize;
        let n = from.read(&mut buf[..want]).expect("read");
        assert!(n > 0, "cut short");
        to.write_all(&buf[..n]).expect("write");
        left -= n as u64;
    }
}

/// Copies `from` to `to` in `CHUNK`s until `from` ends; the number of bytes copied.
fn copy(from: &mut impl Read, to: &mut impl Write) -> u64 {
    let mut buf = vec![0; CHUNK];
    let mut total = 0;
    loop {
        let n = from.read(&mut buf).expect("read");
        if n == 0 {
            return total;
        }
        to.write_all(&buf[..n]).expect("write");
        total += n as u64;
    }
}

/// 2. `ftps` to `ftps-server` against raw redy-tls, 1 GiB each way.
fn against_raw_tls(work: &Path) {
    let size = (1 << 30) / quick();
    let pki = DevicePki::new(work);
    let root = work.join("root");
    fs::create_dir_all(&root).expect("root");
    let port = free_port();
    let mut server = Command::new(bin_dir().join("ftps-server"))
        .arg("--root")
        .arg(&root)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--implicit",
            "--user",
            "bench",
        ])
        .arg("--cert")
        .arg(&pki.server_crt)
        .arg("--key")
        .arg(&pki.server_key)
        .env("REDY_FTP_USERS", "bench:bench-password")
        .stderr(Stdio::null())
        .spawn()
        .expect("ftps-server");
    wait_for_port(port, Duration::from_secs(10)).expect("ftps-server listens");
    let source = work.join("gib.bin");
    write_file(&source, size);
    let url = format!("ftps://bench@127.0.0.1:{port}");
    let down_path = work.join("down.bin");
    let (source_s, down_s) = (source.to_str().unwrap(), down_path.to_str().unwrap());
    let options = ["--ciphers", SUITE];
    let client = |command: &[&str]| ftps(&url, &pki.ca_crt, "bench-password", &options, command);
    // Rounds of FTPS then raw TLS, each way, and the ratio of each round: noise on this VM
    // (the first touch of fresh memory is slow) comes in bursts that hit both runs of a round.
    // Timed downloads go to /dev/null: a 1 GiB file written and truncated each round frees
    // and takes back memory the VM's free page reporting hands to the host meanwhile, and
    // that noise swamped the figures. The first download is compared with the source.
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    let mut client_peak = 0;
    let check = timed(client(&["put", source_s, "gib.bin"]));
    assert!(
        check.stderr.contains(SUITE),
        "ftps agreed on {}",
        check.stderr
    );
    timed(client(&["get", "gib.bin", down_s]));
    assert!(same_content(&source, &down_path), "download differs");
    for round in 0..ROUNDS {
        let ftps = || {
            let up = timed(client(&["put", source_s, "gib.bin"]));
            assert!(
                same_content(&source, &root.join("gib.bin")),
                "upload differs"
            );
            (up, timed(client(&["get", "gib.bin", "/dev/null"])))
        };
        let raw = || raw_tls(&pki, &source, &root.join("gib.bin"), Path::new("/dev/null"));
        // Which goes first alternates, so that neither always follows the other's churn.
        let ((up, down), (raw_up, raw_down)) = if round % 2 == 0 {
            (ftps(), raw())
        } else {
            let raw = raw();
            (ftps(), raw)
        };
        client_peak = client_peak.max(up.peak_kib).max(down.peak_kib);
        ups.push((up.seconds, raw_up));
        downs.push((down.seconds, raw_down));
    }
    let server_peak = peak_kib(server.id());
    let _ = server.kill();
    let _ = server.wait();
    println!(
        "\nftps -> ftps-server vs one raw rustls connection, {} MiB, loopback, {SUITE}:",
        size >> 20
    );
    for (what, mut rounds) in [("upload", ups), ("download", downs)] {
        rounds.sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
        let (ftps, raw) = rounds[rounds.len() / 2];
        let ratios: Vec<_> = rounds
            .iter()
            .map(|(f, r)| format!("{:.2}", r / f))
            .collect();
        println!(
            "  {what:<9} median round: FTPS {ftps:>5.2} s | raw TLS {raw:>5.2} s | ratio {:.2} (goal >= 0.9; rounds {})",
            raw / ftps.max(0.001),
            ratios.join(" ")
        );
    }
    println!("  peak RSS: ftps client {client_peak} KiB, ftps-server {server_peak} KiB");
}

fn main() {
    bin_dir();
    let work = work_dir("ftps-bench");
    let only = std::env::var("REDY_BENCH_ONLY").unwrap_or_default();
    let wants = |part: &str| only.is_empty() || only == part;
    if !wants("curl") && !wants("many") {
    } else if !require("curl") {
        println!("curl missing: the comparison with curl is skipped (bash interop/setup.sh)");
    } else {
        for kind in [FtpServerKind::Vsftpd, FtpServerKind::Proftpd] {
            if !require_ftp_server(kind) {
                continue;
            }
            if wants("curl") {
                against_curl(kind, work.path());
            }
            if wants("many") {
                many_files(kind, work.path());
            }
        }
    }
    if wants("raw") {
        // On tmpfs when there is one: the comparison is of protocol stacks, and this machine's
        // disk writes at a fraction of loopback TLS speed.
        let shm = Path::new("/dev/shm");
        let fast = shm
            .is_dir()
            .then(|| tempfile::tempdir_in(shm).ok())
            .flatten();
        against_raw_tls(fast.as_ref().map_or(work.path(), |d| d.path()));
    }
}
