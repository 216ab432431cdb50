//! The phase runner: runs the `[[phase]]`s of a learning model in order on one engine (the exact
//! kernel, or the dense stepper: [`run_phases_on`] takes any [`Plastic`] engine) — what
//! `ebnsim learn` (and `ebnsim run --weights`) do, as a library call.
//!
//! For every phase, in absolute time `[t_s, t_e)`:
//!
//! 1. neurons are removed (`kill_fraction` of all N, chosen among the alive ones from
//!    [`Stream::Perturbation`]); then the phase's perturbations are set: a `kick` of network and
//!    teacher (after the `start` of step 2), voltage `noise`, one delayed spike (`delay_spike`),
//!    `weight_noise` on the learned synapses (a fixed offset `P` beyond `Dᵀ U`,
//!    [`Plastic::set_learned_offsets`], from [`Stream::WeightNoise`]);
//! 2. the teacher `ẋ = f(x) + c(t)` is integrated over the phase (by [`integrate_span`]'s
//!    steps, window by window as the run goes: `teacher`) from the previous phase's teacher end
//!    state (default; the first phase from `target.initial`), from `target.initial` with the
//!    network placed there too (`start = "teacher"`), or from the network's readout
//!    (`start = "readout"`);
//! 3. the kernel's input becomes `c + K x_teacher` and its low-rank slow core `L − K I` with
//!    `L = 0` (for the linear basis `L = U`): feedback of the coding error with gain K;
//! 4. the network runs to `t_e`; when η > 0 the local rule learns (the loop of
//!    [`crate::learning::rule::train`]: intervals integrated against the teacher, weights applied every
//!    `epoch`, η with its optional decay) and a learning curve point (field error over the
//!    phase's teacher states) is taken every 1 % of the phase.
//!
//! The readout and the teacher are sampled every `record.readout_dt` on one global grid.
//! Metrics per phase: `nrmse` (readout vs teacher), `mean_rate_hz` and `cv_isi` of the alive
//! neurons, `ei_balance` over the phase's last `EI_WINDOW` seconds ([`crate::analysis::balance`]), and
//! for oscillating targets in phases with zero input and K = 0, `nrmse_1s`,
//! `period_error` and `amplitude_error` (for Lorenz: `attractor`, with std ratios, loop period
//! error and occupancy distance against the target's own attractor over
//! `ATTRACTOR_REFERENCE` seconds). Top level: `field_error`, the learned field's error
//! over the teacher states of all training phases.
//!
//! The library never prints: progress goes through a callback — the simulated time for
//! [`run_phases`]; phase starts and reports, learning-curve points and times
//! ([`LearnProgress`]) for [`run_phases_with`] and [`run_phases_on`], whose callback can also
//! stop the run ([`LearnError::Stopped`]). [`crate::stream::stream_learning`] sends these
//! messages over a channel from a thread of their own.
//!
//! [`run_phases_on`] follows these steps, one file each: `setup` (checks, initial weights, the
//! run's fixed context and carried state), `perturb` (step 1), `phase_run` (steps 2–4) and
//! `report` (the metrics and the summary).

use crate::analysis::learning_metrics::{
    amplitude_error, learned_field_error, nrmse_between, oscillation, period_error, Hysteresis,
};
use crate::analysis::metrics;
use crate::engine::dense::DenseStepper;
use crate::engine::kernel::Kernel;
use crate::engine::{EngineKind, Spike};
use crate::error::{BuildError, SimError};
use crate::io::model_file::{BasinTest, LearningModel, Phase, PhaseStart};
use crate::io::record::{Readout, Summary};
use crate::io::run_writer::RunWriter;
use crate::learning::rule::{Learner, Plastic, Schedule};
use crate::model::basis::{Basis, LearnedCurrent};
use crate::model::dynamics::VectorField;
use crate::model::ode::{integrate_span, DenseSolution, Tolerance};
use crate::model::signal::Signal;
use crate::run::{RunError, MAX_READOUT_SAMPLES};
use crate::seed::{rng_stream, Stream};
use crate::time::Time;
use serde::Serialize;
use std::time::Instant;

mod checkpoint;
mod field;
pub use field::FixedPointReport;
use field::{field_err, fixed_point_report, state_box, LearnedField};
mod files;
mod records;
pub use files::write_learn_run;
pub(crate) use files::{write_learning_curve, LEARNING_CURVE_CSV};
mod perturb;
mod phase_run;
mod progress;
mod report;
mod setup;
mod teacher;
pub use progress::{LearnError, LearnProgress};
use setup::*;
use std::ops::ControlFlow;
use teacher::PhaseTeacher;

