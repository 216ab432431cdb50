//! The absolute refractory period: closed forms for both modes on every engine, clamped voltages
//! that really are held, networks that cascade without it and run with it, and model files.

use ebnsim::engine::actors::ActorEngine;
use ebnsim::engine::dense::{DenseConfig, DenseStepper};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::{Engine, Spike};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::refractory::RefractoryMode;
use ebnsim::model::signal::Signal;
use ebnsim::prelude::*;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;

/// A leaky integrate-and-fire neuron: d = N = 1, decoder 0.1, leak λ = 10 /s, no slow weight,
/// reset 0.01, threshold 0.005, constant drive `I = 0.1 · 2 = 0.2` /s. Free crossing time from
/// `v0`: `t*(v0) = ln((v0 − I/λ) / (T − I/λ)) / λ`.
const LAMBDA: f64 = 10.0;
const I: f64 = 0.2;
const T: f64 = 0.005;
const RESET: f64 = 0.01;

fn lif(tau: f64, mode: RefractoryMode) -> Network {
    NetworkBuilder::new(vec![vec![0.1]])
        .lambda_d(LAMBDA)
        .fast_weights(vec![vec![RESET]])
        .slow_weights(vec![vec![0.0]])
        .refractory_period(tau)
        .refractory_mode(mode)
        .build()
        .unwrap()
}

fn free_crossing(v0: f64) -> f64 {
    ((v0 - I / LAMBDA) / (T - I / LAMBDA)).ln() / LAMBDA
}

fn spikes_of(e: &mut dyn Engine, until: f64) -> Vec<f64> {
    let mut spikes = Vec::new();
    e.run_until(Time::new(until).unwrap(), &mut spikes).unwrap();
    spikes.iter().map(|s| s.time.secs()).collect()
}

/// Spike `k` (0-based) of the LIF: the first from V = 0, then one per `isi`.
fn expected(k: usize, isi: f64) -> f64 {
    free_crossing(0.0) + k as f64 * isi
}

#[test]
fn both_modes_match_closed_forms_on_both_exact_engines() {
    let free = free_crossing(T - RESET); // 0.0511 s from the reset value
    let cases = [
        // clamp: held for τ, then a free crossing from the reset value
        (0.01, RefractoryMode::Clamp, 0.01 + free),
        (0.2, RefractoryMode::Clamp, 0.2 + free),
        // hold: the free crossing when it comes after the period, else the period's end
        (0.03, RefractoryMode::Hold, free),
        (0.08, RefractoryMode::Hold, 0.08),
    ];
    for (tau, mode, isi) in cases {
        let net = lif(tau, mode);
        let input = Signal::constant(&[2.0]);
        for (name, spikes) in [
            (
                "kernel",
                spikes_of(
                    &mut Kernel::new(net.clone(), input.clone(), &[0.0]).unwrap(),
                    2.0,
                ),
            ),
            (
                "actors",
                spikes_of(
                    &mut ActorEngine::new(net.clone(), input.clone(), &[0.0]).unwrap(),
                    2.0,
                ),
            ),
        ] {
            let n = ((2.0 - expected(0, isi)) / isi).floor() as usize + 1;
            assert_eq!(spikes.len(), n, "{name} τ = {tau} {mode:?}: {spikes:?}");
            for (k, &t) in spikes.iter().enumerate() {
                let want = expected(k, isi);
                assert!(
                    (t - want).abs() <= 1e-12 * (k + 1) as f64,
                    "{name} τ = {tau} {mode:?}, spike {k}: {t} vs {want}"
                );
            }
        }
    }
}

#[test]
fn the_dense_stepper_converges_to_the_refractory_closed_forms() {
    for (tau, mode, isi) in [
        (0.01, RefractoryMode::Clamp, 0.01 + free_crossing(T - RESET)),
        (0.08, RefractoryMode::Hold, 0.08),
    ] {
        let net = lif(tau, mode);
        let err = |dt: f64| {
            let cfg = DenseConfig {
                dt,
                ..DenseConfig::default()
            };
            let mut s = DenseStepper::new(&net, Signal::constant(&[2.0]), &[0.0], cfg).unwrap();
            let spikes = spikes_of(&mut s, 1.0);
            let n = ((1.0 - expected(0, isi)) / isi).floor() as usize + 1;
            assert_eq!(spikes.len(), n, "dt = {dt} τ = {tau} {mode:?}");
            spikes
                .iter()
                .enumerate()
                .map(|(k, &t)| (t - expected(k, isi)).abs())
                .fold(0.0, f64::max)
        };
        let (coarse, fine) = (err(1e-4), err(1e-6));
        // Each spike is late by up to a step, and each period starts from a late spike: the
        // error grows by O(dt) per interval (about 20 intervals here).
        assert!(
            fine <= 20.0 * 1e-6,
            "τ = {tau} {mode:?}: error {fine} s at dt = 1e-6"
        );
        assert!(
            fine < coarse / 20.0,
            "τ = {tau} {mode:?}: {coarse} → {fine}"
        );
    }
}

