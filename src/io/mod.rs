//! Files in and out: model files ([`model_file`]), run outputs and their atomic writers
//! ([`record`], `state_csv`; `decimal` writes numbers as `{}` does, without `fmt`), learned
//! weights ([`weights_file`]), the network that ran ([`network_file`]), a run directory replaced
//! as a whole ([`output_dir`]), a run's files written while it runs ([`run_writer`], with a
//! binary copy of its samples for the statistics that read them back: `sample_copy`), reading
//! a run directory back ([`run_dir`]) and its figures (`figures`, with the `plot` feature).

pub(crate) mod decimal;
#[cfg(feature = "plot")]
pub mod figures;
pub mod model_file;
pub mod network_file;
pub mod output_dir;
pub mod record;
pub mod run_dir;
pub mod run_writer;
pub(crate) mod sample_copy;
pub(crate) mod state_csv;
pub mod weights_file;
