//! One branch-and-bound descent of a group's tree: the index's query ([`super::Relaxation`]).

use super::{down, kappa, Node, ARITY, KEEP, LEAF};

/// One branch-and-bound descent of a group's tree ([`super::Relaxation::scan`]).
pub(super) struct Walk<'a> {
    /// The group's nodes and slots.
    pub(super) nodes: &'a mut [Node],
    pub(super) alpha: &'a [f64],
    pub(super) zeta: &'a [f64],
    pub(super) neuron: &'a [u32],
    pub(super) first_leaf: usize,
    pub(super) sigma: f64,
    /// The smallest `κ` so far, and the limit of what is visited and kept (fixed, or the best
    /// plus [`KEEP`] of it, at most the ceiling).
    pub(super) best: f64,
    pub(super) limit: f64,
    pub(super) ceiling: f64,
    pub(super) fixed: bool,
    pub(super) kept: &'a mut Vec<(f64, u32)>,
}

impl Walk<'_> {
    /// Node `k`'s subtree: visits the slots whose `κ` can be within the limit, the child with
    /// the smallest bound first, tightens every node it opens to what it found below, and
    /// returns a lower bound of the subtree's `κ` (a leaf's `κ` itself).
    pub(super) fn visit(&mut self, k: usize) -> f64 {
        if k >= self.first_leaf {
            // A leaf: its slots' κ, then (only when the smallest can be within the limit) the
            // slots kept, in order — the limit shrinks as the best improves.
            let first = (k - self.first_leaf) * LEAF;
            let last = (first + LEAF).min(self.alpha.len());
            let slots = first.min(last)..last; // (empty for padding leaves)
            let mut kappas = [f64::INFINITY; LEAF];
            if let (Ok(alpha), Ok(zeta)) = (
                <&[f64; LEAF]>::try_from(&self.alpha[slots.clone()]),
                <&[f64; LEAF]>::try_from(&self.zeta[slots.clone()]),
            ) {
                // (A full leaf: fixed-size, unrolled.)
                for j in 0..LEAF {
                    kappas[j] = kappa(alpha[j], zeta[j], self.sigma);
                }
            } else {
                for ((kp, &alpha), &zeta) in kappas
                    .iter_mut()
                    .zip(&self.alpha[slots.clone()])
                    .zip(&self.zeta[slots.clone()])
                {
                    *kp = kappa(alpha, zeta, self.sigma);
                }
            }
            // (κ is never NaN: σ and the rates are finite, ζ finite or −∞.)
            let mut least = f64::INFINITY;
            for &x in &kappas {
                if x < least {
                    least = x;
                }
            }
            if least <= self.limit {
                // The best and the limit as the slots in order would leave them; the slots kept
                // are those within that limit (one seen earlier under a looser limit would only
                // be dropped by `within`, whose bounds are never above the final limit).
                if least < self.best {
                    self.best = least;
                    if !self.fixed {
                        self.limit = (least + KEEP * least.abs()).min(self.ceiling);
                    }
                }
                let mut keep = 0u32;
                for (j, &kappa) in kappas.iter().enumerate() {
                    keep |= u32::from(kappa <= self.limit) << j;
                }
                let neurons = &self.neuron[slots];
                keep &= (1u32 << neurons.len()) - 1; // (not the padding)
                while keep != 0 {
                    let j = keep.trailing_zeros() as usize;
                    keep &= keep - 1;
                    self.kept.push((kappas[j], neurons[j]));
                }
            }
            if first < last {
                self.nodes[k].lb = down(least);
                self.nodes[k].at = self.sigma;
            }
            return least;
        }
        // The children's bounds; the most promising child first, then the others (in order)
        // while they can still beat the best.
        let c0 = ARITY * k + 1;
        let mut v = [0.0; ARITY];
        for (j, vj) in v.iter_mut().enumerate() {
            *vj = self.nodes[c0 + j].bound(self.sigma);
        }
        let mut near = 0;
        for j in 1..ARITY {
            if v[j] < v[near] {
                near = j;
            }
        }
        if v[near] <= self.limit {
            v[near] = self.visit(c0 + near);
            // The others within the limit, in order (each checked again: the limit shrinks).
            let mut open = 0u32;
            for (j, &vj) in v.iter().enumerate() {
                open |= u32::from(vj <= self.limit) << j;
            }
            open &= !(1 << near);
            while open != 0 {
                let j = open.trailing_zeros() as usize;
                open &= open - 1;
                if v[j] <= self.limit {
                    v[j] = self.visit(c0 + j);
                }
            }
        }
        let lb = v.iter().copied().fold(f64::INFINITY, f64::min);
        self.nodes[k].lb = down(lb);
        self.nodes[k].at = self.sigma;
        lb
    }
}
