//! The learned field `UΨ(x) − λ_d x` against the target's: its relative error over teacher
//! states ([`field_err`]), the field as a [`VectorField`] to integrate without spikes, and both
//! fields' fixed points over the box the training visited ([`fixed_point_report`]).

use super::*;

/// `U Ψ(x)`.
pub(super) fn learned_at(basis: &Basis, u: &[f64], x: &[f64], psi: &mut [f64], out: &mut [f64]) {
    basis.eval(x, psi);
    let nb = psi.len();
    for (o, row) in out.iter_mut().zip(u.chunks_exact(nb)) {
        *o = row.iter().zip(psi.iter()).map(|(a, b)| a * b).sum();
    }
}

pub(super) fn field_err(
    basis: &Basis,
    u: &[f64],
    field: &dyn VectorField,
    lambda_d: f64,
    states: &[f64],
) -> f64 {
    let d = basis.dims();
    let psi = std::cell::RefCell::new(vec![0.0; basis.len()]);
    learned_field_error(
        |x, out| learned_at(basis, u, x, &mut psi.borrow_mut(), out),
        |x, out| field.eval(x, out),
        lambda_d,
        states,
        d,
    )
}

/// Fixed points of the learned field against the target's, over the box the training visited.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FixedPointReport {
    /// Lower corner of the box searched (per-dimension minimum of the training states).
    pub box_lo: Vec<f64>,
    /// Upper corner.
    pub box_hi: Vec<f64>,
    /// Fixed points of the learned field `UΨ(x) − λ_d x` in the box.
    pub learned: Vec<crate::analysis::learning_metrics::FixedPoint>,
    /// Fixed points of the target field `g` in the box.
    pub target: Vec<crate::analysis::learning_metrics::FixedPoint>,
    /// Largest distance from a target fixed point to the nearest learned one of the same kind
    /// (attracting, repelling, saddle; `None` when the target has none in the box or one has no
    /// match).
    pub max_error: Option<f64>,
    /// The same over the target's attracting fixed points only (the attractors).
    pub max_error_stable: Option<f64>,
}

/// The learned field `UΨ(x) − λ_d x` as a vector field (to integrate it without spikes).
#[derive(Debug)]
pub(super) struct LearnedField<'a> {
    pub(super) basis: &'a Basis,
    pub(super) u: &'a [f64],
    pub(super) lambda_d: f64,
}

impl VectorField for LearnedField<'_> {
    fn dims(&self) -> usize {
        self.basis.dims()
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let mut psi = vec![0.0; self.basis.len()];
        learned_at(self.basis, self.u, x, &mut psi, out);
        for (o, xi) in out.iter_mut().zip(x) {
            *o -= self.lambda_d * xi;
        }
    }
}

/// Fixed points of the learned and target fields over the box spanned by `states`.
pub(crate) fn fixed_point_report(
    basis: &Basis,
    u: &[f64],
    field: &dyn VectorField,
    lambda_d: f64,
    states: &[f64],
) -> FixedPointReport {
    use crate::analysis::learning_metrics::{fixed_points, FixedPointOptions};
    let d = basis.dims();
    let (lo, hi) = state_box(states, d);
    let psi = std::cell::RefCell::new(vec![0.0; basis.len()]);
    let opts = FixedPointOptions {
        seeds_per_dim: if d == 1 {
            41
        } else if d == 2 {
            15
        } else {
            7
        },
        ..FixedPointOptions::default()
    };
    let learned = fixed_points(
        |x, out| {
            learned_at(basis, u, x, &mut psi.borrow_mut(), out);
            out.iter_mut()
                .zip(x)
                .for_each(|(o, xi)| *o -= lambda_d * xi);
        },
        &lo,
        &hi,
        &opts,
    );
    let target = fixed_points(|x, out| field.eval(x, out), &lo, &hi, &opts);
    let mut max_error: Option<f64> = None;
    let mut max_error_stable: Option<f64> = None;
    for t in &target {
        let nearest = learned
            .iter()
            .filter(|l| same_kind(l.stability, t.stability))
            .map(|l| {
                l.x.iter()
                    .zip(&t.x)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(f64::INFINITY, f64::min);
        max_error = Some(max_error.unwrap_or(0.0).max(nearest));
        if t.stability.is_attracting() {
            max_error_stable = Some(max_error_stable.unwrap_or(0.0).max(nearest));
        }
    }
    FixedPointReport {
        box_lo: lo,
        box_hi: hi,
        learned,
        target,
        max_error: max_error.and_then(finite),
        max_error_stable: max_error_stable.and_then(finite),
    }
}

/// Whether two fixed points are of the same kind for matching: both attracting (node or
/// focus), both repelling, both saddles, or the same otherwise — a learned attractor whose
/// Jacobian has a slight rotation (a focus) still matches a target node.
fn same_kind(
    a: crate::analysis::learning_metrics::Stability,
    b: crate::analysis::learning_metrics::Stability,
) -> bool {
    use crate::analysis::learning_metrics::Stability::*;
    let kind = |s| match s {
        StableNode | StableFocus => 0,
        UnstableNode | UnstableFocus => 1,
        Saddle => 2,
        NonHyperbolic => 3,
        Undetermined => 4,
    };
    kind(a) == kind(b)
}

/// Per-dimension minimum and maximum of `states` (rows of d).
pub(super) fn state_box(states: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for x in states.chunks_exact(d) {
        for j in 0..d {
            lo[j] = lo[j].min(x[j]);
            hi[j] = hi[j].max(x[j]);
        }
    }
    (lo, hi)
}
