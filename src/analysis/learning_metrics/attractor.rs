//! Statistics of chaotic attractors (Lorenz): std ratios, loop period, occupancy.

#[allow(unused_imports)]
use super::*;

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
