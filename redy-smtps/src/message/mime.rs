//! MIME structure: text parts, attachments, boundaries, and the message laid out as segments.
//!
//! ```text
//! text only             text/plain (or text/html)
//! text + html           multipart/alternative [text/plain, text/html]
//! with attachments      multipart/mixed [the above, if any text, attachment, attachment, ...]
//! ```

use super::encode::Segment;
use super::error::shown;
use super::header::Header;
use super::{MAX_CONTENT_TYPE, MAX_FILENAME, MAX_LINE, MessageError};

/// An attachment: a file name and a content type now, the content later, streamed through
/// [`MessageEncoder::attachment_data`](super::MessageEncoder::attachment_data) in base64.
///
/// Checked by [`MessageBuilder::build`](super::MessageBuilder::build): the file name must be
/// 1 to [`MAX_FILENAME`] octets without control characters (non-ASCII names are written with
/// RFC 2231); the content type must be `type/subtype` in RFC 2045 token characters, at most
/// [`MAX_CONTENT_TYPE`] octets, and neither `multipart/*` nor `message/*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    filename: String,
    content_type: String,
}

impl Attachment {
    /// An attachment named `filename` (e.g. `journal.csv`) of type `content_type` (e.g.
    /// `text/csv` or `application/octet-stream`).
    pub fn new(filename: impl Into<String>, content_type: impl Into<String>) -> Self {
        Self {
            filename: filename.into(),
            content_type: content_type.into(),
        }
    }

    /// The file name.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The content type.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    pub(crate) fn check(&self) -> Result<(), MessageError> {
        let refuse = |why| {
            Err(MessageError::InvalidAttachment {
                filename: shown(&self.filename),
                why,
            })
        };
        if self.filename.is_empty() {
            return refuse("empty file name");
        }
        if self.filename.len() > MAX_FILENAME {
            return refuse("file name longer than 255 octets");
        }
        if self.filename.chars().any(char::is_control) {
            return refuse("control character in the file name");
        }
        if self.content_type.len() > MAX_CONTENT_TYPE {
            return refuse("content type longer than 127 octets");
        }
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| (b'!'..=b'~').contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b))
        };
        match self.content_type.split_once('/') {
            Some((t, sub)) if token(t) && token(sub) => {
                if t.eq_ignore_ascii_case("multipart") || t.eq_ignore_ascii_case("message") {
                    return refuse("multipart/* and message/* cannot be base64 attachments");
                }
                Ok(())
            }
            _ => refuse("content type is not type/subtype"),
        }
    }
}

/// How a text part is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transfer {
    SevenBit,
    QuotedPrintable,
}

/// A text or HTML body, encoded once when the message is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TextPart {
    subtype: &'static str,
    transfer: Transfer,
    body: Vec<u8>,
}

impl TextPart {
    /// Line ends made CRLF; `7bit` when the text is ASCII without NUL and every line is at
    /// most 998 octets, quoted-printable otherwise.
    pub(crate) fn new(subtype: &'static str, text: &str) -> Self {
        let body = crlf(text.as_bytes());
        let seven_bit = body.is_ascii()
            && !body.contains(&0)
            && body
                .split(|&b| b == b'\n')
                .all(|line| line.strip_suffix(b"\r").unwrap_or(line).len() <= MAX_LINE);
        let mut part = Self {
            subtype,
            transfer: Transfer::SevenBit,
            body,
        };
        if !seven_bit {
            part.make_quoted_printable();
        }
        part
    }

    /// Re-encodes a 7bit part as quoted-printable, whose output never holds `=_` (so never a
    /// boundary of ours).
    fn make_quoted_printable(&mut self) {
        if self.transfer == Transfer::SevenBit {
            self.body = quoted_printable::encode(&self.body);
            self.transfer = Transfer::QuotedPrintable;
        }
    }

    fn contains(&self, needle: &[u8]) -> bool {
        self.body.windows(needle.len()).any(|w| w == needle)
    }

    fn headers(&self, out: &mut Vec<u8>) {
        let mut h = Header::new("Content-Type");
        h.word(&format!("text/{}", self.subtype));
        h.param("charset", "utf-8");
        h.finish(out);
        let mut h = Header::new("Content-Transfer-Encoding");
        h.word(match self.transfer {
            Transfer::SevenBit => "7bit",
            Transfer::QuotedPrintable => "quoted-printable",
        });
        h.finish(out);
    }
}

/// `data` with CRLF, bare CR and bare LF all made CRLF.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// The body of a message: its text parts and the boundaries chosen for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mime {
    /// Text, then HTML; either may be absent.
    parts: Vec<TextPart>,
    /// Boundary of the multipart/alternative, when there are two parts.
    alternative: Option<String>,
    /// Boundary of the multipart/mixed, when there are attachments.
    mixed: Option<String>,
}

