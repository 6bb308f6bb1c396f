//! Heads: bounded framing (find CRLFCRLF within the limit), strict line checks (bare CR, bare
//! LF, obsolete folding), parsing with `httparse` into a bounded header array, and body framing
//! with the request-smuggling defences.

use super::error::{HeadError, HttpError};
use super::limits::Limits;

/// Header fields of one head, in order; lookups ignore ASCII case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a field (the caller vouches for valid name and value bytes).
    pub fn push(&mut self, name: &str, value: &[u8]) {
        self.fields.push((name.to_owned(), value.to_vec()));
    }
    /// The first value of `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
    /// The first value of `name` as text, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }
    /// All values of `name`, case-insensitively, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }
    /// True without fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
    /// Whether a comma-separated field `name` holds `token` (ASCII case ignored).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|v| v.split(|b| *b == b','))
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for (n, v) in &self.fields {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// Method, e.g. `POST`.
    pub method: String,
    /// Request target, e.g. `/eshare/v1/batch`.
    pub target: String,
    /// Minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// Header fields.
    pub headers: Headers,
}

/// A parsed response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// Minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// Status code.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Header fields.
    pub headers: Headers,
}

impl RequestHead {
    /// Serialises the head (request line, fields, empty line).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(if self.version == 0 {
            b" HTTP/1.0\r\n"
        } else {
            b" HTTP/1.1\r\n"
        });
        self.headers.encode(out);
    }
}

impl ResponseHead {
    /// Serialises the head (status line, fields, empty line).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.version == 0 {
            b"HTTP/1.0 "
        } else {
            b"HTTP/1.1 "
        });
        out.extend_from_slice(format!("{:03} ", self.status).as_bytes());
        out.extend_from_slice(self.reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.headers.encode(out);
    }
}

/// How the body after a head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the end of the connection (responses only; complete only with close_notify on TLS).
    CloseDelimited,
}

/// Looks for a complete head at the start of `buf`: `Ok(Some(len))` with the head length
/// including CRLFCRLF, `Ok(None)` if more bytes are needed. Refuses bare CR, bare LF,
/// obsolete line folding, and heads longer than `max_head` — all before the end is seen.
pub fn frame(buf: &[u8], max_head: usize) -> Result<Option<usize>, HeadError> {
    let scan = &buf[..buf.len().min(max_head)];
    for (i, &b) in scan.iter().enumerate() {
        match b {
            b'\n' => {
                if i == 0 || scan[i - 1] != b'\r' {
                    return Err(HeadError::BareLf { at: i });
                }
                if i >= 3 && scan[i - 3..=i] == *b"\r\n\r\n" {
                    return Ok(Some(i + 1));
                }
                if let Some(&next) = scan.get(i + 1)
                    && (next == b' ' || next == b'\t')
                {
                    return Err(HeadError::ObsFold { at: i + 1 });
                }
            }
            b'\r' => {
                if let Some(&next) = scan.get(i + 1)
                    && next != b'\n'
                {
                    return Err(HeadError::BareCr { at: i });
                }
            }
            _ => {}
        }
    }
    if buf.len() >= max_head {
        return Err(HeadError::TooLarge { limit: max_head });
    }
    Ok(None)
}

fn syntax(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::Syntax("too many headers".into()),
        e => HeadError::Syntax(e.to_string()),
    }
}

fn collect(raw: &[httparse::Header<'_>]) -> Result<Headers, HeadError> {
    let mut headers = Headers::new();
    for h in raw {
        headers.push(h.name, h.value);
    }
    Ok(headers)
}

fn count_lines(head: &[u8]) -> usize {
    // Lines minus the start line and the final empty line: an upper bound of the fields.
    head.windows(2)
        .filter(|w| *w == b"\r\n")
        .count()
        .saturating_sub(2)
}

/// Parses a framed request head (as returned by [`frame`]).
pub fn parse_request(head: &[u8], limits: &Limits) -> Result<RequestHead, HeadError> {
    if count_lines(head) > limits.max_headers {
        return Err(HeadError::TooManyHeaders {
            limit: limits.max_headers,
        });
    }
    let mut raw = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut raw);
    match req.parse(head).map_err(syntax)? {
        httparse::Status::Complete(n) if n == head.len() => {}
        _ => return Err(HeadError::Syntax("incomplete head".into())),
    }
    let method = req.method.ok_or(HeadError::NotText("method"))?.to_owned();
    let target = req.path.ok_or(HeadError::NotText("target"))?.to_owned();
    let version = req.version.ok_or(HeadError::NotText("version"))?;
    let headers = collect(req.headers)?;
    Ok(RequestHead {
        method,
        target,
        version,
        headers,
    })
}

