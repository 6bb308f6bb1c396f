//! The session's life: data both ways, close_notify vs truncation, upgrades that refuse early
//! bytes, sticky errors that still send their alert, and bounded buffers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use redy_tls::{Error, Event, SEND_BUFFER_LIMIT, TlsSession};

fn established() -> Link {
    let link = Link::connect(&client_config(trust_ca()), "redy.local", &server_config());
    assert_eq!(link.errors(), (None, None));
    link
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// Sends all of `data` from `link.client` while the server reads, as a transport would.
fn transfer(link: &mut Link, data: &[u8]) -> Vec<u8> {
    let (mut sent, mut got) = (0, Vec::new());
    while sent < data.len() {
        sent += link.client.send(&data[sent..]).unwrap();
        got.extend(link.settle().1);
    }
    got
}

#[test]
fn four_mebibytes_arrive_intact_both_ways() {
    let mut link = established();
    let data = pattern(4 << 20);
    assert_same(&transfer(&mut link, &data), &data);
    let reply = pattern(1 << 20);
    let mut sent = 0;
    let mut got = Vec::new();
    while sent < reply.len() {
        sent += link.server.send(&reply[sent..]).unwrap();
        got.extend(link.settle().0);
    }
    assert_same(&got, &reply);
}

#[test]
fn close_notify_is_a_clean_end() {
    let mut link = established();
    events(&mut link.server);
    link.client.send(b"last words").unwrap();
    link.client.close();
    assert_eq!(link.client.send(b"more"), Err(Error::SendAfterClose));
    link.pump();
    assert!(link.client.is_flushed());
    assert_eq!(drain_plaintext(&mut link.server), b"last words");
    assert_eq!(events(&mut link.server), [Event::PeerClosed]);
    link.server.receive_eof().unwrap();
    assert_eq!(
        events(&mut link.server),
        [],
        "EOF after close_notify is no truncation"
    );
}

#[test]
fn close_during_the_handshake_waits_for_the_data_sent_meanwhile() {
    let client = TlsSession::client(&client_config(trust_ca()), "redy.local").unwrap();
    let mut link = Link::new(client, TlsSession::server(&server_config()).unwrap());
    link.client
        .send(b"sent before the handshake ended")
        .unwrap();
    link.client.close();
    link.pump();
    assert_eq!(link.errors(), (None, None));
    assert_eq!(
        drain_plaintext(&mut link.server),
        b"sent before the handshake ended"
    );
    assert!(matches!(
        events(&mut link.server)[..],
        [Event::HandshakeComplete(_), Event::PeerClosed]
    ));
}

#[test]
fn eof_without_close_notify_is_reported_as_truncation() {
    let mut link = established();
    events(&mut link.server);
    link.client.send(b"partial").unwrap();
    link.pump();
    link.server.receive_eof().unwrap();
    assert_eq!(events(&mut link.server), [Event::Truncated]);
    assert_eq!(
        drain_plaintext(&mut link.server),
        b"partial",
        "what did arrive is still readable"
    );
}

#[test]
fn eof_during_the_handshake_is_an_error() {
    let mut server = TlsSession::server(&server_config()).unwrap();
    let mut client = TlsSession::client(&client_config(trust_ca()), "redy.local").unwrap();
    let hello = client.transmit().to_vec();
    server.receive(&hello[..10]).unwrap();
    assert_eq!(server.receive_eof(), Err(Error::HandshakeEof));
}

#[test]
fn upgrade_refuses_bytes_left_over_from_the_plaintext_phase() {
    let client = client_config(trust_ca());
    let err = TlsSession::client_upgrade(&client, "redy.local", b"250 injected\r\n").unwrap_err();
    assert_eq!(err, Error::BytesBeforeHandshake(14));
    assert!(err.to_string().contains("injection"), "{err}");
    assert_eq!(
        TlsSession::server_upgrade(&server_config(), b"X").unwrap_err(),
        Error::BytesBeforeHandshake(1)
    );
}

#[test]
fn upgrade_refuses_plaintext_instead_of_a_handshake_and_never_processes_it() {
    let mut server = TlsSession::server_upgrade(&server_config(), b"").unwrap();
    let err = server
        .receive(b"MAIL FROM:<evil@example.com>\r\n")
        .unwrap_err();
    assert_eq!(err, Error::BytesBeforeHandshake(30));
    assert_eq!(events(&mut server), []);
    assert_eq!(server.plaintext(), Err(err.clone()));

    let mut client =
        TlsSession::client_upgrade(&client_config(trust_ca()), "redy.local", b"").unwrap();
    assert_eq!(
        client.receive(b"250 OK\r\n"),
        Err(Error::BytesBeforeHandshake(8))
    );
}

#[test]
fn an_upgraded_session_handshakes_normally() {
    let client = TlsSession::client_upgrade(&client_config(trust_ca()), "redy.local", b"").unwrap();
    let server = TlsSession::server_upgrade(&server_config(), b"").unwrap();
    let mut link = Link::new(client, server);
    link.pump();
    assert_eq!(link.errors(), (None, None));
    assert!(link.client.handshake().is_some());
}

#[test]
fn errors_are_sticky_and_the_alert_still_reaches_the_peer() {
    let mut link = Link::connect(
        &client_config(redy_certs::TrustPolicy::WebPkiRoots),
        "redy.local",
        &server_config(),
    );
    let err = link
        .client
        .error()
        .cloned()
        .expect("client refused the device certificate");
    assert_eq!(link.client.receive(b"\x16\x03\x03"), Err(err.clone()));
    assert_eq!(link.client.send(b"x"), Err(err.clone()));
    assert_eq!(link.client.plaintext(), Err(err.clone()));
    assert_eq!(link.client.receive_eof(), Err(err));
    assert!(
        matches!(link.server.error(), Some(Error::AlertReceived(a)) if a.contains("UnknownCA")),
        "{:?}",
        link.server.error()
    );
}

#[test]
fn garbage_from_the_peer_is_a_named_error() {
    let mut server = TlsSession::server(&server_config()).unwrap();
    let err = server
        .receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidMessage(_)), "{err}");
    assert!(
        !server.transmit().is_empty(),
        "an alert is queued for the peer"
    );
}