/// A 2-D EBN of `n` neurons with random decoders, λ_V = λ_d, a fast delay and a busy input.
fn antipodal_delayed(n: usize, tau: f64, mode: RefractoryMode) -> (Network, Signal) {
    let decoder = random_decoder(2, n, 0.1, true, &mut rng_stream(3, Stream::Decoder));
    let net = NetworkBuilder::new(decoder)
        .lambda_d(10.0)
        .mu(1e-6)
        .fast_delay(1.25e-4)
        .refractory_period(tau)
        .refractory_mode(mode)
        .build()
        .unwrap();
    let input = Signal::smooth_random(
        &[0.0, 0.0],
        30.0,
        0.02,
        1.0,
        &mut rng_stream(3, Stream::Input),
    )
    .unwrap();
    (net, input)
}

#[test]
fn a_delayed_antipodal_network_cascades_without_refractoriness_and_runs_with_it() {
    let (net, input) = antipodal_delayed(400, 0.0, RefractoryMode::Clamp);
    let mut k = Kernel::new(net, input, &[0.0, 0.0]).unwrap();
    let mut spikes = Vec::new();
    let e = k.run_until(Time::new(1.0).unwrap(), &mut spikes);
    assert!(
        e.is_err(),
        "expected a runaway cascade without refractoriness"
    );
    for mode in [RefractoryMode::Clamp, RefractoryMode::Hold] {
        let (net, input) = antipodal_delayed(400, 2e-3, mode);
        let mut sim = Simulation::builder(net, input)
            .record_readout(1e-3)
            .build()
            .unwrap();
        sim.run_until(1.0).unwrap();
        let spikes = sim.spikes();
        assert!(spikes.len() > 100, "{mode:?}: {} spikes", spikes.len());
        // Refractoriness bounds every neuron's rate by 1/τ and stops same-instant volleys.
        let longest = sim.counters().longest_cascade;
        assert!(longest < 400, "{mode:?}: a cascade of {longest}");
        let mut last = vec![f64::NEG_INFINITY; 400];
        for s in spikes {
            let (i, t) = (s.neuron as usize, s.time.secs());
            assert!(t - last[i] >= 2e-3 - 1e-15, "{mode:?}: neuron {i} refired");
            last[i] = t;
        }
    }
}

#[test]
fn clamped_voltages_are_held_at_their_post_reset_value() {
    let decoder = random_decoder(2, 30, 0.1, true, &mut rng_stream(8, Stream::Decoder));
    let net = NetworkBuilder::new(decoder)
        .lambda_d(10.0)
        .mu(1e-4)
        .refractory_period(4e-3)
        .build()
        .unwrap();
    let resets: Vec<f64> = (0..30).map(|i| net.fast_weight(i, i)).collect();
    let neurons: Vec<usize> = (0..30).collect();
    let mut sim = Simulation::builder(net, Signal::constant(&[4.0, -3.0]))
        .record_state(StateMonitorSpec {
            neurons: NeuronSelection::List(neurons),
            dt: 1.7e-4,
            variables: vec![StateVariable::V],
            at_spikes: true,
        })
        .build()
        .unwrap();
    sim.run_until(0.5).unwrap();
    let spikes: Vec<Spike> = sim.spikes().to_vec();
    let state = sim.state().unwrap();
    let at = state.at_spikes.as_ref().unwrap();
    let mut checked = 0;
    for (k, s) in spikes.iter().enumerate() {
        let (i, ts) = (s.neuron as usize, s.time.secs());
        let held = at.values[k * 30 + i] - resets[i];
        // Every fixed-time sample strictly inside [ts, ts + τ) holds that value exactly.
        for (row, &t) in state.times.iter().enumerate() {
            if t > ts && t < ts + 4e-3 {
                assert_eq!(state.row(row)[i], held, "neuron {i} at {t} (spike at {ts})");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} samples in periods");
}
