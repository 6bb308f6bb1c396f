//! `Transfer-Encoding: chunked`: a push decoder that accepts input split anywhere and never
//! buffers more than the caller's output room, and a small encoder.

use redy_tls::SEND_BUFFER_LIMIT;

use super::error::ChunkedError;
use super::limits::{Limits, MAX_CHUNK_SIZE_DIGITS};
use super::link::Link;
use super::server::BODY_SLICE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Hex digits of a chunk size; `digits` seen so far.
    Size { value: u64, digits: usize },
    /// After the digits: whitespace and extensions up to CR.
    Ext { value: u64, len: usize },
    /// CR of the size line seen, LF expected.
    SizeLf { value: u64 },
    /// Chunk data left.
    Data { left: u64 },
    /// CR after chunk data expected.
    DataCr,
    /// LF after chunk data expected.
    DataLf,
    /// Start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field line.
    TrailerLine,
    /// CR of a trailer line seen.
    TrailerLf,
    /// CR of the final empty line seen.
    FinalLf,
    /// The body is complete.
    Done,
}

/// Decoder of a chunked body, fed with arbitrary splits of the input.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    decoded: u64,
    trailer: usize,
    max_body: u64,
    max_ext: usize,
    max_trailer: usize,
}

impl ChunkedDecoder {
    /// A decoder bounded by `limits` (body, chunk extension and trailer sizes).
    pub fn new(limits: &Limits) -> Self {
        Self {
            state: State::Size {
                value: 0,
                digits: 0,
            },
            decoded: 0,
            trailer: 0,
            max_body: limits.max_body,
            max_ext: limits.max_chunk_ext,
            max_trailer: limits.max_trailer,
        }
    }

    /// True once the last chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decoded body bytes so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Decodes from `input`, appending at most `room` body bytes to `out`. Returns how many
    /// input bytes were consumed; it stops at the end of the body (the rest belongs to the next
    /// message) or when `room` is used up.
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        room: usize,
    ) -> Result<usize, ChunkedError> {
        let mut i = 0;
        let mut room = room;
        while i < input.len() {
            if let State::Data { left } = self.state {
                let take = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(input.len() - i)
                    .min(room);
                if take == 0 {
                    break;
                }
                out.extend_from_slice(&input[i..i + take]);
                i += take;
                room -= take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data { left }
                };
                continue;
            }
            if self.state == State::Done {
                break;
            }
            let b = input[i];
            i += 1;
            self.state = self.step(b)?;
        }
        Ok(i)
    }

    fn start_chunk(&mut self, value: u64) -> Result<State, ChunkedError> {
        if value == 0 {
            return Ok(State::TrailerStart);
        }
        self.decoded = self.decoded.saturating_add(value);
        if self.decoded > self.max_body {
            return Err(ChunkedError::BodyTooLarge {
                limit: self.max_body,
            });
        }
        Ok(State::Data { left: value })
    }

    fn step(&mut self, b: u8) -> Result<State, ChunkedError> {
        Ok(match self.state {
            State::Size { value, digits } => match (b as char).to_digit(16) {
                Some(d) => {
                    if digits >= MAX_CHUNK_SIZE_DIGITS {
                        return Err(ChunkedError::SizeTooLong);
                    }
                    State::Size {
                        value: (value << 4) | u64::from(d),
                        digits: digits + 1,
                    }
                }
                None if digits == 0 => return Err(ChunkedError::InvalidSize(b)),
                None => match b {
                    b'\r' => State::SizeLf { value },
                    b';' | b' ' | b'\t' => State::Ext { value, len: 1 },
                    _ => return Err(ChunkedError::InvalidSize(b)),
                },
            },
            State::Ext { value, len } => match b {
                b'\r' => State::SizeLf { value },
                _ if len >= self.max_ext => {
                    return Err(ChunkedError::ExtensionTooLong {
                        limit: self.max_ext,
                    });
                }
                b'\t' | b' '..=b'~' | 0x80..=0xff => State::Ext {
                    value,
                    len: len + 1,
                },
                _ => return Err(ChunkedError::InvalidExtension(b)),
            },
            State::SizeLf { value } if b == b'\n' => self.start_chunk(value)?,
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Size {
                value: 0,
                digits: 0,
            },
            State::TrailerStart if b == b'\r' => State::FinalLf,
            State::FinalLf if b == b'\n' => State::Done,
            State::TrailerStart | State::TrailerLine => {
                self.trailer += 1;
                if self.trailer > self.max_trailer {
                    return Err(ChunkedError::TrailerTooLong {
                        limit: self.max_trailer,
                    });
                }
                match b {
                    b'\r' => State::TrailerLf,
                    b'\n' => return Err(ChunkedError::MissingCrlf),
                    _ => State::TrailerLine,
                }
            }
            State::TrailerLf if b == b'\n' => State::TrailerStart,
            State::SizeLf { .. }
            | State::DataCr
            | State::DataLf
            | State::FinalLf
            | State::TrailerLf
            | State::Data { .. }
            | State::Done => return Err(ChunkedError::MissingCrlf),
        })
    }
}

/// Appends `data` as one chunk (nothing for empty data, which would end the body).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Sends up to [`BODY_SLICE`] bytes of `data` on `link` as one chunk; returns how many it took,
/// 0 while the link's send buffer is full.
pub(super) fn send_chunk(link: &mut Link, data: &[u8]) -> Result<usize, redy_tls::Error> {
    if link.transmit().len() >= SEND_BUFFER_LIMIT {
        return Ok(0);
    }
    let n = data.len().min(BODY_SLICE);
    let mut chunk = Vec::with_capacity(n + 12);
    encode_chunk(&data[..n], &mut chunk);
    link.send_all(&chunk)?;
    Ok(n)
}

/// The last chunk with an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
