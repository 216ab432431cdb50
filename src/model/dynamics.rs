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

const LINEAR_PARAMS: &[Parameter] = &[param(
    "a",
    None,
    "the d×d matrix A of ẋ = A x + c, as rows (1/s)",
)];
const VDP_PARAMS: &[Parameter] = &[
    param(
        "mu",
        Some(VanDerPol::DEFAULT_MU),
        "nonlinearity μ ≥ 0 (0: harmonic oscillator)",
    ),
    param(
        "time_scale",
        Some(VanDerPol::DEFAULT_TIME_SCALE),
        "multiplies the vector field (> 0, 1/s)",
    ),
    param(
        "amplitude",
        Some(VanDerPol::DEFAULT_AMPLITUDE),
        "state = amplitude × canonical state (> 0)",
    ),
];
const DWELL_PARAMS: &[Parameter] = &[
    param(
        "dims",
        Some(1.0),
        "number of independent wells (1: x' = k(x − x³); 2: four attractors)",
    ),
    param(
        "time_scale",
        Some(DoubleWell::DEFAULT_TIME_SCALE),
        "the rate k, multiplies the vector field (> 0, 1/s)",
    ),
    param(
        "amplitude",
        Some(DoubleWell::DEFAULT_AMPLITUDE),
        "stable points at ±amplitude (> 0)",
    ),
];
const LORENZ_PARAMS: &[Parameter] = &[
    param("sigma", Some(Lorenz::DEFAULT_SIGMA), "σ > 0"),
    param("rho", Some(Lorenz::DEFAULT_RHO), "ρ > 0"),
    param("beta", Some(Lorenz::DEFAULT_BETA), "β > 0"),
    param(
        "time_scale",
        Some(Lorenz::DEFAULT_TIME_SCALE),
        "multiplies the vector field (> 0, 1/s)",
    ),
    param(
        "amplitude",
        Some(Lorenz::DEFAULT_AMPLITUDE),
        "state = amplitude × (X, Y, Z − z_offset) (> 0)",
    ),
    param(
        "z_offset",
        Some(Lorenz::DEFAULT_Z_OFFSET),
        "canonical Z subtracted before scaling (finite)",
    ),
];
const PENDULUM_PARAMS: &[Parameter] = &[
    param(
        "damping",
        Some(DampedPendulum::DEFAULT_DAMPING),
        "γ ≥ 0 in θ'' = −ω₀² sin θ − γ θ' (1/s)",
    ),
    param(
        "omega",
        Some(DampedPendulum::DEFAULT_OMEGA),
        "natural angular frequency ω₀ = √(g/l) > 0 (rad/s)",
    ),
    param(
        "time_scale",
        Some(DampedPendulum::DEFAULT_TIME_SCALE),
        "multiplies the vector field (> 0)",
    ),
    param(
        "amplitude",
        Some(DampedPendulum::DEFAULT_AMPLITUDE),
        "state = amplitude × (θ, θ'/ω₀) (> 0)",
    ),
];

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
    pub const ALL: [TargetKind; 5] = [
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
    pub fn from_name(name: &str) -> Option<TargetKind> {
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
    pub fn parameter_list(self) -> String {
        self.parameters()
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The accepted kind names, for messages: `"one of linear, van_der_pol, …"`.
    pub fn expected() -> String {
        let names: Vec<&str> = TargetKind::ALL.iter().map(|k| k.name()).collect();
        format!("one of {}", names.join(", "))
    }

    /// The error for an unknown kind name (field `target.kind`).
    pub fn unknown(got: &str) -> BuildError {
        BuildError::new("target.kind", TargetKind::expected(), format!("\"{got}\""))
    }

    /// The error for a parameter that `self` does not take (field `target.<name>`), listing
    /// the ones it does.
    pub fn unknown_parameter(self, name: &str) -> BuildError {
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

/// `ẋ = A x`: the linear target (Boerlin et al. 2013 use `A = [[−4.8, −22.4], [40, 0]]`).
///
/// No `time_scale` or `amplitude`: scaling the state leaves a linear field unchanged, and a time
/// scale is a factor on `A`. With a piecewise-polynomial input the solution also has a closed
/// form, [`crate::model::teacher::LinearTeacher`]; this field is for the generic solver (and tests it).
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    dims: usize,
    /// Row-major `A`: `a[i * d + k]`.
    a: Vec<f64>,
}

impl Linear {
    /// From the rows of `A` (square, finite). Errors name `target.a` (empty or not square) or
    /// `target.a[i][k]` (non-finite entry).
    pub fn new(rows: &[Vec<f64>]) -> Result<Linear, BuildError> {
        let d = rows.len();
        if d == 0 {
            return Err(BuildError::new(
                "target.a",
                "a non-empty square matrix (rows)",
                "no rows",
            ));
        }
        let mut a = Vec::with_capacity(d * d);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != d {
                return Err(BuildError::new(
                    format!("target.a[{i}]"),
                    format!("a row of {d} entries (A is square, {d} rows)"),
                    format!("{} entries", row.len()),
                ));
            }
            for (k, &v) in row.iter().enumerate() {
                a.push(finite(&format!("a[{i}][{k}]"), v)?);
            }
        }
        Ok(Linear { dims: d, a })
    }

    /// From `A` in row-major order (`a[i * dims + k]`), as [`crate::model::teacher::LinearTeacher`]
    /// takes it. Errors name `target.a`.
    pub fn from_row_major(dims: usize, a: &[f64]) -> Result<Linear, BuildError> {
        if dims == 0 || a.len() != dims * dims {
            return Err(BuildError::new(
                "target.a",
                format!("a {dims}×{dims} matrix ({} entries, dims ≥ 1)", dims * dims),
                format!("{} entries", a.len()),
            ));
        }
        let rows: Vec<Vec<f64>> = a.chunks(dims).map(<[f64]>::to_vec).collect();
        Linear::new(&rows)
    }

    /// `A`, row-major.
    pub fn a(&self) -> &[f64] {
        &self.a
    }
}

impl VectorField for Linear {
    fn dims(&self) -> usize {
        self.dims
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let d = self.dims;
        for (i, o) in out.iter_mut().enumerate().take(d) {
            *o = self.a[i * d..(i + 1) * d]
                .iter()
                .zip(x)
                .map(|(a, x)| a * x)
                .sum();
        }
    }

    fn jacobian(&self, _x: &[f64], out: &mut [f64]) -> bool {
        let n = self.a.len().min(out.len());
        out[..n].copy_from_slice(&self.a[..n]);
        true
    }
}

/// The Van der Pol oscillator, scaled (prototype `vdp`, parameters `[s, mu, a]`):
///
/// ```text
/// canonical:  y₁' = y₂,   y₂' = μ (1 − y₁²) y₂ − y₁
/// scaled:     x₁' = s x₂,  x₂' = s (μ (1 − (x₁/a)²) x₂ − x₁)      (x = a y, s = time_scale, a = amplitude)
/// ```
///
/// The limit cycle has `x₁ ∈ [−2a, 2a]` (for μ = 1) and period `T(μ)/s` with `T(1) = 6.6633`.
/// Defaults (the prototype's working regime): μ = 1, s = 8, a = 0.5 — period 0.833 s,
/// `x₁ ∈ [−1, 1]`, `x₂ ∈ [−1.34, 1.34]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VanDerPol {
    mu: f64,
    time_scale: f64,
    amplitude: f64,
}

impl VanDerPol {
    /// Default μ.
    pub const DEFAULT_MU: f64 = 1.0;
    /// Default time scale (1/s).
    pub const DEFAULT_TIME_SCALE: f64 = 8.0;
    /// Default amplitude.
    pub const DEFAULT_AMPLITUDE: f64 = 0.5;

    /// μ ≥ 0, time_scale > 0, amplitude > 0 (all finite); errors name `target.mu`,
    /// `target.time_scale`, `target.amplitude`.
    pub fn new(mu: f64, time_scale: f64, amplitude: f64) -> Result<VanDerPol, BuildError> {
        Ok(VanDerPol {
            mu: non_negative("mu", mu)?,
            time_scale: positive("time_scale", time_scale)?,
            amplitude: positive("amplitude", amplitude)?,
        })
    }

    /// μ.
    pub fn mu(&self) -> f64 {
        self.mu
    }
    /// Time scale s.
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }
    /// Amplitude a.
    pub fn amplitude(&self) -> f64 {
        self.amplitude
    }
}

