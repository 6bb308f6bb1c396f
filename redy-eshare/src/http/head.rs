//! Heads: framed first (the bytes up to the blank line, bounded, line breaks checked), then
//! parsed with `httparse` into bounded header lists; and the body framing a head implies, with
//! the checks that keep it unambiguous (RFC 9112 6.1-6.3).

use super::{HttpError, Limits};

/// Header fields in the order received. Names compare without regard to case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, Vec<u8>)>);

impl Headers {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field; refuses names that are not tokens and values with CR, LF or NUL.
    pub fn push(&mut self, name: &str, value: impl Into<Vec<u8>>) -> Result<(), HttpError> {
        let value = value.into();
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(HttpError::Argument(format!("header name {name:?}")));
        }
        if value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(HttpError::Argument(format!("value of {name}")));
        }
        self.0.push((name.to_owned(), value));
        Ok(())
    }

    /// The builder form of [`push`](Self::push).
    pub fn with(mut self, name: &str, value: impl Into<Vec<u8>>) -> Result<Self, HttpError> {
        self.push(name, value)?;
        Ok(self)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Whether a comma-separated field such as `Connection` holds `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.all(name)
            .flat_map(|v| v.split(|b| *b == b','))
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True with no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.0 {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
    }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A request's head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target as sent (`/eshare/v1/status`).
    pub target: String,
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor_version: u8,
    /// The fields.
    pub headers: Headers,
}

impl RequestHead {
    /// An HTTP/1.1 request head without fields.
    pub fn new(method: &str, target: &str) -> Self {
        Self {
            method: method.to_owned(),
            target: target.to_owned(),
            minor_version: 1,
            headers: Headers::new(),
        }
    }

    /// The head as sent on the wire.
    pub fn encode(&self) -> Result<Vec<u8>, HttpError> {
        if self.method.is_empty() || !self.method.bytes().all(is_token) {
            return Err(HttpError::Argument(format!("method {:?}", self.method)));
        }
        if self.target.is_empty() || self.target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(HttpError::Argument(format!("target {:?}", self.target)));
        }
        let mut out = format!(
            "{} {} HTTP/1.{}\r\n",
            self.method, self.target, self.minor_version
        )
        .into_bytes();
        self.headers.encode(&mut out);
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

/// A response's head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// `200`, `404`, ...
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor_version: u8,
    /// The fields.
    pub headers: Headers,
}

impl ResponseHead {
    /// An HTTP/1.1 response head without fields, with the usual reason phrase.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            reason: reason(status).to_owned(),
            minor_version: 1,
            headers: Headers::new(),
        }
    }

    /// The head as sent on the wire.
    pub fn encode(&self) -> Result<Vec<u8>, HttpError> {
        if !(100..=999).contains(&self.status)
            || self
                .reason
                .bytes()
                .any(|b| b == b'\r' || b == b'\n' || b == 0)
        {
            return Err(HttpError::Argument(format!(
                "status line {} {:?}",
                self.status, self.reason
            )));
        }
        let mut out = format!(
            "HTTP/1.{} {} {}\r\n",
            self.minor_version, self.status, self.reason
        )
        .into_bytes();
        self.headers.encode(&mut out);
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

/// The usual reason phrase of `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// How long the head at the start of `buf` is (through its blank line), once it is all there.
///
/// Refuses a head longer than `limit`, and bare CR or LF anywhere in it.
pub fn frame(buf: &[u8], limit: usize) -> Result<Option<usize>, HttpError> {
    let window = &buf[..buf.len().min(limit)];
    for (i, &b) in window.iter().enumerate() {
        let next = window.get(i + 1);
        if b == b'\r' && next.is_some_and(|n| *n != b'\n') {
            return Err(HttpError::BareLineBreak("the head"));
        }
        if b == b'\n' && (i == 0 || window[i - 1] != b'\r') {
            return Err(HttpError::BareLineBreak("the head"));
        }
        if b == b'\n' && window[..=i].ends_with(b"\r\n\r\n") {
            return Ok(Some(i + 1));
        }
    }
    match buf.len() >= limit {
        true => Err(HttpError::HeadTooLarge { limit }),
        false => Ok(None),
    }
}

/// Refuses obsolete line folding: a header line that starts with a space or a tab.
fn check_folding(head: &[u8]) -> Result<(), HttpError> {
    match head
        .windows(3)
        .any(|w| w[0] == b'\n' && (w[1] == b' ' || w[1] == b'\t'))
    {
        true => Err(HttpError::ObsoleteFolding),
        false => Ok(()),
    }
}

fn headers_from(parsed: &[httparse::Header<'_>]) -> Headers {
    Headers(
        parsed
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect(),
    )
}

fn parse_error(e: httparse::Error, limits: &Limits) -> HttpError {
    match e {
        httparse::Error::TooManyHeaders => HttpError::TooManyHeaders {
            limit: limits.headers,
        },
        other => HttpError::Malformed(other.to_string()),
    }
}

/// Parses a framed request head (as [`frame`] delimited it).
pub fn parse_request(head: &[u8], limits: &Limits) -> Result<RequestHead, HttpError> {
    check_folding(head)?;
    let mut fields = vec![httparse::EMPTY_HEADER; limits.headers];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(head).map_err(|e| parse_error(e, limits))? {
        httparse::Status::Complete(_) => {}
        httparse::Status::Partial => return Err(HttpError::Malformed("incomplete head".into())),
    }
    let (Some(method), Some(target), Some(minor_version)) =
        (request.method, request.path, request.version)
    else {
        return Err(HttpError::Malformed("incomplete request line".into()));
    };
    Ok(RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        minor_version,
        headers: headers_from(request.headers),
    })
}

/// Parses a framed response head.
pub fn parse_response(head: &[u8], limits: &Limits) -> Result<ResponseHead, HttpError> {
    check_folding(head)?;
    let mut fields = vec![httparse::EMPTY_HEADER; limits.headers];
    let mut response = httparse::Response::new(&mut fields);
    match response.parse(head).map_err(|e| parse_error(e, limits))? {
        httparse::Status::Complete(_) => {}
        httparse::Status::Partial => return Err(HttpError::Malformed("incomplete head".into())),
    }
    let (Some(status), Some(minor_version)) = (response.code, response.version) else {
        return Err(HttpError::Malformed("incomplete status line".into()));
    };
    Ok(ResponseHead {
        status,
        reason: response.reason.unwrap_or("").to_owned(),
        minor_version,
        headers: headers_from(response.headers),
    })
}

/// How a message's body is delimited.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLength {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Known(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection ends (responses only; complete only with TLS close_notify).
    UntilClose,
}

