//! The events a node reports.

use std::time::Instant;

use redy_certs::Wid;

use super::value::NamedValue;

/// What the node tells its caller.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A batch from another site was applied: its values are new.
    BatchApplied {
        /// The publishing site.
        origin: Wid,
        /// Its epoch.
        epoch: u64,
        /// The batch's sequence.
        seq: u64,
        /// The values.
        values: Vec<NamedValue>,
    },
    /// A batch already applied came again (a retry whose answer was lost): ignored.
    Duplicate {
        /// The publishing site.
        origin: Wid,
        /// Its epoch.
        epoch: u64,
        /// The repeated sequence.
        seq: u64,
        /// The highest sequence applied.
        applied: u64,
    },
    /// Batches are missing before this one (lost by a publisher restarted without its state,
    /// or applied by this node before it restarted without its state). It was applied.
    Gap {
        /// The publishing site.
        origin: Wid,
        /// Its epoch.
        epoch: u64,
        /// The sequence that was due.
        expected: u64,
        /// The sequence that came.
        got: u64,
    },
    /// The first batch of a new epoch of a site (it restarted), or the first batch seen.
    NewEpoch {
        /// The publishing site.
        origin: Wid,
        /// The epoch held before, if any.
        previous: Option<u64>,
        /// The new epoch.
        epoch: u64,
    },
    /// A batch of an epoch older than the one held was refused (`409`).
    StaleRefused {
        /// The publishing site.
        origin: Wid,
        /// The batch's epoch.
        epoch: u64,
        /// The epoch held.
        current: u64,
    },
    /// A site confirmed a batch.
    DeliverySucceeded {
        /// The site.
        site: Wid,
        /// The batch's sequence.
        seq: u64,
    },
    /// A delivery failed; the batch stays first in the site's outbox until `retry_at`.
    DeliveryFailed {
        /// The site.
        site: Wid,
        /// The batch's sequence.
        seq: u64,
        /// Why.
        error: String,
        /// When it is retried.
        retry_at: Instant,
    },
    /// A site holds a newer epoch of this node than the batch's (`409 stale_epoch`): the
    /// batch can never be applied there and left the outbox. It means this node started
    /// with an epoch that did not increase.
    BatchDropped {
        /// The site.
        site: Wid,
        /// The batch's epoch.
        epoch: u64,
        /// The batch's sequence.
        seq: u64,
        /// The site's answer.
        reason: String,
    },
}
