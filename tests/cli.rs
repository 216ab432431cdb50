//! The `ebnsim` binary: `run` writes the three output files as docs/model-format.md specifies,
//! byte-identically on reruns; malformed model files fail with a message naming the file and the
//! field, and exit code 2, without writing anything.

use std::path::{Path, PathBuf};
use std::process::Command;

fn ebnsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ebnsim"))
}

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
}

fn run_ok(model: &Path, out: &Path, extra: &[&str]) -> String {
    let o = ebnsim()
        .arg("run")
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn run_writes_spikes_readout_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let stdout = run_ok(&model("boerlin-oscillator.toml"), &out, &[]);
    assert!(stdout.contains("spikes"), "{stdout}");

    let spikes = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    let mut lines = spikes.lines();
    assert_eq!(lines.next(), Some("time,neuron"));
    let mut last = 0.0;
    let mut count = 0;
    for line in lines {
        let (t, n) = line.split_once(',').unwrap();
        let t: f64 = t.parse().unwrap();
        let n: usize = n.parse().unwrap();
        assert!(t >= last && t <= 1.0 && n < 40, "{line}");
        // Shortest round-trip form: printing the parsed value gives the same text.
        assert_eq!(format!("{t}"), line.split(',').next().unwrap());
        last = t;
        count += 1;
    }
    assert!(count > 100, "the kicked oscillator should spike: {count}");

    let readout = std::fs::read_to_string(out.join("readout.csv")).unwrap();
    let mut rows = readout.lines();
    assert_eq!(rows.next(), Some("time,xhat0,xhat1,x0,x1"));
    assert_eq!(
        rows.count(),
        1001,
        "1 s sampled every 1 ms, both ends included"
    );

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "engine",
        "neurons",
        "duration",
        "spikes",
        "mean_rate_hz",
        "readout_rmse",
        "wall_seconds",
        "version",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["engine"], "exact");
    assert_eq!(summary["neurons"], 40);
    assert_eq!(summary["spikes"], count);
    assert!(summary["readout_rmse"].as_f64().unwrap() < 0.1);
    assert!(summary["counters"]["root_solves"].as_u64().unwrap() > 0);
}

#[test]
fn reruns_are_byte_identical_and_engines_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    for m in ["boerlin-oscillator.toml", "smooth-random-2d.toml"] {
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        run_ok(&model(m), &a, &["--quiet"]);
        run_ok(&model(m), &b, &["--quiet"]);
        for f in ["spikes.csv", "readout.csv"] {
            assert_eq!(
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap(),
                "{m} {f}"
            );
        }
    }
    let d = dir.path().join("dense");
    run_ok(
        &model("boerlin-oscillator.toml"),
        &d,
        &["--quiet", "--engine", "dense", "--dt", "1e-4"],
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["engine"], "dense");
    assert_eq!(summary["counters"]["steps"], 10_000);
}

#[test]
fn malformed_model_fails_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(model("boerlin-oscillator.toml"))
        .unwrap()
        .replace("lambda_d = 10.0", "lambda_d = -10.0");
    std::fs::write(&bad, text).unwrap();
    let out = dir.path().join("out");
    let o = ebnsim()
        .arg("run")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("network.lambda_d") && err.contains("positive"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written for a bad model");

    let missing = dir.path().join("missing.toml");
    let o = ebnsim()
        .arg("run")
        .arg(&missing)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.toml"));

    let o = ebnsim()
        .args(["run"])
        .arg(model("boerlin-oscillator.toml"))
        .args(["--out"])
        .arg(&out)
        .args(["--dt", "-1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--dt"));
}

#[test]
fn network_json_reads_back_and_matches_summary_and_model() {
    use ebnsim::io::network_file::{NetworkFile, NETWORK_JSON};
    let dir = tempfile::tempdir().unwrap();
    let path = model("boerlin-oscillator.toml");
    for engine in ["exact", "dense"] {
        let out = dir.path().join(engine);
        run_ok(&path, &out, &["--quiet", "--engine", engine]);
        let nf = NetworkFile::read(&out.join(NETWORK_JSON)).unwrap();
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["neurons"], nf.neurons);
        assert_eq!(summary["dims"], nf.dims);
        let network = ebnsim::io::model_file::load(&path).unwrap().network;
        assert_eq!((nf.neurons, nf.dims), (network.neurons(), network.dims()));
        assert_eq!(nf.thresholds, network.thresholds());
        assert_eq!(nf, NetworkFile::of(&network));
        assert_eq!(nf.weights, "low_rank");
    }
}

#[test]
fn run_seed_equals_the_file_with_that_seed() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(model("smooth-random-2d.toml"))
        .unwrap()
        .replace("duration = 2.0 ", "duration = 0.3 ");
    let file5 = dir.path().join("seed5.toml");
    std::fs::write(&file5, &text).unwrap();
    let file9 = dir.path().join("seed9.toml");
    std::fs::write(&file9, text.replace("seed = 5 ", "seed = 9 ")).unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    run_ok(&file5, &a, &["--quiet", "--seed", "9"]);
    run_ok(&file9, &b, &["--quiet"]);
    run_ok(&file5, &c, &["--quiet"]);
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert_eq!(read(&a, "spikes.csv"), read(&b, "spikes.csv"));
    assert_eq!(read(&a, "readout.csv"), read(&b, "readout.csv"));
    assert_ne!(read(&a, "spikes.csv"), read(&c, "spikes.csv"));
    let summary: serde_json::Value = serde_json::from_slice(&read(&a, "summary.json")).unwrap();
    assert_eq!(summary["seed"], 9);
}

