//! The dense (clock-driven) reference stepper of the same model.
//!
//! Every published EBN implementation advances time on a fixed grid and tests thresholds only at
//! grid points. [`DenseStepper`] does exactly that, for the *same* [`Network`], input and
//! conventions as the exact event-driven engines, so that it serves two purposes:
//!
//! - **validating the exact engine**: as `dt → 0` the stepper's spikes converge to the exact ones
//!   (first order in `dt`: spike times are quantised to the grid, and with forward Euler the
//!   membrane integration adds its own first-order error), and
//! - **showing what the grid costs**: the same model run on the community's grid (forward Euler,
//!   `dt = 0.1 ms`, one spike per step) next to the exact run makes the grid's error, the spike
//!   rule's artefacts and the per-step cost visible.
//!
//! # One step
//!
//! Step `n` covers `[t_n, t_{n+1}]` with `t_n = n·dt` (an integer step counter; times are never
//! accumulated sums). Its work, in this order:
//!
//! 1. **Continuous dynamics** over the step, by [`Integrator`]:
//!    - [`Integrator::Exponential`]: the closed-form solution of
//!      `V' = −λ_V V + D_iᵀ c(t) + s_i e^{−λ_d u}` over `u ∈ [0, dt]` (`closed_form::expo`), with
//!      the input polynomial of the segment containing `t_n` (`Signal::local_polynomial`) held
//!      over the whole step (a knot strictly inside a step takes effect at the next step start)
//!      and the slow amplitude `s_i = Σ_j Ω_s[i,j] r_j(t_n)` decaying exactly with the filtered
//!      spike trains. Without knots inside steps this is the exact voltage at `t_{n+1}`.
//!    - [`Integrator::Euler`]: the published update (the prototype's `run_numpy`):
//!      `V_i ← (1 − λ_V dt)·V_i + dt·(D_iᵀ c(t_n) + s_i)` with `s_i` at `t_n`.
//!
//!    With both integrators the filtered spike trains decay exactly, `r ← e^{−λ_d dt}·r` (the
//!    prototype does the same), so the readout is exact between spikes.
//! 2. **Delayed fast deliveries** due at `t_{n+1}` (see below).
//! 3. **Spikes at `t_{n+1}`**, by [`SpikeRule`]. A spike of `j` adds 1 to `r_j` (and `D_j` to
//!    `x̂`), applies the reset `V_j −= Ω_f[j,j]`, adds the slow column `Ω_s[·,j]`, and — when
//!    there is no fast delay — applies `V_k −= Ω_f[k,j]` to every other neuron at once.
//!
//! **Difference from the prototype's Euler step:** the prototype decays `r` *after* the spike test
//! of the step, so a spike recorded at step `n` contributes `e^{−λ_d dt}` rather than 1 to `r` at
//! the start of step `n + 1`. Here the decay comes first and the spike adds exactly 1 at its
//! recorded time `t_{n+1}` — the model's `r_j += 1`, consistent with the exact engines'
//! readout. Both are first order in `dt`; the voltage update is the prototype's.
//!
//! # Spike rules
//!
//! - [`SpikeRule::OnePerStep`]: the neuron with the largest `V − T`, if it is `> 0` (ties: lower
//!   index), fires; nobody else this step.
//! - [`SpikeRule::Greedy`]: repeatedly, the neuron with the largest `V − T > 0` fires and its
//!   effects are applied before the next test, at most N spikes per step (the prototype's
//!   `spike_rule = 1`; a neuron may fire more than once). When N is reached the step ends, even
//!   if a neuron is still above threshold — it is tested again at the next step.
//! - [`SpikeRule::All`]: every neuron with `V > T` fires (in index order in the spike list), and
//!   then all their effects are applied together.
//!
//! # Fast delay
//!
//! A fast delay `δ_f > 0` is rounded to a whole number of steps `k = max(1, round(δ_f / dt))`
//! (nearest, halves away from zero, never less than one step): a spike at `t_{n+1}` reaches the
//! other neurons at `t_{n+1+k}`, before that step's spike test. The reset is always immediate.
//!
//! # Weights and cost
//!
//! With [`Weights::LowRank`] nothing N×N is stored or touched: the slow current is
//! `s_i = D_iᵀ M x̂` (one d×d product per step, then O(d) per neuron) and a spike changes the
//! others by `D_kᵀ D_j` (O(N·d)). With [`Weights::Dense`] the slow currents `s = Ω_s r` are kept
//! up to date incrementally (decay by `e^{−λ_d dt}` per step, one column per spike) and a spike
//! applies one column of `Ω_f` (O(N)). Either way a step costs O(N·d) plus O(N) per spike test,
//! and no step allocates (all buffers are preallocated).

