//! Target (teacher) systems `ẋ = g(x) + c(t)`, evaluated at any time.
//!
//! Why: the readout `x̂ = D r` of a network is only meaningful against the trajectory it should
//! track, and every accuracy number the crate reports (`readout_rmse`, `nrmse`, the learning
//! error `e = x − x̂`) depends on that trajectory being right. For the linear target
//! `g(x) = A x` with a piecewise-polynomial input the solution has a closed form, so
//! [`LinearTeacher`] evaluates it **exactly** (to rounding), with no step size to choose, and in
//! any order of query times.
//!
//! # The construction (Van Loan's augmented matrix)
//!
//! Inside one input segment starting at the knot `t_s`, the input is a polynomial of degree `p`
//! in `τ = t − t_s`: `c(t_s + τ) = Σ_{k=0..p} c_k τ^k` (see `Signal::local_polynomial`).
//! Introduce `p + 1` auxiliary variables `y_m(τ) = τ^(p−m) / (p−m)!`, `m = 0..p`. They obey the
//! linear system `y' = J y` with `J` the nilpotent shift (`J[m][m+1] = 1`, zeros elsewhere) and
//! `y(0) = e_p` (only `y_p = 1` is non-zero). With the d×(p+1) matrix `C[:, m] = (p−m)! c_(p−m)`
//! we have `C y(τ) = c(t_s + τ)`, so the pair `z = (x, y)` solves the *homogeneous* system
//!
//! ```text
//!         ⎡ A  C ⎤                                   ⎡ x(t_s) ⎤
//! z' = M z,   M = ⎢      ⎥  (size d+p+1),   z(τ) = exp(τ M) ⎢        ⎥
//!         ⎣ 0  J ⎦                                   ⎣  e_p   ⎦
//! ```
//!
//! and `x(t_s + τ) = E₁₁ x(t_s) + E₁₂ e_p` with `E = exp(τ M)` (E₁₁ is the top-left d×d block,
//! `E₁₂ e_p` the top `d` entries of the last column). This is exact for any `A` — singular,
//! defective, oscillatory, unstable — because nothing is inverted: `A = 0` (a perfect integrator)
//! gives `x = x0 + ∫c`. The matrix exponential is nalgebra's scaling-and-squaring Padé
//! approximant (Al-Mohy & Higham 2009), accurate to a few ulps of `‖exp(τM)‖`.
//!
//! [`LinearTeacher::new`] propagates the state to every knot once (one exponential per segment);
//! [`LinearTeacher::state_at`] then finds the segment by binary search and applies one small
//! exponential from its knot, so a query costs O(log S + (d+p)³) regardless of the order of
//! queries, and errors do not accumulate within a segment. For many evenly spaced times in
//! order, `LinearTeacher::uniform_samples` steps `z` by one exponential `exp(h M)` per segment
//! instead (a few ulps per step, at a fraction of the cost).

use crate::closed_form::expo::MAX_DEGREE;
use crate::error::BuildError;
use crate::model::signal::Signal;
use nalgebra::{DMatrix, DVector};

/// A target system that can report its state `x(t)` at any time.
///
/// Implemented by [`LinearTeacher`]; nonlinear targets (solved by an ODE integrator with dense
/// output) implement it too. Calls may come in any order of `t`.
pub trait Target {
    /// Number of state components d.
    fn dims(&self) -> usize;

    /// The state `x(t)` into `out` (length [`Target::dims`]); `t ≥ 0` in seconds.
    fn state_at(&self, t: f64, out: &mut [f64]);

    /// [`Target::state_at`] for a caller that evaluates many nearby times: `hint` is a position
    /// the target may keep between such calls (start it at 0) to find `t` faster. The values are
    /// those of `state_at`; the default ignores the hint.
    fn state_at_hinted(&self, t: f64, out: &mut [f64], hint: &mut usize) {
        let _ = hint;
        self.state_at(t, out);
    }
}

/// The linear target `ẋ = A x + c(t)`, `x(0) = x0`, with a piecewise-polynomial input `c`,
/// evaluated exactly at any time (see the [module documentation](self) for the method).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct LinearTeacher {
    dims: usize,
    /// `A`, d×d.
    a: DMatrix<f64>,
    /// The input; its knots are the segment starts.
    input: Signal,
    /// `x` at every knot: `knot_states[s * d + j]` is `x_j(knots[s])`.
    knot_states: Vec<f64>,
}

