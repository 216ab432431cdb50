//! Target vector fields `f(x)` for the teacher `ẋ = f(x) + c(t)`.
//!
//! Why: a network learns (Alemi et al. 2018) or is wired for a target system, and the teacher
//! trajectory `x(t)` it is trained and judged against is obtained by integrating that system
//! ([`crate::model::ode`]). This module holds the systems themselves: the [`VectorField`] trait (a
//! user's own `f` implements it) and the built-in kinds listed by [`TargetKind`].
//!
//! # One scaling convention for every nonlinear kind
//!
//! Each built-in system is defined by a *canonical* field `g(y)` (the textbook equations, e.g.
//! Van der Pol with period 6.66 for μ = 1). The network state is the canonical state scaled by
//! `amplitude` (after removing an optional offset), and time runs `time_scale` times faster:
//!
//! ```text
//! x = amplitude · (y − y_offset),      ẋ = f(x) = time_scale · amplitude · g(x / amplitude + y_offset)
//! ```
//!
//! so `x(t) = amplitude · (y(time_scale · t) − y_offset)`: the attractor of `f` is the canonical
//! one shrunk by `amplitude`, traversed `time_scale` times faster. This is the convention of the
//! numpy/C prototype (`shared/prototype/ebn.py`, `g_numpy`) for Van der Pol (`[s, mu, a]` there
//! is `time_scale, mu, amplitude` here). The prototype's **Lorenz** divides instead
//! (`x = (X, Y, Z − z_off)/a` with `a = 10`): here that is `amplitude = 1/a = 0.1` — the one
//! parameter whose value does not carry over literally. Defaults are the prototype's working
//! regime (state of order 1, time scales of about a second, suited to λ_d = 10/s and decoders of
//! norm 0.05); [`TargetKind::parameters`] lists them.
//!
//! | kind | canonical `g(y)` | defaults |
//! |---|---|---|
//! | [`linear`](Linear) | `A y` (no scaling: it would cancel) | — (`a` is required) |
//! | [`van_der_pol`](VanDerPol) | `(y₂, μ(1 − y₁²) y₂ − y₁)` | μ = 1, time_scale = 8, amplitude = 0.5 (period 0.833 s) |
//! | [`double_well`](DoubleWell) | `y_i − y_i³` per component (2^d stable points `y_i = ±1`) | dims = 1, time_scale = 5, amplitude = 1 |
//! | [`lorenz`](Lorenz) | `(σ(Y − X), X(ρ − Z) − Y, XY − βZ)` with offset `(0, 0, z_offset)` | σ = 10, ρ = 28, β = 8/3, time_scale = 0.5, amplitude = 0.1, z_offset = 25 |
//! | [`pendulum`](DampedPendulum) | `(ω₀ y₂, −ω₀ sin y₁ − γ y₂)`, `y = (θ, θ̇/ω₀)` | damping γ = 0.5/s, omega ω₀ = 2π rad/s, time_scale = 1, amplitude = 1 |
//!
//! Constructors validate their parameters and name the offending field as in a model file
//! (`target.mu`, `target.time_scale`, …) in a [`BuildError`].

use crate::error::BuildError;
use std::fmt;
use std::str::FromStr;

mod linear;
pub use linear::*;
mod van_der_pol;
pub use van_der_pol::*;
mod double_well;
pub use double_well::*;
mod lorenz;
pub use lorenz::*;
mod pendulum;
pub use pendulum::*;

/// A time-invariant vector field `f: ℝ^d → ℝ^d`, the autonomous part of `ẋ = f(x) + c(t)`.
///
/// Implement it for your own system; [`crate::model::ode::integrate`] solves it with any input.
/// `Send + Sync` so that a teacher can be shared between threads (ensembles of runs);
/// `Debug` so that a run can describe its target.
pub trait VectorField: Send + Sync + fmt::Debug {
    /// Dimension d of the state.
    fn dims(&self) -> usize;

    /// `f(x)` into `out`. Both slices have length [`VectorField::dims`] when called by this
    /// crate (the built-in fields index them directly and may panic on shorter slices). A value
    /// that cannot be computed should be reported as NaN or ±∞ (the solver turns it into an
    /// error naming the time), not by panicking.
    fn eval(&self, x: &[f64], out: &mut [f64]);

    /// The Jacobian `∂f_i/∂x_k` into `out[i * d + k]` (row-major d×d), if the field provides it;
    /// returns whether it did. The default provides none (`false`, `out` untouched); use
    /// [`numerical_jacobian`] as a fallback. Used for fixed points and their stability, never by
    /// the explicit solver.
    fn jacobian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let _ = (x, out);
        false
    }
}

