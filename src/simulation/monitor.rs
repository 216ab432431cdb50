//! What a run records besides spikes and the readout: the state of selected neurons, sampled
//! exactly (Brian2's `StateMonitor`, NEST's `multimeter`, without a grid of the engine's).

use serde::{Deserialize, Serialize};

/// A per-neuron state variable a state monitor can record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateVariable {
    /// Membrane voltage `V_i` (the threshold is `T_i`).
    V,
    /// Filtered spike train `r_i` (a spike adds 1; decays at λ_d).
    R,
}

impl StateVariable {
    /// Its name in `state.csv` headers and model files: `v` or `r`.
    pub fn name(self) -> &'static str {
        match self {
            StateVariable::V => "v",
            StateVariable::R => "r",
        }
    }
}

/// Which neurons a monitor records.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum NeuronSelection {
    /// Every neuron, in index order.
    #[default]
    All,
    /// These neurons, in this order.
    List(Vec<usize>),
}

impl NeuronSelection {
    /// The selected indices for a network of `n` neurons.
    pub fn indices(&self, n: usize) -> Vec<usize> {
        match self {
            NeuronSelection::All => (0..n).collect(),
            NeuronSelection::List(v) => v.clone(),
        }
    }
}

/// A state monitor: `variables` of `neurons`, sampled every `dt` seconds from 0 (exact values
/// at those times), and, when `at_spikes`, also at each recorded neuron's spike, just before
/// its reset.
#[derive(Clone, Debug, PartialEq)]
pub struct StateMonitorSpec {
    /// The neurons recorded.
    pub neurons: NeuronSelection,
    /// Sampling interval, s.
    pub dt: f64,
    /// The variables, in the order of the columns.
    pub variables: Vec<StateVariable>,
    /// Also sample each recorded neuron at its spikes (value just before the reset).
    pub at_spikes: bool,
}