impl LinearTeacher {
    /// The target `ẋ = A x + c(t)` from `x(0) = x0`; `a` is the d×d matrix `A` in row-major
    /// order (rows are equations), d = `input.dims()`.
    ///
    /// Propagates the state to every knot of `input` (one small matrix exponential per
    /// segment). Errors name the fields `target.a` (wrong size, non-finite entry) and
    /// `target.initial` (wrong length, non-finite entry).
    pub fn new(a: &[f64], x0: &[f64], input: &Signal) -> Result<LinearTeacher, BuildError> {
        let d = input.dims();
        if a.len() != d * d {
            return Err(BuildError::new(
                "target.a",
                format!("a {d}×{d} matrix ({} entries; d = network.dims)", d * d),
                format!("{} entries", a.len()),
            ));
        }
        for (k, &v) in a.iter().enumerate() {
            if !v.is_finite() {
                return Err(BuildError::new(
                    format!("target.a[{}][{}]", k / d, k % d),
                    "a finite number",
                    format!("{v}"),
                ));
            }
        }
        if x0.len() != d {
            return Err(BuildError::new(
                "target.initial",
                format!("a vector of {d} components (network.dims)"),
                format!("{} components", x0.len()),
            ));
        }
        for (j, &v) in x0.iter().enumerate() {
            if !v.is_finite() {
                return Err(BuildError::new(
                    format!("target.initial[{j}]"),
                    "a finite number",
                    format!("{v}"),
                ));
            }
        }
        let mut teacher = LinearTeacher {
            dims: d,
            a: DMatrix::from_row_slice(d, d, a),
            input: input.clone(),
            knot_states: Vec::with_capacity(input.knots().len() * d),
        };
        teacher.knot_states.extend_from_slice(x0);
        let knots = input.knots();
        let mut next = vec![0.0; d];
        for s in 0..knots.len().saturating_sub(1) {
            let here = &teacher.knot_states[s * d..(s + 1) * d];
            teacher.propagate(s, here, knots[s + 1] - knots[s], &mut next);
            teacher.knot_states.extend_from_slice(&next);
        }
        Ok(teacher)
    }

    /// The input `c(t)` this target is driven by.
    pub fn input(&self) -> &Signal {
        &self.input
    }

    /// The matrix `A`, row-major d×d.
    pub fn a(&self) -> Vec<f64> {
        let d = self.dims;
        (0..d * d).map(|k| self.a[(k / d, k % d)]).collect()
    }

    /// The state `x(t)` into `out` (length d).
    ///
    /// Exact to rounding for every finite `t ≥ 0`; calls may come in any order. A negative `t`
    /// is integrated backwards through the first segment's polynomial; a non-finite `t` gives
    /// NaN in every component.
    ///
    /// # Panics
    /// When `out` is shorter than d.
    pub fn state_at(&self, t: f64, out: &mut [f64]) {
        let d = self.dims;
        let out = &mut out[..d];
        if !t.is_finite() {
            out.fill(f64::NAN);
            return;
        }
        let seg = self.input.segment_at(t);
        let tau = t - self.input.knots()[seg];
        let here = &self.knot_states[seg * d..seg * d + d];
        if tau == 0.0 {
            out.copy_from_slice(here);
        } else {
            self.propagate(seg, here, tau, out);
        }
    }

    /// `x(t_s + τ)` from `x(t_s)` = `from`, in segment `seg`, via `exp(τ M)` (module docs).
    fn propagate(&self, seg: usize, from: &[f64], tau: f64, out: &mut [f64]) {
        match self.exp_of(seg, tau) {
            (p, Some((e, _))) => {
                for (i, o) in out.iter_mut().enumerate().take(self.dims) {
                    *o = affine_row(&e, i, self.dims + p, from);
                }
            }
            (_, None) => out.fill(f64::NAN),
        }
    }

