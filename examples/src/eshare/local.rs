//! A throw-away domain on loopback addresses, for the demo and the tests: each site gets a
//! generated device CA and a server certificate for its address, and every site trusts the
//! others by their CAs (so mutual TLS works too).

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::SystemTime;

use redy_certs::{DeviceCa, Identity, TrustPolicy, Wid};
use redy_eshare::share::{Domain, NodeConfig, Site};

/// A generated domain: its sites' configurations and identities, ready for
/// [`NodeOptions::new`](super::NodeOptions::new).
#[derive(Debug)]
pub struct LocalDomain {
    /// The domain.
    pub domain: Domain,
    /// Per site, in the domain's order: its WID, listen address and server identity.
    pub sites: Vec<(Wid, SocketAddr, Identity)>,
}

impl LocalDomain {
    /// Sites `(WID, IP)` on one port; every site trusts the others' CAs.
    pub fn generate(
        sites: &[(&str, IpAddr)],
        port: u16,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let now = SystemTime::now();
        let mut generated = Vec::new();
        let mut domain_sites = Vec::new();
        for (wid, ip) in sites {
            let wid: Wid = wid.parse()?;
            let ca = DeviceCa::generate(&wid, now)?;
            let identity = ca.issue_server_certificate(&[ip.to_string().parse()?], now)?;
            let trust = TrustPolicy::CaCertificates(vec![ca.certificate().clone()]);
            domain_sites.push(
                Site::new(wid.clone(), ip.to_string().parse()?, port)
                    .label(format!("site {}", generated.len() + 1))
                    .software(concat!("redy ", env!("CARGO_PKG_VERSION")))
                    .trust(trust),
            );
            generated.push((wid, SocketAddr::new(*ip, port), identity));
        }
        Ok(Self {
            domain: Domain::new(domain_sites)?,
            sites: generated,
        })
    }

    /// The options of site `i`, with `epoch` and mutual TLS as asked.
    pub fn options(&self, i: usize, epoch: u64, mtls: bool) -> Option<super::NodeOptions> {
        let (wid, addr, identity) = self.sites.get(i)?;
        let mut config = NodeConfig::new(wid.clone(), self.domain.clone(), epoch);
        config.mtls = mtls;
        Some(super::NodeOptions::new(config, identity.clone(), *addr))
    }
}

/// A port free on every one of `ips` right now (another process may still take it before it is
/// bound: retry on a bind error).
pub fn free_port(ips: &[IpAddr]) -> std::io::Result<u16> {
    for _ in 0..20 {
        let port = TcpListener::bind((ips.first().copied().unwrap_or([127, 0, 0, 1].into()), 0))?
            .local_addr()?
            .port();
        if ips.iter().all(|ip| TcpListener::bind((*ip, port)).is_ok()) {
            return Ok(port);
        }
    }
    Err(std::io::Error::other("no port free on every address"))
}
