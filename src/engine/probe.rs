//! Voltages at spikes, just before the reset: what a state monitor's `at_spikes` records.
//!
//! Why in the engine: the value of `V_j` the instant before `j`'s reset exists only inside the
//! engine's spike handling (within a same-instant cascade it is the value after the earlier
//! spikes' kicks, above threshold), so every engine hands it to one [`SpikeProbe`] at the one
//! place it fires, and the monitor reads the rows afterwards. Nothing is done for neurons that
//! are not probed, and nothing at all without a probe.

use crate::error::BuildError;

/// Records, at each spike of a probed neuron, the voltages of every probed neuron at that
/// moment (the spiking one's before its reset; the others' after the effects of spikes earlier
/// in firing order).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub(crate) struct SpikeProbe {
    neurons: Vec<usize>,
    /// Per neuron of the network: whether it is probed.
    probed: Vec<bool>,
    /// One row of `neurons.len()` voltages per probed spike, in firing order.
    rows: Vec<f64>,
}

impl SpikeProbe {
    /// A probe of `neurons` (in this order) of a network of `n` neurons.
    pub(crate) fn new(neurons: &[usize], n: usize) -> Result<SpikeProbe, BuildError> {
        if let Some(&i) = neurons.iter().find(|&&i| i >= n) {
            return Err(BuildError::new(
                "record.state.neurons",
                format!("neuron indices below {n}"),
                format!("{i}"),
            ));
        }
        let mut probed = vec![false; n];
        for &i in neurons {
            probed[i] = true;
        }
        Ok(SpikeProbe {
            neurons: neurons.to_vec(),
            probed,
            rows: Vec::new(),
        })
    }

    /// Called by an engine as `j` fires, before any of the spike's effects: records a row when
    /// `j` is probed, `voltage(i)` giving neuron `i`'s voltage at that moment.
    #[inline]
    pub(crate) fn spike(&mut self, j: usize, voltage: impl Fn(usize) -> f64) {
        if self.probed[j] {
            self.rows.extend(self.neurons.iter().map(|&i| voltage(i)));
        }
    }

    /// Moves the rows recorded so far to the end of `out`.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<f64>) {
        out.append(&mut self.rows);
    }
}

/// An engine's optional probe: fires into it when there is one.
#[inline]
pub(crate) fn at_spike(probe: &mut Option<SpikeProbe>, j: usize, voltage: impl Fn(usize) -> f64) {
    if let Some(p) = probe {
        p.spike(j, voltage);
    }
}

/// An engine's [`crate::engine::Engine::probe_spikes`]: a new probe of `neurons` of `n`.
pub(crate) fn start(
    probe: &mut Option<SpikeProbe>,
    neurons: &[usize],
    n: usize,
) -> Result<(), BuildError> {
    *probe = Some(SpikeProbe::new(neurons, n)?);
    Ok(())
}

/// An engine's [`crate::engine::Engine::take_spike_voltages`].
pub(crate) fn drain(probe: &mut Option<SpikeProbe>, out: &mut Vec<f64>) {
    if let Some(p) = probe {
        p.drain_into(out);
    }
}