    /// The input's degree `p` in segment `seg`, and `exp(τ M)` there with the one-norm of
    /// `τ M` — `None` when that norm is beyond [`MAX_EXP_NORM`] or not finite. (nalgebra's scaling and
    /// squaring fails — a panic in its LU solve — on entries that are not finite or so large
    /// that the scaled matrix overflows: such a target has no finite state to give, and NaN
    /// makes the run stop with an error naming the time.)
    fn exp_of(&self, seg: usize, tau: f64) -> (usize, Option<(DMatrix<f64>, f64)>) {
        let (m, p) = self.scaled_generator(seg, tau);
        let norm = one_norm(&m);
        if norm.is_nan() || norm > MAX_EXP_NORM {
            return (p, None);
        }
        (p, Some((expm(&m), norm)))
    }
}

/// `exp(m)` as nalgebra computes it for `m`'s size: sizes 2 to 5 (every target up to d = 4
/// with constant input, d = 1 up to a cubic one) through its fixed-size matrices, whose Padé
/// steps allocate nothing — the same algorithm with the same operations in the same order, so
/// the same bits (`fixed_size_exponentials_are_the_dynamic_ones` checks), several times faster.
fn expm(m: &DMatrix<f64>) -> DMatrix<f64> {
    macro_rules! fixed {
        ($n:literal) => {{
            let e = nalgebra::SMatrix::<f64, $n, $n>::from_column_slice(m.as_slice()).exp();
            DMatrix::from_column_slice($n, $n, e.as_slice())
        }};
    }
    match m.nrows() {
        2 => fixed!(2),
        3 => fixed!(3),
        4 => fixed!(4),
        5 => fixed!(5),
        _ => m.exp(),
    }
}

/// Row `i` of `E (x, e_p)`: `E[i][last] + Σ_k E[i][k] x_k`, with `last` = d + p the column of
/// `e_p` (summed in this order everywhere, so every caller gets the same bits).
#[inline]
fn affine_row(e: &DMatrix<f64>, i: usize, last: usize, x: &[f64]) -> f64 {
    let mut v = e[(i, last)];
    for (k, &xk) in x.iter().enumerate() {
        v += e[(i, k)] * xk;
    }
    v
}

/// The step `exp(h M)` of one segment's augmented system ([`LinearTeacher::uniform_samples`]).
struct Step {
    /// `exp(h M)`, (d+p+1)×(d+p+1).
    exp: DMatrix<f64>,
    /// The one-norm of `M` (of `h M`, divided by `h`): `τ · norm` stands for that of `τ M`.
    norm: f64,
}

impl LinearTeacher {
    /// The states at the `count + 1` times `t0 + k·h`, `k = 0..=count` (each time computed
    /// as `t0 + k as f64 * h`), handed to `f` in order, each a slice of length d.
    ///
    /// The values are those of [`LinearTeacher::state_at`] to a few ulps per step (not to the
    /// bit), at a fraction of the cost: within a segment the augmented state `z = (x, y)` of
    /// the [module documentation](self) is stepped from sample to sample by `exp(h M)`,
    /// computed once per segment; the first sample of a segment starts from the knot with one
    /// exponential of `τ M`, as `state_at` does (bit for bit). Where `state_at` has no finite
    /// state to give (the norm of `τ M` beyond its limit, or an overflow), every component is
    /// NaN. With `h` not positive and finite, every sample is `state_at`'s.
    pub(crate) fn uniform_samples(&self, t0: f64, h: f64, count: usize, mut f: impl FnMut(&[f64])) {
        let d = self.dims;
        let mut out = vec![0.0; d];
        if !(h > 0.0 && h.is_finite()) {
            for k in 0..=count {
                self.state_at(t0 + k as f64 * h, &mut out);
                f(&out);
            }
            return;
        }
        let knots = self.input.knots();
        let (mut seg, mut current) = (0, usize::MAX);
        // The step of segment `current`: `None` until its second sample asks for it,
        // `Some(None)` when it cannot be computed (then every sample starts from the knot).
        let mut step: Option<Option<Step>> = None;
        let mut z = DVector::<f64>::zeros(0);
        let mut next = DVector::<f64>::zeros(0);
        for k in 0..=count {
            let t = t0 + k as f64 * h;
            if !t.is_finite() {
                out.fill(f64::NAN);
                f(&out);
                continue;
            }
            // Times increase: the segment of `t` (as `Signal::segment_at`) is at or after the
            // last one.
            while seg + 1 < knots.len() && knots[seg + 1] <= t {
                seg += 1;
            }
            let tau = t - knots[seg];
            let stepped = seg == current && {
                let s = step.get_or_insert_with(|| self.step(seg, h));
                match s {
                    Some(s) if tau * s.norm <= MAX_EXP_NORM && z.len() == s.exp.nrows() => {
                        if next.len() != z.len() {
                            next = DVector::zeros(z.len());
                        }
                        s.exp.mul_to(&z, &mut next);
                        std::mem::swap(&mut z, &mut next);
                        true
                    }
                    _ => false,
                }
            };
            if !stepped {
                if seg != current {
                    current = seg;
                    step = None;
                }
                self.augmented_state(seg, tau, &mut z);
            }
            for (o, &v) in out.iter_mut().zip(z.iter()) {
                *o = v;
            }
            if out.iter().any(|v| !v.is_finite()) {
                out.fill(f64::NAN);
            }
            f(&out);
        }
    }

