//! Presynaptic basis functions `Ψ(x̂)` of the readout, on which the slow weights are learned.
//!
//! The learned slow current of neuron i is `D_iᵀ U Ψ(x̂)`: rank d like every other current of
//! the network. Between events `x̂(t) = x̂(t₀) e^{−λ_d (t − t₀)}`, so the current is a smooth
//! function of time that [`LearnedCurrent`] fits by a polynomial to near machine precision over
//! a short window, which the exact engine then treats like any other polynomial drive. For
//! monomials (and the linear basis) that polynomial is the current's exact Taylor series, since
//! `ψ_b(x̂₀ z) = ψ_b(x̂₀) z^{m_b}` with `z = e^{−λ_d τ}`, with a proven remainder bound.
//!
//! # Offsets: slow weights that are not of the low-rank form
//!
//! The synaptic matrix of the learned current is `W = Dᵀ U` (N × N_b). The local rule changes it
//! by `ΔW = Dᵀ ΔU` (`ΔU = η ∫ e Ψᵀ dt`), so a `W` that starts as `Dᵀ U₀ + P` — `P` an N × N_b
//! offset: weights given from outside, or a perturbation of individual synapses — stays
//! `Dᵀ U(t) + P` with `P` constant. [`LearnedCurrent`] therefore keeps `U` low-rank (learning
//! unchanged) plus an optional fixed offset `P` ([`LearnedCurrent::set_offsets`]): neuron i
//! receives `D_iᵀ U Ψ + P_i Ψ`. Without `P` nothing of it is computed.

use crate::closed_form::expo::MAX_DEGREE;
use crate::error::BuildError;
use rand::Rng;

mod learned;
pub(crate) use learned::MAX_WEIGHT;
pub use learned::*;

/// A basis `Ψ: R^d → R^{N_b}`.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub enum Basis {
    /// `Ψ(x̂) = x̂` (learns a linear vector field; N_b = d).
    Linear {
        /// d.
        dims: usize,
    },
    /// Gaussian radial basis functions on a regular grid: `exp(−‖x̂ − c_b‖² / (2σ²))`.
    RbfGrid {
        /// d.
        dims: usize,
        /// Centres, `centres[b * d + j]`.
        centres: Vec<f64>,
        /// Width σ.
        width: f64,
    },
    /// All monomials `Π_j x̂_j^{e_j}` of total degree ≤ p, the constant included.
    Monomials {
        /// d.
        dims: usize,
        /// Exponents, `exponents[b * d + j]`.
        exponents: Vec<u32>,
    },
    /// `tanh(M r + θ)` on the N filtered spike trains `r` (not on the readout): the form of the
    /// original paper and of Rockpool, the prototype's mode 2. The prototype found it fails to
    /// learn Van der Pol; `examples/learn_on_spike_trains.rs` reproduces that.
    TanhOnTrains {
        /// d (the readout's dimension: U is d × N_b).
        dims: usize,
        /// N, the number of spike trains it reads.
        neurons: usize,
        /// `M`, `m[b * N + i]`.
        m: Vec<f64>,
        /// `θ`.
        theta: Vec<f64>,
    },
    /// `tanh(m_b · x̂ + θ_b)` with random directions and offsets.
    TanhRandom {
        /// d.
        dims: usize,
        /// Projections, `m[b * d + j]`.
        m: Vec<f64>,
        /// Offsets.
        theta: Vec<f64>,
    },
}

