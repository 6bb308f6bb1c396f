//! FTP replies (RFC 959 §4.2): bounded line framing, then nom.
//!
//! A multiline reply starts `NNN-`, may hold any lines, and ends at the first line that starts
//! with the same code followed by a space. Limits: [`MAX_LINE`] per line (CRLF included),
//! [`MAX_REPLY`] bytes and [`MAX_LINES`] lines per reply.

use std::fmt;

use nom::branch::alt;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::char;
use nom::combinator::{all_consuming, eof, map_res, rest, value};
use nom::{IResult, Parser};

use super::listing::{LineSplitter, MAX_LISTING_LINE};
use super::{CodecError, shown};

/// Longest reply line, CRLF included (long enough for any path a server echoes); the same
/// bounded framing as listings.
pub const MAX_LINE: usize = MAX_LISTING_LINE;
/// Longest reply (FEAT, HELP and STAT replies can be long).
pub const MAX_REPLY: usize = 256 * 1024;
/// Most lines in one reply.
pub const MAX_LINES: usize = 4096;

/// A server reply: a three-digit code and its text lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// A reply from parts. Middle lines of a multiline reply are kept as sent (FEAT's start
    /// with a space).
    pub fn new(code: u16, lines: Vec<String>) -> Self {
        Self { code, lines }
    }

    /// The code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The text lines (first line's text, middle lines as sent, last line's text).
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The first line's text.
    pub fn text(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }

    /// 1xx: a preliminary reply; another follows.
    pub fn is_preliminary(&self) -> bool {
        (100..200).contains(&self.code)
    }

    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 3xx: more is needed (PASS after USER, RNTO after RNFR).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// The reply as sent, CRLF line ends. A middle line that starts with a digit is given a
    /// leading space so it cannot end the reply early.
    pub fn encode(&self) -> Vec<u8> {
        let code = self.code;
        match self.lines.as_slice() {
            [] => format!("{code} \r\n").into_bytes(),
            [only] => format!("{code} {only}\r\n").into_bytes(),
            [first, middle @ .., last] => {
                let mut out = format!("{code}-{first}\r\n");
                for line in middle {
                    let pad = if line.starts_with(|c: char| c.is_ascii_digit()) {
                        " "
                    } else {
                        ""
                    };
                    out.push_str(&format!("{pad}{line}\r\n"));
                }
                out.push_str(&format!("{code} {last}\r\n"));
                out.into_bytes()
            }
        }
    }
}

impl fmt::Display for Reply {
    /// `550 No such file` (lines joined by spaces, trimmed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for line in &self.lines {
            write!(f, " {}", line.trim())?;
        }
        Ok(())
    }
}

/// Frames and parses replies from a byte stream, whatever its chunking.
#[derive(Debug, Default)]
pub struct ReplyParser {
    splitter: LineSplitter,
    open: Option<u16>,
    lines: Vec<String>,
    size: usize,
}

impl ReplyParser {
    /// Takes bytes up to the end of the next complete reply; returns how many it took and the
    /// reply when one completed. Call again with the rest.
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, Option<Reply>), CodecError> {
        let mut taken = 0;
        while taken < data.len() {
            let (n, line) = self
                .splitter
                .feed(&data[taken..])
                .map_err(|_| CodecError::LineTooLong { limit: MAX_LINE })?;
            taken += n;
            if let Some(line) = line
                && let Some(reply) = self.complete_line(line)?
            {
                return Ok((taken, Some(reply)));
            }
        }
        Ok((taken, None))
    }

    /// True when part of a reply has arrived but not its end.
    pub fn is_mid_reply(&self) -> bool {
        self.splitter.is_mid_line() || self.open.is_some()
    }

    fn complete_line(&mut self, line: Vec<u8>) -> Result<Option<Reply>, CodecError> {
        self.size += line.len() + 2;
        if self.size > MAX_REPLY || self.lines.len() >= MAX_LINES {
            return Err(CodecError::ReplyTooLong {
                limit: MAX_REPLY,
                lines: MAX_LINES,
            });
        }
        let parsed = parse_line(&line);
        match (self.open, parsed) {
            // Inside a multiline reply: only "same code + space" ends it; anything else is text.
            (Some(code), Some((c, true, text))) if c == code => {
                self.lines.push(text);
                Ok(Some(self.finish(code)))
            }
            (Some(_), _) => {
                self.lines.push(String::from_utf8_lossy(&line).into_owned());
                Ok(None)
            }
            (None, Some((code, true, text))) => {
                self.lines.push(text);
                Ok(Some(self.finish(code)))
            }
            (None, Some((code, false, text))) => {
                self.open = Some(code);
                self.lines.push(text);
                Ok(None)
            }
            (None, None) => Err(CodecError::MalformedReply(shown(&line))),
        }
    }

    fn finish(&mut self, code: u16) -> Reply {
        self.open = None;
        self.size = 0;
        Reply::new(code, std::mem::take(&mut self.lines))
    }
}

