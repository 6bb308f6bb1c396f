//! nginx as an HTTPS peer: `GET /`, `GET /big`, `POST /echo` and WebDAV `PUT`/`GET /dav/NAME`
//! (see `interop/peers/nginx.sh`), with a throw-away device PKI.

use std::io;
use std::path::Path;

use tempfile::TempDir;

use crate::{
    DevicePki, Peer, START_TIMEOUT, free_port, peer_script, work_dir, write_pseudo_random,
};

/// nginx on a free port of 127.0.0.1; stopped when dropped.
pub struct Nginx {
    peer: Peer,
    port: u16,
    pki: DevicePki,
    // Last, so that it is removed after nginx is stopped.
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx; with `big`, its `GET /big` serves that many pseudo-random bytes, returned.
    pub fn start(big: Option<usize>) -> io::Result<(Self, Vec<u8>)> {
        let dir = work_dir("nginx");
        let pki = DevicePki::new(dir.path());
        let content = big
            .map(|len| write_pseudo_random(&dir.path().join("big.bin"), len))
            .unwrap_or_default();
        let port = free_port();
        let mut cmd = peer_script("nginx.sh");
        cmd.arg("run")
            .arg(dir.path())
            .arg(port.to_string())
            .arg(&pki.server_crt)
            .arg(&pki.server_key);
        let mut peer = Peer::spawn("nginx", cmd, dir.path())?;
        if let Err(e) = peer.wait_for_port(port, START_TIMEOUT) {
            let error_log =
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            return Err(io::Error::other(format!(
                "nginx did not start: {e}\n--- error.log ---\n{error_log}"
            )));
        }
        let nginx = Self {
            peer,
            port,
            pki,
            dir,
        };
        Ok((nginx, content))
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PKI its certificate comes from.
    pub fn pki(&self) -> &DevicePki {
        &self.pki
    }

    /// Where `PUT /dav/NAME` stores NAME.
    pub fn dav_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("dav")
    }

    /// Its work directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// nginx's error.log, and what it printed.
    pub fn error_log(&self) -> String {
        let error_log =
            std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
        format!(
            "{error_log}--- output of nginx (pid {}) ---\n{}",
            self.peer.pid(),
            self.peer.log()
        )
    }
}
