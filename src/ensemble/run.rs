//! Running an ensemble: every run's model built up front, then the runs on K blocking workers
//! of a tokio runtime, rows collected in run order; `table.csv`.

use std::path::{Path, PathBuf};

use super::spec::{RunSpec, SweepSpec};
use super::{Shard, SweepError};
use crate::error::ModelError;
use crate::io::model_file::{self, LearningModel, Model};
use crate::learning::protocol::{run_phases, write_learn_run, PhaseOptions};
use crate::run::{run_model, RunOptions};

/// The file of a sweep's rows in its output directory.
pub const TABLE_CSV: &str = "table.csv";

/// One run's numbers: a row of `table.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The run's number and parameters.
    pub run: RunSpec,
    /// Spikes (of the last phase, for a learning model).
    pub spikes: u64,
    /// Mean rate per neuron, Hz (per alive neuron in the last phase, for a learning model).
    pub mean_rate_hz: f64,
    /// Mean CV of the ISIs (of the last phase, for a learning model).
    pub cv_isi: Option<f64>,
    /// Readout RMSE against the target (`None` for a learning model).
    pub readout_rmse: Option<f64>,
    /// Readout NRMSE against the target (the last phase's NRMSE, for a learning model).
    pub readout_nrmse: Option<f64>,
    /// Field error over the training phases (learning models; `None` otherwise).
    pub field_error: Option<f64>,
    /// Wall-clock time of the simulation, s (the only number that depends on the machine).
    pub wall_seconds: f64,
}

/// One cell of a row of `table.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    /// An exact integer (run number, seed, spike count).
    Int(u64),
    /// A number.
    Float(f64),
    /// An absent value (a metric that does not apply).
    Empty,
}

/// How to run an ensemble.
#[derive(Clone, Debug, PartialEq)]
pub struct EnsembleOptions {
    /// Runs at once (K ≥ 1; 0 is taken as 1).
    pub threads: usize,
    /// Where to write each run's directory (`run-0007/`, the files of `ebnsim run`), if
    /// anywhere.
    pub run_dirs: Option<PathBuf>,
}

impl Default for EnsembleOptions {
    fn default() -> Self {
        EnsembleOptions {
            threads: 1,
            run_dirs: None,
        }
    }
}

/// A model ready to run: plain or learning.
#[derive(Clone, Debug)]
enum Built {
    Plain(Box<Model>),
    Learning(Box<LearningModel>),
}

/// A sweep's runs (one shard of them), each model built and checked.
#[derive(Debug)]
pub struct Ensemble {
    spec: SweepSpec,
    shard: Shard,
    runs: Vec<(RunSpec, Built)>,
}

impl Ensemble {
    /// Builds the model of every run of `spec` (all of them, so every shard fails alike) and
    /// keeps those of `shard`.
    ///
    /// Errors: [`SweepError::Field`] when a varied field cannot be set (absent index,
    /// non-numeric field, a fractional value for an integer field) and [`SweepError::Model`]
    /// when the model file rejects a value (naming the spec's field, the value and the model's
    /// own error) — before anything runs.
    pub fn new(spec: SweepSpec, shard: Shard) -> Result<Ensemble, SweepError> {
        let mut runs = Vec::new();
        let mut text: Option<(Vec<f64>, String)> = None;
        for run in spec.runs() {
            let t = match &text {
                Some((values, t)) if *values == run.values => t,
                _ => {
                    let t = spec.model_text(&run.values)?;
                    &text.insert((run.values.clone(), t)).1
                }
            };
            let built = build(&spec, t, run.seed).map_err(|source| SweepError::Model {
                spec: spec.file.clone(),
                context: context(&spec, &run),
                source: Box::new(source),
            })?;
            if shard.contains(run.index) {
                runs.push((run, built));
            }
        }
        Ok(Ensemble { spec, shard, runs })
    }

    /// The spec.
    pub fn spec(&self) -> &SweepSpec {
        &self.spec
    }

