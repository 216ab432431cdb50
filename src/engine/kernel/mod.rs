//! The exact event-driven kernel: the engine to use.
//!
//! State is kept as structure-of-arrays at the time of the last event (the interval *origin*).
//! Because every spike reaches every neuron, every event changes every neuron's trajectory; so
//! instead of one queue entry per neuron, the kernel delivers each spike as **one column update**
//! over all neurons and finds the next spike as **one arg-min** over a pass that:
//!
//! 1. bounds each neuron's voltage over `[now, next known event]` in O(1) from the exact ranges of
//!    the shared basis functions (`closed_form::expo`) — most neurons are proven crossing-free here;
//! 2. runs the certified search (`closed_form::crossing`) on the few candidates, nearest to threshold
//!    first, shrinking the horizon to the earliest crossing found so far.
//!
//! That is the per-neuron layout: with low-rank weights a spike costs O(N·d)
//! (`V_k −= D_kᵀD_j`), the slow currents are `D_kᵀ (A + λ_d I) x̂`, and memory is O(N·d). Large
//! low-rank networks use the shared-state layout instead (module `shared`, [`Layout`]): a spike
//! costs O(d) and the arg-min is a descent of a hierarchy of decoder cones (module `tree`).
//! Known events — delayed deliveries and input knots — live in the event queue
//! (`engine::queue`). The results equal the one-message-at-a-time semantics of
//! [`crate::engine::actors::ActorEngine`]; `tests/exact_engines.rs` holds it to that.

mod carry;
mod control;
mod relax;
mod search;
mod shared;
mod tree;

use crate::closed_form::crossing::Searcher;
use crate::closed_form::expo::{Membrane, Trajectory, MAX_DEGREE};
use crate::engine::counters::Counters;
use crate::engine::probe::{self, SpikeProbe};
use crate::engine::queue::{Event, EventQueue};
use crate::engine::refractory::Refractoriness;
use crate::engine::rules::{self, Instant, SameInstant};
use crate::engine::{Engine, Spike};
use crate::error::{BuildError, SimError};
use crate::model::basis::LearnedCurrent;
use crate::model::network::{Network, Weights};
use crate::model::signal::Signal;
use crate::time::Time;
use rand::Rng;

const STRIDE: usize = MAX_DEGREE + 1;

/// Shortest first search window, s.
const MIN_WINDOW: f64 = 1e-9;

