//! FTP commands: parsed by the server from a bounded line, encoded by the client.
//!
//! A command line is at most [`MAX_COMMAND_LINE`] bytes with its CRLF; the server frames it
//! before parsing (and refuses a longer one without buffering it). Telnet interrupt sequences
//! that some clients put before `ABOR` (IAC IP, IAC DM) are skipped.

use std::fmt;

use super::{CodecError, shown};

/// Longest command line, CRLF included (room for a 4096-byte path and a verb).
pub const MAX_COMMAND_LINE: usize = 4200;

/// `PROT` levels (RFC 2228 / 4217).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectionLevel {
    /// `C`: clear data connections.
    Clear,
    /// `P`: private (TLS) data connections.
    Private,
    /// `S` or `E`: safe / confidential, which TLS does not define.
    Other(char),
}

/// `TYPE` representations.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferType {
    /// `A`: ASCII (line ends converted).
    Ascii,
    /// `I`: image (binary).
    Image,
    /// Anything else (`E`, `L 8`, ...), kept as its letter.
    Other(char),
}

/// One FTP command.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is the command of the same name (RFC 959, 2228, 2389, 2428, 3659, 4217)
pub enum Command {
    User(String),
    Pass(String),
    Auth(String),
    Pbsz(u64),
    Prot(ProtectionLevel),
    Ccc,
    Type(TransferType),
    Mode(char),
    Stru(char),
    Pasv,
    Epsv(Option<String>),
    Port(String),
    Eprt(String),
    List(Option<String>),
    Nlst(Option<String>),
    Mlsd(Option<String>),
    Mlst(Option<String>),
    Retr(String),
    Stor(String),
    Appe(String),
    Rest(u64),
    Size(String),
    Mdtm(String),
    Cwd(String),
    Cdup,
    Pwd,
    Mkd(String),
    Rmd(String),
    Dele(String),
    Rnfr(String),
    Rnto(String),
    Feat,
    Opts(String),
    Syst,
    Stat(Option<String>),
    Help(Option<String>),
    Noop,
    Abor,
    Quit,
    /// A verb this codec does not know (the server answers `502`).
    Unknown {
        verb: String,
        argument: Option<String>,
    },
}

