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

use crate::dense::{DenseConfig, Integrator, SpikeRule};
use crate::engine::EngineKind;
use crate::error::{BuildError, ModelError};
use crate::expo::MAX_DEGREE;
use crate::network::{random_decoder, Network, NetworkBuilder, WeightRepr, Weights};
use crate::seed::{rng_stream, Stream};
use crate::signal::Signal;

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
    let shown = e.to_string();
    let shown = shown.trim_end();
    match field_path(text, e) {
        Some(path) => format!("field `{path}`: {shown}"),
        None => shown.to_owned(),
    }
}

/// The dotted path of the field a deserialization error is about.
///
/// toml's message with line and column omits the key path; deserializing the same document from a
/// `toml::Table` (no positions) reproduces the error with the path instead, on a last line of the
/// form ``in `network.decoder` ``. It is only used when both errors agree.
fn field_path(text: &str, e: &toml::de::Error) -> Option<String> {
    let table: toml::Table = text.parse().ok()?;
    let again = toml::Value::Table(table).try_into::<RawModel>().err()?;
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
    let network = build_network(raw.network, raw.target.as_ref(), seed)?;
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
    target: Option<&RawTarget>,
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
    if let Some(a) = target.and_then(|t| t.a.clone()) {
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
            let allowed = if kind.fields().is_empty() {
                "none".to_owned()
            } else {
                kind.fields().join(", ")
            };
            return Err(BuildError::new(
                format!("input.{field}"),
                format!(
                    "only the fields of kind = \"{}\" (besides `kind`: {allowed})",
                    kind.name()
                ),
                format!("`{field}` is set"),
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
}