/// The Jacobian of `f` at `x` by central differences (step `1e-6·max(1, |x_k|)`), row-major
/// into `out[i * d + k]`; accurate to about 1e-9 relative for smooth fields.
///
/// Writes nothing when `x` or `out` are shorter than d (resp. d²).
pub fn numerical_jacobian(f: &dyn VectorField, x: &[f64], out: &mut [f64]) {
    let d = f.dims();
    if x.len() < d || out.len() < d * d {
        return;
    }
    let mut xp = x[..d].to_vec();
    let (mut fp, mut fm) = (vec![0.0; d], vec![0.0; d]);
    for k in 0..d {
        let h = 1e-6 * x[k].abs().max(1.0);
        xp[k] = x[k] + h;
        f.eval(&xp, &mut fp);
        xp[k] = x[k] - h;
        f.eval(&xp, &mut fm);
        xp[k] = x[k];
        for i in 0..d {
            out[i * d + k] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
}

/// One parameter of a target kind, for documentation and error messages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parameter {
    /// Name, as the key in a model file's `[target]` table.
    pub name: &'static str,
    /// Default value, if the parameter is optional.
    pub default: Option<f64>,
    /// What it means, with units.
    pub meaning: &'static str,
}

const fn param(name: &'static str, default: Option<f64>, meaning: &'static str) -> Parameter {
    Parameter {
        name,
        default,
        meaning,
    }
}

/// The built-in target kinds, with their names in model files (`[target] kind = "…"`) and
/// their parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// `linear`: [`Linear`].
    Linear,
    /// `van_der_pol`: [`VanDerPol`].
    VanDerPol,
    /// `double_well`: [`DoubleWell`].
    DoubleWell,
    /// `lorenz`: [`Lorenz`].
    Lorenz,
    /// `pendulum`: [`DampedPendulum`].
    Pendulum,
}

impl TargetKind {
    /// Every kind, in documentation order.
    pub(crate) const ALL: [TargetKind; 5] = [
        TargetKind::Linear,
        TargetKind::VanDerPol,
        TargetKind::DoubleWell,
        TargetKind::Lorenz,
        TargetKind::Pendulum,
    ];

    /// The name in model files: `linear`, `van_der_pol`, `double_well`, `lorenz`, `pendulum`.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Linear => "linear",
            TargetKind::VanDerPol => "van_der_pol",
            TargetKind::DoubleWell => "double_well",
            TargetKind::Lorenz => "lorenz",
            TargetKind::Pendulum => "pendulum",
        }
    }

    /// The kind with this model-file name, if any (exact, case-sensitive).
    pub(crate) fn from_name(name: &str) -> Option<TargetKind> {
        TargetKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind's parameters (besides the common `initial` state), with defaults.
    pub fn parameters(self) -> &'static [Parameter] {
        match self {
            TargetKind::Linear => LINEAR_PARAMS,
            TargetKind::VanDerPol => VDP_PARAMS,
            TargetKind::DoubleWell => DWELL_PARAMS,
            TargetKind::Lorenz => LORENZ_PARAMS,
            TargetKind::Pendulum => PENDULUM_PARAMS,
        }
    }

    /// The parameter names, comma-separated (`"mu, time_scale, amplitude"`), for messages.
    pub(crate) fn parameter_list(self) -> String {
        self.parameters()
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The accepted kind names, for messages: `"one of linear, van_der_pol, …"`.
    pub(crate) fn expected() -> String {
        let names: Vec<&str> = TargetKind::ALL.iter().map(|k| k.name()).collect();
        format!("one of {}", names.join(", "))
    }

    /// The error for an unknown kind name (field `target.kind`).
    pub(crate) fn unknown(got: &str) -> BuildError {
        BuildError::new("target.kind", TargetKind::expected(), format!("\"{got}\""))
    }

    /// The error for a parameter that `self` does not take (field `target.<name>`), listing
    /// the ones it does.
    pub(crate) fn unknown_parameter(self, name: &str) -> BuildError {
        BuildError::new(
            format!("target.{name}"),
            format!(
                "a parameter of kind `{}` ({})",
                self.name(),
                self.parameter_list()
            ),
            "an unknown parameter",
        )
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TargetKind {
    type Err = BuildError;

    fn from_str(s: &str) -> Result<TargetKind, BuildError> {
        TargetKind::from_name(s).ok_or_else(|| TargetKind::unknown(s))
    }
}

fn finite(field: &str, v: f64) -> Result<f64, BuildError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(BuildError::new(
            format!("target.{field}"),
            "a finite number",
            format!("{v}"),
        ))
    }
}

fn positive(field: &str, v: f64) -> Result<f64, BuildError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(BuildError::new(
            format!("target.{field}"),
            "a finite positive number",
            format!("{v}"),
        ))
    }
}

