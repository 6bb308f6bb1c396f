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

use std::fmt;

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_till, take_while_m_n, take_while1};
use nom::character::complete::{char, space1};
use nom::combinator::{all_consuming, map, map_res, opt, rest, value, verify};
use nom::multi::many0;
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

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

/// Text for error messages: lossy UTF-8, escaped, at most 80 characters.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(80)
        .collect::<String>()
        .escape_debug()
        .to_string()
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

/// A point in time: seconds since 1970-01-01T00:00:00 UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The time at a UTC date and time (proleptic Gregorian calendar; `second` may be 60 for a
    /// leap second, counted as the next second), or `None` for an impossible date.
    pub fn from_utc(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<Self> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(i64::from(year), month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let days = days_from_civil(i64::from(year), month, day);
        Some(Self(
            days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second),
        ))
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    /// The UTC date and time: (year, month, day, hour, minute, second).
    pub fn to_utc(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let hms = |n: i64| u32::try_from(n).unwrap_or(0);
        (
            year,
            month,
            day,
            hms(secs / 3600),
            hms(secs / 60 % 60),
            hms(secs % 60),
        )
    }
}

impl fmt::Display for Timestamp {
    /// `2026-11-22T05:40:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.to_utc();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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

fn is_total(line: &[u8]) -> bool {
    let parsed: IResult<&[u8], _> = all_consuming((
        tag_no_case(&b"total"[..]),
        space1,
        take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b','),
        take_while_m_n(0, 64, |b: u8| b == b' '),
    ))
    .parse(line);
    parsed.is_ok()
}

fn is_type_char(b: u8) -> bool {
    b"-dlcbpsDnwC?".contains(&b)
}

fn is_mode_char(b: u8) -> bool {
    b"-rwxsStTlL?".contains(&b)
}

/// `drwxr-xr-x`, with an optional ACL/extended-attribute/SELinux marker.
fn mode(input: &[u8]) -> IResult<&[u8], &[u8]> {
    nom::combinator::recognize((
        take_while_m_n(1, 1, is_type_char),
        take_while_m_n(9, 9, is_mode_char),
        opt(take_while_m_n(1, 1, |b: u8| b"+.@".contains(&b))),
    ))
    .parse(input)
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

fn month(input: &[u8]) -> IResult<&[u8], u32> {
    const MONTHS: [&[u8]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let (rest, name) = take_while_m_n(3, 3, |b: u8| b.is_ascii_alphabetic()).parse(input)?;
    let lower = name.to_ascii_lowercase();
    match MONTHS.iter().position(|m| *m == lower.as_slice()) {
        Some(i) => Ok((rest, u32::try_from(i + 1).unwrap_or(1))),
        None => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Verify,
        ))),
    }
}

/// `HH:MM` or `H:MM`.
fn clock(input: &[u8]) -> IResult<&[u8], (u32, u32)> {
    (
        verify(digits::<u32>(1, 2), |h| *h < 24),
        preceded(char(':'), verify(digits::<u32>(2, 2), |m| *m < 60)),
    )
        .parse(input)
}

/// The time field of a Unix date: a clock time (year implied) or a year.
#[derive(Clone, Copy)]
enum TimeOrYear {
    Clock(u32, u32),
    Year(i32),
}

fn time_or_year(input: &[u8]) -> IResult<&[u8], TimeOrYear> {
    all_consuming(alt((
        map(clock, |(h, m)| TimeOrYear::Clock(h, m)),
        map(digits::<i32>(4, 4), TimeOrYear::Year),
    )))
    .parse(input)
}

/// A whitespace-separated field of a line: its start and end.
#[derive(Clone, Copy)]
struct Span(usize, usize);

