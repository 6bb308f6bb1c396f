//! Messages as a reader sees them: headers decoded back, the MIME tree walked, bodies decoded,
//! the stream the same whatever the chunking, and Python's `email` package as a second reader.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use redy_smtps::message::{
    ATTACHMENT_BUFFER, Attachment, MAX_ATTACHMENTS, MAX_LINE, MAX_RECIPIENTS, MAX_TEXT, Mailbox,
    Message, MessageBuilder, MessageError, MessageId, Step,
};

// ---------------------------------------------------------------------------------------------
// Driving the encoder

/// Encodes `message`, feeding `attachments[i]` in pieces of `chunks` (cycled) and pulling
/// `maxes` (cycled) bytes at a time.
fn encode_with(
    message: &Message,
    attachments: &[Vec<u8>],
    chunks: &[usize],
    maxes: &[usize],
) -> Vec<u8> {
    let mut encoder = message.encoder();
    let mut out = Vec::new();
    let mut fed = vec![0; attachments.len()];
    for k in 0.. {
        let max = maxes[k % maxes.len()];
        let before = out.len();
        let step = encoder.next(&mut out, max);
        assert!(out.len() - before <= max, "more than max appended");
        match step {
            Step::Data => assert_eq!(out.len() - before, max),
            Step::NeedAttachment(i) => {
                let rest = &attachments[i][fed[i]..];
                if rest.is_empty() {
                    encoder.attachment_end().unwrap();
                } else {
                    let offer = chunks[k % chunks.len()].clamp(1, rest.len());
                    let took = encoder.attachment_data(&rest[..offer]).unwrap();
                    assert!(took > 0 && took <= offer, "took {took} of {offer}");
                    fed[i] += took;
                }
            }
            Step::Done => break,
        }
    }
    assert!(encoder.is_done());
    assert_eq!(encoder.next(&mut out, 100), Step::Done);
    out
}

fn encode(message: &Message, attachments: &[&[u8]]) -> Vec<u8> {
    let owned: Vec<Vec<u8>> = attachments.iter().map(|a| a.to_vec()).collect();
    encode_with(message, &owned, &[usize::MAX], &[usize::MAX])
}

fn id() -> MessageId {
    MessageId::new(
        *b"\x5f\x0c\x91\x22\xa7\x01\xee\x43\x19\x80\x7d\x3b\xc4\x55\x02\xe1",
        "redy.example.com",
    )
    .unwrap()
}

fn mailbox(s: &str) -> Mailbox {
    s.parse().unwrap()
}

/// A minimal valid message: From, To, Date, Message-ID.
fn base() -> MessageBuilder {
    Message::builder()
        .from(mailbox("REDY <redy@plant.example>"))
        .to(mailbox("ops@example.com"))
        .date(1_795_322_400, 60)
        .message_id(id())
}

// ---------------------------------------------------------------------------------------------
// Reading messages back (a small reader written for the tests)

