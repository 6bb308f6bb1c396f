//! Mailboxes: an address and an optional display name, checked once when made.

use std::fmt;
use std::str::FromStr;

use super::error::shown;
use super::{MAX_NAME, MessageError};
use crate::MAX_ADDRESS;

/// A mailbox such as `Jean Dupont <jean@example.com>` or `device@example.com`.
///
/// The address is written as is in the headers and used as is in the envelope
/// ([`address`](Self::address)), so it is refused when it could change how either is read:
/// CR, LF, NUL and other control characters, spaces, `<`, `>`, RFC 5322 specials such as `,`,
/// `;`, `(`, `"` or `\` (quoted local parts are not supported), no `@` or an empty side, a
/// malformed domain, or more than [`MAX_ADDRESS`] octets. Non-ASCII local parts and domains are
/// allowed; they need the server's SMTPUTF8 ([`needs_smtputf8`](Self::needs_smtputf8)).
///
/// The display name may be any UTF-8 text without control characters, up to [`MAX_NAME`]
/// octets; it is written as RFC 2047 encoded words when it is not plain ASCII.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mailbox {
    name: Option<String>,
    address: String,
}

impl Mailbox {
    /// A mailbox without a display name.
    pub fn new(address: &str) -> Result<Self, MessageError> {
        check_address(address)?;
        Ok(Self {
            name: None,
            address: address.to_owned(),
        })
    }

    /// A mailbox with a display name; surrounding spaces are trimmed and an empty name is none.
    pub fn with_name(name: &str, address: &str) -> Result<Self, MessageError> {
        let mut mailbox = Self::new(address)?;
        let name = name.trim();
        if name.len() > MAX_NAME {
            return Err(MessageError::TooLong {
                what: "display name",
                limit: MAX_NAME,
            });
        }
        if name.chars().any(char::is_control) {
            return Err(MessageError::InvalidHeader {
                field: "display name",
                value: shown(name),
                why: "contains a control character",
            });
        }
        if !name.is_empty() {
            mailbox.name = Some(name.to_owned());
        }
        Ok(mailbox)
    }

    /// The display name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The address, for the headers and for `MAIL FROM` / `RCPT TO`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// True when the address is not ASCII, so the server must offer SMTPUTF8.
    pub fn needs_smtputf8(&self) -> bool {
        !self.address.is_ascii()
    }
}

impl FromStr for Mailbox {
    type Err = MessageError;

    /// Parses `address`, `Name <address>` or `"Quoted, Name" <address>`.
    fn from_str(s: &str) -> Result<Self, MessageError> {
        let s = s.trim();
        let Some(rest) = s.strip_suffix('>') else {
            return Self::new(s);
        };
        let Some(open) = rest.rfind('<') else {
            return Err(MessageError::InvalidAddress {
                address: shown(s),
                why: "'>' without '<'",
            });
        };
        let name = rest[..open].trim();
        let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(quoted) => unquote(quoted),
            None if name.contains(['<', '>']) => {
                return Err(MessageError::InvalidHeader {
                    field: "display name",
                    value: shown(name),
                    why: "unquoted '<' or '>' (quote the name)",
                });
            }
            None => name.to_owned(),
        };
        Self::with_name(&name, &rest[open + 1..])
    }
}

impl fmt::Display for Mailbox {
    /// `address`, or `Name <address>` with the name quoted when it has specials (not encoded:
    /// this is for people and for [`FromStr`], not for headers).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            None => f.write_str(&self.address),
            Some(name) if name.chars().all(|c| c == ' ' || is_atext(c)) => {
                write!(f, "{name} <{}>", self.address)
            }
            Some(name) => {
                f.write_str("\"")?;
                for c in name.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                write!(f, "\" <{}>", self.address)
            }
        }
    }
}

/// Removes the backslash escapes of a quoted string's content.
fn unquote(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut escaped = false;
    for c in quoted.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

/// RFC 5322 `atext`, extended to non-ASCII by RFC 6532.
pub(crate) fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || (!c.is_ascii() && !bad(c))
}

fn bad(c: char) -> bool {
    c.is_control() || c.is_whitespace()
}

fn check_address(address: &str) -> Result<(), MessageError> {
    let refuse = |why| {
        Err(MessageError::InvalidAddress {
            address: shown(address),
            why,
        })
    };
    if address.len() > MAX_ADDRESS {
        return refuse("longer than 254 octets");
    }
    if address.chars().any(|c| bad(c) || c == '<' || c == '>') {
        return refuse("contains a control character, a space, '<' or '>'");
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return refuse("no '@'");
    };
    if local.is_empty() || domain.is_empty() {
        return refuse("expected local-part@domain");
    }
    if !local.chars().all(|c| c == '.' || is_atext(c)) {
        return refuse("the local part has a special character (quoted local parts are refused)");
    }
    match domain_problem(domain, false) {
        Some(why) => refuse(why),
        None => Ok(()),
    }
}