/// Teacher states sampled per training phase for the field error and the learning curve.
pub(crate) const FIELD_SAMPLES: usize = 2000;

/// Length of the reference trajectory of attractor statistics (Lorenz), s: the target's own
/// flow from the phase's start state, long enough for its statistics to converge.
pub(crate) const ATTRACTOR_REFERENCE: f64 = 500.0;

/// Learning-curve points per training phase.
pub(crate) const CURVE_POINTS: usize = 100;

/// How to run the phases.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhaseOptions {
    /// Start from these learned weights `U` (row-major d × N_b) instead of zero: training
    /// phases continue learning from them, or, with `frozen`, the phases just run with them.
    pub initial_weights: Option<Vec<f64>>,
    /// Never learn (every phase's η treated as 0): run a model with given weights.
    pub frozen: bool,
    /// The engine instead of the model's `simulate.engine`.
    pub engine: Option<EngineKind>,
    /// The dense stepper's time step instead of the model's `simulate.dt`, s.
    pub dt: Option<f64>,
    /// A fixed offset `P` (row-major N × N_b) of the learned synaptic matrix beyond `Dᵀ U`
    /// (weights.json's `offsets`): neuron i also receives `P_i Ψ`; phases' `weight_noise` adds
    /// to it. Learning changes `U` only.
    pub initial_offsets: Option<Vec<f64>>,
    /// Run phases estimated to be absurd anyway: more than
    /// [`MAX_ESTIMATED_SPIKES`](crate::run::cost::MAX_ESTIMATED_SPIKES) spikes to follow the
    /// teacher, or [`MAX_DENSE_WORK`](crate::run::cost::MAX_DENSE_WORK) dense neuron updates
    /// (checked at each phase's start; `ebnsim learn --force`).
    pub force: bool,
}

/// What one phase measured (an entry of `summary.json`'s `phases`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseReport {
    /// The phase's `name`.
    pub name: String,
    /// Start time, s (absolute).
    pub start_time: f64,
    /// Duration, s.
    pub duration: f64,
    /// K, 1/s.
    pub feedback_gain: f64,
    /// η used (0 when frozen).
    pub learning_rate: f64,
    /// Neurons alive during the phase.
    pub alive: usize,
    /// Spikes in the phase.
    pub spikes: u64,
    /// NRMSE of the readout against the teacher over the phase's samples.
    pub nrmse: Option<f64>,
    /// Mean rate per alive neuron, Hz.
    pub mean_rate_hz: f64,
    /// Mean CV of the ISIs of alive neurons with at least 3 spikes in the phase.
    pub cv_isi: Option<f64>,
    /// NRMSE over the phase's first second (phases without input and feedback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nrmse_1s: Option<f64>,
    /// Relative signed period error of the readout against the teacher (oscillating targets,
    /// phases without input and feedback; `null` when no period could be measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_error: Option<Option<f64>>,
    /// Relative signed amplitude (RMS radius) error, as `period_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amplitude_error: Option<Option<f64>>,
    /// Field error at the phase end over this phase's teacher states (training phases).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_error: Option<f64>,
    /// Attractor statistics of the readout against the teacher (Lorenz targets, phases without
    /// input and feedback): std ratios, loop period and its error, occupancy TV distance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attractor: Option<crate::analysis::learning_metrics::AttractorStats>,
    /// The same statistics for the learned field `UΨ(x) − λ_d x` integrated without spikes from
    /// the phase's start over the reference's span (Lorenz): when these are off too, the field
    /// was learned wrong; when only `attractor` is, the spiking network departs from its field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learned_field_attractor: Option<crate::analysis::learning_metrics::AttractorStats>,
    /// E/I balance over the phase's last `EI_WINDOW` seconds ([`crate::analysis::balance`]): mean
    /// correlation of each neuron's excitation and inhibition, and net over total input.
    pub ei_balance: Option<crate::analysis::learning_metrics::EiBalance>,
    /// The basin test of the spiking network at the phase start (phases with `basins`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basins: Option<BasinReport>,
    /// The weight noise added at the phase start (phases with `weight_noise`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_noise: Option<WeightNoiseReport>,
}

