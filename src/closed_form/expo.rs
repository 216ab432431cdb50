//! Closed-form membrane trajectories between events (exponential polynomials).
//!
//! Between two events a neuron's voltage obeys `V' = -λ_V V + I(t)` where the input current is a
//! polynomial in the local time `τ` (the feed-forward drive `Dᵢᵀ c(t)`, degree ≤ 3) plus a slow
//! current that decays as `e^{-λ_d τ}` (all filtered spike trains decay by the same factor). The
//! solution is a fixed linear combination of a few **basis functions of τ shared by every
//! neuron**:
//!
//! ```text
//! V(τ) = v0·e^{-λ_V τ} + Σ_k b_k·R_k(τ) + s·E(τ)
//! R_k(τ) = ∫_0^τ e^{-λ_V(τ-u)} u^k du          (response to the drive term u^k; increasing)
//! E(τ)   = ∫_0^τ e^{-λ_V(τ-u)} e^{-λ_d u} du   (response to the slow current; unimodal)
//! ```
//!
//! Every basis function is monotone or unimodal with a known peak, so its exact range over any
//! `[a, b]` follows from a few values — the enclosures the certified crossing search needs
//! ([`crate::closed_form::crossing`]). `E` is evaluated as `τ e^{-λ_V τ} (e^{δτ} − 1)/(δτ)`, `δ = λ_V − λ_d`,
//! which is accurate for `λ_V = λ_d` (the resonant case `τ e^{-λτ}`) and for every `λ_V` near it.

/// Highest degree of the polynomial drive inside one interval (cubic splines for inputs, the
/// degree-4 dense output of the teacher's Dormand–Prince solver, and the polynomial fits of
/// learned slow currents, [`crate::learning::rule`]).
pub(crate) const MAX_DEGREE: usize = 7;

/// A closed interval `[lo, hi]` of reals, used for enclosures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Interval {
    /// Lower end.
    pub(crate) lo: f64,
    /// Upper end.
    pub(crate) hi: f64,
}

impl Interval {
    /// The interval spanned by two values, in either order.
    pub(crate) fn hull(x: f64, y: f64) -> Interval {
        if x <= y {
            Interval { lo: x, hi: y }
        } else {
            Interval { lo: y, hi: x }
        }
    }

    /// `c · [lo, hi]`.
    #[inline]
    pub(crate) fn scale(self, c: f64) -> Interval {
        if c >= 0.0 {
            Interval {
                lo: c * self.lo,
                hi: c * self.hi,
            }
        } else {
            Interval {
                lo: c * self.hi,
                hi: c * self.lo,
            }
        }
    }

    /// Interval sum.
    #[inline]
    pub(crate) fn plus(self, o: Interval) -> Interval {
        Interval {
            lo: self.lo + o.lo,
            hi: self.hi + o.hi,
        }
    }

    /// Largest absolute value in the interval.
    #[inline]
    pub(crate) fn mag(self) -> f64 {
        self.lo.abs().max(self.hi.abs())
    }
}

/// The two rates that shape every trajectory, and derived constants.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq)]
pub(crate) struct Membrane {
    lambda_v: f64,
    lambda_d: f64,
    /// Time at which `E(τ)` peaks.
    slow_peak: f64,
}

/// The basis functions evaluated at one local time `τ ≥ 0`.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct BasisValues {
    /// Local time τ (s since the interval start).
    pub(crate) tau: f64,
    /// `e^{-λ_V τ}`.
    pub(crate) leak: f64,
    /// `e^{-λ_d τ}`: the decay factor of every filtered spike train.
    pub(crate) decay: f64,
    /// `R_k(τ)` for `k = 0..=MAX_DEGREE` (entries above the requested degree are 0).
    pub(crate) drive: [f64; MAX_DEGREE + 1],
    /// `E(τ)`.
    pub(crate) slow: f64,
}

/// Exact ranges of the basis functions (and of the derivative's pieces) over `[a, b]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BasisRanges {
    /// Range of `e^{-λ_V τ}`.
    pub(crate) leak: Interval,
    /// Range of `R_k`.
    pub(crate) drive: [Interval; MAX_DEGREE + 1],
    /// Range of `E`.
    pub(crate) slow: Interval,
    /// Range of `E'(τ) = e^{-λ_d τ} − λ_V E(τ)` (an enclosure, not exact).
    pub(crate) slow_deriv: Interval,
    /// Largest magnitudes of leak, slow, and drive `0..=MAX_DEGREE` (for rounding margins).
    pub(crate) mags: [f64; MAX_DEGREE + 3],
}

