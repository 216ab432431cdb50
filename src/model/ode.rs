//! Adaptive Dormand–Prince 5(4) integration of `ẋ = f(x) + c(t)` with dense output.
//!
//! Why: the exact engine has no time grid. A nonlinear teacher `x(t)` enters it the way every
//! input does, as **piecewise-polynomial segments** whose boundaries are events (DESIGN.md §2–3).
//! So the product of this solver is not a list of states on a grid but the continuous extension
//! of every accepted step: a polynomial in local time, valid over the whole step, which the engine
//! re-expands and integrates in closed form against the membrane kernel. [`DenseSolution`] holds
//! exactly those polynomials (monomial coefficients, one set per step), and can also be evaluated
//! at any time.
//!
//! # Method
//!
//! - The Dormand–Prince 5(4) pair (7 stages, first-same-as-last), local extrapolation (the
//!   5th-order solution is propagated), error norm
//!   `‖e‖ = sqrt(mean_i (e_i / (atol + rtol·max(|x_i|, |x_i^new|)))²)`.
//! - Step size by Hairer's PI controller (`safe = 0.9`, `β = 0.04`, growth in `[0.1, 5]`, no growth
//!   right after a rejection); the first step by Hairer's starting-step heuristic.
//! - Dense output: Hairer's 4th-order continuous extension of DOPRI5 (`CONTD5`), a degree-4
//!   polynomial per step and component, C¹ across steps (it matches `x` and `ẋ` at both ends),
//!   stored as monomial coefficients in `u = t − t_start`.
//! - **Input knots are step boundaries.** `c(t)` is a [`Signal`]; inside a segment it is a
//!   polynomial and the solution is smooth, but at a knot `c` (or a derivative) may jump. Steps
//!   never cross a knot: the solver stops on it, and restarts with the new segment's polynomial
//!   (the stages of a step ending on a knot use the *old* segment's polynomial up to and including
//!   the knot, i.e. the left limit).
//!
//! # Accuracy
//!
//! With the default [`Tolerance`] (`rtol = 1e-12`, `atol = 1e-13`) the solution, evaluated
//! anywhere (inside steps too), has relative error ≤ 1e-9 on the test problems of
//! `tests/dynamics.rs` (linear systems against exact solutions with piecewise-constant and
//! piecewise-linear inputs, Van der Pol's period, the pendulum's energy, Lorenz against a
//! tighter run over a few Lyapunov times).
//!
//! # Failure
//!
//! Every failure is an [`OdeError`] naming the time; nothing panics on any input, and nothing is
//! printed. A finite-time blow-up (`ẋ = x²`) ends in [`OdeError::StepSizeUnderflow`] or
//! [`OdeError::NonFinite`]; a runaway number of steps in [`OdeError::TooManySteps`]
//! ([`Tolerance::max_steps`]).

use crate::closed_form::expo::MAX_DEGREE;
use crate::error::BuildError;
use crate::model::dynamics::VectorField;
use crate::model::signal::Signal;
use crate::model::teacher::Target;

/// Degree of the dense-output polynomials (Dormand–Prince's 4th-order continuous extension).
pub const DENSE_DEGREE: usize = 4;

const STRIDE: usize = DENSE_DEGREE + 1;

// Dormand–Prince 5(4) tableau.
const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
// Error estimate: 5th-order minus embedded 4th-order weights.
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
// Dense output (Hairer, Nørsett & Wanner, DOPRI5 / CONTD5).
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;
// Step-size controller (Hairer's DOPRI5 defaults).
const SAFE: f64 = 0.9;
const BETA: f64 = 0.04;
const EXPO1: f64 = 0.2 - BETA * 0.75;
const FAC_MIN: f64 = 0.2; // h_new ≥ 0.2 h
const FAC_MAX: f64 = 10.0; // h_new ≤ 10 h before the safety factor (≤ 5 h after the 1/fac bounds)

