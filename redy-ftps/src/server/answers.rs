//! What the session does with each answer to its requests.

use std::time::Instant;

use super::control::Wait;
use super::data::ListFormat;
use super::replies;
use super::{
    Answer, Event, Request, ServerError, ServerSession, StorageError, TransferKind, VirtualPath,
};
use crate::codec::listing::{Entry, EntryKind, format_mlsx};

/// The step after an answer.
#[derive(Debug)]
pub(super) enum Pending {
    /// PASS: the user being checked.
    Login(String),
    Cwd(VirtualPath),
    Size(VirtualPath),
    Mdtm(VirtualPath),
    Mlst(VirtualPath),
    Rnfr(VirtualPath),
    /// STAT with a path: stat it, then list it over the control connection.
    StatPath(VirtualPath),
    StatList(VirtualPath),
    /// LIST/NLST/MLSD: stat, then list.
    ListStat(ListFormat, VirtualPath),
    List(ListFormat, VirtualPath),
    /// RETR/STOR/APPE: open the file.
    Open(TransferKind, VirtualPath),
    /// The end of an upload: the replies to send once storage closed the file.
    Finish(super::transfer::Finish),
    /// A simple change (MKD, RMD, DELE, RNTO): the reply on success.
    Done(u16, String),
}

/// Most lines of a `STAT path` reply (its listing goes over the control connection).
const MAX_STAT_LINES: usize = 1000;

fn is_dir(entry: &Entry) -> bool {
    matches!(
        entry.kind,
        EntryKind::Directory | EntryKind::CurrentDir | EntryKind::ParentDir
    )
}

impl ServerSession {
    pub(super) fn take_answer(&mut self, answer: Answer, now: Instant) -> Result<(), ServerError> {
        self.now = now;
        let pending = match std::mem::replace(&mut self.wait, Wait::None) {
            Wait::Answer(pending) => pending,
            other => {
                self.wait = other;
                return Err(ServerError::NotNow {
                    action: "answer",
                    state: "no request is outstanding",
                });
            }
        };
        let fits = matches!(
            (&pending, &answer),
            (Pending::Login(_), Answer::Login(_))
                | (
                    Pending::Cwd(_)
                        | Pending::Size(_)
                        | Pending::Mdtm(_)
                        | Pending::Mlst(_)
                        | Pending::Rnfr(_)
                        | Pending::StatPath(_)
                        | Pending::ListStat(..),
                    Answer::Entry(_)
                )
                | (Pending::StatList(_) | Pending::List(..), Answer::Listing(_))
                | (Pending::Open(..), Answer::Opened(_))
                | (Pending::Finish(_) | Pending::Done(..), Answer::Done(_))
        );
        if !fits {
            self.wait = Wait::Answer(pending);
            return Err(ServerError::NotNow {
                action: "take this answer",
                state: "it does not answer the outstanding request",
            });
        }
        self.last_activity = now;
        match (pending, answer) {
            (Pending::Login(user), Answer::Login(ok)) => self.login_answer(user, ok, now),
            (pending, Answer::Entry(Err(e))) => {
                let path = pending_path(&pending);
                self.storage_failed(&e, &path);
            }
            (pending, Answer::Entry(Ok(entry))) => self.entry_answer(pending, entry),
            (Pending::StatList(path), Answer::Listing(listing)) => match listing {
                Ok(listing) => {
                    let mut lines = vec![format!("Status of {path}:")];
                    lines.extend(
                        listing
                            .entries
                            .iter()
                            .take(MAX_STAT_LINES)
                            .filter_map(|e| {
                                crate::codec::listing::format_list_line(e, listing.now.0).ok()
                            })
                            .map(|l| String::from_utf8_lossy(&l).into_owned()),
                    );
                    lines.push("End of status".to_owned());
                    self.reply_lines(213, lines);
                }
                Err(e) => self.storage_failed(&e, &path),
            },
            (Pending::List(format, path), Answer::Listing(listing)) => match listing {
                Ok(listing) => self.begin_listing(format, path, listing.entries, listing.now, now),
                Err(e) => self.storage_failed(&e, &path),
            },
            (Pending::Open(TransferKind::Upload, _), Answer::Opened(opened)) => {
                self.upload_opened(opened.map(|_| ()), now)
            }
            (Pending::Open(kind, path), Answer::Opened(opened)) => match opened {
                Ok(size) => self.begin_transfer(kind, path, size, now),
                Err(e) => self.storage_failed(&e, &path),
            },
            (Pending::Finish(finish), Answer::Done(result)) => self.finish_answer(finish, result),
            (Pending::Done(code, text), Answer::Done(result)) => match result {
                Ok(()) => self.reply(code, &text),
                Err(e) => self.reply(e.reply_code(), &format!("Failed: {e}")),
            },
            _ => {}
        }
        Ok(())
    }

