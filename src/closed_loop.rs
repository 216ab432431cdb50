//! Closed loops: a controller reads the readout at a control period and sets the input for the
//! next period, in lockstep with the simulation.
//!
//! The run is cut into periods `[t_k, t_{k+1})`, `t_k = t_start + k · period` (the last one ends
//! at [`ClosedLoopConfig::until`]). At each `t_k` the controller receives an [`Observation`] —
//! the exact readout `x̂(t_k)` — and answers with the control `u_k` (d components). The input
//! over the period is then `u_k`, constant, plus the [`ClosedLoopConfig::exogenous`] signal
//! (a disturbance, a reference drive) when there is one.
//!
//! - **Lockstep.** The engine does not enter a period before its input is known: it waits for
//!   the controller's answer. Within a period the input is a fixed signal, so the run stays
//!   exact there (continuous voltages across each change, [`Simulation::set_input`]); the same
//!   controller gives the same spikes, to the bit, with [`closed_loop`] (in this thread),
//!   [`closed_loop_async`] or a hand-written controller on [`spawn_plant`]'s channels.
//! - **Latency.** The control is a zero-order hold sampled at the period: `u_k` sees `x̂` only at
//!   `t_k`, so what the network does inside a period reaches the input at the next boundary —
//!   one period of latency at most (a sampled controller's usual delay). Choose the period
//!   well below the plant's time constants.
//! - **Stopping.** A controller that goes away (channels closed) stops the run at the current
//!   boundary: the result is then [`ClosedLoopError::Stopped`] with what was recorded.
//!
//! ```
//! use ebnsim::prelude::*;
//! use ebnsim::closed_loop::{closed_loop, ClosedLoopConfig};
//! // One dimension, a leaky readout: hold x̂ at 0.5 with an integral controller.
//! let network = NetworkBuilder::new(vec![vec![0.1, -0.1, 0.1, -0.1]]).lambda_d(10.0).mu(1e-4).build()?;
//! let sim = Simulation::builder(network, Signal::zero(1)).build()?;
//! let config = ClosedLoopConfig { period: 0.01, until: 2.0, exogenous: None };
//! let mut integral = 0.0;
//! let recorded = closed_loop(sim, &config, |_t, xhat| {
//!     integral += 0.01 * (0.5 - xhat[0]);
//!     vec![10.0 * (0.5 - xhat[0]) + 50.0 * integral]
//! })?;
//! assert!(!recorded.spikes.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{BuildError, SimError};
use crate::model::signal::Signal;
use crate::simulation::{Recorded, Simulation};
use async_channel::{Receiver, Sender};
use std::thread::JoinHandle;

/// The control period and the run of a closed loop.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedLoopConfig {
    /// The control period, s (finite, positive).
    pub period: f64,
    /// The time the run goes to, s (not before the simulation's current time).
    pub until: f64,
    /// An input added to the control (read in absolute time, d components): a disturbance or a
    /// drive the controller does not set. `None`: the input is the control alone.
    pub exogenous: Option<Signal>,
}

/// What the controller receives at the start of each period.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The period's start `t_k`, s.
    pub time: f64,
    /// The readout `x̂(t_k)`, d components (exact).
    pub readout: Vec<f64>,
}

