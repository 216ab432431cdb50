//! The names most studies need: `use ebnsim::prelude::*;`.

pub use crate::engine::dense::{DenseConfig, Integrator, SpikeRule};
pub use crate::engine::Spike;
pub use crate::model::network::NetworkBuilder;
pub use crate::model::signal::Signal;
pub use crate::monitor::{
    NeuronSelection, SpikeSamples, StateMonitorSpec, StateRecord, StateVariable,
};
pub use crate::simulation::{EngineChoice, Recorded, Simulation, SimulationBuilder};
