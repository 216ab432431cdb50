//! Checkpoints of learning runs: a run stopped (or SIGKILLed) and resumed from its last
//! checkpoint gives the files of an uninterrupted run, byte for byte — spikes, weights, learning
//! curve, readout and the summary's metrics.

use ebnsim::io::model_file::parse_learning;
use ebnsim::learning::protocol::{run_phases_into, LearnError, LearnProgress, PhaseOptions};
use ebnsim::run::CheckpointPlan;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Command;

mod common;

/// The shared short Van der Pol protocol (tests/common).
const MODEL: &str = common::SHORT_VDP;

#[test]
fn stopped_and_resumed_learning_equals_an_uninterrupted_run() {
    let model = parse_learning(MODEL, Path::new("short.toml")).unwrap();
    let opts = PhaseOptions::default();
    let top = tempfile::tempdir().unwrap();
    let straight = top.path().join("straight");
    let none = CheckpointPlan::default();
    run_phases_into(&model, &opts, &straight, &none, |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let expected = common::run_files(&straight);
    // Stops in the training phase (twice), in the free run and in the last phase.
    let mut sizes = Vec::new();
    for stop_at in [1.234, 2.6, 3.9, 5.2] {
        let dir = tempfile::tempdir().unwrap();
        let plan = CheckpointPlan {
            every: Some(0.25),
            resume: false,
            fingerprint: "short".into(),
        };
        let stopper = |p: LearnProgress| match p {
            LearnProgress::Time(t) if t >= stop_at => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        };
        let err = run_phases_into(&model, &opts, dir.path(), &plan, stopper).unwrap_err();
        assert!(matches!(err, LearnError::Stopped { .. }), "{err}");
        let checkpoint = dir.path().join("checkpoint.ebnsim");
        assert!(checkpoint.is_file());
        sizes.push(std::fs::metadata(&checkpoint).unwrap().len());
        let resume = CheckpointPlan {
            resume: true,
            every: None,
            ..plan.clone()
        };
        let mut first_time = None;
        let resumed = run_phases_into(&model, &opts, dir.path(), &resume, |p| {
            if let LearnProgress::Time(t) = p {
                first_time.get_or_insert(t);
            }
            ControlFlow::Continue(())
        })
        .unwrap();
        assert!(resumed.summary.spikes > 1000);
        // It went on from the last checkpoint (at most 0.25 s and a step before the stop).
        let first = first_time.unwrap();
        assert!(
            first > stop_at - 0.4 && first <= stop_at + 0.1,
            "stopped at {stop_at}, resumed at {first}"
        );
        assert!(
            common::run_files(dir.path()) == expected,
            "stopped at {stop_at}: the resumed run differs"
        );
        // A second stopped run, then a resume with another fingerprint: refused.
        run_phases_into(&model, &opts, dir.path(), &plan, stopper).unwrap_err();
        let other = CheckpointPlan {
            fingerprint: "another".into(),
            ..resume
        };
        let err = run_phases_into(&model, &opts, dir.path(), &other, |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("another"), "{err}");
    }
    // The records are in the files, not in the checkpoint: it does not grow with them (the
    // ~40 000 spikes between the first two stops would add ~400 kB).
    assert!(
        sizes[1].abs_diff(sizes[0]) < 20_000,
        "checkpoints of {sizes:?} bytes"
    );
}

#[test]
fn a_sigkilled_learning_run_resumed_equals_an_uninterrupted_one() {
    const BIN: &str = env!("CARGO_BIN_EXE_ebnsim");
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("vdp.toml");
    // Longer phases than MODEL's: the run takes ~1 s, checkpoints every 4 s simulated.
    let text = MODEL
        .replace("duration = 3.0", "duration = 30.0")
        .replace("duration = 1.5", "duration = 10.0");
    std::fs::write(&model, text).unwrap();
    let straight = dir.path().join("straight");
    let status = Command::new(BIN)
        .args(["learn", "-q"])
        .arg(&model)
        .arg("--out")
        .arg(&straight)
        .status()
        .unwrap();
    assert!(status.success());
    let out = dir.path().join("out");
    let args = ["learn".as_ref(), model.as_os_str()];
    let kills = common::kill_and_resume(BIN, &args, "4", &out, &[0, 200, 60, 350]);
    assert!(kills >= 2, "only {kills} kills landed");
    let (a, b) = (common::run_files(&straight), common::run_files(&out));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"weights.json") && names.contains(&"spikes.csv"),
        "{names:?}"
    );
    assert!(a == b, "the resumed learning run differs");
    assert!(
        common::leftovers(&out).is_empty(),
        "{:?}",
        common::leftovers(&out)
    );
}
