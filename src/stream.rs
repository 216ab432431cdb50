//! Streams: a [`Simulation`] runs on its own thread and sends what it records, slice by slice,
//! over a bounded [`async_channel`] — to an async task (`recv().await`) or a thread
//! (`recv_blocking()`) alike.
//!
//! [`Simulation::stream`] moves the simulation to a new thread, which runs it to
//! [`StreamConfig::until`] in slices of [`StreamConfig::batch`] simulated seconds and sends one
//! [`Batch`] per slice: the spikes, readout samples and state samples that slice added.
//!
//! - **Slices.** Batch k covers `(t_k, t_{k+1}]` with `t_k = t_start + k · batch` (the last one
//!   ends at `until`): it holds what `run_until(t_{k+1})` recorded — every spike at or before
//!   `t_{k+1}` not sent before, and the samples due in the slice, those at `t_{k+1}` included. The
//!   first batch also holds the samples due at the start time when they were not yet taken (the
//!   samples at t = 0 of a fresh simulation).
//! - **Ordering.** Batches arrive in time order, contiguous and without overlap; within a batch,
//!   spikes are in firing order and samples in time order. Concatenated, the batches are exactly
//!   the records of the same run without streaming (where a run stops never changes a spike, to
//!   the bit; tested).
//! - **Back-pressure.** The channel holds at most [`StreamConfig::capacity`] batches. When it is
//!   full, the simulation thread waits (`send_blocking`) until the receiver takes one: the
//!   engine is then at most `capacity + 1` slices ahead of the consumer, and nothing is ever
//!   dropped.
//! - **Stopping.** Closing (or dropping) the receiver stops the run at the end of the slice
//!   being sent: the thread's result is then [`StreamError::Stopped`], with the time reached and
//!   everything recorded so far — not a panic. A simulation error (a cascade past the limit)
//!   ends the stream with [`StreamError::Sim`]. After the last batch the channel closes, and the
//!   thread returns the whole run's [`Recorded`] (the simulation keeps its records as usual).
//!
//! ```
//! use ebnsim::prelude::*;
//! use ebnsim::stream::StreamConfig;
//! let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
//! let sim = Simulation::from_model(&model).build()?;
//! let (batches, handle) = sim.stream(StreamConfig { until: 0.3, batch: 0.1, capacity: 2 })?;
//! let mut spikes = 0;
//! while let Ok(batch) = batches.recv_blocking() {
//!     spikes += batch.spikes.len();
//! }
//! let recorded = handle.join().expect("no panic")?;
//! assert_eq!(spikes, recorded.spikes.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Learning runs
//!
//! [`stream_learning`] runs the phases of a learning model (what `ebnsim learn` runs:
//! [`crate::learning::protocol::run_phases`], with the same output to the bit) on a new thread
//! and sends its progress as [`LearnProgress`](crate::learning::protocol::LearnProgress)
//! messages, in run order: each phase's start, its learning-curve points (field error and
//! window NRMSE; together exactly the output's `curve`) and the simulated time now and then
//! (about 1000 per run), and its end with its [`PhaseReport`](crate::learning::protocol::PhaseReport).
//! Back-pressure is the same (a full channel makes the run wait, nothing is dropped); closing
//! the receiver stops the run at its next message with
//! [`LearnError::Stopped`](crate::learning::protocol::LearnError::Stopped) and the time
//! reached; otherwise the thread returns the [`LearnOutput`](crate::learning::protocol::LearnOutput).
//!
//! ```
//! use ebnsim::learning::protocol::{LearnProgress, PhaseOptions};
//! let model = ebnsim::io::model_file::parse_learning(
//!     r#"
//!     name = "tiny"
//!     seed = 3
//!     [network]
//!     neurons = 20
//!     dims = 2
//!     lambda_d = 10.0
//!     mu = 2.5e-5
//!     decoder = { random = "normal", scale = 0.05, normalize = true }
//!     [target]
//!     kind = "van_der_pol"
//!     initial = [1.0, 0.0]
//!     [basis]
//!     kind = "monomials"
//!     degree = 3
//!     [[phase]]
//!     name = "train"
//!     duration = 0.1
//!     input = { kind = "ou", tau = 0.05, sigma = 2.0 }
//!     feedback_gain = 30.0
//!     learning_rate = 100.0
//!     "#,
//!     std::path::Path::new("tiny.toml"),
//! )?;
//! let (messages, handle) = ebnsim::stream::stream_learning(model, PhaseOptions::default(), 8)?;
//! let mut curve = Vec::new();
//! while let Ok(message) = messages.recv_blocking() {
//!     match message {
//!         LearnProgress::Curve(point) => curve.push(point),
//!         LearnProgress::PhaseEnded { report, .. } => assert_eq!(report.name, "train"),
//!         _ => {}
//!     }
//! }
//! let out = handle.join().expect("no panic")?;
//! assert_eq!(curve.len(), out.curve.len());
//! assert!(curve.iter().zip(&out.curve).all(|(a, b)| a.time == b.time));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod learning;
pub use learning::{stream_learning, LearnStream};

use crate::engine::Spike;
use crate::error::{BuildError, SimError};
use crate::io::record::Readout;
use crate::monitor::{SpikeSamples, StateRecord};
use crate::simulation::{Recorded, Simulation};
use std::thread::JoinHandle;

