//! Transfers: from the opened file (or the listing) to the `226`, with the proper end checked
//! — a download ends with our close_notify flushed, an upload with the client's.

use std::time::Instant;

use super::answers::Pending;
use super::control::Wait;
use super::data::{DataSlot, ListFormat};
use super::replies::mlsx_entry;
use super::{
    Action, Event, MAX_LISTING_ENTRIES, Request, ServerSession, StorageError, TransferKind,
    VirtualPath,
};
use crate::codec::listing::{Entry, Timestamp, format_list_line, format_mlsx};

/// Where a transfer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Opened; waiting for the data connection (since then).
    WaitingData(Instant),
    /// `150` sent; data flowing.
    Running,
    /// Everything sent; waiting for close_notify to be flushed.
    Draining,
}

/// The running transfer.
#[derive(Debug)]
pub(super) struct Transfer {
    pub(super) kind: TransferKind,
    pub(super) path: VirtualPath,
    pub(super) bytes: u64,
    pub(super) state: State,
    /// Download: the caller's file ended; listing: every line was formatted.
    pub(super) source_done: bool,
    pub(super) size: Option<u64>,
    pub(super) listing: Option<ListingSource>,
    pub(super) last_progress: Instant,
    /// Upload: how to open the file, until it is asked for.
    pub(super) write_mode: Option<super::WriteMode>,
    /// Upload: storage opened the file (every opened upload ends with FinishUpload).
    pub(super) opened: bool,
}

/// A listing being formatted into the data connection, line by line.
#[derive(Debug)]
pub(super) struct ListingSource {
    entries: std::vec::IntoIter<Entry>,
    format: ListFormat,
    now: i64,
    line: Vec<u8>,
    pos: usize,
    sent: usize,
    cut: bool,
}

/// An upload's end, waiting for storage to close the file.
#[derive(Debug)]
pub(super) struct Finish {
    path: VirtualPath,
    complete: bool,
    bytes: u64,
    /// Why it is partial, as the reply to give.
    failure: Option<(u16, String)>,
    /// Replies to send after (the `226` of ABOR).
    after: Vec<(u16, String)>,
}

impl ServerSession {
    pub(super) fn begin_transfer(
        &mut self,
        kind: TransferKind,
        path: VirtualPath,
        size: Option<u64>,
        now: Instant,
    ) {
        self.transfer = Some(Transfer {
            kind,
            path,
            bytes: 0,
            state: State::WaitingData(now),
            source_done: false,
            size,
            listing: None,
            last_progress: now,
            write_mode: None,
            opened: kind != TransferKind::Upload,
        });
        self.ensure_data(now);
    }

    pub(super) fn begin_listing(
        &mut self,
        format: ListFormat,
        path: VirtualPath,
        mut entries: Vec<Entry>,
        wall_clock: Timestamp,
        now: Instant,
    ) {
        let cut = entries.len() > MAX_LISTING_ENTRIES;
        entries.truncate(MAX_LISTING_ENTRIES);
        self.begin_transfer(TransferKind::Listing, path, None, now);
        if let Some(t) = &mut self.transfer {
            t.listing = Some(ListingSource {
                entries: entries.into_iter(),
                format,
                now: wall_clock.0,
                line: Vec::new(),
                pos: 0,
                sent: 0,
                cut,
            });
        }
    }

    /// Asks for the data connection when it is an active one.
    fn ensure_data(&mut self, now: Instant) {
        match &self.data {
            DataSlot::Active { to } => {
                let to = *to;
                let id = self.next_id();
                self.actions.push_back(Action::Connect {
                    id,
                    to,
                    from_port: self.config.active_source_port,
                });
                self.data = DataSlot::Connecting { id };
            }
            DataSlot::None => {
                let (code, text) = self
                    .data_refused
                    .take()
                    .unwrap_or((425, "No data connection".to_owned()));
                self.abort_transfer(code, &text, now);
            }
            _ => {}
        }
    }

