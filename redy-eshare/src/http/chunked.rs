//! The chunked transfer coding (RFC 9112 7.1): a streaming decoder that hands out data slices
//! of its input without copying, and the encoder's pieces.
//!
//! ```text
//!  Size ──"1a;ext\r\n"──► Data(0x1a) ──26 bytes──► DataEnd ──"\r\n"──► Size
//!    └──"0\r\n"──► Trailers ──"name: v\r\n"…──► "\r\n" ──► Done
//! ```

use super::{HttpError, Limits};

/// Where the decoder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// What one call to [`ChunkedDecoder::decode`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Body bytes (a slice of the input).
    Data(&'a [u8]),
    /// More input is needed.
    NeedMore,
    /// The last chunk and the trailers went by: the body is complete.
    End,
}

/// Decodes a chunked body from input given in any pieces.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// The chunk-size or trailer line so far (bounded).
    line: Vec<u8>,
    trailer_bytes: usize,
    body_bytes: u64,
    limits: Limits,
}

impl ChunkedDecoder {
    /// A decoder bounded by `limits` (chunk line, trailers, body).
    pub fn new(limits: Limits) -> Self {
        Self {
            state: State::Size,
            line: Vec::new(),
            trailer_bytes: 0,
            body_bytes: 0,
            limits,
        }
    }

    /// True once the whole body went by.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Takes what it can of `input`: returns how many bytes it consumed and what they were.
    /// Call again with the rest while it consumes something.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Piece<'a>), HttpError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                State::Done => return Ok((used, Piece::End)),
                State::Data(left) => {
                    if rest.is_empty() {
                        return Ok((used, Piece::NeedMore));
                    }
                    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok((used + n, Piece::Data(&rest[..n])));
                }
                State::Size | State::DataEnd | State::Trailers => {
                    let Some((n, line)) = self.line(rest)? else {
                        return Ok((input.len(), Piece::NeedMore));
                    };
                    used += n;
                    self.on_line(&line)?;
                }
            }
        }
    }

    /// Gathers a CRLF-terminated line; `None` (input all taken) when it is not complete yet.
    fn line(&mut self, input: &[u8]) -> Result<Option<(usize, Vec<u8>)>, HttpError> {
        let limit = match self.state {
            State::Trailers => self.limits.trailers.saturating_sub(self.trailer_bytes),
            _ => self.limits.chunk_line,
        };
        for (i, &b) in input.iter().enumerate() {
            if self.line.last() == Some(&b'\r') && b != b'\n' {
                return Err(HttpError::BareLineBreak("a chunk line"));
            }
            if b == b'\n' {
                if self.line.last() != Some(&b'\r') {
                    return Err(HttpError::BareLineBreak("a chunk line"));
                }
                self.line.pop();
                return Ok(Some((i + 1, std::mem::take(&mut self.line))));
            }
            if self.line.len() >= limit {
                return Err(match self.state {
                    State::Trailers => HttpError::BadChunk("trailers longer than the limit"),
                    _ => HttpError::BadChunk("chunk-size line longer than the limit"),
                });
            }
            self.line.push(b);
        }
        Ok(None)
    }

    fn on_line(&mut self, line: &[u8]) -> Result<(), HttpError> {
        match self.state {
            State::DataEnd if line.is_empty() => self.state = State::Size,
            State::DataEnd => return Err(HttpError::BadChunk("no CRLF after the chunk data")),
            State::Size => {
                let size = chunk_size(line)?;
                self.body_bytes = self
                    .body_bytes
                    .checked_add(size)
                    .filter(|total| *total <= self.limits.body)
                    .ok_or(HttpError::BodyTooLarge {
                        limit: self.limits.body,
                    })?;
                self.state = if size == 0 {
                    State::Trailers
                } else {
                    State::Data(size)
                };
            }
            State::Trailers if line.is_empty() => self.state = State::Done,
            State::Trailers => {
                if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                    return Err(HttpError::ObsoleteFolding);
                }
                self.trailer_bytes += line.len() + 2;
            }
            State::Data(_) | State::Done => {}
        }
        Ok(())
    }
}

