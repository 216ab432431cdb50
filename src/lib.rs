//! ebnsim
pub mod crossing;
pub mod expo;
pub mod time;
