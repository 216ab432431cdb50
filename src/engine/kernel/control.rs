//! The kernel's [`Control`] and [`Plastic`] methods: phase changes, perturbations and what the
//! learning actor needs. Each takes effect at the current time: the interval is cut there
//! (`advance_to(now)`) and the per-neuron coefficients refreshed.

use super::Kernel;
use crate::engine::control::{Control, Plastic};
use crate::engine::queue::Event;
use crate::error::BuildError;
use crate::model::basis::LearnedCurrent;
use crate::model::signal::Signal;
use crate::time::Time;

impl Control for Kernel {
    /// Replaces the input from the current time on (a new phase: other input, no teacher
    /// feedback, …). The signal is read in absolute time.
    fn set_input(&mut self, input: Signal) -> Result<(), BuildError> {
        if input.dims() != self.d {
            return Err(BuildError::new(
                "input",
                format!("{} components (network.dims)", self.d),
                format!("{}", input.dims()),
            ));
        }
        self.advance_to(self.now);
        self.input = input;
        self.queue.cancel(&Event::InputKnot);
        let knot = self.input.next_knot_after(self.now);
        if knot.is_finite() {
            self.queue.schedule(Event::InputKnot, Time::from_secs(knot));
        }
        self.drive_segment = None;
        self.refresh_interval();
        Ok(())
    }

    /// Removes neurons from the network from the current time on: they never fire again (their
    /// past spikes still decay in the readout; a held spike of theirs is dropped). Errors name an
    /// index out of range.
    fn kill(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        crate::engine::kill(&mut self.alive, neurons)?;
        self.shared_refresh_tree();
        if self.timers.held.0.is_finite() && neurons.contains(&self.timers.held.1) {
            self.timers.held = (f64::INFINITY, 0);
        }
        // A crossing found for a neuron now dead, or a held spike dropped: search anew.
        self.search = None;
        Ok(())
    }

    /// Which neurons can still fire.
    fn alive(&self) -> &[bool] {
        &self.alive
    }

    /// Places the network at readout `xhat` at the current time, with zero coding error: every
    /// voltage is set to 0 (`V_i = D_iᵀ(x − x̂) − μ r_i` with `x = x̂`, neglecting μ r) — how a
    /// phase starts "where the teacher is", or a basin test starts from a chosen state. Needs
    /// low-rank weights (the readout then determines every slow current) and a learned basis, if
    /// any, on the readout.
    fn place_readout(&mut self, xhat: &[f64]) -> Result<(), BuildError> {
        crate::engine::check_placement(
            self.d,
            xhat,
            self.net.is_low_rank(),
            self.learned.as_ref(),
        )?;
        self.advance_to(self.now);
        self.xhat.copy_from_slice(xhat);
        self.v.fill(0.0);
        self.shared_zero();
        self.refractory.clear();
        self.refresh_interval();
        Ok(())
    }

    /// Adds independent voltage noise to every neuron from the current time on: a noise
    /// current, constant over pieces of `interval` seconds, drawn `N(0, σ²/interval)` per neuron
    /// and piece from the seed's `Noise` stream — over a piece the voltage gains variance
    /// ≈ σ² · interval, as with white noise of amplitude σ (V/√s), and the trajectories stay
    /// closed-form. `sigma = 0` removes the noise.
    fn set_voltage_noise(
        &mut self,
        sigma: f64,
        interval: f64,
        seed: u64,
    ) -> Result<(), BuildError> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(BuildError::new(
                "noise.sigma",
                "a finite non-negative amplitude",
                format!("{sigma}"),
            ));
        }
        if !(interval.is_finite() && interval > 0.0) {
            return Err(BuildError::new(
                "noise.interval",
                "a finite positive time in seconds",
                format!("{interval}"),
            ));
        }
        self.advance_to(self.now);
        if sigma == 0.0 {
            self.noise.clear();
            self.timers.noise_at = f64::INFINITY;
            self.noise_rng = None;
        } else {
            self.noise_sigma = sigma;
            self.noise_interval = interval;
            self.noise_start = self.now;
            self.noise_piece = 0;
            self.noise_rng = Some(crate::seed::rng_stream(seed, crate::seed::Stream::Noise));
            self.noise = vec![0.0; self.n];
            self.draw_noise();
        }
        self.choose_layout();
        self.drive_segment = None;
        self.refresh_interval();
        Ok(())
    }

    /// Delays one spike: the first threshold crossing at or after time `from` (s, absolute) is
    /// held, and that neuron fires `delay` seconds later instead — its reset, its readout
    /// increment and its input to the others all move with it; meanwhile it cannot fire, its
    /// voltage evolves freely above threshold. Same-instant cascade spikes are not delayed.
    /// The classic test of spike coding: the spike trains that follow differ, the readout barely
    /// does. Replaces an earlier request that has not taken effect yet.
    fn delay_next_spike(&mut self, from: f64, delay: f64) -> Result<(), BuildError> {
        crate::engine::check_delay(from, delay)?;
        self.delay_request = Some((from, delay));
        Ok(())
    }
}

