//! The server machine's control connection: logins explicit and implicit, AUTH TLS before
//! USER, hostile command lines, failed logins, timeouts. Virtual time, in memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_harness;

use std::time::Duration;

use redy_ftps::codec::command::MAX_COMMAND_LINE;
use redy_ftps::server::{Action, Channel, Event, Request, Security, ServerError, ServerSession};
use redy_tls::TlsVersion;
use server_harness::{CLIENT, Client, SERVER, server_config};

const VERSIONS: [TlsVersion; 2] = [TlsVersion::Tls12, TlsVersion::Tls13];

#[test]
fn explicit_login_after_auth_tls() {
    for version in VERSIONS {
        let mut c = Client::explicit(version);
        let greeting = c.next_reply();
        assert_eq!(greeting.code(), 220);
        let feat = c.cmd("FEAT");
        assert_eq!(feat.code(), 211);
        for feature in [
            " AUTH TLS",
            " PBSZ",
            " PROT",
            " EPSV",
            " MLST type*;size*;modify*;perm*;",
        ] {
            assert!(
                feat.lines().iter().any(|l| l == feature),
                "{feature} in {feat:?}"
            );
        }
        c.login();
        assert!(
            c.events
                .iter()
                .any(|e| matches!(e, Event::LoggedIn { user } if user == "plc"))
        );
        let tls = c.events.iter().find_map(|e| match e {
            Event::TlsEstablished {
                channel: Channel::Control,
                info,
            } => Some(info.clone()),
            _ => None,
        });
        assert_eq!(tls.unwrap().version, version);
        assert_eq!(c.server.user(), Some("plc"));
        assert_eq!(
            c.cmd("PWD").to_string(),
            "257 \"/\" is the current directory"
        );
        assert_eq!(c.cmd("SYST").code(), 215);
        assert_eq!(c.cmd("TYPE I").code(), 200);
        assert_eq!(c.cmd("QUIT").code(), 221);
        assert!(c.control_closed, "CloseControl after 221 and close_notify");
        assert!(c.server.is_closed());
        // The Command events never show the password.
        let commands: Vec<String> = c
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Command(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        assert!(
            commands.contains(&"PASS <hidden>".to_owned()),
            "{commands:?}"
        );
        assert!(!commands.iter().any(|c| c.contains("s3cret")));
    }
}

#[test]
fn implicit_login_starts_with_tls() {
    for version in VERSIONS {
        let mut c = Client::implicit(version);
        assert_eq!(c.next_reply().code(), 220);
        assert_eq!(c.cmd("AUTH TLS").code(), 503, "TLS is already on");
        c.login();
        let feat = c.cmd("FEAT");
        assert!(!feat.lines().iter().any(|l| l == " AUTH TLS"), "{feat:?}");
        assert_eq!(c.cmd("CCC").code(), 534, "CCC refused unless enabled");
    }
}

#[test]
fn user_before_auth_tls_is_refused_on_an_explicit_server() {
    let mut c = Client::explicit(TlsVersion::Tls13);
    c.next_reply();
    let reply = c.cmd("USER plc");
    assert_eq!(reply.code(), 530, "{reply}");
    assert!(reply.text().contains("AUTH TLS"), "{reply}");
    assert_eq!(c.cmd("PASS s3cret").code(), 530);
    assert!(c.storage.requests.is_empty(), "no credentials were checked");
    assert_eq!(c.cmd("PBSZ 0").code(), 503);
    assert_eq!(c.cmd("LIST").code(), 530);
    // AUTH TLS, then the same login works.
    c.login();
    assert_eq!(c.server.user(), Some("plc"));
}

#[test]
fn clear_text_login_only_with_the_insecure_opt_in() {
    let mut config = server_config(Security::ExplicitTls, TlsVersion::Tls13);
    config.allow_insecure_plain_ftp = true;
    let mut c = Client::new(config);
    c.next_reply();
    assert_eq!(c.cmd("USER plc").code(), 331);
    assert_eq!(c.cmd("PASS s3cret").code(), 230);
}

#[test]
fn commands_sent_with_auth_tls_before_the_handshake_are_refused() {
    let mut c = Client::explicit(TlsVersion::Tls13);
    c.next_reply();
    // A man in the middle appends a command after AUTH TLS, before the handshake.
    c.send_raw(b"AUTH TLS\r\nUSER plc\r\n");
    let error = c.error.clone().expect("session failed");
    assert!(
        matches!(
            error,
            ServerError::Tls(redy_tls::Error::BytesBeforeHandshake(10))
        ),
        "{error}"
    );
    assert!(c.storage.requests.is_empty());
    assert!(c.control_closed);
}

#[test]
fn unknown_and_malformed_commands() {
    let mut c = Client::implicit(TlsVersion::Tls13);
    c.next_reply();
    c.login();
    assert_eq!(c.cmd("SITE CHMOD 777 x").code(), 502);
    assert_eq!(c.cmd("XYZZY").code(), 502);
    assert_eq!(c.cmd("RETR").code(), 501);
    assert_eq!(c.cmd("REST abc").code(), 501);
    assert_eq!(c.cmd("12 x").code(), 500);
    assert_eq!(c.cmd("RNTO b").code(), 503, "RNTO without RNFR");
    assert_eq!(c.cmd("PROT C").code(), 534, "clear data refused by default");
    assert_eq!(c.cmd("PROT S").code(), 536);
    assert_eq!(c.cmd("TYPE E").code(), 504);
    assert_eq!(c.cmd("MODE B").code(), 504);
    assert_eq!(c.cmd("STRU R").code(), 504);
    assert_eq!(c.cmd("OPTS UTF8 ON").code(), 200);
    assert_eq!(c.cmd("HELP").code(), 214);
    assert_eq!(c.cmd("NOOP").code(), 200);
    assert_eq!(c.cmd("STAT").code(), 211);
    assert_eq!(c.cmd("RETR x").code(), 425, "no PASV/PORT yet");
}

#[test]
fn a_one_mebibyte_command_line_is_refused_without_being_buffered() {
    let mut config = server_config(Security::ExplicitTls, TlsVersion::Tls13);
    config.allow_insecure_plain_ftp = true;
    let now = std::time::Instant::now();
    let mut s = ServerSession::new(
        config,
        CLIENT.parse().unwrap(),
        SERVER.parse().unwrap(),
        now,
    )
    .unwrap();
    let greeting = s.transmit(Channel::Control).len();
    s.advance(Channel::Control, greeting);
    let chunk = vec![b'A'; 64 * 1024];
    for _ in 0..16 {
        // Every byte is taken at once (nothing waits on the caller's side either) ...
        assert_eq!(
            s.receive(Channel::Control, &chunk, now).unwrap(),
            chunk.len()
        );
        // ... and the session holds no more than one command line's worth of it.
        assert!(s.control_buffered() <= MAX_COMMAND_LINE);
        assert!(
            s.transmit(Channel::Control).is_empty(),
            "no reply before the line ends"
        );
    }
    assert_eq!(s.control_buffered(), 0);
    s.receive(Channel::Control, b"\r\nNOOP\r\n", now).unwrap();
    let out = String::from_utf8(s.transmit(Channel::Control).to_vec()).unwrap();
    assert!(
        out.starts_with("500 Command line refused: line longer than 4200 bytes\r\n"),
        "{out}"
    );
    assert!(
        out.ends_with("200 NOOP ok\r\n"),
        "the session goes on: {out}"
    );
    // Over TLS the same.
    let mut c = Client::implicit(TlsVersion::Tls13);
    c.next_reply();
    let mut long = vec![b'X'; 1024 * 1024];
    long.extend_from_slice(b"\r\n");
    c.send_raw(&long);
    assert_eq!(c.next_reply().code(), 500);
    assert!(c.server.control_buffered() <= MAX_COMMAND_LINE);
    assert_eq!(c.cmd("NOOP").code(), 200);
}

#[test]
fn wrong_passwords_are_delayed_counted_then_the_session_closes() {
    let mut c = Client::implicit(TlsVersion::Tls13);
    c.next_reply();
    for attempt in 1..=3u32 {
        assert_eq!(c.cmd("USER plc").code(), 331);
        c.send_raw(b"PASS wrong\r\n");
        assert!(
            c.replies.is_empty(),
            "attempt {attempt}: the 530 is held back"
        );
        let delay = Duration::from_secs(u64::from(attempt));
        assert_eq!(
            c.server.poll_timeout(),
            Some(c.now + delay),
            "attempt {attempt}"
        );
        // Commands wait meanwhile.
        c.send_raw(b"NOOP\r\n");
        assert!(c.replies.is_empty());
        let result = c.advance_time(delay - Duration::from_millis(1));
        assert!(
            result.is_ok() && c.replies.is_empty(),
            "not before the deadline"
        );
        let result = c.advance_time(Duration::from_millis(1));
        let reply = c.next_reply();
        assert_eq!(reply.code(), 530, "{reply}");
        if attempt < 3 {
            assert!(result.is_ok());
            assert_eq!(c.next_reply().code(), 200, "the held NOOP");
        } else {
            assert_eq!(result, Err(ServerError::TooManyLoginFailures(3)));
            assert_eq!(c.next_reply().code(), 421);
            assert!(c.control_closed);
        }
    }
    let failures: Vec<u32> = c
        .events
        .iter()
        .filter_map(|e| match e {
            Event::LoginFailed { failures, .. } => Some(*failures),
            _ => None,
        })
        .collect();
    assert_eq!(failures, [1, 2, 3]);
}

#[test]
fn an_idle_session_is_closed_with_421() {
    let mut c = Client::implicit(TlsVersion::Tls13);
    c.next_reply();
    c.login();
    let deadline = c.server.poll_timeout().unwrap();
    assert_eq!(deadline, c.now + Duration::from_secs(300));
    let result = c.advance_time(Duration::from_secs(300));
    assert_eq!(
        result,
        Err(ServerError::Timeout("a command (idle session)"))
    );
    assert_eq!(c.next_reply().code(), 421);
    assert!(c.control_closed);
}

#[test]
fn answers_that_do_not_fit_are_refused() {
    let mut c = Client::implicit(TlsVersion::Tls13);
    c.next_reply();
    c.auto_answer = false;
    let err = c
        .server
        .answer(redy_ftps::server::Answer::Login(true), c.now)
        .unwrap_err();
    assert!(matches!(err, ServerError::NotNow { .. }), "{err}");
    c.cmd("USER plc");
    c.send_raw(b"PASS s3cret\r\n");
    let request = c.server.poll_request().unwrap();
    assert!(matches!(request, Request::CheckCredentials { .. }));
    assert!(format!("{request:?}").contains("<hidden>"), "{request:?}");
    let wrong = redy_ftps::server::Answer::Done(Ok(()));
    assert!(c.server.answer(wrong, c.now).is_err());
    c.server
        .answer(redy_ftps::server::Answer::Login(true), c.now)
        .unwrap();
    assert_eq!(c.next_reply().code(), 230);
}

#[test]
fn the_client_closing_the_control_connection_ends_the_session() {
    let mut c = Client::implicit(TlsVersion::Tls12);
    c.next_reply();
    c.login();
    c.server.receive_eof(Channel::Control, c.now).unwrap();
    // Our close_notify goes out, then the connection closes.
    let out = c.server.transmit(Channel::Control).len();
    assert!(out > 0);
    c.server.advance(Channel::Control, out);
    assert_eq!(c.server.poll_action(), Some(Action::CloseControl));
    assert!(c.server.error().is_none(), "not an error");
}

#[test]
fn ccc_returns_the_control_connection_to_clear_text_only_when_enabled() {
    let mut config = server_config(Security::ExplicitTls, TlsVersion::Tls13);
    config.allow_ccc = true;
    let mut c = Client::new(config);
    c.next_reply();
    assert!(c.cmd("FEAT").lines().iter().any(|l| l == " CCC"));
    c.auth_tls();
    assert_eq!(c.cmd("CCC").code(), 533, "only after the login");
    assert_eq!(c.cmd("USER plc").code(), 331);
    assert_eq!(c.cmd("PASS s3cret").code(), 230);
    assert_eq!(c.cmd("CCC").code(), 200);
    // Our close_notify answers the server's; the clear command follows in the same write.
    let mut tls = c.control_tls.take().unwrap();
    tls.close();
    let mut wire = tls.transmit().to_vec();
    wire.extend_from_slice(b"NOOP\r\n");
    c.send_raw(&wire);
    let reply = c.next_reply();
    assert_eq!(reply.code(), 200, "{reply}");
    assert!(c.server.error().is_none());
}

/// Found by fuzz/ftp_server: while the caller owed an answer the idle deadline stayed in the
/// past, so a driver waiting on `poll_timeout` spun.
#[test]
fn no_deadline_stays_in_the_past_while_the_caller_owes_an_answer() {
    let mut config = server_config(Security::ExplicitTls, TlsVersion::Tls13);
    config.allow_insecure_plain_ftp = true;
    let start = std::time::Instant::now();
    let mut s = ServerSession::new(
        config.clone(),
        CLIENT.parse().unwrap(),
        SERVER.parse().unwrap(),
        start,
    )
    .unwrap();
    s.receive(Channel::Control, b"USER plc\r\nPASS pw\r\n", start)
        .unwrap();
    assert!(matches!(
        s.poll_request(),
        Some(Request::CheckCredentials { .. })
    ));
    s.answer(redy_ftps::server::Answer::Login(true), start)
        .unwrap();
    s.receive(Channel::Control, b"MKD slow\r\n", start).unwrap();
    assert!(matches!(s.poll_request(), Some(Request::MakeDir { .. })));
    let late = start + config.timeouts.idle * 3;
    s.handle_timeout(late).unwrap();
    assert!(
        s.poll_timeout().is_none_or(|t| t > late),
        "{:?}",
        s.poll_timeout()
    );
    // Answered, the session counts idle time again, from the answer.
    s.answer(redy_ftps::server::Answer::Done(Ok(())), late)
        .unwrap();
    let deadline = s.poll_timeout().expect("the idle deadline");
    assert!(deadline > late);
    assert!(s.handle_timeout(deadline).is_err(), "idle after the answer");
}
