//! The learned slow current [`LearnedCurrent`]: `D_iᵀ U Ψ(x̂)` (plus the optional offsets `P`),
//! fitted by a polynomial over a short window so the exact engine can treat it as a drive.

use super::*;

/// Largest magnitude of a learned weight or offset: beyond it the learned currents (and the
/// exponential polynomials of the crossing search) overflow, and no trained network gets near
/// it.
pub(crate) const MAX_WEIGHT: f64 = 1e12;

/// Degree of the polynomial fits of the learned current.
pub(super) const FIT_DEGREE: usize = MAX_DEGREE;

/// The learned slow current `U Ψ(x̂(t))` (a d-vector; neuron i receives `D_iᵀ` of it), fitted
/// over a window after each event by a polynomial in the local time.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct LearnedCurrent {
    pub(super) basis: Basis,
    /// `U`, row-major d × N_b.
    pub(super) u: Vec<f64>,
    /// Window length to try first, s.
    pub(super) window: f64,
    /// Scratch.
    pub(super) psi: Vec<f64>,
    pub(super) values: Vec<f64>,
    pub(super) xs: Vec<f64>,
    pub(super) truth: Vec<f64>,
    pub(super) coeffs: Vec<f64>,
    /// Inverse Vandermonde matrix of the Chebyshev nodes on [0, 1] (row-major).
    pub(super) inverse: Vec<f64>,
    pub(super) nodes: Vec<f64>,
    /// Fits made and windows halved, for the counters.
    pub(super) fits: u64,
    /// The fixed offset `P` (row-major N × N_b), if any: neuron i also receives `P_i Ψ`.
    pub(super) offsets: Option<Vec<f64>>,
    /// With offsets, the fit of `Ψ` itself: scratch values and coefficients at the nodes
    /// (`[j * N_b + b]`), and the polynomial in τ of the last fit, `psi_poly[k * N_b + b]`.
    pub(super) psi_values: Vec<f64>,
    pub(super) psi_coeffs: Vec<f64>,
    pub(super) psi_poly: Vec<f64>,
    /// For monomials on the readout (and the linear basis), each function's total degree
    /// `m_b`: then `ψ_b(x̂₀ z) = ψ_b(x̂₀) z^{m_b}` with `z = e^{−λ_d τ}`, and the fit is the
    /// exact Taylor series in τ with a proven remainder bound (`fit_series`). Empty otherwise.
    pub(super) powers: Vec<usize>,
    /// Scratch of `fit_series`: `Σ_{b: m_b = m} U_{cb} ψ_b(x̂₀)` at `[m * d + c]`.
    pub(super) by_power: Vec<f64>,
}

