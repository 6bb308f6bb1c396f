//! The streaming encoder: the message as bytes, pulled in pieces of the caller's size, with
//! attachments pushed in and base64-encoded on the way.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::MessageError;

/// Most base64 output an encoder holds for the attachment being streamed (8 KiB). It takes
/// attachment input 57 bytes (one 76-character line) at a time while there is room, so at most
/// 5,928 input bytes are taken per call when the buffer is empty.
pub const ATTACHMENT_BUFFER: usize = 8 * 1024;
/// Characters per base64 line (RFC 2045 §6.8).
const LINE: usize = 76;
/// Input bytes per full base64 line.
const LINE_INPUT: usize = LINE / 4 * 3;
/// Room kept for the last group and its line break.
const SLACK: usize = 8;

/// A piece of the laid-out message.
#[derive(Debug)]
pub(crate) enum Segment<'a> {
    /// Headers and boundaries written when the encoder was made.
    Owned(Vec<u8>),
    /// A text body held by the message.
    Borrowed(&'a [u8]),
    /// Attachment `n`, supplied by the caller.
    Attachment(usize),
}

/// What [`MessageEncoder::next`] wants after appending what it could.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `max` bytes were appended and more follow: send them, call again.
    Data,
    /// The encoder needs content of attachment `n` (in the order of
    /// [`MessageBuilder::attach`](super::MessageBuilder::attach)): call
    /// [`attachment_data`](MessageEncoder::attachment_data), or
    /// [`attachment_end`](MessageEncoder::attachment_end) when there is no more.
    NeedAttachment(usize),
    /// The message is complete (it ends with CRLF); later calls append nothing.
    Done,
}

/// Writes a [`Message`](super::Message) as bytes, pulled with [`next`](Self::next), with each
/// attachment's content pushed in with [`attachment_data`](Self::attachment_data) when asked.
///
/// The output is the same whatever the sizes of the pieces pulled and pushed. It never holds a
/// whole attachment: at most [`ATTACHMENT_BUFFER`] bytes of base64, beside the message's
/// headers and text parts. Every line ends with CRLF and has at most 998 octets.
///
/// ```
/// # use redy_smtps::message::{Attachment, Mailbox, Message, MessageId, Step};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let message = Message::builder()
///     .from("Device <device@example.com>".parse()?)
///     .to(Mailbox::new("ops@example.com")?)
///     .subject("Journal")
///     .date(1_795_322_400, 60)
///     .message_id(MessageId::new([7; 16], "device.example.com")?)
///     .text("Today's journal is attached.")
///     .attach(Attachment::new("journal.csv", "text/csv"))
///     .build()?;
/// let journal: &[u8] = b"time;value\n1;2\n";
/// let (mut out, mut fed) = (Vec::new(), 0);
/// let mut encoder = message.encoder();
/// loop {
///     match encoder.next(&mut out, 16 * 1024) {
///         Step::Data => {}
///         Step::NeedAttachment(_) if fed < journal.len() => {
///             fed += encoder.attachment_data(&journal[fed..])?;
///         }
///         Step::NeedAttachment(_) => encoder.attachment_end()?,
///         Step::Done => break,
///     }
///     // here: hand `out` to SmtpClient::write_body (or a socket), then clear it
/// }
/// assert!(out.ends_with(b"\r\n"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MessageEncoder<'a> {
    segments: Vec<Segment<'a>>,
    /// The segment being written.
    index: usize,
    /// Bytes of it already written (Owned and Borrowed segments).
    offset: usize,
    base64: Base64,
}

impl<'a> MessageEncoder<'a> {
    pub(crate) fn new(segments: Vec<Segment<'a>>) -> Self {
        Self {
            segments,
            index: 0,
            offset: 0,
            base64: Base64::default(),
        }
    }

