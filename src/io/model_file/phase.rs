//! `[[phase]]` of a learning model.

use super::*;

/// Where a phase's teacher starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PhaseStart {
    /// No `start` field (or `"continue"`): network and teacher carry on from where the previous
    /// phase left them (the first phase: teacher from `target.initial`, empty readout).
    #[default]
    Continue,
    /// `"teacher"`: the teacher restarts from `target.initial` and the network
    /// is placed there too (readout = `initial`, zero coding error; needs low-rank weights and a
    /// basis on the readout).
    Teacher,
    /// `"readout"`: the network carries on; its teacher restarts from the network's readout x̂
    /// (after an autonomous phase, whose network has drifted in phase from the teacher).
    Readout,
}

/// One `[[phase]]` of a learning model.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// `name` (default `phase<i>`).
    pub name: String,
    /// `duration`, s (> 0).
    pub duration: f64,
    /// `input`, the command `c(t)` in phase time (first knot at the phase start).
    pub input: Signal,
    /// Whether `input` is `kind = "zero"` (period and amplitude are measured only then).
    pub zero_input: bool,
    /// `feedback_gain` K, 1/s (default 0).
    pub feedback_gain: f64,
    /// `learning_rate` η (default 0: no learning).
    pub learning_rate: f64,
    /// `learning_rate_decay = { start, to }` as in [`crate::learning::rule::Schedule`].
    pub learning_rate_decay: Option<(f64, f64)>,
    /// `start`.
    pub start: PhaseStart,
    /// `kill_fraction` (default 0): fraction of all N neurons removed at the phase start.
    pub kill_fraction: f64,
    /// `kill_neurons` (default none): these neurons (indices) are removed at the phase start,
    /// after `kill_fraction`'s draw.
    pub kill_neurons: Vec<usize>,
    /// `epoch`, s (default `DEFAULT_EPOCH`).
    pub epoch: f64,
    /// `noise = { sigma, interval }`: voltage noise during the phase (none by default).
    pub noise: Option<PhaseNoise>,
    /// `kick`: added to the readout of the network and the teacher's state at the phase start
    /// (after `start`), d components.
    pub kick: Option<Vec<f64>>,
    /// `delay_spike = { after, delay }`: the first spike `after` seconds into the phase or later
    /// is held for `delay` seconds.
    pub delay_spike: Option<(f64, f64)>,
    /// `weight_noise = { sigma }`: σ of independent `N(0, σ²)` noise added to every learned slow
    /// synapse `W[i,b]` (N × N_b) at the phase start, as a fixed offset beyond the low-rank
    /// `Dᵀ U` ([`crate::model::basis::LearnedCurrent::set_offsets`]).
    pub weight_noise: Option<f64>,
    /// `basins = { per_dim, duration, range, tolerance }`: a basin test of the spiking network
    /// at the phase start.
    pub basins: Option<BasinTest>,
}

/// A basin test of the spiking network ([`Phase::basins`]): from every start of a grid, the
/// network (as it is at the phase start: weights, alive neurons) runs on its own — no input,
/// no feedback — and must end where the target's flow from the same start ends.
#[derive(Clone, Debug, PartialEq)]
pub struct BasinTest {
    /// Starts per dimension (cell centres of a regular grid over `range`), `per_dim^d` ≤
    /// `MAX_BASIN_STARTS`.
    pub per_dim: usize,
    /// How long each start runs, s.
    pub duration: f64,
    /// `[lo, hi]` per dimension of the grid; `None`: the box of the training states so far.
    pub range: Option<(f64, f64)>,
    /// Largest distance (max norm) between the network's and the target's end states for a
    /// start to count as correct (default `DEFAULT_BASIN_TOLERANCE`).
    pub tolerance: f64,
}

/// Most starts of a basin test.
pub(crate) const MAX_BASIN_STARTS: usize = 10_000;

/// Default `basins.tolerance`, state units.
pub(crate) const DEFAULT_BASIN_TOLERANCE: f64 = 0.15;

