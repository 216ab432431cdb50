//! Unit tests of the model-file parser.
use super::*;

const GOOD: &str = r#"
name = "t"
[network]
neurons = 3
dims = 2
decoder = [[0.1, -0.1, 0.05], [0.0, 0.1, -0.08]]
[simulate]
duration = 0.5
"#;

fn err(text: &str) -> String {
    parse(text, Path::new("m.toml")).unwrap_err().to_string()
}

#[test]
fn minimal_file_takes_the_defaults() {
    let m = parse(GOOD, Path::new("m.toml")).unwrap();
    assert_eq!(m.network.neurons(), 3);
    assert_eq!(m.network.lambda_d(), 10.0);
    assert_eq!(m.network.lambda_v(), 10.0);
    assert_eq!(m.target.a, vec![0.0; 4]);
    assert_eq!(m.target.initial, vec![0.0; 2]);
    assert_eq!(m.input, Signal::zero(2));
    assert_eq!(m.simulate.engine, EngineKind::Exact);
    assert_eq!(m.simulate.dense, DenseConfig::default());
    assert_eq!(m.record.readout_dt, 1e-3);
    assert_eq!(m.seed(), 0);
}

#[test]
fn syntax_errors_carry_the_field_path() {
    let e = err(&GOOD.replace("neurons = 3", "neurons = \"three\""));
    assert!(e.starts_with("m.toml: field `network.neurons`"), "{e}");
    assert!(e.contains("line 4"), "{e}");
    let e = err(&GOOD.replace("neurons = 3", "neurons = 3\nfoo = 1"));
    assert!(e.contains("`network.foo`"), "{e}");
    let e = err(&GOOD.replace("duration = 0.5", ""));
    assert!(e.contains("`simulate.duration`"), "{e}");
    let e = err(&format!("{GOOD}[target]\nkind = \"lorenz\"\n"));
    assert!(e.contains("`target.kind`") && e.contains("linear"), "{e}");
}

const LEARN: &str = r#"
name = "l"
[network]
neurons = 4
dims = 2
decoder = { random = "normal", scale = 0.05, normalize = true }
[target]
kind = "pendulum"
damping = 0.2
[basis]
kind = "rbf_grid"
range = [-1, 1]
per_dim = 3
[[phase]]
duration = 1
"#;

#[test]
fn learning_models_take_their_defaults() {
    let m = parse_learning(LEARN, Path::new("l.toml")).unwrap();
    assert_eq!(m.target.parameter("damping"), Some(0.2));
    assert_eq!(
        m.target.parameter("omega"),
        Some(crate::model::dynamics::DampedPendulum::DEFAULT_OMEGA)
    );
    assert_eq!(m.target.initial, vec![0.0; 2]);
    assert!(m.target.oscillates());
    assert_eq!(m.basis.len(), 9);
    assert_eq!(m.cascade_limit, DEFAULT_LEARNING_CASCADE_LIMIT);
    assert_eq!(m.network.slow_core(), Some(&[0.0; 4][..]));
    let p = &m.phases[0];
    assert_eq!(p.name, "phase0");
    assert_eq!(p.epoch, DEFAULT_EPOCH);
    assert!(p.zero_input && !p.learns() && p.feedback_gain == 0.0);
    assert_eq!(p.start, PhaseStart::Continue);
    assert!(is_learning_model(LEARN) && !is_learning_model(GOOD));
}

#[test]
fn learning_model_errors_name_the_field() {
    let e = |text: &str| {
        parse_learning(text, Path::new("l.toml"))
            .unwrap_err()
            .to_string()
    };
    let msg = e(&LEARN.replace("damping = 0.2", "damping = 0.2\nmu = 1"));
    assert!(msg.starts_with("l.toml: field `target.mu`"), "{msg}");
    let msg = e(&LEARN.replace("per_dim = 3", "per_dim = 3\ndegree = 2"));
    assert!(msg.contains("`basis.degree`"), "{msg}");
    let msg = e(&LEARN.replace("duration = 1", "duration = 0"));
    assert!(msg.contains("`phase[0].duration`"), "{msg}");
    let msg = e(&format!(
        "{LEARN}learning_rate_decay = {{ start = 1.0, to = 0.1 }}\n"
    ));
    assert!(
        msg.contains("`phase[0].learning_rate_decay.start`"),
        "{msg}"
    );
    let msg = e(&format!(
        "{LEARN}input = {{ kind = \"piecewise_constant\", times = [0.5], values = [[0, 0]] }}\n"
    ));
    assert!(msg.contains("`phase[0].input.times[0]`"), "{msg}");
    let msg = e(&LEARN.replace("[[phase]]\nduration = 1\n", ""));
    assert!(msg.contains("`phase`"), "{msg}");
    let msg = e(&LEARN.replace(
        "kind = \"pendulum\"\ndamping = 0.2",
        "kind = \"double_well\"",
    ));
    assert!(msg.contains("`target.kind`"), "{msg}");
    let msg = parse(LEARN, Path::new("l.toml")).unwrap_err().to_string();
    assert!(msg.contains("ebnsim learn"), "{msg}");
    let msg = e(GOOD);
    assert!(
        msg.contains("`basis`") && msg.contains("ebnsim run"),
        "{msg}"
    );
}

