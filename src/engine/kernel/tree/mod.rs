//! The decoder hierarchy of the shared-state layout: neurons grouped by decoder direction, each
//! group bounded by a cone, so that one test bounds a whole group's voltages.
//!
//! In the shared-state layout ([`super::shared`]) neuron i's voltage is `V_i = D_iᵀ y + w_i`, with
//! `y` shared and `w_i` a per-neuron scalar that only decays (and jumps at i's own spikes). For a
//! group of neurons whose decoders lie in the cone `{D : ∠(D, u) ≤ α, r_min ≤ ‖D‖ ≤ r_max}`,
//!
//! ```text
//! max_i (V_i − T_i) ≤ r ‖y‖ cos(max(0, ∠(y, u) − α)) + max_i w_i − min_i T_i
//! ```
//!
//! (`r = r_max` where the cosine is ≥ 0, `r_min` otherwise). Near the neuron a query is about —
//! the one best aligned with `y` — the slack of the cone term is quadratic in the cone's angle, so
//! a branch-and-bound descent opens only the few groups next to it: O(log N) nodes per query for
//! decoders of similar norms and thresholds (the usual EBN), more when they vary a lot within a
//! group (every bound stays valid; only pruning weakens).
//!
//! A second bound couples decoders and thresholds, which the cone alone cannot: along the
//! node's axis `u`, with `s = uᵀy`, every member's `D_iᵀ y − T_i` is at most
//! `a_i s − T_i + ρ ‖y − s u‖` (`a_i = D_iᵀu`, `ρ` the largest distance of a decoder from the
//! axis), and the upper envelope `E(s) = max_i (a_i s − T_i)` is convex and piecewise linear: it
//! is tabulated at knots spanning its outermost breakpoints ([`envelope`]), below its chords
//! between them and exactly its extreme lines outside. For EBN thresholds `(‖D_i‖² + μ)/2`
//! members of different norms are near threshold at different `s`, which the cone bound
//! (largest norm, smallest threshold) ignores; in one dimension, where every cone is trivial,
//! this is the difference between opening a few leaves and opening most of them. Each query
//! takes the smaller of the two bounds.
//!
//! The search asks which neurons can reach threshold over a piece of time
//! ([`DecoderTree::within_reach`]): each node adds to its bound how far its members' voltages
//! can rise while `y` moves within a box — by its *decoder box* (the componentwise extremes of
//! its members' decoders), so a group whose decoders point away from the way `y` moves is
//! excluded however fast `y` moves — and while negative `w`'s decay.
//!
//! Nodes are built by recursive median splits (by angle for d = 2; otherwise along the unit-
//! direction coordinate — or the norm — that varies most), leaves hold at most [`LEAF`] neurons.
//! The `w` extremes are kept per node in the frame of [`super::shared`] (a common decay factor
//! preserves their order), and updated along one leaf-to-root path when a neuron's `w` jumps.

mod envelope;

use envelope::Envelope;

/// Most neurons in a leaf.
pub(super) const LEAF: usize = 8;

const NONE: u32 = u32::MAX;

/// Relative allowance for the rounding of a cone bound (angles from dot products and square
/// roots, a few ulps each, and the rounding of the leaves' own dot products).
const CONE_SLACK: f64 = 1e-12;

/// One group of neurons: a range of the tree order, its cone and its extremes.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
struct Node {
    start: u32,
    end: u32,
    /// First child (the second is `left + 1`), or `NONE` for a leaf.
    left: u32,
    parent: u32,
    cos_a: f64,
    sin_a: f64,
    rmax: f64,
    rmin: f64,
    /// Smallest threshold of the living members (+∞ when none lives).
    tmin: f64,
    /// Extremes of the living members' `w` in the shared frame (−∞/+∞ when none lives).
    wmax: f64,
    wmin: f64,
    /// The envelope along the axis (next to the cone: one query reads both).
    env: Envelope,
}

/// Reusable scratch space of the queries (so that they allocate nothing).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub(super) struct Scratch {
    /// The descent's stack: nodes and their bounds.
    pub(super) stack: Vec<(u32, f64)>,
    /// The neurons a band query found.
    pub(super) band: Vec<u32>,
}

