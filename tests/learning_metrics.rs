//! Metrics of learned dynamics (`ebnsim::analysis::learning_metrics`) against hand-computed and analytic
//! values: sines of known period and amplitude, scaled vector fields, polynomial and linear fields
//! with known fixed points, Lorenz, histograms with known overlap, small spike trains.

use ebnsim::analysis::learning_metrics::*;
use ebnsim::analysis::metrics;
use ebnsim::engine::Spike;
use ebnsim::time::Time;
use std::f64::consts::PI;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// `n` samples of `a·sin(2π t / p + phase)` at `t_k = k·dt`.
fn sine(n: usize, dt: f64, p: f64, a: f64, phase: f64) -> (Vec<f64>, Vec<f64>) {
    let t: Vec<f64> = (0..n).map(|k| k as f64 * dt).collect();
    let x = t
        .iter()
        .map(|t| a * (2.0 * PI * t / p + phase).sin())
        .collect();
    (t, x)
}

// ------------------------------------------------------------------------------ oscillations

#[test]
fn relative_errors_are_signed_and_guarded() {
    assert_eq!(relative_error(1.1, 1.0), 0.10000000000000009);
    assert!(relative_error(0.9, 1.0) < 0.0);
    assert!(relative_error(1.0, 0.0).is_nan());
    assert!(relative_error(f64::NAN, 1.0).is_nan());
}

#[test]
fn pure_sine_period_and_amplitude_to_sampling_accuracy() {
    // 800 samples per period, 5 whole periods; a phase so that no sample sits on a crossing.
    let (p, a) = (0.8, 1.3);
    let dt = p / 800.0;
    let (t, x) = sine(4000, dt, p, a, 0.37);
    let o = oscillation(&t, &x, 1, &[1.0], &Hysteresis::default()).unwrap();
    // Interpolated crossings: the sine is linear to third order at its zero, so the period is
    // exact far below the sampling step.
    assert!(close(o.period, p, 1e-9), "{}", o.period);
    assert!(o.period_std < 1e-9);
    assert_eq!(o.cycles, 4); // 5 periods from t = 0 contain 5 upward crossings if started past one
                             // Whole periods sampled uniformly: mean of sin² is exactly 1/2.
    assert!(close(o.rms_radius, a / 2f64.sqrt(), 1e-12));
    // Extremes within half a step of the peaks: a·(1 − cos(π dt / p)) ≈ 1e-5.
    assert!(o.half_peak_to_peak <= a && o.half_peak_to_peak > a * (1.0 - 1e-5));
    // Crossing times themselves: zeros of sin(2πt/p + φ) going up at t = (2πk − φ) p / 2π.
    let tc = upward_crossings(&t, &x, &Hysteresis::default());
    for (k, tk) in tc.iter().enumerate() {
        let exact = (2.0 * PI * (k + 1) as f64 - 0.37) * p / (2.0 * PI);
        assert!(close(*tk, exact, 1e-9), "{tk} vs {exact}");
    }
}

#[test]
fn circle_in_two_dimensions_has_radius_amplitude() {
    let (p, a) = (0.5, 2.0);
    let dt = p / 1000.0;
    let states: Vec<f64> = (0..4000)
        .flat_map(|k| {
            let w = 2.0 * PI * k as f64 * dt / p;
            [a * w.cos(), a * w.sin()]
        })
        .collect();
    let t: Vec<f64> = (0..4000).map(|k| k as f64 * dt).collect();
    // Period of the second coordinate, or of a diagonal projection: the same.
    for proj in [[0.0, 1.0], [1.0, 1.0]] {
        let o = oscillation(&t, &states, 2, &proj, &Hysteresis::default()).unwrap();
        assert!(close(o.period, p, 1e-9));
    }
    let o = oscillation(&t, &states, 2, &[1.0, 0.0], &Hysteresis::default()).unwrap();
    assert!(close(o.rms_radius, a, 1e-12));
    assert!(close(rms_radius(&states, 2), a, 1e-12));
    let pr = project(&states[..4], 2, &[1.0, 1.0]);
    let w = 2.0 * PI * dt / p;
    assert!(pr.len() == 2 && pr[0] == a && close(pr[1], a * (w.cos() + w.sin()), 1e-15));
}

#[test]
fn wrong_period_and_amplitude_give_signed_errors() {
    let (p, a) = (0.833, 1.0);
    let reference = {
        let (t, x) = sine(4000, p / 800.0, p, a, 0.2);
        oscillation(&t, &x, 1, &[1.0], &Hysteresis::default()).unwrap()
    };
    // Test: 2 % slower, 5 % smaller, same number of whole periods.
    let (pt, at) = (1.02 * p, 0.95 * a);
    let test = {
        let (t, x) = sine(4000, pt / 800.0, pt, at, 0.2);
        oscillation(&t, &x, 1, &[1.0], &Hysteresis::default()).unwrap()
    };
    assert!(close(period_error(&test, &reference), 0.02, 1e-9));
    assert!(close(amplitude_error(&test, &reference), -0.05, 1e-12));
    assert!(close(
        relative_error(test.half_peak_to_peak, reference.half_peak_to_peak),
        -0.05,
        1e-6
    ));
    // Faster and larger: the signs flip.
    assert!(period_error(&reference, &test) < 0.0 && amplitude_error(&reference, &test) > 0.0);
}

#[test]
fn hysteresis_ignores_jitter_around_the_level() {
    // A slow sine plus a fast small ripple: many raw zero crossings per period.
    let (p, dt) = (1.0, 1e-3);
    let t: Vec<f64> = (0..5000).map(|k| k as f64 * dt).collect();
    let x: Vec<f64> = t
        .iter()
        .map(|t| (2.0 * PI * t / p).sin() + 0.05 * (2.0 * PI * 97.0 * t).sin())
        .collect();
    let with = upward_crossings(&t, &x, &Hysteresis::default());
    assert_eq!(with.len(), 4); // t ≈ 1, 2, 3, 4 (t = 0 starts at the level, never armed)
    let o = oscillation(&t, &x, 1, &[1.0], &Hysteresis::default()).unwrap();
    assert!(close(o.period, p, 2e-3), "{}", o.period);
    let none = Hysteresis {
        level: CrossingLevel::Zero,
        band: 0.0,
    };
    assert!(upward_crossings(&t, &x, &none).len() > 4);
}

