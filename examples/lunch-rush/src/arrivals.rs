//! When people arrive: a lunch-peak curve, and the small seeded generator behind every random
//! choice of the replay (so a run can be repeated).

use std::time::Duration;

/// xorshift64*: small, seeded, good enough for a simulation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

/// A triangular sample in [0, 1) with its mode at `mode`: demand that rises to a peak and falls.
pub fn triangular(rng: &mut Rng, mode: f64) -> f64 {
    let u = rng.unit();
    if u < mode {
        (u * mode).sqrt()
    } else {
        1.0 - ((1.0 - u) * (1.0 - mode)).sqrt()
    }
}

/// `n` sorted arrival offsets over a window of `window_secs`, peaking at 11:30 of 11:00–11:40.
pub fn lunch_peak(n: usize, window_secs: f64, rng: &mut Rng) -> Vec<Duration> {
    let mut offsets: Vec<Duration> = (0..n)
        .map(|_| Duration::from_secs_f64(triangular(rng, 0.75) * window_secs.max(0.0)))
        .collect();
    offsets.sort_unstable();
    offsets
}

/// The most events in any one-second bucket of `seconds`-long time, given offsets in [0, 1).
pub fn peak_per_second(fractions: impl Iterator<Item = f64>, seconds: f64) -> usize {
    let buckets = seconds.ceil().max(1.0) as usize;
    let mut counts = vec![0usize; buckets];
    for f in fractions {
        counts[((f * seconds) as usize).min(buckets - 1)] += 1;
    }
    counts.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_peaks_late_in_the_window_and_is_repeatable() {
        let a = lunch_peak(10_000, 40.0, &mut Rng::new(7));
        assert_eq!(a, lunch_peak(10_000, 40.0, &mut Rng::new(7)));
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        let in_last_quarter = a.iter().filter(|d| d.as_secs_f64() >= 30.0).count();
        let in_first_quarter = a.iter().filter(|d| d.as_secs_f64() < 10.0).count();
        assert!(
            in_last_quarter > in_first_quarter * 2,
            "{in_last_quarter} vs {in_first_quarter}"
        );
        assert_eq!(peak_per_second([0.1, 0.1, 0.5].into_iter(), 10.0), 2);
    }
}
