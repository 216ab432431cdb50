//! Model files: the shipped models load, malformed files give errors that name the file, the field
//! and what was expected, no input makes the parser panic, and random draws follow the seed.

use std::path::{Path, PathBuf};

use ebnsim::engine::dense::{Integrator, SpikeRule};
use ebnsim::engine::EngineKind;
use ebnsim::error::ModelError;
use ebnsim::io::model_file::{load, parse, Model};
use proptest::prelude::*;

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// The shipped models for `ebnsim run` (learning models excluded: see `shipped_learning_models`).
fn shipped_models() -> Vec<PathBuf> {
    all_shipped_models()
        .into_iter()
        .filter(|p| !is_learning(p))
        .collect()
}

/// The shipped learning models (`[basis]` and `[[phase]]`, for `ebnsim learn`).
fn shipped_learning_models() -> Vec<PathBuf> {
    all_shipped_models()
        .into_iter()
        .filter(|p| is_learning(p))
        .collect()
}

fn is_learning(p: &std::path::Path) -> bool {
    ebnsim::io::model_file::is_learning_model(&std::fs::read_to_string(p).expect("readable"))
}

fn all_shipped_models() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(models_dir())
        .expect("models/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_learning_model_loads_and_run_refuses_it() {
    let files = shipped_learning_models();
    assert!(
        files.len() >= 2,
        "expected learning models, found {files:?}"
    );
    for file in files {
        let m = ebnsim::io::model_file::load_learning(&file).unwrap_or_else(|e| panic!("{e}"));
        let stem = file.file_stem().and_then(|s| s.to_str()).expect("utf-8");
        assert_eq!(m.name, stem, "{}", file.display());
        assert!(!m.description.is_empty(), "{}", file.display());
        assert!(!m.phases.is_empty());
        assert!(std::fs::read_to_string(&file).unwrap().starts_with('#'));
        let e = load(&file).unwrap_err().to_string();
        assert!(
            e.contains(file.to_str().unwrap()) && e.contains("ebnsim learn"),
            "{e}"
        );
    }
}

#[test]
fn mutated_learning_models_never_panic() {
    for file in shipped_learning_models() {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for skip in 0..lines.len() {
            let mutated: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            let _ = ebnsim::io::model_file::parse_learning(&mutated.join("\n"), &file);
            let swapped = text.replacen(lines[skip], &lines[skip].replace('.', "e"), 1);
            let _ = ebnsim::io::model_file::parse_learning(&swapped, &file);
        }
    }
}

fn read_model(name: &str) -> String {
    std::fs::read_to_string(models_dir().join(name)).expect("shipped model is readable")
}

const FILE: &str = "models/bad-model.toml";

/// A valid model using every section; the malformed cases are edits of it.
const BASE: &str = r#"
name = "base"
description = "test model"
seed = 4

[network]
neurons = 3
dims = 2
lambda_d = 10.0
lambda_v = 20.0
mu = 1e-6
nu = 0.0
fast_delay = 0.0
decoder = [[0.1, -0.1, 0.05],
           [0.0, 0.1, -0.08]]

[target]
kind = "linear"
a = [[-4.8, -22.4], [40.0, 0.0]]
initial = [0.0, 0.0]

[input]
kind = "piecewise_constant"
times = [0.0, 0.05, 0.1]
values = [[0.0, 0.0], [50.0, 0.0], [0.0, 0.0]]

[simulate]
duration = 1.0
engine = "exact"

[record]
readout_dt = 1e-3
"#;

fn parse_base(text: &str) -> Result<Model, ModelError> {
    parse(text, Path::new(FILE))
}

/// Replaces exactly one occurrence of `from` in `text` (fails the test if there is none).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "test bug: `{from}` not in the text");
    text.replacen(from, to, 1)
}

/// Asserts that `text` fails and that the message starts with the file, names `field` and
/// contains `expected`.
#[track_caller]
fn fails(text: &str, field: &str, expected: &str) -> ModelError {
    let err = match parse_base(text) {
        Ok(_) => panic!("expected an error about `{field}`, but the model parsed:\n{text}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{FILE}: ")),
        "message must start with the file:\n{msg}"
    );
    assert!(msg.contains(field), "message must name `{field}`:\n{msg}");
    assert!(
        msg.contains(expected),
        "message must say `{expected}`:\n{msg}"
    );
    err
}

#[track_caller]
fn invalid(text: &str, field: &str, expected: &str) {
    let err = fails(text, field, expected);
    match err {
        ModelError::Invalid { error, .. } => assert_eq!(error.field, field, "{error}"),
        other => panic!("expected ModelError::Invalid, got {other:?}"),
    }
}

#[track_caller]
fn syntax(text: &str, field: &str, expected: &str) {
    let err = fails(text, field, expected);
    assert!(
        matches!(err, ModelError::Syntax { .. }),
        "expected ModelError::Syntax, got {err:?}"
    );
}

fn with_input(input: &str) -> String {
    let start = BASE.find("[input]").expect("BASE has [input]");
    let end = BASE.find("[simulate]").expect("BASE has [simulate]");
    format!("{}{input}\n{}", &BASE[..start], &BASE[end..])
}

fn with_random_decoder(neurons: &str, dims: &str, table: &str) -> String {
    let t = edit(BASE, "neurons = 3", &format!("neurons = {neurons}"));
    let t = edit(&t, "dims = 2", &format!("dims = {dims}"));
    let t = edit(
        &t,
        "decoder = [[0.1, -0.1, 0.05],\n           [0.0, 0.1, -0.08]]",
        &format!("decoder = {table}"),
    );
    // Keep the rest consistent with `dims` by dropping the d-sized sections.
    let start = t.find("[target]").expect("[target]");
    let end = t.find("[simulate]").expect("[simulate]");
    format!("{}{}", &t[..start], &t[end..])
}

// ---------------------------------------------------------------------------------------------
// Shipped models.