/// The framing `headers` give a message, refusing what could be read two ways.
fn framing(headers: &Headers, minor_version: u8) -> Result<Option<BodyLength>, HttpError> {
    let encodings: Vec<&[u8]> = headers.all("transfer-encoding").collect();
    let lengths: Vec<&[u8]> = headers.all("content-length").collect();
    if !encodings.is_empty() {
        if !lengths.is_empty() {
            return Err(HttpError::LengthAndEncoding);
        }
        let codings: Vec<String> = encodings
            .iter()
            .flat_map(|v| v.split(|b| *b == b','))
            .map(|c| String::from_utf8_lossy(c.trim_ascii()).to_ascii_lowercase())
            .collect();
        if minor_version == 0 || codings != ["chunked"] {
            return Err(HttpError::UnsupportedEncoding(codings.join(", ")));
        }
        return Ok(Some(BodyLength::Chunked));
    }
    match lengths.as_slice() {
        [] => Ok(None),
        [one] => {
            let text = String::from_utf8_lossy(one).into_owned();
            if one.is_empty() || one.len() > 19 || !one.iter().all(u8::is_ascii_digit) {
                return Err(HttpError::BadLength(text));
            }
            match text.parse::<u64>() {
                Ok(0) => Ok(Some(BodyLength::Empty)),
                Ok(n) => Ok(Some(BodyLength::Known(n))),
                Err(_) => Err(HttpError::BadLength(text)),
            }
        }
        _ => Err(HttpError::DuplicateLength),
    }
}

/// The body framing of a request (no framing fields: no body).
pub fn request_body(head: &RequestHead) -> Result<BodyLength, HttpError> {
    Ok(framing(&head.headers, head.minor_version)?.unwrap_or(BodyLength::Empty))
}

/// The body framing of a response to a `method` request (no framing fields: until close).
pub fn response_body(method: &str, head: &ResponseHead) -> Result<BodyLength, HttpError> {
    if method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&head.status)
        || head.status == 204
        || head.status == 304
    {
        return Ok(BodyLength::Empty);
    }
    Ok(framing(&head.headers, head.minor_version)?.unwrap_or(BodyLength::UntilClose))
}

