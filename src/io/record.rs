//! Run outputs: `spikes.csv`, `readout.csv`, `network.json` and `summary.json` (the contract
//! in docs/model-format.md, "Running"), each written atomically; `RUN_OUTPUTS`, the one list
//! of every file ebnsim writes into a run directory, and `remove_stale_outputs`, which keeps
//! a directory from mixing two runs.
//!
//! Why: these files are what users, scripts and the validation against other simulators read,
//! and "same model and seed → byte-identical `spikes.csv`" is a promise. So:
//!
//! - floats are printed with Rust's `{}` formatting of `f64`, the shortest decimal that reads
//!   back to the identical `f64` (never in exponent notation: tiny or huge values print as long
//!   plain decimals), which is deterministic and lossless;
//! - every file is written to a temporary file in the same directory, flushed and synced, then
//!   renamed over the target. A reader sees either the old file or the complete new one, and a
//!   failed write leaves nothing partial behind (the temporary file is removed). Errors are
//!   [`OutputError`]s naming the file that could not be written.

use crate::analysis::metrics;
use crate::engine::counters::Counters;
use crate::engine::Spike;
use crate::error::OutputError;
use crate::io::decimal;
use crate::io::network_file::{NetworkFile, NETWORK_JSON};
use crate::io::state_csv::{write_state_at_spikes_csv, write_state_csv};
use crate::io::weights_file::WEIGHTS_JSON;
use crate::learning::protocol::LEARNING_CURVE_CSV;
use crate::model::network::Network;
use crate::monitor::StateRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// File name of the spike list inside a run directory.
pub const SPIKES_CSV: &str = "spikes.csv";
/// File name of the sampled readout inside a run directory.
pub const READOUT_CSV: &str = "readout.csv";
/// File name of the run summary inside a run directory.
pub const SUMMARY_JSON: &str = "summary.json";
/// File name of the state monitor's samples inside a run directory.
pub(crate) const STATE_CSV: &str = "state.csv";
/// File name of the state monitor's samples at spikes (`at_spikes`) inside a run directory.
pub(crate) const STATE_AT_SPIKES_CSV: &str = "state_at_spikes.csv";

/// Every file ebnsim writes into a run directory: [`SPIKES_CSV`], [`READOUT_CSV`],
/// [`SUMMARY_JSON`], [`NETWORK_JSON`], [`WEIGHTS_JSON`], [`LEARNING_CURVE_CSV`] and
/// [`STATE_CSV`], [`STATE_AT_SPIKES_CSV`]. A run writes some of them and removes the others
/// ([`remove_stale_outputs`]), so a directory always holds the files of one run. Figures
/// (`ebnsim plot`, in `figures/` by default) and any other file are left alone.
pub(crate) const RUN_OUTPUTS: [&str; 8] = [
    SPIKES_CSV,
    READOUT_CSV,
    SUMMARY_JSON,
    NETWORK_JSON,
    WEIGHTS_JSON,
    LEARNING_CURVE_CSV,
    STATE_CSV,
    STATE_AT_SPIKES_CSV,
];

/// Removes from `dir` every file of [`RUN_OUTPUTS`] not named in `keep` (the files the current
/// run writes): the leftovers of an earlier, different run (a plain `run` into a directory used
/// by `learn` would otherwise leave its `weights.json` and `learning_curve.csv`, which
/// `ebnsim plot` would draw next to the new run). Absent files are fine; an entry of that name
/// that is a directory is left alone; a file that cannot be removed is an error naming it.
pub(crate) fn remove_stale_outputs(dir: &Path, keep: &[&str]) -> Result<(), OutputError> {
    for name in RUN_OUTPUTS.iter().filter(|n| !keep.contains(n)) {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if !m.is_dir() => fs::remove_file(&path).map_err(|e| output_error(&path, e))?,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(output_error(&path, e)),
        }
    }
    Ok(())
}

