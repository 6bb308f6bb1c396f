//! SMTP replies: bounded line framing first, then each line parsed with nom.
//!
//! Limits: a line (with its CRLF) at most [`MAX_LINE`] bytes, a reply at most [`MAX_REPLY`]
//! bytes and [`MAX_LINES`] lines. A longer line is refused as soon as [`MAX_LINE`] bytes arrived
//! without a line end; nothing beyond the limits is ever buffered.

use std::fmt;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::{char, one_of};
use nom::combinator::{all_consuming, eof, map_res, recognize, rest, value};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use crate::Error;

/// Longest reply line, CRLF included (RFC 5321 asks for 512; real servers send more).
pub const MAX_LINE: usize = 4096;
/// Longest reply, all lines together.
pub const MAX_REPLY: usize = 64 * 1024;
/// Most lines in one reply.
pub const MAX_LINES: usize = 256;

/// An RFC 3463 enhanced status code such as `5.1.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    /// The subject, e.g. 1 for addressing.
    pub subject: u16,
    /// The detail.
    pub detail: u16,
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// A server reply: its code, enhanced code when given, and text lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    enhanced: Option<EnhancedCode>,
    lines: Vec<String>,
}

impl Reply {
    /// A reply from parts (for servers and tests); each line's text must hold no CR or LF.
    pub fn new(code: u16, lines: Vec<String>) -> Self {
        let enhanced = lines.first().and_then(|l| enhanced_code(code, l));
        Self {
            code,
            enhanced,
            lines,
        }
    }

    /// The three-digit code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The RFC 3463 code, when the first line starts with one of the same class.
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }

    /// The text lines, without codes.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 3xx: the server waits for more (354 after DATA, 334 during AUTH).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// 4xx: a transient failure, worth retrying later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The reply as the server sent it, CRLF line ends.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{sep}{line}\r\n", self.code).as_bytes());
        }
        if self.lines.is_empty() {
            out.extend_from_slice(format!("{}\r\n", self.code).as_bytes());
        }
        out
    }
}

impl fmt::Display for Reply {
    /// `550 5.1.1 no such user` (lines joined by spaces).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for line in &self.lines {
            write!(f, " {line}")?;
        }
        Ok(())
    }
}

/// Frames and parses replies from a byte stream, whatever its chunking.
#[derive(Debug, Default)]
pub struct ReplyParser {
    line: Vec<u8>,
    code: Option<u16>,
    lines: Vec<String>,
    size: usize,
}

impl ReplyParser {
    /// Takes bytes up to the end of the next complete reply and returns how many it took and
    /// the reply, if one completed. Call again with the rest.
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, Option<Reply>), Error> {
        let mut taken = 0;
        while taken < data.len() {
            let rest = &data[taken..];
            let room = MAX_LINE - self.line.len();
            match rest.iter().take(room).position(|&b| b == b'\n') {
                None if rest.len() >= room => return Err(Error::LineTooLong { limit: MAX_LINE }),
                None => {
                    self.line.extend_from_slice(rest);
                    return Ok((data.len(), None));
                }
                Some(end) => {
                    self.line.extend_from_slice(&rest[..=end]);
                    taken += end + 1;
                    if let Some(reply) = self.complete_line()? {
                        return Ok((taken, Some(reply)));
                    }
                }
            }
        }
        Ok((taken, None))
    }

    /// True when part of a reply has arrived but not its end.
    pub fn is_mid_reply(&self) -> bool {
        !self.line.is_empty() || self.code.is_some()
    }

    fn complete_line(&mut self) -> Result<Option<Reply>, Error> {
        let mut line = std::mem::take(&mut self.line);
        line.pop(); // LF
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.size += line.len() + 2;
        if self.size > MAX_REPLY || self.lines.len() >= MAX_LINES {
            return Err(Error::ReplyTooLong {
                limit: MAX_REPLY,
                lines: MAX_LINES,
            });
        }
        let (code, last, text) = parse_line(&line)?;
        match self.code {
            Some(first) if first != code => {
                return Err(Error::InconsistentCodes { first, then: code });
            }
            _ => self.code = Some(code),
        }
        self.lines.push(text);
        if !last {
            return Ok(None);
        }
        self.code = None;
        self.size = 0;
        Ok(Some(Reply::new(code, std::mem::take(&mut self.lines))))
    }
}

/// Parses one reply line without its line end: (code, is last line, text).
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), Error> {
    let parsed: IResult<&[u8], (u16, bool, &[u8])> = all_consuming((
        reply_code,
        alt((
            value(true, eof),
            value(true, char(' ')),
            value(false, char('-')),
        )),
        rest,
    ))
    .parse(line);
    match parsed {
        Ok((_, (code, last, text))) if !text.contains(&b'\r') => {
            Ok((code, last, String::from_utf8_lossy(text).into_owned()))
        }
        _ => Err(Error::MalformedReply(
            String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned(),
        )),
    }
}

