//! Limits on failed enrolment attempts, so that guessing codes is useless. Each client address (an
//! IPv6 /64 counts as one) has a bucket of failed attempts that refills slowly; an address whose
//! bucket is empty is refused everything on the enrolment path, before any work, until it
//! refills. A proof is checked only on a failed attempt reserved beforehand and given back on
//! success, so a thousand guesses sent at once get no more checks than the bucket holds. A
//! global bucket bounds the failed proofs checked across all addresses (a guesser with
//! many addresses): while it is empty, only addresses with no recent failure get their proof
//! checked. Successes never take from either bucket, so the lunch peak is not slowed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::metrics::LimitCounters;

/// The limits. See the README for the numbers and why.
#[derive(Debug, Clone, Copy)]
pub struct AttemptConfig {
    /// Failed attempts an address may make at once.
    pub per_address_burst: u32,
    /// Failed attempts an address regains per minute.
    pub per_address_per_minute: u32,
    /// Failed proofs checked across all addresses at once.
    pub global_burst: u32,
    /// Failed proofs checked across all addresses, regained per minute.
    pub global_per_minute: u32,
    /// Addresses tracked at most; past it, untracked addresses count as suspects.
    pub max_addresses: usize,
}

impl Default for AttemptConfig {
    fn default() -> Self {
        Self {
            per_address_burst: 10,
            per_address_per_minute: 6,
            global_burst: 6_000,
            global_per_minute: 6_000,
            max_addresses: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// Tokens held by proofs being checked right now.
    reserved: u32,
    at: Instant,
}

impl Bucket {
    fn full(burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            reserved: 0,
            at: now,
        }
    }

    /// No failure within its refill time and nothing in progress: nothing to remember.
    fn idle(&self, burst: u32) -> bool {
        self.reserved == 0 && self.tokens >= f64::from(burst)
    }

    fn refill(&mut self, burst: u32, per_minute: u32, now: Instant) {
        let gained = now.duration_since(self.at).as_secs_f64() * f64::from(per_minute) / 60.0;
        self.tokens = (self.tokens + gained).min(f64::from(burst));
        self.at = now;
    }

    /// Time until one token is back.
    fn wait(&self, per_minute: u32) -> Duration {
        let missing = (1.0 - self.tokens).max(0.0);
        Duration::from_secs_f64(missing * 60.0 / f64::from(per_minute.max(1)))
    }
}

/// Why an attempt was refused before its proof was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// This address used up its failed attempts; retry after the given time.
    Address(Duration),
    /// The global budget of failed proofs is used up and this address failed recently.
    Global(Duration),
}

