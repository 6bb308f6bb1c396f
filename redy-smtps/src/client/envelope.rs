//! A message's envelope: sender, recipients and the MAIL / RCPT parameters.

use crate::Address;

/// The envelope of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM.
    pub sender: Address,
    /// RCPT TO, in order (To, Cc and Bcc alike).
    pub recipients: Vec<Address>,
    /// The message size, announced with SIZE when the server supports it.
    pub size: Option<u64>,
    /// The body has 8-bit content (BODY=8BITMIME when offered).
    pub eight_bit: bool,
    /// Headers need SMTPUTF8 (also set automatically for non-ASCII addresses).
    pub utf8: bool,
    /// Delivery status notifications to ask for, when the server offers DSN.
    pub dsn: Option<Dsn>,
}

impl Envelope {
    /// An envelope from a sender to recipients.
    pub fn new(sender: Address, recipients: Vec<Address>) -> Self {
        Self {
            sender,
            recipients,
            size: None,
            eight_bit: false,
            utf8: false,
            dsn: None,
        }
    }
}

/// RFC 3461 delivery status notification requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dsn {
    /// What a bounce returns of the message (`RET`).
    pub ret: Option<DsnReturn>,
    /// When to notify (`NOTIFY`); empty means never.
    pub notify: Vec<DsnNotify>,
}

/// `RET=FULL` or `RET=HDRS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsnReturn {
    /// The whole message.
    Full,
    /// Its headers only.
    Headers,
}

/// One `NOTIFY` condition.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsnNotify {
    /// On successful delivery.
    Success,
    /// On failure.
    Failure,
    /// On delay.
    Delay,
}

impl DsnNotify {
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Delay => "DELAY",
        }
    }
}
