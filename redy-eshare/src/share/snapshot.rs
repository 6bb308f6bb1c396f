//! What a node keeps across restarts: receiver state, outboxes and counters.

use std::collections::HashMap;
use std::sync::Arc;

use redy_certs::Wid;
use serde::{Deserialize, Serialize};

use super::batch::Batch;
use super::error::Error;
use super::exchange::Now;
use super::node::{Node, NodeConfig};
use super::outbox::{Queued, SiteCounters};
use super::receiver::{OriginState, Receiver};
use super::value::NamedValue;
use super::{MAX_SITES, VERSION};

/// A node's state to persist (as JSON) and restore with [`Node::restore`].
///
/// Exactly-once needs the snapshot written after every call that changed it (a publish, an
/// applied batch — before its answer leaves — and a delivery outcome). An older snapshot is
/// still safe but weaker: batches published after it are lost for the sites that had not
/// received them, and batches applied after it may be applied a second time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version, 1.
    pub v: u64,
    /// The node's WID.
    #[serde(with = "super::wid_serde")]
    pub wid: Wid,
    /// Receiver state: per origin, its epoch and the highest sequence applied.
    pub origins: Vec<OriginState>,
    /// Per site: counters and the batches waiting, in order, as `[epoch, seq]`.
    pub sites: Vec<SiteSnapshot>,
    /// Every batch waiting for some site, once.
    pub batches: Vec<SnapshotBatch>,
}

/// A site's part of a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteSnapshot {
    /// The site.
    #[serde(with = "super::wid_serde")]
    pub wid: Wid,
    /// Its counters.
    pub counters: SiteCounters,
    /// The batches waiting for it, in order, as `(epoch, seq)`.
    pub pending: Vec<(u64, u64)>,
}

/// A waiting batch of this node in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotBatch {
    /// Its epoch.
    pub epoch: u64,
    /// Its sequence.
    pub seq: u64,
    /// Its values.
    pub values: Vec<NamedValue>,
}

impl Snapshot {
    /// The JSON text.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses the JSON text.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(json).map_err(|e| Error::Snapshot(e.to_string()))
    }
}

impl Node {
    /// The state to persist; see [`Snapshot`] for when.
    pub fn snapshot(&self) -> Snapshot {
        let mut batches = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let sites = self
            .config
            .domain
            .sites()
            .iter()
            .zip(&self.links)
            .map(|(site, link)| {
                let pending = link
                    .queue
                    .iter()
                    .map(|q| {
                        let key = (q.batch.epoch, q.batch.seq);
                        if seen.insert(key) {
                            batches.push(SnapshotBatch {
                                epoch: key.0,
                                seq: key.1,
                                values: q.batch.values.clone(),
                            });
                        }
                        key
                    })
                    .collect();
                SiteSnapshot {
                    wid: site.wid.clone(),
                    counters: link.counters.clone(),
                    pending,
                }
            })
            .collect();
        Snapshot {
            v: VERSION,
            wid: self.config.wid.clone(),
            origins: self.receiver.states(),
            sites,
            batches,
        }
    }

    /// A node restarted from a snapshot: it applies nothing twice that the snapshot knew
    /// applied, and delivers the batches that were waiting (in their own epoch, before any new
    /// one). New publications start sequence 1 of `config.epoch`, which must be greater than
    /// every epoch in the snapshot. Fails when the snapshot does not fit the configuration
    /// (another WID, a site no longer in the domain, an outbox above the limit, an invalid
    /// batch).
    pub fn restore(config: NodeConfig, snapshot: Snapshot, now: Now) -> Result<Self, Error> {
        let bad = |msg: String| Error::Snapshot(msg);
        if snapshot.v != VERSION {
            return Err(bad(format!("unsupported snapshot version {}", snapshot.v)));
        }
        if snapshot.wid != config.wid {
            return Err(bad(format!("made by {}, not {}", snapshot.wid, config.wid)));
        }
        if snapshot.origins.len() > MAX_SITES {
            return Err(bad(format!("{} origins", snapshot.origins.len())));
        }
        let epoch = config.epoch;
        let mut node = Node::new(config, now)?;
        let mut batches = HashMap::new();
        for b in snapshot.batches {
            if b.epoch >= epoch {
                return Err(bad(format!(
                    "it holds epoch {} but the new epoch is {epoch}: epochs must increase",
                    b.epoch
                )));
            }
            let batch = Batch {
                origin: node.config.wid.clone(),
                epoch: b.epoch,
                seq: b.seq,
                values: b.values,
            };
            let body = batch.encode().map_err(|e| bad(e.to_string()))?;
            batches.insert((b.epoch, b.seq), Arc::new(Queued { batch, body }));
        }
        for site in snapshot.sites {
            let i = node
                .site_index(&site.wid)
                .ok_or_else(|| bad(format!("site {} is no longer in the domain", site.wid)))?;
            if site.pending.len() > node.config.outbox_limit {
                return Err(bad(format!(
                    "{} batches for {}",
                    site.pending.len(),
                    site.wid
                )));
            }
            if site.wid == node.config.wid && !site.pending.is_empty() {
                return Err(bad("batches for this node itself".into()));
            }
            let link = &mut node.links[i];
            link.counters = site.counters;
            for key in site.pending {
                let queued = batches
                    .get(&key)
                    .ok_or_else(|| bad(format!("batch {key:?} is missing")))?;
                link.queue.push_back(queued.clone());
            }
        }
        node.receiver = Receiver::from_states(snapshot.origins);
        Ok(node)
    }
}
