//! What a run records besides spikes and the readout: the state of selected neurons, sampled
//! exactly at fixed times (Brian2's `StateMonitor`, NEST's `multimeter`), without a grid of the engine's.

use crate::engine::{Engine, Spike};
use crate::error::BuildError;
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
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq, Default)]
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
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
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

/// What a state monitor recorded: one row per sample, columns `variables × neurons` in the
/// order of the spec (all neurons of the first variable, then the next variable).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq)]
pub struct StateRecord {
    /// Column names, `v_3`, `r_0`, … (without `time`).
    pub columns: Vec<String>,
    /// Sample times, s.
    pub times: Vec<f64>,
    /// Values, row-major samples × columns.
    pub values: Vec<f64>,
    /// With `at_spikes`: the samples taken at recorded neurons' spikes.
    pub at_spikes: Option<SpikeSamples>,
}

impl StateRecord {
    /// The values of sample `k`, one per column.
    pub fn row(&self, k: usize) -> &[f64] {
        let c = self.columns.len();
        &self.values[k * c..(k + 1) * c]
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether nothing was sampled.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Drops every sample (the columns stay), keeping the memory for the next ones.
    pub(crate) fn clear(&mut self) {
        self.times.clear();
        self.values.clear();
        if let Some(at) = &mut self.at_spikes {
            at.times.clear();
            at.neurons.clear();
            at.values.clear();
        }
    }
}

/// Samples at spikes: one row per spike of a recorded neuron, in firing order, with the
/// [`StateRecord`]'s columns evaluated *just before that spike's reset*: the spiking neuron's
/// `v` at threshold (or above it, when a same-instant cascade pushed it over) and its `r`
/// before the spike's increment; the other neurons' values at that moment (after the effects
/// of spikes earlier in the same instant's firing order, before this one's).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SpikeSamples {
    /// Spike times, s.
    pub times: Vec<f64>,
    /// The neuron that spiked.
    pub neurons: Vec<u32>,
    /// Values, row-major samples × the record's columns.
    pub values: Vec<f64>,
}

impl SpikeSamples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether nothing was sampled.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

/// A running state monitor: knows its next sample time and keeps the filtered trains of its
/// neurons from the spikes it is shown (`r_i(t) = Σ_k e^(−λ_d (t − t_i^k))`, exact between
/// spikes; right-continuous: a spike at a sample time is included in that sample).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub(crate) struct StateMonitor {
    spec: StateMonitorSpec,
    neurons: Vec<usize>,
    /// Position of each neuron in `neurons`, or `usize::MAX` when not recorded.
    slot: Vec<usize>,
    lambda_d: f64,
    /// Per recorded neuron: `r` at `r_time`.
    r: Vec<f64>,
    r_time: Vec<f64>,
    next: u64,
    record: StateRecord,
    scratch: Vec<f64>,
    /// The engine probe's rows of the spikes being observed.
    probe_rows: Vec<f64>,
}

impl StateMonitor {
    /// A monitor of a network of `n` neurons with readout decay `lambda_d`; the spec's indices
    /// must be below `n` (checked by the caller).
    pub(crate) fn new(spec: StateMonitorSpec, n: usize, lambda_d: f64) -> StateMonitor {
        let neurons = spec.neurons.indices(n);
        let mut slot = vec![usize::MAX; n];
        for (k, &i) in neurons.iter().enumerate() {
            slot[i] = k;
        }
        let columns = spec
            .variables
            .iter()
            .flat_map(|v| neurons.iter().map(move |i| format!("{}_{i}", v.name())))
            .collect();
        let m = neurons.len();
        let at_spikes = spec.at_spikes.then(SpikeSamples::default);
        StateMonitor {
            spec,
            slot,
            lambda_d,
            r: vec![0.0; m],
            r_time: vec![0.0; m],
            next: 0,
            record: StateRecord {
                columns,
                at_spikes,
                ..StateRecord::default()
            },
            scratch: vec![0.0; n],
            probe_rows: Vec::new(),
            neurons,
        }
    }

    /// The time of the next sample.
    pub(crate) fn next_time(&self) -> f64 {
        self.next as f64 * self.spec.dt
    }