    /// Moves the transfer on after any input: `150` once the data connection is open, the
    /// end of a download or an upload.
    pub(super) fn progress_transfer(&mut self, now: Instant) {
        let Some(t) = &self.transfer else {
            return;
        };
        let (kind, state, source_done) = (t.kind, t.state, t.source_done);
        match state {
            State::WaitingData(_) => {
                let DataSlot::Open(conn) = &self.data else {
                    return;
                };
                if let Some((code, text)) = conn.failed.clone() {
                    return self.abort_transfer(code, &text, now);
                }
                let text = match (kind, self.transfer.as_ref().and_then(|t| t.size)) {
                    (TransferKind::Listing, _) => "Here comes the directory listing".to_owned(),
                    (_, Some(size)) => format!(
                        "Opening BINARY mode data connection for {} ({size} bytes)",
                        self.transfer_path()
                    ),
                    _ => format!(
                        "Opening BINARY mode data connection for {}",
                        self.transfer_path()
                    ),
                };
                self.reply(150, &text);
                let path = self.transfer_path();
                if let Some(t) = &mut self.transfer {
                    t.state = State::Running;
                    t.last_progress = now;
                }
                self.event(Event::TransferStarted { kind, path });
                if kind == TransferKind::Upload {
                    self.open_upload_or_check_end(now);
                }
            }
            State::Running if kind == TransferKind::Upload => self.open_upload_or_check_end(now),
            State::Running => {
                let ended = match &self.data {
                    DataSlot::Open(conn) => conn.ended(),
                    _ => true,
                };
                if source_done {
                    if let Some(t) = &mut self.transfer {
                        t.state = State::Draining;
                    }
                    self.close_data(true);
                } else if ended {
                    self.abort_transfer(
                        426,
                        "The client closed the data connection: transfer aborted",
                        now,
                    );
                }
            }
            State::Draining => {}
        }
    }

    fn transfer_path(&self) -> VirtualPath {
        self.transfer
            .as_ref()
            .map(|t| t.path.clone())
            .unwrap_or_else(VirtualPath::root)
    }

    pub(super) fn transfer_started(&self) -> bool {
        self.transfer
            .as_ref()
            .is_some_and(|t| !matches!(t.state, State::WaitingData(_)))
    }

    pub(super) fn download_wants_data(&self) -> bool {
        let running = self.transfer.as_ref().is_some_and(|t| {
            t.kind == TransferKind::Download && t.state == State::Running && !t.source_done
        });
        running && matches!(&self.data, DataSlot::Open(conn) if conn.has_room())
    }

    pub(super) fn push_download(&mut self, data: &[u8], now: Instant) -> usize {
        if !self.download_wants_data() {
            return 0;
        }
        let DataSlot::Open(conn) = &mut self.data else {
            return 0;
        };
        let n = conn.send(data);
        if let Some(t) = &mut self.transfer {
            t.bytes += n as u64;
            if n > 0 {
                t.last_progress = now;
            }
        }
        n
    }

    pub(super) fn download_source_ended(&mut self, error: Option<&str>, now: Instant) {
        self.now = now;
        let Some(t) = &mut self.transfer else {
            return;
        };
        if t.kind != TransferKind::Download {
            return;
        }
        match error {
            Some(e) => self.abort_transfer(451, &format!("Read error: {e}: transfer aborted"), now),
            None => t.source_done = true,
        }
    }

    /// Formats listing lines into the data connection while it has room.
    pub(super) fn fill_listing(&mut self) {
        let (Some(t), DataSlot::Open(conn)) = (&mut self.transfer, &mut self.data) else {
            return;
        };
        let Some(l) = &mut t.listing else {
            return;
        };
        if t.state != State::Running || t.source_done {
            return;
        }
        while conn.has_room() {
            if l.pos < l.line.len() {
                let n = conn.send(&l.line[l.pos..]);
                l.pos += n;
                t.bytes += n as u64;
                if n == 0 {
                    break;
                }
                continue;
            }
            let Some(entry) = l.entries.next() else {
                t.source_done = true;
                break;
            };
            if let Some(line) = format_entry(l.format, &entry, l.now) {
                l.line = line;
                l.pos = 0;
                l.sent += 1;
            }
        }
        if t.source_done {
            t.state = State::Draining;
            self.close_data(true);
        }
    }

    /// The download's close_notify is out: `226`.
    pub(super) fn download_flushed(&mut self) {
        let Some(t) = self.transfer.take_if(|t| t.state == State::Draining) else {
            return;
        };
        let text = match &t.listing {
            Some(l) if l.cut => {
                format!("Directory listing sent, cut at {MAX_LISTING_ENTRIES} entries of more")
            }
            Some(l) => format!("Directory listing sent: {} entries", l.sent),
            None => format!("Transfer complete: {} bytes sent", t.bytes),
        };
        self.reply(226, &text);
        self.event(Event::TransferDone {
            kind: t.kind,
            path: t.path,
            bytes: t.bytes,
        });
    }

