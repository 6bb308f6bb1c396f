//! Internet messages (RFC 5322 and MIME) built from parts and written as a bounded stream.
//!
//! [`Message::builder`] takes the sender, the recipients (Bcc only ever goes to the envelope),
//! a subject, the date *as the caller knows it*, a [`MessageId`] made from random bytes the
//! caller draws, a text and/or an HTML body, and [`Attachment`]s whose content is not needed
//! yet. [`Message::encoder`] then writes the message piece by piece ([`MessageEncoder`]), asking
//! for each attachment's content when it gets there, so a device journal of any size goes out
//! without being held in memory. Nothing here reads a clock, a file or a random source.
//!
//! What is written:
//! - headers folded at 78 characters; display names and subjects that are not plain ASCII as
//!   RFC 2047 encoded words (UTF-8, at most 66 characters each, whole characters only);
//!   non-ASCII addresses as UTF-8 (the server must offer SMTPUTF8: [`Message::needs_smtputf8`]);
//! - `Date` per RFC 5322 §3.3 (`Sun, 22 Nov 2026 05:40:00 +0100`);
//! - text only: one `text/plain` part; text and HTML: `multipart/alternative`; with attachments:
//!   `multipart/mixed` holding the text entity then each attachment (base64, 76-character
//!   lines, `Content-Disposition: attachment` with the file name, RFC 2231 when not ASCII);
//! - text parts in UTF-8, `7bit` when ASCII with lines of at most 998 octets, quoted-printable
//!   otherwise; bare CR and bare LF become CRLF;
//! - boundaries `=_redy_<Message-ID randomness>_<counter>`, checked against the text parts
//!   (`=_` can never occur in base64 or quoted-printable).
//!
//! Every output line ends with CRLF and has at most [`MAX_LINE`] octets; the body is 7-bit, so
//! it never needs 8BITMIME.
//!
//! # Limits
//!
//! | what | limit |
//! |---|---|
//! | address | [`crate::MAX_ADDRESS`] (254) octets |
//! | display name | [`MAX_NAME`] (256) octets |
//! | subject | [`MAX_SUBJECT`] (2,048) octets |
//! | To + Cc + Bcc | [`MAX_RECIPIENTS`] (100, as the client) |
//! | Reply-To | [`MAX_REPLY_TO`] (10) |
//! | text body, HTML body | [`MAX_TEXT`] (1 MiB) each; held encoded, at most ~3.1 MiB each |
//! | attachments | [`MAX_ATTACHMENTS`] (64); file name [`MAX_FILENAME`] (255) octets; content type [`MAX_CONTENT_TYPE`] (127) octets |
//! | attachment content | unlimited; the encoder holds at most [`ATTACHMENT_BUFFER`] (8 KiB) of it |
//! | Message-ID domain | [`MAX_ID_DOMAIN`] (253) octets |

mod date;
mod encode;
mod error;
mod header;
mod id;
mod mailbox;
mod mime;

pub use encode::{ATTACHMENT_BUFFER, MessageEncoder, Step};
pub use error::{MessageError, SHOWN};
pub use id::{MAX_ID_DOMAIN, MessageId};
pub use mailbox::Mailbox;
pub use mime::Attachment;

use error::shown;
use header::Header;
use mime::{Mime, Plan};

/// Longest output line, CRLF excluded (RFC 5322 §2.1.1).
pub const MAX_LINE: usize = 998;
/// Longest display name, in octets.
pub const MAX_NAME: usize = 256;
/// Longest subject, in octets.
pub const MAX_SUBJECT: usize = 2048;
/// Most recipients (To, Cc and Bcc together): what [`crate::SmtpClient`] sends in one message.
pub const MAX_RECIPIENTS: usize = crate::client::MAX_RECIPIENTS;
/// Most Reply-To mailboxes.
pub const MAX_REPLY_TO: usize = 10;
/// Longest text body, and longest HTML body, in octets.
pub const MAX_TEXT: usize = 1024 * 1024;
/// Most attachments in one message.
pub const MAX_ATTACHMENTS: usize = 64;
/// Longest attachment file name, in octets.
pub const MAX_FILENAME: usize = 255;
/// Longest attachment content type (`type/subtype`), in octets.
pub const MAX_CONTENT_TYPE: usize = 127;

