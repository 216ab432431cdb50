//! An efficient balanced network: decoders, costs, thresholds, and its fast and slow weights.
//!
//! Built from the decoder `D` (d×N, column `D_i` is neuron i's decoding direction), the rates
//! λ_d and λ_V, the costs μ and ν, and the linear dynamics `A` the network should implement:
//!
//! ```text
//! T_i = (‖D_i‖² + μ + ν) / 2        Ω_f = DᵀD + μI        Ω_s = Dᵀ(A + λ_d I)D
//! ```
//!
//! Both weight matrices are rank d plus a diagonal, so by default they are stored **low-rank**
//! (`D` and the d×d core `A + λ_d I`: O(N·d) memory, O(N·d) per spike). Explicit N×N weights,
//! or [`WeightRepr::Dense`], store them densely; both representations give the same spikes.

use crate::error::BuildError;
use crate::model::refractory::{Refractory, RefractoryMode};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// How the fast and slow weights are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WeightRepr {
    /// Low-rank unless explicit N×N weights were given.
    #[default]
    Auto,
    /// `D` and a d×d core (requires derived weights).
    LowRank,
    /// N×N matrices.
    Dense,
}

/// Stored weights; see [`WeightRepr`].
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub enum Weights {
    /// `Ω_f = DᵀD + μI`, `Ω_s = Dᵀ M D` with the d×d core `M` (row-major).
    LowRank {
        /// `M = A + λ_d I`, row-major d×d.
        core: Vec<f64>,
    },
    /// Column-major N×N matrices: `fast[j * N + i] = Ω_f[i][j]` (the column of presynaptic `j`).
    Dense {
        /// Fast weights, including the diagonal (the reset).
        fast: Vec<f64>,
        /// Slow weights on the filtered spike trains.
        slow: Vec<f64>,
    },
}

/// Largest N for which dense N×N weights are built (2·N² f64 ≈ 4 GiB at this size).
pub(crate) const MAX_DENSE_NEURONS: usize = 16_384;

/// An EBN ready to simulate. Immutable; build with [`NetworkBuilder`].
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Network {
    n: usize,
    d: usize,
    lambda_d: f64,
    lambda_v: f64,
    mu: f64,
    nu: f64,
    fast_delay: f64,
    /// `decoder[i * d + k] = D[k][i]`: each neuron's direction is contiguous.
    decoder: Vec<f64>,
    thresholds: Vec<f64>,
    /// The linear dynamics `A` (row-major d×d) the slow weights were derived from.
    dynamics: Vec<f64>,
    weights: Weights,
    /// The absolute refractory period, if any neuron has one.
    refractory: Option<Refractory>,
}

/// Consuming builder for [`Network`]; every setter has a documented default.
#[derive(Clone, Debug)]
pub struct NetworkBuilder {
    decoder_rows: Vec<Vec<f64>>,
    lambda_d: f64,
    lambda_v: Option<f64>,
    mu: f64,
    nu: f64,
    fast_delay: f64,
    thresholds: Option<Vec<f64>>,
    dynamics: Option<Vec<Vec<f64>>>,
    fast_weights: Option<Vec<Vec<f64>>>,
    slow_weights: Option<Vec<Vec<f64>>>,
    repr: WeightRepr,
    refractory_periods: Vec<f64>,
    refractory_mode: RefractoryMode,
}

/// Draws a d×N decoder (one row per dimension) from the seed's generator.
///
/// Entries are normal with standard deviation `scale`; with `normalize`, every column is then
/// rescaled to norm `scale` exactly (all neurons equally strong, directions uniform).
pub fn random_decoder<R: Rng>(
    dims: usize,
    neurons: usize,
    scale: f64,
    normalize: bool,
    rng: &mut R,
) -> Vec<Vec<f64>> {
    let mut rows = vec![vec![0.0; neurons]; dims];
    for i in 0..neurons {
        let mut norm2 = 0.0;
        for row in rows.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            row[i] = z;
            norm2 += z * z;
        }
        let f = if normalize {
            if norm2 > 0.0 {
                scale / norm2.sqrt()
            } else {
                0.0
            }
        } else {
            scale
        };
        for row in rows.iter_mut() {
            row[i] *= f;
        }
    }
    rows
}

fn finite(field: &str, x: f64) -> Result<f64, BuildError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(BuildError::new(field, "a finite number", format!("{x}")))
    }
}

fn positive(field: &str, x: f64, unit: &str) -> Result<f64, BuildError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(BuildError::new(
            field,
            format!("a finite positive {unit}"),
            format!("{x}"),
        ))
    }
}

