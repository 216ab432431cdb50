//! Certified search for the first threshold crossing of a [`Trajectory`].
//!
//! The search never misses a crossing: it splits `[start, end]` into pieces, earliest first, and
//! for each piece uses exact enclosures of the voltage and of its derivative
//! ([`Trajectory::enclose`]) to either *prove* the piece free of crossings (upper bound below
//! threshold, or voltage decreasing from a point below it), or prove it monotone — then a sign
//! change brackets exactly one crossing, refined by a safeguarded Newton iteration to adjacent
//! floating-point times. Pieces that are neither are halved. Only grazing trajectories go deep.
//!
//! The result is the **smallest representable time `t` with `V(t) ≥ T`** as evaluated (up to the
//! few ulps of the evaluation itself), so the engine that fires the neuron at `t` sees it at or
//! above threshold.

use crate::closed_form::expo::{BasisRanges, BasisValues, Membrane, Trajectory};

/// Work done by crossing searches, for the run counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CrossingStats {
    /// Searches started (neurons that could not be excluded by a cheap bound).
    pub(crate) searches: u64,
    /// Enclosures evaluated over sub-intervals.
    pub(crate) enclosures: u64,
    /// Bracketed roots refined to ulp level.
    pub(crate) root_solves: u64,
}

/// Bound on the subdivision depth (a piece is never narrower than a few ulps anyway).
const MAX_STACK: usize = 256;

/// Rounding allowance of an enclosure, relative to the magnitude of its summed terms.
pub(crate) const MARGIN: f64 = 16.0 * f64::EPSILON;

/// Whether the cheap bound proves `tr` below `threshold` over the interval `r` describes (its
/// upper bound, with the rounding allowance of the summed terms): the test that excludes most
/// neurons before any search.
#[inline]
pub(crate) fn proven_below(tr: &Trajectory, threshold: f64, r: &BasisRanges) -> bool {
    let (ub, mag) = tr.upper_bound(r);
    ub - threshold + MARGIN * (mag + threshold.abs()) < 0.0
}

/// First time in `[start, end]` at which `origin`-based trajectory `tr` reaches `threshold`.
///
/// `origin` is the time at which `τ = 0` (the trajectory's interval start, `origin ≤ start`).
/// At `start` itself a voltage above threshold is a crossing; a voltage exactly at threshold is a
/// crossing only when it is rising (a neuron left at threshold waits for its dynamics).
pub(crate) fn first_crossing(
    m: &Membrane,
    tr: &Trajectory,
    threshold: f64,
    origin: f64,
    start: f64,
    end: f64,
    stats: &mut CrossingStats,
) -> Option<f64> {
    let deg = tr.degree;
    let end = end.max(start);
    let bs = m.values(start - origin, deg);
    let be = m.values(end - origin, deg);
    Searcher::default().first_crossing_between(
        m,
        tr,
        threshold,
        origin,
        (start, &bs),
        (end, &be),
        None,
        stats,
    )
}

/// A piece `[a, b]` of a search with the basis at both ends and `f(a)`.
#[allow(clippy::large_enum_variant)] // lives on a reused stack; boxing would allocate per split
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
enum Piece {
    Search((f64, BasisValues), (f64, BasisValues), f64),
    /// A crossing is known to exist at or before this time.
    Fallback(f64),
}

/// Reusable scratch space for crossing searches, so that a warm search allocates nothing.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub(crate) struct Searcher {
    stack: Vec<Piece>,
}

