//! The Dormand–Prince 5(4) coefficients (stages, embedded error, dense output) and the
//! step-size controller's constants: numbers only, kept apart from the code that uses them.

// Dormand–Prince 5(4) tableau.
pub(super) const C2: f64 = 1.0 / 5.0;
pub(super) const C3: f64 = 3.0 / 10.0;
pub(super) const C4: f64 = 4.0 / 5.0;
pub(super) const C5: f64 = 8.0 / 9.0;
pub(super) const A21: f64 = 1.0 / 5.0;
pub(super) const A31: f64 = 3.0 / 40.0;
pub(super) const A32: f64 = 9.0 / 40.0;
pub(super) const A41: f64 = 44.0 / 45.0;
pub(super) const A42: f64 = -56.0 / 15.0;
pub(super) const A43: f64 = 32.0 / 9.0;
pub(super) const A51: f64 = 19372.0 / 6561.0;
pub(super) const A52: f64 = -25360.0 / 2187.0;
pub(super) const A53: f64 = 64448.0 / 6561.0;
pub(super) const A54: f64 = -212.0 / 729.0;
pub(super) const A61: f64 = 9017.0 / 3168.0;
pub(super) const A62: f64 = -355.0 / 33.0;
pub(super) const A63: f64 = 46732.0 / 5247.0;
pub(super) const A64: f64 = 49.0 / 176.0;
pub(super) const A65: f64 = -5103.0 / 18656.0;
pub(super) const A71: f64 = 35.0 / 384.0;
pub(super) const A73: f64 = 500.0 / 1113.0;
pub(super) const A74: f64 = 125.0 / 192.0;
pub(super) const A75: f64 = -2187.0 / 6784.0;
pub(super) const A76: f64 = 11.0 / 84.0;
// Error estimate: 5th-order minus embedded 4th-order weights.
pub(super) const E1: f64 = 71.0 / 57600.0;
pub(super) const E3: f64 = -71.0 / 16695.0;
pub(super) const E4: f64 = 71.0 / 1920.0;
pub(super) const E5: f64 = -17253.0 / 339200.0;
pub(super) const E6: f64 = 22.0 / 525.0;
pub(super) const E7: f64 = -1.0 / 40.0;
// Dense output (Hairer, Nørsett & Wanner, DOPRI5 / CONTD5).
pub(super) const D1: f64 = -12715105075.0 / 11282082432.0;
pub(super) const D3: f64 = 87487479700.0 / 32700410799.0;
pub(super) const D4: f64 = -10690763975.0 / 1880347072.0;
pub(super) const D5: f64 = 701980252875.0 / 199316789632.0;
pub(super) const D6: f64 = -1453857185.0 / 822651844.0;
pub(super) const D7: f64 = 69997945.0 / 29380423.0;
// Step-size controller (Hairer's DOPRI5 defaults).
pub(super) const SAFE: f64 = 0.9;
pub(super) const BETA: f64 = 0.04;
pub(super) const EXPO1: f64 = 0.2 - BETA * 0.75;
pub(super) const FAC_MIN: f64 = 0.2; // h_new ≥ 0.2 h
pub(super) const FAC_MAX: f64 = 10.0; // h_new ≤ 10 h before the safety factor (≤ 5 h after the 1/fac bounds)
