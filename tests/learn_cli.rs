//! `ebnsim learn` on a short learning model: writes the output files with the contract's fields
//! (docs/model-format.md, "Learning models"), byte-identically on reruns; the learned weights read
//! back and drive `ebnsim run --weights`; malformed learning files fail naming file and field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Van der Pol, 30 neurons, 3 s of training, then autonomous and half-killed phases.
const SHORT: &str = r#"
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

[[phase]]
name = "autonomous"
duration = 1.5
input = { kind = "zero" }
start = "teacher"

[[phase]]
name = "killed"
duration = 1.0
input = { kind = "zero" }
start = "readout"
kill_fraction = 0.5
"#;

fn ebnsim(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebnsim"))
        .args(args)
        .output()
        .unwrap()
}

fn write_model(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn learn(model: &Path, out: &Path) -> Output {
    ebnsim(&[
        "learn".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ])
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn learn_writes_every_file_with_the_contract_fields_and_reruns_identically() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "short.toml", SHORT);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ok(&learn(&model, &a));

    let spikes = std::fs::read_to_string(a.join("spikes.csv")).unwrap();
    assert!(spikes.starts_with("time,neuron\n") && spikes.lines().count() > 100);
    let readout = std::fs::read_to_string(a.join("readout.csv")).unwrap();
    assert!(
        readout.starts_with("time,xhat0,xhat1,x0,x1\n"),
        "{readout:.60}"
    );
    assert_eq!(readout.lines().count(), 1 + 5501); // 0, 1 ms, …, 5.5 s
    let curve = std::fs::read_to_string(a.join("learning_curve.csv")).unwrap();
    assert!(curve.starts_with("time,phase,field_error,window_nrmse\n"));
    assert!(curve.lines().count() > 50);

    let s = json(&a.join("summary.json"));
    for key in [
        "version",
        "engine",
        "neurons",
        "duration",
        "spikes",
        "mean_rate_hz",
        "readout_rmse",
        "wall_seconds",
        "field_error",
    ] {
        assert!(s.get(key).is_some(), "summary.json lacks {key}: {s}");
    }
    assert_eq!(s["engine"], "exact");
    assert_eq!(s["duration"], 5.5);
    let fe = s["field_error"].as_f64().unwrap();
    assert!(fe > 0.0 && fe < 1.0, "field error {fe}");
    let fp = &s["fixed_points"];
    assert!(fp["learned"].is_array() && fp["target"].as_array().unwrap().len() == 1);
    assert!(fp.get("max_error").is_some());
    let phases = s["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 3);
    for p in phases {
        for key in ["name", "nrmse", "mean_rate_hz", "cv_isi"] {
            assert!(p.get(key).is_some(), "phase lacks {key}: {p}");
        }
    }
    assert_eq!(phases[0]["name"], "train");
    assert!(phases[0].get("period_error").is_none());
    for p in &phases[1..] {
        assert!(p.get("period_error").is_some() && p.get("amplitude_error").is_some());
    }
    assert_eq!(phases[2]["alive"], 15);

    let w = json(&a.join("weights.json"));
    assert_eq!(w["format"], "ebnsim-weights");
    assert_eq!(w["version"], 1);
    assert_eq!(w["basis"]["kind"], "monomials");
    assert_eq!(w["u"].as_array().unwrap().len(), 2);
    assert_eq!(w["u"][0].as_array().unwrap().len(), 10);

    ok(&learn(&model, &b));
    for f in [
        "spikes.csv",
        "readout.csv",
        "weights.json",
        "learning_curve.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between reruns"
        );
    }
}

