//! Conversions at the boundary: foreign times and ISO dates to chrono, and back. Out-of-range
//! values become errors, never panics.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use crate::error::VaxpassError;

pub(crate) fn time(t: SystemTime) -> Result<DateTime<Utc>, VaxpassError> {
    let out_of_range = || VaxpassError::InvalidArgument {
        detail: "time out of range".into(),
    };
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

pub(crate) fn duration(seconds: u64) -> Result<chrono::Duration, VaxpassError> {
    i64::try_from(seconds)
        .ok()
        .and_then(chrono::Duration::try_seconds)
        .ok_or(VaxpassError::InvalidArgument {
            detail: "duration out of range".into(),
        })
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
        assert!(date("2021-13-01").is_err());
        assert_eq!(date("1985-03-14").unwrap().to_string(), "1985-03-14");
    }
}