/// How a [`Simulation::stream`] runs and batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamConfig {
    /// The time the run goes to, s (not before the simulation's current time).
    pub until: f64,
    /// The length of a slice, simulated seconds (finite, positive).
    pub batch: f64,
    /// How many batches the channel holds before the simulation waits (at least 1).
    pub capacity: usize,
}

/// What one slice `(t0, t1]` of a streamed run recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Start of the slice (exclusive, except for samples due at the start of the stream), s.
    pub t0: f64,
    /// End of the slice (inclusive), s.
    pub t1: f64,
    /// The slice's spikes, in firing order (those [`crate::SimulationBuilder::record_spikes`]
    /// keeps).
    pub spikes: Vec<Spike>,
    /// The slice's readout (and target) samples; `None` without a readout interval.
    pub readout: Option<Readout>,
    /// The slice's state-monitor samples (and samples at spikes), with the monitor's columns;
    /// `None` without a state monitor.
    pub state: Option<StateRecord>,
}

/// Why a streamed run ended early.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The receiver was closed or dropped: the run stopped cleanly at `at`.
    #[error("stream stopped at t = {at} s: its receiver was closed")]
    Stopped {
        /// The time the run reached, s.
        at: f64,
        /// Everything recorded up to `at`.
        recorded: Box<Recorded>,
    },
    /// The simulation failed (e.g. a same-instant cascade past the limit).
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// Where each record stood after the last batch.
#[derive(Clone, Copy, Debug, Default)]
struct Marks {
    spikes: usize,
    readout: usize,
    state: usize,
    at_spikes: usize,
}

impl Marks {
    fn now(sim: &Simulation) -> Marks {
        Marks {
            spikes: sim.spikes().len(),
            readout: sim.readout().map_or(0, Readout::len),
            state: sim.state().map_or(0, StateRecord::len),
            at_spikes: sim
                .state()
                .and_then(|s| s.at_spikes.as_ref())
                .map_or(0, SpikeSamples::len),
        }
    }
}

fn readout_since(r: &Readout, from: usize) -> Readout {
    let d = r.dims;
    Readout {
        dims: d,
        times: r.times[from..].to_vec(),
        xhat: r.xhat[from * d..].to_vec(),
        x: r.x.as_ref().map(|x| x[from * d..].to_vec()),
    }
}

fn state_since(s: &StateRecord, from: usize, from_spikes: usize) -> StateRecord {
    let c = s.columns.len();
    StateRecord {
        columns: s.columns.clone(),
        times: s.times[from..].to_vec(),
        values: s.values[from * c..].to_vec(),
        at_spikes: s.at_spikes.as_ref().map(|a| SpikeSamples {
            times: a.times[from_spikes..].to_vec(),
            neurons: a.neurons[from_spikes..].to_vec(),
            values: a.values[from_spikes * c..].to_vec(),
        }),
    }
}

impl StreamConfig {
    fn check(&self, now: f64) -> Result<(), BuildError> {
        if !(self.batch.is_finite() && self.batch > 0.0) {
            return Err(BuildError::new(
                "stream.batch",
                "a finite positive slice length in seconds",
                format!("{}", self.batch),
            ));
        }
        if self.capacity == 0 {
            return Err(BuildError::new(
                "stream.capacity",
                "at least 1 batch",
                "0".to_string(),
            ));
        }
        crate::simulation::check_until("stream.until", self.until, now)
    }
}

impl Simulation {
    /// Runs this simulation to `config.until` on a new thread, sending one [`Batch`] per slice
    /// of `config.batch` simulated seconds over a channel of `config.capacity` batches (see
    /// [`crate::stream`] for slices, ordering, back-pressure and stopping). Returns the receiver
    /// and the thread, whose result is the whole run's [`Recorded`]. Errors name a bad
    /// configuration; nothing is spawned then.
    #[allow(clippy::type_complexity)]
    pub fn stream(
        self,
        config: StreamConfig,
    ) -> Result<
        (
            async_channel::Receiver<Batch>,
            JoinHandle<Result<Recorded, StreamError>>,
        ),
        BuildError,
    > {
        config.check(self.time())?;
        let (tx, rx) = async_channel::bounded(config.capacity);
        let handle = std::thread::spawn(move || run_stream(self, config, &tx));
        Ok((rx, handle))
    }
}

fn run_stream(
    mut sim: Simulation,
    config: StreamConfig,
    tx: &async_channel::Sender<Batch>,
) -> Result<Recorded, StreamError> {
    let start = sim.time();
    let mut marks = Marks::default();
    let mut k: u64 = 0;
    loop {
        let t0 = sim.time();
        let t1 = (start + (k + 1) as f64 * config.batch).min(config.until);
        // The first slice also takes the samples due at the start (a run to the start time).
        sim.run_until(t1)?;
        let now = Marks::now(&sim);
        let batch = Batch {
            t0,
            t1,
            spikes: sim.spikes()[marks.spikes..].to_vec(),
            readout: sim.readout().map(|r| readout_since(r, marks.readout)),
            state: sim
                .state()
                .map(|s| state_since(s, marks.state, marks.at_spikes)),
        };
        marks = now;
        if tx.send_blocking(batch).is_err() {
            return Err(StreamError::Stopped {
                at: sim.time(),
                recorded: Box::new(sim.finish()),
            });
        }
        if t1 >= config.until {
            return Ok(sim.finish());
        }
        k += 1;
    }
}
