//! `ebnsim sweep` and the `Ensemble` API on a tiny model: the table does not depend on the
//! number of threads, shards concatenate to the whole sweep, learning models sweep, bad specs
//! fail naming the spec file and the field before anything runs, and `--runs` writes the run
//! directories `ebnsim run MODEL --seed S` would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ebnsim::ensemble::{Ensemble, EnsembleOptions, Shard, SweepSpec};

/// A 2-D oscillator, 20 neurons, random decoder and input, 0.5 s.
const TINY: &str = r#"
name = "tiny"
seed = 1

[network]
neurons = 20
dims = 2
lambda_d = 10.0
mu = 1e-4
decoder = { random = "normal", scale = 0.1, normalize = true }

[target]
kind = "linear"
a = [[-4.8, -22.4], [40.0, 0.0]]

[input]
kind = "smooth_random"
correlation_time = 0.05
amplitude = 20.0

[simulate]
duration = 0.5
"#;

/// 4 seeds × 2 values of mu.
const SPEC: &str = r#"
model = "tiny.toml"
seeds = [1, 2, 3, 4]

[[vary]]
field = "network.mu"
values = [1e-6, 1e-4]
"#;

/// Van der Pol, 20 neurons: 0.5 s of training, 0.3 s autonomous.
const SHORT_LEARN: &str = r#"
name = "short-learn"
seed = 5

[network]
neurons = 20
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
duration = 0.5
input = { kind = "ou", tau = 0.05, sigma = 2.0 }
feedback_gain = 30.0
learning_rate = 100.0

[[phase]]
name = "autonomous"
duration = 0.3
input = { kind = "zero" }
start = "teacher"
"#;

fn ebnsim(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebnsim"))
        .args(args)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

fn sweep(spec: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "sweep".as_ref(),
        spec.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    ebnsim(&args)
}

/// table.csv's header and rows, each row without its last cell (wall_seconds).
fn table(out: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(out.join("table.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_owned();
    let rows = lines
        .map(|l| {
            let (head, wall) = l.rsplit_once(',').unwrap();
            assert!(wall.parse::<f64>().unwrap() >= 0.0, "wall_seconds in {l}");
            head.to_owned()
        })
        .collect();
    (header, rows)
}

#[test]
fn table_is_the_same_for_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let spec = write(dir.path(), "spec.toml", SPEC);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    ok(&sweep(&spec, &one, &["--threads", "1"]));
    ok(&sweep(&spec, &two, &["--threads", "2"]));
    let (header, rows) = table(&one);
    assert_eq!(
        header,
        "run,seed,network.mu,spikes,mean_rate_hz,cv_isi,readout_rmse,readout_nrmse,wall_seconds"
    );
    assert_eq!(table(&two), (header, rows.clone()));
    assert_eq!(rows.len(), 8);
    // Seeds outer, values inner; runs numbered in that order.
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[0], i.to_string());
        assert_eq!(cells[1], (i / 2 + 1).to_string());
        assert_eq!(cells[2], ["0.000001", "0.0001"][i % 2]);
        assert!(cells[3].parse::<u64>().unwrap() > 0, "{row}");
    }
    assert!(
        !one.join("run-0000").exists(),
        "run directories only with --runs"
    );
}

#[test]
fn shards_concatenate_to_the_whole_sweep() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let spec = write(dir.path(), "spec.toml", SPEC);
    let whole = dir.path().join("whole");
    ok(&sweep(&spec, &whole, &["--threads", "2"]));
    let mut merged = Vec::new();
    for k in 0..2 {
        let out = dir.path().join(format!("shard{k}"));
        ok(&sweep(&spec, &out, &["--shard", &format!("{k}/2")]));
        let (header, rows) = table(&out);
        assert_eq!(header, table(&whole).0);
        assert_eq!(rows.len(), 4);
        for r in &rows {
            let run: usize = r.split(',').next().unwrap().parse().unwrap();
            assert_eq!(run % 2, k, "global run numbers in shard {k}/2");
        }
        merged.extend(rows);
    }
    merged.sort_by_key(|r| r.split(',').next().unwrap().parse::<usize>().unwrap());
    assert_eq!(merged, table(&whole).1);
}

#[test]
fn learning_models_sweep() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "learn.toml", SHORT_LEARN);
    let spec = write(
        dir.path(),
        "spec.toml",
        "model = \"learn.toml\"\nseeds = [5]\n[[vary]]\nfield = \"phase.0.learning_rate\"\n\
         values = [50, 100]\n",
    );
    let out = dir.path().join("out");
    ok(&sweep(&spec, &out, &["--threads", "2"]));
    let (header, rows) = table(&out);
    assert_eq!(
        header,
        "run,seed,phase.0.learning_rate,last_phase_spikes,last_phase_mean_rate_hz,\
         last_phase_cv_isi,last_phase_nrmse,field_error,wall_seconds"
    );
    assert_eq!(rows.len(), 2);
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<&str> = r.split(',').collect();
        assert_eq!(cells[..3], [&i.to_string(), "5", ["50", "100"][i]]);
        assert!(cells[6].parse::<f64>().unwrap().is_finite(), "{r}");
        assert!(cells[7].parse::<f64>().unwrap().is_finite(), "{r}");
    }
    assert_ne!(rows[0], rows[1], "the learning rate changes the run");
}

