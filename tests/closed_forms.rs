//! Closed-form spike times: the exact engine must reproduce them to rounding.

use ebnsim::closed_form::crossing::{first_crossing, CrossingStats};
use ebnsim::closed_form::expo::{Membrane, Trajectory, MAX_DEGREE};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::Engine;
use ebnsim::model::network::NetworkBuilder;
use ebnsim::model::signal::Signal;
use ebnsim::time::Time;

/// Drive coefficients padded with zeros.
fn pad(x: &[f64]) -> [f64; MAX_DEGREE + 1] {
    let mut out = [0.0; MAX_DEGREE + 1];
    out[..x.len()].copy_from_slice(x);
    out
}

/// One neuron (d = 1, decoder 1) with leak `lambda_v`, threshold `threshold`, constant drive.
fn single_neuron_first_spike(lambda_v: f64, threshold: f64, drive: f64) -> f64 {
    let net = NetworkBuilder::new(vec![vec![1.0]])
        .lambda_v(lambda_v)
        .lambda_d(10.0)
        .thresholds(vec![threshold])
        .build()
        .unwrap();
    let mut k = Kernel::new(net, Signal::constant(&[drive]), &[0.0]).unwrap();
    let mut spikes = Vec::new();
    k.run_until(Time::from_secs(1.0), &mut spikes).unwrap();
    spikes[0].time.secs()
}

#[test]
fn nest_dc_case_first_spike() {
    // NEST test_iaf_ps_dc_t_accuracy: E_L = 0, V_th = 15 mV, I_e = 1000 pA, tau_m = 10 ms,
    // C_m = 250 pF. In mV and s: leak 100 /s, drive I/C = 4000 mV/s, threshold 15 mV.
    let t = single_neuron_first_spike(100.0, 15.0, 4000.0);
    let expected_ms = 4.700036292457356;
    assert!((t * 1e3 - expected_ms).abs() <= 1e-13, "{} ms", t * 1e3);
}

#[test]
fn single_neuron_constant_input_matches_log_formula() {
    for &(lv, th, i) in &[
        (20.0, 0.005, 0.3),
        (10.0, 1.0, 10.5),
        (1.0, 2.0, 1e3),
        (50.0, 0.1, 5.0001),
    ] {
        let t = single_neuron_first_spike(lv, th, i);
        let exact = -(-(lv * th / i)).ln_1p() / lv;
        // Rounding of V (~ε·(T + I/λ)) divided by the slope at the crossing (I − λT): the
        // conditioning of the crossing time. Near-tangent cases (last) are ill-conditioned.
        let slope = i - lv * th;
        let tol = 8.0 * f64::EPSILON * ((th + i / lv) / slope + exact);
        assert!(
            (t - exact).abs() <= tol,
            "{lv} {th} {i}: {t} vs {exact} (tol {tol})"
        );
    }
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
