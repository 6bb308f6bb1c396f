//! FTP command lines as a server receives them: whatever parses, re-encodes (unless it holds
//! bytes that must never be sent) and parses back to the same command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_ftps::codec::command::Command;

fuzz_target!(|line: &[u8]| {
    let Ok(command) = Command::parse(line) else { return };
    let Ok(wire) = command.encode() else { return };
    assert!(wire.ends_with(b"\r\n") && !wire[..wire.len() - 2].contains(&b'\n'), "one line");
    assert_eq!(Command::parse(&wire).expect("our own encoding parses"), command);
});
