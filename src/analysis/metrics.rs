//! Summary statistics of a run: readout error, firing rates, spike-train irregularity.
//!
//! Why: these are the numbers `summary.json` reports and the scientific claims rest on — an EBN
//! should track its target closely (small RMSE / NRMSE) with few (low rate), irregular (CV of
//! inter-spike intervals near 1) spikes. Keeping them as small pure functions with their
//! definitions written down makes every reported number reproducible by hand.

use crate::engine::Spike;

/// Root-mean-square difference over all entries: `sqrt( Σ_k (a_k − b_k)² / n )`, n = `a.len()`.
///
/// For readouts stored row-major (samples × d) this is the RMSE over all samples and all
/// dimensions. Empty input gives NaN (no samples, no error estimate).
///
/// # Panics
/// When the lengths differ.
pub fn rmse(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "rmse: slices of different lengths");
    if a.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    (sum / a.len() as f64).sqrt()
}

/// Normalised RMSE of an estimate against a target, both row-major (samples × `dims`):
///
/// ```text
///             sqrt( (1/n) Σ_i ‖x̂_i − x_i‖² )
/// NRMSE = ─────────────────────────────────────── ,   x̄_j = (1/n) Σ_i x_ij
///          sqrt( Σ_j var(x_j) ),  var(x_j) = (1/n) Σ_i (x_ij − x̄_j)²
/// ```
///
/// i.e. the root-mean-square *vector* error divided by the root of the target's total
/// (population) variance. Equivalently `rmse(x̂, x) / sqrt(mean_j var(x_j))`, with [`rmse`]
/// averaging over dimensions too. Predicting the target's mean gives exactly 1; a perfect
/// readout gives 0. Dimensions with larger variance weigh more (the error is not normalised
/// per dimension). A constant target (zero variance) gives +∞ for a non-zero error and NaN for
/// a zero error; empty input gives NaN.
///
/// # Panics
/// When the lengths differ or are not a multiple of `dims` (`dims = 0` requires empty input).
pub fn nrmse(estimate: &[f64], target: &[f64], dims: usize) -> f64 {
    assert_eq!(
        estimate.len(),
        target.len(),
        "nrmse: slices of different lengths"
    );
    if target.is_empty() {
        return f64::NAN;
    }
    assert!(
        dims > 0 && target.len() % dims == 0,
        "nrmse: length not a multiple of dims"
    );
    let n = (target.len() / dims) as f64;
    let mut mean = vec![0.0; dims];
    for row in target.chunks_exact(dims) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += x;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = 0.0;
    let mut err = 0.0;
    for (row, est) in target.chunks_exact(dims).zip(estimate.chunks_exact(dims)) {
        for j in 0..dims {
            var += (row[j] - mean[j]) * (row[j] - mean[j]);
            err += (est[j] - row[j]) * (est[j] - row[j]);
        }
    }
    (err / var).sqrt()
}

/// Mean firing rate per neuron in Hz: `spikes / (neurons · duration)`.
///
/// Zero when there is no neuron-time to spike in (`neurons = 0` or `duration ≤ 0`).
pub fn mean_rate_hz(spikes: usize, neurons: usize, duration: f64) -> f64 {
    if neurons == 0 || duration.is_nan() || duration <= 0.0 {
        return 0.0;
    }
    spikes as f64 / (neurons as f64 * duration)
}

/// Number of spikes of each neuron `0..neurons`; spikes of neurons `≥ neurons` are ignored.
pub(crate) fn per_neuron_counts(spikes: &[Spike], neurons: usize) -> Vec<u64> {
    let mut counts = vec![0u64; neurons];
    for s in spikes {
        if let Some(c) = counts.get_mut(s.neuron as usize) {
            *c += 1;
        }
    }
    counts
}

