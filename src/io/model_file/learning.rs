//! Learning models (`ebnsim learn`): [`LearningModel`], its target and its validation.

use super::*;

/// Default `epoch` of a phase, s: learned weights are updated at multiples of it.
pub(crate) const DEFAULT_EPOCH: f64 = 1e-3;

/// Default same-instant cascade limit of a learning model: `max(N, 1000)` spikes.
pub(crate) const DEFAULT_LEARNING_CASCADE_LIMIT: usize = 1000;

/// Most phases a learning model may have.
pub(crate) const MAX_PHASES: usize = 1000;

/// Whether a parsed TOML document is a learning model (it has `[basis]` or `[[phase]]`).
pub(crate) fn is_learning_table(table: &toml::Table) -> bool {
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
    /// `seed`: decoder, phase inputs, random bases, kills and noise derive from it. Private so
    /// that it cannot disagree with the draws: [`LearningModel::seed`],
    /// [`LearningModel::with_seed`].
    seed: u64,
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
    /// The validated file's text and name, kept to redraw with another seed.
    source: Source,
}

impl LearningModel {
    /// The seed every random draw of this model was made from (and the phase runner's noise,
    /// weight-noise and perturbation streams derive from): the file's `seed`, or the one given
    /// to [`LearningModel::with_seed`].
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The same learning model file drawn with `seed` instead, exactly as
    /// [`parse_learning_seeded`] with `Some(seed)` (decoder, phase inputs, random bases, kills
    /// and noise all derive from it). Fields changed in code since loading (phases added or
    /// truncated, …) are replaced by the file's.
    pub fn with_seed(self, seed: u64) -> Result<LearningModel, ModelError> {
        if seed == self.seed {
            return Ok(self);
        }
        parse_learning_seeded(&self.source.text, &self.source.file, Some(seed))
    }

    /// [`LearningModel::with_seed`] in place; on error `self` is unchanged.
    pub fn set_seed(&mut self, seed: u64) -> Result<(), ModelError> {
        *self = self.clone().with_seed(seed)?;
        Ok(())
    }

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
    pub(crate) fn parameter(&self, name: &str) -> Option<f64> {
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
    pub(crate) fn oscillates(&self) -> bool {
        use crate::model::dynamics::TargetKind;
        matches!(self.kind, TargetKind::VanDerPol | TargetKind::Pendulum)
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
    validate_learning(raw, Source::new(text, file)).map_err(|error| ModelError::Invalid {
        file: file.to_path_buf(),
        error,
    })
}

/// Most noise kicks one phase may ask for (`duration / noise.interval`).
const MAX_NOISE_EVENTS: f64 = 1e9;

fn validate_learning(raw: RawLearningModel, source: Source) -> Result<LearningModel, BuildError> {
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
            (0..d.min(MAX_DIMS))
                .map(|k| if i == k { -lambda_d } else { 0.0 })
                .collect()
        })
        .collect();
    let network = build_network(raw.network, Some(a), seed, &source.file)?;
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
    // One budget of random input knots for all phases together.
    let mut budget = MAX_INPUT_SAMPLES as f64;
    for (i, p) in raw.phase.into_iter().enumerate() {
        phases.push(build_phase(p, i, d, n, &mut input_rng, &mut budget)?);
    }
    let mut end = 0.0;
    for (i, p) in phases.iter().enumerate() {
        end += p.duration;
        if let Some(noise) = &p.noise {
            let events = p.duration / noise.interval;
            if !crate::run::advances(noise.interval, end) || events > MAX_NOISE_EVENTS {
                return Err(BuildError::new(
                    format!("phase[{i}].noise.interval"),
                    format!(
                        "an interval that advances time at the phase's end (t = {} s) and \
                         gives at most {MAX_NOISE_EVENTS:e} noise kicks in the phase",
                        crate::error::Num(end)
                    ),
                    format!(
                        "{} s ({} kicks)",
                        crate::error::Num(noise.interval),
                        crate::error::Num(events.ceil())
                    ),
                ));
            }
        }
    }
    let total: f64 = phases.iter().map(|p| p.duration).sum();
    let record = build_record(raw.record, n, total)?;
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
        record,
        cascade_limit,
        engine,
        dense,
        source,
    })
}

pub(super) fn build_target_spec(t: &toml::Table, d: usize) -> Result<TargetSpec, BuildError> {
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