/// Voltage noise of a phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseNoise {
    /// Amplitude σ, V/√s (the voltage gains variance σ² per second, as with white noise).
    pub sigma: f64,
    /// Length of the constant pieces of the exact kernel's noise current, s (default
    /// `DEFAULT_NOISE_INTERVAL`; the dense stepper draws once per step).
    pub interval: f64,
}

/// Default `noise.interval` of a phase, s.
pub(crate) const DEFAULT_NOISE_INTERVAL: f64 = 1e-4;

impl Phase {
    /// A phase without input, feedback or learning, continuing from the previous one (every
    /// option at its default) — for building phases in code; change fields with struct-update
    /// syntax: `Phase { feedback_gain: 30.0, ..Phase::autonomous("resync", 1.0, d) }`.
    pub fn autonomous(name: impl Into<String>, duration: f64, dims: usize) -> Phase {
        Phase {
            name: name.into(),
            duration,
            input: Signal::zero(dims),
            zero_input: true,
            feedback_gain: 0.0,
            learning_rate: 0.0,
            learning_rate_decay: None,
            start: PhaseStart::Continue,
            kill_fraction: 0.0,
            kill_neurons: Vec::new(),
            epoch: DEFAULT_EPOCH,
            noise: None,
            kick: None,
            delay_spike: None,
            weight_noise: None,
            basins: None,
        }
    }

    /// Whether the phase learns (η > 0).
    pub fn learns(&self) -> bool {
        self.learning_rate > 0.0
    }
}