/// `R_0(τ) = (1 − e^{−λ_V τ})/λ_V` (`x = λ_V τ`): the series `τ Σ_n (−x)^n/(n+1)!` below
/// x = 1, where it has little cancellation, else by `expm1` — the degree-0 case of
/// [`Membrane::values_with`]'s series, to the bit.
#[inline(always)]
fn r0(tau: f64, x: f64, lv: f64) -> f64 {
    if x < 1.0 {
        let (mut term, mut sum) = (1.0, 1.0);
        for n in 1..60 {
            term *= -x / ((n + 1) as f64);
            sum += term;
            if term.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        tau * sum
    } else {
        -(-x).exp_m1() / lv
    }
}

impl Membrane {
    /// Membrane with leak `lambda_v` and slow/readout decay `lambda_d` (both 1/s, > 0).
    pub(crate) fn new(lambda_v: f64, lambda_d: f64) -> Membrane {
        debug_assert!(lambda_v > 0.0 && lambda_d > 0.0);
        let delta = lambda_v - lambda_d;
        let slow_peak = if delta.abs() <= 1e-12 * lambda_v {
            1.0 / lambda_v
        } else {
            (lambda_v / lambda_d).ln() / delta
        };
        Membrane {
            lambda_v,
            lambda_d,
            slow_peak,
        }
    }

    /// `E(τ) = ∫_0^τ e^{-λ_V(τ-u)} e^{-λ_d u} du`, evaluated without cancellation.
    pub(crate) fn slow_response(&self, tau: f64, leak: f64, decay: f64) -> f64 {
        let delta = self.lambda_v - self.lambda_d;
        let y = delta * tau;
        if y.abs() > 0.5 {
            (decay - leak) / delta
        } else if y == 0.0 {
            tau * leak
        } else {
            tau * leak * (y.exp_m1() / y)
        }
    }

    /// All basis functions at `tau ≥ 0`, up to drive degree `degree`.
    pub(crate) fn values(&self, tau: f64, degree: usize) -> BasisValues {
        self.values_with(tau, degree, true)
    }

    /// `tr`'s value at local time `tau`, from [`Membrane::values_for`] (the fuzz tests' probe).
    #[cfg(test)]
    pub(crate) fn value_of(&self, tr: &Trajectory, tau: f64) -> f64 {
        tr.value(&self.values_for(tr, tau))
    }

    /// The basis at `tau` as `tr` needs it: [`Membrane::values`] without the slow basis function
    /// (an exponential) when `tr` has no slow current — the same value and derivative to the
    /// bit (with `slow = ±0`, `slow · E` is `±0` for every `E ≥ 0`, so `E = 0` gives the same
    /// sum).
    #[inline]
    pub(crate) fn values_for(&self, tr: &Trajectory, tau: f64) -> BasisValues {
        self.values_with(tau, tr.degree, tr.slow != 0.0)
    }

    /// [`Membrane::values`], with `decay` = 1 and `slow` = 0 unless `slow` is asked for.
    #[inline]
    pub(crate) fn values_with(&self, tau: f64, degree: usize, slow: bool) -> BasisValues {
        if tau.to_bits() == 0 {
            // τ = +0 (every search starts there): the values below give exactly these.
            return BasisValues {
                tau,
                leak: 1.0,
                decay: 1.0,
                drive: [0.0; MAX_DEGREE + 1],
                slow: 0.0,
            };
        }
        let lv = self.lambda_v;
        let x = lv * tau;
        let leak = (-x).exp();
        let decay = if !slow {
            1.0
        } else if self.lambda_d == lv {
            // (−λ_d τ is −x to the bit: the same exponential.)
            leak
        } else {
            (-self.lambda_d * tau).exp()
        };
        let mut drive = [0.0; MAX_DEGREE + 1];
        if degree == 0 {
            // (The fast-only networks' one basis function, without the loop's bookkeeping.)
            drive[0] = r0(tau, x, lv);
        } else {
            self.drive_terms(tau, x, degree, &mut drive);
        }
        let slow = if slow {
            self.slow_response(tau, leak, decay)
        } else {
            0.0
        };
        BasisValues {
            tau,
            leak,
            decay,
            drive,
            slow,
        }
    }

    /// `R_k(τ)` for `k = 0..=degree` into `drive` (`x = λ_V τ`).
    fn drive_terms(&self, tau: f64, x: f64, degree: usize, drive: &mut [f64; MAX_DEGREE + 1]) {
        let lv = self.lambda_v;
        // R_k by the series τ^{k+1} k! Σ_n (−x)^n / (n+k+1)! where it has little cancellation
        // (x < 1 + k/2: the summed terms exceed the sum by at most ~e^x·x/(k+1)), otherwise by
        // the upward recursion R_k = (τ^k − k R_{k−1}) / λ_V (error growth ~k!/x^k, small there).
        let (mut tk, mut kfact) = (1.0, 1.0); // τ^k, k!
        for k in 0..=degree {
            if k > 0 {
                tk *= tau;
                kfact *= k as f64;
            }
            drive[k] = if k == 0 {
                r0(tau, x, lv)
            } else if x < 1.0 + 0.5 * k as f64 {
                let mut term = 1.0 / (kfact * (k + 1) as f64); // 1/(k+1)!
                let mut sum = term;
                for n in 1..60 {
                    term *= -x / ((n + k + 1) as f64);
                    sum += term;
                    if term.abs() <= 1e-17 * sum.abs() {
                        break;
                    }
                }
                tk * tau * kfact * sum
            } else {
                (tk - k as f64 * drive[k - 1]) / lv
            };
        }
    }

    /// Value of `E` at its peak.
    fn slow_peak_value(&self) -> f64 {
        let t = self.slow_peak;
        let leak = (-self.lambda_v * t).exp();
        let decay = (-self.lambda_d * t).exp();
        self.slow_response(t, leak, decay)
    }

    /// Exact ranges of each basis function over `[a.tau, b.tau]` from their endpoint values.
    pub(crate) fn ranges(&self, a: &BasisValues, b: &BasisValues, degree: usize) -> BasisRanges {
        let leak = Interval {
            lo: b.leak,
            hi: a.leak,
        };
        let mut drive = [Interval { lo: 0.0, hi: 0.0 }; MAX_DEGREE + 1];
        for (k, r) in drive.iter_mut().enumerate().take(degree + 1) {
            *r = Interval {
                lo: a.drive[k],
                hi: b.drive[k],
            };
        }
        let slow = if b.tau <= self.slow_peak || a.tau >= self.slow_peak {
            Interval::hull(a.slow, b.slow)
        } else {
            Interval {
                lo: a.slow.min(b.slow),
                hi: self.slow_peak_value().max(a.slow).max(b.slow),
            }
        };
        let slow_deriv = Interval {
            lo: b.decay - self.lambda_v * slow.hi,
            hi: a.decay - self.lambda_v * slow.lo,
        };
        let mut mags = [0.0; MAX_DEGREE + 3];
        mags[0] = leak.mag();
        mags[1] = slow.mag();
        for (m, r) in mags[2..].iter_mut().zip(&drive) {
            *m = r.mag();
        }
        BasisRanges {
            leak,
            drive,
            slow,
            slow_deriv,
            mags,
        }
    }
}

/// One neuron's voltage on the current interval: `V(τ) = v0 e^{-λ_V τ} + Σ b_k R_k(τ) + s E(τ)`.
///
/// Coefficients above `degree` are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Trajectory {
    /// Voltage at the interval start.
    pub(crate) v0: f64,
    /// Coefficients `b_k` of the drive polynomial `Σ b_k u^k` (u = local time).
    pub(crate) drive: [f64; MAX_DEGREE + 1],
    /// Amplitude `s` of the slow current `s e^{-λ_d u}` at the interval start.
    pub(crate) slow: f64,
    /// Highest drive degree in use (0 for piecewise-constant input).
    pub(crate) degree: usize,
}

