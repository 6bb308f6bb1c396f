//! The eShare status page in headless Chromium (Debian's `chromium`): the rendered DOM shows the
//! domain's site table, and a screenshot of it is written (its path is printed) for people to
//! look at.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};
use std::{env, fs};

use redy_eshare::share::{NamedValue, Timestamp, Value};
use redy_interop::eshare::{A, B, EshareSite};
use redy_interop::{require, run_with_timeout, which, work_dir};

/// Runs Chromium headless on `url` with `args`, as this machine needs it: no sandbox (root), no
/// GPU, no background connections (the network is closed), a new profile. The site's
/// certificate comes from a throw-away CA that is not in Chromium's store: its key is accepted
/// by SPKI pin, which trusts that one key and nothing else.
fn chromium(profile: &Path, pin: &str, args: &[&str], url: &str) -> Output {
    let bin = which("chromium").unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--ignore-certificate-errors-spki-list={pin}"))
    .args(args)
    .arg(url);
    run_with_timeout(&mut cmd, b"", Duration::from_secs(90)).unwrap()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let sig: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !png.starts_with(sig) || png.get(12..16) != Some(b"IHDR") {
        return None;
    }
    let be = |at: usize| Some(u32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?));
    Some((be(16)?, be(20)?))
}

#[test]
fn the_status_page_shows_the_site_table_in_headless_chromium() {
    if !require("chromium") {
        return;
    }
    let dir = work_dir("eshare-browser");
    let site = EshareSite::start(dir.path(), false).unwrap();
    // A publication that cannot reach B (not running): the table shows the failures.
    let now = Timestamp::from_system(SystemTime::now());
    site.node
        .publish(vec![NamedValue::new("level", Value::Float(3.25), now)])
        .unwrap();
    let b = B.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while site.node.with_node(|n| n.counters(&b).unwrap().failures) == 0 {
        assert!(Instant::now() < deadline, "no failed delivery to B");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Chromium wants the pin as base64 of the SHA-256, without redy's `sha256//`.
    let pin = site.pin.to_string();
    let pin = pin.trim_start_matches("sha256//");
    let url = format!("https://127.0.0.1:{}/", site.addr.port());

    let out = chromium(&dir.path().join("profile-dom"), pin, &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<table id=\"sites\">"),
        "no site table; chromium said: {}\n{dom}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        A,
        B,
        &format!("127.0.0.2:{}", site.addr.port()),
        "<th>Successes</th>",
        "<th>Failures</th>",
        "<th>Last diffusion</th>",
        "connection failed",
    ] {
        assert!(dom.contains(needle), "the page lacks {needle:?}:\n{dom}");
    }

    // The screenshot goes where cargo keeps test files (or REDY_SCREENSHOT_DIR).
    let shots = env::var_os("REDY_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    fs::create_dir_all(&shots).unwrap();
    let png = shots.join("eshare-status.png");
    let _ = fs::remove_file(&png);
    let shot = format!("--screenshot={}", png.display());
    let out = chromium(
        &dir.path().join("profile-shot"),
        pin,
        &[&shot, "--window-size=1280,800", "--hide-scrollbars"],
        &url,
    );
    let bytes = fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {} ({e}); chromium said: {}",
            png.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(png_size(&bytes), Some((1280, 800)), "not a 1280×800 PNG");
    assert!(bytes.len() > 10_000, "a blank page? {} bytes", bytes.len());
    eprintln!("eShare status page screenshot: {}", png.display());
}