/// The exact, batched event-driven engine.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Kernel {
    net: Network,
    membrane: Membrane,
    input: Signal,
    n: usize,
    d: usize,
    /// Start of the current interval: every per-neuron coefficient refers to it.
    origin: f64,
    /// All events up to here are processed and the interval is proven crossing-free up to here.
    now: f64,
    /// Voltages at `origin` (per-neuron layout; empty in the shared-state layout, whose `shared`
    /// holds the state instead — exactly one of the two layouts is in use).
    v: Vec<f64>,
    /// Slow-current amplitudes at `origin` (current = `slow[i] e^{-λ_d (t - origin)}`).
    slow: Vec<f64>,
    /// Drive polynomial coefficients `b_ik = D_iᵀ c_k` at `origin`, `drive[i * STRIDE + k]`.
    drive: Vec<f64>,
    degree: usize,
    /// Input polynomial at `origin`, `cpoly[k * d + j]`.
    cpoly: Vec<f64>,
    /// The segment whose polynomial `drive` holds (piecewise-constant input needs no refresh).
    drive_segment: Option<usize>,
    /// The input segment of the last look-up (a hint: events come in time order).
    input_hint: usize,
    /// Readout `x̂` at `origin`.
    xhat: Vec<f64>,
    /// Filtered spike trains `r` at `origin` (for a learned basis on spike trains; per-neuron
    /// layout).
    trains: Vec<f64>,
    /// The shared-state layout ([`shared`]), when the network allows it.
    shared: Option<Box<shared::Shared>>,
    /// Which layouts the kernel may use.
    layout: Layout,
    /// The work ledger [`Layout::Auto`] uses to leave the shared-state layout when it costs more.
    thrift: shared::Thrift,
    /// `(A + λ_d I) x̂` (low-rank slow currents).
    mx: Vec<f64>,
    queue: EventQueue,
    /// Whether inter-event intervals are logged (learning).
    log_intervals: bool,
    /// The log: `[t0, t1, x̂(t0)…]` per interval.
    intervals: Vec<f64>,
    /// Length of the first search window, s (adapted to recent inter-spike gaps).
    window: f64,
    /// The current interval's crossing search, kept across `run_until` stops (see `search`).
    search: Option<search::Search>,
    /// The cascade limit, the time of the last spike and how many spikes happened then.
    instant: Instant,
    #[serde(with = "crate::engine::counters::all")]
    counters: Counters,
    candidates: Vec<(f64, u32)>,
    searcher: Searcher,
    /// Neurons that can still fire (a killed neuron never crosses again).
    alive: Vec<bool>,
    /// Voltage noise: each neuron's piecewise-constant noise current (empty without noise).
    noise: Vec<f64>,
    /// Noise amplitude σ (V/√s) and the length of its constant pieces (s).
    noise_sigma: f64,
    noise_interval: f64,
    /// When the noise started and the number of pieces drawn: piece k starts at
    /// `noise_start + k · interval` (the next one at `timers.noise_at`).
    noise_start: f64,
    noise_piece: u64,
    noise_rng: Option<rand_chacha::ChaCha8Rng>,
    /// Voltages at probed neurons' spikes (a state monitor's `at_spikes`).
    probe: Option<SpikeProbe>,
    /// Who is in a refractory period, and the clamped voltages.
    refractory: Refractoriness,
    /// The learned slow current `U Ψ(x̂)`, if any, fitted anew after every event.
    learned: Option<LearnedCurrent>,
    /// A requested spike delay `(from, delay)`: the first threshold crossing at or after `from`
    /// is held for `delay` seconds ([`crate::engine::control::Control::delay_next_spike`]).
    delay_request: Option<(f64, f64)>,
    /// The pending-event times kept outside the queue (refit, noise piece, held spike,
    /// announced boundary).
    timers: Timers,
    /// Whether the per-neuron coefficients still refer to an earlier origin: a stop at an event
    /// or a [`Plastic::flush`](crate::engine::control::Plastic::flush) defers
    /// `refresh_interval` to the next call that needs it, since a learning epoch's change of the
    /// network refreshes right after (deferring changes nothing: the refresh is the same then).
    stale: bool,
}

/// How the kernel stores its neurons' state.
///
/// - **Shared state** (the default wherever it applies): with low-rank weights, `V_i = D_iᵀ y + w_i`
///   with one shared d-dimensional `y` and a per-neuron scalar `w_i` that only decays and jumps
///   at i's own spikes; an event costs O(d), and the next crossing is found through a hierarchy
///   of decoder cones in about O(log N) (module `shared`, `tree`, and the certified steps of the
///   search).
/// - **Per neuron**: every voltage, drive and slow current stored at the interval origin; every
///   event costs O(N·d). Used for explicit N×N weights, voltage noise, per-neuron offsets of a
///   learned current and a basis on the spike trains (each neuron then has its own input), and on
///   request.
///
/// Both are exact to the same contract; they round differently, so their spike times agree to
/// rounding (and then diverge only through near-ties or chaotic drift, as two exact engines do).
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// The shared-state layout where the network allows it and it pays: at least
    /// [`Layout::AUTO_SHARED_MIN`] neurons ([`Layout::AUTO_SHARED_MIN_LEARNED`] with a learned
    /// current), and only while its certified steps cost less than
    /// per-neuron events would (a network whose steps per spike blow up — e.g. many neurons with
    /// nearly the same decoder racing to threshold — moves to the per-neuron layout for the rest
    /// of the run). The per-neuron layout otherwise. The choice depends only on the network and
    /// on counts of work done, never on wall time, so a run is as deterministic as on one layout.
    #[default]
    Auto,
    /// Always the per-neuron layout.
    PerNeuron,
    /// The shared-state layout wherever the network allows it, whatever its size or cost (for
    /// tests and measurements).
    Shared,
}