struct Entity {
    /// Unfolded header fields, names as written.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Entity {
    fn parse(bytes: &[u8]) -> Self {
        let split = find(bytes, b"\r\n\r\n")
            .map_or((bytes, &b""[..]), |i| (&bytes[..i + 2], &bytes[i + 4..]));
        let head = std::str::from_utf8(split.0).unwrap();
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split_terminator("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                headers.last_mut().unwrap().1.push_str(line);
            } else {
                let (name, value) = line.split_once(':').expect(line);
                headers.push((name.to_owned(), value.trim_start().to_owned()));
            }
        }
        Self {
            headers,
            body: split.1.to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    /// The content type (lowercase) and its parameters, RFC 2231 sections joined and decoded.
    fn content_type(&self) -> (String, Vec<(String, String)>) {
        params(self.header("Content-Type").unwrap_or("text/plain"))
    }

    fn param(&self, header: &str, name: &str) -> Option<String> {
        let (_, params) = params(self.header(header)?);
        params.into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The body with its transfer encoding undone.
    fn decoded(&self) -> Vec<u8> {
        match self
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase()
            .as_str()
        {
            "7bit" => self.body.clone(),
            "quoted-printable" => {
                quoted_printable::decode(&self.body, quoted_printable::ParseMode::Strict).unwrap()
            }
            "base64" => {
                let text: Vec<u8> = self
                    .body
                    .iter()
                    .copied()
                    .filter(|b| !b" \r\n".contains(b))
                    .collect();
                STANDARD.decode(text).unwrap()
            }
            other => panic!("unexpected transfer encoding {other}"),
        }
    }

    /// The parts of a multipart entity, checking the delimiters on the way: exactly one
    /// `--boundary--`, nothing but the parts between the first and the closing delimiter.
    fn parts(&self) -> Vec<Entity> {
        let (_, params) = self.content_type();
        let boundary = params
            .iter()
            .find(|(n, _)| n == "boundary")
            .map(|(_, v)| v.clone())
            .unwrap();
        assert!(boundary.len() <= 70);
        let open = format!("--{boundary}\r\n");
        let next = format!("\r\n--{boundary}\r\n");
        let close = format!("\r\n--{boundary}--");
        assert!(
            self.body.starts_with(open.as_bytes()),
            "no opening delimiter"
        );
        assert_eq!(count(&self.body, close.as_bytes()), 1, "closing delimiter");
        let end = find(&self.body, close.as_bytes()).unwrap();
        let after = &self.body[end + close.len()..];
        assert!(after.is_empty() || after == b"\r\n", "epilogue {after:?}");
        let inner = &self.body[open.len()..end];
        split(inner, next.as_bytes())
            .into_iter()
            .map(Entity::parse)
            .collect()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn split<'a>(mut data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find(data, sep) {
        out.push(&data[..i]);
        data = &data[i + sep.len()..];
    }
    out.push(data);
    out
}

/// `type/subtype; a=b; c="d"; e*=utf-8''%C3%A9; f*0*=..; f*1*=..`.
fn params(value: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => pieces.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    pieces.push(current);
    let kind = pieces.remove(0).trim().to_ascii_lowercase();
    let mut plain: Vec<(String, String)> = Vec::new();
    let mut extended: Vec<(String, u32, String)> = Vec::new();
    for piece in pieces {
        let (name, value) = piece.trim().split_once('=').unwrap();
        let name = name.to_ascii_lowercase();
        match name.split_once('*') {
            None => plain.push((name, value.to_owned())),
            Some((base, rest)) => {
                let section = rest.trim_end_matches('*').parse().unwrap_or(0);
                extended.push((base.to_owned(), section, value.to_owned()));
            }
        }
    }
    extended.sort_by_key(|(n, s, _)| (n.clone(), *s));
    let mut joined: Vec<(String, String)> = Vec::new();
    for (name, _, value) in extended {
        match joined.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push_str(&value),
            None => joined.push((name, value)),
        }
    }
    for (name, value) in joined {
        let encoded = value.strip_prefix("utf-8''").expect("utf-8 charset");
        plain.push((name, String::from_utf8(percent_decode(encoded)).unwrap()));
    }
    (kind, plain)
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (B and Q, UTF-8), dropping the white space between
/// adjacent words as RFC 2047 §6.2 says; checks each word is at most 75 characters.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut pending_space = String::new();
    let mut after_word = false;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        if ws > 0 {
            pending_space.push_str(&rest[..ws]);
            rest = &rest[ws..];
            continue;
        }
        let token_end = rest.find([' ', '\t']).unwrap_or(rest.len());
        let token = &rest[..token_end];
        rest = &rest[token_end..];
        match decode_word(token) {
            Some(text) => {
                if !after_word {
                    out.push_str(&pending_space);
                }
                out.push_str(&text);
                after_word = true;
            }
            None => {
                out.push_str(&pending_space);
                out.push_str(token);
                after_word = false;
            }
        }
        pending_space.clear();
    }
    out.push_str(&pending_space);
    out
}