    pub(super) fn upload_data(&mut self) -> &[u8] {
        let running = self.transfer.as_ref().is_some_and(|t| {
            t.kind == TransferKind::Upload && t.state == State::Running && t.opened
        });
        match (&mut self.data, running) {
            (DataSlot::Open(conn), true) if conn.failed.is_none() => conn.received(),
            _ => &[],
        }
    }

    pub(super) fn consume_upload(&mut self, n: usize, now: Instant) {
        self.now = now;
        if self.upload_data().is_empty() {
            return;
        }
        if let DataSlot::Open(conn) = &mut self.data {
            conn.consume(n);
        }
        if let Some(t) = &mut self.transfer {
            t.bytes += n as u64;
            t.last_progress = now;
        }
    }

    /// Asks storage to open the upload's file once the data connection is ready; then watches
    /// for its end.
    fn open_upload_or_check_end(&mut self, now: Instant) {
        let ready =
            matches!(&self.data, DataSlot::Open(conn) if conn.ready && conn.failed.is_none());
        let Some(t) = &mut self.transfer else {
            return;
        };
        if t.opened {
            return self.check_upload_end(now);
        }
        if ready
            && matches!(self.wait, Wait::None)
            && let Some(mode) = t.write_mode.take()
        {
            let path = t.path.clone();
            self.ask(
                Request::OpenWrite {
                    path: path.clone(),
                    mode,
                },
                Pending::Open(TransferKind::Upload, path),
            );
        }
    }

    /// Storage answered the upload's open.
    pub(super) fn upload_opened(&mut self, result: Result<(), StorageError>, now: Instant) {
        match result {
            Ok(()) => {
                if let Some(t) = &mut self.transfer {
                    t.opened = true;
                }
                self.check_upload_end(now);
            }
            Err(e) => {
                let path = self.transfer_path();
                self.abort_transfer(e.reply_code(), &format!("{path}: {e}"), now);
            }
        }
    }

    /// An upload ends once the client ended its data and everything was written.
    fn check_upload_end(&mut self, _now: Instant) {
        let accept_eof = self.config.accept_upload_eof_without_close_notify;
        let DataSlot::Open(conn) = &mut self.data else {
            return;
        };
        if !conn.ended() || !conn.received().is_empty() {
            return;
        }
        let clear = !conn.protected;
        let complete = conn.peer_closed || clear || accept_eof;
        // Our close_notify answers the client's (Python's ftplib waits for it).
        self.close_data(true);
        let failure = (!complete).then(|| {
            let bytes = self.transfer.as_ref().map_or(0, |t| t.bytes);
            (
                426,
                format!(
                    "Upload incomplete: the data connection ended without TLS close_notify after {bytes} bytes, so the file may be cut short; the partial file is kept as received"
                ),
            )
        });
        self.finish_upload(failure, Vec::new());
    }

    /// Asks storage to close the upload's file; the reply follows its answer.
    fn finish_upload(&mut self, failure: Option<(u16, String)>, after: Vec<(u16, String)>) {
        let Some(t) = self.transfer.take() else {
            return;
        };
        let complete = failure.is_none();
        self.ask(
            Request::FinishUpload {
                path: t.path.clone(),
                complete,
                bytes: t.bytes,
            },
            Pending::Finish(Finish {
                path: t.path,
                complete,
                bytes: t.bytes,
                failure,
                after,
            }),
        );
    }

    pub(super) fn finish_answer(&mut self, finish: Finish, result: Result<(), StorageError>) {
        let Finish {
            path,
            complete,
            bytes,
            failure,
            after,
        } = finish;
        match (result, failure) {
            (Ok(()), None) => {
                self.reply(226, &format!("Transfer complete: {bytes} bytes received"));
                self.event(Event::TransferDone {
                    kind: TransferKind::Upload,
                    path,
                    bytes,
                });
            }
            (Ok(()), Some((code, text))) => {
                self.reply(code, &text);
                self.event(Event::TransferPartial {
                    path,
                    bytes,
                    reason: text,
                });
            }
            (Err(e), failure) => {
                let text = format!("Could not save {path}: {e}");
                self.reply(e.reply_code(), &text);
                let reason = failure.map(|(_, t)| t).unwrap_or(text);
                match complete {
                    true => self.event(Event::TransferAborted {
                        kind: TransferKind::Upload,
                        path,
                        bytes,
                        reason,
                    }),
                    false => self.event(Event::TransferPartial {
                        path,
                        bytes,
                        reason,
                    }),
                }
            }
        }
        for (code, text) in after {
            self.reply(code, &text);
        }
    }