impl Trajectory {
    /// Voltage at the time the basis was evaluated at.
    #[inline]
    pub(crate) fn value(&self, bv: &BasisValues) -> f64 {
        let (b, r) = (&self.drive, &bv.drive);
        let mut v = self.v0 * bv.leak + self.slow * bv.slow + b[0] * r[0];
        for k in 1..=self.degree {
            v += b[k] * r[k];
        }
        v
    }

    /// Time derivative of the voltage at the time the basis was evaluated at.
    #[inline]
    pub(crate) fn derivative(&self, m: &Membrane, bv: &BasisValues) -> f64 {
        // R_0' = e^{-λ_V τ}; R_k' = k R_{k-1}; E' = e^{-λ_d τ} − λ_V E.
        let (b, r) = (&self.drive, &bv.drive);
        let mut d =
            (b[0] - m.lambda_v * self.v0) * bv.leak + self.slow * (bv.decay - m.lambda_v * bv.slow);
        for k in 1..=self.degree {
            d += k as f64 * b[k] * r[k - 1];
        }
        d
    }

    /// Upper bound of the voltage over the interval the ranges describe, and the magnitude of
    /// the summed terms (for rounding margins). The cheap test of the kernel's bound pass.
    #[inline]
    pub(crate) fn upper_bound(&self, r: &BasisRanges) -> (f64, f64) {
        // Branches, not f64::max: NaN-aware max costs several instructions, and this runs for
        // every neuron at every event.
        #[inline(always)]
        fn hi(c: f64, iv: Interval) -> f64 {
            if c >= 0.0 {
                c * iv.hi
            } else {
                c * iv.lo
            }
        }
        let (b, d, mg) = (&self.drive, &r.drive, &r.mags);
        let mut ub = hi(self.v0, r.leak) + hi(self.slow, r.slow) + hi(b[0], d[0]);
        let mut m = self.v0.abs() * mg[0] + self.slow.abs() * mg[1] + b[0].abs() * mg[2];
        for k in 1..=self.degree {
            ub += hi(b[k], d[k]);
            m += b[k].abs() * mg[2 + k];
        }
        (ub, m)
    }