#[test]
fn every_shipped_model_loads() {
    let files = shipped_models();
    assert!(
        files.len() >= 5,
        "expected the shipped models, found {files:?}"
    );
    for file in files {
        let model = load(&file).unwrap_or_else(|e| panic!("{e}"));
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 file name");
        assert_eq!(
            model.name,
            stem,
            "{}: name should match the file name",
            file.display()
        );
        assert!(
            !model.description.is_empty(),
            "{}: description",
            file.display()
        );
        assert!(
            model.simulate.duration > 0.0 && model.simulate.duration <= 2.0,
            "{}",
            file.display()
        );
        let d = model.network.dims();
        assert_eq!(model.input.dims(), d);
        assert_eq!(model.target.a.len(), d * d);
        assert_eq!(model.target.initial.len(), d);
        let text = std::fs::read_to_string(&file).expect("readable");
        assert!(
            text.starts_with('#'),
            "{}: starts with a comment header",
            file.display()
        );
    }
}

#[test]
fn boerlin_oscillator_has_the_published_parameters() {
    let m = load(&models_dir().join("boerlin-oscillator.toml")).expect("loads");
    let net = &m.network;
    assert_eq!((net.neurons(), net.dims()), (40, 2));
    assert_eq!(
        (net.lambda_d(), net.lambda_v(), net.mu(), net.nu()),
        (10.0, 20.0, 1e-6, 0.0)
    );
    assert_eq!(m.target.a, vec![-4.8, -22.4, 40.0, 0.0]);
    assert_eq!(net.dynamics(), &m.target.a[..]);
    for i in 0..net.neurons() {
        let norm: f64 = net.decoder(i).iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(
            (norm - 0.1).abs() < 1e-12,
            "normalized decoder column {i}: {norm}"
        );
    }
    assert!(net.is_low_rank());
    assert_eq!(m.input.knots(), &[0.0, 0.05, 0.1]);
    let mut c = [0.0; 2];
    m.input.eval(0.07, &mut c);
    assert_eq!(c, [50.0, 0.0]);
    assert_eq!(m.simulate.duration, 1.0);
    assert_eq!(m.simulate.engine, EngineKind::Exact);
}

