//! Request and response heads: framing and parsing never panic, stay within the limits, and a
//! parsed head re-encodes to bytes that parse to the same head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_eshare::http::{Limits, head};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(Some(n)) = head::frame(data, limits.max_head) else { return };
    assert!(n <= limits.max_head);
    let raw = &data[..n];
    if let Ok(req) = head::parse_request(raw, &limits) {
        assert!(req.headers.len() <= limits.max_headers);
        let _ = head::request_body(&req, &limits);
        let mut out = Vec::new();
        req.encode(&mut out);
        if out.len() <= limits.max_head {
            assert_eq!(head::parse_request(&out, &limits).ok().as_ref(), Some(&req));
        }
    }
    if let Ok(resp) = head::parse_response(raw, &limits) {
        assert!(resp.headers.len() <= limits.max_headers);
        let _ = head::response_body(&resp, "GET", &limits);
        let mut out = Vec::new();
        resp.encode(&mut out);
        if out.len() <= limits.max_head {
            assert_eq!(head::parse_response(&out, &limits).ok().as_ref(), Some(&resp));
        }
    }
});