/// A message ready to be written: made by [`MessageBuilder::build`], written by
/// [`encoder`](Self::encoder) as many times as needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    from: Mailbox,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    bcc: Vec<Mailbox>,
    reply_to: Vec<Mailbox>,
    subject: Option<String>,
    date: String,
    id: MessageId,
    mime: Mime,
    attachments: Vec<Attachment>,
}

impl Message {
    /// Starts a message.
    pub fn builder() -> MessageBuilder {
        MessageBuilder::default()
    }

    /// The encoder writing this message, attachments streamed in when it asks.
    pub fn encoder(&self) -> MessageEncoder<'_> {
        let mut plan = Plan::default();
        self.head(plan.bytes());
        self.mime.lay_out(&self.attachments, &mut plan);
        MessageEncoder::new(plan.finish())
    }

    /// The From mailbox, whose address is the envelope sender (`MAIL FROM`).
    pub fn sender(&self) -> &Mailbox {
        &self.from
    }

    /// Every recipient address for `RCPT TO`: To, Cc then Bcc, each address once.
    pub fn envelope_recipients(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        for mailbox in self.to.iter().chain(&self.cc).chain(&self.bcc) {
            if !all.contains(&mailbox.address()) {
                all.push(mailbox.address());
            }
        }
        all
    }

    /// The To mailboxes.
    pub fn to(&self) -> &[Mailbox] {
        &self.to
    }

    /// The Cc mailboxes.
    pub fn cc(&self) -> &[Mailbox] {
        &self.cc
    }

    /// The Bcc mailboxes (in the envelope only, never in the headers).
    pub fn bcc(&self) -> &[Mailbox] {
        &self.bcc
    }

    /// The Reply-To mailboxes.
    pub fn reply_to(&self) -> &[Mailbox] {
        &self.reply_to
    }

    /// The subject, if any.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The Date header's value.
    pub fn date(&self) -> &str {
        &self.date
    }

    /// The Message-ID.
    pub fn message_id(&self) -> &MessageId {
        &self.id
    }

    /// The attachments, in the order the encoder asks for them.
    pub fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }

    /// True when an address is not ASCII: the server must offer SMTPUTF8.
    pub fn needs_smtputf8(&self) -> bool {
        std::iter::once(&self.from)
            .chain(&self.to)
            .chain(&self.cc)
            .chain(&self.bcc)
            .chain(&self.reply_to)
            .any(Mailbox::needs_smtputf8)
    }

    /// The message header fields down to `MIME-Version` (the root entity's content headers
    /// follow).
    fn head(&self, out: &mut Vec<u8>) {
        let mut h = Header::new("Date");
        h.word(&self.date);
        h.finish(out);
        let mut h = Header::new("From");
        h.mailbox(&self.from);
        h.finish(out);
        if !self.reply_to.is_empty() {
            let mut h = Header::new("Reply-To");
            h.mailboxes(&self.reply_to);
            h.finish(out);
        }
        let mut h = Header::new("To");
        if self.to.is_empty() {
            h.word("undisclosed-recipients:;");
        } else {
            h.mailboxes(&self.to);
        }
        h.finish(out);
        if !self.cc.is_empty() {
            let mut h = Header::new("Cc");
            h.mailboxes(&self.cc);
            h.finish(out);
        }
        if let Some(subject) = &self.subject {
            let mut h = Header::new("Subject");
            h.unstructured(subject);
            h.finish(out);
        }
        let mut h = Header::new("Message-ID");
        h.word(self.id.as_str());
        h.finish(out);
        out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    }
}

/// Gathers the parts of a [`Message`]; [`build`](Self::build) checks them all.
///
/// Required: [`from`](Self::from), at least one of [`to`](Self::to), [`cc`](Self::cc) or
/// [`bcc`](Self::bcc), [`date`](Self::date) and [`message_id`](Self::message_id) (the
/// Message-ID is required because its random bytes also seed the MIME boundaries; redy draws
/// no randomness itself). Without text, HTML or attachments the body is an empty text.
#[derive(Clone, Debug, Default)]
pub struct MessageBuilder {
    from: Option<Mailbox>,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    bcc: Vec<Mailbox>,
    reply_to: Vec<Mailbox>,
    subject: Option<String>,
    date: Option<(i64, i16)>,
    id: Option<MessageId>,
    text: Option<String>,
    html: Option<String>,
    attachments: Vec<Attachment>,
}

