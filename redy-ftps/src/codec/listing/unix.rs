//! `LIST` lines in the Unix `ls -l` form: `drwxr-xr-x 2 owner group 4096 Nov 22 05:40 name`,
//! with the date's year resolved from a reference time when `ls` showed a clock time instead.

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while_m_n, take_while1};
use nom::character::complete::{char, space1};
use nom::combinator::{all_consuming, map, opt, verify};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::{Entry, EntryKind, ListingError, Timestamp, digits, shown};

pub(super) fn is_total(line: &[u8]) -> bool {
    let parsed: IResult<&[u8], _> = all_consuming((
        tag_no_case(&b"total"[..]),
        space1,
        take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b','),
        take_while_m_n(0, 64, |b: u8| b == b' '),
    ))
    .parse(line);
    parsed.is_ok()
}

pub(super) fn is_type_char(b: u8) -> bool {
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

pub(super) fn parse_unix(line: &[u8], now: i64) -> Result<Entry, ListingError> {
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

/// The `LIST` line for `entry` in the Unix `ls -l` form servers send, without a line end
/// (append CRLF): `-rw-r--r-- 1 owner group size Nov 22 05:40 name`, the time shown only for
/// dates within six months of `now_unix` (the year otherwise), as `ls` does. Missing fields get
/// `ls`'s defaults: mode `-rw-r--r--` or `drwxr-xr-x` by kind, owner and group `ftp`, size 0,
/// time `now_unix`. A symlink with a target shows ` -> target`. It round-trips with
/// [`parse_list_line`](super::parse_list_line); a name that is empty or holds CR, LF or NUL is refused.
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