    /// Abandons the transfer with this reply (an upload's file is closed first, reported
    /// partial).
    pub(super) fn abort_transfer(&mut self, code: u16, text: &str, _now: Instant) {
        self.abort_with(code, text, Vec::new());
    }

    fn abort_with(&mut self, code: u16, text: &str, after: Vec<(u16, String)>) {
        let Some(t) = &self.transfer else {
            for (code, text) in after {
                self.reply(code, &text);
            }
            return;
        };
        let opened_upload = t.kind == TransferKind::Upload && t.opened;
        self.close_data(false);
        if opened_upload {
            return self.finish_upload(Some((code, text.to_owned())), after);
        }
        if let Some(t) = self.transfer.take() {
            self.reply(code, text);
            self.event(Event::TransferAborted {
                kind: t.kind,
                path: t.path,
                bytes: t.bytes,
                reason: text.to_owned(),
            });
        }
        for (code, text) in after {
            self.reply(code, &text);
        }
    }

    pub(super) fn abor(&mut self, _now: Instant) {
        if self.transfer.is_some() {
            let after = vec![(226, "ABOR successful".to_owned())];
            return self.abort_with(426, "Transfer aborted", after);
        }
        self.close_data(false);
        self.reply(226, "No transfer to abort");
    }

    pub(super) fn transfer_deadline(&self) -> Option<Instant> {
        let t = self.transfer.as_ref()?;
        let timeouts = &self.config.timeouts;
        match t.state {
            State::WaitingData(since) => Some(since + timeouts.data_connect),
            _ => Some(t.last_progress + timeouts.transfer_stall),
        }
    }

    pub(super) fn transfer_timeouts(&mut self, now: Instant) {
        let Some(deadline) = self.transfer_deadline() else {
            return;
        };
        if now < deadline {
            return;
        }
        let timeouts = self.config.timeouts;
        match self.transfer_started() {
            false => self.abort_transfer(
                425,
                &format!(
                    "No data connection within {} s: transfer aborted",
                    timeouts.data_connect.as_secs()
                ),
                now,
            ),
            true => self.abort_transfer(
                426,
                &format!(
                    "Transfer stalled for {} s: aborted",
                    timeouts.transfer_stall.as_secs()
                ),
                now,
            ),
        }
    }

    /// The session ends with a transfer running: an upload's file is closed, reported
    /// partial; the answer to that request is not needed.
    pub(super) fn drop_transfer(&mut self, reason: &str) {
        let Some(t) = self.transfer.take() else {
            return;
        };
        let reason = reason.to_owned();
        match t.kind {
            TransferKind::Upload if t.opened => {
                self.requests.push_back(Request::FinishUpload {
                    path: t.path.clone(),
                    complete: false,
                    bytes: t.bytes,
                });
                self.event(Event::TransferPartial {
                    path: t.path,
                    bytes: t.bytes,
                    reason,
                });
            }
            kind => self.event(Event::TransferAborted {
                kind,
                path: t.path,
                bytes: t.bytes,
                reason,
            }),
        }
        if matches!(self.wait, Wait::Answer(_)) {
            self.wait = Wait::None;
        }
    }
}

fn format_entry(format: ListFormat, entry: &Entry, now: i64) -> Option<Vec<u8>> {
    let mut line = match format {
        ListFormat::List => format_list_line(entry, now).ok()?,
        ListFormat::Names => {
            let bad =
                entry.raw_name.is_empty() || entry.raw_name.iter().any(|b| b"\r\n\0".contains(b));
            (!bad).then(|| entry.raw_name.clone())?
        }
        ListFormat::Mlsd => format_mlsx(&mlsx_entry(entry)).ok()?,
    };
    line.extend_from_slice(b"\r\n");
    Some(line)
}
