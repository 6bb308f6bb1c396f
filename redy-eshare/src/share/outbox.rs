//! One site's outbox: batches waiting for it, one delivery in flight, retries with
//! exponential backoff, and the diffusion counters.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::MAX_ERROR_BYTES;
use super::batch::Batch;
use super::exchange::DeliveryId;
use super::value::Timestamp;

/// Retry delays after failed deliveries: `initial`, doubled after each further failure, at
/// most `max`. No jitter: the node has no randomness; sites fail at different times anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure (default 1 s).
    pub initial: Duration,
    /// The cap (default 60 s).
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures (1 or more).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(32);
        self.initial
            .saturating_mul(1u32 << doublings.min(31))
            .min(self.max)
    }
}

/// The outcome of the last diffusion towards a site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastDiffusion {
    /// When it ended (wall clock given by the caller).
    pub at: Timestamp,
    /// Why it failed (at most [`MAX_ERROR_BYTES`] bytes), `None` when it succeeded.
    pub error: Option<String>,
}

/// A site's diffusion counters, as the manual's table shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCounters {
    /// Deliveries the site confirmed.
    pub successes: u64,
    /// Deliveries that failed (each attempt counts, retries included).
    pub failures: u64,
    /// The last diffusion, if any.
    pub last: Option<LastDiffusion>,
}

/// A batch waiting in outboxes; one allocation shared by every site it goes to.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) batch: Batch,
    pub(crate) body: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct Link {
    pub(crate) queue: VecDeque<Arc<Queued>>,
    in_flight: Option<(DeliveryId, Instant)>,
    failures_in_row: u32,
    retry_at: Option<Instant>,
    pub(crate) counters: SiteCounters,
}

impl Link {
    /// The head batch, when it may be sent at `now`.
    pub(crate) fn ready(&self, now: Instant) -> Option<&Arc<Queued>> {
        match (self.in_flight, self.retry_at) {
            (Some(_), _) => None,
            (None, Some(at)) if at > now => None,
            _ => self.queue.front(),
        }
    }

    pub(crate) fn start(&mut self, id: DeliveryId, deadline: Instant) {
        self.in_flight = Some((id, deadline));
    }

    pub(crate) fn in_flight(&self) -> Option<DeliveryId> {
        self.in_flight.map(|(id, _)| id)
    }

    /// The head, confirmed by the site: it leaves the outbox.
    pub(crate) fn succeed(&mut self, wall: Timestamp) -> Option<Arc<Queued>> {
        self.in_flight = None;
        self.failures_in_row = 0;
        self.retry_at = None;
        self.counters.successes += 1;
        self.counters.last = Some(LastDiffusion {
            at: wall,
            error: None,
        });
        self.queue.pop_front()
    }

    /// The head can never be delivered: it leaves the outbox (its failure already counted).
    pub(crate) fn drop_head(&mut self) -> Option<Arc<Queued>> {
        self.in_flight = None;
        self.failures_in_row = 0;
        self.retry_at = None;
        self.queue.pop_front()
    }

    /// The head failed: it stays, and is retried at the returned instant.
    pub(crate) fn fail(
        &mut self,
        error: &str,
        now: Instant,
        wall: Timestamp,
        backoff: &Backoff,
    ) -> Instant {
        self.in_flight = None;
        self.failures_in_row = self.failures_in_row.saturating_add(1);
        let at = now + backoff.delay(self.failures_in_row);
        self.retry_at = Some(at);
        self.counters.failures += 1;
        self.counters.last = Some(LastDiffusion {
            at: wall,
            error: Some(truncate(error, MAX_ERROR_BYTES)),
        });
        at
    }

    /// The in-flight delivery, if its deadline has passed.
    pub(crate) fn expired(&self, now: Instant) -> Option<DeliveryId> {
        self.in_flight
            .filter(|(_, deadline)| *deadline <= now)
            .map(|(id, _)| id)
    }

    /// When something is due: the in-flight deadline, or the retry time of a waiting head.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.in_flight {
            Some((_, deadline)) => Some(deadline),
            None if self.queue.is_empty() => None,
            None => self.retry_at,
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, with `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff::default();
        let secs: Vec<u64> = [1, 2, 3, 4, 6, 7, 8, 100, u32::MAX]
            .map(|n| b.delay(n).as_secs())
            .to_vec();
        assert_eq!(secs, [1, 2, 4, 8, 32, 60, 60, 60, 60]);
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate("abc", 3), "abc");
        let cut = truncate("ééééé", 6);
        assert!(cut.len() <= 6 && cut.ends_with('…'), "{cut}");
        assert_eq!(cut, "é…");
    }

    #[test]
    fn a_failed_head_waits_for_its_retry_time() {
        let t0 = Instant::now();
        let mut link = Link::default();
        link.queue.push_back(Arc::new(Queued {
            batch: Batch {
                origin: "1-1".parse().unwrap(),
                epoch: 1,
                seq: 1,
                values: vec![],
            },
            body: vec![],
        }));
        assert!(link.ready(t0).is_some());
        link.start(DeliveryId(1), t0 + Duration::from_secs(30));
        assert!(link.ready(t0).is_none());
        assert_eq!(link.deadline(), Some(t0 + Duration::from_secs(30)));
        let at = link.fail("refused", t0, Timestamp(9), &Backoff::default());
        assert_eq!(at, t0 + Duration::from_secs(1));
        assert!(link.ready(t0).is_none());
        assert!(link.ready(at).is_some());
        assert_eq!(link.counters.failures, 1);
        link.start(DeliveryId(2), at);
        assert!(link.succeed(Timestamp(10)).is_some());
        assert_eq!(link.counters.successes, 1);
        assert_eq!(link.deadline(), None);
    }
}
