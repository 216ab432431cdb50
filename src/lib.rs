//! # ebnsim — exact, continuous-time simulation of efficient balanced spiking networks
//!
//! An efficient balanced network (EBN, spike-coding network; Boerlin, Machens & Denève 2013)
//! encodes a d-dimensional signal `x(t)` in the spikes of N leaky integrate-and-fire neurons: the
//! readout `x̂ = D r` of the filtered spike trains tracks `x' = A x + c(t)`, and a neuron fires
//! exactly when its spike reduces the coding error. Published implementations step with forward
//! Euler at 0.1 ms and allow one spike per step to hide the grid's artefacts; ebnsim has **no
//! grid**. Between events every voltage has a closed form, and the next threshold crossing is
//! found by a certified search that cannot miss one.
//!
//! ## A first run
//!
//! Build a network, give it an input, run it, read spikes and the readout:
//!
//! ```
//! use ebnsim::prelude::*;
//! use ebnsim::model::network::random_decoder;
//! use ebnsim::seed::{rng_stream, Stream};
//!
//! // 40 neurons encoding the damped oscillator of Boerlin et al. (2013).
//! let decoder = random_decoder(2, 40, 0.1, true, &mut rng_stream(7, Stream::Decoder));
//! let network = NetworkBuilder::new(decoder)
//!     .lambda_d(10.0) // 1/s: readout decay
//!     .lambda_v(20.0) // 1/s: membrane leak
//!     .mu(1e-6)
//!     .linear_dynamics(vec![vec![-4.8, -22.4], vec![40.0, 0.0]])
//!     .build()?;
//! // A 50 ms kick along the first dimension.
//! let input = Signal::piecewise_constant(
//!     2,
//!     &[0.0, 0.05, 0.1],
//!     &[vec![0.0, 0.0], vec![50.0, 0.0], vec![0.0, 0.0]],
//! )?;
//! let mut sim = Simulation::builder(network, input).build()?; // exact engine by default
//! sim.run_until(0.2)?;
//! let xhat = sim.readout_now(); // x̂(0.2 s), exact
//! assert!(!sim.spikes().is_empty() && xhat.iter().any(|v| v.abs() > 0.05));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same from a model file; builder calls override the file's choices:
//!
//! ```
//! use ebnsim::prelude::*;
//! let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
//! let mut sim = Simulation::from_model(&model).build()?;
//! sim.run_until(model.simulate.duration)?;
//! // The exact engine against the published grid: Euler, 0.1 ms, one spike per step.
//! let grid = DenseConfig { dt: 1e-4, integrator: Integrator::Euler, spike_rule: SpikeRule::OnePerStep };
//! let mut euler = Simulation::from_model(&model).engine(EngineChoice::Dense(grid)).build()?;
//! euler.run_until(model.simulate.duration)?;
//! assert!(sim.spikes().len() > euler.spikes().len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`run::run_model`] runs a model file end to end and summarises it, as `ebnsim run` does.
//!
//! ## Monitors
//!
//! Spikes are recorded ([`Simulation::spikes`]) for every neuron, or for those chosen with
//! [`SimulationBuilder::record_spikes`]. The readout (and the target, when the model has one)
//! is sampled every `record_readout(dt)`; a state monitor samples voltages `v` and filtered
//! trains `r` of selected neurons at exact times `k·dt` — the values of the closed-form
//! trajectories there, not of a grid. A spike at a sample time is in that sample (the voltage
//! is already reset, `r` already incremented). With `at_spikes`, it also samples at every spike
//! of a recorded neuron, just before the reset ([`monitor::SpikeSamples`]): the spiking
//! neuron's `v` is then at its threshold. None of this changes the spikes.
//!
//! ```
//! use ebnsim::prelude::*;
//! let network = NetworkBuilder::new(vec![vec![0.1, -0.1, 0.05, -0.05]]).mu(1e-4).build()?;
//! let mut sim = Simulation::builder(network, Signal::constant(&[2.0]))
//!     .record_state(StateMonitorSpec {
//!         neurons: NeuronSelection::List(vec![0, 2]),
//!         dt: 0.01,
//!         variables: vec![StateVariable::V, StateVariable::R],
//!         at_spikes: true,
//!     })
//!     .record_spikes(NeuronSelection::List(vec![0]))
//!     .build()?;
//! sim.run_until(0.5)?;
//! let state = sim.state().unwrap();
//! assert_eq!(state.columns, ["v_0", "v_2", "r_0", "r_2"]);
//! assert_eq!(state.len(), 51);
//! assert!(sim.spikes().iter().all(|s| s.neuron == 0));
//! let at = state.at_spikes.as_ref().unwrap(); // one row per spike of neuron 0 or 2
//! assert!(at.neurons.iter().filter(|&&j| j == 0).count() == sim.spikes().len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Seeds
//!
//! Every random draw of a model file (random decoder, `smooth_random` input, random bases,
//! kills, noise) derives from its `seed` through named streams ([`seed::rng_stream`]). A seed set
//! on a loaded model (or on its builder, `Simulation::from_model(&model).seed(n)`) redraws all
//! of them — the same as the file with that seed, byte for byte (`ebnsim run MODEL --seed N`
//! does this):
//!
//! ```
//! use ebnsim::prelude::*;
//! let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
//! let other = model.clone().with_seed(model.seed() + 1)?;
//! assert_ne!(model.network.decoders(), other.network.decoders());
//! let run = |m: &ebnsim::io::model_file::Model| -> Result<Vec<Spike>, Box<dyn std::error::Error>> {
//!     let mut sim = Simulation::from_model(m).build()?;
//!     sim.run_until(0.2)?;
//!     Ok(sim.spikes().to_vec())
//! };
//! assert_ne!(run(&model)?, run(&other)?);
//! assert_eq!(run(&model)?, run(&model)?); // same seed, same spikes
//! let mut sim = Simulation::from_model(&model).seed(model.seed() + 1).build()?;
//! sim.run_until(0.2)?;
//! assert_eq!(sim.spikes(), run(&other)?.as_slice());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Threads
//!
//! A [`Simulation`] is `Send`: build it on one thread, run it on another (an ensemble runs one
//! per worker). Results do not depend on the thread.
//!
//! ```
//! use ebnsim::prelude::*;
//! let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
//! let sim = Simulation::from_model(&model).build()?;
//! let handle = std::thread::spawn(move || {
//!     let mut sim = sim;
//!     sim.run_until(0.3).map(|()| sim.finish())
//! });
//! let recorded = handle.join().expect("no panic")?;
//! assert!(!recorded.spikes.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Streams and closed loops
//!
//! [`Simulation::stream`] runs a simulation on its own thread and sends what it records in
//! batches over a bounded [`async_channel`] (for an async task or a thread): batch k holds the
//! spikes and readout/state samples of the slice `(t_k, t_{k+1}]`, in time order. A full channel
//! makes the simulation wait (nothing is dropped); closing the receiver stops the run, and the
//! thread returns [`stream::StreamError::Stopped`] with the time reached and what was recorded.
//! The batches together are exactly the run without streaming, to the bit ([`stream`]).
//!
//! ```
//! use ebnsim::prelude::*;
//! use ebnsim::stream::StreamConfig;
//! let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
//! let sim = Simulation::from_model(&model).build()?;
//! let (batches, handle) = sim.stream(StreamConfig { until: 0.5, batch: 0.05, capacity: 4 })?;
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! let spikes = rt.block_on(async {
//!     let mut spikes = Vec::new();
//!     while let Ok(batch) = batches.recv().await {
//!         assert!(batch.spikes.iter().all(|s| s.time.secs() > batch.t0 && s.time.secs() <= batch.t1));
//!         spikes.extend(batch.spikes);
//!     }
//!     spikes
//! });
//! let recorded = handle.join().expect("no panic")?;
//! assert_eq!(spikes, recorded.spikes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Learning runs stream too: [`stream::stream_learning`] runs the phases of a learning model
//! (what `ebnsim learn` runs, with the same output to the bit) on its own thread and sends
//! [`learning::protocol::LearnProgress`] messages in run order — each phase's start and its
//! report at its end, every learning-curve point (field error, window NRMSE) and the simulated
//! time now and then. Closing the receiver stops the run at its next message with
//! [`learning::protocol::LearnError::Stopped`]:
//!
//! ```
//! use ebnsim::learning::protocol::{LearnError, LearnProgress, PhaseOptions};
//! let model = ebnsim::io::model_file::parse_learning(
//!     r#"
//!     name = "tiny"
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
//!     duration = 10.0
//!     input = { kind = "ou", tau = 0.05, sigma = 2.0 }
//!     feedback_gain = 30.0
//!     learning_rate = 100.0
//!     "#,
//!     std::path::Path::new("tiny.toml"),
//! )?;
//! let (messages, handle) = ebnsim::stream::stream_learning(model, PhaseOptions::default(), 4)?;
//! // Watch the field error of the first learning-curve points, then stop.
//! let mut errors = Vec::new();
//! while errors.len() < 3 {
//!     if let LearnProgress::Curve(point) = messages.recv_blocking()? {
//!         errors.push(point.field_error);
//!     }
//! }
//! drop(messages);
//! match handle.join().expect("no panic") {
//!     Err(LearnError::Stopped { at }) => assert!(at < 10.0),
//!     other => panic!("expected a stop, got {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A closed loop ([`closed_loop`]) runs in lockstep with a controller: at each control period
//! the controller reads the exact readout and returns the (constant) input for the next period,
//! and the engine waits for it, so the run stays exact within periods; the control lags the
//! network by at most one period. [`Simulation::set_input`] changes the input of any run
//! directly. `examples/closed_loop.rs` holds the oscillator at a set point against a step
//! disturbance with a PI controller.
//!
//! ## Ensembles
//!
//! [`ensemble`] runs one model file over seeds × values of some of its numeric fields (what
//! `ebnsim sweep` runs; spec format in `docs/sweep.md`). Every run's model is built before
//! any run, runs go to K blocking workers of a tokio runtime, and the rows come back in run
//! order — the same for any K:
//!
//! ```
//! use ebnsim::ensemble::{Ensemble, EnsembleOptions, Shard, SweepSpec};
//! let spec = SweepSpec::parse(
//!     r#"
//!     model = "models/boerlin-oscillator.toml"   # relative to the spec file
//!     seeds = [1, 2]
//!     [[vary]]
//!     field = "simulate.duration"
//!     values = [0.1]
//!     [[vary]]
//!     field = "network.mu"
//!     values = [1e-6, 1e-4]
//!     "#,
//!     std::path::Path::new("sweep.toml"),
//! )?;
//! assert_eq!(spec.len(), 4); // seeds × values, the last field fastest
//! assert_eq!((spec.run(1).seed, spec.run(1).values.clone()), (1, vec![0.1, 1e-4]));
//! let ensemble = Ensemble::new(spec, Shard::ALL)?;
//! let opts = EnsembleOptions { threads: 2, ..EnsembleOptions::default() };
//! let rows = ensemble.run(&opts, |_row| { /* progress */ })?;
//! assert_eq!(rows.iter().map(|r| r.run.index).collect::<Vec<_>>(), [0, 1, 2, 3]);
//! assert!(rows[0].spikes > rows[1].spikes); // a smaller spike cost, more spikes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The model
//!
//! For neuron i, between and across spikes (docs/architecture.md §1; all rates in 1/s):
//!
//! ```text
//! V_i' = −λ_V V_i + D_iᵀ c(t) + Σ_j Ω_s[i,j] r_j − Σ_j Ω_f[i,j] o_j(t − δ_f)      r' = −λ_d r + o
//! T_i = (‖D_i‖² + μ + ν)/2      Ω_f = DᵀD + μI      Ω_s = Dᵀ(A + λ_d I)D
//! ```
//!
//! A spike of j adds 1 to `r_j` (the readout jumps by `D_j`), resets `V_j` by `Ω_f[j,j]` at once,
//! and lowers every other `V_k` by `Ω_f[k,j]` after the fast delay `δ_f` (default 0). With an
//! absolute refractory period τ ([`model::refractory`]), j cannot fire in `[t, t + τ)`: its voltage
//! is held at the post-reset value there (`clamp`, NEST's semantics) or integrates as usual
//! (`hold`, firing at the period's end if above threshold then). Weights are stored low-rank (D and the d×d core `A + λ_d I`: O(N·d) per spike and memory) unless explicit
//! N×N weights are given ([`model::network`]). Initial state: empty readout, `V_i = D_iᵀ x(0)`.
//!
//! ## Ordering guarantees
//!
//! Spikes are strictly ordered in continuous time. At equal times (the event keys of the internal `engine::queue`):
//!
//! 1. refractory periods ending at `t` end first (periods are half-open, so inputs arriving at
//!    `t` count), then delayed fast inputs arriving at `t` are all applied before any threshold
//!    test at `t`; a delivery (or a period's end) is never in its spike's own instant, even with
//!    a delay below the time resolution at that time (it is then rounded up);
//! 2. input changes at `t` leave voltages continuous (they only change slopes);
//! 3. neurons whose trajectories reach threshold at the same `t` fire in index order;
//! 4. **same-instant rule**: after a spike's instantaneous effects (or a period's end), if any
//!    neuron that may fire is *strictly* above threshold, the one with the largest `V − T` (ties:
//!    lower index) fires at that same time; repeat until none is. A neuron that fired at `t` is
//!    refractory at `t` when it has a period, so it cannot fire twice in one cascade. A neuron left *exactly* at threshold by a jump waits for its
//!    continuous dynamics: it fires at once only if its voltage is rising;
//! 5. a same-instant cascade longer than the limit (default N) stops the run with
//!    [`error::SimError::Cascade`] instead of hanging: the spike that would exceed the limit is
//!    refused (not emitted), in every exact engine alike (one rule, `engine::rules`, shared by
//!    the kernel, the actor engine and the stepper's choice of who fires).
//!
//! The same model file and seed give byte-identical spike files on every run.
//!
//! ## Accuracy contract
//!
//! Every emitted spike is at the smallest representable time at which the closed-form voltage,
//! as evaluated, reaches threshold; no earlier crossing exists (the search proves each skipped
//! piece crossing-free with exact enclosures, allowing only for floating-point rounding). Spike
//! times match closed forms to a few ulps on well-conditioned crossings (`tests/closed_forms.rs`,
//! including NEST's DC case to 1e-13 ms), and densely sampled voltages never exceed threshold
//! between events (`tests/exact_engines.rs`, near-grazing trajectories included). Where a run
//! stops — readout and monitor samples, `run_until` calls — never changes a spike, even by an
//! ulp (`tests/simulation.rs`).
//!
//! ## Features
//!
//! Both on by default:
//!
//! - `cli`: the `ebnsim` binary (pulls in `clap`, `indicatif`, `tracing-subscriber`).
//! - `plot`: SVG figures, `io::figures` and `ebnsim plot` (pulls in `plotters`).
//!
//! `default-features = false` leaves the simulation library alone: engines, learning, model and
//! run files, with none of those four crates.
//!
//! ## Module map
//!
//! Layers depend downward only:
//!
//! | layer | modules |
//! |---|---|
//! | foundations | [`time`] (the `Time` newtype), [`error`], [`seed`] (named random streams) |
//! | closed forms (internal) | `closed_form::expo` (trajectories between events), `closed_form::crossing` (certified next-crossing search) |
//! | model | [`model::network`] (weights, thresholds), [`model::refractory`] (absolute refractory periods), [`model::signal`] (inputs c(t)), [`model::teacher`] (target x(t)), [`model::dynamics`] (target vector fields), [`model::ode`] (their high-order teacher), [`model::basis`] (Ψ and learned currents) |
//! | engines | [`engine`] (the common trait), [`engine::kernel`] (exact, batched — use this), [`engine::actors`] (exact, one message at a time — the semantics), [`engine::dense`] (clock-driven reference), `engine::control` (changing a running engine), [`engine::counters`]; internal: `engine::queue`, `engine::rules` (the same-instant rule), `engine::refractory` (the refractory rule), `engine::probe` (values at spikes) |
//! | learning | [`learning::rule`] (the local rule, on either engine), [`learning::protocol`] (train / test / autonomous phases with perturbations: what `ebnsim learn` runs) |
//! | monitors | [`monitor`] (state monitors: what is sampled, and its record) |
//! | analysis | [`analysis::metrics`], [`analysis::learning_metrics`], [`analysis::balance`] (E/I input currents) |
//! | files | [`io::model_file`], [`io::record`] (outputs, atomic writers), [`io::weights_file`], [`io::run_dir`] (reading run files back), [`io::network_file`] (`network.json`), `io::state_csv`, `io::figures` (SVG figures, feature `plot`) |
//! | facade | [`Simulation`] and [`SimulationBuilder`] ([`simulation`]), [`prelude`], [`run`] (a model file end to end and its summary), [`stream`] (a run on its own thread, batched over a channel), [`closed_loop`] (a controller in lockstep), [`ensemble`] (sweeps over seeds and field values on worker threads) |
//!
//! The library never prints; diagnostics go through `tracing` spans (`setup`, `run`) and the
//! run [`engine::counters`].
#![warn(missing_docs, missing_debug_implementations)]

pub mod analysis;
pub mod checkpoint;
pub(crate) mod closed_form;
pub mod closed_loop;
pub mod engine;
pub mod ensemble;
pub mod error;
pub mod io;
pub mod learning;
pub mod model;
pub mod monitor;
pub mod prelude;
pub mod run;
pub mod seed;
pub mod simulation;
pub mod stream;

pub use simulation::{Simulation, SimulationBuilder};

/// The `rand` version of the public API (0.8): use it for RNGs passed to ebnsim.
pub use rand;
pub mod time;
