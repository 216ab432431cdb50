//! Fixed points, linear stability and basins of attraction.

#[allow(unused_imports)]
use super::*;

// ------------------------------------------------------------------------------------------
// Fixed points, linear stability, basins
// ------------------------------------------------------------------------------------------

/// A complex eigenvalue `re + i·im`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eigenvalue {
    /// Real part (1/s for a vector field in 1/s).
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

/// Linear stability of a fixed point, from the eigenvalues of its Jacobian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stability {
    /// Every Re λ < 0 and every λ real: an attracting node.
    StableNode,
    /// Every Re λ < 0, at least one complex pair: an attracting focus (spiral).
    StableFocus,
    /// Every Re λ > 0, every λ real: a repelling node.
    UnstableNode,
    /// Every Re λ > 0, at least one complex pair: a repelling focus.
    UnstableFocus,
    /// Re λ of both signs (none ≈ 0): a saddle.
    Saddle,
    /// Some |Re λ| ≤ the zero tolerance: the linearisation does not decide (centre, fold, x³).
    NonHyperbolic,
    /// The eigenvalues could not be computed (non-finite Jacobian).
    Undetermined,
}

impl Stability {
    /// Whether the fixed point attracts all nearby states (a stable node or focus).
    pub fn is_attracting(self) -> bool {
        matches!(self, Stability::StableNode | Stability::StableFocus)
    }
}

/// Classifies eigenvalues: `|Re λ| ≤ zero_tol` counts as zero (→ [`Stability::NonHyperbolic`]);
/// otherwise by the signs of the real parts, and node vs focus by whether any `|Im λ| > zero_tol`.
/// An empty or non-finite list gives [`Stability::Undetermined`].
pub fn classify(eigenvalues: &[Eigenvalue], zero_tol: f64) -> Stability {
    if eigenvalues.is_empty()
        || eigenvalues
            .iter()
            .any(|e| !e.re.is_finite() || !e.im.is_finite())
    {
        return Stability::Undetermined;
    }
    if eigenvalues.iter().any(|e| e.re.abs() <= zero_tol) {
        return Stability::NonHyperbolic;
    }
    let neg = eigenvalues.iter().filter(|e| e.re < 0.0).count();
    let complex = eigenvalues.iter().any(|e| e.im.abs() > zero_tol);
    match (neg, complex) {
        (n, false) if n == eigenvalues.len() => Stability::StableNode,
        (n, true) if n == eigenvalues.len() => Stability::StableFocus,
        (0, false) => Stability::UnstableNode,
        (0, true) => Stability::UnstableFocus,
        _ => Stability::Saddle,
    }
}

/// Roots of `λ² − t λ + q = 0` (t the trace, q the determinant of a 2×2 matrix), computed without
/// cancellation.
fn quadratic_roots(t: f64, q: f64) -> [Eigenvalue; 2] {
    let h = t / 2.0;
    let disc = h * h - q;
    if disc >= 0.0 {
        let s = disc.sqrt();
        let big = if h >= 0.0 { h + s } else { h - s };
        let small = if big != 0.0 { q / big } else { 0.0 };
        [
            Eigenvalue { re: big, im: 0.0 },
            Eigenvalue { re: small, im: 0.0 },
        ]
    } else {
        let s = (-disc).sqrt();
        [Eigenvalue { re: h, im: s }, Eigenvalue { re: h, im: -s }]
    }
}

/// Real roots of the monic cubic `λ³ + a λ² + b λ + c` and the complex pair if there is one.
fn cubic_roots(a: f64, b: f64, c: f64) -> [Eigenvalue; 3] {
    let p = |x: f64| ((x + a) * x + b) * x + c;
    let dp = |x: f64| (3.0 * x + 2.0 * a) * x + b;
    let polish = |mut x: f64| {
        for _ in 0..3 {
            let (f, g) = (p(x), dp(x));
            if g == 0.0 || !f.is_finite() {
                break;
            }
            let nx = x - f / g;
            if !nx.is_finite() || p(nx).abs() >= f.abs() {
                break;
            }
            x = nx;
        }
        x
    };
    // Depressed cubic: λ = s − a/3, s³ + P s + Q = 0.
    let sh = a / 3.0;
    let pp = b - a * a / 3.0;
    let qq = 2.0 * a * a * a / 27.0 - a * b / 3.0 + c;
    let disc = (qq / 2.0) * (qq / 2.0) + (pp / 3.0) * (pp / 3.0) * (pp / 3.0);
    if disc <= 0.0 && pp < 0.0 {
        // Three real roots: trigonometric form.
        let m = 2.0 * (-pp / 3.0).sqrt();
        let arg = (3.0 * qq / (pp * m)).clamp(-1.0, 1.0);
        let phi = arg.acos() / 3.0;
        let tau = 2.0 * std::f64::consts::PI / 3.0;
        let r = [0.0, 1.0, 2.0].map(|k| Eigenvalue {
            re: polish(m * (phi - k * tau).cos() - sh),
            im: 0.0,
        });
        return r;
    }
    // One real root (or a triple root when P = Q = 0): Cardano, cancellation-free.
    let sq = disc.max(0.0).sqrt();
    let u = (-qq / 2.0 - qq.signum() * sq).cbrt();
    let s = if u != 0.0 { u - pp / (3.0 * u) } else { 0.0 };
    let r = polish(s - sh);
    // Deflate: λ³ + aλ² + bλ + c = (λ − r)(λ² + (a + r)λ + b + r(a + r)).
    let lin = a + r;
    let con = b + r * lin;
    let [e1, e2] = quadratic_roots(-lin, con);
    [Eigenvalue { re: r, im: 0.0 }, e1, e2]
}