/// What a phase's `weight_noise` did: `N(0, σ²)` added to every learned slow synapse, kept as
/// the fixed offset `P` beyond the low-rank `Dᵀ U`.
#[derive(serde::Deserialize, Clone, Debug, PartialEq, Serialize)]
pub struct WeightNoiseReport {
    /// σ per synapse.
    pub sigma: f64,
    /// `‖P‖_F` after the addition (the offset accumulates over phases).
    pub offsets_norm: f64,
    /// `‖P‖_F / ‖Dᵀ U‖_F` at the phase start (`None` while U = 0).
    pub relative_norm: Option<f64>,
}

/// What a basin test of the spiking network measured ([`BasinTest`]).
#[derive(serde::Deserialize, Clone, Debug, PartialEq, Serialize)]
pub struct BasinReport {
    /// Number of starts.
    pub starts: usize,
    /// Starts whose network end state is within `tolerance` (max norm) of the target's.
    pub correct: usize,
    /// Largest max-norm distance between the network's and the target's end states: the
    /// network's attractor error when the target settles at fixed points.
    pub max_distance: f64,
    /// Seconds each start ran.
    pub duration: f64,
    /// The tolerance used.
    pub tolerance: f64,
    /// Lower and upper corner of the grid's box.
    pub box_lo: Vec<f64>,
    /// Upper corner.
    pub box_hi: Vec<f64>,
}

/// Runs a basin test on copies of `engine` at its current time: from every grid start the
/// network runs alone (no input, slow core `linear_core`, no noise), the target's flow runs
/// from the same start, and their end states are compared.
fn basin_test<E: Plastic + Clone>(
    engine: &E,
    test: &BasinTest,
    lo: &[f64],
    hi: &[f64],
    linear_core: &[f64],
    field: &dyn VectorField,
) -> Result<BasinReport, RunError> {
    let d = lo.len();
    let t0 = engine.time().secs();
    let t1 = t0 + test.duration;
    let zero = Signal::zero(d);
    let starts = test.per_dim.pow(d as u32);
    let (mut correct, mut max_distance) = (0, 0.0f64);
    let (mut start, mut end) = (vec![0.0; d], vec![0.0; d]);
    let mut spikes = Vec::new();
    for s in 0..starts {
        let mut rest = s;
        for j in 0..d {
            let cell = rest % test.per_dim;
            rest /= test.per_dim;
            start[j] = lo[j] + (hi[j] - lo[j]) * (cell as f64 + 0.5) / test.per_dim as f64;
        }
        let mut e = engine.clone();
        e.set_input(zero.clone())?;
        e.set_slow_core(linear_core)?;
        e.set_voltage_noise(0.0, 1.0, 0)?;
        e.place_readout(&start)?;
        spikes.clear();
        e.run_until(Time::from_secs(t1), &mut spikes)?;
        e.readout(&mut end);
        let teacher = integrate_span(field, &zero, &start, t0, t1, Tolerance::default())
            .map_err(|err| sim(format!("basin test from {start:?}: teacher: {err}")))?;
        let distance = end
            .iter()
            .zip(teacher.end_state())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        max_distance = max_distance.max(distance);
        correct += (distance <= test.tolerance) as usize;
    }
    Ok(BasinReport {
        starts,
        correct,
        max_distance,
        duration: test.duration,
        tolerance: test.tolerance,
        box_lo: lo.to_vec(),
        box_hi: hi.to_vec(),
    })
}

/// The E/I balance of a phase is measured over its last this many seconds.
pub(crate) const EI_WINDOW: f64 = 5.0;

/// One point of the learning curve.
#[derive(serde::Deserialize, Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Absolute simulated time, s.
    pub time: f64,
    /// Index of the training phase.
    pub phase: usize,
    /// Field error of the current weights over the phase's teacher states.
    pub field_error: f64,
    /// NRMSE of the readout against the teacher over the samples since the previous point.
    pub window_nrmse: f64,
}

