//! What the server offers (`FEAT`, RFC 2389) and the replies with a value in them (`SIZE`,
//! `MDTM`, `PWD`).

use nom::bytes::complete::take_while_m_n;
use nom::character::complete::digit1;
use nom::combinator::{all_consuming, map_res, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::codec::listing::Timestamp;
use crate::codec::reply::Reply;

/// The features a server announced in its `FEAT` reply (all false when it has no `FEAT`).
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// `UTF8`: paths are UTF-8 (`OPTS UTF8 ON` is sent).
    pub utf8: bool,
    /// `EPSV`.
    pub epsv: bool,
    /// `MLST` (and `MLSD`).
    pub mlst: bool,
    /// `REST STREAM`: transfers can restart at an offset.
    pub rest_stream: bool,
    /// `SIZE`.
    pub size: bool,
    /// `MDTM`.
    pub mdtm: bool,
    /// Every feature line as sent, trimmed.
    pub lines: Vec<String>,
}

impl Features {
    /// Reads a `211` `FEAT` reply: the middle lines, one feature each.
    pub fn parse(reply: &Reply) -> Self {
        let mut features = Self::default();
        let lines = reply.lines();
        let middle = match lines.len() {
            0..=2 => &[][..],
            n => &lines[1..n - 1],
        };
        for line in middle {
            let line = line.trim();
            let name = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            match name.as_str() {
                "UTF8" => features.utf8 = true,
                "EPSV" => features.epsv = true,
                "MLST" => features.mlst = true,
                "SIZE" => features.size = true,
                "MDTM" => features.mdtm = true,
                "REST" => features.rest_stream |= line.to_ascii_uppercase().contains("STREAM"),
                _ => {}
            }
            features.lines.push(line.to_owned());
        }
        features
    }
}

/// The number in a `213` `SIZE` reply.
pub(crate) fn parse_size(reply: &Reply) -> Option<u64> {
    let text = reply.text().trim();
    all_consuming(map_res(
        digit1::<&str, nom::error::Error<&str>>,
        str::parse::<u64>,
    ))
    .parse(text)
    .ok()
    .map(|(_, n)| n)
}

/// The time in a `213` `MDTM` reply: `YYYYMMDDHHMMSS[.sss]`, UTC (RFC 3659 §2.3).
pub(crate) fn parse_mdtm(reply: &Reply) -> Option<Timestamp> {
    fn number(n: usize) -> impl FnMut(&str) -> IResult<&str, u32> {
        move |input| {
            map_res(
                take_while_m_n(n, n, |c: char| c.is_ascii_digit()),
                str::parse,
            )
            .parse(input)
        }
    }
    let text = reply.text().trim();
    let (_, (year, month, day, hour, minute, second, _)) = all_consuming((
        number(4),
        number(2),
        number(2),
        number(2),
        number(2),
        number(2),
        opt(preceded(nom::character::complete::char('.'), digit1)),
    ))
    .parse(text)
    .ok()?;
    Timestamp::from_utc(i32::try_from(year).ok()?, month, day, hour, minute, second)
}

/// The path in a `257` reply: `"path"` with `""` standing for one `"` (RFC 959 Appendix II).
pub(crate) fn parse_quoted_path(reply: &Reply) -> Option<String> {
    let text = reply.text();
    let rest = &text[text.find('"')? + 1..];
    let mut path = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.peek() == Some(&'"') => {
                chars.next();
                path.push('"');
            }
            '"' => return Some(path),
            c => path.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, lines: &[&str]) -> Reply {
        Reply::new(code, lines.iter().map(|l| l.to_string()).collect())
    }

    #[test]
    fn feat_reply_from_vsftpd() {
        let f = Features::parse(&reply(
            211,
            &[
                "Features:",
                " EPRT",
                " EPSV",
                " MDTM",
                " PASV",
                " PBSZ",
                " PROT",
                " REST STREAM",
                " SIZE",
                " TVFS",
                " UTF8",
                "End",
            ],
        ));
        assert!(f.utf8 && f.epsv && f.mdtm && f.size && f.rest_stream);
        assert!(!f.mlst);
        assert_eq!(f.lines.len(), 10);
    }

    #[test]
    fn feat_mlst_with_facts() {
        let f = Features::parse(&reply(
            211,
            &["Features:", " MLST type*;size*;modify*;", "End"],
        ));
        assert!(f.mlst);
    }

    #[test]
    fn size_mdtm_and_paths() {
        assert_eq!(parse_size(&reply(213, &["1048576"])), Some(1_048_576));
        assert_eq!(parse_size(&reply(213, &["12 bytes"])), None);
        assert_eq!(
            parse_mdtm(&reply(213, &["20261122054012"])),
            Timestamp::from_utc(2026, 11, 22, 5, 40, 12)
        );
        assert_eq!(
            parse_mdtm(&reply(213, &["20261122054012.345"])),
            Timestamp::from_utc(2026, 11, 22, 5, 40, 12)
        );
        assert_eq!(parse_mdtm(&reply(213, &["20261322054012"])), None);
        assert_eq!(
            parse_quoted_path(&reply(257, &["\"/a \"\"b\"\"\" is the current directory"])),
            Some("/a \"b\"".to_owned())
        );
        assert_eq!(parse_quoted_path(&reply(257, &["no quotes"])), None);
        assert_eq!(parse_quoted_path(&reply(257, &["\"unterminated"])), None);
    }
}