    /// The shard kept.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// This shard's runs, in run order.
    pub fn runs(&self) -> impl Iterator<Item = &RunSpec> + '_ {
        self.runs.iter().map(|(r, _)| r)
    }

    /// Number of runs in this shard.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether this shard has no runs (more shards than runs).
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The columns of `table.csv`: `run`, `seed`, the varied fields' paths, the metrics
    /// (`spikes, mean_rate_hz, cv_isi, readout_rmse, readout_nrmse`; for a learning model
    /// `last_phase_spikes, last_phase_mean_rate_hz, last_phase_cv_isi, last_phase_nrmse,
    /// field_error`), and `wall_seconds`.
    pub fn columns(&self) -> Vec<String> {
        let mut c = vec!["run".to_owned(), "seed".to_owned()];
        c.extend(self.spec.vary.iter().map(|v| v.field.clone()));
        let metrics: &[&str] = if self.spec.learning {
            &[
                "last_phase_spikes",
                "last_phase_mean_rate_hz",
                "last_phase_cv_isi",
                "last_phase_nrmse",
                "field_error",
            ]
        } else {
            &[
                "spikes",
                "mean_rate_hz",
                "cv_isi",
                "readout_rmse",
                "readout_nrmse",
            ]
        };
        c.extend(metrics.iter().map(|s| (*s).to_owned()));
        c.push("wall_seconds".to_owned());
        c
    }

    /// Runs this shard's runs, at most `opts.threads` at once (each on a blocking worker of a
    /// tokio runtime), and returns their rows in run order. `done` is called on the calling
    /// thread with each row as its run finishes (in completion order). With `opts.run_dirs`,
    /// each run also writes its directory there (`run-0007/`).
    ///
    /// On a failed run, no further runs start; the runs under way finish and the error of the
    /// failed run with the smallest number is returned.
    pub fn run(
        &self,
        opts: &EnsembleOptions,
        mut done: impl FnMut(&Row),
    ) -> Result<Vec<Row>, SweepError> {
        let k = opts.threads.max(1).min(self.runs.len().max(1));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(k)
            .build()
            .map_err(|e| SweepError::Workers {
                message: format!("cannot start the runtime: {e}"),
            })?;
        let jobs: Vec<(RunSpec, Built)> = self.runs.clone();
        let spec = &self.spec;
        rt.block_on(async {
            let (job_tx, job_rx) = async_channel::bounded::<(RunSpec, Built)>(k);
            let (row_tx, row_rx) = async_channel::unbounded::<Result<Row, SweepError>>();
            let feeder = tokio::spawn(async move {
                for job in jobs {
                    if job_tx.send(job).await.is_err() {
                        break;
                    }
                }
            });
            let mut workers = Vec::with_capacity(k);
            for _ in 0..k {
                let (job_rx, row_tx) = (job_rx.clone(), row_tx.clone());
                let (spec_file, dirs) = (spec.file.clone(), opts.run_dirs.clone());
                workers.push(tokio::spawn(async move {
                    while let Ok((run, built)) = job_rx.recv().await {
                        let (file, dirs) = (spec_file.clone(), dirs.clone());
                        let row = tokio::task::spawn_blocking(move || {
                            run_one(&file, run, &built, dirs.as_deref())
                        })
                        .await
                        .unwrap_or_else(|e| {
                            Err(SweepError::Workers {
                                message: format!("a run panicked: {e}"),
                            })
                        });
                        if row_tx.send(row).await.is_err() {
                            break;
                        }
                    }
                }));
            }
            drop(row_tx);
            let mut rows = Vec::with_capacity(self.runs.len());
            let mut failed: Option<(usize, SweepError)> = None;
            while let Ok(row) = row_rx.recv().await {
                match row {
                    Ok(row) => {
                        done(&row);
                        rows.push(row);
                    }
                    Err(e) => {
                        job_rx.close();
                        let at = match &e {
                            SweepError::Run { run, .. } => *run,
                            _ => usize::MAX,
                        };
                        if failed.as_ref().is_none_or(|(r, _)| at < *r) {
                            failed = Some((at, e));
                        }
                    }
                }
            }
            let _ = feeder.await;
            for w in workers {
                let _ = w.await;
            }
            if let Some((_, e)) = failed {
                return Err(e);
            }
            rows.sort_by_key(|r| r.run.index);
            Ok(rows)
        })
    }

    /// The cells of `row` in the order of [`Ensemble::columns`].
    pub fn cells(&self, r: &Row) -> Vec<Cell> {
        let opt = |x: Option<f64>| x.map_or(Cell::Empty, Cell::Float);
        let mut cells = vec![Cell::Int(r.run.index as u64), Cell::Int(r.run.seed)];
        cells.extend(r.run.values.iter().map(|&v| Cell::Float(v)));
        cells.push(Cell::Int(r.spikes));
        cells.push(Cell::Float(r.mean_rate_hz));
        cells.push(opt(r.cv_isi));
        if self.spec.learning {
            cells.push(opt(r.readout_nrmse));
            cells.push(opt(r.field_error));
        } else {
            cells.push(opt(r.readout_rmse));
            cells.push(opt(r.readout_nrmse));
        }
        cells.push(Cell::Float(r.wall_seconds));
        cells
    }

    /// Writes `rows` as `path` (atomically): a header of [`Ensemble::columns`], one line per
    /// row, floats in shortest round-trip form, absent values empty.
    pub fn write_table(&self, path: &Path, rows: &[Row]) -> Result<(), SweepError> {
        let mut text = self.columns().join(",");
        text.push('\n');
        for r in rows {
            let cells: Vec<String> = self
                .cells(r)
                .into_iter()
                .map(|c| match c {
                    Cell::Int(v) => v.to_string(),
                    Cell::Float(v) => v.to_string(),
                    Cell::Empty => String::new(),
                })
                .collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        crate::io::record::write_atomic(path, |w| {
            use std::io::Write as _;
            w.write_all(text.as_bytes())
        })?;
        Ok(())
    }
}

