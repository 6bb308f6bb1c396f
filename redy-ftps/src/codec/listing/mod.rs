//! Directory listings as servers send them over the data connection: `LIST` in the Unix
//! `ls -l` form (vsftpd, proftpd, pure-ftpd, most Linux and embedded servers) or the DOS form
//! (IIS, FileZilla Server), and `MLSD`/`MLST` entries (RFC 3659). Bounded line framing first
//! ([`LineSplitter`]), then each line parsed with nom into one common [`Entry`].
//!
//! Limits and conventions:
//! - a line, with its line end (CRLF or a bare LF), is at most [`MAX_LISTING_LINE`] bytes; a
//!   longer one is refused as soon as that many bytes arrived without a line end, so the
//!   splitter never buffers more;
//! - names are bytes in the protocol: [`Entry::raw_name`] keeps them as sent,
//!   [`Entry::name`] is their lossy UTF-8 decoding;
//! - `LIST` times are the server's local time, without a time zone: they are taken as UTC.
//!   `MLSD` times are UTC (RFC 3659), fractions of a second dropped;
//! - a Unix date without a year (`Nov 22 05:40`) gets the year that puts it nearest the
//!   caller's reference time, i.e. within six months of it, as `ls` prints a time instead of a
//!   year only for such dates (a reference time in January resolves `Dec 31 23:59` to the
//!   previous year);
//! - `.` and `..` are reported like any name from `LIST`; from `MLSD` their `cdir`/`pdir`
//!   types give [`EntryKind::CurrentDir`] and [`EntryKind::ParentDir`].
//!
//! One file per form: `unix.rs` (`ls -l` lines, parsed and formatted), `dos.rs`, `mlsx.rs`
//! (`MLSD`/`MLST` entries, parsed and formatted) and `time.rs` (the calendar arithmetic of
//! [`Timestamp`]); [`parse_list_line`] tries the Unix form, then the DOS one.

mod dos;
mod mlsx;
mod time;
mod unix;

pub use mlsx::{format_mlsx, parse_mlst_entry, parse_mlsx_line};
pub use time::Timestamp;
pub use unix::format_list_line;

use nom::Parser;
use nom::bytes::complete::take_while_m_n;
use nom::combinator::map_res;

use super::shown;
use dos::parse_dos;
use unix::{is_total, is_type_char, parse_unix};

/// Longest listing line, its line end included.
pub const MAX_LISTING_LINE: usize = 8192;

/// What a listing parser or formatter refused, with the cause and the offending line (lossy
/// UTF-8, escaped, at most 80 characters).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    /// A line longer than [`MAX_LISTING_LINE`], refused before it was buffered whole.
    #[error("listing line longer than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A line that starts like a Unix `ls -l` line but is not one.
    #[error("malformed Unix listing line \"{line}\": {why}")]
    MalformedUnix {
        /// The line.
        line: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A line that starts like a DOS listing line but is not one.
    #[error("malformed DOS listing line \"{line}\": {why}")]
    MalformedDos {
        /// The line.
        line: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A `LIST` line in neither the Unix nor the DOS form.
    #[error("unknown listing format \"{line}\"")]
    UnknownFormat {
        /// The line.
        line: String,
    },
    /// An `MLSD`/`MLST` entry that is not `fact=value;... name`.
    #[error("malformed MLSD entry \"{line}\": {why}")]
    MalformedMlsx {
        /// The line.
        line: String,
        /// What is wrong.
        why: &'static str,
    },
    /// An entry that cannot be formatted: its name would be empty or hold CR, LF or NUL, a
    /// fact would hold `;`, `=` (in its name), a space, CR, LF or NUL, or its time has no
    /// four-digit year.
    #[error("cannot format the entry: {what} {text:?}")]
    Unformattable {
        /// What cannot be sent.
        what: &'static str,
        /// The offending text.
        text: String,
    },
}

/// Splits a listing's byte stream into lines, whatever its chunking: CRLF and bare LF both end
/// a line; a line with its line end is at most [`MAX_LISTING_LINE`] bytes.
#[derive(Debug, Default)]
pub struct LineSplitter {
    line: Vec<u8>,
}

impl LineSplitter {
    /// A splitter at the start of a listing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes bytes up to the end of the next complete line and returns how many it took and the
    /// line without its line end, if one completed. Call again with the rest. After
    /// [`ListingError::LineTooLong`] the partial line is dropped: abort the listing.
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, Option<Vec<u8>>), ListingError> {
        let room = MAX_LISTING_LINE.saturating_sub(self.line.len());
        match data.iter().take(room).position(|&b| b == b'\n') {
            None if data.len() >= room => {
                self.line.clear();
                Err(ListingError::LineTooLong {
                    limit: MAX_LISTING_LINE,
                })
            }
            None => {
                self.line.extend_from_slice(data);
                Ok((data.len(), None))
            }
            Some(end) => {
                self.line.extend_from_slice(&data[..end]);
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                Ok((end + 1, Some(std::mem::take(&mut self.line))))
            }
        }
    }

    /// At the end of the listing (the data connection closed): the last line, when it had no
    /// line end.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        (!line.is_empty()).then_some(line)
    }

    /// True when part of a line has arrived but not its end.
    pub fn is_mid_line(&self) -> bool {
        !self.line.is_empty()
    }
}

