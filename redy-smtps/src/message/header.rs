//! Header fields: folding, RFC 2047 encoded words, display names, RFC 2231 parameters.
//!
//! Lines are folded before a word that would pass [`FOLD_AT`] characters. Plain words, quoted
//! names and parameter sections are at most 60 characters and encoded words 66, so the longest
//! unfoldable word is an address with its brackets and comma ([`crate::MAX_ADDRESS`] + 3) or
//! a Message-ID (288): no header line comes near 998 octets.

use super::Mailbox;
use super::mailbox::is_atext;

/// Line length headers are folded at (RFC 5322 §2.1.1 "SHOULD").
pub(crate) const FOLD_AT: usize = 78;
/// Longest encoded word written: RFC 2047 allows 75; 66 keeps `Reply-To: ` and one word
/// within 76 characters.
pub(crate) const MAX_ENCODED_WORD: usize = 66;
/// Longest plain word or quoted value written on its own (longer ones are encoded).
const MAX_PLAIN: usize = 60;
/// `=?utf-8?X?` and `?=`.
const WORD_OVERHEAD: usize = 12;

/// One header field being written, folded as it grows.
pub(crate) struct Header {
    out: String,
    line: usize,
    word_on_line: bool,
}

impl Header {
    /// Starts `Name:`.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            out: format!("{name}:"),
            line: name.len() + 1,
            word_on_line: false,
        }
    }

    /// Appends a space and `word`, folding first when the line would pass [`FOLD_AT`] (never
    /// before the first word of the field nor before an empty word, so no line is blank).
    pub(crate) fn word(&mut self, word: &str) {
        if !word.is_empty() && self.word_on_line && self.line + 1 + word.len() > FOLD_AT {
            self.out.push_str("\r\n");
            self.line = 0;
            self.word_on_line = false;
        }
        self.out.push(' ');
        self.out.push_str(word);
        self.line += 1 + word.len();
        self.word_on_line |= !word.is_empty();
    }

    /// Appends `text` to the last word, without a space or a fold (a `,` or a `;`).
    pub(crate) fn glue(&mut self, text: &str) {
        self.out.push_str(text);
        self.line += text.len();
    }

    /// Appends one mailbox: the display name (plain, quoted or encoded), then the address.
    pub(crate) fn mailbox(&mut self, mailbox: &Mailbox) {
        match mailbox.name() {
            None => self.word(mailbox.address()),
            Some(name) => {
                for word in phrase(name) {
                    self.word(&word);
                }
                self.word(&format!("<{}>", mailbox.address()));
            }
        }
    }

    /// Appends `mailboxes` separated by commas.
    pub(crate) fn mailboxes(&mut self, mailboxes: &[Mailbox]) {
        for (i, mailbox) in mailboxes.iter().enumerate() {
            if i > 0 {
                self.glue(",");
            }
            self.mailbox(mailbox);
        }
    }

    /// Appends unstructured text (a Subject): words as they are when they are plain ASCII,
    /// otherwise RFC 2047 encoded words for the whole text.
    pub(crate) fn unstructured(&mut self, text: &str) {
        let plain = text.bytes().all(|b| (b' '..=b'~').contains(&b))
            && !text.contains("=?")
            && text.split(' ').all(|w| w.len() <= MAX_ENCODED_WORD);
        if plain {
            // Spaces are kept exactly: folding only inserts CRLF before an existing space.
            for word in text.split(' ') {
                self.word(word);
            }
        } else {
            for word in encoded_words(text) {
                self.word(&word);
            }
        }
    }

    /// Appends `; name=value`: a token as is, short printable ASCII quoted, anything else in
    /// RFC 2231 extended notation (`name*=utf-8''%E2%82%AC`, split in `name*0*`, `name*1*`...
    /// sections when long).
    pub(crate) fn param(&mut self, name: &str, value: &str) {
        self.glue(";");
        if !value.is_empty() && value.len() <= MAX_PLAIN && value.bytes().all(is_token) {
            self.word(&format!("{name}={value}"));
            return;
        }
        if value.len() <= MAX_PLAIN && value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            let mut quoted = String::with_capacity(value.len() + 2);
            quoted.push('"');
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('"');
            self.word(&format!("{name}={quoted}"));
            return;
        }
        let mut sections = vec![String::from("utf-8''")];
        // Sections hold whole characters, for readers that decode them one by one.
        for c in value.chars() {
            let mut piece = String::new();
            for b in c.to_string().bytes() {
                if is_attribute_char(b) {
                    piece.push(char::from(b));
                } else {
                    piece.push_str(&format!("%{b:02X}"));
                }
            }
            if sections.last().map_or(0, String::len) + piece.len() > MAX_PLAIN {
                sections.push(String::new());
            }
            if let Some(last) = sections.last_mut() {
                last.push_str(&piece);
            }
        }
        if let [only] = sections.as_slice() {
            self.word(&format!("{name}*={only}"));
            return;
        }
        for (i, section) in sections.iter().enumerate() {
            if i > 0 {
                self.glue(";");
            }
            self.word(&format!("{name}*{i}*={section}"));
        }
    }

    /// The field with its final CRLF, appended to `out`.
    pub(crate) fn finish(self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.out.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The words of a display name: atoms when it is plain ASCII words, one quoted string when it
/// is short printable ASCII, otherwise RFC 2047 encoded words.
fn phrase(name: &str) -> Vec<String> {
    if name.contains("=?") {
        return encoded_words(name);
    }
    if name
        .split(' ')
        .all(|w| !w.is_empty() && w.len() <= MAX_PLAIN && w.is_ascii() && w.chars().all(is_atext))
    {
        return name.split(' ').map(str::to_owned).collect();
    }
    if name.len() <= MAX_PLAIN && name.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        let mut quoted = String::from("\"");
        for c in name.chars() {
            if c == '"' || c == '\\' {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        return vec![quoted];
    }
    encoded_words(name)
}

/// `text` as RFC 2047 encoded words in UTF-8, each at most [`MAX_ENCODED_WORD`] characters and
/// holding whole characters; Q encoding (restricted to what a phrase allows) when shorter
/// than B, B otherwise.
pub(crate) fn encoded_words(text: &str) -> Vec<String> {
    let q_total: usize = text.bytes().map(q_len).sum();
    let b_total = text.len().div_ceil(3) * 4;
    let use_q = q_total <= b_total;
    let payload = MAX_ENCODED_WORD - WORD_OVERHEAD;
    let cost = |bytes: &[u8]| -> usize {
        if use_q {
            bytes.iter().copied().map(q_len).sum()
        } else {
            bytes.len().div_ceil(3) * 4
        }
    };
    let mut words = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        let next = i + c.len_utf8();
        if cost(&text.as_bytes()[start..next]) > payload {
            words.push(encode_word(&text.as_bytes()[start..end], use_q));
            start = end;
        }
        end = next;
    }
    if start < end || words.is_empty() {
        words.push(encode_word(&text.as_bytes()[start..end], use_q));
    }
    words
}

fn encode_word(bytes: &[u8], use_q: bool) -> String {
    use base64::Engine as _;
    let mut word = String::with_capacity(MAX_ENCODED_WORD);
    if use_q {
        word.push_str("=?utf-8?Q?");
        for &b in bytes {
            match b {
                b' ' => word.push('_'),
                _ if q_literal(b) => word.push(char::from(b)),
                _ => word.push_str(&format!("={b:02X}")),
            }
        }
    } else {
        word.push_str("=?utf-8?B?");
        base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut word);
    }
    word.push_str("?=");
    word
}

