//! What a run can do to an engine besides advancing it, as two traits, each implemented once per
//! engine:
//!
//! - [`Control`]: the perturbations and phase changes of a run — a new input, killed neurons,
//!   the readout placed at a state, voltage noise, a held spike;
//! - [`Plastic`]: what the learning actor ([`crate::learning::rule`]) needs — logged readout
//!   intervals, the slow core, the learned current, its weights and offsets.
//!
//! The kernel and the dense stepper implement both; the actor engine implements [`Control`]'s
//! input changes and kills (the semantics the kernel is tested against) and refuses the rest.

use crate::engine::Engine;
use crate::error::BuildError;
use crate::model::basis::LearnedCurrent;
use crate::model::signal::Signal;

/// Phase changes and perturbations, from the current time on.
pub trait Control: Engine {
    /// Replaces the input from the current time on (a new phase: other input, no teacher
    /// feedback, …). The signal is read in absolute time.
    fn set_input(&mut self, input: Signal) -> Result<(), BuildError>;
    /// Removes neurons from the current time on: they never fire again (their past spikes still
    /// decay in the readout; a held spike of theirs is dropped). Errors name an index out of
    /// range.
    fn kill(&mut self, neurons: &[usize]) -> Result<(), BuildError>;
    /// Which neurons can still fire.
    fn alive(&self) -> &[bool];
    /// Places the network at readout `xhat` with zero coding error (a phase start, a kick, a
    /// basin test).
    fn place_readout(&mut self, xhat: &[f64]) -> Result<(), BuildError>;
    /// Voltage noise of amplitude `sigma` (V/√s) from the current time on, drawn from `seed`'s
    /// noise stream: piecewise-constant currents over pieces of `interval` s on the exact
    /// kernel (exact trajectories), `σ √dt N(0, 1)` per step on the stepper (which ignores
    /// `interval`). `sigma = 0` removes it.
    fn set_voltage_noise(&mut self, sigma: f64, interval: f64, seed: u64)
        -> Result<(), BuildError>;
    /// Holds the first spike at or after `from` for `delay` seconds.
    fn delay_next_spike(&mut self, from: f64, delay: f64) -> Result<(), BuildError>;
}

/// An engine the learning actor can drive: it logs readout intervals and takes new weights.
/// Implemented by the exact [`crate::engine::kernel::Kernel`] and the
/// [`crate::engine::dense::DenseStepper`] (whose steps are its intervals), so that the same
/// protocol runs on both. A learning protocol also changes phases, hence the [`Control`]
/// supertrait.
pub trait Plastic: Control {
    /// Starts (or stops) logging readout intervals.
    fn record_intervals(&mut self, on: bool);
    /// Moves the logged intervals (`[t0, t1, x̂(t0)…]` each) into `out`.
    fn take_intervals(&mut self, out: &mut Vec<f64>);
    /// Makes the current time an interval boundary.
    fn flush(&mut self);
    /// Announces that the run will stop at `t` and make it an interval boundary ([`Plastic::flush`]):
    /// the end of a learning epoch, after which the network changes. An engine may use it to
    /// stop its work there (the kernel ends its crossing search there); the results stay exact.
    fn boundary_at(&mut self, t: f64);
    /// Replaces the low-rank slow core.
    fn set_slow_core(&mut self, core: &[f64]) -> Result<(), BuildError>;
    /// Adds a learned current.
    fn set_learned_current(&mut self, learned: Option<LearnedCurrent>) -> Result<(), BuildError>;
    /// The learned current, if any.
    fn learned_current(&self) -> Option<&LearnedCurrent>;
    /// Replaces the learned weights.
    fn set_learned_weights(&mut self, u: &[f64]) -> Result<(), BuildError>;
    /// Sets (or removes) the fixed offset `P` (N × N_b) of the learned current: neuron i also
    /// receives `P_i Ψ` (weights `W = Dᵀ U + P`; [`LearnedCurrent::set_offsets`]). Needs a
    /// learned current; learning changes `U` only.
    fn set_learned_offsets(&mut self, offsets: Option<Vec<f64>>) -> Result<(), BuildError>;
    /// Replaces the input by one that continues it: equal to the current input (the same knots
    /// and pieces) from the segment at the current time up to its own last knot, and going on
    /// beyond the current one's. The engine's state is untouched, so the run is the one the
    /// longer input would have given from the start, to the bit. Why: a long phase's input is
    /// given window by window, its memory bounded. The default is [`Control::set_input`]
    /// (exact too, but the state is advanced to now, which rounds differently).
    fn extend_input(&mut self, input: Signal) -> Result<(), BuildError> {
        self.set_input(input)
    }
}
