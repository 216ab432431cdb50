//! The Lorenz system [`Lorenz`], shifted and scaled to the network's range.

use super::*;

pub(super) const LORENZ_PARAMS: &[Parameter] = &[
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
    pub(super) sigma: f64,
    pub(super) rho: f64,
    pub(super) beta: f64,
    pub(super) time_scale: f64,
    pub(super) amplitude: f64,
    pub(super) z_offset: f64,
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
