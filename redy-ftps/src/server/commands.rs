//! Each command's checks and first step: a reply, a request, or an action.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::answers::Pending;
use super::control::Wait;
use super::data::{DataSlot, ListFormat};
use super::replies;
use super::{Request, Security, ServerSession, TransferKind, VirtualPath, WriteMode};
use crate::codec::address::{parse_eprt, parse_port};
use crate::codec::command::{Command, ProtectionLevel, TransferType};

impl ServerSession {
    pub(super) fn command(&mut self, command: Command, now: Instant) {
        use Command as C;
        let rename_from = match &command {
            C::Rnto(_) => self.rename_from.take(),
            _ => self.rename_from.take().and(None),
        };
        let open = matches!(
            command,
            C::User(_)
                | C::Pass(_)
                | C::Auth(_)
                | C::Pbsz(_)
                | C::Prot(_)
                | C::Ccc
                | C::Feat
                | C::Opts(_)
                | C::Syst
                | C::Stat(None)
                | C::Help(_)
                | C::Noop
                | C::Abor
                | C::Quit
        );
        if !open && !self.logged_in {
            return self.reply(530, "Please log in with USER and PASS first");
        }
        match command {
            C::User(name) => self.user_command(name),
            C::Pass(password) => self.pass_command(password),
            C::Auth(mechanism) => self.auth(&mechanism),
            C::Pbsz(_) => match self.control.tls.is_some() {
                true => {
                    self.pbsz = true;
                    self.reply(200, "PBSZ=0");
                }
                false => self.reply(503, "PBSZ needs a TLS control connection: AUTH TLS first"),
            },
            C::Prot(level) => self.prot(level),
            C::Ccc => self.ccc(),
            C::Type(TransferType::Ascii) => {
                self.reply(200, "Type set to A (files are sent as stored)")
            }
            C::Type(TransferType::Image) => self.reply(200, "Type set to I"),
            C::Type(_) => self.reply(504, "Only TYPE A and TYPE I are supported"),
            C::Mode('S') => self.reply(200, "Mode set to S"),
            C::Mode(_) => self.reply(504, "Only MODE S (stream) is supported"),
            C::Stru('F') => self.reply(200, "Structure set to F"),
            C::Stru(_) => self.reply(504, "Only STRU F (file) is supported"),
            C::Pasv => self.pasv(),
            C::Epsv(argument) => self.epsv(argument.as_deref()),
            C::Port(argument) => match parse_port(&argument) {
                Ok(addr) => self.active(SocketAddr::V4(addr), "PORT"),
                Err(e) => self.reply(501, &format!("Syntax error in PORT: {e}")),
            },
            C::Eprt(argument) => match parse_eprt(&argument) {
                Ok(addr) => self.active(addr, "EPRT"),
                Err(e) => self.reply(501, &format!("Syntax error in EPRT: {e}")),
            },
            C::List(arg) => self.listing(ListFormat::List, without_options(arg), now),
            C::Nlst(arg) => self.listing(ListFormat::Names, without_options(arg), now),
            C::Mlsd(arg) => self.listing(ListFormat::Mlsd, arg, now),
            C::Mlst(arg) => {
                if let Some(path) = self.path_or_cwd(arg.as_deref()) {
                    self.ask(Request::Stat { path: path.clone() }, Pending::Mlst(path));
                }
            }
            C::Retr(arg) => {
                if self.data_ready_for_transfer()
                    && let Some(path) = self.path(&arg)
                {
                    let offset = std::mem::take(&mut self.rest);
                    let request = Request::OpenRead {
                        path: path.clone(),
                        offset,
                    };
                    self.ask(request, Pending::Open(TransferKind::Download, path));
                }
            }
            C::Stor(arg) => self.upload_command(&arg, false),
            C::Appe(arg) => self.upload_command(&arg, true),
            C::Rest(offset) => {
                self.rest = offset;
                self.reply(350, &format!("Restarting at {offset}: send STOR or RETR"));
            }
            C::Size(arg) => self.stat_then(&arg, Pending::Size),
            C::Mdtm(arg) => self.stat_then(&arg, Pending::Mdtm),
            C::Cwd(arg) => self.stat_then(&arg, Pending::Cwd),
            C::Cdup => {
                self.cwd = self.cwd.parent();
                self.reply(250, &format!("Directory changed to {}", self.cwd));
            }
            C::Pwd => {
                let quoted = self.cwd.as_str().replace('"', "\"\"");
                self.reply(257, &format!("\"{quoted}\" is the current directory"));
            }
            C::Mkd(arg) => {
                if let Some(path) = self.path(&arg) {
                    let quoted = path.as_str().replace('"', "\"\"");
                    let done = Pending::Done(257, format!("\"{quoted}\" created"));
                    self.ask(Request::MakeDir { path }, done);
                }
            }
            C::Rmd(arg) => {
                if let Some(path) = self.path(&arg) {
                    match path.is_root() {
                        true => self.reply(550, "The root directory cannot be removed"),
                        false => self.ask(
                            Request::RemoveDir { path },
                            Pending::Done(250, "Directory removed".to_owned()),
                        ),
                    }
                }
            }
            C::Dele(arg) => {
                if let Some(path) = self.path(&arg) {
                    self.ask(
                        Request::Delete { path },
                        Pending::Done(250, "File deleted".to_owned()),
                    );
                }
            }
            C::Rnfr(arg) => self.stat_then(&arg, Pending::Rnfr),
            C::Rnto(arg) => match rename_from {
                None => self.reply(503, "RNTO must follow RNFR"),
                Some(from) => {
                    if let Some(to) = self.path(&arg) {
                        self.ask(
                            Request::Rename { from, to },
                            Pending::Done(250, "Renamed".to_owned()),
                        );
                    }
                }
            },
            C::Feat => {
                let lines = replies::features(&self.config);
                self.reply_lines(211, lines);
            }
            C::Opts(option) => self.opts(&option),
            C::Syst => self.reply(215, "UNIX Type: L8"),
            C::Stat(None) => {
                let lines = self.status_lines();
                self.reply_lines(211, lines);
            }
            C::Stat(Some(arg)) => self.stat_then(&arg, Pending::StatPath),
            C::Help(None) => self.reply_lines(214, replies::help()),
            C::Help(Some(verb)) => match replies::is_supported(&verb) {
                true => self.reply(214, &format!("{} is supported", verb.to_ascii_uppercase())),
                false => self.reply(
                    502,
                    &format!("{} is not implemented", verb.to_ascii_uppercase()),
                ),
            },
            C::Noop => self.reply(200, "NOOP ok"),
            C::Abor => self.abor(now),
            C::Quit => {
                self.reply(221, "Goodbye");
                self.shutdown("the client quit");
            }
            C::Unknown { verb, .. } => {
                self.reply(502, &format!("Command not implemented: {verb}"));
            }
        }
    }