#[test]
fn bad_specs_fail_naming_the_spec_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let vary = |field: &str, values: &str| {
        format!(
            "model = \"tiny.toml\"\nseeds = [1, 2]\n[[vary]]\nfield = \"{field}\"\n\
             values = {values}\n"
        )
    };
    let cases: Vec<(String, &str, &[&str])> =
        vec![
        (vary("network.mux", "[1e-4]"), "network.mux", &[]),
        (vary("netwrk.mu", "[1e-4]"), "netwrk.mu", &[]),
        (vary("network.mu", "[]"), "network.mu", &[]),
        (vary("name", "[1]"), "name", &["non-numeric"]),
        (vary("network.decoder", "[1]"), "network.decoder", &["non-numeric"]),
        (vary("network.neurons", "[20.5]"), "network.neurons", &["integer"]),
        (vary("network.mu", "[1e-4, -1]"), "network.mu", &["= -1"]),
        (vary("phase.3.kill_fraction", "[0.5]"), "phase.3.kill_fraction", &[]),
        (vary("network.mu", "[\"big\"]"), "network.mu", &[]),
        (
            "model = \"tiny.toml\"\nseeds = [1]\nsteps = 3\n".into(),
            "steps",
            &["unknown"],
        ),
        ("model = \"tiny.toml\"\nseeds = []\n".into(), "seeds", &[]),
        ("model = \"tiny.toml\"\nseeds = [1, -2]\n".into(), "seeds[1]", &[]),
        (
            "model = \"tiny.toml\"\nseeds = { from = 5, to = 1 }\n".into(),
            "seeds",
            &[],
        ),
        ("model = \"gone.toml\"\nseeds = [1]\n".into(), "model", &["gone.toml"]),
        (
            "model = \"tiny.toml\"\nseeds = [1]\n[[vary]]\nfield = \"network.mu\"\nvalue = [1]\n"
                .into(),
            "vary[0].value",
            &["unknown"],
        ),
    ];
    for (i, (text, field, more)) in cases.iter().enumerate() {
        let spec = write(dir.path(), &format!("bad{i}.toml"), text);
        let out = dir.path().join(format!("out{i}"));
        let o = sweep(&spec, &out, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{text}\n{err}");
        assert!(err.contains(&format!("bad{i}.toml")), "{text}\n{err}");
        assert!(err.contains(&format!("`{field}`")), "{text}\n{err}");
        for m in *more {
            assert!(err.contains(m), "{text}\n{err}");
        }
        assert!(!out.exists(), "nothing ran for {text}");
    }
    // A shard beyond its count.
    let spec = write(dir.path(), "spec.toml", SPEC);
    let out = dir.path().join("shard");
    let o = sweep(&spec, &out, &["--shard", "3/2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("spec.toml") && err.contains("--shard"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn run_directories_match_ebnsim_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let spec = write(dir.path(), "spec.toml", SPEC);
    let out = dir.path().join("out");
    ok(&sweep(&spec, &out, &["--runs", "--threads", "2"]));
    for (run, seed, mu) in [(0, "1", "1e-6"), (5, "3", "1e-4"), (6, "4", "1e-6")] {
        let model = write(
            dir.path(),
            &format!("tiny-{run}.toml"),
            &TINY.replace("mu = 1e-4", &format!("mu = {mu}")),
        );
        let alone = dir.path().join(format!("alone-{run}"));
        ok(&ebnsim(&[
            "run".as_ref(),
            model.as_os_str(),
            "--seed".as_ref(),
            seed.as_ref(),
            "--out".as_ref(),
            alone.as_os_str(),
            "--quiet".as_ref(),
        ]));
        let swept = out.join(format!("run-{run:04}"));
        for f in ["spikes.csv", "readout.csv", "network.json"] {
            assert_eq!(
                std::fs::read(swept.join(f)).unwrap(),
                std::fs::read(alone.join(f)).unwrap(),
                "run {run}: {f}"
            );
        }
        assert!(swept.join("summary.json").is_file());
    }
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        9,
        "table.csv and 8 runs"
    );
}

#[test]
fn ensemble_rows_do_not_depend_on_the_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let spec = SweepSpec::load(&write(dir.path(), "spec.toml", SPEC)).unwrap();
    assert_eq!(spec.len(), 8);
    let ensemble = Ensemble::new(spec, Shard::ALL).unwrap();
    let rows = |threads| {
        let mut seen = Vec::new();
        let opts = EnsembleOptions {
            threads,
            ..EnsembleOptions::default()
        };
        let mut rows = ensemble.run(&opts, |r| seen.push(r.run.index)).unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>(), "each run reported once");
        for r in &mut rows {
            r.wall_seconds = 0.0;
        }
        rows
    };
    let one = rows(1);
    assert_eq!(one, rows(2));
    assert_eq!(
        one.iter().map(|r| r.run.index).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert_eq!(one[3].run.seed, 2);
    assert_eq!(one[3].run.values, [1e-4]);
}
