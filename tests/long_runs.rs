//! Long runs: files written while the run goes on, equal byte for byte to a run kept in memory
//! (memory flat in simulated time: tests/memory.rs).

use ebnsim::io::model_file;
use ebnsim::io::record::write_run;
use ebnsim::run::{run_model_into, run_model_with, RunOptions};
use std::ops::ControlFlow;
use std::process::Command;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ebnsim");

#[test]
fn streamed_files_equal_those_of_a_run_kept_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let oscillator = std::fs::read_to_string("models/boerlin-oscillator.toml").unwrap();
    let monitored = oscillator.replace(
        "[record]\n",
        "[record]\nstate = { neurons = [3, 0, 17], dt = 0.0037, variables = [\"v\", \"r\"], \
         at_spikes = true }\n",
    );
    assert_ne!(monitored, oscillator);
    let cases = [
        ("monitored", monitored, RunOptions::default()),
        (
            "dense",
            oscillator.clone(),
            RunOptions {
                engine: Some(ebnsim::engine::EngineKind::Dense),
                ..RunOptions::default()
            },
        ),
        (
            "hold",
            common::hold_model(3.0, 0.0007),
            RunOptions::default(),
        ),
    ];
    for (name, text, opts) in cases {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        let model = model_file::load(&path).unwrap();
        let whole = run_model_with(&model, &opts, |_| ControlFlow::Continue(())).unwrap();
        let a = dir.path().join(format!("{name}-memory"));
        write_run(
            &a,
            &model.network,
            &whole.spikes,
            &whole.readout,
            whole.state.as_ref(),
            &whole.summary,
        )
        .unwrap();
        let b = dir.path().join(format!("{name}-streamed"));
        let summary = run_model_into(&model, &opts, &b, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(summary.spikes, whole.summary.spikes, "{name}");
        assert_eq!(
            summary.cv_isi.map(f64::to_bits),
            whole.summary.cv_isi.map(f64::to_bits),
            "{name}"
        );
        let (fa, fb) = (common::run_files(&a), common::run_files(&b));
        let names: Vec<&str> = fa.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"spikes.csv") && names.contains(&"readout.csv"));
        if name == "monitored" {
            assert!(names.contains(&"state.csv") && names.contains(&"state_at_spikes.csv"));
        }
        assert_eq!(fa, fb, "{name}: streamed files differ");
    }
}