#[test]
fn perfect_integrator_uses_its_explicit_decoder() {
    let m = load(&models_dir().join("perfect-integrator.toml")).expect("loads");
    assert_eq!(m.network.dims(), 1);
    assert_eq!(m.network.decoder(3), &[0.12]);
    assert_eq!(m.target.a, vec![0.0]);
    // Derived thresholds (|D_i|^2 + mu + nu) / 2.
    assert!((m.network.thresholds()[0] - (0.01 + 1e-4) / 2.0).abs() < 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Valid variations.

#[test]
fn base_model_and_defaults() {
    let m = parse_base(BASE).expect("BASE is valid");
    assert_eq!(m.name, "base");
    assert_eq!(m.seed(), 4);
    assert_eq!(m.record.readout_dt, 1e-3);

    let minimal = "name = \"m\"\n[network]\nneurons = 2\ndims = 1\ndecoder = [[0.1, -0.1]]\n\
                   [simulate]\nduration = 0.5\n";
    let m = parse_base(minimal).expect("minimal model is valid");
    assert_eq!(m.description, "");
    assert_eq!(m.seed(), 0);
    assert_eq!(m.network.lambda_d(), 10.0);
    assert_eq!(m.network.lambda_v(), 10.0);
    assert_eq!(
        (m.network.mu(), m.network.nu(), m.network.fast_delay()),
        (0.0, 0.0, 0.0)
    );
    assert_eq!(m.target.a, vec![0.0]);
    assert_eq!(m.target.initial, vec![0.0]);
    assert_eq!(m.input, ebnsim::model::signal::Signal::zero(1));
    assert_eq!(m.simulate.engine, EngineKind::Exact);
    assert_eq!(m.simulate.dense.dt, 1e-4);
    assert_eq!(m.simulate.dense.integrator, Integrator::Exponential);
    assert_eq!(m.simulate.dense.spike_rule, SpikeRule::OnePerStep);
    assert_eq!(m.record.readout_dt, 1e-3);
}

#[test]
fn dense_engine_options() {
    let t = edit(
        BASE,
        "engine = \"exact\"",
        "engine = \"dense\"\ndt = 5e-5\nintegrator = \"euler\"\nspike_rule = \"greedy\"",
    );
    let m = parse_base(&t).expect("valid");
    assert_eq!(m.simulate.engine, EngineKind::Dense);
    assert_eq!(m.simulate.dense.dt, 5e-5);
    assert_eq!(m.simulate.dense.integrator, Integrator::Euler);
    assert_eq!(m.simulate.dense.spike_rule, SpikeRule::Greedy);
    let t = edit(
        BASE,
        "engine = \"exact\"",
        "engine = \"dense\"\nspike_rule = \"all\"",
    );
    assert_eq!(
        parse_base(&t).expect("valid").simulate.dense.spike_rule,
        SpikeRule::All
    );
}

#[test]
fn every_input_kind() {
    let mut c = [0.0; 2];
    let m = parse_base(&with_input(
        "[input]\nkind = \"piecewise_linear\"\ntimes = [0, 1]\nvalues = [[0, 0], [2, 4]]",
    ))
    .expect("valid");
    m.input.eval(0.5, &mut c);
    assert_eq!(c, [1.0, 2.0]);
    let m = parse_base(&with_input(
        "[input]\nkind = \"constant\"\nvalues = [1.5, -2]",
    ))
    .expect("valid");
    m.input.eval(0.3, &mut c);
    assert_eq!(c, [1.5, -2.0]);
    let m = parse_base(&with_input("[input]\nkind = \"zero\"")).expect("valid");
    m.input.eval(0.3, &mut c);
    assert_eq!(c, [0.0, 0.0]);
    let m = parse_base(&with_input(
        "[input]\nkind = \"smooth_random\"\namplitude = 2.0\ncorrelation_time = 0.1\nmean = [5, 0]",
    ))
    .expect("valid");
    // Knots every 0.1 s over the 1 s duration.
    assert_eq!(m.input.knots().len(), 11);
    let mut mean = 0.0;
    for k in 0..100 {
        m.input.eval(k as f64 * 0.01, &mut c);
        mean += c[0] / 100.0;
    }
    assert!(
        mean > 2.0,
        "mean of the first component should be near 5: {mean}"
    );
    // Without [input] the input is zero.
    let t = with_input("");
    assert_eq!(
        parse_base(&t).expect("valid").input,
        ebnsim::model::signal::Signal::zero(2)
    );
}

#[test]
fn explicit_weights_and_representations() {
    let t = edit(
        BASE,
        "fast_delay = 0.0",
        "fast_delay = 0.0\nweights = \"dense\"",
    );
    assert!(!parse_base(&t).expect("valid").network.is_low_rank());
    let t = edit(
        BASE,
        "fast_delay = 0.0",
        "fast_delay = 0.0\nweights = \"low_rank\"",
    );
    assert!(parse_base(&t).expect("valid").network.is_low_rank());
    let t = edit(
        BASE,
        "fast_delay = 0.0",
        "fast_delay = 0.0\nfast_weights = [[0.02, 0, 0], [0, 0.02, 0], [0, 0, 0.02]]\n\
         slow_weights = [[0, 0.1, 0], [0, 0, 0], [0, 0, 0]]\nthresholds = [0.01, 0.01, 0.02]",
    );
    let m = parse_base(&t).expect("valid");
    assert!(!m.network.is_low_rank());
    assert_eq!(m.network.fast_weight(1, 0), 0.0);
    assert_eq!(m.network.slow_weight(0, 1), 0.1);
    assert_eq!(m.network.thresholds(), &[0.01, 0.01, 0.02]);
}

// ---------------------------------------------------------------------------------------------
// Malformed files.

#[test]
fn whole_file_errors() {
    syntax("", "empty", "expected a TOML model file");
    syntax("  \n# only a comment\n", "name", "missing field");
    let e = fails("this is not toml", "line 1", "TOML parse error");
    assert!(matches!(e, ModelError::Syntax { .. }));
    syntax(
        &format!("name = \"again\"\n{BASE}"),
        "name",
        "duplicate key",
    );
    syntax(
        &edit(BASE, "name = \"base\"\n", ""),
        "name",
        "missing field `name`",
    );
    invalid(
        &edit(BASE, "name = \"base\"", "name = \"  \""),
        "name",
        "a non-empty model name",
    );
    syntax(
        &edit(BASE, "name = \"base\"", "name = 3"),
        "name",
        "expected a string",
    );
    syntax(
        &edit(BASE, "seed = 4", "seed = -1"),
        "seed",
        "expected a non-negative integer",
    );
    syntax(
        &edit(BASE, "seed = 4", "seed = 4\ncolour = \"red\""),
        "colour",
        "unknown field",
    );
    syntax(
        &format!("{BASE}\n[plot]\nwidth = 3\n"),
        "plot",
        "unknown field",
    );
    let start = BASE.find("[network]").expect("[network]");
    let end = BASE.find("[target]").expect("[target]");
    let no_network = format!("{}{}", &BASE[..start], &BASE[end..]);
    syntax(&no_network, "network", "missing field `network`");
}

#[test]
fn network_shape_errors() {
    invalid(
        &edit(BASE, "neurons = 3", "neurons = 0"),
        "network.neurons",
        "at least 1 neuron",
    );
    invalid(
        &edit(BASE, "dims = 2", "dims = 0"),
        "network.dims",
        "at least 1 dimension",
    );
    invalid(
        &edit(BASE, "dims = 2", "dims = 5000"),
        "network.dims",
        "at most 1000",
    );
    invalid(
        &edit(BASE, "neurons = 3", "neurons = 4"),
        "network.decoder[0]",
        "4 numbers",
    );
    invalid(
        &edit(BASE, "dims = 2", "dims = 3"),
        "network.decoder",
        "3 rows",
    );
    invalid(
        &edit(BASE, "dims = 2", "dims = 1"),
        "network.decoder",
        "1 rows",
    );
    invalid(
        &edit(BASE, "[0.0, 0.1, -0.08]", "[0.0, 0.1]"),
        "network.decoder[1]",
        "3 numbers (one per neuron",
    );
    invalid(
        &edit(BASE, "neurons = 3", "neurons = 9223372036854775807"),
        "network.decoder[0]",
        "9223372036854775807 numbers",
    );
    syntax(
        &edit(BASE, "neurons = 3", "neurons = \"three\""),
        "network.neurons",
        "expected a non-negative integer",
    );
    syntax(
        &edit(BASE, "neurons = 3", "neurons = 3.5"),
        "network.neurons",
        "expected a non-negative integer",
    );
    syntax(
        &edit(BASE, "neurons = 3", "neurons = -3"),
        "network.neurons",
        "expected a non-negative integer",
    );
    syntax(
        &edit(BASE, "dims = 2\n", ""),
        "network.dims",
        "missing field `dims`",
    );
    syntax(
        &edit(BASE, "mu = 1e-6", "mu = 1e-6\ngain = 2"),
        "network.gain",
        "unknown field",
    );
}

#[test]
fn network_value_errors() {
    invalid(
        &edit(BASE, "lambda_d = 10.0", "lambda_d = 0"),
        "network.lambda_d",
        "positive",
    );
    invalid(
        &edit(BASE, "lambda_d = 10.0", "lambda_d = -10"),
        "network.lambda_d",
        "positive",
    );
    invalid(
        &edit(BASE, "lambda_d = 10.0", "lambda_d = inf"),
        "network.lambda_d",
        "finite",
    );
    invalid(
        &edit(BASE, "lambda_v = 20.0", "lambda_v = nan"),
        "network.lambda_v",
        "finite",
    );
    invalid(
        &edit(BASE, "lambda_v = 20.0", "lambda_v = -inf"),
        "network.lambda_v",
        "finite",
    );
    invalid(
        &edit(BASE, "mu = 1e-6", "mu = -1"),
        "network.mu",
        "non-negative",
    );
    invalid(
        &edit(BASE, "nu = 0.0", "nu = -0.5"),
        "network.nu",
        "non-negative",
    );
    invalid(&edit(BASE, "nu = 0.0", "nu = nan"), "network.nu", "finite");
    invalid(
        &edit(BASE, "fast_delay = 0.0", "fast_delay = -1e-3"),
        "network.fast_delay",
        "non-negative delay",
    );
    invalid(
        &edit(BASE, "-0.08]", "nan]"),
        "network.decoder[1][2]",
        "a finite number",
    );
    invalid(
        &edit(BASE, "-0.08]", "inf]"),
        "network.decoder[1][2]",
        "a finite number",
    );
    syntax(
        &edit(BASE, "-0.08]", "\"x\"]"),
        "network.decoder",
        "expected a number",
    );
    syntax(
        &edit(
            BASE,
            "[[0.1, -0.1, 0.05],\n           [0.0, 0.1, -0.08]]",
            "5",
        ),
        "network.decoder",
        "d×N array",
    );
    // A zero decoder column with mu = 0 has a zero threshold and never resets.
    let zero_column = edit(
        &edit(BASE, "mu = 1e-6", "mu = 0"),
        "[0.1, -0.1, 0.05]",
        "[0.1, 0.0, 0.05]",
    );
    let zero_column = edit(&zero_column, "[0.0, 0.1, -0.08]", "[0.0, 0.0, -0.08]");
    invalid(&zero_column, "network.decoder (column 1)", "positive reset");
    // With mu > 0 the same decoder is fine.
    let ok = edit(&zero_column, "mu = 0", "mu = 0.01");
    assert!(parse_base(&ok).is_ok());
}

#[test]
fn threshold_and_weight_errors() {
    let with = |extra: &str| {
        edit(
            BASE,
            "fast_delay = 0.0",
            &format!("fast_delay = 0.0\n{extra}"),
        )
    };
    invalid(
        &with("thresholds = [0.1, 0.1]"),
        "network.thresholds",
        "3 numbers",
    );
    invalid(
        &with("thresholds = [0.1, -0.1, 0.1]"),
        "network.thresholds[1]",
        "a positive threshold",
    );
    invalid(
        &with("thresholds = [0.1, 0.1, nan]"),
        "network.thresholds[2]",
        "a finite number",
    );
    invalid(
        &with("fast_weights = [[1, 0, 0], [0, 1, 0]]"),
        "network.fast_weights",
        "3 rows",
    );
    invalid(
        &with("slow_weights = [[1, 0, 0], [0, 1], [0, 0, 1]]"),
        "network.slow_weights[1]",
        "3 entries",
    );
    invalid(
        &with("slow_weights = [[1, 0, 0], [0, inf, 0], [0, 0, 1]]"),
        "network.slow_weights[1][1]",
        "a finite number",
    );
    invalid(
        &with("fast_weights = [[0, 0, 0], [0, 1, 0], [0, 0, 1]]"),
        "network.fast_weights[0][0]",
        "a positive reset",
    );
    invalid(
        &with("weights = \"low_rank\"\nfast_weights = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]"),
        "network.weights",
        "`dense` or `auto`",
    );
    syntax(
        &with("weights = \"sparse\""),
        "network.weights",
        "`auto`, `low_rank`, `dense`",
    );
}

#[test]
fn random_decoder_errors() {
    let table = "{ random = \"normal\", scale = 0.1, normalize = true }";
    assert!(parse_base(&with_random_decoder("40", "2", table)).is_ok());
    invalid(
        &with_random_decoder("1000000000000", "2", table),
        "network.neurons",
        "at most 10000000 neurons",
    );
    invalid(
        &with_random_decoder("10000000", "1000", table),
        "network.neurons",
        "a decoder of at most 50000000 entries",
    );
    invalid(
        &with_random_decoder("40", "2", "{ random = \"normal\", scale = 0 }"),
        "network.decoder.scale",
        "positive",
    );
    invalid(
        &with_random_decoder("40", "2", "{ random = \"normal\", scale = nan }"),
        "network.decoder.scale",
        "finite",
    );
    syntax(
        &with_random_decoder("40", "2", "{ random = \"uniform\", scale = 0.1 }"),
        "network.decoder.random",
        "expected `normal`",
    );
    syntax(
        &with_random_decoder("40", "2", "{ random = \"normal\", scale = 0.1, seed = 3 }"),
        "network.decoder.seed",
        "unknown field",
    );
    syntax(
        &with_random_decoder("40", "2", "{ random = \"normal\" }"),
        "network.decoder.scale",
        "missing field",
    );
    syntax(
        &with_random_decoder("40", "2", "\"random\""),
        "network.decoder",
        "d×N array",
    );
}

#[test]
fn target_errors() {
    syntax(
        &edit(BASE, "kind = \"linear\"", "kind = \"lorenz\""),
        "target.kind",
        "expected `linear`",
    );
    syntax(
        &edit(BASE, "kind = \"linear\"\n", ""),
        "target.kind",
        "missing field",
    );
    syntax(
        &edit(BASE, "kind = \"linear\"", "kind = \"linear\"\nsigma = 10"),
        "target.sigma",
        "unknown field",
    );
    invalid(
        &edit(BASE, "a = [[-4.8, -22.4], [40.0, 0.0]]", "a = [[1.0]]"),
        "target.a",
        "2 rows",
    );
    invalid(
        &edit(
            BASE,
            "a = [[-4.8, -22.4], [40.0, 0.0]]",
            "a = [[1.0, 2.0], [3.0]]",
        ),
        "target.a[1]",
        "2 entries",
    );
    invalid(
        &edit(BASE, "-22.4", "inf"),
        "target.a[0][1]",
        "a finite number",
    );
    invalid(
        &edit(BASE, "initial = [0.0, 0.0]", "initial = [0.0]"),
        "target.initial",
        "2 numbers",
    );
    invalid(
        &edit(BASE, "initial = [0.0, 0.0]", "initial = [0.0, nan]"),
        "target.initial[1]",
        "finite",
    );
}

#[test]
fn input_errors() {
    invalid(
        &edit(BASE, "times = [0.0, 0.05, 0.1]", "times = [0.0, 0.1, 0.05]"),
        "input.times[2]",
        "strictly increasing",
    );
    invalid(
        &edit(BASE, "times = [0.0, 0.05, 0.1]", "times = [0.0, 0.1, 0.1]"),
        "input.times[2]",
        "strictly increasing",
    );
    invalid(
        &edit(
            BASE,
            "times = [0.0, 0.05, 0.1]",
            "times = [0.01, 0.05, 0.1]",
        ),
        "input.times[0]",
        "start at 0",
    );
    invalid(
        &edit(BASE, "times = [0.0, 0.05, 0.1]", "times = [0.0, nan, 0.1]"),
        "input.times[1]",
        "finite",
    );
    invalid(
        &edit(BASE, "times = [0.0, 0.05, 0.1]", "times = []"),
        "input.times",
        "at least one",
    );
    invalid(
        &edit(BASE, "times = [0.0, 0.05, 0.1]", "times = [0.0, 0.05]"),
        "input.values",
        "one value per entry",
    );
    invalid(
        &edit(BASE, "[50.0, 0.0]", "[50.0]"),
        "input.values[1]",
        "2 components",
    );
    invalid(
        &edit(BASE, "[50.0, 0.0]", "[inf, 0.0]"),
        "input.values[1][0]",
        "finite",
    );
    invalid(
        &edit(BASE, "[50.0, 0.0]", "[\"a\", 0.0]"),
        "input.values[1][0]",
        "a number",
    );
    invalid(
        &edit(
            BASE,
            "values = [[0.0, 0.0], [50.0, 0.0], [0.0, 0.0]]",
            "values = 3",
        ),
        "input.values",
        "an array of arrays",
    );
    syntax(
        &edit(BASE, "kind = \"piecewise_constant\"", "kind = \"ou\""),
        "input.kind",
        "`piecewise_constant`",
    );
    syntax(
        &edit(
            BASE,
            "times = [0.0, 0.05, 0.1]",
            "times = [0.0, 0.05, 0.1]\nrate = 3",
        ),
        "input.rate",
        "unknown field",
    );
    invalid(
        &edit(
            BASE,
            "times = [0.0, 0.05, 0.1]",
            "times = [0.0, 0.05, 0.1]\namplitude = 3",
        ),
        "input.amplitude",
        "only the fields of kind = \"piecewise_constant\"",
    );
    invalid(
        &edit(BASE, "times = [0.0, 0.05, 0.1]\n", ""),
        "input.times",
        "required with kind = \"piecewise_constant\"",
    );
    invalid(
        &edit(BASE, "values = [[0.0, 0.0], [50.0, 0.0], [0.0, 0.0]]\n", ""),
        "input.values",
        "one d-vector per entry of `input.times` (required with kind = \"piecewise_constant\")",
    );

    invalid(
        &with_input("[input]\nkind = \"constant\"\nvalues = [1.0]"),
        "input.values",
        "2 numbers",
    );
    invalid(
        &with_input("[input]\nkind = \"constant\"\nvalues = [1.0, nan]"),
        "input.values[1]",
        "finite",
    );
    invalid(
        &with_input("[input]\nkind = \"constant\"\nvalues = \"x\""),
        "input.values",
        "an array of numbers",
    );
    invalid(
        &with_input("[input]\nkind = \"constant\""),
        "input.values",
        "required with kind = \"constant\"",
    );
    invalid(
        &with_input("[input]\nkind = \"zero\"\nvalues = [1, 2]"),
        "input.values",
        "kind = \"zero\"",
    );

    let smooth = |fields: &str| with_input(&format!("[input]\nkind = \"smooth_random\"\n{fields}"));
    invalid(
        &smooth("amplitude = 1\ncorrelation_time = 0"),
        "input.correlation_time",
        "a finite positive knot spacing in seconds",
    );
    invalid(
        &smooth("amplitude = 1\ncorrelation_time = -0.1"),
        "input.correlation_time",
        "positive",
    );
    invalid(
        &smooth("amplitude = 1\ncorrelation_time = 1e-9"),
        "input.correlation_time",
        "at most 5000000 random knot values",
    );
    invalid(
        &smooth("amplitude = -1\ncorrelation_time = 0.1"),
        "input.amplitude",
        "a finite non-negative standard deviation of the knot values",
    );
    invalid(
        &smooth("amplitude = nan\ncorrelation_time = 0.1"),
        "input.amplitude",
        "finite",
    );
    invalid(
        &smooth("amplitude = 1\ncorrelation_time = 0.1\nmean = [1]"),
        "input.mean",
        "2 numbers",
    );
    invalid(
        &smooth("amplitude = 1\ncorrelation_time = 0.1\nmean = [1, inf]"),
        "input.mean[1]",
        "finite",
    );
    invalid(
        &smooth("correlation_time = 0.1"),
        "input.amplitude",
        "required with kind = \"smooth_random\"",
    );
    invalid(
        &smooth("amplitude = 1\ncorrelation_time = 0.1\ntimes = [0]"),
        "input.times",
        "only the fields",
    );
    // A huge duration with a smooth random input is refused before allocating.
    let long = edit(
        &smooth("amplitude = 1\ncorrelation_time = 0.1"),
        "duration = 1.0",
        "duration = 1e308",
    );
    invalid(&long, "input.correlation_time", "at most 5000000");
}

#[test]
fn simulate_and_record_errors() {
    invalid(
        &edit(BASE, "duration = 1.0", "duration = -1"),
        "simulate.duration",
        "non-negative",
    );
    invalid(
        &edit(BASE, "duration = 1.0", "duration = nan"),
        "simulate.duration",
        "finite",
    );
    invalid(
        &edit(BASE, "duration = 1.0", "duration = inf"),
        "simulate.duration",
        "finite",
    );
    syntax(
        &edit(BASE, "duration = 1.0\n", ""),
        "simulate.duration",
        "missing field `duration`",
    );
    syntax(
        &edit(BASE, "duration = 1.0", "duration = \"1 s\""),
        "simulate.duration",
        "expected a number",
    );
    syntax(
        &edit(BASE, "engine = \"exact\"", "engine = \"fast\""),
        "simulate.engine",
        "`exact` or `dense`",
    );
    syntax(
        &edit(
            BASE,
            "engine = \"exact\"",
            "engine = \"exact\"\nintegrator = \"rk4\"",
        ),
        "simulate.integrator",
        "`euler`",
    );
    syntax(
        &edit(
            BASE,
            "engine = \"exact\"",
            "engine = \"exact\"\nspike_rule = \"some\"",
        ),
        "simulate.spike_rule",
        "`one_per_step`",
    );
    syntax(
        &edit(BASE, "engine = \"exact\"", "engine = \"exact\"\nsteps = 10"),
        "simulate.steps",
        "unknown field",
    );
    invalid(
        &edit(BASE, "engine = \"exact\"", "engine = \"exact\"\ndt = 0"),
        "simulate.dt",
        "positive",
    );
    invalid(
        &edit(BASE, "engine = \"exact\"", "engine = \"exact\"\ndt = inf"),
        "simulate.dt",
        "finite",
    );
    invalid(
        &edit(BASE, "readout_dt = 1e-3", "readout_dt = 0"),
        "record.readout_dt",
        "positive",
    );
    invalid(
        &edit(BASE, "readout_dt = 1e-3", "readout_dt = -1e-3"),
        "record.readout_dt",
        "positive",
    );
    syntax(
        &edit(
            BASE,
            "readout_dt = 1e-3",
            "readout_dt = 1e-3\nvoltages = true",
        ),
        "record.voltages",
        "unknown field",
    );
    let start = BASE.find("[simulate]").expect("[simulate]");
    let end = BASE.find("[record]").expect("[record]");
    syntax(
        &format!("{}{}", &BASE[..start], &BASE[end..]),
        "simulate",
        "missing field `simulate`",
    );
}

#[test]
fn unreadable_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.toml");
    let e = load(&missing).expect_err("missing file");
    assert!(matches!(e, ModelError::Io { .. }));
    let msg = e.to_string();
    assert!(msg.starts_with(&missing.display().to_string()), "{msg}");
    assert!(msg.contains("cannot read"), "{msg}");

    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).expect("write");
    let msg = load(&binary).expect_err("not UTF-8").to_string();
    assert!(msg.starts_with(&binary.display().to_string()), "{msg}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, edit(BASE, "lambda_d = 10.0", "lambda_d = -1")).expect("write");
    let msg = load(&bad).expect_err("invalid").to_string();
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("network.lambda_d"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// Seeds.

#[test]
fn random_draws_follow_the_seed() {
    let text = read_model("smooth-random-2d.toml");
    let a = parse(&text, Path::new("a.toml")).expect("valid");
    let b = parse(&text, Path::new("b.toml")).expect("valid");
    assert_eq!(
        a.network.decoders(),
        b.network.decoders(),
        "same seed, same decoder"
    );
    assert_eq!(a.input, b.input, "same seed, same input");

    let reseeded = edit(&text, "seed = 5", "seed = 6");
    let c = parse(&reseeded, Path::new("c.toml")).expect("valid");
    assert_ne!(
        a.network.decoders(),
        c.network.decoders(),
        "different seed, different decoder"
    );
    assert_ne!(a.input, c.input, "different seed, different input");

    // Purposes are independent streams: changing the input does not change the decoder.
    let louder = edit(&text, "amplitude = 10.0", "amplitude = 3.0");
    let d = parse(&louder, Path::new("d.toml")).expect("valid");
    assert_eq!(a.network.decoders(), d.network.decoders());
    let longer = edit(&text, "duration = 2.0", "duration = 1.5");
    let e = parse(&longer, Path::new("e.toml")).expect("valid");
    assert_eq!(a.network.decoders(), e.network.decoders());

    // The default seed is 0, and it is a seed like any other.
    let unseeded = edit(&text, "seed = 5", "");
    let f = parse(&unseeded, Path::new("f.toml")).expect("valid");
    let zero = parse(&edit(&text, "seed = 5", "seed = 0"), Path::new("g.toml")).expect("valid");
    assert_eq!(f.network.decoders(), zero.network.decoders());
    assert_ne!(f.network.decoders(), a.network.decoders());
}

// ---------------------------------------------------------------------------------------------
// The documentation covers every field.

#[test]
fn documentation_names_every_field() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/model-format.md"))
            .expect("docs/model-format.md exists");
    for field in [
        "name",
        "description",
        "seed",
        "neurons",
        "dims",
        "lambda_d",
        "lambda_v",
        "mu",
        "nu",
        "fast_delay",
        "decoder",
        "random",
        "scale",
        "normalize",
        "thresholds",
        "fast_weights",
        "slow_weights",
        "weights",
        "low_rank",
        "kind",
        "linear",
        "initial",
        "piecewise_constant",
        "piecewise_linear",
        "smooth_random",
        "zero",
        "constant",
        "times",
        "values",
        "amplitude",
        "correlation_time",
        "mean",
        "duration",
        "engine",
        "dt",
        "integrator",
        "spike_rule",
        "one_per_step",
        "greedy",
        "readout_dt",
        "DIR/spikes.csv",
        "DIR/readout.csv",
        "DIR/summary.json",
    ] {
        assert!(
            doc.contains(&format!("`{field}`")) || doc.contains(&format!("`\"{field}\"`")),
            "docs/model-format.md should document `{field}`"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Robustness: no input makes the parser panic.

/// Replacements for numbers and values: edge cases of every kind.
const NASTY: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1",
    "-0.0",
    "1e308",
    "-1e308",
    "1e-308",
    "5e-324",
    "9223372036854775807",
    "-9223372036854775808",
    "1000000000",
    "0.5",
    "\"x\"",
    "[]",
    "[[]]",
    "{}",
    "true",
    "[nan]",
    "[[inf, 0]]",
    "{ random = \"normal\", scale = 1e308 }",
];

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceNumber(usize, usize),
    Insert(usize, String),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        6 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::ReplaceNumber(a, b)),
        1 => (any::<usize>(), "[\\[\\]{}=\",.#\\n a-z0-9_\\-+]{1,12}")
            .prop_map(|(a, s)| Mutation::Insert(a, s)),
        1 => (any::<usize>(), any::<String>()).prop_map(|(a, s)| Mutation::Insert(a, s)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Byte offsets of the numbers in `text` (maximal runs of digits, signs, dots and exponents that
/// start with a digit or a sign).
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            || (matches!(bytes[i], b'-' | b'+')
                && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()));
        let after_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts && !after_word {
            let mut j = i + 1;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit()
                    || matches!(bytes[j], b'.' | b'e' | b'E' | b'-' | b'+' | b'_'))
            {
                j += 1;
            }
            spans.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    spans
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    match m {
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i % lines.len());
            lines.join("\n")
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let k = i % lines.len();
            lines.insert(k, lines[k]);
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) if !lines.is_empty() => {
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Mutation::ReplaceNumber(which, with) => {
            let spans = number_spans(text);
            if spans.is_empty() {
                return text.to_owned();
            }
            let (s, e) = spans[which % spans.len()];
            format!("{}{}{}", &text[..s], NASTY[with % NASTY.len()], &text[e..])
        }
        Mutation::Insert(at, s) => {
            let k = floor_char_boundary(text, at % (text.len() + 1));
            format!("{}{}{}", &text[..k], s, &text[k..])
        }
        Mutation::Truncate(at) => {
            let k = floor_char_boundary(text, at % (text.len() + 1));
            text[..k].to_owned()
        }
        _ => text.to_owned(),
    }
}

/// The valid files the fuzzer mutates (read once).
fn seeds_for_fuzzing() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(fuzz_texts)
}

fn fuzz_texts() -> Vec<String> {
    // Small models only: every case that parses draws the network, and the benchmark model's
    // N = 1e6 (models/smooth-random-2d-1m.toml) would make that the cost of the whole test.
    let mut texts: Vec<String> = shipped_models()
        .iter()
        .filter(|p| load(p).is_ok_and(|m| m.network.neurons() <= 10_000))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    texts.push(BASE.to_owned());
    texts.push(with_input(
        "[input]\nkind = \"smooth_random\"\namplitude = 1\ncorrelation_time = 0.1",
    ));
    texts.push(edit(
        BASE,
        "fast_delay = 0.0",
        "fast_delay = 0.0\nthresholds = [0.1, 0.1, 0.1]\nweights = \"dense\"",
    ));
    texts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let texts = seeds_for_fuzzing();
        let mut text = texts[which % texts.len()].to_owned();
        for m in &mutations {
            text = apply(&text, m);
        }
        match parse(&text, Path::new("fuzz.toml")) {
            Ok(model) => {
                let d = model.network.dims();
                prop_assert_eq!(model.input.dims(), d);
                prop_assert_eq!(model.target.a.len(), d * d);
                prop_assert_eq!(model.target.initial.len(), d);
                let (duration, dt) = (model.simulate.duration, model.simulate.dense.dt);
                prop_assert!(duration.is_finite() && duration >= 0.0);
                prop_assert!(dt.is_finite() && dt > 0.0);
                prop_assert!(model.record.readout_dt.is_finite() && model.record.readout_dt > 0.0);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.toml: "), "{}", e),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Err(e) = parse(&text, Path::new("fuzz.toml")) {
            prop_assert!(e.to_string().starts_with("fuzz.toml: "), "{}", e);
        }
    }
}

#[test]
fn overflowing_values_are_refused() {
    invalid(
        &edit(BASE, "[0.1, -0.1, 0.05]", "[1e200, -0.1, 0.05]"),
        "network.decoder (column 0)",
        "a finite threshold",
    );
    invalid(
        &edit(
            &edit(BASE, "mu = 1e-6", "mu = 1.7e308"),
            "nu = 0.0",
            "nu = 1.7e308",
        ),
        "network.decoder (column 0)",
        "a finite threshold",
    );
    invalid(
        &edit(
            &edit(BASE, "lambda_d = 10.0", "lambda_d = 1.7e308"),
            "[40.0, 0.0]",
            "[40.0, 1.7e308]",
        ),
        "target.a[1][1]",
        "a rate of magnitude at most 1e12 1/s",
    );
    invalid(
        &with_input(
            "[input]\nkind = \"piecewise_linear\"\ntimes = [0, 1e-300]\n\
             values = [[0, 0], [1e300, 0]]",
        ),
        "input.values",
        "finite slopes",
    );
    invalid(
        &with_input(
            "[input]\nkind = \"smooth_random\"\namplitude = 1e306\ncorrelation_time = 1e-3",
        ),
        "input.amplitude",
        "a finite spline",
    );
}

#[test]
fn deeply_nested_or_huge_values_do_not_crash() {
    for nested in [
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}1{}", "{ a = ".repeat(50_000), " }".repeat(50_000)),
        format!("[{}]", "1e308, ".repeat(200_000)),
    ] {
        let t = edit(BASE, "initial = [0.0, 0.0]", &format!("initial = {nested}"));
        let msg = parse_base(&t)
            .expect_err("not a valid initial state")
            .to_string();
        assert!(
            msg.starts_with(FILE),
            "{}",
            msg.chars().take(300).collect::<String>()
        );
        let t = edit(BASE, "seed = 4", &format!("seed = 4\nx = {nested}"));
        assert!(parse_base(&t).is_err());
    }
}