/// What the phases produced.
#[derive(Clone, Debug)]
pub struct LearnOutput {
    /// Every spike, in firing order.
    pub spikes: Vec<Spike>,
    /// Readout and teacher on the global sampling grid.
    pub readout: Readout,
    /// The state monitor's samples (`[record] state`), if the model has one.
    pub state: Option<crate::monitor::StateRecord>,
    /// `summary.json` (the fields of `ebnsim run`, plus `phases`, `field_error`, `basis`).
    pub summary: Summary,
    /// Per phase metrics (also in `summary.extra["phases"]`).
    pub phases: Vec<PhaseReport>,
    /// The learned weights `U` (row-major d × N_b) at the end.
    pub weights: Vec<f64>,
    /// The fixed offset `P` (row-major N × N_b) of the learned synaptic matrix, if any.
    pub offsets: Option<Vec<f64>>,
    /// The basis they are on.
    pub basis: Basis,
    /// The learning curve.
    pub curve: Vec<CurvePoint>,
    /// Field error over the teacher states of all training phases (`None` without training).
    pub field_error: Option<f64>,
}

/// Shifts a signal given in phase time (first knot 0) to start at `t0` (zero before).
fn shift(signal: &Signal, t0: f64) -> Result<Signal, BuildError> {
    if t0 == 0.0 {
        return Ok(signal.clone());
    }
    let d = signal.dims();
    let stride = crate::closed_form::expo::MAX_DEGREE + 1;
    let zeros = vec![0.0; stride * d];
    let mut polys = Vec::with_capacity(signal.knots().len());
    for &k in signal.knots() {
        let mut p = vec![0.0; stride * d];
        let deg = signal.local_polynomial(k, &mut p);
        polys.push((t0 + k, deg, p));
    }
    Signal::from_polynomials(
        d,
        std::iter::once((0.0, 0, zeros.as_slice()))
            .chain(polys.iter().map(|(t, deg, p)| (*t, *deg, p.as_slice()))),
    )
}

/// An engine's error about a phase option, renamed to the option's path in the model file.
fn phase_field(mut e: BuildError, index: usize, name: &str) -> BuildError {
    e.field = format!("phase[{index}].{name}");
    e
}

