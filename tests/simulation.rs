//! The `Simulation` facade: monitors sample exactly, sampling does not change spikes, the facade
//! gives the spikes of `ebnsim run`, and it moves to another thread.

mod common;

use ebnsim::model::network::random_decoder;
use ebnsim::prelude::*;
use ebnsim::seed::{rng_stream, Stream};

/// A perfect integrator (A = 0, λ_V = λ_d) of d = 2 under constant input: between and across
/// spikes, with Ω_f = DᵀD + μI and Ω_s = λ DᵀD,
///
/// V_i(t) = (D_iᵀc/λ)(1 − e^(−λt)) + Σ_k [Ω_s[i,j_k](t − s_k) − Ω_f[i,j_k]] e^(−λ(t − s_k))
///
/// over the spikes (j_k, s_k) at or before t (right-continuous: a spike at t is already reset).
/// `r_i(t) = Σ_k e^(−λ(t − s_k))` over i's own spikes. Computed here term by term from the spike
/// list, independently of the engine's state.
fn network(n: usize, seed: u64) -> (Vec<Vec<f64>>, ebnsim::model::network::Network) {
    let decoder = random_decoder(2, n, 0.1, true, &mut rng_stream(seed, Stream::Decoder));
    let net = NetworkBuilder::new(decoder.clone())
        .lambda_d(10.0)
        .mu(1e-4)
        .build()
        .unwrap();
    (decoder, net)
}

#[test]
fn state_monitor_equals_closed_form_at_sample_times() {
    let (n, lambda, mu) = (20, 10.0, 1e-4);
    let c = [3.0, -2.0];
    let (d, net) = network(n, 11);
    let thresholds = net.thresholds().to_vec();
    let neurons = vec![0, 3, 7, 19];
    let spec = StateMonitorSpec {
        neurons: NeuronSelection::List(neurons.clone()),
        dt: 0.0137,
        variables: vec![StateVariable::V, StateVariable::R],
        at_spikes: false,
    };
    let mut sim = Simulation::builder(net, Signal::constant(&c))
        .record_state(spec)
        .build()
        .unwrap();
    sim.run_until(1.0).unwrap();
    let spikes = sim.spikes().to_vec();
    assert!(spikes.len() > 50, "the network must fire: {}", spikes.len());
    let state = sim.state().unwrap();
    assert_eq!(
        state.columns,
        ["v_0", "v_3", "v_7", "v_19", "r_0", "r_3", "r_7", "r_19"]
    );
    assert_eq!(state.len(), (1.0f64 / 0.0137).floor() as usize + 1);
    let dot = |i: usize, j: usize| d[0][i] * d[0][j] + d[1][i] * d[1][j];
    let mut worst: f64 = 0.0;
    for k in 0..state.len() {
        let t = state.times[k];
        assert_eq!(t, k as f64 * 0.0137);
        let row = state.row(k);
        for (col, &i) in neurons.iter().enumerate() {
            let drive = d[0][i] * c[0] + d[1][i] * c[1];
            let mut v = drive / lambda * -(-lambda * t).exp_m1();
            let mut r = 0.0;
            for s in spikes.iter().filter(|s| s.time.secs() <= t) {
                let (j, tau) = (s.neuron as usize, t - s.time.secs());
                let fast = dot(i, j) + if i == j { mu } else { 0.0 };
                let slow = lambda * dot(i, j);
                v += (slow * tau - fast) * (-lambda * tau).exp();
                if j == i {
                    r += (-lambda * tau).exp();
                }
            }
            let err_v = (row[col] - v).abs() / thresholds[i];
            worst = worst.max(err_v);
            assert!(err_v <= 1e-12, "v_{i} at t = {t}: {} vs {v}", row[col]);
            assert!((row[neurons.len() + col] - r).abs() <= 1e-12 * r.max(1.0));
        }
    }
    assert!(worst > 0.0 || spikes.is_empty());
}