    /// Appends at most `max` bytes of the message to `out` and says what comes next. Whatever
    /// it returns, what it appended is part of the message.
    pub fn next(&mut self, out: &mut Vec<u8>, max: usize) -> Step {
        let mut room = max;
        loop {
            let bytes: &[u8] = match self.segments.get(self.index) {
                None => return Step::Done,
                Some(Segment::Owned(bytes)) => &bytes[self.offset.min(bytes.len())..],
                Some(Segment::Borrowed(bytes)) => &bytes[self.offset.min(bytes.len())..],
                Some(&Segment::Attachment(n)) => {
                    let pending = self.base64.pending();
                    if pending.is_empty() {
                        if !self.base64.ended {
                            return Step::NeedAttachment(n);
                        }
                        self.base64 = Base64::default();
                        self.index += 1;
                        continue;
                    }
                    if room == 0 {
                        return Step::Data;
                    }
                    let take = pending.len().min(room);
                    out.extend_from_slice(&pending[..take]);
                    self.base64.consume(take);
                    room -= take;
                    continue;
                }
            };
            if bytes.is_empty() {
                self.index += 1;
                self.offset = 0;
                continue;
            }
            if room == 0 {
                return Step::Data;
            }
            let take = bytes.len().min(room);
            out.extend_from_slice(&bytes[..take]);
            self.offset += take;
            room -= take;
        }
    }

    /// Supplies the next bytes of the attachment the encoder asked for; returns how many it
    /// took (any slice may be offered, it takes whole 57-byte lines' worth while its
    /// [`ATTACHMENT_BUFFER`] has room, so possibly 0: call [`next`](Self::next) first).
    ///
    /// Refused ([`MessageError::NotNow`]) unless the encoder is at an attachment that has not
    /// been ended: after [`Step::NeedAttachment`], before [`attachment_end`](Self::attachment_end).
    pub fn attachment_data(&mut self, data: &[u8]) -> Result<usize, MessageError> {
        self.check_attachment("take attachment data")?;
        self.base64.compact();
        let room = ATTACHMENT_BUFFER.saturating_sub(self.base64.pending.len() + SLACK);
        let take = (room / (LINE + 2) * LINE_INPUT).min(data.len());
        self.base64.push(&data[..take]);
        Ok(take)
    }

    /// Ends the content of the attachment being streamed (its last base64 group is written).
    pub fn attachment_end(&mut self) -> Result<(), MessageError> {
        self.check_attachment("end an attachment")?;
        self.base64.finish();
        Ok(())
    }

    /// True once the whole message has been appended.
    pub fn is_done(&self) -> bool {
        self.index >= self.segments.len()
    }

    fn check_attachment(&self, action: &'static str) -> Result<(), MessageError> {
        match self.segments.get(self.index) {
            Some(Segment::Attachment(_)) if !self.base64.ended => Ok(()),
            Some(Segment::Attachment(_)) => Err(MessageError::NotNow {
                action,
                state: "the attachment was ended",
            }),
            None => Err(MessageError::NotNow {
                action,
                state: "the message is complete",
            }),
            Some(_) => Err(MessageError::NotNow {
                action,
                state: "the encoder has not asked for an attachment",
            }),
        }
    }
}

/// Base64 of one attachment in 76-character lines, across chunks of any size.
#[derive(Debug, Default)]
struct Base64 {
    /// The 0–2 bytes left over from the last chunk.
    carry: [u8; 2],
    carry_len: usize,
    /// Characters on the current line.
    line: usize,
    /// Encoded output not yet given to [`MessageEncoder::next`], from `sent` on.
    pending: String,
    sent: usize,
    ended: bool,
}

