//! The relaxation index: the next crossing in a few dozen node visits per event when every
//! voltage relaxes to a fixed rest.
//!
//! On an interval with constant input `c`, no slow or learned current (`A = −λ_d I`, the fast-only
//! EBN) and one dimension, the shared state relaxes to `y∞ = c/λ_V` and every voltage to its rest
//! `p_i = D_i y∞`, all at the rate λ_V. With the `w`'s in the frame of [`super::shared`]
//! (`w_i(t) = w_i g(t)`, `g(t) = e^{−λ_V (t − t_ref)}`),
//!
//! ```text
//! V_i(t) − p_i = (D_i Y + w_i) g(t),      Y = (y − y∞) / g   (constant between deliveries)
//! ```
//!
//! so a neuron whose rest is above its threshold (`p_i > T_i`) crosses when `g(t) = 1/κ_i`,
//!
//! ```text
//! κ_i = −(D_i Y + w_i) / (p_i − T_i) = α_i (σ − ζ_i),    σ = −sign(D_i) Y,  ζ_i = w_i / |D_i|,
//! ```
//!
//! with the rate `α_i = |D_i| / (p_i − T_i)` fixed by the rest; the others never cross. The
//! first crossing is the smallest `κ`: the lower envelope of lines in `σ` of fixed slopes,
//! queried at a point that moves at every delivery, one line moving at each of a neuron's own
//! events. In a balanced network this envelope is nearly degenerate: every neuron is near
//! threshold, the rates differ by ~10⁻³ and the reset histories `ζ` by ~10⁻², compensating each
//! other, so that all `κ`'s lie within ~10⁻⁴ of the smallest. A kinetic tournament (winners
//! with the range of `σ` where they stay) re-plays ~100 nodes per event there, and bounds
//! that separate rate from reset (by blocks of rates, by a heap of `ζ`) prune nothing above the
//! smallest groups. What works is a tree over the neurons in order of rate whose nodes keep a
//! *lazy lower bound*: `κ ≥ lb + a (σ − at)` with `a` the node's smallest rate to the right of
//! the anchor `at` and its largest to the left — valid for every member as long as it held for
//! each at one point, since every member's `κ` moves at a rate within the node's range. A
//! spike raises one `κ` (bounds stay valid), its delivery lowers it (the bounds on its path are
//! re-anchored at the smaller of their value and the new `κ`), and a query — a
//! branch-and-bound descent — tightens every node it opens to the bounds of its children.
//! Stored bounds are rounded down by a few ulps, so that re-anchoring them again and again
//! never lets rounding lift one above what it bounds.
//! About 20 nodes are opened per query on the validation suite's timing network (N = 1600).
//!
//! The index only *proposes*: the neurons whose `κ` is within a rounding allowance of the
//! interval's end (the smallest `κ`, widened) go to the same certified per-neuron search as the
//! hierarchy's band ([`Kernel::band_first`]), which finds the crossing (the same float as the
//! hierarchy's search: the one where the evaluated trajectory reaches threshold); everyone else is
//! proven not to cross before that end by `κ_j > κ_end` with margins for the rounding of `Y`,
//! `p_j − T_j` and the lines. Ill-conditioned neurons (a rest within rounding of threshold) or a
//! margin that is not small leave the interval to the hierarchy; so does anything the index
//! does not describe (input of higher degree, slow currents, d > 1).

use super::search::Work;
use super::shared::Shared;
use super::Kernel;
use walk::Walk;

/// No neuron.
const NONE: u32 = u32::MAX;

/// Neurons whose rest is within this many ulps (relative to `|p_i| + |T_i|`) of their threshold
/// are ill-conditioned: an interval where one of them can fire is left to the hierarchy.
const CONDITION_ULPS: f64 = 1e6;

/// The largest rounding allowance (relative, on `κ`) the index works with; beyond it the
/// hierarchy searches.
const MAX_REL: f64 = 1e-3;

/// Most neurons outside the index for which the same-instant query is still answered here (they
/// are evaluated one by one).
const OUTSIDE: usize = 32;