/// Eigenvalues of a `d × d` matrix given row-major, sorted by decreasing real part, then
/// decreasing imaginary part.
///
/// d = 1: the entry. d = 2: the roots of `λ² − tr λ + det` (trace/determinant, cancellation-free).
/// d = 3: the roots of the characteristic polynomial `λ³ − tr λ² + m₂ λ − det` (m₂ the sum of the
/// principal 2×2 minors) in closed form (trigonometric for three real roots, Cardano plus deflation
/// for one real root and a complex pair), real roots polished by Newton on the polynomial.
/// d > 3: the real Schur form (nalgebra, at most 10 000 QR iterations). Closed forms lose accuracy
/// for nearly repeated roots (an error ~ sqrt(ε) relative); that does not change a classification
/// with a sensible zero tolerance. `None` when the matrix is not `d × d`, has a non-finite entry, or
/// the Schur iteration does not converge.
pub fn eigenvalues(matrix: &[f64], d: usize) -> Option<Vec<Eigenvalue>> {
    if d == 0 || matrix.len() != d * d || matrix.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let m = |i: usize, j: usize| matrix[i * d + j];
    let mut ev: Vec<Eigenvalue> = match d {
        1 => vec![Eigenvalue {
            re: matrix[0],
            im: 0.0,
        }],
        2 => quadratic_roots(m(0, 0) + m(1, 1), m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0)).to_vec(),
        3 => {
            let tr = m(0, 0) + m(1, 1) + m(2, 2);
            let m2 = m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0) + m(0, 0) * m(2, 2) - m(0, 2) * m(2, 0)
                + m(1, 1) * m(2, 2)
                - m(1, 2) * m(2, 1);
            let det = m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1))
                - m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0))
                + m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
            cubic_roots(-tr, m2, -det).to_vec()
        }
        _ => {
            let mat = nalgebra::DMatrix::from_row_slice(d, d, matrix);
            let schur = nalgebra::linalg::Schur::try_new(mat, f64::EPSILON, 10_000)?;
            schur
                .complex_eigenvalues()
                .iter()
                .map(|c| Eigenvalue { re: c.re, im: c.im })
                .collect()
        }
    };
    ev.sort_by(|x, y| y.re.total_cmp(&x.re).then(y.im.total_cmp(&x.im)));
    Some(ev)
}

/// Central-difference Jacobian of `field` at `x` with per-coordinate steps `steps` (row-major
/// `d × d`, `J[i][j] = ∂f_i/∂x_j`).
fn jacobian_steps(field: &impl Fn(&[f64], &mut [f64]), x: &[f64], steps: &[f64]) -> Vec<f64> {
    let d = x.len();
    let mut jac = vec![0.0; d * d];
    let (mut xp, mut fp, mut fm) = (x.to_vec(), vec![0.0; d], vec![0.0; d]);
    for j in 0..d {
        let h = steps[j];
        xp[j] = x[j] + h;
        field(&xp, &mut fp);
        xp[j] = x[j] - h;
        field(&xp, &mut fm);
        xp[j] = x[j];
        let dx = 2.0 * h;
        for i in 0..d {
            jac[i * d + j] = (fp[i] - fm[i]) / dx;
        }
    }
    jac
}