/// Why `domain` is not a domain name or an address literal such as `[192.0.2.1]`, if it is not.
/// With `ascii_only`, internationalised names are refused too (Message-IDs).
pub(super) fn domain_problem(domain: &str, ascii_only: bool) -> Option<&'static str> {
    if let Some(literal) = domain.strip_prefix('[') {
        let ok = literal.strip_suffix(']').is_some_and(|inner| {
            !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".:-".contains(c))
        });
        return (!ok).then_some("malformed address literal");
    }
    let domain_char =
        |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c) || (!ascii_only && !c.is_ascii());
    if domain.is_empty() {
        Some("empty domain")
    } else if !domain.chars().all(domain_char) {
        Some("malformed domain: only letters, digits, '-', '_' and '.'")
    } else if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        Some("malformed domain: empty label")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let m: Mailbox = "device@example.com".parse().unwrap();
        assert_eq!((m.name(), m.address()), (None, "device@example.com"));
        let m: Mailbox = "  Jean Dupont <jean@example.com> ".parse().unwrap();
        assert_eq!(m.name(), Some("Jean Dupont"));
        assert_eq!(m.address(), "jean@example.com");
        let m: Mailbox = r#""Dupont, \"JD\" Jean" <jd@example.com>"#.parse().unwrap();
        assert_eq!(m.name(), Some(r#"Dupont, "JD" Jean"#));
        let m: Mailbox = "<x@[192.168.1.2]>".parse().unwrap();
        assert_eq!((m.name(), m.address()), (None, "x@[192.168.1.2]"));
        let m: Mailbox = "Électricité <José@exämple.fr>".parse().unwrap();
        assert_eq!(m.name(), Some("Électricité"));
        assert!(m.needs_smtputf8());
    }

    #[test]
    fn display_parses_back() {
        for s in [
            "a@b.c",
            "Jean Dupont <jean@example.com>",
            r#""Dupont, \"JD\" \\ Jean" <jd@example.com>"#,
        ] {
            let m: Mailbox = s.parse().unwrap();
            assert_eq!(m.to_string(), s);
            assert_eq!(m.to_string().parse::<Mailbox>().unwrap(), m);
        }
    }

    #[test]
    fn injection_and_garbage_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "a@b\r\nBcc: evil@x",
            "a@b\nc",
            "a\0@b",
            "a b@c",
            "a@b>",
            "<a@b",
            "ab",
            "@b",
            "a@",
            "",
            "a,b@c",
            "a;b@c",
            "a(b)@c",
            "\"a\"@c",
            "a\\b@c",
            "a@b@c",
            "a@.b",
            "a@b..c",
            "a@b,c",
            "a@[]",
            "a@[1.2.3.4",
            "a@b\u{7f}",
            "a@b\u{85}c",
            long.as_str(),
        ] {
            for err in [
                bad.parse::<Mailbox>().unwrap_err(),
                Mailbox::new(bad).unwrap_err(),
            ] {
                assert!(
                    matches!(err, MessageError::InvalidAddress { .. }),
                    "{bad:?}: {err}"
                );
            }
        }
        assert!(Mailbox::new("a@b\n").is_err());
        assert_eq!("a@b\n".parse::<Mailbox>().unwrap().address(), "a@b");
    }

    #[test]
    fn ambiguous_names_are_refused_unless_quoted() {
        assert!("Name <a@b> <c@d>".parse::<Mailbox>().is_err());
        let m: Mailbox = r#""Name <a@b>" <c@d>"#.parse().unwrap();
        assert_eq!((m.name(), m.address()), (Some("Name <a@b>"), "c@d"));
    }

    #[test]
    fn names_with_controls_or_too_long_are_refused() {
        assert!(matches!(
            Mailbox::with_name("Evil\r\nBcc: x@y", "a@b"),
            Err(MessageError::InvalidHeader { .. })
        ));
        assert!(matches!(
            Mailbox::with_name(&"n".repeat(MAX_NAME + 1), "a@b"),
            Err(MessageError::TooLong { .. })
        ));
        assert_eq!(Mailbox::with_name("  ", "a@b").unwrap().name(), None);
    }

    #[test]
    fn every_accepted_address_is_a_valid_envelope_address() {
        for s in [
            "a@b",
            "x.y+z@example.com",
            "José@exämple.fr",
            "x@[IPv6:1::2]",
        ] {
            let m = Mailbox::new(s).unwrap();
            assert!(m.address().parse::<crate::Address>().is_ok(), "{s}");
        }
    }
}
