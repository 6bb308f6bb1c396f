//! curl as a client of the eShare server (`redy_examples::eshare`, on tokio): HTTP/1.1 over
//! TLS 1.2 and 1.3, keep-alive, a chunked upload, the status page and JSON, mutual TLS, and
//! the plain-HTTP redirect listener.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::fs;
use std::process::Command;
use std::time::Duration;

use redy_certs::Wid;
use redy_examples::eshare::RunningNode;
use redy_interop::eshare::{A, B, EshareSite};
use redy_interop::{require, run_with_timeout, work_dir};

/// Argument groups joined.
fn args<'a>(parts: &[&[&'a str]]) -> Vec<&'a str> {
    parts.concat()
}

/// Runs curl; returns (exit success, stdout, stderr).
fn curl(args: &[&str]) -> (bool, String, String) {
    let out = run_with_timeout(
        Command::new("curl")
            .args(["--silent", "--show-error"])
            .args(args),
        b"",
        Duration::from_secs(30),
    )
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn batch(seq: u64, level: i64) -> String {
    format!(
        r#"{{"v":1,"origin":"{B}","epoch":7,"seq":{seq},"values":[{{"name":"level","value":{{"int":{level}}},"ts":1763805612345}}]}}"#
    )
}

fn applied(node: &RunningNode) -> u64 {
    let b: Wid = B.parse().unwrap();
    node.with_node(|n| {
        n.status()
            .origins
            .iter()
            .find(|o| o.origin == b)
            .map_or(0, |o| o.applied)
    })
}

#[test]
fn curl_talks_to_the_eshare_server_over_tls_1_2_and_1_3() {
    if !require("curl") {
        return;
    }
    for (version, max) in [("1.2", "--tlsv1.2"), ("1.3", "--tlsv1.3")] {
        let dir = work_dir("eshare-curl");
        let s = EshareSite::start(dir.path(), false).unwrap();
        let base = format!("https://127.0.0.1:{}", s.addr.port());
        let ca = s.ca.to_str().unwrap();
        let tls = [max, "--tls-max", version, "--cacert", ca];
        let json = ["-H", "Content-Type: application/json"];
        let (batch1, batch2) = (
            dir.path().join("batch.json"),
            dir.path().join("batch2.json"),
        );
        fs::write(&batch1, batch(1, 42)).unwrap();
        fs::write(&batch2, batch(2, 43)).unwrap();
        let upload = format!("@{}", batch1.display());
        let upload2 = format!("@{}", batch2.display());
        let status_url = format!("{base}/eshare/v1/status");
        let batches_url = format!("{base}/eshare/v1/batches");
        let values_url = format!("{base}/eshare/v1/values");
        let code = "|%{http_code} %{num_connects}\n";

        // Four requests on one connection: the status JSON, a Content-Length POST, a chunked
        // POST (the next sequence), the values. `%{num_connects}` is 0 on a reused connection.
        let next = ["--next"];
        let chunked = ["-H", "Transfer-Encoding: chunked"];
        let (ok, out, err) = curl(&args(&[
            &tls,
            &[
                "-w",
                "|%{http_code} %{num_connects} %{ssl_verify_result} %{http_version}\n",
            ],
            &[&status_url],
            &next,
            &tls,
            &json,
            &["--data-binary", &upload, "-w", code, &batches_url],
            &next,
            &tls,
            &json,
            &chunked,
            &["--data-binary", &upload2, "-w", code, &batches_url],
            &next,
            &tls,
            &["-w", code, &values_url],
        ]));
        assert!(ok, "TLS {version}: curl failed: {err}");
        let answers: Vec<(&str, &str)> = out.lines().filter_map(|l| l.rsplit_once('|')).collect();
        assert_eq!(answers.len(), 4, "TLS {version}: {out}");
        assert!(answers[0].0.contains(&format!(r#""wid":"{A}""#)), "{out}");
        assert!(answers[0].0.contains(&format!(r#""wid":"{B}""#)), "{out}");
        assert_eq!(
            answers[0].1, "200 1 0 1.1",
            "TLS {version}: verified, HTTP/1.1"
        );
        assert_eq!(
            answers[1],
            (r#"{"epoch":7,"applied":1}"#, "200 0"),
            "TLS {version}"
        );
        assert_eq!(
            answers[2],
            (r#"{"epoch":7,"applied":2}"#, "200 0"),
            "TLS {version}"
        );
        assert!(
            answers[3]
                .0
                .contains(r#""name":"level","value":{"int":43}"#),
            "{out}"
        );
        assert_eq!(
            answers[3].1, "200 0",
            "TLS {version}: one connection for all four"
        );
        assert_eq!(applied(&s.node), 2, "TLS {version}: both batches applied");

        // The same batch again is acknowledged and not applied twice.
        let (ok, out, err) = curl(&args(&[
            &tls,
            &json,
            &["--data-binary", &upload, &batches_url],
        ]));
        assert!(ok, "{err}");
        assert_eq!(out, r#"{"epoch":7,"applied":2}"#);
        assert_eq!(applied(&s.node), 2);

        // The status page: HTML with the domain's table, refreshing itself.
        let (ok, out, err) = curl(&args(&[&tls, &["-i", &format!("{base}/")]]));
        assert!(ok, "{err}");
        let lower = out.to_ascii_lowercase();
        assert!(lower.contains("content-type: text/html"), "{out}");
        assert!(lower.contains("http-equiv=\"refresh\""), "{out}");
        for needle in [A, B, &format!("127.0.0.2:{}", s.addr.port())] {
            assert!(out.contains(needle), "status page without {needle}:\n{out}");
        }

        // An unknown path is a typed JSON error.
        let nowhere = format!("{base}/nowhere");
        let (_, out, _) = curl(&args(&[&tls, &["-w", "|%{http_code}", &nowhere]]));
        assert!(
            out.ends_with("|404") && out.contains(r#""error":"not_found""#),
            "{out}"
        );
    }
}

#[test]
fn mutual_tls_refuses_anonymous_batches_and_accepts_the_site_certificate() {
    if !require("curl") {
        return;
    }
    let dir = work_dir("eshare-mtls");
    let s = EshareSite::start(dir.path(), true).unwrap();
    let url = format!("https://127.0.0.1:{}/eshare/v1/batches", s.addr.port());
    let ca = s.ca.to_str().unwrap();
    let body = batch(1, 5);
    let post = |extra: &[&str]| {
        let mut args = vec![
            "--cacert",
            ca,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
            "-w",
            "|%{http_code}",
        ];
        args.extend_from_slice(extra);
        args.push(&url);
        curl(&args)
    };
    let (ok, out, err) = post(&[]);
    assert!(ok, "{err}");
    assert!(
        out.ends_with("|403") && out.contains("unauthenticated"),
        "{out}"
    );
    assert_eq!(applied(&s.node), 0);
    let b_pem = s.b_pem.to_str().unwrap();
    let (ok, out, err) = post(&["--cert", b_pem]);
    assert!(ok, "{err}");
    assert_eq!(out, r#"{"epoch":7,"applied":1}|200"#);
    assert_eq!(applied(&s.node), 1);
    // Browsers without a certificate still see the status page.
    let (ok, out, err) = curl(&[
        "--cacert",
        ca,
        &format!("https://127.0.0.1:{}/", s.addr.port()),
    ]);
    assert!(ok && out.contains(A), "{err}{out}");
}

#[test]
fn the_plain_http_listener_only_redirects() {
    if !require("curl") {
        return;
    }
    let dir = work_dir("eshare-redirect");
    let s = EshareSite::start(dir.path(), false).unwrap();
    let url = format!(
        "http://127.0.0.1:{}/eshare/v1/status?x=1",
        s.redirect.port()
    );
    let (ok, out, err) = curl(&["-i", &url]);
    assert!(ok, "{err}");
    assert!(out.starts_with("HTTP/1.1 301"), "{out}");
    let location = format!(
        "location: https://127.0.0.1:{}/eshare/v1/status?x=1",
        s.addr.port()
    );
    assert!(out.to_ascii_lowercase().contains(&location), "{out}");
    // Following it lands on the HTTPS status.
    let (ok, out, err) = curl(&["-L", "--cacert", s.ca.to_str().unwrap(), &url]);
    assert!(ok, "{err}");
    assert!(out.contains(r#""eshare":1"#), "{out}");
    // A POST keeps its method: 308.
    let (_, out, _) = curl(&["-i", "--data-binary", "x", &url]);
    assert!(out.starts_with("HTTP/1.1 308"), "{out}");
}