#[test]
fn crossing_level_mean_handles_offset_signals() {
    let (t, x) = sine(3000, 1e-3, 0.6, 1.0, 0.1);
    let shifted: Vec<f64> = x.iter().map(|v| v + 2.0).collect();
    // About 0 (the prototype's level) an offset signal never crosses.
    let o = oscillation(&t, &shifted, 1, &[1.0], &Hysteresis::default()).unwrap();
    assert!(o.period.is_nan() && o.cycles == 0 && o.half_peak_to_peak.is_nan());
    for level in [CrossingLevel::Mean, CrossingLevel::Value(2.0)] {
        let h = Hysteresis { level, band: 0.3 };
        let o = oscillation(&t, &shifted, 1, &[1.0], &h).unwrap();
        assert!(close(o.period, 0.6, 1e-6), "{level:?}: {}", o.period);
    }
}

#[test]
fn oscillation_degenerate_inputs() {
    let h = Hysteresis::default();
    assert!(upward_crossings(&[], &[], &h).is_empty());
    assert!(upward_crossings(&[0.0, 1.0], &[1.0], &h).is_empty());
    assert!(oscillation(&[], &[], 1, &[1.0], &h).is_none());
    assert!(oscillation(&[0.0], &[1.0, 2.0], 1, &[1.0], &h).is_none());
    assert!(oscillation(&[0.0], &[1.0], 1, &[1.0, 0.0], &h).is_none());
    assert!(oscillation(&[0.0], &[1.0], 0, &[], &h).is_none());
    // Constant and NaN-laden signals: no crossings, no panic.
    let t = [0.0, 1.0, 2.0, 3.0];
    let o = oscillation(&t, &[1.0; 4], 1, &[1.0], &h).unwrap();
    assert!(o.period.is_nan() && o.cycles == 0 && o.rms_radius == 1.0);
    let o = oscillation(&t, &[f64::NAN; 4], 1, &[1.0], &h).unwrap();
    assert!(o.period.is_nan() && o.rms_radius.is_nan());
    // Two crossings (one period) are not enough for the prototype's rule, but give an amplitude.
    let (t, x) = sine(2200, 1e-3, 1.0, 1.0, 0.3);
    let o = oscillation(&t, &x, 1, &[1.0], &h).unwrap();
    assert!(o.cycles == 1 && o.period.is_nan() && close(o.half_peak_to_peak, 1.0, 1e-5));
    assert!(rms_radius(&[], 2).is_nan() && project(&[1.0], 2, &[1.0, 1.0]).is_empty());
}

// ------------------------------------------------------------------------------------- NRMSE

#[test]
fn windowed_nrmse_by_hand() {
    // Pooled target [0, 2, 0, 2, 0, 2]: variance 1. Window MSEs 0.5, 2, 0.
    let t = [0.0, 2.0];
    let (e1, e2, e3) = ([1.0, 2.0], [0.0, 0.0], [0.0, 2.0]);
    let two = windowed_nrmse(&[(&e1, &t), (&e2, &t)], 1).unwrap();
    assert!(close(two.mean, 1.25f64.sqrt(), 1e-15));
    assert!(close(two.median, 1.25f64.sqrt(), 1e-15)); // even count: mean of the middle MSEs
    assert_eq!(two.per_window, vec![0.5f64.sqrt(), 2f64.sqrt()]);
    let three = windowed_nrmse(&[(&e1, &t), (&e2, &t), (&e3, &t)], 1).unwrap();
    assert!(close(three.mean, (2.5f64 / 3.0).sqrt(), 1e-15));
    assert!(close(three.median, 0.5f64.sqrt(), 1e-15));
    // Empty windows are skipped; one window is metrics::nrmse.
    let one = windowed_nrmse(&[(&e1, &t), (&[], &[])], 1).unwrap();
    assert!(close(one.mean, metrics::nrmse(&e1, &t, 1), 1e-15));
    // 2-D, one window: the same as metrics::nrmse.
    let tgt = [0.0, 0.0, 2.0, 0.0, 1.0, 3.0];
    let est = [1.0, 1.0, 2.0, 1.0, 0.0, 3.0];
    let w = windowed_nrmse(&[(&est, &tgt)], 2).unwrap();
    assert!(close(w.mean, metrics::nrmse(&est, &tgt, 2), 1e-14));
    assert!(close(w.median, w.mean, 1e-15));
}

#[test]
fn windowed_nrmse_degenerate() {
    assert!(windowed_nrmse(&[], 1).is_none());
    assert!(windowed_nrmse(&[(&[], &[])], 1).is_none());
    assert!(windowed_nrmse(&[(&[1.0], &[1.0, 2.0])], 1).is_none());
    assert!(windowed_nrmse(&[(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0])], 2).is_none());
    assert!(windowed_nrmse(&[(&[1.0], &[1.0])], 0).is_none());
    // Constant target: infinite for an error, NaN for none.
    assert_eq!(
        windowed_nrmse(&[(&[1.0, 1.0], &[0.0, 0.0])], 1)
            .unwrap()
            .mean,
        f64::INFINITY
    );
    assert!(windowed_nrmse(&[(&[0.0, 0.0], &[0.0, 0.0])], 1)
        .unwrap()
        .mean
        .is_nan());
}

#[test]
fn nrmse_between_selects_the_time_window() {
    let times = [0.0, 0.5, 1.0, 1.5];
    let target = [0.0, 2.0, 100.0, -100.0];
    let est = [1.0, 2.0, 0.0, 0.0];
    // Only t ∈ [0, 1): samples 0 and 1 → the by-hand case above, MSE 0.5, variance 1.
    assert!(close(
        nrmse_between(&times, &est, &target, 1, 0.0, 1.0),
        0.5f64.sqrt(),
        1e-15
    ));
    assert!(nrmse_between(&times, &est, &target, 1, 5.0, 6.0).is_nan());
    assert!(nrmse_between(&times, &est[..3], &target, 1, 0.0, 1.0).is_nan());
    assert!(nrmse_between(&[], &[], &[], 1, 0.0, 1.0).is_nan());
}

