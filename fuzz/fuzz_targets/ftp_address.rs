//! PASV / EPSV replies and PORT / EPRT arguments: whatever parses formats back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_ftps::codec::address::{format_eprt, format_epsv, format_pasv, format_port, parse_eprt, parse_epsv, parse_pasv, parse_port};

fuzz_target!(|text: &str| {
    if let Ok(addr) = parse_pasv(text) {
        assert_eq!(parse_pasv(&format_pasv(addr)), Ok(addr));
    }
    if let Ok(addr) = parse_port(text) {
        assert_eq!(parse_port(&format_port(addr)), Ok(addr));
    }
    if let Ok(port) = parse_epsv(text) {
        assert_eq!(parse_epsv(&format_epsv(port)), Ok(port));
    }
    if let Ok(addr) = parse_eprt(text) {
        assert_eq!(parse_eprt(&format_eprt(addr)), Ok(addr));
    }
});