/// What an entry names.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// The listed directory itself (`MLSD` type `cdir`).
    CurrentDir,
    /// The listed directory's parent (`MLSD` type `pdir`).
    ParentDir,
    /// A symbolic link, with its target when the server showed it (`name -> target` in `LIST`,
    /// `OS.unix=slink:target` in `MLSD`).
    Symlink {
        /// The target, lossy UTF-8.
        target: Option<String>,
    },
    /// Anything else: a device, pipe, socket or a type this parser does not know (the `LIST`
    /// mode in [`Entry::permissions`] or the `MLSD` `type` fact in [`Entry::facts`] tells).
    Other,
}

/// One directory entry, from a `LIST` line or an `MLSD`/`MLST` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name, lossy UTF-8 (without the ` -> target` of a Unix symlink).
    pub name: String,
    /// The name as sent; [`format_mlsx`] sends this one.
    pub raw_name: Vec<u8>,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes, when the server gave one (not for devices or DOS directories).
    pub size: Option<u64>,
    /// Last modification.
    pub modified: Option<Timestamp>,
    /// The Unix mode as listed (`drwxr-xr-x`, with any ACL marker such as `+`), or the `MLSD`
    /// `perm` fact (`adfrw`, RFC 3659 7.5.5).
    pub permissions: Option<String>,
    /// The owner (Unix `LIST`, or the `MLSD` facts `UNIX.owner` or `UNIX.uid`).
    pub owner: Option<String>,
    /// The group (Unix `LIST` when shown, or the `MLSD` facts `UNIX.group` or `UNIX.gid`).
    pub group: Option<String>,
    /// Every `MLSD` fact as sent, names in their case, in order (empty for `LIST`).
    pub facts: Vec<(String, String)>,
}

impl Entry {
    /// An entry with just a name and a kind.
    pub fn new(name: &str, kind: EntryKind) -> Self {
        Self::from_raw_name(name.as_bytes().to_vec(), kind)
    }

    /// An entry with a name in bytes (any encoding) and a kind.
    pub fn from_raw_name(raw_name: Vec<u8>, kind: EntryKind) -> Self {
        Self {
            name: String::from_utf8_lossy(&raw_name).into_owned(),
            raw_name,
            kind,
            size: None,
            modified: None,
            permissions: None,
            owner: None,
            group: None,
            facts: Vec::new(),
        }
    }

    /// The value of an `MLSD` fact, its name compared without case.
    pub fn fact(&self, name: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Strips one trailing CRLF, LF or CR.
fn without_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses one `LIST` line (a trailing line end is ignored): `None` for blank lines and the
/// `total N` line, otherwise the entry in the Unix form, or else the DOS form. `now_unix`, the
/// reference time in Unix seconds, resolves Unix dates shown without a year.
pub fn parse_list_line(line: &[u8], now_unix: i64) -> Result<Option<Entry>, ListingError> {
    let line = without_line_end(line);
    if line.iter().all(|b| b.is_ascii_whitespace()) || is_total(line) {
        return Ok(None);
    }
    let unix = parse_unix(line, now_unix);
    if unix.is_ok() {
        return unix.map(Some);
    }
    let dos = parse_dos(line);
    if dos.is_ok() {
        return dos.map(Some);
    }
    match line.first() {
        Some(b) if b.is_ascii_digit() => dos.map(Some),
        Some(b) if is_type_char(*b) && line.len() > 10 => unix.map(Some),
        _ => Err(ListingError::UnknownFormat { line: shown(line) }),
    }
}

fn number<T: std::str::FromStr>(digits: &[u8]) -> Result<T, ()> {
    std::str::from_utf8(digits)
        .map_err(|_| ())?
        .parse()
        .map_err(|_| ())
}

fn digits<'a, T: std::str::FromStr>(
    min: usize,
    max: usize,
) -> impl Parser<&'a [u8], Output = T, Error = nom::error::Error<&'a [u8]>> {
    map_res(
        take_while_m_n(min, max, |b: u8| b.is_ascii_digit()),
        number::<T>,
    )
}