/// How far the voltages can rise over a piece `[a, b]` of the shared-state search.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reach<'a> {
    /// Componentwise ends of `y(t) − y(a)` over the piece (`lo ≤ 0 ≤ hi`).
    pub(super) lo: &'a [f64],
    pub(super) hi: &'a [f64],
    /// A negative `w` decays towards 0 by at most this fraction of itself (`≥ 1 − e^{−λ_V (b − a)}`).
    pub(super) wgrow: f64,
    /// The rounding allowance of the voltages.
    pub(super) slack: f64,
}

/// The hierarchy over all neurons.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub(super) struct DecoderTree {
    d: usize,
    /// Neurons in tree order: every node is a contiguous range of it.
    order: Vec<u32>,
    /// The leaf holding each neuron, and its place in the tree order.
    leaf_of: Vec<u32>,
    pos_of: Vec<u32>,
    /// Decoders (`d` per neuron), thresholds and frame `w`'s in tree order, so that a leaf's
    /// members are read from contiguous memory (at N = 10⁶ the neuron-indexed arrays are far
    /// apart in memory for the members of one leaf).
    dec: Vec<f64>,
    th: Vec<f64>,
    wt: Vec<f64>,
    /// Voltages the queries evaluated (tests of the pruning).
    #[cfg(test)]
    evaluated: std::cell::Cell<usize>,
    nodes: Vec<Node>,
    /// Cone axes (unit vectors), `axis[node * d..]`.
    axis: Vec<f64>,
    /// Each node's decoder box: the smallest and the largest of each decoder component over its
    /// members, `dbox[node * 2d..]` (lower ends, then upper ends): bounds how far a shift of
    /// `y` moves the members' voltages, direction by direction ([`DecoderTree::within_reach`]).
    dbox: Vec<f64>,
    /// Largest decoder norm over all neurons, and largest |T|.
    rmax: f64,
    tabs: f64,
    /// Neurons whose `w` moved since the `w` extremes were last brought up to date (their `wt`
    /// is current): while the relaxation index serves, which reads no extremes, the kernel
    /// leaves the leaf-to-root updates to the next query that does ([`DecoderTree::flush`]).
    #[serde(default)]
    stale: Vec<u32>,
    /// The largest `|w|` among the stale ones' new values: with the root's extremes, which
    /// still hold their old values, a bound of every `|w|` ([`DecoderTree::wabs`]).
    #[serde(default)]
    stale_wabs: f64,
}

/// (The kernel's own, so that a leaf evaluates a voltage to the bit as the kernel does.)
use super::shared::dot;

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

impl Node {
    fn new(start: usize, end: usize, parent: u32) -> Node {
        Node {
            start: start as u32,
            end: end as u32,
            left: NONE,
            parent,
            cos_a: -1.0,
            sin_a: 0.0,
            rmax: 0.0,
            rmin: 0.0,
            tmin: f64::INFINITY,
            wmax: f64::NEG_INFINITY,
            wmin: f64::INFINITY,
            env: Envelope::EMPTY,
        }
    }
}

