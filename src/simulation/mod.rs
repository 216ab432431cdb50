//! The facade: one [`Simulation`] built from a model file ([`Simulation::from_model`]) or from
//! code ([`Simulation::builder`]), run with [`Simulation::run_until`] / [`Simulation::run_for`],
//! observed through its spike list, readout samples and state monitor.
//!
//! Why one type: a study should not have to choose between three engine types and box them
//! behind a trait object. The engine is chosen once (exact kernel, or the dense stepper with its
//! time step, integrator and spike rule); [`Simulation::run_until`] dispatches to it once per
//! call and the engine's own loop does the rest, so nothing is paid per event. A `Simulation` is
//! `Send`: an ensemble can move it to a worker thread.
//!
//! Sampling: the readout (and target) every `readout_dt` and the state monitor every `dt` are
//! taken exactly at `k · dt` (k = 0, 1, …): `run_until(t)` advances the engine to each sample
//! time before `t` in turn, then to `t`, and takes the samples due at `t` there. Stopping there
//! never changes the spikes, to the bit: the exact kernel keeps its crossing search across stops
//! (a stop never cuts a search window), and the stepper's grid does not depend on them — so the
//! spikes are the same for any readout interval, any state monitor and any split of a run into
//! `run_until` calls (tested on grazing trajectories).

mod builder;

pub use builder::{EngineChoice, SimulationBuilder};

use crate::engine::counters::Counters;
use crate::engine::dense::DenseStepper;
use crate::engine::kernel::Kernel;
use crate::engine::{Control, Engine, Spike};
use crate::error::{BuildError, SimError};
use crate::io::record::Readout;
use crate::model::network::Network;
use crate::model::teacher::LinearTeacher;
use crate::monitor::{StateMonitor, StateRecord};
use crate::time::Time;

/// The engine a simulation runs on: chosen once, dispatched once per `run_until`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
enum Core {
    Exact(Box<Kernel>),
    Dense(Box<DenseStepper>),
}

impl Core {
    fn engine(&self) -> &dyn Engine {
        match self {
            Core::Exact(k) => k.as_ref(),
            Core::Dense(s) => s.as_ref(),
        }
    }
    fn engine_mut(&mut self) -> &mut dyn Engine {
        match self {
            Core::Exact(k) => k.as_mut(),
            Core::Dense(s) => s.as_mut(),
        }
    }
    fn control_mut(&mut self) -> &mut dyn Control {
        match self {
            Core::Exact(k) => k.as_mut(),
            Core::Dense(s) => s.as_mut(),
        }
    }
}

/// Readout samples every `dt`, with the target when there is one.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
struct ReadoutMonitor {
    dt: f64,
    next: u64,
    teacher: Option<LinearTeacher>,
    readout: Readout,
    xhat: Vec<f64>,
    x: Vec<f64>,
}

impl ReadoutMonitor {
    fn next_time(&self) -> f64 {
        self.next as f64 * self.dt
    }
}

/// A network, its input and an engine, advanced in time on request.
///
/// ```
/// use ebnsim::prelude::*;
/// let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
/// let mut sim = Simulation::from_model(&model).build()?;
/// sim.run_until(0.5)?;
/// sim.run_for(0.5)?;
/// assert_eq!(sim.time(), 1.0);
/// assert!(!sim.spikes().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct Simulation {
    core: Core,
    network_dims: usize,
    network_neurons: usize,
    spikes: Vec<Spike>,
    /// Spikes already shown to the state monitor.
    seen: usize,
    /// Per neuron: whether the spike monitor records it (`None`: every neuron).
    spike_filter: Option<Vec<bool>>,

    readout: Option<ReadoutMonitor>,
    state: Option<StateMonitor>,
}

impl Simulation {
    /// Starts building a simulation of `network` driven by `input` (see [`SimulationBuilder`]).
    pub fn builder(network: Network, input: crate::model::signal::Signal) -> SimulationBuilder {
        SimulationBuilder::new(network, input)
    }

