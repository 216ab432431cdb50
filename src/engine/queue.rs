//! The exact event queue: total, content-based ordering of everything that happens at a known
//! time.
//!
//! Keys order by `(time, class, neuron, seq)`:
//! 1. earlier time first;
//! 2. at equal times, by [`EventClass`]: ends of refractory periods, then fast-connection
//!    deliveries, then input knots, then threshold crossings — so a period ending at `t` is over
//!    before the inputs of `t` arrive (the period is half-open), and every delivery at `t` is
//!    applied before any threshold test at `t`;
//! 3. then by neuron index (lower first), so same-time crossings fire in index order;
//! 4. then by the order of scheduling (`seq`), the last resort for otherwise equal events.
//!
//! Items are unique (the `priority-queue` crate): a neuron has at most one pending predicted
//! crossing, replaced in place when its trajectory changes — no stale entries, no allocation.
//! Deliveries scheduled in time order (every spike's, with one fast delay) skip the heap: they
//! wait in a FIFO lane kept in key order, and the queue pops whichever of the two fronts is
//! first — the same order, without a heap update and a hash per delivery.

use crate::time::Time;
use priority_queue::PriorityQueue;
use std::cmp::Reverse;
use std::collections::VecDeque;

/// Kinds of events, in the order they are processed at equal times.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
pub(crate) enum EventClass {
    /// A neuron's refractory period ends.
    RefractoryEnd,
    /// A delayed fast-connection input arrives.
    Delivery,
    /// The input polynomial changes (a segment start).
    InputKnot,
    /// A neuron's voltage reaches its threshold.
    Crossing,
}

/// Total order of events; see the module docs.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
pub(crate) struct EventKey {
    /// When.
    pub(crate) time: Time,
    /// What kind.
    pub(crate) class: EventClass,
    /// The neuron concerned (target of a crossing, source of a delivery; 0 otherwise).
    pub(crate) neuron: u32,
    /// Scheduling order.
    pub(crate) seq: u64,
}

/// An event known in advance.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
pub(crate) enum Event {
    /// Neuron `neuron`'s predicted threshold crossing (at most one per neuron).
    Crossing {
        /// The neuron.
        neuron: u32,
    },
    /// The fast input of `source`'s spike reaches the other neurons.
    Delivery {
        /// The presynaptic neuron.
        source: u32,
        /// Unique id (a neuron may have several deliveries in flight).
        seq: u64,
    },
    /// The input signal's next segment starts.
    InputKnot,
    /// `neuron`'s refractory period ends (at most one per neuron: a later spike's period
    /// replaces it).
    RefractoryEnd {
        /// The neuron.
        neuron: u32,
    },
}

impl Event {
    /// Its class and neuron in the key order.
    fn class_and_neuron(self) -> (EventClass, u32) {
        match self {
            Event::Crossing { neuron } => (EventClass::Crossing, neuron),
            Event::Delivery { source, .. } => (EventClass::Delivery, source),
            Event::InputKnot => (EventClass::InputKnot, 0),
            Event::RefractoryEnd { neuron } => (EventClass::RefractoryEnd, neuron),
        }
    }
}

/// Priority queue of [`Event`]s ordered by [`EventKey`].
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub(crate) struct EventQueue {
    pq: PriorityQueue<Event, Reverse<EventKey>>,
    /// Deliveries in key order (each scheduled no earlier than the last one in the lane).
    lane: VecDeque<(EventKey, Event)>,
    seq: u64,
}

impl EventQueue {
    /// An empty queue with room for `capacity` events.
    pub(crate) fn with_capacity(capacity: usize) -> EventQueue {
        EventQueue {
            pq: PriorityQueue::with_capacity(capacity),
            lane: VecDeque::new(),
            seq: 0,
        }
    }

    /// A fresh sequence number (for [`Event::Delivery`] ids).
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Schedules `event` at `time`, replacing its previous schedule if it has one.
    pub(crate) fn schedule(&mut self, event: Event, time: Time) {
        let (class, neuron) = event.class_and_neuron();
        let seq = self.next_seq();
        let key = EventKey {
            time,
            class,
            neuron,
            seq,
        };
        if let Event::Delivery { .. } = event {
            if self.lane.back().is_none_or(|(k, _)| k.time <= time) {
                // (Deliveries are unique: nothing to replace.) Same-time deliveries are few:
                // the new one goes to its place among them.
                let mut at = self.lane.len();
                while at > 0 && self.lane[at - 1].0 > key {
                    at -= 1;
                }
                if at == self.lane.len() {
                    self.lane.push_back((key, event));
                } else {
                    self.lane.insert(at, (key, event));
                }
                return;
            }
        }
        self.pq.push(event, Reverse(key));
    }

    /// The lane's entry of `event`, if it is a delivery waiting there.
    fn in_lane(&self, event: &Event) -> Option<usize> {
        match event {
            Event::Delivery { .. } => self.lane.iter().position(|(_, e)| e == event),
            _ => None,
        }
    }

    /// Whether `event` is scheduled.
    pub(crate) fn is_scheduled(&self, event: &Event) -> bool {
        self.pq.get(event).is_some() || self.in_lane(event).is_some()
    }

    /// Removes `event` if scheduled.
    pub(crate) fn cancel(&mut self, event: &Event) {
        if self.pq.remove(event).is_none() {
            if let Some(at) = self.in_lane(event) {
                self.lane.remove(at);
            }
        }
    }

    /// Whether the lane's front comes before the heap's.
    fn lane_first(&self) -> bool {
        match (self.lane.front(), self.pq.peek()) {
            (Some((lk, _)), Some((_, hk))) => *lk < hk.0,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// The next event and its key, without removing it.
    pub(crate) fn peek(&self) -> Option<(Event, EventKey)> {
        if self.lane_first() {
            return self.lane.front().map(|(k, e)| (*e, *k));
        }
        self.pq.peek().map(|(e, k)| (*e, k.0))
    }

    /// Time of the next event, or [`Time::NEVER`].
    pub(crate) fn next_time(&self) -> Time {
        let heap = self.pq.peek().map_or(Time::NEVER, |(_, k)| k.0.time);
        self.lane.front().map_or(heap, |(k, _)| k.time.min(heap))
    }

    /// Removes and returns the next event.
    pub(crate) fn pop(&mut self) -> Option<(Event, EventKey)> {
        if self.lane_first() {
            return self.lane.pop_front().map(|(k, e)| (e, k));
        }
        self.pq.pop().map(|(e, k)| (e, k.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Differential test against a sorted Vec, with times on a tiny grid to force ties.
        #[test]
        fn pops_in_key_order(ops in prop::collection::vec((0u8..4, 0u32..5, 0u8..4), 1..200)) {
            let mut q = EventQueue::default();
            let mut shadow: Vec<(EventKey, Event)> = Vec::new();
            for (t, n, kind) in ops {
                let time = Time::from_secs(t as f64 * 0.5);
                let ev = match kind {
                    0 => Event::Crossing { neuron: n },
                    1 => { let seq = q.next_seq(); Event::Delivery { source: n, seq } }
                    2 => Event::RefractoryEnd { neuron: n },
                    _ => Event::InputKnot,
                };
                q.schedule(ev, time);
                shadow.retain(|(_, e)| *e != ev);
                let (class, neuron) = ev.class_and_neuron();
                shadow.push((EventKey { time, class, neuron, seq: q.seq }, ev));
            }
            shadow.sort();
            let mut popped = Vec::new();
            while let Some((e, k)) = q.pop() { popped.push((k, e)); }
            prop_assert_eq!(popped, shadow);
        }
    }
}
