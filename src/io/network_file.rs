//! `network.json`: the network that ran (decoder, thresholds, rates, costs, delay and the
//! low-rank core), written by every run so that it can be analysed elsewhere or reproduced
//! (`network.decoder = { file = "network.json" }` in a model file reads it back).
//!
//! Format (version 1): `decoder` is d rows of N numbers (row k holds component k of every
//! neuron's decoding direction), `thresholds` N numbers, `lambda_d`, `lambda_v` (1/s), `mu`,
//! `nu`, `fast_delay` (s); `weights` is `"low_rank"` with `core` the d×d slow core
//! `A + λ_d I` (rows), or `"explicit"` with a `note` (the N×N weights are not written). With an
//! absolute refractory period, `refractory_period` (N numbers, s) and `refractory` (`"clamp"` or
//! `"hold"`) follow; both are absent without one.

use crate::error::OutputError;
use crate::io::record::write_json;
use crate::model::network::{Network, Weights};
use crate::model::refractory::RefractoryMode;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the network description inside a run directory.
pub const NETWORK_JSON: &str = "network.json";

/// The contents of `network.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// Format version (1).
    pub version: u32,
    /// Number of neurons N.
    pub neurons: usize,
    /// Number of encoded dimensions d.
    pub dims: usize,
    /// Decoder, d rows of N.
    pub decoder: Vec<Vec<f64>>,
    /// Thresholds `T_i`, N.
    pub thresholds: Vec<f64>,
    /// Readout decay λ_d, 1/s.
    pub lambda_d: f64,
    /// Membrane leak λ_V, 1/s.
    pub lambda_v: f64,
    /// Quadratic spike cost μ.
    pub mu: f64,
    /// Linear spike cost ν.
    pub nu: f64,
    /// Fast-connection delay, s.
    pub fast_delay: f64,
    /// `"low_rank"` or `"explicit"`.
    pub weights: String,
    /// The d×d slow core (rows) when `weights` is `"low_rank"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<Vec<Vec<f64>>>,
    /// Why the weights are not listed, when `weights` is `"explicit"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Each neuron's absolute refractory period, s (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refractory_period: Option<Vec<f64>>,
    /// What the voltage does in the period (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refractory: Option<RefractoryMode>,
}

impl NetworkFile {
    /// Describes `network`.
    pub fn of(network: &Network) -> NetworkFile {
        let (n, d) = (network.neurons(), network.dims());
        let decoder = (0..d)
            .map(|k| (0..n).map(|i| network.decoder(i)[k]).collect())
            .collect();
        let (weights, core, note) = match network.weights() {
            Weights::LowRank { .. } => (
                "low_rank",
                network
                    .slow_core()
                    .map(|c| c.chunks(d).map(<[f64]>::to_vec).collect()),
                None,
            ),
            Weights::Dense { .. } => (
                "explicit",
                None,
                Some("explicit N×N weights (given in the model file) are not written".to_string()),
            ),
        };
        NetworkFile {
            version: 1,
            neurons: n,
            dims: d,
            decoder,
            thresholds: network.thresholds().to_vec(),
            lambda_d: network.lambda_d(),
            lambda_v: network.lambda_v(),
            mu: network.mu(),
            nu: network.nu(),
            fast_delay: network.fast_delay(),
            weights: weights.to_string(),
            core,
            note,
            refractory_period: network.refractory().map(|r| r.periods().to_vec()),
            refractory: network.refractory().map(|r| r.mode()),
        }
    }

    /// Writes it to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<(), OutputError> {
        write_json(path, self)
    }

    /// Reads `path`; the error says what was wrong (I/O, JSON, or decoder/threshold shapes).
    pub fn read(path: &Path) -> Result<NetworkFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let f: NetworkFile = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if f.version != 1 {
            return Err(format!("expected version 1, got {}", f.version));
        }
        if f.decoder.len() != f.dims || f.decoder.iter().any(|r| r.len() != f.neurons) {
            return Err(format!(
                "expected `decoder` as {} rows of {} numbers (dims × neurons)",
                f.dims, f.neurons
            ));
        }
        if f.thresholds.len() != f.neurons {
            return Err(format!(
                "expected {} `thresholds`, got {}",
                f.neurons,
                f.thresholds.len()
            ));
        }
        Ok(f)
    }
}
