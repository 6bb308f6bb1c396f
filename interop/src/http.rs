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
        Self::start_with(big, None)
    }

    /// Starts nginx for a load test: `connections` per worker, no access log, pinned to CPU
    /// `cpu` (with `taskset`) when given.
    pub fn start_for_load(connections: u32, cpu: Option<u32>) -> io::Result<Self> {
        Self::start_with(None, Some((connections, cpu))).map(|(nginx, _)| nginx)
    }

    fn start_with(
        big: Option<usize>,
        load: Option<(u32, Option<u32>)>,
    ) -> io::Result<(Self, Vec<u8>)> {
        let dir = work_dir("nginx");
        let pki = DevicePki::new(dir.path());
        let content = big
            .map(|len| write_pseudo_random(&dir.path().join("big.bin"), len))
            .unwrap_or_default();
        let port = free_port();
        let mut cmd = peer_script("nginx.sh");
        if let Some((connections, cpu)) = load {
            cmd.env("NGINX_WORKER_CONNECTIONS", connections.to_string())
                .env("NGINX_ACCESS_LOG", "off");
            if let Some(cpu) = cpu {
                let script = cmd.get_args().map(ToOwned::to_owned).collect::<Vec<_>>();
                let mut pinned = std::process::Command::new("taskset");
                pinned
                    .args(["-c", &cpu.to_string()])
                    .arg(cmd.get_program())
                    .args(script)
                    .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
                cmd = pinned;
            }
        }
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

    /// Its process id (the one worker: nginx runs without a master process).
    pub fn pid(&self) -> u32 {
        self.peer.pid()
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
