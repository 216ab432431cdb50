//! Ensembles: one model file run over seeds × values of some of its numeric fields — what
//! `ebnsim sweep` runs.
//!
//! A sweep spec (TOML, see `docs/sweep.md`) names a model file, the seeds and the varied fields:
//!
//! ```toml
//! model = "model.toml"            # relative to the spec file
//! seeds = [1, 2, 3, 4]            # or { from = 1, to = 100 }
//! [[vary]]
//! field = "network.mu"            # any numeric model field; phases by index: "phase.3.kill_fraction"
//! values = [1e-6, 1e-4]
//! ```
//!
//! Runs are the product seeds × values, the last field varying fastest, numbered from 0 in that
//! order ([`SweepSpec::run`]); each run is the model file with the fields set and drawn with its
//! seed, so it is reproducible alone with `ebnsim run MODEL --seed S`. [`Ensemble::new`] builds
//! every run's model before any runs, so a bad value fails up front naming the spec's field;
//! [`Ensemble::run`] runs them on a tokio runtime with K blocking workers and returns the
//! [`Row`]s in run order — the same rows for any K (wall time aside). A [`Shard`] `k/n` keeps
//! every n-th run from the k-th: n shards' rows concatenate (sorted by run) to the whole sweep.

use std::path::PathBuf;

mod run;
mod spec;

pub use run::*;
pub use spec::{RunSpec, SweepSpec, Vary};

/// Why a sweep could not be set up or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// A file (spec or model) could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The spec file is not TOML.
    #[error("{file}: {message}")]
    Syntax {
        /// The spec file.
        file: PathBuf,
        /// The TOML parser's message.
        message: String,
    },
    /// A key of the spec is missing, unknown or malformed, or a varied field cannot be set.
    #[error("{file}: field `{field}`: expected {expected}, got {got}")]
    Field {
        /// The spec file.
        file: PathBuf,
        /// The spec key, or the varied field's path.
        field: String,
        /// What a valid value looks like.
        expected: String,
        /// What was given.
        got: String,
    },
    /// The model file with a varied field's value (or a seed) is not a valid model.
    #[error("{spec}: {context}: {source}")]
    Model {
        /// The spec file.
        spec: PathBuf,
        /// Which run: the varied fields and values, the seed.
        context: String,
        /// The model parser's error (naming the model file and its field).
        source: Box<crate::error::ModelError>,
    },
    /// A run failed.
    #[error("{spec}: run {run} (seed {seed}): {source}")]
    Run {
        /// The spec file.
        spec: PathBuf,
        /// The run's number.
        run: usize,
        /// Its seed.
        seed: u64,
        /// Why it failed.
        source: Box<crate::run::RunError>,
    },
    /// An output could not be written.
    #[error(transparent)]
    Output(#[from] crate::error::OutputError),
    /// The worker runtime could not be started, or a worker panicked.
    #[error("sweep workers: {message}")]
    Workers {
        /// What went wrong.
        message: String,
    },
}

/// Every n-th run from the k-th (`k/n`, 0 ≤ k < n): how n machines split a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// k, 0-based.
    pub index: usize,
    /// n ≥ 1.
    pub count: usize,
}

impl Shard {
    /// The whole sweep (`0/1`).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether run `run` is in this shard.
    pub fn contains(&self, run: usize) -> bool {
        run % self.count == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// Parses `k/n` with 0 ≤ k < n.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("expected k/n with integers 0 ≤ k < n (e.g. 0/2), got `{s}`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k >= n {
            return Err(bad());
        }
        Ok(Shard { index: k, count: n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
