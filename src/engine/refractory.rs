//! The refractory rule, once for every engine (see [`crate::model::refractory`]).
//!
//! A spike of `j` at `t` with `τ_j > 0` starts its period: `j` cannot fire until the period's
//! end, an event at `t + τ_j` processed before the deliveries of that instant (the period is
//! half-open). In [`RefractoryMode::Clamp`] its voltage is held at the post-reset value: every
//! engine calls [`Refractoriness::hold`] after each update of its voltages (the continuous
//! dynamics, a fast column), which puts the held values back — the inputs of the period are
//! thereby discarded. In [`RefractoryMode::Hold`] the voltage is left alone; at the end of the
//! period the engine applies the same-instant rule, so a neuron above threshold fires then.

use crate::model::network::Network;
use crate::model::refractory::{Refractory, RefractoryMode};

/// Which neurons are in their refractory period, until when, and the held voltages of the
/// clamped ones.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub(crate) struct Refractoriness {
    rule: Option<Refractory>,
    in_period: Vec<bool>,
    /// The neurons in their period now (few: those that fired within τ).
    active: Vec<Period>,
}

/// One neuron's current period.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
struct Period {
    neuron: u32,
    end: f64,
    /// The voltage it is held at (clamp), or `None` (hold).
    held: Option<f64>,
}

impl Refractoriness {
    /// No neuron in its period yet.
    pub(crate) fn new(net: &Network) -> Refractoriness {
        Refractoriness {
            rule: net.refractory().cloned(),
            in_period: vec![false; net.neurons()],
            active: Vec::new(),
        }
    }

    /// Whether neuron `i` is in its period (it cannot fire).
    #[inline]
    pub(crate) fn blocks(&self, i: usize) -> bool {
        self.in_period[i]
    }

    /// The voltage neuron `i` is held at now (clamped in its period), if any.
    #[inline]
    pub(crate) fn held(&self, i: usize) -> Option<f64> {
        if !self.in_period[i] {
            return None;
        }
        self.active
            .iter()
            .find(|p| p.neuron as usize == i)
            .and_then(|p| p.held)
    }

    /// Whether neuron `i`'s voltage is held now.
    pub(crate) fn clamps(&self, i: usize) -> bool {
        self.in_period[i]
            && self
                .rule
                .as_ref()
                .is_some_and(|r| r.mode() == RefractoryMode::Clamp)
    }

    /// `j` fired at `t` and its voltage after the reset is `v`: starts its period and returns
    /// when it ends (`None` without a period).
    pub(crate) fn start(&mut self, j: usize, t: f64, v: f64) -> Option<f64> {
        let rule = self.rule.as_ref()?;
        let tau = rule.period(j);
        if tau <= 0.0 {
            return None;
        }
        let clamp = rule.mode() == RefractoryMode::Clamp;
        self.end(j);
        self.in_period[j] = true;
        let end = crate::engine::after(t, tau);
        self.active.push(Period {
            neuron: j as u32,
            end,
            held: clamp.then_some(v),
        });
        Some(end)
    }

    /// `j`'s period ends now (it may fire again; a clamped voltage resumes from its held value).
    pub(crate) fn end(&mut self, j: usize) {
        if self.in_period[j] {
            self.in_period[j] = false;
            self.active.retain(|p| p.neuron as usize != j);
        }
    }

    /// Ends every period whose end is at or before `t` (for a clock-driven engine, which has no
    /// event at the exact end); whether any ended.
    pub(crate) fn end_due(&mut self, t: f64) -> bool {
        let before = self.active.len();
        let in_period = &mut self.in_period;
        self.active.retain(|p| {
            let due = p.end <= t;
            if due {
                in_period[p.neuron as usize] = false;
            }
            !due
        });
        self.active.len() != before
    }

    /// Puts the held voltages back into `v` (indexed by neuron), after any update.
    #[inline]
    pub(crate) fn hold(&self, v: &mut [f64]) {
        for p in &self.active {
            if let Some(h) = p.held {
                v[p.neuron as usize] = h;
            }
        }
    }

    /// Ends every period at once (the state was replaced, e.g. by placing the readout).
    pub(crate) fn clear(&mut self) {
        self.in_period.fill(false);
        self.active.clear();
    }
}