impl Plastic for Kernel {
    /// [`Plastic::extend_input`]: the cached segment and look-up hint are found again by their
    /// start in the new input; the next knot, if none is queued, is queued.
    fn extend_input(&mut self, input: Signal) -> Result<(), BuildError> {
        if input.dims() != self.d {
            return Err(BuildError::new(
                "input",
                format!("{} components (network.dims)", self.d),
                format!("{}", input.dims()),
            ));
        }
        let old = &self.input;
        let remap = |seg: usize| {
            let start = *old.knots().get(seg)?;
            let j = input.segment_at(start);
            (input.knots()[j] == start).then_some(j)
        };
        // (Not found: the next refresh computes the drive again, the same numbers.)
        self.drive_segment = self.drive_segment.and_then(remap);
        self.input_hint = remap(self.input_hint).unwrap_or(0);
        self.input = input;
        if !self.queue.is_scheduled(&Event::InputKnot) {
            let knot = self.input.next_knot_after(self.now);
            if knot.is_finite() {
                self.queue.schedule(Event::InputKnot, Time::from_secs(knot));
            }
        }
        Ok(())
    }

    /// Starts (or stops) logging every inter-event interval of the readout, for the learning
    /// actor: see [`Kernel::take_intervals`].
    fn record_intervals(&mut self, on: bool) {
        self.log_intervals = on;
    }

    /// Moves the logged intervals into `out` (cleared first), flattened as
    /// `[t0, t1, x̂(t0)…]` (2 + d numbers each; between `t0` and `t1`,
    /// `x̂(t) = x̂(t0) e^{−λ_d (t − t0)}`), followed by `r(t0)` (N more) when the learned current's
    /// basis reads the spike trains. Intervals cover time up to the last event or
    /// [`Kernel::flush`].
    fn take_intervals(&mut self, out: &mut Vec<f64>) {
        out.clear();
        std::mem::swap(out, &mut self.intervals);
    }

    /// Makes the current time an interval boundary (an event without effects), so that logged
    /// intervals reach it. The spikes that follow are unchanged up to rounding.
    fn flush(&mut self) {
        self.advance_to(self.now);
        // (Refreshed by the next call that needs it: a learning epoch changes the weights next.)
        self.stale = true;
    }

    /// Announces the boundary at `t` (> now): the crossing search of the interval that reaches it
    /// ends there instead of at the next event beyond, where the epoch's change of the weights
    /// would discard it. The boundary is an interval boundary (as `flush` there).
    fn boundary_at(&mut self, t: f64) {
        if t > self.now && t < self.timers.boundary {
            // (A search in progress stays valid: what it proved or found beyond `t` holds.)
            self.timers.boundary = t;
        }
    }

    /// Replaces the low-rank slow core `M` (`Ω_s = Dᵀ M D`) from the current time on: the way
    /// learned linear weights and the feedback gain enter (`M = L + U − K I`).
    fn set_slow_core(&mut self, core: &[f64]) -> Result<(), BuildError> {
        self.advance_to(self.now);
        self.net.set_slow_core(core)?;
        self.refresh_interval();
        Ok(())
    }

    /// Adds (or removes) a learned slow current `U Ψ(x̂)` from the current time on; neuron i
    /// receives `D_iᵀ U Ψ(x̂(t))`, fitted by polynomials in time after every event
    /// (`LearnedCurrent::fit_into`).
    fn set_learned_current(&mut self, learned: Option<LearnedCurrent>) -> Result<(), BuildError> {
        if let Some(l) = &learned {
            l.check_fits(self.d, self.n)?;
        }
        self.advance_to(self.now);
        self.learned = learned;
        self.timers.refit_at = f64::INFINITY;
        self.choose_layout();
        self.refresh_interval();
        Ok(())
    }

    /// The learned current, if any.
    fn learned_current(&self) -> Option<&LearnedCurrent> {
        self.learned.as_ref()
    }

    /// Replaces the learned weights `U` of the learned current from the current time on.
    fn set_learned_weights(&mut self, u: &[f64]) -> Result<(), BuildError> {
        let Some(l) = &mut self.learned else {
            return Err(BuildError::new(
                "weights",
                "a learned current to update",
                "none",
            ));
        };
        if u.len() != l.weights().len() {
            return Err(BuildError::new(
                "weights",
                format!("{} learned weights", l.weights().len()),
                format!("{}", u.len()),
            ));
        }
        self.advance_to(self.now);
        if let Some(l) = &mut self.learned {
            l.set_weights(u);
        }
        self.refresh_interval();
        Ok(())
    }

    /// Sets (or removes) the fixed offset `P` (row-major N × N_b) of the learned current from
    /// the current time on: neuron i then receives `D_iᵀ U Ψ + P_i Ψ`
    /// ([`LearnedCurrent::set_offsets`]). Needs a learned current.
    fn set_learned_offsets(&mut self, offsets: Option<Vec<f64>>) -> Result<(), BuildError> {
        crate::model::basis::check_offsets(self.learned.as_ref(), self.n, offsets.as_deref())?;
        self.advance_to(self.now);
        if let Some(l) = &mut self.learned {
            l.set_offsets(offsets)?;
        }
        self.choose_layout();
        self.refresh_interval();
        Ok(())
    }
}
