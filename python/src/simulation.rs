//! `Simulation`: a model file or a network built in code, run on request, observed through
//! numpy arrays.
//!
//! A plain model runs on the library's [`Simulation`] facade: `run_until` may be called any number
//! of times (stops never move a spike, so the spikes equal `ebnsim run`'s for the same file and
//! seed). A learning model (`[basis]` and `[[phase]]`) runs its phases as `ebnsim run`/`learn`
//! do, as a whole: one `run_until` to the end of the last phase.

use crate::build::{network_json, PyInput, PyNetwork};
use crate::{build_error, model_error, simulation_error};
use ebnsim::engine::dense::DenseConfig;
use ebnsim::engine::EngineKind;
use ebnsim::error::ModelError;
use ebnsim::io::model_file::{self, LearningModel, Model};
use ebnsim::io::record::Readout;
use ebnsim::io::weights_file;
use ebnsim::learning::protocol::{
    run_phases_with, LearnError, LearnOutput, LearnProgress, PhaseOptions,
};
use ebnsim::model::network::Network;
use ebnsim::monitor::{NeuronSelection, StateMonitorSpec, StateVariable};
use ebnsim::prelude::{EngineChoice, Simulation};
use ebnsim::run::{simulation_for, summarize, summarize_network, RunOptions};
use numpy::PyArray1;
use pyo3::prelude::*;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// Batches a long `run_until` is cut into, so that Ctrl-C is seen while the engine runs. Stops
/// never change the spikes; a run stops at every readout sample time, as `ebnsim run` does, so
/// that even the engine's work counters equal the command line's.
const SLICES: u32 = 100;

/// What a simulation runs.
enum Run {
    /// A network on the facade, from a model file (`model`) or from code.
    Plain {
        sim: Box<Simulation>,
        model: Option<Box<Model>>,
        opts: RunOptions,
        network: Box<Network>,
        /// The readout interval (pieces of a run end on its sample times).
        sample_dt: Option<f64>,
        /// The dense stepper's settings of a network built in code on it.
        dense: Option<DenseConfig>,
        wall: f64,
    },
    /// A learning model's phases, run as a whole.
    Learning {
        model: Box<LearningModel>,
        opts: Box<PhaseOptions>,
        out: Option<Box<LearnOutput>>,
    },
}

/// A simulation (see `ebnsim.Simulation`).
#[pyclass(name = "Simulation", module = "ebnsim._ebnsim", frozen)]
pub(crate) struct PySimulation {
    run: Mutex<Run>,
    /// The model file, named in the messages of a failed run (as `ebnsim run` does).
    file: Option<PathBuf>,
}

/// Whether `text` is a learning model file (`[basis]` and `[[phase]]`).
#[pyfunction]
pub(crate) fn is_learning_model(text: &str) -> bool {
    model_file::is_learning_model(text)
}

/// The engine named `engine` (`"exact"` or `"dense"`).
fn engine_kind(engine: Option<&str>) -> PyResult<Option<EngineKind>> {
    match engine {
        None => Ok(None),
        Some("exact") => Ok(Some(EngineKind::Exact)),
        Some("dense") => Ok(Some(EngineKind::Dense)),
        Some(other) => Err(build_error(format!(
            "field `engine`: expected \"exact\" or \"dense\", got {other:?}"
        ))),
    }
}

/// Refuses a time step that is not finite and positive.
fn check_dt(field: &str, dt: Option<f64>) -> PyResult<()> {
    match dt {
        Some(dt) if !(dt.is_finite() && dt > 0.0) => Err(build_error(format!(
            "field `{field}`: expected a finite positive time step in seconds, got {dt}"
        ))),
        _ => Ok(()),
    }
}

/// A library enum (`Integrator`, `SpikeRule`) from its model-file name.
fn named<T: serde::de::DeserializeOwned>(field: &str, name: &str, choices: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| build_error(format!("field `{field}`: expected {choices}, got {name:?}")))
}

impl PySimulation {
    fn lock(&self) -> std::sync::MutexGuard<'_, Run> {
        // A panic inside the library while running would poison the lock; the state is still
        // the one the engine left, which is what the caller can inspect.
        self.run.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The message of a failed run: the model file first, as `ebnsim run` prints it.
    fn run_failed(&self, e: impl std::fmt::Display) -> PyErr {
        match &self.file {
            Some(f) => simulation_error(format!("{}: {e}", f.display())),
            None => simulation_error(e),
        }
    }
}

