//! The FTP codec shared by the client and the server: replies, commands, data-connection
//! addresses (PASV, EPSV, PORT, EPRT) and, from the listing module, directory listings. Each parser frames a bounded line
//! first, then parses it with nom; each has an encoder it round-trips with.

pub mod address;
pub mod command;
pub mod listing;
pub mod reply;

/// What a codec refused, with the cause and the offending text (escaped, at most 80 characters).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// A line longer than the limit, refused before it was buffered whole.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A reply over the byte or line limit.
    #[error("reply longer than {limit} bytes or {lines} lines")]
    ReplyTooLong {
        /// Byte limit.
        limit: usize,
        /// Line limit.
        lines: usize,
    },
    /// A reply line that is not `NNN text` / `NNN-text`.
    #[error("malformed reply line {0:?}")]
    MalformedReply(String),
    /// A command line that cannot be parsed (the server answers 500 or 501).
    #[error("malformed {verb} command: {why}")]
    MalformedCommand {
        /// The verb, upper-cased (empty when there was none).
        verb: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A PASV/EPSV reply or PORT/EPRT argument that is not an address.
    #[error("malformed address {text:?}: {why}")]
    MalformedAddress {
        /// The text.
        text: String,
        /// What is wrong.
        why: &'static str,
    },
    /// An argument that cannot be sent: CR, LF or NUL would end or corrupt the command.
    #[error("argument {text:?} contains CR, LF or NUL")]
    UnsafeArgument {
        /// The argument.
        text: String,
    },
}

/// Text for error messages: lossy UTF-8, escaped, at most 80 characters.
pub(crate) fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(80)
        .collect::<String>()
        .escape_debug()
        .to_string()
}
