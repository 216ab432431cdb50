//! Running a model file end to end: build the engine it names, sample the readout and the target
//! on a regular grid, and summarise — what `ebnsim run` does, as a library call.

use crate::analysis::metrics;
use crate::analysis::metrics::{IsiCvStream, ReadoutErrorStream};
use crate::engine::counters::Counters;
use crate::engine::dense::DenseConfig;
use crate::engine::{EngineKind, Spike};
use crate::error::{BuildError, OutputError, SimError};
use crate::io::model_file::Model;
use crate::io::record::{Readout, Summary};
use crate::io::run_writer::RunWriter;
use crate::monitor::StateRecord;
use crate::simulation::{EngineChoice, Simulation};
use std::ops::ControlFlow;
use std::time::Instant;

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
/// monitor), refusing a readout interval that would record more than 2·10⁷ samples.
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
    let (sim, wall) = drive(model, opts, progress, |_| Ok(()))?;
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

/// Runs `model` to its duration as [`run_model_with`] does and writes its files into `dir`
/// while it runs ([`RunWriter`]: `spikes.csv`, `readout.csv`, the state monitor's files, then
/// `network.json` and `summary.json`), keeping only the current readout interval's records in
/// memory: memory stays flat however long the run. The files and the returned summary are
/// those [`run_model_with`] and [`crate::io::record::write_run`] give, byte for byte (but for
/// `wall_seconds`, which here includes the writing). `dir` is best a fresh directory (`ebnsim
/// run` gives its staging directory): files are written under temporary names, renamed when
/// complete; a stopped or failed run removes them.
pub fn run_model_into(
    model: &Model,
    opts: &RunOptions,
    dir: &std::path::Path,
    progress: impl FnMut(f64) -> ControlFlow<()>,
) -> Result<Summary, RunError> {
    let (n, d) = (model.network.neurons(), model.network.dims());
    let mut out: Option<Streamed> = None;
    let (sim, wall) = drive(model, opts, progress, |sim| {
        let s = match &mut out {
            Some(s) => s,
            None => out.insert(Streamed::start(sim, dir, n, d)?),
        };
        s.take(sim)
    })?;
    let Some(mut s) = out else {
        unreachable!("drive calls its hook at least once")
    };
    let counters = sim.counters();
    drop(sim);
    tracing::info!(?counters, wall_seconds = wall, "run finished");
    s.writer.sync()?;
    s.writer.replay_spikes(|p| s.isi.second(p))?;
    if s.with_target {
        s.writer.replay_targets(|x| s.error.second(x))?;
    }
    let has_error = s.with_target && s.error.samples() > 0;
    let stats = Stats {
        spikes: s.spikes,
        cv_isi: s.isi.finish(CV_MIN_SPIKES),
        rmse: has_error.then(|| s.error.rmse()).filter(|v| v.is_finite()),
        nrmse: (has_error && d > 0)
            .then(|| s.error.nrmse())
            .filter(|v| v.is_finite()),
    };
    let summary = summary_of(
        (&model.name, model.seed()),
        &model.network,
        dense_config(model, opts),
        model.simulate.duration,
        (stats, counters),
        wall,
    );
    s.writer.finish(&model.network, &summary)?;
    Ok(summary)
}

/// A run being written out: the files and the first pass of the two-pass statistics.
struct Streamed {
    writer: RunWriter,
    with_target: bool,
    spikes: u64,
    isi: IsiCvStream,
    error: ReadoutErrorStream,
}

impl Streamed {
    fn start(
        sim: &Simulation,
        dir: &std::path::Path,
        n: usize,
        d: usize,
    ) -> Result<Streamed, RunError> {
        let with_target = sim.readout().is_none_or(|r| r.x.is_some());
        let state = sim
            .state()
            .map(|s| (s.columns.as_slice(), s.at_spikes.is_some()));
        Ok(Streamed {
            writer: RunWriter::create(dir, d, with_target, state)?,
            with_target,
            spikes: 0,
            isi: IsiCvStream::new(n),
            error: ReadoutErrorStream::new(d),
        })
    }

    /// Writes what `sim` recorded since the last call, and forgets it there.
    fn take(&mut self, sim: &mut Simulation) -> Result<(), RunError> {
        let spikes = sim.spikes();
        self.spikes += spikes.len() as u64;
        self.isi.first(spikes);
        if let Some(r) = sim.readout() {
            if let Some(x) = &r.x {
                let d = r.dims;
                for k in 0..r.len() {
                    self.error
                        .first(&r.xhat[k * d..(k + 1) * d], &x[k * d..(k + 1) * d]);
                }
            }
        }
        self.writer.append(spikes, sim.readout(), sim.state())?;
        sim.forget_recorded();
        Ok(())
    }
}

/// Builds the simulation of `model` and runs it to its duration, stopping at every readout
/// sample (and at the end) for `after` (what a run does with its records) and `progress`;
/// returns it with the wall time of the run.
fn drive(
    model: &Model,
    opts: &RunOptions,
    mut progress: impl FnMut(f64) -> ControlFlow<()>,
    mut after: impl FnMut(&mut Simulation) -> Result<(), RunError>,
) -> Result<(Simulation, f64), RunError> {
    let setup = tracing::info_span!("setup", model = %model.name).entered();
    let duration = model.simulate.duration;
    let dt = model.record.readout_dt;
    let mut sim = simulation_for(model, opts)?;
    let samples = (duration / dt).floor() as usize;
    let kind = opts.engine.unwrap_or(model.simulate.engine);
    drop(setup);

    let _run = tracing::info_span!("run", engine = ?kind, duration).entered();
    let started = Instant::now();
    for k in 0..=samples {
        let t = k as f64 * dt;
        sim.run_until(t)?;
        after(&mut sim)?;
        if progress(t).is_break() {
            return Err(RunError::Stopped { at: t });
        }
    }
    sim.run_until(duration)?;
    after(&mut sim)?;
    if progress(duration).is_break() {
        return Err(RunError::Stopped { at: duration });
    }
    Ok((sim, started.elapsed().as_secs_f64()))
}