/// `NNN text` → (code, true, text); `NNN-text` → (code, false, text).
fn parse_line(line: &[u8]) -> Option<(u16, bool, String)> {
    let code = map_res(
        take_while_m_n(3, 3, |c: u8| c.is_ascii_digit()),
        |d: &[u8]| {
            std::str::from_utf8(d)
                .map_err(|_| ())
                .and_then(|s| s.parse::<u16>().map_err(|_| ()))
        },
    );
    let parsed: IResult<&[u8], (u16, bool, &[u8])> = all_consuming((
        code,
        alt((
            value(true, char(' ')),
            value(false, char('-')),
            value(true, eof),
        )),
        rest,
    ))
    .parse(line);
    let (_, (code, last, text)) = parsed.ok()?;
    (100..600)
        .contains(&code)
        .then(|| (code, last, String::from_utf8_lossy(text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Reply>, CodecError> {
        let (mut parser, mut out, mut rest) = (ReplyParser::default(), Vec::new(), input);
        while !rest.is_empty() {
            let (n, reply) = parser.feed(rest)?;
            out.extend(reply);
            rest = &rest[n..];
        }
        Ok(out)
    }

    #[test]
    fn feat_reply_keeps_its_middle_lines() {
        let r = parse_all(b"211-Features:\r\n EPSV\r\n MLST type*;size*;modify*;\r\n PBSZ\r\n PROT\r\n211 End\r\n").unwrap();
        assert_eq!(r[0].code(), 211);
        assert_eq!(
            r[0].lines(),
            [
                "Features:",
                " EPSV",
                " MLST type*;size*;modify*;",
                " PBSZ",
                " PROT",
                "End"
            ]
        );
    }

    #[test]
    fn middle_lines_with_other_codes_do_not_end_the_reply() {
        let r = parse_all(
            b"230-Welcome\r\n220 not the end\r\n230-still going\r\n230 Login successful.\r\n",
        )
        .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].lines().len(), 4);
        assert_eq!(
            r[0].to_string(),
            "230 Welcome 220 not the end 230-still going Login successful."
        );
    }

    #[test]
    fn vsftpd_and_proftpd_lines() {
        let r = parse_all(b"227 Entering Passive Mode (127,0,0,1,195,80).\r\n150 Opening BINARY mode data connection.\r\n226\r\n").unwrap();
        assert_eq!(
            r.iter().map(Reply::code).collect::<Vec<_>>(),
            [227, 150, 226]
        );
        assert!(r[1].is_preliminary() && r[2].is_positive());
    }

    #[test]
    fn hostile_replies_are_named_errors() {
        assert!(matches!(
            parse_all(b"hello\r\n"),
            Err(CodecError::MalformedReply(_))
        ));
        assert!(matches!(
            parse_all(b"999 x\r\n"),
            Err(CodecError::MalformedReply(_))
        ));
        assert_eq!(
            parse_all(&vec![b'2'; MAX_LINE + 1]),
            Err(CodecError::LineTooLong { limit: MAX_LINE })
        );
        let endless: Vec<u8> = b"230-x\r\n"
            .iter()
            .copied()
            .chain((0..MAX_LINES).flat_map(|_| b"more\r\n".to_vec()))
            .collect();
        assert!(matches!(
            parse_all(&endless),
            Err(CodecError::ReplyTooLong { .. })
        ));
    }

    #[test]
    fn encoding_pads_middle_lines_that_start_with_digits() {
        let reply = Reply::new(
            211,
            vec!["Status".into(), "230 lookalike".into(), "End".into()],
        );
        let wire = reply.encode();
        assert_eq!(wire, b"211-Status\r\n 230 lookalike\r\n211 End\r\n");
        assert_eq!(parse_all(&wire).unwrap()[0].lines()[1], " 230 lookalike");
    }
}
