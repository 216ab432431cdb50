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
//! 2. the teacher `ẋ = f(x) + c(t)` is integrated over the phase by [`integrate_span`] from
//!    the previous phase's teacher end state (default; the first phase from `target.initial`),
//!    from `target.initial` with the network placed there too (`start = "teacher"`), or from the
//!    network's readout (`start = "readout"`);
//! 3. the kernel's input becomes `c + K x_teacher` and its low-rank slow core `L − K I` with
//!    `L = 0` (for the linear basis `L = U`): feedback of the coding error with gain K;
//! 4. the network runs to `t_e`; when η > 0 the local rule learns (the loop of
//!    [`crate::learning::rule::train`]: intervals integrated against the teacher, weights applied every
//!    `epoch`, η with its optional decay) and a learning curve point (field error over the
//!    phase's teacher states) is taken every 1 % of the phase.
//!
//! The readout and the teacher are sampled every `record.readout_dt` on one global grid.
//! Metrics per phase: `nrmse` (readout vs teacher), `mean_rate_hz` and `cv_isi` of the alive
//! neurons, `ei_balance` over the phase's last [`EI_WINDOW`] seconds ([`crate::analysis::balance`]), and
//! for oscillating targets in phases with zero input and K = 0, `nrmse_1s`,
//! `period_error` and `amplitude_error` (for Lorenz: `attractor`, with std ratios, loop period
//! error and occupancy distance against the target's own attractor over
//! [`ATTRACTOR_REFERENCE`] seconds). Top level: `field_error`, the learned field's error
//! over the teacher states of all training phases.
//!
//! The library never prints: progress goes through a callback.

use crate::analysis::learning_metrics::{
    amplitude_error, learned_field_error, nrmse_between, oscillation, period_error, spike_stats,
    Hysteresis,
};
use crate::analysis::metrics;
use crate::engine::dense::DenseStepper;
use crate::engine::kernel::Kernel;
use crate::engine::{EngineKind, Spike};
use crate::error::{BuildError, SimError};
use crate::io::model_file::{BasinTest, LearningModel, Phase, PhaseStart};
use crate::io::record::{Readout, Summary};
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

/// Teacher states sampled per training phase for the field error and the learning curve.
pub const FIELD_SAMPLES: usize = 2000;

/// Length of the reference trajectory of attractor statistics (Lorenz), s: the target's own
/// flow from the phase's start state, long enough for its statistics to converge.
pub const ATTRACTOR_REFERENCE: f64 = 500.0;

/// Learning-curve points per training phase.
pub const CURVE_POINTS: usize = 100;

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
    /// E/I balance over the phase's last [`EI_WINDOW`] seconds ([`crate::analysis::balance`]): mean
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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeightNoiseReport {
    /// σ per synapse.
    pub sigma: f64,
    /// `‖P‖_F` after the addition (the offset accumulates over phases).
    pub offsets_norm: f64,
    /// `‖P‖_F / ‖Dᵀ U‖_F` at the phase start (`None` while U = 0).
    pub relative_norm: Option<f64>,
}

/// What a basin test of the spiking network measured ([`BasinTest`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
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
pub const EI_WINDOW: f64 = 5.0;

/// One point of the learning curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
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

