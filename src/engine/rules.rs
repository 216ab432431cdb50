//! The same-instant rule and the cascade limit, in one place for every engine.
//!
//! **Who fires next at an instant** ([`most_above`]): among the neurons that can fire, the one
//! *strictly* above threshold by the most (largest `V − T`; ties: the lower index). A neuron
//! left *exactly* at threshold by a jump is not picked here: it waits for its continuous
//! dynamics, which make it cross at once only if its voltage is rising (the crossing search of
//! the exact engines, the next step of the stepper).
//!
//! **Cascade limit** ([`Instant`], [`cascade`]): spikes at one instant are counted, continuous
//! crossings included (so that neurons resting at threshold cannot ping-pong forever either);
//! a spike within a few ulps or a picosecond of the previous instant with spikes continues its
//! count (a ping-pong advancing time by rounding-level steps would otherwise never end). A
//! spike that would make the count exceed the limit is *refused*: the run stops with
//! [`SimError::Cascade`] before emitting it, so at most `limit` spikes are ever emitted at one
//! instant by the same-instant rule (a continuous crossing that arrives when the count is already
//! at the limit is emitted, then the run stops at once). The kernel and the actor engine both
//! run [`cascade`], so they stop at the same spike.
//!
//! **Spike effects.** A spike of `j` at `t` has these instantaneous effects, in every engine:
//! the spike is recorded; the readout jumps by `D_j` (`r_j += 1`); with explicit weights the slow
//! currents gain the column `Ω_s[·, j]` (low-rank: they follow from x̂); `V_j` is reset by
//! `Ω_f[j,j]`; every other `V_k` drops by `Ω_f[k,j]` now, or — with a fast delay `δ_f > 0` — at
//! `t + δ_f`, where all deliveries at one time precede any threshold test. The *arithmetic* of
//! those effects stays with each engine's data layout (structure-of-arrays at the interval
//! origin in the kernel and the stepper, a message per neuron in the actor engine): the order of
//! the floating-point operations is part of the byte-identical outputs, and each layout sums in
//! its own order (the actors decay x̂ at every spike, the kernel at every event; the stepper's
//! reset is applied before the readout jump). What must agree — which neuron fires, when the
//! cascade stops — is decided here.

use crate::engine::counters::Counters;
use crate::engine::Spike;
use crate::error::SimError;

/// The neuron strictly above threshold by the most (ties: lower index) among `overshoots` —
/// `(V_i − T_i, can fire)` in index order — if any.
#[inline]
pub(crate) fn most_above(overshoots: impl IntoIterator<Item = (f64, bool)>) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    for (i, (over, alive)) in overshoots.into_iter().enumerate() {
        if over > 0.0 && alive && best.is_none_or(|(b, _)| over > b) {
            best = Some((over, i));
        }
    }
    best.map(|(_, i)| i)
}

/// How many of the neurons of a cascade its error names.
const NAMED: usize = 12;

/// Spikes closer than this (relative to the time, about 8 ulps) to the previous instant with
/// spikes count as the same instant for the cascade limit.
const NEAR: f64 = 4.0 * f64::EPSILON;

/// … and so do spikes less than a picosecond after it: far below any time scale of a network
/// (membrane and readout rates, delays, refractory periods), but the interval of a ping-pong
/// whose spikes undo each other up to rounding (an antipodal pair with thresholds far below its
/// resets) — which would otherwise advance time a femtosecond per spike and never end.
const PING_PONG: f64 = 1e-12;

/// The cascade bookkeeping: the limit, and the last instant with spikes, their count there and
/// the first distinct neurons that fired in it (for the error).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub(crate) struct Instant {
    limit: usize,
    time: f64,
    /// When the cascade that ends at `time` began (later than `time` never).
    start: f64,
    length: usize,
    neurons: Vec<u32>,
}

impl Instant {
    /// No spikes yet; at most `limit` (at least 1) spikes per instant.
    pub(crate) fn new(limit: usize) -> Instant {
        Instant {
            limit: limit.max(1),
            time: f64::NAN,
            start: f64::NAN,
            length: 0,
            neurons: Vec::with_capacity(NAMED),
        }
    }

    /// Sets the longest same-instant cascade allowed (at least 1).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    fn error(&self, time: f64) -> SimError {
        SimError::Cascade {
            time,
            since: if self.start < time { self.start } else { time },
            limit: self.limit,
            neurons: self.neurons.clone(),
        }
    }

    /// Whether a spike at `t` continues the cascade of the last instant: at that instant, or
    /// within a few ulps ([`NEAR`]) or a picosecond ([`PING_PONG`]) of it.
    fn continues(&self, t: f64) -> bool {
        self.time == t || (t > self.time && t - self.time <= NEAR * t.abs() + PING_PONG)
    }

    /// Notes that `j` fired at this instant.
    fn note(&mut self, j: usize) {
        let j = j as u32;
        if self.neurons.len() < NAMED && !self.neurons.contains(&j) {
            self.neurons.push(j);
        }
    }
}

/// What [`cascade`] needs from an engine.
pub(crate) trait SameInstant {
    /// The engine's cascade bookkeeping.
    fn instant(&mut self) -> &mut Instant;
    /// [`most_above`] over the engine's neurons at the current instant (`&mut`: an engine
    /// may bring an index up to date to answer).
    fn most_above(&mut self) -> Option<usize>;
    /// Emits `j`'s spike at `t` (the current instant) with its instantaneous effects.
    fn fire_at(&mut self, j: usize, t: f64, spikes: &mut Vec<Spike>);
    /// The engine's counters.
    fn counters_mut(&mut self) -> &mut Counters;
}

/// The same-instant rule at `t`: fires the neuron most strictly above threshold until none is,
/// refusing (with [`SimError::Cascade`], naming the neurons of the cascade) a spike beyond the
/// limit. `fired` is the neuron the caller just fired at `t` by a continuous crossing, if any
/// (`None` after deliveries or the end of a refractory period).
pub(crate) fn cascade<E: SameInstant>(
    e: &mut E,
    t: f64,
    fired: Option<usize>,
    spikes: &mut Vec<Spike>,
) -> Result<(), SimError> {
    let inst = e.instant();
    let continues = inst.continues(t);
    if !continues {
        inst.neurons.clear();
        inst.start = t;
    }
    let mut length = usize::from(fired.is_some()) + if continues { inst.length } else { 0 };
    if let Some(j) = fired {
        inst.note(j);
    }
    let limit = inst.limit;
    if length > limit {
        return Err(inst.error(t));
    }
    while let Some(k) = e.most_above() {
        if length >= limit {
            let inst = e.instant();
            inst.note(k);
            return Err(inst.error(t));
        }
        e.fire_at(k, t, spikes);
        e.instant().note(k);
        e.counters_mut().cascade_spikes += 1;
        length += 1;
    }
    let c = e.counters_mut();
    c.longest_cascade = c.longest_cascade.max(length as u64);
    let i = e.instant();
    if length > 0 {
        i.time = t;
        i.length = length;
    }
    Ok(())
}