impl Searcher {
    /// [`first_crossing`] with the basis already evaluated at the interval's ends (at local
    /// times `start − origin` and `end − origin`): the form the kernel uses, which shares these
    /// values among all neurons — and, where the caller has them, the basis's ranges over the
    /// whole interval (`whole`: [`Membrane::ranges`] of `bs` and `be`, as the band search has
    /// them).
    #[allow(clippy::too_many_arguments)] // the search's inputs; grouping them would only rename
    pub(crate) fn first_crossing_between(
        &mut self,
        m: &Membrane,
        tr: &Trajectory,
        threshold: f64,
        origin: f64,
        (start, bs): (f64, &BasisValues),
        (end, be): (f64, &BasisValues),
        whole: Option<&BasisRanges>,
        stats: &mut CrossingStats,
    ) -> Option<f64> {
        let stack = &mut self.stack;
        stats.searches += 1;
        let deg = tr.degree;
        let at = |t: f64| m.values_for(tr, t - origin);
        let fs = tr.value(bs) - threshold;
        if fs > 0.0 || (fs == 0.0 && tr.derivative(m, bs) > 0.0) {
            return Some(start);
        }
        if end <= start {
            return None;
        }

        // The whole interval is the first piece (with the caller's ranges, when given), looked
        // at in place: most searches end there, and only a piece that must be halved is stacked.
        stack.clear();
        let examine = |stack: &mut Vec<Piece>,
                       (a, ba): (f64, &BasisValues),
                       (b, bb): (f64, &BasisValues),
                       fa: f64,
                       ranges: &BasisRanges,
                       stats: &mut CrossingStats|
         -> Option<f64> {
            stats.enclosures += 1;
            let (v, d, mag) = tr.enclose(m, ranges);
            if v.hi - threshold + MARGIN * (mag + threshold.abs()) < 0.0 {
                return None; // proven below threshold on the whole piece
            }
            let fb = tr.value(bb) - threshold;
            if d.lo > 0.0 {
                if fb >= 0.0 {
                    return Some(refine(m, tr, threshold, origin, (a, fa), (b, fb), stats));
                }
                return None; // increasing but still below at the right end
            }
            if d.hi < 0.0 {
                return None; // decreasing from a point at or below threshold
            }
            let mid = a + 0.5 * (b - a);
            if mid <= a || mid >= b || stack.len() >= MAX_STACK {
                // A few ulps wide: decide by the values.
                return (fb >= 0.0).then_some(b);
            }
            let bm = at(mid);
            let fm = tr.value(&bm) - threshold;
            if fm >= 0.0 {
                // A crossing lies in (a, mid]; the left piece must find it, mid is the fallback.
                stack.push(Piece::Fallback(mid));
                stack.push(Piece::Search((a, *ba), (mid, bm), fa));
            } else {
                stack.push(Piece::Search((mid, bm), (b, *bb), fm));
                stack.push(Piece::Search((a, *ba), (mid, bm), fa));
            }
            None
        };
        let computed;
        let whole = match whole {
            Some(r) => r,
            None => {
                computed = m.ranges(bs, be, deg);
                &computed
            }
        };
        if let Some(t) = examine(stack, (start, bs), (end, be), fs, whole, stats) {
            return Some(t);
        }
        loop {
            match stack.pop() {
                None => return None,
                Some(Piece::Fallback(t)) => return Some(t),
                Some(Piece::Search((a, ba), (b, bb), fa)) => {
                    let ranges = m.ranges(&ba, &bb, deg);
                    if let Some(t) = examine(stack, (a, &ba), (b, &bb), fa, &ranges, stats) {
                        return Some(t);
                    }
                }
            }
        }
    }
}

/// Refines a bracket `f(a) < 0 ≤ f(b)` of a monotone piece to adjacent floats; returns `b`.
///
/// Safeguarded Newton: one basis evaluation gives both `f` and `f'`, and from a first secant
/// point the iteration converges quadratically (the Illinois iteration it replaced converged
/// superlinearly, at one evaluation per step too). Close to the root a step shorter than an ulp
/// probes the neighbouring float, which closes the bracket. A step outside the bracket, or a bracket that
/// fails to halve in two evaluations, falls back to bisection. The result is the same as any
/// refinement to adjacent floats wherever `f` is monotone as evaluated: the one float `b` with
/// `f(b) ≥ 0 > f(prev(b))`.
fn refine(
    m: &Membrane,
    tr: &Trajectory,
    threshold: f64,
    origin: f64,
    (mut a, fa): (f64, f64),
    (mut b, fb): (f64, f64),
    stats: &mut CrossingStats,
) -> f64 {
    stats.root_solves += 1;
    let eval = |t: f64| {
        let bv = m.values_for(tr, t - origin);
        (tr.value(&bv) - threshold, tr.derivative(m, &bv))
    };
    let adjacent = |a: f64, b: f64| {
        let mid = a + 0.5 * (b - a);
        mid <= a || mid >= b
    };
    // First point: the secant of the bracket.
    let mut x = if fb - fa > 0.0 {
        b - fb * (b - a) / (fb - fa)
    } else {
        a + 0.5 * (b - a)
    };
    let mut width_ref = b - a;
    for iter in 0..300 {
        if adjacent(a, b) {
            break;
        }
        if !(x > a && x < b) {
            x = a + 0.5 * (b - a);
        }
        let (fx, dx) = eval(x);
        if fx >= 0.0 {
            b = x;
        } else {
            a = x;
        }
        if adjacent(a, b) {
            break;
        }
        let mut next = if dx > 0.0 { x - fx / dx } else { f64::NAN };
        if next == x {
            // The step is under half an ulp: the root is next to x.
            next = if fx >= 0.0 { next_down(x) } else { next_up(x) };
        }
        if iter % 2 == 1 {
            if b - a > 0.5 * width_ref {
                next = a + 0.5 * (b - a);
            }
            width_ref = b - a;
        }
        x = next;
    }
    b
}

