//! The facade: one `Simulation` built from a model file or from code, run with
//! `run_until` / `run_for`, observed through monitors.

pub mod monitor;
