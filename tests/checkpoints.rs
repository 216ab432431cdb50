//! Checkpoints of a simulation: saved at any moment, restored, continued — the same spikes,
//! readout and state samples to the bit as the run that went on, on every engine and layout.

use ebnsim::io::model_file;
use ebnsim::monitor::{NeuronSelection, StateMonitorSpec, StateVariable};
use ebnsim::prelude::*;

fn model(text: &str) -> ebnsim::io::model_file::Model {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.toml");
    std::fs::write(&p, text).unwrap();
    model_file::load(&p).unwrap()
}

/// What a run recorded, as bits.
fn record(sim: &Simulation) -> (Vec<(u64, u32)>, Vec<u64>, Vec<u64>) {
    let spikes = sim
        .spikes()
        .iter()
        .map(|s| (s.time.secs().to_bits(), s.neuron))
        .collect();
    let readout = sim.readout().map_or(Vec::new(), |r| {
        r.xhat
            .iter()
            .chain(r.x.iter().flatten())
            .map(|v| v.to_bits())
            .collect()
    });
    let state = sim.state().map_or(Vec::new(), |s| {
        s.values
            .iter()
            .chain(s.at_spikes.iter().flat_map(|a| a.values.iter()))
            .map(|v| v.to_bits())
            .collect()
    });
    (spikes, readout, state)
}

/// Runs `build()` to `end` straight, and again with a checkpoint at each of `stops`, restored
/// from its bytes each time (the original dropped); the records must be equal to the bit.
fn check(
    name: &str,
    build: impl Fn() -> Simulation,
    stops: &[f64],
    end: f64,
) -> ebnsim::engine::counters::Counters {
    let mut straight = build();
    straight.run_until(end).unwrap();
    let mut sim = build();
    for &t in stops {
        sim.run_until(t).unwrap();
        let bytes = sim.checkpoint();
        drop(sim);
        sim = Simulation::from_checkpoint(&bytes).unwrap();
        assert_eq!(sim.time(), t, "{name}");
    }
    sim.run_until(end).unwrap();
    let (a, b) = (record(&straight), record(&sim));
    assert!(!a.0.is_empty(), "{name}: no spikes");
    assert_eq!(a.0, b.0, "{name}: spikes differ");
    assert_eq!(a.1, b.1, "{name}: readout differs");
    assert_eq!(a.2, b.2, "{name}: state differs");
    assert_eq!(
        straight.counters(),
        sim.counters(),
        "{name}: counters differ"
    );
    sim.counters()
}

const STOPS: [f64; 4] = [0.0, 0.137, 0.5000001, 0.73];

#[test]
fn exact_per_neuron_with_a_state_monitor_and_a_spike_filter() {
    let m = model(&std::fs::read_to_string("models/boerlin-oscillator.toml").unwrap());
    let build = || {
        Simulation::from_model(&m)
            .record_state(StateMonitorSpec {
                neurons: NeuronSelection::List(vec![3, 0, 17]),
                dt: 0.0037,
                variables: vec![StateVariable::V, StateVariable::R],
                at_spikes: true,
            })
            .record_spikes(NeuronSelection::List((0..40).step_by(3).collect()))
            .build()
            .unwrap()
    };
    let _ = check("oscillator", build, &STOPS, 1.0);
}

#[test]
fn dense_stepper() {
    let m = model(&std::fs::read_to_string("models/smooth-random-2d.toml").unwrap());
    let build = || {
        Simulation::from_model(&m)
            .engine(EngineChoice::Dense(m.simulate.dense))
            .build()
            .unwrap()
    };
    let _ = check("dense", build, &STOPS, 1.0);
}

#[test]
fn shared_state_layout_with_a_random_input() {
    // 1200 neurons: the automatic layout runs the shared-state one (N ≥ 1024).
    let text = std::fs::read_to_string("models/smooth-random-2d.toml")
        .unwrap()
        .replace("neurons = 40 ", "neurons = 1200 ")
        .replace("scale = 0.1", "scale = 0.02");
    let m = model(&text);
    assert_eq!(m.network.neurons(), 1200);
    let build = || Simulation::from_model(&m).build().unwrap();
    let counters = check("shared", build, &[0.05, 0.2, 0.2001, 0.31], 0.4);
    assert!(counters.bound_steps > 0, "not the shared-state layout");
}

#[test]
fn fast_delays_and_refractoriness_in_flight() {
    let text = std::fs::read_to_string("models/boerlin-oscillator.toml")
        .unwrap()
        .replace(
            "[network]\n",
            "[network]\nfast_delay = 3e-4\nrefractory_period = 2e-3\n",
        );
    let m = model(&text);
    let build = || Simulation::from_model(&m).build().unwrap();
    // Stops right after spikes, with deliveries in flight and neurons refractory.
    let mut probe = build();
    probe.run_until(0.3).unwrap();
    let t = probe.spikes()[probe.spikes().len() / 2].time.secs();
    let _ = check("delays", build, &[t, t + 1e-4, 0.6], 1.0);
}

#[test]
fn a_checkpoint_of_another_kind_is_refused() {
    assert!(Simulation::from_checkpoint(b"not a checkpoint").is_err());
    let m = model(&std::fs::read_to_string("models/boerlin-oscillator.toml").unwrap());
    let mut sim = Simulation::from_model(&m).build().unwrap();
    sim.run_until(0.1).unwrap();
    let mut bytes = sim.checkpoint();
    let k = bytes.len() / 2;
    bytes[k] ^= 0x40;
    let err = Simulation::from_checkpoint(&bytes).unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
}