fn sim(message: impl std::fmt::Display) -> RunError {
    RunError::Sim(SimError::Learning {
        message: message.to_string(),
    })
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Runs the phases of `model` on the model's engine (or `opts.engine`). `progress` is called
/// with the simulated time now and then (about every 0.1 % of the total).
pub fn run_phases(
    model: &LearningModel,
    opts: &PhaseOptions,
    mut progress: impl FnMut(f64),
) -> Result<LearnOutput, RunError> {
    let result = run_phases_with(model, opts, |message| {
        if let LearnProgress::Time(t) = message {
            progress(t);
        }
        ControlFlow::Continue(())
    });
    match result {
        Ok(out) => Ok(out),
        Err(LearnError::Run(e)) => Err(e),
        // The callback above never breaks.
        Err(LearnError::Stopped { at }) => Err(sim(format!("stopped at t = {at} s"))),
    }
}

/// Runs the phases of `model` on the model's engine (or `opts.engine`), as [`run_phases`],
/// calling `progress` with every [`LearnProgress`] message in run order (phase starts, curve
/// points, times, phase reports; the order is in [`LearnProgress`]'s docs). When `progress`
/// returns [`ControlFlow::Break`] the phases stop there with [`LearnError::Stopped`]; errors of
/// the model or the run are [`LearnError::Run`]. The output is the same as [`run_phases`]',
/// to the bit.
pub fn run_phases_with(
    model: &LearningModel,
    opts: &PhaseOptions,
    progress: impl FnMut(LearnProgress) -> ControlFlow<()>,
) -> Result<LearnOutput, LearnError> {
    Ok(run_phases_in(model, opts, None, progress)?.0)
}

/// Runs the phases of `model` as [`run_phases_with`] and writes the run directory
/// [`write_learn_run`] writes into `dir` (`weights.json` unless `opts.frozen`) — the same files,
/// byte for byte (`summary.json`'s `wall_seconds` aside) — while it runs: spikes, readout and
/// state samples go to growing files (under temporary names, renamed when the run is
/// complete) and are forgotten, so memory stays flat however long the phases (but for an
/// autonomous phase's own readout, which its oscillation and attractor metrics read back
/// whole). The metrics read the written files back. `dir` is best a fresh directory
/// (`ebnsim learn` gives its staging directory); a stopped or failed run removes its files.
///
/// With checkpoints (`plan.every`, as [`crate::run::run_model_into_with`]): every `plan.every`
/// simulated seconds (at the first epoch end, or step of a phase without learning, at or after
/// each) the engine, the learner, the random streams, the position in the phases and the
/// files' lengths go to `dir/`[`RUN_CHECKPOINT`](crate::checkpoint::RUN_CHECKPOINT); with
/// `plan.resume` the run continues from the one in `dir` (of the same `plan.fingerprint`, this
/// ebnsim version) to the files an uninterrupted run writes. A checkpointed run that stops or
/// fails keeps its files and checkpoint, to be resumed.
///
/// ```
/// use ebnsim::learning::protocol::{run_phases_into, PhaseOptions};
/// use ebnsim::run::CheckpointPlan;
/// let model = ebnsim::io::model_file::parse_learning(
///     r#"
///     name = "tiny"
///     [network]
///     neurons = 20
///     dims = 2
///     lambda_d = 10.0
///     mu = 2.5e-5
///     decoder = { random = "normal", scale = 0.05, normalize = true }
///     [target]
///     kind = "van_der_pol"
///     initial = [1.0, 0.0]
///     [basis]
///     kind = "monomials"
///     degree = 3
///     [[phase]]
///     duration = 0.5
///     input = { kind = "ou", tau = 0.05, sigma = 2.0 }
///     feedback_gain = 30.0
///     learning_rate = 100.0
///     "#,
///     std::path::Path::new("tiny.toml"),
/// )?;
/// let dir = std::env::temp_dir().join(format!("ebnsim-doc-{}", std::process::id()));
/// let plan = CheckpointPlan::default();
/// let out = run_phases_into(&model, &PhaseOptions::default(), &dir, &plan, |_| {
///     std::ops::ControlFlow::Continue(())
/// })?;
/// // The records are in the files; the summary counts them.
/// let spikes = std::fs::read_to_string(dir.join("spikes.csv"))?;
/// assert_eq!(spikes.lines().count() as u64, 1 + out.summary.spikes);
/// assert!(dir.join("weights.json").is_file() && out.summary.spikes > 100);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_phases_into(
    model: &LearningModel,
    opts: &PhaseOptions,
    dir: &std::path::Path,
    plan: &crate::run::CheckpointPlan,
    progress: impl FnMut(LearnProgress) -> ControlFlow<()>,
) -> Result<LearnOutcome, LearnError> {
    let (out, writer) = run_phases_in(model, opts, Some((dir, plan)), progress)?;
    let writer = writer.ok_or_else(|| sim("the run's files were not opened"))?;
    if !opts.frozen {
        files::write_weights(dir, model, &out).map_err(RunError::Output)?;
    }
    write_learning_curve(&dir.join(LEARNING_CURVE_CSV), &out.curve).map_err(RunError::Output)?;
    let also = [crate::io::weights_file::WEIGHTS_JSON, LEARNING_CURVE_CSV];
    writer
        .finish(&model.network, &out.summary, &also)
        .map_err(RunError::Output)?;
    let LearnOutput {
        summary,
        phases,
        weights,
        offsets,
        basis,
        curve,
        field_error,
        ..
    } = out;
    Ok(LearnOutcome {
        summary,
        phases,
        weights,
        offsets,
        basis,
        curve,
        field_error,
    })
}

/// What a learning run written into a directory ([`run_phases_into`]) returns: the
/// [`LearnOutput`] but for the records, which are in the directory's files.
#[derive(Clone, Debug)]
pub struct LearnOutcome {
    /// `summary.json`.
    pub summary: Summary,
    /// Per phase metrics (also in `summary.extra["phases"]`).
    pub phases: Vec<PhaseReport>,
    /// The learned weights `U` (row-major d × N_b) at the end.
    pub weights: Vec<f64>,
    /// The fixed offset `P` (row-major N × N_b) of the learned synaptic matrix, if any.
    pub offsets: Option<Vec<f64>>,
    /// The basis they are on.
    pub basis: Basis,
    /// The learning curve.
    pub curve: Vec<CurvePoint>,
    /// Field error over the teacher states of all training phases (`None` without training).
    pub field_error: Option<f64>,
}