    fn user_command(&mut self, name: String) {
        if self.logged_in {
            return self.reply(530, "Already logged in: cannot change to another user");
        }
        if !self.tls_or_insecure_allowed() {
            return self.reply(
                530,
                "This server requires AUTH TLS before USER: logins in clear text are refused",
            );
        }
        self.reply(331, &format!("Password required for {name}"));
        self.user = Some(name);
    }

    fn pass_command(&mut self, password: String) {
        if self.logged_in {
            return self.reply(230, "Already logged in");
        }
        if !self.tls_or_insecure_allowed() {
            return self.reply(530, "This server requires AUTH TLS before USER and PASS");
        }
        let Some(user) = self.user.clone() else {
            return self.reply(503, "Send USER first");
        };
        let request = Request::CheckCredentials {
            user: user.clone(),
            password: super::Password::new(password),
        };
        self.ask(request, Pending::Login(user));
    }

    fn tls_or_insecure_allowed(&self) -> bool {
        self.control.tls.is_some()
            || self.control.ccc
            || self.logged_in
            || self.config.allow_insecure_plain_ftp
    }

    fn auth(&mut self, mechanism: &str) {
        if !matches!(mechanism, "TLS" | "TLS-C" | "SSL" | "TLS-P") {
            return self.reply(
                504,
                &format!("AUTH {mechanism} is not supported: use AUTH TLS"),
            );
        }
        if self.control.tls.is_some() || self.config.security == Security::ImplicitTls {
            return self.reply(503, "TLS is already on");
        }
        if self.logged_in {
            return self.reply(503, "AUTH TLS must come before the login");
        }
        self.reply(
            234,
            &format!("AUTH {mechanism} successful: start the TLS handshake"),
        );
        self.control.upgrade = true;
    }