#[test]
fn phase_inputs_read_as_model_inputs() {
    let phase = |input: &str| {
        parse_learning(&format!("{LEARN}input = {input}\n"), Path::new("l.toml")).unwrap()
    };
    let ou = phase("{ kind = \"ou\", tau = 0.1, sigma = 2.0, mean = [1, 0] }");
    let smooth = phase(
        "{ kind = \"smooth_random\", correlation_time = 0.1, amplitude = 2.0, mean = [1, 0] }",
    );
    let p = &ou.phases[0];
    assert!(!p.zero_input);
    assert_eq!(p.input.knots().len(), 11);
    assert_eq!(p.input, smooth.phases[0].input, "ou is smooth_random");
    // The first phase's input is the model input over its duration, from the same seed.
    let plain = parse(
        &format!(
            "{}[input]\nkind = \"smooth_random\"\namplitude = 2\ncorrelation_time = 0.1\n\
             mean = [1, 0]\n",
            GOOD.replace("duration = 0.5", "duration = 1")
        ),
        Path::new("m.toml"),
    )
    .unwrap();
    assert_eq!(plain.input, p.input);
    let constant = phase("{ kind = \"constant\", values = [0, 0] }");
    assert!(!constant.phases[0].zero_input);
    assert!(phase("{ kind = \"zero\" }").phases[0].zero_input);
}

#[test]
fn phase_input_errors_name_the_phase_field() {
    let e = |input: &str| {
        parse_learning(&format!("{LEARN}input = {input}\n"), Path::new("l.toml"))
            .unwrap_err()
            .to_string()
    };
    let has = |msg: String, needles: &[&str]| {
        for n in needles {
            assert!(msg.contains(n), "expected {n:?} in: {msg}");
        }
    };
    has(
        e("{ kind = \"ou\", sigma = 1 }"),
        &[
            "field `phase[0].input.tau`",
            "a knot spacing in seconds (required with kind = \"ou\")",
            "no `tau` field",
        ],
    );
    has(
        e("{ kind = \"ou\", tau = 0, sigma = 1 }"),
        &[
            "field `phase[0].input.tau`",
            "positive knot spacing",
            "got 0",
        ],
    );
    has(
        e("{ kind = \"ou\", tau = 1e-9, sigma = 1 }"),
        &[
            "field `phase[0].input.tau`",
            "at most 5000000 random knot values \
             ((phase[0].duration / phase[0].input.tau + 1) × network.dims)",
            "knots × 2 dims",
        ],
    );
    has(
        e("{ kind = \"ou\", tau = 0.1, sigma = -1 }"),
        &["field `phase[0].input.sigma`", "non-negative", "got -1"],
    );
    has(
        e("{ kind = \"ou\", tau = 1e-3, sigma = 1e306 }"),
        &["field `phase[0].input.sigma`", "a finite spline"],
    );
    has(
        e("{ kind = \"smooth_random\", correlation_time = 0.1, amplitude = nan }"),
        &["field `phase[0].input.amplitude`", "finite"],
    );
    has(
        e("{ kind = \"ou\", tau = 0.1, sigma = 1, mean = [1, inf] }"),
        &["field `phase[0].input.mean[1]`", "finite"],
    );
    has(
        e("{ kind = \"ou\", tau = 0.1, sigma = 1, amplitude = 1 }"),
        &[
            "field `phase[0].input.amplitude`",
            "only the fields of kind = \"ou\" (besides `kind`: tau, sigma, mean)",
        ],
    );
    has(
        e("{ kind = \"piecewise_constant\", times = [0] }"),
        &[
            "field `phase[0].input.values`",
            "one d-vector per entry of `phase[0].input.times`",
        ],
    );
    has(
        e("{ kind = \"piecewise_linear\", times = [0, 1], values = [[0, 0]] }"),
        &["field `phase[0].input.values`", "one value per entry"],
    );
    has(
        e("{ kind = \"brownian\" }"),
        &[
            "field `phase[0].input.kind`",
            "one of zero, constant, piecewise_constant, piecewise_linear, smooth_random, ou",
            "got \"brownian\"",
        ],
    );
    has(
        e("{ tau = 0.1 }"),
        &["field `phase[0].input.kind`", "no `kind` field"],
    );
}