impl Layout {
    /// The smallest network [`Layout::Auto`] runs in the shared-state layout: below it the
    /// per-neuron layout's O(N·d) events are cheaper than the hierarchy's steps (measured by
    /// `examples/compare_engines.rs`; see `BENCHMARKS.md`).
    pub const AUTO_SHARED_MIN: usize = 1024;
    /// [`Layout::AUTO_SHARED_MIN`] for a network with a learned current `Dᵀ U Ψ(x̂)`. The
    /// per-neuron layout pays N·(K+1)·d for that current at every refit of its series (every
    /// few milliseconds, and at every spike), the shared state (K+1)·d: the learning runs of
    /// `models/` at 50 and 100 neurons are 7–45 % faster shared, and 32 neurons is where
    /// both layouts cost the same (`benches/ab.sh`; see `BENCHMARKS.md`).
    pub const AUTO_SHARED_MIN_LEARNED: usize = 32;
}

/// The kernel's pending-event times that are not in its [`EventQueue`]; with the queue's next
/// time they make [`Kernel::next_event`].
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
struct Timers {
    /// When the current fit of the learned current expires (+∞ without one).
    refit_at: f64,
    /// When the next noise piece starts (+∞ without noise).
    noise_at: f64,
    /// A held spike `(release time, neuron)`: the neuron fires then (+∞ time without one).
    held: (f64, usize),
    /// An interval boundary announced by the learning actor (`Plastic::boundary_at`; +∞
    /// without one): the searches end there.
    boundary: f64,
}

impl Timers {
    const NONE: Timers = Timers {
        refit_at: f64::INFINITY,
        noise_at: f64::INFINITY,
        held: (f64::INFINITY, 0),
        boundary: f64::INFINITY,
    };
}

impl Kernel {
    /// A kernel at t = 0 with readout 0 and voltages `V_i = D_iᵀ x0` (the error of an empty
    /// readout against a target starting at `x0`).
    pub fn new(network: Network, input: Signal, x0: &[f64]) -> Result<Kernel, BuildError> {
        let (n, d) = (network.neurons(), network.dims());
        if input.dims() != d {
            return Err(BuildError::new(
                "input",
                format!("{d} components (network.dims)"),
                format!("{}", input.dims()),
            ));
        }
        if x0.len() != d || x0.iter().any(|x| !x.is_finite()) {
            return Err(BuildError::new(
                "target.initial",
                format!("{d} finite components (network.dims)"),
                format!("{x0:?}"),
            ));
        }
        let v = network.initial_voltages(x0);
        let mut k = Kernel {
            membrane: Membrane::new(network.lambda_v(), network.lambda_d()),
            n,
            d,
            origin: 0.0,
            now: 0.0,
            v,
            slow: vec![0.0; n],
            drive: vec![0.0; n * STRIDE],
            degree: 0,
            cpoly: vec![0.0; STRIDE * d],
            drive_segment: None,
            input_hint: 0,
            xhat: vec![0.0; d],
            trains: vec![0.0; n],
            shared: None,
            layout: Layout::Auto,
            thrift: shared::Thrift::default(),
            mx: vec![0.0; d],
            queue: EventQueue::with_capacity(64),
            instant: Instant::new(n),
            window: 1e-3,
            search: None,
            log_intervals: false,
            intervals: Vec::new(),
            counters: Counters::default(),
            candidates: Vec::with_capacity(n.min(1024)),
            searcher: Searcher::default(),
            learned: None,
            delay_request: None,
            timers: Timers::NONE,
            stale: false,
            alive: vec![true; n],
            noise: Vec::new(),
            noise_sigma: 0.0,
            noise_interval: f64::INFINITY,
            noise_start: 0.0,
            noise_piece: 0,
            noise_rng: None,
            probe: None,
            refractory: Refractoriness::new(&network),
            net: network,
            input,
        };
        let knot = k.input.next_knot_after(0.0);
        if knot.is_finite() {
            k.queue.schedule(Event::InputKnot, Time::from_secs(knot));
        }
        k.choose_layout();
        k.refresh_interval();
        Ok(k)
    }

