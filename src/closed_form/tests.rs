//! Closed-form crossing times: the certified search must reproduce them to rounding (moved from
//! `tests/closed_forms.rs` when `closed_form` became internal).

use crate::closed_form::crossing::{first_crossing, CrossingStats};
use crate::closed_form::expo::{Membrane, Trajectory, MAX_DEGREE};

/// Drive coefficients padded with zeros.
fn pad(x: &[f64]) -> [f64; MAX_DEGREE + 1] {
    let mut out = [0.0; MAX_DEGREE + 1];
    out[..x.len()].copy_from_slice(x);
    out
}

/// Principal branch of the Lambert W function on (-1/e, 0], by Halley iteration.
fn lambert_w0(x: f64) -> f64 {
    let mut w = if x > -0.3 {
        x * (1.0 - x)
    } else {
        -1.0 + (2.0 * (1.0 + std::f64::consts::E * x)).sqrt()
    };
    for _ in 0..100 {
        let ew = w.exp();
        let f = w * ew - x;
        let wn = w - f / (ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0));
        if (wn - w).abs() <= 1e-17 * w.abs().max(1e-300) {
            return wn;
        }
        w = wn;
    }
    w
}

#[test]
fn decaying_exponential_current_matches_lambert_w() {
    // λ_V = λ_d = λ, V(0) = 0, current s e^{-λ t}: V = s t e^{-λ t}; first crossing of T at
    // t = -W0(-λ T / s) / λ.
    for &(lambda, s, th) in &[(10.0, 100.0, 1.0), (20.0, 50.0, 0.9), (10.0, 27.2, 1.0)] {
        let m = Membrane::new(lambda, lambda);
        let tr = Trajectory {
            v0: 0.0,
            drive: pad(&[]),
            slow: s,
            degree: 0,
        };
        let t = first_crossing(&m, &tr, th, 0.0, 0.0, 1.0, &mut CrossingStats::default()).unwrap();
        let exact = -lambert_w0(-lambda * th / s) / lambda;
        assert!(
            (t - exact).abs() <= 1e-14,
            "{lambda} {s} {th}: {t} vs {exact}"
        );
    }
}

#[test]
fn slow_current_with_lambda_v_twice_lambda_d_matches_quadratic() {
    // λ_V = 2 λ_d: V = s (z - z²)/λ_d with z = e^{-λ_d t}; the earliest crossing is the larger z.
    let (ld, s, th) = (10.0, 60.0, 1.0);
    let m = Membrane::new(2.0 * ld, ld);
    let tr = Trajectory {
        v0: 0.0,
        drive: pad(&[]),
        slow: s,
        degree: 0,
    };
    let t = first_crossing(&m, &tr, th, 0.0, 0.0, 1.0, &mut CrossingStats::default()).unwrap();
    let z = (1.0 + (1.0 - 4.0 * th * ld / s).sqrt()) / 2.0;
    let exact = -z.ln() / ld;
    assert!((t - exact).abs() <= 1e-14, "{t} vs {exact}");
}