impl DecoderTree {
    /// Builds the hierarchy over the neurons with decoders `decoders` (row i = `D_i`, length
    /// d) and thresholds `thresholds`; `alive` says who can still fire, `w` is every neuron's `w`
    /// in the shared frame.
    pub(super) fn build(
        decoders: &[f64],
        d: usize,
        thresholds: &[f64],
        alive: &[bool],
        w: &[f64],
    ) -> DecoderTree {
        let n = thresholds.len();
        let norms: Vec<f64> = decoders.chunks_exact(d).map(norm).collect();
        let rmax_all = norms.iter().fold(0.0_f64, |a, &b| a.max(b));
        let mut order: Vec<u32> = (0..n as u32).collect();
        let unit = |i: usize, k: usize| {
            let r = norms[i];
            if r > 0.0 {
                decoders[i * d + k] / r
            } else {
                0.0
            }
        };
        if d == 2 {
            // By angle: every node is an arc (angles computed once, not in the comparator).
            let angle: Vec<f64> = decoders
                .chunks_exact(2)
                .map(|di| di[1].atan2(di[0]))
                .collect();
            order.sort_unstable_by(|&a, &b| {
                angle[a as usize]
                    .total_cmp(&angle[b as usize])
                    .then(a.cmp(&b))
            });
        }
        let mut nodes = Vec::with_capacity(2 * n / LEAF + 2);
        nodes.push(Node::new(0, n, NONE));
        let mut leaf_of = vec![0u32; n];
        let mut work = vec![0u32];
        while let Some(id) = work.pop() {
            let (start, end) = (
                nodes[id as usize].start as usize,
                nodes[id as usize].end as usize,
            );
            if end - start <= LEAF {
                for &i in &order[start..end] {
                    leaf_of[i as usize] = id;
                }
                continue;
            }
            let mid = start + (end - start) / 2;
            if d != 2 {
                // Along the unit-direction coordinate (or the relative norm) that varies most.
                let members = &mut order[start..end];
                let key = |i: u32, k: usize| {
                    if k < d {
                        unit(i as usize, k)
                    } else {
                        norms[i as usize] / rmax_all.max(f64::MIN_POSITIVE)
                    }
                };
                let mut best = (0usize, -1.0f64);
                for k in 0..=d {
                    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                    for &i in members.iter() {
                        let x = key(i, k);
                        lo = lo.min(x);
                        hi = hi.max(x);
                    }
                    if hi - lo > best.1 {
                        best = (k, hi - lo);
                    }
                }
                let k = best.0;
                members.select_nth_unstable_by(mid - start, |&a, &b| {
                    key(a, k).total_cmp(&key(b, k)).then(a.cmp(&b))
                });
            }
            let left = nodes.len() as u32;
            nodes.push(Node::new(start, mid, id));
            nodes.push(Node::new(mid, end, id));
            nodes[id as usize].left = left;
            work.push(left + 1);
            work.push(left);
        }
        let mut pos_of = vec![0u32; n];
        for (p, &i) in order.iter().enumerate() {
            pos_of[i as usize] = p as u32;
        }
        let dec = order
            .iter()
            .flat_map(|&i| &decoders[i as usize * d..(i as usize + 1) * d])
            .copied()
            .collect();
        let th = order.iter().map(|&i| thresholds[i as usize]).collect();
        let mut tree = DecoderTree {
            pos_of,
            dec,
            th,
            wt: vec![0.0; n],
            #[cfg(test)]
            evaluated: Default::default(),
            d,
            axis: vec![0.0; nodes.len() * d],
            dbox: vec![0.0; nodes.len() * 2 * d],
            nodes,
            order,
            leaf_of,
            rmax: rmax_all,
            tabs: thresholds.iter().fold(0.0_f64, |a, &t| a.max(t.abs())),
            stale: Vec::new(),
            stale_wabs: 0.0,
        };
        tree.set_cones(decoders, &norms);
        tree.set_envelopes(decoders, thresholds);
        tree.refresh(thresholds, alive, w);
        tree
    }

    /// Each node's cone: the axis (normalised mean direction of its members), the half-angle
    /// that contains them all (widened by a few ulps), and the range of their norms.
    fn set_cones(&mut self, decoders: &[f64], norms: &[f64]) {
        let d = self.d;
        let mut mean = vec![0.0; d];
        for id in 0..self.nodes.len() {
            let node = self.nodes[id];
            let members = &self.order[node.start as usize..node.end as usize];
            mean.fill(0.0);
            let (mut rmax, mut rmin) = (0.0_f64, f64::INFINITY);
            for &i in members {
                let i = i as usize;
                let r = norms[i];
                rmax = rmax.max(r);
                rmin = rmin.min(r);
                if r > 0.0 {
                    for (m, x) in mean.iter_mut().zip(&decoders[i * d..(i + 1) * d]) {
                        *m += x / r;
                    }
                }
            }
            let len = norm(&mean);
            let axis = &mut self.axis[id * d..(id + 1) * d];
            let mut cos_a = -1.0;
            if len > 1e-6 * members.len() as f64 {
                for (a, m) in axis.iter_mut().zip(&mean) {
                    *a = m / len;
                }
                cos_a = 1.0_f64;
                for &i in members {
                    let i = i as usize;
                    if norms[i] > 0.0 {
                        let c = dot(axis, &decoders[i * d..(i + 1) * d]) / norms[i];
                        cos_a = cos_a.min(c);
                    }
                }
                // Widen by more than the rounding of the dot products above.
                cos_a -= 8.0 * (d as f64 + 2.0) * f64::EPSILON;
            }
            let node = &mut self.nodes[id];
            if cos_a <= -1.0 + 1e-9 {
                node.cos_a = -1.0;
                node.sin_a = 0.0;
            } else {
                node.cos_a = cos_a;
                node.sin_a = ((1.0 - cos_a * cos_a).max(0.0)).sqrt() * (1.0 + 1e-15) + 1e-300;
            }
            node.rmax = rmax;
            node.rmin = if rmin.is_finite() { rmin } else { 0.0 };
            let bx = &mut self.dbox[id * 2 * d..(id + 1) * 2 * d];
            bx[..d].fill(f64::INFINITY);
            bx[d..].fill(f64::NEG_INFINITY);
            for &i in members {
                for (k, &x) in decoders[i as usize * d..(i as usize + 1) * d]
                    .iter()
                    .enumerate()
                {
                    bx[k] = bx[k].min(x);
                    bx[d + k] = bx[d + k].max(x);
                }
            }
        }
    }

