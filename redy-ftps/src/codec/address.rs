//! Data-connection addresses: the PASV and EPSV replies, and the PORT and EPRT arguments.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use super::{CodecError, shown};

/// The address in a `227` reply: the first `h1,h2,h3,h4,p1,p2` in its text, with or without
/// parentheses (servers differ).
pub fn parse_pasv(text: &str) -> Result<SocketAddrV4, CodecError> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
        .find_map(|i| six_numbers(&text[i..]))
        .ok_or_else(|| malformed(text, "no h1,h2,h3,h4,p1,p2 in the PASV reply"))
}

/// The `h1,h2,h3,h4,p1,p2` argument of PORT.
pub fn parse_port(argument: &str) -> Result<SocketAddrV4, CodecError> {
    let argument = argument.trim();
    match six_numbers(argument) {
        Some(addr) if format_port(addr) == argument.replace(' ', "") => Ok(addr),
        _ => Err(malformed(
            argument,
            "expected h1,h2,h3,h4,p1,p2 (each 0-255)",
        )),
    }
}

/// `h1,h2,h3,h4,p1,p2`, as PORT takes and `227` shows it.
pub fn format_port(addr: SocketAddrV4) -> String {
    let [a, b, c, d] = addr.ip().octets();
    format!(
        "{a},{b},{c},{d},{},{}",
        addr.port() >> 8,
        addr.port() & 0xff
    )
}

/// The `227` reply text for `addr`.
pub fn format_pasv(addr: SocketAddrV4) -> String {
    format!("Entering Passive Mode ({}).", format_port(addr))
}

/// The port in a `229` reply: `(|||port|)`, any delimiter (RFC 2428).
pub fn parse_epsv(text: &str) -> Result<u16, CodecError> {
    let inner = text
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
        .ok_or_else(|| malformed(text, "no (|||port|) in the EPSV reply"))?;
    let mut chars = inner.chars();
    let d = chars
        .next()
        .ok_or_else(|| malformed(text, "empty EPSV address"))?;
    let fields: Vec<&str> = inner.split(d).collect();
    match fields.as_slice() {
        ["", "", "", port, ""] => port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| malformed(text, "bad EPSV port")),
        _ => Err(malformed(text, "expected (|||port|)")),
    }
}

/// The `229` reply text for `port`.
pub fn format_epsv(port: u16) -> String {
    format!("Entering Extended Passive Mode (|||{port}|)")
}

/// The `|1|h.h.h.h|port|` or `|2|ipv6|port|` argument of EPRT (RFC 2428).
pub fn parse_eprt(argument: &str) -> Result<SocketAddr, CodecError> {
    let argument = argument.trim();
    let bad = |why| malformed(argument, why);
    let d = argument
        .chars()
        .next()
        .ok_or_else(|| bad("empty EPRT argument"))?;
    if !(33..=126).contains(&(d as u32)) || d.is_ascii_digit() {
        return Err(bad("the delimiter must be a printable non-digit"));
    }
    let fields: Vec<&str> = argument.split(d).collect();
    let ["", family, host, port, ""] = fields.as_slice() else {
        return Err(bad("expected |family|address|port|"));
    };
    let ip: IpAddr = match *family {
        "1" => host
            .parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| bad("bad IPv4 address"))?,
        "2" => host
            .parse::<std::net::Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| bad("bad IPv6 address"))?,
        _ => return Err(bad("address family must be 1 (IPv4) or 2 (IPv6)")),
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad("bad port"))?;
    Ok(SocketAddr::new(ip, port))
}

/// The EPRT argument for `addr`.
pub fn format_eprt(addr: SocketAddr) -> String {
    let family = if addr.is_ipv4() { 1 } else { 2 };
    format!("|{family}|{}|{}|", addr.ip(), addr.port())
}

fn six_numbers(text: &str) -> Option<SocketAddrV4> {
    let mut numbers = [0u8; 6];
    let mut rest = text;
    for (i, slot) in numbers.iter_mut().enumerate() {
        let rest_trimmed = rest.trim_start();
        let end = rest_trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest_trimmed.len());
        if end == 0 || end > 3 {
            return None;
        }
        *slot = rest_trimmed[..end].parse().ok()?;
        rest = &rest_trimmed[end..];
        if i < 5 {
            rest = rest.trim_start().strip_prefix(',')?;
        }
    }
    let [a, b, c, d, p1, p2] = numbers;
    Some(SocketAddrV4::new(
        Ipv4Addr::new(a, b, c, d),
        u16::from(p1) << 8 | u16::from(p2),
    ))
}

fn malformed(text: &str, why: &'static str) -> CodecError {
    CodecError::MalformedAddress {
        text: shown(text.as_bytes()),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasv_replies_of_real_servers() {
        let want = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 195 * 256 + 80);
        for text in [
            "Entering Passive Mode (127,0,0,1,195,80).",
            "Entering Passive Mode 127,0,0,1,195,80",
            "=127,0,0,1,195,80",
            "Passive mode on (127, 0, 0, 1, 195, 80)",
        ] {
            assert_eq!(parse_pasv(text), Ok(want), "{text}");
        }
        assert!(parse_pasv("Entering Passive Mode (256,0,0,1,1,1)").is_err());
        assert!(parse_pasv("Entering Passive Mode").is_err());
        assert_eq!(parse_pasv(&format_pasv(want)), Ok(want));
    }

    #[test]
    fn epsv_and_eprt() {
        assert_eq!(
            parse_epsv("Entering Extended Passive Mode (|||6446|)"),
            Ok(6446)
        );
        assert_eq!(parse_epsv("Extended (!!!6446!)"), Ok(6446));
        assert!(parse_epsv("Entering Extended Passive Mode (|1|1.2.3.4|6446|)").is_err());
        assert!(parse_epsv("(|||0|)").is_err());
        assert_eq!(
            parse_eprt("|1|132.235.1.2|6275|"),
            Ok("132.235.1.2:6275".parse().unwrap())
        );
        assert_eq!(
            parse_eprt("|2|1080::8:800:200C:417A|5282|"),
            Ok("[1080::8:800:200c:417a]:5282".parse().unwrap())
        );
        for bad in [
            "",
            "|3|1.2.3.4|1|",
            "|1|1.2.3|1|",
            "|1|1.2.3.4|0|",
            "1|1.2.3.4|5|",
            "|1|1.2.3.4|5",
        ] {
            assert!(parse_eprt(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_port("10,0,0,1,4,1"),
            Ok("10.0.0.1:1025".parse().unwrap())
        );
        assert!(parse_port("10,0,0,1,4").is_err() && parse_port("10,0,0,1,4,1,9").is_err());
    }
}