/// The name of run `index`'s directory: `run-0007`.
pub fn run_dir_name(index: usize) -> String {
    format!("run-{index:04}")
}

/// `vary network.mu = 0.001, seed 3 (run 5)`, for messages.
fn context(spec: &SweepSpec, run: &RunSpec) -> String {
    let mut s = String::new();
    for (v, x) in spec.vary.iter().zip(&run.values) {
        s.push_str(&format!("field `{}` = {x}, ", v.field));
    }
    format!("{s}seed {} (run {})", run.seed, run.index)
}

fn build(spec: &SweepSpec, text: &str, seed: u64) -> Result<Built, ModelError> {
    Ok(if spec.learning {
        Built::Learning(Box::new(model_file::parse_learning_seeded(
            text,
            &spec.model,
            Some(seed),
        )?))
    } else {
        Built::Plain(Box::new(model_file::parse_seeded(
            text,
            &spec.model,
            Some(seed),
        )?))
    })
}

/// Runs one model; writes its directory under `dirs` when given.
fn run_one(
    spec_file: &Path,
    run: RunSpec,
    built: &Built,
    dirs: Option<&Path>,
) -> Result<Row, SweepError> {
    let fail = |source| SweepError::Run {
        spec: spec_file.to_path_buf(),
        run: run.index,
        seed: run.seed,
        source: Box::new(source),
    };
    let dir = dirs.map(|d| d.join(run_dir_name(run.index)));
    match built {
        Built::Plain(m) => {
            let out = run_model(m, &RunOptions::default(), |_| {}).map_err(fail)?;
            if let Some(dir) = &dir {
                crate::io::record::write_run(
                    dir,
                    &m.network,
                    &out.spikes,
                    &out.readout,
                    out.state.as_ref(),
                    &out.summary,
                )?;
            }
            let s = &out.summary;
            Ok(Row {
                spikes: s.spikes,
                mean_rate_hz: s.mean_rate_hz,
                cv_isi: s.cv_isi,
                readout_rmse: s.readout_rmse,
                readout_nrmse: s.readout_nrmse,
                field_error: None,
                wall_seconds: s.wall_seconds,
                run,
            })
        }
        Built::Learning(m) => {
            let out = run_phases(m, &PhaseOptions::default(), |_| {}).map_err(fail)?;
            if let Some(dir) = &dir {
                write_learn_run(dir, m, &out, true)?;
            }
            let last = out.phases.last();
            Ok(Row {
                spikes: last.map_or(0, |p| p.spikes),
                mean_rate_hz: last.map_or(0.0, |p| p.mean_rate_hz),
                cv_isi: last.and_then(|p| p.cv_isi),
                readout_rmse: None,
                readout_nrmse: last.and_then(|p| p.nrmse),
                field_error: out.field_error,
                wall_seconds: out.summary.wall_seconds,
                run,
            })
        }
    }
}