/// Characters Q encoding may leave as they are in a phrase (RFC 2047 §5 (3)).
fn q_literal(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!*+-/".contains(&b)
}

fn q_len(b: u8) -> usize {
    if b == b' ' || q_literal(b) { 1 } else { 3 }
}

/// RFC 2045 token characters.
fn is_token(b: u8) -> bool {
    (b'!'..=b'~').contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// RFC 2231 `attribute-char`.
fn is_attribute_char(b: u8) -> bool {
    is_token(b) && !b"*'%".contains(&b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn field(f: impl FnOnce(&mut Header)) -> String {
        let mut h = Header::new("Subject");
        f(&mut h);
        let mut out = Vec::new();
        h.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_subjects_fold_at_spaces_and_keep_them() {
        let text = "Alarm  on line 3: ".repeat(10);
        let out = field(|h| h.unstructured(&text));
        assert!(out.lines().all(|l| l.len() <= FOLD_AT), "{out}");
        assert_eq!(
            out.replace("\r\n", ""),
            format!("Subject: {text}\r\n").replace("\r\n", "")
        );
        assert!(!out.lines().any(|l| l.trim().is_empty()));
    }

    #[test]
    fn encoded_words_are_short_and_whole_characters() {
        for text in [
            "Température élevée — four n°3 ".repeat(8),
            "日本語".repeat(40),
        ] {
            let words = encoded_words(&text);
            let mut back = Vec::new();
            for w in &words {
                assert!(w.len() <= MAX_ENCODED_WORD && w.len() <= 75, "{w}");
                let inner = w
                    .strip_prefix("=?utf-8?")
                    .unwrap()
                    .strip_suffix("?=")
                    .unwrap();
                let bytes = decode_inner(inner);
                assert!(
                    std::str::from_utf8(&bytes).is_ok(),
                    "{w} splits a character"
                );
                back.extend(bytes);
            }
            assert_eq!(String::from_utf8(back).unwrap(), text);
        }
    }

    fn decode_inner(inner: &str) -> Vec<u8> {
        use base64::Engine as _;
        if let Some(b) = inner.strip_prefix("B?") {
            return base64::engine::general_purpose::STANDARD.decode(b).unwrap();
        }
        let q = inner.strip_prefix("Q?").unwrap().as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < q.len() {
            match q[i] {
                b'_' => out.push(b' '),
                b'=' => {
                    out.push(
                        u8::from_str_radix(std::str::from_utf8(&q[i + 1..i + 3]).unwrap(), 16)
                            .unwrap(),
                    );
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        out
    }

    #[test]
    fn text_that_looks_encoded_is_encoded() {
        let out = field(|h| h.unstructured("=?utf-8?B?aGk=?="));
        assert_eq!(out, "Subject: =?utf-8?B?PT91dGYtOD9CP2FHaz0/PQ==?=\r\n");
    }

    #[test]
    fn display_names() {
        assert_eq!(phrase("Jean Dupont"), ["Jean", "Dupont"]);
        assert_eq!(phrase("Dupont, \"J\""), [r#""Dupont, \"J\"""#]);
        let encoded = phrase("Léa Martin");
        assert_eq!(encoded, ["=?utf-8?Q?L=C3=A9a_Martin?="]);
        assert!(phrase("=?x?=")[0].starts_with("=?utf-8?"));
    }

    #[test]
    fn params_quote_or_use_rfc2231() {
        let out = field(|h| {
            h.word("text/plain");
            h.param("charset", "utf-8");
            h.param("name", "journal 2026.csv");
            h.param("filename", "relevé.csv");
        });
        assert_eq!(
            out,
            "Subject: text/plain; charset=utf-8; name=\"journal 2026.csv\";\r\n filename*=utf-8''relev%C3%A9.csv\r\n"
        );
        let long = "é".repeat(60);
        let out = field(|h| {
            h.word("attachment");
            h.param("filename", &long);
        });
        assert!(out.contains("filename*0*=utf-8''%C3%A9"), "{out}");
        assert!(out.contains("filename*5*="), "{out}");
        assert!(out.lines().all(|l| l.len() <= FOLD_AT), "{out}");
    }
}
