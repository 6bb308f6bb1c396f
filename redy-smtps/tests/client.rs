//! The SMTP client against scripted servers: transcripts, failures, and hostile servers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod fake;

use std::time::Duration;

use base64::Engine;
use fake::*;
use proptest::prelude::*;
use redy_smtps::{Credentials, Dsn, DsnNotify, DsnReturn, Envelope, Error, Event, Security};

const BODY: &[u8] =
    b"Subject: test\r\n\r\nline one\n.hidden dot line\r\n..two dots\rlast line without end";
const STORED: &[u8] =
    b"Subject: test\r\n\r\nline one\r\n.hidden dot line\r\n..two dots\r\nlast line without end\r\n";

fn envelope(to: &[&str]) -> Envelope {
    Envelope::new(
        "device@test".parse().unwrap(),
        to.iter().map(|a| a.parse().unwrap()).collect(),
    )
}

fn ready(session: &mut Session) {
    session.pump().unwrap();
    assert!(
        session.events.iter().any(|e| matches!(e, Event::Ready(_))),
        "{:?}",
        session.events
    );
}

fn commands(server: &FakeServer) -> Vec<&str> {
    server.log.iter().map(|(l, _)| l.as_str()).collect()
}

#[test]
fn pipelined_message_arrives_intact_and_quit_closes() {
    let server = FakeServer::new(
        false,
        "220 mail.test ESMTP\r\n",
        ordinary(&["PIPELINING", "8BITMIME", "SIZE 0"]),
    );
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    let mut env = envelope(&["a@test", "b@test"]);
    env.size = Some(BODY.len() as u64);
    env.eight_bit = true;
    s.send(&env, BODY).unwrap();
    assert_eq!(s.server.messages, [STORED.to_vec()]);
    let flight = String::from_utf8(s.server.flights[1].clone()).unwrap();
    assert_eq!(
        flight,
        format!(
            "MAIL FROM:<device@test> SIZE={} BODY=8BITMIME\r\nRCPT TO:<a@test>\r\nRCPT TO:<b@test>\r\nDATA\r\n",
            BODY.len()
        )
    );
    let recipients = s
        .events
        .iter()
        .filter(|e| matches!(e, Event::Recipient { reply, .. } if reply.code() == 250))
        .count();
    assert_eq!(recipients, 2);
    assert!(
        matches!(s.events.last(), Some(Event::Sent { reply, .. }) if reply.to_string().contains("queued as ABC123"))
    );
    s.client.quit(s.now).unwrap();
    s.pump().unwrap();
    assert_eq!(s.events.last(), Some(&Event::Closed));
    s.client.receive_eof(s.now).unwrap();
}

#[test]
fn dsn_parameters_when_offered_and_size_checked_before_sending() {
    let server = FakeServer::new(
        false,
        "220 mail.test\r\n",
        ordinary(&["PIPELINING", "DSN", "SIZE 1000"]),
    );
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    let mut env = envelope(&["a@test"]);
    env.dsn = Some(Dsn {
        ret: Some(DsnReturn::Headers),
        notify: vec![DsnNotify::Failure, DsnNotify::Delay],
    });
    env.size = Some(1001);
    assert_eq!(
        s.client.start_mail(&env, s.now),
        Err(Error::TooLarge {
            size: 1001,
            limit: 1000
        })
    );
    assert_eq!(
        s.server.log.len(),
        1,
        "nothing sent for a message the server cannot take"
    );
    env.size = Some(100);
    s.send(&env, b"hi").unwrap();
    assert_eq!(
        &commands(&s.server)[1..3],
        [
            "MAIL FROM:<device@test> SIZE=100 RET=HDRS",
            "RCPT TO:<a@test> NOTIFY=FAILURE,DELAY"
        ]
    );

    // Without DSN offered, nothing is added.
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&[]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    env.dsn = Some(Dsn::default());
    s.send(&env, b"hi").unwrap();
    assert_eq!(
        &commands(&s.server)[1..3],
        ["MAIL FROM:<device@test>", "RCPT TO:<a@test>"]
    );
}