/// The teacher's dense output as a signal in absolute time (zero before its start).
fn solution_signal(sol: &DenseSolution) -> Result<Signal, BuildError> {
    let t0 = sol.start_time();
    let segs = sol.segments().map(|s| (s.start, s.degree, s.coeffs));
    if t0 == 0.0 {
        return Signal::from_polynomials(sol.dims(), segs);
    }
    let zeros = vec![0.0; sol.dims()];
    Signal::from_polynomials(
        sol.dims(),
        std::iter::once((0.0, 0, zeros.as_slice())).chain(segs),
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

/// `U Ψ(x)`.
fn learned_at(basis: &Basis, u: &[f64], x: &[f64], psi: &mut [f64], out: &mut [f64]) {
    basis.eval(x, psi);
    let nb = psi.len();
    for (o, row) in out.iter_mut().zip(u.chunks_exact(nb)) {
        *o = row.iter().zip(psi.iter()).map(|(a, b)| a * b).sum();
    }
}

fn field_err(
    basis: &Basis,
    u: &[f64],
    field: &dyn VectorField,
    lambda_d: f64,
    states: &[f64],
) -> f64 {
    let d = basis.dims();
    let psi = std::cell::RefCell::new(vec![0.0; basis.len()]);
    learned_field_error(
        |x, out| learned_at(basis, u, x, &mut psi.borrow_mut(), out),
        |x, out| field.eval(x, out),
        lambda_d,
        states,
        d,
    )
}

/// Fixed points of the learned field against the target's, over the box the training visited.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FixedPointReport {
    /// Lower corner of the box searched (per-dimension minimum of the training states).
    pub box_lo: Vec<f64>,
    /// Upper corner.
    pub box_hi: Vec<f64>,
    /// Fixed points of the learned field `UΨ(x) − λ_d x` in the box.
    pub learned: Vec<crate::analysis::learning_metrics::FixedPoint>,
    /// Fixed points of the target field `g` in the box.
    pub target: Vec<crate::analysis::learning_metrics::FixedPoint>,
    /// Largest distance from a target fixed point to the nearest learned one of the same kind
    /// (attracting, repelling, saddle; `None` when the target has none in the box or one has no
    /// match).
    pub max_error: Option<f64>,
    /// The same over the target's attracting fixed points only (the attractors).
    pub max_error_stable: Option<f64>,
}

/// The learned field `UΨ(x) − λ_d x` as a vector field (to integrate it without spikes).
#[derive(Debug)]
struct LearnedField<'a> {
    basis: &'a Basis,
    u: &'a [f64],
    lambda_d: f64,
}

impl VectorField for LearnedField<'_> {
    fn dims(&self) -> usize {
        self.basis.dims()
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let mut psi = vec![0.0; self.basis.len()];
        learned_at(self.basis, self.u, x, &mut psi, out);
        for (o, xi) in out.iter_mut().zip(x) {
            *o -= self.lambda_d * xi;
        }
    }
}

