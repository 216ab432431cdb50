//! What a run means: spike statistics and readout errors ([`metrics`]), the E/I balance of the
//! input currents ([`balance`]) and the metrics of learned dynamics ([`learning_metrics`]).
//!
//! Pure functions of recorded spikes, readouts and fields; they never touch an engine's state.

pub mod balance;
pub mod learning_metrics;
pub mod metrics;
