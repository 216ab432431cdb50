//! Exact kernel vs dense stepper on the Boerlin damped oscillator: wall time, spikes, memory.
//!
//! What it demonstrates, in one run on one machine (so the ratios are meaningful even where the
//! absolute numbers are not):
//!
//! 1. **The exact kernel scales as O(N) per spike.** For N = 40, 400, 4000 and 40000 neurons it
//!    simulates 1 s of the damped oscillator of Boerlin et al. 2013 (A = [[−4.8, −22.4],
//!    [40, 0]], λ_d = 10, λ_V = 20, μ = 1e-6, decoder columns of norm 0.1, a 50 /s kick along
//!    x₀ from 50 to 100 ms) and prints the wall time, the spikes, ns per spike and ns per spike
//!    per neuron — the last should stay roughly constant across N.
//! 2. **The grid is expensive.** For N = 400 it runs the dense reference stepper at the
//!    community's dt = 0.1 ms and at dt = 1 µs (forward Euler and exact exponential
//!    propagators, one spike per step) and prints the wall-time ratio dense(dt = 1 µs) / exact,
//!    with each engine's readout RMSE against the exact target trajectory.
//! 3. **Memory is O(N·d).** It re-invokes itself as a child process (`--only-exact 40000`) and
//!    reads the child's peak resident set (`VmHWM` in `/proc/self/status`), so the number is
//!    not polluted by the other runs.
//!
//! It ends with assertions on these three claims (ratio ≥ 20, peak RSS < 100 MB, ns per spike
//! per neuron within a factor 5 over N ≥ 400).
//!
//! Run it with
//!
//! ```text
//! cargo run --release --example compare_engines            # median of 3 repetitions
//! cargo run --release --example compare_engines -- --quick # one repetition each
//! ```
//!
//! Timings are wall-clock (`std::time::Instant`) around one `run_until(1 s)` call, excluding
//! network construction; the readout RMSE comes from a separate, untimed run sampled every
//! 1 ms. The N = 40 network is the shipped `models/boerlin-oscillator.toml` (same seed, same
//! random stream); larger N draw more columns from the same stream.

use ebnsim::engine::counters::Counters;
use ebnsim::engine::dense::{DenseConfig, DenseStepper, Integrator, SpikeRule};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::{Engine, Spike};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::signal::Signal;
use ebnsim::model::teacher::LinearTeacher;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;
use std::process::Command;
use std::time::Instant;

/// The model file's seed (decoder drawn from its `Decoder` stream).
const SEED: u64 = 7;
/// Simulated time, s.
const DURATION: f64 = 1.0;
/// Readout sampling interval for the RMSE, s.
const READOUT_DT: f64 = 1e-3;
/// Network sizes for the exact kernel.
const SIZES: [usize; 4] = [40, 400, 4000, 40_000];
/// Network size of the dense comparison.
const DENSE_N: usize = 400;
/// The x₀ = 0 initial state.
const X0: [f64; 2] = [0.0, 0.0];

fn dynamics() -> Vec<Vec<f64>> {
    vec![vec![-4.8, -22.4], vec![40.0, 0.0]]
}

