//! Trust policies: how a peer's certificate is judged. The checks themselves run in redy-tls.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{Certificate, Error};

/// How a TLS peer's certificate is judged; one policy type for every redy protocol.
///
/// | policy | chain to an anchor | name (DNS or IP) | validity time | handshake signature |
/// |---|---|---|---|---|
/// | [`WebPkiRoots`](Self::WebPkiRoots) | Mozilla's roots | yes | yes | yes |
/// | [`CaCertificates`](Self::CaCertificates) | the given CAs only | yes | yes | yes |
/// | [`ServerCertificate`](Self::ServerCertificate) | no: exact DER of the end entity | no | yes | yes |
/// | [`SpkiPins`](Self::SpkiPins) | no: SHA-256 of the end entity's key | no | yes | yes |
/// | [`DangerousTrustAnyServer`](Self::DangerousTrustAnyServer) | **no** | **no** | **no** | yes |
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TrustPolicy {
    /// The public web PKI: Mozilla's root store, as shipped by `webpki-roots`. The default.
    #[default]
    WebPkiRoots,
    /// Only chains to these CA certificates, e.g. another device's imported `REDY-<WID>-CA.crt`.
    CaCertificates(Vec<Certificate>),
    /// Exactly this end-entity certificate (the manual's "with external certificate"). It is
    /// compared byte for byte and never becomes a trust anchor, so it cannot vouch for others.
    ServerCertificate(Certificate),
    /// An end-entity whose subject public key info hashes to one of these pins.
    SpkiPins(Vec<SpkiPin>),
    /// The manual's "Faire confiance au serveur": **any** certificate, from anyone, for any
    /// name, expired or not. Only the TLS handshake signature is still checked, so the
    /// connection is encrypted to whoever holds the presented key — which an attacker in the
    /// middle can be. Use only towards a server whose origin is known and trusted.
    DangerousTrustAnyServer,
}

impl fmt::Display for TrustPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WebPkiRoots => f.write_str("web PKI roots"),
            Self::CaCertificates(cas) => write!(f, "{} chosen CA certificate(s)", cas.len()),
            Self::ServerCertificate(cert) => {
                write!(f, "chosen server certificate {}", cert.details().subject)
            }
            Self::SpkiPins(pins) => write!(f, "{} SPKI pin(s)", pins.len()),
            Self::DangerousTrustAnyServer => f.write_str("DANGER: trust any server"),
        }
    }
}

/// A SHA-256 hash of a subject public key info, written `sha256//BASE64` as curl's
/// `--pinnedpubkey` takes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpkiPin([u8; 32]);

impl SpkiPin {
    /// A pin from the SHA-256 of a subject public key info.
    pub fn from_sha256(hash: [u8; 32]) -> Self {
        Self(hash)
    }

    /// The hash.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for SpkiPin {
    type Err = Error;

    /// Accepts `sha256//BASE64`, bare base64, or 64 hex digits (colons allowed).
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidPin(s.to_owned());
        let t = s.trim();
        let t = t.strip_prefix("sha256//").unwrap_or(t);
        let hexed: String = t.chars().filter(|c| *c != ':').collect();
        let bytes = if hexed.len() == 64 && hexed.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&hexed[2 * i..2 * i + 2], 16).map_err(|_| bad()))
                .collect::<Result<Vec<u8>, _>>()?
        } else {
            STANDARD.decode(t).map_err(|_| bad())?
        };
        Ok(Self(bytes.try_into().map_err(|_| bad())?))
    }
}

impl fmt::Display for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256//{}", STANDARD.encode(self.0))
    }
}

impl fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpkiPin({self})")
    }
}

/// The time certificate validity is checked against.
#[non_exhaustive]
#[derive(Clone, Debug, Default)]
pub enum TimeSource {
    /// The clock the TLS library reads (the operating system's).
    #[default]
    System,
    /// Always this instant: for tests, or a device told the time by its caller.
    Fixed(SystemTime),
    /// The later of the system clock and a last-known-good time, for devices that boot at 1970
    /// until they learn the time.
    LastKnownGood(LastKnownGood),
}

impl TimeSource {
    /// The instant to check validity at, given what the system clock says.
    pub fn resolve(&self, system_clock: SystemTime) -> SystemTime {
        match self {
            Self::System => system_clock,
            Self::Fixed(at) => *at,
            Self::LastKnownGood(lkg) => system_clock.max(lkg.get()),
        }
    }
}

/// A last-known-good time shared by every connection that holds a clone; it only moves forward.
///
/// A device stores it (for instance on each clean shutdown, or from a trusted time message) and
/// hands it back at boot with [`LastKnownGood::new`].
#[derive(Clone, Debug, Default)]
pub struct LastKnownGood(Arc<AtomicU64>);

impl LastKnownGood {
    /// Starts from `at`.
    pub fn new(at: SystemTime) -> Self {
        let lkg = Self::default();
        lkg.advance(at);
        lkg
    }

    /// Moves the time forward to `at`; an earlier `at` is ignored.
    pub fn advance(&self, at: SystemTime) {
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.0.fetch_max(secs, Ordering::Relaxed);
    }

    /// The current last-known-good time.
    pub fn get(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_parses_base64_hex_and_curl_forms() {
        let pin = SpkiPin::from_sha256([0xab; 32]);
        let text = pin.to_string();
        assert!(text.starts_with("sha256//"));
        assert_eq!(text.parse::<SpkiPin>(), Ok(pin));
        assert_eq!(
            text.trim_start_matches("sha256//").parse::<SpkiPin>(),
            Ok(pin)
        );
        assert_eq!("AB".repeat(32).parse::<SpkiPin>(), Ok(pin));
        assert_eq!(vec!["ab"; 32].join(":").parse::<SpkiPin>(), Ok(pin));
    }

    #[test]
    fn bad_pins_name_the_input() {
        for bad in ["", "sha256//", "abc", "sha256//AAAA", &"a".repeat(63)] {
            let err = bad.parse::<SpkiPin>().unwrap_err();
            assert_eq!(err, Error::InvalidPin(bad.to_owned()));
        }
    }

    #[test]
    fn last_known_good_only_moves_forward_and_wins_over_an_early_clock() {
        let t = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let lkg = LastKnownGood::new(t(1_700_000_000));
        lkg.advance(t(5));
        assert_eq!(lkg.get(), t(1_700_000_000));
        let source = TimeSource::LastKnownGood(lkg.clone());
        assert_eq!(source.resolve(t(0)), t(1_700_000_000));
        assert_eq!(source.resolve(t(1_800_000_000)), t(1_800_000_000));
        lkg.advance(t(1_900_000_000));
        assert_eq!(source.resolve(t(0)), t(1_900_000_000));
        assert_eq!(TimeSource::Fixed(t(7)).resolve(t(9)), t(7));
    }
}
