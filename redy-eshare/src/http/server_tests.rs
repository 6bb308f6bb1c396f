use super::*;
use std::time::Duration;

fn server() -> (Server, Instant) {
    let t0 = Instant::now();
    (
        Server::new(Link::insecure_plain(), Limits::default(), t0),
        t0,
    )
}

fn events(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn output(s: &mut Server) -> Vec<u8> {
    let out = s.transmit().to_vec();
    s.advance(out.len());
    out
}

#[test]
fn keep_alive_pipelined_requests() {
    let (mut s, t) = server();
    let input = b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n\r\n";
    assert_eq!(s.receive(input, t), input.len());
    let ev = events(&mut s);
    assert!(matches!(&ev[0], ServerEvent::Request(r) if r.target == "/a"));
    assert_eq!(&ev[1..], &[ServerEvent::BodyData, ServerEvent::BodyEnd]);
    assert_eq!(s.body(), b"hello");
    s.consume_body(5, t);
    s.respond(200, "OK", &Headers::new(), Some(2)).unwrap();
    assert_eq!(s.write_body(b"okEXTRA").unwrap(), 2);
    let ev = events(&mut s);
    assert!(
        matches!(&ev[0], ServerEvent::Request(r) if r.target == "/b"),
        "{ev:?}"
    );
    s.respond(200, "OK", &Headers::new(), None).unwrap();
    assert_eq!(s.write_body(b"abc").unwrap(), 3);
    s.finish_body().unwrap();
    let out = String::from_utf8(output(&mut s)).unwrap();
    assert_eq!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\
         HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    );
}

#[test]
fn a_small_answer_goes_out_whole_and_the_next_request_follows() {
    let (mut s, t) = server();
    let input = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_eq!(s.receive(input, t), input.len());
    assert!(matches!(&events(&mut s)[0], ServerEvent::Request(r) if r.target == "/a"));
    let mut headers = Headers::new();
    headers.push("Content-Type", b"application/json");
    s.respond_with_body(200, "OK", &headers, b"{}").unwrap();
    // The pipelined request comes once the first answer is complete.
    assert!(matches!(&events(&mut s)[0], ServerEvent::Request(r) if r.target == "/b"));
    s.respond_with_body(404, "Not Found", &Headers::new(), b"")
        .unwrap();
    assert_eq!(
        String::from_utf8(output(&mut s)).unwrap(),
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}\
         HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    // Twice, or a body too large for one write, is refused and sends nothing.
    assert!(matches!(
        s.respond_with_body(200, "OK", &Headers::new(), b"x"),
        Err(HttpError::Misuse(_))
    ));
    assert!(output(&mut s).is_empty());
}

/// The same for requests: answered before its body was taken, a request's body must not run
/// into the next pipelined request's.
#[test]
fn pipelined_requests_keep_their_bodies_apart() {
    let (mut s, t) = server();
    let wire = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\none\
                 POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\ntwo";
    assert_eq!(s.receive(wire, t), wire.len());
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    while let Some(event) = s.poll_event() {
        match event {
            ServerEvent::Request(_) => {
                bodies.push(Vec::new());
                // Answered at once, the body still unread.
                s.respond_with_body(200, "OK", &Headers::new(), b"")
                    .unwrap();
            }
            ServerEvent::BodyData => {
                let body = s.body().to_vec();
                bodies.last_mut().unwrap().extend_from_slice(&body);
                s.consume_body(body.len(), t);
            }
            _ => {}
        }
    }
    assert_eq!(bodies, [b"one".to_vec(), b"two".to_vec()]);
}

#[test]
fn respond_with_body_refuses_more_than_one_slice() {
    let (mut s, t) = server();
    s.receive(b"GET / HTTP/1.1\r\n\r\n", t);
    let big = vec![b'x'; BODY_SLICE + 1];
    assert!(matches!(
        s.respond_with_body(200, "OK", &Headers::new(), &big),
        Err(HttpError::Misuse(_))
    ));
    assert!(output(&mut s).is_empty());
    // The request can still be answered the streaming way.
    s.respond(200, "OK", &Headers::new(), Some(big.len() as u64))
        .unwrap();
}

