//! A batch: the values of one publication, from one origin, numbered in the origin's epoch.
//! Its JSON encoding and the receiver's acknowledgement.

use std::collections::HashSet;

use redy_certs::Wid;
use serde::{Deserialize, Serialize};

use super::error::BatchError;
use super::value::NamedValue;
use super::{MAX_BODY_BYTES, MAX_VALUES_PER_BATCH, VERSION};

/// One publication of a site, as it travels to every other site of the domain.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The publishing site.
    pub origin: Wid,
    /// The publisher's epoch: a new sequence space each time it starts without its state.
    pub epoch: u64,
    /// The sequence number in the epoch, from 1, one per publication.
    pub seq: u64,
    /// The values, 1 to [`MAX_VALUES_PER_BATCH`], names unique.
    pub values: Vec<NamedValue>,
}

#[derive(Serialize)]
struct WireOut<'a> {
    v: u64,
    origin: String,
    epoch: u64,
    seq: u64,
    values: &'a [NamedValue],
}

#[derive(Deserialize)]
struct WireIn {
    v: u64,
    origin: String,
    epoch: u64,
    seq: u64,
    values: Vec<NamedValue>,
}

impl Batch {
    /// Checks the v1 rules: sequence from 1, 1 to [`MAX_VALUES_PER_BATCH`] values with valid,
    /// unique names and sendable values.
    pub fn check(&self) -> Result<(), BatchError> {
        check_values(&self.values)?;
        match self.seq {
            0 => Err(BatchError::ZeroSequence),
            _ => Ok(()),
        }
    }

    /// The JSON body (`application/json`). Fails when the batch is invalid or its encoding
    /// exceeds [`MAX_BODY_BYTES`].
    pub fn encode(&self) -> Result<Vec<u8>, BatchError> {
        self.check()?;
        let wire = WireOut {
            v: VERSION,
            origin: self.origin.to_string(),
            epoch: self.epoch,
            seq: self.seq,
            values: &self.values,
        };
        let body = serde_json::to_vec(&wire).map_err(|e| BatchError::Json(e.to_string()))?;
        match body.len() {
            size if size > MAX_BODY_BYTES => Err(BatchError::TooLarge {
                size,
                limit: MAX_BODY_BYTES,
            }),
            _ => Ok(body),
        }
    }

    /// Parses and checks a JSON body. Bodies above [`MAX_BODY_BYTES`] are refused before
    /// parsing. Unknown fields are ignored (later v1 revisions may add some).
    pub fn decode(body: &[u8]) -> Result<Self, BatchError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(BatchError::TooLarge {
                size: body.len(),
                limit: MAX_BODY_BYTES,
            });
        }
        let wire: WireIn =
            serde_json::from_slice(body).map_err(|e| BatchError::Json(e.to_string()))?;
        if wire.v != VERSION {
            return Err(BatchError::Version(wire.v));
        }
        let origin = wire
            .origin
            .parse()
            .map_err(|e: redy_certs::Error| BatchError::Json(e.to_string()))?;
        let batch = Self {
            origin,
            epoch: wire.epoch,
            seq: wire.seq,
            values: wire.values,
        };
        batch.check()?;
        Ok(batch)
    }
}

/// Checks a set of values as one batch.
pub(crate) fn check_values(values: &[NamedValue]) -> Result<(), BatchError> {
    if values.is_empty() {
        return Err(BatchError::Empty);
    }
    if values.len() > MAX_VALUES_PER_BATCH {
        return Err(BatchError::TooManyValues {
            count: values.len(),
            limit: MAX_VALUES_PER_BATCH,
        });
    }
    let mut names = HashSet::with_capacity(values.len());
    for v in values {
        v.check()?;
        if !names.insert(v.name.as_str()) {
            return Err(BatchError::DuplicateName(v.name.clone()));
        }
    }
    Ok(())
}

/// The receiver's answer to a batch (`200`): its epoch for the origin and the highest
/// sequence applied in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The origin's epoch the receiver holds.
    pub epoch: u64,
    /// The highest sequence applied in that epoch.
    pub applied: u64,
}

impl Ack {
    /// Whether this answer confirms the batch `(epoch, seq)`.
    pub fn confirms(&self, epoch: u64, seq: u64) -> bool {
        self.epoch == epoch && self.applied >= seq
    }
}