    /// Each node's envelope along its axis ([`Envelope::new`]): its members as lines
    /// `a_i s − T_i` (`a_i = D_iᵀu`) and their largest distance from the axis.
    fn set_envelopes(&mut self, decoders: &[f64], thresholds: &[f64]) {
        let d = self.d;
        let mut lines = Vec::new();
        for id in 0..self.nodes.len() {
            let node = self.nodes[id];
            let members = &self.order[node.start as usize..node.end as usize];
            let axis = &self.axis[id * d..(id + 1) * d];
            let mut rho2 = 0.0_f64;
            lines.clear();
            for &i in members {
                let i = i as usize;
                let di = &decoders[i * d..(i + 1) * d];
                let a = dot(axis, di);
                let p2: f64 = axis.iter().zip(di).map(|(u, x)| (x - a * u).powi(2)).sum();
                rho2 = rho2.max(p2);
                lines.push((a, thresholds[i]));
            }
            self.nodes[id].env = Envelope::new(&lines, rho2.sqrt());
        }
    }

    /// Recomputes every node's threshold and `w` extremes from scratch (after kills, or when
    /// every `w` changed).
    pub(super) fn refresh(&mut self, thresholds: &[f64], alive: &[bool], w: &[f64]) {
        self.stale.clear();
        self.stale_wabs = 0.0;
        for (wt, &i) in self.wt.iter_mut().zip(&self.order) {
            *wt = w[i as usize];
        }
        for id in (0..self.nodes.len()).rev() {
            let node = self.nodes[id];
            let (tmin, wmax, wmin) = if node.left == NONE {
                let mut acc = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY);
                for &i in &self.order[node.start as usize..node.end as usize] {
                    let i = i as usize;
                    if alive[i] {
                        acc.0 = acc.0.min(thresholds[i]);
                        acc.1 = acc.1.max(w[i]);
                        acc.2 = acc.2.min(w[i]);
                    }
                }
                acc
            } else {
                let (a, b) = (
                    self.nodes[node.left as usize],
                    self.nodes[node.left as usize + 1],
                );
                (a.tmin.min(b.tmin), a.wmax.max(b.wmax), a.wmin.min(b.wmin))
            };
            let node = &mut self.nodes[id];
            node.tmin = tmin;
            node.wmax = wmax;
            node.wmin = wmin;
        }
    }

    /// Neuron `j`'s `w` changed: updates the extremes on its leaf-to-root path.
    pub(super) fn update_w(&mut self, j: usize, alive: &[bool], w: &[f64]) {
        self.wt[self.pos_of[j] as usize] = w[j];
        self.climb(j, alive);
    }

    /// Neuron `j`'s `w` changed to `wj`, its extremes' update left to [`DecoderTree::flush`]
    /// (until then only [`DecoderTree::argmax_among`] and [`DecoderTree::wabs`] may be asked).
    pub(super) fn defer_w(&mut self, j: usize, wj: f64, alive: &[bool]) {
        self.wt[self.pos_of[j] as usize] = wj;
        self.stale.push(j as u32);
        self.stale_wabs = self.stale_wabs.max(wj.abs());
        if self.stale.len() > self.order.len() + 64 {
            // (A long relaxed stretch: the list stays O(N), its recompute O(1) per change.)
            self.flush(alive);
        }
    }

    /// Brings the `w` extremes up to date with the deferred changes (the same extremes as
    /// updating at each change: they are the exact extremes of the current values).
    pub(super) fn flush(&mut self, alive: &[bool]) {
        if !self.is_stale() {
            return;
        }
        let stale = std::mem::take(&mut self.stale);
        if stale.len() > self.order.len() / 8 {
            for id in (0..self.nodes.len()).rev() {
                let node = self.nodes[id];
                let (wmax, wmin) = if node.left == NONE {
                    let range = node.start as usize..node.end as usize;
                    let mut acc = (f64::NEG_INFINITY, f64::INFINITY);
                    for (&i, &wi) in self.order[range.clone()].iter().zip(&self.wt[range]) {
                        if alive[i as usize] {
                            acc = (acc.0.max(wi), acc.1.min(wi));
                        }
                    }
                    acc
                } else {
                    let (a, b) = (
                        self.nodes[node.left as usize],
                        self.nodes[node.left as usize + 1],
                    );
                    (a.wmax.max(b.wmax), a.wmin.min(b.wmin))
                };
                let node = &mut self.nodes[id];
                node.wmax = wmax;
                node.wmin = wmin;
            }
        } else {
            for &j in &stale {
                self.climb(j as usize, alive);
            }
        }
        self.stale = stale;
        self.stale.clear();
        self.stale_wabs = 0.0;
    }

    /// Whether deferred changes wait for [`DecoderTree::flush`].
    pub(super) fn is_stale(&self) -> bool {
        !self.stale.is_empty()
    }

    /// A bound of every living `|w|` (frame), deferred changes included.
    pub(super) fn wabs(&self) -> f64 {
        let root = &self.nodes[0];
        root.wmin.abs().max(root.wmax.abs()).max(self.stale_wabs)
    }

    /// The extremes on `j`'s leaf-to-root path, from the leaf's current `wt`.
    fn climb(&mut self, j: usize, alive: &[bool]) {
        let mut id = self.leaf_of[j] as usize;
        let (start, end) = (self.nodes[id].start as usize, self.nodes[id].end as usize);
        let (mut wmax, mut wmin) = (f64::NEG_INFINITY, f64::INFINITY);
        // (The leaf's members' w from the tree-order copy: the same values, contiguous.)
        for (&i, &wi) in self.order[start..end].iter().zip(&self.wt[start..end]) {
            if alive[i as usize] {
                wmax = wmax.max(wi);
                wmin = wmin.min(wi);
            }
        }
        loop {
            let node = &mut self.nodes[id];
            if node.wmax == wmax && node.wmin == wmin {
                return; // the ancestors are unchanged too
            }
            node.wmax = wmax;
            node.wmin = wmin;
            if node.parent == NONE {
                return;
            }
            id = node.parent as usize;
            let left = self.nodes[id].left as usize;
            let (a, b) = (&self.nodes[left], &self.nodes[left + 1]);
            wmax = a.wmax.max(b.wmax);
            wmin = a.wmin.min(b.wmin);
        }
    }

    /// Multiplies every stored `w` extreme by `factor > 0` (the frame was renormalised; rounding
    /// is monotone, so the extremes of the scaled values are the scaled extremes).
    pub(super) fn scale_w(&mut self, factor: f64) {
        self.stale_wabs *= factor;
        self.wt.iter_mut().for_each(|w| *w *= factor);
        for node in &mut self.nodes {
            node.wmax *= factor;
            node.wmin *= factor;
        }
    }

    /// Largest decoder norm.
    pub(super) fn rmax(&self) -> f64 {
        self.rmax
    }

    /// Smallest `w` (shared frame) over the living neurons.
    pub(super) fn wmin(&self) -> f64 {
        debug_assert!(self.stale.is_empty(), "extremes asked before a flush");
        self.nodes[0].wmin
    }

    /// Largest `w` (shared frame) over the living neurons.
    pub(super) fn wmax(&self) -> f64 {
        debug_assert!(self.stale.is_empty(), "extremes asked before a flush");
        self.nodes[0].wmax
    }

    /// Largest |T|.
    pub(super) fn tabs(&self) -> f64 {
        self.tabs
    }

    /// Upper bound of `max_i (D_iᵀ y + w_i − T_i)` over node `id`'s living members, where
    /// `ny = ‖y‖` and `g` converts the frame's `w` to values now: the smaller of the cone and
    /// the envelope bounds (module docs), with an allowance for rounding.
    #[inline]
    fn bound(&self, id: usize, y: &[f64], ny: f64, g: f64) -> f64 {
        let node = &self.nodes[id];
        if node.tmin == f64::INFINITY {
            return f64::NEG_INFINITY; // nobody alive
        }
        let env = &node.env;
        let (cone, along) = if self.d == 1 {
            // One dimension: the decoder interval bounds `D_i y` exactly where the cone bound
            // would use the largest (or smallest) norm, and the distance from the axis (±1, or 0
            // for a node of mixed signs) is a difference, not a square root.
            let (y, bx, u) = (y[0], &self.dbox[2 * id..2 * id + 2], self.axis[id]);
            let ay = u * y;
            (
                (bx[0] * y).max(bx[1] * y),
                env.at(ay) + env.rho * (y - ay * u).abs(),
            )
        } else if ny == 0.0 {
            (0.0, env.at(0.0))
        } else {
            let axis = &self.axis[id * self.d..(id + 1) * self.d];
            let ay = dot(axis, y);
            // ‖y − (uᵀy) u‖ from the residual, not from ‖y‖² − (uᵀy)² (no cancellation).
            let res: f64 = axis
                .iter()
                .zip(y)
                .map(|(a, x)| {
                    let r = x - ay * a;
                    r * r
                })
                .sum();
            let perp = res.sqrt();
            let cb = ay / ny;
            let c = if cb >= node.cos_a {
                1.0
            } else {
                let sb = (perp / ny).min(1.0);
                cb * node.cos_a + sb * node.sin_a
            };
            let r = if c >= 0.0 { node.rmax } else { node.rmin };
            (r * ny * c, env.at(ay) + env.rho * perp)
        };
        let w = node.wmax * g;
        (cone - node.tmin).min(along)
            + w
            + CONE_SLACK * (node.rmax * ny + env.mag)
            + 64.0 * f64::EPSILON * (w.abs() + node.tmin.abs())
    }

    /// `V_i − T_i = D_iᵀ y + w_i g − T_i` of the neuron at place `p` of the tree order,
    /// evaluated as the kernel evaluates a voltage (the same operations in the same order).
    #[inline]
    fn value_at(&self, p: usize, y: &[f64], g: f64) -> f64 {
        let d = self.d;
        #[cfg(test)]
        self.evaluated.set(self.evaluated.get() + 1);
        dot(&self.dec[p * d..(p + 1) * d], y) + self.wt[p] * g - self.th[p]
    }

    /// The neuron with the largest `V_i − T_i` (at the point where the shared state is `y` and
    /// `g` converts the frame's `w`) above `floor` among those `can_fire` admits, ties to the
    /// lower index — by branch and bound from the root.
    pub(super) fn argmax(
        &self,
        y: &[f64],
        g: f64,
        floor: f64,
        mut can_fire: impl FnMut(usize) -> bool,
        stack: &mut Vec<(u32, f64)>,
    ) -> Option<(f64, usize)> {
        debug_assert!(self.stale.is_empty(), "argmax asked before a flush");
        let ny = norm(y);
        let mut best: Option<(f64, usize)> = None;
        stack.clear();
        stack.push((0, self.bound(0, y, ny, g)));
        while let Some((id, b)) = stack.pop() {
            match best {
                Some((bv, _)) if b < bv => continue,
                None if b <= floor => continue,
                _ => {}
            }
            let node = &self.nodes[id as usize];
            if node.left == NONE {
                for p in node.start as usize..node.end as usize {
                    let v = self.value_at(p, y, g);
                    let i = self.order[p] as usize;
                    let better = match best {
                        None => v > floor,
                        Some((bv, bi)) => v > bv || (v == bv && i < bi),
                    };
                    if better && can_fire(i) {
                        best = Some((v, i));
                    }
                }
            } else {
                let (l, r) = (node.left as usize, node.left as usize + 1);
                let (bl, br) = (self.bound(l, y, ny, g), self.bound(r, y, ny, g));
                // The more promising child on top.
                if bl >= br {
                    stack.push((r as u32, br));
                    stack.push((l as u32, bl));
                } else {
                    stack.push((l as u32, bl));
                    stack.push((r as u32, br));
                }
            }
        }
        best
    }

    /// [`DecoderTree::argmax`] over `members` only (evaluated as the whole query evaluates
    /// them, so among them it gives the same answer).
    pub(super) fn argmax_among(
        &self,
        members: &[u32],
        y: &[f64],
        g: f64,
        floor: f64,
        mut can_fire: impl FnMut(usize) -> bool,
    ) -> Option<(f64, usize)> {
        let mut best: Option<(f64, usize)> = None;
        for &i in members {
            let i = i as usize;
            let v = self.value_at(self.pos_of[i] as usize, y, g);
            let better = match best {
                None => v > floor,
                Some((bv, bi)) => v > bv || (v == bv && i < bi),
            };
            if better && can_fire(i) {
                best = Some((v, i));
            }
        }
        best
    }

    /// How much node `id`'s members' `V − T` can rise under `r` (an upper bound).
    #[inline]
    fn node_reach(&self, id: usize, r: &Reach, g: f64) -> f64 {
        let d = self.d;
        if d == 1 {
            let (dl, dh) = (self.dbox[2 * id], self.dbox[2 * id + 1]);
            let (lo, hi) = (r.lo[0], r.hi[0]);
            let s = (dl * lo).max(dl * hi).max(dh * lo).max(dh * hi);
            return s + r.wgrow * (-self.nodes[id].wmin * g).max(0.0);
        }
        let bx = &self.dbox[id * 2 * d..(id + 1) * 2 * d];
        let mut s = 0.0;
        for k in 0..d {
            let (dl, dh) = (bx[k], bx[d + k]);
            s += (dl * r.lo[k])
                .max(dl * r.hi[k])
                .max(dh * r.lo[k])
                .max(dh * r.hi[k]);
        }
        s + r.wgrow * (-self.nodes[id].wmin * g).max(0.0)
    }

    /// How much the `V − T` of the neuron at place `p` of the tree order can rise under `r`.
    #[inline]
    fn leaf_reach(&self, p: usize, r: &Reach, g: f64) -> f64 {
        let d = self.d;
        if d == 1 {
            let x = self.dec[p];
            return (x * r.lo[0]).max(x * r.hi[0]) + r.wgrow * (-self.wt[p] * g).max(0.0);
        }
        let mut s = 0.0;
        for (k, &x) in self.dec[p * d..(p + 1) * d].iter().enumerate() {
            s += (x * r.lo[k]).max(x * r.hi[k]);
        }
        s + r.wgrow * (-self.wt[p] * g).max(0.0)
    }

    /// Appends to `out` every neuron `can_fire` admits that can reach threshold over a piece
    /// (`V_i − T_i` at its start, where the shared state is `y`, plus its reach under `r`, is
    /// above `−r.slack`); gives up, returning `false`, as soon as more than `limit` are found.
    /// Each node's reach is bounded by its decoder box, so neurons whose decoders point away
    /// from the way `y` moves are excluded even where `‖ẏ‖` is large.
    pub(super) fn within_reach(
        &self,
        y: &[f64],
        g: f64,
        r: &Reach,
        mut can_fire: impl FnMut(usize) -> bool,
        limit: usize,
        scratch: &mut Scratch,
    ) -> bool {
        const SLACK: f64 = 1.0 + 1e-12; // the rounding of the reach sums
        debug_assert!(self.stale.is_empty(), "within_reach asked before a flush");
        let ny = norm(y);
        let Scratch { stack, band: out } = scratch;
        out.clear();
        stack.clear();
        stack.push((0, 0.0));
        while let Some((id, _)) = stack.pop() {
            let id = id as usize;
            let reach = self.node_reach(id, r, g) * SLACK + r.slack;
            if self.bound(id, y, ny, g) + reach <= 0.0 {
                continue;
            }
            let node = &self.nodes[id];
            if node.left == NONE {
                for p in node.start as usize..node.end as usize {
                    let i = self.order[p];
                    let v = self.value_at(p, y, g) + self.leaf_reach(p, r, g) * SLACK + r.slack;
                    if v > 0.0 && can_fire(i as usize) {
                        if out.len() >= limit {
                            return false;
                        }
                        out.push(i);
                    }
                }
            } else {
                stack.push((node.left + 1, 0.0));
                stack.push((node.left, 0.0));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;
