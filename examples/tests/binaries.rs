//! The example binaries do what the README says, checked as a user would read their output.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::fs;
use std::process::Command;

fn run(bin: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_accepts_and_refuses_as_each_policy_says() {
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_demo"), &[]);
    assert!(ok, "demo failed: {err}\n{out}");
    let line = |label: &str| {
        out.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no line {label:?} in\n{out}"))
            .to_owned()
    };
    for (label, verdict, reason) in [
        ("web PKI roots", "refused", "issuer unknown"),
        ("imported REDY CA, by IP", "ACCEPTED", "device says: hello"),
        (
            "imported REDY CA, by name",
            "ACCEPTED",
            "device says: hello",
        ),
        (
            "imported REDY CA, wrong name",
            "refused",
            "not valid for the server name",
        ),
        ("imported REDY CA, in 3 years", "refused", "expired"),
        (
            "chosen server certificate",
            "ACCEPTED",
            "device says: hello",
        ),
        (
            "another certificate chosen",
            "refused",
            "not the chosen server certificate",
        ),
        ("SPKI pin of the server", "ACCEPTED", "device says: hello"),
        ("wrong SPKI pin", "refused", "none of the pins"),
        ("DANGER: trust any server", "ACCEPTED", "device says: hello"),
    ] {
        let l = line(label);
        assert!(
            l.contains(verdict) && l.contains(reason),
            "{label}: expected {verdict} / {reason}, got {l}"
        );
    }
    assert!(
        line("  TLS 1.2:").ends_with("full, resumed, resumed, resumed, resumed"),
        "{out}"
    );
    assert!(
        line("  TLS 1.3:").ends_with("full, resumed, resumed, resumed, resumed"),
        "{out}"
    );
    assert!(
        line("  uploaded 800000 bytes, downloaded 800000 bytes: identical")
            .ends_with("file on the server's disk identical"),
        "{out}"
    );
    assert_eq!(
        line("  3 of 3 data connections resumed"),
        "  3 of 3 data connections resumed the control connection's TLS session"
    );
    for site in ["33333-44444", "55555-66666"] {
        assert_eq!(
            line(&format!("  {site} applied")),
            format!("  {site} applied 11111-22222 seq 1: tank.level=3.25 pump.running=true")
        );
        let row = line(&format!("    {site} at"));
        assert!(
            row.contains(": 1 success(es), 0 failure(s), last diffusion 20"),
            "{row}"
        );
    }
}

#[test]
fn redy_cert_generates_reissues_shows_and_pins() {
    let bin = env!("CARGO_BIN_EXE_redy-cert");
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let args = [
        "generate",
        "--wid",
        "12345-67890",
        "--name",
        "192.168.1.137",
        "--name",
        "redy.local",
        "--out",
        out_dir,
    ];
    let (ok, out, err) = run(bin, &args);
    assert!(ok, "{err}");
    assert!(
        out.contains("Subject Alternative Name: IP Address:192.168.1.137, DNS:redy.local"),
        "{out}"
    );
    let ca_path = dir.path().join("REDY-12345-67890-CA.crt");
    let ca_before = fs::read(&ca_path).unwrap();
    let server_before = fs::read(dir.path().join("ServerREDY.pem")).unwrap();

    let (ok, out, err) = run(bin, &args);
    assert!(ok && out.contains("keeping CA"), "{err}{out}");
    assert_eq!(
        fs::read(&ca_path).unwrap(),
        ca_before,
        "reissuing keeps the CA"
    );
    assert_ne!(
        fs::read(dir.path().join("ServerREDY.pem")).unwrap(),
        server_before,
        "but makes a new server certificate"
    );

    let (ok, out, _) = run(bin, &["show", ca_path.to_str().unwrap()]);
    assert!(
        ok && out.contains("Basic Constraints: CA:TRUE, pathlen:0"),
        "{out}"
    );
    let (ok, out, _) = run(
        bin,
        &["pin", dir.path().join("ServerREDY.pem").to_str().unwrap()],
    );
    let pins: Vec<&str> = out.lines().collect();
    assert!(
        ok && pins.len() == 2 && pins.iter().all(|p| p.starts_with("sha256//")),
        "{out}"
    );

    let (ok, _, err) = run(bin, &["show", "/etc/hostname"]);
    assert!(!ok && err.contains("malformed certificate"), "{err}");
    let (ok, _, err) = run(
        bin,
        &[
            "generate", "--wid", "bad_wid", "--name", "x.local", "--out", out_dir,
        ],
    );
    assert!(!ok && err.contains("invalid WID"), "{err}");
}

#[test]
fn ftps_names_an_unknown_cipher_suite_and_connects_nowhere() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("ftps://plc:pw@{}/", listener.local_addr().unwrap());
    let ciphers = "TLS13_AES_128_GCM_SHA256,TLS13_AES_512_OCB";
    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_ftps"),
        &["--trust-server", "--ciphers", ciphers, &url, "ls"],
    );
    assert!(
        !ok && err.contains("unknown cipher suite TLS13_AES_512_OCB"),
        "{err}"
    );
    assert!(
        err.contains("TLS13_AES_256_GCM_SHA384"),
        "offers listed: {err}"
    );
    let accepted = listener.accept();
    assert!(
        accepted.is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "ftps connected although its TLS configuration was refused"
    );
}

/// A running `eshare-node` whose standard output is read line by line; killed when dropped.
struct EshareNode {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl EshareNode {
    fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_eshare-node"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        Self { child, lines }
    }

    /// Waits for a line starting with `prefix`; the lines read on the way are returned too.
    fn expect(&self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("no line {prefix:?}; saw {seen:#?}"),
            }
        }
    }

    fn say(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
    }
}

impl Drop for EshareNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn eshare_nodes_publish_from_the_command_line_and_standard_input() {
    let ips: Vec<std::net::IpAddr> =
        vec!["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
    let port = redy_examples::eshare::free_port(&ips).unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let ca_b = dir.path().join("REDY-33333-44444-CA.crt");
    // B first, so that its generated CA exists for A's --trust-ca; B trusts any server.
    let b = EshareNode::start(&[
        "--wid",
        "33333-44444",
        "--listen",
        &format!("127.0.0.2:{port}"),
        "--site",
        "11111-22222@127.0.0.1",
        "--trust-server",
        "--ca-out",
        ca_b.to_str().unwrap(),
    ]);
    b.expect("eShare site 33333-44444 on https://127.0.0.2:");
    let mut a = EshareNode::start(&[
        "--wid",
        "11111-22222",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--site",
        "33333-44444@127.0.0.2",
        "--trust-ca",
        ca_b.to_str().unwrap(),
        "--ca-out",
        dir.path().join("REDY-11111-22222-CA.crt").to_str().unwrap(),
        "--publish",
        "level=3.25",
        "--publish",
        "run=true",
    ]);
    assert_eq!(a.expect("published"), "published seq 1");
    assert_eq!(
        b.expect("applied"),
        "applied 11111-22222 seq 1: level=3.25 run=true"
    );
    assert_eq!(a.expect("delivered"), "delivered seq 1 to 33333-44444");
    a.say("valve=open count=7");
    assert_eq!(
        b.expect("applied"),
        "applied 11111-22222 seq 2: valve=open count=7"
    );
}