    fn login_answer(&mut self, user: String, ok: bool, now: Instant) {
        if ok {
            self.logged_in = true;
            self.reply(230, &format!("User {user} logged in"));
            self.event(Event::LoggedIn { user });
            return;
        }
        self.user = None;
        self.failures += 1;
        let failures = self.failures;
        self.event(Event::LoginFailed { user, failures });
        self.wait = Wait::Delayed {
            at: now + self.config.login_failure_delay * failures,
            code: 530,
            text: "Login incorrect".to_owned(),
            close: failures >= self.config.max_login_failures,
        };
    }

    fn entry_answer(&mut self, pending: Pending, entry: Entry) {
        match pending {
            Pending::Cwd(path) if is_dir(&entry) => {
                self.reply(250, &format!("Directory changed to {path}"));
                self.cwd = path;
            }
            Pending::Cwd(path) => self.reply(550, &format!("{path}: not a directory")),
            Pending::Size(path) => match (is_dir(&entry), entry.size) {
                (false, Some(size)) => self.reply(213, &size.to_string()),
                _ => self.reply(550, &format!("{path}: not a plain file")),
            },
            Pending::Mdtm(path) => match entry.modified.map(replies::mdtm) {
                Some(time) => self.reply(213, &time),
                None => self.reply(550, &format!("{path}: no modification time")),
            },
            Pending::Mlst(path) => {
                let mut shown = replies::mlsx_entry(&entry);
                shown.raw_name = path.as_str().as_bytes().to_vec();
                match format_mlsx(&shown) {
                    Ok(line) => self.reply_lines(
                        250,
                        vec![
                            format!("Listing {path}"),
                            format!(" {}", String::from_utf8_lossy(&line)),
                            "End".to_owned(),
                        ],
                    ),
                    Err(e) => self.reply(550, &format!("{path}: {e}")),
                }
            }
            Pending::Rnfr(path) => {
                self.reply(350, "Ready for RNTO");
                self.rename_from = Some(path);
            }
            Pending::StatPath(path) if is_dir(&entry) => {
                self.ask(
                    Request::List { path: path.clone() },
                    Pending::StatList(path),
                );
            }
            Pending::StatPath(path) => {
                let line = crate::codec::listing::format_list_line(&entry, 0)
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                self.reply_lines(
                    213,
                    vec![
                        format!("Status of {path}:"),
                        line,
                        "End of status".to_owned(),
                    ],
                );
            }
            Pending::ListStat(format, path) if is_dir(&entry) => {
                self.ask(
                    Request::List { path: path.clone() },
                    Pending::List(format, path),
                );
            }
            Pending::ListStat(ListFormat::Mlsd, path) => {
                self.reply(501, &format!("{path}: MLSD needs a directory"))
            }
            Pending::ListStat(format, path) => {
                let now = entry
                    .modified
                    .unwrap_or(crate::codec::listing::Timestamp(0));
                self.begin_listing(format, path, vec![entry], now, self.now);
            }
            _ => {}
        }
    }

    /// A storage refusal, answered with its reply code.
    pub(super) fn storage_failed(&mut self, error: &StorageError, path: &VirtualPath) {
        self.reply(error.reply_code(), &format!("{path}: {error}"));
    }
}

fn pending_path(pending: &Pending) -> VirtualPath {
    match pending {
        Pending::Cwd(p)
        | Pending::Size(p)
        | Pending::Mdtm(p)
        | Pending::Mlst(p)
        | Pending::Rnfr(p)
        | Pending::StatPath(p)
        | Pending::StatList(p)
        | Pending::ListStat(_, p)
        | Pending::List(_, p)
        | Pending::Open(_, p) => p.clone(),
        _ => VirtualPath::root(),
    }
}