/// Why a closed loop ended early.
#[derive(Debug, thiserror::Error)]
pub enum ClosedLoopError {
    /// The controller went away (a channel closed): the run stopped at `at`.
    #[error("closed loop stopped at t = {at} s: the controller's channel was closed")]
    Stopped {
        /// The time the run reached, s.
        at: f64,
        /// Everything recorded up to `at`.
        recorded: Box<Recorded>,
    },
    /// A bad configuration or control (wrong number of components, not finite).
    #[error(transparent)]
    Input(#[from] BuildError),
    /// The simulation failed (e.g. a same-instant cascade past the limit).
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// The simulation's ends of a closed loop run by [`spawn_plant`]: the controller receives
/// observations and sends controls (one per observation, in order).
#[derive(Debug)]
pub struct Plant {
    /// One observation per period, in time order (capacity 1).
    pub observations: Receiver<Observation>,
    /// The control for the period just observed (capacity 1).
    pub controls: Sender<Vec<f64>>,
    /// The simulation thread; its result is the whole run's [`Recorded`].
    pub handle: JoinHandle<Result<Recorded, ClosedLoopError>>,
}

impl ClosedLoopConfig {
    fn check(&self, now: f64) -> Result<(), BuildError> {
        if !(self.period.is_finite() && self.period > 0.0) {
            return Err(BuildError::new(
                "closed_loop.period",
                "a finite positive period in seconds",
                format!("{}", self.period),
            ));
        }
        crate::simulation::check_until("closed_loop.until", self.until, now)
    }
}

/// The lockstep loop: `exchange` gets each observation and returns its control (`None`: the
/// controller is gone).
fn run_plant(
    mut sim: Simulation,
    config: &ClosedLoopConfig,
    mut exchange: impl FnMut(Observation) -> Option<Vec<f64>>,
) -> Result<Recorded, ClosedLoopError> {
    config.check(sim.time())?;
    let start = sim.time();
    let mut k: u64 = 0;
    while sim.time() < config.until {
        let time = sim.time();
        let obs = Observation {
            time,
            readout: sim.readout_now(),
        };
        let Some(u) = exchange(obs) else {
            return Err(ClosedLoopError::Stopped {
                at: time,
                recorded: Box::new(sim.finish()),
            });
        };
        if let Some(bad) = u.iter().find(|v| !v.is_finite()) {
            return Err(BuildError::new(
                "closed_loop.control",
                "finite values",
                format!("{bad} at t = {time} s"),
            )
            .into());
        }
        let control = Signal::constant(&u);
        let input = match &config.exogenous {
            Some(e) => e.linear_combination(1.0, &control, 1.0)?,
            None => control,
        };
        sim.set_input(input)?;
        k += 1;
        sim.run_until((start + k as f64 * config.period).min(config.until))?;
    }
    Ok(sim.finish())
}

/// Runs `sim` in a closed loop with `controller` in this thread: at each period start `t`,
/// `controller(t, x̂(t))` returns the control for the period (see [`crate::closed_loop`]).
/// Returns what the run recorded.
pub fn closed_loop(
    sim: Simulation,
    config: &ClosedLoopConfig,
    mut controller: impl FnMut(f64, &[f64]) -> Vec<f64>,
) -> Result<Recorded, ClosedLoopError> {
    run_plant(sim, config, |obs| Some(controller(obs.time, &obs.readout)))
}

/// The plant side of a lockstep exchange over channels.
fn channel_exchange(
    obs_tx: Sender<Observation>,
    ctl_rx: Receiver<Vec<f64>>,
) -> impl FnMut(Observation) -> Option<Vec<f64>> {
    move |obs| {
        obs_tx.send_blocking(obs).ok()?;
        ctl_rx.recv_blocking().ok()
    }
}

/// Moves `sim` to a new thread that runs the closed loop over channels: it sends an
/// [`Observation`] at each period start and waits for the control before entering the period.
/// Drive it from an async task (`recv().await`, `send().await`) or a thread. Errors name a bad
/// configuration; nothing is spawned then.
pub fn spawn_plant(sim: Simulation, config: ClosedLoopConfig) -> Result<Plant, BuildError> {
    config.check(sim.time())?;
    let (obs_tx, observations) = async_channel::bounded(1);
    let (controls, ctl_rx) = async_channel::bounded(1);
    let handle =
        std::thread::spawn(move || run_plant(sim, &config, channel_exchange(obs_tx, ctl_rx)));
    Ok(Plant {
        observations,
        controls,
        handle,
    })
}

/// [`closed_loop`] with the simulation on a Tokio blocking thread (`spawn_blocking`) and the
/// controller in this async task, over channels both ways. Needs a Tokio runtime.
pub async fn closed_loop_async(
    sim: Simulation,
    config: ClosedLoopConfig,
    mut controller: impl FnMut(f64, &[f64]) -> Vec<f64>,
) -> Result<Recorded, ClosedLoopError> {
    config.check(sim.time())?;
    let (obs_tx, obs_rx) = async_channel::bounded::<Observation>(1);
    let (ctl_tx, ctl_rx) = async_channel::bounded(1);
    let plant = tokio::task::spawn_blocking(move || {
        run_plant(sim, &config, channel_exchange(obs_tx, ctl_rx))
    });
    while let Ok(obs) = obs_rx.recv().await {
        if ctl_tx
            .send(controller(obs.time, &obs.readout))
            .await
            .is_err()
        {
            break;
        }
    }
    drop(ctl_tx);
    match plant.await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