#[test]
fn with_pipelining_the_next_message_follows_the_final_dot_and_events_name_their_message() {
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&["PIPELINING"]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    let first = s.client.start_mail(&envelope(&["a@test"]), s.now).unwrap();
    s.pump().unwrap();
    s.client.write_body(b"one", s.now).unwrap();
    s.client.finish_body(s.now).unwrap();
    // Without waiting for the final reply, the next message starts.
    let second = s
        .client
        .start_mail(&envelope(&["reject@test", "b@test"]), s.now)
        .unwrap();
    assert_ne!(first, second);
    s.pump().unwrap();
    let flight = s
        .server
        .flights
        .iter()
        .rev()
        .find(|f| f.starts_with(b"one"))
        .unwrap();
    assert_eq!(flight, b"one\r\n.\r\nMAIL FROM:<device@test>\r\nRCPT TO:<reject@test>\r\nRCPT TO:<b@test>\r\nDATA\r\n");
    s.client.write_body(b"two", s.now).unwrap();
    s.client.finish_body(s.now).unwrap();
    s.client.quit(s.now).unwrap();
    s.pump().unwrap();
    let outcomes: Vec<String> = s
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Recipient { id, address, reply } => {
                Some(format!("{id} {address} {}", reply.code()))
            }
            Event::Sent { id, .. } => Some(format!("{id} sent")),
            Event::Failed { id, .. } => Some(format!("{id} failed")),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            format!("{first} a@test 250"),
            format!("{first} sent"),
            format!("{second} reject@test 550"),
            format!("{second} b@test 250"),
            format!("{second} sent")
        ]
    );
    assert_eq!(
        s.server.messages,
        [b"one\r\n".to_vec(), b"two\r\n".to_vec()]
    );
    assert_eq!(s.events.last(), Some(&Event::Closed));
}

#[test]
fn without_pipelining_the_next_message_waits_for_the_final_reply() {
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&[]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    s.client.start_mail(&envelope(&["a@test"]), s.now).unwrap();
    s.pump().unwrap();
    s.client.write_body(b"one", s.now).unwrap();
    s.client.finish_body(s.now).unwrap();
    let err = s
        .client
        .start_mail(&envelope(&["a@test"]), s.now)
        .unwrap_err();
    assert!(
        matches!(err, Error::NotNow { state, .. } if state.contains("final reply")),
        "{err}"
    );
    s.pump().unwrap();
    s.client.start_mail(&envelope(&["a@test"]), s.now).unwrap();
}

#[test]
fn without_pipelining_commands_go_one_at_a_time() {
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&["8BITMIME"]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    s.send(&envelope(&["a@test", "b@test"]), BODY).unwrap();
    let has = |f: &[u8], what: &[u8]| f.windows(what.len()).any(|w| w == what);
    assert!(
        !s.server
            .flights
            .iter()
            .any(|f| has(f, b"MAIL") && has(f, b"RCPT")),
        "MAIL and RCPT in one flight"
    );
    assert_eq!(
        &commands(&s.server)[1..5],
        [
            "MAIL FROM:<device@test>",
            "RCPT TO:<a@test>",
            "RCPT TO:<b@test>",
            "DATA"
        ]
    );
    assert_eq!(s.server.messages, [STORED.to_vec()]);
}

#[test]
fn per_recipient_results_and_a_usable_session_after_failures() {
    for pipelining in [true, false] {
        let ext: &'static [&'static str] = if pipelining { &["PIPELINING"] } else { &[] };
        let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(ext));
        let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
        ready(&mut s);
        s.send(&envelope(&["reject@test", "ok@test"]), BODY)
            .unwrap();
        let results: Vec<(String, u16)> = s
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Recipient { address, reply, .. } => {
                    Some((address.to_string(), reply.code()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            results,
            [("reject@test".into(), 550), ("ok@test".into(), 250)]
        );
        assert!(matches!(s.events.last(), Some(Event::Sent { .. })));

        // Every recipient refused: the message fails, nothing is delivered, the session goes on.
        s.events.clear();
        s.send(&envelope(&["reject@test"]), BODY).unwrap();
        assert!(
            matches!(s.events.last(), Some(Event::Failed { reply, .. }) if reply.code() == 550),
            "{:?}",
            s.events
        );
        assert_eq!(s.server.messages.len(), 1);
        s.send(&envelope(&["ok@test"]), b"second").unwrap();
        assert!(
            matches!(s.events.last(), Some(Event::Sent { .. })),
            "pipelining={pipelining}: {:?}",
            s.events
        );
        assert_eq!(s.server.messages.len(), 2);
        assert!(commands(&s.server).contains(&"RSET"));
    }
}

