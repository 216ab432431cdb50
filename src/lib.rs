//! ebnsim
pub mod counters;
pub mod crossing;
pub mod dense;
pub mod engine;
pub mod error;
pub mod expo;
pub mod metrics;
pub mod model_file;
pub mod network;
pub mod queue;
pub mod record;
pub mod seed;
pub mod signal;
pub mod teacher;
pub mod time;