#[test]
fn learned_weights_round_trip_and_drive_run() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = write_model(dir.path(), "short.toml", SHORT);
    let model = ebnsim::io::model_file::load_learning(&model_path).unwrap();
    let out = ebnsim::learning::protocol::run_phases(&model, &Default::default(), |_| {}).unwrap();
    let a = dir.path().join("a");
    ebnsim::learning::protocol::write_learn_run(&a, &model, &out, true).unwrap();
    let w = ebnsim::io::weights_file::read(&a.join("weights.json")).unwrap();
    assert_eq!(w.u, out.weights, "weights read back exactly");
    assert_eq!(w.basis, model.basis);
    assert_eq!(w.model, "short-vdp");

    // `ebnsim run MODEL --weights W`: the phases with learning off, no weights.json written.
    let r = dir.path().join("r");
    let o = ebnsim(&[
        "run".as_ref(),
        model_path.as_os_str(),
        "--out".as_ref(),
        r.as_os_str(),
        "--weights".as_ref(),
        a.join("weights.json").as_os_str(),
        "--quiet".as_ref(),
    ]);
    ok(&o);
    assert!(!r.join("weights.json").exists());
    let s = json(&r.join("summary.json"));
    let phases = s["phases"].as_array().unwrap();
    assert_eq!(phases[0]["learning_rate"], 0.0);
    // Same weights, same teacher states: the same field error as the learning run.
    assert_eq!(s["field_error"].as_f64(), out.field_error);
    // The autonomous phases of the frozen rerun equal those of the learning run (same weights,
    // same network state up to the weights' evolution during the first phase: not compared).
    assert!(phases[1]["nrmse"].as_f64().unwrap().is_finite());

    // Frozen weights with the library: U stays as given.
    let opts = ebnsim::learning::protocol::PhaseOptions {
        initial_weights: Some(w.u.clone()),
        frozen: true,
        ..Default::default()
    };
    let again = ebnsim::learning::protocol::run_phases(&model, &opts, |_| {}).unwrap();
    assert_eq!(again.weights, w.u);
}

fn fails_naming(text: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "bad.toml", text);
    let out = dir.path().join("out");
    let o = learn(&model, &out);
    assert_eq!(o.status.code(), Some(2), "{text}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
    assert!(!out.exists(), "nothing written on error");
}

#[test]
fn malformed_learning_files_name_file_and_field() {
    let second = "name = \"autonomous\"\nduration = 1.5";
    fails_naming(
        &SHORT.replace(second, &format!("{second}\nfeedback_gain = -1.0")),
        &["phase[1].feedback_gain", "non-negative"],
    );
    fails_naming(
        &SHORT.replace("initial = [1.0, 0.0]", "initial = [1.0, 0.0]\nsigma = 3.0"),
        &["target.sigma", "mu, time_scale, amplitude"],
    );
    fails_naming(
        &SHORT.replace("degree = 3", "degree = 3\non = \"r\""),
        &["basis.on", "tanh_random"],
    );
    fails_naming(
        &SHORT.replace("tau = 0.05", "tau = -0.05"),
        &["phase[0].input.tau"],
    );
    fails_naming(
        &SHORT.replace("kill_fraction = 0.5", "kill_fraction = 1.5"),
        &["phase[2].kill_fraction"],
    );
    fails_naming(
        &SHORT.replace("start = \"readout\"", "start = \"kick\""),
        &["phase[2].start"],
    );
    fails_naming(
        &SHORT.replace("kind = \"monomials\"", "kind = \"splines\""),
        &["basis.kind"],
    );
    fails_naming(
        &format!("{SHORT}\n[simulate]\nduration = 1.0\n"),
        &["simulate", "unknown field `duration`"],
    );
    fails_naming(
        &format!("{SHORT}\n[simulate]\nengine = \"dense\"\ndt = -1e-4\n"),
        &["simulate.dt", "positive"],
    );
    fails_naming(
        &format!("{SHORT}\n[input]\nkind = \"zero\"\n"),
        &["input", "[[phase]]"],
    );
    let last = "kill_fraction = 0.5";
    for (option, needles) in [
        (
            "noise = { sigma = -1.0 }",
            &["phase[2].noise.sigma", "non-negative"][..],
        ),
        (
            "noise = { sigma = 1.0, interval = 0.0 }",
            &["phase[2].noise.interval"],
        ),
        (
            "noise = { amplitude = 1.0 }",
            &["unknown field `amplitude`"],
        ),
        ("kick = [0.1]", &["phase[2].kick", "2 numbers"]),
        (
            "kill_neurons = [1, 30]",
            &["phase[2].kill_neurons[1]", "below network.neurons = 30"],
        ),
        ("kick = [0.1, nan]", &["phase[2].kick[1]", "finite"]),
        (
            "delay_spike = { after = 1.0, delay = 1e-3 }",
            &["phase[2].delay_spike.after", "within the phase"],
        ),
        (
            "delay_spike = { after = 0.5, delay = 0.0 }",
            &["phase[2].delay_spike.delay"],
        ),
    ] {
        fails_naming(&SHORT.replace(last, &format!("{last}\n{option}")), needles);
    }
    fails_naming(
        &SHORT.replace("learning_rate = 100.0", "learning_rate = 100.0\nspeed = 1"),
        &["speed"],
    );
    fails_naming(
        &SHORT.replace("kind = \"van_der_pol\"", "kind = \"lorenz\""),
        &["target.kind", "network.dims = 2"],
    );
}