    /// `τ M` of segment `seg` (module docs) and the input's degree `p` there.
    fn scaled_generator(&self, seg: usize, tau: f64) -> (DMatrix<f64>, usize) {
        let d = self.dims;
        let t_s = self.input.knots()[seg];
        let mut coeffs = vec![0.0; (MAX_DEGREE + 1) * d];
        let p = self.input.local_polynomial(t_s, &mut coeffs);
        let n = d + p + 1;
        let mut m = DMatrix::<f64>::zeros(n, n);
        for i in 0..d {
            for k in 0..d {
                m[(i, k)] = tau * self.a[(i, k)];
            }
        }
        // Column `p − k` of C is k!·c_k (scaled by τ like the rest of M).
        let mut k_factorial = 1.0;
        for k in 0..=p {
            k_factorial *= k.max(1) as f64;
            for i in 0..d {
                m[(i, d + p - k)] = tau * k_factorial * coeffs[k * d + i];
            }
        }
        for col in 0..p {
            m[(d + col, d + col + 1)] = tau;
        }
        (m, p)
    }

    /// The augmented state `z(τ) = exp(τ M) (x(t_s), e_p)` of segment `seg` into `z`
    /// (resized to d+p+1); NaN in every entry when `τ M` is beyond [`MAX_EXP_NORM`] or not
    /// finite. Its `x` part is [`LinearTeacher::state_at`]'s to the bit.
    fn augmented_state(&self, seg: usize, tau: f64, z: &mut DVector<f64>) {
        let d = self.dims;
        let here = &self.knot_states[seg * d..seg * d + d];
        if tau == 0.0 {
            let (_, p) = self.scaled_generator(seg, tau);
            *z = DVector::zeros(d + p + 1);
            z.rows_mut(0, d).copy_from_slice(here);
            z[d + p] = 1.0;
            return;
        }
        let (p, e) = self.exp_of(seg, tau);
        let n = d + p + 1;
        *z = DVector::zeros(n);
        match e {
            Some((e, _)) => {
                for i in 0..n {
                    z[i] = affine_row(&e, i, d + p, here);
                }
            }
            None => z.fill(f64::NAN),
        }
    }

    /// The step `exp(h M)` of segment `seg`; `None` when `h M` is beyond [`MAX_EXP_NORM`] or
    /// not finite.
    fn step(&self, seg: usize, h: f64) -> Option<Step> {
        self.exp_of(seg, h).1.map(|(exp, norm)| Step {
            exp,
            norm: norm / h,
        })
    }
}

