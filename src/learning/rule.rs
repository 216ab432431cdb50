//! The learning actor: the local plasticity rule of Alemi et al. (2018) on the exact engine.
//!
//! The slow weights onto a basis `Ψ(x̂)` of the readout are `W = Dᵀ U` (U is d × N_b), and the
//! local rule — postsynaptic feedback current times presynaptic basis activity —
//!
//! ```text
//! dW[i,b]/dt = η (D_iᵀ e) Ψ_b(x̂),   e = x − x̂      ⇔      dU/dt = η e Ψ(x̂)ᵀ
//! ```
//!
//! keeps that form when it starts from zero; weights that start as `Dᵀ U₀ + P` (given, or
//! perturbed synapse by synapse) stay `Dᵀ U + P` with the offset `P` fixed
//! ([`Plastic::set_learned_offsets`]). The actor receives, for every inter-event interval
//! of the kernel, the readout at the interval start (between events `x̂(t) = x̂(t₀) e^{−λ_d(t−t₀)}`
//! exactly) and integrates `∫ e Ψᵀ dt` against the teacher's dense output by Gauss–Legendre
//! quadrature (8 nodes per piece of at most [`MAX_PIECE`] s: exact to rounding for these smooth
//! integrands). Weights change only at learning epochs (operator splitting: within an epoch the
//! weights are constant; the splitting error is O(η · epoch²)).
//!
//! With the linear basis `Ψ(x̂) = x̂` the learned weights enter the kernel as its low-rank slow
//! core `M = L + U − K I` ([`crate::engine::kernel::Kernel::set_slow_core`], exact); with any other
//! basis as its learned current `U Ψ(x̂)` ([`crate::model::basis::LearnedCurrent`]).

use crate::engine::dense::DenseStepper;
use crate::engine::kernel::Kernel;
use crate::engine::{Engine, Spike};
use crate::error::{BuildError, SimError};
use crate::model::basis::{Basis, LearnedCurrent};
use crate::model::signal::Signal;
use crate::model::teacher::Target;
use crate::time::Time;

/// Longest piece of an interval integrated with one 8-node Gauss–Legendre rule, s.
pub const MAX_PIECE: f64 = 2e-3;

/// 8-point Gauss–Legendre nodes on [−1, 1] (positive half) and weights.
const GL_NODES: [f64; 4] = [
    0.183_434_642_495_649_8,
    0.525_532_409_916_329,
    0.796_666_477_413_626_7,
    0.960_289_856_497_536_3,
];
const GL_WEIGHTS: [f64; 4] = [
    0.362_683_783_378_362,
    0.313_706_645_877_887_3,
    0.222_381_034_453_374_5,
    0.101_228_536_290_376_3,
];

/// The learning actor: learned weights `U` on a basis, and the update accumulated over the
/// current epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Learner {
    basis: Basis,
    d: usize,
    nb: usize,
    lambda_d: f64,
    /// `U`, row-major d × N_b.
    u: Vec<f64>,
    /// `∫ e Ψᵀ dt` since the last [`Learner::apply`].
    accum: Vec<f64>,
    /// Scratch: teacher state, readout, Ψ's argument (x̂ or r), basis values.
    x: Vec<f64>,
    xhat: Vec<f64>,
    arg: Vec<f64>,
    psi: Vec<f64>,
    integrated: f64,
}

impl Learner {
    /// Starts from `U = 0` on `basis`, for a readout decaying at `lambda_d` (1/s).
    pub fn new(basis: Basis, lambda_d: f64) -> Learner {
        let (d, nb, input) = (basis.dims(), basis.len(), basis.input_len());
        Learner {
            basis,
            d,
            nb,
            lambda_d,
            u: vec![0.0; d * nb],
            accum: vec![0.0; d * nb],
            x: vec![0.0; d],
            xhat: vec![0.0; d],
            arg: vec![0.0; input],
            psi: vec![0.0; nb],
            integrated: 0.0,
        }
    }

    /// The basis.
    pub fn basis(&self) -> &Basis {
        &self.basis
    }

    /// The learned weights `U` (row-major d × N_b).
    pub fn weights(&self) -> &[f64] {
        &self.u
    }

    /// Replaces `U` (row-major d × N_b), e.g. to continue learning from a weights file.
    pub fn set_weights(&mut self, u: &[f64]) -> Result<(), BuildError> {
        if u.len() != self.u.len() || u.iter().any(|x| !x.is_finite()) {
            return Err(BuildError::new(
                "weights",
                format!("{}×{} finite learned weights", self.d, self.nb),
                format!("{} entries", u.len()),
            ));
        }
        self.u.copy_from_slice(u);
        Ok(())
    }

    /// Seconds of network time integrated so far.
    pub fn integrated_time(&self) -> f64 {
        self.integrated
    }

