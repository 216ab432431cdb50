//! The kernel's crossing search: the first threshold crossing after the last event, over
//! windows of doubling length, kept across `run_until` stops.
//!
//! Why kept: a run that stops (to sample the readout or a state monitor) and goes on must find
//! the same crossings as a run that does not. The windows are laid out from the last event with
//! no regard for where a run stops — a stop never truncates a window — and the search's progress
//! (the windows proven crossing-free, a crossing found beyond the stop) survives the stop; only
//! an event or a change of the network (which re-bases every trajectory) starts a new search.
//! So sampling, at any interval, never moves a root by an ulp.

use super::carry::Member;
use super::relax::Relaxed;
use super::shared::Shared;
use super::tree::{Reach, Scratch};
use super::{Kernel, Layout, MIN_WINDOW};
use crate::closed_form::crossing::{proven_below, CrossingStats, Searcher};
use crate::closed_form::expo::{BasisValues, Membrane, Trajectory};
use crate::model::network::Weights;

/// Where the current interval's crossing search stands.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
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
    /// Whether the last step's window held too many neurons within reach of threshold.
    crowded: bool,
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
        if self.shared.is_some() {
            return self.next_crossing_shared(end, stop);
        }
        let mut s = self.search.take().unwrap_or(Search {
            start: self.now,
            lo: self.now,
            width: self.window,
            found: None,
            exhausted: false,
            crowded: false,
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
        let bva = self.basis_at(lo - self.origin);
        let bvb = self.basis_at(hi - self.origin);
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
            if proven_below(&tr, t, &ranges) {
                continue;
            }
            candidates.push((crossing_guess(&m, &tr, t, &bva), i as u32));
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
            if best.is_some() && proven_below(&tr, th[i], &best_ranges) {
                self.counters.proven_absent += 1;
                continue;
            }
            let origin = self.origin;
            let found = self.searcher.first_crossing_between(
                &m,
                &tr,
                th[i],
                origin,
                (lo, &bva),
                (end, &bv_end),
                None,
                &mut stats,
            );
            if let Some(t) = found {
                if best.is_none_or(|(bt, bi)| t < bt || (t == bt && i < bi)) {
                    best = Some((t, i));
                    end = t;
                    bv_end = self.basis_at(t - origin);
                    best_ranges = m.ranges(&bva, &bv_end, self.degree);
                }
            }
        }
        self.counters.add_search(&stats);
        self.candidates = candidates;
        best
    }
}

impl Kernel {
    /// The basis at local time `tau` as this interval's trajectories need it: without the slow
    /// basis function (an exponential) when no trajectory has a slow current (low-rank weights
    /// with `M x̂ = 0`: every slow coefficient is ±0, so `E`'s value never enters a sum) — the
    /// same values and bounds to the bit as with it ([`Membrane::values_for`]).
    #[inline]
    pub(super) fn basis_at(&self, tau: f64) -> BasisValues {
        let slow = !matches!(self.net.weights(), Weights::LowRank { .. })
            || self.mx.iter().any(|&x| x != 0.0);
        self.membrane.values_with(tau, self.degree, slow)
    }
}

/// Linear extrapolation of `tr`'s crossing of `threshold` from where the basis is `bv`: a cheap
/// guess of who crosses first (0 when already at or above it, +∞ when not rising).
fn crossing_guess(m: &Membrane, tr: &Trajectory, threshold: f64, bv: &BasisValues) -> f64 {
    let (f, slope) = (tr.value(bv) - threshold, tr.derivative(m, bv));
    if f >= 0.0 {
        0.0
    } else if slope > 0.0 {
        -f / slope
    } else {
        f64::INFINITY
    }
}

/// Most neurons the shared-state search hands to the certified per-neuron search at once.
const BAND: usize = 32;

/// Halvings of a stalled step before the band is taken whatever its size.
const MAX_HALVINGS: usize = 40;

/// The scratch and the counts of one shared-state search.
pub(super) struct Work {
    pub(super) searcher: Searcher,
    pub(super) stats: CrossingStats,
    steps: u64,
    pub(super) proven_absent: u64,
    /// Whether band searches record their members for the carry ([`super::carry`]), the
    /// members and bounds of the last one, and its window's end (when its band was small).
    pub(super) record: bool,
    members: Vec<Member>,
    band_end: Option<f64>,
}

