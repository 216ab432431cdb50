//! The stepper's unit tests: first-spike convergence, integrators, spike rules, weights
//! representations, delays, reruns.

use super::*;
use crate::model::network::{random_decoder, NetworkBuilder};
use rand::SeedableRng;

fn cfg(dt: f64, integrator: Integrator, spike_rule: SpikeRule) -> DenseConfig {
    DenseConfig {
        dt,
        integrator,
        spike_rule,
    }
}

/// Runs `stepper` to `t`, returning the spikes.
fn run(stepper: &mut DenseStepper, t: f64) -> Vec<Spike> {
    let mut spikes = Vec::new();
    stepper.run_until(Time::from_secs(t), &mut spikes).unwrap();
    spikes
}

/// One neuron, D = 1 (T = 1/2, reset 1), no slow recurrence (A = −λ_d), V(0) = 0.
fn single(lambda_v: f64, lambda_d: f64) -> Network {
    NetworkBuilder::new(vec![vec![1.0]])
        .lambda_d(lambda_d)
        .lambda_v(lambda_v)
        .linear_dynamics(vec![vec![-lambda_d]])
        .build()
        .unwrap()
}

/// Time of the first spike of `single` under constant drive `i`.
fn first_spike(net: &Network, i: f64, config: DenseConfig, horizon: f64) -> f64 {
    let mut s = DenseStepper::new(net, Signal::constant(&[i]), &[0.0], config).unwrap();
    let spikes = run(&mut s, horizon);
    spikes[0].time.secs()
}

#[test]
fn exponential_first_spike_is_the_first_grid_point_after_the_analytic_time() {
    let (lv, t, i) = (20.0, 0.5, 15.0);
    let net = single(lv, 10.0);
    let exact = -(1.0 - lv * t / i).ln() / lv; // ln(3)/20 ≈ 0.0549 s
    for &dt in &[1e-3, 3e-4, 1e-4, 7e-5, 1e-5] {
        let steps = exact / dt;
        assert!(
            (steps - steps.round()).abs() > 1e-3,
            "test case too close to a grid point"
        );
        let want = steps.ceil() * dt;
        for rule in [SpikeRule::OnePerStep, SpikeRule::Greedy, SpikeRule::All] {
            let got = first_spike(&net, i, cfg(dt, Integrator::Exponential, rule), 0.06);
            assert_eq!(got, want, "dt = {dt}: exact {exact}");
        }
    }
}

#[test]
fn euler_first_spike_converges_at_first_order() {
    // A slow crossing (λ_V t* = 20) so that Euler's drift (≈ −λ_V t* dt/2 = −10 dt) dominates
    // the grid quantisation (< dt) and the error ratio is clean; t* = 20/9.7 s is off-grid.
    // (In a fast crossing, λ_V t* ≈ 1, the drift is ≈ −dt/2 and the quantisation decides.)
    let (lv, t) = (9.7, 0.5);
    let i = lv * t / (1.0 - (-20.0f64).exp());
    let net = single(lv, 10.0);
    let exact = -(1.0 - lv * t / i).ln() / lv;
    assert!((exact - 20.0 / 9.7).abs() < 1e-6);
    let dts = [1e-3, 5e-4, 2.5e-4, 1.25e-4];
    let errors: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let got = first_spike(
                &net,
                i,
                cfg(dt, Integrator::Euler, SpikeRule::OnePerStep),
                2.1,
            );
            got - exact
        })
        .collect();
    for (e, dt) in errors.iter().zip(&dts) {
        assert!(*e < 0.0 && e.abs() < 11.0 * dt, "error {e} at dt {dt}");
    }
    for w in errors.windows(2) {
        let ratio = w[0] / w[1];
        assert!(
            (1.75..2.25).contains(&ratio),
            "ratio {ratio}: errors {errors:?}"
        );
    }
}