#[test]
fn receive_pushes_back_when_plaintext_is_not_read() {
    let mut link = established();
    let data = pattern(1 << 20);
    let mut sent = 0;
    while sent < data.len() {
        sent += link.server.send(&data[sent..]).unwrap();
        let out = link.server.transmit().to_vec();
        link.server.advance(out.len());
        // Feed everything to the client without reading its plaintext.
        let mut offered = &out[..];
        let mut got = Vec::new();
        while !offered.is_empty() {
            let n = link.client.receive(offered).unwrap();
            if n < offered.len() {
                let waiting = drain_plaintext(&mut link.client);
                assert!(
                    !waiting.is_empty(),
                    "partial take only when plaintext is waiting"
                );
                got.extend(waiting);
            }
            offered = &offered[n..];
        }
        got.extend(drain_plaintext(&mut link.client));
        assert!(!got.is_empty());
    }
}

#[test]
fn send_takes_a_bounded_amount_until_transmit_is_drained() {
    let mut link = established();
    let data = pattern(8 << 20);
    let mut taken = 0;
    loop {
        let n = link.client.send(&data[taken..]).unwrap();
        if n == 0 {
            break;
        }
        taken += n;
        let _ = link.client.transmit(); // encrypts, but nothing is written out
        assert!(taken < 4 * SEND_BUFFER_LIMIT, "send kept taking: {taken}");
    }
    let pending = link.client.transmit().len();
    assert!(
        (SEND_BUFFER_LIMIT..2 * SEND_BUFFER_LIMIT + 4096).contains(&pending),
        "{pending}"
    );
    // Draining lets it take more, and everything taken arrives.
    let mut got = link.settle().1;
    assert_same(&got, &data[..taken]);
    assert!(link.client.send(&data[taken..]).unwrap() > 0);
    got.extend(link.settle().1);
    assert_same(&got, &data[..got.len()]);
}

#[test]
fn send_all_queues_a_whole_message_and_fails_sticky_when_nothing_is_written_out() {
    let mut link = established();
    link.client.send_all(b"QUIT\r\n").unwrap();
    assert_eq!(link.settle().1, b"QUIT\r\n");
    // A caller that never writes transmit() out: the buffer fills, then send_all says so.
    let block = pattern(16 * 1024);
    let error = loop {
        match link.client.send_all(&block) {
            Ok(()) => {
                let _ = link.client.transmit(); // encrypts, but nothing is written out
            }
            Err(e) => break e,
        }
    };
    assert!(
        matches!(error, Error::SendBufferFull(n) if n >= SEND_BUFFER_LIMIT),
        "{error:?}"
    );
    assert!(error.to_string().contains("send buffer full"), "{error}");
    assert_eq!(link.client.send(b"x"), Err(error), "the error is sticky");
}

#[test]
fn partial_writes_of_transmit_lose_nothing() {
    let mut link = established();
    let data = pattern(300_000);
    let (mut sent, mut got) = (0, Vec::new());
    while sent < data.len() {
        sent += link.client.send(&data[sent..]).unwrap();
        // Write out at most 1,000 bytes at a time, as a congested socket would.
        loop {
            let out = link.client.transmit();
            let n = out.len().min(1000);
            if n == 0 {
                break;
            }
            let chunk = out[..n].to_vec();
            link.client.advance(n);
            assert_eq!(link.server.receive(&chunk).unwrap(), n);
            got.extend(drain_plaintext(&mut link.server));
        }
    }
    assert_same(&got, &data);
}

#[test]
fn a_bad_server_name_is_refused() {
    let err = TlsSession::client(&client_config(trust_ca()), "not a name").unwrap_err();
    assert_eq!(err, Error::InvalidServerName("not a name".into()));
}