#[test]
fn pipelined_data_accepted_without_recipients_is_ended_empty_and_reported_failed() {
    // RFC 2920 §3.1: a server may answer the pipelined DATA with 354 even though every RCPT
    // failed; the client must then send the lone dot and not report the message as sent.
    let mut inner = ordinary(&["PIPELINING"]);
    let mut valid = false;
    let server = FakeServer::new(
        false,
        "220 mail.test\r\n",
        Box::new(move |line: &str| match line {
            l if l.starts_with("RCPT") => {
                valid |= !l.contains("reject");
                inner(l)
            }
            "DATA" => "354 go ahead\r\n".into(),
            "." if !valid => "554 5.5.1 Error: no valid recipients\r\n".into(),
            l => inner(l),
        }),
    );
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    s.send(&envelope(&["reject@test"]), BODY).unwrap();
    assert!(
        matches!(s.events.last(), Some(Event::Failed { reply, .. }) if reply.code() == 550),
        "{:?}",
        s.events
    );
    assert!(
        !s.events
            .iter()
            .any(|e| matches!(e, Event::SendBody | Event::Sent { .. }))
    );
    assert_eq!(
        s.server.messages,
        [Vec::<u8>::new()],
        "only the empty body went out"
    );
    s.send(&envelope(&["ok@test"]), b"next").unwrap();
    assert!(
        matches!(s.events.last(), Some(Event::Sent { .. })),
        "{:?}",
        s.events
    );
}

#[test]
fn refused_sender_fails_the_transaction_with_the_servers_text() {
    let handler = ordinary(&["PIPELINING"]);
    let mut handler = handler;
    let server = FakeServer::new(
        false,
        "220 mail.test\r\n",
        Box::new(move |line: &str| match line {
            l if l.starts_with("MAIL") => {
                "553 5.7.1 <device@test>: Sender address rejected: not owned by user\r\n".into()
            }
            l if l.starts_with("RCPT") || l == "DATA" => {
                "503 5.5.1 Error: need MAIL command\r\n".into()
            }
            l => handler(l),
        }),
    );
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    s.send(&envelope(&["a@test"]), BODY).unwrap();
    let failed = s.events.iter().find_map(|e| match e {
        Event::Failed { reply, .. } => Some(reply.to_string()),
        _ => None,
    });
    assert_eq!(
        failed.as_deref(),
        Some("553 5.7.1 <device@test>: Sender address rejected: not owned by user")
    );
    assert!(
        !s.events
            .iter()
            .any(|e| matches!(e, Event::Recipient { .. } | Event::SendBody))
    );
    assert!(s.server.messages.is_empty());
}

#[test]
fn helo_when_ehlo_is_refused() {
    let mut inner = ordinary(&[]);
    let server = FakeServer::new(
        false,
        "220 old.test\r\n",
        Box::new(move |line: &str| match line {
            l if l.starts_with("EHLO") => "502 5.5.2 what?\r\n".into(),
            l => inner(l),
        }),
    );
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    assert_eq!(
        &commands(&s.server)[..2],
        ["EHLO device.test", "HELO device.test"]
    );
    s.send(&envelope(&["a@test"]), BODY).unwrap();
    assert_eq!(s.server.messages.len(), 1);
}

fn auth_server(expect_plain: String) -> Handler {
    let mut inner = ordinary(&["PIPELINING", "AUTH PLAIN LOGIN"]);
    Box::new(move |line: &str| match line {
        l if l.starts_with("AUTH PLAIN ") && l[11..] == expect_plain => {
            "235 2.7.0 Authentication successful\r\n".into()
        }
        l if l.starts_with("AUTH") => {
            "535 5.7.8 Error: authentication failed: bad password\r\n".into()
        }
        l => inner(l),
    })
}

