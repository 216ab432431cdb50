//! The upper envelope of a group of neurons along an axis: the bound of the decoder hierarchy
//! ([`super`]) that couples decoders with thresholds (see its module docs).
//!
//! Along the axis every member is a line `a_i s − T_i`; their maximum `E(s)` is convex and
//! piecewise linear. Left of its first breakpoint it *is* the line of smallest slope, right of
//! its last the line of largest slope, so a table of `E` at knots spanning exactly those two
//! breakpoints bounds it by chords inside and is exact outside (up to rounding): the bound is
//! tight wherever the shared state is, not only near the members' threshold points.

/// Knots of a node's envelope table (evenly spaced: the chord is found by one division).
pub(super) const KNOTS: usize = 8;

/// The upper envelope of a node's members along its axis (see [`super`]), over all its
/// members (kills only loosen it).
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub(super) struct Envelope {
    /// Smallest and largest `a_i = D_iᵀ u`: the envelope's slopes left and right of the table.
    pub(super) amin: f64,
    pub(super) amax: f64,
    /// Largest `‖D_i − a_i u‖`.
    pub(super) rho: f64,
    /// The first knot and the spacing: knot j is `k0 + j · step`.
    k0: f64,
    step: f64,
    inv_step: f64,
    /// `E` at the knots.
    e: [f64; KNOTS],
    /// Magnitude of the table and of the thresholds, for the rounding allowance.
    pub(super) mag: f64,
}

impl Envelope {
    /// The envelope of nobody (every bound −∞ … +∞ is left to the node's other fields).
    pub(super) const EMPTY: Envelope = Envelope {
        amin: 0.0,
        amax: 0.0,
        rho: f64::INFINITY,
        k0: 0.0,
        step: 0.0,
        inv_step: 0.0,
        e: [f64::INFINITY; KNOTS],
        mag: 0.0,
    };

    /// The envelope of the lines `(a_i, T_i)` (`a_i s − T_i`), whose largest distance from the
    /// axis is `rho`. O(m): the outermost breakpoints are where the lines of extreme slope are
    /// first overtaken, found by one pass each.
    pub(super) fn new(lines: &[(f64, f64)], rho: f64) -> Envelope {
        if lines.is_empty() {
            return Envelope::EMPTY;
        }
        let lowest =
            |x: &&(f64, f64), y: &&(f64, f64)| x.0.total_cmp(&y.0).then(y.1.total_cmp(&x.1));
        // The line of smallest slope (of those, the smallest threshold) leads as s → −∞, the
        // one of largest slope as s → +∞.
        let first = *lines
            .iter()
            .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)))
            .expect("non-empty");
        let last = *lines.iter().max_by(lowest).expect("non-empty");
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut tabs = 0.0_f64;
        for &(a, t) in lines {
            tabs = tabs.max(t.abs());
            if a > first.0 {
                lo = lo.min((t - first.1) / (a - first.0));
            }
            if a < last.0 {
                hi = hi.max((last.1 - t) / (last.0 - a));
            }
        }
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            // One line (or parallel ones) leads everywhere: any single knot is exact.
            (lo, hi) = if lo.is_finite() { (lo, lo) } else { (0.0, 0.0) };
        }
        let step = (hi - lo) / (KNOTS - 1) as f64;
        let mut env = Envelope {
            amin: first.0,
            amax: last.0,
            // Widened for the rounding of the residuals.
            rho: rho * (1.0 + 1e-12),
            k0: lo,
            step,
            inv_step: if step > 0.0 { 1.0 / step } else { 0.0 },
            e: [f64::NEG_INFINITY; KNOTS],
            mag: 0.0,
        };
        for j in 0..KNOTS {
            let s = env.knot(j);
            env.e[j] = lines
                .iter()
                .fold(f64::NEG_INFINITY, |m, &(a, t)| m.max(a * s - t));
        }
        env.mag = env.e.iter().fold(tabs, |m, x| m.max(x.abs()));
        env
    }

    /// Knot j (computed the same way when tabulating and when reading).
    #[inline]
    fn knot(&self, j: usize) -> f64 {
        self.k0 + j as f64 * self.step
    }

    /// `max_i (a_i s − T_i)` over the members, bounded from the table.
    #[inline]
    pub(super) fn at(&self, s: f64) -> f64 {
        let e = &self.e;
        let top = self.knot(KNOTS - 1);
        if s <= self.k0 {
            e[0] + self.amin * (s - self.k0)
        } else if s >= top {
            e[KNOTS - 1] + self.amax * (s - top)
        } else {
            // The chord over the knots around s (the index from one division, corrected for
            // its rounding so that knot j ≤ s ≤ knot j + 1: a chord is a bound only there).
            let mut j = (((s - self.k0) * self.inv_step) as usize).min(KNOTS - 2);
            while j > 0 && s < self.knot(j) {
                j -= 1;
            }
            while j < KNOTS - 2 && s > self.knot(j + 1) {
                j += 1;
            }
            let (kj, kn) = (self.knot(j), self.knot(j + 1));
            e[j] + (s - kj) * ((e[j + 1] - e[j]) / (kn - kj))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn exact(lines: &[(f64, f64)], s: f64) -> f64 {
        lines
            .iter()
            .fold(f64::NEG_INFINITY, |m, &(a, t)| m.max(a * s - t))
    }

    /// Above the true envelope everywhere (allowing rounding), exact outside the outermost
    /// breakpoints, and within the chord error inside.
    #[test]
    fn bounds_the_envelope_and_is_exact_outside_its_breakpoints() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for case in 0..200 {
            let m = 1 + case % 40;
            // EBN-like lines: thresholds (a² + μ)/2, tangent to a parabola; every few cases
            // random ones, parallel ones or a single line.
            let lines: Vec<(f64, f64)> = (0..m)
                .map(|_| {
                    let a: f64 = match case % 4 {
                        3 => 0.01,
                        _ => rng.gen_range(-0.02..0.02),
                    };
                    let t = match case % 4 {
                        0 | 3 => 0.5 * (a * a + 1e-4) + rng.gen_range(0.0..1e-5),
                        _ => rng.gen_range(0.0..2e-4),
                    };
                    (a, t)
                })
                .collect();
            let env = Envelope::new(&lines, 0.0);
            let scale = env.mag.max(1e-300);
            for k in 0..400 {
                let s = -0.1 + 0.2 * k as f64 / 399.0;
                let (b, x) = (env.at(s), exact(&lines, s));
                assert!(b >= x - 1e-13 * scale, "case {case}, s = {s}: {b} < {x}");
                if s < env.k0 || s > env.knot(KNOTS - 1) {
                    assert!(
                        b - x <= 1e-12 * (scale + s.abs()),
                        "case {case}, s = {s}: {b} vs {x}"
                    );
                }
            }
        }
    }
}