/// Fixed points of the learned and target fields over the box spanned by `states`.
pub fn fixed_point_report(
    basis: &Basis,
    u: &[f64],
    field: &dyn VectorField,
    lambda_d: f64,
    states: &[f64],
) -> FixedPointReport {
    use crate::analysis::learning_metrics::{fixed_points, FixedPointOptions};
    let d = basis.dims();
    let (lo, hi) = state_box(states, d);
    let psi = std::cell::RefCell::new(vec![0.0; basis.len()]);
    let opts = FixedPointOptions {
        seeds_per_dim: if d == 1 {
            41
        } else if d == 2 {
            15
        } else {
            7
        },
        ..FixedPointOptions::default()
    };
    let learned = fixed_points(
        |x, out| {
            learned_at(basis, u, x, &mut psi.borrow_mut(), out);
            out.iter_mut()
                .zip(x)
                .for_each(|(o, xi)| *o -= lambda_d * xi);
        },
        &lo,
        &hi,
        &opts,
    );
    let target = fixed_points(|x, out| field.eval(x, out), &lo, &hi, &opts);
    let mut max_error: Option<f64> = None;
    let mut max_error_stable: Option<f64> = None;
    for t in &target {
        let nearest = learned
            .iter()
            .filter(|l| same_kind(l.stability, t.stability))
            .map(|l| {
                l.x.iter()
                    .zip(&t.x)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(f64::INFINITY, f64::min);
        max_error = Some(max_error.unwrap_or(0.0).max(nearest));
        if t.stability.is_attracting() {
            max_error_stable = Some(max_error_stable.unwrap_or(0.0).max(nearest));
        }
    }
    FixedPointReport {
        box_lo: lo,
        box_hi: hi,
        learned,
        target,
        max_error: max_error.and_then(finite),
        max_error_stable: max_error_stable.and_then(finite),
    }
}

/// Whether two fixed points are of the same kind for matching: both attracting (node or
/// focus), both repelling, both saddles, or the same otherwise — a learned attractor whose
/// Jacobian has a slight rotation (a focus) still matches a target node.
fn same_kind(
    a: crate::analysis::learning_metrics::Stability,
    b: crate::analysis::learning_metrics::Stability,
) -> bool {
    use crate::analysis::learning_metrics::Stability::*;
    let kind = |s| match s {
        StableNode | StableFocus => 0,
        UnstableNode | UnstableFocus => 1,
        Saddle => 2,
        NonHyperbolic => 3,
        Undetermined => 4,
    };
    kind(a) == kind(b)
}

/// Per-dimension minimum and maximum of `states` (rows of d).
fn state_box(states: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for x in states.chunks_exact(d) {
        for j in 0..d {
            lo[j] = lo[j].min(x[j]);
            hi[j] = hi[j].max(x[j]);
        }
    }
    (lo, hi)
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Runs the phases of `model` on the model's engine (or `opts.engine`). `progress` is called
/// with the simulated time now and then (about every 0.1 % of the total).
pub fn run_phases(
    model: &LearningModel,
    opts: &PhaseOptions,
    progress: impl FnMut(f64),
) -> Result<LearnOutput, RunError> {
    let setup = tracing::info_span!("setup", model = %model.name).entered();
    let d = model.network.dims();
    match opts.engine.unwrap_or(model.engine) {
        EngineKind::Exact => {
            let mut kernel = Kernel::new(
                model.network.clone(),
                Signal::zero(d),
                &model.target.initial,
            )?;
            kernel.set_cascade_limit(model.cascade_limit);
            drop(setup);
            run_phases_on(&mut kernel, "exact", model, opts, progress)
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
            let mut out = run_phases_on(&mut stepper, "dense", model, opts, progress)?;
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
            Ok(out)
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
/// with readout 0); `engine_name` goes into the summary.
pub fn run_phases_on<E: Plastic + Clone>(
    engine: &mut E,
    engine_name: &str,
    model: &LearningModel,
    opts: &PhaseOptions,
    mut progress: impl FnMut(f64),
) -> Result<LearnOutput, RunError> {
    let d = model.network.dims();
    let n = model.network.neurons();
    let lambda_d = model.network.lambda_d();
    let basis = model.basis.clone();
    let nb = basis.len();
    let linear = matches!(basis, Basis::Linear { .. });
    let field = model.target.field()?;
    let total: f64 = model.phases.iter().map(|p| p.duration).sum();
    let dt = model.record.readout_dt;
    if (total / dt).floor() > MAX_READOUT_SAMPLES {
        return Err(BuildError::new(
            "record.readout_dt",
            format!("at most {MAX_READOUT_SAMPLES} samples over all phases"),
            format!("{dt} s over {total} s"),
        )
        .into());
    }
    let mut learner = Learner::new(basis.clone(), lambda_d);
    let mut u = match &opts.initial_weights {
        Some(w) if w.len() == d * nb && w.iter().all(|x| x.is_finite()) => w.clone(),
        Some(w) => {
            return Err(BuildError::new(
                "weights.u",
                format!("{d}×{nb} finite learned weights (the model's basis)"),
                format!("{} entries", w.len()),
            )
            .into())
        }
        None => vec![0.0; d * nb],
    };
    learner.set_weights(&u)?;
    if !linear {
        engine.set_learned_current(Some(LearnedCurrent::new(basis.clone(), u.clone())?))?;
    }
    // A fixed offset P of the synaptic matrix (W = DᵀU + P): the linear basis learns through
    // the slow core, so its offset rides on a learned current with U = 0.
    let set_offsets = |engine: &mut E, p: &[f64]| -> Result<(), BuildError> {
        if engine.learned_current().is_none() {
            let zero = vec![0.0; d * nb];
            engine.set_learned_current(Some(LearnedCurrent::new(basis.clone(), zero)?))?;
        }
        engine.set_learned_offsets(Some(p.to_vec()))
    };
    let mut offsets = opts.initial_offsets.clone();
    if let Some(p) = &offsets {
        if p.len() != n * nb || p.iter().any(|x| !x.is_finite()) {
            return Err(BuildError::new(
                "weights.offsets",
                format!("{n}×{nb} finite offsets (network.neurons × the model's basis)"),
                format!("{} entries", p.len()),
            )
            .into());
        }
        set_offsets(engine, p)?;
    }
    let mut weight_rng = rng_stream(model.seed(), Stream::WeightNoise);

    let _run = tracing::info_span!("learn", duration = total).entered();
    let started = Instant::now();
    let mut perturb = rng_stream(model.seed(), Stream::Perturbation);
    let mut spikes: Vec<Spike> = Vec::new();
    let mut readout = Readout::new(d, true);
    let mut reports = Vec::with_capacity(model.phases.len());
    let mut curve = Vec::new();
    let mut train_states: Vec<f64> = Vec::new();
    let mut teacher_end = model.target.initial.clone();
    let (mut xhat, mut x) = (vec![0.0; d], vec![0.0; d]);
    let mut next_sample: u64 = 0;
    let mut t_s = 0.0;
    let report_every = (total / 1000.0).max(1e-9);
    let mut next_report = 0.0;
    let mut log = Vec::new();
    let mut core = vec![0.0; d * d];
    let mut noisy = false;

    for (pi, phase) in model.phases.iter().enumerate() {
        let Phase {
            duration,
            feedback_gain: k,
            ..
        } = *phase;
        let t_e = t_s + duration;
        let last = pi + 1 == model.phases.len();
        // 1. Kills.
        if phase.kill_fraction > 0.0 {
            let mut alive: Vec<usize> = (0..n).filter(|&i| engine.alive()[i]).collect();
            rand::seq::SliceRandom::shuffle(&mut alive[..], &mut perturb);
            let count = ((phase.kill_fraction * n as f64).round() as usize).min(alive.len());
            engine.kill(&alive[..count])?;
        }
        if !phase.kill_neurons.is_empty() {
            engine
                .kill(&phase.kill_neurons)
                .map_err(|e| phase_field(e, pi, "kill_neurons"))?;
        }
        // 2. Teacher.
        let x0 = match phase.start {
            PhaseStart::Continue => teacher_end.clone(),
            PhaseStart::Teacher => {
                engine
                    .place_readout(&model.target.initial)
                    .map_err(|e| phase_field(e, pi, "start"))?;
                model.target.initial.clone()
            }
            PhaseStart::Readout => {
                engine.readout(&mut xhat);
                xhat.clone()
            }
        };
        // Perturbations: a kick of network and teacher, noise, one delayed spike.
        let mut x0 = x0;
        if let Some(kick) = &phase.kick {
            engine.readout(&mut xhat);
            for ((a, b), k) in xhat.iter_mut().zip(x0.iter_mut()).zip(kick) {
                *a += k;
                *b += k;
            }
            engine
                .place_readout(&xhat)
                .map_err(|e| phase_field(e, pi, "kick"))?;
        }
        match phase.noise {
            Some(noise) => {
                engine.set_voltage_noise(
                    noise.sigma,
                    noise.interval,
                    phase_noise_seed(model.seed(), pi),
                )?;
                noisy = true;
            }
            None if noisy => {
                engine.set_voltage_noise(0.0, 1.0, 0)?;
                noisy = false;
            }
            None => {}
        }
        if let Some((after, delay)) = phase.delay_spike {
            engine.delay_next_spike(t_s + after, delay)?;
        }
        let weight_noise = match phase.weight_noise {
            Some(sigma) => {
                let p = offsets.get_or_insert_with(|| vec![0.0; n * nb]);
                for w in p.iter_mut() {
                    *w += sigma
                        * rand::Rng::sample::<f64, _>(&mut weight_rng, rand_distr::StandardNormal);
                }
                set_offsets(engine, p).map_err(|e| phase_field(e, pi, "weight_noise"))?;
                let norm = p.iter().map(|x| x * x).sum::<f64>().sqrt();
                let low_rank = low_rank_norm(model.network.decoders(), d, &u, nb);
                Some(WeightNoiseReport {
                    sigma,
                    offsets_norm: norm,
                    relative_norm: (low_rank > 0.0).then(|| norm / low_rank).and_then(finite),
                })
            }
            None => None,
        };
        let basins = match &phase.basins {
            None => None,
            Some(test) => {
                let (lo, hi) = match test.range {
                    Some((a, b)) => (vec![a; d], vec![b; d]),
                    None if !train_states.is_empty() => state_box(&train_states, d),
                    None => {
                        return Err(BuildError::new(
                            format!("phase[{pi}].basins.range"),
                            "a range (required before any training phase)",
                            "none",
                        )
                        .into())
                    }
                };
                for r in 0..d {
                    for col in 0..d {
                        core[r * d + col] = if linear { u[r * d + col] } else { 0.0 };
                    }
                }
                Some(basin_test(&*engine, test, &lo, &hi, &core, field.as_ref())?)
            }
        };
        let c = shift(&phase.input, t_s)?;
        let teacher = integrate_span(field.as_ref(), &c, &x0, t_s, t_e, Tolerance::default())
            .map_err(|e| sim(format!("phase[{pi}] ({}): teacher: {e}", phase.name)))?;
        teacher_end = teacher.end_state().to_vec();
        // 3. Input and slow core.
        let drive = if k > 0.0 {
            c.linear_combination(1.0, &solution_signal(&teacher)?, k)?
        } else {
            c
        };
        engine.set_input(drive.clone())?;
        let set_core = |engine: &mut E, u: &[f64], core: &mut [f64]| {
            for r in 0..d {
                for col in 0..d {
                    let l = if linear { u[r * d + col] } else { 0.0 };
                    core[r * d + col] = l - if r == col { k } else { 0.0 };
                }
            }
            engine.set_slow_core(core)
        };
        set_core(engine, &u, &mut core)?;
        // Teacher states of a training phase (η > 0 in the file, frozen or not), for the field
        // error.
        let learns = phase.learns() && !opts.frozen;
        let mut states = Vec::new();
        if phase.learns() {
            for i in 0..FIELD_SAMPLES {
                teacher.eval(
                    t_s + duration * (i as f64 + 0.5) / FIELD_SAMPLES as f64,
                    &mut x,
                );
                states.extend_from_slice(&x);
            }
        }
        // 4. Run.
        let first_sample = readout.len();
        let first_spike = spikes.len();
        let mut take_samples = |engine: &mut E,
                                spikes: &mut Vec<Spike>,
                                readout: &mut Readout,
                                upto: f64,
                                inclusive: bool|
         -> Result<(), SimError> {
            loop {
                let ts = next_sample as f64 * dt;
                if ts > upto || (!inclusive && ts >= upto) {
                    return Ok(());
                }
                engine.run_until(Time::from_secs(ts.max(engine.time().secs())), spikes)?;
                engine.readout(&mut xhat);
                teacher.eval(ts, &mut x);
                readout.push(ts, &xhat, Some(&x));
                next_sample += 1;
            }
        };
        if learns {
            let schedule = Schedule {
                duration,
                epoch: phase.epoch,
                feedback_gain: k,
                learning_rate: phase.learning_rate,
                learning_rate_decay: phase.learning_rate_decay,
            };
            engine.record_intervals(true);
            engine.flush();
            engine.take_intervals(&mut log);
            let epochs = (duration / phase.epoch).ceil() as usize;
            let curve_every = (epochs / CURVE_POINTS).max(1);
            let mut window_start = readout.len();
            for e in 1..=epochs {
                let t = t_s + (e as f64 * phase.epoch).min(duration);
                take_samples(engine, &mut spikes, &mut readout, t, false)?;
                engine.run_until(Time::from_secs(t), &mut spikes)?;
                engine.flush();
                engine.take_intervals(&mut log);
                learner.integrate(&log, &teacher);
                learner.apply(schedule.learning_rate_at((t - t_s) / duration));
                u.copy_from_slice(learner.weights());
                if linear {
                    set_core(engine, &u, &mut core)?;
                } else {
                    engine.set_learned_weights(&u)?;
                }
                if e % curve_every == 0 || e == epochs {
                    let w = readout.len();
                    let window_nrmse = if w > window_start {
                        metrics::nrmse(
                            &readout.xhat[window_start * d..w * d],
                            readout
                                .x
                                .as_ref()
                                .map_or(&[][..], |v| &v[window_start * d..w * d]),
                            d,
                        )
                    } else {
                        f64::NAN
                    };
                    window_start = w;
                    curve.push(CurvePoint {
                        time: t,
                        phase: pi,
                        field_error: field_err(&basis, &u, field.as_ref(), lambda_d, &states),
                        window_nrmse,
                    });
                }
                if t >= next_report {
                    progress(t);
                    next_report = t + report_every;
                }
            }
            engine.record_intervals(false);
        } else {
            let mut t = t_s;
            while t < t_e {
                let step = (t + report_every * 10.0).min(t_e);
                take_samples(engine, &mut spikes, &mut readout, step, false)?;
                engine.run_until(Time::from_secs(step), &mut spikes)?;
                progress(step);
                t = step;
            }
        }
        if last {
            take_samples(engine, &mut spikes, &mut readout, t_e, true)?;
        }
        engine.run_until(Time::from_secs(t_e), &mut spikes)?;

        // Metrics.
        let (a, b) = (first_sample, readout.len());
        let xs = readout.x.as_deref().unwrap_or(&[]);
        let nrmse =
            (b > a).then(|| metrics::nrmse(&readout.xhat[a * d..b * d], &xs[a * d..b * d], d));
        let stats = spike_stats(&spikes[first_spike..], engine.alive(), t_s, t_e, 3);
        let autonomous = phase.zero_input && k == 0.0;
        let (mut nrmse_1s, mut pe, mut ae, mut attractor) = (None, None, None, None);
        let mut learned_attractor = None;
        if autonomous && b > a {
            let times: Vec<f64> = readout.times[a..b].iter().map(|t| t - t_s).collect();
            let (net, reference) = (&readout.xhat[a * d..b * d], &xs[a * d..b * d]);
            nrmse_1s = finite(nrmse_between(&times, net, reference, d, 0.0, 1.0));
            if model.target.oscillates() {
                let mut proj = vec![0.0; d];
                proj[0] = 1.0;
                let hyst = Hysteresis::default();
                let on = oscillation(&times, net, d, &proj, &hyst);
                let or = oscillation(&times, reference, d, &proj, &hyst);
                let (p, am) = match (on, or) {
                    (Some(o1), Some(o2)) => (
                        finite(period_error(&o1, &o2)),
                        finite(amplitude_error(&o1, &o2)),
                    ),
                    _ => (None, None),
                };
                pe = Some(p);
                ae = Some(am);
            }
            if model.target.kind == crate::model::dynamics::TargetKind::Lorenz && d == 3 {
                // The reference is the target's attractor itself: its flow from the phase's
                // start over ATTRACTOR_REFERENCE seconds, not one window as short as the phase.
                let span = ATTRACTOR_REFERENCE.max(duration);
                let long = integrate_span(
                    field.as_ref(),
                    &Signal::zero(d),
                    &x0,
                    t_s,
                    t_s + span,
                    Tolerance::default(),
                )
                .map_err(|e| sim(format!("phase[{pi}] ({}): reference: {e}", phase.name)))?;
                let samples = (span / dt).floor() as usize;
                let sample = |sol: &DenseSolution, x: &mut [f64]| {
                    let mut times = Vec::with_capacity(samples);
                    let mut states = Vec::with_capacity(samples * d);
                    for i in 0..samples {
                        let t = i as f64 * dt;
                        sol.eval(t_s + t, x);
                        times.push(t);
                        states.extend_from_slice(x);
                    }
                    (times, states)
                };
                let (ref_times, ref_states) = sample(&long, &mut x);
                // The learned field alone, integrated without spikes from the same start: tells
                // a learning failure (this differs too) from a spiking one (only the network
                // differs).
                let learned = LearnedField {
                    basis: &basis,
                    u: &u,
                    lambda_d,
                };
                let alone = integrate_span(
                    &learned,
                    &Signal::zero(d),
                    &x0,
                    t_s,
                    t_s + span,
                    Tolerance::default(),
                )
                .ok()
                .map(|sol| sample(&sol, &mut x));
                let options = crate::analysis::learning_metrics::AttractorOptions::lorenz();
                attractor = crate::analysis::learning_metrics::attractor_stats(
                    &times,
                    net,
                    &ref_times,
                    &ref_states,
                    d,
                    &options,
                );
                learned_attractor = alone.and_then(|(lt, ls)| {
                    crate::analysis::learning_metrics::attractor_stats(
                        &lt,
                        &ls,
                        &ref_times,
                        &ref_states,
                        d,
                        &options,
                    )
                });
            }
        }
        // E/I balance over the phase's last seconds.
        let ei = {
            let from = (t_e - EI_WINDOW).max(t_s);
            let first = readout.times[a..b].partition_point(|&t| t < from) + a;
            let alive: Vec<usize> = (0..n).filter(|&i| engine.alive()[i]).collect();
            (first < b)
                .then(|| {
                    let drive = crate::analysis::balance::Drive {
                        network: &model.network,
                        slow_core: &core,
                        input: &drive,
                        learned: engine.learned_current(),
                    };
                    crate::analysis::balance::input_currents(
                        &drive,
                        &spikes,
                        &readout.xhat[first * d..(first + 1) * d],
                        &alive,
                        readout.times[first],
                        t_e,
                        crate::analysis::balance::DEFAULT_BIN,
                    )
                })
                .flatten()
                .and_then(|c| c.balance())
        };
        train_states.extend_from_slice(&states);
        reports.push(PhaseReport {
            name: phase.name.clone(),
            start_time: t_s,
            duration,
            feedback_gain: k,
            learning_rate: if opts.frozen {
                0.0
            } else {
                phase.learning_rate
            },
            alive: stats.alive,
            spikes: (spikes.len() - first_spike) as u64,
            nrmse: nrmse.and_then(finite),
            mean_rate_hz: stats.rate_hz,
            cv_isi: stats.cv_mean,
            nrmse_1s,
            period_error: pe,
            amplitude_error: ae,
            field_error: phase
                .learns()
                .then(|| field_err(&basis, &u, field.as_ref(), lambda_d, &states))
                .and_then(finite),
            attractor,
            learned_field_attractor: learned_attractor,
            ei_balance: ei,
            basins,
            weight_noise,
        });
        t_s = t_e;
    }
    progress(total);
    let wall = started.elapsed().as_secs_f64();
    let field_error = (!train_states.is_empty())
        .then(|| field_err(&basis, &u, field.as_ref(), lambda_d, &train_states))
        .and_then(finite);

    let fixed = (!train_states.is_empty()
        && model.target.kind != crate::model::dynamics::TargetKind::Lorenz)
        .then(|| fixed_point_report(&basis, &u, field.as_ref(), lambda_d, &train_states));

    let counters = engine.counters();
    let mut summary = Summary {
        model: model.name.clone(),
        engine: engine_name.into(),
        seed: model.seed(),
        neurons: n,
        dims: d,
        duration: total,
        spikes: spikes.len() as u64,
        mean_rate_hz: metrics::mean_rate_hz(spikes.len(), n, total),
        cv_isi: metrics::isi_cv(&spikes, n, 3),
        readout_rmse: readout.rmse(),
        readout_nrmse: readout.nrmse(),
        wall_seconds: wall,
        counters,
        ..Summary::default()
    };
    summary.extra.insert(
        "phases".into(),
        serde_json::to_value(&reports).unwrap_or_default(),
    );
    summary.extra.insert(
        "field_error".into(),
        field_error.map_or(serde_json::Value::Null, Into::into),
    );
    summary
        .extra
        .insert("target".into(), model.target.kind.name().into());
    summary.extra.insert(
        "basis".into(),
        crate::io::weights_file::basis_kind(&basis).into(),
    );
    summary.extra.insert("basis_size".into(), nb.into());
    if let Some(f) = fixed {
        summary.extra.insert(
            "fixed_points".into(),
            serde_json::to_value(&f).unwrap_or_default(),
        );
    }
    summary.extra.insert(
        "weights".into(),
        if offsets.is_some() {
            "low_rank_plus_offsets"
        } else {
            "low_rank"
        }
        .into(),
    );
    Ok(LearnOutput {
        spikes,
        readout,
        summary,
        phases: reports,
        weights: u,
        offsets,
        basis,
        curve,
        field_error,
    })
}

/// File name of the learning curve inside a run directory.
pub const LEARNING_CURVE_CSV: &str = "learning_curve.csv";

/// Writes `learning_curve.csv` atomically: header `time,phase,field_error,window_nrmse`, one row
/// per [`CurvePoint`], floats in shortest round-trip form (`NaN` where undefined).
pub fn write_learning_curve(
    path: &std::path::Path,
    curve: &[CurvePoint],
) -> Result<(), crate::error::OutputError> {
    use std::fmt::Write as _;
    let mut text = String::from("time,phase,field_error,window_nrmse\n");
    for p in curve {
        let _ = writeln!(
            text,
            "{},{},{},{}",
            p.time, p.phase, p.field_error, p.window_nrmse
        );
    }
    crate::io::record::write_atomic(path, |w| {
        use std::io::Write as _;
        w.write_all(text.as_bytes())
    })
}

/// Writes a learning run directory: `spikes.csv`, `readout.csv`, `weights.json` (unless
/// `with_weights` is false), `learning_curve.csv` and, last, `summary.json`.
pub fn write_learn_run(
    dir: &std::path::Path,
    model: &LearningModel,
    out: &LearnOutput,
    with_weights: bool,
) -> Result<(), crate::error::OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| crate::error::OutputError {
        path: dir.to_path_buf(),
        source,
    })?;
    crate::io::record::write_spikes_csv(&dir.join(crate::io::record::SPIKES_CSV), &out.spikes)?;
    crate::io::record::write_readout_csv(&dir.join(crate::io::record::READOUT_CSV), &out.readout)?;
    if with_weights {
        crate::io::weights_file::write(
            &dir.join(crate::io::weights_file::WEIGHTS_JSON),
            &crate::io::weights_file::Weights {
                model: model.name.clone(),
                seed: model.seed(),
                lambda_d: model.network.lambda_d(),
                basis: out.basis.clone(),
                u: out.weights.clone(),
                offsets: out.offsets.clone(),
            },
        )?;
    }
    write_learning_curve(&dir.join(LEARNING_CURVE_CSV), &out.curve)?;
    crate::io::record::write_json(&dir.join(crate::io::record::SUMMARY_JSON), &out.summary)
}
