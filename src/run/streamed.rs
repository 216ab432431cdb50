//! A run written out while it runs, with checkpoints to resume it after a kill.
//!
//! Why: a long run kept in memory grows with simulated time and loses everything in a crash
//! at the end. Here each readout interval's spikes and samples go to the growing files of a
//! [`RunWriter`] and are forgotten; every [`CheckpointPlan::every`] simulated seconds the files
//! are synced and the simulation's whole state ([`Simulation::checkpoint`]), the first pass of
//! the two-pass statistics and the files' lengths are written atomically to
//! [`RUN_CHECKPOINT`] in the same directory. A resumed run cuts the files back to those lengths
//! and goes on: its files and summary equal those of a run never interrupted, byte for byte
//! (`wall_seconds` aside).

use super::{build, dense_config, drive, summary_of, RunError, RunOptions, Stats, CV_MIN_SPIKES};
use crate::analysis::metrics::{IsiCvStream, ReadoutErrorStream};
use crate::checkpoint::{self, CheckpointError, RUN_CHECKPOINT};
use crate::error::OutputError;
use crate::io::model_file::Model;
use crate::io::record::{write_atomic, Summary};
use crate::io::run_writer::{FilePosition, RunWriter};
use crate::simulation::Simulation;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;

/// How a streamed run ([`run_model_into_with`]) checkpoints and resumes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckpointPlan {
    /// Simulated seconds between checkpoints (taken at the first readout sample at or after
    /// each); `None`: no checkpoints (a resumed run: the interval of the run it resumes).
    pub every: Option<f64>,
    /// Continue from the checkpoint in the run's directory instead of starting anew.
    pub resume: bool,
    /// What identifies the run (`ebnsim run`: the model file's path and checksum and the
    /// options that change its outputs); a checkpoint of another run is refused with both.
    pub fingerprint: String,
}

/// Runs `model` to its duration as [`super::run_model_with`] does and writes its files into
/// `dir` while it runs ([`RunWriter`]: `spikes.csv`, `readout.csv`, the state monitor's files,
/// then `network.json` and `summary.json`), keeping only the current readout interval's
/// records in memory: memory stays flat however long the run. The files and the returned
/// summary are those [`super::run_model_with`] and [`crate::io::record::write_run`] give,
/// byte for byte (but for `wall_seconds`, the simulation's wall time, which differs from run to run). `dir` is best a
/// fresh directory (`ebnsim run` gives its staging directory): files are written under
/// temporary names, renamed when complete; a stopped or failed run removes them.
pub fn run_model_into(
    model: &Model,
    opts: &RunOptions,
    dir: &Path,
    progress: impl FnMut(f64) -> ControlFlow<()>,
) -> Result<Summary, RunError> {
    run_model_into_with(model, opts, dir, &CheckpointPlan::default(), progress)
}

