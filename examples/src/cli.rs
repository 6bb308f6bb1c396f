//! What the example binaries' command lines share: trust flags, server identities and URL
//! pieces.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use std::{env, fs};

use redy_certs::{DeviceCa, Identity, SpkiPin, TrustPolicy, Wid};
use redy_tls::TlsVersion;

/// Parses a trust or TLS flag the binaries share (`--ca FILE`, `--pin sha256//…`,
/// `--trust-server`, `--tls-max 1.2`); `None` when `flag` is not one of them.
pub fn trust_flag(
    program: &str,
    flag: &str,
    value: &mut dyn FnMut() -> Result<String, String>,
    trust: &mut Option<TrustPolicy>,
    tls_max: &mut Option<TlsVersion>,
) -> Option<Result<(), String>> {
    let result = match flag {
        "--ca" => value().and_then(|file| {
            let pem = fs::read(&file).map_err(|e| format!("{file}: {e}"))?;
            let certs = redy_certs::parse_pem(&pem).map_err(|e| format!("{file}: {e}"))?;
            *trust = Some(TrustPolicy::CaCertificates(certs.certificates));
            Ok(())
        }),
        "--pin" => value().and_then(|pin| {
            let pin = pin.parse::<SpkiPin>().map_err(|e| e.to_string())?;
            *trust = Some(TrustPolicy::SpkiPins(vec![pin]));
            Ok(())
        }),
        "--trust-server" => {
            eprintln!(
                "{program}: WARNING: --trust-server accepts ANY certificate: the server is not authenticated"
            );
            *trust = Some(TrustPolicy::DangerousTrustAnyServer);
            Ok(())
        }
        "--tls-max" => value().and_then(|v| {
            *tls_max = Some(match v.as_str() {
                "1.2" => TlsVersion::Tls12,
                "1.3" => TlsVersion::Tls13,
                other => return Err(format!("--tls-max takes 1.2 or 1.3, not {other}")),
            });
            Ok(())
        }),
        _ => return None,
    };
    Some(result)
}

/// A server's identity: the PEM `cert` (chain, and key unless `key` is given), or without one a
/// device CA generated for `wid` and a server certificate for `ip` and `localhost`, the CA
/// written to `ca_out` (default `REDY-<WID>-CA.crt` in the temporary directory) and its path
/// told on standard error.
pub fn server_identity(
    program: &str,
    cert: Option<&Path>,
    key: Option<&Path>,
    wid: &Wid,
    ip: IpAddr,
    ca_out: Option<PathBuf>,
) -> Result<Identity, Box<dyn std::error::Error>> {
    if let Some(cert) = cert {
        let mut pem = fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
        if let Some(key) = key {
            pem.extend(fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?);
        }
        return Ok(Identity::from_pem(&pem)?);
    }
    let now = SystemTime::now();
    let ca = DeviceCa::generate(wid, now)?;
    let ip = match ip {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let identity =
        ca.issue_server_certificate(&[ip.to_string().parse()?, "localhost".parse()?], now)?;
    let ca_path = ca_out.unwrap_or_else(|| env::temp_dir().join(ca.file_name()));
    fs::write(&ca_path, ca.certificate().to_pem())?;
    eprintln!(
        "{program}: no --cert: generated a device certificate for {ip}, localhost; clients trust the CA written to {}",
        ca_path.display()
    );
    Ok(identity)
}

/// A URL's `user[:password]@host[:port]` part: (user, password, host, port), percent-decoded,
/// IPv6 brackets removed.
pub fn authority(
    hostport_user: &str,
    default_port: u16,
) -> Result<(String, Option<String>, String, u16), String> {
    let (userinfo, hostport) = hostport_user
        .rsplit_once('@')
        .ok_or("the URL needs USER@HOST")?;
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(percent_decode(p))),
        None => (userinfo, None),
    };
    let (host, port) = match hostport.strip_prefix('[').and_then(|r| r.split_once(']')) {
        // [IPv6]:port or [IPv6]
        Some((host, rest)) => match rest.strip_prefix(':') {
            Some(p) => (host, p.parse().map_err(|_| format!("bad port {p}"))?),
            None => (host, default_port),
        },
        None => match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| format!("bad port {p}"))?),
            None => (hostport, default_port),
        },
    };
    Ok((
        percent_decode(user),
        password,
        host.trim_matches(['[', ']']).to_owned(),
        port,
    ))
}

/// `%XX` escapes decoded (invalid ones kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], escaped) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(
            authority("plc%40site:p%3Aw@ftp.example.com:2121", 990).unwrap(),
            (
                "plc@site".into(),
                Some("p:w".into()),
                "ftp.example.com".into(),
                2121
            )
        );
        assert_eq!(
            authority("plc@[::1]", 21).unwrap(),
            ("plc".into(), None, "::1".into(), 21)
        );
        assert!(authority("nohost", 21).is_err());
    }
}