    /// Starts the engine's spike probe when the monitor samples at spikes (call once, before
    /// the engine runs).
    pub(crate) fn attach(&self, engine: &mut dyn Engine) -> Result<(), BuildError> {
        if self.spec.at_spikes {
            engine.probe_spikes(&self.neurons)?;
        }
        Ok(())
    }

    /// Takes account of the engine's `spikes` since the last call (in firing order, none before
    /// the last sample), with the rows its probe recorded for them.
    pub(crate) fn observe(&mut self, engine: &mut dyn Engine, spikes: &[Spike]) {
        let mut rows = std::mem::take(&mut self.probe_rows);
        rows.clear();
        if self.spec.at_spikes {
            engine.take_spike_voltages(&mut rows);
        }
        self.spikes(spikes, &rows);
        self.probe_rows = rows;
    }

    /// Takes account of `spikes`; with `at_spikes`, `rows` holds the probe's voltage row of
    /// each spike of a recorded neuron among them, in the same order.
    fn spikes(&mut self, spikes: &[Spike], rows: &[f64]) {
        let m = self.neurons.len();
        let mut rows = rows.chunks_exact(m.max(1));
        for sp in spikes {
            let Some(&k) = self
                .slot
                .get(sp.neuron as usize)
                .filter(|&&k| k != usize::MAX)
            else {
                continue;
            };
            let t = sp.time.secs();
            if let Some(out) = &mut self.record.at_spikes {
                let v = rows.next().unwrap_or(&[]);
                debug_assert_eq!(v.len(), m, "one probe row per spike of a recorded neuron");
                for var in &self.spec.variables {
                    for (q, (r, rt)) in self.r.iter().zip(&self.r_time).enumerate() {
                        out.values.push(match var {
                            StateVariable::V => v.get(q).copied().unwrap_or(f64::NAN),
                            StateVariable::R => r * (-self.lambda_d * (t - rt)).exp(),
                        });
                    }
                }
                out.times.push(t);
                out.neurons.push(sp.neuron);
            }
            self.r[k] = self.r[k] * (-self.lambda_d * (t - self.r_time[k])).exp() + 1.0;
            self.r_time[k] = t;
        }
    }

    /// Records the sample due now (at [`StateMonitor::next_time`]); `voltages` fills all N
    /// voltages at that time.
    pub(crate) fn sample(&mut self, voltages: impl FnOnce(&mut [f64])) {
        let t = self.next_time();
        let needs_v = self.spec.variables.contains(&StateVariable::V);
        if needs_v {
            voltages(&mut self.scratch);
        }
        for v in &self.spec.variables {
            for (k, &i) in self.neurons.iter().enumerate() {
                let x = match v {
                    StateVariable::V => self.scratch[i],
                    StateVariable::R => self.r[k] * (-self.lambda_d * (t - self.r_time[k])).exp(),
                };
                self.record.values.push(x);
            }
        }
        self.record.times.push(t);
        self.next += 1;
    }

    /// What was recorded so far.
    pub(crate) fn record(&self) -> &StateRecord {
        &self.record
    }

    /// Drops what was recorded so far; the monitor runs on.
    pub(crate) fn forget(&mut self) {
        self.record.clear();
    }

    /// The recorded data, consuming the monitor.
    pub(crate) fn into_record(self) -> StateRecord {
        self.record
    }
}

/// Checks that a state monitor's spec fits a network of `n` neurons; errors name the
/// `record.state` field.
pub(crate) fn check_spec(spec: &StateMonitorSpec, n: usize) -> Result<(), BuildError> {
    if !(spec.dt.is_finite() && spec.dt > 0.0) {
        return Err(BuildError::new(
            "record.state.dt",
            "a finite positive interval in seconds",
            format!("{}", spec.dt),
        ));
    }
    if let Some(&i) = spec.neurons.indices(n).iter().find(|&&i| i >= n) {
        return Err(BuildError::new(
            "record.state.neurons",
            format!("neuron indices below {n}"),
            format!("{i}"),
        ));
    }
    if spec.variables.is_empty() {
        return Err(BuildError::new(
            "record.state.variables",
            "at least one of \"v\", \"r\"",
            "[]",
        ));
    }
    Ok(())
}