impl Basis {
    /// Gaussian RBFs on a `per_dim^d` grid over `[lo, hi]` in every dimension, width = grid
    /// spacing × `width_factor` (the prototype's choice is 1).
    pub fn rbf_grid(
        dims: usize,
        lo: f64,
        hi: f64,
        per_dim: usize,
        width_factor: f64,
    ) -> Result<Basis, BuildError> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(BuildError::new(
                "basis.range",
                "finite [lo, hi] with lo < hi",
                format!("[{lo}, {hi}]"),
            ));
        }
        if per_dim < 2 || (per_dim as f64).powi(dims as i32) > 1e6 {
            return Err(BuildError::new(
                "basis.per_dim",
                "at least 2 centres per dimension and at most 10^6 in all",
                format!("{per_dim} per dimension in {dims} dimensions"),
            ));
        }
        if !(width_factor.is_finite() && width_factor > 0.0) {
            return Err(BuildError::new(
                "basis.width",
                "a finite positive factor",
                format!("{width_factor}"),
            ));
        }
        let spacing = (hi - lo) / (per_dim - 1) as f64;
        let count = per_dim.pow(dims as u32);
        let mut centres = Vec::with_capacity(count * dims);
        for b in 0..count {
            let mut rest = b;
            for _ in 0..dims {
                centres.push(lo + (rest % per_dim) as f64 * spacing);
                rest /= per_dim;
            }
        }
        Ok(Basis::RbfGrid {
            dims,
            centres,
            width: spacing * width_factor,
        })
    }

    /// All monomials of total degree ≤ `degree` (constant included), in graded order.
    pub fn monomials(dims: usize, degree: u32) -> Result<Basis, BuildError> {
        if degree > 8 || dims == 0 {
            return Err(BuildError::new(
                "basis.degree",
                "a degree from 0 to 8",
                format!("{degree}"),
            ));
        }
        let count = monomial_count(dims, degree);
        if count > MAX_BASIS_FUNCTIONS as u128 {
            return Err(BuildError::new(
                "basis.degree",
                format!(
                    "at most {MAX_BASIS_FUNCTIONS} monomials (C(d + degree, degree)); a lower \
                     degree"
                ),
                format!("degree {degree} in {dims} dimensions: {count} monomials"),
            ));
        }
        // Graded order; within one total degree, ascending in e[d-1], then e[d-2], …, e[0]
        // taking what is left — every vector visited once, O(output).
        let mut exponents = Vec::with_capacity(count as usize * dims);
        let mut e = vec![0u32; dims];
        for total in 0..=degree {
            fill_monomials(&mut e, dims - 1, total, &mut exponents);
        }
        Ok(Basis::Monomials { dims, exponents })
    }

    /// `count` features `tanh(g_b u_b · x̂ + θ_b)`: unit directions `u_b`, gains uniform in
    /// `gains`, offsets uniform in `offsets` (the prototype's mode 1).
    pub fn tanh_random<R: Rng>(
        dims: usize,
        count: usize,
        gains: (f64, f64),
        offsets: (f64, f64),
        rng: &mut R,
    ) -> Result<Basis, BuildError> {
        let ordered = |r: (f64, f64)| r.0.is_finite() && r.1.is_finite() && r.0 <= r.1;
        if count == 0 || !ordered(gains) || !ordered(offsets) {
            return Err(BuildError::new(
                "basis",
                "count ≥ 1 and ordered gain and offset ranges",
                format!("{count}, {gains:?}, {offsets:?}"),
            ));
        }
        if count.saturating_mul(dims) > MAX_PROJECTION_ENTRIES {
            return Err(BuildError::new(
                "basis.count",
                format!("at most {MAX_PROJECTION_ENTRIES} projection entries (count × d)"),
                format!("{count} features × {dims} dimensions"),
            ));
        }
        let mut m = Vec::with_capacity(count * dims);
        let mut theta = Vec::with_capacity(count);
        for _ in 0..count {
            let dir: Vec<f64> = (0..dims)
                .map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal))
                .collect();
            let norm = dir
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE);
            let g = if gains.0 == gains.1 {
                gains.0
            } else {
                rng.gen_range(gains.0..gains.1)
            };
            m.extend(dir.iter().map(|x| g * x / norm));
            theta.push(if offsets.0 == offsets.1 {
                offsets.0
            } else {
                rng.gen_range(offsets.0..offsets.1)
            });
        }
        Ok(Basis::TanhRandom { dims, m, theta })
    }

    /// `count` features `tanh(M r + θ)` on the spike trains of `neurons` neurons, with
    /// `M ~ N(0, gain²/N)` and `θ` uniform in `offsets` (the prototype's mode 2).
    pub fn tanh_on_trains<R: Rng>(
        dims: usize,
        neurons: usize,
        count: usize,
        gain: f64,
        offsets: (f64, f64),
        rng: &mut R,
    ) -> Result<Basis, BuildError> {
        let ordered = offsets.0.is_finite() && offsets.1.is_finite() && offsets.0 <= offsets.1;
        if count == 0 || neurons == 0 || !gain.is_finite() || !ordered {
            return Err(BuildError::new(
                "basis",
                "count ≥ 1, N ≥ 1, a finite gain and an ordered finite offset range",
                format!("count {count}, N {neurons}, gain {gain}, offsets {offsets:?}"),
            ));
        }
        if count.saturating_mul(neurons) > MAX_PROJECTION_ENTRIES {
            return Err(BuildError::new(
                "basis.count",
                format!(
                    "at most {MAX_PROJECTION_ENTRIES} projection entries (count × N) for \
                     on = \"r\"; fewer features"
                ),
                format!("{count} features × {neurons} neurons"),
            ));
        }
        let scale = gain / (neurons as f64).sqrt();
        let m = (0..count * neurons)
            .map(|_| scale * rng.sample::<f64, _>(rand_distr::StandardNormal))
            .collect();
        let theta = (0..count)
            .map(|_| {
                if offsets.0 < offsets.1 {
                    rng.gen_range(offsets.0..offsets.1)
                } else {
                    offsets.0
                }
            })
            .collect();
        Ok(Basis::TanhOnTrains {
            dims,
            neurons,
            m,
            theta,
        })
    }

    /// d, the dimension of the readout (and of the learned current `U Ψ`).
    pub fn dims(&self) -> usize {
        match self {
            Basis::Linear { dims }
            | Basis::RbfGrid { dims, .. }
            | Basis::Monomials { dims, .. }
            | Basis::TanhOnTrains { dims, .. }
            | Basis::TanhRandom { dims, .. } => *dims,
        }
    }

    /// Checks that the basis fits a network of dimension `dims` and `neurons` neurons.
    pub(crate) fn check_fits(&self, dims: usize, neurons: usize) -> Result<(), BuildError> {
        if self.dims() != dims {
            return Err(BuildError::new(
                "basis",
                format!("a basis of {dims} dimensions (network.dims)"),
                format!("{}", self.dims()),
            ));
        }
        if self.on_trains() && self.input_len() != neurons {
            return Err(BuildError::new(
                "basis",
                format!("a basis reading {neurons} spike trains (network.neurons)"),
                format!("{}", self.input_len()),
            ));
        }
        Ok(())
    }

    /// For monomials (and the linear basis), each function's total degree `m_b`, so that
    /// `ψ_b(x z) = ψ_b(x) z^{m_b}`: between events, where `x̂` only decays, `Ψ(x̂(t))` follows
    /// from `Ψ(x̂(t₀))` exactly. `None` for the other bases.
    pub(crate) fn readout_powers(&self) -> Option<Vec<usize>> {
        match self {
            Basis::Linear { dims } => Some(vec![1; *dims]),
            Basis::Monomials { dims, exponents } => Some(
                exponents
                    .chunks_exact(*dims)
                    .map(|e| e.iter().sum::<u32>() as usize)
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Whether Ψ reads the filtered spike trains `r` rather than the readout `x̂`.
    pub fn on_trains(&self) -> bool {
        matches!(self, Basis::TanhOnTrains { .. })
    }

    /// Length of Ψ's argument: N for [`Basis::TanhOnTrains`], d otherwise.
    pub(crate) fn input_len(&self) -> usize {
        match self {
            Basis::TanhOnTrains { neurons, .. } => *neurons,
            other => other.dims(),
        }
    }

    /// N_b, the number of basis functions.
    pub fn len(&self) -> usize {
        match self {
            Basis::Linear { dims } => *dims,
            Basis::RbfGrid { dims, centres, .. } => centres.len() / dims,
            Basis::Monomials { dims, exponents } => exponents.len() / dims,
            Basis::TanhRandom { theta, .. } | Basis::TanhOnTrains { theta, .. } => theta.len(),
        }
    }

    /// Whether the basis is empty (never, for a validly built basis).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `Ψ(x)` into `out` (length N_b); `x` is `x̂` (length d) or, for [`Basis::TanhOnTrains`],
    /// `r` (length N).
    pub fn eval(&self, x: &[f64], out: &mut [f64]) {
        match self {
            Basis::Linear { .. } => out.copy_from_slice(x),
            Basis::RbfGrid {
                dims,
                centres,
                width,
            } => {
                let k = -0.5 / (width * width);
                for (o, c) in out.iter_mut().zip(centres.chunks_exact(*dims)) {
                    let r2: f64 = x.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum();
                    *o = (k * r2).exp();
                }
            }
            Basis::Monomials { dims, exponents } => {
                let d = *dims;
                let top = exponents.iter().copied().max().unwrap_or(0) as usize;
                if d <= POW_DIMS && top < POW_LEN {
                    // Each power once (`powers[j * POW_LEN + p] = x_j^p`, the same bits as
                    // `powi`), then the same products in the same order as below.
                    let mut powers = [0.0; POW_DIMS * POW_LEN];
                    for (j, &a) in x.iter().enumerate().take(d) {
                        for (p, w) in powers[j * POW_LEN..j * POW_LEN + top + 1]
                            .iter_mut()
                            .enumerate()
                        {
                            *w = powi(a, p as u32);
                        }
                    }
                    if d == 2 {
                        let (p0, p1) = powers.split_at(POW_LEN);
                        for (o, e) in out.iter_mut().zip(exponents.chunks_exact(2)) {
                            *o = [p0[e[0] as usize], p1[e[1] as usize]].into_iter().product();
                        }
                        return;
                    }
                    for (o, e) in out.iter_mut().zip(exponents.chunks_exact(d)) {
                        *o = e
                            .iter()
                            .enumerate()
                            .map(|(j, &p)| powers[j * POW_LEN + p as usize])
                            .product();
                    }
                } else {
                    for (o, e) in out.iter_mut().zip(exponents.chunks_exact(d)) {
                        *o = x.iter().zip(e).map(|(a, &p)| a.powi(p as i32)).product();
                    }
                }
            }
            Basis::TanhOnTrains {
                neurons, m, theta, ..
            } => {
                for ((o, mb), th) in out.iter_mut().zip(m.chunks_exact(*neurons)).zip(theta) {
                    let s: f64 = x.iter().zip(mb).map(|(a, b)| a * b).sum();
                    *o = (s + th).tanh();
                }
            }
            Basis::TanhRandom { dims, m, theta } => {
                for ((o, mb), th) in out.iter_mut().zip(m.chunks_exact(*dims)).zip(theta) {
                    let s: f64 = x.iter().zip(mb).map(|(a, b)| a * b).sum();
                    *o = (s + th).tanh();
                }
            }
        }
    }
}

/// Most dimensions whose powers [`Basis::eval`] tabulates for monomials.
const POW_DIMS: usize = 8;
/// Most functions a basis may have (the learned weights are d × this).
pub(crate) const MAX_BASIS_FUNCTIONS: usize = 100_000;

/// Most entries of a random projection (`count × N` of `tanh_random` on spike trains, or
/// `count × d`), 400 MB of f64.
pub(crate) const MAX_PROJECTION_ENTRIES: usize = 50_000_000;

/// C(dims + degree, degree), the number of monomials of total degree ≤ `degree` (saturating).
fn monomial_count(dims: usize, degree: u32) -> u128 {
    let mut c: u128 = 1;
    for k in 1..=u128::from(degree) {
        // C(d + k, k) = C(d + k − 1, k − 1) · (d + k) / k, exact at every step.
        c = c.saturating_mul(dims as u128 + k) / k;
    }
    c
}

/// Appends every exponent vector of `e[..=j]` with total `left` (the higher entries already
/// set), `e[j]` ascending, `e[0]` taking the rest.
fn fill_monomials(e: &mut [u32], j: usize, left: u32, out: &mut Vec<u32>) {
    if j == 0 {
        e[0] = left;
        out.extend_from_slice(e);
        return;
    }
    for v in 0..=left {
        e[j] = v;
        fill_monomials(e, j - 1, left - v, out);
    }
    e[j] = 0;
}

/// Powers tabulated per dimension (exponents 0 to 8, the highest degree allowed).
const POW_LEN: usize = 9;

/// `a^p` by binary powering in the order of `f64::powi` (compiler-builtins `__powidf2`: the
/// same products, so the same bits), inlined.
#[inline]
fn powi(mut a: f64, mut p: u32) -> f64 {
    let mut r = 1.0;
    loop {
        if p & 1 != 0 {
            r *= a;
        }
        p >>= 1;
        if p == 0 {
            return r;
        }
        a *= a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabulated_powers_equal_powi_bit_for_bit() {
        let mut x = 0.123_456_789_f64;
        for _ in 0..2000 {
            x = (x * 3.7 + 0.31).fract() * 4.0 - 2.0;
            for p in 0..=16u32 {
                assert_eq!(powi(x, p).to_bits(), x.powi(p as i32).to_bits(), "{x}^{p}");
            }
        }
        let b = Basis::monomials(3, 8).unwrap();
        let Basis::Monomials { dims, exponents } = &b else {
            unreachable!()
        };
        let mut out = vec![0.0; b.len()];
        let pt = [0.731_f64, -1.37, 0.0271];
        b.eval(&pt, &mut out);
        for (o, e) in out.iter().zip(exponents.chunks_exact(*dims)) {
            let want: f64 = pt.iter().zip(e).map(|(a, &p)| a.powi(p as i32)).product();
            assert_eq!(o.to_bits(), want.to_bits());
        }
    }

    #[test]
    fn monomials_are_graded_and_complete() {
        let b = Basis::monomials(2, 3).unwrap();
        assert_eq!(b.len(), 10);
        let mut out = vec![0.0; 10];
        b.eval(&[2.0, 3.0], &mut out);
        // 1, x, y, x², xy, y², x³, x²y, xy², y³ in some graded order: check the multiset.
        let mut got = out.clone();
        got.sort_by(f64::total_cmp);
        let mut want = vec![1.0, 2.0, 3.0, 4.0, 6.0, 9.0, 8.0, 12.0, 18.0, 27.0];
        want.sort_by(f64::total_cmp);
        assert_eq!(got, want);
    }

    #[test]
    fn monomials_keep_their_order_and_refuse_huge_bases() {
        // The order of the odometer enumeration the model files were recorded with.
        #[allow(clippy::needless_range_loop)]
        fn odometer(dims: usize, degree: u32) -> Vec<u32> {
            let mut out = Vec::new();
            for total in 0..=degree {
                let mut e = vec![0u32; dims];
                'all: loop {
                    if e.iter().sum::<u32>() == total {
                        out.extend_from_slice(&e);
                    }
                    for j in 0..=dims {
                        if j == dims {
                            break 'all;
                        }
                        e[j] += 1;
                        if e[j] <= total {
                            break;
                        }
                        e[j] = 0;
                    }
                }
            }
            out
        }
        for (d, p) in [(1, 0), (1, 8), (2, 3), (3, 3), (4, 5), (5, 2)] {
            let Basis::Monomials { exponents, .. } = Basis::monomials(d, p).unwrap() else {
                unreachable!()
            };
            assert_eq!(exponents, odometer(d, p), "d = {d}, degree = {p}");
            assert_eq!(exponents.len() as u128, monomial_count(d, p) * d as u128);
        }
        // C(25, 8) = 1,081,575 monomials: refused at once, naming the count.
        let e = Basis::monomials(17, 8).unwrap_err();
        assert!(e.to_string().contains("1081575 monomials"), "{e}");
        assert_eq!(monomial_count(1000, 8), 25_708_099_169_553_626_826);
    }

    #[test]
    fn offset_fit_matches_p_psi_over_its_window() {
        let basis = Basis::rbf_grid(2, -1.15, 1.15, 6, 1.0).unwrap();
        let nb = basis.len();
        let u: Vec<f64> = (0..2 * nb).map(|i| ((i * 31) % 7) as f64 - 3.0).collect();
        let rows = 3;
        let p: Vec<f64> = (0..rows * nb)
            .map(|i| ((i * 7919) % 11) as f64 * 0.1 - 0.5)
            .collect();
        let mut lc = LearnedCurrent::new(basis, u).unwrap();
        lc.set_offsets(Some(p)).unwrap();
        let xhat0 = [0.7, -0.4];
        let lambda_d = 10.0;
        let mut poly = vec![0.0; (MAX_DEGREE + 1) * 2];
        let (h, deg) = lc.fit_into(&xhat0, lambda_d, 0.05, 0, &mut poly);
        assert!(h > 1e-4, "window {h}");
        let stride = MAX_DEGREE + 1;
        let mut drive = vec![0.0; rows * stride];
        lc.add_offset_drive(&mut drive, stride);
        let mut truth = [0.0; 2];
        for j in 0..=100 {
            let tau = h * j as f64 / 100.0;
            let z = (-lambda_d * tau).exp();
            lc.current(&[xhat0[0] * z, xhat0[1] * z], &mut truth);
            for i in 0..rows {
                let want = lc.offset_current(i);
                let b = &drive[i * stride..(i + 1) * stride];
                let approx = (0..=deg).rev().fold(0.0, |acc, k| acc * tau + b[k]);
                assert!(
                    (approx - want).abs() <= 1e-10 * (1.0 + want.abs()),
                    "{tau}: row {i}: {approx} vs {want}"
                );
            }
        }
        // Without offsets nothing is added.
        lc.set_offsets(None).unwrap();
        let mut drive = vec![0.0; rows * stride];
        lc.fit_into(&xhat0, lambda_d, 0.05, 0, &mut poly);
        lc.add_offset_drive(&mut drive, stride);
        assert!(drive.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn learned_current_fit_matches_the_current_over_its_window() {
        for basis in [
            Basis::monomials(2, 3).unwrap(),
            Basis::rbf_grid(2, -1.15, 1.15, 14, 1.0).unwrap(),
            Basis::Linear { dims: 2 },
        ] {
            let nb = basis.len();
            let u: Vec<f64> = (0..2 * nb)
                .map(|i| ((i * 7919) % 13) as f64 - 6.0)
                .collect();
            let mut lc = LearnedCurrent::new(basis, u).unwrap();
            let xhat0 = [0.7, -0.4];
            let lambda_d = 10.0;
            let mut poly = vec![0.0; (MAX_DEGREE + 1) * 2];
            let (h, deg) = lc.fit_into(&xhat0, lambda_d, 0.05, 0, &mut poly);
            assert!(h > 1e-4, "window {h}");
            for i in 0..=100 {
                let tau = h * i as f64 / 100.0;
                let z = (-lambda_d * tau).exp();
                let mut truth = [0.0; 2];
                lc.current(&[xhat0[0] * z, xhat0[1] * z], &mut truth);
                for c in 0..2 {
                    let approx = (0..=deg)
                        .rev()
                        .fold(0.0, |acc, k| acc * tau + poly[k * 2 + c]);
                    assert!(
                        (approx - truth[c]).abs() <= 1e-10 * (1.0 + truth[c].abs()),
                        "{tau}: {approx} vs {}",
                        truth[c]
                    );
                }
            }
        }
    }

    #[test]
    fn monomial_series_is_held_to_the_tolerance_over_its_window() {
        // Monomials on the readout are fitted by their exact Taylor series: the window is the
        // one the remainder bound allows at the lowest degree that reaches the window asked
        // for, and current and offsets are within FIT_TOLERANCE (plus rounding) over it.
        let basis = Basis::monomials(2, 3).unwrap();
        let nb = basis.len();
        let u: Vec<f64> = (0..2 * nb).map(|i| ((i * 37) % 9) as f64 - 4.0).collect();
        let p: Vec<f64> = (0..2 * nb).map(|i| ((i * 13) % 5) as f64 - 2.0).collect();
        let mut lc = LearnedCurrent::new(basis, u).unwrap();
        lc.set_offsets(Some(p)).unwrap();
        let (xhat0, lambda_d) = ([0.9, -0.6], 10.0);
        let stride = MAX_DEGREE + 1;
        // The full degree (its longest window, over a millisecond here), then the lowest degree
        // that reaches half a millisecond.
        let mut windows = Vec::new();
        for max_window in [0.05, 5e-4] {
            let mut poly = vec![0.0; stride * 2];
            let (h, deg) = lc.fit_into(&xhat0, lambda_d, max_window, 0, &mut poly);
            windows.push((h, deg));
            let mut drive = vec![0.0; 2 * stride];
            lc.add_offset_drive(&mut drive, stride);
            let mut truth = [0.0; 2];
            lc.current(&xhat0, &mut truth);
            let scale = truth[0].abs().max(truth[1].abs());
            for j in 0..=200 {
                let tau = h * j as f64 / 200.0;
                let z = (-lambda_d * tau).exp();
                lc.current(&[xhat0[0] * z, xhat0[1] * z], &mut truth);
                for c in 0..2 {
                    let approx = (0..=deg)
                        .rev()
                        .fold(0.0, |acc, k| acc * tau + poly[k * 2 + c]);
                    let err = (approx - truth[c]).abs();
                    assert!(
                        err <= 1.1e-12 * scale + 1e-15,
                        "{tau}: {approx} vs {}",
                        truth[c]
                    );
                }
                for i in 0..2 {
                    let b = &drive[i * stride..(i + 1) * stride];
                    let approx = (0..=deg).rev().fold(0.0, |acc, k| acc * tau + b[k]);
                    let want = lc.offset_current(i);
                    assert!(
                        (approx - want).abs() <= 1e-11 * (1.0 + want.abs()),
                        "offset {i}"
                    );
                }
            }
        }
        let [(h_full, deg_full), (h, deg)] = windows[..] else {
            unreachable!()
        };
        assert!(
            h_full > 1e-3 && deg_full == MAX_DEGREE,
            "{h_full} {deg_full}"
        );
        assert!(h >= 5e-4 && h < h_full && deg < MAX_DEGREE, "{h} {deg}");
    }
}
