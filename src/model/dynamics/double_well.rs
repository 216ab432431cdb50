//! The double-well family [`DoubleWell`]: `2^d` attractors, one pair per dimension.

use super::*;

pub(super) const DWELL_PARAMS: &[Parameter] = &[
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
    pub(super) dims: usize,
    pub(super) time_scale: f64,
    pub(super) amplitude: f64,
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