/// [`run_model_into`] with checkpoints: every `plan.every` simulated seconds the run's state
/// goes to `dir/`[`RUN_CHECKPOINT`]; with `plan.resume` the run continues from the one in `dir`
/// (written by a run of the same `plan.fingerprint`, of this ebnsim version) — the files and
/// summary then equal those of an uninterrupted run. A run that ends without error removes its
/// checkpoint; a stopped or failed run, as a killed one, keeps the last (and its files, under
/// their temporary names), so it can be resumed.
pub fn run_model_into_with(
    model: &Model,
    opts: &RunOptions,
    dir: &Path,
    plan: &CheckpointPlan,
    progress: impl FnMut(f64) -> ControlFlow<()>,
) -> Result<Summary, RunError> {
    let (n, d) = (model.network.neurons(), model.network.dims());
    let mut every = plan.every;
    let (mut sim, mut out, from, wall_before) = if plan.resume {
        let (head, sim, tally) = restore(dir, plan)?;
        let writer = RunWriter::reopen(dir, d, &head.files)?;
        every = every.or(head.every);
        (sim, Streamed { writer, tally }, head.next, head.wall)
    } else {
        let sim = build(model, opts)?;
        let out = Streamed::start(&sim, dir, n, d)?;
        (sim, out, 0, 0.0)
    };
    if every.is_some() || plan.resume {
        // Kept on failure: a run that stops here is resumed from its last checkpoint.
        out.writer.keep_on_drop();
    }
    let mut next_checkpoint = every.map_or(f64::INFINITY, |e| sim.time() + e);
    let wall = drive(
        &mut sim,
        (model, opts),
        from,
        progress,
        |sim, k, t, wall| {
            out.take(sim)?;
            if let Some(every) = every.filter(|_| t >= next_checkpoint) {
                let wall = wall_before + wall;
                save(dir, plan, (k + 1, every), wall, sim, &mut out)?;
                next_checkpoint = t + every;
            }
            Ok(())
        },
    )?;
    let wall = wall_before + wall;
    let counters = sim.counters();
    drop(sim);
    tracing::info!(?counters, wall_seconds = wall, "run finished");
    let Streamed {
        mut writer,
        mut tally,
    } = out;
    writer.sync()?;
    writer.replay_spikes(|p| tally.isi.second(p))?;
    if tally.with_target {
        writer.replay_targets(|x| tally.error.second(x))?;
    }
    let has_error = tally.with_target && tally.error.samples() > 0;
    let stats = Stats {
        spikes: tally.spikes,
        cv_isi: tally.isi.finish(CV_MIN_SPIKES),
        rmse: has_error
            .then(|| tally.error.rmse())
            .filter(|v| v.is_finite()),
        nrmse: (has_error && d > 0)
            .then(|| tally.error.nrmse())
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
    writer.finish(&model.network, &summary, &[])?;
    Ok(summary)
}

/// A checkpoint's first part: whose run it is, where to go on, and the files' lengths.
#[derive(serde::Serialize, serde::Deserialize)]
struct Head {
    fingerprint: String,
    /// The next readout sample to run to.
    next: usize,
    /// Wall time spent so far, s.
    wall: f64,
    /// The interval between checkpoints, s.
    every: Option<f64>,
    files: Vec<FilePosition>,
}

/// The first pass of the two-pass statistics, and the spike count.
#[derive(serde::Serialize, serde::Deserialize)]
struct Tally {
    with_target: bool,
    spikes: u64,
    isi: IsiCvStream,
    error: ReadoutErrorStream,
}

/// Syncs the files and writes the checkpoint of a run that goes on at sample `next` (and
/// checkpoints every `every` s).
fn save(
    dir: &Path,
    plan: &CheckpointPlan,
    (next, every): (usize, f64),
    wall: f64,
    sim: &Simulation,
    out: &mut Streamed,
) -> Result<(), RunError> {
    let head = Head {
        fingerprint: plan.fingerprint.clone(),
        next,
        wall,
        every: Some(every),
        files: out.writer.positions()?,
    };
    let bytes = checkpoint::encode(&(&head, sim, &out.tally));
    write_atomic(&dir.join(RUN_CHECKPOINT), |w| w.write_all(&bytes))?;
    tracing::debug!(t = sim.time(), bytes = bytes.len(), "checkpoint written");
    Ok(())
}

/// Reads the checkpoint in `dir`, refusing one of another run.
fn restore(dir: &Path, plan: &CheckpointPlan) -> Result<(Head, Simulation, Tally), RunError> {
    let path = dir.join(RUN_CHECKPOINT);
    let bytes = std::fs::read(&path).map_err(|source| OutputError {
        path: path.clone(),
        source,
    })?;
    let fail = |source| RunError::Checkpoint {
        path: path.clone(),
        source,
    };
    let (head, sim, tally): (Head, Simulation, Tally) = checkpoint::decode(&bytes).map_err(fail)?;
    if head.fingerprint != plan.fingerprint {
        return Err(fail(CheckpointError::OtherRun {
            expected: plan.fingerprint.clone(),
            found: head.fingerprint,
        }));
    }
    Ok((head, sim, tally))
}

/// A run being written out: the files and the first pass of the statistics.
struct Streamed {
    writer: RunWriter,
    tally: Tally,
}

impl Streamed {
    fn start(sim: &Simulation, dir: &Path, n: usize, d: usize) -> Result<Streamed, RunError> {
        let with_target = sim.readout().is_none_or(|r| r.x.is_some());
        let state = sim
            .state()
            .map(|s| (s.columns.as_slice(), s.at_spikes.is_some()));
        Ok(Streamed {
            writer: RunWriter::create(dir, d, with_target, state)?,
            tally: Tally {
                with_target,
                spikes: 0,
                isi: IsiCvStream::new(n),
                error: ReadoutErrorStream::new(d),
            },
        })
    }

    /// Writes what `sim` recorded since the last call, and forgets it there.
    fn take(&mut self, sim: &mut Simulation) -> Result<(), RunError> {
        let spikes = sim.spikes();
        let tally = &mut self.tally;
        tally.spikes += spikes.len() as u64;
        tally.isi.first(spikes);
        if let Some(r) = sim.readout() {
            if let Some(x) = &r.x {
                let d = r.dims;
                for k in 0..r.len() {
                    tally
                        .error
                        .first(&r.xhat[k * d..(k + 1) * d], &x[k * d..(k + 1) * d]);
                }
            }
        }
        self.writer.append(spikes, sim.readout(), sim.state())?;
        sim.forget_recorded();
        Ok(())
    }
}
