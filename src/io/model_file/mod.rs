//! Model files: a TOML description of a network, its target dynamics, its input and its run,
//! turned into a ready-to-run [`Model`].
//!
//! ```toml
//! name = "boerlin-oscillator"      # required
//! seed = 7                          # every random draw of the run derives from it
//!
//! [network]
//! neurons = 40                      # N
//! dims = 2                          # d
//! lambda_d = 10.0                   # 1/s
//! lambda_v = 20.0                   # 1/s
//! mu = 1e-6
//! decoder = { random = "normal", scale = 0.1, normalize = true }   # or an explicit d×N array
//!
//! [target]
//! kind = "linear"                   # x' = A x + c(t)
//! a = [[-4.8, -22.4], [40.0, 0.0]]
//!
//! [input]                           # c(t)
//! kind = "piecewise_constant"
//! times = [0.0, 0.05, 0.1]          # s
//! values = [[0.0, 0.0], [50.0, 0.0], [0.0, 0.0]]
//!
//! [simulate]
//! duration = 1.0                    # s
//! engine = "exact"                  # exact | dense
//!
//! [record]
//! readout_dt = 1e-3                 # s
//! ```
//!
//! Every field, its unit and default, the input kinds and the seed streams are documented in
//! `docs/model-format.md`. Reading is strict: unknown fields, wrong types, wrong shapes,
//! non-finite numbers (TOML accepts `nan` and `inf`), negative rates, durations, delays or costs
//! are errors ([`ModelError`]) whose message starts with the file, names the field by its path
//! (`network.decoder[1]`, `input.times[2]`, `simulate.duration`), what was expected and what was
//! found. Parsing never panics and refuses sizes that would allocate absurd memory
//! ([`MAX_NEURONS`], [`MAX_DIMS`], [`MAX_DECODER_ENTRIES`], [`MAX_INPUT_SAMPLES`]).

use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::closed_form::expo::MAX_DEGREE;
use crate::engine::dense::{DenseConfig, Integrator, SpikeRule};
use crate::engine::EngineKind;
use crate::error::{BuildError, ModelError};
use crate::model::network::{random_decoder, Network, NetworkBuilder, WeightRepr, Weights};
use crate::model::signal::Signal;
use crate::seed::{rng_stream, Stream};

/// Largest `network.neurons` a model file may ask for (a random decoder of this size is drawn in
/// memory).
pub const MAX_NEURONS: usize = 10_000_000;

/// Largest `network.dims` a model file may ask for (d×d matrices are stored densely).
pub const MAX_DIMS: usize = 1_000;

/// Largest decoder, in entries (`neurons × dims`), a model file may ask for (400 MB of f64).
pub const MAX_DECODER_ENTRIES: usize = 50_000_000;

/// Largest number of random knot values (`knots × dims`) of a `smooth_random` input, where
/// `knots = ceil(simulate.duration / input.correlation_time) + 1`.
pub const MAX_INPUT_SAMPLES: usize = 5_000_000;

/// Default `network.lambda_d`, 1/s.
pub const DEFAULT_LAMBDA_D: f64 = 10.0;

/// Default `record.readout_dt`, s.
pub const DEFAULT_READOUT_DT: f64 = 1e-3;

/// A model file, validated and ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// `name`: the model's name.
    pub name: String,
    /// `description`: free text (default empty).
    pub description: String,
    /// `seed`: every random draw of the run derives from it through [`rng_stream`].
    pub seed: u64,
    /// The network built from `[network]` and the target's `A`.
    pub network: Network,
    /// The command input `c(t)` from `[input]` (d components; zero when absent).
    pub input: Signal,
    /// The target dynamics `x' = A x + c(t)` from `[target]`.
    pub target: LinearTarget,
    /// How to run, from `[simulate]`.
    pub simulate: Simulate,
    /// What to record, from `[record]`.
    pub record: Record,
}

/// A linear target `x' = A x + c(t)`, `x(0) = initial`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearTarget {
    /// `A`, row-major d×d, 1/s (zero: a perfect integrator).
    pub a: Vec<f64>,
    /// `x(0)`, d components.
    pub initial: Vec<f64>,
}

/// How to run a model (`[simulate]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Simulate {
    /// Simulated time, s (finite, ≥ 0).
    pub duration: f64,
    /// Which engine runs it.
    pub engine: EngineKind,
    /// Parameters of the dense stepper (used when `engine` is [`EngineKind::Dense`]).
    pub dense: DenseConfig,
    /// Longest same-instant cascade before the exact engine stops with an error (default N).
    pub cascade_limit: Option<usize>,
}

/// What to record (`[record]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Record {
    /// Sampling interval of the readout, s (finite, > 0; default [`DEFAULT_READOUT_DT`]).
    pub readout_dt: f64,
}

/// Reads and validates the model file at `path`.
///
/// Errors: [`ModelError::Io`] if it cannot be read (or is not UTF-8), otherwise as [`parse`].
pub fn load(path: &Path) -> Result<Model, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and validates the text of a model file; `file` is only used in error messages.
///
/// Errors: [`ModelError::Syntax`] for text that is not TOML, unknown or missing fields and wrong
/// types (with the TOML parser's line, column and key, and the field's path); and
/// [`ModelError::Invalid`] for values the model does not accept (wrong shapes, non-finite
/// numbers, out-of-range values).
pub fn parse(text: &str, file: &Path) -> Result<Model, ModelError> {
    if text.trim().is_empty() {
        return Err(ModelError::Syntax {
            file: file.to_path_buf(),
            message: "the file is empty: expected a TOML model file with at least `name`, \
                      [network] and [simulate]"
                .to_owned(),
        });
    }
    if let Ok(table) = text.parse::<toml::Table>() {
        if is_learning_table(&table) {
            return Err(ModelError::Invalid {
                file: file.to_path_buf(),
                error: BuildError::new(
                    "phase",
                    "a model for `ebnsim run` ([input] and [simulate], no [basis] or [[phase]])",
                    format!(
                        "a learning model: train it with `ebnsim learn {f} --out DIR`, or run \
                         its phases with learned weights: `ebnsim run {f} --weights \
                         DIR/weights.json --out DIR2`",
                        f = file.display()
                    ),
                ),
            });
        }
    }
    let raw: RawModel = toml::from_str(text).map_err(|e| ModelError::Syntax {
        file: file.to_path_buf(),
        message: syntax_message(text, &e),
    })?;
    validate(raw).map_err(|error| ModelError::Invalid {
        file: file.to_path_buf(),
        error,
    })
}

/// The parser's message, prefixed with the path of the field it is about when that can be found.
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    syntax_message_for::<RawModel>(text, e)
}

/// [`syntax_message`] for the document type `T`.
fn syntax_message_for<T: serde::de::DeserializeOwned>(text: &str, e: &toml::de::Error) -> String {
    let shown = e.to_string();
    let shown = shown.trim_end();
    match field_path::<T>(text, e) {
        Some(path) => format!("field `{path}`: {shown}"),
        None => shown.to_owned(),
    }
}