/// Error tolerances and the step budget of [`integrate`].
///
/// A step is accepted when the RMS over components of `e_i / (atol + rtol·max(|x_i|, |x_i^new|))`
/// is ≤ 1 (`e` the embedded error estimate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Relative tolerance, in `[0, 1)`. Default `1e-12`.
    pub rtol: f64,
    /// Absolute tolerance (state units), ≥ 0; `rtol + atol > 0`. Default `1e-13`.
    pub atol: f64,
    /// Most step attempts (accepted + rejected) before [`OdeError::TooManySteps`], ≥ 1.
    /// Default [`Tolerance::DEFAULT_MAX_STEPS`].
    pub max_steps: usize,
}

impl Tolerance {
    /// Default relative tolerance: gives ≤ 1e-9 relative error of the dense output on the test
    /// problems (module docs).
    pub const DEFAULT_RTOL: f64 = 1e-12;
    /// Default absolute tolerance.
    pub const DEFAULT_ATOL: f64 = 1e-13;
    /// Default step budget: 10 million attempts. It bounds memory too: each accepted step
    /// stores `5d + 1` numbers (1.3 GB at d = 3 for 10 million steps). At the default tolerance
    /// a 500 s teacher needs about 0.5 million steps for the default Van der Pol (≈ 1000
    /// steps/s) and 0.2 million for the default Lorenz (≈ 360 steps/s).
    pub const DEFAULT_MAX_STEPS: usize = 10_000_000;

    /// The given tolerances with the default step budget.
    pub fn new(rtol: f64, atol: f64) -> Tolerance {
        Tolerance {
            rtol,
            atol,
            max_steps: Tolerance::DEFAULT_MAX_STEPS,
        }
    }

    /// Checks the fields; errors name `target.rtol`, `target.atol`, `target.max_steps`.
    pub fn validate(&self) -> Result<(), BuildError> {
        if !(self.rtol.is_finite() && (0.0..1.0).contains(&self.rtol)) {
            return Err(BuildError::new(
                "target.rtol",
                "a finite relative tolerance in [0, 1)",
                format!("{}", self.rtol),
            ));
        }
        if !(self.atol.is_finite() && self.atol >= 0.0) {
            return Err(BuildError::new(
                "target.atol",
                "a finite non-negative absolute tolerance",
                format!("{}", self.atol),
            ));
        }
        if self.rtol == 0.0 && self.atol == 0.0 {
            return Err(BuildError::new(
                "target.atol",
                "rtol or atol to be positive",
                "both 0",
            ));
        }
        if self.max_steps == 0 {
            return Err(BuildError::new("target.max_steps", "at least 1 step", "0"));
        }
        Ok(())
    }
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance::new(Tolerance::DEFAULT_RTOL, Tolerance::DEFAULT_ATOL)
    }
}

/// Why an integration failed. Every runtime variant names the time reached.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OdeError {
    /// Invalid arguments: dimensions that disagree, a non-finite initial state, a bad time span
    /// or tolerance. Nothing was integrated.
    #[error(transparent)]
    Invalid(#[from] BuildError),
    /// The vector field returned NaN or ±∞ at an accepted (finite) state: the solution has
    /// overflowed, or `f` is undefined there.
    #[error(
        "the vector field is not finite at t = {time} s (state {state:?}): the solution blows \
         up or f is undefined there"
    )]
    NonFinite {
        /// Time of the state, s.
        time: f64,
        /// The state at which `f(x) + c(t)` was not finite.
        state: Vec<f64>,
    },
    /// The step size needed for the tolerance fell below what the time resolution allows.
    #[error(
        "step size underflow at t = {time} s (h = {step:e} s, max |x| = {norm:e}): the solution \
         is probably blowing up (a finite-time singularity), or the system is too stiff for an \
         explicit solver at this tolerance"
    )]
    StepSizeUnderflow {
        /// Time reached, s.
        time: f64,
        /// The step size that was too small, s.
        step: f64,
        /// Largest component magnitude of the state at `time`.
        norm: f64,
    },
    /// The step budget [`Tolerance::max_steps`] ran out.
    #[error(
        "more than {limit} steps (target.max_steps) before reaching t = {target} s; stopped at \
         t = {time} s: the system is stiff or oscillates very fast, or the tolerance is too tight"
    )]
    TooManySteps {
        /// Time reached, s.
        time: f64,
        /// The end time asked for, s.
        target: f64,
        /// The budget.
        limit: usize,
    },
}

