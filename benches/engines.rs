//! Criterion benchmarks of the engines on the Boerlin damped oscillator (d = 2).
//!
//! Run with `cargo bench --bench engines` (about 1.5 minutes; most of it is the dense
//! dt = 1e-6 runs, the per-neuron N = 1e4 runs and building the N = 1e6 kernel). Filter with e.g.
//! `cargo bench --bench engines -- exact_per_spike`. Every timed iteration runs a freshly built
//! (or cloned) engine, built outside the timing, for 1 s simulated; the throughput is spikes per
//! second of wall time. See BENCHMARKS.md for results and `examples/compare_engines.rs` for the
//! one-run comparison table.

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ebnsim::engine::dense::{DenseConfig, DenseStepper, Integrator, SpikeRule};
use ebnsim::engine::kernel::{Kernel, Layout};
use ebnsim::engine::{Engine, Spike};
use ebnsim::io::model_file::{self, Model};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::signal::Signal;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// Simulated time per iteration, s.
const DURATION: f64 = 1.0;
const X0: [f64; 2] = [0.0, 0.0];

/// The Boerlin oscillator (A = [[−4.8, −22.4], [40, 0]], λ_d = 10, λ_V = 20, μ = 1e-6, decoder
/// columns of norm 0.1) with `n` neurons; N = 40 is `models/boerlin-oscillator.toml`.
fn network(n: usize) -> Network {
    let mut rng = rng_stream(7, Stream::Decoder);
    NetworkBuilder::new(random_decoder(2, n, 0.1, true, &mut rng))
        .lambda_d(10.0)
        .lambda_v(20.0)
        .mu(1e-6)
        .linear_dynamics(vec![vec![-4.8, -22.4], vec![40.0, 0.0]])
        .build()
        .expect("valid network")
}

/// The kick: 50 /s along x₀ from 50 ms to 100 ms.
fn input() -> Signal {
    Signal::piecewise_constant(
        2,
        &[0.0, 0.05, 0.1],
        &[vec![0.0, 0.0], vec![50.0, 0.0], vec![0.0, 0.0]],
    )
    .expect("valid input")
}

/// Runs a fresh engine for `DURATION`; returns the spike count.
fn run<E: Engine>(mut engine: E) -> usize {
    let mut spikes: Vec<Spike> = Vec::with_capacity(4096);
    engine
        .run_until(Time::from_secs(DURATION), &mut spikes)
        .expect("simulation runs");
    black_box(&spikes);
    spikes.len()
}

fn exact(net: &Network) -> Kernel {
    Kernel::new(net.clone(), input(), &X0).expect("valid kernel")
}

fn dense(net: &Network, dt: f64) -> DenseStepper {
    let cfg = DenseConfig {
        dt,
        integrator: Integrator::Exponential,
        spike_rule: SpikeRule::OnePerStep,
    };
    DenseStepper::new(net, input(), &X0, cfg).expect("valid stepper")
}

// Motivation: the Boerlin oscillator with its kick at four decades of N (the default layout:
// shared state for these low-rank networks, O(d) per event and a decoder-cone hierarchy for the
// crossing search, about O(log N)). At N ≤ 400 the fixed per-event costs dominate; at larger N
// the search's descent and cache misses once the hierarchy leaves L2. Its spike count (≈ 320)
// is small; `exact_per_spike` is the fixed-spike-count scaling benchmark.
fn exact_boerlin(c: &mut Criterion) {
    let mut group = c.benchmark_group("exact_boerlin");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    for n in [40usize, 400, 4000, 40_000] {
        let net = network(n);
        let spikes = run(exact(&net));
        group.throughput(Throughput::Elements(spikes as u64));
        // Short warm-up and a 5 s target for the larger sizes (they took seconds per iteration
        // in the O(N·d) per-neuron layout; criterion never takes fewer than one iteration per
        // sample).
        let (warm, measure) = match n {
            40 | 400 => (Duration::from_millis(500), Duration::from_secs(3)),
            _ => (Duration::from_millis(1), Duration::from_secs(5)),
        };
        group.warm_up_time(warm);
        group.measurement_time(measure);
        group.bench_with_input(BenchmarkId::from_parameter(n), &net, |b, net| {
            b.iter_batched(|| exact(net), run, BatchSize::PerIteration)
        });
    }
    group.finish();
}

/// The N = 1e6 scaling model; smaller N replace its `neurons`.
const SMOOTH_1M: &str = include_str!("../models/smooth-random-2d-1m.toml");

