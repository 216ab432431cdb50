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

use crate::engine::Spike;
use crate::metrics;
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

// ------------------------------------------------------------------------------------------
// Oscillations
// ------------------------------------------------------------------------------------------

/// The level about which upward crossings are counted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum CrossingLevel {
    /// The value 0 (the prototype's choice; right for signals centred on the origin).
    Zero,
    /// The mean of the signal's finite samples (for signals not centred on 0).
    Mean,
    /// A given value, in the units of the signal.
    Value(f64),
}

/// Hysteresis for counting upward crossings of a noisy signal.
///
/// With `s` the population standard deviation of the signal and `ℓ` the level, the band is
/// `[ℓ − h, ℓ + h]` with `h = band · s`. An upward crossing counts only after the signal has been
/// below `ℓ − h` and when it then first rises above `ℓ + h`; spike-driven jitter around `ℓ` can
/// therefore not add crossings. The prototype (`cycle_stats`) uses `ℓ = 0`, `band = 0.3`: the
/// [`Default`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hysteresis {
    /// Crossing level ℓ.
    pub level: CrossingLevel,
    /// Half-width of the band as a fraction of the signal's standard deviation (≥ 0).
    pub band: f64,
}

impl Default for Hysteresis {
    fn default() -> Self {
        Hysteresis {
            level: CrossingLevel::Zero,
            band: 0.3,
        }
    }
}

/// Times (s) of the upward crossings of `signal` (sampled at `times`, increasing) through the level,
/// with the hysteresis of [`Hysteresis`].
///
/// Each counted crossing is timed at the *last upward passage through ℓ* before the signal exceeds
/// `ℓ + h`, by linear interpolation between the two samples that bracket ℓ. The prototype instead
/// took the index of the first sample above `ℓ + h`, which quantises the time to the sampling step
/// and shifts it by the rise time through the half band; the interpolated time makes the period of
/// a smooth signal exact to O(Δt²). Non-finite samples are skipped. Empty when the lengths differ,
/// there are fewer than 2 finite samples, or the signal has zero spread and no sample is below ℓ.
pub fn upward_crossings(times: &[f64], signal: &[f64], hysteresis: &Hysteresis) -> Vec<f64> {
    let mut out = Vec::new();
    if times.len() != signal.len() {
        return out;
    }
    let finite: Vec<(f64, f64)> = times
        .iter()
        .zip(signal)
        .filter(|(t, v)| t.is_finite() && v.is_finite())
        .map(|(&t, &v)| (t, v))
        .collect();
    let Some((mean, std)) = mean_std(signal) else {
        return out;
    };
    if finite.len() < 2 {
        return out;
    }
    let level = match hysteresis.level {
        CrossingLevel::Zero => 0.0,
        CrossingLevel::Mean => mean,
        CrossingLevel::Value(v) => v,
    };
    let h = hysteresis.band.max(0.0) * std;
    let (lo, hi) = (level - h, level + h);
    let mut armed = false;
    let mut last_below: Option<usize> = None; // last sample ≤ level since arming
    for (k, &(_, v)) in finite.iter().enumerate() {
        if v < lo || (h == 0.0 && v <= level) {
            armed = true;
        }
        if armed && v <= level {
            last_below = Some(k);
        }
        if armed && v > hi {
            if let Some(j) = last_below {
                let (t0, v0) = finite[j];
                let (t1, v1) = finite[j + 1];
                out.push(t0 + (level - v0) / (v1 - v0) * (t1 - t0));
            }
            armed = false;
            last_below = None;
        }
    }
    out
}

/// Period and amplitude of an oscillating trajectory. See [`oscillation`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Oscillation {
    /// Mean period (s): mean interval between successive upward crossings. NaN with fewer than
    /// 3 crossings (the prototype's rule: at least two periods).
    pub period: f64,
    /// Population standard deviation (s) of those intervals; NaN with fewer than 3 crossings.
    pub period_std: f64,
    /// Number of complete periods between the first and the last crossing.
    pub cycles: usize,
    /// RMS radius about the origin of the whole trajectory, all coordinates ([`rms_radius`]) —
    /// the prototype's amplitude and the one [`amplitude_error`] compares.
    pub rms_radius: f64,
    /// Mean over complete cycles of (max − min)/2 of the projected signal within the cycle
    /// (units of the signal): the sine amplitude for a sine. NaN with no complete cycle.
    pub half_peak_to_peak: f64,
}

/// Period and amplitude of a sampled trajectory `states` (`samples × d`, at `times`, s).
///
/// The period is measured on the projection of the state onto `projection` (length d; the
/// prototype uses the first coordinate, `[1, 0, …]`), from its upward crossings with
/// `hysteresis` ([`upward_crossings`]); the amplitude is reported both as the prototype's RMS
/// radius of the full state and as the mean half peak-to-peak of the projection per cycle. Pass
/// only the part of the run after the transient (the prototype drops the first second).
///
/// `None` when `states` is not `times.len() × d` or `projection.len() != d`.
pub fn oscillation(
    times: &[f64],
    states: &[f64],
    d: usize,
    projection: &[f64],
    hysteresis: &Hysteresis,
) -> Option<Oscillation> {
    if !is_rows(states, d) || states.len() / d != times.len() || projection.len() != d {
        return None;
    }
    let s = project(states, d, projection);
    let tc = upward_crossings(times, &s, hysteresis);
    let (period, period_std) = if tc.len() >= 3 {
        let iv: Vec<f64> = tc.windows(2).map(|w| w[1] - w[0]).collect();
        mean_std(&iv).unwrap_or((f64::NAN, f64::NAN))
    } else {
        (f64::NAN, f64::NAN)
    };
    // Extremes of the projection per cycle [tc_c, tc_(c+1)], in one pass (times increase).
    let cycles = tc.len().saturating_sub(1);
    let mut ext = vec![(f64::INFINITY, f64::NEG_INFINITY); cycles];
    let mut c = 0;
    for (&t, &v) in times.iter().zip(&s) {
        while c < cycles && t > tc[c + 1] {
            c += 1;
        }
        if c == cycles {
            break;
        }
        if t >= tc[c] && v.is_finite() {
            ext[c] = (ext[c].0.min(v), ext[c].1.max(v));
        }
    }
    let amps: Vec<f64> = ext
        .iter()
        .filter(|(mn, mx)| mx >= mn)
        .map(|(mn, mx)| (mx - mn) / 2.0)
        .collect();
    let half_peak_to_peak = if amps.is_empty() {
        f64::NAN
    } else {
        amps.iter().sum::<f64>() / amps.len() as f64
    };
    Some(Oscillation {
        period,
        period_std,
        cycles,
        rms_radius: rms_radius(states, d),
        half_peak_to_peak,
    })
}

/// Signed relative period error `(P_test − P_ref) / P_ref` ([`relative_error`]): positive when
/// the test oscillates slower. As the prototype's `period_err`. NaN when a period is NaN.
pub fn period_error(test: &Oscillation, reference: &Oscillation) -> f64 {
    relative_error(test.period, reference.period)
}

