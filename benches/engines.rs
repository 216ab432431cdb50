//! Criterion benchmarks of the engines on the Boerlin damped oscillator (d = 2).
//!
//! Run with `cargo bench --bench engines` (a few minutes; most of it is the N = 40000 exact run
//! and the dt = 1e-6 dense runs). Filter with e.g. `cargo bench --bench engines -- exact_boerlin`.
//! Every timed iteration builds a fresh engine outside the timing and simulates 1 s; the
//! throughput is spikes per second of wall time. See BENCHMARKS.md for results and
//! `examples/compare_engines.rs` for the one-run comparison table.

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ebnsim::engine::dense::{DenseConfig, DenseStepper, Integrator, SpikeRule};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::{Engine, Spike};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::signal::Signal;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;
use std::hint::black_box;
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

// Motivation: the exact kernel's cost per spike should be O(N·d) — one low-rank column update
// and one bound check per neuron (docs/architecture.md §6) — so wall time per 1 s simulated should grow
// linearly in N at a roughly constant spike count, and the throughput (spikes/s) should fall as
// 1/N. Four decades of N expose any superlinear term (sorting, per-candidate root solves, cache
// misses once the state leaves L2). Samples are few: one N = 40000 iteration takes seconds.
fn exact_boerlin(c: &mut Criterion) {
    let mut group = c.benchmark_group("exact_boerlin");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    for n in [40usize, 400, 4000, 40_000] {
        let net = network(n);
        let spikes = run(exact(&net));
        group.throughput(Throughput::Elements(spikes as u64));
        // Criterion never takes fewer than one iteration per sample, so the slow sizes run
        // 10 iterations (plus one warm-up) whatever the target and print a "unable to complete
        // 10 samples" note; the short target caps the time once the kernel gets faster.
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

criterion_group!(benches, exact_boerlin, dense_boerlin);
criterion_main!(benches);
