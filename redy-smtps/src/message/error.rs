//! The error type of the message builder and encoder.

/// Why a message, one of its parts, or a call to its encoder was refused. Each names the cause;
/// values from the caller are shown escaped and cut to [`SHOWN`] characters.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// An address that could break the header or the SMTP envelope.
    #[error("invalid address {address}: {why}")]
    InvalidAddress {
        /// The address, escaped and cut.
        address: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A display name, subject or other header value that cannot be written safely.
    #[error("invalid {field} {value}: {why}")]
    InvalidHeader {
        /// The header field (`display name`, `Subject`, ...).
        field: &'static str,
        /// The value, escaped and cut.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A Message-ID domain that is not a plain ASCII domain.
    #[error("invalid Message-ID domain {domain}: {why}")]
    InvalidMessageId {
        /// The domain, escaped and cut.
        domain: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A date outside what RFC 5322 can express here.
    #[error("invalid date: {why}")]
    InvalidDate {
        /// What is wrong.
        why: String,
    },
    /// An attachment whose file name or content type cannot be written safely.
    #[error("invalid attachment {filename}: {why}")]
    InvalidAttachment {
        /// The file name, escaped and cut.
        filename: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A field the message needs was not given to the builder.
    #[error("the message has no {0}")]
    Missing(&'static str),
    /// More items than the documented limit.
    #[error("too many {what}: at most {limit}")]
    TooMany {
        /// What there are too many of.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A value longer than the documented limit.
    #[error("{what} is longer than {limit} octets")]
    TooLong {
        /// What is too long.
        what: &'static str,
        /// The limit, in octets.
        limit: usize,
    },
    /// An encoder call made when the encoder cannot honour it.
    #[error("cannot {action} now: {state}")]
    NotNow {
        /// What was asked.
        action: &'static str,
        /// What the encoder is doing.
        state: &'static str,
    },
}

/// How many characters of a caller's value an error shows.
pub const SHOWN: usize = 80;

/// `value` escaped (`\r`, `\n`, `\0`, ...) and cut to [`SHOWN`] characters, quoted.
pub(crate) fn shown(value: &str) -> String {
    let mut s = String::from("\"");
    for (i, c) in value.chars().enumerate() {
        if i == SHOWN {
            s.push_str("\"...");
            return s;
        }
        s.extend(c.escape_debug());
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_cut() {
        assert_eq!(shown("a\r\nb"), r#""a\r\nb""#);
        let long = "x".repeat(1000);
        let s = shown(&long);
        assert!(s.len() < SHOWN + 10, "{s}");
        assert!(s.ends_with("\"..."));
    }
}