/// Signed relative amplitude error `(A_test − A_ref) / A_ref` of the RMS radii
/// ([`Oscillation::rms_radius`]), as the prototype's `amp_err`. For the half peak-to-peak use
/// [`relative_error`] on [`Oscillation::half_peak_to_peak`].
pub fn amplitude_error(test: &Oscillation, reference: &Oscillation) -> f64 {
    relative_error(test.rms_radius, reference.rms_radius)
}

// ------------------------------------------------------------------------------------------
// NRMSE over windows
// ------------------------------------------------------------------------------------------

/// NRMSE over several test windows. See [`windowed_nrmse`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowedNrmse {
    /// `sqrt( mean_w MSE_w / V )`.
    pub mean: f64,
    /// `sqrt( median_w MSE_w / V )` (the median of an even count averages the two middle MSEs).
    pub median: f64,
    /// `sqrt( MSE_w / V )` of each non-empty window, in order.
    pub per_window: Vec<f64>,
}

/// NRMSE of estimate against target over several windows, as the prototype's driven 1-s NRMSE
/// (`short_horizon` in `learn.py`).
///
/// Each window is `(estimate, target)`, both `samples × d`. With `MSE_w = (1/n_w) Σ_k ‖x̂_k − x_k‖²`
/// the mean squared vector error of window w, and `V = Σ_j var(x_j)` the total population variance
/// of the target over all windows pooled, the result is `sqrt(mean_w MSE_w / V)` and
/// `sqrt(median_w MSE_w / V)`; the median is reported because one badly tracked window dominates the
/// mean (REPORT.md §1, §8.8). Empty windows are skipped. With one window this is
/// [`metrics::nrmse`]: the autonomous 1-s NRMSE is `windowed_nrmse(&[(x̂, x)], d)` on the first
/// second (see [`nrmse_between`]).
///
/// `None` when no window is non-empty or any window is malformed (lengths differ or are not a
/// multiple of d). A constant target (V = 0) gives +∞ (or NaN for zero error).
pub fn windowed_nrmse(windows: &[(&[f64], &[f64])], d: usize) -> Option<WindowedNrmse> {
    if d == 0 {
        return None;
    }
    let mut mse = Vec::new();
    let (mut n, mut sum) = (0usize, vec![0.0; d]);
    for (est, tgt) in windows {
        if est.len() != tgt.len() || tgt.len() % d != 0 {
            return None;
        }
        if tgt.is_empty() {
            continue;
        }
        let rows = tgt.len() / d;
        let e2: f64 = est
            .iter()
            .zip(tgt.iter())
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        mse.push(e2 / rows as f64);
        n += rows;
        for row in tgt.chunks_exact(d) {
            for j in 0..d {
                sum[j] += row[j];
            }
        }
    }
    if mse.is_empty() {
        return None;
    }
    // Pooled variance, computed about the pooled mean in a second pass for accuracy.
    let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
    let mut var = 0.0;
    for (_, tgt) in windows {
        for row in tgt.chunks_exact(d) {
            var += row
                .iter()
                .zip(&mean)
                .map(|(x, m)| (x - m) * (x - m))
                .sum::<f64>();
        }
    }
    var /= n as f64;
    let m = mse.iter().sum::<f64>() / mse.len() as f64;
    let mut sorted = mse.clone();
    sorted.sort_by(f64::total_cmp);
    let h = sorted.len() / 2;
    let med = if sorted.len() % 2 == 1 {
        sorted[h]
    } else {
        (sorted[h - 1] + sorted[h]) / 2.0
    };
    Some(WindowedNrmse {
        mean: (m / var).sqrt(),
        median: (med / var).sqrt(),
        per_window: mse.iter().map(|e| (e / var).sqrt()).collect(),
    })
}

/// [`metrics::nrmse`] over the samples with `t0 ≤ t < t1` (s) — e.g. the prototype's autonomous
/// 1-s NRMSE: the first second of an autonomous run started on the teacher's state.
///
/// `times` must increase. NaN when the slices are not `times.len() × d` or no sample lies in the
/// window.
pub fn nrmse_between(
    times: &[f64],
    estimate: &[f64],
    target: &[f64],
    d: usize,
    t0: f64,
    t1: f64,
) -> f64 {
    if !is_rows(target, d) || estimate.len() != target.len() || target.len() / d != times.len() {
        return f64::NAN;
    }
    let rows: Vec<usize> = (0..times.len())
        .filter(|&k| times[k] >= t0 && times[k] < t1)
        .collect();
    let (Some(&a), Some(&b)) = (rows.first(), rows.last()) else {
        return f64::NAN;
    };
    // Times are increasing, so the window is one contiguous block of rows.
    metrics::nrmse(
        &estimate[a * d..(b + 1) * d],
        &target[a * d..(b + 1) * d],
        d,
    )
}

// ------------------------------------------------------------------------------------------
// Vector-field error
// ------------------------------------------------------------------------------------------

/// Relative RMS error of a learned vector field against a target field over sample states:
///
/// ```text
/// field_error = sqrt( Σ_k ‖f_learned(x_k) − f_target(x_k)‖² / Σ_k ‖f_target(x_k)‖² )
/// ```
///
/// `states` is row-major `samples × d`; both closures write a d-vector for a state. Identical
/// fields give 0, `f_learned = s · f_target` gives `|s − 1|`. This is the prototype's
/// `field_error` (`learn.py`) when the fields are given in the frame of g: the network learns
/// `ÛΨ(x) ≈ g(x) + λ_d x`, and the prototype divides by ‖g‖, not by ‖g + λ_d x‖; pass
/// `learned(x) = ÛΨ(x) − λ_d x` and `target = g`, or use [`learned_field_error`] which does this.
/// Sample states from the training distribution (the prototype: a teacher run on training-like
/// input).
///
/// NaN when `states` is not `samples × d`; +∞ when the target vanishes on every sample but the
/// learned field does not (NaN if both vanish).
pub fn field_error(
    learned: impl Fn(&[f64], &mut [f64]),
    target: impl Fn(&[f64], &mut [f64]),
    states: &[f64],
    d: usize,
) -> f64 {
    if !is_rows(states, d) {
        return f64::NAN;
    }
    let (mut a, mut b) = (vec![0.0; d], vec![0.0; d]);
    let (mut num, mut den) = (0.0, 0.0);
    for x in states.chunks_exact(d) {
        learned(x, &mut a);
        target(x, &mut b);
        num += a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f64>();
        den += b.iter().map(|q| q * q).sum::<f64>();
    }
    (num / den).sqrt()
}

/// The prototype's field error exactly: `‖ÛΨ(x) − (g(x) + λ_d x)‖ / ‖g(x)‖` in the RMS sense of
/// [`field_error`], with `learned_total(x) = ÛΨ(x)` (what the slow weights supply, which must
/// approximate `g(x) + λ_d x`), `g` the target's vector field and `lambda_d` (1/s) the readout
/// decay.
pub fn learned_field_error(
    learned_total: impl Fn(&[f64], &mut [f64]),
    g: impl Fn(&[f64], &mut [f64]),
    lambda_d: f64,
    states: &[f64],
    d: usize,
) -> f64 {
    field_error(
        |x, out| {
            learned_total(x, out);
            out.iter_mut()
                .zip(x)
                .for_each(|(o, xi)| *o -= lambda_d * xi);
        },
        g,
        states,
        d,
    )
}

