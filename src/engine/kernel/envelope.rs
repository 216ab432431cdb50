//! The upper envelope of a group of neurons along an axis: the bound of the decoder hierarchy
//! ([`super::tree`]) that couples decoders with thresholds (see its module docs).

/// Breakpoints of a node's envelope table.
pub(super) const KNOTS: usize = 4;

/// The upper envelope of a node's members along its axis (see [`super::tree`]), over all its
/// members (kills only loosen it).
#[derive(Clone, Copy, Debug)]
pub(super) struct Envelope {
    /// Smallest and largest `a_i = D_iᵀ u`: the envelope's slopes below and above the table.
    pub(super) amin: f64,
    pub(super) amax: f64,
    /// Largest `‖D_i − a_i u‖`.
    pub(super) rho: f64,
    /// Breakpoints (non-decreasing) and `E` there.
    pub(super) s: [f64; KNOTS],
    pub(super) e: [f64; KNOTS],
    /// Magnitude of the table and of the thresholds, for the rounding allowance.
    pub(super) mag: f64,
}

impl Envelope {
    /// `max_i (a_i s − T_i)` over the members, bounded from the table.
    #[inline]
    pub(super) fn at(&self, s: f64) -> f64 {
        let (k, e) = (&self.s, &self.e);
        if s <= k[0] {
            e[0] + self.amin * (s - k[0])
        } else if s >= k[KNOTS - 1] {
            e[KNOTS - 1] + self.amax * (s - k[KNOTS - 1])
        } else {
            let mut j = 0;
            while s >= k[j + 1] {
                j += 1;
            }
            // k[j] <= s < k[j + 1]: the chord.
            e[j] + (s - k[j]) * ((e[j + 1] - e[j]) / (k[j + 1] - k[j]))
        }
    }
}