impl Default for VanDerPol {
    fn default() -> Self {
        VanDerPol {
            mu: Self::DEFAULT_MU,
            time_scale: Self::DEFAULT_TIME_SCALE,
            amplitude: Self::DEFAULT_AMPLITUDE,
        }
    }
}

impl VectorField for VanDerPol {
    fn dims(&self) -> usize {
        2
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let (s, a, mu) = (self.time_scale, self.amplitude, self.mu);
        let y1 = x[0] / a;
        out[0] = s * x[1];
        out[1] = s * (mu * (1.0 - y1 * y1) * x[1] - x[0]);
    }

    fn jacobian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let (s, a, mu) = (self.time_scale, self.amplitude, self.mu);
        let y1 = x[0] / a;
        out[0] = 0.0;
        out[1] = s;
        out[2] = s * (-2.0 * mu * y1 * x[1] / a - 1.0);
        out[3] = s * mu * (1.0 - y1 * y1);
        true
    }
}

/// Independent double wells, one per component (prototype `dwell`, parameter `[s]`):
///
/// ```text
/// canonical:  y_i' = y_i − y_i³
/// scaled:     x_i' = s (x_i − x_i³ / a²)        (x = a y, s = time_scale, a = amplitude)
/// ```
///
/// Stable fixed points at `x_i = ±a`, unstable at 0: two attractors in 1-D
/// (`x' = k(x − x³)` with k = s), four in 2-D (the prototype's `dwell2`), `2^d` in d-D.
/// Defaults: dims = 1, s = 5, a = 1 (the prototype's `x' = 5(x − x³)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DoubleWell {
    dims: usize,
    time_scale: f64,
    amplitude: f64,
}