impl MessageBuilder {
    /// Sets the sender (From, and the envelope's `MAIL FROM`).
    pub fn from(mut self, mailbox: Mailbox) -> Self {
        self.from = Some(mailbox);
        self
    }

    /// Adds a To recipient.
    pub fn to(mut self, mailbox: Mailbox) -> Self {
        self.to.push(mailbox);
        self
    }

    /// Adds a Cc recipient.
    pub fn cc(mut self, mailbox: Mailbox) -> Self {
        self.cc.push(mailbox);
        self
    }

    /// Adds a Bcc recipient: in [`Message::envelope_recipients`], never in the headers.
    pub fn bcc(mut self, mailbox: Mailbox) -> Self {
        self.bcc.push(mailbox);
        self
    }

    /// Adds a Reply-To mailbox.
    pub fn reply_to(mut self, mailbox: Mailbox) -> Self {
        self.reply_to.push(mailbox);
        self
    }

    /// Sets the subject: UTF-8, at most [`MAX_SUBJECT`] octets, tabs but no other control
    /// characters.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the date: `unix_secs` since 1970-01-01T00:00:00Z, shown at `utc_offset_minutes`
    /// east of UTC (`60` for +0100, `-300` for -0500). The local date must fall in the years
    /// 1900 to 9999 and the offset within ±23:59.
    pub fn date(mut self, unix_secs: i64, utc_offset_minutes: i16) -> Self {
        self.date = Some((unix_secs, utc_offset_minutes));
        self
    }

    /// Sets the Message-ID.
    pub fn message_id(mut self, id: MessageId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the plain-text body (at most [`MAX_TEXT`] octets).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Sets the HTML body (at most [`MAX_TEXT`] octets), an alternative to the text.
    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Adds an attachment; its content is asked for by the encoder.
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Checks everything and encodes the text parts.
    pub fn build(self) -> Result<Message, MessageError> {
        let from = self.from.ok_or(MessageError::Missing("From"))?;
        let recipients = self.to.len() + self.cc.len() + self.bcc.len();
        if recipients == 0 {
            return Err(MessageError::Missing("recipient (To, Cc or Bcc)"));
        }
        if recipients > MAX_RECIPIENTS {
            return Err(MessageError::TooMany {
                what: "recipients (To, Cc and Bcc)",
                limit: MAX_RECIPIENTS,
            });
        }
        if self.reply_to.len() > MAX_REPLY_TO {
            return Err(MessageError::TooMany {
                what: "Reply-To mailboxes",
                limit: MAX_REPLY_TO,
            });
        }
        let (secs, offset) = self.date.ok_or(MessageError::Missing("Date"))?;
        let date = date::format_date(secs, offset)?;
        let id = self.id.ok_or(MessageError::Missing("Message-ID"))?;
        if let Some(subject) = &self.subject {
            if subject.len() > MAX_SUBJECT {
                return Err(MessageError::TooLong {
                    what: "the subject",
                    limit: MAX_SUBJECT,
                });
            }
            if subject.chars().any(|c| c.is_control() && c != '\t') {
                return Err(MessageError::InvalidHeader {
                    field: "Subject",
                    value: shown(subject),
                    why: "contains a control character (CR, LF, ...)",
                });
            }
        }
        for (what, body) in [("the text", &self.text), ("the HTML", &self.html)] {
            if body.as_ref().is_some_and(|b| b.len() > MAX_TEXT) {
                return Err(MessageError::TooLong {
                    what,
                    limit: MAX_TEXT,
                });
            }
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(MessageError::TooMany {
                what: "attachments",
                limit: MAX_ATTACHMENTS,
            });
        }
        for attachment in &self.attachments {
            attachment.check()?;
        }
        let mime = Mime::new(
            self.text.as_deref(),
            self.html.as_deref(),
            self.attachments.len(),
            id.random(),
        );
        Ok(Message {
            from,
            to: self.to,
            cc: self.cc,
            bcc: self.bcc,
            reply_to: self.reply_to,
            subject: self.subject,
            date,
            id,
            mime,
            attachments: self.attachments,
        })
    }
}