#[test]
fn spikes_do_not_depend_on_the_calls() {
    let (_, net) = network(30, 5);
    let input = Signal::constant(&[2.0, 1.0]);
    let mut one = Simulation::builder(net.clone(), input.clone())
        .build()
        .unwrap();
    one.run_until(0.5).unwrap();
    let mut many = Simulation::builder(net, input).build().unwrap();
    for k in 1..=50 {
        many.run_until(k as f64 * 0.01).unwrap();
    }
    assert_eq!(many.time(), 0.5);
    assert_eq!(one.spikes(), many.spikes());
    assert!(!one.spikes().is_empty());
}

#[test]
fn facade_equals_run_model_and_moves_to_a_thread() {
    let path = std::path::Path::new("models/boerlin-oscillator.toml");
    let model = ebnsim::io::model_file::load(path).unwrap();
    let out = ebnsim::run::run_model(&model, &Default::default(), |_| {}).unwrap();
    let sim = Simulation::from_model(&model).build().unwrap();
    let duration = model.simulate.duration;
    let spikes = std::thread::spawn(move || {
        let mut sim = sim;
        sim.run_until(duration).unwrap();
        sim.finish()
    })
    .join()
    .unwrap();
    assert_eq!(spikes.spikes, out.spikes);
    assert_eq!(spikes.readout.unwrap(), out.readout);
}

#[test]
fn bad_monitor_specs_are_errors_naming_the_field() {
    let (_, net) = network(4, 1);
    let spec = |neurons, dt| StateMonitorSpec {
        neurons,
        dt,
        variables: vec![StateVariable::V],
        at_spikes: false,
    };
    let input = Signal::constant(&[0.0, 0.0]);
    let e = Simulation::builder(net.clone(), input.clone())
        .record_state(spec(NeuronSelection::List(vec![4]), 0.1))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("record.state.neurons"), "{e}");
    let e = Simulation::builder(net, input)
        .record_state(spec(NeuronSelection::All, 0.0))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("record.state.dt"), "{e}");
}

#[test]
fn inputs_and_initial_states_that_are_not_finite_are_refused() {
    let (_, net) = network(4, 1);
    for bad in [f64::NAN, f64::INFINITY] {
        let e = Simulation::builder(net.clone(), Signal::constant(&[bad, 0.0]))
            .build()
            .unwrap_err();
        assert_eq!(e.field, "input", "{e}");
        let e = Simulation::builder(net.clone(), Signal::constant(&[0.0, 0.0]))
            .initial_state(&[0.0, bad])
            .build()
            .unwrap_err();
        assert_eq!(e.field, "target.initial", "{e}");
        let mut sim = Simulation::builder(net.clone(), Signal::constant(&[1.0, 0.0]))
            .build()
            .unwrap();
        sim.run_until(0.1).unwrap();
        let e = sim.set_input(Signal::constant(&[bad, 0.0])).unwrap_err();
        assert_eq!(e.field, "input", "{e}");
        sim.run_until(0.2).unwrap(); // the run goes on with the input it had
    }
}

/// `V_i` and `r_i` of the perfect integrator of [`network`] at `t`, from the `spikes` given (all
/// at or before `t`), term by term as in the module doc.
fn closed_form(d: &[Vec<f64>], c: [f64; 2], i: usize, t: f64, spikes: &[Spike]) -> (f64, f64) {
    let (lambda, mu) = (10.0, 1e-4);
    let dot = |i: usize, j: usize| d[0][i] * d[0][j] + d[1][i] * d[1][j];
    let drive = d[0][i] * c[0] + d[1][i] * c[1];
    let mut v = drive / lambda * -(-lambda * t).exp_m1();
    let mut r = 0.0;
    for s in spikes {
        let (j, tau) = (s.neuron as usize, t - s.time.secs());
        let fast = dot(i, j) + if i == j { mu } else { 0.0 };
        v += (lambda * dot(i, j) * tau - fast) * (-lambda * tau).exp();
        if j == i {
            r += (-lambda * tau).exp();
        }
    }
    (v, r)
}