#[test]
fn run_on_a_learning_file_runs_its_phases_as_learn() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "short.toml", SHORT);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ok(&learn(&model, &a));
    ok(&ebnsim(&[
        "run".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        b.as_os_str(),
        "--quiet".as_ref(),
    ]));
    for f in ["spikes.csv", "weights.json"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap()
        );
    }
    let o = ebnsim(&[
        "run".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        b.as_os_str(),
        "--cascade-limit".as_ref(),
        "10".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--cascade-limit"));
}

/// `--engine dense --dt`: the same phases on the stepper; the summary says so, and carries the
/// E/I balance of every phase.
#[test]
fn learn_runs_on_the_dense_stepper() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "short.toml", SHORT);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ok(&learn(&model, &a));
    ok(&ebnsim(&[
        "learn".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        b.as_os_str(),
        "--engine".as_ref(),
        "dense".as_ref(),
        "--dt".as_ref(),
        "2e-4".as_ref(),
        "--quiet".as_ref(),
    ]));
    let (sa, sb) = (json(&a.join("summary.json")), json(&b.join("summary.json")));
    assert_eq!(sa["engine"], "exact");
    assert_eq!(sb["engine"], "dense");
    assert_eq!(sb["dt"], 2e-4);
    assert_eq!(sb["spike_rule"], "one_per_step");
    // Every dense spike is on the 0.2 ms grid.
    let spikes = std::fs::read_to_string(b.join("spikes.csv")).unwrap();
    for line in spikes.lines().skip(1).take(200) {
        let t: f64 = line.split(',').next().unwrap().parse().unwrap();
        let steps = t / 2e-4;
        assert!((steps - steps.round()).abs() < 1e-6, "{t}");
    }
    // Both learn: the trained field error is far below 1 (U = 0 gives 1).
    for s in [&sa, &sb] {
        assert!(s["field_error"].as_f64().unwrap() < 0.5, "{s}");
        for p in s["phases"].as_array().unwrap() {
            let ei = &p["ei_balance"];
            let (c, r) = (
                ei["correlation"].as_f64().unwrap(),
                ei["net_to_total"].as_f64().unwrap(),
            );
            assert!(
                (-1.0..=1.0).contains(&c) && (0.0..=1.0).contains(&r),
                "{ei}"
            );
        }
        // Training with feedback is tightly balanced: E and I track each other.
        let train = &s["phases"][0]["ei_balance"];
        assert!(train["correlation"].as_f64().unwrap() > 0.5, "{train}");
        assert!(train["net_to_total"].as_f64().unwrap() < 0.3, "{train}");
    }
}

/// `--seed` replaces the file's seed; `--weights` continues learning from earlier weights.
#[test]
fn learn_takes_a_seed_and_continues_from_weights() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "short.toml", SHORT);
    let run = |out: &Path, extra: &[&std::ffi::OsStr]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "learn".as_ref(),
            model.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--quiet".as_ref(),
        ];
        args.extend_from_slice(extra);
        ok(&ebnsim(&args));
        json(&out.join("summary.json"))
    };
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let sa = run(&a, &[]);
    let sb = run(&b, &["--seed".as_ref(), "5".as_ref()]);
    assert_eq!(sb["seed"], 5);
    assert_eq!(
        std::fs::read(a.join("spikes.csv")).unwrap(),
        std::fs::read(b.join("spikes.csv")).unwrap(),
        "--seed 5 is the file's seed 5"
    );
    let s7 = run(&b, &["--seed".as_ref(), "7".as_ref()]);
    assert_eq!(s7["seed"], 7);
    assert_ne!(
        std::fs::read(a.join("spikes.csv")).unwrap(),
        std::fs::read(b.join("spikes.csv")).unwrap()
    );
    // Continue learning: the weights move on from A's, and the field error falls.
    let w = a.join("weights.json");
    let sc = run(&c, &["--weights".as_ref(), w.as_os_str()]);
    let (ua, uc) = (
        ebnsim::io::weights_file::read(&w).unwrap().u,
        ebnsim::io::weights_file::read(&c.join("weights.json"))
            .unwrap()
            .u,
    );
    assert_ne!(ua, uc);
    let (ea, ec) = (
        sa["field_error"].as_f64().unwrap(),
        sc["field_error"].as_f64().unwrap(),
    );
    assert!(ec < ea, "continued {ec} vs first {ea}");
}

