//! Closed forms between events: the exponential polynomials every voltage follows between two
//! events ([`expo`]) and the certified search for the first threshold crossing ([`crossing`]).
//!
//! This layer knows nothing of networks or engines; everything above it relies on its contract
//! (no crossing missed, each skipped piece proven crossing-free).

pub(crate) mod crossing;
pub(crate) mod expo;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
