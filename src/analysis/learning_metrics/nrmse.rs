//! NRMSE over windows (driven and autonomous).

#[allow(unused_imports)]
use super::*;

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
