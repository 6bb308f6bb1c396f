//! SMTP replies: any bytes, split at points the input chooses. Every reply parsed re-encodes and
//! parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_smtps::{Reply, ReplyParser};

fuzz_target!(|input: (u8, &[u8])| {
    let (cut, data) = input;
    let cut = usize::from(cut.max(1));
    let mut parser = ReplyParser::default();
    let mut replies = Vec::new();
    for chunk in data.chunks(cut) {
        let mut rest = chunk;
        while !rest.is_empty() {
            match parser.feed(rest) {
                Ok((n, reply)) => {
                    replies.extend(reply);
                    rest = &rest[n..];
                }
                Err(_) => return,
            }
        }
    }
    for reply in replies {
        let wire = reply.encode();
        let (n, again) = ReplyParser::default().feed(&wire).expect("our own encoding parses");
        assert_eq!(n, wire.len());
        assert_eq!(again.as_ref(), Some(&reply), "round trip");
        let _: &Reply = &reply;
    }
});