#[test]
fn samples_at_spikes_are_the_values_just_before_the_reset() {
    let n = 20;
    let c = [3.0, -2.0];
    let (d, net) = network(n, 11);
    let thresholds = net.thresholds().to_vec();
    let neurons = vec![3, 0, 7];
    let spec = StateMonitorSpec {
        neurons: NeuronSelection::List(neurons.clone()),
        dt: 0.05,
        variables: vec![StateVariable::R, StateVariable::V],
        at_spikes: true,
    };
    let plain = {
        let mut sim = Simulation::builder(net.clone(), Signal::constant(&c))
            .build()
            .unwrap();
        sim.run_until(1.0).unwrap();
        sim.finish().spikes
    };
    let mut sim = Simulation::builder(net, Signal::constant(&c))
        .record_state(spec)
        .build()
        .unwrap();
    sim.run_until(0.3).unwrap();
    sim.run_until(1.0).unwrap();
    let spikes = sim.spikes().to_vec();
    assert_eq!(
        spikes, plain,
        "sampling at spikes must not change the spikes"
    );
    let state = sim.state().unwrap();
    let at = state.at_spikes.as_ref().expect("at_spikes was asked for");
    let positions: Vec<usize> = (0..spikes.len())
        .filter(|&k| neurons.contains(&(spikes[k].neuron as usize)))
        .collect();
    assert!(
        positions.len() > 10,
        "recorded neurons must fire: {positions:?}"
    );
    assert_eq!(
        at.len(),
        positions.len(),
        "one row per spike of a recorded neuron"
    );
    let m = neurons.len();
    for (row, &k) in positions.iter().enumerate() {
        let (t, j) = (spikes[k].time.secs(), spikes[k].neuron);
        assert_eq!((at.times[row], at.neurons[row]), (t, j));
        let values = &at.values[row * 2 * m..(row + 1) * 2 * m];
        for (col, &i) in neurons.iter().enumerate() {
            // Just before spike k: the spikes fired before it, same-instant ones included.
            let (v, r) = closed_form(&d, c, i, t, &spikes[..k]);
            let scale = thresholds[i];
            assert!(
                (values[m + col] - v).abs() <= 1e-12 * scale,
                "v_{i} at spike {k}: {} vs {v}",
                values[m + col]
            );
            assert!(
                (values[col] - r).abs() <= 1e-12 * r.max(1.0),
                "r_{i} at spike {k}"
            );
            if i == j as usize {
                // A continuous crossing: exactly at threshold, up to rounding.
                assert!(
                    (values[m + col] - scale).abs() <= 1e-12 * scale,
                    "v_{i} at its spike: {}",
                    values[m + col]
                );
            }
        }
    }
}

