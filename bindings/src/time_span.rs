//! [`TimeSpan`], the one type for a length of time at the boundary (list validity, the
//! verifier's leeway and thresholds, test validity, the monotonic clock's reading).

use std::time::Duration;

use crate::convert::invalid;
use crate::error::VaxpassError;

/// A length of time, in each language's own type: `java.time.Duration` in Kotlin, `TimeInterval`
/// in Swift, `datetime.timedelta` in Python. Zero to 10,000 years; anything else (negative,
/// NaN, infinite, longer) is refused with `InvalidArgument`, never wrapped or clamped.
// It crosses as seconds in an f64 (bindings/uniffi.toml gives each language its conversion):
// no platform's conversion to a double can trap, so every value reaches the checks here.
// uniffi's own Duration would crash Swift on a negative TimeInterval (fatalError) and throw
// IllegalArgumentException in Kotlin before the call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSpan(f64);

uniffi::custom_type!(TimeSpan, f64, {
    lower: |span| span.0,
    try_lift: |seconds| Ok(TimeSpan(seconds)),
});

/// The longest span accepted, 10,000 years: any time (years 1 to 9999) plus two such spans stays
/// far inside the calendar, so no sum of them in the core can overflow.
const MAX_SECONDS: f64 = 10_000.0 * 365.2425 * 86_400.0;

impl TimeSpan {
    /// A span of `seconds` (not checked until it is used).
    pub fn from_seconds(seconds: f64) -> Self {
        Self(seconds)
    }

    /// The span in seconds, as the foreign caller gave it.
    pub fn seconds(self) -> f64 {
        self.0
    }

    /// The span as a standard duration, if it is zero to 10,000 years.
    pub(crate) fn to_std(self) -> Result<Duration, VaxpassError> {
        if !(0.0..=MAX_SECONDS).contains(&self.0) {
            return Err(invalid("a time span is zero to 10,000 years"));
        }
        Duration::try_from_secs_f64(self.0)
            .map_err(|_| invalid("a time span is zero to 10,000 years"))
    }

    /// The span as a chrono duration, if it is zero to 10,000 years.
    pub(crate) fn to_chrono(self) -> Result<chrono::Duration, VaxpassError> {
        chrono::Duration::from_std(self.to_std()?)
            .map_err(|_| invalid("a time span is zero to 10,000 years"))
    }
}

impl From<Duration> for TimeSpan {
    fn from(d: Duration) -> Self {
        Self(d.as_secs_f64())
    }
}

impl From<chrono::Duration> for TimeSpan {
    fn from(d: chrono::Duration) -> Self {
        Self(d.as_seconds_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_outside_zero_to_ten_thousand_years_are_refused() {
        for seconds in [
            -1.0,
            -0.0001,
            f64::NAN,
            f64::INFINITY,
            MAX_SECONDS * 1.0001,
            1e300,
        ] {
            let span = TimeSpan::from_seconds(seconds);
            assert!(
                matches!(span.to_std(), Err(VaxpassError::InvalidArgument { .. })),
                "{seconds}"
            );
            assert!(span.to_chrono().is_err(), "{seconds}");
        }
        assert_eq!(
            TimeSpan::from_seconds(0.0).to_std().unwrap(),
            Duration::ZERO
        );
        let day = TimeSpan::from(chrono::Duration::days(1));
        assert_eq!(day.to_chrono().unwrap(), chrono::Duration::days(1));
        let fraction = TimeSpan::from(Duration::from_millis(1_500));
        assert_eq!(fraction.to_std().unwrap(), Duration::from_millis(1_500));
        assert!(TimeSpan::from_seconds(MAX_SECONDS).to_chrono().is_ok());
    }
}