/// Boundary attempts before colliding text parts are made quoted-printable instead.
const BOUNDARY_TRIES: u16 = 16;

impl Mime {
    pub(crate) fn new(
        text: Option<&str>,
        html: Option<&str>,
        attachments: usize,
        random: &[u8; 16],
    ) -> Self {
        let mut parts: Vec<TextPart> = Vec::new();
        if let Some(text) = text {
            parts.push(TextPart::new("plain", text));
        }
        if let Some(html) = html {
            parts.push(TextPart::new("html", html));
        }
        if parts.is_empty() && attachments == 0 {
            parts.push(TextPart::new("plain", ""));
        }
        let mut counter = 0;
        let mixed = (attachments > 0).then(|| boundary(random, &mut counter, &mut parts));
        let alternative = (parts.len() > 1).then(|| boundary(random, &mut counter, &mut parts));
        Self {
            parts,
            alternative,
            mixed,
        }
    }

    /// The text parts as they will be written (for tests and size estimates).
    #[cfg(test)]
    pub(crate) fn bodies(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(|p| p.body.as_slice())
    }

    /// Appends the root entity's headers, the blank line and the body to `plan`.
    pub(crate) fn lay_out<'a>(&'a self, attachments: &[super::Attachment], plan: &mut Plan<'a>) {
        match &self.mixed {
            Some(mixed) => {
                multipart_header("mixed", mixed, plan.bytes());
                let mut first = true;
                if !self.parts.is_empty() {
                    delimiter(mixed, &mut first, plan.bytes());
                    self.lay_out_text(plan);
                }
                for (index, attachment) in attachments.iter().enumerate() {
                    delimiter(mixed, &mut first, plan.bytes());
                    attachment_headers(attachment, plan.bytes());
                    plan.bytes().extend_from_slice(b"\r\n");
                    plan.attachment(index);
                }
                close(mixed, plan.bytes());
            }
            None => self.lay_out_text(plan),
        }
        // The last line ends with CRLF: after a close delimiter, or after a single text part.
        let body_ended = match (&self.mixed, &self.alternative, self.parts.first()) {
            (None, None, Some(part)) => part.body.is_empty() || part.body.ends_with(b"\r\n"),
            _ => false,
        };
        if !body_ended {
            plan.bytes().extend_from_slice(b"\r\n");
        }
    }

    /// The text entity: multipart/alternative or the one text part (headers, blank line, body).
    fn lay_out_text<'a>(&'a self, plan: &mut Plan<'a>) {
        match (&self.alternative, self.parts.as_slice()) {
            (Some(alternative), parts) => {
                multipart_header("alternative", alternative, plan.bytes());
                let mut first = true;
                for part in parts {
                    delimiter(alternative, &mut first, plan.bytes());
                    part.headers(plan.bytes());
                    plan.bytes().extend_from_slice(b"\r\n");
                    plan.borrowed(&part.body);
                }
                close(alternative, plan.bytes());
            }
            (None, [part, ..]) => {
                part.headers(plan.bytes());
                plan.bytes().extend_from_slice(b"\r\n");
                plan.borrowed(&part.body);
            }
            (None, []) => {}
        }
    }
}

/// `=_redy_<32 hex>_<3 digits>`: `=_` never occurs in base64 nor in quoted-printable, and a
/// fixed-width counter keeps one boundary from being a prefix of another. Tried against the
/// text parts (held in memory); after [`BOUNDARY_TRIES`] collisions the colliding parts become
/// quoted-printable.
fn boundary(random: &[u8; 16], counter: &mut u16, parts: &mut [TextPart]) -> String {
    let make = |n: u16| {
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        format!("=_redy_{hex}_{n:03}")
    };
    for _ in 0..BOUNDARY_TRIES {
        let candidate = make(*counter);
        *counter += 1;
        if !parts.iter().any(|p| p.contains(candidate.as_bytes())) {
            return candidate;
        }
    }
    let candidate = make(*counter);
    *counter += 1;
    for part in parts.iter_mut() {
        if part.contains(candidate.as_bytes()) {
            part.make_quoted_printable();
        }
    }
    candidate
}

fn multipart_header(subtype: &str, boundary: &str, out: &mut Vec<u8>) {
    let mut h = Header::new("Content-Type");
    h.word(&format!("multipart/{subtype}"));
    h.param("boundary", boundary);
    h.finish(out);
    out.extend_from_slice(b"\r\n");
}

