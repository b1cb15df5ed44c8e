//! The time a wallet may sign a presentation for. A presentation is only as fresh as the time it
//! carries, and the phone's wall clock is the user's to set: three hours ahead, screenshots, and
//! back would give codes that verify later with no phone present. So the wallet keeps its own
//! lower bound of the real time — the last time the authority vouched for, carried forward by a
//! monotonic clock the user cannot set — and signs only up to that bound plus a small tolerance
//! (docs/architecture.md, "The wallet's clock").

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result};

/// The platform's monotonic clock: time since the device booted, counting deep sleep, never set by
/// the user (Android `SystemClock.elapsedRealtime()`, iOS `clock_gettime(CLOCK_MONOTONIC_RAW)`,
/// Linux `CLOCK_BOOTTIME`). It restarts from zero when the device reboots. The wallet reads it with
/// its store locked, so that concurrent readings are stored in order: it must not call the wallet.
pub trait MonotonicClock: Send + Sync {
    /// Time since boot. An error is returned by the wallet call that read the clock, and nothing
    /// is signed.
    fn elapsed_since_boot(&self) -> Result<StdDuration>;
}

/// A lower bound of the real time, as the wallet stores it: `at` was reached no later than when
/// the monotonic clock read `elapsed` (unknown when no clock was attached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    pub at: DateTime<Utc>,
    pub elapsed: Option<Duration>,
}

impl Anchor {
    /// The lower bound now, when the monotonic clock reads `elapsed_now`. In the same boot the
    /// anchor moves forward by the elapsed time; if the clock went back (a reboot) only the anchor
    /// itself is known. A reboot the clock hides (uptime past the old reading) makes the bound
    /// lag behind the real time, never run ahead of it.
    pub fn floor(&self, elapsed_now: Option<Duration>) -> DateTime<Utc> {
        match (self.elapsed, elapsed_now) {
            (Some(then), Some(now)) if now >= then => {
                self.at.checked_add_signed(now - then).unwrap_or(self.at)
            }
            _ => self.at,
        }
    }

    /// The anchor after observing, at `elapsed_now`, that the real time is at least `seen` (and
    /// at least this anchor's floor). Both are lower bounds of the same moment, so the later wins.
    pub fn advanced(
        anchor: Option<Self>,
        seen: Option<DateTime<Utc>>,
        elapsed_now: Option<Duration>,
    ) -> Option<Self> {
        let floor = anchor.map(|a| a.floor(elapsed_now));
        let at = floor.max(seen)?;
        Some(Self {
            at,
            elapsed: elapsed_now,
        })
    }
}

/// Checks that a presentation may be signed at `now` (the wall clock), given the lower bound.
pub(crate) fn check_signing_time(
    floor: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<()> {
    let floor = floor.ok_or(Error::ClockNotTrusted(
        "no trusted time seen yet: import a pass with its trust list, or observe a trusted time",
    ))?;
    match floor.checked_add_signed(tolerance) {
        Some(latest) if now > latest => Err(Error::ClockNotTrusted(
            "the device clock is ahead of the last trusted time: go online to confirm the time",
        )),
        _ => Ok(()),
    }
}

/// Reads the monotonic clock as a chrono duration.
pub(crate) fn read(clock: &dyn MonotonicClock) -> Result<Duration> {
    Duration::from_std(clock.elapsed_since_boot()?)
        .map_err(|_| Error::InvalidArgument("the monotonic clock is out of range".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_639_365_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn the_floor_follows_the_monotonic_clock_and_stops_at_a_reboot() {
        let anchor = Anchor {
            at: t(0),
            elapsed: Some(Duration::hours(5)),
        };
        assert_eq!(anchor.floor(Some(Duration::hours(6))), t(3600));
        assert_eq!(anchor.floor(Some(Duration::minutes(2))), t(0), "rebooted");
        assert_eq!(anchor.floor(None), t(0));
        let unchained = Anchor {
            at: t(0),
            elapsed: None,
        };
        assert_eq!(unchained.floor(Some(Duration::hours(9))), t(0));
    }

    #[test]
    fn observations_only_move_the_anchor_forward() {
        let anchor = Some(Anchor {
            at: t(0),
            elapsed: Some(Duration::hours(1)),
        });
        let later = Some(Duration::hours(2));
        let kept = Anchor::advanced(anchor, Some(t(60)), later).unwrap();
        assert_eq!(
            (kept.at, kept.elapsed),
            (t(3600), later),
            "an older time is ignored"
        );
        let moved = Anchor::advanced(anchor, Some(t(7200)), later).unwrap();
        assert_eq!(moved.at, t(7200));
        assert_eq!(Anchor::advanced(None, None, later), None);
        assert_eq!(
            Anchor::advanced(None, Some(t(5)), None),
            Some(Anchor {
                at: t(5),
                elapsed: None
            })
        );
    }

    #[test]
    fn signing_is_refused_beyond_the_tolerance_and_without_a_trusted_time() {
        let tolerance = Duration::minutes(5);
        assert!(check_signing_time(Some(t(0)), t(300), tolerance).is_ok());
        assert!(check_signing_time(Some(t(0)), t(-86_400), tolerance).is_ok());
        for (floor, now) in [(Some(t(0)), t(301)), (None, t(0))] {
            assert!(matches!(
                check_signing_time(floor, now, tolerance),
                Err(Error::ClockNotTrusted(_))
            ));
        }
        // At the end of time there is nothing later to refuse.
        assert!(check_signing_time(Some(DateTime::<Utc>::MAX_UTC), t(0), tolerance).is_ok());
    }
}