/// Slots per leaf of a group's tree (scanned in a row).
const LEAF: usize = 8;

/// Children per inner node of a group's tree: four halves the depth of a binary tree, and a
/// descent opens about as many children per level (the cost is in the levels).
const ARITY: usize = 4;

/// How far (relative) above the smallest `κ` a query keeps the neurons it meets, so that the
/// band usually needs no second pass.
const KEEP: f64 = 1e-9;

/// The neurons of one decoder sign, in order of rate, and the tree over them.
#[derive(Clone, Debug, Default)]
struct Group {
    /// `σ = sign · Y` (the sign opposite to the decoders').
    sign: f64,
    /// Its slots `start..start + len`.
    start: usize,
    len: usize,
    /// Its tree: `nodes(leaves)` nodes from `tree` in heap order (the root first, node `k`'s
    /// children `ARITY k + 1 ..= ARITY k + ARITY`); leaf `b`, node `first_leaf(leaves) + b`,
    /// holds the [`LEAF`] slots from `start + b · LEAF`, padding beyond `len`. `leaves` is a
    /// power of [`ARITY`].
    tree: usize,
    leaves: usize,
}

/// The index of the first leaf of a tree of `leaves` leaves (the number of inner nodes).
#[inline]
fn first_leaf(leaves: usize) -> usize {
    (leaves - 1) / (ARITY - 1)
}

/// The smallest power of [`ARITY`] that is at least `blocks`: the leaves of a tree over
/// `blocks` leaves' worth of slots.
fn leaves_for(blocks: usize) -> usize {
    let mut leaves = 1;
    while leaves < blocks {
        leaves *= ARITY;
    }
    leaves
}

/// The number of nodes of a tree of `leaves` leaves.
#[inline]
fn nodes(leaves: usize) -> usize {
    first_leaf(leaves) + leaves
}

/// A node of a group's tree: a lower bound `lb` of its members' `κ` at `σ = at`, and the range
/// of their rates, so that `lb + a (σ − at)` (`a = a_lo` for `σ ≥ at`, `a_hi` below) bounds
/// them at every `σ`.
#[derive(Clone, Copy, Debug)]
struct Node {
    lb: f64,
    at: f64,
    a_lo: f64,
    a_hi: f64,
}

/// `κ = α (σ − ζ)` of a slot of rate `alpha` and offset `zeta` (+∞ for ζ = −∞: its neuron
/// cannot fire now).
#[inline]
fn kappa(alpha: f64, zeta: f64, sigma: f64) -> f64 {
    let k = alpha * (sigma - zeta);
    if zeta == f64::NEG_INFINITY {
        f64::INFINITY
    } else {
        k
    }
}

/// `x` less a few ulps of it: a bound stored for later stays below what it bounds however
/// often it is re-anchored (each re-anchoring rounds; this keeps the rounding on the safe side).
/// (A product, so that ±∞ stay themselves without a test.)
#[inline]
fn down(x: f64) -> f64 {
    const LOWER: f64 = 1.0 - 4.0 * f64::EPSILON; // (both exact)
    const RAISE: f64 = 1.0 + 4.0 * f64::EPSILON;
    x * if x >= 0.0 { LOWER } else { RAISE }
}

impl Node {
    /// The bound at `sigma`.
    #[inline]
    fn bound(&self, sigma: f64) -> f64 {
        let d = sigma - self.at;
        let a = if d >= 0.0 { self.a_lo } else { self.a_hi };
        // (+∞ stays itself: a node whose members cannot fire, or without members — whose
        // rates are 0 for this, see `grow_tree`.)
        self.lb + a * d
    }
}