// ------------------------------------------------------------------------------ field error

fn vdp(x: &[f64], out: &mut [f64]) {
    // The prototype's scaled Van der Pol: x = 0.5 y, y' = 8·vdp_μ=1(y).
    let (s, mu, a) = (8.0, 1.0, 0.5);
    let (y1, y2) = (x[0] / a, x[1] / a);
    out[0] = s * a * y2;
    out[1] = s * a * (mu * (1.0 - y1 * y1) * y2 - y1);
}

#[test]
fn field_error_of_identical_and_scaled_fields() {
    let states = grid_points(&[-1.0, -1.3], &[1.0, 1.3], 9);
    assert_eq!(states.len(), 81 * 2);
    assert_eq!(field_error(vdp, vdp, &states, 2), 0.0);
    for s in [1.3, 0.7, -1.0, 0.0] {
        let scaled = |x: &[f64], o: &mut [f64]| {
            vdp(x, o);
            o.iter_mut().for_each(|v| *v *= s);
        };
        let e = field_error(scaled, vdp, &states, 2);
        assert!(close(e, (s - 1.0f64).abs(), 1e-14), "s = {s}: {e}");
    }
    // The prototype's frame: the network supplies ÛΨ(x) ≈ g(x) + λ_d x, the error is relative to g.
    let lambda = 10.0;
    let perfect = |x: &[f64], o: &mut [f64]| {
        vdp(x, o);
        o[0] += lambda * x[0];
        o[1] += lambda * x[1];
    };
    assert!(learned_field_error(perfect, vdp, lambda, &states, 2) < 1e-15);
    // Missing the λ_d x term entirely: error ‖λ x‖ / ‖g‖ in the RMS sense.
    let e = learned_field_error(vdp, vdp, lambda, &states, 2);
    let mut g = [0.0; 2];
    let (num, den) = states.chunks(2).fold((0.0, 0.0), |(n, d), x| {
        vdp(x, &mut g);
        (
            n + lambda * lambda * (x[0] * x[0] + x[1] * x[1]),
            d + g[0] * g[0] + g[1] * g[1],
        )
    });
    assert!(close(e, (num / den).sqrt(), 1e-12));
}

#[test]
fn field_error_degenerate() {
    let zero = |_: &[f64], o: &mut [f64]| o.iter_mut().for_each(|v| *v = 0.0);
    let one = |_: &[f64], o: &mut [f64]| o.iter_mut().for_each(|v| *v = 1.0);
    assert!(field_error(vdp, vdp, &[], 2).is_nan());
    assert!(field_error(vdp, vdp, &[1.0, 2.0, 3.0], 2).is_nan());
    assert!(field_error(vdp, vdp, &[1.0, 2.0], 0).is_nan());
    assert_eq!(field_error(one, zero, &[0.0, 0.0], 2), f64::INFINITY);
    assert!(field_error(zero, zero, &[0.0, 0.0], 2).is_nan());
}

// --------------------------------------------------------------------------- fixed points

#[test]
fn fixed_points_of_the_double_well() {
    // x' = 5(x − x³): −1, 0, 1; stable, unstable, stable (f'(±1) = −10, f'(0) = 5).
    let f = |x: &[f64], o: &mut [f64]| o[0] = 5.0 * (x[0] - x[0].powi(3));
    let fps = fixed_points(f, &[-2.0], &[2.0], &FixedPointOptions::default());
    assert_eq!(fps.len(), 3, "{fps:?}");
    let expect = [
        (-1.0, Stability::StableNode, -10.0),
        (0.0, Stability::UnstableNode, 5.0),
        (1.0, Stability::StableNode, -10.0),
    ];
    for (fp, (x, s, lam)) in fps.iter().zip(expect) {
        assert!(close(fp.x[0], x, 1e-12), "{fp:?}");
        assert_eq!(fp.stability, s);
        assert!(close(fp.eigenvalues[0].re, lam, 1e-6), "{fp:?}");
        assert!(fp.residual < 1e-12);
    }
    assert!(fps[0].stability.is_attracting() && !fps[1].stability.is_attracting());
    // A box that excludes −1 and ends exactly at 1, with few seeds.
    let opts = FixedPointOptions {
        seeds_per_dim: 3,
        ..FixedPointOptions::default()
    };
    let fps = fixed_points(f, &[-0.5], &[1.0], &opts);
    let xs: Vec<f64> = fps.iter().map(|p| p.x[0]).collect();
    assert_eq!(xs.len(), 2, "{xs:?}");
    assert!(close(xs[0], 0.0, 1e-12) && close(xs[1], 1.0, 1e-12));
}

#[test]
fn fixed_points_of_the_2d_double_well() {
    // x' = x − x³, y' = y − y³: 4 stable nodes at (±1, ±1), 4 saddles, 1 unstable node at 0.
    let f = |x: &[f64], o: &mut [f64]| {
        o[0] = x[0] - x[0].powi(3);
        o[1] = x[1] - x[1].powi(3);
    };
    let fps = fixed_points(f, &[-2.0, -2.0], &[2.0, 2.0], &FixedPointOptions::default());
    assert_eq!(fps.len(), 9);
    let count = |s| fps.iter().filter(|p| p.stability == s).count();
    assert_eq!(count(Stability::StableNode), 4);
    assert_eq!(count(Stability::Saddle), 4);
    assert_eq!(count(Stability::UnstableNode), 1);
    for p in &fps {
        let corner = p.x.iter().all(|v| close(v.abs(), 1.0, 1e-12));
        assert_eq!(corner, p.stability == Stability::StableNode, "{p:?}");
    }
    // Sorted lexicographically.
    assert!(close(fps[0].x[0], -1.0, 1e-12) && close(fps[0].x[1], -1.0, 1e-12));
    assert!(close(fps[4].x[0], 0.0, 1e-12) && close(fps[4].x[1], 0.0, 1e-12));
}

