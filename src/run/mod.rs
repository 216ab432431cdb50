//! Running a model file end to end: build the engine it names, sample the readout and the target
//! on a regular grid, and summarise — what `ebnsim run` does, as a library call.

use crate::analysis::metrics;
use crate::engine::counters::Counters;
use crate::engine::dense::DenseConfig;
use crate::engine::{EngineKind, Spike};
use crate::error::{BuildError, OutputError, SimError};
use crate::io::model_file::Model;
use crate::io::record::{Readout, Summary};
use crate::monitor::StateRecord;
use crate::simulation::{EngineChoice, Simulation};
use std::ops::ControlFlow;
use std::time::Instant;

pub mod cost;
mod streamed;
pub use streamed::{run_model_into, run_model_into_with, CheckpointPlan};

/// Most readout samples a run records (`duration / readout_dt`).
pub(crate) const MAX_READOUT_SAMPLES: f64 = 2e7;

/// Why a run could not be completed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The model's parameters could not make an engine.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The simulation stopped.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The checkpoint to resume from could not be used ([`run_model_into_with`]).
    #[error("{path}: {source}")]
    Checkpoint {
        /// The checkpoint file.
        path: std::path::PathBuf,
        /// What was wrong with it.
        source: crate::checkpoint::CheckpointError,
    },
    /// A file of the run could not be written ([`run_model_into`]).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The progress callback of [`run_model_with`] returned [`ControlFlow::Break`]: the run
    /// stopped cleanly at `at`, without an output.
    #[error("the run was stopped at t = {at} s by its progress callback")]
    Stopped {
        /// The simulated time reached, s.
        at: f64,
    },
}

/// Overrides of the model file's choices (the CLI's `--engine` and `--dt`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// Engine to use instead of `simulate.engine`.
    pub engine: Option<EngineKind>,
    /// Dense-stepper time step instead of `simulate.dt`, s.
    pub dt: Option<f64>,
    /// Longest same-instant cascade instead of `simulate.cascade_limit` (default N).
    pub cascade_limit: Option<usize>,
    /// Runs a model even when its estimated cost is absurd ([`cost`]; the CLI's `--force`).
    pub force: bool,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// Every spike, in firing order.
    pub spikes: Vec<Spike>,
    /// Readout and target sampled every `record.readout_dt` from 0 to the duration.
    pub readout: Readout,
    /// The state monitor's samples (`[record] state`), if the model has one.
    pub state: Option<StateRecord>,
    /// The numbers for `summary.json`.
    pub summary: Summary,
}

/// Most steps the dense stepper may take in one run (`duration / dt`).
pub(crate) const MAX_DENSE_STEPS: f64 = 1e10;

/// Whether `step` still advances time by itself (to 1 %) at `horizon`: a step below the time
/// resolution there would freeze the run.
pub(crate) fn advances(step: f64, horizon: f64) -> bool {
    ((horizon + step) - horizon - step).abs() <= 0.01 * step
}

/// Refuses time scales a run of `duration` seconds cannot use: a dense `dt` longer than the
/// run, below the time resolution at its end, or of more than [`MAX_DENSE_STEPS`] steps; a
/// fast delay longer than the run (no fast connection would ever act).
pub(crate) fn check_schedule(
    network: &crate::model::network::Network,
    duration: f64,
    dense_dt: Option<f64>,
) -> Result<(), BuildError> {
    use crate::error::Num;
    if let Some(dt) = dense_dt {
        if duration > 0.0 && dt > duration {
            return Err(BuildError::new(
                "simulate.dt",
                format!(
                    "a dense time step at most the run's duration ({} s)",
                    Num(duration)
                ),
                format!("{} s", Num(dt)),
            ));
        }
        if !advances(dt, duration) || duration / dt > MAX_DENSE_STEPS {
            return Err(BuildError::new(
                "simulate.dt",
                format!(
                    "a dense time step that advances time at t = {} s and takes at most \
                     {MAX_DENSE_STEPS:e} steps",
                    Num(duration)
                ),
                format!("{} s ({} steps)", Num(dt), Num((duration / dt).ceil())),
            ));
        }
    }
    let delay = network.fast_delay();
    if duration > 0.0 && delay > duration {
        return Err(BuildError::new(
            "network.fast_delay",
            format!(
                "a delay at most the run's duration ({} s); a longer one never delivers",
                Num(duration)
            ),
            format!("{} s", Num(delay)),
        ));
    }
    Ok(())
}