/// The dotted path of the field a deserialization error is about.
///
/// toml's message with line and column omits the key path; deserializing the same document from a
/// `toml::Table` (no positions) reproduces the error with the path instead, on a last line of the
/// form ``in `network.decoder` ``. It is only used when both errors agree.
fn field_path<T: serde::de::DeserializeOwned>(text: &str, e: &toml::de::Error) -> Option<String> {
    let table: toml::Table = text.parse().ok()?;
    let again = toml::Value::Table(table).try_into::<T>().err()?;
    if again.message() != e.message() {
        return None;
    }
    let shown = again.to_string();
    let mut path = shown
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("in `").and_then(|r| r.strip_suffix('`')))
        .unwrap_or("")
        .to_owned();
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = e.message().strip_prefix(prefix) {
            if let Some(end) = rest.find('`') {
                let field = &rest[..end];
                path = if path.is_empty() {
                    field.to_owned()
                } else {
                    format!("{path}.{field}")
                };
            }
        }
    }
    (!path.is_empty()).then_some(path)
}

// ---------------------------------------------------------------------------------------------
// The file as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    seed: u64,
    network: RawNetwork,
    target: Option<RawTarget>,
    input: Option<RawInput>,
    simulate: RawSimulate,
    record: Option<RawRecord>,
}