#[test]
fn linear_fields_are_classified_by_trace_and_determinant() {
    let cases: [([f64; 4], Stability); 7] = [
        ([-1.0, 0.0, 0.0, 2.0], Stability::Saddle),
        ([1.0, 3.0, 2.0, -1.0], Stability::Saddle), // det −7
        ([-2.0, 1.0, 0.0, -3.0], Stability::StableNode),
        ([2.0, 1.0, 0.0, 3.0], Stability::UnstableNode),
        ([-1.0, -5.0, 5.0, -1.0], Stability::StableFocus),
        ([1.0, -5.0, 5.0, 1.0], Stability::UnstableFocus),
        ([0.0, -1.0, 1.0, 0.0], Stability::NonHyperbolic), // centre
    ];
    for (a, s) in cases {
        let f = move |x: &[f64], o: &mut [f64]| {
            o[0] = a[0] * (x[0] - 0.3) + a[1] * (x[1] + 0.2);
            o[1] = a[2] * (x[0] - 0.3) + a[3] * (x[1] + 0.2);
        };
        let fps = fixed_points(f, &[-1.0, -1.0], &[1.0, 1.0], &FixedPointOptions::default());
        assert_eq!(fps.len(), 1, "{a:?}: {fps:?}");
        assert!(close(fps[0].x[0], 0.3, 1e-12) && close(fps[0].x[1], -0.2, 1e-12));
        assert_eq!(fps[0].stability, s, "{a:?}: {:?}", fps[0].eigenvalues);
    }
    // Eigenvalues directly: focus −1 ± 5i, sorted by decreasing imaginary part.
    let ev = eigenvalues(&[-1.0, -5.0, 5.0, -1.0], 2).unwrap();
    assert_eq!(
        ev,
        vec![
            Eigenvalue { re: -1.0, im: 5.0 },
            Eigenvalue { re: -1.0, im: -5.0 }
        ]
    );
    // Node with a tiny eigenvalue next to a large one: no cancellation.
    let ev = eigenvalues(&[1e8, 0.0, 0.0, 1e-8], 2).unwrap();
    assert!(close(ev[1].re, 1e-8, 1e-23) && close(ev[0].re, 1e8, 1e-7));
}

#[test]
fn cubic_field_has_a_non_hyperbolic_fixed_point() {
    let f = |x: &[f64], o: &mut [f64]| o[0] = -x[0].powi(3);
    let fps = fixed_points(f, &[-2.0], &[2.0], &FixedPointOptions::default());
    assert_eq!(fps.len(), 1, "{fps:?}");
    assert!(fps[0].x[0].abs() < 1e-6);
    assert_eq!(fps[0].stability, Stability::NonHyperbolic);
    // No seed on the root (10 seeds): Newton converges only linearly there, and still arrives.
    let opts = FixedPointOptions {
        seeds_per_dim: 10,
        ..FixedPointOptions::default()
    };
    let fps = fixed_points(f, &[-2.0], &[2.0], &opts);
    assert_eq!(fps.len(), 1, "{fps:?}");
    assert!(
        fps[0].x[0].abs() < 1e-10 && fps[0].stability == Stability::NonHyperbolic,
        "{fps:?}"
    );
}

#[test]
fn lorenz_fixed_points() {
    // σ = 10, ρ = 28, β = 8/3: the origin (saddle) and C± = (±√(β(ρ−1)), ±√(β(ρ−1)), ρ − 1),
    // saddle-foci with eigenvalues ≈ −13.85, 0.094 ± 10.19i.
    let (s, r, b) = (10.0, 28.0, 8.0 / 3.0);
    let f = move |x: &[f64], o: &mut [f64]| {
        o[0] = s * (x[1] - x[0]);
        o[1] = x[0] * (r - x[2]) - x[1];
        o[2] = x[0] * x[1] - b * x[2];
    };
    let fps = fixed_points(
        f,
        &[-20.0, -20.0, -5.0],
        &[20.0, 20.0, 45.0],
        &FixedPointOptions::default(),
    );
    assert_eq!(fps.len(), 3, "{fps:?}");
    let c = (b * (r - 1.0)).sqrt();
    assert!(close(fps[0].x[0], -c, 1e-10) && close(fps[0].x[2], r - 1.0, 1e-10));
    assert!(fps[1].x.iter().all(|v| v.abs() < 1e-10));
    assert!(close(fps[2].x[1], c, 1e-10));
    for p in &fps {
        assert_eq!(p.stability, Stability::Saddle, "{p:?}");
    }
    let ev = &fps[2].eigenvalues;
    assert!(
        close(ev[0].re, 0.0940, 1e-3) && close(ev[0].im.abs(), 10.1945, 1e-3),
        "{ev:?}"
    );
    assert!(close(ev[2].re, -13.8546, 1e-3), "{ev:?}");
    // Origin: −8/3 and the roots of λ² + 11λ − 270.
    let ev0 = &fps[1].eigenvalues;
    let disc = (121.0f64 + 1080.0).sqrt();
    assert!(close(ev0[0].re, (-11.0 + disc) / 2.0, 1e-6));
    assert!(close(ev0[1].re, -8.0 / 3.0, 1e-6));
    assert!(close(ev0[2].re, (-11.0 - disc) / 2.0, 1e-6));
}

fn has(ev: &[Eigenvalue], re: f64, im: f64, tol: f64) -> bool {
    ev.iter()
        .any(|e| close(e.re, re, tol) && close(e.im, im, tol))
}