/// Distinguishes temporary files of concurrent writes within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) fn output_error(path: &Path, source: io::Error) -> OutputError {
    OutputError {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `path` atomically: `write` fills a temporary file in the same directory, which is
/// flushed, synced and renamed over `path`. On any error the temporary file is removed, an
/// existing `path` is left untouched, and the error names `path`. Every output file of the
/// crate goes through it.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), OutputError> {
    let err = |e| output_error(path, e);
    let name = path.file_name().ok_or_else(|| {
        err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the output path has no file name",
        ))
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (tmp_path, file) = create_temp(dir, &name.to_string_lossy()).map_err(err)?;
    let result = (|| {
        let mut w = BufWriter::new(&file);
        write(&mut w)?;
        w.flush()?;
        drop(w);
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp_path, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp_path);
        return Err(err(e));
    }
    // Make the rename itself durable where the platform allows it (best effort: some file
    // systems cannot sync a directory, and the data is already complete under its final name).
    sync_dir(dir);
    Ok(())
}

/// Makes renames in `dir` durable where the platform allows it (best effort).
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Creates a new, empty temporary file `.NAME.PID.N.tmp` in `dir`.
pub(crate) fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            // A leftover of an earlier process with the same id: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Writes `spikes.csv`: header `time,neuron`, then one row per spike in the given (firing)
/// order; `time` in seconds in shortest round-trip form, `neuron` 0-based.
pub(crate) fn write_spikes_csv(path: &Path, spikes: &[Spike]) -> Result<(), OutputError> {
    write_atomic(path, |w| {
        w.write_all(SPIKES_HEADER)?;
        spike_rows(w, spikes)
    })
}

/// The header line of [`SPIKES_CSV`].
pub(crate) const SPIKES_HEADER: &[u8] = b"time,neuron\n";

/// The rows of [`SPIKES_CSV`] for `spikes`, in the given order.
pub(crate) fn spike_rows(w: &mut impl Write, spikes: &[Spike]) -> io::Result<()> {
    // The rows as `writeln!(w, "{},{}", time, neuron)` writes them (io::decimal).
    let mut rows = decimal::Rows::new(w);
    for s in spikes {
        rows.f64(s.time.secs());
        rows.u64(u64::from(s.neuron));
        rows.end()?;
    }
    rows.finish()
}

/// The readout `x̂(t)` (and the target `x(t)`, if there is one) sampled at a list of times.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Readout {
    /// Number of components d.
    pub dims: usize,
    /// Sample times, s.
    pub times: Vec<f64>,
    /// `x̂`, row-major samples × d: sample `i` is `xhat[i * d..(i + 1) * d]`.
    pub xhat: Vec<f64>,
    /// The target `x`, same layout as `xhat`; `None` when the run has no target.
    pub x: Option<Vec<f64>>,
}

impl Readout {
    /// An empty readout of `dims` components, recording the target too when `with_target`.
    pub fn new(dims: usize, with_target: bool) -> Readout {
        Readout {
            dims,
            times: Vec::new(),
            xhat: Vec::new(),
            x: with_target.then(Vec::new),
        }
    }

