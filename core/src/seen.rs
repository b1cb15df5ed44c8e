//! "Seen a minute ago": which passes this verifier found valid within the last few minutes, kept
//! only as keyed hashes of their credential ids, in memory, for the window and no longer.
//!
//! The key is random, drawn when the verifier opens, and never stored or exported, so a hash
//! says nothing outside this verifier instance (not even which id it was: the ids are only 48
//! bits, and without the key no one can try them). At most [`CAPACITY`] hashes are held: a shop
//! scanning faster than that within one window forgets its oldest first.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::credential::CredentialId;

/// The most passes remembered at once: 16 bytes each in the map and in the queue, so under
/// 1 MiB whatever the scan rate (a hash map holds at most twice its entries' room). Well above
/// the 10,000 passes a busy shop might see in one 10-minute window.
pub const CAPACITY: usize = 16_384;

/// A keyed hash of a credential id, truncated to 64 bits: among [`CAPACITY`] entries, two ids
/// collide with a chance below 2^-36.
type Tag = u64;

/// The passes seen within the window, in the order they were seen.
pub(crate) struct Seen {
    key: Zeroizing<[u8; 32]>,
    window: Duration,
    /// The last time each tag was seen.
    last_seen: HashMap<Tag, i64>,
    /// Every sighting still remembered, oldest first: what to forget, in order.
    sightings: VecDeque<(i64, Tag)>,
}

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seen")
            .field("window", &self.window)
            .field("remembered", &self.last_seen.len())
            .finish_non_exhaustive()
    }
}

impl Seen {
    /// Remembers passes for `window` (zero: remembers nothing), under a fresh random key.
    pub(crate) fn new(window: Duration) -> Self {
        let mut key = Zeroizing::new([0; 32]);
        OsRng.fill_bytes(&mut key[..]);
        Self {
            key,
            window,
            last_seen: HashMap::new(),
            sightings: VecDeque::new(),
        }
    }

    /// Records that `id` was seen at `now` and says whether it had been seen within the window
    /// before (on either side of `now`, so a clock set back does not hide a repeat either).
    pub(crate) fn saw(&mut self, id: &CredentialId, now: DateTime<Utc>) -> bool {
        if self.window <= Duration::zero() {
            return false;
        }
        let now = now.timestamp_millis();
        let window = self.window.num_milliseconds();
        self.forget_before(now.saturating_sub(window));
        let tag = self.tag(id);
        let recently = self
            .last_seen
            .get(&tag)
            .is_some_and(|&at| now.abs_diff(at) < window.unsigned_abs());
        if self.sightings.len() >= CAPACITY {
            self.forget_oldest();
        }
        self.last_seen.insert(tag, now);
        self.sightings.push_back((now, tag));
        recently
    }

    /// How many passes are remembered now.
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.last_seen.len()
    }

    /// Forgets the sightings at or before `cutoff`, oldest first. A clock that jumped about can
    /// leave older sightings behind a newer one; they go by [`CAPACITY`] instead, and are never
    /// reported as recent, which compares times.
    fn forget_before(&mut self, cutoff: i64) {
        while self.sightings.front().is_some_and(|&(at, _)| at <= cutoff) {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((at, tag)) = self.sightings.pop_front() {
            // A later sighting of the same pass keeps it.
            if self.last_seen.get(&tag) == Some(&at) {
                self.last_seen.remove(&tag);
            }
        }
    }

    fn tag(&self, id: &CredentialId) -> Tag {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(b"vaxpass seen v1");
        mac.update(&id.0);
        let digest = mac.finalize().into_bytes();
        let mut tag = [0; 8];
        tag.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn id(n: u32) -> CredentialId {
        let b = n.to_be_bytes();
        CredentialId([0xAB, 0xCD, b[0], b[1], b[2], b[3]])
    }

    #[test]
    fn a_pass_seen_again_within_the_window_is_recent_and_not_after_it() {
        let mut seen = Seen::new(Duration::minutes(10));
        assert!(!seen.saw(&id(1), at(0)));
        assert!(seen.saw(&id(1), at(9 * 60 + 59)));
        // The window counts from the last sighting.
        assert!(seen.saw(&id(1), at(19 * 60)));
        assert!(!seen.saw(&id(1), at(29 * 60)));
        assert!(!seen.saw(&id(2), at(29 * 60 + 1)), "another pass");
    }

    #[test]
    fn a_window_of_zero_remembers_nothing() {
        let mut seen = Seen::new(Duration::zero());
        assert!(!seen.saw(&id(1), at(0)));
        assert!(!seen.saw(&id(1), at(0)));
        assert_eq!(seen.remembered(), 0);
    }

    #[test]
    fn memory_stays_bounded_by_capacity_and_empties_after_the_window() {
        let mut seen = Seen::new(Duration::minutes(10));
        let passes = u32::try_from(CAPACITY).unwrap() + 5_000;
        for n in 0..passes {
            seen.saw(&id(n), at(i64::from(n) / 100));
            assert!(seen.remembered() <= CAPACITY);
            assert!(seen.sightings.len() <= CAPACITY);
        }
        assert_eq!(seen.remembered(), CAPACITY);
        // The newest are still known; the oldest were forgotten to make room.
        assert!(seen.saw(&id(passes - 1), at(i64::from(passes) / 100)));
        assert!(!seen.saw(&id(0), at(i64::from(passes) / 100)));
        // One scan after the window forgets everything before it.
        seen.saw(&id(u32::MAX), at(10_000));
        assert_eq!(seen.remembered(), 1);
    }

    #[test]
    fn ten_thousand_passes_in_one_window_are_all_remembered() {
        let mut seen = Seen::new(Duration::minutes(10));
        for n in 0..10_000 {
            assert!(!seen.saw(&id(n), at(i64::from(n) / 20)));
        }
        assert!((0..10_000).all(|n| seen.saw(&id(n), at(599))));
    }

    #[test]
    fn a_clock_set_back_still_sees_the_repeat() {
        let mut seen = Seen::new(Duration::minutes(10));
        seen.saw(&id(1), at(600));
        assert!(seen.saw(&id(1), at(300)));
        assert!(!seen.saw(&id(2), at(-3_000)));
    }

    #[test]
    fn two_verifiers_hash_the_same_pass_differently_and_debug_shows_no_hash() {
        let (a, b) = (
            Seen::new(Duration::minutes(1)),
            Seen::new(Duration::minutes(1)),
        );
        assert_ne!(a.tag(&id(7)), b.tag(&id(7)));
        let mut a = a;
        a.saw(&id(7), at(0));
        let debug = format!("{a:?}");
        assert!(!debug.contains(&a.tag(&id(7)).to_string()), "{debug}");
        assert!(!debug.contains("key"), "{debug}");
    }
}
