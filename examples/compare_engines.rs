//! Exact kernel vs dense stepper: wall time per spike across N, layouts, memory.
//!
//! What it demonstrates, in one run on one machine (so the ratios are meaningful even where the
//! absolute numbers are not):
//!
//! 1. **The exact kernel's cost per spike barely grows with N** (shared-state layout: O(d) per
//!    event, about O(log N) per crossing search). For N = 1e2 … 1e6 it simulates 1 s of
//!    `models/smooth-random-2d-1m.toml` (the damped oscillator of Boerlin et al. 2013,
//!    A = [[−4.8, −22.4], [40, 0]], λ_d = 10, λ_V = 20, μ = 1e-6, decoder columns of norm 0.03,
//!    a smooth random input; N = 1e6 is that file, smaller N change only `neurons`) and prints
//!    the wall time, the spikes and ns per spike. With the decoder norm fixed the spike count
//!    barely depends on N, so ns per spike is the cost of the network size.
//! 2. **The per-neuron layout is O(N·d) per event.** For N ≤ 1e4 the same runs are repeated with
//!    `Layout::PerNeuron` (the path explicit weights, noise and learning with offsets take), and
//!    the per-neuron / shared wall-time ratio at N = 1e4 is printed.
//! 3. **The grid is expensive.** For N = 400 on the Boerlin oscillator with its kick (decoder
//!    norm 0.1, `models/boerlin-oscillator.toml` at N = 40) it runs the dense reference stepper
//!    at the community's dt = 0.1 ms and at dt = 1 µs (forward Euler and exact exponential
//!    propagators, one spike per step) and prints the wall-time ratio dense(dt = 1 µs) / exact,
//!    with each engine's readout RMSE against the exact target trajectory (the exact kernel in
//!    its default layout, per-neuron at this N, and forced into the shared-state one).
//! 4. **Memory stays small at N = 1e6.** It re-invokes itself as a child process
//!    (`--only-exact 1000000`) and reads the child's peak resident set (`VmHWM` in
//!    `/proc/self/status`), so the number is not polluted by the other runs.
//!
//! It ends with checks of these claims (wall time per spike at N = 1e6 at most 3× that at
//! N = 1e4, per-neuron / shared ≥ 5 at N = 1e4, dense(dt = 1 µs) / exact ≥ 20 at N = 400, peak
//! RSS at N = 1e6 under 1 GB) and exits non-zero if one fails.
//!
//! Run it with
//!
//! ```text
//! cargo run --release --example compare_engines            # median of 3 repetitions
//! cargo run --release --example compare_engines -- --quick # one repetition each
//! ```
//!
//! Timings are wall-clock (`std::time::Instant`) around one `run_until(1 s)` call, excluding
//! network and kernel construction; the readout RMSE comes from a separate, untimed run sampled
//! every 1 ms.

use ebnsim::engine::counters::Counters;
use ebnsim::engine::dense::{DenseConfig, DenseStepper, Integrator, SpikeRule};
use ebnsim::engine::kernel::{Kernel, Layout};
use ebnsim::engine::{Engine, Spike};
use ebnsim::io::model_file::{self, Model};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::signal::Signal;
use ebnsim::model::teacher::LinearTeacher;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The Boerlin model file's seed (decoder drawn from its `Decoder` stream).
const SEED: u64 = 7;
/// Simulated time, s.
const DURATION: f64 = 1.0;
/// Readout sampling interval for the RMSE, s.
const READOUT_DT: f64 = 1e-3;
/// Network sizes for the exact kernel's shared-state layout.
const SIZES: [usize; 5] = [100, 1_000, 10_000, 100_000, 1_000_000];
/// Largest N run in the per-neuron layout too.
const PER_NEURON_MAX: usize = 10_000;
/// The N whose cost per spike the largest one is compared with.
const REF_N: usize = 10_000;
/// Network size of the dense comparison.
const DENSE_N: usize = 400;
/// The x₀ = 0 initial state.
const X0: [f64; 2] = [0.0, 0.0];
/// The N = 1e6 scaling model; smaller N replace its `neurons`.
const SMOOTH_1M: &str = include_str!("../models/smooth-random-2d-1m.toml");
const SMOOTH_FILE: &str = "models/smooth-random-2d-1m.toml";

