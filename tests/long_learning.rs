//! Learning runs written while they run (`run_phases_into`, `ebnsim learn`): their files equal
//! those of a run kept in memory and written at the end, byte for byte (memory:
//! tests/learning_memory.rs).

use ebnsim::io::model_file::parse_learning;
use ebnsim::learning::protocol::{run_phases_into, run_phases_with, write_learn_run, PhaseOptions};
use ebnsim::run::CheckpointPlan;
use std::ops::ControlFlow;
use std::path::Path;

mod common;

#[test]
fn streamed_learning_files_equal_those_of_a_run_kept_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    // The shared protocol with a longer autonomous phase (its oscillation metrics read its
    // whole readout).
    let vdp = common::SHORT_VDP.replace("duration = 1.5", "duration = 6.5");
    let monitored = vdp.replacen(
        "\n[[phase]]",
        "\n[record]\nreadout_dt = 0.002\nstate = { neurons = [3, 0, 17], dt = 0.0037, \
         variables = [\"v\", \"r\"], at_spikes = true }\n\n[[phase]]",
        1,
    );
    // A basis on the spike trains: the E/I balance sums every spike before its window.
    let on_trains = vdp
        .replace(
            "kind = \"monomials\"\ndegree = 3",
            "kind = \"tanh_random\"\ncount = 20\non = \"r\"",
        )
        .replace("start = \"teacher\"\n", "");
    assert_ne!(monitored, vdp);
    assert_ne!(on_trains, vdp);
    let dense = PhaseOptions {
        engine: Some(ebnsim::engine::EngineKind::Dense),
        ..PhaseOptions::default()
    };
    let cases = [
        ("monitored", monitored.as_str(), PhaseOptions::default()),
        ("on-trains", on_trains.as_str(), PhaseOptions::default()),
        ("dense", vdp.as_str(), dense),
        (
            "frozen",
            vdp.as_str(),
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
