//! The chunked decoder under arbitrary splits and output room gives the same result as in one
//! piece, and never decodes more than the body limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_eshare::http::{ChunkedDecoder, Limits};

fn run(input: &[u8], step: usize, room: usize, limits: &Limits) -> (Vec<u8>, usize, bool, bool) {
    let mut d = ChunkedDecoder::new(limits);
    let (mut out, mut pos) = (Vec::new(), 0);
    let mut err = false;
    while pos < input.len() && !d.is_done() {
        let end = (pos + step).min(input.len());
        match d.decode(&input[pos..end], &mut out, room) {
            Ok(0) if room > 0 => break,
            Ok(n) => pos += n,
            Err(_) => {
                // Fatal: how much input earlier calls took no longer matters.
                err = true;
                pos = 0;
                break;
            }
        }
        assert!(out.len() as u64 <= limits.max_body);
        if room > 0 && out.len() > 1 << 16 {
            out.clear();
        }
    }
    (out, pos, d.is_done(), err)
}

fuzz_target!(|data: (u8, u8, &[u8])| {
    let (step, room, input) = data;
    let limits = Limits { max_body: 4096, max_trailer: 64, max_chunk_ext: 16, ..Limits::default() };
    let whole = run(input, input.len().max(1), 1 << 20, &limits);
    let split = run(input, usize::from(step).max(1), usize::from(room).max(1) * 1024, &limits);
    assert_eq!(whole, split);
});