/// Mean coefficient of variation of the inter-spike intervals (ISIs).
///
/// For every neuron `i < neurons` with at least `max(min_spikes, 2)` spikes (so at least one
/// ISI), its spike times are sorted, the ISIs `Δ_k = t_(k+1) − t_k` formed, and
/// `CV_i = std(Δ) / mean(Δ)` computed with the population standard deviation
/// (`std² = (1/m) Σ_k (Δ_k − mean)²`, m ISIs). The result is the unweighted average of `CV_i`
/// over those neurons. A regular (periodic) train has CV 0, a Poisson train CV ≈ 1. Neurons whose
/// ISIs all vanish (mean 0, CV undefined) are skipped. `None` when no neuron qualifies.
///
/// With one ISI the CV is 0 by construction; use `min_spikes ≥ 3` for a meaningful estimate.
/// Spikes of neurons `≥ neurons` are ignored.
pub fn isi_cv(spikes: &[Spike], neurons: usize, min_spikes: usize) -> Option<f64> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); neurons];
    for s in spikes {
        if let Some(v) = times.get_mut(s.neuron as usize) {
            v.push(s.time.secs());
        }
    }
    let need = min_spikes.max(2);
    let mut sum = 0.0;
    let mut count = 0usize;
    for mut t in times.into_iter().filter(|t| t.len() >= need) {
        t.sort_by(f64::total_cmp);
        let m = (t.len() - 1) as f64;
        let mean = (t[t.len() - 1] - t[0]) / m;
        if mean.is_nan() || mean <= 0.0 {
            continue;
        }
        let var = t
            .windows(2)
            .map(|w| (w[1] - w[0] - mean).powi(2))
            .sum::<f64>()
            / m;
        sum += var.sqrt() / mean;
        count += 1;
    }
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    fn spike(t: f64, n: u32) -> Spike {
        Spike {
            time: Time::from_secs(t),
            neuron: n,
        }
    }

    #[test]
    fn rmse_by_hand() {
        // Errors 1, −1, 3, 1: mean square = (1 + 1 + 9 + 1)/4 = 3.
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [0.0, 3.0, 0.0, 3.0];
        assert_eq!(rmse(&a, &b), 3f64.sqrt());
        assert_eq!(rmse(&a, &a), 0.0);
        assert!(rmse(&[], &[]).is_nan());
    }

    #[test]
    fn nrmse_by_hand() {
        // Target, 2 dims, 2 samples: x0 = (0, 2) (var 1), x1 = (0, 0) (var 0): Σ var = 1.
        let target = [0.0, 0.0, 2.0, 0.0];
        // Predicting the mean gives 1.
        let mean = [1.0, 0.0, 1.0, 0.0];
        assert_eq!(nrmse(&mean, &target, 2), 1.0);
        // Error vectors (1, 1) and (0, 1): (1/2)(2 + 1) = 1.5 → sqrt(1.5) / 1.
        let est = [1.0, 1.0, 2.0, 1.0];
        assert!((nrmse(&est, &target, 2) - 1.5f64.sqrt()).abs() < 1e-15);
        // Equivalent form via rmse: rmse / sqrt(mean_j var_j).
        assert!((nrmse(&est, &target, 2) - rmse(&est, &target) / 0.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(nrmse(&target, &target, 2), 0.0);
        assert_eq!(nrmse(&[1.0, 1.0], &[0.0, 0.0], 1), f64::INFINITY);
        assert!(nrmse(&[], &[], 3).is_nan());
    }

    #[test]
    fn rates_and_counts() {
        assert_eq!(mean_rate_hz(200, 40, 0.5), 10.0);
        assert_eq!(mean_rate_hz(5, 0, 1.0), 0.0);
        assert_eq!(mean_rate_hz(5, 3, 0.0), 0.0);
        let s = [spike(0.1, 2), spike(0.2, 0), spike(0.3, 2), spike(0.4, 7)];
        assert_eq!(per_neuron_counts(&s, 3), vec![1, 0, 2]);
    }

    #[test]
    fn cv_of_regular_and_known_trains() {
        // A regular train: CV 0.
        let regular: Vec<Spike> = (0..10).map(|k| spike(0.5 + 0.25 * k as f64, 0)).collect();
        assert!(isi_cv(&regular, 1, 3).unwrap() < 1e-12);
        // ISIs 1, 3 (times 0, 1, 4): mean 2, std 1 → CV 0.5.
        // ISIs 1, 1, 4 (times 0, 1, 2, 6): mean 2, var (1 + 1 + 4)/3 = 2 → CV sqrt(2)/2.
        let s = [
            spike(0.0, 0),
            spike(0.0, 1),
            spike(1.0, 0),
            spike(1.0, 1),
            spike(2.0, 1),
            spike(4.0, 0),
            spike(6.0, 1),
            spike(3.0, 2), // one spike only: never qualifies
        ];
        let expect = (0.5 + 2f64.sqrt() / 2.0) / 2.0;
        assert!((isi_cv(&s, 3, 3).unwrap() - expect).abs() < 1e-15);
        // Only neuron 1 has ≥ 4 spikes.
        assert!((isi_cv(&s, 3, 4).unwrap() - 2f64.sqrt() / 2.0).abs() < 1e-15);
        assert_eq!(isi_cv(&s, 3, 5), None);
        // Order of the input does not matter.
        let mut rev = s.to_vec();
        rev.reverse();
        assert!((isi_cv(&rev, 3, 3).unwrap() - expect).abs() < 1e-15);
        assert_eq!(isi_cv(&[], 3, 2), None);
    }
}
