//! Building a [`Simulation`]: a consuming builder, from code or from a model file.

use super::{Core, ReadoutMonitor, Simulation};
use crate::engine::dense::{DenseConfig, DenseStepper};
use crate::engine::kernel::Kernel;
use crate::error::BuildError;
use crate::io::record::Readout;
use crate::model::network::Network;
use crate::model::signal::Signal;
use crate::model::teacher::LinearTeacher;
use crate::monitor::{NeuronSelection, StateMonitor, StateMonitorSpec};

/// Which engine a simulation runs on.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum EngineChoice {
    /// The exact event-driven kernel (the default).
    #[default]
    Exact,
    /// The clock-driven reference stepper with its time step, integrator and spike rule.
    Dense(DenseConfig),
}

/// Builds a [`Simulation`]; every setter consumes and returns the builder.
///
/// ```
/// use ebnsim::prelude::*;
/// let decoder = vec![vec![0.1, -0.1, 0.05, -0.05]];
/// let network = NetworkBuilder::new(decoder).lambda_d(10.0).mu(1e-6).build()?;
/// let input = Signal::constant(&[2.0]);
/// let mut sim = Simulation::builder(network, input)
///     .engine(EngineChoice::Exact)
///     .record_readout(0.01)
///     .build()?;
/// sim.run_until(1.0)?;
/// assert_eq!(sim.readout().unwrap().len(), 101);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct SimulationBuilder {
    network: Network,
    input: Signal,
    initial: Option<Vec<f64>>,
    target_a: Option<Vec<f64>>,
    engine: EngineChoice,
    cascade_limit: Option<usize>,
    readout_dt: Option<f64>,
    state: Option<StateMonitorSpec>,
    spikes: NeuronSelection,
    /// The model file it came from (to redraw with another seed) and the seed asked for.
    source: Option<Box<crate::io::model_file::Model>>,
    seed: Option<u64>,
}

impl SimulationBuilder {
    pub(super) fn new(network: Network, input: Signal) -> SimulationBuilder {
        SimulationBuilder {
            network,
            input,
            initial: None,
            target_a: None,
            engine: EngineChoice::Exact,
            cascade_limit: None,
            readout_dt: None,
            state: None,
            spikes: NeuronSelection::All,
            source: None,
            seed: None,
        }
    }

    pub(super) fn from_model(model: &crate::io::model_file::Model) -> SimulationBuilder {
        let engine = match model.simulate.engine {
            crate::engine::EngineKind::Exact => EngineChoice::Exact,
            crate::engine::EngineKind::Dense => EngineChoice::Dense(model.simulate.dense),
        };
        SimulationBuilder {
            initial: Some(model.target.initial.clone()),
            target_a: Some(model.target.a.clone()),
            engine,
            cascade_limit: model.simulate.cascade_limit,
            readout_dt: Some(model.record.readout_dt),
            state: model.record.state.clone(),
            source: Some(Box::new(model.clone())),
            ..SimulationBuilder::new(model.network.clone(), model.input.clone())
        }
    }

    /// The encoded state at t = 0 (d components; default 0): every voltage starts at
    /// `D_iᵀ x(0)`.
    pub fn initial_state(mut self, x0: &[f64]) -> Self {
        self.initial = Some(x0.to_vec());
        self
    }

    /// Compares the readout against the linear target `x' = A x + c(t)` from the initial state
    /// (`a` row-major d×d, 1/s): readout samples then carry the target too.
    pub fn linear_target(mut self, a: Vec<f64>) -> Self {
        self.target_a = Some(a);
        self
    }

    /// The engine (default exact).
    pub fn engine(mut self, engine: EngineChoice) -> Self {
        self.engine = engine;
        self
    }

    /// The longest same-instant cascade before the exact engine stops (default N).
    pub fn cascade_limit(mut self, limit: usize) -> Self {
        self.cascade_limit = Some(limit);
        self
    }

    /// Samples the readout (and target) every `dt` seconds from 0.
    pub fn record_readout(mut self, dt: f64) -> Self {
        self.readout_dt = Some(dt);
        self
    }

