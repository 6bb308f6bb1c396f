//! Reply texts that take more than a line: FEAT, HELP, STAT, and the facts of MLST/MLSD.

use super::{FtpServerConfig, Security, ServerSession};
use crate::codec::listing::{Entry, EntryKind, Timestamp};

/// The commands this server implements, as HELP lists them.
const COMMANDS: [&str; 39] = [
    "ABOR", "APPE", "AUTH", "CCC", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST",
    "MDTM", "MKD", "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT",
    "PROT", "PWD", "QUIT", "REST", "RETR", "RMD", "RNFR", "RNTO", "SIZE", "STAT", "STOR", "STRU",
    "SYST", "TYPE", "USER",
];

/// The `211` FEAT reply's lines (RFC 2389): each feature on a line starting with a space.
pub(super) fn features(config: &FtpServerConfig) -> Vec<String> {
    let mut lines = vec!["Features:".to_owned()];
    if config.security == Security::ExplicitTls {
        lines.push(" AUTH TLS".to_owned());
    }
    lines.extend(
        [
            " PBSZ",
            " PROT",
            " EPRT",
            " EPSV",
            " MDTM",
            " SIZE",
            " REST STREAM",
        ]
        .map(str::to_owned),
    );
    if config.allow_ccc {
        lines.push(" CCC".to_owned());
    }
    lines.extend([" MLST type*;size*;modify*;perm*;", " UTF8", " TVFS", "End"].map(str::to_owned));
    lines
}

/// The `214` HELP reply's lines.
pub(super) fn help() -> Vec<String> {
    let mut lines = vec!["The following commands are recognized:".to_owned()];
    lines.extend(COMMANDS.chunks(10).map(|c| format!(" {}", c.join(" "))));
    lines.push("Help OK".to_owned());
    lines
}

/// True for a verb HELP lists (aliases such as XPWD included).
pub(super) fn is_supported(verb: &str) -> bool {
    let verb = verb.trim().to_ascii_uppercase();
    let verb = match verb.as_str() {
        "XCWD" => "CWD",
        "XCUP" => "CDUP",
        "XPWD" => "PWD",
        "XMKD" => "MKD",
        "XRMD" => "RMD",
        other => other,
    };
    COMMANDS.contains(&verb)
}

/// `YYYYMMDDHHMMSS`, UTC (RFC 3659 MDTM).
pub(super) fn mdtm(time: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = time.to_utc();
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// The entry as MLST/MLSD show it: `perm` as RFC 3659 letters (from the Unix mode when the
/// storage gave one), never the mode itself.
pub(super) fn mlsx_entry(entry: &Entry) -> Entry {
    let writable = entry
        .permissions
        .as_deref()
        .map(|mode| mode.as_bytes().get(2) == Some(&b'w'))
        .unwrap_or(true);
    let dir = matches!(
        entry.kind,
        EntryKind::Directory | EntryKind::CurrentDir | EntryKind::ParentDir
    );
    let perm = match (dir, writable) {
        (true, true) => "cdeflmp",
        (true, false) => "el",
        (false, true) => "adfrw",
        (false, false) => "r",
    };
    Entry {
        permissions: Some(perm.to_owned()),
        ..entry.clone()
    }
}

impl ServerSession {
    /// The `211` STAT reply (no argument): the session's state.
    pub(super) fn status_lines(&self) -> Vec<String> {
        let tls = match self.control.tls.as_ref().and_then(|t| t.handshake()) {
            Some(info) => format!(
                " Control connection: {} {}",
                info.version, info.cipher_suite
            ),
            None => " Control connection: clear text".to_owned(),
        };
        let user = match (&self.user, self.logged_in) {
            (Some(user), true) => format!(" Logged in as {user}"),
            _ => " Not logged in".to_owned(),
        };
        let protection = match self.prot_private {
            true => " Data connections: TLS (PROT P), resuming the control session",
            false => " Data connections: clear (PROT C)",
        };
        let transfer = match &self.transfer {
            Some(t) => format!(
                " Transfer: {} of {}, {} bytes so far",
                t.kind, t.path, t.bytes
            ),
            None => " No transfer in progress".to_owned(),
        };
        vec![
            "redy FTPS server status:".to_owned(),
            format!(" Connected from {}", self.peer.ip()),
            user,
            tls,
            protection.to_owned(),
            transfer,
            "End of status".to_owned(),
        ]
    }
}
