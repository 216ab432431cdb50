//! Learning runs written while they run (`run_phases_into`, `ebnsim learn`): their files equal
//! those of a run kept in memory and written at the end, byte for byte, and memory stays flat in
//! simulated time.

use ebnsim::io::model_file::parse_learning;
use ebnsim::learning::protocol::{run_phases_into, run_phases_with, write_learn_run, PhaseOptions};
use ebnsim::run::CheckpointPlan;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Command;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ebnsim");

/// Van der Pol: training with OU input and voltage noise, an autonomous phase with weight
/// noise (oscillation metrics read its whole readout), a killed phase.
const VDP: &str = r#"
name = "short-vdp"
seed = 5

[network]
neurons = 30
dims = 2
lambda_d = 10.0
mu = 2.5e-5
decoder = { random = "normal", scale = 0.05, normalize = true }

[target]
kind = "van_der_pol"
initial = [1.0, 0.0]

[basis]
kind = "monomials"
degree = 3

[[phase]]
name = "train"
duration = 3.0
input = { kind = "ou", tau = 0.05, sigma = 2.0 }
feedback_gain = 30.0
learning_rate = 100.0
learning_rate_decay = { start = 0.7, to = 0.1 }
noise = { sigma = 0.02 }

[[phase]]
name = "autonomous"
duration = 6.5
input = { kind = "zero" }
start = "teacher"
weight_noise = { sigma = 0.001 }

[[phase]]
name = "killed"
duration = 1.0
input = { kind = "zero" }
start = "readout"
kill_fraction = 0.5
"#;

/// A 1-D network learning a leak `ẋ = −x` on the linear basis from a constant command, tested on
/// another, then running autonomously (its readout decays: few spikes, but a sample every 10 ms
/// as before).
fn leak_model(duration: f64) -> String {
    format!(
        r#"name = "long-leak"
seed = 2
[network]
neurons = 10
dims = 1
lambda_d = 10.0
mu = 1e-4
decoder = [[0.10, 0.11, 0.09, 0.12, 0.08, -0.10, -0.11, -0.09, -0.12, -0.08]]
[target]
kind = "linear"
a = [[-1.0]]
initial = [0.0]
[basis]
kind = "linear"
[[phase]]
name = "train"
duration = {duration:?}
input = {{ kind = "constant", values = [1.0] }}
feedback_gain = 10.0
learning_rate = 0.1
epoch = 0.01
[[phase]]
name = "test"
duration = {duration:?}
input = {{ kind = "constant", values = [0.7] }}
[[phase]]
name = "autonomous"
duration = {duration:?}
input = {{ kind = "zero" }}
[record]
readout_dt = 0.01
"#
    )
}

#[test]
fn streamed_learning_files_equal_those_of_a_run_kept_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let monitored = VDP.replacen(
        "\n[[phase]]",
        "\n[record]\nreadout_dt = 0.002\nstate = { neurons = [3, 0, 17], dt = 0.0037, \
         variables = [\"v\", \"r\"], at_spikes = true }\n\n[[phase]]",
        1,
    );
    // A basis on the spike trains: the E/I balance sums every spike before its window.
    let on_trains = VDP.replace(
        "kind = \"monomials\"\ndegree = 3",
        "kind = \"tanh_random\"\ncount = 20\non = \"r\"",
    );
    assert_ne!(monitored, VDP);
    assert_ne!(on_trains, VDP);
    let dense = PhaseOptions {
        engine: Some(ebnsim::engine::EngineKind::Dense),
        ..PhaseOptions::default()
    };
    let cases = [
        ("monitored", monitored.as_str(), PhaseOptions::default()),
        ("on-trains", on_trains.as_str(), PhaseOptions::default()),
        ("dense", VDP, dense),
        (
            "frozen",
            VDP,
            PhaseOptions {
                frozen: true,
                initial_weights: Some(vec![0.01; 2 * 10]),
                ..PhaseOptions::default()
            },
        ),
    ];
    for (name, text, opts) in cases {
        let model = parse_learning(text, Path::new("short.toml")).unwrap();
        let whole = run_phases_with(&model, &opts, |_| ControlFlow::Continue(())).unwrap();
        let a = dir.path().join(format!("{name}-memory"));
        write_learn_run(&a, &model, &whole, !opts.frozen).unwrap();
        let b = dir.path().join(format!("{name}-streamed"));
        let plan = CheckpointPlan::default();
        let out = run_phases_into(&model, &opts, &b, &plan, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(out.summary.spikes, whole.summary.spikes, "{name}");
        assert!(
            whole.summary.spikes > 1000,
            "{name}: {}",
            whole.summary.spikes
        );
        let (fa, fb) = (common::run_files(&a), common::run_files(&b));
        let names: Vec<&str> = fa.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"spikes.csv") && names.contains(&"learning_curve.csv"),
            "{name}: {names:?}"
        );
        assert_eq!(names.contains(&"weights.json"), !opts.frozen, "{name}");
        if name == "monitored" {
            assert!(names.contains(&"state.csv") && names.contains(&"state_at_spikes.csv"));
        }
        let summary: serde_json::Value =
            serde_json::from_str(&fb[names.iter().position(|n| *n == "summary.json").unwrap()].1)
                .unwrap();
        let phases = summary["phases"].as_array().unwrap();
        // The oscillation metrics ran (`null` when the period cannot be measured).
        assert!(
            phases[1].get("period_error").is_some(),
            "{name}: {phases:?}"
        );
        assert!(phases[2]["ei_balance"].is_object(), "{name}: {phases:?}");
        assert_eq!(fa, fb, "{name}: streamed files differ");
    }
}

/// Peak resident memory (KiB) of `ebnsim learn` of `model`, measured by the kernel for the child.
#[allow(clippy::zombie_processes)] // reaped by wait4, which also gives its peak memory
fn peak_rss_kib(model: &Path, out: &Path) -> i64 {
    let child = Command::new(BIN)
        .args(["learn", "-q", "--out"])
        .arg(out)
        .arg(model)
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: plain libc calls on our own child's pid and owned, zeroed out-parameters.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let pid = libc::wait4(child.id() as i32, &mut status, 0, &mut usage);
        assert_eq!(pid, child.id() as i32, "wait4");
        usage
    };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "ebnsim learn failed: {status}"
    );
    usage.ru_maxrss
}

#[test]
fn learning_memory_is_flat_in_simulated_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for duration in [20.0, 2000.0] {
        let model = dir.path().join(format!("leak-{duration}.toml"));
        std::fs::write(&model, leak_model(duration)).unwrap();
        let out = dir.path().join(format!("out-{duration}"));
        peaks.push(peak_rss_kib(&model, &out));
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        let count = summary["spikes"].as_u64().unwrap();
        // The long run records ~500 000 spikes and 400 000 samples (~16 MB in memory).
        assert!(
            count as f64 > 2.0 * 2.0 * duration,
            "{count} spikes in 2 × {duration} s"
        );
    }
    let (short, long) = (peaks[0] as f64, peaks[1] as f64);
    assert!(
        long <= 1.1 * short,
        "peak RSS {long} KiB over 2 × 2000 s vs {short} KiB over 2 × 20 s"
    );
}