fn default_lambda_d() -> f64 {
    DEFAULT_LAMBDA_D
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    neurons: usize,
    dims: usize,
    #[serde(default = "default_lambda_d")]
    lambda_d: f64,
    lambda_v: Option<f64>,
    #[serde(default)]
    mu: f64,
    #[serde(default)]
    nu: f64,
    #[serde(default)]
    fast_delay: f64,
    decoder: RawDecoder,
    thresholds: Option<Vec<f64>>,
    fast_weights: Option<Vec<Vec<f64>>>,
    slow_weights: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    weights: RawWeights,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum RawWeights {
    #[default]
    Auto,
    LowRank,
    Dense,
}

/// `network.decoder`: an explicit d×N array of rows, or a generator table.
enum RawDecoder {
    Explicit(Vec<Vec<f64>>),
    Random(RawRandomDecoder),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRandomDecoder {
    random: DecoderDistribution,
    scale: f64,
    #[serde(default)]
    normalize: bool,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum DecoderDistribution {
    Normal,
}

impl<'de> Deserialize<'de> for RawDecoder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecoderVisitor;
        impl<'de> Visitor<'de> for DecoderVisitor {
            type Value = RawDecoder;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a d×N array of rows (one row of N numbers per dimension) or a generator \
                     table such as { random = \"normal\", scale = 0.1, normalize = true }",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawDecoder, A::Error> {
                Vec::<Vec<f64>>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(RawDecoder::Explicit)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDecoder, A::Error> {
                RawRandomDecoder::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDecoder::Random)
            }
        }
        deserializer.deserialize_any(DecoderVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    kind: TargetKind,
    a: Option<Vec<Vec<f64>>>,
    initial: Option<Vec<f64>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum TargetKind {
    Linear,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    kind: InputKind,
    times: Option<Vec<f64>>,
    /// A d-vector (`constant`) or one d-vector per time (`piecewise_*`): converted by hand.
    values: Option<toml::Value>,
    amplitude: Option<f64>,
    correlation_time: Option<f64>,
    mean: Option<Vec<f64>>,
}

#[derive(Deserialize, Clone, Copy, Debug)]
#[serde(rename_all = "snake_case")]
enum InputKind {
    PiecewiseConstant,
    PiecewiseLinear,
    SmoothRandom,
    Zero,
    Constant,
}

impl InputKind {
    fn name(self) -> &'static str {
        match self {
            InputKind::PiecewiseConstant => "piecewise_constant",
            InputKind::PiecewiseLinear => "piecewise_linear",
            InputKind::SmoothRandom => "smooth_random",
            InputKind::Zero => "zero",
            InputKind::Constant => "constant",
        }
    }

    /// The fields besides `kind` that this kind takes.
    fn fields(self) -> &'static [&'static str] {
        match self {
            InputKind::PiecewiseConstant | InputKind::PiecewiseLinear => &["times", "values"],
            InputKind::SmoothRandom => &["amplitude", "correlation_time", "mean"],
            InputKind::Zero => &[],
            InputKind::Constant => &["values"],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSimulate {
    duration: f64,
    #[serde(default)]
    engine: EngineKind,
    dt: Option<f64>,
    #[serde(default)]
    integrator: Integrator,
    #[serde(default)]
    spike_rule: SpikeRule,
    cascade_limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    readout_dt: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// The error for a field `name` (at `path`) that kind `kind` does not take: it lists the fields
/// it does take, besides `besides`.
fn field_not_of_kind(
    path: String,
    name: &str,
    kind: &str,
    besides: &str,
    fields: &[&str],
) -> BuildError {
    let allowed = if fields.is_empty() {
        "none".to_owned()
    } else {
        fields.join(", ")
    };
    BuildError::new(
        path,
        format!("only the fields of kind = \"{kind}\" (besides {besides}: {allowed})"),
        format!("`{name}` is set"),
    )
}

fn positive(field: &str, x: f64, what: &str) -> Result<f64, BuildError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(BuildError::new(
            field,
            format!("a finite positive {what}"),
            format!("{x}"),
        ))
    }
}

fn finite_vector(field: &str, v: &[f64], len: usize, what: &str) -> Result<(), BuildError> {
    if v.len() != len {
        return Err(BuildError::new(
            field,
            format!("{len} numbers ({what})"),
            format!("{} numbers", v.len()),
        ));
    }
    for (i, &x) in v.iter().enumerate() {
        if !x.is_finite() {
            return Err(BuildError::new(
                format!("{field}[{i}]"),
                "a finite number",
                format!("{x}"),
            ));
        }
    }
    Ok(())
}

fn validate(raw: RawModel) -> Result<Model, BuildError> {
    if raw.name.trim().is_empty() {
        return Err(BuildError::new(
            "name",
            "a non-empty model name",
            "an empty string",
        ));
    }
    let seed = raw.seed;
    let a = raw.target.as_ref().and_then(|t| t.a.clone());
    let network = build_network(raw.network, a, seed)?;
    let d = network.dims();

    let target = match raw.target {
        None => LinearTarget {
            a: network.dynamics().to_vec(),
            initial: vec![0.0; d],
        },
        Some(t) => {
            let TargetKind::Linear = t.kind;
            let initial = t.initial.unwrap_or_else(|| vec![0.0; d]);
            finite_vector(
                "target.initial",
                &initial,
                d,
                "one per dimension, network.dims",
            )?;
            LinearTarget {
                a: network.dynamics().to_vec(),
                initial,
            }
        }
    };

    let s = raw.simulate;
    let duration = s.duration;
    if !(duration.is_finite() && duration >= 0.0) {
        return Err(BuildError::new(
            "simulate.duration",
            "a finite non-negative time in seconds",
            format!("{duration}"),
        ));
    }
    let dt = positive(
        "simulate.dt",
        s.dt.unwrap_or(DenseConfig::default().dt),
        "time step in seconds",
    )?;
    let cascade_limit = match s.cascade_limit {
        None => None,
        Some(l) if l >= 1 => Some(l as usize),
        Some(l) => {
            return Err(BuildError::new(
                "simulate.cascade_limit",
                "a positive number of spikes",
                format!("{l}"),
            ))
        }
    };
    let simulate = Simulate {
        duration,
        engine: s.engine,
        cascade_limit,
        dense: DenseConfig {
            dt,
            integrator: s.integrator,
            spike_rule: s.spike_rule,
        },
    };

    let input = match raw.input {
        None => Signal::zero(d),
        Some(input) => build_input(input, d, duration, seed)?,
    };

    let readout_dt = match raw.record.and_then(|r| r.readout_dt) {
        None => DEFAULT_READOUT_DT,
        Some(x) => positive("record.readout_dt", x, "sampling interval in seconds")?,
    };

    Ok(Model {
        name: raw.name,
        description: raw.description,
        seed,
        network,
        input,
        target,
        simulate,
        record: Record { readout_dt },
    })
}

fn build_network(
    net: RawNetwork,
    a: Option<Vec<Vec<f64>>>,
    seed: u64,
) -> Result<Network, BuildError> {
    let (n, d) = (net.neurons, net.dims);
    if d == 0 {
        return Err(BuildError::new("network.dims", "at least 1 dimension", "0"));
    }
    if n == 0 {
        return Err(BuildError::new("network.neurons", "at least 1 neuron", "0"));
    }
    if d > MAX_DIMS {
        return Err(BuildError::new(
            "network.dims",
            format!("at most {MAX_DIMS}"),
            format!("{d}"),
        ));
    }
    let sizes = format!("network.dims = {d}, network.neurons = {n}");
    let rows = match net.decoder {
        RawDecoder::Explicit(rows) => {
            if rows.len() != d {
                return Err(BuildError::new(
                    "network.decoder",
                    format!("{d} rows (one per dimension, network.dims) of {n} numbers each"),
                    format!("{} rows", rows.len()),
                ));
            }
            for (k, row) in rows.iter().enumerate() {
                if row.len() != n {
                    return Err(BuildError::new(
                        format!("network.decoder[{k}]"),
                        format!("{n} numbers (one per neuron, network.neurons)"),
                        format!("{} numbers", row.len()),
                    ));
                }
            }
            check_size(n, d, &sizes)?;
            rows
        }
        RawDecoder::Random(r) => {
            check_size(n, d, &sizes)?;
            let DecoderDistribution::Normal = r.random;
            let scale = positive("network.decoder.scale", r.scale, "standard deviation")?;
            let mut rng = rng_stream(seed, Stream::Decoder);
            random_decoder(d, n, scale, r.normalize, &mut rng)
        }
    };

    let mut builder = NetworkBuilder::new(rows)
        .lambda_d(net.lambda_d)
        .mu(net.mu)
        .nu(net.nu)
        .fast_delay(net.fast_delay)
        .representation(match net.weights {
            RawWeights::Auto => WeightRepr::Auto,
            RawWeights::LowRank => WeightRepr::LowRank,
            RawWeights::Dense => WeightRepr::Dense,
        });
    if let Some(lambda_v) = net.lambda_v {
        builder = builder.lambda_v(lambda_v);
    }
    if let Some(t) = net.thresholds {
        finite_vector(
            "network.thresholds",
            &t,
            n,
            "one per neuron, network.neurons",
        )?;
        for (i, &x) in t.iter().enumerate() {
            if x <= 0.0 {
                return Err(BuildError::new(
                    format!("network.thresholds[{i}]"),
                    "a positive threshold",
                    format!("{x}"),
                ));
            }
        }
        builder = builder.thresholds(t);
    }
    if let Some(a) = a {
        builder = builder.linear_dynamics(a);
    }
    if let Some(w) = net.fast_weights {
        builder = builder.fast_weights(w);
    }
    if let Some(w) = net.slow_weights {
        builder = builder.slow_weights(w);
    }
    let network = builder.build()?;
    check_finite_network(&network)?;
    Ok(network)
}

/// Finite inputs can still overflow (a decoder entry of 1e200 has ‖D_i‖² = ∞): refuses networks
/// whose derived thresholds, resets or weights are not finite.
fn check_finite_network(net: &Network) -> Result<(), BuildError> {
    for (i, &t) in net.thresholds().iter().enumerate() {
        let reset = net.fast_weight(i, i);
        if !t.is_finite() || !reset.is_finite() {
            return Err(BuildError::new(
                format!("network.decoder (column {i})"),
                "a finite threshold (|D_i|^2 + mu + nu)/2 and reset |D_i|^2 + mu (decoder entries \
                 and costs too large overflow)",
                format!("threshold {t}, reset {reset}"),
            ));
        }
    }
    let bad = |w: &[f64]| w.iter().copied().find(|x| !x.is_finite());
    match net.weights() {
        Weights::LowRank { core } => {
            if let Some(x) = bad(core) {
                return Err(BuildError::new(
                    "target.a",
                    "A + lambda_d I with finite entries",
                    format!("an entry {x}"),
                ));
            }
        }
        Weights::Dense { fast, slow } => {
            for (field, w) in [
                ("network.fast_weights", fast),
                ("network.slow_weights", slow),
            ] {
                if let Some(x) = bad(w) {
                    return Err(BuildError::new(
                        field,
                        "finite weights (derived from network.decoder, target.a and lambda_d \
                         unless given)",
                        format!("a weight {x}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Finite values can still give a signal with infinite coefficients (slopes between values of
/// ±1e308, a spline through huge knots): refuses them, naming `field`.
fn check_finite_signal(signal: Signal, field: &str, expected: &str) -> Result<Signal, BuildError> {
    let mut poly = vec![0.0; (MAX_DEGREE + 1) * signal.dims()];
    for &t in signal.knots() {
        signal.local_polynomial(t, &mut poly);
        if let Some(x) = poly.iter().copied().find(|x| !x.is_finite()) {
            return Err(BuildError::new(
                field,
                expected,
                format!("a coefficient {x} in the segment starting at {t} s"),
            ));
        }
    }
    Ok(signal)
}

/// Refuses networks too large to hold in memory (before anything is allocated).
fn check_size(n: usize, d: usize, sizes: &str) -> Result<(), BuildError> {
    if n > MAX_NEURONS {
        return Err(BuildError::new(
            "network.neurons",
            format!("at most {MAX_NEURONS} neurons"),
            format!("{n}"),
        ));
    }
    match n.checked_mul(d) {
        Some(entries) if entries <= MAX_DECODER_ENTRIES => Ok(()),
        _ => Err(BuildError::new(
            "network.neurons",
            format!("a decoder of at most {MAX_DECODER_ENTRIES} entries (neurons × dims)"),
            sizes.to_owned(),
        )),
    }
}

fn build_input(input: RawInput, d: usize, duration: f64, seed: u64) -> Result<Signal, BuildError> {
    let kind = input.kind;
    let present = [
        ("times", input.times.is_some()),
        ("values", input.values.is_some()),
        ("amplitude", input.amplitude.is_some()),
        ("correlation_time", input.correlation_time.is_some()),
        ("mean", input.mean.is_some()),
    ];
    for (field, given) in present {
        if given && !kind.fields().contains(&field) {
            return Err(field_not_of_kind(
                format!("input.{field}"),
                field,
                kind.name(),
                "`kind`",
                kind.fields(),
            ));
        }
    }
    let missing = |field: &str, what: &str| {
        BuildError::new(
            format!("input.{field}"),
            format!("{what} (required with kind = \"{}\")", kind.name()),
            format!("no `{field}` field"),
        )
    };
    match kind {
        InputKind::Zero => Ok(Signal::zero(d)),
        InputKind::Constant => {
            let v = input
                .values
                .ok_or_else(|| missing("values", "a vector of d numbers"))?;
            let values = vector(&v, "input.values")?;
            finite_vector(
                "input.values",
                &values,
                d,
                "one per dimension, network.dims",
            )?;
            Ok(Signal::constant(&values))
        }
        InputKind::PiecewiseConstant | InputKind::PiecewiseLinear => {
            let times = input
                .times
                .ok_or_else(|| missing("times", "a list of segment start times in seconds"))?;
            let v = input
                .values
                .ok_or_else(|| missing("values", "one d-vector per entry of `input.times`"))?;
            let values = matrix(&v, "input.values")?;
            if let InputKind::PiecewiseConstant = kind {
                Signal::piecewise_constant(d, &times, &values)
            } else {
                check_finite_signal(
                    Signal::piecewise_linear(d, &times, &values)?,
                    "input.values",
                    "values and times giving finite slopes",
                )
            }
        }
        InputKind::SmoothRandom => {
            let amplitude = input
                .amplitude
                .ok_or_else(|| missing("amplitude", "a standard deviation of the knot values"))?;
            let h = input
                .correlation_time
                .ok_or_else(|| missing("correlation_time", "a knot spacing in seconds"))?;
            let h = positive("input.correlation_time", h, "time in seconds")?;
            let mean = input.mean.unwrap_or_else(|| vec![0.0; d]);
            finite_vector("input.mean", &mean, d, "one per dimension, network.dims")?;
            // ceil(duration / h) + 1 knots, each with d values; compared in f64 (no overflow).
            let knots = (duration / h).ceil() + 1.0;
            if knots * d as f64 > MAX_INPUT_SAMPLES as f64 {
                return Err(BuildError::new(
                    "input.correlation_time",
                    format!(
                        "at most {MAX_INPUT_SAMPLES} random knot values \
                         ((simulate.duration / input.correlation_time + 1) × network.dims)"
                    ),
                    format!("{h} s over {duration} s: {knots} knots × {d} dims"),
                ));
            }
            let mut rng = rng_stream(seed, Stream::Input);
            check_finite_signal(
                Signal::smooth_random(&mean, amplitude, h, duration, &mut rng)?,
                "input.amplitude",
                "an amplitude, mean and correlation time giving a finite spline",
            )
        }
    }
}

fn number(v: &toml::Value, field: &str) -> Result<f64, BuildError> {
    match v {
        toml::Value::Float(x) => Ok(*x),
        toml::Value::Integer(i) => Ok(*i as f64),
        other => Err(BuildError::new(
            field,
            "a number",
            format!("a {}", other.type_str()),
        )),
    }
}

fn vector(v: &toml::Value, field: &str) -> Result<Vec<f64>, BuildError> {
    match v {
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| number(x, &format!("{field}[{i}]")))
            .collect(),
        other => Err(BuildError::new(
            field,
            "an array of numbers",
            format!("a {}", other.type_str()),
        )),
    }
}

fn matrix(v: &toml::Value, field: &str) -> Result<Vec<Vec<f64>>, BuildError> {
    match v {
        toml::Value::Array(rows) => rows
            .iter()
            .enumerate()
            .map(|(i, row)| vector(row, &format!("{field}[{i}]")))
            .collect(),
        other => Err(BuildError::new(
            field,
            "an array of arrays of numbers (one vector per time)",
            format!("a {}", other.type_str()),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Learning models (`ebnsim learn`).

/// Default `epoch` of a phase, s: learned weights are updated at multiples of it.
pub const DEFAULT_EPOCH: f64 = 1e-3;

/// Default same-instant cascade limit of a learning model: `max(N, 1000)` spikes.
pub const DEFAULT_LEARNING_CASCADE_LIMIT: usize = 1000;

/// Most phases a learning model may have.
pub const MAX_PHASES: usize = 1000;

/// Whether a parsed TOML document is a learning model (it has `[basis]` or `[[phase]]`).
pub fn is_learning_table(table: &toml::Table) -> bool {
    table.contains_key("phase") || table.contains_key("basis")
}

/// Whether the text of a model file is a learning model (`[basis]` or `[[phase]]`); `false` for
/// text that is not TOML.
pub fn is_learning_model(text: &str) -> bool {
    text.parse::<toml::Table>()
        .map(|t| is_learning_table(&t))
        .unwrap_or(false)
}

/// A learning model file, validated: a network, a nonlinear target, a basis and phases.
#[derive(Clone, Debug, PartialEq)]
pub struct LearningModel {
    /// `name`.
    pub name: String,
    /// `description` (default empty).
    pub description: String,
    /// `seed`: decoder, phase inputs, random bases and kills derive from it.
    pub seed: u64,
    /// The network of `[network]`, low-rank, with slow core 0 (`A = −lambda_d I`): the phase
    /// runner sets the core to `L − K I` with `L = 0` (everything is learned).
    pub network: Network,
    /// `[target]`.
    pub target: TargetSpec,
    /// `[basis]`, built (random bases drawn from [`Stream::Learning`]).
    pub basis: crate::model::basis::Basis,
    /// `[[phase]]`, in order.
    pub phases: Vec<Phase>,
    /// `[record]`.
    pub record: Record,
    /// `cascade_limit` (default `max(N, 1000)`).
    pub cascade_limit: usize,
    /// `simulate.engine` (default exact).
    pub engine: EngineKind,
    /// `simulate.dt`, `integrator`, `spike_rule` of the dense stepper (defaults: 1e-4 s,
    /// exponential, one spike per step).
    pub dense: DenseConfig,
}

impl LearningModel {
    /// Keeps the phases up to and including the first training phase (η > 0) and returns its
    /// index — to run other tests after the same training, built in code with
    /// [`Phase::autonomous`]. `None` (nothing changed) when no phase trains.
    pub fn keep_through_training(&mut self) -> Option<usize> {
        let training = self.phases.iter().position(Phase::learns)?;
        self.phases.truncate(training + 1);
        Some(training)
    }
}

/// A target system of a learning model: its kind, parameters and initial state.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetSpec {
    /// The kind.
    pub kind: crate::model::dynamics::TargetKind,
    /// Every parameter of the kind (defaults filled in), in the order of
    /// [`crate::model::dynamics::TargetKind::parameters`]; for `linear`, empty (see `a`).
    pub parameters: Vec<(String, f64)>,
    /// `a` of a linear target, row-major d×d.
    pub a: Option<Vec<f64>>,
    /// `initial`: the teacher's state at t = 0 (default zeros).
    pub initial: Vec<f64>,
}

impl TargetSpec {
    /// The value of parameter `name` (defaults filled in).
    pub fn parameter(&self, name: &str) -> Option<f64> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// The vector field. Errors name the offending `target.<parameter>`.
    pub fn field(&self) -> Result<Box<dyn crate::model::dynamics::VectorField>, BuildError> {
        use crate::model::dynamics::{
            DampedPendulum, DoubleWell, Linear, Lorenz, TargetKind, VanDerPol,
        };
        let p = |name: &str| self.parameter(name).unwrap_or(f64::NAN);
        Ok(match self.kind {
            TargetKind::Linear => {
                let a = self.a.as_deref().unwrap_or(&[]);
                Box::new(Linear::from_row_major(self.initial.len(), a)?)
            }
            TargetKind::VanDerPol => {
                Box::new(VanDerPol::new(p("mu"), p("time_scale"), p("amplitude"))?)
            }
            TargetKind::DoubleWell => {
                let dims = p("dims");
                if !(dims.fract() == 0.0 && (1.0..=MAX_DIMS as f64).contains(&dims)) {
                    return Err(BuildError::new(
                        "target.dims",
                        "a whole number of wells from 1 to network.dims",
                        format!("{dims}"),
                    ));
                }
                Box::new(DoubleWell::new(
                    dims as usize,
                    p("time_scale"),
                    p("amplitude"),
                )?)
            }
            TargetKind::Lorenz => Box::new(Lorenz::new(
                p("sigma"),
                p("rho"),
                p("beta"),
                p("time_scale"),
                p("amplitude"),
                p("z_offset"),
            )?),
            TargetKind::Pendulum => Box::new(DampedPendulum::new(
                p("damping"),
                p("omega"),
                p("time_scale"),
                p("amplitude"),
            )?),
        })
    }

    /// Whether the target oscillates without input (van_der_pol, pendulum): phases without
    /// input or feedback report period and amplitude errors.
    pub fn oscillates(&self) -> bool {
        use crate::model::dynamics::TargetKind;
        matches!(self.kind, TargetKind::VanDerPol | TargetKind::Pendulum)
    }
}

/// Where a phase's teacher starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PhaseStart {
    /// No `start` field (or `"continue"`): network and teacher carry on from where the previous
    /// phase left them (the first phase: teacher from `target.initial`, empty readout).
    #[default]
    Continue,
    /// `"teacher"` (MODEL-FORMAT.md): the teacher restarts from `target.initial` and the network
    /// is placed there too (readout = `initial`, zero coding error; needs low-rank weights and a
    /// basis on the readout).
    Teacher,
    /// `"readout"`: the network carries on; its teacher restarts from the network's readout x̂
    /// (after an autonomous phase, whose network has drifted in phase from the teacher).
    Readout,
}

/// One `[[phase]]` of a learning model.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// `name` (default `phase<i>`).
    pub name: String,
    /// `duration`, s (> 0).
    pub duration: f64,
    /// `input`, the command `c(t)` in phase time (first knot at the phase start).
    pub input: Signal,
    /// Whether `input` is `kind = "zero"` (period and amplitude are measured only then).
    pub zero_input: bool,
    /// `feedback_gain` K, 1/s (default 0).
    pub feedback_gain: f64,
    /// `learning_rate` η (default 0: no learning).
    pub learning_rate: f64,
    /// `learning_rate_decay = { start, to }` as in [`crate::learning::rule::Schedule`].
    pub learning_rate_decay: Option<(f64, f64)>,
    /// `start`.
    pub start: PhaseStart,
    /// `kill_fraction` (default 0): fraction of all N neurons removed at the phase start.
    pub kill_fraction: f64,
    /// `kill_neurons` (default none): these neurons (indices) are removed at the phase start,
    /// after `kill_fraction`'s draw.
    pub kill_neurons: Vec<usize>,
    /// `epoch`, s (default [`DEFAULT_EPOCH`]).
    pub epoch: f64,
    /// `noise = { sigma, interval }`: voltage noise during the phase (none by default).
    pub noise: Option<PhaseNoise>,
    /// `kick`: added to the readout of the network and the teacher's state at the phase start
    /// (after `start`), d components.
    pub kick: Option<Vec<f64>>,
    /// `delay_spike = { after, delay }`: the first spike `after` seconds into the phase or later
    /// is held for `delay` seconds.
    pub delay_spike: Option<(f64, f64)>,
    /// `weight_noise = { sigma }`: σ of independent `N(0, σ²)` noise added to every learned slow
    /// synapse `W[i,b]` (N × N_b) at the phase start, as a fixed offset beyond the low-rank
    /// `Dᵀ U` ([`crate::model::basis::LearnedCurrent::set_offsets`]).
    pub weight_noise: Option<f64>,
    /// `basins = { per_dim, duration, range, tolerance }`: a basin test of the spiking network
    /// at the phase start.
    pub basins: Option<BasinTest>,
}

/// A basin test of the spiking network ([`Phase::basins`]): from every start of a grid, the
/// network (as it is at the phase start: weights, alive neurons) runs on its own — no input,
/// no feedback — and must end where the target's flow from the same start ends.
#[derive(Clone, Debug, PartialEq)]
pub struct BasinTest {
    /// Starts per dimension (cell centres of a regular grid over `range`), `per_dim^d` ≤
    /// [`MAX_BASIN_STARTS`].
    pub per_dim: usize,
    /// How long each start runs, s.
    pub duration: f64,
    /// `[lo, hi]` per dimension of the grid; `None`: the box of the training states so far.
    pub range: Option<(f64, f64)>,
    /// Largest distance (max norm) between the network's and the target's end states for a
    /// start to count as correct (default [`DEFAULT_BASIN_TOLERANCE`]).
    pub tolerance: f64,
}

/// Most starts of a basin test.
pub const MAX_BASIN_STARTS: usize = 10_000;

/// Default `basins.tolerance`, state units.
pub const DEFAULT_BASIN_TOLERANCE: f64 = 0.15;

/// Voltage noise of a phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseNoise {
    /// Amplitude σ, V/√s (the voltage gains variance σ² per second, as with white noise).
    pub sigma: f64,
    /// Length of the constant pieces of the exact kernel's noise current, s (default
    /// [`DEFAULT_NOISE_INTERVAL`]; the dense stepper draws once per step).
    pub interval: f64,
}

/// Default `noise.interval` of a phase, s.
pub const DEFAULT_NOISE_INTERVAL: f64 = 1e-4;

impl Phase {
    /// A phase without input, feedback or learning, continuing from the previous one (every
    /// option at its default) — for building phases in code; change fields with struct-update
    /// syntax: `Phase { feedback_gain: 30.0, ..Phase::autonomous("resync", 1.0, d) }`.
    pub fn autonomous(name: impl Into<String>, duration: f64, dims: usize) -> Phase {
        Phase {
            name: name.into(),
            duration,
            input: Signal::zero(dims),
            zero_input: true,
            feedback_gain: 0.0,
            learning_rate: 0.0,
            learning_rate_decay: None,
            start: PhaseStart::Continue,
            kill_fraction: 0.0,
            kill_neurons: Vec::new(),
            epoch: DEFAULT_EPOCH,
            noise: None,
            kick: None,
            delay_spike: None,
            weight_noise: None,
            basins: None,
        }
    }

    /// Whether the phase learns (η > 0).
    pub fn learns(&self) -> bool {
        self.learning_rate > 0.0
    }
}

/// Reads and validates the learning model file at `path`. Errors as [`load`].
pub fn load_learning(path: &Path) -> Result<LearningModel, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse_learning(&text, path)
}

/// Parses and validates the text of a learning model file; `file` is used in messages.
pub fn parse_learning(text: &str, file: &Path) -> Result<LearningModel, ModelError> {
    parse_learning_seeded(text, file, None)
}

/// As [`parse_learning`], with `seed` (when given) instead of the file's `seed`: every draw
/// (decoder, phase inputs, random bases, kills, noise) then derives from it — how one protocol
/// is repeated over seeds.
pub fn parse_learning_seeded(
    text: &str,
    file: &Path,
    seed: Option<u64>,
) -> Result<LearningModel, ModelError> {
    if let Ok(table) = text.parse::<toml::Table>() {
        if !is_learning_table(&table) {
            return Err(ModelError::Invalid {
                file: file.to_path_buf(),
                error: BuildError::new(
                    "basis",
                    "a learning model ([basis] and [[phase]] tables)",
                    format!(
                        "a model without them: run it with `ebnsim run {} --out DIR`",
                        file.display()
                    ),
                ),
            });
        }
    }
    let mut raw: RawLearningModel = toml::from_str(text).map_err(|e| ModelError::Syntax {
        file: file.to_path_buf(),
        message: syntax_message_for::<RawLearningModel>(text, &e),
    })?;
    if let Some(seed) = seed {
        raw.seed = seed;
    }
    validate_learning(raw).map_err(|error| ModelError::Invalid {
        file: file.to_path_buf(),
        error,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLearningModel {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    seed: u64,
    network: RawNetwork,
    target: toml::Table,
    basis: RawBasis,
    #[serde(default)]
    phase: Vec<RawPhase>,
    record: Option<RawRecord>,
    cascade_limit: Option<i64>,
    input: Option<toml::Value>,
    simulate: Option<RawLearnSimulate>,
}

/// `[simulate]` of a learning model: which engine runs the phases (no `duration`: the phases
/// carry theirs).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLearnSimulate {
    #[serde(default)]
    engine: EngineKind,
    dt: Option<f64>,
    #[serde(default)]
    integrator: Integrator,
    #[serde(default)]
    spike_rule: SpikeRule,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasis {
    kind: String,
    on: Option<String>,
    range: Option<Vec<f64>>,
    per_dim: Option<usize>,
    width: Option<f64>,
    degree: Option<u32>,
    count: Option<usize>,
    gains: Option<Vec<f64>>,
    offsets: Option<Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: Option<String>,
    duration: f64,
    input: Option<toml::Table>,
    #[serde(default)]
    feedback_gain: f64,
    #[serde(default)]
    learning_rate: f64,
    learning_rate_decay: Option<RawDecay>,
    start: Option<String>,
    #[serde(default)]
    kill_fraction: f64,
    #[serde(default)]
    kill_neurons: Vec<usize>,
    epoch: Option<f64>,
    noise: Option<RawNoise>,
    kick: Option<Vec<f64>>,
    delay_spike: Option<RawDelaySpike>,
    basins: Option<RawBasins>,
    weight_noise: Option<RawWeightNoise>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeightNoise {
    sigma: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasins {
    per_dim: usize,
    duration: f64,
    range: Option<Vec<f64>>,
    tolerance: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoise {
    sigma: f64,
    interval: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelaySpike {
    after: f64,
    delay: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecay {
    start: f64,
    to: f64,
}

fn validate_learning(raw: RawLearningModel) -> Result<LearningModel, BuildError> {
    if raw.name.trim().is_empty() {
        return Err(BuildError::new(
            "name",
            "a non-empty model name",
            "an empty string",
        ));
    }
    if raw.input.is_some() {
        return Err(BuildError::new(
            "input",
            "no [input] in a learning model (each [[phase]] has its own `input`)",
            "an [input] table",
        ));
    }
    let (engine, dense) = match raw.simulate {
        None => (EngineKind::Exact, DenseConfig::default()),
        Some(s) => {
            let dt = positive(
                "simulate.dt",
                s.dt.unwrap_or(DenseConfig::default().dt),
                "time step in seconds",
            )?;
            (
                s.engine,
                DenseConfig {
                    dt,
                    integrator: s.integrator,
                    spike_rule: s.spike_rule,
                },
            )
        }
    };
    let seed = raw.seed;
    let lambda_d = raw.network.lambda_d;
    let d = raw.network.dims;
    if let RawWeights::Dense = raw.network.weights {
        return Err(BuildError::new(
            "network.weights",
            "low_rank weights (learning changes the d×d slow core)",
            "dense",
        ));
    }
    if raw.network.fast_weights.is_some() || raw.network.slow_weights.is_some() {
        return Err(BuildError::new(
            "network.slow_weights",
            "no explicit weights in a learning model (the slow weights are learned)",
            "explicit weights",
        ));
    }
    if !(lambda_d.is_finite() && lambda_d > 0.0) {
        return Err(BuildError::new(
            "network.lambda_d",
            "a finite positive rate in 1/s",
            format!("{lambda_d}"),
        ));
    }
    let a: Vec<Vec<f64>> = (0..d.min(MAX_DIMS))
        .map(|i| {
            (0..d)
                .map(|k| if i == k { -lambda_d } else { 0.0 })
                .collect()
        })
        .collect();
    let network = build_network(raw.network, Some(a), seed)?;
    let n = network.neurons();
    let target = build_target_spec(&raw.target, d)?;
    let basis = build_basis(raw.basis, d, n, seed)?;
    if raw.phase.is_empty() {
        return Err(BuildError::new(
            "phase",
            "at least one [[phase]] table",
            "none",
        ));
    }
    if raw.phase.len() > MAX_PHASES {
        return Err(BuildError::new(
            "phase",
            format!("at most {MAX_PHASES} phases"),
            format!("{}", raw.phase.len()),
        ));
    }
    let mut input_rng = rng_stream(seed, Stream::Input);
    let mut phases = Vec::with_capacity(raw.phase.len());
    for (i, p) in raw.phase.into_iter().enumerate() {
        phases.push(build_phase(p, i, d, n, &mut input_rng)?);
    }
    let readout_dt = match raw.record.and_then(|r| r.readout_dt) {
        None => DEFAULT_READOUT_DT,
        Some(x) => positive("record.readout_dt", x, "sampling interval in seconds")?,
    };
    let cascade_limit = match raw.cascade_limit {
        None => n.max(DEFAULT_LEARNING_CASCADE_LIMIT),
        Some(l) if l >= 1 => l as usize,
        Some(l) => {
            return Err(BuildError::new(
                "cascade_limit",
                "a positive number of spikes",
                format!("{l}"),
            ))
        }
    };
    Ok(LearningModel {
        name: raw.name,
        description: raw.description,
        seed,
        network,
        target,
        basis,
        phases,
        record: Record { readout_dt },
        cascade_limit,
        engine,
        dense,
    })
}

fn build_target_spec(t: &toml::Table, d: usize) -> Result<TargetSpec, BuildError> {
    use crate::model::dynamics::TargetKind;
    let kind = match t.get("kind") {
        None => {
            return Err(BuildError::new(
                "target.kind",
                TargetKind::expected(),
                "no `kind` field",
            ))
        }
        Some(toml::Value::String(s)) => s.parse::<TargetKind>()?,
        Some(other) => {
            return Err(BuildError::new(
                "target.kind",
                TargetKind::expected(),
                format!("a {}", other.type_str()),
            ))
        }
    };
    let initial = match t.get("initial") {
        None => vec![0.0; d],
        Some(v) => vector(v, "target.initial")?,
    };
    finite_vector(
        "target.initial",
        &initial,
        d,
        "one per dimension, network.dims",
    )?;
    for key in t.keys() {
        if key != "kind" && key != "initial" && !kind.parameters().iter().any(|p| p.name == key) {
            return Err(kind.unknown_parameter(key));
        }
    }
    let mut parameters = Vec::new();
    let mut a = None;
    for p in kind.parameters() {
        let field = format!("target.{}", p.name);
        if kind == TargetKind::Linear && p.name == "a" {
            let v = t.get("a").ok_or_else(|| {
                BuildError::new(
                    "target.a",
                    "the d×d matrix A (required with kind = \"linear\")",
                    "no `a` field",
                )
            })?;
            let rows = matrix(v, "target.a")?;
            if rows.len() != d {
                return Err(BuildError::new(
                    "target.a",
                    format!("{d} rows (network.dims)"),
                    format!("{} rows", rows.len()),
                ));
            }
            a = Some(crate::model::dynamics::Linear::new(&rows)?.a().to_vec());
            continue;
        }
        let value = match t.get(p.name) {
            Some(v) => number(v, &field)?,
            None => p.default.ok_or_else(|| {
                BuildError::new(&field, "a number (required)", format!("no `{}`", p.name))
            })?,
        };
        parameters.push((p.name.to_owned(), value));
    }
    let spec = TargetSpec {
        kind,
        parameters,
        a,
        initial,
    };
    let field = spec.field()?;
    if field.dims() != d {
        return Err(BuildError::new(
            "target.kind",
            format!("a target of network.dims = {d} dimensions"),
            format!("`{}` with {} dimensions", kind.name(), field.dims()),
        ));
    }
    Ok(spec)
}

fn pair(field: &str, v: &[f64], what: &str) -> Result<(f64, f64), BuildError> {
    if v.len() != 2 || !v.iter().all(|x| x.is_finite()) || v[0] > v[1] {
        return Err(BuildError::new(
            field,
            format!("[lo, hi]: two finite numbers, lo ≤ hi ({what})"),
            format!("{v:?}"),
        ));
    }
    Ok((v[0], v[1]))
}

fn build_basis(
    b: RawBasis,
    d: usize,
    n: usize,
    seed: u64,
) -> Result<crate::model::basis::Basis, BuildError> {
    use crate::model::basis::Basis;
    let on_trains = match b.on.as_deref() {
        None | Some("xhat") => false,
        Some("r") if b.kind == "tanh_random" => true,
        Some("r") => {
            return Err(BuildError::new(
                "basis.on",
                "\"xhat\" for this kind (on = \"r\", the filtered spike trains, goes with \
                 kind = \"tanh_random\")",
                "\"r\"",
            ))
        }
        Some(other) => {
            return Err(BuildError::new(
                "basis.on",
                "\"xhat\" (the readout) or \"r\" (the filtered spike trains)",
                format!("\"{other}\""),
            ))
        }
    };
    let fields: &[&str] = match b.kind.as_str() {
        "rbf_grid" => &["range", "per_dim", "width"],
        "monomials" => &["degree"],
        "tanh_random" => &["count", "gains", "offsets"],
        "linear" => &[],
        other => {
            return Err(BuildError::new(
                "basis.kind",
                "one of rbf_grid, monomials, tanh_random, linear",
                format!("\"{other}\""),
            ))
        }
    };
    let present = [
        ("range", b.range.is_some()),
        ("per_dim", b.per_dim.is_some()),
        ("width", b.width.is_some()),
        ("degree", b.degree.is_some()),
        ("count", b.count.is_some()),
        ("gains", b.gains.is_some()),
        ("offsets", b.offsets.is_some()),
    ];
    for (field, given) in present {
        if given && !fields.contains(&field) {
            return Err(field_not_of_kind(
                format!("basis.{field}"),
                field,
                &b.kind,
                "`kind` and `on`",
                fields,
            ));
        }
    }
    let missing = |field: &str, what: &str| {
        BuildError::new(
            format!("basis.{field}"),
            format!("{what} (required with kind = \"{}\")", b.kind),
            format!("no `{field}` field"),
        )
    };
    match b.kind.as_str() {
        "rbf_grid" => {
            let range = b
                .range
                .ok_or_else(|| missing("range", "[lo, hi], the grid's extent per dimension"))?;
            let (lo, hi) = pair("basis.range", &range, "the grid's extent per dimension")?;
            let per_dim = b
                .per_dim
                .ok_or_else(|| missing("per_dim", "the number of centres per dimension"))?;
            Basis::rbf_grid(d, lo, hi, per_dim, b.width.unwrap_or(1.0))
        }
        "monomials" => {
            let degree = b
                .degree
                .ok_or_else(|| missing("degree", "the highest total degree"))?;
            Basis::monomials(d, degree)
        }
        "tanh_random" => {
            let count = b
                .count
                .ok_or_else(|| missing("count", "the number of random features"))?;
            if count == 0 || count > 100_000 {
                return Err(BuildError::new(
                    "basis.count",
                    "1 to 100000 features",
                    format!("{count}"),
                ));
            }
            let gains = pair(
                "basis.gains",
                &b.gains.unwrap_or_else(|| vec![1.0, 1.0]),
                "gains of the projections",
            )?;
            let offsets = pair(
                "basis.offsets",
                &b.offsets.unwrap_or_else(|| vec![-1.0, 1.0]),
                "offsets",
            )?;
            let mut rng = rng_stream(seed, Stream::Learning);
            if on_trains {
                // tanh(M r + θ): M ~ N(0, g²/N) with g the upper end of `gains`.
                Basis::tanh_on_trains(d, n, count, gains.1, offsets, &mut rng)
            } else {
                Basis::tanh_random(d, count, gains, offsets, &mut rng)
            }
        }
        _ => Ok(Basis::Linear { dims: d }),
    }
}

fn build_phase<R: rand::Rng>(
    p: RawPhase,
    i: usize,
    d: usize,
    n: usize,
    rng: &mut R,
) -> Result<Phase, BuildError> {
    let f = |name: &str| format!("phase[{i}].{name}");
    let duration = p.duration;
    if !(duration.is_finite() && duration > 0.0) {
        return Err(BuildError::new(
            f("duration"),
            "a finite positive time in seconds",
            format!("{duration}"),
        ));
    }
    let non_negative = |name: &str, x: f64, what: &str| {
        if x.is_finite() && x >= 0.0 {
            Ok(x)
        } else {
            Err(BuildError::new(
                f(name),
                format!("a finite non-negative {what}"),
                format!("{x}"),
            ))
        }
    };
    let feedback_gain = non_negative("feedback_gain", p.feedback_gain, "gain K in 1/s")?;
    let learning_rate = non_negative("learning_rate", p.learning_rate, "learning rate η")?;
    let learning_rate_decay = match p.learning_rate_decay {
        None => None,
        Some(RawDecay { start, to }) => {
            if !(start.is_finite() && (0.0..1.0).contains(&start)) {
                return Err(BuildError::new(
                    f("learning_rate_decay.start"),
                    "a fraction of the phase in [0, 1)",
                    format!("{start}"),
                ));
            }
            if !(to.is_finite() && to > 0.0 && to <= 1.0) {
                return Err(BuildError::new(
                    f("learning_rate_decay.to"),
                    "a final fraction of the learning rate in (0, 1]",
                    format!("{to}"),
                ));
            }
            Some((start, to))
        }
    };
    if let Some((k, &j)) = p.kill_neurons.iter().enumerate().find(|(_, &j)| j >= n) {
        return Err(BuildError::new(
            f(&format!("kill_neurons[{k}]")),
            format!("a neuron index below network.neurons = {n}"),
            format!("{j}"),
        ));
    }
    let kill_fraction = p.kill_fraction;
    if !(kill_fraction.is_finite() && (0.0..=1.0).contains(&kill_fraction)) {
        return Err(BuildError::new(
            f("kill_fraction"),
            "a fraction of the neurons in [0, 1]",
            format!("{kill_fraction}"),
        ));
    }
    let epoch = match p.epoch {
        None => DEFAULT_EPOCH,
        Some(e) if e.is_finite() && e > 0.0 && e <= duration => e,
        Some(e) => {
            return Err(BuildError::new(
                f("epoch"),
                "a finite positive time in seconds, at most the phase's duration",
                format!("{e}"),
            ))
        }
    };
    if learning_rate > 0.0 && duration / epoch > 1e9 {
        return Err(BuildError::new(
            f("epoch"),
            "at most 10^9 epochs per phase",
            format!("{} epochs", duration / epoch),
        ));
    }
    let start = match p.start.as_deref() {
        None | Some("continue") => PhaseStart::Continue,
        Some("teacher") => PhaseStart::Teacher,
        Some("readout") => PhaseStart::Readout,
        Some(other) => {
            return Err(BuildError::new(
                f("start"),
                "\"continue\", \"teacher\" or \"readout\"",
                format!("\"{other}\""),
            ))
        }
    };
    let (input, zero_input) = match p.input {
        None => (Signal::zero(d), true),
        Some(t) => build_phase_input(&t, i, d, duration, rng)?,
    };
    let noise = match p.noise {
        None => None,
        Some(RawNoise { sigma, interval }) => {
            let sigma = non_negative("noise.sigma", sigma, "amplitude in V/√s")?;
            let interval = match interval {
                None => DEFAULT_NOISE_INTERVAL,
                Some(x) => positive(&f("noise.interval"), x, "time in seconds")?,
            };
            Some(PhaseNoise { sigma, interval })
        }
    };
    if let Some(k) = &p.kick {
        finite_vector(&f("kick"), k, d, "one per dimension, network.dims")?;
    }
    let delay_spike = match p.delay_spike {
        None => None,
        Some(RawDelaySpike { after, delay }) => {
            if !(after.is_finite() && (0.0..duration).contains(&after)) {
                return Err(BuildError::new(
                    f("delay_spike.after"),
                    "a time in seconds from the phase start, within the phase",
                    format!("{after}"),
                ));
            }
            Some((
                after,
                positive(&f("delay_spike.delay"), delay, "delay in seconds")?,
            ))
        }
    };
    let weight_noise = match p.weight_noise {
        None => None,
        Some(RawWeightNoise { sigma }) => Some(non_negative(
            "weight_noise.sigma",
            sigma,
            "standard deviation per synapse",
        )?),
    };
    let basins = match p.basins {
        None => None,
        Some(b) => {
            let starts = (b.per_dim as f64).powi(d as i32);
            if b.per_dim == 0 || starts > MAX_BASIN_STARTS as f64 {
                return Err(BuildError::new(
                    f("basins.per_dim"),
                    format!("at least 1 start per dimension, at most {MAX_BASIN_STARTS} in all"),
                    format!("{} ({starts} starts)", b.per_dim),
                ));
            }
            let duration = positive(&f("basins.duration"), b.duration, "time in seconds")?;
            let range = match b.range {
                None => None,
                Some(r) => {
                    let (lo, hi) = pair(&f("basins.range"), &r, "the grid's box")?;
                    if lo == hi {
                        return Err(BuildError::new(
                            f("basins.range"),
                            "lo < hi",
                            format!("{r:?}"),
                        ));
                    }
                    Some((lo, hi))
                }
            };
            let tolerance = match b.tolerance {
                None => DEFAULT_BASIN_TOLERANCE,
                Some(x) => positive(&f("basins.tolerance"), x, "distance in state units")?,
            };
            Some(BasinTest {
                per_dim: b.per_dim,
                duration,
                range,
                tolerance,
            })
        }
    };
    Ok(Phase {
        name: p.name.unwrap_or_else(|| format!("phase{i}")),
        duration,
        input,
        zero_input,
        feedback_gain,
        learning_rate,
        learning_rate_decay,
        start,
        kill_fraction,
        kill_neurons: p.kill_neurons,
        epoch,
        noise,
        kick: p.kick,
        delay_spike,
        basins,
        weight_noise,
    })
}

fn build_phase_input<R: rand::Rng>(
    t: &toml::Table,
    i: usize,
    d: usize,
    duration: f64,
    rng: &mut R,
) -> Result<(Signal, bool), BuildError> {
    let f = |name: &str| format!("phase[{i}].input.{name}");
    let kinds = "one of ou, zero, constant, piecewise_constant, piecewise_linear";
    let kind = match t.get("kind") {
        Some(toml::Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(BuildError::new(
                f("kind"),
                kinds,
                format!("a {}", other.type_str()),
            ))
        }
        None => return Err(BuildError::new(f("kind"), kinds, "no `kind` field")),
    };
    let fields: &[&str] = match kind {
        "ou" => &["tau", "sigma", "mean"],
        "zero" => &[],
        "constant" => &["values"],
        "piecewise_constant" | "piecewise_linear" => &["times", "values"],
        other => return Err(BuildError::new(f("kind"), kinds, format!("\"{other}\""))),
    };
    for key in t.keys() {
        if key != "kind" && !fields.contains(&key.as_str()) {
            return Err(field_not_of_kind(f(key), key, kind, "`kind`", fields));
        }
    }
    let get = |name: &str, what: &str| {
        t.get(name).ok_or_else(|| {
            BuildError::new(
                f(name),
                format!("{what} (required with kind = \"{kind}\")"),
                format!("no `{name}` field"),
            )
        })
    };
    // Errors of the shared builders name `input.*`: renamed to this phase's path.
    let rename = |mut e: BuildError| {
        if let Some(rest) = e.field.strip_prefix("input.") {
            e.field = f(rest);
        } else if e.field == "simulate.duration" {
            e.field = format!("phase[{i}].duration");
        }
        e
    };
    let signal = match kind {
        "zero" => return Ok((Signal::zero(d), true)),
        "constant" => {
            let values = vector(get("values", "a vector of d numbers")?, &f("values"))?;
            finite_vector(&f("values"), &values, d, "one per dimension, network.dims")?;
            Signal::constant(&values)
        }
        "ou" => {
            let tau = number(get("tau", "a correlation time in seconds")?, &f("tau"))?;
            let tau = positive(&f("tau"), tau, "correlation time in seconds")?;
            let sigma = number(
                get("sigma", "an amplitude (standard deviation)")?,
                &f("sigma"),
            )?;
            if !(sigma.is_finite() && sigma >= 0.0) {
                return Err(BuildError::new(
                    f("sigma"),
                    "a finite non-negative amplitude",
                    format!("{sigma}"),
                ));
            }
            let mean = match t.get("mean") {
                None => vec![0.0; d],
                Some(v) => vector(v, &f("mean"))?,
            };
            finite_vector(&f("mean"), &mean, d, "one per dimension, network.dims")?;
            let knots = (duration / tau).ceil() + 1.0;
            if knots * d as f64 > MAX_INPUT_SAMPLES as f64 {
                return Err(BuildError::new(
                    f("tau"),
                    format!(
                        "at most {MAX_INPUT_SAMPLES} random knot values \
                         ((duration / tau + 1) × network.dims)"
                    ),
                    format!("{tau} s over {duration} s"),
                ));
            }
            Signal::smooth_random(&mean, sigma, tau, duration, rng).map_err(rename)?
        }
        _ => {
            let times = vector(
                get("times", "a list of segment start times in seconds")?,
                &f("times"),
            )?;
            let values = matrix(
                get("values", "one d-vector per entry of `times`")?,
                &f("values"),
            )?;
            if kind == "piecewise_constant" {
                Signal::piecewise_constant(d, &times, &values).map_err(rename)?
            } else {
                check_finite_signal(
                    Signal::piecewise_linear(d, &times, &values).map_err(rename)?,
                    &f("values"),
                    "values and times giving finite slopes",
                )?
            }
        }
    };
    Ok((signal, false))
}

#[cfg(test)]
mod tests {
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
        assert_eq!(m.seed, 0);
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
}