    /// Appends one sample: time `t`, readout `xhat` and target `x`.
    ///
    /// # Panics
    /// When `xhat` or `x` does not have `dims` components, or `x` is given to a readout without
    /// target (or missing from one with a target): both are programming errors.
    pub fn push(&mut self, t: f64, xhat: &[f64], x: Option<&[f64]>) {
        assert_eq!(
            xhat.len(),
            self.dims,
            "Readout::push: xhat must have dims components"
        );
        match (&mut self.x, x) {
            (Some(store), Some(x)) => {
                assert_eq!(
                    x.len(),
                    self.dims,
                    "Readout::push: x must have dims components"
                );
                store.extend_from_slice(x);
            }
            (None, None) => {}
            (Some(_), None) => panic!("Readout::push: this readout records a target; x missing"),
            (None, Some(_)) => panic!("Readout::push: this readout has no target; x given"),
        }
        self.times.push(t);
        self.xhat.extend_from_slice(xhat);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// The samples in order: time, `x̂` and the target `x` (empty without one) — the rows of
    /// `readout.csv`.
    pub(crate) fn rows(&self) -> impl Iterator<Item = (f64, &[f64], &[f64])> + '_ {
        let d = self.dims;
        self.times.iter().enumerate().map(move |(i, &t)| {
            let row = i * d..(i + 1) * d;
            let x = self.x.as_ref().map_or(&[][..], |x| &x[row.clone()]);
            (t, &self.xhat[row], x)
        })
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Drops every sample, keeping the memory for the next ones.
    pub(crate) fn clear(&mut self) {
        self.times.clear();
        self.xhat.clear();
        if let Some(x) = &mut self.x {
            x.clear();
        }
    }

    /// [`metrics::rmse`] of `x̂` against `x` over all samples and dimensions; `None` without a
    /// target or without samples (or when it is not finite).
    pub fn rmse(&self) -> Option<f64> {
        let x = self.x.as_ref()?;
        (!self.is_empty())
            .then(|| metrics::rmse(&self.xhat, x))
            .filter(|v| v.is_finite())
    }

    /// [`metrics::nrmse`] of `x̂` against `x`; `None` without a target or without samples (or
    /// when it is not finite: what `summary.json` writes as `null` and the CLI as `n/a`).
    pub fn nrmse(&self) -> Option<f64> {
        let x = self.x.as_ref()?;
        (!self.is_empty() && self.dims > 0)
            .then(|| metrics::nrmse(&self.xhat, x, self.dims))
            .filter(|v| v.is_finite())
    }

    /// Whether the vectors have the lengths `dims` and `times` imply.
    fn is_consistent(&self) -> bool {
        let n = self.times.len() * self.dims;
        self.xhat.len() == n && self.x.as_ref().is_none_or(|x| x.len() == n)
    }
}

/// Writes `readout.csv`: header `time,xhat0,...,xhat{d-1}` followed by `,x0,...,x{d-1}` when the
/// readout has a target; one row per sample, floats in shortest round-trip form.
///
/// A readout whose vectors do not match `times.len() × dims` is refused (an `InvalidInput`
/// error naming `path`, nothing written).
pub(crate) fn write_readout_csv(path: &Path, readout: &Readout) -> Result<(), OutputError> {
    if !readout.is_consistent() {
        return Err(output_error(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "readout vectors do not have samples × dims entries",
            ),
        ));
    }
    write_atomic(path, |w| {
        readout_header(w, readout.dims, readout.x.is_some())?;
        readout_rows(w, readout)
    })
}

/// The header line of [`READOUT_CSV`] for `d` components, with the target's when `with_target`.
pub(crate) fn readout_header(w: &mut impl Write, d: usize, with_target: bool) -> io::Result<()> {
    w.write_all(b"time")?;
    for j in 0..d {
        write!(w, ",xhat{j}")?;
    }
    if with_target {
        for j in 0..d {
            write!(w, ",x{j}")?;
        }
    }
    w.write_all(b"\n")
}

/// The rows of [`READOUT_CSV`] for the samples of `readout` (consistent vectors).
pub(crate) fn readout_rows(w: &mut impl Write, readout: &Readout) -> io::Result<()> {
    // The rows as `write!(w, "{t}")`, `write!(w, ",{v}")` write them (io::decimal).
    let mut rows = decimal::Rows::new(w);
    for (t, xhat, target) in readout.rows() {
        rows.f64(t);
        for &v in xhat.iter().chain(target) {
            rows.f64(v);
        }
        rows.end()?;
    }
    rows.finish()
}

/// Writes `value` as pretty-printed JSON with a trailing newline. Non-finite floats become
/// `null` (JSON has no NaN or infinity).
pub(crate) fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), OutputError> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value)?;
        w.write_all(b"\n")
    })
}

