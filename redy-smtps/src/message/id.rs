//! Message-ID from random bytes the caller draws (redy has no randomness source of its own).

use std::fmt;

use super::error::shown;
use super::{Mailbox, MessageError};

/// Longest Message-ID domain, in octets (a DNS name's limit).
pub const MAX_ID_DOMAIN: usize = 253;

/// A Message-ID such as `<5f0c…e1@device.example.com>`: 16 random bytes as 32 hex digits, `@`,
/// and a domain.
///
/// The random bytes should come from a cryptographic generator (e.g. `getrandom` on the
/// device): they make the identifier unique, and the message's MIME boundaries are derived
/// from them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MessageId {
    random: [u8; 16],
    text: String,
}

impl MessageId {
    /// `<hex(random)@domain>`. The domain must be ASCII letters, digits, `-`, `_` and dots, or an
    /// address literal such as `[192.168.1.137]`, at most [`MAX_ID_DOMAIN`] octets.
    pub fn new(random: [u8; 16], domain: &str) -> Result<Self, MessageError> {
        check_domain(domain)?;
        let mut text = String::with_capacity(34 + domain.len());
        text.push('<');
        for b in random {
            text.push(hex(b >> 4));
            text.push(hex(b & 0xf));
        }
        text.push('@');
        text.push_str(domain);
        text.push('>');
        Ok(Self { random, text })
    }

    /// A Message-ID on the domain of `sender`'s address (which must then be ASCII).
    pub fn for_sender(random: [u8; 16], sender: &Mailbox) -> Result<Self, MessageError> {
        let domain = sender
            .address()
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain);
        Self::new(random, domain)
    }

    /// The identifier with its angle brackets, as written in the header.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The random bytes it was made from (the seed of the MIME boundaries).
    pub(crate) fn random(&self) -> &[u8; 16] {
        &self.random
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn hex(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0xf)])
}

fn check_domain(domain: &str) -> Result<(), MessageError> {
    let refuse = |why| {
        Err(MessageError::InvalidMessageId {
            domain: shown(domain),
            why,
        })
    };
    if domain.len() > MAX_ID_DOMAIN {
        return refuse("longer than 253 octets");
    }
    match super::mailbox::domain_problem(domain, true) {
        Some(why) => refuse(why),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_at_domain_in_brackets() {
        let mut random = [0u8; 16];
        random[0] = 0xab;
        random[15] = 0x01;
        let id = MessageId::new(random, "redy.example.com").unwrap();
        assert_eq!(
            id.as_str(),
            "<ab000000000000000000000000000001@redy.example.com>"
        );
        assert_eq!(id.to_string(), id.as_str());
        let id = MessageId::new(random, "[192.168.1.137]").unwrap();
        assert!(id.as_str().ends_with("@[192.168.1.137]>"));
    }

    #[test]
    fn sender_domain_helper() {
        let sender = Mailbox::new("device@plant.example").unwrap();
        let id = MessageId::for_sender([7; 16], &sender).unwrap();
        assert!(id.as_str().ends_with("@plant.example>"));
        let utf8 = Mailbox::new("device@exämple.fr").unwrap();
        assert!(MessageId::for_sender([7; 16], &utf8).is_err());
    }

    #[test]
    fn bad_domains_are_refused() {
        for bad in [
            "",
            "a b",
            "a>b",
            "a\r\nb",
            ".a",
            "a.",
            "a..b",
            "[]",
            "[a",
            "exämple.fr",
        ] {
            assert!(
                matches!(
                    MessageId::new([0; 16], bad),
                    Err(MessageError::InvalidMessageId { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(MessageId::new([0; 16], &"a".repeat(254)).is_err());
    }
}
