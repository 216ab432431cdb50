//! Closed-form spike times: the exact engine must reproduce them to rounding.
//!
//! The certified crossing search itself is tested against closed forms (Lambert W, quadratic)
//! in the crate's unit tests (`src/closed_form/tests.rs`).

use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::Engine;
use ebnsim::model::network::NetworkBuilder;
use ebnsim::model::signal::Signal;
use ebnsim::time::Time;

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