fn plain_token(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

#[test]
fn implicit_tls_with_auth_plain_and_wrong_password() {
    let good = |pw: &str| {
        let server = FakeServer::new(
            true,
            "220 mail.test ESMTP\r\n",
            auth_server(plain_token("device@test", "s3cret")),
        );
        let cfg = config(Security::ImplicitTls).credentials(Credentials::Password {
            user: "device@test".into(),
            password: pw.into(),
        });
        let mut s = Session::new(cfg, server);
        let result = s.pump();
        (s, result)
    };
    let (mut s, result) = good("s3cret");
    result.unwrap();
    assert!(matches!(s.events[0], Event::TlsEstablished(_)));
    assert!(
        s.server.log.iter().all(|(_, tls)| *tls),
        "everything over TLS"
    );
    s.send(&envelope(&["a@test"]), BODY).unwrap();
    assert_eq!(s.server.messages, [STORED.to_vec()]);

    let (s, result) = good("wrong");
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::AuthFailed(r) if r.code() == 535),
        "{err}"
    );
    assert!(err.to_string().contains("bad password"), "{err}");
    assert_eq!(s.client.error(), Some(&err), "sticky");
}

#[test]
fn auth_login_answers_both_challenges() {
    let mut inner = ordinary(&["AUTH LOGIN"]);
    let mut step = 0;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (user, pass) = (b64("device@test"), b64("pw"));
    let server = FakeServer::new(
        true,
        "220 mail.test\r\n",
        Box::new(move |line: &str| {
            step += 1;
            match (step, line) {
                (_, "AUTH LOGIN") => "334 VXNlcm5hbWU6\r\n".into(),
                (_, l) if l == user => "334 UGFzc3dvcmQ6\r\n".into(),
                (_, l) if l == pass => "235 2.7.0 ok\r\n".into(),
                (_, l) => inner(l),
            }
        }),
    );
    let cfg = config(Security::ImplicitTls).credentials(Credentials::Password {
        user: "device@test".into(),
        password: "pw".into(),
    });
    let mut s = Session::new(cfg, server);
    ready(&mut s);
}

#[test]
fn xoauth2_sends_the_token_and_reads_the_error_after_an_empty_line() {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let token = b64("user=device@test\x01auth=Bearer good-token\x01\x01");
    for (bearer, ok) in [("good-token", true), ("expired-token", false)] {
        let mut inner = ordinary(&["AUTH XOAUTH2 PLAIN"]);
        let token = token.clone();
        let server = FakeServer::new(
            true,
            "220 mail.test\r\n",
            Box::new(move |line: &str| match line {
                l if l.starts_with("AUTH XOAUTH2 ") && l[13..] == token => {
                    "235 2.7.0 Accepted\r\n".into()
                }
                l if l.starts_with("AUTH XOAUTH2 ") => "334 eyJzdGF0dXMiOiI0MDEifQ==\r\n".into(),
                "" => "535 5.7.8 Username and Password not accepted\r\n".into(),
                l => inner(l),
            }),
        );
        let cfg = config(Security::ImplicitTls).credentials(Credentials::OAuth2 {
            user: "device@test".into(),
            token: bearer.into(),
        });
        let mut s = Session::new(cfg, server);
        let result = s.pump();
        match ok {
            true => {
                assert!(result.is_ok() && s.events.iter().any(|e| matches!(e, Event::Ready(_))))
            }
            false => {
                assert!(
                    matches!(result, Err(Error::AuthFailed(ref r)) if r.code() == 535),
                    "{result:?}"
                );
                assert_eq!(
                    s.server.log.last().map(|(l, _)| l.as_str()),
                    Some(""),
                    "empty line after the 334"
                );
            }
        }
    }
    // A token is never offered to a server without XOAUTH2.
    let server = FakeServer::new(true, "220 mail.test\r\n", ordinary(&["AUTH PLAIN LOGIN"]));
    let cfg = config(Security::ImplicitTls).credentials(Credentials::OAuth2 {
        user: "u".into(),
        token: "t".into(),
    });
    let err = Session::new(cfg, server).pump().unwrap_err();
    assert!(matches!(err, Error::NoAuthMechanism { .. }), "{err}");
}

#[test]
fn noop_keeps_the_session_and_is_answered() {
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&[]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    s.client.noop(s.now).unwrap();
    s.pump().unwrap();
    assert_eq!(s.events.last(), Some(&Event::NoopDone));
    s.send(&envelope(&["a@test"]), b"after noop").unwrap();
    assert!(matches!(s.events.last(), Some(Event::Sent { .. })));
}

