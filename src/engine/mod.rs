//! What every engine offers: advance to a time, report spikes, evaluate the readout.
//!
//! Three engines implement [`Engine`]: [`crate::engine::kernel::Kernel`] (exact, batched — the one to
//! use), [`crate::engine::actors::ActorEngine`] (exact, one message at a time — the semantics the
//! kernel is tested against) and [`crate::engine::dense::DenseStepper`] (clock-driven reference).

pub mod actors;
pub(crate) mod control;
pub mod counters;
pub mod dense;
pub mod kernel;
pub(crate) mod probe;
pub(crate) mod queue;
pub(crate) mod refractory;
pub(crate) mod rules;

pub use crate::engine::control::{Control, Plastic};
use crate::engine::counters::Counters;
use crate::error::SimError;
use crate::time::Time;
use serde::Serialize;

/// One spike: which neuron, when.
#[derive(
    serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize,
)]
pub struct Spike {
    /// Spike time.
    pub time: Time,
    /// Neuron index, 0-based.
    pub neuron: u32,
}

/// A simulation engine.
pub trait Engine {
    /// Time up to which all events have been processed.
    fn time(&self) -> Time;

    /// Processes every event at or before `t`, appending spikes in firing order to `spikes`.
    ///
    /// After it returns, [`Engine::time`] is `t` and [`Engine::readout`] is `x̂(t)`.
    fn run_until(&mut self, t: Time, spikes: &mut Vec<Spike>) -> Result<(), SimError>;

    /// The readout `x̂ = D r` at the current time, into `out` (length d).
    fn readout(&self, out: &mut [f64]);

    /// Membrane voltages at the current time, into `out` (length N).
    fn voltages(&self, out: &mut [f64]);

    /// What the engine did so far.
    fn counters(&self) -> Counters;

    /// Starts recording, at each spike of one of `neurons`, the voltages of all of `neurons`
    /// at that moment — the spiking neuron's just before its reset, the others' after the
    /// effects of spikes earlier in firing order — as one row of `neurons.len()` values per
    /// such spike, in firing order ([`Engine::take_spike_voltages`]). Replaces an earlier
    /// probe; an index out of range is an error naming it.
    fn probe_spikes(&mut self, neurons: &[usize]) -> Result<(), crate::error::BuildError>;

    /// Moves the rows recorded by [`Engine::probe_spikes`] since the last call to the end of
    /// `out` (nothing without a probe).
    fn take_spike_voltages(&mut self, out: &mut Vec<f64>);
}

/// Which engine a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// The exact event-driven kernel.
    #[default]
    Exact,
    /// The clock-driven reference stepper.
    Dense,
}

/// Marks `neurons` as removed in an engine's alive mask; an index out of range is an error
/// naming it (nothing is changed then).
pub(crate) fn kill(alive: &mut [bool], neurons: &[usize]) -> Result<(), crate::error::BuildError> {
    if let Some(&i) = neurons.iter().find(|&&i| i >= alive.len()) {
        return Err(crate::error::BuildError::new(
            "kill",
            format!("neuron indices below {}", alive.len()),
            format!("{i}"),
        ));
    }
    for &i in neurons {
        alive[i] = false;
    }
    Ok(())
}

/// Checks that an engine of `dims` dimensions can be placed at readout `xhat` (see
/// [`crate::engine::kernel::Kernel::place_readout`]): d finite components, low-rank weights, and a
/// learned basis, if any, on the readout — otherwise the spike trains are not determined by x̂.
pub(crate) fn check_placement(
    dims: usize,
    xhat: &[f64],
    low_rank: bool,
    learned: Option<&crate::model::basis::LearnedCurrent>,
) -> Result<(), crate::error::BuildError> {
    if xhat.len() != dims || xhat.iter().any(|x| !x.is_finite()) {
        return Err(crate::error::BuildError::new(
            "readout",
            format!("{dims} finite components (network.dims)"),
            format!("{xhat:?}"),
        ));
    }
    if !low_rank || learned.is_some_and(|l| l.basis().on_trains()) {
        return Err(crate::error::BuildError::new(
            "readout",
            "low-rank weights and a basis on the readout (the spike trains are not determined by x̂)",
            "dense weights or a basis on the spike trains",
        ));
    }
    Ok(())
}

/// Checks a spike-delay request: `from` finite, `delay` finite and positive.
pub(crate) fn check_delay(from: f64, delay: f64) -> Result<(), crate::error::BuildError> {
    if !from.is_finite() {
        return Err(crate::error::BuildError::new(
            "delay_spike.after",
            "a finite time in seconds",
            format!("{from}"),
        ));
    }
    if !(delay.is_finite() && delay > 0.0) {
        return Err(crate::error::BuildError::new(
            "delay_spike.delay",
            "a finite positive delay in seconds",
            format!("{delay}"),
        ));
    }
    Ok(())
}

/// The time `delay > 0` after `t`: `t + delay`, but never `t` itself. Fast deliveries and the
/// ends of refractory periods are scheduled here: a delay below the time resolution at `t`
/// (1e-20 s, or 1e-17 s at t = 1 s) would otherwise land a delivery in its spike's own instant,
/// where deliveries come before threshold tests (a twin reaching threshold then would be
/// inhibited as with no delay at all), or end a period in the instant it began. Such a delay is
/// rounded up to the next representable time after `t`.
pub(crate) fn after(t: f64, delay: f64) -> f64 {
    let at = t + delay;
    if at > t {
        at
    } else if t >= 0.0 && t.is_finite() {
        // The next representable time after t (`f64::next_up`, written out for Rust 1.85).
        f64::from_bits(t.to_bits() + 1)
    } else {
        at
    }
}

/// Checks a `run_until` target: finite and not before `now` (s); returns it in seconds. Every
/// engine's `run_until` starts here.
pub(crate) fn check_target(now: f64, t: Time) -> Result<f64, SimError> {
    let target = t.secs();
    if !(target >= now && target.is_finite()) {
        return Err(SimError::InvalidTarget { now, target });
    }
    Ok(target)
}
