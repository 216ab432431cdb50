//! Running a model file end to end: build the engine it names, sample the readout and the target
//! on a regular grid, and summarise — what `ebnsim run` does, as a library call.

use crate::analysis::metrics;
use crate::engine::{EngineKind, Spike};
use crate::error::{BuildError, SimError};
use crate::io::model_file::Model;
use crate::io::record::{Readout, Summary};
use crate::monitor::StateRecord;
use crate::simulation::{EngineChoice, Simulation};
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

/// Runs `model` to its duration. `progress` is called with the simulated time now and then
/// (about every 1 % of the run).
pub fn run_model(
    model: &Model,
    opts: &RunOptions,
    mut progress: impl FnMut(f64),
) -> Result<RunOutput, RunError> {
    let setup = tracing::info_span!("setup", model = %model.name).entered();
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
    let samples = samples as usize;
    let kind = opts.engine.unwrap_or(model.simulate.engine);
    let mut builder = Simulation::from_model(model);
    if kind == EngineKind::Dense {
        let mut cfg = model.simulate.dense;
        if let Some(dt) = opts.dt {
            cfg.dt = dt;
        }
        builder = builder.engine(EngineChoice::Dense(cfg));
    } else {
        builder = builder.engine(EngineChoice::Exact);
    }
    if let Some(l) = opts.cascade_limit {
        builder = builder.cascade_limit(l);
    }
    let mut sim = builder.build()?;
    drop(setup);

    let _run = tracing::info_span!("run", engine = ?kind, duration).entered();
    let d = model.network.dims();
    let started = Instant::now();
    let report_every = (samples / 100).max(1);
    for k in 0..=samples {
        let t = k as f64 * dt;
        sim.run_until(t)?;
        if k % report_every == 0 {
            progress(t);
        }
    }
    sim.run_until(duration)?;
    progress(duration);
    let wall = started.elapsed().as_secs_f64();
    let recorded = sim.finish();
    let (spikes, counters) = (recorded.spikes, recorded.counters);
    let readout = recorded.readout.unwrap_or_else(|| Readout::new(d, true));

    let n = model.network.neurons();
    tracing::info!(?counters, wall_seconds = wall, "run finished");
    let mut summary = Summary {
        model: model.name.clone(),
        engine: match kind {
            EngineKind::Exact => "exact".into(),
            EngineKind::Dense => "dense".into(),
        },
        seed: model.seed(),
        neurons: n,
        dims: d,
        duration,
        spikes: spikes.len() as u64,
        mean_rate_hz: metrics::mean_rate_hz(spikes.len(), n, duration),
        cv_isi: metrics::isi_cv(&spikes, n, 3),
        readout_rmse: readout.rmse(),
        readout_nrmse: readout.nrmse(),
        wall_seconds: wall,
        counters,
        ..Summary::default()
    };
    let weights = if model.network.is_low_rank() {
        "low_rank"
    } else {
        "dense"
    };
    summary.extra.insert("weights".into(), weights.into());
    if kind == EngineKind::Dense {
        let cfg = model.simulate.dense;
        let dt = opts.dt.unwrap_or(cfg.dt);
        summary.extra.insert("dt".into(), dt.into());
        summary.extra.insert(
            "integrator".into(),
            serde_json::to_value(cfg.integrator).unwrap_or_default(),
        );
        summary.extra.insert(
            "spike_rule".into(),
            serde_json::to_value(cfg.spike_rule).unwrap_or_default(),
        );
    }
    Ok(RunOutput {
        spikes,
        readout,
        state: recorded.state,
        summary,
    })
}