/// The JSON body of every error answer: a stable code and a human message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code such as `invalid_batch` or `stale_epoch`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// With `stale_epoch`: the receiver's newer epoch for the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::super::value::{Quality, Timestamp, Value};
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Value::Float),
            ".{0,40}".prop_map(Value::Text),
        ]
    }

    fn named() -> impl Strategy<Value = NamedValue> {
        (
            "[^\\p{Cc}]{1,16}",
            value(),
            prop_oneof![
                Just(Quality::Good),
                Just(Quality::Uncertain),
                Just(Quality::Bad)
            ],
            any::<u64>(),
        )
            .prop_map(|(name, value, quality, ts)| NamedValue {
                name,
                value,
                quality,
                timestamp: Timestamp(ts),
            })
    }

    fn batch() -> impl Strategy<Value = Batch> {
        (
            "[a-zA-Z0-9]{1,5}(-[a-zA-Z0-9]{1,5}){0,3}",
            any::<u64>(),
            1..u64::MAX,
            proptest::collection::vec(named(), 1..20),
        )
            .prop_map(|(origin, epoch, seq, mut values)| {
                let mut seen = HashSet::new();
                values.retain(|v| seen.insert(v.name.clone()));
                Batch {
                    origin: origin.parse().unwrap(),
                    epoch,
                    seq,
                    values,
                }
            })
    }

    proptest! {
        #[test]
        fn batches_round_trip(b in batch()) {
            let body = b.encode().unwrap();
            prop_assert_eq!(Batch::decode(&body).unwrap(), b);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Batch::decode(&bytes);
        }
    }

    fn sample() -> Batch {
        Batch {
            origin: "11111-22222".parse().unwrap(),
            epoch: 7,
            seq: 1,
            values: vec![NamedValue::new("t", Value::Float(21.5), Timestamp(5))],
        }
    }

    #[test]
    fn wire_form_is_the_documented_one() {
        let body = sample().encode().unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"v":1,"origin":"11111-22222","epoch":7,"seq":1,"values":[{"name":"t","value":{"float":21.5},"quality":"good","ts":5}]}"#
        );
    }

    #[test]
    fn invalid_batches_are_typed_errors() {
        let too_big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            Batch::decode(&too_big),
            Err(BatchError::TooLarge {
                size: MAX_BODY_BYTES + 1,
                limit: MAX_BODY_BYTES
            })
        );
        let v2 = r#"{"v":2,"origin":"1-2","epoch":1,"seq":1,"values":[]}"#;
        assert_eq!(Batch::decode(v2.as_bytes()), Err(BatchError::Version(2)));
        let empty = r#"{"v":1,"origin":"1-2","epoch":1,"seq":1,"values":[]}"#;
        assert_eq!(Batch::decode(empty.as_bytes()), Err(BatchError::Empty));
        let bad_wid = r#"{"v":1,"origin":"1 2","epoch":1,"seq":1,"values":[]}"#;
        assert!(matches!(
            Batch::decode(bad_wid.as_bytes()),
            Err(BatchError::Json(_))
        ));
        let mut dup = sample();
        dup.values.push(dup.values[0].clone());
        assert_eq!(dup.encode(), Err(BatchError::DuplicateName("t".into())));
        let mut zero = sample();
        zero.seq = 0;
        assert_eq!(zero.encode(), Err(BatchError::ZeroSequence));
        let mut many = sample();
        many.values = (0..=MAX_VALUES_PER_BATCH)
            .map(|i| NamedValue::new(format!("v{i}"), Value::Bool(true), Timestamp(0)))
            .collect();
        assert!(matches!(
            many.encode(),
            Err(BatchError::TooManyValues { .. })
        ));
        let huge = r#"{"v":1,"origin":"1-2","epoch":1,"seq":1,"values":[{"name":"a","value":{"float":1e999},"ts":0}]}"#;
        assert!(Batch::decode(huge.as_bytes()).is_err());
    }

    #[test]
    fn floats_round_trip_exactly() {
        // serde_json's default parser is off by one ulp here; `float_roundtrip` fixes it.
        for x in [
            -1.753_528_102_400_411_4e217,
            0.1,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let mut b = sample();
            b.values[0].value = Value::Float(x);
            let back = Batch::decode(&b.encode().unwrap()).unwrap();
            assert_eq!(back.values[0].value, Value::Float(x));
        }
    }

    #[test]
    fn acks_confirm_only_their_epoch() {
        let ack = Ack {
            epoch: 3,
            applied: 10,
        };
        assert!(ack.confirms(3, 10) && ack.confirms(3, 1));
        assert!(!ack.confirms(3, 11) && !ack.confirms(2, 1));
    }
}
