//! What a run will cost, estimated before it starts: spikes (exact engine), steps (dense
//! stepper), samples — and a refusal of absurd runs unless forced.
//!
//! Why: a model file can ask for a run that never ends in practice — an unstable target
//! (`a = [[100.0]]`: the readout, and the spikes that make it, grow like e^{100 t}), a duration
//! of 10¹² s, a dense run of 10⁹ neurons × 10⁷ steps. Such a run is almost always a typo; it
//! should fail in milliseconds with a message, not hang until Ctrl-C. The estimate is coarse
//! (a factor of ~50 either way on the shipped models: E/I-balanced networks fire more than
//! their readout needs), so the limits are far above any run that finishes in a day, and
//! [`RunOptions::force`] (`ebnsim run --force`) runs an estimated-absurd model anyway.
//!
//! The spike estimate follows the target `x(t)` (the linear teacher of the readout), sampled at
//! 4000 times: an EBN's readout decays at λ_d and each spike moves it by about one
//! decoder norm |D|, so it takes about `(λ_d |x| + |ẋ|) / |D|` spikes per second to follow
//! `x`. A target that overflows (not finite) is an infinite estimate.

use super::{RunError, RunOptions};
use crate::engine::EngineKind;
use crate::error::{BuildError, Num};
use crate::io::model_file::Model;
use crate::model::teacher::LinearTeacher;

/// Target samples of the spike estimate.
pub(crate) const SAMPLES: usize = 4000;
/// Most spikes an exact run may be estimated to fire without [`RunOptions::force`].
pub const MAX_ESTIMATED_SPIKES: f64 = 1e10;
/// Most neuron updates (steps × N) a dense run may take without [`RunOptions::force`].
pub const MAX_DENSE_WORK: f64 = 1e13;

/// What a run is estimated to cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostEstimate {
    /// Spikes (exact engine; the target's estimate), `+∞` when the target overflows.
    pub spikes: f64,
    /// Dense-stepper steps (0 on the exact engine).
    pub steps: f64,
    /// Readout samples.
    pub samples: f64,
}

/// Estimates what running `model` under `opts` costs (module docs).
pub fn estimate(model: &Model, opts: &RunOptions) -> Result<CostEstimate, BuildError> {
    let duration = model.simulate.duration;
    let samples = (duration / model.record.readout_dt).floor() + 1.0;
    if opts.engine.unwrap_or(model.simulate.engine) == EngineKind::Dense {
        let dt = opts.dt.unwrap_or(model.simulate.dense.dt);
        return Ok(CostEstimate {
            spikes: 0.0,
            steps: (duration / dt).ceil(),
            samples,
        });
    }
    let teacher = LinearTeacher::new(&model.target.a, &model.target.initial, &model.input)?;
    let mut spikes = SpikeEstimate::new(&model.network, duration);
    // The times of `SpikeEstimate::time`, one matrix exponential per input segment.
    let h = spikes.step();
    teacher.uniform_samples(spikes.time(0.0, 0), h, SAMPLES, |x| spikes.add(x));
    Ok(CostEstimate {
        spikes: spikes.total(),
        steps: 0.0,
        samples,
    })
}

/// The spikes it takes to follow a target over `duration` seconds: shown the target at the
/// [`SAMPLES`] + 1 times [`SpikeEstimate::time`] gives, in order (module docs). The one rule
/// of `ebnsim run`'s estimate and of a learning phase's (its teacher).
#[derive(Clone, Debug)]
pub(crate) struct SpikeEstimate {
    lambda_d: f64,
    /// Mean decoder norm |D|.
    decoder: f64,
    h: f64,
    prev: Option<Vec<f64>>,
    spikes: f64,
}

impl SpikeEstimate {
    pub(crate) fn new(net: &crate::model::network::Network, duration: f64) -> SpikeEstimate {
        let n = net.neurons();
        let decoder = (0..n).map(|i| norm(net.decoder(i))).sum::<f64>() / n.max(1) as f64;
        SpikeEstimate {
            lambda_d: net.lambda_d(),
            decoder,
            h: duration / SAMPLES as f64,
            prev: None,
            spikes: 0.0,
        }
    }

    /// The time of sample `k` (0 ..= [`SAMPLES`]) of a target starting at `t0`.
    pub(crate) fn time(&self, t0: f64, k: usize) -> f64 {
        t0 + k as f64 * self.h
    }