impl DoubleWell {
    /// Default time scale k (1/s).
    pub const DEFAULT_TIME_SCALE: f64 = 5.0;
    /// Default amplitude (position of the stable points).
    pub const DEFAULT_AMPLITUDE: f64 = 1.0;

    /// `dims ≥ 1` wells, time_scale > 0, amplitude > 0; errors name `target.dims`,
    /// `target.time_scale`, `target.amplitude`.
    pub fn new(dims: usize, time_scale: f64, amplitude: f64) -> Result<DoubleWell, BuildError> {
        if dims == 0 {
            return Err(BuildError::new("target.dims", "at least 1 dimension", "0"));
        }
        Ok(DoubleWell {
            dims,
            time_scale: positive("time_scale", time_scale)?,
            amplitude: positive("amplitude", amplitude)?,
        })
    }

    /// The 1-D double well `x' = k (x − x³)` (amplitude 1).
    pub fn one_d(k: f64) -> Result<DoubleWell, BuildError> {
        DoubleWell::new(1, k, 1.0)
    }

    /// The 2-D four-attractor version `x_i' = k (x_i − x_i³)`, i = 1, 2 (amplitude 1).
    pub fn two_d(k: f64) -> Result<DoubleWell, BuildError> {
        DoubleWell::new(2, k, 1.0)
    }

    /// Time scale k.
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }
    /// Amplitude a.
    pub fn amplitude(&self) -> f64 {
        self.amplitude
    }
}

impl Default for DoubleWell {
    fn default() -> Self {
        DoubleWell {
            dims: 1,
            time_scale: Self::DEFAULT_TIME_SCALE,
            amplitude: Self::DEFAULT_AMPLITUDE,
        }
    }
}

impl VectorField for DoubleWell {
    fn dims(&self) -> usize {
        self.dims
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let (s, a2) = (self.time_scale, self.amplitude * self.amplitude);
        for (o, &xi) in out.iter_mut().zip(x).take(self.dims) {
            *o = s * (xi - xi * xi * xi / a2);
        }
    }

    fn jacobian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let d = self.dims;
        let (s, a2) = (self.time_scale, self.amplitude * self.amplitude);
        out[..d * d].fill(0.0);
        for (i, &xi) in x.iter().enumerate().take(d) {
            out[i * d + i] = s * (1.0 - 3.0 * xi * xi / a2);
        }
        true
    }
}