fn decode_word(token: &str) -> Option<String> {
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut it = inner.splitn(3, '?');
    let (charset, encoding, text) = (it.next()?, it.next()?, it.next()?);
    assert!(token.len() <= 75, "encoded word longer than 75: {token}");
    assert!(charset.eq_ignore_ascii_case("utf-8"));
    let bytes = if encoding.eq_ignore_ascii_case("B") {
        STANDARD.decode(text).unwrap()
    } else {
        let q = text.as_bytes();
        let mut bytes = Vec::new();
        let mut i = 0;
        while i < q.len() {
            match q[i] {
                b'_' => bytes.push(b' '),
                b'=' => {
                    bytes.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                b => bytes.push(b),
            }
            i += 1;
        }
        bytes
    };
    Some(String::from_utf8(bytes).expect("an encoded word splits a character"))
}

/// Every line ends with CRLF (no bare CR or LF) and has at most 998 octets.
fn assert_lines(out: &[u8]) {
    assert!(out.ends_with(b"\r\n"), "output does not end with CRLF");
    for (n, line) in split(&out[..out.len() - 2], b"\r\n")
        .into_iter()
        .enumerate()
    {
        assert!(
            !line.contains(&b'\r') && !line.contains(&b'\n'),
            "bare CR or LF on line {n}"
        );
        assert!(line.len() <= MAX_LINE, "line {n} has {} octets", line.len());
    }
}

/// The caller's text as it comes out: CRLF line ends.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

// ---------------------------------------------------------------------------------------------
// Headers

#[test]
fn headers_are_present_and_utf8_is_encoded() {
    let subject = "Alarme température — four n°3 dépasse 250 °C depuis 10 minutes, \
                   intervention demandée";
    let message = Message::builder()
        .from(mailbox("Léa Martin <lea@plant.example>"))
        .to(mailbox("Jean Dupont <jean@example.com>"))
        .to(mailbox("\"Dupont, Marie\" <marie@example.com>"))
        .to(mailbox("astreinte@example.com"))
        .cc(mailbox("Zoë Ørsted-Ångström <zoe@example.dk>"))
        .reply_to(mailbox("Service maintenance <maintenance@plant.example>"))
        .subject(subject)
        .date(1_795_322_400, 60)
        .message_id(id())
        .text("Bonjour,\n\nle four n°3 est en alarme.\n")
        .build()
        .unwrap();
    let out = encode(&message, &[]);
    assert_lines(&out);
    let head = &out[..find(&out, b"\r\n\r\n").unwrap()];
    for line in std::str::from_utf8(head).unwrap().split("\r\n") {
        assert!(line.len() <= 78, "header line over 78: {line}");
        assert!(line.is_ascii(), "raw UTF-8 in a header: {line}");
    }
    let m = Entity::parse(&out);
    for name in [
        "Date",
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Subject",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
    ] {
        assert_eq!(m.count(name), 1, "{name}");
    }
    assert_eq!(m.header("Date"), Some("Sun, 22 Nov 2026 05:40:00 +0100"));
    assert_eq!(
        m.header("Message-ID"),
        Some("<5f0c9122a701ee4319807d3bc45502e1@redy.example.com>")
    );
    assert_eq!(m.header("MIME-Version"), Some("1.0"));
    assert!(m.header("Subject").unwrap().starts_with("=?utf-8?"));
    assert_eq!(decode_words(m.header("Subject").unwrap()), subject);
    assert_eq!(
        decode_words(m.header("From").unwrap()),
        "Léa Martin <lea@plant.example>"
    );
    assert_eq!(
        decode_words(m.header("To").unwrap()),
        "Jean Dupont <jean@example.com>, \"Dupont, Marie\" <marie@example.com>, \
         astreinte@example.com"
    );
    assert_eq!(
        decode_words(m.header("Cc").unwrap()),
        "Zoë Ørsted-Ångström <zoe@example.dk>"
    );
    assert_eq!(
        m.header("Reply-To"),
        Some("Service maintenance <maintenance@plant.example>")
    );
    assert_eq!(
        m.content_type(),
        (
            "text/plain".into(),
            vec![("charset".into(), "utf-8".into())]
        )
    );
    assert_eq!(
        m.header("Content-Transfer-Encoding"),
        Some("quoted-printable")
    );
    assert_eq!(
        String::from_utf8(m.decoded()).unwrap(),
        "Bonjour,\r\n\r\nle four n°3 est en alarme.\r\n"
    );
}

#[test]
fn plain_ascii_subjects_stay_readable_and_keep_their_spaces() {
    let subject = "Daily  report: line 3 OK, line 4 stopped (maintenance) -- ".repeat(3);
    let message = base().subject(subject.as_str()).build().unwrap();
    let out = encode(&message, &[]);
    let m = Entity::parse(&out);
    assert_eq!(m.header("Subject"), Some(subject.as_str()));
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Subject: Daily  report"));
    assert!(text.lines().all(|l| l.len() <= 80));
}

#[test]
fn subject_that_looks_like_an_encoded_word_comes_back_as_typed() {
    let subject = "=?utf-8?B?SGk=?= is not a greeting";
    let out = encode(&base().subject(subject).build().unwrap(), &[]);
    assert_eq!(
        decode_words(Entity::parse(&out).header("Subject").unwrap()),
        subject
    );
}

#[test]
fn long_utf8_display_names_fold_into_short_words() {
    let name = "Société d'exploitation des fours électriques de Saint-Étienne — \
                service de maintenance préventive";
    let message = Message::builder()
        .from(Mailbox::with_name(name, "fours@plant.example").unwrap())
        .to(mailbox("a@example.com"))
        .date(0, 0)
        .message_id(id())
        .build()
        .unwrap();
    let out = encode(&message, &[]);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.lines().all(|l| l.len() <= 78), "{text}");
    let from = Entity::parse(&out).header("From").unwrap().to_owned();
    assert_eq!(decode_words(&from), format!("{name} <fours@plant.example>"));
}