/// The contents of `summary.json`. Field names are part of the output contract.
///
/// `Summary::default()` fills in the crate version and leaves everything else empty or zero;
/// fill the rest with struct-update syntax.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Version of ebnsim that produced the run (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The model's `name`.
    pub model: String,
    /// The engine: `exact` or `dense`.
    pub engine: String,
    /// The model's seed.
    pub seed: u64,
    /// Number of neurons N.
    pub neurons: usize,
    /// Number of readout dimensions d.
    pub dims: usize,
    /// Simulated duration, s.
    pub duration: f64,
    /// Total number of spikes.
    pub spikes: u64,
    /// Mean firing rate per neuron, Hz ([`metrics::mean_rate_hz`]).
    pub mean_rate_hz: f64,
    /// Mean CV of the inter-spike intervals ([`metrics::isi_cv`]); `null` when no neuron fired
    /// often enough.
    pub cv_isi: Option<f64>,
    /// RMSE of the readout against the target over all samples and dimensions
    /// ([`metrics::rmse`]); `null` when the run has no target.
    pub readout_rmse: Option<f64>,
    /// Normalised RMSE ([`metrics::nrmse`]); `null` when the run has no target.
    pub readout_nrmse: Option<f64>,
    /// Wall-clock time of the simulation, s: the engine and its in-memory records, not the
    /// model's loading, the writing of output files or checkpoints (for `ebnsim learn`, its
    /// phases as a whole).
    pub wall_seconds: f64,
    /// What the engine did.
    pub counters: Counters,
    /// Further top-level entries (e.g. `phases`, `field_error` of a learning run), written after
    /// the fields above in key order.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            version: env!("CARGO_PKG_VERSION").to_string(),
            model: String::new(),
            engine: String::new(),
            seed: 0,
            neurons: 0,
            dims: 0,
            duration: 0.0,
            spikes: 0,
            mean_rate_hz: 0.0,
            cv_isi: None,
            readout_rmse: None,
            readout_nrmse: None,
            wall_seconds: 0.0,
            counters: Counters::default(),
            extra: BTreeMap::new(),
        }
    }
}

impl Summary {
    /// Adds `warnings` (a list of sentences) for what the counters show went wrong without
    /// stopping the run: dense steps whose spike rule deferred spikes. Absent when none.
    pub(crate) fn add_warnings(&mut self) {
        let c = &self.counters;
        let mut warnings = Vec::new();
        if c.saturated_steps > 0 {
            warnings.push(format!(
                "the dense stepper's spike rule deferred spikes in {} of {} steps (a neuron still \
                 above threshold after the step's spike): the grid changes the spike times; a \
                 smaller dt, spike_rule = \"greedy\" or the exact engine avoids it",
                c.saturated_steps, c.steps
            ));
        }
        if !warnings.is_empty() {
            self.extra.insert("warnings".into(), warnings.into());
        }
    }

