//! The eShare domain: its sites on one HTTPS port, each with its own trust policy.

use std::collections::HashSet;

use redy_certs::{Certificate, SpkiPin, SubjectName, TrustPolicy, Wid};
use redy_tls::ClientAuth;

use super::error::DomainError;
use super::{MAX_LABEL_BYTES, MAX_SITES};

/// One site of a domain, as the manual's "Domaine eShare" lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The site's WID.
    pub wid: Wid,
    /// A free label (at most [`MAX_LABEL_BYTES`] bytes).
    pub label: String,
    /// Where its HTTPS server listens: an IP address or a host name. It is also the TLS server
    /// name its certificate is checked against (unless the policy ignores names).
    pub address: SubjectName,
    /// Its HTTPS port: the same for every site of a domain.
    pub port: u16,
    /// Its software version, as shown in the table (at most [`MAX_LABEL_BYTES`] bytes).
    pub software: String,
    /// How its server certificate is judged, e.g. its imported `REDY-<WID>-CA.crt`
    /// ([`TrustPolicy::CaCertificates`]), an SPKI pin, or the manual's "trust the server"
    /// ([`TrustPolicy::DangerousTrustAnyServer`]). With mutual TLS, the same policy judges its
    /// client certificate.
    pub trust: TrustPolicy,
}

impl Site {
    /// A site on `address:port`, with an empty label and software version and the web PKI as
    /// trust policy.
    pub fn new(wid: Wid, address: SubjectName, port: u16) -> Self {
        Self {
            wid,
            label: String::new(),
            address,
            port,
            software: String::new(),
            trust: TrustPolicy::WebPkiRoots,
        }
    }

    /// The same site with a label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// The same site with a software version.
    pub fn software(mut self, software: impl Into<String>) -> Self {
        self.software = software.into();
        self
    }

    /// The same site with a trust policy.
    pub fn trust(mut self, trust: TrustPolicy) -> Self {
        self.trust = trust;
        self
    }

    /// `address:port`, with brackets around an IPv6 address.
    pub fn authority(&self) -> String {
        match &self.address {
            SubjectName::Ip(std::net::IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            other => format!("{other}:{}", self.port),
        }
    }
}

/// The sites of one eShare domain, all on one HTTPS port, WIDs unique.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    sites: Vec<Site>,
}

impl Domain {
    /// Checks the manual's rules: 1 to [`MAX_SITES`] sites, unique WIDs, one HTTPS port for
    /// all, labels and versions within [`MAX_LABEL_BYTES`].
    pub fn new(sites: Vec<Site>) -> Result<Self, DomainError> {
        let first = sites.first().ok_or(DomainError::Empty)?;
        if sites.len() > MAX_SITES {
            return Err(DomainError::TooManySites {
                count: sites.len(),
                limit: MAX_SITES,
            });
        }
        let expected = first.port;
        let mut seen = HashSet::new();
        for site in &sites {
            if site.port != expected {
                return Err(DomainError::PortMismatch {
                    wid: site.wid.clone(),
                    port: site.port,
                    expected,
                });
            }
            if !seen.insert(&site.wid) {
                return Err(DomainError::DuplicateSite(site.wid.clone()));
            }
            for (field, text) in [("label", &site.label), ("software", &site.software)] {
                if text.len() > MAX_LABEL_BYTES {
                    return Err(DomainError::TextTooLong {
                        wid: site.wid.clone(),
                        field,
                        len: text.len(),
                        limit: MAX_LABEL_BYTES,
                    });
                }
            }
        }
        Ok(Self { sites })
    }

    /// The sites, in the order given.
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// The domain's HTTPS port.
    pub fn port(&self) -> u16 {
        self.sites.first().map_or(443, |s| s.port)
    }

    /// The site with this WID.
    pub fn site(&self, wid: &Wid) -> Option<&Site> {
        self.sites.iter().find(|s| &s.wid == wid)
    }

    fn others<'a>(&'a self, own: &'a Wid) -> impl Iterator<Item = &'a Site> {
        self.sites.iter().filter(move |s| &s.wid != own)
    }

    /// What the HTTPS server of site `own` asks of client certificates for mutual TLS:
    /// [`ClientAuth::Optional`] with the other sites' CA certificates (or their certificates'
    /// and pins' SPKI pins). Optional, so that browsers still see the status page; the node
    /// refuses batches from peers that did not authenticate (see [`NodeConfig::mtls`]).
    ///
    /// Every other site must be trusted by CA certificates, or every one by a certificate or
    /// pins: one client verifier takes one kind. Web PKI and "trust the server" sites cannot
    /// be authenticated as clients.
    ///
    /// [`NodeConfig::mtls`]: super::NodeConfig::mtls
    pub fn client_auth(&self, own: &Wid) -> Result<ClientAuth, DomainError> {
        let (mut cas, mut pins) = (Vec::new(), Vec::new());
        for site in self.others(own) {
            match &site.trust {
                TrustPolicy::CaCertificates(c) if !c.is_empty() => cas.extend(c.iter().cloned()),
                TrustPolicy::ServerCertificate(cert) => pins.push(cert.spki_pin()),
                TrustPolicy::SpkiPins(p) if !p.is_empty() => pins.extend(p.iter().copied()),
                other => {
                    return Err(DomainError::MtlsPolicy {
                        wid: site.wid.clone(),
                        policy: other.to_string(),
                    });
                }
            }
        }
        match (cas.is_empty(), pins.is_empty()) {
            (false, true) => Ok(ClientAuth::Optional(TrustPolicy::CaCertificates(cas))),
            (true, false) => Ok(ClientAuth::Optional(TrustPolicy::SpkiPins(pins))),
            (true, true) => Ok(ClientAuth::None),
            (false, false) => Err(DomainError::MtlsMixedPolicies),
        }
    }