// ------------------------------------------------------------------------------------------
// Fixed points, linear stability, basins
// ------------------------------------------------------------------------------------------

/// A complex eigenvalue `re + i·im`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eigenvalue {
    /// Real part (1/s for a vector field in 1/s).
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

/// Linear stability of a fixed point, from the eigenvalues of its Jacobian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stability {
    /// Every Re λ < 0 and every λ real: an attracting node.
    StableNode,
    /// Every Re λ < 0, at least one complex pair: an attracting focus (spiral).
    StableFocus,
    /// Every Re λ > 0, every λ real: a repelling node.
    UnstableNode,
    /// Every Re λ > 0, at least one complex pair: a repelling focus.
    UnstableFocus,
    /// Re λ of both signs (none ≈ 0): a saddle.
    Saddle,
    /// Some |Re λ| ≤ the zero tolerance: the linearisation does not decide (centre, fold, x³).
    NonHyperbolic,
    /// The eigenvalues could not be computed (non-finite Jacobian).
    Undetermined,
}

impl Stability {
    /// Whether the fixed point attracts all nearby states (a stable node or focus).
    pub fn is_attracting(self) -> bool {
        matches!(self, Stability::StableNode | Stability::StableFocus)
    }
}

/// Classifies eigenvalues: `|Re λ| ≤ zero_tol` counts as zero (→ [`Stability::NonHyperbolic`]);
/// otherwise by the signs of the real parts, and node vs focus by whether any `|Im λ| > zero_tol`.
/// An empty or non-finite list gives [`Stability::Undetermined`].
pub fn classify(eigenvalues: &[Eigenvalue], zero_tol: f64) -> Stability {
    if eigenvalues.is_empty()
        || eigenvalues
            .iter()
            .any(|e| !e.re.is_finite() || !e.im.is_finite())
    {
        return Stability::Undetermined;
    }
    if eigenvalues.iter().any(|e| e.re.abs() <= zero_tol) {
        return Stability::NonHyperbolic;
    }
    let neg = eigenvalues.iter().filter(|e| e.re < 0.0).count();
    let complex = eigenvalues.iter().any(|e| e.im.abs() > zero_tol);
    match (neg, complex) {
        (n, false) if n == eigenvalues.len() => Stability::StableNode,
        (n, true) if n == eigenvalues.len() => Stability::StableFocus,
        (0, false) => Stability::UnstableNode,
        (0, true) => Stability::UnstableFocus,
        _ => Stability::Saddle,
    }
}

/// Roots of `λ² − t λ + q = 0` (t the trace, q the determinant of a 2×2 matrix), computed without
/// cancellation.
fn quadratic_roots(t: f64, q: f64) -> [Eigenvalue; 2] {
    let h = t / 2.0;
    let disc = h * h - q;
    if disc >= 0.0 {
        let s = disc.sqrt();
        let big = if h >= 0.0 { h + s } else { h - s };
        let small = if big != 0.0 { q / big } else { 0.0 };
        [
            Eigenvalue { re: big, im: 0.0 },
            Eigenvalue { re: small, im: 0.0 },
        ]
    } else {
        let s = (-disc).sqrt();
        [Eigenvalue { re: h, im: s }, Eigenvalue { re: h, im: -s }]
    }
}

/// Real roots of the monic cubic `λ³ + a λ² + b λ + c` and the complex pair if there is one.
fn cubic_roots(a: f64, b: f64, c: f64) -> [Eigenvalue; 3] {
    let p = |x: f64| ((x + a) * x + b) * x + c;
    let dp = |x: f64| (3.0 * x + 2.0 * a) * x + b;
    let polish = |mut x: f64| {
        for _ in 0..3 {
            let (f, g) = (p(x), dp(x));
            if g == 0.0 || !f.is_finite() {
                break;
            }
            let nx = x - f / g;
            if !nx.is_finite() || p(nx).abs() >= f.abs() {
                break;
            }
            x = nx;
        }
        x
    };
    // Depressed cubic: λ = s − a/3, s³ + P s + Q = 0.
    let sh = a / 3.0;
    let pp = b - a * a / 3.0;
    let qq = 2.0 * a * a * a / 27.0 - a * b / 3.0 + c;
    let disc = (qq / 2.0) * (qq / 2.0) + (pp / 3.0) * (pp / 3.0) * (pp / 3.0);
    if disc <= 0.0 && pp < 0.0 {
        // Three real roots: trigonometric form.
        let m = 2.0 * (-pp / 3.0).sqrt();
        let arg = (3.0 * qq / (pp * m)).clamp(-1.0, 1.0);
        let phi = arg.acos() / 3.0;
        let tau = 2.0 * std::f64::consts::PI / 3.0;
        let r = [0.0, 1.0, 2.0].map(|k| Eigenvalue {
            re: polish(m * (phi - k * tau).cos() - sh),
            im: 0.0,
        });
        return r;
    }
    // One real root (or a triple root when P = Q = 0): Cardano, cancellation-free.
    let sq = disc.max(0.0).sqrt();
    let u = (-qq / 2.0 - qq.signum() * sq).cbrt();
    let s = if u != 0.0 { u - pp / (3.0 * u) } else { 0.0 };
    let r = polish(s - sh);
    // Deflate: λ³ + aλ² + bλ + c = (λ − r)(λ² + (a + r)λ + b + r(a + r)).
    let lin = a + r;
    let con = b + r * lin;
    let [e1, e2] = quadratic_roots(-lin, con);
    [Eigenvalue { re: r, im: 0.0 }, e1, e2]
}

/// Eigenvalues of a `d × d` matrix given row-major, sorted by decreasing real part, then
/// decreasing imaginary part.
///
/// d = 1: the entry. d = 2: the roots of `λ² − tr λ + det` (trace/determinant, cancellation-free).
/// d = 3: the roots of the characteristic polynomial `λ³ − tr λ² + m₂ λ − det` (m₂ the sum of the
/// principal 2×2 minors) in closed form (trigonometric for three real roots, Cardano plus deflation
/// for one real root and a complex pair), real roots polished by Newton on the polynomial.
/// d > 3: the real Schur form (nalgebra, at most 10 000 QR iterations). Closed forms lose accuracy
/// for nearly repeated roots (an error ~ sqrt(ε) relative); that does not change a classification
/// with a sensible zero tolerance. `None` when the matrix is not `d × d`, has a non-finite entry, or
/// the Schur iteration does not converge.
pub fn eigenvalues(matrix: &[f64], d: usize) -> Option<Vec<Eigenvalue>> {
    if d == 0 || matrix.len() != d * d || matrix.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let m = |i: usize, j: usize| matrix[i * d + j];
    let mut ev: Vec<Eigenvalue> = match d {
        1 => vec![Eigenvalue {
            re: matrix[0],
            im: 0.0,
        }],
        2 => quadratic_roots(m(0, 0) + m(1, 1), m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0)).to_vec(),
        3 => {
            let tr = m(0, 0) + m(1, 1) + m(2, 2);
            let m2 = m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0) + m(0, 0) * m(2, 2) - m(0, 2) * m(2, 0)
                + m(1, 1) * m(2, 2)
                - m(1, 2) * m(2, 1);
            let det = m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1))
                - m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0))
                + m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
            cubic_roots(-tr, m2, -det).to_vec()
        }
        _ => {
            let mat = nalgebra::DMatrix::from_row_slice(d, d, matrix);
            let schur = nalgebra::linalg::Schur::try_new(mat, f64::EPSILON, 10_000)?;
            schur
                .complex_eigenvalues()
                .iter()
                .map(|c| Eigenvalue { re: c.re, im: c.im })
                .collect()
        }
    };
    ev.sort_by(|x, y| y.re.total_cmp(&x.re).then(y.im.total_cmp(&x.im)));
    Some(ev)
}