/// Builds the simulation `ebnsim run` runs for `model` under `opts` (engine, time step and
/// cascade limit overrides; the readout sampled every `record.readout_dt`, the file's state
/// monitor), refusing a readout interval that would record more than 2·10⁷ samples, time
/// scales the run cannot use (a dense `dt` or a fast delay longer than the run, …) and, unless
/// `opts.force`, a run whose estimated cost is absurd ([`cost`]).
pub fn simulation_for(model: &Model, opts: &RunOptions) -> Result<Simulation, RunError> {
    let duration = model.simulate.duration;
    let dt = model.record.readout_dt;
    let samples = (duration / dt).floor();
    if samples > MAX_READOUT_SAMPLES {
        return Err(BuildError::new(
            "record.readout_dt",
            format!("at most {MAX_READOUT_SAMPLES} samples over simulate.duration"),
            format!("{dt} s ({samples} samples)"),
        )
        .into());
    }
    let kind = opts.engine.unwrap_or(model.simulate.engine);
    let mut builder = Simulation::from_model(model);
    if kind == EngineKind::Dense {
        let mut cfg = model.simulate.dense;
        if let Some(dt) = opts.dt {
            cfg.dt = dt;
        }
        check_schedule(&model.network, duration, Some(cfg.dt))?;
        builder = builder.engine(EngineChoice::Dense(cfg));
    } else {
        check_schedule(&model.network, duration, None)?;
        builder = builder.engine(EngineChoice::Exact);
    }
    if let Some(l) = opts.cascade_limit {
        builder = builder.cascade_limit(l);
    }
    cost::check(model, opts)?;
    Ok(builder.build()?)
}

/// `summary.json` of a run of `model` under `opts` up to `duration` (s): the spike statistics,
/// the readout's error against the target, the engine's counters and `wall` seconds.
pub fn summarize(
    model: &Model,
    opts: &RunOptions,
    duration: f64,
    data: (&[Spike], &Readout, Counters),
    wall: f64,
) -> Summary {
    summarize_network(
        (&model.name, model.seed()),
        &model.network,
        dense_config(model, opts),
        duration,
        data,
        wall,
    )
}

/// The dense stepper's settings of a run on the dense engine (`None`: the exact one).
fn dense_config(model: &Model, opts: &RunOptions) -> Option<DenseConfig> {
    (opts.engine.unwrap_or(model.simulate.engine) == EngineKind::Dense).then(|| {
        let mut cfg = model.simulate.dense;
        cfg.dt = opts.dt.unwrap_or(cfg.dt);
        cfg
    })
}

/// [`summarize`] for any network: `(name, seed)` of the model, `dense` the stepper's settings
/// when the run was on the dense engine (`None`: the exact one).
pub fn summarize_network(
    (name, seed): (&str, u64),
    network: &crate::model::network::Network,
    dense: Option<DenseConfig>,
    duration: f64,
    (spikes, readout, counters): (&[Spike], &Readout, Counters),
    wall: f64,
) -> Summary {
    let stats = Stats {
        spikes: spikes.len() as u64,
        cv_isi: metrics::isi_cv(spikes, network.neurons(), CV_MIN_SPIKES),
        rmse: readout.rmse(),
        nrmse: readout.nrmse(),
    };
    summary_of(
        (name, seed),
        network,
        dense,
        duration,
        (stats, counters),
        wall,
    )
}

/// Least spikes of a neuron for its ISI CV in `summary.json`.
const CV_MIN_SPIKES: usize = 3;

/// The numbers of `summary.json` computed from the recorded data.
struct Stats {
    spikes: u64,
    cv_isi: Option<f64>,
    rmse: Option<f64>,
    nrmse: Option<f64>,
}