mod control;

use crate::closed_form::expo::{BasisValues, Membrane, MAX_DEGREE};
use crate::engine::counters::Counters;
use crate::engine::probe::{self, SpikeProbe};
use crate::engine::refractory::Refractoriness;
use crate::engine::{Engine, Spike};
use crate::error::{BuildError, SimError};
use crate::model::basis::LearnedCurrent;
use crate::model::network::{Network, Weights};
use crate::model::signal::Signal;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

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
        DenseConfig {
            dt: 1e-4,
            integrator: Integrator::Exponential,
            spike_rule: SpikeRule::OnePerStep,
        }
    }
}

/// The weights as the stepper uses them.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
enum Store {
    /// `M = A + λ_d I`, row-major d×d; slow currents come from `x̂`.
    LowRank { core: Vec<f64> },
    /// Column-major N×N `Ω_f` and `Ω_s`, plus the slow currents `s = Ω_s r` kept up to date.
    Dense {
        fast: Vec<f64>,
        slow: Vec<f64>,
        current: Vec<f64>,
    },
}

/// Clock-driven reference simulator of an EBN; see the [module documentation](self).
///
/// Implements [`Engine`]: [`Engine::run_until`] takes every step whose end is at or before the
/// requested time and reports spikes at step ends.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct DenseStepper {
    n: usize,
    d: usize,
    config: DenseConfig,
    input: Signal,
    lambda_d: f64,
    lambda_v: f64,
    /// `decoder[i * d + l] = D_i[l]`.
    decoder: Vec<f64>,
    thresholds: Vec<f64>,
    /// `Ω_f[j,j]`, the reset of each neuron.
    reset: Vec<f64>,
    store: Store,
    /// Basis values at `τ = dt` (exponential integrator).
    basis: BasisValues,
    /// `e^{−λ_d dt}`.
    decay: f64,
    /// Fast delay in steps; 0 means instantaneous.
    delay_steps: u64,
    /// Steps taken; the state is at `t = step·dt`.
    step: u64,
    /// Time reported by [`Engine::time`], s.
    now: f64,
    v: Vec<f64>,
    xhat: Vec<f64>,
    /// Input polynomial at the step start, `poly[k * d + l]`.
    poly: Vec<f64>,
    /// The shared d-vector that every neuron's step update dots with its decoder.
    shared: Vec<f64>,
    /// Neurons firing in the current step (rule `All`).
    fired: Vec<u32>,
    /// Delayed fast deliveries `(step whose end delivers, presynaptic neuron)`, in step order.
    pending: VecDeque<(u64, u32)>,
    #[serde(with = "crate::engine::counters::all")]
    counters: Counters,
    /// The learned slow current `U Ψ(x̂)`, held at its step-start value over each step.
    learned: Option<LearnedCurrent>,
    /// Scratch for the learned current.
    learned_now: Vec<f64>,
    /// Per-neuron offset currents `P_i Ψ` at the step start (empty without offsets).
    learned_offsets: Vec<f64>,
    /// Filtered spike trains `r` (for a learned basis on spike trains).
    trains: Vec<f64>,
    /// Neurons that can still fire.
    alive: Vec<bool>,
    /// Voltage noise: `V += σ √dt N(0, 1)` per neuron and step (the published update).
    noise_sigma: f64,
    noise_rng: Option<rand_chacha::ChaCha8Rng>,
    /// Whether steps are logged as readout intervals (learning), and the log.
    log_intervals: bool,
    intervals: Vec<f64>,
    /// A requested spike delay `(from, delay)` ([`crate::engine::control::Control::delay_next_spike`]).
    delay_request: Option<(f64, f64)>,
    /// A held spike `(step whose end releases it, neuron)`.
    held: Option<(u64, usize)>,
    /// Voltages at probed neurons' spikes (a state monitor's `at_spikes`).
    probe: Option<SpikeProbe>,
    /// Who is in a refractory period (ended at the first step end at or after its end).
    refractory: Refractoriness,
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl DenseStepper {
    /// A stepper for `network` driven by `input` (d components), with the readout starting empty
    /// (`r = 0`) and the voltages at `Network::initial_voltages(x0)`.
    ///
    /// Errors name the field: `simulate.dt` (not finite and positive), `target.initial` (`x0`
    /// not of length d) or `target.initial[l]` (not finite), `input` (not d components),
    /// `network.neurons` (more than `u32::MAX`).
    pub fn new(
        network: &Network,
        input: Signal,
        x0: &[f64],
        config: DenseConfig,
    ) -> Result<DenseStepper, BuildError> {
        let (n, d) = (network.neurons(), network.dims());
        let dt = config.dt;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(BuildError::new(
                "simulate.dt",
                "a finite positive time step in seconds",
                format!("{dt}"),
            ));
        }
        if x0.len() != d {
            return Err(BuildError::new(
                "target.initial",
                format!("{d} components (network.dims)"),
                format!("{} components", x0.len()),
            ));
        }
        if let Some((l, &x)) = x0.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(BuildError::new(
                format!("target.initial[{l}]"),
                "a finite number",
                format!("{x}"),
            ));
        }
        if input.dims() != d {
            return Err(BuildError::new(
                "input",
                format!("a signal of {d} components (network.dims)"),
                format!("{} components", input.dims()),
            ));
        }
        if u32::try_from(n).is_err() {
            return Err(BuildError::new(
                "network.neurons",
                format!("at most {} neurons", u32::MAX),
                format!("{n}"),
            ));
        }
        let store = match network.weights() {
            Weights::LowRank { core } => Store::LowRank { core: core.clone() },
            Weights::Dense { fast, slow } => Store::Dense {
                fast: fast.clone(),
                slow: slow.clone(),
                current: vec![0.0; n],
            },
        };
        let membrane = Membrane::new(network.lambda_v(), network.lambda_d());
        let delay_steps = delay_in_steps(network.fast_delay(), dt);
        let per_step = match config.spike_rule {
            SpikeRule::OnePerStep => 1,
            SpikeRule::Greedy | SpikeRule::All => n,
        };
        let pending_capacity = usize::try_from(delay_steps)
            .unwrap_or(usize::MAX)
            .saturating_mul(per_step)
            .min(1 << 20);
        Ok(DenseStepper {
            n,
            d,
            config,
            input,
            lambda_d: network.lambda_d(),
            lambda_v: network.lambda_v(),
            decoder: network.decoders().to_vec(),
            thresholds: network.thresholds().to_vec(),
            reset: (0..n).map(|j| network.fast_weight(j, j)).collect(),
            store,
            basis: membrane.values(dt, MAX_DEGREE),
            decay: (-network.lambda_d() * dt).exp(),
            delay_steps,
            step: 0,
            now: 0.0,
            v: network.initial_voltages(x0),
            xhat: vec![0.0; d],
            poly: vec![0.0; (MAX_DEGREE + 1) * d],
            shared: vec![0.0; d],
            fired: Vec::with_capacity(n),
            pending: VecDeque::with_capacity(pending_capacity),
            counters: Counters::default(),
            learned: None,
            learned_now: vec![0.0; d],
            learned_offsets: Vec::new(),
            trains: vec![0.0; n],
            alive: vec![true; n],
            noise_sigma: 0.0,
            noise_rng: None,
            log_intervals: false,
            intervals: Vec::new(),
            delay_request: None,
            held: None,
            probe: None,
            refractory: Refractoriness::new(network),
        })
    }

    /// The configuration this stepper runs with.
    pub fn config(&self) -> DenseConfig {
        self.config
    }

    /// The fast delay in whole steps, `max(1, round(δ_f / dt))`, or 0 when `δ_f = 0`.
    pub fn fast_delay_steps(&self) -> u64 {
        self.delay_steps
    }

    /// End time of step `step` (0-based): `(step + 1)·dt`.
    #[inline]
    fn step_end(&self, step: u64) -> f64 {
        (step + 1) as f64 * self.config.dt
    }

    /// Advances the continuous dynamics over step `self.step`.
    fn advance(&mut self) {
        let d = self.d;
        let dt = self.config.dt;
        let t0 = self.step as f64 * dt;
        let degree = self.input.local_polynomial(t0, &mut self.poly);
        if let Some(l) = &mut self.learned {
            // Held at its step-start value, like the input polynomial's step-start expansion.
            let presynaptic = if l.basis().on_trains() {
                &self.trains
            } else {
                &self.xhat
            };
            l.current(presynaptic, &mut self.learned_now);
            for (p, c) in self.poly.iter_mut().zip(&self.learned_now) {
                *p += c;
            }
            // Per-neuron offsets `P_i Ψ`, held likewise (empty without offsets).
            for (i, o) in self.learned_offsets.iter_mut().enumerate() {
                *o = l.offset_current(i);
            }
        }
        if self.log_intervals {
            self.intervals.extend_from_slice(&[t0, t0 + dt]);
            self.intervals.extend_from_slice(&self.xhat);
            if self.learned.as_ref().is_some_and(|l| l.basis().on_trains()) {
                self.intervals.extend_from_slice(&self.trains);
            }
        }
        // The slow drive of the low-rank path: g = M x̂ at the step start (into `shared`).
        self.shared.fill(0.0);
        if let Store::LowRank { core } = &self.store {
            for (k, g) in self.shared.iter_mut().enumerate() {
                *g = dot(&core[k * d..(k + 1) * d], &self.xhat);
            }
        }
        // Every neuron's update is `V_i ← a·V_i + D_iᵀ w (+ b·s_i for dense weights)`, with one
        // shared d-vector w: the closed form V = v0·e^{−λ_V τ} + Σ_k (D_iᵀc_k) R_k + s_i E
        // (expo::Trajectory::value) regrouped over the decoder, or the Euler update.
        let (a, b) = match self.config.integrator {
            Integrator::Exponential => {
                let bv = &self.basis;
                for (l, w) in self.shared.iter_mut().enumerate() {
                    let mut x = *w * bv.slow;
                    for k in 0..=degree {
                        x += self.poly[k * d + l] * bv.drive[k];
                    }
                    *w = x;
                }
                (bv.leak, bv.slow)
            }
            Integrator::Euler => {
                for (l, w) in self.shared.iter_mut().enumerate() {
                    *w = (self.poly[l] + *w) * dt;
                }
                (1.0 - self.lambda_v * dt, dt)
            }
        };
        let shared = &self.shared;
        match &mut self.store {
            Store::LowRank { .. } => {
                for (v, di) in self.v.iter_mut().zip(self.decoder.chunks_exact(d)) {
                    *v = a * *v + dot(di, shared);
                }
            }
            Store::Dense { current, .. } => {
                for ((v, di), s) in self
                    .v
                    .iter_mut()
                    .zip(self.decoder.chunks_exact(d))
                    .zip(current.iter_mut())
                {
                    *v = a * *v + dot(di, shared) + b * *s;
                    *s *= self.decay;
                }
            }
        }
        if !self.learned_offsets.is_empty() {
            // A constant current over the step: through the constant-drive basis function
            // (exponential) or `dt·P_iΨ` (Euler), like the held `D_iᵀ U Ψ` in `poly[0]`.
            let c = match self.config.integrator {
                Integrator::Exponential => self.basis.drive[0],
                Integrator::Euler => dt,
            };
            for (v, o) in self.v.iter_mut().zip(&self.learned_offsets) {
                *v += c * o;
            }
        }
        if let Some(rng) = &mut self.noise_rng {
            let scale = self.noise_sigma * dt.sqrt();
            for v in self.v.iter_mut() {
                *v += scale * rand::Rng::sample::<f64, _>(rng, rand_distr::StandardNormal);
            }
        }
        self.refractory.hold(&mut self.v);
        for x in self.xhat.iter_mut() {
            *x *= self.decay;
        }
        for r in self.trains.iter_mut() {
            *r *= self.decay;
        }
    }

    /// `V_k −= Ω_f[k,j]` for every `k ≠ j`.
    fn fast_to_others(&mut self, j: usize) {
        let d = self.d;
        match &self.store {
            Store::LowRank { .. } => {
                let dj = &self.decoder[j * d..(j + 1) * d];
                for (k, (v, dk)) in self
                    .v
                    .iter_mut()
                    .zip(self.decoder.chunks_exact(d))
                    .enumerate()
                {
                    if k != j {
                        *v -= dot(dk, dj);
                    }
                }
            }
            Store::Dense { fast, .. } => {
                let col = &fast[j * self.n..(j + 1) * self.n];
                for (k, (v, w)) in self.v.iter_mut().zip(col).enumerate() {
                    if k != j {
                        *v -= w;
                    }
                }
            }
        }
        // Clamped neurons discard it.
        self.refractory.hold(&mut self.v);
    }

    /// Fires neuron `j` at the end of the current step: reset, readout, slow column, and the fast
    /// effect on the others (now, or queued when delayed).
    fn fire(&mut self, j: usize, time: Time, spikes: &mut Vec<Spike>) {
        if let Some((from, delay)) = self.delay_request {
            if time.secs() >= from {
                self.delay_request = None;
                self.alive[j] = false;
                self.held = Some((self.step + delay_in_steps(delay, self.config.dt), j));
                return;
            }
        }
        let d = self.d;
        probe::at_spike(&mut self.probe, j, |i| self.v[i]);
        spikes.push(Spike {
            time,
            neuron: j as u32,
        });
        self.counters.spikes += 1;
        self.counters.crossing_spikes += 1;
        self.v[j] -= self.reset[j];
        self.refractory.start(j, time.secs(), self.v[j]);
        for (x, dj) in self.xhat.iter_mut().zip(&self.decoder[j * d..(j + 1) * d]) {
            *x += dj;
        }
        self.trains[j] += 1.0;
        if let Store::Dense { slow, current, .. } = &mut self.store {
            for (s, w) in current.iter_mut().zip(&slow[j * self.n..(j + 1) * self.n]) {
                *s += w;
            }
        }
        if self.delay_steps == 0 {
            self.fast_to_others(j);
        } else {
            self.pending
                .push_back((self.step + self.delay_steps, j as u32));
        }
    }

    /// The neuron with the largest `V − T`, if that is `> 0` (ties: lower index): the shared
    /// rule, [`crate::engine::rules::most_above`].
    fn most_above(&self) -> Option<usize> {
        let r = &self.refractory;
        crate::engine::rules::most_above(
            self.v
                .iter()
                .zip(&self.thresholds)
                .zip(&self.alive)
                .enumerate()
                .map(|(i, ((v, t), &a))| (v - t, a && !r.blocks(i))),
        )
    }

    /// Takes step `self.step`: continuous dynamics, due deliveries, spikes at its end.
    fn take_step(&mut self, spikes: &mut Vec<Spike>) {
        self.advance();
        let end = self.step_end(self.step);
        let time = Time::from_secs(end);
        // Periods ending by this step end (within a few ulps: τ = k·dt ends on the grid) are
        // over before its deliveries.
        self.refractory.end_due(end + 8.0 * f64::EPSILON * end);
        while let Some(&(due, j)) = self.pending.front() {
            if due > self.step {
                break;
            }
            self.pending.pop_front();
            self.fast_to_others(j as usize);
            self.counters.deliveries += 1;
        }
        let before = self.counters.spikes;
        if let Some((due, j)) = self.held {
            if due <= self.step {
                self.held = None;
                self.alive[j] = true;
                self.fire(j, time, spikes);
            }
        }
        match self.config.spike_rule {
            SpikeRule::OnePerStep => {
                if self.counters.spikes > before {
                    // A released held spike takes this step's slot.
                } else if let Some(j) = self.most_above() {
                    self.fire(j, time, spikes);
                }
                if self.counters.spikes > before && self.most_above().is_some() {
                    self.counters.saturated_steps += 1;
                }
            }
            SpikeRule::Greedy => {
                for _ in 0..self.n {
                    match self.most_above() {
                        Some(j) => self.fire(j, time, spikes),
                        None => break,
                    }
                }
                if self.counters.spikes - before == self.n as u64 && self.most_above().is_some() {
                    self.counters.saturated_steps += 1;
                }
            }
            SpikeRule::All => {
                self.fired.clear();
                for (i, (v, t)) in self.v.iter().zip(&self.thresholds).enumerate() {
                    if v - t > 0.0 && self.alive[i] && !self.refractory.blocks(i) {
                        self.fired.push(i as u32);
                    }
                }
                for f in 0..self.fired.len() {
                    let j = self.fired[f] as usize;
                    self.fire(j, time, spikes);
                }
            }
        }
        let in_step = self.counters.spikes - before;
        self.counters.longest_cascade = self.counters.longest_cascade.max(in_step);
        self.step += 1;
        self.counters.steps += 1;
    }
}