/// Central-difference Jacobian of `field` at `x` with per-coordinate steps `steps` (row-major
/// `d × d`, `J[i][j] = ∂f_i/∂x_j`).
fn jacobian_steps(field: &impl Fn(&[f64], &mut [f64]), x: &[f64], steps: &[f64]) -> Vec<f64> {
    let d = x.len();
    let mut jac = vec![0.0; d * d];
    let (mut xp, mut fp, mut fm) = (x.to_vec(), vec![0.0; d], vec![0.0; d]);
    for j in 0..d {
        let h = steps[j];
        xp[j] = x[j] + h;
        field(&xp, &mut fp);
        xp[j] = x[j] - h;
        field(&xp, &mut fm);
        xp[j] = x[j];
        let dx = 2.0 * h;
        for i in 0..d {
            jac[i * d + j] = (fp[i] - fm[i]) / dx;
        }
    }
    jac
}

/// Numeric Jacobian `J[i][j] = ∂f_i/∂x_j` (row-major `d × d`, d = `x.len()`) of `field` at `x` by
/// central differences with step `h_j = ε^(1/3) · max(|x_j|, scale)` (ε the f64 machine epsilon,
/// ε^(1/3) ≈ 6e-6), which balances truncation (O(h²)) and rounding (O(ε/h)) errors: about 1e-10
/// relative for smooth fields. `scale` is the coordinates' typical size (use 1 for O(1) states).
pub fn numeric_jacobian(field: impl Fn(&[f64], &mut [f64]), x: &[f64], scale: f64) -> Vec<f64> {
    let c = f64::EPSILON.cbrt();
    let s = if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    };
    let steps: Vec<f64> = x.iter().map(|v| c * v.abs().max(s)).collect();
    jacobian_steps(&field, x, &steps)
}

/// Settings of [`fixed_points`]. Tolerances are relative: lengths to the box diagonal L, field
/// values to the field scale F (RMS of ‖f‖ over the seeds), eigenvalues to the rate scale F/L.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixedPointOptions {
    /// Seeds per dimension of the regular grid over the box, endpoints included (≥ 1; 1 means the
    /// centre). Default 11.
    pub seeds_per_dim: usize,
    /// Newton iterations per seed. Default 100 (enough for the linear convergence at a root with
    /// a singular Jacobian, such as x³).
    pub max_iter: usize,
    /// Newton stops when a step is shorter than `step_tol · L`. Default 1e-13.
    pub step_tol: f64,
    /// A converged point is accepted when `‖f(x*)‖ ≤ residual_tol · F`. Default 1e-8.
    pub residual_tol: f64,
    /// Points closer than `dedup_tol · L` are the same fixed point. Default 1e-6.
    pub dedup_tol: f64,
    /// `|Re λ| ≤ zero_tol · max(F/L, max_i |λ_i|)` counts as zero in [`classify`]. Default 1e-6.
    pub zero_tol: f64,
}

impl Default for FixedPointOptions {
    fn default() -> Self {
        FixedPointOptions {
            seeds_per_dim: 11,
            max_iter: 100,
            step_tol: 1e-13,
            residual_tol: 1e-8,
            dedup_tol: 1e-6,
            zero_tol: 1e-6,
        }
    }
}

/// A fixed point of a vector field with its linearisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixedPoint {
    /// Location, d coordinates.
    pub x: Vec<f64>,
    /// `‖f(x)‖` at the location.
    pub residual: f64,
    /// Eigenvalues of the numeric Jacobian there ([`eigenvalues`]); empty if undetermined.
    pub eigenvalues: Vec<Eigenvalue>,
    /// Their classification ([`classify`]).
    pub stability: Stability,
}

