//! The DATA body encoder: line ends to CRLF, dot-stuffing, and the final `CRLF.CRLF`, streamed.
//!
//! It holds one bit of state between chunks (were we at a line start, was the last byte a CR),
//! so a message of any size passes through in chunks of any size with the same output.

/// Turns message bytes into the DATA stream (RFC 5321 §4.5.2).
#[derive(Clone, Debug)]
pub struct BodyEncoder {
    line_start: bool,
    pending_cr: bool,
}

impl Default for BodyEncoder {
    fn default() -> Self {
        Self {
            line_start: true,
            pending_cr: false,
        }
    }
}

impl BodyEncoder {
    /// A new encoder, at the start of the first line.
    pub fn new() -> Self {
        Self::default()
    }

    /// Encodes `input` onto `out`: bare CR and bare LF become CRLF, a `.` starting a line is
    /// doubled. `out` grows by at most twice `input.len()` plus one.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 64 + 2);
        let mut rest = input;
        while let Some((&b, tail)) = rest.split_first() {
            if self.pending_cr {
                self.pending_cr = false;
                out.extend_from_slice(b"\r\n");
                self.line_start = true;
                if b == b'\n' {
                    rest = tail;
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.pending_cr = true;
                    rest = tail;
                }
                b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.line_start = true;
                    rest = tail;
                }
                _ => {
                    if self.line_start && b == b'.' {
                        out.push(b'.');
                    }
                    // Copy the run up to the next line end at once.
                    let run = rest
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n')
                        .unwrap_or(rest.len());
                    out.extend_from_slice(&rest[..run]);
                    self.line_start = false;
                    rest = &rest[run..];
                }
            }
        }
    }

    /// Ends the body: a last line end if the input lacked one, then `.` CRLF.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.pending_cr || !self.line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        *self = Self::default();
    }
}

/// Undoes [`BodyEncoder`]: the message as the server stores it (for tests and servers).
/// Returns `None` when the terminating `.` line is missing.
pub fn unstuff(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = &rest[..end];
        if line == b"." {
            return Some(out);
        }
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        out.extend_from_slice(b"\r\n");
        rest = &rest[end + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(chunks: &[&[u8]]) -> Vec<u8> {
        let mut enc = BodyEncoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            enc.encode(chunk, &mut out);
        }
        enc.finish(&mut out);
        out
    }

    #[test]
    fn dots_are_stuffed_and_line_ends_normalised() {
        assert_eq!(
            encode(&[b".hidden\n..two\r\nmid.dle\rlast"]),
            b"..hidden\r\n...two\r\nmid.dle\r\nlast\r\n.\r\n"
        );
        assert_eq!(encode(&[b""]), b".\r\n");
        assert_eq!(encode(&[b"x\r\n"]), b"x\r\n.\r\n");
        assert_eq!(encode(&[b"x\r"]), b"x\r\n.\r\n");
    }

    #[test]
    fn a_lone_dot_line_cannot_end_the_message_early() {
        let out = encode(&[b"before\r\n", b".", b"\r\nafter"]);
        assert_eq!(out, b"before\r\n..\r\nafter\r\n.\r\n");
        assert_eq!(unstuff(&out).unwrap(), b"before\r\n.\r\nafter\r\n");
    }

    #[test]
    fn cr_and_lf_split_across_chunks_make_one_line_end() {
        assert_eq!(encode(&[b"a\r", b"\nb"]), encode(&[b"a\r\nb"]));
        assert_eq!(encode(&[b"a\r", b".b"]), b"a\r\n..b\r\n.\r\n");
    }
}