/// The size of a chunk-size line: hex digits, then optionally `;` extensions (ignored).
fn chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(HttpError::BadChunk("chunk size is not hex digits"));
    }
    if digits > 15 {
        return Err(HttpError::BadChunk("chunk size too large"));
    }
    let rest = &line[digits..];
    let extensions = rest.trim_ascii_start();
    if !rest.is_empty() && !extensions.starts_with(b";") {
        return Err(HttpError::BadChunk("chunk size followed by something else"));
    }
    if extensions
        .iter()
        .any(|b| *b < b' ' && *b != b'\t' || *b == 0x7f)
    {
        return Err(HttpError::BadChunk(
            "control character in a chunk extension",
        ));
    }
    let text = std::str::from_utf8(&line[..digits]).map_err(|_| HttpError::BadChunk("hex"))?;
    u64::from_str_radix(text, 16).map_err(|_| HttpError::BadChunk("chunk size too large"))
}

/// The line before a chunk of `len` bytes (`len` > 0); the chunk is followed by `CRLF`.
pub fn chunk_header(len: usize) -> Vec<u8> {
    format!("{len:x}\r\n").into_bytes()
}

/// What ends a chunked body: the last chunk and an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Decodes `wire` fed in pieces of the given sizes; the body, or the error.
    fn decode_in(wire: &[u8], cuts: &[usize], limits: Limits) -> Result<Vec<u8>, HttpError> {
        let mut decoder = ChunkedDecoder::new(limits);
        let mut body = Vec::new();
        let mut pos = 0;
        let mut i = 0;
        while pos < wire.len() {
            let size = cuts
                .get(i % cuts.len().max(1))
                .copied()
                .unwrap_or(wire.len())
                .max(1);
            i += 1;
            let piece = &wire[pos..(pos + size).min(wire.len())];
            let mut rest = piece;
            loop {
                let (n, found) = decoder.decode(rest)?;
                rest = &rest[n..];
                match found {
                    Piece::Data(d) => body.extend_from_slice(d),
                    Piece::End => return Ok(body),
                    Piece::NeedMore => break,
                }
            }
            pos += piece.len();
        }
        Err(HttpError::Truncated("the test input"))
    }

    fn encode(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut wire = Vec::new();
        for chunk in chunks.iter().filter(|c| !c.is_empty()) {
            wire.extend(chunk_header(chunk.len()));
            wire.extend_from_slice(chunk);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(LAST_CHUNK);
        wire
    }

    #[test]
    fn extensions_and_trailers_are_read_past() {
        let wire = b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nExpires: never\r\n\r\n";
        assert_eq!(
            decode_in(wire, &[], Limits::default()).unwrap(),
            b"hello world"
        );
    }

    #[test]
    fn bad_chunks_are_refused() {
        let limits = Limits::default();
        for (wire, why) in [
            (&b"x\r\n"[..], "chunk size is not hex digits"),
            (
                b"0x5\r\nhello\r\n0\r\n\r\n",
                "chunk size followed by something else",
            ),
            (b"-5\r\n", "chunk size is not hex digits"),
            (b"1000000000000000\r\n", "chunk size too large"),
            (b"5\r\nhelloXY0\r\n\r\n", "no CRLF after the chunk data"),
            (b"5 5\r\n", "chunk size followed by something else"),
        ] {
            assert_eq!(
                decode_in(wire, &[], limits),
                Err(HttpError::BadChunk(why)),
                "{wire:?}"
            );
        }
        assert_eq!(
            decode_in(b"5\nhello\r\n0\r\n\r\n", &[], limits),
            Err(HttpError::BareLineBreak("a chunk line"))
        );
        let long = format!("5;{}\r\n", "e".repeat(300));
        assert!(matches!(
            decode_in(long.as_bytes(), &[], limits),
            Err(HttpError::BadChunk(_))
        ));
        let small = Limits {
            body: 8,
            ..Limits::default()
        };
        assert_eq!(
            decode_in(b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", &[], small),
            Err(HttpError::BodyTooLarge { limit: 8 })
        );
    }

    proptest! {
        #[test]
        fn any_split_decodes_what_was_encoded(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
            cuts in proptest::collection::vec(1usize..40, 1..10),
        ) {
            let wire = encode(&chunks);
            let body: Vec<u8> = chunks.concat();
            prop_assert_eq!(decode_in(&wire, &cuts, Limits::default()).unwrap(), body.clone());
            prop_assert_eq!(decode_in(&wire, &[wire.len()], Limits::default()).unwrap(), body);
        }
    }
}
