//! The receiving side: which batches of each origin were applied, and the latest values.

use std::collections::HashMap;

use redy_certs::Wid;
use serde::{Deserialize, Serialize};

use super::MAX_STORED_VALUES;
use super::batch::{Ack, Batch};
use super::value::{NamedValue, Quality, Timestamp, Value};

/// What a receiver holds for one origin: its epoch and the highest sequence applied in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginState {
    /// The origin site.
    #[serde(with = "super::wid_serde")]
    pub origin: Wid,
    /// Its current epoch.
    pub epoch: u64,
    /// The highest sequence applied in that epoch.
    pub applied: u64,
}

/// The verdict on a received batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Applied. `expected` is the sequence that was due when it is not this one (a gap);
    /// `new_epoch` holds the previous epoch (`None`: first batch seen) when the epoch changed.
    Applied {
        expected: Option<u64>,
        new_epoch: Option<Option<u64>>,
    },
    /// Already applied: acknowledged and ignored.
    Duplicate,
    /// From an epoch older than the one held: refused.
    Stale { current: u64 },
}

/// The latest value of a name from one origin.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredValue {
    /// The origin site.
    #[serde(with = "super::wid_serde")]
    pub origin: Wid,
    /// The value's name.
    pub name: String,
    /// The value.
    pub value: Value,
    /// Its quality.
    pub quality: Quality,
    /// Its timestamp.
    pub ts: Timestamp,
    /// The sequence of the batch that brought it.
    pub seq: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Receiver {
    origins: HashMap<Wid, OriginState>,
    values: HashMap<(Wid, String), StoredValue>,
    /// Values not stored because the table was full (they were still delivered as events).
    pub(crate) skipped: u64,
}

impl Receiver {
    pub(crate) fn from_states(states: Vec<OriginState>) -> Self {
        let origins = states.into_iter().map(|s| (s.origin.clone(), s)).collect();
        Self {
            origins,
            ..Self::default()
        }
    }

    /// Judges `batch` and, unless it is a duplicate or stale, records it as applied.
    pub(crate) fn apply(&mut self, batch: &Batch) -> (Verdict, Ack) {
        let held = self.origins.get(&batch.origin);
        let verdict = match held {
            Some(s) if batch.epoch < s.epoch => Verdict::Stale { current: s.epoch },
            Some(s) if batch.epoch == s.epoch && batch.seq <= s.applied => Verdict::Duplicate,
            Some(s) if batch.epoch == s.epoch => Verdict::Applied {
                expected: (batch.seq != s.applied + 1).then_some(s.applied + 1),
                new_epoch: None,
            },
            _ => Verdict::Applied {
                expected: (batch.seq != 1).then_some(1),
                new_epoch: Some(held.map(|s| s.epoch)),
            },
        };
        if let Verdict::Applied { .. } = verdict {
            self.origins.insert(
                batch.origin.clone(),
                OriginState {
                    origin: batch.origin.clone(),
                    epoch: batch.epoch,
                    applied: batch.seq,
                },
            );
            for v in &batch.values {
                self.store(&batch.origin, batch.seq, v);
            }
        }
        let ack = match self.origins.get(&batch.origin) {
            Some(s) => Ack {
                epoch: s.epoch,
                applied: s.applied,
            },
            None => Ack {
                epoch: batch.epoch,
                applied: 0,
            },
        };
        (verdict, ack)
    }

    fn store(&mut self, origin: &Wid, seq: u64, v: &NamedValue) {
        let key = (origin.clone(), v.name.clone());
        if self.values.len() >= MAX_STORED_VALUES && !self.values.contains_key(&key) {
            self.skipped += 1;
            return;
        }
        self.values.insert(
            key,
            StoredValue {
                origin: origin.clone(),
                name: v.name.clone(),
                value: v.value.clone(),
                quality: v.quality,
                ts: v.timestamp,
                seq,
            },
        );
    }

    /// Origin states, sorted by WID.
    pub(crate) fn states(&self) -> Vec<OriginState> {
        let mut states: Vec<OriginState> = self.origins.values().cloned().collect();
        states.sort_by_key(|s| s.origin.to_string());
        states
    }

    /// The latest values, sorted by origin then name.
    pub(crate) fn values(&self) -> Vec<&StoredValue> {
        let mut values: Vec<&StoredValue> = self.values.values().collect();
        values
            .sort_by(|a, b| (a.origin.to_string(), &a.name).cmp(&(b.origin.to_string(), &b.name)));
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(epoch: u64, seq: u64) -> Batch {
        Batch {
            origin: "1-1".parse().unwrap(),
            epoch,
            seq,
            values: vec![NamedValue::new("a", Value::Int(seq as i64), Timestamp(0))],
        }
    }

    #[test]
    fn applies_once_reports_gaps_and_refuses_old_epochs() {
        let mut r = Receiver::default();
        let applied = |expected, new_epoch| Verdict::Applied {
            expected,
            new_epoch,
        };
        let ack = |epoch, applied| Ack { epoch, applied };
        assert_eq!(
            r.apply(&batch(5, 1)),
            (applied(None, Some(None)), ack(5, 1))
        );
        assert_eq!(r.apply(&batch(5, 2)), (applied(None, None), ack(5, 2)));
        assert_eq!(r.apply(&batch(5, 2)), (Verdict::Duplicate, ack(5, 2)));
        assert_eq!(r.apply(&batch(5, 1)), (Verdict::Duplicate, ack(5, 2)));
        assert_eq!(r.apply(&batch(5, 5)), (applied(Some(3), None), ack(5, 5)));
        assert_eq!(
            r.apply(&batch(4, 9)),
            (Verdict::Stale { current: 5 }, ack(5, 5))
        );
        assert_eq!(
            r.apply(&batch(6, 2)),
            (applied(Some(1), Some(Some(5))), ack(6, 2))
        );
        assert_eq!(r.values()[0].value, Value::Int(2));
        let restored = Receiver::from_states(r.states());
        assert_eq!(restored.states(), r.states());
    }
}