    /// Chooses the layouts the kernel may use from now on ([`Layout`]); the state carries over
    /// exactly (up to rounding).
    pub fn set_layout(&mut self, layout: Layout) {
        self.advance_to(self.now);
        self.layout = layout;
        self.thrift = shared::Thrift::default();
        self.choose_layout();
        self.refresh_interval();
    }

    /// Whether the kernel runs in the shared-state layout now.
    pub fn uses_shared_state(&self) -> bool {
        self.shared.is_some()
    }

    /// Sets the longest same-instant cascade allowed before [`SimError::Cascade`] (default N).
    pub fn set_cascade_limit(&mut self, limit: usize) {
        self.instant.set_limit(limit);
    }

    /// Draws the next piece of the noise current and schedules the one after it.
    fn draw_noise(&mut self) {
        let scale = self.noise_sigma / self.noise_interval.sqrt();
        if let Some(rng) = &mut self.noise_rng {
            for x in &mut self.noise {
                *x = scale * rng.sample::<f64, _>(rand_distr::StandardNormal);
            }
        }
        self.noise_piece += 1;
        self.timers.noise_at = self.noise_start + self.noise_piece as f64 * self.noise_interval;
    }

    /// The network being simulated.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Neuron i's trajectory on the current interval.
    #[inline]
    fn trajectory(&self, i: usize) -> Trajectory {
        if let Some(sh) = &self.shared {
            return self.shared_trajectory(sh, i);
        }
        let mut drive = [0.0; STRIDE];
        drive.copy_from_slice(&self.drive[i * STRIDE..(i + 1) * STRIDE]);
        Trajectory {
            v0: self.v[i],
            drive,
            slow: self.slow[i],
            degree: self.degree,
        }
    }

    /// Moves the origin to `t`: voltages, slow currents and readout evaluated exactly there.
    fn advance_to(&mut self, t: f64) {
        let tau = t - self.origin;
        if tau == 0.0 {
            return;
        }
        if self.log_intervals {
            self.intervals.extend_from_slice(&[self.origin, t]);
            self.intervals.extend_from_slice(&self.xhat);
            if self.learned.as_ref().is_some_and(|l| l.basis().on_trains()) {
                self.intervals.extend_from_slice(&self.trains);
            }
        }
        let bv = self.membrane.values(tau, self.degree);
        if self.shared.is_some() {
            self.shared_advance(t, &bv);
        } else {
            for i in 0..self.n {
                self.v[i] = self.trajectory(i).value(&bv);
            }
            self.refractory.hold(&mut self.v);
        }
        if !self.net.is_low_rank() {
            for s in &mut self.slow {
                *s *= bv.decay;
            }
        }
        for x in &mut self.xhat {
            *x *= bv.decay;
        }
        for r in &mut self.trains {
            *r *= bv.decay;
        }
        self.origin = t;
    }

    /// Recomputes the per-neuron coefficients that depend on the origin: the drive polynomial
    /// (Taylor-shifted input projected on each decoder) and, low-rank, the slow currents.
    fn refresh_interval(&mut self) {
        self.forget_carry();
        self.refresh_keeping_carry();
    }

    /// [`Kernel::refresh_interval`] after spikes and deliveries: the carried band
    /// ([`carry`]) stays where [`Kernel::carries`] (a delivery that may raise a voltage, or
    /// any other event, forgot it already).
    fn refresh_after_events(&mut self) {
        if !self.carries() {
            self.forget_carry();
        }
        self.refresh_keeping_carry();
    }

