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

/// [`isi_cv`] of a spike stream too long to keep: the spikes are shown twice, in firing order
/// (time order) — a first pass ([`IsiCvStream::first`]) for each neuron's count and span, a
/// second ([`IsiCvStream::second`]) for the deviations from the mean interval — with O(N)
/// memory. The result equals [`isi_cv`] of the same spikes to the bit (the same operations in
/// the same order).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct IsiCvStream {
    count: Vec<u64>,
    first: Vec<f64>,
    last: Vec<f64>,
    /// Second pass: each neuron's mean interval, previous spike time and Σ (Δ − mean)².
    mean: Vec<f64>,
    prev: Vec<f64>,
    var: Vec<f64>,
}

impl IsiCvStream {
    /// An empty stream for `neurons` neurons (spikes of others are ignored).
    pub(crate) fn new(neurons: usize) -> IsiCvStream {
        IsiCvStream {
            count: vec![0; neurons],
            first: vec![f64::NAN; neurons],
            last: vec![f64::NAN; neurons],
            mean: Vec::new(),
            prev: Vec::new(),
            var: Vec::new(),
        }
    }

    /// First pass over `spikes` (call for every piece, in order).
    pub(crate) fn first(&mut self, spikes: &[Spike]) {
        for s in spikes {
            let i = s.neuron as usize;
            let Some(c) = self.count.get_mut(i) else {
                continue;
            };
            let t = s.time.secs();
            if *c == 0 {
                self.first[i] = t;
            }
            self.last[i] = t;
            *c += 1;
        }
    }

    /// Second pass over `spikes` (the same pieces again, in order, after every first pass).
    pub(crate) fn second(&mut self, spikes: &[Spike]) {
        let n = self.count.len();
        if self.mean.len() != n {
            self.mean = (0..n).map(|i| self.mean_interval(i)).collect();
            self.prev = vec![f64::NAN; n];
            // The neutral element of `Iterator::sum` (−0.0; every term is ≥ +0.0).
            self.var = vec![-0.0; n];
        }
        for s in spikes {
            let i = s.neuron as usize;
            if i >= n {
                continue;
            }
            let t = s.time.secs();
            if !self.prev[i].is_nan() {
                self.var[i] += (t - self.prev[i] - self.mean[i]).powi(2);
            }
            self.prev[i] = t;
        }
    }

    fn mean_interval(&self, i: usize) -> f64 {
        (self.last[i] - self.first[i]) / (self.count[i].max(1) - 1) as f64
    }

    /// The mean CV over the neurons with at least `max(min_spikes, 2)` spikes ([`isi_cv`]),
    /// after both passes.
    pub(crate) fn finish(&self, min_spikes: usize) -> Option<f64> {
        let need = min_spikes.max(2) as u64;
        let mut sum = 0.0;
        let mut count = 0usize;
        for i in (0..self.count.len()).filter(|&i| self.count[i] >= need) {
            let m = (self.count[i] - 1) as f64;
            let mean = self.mean_interval(i);
            if mean.is_nan() || mean <= 0.0 {
                continue;
            }
            let var = self.var.get(i).copied().unwrap_or(-0.0) / m;
            sum += var.sqrt() / mean;
            count += 1;
        }
        (count > 0).then(|| sum / count as f64)
    }
}

/// [`rmse`] and [`nrmse`] of a readout stream too long to keep: each sample (`x̂`, `x`, d
/// components) is shown to [`ReadoutErrorStream::first`], then every target `x` again, in the
/// same order, to [`ReadoutErrorStream::second`] (the variance needs the final mean). Equal
/// to the bit to [`rmse`] / [`nrmse`] of the whole readout.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct ReadoutErrorStream {
    dims: usize,
    samples: usize,
    /// Σ (x̂ − x)² in row-major order: the sum of [`rmse`] and of [`nrmse`] (which differ only
    /// in the neutral element, the same once a term is added).
    err: f64,
    mean: Vec<f64>,
    var: f64,
    means_done: bool,
}

impl ReadoutErrorStream {
    /// An empty stream of `dims` components.
    pub(crate) fn new(dims: usize) -> ReadoutErrorStream {
        ReadoutErrorStream {
            dims,
            samples: 0,
            err: 0.0,
            mean: vec![0.0; dims],
            var: 0.0,
            means_done: false,
        }
    }

    /// First pass: one sample.
    pub(crate) fn first(&mut self, xhat: &[f64], x: &[f64]) {
        for j in 0..self.dims {
            self.mean[j] += x[j];
            self.err += (xhat[j] - x[j]) * (xhat[j] - x[j]);
        }
        self.samples += 1;
    }

    /// Second pass: one sample's target again.
    pub(crate) fn second(&mut self, x: &[f64]) {
        if !self.means_done {
            let n = self.samples as f64;
            self.mean.iter_mut().for_each(|m| *m /= n);
            self.means_done = true;
        }
        for (j, &x) in x.iter().enumerate().take(self.dims) {
            self.var += (x - self.mean[j]) * (x - self.mean[j]);
        }
    }

    /// Number of samples shown to the first pass.
    pub(crate) fn samples(&self) -> usize {
        self.samples
    }

    /// [`rmse`] (NaN without samples).
    pub(crate) fn rmse(&self) -> f64 {
        if self.samples == 0 || self.dims == 0 {
            return f64::NAN;
        }
        (self.err / (self.samples * self.dims) as f64).sqrt()
    }

    /// [`nrmse`] after the second pass (NaN without samples).
    pub(crate) fn nrmse(&self) -> f64 {
        if self.samples == 0 || self.dims == 0 {
            return f64::NAN;
        }
        (self.err / self.var).sqrt()
    }
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

    #[test]
    fn streamed_statistics_equal_the_batch_ones_to_the_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for case in 0..50 {
            let n = 1 + case % 7;
            let mut t = 0.0;
            let spikes: Vec<Spike> = (0..rng.gen_range(0..400))
                .map(|_| {
                    // Same-time spikes now and then (zero intervals).
                    if rng.gen_bool(0.9) {
                        t += rng.gen::<f64>() * 0.01;
                    }
                    spike(t, rng.gen_range(0..n as u32 + 1))
                })
                .collect();
            let mut s = IsiCvStream::new(n);
            let cut = spikes.len() / 3;
            s.first(&spikes[..cut]);
            s.first(&spikes[cut..]);
            s.second(&spikes[..cut]);
            s.second(&spikes[cut..]);
            for min in [0, 3] {
                let (a, b) = (s.finish(min), isi_cv(&spikes, n, min));
                assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "case {case}");
            }

            let d = 1 + case % 3;
            let rows = rng.gen_range(0..300);
            let xhat: Vec<f64> = (0..rows * d).map(|_| rng.gen::<f64>() - 0.5).collect();
            let x: Vec<f64> = (0..rows * d).map(|_| rng.gen::<f64>() * 3.0).collect();
            let mut r = ReadoutErrorStream::new(d);
            for k in 0..rows {
                r.first(&xhat[k * d..(k + 1) * d], &x[k * d..(k + 1) * d]);
            }
            for k in 0..rows {
                r.second(&x[k * d..(k + 1) * d]);
            }
            assert_eq!(r.rmse().to_bits(), rmse(&xhat, &x).to_bits(), "case {case}");
            assert_eq!(
                r.nrmse().to_bits(),
                nrmse(&xhat, &x, d).to_bits(),
                "case {case}"
            );
        }
    }
}
