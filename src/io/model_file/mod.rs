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
//! (`MAX_NEURONS`, `MAX_DIMS`, `MAX_DECODER_ENTRIES`, `MAX_INPUT_SAMPLES`).

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

mod basis;
mod fields;
mod input;
mod learning;
mod network;
mod phase;
mod record;

use basis::*;
use fields::*;
use input::*;
pub use learning::*;
use network::*;
pub use phase::*;
use record::*;

/// Largest `network.neurons` a model file may ask for (a random decoder of this size is drawn in
/// memory).
pub(crate) const MAX_NEURONS: usize = 10_000_000;

/// Largest `network.dims` a model file may ask for (d×d matrices are stored densely).
pub(crate) const MAX_DIMS: usize = 1_000;

/// Largest decoder, in entries (`neurons × dims`), a model file may ask for (400 MB of f64).
pub(crate) const MAX_DECODER_ENTRIES: usize = 50_000_000;

/// Largest number of random knot values (`knots × dims`) of a `smooth_random` input, where
/// `knots = ceil(simulate.duration / input.correlation_time) + 1`.
pub(crate) const MAX_INPUT_SAMPLES: usize = 5_000_000;

/// Default `network.lambda_d`, 1/s.
pub(crate) const DEFAULT_LAMBDA_D: f64 = 10.0;

/// Most values (sample times × neurons × variables) `record.state` may ask for over the run.
pub(crate) const MAX_STATE_SAMPLES: usize = 20_000_000;

/// Default `record.readout_dt`, s.
pub(crate) const DEFAULT_READOUT_DT: f64 = 1e-3;

/// A model file, validated and ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// `name`: the model's name.
    pub name: String,
    /// `description`: free text (default empty).
    pub description: String,
    /// `seed`: every random draw of the model (decoder, input) derives from it through
    /// [`rng_stream`]. Private so that it cannot disagree with the draws: read it with
    /// [`Model::seed`], change it with [`Model::with_seed`] (which redraws).
    seed: u64,
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
    /// The validated file's text and name, kept to redraw with another seed.
    source: Source,
}

/// The text a model was parsed from and the file named in its errors.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Source {
    pub(crate) text: std::sync::Arc<str>,
    pub(crate) file: std::path::PathBuf,
}

impl Source {
    pub(crate) fn new(text: &str, file: &Path) -> Source {
        Source {
            text: text.into(),
            file: file.to_path_buf(),
        }
    }
}

impl Model {
    /// The seed every random draw of this model (decoder, input, …) was made from: the file's
    /// `seed`, or the one given to [`Model::with_seed`].
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The same model file drawn with `seed` instead: the file's description is validated again
    /// and every random draw (random decoder, `smooth_random` input) is made from `seed`, exactly
    /// as if the file said `seed = <seed>`. Fields changed in code since loading are replaced
    /// by the file's.
    ///
    /// Errors: as [`parse`] (a file that parsed once parses again unless a seed-dependent draw
    /// fails, e.g. a non-finite spline).
    pub fn with_seed(self, seed: u64) -> Result<Model, ModelError> {
        if seed == self.seed {
            return Ok(self);
        }
        parse_seeded(&self.source.text, &self.source.file, Some(seed))
    }

    /// [`Model::with_seed`] in place; on error `self` is unchanged.
    pub fn set_seed(&mut self, seed: u64) -> Result<(), ModelError> {
        *self = self.clone().with_seed(seed)?;
        Ok(())
    }
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
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Sampling interval of the readout, s (finite, > 0; default `DEFAULT_READOUT_DT`).
    pub readout_dt: f64,
    /// `record.state`: a state monitor (state.csv), validated against the network and the
    /// duration (at most `MAX_STATE_SAMPLES` values); `None` when absent.
    pub state: Option<crate::monitor::StateMonitorSpec>,
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
    parse_seeded(text, file, None)
}