/// A training phase of the phase runner gives bit-identical spikes and weights to
/// `learning::train` driven by hand (the protocol of examples/learn_van_der_pol.rs): sampling the
/// readout and the learning curve do not perturb the run.
#[test]
fn a_training_phase_is_the_library_train_loop() {
    use ebnsim::engine::kernel::Kernel;
    use ebnsim::engine::Engine;
    use ebnsim::engine::Plastic;
    use ebnsim::learning::rule::{train, Learner, Schedule};
    use ebnsim::model::basis::Basis;
    use ebnsim::model::ode::{integrate, Tolerance};
    use ebnsim::model::signal::Signal;
    use ebnsim::seed::{rng_stream, Stream};

    let text = SHORT
        .split("[[phase]]\nname = \"autonomous\"")
        .next()
        .unwrap();
    let model = ebnsim::io::model_file::parse_learning(text, Path::new("short.toml")).unwrap();
    assert_eq!(model.phases.len(), 1);
    let out = ebnsim::learning::protocol::run_phases(&model, &Default::default(), |_| {}).unwrap();

    // The same protocol by hand, as examples/learn_van_der_pol.rs does it.
    let (dur, k) = (3.0, 30.0);
    let field = model.target.field().unwrap();
    let c = Signal::smooth_random(
        &[0.0, 0.0],
        2.0,
        0.05,
        dur,
        &mut rng_stream(5, Stream::Input),
    )
    .unwrap();
    let teacher = integrate(field.as_ref(), &c, &[1.0, 0.0], dur, Tolerance::default()).unwrap();
    let drive = c
        .linear_combination(1.0, &teacher.to_signal().unwrap(), k)
        .unwrap();
    let mut kernel = Kernel::new(model.network.clone(), drive, &[1.0, 0.0]).unwrap();
    kernel.set_cascade_limit(model.cascade_limit);
    kernel.set_slow_core(&[-k, 0.0, 0.0, -k]).unwrap();
    let mut learner = Learner::new(Basis::monomials(2, 3).unwrap(), 10.0);
    let schedule = Schedule {
        duration: dur,
        epoch: 1e-3,
        feedback_gain: k,
        learning_rate: 100.0,
        learning_rate_decay: Some((0.7, 0.1)),
    };
    let spikes = train(&mut kernel, &mut learner, &teacher, &[0.0; 4], &schedule).unwrap();
    assert_eq!(kernel.time().secs(), dur);
    assert_eq!(out.spikes.len(), spikes.len());
    let same = out
        .spikes
        .iter()
        .zip(&spikes)
        .filter(|(a, b)| a.neuron == b.neuron && a.time.secs() == b.time.secs())
        .count();
    assert_eq!(same, spikes.len(), "spike trains differ");
    for (a, b) in out.weights.iter().zip(learner.weights()) {
        assert_eq!(a, b);
    }
}

