//! The dense output: accepted steps as monomial segments ([`Segment`], [`DenseSolution`]),
//! evaluation anywhere in the span, and how a step's continuous extension is stored.

use super::*;

/// One accepted step of a [`DenseSolution`]: `x_j(start + u) = Σ_k coefficient(k, j) u^k` for
/// `u ∈ [0, end − start]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment<'a> {
    /// Start time of the step, s.
    pub start: f64,
    /// End time of the step (the next segment's start), s.
    pub end: f64,
    /// Polynomial degree ([`DENSE_DEGREE`]).
    pub degree: usize,
    /// Monomial coefficients, flattened `coeffs[k * d + j]` (coefficient of `u^k` in component
    /// `j`), `degree + 1` rows — the layout of `Signal::local_polynomial`.
    pub coeffs: &'a [f64],
}

impl Segment<'_> {
    /// Number of components d.
    pub fn dims(&self) -> usize {
        self.coeffs.len() / (self.degree + 1)
    }

    /// Coefficient of `u^k` in component `j`.
    ///
    /// # Panics
    /// When `k > degree` or `j ≥ d`.
    pub fn coefficient(&self, k: usize, j: usize) -> f64 {
        self.coeffs[k * self.dims() + j]
    }

    /// The state at local time `u = t − start` into `out` (Horner; any `u`, no clamping).
    pub fn eval_local(&self, u: f64, out: &mut [f64]) {
        let d = self.dims();
        for (j, o) in out.iter_mut().enumerate().take(d) {
            let mut v = 0.0;
            for k in (0..=self.degree).rev() {
                v = v * u + self.coeffs[k * d + j];
            }
            *o = v;
        }
    }
}

/// Step counts of an integration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SolverStats {
    /// Accepted steps (= dense segments).
    pub accepted: usize,
    /// Rejected step attempts.
    pub rejected: usize,
    /// Evaluations of `f(x) + c(t)`.
    pub evaluations: usize,
    /// Input knots the solver stopped on (inside the time span).
    pub knots: usize,
}

/// The solution of [`integrate`]: one degree-4 polynomial per accepted step, continuous (C¹)
/// over `[start_time, end_time]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseSolution {
    pub(super) dims: usize,
    pub(super) t0: f64,
    /// Segment boundaries: segment `i` spans `[times[i], times[i+1]]`; `times[0]` is the first
    /// segment's start (= `t0`, except after a skipped sub-resolution knot interval).
    pub(super) times: Vec<f64>,
    /// `coeffs[(i * STRIDE + k) * d + j]`: coefficient of `(t − times[i])^k`, component `j`.
    pub(super) coeffs: Vec<f64>,
    pub(super) x0: Vec<f64>,
    pub(super) end_state: Vec<f64>,
    pub(super) stats: SolverStats,
}

impl DenseSolution {
    /// Number of components d.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Start of the time span, s.
    pub fn start_time(&self) -> f64 {
        self.t0
    }

    /// End of the time span, s.
    pub fn end_time(&self) -> f64 {
        self.times.last().copied().unwrap_or(self.t0)
    }

    /// The initial state.
    pub fn initial_state(&self) -> &[f64] {
        &self.x0
    }

    /// The state at the end time (the last accepted step's 5th-order solution).
    pub fn end_state(&self) -> &[f64] {
        &self.end_state
    }

    /// Number of accepted steps, i.e. of dense segments.
    pub fn steps(&self) -> usize {
        self.times.len().saturating_sub(1)
    }

    /// Step and evaluation counts.
    pub fn stats(&self) -> SolverStats {
        self.stats
    }

