//! `ebnsim._ebnsim`: the compiled core of the Python package, a thin layer over the library's
//! facade ([`ebnsim::Simulation`]) and its model-file readers.
//!
//! Why thin: everything a study needs is decided by the library (the model, the engines, the
//! sampling rules, the messages of its errors); this module only converts — numpy arrays in and
//! out, errors to the exception classes of `ebnsim.errors` with the library's own messages —
//! and releases the interpreter lock while an engine runs. The pure-Python package `ebnsim`
//! wraps it with keyword arguments, dictionaries and the optional interchange formats.

mod build;
mod simulation;
mod sweep;

use pyo3::prelude::*;

// The exception classes are defined in Python (`ebnsim/errors.py`) so that each can derive from
// both `EbnsimError` and the matching built-in (`ValueError`, `RuntimeError`, `OSError`).
pyo3::import_exception!(ebnsim.errors, ModelError);
pyo3::import_exception!(ebnsim.errors, BuildError);
pyo3::import_exception!(ebnsim.errors, SimulationError);
pyo3::import_exception!(ebnsim.errors, OutputError);

/// A model file that cannot be read or is invalid: the message names the file and the field.
pub(crate) fn model_error(e: impl std::fmt::Display) -> PyErr {
    ModelError::new_err(e.to_string())
}

/// Parameters that cannot make a network, input or simulation: the message names the field.
pub(crate) fn build_error(e: impl std::fmt::Display) -> PyErr {
    BuildError::new_err(e.to_string())
}

/// A run that stopped (a same-instant cascade past its limit, a time in the past, …).
pub(crate) fn simulation_error(e: impl std::fmt::Display) -> PyErr {
    SimulationError::new_err(e.to_string())
}

/// The compiled module.
#[pymodule]
fn _ebnsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<build::PyNetwork>()?;
    m.add_class::<build::PyInput>()?;
    m.add_class::<simulation::PySimulation>()?;
    m.add_function(wrap_pyfunction!(simulation::is_learning_model, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::sweep, m)?)?;
    Ok(())
}
