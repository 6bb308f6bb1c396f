//! AUTH exchanges: PLAIN, LOGIN and XOAUTH2.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::config::Credentials;
use crate::{Capabilities, Error, Mechanism};

/// The mechanism to use: the first of `preference` the server offers that fits the credentials.
pub(super) fn choose(
    credentials: &Credentials,
    preference: &[Mechanism],
    caps: &Capabilities,
) -> Result<Mechanism, Error> {
    let fits = |m: &Mechanism| match credentials {
        Credentials::Password { .. } => matches!(m, Mechanism::Plain | Mechanism::Login),
        Credentials::OAuth2 { .. } => *m == Mechanism::XOAuth2,
    };
    preference
        .iter()
        .copied()
        .find(|m| fits(m) && caps.auth.contains(m))
        .ok_or_else(|| Error::NoAuthMechanism {
            offered: match caps.auth.is_empty() {
                true => "none".to_owned(),
                false => format!("{:?}", caps.auth),
            },
        })
}

/// The AUTH command line (with an initial response where the mechanism has one).
pub(super) fn command(mechanism: Mechanism, credentials: &Credentials) -> String {
    match (mechanism, credentials) {
        (Mechanism::Plain, Credentials::Password { user, password }) => {
            format!(
                "AUTH PLAIN {}\r\n",
                STANDARD.encode(format!("\0{user}\0{password}"))
            )
        }
        (Mechanism::XOAuth2, Credentials::OAuth2 { user, token }) => {
            format!(
                "AUTH XOAUTH2 {}\r\n",
                STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
            )
        }
        _ => "AUTH LOGIN\r\n".to_owned(),
    }
}

/// The answer to the `step`-th 334 challenge (0-based).
pub(super) fn response(mechanism: Mechanism, credentials: &Credentials, step: usize) -> String {
    match (mechanism, credentials, step) {
        (Mechanism::Login, Credentials::Password { user, .. }, 0) => {
            format!("{}\r\n", STANDARD.encode(user))
        }
        (Mechanism::Login, Credentials::Password { password, .. }, 1) => {
            format!("{}\r\n", STANDARD.encode(password))
        }
        // XOAUTH2 sends its error details in a 334; an empty line asks for the final reply.
        // Anything else unexpected is cancelled with `*` (RFC 4954).
        (Mechanism::XOAuth2, _, _) => "\r\n".to_owned(),
        _ => "*\r\n".to_owned(),
    }
}