    /// The refresh itself (see [`Kernel::refresh_interval`]).
    fn refresh_keeping_carry(&mut self) {
        // Every trajectory is re-based: a new search.
        self.search = None;
        self.forget_certificate();
        self.stale = false;
        let d = self.d;
        let seg = self.input.segment_near(self.origin, &mut self.input_hint);
        let noisy = !self.noise.is_empty();
        if noisy || self.learned.is_some() || self.drive_segment != Some(seg) || self.degree > 0 {
            self.degree = self
                .input
                .local_polynomial_in(seg, self.origin, &mut self.cpoly);
            // The next known event but a refit (the fit sets that).
            let next = self.next_event_but_refit();
            if let Some(l) = &mut self.learned {
                let max_window = (next - self.origin).clamp(1e-6, 0.05);
                let presynaptic = if l.basis().on_trains() {
                    &self.trains
                } else {
                    &self.xhat
                };
                let (h, degree) = l.fit_into(
                    presynaptic,
                    self.net.lambda_d(),
                    max_window,
                    self.degree,
                    &mut self.cpoly,
                );
                self.degree = self.degree.max(degree);
                self.timers.refit_at = self.origin + h;
                self.counters.refits += 1;
            }
            let decoders = self.net.decoders();
            // (Empty in the shared-state layout: every neuron's drive is `D_iᵀ cpoly`, evaluated
            // when needed.)
            for (di, b) in decoders
                .chunks_exact(d)
                .zip(self.drive.chunks_exact_mut(STRIDE))
            {
                // (Coefficients above the degree are ignored by every trajectory.)
                for (k, bk) in b.iter_mut().enumerate().take(self.degree + 1) {
                    *bk = shared::dot(di, &self.cpoly[k * d..(k + 1) * d]);
                }
            }
            if let Some(l) = &self.learned {
                // Per-neuron offsets `P_i Ψ` (nothing without them).
                l.add_offset_drive(&mut self.drive, STRIDE);
            }
            if noisy {
                for (b, x) in self.drive.chunks_exact_mut(STRIDE).zip(&self.noise) {
                    b[0] += x;
                }
            }
            self.drive_segment = Some(seg);
        }
        if let Weights::LowRank { core } = self.net.weights() {
            for r in 0..d {
                self.mx[r] = shared::dot(&core[r * d..(r + 1) * d], &self.xhat);
            }
            let decoders = self.net.decoders();
            // (Per-neuron layout only; empty otherwise.)
            for (s, di) in self.slow.iter_mut().zip(decoders.chunks_exact(d)) {
                *s = shared::dot(di, &self.mx);
            }
        }
    }

    /// Applies `j`'s fast input to every neuron except `j` (a column of Ω_f).
    fn apply_fast_column(&mut self, j: usize) {
        if self.shared.is_some() {
            self.shared_deliver(j);
            return;
        }
        match self.net.weights() {
            Weights::LowRank { .. } => {
                let d = self.d;
                let decoders = self.net.decoders();
                let dj = &decoders[j * d..(j + 1) * d];
                let vj = self.v[j];
                for (v, di) in self.v.iter_mut().zip(decoders.chunks_exact(d)) {
                    *v -= shared::dot(di, dj);
                }
                self.v[j] = vj;
            }
            Weights::Dense { fast, .. } => {
                let col = &fast[j * self.n..(j + 1) * self.n];
                for (i, (v, w)) in self.v.iter_mut().zip(col).enumerate() {
                    if i != j {
                        *v -= w;
                    }
                }
            }
        }
        // Clamped neurons discard it.
        self.refractory.hold(&mut self.v);
    }

