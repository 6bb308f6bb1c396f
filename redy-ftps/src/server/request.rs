//! What the session asks of its caller (credentials, storage) and the answers it takes.

use std::fmt;

use crate::codec::listing::{Entry, Timestamp};

use super::VirtualPath;

/// A password, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password itself, to check it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// How an upload writes its file.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// `STOR`: create or truncate.
    Truncate,
    /// `APPE`: create or append at the end.
    Append,
    /// `REST n` then `STOR`: keep the first `n` bytes and write from there.
    At(u64),
}

/// Something the session needs from its caller; answer it with
/// [`super::ServerSession::answer`]. At most one request is outstanding at a time, and every
/// path in it is a [`VirtualPath`], already confined to the user's root.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Check a login: answer [`Answer::Login`]. Failed logins are delayed and counted by the
    /// session, not the caller.
    CheckCredentials {
        /// The user name.
        user: String,
        /// The password.
        password: Password,
    },
    /// What `path` is: answer [`Answer::Entry`] (its name is the last component).
    Stat {
        /// The path.
        path: VirtualPath,
    },
    /// The entries of the directory `path`: answer [`Answer::Listing`].
    List {
        /// The directory.
        path: VirtualPath,
    },
    /// Open `path` for reading from `offset`: answer [`Answer::Opened`], then hand the
    /// content over with [`super::ServerSession::send_file_data`] while
    /// [`super::ServerSession::wants_file_data`], and end with
    /// [`super::ServerSession::file_data_end`]. Close the file at
    /// [`super::Event::TransferDone`] or [`super::Event::TransferAborted`].
    OpenRead {
        /// The file.
        path: VirtualPath,
        /// Where to start (`REST`).
        offset: u64,
    },
    /// Open `path` for writing: answer [`Answer::Opened`], then write what
    /// [`super::ServerSession::file_data`] shows until [`Request::FinishUpload`]. Asked only
    /// once the data connection is up (its TLS resumed), so a refused connection never
    /// truncates a file.
    OpenWrite {
        /// The file.
        path: VirtualPath,
        /// Create, append or resume.
        mode: WriteMode,
    },
    /// The upload to `path` ended: flush and close the file, then answer [`Answer::Done`].
    /// `complete` is false when the client did not end it properly (no TLS close_notify, an
    /// abort, a broken connection): the file then holds only part of what was sent, and the
    /// client is told so. Every opened upload ends with this request.
    FinishUpload {
        /// The file.
        path: VirtualPath,
        /// True only when the client ended the data properly.
        complete: bool,
        /// Bytes received.
        bytes: u64,
    },
    /// Create the directory `path`: answer [`Answer::Done`].
    MakeDir {
        /// The directory.
        path: VirtualPath,
    },
    /// Remove the empty directory `path`: answer [`Answer::Done`].
    RemoveDir {
        /// The directory.
        path: VirtualPath,
    },
    /// Delete the file `path`: answer [`Answer::Done`].
    Delete {
        /// The file.
        path: VirtualPath,
    },
    /// Rename `from` to `to`: answer [`Answer::Done`].
    Rename {
        /// The current path.
        from: VirtualPath,
        /// The new path.
        to: VirtualPath,
    },
}

/// A directory's entries, as [`Answer::Listing`] carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The entries (names only, no paths), at most [`super::MAX_LISTING_ENTRIES`] used.
    pub entries: Vec<Entry>,
    /// The wall-clock time now: `LIST` shows the time of day for dates within six months of
    /// it, the year otherwise, as `ls` does. The session itself reads no clock.
    pub now: Timestamp,
}

/// The caller's answer to the outstanding [`Request`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// To [`Request::CheckCredentials`]: true when the user may log in.
    Login(bool),
    /// To [`Request::Stat`].
    Entry(Result<Entry, StorageError>),
    /// To [`Request::List`].
    Listing(Result<Listing, StorageError>),
    /// To [`Request::OpenRead`] (with the file's size when known) and
    /// [`Request::OpenWrite`].
    Opened(Result<Option<u64>, StorageError>),
    /// To [`Request::FinishUpload`], [`Request::MakeDir`], [`Request::RemoveDir`],
    /// [`Request::Delete`] and [`Request::Rename`].
    Done(Result<(), StorageError>),
}

/// Why storage refused; each maps to the reply code RFC 959 gives.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// No such file or directory (`550`).
    #[error("no such file or directory")]
    NotFound,
    /// Not allowed (`550`).
    #[error("permission denied")]
    PermissionDenied,
    /// Already exists (`550`).
    #[error("already exists")]
    AlreadyExists,
    /// A directory was needed (`550`).
    #[error("not a directory")]
    NotADirectory,
    /// A file was needed (`550`).
    #[error("is a directory")]
    IsADirectory,
    /// The directory is not empty (`550`).
    #[error("directory not empty")]
    NotEmpty,
    /// The path leads outside the user's root through a symlink (`550`).
    #[error("leads outside the user's root")]
    OutsideRoot,
    /// The file name is not allowed by the storage (`553`).
    #[error("file name not allowed: {0}")]
    BadName(String),
    /// Out of space (`452`).
    #[error("insufficient storage space")]
    NoSpace,
    /// Any other failure, with its cause (`451`).
    #[error("{0}")]
    Other(String),
}

impl StorageError {
    /// The reply code for this failure.
    pub fn reply_code(&self) -> u16 {
        match self {
            Self::BadName(_) => 553,
            Self::NoSpace => 452,
            Self::Other(_) => 451,
            _ => 550,
        }
    }
}
