//! The absolute refractory period: for `τ_i` after its spike a neuron cannot fire.
//!
//! Why: without one, two neurons of opposite decoders near threshold (noise, delays, sparse
//! weights) push each other over in zero time, and a spike-coding network fires volleys at one
//! instant. Every simulator users compare against has one (NEST `t_ref`, Brian2 `refractory`,
//! NEURON's artificial cells). The period is half-open, `[t_spike, t_spike + τ_i)`: at its end
//! the neuron is ordinary again, so an input arriving at that instant counts, and it can fire
//! then.

use crate::error::BuildError;
use serde::{Deserialize, Serialize};

/// What a neuron's voltage does during its refractory period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefractoryMode {
    /// NEST's `iaf_psc_delta(_ps)`: the voltage is held at its post-reset value, fast inputs
    /// arriving in the period are discarded and continuous currents (input, slow synapses) have
    /// no effect on it (the slow synaptic currents themselves keep evolving); at the end it
    /// resumes from the held value.
    #[default]
    Clamp,
    /// The voltage integrates everything as usual, but the neuron cannot fire; above threshold
    /// when the period ends, it fires at that instant (the same-instant rule applies).
    Hold,
}

impl RefractoryMode {
    /// Its name in model files: `clamp` or `hold`.
    pub fn name(self) -> &'static str {
        match self {
            RefractoryMode::Clamp => "clamp",
            RefractoryMode::Hold => "hold",
        }
    }
}

/// Per-neuron refractory periods and the mode; none of it when every period is 0.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Refractory {
    periods: Vec<f64>,
    mode: RefractoryMode,
}

impl Refractory {
    /// Periods of `n` neurons from one value or one per neuron (s, finite, ≥ 0), checked and
    /// named `network.refractory_period`; `None` when they are all 0 (today's model exactly).
    pub(crate) fn new(
        periods: &[f64],
        n: usize,
        mode: RefractoryMode,
    ) -> Result<Option<Refractory>, BuildError> {
        let field = "network.refractory_period";
        let listed = periods.len() > 1;
        let periods = match periods.len() {
            1 => vec![periods[0]; n],
            len if len == n => periods.to_vec(),
            len => {
                return Err(BuildError::new(
                    field,
                    format!("one period, or {n} (one per neuron)"),
                    format!("{len} periods"),
                ))
            }
        };
        for (i, &p) in periods.iter().enumerate() {
            if !(p.is_finite() && p >= 0.0) {
                let name = if listed {
                    format!("{field}[{i}]")
                } else {
                    field.to_string()
                };
                return Err(BuildError::new(
                    name,
                    "a finite period ≥ 0 in seconds",
                    format!("{p}"),
                ));
            }
        }
        if periods.iter().all(|&p| p == 0.0) {
            return Ok(None);
        }
        Ok(Some(Refractory { periods, mode }))
    }

    /// Neuron `i`'s period, s.
    #[inline]
    pub fn period(&self, i: usize) -> f64 {
        self.periods[i]
    }

    /// Every neuron's period, s.
    pub fn periods(&self) -> &[f64] {
        &self.periods
    }

    /// What the voltage does in the period.
    pub fn mode(&self) -> RefractoryMode {
        self.mode
    }
}