    /// Emits `j`'s spike at the origin and applies its instantaneous effects.
    fn fire(&mut self, j: usize, spikes: &mut Vec<Spike>) {
        let t = self.origin;
        let mut probe = self.probe.take();
        probe::at_spike(&mut probe, j, |i| self.voltage(i));
        self.probe = probe;
        spikes.push(Spike {
            time: Time::from_secs(t),
            neuron: j as u32,
        });
        self.counters.spikes += 1;
        let dj = self.net.decoder(j);
        for (x, dx) in self.xhat.iter_mut().zip(dj) {
            *x += dx;
        }
        // The post-reset voltage, as the held value of a clamp: `V − Ω_f[j,j]` to the bit.
        let reset = self.net.fast_weight(j, j);
        let post = self.voltage(j) - reset;
        if self.shared.is_some() {
            self.shared_fire(j, reset);
        } else {
            self.trains[j] += 1.0;
            if let Weights::Dense { slow, .. } = self.net.weights() {
                let col = &slow[j * self.n..(j + 1) * self.n];
                for (s, w) in self.slow.iter_mut().zip(col) {
                    *s += w;
                }
            }
            self.v[j] -= reset;
        }
        if let Some(end) = self.refractory.start(j, t, post) {
            let ev = Event::RefractoryEnd { neuron: j as u32 };
            self.queue.schedule(ev, Time::from_secs(end));
            self.relax_touch(j);
        }
        let delay = self.net.fast_delay();
        if delay == 0.0 {
            self.apply_fast_column(j);
        } else {
            let seq = self.queue.next_seq();
            self.queue.schedule(
                Event::Delivery {
                    source: j as u32,
                    seq,
                },
                Time::from_secs(super::after(t, delay)),
            );
        }
    }

    /// Fires neurons left strictly above threshold at the origin until none is (the shared
    /// same-instant rule, [`crate::engine::rules::cascade`]).
    fn cascade(&mut self, fired: Option<usize>, spikes: &mut Vec<Spike>) -> Result<(), SimError> {
        rules::cascade(self, self.origin, fired, spikes)
    }
}

impl Kernel {
    /// The time of the next known event: a queued delivery or input knot, a refit, a noise
    /// piece or a held spike's release (+∞ without one).
    #[inline]
    fn next_event(&self) -> f64 {
        self.next_event_but_refit().min(self.timers.refit_at)
    }

    /// [`Kernel::next_event`] without the refit (what a refit's window may reach).
    #[inline]
    fn next_event_but_refit(&self) -> f64 {
        let t = &self.timers;
        self.queue
            .next_time()
            .secs()
            .min(t.noise_at)
            .min(t.held.0)
            .min(t.boundary)
    }
}

impl SameInstant for Kernel {
    fn instant(&mut self) -> &mut Instant {
        &mut self.instant
    }
    fn most_above(&mut self) -> Option<usize> {
        if let Some(mut sh) = self.shared.take() {
            let found = self.shared_most_above(&mut sh);
            self.shared = Some(sh);
            return found;
        }
        let th = self.net.thresholds();
        let r = &self.refractory;
        rules::most_above(
            self.v
                .iter()
                .zip(th)
                .zip(&self.alive)
                .enumerate()
                .map(|(i, ((v, t), &a))| (v - t, a && !r.blocks(i))),
        )
    }
    fn fire_at(&mut self, j: usize, t: f64, spikes: &mut Vec<Spike>) {
        debug_assert_eq!(t, self.origin);
        self.fire(j, spikes);
    }
    fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }
}

impl Engine for Kernel {
    fn time(&self) -> Time {
        Time::from_secs(self.now)
    }

