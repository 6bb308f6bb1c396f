//! The FTPS client against a scripted in-memory server: transcripts, transfers, and the
//! faults a real network brings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake;
mod pki;

use std::time::Duration;

use fake::{AborStyle, FakeServer, Pair, config, pki};
use redy_ftps::client::{
    Action, Channel, DataError, Error, Event, ListFormat, OpError, Outcome, Security,
};
use redy_ftps::codec::listing::EntryKind;
use redy_tls::TlsVersion;
use redy_tls::redy_certs::TrustPolicy;

fn ready(security: Security) -> Pair {
    let mut pair = Pair::new(security);
    pair.run().unwrap();
    assert!(pair.client.is_ready(), "events: {:?}", pair.events);
    pair
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn implicit_login_sets_protection_and_binary_after_login() {
    let pair = ready(Security::ImplicitTls);
    assert_eq!(
        pair.server.log,
        [
            "USER \"plc\"",
            "PASS <hidden>",
            "FEAT",
            "OPTS \"UTF8 ON\"",
            "PBSZ \"0\"",
            "PROT \"P\"",
            "TYPE \"I\""
        ]
    );
    assert!(matches!(pair.events[0], Event::TlsEstablished(_)));
    assert!(pair.events.contains(&Event::Ready));
    assert!(pair.client.features().utf8 && pair.client.features().epsv);
}

#[test]
fn explicit_sends_auth_tls_first_and_credentials_only_over_tls() {
    let pair = ready(Security::ExplicitTls);
    assert_eq!(pair.server.log[0], "AUTH \"TLS\"");
    assert_eq!(pair.server.log[1], "USER \"plc\"");
    assert!(matches!(pair.events[0], Event::TlsEstablished(_)));
}

#[test]
fn bytes_after_234_before_tls_are_refused() {
    let mut server = FakeServer::new(Security::ExplicitTls);
    server.faults.after_auth = Some(b"230 injected\r\n".to_vec());
    let mut pair = Pair::with(config(Security::ExplicitTls), server);
    let error = pair.run().unwrap_err();
    assert!(
        matches!(error, Error::Tls(redy_tls::Error::BytesBeforeHandshake(_))),
        "{error}"
    );
    assert_eq!(
        pair.server.log,
        ["AUTH \"TLS\""],
        "no USER or PASS after the injection"
    );
}

#[test]
fn wrong_password_names_the_reply() {
    let mut cfg = config(Security::ImplicitTls);
    cfg.password = "wrong".into();
    let mut pair = Pair::with(cfg, FakeServer::new(Security::ImplicitTls));
    let error = pair.run().unwrap_err();
    assert_eq!(error.to_string(), "login refused: 530 Login incorrect.");
}

#[test]
fn untrusted_certificate_ends_the_session_before_any_command() {
    let other = redy_certs::DeviceCa::generate(
        &"99999-00000".parse().unwrap(),
        std::time::SystemTime::now(),
    )
    .unwrap();
    let mut cfg = config(Security::ImplicitTls);
    cfg.tls = redy_tls::ClientConfig::builder(redy_certs::TrustPolicy::CaCertificates(vec![
        other.certificate().clone(),
    ]))
    .build()
    .unwrap();
    let mut pair = Pair::with(cfg, FakeServer::new(Security::ImplicitTls));
    let error = pair.run().unwrap_err();
    assert!(
        matches!(error, Error::Tls(redy_tls::Error::Certificate(_))),
        "{error}"
    );
    assert!(pair.server.log.is_empty());
}

#[test]
fn upload_then_download_round_trips_and_every_data_connection_resumes() {
    let mut pair = ready(Security::ImplicitTls);
    for (i, len) in [0usize, 1, 100_000, 300_000].into_iter().enumerate() {
        let body = pseudo_random(len, i as u64 + 1);
        let name = format!("f{i}.bin");
        let up = pair.client.store(&name, 0, pair.now).unwrap();
        pair.uploads.insert(up, body.clone());
        pair.run().unwrap();
        assert!(
            matches!(pair.done(up), Some(Outcome::Transferred { bytes, .. }) if *bytes == len as u64),
            "{:?}",
            pair.events
        );
        assert_eq!(pair.server.files[&name], body);
        let down = pair.client.retrieve(&name, 0, pair.now).unwrap();
        pair.run().unwrap();
        assert!(
            matches!(pair.done(down), Some(Outcome::Transferred { .. })),
            "{:?}",
            pair.failed(down)
        );
        assert_eq!(pair.downloads.remove(&down).unwrap_or_default(), body);
    }
    assert_eq!(pair.server.resumed.len(), 8);
    assert!(
        pair.server.resumed.iter().all(|r| *r),
        "{:?}",
        pair.server.resumed
    );
}

#[test]
fn upload_is_done_only_after_close_notify_and_226() {
    let mut pair = ready(Security::ImplicitTls);
    let up = pair.client.store("x.bin", 0, pair.now).unwrap();
    pair.uploads.insert(up, vec![7; 1000]);
    pair.run().unwrap();
    let shutdown = pair
        .actions
        .iter()
        .position(|a| matches!(a, Action::Shutdown { .. }));
    assert!(
        shutdown.is_some(),
        "the data connection is shut down after close_notify: {:?}",
        pair.actions
    );
    assert!(pair.done(up).is_some());
}

#[test]
fn truncated_download_is_an_error_even_when_the_server_says_226() {
    let mut pair = ready(Security::ImplicitTls);
    pair.server
        .files
        .insert("big.bin".into(), pseudo_random(50_000, 9));
    pair.server.faults.cut_download_after = Some(10_000);
    let id = pair.client.retrieve("big.bin", 0, pair.now).unwrap();
    pair.run().unwrap();
    assert!(
        matches!(
            pair.failed(id),
            Some(OpError::Data(DataError::Truncated { .. }))
        ),
        "{:?}",
        pair.events
    );
    assert!(pair.done(id).is_none());
    // The session goes on.
    pair.server.faults.cut_download_after = None;
    let again = pair.client.retrieve("big.bin", 0, pair.now).unwrap();
    pair.run().unwrap();
    assert!(pair.done(again).is_some(), "{:?}", pair.failed(again));
    assert_eq!(pair.downloads[&again].len(), 50_000);
}

#[test]
fn rest_resumes_a_download_at_the_offset() {
    let mut pair = ready(Security::ImplicitTls);
    let file = pseudo_random(20_000, 3);
    pair.server.files.insert("log.csv".into(), file.clone());
    let id = pair.client.retrieve("log.csv", 12_345, pair.now).unwrap();
    pair.run().unwrap();
    assert!(pair.server.log.contains(&"REST \"12345\"".to_owned()));
    assert_eq!(pair.downloads[&id], file[12_345..]);
}

#[test]
fn tickets_spent_says_when_the_next_data_connection_could_not_resume() {
    let mut pair = ready(Security::ImplicitTls);
    pair.server.files.insert("a".into(), vec![7; 1000]);
    pair.server.faults.no_data_tickets = true;
    // The login brought rustls' two TLS 1.3 tickets; data connections bring none.
    for i in 0..2 {
        assert!(!pair.client.tickets_spent(), "transfer {i}");
        let id = pair.client.retrieve("a", 0, pair.now).unwrap();
        pair.run().unwrap();
        assert!(pair.done(id).is_some(), "{:?}", pair.failed(id));
    }
    assert!(pair.client.tickets_spent());
    let id = pair.client.retrieve("a", 0, pair.now).unwrap();
    pair.run().unwrap();
    let error = pair.failed(id).expect("the server requires reuse");
    assert!(error.to_string().contains("tickets_spent"), "{error}");
    assert_eq!(pair.server.resumed[..2], [true, true]);
}

#[test]
fn tls12_sessions_never_spend_their_tickets() {
    let trust = TrustPolicy::CaCertificates(vec![pki().ca.certificate().clone()]);
    let mut config = config(Security::ImplicitTls);
    config.tls = redy_tls::ClientConfig::builder(trust)
        .versions(TlsVersion::Tls12, TlsVersion::Tls12)
        .build()
        .unwrap();
    let mut server = FakeServer::new(Security::ImplicitTls);
    server.files.insert("a".into(), vec![7; 1000]);
    server.faults.no_data_tickets = true;
    let mut pair = Pair::with(config, server);
    pair.run().unwrap();
    for _ in 0..4 {
        assert!(!pair.client.tickets_spent());
        let id = pair.client.retrieve("a", 0, pair.now).unwrap();
        pair.run().unwrap();
        assert!(pair.done(id).is_some(), "{:?}", pair.failed(id));
    }
    assert_eq!(pair.server.resumed, [true; 4]);
}

#[test]
fn data_connection_without_reuse_is_reported_as_such() {
    let mut pair = ready(Security::ImplicitTls);
    pair.server.files.insert("a".into(), vec![1; 10]);
    pair.server.faults.refuse_reuse = true;
    let id = pair.client.retrieve("a", 0, pair.now).unwrap();
    pair.run().unwrap();
    let error = pair.failed(id).expect("failed");
    assert!(
        matches!(error, OpError::Data(DataError::ReuseRequired(_))),
        "{error}"
    );
    assert!(error.to_string().contains("session reuse"), "{error}");
    // A usable session afterwards.
    let noop = pair.client.noop(pair.now).unwrap();
    pair.run().unwrap();
    assert!(pair.done(noop).is_some());
}

#[test]
fn pasv_address_is_ignored_unless_trusted() {
    for trust in [false, true] {
        let mut server = FakeServer::new(Security::ImplicitTls);
        server.faults.no_epsv = true;
        server.faults.pasv_addr = Some("10,9,8,7,156,66".into());
        server.files.insert("a".into(), vec![1; 10]);
        let mut cfg = config(Security::ImplicitTls);
        cfg.trust_pasv_address = trust;
        let mut pair = Pair::with(cfg, server);
        pair.run().unwrap();
        let id = pair.client.retrieve("a", 0, pair.now).unwrap();
        pair.run().unwrap();
        let connect = pair
            .actions
            .iter()
            .find_map(|a| match a {
                Action::Connect { addr, .. } => Some(addr.to_string()),
                _ => None,
            })
            .unwrap();
        let expected = if trust {
            "10.9.8.7:40002"
        } else {
            "192.0.2.21:40002"
        };
        assert_eq!(connect, expected);
        assert!(
            pair.server.log.contains(&"PASV".to_owned()),
            "EPSV refused, PASV used"
        );
        assert!(pair.done(id).is_some());
    }
}

#[test]
fn listing_is_parsed_into_entries() {
    let mut pair = ready(Security::ImplicitTls);
    let id = pair
        .client
        .list(
            None,
            ListFormat::List,
            std::time::SystemTime::now(),
            pair.now,
        )
        .unwrap();
    pair.run().unwrap();
    let entries: Vec<_> = pair
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Entry { id: i, entry } if *i == id => Some(entry.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].name, "journal.csv");
    assert_eq!(entries[0].size, Some(1024));
    assert_eq!(entries[1].kind, EntryKind::Directory);
    assert!(pair.done(id).is_some());
}