/// `models/smooth-random-2d-1m.toml` with `n` neurons (the decoder's first columns are the same
/// draws for every N: one stream, drawn in order).
fn smooth_model(n: usize) -> Model {
    let text = SMOOTH_1M.replacen("neurons = 1000000", &format!("neurons = {n}"), 1);
    assert!(
        text != SMOOTH_1M || n == 1_000_000,
        "{SMOOTH_FILE}: no `neurons = 1000000`"
    );
    model_file::parse(&text, Path::new(SMOOTH_FILE)).unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh kernel for `model` in `layout`.
fn smooth_kernel(model: &Model, layout: Layout) -> Kernel {
    let mut k = Kernel::new(
        model.network.clone(),
        model.input.clone(),
        &model.target.initial,
    )
    .expect("valid kernel");
    k.set_layout(layout);
    k
}

fn dynamics() -> Vec<Vec<f64>> {
    vec![vec![-4.8, -22.4], vec![40.0, 0.0]]
}

/// The Boerlin oscillator network with `n` neurons (decoder norm 0.1).
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

/// Readout RMSE against the exact target of `ẋ = A x + c(t)`, sampled every `READOUT_DT`
/// (untimed).
fn readout_rmse<E: Engine>(mut engine: E, a: &[f64], x0: &[f64], input: &Signal) -> f64 {
    let d = x0.len();
    let teacher = LinearTeacher::new(a, x0, input).expect("teacher");
    let samples = (DURATION / READOUT_DT).round() as usize;
    let (mut xhat, mut x) = (vec![0.0; d], vec![0.0; d]);
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

/// Child mode: one exact run of the smooth-random model with `n` neurons (shared-state layout);
/// prints `spikes=.. secs=.. hwm_before_kib=.. hwm_kib=..`.
fn only_exact(n: usize) {
    let before = vm_hwm_kib().unwrap_or(0);
    let model = smooth_model(n);
    let run = time_once(smooth_kernel(&model, Layout::Shared));
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

    println!("{SMOOTH_FILE} (d = 2, decoder norm 0.03), {DURATION} s simulated, median of {reps} run(s)\n");

    // Peak memory first, in a child process, so nothing else this process allocates counts.
    let big = *SIZES.last().expect("sizes");
    let (hwm, hwm_before, big_spikes) = child_peak(big);

    println!("Exact kernel (build: Kernel::new, untimed in the run; per spike: kernel counters)");
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>7} {:>9} {:>7} {:>8} {:>8} {:>8}",
        "N",
        "layout",
        "build (ms)",
        "wall (ms)",
        "spikes",
        "ns/spike",
        "RMSE",
        "search/sp",
        "roots/sp",
        "steps/sp"
    );
    // ns per spike of the shared layout by N, and wall times at REF_N by layout.
    let mut shared_ns = Vec::new();
    let (mut shared_ref, mut per_neuron_ref) = (f64::NAN, f64::NAN);
    for &n in &SIZES {
        let model = smooth_model(n);
        let mut layouts = vec![Layout::Shared];
        if n <= PER_NEURON_MAX {
            layouts.push(Layout::PerNeuron);
        }
        for layout in layouts {
            let start = Instant::now();
            let kernel = smooth_kernel(&model, layout);
            let build = start.elapsed().as_secs_f64();
            assert_eq!(kernel.uses_shared_state(), layout == Layout::Shared);
            let run = median_time(reps, || kernel.clone());
            let rmse = readout_rmse(
                kernel.clone(),
                &model.target.a,
                &model.target.initial,
                &model.input,
            );
            let ns_spike = run.secs * 1e9 / run.spikes as f64;
            let c = run.counters;
            let per = |x: u64| x as f64 / run.spikes as f64;
            let name = if layout == Layout::Shared {
                "shared"
            } else {
                "per-neuron"
            };
            println!(
                "{n:>8} {name:>10} {:>10.1} {:>10.2} {:>7} {ns_spike:>9.0} {rmse:>7.4} {:>9.1} {:>8.1} {:>8.1}",
                build * 1e3,
                run.secs * 1e3,
                run.spikes,
                per(c.searches),
                per(c.root_solves),
                per(c.bound_steps),
            );
            if layout == Layout::Shared {
                shared_ns.push((n, ns_spike));
            }
            if n == REF_N {
                match layout {
                    Layout::Shared => shared_ref = run.secs,
                    _ => per_neuron_ref = run.secs,
                }
            }
        }
    }

    println!(
        "\nDense stepper vs exact kernel (default layout: per-neuron below N = {}), Boerlin \
         oscillator with its kick (decoder norm 0.1), N = {DENSE_N}, one spike per step",
        Layout::AUTO_SHARED_MIN
    );
    println!(
        "{:>7} {:>12} {:>10} {:>7} {:>8} {:>13}",
        "dt (s)", "integrator", "wall (ms)", "spikes", "RMSE", "wall / exact"
    );
    let net = network(DENSE_N);
    let a = dynamics().concat();
    let exact_run = median_time(reps, || exact(net.clone()));
    let exact_rmse = readout_rmse(exact(net.clone()), &a, &X0, &input());
    println!(
        "{:>7} {:>12} {:>10.2} {:>7} {exact_rmse:>8.4} {:>13.1}",
        "-",
        "exact",
        exact_run.secs * 1e3,
        exact_run.spikes,
        1.0
    );
    let shared_run = median_time(reps, || {
        let mut k = exact(net.clone());
        k.set_layout(Layout::Shared);
        k
    });
    println!(
        "{:>7} {:>12} {:>10.2} {:>7} {:>8} {:>13.1}",
        "-",
        "exact shared",
        shared_run.secs * 1e3,
        shared_run.spikes,
        "",
        shared_run.secs / exact_run.secs
    );
    let mut fine_ratios = Vec::new();
    for dt in [1e-4, 1e-6] {
        for (name, integ) in [
            ("euler", Integrator::Euler),
            ("exponential", Integrator::Exponential),
        ] {
            let run = median_time(reps, || dense(&net, dt, integ));
            let rmse = readout_rmse(dense(&net, dt, integ), &a, &X0, &input());
            let ratio = run.secs / exact_run.secs;
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
        "\nPeak RSS (VmHWM) of a separate exact run (shared layout), N = {big}: {hwm_mb:.1} MB \
         ({:.1} MB before building the network; {big_spikes} spikes)",
        hwm_before as f64 * 1024.0 / 1e6
    );

    let ns_at = |n: usize| {
        shared_ns
            .iter()
            .find(|(m, _)| *m == n)
            .map(|(_, ns)| *ns)
            .expect("size was run")
    };
    let growth = ns_at(big) / ns_at(REF_N);
    let layout_ratio = per_neuron_ref / shared_ref;
    let min_ratio = fine_ratios.iter().copied().fold(f64::MAX, f64::min);
    let checks = [
        (
            format!(
                "wall time per spike, N = {big} / N = {REF_N} (shared layout): {growth:.2} \
                 (want <= 3)"
            ),
            growth <= 3.0,
        ),
        (
            format!("per-neuron / shared wall time at N = {REF_N}: {layout_ratio:.1} (want >= 5)"),
            layout_ratio >= 5.0,
        ),
        (
            format!(
                "dense(dt = 1e-6) / exact wall time at N = {DENSE_N}: {min_ratio:.1} \
                 (min over integrators; want >= 20)"
            ),
            min_ratio >= 20.0,
        ),
        (
            format!("peak RSS at N = {big}: {hwm_mb:.1} MB (want < 1000)"),
            hwm_mb < 1000.0,
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
