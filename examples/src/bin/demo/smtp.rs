//! The demo's SMTP step: a tiny SMTPS server on 127.0.0.1 and redy-smtps sending to it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use base64::Engine;
use redy_certs::{Certificate, Identity, TrustPolicy};
use redy_examples::blocking::TlsStream;
use redy_examples::smtp::SmtpConnection;
use redy_smtps::{Credentials, Envelope, Security, SmtpConfig};
use redy_tls::{ServerConfig, TlsSession};

use crate::Result;

const USER: &str = "device@redy.local";
const PASSWORD: &str = "demo-password";

/// Runs the SMTP step of the demo.
pub fn run(identity: Identity, ca: Certificate) -> Result<()> {
    println!("\nSMTP: redy-smtps to a small SMTPS server on 127.0.0.1 (implicit TLS, AUTH PLAIN)");
    let tls_server = ServerConfig::builder(identity).build()?;
    let implicit = serve(Some(tls_server), false)?;
    let clear_only = serve(None, true)?;
    let tls = redy_tls::ClientConfig::builder(TrustPolicy::CaCertificates(vec![ca])).build()?;
    let login = |password: &str| Credentials::Password {
        user: USER.into(),
        password: password.into(),
    };
    let body = b"Subject: REDY alarm\r\n\r\nTank 3 level high.\r\n.a line starting with a dot\r\n";

    let config = SmtpConfig::new(Security::ImplicitTls, tls.clone(), "127.0.0.1")
        .credentials(login(PASSWORD));
    let mut conn = SmtpConnection::open(config, TcpStream::connect(("127.0.0.1", implicit))?)?;
    let envelope = Envelope::new(
        USER.parse()?,
        vec!["ops@example.com".parse()?, "unknown@example.com".parse()?],
    );
    let report = conn.send(&envelope, &mut &body[..])?;
    for (address, reply) in &report.recipients {
        println!("  RCPT {address:<22} {reply}");
    }
    match &report.outcome {
        Ok(reply) => println!("  message ACCEPTED: {reply}"),
        Err(reply) => println!("  message refused: {reply}"),
    }
    conn.quit()?;

    let config = SmtpConfig::new(Security::ImplicitTls, tls.clone(), "127.0.0.1")
        .credentials(login("wrong"));
    match SmtpConnection::open(config, TcpStream::connect(("127.0.0.1", implicit))?) {
        Ok(_) => println!("  wrong password: unexpectedly accepted"),
        Err(e) => println!("  wrong password: refused ({e})"),
    }
    let config =
        SmtpConfig::new(Security::StartTlsRequired, tls, "127.0.0.1").credentials(login(PASSWORD));
    match SmtpConnection::open(config, TcpStream::connect(("127.0.0.1", clear_only))?) {
        Ok(_) => println!("  STARTTLS required, server without it: unexpectedly accepted"),
        Err(e) => println!(
            "  STARTTLS required, server without it: refused ({e}); the password never left"
        ),
    }
    Ok(())
}

/// A minimal SMTP server: implicit TLS when `tls` is given, else clear text without STARTTLS.
fn serve(tls: Option<ServerConfig>, clear: bool) -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let tls = tls.clone();
            thread::spawn(move || -> Result<()> {
                match (tls, clear) {
                    (Some(config), _) => {
                        session(TlsStream::connect(TlsSession::server(&config)?, tcp)?)
                    }
                    _ => session(tcp),
                }
            });
        }
    });
    Ok(port)
}

fn session<S: std::io::Read + Write>(stream: S) -> Result<()> {
    let mut reader = BufReader::new(stream);
    let say = |r: &mut BufReader<S>, text: &str| r.get_mut().write_all(text.as_bytes());
    say(&mut reader, "220 demo.redy ESMTP\r\n")?;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        let command = line.trim_end().to_owned();
        line.clear();
        let reply = match command
            .split(' ')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
            .as_str()
        {
            "EHLO" => "250-demo.redy\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n".to_owned(),
            "AUTH" if command.ends_with(&expected) => {
                "235 2.7.0 Authentication successful\r\n".to_owned()
            }
            "AUTH" => "535 5.7.8 Authentication credentials invalid\r\n".to_owned(),
            "MAIL" | "RSET" => "250 2.1.0 Ok\r\n".to_owned(),
            "RCPT" if command.contains("unknown@") => {
                "550 5.1.1 Recipient address rejected: unknown user\r\n".to_owned()
            }
            "RCPT" => "250 2.1.5 Ok\r\n".to_owned(),
            "DATA" => {
                say(&mut reader, "354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let mut lines = 0;
                while reader.read_line(&mut line)? > 0 && line != ".\r\n" {
                    lines += 1;
                    line.clear();
                }
                line.clear();
                format!("250 2.0.0 Ok: queued as DEMO1 ({lines} lines)\r\n")
            }
            "QUIT" => {
                say(&mut reader, "221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => "502 5.5.2 Error: command not recognized\r\n".to_owned(),
        };
        say(&mut reader, &reply)?;
    }
    Ok(())
}
