//! Directory listings: LIST (Unix and DOS) and MLSD lines, framed by the line splitter from any
//! chunking. No panic; an MLSD entry that formats back parses back to the same name and kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_ftps::codec::listing::{LineSplitter, MAX_LISTING_LINE, format_mlsx, parse_list_line, parse_mlsx_line};

fuzz_target!(|input: (u8, i64, &[u8])| {
    let (cut, now, data) = input;
    let mut splitter = LineSplitter::new();
    let mut lines = Vec::new();
    for chunk in data.chunks(usize::from(cut.max(1))) {
        let mut rest = chunk;
        while !rest.is_empty() {
            match splitter.feed(rest) {
                Ok((n, line)) => {
                    assert!(line.as_ref().is_none_or(|l| l.len() <= MAX_LISTING_LINE));
                    lines.extend(line);
                    rest = &rest[n..];
                }
                Err(_) => return,
            }
        }
    }
    lines.extend(splitter.finish());
    for line in lines {
        let _ = parse_list_line(&line, now);
        if let Ok(entry) = parse_mlsx_line(&line)
            && let Ok(wire) = format_mlsx(&entry)
        {
            let again = parse_mlsx_line(&wire).expect("our own MLSD line parses");
            assert_eq!((again.raw_name, again.kind), (entry.raw_name, entry.kind));
        }
    }
});
