//! What a server offers in its EHLO reply.

use crate::Reply;

/// An AUTH mechanism redy can use.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// RFC 4616 PLAIN.
    Plain,
    /// The LOGIN mechanism (username, then password).
    Login,
    /// Google's and Microsoft's XOAUTH2 (an OAuth 2 bearer token).
    XOAuth2,
}

/// The extensions a server announced in its EHLO reply.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// RFC 2920 PIPELINING.
    pub pipelining: bool,
    /// RFC 1870 SIZE: `Some(0)` means no fixed limit.
    pub size: Option<u64>,
    /// RFC 6152 8BITMIME.
    pub eight_bit_mime: bool,
    /// RFC 6531 SMTPUTF8.
    pub smtp_utf8: bool,
    /// RFC 3207 STARTTLS.
    pub starttls: bool,
    /// RFC 2034 ENHANCEDSTATUSCODES.
    pub enhanced_status_codes: bool,
    /// RFC 3461 DSN.
    pub dsn: bool,
    /// RFC 3030 CHUNKING.
    pub chunking: bool,
    /// The AUTH mechanisms offered that redy knows, in the server's order.
    pub auth: Vec<Mechanism>,
}

impl Capabilities {
    /// Reads the lines after the first of an EHLO reply; unknown keywords are ignored.
    pub fn from_ehlo(reply: &Reply) -> Self {
        let mut caps = Self::default();
        for line in reply.lines().iter().skip(1) {
            let mut words = line.split([' ', '=']).filter(|w| !w.is_empty());
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => caps.pipelining = true,
                "SIZE" => caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtp_utf8 = true,
                "STARTTLS" => caps.starttls = true,
                "ENHANCEDSTATUSCODES" => caps.enhanced_status_codes = true,
                "DSN" => caps.dsn = true,
                "CHUNKING" => caps.chunking = true,
                "AUTH" => {
                    for word in words {
                        let mechanism = match word.to_ascii_uppercase().as_str() {
                            "PLAIN" => Mechanism::Plain,
                            "LOGIN" => Mechanism::Login,
                            "XOAUTH2" => Mechanism::XOAuth2,
                            _ => continue,
                        };
                        if !caps.auth.contains(&mechanism) {
                            caps.auth.push(mechanism);
                        }
                    }
                }
                _ => {}
            }
        }
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_postfix_like_ehlo() {
        let reply = Reply::new(
            250,
            [
                "mx.example Hello",
                "PIPELINING",
                "SIZE 10240000",
                "ETRN",
                "STARTTLS",
                "AUTH LOGIN PLAIN CRAM-MD5",
                "AUTH=LOGIN PLAIN",
                "ENHANCEDSTATUSCODES",
                "8BITMIME",
                "DSN",
                "SMTPUTF8",
                "CHUNKING",
            ]
            .map(String::from)
            .to_vec(),
        );
        let caps = Capabilities::from_ehlo(&reply);
        assert!(caps.pipelining && caps.starttls && caps.eight_bit_mime && caps.smtp_utf8);
        assert!(caps.enhanced_status_codes && caps.dsn && caps.chunking);
        assert_eq!(caps.size, Some(10_240_000));
        assert_eq!(caps.auth, [Mechanism::Login, Mechanism::Plain]);
    }

    #[test]
    fn the_greeting_line_is_not_a_keyword() {
        let reply = Reply::new(250, vec!["STARTTLS.example.com".into()]);
        assert_eq!(Capabilities::from_ehlo(&reply), Capabilities::default());
        let size = Capabilities::from_ehlo(&Reply::new(250, vec!["x".into(), "size".into()]));
        assert_eq!(size.size, Some(0));
    }
}