impl OdeError {
    /// The time at which the integration stopped (`None` for invalid arguments).
    pub fn time(&self) -> Option<f64> {
        match self {
            OdeError::Invalid(_) => None,
            OdeError::NonFinite { time, .. }
            | OdeError::StepSizeUnderflow { time, .. }
            | OdeError::TooManySteps { time, .. } => Some(*time),
        }
    }
}

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
    /// `j`), `degree + 1` rows — the layout of [`Signal::local_polynomial`].
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
    dims: usize,
    t0: f64,
    /// Segment boundaries: segment `i` spans `[times[i], times[i+1]]`; `times[0]` is the first
    /// segment's start (= `t0`, except after a skipped sub-resolution knot interval).
    times: Vec<f64>,
    /// `coeffs[(i * STRIDE + k) * d + j]`: coefficient of `(t − times[i])^k`, component `j`.
    coeffs: Vec<f64>,
    x0: Vec<f64>,
    end_state: Vec<f64>,
    stats: SolverStats,
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
    pub fn segment_index(&self, t: f64) -> Option<usize> {
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
}

/// Solves `ẋ = f(x) + c(t)`, `x(0) = x0`, on `[0, t_end]` with [`integrate_span`].
pub fn integrate(
    f: &dyn VectorField,
    input: &Signal,
    x0: &[f64],
    t_end: f64,
    tol: Tolerance,
) -> Result<DenseSolution, OdeError> {
    integrate_span(f, input, x0, 0.0, t_end, tol)
}

/// The right-hand side `f(x) + c(t)` over one knot interval, `c` from the segment's polynomial
/// re-expanded at the interval start `t_a`, so that the knot at the interval's end is evaluated
/// from the left.
struct Rhs<'a> {
    f: &'a dyn VectorField,
    t_a: f64,
    degree: usize,
    poly: Vec<f64>,
    evaluations: usize,
}

impl Rhs<'_> {
    fn eval(&mut self, t: f64, x: &[f64], out: &mut [f64]) {
        self.evaluations += 1;
        self.f.eval(x, out);
        let d = out.len();
        let u = t - self.t_a;
        for (j, o) in out.iter_mut().enumerate() {
            let mut c = 0.0;
            for k in (0..=self.degree).rev() {
                c = c * u + self.poly[k * d + j];
            }
            *o += c;
        }
    }
}

fn error_norm(y0: &[f64], y1: &[f64], e: &[f64], tol: &Tolerance) -> f64 {
    let mut acc = 0.0;
    for ((a, b), e) in y0.iter().zip(y1).zip(e) {
        let sk = tol.atol + tol.rtol * a.abs().max(b.abs());
        let r = e / sk;
        acc += r * r;
    }
    let n = y0.len() as f64;
    let v = (acc / n).sqrt();
    if v.is_nan() {
        f64::INFINITY
    } else {
        v
    }
}

fn all_finite(x: &[f64]) -> bool {
    x.iter().all(|v| v.is_finite())
}

fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Solves `ẋ = f(x) + c(t)`, `x(t0) = x0`, on `[t0, t_end]` with adaptive Dormand–Prince 5(4),
/// stopping at every knot of `input` (module docs); returns the dense output.
///
/// Requirements (else [`OdeError::Invalid`], fields `target.initial`, `input`, `simulate.duration`,
/// `target.rtol`, …): `x0.len() == f.dims() == input.dims() ≥ 1`, `x0` finite, `0 ≤ t0 ≤ t_end`
/// finite, a valid [`Tolerance`]. `t_end == t0` gives a solution with no steps.
pub fn integrate_span(
    f: &dyn VectorField,
    input: &Signal,
    x0: &[f64],
    t0: f64,
    t_end: f64,
    tol: Tolerance,
) -> Result<DenseSolution, OdeError> {
    let d = f.dims();
    validate(f, input, x0, t0, t_end, &tol)?;
    let mut sol = DenseSolution {
        dims: d,
        t0,
        times: vec![t0],
        coeffs: Vec::new(),
        x0: x0.to_vec(),
        end_state: x0.to_vec(),
        stats: SolverStats::default(),
    };
    let mut rhs = Rhs {
        f,
        t_a: t0,
        degree: 0,
        poly: vec![0.0; (MAX_DEGREE + 1) * d],
        evaluations: 0,
    };
    let mut y = x0.to_vec();
    let mut y1 = vec![0.0; d];
    let mut tmp = vec![0.0; d];
    let mut err = vec![0.0; d];
    let mut k: [Vec<f64>; 7] = std::array::from_fn(|_| vec![0.0; d]);
    let mut t = t0;
    let mut h_prop = f64::NAN; // proposed step; set by the starting heuristic
    let mut fac_old: f64 = 1e-4;
    let mut rejected_last = false;
    let mut attempts = 0usize;

    while t < t_end {
        // One knot interval [t, seg_end]: the input is one polynomial here.
        let seg_end = input.next_knot_after(t).min(t_end);
        let floor = 16.0 * f64::EPSILON * t.abs().max(seg_end.abs());
        if seg_end - t <= floor {
            // An interval below the time resolution: nothing to integrate.
            t = seg_end;
            if let Some(last) = sol.times.last_mut() {
                *last = seg_end;
            }
            continue;
        }
        rhs.t_a = t;
        rhs.degree = input.local_polynomial(t, &mut rhs.poly);
        rhs.eval(t, &y, &mut k[0]);
        if !all_finite(&k[0]) {
            sol.stats.evaluations = rhs.evaluations;
            return Err(OdeError::NonFinite {
                time: t,
                state: y.clone(),
            });
        }
        if h_prop.is_nan() {
            h_prop = initial_step(&mut rhs, t, &y, &k[0], seg_end - t, &tol, &mut tmp, &mut y1);
        }
        while t < seg_end {
            let remaining = seg_end - t;
            let mut h = h_prop;
            let truncated = h >= 0.99 * remaining;
            if truncated {
                h = remaining;
            }
            if h.is_nan() || h <= floor {
                return Err(OdeError::StepSizeUnderflow {
                    time: t,
                    step: h,
                    norm: max_abs(&y),
                });
            }
            attempts += 1;
            if attempts > tol.max_steps {
                return Err(OdeError::TooManySteps {
                    time: t,
                    target: t_end,
                    limit: tol.max_steps,
                });
            }
            dp_step(&mut rhs, t, h, &y, &mut k, &mut y1, &mut tmp, &mut err);
            let e = if all_finite(&y1) && all_finite(&k[6]) {
                error_norm(&y, &y1, &err, &tol)
            } else {
                f64::INFINITY
            };
            if e <= 1.0 {
                // Accept.
                let fac11 = e.powf(EXPO1);
                let fac = (fac11 / fac_old.powf(BETA) / SAFE).clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN);
                let mut h_new = h / fac;
                if rejected_last {
                    h_new = h_new.min(h);
                }
                if truncated && !rejected_last {
                    h_new = h_new.max(h_prop);
                }
                fac_old = e.max(1e-4);
                rejected_last = false;
                push_segment(&mut sol, h, &y, &y1, &k);
                let t_new = if truncated { seg_end } else { t + h };
                sol.times.push(t_new);
                t = t_new;
                std::mem::swap(&mut y, &mut y1);
                let (first, rest) = k.split_at_mut(1);
                std::mem::swap(&mut first[0], &mut rest[5]); // FSAL: k1 ← k7
                h_prop = h_new;
                sol.stats.accepted += 1;
            } else {
                // Reject: shrink (by 10 when the step produced non-finite values).
                let shrink = if e.is_finite() {
                    (e.powf(EXPO1) / SAFE).min(1.0 / FAC_MIN)
                } else {
                    10.0
                };
                h_prop = h / shrink;
                rejected_last = true;
                sol.stats.rejected += 1;
            }
        }
        if seg_end < t_end {
            sol.stats.knots += 1;
        }
    }
    sol.stats.evaluations = rhs.evaluations;
    sol.end_state = y;
    Ok(sol)
}