    /// The sentences of `summary.json`'s `warnings` (what went wrong without stopping the run,
    /// e.g. spikes the dense stepper deferred), to show next to a run.
    pub fn warnings(&self) -> Vec<String> {
        self.extra
            .get("warnings")
            .and_then(|w| w.as_array())
            .map(|w| {
                w.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Writes a run directory: creates `dir` (and its parents) if needed, then writes
/// [`SPIKES_CSV`], [`READOUT_CSV`], `state.csv` (when a state monitor ran) and
/// `state_at_spikes.csv` (when it sampled at spikes), [`NETWORK_JSON`] (`network`, see
/// [`crate::io::network_file`]), removes the other `RUN_OUTPUTS` left by an earlier run
/// (`remove_stale_outputs`) and, last, writes [`SUMMARY_JSON`] — so a `summary.json` newer
/// than the other files marks a complete run of its own. Each file is written atomically; the
/// first error stops and is returned (files written before it stay).
pub fn write_run(
    dir: &Path,
    network: &Network,
    spikes: &[Spike],
    readout: &Readout,
    state: Option<&StateRecord>,
    summary: &Summary,
) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
    write_spikes_csv(&dir.join(SPIKES_CSV), spikes)?;
    write_readout_csv(&dir.join(READOUT_CSV), readout)?;
    let mut keep = vec![SPIKES_CSV, READOUT_CSV, NETWORK_JSON, SUMMARY_JSON];
    write_state(dir, state, &mut keep)?;
    NetworkFile::of(network).write(&dir.join(NETWORK_JSON))?;
    remove_stale_outputs(dir, &keep)?;
    write_json(&dir.join(SUMMARY_JSON), summary)
}

/// Writes [`STATE_CSV`] and, when it sampled at spikes, [`STATE_AT_SPIKES_CSV`] of a state
/// monitor's record into `dir`, adding the names written to `keep`.
pub(crate) fn write_state(
    dir: &Path,
    state: Option<&StateRecord>,
    keep: &mut Vec<&'static str>,
) -> Result<(), OutputError> {
    if let Some(state) = state {
        write_state_csv(&dir.join(STATE_CSV), state)?;
        keep.push(STATE_CSV);
        if let Some(at) = &state.at_spikes {
            write_state_at_spikes_csv(&dir.join(STATE_AT_SPIKES_CSV), &state.columns, at)?;
            keep.push(STATE_AT_SPIKES_CSV);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    const AWKWARD: [f64; 8] = [
        0.1 + 0.2,
        1e-7,
        5e-324,
        123456.789e-3,
        0.0,
        1.0 / 3.0,
        2.5e-16,
        987_654_321.123_456_8,
    ];

    fn temp_files(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn spikes_round_trip_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spikes.csv");
        let spikes: Vec<Spike> = AWKWARD
            .iter()
            .enumerate()
            .map(|(i, &t)| Spike {
                time: Time::from_secs(t),
                neuron: (7 * i % 5) as u32,
            })
            .collect();
        write_spikes_csv(&path, &spikes).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("time,neuron"));
        let back: Vec<Spike> = lines
            .map(|l| {
                let (t, n) = l.split_once(',').unwrap();
                Spike {
                    time: Time::from_secs(t.parse().unwrap()),
                    neuron: n.parse().unwrap(),
                }
            })
            .collect();
        assert_eq!(back.len(), spikes.len());
        for (a, b) in spikes.iter().zip(&back) {
            assert_eq!(a.time.secs().to_bits(), b.time.secs().to_bits());
            assert_eq!(a.neuron, b.neuron);
        }
        assert!(text.ends_with('\n'));
        assert!(text.contains("\n0.30000000000000004,"));
        assert!(text.contains("\n0.0000001,"));
        assert!(text.contains("\n123.456789,"));
        assert!(temp_files(dir.path()).is_empty());
        // Empty list: header only.
        write_spikes_csv(&path, &[]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "time,neuron\n");
    }

    #[test]
    fn readout_headers_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("readout.csv");
        let mut r = Readout::new(2, true);
        for (i, &v) in AWKWARD.iter().enumerate() {
            let t = i as f64 * 0.1;
            r.push(t, &[v, -v], Some(&[v * 3.0, -0.0]));
        }
        assert_eq!(r.len(), AWKWARD.len());
        write_readout_csv(&path, &r).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("time,xhat0,xhat1,x0,x1"));
        let rows: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').map(|f| f.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows.len(), r.len());
        for (i, row) in rows.iter().enumerate() {
            let expect = [
                r.times[i],
                r.xhat[2 * i],
                r.xhat[2 * i + 1],
                r.x.as_ref().unwrap()[2 * i],
                r.x.as_ref().unwrap()[2 * i + 1],
            ];
            let bits: Vec<u64> = row.iter().map(|v| v.to_bits()).collect();
            let want: Vec<u64> = expect.iter().map(|v| v.to_bits()).collect();
            assert_eq!(bits, want, "row {i}");
        }

        let mut no_target = Readout::new(3, false);
        no_target.push(0.5, &[1.0, 2.0, 3.0], None);
        write_readout_csv(&path, &no_target).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "time,xhat0,xhat1,xhat2\n0.5,1,2,3\n"
        );
        assert_eq!(no_target.rmse(), None);

        let bad = Readout {
            dims: 2,
            times: vec![0.0],
            xhat: vec![1.0],
            x: None,
        };
        let e = write_readout_csv(&path, &bad).unwrap_err();
        assert_eq!(e.path, path);
        assert_eq!(e.source.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn readout_metrics() {
        let mut r = Readout::new(1, true);
        assert_eq!(r.rmse(), None);
        r.push(0.0, &[1.0], Some(&[0.0]));
        r.push(1.0, &[1.0], Some(&[2.0]));
        assert_eq!(r.rmse(), Some(1.0));
        assert_eq!(r.nrmse(), Some(1.0));
    }

    #[test]
    #[should_panic(expected = "no target")]
    fn readout_push_rejects_unexpected_target() {
        Readout::new(1, false).push(0.0, &[0.0], Some(&[0.0]));
    }

    #[test]
    fn summary_json_has_the_contract_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let mut s = Summary {
            model: "m".into(),
            engine: "exact".into(),
            neurons: 40,
            dims: 2,
            duration: 1.0,
            spikes: 400,
            mean_rate_hz: 10.0,
            wall_seconds: 0.25,
            seed: 7,
            ..Summary::default()
        };
        s.extra
            .insert("field_error".into(), serde_json::json!(0.125));
        write_json(&path, &s).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with("}\n") && text.contains("\n  \"engine\": \"exact\""),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in [
            "engine",
            "neurons",
            "dims",
            "duration",
            "spikes",
            "mean_rate_hz",
            "readout_rmse",
            "readout_nrmse",
            "wall_seconds",
            "version",
            "model",
            "seed",
            "counters",
            "cv_isi",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        assert!(v["readout_rmse"].is_null() && v["cv_isi"].is_null());
        assert_eq!(v["spikes"], 400);
        assert_eq!(v["counters"]["spikes"], 0);
        assert_eq!(v["field_error"], 0.125);
    }

    #[test]
    fn failed_writes_name_the_path_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // Parent is a file.
        let blocker = dir.path().join("blocker");
        fs::write(&blocker, "x").unwrap();
        let path = blocker.join("spikes.csv");
        let e = write_spikes_csv(&path, &[]).unwrap_err();
        assert_eq!(e.path, path);
        assert!(e.to_string().contains("spikes.csv"), "{e}");
        assert!(temp_files(dir.path()).is_empty());
        // Target is a directory: the rename fails after a complete temporary file was written.
        let target = dir.path().join("taken");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "keep").unwrap();
        let e = write_json(&target, &[1, 2, 3]).unwrap_err();
        assert_eq!(e.path, target);
        assert!(temp_files(dir.path()).is_empty());
        assert_eq!(fs::read_to_string(target.join("inside")).unwrap(), "keep");
        // A writer that fails half-way: the old file survives whole, no temporary remains.
        let file = dir.path().join("old.csv");
        fs::write(&file, "old contents\n").unwrap();
        let e = write_atomic(&file, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(e.path, file);
        assert_eq!(fs::read_to_string(&file).unwrap(), "old contents\n");
        assert!(temp_files(dir.path()).is_empty());
    }

    #[test]
    fn existing_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spikes.csv");
        let many: Vec<Spike> = (0..1000)
            .map(|i| Spike {
                time: Time::from_secs(i as f64),
                neuron: i,
            })
            .collect();
        write_spikes_csv(&path, &many).unwrap();
        let one = [Spike {
            time: Time::from_secs(0.5),
            neuron: 3,
        }];
        write_spikes_csv(&path, &one).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "time,neuron\n0.5,3\n");
        assert!(temp_files(dir.path()).is_empty());
    }