    fn run_until(&mut self, t: Time, spikes: &mut Vec<Spike>) -> Result<(), SimError> {
        let t_stop = super::check_target(self.now, t)?;
        if self.stale {
            // (After events: any that may raise a voltage forgot the carried band then.)
            self.refresh_after_events();
        }
        loop {
            let tq = self.next_event();
            if let Some((tc, i)) = self.next_crossing(tq, t_stop) {
                if tc < tq {
                    if tc > t_stop {
                        // Found beyond the stop: kept for the next call.
                        self.now = t_stop;
                        return Ok(());
                    }
                    self.advance_to(tc);
                    self.now = tc;
                    if let Some((from, delay)) = self.delay_request {
                        if tc >= from {
                            // Hold this spike: the neuron is silenced until its release.
                            self.delay_request = None;
                            self.alive[i] = false;
                            self.relax_touch(i);
                            self.timers.held = (tc + delay, i);
                            self.refresh_interval();
                            continue;
                        }
                    }
                    self.certify_crossing();
                    self.fire(i, spikes);
                    self.counters.crossing_spikes += 1;
                    self.cascade(Some(i), spikes)?;
                    // (Leaves the shared-state layout if its search cost too much.)
                    self.choose_layout();
                    self.refresh_after_events();
                    continue;
                }
            }
            if tq > t_stop {
                self.now = t_stop;
                return Ok(());
            }
            // Known events at tq, deliveries first (all of them before any threshold test).
            self.advance_to(tq);
            self.now = tq;
            // Periods ending now are over before the deliveries (half-open periods).
            let mut delivered = false;
            while let Some((ev, key)) = self.queue.peek() {
                if key.time.secs() != tq {
                    break;
                }
                self.queue.pop();
                match ev {
                    Event::Delivery { source, .. } => {
                        self.apply_fast_column(source as usize);
                        self.counters.deliveries += 1;
                        delivered = true;
                    }
                    Event::InputKnot => {
                        self.forget_carry();
                        self.counters.input_knots += 1;
                        let next = self.input.next_knot_near(tq, &mut self.input_hint);
                        if next.is_finite() {
                            self.queue.schedule(Event::InputKnot, Time::from_secs(next));
                        }
                    }
                    Event::RefractoryEnd { neuron } => {
                        self.shared_release(neuron as usize);
                        self.refractory.end(neuron as usize);
                        self.relax_touch(neuron as usize);
                        // It may be above threshold now (hold), or be pushed there.
                        delivered = true;
                    }
                    Event::Crossing { .. } => unreachable!("the kernel never queues crossings"),
                }
            }
            if tq == self.timers.noise_at {
                self.forget_carry();
                self.draw_noise();
            }
            if tq == self.timers.boundary {
                self.forget_carry();
                self.timers.boundary = f64::INFINITY;
            }
            if tq == self.timers.refit_at {
                self.forget_carry();
            }
            if tq == self.timers.held.0 {
                self.forget_carry();
                let j = self.timers.held.1;
                self.timers.held = (f64::INFINITY, 0);
                self.alive[j] = true;
                self.fire(j, spikes);
                self.counters.crossing_spikes += 1;
                self.cascade(Some(j), spikes)?;
            } else if delivered {
                self.cascade(None, spikes)?;
            }
            if tq >= t_stop {
                // The refresh waits for the next call (`stale`).
                self.stale = true;
                return Ok(());
            }
            self.refresh_after_events();
        }
    }

    fn readout(&self, out: &mut [f64]) {
        let decay = (-self.net.lambda_d() * (self.now - self.origin)).exp();
        for (o, x) in out.iter_mut().zip(&self.xhat) {
            *o = x * decay;
        }
    }

    fn voltages(&self, out: &mut [f64]) {
        let bv = self.membrane.values(self.now - self.origin, self.degree);
        if let Some(sh) = &self.shared {
            self.shared_voltages(sh, &bv, out);
            return;
        }
        for (i, o) in out.iter_mut().enumerate().take(self.n) {
            *o = self.trajectory(i).value(&bv);
        }
        self.refractory.hold(out);
    }

    fn counters(&self) -> Counters {
        self.counters
    }

    fn probe_spikes(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        probe::start(&mut self.probe, neurons, self.n)
    }

    fn take_spike_voltages(&mut self, out: &mut Vec<f64>) {
        probe::drain(&mut self.probe, out);
    }
}
