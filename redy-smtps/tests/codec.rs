//! Properties of the reply parser and the body encoder.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use proptest::prelude::*;
use redy_smtps::{BodyEncoder, Reply, ReplyParser, unstuff};

fn reply() -> impl Strategy<Value = Reply> {
    (200u16..600, proptest::collection::vec("[ -~]{0,60}", 1..6)).prop_map(|(code, lines)| {
        let code = code - code % 100 + (code % 100).min(59);
        Reply::new(code, lines)
    })
}

/// CRLF-normalises like the encoder: bare CR, bare LF and CRLF all become CRLF, and the text
/// ends with CRLF.
fn normalise(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\r' if input.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn chunks<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    for cut in cuts.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let n = (*cut).min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

proptest! {
    #[test]
    fn replies_round_trip_whatever_the_split(replies in proptest::collection::vec(reply(), 1..5),
                                             cuts in proptest::collection::vec(1usize..30, 1..10)) {
        let wire: Vec<u8> = replies.iter().flat_map(Reply::encode).collect();
        let mut parser = ReplyParser::default();
        let mut parsed = Vec::new();
        for chunk in chunks(&wire, &cuts) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let (n, reply) = parser.feed(rest).unwrap();
                parsed.extend(reply);
                rest = &rest[n..];
            }
        }
        prop_assert_eq!(parsed, replies);
    }

    #[test]
    fn unstuffing_the_encoded_body_gives_the_normalised_input(
        input in proptest::collection::vec(prop_oneof![Just(b'.'), Just(b'\r'), Just(b'\n'), any::<u8>()], 0..400),
        cuts in proptest::collection::vec(1usize..50, 1..10),
    ) {
        let mut encoder = BodyEncoder::new();
        let mut wire = Vec::new();
        for chunk in chunks(&input, &cuts) {
            encoder.encode(chunk, &mut wire);
        }
        encoder.finish(&mut wire);
        prop_assert_eq!(unstuff(&wire).unwrap(), normalise(&input));
        // The only lone-dot line is the terminator: the input can never end the message early.
        let body = &wire[..wire.len() - 3];
        prop_assert!(!body.windows(5).any(|w| w == b"\r\n.\r\n") && !body.starts_with(b".\r\n"));
        prop_assert!(wire.ends_with(b"\r\n.\r\n") || wire == b".\r\n");
    }
}
