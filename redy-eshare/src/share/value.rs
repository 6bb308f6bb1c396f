//! Values: what a site publishes, with its quality and timestamp.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::error::BatchError;
use super::{MAX_NAME_BYTES, MAX_TEXT_BYTES};

/// A value. On the wire it is a one-key object naming its type: `{"bool": true}`,
/// `{"int": -7}`, `{"float": 21.5}`, `{"text": "ok"}`, so an integer never turns into a float.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A finite 64-bit float (NaN and infinities are refused: JSON cannot carry them).
    Float(f64),
    /// UTF-8 text of at most [`MAX_TEXT_BYTES`] bytes.
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => b.fmt(f),
            Self::Int(i) => i.fmt(f),
            Self::Float(x) => x.fmt(f),
            Self::Text(t) => t.fmt(f),
        }
    }
}

/// How far a value can be trusted, as industrial protocols usually say it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Measured or computed normally. The default.
    #[default]
    Good,
    /// Usable with care (stale, out of range, substituted...).
    Uncertain,
    /// Not usable (sensor fault, no communication...).
    Bad,
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Good => "good",
            Self::Uncertain => "uncertain",
            Self::Bad => "bad",
        })
    }
}

/// A wall-clock time in milliseconds since the Unix epoch (UTC), given by the caller.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// `at` in milliseconds since the Unix epoch; times before 1970 become 0, times past
    /// year 584 million saturate.
    pub fn from_system(at: SystemTime) -> Self {
        let ms = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Self(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system(self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(self.0)
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    /// `YYYY-MM-DD hh:mm:ss UTC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1000;
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// A named value with its quality and timestamp: one entry of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedValue {
    /// The name, 1 to [`MAX_NAME_BYTES`] bytes of UTF-8 without control characters.
    pub name: String,
    /// The value.
    pub value: Value,
    /// Its quality (default `good` when absent on the wire).
    #[serde(default)]
    pub quality: Quality,
    /// When it was measured (`ts`, milliseconds since the Unix epoch).
    #[serde(rename = "ts")]
    pub timestamp: Timestamp,
}

impl NamedValue {
    /// A value of quality `good`.
    pub fn new(name: impl Into<String>, value: Value, timestamp: Timestamp) -> Self {
        Self {
            name: name.into(),
            value,
            quality: Quality::Good,
            timestamp,
        }
    }

    /// The same value with another quality.
    pub fn with_quality(mut self, quality: Quality) -> Self {
        self.quality = quality;
        self
    }

    /// Checks the name and value against the v1 limits.
    pub fn check(&self) -> Result<(), BatchError> {
        let name = &self.name;
        if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
            return Err(BatchError::InvalidName(name.clone()));
        }
        match &self.value {
            Value::Float(x) if !x.is_finite() => Err(BatchError::NonFinite {
                name: name.clone(),
                value: x.to_string(),
            }),
            Value::Text(t) if t.len() > MAX_TEXT_BYTES => Err(BatchError::TextTooLong {
                name: name.clone(),
                len: t.len(),
                limit: MAX_TEXT_BYTES,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nv(name: &str, value: Value) -> NamedValue {
        NamedValue::new(name, value, Timestamp(0))
    }

    #[test]
    fn limits_are_checked() {
        assert!(nv("t", Value::Float(1.5)).check().is_ok());
        assert!(matches!(
            nv("t", Value::Float(f64::NAN)).check(),
            Err(BatchError::NonFinite { .. })
        ));
        assert!(matches!(
            nv("t", Value::Float(f64::NEG_INFINITY)).check(),
            Err(BatchError::NonFinite { .. })
        ));
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert!(matches!(
            nv("t", Value::Text(long)).check(),
            Err(BatchError::TextTooLong { len, .. }) if len == MAX_TEXT_BYTES + 1
        ));
        assert!(
            nv("t", Value::Text("x".repeat(MAX_TEXT_BYTES)))
                .check()
                .is_ok()
        );
        for bad in [String::new(), "a\nb".into(), "n".repeat(MAX_NAME_BYTES + 1)] {
            assert_eq!(
                nv(&bad, Value::Bool(true)).check(),
                Err(BatchError::InvalidName(bad.clone()))
            );
        }
        assert!(nv("pompe/débit m³", Value::Int(-3)).check().is_ok());
    }

    #[test]
    fn values_are_tagged_on_the_wire() {
        let json = serde_json::to_string(&nv("a", Value::Int(7))).unwrap();
        assert_eq!(
            json,
            r#"{"name":"a","value":{"int":7},"quality":"good","ts":0}"#
        );
        let back: NamedValue =
            serde_json::from_str(r#"{"name":"a","value":{"float":2},"ts":5}"#).unwrap();
        assert_eq!(back.value, Value::Float(2.0));
        assert_eq!(back.quality, Quality::Good);
        assert!(
            serde_json::from_str::<NamedValue>(r#"{"name":"a","value":{"int":2.5},"ts":5}"#)
                .is_err()
        );
    }

    #[test]
    fn timestamps_print_as_utc_dates() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01 00:00:00 UTC");
        // The manual's example date.
        assert_eq!(
            Timestamp(1_535_474_479_000).to_string(),
            "2018-08-28 16:41:19 UTC"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_string(),
            "2000-02-29 00:00:00 UTC"
        );
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1234);
        assert_eq!(Timestamp::from_system(t), Timestamp(1234));
        assert_eq!(Timestamp(1234).to_system(), t);
    }
}