#[test]
fn simple_commands_give_typed_outcomes() {
    let mut pair = ready(Security::ImplicitTls);
    pair.server.files.insert("a.bin".into(), vec![0; 4242]);
    let size = pair.client.size("a.bin", pair.now).unwrap();
    let missing = pair.client.size("nope", pair.now).unwrap();
    let pwd = pair.client.pwd(pair.now).unwrap();
    let mv = pair.client.rename("a.bin", "b.bin", pair.now).unwrap();
    pair.run()
        .unwrap_or_else(|e| panic!("{e}: {:?} {:?}", pair.server.log, pair.events));
    assert_eq!(pair.done(size), Some(&Outcome::Size(4242)));
    assert_eq!(
        pair.failed(missing).unwrap().to_string(),
        "server refused: 550 Could not get file size."
    );
    assert_eq!(pair.done(pwd), Some(&Outcome::Path("/home/plc".into())));
    assert!(matches!(pair.done(mv), Some(Outcome::Reply(r)) if r.code() == 250));
    assert!(
        pair.server
            .log
            .ends_with(&["RNFR \"a.bin\"".to_owned(), "RNTO \"b.bin\"".to_owned()])
    );
}

#[test]
fn paths_with_line_breaks_are_refused_before_sending() {
    let mut pair = ready(Security::ImplicitTls);
    let error = pair.client.delete("x\r\nDELE y", pair.now).unwrap_err();
    assert!(matches!(error, Error::Argument(_)));
    assert!(pair.client.error().is_none(), "the session is not harmed");
}