    /// Starts building the simulation a model file describes: its network, input, target
    /// (the readout is compared against it), engine, cascade limit, readout interval and state
    /// monitor. Builder calls override the file's choices.
    pub fn from_model(model: &crate::io::model_file::Model) -> SimulationBuilder {
        SimulationBuilder::from_model(model)
    }

    /// Time up to which the simulation has run, s.
    pub fn time(&self) -> f64 {
        self.core.engine().time().secs()
    }

    /// Runs every event at or before `t` (s), taking the samples due on the way.
    ///
    /// A `t` before the current time is an error of the engine ([`SimError`]), as is a
    /// same-instant cascade past the limit; the simulation stays at the last time it reached.
    pub fn run_until(&mut self, t: f64) -> Result<(), SimError> {
        // Samples strictly before t on the way, then t itself, then the samples due at t: the
        // engine is advanced once to each distinct time.
        loop {
            let next = self.next_sample();
            if next >= t {
                break;
            }
            self.advance(next)?;
            self.take_samples(next)?;
        }
        self.advance(t)?;
        self.take_samples(t)
    }

    /// The earliest sample time of any monitor.
    fn next_sample(&self) -> f64 {
        let r = self
            .readout
            .as_ref()
            .map_or(f64::INFINITY, |r| r.next_time());
        let s = self.state.as_ref().map_or(f64::INFINITY, |s| s.next_time());
        r.min(s)
    }

    /// Takes every sample due at `t` (the engine is at `t`).
    fn take_samples(&mut self, t: f64) -> Result<(), SimError> {
        if self.readout.as_ref().is_some_and(|r| r.next_time() == t) {
            self.sample_readout()?;
        }
        self.show_spikes();
        if self.state.as_ref().is_some_and(|s| s.next_time() == t) {
            let engine = self.core.engine();
            if let Some(s) = &mut self.state {
                s.sample(|v| engine.voltages(v));
            }
        }
        Ok(())
    }

    /// Replaces the input from the current time on (read in absolute time, d components): the
    /// engine's [`Control::set_input`]. Voltages stay continuous — only their slopes change —
    /// and the run stays exact across the change (the closed forms are re-based at the switch,
    /// so later spikes may differ by rounding, a few ulps, from a run without it — even a switch
    /// to the same input; tested in `tests/stream.rs`). A readout target, if any, keeps following
    /// the input the simulation was built with. Errors name a wrong number of components or a value that is not finite.
    pub fn set_input(&mut self, input: crate::model::signal::Signal) -> Result<(), BuildError> {
        input.check_finite(
            "input",
            "finite values (a finite polynomial on every segment)",
        )?;
        self.core.control_mut().set_input(input)
    }

    /// Runs on for `dt` seconds ([`Simulation::run_until`] of `time() + dt`).
    pub fn run_for(&mut self, dt: f64) -> Result<(), SimError> {
        self.run_until(self.time() + dt)
    }

    fn advance(&mut self, t: f64) -> Result<(), SimError> {
        let now = self.time();
        let time = Time::new(t).ok_or(SimError::InvalidTarget { now, target: t })?;
        self.core.engine_mut().run_until(time, &mut self.spikes)
    }

    fn sample_readout(&mut self) -> Result<(), SimError> {
        let Some(r) = &mut self.readout else {
            return Ok(());
        };
        let t = r.next_time();
        self.core.engine().readout(&mut r.xhat);
        match &r.teacher {
            Some(teacher) => {
                teacher.state_at(t, &mut r.x);
                SimError::check_sample(t, &r.xhat, Some(&r.x))?;
                r.readout.push(t, &r.xhat, Some(&r.x));
            }
            None => {
                SimError::check_sample(t, &r.xhat, None)?;
                r.readout.push(t, &r.xhat, None);
            }
        }
        r.next += 1;
        Ok(())
    }

