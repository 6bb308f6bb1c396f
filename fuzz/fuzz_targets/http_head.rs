//! HTTP heads and chunked bodies from any bytes. Properties: a framed head never exceeds the
//! limit; a request or response head that parses re-encodes and parses back to itself (the
//! machine's own encoder); the chunked decoder gives the same body whatever the chunking and
//! never more than the body limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_eshare::http::{
    ChunkedDecoder, Limits, Piece, frame, parse_request, parse_response, request_body,
};

fn decode(data: &[u8], cut: usize, limits: Limits) -> Option<Vec<u8>> {
    let mut decoder = ChunkedDecoder::new(limits);
    let mut body = Vec::new();
    for piece in data.chunks(cut.max(1)) {
        let mut rest = piece;
        loop {
            let (n, found) = decoder.decode(rest).ok()?;
            rest = &rest[n..];
            match found {
                Piece::Data(d) => body.extend_from_slice(d),
                Piece::End => return Some(body),
                Piece::NeedMore => break,
            }
        }
    }
    None
}

fuzz_target!(|input: (u8, &[u8])| {
    let (cut, data) = input;
    let mut limits = Limits::default();
    limits.body = 4096;
    if let Ok(Some(n)) = frame(data, limits.head) {
        assert!(n <= limits.head);
        if let Ok(request) = parse_request(&data[..n], &limits) {
            let _ = request_body(&request);
            if let Ok(wire) = request.encode() {
                assert_eq!(parse_request(&wire, &limits).expect("our own head parses"), request);
            }
        }
        if let Ok(response) = parse_response(&data[..n], &limits)
            && let Ok(wire) = response.encode()
        {
            assert_eq!(parse_response(&wire, &limits).expect("our own head parses"), response);
        }
    }
    let whole = decode(data, data.len(), limits);
    if let Some(body) = &whole {
        assert!(body.len() as u64 <= limits.body);
    }
    assert_eq!(decode(data, usize::from(cut), limits), whole, "chunking changed the body");
});