/// `n` evenly spaced points from `lo` to `hi` inclusive (the midpoint when n = 1).
fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![(lo + hi) / 2.0],
        _ => (0..n)
            .map(|k| lo + (hi - lo) * k as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// A regular grid over the box `[lo_j, hi_j]` with `per_dim` points per dimension (endpoints
/// included; the centre when `per_dim = 1`), row-major `per_dim^d × d`, the last coordinate
/// varying fastest. Empty when `lo`, `hi` differ in length or are empty, a bound is not finite,
/// `lo_j > hi_j`, `per_dim = 0`, or the grid would exceed 2²⁴ points.
pub fn grid_points(lo: &[f64], hi: &[f64], per_dim: usize) -> Vec<f64> {
    let d = lo.len();
    if d == 0
        || hi.len() != d
        || per_dim == 0
        || lo
            .iter()
            .zip(hi)
            .any(|(a, b)| !a.is_finite() || !b.is_finite() || a > b)
    {
        return Vec::new();
    }
    let Some(total) = (per_dim as u64)
        .checked_pow(d as u32)
        .filter(|&t| t <= 1 << 24)
    else {
        return Vec::new();
    };
    let axes: Vec<Vec<f64>> = (0..d).map(|j| linspace(lo[j], hi[j], per_dim)).collect();
    let mut out = Vec::with_capacity(total as usize * d);
    for k in 0..total as usize {
        let mut rest = k;
        let mut row = vec![0.0; d];
        for j in (0..d).rev() {
            row[j] = axes[j][rest % per_dim];
            rest /= per_dim;
        }
        out.extend_from_slice(&row);
    }
    out
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Fixed points `f(x*) = 0` of a vector field inside the box `[lo, hi]` (d = `lo.len()`).
///
/// Method: Newton's method from every seed of a regular grid ([`grid_points`] with
/// `options.seeds_per_dim`), with a central-difference Jacobian (steps
/// `ε^(1/3)·max(|x_j|, 1e-6·s_j)`, s_j the box's half-width, so that it stays accurate close to a
/// degenerate root); each step `Δ = −J⁻¹f` (LU) is halved up to 30 times until ‖f‖ decreases
/// (backtracking). A seed is abandoned when J is singular and ‖f‖ ≠ 0, no halving decreases ‖f‖,
/// or an iterate leaves the box enlarged by L on each side. A converged point (step
/// `< step_tol·L`, no further decrease, or `max_iter` reached) is kept when
/// `‖f‖ ≤ residual_tol · F` and it lies in the box (within `step_tol·L`). Points within
/// `dedup_tol·L` of each other are merged (the smaller residual is kept). Each is classified from
/// the eigenvalues of its numeric Jacobian (steps `ε^(1/3)·max(|x_j|, s_j)`; [`eigenvalues`],
/// [`classify`]). At a root of multiplicity m > 1 (singular Jacobian, e.g. x³) Newton converges
/// only linearly, by a factor (m − 1)/m per step, so such points are located less precisely (x³
/// from the default seeds over [−2, 2]: to ~1e-12). The prototype instead located the sign
/// changes of a 1-D field on a 3601-point grid (`dwell_tests` in `exp_learn.py`): resolution 1e-3,
/// 1-D only, no stability.
///
/// Returned sorted lexicographically by coordinates. Empty for a malformed box (see
/// [`grid_points`]). Fixed points outside the box or between seeds far from any basin of Newton
/// attraction may be missed; add seeds. A field that vanishes on a whole region gives the seeds in
/// it (all non-hyperbolic).
pub fn fixed_points(
    field: impl Fn(&[f64], &mut [f64]),
    lo: &[f64],
    hi: &[f64],
    options: &FixedPointOptions,
) -> Vec<FixedPoint> {
    let d = lo.len();
    let seeds = grid_points(lo, hi, options.seeds_per_dim);
    if seeds.is_empty() {
        return Vec::new();
    }
    let widths: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| b - a).collect();
    let l = norm(&widths);
    let l = if l > 0.0 { l } else { 1.0 };
    let c = f64::EPSILON.cbrt();
    // Finite-difference steps c·max(|x_j|, floor · s_j), s_j the half-width (1 for a flat side):
    // floor 1e-6 inside Newton, so that J stays accurate at a distance ≪ s from a degenerate root
    // (x³: J ≈ −(3x² + h²)); floor 1 for the classifying Jacobian, the most accurate for
    // non-degenerate points.
    let steps_at = |x: &[f64], floor: f64| -> Vec<f64> {
        x.iter()
            .zip(&widths)
            .map(|(v, w)| c * v.abs().max(floor * if *w > 0.0 { w / 2.0 } else { 1.0 }))
            .collect()
    };
    let mut f = vec![0.0; d];
    let mut fscale = 0.0;
    for s in seeds.chunks_exact(d) {
        field(s, &mut f);
        fscale += f.iter().map(|v| v * v).sum::<f64>();
    }
    let fscale = (fscale / (seeds.len() / d) as f64).sqrt();
    let outside = |x: &[f64], margin: f64| {
        x.iter()
            .zip(lo.iter().zip(hi))
            .any(|(v, (a, b))| !v.is_finite() || *v < a - margin || *v > b + margin)
    };

    let mut found: Vec<(Vec<f64>, f64)> = Vec::new();
    'seeds: for s in seeds.chunks_exact(d) {
        let mut x = s.to_vec();
        field(&x, &mut f);
        let mut fn0 = norm(&f);
        for _ in 0..options.max_iter {
            if fn0 == 0.0 {
                break;
            }
            let jac = jacobian_steps(&field, &x, &steps_at(&x, 1e-6));
            let jm = nalgebra::DMatrix::from_row_slice(d, d, &jac);
            let rhs = nalgebra::DVector::from_iterator(d, f.iter().map(|v| -v));
            let Some(delta) = jm.lu().solve(&rhs) else {
                continue 'seeds;
            };
            if delta.iter().any(|v| !v.is_finite()) {
                continue 'seeds;
            }
            let mut alpha = 1.0;
            let mut accepted = false;
            let mut trial = vec![0.0; d];
            let mut ft = vec![0.0; d];
            for _ in 0..30 {
                for j in 0..d {
                    trial[j] = x[j] + alpha * delta[j];
                }
                field(&trial, &mut ft);
                let fnt = norm(&ft);
                if fnt.is_finite() && fnt < fn0 {
                    accepted = true;
                    break;
                }
                alpha /= 2.0;
            }
            if !accepted {
                break; // no decrease: either converged to rounding level or stuck
            }
            let step = alpha * delta.norm();
            x.copy_from_slice(&trial);
            f.copy_from_slice(&ft);
            fn0 = norm(&f);
            if outside(&x, l) {
                continue 'seeds;
            }
            if step < options.step_tol * l {
                break;
            }
        }
        if fn0 <= options.residual_tol * fscale && !outside(&x, options.step_tol * l) {
            found.push((x, fn0));
        }
    }

    let mut kept: Vec<(Vec<f64>, f64)> = Vec::new();
    for (x, r) in found {
        let close = kept.iter_mut().find(|(y, _)| {
            let dist = x
                .iter()
                .zip(y.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
            dist.sqrt() <= options.dedup_tol * l
        });
        match close {
            Some(k) if r < k.1 => *k = (x, r),
            Some(_) => {}
            None => kept.push((x, r)),
        }
    }
    kept.sort_by(|(a, _), (b, _)| {
        a.iter()
            .zip(b)
            .map(|(u, v)| u.total_cmp(v))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    kept.into_iter()
        .map(|(x, residual)| {
            let jac = jacobian_steps(&field, &x, &steps_at(&x, 1.0));
            let ev = eigenvalues(&jac, d).unwrap_or_default();
            let spectral = ev.iter().map(|e| e.re.hypot(e.im)).fold(0.0, f64::max);
            let stability = classify(&ev, options.zero_tol * spectral.max(fscale / l));
            FixedPoint {
                x,
                residual,
                eigenvalues: ev,
                stability,
            }
        })
        .collect()
}

/// Outcome of [`basin_agreement`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasinAgreement {
    /// Starts whose test outcome equals the reference outcome.
    pub agree: usize,
    /// Starts with a reference outcome (the denominator).
    pub total: usize,
    /// Starts skipped because the reference gave no outcome (e.g. on a separatrix).
    pub undecided_reference: usize,
}

impl BasinAgreement {
    /// `agree / total`, the fraction of correct basins (the prototype's `basin_correct`); NaN
    /// when `total = 0`.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            f64::NAN
        } else {
            self.agree as f64 / self.total as f64
        }
    }
}

/// The fraction of initial states (rows of `starts`, `samples × d`) from which the tested system
/// ends in the same attractor as the reference system.
///
/// `test` and `reference` map an initial state to the label of the attractor the run from it ends
/// in (`None`: no decision, e.g. not settled). The simulations live in the closures; for labels use
/// e.g. [`orthant`] of the final state (the prototype: the signs of the final state's coordinates,
/// `dwell_tests`) or [`nearest_attractor`]. A start counts when the reference decides; it agrees when
/// the test gives the same label (a test `None` disagrees). Build the starts with
/// [`grid_points`] (the prototype: 18 points of `[−1.8, 1.8]` with |x| > 0.05 in 1-D, the
/// 4 × 4 grid of {−1.5, −0.6, 0.6, 1.5}² in 2-D). Malformed `starts` give all zeros.
pub fn basin_agreement<L: PartialEq>(
    starts: &[f64],
    d: usize,
    mut test: impl FnMut(&[f64]) -> Option<L>,
    mut reference: impl FnMut(&[f64]) -> Option<L>,
) -> BasinAgreement {
    let mut out = BasinAgreement {
        agree: 0,
        total: 0,
        undecided_reference: 0,
    };
    if !is_rows(starts, d) {
        return out;
    }
    for x0 in starts.chunks_exact(d) {
        match reference(x0) {
            None => out.undecided_reference += 1,
            Some(r) => {
                out.total += 1;
                if test(x0).is_some_and(|t| t == r) {
                    out.agree += 1;
                }
            }
        }
    }
    out
}