#[test]
fn starttls_relearns_capabilities_and_credentials_wait_for_tls() {
    let mut inner = ordinary(&[]);
    let server = FakeServer::new(
        false,
        "220 mail.test\r\n",
        Box::new(move |line: &str| match line {
            // Before TLS: STARTTLS only. After: AUTH and PIPELINING.
            l if l.starts_with("EHLO") => {
                "250-mail.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n".into()
            }
            l => inner(l),
        }),
    );
    let cfg = config(Security::StartTlsRequired).credentials(Credentials::Password {
        user: "u".into(),
        password: "p".into(),
    });
    let mut s = Session::new(cfg, server);
    ready(&mut s);
    let log: Vec<(&str, bool)> = s.server.log.iter().map(|(l, t)| (l.as_str(), *t)).collect();
    assert_eq!(
        log[..3],
        [
            ("EHLO device.test", false),
            ("STARTTLS", false),
            ("EHLO device.test", true)
        ]
    );
    assert!(
        log[3].0.starts_with("AUTH PLAIN") && log[3].1,
        "AUTH only after TLS: {log:?}"
    );
}

#[test]
fn bytes_after_the_starttls_220_are_refused_as_injection() {
    let mut inner = ordinary(&["STARTTLS"]);
    let server = FakeServer::new(
        false,
        "220 mail.test\r\n",
        Box::new(move |line: &str| match line {
            // A man in the middle appends a forged reply to the 220, in the same packet.
            "STARTTLS" => "220 2.0.0 go ahead\r\n250 2.0.0 forged\r\n".into(),
            l => inner(l),
        }),
    );
    let mut s = Session::new(config(Security::StartTlsRequired), server);
    let err = s.pump().unwrap_err();
    assert_eq!(
        err,
        Error::Tls(redy_tls::Error::BytesBeforeHandshake(
            "250 2.0.0 forged\r\n".len()
        ))
    );
    assert!(err.to_string().contains("injection"));
    assert!(!s.events.iter().any(|e| matches!(e, Event::Ready(_))));
}

#[test]
fn required_starttls_not_offered_or_refused_ends_the_session_with_nothing_sent() {
    let not_offered = FakeServer::new(
        false,
        "220 mail.test\r\n",
        ordinary(&["PIPELINING", "AUTH PLAIN"]),
    );
    let cfg = config(Security::StartTlsRequired).credentials(Credentials::Password {
        user: "u".into(),
        password: "p".into(),
    });
    let mut s = Session::new(cfg.clone(), not_offered);
    let err = s.pump().unwrap_err();
    assert!(
        matches!(&err, Error::TlsUnavailable { why } if why.contains("does not offer STARTTLS")),
        "{err}"
    );
    assert_eq!(
        commands(&s.server),
        ["EHLO device.test"],
        "nothing but EHLO in clear"
    );

    let mut inner = ordinary(&["STARTTLS"]);
    let refuses = FakeServer::new(
        false,
        "220 mail.test\r\n",
        Box::new(move |line: &str| match line {
            "STARTTLS" => "454 4.7.0 TLS not available due to local problem\r\n".into(),
            l => inner(l),
        }),
    );
    let mut s = Session::new(cfg, refuses);
    let err = s.pump().unwrap_err();
    assert!(
        matches!(&err, Error::TlsUnavailable { why } if why.contains("454 4.7.0 TLS not available")),
        "{err}"
    );
    assert_eq!(commands(&s.server), ["EHLO device.test", "STARTTLS"]);
}

#[test]
fn opportunistic_mode_says_loudly_that_it_continues_in_clear() {
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&["PIPELINING"]));
    let mut s = Session::new(
        config(Security::StartTlsOpportunisticMaySendInClear),
        server,
    );
    ready(&mut s);
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::TlsSkipped { reason } if reason.contains("CLEAR TEXT")))
    );

    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&["AUTH PLAIN"]));
    let cfg =
        config(Security::StartTlsOpportunisticMaySendInClear).credentials(Credentials::Password {
            user: "u".into(),
            password: "p".into(),
        });
    let mut s = Session::new(cfg, server);
    assert_eq!(s.pump().unwrap_err(), Error::CredentialsWithoutTls);
    assert!(!commands(&s.server).iter().any(|c| c.starts_with("AUTH")));
}

#[test]
fn a_one_mebibyte_reply_line_is_refused_without_buffering_it() {
    let mut server = FakeServer::new(false, "", ordinary(&[]));
    server.inject(&vec![b'2'; 1 << 20]);
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    assert_eq!(
        s.pump().unwrap_err(),
        Error::LineTooLong {
            limit: redy_smtps::reply::MAX_LINE
        }
    );
}