/// The index over the neurons' crossing coordinates ([module docs](self)).
///
/// `κ_i = −(D_i Y + w_i) q_i = α_i (σ − ζ_i)` with `σ = −sign(D_i) Y` shared, the rate
/// `α_i = |D_i| q_i > 0` fixed by the rest, and `ζ_i = w_i/|D_i|` changing only at i's own
/// events: lines in `σ` with fixed slopes. The neurons of each decoder sign fill the leaves
/// of a tree ([`LEAF`] each, [`ARITY`] children per node), in order of rate, whose nodes keep a lower bound of their
/// members' `κ` at the `σ` where it was last tightened: it stays a bound as `σ` moves
/// (members' `κ` change at rates within the node's range) and as members' `κ` rise (a spike);
/// a member's `κ` that falls (its own delivery) lowers the bounds on its path. A query is a branch-and-bound descent that
/// tightens every bound it opens, so the nodes near the first crossing stay tight and the rest
/// are passed over by bounds that loosen only slowly.
#[derive(Clone, Debug, Default)]
pub(super) struct Relaxation {
    /// Whether the index describes the current network, rest and frame.
    valid: bool,
    /// The rest of `y` and the frame reference the index was built for.
    y_inf: f64,
    t_ref: f64,
    /// Per neuron: `1/(p_i − T_i)` (0 for those that never cross), the decoder's magnitude, and
    /// its slot (`NONE` when it never crosses).
    q: Vec<f64>,
    decoder: Vec<f64>,
    slot: Vec<u32>,
    /// Per slot: the rate, `ζ` (−∞ when the neuron cannot fire now) and the neuron.
    alpha: Vec<f64>,
    zeta: Vec<f64>,
    neuron: Vec<u32>,
    /// The groups' trees.
    nodes: Vec<Node>,
    groups: Vec<Group>,
    /// Largest `|p_i| + |T_i|` and smallest `p_i − T_i` over the neurons that can cross.
    scale: f64,
    gap_min: f64,
    /// `1/gap_min` (the allowance is asked at every event: a product, not a division).
    inv_gap: f64,
    /// Ill-conditioned neurons (see [`CONDITION_ULPS`]).
    fragile: Vec<u32>,
    /// The neurons outside the index (`q_i = 0`: a rest at or below threshold, or fragile):
    /// the same-instant query evaluates them one by one ([`Kernel::relaxed_most_above`]).
    outside: Vec<u32>,
    /// The neurons the last query met within [`KEEP`] of its minimum, with their `κ`, and the
    /// bound they were kept under.
    kept: Vec<(f64, u32)>,
    kept_under: f64,
}

impl Relaxation {
    /// The index for rest `y_inf` (`p_i = D_i y_inf`) and the frame at `t_ref`, its bounds
    /// exact at `y`.
    fn build(&mut self, k: &Kernel, (w, t_ref): (&[f64], f64), y_inf: f64, y: f64) {
        let n = k.n;
        let d = k.net.decoders();
        let th = k.net.thresholds();
        self.q.clear();
        self.fragile.clear();
        self.outside.clear();
        self.scale = 0.0;
        self.gap_min = f64::INFINITY;
        for i in 0..n {
            let p = d[i] * y_inf;
            let gap = p - th[i];
            let size = p.abs() + th[i].abs();
            self.scale = self.scale.max(size);
            if gap.abs() <= CONDITION_ULPS * f64::EPSILON * size || (gap > 0.0 && d[i] == 0.0) {
                self.fragile.push(i as u32);
                self.q.push(0.0);
            } else if gap > 0.0 {
                self.gap_min = self.gap_min.min(gap);
                self.q.push(1.0 / gap);
            } else {
                self.q.push(0.0);
            }
        }
        self.outside
            .extend((0..n as u32).filter(|&i| self.q[i as usize] == 0.0));
        self.decoder = d[..n].iter().map(|x| x.abs()).collect();
        self.slot = vec![NONE; n];
        self.alpha.clear();
        self.zeta.clear();
        self.neuron.clear();
        self.nodes.clear();
        self.groups.clear();
        // (Rounded up a little: the allowance stays an upper bound.)
        self.inv_gap = (1.0 / self.gap_min) * (1.0 + 4.0 * f64::EPSILON);
        self.lay_out(d, w, |i| k.can_fire(i), y);
        self.kept.clear();
        self.kept_under = f64::NEG_INFINITY;
        self.y_inf = y_inf;
        self.t_ref = t_ref;
        self.valid = true;
    }