/// Numeric Jacobian `J[i][j] = ∂f_i/∂x_j` (row-major `d × d`, d = `x.len()`) of `field` at `x` by
/// central differences with step `h_j = ε^(1/3) · max(|x_j|, scale)` (ε the f64 machine epsilon,
/// ε^(1/3) ≈ 6e-6), which balances truncation (O(h²)) and rounding (O(ε/h)) errors: about 1e-10
/// relative for smooth fields. `scale` is the coordinates' typical size (use 1 for O(1) states).
pub fn numeric_jacobian(field: impl Fn(&[f64], &mut [f64]), x: &[f64], scale: f64) -> Vec<f64> {
    let c = f64::EPSILON.cbrt();
    let s = if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    };
    let steps: Vec<f64> = x.iter().map(|v| c * v.abs().max(s)).collect();
    jacobian_steps(&field, x, &steps)
}

/// Settings of [`fixed_points`]. Tolerances are relative: lengths to the box diagonal L, field
/// values to the field scale F (RMS of ‖f‖ over the seeds), eigenvalues to the rate scale F/L.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixedPointOptions {
    /// Seeds per dimension of the regular grid over the box, endpoints included (≥ 1; 1 means the
    /// centre). Default 11.
    pub seeds_per_dim: usize,
    /// Newton iterations per seed. Default 100 (enough for the linear convergence at a root with
    /// a singular Jacobian, such as x³).
    pub max_iter: usize,
    /// Newton stops when a step is shorter than `step_tol · L`. Default 1e-13.
    pub step_tol: f64,
    /// A converged point is accepted when `‖f(x*)‖ ≤ residual_tol · F`. Default 1e-8.
    pub residual_tol: f64,
    /// Points closer than `dedup_tol · L` are the same fixed point. Default 1e-6.
    pub dedup_tol: f64,
    /// `|Re λ| ≤ zero_tol · max(F/L, max_i |λ_i|)` counts as zero in [`classify`]. Default 1e-6.
    pub zero_tol: f64,
}

impl Default for FixedPointOptions {
    fn default() -> Self {
        FixedPointOptions {
            seeds_per_dim: 11,
            max_iter: 100,
            step_tol: 1e-13,
            residual_tol: 1e-8,
            dedup_tol: 1e-6,
            zero_tol: 1e-6,
        }
    }
}

/// A fixed point of a vector field with its linearisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixedPoint {
    /// Location, d coordinates.
    pub x: Vec<f64>,
    /// `‖f(x)‖` at the location.
    pub residual: f64,
    /// Eigenvalues of the numeric Jacobian there ([`eigenvalues`]); empty if undetermined.
    pub eigenvalues: Vec<Eigenvalue>,
    /// Their classification ([`classify`]).
    pub stability: Stability,
}