/// `--boundary` CRLF, preceded by the CRLF that belongs to it except before the first part.
fn delimiter(boundary: &str, first: &mut bool, out: &mut Vec<u8>) {
    if !std::mem::take(first) {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// CRLF `--boundary--` (no CRLF after: the enclosing entity adds it).
fn close(boundary: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--");
}

fn attachment_headers(attachment: &super::Attachment, out: &mut Vec<u8>) {
    let mut h = Header::new("Content-Type");
    h.word(&attachment.content_type);
    h.param("name", &attachment.filename);
    h.finish(out);
    let mut h = Header::new("Content-Transfer-Encoding");
    h.word("base64");
    h.finish(out);
    let mut h = Header::new("Content-Disposition");
    h.word("attachment");
    h.param("filename", &attachment.filename);
    h.finish(out);
}

/// The message being laid out as segments: bytes written here, text bodies borrowed from the
/// message, attachments streamed by the encoder.
#[derive(Default)]
pub(crate) struct Plan<'a> {
    segments: Vec<Segment<'a>>,
    current: Vec<u8>,
}

impl<'a> Plan<'a> {
    /// The bytes being written.
    pub(crate) fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.current
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            self.segments
                .push(Segment::Owned(std::mem::take(&mut self.current)));
        }
    }

    fn borrowed(&mut self, body: &'a [u8]) {
        self.flush();
        self.segments.push(Segment::Borrowed(body));
    }

    fn attachment(&mut self, index: usize) {
        self.flush();
        self.segments.push(Segment::Attachment(index));
    }

    /// The segments, in order.
    pub(crate) fn finish(mut self) -> Vec<Segment<'a>> {
        self.flush();
        self.segments
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn line_ends_become_crlf() {
        assert_eq!(crlf(b"a\nb\rc\r\nd\n\re"), b"a\r\nb\r\nc\r\nd\r\n\r\ne");
        assert_eq!(crlf(b"\r"), b"\r\n");
    }

    #[test]
    fn seven_bit_or_quoted_printable() {
        assert_eq!(
            TextPart::new("plain", "hi\nthere").transfer,
            Transfer::SevenBit
        );
        let long = "x".repeat(MAX_LINE);
        assert_eq!(TextPart::new("plain", &long).transfer, Transfer::SevenBit);
        let longer = "x".repeat(MAX_LINE + 1);
        assert_eq!(
            TextPart::new("plain", &longer).transfer,
            Transfer::QuotedPrintable
        );
        assert_eq!(
            TextPart::new("plain", "é").transfer,
            Transfer::QuotedPrintable
        );
        assert_eq!(
            TextPart::new("plain", "a\0b").transfer,
            Transfer::QuotedPrintable
        );
    }

    #[test]
    fn boundaries_avoid_text_parts() {
        let random = [0x11; 16];
        let hex = "11".repeat(16);
        // The text holds the first 20 candidates: the chosen boundary is none of them and
        // the text part became quoted-printable.
        let text: String = (0..20)
            .map(|n| format!("--=_redy_{hex}_{n:03}\n"))
            .collect();
        let mime = Mime::new(Some(&text), Some("<p>hi</p>"), 1, &random);
        let mixed = mime.mixed.clone().unwrap();
        let alternative = mime.alternative.clone().unwrap();
        assert_ne!(mixed, alternative);
        for body in mime.bodies() {
            let body = std::str::from_utf8(body).unwrap();
            assert!(
                !body.contains(&mixed) && !body.contains(&alternative),
                "{body}"
            );
        }
        assert_eq!(mime.parts[0].transfer, Transfer::QuotedPrintable);
        // Text that only holds the first candidate keeps 7bit and gets the next one.
        let text = format!("--=_redy_{hex}_000");
        let mime = Mime::new(Some(&text), None, 1, &random);
        assert_eq!(mime.mixed.unwrap(), format!("=_redy_{hex}_001"));
        assert_eq!(mime.parts[0].transfer, Transfer::SevenBit);
    }

    #[test]
    fn attachment_checks() {
        assert!(Attachment::new("journal.csv", "text/csv").check().is_ok());
        assert!(
            Attachment::new("relevé.csv", "application/octet-stream")
                .check()
                .is_ok()
        );
        for (name, ty) in [
            ("", "text/csv"),
            ("a\r\nb", "text/csv"),
            ("a", "text"),
            ("a", "text/csv; charset=utf-8"),
            ("a", "text/"),
            ("a", "multipart/mixed"),
            ("a", "Message/rfc822"),
        ] {
            assert!(
                matches!(
                    Attachment::new(name, ty).check(),
                    Err(MessageError::InvalidAttachment { .. })
                ),
                "{name:?} {ty:?}"
            );
        }
        assert!(
            Attachment::new("x".repeat(256), "text/csv")
                .check()
                .is_err()
        );
    }
}