    /// The groups, their slots in order of rate and their trees, from the decoders `d`, the
    /// `w`'s (in the frame) and who can fire, with `q` and the decoders' magnitudes set; the
    /// bounds exact at `y`.
    fn lay_out(&mut self, d: &[f64], w: &[f64], can_fire: impl Fn(usize) -> bool, y: f64) {
        let n = self.q.len();
        for positive in [true, false] {
            let q = &self.q;
            let rate = |i: usize| d[i].abs() * q[i];
            let mut members: Vec<u32> = (0..n as u32)
                .filter(|&i| q[i as usize] > 0.0 && (d[i as usize] > 0.0) == positive)
                .collect();
            if members.is_empty() {
                continue;
            }
            members.sort_by(|&x, &y| {
                rate(x as usize)
                    .total_cmp(&rate(y as usize))
                    .then(x.cmp(&y))
            });
            let start = self.alpha.len();
            for &i in &members {
                let i = i as usize;
                self.slot[i] = self.alpha.len() as u32;
                self.alpha.push(rate(i));
                let z = if can_fire(i) {
                    w[i] / self.decoder[i]
                } else {
                    f64::NEG_INFINITY
                };
                self.zeta.push(z);
                self.neuron.push(i as u32);
            }
            let g = Group {
                sign: if positive { -1.0 } else { 1.0 },
                start,
                len: members.len(),
                tree: self.nodes.len(),
                leaves: leaves_for(members.len().div_ceil(LEAF)),
            };
            self.grow_tree(&g, y);
            self.groups.push(g);
        }
    }

    /// Group `g`'s tree (appended to `nodes`), its bounds exact at `y`.
    fn grow_tree(&mut self, g: &Group, y: f64) {
        let empty = Node {
            lb: f64::INFINITY,
            at: 0.0,
            a_lo: f64::INFINITY,
            a_hi: f64::NEG_INFINITY,
        };
        let sigma = g.sign * y;
        let (t0, first) = (g.tree, first_leaf(g.leaves));
        self.nodes.resize(t0 + nodes(g.leaves), empty);
        for b in 0..g.len.div_ceil(LEAF) {
            let slots = g.start + b * LEAF..g.start + ((b + 1) * LEAF).min(g.len);
            self.nodes[t0 + first + b] = Node {
                lb: down(
                    slots
                        .clone()
                        .map(|s| self.kappa(s, sigma))
                        .fold(f64::INFINITY, f64::min),
                ),
                at: sigma,
                a_lo: self.alpha[slots.start],
                a_hi: self.alpha[slots.end - 1],
            };
        }
        for k in (0..first).rev() {
            let children = &self.nodes[t0 + ARITY * k + 1..t0 + ARITY * k + 1 + ARITY];
            let node = children.iter().fold(empty, |acc, c| Node {
                lb: acc.lb.min(c.lb),
                at: sigma,
                a_lo: acc.a_lo.min(c.a_lo),
                a_hi: acc.a_hi.max(c.a_hi),
            });
            self.nodes[t0 + k] = node;
        }
        // Nodes without members (padding) get rates 0, so that their bound is +∞ at every σ
        // (with ±∞ rates it would be ∞ − ∞ at the anchor).
        for nd in &mut self.nodes[t0..t0 + nodes(g.leaves)] {
            if nd.a_lo == f64::INFINITY {
                (nd.a_lo, nd.a_hi) = (0.0, 0.0);
            }
        }
    }

    /// Slot s's `κ` at `sigma`.
    #[inline]
    fn kappa(&self, s: usize, sigma: f64) -> f64 {
        kappa(self.alpha[s], self.zeta[s], sigma)
    }

