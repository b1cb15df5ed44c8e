//! The client side of the online steps, with the transport left to the app: what to send with a
//! list request (the ETag it holds), how to read the answer, when to try again (Retry-After,
//! jittered exponential backoff) and when to refresh next (a random moment, so a country's phones
//! do not all call at noon). The verifier reads the answers ([`crate::Verifier::apply_fetched`]);
//! this module knows nothing of its store.

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, Offset, Utc};
use rand_core::{OsRng, RngCore};

/// Where the app posts its check log's anchor (`Verifier::anchor`, as `application/cbor`) on the
/// issuer service, whenever it syncs; a 200 means the authority holds it.
pub const ANCHOR_PATH: &str = "/v1/anchors";

/// What the app's HTTP client received for a list request.
#[derive(Debug, Clone, Copy)]
pub struct HttpResponse<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// The `ETag` header, as sent.
    pub etag: Option<&'a str>,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<&'a str>,
    /// The body as received (empty for a 304).
    pub body: &'a [u8],
}

/// The result of offering a signed list to a verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The list was newer and is now stored.
    Updated {
        /// The sequence number of the list now held.
        sequence: u64,
    },
    /// The same list was already stored.
    Unchanged,
}

/// What a list fetch came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// A list came back and was offered to the store (it may have been the one already held).
    Applied(Applied),
    /// 304: the list held is still the current one.
    NotModified,
    /// The server is busy (429/503) or failing (5xx): try again after this long.
    RetryAfter(Duration),
}

/// Exponential backoff with full jitter (a random delay up to the exponential bound), never
/// shorter than what the server asked for with Retry-After.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The bound of the first delay (before jitter): 2 s, doubled with each failure.
    pub const BASE: Duration = Duration::seconds(2);
    /// The longest bound a delay may have (before Retry-After): 10 minutes.
    pub const CAP: Duration = Duration::minutes(10);

    /// The delay before trying again after a server refused or failed, given its `Retry-After`
    /// header as sent: [`Backoff::next_delay`] with the server's word and a jitter from the
    /// operating system's random generator.
    pub fn after_refusal(&mut self, retry_after: Option<&str>, now: DateTime<Utc>) -> Duration {
        let asked = retry_after.and_then(|v| parse_retry_after(v, now));
        self.next_delay(asked, jitter())
    }

    /// The delay before the next attempt, given the server's Retry-After and a jitter in [0, 1).
    pub fn next_delay(&mut self, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponent = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let bound = (Self::BASE * (1 << exponent)).min(Self::CAP);
        let jittered = Duration::milliseconds(
            (bound.num_milliseconds() as f64 * jitter.clamp(0.0, 1.0)) as i64,
        );
        jittered.max(retry_after.unwrap_or_else(Duration::zero))
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// Reads a Retry-After header: delay-seconds, or an HTTP date (RFC 9110 section 10.2.3).
/// Anything else is ignored (`None`), as is a delay over a day.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u32>() {
        Ok(seconds) => Duration::seconds(seconds.into()),
        Err(_) => {
            DateTime::parse_from_rfc2822(value)
                .ok()?
                .with_timezone(&Utc)
                - now
        }
    };
    (delay <= Duration::days(1)).then(|| delay.max(Duration::zero()))
}

/// When to fetch a list again: a random moment between half and nine tenths of the way to its
/// next-update time, and not sooner than a minute from now. Spreading the phones of a country over
/// that window is what keeps the list servers (or their CDN) from a thundering herd.
pub fn next_refresh(now: DateTime<Utc>, next_update: DateTime<Utc>, jitter: f64) -> DateTime<Utc> {
    let left = (next_update - now).max(Duration::zero());
    let at = left / 2
        + Duration::milliseconds(
            (left.num_milliseconds() as f64 * 0.4 * jitter.clamp(0.0, 1.0)) as i64,
        );
    later(now, at.max(Duration::minutes(1)))
}

/// When a wallet should renew a pass that expires at `expires`: a random day in the month before
/// the last week, at a random minute between 01:00 and 05:00 local time — never at the shop door,
/// never at lunch. Past that window (already late), as soon as possible off-peak. Any `expires`,
/// `now` and offset give an answer: the arithmetic is checked, and at the edges of the calendar
/// the answer stays within it.
pub fn renewal_time(
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
    utc_offset_minutes: i32,
    jitter: f64,
) -> DateTime<Utc> {
    let offset = FixedOffset::east_opt(utc_offset_minutes.saturating_mul(60)).unwrap_or(Utc.fix());
    let jitter = jitter.clamp(0.0, 1.0);
    let before_expiry = |days| expires.checked_sub_signed(Duration::days(days));
    let window_start = before_expiry(30).map_or(now, |t| t.max(now));
    let window_end = before_expiry(7).map_or(window_start, |t| t.max(window_start));
    let days = (window_end - window_start).num_days();
    let day = later(window_start, Duration::days((days as f64 * jitter) as i64));
    let minute = (jitter * 4.0 * 60.0 * 7.0) as i64 % (4 * 60); // decorrelated from the day
    let at = off_peak(day, offset, minute).unwrap_or(day);
    if at < now {
        later(at, Duration::days(1))
    } else {
        at
    }
}