/// `n` evenly spaced points from `lo` to `hi` inclusive (the midpoint when n = 1).
fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![(lo + hi) / 2.0],
        _ => (0..n)
            .map(|k| lo + (hi - lo) * k as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// A regular grid over the box `[lo_j, hi_j]` with `per_dim` points per dimension (endpoints
/// included; the centre when `per_dim = 1`), row-major `per_dim^d × d`, the last coordinate
/// varying fastest. Empty when `lo`, `hi` differ in length or are empty, a bound is not finite,
/// `lo_j > hi_j`, `per_dim = 0`, or the grid would exceed 2²⁴ points.
pub fn grid_points(lo: &[f64], hi: &[f64], per_dim: usize) -> Vec<f64> {
    let d = lo.len();
    if d == 0
        || hi.len() != d
        || per_dim == 0
        || lo
            .iter()
            .zip(hi)
            .any(|(a, b)| !a.is_finite() || !b.is_finite() || a > b)
    {
        return Vec::new();
    }
    let Some(total) = (per_dim as u64)
        .checked_pow(d as u32)
        .filter(|&t| t <= 1 << 24)
    else {
        return Vec::new();
    };
    let axes: Vec<Vec<f64>> = (0..d).map(|j| linspace(lo[j], hi[j], per_dim)).collect();
    let mut out = Vec::with_capacity(total as usize * d);
    for k in 0..total as usize {
        let mut rest = k;
        let mut row = vec![0.0; d];
        for j in (0..d).rev() {
            row[j] = axes[j][rest % per_dim];
            rest /= per_dim;
        }
        out.extend_from_slice(&row);
    }
    out
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Fixed points `f(x*) = 0` of a vector field inside the box `[lo, hi]` (d = `lo.len()`).
///
/// Method: Newton's method from every seed of a regular grid ([`grid_points`] with
/// `options.seeds_per_dim`), with a central-difference Jacobian (steps
/// `ε^(1/3)·max(|x_j|, 1e-6·s_j)`, s_j the box's half-width, so that it stays accurate close to a
/// degenerate root); each step `Δ = −J⁻¹f` (LU) is halved up to 30 times until ‖f‖ decreases
/// (backtracking). A seed is abandoned when J is singular and ‖f‖ ≠ 0, no halving decreases ‖f‖,
/// or an iterate leaves the box enlarged by L on each side. A converged point (step
/// `< step_tol·L`, no further decrease, or `max_iter` reached) is kept when
/// `‖f‖ ≤ residual_tol · F` and it lies in the box (within `step_tol·L`). Points within
/// `dedup_tol·L` of each other are merged (the smaller residual is kept). Each is classified from
/// the eigenvalues of its numeric Jacobian (steps `ε^(1/3)·max(|x_j|, s_j)`; [`eigenvalues`],
/// [`classify`]). At a root of multiplicity m > 1 (singular Jacobian, e.g. x³) Newton converges
/// only linearly, by a factor (m − 1)/m per step, so such points are located less precisely (x³
/// from the default seeds over [−2, 2]: to ~1e-12). The prototype instead located the sign
/// changes of a 1-D field on a 3601-point grid (`dwell_tests` in `exp_learn.py`): resolution 1e-3,
/// 1-D only, no stability.
///
/// Returned sorted lexicographically by coordinates. Empty for a malformed box (see
/// [`grid_points`]). Fixed points outside the box or between seeds far from any basin of Newton
/// attraction may be missed; add seeds. A field that vanishes on a whole region gives the seeds in
/// it (all non-hyperbolic).
pub fn fixed_points(
    field: impl Fn(&[f64], &mut [f64]),
    lo: &[f64],
    hi: &[f64],
    options: &FixedPointOptions,
) -> Vec<FixedPoint> {
    let d = lo.len();
    let seeds = grid_points(lo, hi, options.seeds_per_dim);
    if seeds.is_empty() {
        return Vec::new();
    }
    let widths: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| b - a).collect();
    let l = norm(&widths);
    let l = if l > 0.0 { l } else { 1.0 };
    let c = f64::EPSILON.cbrt();
    // Finite-difference steps c·max(|x_j|, floor · s_j), s_j the half-width (1 for a flat side):
    // floor 1e-6 inside Newton, so that J stays accurate at a distance ≪ s from a degenerate root
    // (x³: J ≈ −(3x² + h²)); floor 1 for the classifying Jacobian, the most accurate for
    // non-degenerate points.
    let steps_at = |x: &[f64], floor: f64| -> Vec<f64> {
        x.iter()
            .zip(&widths)
            .map(|(v, w)| c * v.abs().max(floor * if *w > 0.0 { w / 2.0 } else { 1.0 }))
            .collect()
    };
    let mut f = vec![0.0; d];
    let mut fscale = 0.0;
    for s in seeds.chunks_exact(d) {
        field(s, &mut f);
        fscale += f.iter().map(|v| v * v).sum::<f64>();
    }
    let fscale = (fscale / (seeds.len() / d) as f64).sqrt();
    let outside = |x: &[f64], margin: f64| {
        x.iter()
            .zip(lo.iter().zip(hi))
            .any(|(v, (a, b))| !v.is_finite() || *v < a - margin || *v > b + margin)
    };

    let mut found: Vec<(Vec<f64>, f64)> = Vec::new();
    'seeds: for s in seeds.chunks_exact(d) {
        let mut x = s.to_vec();
        field(&x, &mut f);
        let mut fn0 = norm(&f);
        for _ in 0..options.max_iter {
            if fn0 == 0.0 {
                break;
            }
            let jac = jacobian_steps(&field, &x, &steps_at(&x, 1e-6));
            let jm = nalgebra::DMatrix::from_row_slice(d, d, &jac);
            let rhs = nalgebra::DVector::from_iterator(d, f.iter().map(|v| -v));
            let Some(delta) = jm.lu().solve(&rhs) else {
                continue 'seeds;
            };
            if delta.iter().any(|v| !v.is_finite()) {
                continue 'seeds;
            }
            let mut alpha = 1.0;
            let mut accepted = false;
            let mut trial = vec![0.0; d];
            let mut ft = vec![0.0; d];
            for _ in 0..30 {
                for j in 0..d {
                    trial[j] = x[j] + alpha * delta[j];
                }
                field(&trial, &mut ft);
                let fnt = norm(&ft);
                if fnt.is_finite() && fnt < fn0 {
                    accepted = true;
                    break;
                }
                alpha /= 2.0;
            }
            if !accepted {
                break; // no decrease: either converged to rounding level or stuck
            }
            let step = alpha * delta.norm();
            x.copy_from_slice(&trial);
            f.copy_from_slice(&ft);
            fn0 = norm(&f);
            if outside(&x, l) {
                continue 'seeds;
            }
            if step < options.step_tol * l {
                break;
            }
        }
        if fn0 <= options.residual_tol * fscale && !outside(&x, options.step_tol * l) {
            found.push((x, fn0));
        }
    }

    let mut kept: Vec<(Vec<f64>, f64)> = Vec::new();
    for (x, r) in found {
        let close = kept.iter_mut().find(|(y, _)| {
            let dist = x
                .iter()
                .zip(y.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
            dist.sqrt() <= options.dedup_tol * l
        });
        match close {
            Some(k) if r < k.1 => *k = (x, r),
            Some(_) => {}
            None => kept.push((x, r)),
        }
    }
    kept.sort_by(|(a, _), (b, _)| {
        a.iter()
            .zip(b)
            .map(|(u, v)| u.total_cmp(v))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    kept.into_iter()
        .map(|(x, residual)| {
            let jac = jacobian_steps(&field, &x, &steps_at(&x, 1.0));
            let ev = eigenvalues(&jac, d).unwrap_or_default();
            let spectral = ev.iter().map(|e| e.re.hypot(e.im)).fold(0.0, f64::max);
            let stability = classify(&ev, options.zero_tol * spectral.max(fscale / l));
            FixedPoint {
                x,
                residual,
                eigenvalues: ev,
                stability,
            }
        })
        .collect()
}

/// Outcome of [`basin_agreement`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasinAgreement {
    /// Starts whose test outcome equals the reference outcome.
    pub agree: usize,
    /// Starts with a reference outcome (the denominator).
    pub total: usize,
    /// Starts skipped because the reference gave no outcome (e.g. on a separatrix).
    pub undecided_reference: usize,
}

impl BasinAgreement {
    /// `agree / total`, the fraction of correct basins (the prototype's `basin_correct`); NaN
    /// when `total = 0`.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            f64::NAN
        } else {
            self.agree as f64 / self.total as f64
        }
    }
}

