//! The kernel's crossing search: the first threshold crossing after the last event, over
//! windows of doubling length, kept across `run_until` stops.
//!
//! Why kept: a run that stops (to sample the readout or a state monitor) and goes on must find
//! the same crossings as a run that does not. The windows are laid out from the last event with
//! no regard for where a run stops — a stop never truncates a window — and the search's progress
//! (the windows proven crossing-free, a crossing found beyond the stop) survives the stop; only
//! an event or a change of the network (which re-bases every trajectory) starts a new search.
//! So sampling, at any interval, never moves a root by an ulp.

use super::{Kernel, MIN_WINDOW};
use crate::closed_form::crossing::{CrossingStats, MARGIN};

/// Where the current interval's crossing search stands.
#[derive(Clone, Copy, Debug)]
pub(super) struct Search {
    /// Where the search began (the last event): the windows are laid out from here.
    start: f64,
    /// `[start, lo)` is proven crossing-free.
    lo: f64,
    /// The next window's length.
    width: f64,
    /// The earliest crossing, once found (possibly beyond the stop it was searched for).
    found: Option<(f64, usize)>,
    /// Whether the search reached its end (the next known event) without a crossing.
    exhausted: bool,
}

impl Kernel {
    /// Earliest crossing in `[now, end]` over all neurons (ties to the lower index), where `end`
    /// is the next known event, searched at least up to `stop`: `None` when there is none up to
    /// `end`, or none up to `stop` so far (the search goes on from there at the next call).
    ///
    /// Searches windows of doubling length (the first as long as a few recent inter-spike
    /// gaps), because bounds over a short window exclude almost every neuron while bounds over
    /// a long horizon do not: in an EBN nearly every neuron on the side of the error *would*
    /// cross eventually if nobody spiked.
    pub(super) fn next_crossing(&mut self, end: f64, stop: f64) -> Option<(f64, usize)> {
        let mut s = self.search.take().unwrap_or(Search {
            start: self.now,
            lo: self.now,
            width: self.window,
            found: None,
            exhausted: false,
        });
        while s.found.is_none() && !s.exhausted && s.lo <= stop {
            let mut hi = if end - s.lo <= s.width {
                end
            } else {
                s.lo + s.width
            };
            if hi <= s.lo {
                hi = end;
            }
            if let Some(found) = self.crossing_in(s.lo, hi) {
                let gap = found.0 - s.start;
                if gap > 0.0 {
                    self.window = (4.0 * gap).max(MIN_WINDOW);
                }
                s.found = Some(found);
            } else if hi >= end {
                s.exhausted = true;
            } else {
                s.lo = hi;
                s.width *= 2.0;
            }
        }
        self.search = Some(s);
        s.found
    }

    /// Earliest crossing in `[lo, hi]`, given that none exists in `[now, lo)`.
    fn crossing_in(&mut self, lo: f64, hi: f64) -> Option<(f64, usize)> {
        let m = self.membrane;
        let bva = m.values(lo - self.origin, self.degree);
        let bvb = m.values(hi - self.origin, self.degree);
        let ranges = m.ranges(&bva, &bvb, self.degree);
        let th = self.net.thresholds();
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        let mut dead = 0;
        for (i, &t) in th.iter().enumerate() {
            if !self.alive[i] || self.refractory.blocks(i) {
                dead += 1;
                continue;
            }
            let tr = self.trajectory(i);
            let (ub, mag) = tr.upper_bound(&ranges);
            if ub - t + MARGIN * (mag + t.abs()) < 0.0 {
                continue;
            }
            // Linear extrapolation of the crossing: a cheap guess of who crosses first.
            let (f, slope) = (tr.value(&bva) - t, tr.derivative(&m, &bva));
            let guess = if f >= 0.0 {
                0.0
            } else if slope > 0.0 {
                -f / slope
            } else {
                f64::INFINITY
            };
            candidates.push((guess, i as u32));
        }
        self.counters.proven_absent += (self.n - dead - candidates.len()) as u64;
        // Likely-first first, so the horizon shrinks fast and later candidates are excluded by
        // one bound: only the few best guesses are ordered (a full sort costs more than it saves).
        let by_guess = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let head = candidates.len().min(8);
        if candidates.len() > head {
            candidates.select_nth_unstable_by(head, by_guess);
        }
        candidates[..head].sort_unstable_by(by_guess);
        let mut best: Option<(f64, usize)> = None;
        let mut stats = CrossingStats::default();
        // Bounds over [lo, best so far], refreshed when the best improves: most candidates after
        // the first are excluded here in O(1), without a search.
        let (mut best_ranges, mut bv_end, mut end) = (ranges, bvb, hi);
        for &(_, i) in &candidates {
            let i = i as usize;
            let tr = self.trajectory(i);
            if best.is_some() {
                let (ub, mag) = tr.upper_bound(&best_ranges);
                if ub - th[i] + MARGIN * (mag + th[i].abs()) < 0.0 {
                    self.counters.proven_absent += 1;
                    continue;
                }
            }
            let origin = self.origin;
            let found = self.searcher.first_crossing_between(
                &m,
                &tr,
                th[i],
                origin,
                (lo, &bva),
                (end, &bv_end),
                &mut stats,
            );
            if let Some(t) = found {
                if best.is_none_or(|(bt, bi)| t < bt || (t == bt && i < bi)) {
                    best = Some((t, i));
                    end = t;
                    bv_end = m.values(t - origin, self.degree);
                    best_ranges = m.ranges(&bva, &bv_end, self.degree);
                }
            }
        }
        self.counters.add_search(&stats);
        self.candidates = candidates;
        best
    }
}
