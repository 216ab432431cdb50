//! The learned-weights file (`weights.json`): versioned JSON written atomically by
//! `ebnsim learn`, read back by `ebnsim run --weights`.
//!
//! ```json
//! {
//!   "format": "ebnsim-weights",
//!   "version": 1,
//!   "model": "van-der-pol-learn",
//!   "seed": 2,
//!   "dims": 2,
//!   "lambda_d": 10.0,
//!   "basis": { "kind": "monomials", "on": "xhat", "size": 10, "exponents": [[0, 0], [1, 0], …] },
//!   "u": [[…N_b numbers…], […]]
//! }
//! ```
//!
//! `u` holds the d rows of `U` (d × N_b): the learned slow current is `U Ψ(x̂)` and neuron i
//! receives `D_iᵀ U Ψ(x̂)`. An optional `offsets` (N rows of N_b, written only when present)
//! holds a fixed offset `P` of the synaptic matrix beyond `Dᵀ U` (weight noise, given weights):
//! neuron i then also receives `P_i Ψ` ([`crate::model::basis::LearnedCurrent::set_offsets`]); files
//! without it are read as before. The basis is described completely (RBF centres and width, monomial
//! exponents, tanh projections and offsets), so the file does not depend on the model file's
//! random draws. Reading checks the format and version first, then every field: errors name the
//! file and the field (`basis.centres[3]`, `u[1]`). Floats are written in shortest round-trip
//! form, so a file reads back to identical weights, and reruns write identical bytes.

