//! An eShare site served in this process (`redy_examples::eshare` on a tokio runtime of its
//! own) for the curl and browser tests and the benchmark: site A on 127.0.0.1 of a domain whose
//! site B, on 127.0.0.2, is not running, with the files clients need.

use std::error::Error;
use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use redy_certs::{SpkiPin, TrustPolicy};
use redy_examples::eshare::{LocalDomain, RunningNode, free_port};

/// Site A's WID.
pub const A: &str = "11111-22222";
/// Site B's WID.
pub const B: &str = "33333-44444";

/// Site A, serving until dropped.
pub struct EshareSite {
    /// The node.
    pub node: RunningNode,
    /// Its HTTPS address.
    pub addr: SocketAddr,
    /// Its plain-HTTP redirect listener.
    pub redirect: SocketAddr,
    /// A's CA (PEM), for `--cacert`.
    pub ca: PathBuf,
    /// The SPKI pin of A's server key.
    pub pin: SpkiPin,
    /// B's certificate chain and key (PEM), to act as site B under mutual TLS.
    pub b_pem: PathBuf,
    // Runs the node's tasks; dropped after the node.
    _runtime: tokio::runtime::Runtime,
}

impl EshareSite {
    /// Starts site A (requiring mutual TLS for batches with `mtls`); files go to `dir`.
    pub fn start(dir: &Path, mtls: bool) -> Result<Self, Box<dyn Error + Send + Sync>> {
        let ips: Vec<IpAddr> = vec![[127, 0, 0, 1].into(), [127, 0, 0, 2].into()];
        let port = free_port(&ips)?;
        let local = LocalDomain::generate(&[(A, ips[0]), (B, ips[1])], port)?;
        let mut options = local.options(0, 1, mtls).ok_or("no site A")?;
        options.redirect_from = Some(SocketAddr::new(ips[0], 0));
        let pin = options.identity.certificate().spki_pin();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        // Events are not looked at: the receiver is dropped.
        let (node, _) = runtime.block_on(RunningNode::start(options))?;
        let ca = dir.join(format!("REDY-{A}-CA.crt"));
        match &local.domain.sites()[0].trust {
            TrustPolicy::CaCertificates(cas) if !cas.is_empty() => fs::write(&ca, cas[0].to_pem())?,
            other => return Err(format!("site A trusted by {other}").into()),
        }
        let b_pem = dir.join("ServerREDY-B.pem");
        fs::write(&b_pem, local.sites[1].2.to_pem())?;
        Ok(Self {
            addr: node.local_addr(),
            redirect: node.redirect_addr().ok_or("no redirect listener")?,
            node,
            ca,
            pin,
            b_pem,
            _runtime: runtime,
        })
    }
}
