//! The throw-away device CA and `ftp.test` server identity the in-memory tests share.
#![allow(dead_code, clippy::unwrap_used)] // test support

use std::sync::OnceLock;
use std::time::SystemTime;

use redy_certs::{DeviceCa, Identity};

pub struct Pki {
    pub ca: DeviceCa,
    pub server: Identity,
}

/// Made once per test binary.
pub fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let now = SystemTime::now();
        let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
        let server = ca
            .issue_server_certificate(&["ftp.test".parse().unwrap()], now)
            .unwrap();
        Pki { ca, server }
    })
}