    /// Neuron i's `w` (in the frame) or whether it can fire changed, with the shared state at
    /// `y`: a `κ` that fell lowers the bounds on its path (one that rose leaves them valid).
    #[inline]
    fn touch(&mut self, i: usize, w: f64, can_fire: bool, y: f64) {
        if !self.valid || self.slot[i] == NONE {
            return;
        }
        let s = self.slot[i] as usize;
        let z = if can_fire {
            w / self.decoder[i]
        } else {
            f64::NEG_INFINITY
        };
        let old = self.zeta[s];
        self.zeta[s] = z;
        // (ζ is never NaN.)
        if z <= old {
            return;
        }
        let g = if self.groups[0].start + self.groups[0].len > s {
            &self.groups[0]
        } else {
            &self.groups[1]
        };
        let sigma = g.sign * y;
        let kappa = self.kappa(s, sigma);
        let (t0, mut node) = (g.tree, first_leaf(g.leaves) + (s - g.start) / LEAF);
        // Each bound on the path re-anchored here, at the smaller of its value and the new
        // `κ`: members' `κ` change at rates within the node's range, so a bound that holds for
        // every member at one point holds everywhere (one held at its old anchor might not
        // hold for the lowered line elsewhere).
        loop {
            let nd = &mut self.nodes[t0 + node];
            nd.lb = down(nd.bound(sigma).min(kappa));
            nd.at = sigma;
            if node == 0 {
                break;
            }
            node = (node - 1) / ARITY;
        }
    }

    /// Visits every slot whose `κ` at `y` can be at most the limit — `bound`, or with `fixed`
    /// false the best so far plus [`KEEP`] of it, at most `bound` — and keeps those within it
    /// (with their `κ`) in `kept`; returns the smallest `κ` (+∞ when nobody is within
    /// `bound`).
    fn scan(&mut self, y: f64, (bound, fixed): (f64, bool), kept: &mut Vec<(f64, u32)>) -> f64 {
        kept.clear();
        let mut best = f64::INFINITY;
        for g in &self.groups {
            let sigma = g.sign * y;
            let slots = g.start..g.start + g.len;
            let mut walk = Walk {
                nodes: &mut self.nodes[g.tree..g.tree + nodes(g.leaves)],
                alpha: &self.alpha[slots.clone()],
                zeta: &self.zeta[slots.clone()],
                neuron: &self.neuron[slots],
                first_leaf: first_leaf(g.leaves),
                sigma,
                best,
                limit: if fixed {
                    bound
                } else {
                    (best + KEEP * best.abs()).min(bound)
                },
                ceiling: bound,
                fixed,
                kept: &mut *kept,
            };
            if walk.nodes[0].bound(sigma) <= walk.limit {
                walk.visit(0);
            }
            best = walk.best;
        }
        best
    }

    /// The smallest `κ` at `y` if it is at most `ceiling` (else +∞); keeps the neurons it meets
    /// within [`KEEP`] of it (and under the ceiling) for [`Relaxation::within`]. A ceiling
    /// (the `κ` of the next event) spares the descent the nodes above it.
    fn min_at(&mut self, y: f64, ceiling: f64) -> f64 {
        // (Most often nobody is under the ceiling, and every root says so.)
        let nodes = &self.nodes;
        if self
            .groups
            .iter()
            .all(|g| nodes[g.tree].bound(g.sign * y) > ceiling)
        {
            self.kept.clear();
            self.kept_under = ceiling;
            return f64::INFINITY;
        }
        let mut kept = std::mem::take(&mut self.kept);
        let best = self.scan(y, (ceiling, false), &mut kept);
        self.kept = kept;
        self.kept_under = (best + KEEP * best.abs()).min(ceiling);
        best
    }

    /// Every neuron with `κ ≤ bound` at `y`, into `band`: from what [`Relaxation::min_at`] at
    /// the same `y` kept when `bound` is within its reach, else by a descent of its own.
    fn within(&mut self, y: f64, bound: f64, band: &mut Vec<u32>) {
        band.clear();
        let mut kept = std::mem::take(&mut self.kept);
        if bound.is_nan() || bound > self.kept_under {
            self.scan(y, (bound, true), &mut kept);
            self.kept_under = bound;
        }
        band.extend(kept.iter().filter(|k| k.0 <= bound).map(|k| k.1));
        self.kept = kept;
    }

    /// The index no longer describes the network (a kill, voltages set anew): built again
    /// when next needed.
    pub(super) fn forget(&mut self) {
        self.valid = false;
    }

