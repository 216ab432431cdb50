//! Sweeps over seeds × parameter values: the library's `ensemble` (as `ebnsim sweep`), one row
//! per run.

use crate::{model_error, simulation_error, OutputError};
use ebnsim::ensemble::{Cell, Ensemble, EnsembleOptions, Shard, SweepError, SweepSpec};
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;
use std::path::PathBuf;

/// The columns of a sweep's table and its rows.
type Table = (Vec<String>, Vec<Vec<Py<PyAny>>>);

/// Runs the sweep that the spec text `spec` describes (the format of `ebnsim sweep`'s spec file;
/// `file` names it in messages and anchors a relative `model` path) on `threads` workers, with
/// the interpreter lock released. Returns the table's columns and its rows in run order (ints,
/// floats, `None` for absent values).
#[pyfunction]
#[pyo3(signature = (spec, file, threads=1))]
pub(crate) fn sweep(py: Python<'_>, spec: &str, file: PathBuf, threads: usize) -> PyResult<Table> {
    let fail = |e: SweepError| match e {
        SweepError::Run { .. } | SweepError::Workers { .. } => simulation_error(e),
        SweepError::Output(e) => OutputError::new_err(e.to_string()),
        other => model_error(other),
    };
    let spec = SweepSpec::parse(spec, &file).map_err(fail)?;
    let ensemble = Ensemble::new(spec, Shard::ALL).map_err(fail)?;
    let opts = EnsembleOptions {
        threads: threads.max(1),
        run_dirs: None,
    };
    let rows = py.detach(|| ensemble.run(&opts, |_| {})).map_err(fail)?;
    let table = rows
        .iter()
        .map(|r| {
            ensemble
                .cells(r)
                .into_iter()
                .map(|c| match c {
                    Cell::Int(v) => v.into_py_any(py),
                    Cell::Float(v) => v.into_py_any(py),
                    Cell::Empty => Ok(py.None()),
                })
                .collect::<PyResult<Vec<_>>>()
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok((ensemble.columns(), table))
}