#[test]
fn a_run_into_a_learning_directory_leaves_no_learning_files() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "short.toml", SHORT);
    let out = dir.path().join("out");
    ok(&learn(&model, &out));
    for f in ["weights.json", "learning_curve.csv", "network.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let nf = ebnsim::io::network_file::NetworkFile::read(&out.join("network.json")).unwrap();
    let built = ebnsim::io::model_file::load_learning(&model)
        .unwrap()
        .network;
    assert_eq!(nf, ebnsim::io::network_file::NetworkFile::of(&built));
    assert_eq!((nf.neurons, nf.dims), (30, 2));

    // A frozen rerun reading DIR/weights.json into DIR keeps the file it read.
    let o = ebnsim(&[
        "run".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--weights".as_ref(),
        out.join("weights.json").as_os_str(),
        "--quiet".as_ref(),
    ]);
    ok(&o);
    assert!(out.join("weights.json").is_file());
    // From weights elsewhere: the directory's old weights.json goes.
    let elsewhere = dir.path().join("w.json");
    std::fs::copy(out.join("weights.json"), &elsewhere).unwrap();
    let o = ebnsim(&[
        "run".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--weights".as_ref(),
        elsewhere.as_os_str(),
        "--quiet".as_ref(),
    ]);
    ok(&o);
    assert!(!out.join("weights.json").exists());

    // A plain run into the learning directory.
    ok(&learn(&model, &out));
    let plain = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/boerlin-oscillator.toml");
    ok(&ebnsim(&[
        "run".as_ref(),
        plain.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]));
    assert!(!out.join("weights.json").exists());
    assert!(!out.join("learning_curve.csv").exists());
    for f in ["spikes.csv", "readout.csv", "summary.json", "network.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let nf = ebnsim::io::network_file::NetworkFile::read(&out.join("network.json")).unwrap();
    assert_eq!(nf.neurons, 40);

    // `ebnsim plot` draws the plain run only: no learning curve (and removes the one drawn
    // for the learning run into the same figures directory).
    let figs = dir.path().join("figs");
    std::fs::create_dir_all(&figs).unwrap();
    std::fs::write(figs.join("learning_curve.svg"), "<svg/>").unwrap();
    std::fs::write(figs.join("mine.svg"), "<svg/>").unwrap();
    let o = ebnsim(&[
        "plot".as_ref(),
        out.as_os_str(),
        "--out".as_ref(),
        figs.as_os_str(),
    ]);
    ok(&o);
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(!listed.contains("learning_curve"), "{listed}");
    assert!(listed.contains("readout.svg"), "{listed}");
    assert!(!figs.join("learning_curve.svg").exists());
    assert!(figs.join("mine.svg").is_file());
}

#[test]
fn learn_records_the_state_monitor_over_all_phases() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write_model(dir.path(), "plain.toml", SHORT);
    // dt equal to readout_dt: the engine stops at the same times, so the spikes must be
    // byte-identical with and without the monitor.
    let text = format!(
        "{SHORT}\n[record]\nreadout_dt = 0.01\nstate = {{ neurons = [4, 0], dt = 0.01, variables = [\"v\", \"r\"], at_spikes = true }}\n"
    );
    let monitored = write_model(dir.path(), "state.toml", &text);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let reference = write_model(
        dir.path(),
        "ref.toml",
        &format!("{SHORT}\n[record]\nreadout_dt = 0.01\n"),
    );
    ok(&learn(&reference, &a));
    ok(&learn(&monitored, &b));
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    assert_eq!(read(&a, "spikes.csv"), read(&b, "spikes.csv"));
    assert_eq!(read(&a, "weights.json"), read(&b, "weights.json"));
    let state = read(&b, "state.csv");
    let mut lines = state.lines();
    assert_eq!(lines.next(), Some("time,v_4,v_0,r_4,r_0"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    let total = 3.0 + 1.5 + 1.0; // the phases' durations
    assert_eq!(rows.len(), (total / 0.01f64).floor() as usize + 1);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0], k as f64 * 0.01);
        assert!(row[1].is_finite() && row[3] >= 0.0 && row[4] >= 0.0);
    }
    // At spikes: one row per spike of neuron 4 or 0, over all phases, the spiker at threshold
    // (neuron 0 may be killed in the last phase; its rows stop then).
    let spikes = read(&b, "spikes.csv");
    let recorded: Vec<&str> = spikes
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(",4") || l.ends_with(",0"))
        .collect();
    let at = read(&b, "state_at_spikes.csv");
    let mut lines = at.lines();
    assert_eq!(lines.next(), Some("time,neuron,v_4,v_0,r_4,r_0"));
    let at_rows: Vec<&str> = lines.collect();
    assert!(at_rows.len() > 10, "{} rows", at_rows.len());
    assert_eq!(at_rows.len(), recorded.len());
    let net = json(&b.join("network.json"));
    for (row, spike) in at_rows.iter().zip(&recorded) {
        let x: Vec<f64> = row.split(',').map(|x| x.parse().unwrap()).collect();
        assert!(row.starts_with(&format!("{},", spike.split(',').next().unwrap())));
        let j = x[1] as usize;
        let v = if j == 4 { x[2] } else { x[3] };
        let threshold = net["thresholds"][j].as_f64().unwrap();
        assert!(
            v >= threshold * (1.0 - 1e-12),
            "v_{j} = {v} below {threshold}"
        );
    }
    // A learn without the monitor into the same directory removes the stale state files.
    ok(&learn(&plain, &b));
    assert!(!b.join("state.csv").exists() && !b.join("state_at_spikes.csv").exists());
}
