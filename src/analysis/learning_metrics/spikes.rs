//! Spike statistics: rates of alive neurons, CV, Fano factor, E/I balance.

#[allow(unused_imports)]
use super::*;

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
    let mut stream = SpikeStatsStream::new(alive, t0, t1);
    stream.first(spikes);
    stream.second(spikes);
    stream.finish(min_spikes)
}

/// [`spike_stats`] of spikes too many to keep: shown in pieces, in firing order, to
/// [`SpikeStatsStream::first`], then again to [`SpikeStatsStream::second`] (the CV needs each
/// neuron's mean interval first); O(N) memory, the same result to the bit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SpikeStatsStream {
    alive: Vec<bool>,
    t0: f64,
    t1: f64,
    counts: Vec<u64>,
    inside: usize,
    isi: metrics::IsiCvStream,
}

impl SpikeStatsStream {
    /// An empty stream over `[t0, t1)` of the alive neurons (`alive[i]`, N = `alive.len()`).
    pub(crate) fn new(alive: &[bool], t0: f64, t1: f64) -> SpikeStatsStream {
        SpikeStatsStream {
            alive: alive.to_vec(),
            t0,
            t1,
            counts: vec![0; alive.len()],
            inside: 0,
            isi: metrics::IsiCvStream::new(alive.len()),
        }
    }

    /// Whether `s` counts: inside the window, of an alive neuron.
    fn counts(&self, s: &Spike) -> bool {
        let t = s.time.secs();
        t >= self.t0 && t < self.t1 && self.alive.get(s.neuron as usize).copied().unwrap_or(false)
    }

    /// First pass over a piece of the spikes.
    pub(crate) fn first(&mut self, spikes: &[Spike]) {
        for s in spikes {
            if self.counts(s) {
                self.counts[s.neuron as usize] += 1;
                self.inside += 1;
                self.isi.first(std::slice::from_ref(s));
            }
        }
    }

    /// Second pass: the same pieces again, in order.
    pub(crate) fn second(&mut self, spikes: &[Spike]) {
        for s in spikes {
            if self.counts(s) {
                self.isi.second(std::slice::from_ref(s));
            }
        }
    }

    /// The statistics, after both passes (CV over neurons with ≥ `min_spikes` spikes).
    pub(crate) fn finish(&self, min_spikes: usize) -> SpikeStats {
        let n_alive = self.alive.iter().filter(|a| **a).count();
        let dur = self.t1 - self.t0;
        let max_count = self.counts.iter().copied().max().unwrap_or(0);
        let silent = self
            .counts
            .iter()
            .zip(&self.alive)
            .filter(|(c, a)| **a && **c == 0)
            .count();
        SpikeStats {
            alive: n_alive,
            rate_hz: metrics::mean_rate_hz(self.inside, n_alive, dur),
            population_rate_hz: metrics::mean_rate_hz(self.inside, 1, dur),
            max_rate_hz: metrics::mean_rate_hz(max_count as usize, 1, dur),
            silent_fraction: if n_alive == 0 {
                f64::NAN
            } else {
                silent as f64 / n_alive as f64
            },
            cv_mean: self.isi.finish(min_spikes),
        }
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
/// The model's claim is a "tight E/I balance" without a defined measure; these are the two
/// standard ones. `None` when the shapes do not match, there are no
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