/// smooth-random-2d (random decoder and random input), shortened, with `seed = {seed}`.
fn seeded_text(seed: u64) -> String {
    read_model("smooth-random-2d.toml")
        .replace("seed = 5 ", &format!("seed = {seed} "))
        .replace("duration = 2.0 ", "duration = 0.3 ")
}

fn spikes_of(m: &Model) -> String {
    let out = ebnsim::run::run_model(m, &ebnsim::run::RunOptions::default(), |_| {}).unwrap();
    assert_eq!(out.summary.seed, m.seed());
    format!("{:?}", out.spikes)
}

#[test]
fn a_seed_set_on_a_loaded_model_redraws_everything() {
    let file = Path::new("smooth.toml");
    let one = parse(&seeded_text(1), file).unwrap();
    let two = parse(&seeded_text(2), file).unwrap();
    assert_eq!((one.seed(), two.seed()), (1, 2));
    assert_ne!(one.network.decoders(), two.network.decoders());
    assert_ne!(one.input, two.input);
    assert_ne!(spikes_of(&one), spikes_of(&two));

    // Seed 1 set through the API equals the file saying seed = 2, byte for byte.
    let via_api = one.clone().with_seed(2).unwrap();
    assert_eq!(via_api.seed(), 2);
    assert_eq!(via_api.network.decoders(), two.network.decoders());
    assert_eq!(via_api.input, two.input);
    assert_eq!(spikes_of(&via_api), spikes_of(&two));
    let mut in_place = one.clone();
    in_place.set_seed(2).unwrap();
    assert_eq!(in_place, via_api);
    assert_eq!(in_place.with_seed(1).unwrap(), one);
}

