//! Envelope addresses, refused before anything is sent when they could break the protocol.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Longest address (RFC 5321 §4.5.3.1.3 path limit, without the angle brackets).
pub const MAX_ADDRESS: usize = 254;

/// A mailbox address for `MAIL FROM` and `RCPT TO`, such as `device@example.com`.
///
/// Refused: CR, LF, `<`, `>`, NUL and other control characters, spaces, a missing `@` or an
/// empty side, more than [`MAX_ADDRESS`] octets. Non-ASCII is allowed (it needs SMTPUTF8).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Address(String);

impl Address {
    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the address needs the server's SMTPUTF8 extension.
    pub fn needs_utf8(&self) -> bool {
        !self.0.is_ascii()
    }
}

impl FromStr for Address {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Err(Error::InvalidAddress {
                address: s.escape_debug().to_string(),
                why: why.to_owned(),
            })
        };
        if s.len() > MAX_ADDRESS {
            return bad("longer than 254 octets");
        }
        if s.chars()
            .any(|c| c.is_control() || matches!(c, '<' | '>' | ' '))
        {
            return bad("contains a control character, a space, '<' or '>'");
        }
        match s.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                Ok(Self(s.to_owned()))
            }
            _ => bad("expected local-part@domain"),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_attempts_are_refused() {
        for bad in [
            "a@b\r\nRCPT TO:<evil@x>",
            "a@b>",
            "<a@b",
            "a\0@b",
            "a b@c",
            "ab",
            "@b",
            "a@",
            "",
        ] {
            assert!(
                matches!(bad.parse::<Address>(), Err(Error::InvalidAddress { .. })),
                "{bad:?}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(long.parse::<Address>().is_err());
    }

    #[test]
    fn ordinary_and_utf8_addresses_pass() {
        assert!(
            !"device@example.com"
                .parse::<Address>()
                .unwrap()
                .needs_utf8()
        );
        assert!("josé@exemple.fr".parse::<Address>().unwrap().needs_utf8());
        assert!("\"quoted\"@example.com".parse::<Address>().is_ok());
    }
}