    /// Adds `∫ (x − x̂) Ψᵀ dt` over logged intervals (the layout of
    /// [`Kernel::take_intervals`]) against the teacher.
    pub fn integrate(&mut self, intervals: &[f64], teacher: &dyn Target) {
        let (d, nb) = (self.d, self.nb);
        let on_trains = self.basis.on_trains();
        let stride = 2 + d + if on_trains { self.basis.input_len() } else { 0 };
        for iv in intervals.chunks_exact(stride) {
            let (t0, t1, xhat0) = (iv[0], iv[1], &iv[2..2 + d]);
            let arg0 = if on_trains { &iv[2 + d..] } else { xhat0 };
            let pieces = ((t1 - t0) / MAX_PIECE).ceil().max(1.0) as usize;
            let h = (t1 - t0) / pieces as f64;
            for p in 0..pieces {
                let mid = t0 + (p as f64 + 0.5) * h;
                for (node, w) in GL_NODES.iter().zip(GL_WEIGHTS) {
                    for t in [mid - 0.5 * h * node, mid + 0.5 * h * node] {
                        let z = (-self.lambda_d * (t - t0)).exp();
                        for (x, x0) in self.xhat.iter_mut().zip(xhat0) {
                            *x = x0 * z;
                        }
                        for (a, a0) in self.arg.iter_mut().zip(arg0) {
                            *a = a0 * z;
                        }
                        teacher.state_at(t, &mut self.x);
                        self.basis.eval(&self.arg, &mut self.psi);
                        let weight = 0.5 * h * w;
                        for (j, row) in self.accum.chunks_exact_mut(nb).enumerate() {
                            let e = weight * (self.x[j] - self.xhat[j]);
                            for (a, psi) in row.iter_mut().zip(&self.psi) {
                                *a += e * psi;
                            }
                        }
                    }
                }
            }
            self.integrated += t1 - t0;
        }
    }

    /// Applies the accumulated update with learning rate `eta`: `U += η ∫ e Ψᵀ dt`.
    pub fn apply(&mut self, eta: f64) {
        for (u, a) in self.u.iter_mut().zip(self.accum.iter_mut()) {
            *u += eta * *a;
            *a = 0.0;
        }
    }
}

/// An engine the learning actor can drive: it logs readout intervals and takes new weights.
/// Implemented by the exact [`Kernel`] and the [`DenseStepper`] (whose steps are its intervals),
/// so that the same protocol runs on both.
pub trait Plastic: Engine {
    /// Starts (or stops) logging readout intervals.
    fn record_intervals(&mut self, on: bool);
    /// Moves the logged intervals (`[t0, t1, x̂(t0)…]` each) into `out`.
    fn take_intervals(&mut self, out: &mut Vec<f64>);
    /// Makes the current time an interval boundary.
    fn flush(&mut self);
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
    /// Replaces the input from the current time on.
    fn set_input(&mut self, input: Signal) -> Result<(), BuildError>;
    /// Removes neurons from the current time on.
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

impl Plastic for Kernel {
    fn record_intervals(&mut self, on: bool) {
        Kernel::record_intervals(self, on)
    }
    fn take_intervals(&mut self, out: &mut Vec<f64>) {
        Kernel::take_intervals(self, out)
    }
    fn flush(&mut self) {
        Kernel::flush(self)
    }
    fn set_slow_core(&mut self, core: &[f64]) -> Result<(), BuildError> {
        Kernel::set_slow_core(self, core)
    }
    fn set_learned_current(&mut self, learned: Option<LearnedCurrent>) -> Result<(), BuildError> {
        Kernel::set_learned_current(self, learned)
    }
    fn learned_current(&self) -> Option<&LearnedCurrent> {
        Kernel::learned_current(self)
    }
    fn set_learned_weights(&mut self, u: &[f64]) -> Result<(), BuildError> {
        Kernel::set_learned_weights(self, u)
    }
    fn set_learned_offsets(&mut self, offsets: Option<Vec<f64>>) -> Result<(), BuildError> {
        Kernel::set_learned_offsets(self, offsets)
    }
    fn set_input(&mut self, input: Signal) -> Result<(), BuildError> {
        Kernel::set_input(self, input)
    }
    fn kill(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        Kernel::kill(self, neurons)
    }
    fn alive(&self) -> &[bool] {
        Kernel::alive(self)
    }
    fn place_readout(&mut self, xhat: &[f64]) -> Result<(), BuildError> {
        Kernel::place_readout(self, xhat)
    }
    fn set_voltage_noise(
        &mut self,
        sigma: f64,
        interval: f64,
        seed: u64,
    ) -> Result<(), BuildError> {
        Kernel::set_voltage_noise(self, sigma, interval, seed)
    }
    fn delay_next_spike(&mut self, from: f64, delay: f64) -> Result<(), BuildError> {
        Kernel::delay_next_spike(self, from, delay)
    }
}

impl Plastic for DenseStepper {
    fn record_intervals(&mut self, on: bool) {
        DenseStepper::record_intervals(self, on)
    }
    fn take_intervals(&mut self, out: &mut Vec<f64>) {
        DenseStepper::take_intervals(self, out)
    }
    /// Steps are the intervals: epochs should be whole numbers of steps.
    fn flush(&mut self) {}
    fn set_slow_core(&mut self, core: &[f64]) -> Result<(), BuildError> {
        DenseStepper::set_slow_core(self, core)
    }
    fn set_learned_current(&mut self, learned: Option<LearnedCurrent>) -> Result<(), BuildError> {
        DenseStepper::set_learned_current(self, learned)
    }
    fn learned_current(&self) -> Option<&LearnedCurrent> {
        DenseStepper::learned_current(self)
    }
    fn set_learned_weights(&mut self, u: &[f64]) -> Result<(), BuildError> {
        DenseStepper::set_learned_weights(self, u)
    }
    fn set_learned_offsets(&mut self, offsets: Option<Vec<f64>>) -> Result<(), BuildError> {
        DenseStepper::set_learned_offsets(self, offsets)
    }
    fn set_input(&mut self, input: Signal) -> Result<(), BuildError> {
        DenseStepper::set_input(self, input)
    }
    fn kill(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        DenseStepper::kill(self, neurons)
    }
    fn alive(&self) -> &[bool] {
        DenseStepper::alive(self)
    }
    fn place_readout(&mut self, xhat: &[f64]) -> Result<(), BuildError> {
        DenseStepper::place_readout(self, xhat)
    }
    fn set_voltage_noise(
        &mut self,
        sigma: f64,
        _interval: f64,
        seed: u64,
    ) -> Result<(), BuildError> {
        DenseStepper::set_voltage_noise(self, sigma, seed)
    }
    fn delay_next_spike(&mut self, from: f64, delay: f64) -> Result<(), BuildError> {
        DenseStepper::delay_next_spike(self, from, delay)
    }
}

/// One training run: constant feedback gain and learning rate, epochs of fixed length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Training time, s.
    pub duration: f64,
    /// Learning epoch, s: weights are updated at multiples of it.
    pub epoch: f64,
    /// Feedback gain K, 1/s.
    pub feedback_gain: f64,
    /// Learning rate η.
    pub learning_rate: f64,
    /// Optional decay of η: constant until the fraction `start` of the run, then exponential
    /// down to `to`·η at its end (the prototype's "constant, then decay over the last 30 %" is
    /// `Some((0.7, 0.1))`).
    pub learning_rate_decay: Option<(f64, f64)>,
}