/// The orthant of a state: per coordinate −1, 0 or +1 (the sign; 0 for 0 and NaN) — the
/// prototype's basin label for double wells centred on the origin.
pub fn orthant(state: &[f64]) -> Vec<i8> {
    state
        .iter()
        .map(|&v| {
            if v > 0.0 {
                1
            } else if v < 0.0 {
                -1
            } else {
                0
            }
        })
        .collect()
}

/// Index of the attractor (rows of `attractors`, `k × d`) nearest to `state` in Euclidean distance,
/// if that distance is ≤ `radius` (same units); `None` otherwise or for malformed input.
pub fn nearest_attractor(
    state: &[f64],
    attractors: &[f64],
    d: usize,
    radius: f64,
) -> Option<usize> {
    if state.len() != d || !is_rows(attractors, d) {
        return None;
    }
    attractors
        .chunks_exact(d)
        .map(|a| norm(&a.iter().zip(state).map(|(p, q)| p - q).collect::<Vec<_>>()))
        .enumerate()
        .filter(|(_, dist)| *dist <= radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

// ------------------------------------------------------------------------------------------
// Attractor (Lorenz) statistics
// ------------------------------------------------------------------------------------------

/// Per-coordinate ratios `std(test_j) / std(reference_j)` (population standard deviations) of two
/// trajectories (`samples × d`, any lengths). 1 means the attractor has the right extent along j;
/// near 0 means a collapse onto a fixed point. Entries are NaN where the reference's std is 0; the
/// result is empty when either input is malformed.
pub fn std_ratios(test: &[f64], reference: &[f64], d: usize) -> Vec<f64> {
    let (a, b) = (column_stds(test, d), column_stds(reference, d));
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    a.iter()
        .zip(&b)
        .map(|(x, y)| if *y > 0.0 { x / y } else { f64::NAN })
        .collect()
}

/// Occupancy histogram of samples (`samples × d`) over the box `[lo, hi]` with `bins` equal bins
/// per dimension, normalised to probabilities (sum 1), flattened with the last coordinate fastest.
///
/// As `numpy.histogramdd` (the prototype): samples outside the box are dropped, and the upper edge
/// belongs to the last bin. `None` when no sample is inside, the box is malformed (`lo_j ≥ hi_j`,
/// not finite, lengths ≠ d), `bins = 0`, or `bins^d > 2²⁴`.
pub fn occupancy_histogram(
    samples: &[f64],
    d: usize,
    lo: &[f64],
    hi: &[f64],
    bins: usize,
) -> Option<Vec<f64>> {
    if !is_rows(samples, d)
        || lo.len() != d
        || hi.len() != d
        || bins == 0
        || lo
            .iter()
            .zip(hi)
            .any(|(a, b)| !a.is_finite() || !b.is_finite() || a >= b)
    {
        return None;
    }
    let cells = (bins as u64)
        .checked_pow(d as u32)
        .filter(|&c| c <= 1 << 24)?;
    let mut h = vec![0.0; cells as usize];
    let mut n = 0usize;
    'rows: for row in samples.chunks_exact(d) {
        let mut idx = 0usize;
        for j in 0..d {
            let v = row[j];
            if !(lo[j]..=hi[j]).contains(&v) {
                continue 'rows;
            }
            let b = (((v - lo[j]) / (hi[j] - lo[j])) * bins as f64) as usize;
            idx = idx * bins + b.min(bins - 1);
        }
        h[idx] += 1.0;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    h.iter_mut().for_each(|v| *v /= n as f64);
    Some(h)
}

/// Total-variation distance `½ Σ_k |p_k − q_k|` of two probability vectors: 0 for identical, 1 for
/// disjoint supports. NaN when the lengths differ.
pub fn tv_distance(p: &[f64], q: &[f64]) -> f64 {
    if p.len() != q.len() {
        return f64::NAN;
    }
    0.5 * p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>()
}

/// Total-variation distance of the occupancy histograms ([`occupancy_histogram`]) of two
/// trajectories over one common box: the prototype's Lorenz `lz_tv_dist` (8 bins per dimension over
/// [−3, 3]³). `None` when either histogram is.
pub fn occupancy_tv_distance(
    test: &[f64],
    reference: &[f64],
    d: usize,
    lo: &[f64],
    hi: &[f64],
    bins: usize,
) -> Option<f64> {
    let p = occupancy_histogram(test, d, lo, hi, bins)?;
    let q = occupancy_histogram(reference, d, lo, hi, bins)?;
    Some(tv_distance(&p, &q))
}

/// The smallest box containing every finite sample of both trajectories (`samples × d`), for a
/// common histogram box when no fixed one is wanted. `None` when either is malformed or has no
/// finite value in some coordinate.
pub fn common_box(a: &[f64], b: &[f64], d: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    if !is_rows(a, d) || !is_rows(b, d) {
        return None;
    }
    let (mut lo, mut hi) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
    for row in a.chunks_exact(d).chain(b.chunks_exact(d)) {
        for j in 0..d {
            if row[j].is_finite() {
                lo[j] = lo[j].min(row[j]);
                hi[j] = hi[j].max(row[j]);
            }
        }
    }
    lo.iter().all(|v| v.is_finite()).then_some((lo, hi))
}

/// Settings of [`attractor_stats`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttractorOptions {
    /// Coordinate whose oscillation defines a loop (z, index 2, for Lorenz).
    pub loop_coordinate: usize,
    /// Crossing rule for loops ([`upward_crossings`]).
    pub hysteresis: Hysteresis,
    /// Lower corner of the histogram box.
    pub lo: Vec<f64>,
    /// Upper corner of the histogram box.
    pub hi: Vec<f64>,
    /// Bins per dimension.
    pub bins: usize,
}

impl AttractorOptions {
    /// The prototype's Lorenz settings (`lorenz_tests` in `exp_learn.py`) for the scaled state
    /// x = (X/10, Y/10, (Z − 25)/10): loops from upward crossings of z through 0 with a band of
    /// ±0.3 std(z); histograms with 8 bins per dimension over [−3, 3]³.
    pub fn lorenz() -> Self {
        AttractorOptions {
            loop_coordinate: 2,
            hysteresis: Hysteresis::default(),
            lo: vec![-3.0; 3],
            hi: vec![3.0; 3],
            bins: 8,
        }
    }
}

/// Statistics of a test attractor against a reference one. See [`attractor_stats`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttractorStats {
    /// [`std_ratios`] test / reference, per coordinate.
    pub std_ratios: Vec<f64>,
    /// Mean loop period of the test trajectory (s); NaN with fewer than 3 loop crossings.
    pub loop_period_test: f64,
    /// Mean loop period of the reference trajectory (s).
    pub loop_period_reference: f64,
    /// Signed relative loop-period error ([`relative_error`]).
    pub loop_period_error: f64,
    /// [`occupancy_tv_distance`]; NaN when a histogram is empty.
    pub tv_distance: f64,
}