/// The next float above `x` (finite, not NaN).
fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

/// The next float below `x` (finite, not NaN).
pub(crate) fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive coefficients padded with zeros.
    fn pad(x: &[f64]) -> [f64; crate::closed_form::expo::MAX_DEGREE + 1] {
        let mut out = [0.0; crate::closed_form::expo::MAX_DEGREE + 1];
        out[..x.len()].copy_from_slice(x);
        out
    }

    fn search(m: &Membrane, tr: &Trajectory, th: f64, end: f64) -> Option<f64> {
        first_crossing(m, tr, th, 0.0, 0.0, end, &mut CrossingStats::default())
    }

    #[test]
    fn constant_drive_matches_closed_form() {
        // V' = -λV + I, V(0)=0: V(t) = I/λ (1 - e^{-λt}); crossing at t = -ln(1 - λT/I)/λ.
        let m = Membrane::new(20.0, 10.0);
        let tr = Trajectory {
            v0: 0.0,
            drive: pad(&[30.0, 0.0, 0.0, 0.0]),
            slow: 0.0,
            degree: 0,
        };
        let t = search(&m, &tr, 1.0, 1.0).unwrap();
        let exact = -(1.0f64 - 20.0 / 30.0).ln() / 20.0;
        assert!((t - exact).abs() < 1e-15, "{t} vs {exact}");
    }

    #[test]
    fn below_threshold_forever_has_no_crossing() {
        let m = Membrane::new(20.0, 10.0);
        let tr = Trajectory {
            v0: 0.0,
            drive: pad(&[19.0, 0.0, 0.0, 0.0]),
            slow: 0.0,
            degree: 0,
        };
        assert_eq!(search(&m, &tr, 1.0, 10.0), None);
    }

    #[test]
    fn at_threshold_waits_for_its_dynamics() {
        let m = Membrane::new(20.0, 10.0);
        // Falling from threshold: no crossing at the start.
        let tr = Trajectory {
            v0: 1.0,
            drive: pad(&[]),
            slow: 0.0,
            degree: 0,
        };
        assert_eq!(search(&m, &tr, 1.0, 1.0), None);
        // Rising from threshold: crossing at the start.
        let tr = Trajectory {
            v0: 1.0,
            drive: pad(&[40.0, 0.0, 0.0, 0.0]),
            slow: 0.0,
            degree: 0,
        };
        assert_eq!(search(&m, &tr, 1.0, 1.0), Some(0.0));
    }

    #[test]
    fn near_grazing_bump_is_found_and_missing_one_is_not_invented() {
        // A slow current bump s·E(τ) peaking just above / just below threshold.
        let m = Membrane::new(20.0, 10.0);
        let peak_t = (2.0f64).ln() / 10.0;
        let e_peak = m.values(peak_t, 0).slow;
        for &(excess, found) in &[(1e-9, true), (1e-13, true), (-1e-13, false), (-1e-9, false)] {
            let s = (1.0 + excess) / e_peak;
            let tr = Trajectory {
                v0: 0.0,
                drive: pad(&[]),
                slow: s,
                degree: 0,
            };
            let r = search(&m, &tr, 1.0, 1.0);
            assert_eq!(r.is_some(), found, "excess {excess}: {r:?}");
            if let Some(t) = r {
                let v = tr.value(&m.values(t, 0));
                assert!(v >= 1.0 && v - 1.0 < 1e-12);
                assert!(t <= peak_t + 1e-6 && t > 0.0);
            }
        }
    }

    #[test]
    fn finds_the_first_of_several_crossings() {
        // A cubic drive that rises above threshold, falls, and rises again.
        let m = Membrane::new(20.0, 10.0);
        let tr = Trajectory {
            v0: 0.0,
            drive: pad(&[40.0, -1200.0, 9000.0, 0.0]),
            slow: 0.0,
            degree: 2,
        };
        let t = search(&m, &tr, 0.3, 1.0).unwrap();
        // Dense scan for the first sample at or above threshold.
        let mut first = None;
        for i in 0..=1_000_000 {
            let tt = i as f64 * 1e-6;
            if tr.value(&m.values(tt, 2)) >= 0.3 {
                first = Some(tt);
                break;
            }
        }
        let first = first.unwrap();
        assert!((t - first).abs() <= 1e-6, "{t} vs {first}");
    }
}
