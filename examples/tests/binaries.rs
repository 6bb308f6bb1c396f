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
