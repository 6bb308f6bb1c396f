//! FTP replies: any bytes, split where the input chooses. Every parsed reply re-encodes into
//! something that parses back to the same code and number of lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_ftps::codec::reply::ReplyParser;

fuzz_target!(|input: (u8, &[u8])| {
    let (cut, data) = input;
    let mut parser = ReplyParser::default();
    let mut replies = Vec::new();
    for chunk in data.chunks(usize::from(cut.max(1))) {
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
        let again = again.expect("one complete reply");
        assert_eq!((again.code(), again.lines().len()), (reply.code(), reply.lines().len().max(1)));
    }
});