    fn prot(&mut self, level: ProtectionLevel) {
        if self.control.tls.is_none() {
            return self.reply(503, "PROT needs a TLS control connection: AUTH TLS first");
        }
        if !self.pbsz && self.config.security == Security::ExplicitTls {
            return self.reply(503, "PROT must follow PBSZ (send PBSZ 0 first)");
        }
        match level {
            ProtectionLevel::Private => {
                self.prot_private = true;
                self.reply(200, "Protection level set to P (data connections use TLS)");
            }
            ProtectionLevel::Clear if self.config.allow_clear_data => {
                self.prot_private = false;
                self.reply(200, "Protection level set to C (data connections in clear)");
            }
            ProtectionLevel::Clear => self.reply(
                534,
                "PROT C refused by policy: data connections must be protected (PROT P)",
            ),
            _ => self.reply(536, "Only protection levels P and C are supported"),
        }
    }

    fn ccc(&mut self) {
        if self.control.tls.is_none() {
            return self.reply(533, "CCC needs a TLS control connection");
        }
        if !self.config.allow_ccc {
            return self.reply(
                534,
                "CCC refused by policy: the control connection stays encrypted",
            );
        }
        if !self.logged_in {
            return self.reply(533, "CCC is only accepted after the login");
        }
        self.reply(200, "CCC: the control connection returns to clear text");
        self.control.ccc = true;
    }