#[test]
fn inconsistent_multiline_codes_are_refused() {
    let mut inner = ordinary(&[]);
    let server = FakeServer::new(
        false,
        "220 mail.test\r\n",
        Box::new(move |line: &str| match line {
            l if l.starts_with("EHLO") => "250-mail.test\r\n550 PIPELINING\r\n".into(),
            l => inner(l),
        }),
    );
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    assert_eq!(
        s.pump().unwrap_err(),
        Error::InconsistentCodes {
            first: 250,
            then: 550
        }
    );
}

#[test]
fn a_silent_server_trips_the_deadline() {
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&["PIPELINING"]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    ready(&mut s);
    s.server.answering = false;
    s.client.start_mail(&envelope(&["a@test"]), s.now).unwrap();
    s.pump().unwrap();
    let deadline = s.client.poll_timeout().unwrap();
    assert_eq!(
        deadline - s.now,
        Duration::from_secs(300),
        "MAIL timeout is 5 minutes"
    );
    s.advance_time(Duration::from_secs(299)).unwrap();
    let err = s.advance_time(Duration::from_secs(1)).unwrap_err();
    assert_eq!(err, Error::Timeout("the MAIL FROM reply"));
    assert_eq!(
        s.client.start_mail(&envelope(&["a@test"]), s.now),
        Err(err),
        "sticky"
    );
}

#[test]
fn greeting_timeout_and_refusal() {
    let mut server = FakeServer::new(false, "", ordinary(&[]));
    server.answering = false;
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    s.pump().unwrap();
    assert_eq!(
        s.advance_time(Duration::from_secs(300)),
        Err(Error::Timeout("the greeting"))
    );

    let server = FakeServer::new(false, "554 5.7.1 no service for you\r\n", ordinary(&[]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    assert!(matches!(s.pump(), Err(Error::Refused(r)) if r.code() == 554));
}

#[test]
fn eof_before_221_is_an_error_and_after_it_is_not() {
    let server = FakeServer::new(true, "220 mail.test\r\n", ordinary(&[]));
    let mut s = Session::new(config(Security::ImplicitTls), server);
    ready(&mut s);
    assert_eq!(
        s.client.receive_eof(s.now),
        Err(Error::ConnectionClosed("the next reply"))
    );

    // After 221 the server may drop the connection without TLS close_notify: a normal end.
    let server = FakeServer::new(true, "220 mail.test\r\n", ordinary(&[]));
    let mut s = Session::new(config(Security::ImplicitTls), server);
    ready(&mut s);
    s.client.quit(s.now).unwrap();
    s.pump().unwrap();
    assert_eq!(s.events.last(), Some(&Event::Closed));
    assert!(
        s.server.closed_by_client,
        "our close_notify reached the server"
    );
    assert_eq!(s.client.receive_eof(s.now), Ok(()));
}

#[test]
fn calls_out_of_order_are_refused_with_the_state() {
    let server = FakeServer::new(false, "220 mail.test\r\n", ordinary(&[]));
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    let err = s
        .client
        .start_mail(&envelope(&["a@test"]), s.now)
        .unwrap_err();
    assert!(matches!(err, Error::NotNow { state, .. } if state.contains("opening")));
    assert!(matches!(
        s.client.write_body(b"x", s.now),
        Err(Error::NotNow { .. })
    ));
}

fn run_transcript(cuts: Vec<usize>) -> (Vec<Event>, Vec<Vec<u8>>) {
    let server = FakeServer::new(
        false,
        "220 mail.test\r\n",
        ordinary(&["PIPELINING", "8BITMIME"]),
    );
    let mut s = Session::new(config(Security::InsecurePlainForLocalTests), server);
    s.cuts = cuts;
    ready(&mut s);
    s.send(&envelope(&["reject@test", "ok@test"]), BODY)
        .unwrap();
    s.send(&envelope(&["reject@test"]), BODY).unwrap();
    s.client.quit(s.now).unwrap();
    s.pump().unwrap();
    (s.events, s.server.messages)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_split_of_the_servers_bytes_gives_the_same_events(cuts in proptest::collection::vec(1usize..40, 1..20)) {
        let whole = run_transcript(Vec::new());
        prop_assert_eq!(run_transcript(cuts), whole);
    }
}