pub(super) fn build_phase<R: rand::Rng>(
    p: RawPhase,
    i: usize,
    d: usize,
    n: usize,
    rng: &mut R,
    budget: &mut f64,
) -> Result<Phase, BuildError> {
    let f = |name: &str| format!("phase[{i}].{name}");
    let duration = p.duration;
    if !(duration.is_finite() && duration > 0.0) {
        return Err(BuildError::new(
            f("duration"),
            "a finite positive time in seconds",
            format!("{duration}"),
        ));
    }
    let non_negative = |name: &str, x: f64, what: &str| {
        if x.is_finite() && x >= 0.0 {
            Ok(x)
        } else {
            Err(BuildError::new(
                f(name),
                format!("a finite non-negative {what}"),
                format!("{x}"),
            ))
        }
    };
    let feedback_gain = non_negative("feedback_gain", p.feedback_gain, "gain K in 1/s")?;
    let learning_rate = non_negative("learning_rate", p.learning_rate, "learning rate η")?;
    let learning_rate_decay = match p.learning_rate_decay {
        None => None,
        Some(RawDecay { start, to }) => {
            if !(start.is_finite() && (0.0..1.0).contains(&start)) {
                return Err(BuildError::new(
                    f("learning_rate_decay.start"),
                    "a fraction of the phase in [0, 1)",
                    format!("{start}"),
                ));
            }
            if !(to.is_finite() && to > 0.0 && to <= 1.0) {
                return Err(BuildError::new(
                    f("learning_rate_decay.to"),
                    "a final fraction of the learning rate in (0, 1]",
                    format!("{to}"),
                ));
            }
            Some((start, to))
        }
    };
    if let Some((k, &j)) = p.kill_neurons.iter().enumerate().find(|(_, &j)| j >= n) {
        return Err(BuildError::new(
            f(&format!("kill_neurons[{k}]")),
            format!("a neuron index below network.neurons = {n}"),
            format!("{j}"),
        ));
    }
    let kill_fraction = p.kill_fraction;
    if !(kill_fraction.is_finite() && (0.0..=1.0).contains(&kill_fraction)) {
        return Err(BuildError::new(
            f("kill_fraction"),
            "a fraction of the neurons in [0, 1]",
            format!("{kill_fraction}"),
        ));
    }
    let epoch = match p.epoch {
        None => DEFAULT_EPOCH,
        Some(e) if e.is_finite() && e > 0.0 && e <= duration => e,
        Some(e) => {
            return Err(BuildError::new(
                f("epoch"),
                "a finite positive time in seconds, at most the phase's duration",
                format!("{e}"),
            ))
        }
    };
    if learning_rate > 0.0 && duration / epoch > 1e9 {
        return Err(BuildError::new(
            f("epoch"),
            "at most 10^9 epochs per phase",
            format!("{} epochs", duration / epoch),
        ));
    }
    let start = match p.start.as_deref() {
        None | Some("continue") => PhaseStart::Continue,
        Some("teacher") => PhaseStart::Teacher,
        Some("readout") => PhaseStart::Readout,
        Some(other) => {
            return Err(BuildError::new(
                f("start"),
                "\"continue\", \"teacher\" or \"readout\"",
                format!("\"{other}\""),
            ))
        }
    };
    let (input, zero_input) = match p.input {
        None => (Signal::zero(d), true),
        Some(t) => (
            build_signal(&t, &format!("phase[{i}].input."), d, duration, rng, budget)?,
            t.get("kind").and_then(toml::Value::as_str) == Some("zero"),
        ),
    };
    let noise = match p.noise {
        None => None,
        Some(RawNoise { sigma, interval }) => {
            let sigma = non_negative(&f("noise.sigma"), sigma, "amplitude in V/√s")?;
            let interval = match interval {
                None => DEFAULT_NOISE_INTERVAL,
                Some(x) => positive(&f("noise.interval"), x, "time in seconds")?,
            };
            Some(PhaseNoise { sigma, interval })
        }
    };
    if let Some(k) = &p.kick {
        finite_vector(&f("kick"), k, d, "one per dimension, network.dims")?;
    }
    let delay_spike = match p.delay_spike {
        None => None,
        Some(RawDelaySpike { after, delay }) => {
            if !(after.is_finite() && (0.0..duration).contains(&after)) {
                return Err(BuildError::new(
                    f("delay_spike.after"),
                    "a time in seconds from the phase start, within the phase",
                    format!("{after}"),
                ));
            }
            Some((
                after,
                positive(&f("delay_spike.delay"), delay, "delay in seconds")?,
            ))
        }
    };
    let weight_noise = match p.weight_noise {
        None => None,
        Some(RawWeightNoise { sigma }) => {
            let sigma = non_negative(
                &f("weight_noise.sigma"),
                sigma,
                "standard deviation per synapse",
            )?;
            // Noise draws reach ~6σ: keep them under the learned weights' bound.
            let most = crate::model::basis::MAX_WEIGHT / 10.0;
            if sigma > most {
                return Err(BuildError::new(
                    f("weight_noise.sigma"),
                    format!(
                        "a standard deviation at most {most:e} (larger noise overflows the \
                         network's currents)"
                    ),
                    format!("{sigma}"),
                ));
            }
            Some(sigma)
        }
    };
    let basins = match p.basins {
        None => None,
        Some(b) => {
            let starts = (b.per_dim as f64).powi(d as i32);
            if b.per_dim == 0 || starts > MAX_BASIN_STARTS as f64 {
                return Err(BuildError::new(
                    f("basins.per_dim"),
                    format!("at least 1 start per dimension, at most {MAX_BASIN_STARTS} in all"),
                    format!("{} ({starts} starts)", b.per_dim),
                ));
            }
            let duration = positive(&f("basins.duration"), b.duration, "time in seconds")?;
            let range = match b.range {
                None => None,
                Some(r) => {
                    let (lo, hi) = pair(&f("basins.range"), &r, "the grid's box")?;
                    if lo == hi {
                        return Err(BuildError::new(
                            f("basins.range"),
                            "lo < hi",
                            format!("{r:?}"),
                        ));
                    }
                    Some((lo, hi))
                }
            };
            let tolerance = match b.tolerance {
                None => DEFAULT_BASIN_TOLERANCE,
                Some(x) => positive(&f("basins.tolerance"), x, "distance in state units")?,
            };
            Some(BasinTest {
                per_dim: b.per_dim,
                duration,
                range,
                tolerance,
            })
        }
    };
    Ok(Phase {
        name: p.name.unwrap_or_else(|| format!("phase{i}")),
        duration,
        input,
        zero_input,
        feedback_gain,
        learning_rate,
        learning_rate_decay,
        start,
        kill_fraction,
        kill_neurons: p.kill_neurons,
        epoch,
        noise,
        kick: p.kick,
        delay_spike,
        basins,
        weight_noise,
    })
}