impl Command {
    /// Parses a command line (without its line end, or with it: CR and LF at the end are
    /// ignored). A known verb with a missing or bad argument is [`CodecError::MalformedCommand`].
    pub fn parse(line: &[u8]) -> Result<Self, CodecError> {
        let line = skip_telnet_interrupts(line);
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() + 2 > MAX_COMMAND_LINE {
            return Err(CodecError::LineTooLong {
                limit: MAX_COMMAND_LINE,
            });
        }
        if line.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n') {
            return Err(malformed("", "NUL, CR or LF inside the line"));
        }
        let text = String::from_utf8_lossy(line);
        let (verb, argument) = match text.split_once(' ') {
            Some((verb, arg)) => (
                verb.to_ascii_uppercase(),
                Some(arg.to_owned()).filter(|a| !a.is_empty()),
            ),
            None => (text.to_ascii_uppercase(), None),
        };
        if verb.is_empty() || !verb.bytes().all(|b| b.is_ascii_alphabetic()) || verb.len() > 8 {
            return Err(malformed(&shown(verb.as_bytes()), "not a command verb"));
        }
        let need = |arg: Option<String>| arg.ok_or_else(|| malformed(&verb, "needs an argument"));
        let number = |arg: Option<String>| {
            need(arg)?
                .trim()
                .parse::<u64>()
                .map_err(|_| malformed(&verb, "needs a decimal number"))
        };
        let letter = |arg: Option<String>| {
            let arg = need(arg)?;
            let mut chars = arg.trim().chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(c.to_ascii_uppercase()),
                (Some(c), Some(' ')) => Ok(c.to_ascii_uppercase()),
                _ => Err(malformed(&verb, "needs a one-letter argument")),
            }
        };
        Ok(match verb.as_str() {
            "USER" => Self::User(need(argument)?),
            "PASS" => Self::Pass(argument.unwrap_or_default()),
            "AUTH" => match need(argument)?.trim() {
                "" => return Err(malformed(&verb, "needs an argument")),
                mechanism => Self::Auth(mechanism.to_ascii_uppercase()),
            },
            "PBSZ" => Self::Pbsz(number(argument)?),
            "PROT" => Self::Prot(match letter(argument)? {
                'C' => ProtectionLevel::Clear,
                'P' => ProtectionLevel::Private,
                c => ProtectionLevel::Other(c),
            }),
            "CCC" => Self::Ccc,
            "TYPE" => Self::Type(match letter(argument)? {
                'A' => TransferType::Ascii,
                'I' => TransferType::Image,
                c => TransferType::Other(c),
            }),
            "MODE" => Self::Mode(letter(argument)?),
            "STRU" => Self::Stru(letter(argument)?),
            "PASV" => Self::Pasv,
            "EPSV" => Self::Epsv(argument),
            "PORT" => Self::Port(need(argument)?),
            "EPRT" => Self::Eprt(need(argument)?),
            "LIST" => Self::List(argument),
            "NLST" => Self::Nlst(argument),
            "MLSD" => Self::Mlsd(argument),
            "MLST" => Self::Mlst(argument),
            "RETR" => Self::Retr(need(argument)?),
            "STOR" => Self::Stor(need(argument)?),
            "APPE" => Self::Appe(need(argument)?),
            "REST" => Self::Rest(number(argument)?),
            "SIZE" => Self::Size(need(argument)?),
            "MDTM" => Self::Mdtm(need(argument)?),
            "CWD" | "XCWD" => Self::Cwd(need(argument)?),
            "CDUP" | "XCUP" => Self::Cdup,
            "PWD" | "XPWD" => Self::Pwd,
            "MKD" | "XMKD" => Self::Mkd(need(argument)?),
            "RMD" | "XRMD" => Self::Rmd(need(argument)?),
            "DELE" => Self::Dele(need(argument)?),
            "RNFR" => Self::Rnfr(need(argument)?),
            "RNTO" => Self::Rnto(need(argument)?),
            "FEAT" => Self::Feat,
            "OPTS" => Self::Opts(need(argument)?),
            "SYST" => Self::Syst,
            "STAT" => Self::Stat(argument),
            "HELP" => Self::Help(argument),
            "NOOP" => Self::Noop,
            "ABOR" => Self::Abor,
            "QUIT" => Self::Quit,
            _ => Self::Unknown { verb, argument },
        })
    }

    /// The command line to send, CRLF included; refuses arguments holding CR, LF or NUL,
    /// which would end the command early and smuggle another in.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let verb = self.verb();
        let argument = self.argument();
        if let Some(arg) = &argument
            && arg.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n')
        {
            return Err(CodecError::UnsafeArgument {
                text: shown(arg.as_bytes()),
            });
        }
        let line = match argument {
            Some(arg) => format!("{verb} {arg}\r\n"),
            None => format!("{verb}\r\n"),
        };
        match line.len() > MAX_COMMAND_LINE {
            true => Err(CodecError::LineTooLong {
                limit: MAX_COMMAND_LINE,
            }),
            false => Ok(line.into_bytes()),
        }
    }

    /// The verb, upper-case.
    pub fn verb(&self) -> &str {
        match self {
            Self::User(_) => "USER",
            Self::Pass(_) => "PASS",
            Self::Auth(_) => "AUTH",
            Self::Pbsz(_) => "PBSZ",
            Self::Prot(_) => "PROT",
            Self::Ccc => "CCC",
            Self::Type(_) => "TYPE",
            Self::Mode(_) => "MODE",
            Self::Stru(_) => "STRU",
            Self::Pasv => "PASV",
            Self::Epsv(_) => "EPSV",
            Self::Port(_) => "PORT",
            Self::Eprt(_) => "EPRT",
            Self::List(_) => "LIST",
            Self::Nlst(_) => "NLST",
            Self::Mlsd(_) => "MLSD",
            Self::Mlst(_) => "MLST",
            Self::Retr(_) => "RETR",
            Self::Stor(_) => "STOR",
            Self::Appe(_) => "APPE",
            Self::Rest(_) => "REST",
            Self::Size(_) => "SIZE",
            Self::Mdtm(_) => "MDTM",
            Self::Cwd(_) => "CWD",
            Self::Cdup => "CDUP",
            Self::Pwd => "PWD",
            Self::Mkd(_) => "MKD",
            Self::Rmd(_) => "RMD",
            Self::Dele(_) => "DELE",
            Self::Rnfr(_) => "RNFR",
            Self::Rnto(_) => "RNTO",
            Self::Feat => "FEAT",
            Self::Opts(_) => "OPTS",
            Self::Syst => "SYST",
            Self::Stat(_) => "STAT",
            Self::Help(_) => "HELP",
            Self::Noop => "NOOP",
            Self::Abor => "ABOR",
            Self::Quit => "QUIT",
            Self::Unknown { verb, .. } => verb,
        }
    }

    /// The argument as sent.
    pub fn argument(&self) -> Option<String> {
        let letter = |c: char| Some(c.to_string());
        match self {
            Self::User(a)
            | Self::Pass(a)
            | Self::Auth(a)
            | Self::Port(a)
            | Self::Eprt(a)
            | Self::Retr(a)
            | Self::Stor(a)
            | Self::Appe(a)
            | Self::Size(a)
            | Self::Mdtm(a)
            | Self::Cwd(a)
            | Self::Mkd(a)
            | Self::Rmd(a)
            | Self::Dele(a)
            | Self::Rnfr(a)
            | Self::Rnto(a)
            | Self::Opts(a) => Some(a.clone()),
            Self::Epsv(a)
            | Self::List(a)
            | Self::Nlst(a)
            | Self::Mlsd(a)
            | Self::Mlst(a)
            | Self::Stat(a)
            | Self::Help(a) => a.clone(),
            Self::Unknown { argument, .. } => argument.clone(),
            Self::Pbsz(n) | Self::Rest(n) => Some(n.to_string()),
            Self::Prot(ProtectionLevel::Clear) => letter('C'),
            Self::Prot(ProtectionLevel::Private) => letter('P'),
            Self::Prot(ProtectionLevel::Other(c)) => letter(*c),
            Self::Type(TransferType::Ascii) => letter('A'),
            Self::Type(TransferType::Image) => letter('I'),
            Self::Type(TransferType::Other(c)) => letter(*c),
            Self::Mode(c) | Self::Stru(c) => letter(*c),
            Self::Ccc
            | Self::Pasv
            | Self::Cdup
            | Self::Pwd
            | Self::Feat
            | Self::Syst
            | Self::Noop
            | Self::Abor
            | Self::Quit => None,
        }
    }
}