#[test]
fn kernel_actors_and_stepper_probe_the_same_spikes() {
    use ebnsim::engine::{actors::ActorEngine, kernel::Kernel, Engine};
    use ebnsim::time::Time;
    let (_, net) = network(12, 5);
    let input = Signal::constant(&[2.0, 1.0]);
    let neurons = [5, 1, 8, 2];
    let run = |e: &mut dyn Engine| {
        e.probe_spikes(&neurons).unwrap();
        let mut spikes = Vec::new();
        let mut rows = Vec::new();
        for t in [0.2, 0.5, 1.0] {
            e.run_until(Time::new(t).unwrap(), &mut spikes).unwrap();
            e.take_spike_voltages(&mut rows);
        }
        (spikes, rows)
    };
    let (ks, kr) = run(&mut Kernel::new(net.clone(), input.clone(), &[0.0, 0.0]).unwrap());
    let (as_, ar) = run(&mut ActorEngine::new(net.clone(), input.clone(), &[0.0, 0.0]).unwrap());
    // The two exact engines agree to rounding (they sum in different orders).
    assert_eq!(ks.len(), as_.len());
    for (a, b) in ks.iter().zip(&as_) {
        assert_eq!(a.neuron, b.neuron);
        assert!(
            (a.time.secs() - b.time.secs()).abs() <= 1e-12,
            "{a:?} vs {b:?}"
        );
    }
    let probed = ks
        .iter()
        .filter(|s| neurons.contains(&(s.neuron as usize)))
        .count();
    assert!(probed > 5, "probed neurons must fire: {probed}");
    assert_eq!(kr.len(), probed * neurons.len());
    assert_eq!(ar.len(), kr.len());
    let th = net.thresholds();
    for (k, (a, b)) in kr.iter().zip(&ar).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * th[neurons[k % 4]],
            "row value {k}: {a} vs {b}"
        );
    }
    // The stepper probes the stepped value that crossed: above threshold.
    let cfg = DenseConfig {
        dt: 1e-5,
        ..DenseConfig::default()
    };
    let mut stepper =
        ebnsim::engine::dense::DenseStepper::new(&net, input, &[0.0, 0.0], cfg).unwrap();
    let (ss, sr) = run(&mut stepper);
    let mut k = 0;
    for s in ss.iter().filter(|s| neurons.contains(&(s.neuron as usize))) {
        let col = neurons
            .iter()
            .position(|&i| i == s.neuron as usize)
            .unwrap();
        let v = sr[k * neurons.len() + col];
        assert!(v > th[s.neuron as usize], "stepper: v = {v} at its spike");
        k += 1;
    }
    assert_eq!(sr.len(), k * neurons.len());
    assert!(k > 5);
    let e = Kernel::new(net, Signal::constant(&[0.0, 0.0]), &[0.0, 0.0])
        .unwrap()
        .probe_spikes(&[12]);
    assert!(e.unwrap_err().to_string().contains("record.state.neurons"));
}

#[test]
fn spike_monitor_keeps_the_selected_neurons() {
    let (_, net) = network(20, 3);
    let c = [3.0, -2.0];
    let all = {
        let mut sim = Simulation::builder(net.clone(), Signal::constant(&c))
            .build()
            .unwrap();
        sim.run_until(1.0).unwrap();
        sim.finish().spikes
    };
    let keep = [2, 9, 17];
    let mut sim = Simulation::builder(net.clone(), Signal::constant(&c))
        .record_spikes(NeuronSelection::List(keep.to_vec()))
        .build()
        .unwrap();
    sim.run_until(0.4).unwrap();
    sim.run_until(1.0).unwrap();
    let want: Vec<_> = all
        .iter()
        .copied()
        .filter(|s| keep.contains(&(s.neuron as usize)))
        .collect();
    assert!(!want.is_empty() && want.len() < all.len());
    assert_eq!(sim.spikes(), want.as_slice());
    assert_eq!(
        sim.counters().spikes as usize,
        all.len(),
        "the whole network still runs"
    );
    let e = Simulation::builder(net, Signal::constant(&c))
        .record_spikes(NeuronSelection::List(vec![20]))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("record.spikes.neurons"), "{e}");
}

#[test]
fn the_builder_seed_redraws_the_model() {
    let model =
        ebnsim::io::model_file::load(std::path::Path::new("models/smooth-random-2d.toml")).unwrap();
    let run = |b: SimulationBuilder| {
        let mut sim = b.build().unwrap();
        sim.run_until(0.3).unwrap();
        sim.finish().spikes
    };
    let seeded = run(Simulation::from_model(&model).seed(9));
    let redrawn = model.clone().with_seed(9).unwrap();
    assert_eq!(seeded, run(Simulation::from_model(&redrawn)));
    assert_ne!(seeded, run(Simulation::from_model(&model)));
    assert!(!seeded.is_empty());
    let (_, net) = network(4, 1);
    let e = Simulation::builder(net, Signal::constant(&[0.0, 0.0]))
        .seed(3)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("field `seed`"), "{e}");
}