fn validate(
    f: &dyn VectorField,
    input: &Signal,
    x0: &[f64],
    t0: f64,
    t_end: f64,
    tol: &Tolerance,
) -> Result<(), BuildError> {
    let d = f.dims();
    if d == 0 {
        return Err(BuildError::new(
            "target",
            "a vector field of at least 1 dimension",
            "0 dimensions",
        ));
    }
    if x0.len() != d {
        return Err(BuildError::new(
            "target.initial",
            format!("a vector of {d} components (the target's dimension)"),
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
    if input.dims() != d {
        return Err(BuildError::new(
            "input",
            format!("an input of {d} components (the target's dimension)"),
            format!("{} components", input.dims()),
        ));
    }
    if !(t0.is_finite() && t0 >= 0.0) {
        return Err(BuildError::new(
            "target.start",
            "a finite start time ≥ 0",
            format!("{t0}"),
        ));
    }
    if !(t_end.is_finite() && t_end >= t0) {
        return Err(BuildError::new(
            "simulate.duration",
            format!("a finite end time ≥ the start time {t0}"),
            format!("{t_end}"),
        ));
    }
    tol.validate()
}

/// Hairer's starting step size (HNW I, II.4): from the sizes of `x`, `ẋ` and a finite-difference
/// second derivative, capped by `span`.
#[allow(clippy::too_many_arguments)]
fn initial_step(
    rhs: &mut Rhs<'_>,
    t: f64,
    y: &[f64],
    f0: &[f64],
    span: f64,
    tol: &Tolerance,
    y1: &mut [f64],
    f1: &mut [f64],
) -> f64 {
    let d = y.len() as f64;
    let sk = |v: f64| tol.atol + tol.rtol * v.abs();
    let dnf = (f0
        .iter()
        .zip(y)
        .map(|(f, y)| (f / sk(*y)).powi(2))
        .sum::<f64>()
        / d)
        .sqrt();
    let dny = (y.iter().map(|y| (y / sk(*y)).powi(2)).sum::<f64>() / d).sqrt();
    let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
        1e-6
    } else {
        0.01 * dny / dnf
    };
    h = h.min(span);
    for ((o, a), b) in y1.iter_mut().zip(y).zip(f0) {
        *o = a + h * b;
    }
    rhs.eval(t + h, y1, f1);
    let der2 = (f1
        .iter()
        .zip(f0)
        .zip(y)
        .map(|((a, b), y)| ((a - b) / sk(*y)).powi(2))
        .sum::<f64>()
        / d)
        .sqrt()
        / h;
    let der12 = der2.max(dnf);
    let h1 = if der12.is_finite() && der12 > 1e-15 {
        (0.01 / der12).powf(0.2)
    } else {
        (h * 1e-3).max(1e-6)
    };
    let h = (100.0 * h).min(h1).min(span);
    if h.is_finite() && h > 0.0 {
        h
    } else {
        span.min(1e-6)
    }
}

/// One Dormand–Prince step from `(t, y)` with `k[0] = f(t, y)`: the 5th-order solution into
/// `y1`, stages into `k[1..7]` (`k[6] = f(t + h, y1)`), the error estimate into `err`.
#[allow(clippy::too_many_arguments)]
fn dp_step(
    rhs: &mut Rhs<'_>,
    t: f64,
    h: f64,
    y: &[f64],
    k: &mut [Vec<f64>; 7],
    y1: &mut [f64],
    tmp: &mut [f64],
    err: &mut [f64],
) {
    let d = y.len();
    for i in 0..d {
        tmp[i] = y[i] + h * A21 * k[0][i];
    }
    rhs.eval(t + C2 * h, tmp, &mut k[1]);
    for i in 0..d {
        tmp[i] = y[i] + h * (A31 * k[0][i] + A32 * k[1][i]);
    }
    rhs.eval(t + C3 * h, tmp, &mut k[2]);
    for i in 0..d {
        tmp[i] = y[i] + h * (A41 * k[0][i] + A42 * k[1][i] + A43 * k[2][i]);
    }
    rhs.eval(t + C4 * h, tmp, &mut k[3]);
    for i in 0..d {
        tmp[i] = y[i] + h * (A51 * k[0][i] + A52 * k[1][i] + A53 * k[2][i] + A54 * k[3][i]);
    }
    rhs.eval(t + C5 * h, tmp, &mut k[4]);
    for i in 0..d {
        tmp[i] = y[i]
            + h * (A61 * k[0][i] + A62 * k[1][i] + A63 * k[2][i] + A64 * k[3][i] + A65 * k[4][i]);
    }
    rhs.eval(t + h, tmp, &mut k[5]);
    for i in 0..d {
        y1[i] = y[i]
            + h * (A71 * k[0][i] + A73 * k[2][i] + A74 * k[3][i] + A75 * k[4][i] + A76 * k[5][i]);
    }
    rhs.eval(t + h, y1, &mut k[6]);
    for i in 0..d {
        err[i] = h
            * (E1 * k[0][i]
                + E3 * k[2][i]
                + E4 * k[3][i]
                + E5 * k[4][i]
                + E6 * k[5][i]
                + E7 * k[6][i]);
    }
}

/// Appends the monomial coefficients of the step's continuous extension.
///
/// Hairer's form `x(t + θh) = y0 + θ(r2 + (1−θ)(r3 + θ(r4 + (1−θ) r5)))` expands to
/// `y0 + θ·h k1 + θ²(−r3 + r4 + r5) + θ³(−r4 − 2 r5) + θ⁴ r5`; dividing the `θ^k` coefficient by
/// `h^k` gives the coefficient of `u^k`, `u = θh`.
fn push_segment(sol: &mut DenseSolution, h: f64, y0: &[f64], y1: &[f64], k: &[Vec<f64>; 7]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dynamics::Linear;

    /// `ẋ = 0·x + c(t)` with a cubic `c`: the solution is a quartic, which the 4th-order dense
    /// output reproduces exactly (to rounding) inside every step.
    #[test]
    fn quartic_solution_is_reproduced_inside_steps() {
        let f = Linear::new(&[vec![0.0]]).unwrap();
        let input = Signal::from_segments(
            1,
            &[0.0],
            &[vec![vec![1.0], vec![-2.0], vec![0.5], vec![0.25]]],
        )
        .unwrap();
        let exact = |t: f64| 0.3 + t - t * t + 0.5 * t.powi(3) / 3.0 + 0.25 * t.powi(4) / 4.0;
        let sol = integrate(&f, &input, &[0.3], 3.0, Tolerance::default()).unwrap();
        let mut out = [0.0];
        for i in 0..=3000 {
            let t = i as f64 * 1e-3;
            sol.eval(t, &mut out);
            assert!(
                (out[0] - exact(t)).abs() <= 1e-13 * exact(t).abs().max(1.0),
                "t = {t}"
            );
        }
    }

    #[test]
    fn dense_output_is_c1_across_steps() {
        let f = crate::model::dynamics::VanDerPol::new(1.0, 1.0, 1.0).unwrap();
        let sol = integrate(
            &f,
            &Signal::zero(2),
            &[2.0, 0.0],
            10.0,
            Tolerance::new(1e-8, 1e-10),
        )
        .unwrap();
        assert!(sol.steps() > 10);
        let segs: Vec<Segment<'_>> = sol.segments().collect();
        for w in segs.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert_eq!(a.end, b.start);
            let h = a.end - a.start;
            let (mut xa, mut xb) = ([0.0; 2], [0.0; 2]);
            a.eval_local(h, &mut xa);
            b.eval_local(0.0, &mut xb);
            // Derivatives at the junction.
            let mut fa = [0.0; 2];
            f.eval(&xb, &mut fa);
            for j in 0..2 {
                assert!((xa[j] - xb[j]).abs() <= 1e-13 * xb[j].abs().max(1.0));
                let da: f64 = (1..=4)
                    .map(|k| k as f64 * a.coefficient(k, j) * h.powi(k as i32 - 1))
                    .sum();
                assert!(
                    (da - fa[j]).abs() <= 1e-10 * fa[j].abs().max(1.0),
                    "{da} vs {}",
                    fa[j]
                );
                assert!((b.coefficient(1, j) - fa[j]).abs() <= 1e-12 * fa[j].abs().max(1.0));
            }
        }
    }

    #[test]
    fn invalid_arguments_name_their_field() {
        let f = Linear::new(&[vec![-1.0, 0.0], vec![0.0, -1.0]]).unwrap();
        let z = Signal::zero(2);
        let tol = Tolerance::default();
        let field = |r: Result<DenseSolution, OdeError>| match r {
            Err(OdeError::Invalid(e)) => e.field,
            other => panic!("expected an invalid-argument error, got {other:?}"),
        };
        assert_eq!(field(integrate(&f, &z, &[1.0], 1.0, tol)), "target.initial");
        assert_eq!(
            field(integrate(&f, &z, &[1.0, f64::NAN], 1.0, tol)),
            "target.initial[1]"
        );
        assert_eq!(
            field(integrate(&f, &Signal::zero(3), &[1.0, 0.0], 1.0, tol)),
            "input"
        );
        assert_eq!(
            field(integrate(&f, &z, &[1.0, 0.0], f64::INFINITY, tol)),
            "simulate.duration"
        );
        assert_eq!(
            field(integrate(&f, &z, &[1.0, 0.0], -1.0, tol)),
            "simulate.duration"
        );
        assert_eq!(
            field(integrate_span(&f, &z, &[1.0, 0.0], f64::NAN, 1.0, tol)),
            "target.start"
        );
        assert_eq!(
            field(integrate(
                &f,
                &z,
                &[1.0, 0.0],
                1.0,
                Tolerance::new(-1.0, 0.0)
            )),
            "target.rtol"
        );
        assert_eq!(
            field(integrate(
                &f,
                &z,
                &[1.0, 0.0],
                1.0,
                Tolerance::new(0.0, 0.0)
            )),
            "target.atol"
        );
        let mut t = tol;
        t.max_steps = 0;
        assert_eq!(
            field(integrate(&f, &z, &[1.0, 0.0], 1.0, t)),
            "target.max_steps"
        );
    }

    #[test]
    fn empty_span_and_clamped_evaluation() {
        let f = Linear::new(&[vec![-1.0]]).unwrap();
        let z = Signal::zero(1);
        let sol = integrate(&f, &z, &[2.0], 0.0, Tolerance::default()).unwrap();
        assert_eq!(sol.steps(), 0);
        let mut o = [0.0];
        sol.eval(5.0, &mut o);
        assert_eq!(o[0], 2.0);
        let sol = integrate(&f, &z, &[2.0], 1.0, Tolerance::default()).unwrap();
        sol.eval(-1.0, &mut o);
        assert_eq!(o[0], 2.0);
        sol.eval(7.0, &mut o);
        assert_eq!(o[0], sol.end_state()[0]);
        sol.eval(f64::NAN, &mut o);
        assert!(o[0].is_nan());
        let mut none: [f64; 0] = [];
        sol.eval(0.5, &mut none);
    }

    #[test]
    fn step_budget_is_enforced() {
        let f = crate::model::dynamics::VanDerPol::new(1.0, 1.0, 1.0).unwrap();
        let tol = Tolerance {
            max_steps: 50,
            ..Tolerance::default()
        };
        let e = integrate(&f, &Signal::zero(2), &[2.0, 0.0], 100.0, tol).unwrap_err();
        assert!(matches!(e, OdeError::TooManySteps { limit: 50, .. }), "{e}");
        assert!(e.time().unwrap() > 0.0 && e.time().unwrap() < 100.0);
    }
}