impl Kernel {
    /// [`Kernel::next_crossing`] in the shared-state layout: certified steps instead of windows.
    ///
    /// From a point `a` proven crossing-free so far, over a window `[a, b]`: the hierarchy
    /// collects the *band* of neurons that can reach threshold there (`V_i(a) − T_i` plus how
    /// far `y`'s enclosure over the window and the decay of negative `w`'s can raise it,
    /// [`super::tree::DecoderTree::within_reach`]). A small band gets the certified per-neuron
    /// search, which decides the window (earliest, ties to the lower index) — everyone else is
    /// proven below threshold there. Otherwise one descent gives the largest overshoot
    /// `F(a) = max_i (V_i(a) − T_i) < 0` and its neuron: if that leader's own crossing `t_c`
    /// leaves a small band over `[a, t_c]`, that band decides; else, with `L ≥ max_i V̇_i` from an
    /// enclosure of `ẏ` (`‖D‖_max ‖ẏ‖_max + λ_V max(0, −w_min)`), nobody crosses before
    /// `a + |F(a)|/L`: a step. Every skipped piece is proven crossing-free with margins for
    /// rounding, as in the per-neuron layout.
    pub(super) fn next_crossing_shared(&mut self, end: f64, stop: f64) -> Option<(f64, usize)> {
        let fresh = self.search.is_none();
        let carries = self.carries();
        let mut s = self.search.take().unwrap_or(Search {
            start: self.now,
            lo: self.now,
            width: self.window,
            found: None,
            exhausted: false,
            crowded: false,
        });
        let mut sh = self.shared.take().expect("shared layout");
        let mut work = Work {
            searcher: std::mem::take(&mut self.searcher),
            stats: CrossingStats::default(),
            steps: 0,
            proven_absent: 0,
            record: carries,
            members: std::mem::take(&mut sh.members),
            band_end: None,
        };
        // A new search on an interval the relaxation index describes asks it first
        // ([`super::relax`]): usually it decides the whole search.
        let relaxed = fresh && self.relaxes() && {
            work.record = false;
            let outcome = self.relaxed_first(&mut sh, end, &mut work);
            work.record = carries;
            match outcome {
                Relaxed::Found(t, i) => s.found = Some((t, i)),
                Relaxed::Exhausted => {
                    s.lo = end;
                    s.exhausted = true;
                }
                Relaxed::Upto(hi) => s.lo = hi,
                Relaxed::Declined => {}
            }
            !matches!(outcome, Relaxed::Declined)
        };
        if s.found.is_none() && !s.exhausted {
            // The hierarchy searches: its extremes brought up to date first.
            sh.tree.flush(&self.alive);
        }
        // A new search after spikes (and inhibitory deliveries) first asks the band carried
        // from the last certified window, up to that window's end ([`super::carry`]).
        if relaxed {
            self.counters.relaxed_searches += 1;
            sh.carry.forget();
        } else if !carries {
            sh.carry.forget();
        } else if fresh {
            if let Some(cend) = sh.carry.end() {
                match self.carried_first(&mut sh, end, &mut work) {
                    Some(found) => s.found = Some(found),
                    None => s.lo = cend.min(end).max(s.lo),
                }
                if s.found.is_none() && s.lo >= end {
                    s.exhausted = true;
                }
            }
        }
        while s.found.is_none() && !s.exhausted && s.lo <= stop {
            self.shared_step(&mut sh, &mut s, end, &mut work);
            if s.lo >= end {
                s.exhausted = true;
            }
        }
        if work.steps > 0 {
            // The last band searched is carried when it was small.
            match work.band_end {
                Some(bend) if carries => sh.carry.set(bend, &work.members),
                _ => sh.carry.forget(),
            }
        }
        sh.members = work.members;
        self.shared = Some(sh);
        self.searcher = work.searcher;
        self.counters.add_search(&work.stats);
        self.counters.bound_steps += work.steps;
        self.counters.proven_absent += work.proven_absent;
        if self.layout == Layout::Auto {
            let band = work.stats.searches + work.proven_absent;
            if self.thrift.book(self.n, work.steps, band) {
                tracing::debug!(
                    t = self.now,
                    "shared-state search costs more than per-neuron events: per-neuron layout"
                );
            }
        }
        if let Some((t, _)) = s.found {
            let gap = t - s.start;
            if gap > 0.0 {
                self.window = (4.0 * gap).max(MIN_WINDOW);
            }
        }
        self.search = Some(s);
        s.found
    }