/// `models/smooth-random-2d-1m.toml` (decoder norm 0.03, smooth random input, 1 s) with `n`
/// neurons.
fn smooth_model(n: usize) -> Model {
    let text = SMOOTH_1M.replacen("neurons = 1000000", &format!("neurons = {n}"), 1);
    model_file::parse(&text, Path::new("models/smooth-random-2d-1m.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

// Motivation: the exact kernel's cost per spike against N at a fixed spike count. The model is
// `models/smooth-random-2d-1m.toml` (Boerlin oscillator, smooth random input, decoder columns of
// norm 0.03) with N = 1e2 … 1e6: with the decoder norm fixed each spike moves the readout by the
// same amount, so the spike count stays at ≈ 1300–1500 whatever N, and spikes/s is the inverse
// cost per spike. The shared-state layout (the default for this network) promises O(d) per
// event and about O(log N) per crossing search: throughput should fall slowly with N (cache
// misses in the hierarchy at large N). The per-neuron layout (`Layout::PerNeuron`, O(N·d) per
// event) runs up to N = 1e4 as the comparison. The kernel is built (N = 1e6: about a second,
// the hierarchy's construction) once per size outside the timing and cloned for every
// iteration; N = 1e6 and per-neuron N = 1e4 take 10 samples of one iteration each.
fn exact_per_spike(c: &mut Criterion) {
    let mut group = c.benchmark_group("exact_per_spike");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    for n in [100usize, 1_000, 10_000, 100_000, 1_000_000] {
        let model = smooth_model(n);
        let layouts: &[Layout] = if n <= 10_000 {
            &[Layout::Shared, Layout::PerNeuron]
        } else {
            &[Layout::Shared]
        };
        for &layout in layouts {
            let mut kernel = Kernel::new(
                model.network.clone(),
                model.input.clone(),
                &model.target.initial,
            )
            .expect("valid kernel");
            if layout != Layout::Shared {
                kernel.set_layout(layout);
            }
            assert_eq!(kernel.uses_shared_state(), layout == Layout::Shared);
            let spikes = run(kernel.clone());
            group.throughput(Throughput::Elements(spikes as u64));
            let slow = n >= 1_000_000 || (layout == Layout::PerNeuron && n >= 10_000);
            let (warm, measure) = if slow {
                (Duration::from_millis(1), Duration::from_secs(1))
            } else {
                (Duration::from_millis(500), Duration::from_secs(3))
            };
            group.warm_up_time(warm);
            group.measurement_time(measure);
            let name = if layout == Layout::Shared {
                "shared"
            } else {
                "per_neuron"
            };
            group.bench_with_input(BenchmarkId::new(name, n), &kernel, |b, k| {
                b.iter_batched(|| k.clone(), run, BatchSize::PerIteration)
            });
        }
    }
    group.finish();
}

// Motivation: what the grid costs. The dense stepper does O(N·d) work every step whether or not
// anyone spikes, so its wall time is ∝ N/dt; dt = 1e-4 is the community's choice (cheap but
// first-order inaccurate spike times), dt = 1e-6 is what it takes to approach the exact
// kernel's spike times (10⁶ steps per simulated second). Compared with `exact_boerlin` at the
// same N this gives the exact-vs-dense speed ratio. dt = 1e-6 keeps the sample count minimal.
fn dense_boerlin(c: &mut Criterion) {
    let mut group = c.benchmark_group("dense_boerlin");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    for dt in [1e-4, 1e-6] {
        for n in [40usize, 400] {
            let net = network(n);
            let spikes = run(dense(&net, dt));
            group.throughput(Throughput::Elements(spikes as u64));
            // dt = 1e-6 at N = 400 takes seconds per iteration: 10 samples of one iteration.
            let (warm, measure) = if dt < 1e-5 {
                (Duration::from_millis(1), Duration::from_secs(3))
            } else {
                (Duration::from_millis(500), Duration::from_secs(3))
            };
            group.warm_up_time(warm);
            group.measurement_time(measure);
            let id = BenchmarkId::new(format!("dt={dt:e}"), n);
            group.bench_with_input(id, &net, |b, net| {
                b.iter_batched(|| dense(net, dt), run, BatchSize::PerIteration)
            });
        }
    }
    group.finish();
}

criterion_group!(benches, exact_boerlin, exact_per_spike, dense_boerlin);
criterion_main!(benches);
