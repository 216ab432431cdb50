//! The band a certified window leaves behind, carried across events that do not raise a
//! voltage.
//!
//! A certified window `[a, b]` proves everyone outside its band below threshold (by a margin)
//! up to `b`, and gives each band member a bound on its first crossing there (the crossing
//! itself when it was searched). When the window's crossing fires, with a fast delay and no slow
//! or learned current, the spike moves nothing but its own neuron's `w` (the reset, down) until
//! its delivery: the proof still holds, every other member's crossing is unchanged, so the next
//! crossing up to `b` is found among the band alone, member by member in the order of these
//! bounds, without asking the hierarchy again. When every fast connection also inhibits
//! (`D_iᵀ D_j ≥ 0` for every pair: decoders in one orthant), a delivery only lowers the other
//! voltages (by `D_iᵀ D_j e^{−λ_V (t − t_e)}`) and leaves its own unchanged: the proof holds
//! across it too, and the crossings found become lower bounds. Any other event (an input knot,
//! a timer, a period's end), a change of the network or of the layout forgets the band.

use super::search::Work;
use super::shared::Shared;
use super::Kernel;
use crate::closed_form::crossing::{next_down, proven_below};
use crate::closed_form::expo::{BasisValues, Trajectory};

/// A band member: neuron, a lower bound on its first crossing (none in the window when at or
/// beyond its end), and whether the bound is that crossing (its trajectory unchanged since).
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub(super) struct Member {
    pub(super) neuron: u32,
    pub(super) bound: f64,
    pub(super) exact: bool,
}

/// The carried band of the last certified window ([module docs](self)).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub(super) struct Carry {
    /// Whether the band still certifies its window.
    valid: bool,
    /// The end of the window: everyone outside the band is below threshold up to here.
    end: f64,
    members: Vec<Member>,
}

impl Carry {
    /// The end of the carried window, when a band is carried.
    pub(super) fn end(&self) -> Option<f64> {
        self.valid.then_some(self.end)
    }

    /// Nothing is carried any more.
    pub(super) fn forget(&mut self) {
        self.valid = false;
    }

    /// Carries `members`, the whole band of a certified window ending at `end`.
    pub(super) fn set(&mut self, end: f64, members: &[Member]) {
        self.valid = true;
        self.end = end;
        self.members.clear();
        self.members.extend_from_slice(members);
    }

    /// `j` fired at `t`: its reset lowers it, its next crossing is unknown but later.
    pub(super) fn fired(&mut self, j: usize, t: f64) {
        if !self.valid {
            return;
        }
        match self.members.iter_mut().find(|m| m.neuron as usize == j) {
            Some(m) => {
                m.bound = t;
                m.exact = false;
            }
            // (Cannot happen: everyone else was proven below threshold. Forget, to be safe.)
            None => self.valid = false,
        }
    }

    /// `j`'s spike reached `y` at `t`. Through inhibitory connections only, every trajectory
    /// moved down, so every crossing found is a lower bound now, and `j`'s own voltage is
    /// unchanged but rounds anew (searched again from `t`); otherwise nothing is carried.
    pub(super) fn delivered(&mut self, j: usize, t: f64, inhibitory: bool) {
        if !inhibitory {
            self.valid = false;
        }
        if !self.valid {
            return;
        }
        for m in &mut self.members {
            m.exact = false;
            if m.neuron as usize == j {
                m.bound = t;
            }
        }
    }
}

/// Whether every pair of decoders has a nonnegative inner product because all lie in one
/// closed orthant (each axis of one sign): every fast connection then inhibits.
pub(super) fn one_orthant(decoders: &[f64], d: usize) -> bool {
    (0..d).all(|j| {
        let col = decoders.iter().skip(j).step_by(d);
        col.clone().all(|&x| x >= 0.0) || col.clone().all(|&x| x <= 0.0)
    })
}

impl Kernel {
    /// Whether a certified window's band is carried across spikes ([module docs](self)): the
    /// shared-state layout with a fast delay, and no slow or learned current (a spike then moves
    /// `y` only at its delivery).
    pub(super) fn carries(&self) -> bool {
        self.shared.is_some()
            && self.net.fast_delay() > 0.0
            && self.learned.is_none()
            && self.mx.iter().all(|&x| x == 0.0)
            && match self.net.weights() {
                crate::model::network::Weights::LowRank { core } => core.iter().all(|&c| c == 0.0),
                crate::model::network::Weights::Dense { .. } => false,
            }
    }

