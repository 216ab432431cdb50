//! What is simulated: the network ([`network`]: decoder, thresholds, weights, and the
//! [`refractory`] period), its inputs
//! ([`signal`]), the target systems ([`dynamics`], integrated by [`ode`], as a [`teacher`]) and
//! the basis of the learned currents ([`basis`]).
//!
//! Plain data and its closed forms; no engine or file format here.

pub mod basis;
pub mod dynamics;
pub mod network;
pub mod ode;
pub mod refractory;
pub mod signal;
pub mod teacher;
