//! Seeded random streams: every random draw of a run derives from the model's `seed`.
//!
//! A run needs randomness for several independent purposes — drawing the decoder, drawing a
//! smooth random input, injecting noise, learning, perturbing the network. Each purpose gets its
//! own [`Stream`]: a ChaCha8 generator seeded with the model's `seed` and set to the purpose's
//! stream number ([`rng_stream`]). The streams are statistically independent, so adding draws to
//! one purpose (say, a longer input) never changes another (the decoder stays the same).
//!
//! The stream numbers are part of the reproducibility contract (same model file and seed →
//! byte-identical output): never renumber an existing [`Stream`], only add new ones.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The purpose of a random stream; its discriminant is the ChaCha stream number.
///
/// Numbers are fixed forever (see the module documentation); new purposes take the next free
/// number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u64)]
#[non_exhaustive]
pub enum Stream {
    /// Random decoders (`network.decoder = { random = ... }`).
    Decoder = 1,
    /// Random input signals (`[input] kind = "smooth_random"`).
    Input = 2,
    /// Noise currents injected into the neurons.
    Noise = 3,
    /// Learning: random basis parameters, random training inputs.
    Learning = 4,
    /// Perturbations: which neurons are killed.
    Perturbation = 5,
    /// Weight noise: a phase's `weight_noise`, one normal per synapse of the learned weights'
    /// offset (its own stream, so that kill draws never change with it).
    WeightNoise = 6,
}

impl Stream {
    /// The ChaCha stream number of this purpose.
    pub(crate) const fn number(self) -> u64 {
        self as u64
    }
}

/// The generator for `purpose` in a run seeded with `seed`.
///
/// `ChaCha8Rng::seed_from_u64(seed)` with its stream set to `purpose.number()`: deterministic for a
/// given `(seed, purpose)`, independent across purposes.
pub fn rng_stream(seed: u64, purpose: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose.number());
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn draws(seed: u64, purpose: Stream) -> Vec<u64> {
        let mut rng = rng_stream(seed, purpose);
        (0..8).map(|_| rng.gen()).collect()
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        assert_eq!(draws(7, Stream::Decoder), draws(7, Stream::Decoder));
        assert_ne!(draws(7, Stream::Decoder), draws(7, Stream::Input));
        assert_ne!(draws(7, Stream::Decoder), draws(8, Stream::Decoder));
        assert_eq!(rng_stream(7, Stream::Input).get_stream(), 2);
    }
}