    /// One certified step of the shared-state search from `s.lo` (see
    /// [`Kernel::next_crossing_shared`]).
    fn shared_step(&self, sh: &mut Shared, s: &mut Search, end: f64, work: &mut Work) {
        let origin = self.origin;
        let a = s.lo;
        let b = if end - a <= s.width { end } else { a + s.width };
        let bva = self.basis_at(a - origin);
        let bvb = self.basis_at(b - origin);
        let mut ya = std::mem::take(&mut sh.ya);
        let mut scratch = std::mem::take(&mut sh.scratch);
        self.shared_y_at(sh, &bva, &mut ya);
        let ga = sh.g * bva.leak;
        let can_fire = |i: usize| self.can_fire(i);
        work.steps += 1;
        // The whole window at once: when only a small band of neurons is within reach of
        // threshold over [a, b], their certified search decides it (the usual case: one query).
        let (mut dlo, mut dhi) = std::mem::take(&mut sh.dy);
        let (within, rate) = self.reach_over(sh, &ya, (a, &bva), (b, &bvb), (&mut dlo, &mut dhi));
        let margin = 0.5 * within.slack;
        // (Skipped while the leader is closing in: the band of the whole window was too large
        // at the last step, and the leader's piece is tried instead.)
        let tried = !s.crowded;
        let decided = tried
            && sh
                .tree
                .within_reach(&ya, ga, &within, can_fire, BAND, &mut scratch);
        s.crowded = !decided;
        sh.dy = (dlo, dhi);
        if decided {
            match self.band_first(sh, &scratch.band, (a, &bva), (b, &bvb), None, work) {
                Some(found) => s.found = Some(found),
                None => s.lo = b,
            }
        } else {
            let (at_a, at_b) = ((a, &bva), (b, &bvb));
            self.leader_step(
                sh,
                s,
                (at_a, at_b, tried),
                (&ya, ga),
                (rate, margin),
                &mut scratch,
                work,
            );
        }
        if let Some((_, i)) = s.found {
            // Who can be at threshold with it: the band (see `Kernel::shared_most_above`).
            sh.found_band.clear();
            sh.found_band.extend_from_slice(&scratch.band);
            sh.found_band.push(i as u32);
        } else if s.lo >= b {
            // The whole window was certified: the next one may be wider.
            s.width *= 2.0;
        } else if !s.exhausted {
            // A step short of the window's end: the rate bound over the window is loose against
            // the gap, so the next window is narrower (else a window grown wide over a quiet
            // stretch could keep the steps tiny for ever).
            s.width = (0.5 * (b - a)).max(s.lo - a);
        }
        sh.ya = ya;
        sh.scratch = scratch;
    }

