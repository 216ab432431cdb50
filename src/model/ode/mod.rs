//! Adaptive Dormand–Prince 5(4) integration of `ẋ = f(x) + c(t)` with dense output.
//!
//! Why: the exact engine has no time grid. A nonlinear teacher `x(t)` enters it the way every
//! input does, as **piecewise-polynomial segments** whose boundaries are events (docs/architecture.md §2).
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

mod tableau;
use tableau::*;
mod dense;
pub use dense::*;
mod solver;
pub use solver::*;

/// Degree of the dense-output polynomials (Dormand–Prince's 4th-order continuous extension).
pub const DENSE_DEGREE: usize = 4;

const STRIDE: usize = DENSE_DEGREE + 1;

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
    pub(crate) fn validate(&self) -> Result<(), BuildError> {
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