    /// Whether the index describes the network (its rest and frame may still be old ones).
    pub(super) fn is_valid(&self) -> bool {
        self.valid
    }
}

/// What the index found for an interval.
pub(super) enum Relaxed {
    /// The first crossing (certified, with its band in `found_band`).
    Found(f64, usize),
    /// No crossing up to the end of the search.
    Exhausted,
    /// None up to this time; the hierarchy goes on from there.
    Upto(f64),
    /// The index does not serve this interval: the hierarchy searches it.
    Declined,
}

impl Kernel {
    /// Whether the index can describe the current interval: one dimension, constant input, no
    /// slow or learned current (the shared-state layout is in use).
    pub(super) fn relaxes(&self) -> bool {
        self.d == 1
            && self.degree == 0
            && self.learned.is_none()
            && self.mx.iter().all(|&x| x == 0.0)
            && match self.net.weights() {
                crate::model::network::Weights::LowRank { core } => core.iter().all(|&c| c == 0.0),
                crate::model::network::Weights::Dense { .. } => false,
            }
    }

    /// Neuron j's line changed (its `w`, or whether it can fire).
    pub(super) fn relax_touch(&mut self, j: usize) {
        let can_fire = self.can_fire(j);
        if let Some(sh) = &mut self.shared {
            let (w, y) = (sh.w[j], (sh.y[0] - sh.relax.y_inf) / sh.g);
            sh.relax.touch(j, w, can_fire, y);
        }
    }

    /// The first crossing in `[now, end]` by the index ([module docs](self)); the search is
    /// fresh (the origin is `now`).
    pub(super) fn relaxed_first(&self, sh: &mut Shared, end: f64, work: &mut Work) -> Relaxed {
        let lambda = self.net.lambda_v();
        let y_inf = self.cpoly[0] / lambda;
        let rx = &mut sh.relax;
        if !rx.valid || rx.y_inf != y_inf || rx.t_ref != sh.t_ref {
            let y = (sh.y[0] - y_inf) / sh.g;
            rx.build(self, (&sh.w, sh.t_ref), y_inf, y);
        }
        self.relaxed_with(sh, y_inf, end, work)
    }

    /// `Y` at the origin and the rounding allowance of every `κ` relative to the end's (module
    /// docs): `Y`, the rests, the lines and the descent's comparisons, a few ulps each,
    /// generously counted; `None` where the index cannot certify (a large allowance).
    fn allowance(sh: &Shared, y_inf: f64) -> Option<(f64, f64)> {
        let (g0, y0, rx) = (sh.g, sh.y[0], &sh.relax);
        let y = (y0 - y_inf) / g0;
        if !y.is_finite() {
            return None;
        }
        let u = f64::EPSILON;
        let wabs = sh.tree.wabs() * g0;
        let s = sh.tree.rmax() * (y0.abs() + y_inf.abs()) + wabs;
        let rel = 16.0 * u * (5.0 * s + 6.0 * rx.scale) * rx.inv_gap + 32.0 * u;
        if rel.is_nan() || rel > MAX_REL {
            // Nobody's rest above threshold: nobody crosses on this interval.
            return rx.gap_min.is_infinite().then_some((y, 32.0 * u));
        }
        Some((y, rel))
    }

    /// The same-instant query by the index, when it serves (`None` otherwise): the neurons
    /// that can be above threshold at the origin are those whose `κ` is within the allowance
    /// of `1/g` (the search's band at its start) and those outside the index; they are
    /// evaluated as the hierarchy evaluates, so the answer is the hierarchy's.
    pub(super) fn relaxed_most_above(&self, sh: &mut Shared) -> Option<Option<(f64, usize)>> {
        if !self.relaxes() || self.now != self.origin {
            return None;
        }
        let (lambda, origin) = (self.net.lambda_v(), self.origin);
        let y_inf = self.cpoly[0] / lambda;
        let rx = &sh.relax;
        if !rx.valid || rx.y_inf != y_inf || rx.t_ref != sh.t_ref || rx.outside.len() > OUTSIDE {
            return None;
        }
        let (y, rel) = Self::allowance(sh, y_inf)?;
        let u = f64::EPSILON;
        let rel_end = rel + 4.0 * u * (1.0 + lambda * (2.0 * origin.abs()));
        let bound = (1.0 / sh.g) * (1.0 + 2.0 * rel_end);
        let mut band = std::mem::take(&mut sh.scratch.band);
        let rx = &mut sh.relax;
        if rx.min_at(y, bound).is_finite() {
            rx.within(y, bound, &mut band);
        } else {
            band.clear();
        }
        band.extend_from_slice(&rx.outside);
        let can_fire = |i: usize| self.can_fire(i);
        let found = sh.tree.argmax_among(&band, &sh.y, sh.g, 0.0, can_fire);
        sh.scratch.band = band;
        Some(found)
    }

