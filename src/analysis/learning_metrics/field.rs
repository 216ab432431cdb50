//! Vector-field error of a learned field.

#[allow(unused_imports)]
use super::*;

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