impl fmt::Debug for Command {
    /// The command as sent, with the PASS argument hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.argument()) {
            (Self::Pass(_), _) => f.write_str("PASS <hidden>"),
            (_, Some(arg)) => write!(f, "{} {arg:?}", self.verb()),
            (_, None) => f.write_str(self.verb()),
        }
    }
}

/// Frames command lines from a byte stream, whatever its chunking (the server side).
///
/// Holds at most [`MAX_COMMAND_LINE`] bytes: a longer line is dropped as soon as that many
/// bytes arrived without a line feed, and the rest of it is discarded unbuffered up to its line
/// feed, where it is reported as [`CodecError::LineTooLong`] (so replies stay in step with the
/// commands the client sent).
#[derive(Debug, Default)]
pub struct CommandFramer {
    line: Vec<u8>,
    discarding: bool,
}

impl CommandFramer {
    /// A framer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes bytes up to the end of the next line and returns how many it took and, when a
    /// line ended, the line with its CR LF (or bare LF) removed, or the refusal of an overlong
    /// one. Call again with the rest.
    pub fn feed(&mut self, data: &[u8]) -> (usize, Option<Result<Vec<u8>, CodecError>>) {
        let end = data.iter().position(|&b| b == b'\n');
        if self.discarding {
            return match end {
                None => (data.len(), None),
                Some(end) => {
                    self.discarding = false;
                    (end + 1, Some(Err(too_long())))
                }
            };
        }
        let room = MAX_COMMAND_LINE.saturating_sub(self.line.len());
        match end {
            Some(end) if end < room => {
                self.line.extend_from_slice(&data[..end]);
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                (end + 1, Some(Ok(std::mem::take(&mut self.line))))
            }
            None if data.len() < room => {
                self.line.extend_from_slice(data);
                (data.len(), None)
            }
            _ => {
                // Over the limit: drop what was held and skip to the line feed.
                self.line = Vec::new();
                self.discarding = true;
                let (taken, outcome) = self.feed(&data[room.min(data.len())..]);
                (room.min(data.len()) + taken, outcome)
            }
        }
    }

    /// Bytes held for the line being framed (at most [`MAX_COMMAND_LINE`]).
    pub fn buffered(&self) -> usize {
        self.line.len()
    }

    /// True when part of a line has arrived but not its end.
    pub fn is_mid_line(&self) -> bool {
        !self.line.is_empty() || self.discarding
    }
}

fn too_long() -> CodecError {
    CodecError::LineTooLong {
        limit: MAX_COMMAND_LINE,
    }
}

/// Skips Telnet IAC sequences (IAC IP, IAC DM, IAC x) before the verb, as sent with ABOR.
fn skip_telnet_interrupts(mut line: &[u8]) -> &[u8] {
    while let [0xff, _, rest @ ..] = line {
        line = rest;
    }
    line
}