/// Lorenz-style statistics of a test trajectory (`times_test`, `test`: `samples × d`) against a
/// reference (`times_ref`, `reference`), as the prototype's `lorenz_tests`: std ratios, mean loop
/// period and the TV distance of occupancy histograms over the common box in `options`.
///
/// The loop period is the mean interval between upward crossings of the loop coordinate
/// ([`upward_crossings`] with `options.hysteresis`) — the prototype's definition (it applies
/// `cycle_stats` to z), not the time between successive maxima of z: the hysteresis band ignores the
/// small z wiggles spike noise adds, which a maximum detector would count as loops. Crossing times
/// are interpolated (see [`upward_crossings`]). `None` when an input is malformed or
/// `loop_coordinate ≥ d`.
pub fn attractor_stats(
    times_test: &[f64],
    test: &[f64],
    times_ref: &[f64],
    reference: &[f64],
    d: usize,
    options: &AttractorOptions,
) -> Option<AttractorStats> {
    let c = options.loop_coordinate;
    if c >= d
        || !is_rows(test, d)
        || !is_rows(reference, d)
        || test.len() / d != times_test.len()
        || reference.len() / d != times_ref.len()
    {
        return None;
    }
    let mut w = vec![0.0; d];
    w[c] = 1.0;
    let loop_period = |times: &[f64], x: &[f64]| {
        oscillation(times, x, d, &w, &options.hysteresis).map_or(f64::NAN, |o| o.period)
    };
    let pt = loop_period(times_test, test);
    let pr = loop_period(times_ref, reference);
    Some(AttractorStats {
        std_ratios: std_ratios(test, reference, d),
        loop_period_test: pt,
        loop_period_reference: pr,
        loop_period_error: relative_error(pt, pr),
        tv_distance: occupancy_tv_distance(
            test,
            reference,
            d,
            &options.lo,
            &options.hi,
            options.bins,
        )
        .unwrap_or(f64::NAN),
    })
}

// ------------------------------------------------------------------------------------------
// Spike statistics
// ------------------------------------------------------------------------------------------

/// Spike statistics of the alive neurons over a time window. See [`spike_stats`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpikeStats {
    /// Number of alive neurons.
    pub alive: usize,
    /// Mean rate per alive neuron (Hz): alive neurons' spikes / (alive · window length).
    pub rate_hz: f64,
    /// Population rate (Hz): alive neurons' spikes / window length.
    pub population_rate_hz: f64,
    /// Highest single-neuron rate (Hz).
    pub max_rate_hz: f64,
    /// Fraction of alive neurons without a spike in the window.
    pub silent_fraction: f64,
    /// Mean CV of ISIs over alive neurons with ≥ `min_spikes` spikes ([`metrics::isi_cv`]).
    pub cv_mean: Option<f64>,
}

