//! The stepper's [`Control`] and [`Plastic`] methods: phase changes, perturbations and what the
//! learning actor needs, each from the next step on.

use super::{DenseStepper, Store};
use crate::engine::control::{Control, Plastic};
use crate::error::BuildError;
use crate::model::basis::LearnedCurrent;
use crate::model::signal::Signal;

impl Control for DenseStepper {
    /// Replaces the input from the current time on (read in absolute time).
    fn set_input(&mut self, input: Signal) -> Result<(), BuildError> {
        if input.dims() != self.d {
            return Err(BuildError::new(
                "input",
                format!("{} components (network.dims)", self.d),
                format!("{}", input.dims()),
            ));
        }
        self.input = input;
        Ok(())
    }

    /// Removes neurons: they never fire again (a held spike of theirs is dropped).
    fn kill(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        crate::engine::kill(&mut self.alive, neurons)?;
        if self.held.is_some_and(|(_, j)| neurons.contains(&j)) {
            self.held = None;
        }
        Ok(())
    }

    /// Which neurons can still fire.
    fn alive(&self) -> &[bool] {
        &self.alive
    }

    /// Places the network at readout `xhat` with zero coding error (every voltage 0), as
    /// [`crate::engine::kernel::Kernel::place_readout`]; the filtered spike trains are left as they are.
    /// Needs low-rank weights and a learned basis, if any, on the readout.
    fn place_readout(&mut self, xhat: &[f64]) -> Result<(), BuildError> {
        crate::engine::check_placement(
            self.d,
            xhat,
            matches!(self.store, Store::LowRank { .. }),
            self.learned.as_ref(),
        )?;
        // The state lives at the last step end; `readout` decays it to `now`.
        let since = self.now - self.step as f64 * self.config.dt;
        let grow = (self.lambda_d * since).exp();
        for (x, y) in self.xhat.iter_mut().zip(xhat) {
            *x = y * grow;
        }
        self.v.fill(0.0);
        Ok(())
    }

    /// Adds voltage noise `σ √dt N(0, 1)` to every neuron at every step (the prototype's update;
    /// white noise of amplitude σ, V/√s), drawn from the seed's `Noise` stream. `sigma = 0`
    /// removes it.
    fn set_voltage_noise(
        &mut self,
        sigma: f64,
        _interval: f64,
        seed: u64,
    ) -> Result<(), BuildError> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(BuildError::new(
                "noise.sigma",
                "a finite non-negative amplitude",
                format!("{sigma}"),
            ));
        }
        self.noise_sigma = sigma;
        self.noise_rng =
            (sigma > 0.0).then(|| crate::seed::rng_stream(seed, crate::seed::Stream::Noise));
        Ok(())
    }

    /// Delays one spike, as [`crate::engine::kernel::Kernel::delay_next_spike`]: the first spike due at
    /// a step end at or after `from` is held and fires `max(1, round(delay / dt))` steps later
    /// (at that step end, before the spike test).
    fn delay_next_spike(&mut self, from: f64, delay: f64) -> Result<(), BuildError> {
        crate::engine::check_delay(from, delay)?;
        self.delay_request = Some((from, delay));
        Ok(())
    }
}

impl Plastic for DenseStepper {
    /// Starts (or stops) logging every step as a readout interval `[t0, t1, x̂(t0)…]` (the
    /// layout of [`crate::engine::kernel::Kernel::take_intervals`]; between step ends the readout decays
    /// exactly).
    fn record_intervals(&mut self, on: bool) {
        self.log_intervals = on;
    }

    /// Moves the logged intervals into `out` (cleared first).
    fn take_intervals(&mut self, out: &mut Vec<f64>) {
        out.clear();
        std::mem::swap(out, &mut self.intervals);
    }

    /// Steps are the intervals: epochs should be whole numbers of steps.
    fn flush(&mut self) {}

    /// Nothing to stop: every step is its own interval.
    fn boundary_at(&mut self, _t: f64) {}

    /// Replaces the low-rank slow core `M` (`Ω_s = Dᵀ M D`) from the next step on.
    fn set_slow_core(&mut self, core: &[f64]) -> Result<(), BuildError> {
        let d = self.d;
        match &mut self.store {
            Store::LowRank { core: c }
                if core.len() == d * d && core.iter().all(|x| x.is_finite()) =>
            {
                c.copy_from_slice(core);
                Ok(())
            }
            Store::LowRank { .. } => Err(BuildError::new(
                "slow core",
                format!("{d}×{d} finite entries"),
                format!("{} entries", core.len()),
            )),
            Store::Dense { .. } => Err(BuildError::new(
                "network.weights",
                "low-rank weights to change the slow core",
                "dense weights",
            )),
        }
    }

    /// Adds (or removes) a learned slow current `U Ψ(x̂)`, held at its step-start value over
    /// each step (as the published code does).
    fn set_learned_current(&mut self, learned: Option<LearnedCurrent>) -> Result<(), BuildError> {
        if let Some(l) = &learned {
            l.check_fits(self.d, self.n)?;
        }
        self.learned_offsets = if learned.as_ref().is_some_and(|l| l.offsets().is_some()) {
            vec![0.0; self.n]
        } else {
            Vec::new()
        };
        self.learned = learned;
        Ok(())
    }

    /// The learned current, if any.
    fn learned_current(&self) -> Option<&LearnedCurrent> {
        self.learned.as_ref()
    }

    /// Replaces the learned weights `U`.
    fn set_learned_weights(&mut self, u: &[f64]) -> Result<(), BuildError> {
        match &mut self.learned {
            Some(l) if l.weights().len() == u.len() => {
                l.set_weights(u);
                Ok(())
            }
            Some(l) => Err(BuildError::new(
                "weights",
                format!("{} learned weights", l.weights().len()),
                format!("{}", u.len()),
            )),
            None => Err(BuildError::new(
                "weights",
                "a learned current to update",
                "none",
            )),
        }
    }

    /// Sets (or removes) the fixed offset `P` (row-major N × N_b) of the learned current from
    /// the next step on: neuron i also receives `P_i Ψ`, held at its step-start value like the
    /// rest of the learned current ([`LearnedCurrent::set_offsets`]). Needs a learned current.
    fn set_learned_offsets(&mut self, offsets: Option<Vec<f64>>) -> Result<(), BuildError> {
        crate::model::basis::check_offsets(self.learned.as_ref(), self.n, offsets.as_deref())?;
        let have = offsets.is_some();
        if let Some(l) = &mut self.learned {
            l.set_offsets(offsets)?;
        }
        self.learned_offsets = if have { vec![0.0; self.n] } else { Vec::new() };
        Ok(())
    }
}
