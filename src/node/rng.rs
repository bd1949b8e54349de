//! Randomness. A run has exactly one seed; every purpose (the network, the
//! nemesis, each node) draws from its own ChaCha stream derived from it, so that
//! drawing more in one place never shifts what another place sees.
//!
//! Only raw 64-bit words come from `rand_chacha` (pinned exactly in Cargo.toml).
//! Ranges, probabilities and distributions are computed here, with pure-Rust
//! `libm` for transcendental functions, so the numbers cannot change under a
//! dependency bump or on another platform.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// What a stream is for. Each purpose maps to a distinct ChaCha stream number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The network's loss, duplication and latency draws.
    Network,
    /// The random nemesis's faults.
    Nemesis,
    /// One node's own draws (by node id).
    Node(u32),
}

impl Purpose {
    fn stream_number(self) -> u64 {
        match self {
            Purpose::Network => 1,
            Purpose::Nemesis => 2,
            Purpose::Node(index) => (1 << 32) | u64::from(index),
        }
    }
}

/// One independent stream of random numbers.
#[derive(Clone, Debug)]
pub struct RngStream {
    chacha: ChaCha8Rng,
}

impl RngStream {
    /// The stream for `purpose` of the run seeded with `seed`.
    pub fn new(seed: u64, purpose: Purpose) -> Self {
        // The 256-bit key is the seed expanded with SplitMix64: a fixed, documented
        // expansion that does not depend on rand_core's `seed_from_u64`.
        let mut key = [0u8; 32];
        let mut state = seed;
        for chunk in key.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes());
        }
        let mut chacha = ChaCha8Rng::from_seed(key);
        chacha.set_stream(purpose.stream_number());
        RngStream { chacha }
    }

    #[inline(always)]
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.chacha.next_u64()
    }

    /// A uniform integer in `0..bound` (Lemire's multiply-and-reject, unbiased).
    /// `bound` must be positive.
    #[inline(always)]
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "RngStream::below needs a positive bound");
        let mut product = u128::from(self.next_u64()) * u128::from(bound);
        // The rejection threshold, (2^64 - bound) mod bound, is below `bound`,
        // so a low word at or above `bound` is accepted without the division.
        // Same acceptance rule as computing the threshold every time, hence
        // the same numbers; only the common case is cheaper.
        if (product as u64) < bound {
            let threshold = bound.wrapping_neg() % bound;
            while (product as u64) < threshold {
                product = u128::from(self.next_u64()) * u128::from(bound);
            }
        }
        (product >> 64) as u64
    }

    /// A uniform integer in `low..=high`.
    #[inline(always)]
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "RngStream::between: low {low} > high {high}");
        match (high - low).checked_add(1) {
            Some(span) => low + self.below(span),
            None => self.next_u64(),
        }
    }

    /// A uniform float in `[0, 1)` with 53 bits of precision.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `probability`. Always consumes exactly one draw,
    /// so changing a probability never shifts the rest of the stream.
    #[inline]
    pub fn chance(&mut self, probability: f64) -> bool {
        let draw = self.unit();
        draw < probability
    }

    /// A standard normal variate (Box-Muller, one of the pair). Two draws.
    pub fn standard_normal(&mut self) -> f64 {
        // 1 - unit() lies in (0, 1], so the logarithm is finite.
        let radius = libm::sqrt(-2.0 * libm::log(1.0 - self.unit()));
        let angle = 2.0 * std::f64::consts::PI * self.unit();
        radius * libm::cos(angle)
    }

    /// Picks an index in `0..len` uniformly. `len` must be positive.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Shuffles in place (Fisher-Yates), deterministically.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_for_different_purposes_differ() {
        let mut network = RngStream::new(7, Purpose::Network);
        let mut nemesis = RngStream::new(7, Purpose::Nemesis);
        let mut node = RngStream::new(7, Purpose::Node(0));
        let a = network.next_u64();
        assert_ne!(a, nemesis.next_u64());
        assert_ne!(a, node.next_u64());
    }

    /// Pins the raw output. If this fails, a dependency or this file changed the
    /// random numbers and every stored trace hash is invalid: make that change on purpose.
    #[test]
    fn stream_output_is_pinned() {
        let mut stream = RngStream::new(42, Purpose::Network);
        let words: Vec<u64> = (0..3).map(|_| stream.next_u64()).collect();
        let mut again = RngStream::new(42, Purpose::Network);
        assert_eq!(words, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        let mut below = RngStream::new(42, Purpose::Node(3));
        let draws: Vec<u64> = (0..5).map(|_| below.below(1000)).collect();
        assert_eq!(
            draws, PINNED_BELOW_1000,
            "ChaCha output or sampling changed"
        );
    }
    const PINNED_BELOW_1000: [u64; 5] = [506, 624, 319, 871, 939];

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut stream = RngStream::new(1, Purpose::Nemesis);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let value = stream.below(7);
            assert!(value < 7);
            seen[value as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn normal_has_roughly_zero_mean_and_unit_variance() {
        let mut stream = RngStream::new(3, Purpose::Network);
        let samples: Vec<f64> = (0..20_000).map(|_| stream.standard_normal()).collect();
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let variance =
            samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / samples.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.05, "variance {variance}");
    }
}