    /// Enclosures of the voltage and of its derivative over the interval the ranges describe,
    /// plus the magnitude of the summed terms (for rounding margins).
    #[inline]
    pub(crate) fn enclose(&self, m: &Membrane, r: &BasisRanges) -> (Interval, Interval, f64) {
        let mut v = r.leak.scale(self.v0).plus(r.slow.scale(self.slow));
        let mut mag = self.v0.abs() * r.leak.mag() + self.slow.abs() * r.slow.mag();
        let mut d = r
            .leak
            .scale(self.drive[0] - m.lambda_v * self.v0)
            .plus(r.slow_deriv.scale(self.slow));
        for k in 0..=self.degree {
            let term = r.drive[k].scale(self.drive[k]);
            mag += term.mag();
            v = v.plus(term);
            if k >= 1 {
                d = d.plus(r.drive[k - 1].scale(self.drive[k] * k as f64));
            }
        }
        (v, d, mag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive coefficients padded with zeros.
    fn pad(x: &[f64]) -> [f64; crate::closed_form::expo::MAX_DEGREE + 1] {
        let mut out = [0.0; crate::closed_form::expo::MAX_DEGREE + 1];
        out[..x.len()].copy_from_slice(x);
        out
    }

    /// Reference values by composite Simpson quadrature of the defining integrals.
    fn quad(f: impl Fn(f64) -> f64, tau: f64) -> f64 {
        let n = 20_000;
        let h = tau / n as f64;
        let mut s = f(0.0) + f(tau);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            s += w * f(i as f64 * h);
        }
        s * h / 3.0
    }

    #[test]
    fn basis_matches_quadrature_across_regimes() {
        for &(lv, ld) in &[(20.0, 10.0), (10.0, 10.0), (10.0, 10.000001), (5.0, 40.0)] {
            let m = Membrane::new(lv, ld);
            for &tau in &[1e-6, 1e-3, 0.04, 0.1, 0.3, 2.0] {
                let bv = m.values(tau, MAX_DEGREE);
                for k in 0..=MAX_DEGREE {
                    let r = quad(|u| (-lv * (tau - u)).exp() * u.powi(k as i32), tau);
                    assert!(
                        (bv.drive[k] - r).abs() <= 1e-9 * r.abs() + 1e-300,
                        "R_{k} {lv} {tau}"
                    );
                }
                let e = quad(|u| (-lv * (tau - u)).exp() * (-ld * u).exp(), tau);
                assert!(
                    (bv.slow - e).abs() <= 1e-9 * e,
                    "E {lv} {ld} {tau}: {} vs {e}",
                    bv.slow
                );
            }
        }
    }

    #[test]
    fn trajectory_solves_the_membrane_ode() {
        let m = Membrane::new(20.0, 10.0);
        let tr = Trajectory {
            v0: 0.3,
            drive: pad(&[2.0, -5.0, 30.0, -100.0]),
            slow: 1.5,
            degree: 3,
        };
        // Check V' = -λ_V V + I(τ) at a few points.
        for &tau in &[0.0, 0.01, 0.05, 0.2] {
            let bv = m.values(tau, 3);
            let input = 2.0 - 5.0 * tau + 30.0 * tau * tau - 100.0 * tau.powi(3)
                + 1.5 * (-10.0 * tau).exp();
            let lhs = tr.derivative(&m, &bv);
            let rhs = -20.0 * tr.value(&bv) + input;
            assert!(
                (lhs - rhs).abs() < 1e-12 * (1.0 + rhs.abs()),
                "{lhs} vs {rhs}"
            );
        }
    }

    #[test]
    fn enclosures_contain_sampled_values() {
        let m = Membrane::new(20.0, 10.0);
        let tr = Trajectory {
            v0: -0.3,
            drive: pad(&[2.0, -5.0, 30.0, -100.0]),
            slow: -1.5,
            degree: 3,
        };
        let (a, b) = (0.01, 0.19);
        let (ba, bb) = (m.values(a, 3), m.values(b, 3));
        let (v, d, _) = tr.enclose(&m, &m.ranges(&ba, &bb, 3));
        for i in 0..=1000 {
            let bv = m.values(a + (b - a) * i as f64 / 1000.0, 3);
            let (x, dx) = (tr.value(&bv), tr.derivative(&m, &bv));
            assert!(v.lo <= x + 1e-15 && x <= v.hi + 1e-15);
            assert!(d.lo <= dx + 1e-12 && dx <= d.hi + 1e-12);
        }
    }
}