#[test]
fn bcc_is_in_the_envelope_only() {
    let message = base()
        .cc(mailbox("Cc Person <cc@example.com>"))
        .bcc(mailbox("Auditor <secret-auditor@example.org>"))
        .bcc(mailbox("ops@example.com"))
        .build()
        .unwrap();
    let out = encode(&message, &[]);
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("secret-auditor"), "{text}");
    assert!(!text.contains("Auditor"));
    assert!(!text.to_ascii_lowercase().contains("bcc"));
    assert_eq!(
        message.envelope_recipients(),
        [
            "ops@example.com",
            "cc@example.com",
            "secret-auditor@example.org"
        ]
    );
    assert_eq!(message.sender().address(), "redy@plant.example");
    assert_eq!(message.bcc().len(), 2);
}

#[test]
fn bcc_only_writes_undisclosed_recipients() {
    let message = Message::builder()
        .from(mailbox("redy@plant.example"))
        .bcc(mailbox("hidden@example.com"))
        .date(0, 0)
        .message_id(id())
        .build()
        .unwrap();
    let out = encode(&message, &[]);
    let m = Entity::parse(&out);
    assert_eq!(m.header("To"), Some("undisclosed-recipients:;"));
    assert!(!String::from_utf8(out).unwrap().contains("hidden"));
    assert_eq!(message.envelope_recipients(), ["hidden@example.com"]);
}

#[test]
fn utf8_addresses_need_smtputf8() {
    let ascii = base().build().unwrap();
    assert!(!ascii.needs_smtputf8());
    let utf8 = base()
        .cc(mailbox("José <josé@exämple.fr>"))
        .build()
        .unwrap();
    assert!(utf8.needs_smtputf8());
    let out = encode(&utf8, &[]);
    let cc = Entity::parse(&out).header("Cc").unwrap().to_owned();
    assert_eq!(decode_words(&cc), "José <josé@exämple.fr>");
}