fn non_negative(field: &str, v: f64) -> Result<f64, BuildError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(BuildError::new(
            format!("target.{field}"),
            "a finite non-negative number",
            format!("{v}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_list_parameters() {
        for k in TargetKind::ALL {
            assert_eq!(TargetKind::from_name(k.name()), Some(k));
            assert_eq!(k.name().parse::<TargetKind>().unwrap(), k);
            assert!(!k.parameters().is_empty());
        }
        let e = "vdp".parse::<TargetKind>().unwrap_err();
        assert_eq!(e.field, "target.kind");
        assert!(e.expected.contains("van_der_pol") && e.expected.contains("pendulum"));
        assert_eq!(
            TargetKind::VanDerPol.parameter_list(),
            "mu, time_scale, amplitude"
        );
        let e = TargetKind::Lorenz.unknown_parameter("mu");
        assert_eq!(e.field, "target.mu");
        assert!(e.expected.contains("z_offset"));
    }

    #[test]
    fn defaults_match_the_parameter_table() {
        let check = |kind: TargetKind, name: &str, v: f64| {
            let p = kind.parameters().iter().find(|p| p.name == name).unwrap();
            assert_eq!(p.default, Some(v), "{kind} {name}");
        };
        let v = VanDerPol::default();
        check(TargetKind::VanDerPol, "mu", v.mu());
        check(TargetKind::VanDerPol, "time_scale", v.time_scale());
        check(TargetKind::VanDerPol, "amplitude", v.amplitude());
        let l = Lorenz::default();
        check(TargetKind::Lorenz, "beta", l.beta());
        check(TargetKind::Lorenz, "amplitude", l.amplitude());
        check(TargetKind::Lorenz, "z_offset", l.z_offset());
        let p = DampedPendulum::default();
        check(TargetKind::Pendulum, "omega", p.omega());
        check(TargetKind::Pendulum, "damping", p.damping());
        let w = DoubleWell::default();
        check(TargetKind::DoubleWell, "time_scale", w.time_scale());
        check(TargetKind::DoubleWell, "dims", w.dims() as f64);
    }

    #[test]
    fn analytic_jacobians_match_finite_differences() {
        let fields: Vec<Box<dyn VectorField>> = vec![
            Box::new(Linear::new(&[vec![-4.8, -22.4], vec![40.0, 0.0]]).unwrap()),
            Box::new(VanDerPol::default()),
            Box::new(VanDerPol::new(2.5, 1.3, 2.0).unwrap()),
            Box::new(DoubleWell::new(3, 5.0, 0.7).unwrap()),
            Box::new(Lorenz::default()),
            Box::new(DampedPendulum::new(0.3, 3.0, 2.0, 0.5).unwrap()),
        ];
        for f in &fields {
            let d = f.dims();
            let x: Vec<f64> = (0..d).map(|i| 0.3 + 0.4 * i as f64).collect();
            let (mut ja, mut jn) = (vec![0.0; d * d], vec![0.0; d * d]);
            assert!(f.jacobian(&x, &mut ja));
            numerical_jacobian(f.as_ref(), &x, &mut jn);
            let scale = jn.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (a, n) in ja.iter().zip(&jn) {
                assert!((a - n).abs() <= 1e-7 * scale, "{f:?}: {ja:?} vs {jn:?}");
            }
        }
    }

    #[test]
    fn invalid_parameters_name_their_field() {
        assert_eq!(
            VanDerPol::new(-1.0, 1.0, 1.0).unwrap_err().field,
            "target.mu"
        );
        assert_eq!(
            VanDerPol::new(1.0, 0.0, 1.0).unwrap_err().field,
            "target.time_scale"
        );
        assert_eq!(
            VanDerPol::new(1.0, 1.0, f64::NAN).unwrap_err().field,
            "target.amplitude"
        );
        assert_eq!(
            DoubleWell::new(0, 1.0, 1.0).unwrap_err().field,
            "target.dims"
        );
        assert_eq!(
            Lorenz::new(10.0, 28.0, -1.0, 1.0, 1.0, 0.0)
                .unwrap_err()
                .field,
            "target.beta"
        );
        assert_eq!(
            Lorenz::new(10.0, 28.0, 1.0, 1.0, 1.0, f64::INFINITY)
                .unwrap_err()
                .field,
            "target.z_offset"
        );
        assert_eq!(
            DampedPendulum::new(-0.1, 1.0, 1.0, 1.0).unwrap_err().field,
            "target.damping"
        );
        assert_eq!(
            DampedPendulum::new(0.1, 0.0, 1.0, 1.0).unwrap_err().field,
            "target.omega"
        );
        assert_eq!(
            Linear::new(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err().field,
            "target.a[1]"
        );
        assert_eq!(
            Linear::new(&[vec![f64::NAN]]).unwrap_err().field,
            "target.a[0][0]"
        );
        assert_eq!(Linear::new(&[]).unwrap_err().field, "target.a");
        assert_eq!(
            Linear::from_row_major(2, &[1.0; 3]).unwrap_err().field,
            "target.a"
        );
    }
}
