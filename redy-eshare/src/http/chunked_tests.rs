use super::*;
use proptest::prelude::*;

fn decode_all(
    input: &[u8],
    cuts: &[usize],
    room: usize,
) -> Result<(Vec<u8>, usize, bool), ChunkedError> {
    let mut d = ChunkedDecoder::new(&Limits {
        max_body: 1 << 20,
        ..Limits::default()
    });
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    let mut out = Vec::new();
    let mut pos = 0;
    for c in cuts {
        while pos < c && !d.is_done() {
            let n = d.decode(&input[pos..c], &mut out, room)?;
            if n == 0 {
                break;
            }
            pos += n;
        }
    }
    Ok((out, pos, d.is_done()))
}

#[test]
fn decodes_simple_body_and_stops_at_end() {
    let msg = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    let (out, used, done) = decode_all(msg, &[], 1 << 20).unwrap();
    assert_eq!(out, b"hello world");
    assert!(done);
    assert_eq!(&msg[used..], b"NEXT");
}

#[test]
fn room_bounds_output() {
    let mut d = ChunkedDecoder::new(&Limits::default());
    let mut out = Vec::new();
    let n = d
        .decode(b"a\r\n0123456789\r\n0\r\n\r\n", &mut out, 4)
        .unwrap();
    assert_eq!((n, out.as_slice()), (7, &b"0123"[..]));
}

#[test]
fn invalid_chunks_refused() {
    let l = Limits {
        max_chunk_ext: 8,
        max_trailer: 8,
        max_body: 100,
        ..Limits::default()
    };
    let cases: &[(&[u8], ChunkedError)] = &[
        (b"g\r\n", ChunkedError::InvalidSize(b'g')),
        (b"\r\n", ChunkedError::InvalidSize(b'\r')),
        (b"-1\r\n", ChunkedError::InvalidSize(b'-')),
        (b"0x5\r\n", ChunkedError::InvalidSize(b'x')),
        (b"10000000000000000\r\n", ChunkedError::SizeTooLong),
        (b"5\nhello", ChunkedError::InvalidSize(b'\n')),
        (b"5\r\nhelloX", ChunkedError::MissingCrlf),
        (b"5\r\nhello\rX", ChunkedError::MissingCrlf),
        (
            b"5;aaaaaaaaaaaa\r\n",
            ChunkedError::ExtensionTooLong { limit: 8 },
        ),
        (b"5;a\x00\r\n", ChunkedError::InvalidExtension(0)),
        (b"65\r\n", ChunkedError::BodyTooLarge { limit: 100 }),
        (
            b"0\r\nX-Long: 123456789\r\n\r\n",
            ChunkedError::TrailerTooLong { limit: 8 },
        ),
        (b"0\r\nX\n", ChunkedError::MissingCrlf),
        (b"0\r\n\rX", ChunkedError::MissingCrlf),
    ];
    for (input, want) in cases {
        let mut d = ChunkedDecoder::new(&l);
        let got = d.decode(input, &mut Vec::new(), 1000);
        assert_eq!(
            got.as_ref().err(),
            Some(want),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

fn encode(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        encode_chunk(c, &mut out);
    }
    out.extend_from_slice(LAST_CHUNK);
    out
}

proptest! {
    #[test]
    fn round_trip_under_any_split(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
        room in 1usize..500,
    ) {
        let wire = encode(&chunks);
        let (out, used, done) = decode_all(&wire, &cuts, room).unwrap();
        prop_assert!(done);
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(out, chunks.concat());
    }

    #[test]
    fn arbitrary_input_same_under_any_split(
        input in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'0'), Just(b'3'), Just(b';'), Just(b'a'), Just(b'X')], 0..80),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = decode_all(&input, &[], 1 << 20);
        let split = decode_all(&input, &cuts, 1 << 20);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn decoded_never_exceeds_limit(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut d = ChunkedDecoder::new(&Limits { max_body: 16, ..Limits::default() });
        let mut out = Vec::new();
        let _ = d.decode(&input, &mut out, 1000);
        prop_assert!(out.len() <= 16);
    }
}

/// Fuzz regression (http_chunked): an invalid size after some consumed input is the same error
/// whether the input comes whole or byte by byte.
#[test]
fn error_same_whole_or_split() {
    let input = b"21&\x06\x0092 1&";
    let whole = ChunkedDecoder::new(&Limits::default()).decode(input, &mut Vec::new(), 100);
    let mut d = ChunkedDecoder::new(&Limits::default());
    let mut split = Ok(0);
    for b in input.chunks(1) {
        split = d.decode(b, &mut Vec::new(), 100);
        if split.is_err() {
            break;
        }
    }
    assert_eq!(whole, Err(ChunkedError::InvalidSize(b'&')));
    assert_eq!(split, whole);
}