/// Firing rate (Hz) of every neuron `0..alive.len()` over `[t0, t1)`: its spikes in the window
/// divided by `t1 − t0`; NaN for dead neurons (`alive[i] = false`). All NaN when `t1 ≤ t0`.
pub fn rates_hz(spikes: &[Spike], alive: &[bool], t0: f64, t1: f64) -> Vec<f64> {
    let inside: Vec<Spike> = window(spikes, t0, t1);
    let counts = metrics::per_neuron_counts(&inside, alive.len());
    counts
        .iter()
        .zip(alive)
        .map(|(&c, &a)| {
            if a && t1 > t0 {
                metrics::mean_rate_hz(c as usize, 1, t1 - t0)
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// The spikes with `t0 ≤ t < t1`.
fn window(spikes: &[Spike], t0: f64, t1: f64) -> Vec<Spike> {
    spikes
        .iter()
        .filter(|s| s.time.secs() >= t0 && s.time.secs() < t1)
        .copied()
        .collect()
}

/// The spikes with `t0 ≤ t < t1` of alive neurons (indices ≥ `alive.len()` count as dead).
fn alive_spikes(spikes: &[Spike], alive: &[bool], t0: f64, t1: f64) -> Vec<Spike> {
    window(spikes, t0, t1)
        .into_iter()
        .filter(|s| alive.get(s.neuron as usize).copied().unwrap_or(false))
        .collect()
}

/// Rates, silence and ISI irregularity of the alive neurons (`alive[i]`, N = `alive.len()`) over
/// the window `[t0, t1)` (s), as the prototype's `spike_stats` (`ebn.py`): the rate is spikes per
/// alive neuron per second; the CV is averaged over neurons with at least `min_spikes` spikes
/// (the prototype: 6). Spikes of dead neurons and of indices ≥ N are ignored, so use a window after
/// the last kill. Rates are 0 and `cv_mean` is `None` when `t1 ≤ t0` or no neuron is alive.
pub fn spike_stats(
    spikes: &[Spike],
    alive: &[bool],
    t0: f64,
    t1: f64,
    min_spikes: usize,
) -> SpikeStats {
    let n_alive = alive.iter().filter(|a| **a).count();
    let inside = alive_spikes(spikes, alive, t0, t1);
    let dur = t1 - t0;
    let counts = metrics::per_neuron_counts(&inside, alive.len());
    let max_count = counts.iter().copied().max().unwrap_or(0);
    let silent = counts
        .iter()
        .zip(alive)
        .filter(|(c, a)| **a && **c == 0)
        .count();
    SpikeStats {
        alive: n_alive,
        rate_hz: metrics::mean_rate_hz(inside.len(), n_alive, dur),
        population_rate_hz: metrics::mean_rate_hz(inside.len(), 1, dur),
        max_rate_hz: metrics::mean_rate_hz(max_count as usize, 1, dur),
        silent_fraction: if n_alive == 0 {
            f64::NAN
        } else {
            silent as f64 / n_alive as f64
        },
        cv_mean: metrics::isi_cv(&inside, alive.len(), min_spikes),
    }
}

/// Mean Fano factor of spike counts of the alive neurons over `[t0, t1)` cut into
/// `m = ⌊(t1 − t0)/window⌋` consecutive windows of length `window` (s):
/// `F_i = var(n_i) / mean(n_i)` (population variance over the m counts of neuron i), averaged over
/// alive neurons with at least one spike. Poisson trains give 1, regular trains less, bursty trains
/// more. A complement to the CV of ISIs that also works for neurons with few spikes. `None` when
/// `m < 2` or no alive neuron spikes.
pub fn fano_factor(
    spikes: &[Spike],
    alive: &[bool],
    t0: f64,
    t1: f64,
    window_len: f64,
) -> Option<f64> {
    let valid = window_len > 0.0 && t1 - t0 > 0.0;
    let m = ((t1 - t0) / window_len).floor();
    if !valid || !(2.0..=1e7).contains(&m) {
        return None;
    }
    let m = m as usize;
    let end = t0 + m as f64 * window_len;
    let mut counts = vec![vec![0.0f64; m]; alive.len()];
    for s in alive_spikes(spikes, alive, t0, end) {
        let k = (((s.time.secs() - t0) / window_len) as usize).min(m - 1);
        counts[s.neuron as usize][k] += 1.0;
    }
    let fanos: Vec<f64> = counts
        .iter()
        .zip(alive)
        .filter(|(_, a)| **a)
        .filter_map(|(c, _)| {
            let (mean, std) = mean_std(c)?;
            (mean > 0.0).then(|| std * std / mean)
        })
        .collect();
    (!fanos.is_empty()).then(|| fanos.iter().sum::<f64>() / fanos.len() as f64)
}

/// Splits the input terms a neuron receives into excitation and inhibition:
/// `(E, I) = (Σ_k max(u_k, 0), Σ_k max(−u_k, 0))`, both ≥ 0, so the net input is `E − I`.
///
/// In an EBN the sign of a term, not the presynaptic cell, makes it excitatory or inhibitory (no
/// Dale's law): for neuron i the terms are the feedforward `D_ji c_j` per dimension j, the fast
/// recurrent `−Ω_f[i,k] r_k` and slow `Ω_s[i,k] r_k` per presynaptic k ≠ i (the fast delta inputs
/// filtered with the readout kernel e^(−λ_d t), i.e. through r, so that they are currents that can
/// be sampled), and the learned `W[i,b] Ψ_b` per basis function. Non-finite terms are ignored.
pub fn split_ei(contributions: impl IntoIterator<Item = f64>) -> (f64, f64) {
    contributions
        .into_iter()
        .filter(|u| u.is_finite())
        .fold(
            (0.0, 0.0),
            |(e, i), u| {
                if u > 0.0 {
                    (e + u, i)
                } else {
                    (e, i - u)
                }
            },
        )
}

/// E/I balance of a population. See [`ei_balance`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EiBalance {
    /// Mean over neurons of the Pearson correlation over time of E_i(t) and I_i(t): near 1 when
    /// inhibition tracks excitation on fast time scales (tight balance). Averaged over the neurons
    /// where both vary; NaN if none does.
    pub correlation: f64,
    /// Mean over neurons of `⟨|E_i − I_i|⟩_t / ⟨E_i + I_i⟩_t`, net over total input, in [0, 1]: 0 for
    /// perfect cancellation, 1 when a neuron receives only one sign. Averaged over neurons with
    /// non-zero total input; NaN if none has.
    pub net_to_total: f64,
    /// Number of alive neurons used.
    pub neurons: usize,
}

/// E/I balance from sampled excitatory and inhibitory inputs, `exc` and `inh` row-major
/// `samples × N` (N = `alive.len()`), both as magnitudes ≥ 0 (see [`split_ei`]), over the alive
/// neurons.
///
/// Two numbers, because EBNs are *tightly* balanced (Boerlin et al. 2013; Denève & Machens 2016):
/// the net input `E − I` is small compared with either (`net_to_total` ≪ 1), which a loosely
/// balanced network also achieves on average, *and* inhibition follows excitation within a few ms
/// (`correlation` → 1), which only tight balance gives. Sample at a rate that resolves 1/λ_d.
/// Neither DESIGN.md nor the prototype defines a measure (DESIGN.md §4 asks for "tight E/I
/// balance"); these are the two standard ones. `None` when the shapes do not match, there are no
/// samples, or no neuron is alive.
pub fn ei_balance(exc: &[f64], inh: &[f64], alive: &[bool]) -> Option<EiBalance> {
    let n = alive.len();
    if !is_rows(exc, n) || exc.len() != inh.len() {
        return None;
    }
    let rows = exc.len() / n;
    let (mut corr_sum, mut corr_n, mut ratio_sum, mut ratio_n, mut used) = (0.0, 0, 0.0, 0, 0);
    for i in (0..n).filter(|&i| alive[i]) {
        used += 1;
        let e: Vec<f64> = exc.iter().skip(i).step_by(n).copied().collect();
        let h: Vec<f64> = inh.iter().skip(i).step_by(n).copied().collect();
        let (me, mi) = (
            e.iter().sum::<f64>() / rows as f64,
            h.iter().sum::<f64>() / rows as f64,
        );
        let (mut cov, mut ve, mut vi, mut net, mut tot) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (a, b) in e.iter().zip(&h) {
            cov += (a - me) * (b - mi);
            ve += (a - me) * (a - me);
            vi += (b - mi) * (b - mi);
            net += (a - b).abs();
            tot += a + b;
        }
        if ve > 0.0 && vi > 0.0 {
            corr_sum += cov / (ve * vi).sqrt();
            corr_n += 1;
        }
        if tot > 0.0 {
            ratio_sum += net / tot;
            ratio_n += 1;
        }
    }
    if used == 0 {
        return None;
    }
    let avg = |s: f64, k: usize| if k == 0 { f64::NAN } else { s / k as f64 };
    Some(EiBalance {
        correlation: avg(corr_sum, corr_n),
        net_to_total: avg(ratio_sum, ratio_n),
        neurons: used,
    })
}

// ------------------------------------------------------------------------------------------
// Learning curves
// ------------------------------------------------------------------------------------------

/// A learning curve: `(time, value)` points (e.g. training time in s and field error) kept to at
/// most `max_points` by decimation.
///
/// The k-th pushed point (k = 0, 1, …) is kept when k is a multiple of the current stride (first
/// 1). When more than `max_points` are kept, every other kept point is dropped and the stride
/// doubles, so the kept points stay evenly spaced in push count, always include the first one, and
/// memory is O(max_points) however long training runs. The most recent point is always available
/// from [`LearningCurve::last`]; [`LearningCurve::to_vec`] appends it when it was not kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearningCurve {
    max_points: usize,
    stride: u64,
    pushed: u64,
    points: Vec<(f64, f64)>,
    last: Option<(f64, f64)>,
}

impl LearningCurve {
    /// An empty curve keeping at most `max(max_points, 2)` points.
    pub fn new(max_points: usize) -> Self {
        LearningCurve {
            max_points: max_points.max(2),
            stride: 1,
            pushed: 0,
            points: Vec::new(),
            last: None,
        }
    }

    /// Adds a point (time, value); see the type's docs for which points are kept.
    pub fn push(&mut self, time: f64, value: f64) {
        if self.pushed % self.stride == 0 {
            self.points.push((time, value));
            if self.points.len() > self.max_points {
                let mut k = 0;
                self.points.retain(|_| {
                    k += 1;
                    k % 2 == 1
                });
                self.stride *= 2;
            }
        }
        self.pushed += 1;
        self.last = Some((time, value));
    }

    /// The kept points, in push order.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The most recently pushed point.
    pub fn last(&self) -> Option<(f64, f64)> {
        self.last
    }

    /// The kept points followed by the most recent point if it was not kept.
    pub fn to_vec(&self) -> Vec<(f64, f64)> {
        let mut v = self.points.clone();
        if let Some(l) = self.last {
            if (self.pushed - 1) % self.stride != 0 {
                v.push(l);
            }
        }
        v
    }

    /// Number of points pushed so far.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Current decimation stride: one kept point per `stride` pushes.
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Number of kept points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point was pushed.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}