/// The Lorenz system, shifted and scaled so the state stays of order 1 (prototype `lorenz`,
/// parameters `[s, σ, ρ, β, a_p, z_off]` with `amplitude = 1/a_p`):
///
/// ```text
/// canonical:  X' = σ (Y − X),   Y' = X (ρ − Z) − Y,   Z' = X Y − β Z
/// scaled:     x = a (X, Y, Z − z_offset),   x' = s a (X', Y', Z')  evaluated at
///             X = x₁/a, Y = x₂/a, Z = x₃/a + z_offset             (s = time_scale, a = amplitude)
/// ```
///
/// Defaults (the prototype's): σ = 10, ρ = 28, β = 8/3, s = 0.5, a = 0.1, z_offset = 25, i.e.
/// `x = (X/10, Y/10, (Z − 25)/10)` at half speed: `x ∈ [−1.8, 1.8] × [−2.3, 2.5] × [−2, 2]`,
/// loop period ≈ 1.48 s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lorenz {
    sigma: f64,
    rho: f64,
    beta: f64,
    time_scale: f64,
    amplitude: f64,
    z_offset: f64,
}

impl Lorenz {
    /// Default σ.
    pub const DEFAULT_SIGMA: f64 = 10.0;
    /// Default ρ.
    pub const DEFAULT_RHO: f64 = 28.0;
    /// Default β.
    pub const DEFAULT_BETA: f64 = 8.0 / 3.0;
    /// Default time scale (1/s).
    pub const DEFAULT_TIME_SCALE: f64 = 0.5;
    /// Default amplitude (the prototype's `1/10`).
    pub const DEFAULT_AMPLITUDE: f64 = 0.1;
    /// Default offset of the canonical Z.
    pub const DEFAULT_Z_OFFSET: f64 = 25.0;

    /// σ, ρ, β, time_scale, amplitude > 0, z_offset finite; errors name `target.sigma`,
    /// `target.rho`, `target.beta`, `target.time_scale`, `target.amplitude`, `target.z_offset`.
    pub fn new(
        sigma: f64,
        rho: f64,
        beta: f64,
        time_scale: f64,
        amplitude: f64,
        z_offset: f64,
    ) -> Result<Lorenz, BuildError> {
        Ok(Lorenz {
            sigma: positive("sigma", sigma)?,
            rho: positive("rho", rho)?,
            beta: positive("beta", beta)?,
            time_scale: positive("time_scale", time_scale)?,
            amplitude: positive("amplitude", amplitude)?,
            z_offset: finite("z_offset", z_offset)?,
        })
    }

    /// The textbook system (σ, ρ, β) with no scaling: time_scale 1, amplitude 1, z_offset 0.
    pub fn canonical(sigma: f64, rho: f64, beta: f64) -> Result<Lorenz, BuildError> {
        Lorenz::new(sigma, rho, beta, 1.0, 1.0, 0.0)
    }

    /// σ.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
    /// ρ.
    pub fn rho(&self) -> f64 {
        self.rho
    }
    /// β.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// Time scale s.
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }
    /// Amplitude a.
    pub fn amplitude(&self) -> f64 {
        self.amplitude
    }
    /// Offset of the canonical Z.
    pub fn z_offset(&self) -> f64 {
        self.z_offset
    }
}

impl Default for Lorenz {
    fn default() -> Self {
        Lorenz {
            sigma: Self::DEFAULT_SIGMA,
            rho: Self::DEFAULT_RHO,
            beta: Self::DEFAULT_BETA,
            time_scale: Self::DEFAULT_TIME_SCALE,
            amplitude: Self::DEFAULT_AMPLITUDE,
            z_offset: Self::DEFAULT_Z_OFFSET,
        }
    }
}

impl VectorField for Lorenz {
    fn dims(&self) -> usize {
        3
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let (s, a) = (self.time_scale, self.amplitude);
        let (big_x, big_y, big_z) = (x[0] / a, x[1] / a, x[2] / a + self.z_offset);
        let sa = s * a;
        out[0] = sa * self.sigma * (big_y - big_x);
        out[1] = sa * (big_x * (self.rho - big_z) - big_y);
        out[2] = sa * (big_x * big_y - self.beta * big_z);
    }