#[test]
fn chunked_upload_and_expect_continue() {
    let (mut s, t) = server();
    s.receive(
        b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
        t,
    );
    assert_eq!(output(&mut s), b"HTTP/1.1 100 Continue\r\n\r\n");
    s.receive(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", t);
    assert_eq!(s.body(), b"abcde");
    let ev = events(&mut s);
    assert_eq!(ev.last(), Some(&ServerEvent::BodyEnd));
}

#[test]
fn smuggling_answered_with_400_and_close() {
    let (mut s, t) = server();
    s.receive(
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        t,
    );
    let out = String::from_utf8(output(&mut s)).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 400 Bad Request\r\n") && out.contains("Connection: close"),
        "{out}"
    );
    assert_eq!(
        events(&mut s),
        vec![ServerEvent::Error(HttpError::Head(
            HeadError::LengthWithTransferEncoding
        ))]
    );
    assert_eq!(s.receive(b"GET / HTTP/1.1\r\n\r\n", t), 0);
    assert_eq!(events(&mut s), vec![]);
}

#[test]
fn huge_head_gets_431() {
    let (mut s, t) = server();
    let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
    big.resize(DEFAULT_HEAD_TEST, b'a');
    s.receive(&big, t);
    assert!(output(&mut s).starts_with(b"HTTP/1.1 431"));
}
const DEFAULT_HEAD_TEST: usize = super::super::limits::DEFAULT_MAX_HEAD + 10;

#[test]
fn body_larger_than_limit_gets_413() {
    let (mut s, t) = server();
    s.receive(b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", t);
    assert!(output(&mut s).starts_with(b"HTTP/1.1 413"));
}

#[test]
fn body_backpressure_bounds_buffer() {
    let (mut s, t) = server();
    s.receive(b"POST / HTTP/1.1\r\nContent-Length: 40000\r\n\r\n", t);
    let data = vec![7u8; 40000];
    let mut got = 0;
    let mut fed = 0;
    while got < 40000 {
        fed += s.receive(&data[fed..], t);
        assert!(s.body().len() <= BODY_SLICE);
        got += s.body().len();
        let n = s.body().len();
        s.consume_body(n, t);
    }
    assert_eq!(events(&mut s).last(), Some(&ServerEvent::BodyEnd));
}

#[test]
fn timeouts() {
    let (mut s, t) = server();
    s.receive(b"GET / HTTP/1.1\r\n", t);
    let due = s.poll_timeout().unwrap();
    assert_eq!(due, t + Duration::from_secs(30));
    s.handle_timeout(due - Duration::from_millis(1));
    assert!(s.error().is_none());
    s.handle_timeout(due);
    assert_eq!(s.error(), Some(&HttpError::Timeout("head")));
    let (mut s, t) = server();
    s.handle_timeout(t + Duration::from_secs(60));
    assert_eq!(events(&mut s), vec![ServerEvent::Closed]);
}

#[test]
fn eof_mid_body_is_truncation() {
    let (mut s, t) = server();
    s.receive(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", t);
    s.receive_eof(t);
    assert_eq!(
        events(&mut s).last(),
        Some(&ServerEvent::Error(HttpError::Truncated))
    );
}

#[test]
fn caller_responses_cannot_inject_fields() {
    let t = Instant::now();
    let mut s = Server::new(Link::insecure_plain(), Limits::default(), t);
    s.receive(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", t);
    while s.poll_event().is_some() {}
    let mut sneaky = Headers::new();
    sneaky.push(
        "Set-Cookie",
        b"a=1\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK",
    );
    assert!(matches!(
        s.respond(200, "OK", &sneaky, Some(0)),
        Err(HttpError::Misuse(_))
    ));
    assert!(matches!(
        s.respond(200, "OK\r\nX: y", &Headers::new(), Some(0)),
        Err(HttpError::Misuse(_))
    ));
    assert!(matches!(
        s.respond(1000, "OK", &Headers::new(), Some(0)),
        Err(HttpError::Misuse(_))
    ));
    assert_eq!(s.transmit(), b"");
    s.respond(200, "OK", &Headers::new(), Some(0)).unwrap();
    assert!(s.transmit().starts_with(b"HTTP/1.1 200 OK\r\n"));
}