#[test]
fn three_and_four_dimensional_eigenvalues() {
    // Three real roots.
    let ev = eigenvalues(&[3.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0], 3).unwrap();
    let re: Vec<f64> = ev.iter().map(|e| e.re).collect();
    assert!(close(re[0], 3.0, 1e-12) && close(re[1], 2.0, 1e-12) && close(re[2], 1.0, 1e-12));
    assert!(ev.iter().all(|e| e.im == 0.0));
    // A decaying rotation and a real mode: −1 ± 2i, −3.
    let ev = eigenvalues(&[-1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 0.0, 0.0, -3.0], 3).unwrap();
    assert!(close(ev[0].re, -1.0, 1e-12) && close(ev[0].im, 2.0, 1e-12));
    assert!(close(ev[1].re, -1.0, 1e-12) && close(ev[1].im, -2.0, 1e-12));
    assert!(close(ev[2].re, -3.0, 1e-12) && ev[2].im == 0.0);
    assert_eq!(classify(&ev, 1e-9), Stability::StableFocus);
    // Closed forms against nalgebra's Schur form on pseudo-random 3×3 matrices.
    let mut seed = 12345u64;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
    };
    for _ in 0..200 {
        let m: Vec<f64> = (0..9).map(|_| rnd()).collect();
        let ours = eigenvalues(&m, 3).unwrap();
        let theirs = nalgebra::DMatrix::from_row_slice(3, 3, &m).complex_eigenvalues();
        assert_eq!(ours.len(), 3);
        for c in theirs.iter() {
            assert!(
                has(&ours, c.re, c.im, 1e-7),
                "{m:?}: {ours:?} vs {theirs:?}"
            );
        }
    }
    // d = 4 through the Schur form: two rotation blocks.
    let m = [
        -1.0, -3.0, 0.0, 0.0, 3.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, -2.0,
    ];
    let ev = eigenvalues(&m, 4).unwrap();
    assert!(
        close(ev[0].re, 0.5, 1e-12) && close(ev[3].re, -2.0, 1e-12),
        "{ev:?}"
    );
    assert!(
        has(&ev, -1.0, 3.0, 1e-12) && has(&ev, -1.0, -3.0, 1e-12),
        "{ev:?}"
    );
    assert_eq!(classify(&ev, 1e-9), Stability::Saddle);
    // Degenerate.
    assert!(eigenvalues(&[], 0).is_none());
    assert!(eigenvalues(&[1.0, 2.0], 2).is_none());
    assert!(eigenvalues(&[f64::NAN], 1).is_none());
    assert_eq!(classify(&[], 1e-9), Stability::Undetermined);
}

#[test]
fn numeric_jacobian_of_a_smooth_field() {
    let jac = numeric_jacobian(vdp, &[0.3, -0.4], 1.0);
    // ∂/∂x of (8 x2, 8(μ(1 − 4x1²) x2 − x1)) with a = 0.5: [[0, 8], [−64 x1 x2 − 8, 8(1 − 4x1²)]].
    let (x1, x2) = (0.3, -0.4);
    let exact = [0.0, 8.0, -64.0 * x1 * x2 - 8.0, 8.0 * (1.0 - 4.0 * x1 * x1)];
    for (a, b) in jac.iter().zip(exact) {
        assert!(close(*a, b, 1e-8), "{jac:?}");
    }
    let fps = fixed_points(
        vdp,
        &[-2.0, -2.0],
        &[2.0, 2.0],
        &FixedPointOptions::default(),
    );
    assert_eq!(fps.len(), 1);
    assert_eq!(fps[0].stability, Stability::UnstableFocus); // inside the limit cycle
}

#[test]
fn fixed_points_degenerate_boxes() {
    let f = |x: &[f64], o: &mut [f64]| o[0] = x[0];
    let o = FixedPointOptions::default();
    assert!(fixed_points(f, &[], &[], &o).is_empty());
    assert!(fixed_points(f, &[1.0], &[-1.0], &o).is_empty());
    assert!(fixed_points(f, &[f64::NAN], &[1.0], &o).is_empty());
    assert!(fixed_points(f, &[0.0, 0.0], &[1.0], &o).is_empty());
    let zero_seeds = FixedPointOptions {
        seeds_per_dim: 0,
        ..o
    };
    assert!(fixed_points(f, &[-1.0], &[1.0], &zero_seeds).is_empty());
    // A point box on the root.
    let fps = fixed_points(f, &[0.0], &[0.0], &o);
    assert_eq!(fps.len(), 1);
    // No root in the box; a field that is NaN everywhere.
    assert!(fixed_points(
        |x: &[f64], o: &mut [f64]| o[0] = x[0] * x[0] + 1.0,
        &[-1.0],
        &[1.0],
        &o
    )
    .is_empty());
    assert!(fixed_points(
        |_: &[f64], o: &mut [f64]| o[0] = f64::NAN,
        &[-1.0],
        &[1.0],
        &o
    )
    .is_empty());
}

// --------------------------------------------------------------------------------- basins

#[test]
fn grid_points_are_row_major_last_fastest() {
    assert_eq!(
        grid_points(&[0.0, 10.0], &[1.0, 12.0], 3),
        vec![
            0.0, 10.0, 0.0, 11.0, 0.0, 12.0, 0.5, 10.0, 0.5, 11.0, 0.5, 12.0, 1.0, 10.0, 1.0, 11.0,
            1.0, 12.0
        ]
    );
    assert_eq!(grid_points(&[-1.0], &[3.0], 1), vec![1.0]);
    assert!(grid_points(&[0.0], &[1.0], 0).is_empty());
    assert!(grid_points(&[0.0; 30], &[1.0; 30], 10).is_empty()); // too many points
}

