//! The session's requests answered from [`FsStorage`](super::super::FsStorage), file content
//! moved in chunks, and events logged.

use std::io::{self, Read, Write};
use std::time::Instant;

use redy_ftps::server::{Answer, Event, Request, StorageError};

use super::{CHUNK, Download, Session, WRITE_BUFFER};
use crate::ftp_server::storage_error;

impl Session<'_> {
    pub(super) fn requests(&mut self) -> bool {
        let mut progress = false;
        while let Some(request) = self.machine.poll_request() {
            progress = true;
            let answer = self.answer(request);
            if let Some(answer) = answer
                && let Err(e) = self.machine.answer(answer, Instant::now())
                && !self.machine.is_closed()
            {
                (self.log)(&format!("answer not taken: {e}"));
            }
        }
        progress
    }

    fn answer(&mut self, request: Request) -> Option<Answer> {
        let storage = self.storage;
        Some(match request {
            Request::CheckCredentials { user, password } => {
                let ok = self
                    .shared
                    .options
                    .users
                    .get(&user)
                    .is_some_and(|p| same(p.as_bytes(), password.expose().as_bytes()));
                Answer::Login(ok)
            }
            Request::Stat { path } => Answer::Entry(storage.stat(&path)),
            Request::List { path } => Answer::Listing(storage.list(&path)),
            Request::OpenRead { path, offset } => match storage.open_read(&path, offset) {
                Ok((file, size)) => {
                    self.download = Some(Download {
                        file,
                        buf: vec![0; CHUNK],
                        pos: 0,
                        len: 0,
                    });
                    Answer::Opened(Ok(Some(size)))
                }
                Err(e) => Answer::Opened(Err(e)),
            },
            Request::OpenWrite { path, mode } => match storage.open_write(&path, mode) {
                Ok(file) => {
                    self.upload = Some(io::BufWriter::with_capacity(WRITE_BUFFER, file));
                    Answer::Opened(Ok(None))
                }
                Err(e) => Answer::Opened(Err(e)),
            },
            Request::FinishUpload { .. } => {
                let result = match self.upload.take() {
                    Some(mut file) => file.flush().map_err(storage_error),
                    None => Ok(()),
                };
                Answer::Done(result)
            }
            Request::MakeDir { path } => Answer::Done(storage.make_dir(&path)),
            Request::RemoveDir { path } => Answer::Done(storage.remove_dir(&path)),
            Request::Delete { path } => Answer::Done(storage.delete(&path)),
            Request::Rename { from, to } => Answer::Done(storage.rename(&from, &to)),
            other => {
                (self.log)(&format!("unexpected request {other:?}"));
                return None;
            }
        })
    }

    /// Moves file content: downloads while the session takes it, uploads as it arrives.
    pub(super) fn file_data(&mut self) -> bool {
        let mut progress = false;
        let now = Instant::now();
        while self.machine.wants_file_data() {
            let Some(d) = &mut self.download else { break };
            if d.pos == d.len {
                match d.file.read(&mut d.buf) {
                    Ok(0) => {
                        self.download = None;
                        let _ = self.machine.file_data_end(now);
                        return true;
                    }
                    Ok(n) => (d.pos, d.len) = (0, n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.download = None;
                        let _ = self.machine.file_read_failed(&e.to_string(), now);
                        return true;
                    }
                }
            }
            let n = self
                .machine
                .send_file_data(&d.buf[d.pos..d.len], now)
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            d.pos += n;
            progress = true;
            self.flush();
        }
        loop {
            let chunk = self.machine.file_data();
            if chunk.is_empty() {
                break;
            }
            let len = chunk.len();
            let written = match &mut self.upload {
                Some(file) => file.write_all(chunk).map_err(storage_error),
                None => Err(StorageError::Other("no file open".to_owned())),
            };
            progress = true;
            match written {
                Ok(()) => self.machine.consume_file_data(len, now),
                Err(e) => {
                    let _ = self.machine.file_write_failed(&e, now);
                    break;
                }
            }
        }
        progress
    }

    pub(super) fn log_events(&mut self) {
        while let Some(event) = self.machine.poll_event() {
            let line = match event {
                Event::Command(c) => format!("> {c}"),
                Event::Replied { code, text } => format!("< {code} {text}"),
                Event::TlsEstablished { channel, info } => format!(
                    "TLS on {channel:?}: {} {}{}",
                    info.version,
                    info.cipher_suite,
                    if info.resumed { ", resumed" } else { "" }
                ),
                Event::LoggedIn { user } => format!("user {user} logged in"),
                Event::LoginFailed { user, failures } => {
                    format!("login failed for {user} ({failures} so far)")
                }
                Event::DataRefused { peer, reason } => {
                    format!("data connection refused ({peer:?}): {reason}")
                }
                Event::TransferStarted { kind, path } => format!("{kind} of {path} started"),
                Event::TransferDone { kind, path, bytes } => {
                    format!("{kind} of {path} complete: {bytes} bytes")
                }
                Event::TransferPartial {
                    path,
                    bytes,
                    reason,
                } => {
                    format!("upload of {path} PARTIAL after {bytes} bytes: {reason}")
                }
                Event::TransferAborted {
                    kind,
                    path,
                    bytes,
                    reason,
                } => format!("{kind} of {path} aborted after {bytes} bytes: {reason}"),
                Event::Closed { reason } => format!("session ends: {reason}"),
                other => format!("{other:?}"),
            };
            (self.log)(&line);
        }
    }
}

/// Compares passwords without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