/// As [`parse`], with `seed` (when given) instead of the file's `seed`: every draw then derives
/// from it, exactly as if the file said `seed = <seed>`.
pub fn parse_seeded(text: &str, file: &Path, seed: Option<u64>) -> Result<Model, ModelError> {
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
    let mut raw: RawModel = toml::from_str(text).map_err(|e| ModelError::Syntax {
        file: file.to_path_buf(),
        message: syntax_message(text, &e),
    })?;
    if let Some(seed) = seed {
        raw.seed = seed;
    }
    validate(raw, Source::new(text, file)).map_err(|error| ModelError::Invalid {
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
    // serde names the crate's own types ("expected struct RawSimulate"): a struct is a table.
    let mut shown = e.to_string().trim_end().to_owned();
    while let Some(at) = shown.find("struct Raw") {
        let end = shown[at + 7..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(shown.len(), |k| at + 7 + k);
        shown.replace_range(at..end, "a table");
    }
    for (rust, toml) in [
        (
            "wanted string or table",
            "expected a string (the kind's name) or a table",
        ),
        ("expected usize", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected f64", "expected a number"),
    ] {
        if shown.ends_with(rust) {
            let cut = shown.len() - rust.len();
            shown.replace_range(cut.., toml);
        }
    }
    let shown = crate::error::short_numbers(shown);
    match field_path::<T>(text, e).or_else(|| key_at(text, e.span()?.start)) {
        Some(path) => format!("field `{path}`: {shown}"),
        None => shown,
    }
}

/// The dotted path of the `key = value` line holding byte `at` of `text`, from the table header
/// above it (`[input]` → `input.kind`; the k-th `[[phase]]` → `phase[k].input`): the field of a
/// type error the deserializer reports without its path.
fn key_at(text: &str, at: usize) -> Option<String> {
    let start = text.get(..at)?.rfind('\n').map_or(0, |k| k + 1);
    let line = text[start..].lines().next()?;
    let key = line.split('=').next()?.trim();
    if key.is_empty() || key.starts_with('[') || !line.contains('=') {
        return None;
    }
    let above = &text[..start];
    let header = above
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['));
    let path = match header {
        None => key.to_owned(),
        Some(h) if h.starts_with("[[") => {
            let name = h.trim_start_matches('[').split(']').next()?.trim();
            let k = above
                .lines()
                .filter(|l| l.trim().starts_with("[[") && l.contains(name))
                .count();
            format!("{name}[{}].{key}", k.saturating_sub(1))
        }
        Some(h) => format!(
            "{}.{key}",
            h.trim_start_matches('[').split(']').next()?.trim()
        ),
    };
    Some(path)
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
    /// One period or one per neuron, s (default 0: none).
    refractory_period: Option<toml::Value>,
    #[serde(default)]
    refractory: crate::model::refractory::RefractoryMode,
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
    /// `{ file = "network.json" }`, relative to the model file.
    File(String),
}

/// `network.decoder` as a table: a generator or `{ file = "network.json" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecoderTable {
    random: Option<DecoderDistribution>,
    scale: Option<f64>,
    normalize: Option<bool>,
    file: Option<String>,
}

struct RawRandomDecoder {
    random: DecoderDistribution,
    scale: f64,
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
                let t = RawDecoderTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if let Some(file) = t.file {
                    if t.random.is_some() || t.scale.is_some() || t.normalize.is_some() {
                        return Err(de::Error::custom(
                            "a decoder table with `file` takes no other field",
                        ));
                    }
                    return Ok(RawDecoder::File(file));
                }
                Ok(RawDecoder::Random(RawRandomDecoder {
                    random: t.random.ok_or_else(|| de::Error::missing_field("random"))?,
                    scale: t.scale.ok_or_else(|| de::Error::missing_field("scale"))?,
                    normalize: t.normalize.unwrap_or(false),
                }))
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

/// `[input]` as written, turned into the table [`input::build_signal`] reads (a phase's `input`
/// is read as a table directly).
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

/// The kinds `[input]` takes: every kind of [`input::build_signal`] but `ou` (the learning
/// models' spelling of `smooth_random`).
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
    state: Option<RawStateMonitor>,
}

/// `record.state`: `neurons` (`"all"` or indices) and `variables` are checked by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStateMonitor {
    neurons: Option<toml::Value>,
    dt: f64,
    variables: Option<Vec<String>>,
    #[serde(default)]
    at_spikes: bool,
}

fn validate(raw: RawModel, source: Source) -> Result<Model, BuildError> {
    if raw.name.trim().is_empty() {
        return Err(BuildError::new(
            "name",
            "a non-empty model name",
            "an empty string",
        ));
    }
    let seed = raw.seed;
    let a = raw.target.as_ref().and_then(|t| t.a.clone());
    let network = build_network(raw.network, a, seed, &source.file)?;
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
        Some(input) => build_signal(
            &input.into_table(),
            "input.",
            d,
            duration,
            &mut rng_stream(seed, Stream::Input),
            &mut (MAX_INPUT_SAMPLES as f64),
        )?,
    };

    let record = build_record(raw.record, network.neurons(), duration)?;

    Ok(Model {
        name: raw.name,
        description: raw.description,
        seed,
        network,
        input,
        target,
        simulate,
        record,
        source,
    })
}

// ---------------------------------------------------------------------------------------------
// The learning model file as written.

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

#[cfg(test)]
mod tests;
