//! RFC 5322 §3.3 dates from a Unix time and a UTC offset the caller passes (no clock here).

use super::MessageError;

/// Earliest local time written: 1900-01-01T00:00:00 (RFC 5322 wants years from 1900).
const MIN_LOCAL: i64 = -2_208_988_800;
/// Latest local time written: 9999-12-31T23:59:59 (four-digit years).
const MAX_LOCAL: i64 = 253_402_300_799;
/// Largest UTC offset accepted, in minutes (±23:59).
pub(crate) const MAX_OFFSET_MINUTES: i16 = 23 * 60 + 59;

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Thu, 01 Jan 1970 00:00:00 +0000` for `unix_secs` seen at `offset_minutes` east of UTC.
///
/// Refused: an offset beyond ±23:59, or a local time before 1900 or after 9999.
pub(crate) fn format_date(unix_secs: i64, offset_minutes: i16) -> Result<String, MessageError> {
    if offset_minutes.unsigned_abs() > MAX_OFFSET_MINUTES.unsigned_abs() {
        return Err(MessageError::InvalidDate {
            why: format!("UTC offset {offset_minutes} minutes is beyond ±23:59"),
        });
    }
    let local = unix_secs
        .checked_add(i64::from(offset_minutes) * 60)
        .filter(|l| (MIN_LOCAL..=MAX_LOCAL).contains(l))
        .ok_or_else(|| MessageError::InvalidDate {
            why: format!("{unix_secs} is outside the years 1900 to 9999"),
        })?;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    Ok(format!(
        "{weekday}, {day:02} {month} {year} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        offset / 60,
        offset % 60,
    ))
}

/// Year, month (1–12) and day (1–31) of a day count since 1970-01-01 (proleptic Gregorian;
/// H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn known_instants() {
        let cases = [
            (0, 0, "Thu, 01 Jan 1970 00:00:00 +0000"),
            (0, -300, "Wed, 31 Dec 1969 19:00:00 -0500"),
            (1_795_322_400, 60, "Sun, 22 Nov 2026 05:40:00 +0100"),
            (951_782_400, 0, "Tue, 29 Feb 2000 00:00:00 +0000"),
            (-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000"),
            (1_700_000_000, 330, "Wed, 15 Nov 2023 03:43:20 +0530"),
            (1_700_000_000, -570, "Tue, 14 Nov 2023 12:43:20 -0930"),
            (MIN_LOCAL, 0, "Mon, 01 Jan 1900 00:00:00 +0000"),
            (MAX_LOCAL, 0, "Fri, 31 Dec 9999 23:59:59 +0000"),
        ];
        for (secs, offset, want) in cases {
            assert_eq!(format_date(secs, offset).unwrap(), want, "{secs} {offset}");
        }
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        for (secs, offset) in [
            (i64::MAX, 0),
            (i64::MIN, 0),
            (i64::MAX, 60),
            (i64::MIN, -60),
            (MAX_LOCAL + 1, 0),
            (MIN_LOCAL - 1, 0),
            (MAX_LOCAL, 1),
            (0, 1440),
            (0, -1440),
            (0, i16::MIN),
        ] {
            assert!(
                matches!(
                    format_date(secs, offset),
                    Err(MessageError::InvalidDate { .. })
                ),
                "{secs} {offset}"
            );
        }
    }
}