/// The one-norm (largest column sum of magnitudes) of `m`.
fn one_norm(m: &DMatrix<f64>) -> f64 {
    m.column_iter()
        .map(|c| c.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// Largest one-norm of `τ M` whose exponential is computed (far beyond any state that stays
/// finite: `e^{700}` already overflows).
const MAX_EXP_NORM: f64 = 1e12;

impl Target for LinearTeacher {
    fn dims(&self) -> usize {
        self.dims
    }

    fn state_at(&self, t: f64, out: &mut [f64]) {
        LinearTeacher::state_at(self, t, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The fixed-size exponentials give the dynamic ones' bits, over the norms of every Padé
    /// order and of scaling and squaring (10⁻⁸ to 10³), for every size they serve.
    #[test]
    fn fixed_size_exponentials_are_the_dynamic_ones() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for n in 2..=6 {
            for case in 0..4000 {
                let scale = 10f64.powf(rng.gen_range(-8.0..3.0));
                let m = DMatrix::from_fn(n, n, |_, _| {
                    // (Some structural zeros, as the augmented generators have.)
                    if rng.gen_bool(0.2) {
                        0.0
                    } else {
                        rng.gen_range(-1.0..1.0) * scale
                    }
                });
                let (want, got) = (m.exp(), expm(&m));
                let same = want
                    .iter()
                    .zip(got.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "n = {n}, case {case}: {m} gives {got}, not {want}");
            }
        }
    }

    /// Largest |a − b| relative to `scale`.
    fn rel_err(a: &[f64], b: &[f64], scale: f64) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
            / scale
    }

    /// Classical RK4 through every segment of `input` (stepping from knot to knot, the input
    /// taken from the segment's own polynomial so discontinuities are honoured) up to `t_end`,
    /// with steps no longer than `h`; returns the state at each of `times` (sorted).
    fn rk4(a: &[f64], x0: &[f64], input: &Signal, times: &[f64], h: f64) -> Vec<Vec<f64>> {
        let d = x0.len();
        let f = |x: &[f64], c: &[f64], out: &mut [f64]| {
            for i in 0..d {
                out[i] = c[i] + (0..d).map(|k| a[i * d + k] * x[k]).sum::<f64>();
            }
        };
        let mut x = x0.to_vec();
        let mut t = 0.0;
        let mut res = Vec::new();
        let mut poly = vec![0.0; (MAX_DEGREE + 1) * d];
        for &target in times {
            while t < target {
                let seg = input.segment_at(t);
                let t_s = input.knots()[seg];
                let deg = input.local_polynomial(t_s, &mut poly);
                let end = input.next_knot_after(t).min(target);
                let steps = ((end - t) / h).ceil().max(1.0) as usize;
                let hh = (end - t) / steps as f64;
                let c_at = |u: f64, out: &mut [f64]| {
                    for (j, o) in out.iter_mut().enumerate() {
                        let mut v = 0.0;
                        for k in (0..=deg).rev() {
                            v = v * u + poly[k * d + j];
                        }
                        *o = v;
                    }
                };
                let (mut k1, mut k2, mut k3, mut k4) =
                    (vec![0.0; d], vec![0.0; d], vec![0.0; d], vec![0.0; d]);
                let (mut c, mut tmp) = (vec![0.0; d], vec![0.0; d]);
                let u0 = t - t_s;
                for n in 0..steps {
                    let u = u0 + n as f64 * hh;
                    c_at(u, &mut c);
                    f(&x, &c, &mut k1);
                    c_at(u + hh / 2.0, &mut c);
                    for i in 0..d {
                        tmp[i] = x[i] + hh / 2.0 * k1[i];
                    }
                    f(&tmp, &c, &mut k2);
                    for i in 0..d {
                        tmp[i] = x[i] + hh / 2.0 * k2[i];
                    }
                    f(&tmp, &c, &mut k3);
                    c_at(u + hh, &mut c);
                    for i in 0..d {
                        tmp[i] = x[i] + hh * k3[i];
                    }
                    f(&tmp, &c, &mut k4);
                    for i in 0..d {
                        x[i] += hh / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
                    }
                }
                t = end;
            }
            res.push(x.clone());
        }
        res
    }

    #[test]
    fn scalar_constant_input_matches_closed_form() {
        let (a, c, x0) = (-3.5, 2.0, 0.7);
        let teacher = LinearTeacher::new(&[a], &[x0], &Signal::constant(&[c])).unwrap();
        assert_eq!(teacher.dims(), 1);
        let mut out = [0.0];
        for &t in &[0.0, 1e-9, 0.01, 0.3, 1.0, 2.5, 10.0] {
            teacher.state_at(t, &mut out);
            let exact = (x0 + c / a) * (a * t).exp() - c / a;
            assert!(
                (out[0] - exact).abs() <= 4e-16 * exact.abs().max(1.0),
                "t={t}: {}",
                out[0]
            );
        }
        // Growth as well as decay.
        let teacher = LinearTeacher::new(&[1.5], &[0.2], &Signal::constant(&[-1.0])).unwrap();
        teacher.state_at(3.0, &mut out);
        let exact = (0.2 - 1.0 / 1.5) * (4.5f64).exp() + 1.0 / 1.5;
        assert!(
            (out[0] - exact).abs() <= 1e-14 * exact.abs(),
            "{} vs {exact}",
            out[0]
        );
    }

    #[test]
    fn rotation_matches_cos_sin() {
        let w = 2.0 * std::f64::consts::PI * 3.0;
        let teacher =
            LinearTeacher::new(&[0.0, -w, w, 0.0], &[1.0, 0.5], &Signal::zero(2)).unwrap();
        let mut out = [0.0; 2];
        for &t in &[0.0, 0.01, 0.123, 0.5, 1.0, 3.7, 10.0] {
            teacher.state_at(t, &mut out);
            let (s, c) = (w * t).sin_cos();
            let exact = [c - 0.5 * s, s + 0.5 * c];
            // Scaling and squaring over ωt ≈ 190 rad: a few hundred ulps at most.
            assert!(
                rel_err(&out, &exact, 1.0) < 1e-12,
                "t={t}: {out:?} vs {exact:?}"
            );
        }
    }

    /// An oscillatory 2-D target (eigenvalues −2.4 ± 29.8i) and a piecewise-linear input of
    /// five segments (the last one held).
    fn oscillator_with_ramps() -> ([f64; 4], [f64; 2], Signal) {
        let times = [0.0, 0.05, 0.12, 0.3, 0.31, 0.6];
        let values: Vec<Vec<f64>> = vec![
            vec![0.0, 0.0],
            vec![50.0, -10.0],
            vec![50.0, 20.0],
            vec![-30.0, 0.0],
            vec![5.0, 5.0],
            vec![0.0, 1.0],
        ];
        let input = Signal::piecewise_linear(2, &times, &values).unwrap();
        ([-4.8, -22.4, 40.0, 0.0], [0.3, -0.2], input)
    }

    #[test]
    fn piecewise_linear_input_matches_rk4() {
        let (a, x0, input) = oscillator_with_ramps();
        let teacher = LinearTeacher::new(&a, &x0, &input).unwrap();
        let probe = [
            0.0, 0.01, 0.05, 0.0999, 0.12, 0.2, 0.305, 0.31, 0.45, 0.6, 0.8, 1.0,
        ];
        let reference = rk4(&a, &x0, &input, &probe, 2e-5);
        let scale = reference
            .iter()
            .flatten()
            .fold(1.0f64, |m, v| m.max(v.abs()));
        let mut out = [0.0; 2];
        for (t, r) in probe.iter().zip(&reference) {
            teacher.state_at(*t, &mut out);
            let e = rel_err(&out, r, scale);
            assert!(e <= 1e-12, "t={t}: {out:?} vs {r:?} (rel {e:e})");
        }
    }

    #[test]
    fn piecewise_constant_input_matches_rk4() {
        let a = [-400.0, -800.0, 50.0, 0.0]; // leaky differentiator: a defective A.
        let input = Signal::piecewise_constant(
            2,
            &[0.0, 0.02, 0.05],
            &[vec![100.0, 0.0], vec![0.0, -30.0], vec![10.0, 10.0]],
        )
        .unwrap();
        let teacher = LinearTeacher::new(&a, &[0.1, 0.0], &input).unwrap();
        let probe = [0.001, 0.02, 0.0333, 0.05, 0.08, 0.1];
        let reference = rk4(&a, &[0.1, 0.0], &input, &probe, 1e-6);
        let scale = reference
            .iter()
            .flatten()
            .fold(1.0f64, |m, v| m.max(v.abs()));
        let mut out = [0.0; 2];
        for (t, r) in probe.iter().zip(&reference) {
            teacher.state_at(*t, &mut out);
            let e = rel_err(&out, r, scale);
            assert!(e <= 1e-12, "t={t}: {out:?} vs {r:?} (rel {e:e})");
        }
    }

    #[test]
    fn cubic_spline_input_matches_rk4() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let input = Signal::smooth_random(&[0.0, 5.0], 30.0, 0.05, 1.0, &mut rng).unwrap();
        assert_eq!(input.degree(), 3);
        let a = [-4.8, -22.4, 40.0, 0.0];
        let x0 = [-0.4, 0.9];
        let teacher = LinearTeacher::new(&a, &x0, &input).unwrap();
        let mut probe: Vec<f64> = (0..40).map(|_| rng.gen_range(0.0..1.2)).collect();
        probe.extend_from_slice(&[0.05, 0.5, 1.0]);
        probe.sort_by(f64::total_cmp);
        let reference = rk4(&a, &x0, &input, &probe, 2e-5);
        let scale = reference
            .iter()
            .flatten()
            .fold(1.0f64, |m, v| m.max(v.abs()));
        let mut out = [0.0; 2];
        for (t, r) in probe.iter().zip(&reference) {
            teacher.state_at(*t, &mut out);
            let e = rel_err(&out, r, scale);
            assert!(e <= 1e-12, "t={t}: {out:?} vs {r:?} (rel {e:e})");
        }
    }

    #[test]
    fn zero_matrix_is_a_perfect_integrator() {
        // c(t) = 2 + 3t on [0, 1), then 5 − t·0 held: ∫ gives x0 + 2t + 1.5t² on [0, 1].
        let input =
            Signal::piecewise_linear(1, &[0.0, 1.0, 2.0], &[vec![2.0], vec![5.0], vec![5.0]])
                .unwrap();
        let teacher = LinearTeacher::new(&[0.0], &[1.0], &input).unwrap();
        let mut out = [0.0];
        for &t in &[0.0, 0.25, 0.5, 1.0] {
            teacher.state_at(t, &mut out);
            let exact = 1.0 + 2.0 * t + 1.5 * t * t;
            assert!((out[0] - exact).abs() < 1e-15 * exact, "t={t}: {}", out[0]);
        }
        teacher.state_at(3.0, &mut out);
        assert!((out[0] - (4.5 + 10.0)).abs() < 1e-14, "{}", out[0]);
        // 2-D singular A (integrator chain x1' = x2, x2' = c) with cubic input.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let input = Signal::smooth_random(&[0.0, 1.0], 1.0, 0.1, 0.5, &mut rng).unwrap();
        let a = [0.0, 1.0, 0.0, 0.0];
        let teacher = LinearTeacher::new(&a, &[0.0, 0.0], &input).unwrap();
        let probe = [0.07, 0.25, 0.5, 0.9];
        let reference = rk4(&a, &[0.0, 0.0], &input, &probe, 1e-4);
        for (t, r) in probe.iter().zip(&reference) {
            let mut o = [0.0; 2];
            teacher.state_at(*t, &mut o);
            assert!(rel_err(&o, r, 1.0) < 1e-12, "t={t}: {o:?} vs {r:?}");
        }
    }

    #[test]
    fn queries_in_any_order_agree_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let input = Signal::smooth_random(&[0.0, 0.0], 10.0, 0.001, 1.0, &mut rng).unwrap();
        assert!(input.knots().len() > 1000);
        let teacher = LinearTeacher::new(&[-4.8, -22.4, 40.0, 0.0], &[0.0, 0.0], &input).unwrap();
        let times: Vec<f64> = (0..10_000).map(|i| i as f64 * 1e-4).collect();
        let mut forward = vec![0.0; 2 * times.len()];
        for (i, &t) in times.iter().enumerate() {
            teacher.state_at(t, &mut forward[2 * i..2 * i + 2]);
        }
        let mut o = [0.0; 2];
        for i in (0..times.len()).rev().step_by(7) {
            teacher.state_at(times[i], &mut o);
            assert_eq!(o[0].to_bits(), forward[2 * i].to_bits());
            assert_eq!(o[1].to_bits(), forward[2 * i + 1].to_bits());
        }
        // Continuity across knots (the state is C⁰ even where the input jumps).
        for &k in &input.knots()[1..50] {
            let (mut l, mut r) = ([0.0; 2], [0.0; 2]);
            teacher.state_at(k - 1e-12, &mut l);
            teacher.state_at(k, &mut r);
            assert!(rel_err(&l, &r, 1.0) < 1e-9, "{l:?} vs {r:?}");
        }
    }

    #[test]
    fn uniform_samples_agree_with_state_at() {
        // Oscillatory A (eigenvalues −2.4 ± 29.8i), a piecewise-linear input over five
        // segments (the last one held), samples from before the first knot's neighbourhood to
        // past the last knot; h does not divide the segments.
        let (a, x0, input) = oscillator_with_ramps();
        let teacher = LinearTeacher::new(&a, &x0, &input).unwrap();
        for (t0, h, count) in [
            (0.0, 1.0 / 4000.0, 4000),
            (0.013, 0.0007, 1500),
            (0.0, 0.2, 5),
        ] {
            let mut k = 0;
            let mut exact = [0.0; 2];
            teacher.uniform_samples(t0, h, count, |x| {
                let t = t0 + k as f64 * h;
                teacher.state_at(t, &mut exact);
                for (v, e) in x.iter().zip(&exact) {
                    assert!(
                        (v - e).abs() <= 1e-9 * e.abs() + 1e-12,
                        "t={t}: {x:?} vs {exact:?}"
                    );
                }
                k += 1;
            });
            assert_eq!(k, count + 1);
        }
        // The first sample of a segment is state_at's to the bit (the knot itself at k = 0).
        let mut first = Vec::new();
        teacher.uniform_samples(0.0, 0.001, 0, |x| first.extend_from_slice(x));
        assert_eq!(first, x0);
        // Not a step forward: every sample is state_at's.
        let mut seen = Vec::new();
        teacher.uniform_samples(0.5, 0.0, 2, |x| seen.extend_from_slice(x));
        let mut exact = [0.0; 2];
        teacher.state_at(0.5, &mut exact);
        assert_eq!(seen, [exact, exact, exact].concat());
    }

    #[test]
    fn uniform_samples_of_an_overflowing_target_are_not_finite() {
        // e^{100 t} overflows at t ≈ 7.1 s: within a segment (stepped) and across knots.
        let input = Signal::piecewise_constant(1, &[0.0, 5.0], &[vec![10.0], vec![20.0]]).unwrap();
        let teacher = LinearTeacher::new(&[100.0], &[1.0], &input).unwrap();
        let mut xs = Vec::new();
        teacher.uniform_samples(0.0, 10.0 / 4000.0, 4000, |x| xs.push(x[0]));
        assert_eq!(xs.len(), 4001);
        assert!(xs[..100].iter().all(|v| v.is_finite()));
        assert!(
            xs[3000..].iter().all(|v| v.is_nan()),
            "{:?}",
            &xs[3000..3005]
        );
        // τ M beyond the exponential's limit: NaN, as state_at gives.
        let teacher = LinearTeacher::new(&[1e13], &[1.0], &Signal::constant(&[0.0])).unwrap();
        let mut xs = Vec::new();
        teacher.uniform_samples(0.0, 0.5, 3, |x| xs.push(x[0]));
        let mut o = [0.0];
        teacher.state_at(1.0, &mut o);
        assert!(o[0].is_nan());
        assert_eq!(xs[0], 1.0);
        assert!(xs[1..].iter().all(|v| v.is_nan()), "{xs:?}");
    }

    #[test]
    fn bad_shapes_name_their_field() {
        let s = Signal::zero(2);
        let e = LinearTeacher::new(&[0.0; 3], &[0.0; 2], &s).unwrap_err();
        assert_eq!(e.field, "target.a");
        let e = LinearTeacher::new(&[0.0, f64::NAN, 0.0, 0.0], &[0.0; 2], &s).unwrap_err();
        assert_eq!(e.field, "target.a[0][1]");
        let e = LinearTeacher::new(&[0.0; 4], &[0.0], &s).unwrap_err();
        assert_eq!(e.field, "target.initial");
        let e = LinearTeacher::new(&[0.0; 4], &[0.0, f64::INFINITY], &s).unwrap_err();
        assert_eq!(e.field, "target.initial[1]");
        let t = LinearTeacher::new(&[1.0, 2.0, 3.0, 4.0], &[0.0; 2], &s).unwrap();
        assert_eq!(t.a(), vec![1.0, 2.0, 3.0, 4.0]);
        let mut o = [0.0; 2];
        t.state_at(f64::NAN, &mut o);
        assert!(o[0].is_nan() && o[1].is_nan());
    }
}