    /// The spacing of the sample times: [`SpikeEstimate::time`] of `k` is `t0 + k · step`.
    pub(crate) fn step(&self) -> f64 {
        self.h
    }

    /// The target at the next sample time.
    pub(crate) fn add(&mut self, x: &[f64]) {
        if let Some(prev) = &mut self.prev {
            let step: f64 = x
                .iter()
                .zip(prev.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            self.spikes += (self.lambda_d * norm(x) * self.h + step.sqrt()) / self.decoder;
            prev.copy_from_slice(x);
        } else {
            self.prev = Some(x.to_vec());
        }
    }

    /// The estimate: `+∞` when the target overflowed (or without decoders).
    pub(crate) fn total(&self) -> f64 {
        if self.spikes.is_finite() && self.decoder > 0.0 {
            self.spikes
        } else {
            f64::INFINITY
        }
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The refusal of a run (or phase: `field` names its duration) estimated to fire `spikes`
/// spikes over `duration` seconds, more than [`MAX_ESTIMATED_SPIKES`].
pub(crate) fn too_many_spikes(field: &str, spikes: f64, duration: f64, what: &str) -> BuildError {
    let force = "pass --force (RunOptions::force, PhaseOptions::force; Python: force=True) to run it anyway";
    let unstable = if spikes.is_finite() {
        String::new()
    } else {
        format!(", the target overflows: is {what} unstable?")
    };
    BuildError::new(
        field,
        format!(
            "a run of at most {MAX_ESTIMATED_SPIKES:e} spikes (estimated from the target x(t) \
             the readout follows; {force})"
        ),
        format!(
            "about {spikes:.1e} spikes over {} s{unstable}",
            Num(duration)
        ),
    )
}

/// Refuses a run estimated to be absurd (more than [`MAX_ESTIMATED_SPIKES`] spikes, or
/// [`MAX_DENSE_WORK`] neuron updates), unless `opts.force`.
pub(crate) fn check(model: &Model, opts: &RunOptions) -> Result<CostEstimate, RunError> {
    let cost = estimate(model, opts)?;
    tracing::info!(?cost, "estimated cost");
    if opts.force {
        return Ok(cost);
    }
    let duration = model.simulate.duration;
    let force = "pass --force (RunOptions::force; Python: force=True) to run it anyway";
    if cost.spikes > MAX_ESTIMATED_SPIKES {
        let field = "simulate.duration";
        return Err(too_many_spikes(field, cost.spikes, duration, "target.a").into());
    }
    let work = cost.steps * model.network.neurons() as f64;
    if work > MAX_DENSE_WORK {
        return Err(BuildError::new(
            "simulate.duration",
            format!(
                "a dense run of at most {MAX_DENSE_WORK:e} neuron updates (steps × N; {force})"
            ),
            format!(
                "{:.1e} steps × {} neurons over {} s",
                cost.steps,
                model.network.neurons(),
                Num(duration)
            ),
        )
        .into());
    }
    Ok(cost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::simulation_for;
    use std::path::Path;

    #[test]
    fn estimates_of_shipped_models_are_near_their_spikes_and_force_overrides() {
        let load = |f: &str| crate::io::model_file::load(Path::new(f)).unwrap();
        // The oscillator fires 614 spikes (its golden summary.json); the estimate is 403.
        let osc = load("models/boerlin-oscillator.toml");
        let est = estimate(&osc, &RunOptions::default()).unwrap();
        assert!((200.0..1300.0).contains(&est.spikes), "{est:?}");
        assert_eq!(est.samples, 1001.0);
        for f in [
            "leaky-differentiator",
            "perfect-integrator",
            "rotation-3d",
            "smooth-random-2d",
        ] {
            let m = load(&format!("models/{f}.toml"));
            let e = estimate(&m, &RunOptions::default()).unwrap();
            assert!(e.spikes > 1.0 && e.spikes < 1e5, "{f}: {e:?}");
        }
        let mut unstable = osc.clone();
        unstable.target.a = vec![100.0, 0.0, 0.0, 100.0];
        let err = simulation_for(&unstable, &RunOptions::default()).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        let forced = RunOptions {
            force: true,
            ..RunOptions::default()
        };
        assert!(simulation_for(&unstable, &forced).is_ok());
    }
}