/// The Boerlin oscillator network with `n` neurons.
fn network(n: usize) -> Network {
    let mut rng = rng_stream(SEED, Stream::Decoder);
    NetworkBuilder::new(random_decoder(2, n, 0.1, true, &mut rng))
        .lambda_d(10.0)
        .lambda_v(20.0)
        .mu(1e-6)
        .linear_dynamics(dynamics())
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

fn exact(net: Network) -> Kernel {
    Kernel::new(net, input(), &X0).expect("valid kernel")
}

fn dense(net: &Network, dt: f64, integrator: Integrator) -> DenseStepper {
    let cfg = DenseConfig {
        dt,
        integrator,
        spike_rule: SpikeRule::OnePerStep,
    };
    DenseStepper::new(net, input(), &X0, cfg).expect("valid stepper")
}

/// One timed run: median wall time, spikes and the engine's counters.
struct Timing {
    /// Median wall time of `run_until(DURATION)`, s.
    secs: f64,
    spikes: usize,
    counters: Counters,
}

/// One timed `run_until(DURATION)` of a freshly built engine.
fn time_once<E: Engine>(mut engine: E) -> Timing {
    let mut spikes: Vec<Spike> = Vec::with_capacity(1 << 16);
    let start = Instant::now();
    engine
        .run_until(Time::from_secs(DURATION), &mut spikes)
        .expect("simulation runs");
    Timing {
        secs: start.elapsed().as_secs_f64(),
        spikes: spikes.len(),
        counters: engine.counters(),
    }
}

/// Median wall time over `reps` fresh runs (the engines are deterministic: every repetition
/// must produce the same spike count).
fn median_time<E: Engine>(reps: usize, mut make: impl FnMut() -> E) -> Timing {
    let mut runs: Vec<Timing> = (0..reps.max(1)).map(|_| time_once(make())).collect();
    assert!(
        runs.iter().all(|r| r.spikes == runs[0].spikes),
        "non-deterministic spike count"
    );
    runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    runs.swap_remove(runs.len() / 2)
}

/// Readout RMSE against the exact target, sampled every `READOUT_DT` (untimed).
fn readout_rmse<E: Engine>(mut engine: E) -> f64 {
    let teacher = LinearTeacher::new(&dynamics().concat(), &X0, &input()).expect("teacher");
    let samples = (DURATION / READOUT_DT).round() as usize;
    let (mut xhat, mut x) = ([0.0; 2], [0.0; 2]);
    let (mut est, mut tgt) = (Vec::new(), Vec::new());
    let mut spikes = Vec::new();
    for k in 0..=samples {
        let t = k as f64 * READOUT_DT;
        engine
            .run_until(Time::from_secs(t), &mut spikes)
            .expect("simulation runs");
        engine.readout(&mut xhat);
        teacher.state_at(t, &mut x);
        est.extend_from_slice(&xhat);
        tgt.extend_from_slice(&x);
    }
    ebnsim::analysis::metrics::rmse(&est, &tgt)
}

/// This process's peak resident set size (`VmHWM`), KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Child mode: one exact run of `n` neurons; prints `spikes=.. hwm_before_kib=.. hwm_kib=..`.
fn only_exact(n: usize) {
    let before = vm_hwm_kib().unwrap_or(0);
    let run = time_once(exact(network(n)));
    let after = vm_hwm_kib().unwrap_or(0);
    println!(
        "spikes={} secs={} hwm_before_kib={before} hwm_kib={after}",
        run.spikes, run.secs
    );
}

/// Runs `--only-exact n` in a child process: (peak RSS KiB, RSS KiB before building, spikes).
fn child_peak(n: usize) -> (u64, u64, usize) {
    let exe = std::env::current_exe().expect("own executable");
    let out = Command::new(exe)
        .args(["--only-exact", &n.to_string()])
        .output()
        .expect("child runs");
    assert!(out.status.success(), "child failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| -> u64 {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("child output lacks {key}: {text}"))
    };
    (
        field("hwm_kib="),
        field("hwm_before_kib="),
        field("spikes=") as usize,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(pos) = args.iter().position(|a| a == "--only-exact") {
        let n = args
            .get(pos + 1)
            .and_then(|s| s.parse().ok())
            .expect("--only-exact N");
        only_exact(n);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let reps = if quick { 1 } else { 3 };

    println!("Boerlin damped oscillator, d = 2, {DURATION} s simulated, median of {reps} run(s)\n");

    // Peak memory first, in a child process, so nothing else this process allocates counts.
    let big = *SIZES.last().expect("sizes");
    let (hwm, hwm_before, big_spikes) = child_peak(big);

    println!("Exact kernel");
    println!(
        "{:>7} {:>10} {:>7} {:>11} {:>10} {:>8} {:>9} {:>8}",
        "N", "wall (ms)", "spikes", "ns/spike", "ns/sp/neu", "RMSE", "searched", "roots/sp"
    );
    let mut per_neuron = Vec::new();
    let mut exact_400 = f64::NAN;
    for &n in &SIZES {
        let net = network(n);
        let run = median_time(reps, || exact(net.clone()));
        let ns_spike = run.secs * 1e9 / run.spikes as f64;
        let ns_spike_neuron = ns_spike / n as f64;
        // The readout RMSE costs as much again; skip it for the largest network.
        let rmse = if n <= 4000 {
            format!("{:.4}", readout_rmse(exact(net)))
        } else {
            "-".to_string()
        };
        let c = run.counters;
        // Share of neuron-intervals the cheap bound could not exclude (certified search run).
        let searched = c.searches as f64 / (c.searches + c.proven_absent) as f64;
        let roots = c.root_solves as f64 / run.spikes as f64;
        println!(
            "{n:>7} {:>10.2} {:>7} {ns_spike:>11.0} {ns_spike_neuron:>10.1} {rmse:>8} {:>8.0}% {roots:>8.1}",
            run.secs * 1e3,
            run.spikes,
            searched * 100.0
        );
        if n >= 400 {
            per_neuron.push(ns_spike_neuron);
        }
        if n == DENSE_N {
            exact_400 = run.secs;
        }
    }

    println!("\nDense stepper, N = {DENSE_N}, one spike per step");
    println!(
        "{:>7} {:>12} {:>10} {:>7} {:>8} {:>13}",
        "dt (s)", "integrator", "wall (ms)", "spikes", "RMSE", "wall / exact"
    );
    let net = network(DENSE_N);
    let mut fine_ratios = Vec::new();
    for dt in [1e-4, 1e-6] {
        for (name, integ) in [
            ("euler", Integrator::Euler),
            ("exponential", Integrator::Exponential),
        ] {
            let run = median_time(reps, || dense(&net, dt, integ));
            let rmse = readout_rmse(dense(&net, dt, integ));
            let ratio = run.secs / exact_400;
            println!(
                "{dt:>7.0e} {name:>12} {:>10.2} {:>7} {rmse:>8.4} {ratio:>13.1}",
                run.secs * 1e3,
                run.spikes
            );
            if dt == 1e-6 {
                fine_ratios.push(ratio);
            }
        }
    }

    let hwm_mb = hwm as f64 * 1024.0 / 1e6;
    println!(
        "\nPeak RSS (VmHWM) of a separate exact run, N = {big}: {hwm_mb:.1} MB \
         ({:.1} MB before building the network; {big_spikes} spikes)",
        hwm_before as f64 * 1024.0 / 1e6
    );

    let spread = per_neuron.iter().copied().fold(f64::MIN, f64::max)
        / per_neuron.iter().copied().fold(f64::MAX, f64::min);
    let min_ratio = fine_ratios.iter().copied().fold(f64::MAX, f64::min);
    let checks = [
        (
            format!(
                "dense(dt = 1e-6) / exact wall time at N = {DENSE_N}: {min_ratio:.1} \
                 (min over integrators; want >= 20)"
            ),
            min_ratio >= 20.0,
        ),
        (
            format!("peak RSS at N = {big}: {hwm_mb:.1} MB (want < 100)"),
            hwm_mb < 100.0,
        ),
        (
            format!("ns/spike/neuron max/min over N >= 400: {spread:.2} (want < 5)"),
            spread < 5.0,
        ),
    ];
    println!("\nChecks");
    for (what, ok) in &checks {
        println!("  {} {what}", if *ok { "ok  " } else { "FAIL" });
    }
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(w, _)| w.as_str())
        .collect();
    assert!(failed.is_empty(), "checks failed: {failed:?}");
    println!("  all hold");
}