    /// The earliest crossing among the carried band up to its window's end (ties: the lower
    /// index), from the members' lower bounds up: `None` when the rest of the window is
    /// crossing-free. Updates the bounds it improves; the found crossing's band (for the
    /// same-instant rule) is the whole carried band.
    pub(super) fn carried_first(
        &self,
        sh: &mut Shared,
        end: f64,
        work: &mut Work,
    ) -> Option<(f64, usize)> {
        let (m, origin, now) = (self.membrane, self.origin, self.now);
        let th = self.net.thresholds();
        if !sh.carry.valid || now >= sh.carry.end {
            sh.carry.valid = false;
            return None;
        }
        sh.carry
            .members
            .sort_unstable_by(|x, y| x.bound.total_cmp(&y.bound).then(x.neuron.cmp(&y.neuron)));
        let mut best: Option<(f64, usize)> = None;
        let mut horizon = sh.carry.end.min(end);
        // Searched from now (the origin, where the basis is free), with the bounds over
        // [now, horizon] excluding most members at once; the lower bounds order the members
        // and end the loop.
        let bv_now = self.basis_at(now - origin);
        let mut bv_h = self.basis_at(horizon - origin);
        let mut ranges = m.ranges(&bv_now, &bv_h, self.degree);
        for k in 0..sh.carry.members.len() {
            let Member {
                neuron,
                bound,
                exact,
            } = sh.carry.members[k];
            let i = neuron as usize;
            if bound > horizon {
                break;
            }
            if best.is_some_and(|(bt, bi)| bound == bt && bi < i) || !self.can_fire(i) {
                continue;
            }
            let tr = self.shared_trajectory(sh, i);
            let again = if exact {
                self.crosses_at(&tr, th[i], bound)
            } else {
                None
            };
            let t = if again.is_some() {
                bound
            } else {
                let found = if proven_below(&tr, th[i], &ranges) {
                    work.proven_absent += 1;
                    None
                } else {
                    work.searcher.first_crossing_between(
                        &m,
                        &tr,
                        th[i],
                        origin,
                        (now, &bv_now),
                        (horizon, &bv_h),
                        None,
                        &mut work.stats,
                    )
                };
                let member = &mut sh.carry.members[k];
                match found {
                    Some(t) => {
                        member.bound = t;
                        member.exact = true;
                        t
                    }
                    None => {
                        member.bound = horizon;
                        continue;
                    }
                }
            };
            if best.is_none_or(|(bt, bi)| t < bt || (t == bt && i < bi)) {
                best = Some((t, i));
                if t < horizon {
                    horizon = t;
                    // (The basis at a re-checked crossing was just evaluated there.)
                    bv_h = again.unwrap_or_else(|| self.basis_at(t - origin));
                    ranges = m.ranges(&bv_now, &bv_h, self.degree);
                }
            }
        }
        if best.is_some() {
            sh.found_band.clear();
            sh.found_band
                .extend(sh.carry.members.iter().map(|m| m.neuron));
        } else if horizon >= sh.carry.end {
            sh.carry.valid = false;
        }
        best
    }

    /// Whether `tr` (from the origin) crosses `threshold` at `t` as evaluated now: at or above
    /// it there and below it one float earlier (at the origin: above, or at it and rising — the
    /// search's rule). A crossing found on an earlier interval is the same crossing, but the
    /// trajectory was re-based since and rounds anew: this keeps the promise that a neuron
    /// fires where its evaluated voltage reaches threshold (else it is searched again). Gives
    /// the basis at `t` when it does (the caller's next bounds end there).
    fn crosses_at(&self, tr: &Trajectory, threshold: f64, t: f64) -> Option<BasisValues> {
        let m = &self.membrane;
        let bv = self.basis_at(t - self.origin);
        let f = tr.value(&bv) - threshold;
        let crosses = if t <= self.now {
            t == self.now && (f > 0.0 || (f == 0.0 && tr.derivative(m, &bv) > 0.0))
        } else {
            let before = next_down(t);
            f >= 0.0
                && (before < self.now
                    || tr.value(&self.basis_at(before - self.origin)) - threshold < 0.0)
        };
        crosses.then_some(bv)
    }
}
