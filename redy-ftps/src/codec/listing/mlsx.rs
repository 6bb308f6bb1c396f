//! `MLSD` and `MLST` entries (RFC 3659): `type=file;size=1234;modify=20261122054000; name`.

use nom::bytes::complete::{take_till, take_while1};
use nom::character::complete::char;
use nom::combinator::{all_consuming, opt};
use nom::multi::many0;
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::{Entry, EntryKind, ListingError, Timestamp, digits, number, shown, without_line_end};

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
