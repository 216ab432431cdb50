//! Oscillations: crossings with hysteresis, period and amplitude, and their errors.

#[allow(unused_imports)]
use super::*;

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

/// Period and amplitude of an oscillating trajectory. See [`oscillation()`].
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
