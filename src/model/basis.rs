//! Presynaptic basis functions `Ψ(x̂)` of the readout, on which the slow weights are learned.
//!
//! The learned slow current of neuron i is `D_iᵀ U Ψ(x̂)`: rank d like every other current of
//! the network. Between events `x̂(t) = x̂(t₀) e^{−λ_d (t − t₀)}`, so the current is a smooth
//! function of time that [`LearnedCurrent`] fits by a polynomial to near machine precision over
//! a short window, which the exact engine then treats like any other polynomial drive.
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

/// A basis `Ψ: R^d → R^{N_b}`.
#[derive(Clone, Debug, PartialEq)]
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
        let mut exponents = Vec::new();
        for total in 0..=degree {
            // Every exponent vector with this total, in lexicographic order.
            let mut e = vec![0u32; dims];
            loop {
                if e.iter().sum::<u32>() == total {
                    exponents.extend_from_slice(&e);
                }
                let mut j = 0;
                loop {
                    if j == dims {
                        break;
                    }
                    e[j] += 1;
                    if e[j] <= total {
                        break;
                    }
                    e[j] = 0;
                    j += 1;
                }
                if j == dims {
                    break;
                }
            }
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
    pub fn check_fits(&self, dims: usize, neurons: usize) -> Result<(), BuildError> {
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

    /// Whether Ψ reads the filtered spike trains `r` rather than the readout `x̂`.
    pub fn on_trains(&self) -> bool {
        matches!(self, Basis::TanhOnTrains { .. })
    }

    /// Length of Ψ's argument: N for [`Basis::TanhOnTrains`], d otherwise.
    pub fn input_len(&self) -> usize {
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
                for (o, e) in out.iter_mut().zip(exponents.chunks_exact(*dims)) {
                    *o = x.iter().zip(e).map(|(a, &p)| a.powi(p as i32)).product();
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

/// Degree of the polynomial fits of the learned current.
const FIT_DEGREE: usize = MAX_DEGREE;

/// The learned slow current `U Ψ(x̂(t))` (a d-vector; neuron i receives `D_iᵀ` of it), fitted
/// over a window after each event by a polynomial in the local time.
#[derive(Clone, Debug)]
pub struct LearnedCurrent {
    basis: Basis,
    /// `U`, row-major d × N_b.
    u: Vec<f64>,
    /// Window length to try first, s.
    window: f64,
    /// Scratch.
    psi: Vec<f64>,
    values: Vec<f64>,
    xs: Vec<f64>,
    truth: Vec<f64>,
    coeffs: Vec<f64>,
    /// Inverse Vandermonde matrix of the Chebyshev nodes on [0, 1] (row-major).
    inverse: Vec<f64>,
    nodes: Vec<f64>,
    /// Fits made and windows halved, for the counters.
    fits: u64,
    /// The fixed offset `P` (row-major N × N_b), if any: neuron i also receives `P_i Ψ`.
    offsets: Option<Vec<f64>>,
    /// With offsets, the fit of `Ψ` itself: scratch values and coefficients at the nodes
    /// (`[j * N_b + b]`), and the polynomial in τ of the last fit, `psi_poly[k * N_b + b]`.
    psi_values: Vec<f64>,
    psi_coeffs: Vec<f64>,
    psi_poly: Vec<f64>,
}

/// Relative accuracy the fits are held to (against the current's magnitude).
pub const FIT_TOLERANCE: f64 = 1e-12;

impl LearnedCurrent {
    /// `U Ψ(x̂)` with `U` (d × N_b, row-major) given.
    pub fn new(basis: Basis, u: Vec<f64>) -> Result<LearnedCurrent, BuildError> {
        let (d, nb) = (basis.dims(), basis.len());
        if u.len() != d * nb || u.iter().any(|x| !x.is_finite()) {
            return Err(BuildError::new(
                "weights",
                format!("{d}×{nb} finite learned weights"),
                format!("{} entries", u.len()),
            ));
        }
        let p = FIT_DEGREE + 1;
        // Chebyshev nodes on [−1, 1] (monomials there are well conditioned, unlike on [0, 1]).
        let nodes: Vec<f64> = (0..p)
            .map(|j| -(std::f64::consts::PI * (j as f64 + 0.5) / p as f64).cos())
            .collect();
        // Vandermonde V[j][k] = s_j^k, inverted by Gauss–Jordan (done once).
        let mut a = vec![0.0; p * 2 * p];
        for j in 0..p {
            for k in 0..p {
                a[j * 2 * p + k] = nodes[j].powi(k as i32);
            }
            a[j * 2 * p + p + j] = 1.0;
        }
        for col in 0..p {
            let piv = (col..p)
                .max_by(|&x, &y| {
                    a[x * 2 * p + col]
                        .abs()
                        .total_cmp(&a[y * 2 * p + col].abs())
                })
                .unwrap_or(col);
            for c in 0..2 * p {
                a.swap(col * 2 * p + c, piv * 2 * p + c);
            }
            let d0 = a[col * 2 * p + col];
            for c in 0..2 * p {
                a[col * 2 * p + c] /= d0;
            }
            for r in 0..p {
                if r != col {
                    let f = a[r * 2 * p + col];
                    for c in 0..2 * p {
                        a[r * 2 * p + c] -= f * a[col * 2 * p + c];
                    }
                }
            }
        }
        let mut inverse = vec![0.0; p * p];
        for r in 0..p {
            inverse[r * p..(r + 1) * p].copy_from_slice(&a[r * 2 * p + p..r * 2 * p + 2 * p]);
        }
        Ok(LearnedCurrent {
            psi: vec![0.0; nb],
            values: vec![0.0; p * d],
            xs: vec![0.0; basis.input_len()],
            truth: vec![0.0; d],
            coeffs: vec![0.0; p * d],
            basis,
            u,
            window: 2e-3,
            inverse,
            nodes,
            fits: 0,
            offsets: None,
            psi_values: Vec::new(),
            psi_coeffs: Vec::new(),
            psi_poly: Vec::new(),
        })
    }

    /// Sets (or removes) the fixed offset `P` (row-major N × N_b, finite): neuron i then receives
    /// `D_iᵀ U Ψ + P_i Ψ` (see the [module documentation](self)). Its number of rows is N; the
    /// engines check that it matches the network.
    pub fn set_offsets(&mut self, offsets: Option<Vec<f64>>) -> Result<(), BuildError> {
        let nb = self.basis.len();
        if let Some(p) = &offsets {
            if p.is_empty() || p.len() % nb != 0 || p.iter().any(|x| !x.is_finite()) {
                return Err(BuildError::new(
                    "offsets",
                    format!("N×{nb} finite offsets (N × N_b)"),
                    format!(
                        "{} entries{}",
                        p.len(),
                        if p.iter().all(|x| x.is_finite()) {
                            ""
                        } else {
                            ", not all finite"
                        }
                    ),
                ));
            }
        }
        let p = FIT_DEGREE + 1;
        let have = offsets.is_some();
        self.psi_values = vec![0.0; if have { p * nb } else { 0 }];
        self.psi_coeffs = vec![0.0; if have { p * nb } else { 0 }];
        self.psi_poly = vec![0.0; if have { p * nb } else { 0 }];
        self.offsets = offsets;
        Ok(())
    }

    /// The fixed offset `P` (row-major N × N_b), if any.
    pub fn offsets(&self) -> Option<&[f64]> {
        self.offsets.as_deref()
    }

    /// Number of neurons the offsets are for (their rows), if any.
    pub fn offset_rows(&self) -> Option<usize> {
        self.offsets.as_ref().map(|p| p.len() / self.basis.len())
    }

    /// Checks that the learned current fits a network of dimension `dims` and `neurons`
    /// neurons: its basis ([`Basis::check_fits`]) and its offsets (N rows).
    pub fn check_fits(&self, dims: usize, neurons: usize) -> Result<(), BuildError> {
        self.basis.check_fits(dims, neurons)?;
        match self.offset_rows() {
            Some(rows) if rows != neurons => Err(BuildError::new(
                "offsets",
                format!(
                    "{neurons}×{} offsets (network.neurons × N_b)",
                    self.basis.len()
                ),
                format!("{rows} rows"),
            )),
            _ => Ok(()),
        }
    }

    /// `Ψ` at the argument of the last [`LearnedCurrent::current`] call.
    pub fn last_psi(&self) -> &[f64] {
        &self.psi
    }

    /// `P_i Ψ` at the argument of the last [`LearnedCurrent::current`] call (0 without
    /// offsets): neuron i's share of the learned current beyond `D_iᵀ U Ψ`.
    #[inline]
    pub fn offset_current(&self, i: usize) -> f64 {
        match &self.offsets {
            Some(p) => {
                let nb = self.psi.len();
                p[i * nb..(i + 1) * nb]
                    .iter()
                    .zip(&self.psi)
                    .map(|(a, b)| a * b)
                    .sum()
            }
            None => 0.0,
        }
    }

    /// With offsets, adds `Σ_b P[i,b] ψ_k,b` — the offset current of the last
    /// [`LearnedCurrent::fit_into`] as a polynomial in τ — to every neuron's coefficients
    /// `drive[i * stride + k]` (k ≤ the fit's degree); without offsets does nothing.
    pub fn add_offset_drive(&self, drive: &mut [f64], stride: usize) {
        let Some(p) = &self.offsets else {
            return;
        };
        let nb = self.basis.len();
        for (row, b) in p.chunks_exact(nb).zip(drive.chunks_exact_mut(stride)) {
            for (k, bk) in b.iter_mut().enumerate().take(FIT_DEGREE + 1) {
                let psi_k = &self.psi_poly[k * nb..(k + 1) * nb];
                *bk += row.iter().zip(psi_k).map(|(a, c)| a * c).sum::<f64>();
            }
        }
    }

    /// The basis.
    pub fn basis(&self) -> &Basis {
        &self.basis
    }

    /// The learned weights `U` (row-major d × N_b).
    pub fn weights(&self) -> &[f64] {
        &self.u
    }

    /// Replaces `U`.
    pub fn set_weights(&mut self, u: &[f64]) {
        self.u.copy_from_slice(u);
    }

    /// Number of fits made so far.
    pub fn fits(&self) -> u64 {
        self.fits
    }

    /// `U Ψ(x)` into `out`.
    pub fn current(&mut self, x: &[f64], out: &mut [f64]) {
        self.basis.eval(x, &mut self.psi);
        let nb = self.psi.len();
        for (o, row) in out.iter_mut().zip(self.u.chunks_exact(nb)) {
            *o = row.iter().zip(&self.psi).map(|(a, b)| a * b).sum();
        }
    }

    /// Fits `U Ψ(x̂0 e^{−λ_d τ})` (or `U Ψ(r0 e^{−λ_d τ})`) on `τ ∈ [0, h]` with `h ≤ max_window`, by interpolation at
    /// Chebyshev nodes, halving `h` until the fit is within [`FIT_TOLERANCE`] of the current's
    /// magnitude at check points between the nodes; adds the polynomial's coefficients (in τ,
    /// `out[k * d + j]`) to `out` and returns `(h, degree)`.
    ///
    /// With offsets ([`LearnedCurrent::set_offsets`]) `Ψ` itself (N_b outputs) is fitted over
    /// the same window from the same node values and held to the same tolerance (against `Ψ`'s
    /// magnitude), so both fits are certified together; [`LearnedCurrent::add_offset_drive`]
    /// then adds `P Ψ` to the neurons' drives.
    pub fn fit_into(
        &mut self,
        xhat0: &[f64],
        lambda_d: f64,
        max_window: f64,
        out: &mut [f64],
    ) -> (f64, usize) {
        // `xhat0` is Ψ's argument at the window start: x̂, or r for a basis on spike trains;
        // both decay by the same factor e^{−λ_d τ}.
        let d = self.basis.dims();
        let nb = self.basis.len();
        let with_psi = self.offsets.is_some();
        let p = FIT_DEGREE + 1;
        let mut h = self.window.min(max_window);
        // Scratch taken out of self so that `current` can borrow self (no allocation per fit).
        let (mut xs, mut truth, mut coeffs) = (
            std::mem::take(&mut self.xs),
            std::mem::take(&mut self.truth),
            std::mem::take(&mut self.coeffs),
        );
        loop {
            self.fits += 1;
            let mut scale: f64 = 0.0;
            let mut psi_scale: f64 = 0.0;
            for j in 0..p {
                let z = (-lambda_d * 0.5 * h * (1.0 + self.nodes[j])).exp();
                for (x, x0) in xs.iter_mut().zip(xhat0) {
                    *x = x0 * z;
                }
                self.current(&xs, &mut truth);
                self.values[j * d..(j + 1) * d].copy_from_slice(&truth);
                scale = truth.iter().fold(scale, |m, v| m.max(v.abs()));
                if with_psi {
                    self.psi_values[j * nb..(j + 1) * nb].copy_from_slice(&self.psi);
                    psi_scale = self.psi.iter().fold(psi_scale, |m, v| m.max(v.abs()));
                }
            }
            // Monomial coefficients in s = 2τ/h − 1: coeffs[k * d + c].
            for k in 0..p {
                for c in 0..d {
                    coeffs[k * d + c] = (0..p)
                        .map(|j| self.inverse[k * p + j] * self.values[j * d + c])
                        .sum();
                }
            }
            if with_psi {
                for k in 0..p {
                    let inv = &self.inverse[k * p..(k + 1) * p];
                    let out = &mut self.psi_coeffs[k * nb..(k + 1) * nb];
                    out.fill(0.0);
                    for (j, w) in inv.iter().enumerate() {
                        let vals = &self.psi_values[j * nb..(j + 1) * nb];
                        for (o, v) in out.iter_mut().zip(vals) {
                            *o += w * v;
                        }
                    }
                }
            }
            // Check at the ends and between the outer nodes and the ends.
            let mut worst: f64 = 0.0;
            let mut psi_worst: f64 = 0.0;
            for &s in &[
                -1.0,
                1.0,
                0.5 * (self.nodes[0] - 1.0),
                0.5 * (1.0 + self.nodes[p - 1]),
            ] {
                let z = (-lambda_d * 0.5 * h * (1.0 + s)).exp();
                for (x, x0) in xs.iter_mut().zip(xhat0) {
                    *x = x0 * z;
                }
                self.current(&xs, &mut truth);
                for (c, t) in truth.iter().enumerate() {
                    let approx = (0..p).rev().fold(0.0, |acc, k| acc * s + coeffs[k * d + c]);
                    worst = worst.max((approx - t).abs());
                }
                if with_psi {
                    for (b, t) in self.psi.iter().enumerate() {
                        let approx = (0..p)
                            .rev()
                            .fold(0.0, |acc, k| acc * s + self.psi_coeffs[k * nb + b]);
                        psi_worst = psi_worst.max((approx - t).abs());
                    }
                }
            }
            let bad = worst > FIT_TOLERANCE * scale.max(1e-300)
                || (with_psi && psi_worst > FIT_TOLERANCE * psi_scale.max(1e-300));
            if bad && h > 1e-6 {
                h *= 0.5;
                continue;
            }
            // p(s) with s = −1 + (2/h) τ: Taylor-shift to s = −1, then scale by (2/h)^k.
            for c in 0..d {
                let mut a = [0.0; FIT_DEGREE + 1];
                for (k, ak) in a.iter_mut().enumerate() {
                    *ak = coeffs[k * d + c];
                }
                let shifted = crate::model::signal::taylor_shift(&a, FIT_DEGREE, -1.0);
                let mut scale_k = 1.0;
                for (k, v) in shifted.iter().enumerate() {
                    out[k * d + c] += v * scale_k;
                    scale_k *= 2.0 / h;
                }
            }
            if with_psi {
                for b in 0..nb {
                    let mut a = [0.0; FIT_DEGREE + 1];
                    for (k, ak) in a.iter_mut().enumerate() {
                        *ak = self.psi_coeffs[k * nb + b];
                    }
                    let shifted = crate::model::signal::taylor_shift(&a, FIT_DEGREE, -1.0);
                    let mut scale_k = 1.0;
                    for (k, v) in shifted.iter().enumerate() {
                        self.psi_poly[k * nb + b] = v * scale_k;
                        scale_k *= 2.0 / h;
                    }
                }
            }
            break;
        }
        self.window = (1.5 * h).min(0.05);
        (self.xs, self.truth, self.coeffs) = (xs, truth, coeffs);
        (h, FIT_DEGREE)
    }
}

/// Checks that an engine with learned current `learned` and `n` neurons can take `offsets`
/// (row-major N × N_b): there is a learned current, and the size matches.
pub(crate) fn check_offsets(
    learned: Option<&LearnedCurrent>,
    n: usize,
    offsets: Option<&[f64]>,
) -> Result<(), BuildError> {
    let Some(l) = learned else {
        return Err(BuildError::new(
            "offsets",
            "a learned current to offset",
            "none",
        ));
    };
    let nb = l.basis().len();
    match offsets {
        Some(p) if p.len() != n * nb => Err(BuildError::new(
            "offsets",
            format!("{n}×{nb} offsets (network.neurons × N_b)"),
            format!("{} entries", p.len()),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (h, deg) = lc.fit_into(&xhat0, lambda_d, 0.05, &mut poly);
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
        lc.fit_into(&xhat0, lambda_d, 0.05, &mut poly);
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
            let (h, deg) = lc.fit_into(&xhat0, lambda_d, 0.05, &mut poly);
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
}