/// [`run_phases_with`]; with `into`, writing the records into its directory as they come,
/// with its plan's checkpoints ([`run_phases_into`]), and returning the files to finish.
fn run_phases_in(
    model: &LearningModel,
    opts: &PhaseOptions,
    into: Option<(&std::path::Path, &crate::run::CheckpointPlan)>,
    progress: impl FnMut(LearnProgress) -> ControlFlow<()>,
) -> Result<(LearnOutput, Option<RunWriter>), LearnError> {
    let setup = tracing::info_span!("setup", model = %model.name).entered();
    let d = model.network.dims();
    let kind = opts.engine.unwrap_or(model.engine);
    let total: f64 = model.phases.iter().map(|p| p.duration).sum();
    let dense_dt = (kind == EngineKind::Dense).then(|| opts.dt.unwrap_or(model.dense.dt));
    crate::run::check_schedule(&model.network, total, dense_dt)?;
    match kind {
        EngineKind::Exact => {
            let mut kernel = Kernel::new(
                model.network.clone(),
                Signal::zero(d),
                &model.target.initial,
            )?;
            kernel.set_cascade_limit(model.cascade_limit);
            drop(setup);
            checkpoint::run(&mut kernel, "exact", (model, opts), into, progress)
        }
        EngineKind::Dense => {
            let mut config = model.dense;
            if let Some(dt) = opts.dt {
                config.dt = dt;
            }
            let mut stepper = DenseStepper::new(
                &model.network,
                Signal::zero(d),
                &model.target.initial,
                config,
            )?;
            drop(setup);
            let (mut out, files) =
                checkpoint::run(&mut stepper, "dense", (model, opts), into, progress)?;
            let extra = &mut out.summary.extra;
            extra.insert("dt".into(), config.dt.into());
            extra.insert(
                "integrator".into(),
                serde_json::to_value(config.integrator).unwrap_or_default(),
            );
            extra.insert(
                "spike_rule".into(),
                serde_json::to_value(config.spike_rule).unwrap_or_default(),
            );
            Ok((out, files))
        }
    }
}

/// `‖Dᵀ U‖_F`: the Frobenius norm of the low-rank learned synaptic matrix (N × N_b).
fn low_rank_norm(decoders: &[f64], d: usize, u: &[f64], nb: usize) -> f64 {
    let mut sum = 0.0;
    for di in decoders.chunks_exact(d) {
        for b in 0..nb {
            let w: f64 = di.iter().enumerate().map(|(j, x)| x * u[j * nb + b]).sum();
            sum += w * w;
        }
    }
    sum.sqrt()
}