#[test]
fn a_silent_server_times_out() {
    let mut server = FakeServer::new(Security::ImplicitTls);
    server.faults.silent_after = Some(2);
    let mut pair = Pair::with(config(Security::ImplicitTls), server);
    pair.run().unwrap();
    assert!(!pair.client.is_ready());
    let deadline = pair.client.poll_timeout().unwrap();
    pair.advance_time(deadline - pair.now + Duration::from_millis(1));
    assert_eq!(pair.client.error(), Some(&Error::Timeout("the FEAT reply")));
}

#[test]
fn quit_closes_the_control_connection() {
    let mut pair = ready(Security::ImplicitTls);
    pair.client.quit(pair.now).unwrap();
    pair.run().unwrap();
    assert!(pair.events.contains(&Event::Closed));
    assert!(pair.actions.contains(&Action::Close {
        channel: Channel::Control
    }));
    assert!(pair.client.noop(pair.now).is_err(), "nothing after QUIT");
    let _ = pki();
}

/// What a user of the machine sees of a session: each operation's outcome, the bytes
/// downloaded, the entries listed.
fn script(cuts: Vec<usize>) -> (Vec<String>, Vec<Vec<u8>>) {
    let mut pair = Pair::new(Security::ExplicitTls);
    pair.cuts = cuts;
    pair.run().unwrap();
    assert!(pair.client.is_ready(), "{:?}", pair.events);
    let body = pseudo_random(70_000, 9);
    let up = pair.client.store("f.bin", 0, pair.now).unwrap();
    pair.uploads.insert(up, body.clone());
    pair.run().unwrap();
    let down = pair.client.retrieve("f.bin", 0, pair.now).unwrap();
    pair.run().unwrap();
    let rest = pair.client.retrieve("f.bin", 65_000, pair.now).unwrap();
    pair.run().unwrap();
    let list = pair.client.list(
        None,
        ListFormat::List,
        std::time::SystemTime::UNIX_EPOCH,
        pair.now,
    );
    pair.run().unwrap();
    let pwd = pair.client.pwd(pair.now).unwrap();
    pair.run().unwrap();
    let seen = [up, down, rest, list.unwrap(), pwd]
        .map(|id| match (pair.done(id), pair.failed(id)) {
            (Some(outcome), _) => format!("{outcome:?}"),
            (_, Some(error)) => format!("failed: {error}"),
            _ => "pending".to_owned(),
        })
        .into_iter()
        .chain(pair.events.iter().filter_map(|e| match e {
            Event::Entry { entry, .. } => Some(format!("{entry:?}")),
            _ => None,
        }))
        .collect();
    let downloads = [down, rest].map(|id| pair.downloads.remove(&id).unwrap_or_default());
    assert_eq!(downloads[0], body);
    (seen, downloads.to_vec())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Control replies and data bytes cut anywhere give the same outcomes and bytes.
    #[test]
    fn any_split_of_the_server_bytes_gives_the_same_session(
        cuts in proptest::collection::vec(1usize..3000, 1..12)
    ) {
        proptest::prop_assert_eq!(script(cuts), script(Vec::new()));
    }
}