    /// Which other site of `own`'s domain a client certificate chain (end entity first)
    /// belongs to, or `None` when it is no site's, or several sites' alike.
    ///
    /// This only *identifies*: call it with the peer certificates of a TLS session whose
    /// server configuration used [`client_auth`](Self::client_auth), which has already
    /// verified the chain and the handshake signature. A site trusted by CA certificates
    /// matches when the end entity's issuer is one of them; by a certificate, when the DER is
    /// the same; by pins, when the key's pin is one of them. When several sites match (a CA
    /// shared by sites), the one whose address is among the certificate's names wins.
    pub fn identify(&self, own: &Wid, chain: &[Certificate]) -> Option<Wid> {
        let leaf = chain.first()?;
        let pin: SpkiPin = leaf.spki_pin();
        let matches = |site: &&Site| match &site.trust {
            TrustPolicy::CaCertificates(cas) => cas
                .iter()
                .any(|ca| ca.details().subject == leaf.details().issuer),
            TrustPolicy::ServerCertificate(cert) => cert.der() == leaf.der(),
            TrustPolicy::SpkiPins(pins) => pins.contains(&pin),
            _ => false,
        };
        let candidates: Vec<&Site> = self.others(own).filter(matches).collect();
        let chosen: Vec<&&Site> = match candidates.len() {
            1 => candidates.iter().collect(),
            _ => candidates
                .iter()
                .filter(|s| {
                    let name = s.address.to_string();
                    leaf.details()
                        .subject_alt_names
                        .iter()
                        .filter_map(|n| n.split_once(':'))
                        .any(|(_, v)| v.eq_ignore_ascii_case(&name))
                })
                .collect(),
        };
        match chosen.as_slice() {
            [one] => Some(one.wid.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(wid: &str, addr: &str, port: u16) -> Site {
        Site::new(wid.parse().unwrap(), addr.parse().unwrap(), port)
    }

    #[test]
    fn a_domain_whose_sites_differ_in_port_is_refused() {
        let err = Domain::new(vec![
            site("1-1", "192.0.2.1", 443),
            site("2-2", "192.0.2.2", 443),
            site("3-3", "redy.local", 8443),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            DomainError::PortMismatch {
                wid: "3-3".parse().unwrap(),
                port: 8443,
                expected: 443
            }
        );
        assert!(err.to_string().contains("same port"));
        let ok = Domain::new(vec![
            site("1-1", "192.0.2.1", 9443),
            site("2-2", "::1", 9443),
        ]);
        assert_eq!(ok.unwrap().port(), 9443);
    }

    #[test]
    fn other_domain_rules() {
        assert_eq!(Domain::new(vec![]), Err(DomainError::Empty));
        assert_eq!(
            Domain::new(vec![
                site("1-1", "192.0.2.1", 1),
                site("1-1", "192.0.2.2", 1)
            ]),
            Err(DomainError::DuplicateSite("1-1".parse().unwrap()))
        );
        let long = site("1-1", "192.0.2.1", 1).label("x".repeat(MAX_LABEL_BYTES + 1));
        assert!(matches!(
            Domain::new(vec![long]),
            Err(DomainError::TextTooLong { field: "label", .. })
        ));
        let many = (0..=MAX_SITES)
            .map(|i| site(&format!("{i}-0"), "192.0.2.1", 1))
            .collect();
        assert!(matches!(
            Domain::new(many),
            Err(DomainError::TooManySites { .. })
        ));
        assert_eq!(site("1-1", "::1", 443).authority(), "[::1]:443");
        assert_eq!(site("1-1", "redy.local", 443).authority(), "redy.local:443");
    }

    #[test]
    fn client_auth_needs_identifiable_sites() {
        let own: Wid = "1-1".parse().unwrap();
        let pin = SpkiPin::from_sha256([1; 32]);
        let d = Domain::new(vec![
            site("1-1", "192.0.2.1", 1),
            site("2-2", "192.0.2.2", 1).trust(TrustPolicy::SpkiPins(vec![pin])),
        ])
        .unwrap();
        assert_eq!(
            d.client_auth(&own),
            Ok(ClientAuth::Optional(TrustPolicy::SpkiPins(vec![pin])))
        );
        let d = Domain::new(vec![
            site("1-1", "192.0.2.1", 1),
            site("2-2", "192.0.2.2", 1).trust(TrustPolicy::DangerousTrustAnyServer),
        ])
        .unwrap();
        assert!(matches!(
            d.client_auth(&own),
            Err(DomainError::MtlsPolicy { .. })
        ));
    }
}