/// The spikes of `sim` run to `until` in one call, then with the readout sampled every
/// `readout_dt` and a state monitor every `state_dt` (each call of the runner stops the engine
/// at every sample time): they must be the same to the bit.
fn spikes_with_sampling(
    build: &dyn Fn() -> SimulationBuilder,
    until: f64,
    readout_dt: Option<f64>,
    state_dt: Option<f64>,
) -> Vec<Spike> {
    let mut b = build();
    if let Some(dt) = readout_dt {
        b = b.record_readout(dt);
    }
    if let Some(dt) = state_dt {
        b = b.record_state(StateMonitorSpec {
            neurons: NeuronSelection::List(vec![0]),
            dt,
            variables: vec![StateVariable::V],
            at_spikes: false,
        });
    }
    let mut sim = b.build().unwrap();
    sim.run_until(until).unwrap();
    sim.finish().spikes
}

const SAMPLINGS: [(Option<f64>, Option<f64>); 5] = [
    (Some(1e-3), None),
    (Some(1e-4), None),
    (Some(3.7e-5), Some(1.3e-4)),
    (None, Some(0.0123)),
    (Some(0.1), Some(7.7e-6)),
];

/// A voltage that grazes its threshold ([`common::parabola`] with a = 50 /s²).
fn grazing(delta: f64, t_star: f64) -> SimulationBuilder {
    let (net, input, v0) = common::parabola(delta, 50.0, t_star);
    Simulation::builder(net, input).initial_state(&[v0])
}

#[test]
fn sampling_never_changes_spikes_on_grazing_trajectories() {
    for delta in [1e-16, -1e-16, 3e-16, -4e-16, 1e-14, -1e-14, 0.0] {
        for t_star in [0.2, 0.2137, 0.25] {
            let build = || grazing(delta, t_star);
            let plain = spikes_with_sampling(&build, 2.0 * t_star, None, None);
            for (r, s) in SAMPLINGS {
                let sampled = spikes_with_sampling(&build, 2.0 * t_star, r, s);
                assert_eq!(
                    sampled, plain,
                    "δ = {delta}, t* = {t_star}, readout {r:?}, state {s:?}"
                );
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Random EBNs (with and without fast delays and refractoriness, smooth random input):
    /// sampling at any interval gives the spikes of the unsampled run, bit for bit.
    #[test]
    fn sampling_never_changes_spikes(seed in 0u64..1_000_000, delay in proptest::bool::ANY, refractory in proptest::bool::ANY) {
        let build = || {
            let decoder = random_decoder(2, 30, 0.1, true, &mut rng_stream(seed, Stream::Decoder));
            let mut b = NetworkBuilder::new(decoder).lambda_d(10.0).lambda_v(20.0).mu(1e-4);
            if delay {
                b = b.fast_delay(2e-4);
            }
            // (Delayed EBNs without refractoriness run into endless same-instant volleys.)
            if refractory || delay {
                b = b.refractory_period(1e-3);
            }
            let input = Signal::smooth_random(&[0.0, 0.0], 20.0, 0.03, 0.5, &mut rng_stream(seed, Stream::Input)).unwrap();
            Simulation::builder(b.build().unwrap(), input).cascade_limit(1000)
        };
        let plain = spikes_with_sampling(&build, 0.5, None, None);
        proptest::prop_assert!(plain.len() > 20);
        for (r, s) in SAMPLINGS {
            let sampled = spikes_with_sampling(&build, 0.5, r, s);
            let first = (0..plain.len().max(sampled.len())).find(|&k| plain.get(k) != sampled.get(k));
            proptest::prop_assert!(
                first.is_none(),
                "readout {:?}, state {:?}: spike {:?} differs: {:?} vs {:?} ({} vs {} spikes)",
                r, s, first, first.and_then(|k| plain.get(k)), first.and_then(|k| sampled.get(k)),
                plain.len(), sampled.len()
            );
        }
    }
}