#[test]
fn dates_of_known_instants() {
    for (secs, offset, want) in [
        (0, 0, "Thu, 01 Jan 1970 00:00:00 +0000"),
        (0, -300, "Wed, 31 Dec 1969 19:00:00 -0500"),
        (1_795_322_400, 60, "Sun, 22 Nov 2026 05:40:00 +0100"),
        (1_700_000_000, -570, "Tue, 14 Nov 2023 12:43:20 -0930"),
        (1_709_164_800, 0, "Thu, 29 Feb 2024 00:00:00 +0000"),
        (4_102_444_799, 0, "Thu, 31 Dec 2099 23:59:59 +0000"),
    ] {
        let message = base().date(secs, offset).build().unwrap();
        assert_eq!(message.date(), want);
        let out = encode(&message, &[]);
        assert_eq!(
            Entity::parse(&out).header("Date"),
            Some(want),
            "{secs} {offset}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies

#[test]
fn text_only_is_one_part() {
    let message = base().text("Line 1\nLine 2").build().unwrap();
    let out = encode(&message, &[]);
    assert_lines(&out);
    let m = Entity::parse(&out);
    assert_eq!(m.content_type().0, "text/plain");
    assert!(
        !String::from_utf8(out.clone())
            .unwrap()
            .contains("multipart")
    );
    assert_eq!(m.decoded(), b"Line 1\r\nLine 2\r\n");
}

#[test]
fn no_body_at_all_is_an_empty_text() {
    let out = encode(&base().build().unwrap(), &[]);
    assert_lines(&out);
    let m = Entity::parse(&out);
    assert_eq!(m.content_type().0, "text/plain");
    assert!(m.body.is_empty());
}

#[test]
fn bare_cr_and_lf_become_crlf() {
    let text = "a\rb\nc\r\nd\n\re\r\r\nf";
    let message = base()
        .text(text)
        .html("<p>x</p>\r<p>y</p>\n")
        .build()
        .unwrap();
    let out = encode(&message, &[]);
    assert_lines(&out);
    let parts = Entity::parse(&out).parts();
    assert_eq!(parts[0].decoded(), crlf(text).as_bytes());
    assert_eq!(parts[1].decoded(), b"<p>x</p>\r\n<p>y</p>\r\n");
}

#[test]
fn text_and_html_are_alternatives() {
    let message = base()
        .text("Plain version")
        .html("<p>HTML <b>version</b> — été</p>")
        .build()
        .unwrap();
    let out = encode(&message, &[]);
    assert_lines(&out);
    let m = Entity::parse(&out);
    assert_eq!(m.content_type().0, "multipart/alternative");
    let parts = m.parts();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].content_type().0, "text/plain");
    assert_eq!(parts[0].header("Content-Transfer-Encoding"), Some("7bit"));
    assert_eq!(parts[0].decoded(), b"Plain version");
    assert_eq!(parts[1].content_type().0, "text/html");
    assert_eq!(
        parts[1].header("Content-Transfer-Encoding"),
        Some("quoted-printable")
    );
    assert_eq!(
        String::from_utf8(parts[1].decoded()).unwrap(),
        "<p>HTML <b>version</b> — été</p>"
    );
}

#[test]
fn a_5000_character_line_goes_quoted_printable_and_decodes_back() {
    let line: String = (0..5000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let text = format!("Journal:\n{line}\nend.\n");
    let message = base().text(text.as_str()).build().unwrap();
    let out = encode(&message, &[]);
    assert_lines(&out);
    let m = Entity::parse(&out);
    assert_eq!(
        m.header("Content-Transfer-Encoding"),
        Some("quoted-printable")
    );
    for line in split(&m.body, b"\r\n") {
        assert!(line.len() <= 76, "quoted-printable line of {}", line.len());
    }
    assert_eq!(m.decoded(), crlf(&text).as_bytes());
}

#[test]
fn attachment_content_decodes_to_the_exact_bytes() {
    let journal: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let csv = b"time;temperature\n2026-11-22T05:40;251.3\n".to_vec();
    let message = base()
        .text("Journal attached.")
        .html("<p>Journal attached.</p>")
        .attach(Attachment::new("journal.bin", "application/octet-stream"))
        .attach(Attachment::new("relevé température.csv", "text/csv"))
        .attach(Attachment::new("empty.txt", "text/plain"))
        .build()
        .unwrap();
    let out = encode(&message, &[&journal, &csv, b""]);
    assert_lines(&out);
    let m = Entity::parse(&out);
    assert_eq!(m.content_type().0, "multipart/mixed");
    let parts = m.parts();
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0].content_type().0, "multipart/alternative");
    assert_eq!(parts[0].parts().len(), 2);
    let names = ["journal.bin", "relevé température.csv", "empty.txt"];
    let contents: [&[u8]; 3] = [&journal, &csv, b""];
    for ((part, name), content) in parts[1..].iter().zip(names).zip(contents) {
        assert_eq!(part.header("Content-Transfer-Encoding"), Some("base64"));
        assert!(
            part.header("Content-Disposition")
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(
            part.param("Content-Disposition", "filename").as_deref(),
            Some(name)
        );
        assert_eq!(part.param("Content-Type", "name").as_deref(), Some(name));
        for line in split(&part.body, b"\r\n") {
            assert!(line.len() <= 76);
        }
        assert_eq!(part.decoded(), content, "{name}");
    }
    // The base64 lines are full 76-character lines but the last.
    let lines = split(&parts[1].body, b"\r\n");
    assert!(lines[..lines.len() - 1].iter().all(|l| l.len() == 76));
    // Non-ASCII file names use RFC 2231.
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("filename*=utf-8''relev%C3%A9%20temp%C3%A9rature.csv"));
}

#[test]
fn attachments_without_text() {
    let message = base()
        .attach(Attachment::new("a.bin", "application/octet-stream"))
        .build()
        .unwrap();
    let out = encode(&message, &[b"\x00\x01\x02\xff"]);
    assert_lines(&out);
    let parts = Entity::parse(&out).parts();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].decoded(), b"\x00\x01\x02\xff");
}