/// The seed of phase `index`'s voltage noise: every noisy phase draws its own stream.
fn phase_noise_seed(seed: u64, index: usize) -> u64 {
    seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Runs the phases of `model` on a given engine (fresh, at t = 0, built from `model.network`
/// with readout 0); `engine_name` goes into the summary. `progress` gets every
/// [`LearnProgress`] message and can stop the run, as for [`run_phases_with`].
pub fn run_phases_on<E: Plastic + Clone>(
    engine: &mut E,
    engine_name: &str,
    model: &LearningModel,
    opts: &PhaseOptions,
    progress: impl FnMut(LearnProgress) -> ControlFlow<()>,
) -> Result<LearnOutput, LearnError> {
    let none = &mut |_: &E, _: &mut State, _: &checkpoint::Position| Ok(());
    Ok(run_phases_from(
        engine,
        engine_name,
        (model, opts),
        progress,
        (None, None),
        none,
    )?
    .0)
}

/// What the phase loop shows a checkpoint writer: the engine, the carried state and where the
/// loop stands.
type CheckpointHook<'h, E> =
    dyn FnMut(&E, &mut State, &checkpoint::Position) -> Result<(), LearnError> + 'h;

/// A checkpoint's position, engine and state, to continue from.
type Resume<E> = (checkpoint::Position, E, State);

/// [`run_phases_on`], continuing from `resume` when given, writing the records into `into`
/// when given ([`records`]), and showing `hook` the position after every epoch or step.
/// Returns the files, still to be finished.
fn run_phases_from<E: Plastic + Clone>(
    engine: &mut E,
    engine_name: &str,
    (model, opts): (&LearningModel, &PhaseOptions),
    mut progress: impl FnMut(LearnProgress) -> ControlFlow<()>,
    (resume, into): (Option<Resume<E>>, Option<checkpoint::Destination<'_>>),
    hook: &mut CheckpointHook<'_, E>,
) -> Result<(LearnOutput, Option<RunWriter>), LearnError> {
    let (ctx, mut st) = setup(engine, model, opts)?;
    let mut from = None;
    if let Some((position, e, state)) = resume {
        *engine = e;
        st = state;
        from = Some(position);
    }
    if let Some(into) = into {
        let mut files = records::writer(into.dir, &st, into.files.as_deref())?;
        if into.keep {
            files.keep_on_drop();
        }
        st.out = Some(files);
    }
    let _run = tracing::info_span!("learn", duration = ctx.total).entered();
    let started = Instant::now();
    let first_phase = from.as_ref().map_or(0, |p| p.pi);
    // The phases' start times as the loop adds them (from +0.0: `Iterator::sum` starts at −0.0).
    let mut t_s = 0.0;
    for p in &model.phases[..first_phase] {
        t_s += p.duration;
    }
    for (pi, phase) in model.phases.iter().enumerate().skip(first_phase) {
        let t_e = t_s + phase.duration;
        let k = phase.feedback_gain;
        let started = LearnProgress::PhaseStarted {
            index: pi,
            name: phase.name.clone(),
            start_time: t_s,
            duration: phase.duration,
        };
        progress::report(&mut progress, started, engine.time().secs())?;
        let resumed = from.take();
        let label = format!("phase[{pi}] ({})", phase.name);
        let (x0, weight_noise, basins, states, first);
        let mut teacher;
        match &resumed {
            None => {
                // 1. Kills; 2. the teacher's start; the perturbations.
                perturb::kill(engine, &ctx, &mut st, pi, phase)?;
                let mut x = phase_run::teacher_start(engine, &ctx, &mut st, pi, phase)?;
                perturb::perturb(engine, &ctx, &mut st, pi, phase, &mut x, t_s)?;
                x0 = x;
                weight_noise = perturb::weight_noise(engine, &ctx, &mut st, pi, phase)?;
                basins = perturb::basins(&*engine, &ctx, &mut st, pi, phase)?;
                // 2. Teacher; 3. input and slow core.
                let c = shift(&phase.input, t_s)?;
                let pass = teacher::first_pass(&ctx, (pi, phase), &c, &x0, t_s)?;
                teacher::check_cost(&ctx, (pi, phase), pass.spikes)?;
                states = pass.states;
                let field = ctx.field.as_ref();
                teacher = PhaseTeacher::new(field, c, &x0, (t_s, t_e), k, label)?;
                engine.set_input(teacher.drive().clone())?;
                phase_run::set_core(engine, &ctx, k, &st.u, &mut st.core)?;
                first = st.mark(engine)?;
                st.start_phase_tally(engine.alive(), (t_s, t_e));
            }
            Some(p) => {
                // The engine already holds the phase's input and core: only what was derived
                // from them is computed again (the same values), the teacher to where it was.
                x0 = p.x0.clone();
                (weight_noise, basins) = (p.weight_noise.clone(), p.basins.clone());
                let c = shift(&phase.input, t_s)?;
                states = teacher::first_pass(&ctx, (pi, phase), &c, &x0, t_s)?.states;
                let field = ctx.field.as_ref();
                teacher = PhaseTeacher::new(field, c, &x0, (t_s, t_e), k, label)?;
                teacher.cover(p.within.t, p.within.t)?;
                first = p.first;
            }
        }
        // 4. Run.
        let mut at = |e: &E, st: &mut State, within| {
            let position = checkpoint::Position {
                pi,
                x0: x0.clone(),
                weight_noise: weight_noise.clone(),
                basins: basins.clone(),
                first,
                within,
            };
            hook(e, st, &position)
        };
        phase_run::run(
            engine,
            &ctx,
            &mut st,
            (pi, phase),
            &mut teacher,
            &states,
            t_s,
            &mut progress,
            (resumed.map(|p| p.within), &mut at),
        )?;
        // Metrics.
        let report = report::phase_report(
            &*engine,
            &ctx,
            &mut st,
            report::PhaseEnd {
                pi,
                phase,
                t_s,
                x0: &x0,
                drive: teacher.drive(),
                states: &states,
                first,
                basins,
                weight_noise,
            },
        )?;
        st.teacher_end = teacher.end_state().to_vec();
        st.train_states.extend_from_slice(&states);
        st.reports.push(report.clone());
        let ended = LearnProgress::PhaseEnded {
            index: pi,
            report: Box::new(report),
        };
        progress::report(&mut progress, ended, engine.time().secs())?;
        t_s = t_e;
    }
    // The run is complete: a break on its last message changes nothing.
    let _ = progress(LearnProgress::Time(ctx.total));
    st.observe(engine);
    st.flush(engine)?;
    let wall = started.elapsed().as_secs_f64();
    Ok(report::finish(&*engine, engine_name, ctx, st, wall)?)
}