/// The fraction of initial states (rows of `starts`, `samples × d`) from which the tested system
/// ends in the same attractor as the reference system.
///
/// `test` and `reference` map an initial state to the label of the attractor the run from it ends
/// in (`None`: no decision, e.g. not settled). The simulations live in the closures; for labels use
/// e.g. [`orthant`] of the final state (the prototype: the signs of the final state's coordinates,
/// `dwell_tests`) or [`nearest_attractor`]. A start counts when the reference decides; it agrees when
/// the test gives the same label (a test `None` disagrees). Build the starts with
/// [`grid_points`] (the prototype: 18 points of `[−1.8, 1.8]` with |x| > 0.05 in 1-D, the
/// 4 × 4 grid of {−1.5, −0.6, 0.6, 1.5}² in 2-D). Malformed `starts` give all zeros.
pub fn basin_agreement<L: PartialEq>(
    starts: &[f64],
    d: usize,
    mut test: impl FnMut(&[f64]) -> Option<L>,
    mut reference: impl FnMut(&[f64]) -> Option<L>,
) -> BasinAgreement {
    let mut out = BasinAgreement {
        agree: 0,
        total: 0,
        undecided_reference: 0,
    };
    if !is_rows(starts, d) {
        return out;
    }
    for x0 in starts.chunks_exact(d) {
        match reference(x0) {
            None => out.undecided_reference += 1,
            Some(r) => {
                out.total += 1;
                if test(x0).is_some_and(|t| t == r) {
                    out.agree += 1;
                }
            }
        }
    }
    out
}

/// The orthant of a state: per coordinate −1, 0 or +1 (the sign; 0 for 0 and NaN) — the
/// prototype's basin label for double wells centred on the origin.
pub fn orthant(state: &[f64]) -> Vec<i8> {
    state
        .iter()
        .map(|&v| {
            if v > 0.0 {
                1
            } else if v < 0.0 {
                -1
            } else {
                0
            }
        })
        .collect()
}

/// Index of the attractor (rows of `attractors`, `k × d`) nearest to `state` in Euclidean distance,
/// if that distance is ≤ `radius` (same units); `None` otherwise or for malformed input.
pub fn nearest_attractor(
    state: &[f64],
    attractors: &[f64],
    d: usize,
    radius: f64,
) -> Option<usize> {
    if state.len() != d || !is_rows(attractors, d) {
        return None;
    }
    attractors
        .chunks_exact(d)
        .map(|a| norm(&a.iter().zip(state).map(|(p, q)| p - q).collect::<Vec<_>>()))
        .enumerate()
        .filter(|(_, dist)| *dist <= radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}
