//! The exact engine written plainly: neuron actors, one message at a time, one queue.
//!
//! Every neuron is a `Neuron` actor; every spike is delivered as N separate
//! `Message::Synaptic` messages, and every neuron's predicted crossing is an entry of the
//! event queue (`engine::queue`), re-scheduled whenever its trajectory changes. This is the *semantics* of the
//! exact simulation, with nothing clever in it: O(N log N) work and O(N) root searches per spike.
//! [`crate::engine::kernel::Kernel`] must give the same spikes; use the kernel for real runs.

pub(crate) mod neuron;

use crate::closed_form::crossing::CrossingStats;
use crate::closed_form::expo::{Membrane, MAX_DEGREE};
use crate::engine::actors::neuron::{Message, Neuron};
use crate::engine::control::Control;
use crate::engine::counters::Counters;
use crate::engine::probe::{self, SpikeProbe};
use crate::engine::queue::{Event, EventClass, EventQueue};
use crate::engine::refractory::Refractoriness;
use crate::engine::rules::{self, Instant, SameInstant};
use crate::engine::{Engine, Spike};
use crate::error::{BuildError, SimError};
use crate::model::network::Network;
use crate::model::signal::Signal;
use crate::time::Time;

/// The one-message-at-a-time exact engine.
#[derive(Debug)]
pub struct ActorEngine {
    net: Network,
    membrane: Membrane,
    input: Signal,
    neurons: Vec<Neuron>,
    /// Predicted crossings, one per neuron at most.
    crossings: EventQueue,
    /// Events known in advance: deliveries and input knots. Both queues share one total order
    /// (`engine::queue::EventKey`).
    known: EventQueue,
    now: f64,
    /// Readout at `xhat_origin`.
    xhat: Vec<f64>,
    xhat_origin: f64,
    /// The cascade limit, the time of the last spike and how many spikes happened then.
    instant: Instant,
    /// Neurons that can still fire (a killed neuron never crosses again).
    alive: Vec<bool>,
    counters: Counters,
    /// Voltages at probed neurons' spikes (a state monitor's `at_spikes`).
    probe: Option<SpikeProbe>,
    /// Who is in a refractory period (the clamped neurons hold their own voltage).
    refractory: Refractoriness,
    /// An instant at which a period ended: the same-instant rule runs there once the known
    /// events of that instant are processed.
    ended_at: Option<f64>,
}

impl ActorEngine {
    /// Same initial state as [`crate::engine::kernel::Kernel::new`].
    pub fn new(network: Network, input: Signal, x0: &[f64]) -> Result<ActorEngine, BuildError> {
        let d = network.dims();
        if input.dims() != d {
            return Err(BuildError::new(
                "input",
                format!("{d} components"),
                format!("{}", input.dims()),
            ));
        }
        if x0.len() != d {
            return Err(BuildError::new(
                "target.initial",
                format!("{d} components"),
                format!("{x0:?}"),
            ));
        }
        let v = network.initial_voltages(x0);
        let neurons = v
            .iter()
            .zip(network.thresholds())
            .map(|(&v, &t)| Neuron::new(v, t))
            .collect();
        let mut e = ActorEngine {
            membrane: Membrane::new(network.lambda_v(), network.lambda_d()),
            neurons,
            crossings: EventQueue::with_capacity(network.neurons()),
            known: EventQueue::with_capacity(16),
            now: 0.0,
            xhat: vec![0.0; d],
            xhat_origin: 0.0,
            instant: Instant::new(network.neurons()),
            alive: vec![true; network.neurons()],
            counters: Counters::default(),
            probe: None,
            refractory: Refractoriness::new(&network),
            ended_at: None,
            net: network,
            input,
        };
        e.send_drive(0.0);
        Ok(e)
    }

    /// Sets the longest same-instant cascade allowed before [`SimError::Cascade`] (default N).
    pub fn set_cascade_limit(&mut self, limit: usize) {
        self.instant.set_limit(limit);
    }

    /// Tells every neuron the input polynomial that starts at `t`, and schedules the next knot.
    fn send_drive(&mut self, t: f64) {
        let d = self.net.dims();
        let mut c = vec![0.0; (MAX_DEGREE + 1) * d];
        let degree = self.input.local_polynomial(t, &mut c);
        for i in 0..self.neurons.len() {
            let di = self.net.decoder(i);
            let mut coeffs = [0.0; MAX_DEGREE + 1];
            for (k, ck) in coeffs.iter_mut().enumerate().take(degree + 1) {
                *ck = di
                    .iter()
                    .zip(&c[k * d..(k + 1) * d])
                    .map(|(a, b)| a * b)
                    .sum();
            }
            self.neurons[i].handle(&self.membrane, t, Message::Drive { coeffs, degree });
        }
        let next = self.input.next_knot_after(t);
        if next.is_finite() {
            self.known.schedule(Event::InputKnot, Time::from_secs(next));
        }
    }