#[test]
fn basin_agreement_of_double_wells() {
    // The prototype's 1-D starts: 19 points of [−1.8, 1.8] without |x| ≤ 0.05 → 18.
    let starts: Vec<f64> = grid_points(&[-1.8], &[1.8], 19)
        .into_iter()
        .filter(|x| x.abs() > 0.05)
        .collect();
    assert_eq!(starts.len(), 18);
    // x' = x − x³ ends in the well of sign(x0); a test system whose separatrix is at 0.5.
    let reference = |x0: &[f64]| Some(orthant(&[x0[0]]));
    let good = basin_agreement(&starts, 1, reference, reference);
    assert_eq!((good.agree, good.total), (18, 18));
    assert_eq!(good.fraction(), 1.0);
    let shifted = |x0: &[f64]| Some(orthant(&[x0[0] - 0.5]));
    let bad = basin_agreement(&starts, 1, shifted, reference);
    assert_eq!((bad.agree, bad.total), (16, 18)); // 0.2 and 0.4 go the wrong way
                                                  // Undecided reference (a start on the separatrix) is skipped; undecided test disagrees.
    let with_zero = [0.0, 1.0, -1.0];
    let refn = |x0: &[f64]| (x0[0] != 0.0).then(|| orthant(x0));
    let r = basin_agreement(
        &with_zero,
        1,
        |x0: &[f64]| (x0[0] > 0.0).then(|| orthant(x0)),
        refn,
    );
    assert_eq!((r.agree, r.total, r.undecided_reference), (1, 2, 1));
    // Labels by nearest attractor, 2-D: the prototype's 4 × 4 grid of {−1.5, −0.6, 0.6, 1.5}².
    let g = [-1.5, -0.6, 0.6, 1.5];
    let starts2: Vec<f64> = g
        .iter()
        .flat_map(|&u| g.iter().flat_map(move |&v| [u, v]))
        .collect();
    let wells = [-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    let label = |x0: &[f64]| {
        nearest_attractor(
            &orthant(x0).iter().map(|&s| s as f64).collect::<Vec<_>>(),
            &wells,
            2,
            0.1,
        )
    };
    let r = basin_agreement(&starts2, 2, label, label);
    assert_eq!((r.agree, r.total), (16, 16));
    // Degenerate.
    let none = basin_agreement(&[], 1, reference, reference);
    assert!(none.fraction().is_nan() && none.total == 0);
    assert_eq!(basin_agreement(&[1.0, 2.0, 3.0], 2, label, label).total, 0);
}

#[test]
fn labels() {
    assert_eq!(orthant(&[-0.1, 0.0, 2.0, f64::NAN]), vec![-1, 0, 1, 0]);
    let attractors = [0.0, 0.0, 3.0, 4.0];
    assert_eq!(nearest_attractor(&[2.9, 4.1], &attractors, 2, 0.5), Some(1));
    assert_eq!(nearest_attractor(&[1.5, 2.0], &attractors, 2, 0.5), None);
    assert_eq!(
        nearest_attractor(&[1.5, 2.0], &attractors, 2, f64::INFINITY),
        Some(0)
    );
    assert_eq!(nearest_attractor(&[1.0], &attractors, 2, 1.0), None);
    assert_eq!(nearest_attractor(&[1.0, 1.0], &[], 2, 1.0), None);
}

// ----------------------------------------------------------------------- attractor statistics

#[test]
fn histogram_tv_distance() {
    let pts = grid_points(&[-2.9, -2.9, -2.9], &[2.9, 2.9, 2.9], 7);
    let (lo, hi) = (vec![-3.0; 3], vec![3.0; 3]);
    assert_eq!(occupancy_tv_distance(&pts, &pts, 3, &lo, &hi, 8), Some(0.0));
    // Disjoint supports: distance 1.
    let a = grid_points(&[-3.0, -3.0, -3.0], &[-2.5, -2.5, -2.5], 4);
    let b = grid_points(&[2.5, 2.5, 2.5], &[3.0, 3.0, 3.0], 4); // upper edge in the last bin
    assert_eq!(occupancy_tv_distance(&a, &b, 3, &lo, &hi, 8), Some(1.0));
    // By hand, 1-D, 2 bins over [0, 1]: p = (1/2, 1/2), q = (1, 0) → 1/2. Outside samples dropped.
    let p = occupancy_histogram(&[0.1, 0.9, 7.0, f64::NAN], 1, &[0.0], &[1.0], 2).unwrap();
    assert_eq!(p, vec![0.5, 0.5]);
    assert_eq!(
        occupancy_tv_distance(&[0.1, 0.9], &[0.2, 0.3, -5.0], 1, &[0.0], &[1.0], 2),
        Some(0.5)
    );
    // Probabilities sum to 1 and follow the last-coordinate-fastest layout.
    let h = occupancy_histogram(&[0.1, 0.9], 2, &[0.0, 0.0], &[1.0, 1.0], 2).unwrap();
    assert_eq!(h, vec![0.0, 1.0, 0.0, 0.0]);
    // Degenerate.
    assert!(occupancy_histogram(&[5.0], 1, &[0.0], &[1.0], 2).is_none());
    assert!(occupancy_histogram(&[0.5], 1, &[1.0], &[0.0], 2).is_none());
    assert!(occupancy_histogram(&[0.5], 1, &[0.0], &[1.0], 0).is_none());
    assert!(occupancy_histogram(&[], 1, &[0.0], &[1.0], 2).is_none());
    assert!(tv_distance(&[1.0], &[0.5, 0.5]).is_nan());
    assert_eq!(
        common_box(&[1.0, 5.0], &[-2.0, 3.0], 2),
        Some((vec![-2.0, 3.0], vec![1.0, 5.0]))
    );
    assert_eq!(common_box(&[f64::NAN], &[f64::NAN], 1), None);
}

#[test]
fn std_ratios_by_hand() {
    let reference = [0.0, 1.0, 2.0, 1.0, 0.0, 1.0];
    let test: Vec<f64> = reference.iter().map(|v| 2.0 * v + 5.0).collect();
    assert!(close(std_ratios(&test, &reference, 2)[0], 2.0, 1e-15));
    assert!(std_ratios(&test, &reference, 2)[1].is_nan()); // constant reference coordinate
    assert_eq!(std_ratios(&test[..4], &reference, 2).len(), 2); // lengths may differ
    assert!(std_ratios(&[], &reference, 2).is_empty());
}

/// The prototype's scaled Lorenz, x = (X/10, Y/10, (Z − 25)/10), time × 0.5, RK4 at `dt`.
fn lorenz_run(x0: [f64; 3], dt: f64, n: usize) -> Vec<f64> {
    let f = |x: [f64; 3]| {
        let (s, sg, rho, be, a, zo) = (0.5, 10.0, 28.0, 8.0 / 3.0, 10.0, 25.0);
        let (xx, yy, zz) = (a * x[0], a * x[1], a * x[2] + zo);
        [
            s * sg * (yy - xx) / a,
            s * (xx * (rho - zz) - yy) / a,
            s * (xx * yy - be * zz) / a,
        ]
    };
    let add =
        |x: [f64; 3], k: [f64; 3], h: f64| [x[0] + h * k[0], x[1] + h * k[1], x[2] + h * k[2]];
    let mut x = x0;
    let mut out = Vec::with_capacity(3 * n);
    for _ in 0..n {
        out.extend_from_slice(&x);
        let k1 = f(x);
        let k2 = f(add(x, k1, dt / 2.0));
        let k3 = f(add(x, k2, dt / 2.0));
        let k4 = f(add(x, k3, dt));
        for j in 0..3 {
            x[j] += dt / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
        }
    }
    out
}

#[test]
fn lorenz_statistics_match_the_prototype_teacher() {
    // 31 s from the prototype's start, first second dropped, 1 ms samples.
    let dt = 1e-3;
    let full = lorenz_run([0.1, 0.1, 0.0], dt, 31_000);
    let x = &full[3000..];
    let t: Vec<f64> = (0..x.len() / 3).map(|k| k as f64 * dt).collect();
    let o = AttractorOptions::lorenz();
    let s = attractor_stats(&t, x, &t, x, 3, &o).unwrap();
    assert_eq!(s.std_ratios, vec![1.0, 1.0, 1.0]);
    assert_eq!(s.tv_distance, 0.0);
    assert_eq!(s.loop_period_error, 0.0);
    // The prototype's teacher loop period: 1.48 s.
    assert!(
        close(s.loop_period_reference, 1.48, 0.05),
        "{}",
        s.loop_period_reference
    );
    // A different trajectory on the same attractor: statistics close, not equal.
    let other = lorenz_run([-0.3, 0.2, 0.5], dt, 31_000);
    let s2 = attractor_stats(&t, &other[3000..], &t, x, 3, &o).unwrap();
    assert!(s2.std_ratios.iter().all(|r| close(*r, 1.0, 0.15)), "{s2:?}");
    assert!(
        s2.loop_period_error.abs() < 0.05 && s2.tv_distance < 0.3,
        "{s2:?}"
    );
    // Collapse onto C+ (a constant state): std ratios 0, no loops, large distance.
    let c = (8.0 / 3.0 * 27.0f64).sqrt() / 10.0;
    let fixed: Vec<f64> = (0..t.len()).flat_map(|_| [c, c, 0.2]).collect();
    let s3 = attractor_stats(&t, &fixed, &t, x, 3, &o).unwrap();
    assert!(s3.std_ratios.iter().all(|r| *r < 1e-12), "{s3:?}");
    assert!(s3.loop_period_test.is_nan() && s3.loop_period_error.is_nan());
    assert!(s3.tv_distance > 0.9, "{}", s3.tv_distance);
}

#[test]
fn attractor_stats_of_synthetic_loops_and_degenerate_inputs() {
    // z oscillates with period 1.5 (test 1.515): loop period error +1 %.
    let mk = |p: f64| {
        let dt = p / 1000.0;
        let t: Vec<f64> = (0..10_000).map(|k| k as f64 * dt).collect();
        let x: Vec<f64> = t
            .iter()
            .flat_map(|t| {
                let w = 2.0 * PI * t / p;
                [w.cos(), 0.5 * w.sin(), (w + 0.4).sin()]
            })
            .collect();
        (t, x)
    };
    let (tr, xr) = mk(1.5);
    let (tt, xt) = mk(1.515);
    let s = attractor_stats(&tt, &xt, &tr, &xr, 3, &AttractorOptions::lorenz()).unwrap();
    assert!(close(s.loop_period_error, 0.01, 1e-9), "{s:?}");
    assert!(s.std_ratios.iter().all(|r| close(*r, 1.0, 1e-9)));
    // Whole periods of both: the same phases, so the same occupancy up to samples that rounding
    // puts on either side of a bin edge.
    assert!(s.tv_distance < 1e-3, "{}", s.tv_distance);
    let o = AttractorOptions::lorenz();
    assert!(attractor_stats(&[], &[], &[], &[], 3, &o).is_none());
    assert!(attractor_stats(&tt, &xt, &tr, &xr, 2, &o).is_none());
    assert!(attractor_stats(&tt[..5], &xt, &tr, &xr, 3, &o).is_none());
    let far = AttractorOptions {
        lo: vec![10.0; 3],
        hi: vec![11.0; 3],
        ..AttractorOptions::lorenz()
    };
    assert!(attractor_stats(&tt, &xt, &tr, &xr, 3, &far)
        .unwrap()
        .tv_distance
        .is_nan());
}

// ------------------------------------------------------------------------------ spike statistics

fn spike(t: f64, n: u32) -> Spike {
    Spike {
        time: Time::from_secs(t),
        neuron: n,
    }
}

#[test]
fn spike_stats_of_alive_neurons() {
    // Neuron 0: 0, 1, 4 (ISIs 1, 3: CV 0.5); neuron 1 dead (its spikes ignored); neuron 2:
    // 0, 1, 2, 6 — but 6 is outside [0, 5); neuron 3 alive and silent; 7 out of range.
    let s = [
        spike(0.0, 0),
        spike(0.0, 2),
        spike(0.5, 1),
        spike(1.0, 0),
        spike(1.0, 2),
        spike(1.5, 1),
        spike(2.0, 2),
        spike(4.0, 0),
        spike(6.0, 2),
        spike(3.0, 7),
    ];
    let alive = [true, false, true, true];
    let st = spike_stats(&s, &alive, 0.0, 5.0, 3);
    assert_eq!(st.alive, 3);
    // 6 alive spikes in [0, 5): 6 / (3 · 5) Hz.
    assert!(close(st.rate_hz, 0.4, 1e-15));
    assert!(close(st.population_rate_hz, 1.2, 1e-15));
    assert!(close(st.max_rate_hz, 0.6, 1e-15));
    assert!(close(st.silent_fraction, 1.0 / 3.0, 1e-15));
    // Neuron 2 in the window: 0, 1, 2 → CV 0; neuron 0: 0.5 → mean 0.25.
    assert!(close(st.cv_mean.unwrap(), 0.25, 1e-15));
    assert_eq!(spike_stats(&s, &alive, 0.0, 5.0, 4).cv_mean, None);
    let r = rates_hz(&s, &alive, 0.0, 5.0);
    assert!(r[1].is_nan());
    assert_eq!(r.len(), 4);
    assert!(close(r[0], 0.6, 1e-15) && close(r[2], 0.6, 1e-15) && r[3] == 0.0);
    // Degenerate: no one alive, empty window.
    let st = spike_stats(&s, &[false; 4], 0.0, 5.0, 3);
    assert!(st.rate_hz == 0.0 && st.silent_fraction.is_nan() && st.cv_mean.is_none());
    let st = spike_stats(&s, &alive, 5.0, 5.0, 3);
    assert_eq!(st.rate_hz, 0.0);
    assert!(rates_hz(&s, &alive, 1.0, 1.0).iter().all(|v| v.is_nan()));
    assert_eq!(spike_stats(&[], &[], 0.0, 1.0, 2).alive, 0);
}

#[test]
fn fano_factor_by_hand() {
    // Regular train, one spike per 0.1-s window: Fano 0.
    let regular: Vec<Spike> = (0..20).map(|k| spike(0.05 + 0.1 * k as f64, 0)).collect();
    assert!(close(
        fano_factor(&regular, &[true], 0.0, 2.0, 0.1).unwrap(),
        0.0,
        1e-15
    ));
    // Counts per 1-s window (0, 1, 5, 2) for neuron 0: mean 2, var (4 + 1 + 9 + 0)/4 = 3.5 → 1.75;
    // neuron 1 silent (skipped), neuron 2 dead (skipped).
    let s = [
        spike(1.1, 0),
        spike(2.8, 0),
        spike(2.0, 0),
        spike(2.2, 0),
        spike(2.4, 0),
        spike(2.6, 0),
        spike(3.5, 0),
        spike(3.9, 0),
        spike(0.5, 2),
    ];
    let f = fano_factor(&s, &[true, true, false], 0.0, 4.0, 1.0).unwrap();
    assert!(close(f, 1.75, 1e-15), "{f}");
    // A window that ends before 4 s: only whole windows count (here 3: counts 0, 1, 5).
    let f = fano_factor(&s, &[true, true, false], 0.0, 3.5, 1.0).unwrap();
    assert!(close(f, (26.0 / 3.0 - 4.0) / 2.0, 1e-14), "{f}");
    // Degenerate.
    assert!(fano_factor(&s, &[true], 0.0, 1.0, 1.0).is_none()); // one window
    assert!(fano_factor(&s, &[true], 0.0, 4.0, 0.0).is_none());
    assert!(fano_factor(&s, &[false], 0.0, 4.0, 1.0).is_none());
    assert!(fano_factor(&[], &[true], 0.0, 4.0, 1.0).is_none());
}

#[test]
fn ei_balance_by_hand() {
    assert_eq!(split_ei([1.0, -2.0, 0.5, -0.25, f64::NAN]), (1.5, 2.25));
    assert_eq!(split_ei(std::iter::empty()), (0.0, 0.0));
    // 3 samples × 3 neurons (row-major): neuron 0 E = 1, 2, 3 and I = 1, 1, 1; neuron 1
    // E = 1, 2, 3 and I = 3, 2, 1; neuron 2 dead.
    let exc = [1.0, 1.0, 9.0, 2.0, 2.0, 9.0, 3.0, 3.0, 9.0];
    let inh = [1.0, 3.0, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0, 0.0];
    let b = ei_balance(&exc, &inh, &[true, true, false]).unwrap();
    assert_eq!(b.neurons, 2);
    // Correlation: neuron 0's I is constant (not counted), neuron 1: −1.
    assert!(close(b.correlation, -1.0, 1e-15));
    // Net / total: neuron 0: (0 + 1 + 2) / (2 + 3 + 4) = 1/3; neuron 1: (2 + 0 + 2) / 12 = 1/3.
    assert!(close(b.net_to_total, 1.0 / 3.0, 1e-15));
    // Tight balance: I follows E exactly → correlation 1, net 0.
    let e: Vec<f64> = (0..100).map(|k| 2.0 + (k as f64 * 0.1).sin()).collect();
    let tight = ei_balance(&e, &e, &[true]).unwrap();
    assert!(close(tight.correlation, 1.0, 1e-12) && tight.net_to_total == 0.0);
    // Degenerate.
    assert!(ei_balance(&[], &[], &[true]).is_none());
    assert!(ei_balance(&[1.0, 2.0], &[1.0], &[true, true]).is_none());
    assert!(ei_balance(&[1.0], &[1.0], &[false]).is_none());
    let flat = ei_balance(&[0.0, 0.0], &[0.0, 0.0], &[true]).unwrap();
    assert!(flat.correlation.is_nan() && flat.net_to_total.is_nan());
}

// ------------------------------------------------------------------------------ learning curves

#[test]
fn learning_curve_decimates_evenly() {
    let mut c = LearningCurve::new(10);
    assert!(c.is_empty() && c.last().is_none() && c.to_vec().is_empty());
    for k in 0..1000 {
        c.push(k as f64 * 0.5, 1.0 / (1.0 + k as f64));
    }
    assert_eq!(c.pushed(), 1000);
    assert!(c.len() <= 10 && c.len() >= 5, "{}", c.len());
    // Kept: every stride-th push from the first.
    let stride = c.stride() as f64;
    for (i, (t, v)) in c.points().iter().enumerate() {
        assert_eq!(*t, i as f64 * stride * 0.5);
        assert_eq!(*v, 1.0 / (1.0 + i as f64 * stride));
    }
    assert_eq!(c.last(), Some((999.0 * 0.5, 1.0 / 1000.0)));
    let v = c.to_vec();
    assert_eq!(v.last(), Some(&(499.5, 0.001)));
    assert_eq!(v.len(), c.len() + 1);
    // Few points: nothing dropped; max_points below 2 means 2.
    let mut small = LearningCurve::new(0);
    small.push(0.0, 1.0);
    small.push(1.0, 2.0);
    assert_eq!(small.points(), &[(0.0, 1.0), (1.0, 2.0)]);
    assert_eq!(small.to_vec().len(), 2);
    // A third point: stride 2, kept pushes 0 and 2.
    small.push(2.0, 3.0);
    assert_eq!(small.points(), &[(0.0, 1.0), (2.0, 3.0)]);
    assert_eq!(small.stride(), 2);
    small.push(3.0, 4.0);
    assert_eq!(small.points(), &[(0.0, 1.0), (2.0, 3.0)]);
    assert_eq!(small.to_vec(), vec![(0.0, 1.0), (2.0, 3.0), (3.0, 4.0)]);
}