#[test]
fn boundaries_are_well_formed_and_distinct() {
    let message = base()
        .text("t")
        .html("h")
        .attach(Attachment::new("a", "application/octet-stream"))
        .attach(Attachment::new("b", "application/octet-stream"))
        .build()
        .unwrap();
    let out = encode(&message, &[b"aaa", b"bbb"]);
    let m = Entity::parse(&out);
    let mixed = m.param("Content-Type", "boundary").unwrap();
    let parts = m.parts();
    let alternative = parts[0].param("Content-Type", "boundary").unwrap();
    assert_ne!(mixed, alternative);
    assert!(!mixed.starts_with(&alternative) && !alternative.starts_with(&mixed));
    for b in [&mixed, &alternative] {
        assert!(b.contains("=_"), "{b}");
    }
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    let count = |l: &str| lines.iter().filter(|x| **x == l).count();
    assert_eq!(count(&format!("--{mixed}")), 3);
    assert_eq!(count(&format!("--{mixed}--")), 1);
    assert_eq!(count(&format!("--{alternative}")), 2);
    assert_eq!(count(&format!("--{alternative}--")), 1);
    // The close of the outer multipart is the last line.
    assert_eq!(lines[lines.len() - 2], format!("--{mixed}--"));
}

#[test]
fn text_holding_the_boundary_does_not_break_the_structure() {
    // A text that contains what the first boundaries would be.
    let hex = "5f0c9122a701ee4319807d3bc45502e1";
    let evil: String = (0..40)
        .map(|n| format!("--=_redy_{hex}_{n:03}\r\n--=_redy_{hex}_{n:03}--\r\n"))
        .collect();
    let message = base()
        .text(evil.as_str())
        .html(evil.as_str())
        .attach(Attachment::new("a", "text/plain"))
        .build()
        .unwrap();
    let out = encode(&message, &[b"payload"]);
    let parts = Entity::parse(&out).parts();
    assert_eq!(parts.len(), 2);
    let alternatives = parts[0].parts();
    assert_eq!(alternatives.len(), 2);
    assert_eq!(alternatives[0].decoded(), evil.as_bytes());
    assert_eq!(alternatives[1].decoded(), evil.as_bytes());
    assert_eq!(parts[1].decoded(), b"payload");
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn missing_fields_are_named() {
    let errors = [
        (
            Message::builder()
                .to(mailbox("a@b"))
                .date(0, 0)
                .message_id(id())
                .build(),
            "From",
        ),
        (
            Message::builder()
                .from(mailbox("a@b"))
                .date(0, 0)
                .message_id(id())
                .build(),
            "recipient",
        ),
        (
            Message::builder()
                .from(mailbox("a@b"))
                .to(mailbox("a@b"))
                .message_id(id())
                .build(),
            "Date",
        ),
        (
            Message::builder()
                .from(mailbox("a@b"))
                .to(mailbox("a@b"))
                .date(0, 0)
                .build(),
            "Message-ID",
        ),
    ];
    for (result, what) in errors {
        let err = result.unwrap_err();
        assert!(matches!(err, MessageError::Missing(_)), "{err}");
        assert!(err.to_string().contains(what), "{err}");
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let err = base().subject("Hello\r\nBcc: evil@x").build().unwrap_err();
    assert!(matches!(err, MessageError::InvalidHeader { .. }), "{err}");
    assert!(err.to_string().contains("\\r\\n"), "{err}");
    assert!(base().subject("tab\tis fine").build().is_ok());

    let err = base().date(i64::MAX, 0).build().unwrap_err();
    assert!(matches!(err, MessageError::InvalidDate { .. }), "{err}");
    let err = base().date(0, 24 * 60).build().unwrap_err();
    assert!(matches!(err, MessageError::InvalidDate { .. }), "{err}");

    let err = base()
        .attach(Attachment::new("a\nb", "text/plain"))
        .build()
        .unwrap_err();
    assert!(
        matches!(err, MessageError::InvalidAttachment { .. }),
        "{err}"
    );

    let err = base().text("x".repeat(MAX_TEXT + 1)).build().unwrap_err();
    assert!(matches!(err, MessageError::TooLong { .. }), "{err}");

    let mut many = base();
    for i in 0..MAX_RECIPIENTS {
        many = many.cc(mailbox(&format!("r{i}@example.com")));
    }
    let err = many.build().unwrap_err();
    assert!(matches!(err, MessageError::TooMany { .. }), "{err}");

    let mut many = base();
    for _ in 0..=MAX_ATTACHMENTS {
        many = many.attach(Attachment::new("a", "text/plain"));
    }
    assert!(matches!(
        many.build().unwrap_err(),
        MessageError::TooMany { .. }
    ));

    assert!(matches!(
        "Evil <a@b\r\nBcc: x@y>".parse::<Mailbox>().unwrap_err(),
        MessageError::InvalidAddress { .. }
    ));
    assert!(matches!(
        MessageId::new([0; 16], "a b").unwrap_err(),
        MessageError::InvalidMessageId { .. }
    ));
}

#[test]
fn encoder_calls_out_of_turn_are_refused() {
    let message = base()
        .attach(Attachment::new("a", "text/plain"))
        .build()
        .unwrap();
    let mut encoder = message.encoder();
    assert!(matches!(
        encoder.attachment_data(b"early"),
        Err(MessageError::NotNow { .. })
    ));
    assert!(encoder.attachment_end().is_err());
    let mut out = Vec::new();
    assert_eq!(encoder.next(&mut out, usize::MAX), Step::NeedAttachment(0));
    // Offered more than it can hold: it takes a bounded amount.
    let big = vec![7u8; 1 << 20];
    let took = encoder.attachment_data(&big).unwrap();
    assert!(took > 0 && took < ATTACHMENT_BUFFER, "took {took}");
    assert_eq!(encoder.attachment_data(&big).unwrap(), 0, "buffer full");
    encoder.attachment_end().unwrap();
    assert!(encoder.attachment_data(b"late").is_err());
    assert_eq!(encoder.next(&mut out, usize::MAX), Step::Done);
    assert_lines(&out);
    let parts = Entity::parse(&out).parts();
    assert_eq!(parts[0].decoded(), &big[..took]);
}

#[test]
fn the_message_can_be_encoded_again() {
    let message = base()
        .text("again")
        .attach(Attachment::new("a", "text/plain"))
        .build()
        .unwrap();
    assert_eq!(encode(&message, &[b"x"]), encode(&message, &[b"x"]));
}

// ---------------------------------------------------------------------------------------------
// Properties

fn text_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[ -~]{0,40}",
        (0usize..3000).prop_map(|n| "x".repeat(n)),
        (0usize..1200).prop_map(|n| "é".repeat(n)),
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just(" \t ".to_owned()),
        Just("日本語の文".to_owned()),
        Just("=".to_owned()),
        Just(".".to_owned()),
        Just("--=_redy_".to_owned()),
        Just("\0".to_owned()),
        "\\PC{0,20}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn output_is_the_same_whatever_the_chunking(
        attachments in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6000), 0..4),
        chunks in prop::collection::vec(1usize..9000, 1..8),
        maxes in prop::collection::vec(1usize..5000, 1..8),
        html in any::<bool>(),
    ) {
        let mut builder = base().subject("chunks").text("body text\n");
        if html {
            builder = builder.html("<p>body</p>");
        }
        for i in 0..attachments.len() {
            builder = builder.attach(Attachment::new(format!("file{i}.bin"), "application/octet-stream"));
        }
        let message = builder.build().unwrap();
        let reference = encode_with(&message, &attachments, &[usize::MAX], &[usize::MAX]);
        let chunked = encode_with(&message, &attachments, &chunks, &maxes);
        prop_assert!(reference == chunked, "output differs with chunking");
        assert_lines(&reference);
        if !attachments.is_empty() {
            let parts = Entity::parse(&reference).parts();
            for (part, content) in parts[1..].iter().zip(&attachments) {
                prop_assert_eq!(&part.decoded(), content);
            }
        }
    }

    #[test]
    fn no_line_passes_998_octets_and_text_comes_back(
        text in text_strategy(),
        html in text_strategy(),
        subject in "\\PC{0,300}",
        name in "[^\\p{Cc}]{0,60}",
    ) {
        let from = Mailbox::with_name(&name, "redy@plant.example").unwrap();
        let message = base()
            .from(from.clone())
            .subject(subject.as_str())
            .text(text.as_str())
            .html(html.as_str())
            .attach(Attachment::new(name.clone() + "x", "application/octet-stream"))
            .build()
            .unwrap();
        let out = encode(&message, &[b"data"]);
        assert_lines(&out);
        let m = Entity::parse(&out);
        let decoded_subject = decode_words(m.header("Subject").unwrap());
        prop_assert_eq!(decoded_subject.trim_start(), subject.trim_start());
        let parts = m.parts();
        let alternatives = parts[0].parts();
        prop_assert_eq!(alternatives[0].decoded(), crlf(&text).into_bytes());
        prop_assert_eq!(alternatives[1].decoded(), crlf(&html).into_bytes());
        prop_assert_eq!(parts[1].param("Content-Disposition", "filename"), Some(name.clone() + "x"));
        let decoded_from = decode_words(m.header("From").unwrap());
        if let Some(n) = from.name() {
            let escaped = n.replace('\\', "\\\\").replace('"', "\\\"");
            prop_assert!(decoded_from.contains(n) || decoded_from.contains(&escaped),
                "{} lost {}", decoded_from, n);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A third-party reader: Python's email package

const PYTHON_READER: &str = r#"
import sys, email, email.policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
def out(key, value):
    if isinstance(value, str):
        value = value.encode('utf-8')
    print(key, value.hex())
defects = [type(d).__name__ for d in m.defects]
for part in m.walk():
    defects += [type(d).__name__ for d in part.defects]
    for name, value in part.items():
        defects += [name + ':' + type(d).__name__ for d in getattr(value, 'defects', ())]
out('defects', ','.join(defects))
for field in ('From', 'To', 'Cc'):
    for a in m[field].addresses:
        out(field, a.display_name + '|' + a.addr_spec)
out('Bcc', str(m['Bcc']))
out('Subject', str(m['Subject']))
out('Date', m['Date'].datetime.isoformat())
out('Message-ID', str(m['Message-ID']))
out('type', m.get_content_type())
out('plain', m.get_body(preferencelist=('plain',)).get_content())
out('html', m.get_body(preferencelist=('html',)).get_content())
for a in m.iter_attachments():
    out('filename', a.get_filename())
    out('content', a.get_payload(decode=True))
"#;

#[test]
fn pythons_email_parser_reads_it() {
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("REDY_REQUIRE_PEERS").is_some();
    let child = std::process::Command::new("python3")
        .args(["-c", PYTHON_READER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if !required => {
            writeln!(std::io::stderr(), "SKIPPED: python3 not available ({e})").unwrap();
            return;
        }
        Err(e) => panic!("python3 is required (CI or REDY_REQUIRE_PEERS is set): {e}"),
    };

    let subject = "Journal du four n°3 — relevé de température (🔥 250 °C)";
    let text = format!("Bonjour,\n{}\nCordialement,\nREDY\n", "é".repeat(1200));
    let html = "<html><body><p>Relevé <b>joint</b>.</p></body></html>";
    let journal: Vec<u8> = (0..70_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let message = Message::builder()
        .from(mailbox("Léa Martin <lea@plant.example>"))
        .to(mailbox("\"Dupont, Jean\" <jean@example.com>"))
        .to(mailbox("ops@example.com"))
        .cc(mailbox("Zoë Ørsted <zoe@example.dk>"))
        .bcc(mailbox("hidden@example.org"))
        .subject(subject)
        .date(1_795_322_400, 60)
        .message_id(id())
        .text(text.as_str())
        .html(html)
        .attach(Attachment::new(
            "journal four n°3.bin",
            "application/octet-stream",
        ))
        .attach(Attachment::new("readme.txt", "text/plain"))
        .build()
        .unwrap();
    let out = encode_with(
        &message,
        &[journal.clone(), b"read me\n".to_vec()],
        &[1000, 7, 4096],
        &[333, 4096],
    );
    child.stdin.take().unwrap().write_all(&out).unwrap();
    let result = child.wait_with_output().unwrap();
    assert!(
        result.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    for line in String::from_utf8(result.stdout).unwrap().lines() {
        let (key, hex) = line.split_once(' ').unwrap_or((line, ""));
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        fields.push((key.to_owned(), bytes));
    }
    let all = |key: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    };
    let bytes = |key: &str| -> Vec<Vec<u8>> {
        fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(all("defects"), [""], "python found defects");
    assert_eq!(all("From"), ["Léa Martin|lea@plant.example"]);
    assert_eq!(
        all("To"),
        ["Dupont, Jean|jean@example.com", "|ops@example.com"]
    );
    assert_eq!(all("Cc"), ["Zoë Ørsted|zoe@example.dk"]);
    assert_eq!(all("Bcc"), ["None"]);
    assert_eq!(all("Subject"), [subject]);
    assert_eq!(all("Date"), ["2026-11-22T05:40:00+01:00"]);
    assert_eq!(all("Message-ID"), [id().as_str()]);
    assert_eq!(all("type"), ["multipart/mixed"]);
    assert_eq!(all("plain"), [crlf(&text)]);
    let htmls = all("html");
    assert_eq!(
        htmls.iter().map(|h| h.trim_end()).collect::<Vec<_>>(),
        [html]
    );
    assert_eq!(all("filename"), ["journal four n°3.bin", "readme.txt"]);
    assert_eq!(bytes("content"), [journal, b"read me\n".to_vec()]);
}
