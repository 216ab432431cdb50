//! Files that once hung the CLI, aborted it on a huge allocation or panicked: each now ends
//! within seconds under a 4 GB address-space limit, with exit 2 (1 for a run that fails) and a
//! message naming the file and the field.
#![cfg(target_os = "linux")]

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ebnsim");

/// Runs the CLI with `args` under a 4 GB address-space limit and a 20-s deadline (killed after
/// it: a hang fails the test instead of stalling it).
fn ebnsim(args: &[&std::ffi::OsStr]) -> (Output, Duration) {
    let mut c = Command::new(BIN);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: only setrlimit (async-signal-safe) between fork and exec.
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let mut child = c.spawn().unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ebnsim {args:?} did not end within 20 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

/// A learning model: `dims` dimensions, the `[basis]` lines given, one training phase (more
/// TOML after it in `extra`).
fn learning(dims: usize, basis: &str, neurons: usize, extra: &str) -> String {
    let a: Vec<String> = (0..dims)
        .map(|i| {
            let row: Vec<&str> = (0..dims)
                .map(|k| if i == k { "-1.0" } else { "0.0" })
                .collect();
            format!("[{}]", row.join(", "))
        })
        .collect();
    format!(
        "name = \"h\"\nseed = 2\n[network]\nneurons = {neurons}\ndims = {dims}\nlambda_d = 10.0\n\
         mu = 2.5e-5\ndecoder = {{ random = \"normal\", scale = 0.05, normalize = true }}\n\
         [target]\nkind = \"linear\"\na = [{}]\n[basis]\n{basis}\n\
         [[phase]]\nname = \"train\"\nduration = 1.0\n\
         input = {{ kind = \"ou\", tau = 0.05, sigma = 2.0 }}\nfeedback_gain = 30.0\n\
         learning_rate = 100.0\n{extra}",
        a.join(", ")
    )
}

fn plain(network: &str, input: &str, simulate: &str) -> String {
    format!(
        "name = \"h\"\nseed = 1\n[network]\n{network}\n[target]\nkind = \"linear\"\n\
         a = [[-10.0]]\n[input]\n{input}\n[simulate]\n{simulate}\n"
    )
}

const ONE_D: &str = "neurons = 20\ndims = 1\nlambda_d = 10.0\nlambda_v = 10.0\nmu = 1e-4\n\
                     decoder = { random = \"normal\", scale = 0.1, normalize = true }";
const DRIVE: &str = "kind = \"piecewise_constant\"\ntimes = [0.0]\nvalues = [[20.0]]";

/// Expects `code` and every fragment in stderr, within seconds.
fn refused(name: &str, out: &(Output, Duration), code: i32, fragments: &[&str]) {
    let (o, took) = out;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{name}: {err}");
    assert!(*took < Duration::from_secs(10), "{name}: took {took:?}");
    for f in fragments {
        assert!(err.contains(f), "{name}: no `{f}` in: {err}");
    }
    assert!(!err.contains("panicked"), "{name}: {err}");
    assert!(err.len() < 2000, "{name}: message of {} bytes", err.len());
}

fn run_model(dir: &Path, name: &str, text: &str) -> (Output, Duration) {
    let file = dir.join(name);
    fs::write(&file, text).unwrap();
    let out = dir.join(format!("out-{name}"));
    ebnsim(&[
        "run".as_ref(),
        file.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ])
}

#[test]
fn model_files_that_hung_or_exhausted_memory_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases: Vec<(&str, String, &[&str])> = vec![
        // (degree + 1)^d candidates were enumerated: C(25, 8) monomials now refused by count.
        (
            "monomials-17.toml",
            learning(17, "kind = \"monomials\"\ndegree = 8", 20, ""),
            &["monomials-17.toml", "basis.degree", "1081575 monomials"],
        ),
        (
            "monomials-30.toml",
            learning(30, "kind = \"monomials\"\ndegree = 6", 40, ""),
            &["monomials-30.toml", "basis.degree"],
        ),
        // count × N = 10¹⁰ projection entries (80 GB).
        (
            "tanh-on-trains.toml",
            learning(
                2,
                "kind = \"tanh_random\"\ncount = 100000\non = \"r\"",
                100_000,
                "",
            ),
            &["tanh-on-trains.toml", "basis.count", "count × N"],
        ),
        // d = 10⁹: an 8-GB matrix was built before the dims check.
        (
            "dims.toml",
            learning(1, "kind = \"linear\"", 20, "").replace("dims = 1\n", "dims = 1000000000\n"),
            &["dims.toml", "network.dims"],
        ),
        // A noise interval below the time resolution at the phase's end froze time.
        (
            "noise-interval.toml",
            learning(1, "kind = \"linear\"", 20, "").replace(
                "name = \"train\"\nduration = 1.0\n",
                "name = \"wait\"\nduration = 1e6\ninput = { kind = \"zero\" }\n\
                     learning_rate = 0.0\n[[phase]]\nname = \"train\"\nduration = 1.0\n\
                     noise = { sigma = 0.1, interval = 1e-12 }\n",
            ) + "[record]\nreadout_dt = 100.0\n",
            &["noise-interval.toml", "phase[1].noise.interval", "1e-12 s"],
        ),
        // σ = 10³⁰⁰ weight noise overflowed the currents (reported as a cascade).
        (
            "weight-noise.toml",
            learning(
                1,
                "kind = \"linear\"",
                20,
                "weight_noise = { sigma = 1e300 }\n",
            ),
            &["weight-noise.toml", "phase[0].weight_noise.sigma", "1e300"],
        ),
        // 999 phases of fine `ou` input: 10⁹ knots over all phases.
        (
            "ou-phases.toml",
            learning(1, "kind = \"linear\"", 20, "")
                + &(0..999)
                    .map(|i| {
                        format!(
                            "[[phase]]\nname = \"p{i}\"\nduration = 1000.0\n\
                             input = {{ kind = \"ou\", tau = 0.001, sigma = 2.0 }}\n\
                             learning_rate = 0.0\n"
                        )
                    })
                    .collect::<String>()
                + "[record]\nreadout_dt = 10.0\n",
            &["ou-phases.toml", "input.tau", "over all inputs"],
        ),
        // Both N×N matrices (4 GB at N = 16384) were built before the shape check.
        (
            "dense-shape.toml",
            plain(
                "neurons = 16384\ndims = 1\n\
                 decoder = { random = \"normal\", scale = 0.1, normalize = true }\n\
                 fast_weights = [[0.0, 1.0], [1.0, 0.0]]",
                DRIVE,
                "duration = 0.1",
            ),
            &["dense-shape.toml", "network.fast_weights", "16384 rows"],
        ),
        // The readout cap: exit 2 (the file's input), not 1.
        (
            "readout.toml",
            plain(ONE_D, DRIVE, "duration = 1000.0") + "[record]\nreadout_dt = 1e-9\n",
            &["readout.toml", "record.readout_dt", "readout samples"],
        ),
        // Deliveries queued forever.
        (
            "fast-delay.toml",
            plain(
                &format!("{ONE_D}\nfast_delay = 1e300"),
                DRIVE,
                "duration = 10.0",
            ),
            &["fast-delay.toml", "network.fast_delay", "1e300 s"],
        ),
        // 10³⁰⁰ dense steps; and a step longer than the run.
        (
            "dense-dt.toml",
            plain(
                ONE_D,
                DRIVE,
                "duration = 1.0\nengine = \"dense\"\ndt = 1e-300",
            ),
            &["dense-dt.toml", "simulate.dt", "1e-300 s"],
        ),
        (
            "dense-long-dt.toml",
            plain(
                ONE_D,
                DRIVE,
                "duration = 0.01\nengine = \"dense\"\ndt = 0.1",
            ),
            &[
                "dense-long-dt.toml",
                "simulate.dt",
                "at most the run's duration",
            ],
        ),
        // An unstable target: the exact run never ended (spikes growing like e^{100 t}).
        (
            "unstable.toml",
            plain(ONE_D, DRIVE, "duration = 1.0").replace("a = [[-10.0]]", "a = [[100.0]]"),
            &["unstable.toml", "simulate.duration", "spikes", "--force"],
        ),
        // A run of 10¹² s (a typo for 10² ?), sparsely recorded.
        (
            "endless.toml",
            plain(ONE_D, DRIVE, "duration = 1e12") + "[record]\nreadout_dt = 1e6\n",
            &[
                "endless.toml",
                "simulate.duration",
                "1e10 spikes",
                "--force",
            ],
        ),
        // 10¹⁴ dense neuron updates.
        (
            "dense-work.toml",
            plain(
                &ONE_D.replace("neurons = 20", "neurons = 100000"),
                DRIVE,
                "duration = 1e4\nengine = \"dense\"\ndt = 1e-5",
            ) + "[record]\nreadout_dt = 1.0\n",
            &["dense-work.toml", "neuron updates", "--force"],
        ),
    ];
    for (name, text, fragments) in &cases {
        let out = run_model(dir, name, text);
        refused(name, &out, 2, fragments);
    }
    // Learning phases: their teacher's estimate, at each phase's start.
    let linear = "kind = \"linear\"";
    let constant = "input = { kind = \"constant\", values = [1.0] }";
    let learning_cases = [
        (
            "learn-unstable.toml",
            learning(1, linear, 20, "").replace("a = [[-1.0]]", "a = [[100.0]]"),
            vec![
                "learn-unstable.toml",
                "phase[0].duration",
                "spikes",
                "--force",
            ],
        ),
        // A readout of 10⁴ held for 10⁴ s: ~10¹¹ spikes (a typo in the command's scale?).
        (
            "learn-endless.toml",
            learning(1, linear, 20, "[record]\nreadout_dt = 1.0\n")
                .replace("duration = 1.0", "duration = 1e4")
                .replace("learning_rate = 100.0", "learning_rate = 0.0")
                .replace(
                    "input = { kind = \"ou\", tau = 0.05, sigma = 2.0 }",
                    &constant.replace("[1.0]", "[1e4]"),
                ),
            vec!["learn-endless.toml", "phase[0].duration", "1e10 spikes"],
        ),
        (
            "learn-dense-work.toml",
            learning(
                1,
                linear,
                100_000,
                "[record]\nreadout_dt = 1.0\n[simulate]\nengine = \"dense\"\ndt = 1e-5\n",
            )
            .replace("duration = 1.0", "duration = 1e4")
            .replace(
                "input = { kind = \"ou\", tau = 0.05, sigma = 2.0 }",
                constant,
            ),
            vec![
                "learn-dense-work.toml",
                "phase[0].duration",
                "neuron updates",
                "--force",
            ],
        ),
    ];
    for (name, text, fragments) in &learning_cases {
        let file = dir.join(name);
        fs::write(&file, text).unwrap();
        let out = dir.join(format!("out-{name}"));
        let args = ["learn", "-q", "--out"].map(std::ffi::OsStr::new);
        let o = ebnsim(&[&args[..], &[out.as_os_str(), file.as_os_str()]].concat());
        refused(name, &o, 2, fragments);
    }
    // With --force the phase runs (and would for hours: stopped here after a second).
    let mut forced = std::process::Command::new(BIN)
        .args(["learn", "-q", "--force", "--out"])
        .arg(dir.join("out-forced"))
        .arg(dir.join("learn-endless.toml"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let running = forced.try_wait().unwrap().is_none();
    let _ = forced.kill();
    let status = forced.wait_with_output().unwrap();
    assert!(
        running,
        "--force: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn a_rounding_level_ping_pong_stops_like_a_cascade() {
    // An antipodal pair with thresholds far below its resets: each pair of spikes undoes itself
    // up to rounding, and the next pair follows 5e-16 s later — forever, before.
    let tmp = tempfile::tempdir().unwrap();
    let text = plain(
        "neurons = 2\ndims = 1\nlambda_d = 10.0\nlambda_v = 10.0\nmu = 0.0\n\
         decoder = [[1.0, -1.0]]\nthresholds = [1e-7, 1e-7]",
        "kind = \"piecewise_constant\"\ntimes = [0.0]\nvalues = [[1.0]]",
        "duration = 0.001",
    );
    let out = run_model(tmp.path(), "ping-pong.toml", &text);
    refused(
        "ping-pong",
        &out,
        1,
        &[
            "ping-pong.toml",
            "same-instant cascade",
            "less than a picosecond apart",
            "network.refractory_period",
        ],
    );
}

#[test]
fn weights_files_with_huge_values_or_claims_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let model = dir.join("lin.toml");
    fs::write(&model, learning(1, "kind = \"linear\"", 20, "")).unwrap();
    let learned = dir.join("learned");
    let (o, _) = ebnsim(&[
        "learn".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        learned.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut w: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(learned.join("weights.json")).unwrap()).unwrap();
    let mut files = Vec::new();
    // Finite but overflowing weights never returned from the crossing search.
    w["u"] = serde_json::json!([[1e308]]);
    files.push((
        "huge-u.json",
        w.to_string(),
        vec!["huge-u.json", "u[0][0]", "1e308"],
    ));
    // A short file claiming 10⁷ tanh features in 400 dimensions reserved 32 GB.
    let mut claim = w.clone();
    claim["dims"] = serde_json::json!(400);
    claim["basis"] = serde_json::json!({"kind": "tanh_random", "on": "xhat", "size": 10_000_000,
                                        "m": [[0.0]], "theta": [0.0]});
    files.push((
        "claim.json",
        claim.to_string(),
        vec!["claim.json", "basis."],
    ));
    for (name, text, fragments) in files {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        let out = ebnsim(&[
            "run".as_ref(),
            model.as_os_str(),
            "--weights".as_ref(),
            path.as_os_str(),
            "--out".as_ref(),
            dir.join("out").as_os_str(),
            "--quiet".as_ref(),
        ]);
        refused(name, &out, 2, &fragments);
    }
}

#[test]
fn plot_reads_only_what_the_files_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    fs::create_dir(&run).unwrap();
    // Neuron 4294967295 in two lines: the raster allocated a train per neuron up to it.
    fs::write(
        run.join("spikes.csv"),
        "time,neuron\n0.1,4294967295\n0.2,4294967295\n",
    )
    .unwrap();
    let figs = tmp.path().join("figs");
    let (o, took) = ebnsim(&[
        "plot".as_ref(),
        run.as_os_str(),
        "--out".as_ref(),
        figs.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(took < Duration::from_secs(10));
    assert!(figs.join("raster.svg").is_file());
    // A summary claiming 10¹⁸ neurons panicked with "capacity overflow".
    fs::write(
        run.join("summary.json"),
        r#"{"neurons": 1000000000000000000, "dims": 1, "duration": 1}"#,
    )
    .unwrap();
    let out = ebnsim(&[
        "plot".as_ref(),
        run.as_os_str(),
        "--out".as_ref(),
        figs.as_os_str(),
    ]);
    refused(
        "neurons",
        &out,
        2,
        &["summary.json", "`neurons`", "at most"],
    );
}

#[test]
fn messages_name_the_field_in_plain_words() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shipped = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/boerlin-oscillator.toml"),
    )
    .unwrap();
    let top = |line: &str| shipped.replacen("seed = 7 ", &format!("{line}\nseed = 7 "), 1);
    let without_simulate = {
        let (a, b) = shipped.split_at(shipped.find("[simulate]").unwrap());
        format!("{a}{}", &b[b.find("[record]").unwrap()..])
    };
    let cases: Vec<(&str, String, &[&str])> = vec![
        // serde's "wanted string or table", without the field before.
        (
            "kind.toml",
            shipped.replacen("kind = \"piecewise_constant\"", "kind = 3", 1),
            &[
                "field `input.kind`",
                "a string (the kind's name) or a table",
            ],
        ),
        // "expected struct RawSimulate" named an internal type.
        (
            "table.toml",
            without_simulate.replacen("seed = 7 ", "simulate = 3\nseed = 7 ", 1),
            &["field `simulate`", "expected a table"],
        ),
        // 1e300 was printed with 300 digits.
        (
            "digits.toml",
            shipped.replacen("neurons = 40 ", "neurons = 1e300 ", 1),
            &[
                "field `network.neurons`",
                "`1e300`",
                "a non-negative integer",
            ],
        ),
        (
            "seed.toml",
            top("").replacen("seed = 7 ", "seed = -1 ", 1),
            &["field `seed`"],
        ),
    ];
    for (name, text, fragments) in &cases {
        let out = run_model(dir, name, text);
        refused(name, &out, 2, fragments);
        let err = String::from_utf8_lossy(&out.0.stderr);
        assert!(
            !err.contains("Raw") && !err.contains("usize"),
            "{name}: {err}"
        );
    }
    // --cascade-limit 0 was silently 1.
    let model = dir.join("m.toml");
    fs::write(&model, &shipped).unwrap();
    let out = ebnsim(&[
        "run".as_ref(),
        model.as_os_str(),
        "--cascade-limit".as_ref(),
        "0".as_ref(),
        "--out".as_ref(),
        dir.join("o").as_os_str(),
    ]);
    refused("cascade-limit", &out, 2, &["--cascade-limit", "got 0"]);
    // A name with escape sequences is shown escaped, not sent to the terminal.
    let named = dir.join("named.toml");
    fs::write(
        &named,
        shipped.replacen(
            "name = \"boerlin-oscillator\"",
            "name = \"\\u001b[31mred\"",
            1,
        ),
    )
    .unwrap();
    let (o, _) = ebnsim(&[
        "run".as_ref(),
        named.as_os_str(),
        "--out".as_ref(),
        dir.join("o").as_os_str(),
    ]);
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(shown.starts_with("\\u{1b}[31mred: exact engine"), "{shown}");
    assert!(!shown.contains('\u{1b}'));
}

#[test]
fn no_silent_wrong_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A teacher growing as e^{100 t}: inf in readout.csv and "RMSE inf" with exit 0, before.
    let text = plain(
        ONE_D,
        "kind = \"zero\"",
        "duration = 10.0\nengine = \"dense\"",
    )
    .replace("a = [[-10.0]]", "a = [[100.0]]\ninitial = [1.0]");
    let out = run_model(dir, "overflow.toml", &text);
    refused(
        "overflow",
        &out,
        1,
        &["overflow.toml", "the target x is not finite at t = ", "inf"],
    );
    assert!(!dir.join("out-overflow.toml").join("readout.csv").exists());
    // The dense stepper says when its spike rule deferred spikes; the exact engine has nothing
    // to say.
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/boerlin-oscillator.toml");
    for (engine, warned) in [("dense", true), ("exact", false)] {
        let out = dir.join(engine);
        let (o, _) = ebnsim(&[
            "run".as_ref(),
            model.as_os_str(),
            "--engine".as_ref(),
            engine.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
            "--quiet".as_ref(),
        ]);
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        let summary: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        if warned {
            let saturated = summary["counters"]["saturated_steps"].as_u64().unwrap();
            assert!(saturated > 0);
            let w = summary["warnings"][0].as_str().unwrap();
            assert!(
                w.contains(&format!("deferred spikes in {saturated} of 10000 steps")),
                "{w}"
            );
            assert!(err.contains(&format!("warning: {w}")), "{err}");
        } else {
            assert!(summary.get("warnings").is_none() && err.is_empty(), "{err}");
        }
    }
}
