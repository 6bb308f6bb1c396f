//! A redy-tls server session fed any bytes in any chunks (the TLS path, with a fixed identity).
//! Properties: no panic; never more taken than offered; after a fatal error no plaintext and no
//! events come out.
#![no_main]

use std::sync::OnceLock;
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use redy_certs::DeviceCa;
use redy_tls::{ServerConfig, TlsSession};

fn config() -> &'static ServerConfig {
    static CONFIG: OnceLock<ServerConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);
        let ca = DeviceCa::generate(&"1-2".parse().expect("wid"), now).expect("ca");
        let id = ca.issue_server_certificate(&["redy.local".parse().expect("name")], now).expect("identity");
        ServerConfig::builder(id).build().expect("config")
    })
}

fuzz_target!(|input: (u8, bool, &[u8])| {
    let (cut, upgrade, data) = input;
    let mut session = match upgrade {
        true => TlsSession::server_upgrade(config(), b"").expect("session"),
        false => TlsSession::server(config()).expect("session"),
    };
    for chunk in data.chunks(usize::from(cut.max(1))) {
        match session.receive(chunk) {
            Ok(n) => assert!(n <= chunk.len()),
            Err(e) => {
                assert_eq!(session.plaintext(), Err(e.clone()));
                assert_eq!(session.receive(chunk), Err(e));
                break;
            }
        }
        let out = session.transmit().len();
        session.advance(out);
        while session.poll_event().is_some() {}
    }
    let _ = session.receive_eof();
});
