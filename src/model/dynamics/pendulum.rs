//! The damped pendulum family [`DampedPendulum`], with its conserved energy when undamped.

use super::*;

pub(super) const PENDULUM_PARAMS: &[Parameter] = &[
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
    pub(super) damping: f64,
    pub(super) omega: f64,
    pub(super) time_scale: f64,
    pub(super) amplitude: f64,
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