fn non_negative(field: &str, x: f64, what: &str) -> Result<f64, BuildError> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(BuildError::new(
            field,
            format!("a finite non-negative {what}"),
            format!("{x}"),
        ))
    }
}

fn square(field: &str, m: &[Vec<f64>], size: usize, what: &str) -> Result<(), BuildError> {
    if m.len() != size {
        return Err(BuildError::new(
            field,
            format!("{size} rows ({what})"),
            format!("{} rows", m.len()),
        ));
    }
    for (i, row) in m.iter().enumerate() {
        if row.len() != size {
            return Err(BuildError::new(
                format!("{field}[{i}]"),
                format!("{size} entries ({what})"),
                format!("{} entries", row.len()),
            ));
        }
        for (j, &x) in row.iter().enumerate() {
            finite(&format!("{field}[{i}][{j}]"), x)?;
        }
    }
    Ok(())
}

impl NetworkBuilder {
    /// Starts from the decoder, given as d rows of N entries (column j is neuron j's direction).
    ///
    /// Defaults: λ_d = 10 /s, λ_V = λ_d, μ = ν = 0, no fast delay, derived thresholds, `A = 0`
    /// (a perfect integrator), [`WeightRepr::Auto`], no refractory period.
    pub fn new(decoder_rows: Vec<Vec<f64>>) -> NetworkBuilder {
        NetworkBuilder {
            decoder_rows,
            lambda_d: 10.0,
            lambda_v: None,
            mu: 0.0,
            nu: 0.0,
            fast_delay: 0.0,
            thresholds: None,
            dynamics: None,
            fast_weights: None,
            slow_weights: None,
            repr: WeightRepr::Auto,
            refractory_periods: vec![0.0],
            refractory_mode: RefractoryMode::Clamp,
        }
    }

    /// Readout and slow-synapse decay λ_d, 1/s.
    pub fn lambda_d(mut self, v: f64) -> Self {
        self.lambda_d = v;
        self
    }
    /// Membrane leak λ_V, 1/s (default λ_d).
    pub fn lambda_v(mut self, v: f64) -> Self {
        self.lambda_v = Some(v);
        self
    }
    /// Quadratic spike cost μ (adds μ to the reset and μ/2 to the threshold).
    pub fn mu(mut self, v: f64) -> Self {
        self.mu = v;
        self
    }
    /// Linear spike cost ν (adds ν/2 to the threshold).
    pub fn nu(mut self, v: f64) -> Self {
        self.nu = v;
        self
    }
    /// Delay of the fast connections to other neurons, s (the reset is always instantaneous).
    pub fn fast_delay(mut self, v: f64) -> Self {
        self.fast_delay = v;
        self
    }
    /// Explicit thresholds instead of `(‖D_i‖² + μ + ν)/2`.
    pub fn thresholds(mut self, v: Vec<f64>) -> Self {
        self.thresholds = Some(v);
        self
    }
    /// Linear dynamics `A` (d rows of d entries): slow weights `Dᵀ(A + λ_d I)D`.
    pub fn linear_dynamics(mut self, a_rows: Vec<Vec<f64>>) -> Self {
        self.dynamics = Some(a_rows);
        self
    }
    /// Explicit fast weights (N rows of N; row i = postsynaptic i). Forces dense storage.
    pub fn fast_weights(mut self, w: Vec<Vec<f64>>) -> Self {
        self.fast_weights = Some(w);
        self
    }
    /// Explicit slow weights on the filtered spike trains. Forces dense storage.
    pub fn slow_weights(mut self, w: Vec<Vec<f64>>) -> Self {
        self.slow_weights = Some(w);
        self
    }
    /// Weight storage; see [`WeightRepr`].
    pub fn representation(mut self, r: WeightRepr) -> Self {
        self.repr = r;
        self
    }
    /// An absolute refractory period of `tau` seconds for every neuron (default 0: none); see
    /// [`crate::model::refractory`].
    pub fn refractory_period(mut self, tau: f64) -> Self {
        self.refractory_periods = vec![tau];
        self
    }
    /// One refractory period per neuron, s.
    pub fn refractory_periods(mut self, taus: Vec<f64>) -> Self {
        self.refractory_periods = taus;
        self
    }
    /// What the voltage does in the refractory period (default [`RefractoryMode::Clamp`]).
    pub fn refractory_mode(mut self, mode: RefractoryMode) -> Self {
        self.refractory_mode = mode;
        self
    }