fn malformed(verb: &str, why: &'static str) -> CodecError {
    CodecError::MalformedCommand {
        verb: verb.to_owned(),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_real_clients_send() {
        assert_eq!(
            Command::parse(b"USER anonymous\r\n"),
            Ok(Command::User("anonymous".into()))
        );
        assert_eq!(Command::parse(b"auth tls"), Ok(Command::Auth("TLS".into())));
        assert_eq!(Command::parse(b"PBSZ 0"), Ok(Command::Pbsz(0)));
        assert_eq!(
            Command::parse(b"PROT P"),
            Ok(Command::Prot(ProtectionLevel::Private))
        );
        assert_eq!(
            Command::parse(b"TYPE I"),
            Ok(Command::Type(TransferType::Image))
        );
        assert_eq!(
            Command::parse(b"TYPE A N"),
            Ok(Command::Type(TransferType::Ascii))
        );
        assert_eq!(
            Command::parse(b"STOR file with spaces.txt"),
            Ok(Command::Stor("file with spaces.txt".into()))
        );
        assert_eq!(
            Command::parse(b"LIST -la"),
            Ok(Command::List(Some("-la".into())))
        );
        assert_eq!(
            Command::parse(b"EPSV ALL"),
            Ok(Command::Epsv(Some("ALL".into())))
        );
        assert_eq!(Command::parse(b"XPWD"), Ok(Command::Pwd));
        assert_eq!(
            Command::parse(b"\xff\xf4\xff\xf2ABOR\r\n"),
            Ok(Command::Abor)
        );
        assert_eq!(
            Command::parse(b"SITE CHMOD 644 x"),
            Ok(Command::Unknown {
                verb: "SITE".into(),
                argument: Some("CHMOD 644 x".into())
            })
        );
    }

    #[test]
    fn framer_splits_lines_across_chunks() {
        let mut framer = CommandFramer::new();
        let stream = b"USER a\r\nPA";
        let (n, line) = framer.feed(stream);
        assert_eq!((n, line), (8, Some(Ok(b"USER a".to_vec()))));
        assert_eq!(framer.feed(&stream[n..]), (2, None));
        assert!(framer.is_mid_line());
        assert_eq!(framer.feed(b"SS x\n"), (5, Some(Ok(b"PASS x".to_vec()))));
    }

    #[test]
    fn framer_discards_an_overlong_line_without_holding_it() {
        let mut framer = CommandFramer::new();
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..16 {
            assert_eq!(framer.feed(&chunk), (chunk.len(), None));
            assert!(framer.buffered() <= MAX_COMMAND_LINE);
        }
        assert_eq!(framer.buffered(), 0, "nothing kept of the long line");
        let (n, outcome) = framer.feed(b"AAA\r\nNOOP\r\n");
        assert_eq!(n, 5);
        assert_eq!(outcome, Some(Err(too_long())));
        assert_eq!(framer.feed(b"NOOP\r\n"), (6, Some(Ok(b"NOOP".to_vec()))));
        // Exactly at the limit with its CRLF is fine; one more byte is not.
        let mut at_limit = vec![b'B'; MAX_COMMAND_LINE - 2];
        at_limit.extend_from_slice(b"\r\n");
        assert!(matches!(framer.feed(&at_limit), (_, Some(Ok(_)))));
        let mut over = vec![b'B'; MAX_COMMAND_LINE - 1];
        over.extend_from_slice(b"\r\n");
        assert_eq!(framer.feed(&over), (over.len(), Some(Err(too_long()))));
    }

    #[test]
    fn auth_with_only_blanks_is_refused() {
        // Found by the ftp_command fuzz target: it parsed as AUTH "" and did not round-trip.
        let err = Command::parse(b"AUTH \t\t\t\t\t\t").unwrap_err();
        assert_eq!(
            err,
            CodecError::MalformedCommand {
                verb: "AUTH".into(),
                why: "needs an argument"
            }
        );
    }

    #[test]
    fn bad_commands_are_named() {
        assert_eq!(
            Command::parse(b"RETR"),
            Err(CodecError::MalformedCommand {
                verb: "RETR".into(),
                why: "needs an argument"
            })
        );
        assert!(matches!(
            Command::parse(b"REST abc"),
            Err(CodecError::MalformedCommand {
                why: "needs a decimal number",
                ..
            })
        ));
        assert!(matches!(
            Command::parse(b"RETR a\0b"),
            Err(CodecError::MalformedCommand { .. })
        ));
        assert!(matches!(
            Command::parse(b"12AB x"),
            Err(CodecError::MalformedCommand {
                why: "not a command verb",
                ..
            })
        ));
        assert_eq!(
            Command::parse(&vec![b'A'; MAX_COMMAND_LINE]),
            Err(CodecError::LineTooLong {
                limit: MAX_COMMAND_LINE
            })
        );
    }

    #[test]
    fn encoding_refuses_smuggled_commands_and_hides_passwords() {
        let err = Command::Retr("a\r\nDELE b".into()).encode().unwrap_err();
        assert!(matches!(err, CodecError::UnsafeArgument { .. }), "{err}");
        assert_eq!(
            Command::Prot(ProtectionLevel::Private).encode().unwrap(),
            b"PROT P\r\n"
        );
        assert_eq!(
            format!("{:?}", Command::Pass("s3cret".into())),
            "PASS <hidden>"
        );
        assert_eq!(format!("{:?}", Command::Retr("x".into())), "RETR \"x\"");
    }
}