    #[test]
    fn write_run_creates_the_directory_and_its_files_and_removes_stale_ones() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a").join("b");
        let net = crate::model::network::NetworkBuilder::new(vec![vec![0.5, -0.5]])
            .build()
            .unwrap();
        // Leftovers of an earlier learning run, and files that are not ebnsim's.
        fs::create_dir_all(out.join("figures")).unwrap();
        for name in [WEIGHTS_JSON, LEARNING_CURVE_CSV, STATE_CSV, "notes.txt"] {
            fs::write(out.join(name), "old").unwrap();
        }
        let mut r = Readout::new(1, false);
        r.push(0.0, &[0.25], None);
        let spikes = [Spike {
            time: Time::from_secs(0.125),
            neuron: 1,
        }];
        write_run(&out, &net, &spikes, &r, None, &Summary::default()).unwrap();
        assert_eq!(
            fs::read_to_string(out.join(SPIKES_CSV)).unwrap(),
            "time,neuron\n0.125,1\n"
        );
        assert_eq!(
            fs::read_to_string(out.join(READOUT_CSV)).unwrap(),
            "time,xhat0\n0,0.25\n"
        );
        assert!(out.join(SUMMARY_JSON).is_file());
        assert_eq!(
            NetworkFile::read(&out.join(NETWORK_JSON)).unwrap(),
            NetworkFile::of(&net)
        );
        for name in [WEIGHTS_JSON, LEARNING_CURVE_CSV, STATE_CSV] {
            assert!(!out.join(name).exists(), "{name} left");
        }
        assert!(out.join("notes.txt").is_file() && out.join("figures").is_dir());
        // A directory that cannot be created is named in the error.
        let blocker = dir.path().join("file");
        fs::write(&blocker, "").unwrap();
        let e = write_run(
            &blocker.join("run"),
            &net,
            &spikes,
            &r,
            None,
            &Summary::default(),
        )
        .unwrap_err();
        assert_eq!(e.path, blocker.join("run"));
    }
}