    /// Validates everything and builds the network.
    pub fn build(self) -> Result<Network, BuildError> {
        let d = self.decoder_rows.len();
        if d == 0 {
            return Err(BuildError::new(
                "network.decoder",
                "d ≥ 1 rows of N entries",
                "no rows",
            ));
        }
        let n = self.decoder_rows[0].len();
        if n == 0 {
            return Err(BuildError::new(
                "network.decoder",
                "rows of N ≥ 1 entries",
                "empty rows",
            ));
        }
        let mut decoder = vec![0.0; n * d];
        for (k, row) in self.decoder_rows.iter().enumerate() {
            if row.len() != n {
                return Err(BuildError::new(
                    format!("network.decoder[{k}]"),
                    format!("{n} entries (one per neuron, like row 0)"),
                    format!("{} entries", row.len()),
                ));
            }
            for (i, &x) in row.iter().enumerate() {
                decoder[i * d + k] = finite(&format!("network.decoder[{k}][{i}]"), x)?;
            }
        }
        let lambda_d = positive("network.lambda_d", self.lambda_d, "rate in 1/s")?;
        let lambda_v = positive(
            "network.lambda_v",
            self.lambda_v.unwrap_or(lambda_d),
            "rate in 1/s",
        )?;
        let mu = non_negative("network.mu", self.mu, "cost")?;
        let nu = non_negative("network.nu", self.nu, "cost")?;
        let fast_delay = non_negative("network.fast_delay", self.fast_delay, "delay in seconds")?;
        let refractory = Refractory::new(&self.refractory_periods, n, self.refractory_mode)?;

        let norm2 = |i: usize| -> f64 { decoder[i * d..(i + 1) * d].iter().map(|x| x * x).sum() };
        let thresholds = match self.thresholds {
            Some(t) => {
                if t.len() != n {
                    return Err(BuildError::new(
                        "network.thresholds",
                        format!("{n} thresholds (one per neuron)"),
                        format!("{}", t.len()),
                    ));
                }
                for (i, &x) in t.iter().enumerate() {
                    finite(&format!("network.thresholds[{i}]"), x)?;
                }
                t
            }
            None => (0..n).map(|i| (norm2(i) + mu + nu) / 2.0).collect(),
        };
        let a = match self.dynamics {
            Some(rows) => {
                square("target.a", &rows, d, "d×d, d = network.dims")?;
                for (i, row) in rows.iter().enumerate() {
                    if let Some((k, x)) = row.iter().enumerate().find(|(_, x)| x.abs() > 1e12) {
                        return Err(BuildError::new(
                            format!("target.a[{i}][{k}]"),
                            "a rate of magnitude at most 1e12 1/s",
                            format!("{x}"),
                        ));
                    }
                }
                rows.concat()
            }
            None => vec![0.0; d * d],
        };
        let mut core = a.clone();
        for k in 0..d {
            core[k * d + k] += lambda_d;
        }

        let explicit = self.fast_weights.is_some() || self.slow_weights.is_some();
        let dense = match self.repr {
            WeightRepr::Dense => true,
            WeightRepr::Auto => explicit,
            WeightRepr::LowRank => {
                if explicit {
                    return Err(BuildError::new(
                        "network.weights",
                        "`dense` or `auto` storage when explicit fast or slow weights are given",
                        "`low_rank`",
                    ));
                }
                false
            }
        };
        let weights = if dense {
            if n > MAX_DENSE_NEURONS {
                return Err(BuildError::new(
                    "network.weights",
                    format!("at most {MAX_DENSE_NEURONS} neurons for dense N×N weights"),
                    format!("{n} neurons"),
                ));
            }
            // Shapes first: a wrong shape must not cost two N×N matrices.
            if let Some(w) = &self.fast_weights {
                square("network.fast_weights", w, n, "N×N, N = network.neurons")?;
            }
            if let Some(w) = &self.slow_weights {
                square("network.slow_weights", w, n, "N×N, N = network.neurons")?;
            }
            let mut fast = vec![0.0; n * n];
            let mut slow = vec![0.0; n * n];
            for j in 0..n {
                let dj = &decoder[j * d..(j + 1) * d];
                // M D_j, shared by the column j of Ω_s.
                let mdj: Vec<f64> = (0..d)
                    .map(|k| (0..d).map(|l| core[k * d + l] * dj[l]).sum())
                    .collect();
                for i in 0..n {
                    let di = &decoder[i * d..(i + 1) * d];
                    let dot: f64 = di.iter().zip(dj).map(|(x, y)| x * y).sum();
                    fast[j * n + i] = dot + if i == j { mu } else { 0.0 };
                    slow[j * n + i] = di.iter().zip(&mdj).map(|(x, y)| x * y).sum();
                }
            }
            if let Some(w) = self.fast_weights {
                for (i, row) in w.iter().enumerate() {
                    for (j, &x) in row.iter().enumerate() {
                        fast[j * n + i] = x;
                    }
                }
            }
            if let Some(w) = self.slow_weights {
                for (i, row) in w.iter().enumerate() {
                    for (j, &x) in row.iter().enumerate() {
                        slow[j * n + i] = x;
                    }
                }
            }
            Weights::Dense { fast, slow }
        } else {
            Weights::LowRank { core }
        };
        let net = Network {
            n,
            d,
            lambda_d,
            lambda_v,
            mu,
            nu,
            fast_delay,
            decoder,
            thresholds,
            dynamics: a,
            weights,
            refractory,
        };
        for i in 0..n {
            let reset = net.fast_weight(i, i);
            if reset.is_nan() || reset <= 0.0 {
                let field = if matches!(net.weights, Weights::Dense { .. }) && explicit {
                    format!("network.fast_weights[{i}][{i}]")
                } else {
                    format!("network.decoder (column {i})")
                };
                return Err(BuildError::new(
                    field,
                    format!(
                        "a positive reset Ω_f[{i}][{i}] = ‖D_{i}‖² + mu for every neuron (a zero \
                         decoder column with mu = 0 has a zero threshold and never resets)"
                    ),
                    format!("{reset}"),
                ));
            }
        }
        Ok(net)
    }
}

