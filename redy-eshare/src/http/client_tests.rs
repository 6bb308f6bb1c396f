use super::*;

fn client() -> (Client, Instant) {
    let t = Instant::now();
    (Client::new(Link::insecure_plain(), Limits::default(), t), t)
}

fn events(c: &mut Client) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn pipelined_requests_and_head_response_without_body() {
    let (mut c, t) = client();
    c.send_request("HEAD", "/a", &Headers::new(), Some(0))
        .unwrap();
    c.send_request("GET", "/b", &Headers::new(), Some(0))
        .unwrap();
    let out = c.transmit().to_vec();
    c.advance(out.len());
    assert_eq!(out, b"HEAD /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    c.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", t);
    let ev = events(&mut c);
    assert_eq!(ev.len(), 5, "{ev:?}");
    assert_eq!(ev[1], ClientEvent::BodyEnd);
    assert_eq!(c.body(), b"hi");
}

/// Found by the `http_tls` fuzz target: two pipelined answers arriving together, their bodies
/// ran together in the one body buffer before the caller took the first.
#[test]
fn pipelined_answers_keep_their_bodies_apart() {
    let (mut c, t) = client();
    for target in ["/a", "/b"] {
        c.send_request("GET", target, &Headers::new(), Some(0))
            .unwrap();
    }
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none\
                 HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n";
    assert_eq!(c.receive(wire, t), wire.len());
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    while let Some(event) = c.poll_event() {
        match event {
            ClientEvent::Response(_) => bodies.push(Vec::new()),
            ClientEvent::BodyData => {
                let body = c.body().to_vec();
                bodies.last_mut().unwrap().extend_from_slice(&body);
                c.consume_body(body.len(), t);
            }
            _ => {}
        }
    }
    assert_eq!(bodies, [b"one".to_vec(), b"two".to_vec()]);
}

#[test]
fn queue_is_bounded() {
    let (mut c, _) = client();
    for _ in 0..MAX_IN_FLIGHT {
        c.send_request("GET", "/", &Headers::new(), Some(0))
            .unwrap();
    }
    assert!(!c.can_send_request());
    assert!(matches!(
        c.send_request("GET", "/", &Headers::new(), Some(0)),
        Err(HttpError::Misuse(_))
    ));
}

#[test]
fn continue_wait_times_out_then_body_goes() {
    let (mut c, t) = client();
    let mut h = Headers::new();
    h.push("Expect", b"100-continue");
    c.send_request("POST", "/", &h, Some(2)).unwrap();
    assert_eq!(c.write_body(b"ab").unwrap(), 0);
    c.handle_timeout(t + CONTINUE_WAIT);
    assert_eq!(c.write_body(b"ab").unwrap(), 2);
}

#[test]
fn smuggled_response_is_fatal() {
    let (mut c, t) = client();
    c.send_request("GET", "/", &Headers::new(), Some(0))
        .unwrap();
    c.receive(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        t,
    );
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::Error(HttpError::Head(
            HeadError::DuplicateContentLength
        ))]
    );
}

#[test]
fn unsolicited_response_is_fatal() {
    let (mut c, t) = client();
    c.receive(b"HTTP/1.1 200 OK\r\n\r\n", t);
    assert!(matches!(events(&mut c)[..], [ClientEvent::Error(_)]));
}

#[test]
fn caller_heads_cannot_inject_fields_or_requests() {
    let (mut c, _) = client();
    let mut sneaky = Headers::new();
    sneaky.push("X-Note", b"a\r\nTransfer-Encoding: chunked");
    let cases: [(&str, &str, &Headers); 4] = [
        ("GET", "/a", &sneaky),
        (
            "GET",
            "/a HTTP/1.1\r\nHost: evil\r\n\r\nGET /b",
            &Headers::new(),
        ),
        ("GET /x", "/a", &Headers::new()),
        ("GET", "", &Headers::new()),
    ];
    for (method, target, headers) in cases {
        assert!(
            matches!(
                c.send_request(method, target, headers, Some(0)),
                Err(HttpError::Misuse(_))
            ),
            "{method:?} {target:?}"
        );
    }
    let mut bad_name = Headers::new();
    bad_name.push("Bad Name", b"x");
    assert!(c.send_request("GET", "/", &bad_name, Some(0)).is_err());
    assert_eq!(c.transmit(), b"", "nothing was sent");
    // Refusals are the caller's: the connection goes on.
    c.send_request("GET", "/ok", &Headers::new(), Some(0))
        .unwrap();
    assert_eq!(c.transmit(), b"GET /ok HTTP/1.1\r\n\r\n");
}