/// Whether the connection stays open after this exchange (RFC 9112 9.3).
pub fn keep_alive(minor_version: u8, headers: &Headers) -> bool {
    match minor_version {
        0 => headers.has_token("connection", "keep-alive"),
        _ => !headers.has_token("connection", "close"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Result<RequestHead, HttpError> {
        let limits = Limits::default();
        let n = frame(text.as_bytes(), limits.head)?.expect("a whole head");
        parse_request(&text.as_bytes()[..n], &limits)
    }

    #[test]
    fn a_request_head_parses_and_frames_its_body() {
        let head =
            request("POST /eshare/v1/batches HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n")
                .unwrap();
        assert_eq!(
            (head.method.as_str(), head.target.as_str()),
            ("POST", "/eshare/v1/batches")
        );
        assert_eq!(head.headers.get("content-LENGTH"), Some(&b"12"[..]));
        assert_eq!(request_body(&head), Ok(BodyLength::Known(12)));
        let head = request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        assert_eq!(request_body(&head), Ok(BodyLength::Chunked));
        let head = request("GET / HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(request_body(&head), Ok(BodyLength::Empty));
    }

    #[test]
    fn smuggling_vectors_are_refused() {
        let cases: [(&str, HttpError); 9] = [
            (
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::LengthAndEncoding,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
                HttpError::DuplicateLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                HttpError::DuplicateLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n",
                HttpError::BadLength("3, 3".into()),
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
                HttpError::BadLength("+3".into()),
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                HttpError::UnsupportedEncoding("gzip, chunked".into()),
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::UnsupportedEncoding("chunked, chunked".into()),
            ),
            (
                "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::UnsupportedEncoding("chunked".into()),
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                HttpError::BadLength("99999999999999999999".into()),
            ),
        ];
        for (text, expected) in cases {
            let head = request(text).unwrap();
            assert_eq!(request_body(&head), Err(expected), "{text:?}");
        }
        assert_eq!(
            request("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"),
            Err(HttpError::ObsoleteFolding)
        );
        for bare in [
            "GET / HTTP/1.1\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        ] {
            assert_eq!(
                request(bare),
                Err(HttpError::BareLineBreak("the head")),
                "{bare:?}"
            );
        }
        assert!(matches!(
            request("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
    }

    #[test]
    fn heads_are_bounded() {
        let limits = Limits {
            head: 64,
            headers: 2,
            ..Limits::default()
        };
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100));
        assert_eq!(
            frame(long.as_bytes(), limits.head),
            Err(HttpError::HeadTooLarge { limit: 64 })
        );
        let partial = b"GET / HTTP/1.1\r\nHost: a\r\n";
        assert_eq!(frame(partial, limits.head), Ok(None));
        let many = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        let n = frame(many, limits.head).unwrap().unwrap();
        assert_eq!(
            parse_request(&many[..n], &limits),
            Err(HttpError::TooManyHeaders { limit: 2 })
        );
    }

    #[test]
    fn responses_frame_by_status_and_method() {
        let limits = Limits::default();
        let parse = |t: &str| parse_response(t.as_bytes(), &limits).unwrap();
        let ok = parse("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(response_body("GET", &ok), Ok(BodyLength::UntilClose));
        assert_eq!(response_body("HEAD", &ok), Ok(BodyLength::Empty));
        assert_eq!(
            response_body("GET", &parse("HTTP/1.1 204 No Content\r\n\r\n")),
            Ok(BodyLength::Empty)
        );
        let sized = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(response_body("GET", &sized), Ok(BodyLength::Known(5)));
    }

    #[test]
    fn heads_encode_and_parse_back() {
        let mut head = RequestHead::new("POST", "/eshare/v1/batches");
        head.headers.push("Host", "10.0.0.2:9443").unwrap();
        head.headers
            .push("Content-Type", "application/json")
            .unwrap();
        let wire = head.encode().unwrap();
        assert_eq!(parse_request(&wire, &Limits::default()).unwrap(), head);
        assert!(Headers::new().with("X", "a\r\nInjected: 1").is_err());
        assert!(Headers::new().with("Bad Name", "a").is_err());
        assert!(RequestHead::new("GET", "/a b").encode().is_err());
    }
}
