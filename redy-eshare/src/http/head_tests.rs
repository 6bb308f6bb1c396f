use super::*;
use proptest::prelude::*;

fn limits() -> Limits {
    Limits::default()
}

fn req(bytes: &[u8]) -> Result<(RequestHead, BodyKind), HeadError> {
    let l = limits();
    let n = frame(bytes, l.max_head)?.ok_or(HeadError::Syntax("incomplete".into()))?;
    let head = parse_request(&bytes[..n], &l)?;
    let body = request_body(&head, &l)?;
    Ok((head, body))
}

#[test]
fn parses_request_with_length() {
    let (h, b) = req(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").unwrap();
    assert_eq!(h.method, "POST");
    assert_eq!(h.target, "/x");
    assert_eq!(h.version, 1);
    assert_eq!(h.headers.get_str("host"), Some("a"));
    assert_eq!(b, BodyKind::Length(12));
}

#[test]
fn frame_needs_more_then_completes() {
    let msg = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
    assert_eq!(frame(&msg[..10], 100), Ok(None));
    assert_eq!(frame(msg, 100), Ok(Some(msg.len() - 4)));
}

#[test]
fn head_too_large() {
    let mut msg = b"GET / HTTP/1.1\r\nX: ".to_vec();
    msg.extend(std::iter::repeat_n(b'a', 100));
    assert_eq!(frame(&msg, 64), Err(HeadError::TooLarge { limit: 64 }));
}

#[test]
fn smuggling_cases_refused() {
    type Case = (&'static [u8], fn(&HeadError) -> bool);
    let cases: &[Case] = &[
        (
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            |e| *e == HeadError::LengthWithTransferEncoding,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
            |e| *e == HeadError::DuplicateContentLength,
        ),
        (b"POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", |e| {
            *e == HeadError::DuplicateContentLength
        }),
        (b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", |e| {
            matches!(e, HeadError::InvalidContentLength(_))
        }),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            |e| matches!(e, HeadError::UnsupportedTransferEncoding(_)),
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            |e| matches!(e, HeadError::UnsupportedTransferEncoding(_)),
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
            |e| matches!(e, HeadError::UnsupportedTransferEncoding(_)),
        ),
        (b"POST / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", |e| {
            matches!(e, HeadError::ObsFold { .. })
        }),
        (b"POST / HTTP/1.1\nX: a\r\n\r\n", |e| {
            matches!(e, HeadError::BareLf { .. })
        }),
        (b"POST / HTTP/1.1\r\nX: a\rb\r\n\r\n", |e| {
            matches!(e, HeadError::BareCr { .. })
        }),
        (b"POST / HTTP/1.1\r\nX: a\r\n\n", |e| {
            matches!(e, HeadError::BareLf { .. })
        }),
        (b"POST / HTTP/1.1\r\nBad Name: a\r\n\r\n", |e| {
            matches!(e, HeadError::Syntax(_))
        }),
        (b"POST / HTTP/1.1\r\nX: a\x01b\r\n\r\n", |e| {
            matches!(e, HeadError::Syntax(_))
        }),
        (b"POST / HTTP/1.1\r\nX: a\x00b\r\n\r\n", |e| {
            matches!(e, HeadError::Syntax(_))
        }),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            |e| matches!(e, HeadError::InvalidContentLength(_)),
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n",
            |e| matches!(e, HeadError::BodyTooLarge { .. }),
        ),
    ];
    for (bytes, ok) in cases {
        let e = req(bytes).expect_err(&String::from_utf8_lossy(bytes));
        assert!(ok(&e), "{:?}: {e:?}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn too_many_headers() {
    let mut msg = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..65 {
        msg.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    msg.extend_from_slice(b"\r\n");
    assert_eq!(
        req(&msg).unwrap_err(),
        HeadError::TooManyHeaders { limit: 64 }
    );
}

#[test]
fn response_framing() {
    let l = limits();
    let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", &l).unwrap();
    assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
    assert_eq!(response_body(&r, "GET", &l), Ok(BodyKind::Length(5)));
    assert_eq!(response_body(&r, "HEAD", &l), Ok(BodyKind::Empty));
    let r = parse_response(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", &l).unwrap();
    assert_eq!(response_body(&r, "GET", &l), Ok(BodyKind::Empty));
    let r = parse_response(b"HTTP/1.1 304 x\r\n\r\n", &l).unwrap();
    assert_eq!(response_body(&r, "GET", &l), Ok(BodyKind::Empty));
    let r = parse_response(b"HTTP/1.1 100 Continue\r\n\r\n", &l).unwrap();
    assert_eq!(response_body(&r, "POST", &l), Ok(BodyKind::Empty));
    let r = parse_response(b"HTTP/1.0 200 OK\r\n\r\n", &l).unwrap();
    assert_eq!(response_body(&r, "GET", &l), Ok(BodyKind::CloseDelimited));
    let r = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", &l).unwrap();
    assert_eq!(response_body(&r, "GET", &l), Ok(BodyKind::Chunked));
}

#[test]
fn encode_round_trip() {
    let (h, _) = req(b"PUT /a?b HTTP/1.1\r\nHost: h\r\nX-Y: z z\r\n\r\n").unwrap();
    let mut out = Vec::new();
    h.encode(&mut out);
    assert_eq!(out, b"PUT /a?b HTTP/1.1\r\nHost: h\r\nX-Y: z z\r\n\r\n");
    let r = parse_response(b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\n", &limits()).unwrap();
    let mut out = Vec::new();
    r.encode(&mut out);
    assert_eq!(parse_response(&out, &limits()).unwrap(), r);
}

/// Frames incrementally as a machine would: grow the buffer piece by piece.
fn frame_split(msg: &[u8], cuts: &[usize]) -> Result<Option<usize>, HeadError> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (msg.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(msg.len());
    for c in cuts {
        if let Some(n) = frame(&msg[..c], 64)? {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

proptest! {
    #[test]
    fn framing_same_under_any_split(
        msg in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b' '), Just(b'a'), Just(b':')], 0..100),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        prop_assert_eq!(frame_split(&msg, &cuts), frame(&msg, 64));
    }

    #[test]
    fn parse_never_panics_and_is_bounded(msg in proptest::collection::vec(any::<u8>(), 0..200)) {
        let l = Limits { max_head: 128, max_headers: 4, ..Limits::default() };
        if let Ok(Some(n)) = frame(&msg, l.max_head) {
            prop_assert!(n <= 128);
            if let Ok(h) = parse_request(&msg[..n], &l) {
                prop_assert!(h.headers.len() <= 4);
                let _ = request_body(&h, &l);
            }
        }
    }

    #[test]
    fn smuggling_length_and_te_always_refused(
        cl in 0u64..1000, te in "[a-zA-Z, ]{0,12}", first_te in any::<bool>(),
    ) {
        let (a, b) = (format!("Content-Length: {cl}\r\n"), format!("Transfer-Encoding: {te}\r\n"));
        let (a, b) = if first_te { (b, a) } else { (a, b) };
        let msg = format!("POST / HTTP/1.1\r\n{a}{b}\r\n");
        prop_assert!(req(msg.as_bytes()).is_err());
    }

    #[test]
    fn duplicate_lengths_always_refused(a in 0u64..1000, b in 0u64..1000) {
        let msg = format!("POST / HTTP/1.1\r\nContent-Length: {a}\r\ncontent-length: {b}\r\n\r\n");
        prop_assert_eq!(req(msg.as_bytes()).unwrap_err(), HeadError::DuplicateContentLength);
    }
}