#[test]
fn state_monitor_writes_state_csv_without_changing_spikes() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(model("boerlin-oscillator.toml")).unwrap();
    let with_state = text.replace(
        "[record]\n",
        "[record]\nstate = { neurons = [3, 0], dt = 0.0037, variables = [\"v\", \"r\"] }\n",
    );
    assert_ne!(with_state, text);
    let file = dir.path().join("state.toml");
    std::fs::write(&file, &with_state).unwrap();
    let (plain, monitored) = (dir.path().join("plain"), dir.path().join("monitored"));
    run_ok(&model("boerlin-oscillator.toml"), &plain, &["--quiet"]);
    run_ok(&file, &monitored, &["--quiet"]);
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    assert_eq!(read(&plain, "spikes.csv"), read(&monitored, "spikes.csv"));
    assert_eq!(read(&plain, "readout.csv"), read(&monitored, "readout.csv"));
    assert!(!plain.join("state.csv").exists());
    let state = read(&monitored, "state.csv");
    let mut lines = state.lines();
    assert_eq!(lines.next(), Some("time,v_3,v_0,r_3,r_0"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    let duration = 1.0; // simulate.duration of the shipped model
    assert_eq!(rows.len(), (duration / 0.0037f64).floor() as usize + 1);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0], k as f64 * 0.0037);
        assert!(
            row[3] >= 0.0 && row[4] >= 0.0,
            "r is a sum of decaying spikes"
        );
    }
    assert!(!monitored.join("state_at_spikes.csv").exists());
    // Samples at spikes: one row per spike of neuron 3 or 0, the spiker at its threshold.
    let at_spikes = with_state.replace(
        "variables = [\"v\", \"r\"] }",
        "variables = [\"v\", \"r\"], at_spikes = true }",
    );
    assert_ne!(at_spikes, with_state);
    std::fs::write(&file, &at_spikes).unwrap();
    run_ok(&file, &monitored, &["--quiet"]);
    assert_eq!(read(&plain, "spikes.csv"), read(&monitored, "spikes.csv"));
    assert_eq!(read(&monitored, "state.csv"), state);
    let table = read(&monitored, "state_at_spikes.csv");
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("time,neuron,v_3,v_0,r_3,r_0"));
    let spikes = read(&plain, "spikes.csv");
    let recorded: Vec<&str> = spikes
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(",3") || l.ends_with(",0"))
        .collect();
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert_eq!(rows.len(), recorded.len());
    let network = read(&monitored, "network.json");
    let net: serde_json::Value = serde_json::from_str(&network).unwrap();
    for (row, spike) in rows.iter().zip(&recorded) {
        let x: Vec<f64> = row.split(',').map(|x| x.parse().unwrap()).collect();
        let (t, j): (f64, usize) = {
            let mut p = spike.split(',');
            (
                p.next().unwrap().parse().unwrap(),
                p.next().unwrap().parse().unwrap(),
            )
        };
        assert_eq!((x[0], x[1] as usize), (t, j));
        let threshold = net["thresholds"][j].as_f64().unwrap();
        let v = if j == 3 { x[2] } else { x[3] };
        assert!(
            v >= threshold * (1.0 - 1e-12),
            "v_{j} = {v} below T = {threshold} at its spike"
        );
    }
    // A plain run into the same directory removes the stale state files.
    run_ok(&model("boerlin-oscillator.toml"), &monitored, &["--quiet"]);
    assert!(!monitored.join("state.csv").exists());
    assert!(!monitored.join("state_at_spikes.csv").exists());
}

#[test]
fn a_runaway_cascade_is_reported_plainly_and_a_refractory_period_cures_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"casc\"\nseed = 1\n[network]\nneurons = 2\ndims = 1\nmu = 1e-6\n\
        decoder = [[0.1, -0.1]]\nfast_weights = [[0.01, -0.02], [-0.02, 0.01]]\n\
        [target]\nkind = \"linear\"\na = [[0.0]]\ninitial = [0.0]\n\
        [input]\nkind = \"constant\"\nvalues = [2.0]\n[simulate]\nduration = 0.5\n";
    let file = dir.path().join("casc.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let o = ebnsim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("same-instant cascade at t = ")
            && stderr.contains("among neurons 0, 1 ")
            && stderr.contains("network.refractory_period"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Cascade {"),
        "Display, not Debug: {stderr}"
    );
    assert!(
        !out.join("spikes.csv").exists(),
        "nothing written on failure"
    );
    let cured = text.replace("mu = 1e-6\n", "mu = 1e-6\nrefractory_period = 0.002\n");
    std::fs::write(&file, cured).unwrap();
    run_ok(&file, &out, &["--quiet"]);
    let network = std::fs::read_to_string(out.join("network.json")).unwrap();
    assert!(network.contains("\"refractory\": \"clamp\""), "{network}");
}

#[test]
fn progress_goes_to_log_lines_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/smooth-random-2d.toml"),
    )
    .unwrap();
    let model = dir.path().join("long.toml");
    std::fs::write(
        &model,
        shipped.replace("duration = 2.0 ", "duration = 200.0 "),
    )
    .unwrap();
    for (quiet, lines) in [(false, true), (true, false)] {
        let mut c = ebnsim();
        c.arg("run")
            .arg(&model)
            .arg("--out")
            .arg(dir.path().join("out"))
            .env("EBNSIM_PROGRESS_SECONDS", "0.01");
        if quiet {
            c.arg("--quiet");
        }
        let o = c.output().unwrap();
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        let shown = err
            .lines()
            .filter(|l| l.contains("INFO progress:") && l.contains(" of 200.000 s simulated ("))
            .count();
        assert_eq!(shown > 0, lines, "quiet = {quiet}: {err}");
        assert!(!err.contains('\u{1b}'), "no colour codes in a log: {err}");
    }
}