    /// Adds a state monitor.
    pub fn record_state(mut self, spec: StateMonitorSpec) -> Self {
        self.state = Some(spec);
        self
    }

    /// Which neurons' spikes [`Simulation::spikes`] keeps (default all; an empty list keeps
    /// none, for long runs that need only the monitors). The network is simulated whole either
    /// way; a state monitor sees every spike of the neurons it records.
    pub fn record_spikes(mut self, neurons: NeuronSelection) -> Self {
        self.spikes = neurons;
        self
    }

    /// Draws the model file's random parts (decoder, `smooth_random` input) from `seed` instead
    /// of the file's `seed`, exactly as [`crate::io::model_file::Model::with_seed`] does; the
    /// other choices of this builder stay. Only for a builder from
    /// [`Simulation::from_model`]: a network built in code is drawn by the caller (with
    /// [`crate::rand`]), and `build` refuses a seed then.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Builds the engine and the monitors. Errors name the parameter and what was expected.
    pub fn build(mut self) -> Result<Simulation, BuildError> {
        if let Some(seed) = self.seed {
            let Some(model) = self.source.take() else {
                return Err(BuildError::new(
                    "seed",
                    "a simulation built from a model file (draw a network built in code yourself)",
                    format!("seed {seed} for a network built in code"),
                ));
            };
            let model = model.with_seed(seed).map_err(|e| match e {
                crate::error::ModelError::Invalid { error, .. } => error,
                other => BuildError::new(
                    "seed",
                    "a seed the model can be drawn with",
                    other.to_string(),
                ),
            })?;
            self.network = model.network;
            self.input = model.input;
        }
        self.input.check_finite(
            "input",
            "finite values (a finite polynomial on every segment)",
        )?;
        let (n, d) = (self.network.neurons(), self.network.dims());
        let x0 = self.initial.unwrap_or_else(|| vec![0.0; d]);
        if let Some(x) = x0.iter().find(|x| !x.is_finite()) {
            return Err(BuildError::new(
                "target.initial",
                "finite numbers",
                format!("{x}"),
            ));
        }
        let core = match self.engine {
            EngineChoice::Exact => {
                let mut k = Kernel::new(self.network.clone(), self.input.clone(), &x0)?;
                if let Some(l) = self.cascade_limit {
                    k.set_cascade_limit(l);
                }
                Core::Exact(Box::new(k))
            }
            EngineChoice::Dense(cfg) => Core::Dense(Box::new(DenseStepper::new(
                &self.network,
                self.input.clone(),
                &x0,
                cfg,
            )?)),
        };
        let readout = match self.readout_dt {
            None => None,
            Some(dt) => {
                if !(dt.is_finite() && dt > 0.0) {
                    return Err(BuildError::new(
                        "record.readout_dt",
                        "a finite positive interval in seconds",
                        format!("{dt}"),
                    ));
                }
                let teacher = match &self.target_a {
                    Some(a) => Some(LinearTeacher::new(a, &x0, &self.input)?),
                    None => None,
                };
                Some(ReadoutMonitor {
                    dt,
                    next: 0,
                    readout: Readout::new(d, teacher.is_some()),
                    teacher,
                    xhat: vec![0.0; d],
                    x: vec![0.0; d],
                })
            }
        };
        let mut core = core;
        let state = match self.state {
            None => None,
            Some(spec) => {
                crate::monitor::check_spec(&spec, n)?;
                let monitor = StateMonitor::new(spec, n, self.network.lambda_d());
                monitor.attach(core.engine_mut())?;
                Some(monitor)
            }
        };
        let spike_filter = match &self.spikes {
            NeuronSelection::All => None,
            NeuronSelection::List(list) => {
                let mut keep = vec![false; n];
                for &i in list {
                    *keep.get_mut(i).ok_or_else(|| {
                        BuildError::new(
                            "record.spikes.neurons",
                            format!("neuron indices below {n}"),
                            format!("{i}"),
                        )
                    })? = true;
                }
                Some(keep)
            }
        };
        Ok(Simulation {
            core,
            network_dims: d,
            network_neurons: n,
            spikes: Vec::new(),
            seen: 0,
            spike_filter,
            readout,
            state,
        })
    }
}
