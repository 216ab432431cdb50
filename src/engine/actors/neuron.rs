//! A neuron as an actor: a small state machine that handles messages and predicts its own next
//! threshold crossing.
//!
//! The neuron keeps its state at the time of its last message (its own origin) and the
//! coefficients of its closed-form trajectory since then ([`Trajectory`]). It never looks at
//! other neurons: everything it knows arrives as a [`Message`].

use crate::closed_form::crossing::{first_crossing, CrossingStats};
use crate::closed_form::expo::{Membrane, Trajectory, MAX_DEGREE};
use crate::model::signal::taylor_shift;

/// What a neuron can be told.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Message {
    /// A presynaptic spike: the voltage drops by `fast` now, and the slow current (decaying at
    /// λ_d) grows by `slow`.
    Synaptic {
        /// Instantaneous voltage drop (`Ω_f[i][j]`; for the neuron's own spike, its reset).
        fast: f64,
        /// Added slow-current amplitude (`Ω_s[i][j]`).
        slow: f64,
    },
    /// The feed-forward drive becomes the polynomial `Σ_k coeffs[k] u^k` (u = time since now).
    Drive {
        /// Coefficients `D_iᵀ c_k`.
        coeffs: [f64; MAX_DEGREE + 1],
        /// Degree in use.
        degree: usize,
    },
    /// A clamping refractory period starts: the voltage is held at its present value, fast
    /// inputs are discarded, continuous currents have no effect (the slow current still
    /// evolves) until [`Message::Release`].
    Clamp,
    /// The refractory period ends: the voltage evolves again from where it is.
    Release,
}

/// One neuron's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Neuron {
    origin: f64,
    trajectory: Trajectory,
    threshold: f64,
    /// In a clamping refractory period: the voltage stays at `trajectory.v0`.
    clamped: bool,
}

impl Neuron {
    /// A neuron at voltage `v0` at t = 0, with no drive and no slow current.
    pub(crate) fn new(v0: f64, threshold: f64) -> Neuron {
        Neuron {
            origin: 0.0,
            trajectory: Trajectory {
                v0,
                ..Trajectory::default()
            },
            threshold,
            clamped: false,
        }
    }

    /// Brings the state forward to `t ≥` its origin (exactly, in closed form).
    pub(crate) fn advance(&mut self, m: &Membrane, t: f64) {
        let tau = t - self.origin;
        if tau == 0.0 {
            return;
        }
        let tr = &mut self.trajectory;
        let bv = m.values(tau, tr.degree);
        if !self.clamped {
            tr.v0 = tr.value(&bv);
        }
        tr.slow *= bv.decay;
        if tr.degree > 0 {
            tr.drive = taylor_shift(&tr.drive, tr.degree, tau);
        }
        self.origin = t;
    }

    /// Handles `msg` arriving at time `t`.
    pub(crate) fn handle(&mut self, m: &Membrane, t: f64, msg: Message) {
        self.advance(m, t);
        match msg {
            Message::Synaptic { fast, slow } => {
                if !self.clamped {
                    self.trajectory.v0 -= fast;
                }
                self.trajectory.slow += slow;
            }
            Message::Clamp => self.clamped = true,
            Message::Release => self.clamped = false,
            Message::Drive { coeffs, degree } => {
                self.trajectory.drive = coeffs;
                self.trajectory.degree = degree;
            }
        }
    }

    /// How far above threshold the neuron is at its origin (negative when below).
    pub(crate) fn overshoot(&self) -> f64 {
        self.trajectory.v0 - self.threshold
    }

    /// Voltage at `t ≥` origin.
    pub(crate) fn voltage_at(&self, m: &Membrane, t: f64) -> f64 {
        if self.clamped {
            return self.trajectory.v0;
        }
        self.trajectory
            .value(&m.values(t - self.origin, self.trajectory.degree))
    }

    /// The first crossing in `[from, horizon]` if nothing else happens (see [`first_crossing`]).
    pub(crate) fn next_crossing(
        &self,
        m: &Membrane,
        from: f64,
        horizon: f64,
        stats: &mut CrossingStats,
    ) -> Option<f64> {
        first_crossing(
            m,
            &self.trajectory,
            self.threshold,
            self.origin,
            from,
            horizon,
            stats,
        )
    }
}