#[test]
fn a_seed_set_on_a_loaded_learning_model_redraws_everything() {
    use ebnsim::io::model_file::{parse_learning, parse_learning_seeded};
    let text = read_model("van-der-pol-learn.toml");
    let file = Path::new("vdp.toml");
    let m = parse_learning(&text, file).unwrap();
    let other = m.seed() + 1;
    let via_api = m.clone().with_seed(other).unwrap();
    let from_file = parse_learning_seeded(&text, file, Some(other)).unwrap();
    assert_eq!(via_api.seed(), other);
    assert_eq!(via_api, from_file);
    assert_ne!(via_api.network.decoders(), m.network.decoders());
}

#[test]
fn record_state_is_parsed_and_validated() {
    use ebnsim::monitor::{NeuronSelection, StateVariable};
    let base = read_model("smooth-random-2d.toml");
    let with = |state: &str| format!("{base}\n[record]\nstate = {state}\n");
    let m = parse(
        &with("{ neurons = [0, 3], dt = 0.01, variables = [\"v\", \"r\"], at_spikes = true }"),
        Path::new("s.toml"),
    )
    .unwrap();
    let s = m.record.state.unwrap();
    assert_eq!(s.neurons, NeuronSelection::List(vec![0, 3]));
    assert_eq!(s.variables, vec![StateVariable::V, StateVariable::R]);
    assert!(s.at_spikes && s.dt == 0.01);
    let m = parse(
        &with("{ neurons = \"all\", dt = 0.01 }"),
        Path::new("s.toml"),
    )
    .unwrap();
    let s = m.record.state.unwrap();
    assert_eq!(s.neurons, NeuronSelection::All);
    assert_eq!(s.variables, vec![StateVariable::V]);
    assert!(!s.at_spikes);
    let e = |state: &str| {
        parse(&with(state), Path::new("s.toml"))
            .unwrap_err()
            .to_string()
    };
    let msg = e("{ neurons = [0, 40], dt = 0.01 }");
    assert!(
        msg.starts_with("s.toml") && msg.contains("`record.state.neurons[1]`"),
        "{msg}"
    );
    let msg = e("{ neurons = [1, 1], dt = 0.01 }");
    assert!(msg.contains("`record.state.neurons[1]`"), "{msg}");
    let msg = e("{ dt = 0.0 }");
    assert!(msg.contains("`record.state.dt`"), "{msg}");
    let msg = e("{ dt = 0.01, variables = [\"w\"] }");
    assert!(msg.contains("`record.state.variables[0]`"), "{msg}");
    let msg = e("{ dt = 0.01, variables = [\"r\", \"r\"] }");
    assert!(msg.contains("`record.state.variables[1]`"), "{msg}");
    let msg = e("{ dt = 1e-9 }");
    assert!(
        msg.contains("`record.state.dt`") && msg.contains("20000000"),
        "{msg}"
    );
}

