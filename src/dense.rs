//! The dense (clock-driven) reference stepper of the same model.

use serde::{Deserialize, Serialize};

/// How the dense stepper advances the continuous dynamics over one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Integrator {
    /// Exact exponential propagators over the step (input held at its step-start polynomial).
    #[default]
    Exponential,
    /// Forward Euler, as in the published code.
    Euler,
}

/// Which neurons fire at the end of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpikeRule {
    /// At most one: the neuron with the largest V − T above threshold (published Euler code).
    #[default]
    OnePerStep,
    /// Repeatedly the largest V − T, applying each spike's fast effects before the next test.
    Greedy,
    /// Every neuron above threshold fires; effects applied together.
    All,
}

/// Parameters of the dense stepper.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseConfig {
    /// Time step, s.
    pub dt: f64,
    /// Integrator.
    pub integrator: Integrator,
    /// Spike rule.
    pub spike_rule: SpikeRule,
}

impl Default for DenseConfig {
    fn default() -> Self {
        DenseConfig { dt: 1e-4, integrator: Integrator::Exponential, spike_rule: SpikeRule::OnePerStep }
    }
}
