//! `LIST` lines in the DOS form (IIS, FileZilla Server):
//! `11-22-26  05:40AM       <DIR>          dir name`.

use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take_while1};
use nom::character::complete::{char, space1};
use nom::combinator::{all_consuming, map, map_res, opt, rest, value, verify};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::{Entry, EntryKind, ListingError, Timestamp, digits, number, shown};

/// `11-22-26  05:40AM       <DIR>          dir name` or `11-22-2026  17:40   1234 file.txt`.
pub(super) fn parse_dos(line: &[u8]) -> Result<Entry, ListingError> {
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