    /// The rest of a step whose window holds too many neurons within reach of threshold: the
    /// leading neuron's own crossing `t_c` narrows the piece to `[a, t_c]`, whose band may be
    /// small; otherwise the step is `|F(a)|/L` (or, stalled at threshold, the longest piece
    /// whose band is small).
    #[allow(clippy::too_many_arguments)] // one step's state, passed on as it stands
    fn leader_step(
        &self,
        sh: &mut Shared,
        s: &mut Search,
        ((a, bva), (b, bvb), tried): ((f64, &BasisValues), (f64, &BasisValues), bool),
        (ya, ga): (&[f64], f64),
        (rate, margin): (f64, f64),
        scratch: &mut Scratch,
        work: &mut Work,
    ) {
        let (m, origin) = (self.membrane, self.origin);
        let th = self.net.thresholds();
        let can_fire = |i: usize| self.can_fire(i);
        let lead = sh
            .tree
            .argmax(ya, ga, f64::NEG_INFINITY, can_fire, &mut scratch.stack);
        let Some((f, lead)) = lead else {
            // Nobody can fire until the next event.
            s.exhausted = true;
            return;
        };
        let tr = self.shared_trajectory(sh, lead);
        let tc = work.searcher.first_crossing_between(
            &m,
            &tr,
            th[lead],
            origin,
            (a, bva),
            (b, bvb),
            None,
            &mut work.stats,
        );
        let (mut dlo, mut dhi) = std::mem::take(&mut sh.dy);
        // The leader's piece: [a, t_c], or [a, b] when it does not cross there (unless that
        // was just tried).
        if tc.is_some() || !tried {
            let (hi, bvh) = match tc {
                Some(tc) => (tc, self.basis_at(tc - origin)),
                None => (b, *bvb),
            };
            let (within, _) = self.reach_over(sh, ya, (a, bva), (hi, &bvh), (&mut dlo, &mut dhi));
            if sh
                .tree
                .within_reach(ya, ga, &within, can_fire, BAND, scratch)
            {
                sh.dy = (dlo, dhi);
                let known = tc.map(|tc| (tc, lead));
                match self.band_first(sh, &scratch.band, (a, bva), (hi, &bvh), known, work) {
                    Some(found) => {
                        s.found = Some(found);
                        scratch.band.push(lead as u32); // (the leader is at threshold at t_c)
                    }
                    None => s.lo = hi,
                }
                return;
            }
        }
        let h = (-f - margin) / rate;
        if h.is_finite() && a + h > a {
            s.lo = (a + h).min(b);
        } else if rate == 0.0 && f + margin < 0.0 {
            s.lo = b; // nothing moves: below threshold up to b
        } else {
            // Stalled at threshold (grazing, or a neuron resting there): certify a piece by
            // the band's per-neuron search, as long as its band stays small.
            let mut hi = b;
            let mut bvh = *bvb;
            let mut halvings = 0;
            loop {
                let limit = if halvings >= MAX_HALVINGS || a + 0.5 * (hi - a) <= a {
                    usize::MAX
                } else {
                    BAND
                };
                let (within, _) =
                    self.reach_over(sh, ya, (a, bva), (hi, &bvh), (&mut dlo, &mut dhi));
                if sh
                    .tree
                    .within_reach(ya, ga, &within, can_fire, limit, scratch)
                {
                    break;
                }
                hi = a + 0.5 * (hi - a);
                bvh = self.basis_at(hi - origin);
                halvings += 1;
            }
            match self.band_first(sh, &scratch.band, (a, bva), (hi, &bvh), None, work) {
                Some(found) => s.found = Some(found),
                None => s.lo = hi,
            }
        }
        sh.dy = (dlo, dhi);
    }

    /// The rounding allowance of the voltages at a point where the basis is `bv`, for
    /// components of `y` of summed magnitude `ymag`.
    fn shared_margin(&self, sh: &Shared, ymag: f64, bv: &BasisValues) -> f64 {
        let g = sh.g * bv.leak;
        let wabs = (sh.tree.wmin() * g).abs().max((sh.tree.wmax() * g).abs());
        (32.0 + 8.0 * self.d as f64)
            * f64::EPSILON
            * (sh.tree.rmax() * ymag + wabs + sh.tree.tabs())
    }