fn summary_of(
    (name, seed): (&str, u64),
    network: &crate::model::network::Network,
    dense: Option<DenseConfig>,
    duration: f64,
    (stats, counters): (Stats, Counters),
    wall: f64,
) -> Summary {
    let n = network.neurons();
    let mut summary = Summary {
        model: name.to_string(),
        engine: if dense.is_some() { "dense" } else { "exact" }.into(),
        seed,
        neurons: n,
        dims: network.dims(),
        duration,
        spikes: stats.spikes,
        mean_rate_hz: metrics::mean_rate_hz(stats.spikes as usize, n, duration),
        cv_isi: stats.cv_isi,
        readout_rmse: stats.rmse,
        readout_nrmse: stats.nrmse,
        wall_seconds: wall,
        counters,
        ..Summary::default()
    };
    let weights = if network.is_low_rank() {
        "low_rank"
    } else {
        "dense"
    };
    summary.extra.insert("weights".into(), weights.into());
    if let Some(cfg) = dense {
        summary.extra.insert("dt".into(), cfg.dt.into());
        summary.extra.insert(
            "integrator".into(),
            serde_json::to_value(cfg.integrator).unwrap_or_default(),
        );
        summary.extra.insert(
            "spike_rule".into(),
            serde_json::to_value(cfg.spike_rule).unwrap_or_default(),
        );
    }
    summary.add_warnings();
    summary
}

/// Runs `model` to its duration. `progress` is called with the simulated time at every readout
/// sample.
pub fn run_model(
    model: &Model,
    opts: &RunOptions,
    mut progress: impl FnMut(f64),
) -> Result<RunOutput, RunError> {
    run_model_with(model, opts, |t| {
        progress(t);
        ControlFlow::Continue(())
    })
}

/// Runs `model` to its duration as [`run_model`] does, calling `progress` with the simulated
/// time at every readout sample; when it returns [`ControlFlow::Break`] the run stops there with
/// [`RunError::Stopped`] (how `ebnsim run` stops on Ctrl-C). Stopping never changes what a run
/// that goes on computes.
pub fn run_model_with(
    model: &Model,
    opts: &RunOptions,
    progress: impl FnMut(f64) -> ControlFlow<()>,
) -> Result<RunOutput, RunError> {
    let mut sim = build(model, opts)?;
    let wall = drive(&mut sim, (model, opts), 0, progress, |_, _, _, _| Ok(()))?;
    let d = model.network.dims();
    let recorded = sim.finish();
    let (spikes, counters) = (recorded.spikes, recorded.counters);
    let readout = recorded.readout.unwrap_or_else(|| Readout::new(d, true));
    tracing::info!(?counters, wall_seconds = wall, "run finished");
    let summary = summarize(
        model,
        opts,
        model.simulate.duration,
        (&spikes, &readout, counters),
        wall,
    );
    Ok(RunOutput {
        spikes,
        readout,
        state: recorded.state,
        summary,
    })
}

/// Builds the simulation `model` runs on under `opts` ([`simulation_for`], in a `setup` span).
fn build(model: &Model, opts: &RunOptions) -> Result<Simulation, RunError> {
    let _setup = tracing::info_span!("setup", model = %model.name).entered();
    simulation_for(model, opts)
}

/// Runs `sim` from readout sample `from` to the model's duration, stopping at every readout
/// sample `k` (t = k · readout_dt) and at the end (k = samples + 1, t = duration) for `after`
/// (what a run does with its records: `after(sim, k, t, wall)`, `wall` the simulation's wall
/// time so far) and `progress`; returns the simulation's wall time: the time in the engine and
/// its in-memory records, not in `after` (writing files, checkpoints) or `progress`, so that a
/// run written as it goes and one kept in memory measure the same thing.
fn drive(
    sim: &mut Simulation,
    (model, opts): (&Model, &RunOptions),
    from: usize,
    mut progress: impl FnMut(f64) -> ControlFlow<()>,
    mut after: impl FnMut(&mut Simulation, usize, f64, f64) -> Result<(), RunError>,
) -> Result<f64, RunError> {
    let duration = model.simulate.duration;
    let dt = model.record.readout_dt;
    let samples = (duration / dt).floor() as usize;
    let kind = opts.engine.unwrap_or(model.simulate.engine);
    let _run = tracing::info_span!("run", engine = ?kind, duration).entered();
    let mut busy = std::time::Duration::ZERO;
    for k in from..=samples + 1 {
        let t = if k <= samples {
            k as f64 * dt
        } else {
            duration
        };
        let started = Instant::now();
        sim.run_until(t)?;
        busy += started.elapsed();
        after(sim, k, t, busy.as_secs_f64())?;
        if progress(t).is_break() {
            return Err(RunError::Stopped { at: t });
        }
    }
    Ok(busy.as_secs_f64())
}