/// Servers answer ABOR in three ways; each leaves the session in step (the next replies go to
/// the next commands).
#[test]
fn abort_keeps_replies_in_step_whatever_the_server_answers() {
    for style in [AborStyle::Rfc, AborStyle::Combined, AborStyle::Reversed] {
        let mut pair = ready(Security::ImplicitTls);
        pair.server.faults.abor = style;
        let file = pseudo_random(2_000_000, 5);
        pair.server.files.insert("big".into(), file.clone());
        let id = pair.client.retrieve("big", 0, pair.now).unwrap();
        // Stop the pair once the download started, then abort it.
        for _ in 0..50 {
            pair.run_once();
            if pair.downloads.get(&id).is_some_and(|d| !d.is_empty()) {
                break;
            }
        }
        pair.client.abort(pair.now).unwrap();
        pair.run().unwrap();
        assert!(
            matches!(pair.failed(id), Some(OpError::Aborted)),
            "{style:?}: {:?}",
            pair.events
        );
        let pwd = pair.client.pwd(pair.now).unwrap();
        pair.run().unwrap();
        assert!(
            matches!(pair.done(pwd), Some(Outcome::Path(p)) if p == "/home/plc"),
            "{style:?}: {:?}",
            pair.events
        );
        let again = pair.client.retrieve("big", 0, pair.now).unwrap();
        pair.run().unwrap();
        assert!(
            pair.done(again).is_some(),
            "{style:?}: {:?}",
            pair.failed(again)
        );
        assert!(pair.downloads[&again] == file, "{style:?}");
    }
}