/// `max(1, round(delay / dt))` steps for a positive delay, 0 for none.
fn delay_in_steps(delay: f64, dt: f64) -> u64 {
    if delay > 0.0 {
        // `as` saturates for absurdly long delays, which then never arrive: correct in effect.
        ((delay / dt).round() as u64).max(1)
    } else {
        0
    }
}

impl Engine for DenseStepper {
    fn time(&self) -> Time {
        Time::from_secs(self.now)
    }

    /// Takes every step whose end is at or before `t` (a step end within a few ulps above `t`
    /// counts as at `t`, so that `dt = 0.1` reaches `t = 0.3` in three steps), appending the
    /// spikes with time = step end.
    /// An infinite `t` ([`Time::NEVER`]) is an error: a clock-driven run to "never" cannot end.
    fn run_until(&mut self, t: Time, spikes: &mut Vec<Spike>) -> Result<(), SimError> {
        let target = super::check_target(self.now, t)?;
        let limit = target + 8.0 * f64::EPSILON * target;
        while self.step_end(self.step) <= limit {
            self.take_step(spikes);
        }
        self.now = target;
        Ok(())
    }

    /// `x̂` at [`Engine::time`]: the state at the last step end decayed exactly to the current
    /// time (no spike can happen between grid points).
    fn readout(&self, out: &mut [f64]) {
        let since = self.now - self.step as f64 * self.config.dt;
        let f = if since == 0.0 {
            1.0
        } else {
            (-self.lambda_d * since).exp()
        };
        for (o, x) in out.iter_mut().zip(&self.xhat) {
            *o = x * f;
        }
    }

    /// Voltages at the end of the last step taken (the stepper has no state between grid
    /// points), after that step's spikes.
    fn voltages(&self, out: &mut [f64]) {
        out[..self.n].copy_from_slice(&self.v);
    }

    /// Counts `steps`, `spikes` (all of them also `crossing_spikes`: every grid spike comes from
    /// the step-end threshold test), `deliveries` (delayed fast deliveries) and
    /// `longest_cascade` (most spikes in one step).
    fn counters(&self) -> Counters {
        self.counters
    }

    fn probe_spikes(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        probe::start(&mut self.probe, neurons, self.n)
    }

    /// Rows at the step end of each probed spike: the stepped voltages before the reset.
    fn take_spike_voltages(&mut self, out: &mut Vec<f64>) {
        probe::drain(&mut self.probe, out);
    }
}

#[cfg(test)]
mod tests;
