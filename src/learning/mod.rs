//! Learning nonlinear dynamics with the local rule: the rule itself ([`rule`]: exact integrals of
//! the feedback current times the basis, applied at epochs) and the protocols built on it
//! ([`protocol`]: train, test and autonomous phases with their perturbations).

pub mod protocol;
pub mod rule;
