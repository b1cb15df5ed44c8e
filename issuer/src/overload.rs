//! Overload is survived, not suffered: a fixed number of enrolment requests may be in flight;
//! past it a request is refused at once (429 with a jittered `Retry-After`) instead of joining a
//! queue that grows until memory or latency gives out.

use std::sync::Arc;

use rand_core::{OsRng, RngCore};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The concurrency limit on the enrolment flow.
#[derive(Debug, Clone)]
pub struct Limiter {
    permits: Arc<Semaphore>,
    limit: usize,
    /// Slots only second steps (an enrolment, which already holds a nonce) may take.
    reserve: usize,
}

/// Held for the life of an admitted request.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
}

impl Limiter {
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            reserve: limit / 4,
        }
    }

    /// Admits a request if a slot is free, without waiting.
    pub fn try_admit(&self) -> Option<Admitted> {
        self.permits
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| Admitted { _permit: permit })
    }

    /// Admits the first step of an enrolment (a nonce) only while a quarter of the slots stay
    /// free: under overload, finishing enrolments already begun beats starting new ones whose
    /// second step would then be refused.
    pub fn try_admit_new(&self) -> Option<Admitted> {
        if self.permits.available_permits() <= self.reserve {
            return None;
        }
        self.try_admit()
    }

    pub fn in_flight(&self) -> usize {
        self.limit - self.permits.available_permits()
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Seconds a refused client should wait: 1 to 5, at random, so refused clients do not all come
/// back in the same second.
pub fn retry_after_secs() -> u32 {
    1 + OsRng.next_u32() % 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_then_refuses() {
        let limiter = Limiter::new(2);
        let a = limiter.try_admit();
        let b = limiter.try_admit();
        assert!(a.is_some() && b.is_some());
        assert!(limiter.try_admit().is_none());
        assert_eq!(limiter.in_flight(), 2);
        drop(a);
        assert!(limiter.try_admit().is_some());
        let limiter = Limiter::new(8);
        let held: Vec<_> = (0..6).map(|_| limiter.try_admit_new().unwrap()).collect();
        assert!(
            limiter.try_admit_new().is_none(),
            "two slots are kept for second steps"
        );
        let second = limiter.try_admit();
        assert!(second.is_some());
        drop(held);
        assert!((0..100)
            .map(|_| retry_after_secs())
            .all(|s| (1..=5).contains(&s)));
    }
}