#[test]
fn exponential_integrator_is_exact_for_piecewise_linear_input() {
    let (lv, ld) = (20.0, 10.0);
    let net = NetworkBuilder::new(vec![vec![1.0]])
        .lambda_d(ld)
        .lambda_v(lv)
        .linear_dynamics(vec![vec![-ld]])
        .thresholds(vec![1e9])
        .build()
        .unwrap();
    let (alpha, beta) = (2.0, 30.0);
    let input =
        Signal::piecewise_linear(1, &[0.0, 1.0], &[vec![alpha], vec![alpha + beta]]).unwrap();
    let v0 = 0.3;
    let mut s = DenseStepper::new(
        &net,
        input,
        &[v0],
        cfg(1e-4, Integrator::Exponential, SpikeRule::All),
    )
    .unwrap();
    let mut v = [0.0];
    for &t in &[0.0123, 0.1234, 0.5] {
        assert!(run(&mut s, t).is_empty());
        s.voltages(&mut v);
        let e = (-lv * t).exp();
        let want = v0 * e + alpha * (1.0 - e) / lv + beta * (t / lv - (1.0 - e) / (lv * lv));
        assert!(
            (v[0] - want).abs() < 1e-12 * want.abs(),
            "t = {t}: {} vs {want}",
            v[0]
        );
    }
}

/// Three neurons in 2-D: 0 and 2 share the direction (1, 0), 1 is orthogonal; all start
/// above threshold (T = 1/2, resets 1), no input, no slow recurrence.
fn three_way(rule: SpikeRule) -> Vec<(u64, u32)> {
    let net = NetworkBuilder::new(vec![vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 0.0]])
        .linear_dynamics(vec![vec![-10.0, 0.0], vec![0.0, -10.0]])
        .build()
        .unwrap();
    let dt = 1e-4;
    let mut s = DenseStepper::new(
        &net,
        Signal::zero(2),
        &[1.2, 1.0],
        cfg(dt, Integrator::Exponential, rule),
    )
    .unwrap();
    run(&mut s, 10.0 * dt)
        .iter()
        .map(|sp| ((sp.time.secs() / dt).round() as u64, sp.neuron))
        .collect()
}

#[test]
fn spike_rules_differ_when_two_neurons_cross_in_one_step() {
    // V = (1.2, 1.0, 1.2)·e^{−λ_V dt} at the first step end.
    // One per step: 0 fires (tie with 2 → lower index) and pushes 2 down by 1; 1 waits a
    // step.
    assert_eq!(three_way(SpikeRule::OnePerStep), vec![(1, 0), (2, 1)]);
    // Greedy: 0 fires, 2 is pushed below, then 1 (unaffected) fires in the same step.
    assert_eq!(three_way(SpikeRule::Greedy), vec![(1, 0), (1, 1)]);
    // All: the three fire together; 0 and 2 overshoot each other (ping-pong).
    assert_eq!(three_way(SpikeRule::All), vec![(1, 0), (1, 1), (1, 2)]);
}

fn random_network(seed: u64, n: usize) -> Network {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let rows = random_decoder(2, n, 0.1, true, &mut rng);
    NetworkBuilder::new(rows)
        .lambda_d(10.0)
        .lambda_v(20.0)
        .mu(1e-4)
        .linear_dynamics(vec![vec![-4.8, -22.4], vec![40.0, 0.0]])
        .build()
        .unwrap()
}

fn random_input(seed: u64, duration: f64) -> Signal {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Signal::smooth_random(&[0.0, 0.0], 30.0, 0.05, duration, &mut rng).unwrap()
}

