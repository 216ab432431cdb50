//! Run counters: what an engine did, for `summary.json` and for performance work.

use serde::Serialize;

/// Counts kept by every engine (fields that do not apply to an engine stay 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Spikes emitted (all kinds).
    pub spikes: u64,
    /// Spikes caused by a continuous threshold crossing.
    pub crossing_spikes: u64,
    /// Spikes fired at the same instant as another, by the same-instant rule.
    pub cascade_spikes: u64,
    /// Delayed fast-connection deliveries processed.
    pub deliveries: u64,
    /// Input knots (changes of the input polynomial) processed.
    pub input_knots: u64,
    /// Longest same-instant cascade (number of spikes at one instant).
    pub longest_cascade: u64,
    /// Neuron-intervals proven crossing-free by the cheap bound, without a search.
    pub proven_absent: u64,
    /// Certified searches run (neurons the cheap bound could not exclude).
    pub searches: u64,
    /// Enclosures evaluated inside searches.
    pub enclosures: u64,
    /// Crossings refined to ulp level.
    pub root_solves: u64,
    /// Polynomial fits of the learned slow current (one per event while learning).
    pub refits: u64,
    /// Certified steps of the exact kernel's shared-state crossing search (one hierarchy
    /// descent each); left out of `summary.json` while 0 (the per-neuron layout and the other
    /// engines take none).
    #[serde(skip_serializing_if = "is_zero")]
    pub bound_steps: u64,
    /// Crossing searches the shared-state layout's relaxation index took (one-dimensional
    /// fast-only intervals with constant input); left out of `summary.json` while 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub relaxed_searches: u64,
    /// Time steps taken (dense stepper only).
    pub steps: u64,
    /// Dense steps that ended with a neuron still above threshold after the spike rule fired
    /// (`one_per_step`: a second one waiting; `greedy`: more than N): spikes deferred by the
    /// grid. Left out of `summary.json` while 0; when not, the summary carries a warning.
    #[serde(skip_serializing_if = "is_zero")]
    pub saturated_steps: u64,
}

/// Every counter, for checkpoints (`summary.json`'s form leaves some out, which a checkpoint's
/// format cannot skip): `#[serde(with = "crate::engine::counters::all")]`.
pub(crate) mod all {
    use super::Counters;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(c: &Counters, s: S) -> Result<S::Ok, S::Error> {
        let Counters {
            spikes,
            crossing_spikes,
            cascade_spikes,
            deliveries,
            input_knots,
            longest_cascade,
            proven_absent,
            searches,
            enclosures,
            root_solves,
            refits,
            bound_steps,
            relaxed_searches,
            steps,
            saturated_steps,
        } = *c;
        [
            spikes,
            crossing_spikes,
            cascade_spikes,
            deliveries,
            input_knots,
            longest_cascade,
            proven_absent,
            searches,
            enclosures,
            root_solves,
            refits,
            bound_steps,
            steps,
            saturated_steps,
            relaxed_searches,
        ]
        .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Counters, D::Error> {
        let [spikes, crossing_spikes, cascade_spikes, deliveries, input_knots, longest_cascade, proven_absent, searches, enclosures, root_solves, refits, bound_steps, steps, saturated_steps, relaxed_searches] =
            <[u64; 15]>::deserialize(d)?;
        Ok(Counters {
            spikes,
            crossing_spikes,
            cascade_spikes,
            deliveries,
            input_knots,
            longest_cascade,
            proven_absent,
            searches,
            enclosures,
            root_solves,
            refits,
            bound_steps,
            relaxed_searches,
            steps,
            saturated_steps,
        })
    }
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

impl Counters {
    /// Adds a crossing search's work.
    pub(crate) fn add_search(&mut self, s: &crate::closed_form::crossing::CrossingStats) {
        self.searches += s.searches;
        self.enclosures += s.enclosures;
        self.root_solves += s.root_solves;
    }
}