#[test]
fn a_decoder_can_be_read_from_a_network_json() {
    use ebnsim::io::network_file::NetworkFile;
    let dir = tempfile::tempdir().unwrap();
    let text = seeded_text(3);
    let original = parse(&text, Path::new("orig.toml")).unwrap();
    NetworkFile::of(&original.network)
        .write(&dir.path().join("network.json"))
        .unwrap();
    let from_file = text.replace(
        "decoder = { random = \"normal\", scale = 0.1, normalize = true }",
        "decoder = { file = \"network.json\" }",
    );
    assert_ne!(from_file, text);
    let path = dir.path().join("m.toml");
    std::fs::write(&path, &from_file).unwrap();
    let m = load(&path).unwrap();
    assert_eq!(m.network.decoders(), original.network.decoders());
    assert_eq!(m.network.thresholds(), original.network.thresholds());

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, from_file.replace("network.json", "missing.json")).unwrap();
    let e = load(&bad).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("`network.decoder.file`"),
        "{e}"
    );
    std::fs::write(&bad, from_file.replace("neurons = 40 ", "neurons = 41 ")).unwrap();
    let e = load(&bad).unwrap_err().to_string();
    assert!(
        e.contains("`network.decoder.file`") && e.contains("40 neurons"),
        "{e}"
    );
}

