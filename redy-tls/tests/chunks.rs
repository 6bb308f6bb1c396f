//! Any split of the incoming byte stream into chunks gives the same plaintext and events.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use redy_tls::{ClientConfig, Event, ServerConfig, TlsSession, TlsVersion};

struct Outcome {
    client_events: Vec<Event>,
    client_plaintext: Vec<u8>,
    server_events: Vec<Event>,
    server_plaintext: Vec<u8>,
}

const REQUEST_LEN: usize = 40_000;
const REPLY_LEN: usize = 70_000;

fn configs(v: TlsVersion) -> (ClientConfig, ServerConfig) {
    static C: OnceLock<[(ClientConfig, ServerConfig); 2]> = OnceLock::new();
    let all = C.get_or_init(|| {
        [TlsVersion::Tls12, TlsVersion::Tls13].map(|v| {
            (
                ClientConfig::builder(trust_ca())
                    .versions(v, v)
                    .build()
                    .unwrap(),
                server_config(),
            )
        })
    });
    let (c, s) = &all[usize::from(v == TlsVersion::Tls13)];
    // Fresh scopes: every run is a full handshake, so every run reports the same events.
    (c.new_scope(), s.new_scope())
}

/// A full exchange (request, reply, close_notify both ways, then EOF) where every byte stream
/// is delivered in chunks of the sizes in `cuts`, taken in turn.
fn exchange(v: TlsVersion, cuts: &[usize]) -> Outcome {
    let (client_config, server_config) = configs(v);
    let mut client = TlsSession::client(&client_config, "redy.local").unwrap();
    let mut server = TlsSession::server(&server_config).unwrap();
    let request: Vec<u8> = (0..REQUEST_LEN).map(|i| (i % 253) as u8).collect();
    let reply: Vec<u8> = (0..REPLY_LEN).map(|i| (i % 241) as u8).collect();
    let (mut c_sent, mut s_sent) = (0, 0);
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    let mut out = Outcome {
        client_events: vec![],
        client_plaintext: vec![],
        server_events: vec![],
        server_plaintext: vec![],
    };
    let mut cut = cuts.iter().cycle();
    for _ in 0..100_000 {
        if c_sent < request.len() {
            c_sent += client.send(&request[c_sent..]).unwrap();
            if c_sent == request.len() {
                client.close();
            }
        }
        if s_sent < reply.len() {
            s_sent += server.send(&reply[s_sent..]).unwrap();
            if s_sent == reply.len() {
                server.close();
            }
        }
        move_out(&mut client, &mut c2s);
        move_out(&mut server, &mut s2c);
        let idle = c2s.is_empty() && s2c.is_empty();
        deliver_chunk(&mut c2s, &mut server, *cut.next().unwrap());
        deliver_chunk(&mut s2c, &mut client, *cut.next().unwrap());
        out.client_plaintext.extend(drain_plaintext(&mut client));
        out.server_plaintext.extend(drain_plaintext(&mut server));
        out.client_events.extend(events(&mut client));
        out.server_events.extend(events(&mut server));
        if idle && c_sent == request.len() && s_sent == reply.len() {
            client.receive_eof().unwrap();
            server.receive_eof().unwrap();
            out.client_events.extend(events(&mut client));
            out.server_events.extend(events(&mut server));
            assert_same(&out.server_plaintext, &request);
            assert_same(&out.client_plaintext, &reply);
            return out;
        }
    }
    panic!("exchange did not finish");
}

fn move_out(from: &mut TlsSession, pipe: &mut Vec<u8>) {
    let bytes = from.transmit();
    let n = bytes.len();
    pipe.extend_from_slice(bytes);
    from.advance(n);
}

fn deliver_chunk(pipe: &mut Vec<u8>, to: &mut TlsSession, size: usize) {
    let n = size.min(pipe.len());
    let taken = to.receive(&pipe[..n]).unwrap();
    pipe.drain(..taken);
}

fn reference(v: TlsVersion) -> &'static Outcome {
    static R: OnceLock<[Outcome; 2]> = OnceLock::new();
    &R.get_or_init(|| [TlsVersion::Tls12, TlsVersion::Tls13].map(|v| exchange(v, &[usize::MAX])))
        [usize::from(v == TlsVersion::Tls13)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_split_gives_the_same_plaintext_and_events(
        cuts in proptest::collection::vec(prop_oneof![1usize..8, 1usize..600, 1usize..20_000], 1..40),
        tls13 in any::<bool>(),
    ) {
        let v = if tls13 { TlsVersion::Tls13 } else { TlsVersion::Tls12 };
        let want = reference(v);
        let got = exchange(v, &cuts);
        prop_assert_eq!(&got.client_events, &want.client_events);
        prop_assert_eq!(&got.server_events, &want.server_events);
        prop_assert!(got.client_plaintext == want.client_plaintext);
        prop_assert!(got.server_plaintext == want.server_plaintext);
    }
}

#[test]
fn the_reference_exchange_reports_handshake_then_clean_close() {
    for v in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let r = reference(v);
        for events in [&r.client_events, &r.server_events] {
            assert_eq!(events.len(), 2, "{events:?}");
            assert!(
                matches!(&events[0], Event::HandshakeComplete(info) if info.version == v && !info.resumed)
            );
            assert_eq!(events[1], Event::PeerClosed);
        }
    }
}