    /// How far the voltages can rise over `[a, t]` ([`Reach`]: `y`'s enclosure there, less
    /// `y(a)` (`ya`), into `dy`; the decay of negative `w`'s; the rounding allowance), and a
    /// bound on every voltage's rate there (`‖D‖_max ‖ẏ‖_max + λ_V max(0, −w_min)`).
    fn reach_over<'a>(
        &self,
        sh: &Shared,
        ya: &[f64],
        (a, bva): (f64, &BasisValues),
        (t, bvt): (f64, &BasisValues),
        (dlo, dhi): (&'a mut Vec<f64>, &'a mut Vec<f64>),
    ) -> (Reach<'a>, f64) {
        let m = self.membrane;
        let ranges = m.ranges(bva, bvt, self.degree);
        let (mut rate2, mut ymag) = (0.0, 0.0);
        for (j, yj) in ya.iter().enumerate() {
            let (v, dv, mag) = self.component(sh, j).enclose(&m, &ranges);
            rate2 += dv.mag() * dv.mag();
            ymag += mag + yj.abs();
            // y(t) − y(a) lies in the enclosure less y(a), and in (t − a)·ẏ's enclosure (mean
            // value theorem; the tighter one near equilibrium, where the terms of y cancel).
            let h = t - a;
            dlo[j] = (v.lo - yj).max(h * dv.lo).min(0.0);
            dhi[j] = (v.hi - yj).min(h * dv.hi).max(0.0);
        }
        let wmin = sh.tree.wmin() * sh.g * bva.leak;
        let rate = (sh.tree.rmax() * rate2.sqrt() + self.net.lambda_v() * (-wmin).max(0.0))
            * (1.0 + 1e-12);
        let within = Reach {
            lo: dlo,
            hi: dhi,
            wgrow: (self.net.lambda_v() * (t - a)).min(1.0),
            slack: 2.0 * self.shared_margin(sh, ymag, bva),
        };
        (within, rate)
    }

    /// The earliest crossing among `band` in `[a, hi]` by the certified per-neuron search
    /// (ties: the lower index), shrinking the horizon as crossings are found; `known` is a
    /// crossing already found at `hi` (its neuron is not searched again).
    pub(super) fn band_first(
        &self,
        sh: &Shared,
        band: &[u32],
        (a, bva): (f64, &BasisValues),
        (hi, bvh): (f64, &BasisValues),
        known: Option<(f64, usize)>,
        work: &mut Work,
    ) -> Option<(f64, usize)> {
        let m = self.membrane;
        let th = self.net.thresholds();
        let mut best = known;
        let (mut end, mut bv_end) = (hi, *bvh);
        let mut ranges = m.ranges(bva, &bv_end, self.degree);
        // Each member's bound on its first crossing, for the carry (a small band only).
        let record = work.record && band.len() <= BAND;
        work.members.clear();
        work.band_end = record.then_some(hi);
        let note = |work: &mut Work, neuron: usize, bound: f64, exact: bool| {
            if record {
                work.members.push(Member {
                    neuron: neuron as u32,
                    bound,
                    exact,
                });
            }
        };
        if let Some((t, k)) = known {
            note(work, k, t, true);
        }
        // Likely-first first (linear extrapolation from `a`), so that the horizon shrinks to
        // the earliest crossing at once and the others are excluded by one bound. Members
        // proven below threshold over the whole `[a, hi]` are dropped before they are ordered:
        // the loop below would drop them too (a bound over a shorter piece is no larger), so
        // the same members are searched in the same order.
        // (The order's scratch is laid out only for a band that is ordered.)
        let mut by_guess: Option<[(f64, u32); BAND]> = None;
        let ordered = band.len() > 1 && band.len() <= BAND;
        let mut kept = 0;
        if ordered {
            let guesses = by_guess.insert([(0.0, 0u32); BAND]);
            for &i in band {
                let iu = i as usize;
                if known.is_some_and(|(_, k)| k == iu) {
                    continue;
                }
                let tr = self.shared_trajectory(sh, iu);
                if proven_below(&tr, th[iu], &ranges) {
                    work.proven_absent += 1;
                    note(work, iu, hi, false);
                    continue;
                }
                guesses[kept] = (crossing_guess(&m, &tr, th[iu], bva), i);
                kept += 1;
            }
            guesses[..kept].sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        }
        let count = if ordered { kept } else { band.len() };
        let members = (0..count).map(|k| match &by_guess {
            Some(guesses) => guesses[k].1,
            None => band[k],
        });
        // The horizon moved to a crossing: the basis there, when a member follows.
        let mut moved = false;
        for i in members {
            let i = i as usize;
            if known.is_some_and(|(_, k)| k == i) {
                continue;
            }
            if moved {
                bv_end = self.basis_at(end - self.origin);
                ranges = m.ranges(bva, &bv_end, self.degree);
                moved = false;
            }
            let tr = self.shared_trajectory(sh, i);
            if proven_below(&tr, th[i], &ranges) {
                work.proven_absent += 1;
                note(work, i, end, false);
                continue;
            }
            let found = work.searcher.first_crossing_between(
                &m,
                &tr,
                th[i],
                self.origin,
                (a, bva),
                (end, &bv_end),
                Some(&ranges),
                &mut work.stats,
            );
            note(work, i, found.unwrap_or(end), found.is_some());
            if let Some(t) = found {
                if best.is_none_or(|(bt, bi)| t < bt || (t == bt && i < bi)) {
                    best = Some((t, i));
                    end = t;
                    moved = true;
                }
            }
        }
        best
    }
}