    /// Neuron `j` spikes at `t`: one message to every neuron.
    fn fire(&mut self, j: usize, t: f64, spikes: &mut Vec<Spike>) {
        let (neurons, m) = (&self.neurons, &self.membrane);
        probe::at_spike(&mut self.probe, j, |i| neurons[i].voltage_at(m, t));
        spikes.push(Spike {
            time: Time::from_secs(t),
            neuron: j as u32,
        });
        self.counters.spikes += 1;
        let decay = (-self.net.lambda_d() * (t - self.xhat_origin)).exp();
        for (x, dj) in self.xhat.iter_mut().zip(self.net.decoder(j)) {
            *x = *x * decay + dj;
        }
        self.xhat_origin = t;
        let delayed = self.net.fast_delay() > 0.0;
        for k in 0..self.neurons.len() {
            let fast = if k == j || !delayed {
                self.net.fast_weight(k, j)
            } else {
                0.0
            };
            let slow = self.net.slow_weight(k, j);
            self.neurons[k].handle(&self.membrane, t, Message::Synaptic { fast, slow });
        }
        let v = self.neurons[j].voltage_at(&self.membrane, t);
        if let Some(end) = self.refractory.start(j, t, v) {
            if self.refractory.clamps(j) {
                self.neurons[j].handle(&self.membrane, t, Message::Clamp);
            }
            let ev = Event::RefractoryEnd { neuron: j as u32 };
            self.known.schedule(ev, Time::from_secs(end));
        }
        if delayed {
            let seq = self.known.next_seq();
            let at = Time::from_secs(crate::engine::after(t, self.net.fast_delay()));
            self.known.schedule(
                Event::Delivery {
                    source: j as u32,
                    seq,
                },
                at,
            );
        }
    }

    /// The shared same-instant rule at `t` ([`crate::engine::rules::cascade`]).
    fn cascade(
        &mut self,
        t: f64,
        fired: Option<usize>,
        spikes: &mut Vec<Spike>,
    ) -> Result<(), SimError> {
        rules::cascade(self, t, fired, spikes)
    }

    /// Time of the next event that is not a predicted crossing.
    fn next_known_event(&self) -> f64 {
        self.known.next_time().secs()
    }

    /// Every neuron predicts its crossing over `[now, horizon]` and (re)schedules it.
    fn predict_all(&mut self, horizon: f64) {
        let mut stats = CrossingStats::default();
        for (i, nr) in self.neurons.iter().enumerate() {
            let ev = Event::Crossing { neuron: i as u32 };
            if !self.alive[i] || self.refractory.blocks(i) {
                self.crossings.cancel(&ev);
                continue;
            }
            match nr.next_crossing(&self.membrane, self.now, horizon, &mut stats) {
                Some(t) => self.crossings.schedule(ev, Time::from_secs(t)),
                None => self.crossings.cancel(&ev),
            }
        }
        self.counters.add_search(&stats);
    }
}

impl SameInstant for ActorEngine {
    fn instant(&mut self) -> &mut Instant {
        &mut self.instant
    }
    fn most_above(&mut self) -> Option<usize> {
        let r = &self.refractory;
        rules::most_above(
            self.neurons
                .iter()
                .zip(&self.alive)
                .enumerate()
                .map(|(i, (nr, &a))| (nr.overshoot(), a && !r.blocks(i))),
        )
    }
    fn fire_at(&mut self, j: usize, t: f64, spikes: &mut Vec<Spike>) {
        self.fire(j, t, spikes);
    }
    fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }
}

impl Engine for ActorEngine {
    fn time(&self) -> Time {
        Time::from_secs(self.now)
    }