    /// Segment `i` (`i < steps()`), if it exists.
    pub fn segment(&self, i: usize) -> Option<Segment<'_>> {
        if i >= self.steps() {
            return None;
        }
        let d = self.dims;
        Some(Segment {
            start: self.times[i],
            end: self.times[i + 1],
            degree: DENSE_DEGREE,
            coeffs: &self.coeffs[i * STRIDE * d..(i + 1) * STRIDE * d],
        })
    }

    /// The segments in time order.
    pub fn segments(&self) -> impl ExactSizeIterator<Item = Segment<'_>> + '_ {
        (0..self.steps()).map(move |i| {
            let d = self.dims;
            Segment {
                start: self.times[i],
                end: self.times[i + 1],
                degree: DENSE_DEGREE,
                coeffs: &self.coeffs[i * STRIDE * d..(i + 1) * STRIDE * d],
            }
        })
    }

    /// Index of the segment containing `t` (the last one starting at or before it), clamped to
    /// the existing segments; `None` when there are none.
    pub(crate) fn segment_index(&self, t: f64) -> Option<usize> {
        let n = self.steps();
        if n == 0 {
            return None;
        }
        Some(
            self.times[..n]
                .partition_point(|&s| s <= t)
                .saturating_sub(1),
        )
    }

    /// The solution as a piecewise-polynomial [`Signal`] (one segment per step; the last one
    /// extends past the end time), to drive the exact engine with the teacher. Requires the
    /// solution to start at t = 0.
    pub fn to_signal(&self) -> Result<Signal, BuildError> {
        Signal::from_polynomials(
            self.dims(),
            self.segments().map(|s| (s.start, s.degree, s.coeffs)),
        )
    }

    /// The state `x(t)` into `out`.
    ///
    /// `t` is clamped to `[start_time, end_time]` (the solution is not extrapolated); the end
    /// time gives [`DenseSolution::end_state`] exactly; a NaN `t` gives NaN. Writes
    /// `min(out.len(), d)` components.
    pub fn eval(&self, t: f64, out: &mut [f64]) {
        let d = self.dims.min(out.len());
        if t.is_nan() {
            out[..d].fill(f64::NAN);
            return;
        }
        if t >= self.end_time() {
            out[..d].copy_from_slice(&self.end_state[..d]);
            return;
        }
        let Some(i) = self.segment_index(t) else {
            out[..d].copy_from_slice(&self.x0[..d]);
            return;
        };
        self.eval_in(i, t, d, out);
    }

    /// [`DenseSolution::eval`] starting the segment look-up at `*hint` (the segment of a nearby
    /// earlier call; updated): the same values, without a binary search when `t` lies in that
    /// segment or the next one.
    pub fn eval_hinted(&self, t: f64, out: &mut [f64], hint: &mut usize) {
        let d = self.dims.min(out.len());
        let n = self.steps();
        if t.is_nan() || t >= self.end_time() || n == 0 {
            self.eval(t, out);
            return;
        }
        // `segment_index`: the last segment starting at or before `t`, clamped to 0.
        let fits = |i: usize| {
            i < n && (i == 0 || self.times[i] <= t) && (i + 1 == n || t < self.times[i + 1])
        };
        let i = if fits(*hint) {
            *hint
        } else if fits(*hint + 1) {
            *hint + 1
        } else {
            self.segment_index(t).unwrap_or(0)
        };
        *hint = i;
        self.eval_in(i, t, d, out);
    }

    /// The state in segment `i` at `t` (d components of `out`).
    #[inline]
    fn eval_in(&self, i: usize, t: f64, d: usize, out: &mut [f64]) {
        let u = (t - self.times[i]).max(0.0);
        let dd = self.dims;
        let c = &self.coeffs[i * STRIDE * dd..(i + 1) * STRIDE * dd];
        for (j, o) in out.iter_mut().enumerate().take(d) {
            let mut v = 0.0;
            for k in (0..STRIDE).rev() {
                v = v * u + c[k * dd + j];
            }
            *o = v;
        }
    }

    /// The derivative `ẋ(t)` of the dense output into `out` (same clamping as
    /// [`DenseSolution::eval`]; at a step boundary, the later step's; zeros when there are no
    /// steps).
    pub fn eval_derivative(&self, t: f64, out: &mut [f64]) {
        let d = self.dims.min(out.len());
        let Some(i) = self.segment_index(t) else {
            out[..d].fill(0.0);
            return;
        };
        if t.is_nan() {
            out[..d].fill(f64::NAN);
            return;
        }
        let u = (t.min(self.end_time()) - self.times[i]).max(0.0);
        let dd = self.dims;
        let c = &self.coeffs[i * STRIDE * dd..(i + 1) * STRIDE * dd];
        for (j, o) in out.iter_mut().enumerate().take(d) {
            let mut v = 0.0;
            for k in (1..STRIDE).rev() {
                v = v * u + k as f64 * c[k * dd + j];
            }
            *o = v;
        }
    }
}

impl Target for DenseSolution {
    fn dims(&self) -> usize {
        self.dims
    }

    fn state_at(&self, t: f64, out: &mut [f64]) {
        self.eval(t, out)
    }

    fn state_at_hinted(&self, t: f64, out: &mut [f64], hint: &mut usize) {
        self.eval_hinted(t, out, hint)
    }
}

/// Appends the monomial coefficients of the step's continuous extension.
///
/// Hairer's form `x(t + θh) = y0 + θ(r2 + (1−θ)(r3 + θ(r4 + (1−θ) r5)))` expands to
/// `y0 + θ·h k1 + θ²(−r3 + r4 + r5) + θ³(−r4 − 2 r5) + θ⁴ r5`; dividing the `θ^k` coefficient by
/// `h^k` gives the coefficient of `u^k`, `u = θh`.
pub(super) fn push_segment(
    sol: &mut DenseSolution,
    h: f64,
    y0: &[f64],
    y1: &[f64],
    k: &[Vec<f64>; 7],
) {
    let d = y0.len();
    let base = sol.coeffs.len();
    sol.coeffs.resize(base + STRIDE * d, 0.0);
    let c = &mut sol.coeffs[base..];
    let (h2, h3, h4) = (h * h, h * h * h, h * h * h * h);
    for j in 0..d {
        let ydiff = y1[j] - y0[j];
        let bspl = h * k[0][j] - ydiff;
        let r4 = ydiff - h * k[6][j] - bspl;
        let r5 = h
            * (D1 * k[0][j]
                + D3 * k[2][j]
                + D4 * k[3][j]
                + D5 * k[4][j]
                + D6 * k[5][j]
                + D7 * k[6][j]);
        c[j] = y0[j];
        c[d + j] = k[0][j];
        c[2 * d + j] = (-bspl + r4 + r5) / h2;
        c[3 * d + j] = (-r4 - 2.0 * r5) / h3;
        c[4 * d + j] = r5 / h4;
    }
}