impl Base64 {
    fn pending(&self) -> &[u8] {
        self.pending.as_bytes().get(self.sent..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.sent += n;
        if self.sent >= self.pending.len() {
            self.pending.clear();
            self.sent = 0;
        }
    }

    fn compact(&mut self) {
        if self.sent > 0 {
            self.pending.drain(..self.sent.min(self.pending.len()));
            self.sent = 0;
        }
    }

    fn push(&mut self, mut data: &[u8]) {
        if self.carry_len > 0 {
            let need = 3 - self.carry_len;
            if data.len() < need {
                self.carry[self.carry_len..self.carry_len + data.len()].copy_from_slice(data);
                self.carry_len += data.len();
                return;
            }
            let mut group = [0u8; 3];
            group[..self.carry_len].copy_from_slice(&self.carry[..self.carry_len]);
            group[self.carry_len..].copy_from_slice(&data[..need]);
            self.groups(&group);
            data = &data[need..];
            self.carry_len = 0;
        }
        let whole = data.len() / 3 * 3;
        self.groups(&data[..whole]);
        let rest = &data[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
    }

    /// Encodes whole groups (`data.len()` is a multiple of 3), breaking lines before a group
    /// that would not fit (so the last line has no CRLF: the next delimiter brings it).
    fn groups(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.line == LINE {
                self.pending.push_str("\r\n");
                self.line = 0;
            }
            let take = ((LINE - self.line) / 4 * 3).min(data.len());
            STANDARD.encode_string(&data[..take], &mut self.pending);
            self.line += take / 3 * 4;
            data = &data[take..];
        }
    }

    fn finish(&mut self) {
        if self.carry_len > 0 {
            if self.line == LINE {
                self.pending.push_str("\r\n");
                self.line = 0;
            }
            STANDARD.encode_string(&self.carry[..self.carry_len], &mut self.pending);
            self.line += 4;
            self.carry_len = 0;
        }
        self.ended = true;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn encode(data: &[u8], chunk: usize) -> String {
        let mut b = Base64::default();
        for piece in data.chunks(chunk.max(1)) {
            b.push(piece);
        }
        b.finish();
        b.pending
    }

    #[test]
    fn lines_of_76_across_any_chunking() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
        let whole = encode(&data, data.len());
        for line in whole.split("\r\n") {
            assert!(line.len() <= LINE);
        }
        assert_eq!(whole.split("\r\n").next().unwrap().len(), LINE);
        assert_eq!(STANDARD.decode(whole.replace("\r\n", "")).unwrap(), data);
        for chunk in [1, 2, 3, 4, 56, 57, 58, 100] {
            assert_eq!(encode(&data, chunk), whole, "chunk {chunk}");
        }
        assert_eq!(encode(&data[..57], 57), STANDARD.encode(&data[..57]));
        assert_eq!(encode(b"", 1), "");
    }

    #[test]
    fn the_buffer_stays_within_its_limit() {
        let mut encoder = MessageEncoder::new(vec![Segment::Attachment(0)]);
        assert_eq!(encoder.next(&mut Vec::new(), 10), Step::NeedAttachment(0));
        let data = vec![0xa5; 100_000];
        let mut fed = 0;
        let mut out = Vec::new();
        loop {
            let n = encoder.attachment_data(&data[fed..]).unwrap();
            assert!(encoder.base64.pending.len() + SLACK <= ATTACHMENT_BUFFER + 2);
            fed += n;
            if n == 0 {
                // Full: drain a little, then more fits.
                assert_eq!(encoder.next(&mut out, 1000), Step::Data);
            }
            if fed == data.len() {
                break;
            }
            encoder.next(&mut out, 3);
        }
        encoder.attachment_end().unwrap();
        assert!(encoder.base64.pending.len() <= ATTACHMENT_BUFFER);
        assert_eq!(encoder.next(&mut out, usize::MAX), Step::Done);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(STANDARD.decode(text.replace("\r\n", "")).unwrap(), data);
    }

    #[test]
    fn calls_out_of_turn_are_refused() {
        let mut encoder = MessageEncoder::new(vec![
            Segment::Owned(b"head\r\n".to_vec()),
            Segment::Attachment(0),
        ]);
        assert!(matches!(
            encoder.attachment_data(b"x"),
            Err(MessageError::NotNow { .. })
        ));
        let mut out = Vec::new();
        assert_eq!(encoder.next(&mut out, 2), Step::Data);
        assert_eq!(encoder.next(&mut out, 100), Step::NeedAttachment(0));
        assert_eq!(out, b"head\r\n");
        encoder.attachment_end().unwrap();
        assert!(encoder.attachment_end().is_err());
        assert!(encoder.attachment_data(b"x").is_err());
        assert_eq!(encoder.next(&mut out, 100), Step::Done);
        assert!(encoder.is_done());
        assert!(encoder.attachment_end().is_err());
    }
}