/// The limiter, shared by the handlers.
#[derive(Debug)]
pub struct Attempts {
    config: AttemptConfig,
    addresses: Mutex<HashMap<IpAddr, Bucket>>,
    global: Mutex<Bucket>,
    /// Times an address (`address`) or the global budget (`global`) ran out.
    trips: LimitCounters,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The key of an address: itself for IPv4, its /64 for IPv6 (one subscriber's block).
fn key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Attempts {
    /// Limits counting their trips in `trips` (the service's metrics).
    pub fn new(config: AttemptConfig, trips: LimitCounters) -> Self {
        Self {
            config,
            addresses: Mutex::new(HashMap::new()),
            global: Mutex::new(Bucket::full(config.global_burst, Instant::now())),
            trips,
        }
    }

    /// Before any work for a request from `address`: refused while its failures are used up.
    pub fn check_address(&self, address: IpAddr) -> Result<(), Limited> {
        let c = &self.config;
        let now = Instant::now();
        let mut addresses = lock(&self.addresses);
        match addresses.get_mut(&key(address)) {
            Some(bucket) => {
                bucket.refill(c.per_address_burst, c.per_address_per_minute, now);
                if bucket.tokens < 1.0 {
                    return Err(Limited::Address(bucket.wait(c.per_address_per_minute)));
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Before a proof is checked: while the global budget is used up, only addresses without a
    /// recent failure get their proof looked at.
    pub fn check_global(&self, address: IpAddr) -> Result<(), Limited> {
        let c = &self.config;
        let now = Instant::now();
        let wait = {
            let mut global = lock(&self.global);
            global.refill(c.global_burst, c.global_per_minute, now);
            if global.tokens >= 1.0 {
                return Ok(());
            }
            global.wait(c.global_per_minute)
        };
        let addresses = lock(&self.addresses);
        let suspect = match addresses.get(&key(address)) {
            Some(b) => b.tokens < f64::from(c.per_address_burst), // failed within its refill time
            None => addresses.len() >= c.max_addresses,
        };
        if suspect {
            Err(Limited::Global(wait))
        } else {
            Ok(())
        }
    }

    /// Before a proof from `address` is checked: reserves one failed attempt, given back by
    /// [`Reservation::succeeded`] (or on drop) and kept by [`Reservation::failed`]. While other
    /// checks of an address without recent failures hold all its attempts (many citizens behind
    /// one address), waits for them (a few milliseconds); one that failed recently is refused.
    pub async fn reserve(&self, address: IpAddr) -> Result<Reservation<'_>, Limited> {
        let c = &self.config;
        let started = Instant::now();
        loop {
            let now = Instant::now();
            {
                let mut addresses = lock(&self.addresses);
                self.prune(&mut addresses, now);
                let full = addresses.len() >= c.max_addresses;
                let bucket = match addresses.get_mut(&key(address)) {
                    Some(bucket) => Some(bucket),
                    None if full => None, // untracked: the global budget still applies
                    None => Some(
                        addresses
                            .entry(key(address))
                            .or_insert(Bucket::full(c.per_address_burst, now)),
                    ),
                };
                let Some(bucket) = bucket else {
                    return Ok(Reservation::new(self, address, false));
                };
                bucket.refill(c.per_address_burst, c.per_address_per_minute, now);
                if bucket.tokens < 1.0 {
                    return Err(Limited::Address(bucket.wait(c.per_address_per_minute)));
                }
                if bucket.tokens - f64::from(bucket.reserved) >= 1.0 {
                    bucket.reserved += 1;
                    return Ok(Reservation::new(self, address, true));
                }
                if bucket.tokens < f64::from(c.per_address_burst) {
                    // It failed recently and its last attempts are being checked: no waiting
                    // (a waiting request would hold a slot of the concurrency limit).
                    return Err(Limited::Address(bucket.wait(c.per_address_per_minute)));
                }
            }
            if started.elapsed() > RESERVE_WAIT {
                return Err(Limited::Address(Duration::from_secs(1)));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn prune(&self, addresses: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        let c = &self.config;
        if addresses.len() >= c.max_addresses {
            addresses.retain(|_, b| {
                b.refill(c.per_address_burst, c.per_address_per_minute, now);
                !b.idle(c.per_address_burst)
            });
        }
    }

    fn release(&self, address: IpAddr, tracked: bool, failure: Option<bool>) {
        let c = &self.config;
        let now = Instant::now();
        if tracked {
            let mut addresses = lock(&self.addresses);
            if let Some(bucket) = addresses.get_mut(&key(address)) {
                bucket.reserved = bucket.reserved.saturating_sub(1);
                if failure.is_some() {
                    bucket.refill(c.per_address_burst, c.per_address_per_minute, now);
                    let before = bucket.tokens;
                    bucket.tokens = (bucket.tokens - 1.0).max(0.0);
                    if before >= 1.0 && bucket.tokens < 1.0 {
                        let trips = self.trips.address.inc() + 1;
                        tracing::warn!(
                            limit = "address",
                            burst = c.per_address_burst,
                            per_minute = c.per_address_per_minute,
                            trips,
                            "a client address used up its failed enrolment attempts; it is \
                             refused until they refill"
                        );
                    }
                }
                if bucket.idle(c.per_address_burst) {
                    addresses.remove(&key(address));
                }
            }
        }
        if failure == Some(true) {
            let mut global = lock(&self.global);
            global.refill(c.global_burst, c.global_per_minute, now);
            let before = global.tokens;
            global.tokens = (global.tokens - 1.0).max(0.0);
            if before >= 1.0 && global.tokens < 1.0 {
                let trips = self.trips.global.inc() + 1;
                tracing::warn!(
                    limit = "global",
                    burst = c.global_burst,
                    per_minute = c.global_per_minute,
                    trips,
                    "the global budget of failed enrolment proofs is used up; addresses that \
                     failed recently are refused until it refills"
                );
            }
        }
    }

    /// A refused attempt that checked no proof (e.g. an unknown nonce): counts against the
    /// address only.
    pub fn record_failure(&self, address: IpAddr) {
        let tracked = self.track(address);
        self.release(address, tracked, Some(false));
    }

    /// Makes sure `address` has a bucket (holding one reservation); false if the table is full.
    fn track(&self, address: IpAddr) -> bool {
        let c = &self.config;
        let now = Instant::now();
        let mut addresses = lock(&self.addresses);
        self.prune(&mut addresses, now);
        let full = addresses.len() >= c.max_addresses;
        match addresses.get_mut(&key(address)) {
            Some(bucket) => {
                bucket.reserved += 1;
                true
            }
            None if full => false,
            None => {
                let mut bucket = Bucket::full(c.per_address_burst, now);
                bucket.reserved = 1;
                addresses.insert(key(address), bucket);
                true
            }
        }
    }
}

/// Longest a check waits for attempts held by other checks of its address.
const RESERVE_WAIT: Duration = Duration::from_millis(200);

/// One failed attempt reserved for a proof being checked.
#[derive(Debug)]
pub struct Reservation<'a> {
    attempts: &'a Attempts,
    address: IpAddr,
    tracked: bool,
    done: bool,
}

impl<'a> Reservation<'a> {
    fn new(attempts: &'a Attempts, address: IpAddr, tracked: bool) -> Self {
        Self {
            attempts,
            address,
            tracked,
            done: false,
        }
    }

    /// The proof was refused: the attempt is used up, here and in the global budget.
    pub fn failed(mut self) {
        self.done = true;
        self.attempts
            .release(self.address, self.tracked, Some(true));
    }

    /// The proof was accepted: the attempt is given back.
    pub fn succeeded(self) {}
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.attempts.release(self.address, self.tracked, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AttemptConfig {
        AttemptConfig {
            per_address_burst: 3,
            per_address_per_minute: 1,
            global_burst: 5,
            global_per_minute: 1,
            max_addresses: 4,
        }
    }

    #[tokio::test]
    async fn an_address_is_refused_once_its_failures_are_used_up_and_others_are_not() {
        let attempts = Attempts::new(config(), LimitCounters::default());
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(attempts.check_address(a), Ok(()));
            attempts.reserve(a).await.unwrap().failed();
        }
        assert!(
            matches!(attempts.check_address(a), Err(Limited::Address(wait))
            if wait > Duration::from_secs(50))
        );
        assert!(attempts.reserve(a).await.is_err());
        assert_eq!(attempts.check_address(b), Ok(()));
        // Successes take nothing.
        for _ in 0..10 {
            attempts.reserve(b).await.unwrap().succeeded();
        }
        assert_eq!(attempts.check_address(b), Ok(()));
        assert_eq!(attempts.trips.address.get(), 1);
    }

    #[tokio::test]
    async fn guesses_sent_at_once_get_no_more_checks_than_the_address_has_attempts() {
        let attempts = Attempts::new(config(), LimitCounters::default());
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let held: Vec<_> = [
            attempts.reserve(a).await.unwrap(),
            attempts.reserve(a).await.unwrap(),
            attempts.reserve(a).await.unwrap(),
        ]
        .into();
        assert!(
            attempts.reserve(a).await.is_err(),
            "a fourth must wait, then give up"
        );
        for r in held {
            r.failed();
        }
        assert!(attempts.reserve(a).await.is_err());
    }

    #[tokio::test]
    async fn the_global_budget_refuses_only_addresses_that_failed_recently() {
        let attempts = Attempts::new(config(), LimitCounters::default());
        let guessers: Vec<IpAddr> = (2..5)
            .map(|i| format!("10.0.0.{i}").parse().unwrap())
            .collect();
        for g in &guessers {
            attempts.reserve(*g).await.unwrap().failed();
            attempts.record_failure(*g); // a refused nonce: the address budget only
        }
        attempts.reserve(guessers[0]).await.unwrap().failed();
        attempts.reserve(guessers[1]).await.unwrap().failed();
        assert_eq!(attempts.trips.global.get(), 1);
        assert!(matches!(
            attempts.check_global(guessers[2]),
            Err(Limited::Global(_))
        ));
        let newcomer: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(attempts.check_global(newcomer), Ok(()));
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_the_table_stays_bounded() {
        let attempts = Attempts::new(config(), LimitCounters::default());
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        for _ in 0..3 {
            attempts.record_failure(one);
        }
        assert!(attempts.check_address(same).is_err());
        for i in 0..100 {
            attempts.record_failure(format!("10.1.0.{i}").parse().unwrap());
        }
        assert!(lock(&attempts.addresses).len() <= 4);
    }
}