#[test]
fn low_rank_and_dense_weights_give_the_same_spikes() {
    let net = random_network(11, 20);
    let dense = net.to_dense();
    assert!(net.is_low_rank() && !dense.is_low_rank());
    let input = random_input(12, 0.5);
    for integrator in [Integrator::Exponential, Integrator::Euler] {
        for rule in [SpikeRule::OnePerStep, SpikeRule::Greedy, SpikeRule::All] {
            let c = cfg(1e-4, integrator, rule);
            let mut a = DenseStepper::new(&net, input.clone(), &[0.5, 0.0], c).unwrap();
            let mut b = DenseStepper::new(&dense, input.clone(), &[0.5, 0.0], c).unwrap();
            let (sa, sb) = (run(&mut a, 0.5), run(&mut b, 0.5));
            assert!(
                sa.len() > 50,
                "{integrator:?} {rule:?}: only {} spikes",
                sa.len()
            );
            assert_eq!(sa, sb, "{integrator:?} {rule:?}");
            let (mut va, mut vb) = (vec![0.0; 20], vec![0.0; 20]);
            a.voltages(&mut va);
            b.voltages(&mut vb);
            for (x, y) in va.iter().zip(&vb) {
                assert!((x - y).abs() < 1e-10, "{x} vs {y}");
            }
            let (mut xa, mut xb) = ([0.0; 2], [0.0; 2]);
            a.readout(&mut xa);
            b.readout(&mut xb);
            assert!((xa[0] - xb[0]).abs() < 1e-12 && (xa[1] - xb[1]).abs() < 1e-12);
            assert_eq!(a.counters(), b.counters());
        }
    }
}

#[test]
fn readout_after_one_spike_decays_exponentially() {
    let ld = 10.0;
    // Starts above threshold (V = 0.8 > 0.5), fires once at the first step end, then decays
    // towards 0 without input.
    let net = single(20.0, ld);
    let dt = 1e-4;
    let mut s = DenseStepper::new(
        &net,
        Signal::zero(1),
        &[0.8],
        cfg(dt, Integrator::Exponential, SpikeRule::OnePerStep),
    )
    .unwrap();
    let mut spikes = Vec::new();
    let mut x = [0.0];
    for &t in &[dt, 0.00123, 0.01, 0.0543, 0.2, 0.2, 0.7] {
        s.run_until(Time::from_secs(t), &mut spikes).unwrap();
        assert_eq!(s.time().secs(), t);
        s.readout(&mut x);
        let want = (-ld * (t - dt)).exp();
        assert!(
            (x[0] - want).abs() <= 1e-12 * want,
            "t = {t}: {} vs {want}",
            x[0]
        );
    }
    assert_eq!(
        spikes,
        vec![Spike {
            time: Time::from_secs(dt),
            neuron: 0
        }]
    );
    let c = s.counters();
    assert_eq!((c.steps, c.spikes, c.crossing_spikes), (7000, 1, 1));
    assert!(matches!(
        s.run_until(Time::from_secs(0.5), &mut spikes),
        Err(SimError::InvalidTarget { .. })
    ));
}

#[test]
fn reruns_and_chunked_runs_are_bit_identical() {
    let net = random_network(5, 30);
    let input = random_input(6, 0.3);
    for integrator in [Integrator::Exponential, Integrator::Euler] {
        let c = cfg(1e-4, integrator, SpikeRule::Greedy);
        let whole = |_: ()| {
            let mut s = DenseStepper::new(&net, input.clone(), &[0.2, -0.3], c).unwrap();
            let spikes = run(&mut s, 0.3);
            let mut v = vec![0.0; 30];
            s.voltages(&mut v);
            (spikes, v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        };
        let (a, b) = (whole(()), whole(()));
        assert!(a.0.len() > 50);
        assert_eq!(a, b);
        // The same run in irregular chunks: step times are n·dt whatever the chunking.
        let mut s = DenseStepper::new(&net, input.clone(), &[0.2, -0.3], c).unwrap();
        let mut spikes = Vec::new();
        let mut t = 0.0;
        while t < 0.3 {
            t = f64::min(t + 0.01237, 0.3);
            s.run_until(Time::from_secs(t), &mut spikes).unwrap();
        }
        let mut v = vec![0.0; 30];
        s.voltages(&mut v);
        assert_eq!(spikes, a.0);
        assert_eq!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), a.1);
        assert_eq!(s.counters().steps, 3000);
    }
}

#[test]
fn run_until_reaches_decimal_times_despite_rounding() {
    let net = single(20.0, 10.0);
    let mut s = DenseStepper::new(
        &net,
        Signal::zero(1),
        &[0.0],
        cfg(0.1, Integrator::Euler, SpikeRule::All),
    )
    .unwrap();
    run(&mut s, 0.3); // 3.0 * 0.1 = 0.30000000000000004
    assert_eq!(s.counters().steps, 3);
    run(&mut s, 0.35);
    assert_eq!(s.counters().steps, 3);
}