    fn opts(&mut self, option: &str) {
        let upper = option.trim().to_ascii_uppercase();
        match upper.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["UTF8"] | ["UTF8", "ON"] | ["UTF-8"] | ["UTF-8", "ON"] => {
                self.reply(200, "UTF8 mode on (always)")
            }
            ["MLST", ..] => self.reply(200, "MLST OPTS type;size;modify;perm;"),
            _ => self.reply(501, &format!("Option not understood: {option}")),
        }
    }

    fn pasv(&mut self) {
        if self.epsv_all {
            return self.reply(
                503,
                "EPSV ALL was sent: only EPSV may set up data connections",
            );
        }
        let ipv4 = self.config.masquerade.is_some()
            || matches!(self.local.ip().to_canonical(), IpAddr::V4(_));
        match ipv4 {
            true => self.start_listen(false),
            false => self.reply(501, "PASV needs IPv4: use EPSV"),
        }
    }

    fn epsv(&mut self, argument: Option<&str>) {
        let family = match self.local.ip().to_canonical() {
            IpAddr::V4(_) => "1",
            IpAddr::V6(_) => "2",
        };
        match argument.map(str::trim) {
            None => self.start_listen(true),
            Some(a) if a.eq_ignore_ascii_case("ALL") => {
                self.epsv_all = true;
                self.reply(200, "EPSV ALL ok: only EPSV from now on");
            }
            Some(a) if a == family => self.start_listen(true),
            Some("1" | "2") => self.reply(
                522,
                &format!("Network protocol not supported, use ({family})"),
            ),
            Some(_) => self.reply(501, "EPSV takes no argument, ALL, 1 or 2"),
        }
    }

    /// PORT / EPRT: only to the client's own address, never to a privileged port.
    fn active(&mut self, to: SocketAddr, verb: &str) {
        if self.epsv_all {
            return self.reply(
                503,
                "EPSV ALL was sent: only EPSV may set up data connections",
            );
        }
        let own = self.peer.ip().to_canonical();
        if to.ip().to_canonical() != own {
            return self.reply(
                501,
                &format!(
                    "{verb} refused: data connections go only to your own address {own}, not {} (no FTP bounce)",
                    to.ip()
                ),
            );
        }
        if to.port() < 1024 {
            return self.reply(
                501,
                &format!("{verb} refused: port {} is privileged", to.port()),
            );
        }
        self.close_data(false);
        self.data_refused = None;
        self.data = DataSlot::Active { to };
        self.reply(200, &format!("{verb} command successful"));
    }

    fn listing(&mut self, format: ListFormat, argument: Option<String>, _now: Instant) {
        if !self.data_ready_for_transfer() {
            return;
        }
        if let Some(path) = self.path_or_cwd(argument.as_deref()) {
            self.ask(
                Request::Stat { path: path.clone() },
                Pending::ListStat(format, path),
            );
        }
    }

    fn upload_command(&mut self, argument: &str, append: bool) {
        if !self.data_ready_for_transfer() {
            return;
        }
        let Some(path) = self.path(argument) else {
            return;
        };
        let rest = std::mem::take(&mut self.rest);
        let mode = match (append, rest) {
            (true, _) => WriteMode::Append,
            (false, 0) => WriteMode::Truncate,
            (false, n) => WriteMode::At(n),
        };
        // The file is opened only once the data connection proved itself (TLS resumed):
        // a refused connection must not truncate anything.
        self.begin_transfer(TransferKind::Upload, path, None, self.now);
        if let Some(t) = &mut self.transfer {
            t.write_mode = Some(mode);
        }
    }

    fn stat_then(&mut self, argument: &str, then: fn(VirtualPath) -> Pending) {
        if let Some(path) = self.path(argument) {
            self.ask(Request::Stat { path: path.clone() }, then(path));
        }
    }

    /// The client's path, confined; a refused one is answered here (`553`).
    pub(super) fn path(&mut self, argument: &str) -> Option<VirtualPath> {
        match self.cwd.resolve(argument) {
            Ok(path) => Some(path),
            Err(e) => {
                self.reply(553, &format!("Path refused: {e}"));
                None
            }
        }
    }

    fn path_or_cwd(&mut self, argument: Option<&str>) -> Option<VirtualPath> {
        match argument {
            None => Some(self.cwd.clone()),
            Some(argument) => self.path(argument),
        }
    }

    /// Emits a request and waits for its answer.
    pub(super) fn ask(&mut self, request: Request, then: Pending) {
        self.requests.push_back(request);
        self.wait = Wait::Answer(then);
    }

    /// Checks, before a transfer command asks storage anything, that a data connection is
    /// set up and allowed; answers the client when not.
    fn data_ready_for_transfer(&mut self) -> bool {
        if matches!(self.data, DataSlot::None) {
            let (code, text) = self
                .data_refused
                .take()
                .unwrap_or((425, "Use PASV, EPSV, PORT or EPRT first".to_owned()));
            self.reply(code, &text);
            return false;
        }
        let clear_allowed = self.control.tls.is_none() || self.config.allow_clear_data;
        if !self.prot_private && !clear_allowed {
            self.reply(
                521,
                "Data connections must be protected: send PBSZ 0 and PROT P",
            );
            return false;
        }
        true
    }
}

/// `LIST -la dir` → `dir`: the `ls` options some clients send are dropped.
fn without_options(argument: Option<String>) -> Option<String> {
    let argument = argument?;
    let mut rest = argument.as_str();
    while let Some(after) = rest.strip_prefix('-') {
        let end = after.find(' ').unwrap_or(after.len());
        rest = after[end..].trim_start();
    }
    Some(rest.to_owned()).filter(|r| !r.is_empty())
}