/// Relative accuracy the fits are held to (against the current's magnitude).
pub(crate) const FIT_TOLERANCE: f64 = 1e-12;

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
        if let Some(x) = u.iter().find(|x| x.abs() > MAX_WEIGHT) {
            return Err(BuildError::new(
                "weights",
                format!("learned weights of magnitude at most {MAX_WEIGHT:e} (larger ones overflow the network's currents)"),
                format!("{x}"),
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
        // (A monomial of higher degree than `Basis::monomials` makes uses the interpolating fit.)
        let powers = match basis.readout_powers() {
            Some(p) if p.iter().all(|&m| m <= MAX_POWER) => p,
            _ => Vec::new(),
        };
        let by_power = vec![0.0; (powers.iter().copied().max().unwrap_or(0) + 1) * d];
        Ok(LearnedCurrent {
            powers,
            by_power,
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
    /// `D_iᵀ U Ψ + P_i Ψ` (see the [module documentation](crate::model::basis)). Its number of rows is N; the
    /// engines check that it matches the network.
    pub fn set_offsets(&mut self, offsets: Option<Vec<f64>>) -> Result<(), BuildError> {
        let nb = self.basis.len();
        if let Some(p) = &offsets {
            if let Some(x) = p.iter().find(|x| x.abs() > MAX_WEIGHT) {
                return Err(BuildError::new(
                    "offsets",
                    format!("offsets of magnitude at most {MAX_WEIGHT:e} (larger ones overflow the network's currents)"),
                    format!("{x}"),
                ));
            }
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
    pub(crate) fn check_fits(&self, dims: usize, neurons: usize) -> Result<(), BuildError> {
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
    pub(crate) fn offset_current(&self, i: usize) -> f64 {
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
    pub(crate) fn add_offset_drive(&self, drive: &mut [f64], stride: usize) {
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
    pub(crate) fn set_weights(&mut self, u: &[f64]) {
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

    /// Fits `U Ψ(x̂0 e^{−λ_d τ})` (or `U Ψ(r0 e^{−λ_d τ})`) by a polynomial in τ on `τ ∈ [0, h]`;
    /// adds its coefficients (in τ, `out[k * d + j]`) to `out` and returns `(h, degree)`.
    ///
    /// For monomials on the readout (and the linear basis) the polynomial is the exact Taylor
    /// series of the current, of the lowest degree ≥ `min_degree` whose remainder is proven
    /// within [`FIT_TOLERANCE`] of the current's magnitude up to `max_window` (`fit_series`; a
    /// shorter window at degree [`FIT_DEGREE`] if none is). Otherwise it interpolates at Chebyshev nodes
    /// on a window `h ≤ max_window`, halving `h` until the fit is within [`FIT_TOLERANCE`] of the
    /// current's magnitude at check points between the nodes.
    ///
    /// With offsets ([`LearnedCurrent::set_offsets`]) `Ψ` itself (N_b outputs) is fitted over
    /// the same window and held to the same tolerance (against `Ψ`'s magnitude), so both fits
    /// are certified together; [`LearnedCurrent::add_offset_drive`] then adds `P Ψ` to the
    /// neurons' drives.
    pub(crate) fn fit_into(
        &mut self,
        xhat0: &[f64],
        lambda_d: f64,
        max_window: f64,
        min_degree: usize,
        out: &mut [f64],
    ) -> (f64, usize) {
        if self.powers.is_empty() {
            self.fit_chebyshev(xhat0, lambda_d, max_window, out)
        } else {
            self.fit_series(xhat0, lambda_d, max_window, min_degree, out)
        }
    }

    /// The exact Taylor series of `U Ψ(x̂0 e^{−λ_d τ}) = Σ_m c_m e^{−m λ_d τ}` (monomials of
    /// total degree m) to the lowest degree `K ∈ [min_degree, FIT_DEGREE]` whose window reaches
    /// `max_window` (else [`FIT_DEGREE`]), added to `out`; returns `(h, K)`, `h` = `max_window`
    /// when reached, else the longest window (≥ 1e-6 s as for the interpolating fit) on which
    /// the remainder, `≤ Σ_m |c_m| (m λ_d h)^{K+1} / (K+1)!`, is within [`FIT_TOLERANCE`] of
    /// the current's magnitude at τ = 0 (and, with offsets, that of `Ψ` too). A low degree
    /// where the next event is near costs the engine less per neuron.
    fn fit_series(
        &mut self,
        xhat0: &[f64],
        lambda_d: f64,
        max_window: f64,
        min_degree: usize,
        out: &mut [f64],
    ) -> (f64, usize) {
        const MAX_WINDOW: f64 = 0.05;
        const MIN_WINDOW: f64 = 1e-6;
        let d = self.basis.dims();
        let nb = self.basis.len();
        let p = FIT_DEGREE + 1;
        self.fits += 1;
        self.basis.eval(xhat0, &mut self.psi);
        let top = self.by_power.len() / d - 1;
        self.by_power.fill(0.0);
        for (b, (&m, &psi)) in self.powers.iter().zip(&self.psi).enumerate() {
            for c in 0..d {
                self.by_power[m * d + c] += self.u[c * nb + b] * psi;
            }
        }
        // g[m][k] = |(−m λ_d)^k / k!|, k = 0..=p (k = K + 1 for the remainder of degree K).
        let mut g = [[0.0; FIT_DEGREE + 2]; MAX_POWER + 1];
        for (m, gm) in g.iter_mut().enumerate().take(top + 1) {
            gm[0] = 1.0;
            for k in 1..=p {
                gm[k] = gm[k - 1] * (m as f64 * lambda_d) / k as f64;
            }
        }
        // Remainder coefficients of every degree and the magnitude, worst component.
        let mut rem = [0.0_f64; FIT_DEGREE + 2];
        let mut scale: f64 = 0.0;
        for c in 0..d {
            let mut r = [0.0; FIT_DEGREE + 2];
            let mut f0 = 0.0;
            for (m, gm) in g.iter().enumerate().take(top + 1) {
                let cm = self.by_power[m * d + c];
                f0 += cm;
                for (rk, gk) in r.iter_mut().zip(gm) {
                    *rk += cm.abs() * gk;
                }
            }
            for (w, rk) in rem.iter_mut().zip(r) {
                *w = w.max(rk);
            }
            scale = scale.max(f0.abs());
        }
        let (mut psi_rem, mut psi_scale) = ([0.0_f64; FIT_DEGREE + 2], 0.0_f64);
        if self.offsets.is_some() {
            for (&m, &psi) in self.powers.iter().zip(&self.psi) {
                for (w, gk) in psi_rem.iter_mut().zip(&g[m]) {
                    *w = w.max(psi.abs() * gk);
                }
                psi_scale = psi_scale.max(psi.abs());
            }
        }
        // The lowest degree whose remainder over `max_window` is within the tolerance (no
        // root taken: `rem · max_window^{K+1} ≤ tol · scale`), then its window.
        let with_psi = self.offsets.is_some();
        let mut degree = min_degree.min(FIT_DEGREE);
        let mut wk = max_window.powi(degree as i32 + 1);
        while degree < FIT_DEGREE
            && (rem[degree + 1] * wk > FIT_TOLERANCE * scale
                || (with_psi && psi_rem[degree + 1] * wk > FIT_TOLERANCE * psi_scale))
        {
            degree += 1;
            wk *= max_window;
        }
        let reached = rem[degree + 1] * wk <= FIT_TOLERANCE * scale
            && !(with_psi && psi_rem[degree + 1] * wk > FIT_TOLERANCE * psi_scale);
        let h = if reached {
            // Certified up to the next event, where the engine refits anyway (no root taken).
            max_window
        } else {
            let h = window_for(rem[degree + 1], scale, degree + 1, MAX_WINDOW);
            if with_psi {
                h.min(window_for(
                    psi_rem[degree + 1],
                    psi_scale,
                    degree + 1,
                    MAX_WINDOW,
                ))
            } else {
                h
            }
        };
        // Coefficients: c_m (−m λ_d)^k / k! (the sign of g restored).
        for c in 0..d {
            for (m, gm) in g.iter().enumerate().take(top + 1) {
                let cm = self.by_power[m * d + c];
                for (k, gk) in gm.iter().enumerate().take(degree + 1) {
                    let sign = if k % 2 == 1 { -1.0 } else { 1.0 };
                    out[k * d + c] += sign * cm * gk;
                }
            }
        }
        if with_psi {
            self.psi_poly.fill(0.0);
            for (b, (&m, &psi)) in self.powers.iter().zip(&self.psi).enumerate() {
                for (k, gk) in g[m].iter().enumerate().take(degree + 1) {
                    let sign = if k % 2 == 1 { -1.0 } else { 1.0 };
                    self.psi_poly[k * nb + b] = sign * psi * gk;
                }
            }
        }
        (h.max(MIN_WINDOW), degree)
    }

    /// The Chebyshev-interpolating fit of [`LearnedCurrent::fit_into`] (bases other than
    /// monomials on the readout).
    fn fit_chebyshev(
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

/// Highest total degree of a monomial basis ([`Basis::monomials`]).
const MAX_POWER: usize = 8;

/// The longest window `h ≤ max` with `rem · h^p ≤ FIT_TOLERANCE · scale` (`max` when
/// `rem = 0`: the series is then exact).
fn window_for(rem: f64, scale: f64, p: usize, max: f64) -> f64 {
    if rem == 0.0 {
        return max;
    }
    (FIT_TOLERANCE * scale / rem).powf(1.0 / p as f64).min(max)
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