    fn run_until(&mut self, t: Time, spikes: &mut Vec<Spike>) -> Result<(), SimError> {
        let t_stop = super::check_target(self.now, t)?;
        self.predict_all(self.next_known_event().min(t_stop));
        loop {
            // The earlier of the next known event and the next predicted crossing.
            let next = match (self.known.peek(), self.crossings.peek()) {
                (Some(a), Some(b)) => Some(if a.1 <= b.1 { a } else { b }),
                (a, b) => a.or(b),
            };
            let Some((event, key)) = next.filter(|(_, k)| k.time.secs() <= t_stop) else {
                self.now = t_stop;
                return Ok(());
            };
            let t = key.time.secs();
            self.now = t;
            match event {
                Event::Crossing { neuron } => {
                    self.crossings.pop();
                    let j = neuron as usize;
                    // Bring the neuron to the crossing: its voltage there is at threshold.
                    self.neurons[j].advance(&self.membrane, t);
                    self.fire(j, t, spikes);
                    self.counters.crossing_spikes += 1;
                    self.cascade(t, Some(j), spikes)?;
                }
                Event::Delivery { .. } => {
                    // Every delivery at t before any threshold test at t.
                    while let Some((Event::Delivery { source, .. }, k)) = self.known.peek() {
                        if k.time.secs() != t || k.class != EventClass::Delivery {
                            break;
                        }
                        self.known.pop();
                        self.counters.deliveries += 1;
                        let s = source as usize;
                        for k in 0..self.neurons.len() {
                            if k != s {
                                let fast = self.net.fast_weight(k, s);
                                let msg = Message::Synaptic { fast, slow: 0.0 };
                                self.neurons[k].handle(&self.membrane, t, msg);
                            }
                        }
                    }
                    self.cascade(t, None, spikes)?;
                }
                Event::InputKnot => {
                    self.known.pop();
                    self.counters.input_knots += 1;
                    self.send_drive(t);
                }
                Event::RefractoryEnd { neuron } => {
                    self.known.pop();
                    let j = neuron as usize;
                    self.refractory.end(j);
                    self.neurons[j].handle(&self.membrane, t, Message::Release);
                    self.ended_at = Some(t);
                }
            }
            // After the last known event of an instant where a period ended: the neuron may be
            // above threshold (hold) and fires then.
            let more_now = self.known.peek().is_some_and(|(_, k)| k.time.secs() == t);
            if self.ended_at == Some(t) && !more_now {
                self.ended_at = None;
                self.cascade(t, None, spikes)?;
            }
            self.predict_all(self.next_known_event().min(t_stop));
        }
    }

    fn readout(&self, out: &mut [f64]) {
        let decay = (-self.net.lambda_d() * (self.now - self.xhat_origin)).exp();
        for (o, x) in out.iter_mut().zip(&self.xhat) {
            *o = x * decay;
        }
    }

    fn voltages(&self, out: &mut [f64]) {
        for (o, nr) in out.iter_mut().zip(&self.neurons) {
            *o = nr.voltage_at(&self.membrane, self.now);
        }
    }

    fn counters(&self) -> Counters {
        self.counters
    }

    fn probe_spikes(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        probe::start(&mut self.probe, neurons, self.neurons.len())
    }

    fn take_spike_voltages(&mut self, out: &mut Vec<f64>) {
        probe::drain(&mut self.probe, out);
    }
}

/// Input changes and kills, with the kernel's semantics; the other controls are the kernel's
/// alone (the actor engine is the reference for the spike semantics, not a run engine).
impl Control for ActorEngine {
    /// As [`crate::engine::kernel::Kernel`]'s: every neuron is told the new input polynomial at
    /// the current time (voltages stay continuous), and the next knot is the new input's.
    fn set_input(&mut self, input: Signal) -> Result<(), BuildError> {
        let d = self.net.dims();
        if input.dims() != d {
            return Err(BuildError::new(
                "input",
                format!("{d} components (network.dims)"),
                format!("{}", input.dims()),
            ));
        }
        self.input = input;
        self.known.cancel(&Event::InputKnot);
        self.send_drive(self.now);
        Ok(())
    }

    fn kill(&mut self, neurons: &[usize]) -> Result<(), BuildError> {
        crate::engine::kill(&mut self.alive, neurons)?;
        for &i in neurons {
            self.crossings.cancel(&Event::Crossing { neuron: i as u32 });
        }
        Ok(())
    }

    fn alive(&self) -> &[bool] {
        &self.alive
    }

    fn place_readout(&mut self, _xhat: &[f64]) -> Result<(), BuildError> {
        Err(unsupported("readout"))
    }

    fn set_voltage_noise(
        &mut self,
        _sigma: f64,
        _interval: f64,
        _seed: u64,
    ) -> Result<(), BuildError> {
        Err(unsupported("noise"))
    }

    fn delay_next_spike(&mut self, _from: f64, _delay: f64) -> Result<(), BuildError> {
        Err(unsupported("delay_spike"))
    }
}

fn unsupported(field: &str) -> BuildError {
    BuildError::new(
        field,
        "the exact kernel (the actor engine supports input changes and kills only)",
        "the actor engine",
    )
}