impl Network {
    /// Number of neurons N.
    pub fn neurons(&self) -> usize {
        self.n
    }
    /// Number of encoded dimensions d.
    pub fn dims(&self) -> usize {
        self.d
    }
    /// Readout / slow-synapse decay λ_d, 1/s.
    pub fn lambda_d(&self) -> f64 {
        self.lambda_d
    }
    /// Membrane leak λ_V, 1/s.
    pub fn lambda_v(&self) -> f64 {
        self.lambda_v
    }
    /// Quadratic cost μ.
    pub fn mu(&self) -> f64 {
        self.mu
    }
    /// Linear cost ν.
    pub fn nu(&self) -> f64 {
        self.nu
    }
    /// Fast-connection delay, s.
    pub fn fast_delay(&self) -> f64 {
        self.fast_delay
    }
    /// The refractory periods and mode; `None` when no neuron has a period.
    pub fn refractory(&self) -> Option<&Refractory> {
        self.refractory.as_ref()
    }
    /// Neuron i's decoding direction `D_i` (length d).
    #[inline]
    pub fn decoder(&self, i: usize) -> &[f64] {
        &self.decoder[i * self.d..(i + 1) * self.d]
    }
    /// All decoders, neuron-major: `[D_0, D_1, …]`.
    pub fn decoders(&self) -> &[f64] {
        &self.decoder
    }
    /// Thresholds `T_i`.
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }
    /// The linear dynamics `A`, row-major d×d.
    pub fn dynamics(&self) -> &[f64] {
        &self.dynamics
    }
    /// The stored weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }
    /// Replaces the d×d slow core `M` of low-rank weights (`Ω_s = Dᵀ M D`): how learned linear
    /// weights and the feedback gain enter (`M = L + U − K I`).
    pub(crate) fn set_slow_core(&mut self, core: &[f64]) -> Result<(), BuildError> {
        let d = self.d;
        let Weights::LowRank { core: c } = &mut self.weights else {
            return Err(BuildError::new(
                "network.weights",
                "low-rank weights to change the slow core",
                "dense weights",
            ));
        };
        if core.len() != d * d || core.iter().any(|x| !x.is_finite()) {
            return Err(BuildError::new(
                "slow core",
                format!("{d}×{d} finite entries"),
                format!("{} entries", core.len()),
            ));
        }
        c.copy_from_slice(core);
        Ok(())
    }

    /// The d×d slow core `M` of low-rank weights (row-major), if the weights are low-rank.
    pub(crate) fn slow_core(&self) -> Option<&[f64]> {
        match &self.weights {
            Weights::LowRank { core } => Some(core),
            Weights::Dense { .. } => None,
        }
    }

    /// Whether the weights are stored low-rank.
    pub fn is_low_rank(&self) -> bool {
        matches!(self.weights, Weights::LowRank { .. })
    }

    /// `Ω_f[i][j]`: the voltage drop of neuron i when j spikes (diagonal = reset).
    pub fn fast_weight(&self, i: usize, j: usize) -> f64 {
        match &self.weights {
            Weights::LowRank { .. } => {
                let dot: f64 = self
                    .decoder(i)
                    .iter()
                    .zip(self.decoder(j))
                    .map(|(a, b)| a * b)
                    .sum();
                dot + if i == j { self.mu } else { 0.0 }
            }
            Weights::Dense { fast, .. } => fast[j * self.n + i],
        }
    }

    /// `Ω_s[i][j]`: slow current into i per unit of j's filtered spike train.
    pub fn slow_weight(&self, i: usize, j: usize) -> f64 {
        match &self.weights {
            Weights::LowRank { core } => {
                let (di, dj, d) = (self.decoder(i), self.decoder(j), self.d);
                (0..d)
                    .map(|k| di[k] * (0..d).map(|l| core[k * d + l] * dj[l]).sum::<f64>())
                    .sum()
            }
            Weights::Dense { slow, .. } => slow[j * self.n + i],
        }
    }

    /// The same network with N×N weights (for checking the low-rank path against it).
    pub fn to_dense(&self) -> Network {
        let mut out = self.clone();
        if let Weights::LowRank { .. } = self.weights {
            let n = self.n;
            let mut fast = vec![0.0; n * n];
            let mut slow = vec![0.0; n * n];
            for j in 0..n {
                for i in 0..n {
                    fast[j * n + i] = self.fast_weight(i, j);
                    slow[j * n + i] = self.slow_weight(i, j);
                }
            }
            out.weights = Weights::Dense { fast, slow };
        }
        out
    }

    /// Initial voltages for a target starting at `x0` with an empty readout: `V_i = D_iᵀ x0`.
    pub(crate) fn initial_voltages(&self, x0: &[f64]) -> Vec<f64> {
        (0..self.n)
            .map(|i| self.decoder(i).iter().zip(x0).map(|(a, b)| a * b).sum())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn decoder() -> Vec<Vec<f64>> {
        vec![vec![0.1, -0.1, 0.05], vec![0.0, 0.1, -0.08]]
    }

    #[test]
    fn derived_thresholds_and_weights() {
        let net = NetworkBuilder::new(decoder())
            .mu(0.01)
            .nu(0.02)
            .linear_dynamics(vec![vec![-1.0, 2.0], vec![3.0, 0.0]])
            .build()
            .unwrap();
        assert!(net.is_low_rank());
        assert!((net.thresholds()[0] - (0.01 + 0.01 + 0.02) / 2.0).abs() < 1e-15);
        assert!((net.fast_weight(0, 0) - 0.02).abs() < 1e-15);
        let dense = net.to_dense();
        for i in 0..3 {
            for j in 0..3 {
                assert!((dense.fast_weight(i, j) - net.fast_weight(i, j)).abs() < 1e-15);
                assert!((dense.slow_weight(i, j) - net.slow_weight(i, j)).abs() < 1e-15);
            }
        }
        // Ω_s[0][1] = D_0ᵀ (A + λ_d I) D_1 with λ_d = 10.
        let m = [[9.0, 2.0], [3.0, 10.0]];
        let d0 = [0.1, 0.0];
        let d1 = [-0.1, 0.1];
        let want: f64 = (0..2)
            .map(|k| d0[k] * (0..2).map(|l| m[k][l] * d1[l]).sum::<f64>())
            .sum();
        assert!((net.slow_weight(0, 1) - want).abs() < 1e-15);
    }

    #[test]
    fn invalid_parameters_name_their_field() {
        let e = NetworkBuilder::new(decoder())
            .lambda_d(-1.0)
            .build()
            .unwrap_err();
        assert_eq!(e.field, "network.lambda_d");
        let e = NetworkBuilder::new(vec![vec![0.1, 0.2], vec![0.1]])
            .build()
            .unwrap_err();
        assert_eq!(e.field, "network.decoder[1]");
        let e = NetworkBuilder::new(vec![vec![0.1, 0.0]])
            .build()
            .unwrap_err();
        assert!(e.field.contains("column 1"), "{e}");
        let e = NetworkBuilder::new(decoder())
            .linear_dynamics(vec![vec![1.0]])
            .build()
            .unwrap_err();
        assert_eq!(e.field, "target.a");
        let e = NetworkBuilder::new(decoder())
            .fast_delay(f64::NAN)
            .build()
            .unwrap_err();
        assert_eq!(e.field, "network.fast_delay");
    }

    #[test]
    fn normalized_random_decoder_has_equal_norms() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let rows = random_decoder(3, 50, 0.1, true, &mut rng);
        for i in 0..50 {
            let n: f64 = rows.iter().map(|r| r[i] * r[i]).sum::<f64>().sqrt();
            assert!((n - 0.1).abs() < 1e-15);
        }
    }
}