#[test]
fn refractory_periods_are_parsed_and_validated() {
    use ebnsim::model::refractory::RefractoryMode;
    let with = |fields: &str| {
        edit(
            BASE,
            "fast_delay = 0.0\n",
            &format!("fast_delay = 0.0\n{fields}\n"),
        )
    };
    let m = parse_base(&with("refractory_period = 0.002")).unwrap();
    let r = m.network.refractory().expect("a period was given");
    assert_eq!(r.periods(), [0.002; 3]);
    assert_eq!(r.mode(), RefractoryMode::Clamp);
    let m = parse_base(&with(
        "refractory_period = [0.001, 0.0, 0.003]\nrefractory = \"hold\"",
    ))
    .unwrap();
    let r = m.network.refractory().unwrap();
    assert_eq!(r.periods(), [0.001, 0.0, 0.003]);
    assert_eq!(r.mode(), RefractoryMode::Hold);
    // 0 is the model without refractoriness.
    assert!(parse_base(&with("refractory_period = 0.0"))
        .unwrap()
        .network
        .refractory()
        .is_none());
    assert!(parse_base(BASE).unwrap().network.refractory().is_none());
    fails(
        &with("refractory_period = -1e-3"),
        "network.refractory_period",
        "a finite period ≥ 0 in seconds",
    );
    fails(
        &with("refractory_period = [0.001, -2.0, 0.0]"),
        "network.refractory_period[1]",
        "a finite period ≥ 0",
    );
    fails(
        &with("refractory_period = [0.001, 0.002]"),
        "network.refractory_period",
        "one period, or 3 (one per neuron)",
    );
    fails(
        &with("refractory_period = []"),
        "network.refractory_period",
        "one period in seconds, or 3",
    );
    fails(
        &with("refractory_period = \"2 ms\""),
        "network.refractory_period",
        "a number",
    );
    let e = parse_base(&with(
        "refractory_period = 0.001\nrefractory = \"absolute\"",
    ))
    .unwrap_err();
    assert!(
        e.to_string().contains("clamp") && e.to_string().contains("hold"),
        "{e}"
    );
}

#[test]
fn network_json_records_the_refractory_period() {
    use ebnsim::io::network_file::NetworkFile;
    let text = edit(
        BASE,
        "fast_delay = 0.0\n",
        "fast_delay = 0.0\nrefractory_period = 0.002\nrefractory = \"hold\"\n",
    );
    let m = parse_base(&text).unwrap();
    let f = NetworkFile::of(&m.network);
    assert_eq!(f.refractory_period.as_deref(), Some(&[0.002; 3][..]));
    assert_eq!(
        f.refractory,
        Some(ebnsim::model::refractory::RefractoryMode::Hold)
    );
    let plain = NetworkFile::of(&parse_base(BASE).unwrap().network);
    assert!(plain.refractory_period.is_none() && plain.refractory.is_none());
    let json = serde_json::to_string(&plain).unwrap();
    assert!(
        !json.contains("refractory"),
        "absent without a period: {json}"
    );
}