    /// Shows the spikes since the last call to the state monitor (with the probe's rows when it
    /// samples at spikes), then drops those the spike monitor does not record.
    fn show_spikes(&mut self) {
        if let Some(s) = &mut self.state {
            s.observe(self.core.engine_mut(), &self.spikes[self.seen..]);
        }
        if let Some(keep) = &self.spike_filter {
            let mut w = self.seen;
            for r in self.seen..self.spikes.len() {
                let sp = self.spikes[r];
                if keep[sp.neuron as usize] {
                    self.spikes[w] = sp;
                    w += 1;
                }
            }
            self.spikes.truncate(w);
        }
        self.seen = self.spikes.len();
    }

    /// Every spike recorded so far (of every neuron, or of those chosen with
    /// [`SimulationBuilder::record_spikes`]), in firing order.
    pub fn spikes(&self) -> &[Spike] {
        &self.spikes
    }

    /// Drops the spikes and samples recorded so far (what [`Simulation::spikes`],
    /// [`Simulation::readout`] and [`Simulation::state`] return), keeping every monitor running:
    /// a long run written out piece by piece (as `ebnsim run` does) keeps its memory flat in
    /// simulated time. What is recorded afterwards is exactly what the run would have appended.
    ///
    /// ```
    /// use ebnsim::prelude::*;
    /// let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
    /// let mut whole = Simulation::from_model(&model).build()?;
    /// whole.run_until(0.4)?;
    /// let mut pieces = Simulation::from_model(&model).build()?;
    /// pieces.run_until(0.2)?;
    /// let mut spikes = pieces.spikes().to_vec();
    /// pieces.forget_recorded();
    /// pieces.run_until(0.4)?;
    /// spikes.extend_from_slice(pieces.spikes());
    /// assert_eq!(spikes, whole.spikes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn forget_recorded(&mut self) {
        // Spikes not yet shown to the state monitor stay (none after `run_until` returns).
        self.spikes.drain(..self.seen);
        self.seen = 0;
        if let Some(r) = &mut self.readout {
            r.readout.clear();
        }
        if let Some(s) = &mut self.state {
            s.forget();
        }
    }

    /// The readout `x̂` now, d components.
    pub fn readout_now(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.network_dims];
        self.core.engine().readout(&mut out);
        out
    }

    /// Every voltage now, N components.
    pub fn voltages_now(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.network_neurons];
        self.core.engine().voltages(&mut out);
        out
    }

    /// The readout (and target) samples so far; `None` when no readout interval was set.
    pub fn readout(&self) -> Option<&Readout> {
        self.readout.as_ref().map(|r| &r.readout)
    }

    /// The state monitor's samples so far; `None` without a state monitor.
    pub fn state(&self) -> Option<&StateRecord> {
        self.state.as_ref().map(StateMonitor::record)
    }

    /// What the engine did so far.
    pub fn counters(&self) -> Counters {
        self.core.engine().counters()
    }

    /// Ends the simulation and hands over what it recorded.
    pub fn finish(self) -> Recorded {
        Recorded {
            spikes: self.spikes,
            readout: self.readout.map(|r| r.readout),
            state: self.state.map(StateMonitor::into_record),
            counters: self.core.engine().counters(),
        }
    }
}

/// Checks the end time `until` (s) of a run driven from outside (a stream, a closed loop):
/// finite and not before `now`; the error names `field`.
pub(crate) fn check_until(
    field: &str,
    until: f64,
    now: f64,
) -> Result<(), crate::error::BuildError> {
    if !(until.is_finite() && until >= now) {
        return Err(crate::error::BuildError::new(
            field,
            format!("a finite time not before the current t = {now} s"),
            format!("{until}"),
        ));
    }
    Ok(())
}

/// What a finished [`Simulation`] recorded.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Every spike, in firing order.
    pub spikes: Vec<Spike>,
    /// Readout (and target) samples, if a readout interval was set.
    pub readout: Option<Readout>,
    /// State-monitor samples, if a state monitor was set.
    pub state: Option<StateRecord>,
    /// What the engine did.
    pub counters: Counters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulation_is_send() {
        fn send<T: Send>() {}
        send::<Simulation>();
        send::<SimulationBuilder>();
    }
}