/// `minute` minutes past 01:00 local time on the local day of `day`; `None` off the calendar.
fn off_peak(day: DateTime<Utc>, offset: FixedOffset, minute: i64) -> Option<DateTime<Utc>> {
    let local = day
        .naive_utc()
        .checked_add_offset(offset)?
        .date()
        .and_time(NaiveTime::MIN)
        .checked_add_signed(Duration::hours(1) + Duration::minutes(minute))?;
    Some(local.checked_sub_offset(offset)?.and_utc())
}

/// `t + by`, or the last representable time.
fn later(t: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    t.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A jitter in [0, 1) from the operating system's random generator.
pub fn jitter() -> f64 {
    (OsRng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn backoff_grows_is_jittered_and_honours_retry_after() {
        let mut b = Backoff::default();
        assert_eq!(b.next_delay(None, 1.0), Duration::seconds(2));
        assert_eq!(b.next_delay(None, 1.0), Duration::seconds(4));
        assert_eq!(b.next_delay(None, 0.5), Duration::seconds(4));
        assert_eq!(b.next_delay(None, 0.0), Duration::zero());
        for _ in 0..40 {
            assert!(b.next_delay(None, 1.0) <= Backoff::CAP);
        }
        assert_eq!(
            b.next_delay(Some(Duration::minutes(30)), 0.1),
            Duration::minutes(30),
            "the server's word wins"
        );
        b.reset();
        assert_eq!(
            b.next_delay(Some(Duration::seconds(3)), 0.0),
            Duration::seconds(3)
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = at("2021-12-13T03:10:00Z");
        assert_eq!(parse_retry_after("120", now), Some(Duration::seconds(120)));
        assert_eq!(
            parse_retry_after("Mon, 13 Dec 2021 03:11:00 GMT", now),
            Some(Duration::seconds(60))
        );
        assert_eq!(
            parse_retry_after("Mon, 13 Dec 2021 03:00:00 GMT", now),
            Some(Duration::zero())
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("999999", now), None);
    }

    #[test]
    fn refreshes_spread_over_the_window() {
        let now = at("2021-12-13T03:00:00Z");
        let next = now + Duration::hours(24);
        assert_eq!(next_refresh(now, next, 0.0), now + Duration::hours(12));
        assert_eq!(
            next_refresh(now, next, 1.0),
            now + Duration::hours(12) + Duration::minutes(576)
        );
        assert_eq!(
            next_refresh(now, now, 0.5),
            now + Duration::minutes(1),
            "overdue: soon, not now"
        );
        let spread: std::collections::HashSet<_> = (0..100)
            .map(|_| next_refresh(now, next, jitter()))
            .collect();
        assert!(spread.len() > 90, "random moments, not one");
    }

    #[test]
    fn renewals_happen_off_peak_before_expiry() {
        let now = at("2021-12-13T03:00:00Z");
        let expires = at("2022-06-01T00:00:00Z");
        for j in [0.0, 0.3, 0.77, 0.999] {
            let t = renewal_time(expires, now, 540, j);
            let local = t.with_timezone(&FixedOffset::east_opt(540 * 60).unwrap());
            assert!((1..5).contains(&chrono::Timelike::hour(&local)), "{local}");
            assert!(
                t >= expires - Duration::days(31) && t <= expires - Duration::days(6),
                "{t}"
            );
        }
        // Already inside the last week: still off-peak, and never in the past.
        let late = renewal_time(now + Duration::days(2), now, 540, 0.5);
        assert!(late > now && late < now + Duration::days(2));
    }

    #[test]
    fn renewal_and_refresh_times_are_total_at_the_edges_of_the_calendar() {
        let min = DateTime::<Utc>::MIN_UTC;
        let max = DateTime::<Utc>::MAX_UTC;
        let ordinary = at("2021-12-13T03:00:00Z");
        let times = [
            min,
            min + Duration::days(3),
            DateTime::UNIX_EPOCH,
            ordinary,
            max - Duration::days(3),
            max,
        ];
        for expires in times {
            for now in times {
                for offset in [i32::MIN, -1440, -720, 0, 540, 1440, i32::MAX] {
                    for jitter in [0.0, 0.5, 0.999, f64::NAN] {
                        let t = renewal_time(expires, now, offset, jitter);
                        assert!(
                            t >= now || t == max,
                            "{expires} {now} {offset} {jitter}: {t}"
                        );
                    }
                }
                let r = next_refresh(now, expires, 0.5);
                assert!(r >= now, "{now} {expires}: {r}");
            }
        }
    }
}
