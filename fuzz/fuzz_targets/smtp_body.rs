//! The DATA body encoder: any message in any chunks. Unstuffing gives back the CRLF-normalised
//! input, and no line of the input can end the message early.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_smtps::{BodyEncoder, unstuff};

fuzz_target!(|input: (u8, &[u8])| {
    let (cut, data) = input;
    let mut encoder = BodyEncoder::new();
    let mut wire = Vec::new();
    for chunk in data.chunks(usize::from(cut.max(1))) {
        encoder.encode(chunk, &mut wire);
    }
    encoder.finish(&mut wire);
    assert!(wire.len() <= 2 * data.len() + 5, "bounded growth");
    let body = &wire[..wire.len() - 3];
    assert!(!body.windows(5).any(|w| w == b"\r\n.\r\n") && !body.starts_with(b".\r\n"), "no early end");
    let plain = unstuff(&wire).expect("terminated");
    // Normalise the input as the encoder must have.
    let mut want = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' if data.get(i + 1) == Some(&b'\n') => {
                want.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => want.extend_from_slice(b"\r\n"),
            b => want.push(b),
        }
        i += 1;
    }
    if !want.is_empty() && !want.ends_with(b"\r\n") {
        want.extend_from_slice(b"\r\n");
    }
    assert_eq!(plain, want);
});
