//! The Van der Pol oscillator family [`VanDerPol`], scaled in time and amplitude.

use super::*;

pub(super) const VDP_PARAMS: &[Parameter] = &[
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
    pub(super) mu: f64,
    pub(super) time_scale: f64,
    pub(super) amplitude: f64,
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
