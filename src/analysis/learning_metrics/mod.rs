//! Metrics of learned dynamics: oscillation period and amplitude, windowed NRMSE, vector-field
//! error, fixed points and basins, attractor statistics, spike statistics of alive neurons, E/I
//! balance and decimated learning curves.
//!
//! Why: after learning, a network that runs autonomously must be judged by what it reproduces of
//! the target *dynamics*, not only by a readout error — for limit cycles and chaotic attractors the
//! driven error is dominated by phase drift (prototype REPORT.md §4, §8.8). These are the numbers
//! the prototype (`shared/prototype/learn.py`, `exp_learn.py`, `ebn.py`) reported; every function
//! states its definition, its units, where it follows the prototype and where it improves on it.
//!
//! Everything here is a pure function of sampled data or of closures: simulations (which attractor
//! does a start end in, what is the learned field) stay outside this module. Degenerate inputs
//! (empty, mismatched lengths, zero variance) never panic; they give `None`, NaN or an empty result,
//! as each function documents. Trajectories are row-major `samples × d` slices, times in seconds.

use crate::analysis::metrics;
use crate::engine::Spike;
use serde::{Deserialize, Serialize};

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

/// Signed relative error `(test − reference) / reference`.
///
/// Positive when the test value is larger (a longer period, a larger amplitude). NaN when either
/// value is not finite or `reference` is 0.
pub fn relative_error(test: f64, reference: f64) -> f64 {
    if !test.is_finite() || !reference.is_finite() || reference == 0.0 {
        return f64::NAN;
    }
    (test - reference) / reference
}

/// `true` when `x` has a positive length that is a multiple of `d` (`d > 0`).
fn is_rows(x: &[f64], d: usize) -> bool {
    d > 0 && !x.is_empty() && x.len() % d == 0
}

/// The projection `s_k = Σ_j w_j x_kj` of every sample `x_k` (rows of `states`, `samples × d`) onto
/// the weights `w` (length d). `w = e_0` picks the first coordinate, as the prototype does.
///
/// Empty when `states` is not `samples × d` or `weights.len() != d`.
pub fn project(states: &[f64], d: usize, weights: &[f64]) -> Vec<f64> {
    if !is_rows(states, d) || weights.len() != d {
        return Vec::new();
    }
    states
        .chunks_exact(d)
        .map(|row| row.iter().zip(weights).map(|(x, w)| x * w).sum())
        .collect()
}

/// Root-mean-square radius about the origin, `sqrt( (1/n) Σ_k ‖x_k‖² )`, of a trajectory
/// (`samples × d`), in the units of x.
///
/// This is the prototype's amplitude of a limit cycle (`cycle_stats` in `learn.py`: not centred,
/// all coordinates). For a sine of amplitude A in one coordinate it is A/√2. NaN when `states` is
/// not `samples × d`.
pub fn rms_radius(states: &[f64], d: usize) -> f64 {
    if !is_rows(states, d) {
        return f64::NAN;
    }
    let n = (states.len() / d) as f64;
    (states.iter().map(|x| x * x).sum::<f64>() / n).sqrt()
}

/// Population mean and standard deviation of the finite values of `v`; `None` when there is none.
fn mean_std(v: &[f64]) -> Option<(f64, f64)> {
    let (mut n, mut s) = (0usize, 0.0);
    for &x in v.iter().filter(|x| x.is_finite()) {
        n += 1;
        s += x;
    }
    if n == 0 {
        return None;
    }
    let m = s / n as f64;
    let var = v
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| (x - m) * (x - m))
        .sum::<f64>()
        / n as f64;
    Some((m, var.sqrt()))
}

/// Per-coordinate population standard deviations of `samples × d` data (empty when malformed).
fn column_stds(x: &[f64], d: usize) -> Vec<f64> {
    if !is_rows(x, d) {
        return Vec::new();
    }
    (0..d)
        .map(|j| {
            let col: Vec<f64> = x.iter().skip(j).step_by(d).copied().collect();
            mean_std(&col).map_or(f64::NAN, |(_, s)| s)
        })
        .collect()
}

mod attractor;
mod curve;
mod field;
mod nrmse;
mod oscillation;
mod spikes;
mod stability;

pub use attractor::*;
pub use curve::*;
pub use field::*;
pub use nrmse::*;
pub use oscillation::*;
pub use spikes::*;
pub use stability::*;