/// Parses a framed response head (as returned by [`frame`]).
pub fn parse_response(head: &[u8], limits: &Limits) -> Result<ResponseHead, HeadError> {
    if count_lines(head) > limits.max_headers {
        return Err(HeadError::TooManyHeaders {
            limit: limits.max_headers,
        });
    }
    let mut raw = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut resp = httparse::Response::new(&mut raw);
    match resp.parse(head).map_err(syntax)? {
        httparse::Status::Complete(n) if n == head.len() => {}
        _ => return Err(HeadError::Syntax("incomplete head".into())),
    }
    let version = resp.version.ok_or(HeadError::NotText("version"))?;
    let status = resp.code.ok_or(HeadError::NotText("status"))?;
    let reason = resp.reason.unwrap_or("").to_owned();
    let headers = collect(resp.headers)?;
    Ok(ResponseHead {
        version,
        status,
        reason,
        headers,
    })
}

/// The framing shared by requests and responses: Content-Length / Transfer-Encoding with the
/// smuggling defences. `None` means neither field is present.
fn declared(headers: &Headers, limits: &Limits) -> Result<Option<BodyKind>, HeadError> {
    let mut te = headers.get_all("transfer-encoding").peekable();
    let mut cl = headers.get_all("content-length");
    if te.peek().is_some() {
        if cl.next().is_some() {
            return Err(HeadError::LengthWithTransferEncoding);
        }
        let codings: Vec<&[u8]> = te
            .flat_map(|v| v.split(|b| *b == b','))
            .map(<[u8]>::trim_ascii)
            .collect();
        if codings.len() != 1 || !codings[0].eq_ignore_ascii_case(b"chunked") {
            let all = codings
                .iter()
                .map(|c| String::from_utf8_lossy(c))
                .collect::<Vec<_>>();
            return Err(HeadError::UnsupportedTransferEncoding(all.join(",")));
        }
        return Ok(Some(BodyKind::Chunked));
    }
    let Some(value) = cl.next() else {
        return Ok(None);
    };
    if cl.next().is_some() {
        return Err(HeadError::DuplicateContentLength);
    }
    let invalid = || HeadError::InvalidContentLength(String::from_utf8_lossy(value).into_owned());
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(if value.contains(&b',') {
            HeadError::DuplicateContentLength
        } else {
            invalid()
        });
    }
    let n = std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(invalid)?;
    if n > limits.max_body {
        return Err(HeadError::BodyTooLarge {
            declared: n,
            limit: limits.max_body,
        });
    }
    Ok(Some(if n == 0 {
        BodyKind::Empty
    } else {
        BodyKind::Length(n)
    }))
}

/// How the body of a request is delimited (no length and no chunked: no body).
pub fn request_body(head: &RequestHead, limits: &Limits) -> Result<BodyKind, HeadError> {
    Ok(declared(&head.headers, limits)?.unwrap_or(BodyKind::Empty))
}

/// How the body of a response to a `method` request is delimited: none for HEAD, 1xx, 204 and
/// 304; else by length, chunked, or close-delimited.
pub fn response_body(
    head: &ResponseHead,
    method: &str,
    limits: &Limits,
) -> Result<BodyKind, HeadError> {
    if method.eq_ignore_ascii_case("HEAD")
        || head.status < 200
        || head.status == 204
        || head.status == 304
    {
        return Ok(BodyKind::Empty);
    }
    Ok(declared(&head.headers, limits)?.unwrap_or(BodyKind::CloseDelimited))
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;

/// A token (RFC 9110 5.6.2): method and field-name characters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Refuses caller fields that would change the head's meaning once sent: a name that is not a
/// token, a value holding CR, LF or NUL (header injection, request smuggling).
pub(crate) fn check_fields(headers: &Headers) -> Result<(), HttpError> {
    for (name, value) in headers.iter() {
        if !is_token(name) {
            return Err(HttpError::Misuse("a field name that is not a token"));
        }
        if value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(HttpError::Misuse("a field value holding CR, LF or NUL"));
        }
    }
    Ok(())
}

/// Refuses a request line the caller gives that would not go out as meant.
pub(crate) fn check_request_line(method: &str, target: &str) -> Result<(), HttpError> {
    if !is_token(method) {
        return Err(HttpError::Misuse("a method that is not a token"));
    }
    if target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(HttpError::Misuse(
            "a request target with spaces or control bytes",
        ));
    }
    Ok(())
}

/// Refuses a status line the caller gives that would not go out as meant.
pub(crate) fn check_status_line(status: u16, reason: &str) -> Result<(), HttpError> {
    if !(100..=999).contains(&status) {
        return Err(HttpError::Misuse("a status outside 100-999"));
    }
    if reason.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(HttpError::Misuse("a reason phrase holding CR, LF or NUL"));
    }
    Ok(())
}
