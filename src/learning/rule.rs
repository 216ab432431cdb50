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
//! quadrature (8 nodes per piece of at most `MAX_PIECE` s, 4 on intervals of at most
//! `SHORT_PIECE` s — most of them: exact to rounding for these smooth integrands either way). Weights change only at learning epochs (operator splitting: within an epoch the
//! weights are constant; the splitting error is O(η · epoch²)).
//!
//! With the linear basis `Ψ(x̂) = x̂` the learned weights enter the kernel as its low-rank slow
//! core `M = L + U − K I` ([`crate::engine::kernel::Kernel::set_slow_core`], exact); with any other
//! basis as its learned current `U Ψ(x̂)` ([`crate::model::basis::LearnedCurrent`]).

use crate::engine::Spike;
use crate::error::{BuildError, SimError};
use crate::model::basis::{Basis, LearnedCurrent};
use crate::model::teacher::Target;
use crate::time::Time;

/// Longest piece of an interval integrated with one 8-node Gauss–Legendre rule, s.
pub(crate) const MAX_PIECE: f64 = 2e-3;

/// Longest interval integrated with the 4-node rule, s: its error there is below 1e-20 of the
/// integral for integrands varying at rates up to ~100/s (a rule of degree 7 on h = 0.5 ms).
pub(crate) const SHORT_PIECE: f64 = 5e-4;

/// 4-point Gauss–Legendre nodes on [−1, 1] (positive half) and weights.
const GL4_NODES: [f64; 2] = [0.339_981_043_584_856_3, 0.861_136_311_594_052_6];
const GL4_WEIGHTS: [f64; 2] = [0.652_145_154_862_546_1, 0.347_854_845_137_453_9];

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
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
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
    /// For monomials on the readout, each function's total degree (`Basis::readout_powers`):
    /// `Ψ` at a node is then `Ψ(x̂₀)` times powers of the decay (no basis evaluation per node).
    powers: Vec<usize>,
    /// Scratch: `Ψ(x̂₀)` and the powers of the decay factor.
    psi0: Vec<f64>,
    zpow: Vec<f64>,
    integrated: f64,
}

impl Learner {
    /// Starts from `U = 0` on `basis`, for a readout decaying at `lambda_d` (1/s).
    pub fn new(basis: Basis, lambda_d: f64) -> Learner {
        let (d, nb, input) = (basis.dims(), basis.len(), basis.input_len());
        let powers = basis.readout_powers().unwrap_or_default();
        let top = powers.iter().copied().max().unwrap_or(0);
        Learner {
            psi0: vec![0.0; if powers.is_empty() { 0 } else { nb }],
            zpow: vec![0.0; top + 1],
            powers,
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
    pub(crate) fn set_weights(&mut self, u: &[f64]) -> Result<(), BuildError> {
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
    /// [`Plastic::take_intervals`]) against the teacher.
    pub fn integrate(&mut self, intervals: &[f64], teacher: &dyn Target) {
        let (d, nb) = (self.d, self.nb);
        let on_trains = self.basis.on_trains();
        let stride = 2 + d + if on_trains { self.basis.input_len() } else { 0 };
        // The teacher's segment of the last node (nodes come in time order).
        let mut hint = 0;
        for iv in intervals.chunks_exact(stride) {
            let (t0, t1, xhat0) = (iv[0], iv[1], &iv[2..2 + d]);
            let arg0 = if on_trains { &iv[2 + d..] } else { xhat0 };
            if !self.powers.is_empty() {
                self.basis.eval(xhat0, &mut self.psi0);
            }
            let short = t1 - t0 <= SHORT_PIECE;
            let (nodes, weights): (&[f64], &[f64]) = if short {
                (&GL4_NODES, &GL4_WEIGHTS)
            } else {
                (&GL_NODES, &GL_WEIGHTS)
            };
            let pieces = ((t1 - t0) / MAX_PIECE).ceil().max(1.0) as usize;
            let h = (t1 - t0) / pieces as f64;
            for p in 0..pieces {
                let mid = t0 + (p as f64 + 0.5) * h;
                for (node, w) in nodes.iter().zip(weights) {
                    for t in [mid - 0.5 * h * node, mid + 0.5 * h * node] {
                        let z = (-self.lambda_d * (t - t0)).exp();
                        for (x, x0) in self.xhat.iter_mut().zip(xhat0) {
                            *x = x0 * z;
                        }
                        teacher.state_at_hinted(t, &mut self.x, &mut hint);
                        self.psi_at(arg0, z);
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

    /// `Ψ(arg0 · z)` into `psi`: from `psi0 = Ψ(arg0)` and powers of `z` for monomials,
    /// by evaluating the basis otherwise.
    fn psi_at(&mut self, arg0: &[f64], z: f64) {
        if self.powers.is_empty() {
            for (a, a0) in self.arg.iter_mut().zip(arg0) {
                *a = a0 * z;
            }
            self.basis.eval(&self.arg, &mut self.psi);
            return;
        }
        let mut zk = 1.0;
        for p in self.zpow.iter_mut() {
            *p = zk;
            zk *= z;
        }
        for ((o, &m), &p0) in self.psi.iter_mut().zip(&self.powers).zip(&self.psi0) {
            *o = p0 * self.zpow[m];
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

pub use crate::engine::control::{Control, Plastic};

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

/// Trains `engine` — the exact [`crate::engine::kernel::Kernel`] or the [`crate::engine::dense::DenseStepper`] — whose input must already be
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
        engine.boundary_at(t);
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