    fn relaxed_with(&self, sh: &mut Shared, y_inf: f64, end: f64, work: &mut Work) -> Relaxed {
        let (now, origin, lambda) = (self.now, self.origin, self.net.lambda_v());
        if now != origin || sh.relax.fragile.iter().any(|&i| self.can_fire(i as usize)) {
            return Relaxed::Declined;
        }
        let Some((y, rel)) = Self::allowance(sh, y_inf) else {
            return Relaxed::Declined;
        };
        let (g0, u) = (sh.g, f64::EPSILON);
        let rx = &mut sh.relax;
        // κ at `t` (allowing for the exponential's rounding and that of `t − origin`) and the
        // limit of the κ's that can cross by then.
        let limit_at = |t: f64| {
            let rel_end = rel + 4.0 * u * (1.0 + lambda * (t.abs() + origin.abs()));
            ((lambda * (t - origin)).exp() / g0) * (1.0 + 2.0 * rel_end)
        };
        // Nobody above the next event's limit can cross before it: the descent leaves them.
        // (Any ceiling at or above the limit serves; for a near event, a polynomial above the
        // exponential spares one: e^x ≤ 1 + x + 0.6 x² on [0, 1/2], widened for rounding.)
        let x = lambda * (end - origin);
        let ceiling = if (0.0..=0.5).contains(&x) {
            let rel_end = rel + 4.0 * u * (1.0 + lambda * (end.abs() + origin.abs()));
            let e_up = (1.0 + x + 0.6 * x * x) * (1.0 + 8.0 * u);
            (e_up / g0) * (1.0 + 2.0 * rel_end)
        } else if end.is_finite() {
            limit_at(end)
        } else {
            f64::INFINITY
        };
        let kmin = rx.min_at(y, ceiling);
        if kmin.is_infinite() {
            // Nobody under the ceiling, which is at or above the end's limit: nobody crosses
            // before the next event (or ever, with none to come).
            return Relaxed::Exhausted;
        }
        // The search's end: a little past the smallest κ's crossing, or the next event.
        let mut hi = end;
        let t = origin + ((kmin * g0).max(1.0) * (1.0 + 4.0 * rel)).ln() / lambda;
        if t < end {
            hi = t;
        }
        if hi.is_infinite() {
            // (No event comes, and the smallest κ is beyond any time.)
            return Relaxed::Exhausted;
        }
        let tau = hi - origin;
        let bound = limit_at(hi);
        let mut band = std::mem::take(&mut sh.scratch.band);
        rx.within(y, bound, &mut band);
        band.retain(|&i| self.can_fire(i as usize));
        let found = if band.is_empty() {
            // (Nobody can cross before `hi`: no basis to evaluate.)
            None
        } else {
            let bva = self.basis_at(0.0);
            let bvh = self.basis_at(tau);
            self.band_first(sh, &band, (now, &bva), (hi, &bvh), None, work)
        };
        let out = match found {
            Some((t, i)) => {
                sh.found_band.clear();
                sh.found_band.extend_from_slice(&band);
                Relaxed::Found(t, i)
            }
            None if hi >= end => Relaxed::Exhausted,
            None => Relaxed::Upto(hi),
        };
        sh.scratch.band = band;
        out
    }
}

mod walk;

#[cfg(test)]
mod tests;