use crate::error::{BuildError, OutputError};
use crate::model::basis::Basis;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` field.
pub(crate) const FORMAT: &str = "ebnsim-weights";

/// The `version` this crate writes and reads.
pub(crate) const VERSION: u32 = 1;

/// File name of the learned weights inside a run directory.
pub const WEIGHTS_JSON: &str = "weights.json";

/// Learned weights with what is needed to use them.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Weights {
    /// The model's name.
    pub model: String,
    /// The model's seed.
    pub seed: u64,
    /// `lambda_d` of the network that learned them, 1/s.
    pub lambda_d: f64,
    /// The basis Ψ (its `dims` is d).
    pub basis: Basis,
    /// `U`, row-major d × N_b.
    pub u: Vec<f64>,
    /// The fixed offset `P` of the synaptic matrix (`W = Dᵀ U + P`), row-major N × N_b, if any.
    pub offsets: Option<Vec<f64>>,
}

/// A weights file that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WeightsError {
    /// The file could not be read.
    #[error("{file}: cannot read the weights file: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Not JSON, or fields of the wrong type, unknown or missing.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A field with a value that is not accepted.
    #[error("{file}: {error}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Which field, what was expected, what was found.
        error: BuildError,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: String,
    version: u32,
    model: String,
    seed: u64,
    dims: usize,
    lambda_d: f64,
    basis: RawBasis,
    u: Vec<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offsets: Option<Vec<Vec<f64>>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasis {
    kind: String,
    on: String,
    size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    centres: Option<Vec<Vec<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exponents: Option<Vec<Vec<u32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    m: Option<Vec<Vec<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    theta: Option<Vec<f64>>,
}

/// The model-file name of a basis kind: `linear`, `rbf_grid`, `monomials`, `tanh_random`.
pub(crate) fn basis_kind(basis: &Basis) -> &'static str {
    match basis {
        Basis::Linear { .. } => "linear",
        Basis::RbfGrid { .. } => "rbf_grid",
        Basis::Monomials { .. } => "monomials",
        Basis::TanhRandom { .. } | Basis::TanhOnTrains { .. } => "tanh_random",
    }
}

fn rows<T: Clone>(flat: &[T], d: usize) -> Vec<Vec<T>> {
    flat.chunks(d.max(1)).map(<[T]>::to_vec).collect()
}

/// Writes `weights` to `path` atomically (temporary file, synced, renamed).
pub fn write(path: &Path, weights: &Weights) -> Result<(), OutputError> {
    let d = weights.basis.dims();
    let nb = weights.basis.len();
    let mut basis = RawBasis {
        kind: basis_kind(&weights.basis).to_owned(),
        on: if weights.basis.on_trains() {
            "r"
        } else {
            "xhat"
        }
        .to_owned(),
        size: nb,
        centres: None,
        width: None,
        exponents: None,
        m: None,
        theta: None,
    };
    match &weights.basis {
        Basis::Linear { .. } => {}
        Basis::RbfGrid { centres, width, .. } => {
            basis.centres = Some(rows(centres, d));
            basis.width = Some(*width);
        }
        Basis::Monomials { exponents, .. } => basis.exponents = Some(rows(exponents, d)),
        Basis::TanhRandom { m, theta, .. } => {
            basis.m = Some(rows(m, d));
            basis.theta = Some(theta.clone());
        }
        Basis::TanhOnTrains {
            m, theta, neurons, ..
        } => {
            basis.m = Some(rows(m, *neurons));
            basis.theta = Some(theta.clone());
        }
    }
    let raw = RawFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        model: weights.model.clone(),
        seed: weights.seed,
        dims: d,
        lambda_d: weights.lambda_d,
        basis,
        u: rows(&weights.u, nb),
        offsets: weights.offsets.as_ref().map(|p| rows(p, nb)),
    };
    crate::io::record::write_json(path, &raw)
}

/// Reads and validates the weights file at `path`.
pub fn read(path: &Path) -> Result<Weights, WeightsError> {
    let text = std::fs::read_to_string(path).map_err(|source| WeightsError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and validates the text of a weights file; `file` is used in messages.
pub fn parse(text: &str, file: &Path) -> Result<Weights, WeightsError> {
    let syntax = |message: String| WeightsError::Syntax {
        file: file.to_path_buf(),
        message,
    };
    let invalid = |error: BuildError| WeightsError::Invalid {
        file: file.to_path_buf(),
        error,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| syntax(format!("not JSON: {e}")))?;
    // serde_json is built with `float_roundtrip`: floats read back bit-exactly.
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        other => {
            return Err(invalid(BuildError::new(
                "format",
                format!("\"{FORMAT}\""),
                other.map_or("no `format` string".to_owned(), |s| format!("\"{s}\"")),
            )))
        }
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        other => {
            return Err(invalid(BuildError::new(
                "version",
                format!("{VERSION} (the version this ebnsim reads)"),
                other.map_or("no integer `version`".to_owned(), |v| v.to_string()),
            )))
        }
    }
    let raw: RawFile = serde_json::from_value(value).map_err(|e| syntax(e.to_string()))?;
    validate(raw).map_err(invalid)
}

fn matrix_f64(field: &str, m: &[Vec<f64>], r: usize, c: usize) -> Result<Vec<f64>, BuildError> {
    if m.len() != r {
        return Err(BuildError::new(
            field,
            format!("{r} rows"),
            format!("{} rows", m.len()),
        ));
    }
    // Every row checked before anything is reserved: a short file claiming a huge basis.size
    // must not allocate for it.
    for (i, row) in m.iter().enumerate() {
        if row.len() != c {
            return Err(BuildError::new(
                format!("{field}[{i}]"),
                format!("{c} numbers"),
                format!("{} numbers", row.len()),
            ));
        }
        if let Some(x) = row.iter().find(|x| !x.is_finite()) {
            return Err(BuildError::new(
                format!("{field}[{i}]"),
                "finite numbers",
                format!("{x}"),
            ));
        }
    }
    Ok(m.concat())
}

/// Checks that learned weights (`u`, `offsets`) are small enough for the currents they make to
/// stay finite.
fn bounded(field: &str, flat: Vec<f64>, cols: usize) -> Result<Vec<f64>, BuildError> {
    use crate::model::basis::MAX_WEIGHT;
    match flat.iter().position(|x| x.abs() > MAX_WEIGHT) {
        None => Ok(flat),
        Some(k) => Err(BuildError::new(
            format!("{field}[{}][{}]", k / cols.max(1), k % cols.max(1)),
            format!("a learned weight of magnitude at most {MAX_WEIGHT:e} (larger ones overflow the network's currents)"),
            format!("{}", flat[k]),
        )),
    }
}

fn validate(raw: RawFile) -> Result<Weights, BuildError> {
    let d = raw.dims;
    if d == 0 || d > crate::io::model_file::MAX_DIMS {
        return Err(BuildError::new(
            "dims",
            format!("1 to {}", crate::io::model_file::MAX_DIMS),
            format!("{d}"),
        ));
    }
    if !(raw.lambda_d.is_finite() && raw.lambda_d > 0.0) {
        return Err(BuildError::new(
            "lambda_d",
            "a finite positive rate in 1/s",
            format!("{}", raw.lambda_d),
        ));
    }
    let b = raw.basis;
    if b.on != "xhat" && !(b.on == "r" && b.kind == "tanh_random") {
        return Err(BuildError::new(
            "basis.on",
            "\"xhat\" (or \"r\" for tanh_random)",
            format!("\"{}\"", b.on),
        ));
    }
    let nb = b.size;
    if nb == 0 || nb > 10_000_000 {
        return Err(BuildError::new(
            "basis.size",
            "1 to 10^7 basis functions",
            format!("{nb}"),
        ));
    }
    let need = |field: &str| {
        BuildError::new(
            format!("basis.{field}"),
            format!("present with kind = \"{}\"", b.kind),
            "missing",
        )
    };
    let basis = match b.kind.as_str() {
        "linear" => {
            if nb != d {
                return Err(BuildError::new(
                    "basis.size",
                    format!("{d} (dims) for the linear basis"),
                    format!("{nb}"),
                ));
            }
            Basis::Linear { dims: d }
        }
        "rbf_grid" => {
            let c = b.centres.as_ref().ok_or_else(|| need("centres"))?;
            let width = b.width.ok_or_else(|| need("width"))?;
            if !(width.is_finite() && width > 0.0) {
                return Err(BuildError::new(
                    "basis.width",
                    "a finite positive width",
                    format!("{width}"),
                ));
            }
            Basis::RbfGrid {
                dims: d,
                centres: matrix_f64("basis.centres", c, nb, d)?,
                width,
            }
        }
        "monomials" => {
            let e = b.exponents.as_ref().ok_or_else(|| need("exponents"))?;
            if e.len() != nb {
                return Err(BuildError::new(
                    "basis.exponents",
                    format!("{nb} rows (basis.size)"),
                    format!("{} rows", e.len()),
                ));
            }
            let mut flat = Vec::with_capacity(nb * d);
            for (i, row) in e.iter().enumerate() {
                if row.len() != d || row.iter().any(|&p| p > 64) {
                    return Err(BuildError::new(
                        format!("basis.exponents[{i}]"),
                        format!("{d} exponents from 0 to 64"),
                        format!("{row:?}"),
                    ));
                }
                flat.extend_from_slice(row);
            }
            Basis::Monomials {
                dims: d,
                exponents: flat,
            }
        }
        "tanh_random" => {
            let m = b.m.as_ref().ok_or_else(|| need("m"))?;
            let theta = b.theta.clone().ok_or_else(|| need("theta"))?;
            let theta = matrix_f64("basis.theta", &[theta], 1, nb)?;
            if b.on == "r" {
                // On the spike trains: rows of M have one entry per neuron.
                let neurons = m.first().map_or(0, Vec::len);
                let m = matrix_f64("basis.m", m, nb, neurons)?;
                Basis::TanhOnTrains {
                    dims: d,
                    neurons,
                    m,
                    theta,
                }
            } else {
                let m = matrix_f64("basis.m", m, nb, d)?;
                Basis::TanhRandom { dims: d, m, theta }
            }
        }
        other => {
            return Err(BuildError::new(
                "basis.kind",
                "one of linear, rbf_grid, monomials, tanh_random",
                format!("\"{other}\""),
            ))
        }
    };
    let u = bounded("u", matrix_f64("u", &raw.u, d, nb)?, nb)?;
    let offsets = match &raw.offsets {
        None => None,
        Some(p) if p.is_empty() => {
            return Err(BuildError::new(
                "offsets",
                "N ≥ 1 rows of N_b numbers",
                "no rows",
            ))
        }
        Some(p) => Some(bounded(
            "offsets",
            matrix_f64("offsets", p, p.len(), nb)?,
            nb,
        )?),
    };
    Ok(Weights {
        model: raw.model,
        seed: raw.seed,
        lambda_d: raw.lambda_d,
        basis,
        u,
        offsets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_basis_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = crate::seed::rng_stream(1, crate::seed::Stream::Learning);
        for basis in [
            Basis::Linear { dims: 2 },
            Basis::rbf_grid(2, -1.0, 1.0, 3, 1.0).unwrap(),
            Basis::monomials(2, 3).unwrap(),
            Basis::tanh_random(2, 5, (0.5, 2.0), (-1.0, 1.0), &mut rng).unwrap(),
        ] {
            let nb = basis.len();
            let w = Weights {
                model: "m".into(),
                seed: 3,
                lambda_d: 10.0,
                u: (0..2 * nb).map(|i| 0.1 + i as f64 / 7.0).collect(),
                basis,
                offsets: None,
            };
            let p = dir.path().join("w.json");
            write(&p, &w).unwrap();
            assert_eq!(read(&p).unwrap(), w);
        }
    }

    #[test]
    fn bad_files_name_the_field() {
        let p = Path::new("w.json");
        let e = parse("{\"format\": \"x\"}", p).unwrap_err().to_string();
        assert!(e.starts_with("w.json: field `format`"), "{e}");
        let e = parse("{\"format\": \"ebnsim-weights\", \"version\": 2}", p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`version`"), "{e}");
        let text = r#"{"format": "ebnsim-weights", "version": 1, "model": "m", "seed": 0,
            "dims": 1, "lambda_d": 10.0, "basis": {"kind": "linear", "on": "xhat", "size": 1},
            "u": [[1.0, 2.0]]}"#;
        let e = parse(text, p).unwrap_err().to_string();
        assert!(e.contains("`u[0]`"), "{e}");
    }
}