    fn jacobian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let (s, a) = (self.time_scale, self.amplitude);
        let (big_x, big_y, big_z) = (x[0] / a, x[1] / a, x[2] / a + self.z_offset);
        let j = [
            -self.sigma,
            self.sigma,
            0.0,
            self.rho - big_z,
            -1.0,
            -big_x,
            big_y,
            big_x,
            -self.beta,
        ];
        for (o, v) in out.iter_mut().zip(j) {
            *o = s * v;
        }
        true
    }
}

/// The damped pendulum `θ'' = −ω₀² sin θ − γ θ'`, in the state `y = (θ, θ'/ω₀)` so that both
/// components are of order 1:
///
/// ```text
/// canonical:  y₁' = ω₀ y₂,    y₂' = −ω₀ sin y₁ − γ y₂
/// scaled:     x₁' = s ω₀ x₂,  x₂' = s (−ω₀ a sin(x₁/a) − γ x₂)     (x = a y, s = time_scale, a = amplitude)
/// ```
///
/// With γ = 0 the energy `E = 1 − cos(x₁/a) + (x₂/a)²/2` is conserved (small oscillations have
/// period `2π/(s ω₀)`). Not in the prototype; defaults chosen for the same regime as its
/// targets: γ = 0.5/s, ω₀ = 2π rad/s (1 s small-angle period), s = 1, a = 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DampedPendulum {
    damping: f64,
    omega: f64,
    time_scale: f64,
    amplitude: f64,
}

impl DampedPendulum {
    /// Default damping γ (1/s).
    pub const DEFAULT_DAMPING: f64 = 0.5;
    /// Default natural angular frequency ω₀ (rad/s).
    pub const DEFAULT_OMEGA: f64 = 2.0 * std::f64::consts::PI;
    /// Default time scale.
    pub const DEFAULT_TIME_SCALE: f64 = 1.0;
    /// Default amplitude.
    pub const DEFAULT_AMPLITUDE: f64 = 1.0;

    /// damping ≥ 0, omega > 0, time_scale > 0, amplitude > 0 (all finite); errors name
    /// `target.damping`, `target.omega`, `target.time_scale`, `target.amplitude`.
    pub fn new(
        damping: f64,
        omega: f64,
        time_scale: f64,
        amplitude: f64,
    ) -> Result<DampedPendulum, BuildError> {
        Ok(DampedPendulum {
            damping: non_negative("damping", damping)?,
            omega: positive("omega", omega)?,
            time_scale: positive("time_scale", time_scale)?,
            amplitude: positive("amplitude", amplitude)?,
        })
    }

    /// The conserved energy of the undamped pendulum at state `x`:
    /// `1 − cos(x₁/a) + (x₂/a)²/2` (dimensionless, per `m l² ω₀²`).
    ///
    /// # Panics
    /// When `x` has fewer than 2 components.
    pub fn energy(&self, x: &[f64]) -> f64 {
        let (y1, y2) = (x[0] / self.amplitude, x[1] / self.amplitude);
        1.0 - y1.cos() + 0.5 * y2 * y2
    }

    /// Damping γ.
    pub fn damping(&self) -> f64 {
        self.damping
    }
    /// Natural angular frequency ω₀.
    pub fn omega(&self) -> f64 {
        self.omega
    }
    /// Time scale s.
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }
    /// Amplitude a.
    pub fn amplitude(&self) -> f64 {
        self.amplitude
    }
}

impl Default for DampedPendulum {
    fn default() -> Self {
        DampedPendulum {
            damping: Self::DEFAULT_DAMPING,
            omega: Self::DEFAULT_OMEGA,
            time_scale: Self::DEFAULT_TIME_SCALE,
            amplitude: Self::DEFAULT_AMPLITUDE,
        }
    }
}

impl VectorField for DampedPendulum {
    fn dims(&self) -> usize {
        2
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let (s, a, w) = (self.time_scale, self.amplitude, self.omega);
        out[0] = s * w * x[1];
        out[1] = s * (-w * a * (x[0] / a).sin() - self.damping * x[1]);
    }

    fn jacobian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let (s, a, w) = (self.time_scale, self.amplitude, self.omega);
        out[0] = 0.0;
        out[1] = s * w;
        out[2] = -s * w * (x[0] / a).cos();
        out[3] = -s * self.damping;
        true
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