/// Reads a learning model and the options `ebnsim run`/`learn` would give its phases.
fn learning_from(
    text: &str,
    path: &Path,
    seed: Option<u64>,
    (engine, dt): (Option<EngineKind>, Option<f64>),
    (weights, force): (Option<&Path>, bool),
) -> PyResult<(LearningModel, PhaseOptions)> {
    let model = model_file::parse_learning_seeded(text, path, seed).map_err(model_error)?;
    let mut opts = PhaseOptions {
        frozen: weights.is_some(),
        engine,
        dt,
        force,
        ..PhaseOptions::default()
    };
    if let Some(w) = weights {
        let read = weights_file::read(w).map_err(model_error)?;
        if read.basis != model.basis || read.lambda_d != model.network.lambda_d() {
            return Err(model_error(format!(
                "{}: the weights are on a different basis or lambda_d than {} (learned by model \
                 `{}`): expected the basis and lambda_d of the model file",
                w.display(),
                path.display(),
                read.model
            )));
        }
        opts.initial_weights = Some(read.u);
        opts.initial_offsets = read.offsets;
    }
    Ok((model, opts))
}

#[pymethods]
impl PySimulation {
    /// The simulation a model file describes, as `ebnsim run` runs it (`seed`, `engine`, `dt`,
    /// `cascade_limit`, `weights` and `force` as its options).
    #[staticmethod]
    #[pyo3(signature = (path, seed=None, engine=None, dt=None, cascade_limit=None, weights=None, force=false))]
    #[allow(clippy::too_many_arguments)]
    fn from_file(
        path: PathBuf,
        seed: Option<u64>,
        engine: Option<&str>,
        dt: Option<f64>,
        cascade_limit: Option<usize>,
        weights: Option<PathBuf>,
        force: bool,
    ) -> PyResult<PySimulation> {
        let engine = engine_kind(engine)?;
        check_dt("dt", dt)?;
        let text = std::fs::read_to_string(&path).map_err(|source| {
            model_error(ModelError::Io {
                file: path.clone(),
                source,
            })
        })?;
        let run = if model_file::is_learning_model(&text) {
            if cascade_limit.is_some() {
                return Err(build_error(
                    "field `cascade_limit`: does not apply to a learning model (set \
                     `cascade_limit` in the file)",
                ));
            }
            let (model, opts) = learning_from(
                &text,
                &path,
                seed,
                (engine, dt),
                (weights.as_deref(), force),
            )?;
            Run::Learning {
                model: Box::new(model),
                opts: Box::new(opts),
                out: None,
            }
        } else {
            if let Some(w) = weights {
                return Err(build_error(format!(
                    "field `weights`: expected a learning model file ([basis] and [[phase]]) \
                     with weights {}, {} is not one",
                    w.display(),
                    path.display()
                )));
            }
            let model = model_file::parse_seeded(&text, &path, seed).map_err(model_error)?;
            let opts = RunOptions {
                engine,
                dt,
                cascade_limit,
                force,
            };
            let sim = simulation_for(&model, &opts)
                .map_err(|e| build_error(format!("{}: {e}", path.display())))?;
            Run::Plain {
                sim: Box::new(sim),
                network: Box::new(model.network.clone()),
                sample_dt: Some(model.record.readout_dt),
                model: Some(Box::new(model)),
                opts,
                dense: None,
                wall: 0.0,
            }
        };
        Ok(PySimulation {
            run: Mutex::new(run),
            file: Some(path),
        })
    }

