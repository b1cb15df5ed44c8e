//! Conversions at the boundary: foreign times and ISO dates to chrono, and back; foreign
//! integers (signed, as Kotlin and Swift write them) to the core's. Out-of-range values become
//! errors, never panics, wraps or clamps.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use crate::error::VaxpassError;

/// The error for an argument outside what the call accepts; `detail` names the rule, never
/// the value.
pub(crate) fn invalid(detail: &'static str) -> VaxpassError {
    VaxpassError::InvalidArgument {
        detail: detail.into(),
    }
}

/// The first second of year 1 and of year 10000: foreign times are taken within these (the
/// years a `datetime` can hold), so that no time plus a [`crate::TimeSpan`] overflows the core's
/// calendar.
const FIRST_SECOND: i64 = -62_135_596_800;
const END_SECOND: i64 = 253_402_300_800;

/// A foreign time (Kotlin `Instant`, Swift `Date`, Python `datetime`) within years 1 to 9999.
pub(crate) fn time(t: SystemTime) -> Result<DateTime<Utc>, VaxpassError> {
    let out_of_range = || invalid("a time is within the years 1 to 9999");
    let (seconds, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).map_err(|_| out_of_range())?,
            d.subsec_nanos(),
        ),
        Err(before) => {
            let d = before.duration();
            let seconds = i64::try_from(d.as_secs()).map_err(|_| out_of_range())?;
            match d.subsec_nanos() {
                0 => (-seconds, 0),
                n => (-seconds - 1, 1_000_000_000 - n),
            }
        }
    };
    if !(FIRST_SECOND..END_SECOND).contains(&seconds) {
        return Err(out_of_range());
    }
    DateTime::from_timestamp(seconds, nanos).ok_or_else(out_of_range)
}

pub(crate) fn system_time(t: DateTime<Utc>) -> SystemTime {
    let seconds = t.timestamp();
    let nanos = Duration::from_nanos(u64::from(t.timestamp_subsec_nanos()));
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs()) + nanos
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs()) + nanos
    }
}

/// An ISO 8601 calendar date, `YYYY-MM-DD`.
#[cfg(any(test, feature = "test-helpers"))]
pub(crate) fn date(text: &str) -> Result<chrono::NaiveDate, VaxpassError> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| VaxpassError::InvalidArgument {
        detail: "dates are YYYY-MM-DD".into(),
    })
}

/// A foreign `Int` that must fit the core's unsigned type `T`: negative or too large is
/// `InvalidArgument` with `rule` as its detail.
#[cfg(any(test, feature = "test-helpers"))]
pub(crate) fn count<T: TryFrom<i32>>(value: i32, rule: &'static str) -> Result<T, VaxpassError> {
    T::try_from(value).map_err(|_| invalid(rule))
}

/// A list's sequence number as a foreign `Long`. The verifier stores none above `i64::MAX` (it
/// refuses such a list as malformed) and `TrustList.verify` refuses them too, so the clamp is
/// never reached.
pub(crate) fn sequence(sequence: u64) -> i64 {
    i64::try_from(sequence).unwrap_or(i64::MAX)
}

pub(crate) fn credential_id(text: &str) -> Result<vaxpass::CredentialId, VaxpassError> {
    Ok(vaxpass::CredentialId::parse(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_on_both_sides_of_the_epoch() {
        for seconds in [-86_400_i64 * 365 * 60 - 1, -1, 0, 1, 1_639_365_000] {
            let t = DateTime::from_timestamp(seconds, 500).unwrap();
            assert_eq!(time(system_time(t)).unwrap(), t);
        }
        assert!(time(UNIX_EPOCH + Duration::from_secs(u64::MAX / 2)).is_err());
        // The calendar's ends: year 1 and year 9999 are in, a second outside is refused.
        for inside in [FIRST_SECOND, END_SECOND - 1] {
            let t = DateTime::from_timestamp(inside, 0).unwrap();
            assert_eq!(time(system_time(t)).unwrap(), t);
        }
        for outside in [FIRST_SECOND - 1, END_SECOND] {
            let t = DateTime::from_timestamp(outside, 0).unwrap();
            assert!(time(system_time(t)).is_err());
        }
        assert_eq!(count::<u8>(255, "r").unwrap(), 255);
        assert!(count::<u8>(256, "r").is_err());
        assert!(count::<u32>(-1, "r").is_err());
        assert!(date("2021-13-01").is_err());
        assert_eq!(date("1985-03-14").unwrap().to_string(), "1985-03-14");
    }
}
