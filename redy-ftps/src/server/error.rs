//! Why a server session ended, or why a call was refused.

/// A fatal session error (sticky: every later call returns it), or a call made at the wrong
/// time. Whatever the client does wrong short of these gets an FTP reply, not an error.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServerError {
    /// TLS failed on the control connection (bad handshake, bytes injected before it, ...).
    #[error("control connection TLS: {0}")]
    Tls(#[from] redy_tls::Error),
    /// The client failed to log in too many times; it was told `421`.
    #[error("{0} failed logins: session closed")]
    TooManyLoginFailures(u32),
    /// A deadline passed; the client was told `421`.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// A call that makes no sense in the session's state (a caller bug).
    #[error("cannot {action} now: {state}")]
    NotNow {
        /// What was attempted.
        action: &'static str,
        /// Why not.
        state: &'static str,
    },
}