    /// A network built in code driven by `input` (see `ebnsim.Simulation`).
    #[new]
    #[pyo3(signature = (
        network, input, *, readout_dt=None, engine=None, dt=None, integrator=None,
        spike_rule=None, x0=None, a=None, cascade_limit=None, state_neurons=None, state_dt=None,
        state_variables=None, state_at_spikes=false, spike_neurons=None
    ))]
    #[allow(clippy::too_many_arguments)] // one keyword per builder choice
    fn new(
        network: &PyNetwork,
        input: &PyInput,
        readout_dt: Option<f64>,
        engine: Option<&str>,
        dt: Option<f64>,
        integrator: Option<&str>,
        spike_rule: Option<&str>,
        x0: Option<Vec<f64>>,
        a: Option<Vec<f64>>,
        cascade_limit: Option<usize>,
        state_neurons: Option<Vec<usize>>,
        state_dt: Option<f64>,
        state_variables: Option<Vec<String>>,
        state_at_spikes: bool,
        spike_neurons: Option<Vec<usize>>,
    ) -> PyResult<PySimulation> {
        check_dt("dt", dt)?;
        let net = network.inner.clone();
        let mut b = Simulation::builder(net.clone(), input.inner.clone());
        let kind = engine_kind(engine)?.unwrap_or_default();
        let mut dense = None;
        if kind == EngineKind::Dense {
            let mut cfg = DenseConfig::default();
            if let Some(dt) = dt {
                cfg.dt = dt;
            }
            if let Some(i) = integrator {
                cfg.integrator = named("integrator", i, "\"exponential\" or \"euler\"")?;
            }
            if let Some(r) = spike_rule {
                cfg.spike_rule = named(
                    "spike_rule",
                    r,
                    "\"one_per_step\", \"greedy\" or \"all_above\"",
                )?;
            }
            b = b.engine(EngineChoice::Dense(cfg));
            dense = Some(cfg);
        } else if dt.is_some() || integrator.is_some() || spike_rule.is_some() {
            return Err(build_error(
                "field `engine`: expected \"dense\" with dt, integrator or spike_rule (the \
                 exact engine has no time step), got \"exact\"",
            ));
        }
        if let Some(x0) = x0 {
            b = b.initial_state(&x0);
        }
        if let Some(a) = a {
            b = b.linear_target(a);
        }
        if let Some(l) = cascade_limit {
            b = b.cascade_limit(l);
        }
        if let Some(dt) = readout_dt {
            b = b.record_readout(dt);
        }
        if let Some(dt) = state_dt {
            let variables = match state_variables {
                None => vec![StateVariable::V],
                Some(names) => names
                    .iter()
                    .map(|n| named("state.variables", n, "\"v\" or \"r\""))
                    .collect::<PyResult<Vec<_>>>()?,
            };
            b = b.record_state(StateMonitorSpec {
                neurons: state_neurons.map_or(NeuronSelection::All, NeuronSelection::List),
                dt,
                variables,
                at_spikes: state_at_spikes,
            });
        } else if state_neurons.is_some() || state_variables.is_some() || state_at_spikes {
            return Err(build_error(
                "field `state.dt`: expected a sampling interval in seconds for the state \
                 monitor, got none",
            ));
        }
        if let Some(list) = spike_neurons {
            b = b.record_spikes(NeuronSelection::List(list));
        }
        let sim = b.build().map_err(build_error)?;
        Ok(PySimulation {
            run: Mutex::new(Run::Plain {
                sim: Box::new(sim),
                model: None,
                opts: RunOptions {
                    engine: Some(kind),
                    dt,
                    cascade_limit,
                    ..RunOptions::default()
                },
                network: Box::new(net),
                sample_dt: readout_dt,
                dense,
                wall: 0.0,
            }),
            file: None,
        })
    }

    /// Whether this is a learning model's phases.
    #[getter]
    fn is_learning(&self) -> bool {
        matches!(*self.lock(), Run::Learning { .. })
    }

    /// The model file's duration (`simulate.duration`, or the phases' total), s; `None` for a
    /// network built in code.
    #[getter]
    fn duration(&self) -> Option<f64> {
        match &*self.lock() {
            Run::Plain { model, .. } => model.as_ref().map(|m| m.simulate.duration),
            Run::Learning { model, .. } => Some(phases_total(model)),
        }
    }

    /// Time up to which the simulation has run, s.
    #[getter]
    fn time(&self) -> f64 {
        match &*self.lock() {
            Run::Plain { sim, .. } => sim.time(),
            Run::Learning { model, out, .. } => out.as_ref().map_or(0.0, |_| phases_total(model)),
        }
    }

    /// Runs every event at or before `t` (s), with the interpreter lock released.
    fn run_until(&self, py: Python<'_>, t: f64) -> PyResult<()> {
        let mut guard = self.lock();
        match &mut *guard {
            Run::Plain {
                sim,
                wall,
                sample_dt,
                ..
            } => {
                let now = sim.time();
                if !(t.is_finite() && t >= now) {
                    return Err(build_error(format!(
                        "field `t`: expected a finite time not before the current t = {now} s, \
                         got {t}"
                    )));
                }
                // The stops: every readout sample time in (now, t) (where the run stops
                // anyway, as `ebnsim run` calls it), then t; run in SLICES batches.
                let stops = |k: u64| -> f64 {
                    match *sample_dt {
                        Some(dt) => {
                            let first = (now / dt).floor() as u64 + 1;
                            let s = (first + k) as f64 * dt;
                            if s < t {
                                s
                            } else {
                                t
                            }
                        }
                        None => now + (t - now) * (k + 1) as f64 / f64::from(SLICES),
                    }
                };
                let count = match *sample_dt {
                    Some(dt) => ((t / dt).ceil() - (now / dt).floor()).max(1.0) as u64,
                    None => u64::from(SLICES),
                };
                let per_batch = count.div_ceil(u64::from(SLICES)).max(1);
                let mut k = 0;
                while k < count {
                    let batch = k..(k + per_batch).min(count);
                    k = batch.end;
                    let sim: &mut Simulation = sim;
                    let started = Instant::now();
                    let result = py.detach(|| -> Result<(), ebnsim::error::SimError> {
                        for j in batch {
                            sim.run_until(stops(j))?;
                        }
                        if k == count {
                            sim.run_until(t)?;
                        }
                        Ok(())
                    });
                    *wall += started.elapsed().as_secs_f64();
                    result.map_err(|e| self.run_failed(e))?;
                    // Ctrl-C: the simulation stays consistent where it stopped.
                    py.check_signals()?;
                }
                Ok(())
            }
            Run::Learning { model, opts, out } => {
                let total = phases_total(model);
                if out.is_some() || t != total {
                    return Err(build_error(format!(
                        "field `t`: expected the end of the phases, {total} s (a learning \
                         model runs its phases as a whole, once), got {t}"
                    )));
                }
                let (m, o): (&LearningModel, &PhaseOptions) = (model, opts);
                // Ctrl-C is looked for at the phases' time reports (about every 0.1 %): the
                // run stops there and nothing is kept (a learning run is whole or nothing).
                let mut interrupted: Option<PyErr> = None;
                let result = py.detach(|| {
                    run_phases_with(m, o, |message| {
                        if let LearnProgress::Time(_) = message {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                interrupted = Some(e);
                                return ControlFlow::Break(());
                            }
                        }
                        ControlFlow::Continue(())
                    })
                });
                match result {
                    Ok(o) => {
                        *out = Some(Box::new(o));
                        Ok(())
                    }
                    Err(LearnError::Stopped { at }) => Err(interrupted
                        .unwrap_or_else(|| self.run_failed(format!("stopped at t = {at} s")))),
                    Err(LearnError::Run(e)) => Err(self.run_failed(e)),
                }
            }
        }
    }

    /// Every spike recorded so far, in firing order: times (s) and neuron indices.
    fn spikes<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<i64>>) {
        let guard = self.lock();
        let spikes: &[ebnsim::engine::Spike] = match &*guard {
            Run::Plain { sim, .. } => sim.spikes(),
            Run::Learning { out, .. } => out.as_ref().map_or(&[], |o| &o.spikes),
        };
        let t: Vec<f64> = spikes.iter().map(|s| s.time.secs()).collect();
        let i: Vec<i64> = spikes.iter().map(|s| i64::from(s.neuron)).collect();
        (PyArray1::from_vec(py, t), PyArray1::from_vec(py, i))
    }

    /// The readout samples so far: `(times, xhat, x, dims)` with `xhat`/`x` flat (samples × d),
    /// `x` `None` without a target; `None` without a readout interval.
    #[allow(clippy::type_complexity)] // a tuple for the Python wrapper to name
    fn readout<'py>(
        &self,
        py: Python<'py>,
    ) -> Option<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Option<Bound<'py, PyArray1<f64>>>,
        usize,
    )> {
        let guard = self.lock();
        let r: &Readout = match &*guard {
            Run::Plain { sim, .. } => sim.readout()?,
            Run::Learning { out, .. } => &out.as_ref()?.readout,
        };
        Some((
            PyArray1::from_slice(py, &r.times),
            PyArray1::from_slice(py, &r.xhat),
            r.x.as_ref().map(|x| PyArray1::from_slice(py, x)),
            r.dims,
        ))
    }

    /// The state monitor's samples so far: `(columns, times, values, at_spikes)` with `values`
    /// flat (samples × columns) and `at_spikes` `(times, neurons, values)` or `None`; `None`
    /// without a state monitor.
    #[allow(clippy::type_complexity)] // a tuple for the Python wrapper to name
    fn state<'py>(
        &self,
        py: Python<'py>,
    ) -> Option<(
        Vec<String>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Option<(
            Bound<'py, PyArray1<f64>>,
            Bound<'py, PyArray1<i64>>,
            Bound<'py, PyArray1<f64>>,
        )>,
    )> {
        let guard = self.lock();
        let s = match &*guard {
            Run::Plain { sim, .. } => sim.state()?,
            Run::Learning { out, .. } => out.as_ref()?.state.as_ref()?,
        };
        let at = s.at_spikes.as_ref().map(|a| {
            let neurons: Vec<i64> = a.neurons.iter().map(|&n| i64::from(n)).collect();
            (
                PyArray1::from_slice(py, &a.times),
                PyArray1::from_vec(py, neurons),
                PyArray1::from_slice(py, &a.values),
            )
        });
        Some((
            s.columns.clone(),
            PyArray1::from_slice(py, &s.times),
            PyArray1::from_slice(py, &s.values),
            at,
        ))
    }

    /// What the engine did so far (`summary.json`'s `counters`), as JSON text.
    fn counters_json(&self) -> PyResult<String> {
        let guard = self.lock();
        let counters = match &*guard {
            Run::Plain { sim, .. } => sim.counters(),
            Run::Learning { out, .. } => {
                out.as_ref().map(|o| o.summary.counters).unwrap_or_default()
            }
        };
        serde_json::to_string(&counters).map_err(build_error)
    }

    /// `summary.json` of the run so far (up to the current time), as JSON text.
    fn summary_json(&self) -> PyResult<String> {
        let guard = self.lock();
        let summary = match &*guard {
            Run::Plain {
                sim,
                model,
                opts,
                network,
                dense,
                wall,
                ..
            } => {
                let empty = Readout::new(network.dims(), true);
                let readout = sim.readout().unwrap_or(&empty);
                let data = (sim.spikes(), readout, sim.counters());
                match model {
                    Some(m) => summarize(m, opts, sim.time(), data, *wall),
                    None => summarize_network(("", 0), network, *dense, sim.time(), data, *wall),
                }
            }
            Run::Learning { out, .. } => match out {
                Some(o) => o.summary.clone(),
                None => {
                    return Err(build_error(
                        "field `t`: expected a learning model that has run (call \
                         run(sim.duration) first), got one that has not",
                    ))
                }
            },
        };
        serde_json::to_string(&summary).map_err(build_error)
    }

    /// The network (`network.json`), as JSON text.
    fn network_json(&self) -> PyResult<String> {
        match &*self.lock() {
            Run::Plain { network, .. } => network_json(network),
            Run::Learning { model, .. } => network_json(&model.network),
        }
    }

    /// A learning run's weights: `(u, dims, basis size)` with `u` flat (d × N_b, row-major), or
    /// `None` before the run or for a plain model.
    fn weights<'py>(&self, py: Python<'py>) -> Option<(Bound<'py, PyArray1<f64>>, usize, usize)> {
        let guard = self.lock();
        let Run::Learning {
            out: Some(o),
            model,
            ..
        } = &*guard
        else {
            return None;
        };
        let d = model.network.dims();
        let nb = o.weights.len().checked_div(d).unwrap_or(0);
        Some((PyArray1::from_slice(py, &o.weights), d, nb))
    }

    /// A learning run's curve: `(time, phase, field_error, window_nrmse)` per point, or `None`.
    fn learning_curve(&self) -> Option<Vec<(f64, usize, f64, f64)>> {
        let guard = self.lock();
        let Run::Learning { out: Some(o), .. } = &*guard else {
            return None;
        };
        Some(
            o.curve
                .iter()
                .map(|p| (p.time, p.phase, p.field_error, p.window_nrmse))
                .collect(),
        )
    }
}

/// The phases' total duration, s.
fn phases_total(model: &LearningModel) -> f64 {
    model.phases.iter().map(|p| p.duration).sum()
}