fn reply_code(input: &[u8]) -> IResult<&[u8], u16> {
    map_res(
        recognize((one_of("2345"), one_of("012345"), one_of("0123456789"))),
        |digits: &[u8]| {
            std::str::from_utf8(digits)
                .map_err(|_| ())
                .and_then(|s| s.parse::<u16>().map_err(|_| ()))
        },
    )
    .parse(input)
}

/// An RFC 3463 code at the start of `text`, if its class matches the reply code's.
fn enhanced_code(code: u16, text: &str) -> Option<EnhancedCode> {
    let number = |i| {
        take_while_m_n(1, 3, |c: u8| c.is_ascii_digit()).map_res(move |d: &[u8]| parse_num(d, i))
    };
    let parsed: IResult<&[u8], (u16, u16, u16)> = terminated(
        (
            number(1),
            preceded(tag(&b"."[..]), number(3)),
            preceded(tag(&b"."[..]), number(3)),
        ),
        alt((tag(&b" "[..]), eof)),
    )
    .parse(text.as_bytes());
    let (_, (class, subject, detail)) = parsed.ok()?;
    let class = u8::try_from(class).ok()?;
    (u16::from(class) == code / 100 && matches!(class, 2 | 4 | 5)).then_some(EnhancedCode {
        class,
        subject,
        detail,
    })
}

fn parse_num(digits: &[u8], max_len: usize) -> Result<u16, ()> {
    if digits.len() > max_len {
        return Err(());
    }
    std::str::from_utf8(digits)
        .map_err(|_| ())?
        .parse()
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Reply>, Error> {
        let mut parser = ReplyParser::default();
        let mut replies = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let (n, reply) = parser.feed(rest)?;
            replies.extend(reply);
            rest = &rest[n..];
        }
        Ok(replies)
    }

    #[test]
    fn multiline_reply_with_enhanced_code() {
        let replies =
            parse_all(b"250-mail.example.com Hello\r\n250-PIPELINING\r\n250 SIZE 1000\r\n")
                .unwrap();
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].code(), 250);
        assert_eq!(
            replies[0].lines(),
            ["mail.example.com Hello", "PIPELINING", "SIZE 1000"]
        );
        let r = &parse_all(b"550 5.1.1 <x@y>: Recipient address rejected\r\n").unwrap()[0];
        assert_eq!(
            r.enhanced(),
            Some(EnhancedCode {
                class: 5,
                subject: 1,
                detail: 1
            })
        );
        assert_eq!(r.to_string(), "550 5.1.1 <x@y>: Recipient address rejected");
    }

    #[test]
    fn bare_code_bare_lf_and_two_replies_in_one_chunk() {
        let replies = parse_all(b"354\n221 2.0.0 Bye\r\n").unwrap();
        assert_eq!(
            replies.iter().map(Reply::code).collect::<Vec<_>>(),
            [354, 221]
        );
        assert_eq!(replies[0].lines(), [""]);
    }

    #[test]
    fn feed_stops_after_each_complete_reply() {
        let mut parser = ReplyParser::default();
        let input = b"220 hi\r\nEXTRA";
        let (n, reply) = parser.feed(input).unwrap();
        assert_eq!((n, reply.map(|r| r.code())), (8, Some(220)));
        assert!(!parser.is_mid_reply());
    }

    #[test]
    fn hostile_replies_are_named_errors() {
        assert_eq!(
            parse_all(b"250-a\r\n550 b\r\n"),
            Err(Error::InconsistentCodes {
                first: 250,
                then: 550
            })
        );
        assert!(matches!(
            parse_all(b"hello\r\n"),
            Err(Error::MalformedReply(_))
        ));
        assert!(matches!(
            parse_all(b"600 no\r\n"),
            Err(Error::MalformedReply(_))
        ));
        assert!(matches!(
            parse_all(b"25 short\r\n"),
            Err(Error::MalformedReply(_))
        ));
        assert!(matches!(
            parse_all(b"250x\r\n"),
            Err(Error::MalformedReply(_))
        ));
        let long = vec![b'a'; MAX_LINE + 1];
        assert_eq!(
            parse_all(&long),
            Err(Error::LineTooLong { limit: MAX_LINE })
        );
        let many: Vec<u8> = (0..MAX_LINES + 1)
            .flat_map(|_| b"250-x\r\n".to_vec())
            .collect();
        assert!(matches!(parse_all(&many), Err(Error::ReplyTooLong { .. })));
    }

    #[test]
    fn enhanced_code_needs_the_same_class() {
        assert_eq!(Reply::new(250, vec!["5.1.1 odd".into()]).enhanced(), None);
        assert_eq!(
            Reply::new(250, vec!["2.1.0 Ok".into()])
                .enhanced()
                .map(|e| e.to_string()),
            Some("2.1.0".into())
        );
        assert_eq!(Reply::new(250, vec!["2.1.0Ok".into()]).enhanced(), None);
    }
}