impl Schedule {
    /// η at fraction `p ∈ [0, 1]` of the run.
    pub fn learning_rate_at(&self, p: f64) -> f64 {
        match self.learning_rate_decay {
            Some((start, to)) if p > start && start < 1.0 => {
                self.learning_rate * to.powf((p - start) / (1.0 - start))
            }
            _ => self.learning_rate,
        }
    }
}

/// Trains `engine` — the exact [`Kernel`] or the [`DenseStepper`] — whose input must already be
/// `c + K x` and whose low-rank slow core must be `L − K I` (`L` = `known`, the linear part wired
/// by hand; zeros to learn everything). After every epoch the learned weights enter the engine:
/// for the linear basis as its slow core `L + U − K I` (exact), for other bases as its learned
/// current `U Ψ(x̂)`. Returns the spikes.
pub fn train<E: Plastic>(
    engine: &mut E,
    learner: &mut Learner,
    teacher: &dyn Target,
    known: &[f64],
    schedule: &Schedule,
) -> Result<Vec<Spike>, SimError> {
    let d = learner.d;
    let linear = matches!(learner.basis, Basis::Linear { .. });
    let to_sim = |e: BuildError| SimError::Learning {
        message: e.to_string(),
    };
    if !linear && engine.learned_current().is_none() {
        let current =
            LearnedCurrent::new(learner.basis.clone(), learner.u.clone()).map_err(to_sim)?;
        engine.set_learned_current(Some(current)).map_err(to_sim)?;
    }
    engine.record_intervals(true);
    let mut spikes = Vec::new();
    let mut log = Vec::new();
    let epochs = (schedule.duration / schedule.epoch).ceil() as usize;
    let start = engine.time().secs();
    let mut core = vec![0.0; d * d];
    for e in 1..=epochs {
        let t = start + (e as f64 * schedule.epoch).min(schedule.duration);
        engine.run_until(Time::from_secs(t), &mut spikes)?;
        engine.flush();
        engine.take_intervals(&mut log);
        learner.integrate(&log, teacher);
        learner.apply(schedule.learning_rate_at((t - start) / schedule.duration));
        if linear {
            for r in 0..d {
                for c in 0..d {
                    let k = if r == c { schedule.feedback_gain } else { 0.0 };
                    core[r * d + c] = known[r * d + c] + learner.u[r * d + c] - k;
                }
            }
            engine.set_slow_core(&core).map_err(to_sim)?;
        } else {
            engine.set_learned_weights(&learner.u).map_err(to_sim)?;
        }
    }
    engine.record_intervals(false);
    Ok(spikes)
}
