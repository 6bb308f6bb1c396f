//! What the client reports.

use redy_tls::HandshakeInfo;

use crate::{Address, Capabilities, Reply};

/// What the session reports.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// TLS is up (implicit, or after STARTTLS).
    TlsEstablished(HandshakeInfo),
    /// Opportunistic mode only: STARTTLS was not possible; the session continues in CLEAR TEXT.
    TlsSkipped {
        /// Why.
        reason: String,
    },
    /// Greeted, protected as configured and authenticated: [`SmtpClient::start_mail`](super::SmtpClient::start_mail) may be
    /// called. Carries what the server offers.
    Ready(Capabilities),
    /// The server's answer for one recipient; accepted when `reply.is_positive()`.
    Recipient {
        /// The message, as numbered by [`SmtpClient::start_mail`](super::SmtpClient::start_mail).
        id: u64,
        /// The recipient.
        address: Address,
        /// The server's reply.
        reply: Reply,
    },
    /// DATA was accepted: write the body with [`SmtpClient::write_body`](super::SmtpClient::write_body), then
    /// [`SmtpClient::finish_body`](super::SmtpClient::finish_body).
    SendBody,
    /// The server accepted the message (final 2xx after the body): it is now responsible for it.
    Sent {
        /// The message, as numbered by [`SmtpClient::start_mail`](super::SmtpClient::start_mail).
        id: u64,
        /// The server's reply (often with a queue id).
        reply: Reply,
    },
    /// The message was not accepted; the session is ready for another.
    Failed {
        /// The message, as numbered by [`SmtpClient::start_mail`](super::SmtpClient::start_mail).
        id: u64,
        /// The reply that ended it (MAIL, the last RCPT, DATA or end of data).
        reply: Reply,
    },
    /// The server answered NOOP.
    NoopDone,
    /// The server said goodbye (221): the session is over.
    Closed,
}