#[test]
fn a_stopped_streamed_run_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hold.toml");
    std::fs::write(&path, common::hold_model(10.0, 0.01)).unwrap();
    let model = model_file::load(&path).unwrap();
    let out = dir.path().join("out");
    let err = run_model_into(&model, &RunOptions::default(), &out, |t| {
        if t >= 5.0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap_err();
    assert!(
        matches!(err, ebnsim::run::RunError::Stopped { at } if at == 5.0),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `ebnsim run` with `args`; (exit code, stderr).
fn ebnsim(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `ebnsim run MODEL --resume OUT`: its exit code and standard error.
fn resume(model: &std::path::Path, out: &std::path::Path) -> (i32, String) {
    ebnsim(&[
        "run".as_ref(),
        model.as_os_str(),
        "--resume".as_ref(),
        out.as_os_str(),
    ])
}

/// The hold model of `duration` s written into `dir` and run uninterrupted: the model file
/// and the run's directory.
fn hold_run(dir: &std::path::Path, duration: f64) -> (std::path::PathBuf, std::path::PathBuf) {
    let model = dir.join("hold.toml");
    std::fs::write(&model, common::hold_model(duration, 0.01)).unwrap();
    let straight = dir.join("straight");
    let (code, err) = ebnsim(&[
        "run".as_ref(),
        "-q".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        straight.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    (model, straight)
}

#[test]
fn a_killed_run_resumed_from_its_checkpoint_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let (model, straight) = hold_run(dir.path(), 3000.0);
    // Killed at several moments after a checkpoint (the run takes ~1 s here), resumed, the
    // resumed runs killed again.
    let out = dir.path().join("out");
    let args = ["run".as_ref(), model.as_os_str()];
    let kills = common::kill_and_resume(BIN, &args, "100", &out, &[0, 150, 400, 30, 250]);
    assert!(kills >= 2, "only {kills} kills landed");
    assert_eq!(
        common::run_files(&out),
        common::run_files(&straight),
        "resumed run differs"
    );
    assert!(
        common::leftovers(&out).is_empty(),
        "{:?}",
        common::leftovers(&out)
    );
}

#[test]
fn resume_refuses_another_run_and_a_directory_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("hold.toml");
    std::fs::write(&model, common::hold_model(3000.0, 0.01)).unwrap();
    let out = dir.path().join("out");
    let (code, err) = resume(&model, &out);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("expected an interrupted run to resume"),
        "{err}"
    );

    let mut child = Command::new(BIN)
        .args(["run", "-q", "--checkpoint-every", "100"])
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .spawn()
        .unwrap();
    let checkpoint = dir
        .path()
        .join(format!(".out.ebnsim-new.{}", child.id()))
        .join("checkpoint.ebnsim");
    while !checkpoint.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before a checkpoint"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Another seed is another run.
    let (code, err) = ebnsim(&[
        "run".as_ref(),
        model.as_os_str(),
        "--seed".as_ref(),
        "2".as_ref(),
        "--resume".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("checkpoint.ebnsim") && err.contains("seed 2") && err.contains("seed 1"),
        "{err}"
    );
    // An edited model file too.
    std::fs::write(
        &model,
        common::hold_model(3000.0, 0.01).replace("mu = 1e-4", "mu = 2e-4"),
    )
    .unwrap();
    let (code, err) = resume(&model, &out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("checksum"), "{err}");
    // A damaged checkpoint.
    let staging = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".out.ebnsim-new."))
        .unwrap();
    std::fs::write(&model, common::hold_model(3000.0, 0.01)).unwrap();
    let ck = staging.join("checkpoint.ebnsim");
    let mut bytes = std::fs::read(&ck).unwrap();
    let k = bytes.len() - 5;
    bytes[k] ^= 0xff;
    std::fs::write(&ck, bytes).unwrap();
    let (code, err) = resume(&model, &out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn stopped_runs_resume_with_state_monitors_and_on_the_dense_stepper() {
    use ebnsim::run::{run_model_into_with, CheckpointPlan};
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("models/smooth-random-2d.toml")
        .unwrap()
        .replace(
            "[simulate]\n",
            "[record]\nstate = { neurons = [3, 0, 17], dt = 0.0037, variables = [\"v\", \"r\"], \
             at_spikes = true }\n[simulate]\n",
        );
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).unwrap();
    let model = model_file::load(&path).unwrap();
    let dense = RunOptions {
        engine: Some(ebnsim::engine::EngineKind::Dense),
        ..RunOptions::default()
    };
    for (name, opts) in [("exact", RunOptions::default()), ("dense", dense)] {
        let straight = dir.path().join(format!("{name}-straight"));
        run_model_into(&model, &opts, &straight, |_| ControlFlow::Continue(())).unwrap();
        for stop in [0.4567, 1.5] {
            let out = dir.path().join(format!("{name}-{stop}"));
            let plan = CheckpointPlan {
                every: Some(0.3),
                resume: false,
                fingerprint: name.into(),
            };
            let err = run_model_into_with(&model, &opts, &out, &plan, |t| {
                if t >= stop {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap_err();
            assert!(
                matches!(err, ebnsim::run::RunError::Stopped { .. }),
                "{err}"
            );
            let resume = CheckpointPlan {
                resume: true,
                ..plan
            };
            run_model_into_with(&model, &opts, &out, &resume, |_| ControlFlow::Continue(()))
                .unwrap();
            let (a, b) = (common::run_files(&straight), common::run_files(&out));
            assert!(a.iter().any(|(n, _)| n == "state_at_spikes.csv"));
            assert!(a == b, "{name}, stopped at {stop}: the resumed run differs");
        }
    }
}

/// A run killed after it wrote `summary.json` (its checkpoint still there or already removed)
/// and before its files were put in place: `--resume` finishes it. Built by hand: the files
/// of a complete run in the staging directory the killed process would have left.
#[test]
fn a_run_killed_before_its_commit_is_put_in_place_by_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (model, done) = hold_run(dir.path(), 20.0);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("spikes.csv"), "an older run").unwrap();
    let staging = dir.path().join(".out.ebnsim-new.999999");
    std::fs::create_dir(&staging).unwrap();
    for (name, _) in common::run_files(&done) {
        std::fs::copy(done.join(&name), staging.join(&name)).unwrap();
    }
    let (code, err) = resume(&model, &out);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("put in place"), "{err}");
    assert_eq!(common::run_files(&out), common::run_files(&done));
    assert!(
        common::leftovers(&out).is_empty(),
        "{:?}",
        common::leftovers(&out)
    );
    // Without a checkpoint or a summary there is still nothing to resume.
    std::fs::create_dir(&staging).unwrap();
    std::fs::write(staging.join("spikes.csv"), "half").unwrap();
    let (code, err) = resume(&model, &out);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("expected an interrupted run to resume"),
        "{err}"
    );
}