fn fields(line: &[u8]) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, &b) in line.iter().enumerate() {
        match (b == b' ', start) {
            (true, Some(s)) => {
                spans.push(Span(s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push(Span(s, line.len()));
    }
    spans
}

/// A Unix date at `fields[i..]`: the time and how many fields it spans.
enum UnixDate {
    /// Month, day, clock time: the year is resolved from the reference time.
    NoYear(u32, u32, u32, u32),
    /// A full date: year, month, day, hour, minute.
    Full(i32, u32, u32, u32, u32),
}

fn unix_date(line: &[u8], f: &[Span], i: usize) -> Option<(UnixDate, usize)> {
    let text = |k: usize| f.get(i + k).map(|s| &line[s.0..s.1]);
    // `Nov 22 05:40` or `Jan  3  2024`
    if let (Some(m), Some(d), Some(t)) = (text(0), text(1), text(2)) {
        let m = all_consuming(month).parse(m).ok().map(|(_, m)| m);
        let d = all_consuming(digits::<u32>(1, 2))
            .parse(d)
            .ok()
            .map(|(_, d)| d)
            .filter(|d| (1..=31).contains(d));
        if let (Some(m), Some(d), Ok((_, t))) = (m, d, time_or_year(t)) {
            return Some(match t {
                TimeOrYear::Clock(h, mi) => (UnixDate::NoYear(m, d, h, mi), 3),
                TimeOrYear::Year(y) => (UnixDate::Full(y, m, d, 0, 0), 3),
            });
        }
    }
    // `2024-01-03 05:40` (ls --time-style=long-iso)
    if let (Some(d), Some(t)) = (text(0), text(1)) {
        let date = all_consuming((
            digits::<i32>(4, 4),
            preceded(char('-'), digits::<u32>(2, 2)),
            preceded(char('-'), digits::<u32>(2, 2)),
        ))
        .parse(d);
        if let (Ok((_, (y, m, d))), Ok((_, (h, mi)))) = (date, all_consuming(clock).parse(t)) {
            return Some((UnixDate::Full(y, m, d, h, mi), 2));
        }
    }
    None
}

/// The year among the reference year and its neighbours that puts the date nearest `now`.
fn resolve_year(month: u32, day: u32, hour: u32, minute: u32, now: i64) -> Option<Timestamp> {
    let (now_year, ..) = Timestamp(now).to_utc();
    let now_year = i32::try_from(now_year).ok()?;
    let candidates = [now_year - 1, now_year, now_year + 1]
        .into_iter()
        .filter_map(|y| Timestamp::from_utc(y, month, day, hour, minute, 0));
    // Within half a year of `now`, unless February 29th has no leap year that near.
    candidates.min_by_key(|t| (t.0 - now).abs()).or_else(|| {
        (2..=8).find_map(|k| Timestamp::from_utc(now_year - k, month, day, hour, minute, 0))
    })
}

fn parse_unix(line: &[u8], now: i64) -> Result<Entry, ListingError> {
    let bad = |why| ListingError::MalformedUnix {
        line: shown(line),
        why,
    };
    let (after_mode, mode) = terminated(mode, tag(&b" "[..]))
        .parse(line)
        .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| bad("no file mode such as drwxr-xr-x"))?;
    let offset = line.len() - after_mode.len();
    let f: Vec<Span> = fields(after_mode)
        .into_iter()
        .map(|Span(a, b)| Span(a + offset, b + offset))
        .collect();
    // The date is the first one after at least an owner and a size, with a name after it.
    let (i, date, width) = (2..f.len())
        .find_map(|i| {
            let (date, width) = unix_date(line, &f, i)?;
            let end = f.get(i + width - 1)?.1;
            (line.len() > end + 1).then_some((i, date, width))
        })
        .ok_or_else(|| bad("no date followed by a name"))?;
    let text = |k: usize| &line[f[k].0..f[k].1];
    let kind_char = mode.first().copied().unwrap_or(b'-');
    // The size, or `major, minor` for a device.
    let (size, before) = {
        let last = text(i - 1);
        let device = matches!(kind_char, b'c' | b'b');
        if device && last.contains(&b',') {
            (None, i - 1)
        } else if device && i >= 3 && text(i - 2).ends_with(b",") {
            (None, i - 2)
        } else {
            let size = all_consuming(digits::<u64>(1, 20))
                .parse(last)
                .map_err(|_| bad("the size is not a number"))?
                .1;
            (Some(size), i - 1)
        }
    };
    let lossy = |k: usize| String::from_utf8_lossy(text(k)).into_owned();
    let is_count = |k: usize| text(k).iter().all(u8::is_ascii_digit);
    let (owner, group) = match before {
        3 => (Some(lossy(1)), Some(lossy(2))),
        2 if is_count(0) => (Some(lossy(1)), None),
        2 => (Some(lossy(0)), Some(lossy(1))),
        1 => (Some(lossy(0)), None),
        0 => return Err(bad("no owner")),
        _ => return Err(bad("unexpected fields before the size")),
    };
    let modified = match date {
        UnixDate::NoYear(m, d, h, mi) => resolve_year(m, d, h, mi, now),
        UnixDate::Full(y, m, d, h, mi) => Timestamp::from_utc(y, m, d, h, mi, 0),
    }
    .ok_or_else(|| bad("no such date"))?;
    let name_start = f[i + width - 1].1 + 1;
    let name = &line[name_start..];
    let (raw_name, kind) = match kind_char {
        b'-' => (name, EntryKind::File),
        b'd' => (name, EntryKind::Directory),
        b'l' => match find(name, b" -> ") {
            Some(at) => (
                &name[..at],
                EntryKind::Symlink {
                    target: Some(String::from_utf8_lossy(&name[at + 4..]).into_owned()),
                },
            ),
            None => (name, EntryKind::Symlink { target: None }),
        },
        _ => (name, EntryKind::Other),
    };
    if raw_name.is_empty() {
        return Err(bad("empty name"));
    }
    Ok(Entry {
        size,
        modified: Some(modified),
        permissions: Some(String::from_utf8_lossy(mode).into_owned()),
        owner,
        group,
        ..Entry::from_raw_name(raw_name.to_vec(), kind)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `11-22-26  05:40AM       <DIR>          dir name` or `11-22-2026  17:40   1234 file.txt`.
fn parse_dos(line: &[u8]) -> Result<Entry, ListingError> {
    let bad = |why| ListingError::MalformedDos {
        line: shown(line),
        why,
    };
    type Dos<'a> = (
        (u32, u32, i32),
        (u32, u32, Option<bool>),
        Option<u64>,
        &'a [u8],
    );
    let parsed: IResult<&[u8], Dos<'_>> = all_consuming((
        terminated(
            (
                digits::<u32>(2, 2),
                preceded(char('-'), digits::<u32>(2, 2)),
                preceded(
                    char('-'),
                    alt((
                        digits::<i32>(4, 4),
                        map(digits::<i32>(2, 2), |y| {
                            if y < 70 { 2000 + y } else { 1900 + y }
                        }),
                    )),
                ),
            ),
            space1,
        ),
        terminated(
            (
                digits::<u32>(1, 2),
                preceded(char(':'), verify(digits::<u32>(2, 2), |m| *m < 60)),
                opt(alt((
                    value(false, tag_no_case(&b"AM"[..])),
                    value(true, tag_no_case(&b"PM"[..])),
                ))),
            ),
            space1,
        ),
        terminated(
            alt((
                value(None, tag_no_case(&b"<DIR>"[..])),
                map_res(
                    take_while1(|b: u8| b.is_ascii_digit() || b == b','),
                    |d: &[u8]| {
                        let d: Vec<u8> = d.iter().copied().filter(|b| *b != b',').collect();
                        number::<u64>(&d).map(Some)
                    },
                ),
            )),
            space1,
        ),
        rest,
    ))
    .parse(line);
    let (_, ((mo, d, y), (h, mi, pm), size, name)) =
        parsed.map_err(|_| bad("expected MM-DD-YY hh:mmAM <DIR>|size name"))?;
    let hour = match pm {
        None if h < 24 => h,
        Some(pm) if (1..=12).contains(&h) => h % 12 + if pm { 12 } else { 0 },
        _ => return Err(bad("no such hour")),
    };
    let modified = Timestamp::from_utc(y, mo, d, hour, mi, 0).ok_or_else(|| bad("no such date"))?;
    if name.is_empty() {
        return Err(bad("empty name"));
    }
    let kind = if size.is_none() {
        EntryKind::Directory
    } else {
        EntryKind::File
    };
    Ok(Entry {
        size,
        modified: Some(modified),
        ..Entry::from_raw_name(name.to_vec(), kind)
    })
}

/// Parses one `MLSD` entry (a trailing line end is ignored): `fact=value;...` then one space
/// then the name, which is everything after it (spaces, leading ones too, and `;` included).
/// Fact names are compared without case; unknown facts are kept in [`Entry::facts`]. For an
/// `MLST` reply, [`parse_mlst_entry`] takes the entry line as it comes.
pub fn parse_mlsx_line(line: &[u8]) -> Result<Entry, ListingError> {
    let line = without_line_end(line);
    let bad = |why| ListingError::MalformedMlsx {
        line: shown(line),
        why,
    };
    let fact = (
        take_while1(|b: u8| !b"=; ".contains(&b)),
        preceded(char('='), take_till(|b: u8| b == b';' || b == b' ')),
    );
    let parsed: IResult<&[u8], Facts<'_>> =
        terminated(many0(terminated(fact, char(';'))), char(' ')).parse(line);
    let (name, facts) = parsed.map_err(|_| bad("expected fact=value;... name"))?;
    if name.is_empty() {
        return Err(bad("empty name"));
    }
    // RFC 3659 7.5: fact names and values are printable; CR, LF or NUL there is a broken or
    // hostile server, and no MLSD line could carry them back.
    let control = |b: &[u8]| b.iter().any(|c| b"\r\n\0".contains(c));
    if facts.iter().any(|(n, v)| control(n) || control(v)) {
        return Err(bad("a fact holds CR, LF or NUL"));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let facts: Vec<(String, String)> = facts.into_iter().map(|(n, v)| (text(n), text(v))).collect();
    let mut entry = Entry::from_raw_name(name.to_vec(), EntryKind::Other);
    // A repeated `type` fact: the first counts, as for `Entry::fact`.
    if let Some((_, v)) = facts.iter().find(|(n, _)| n.eq_ignore_ascii_case("type")) {
        entry.kind = mlsx_kind(v);
    }
    for (n, v) in &facts {
        match n.to_ascii_lowercase().as_str() {
            "size" => {
                entry.size = Some(number(v.as_bytes()).map_err(|_| bad("size is not a number"))?)
            }
            "modify" => {
                entry.modified =
                    Some(mlsx_time(v).ok_or_else(|| bad("modify is not YYYYMMDDHHMMSS[.sss]"))?)
            }
            "perm" => entry.permissions = Some(v.clone()),
            "unix.owner" => entry.owner = Some(v.clone()),
            "unix.uid" => entry.owner = entry.owner.take().or_else(|| Some(v.clone())),
            "unix.group" => entry.group = Some(v.clone()),
            "unix.gid" => entry.group = entry.group.take().or_else(|| Some(v.clone())),
            _ => {}
        }
    }
    entry.facts = facts;
    Ok(entry)
}

/// Parses the entry line of an `MLST` reply (the middle line of `250-`...`250`), which starts
/// with one space before the facts (RFC 3659 7.2); without that space it is refused.
pub fn parse_mlst_entry(line: &[u8]) -> Result<Entry, ListingError> {
    match line.strip_prefix(b" ") {
        Some(entry) => parse_mlsx_line(entry),
        None => Err(ListingError::MalformedMlsx {
            line: shown(line),
            why: "an MLST entry line starts with a space",
        }),
    }
}

fn mlsx_kind(value: &str) -> EntryKind {
    let lower = value.to_ascii_lowercase();
    match lower.as_str() {
        "file" => EntryKind::File,
        "dir" => EntryKind::Directory,
        "cdir" => EntryKind::CurrentDir,
        "pdir" => EntryKind::ParentDir,
        "os.unix=slink" | "os.unix=symlink" => EntryKind::Symlink { target: None },
        _ => match lower.strip_prefix("os.unix=slink:") {
            Some(_) => EntryKind::Symlink {
                target: value.get("os.unix=slink:".len()..).map(str::to_owned),
            },
            None => EntryKind::Other,
        },
    }
}

/// Facts as sent: (name, value).
type Facts<'a> = Vec<(&'a [u8], &'a [u8])>;

/// The `LIST` line for `entry` in the Unix `ls -l` form servers send, without a line end
/// (append CRLF): `-rw-r--r-- 1 owner group size Nov 22 05:40 name`, the time shown only for
/// dates within six months of `now_unix` (the year otherwise), as `ls` does. Missing fields get
/// `ls`'s defaults: mode `-rw-r--r--` or `drwxr-xr-x` by kind, owner and group `ftp`, size 0,
/// time `now_unix`. A symlink with a target shows ` -> target`. It round-trips with
/// [`parse_list_line`]; a name that is empty or holds CR, LF or NUL is refused.
pub fn format_list_line(entry: &Entry, now_unix: i64) -> Result<Vec<u8>, ListingError> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let unformattable = |what, text: &[u8]| ListingError::Unformattable {
        what,
        text: shown(text),
    };
    if entry.raw_name.is_empty() || entry.raw_name.iter().any(|b| b"\r\n\0".contains(b)) {
        return Err(unformattable("name", &entry.raw_name));
    }
    let type_char = match entry.kind {
        EntryKind::Directory | EntryKind::CurrentDir | EntryKind::ParentDir => 'd',
        EntryKind::Symlink { .. } => 'l',
        EntryKind::File => '-',
        EntryKind::Other => '?',
    };
    // A mode as `ls` prints it, else one made from the kind (an MLSD `perm` fact is no mode).
    let mode = entry
        .permissions
        .as_deref()
        .filter(|p| all_consuming(mode).parse(p.as_bytes()).is_ok())
        .map(str::to_owned)
        .unwrap_or_else(|| match type_char {
            'd' => "drwxr-xr-x".to_owned(),
            c => format!("{c}rw-r--r--"),
        });
    let word = |w: Option<&str>| -> Result<String, ListingError> {
        match w {
            None | Some("") => Ok("ftp".to_owned()),
            Some(w) if w.bytes().any(|b| b.is_ascii_whitespace() || b == 0) => {
                Err(unformattable("owner or group", w.as_bytes()))
            }
            Some(w) => Ok(w.to_owned()),
        }
    };
    let (owner, group) = (word(entry.owner.as_deref())?, word(entry.group.as_deref())?);
    let time = entry.modified.unwrap_or(Timestamp(now_unix));
    let (y, mo, d, h, mi, _) = time.to_utc();
    if !(1000..=9999).contains(&y) {
        return Err(unformattable("time", time.0.to_string().as_bytes()));
    }
    let month = MONTHS[usize::try_from(mo.saturating_sub(1)).unwrap_or(0).min(11)];
    const HALF_YEAR: i64 = 182 * 86_400;
    let when = match (time.0 - now_unix).abs() < HALF_YEAR {
        true => format!("{h:02}:{mi:02}"),
        false => format!(" {y}"),
    };
    let mut line = format!(
        "{mode} 1 {owner} {group} {:>12} {month} {d:>2} {when} ",
        entry.size.unwrap_or(0)
    )
    .into_bytes();
    line.extend_from_slice(&entry.raw_name);
    if let EntryKind::Symlink { target: Some(t) } = &entry.kind {
        line.extend_from_slice(b" -> ");
        line.extend_from_slice(t.as_bytes());
    }
    Ok(line)
}

/// `YYYYMMDDHHMMSS[.sss]`, UTC.
fn mlsx_time(value: &str) -> Option<Timestamp> {
    let parsed: IResult<&[u8], _> = all_consuming((
        digits::<i32>(4, 4),
        digits::<u32>(2, 2),
        digits::<u32>(2, 2),
        digits::<u32>(2, 2),
        digits::<u32>(2, 2),
        digits::<u32>(2, 2),
        opt(preceded(char('.'), take_while1(|b: u8| b.is_ascii_digit()))),
    ))
    .parse(value.as_bytes());
    let (_, (y, mo, d, h, mi, s, _)) = parsed.ok()?;
    Timestamp::from_utc(y, mo, d, h, mi, s)
}

/// The `MLSD` entry for `entry`, without a line end (append CRLF): the facts `type`, `size`,
/// `modify`, `perm` from the entry's fields, `UNIX.owner`/`UNIX.group` from its owner and group
/// unless its facts name an owner or group already, then its other facts, then a space and
/// [`Entry::raw_name`]. It round-trips with [`parse_mlsx_line`]. A symlink target that cannot be
/// a fact value (it holds `;` or a space) is left out: the type is then `OS.unix=slink`.
pub fn format_mlsx(entry: &Entry) -> Result<Vec<u8>, ListingError> {
    let unformattable = |what, text: &str| ListingError::Unformattable {
        what,
        text: shown(text.as_bytes()),
    };
    let safe_value = |v: &str| !v.bytes().any(|b| b";\r\n\0 ".contains(&b));
    let mut out = String::new();
    let mut push = |name: &str, value: &str| -> Result<(), ListingError> {
        if name.is_empty() || name.contains('=') || !safe_value(name) {
            return Err(unformattable("fact name", name));
        }
        if !safe_value(value) {
            return Err(unformattable("fact value", value));
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        out.push(';');
        Ok(())
    };
    let kind = match &entry.kind {
        EntryKind::File => Some("file".to_owned()),
        EntryKind::Directory => Some("dir".to_owned()),
        EntryKind::CurrentDir => Some("cdir".to_owned()),
        EntryKind::ParentDir => Some("pdir".to_owned()),
        EntryKind::Symlink { target: Some(t) } if safe_value(t) => {
            Some(format!("OS.unix=slink:{t}"))
        }
        EntryKind::Symlink { .. } => Some("OS.unix=slink".to_owned()),
        EntryKind::Other => entry.fact("type").map(str::to_owned),
    };
    if let Some(kind) = kind {
        push("type", &kind)?;
    }
    if let Some(size) = entry.size {
        push("size", &size.to_string())?;
    }
    if let Some(t) = entry.modified {
        let (y, mo, d, h, mi, s) = t.to_utc();
        if !(0..=9999).contains(&y) {
            return Err(unformattable("time", &t.0.to_string()));
        }
        push("modify", &format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}"))?;
    }
    if let Some(perm) = &entry.permissions {
        push("perm", perm)?;
    }
    let has = |names: &[&str]| names.iter().any(|n| entry.fact(n).is_some());
    if let Some(owner) = entry
        .owner
        .as_deref()
        .filter(|_| !has(&["unix.owner", "unix.uid"]))
    {
        push("UNIX.owner", owner)?;
    }
    if let Some(group) = entry
        .group
        .as_deref()
        .filter(|_| !has(&["unix.group", "unix.gid"]))
    {
        push("UNIX.group", group)?;
    }
    for (name, value) in &entry.facts {
        let derived = ["type", "size", "modify", "perm"]
            .iter()
            .any(|d| name.eq_ignore_ascii_case(d));
        if !derived {
            push(name, value)?;
        }
    }
    if entry.raw_name.is_empty() || entry.raw_name.iter().any(|b| b"\r\n\0".contains(b)) {
        return Err(ListingError::Unformattable {
            what: "name",
            text: shown(&entry.raw_name),
        });
    }
    let mut line = out.into_bytes();
    line.push(b' ');
    line.extend_from_slice(&entry.raw_name);
    Ok(line)
}