#[test]
fn fast_delay_is_rounded_to_whole_steps_and_delivered_then() {
    let dt = 1e-4;
    // (delay, expected steps)
    for &(delay, k) in &[
        (0.0, 0u64),
        (0.3 * dt, 1),
        (2.4 * dt, 2),
        (2.6 * dt, 3),
        (3.0 * dt, 3),
    ] {
        // Neuron 0 (direction (1, 0)) fires at the first step end; neuron 1 (direction
        // (0.5, 0), threshold out of reach) receives Ω_f[1,0] = 0.5 after the delay.
        let net = NetworkBuilder::new(vec![vec![1.0, 0.5], vec![0.0, 0.0]])
            .linear_dynamics(vec![vec![-10.0, 0.0], vec![0.0, -10.0]])
            .thresholds(vec![0.5, 10.0])
            .fast_delay(delay)
            .build()
            .unwrap();
        for rule in [SpikeRule::OnePerStep, SpikeRule::Greedy, SpikeRule::All] {
            let mut s = DenseStepper::new(
                &net,
                Signal::zero(2),
                &[1.2, 0.0],
                cfg(dt, Integrator::Exponential, rule),
            )
            .unwrap();
            assert_eq!(s.fast_delay_steps(), k);
            let a = (-10.0 * dt).exp(); // λ_V = λ_d = 10
            let mut v = [0.0; 2];
            for step in 0..8u64 {
                let spikes = run(&mut s, (step + 1) as f64 * dt);
                assert_eq!(spikes.len(), usize::from(step == 0));
                s.voltages(&mut v);
                // Spike at the end of step 0; delivery at the end of step k.
                let mut want = 0.6 * a.powi(step as i32 + 1);
                if step >= k {
                    want -= 0.5 * a.powi((step - k) as i32);
                }
                assert!(
                    (v[1] - want).abs() < 1e-12,
                    "delay {delay}, step {step}: {} vs {want}",
                    v[1]
                );
                // The reset is immediate whatever the delay.
                let v0 = 1.2 * a.powi(step as i32 + 1) - a.powi(step as i32);
                assert!((v[0] - v0).abs() < 1e-12);
            }
            assert_eq!(s.counters().deliveries, u64::from(k > 0));
        }
    }
}

#[test]
fn invalid_parameters_name_their_field() {
    let net = single(20.0, 10.0);
    for dt in [0.0, -1e-4, f64::NAN, f64::INFINITY] {
        let e = DenseStepper::new(
            &net,
            Signal::zero(1),
            &[0.0],
            cfg(dt, Integrator::Euler, SpikeRule::All),
        )
        .unwrap_err();
        assert_eq!(e.field, "simulate.dt");
    }
    let c = DenseConfig::default();
    let e = DenseStepper::new(&net, Signal::zero(1), &[0.0, 1.0], c).unwrap_err();
    assert_eq!(e.field, "target.initial");
    let e = DenseStepper::new(&net, Signal::zero(1), &[f64::NAN], c).unwrap_err();
    assert_eq!(e.field, "target.initial[0]");
    let e = DenseStepper::new(&net, Signal::zero(2), &[0.0], c).unwrap_err();
    assert_eq!(e.field, "input");
}

#[test]
fn config_serde_names_are_stable() {
    let c: DenseConfig = serde_json::from_str(
        r#"{"dt": 0.001, "integrator": "euler", "spike_rule": "one_per_step"}"#,
    )
    .unwrap();
    assert_eq!(c, cfg(1e-3, Integrator::Euler, SpikeRule::OnePerStep));
    let r: SpikeRule = serde_json::from_str(r#""greedy""#).unwrap();
    assert_eq!(r, SpikeRule::Greedy);
    let i: Integrator = serde_json::from_str(r#""exponential""#).unwrap();
    assert_eq!(i, Integrator::Exponential);
}
