//! Before the first phase: what a run fixes once (sizes, basis, target field, the sampling grid)
//! in [`Ctx`], and what the phases carry from one to the next (weights, offsets, random streams,
//! the spikes and samples recorded, or the files they go to) in [`State`]; [`setup()`] checks the
//! options and builds both.

use super::*;
use crate::monitor::StateMonitor;

/// What stays fixed over a run of the phases.
pub(super) struct Ctx<'a> {
    pub(super) model: &'a LearningModel,
    pub(super) opts: &'a PhaseOptions,
    pub(super) d: usize,
    pub(super) n: usize,
    pub(super) lambda_d: f64,
    pub(super) basis: Basis,
    pub(super) nb: usize,
    /// The linear basis learns through the slow core, every other through a learned current.
    pub(super) linear: bool,
    pub(super) field: Box<dyn VectorField>,
    pub(super) total: f64,
    /// The readout sampling interval, s.
    pub(super) dt: f64,
    pub(super) report_every: f64,
}

/// What the phases carry from one to the next.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct State {
    pub(super) learner: Learner,
    pub(super) u: Vec<f64>,
    pub(super) offsets: Option<Vec<f64>>,
    pub(super) weight_rng: rand_chacha::ChaCha8Rng,
    pub(super) perturb: rand_chacha::ChaCha8Rng,
    pub(super) spikes: Vec<Spike>,
    pub(super) readout: Readout,
    #[serde(with = "super::checkpoint::reports")]
    pub(super) reports: Vec<PhaseReport>,
    pub(super) curve: Vec<CurvePoint>,
    pub(super) train_states: Vec<f64>,
    pub(super) teacher_end: Vec<f64>,
    pub(super) xhat: Vec<f64>,
    pub(super) x: Vec<f64>,
    /// The teacher's segment at the last readout sample (a look-up hint).
    pub(super) teacher_hint: usize,
    pub(super) next_sample: u64,
    pub(super) next_report: f64,
    pub(super) log: Vec<f64>,
    pub(super) core: Vec<f64>,
    pub(super) noisy: bool,
    /// The state monitor of `[record] state`, and how many spikes it has seen.
    pub(super) monitor: Option<StateMonitor>,
    pub(super) monitor_seen: usize,
    /// Where the records held start: what was written out before ([`super::records`]).
    pub(super) flushed: super::records::Mark,
    /// The first passes of the run's and the phase's statistics.
    pub(super) tally: super::records::Tally,
    /// The run's files, when the records are written out as they come (not in a checkpoint:
    /// a resumed run opens them again).
    #[serde(skip)]
    pub(super) out: Option<crate::io::run_writer::RunWriter>,
}

impl State {
    /// Shows the spikes since the last call to the state monitor, if any.
    pub(super) fn observe<E: Plastic>(&mut self, engine: &mut E) {
        if let Some(m) = &mut self.monitor {
            m.observe(engine, &self.spikes[self.monitor_seen..]);
        }
        self.monitor_seen = self.spikes.len();
    }
}

/// Checks the sample budget and the initial weights and offsets, and gives them to `engine`.
pub(super) fn setup<'a, E: Plastic + Clone>(
    engine: &mut E,
    model: &'a LearningModel,
    opts: &'a PhaseOptions,
) -> Result<(Ctx<'a>, State), RunError> {
    let d = model.network.dims();
    let n = model.network.neurons();
    let lambda_d = model.network.lambda_d();
    let basis = model.basis.clone();
    let nb = basis.len();
    let linear = matches!(basis, Basis::Linear { .. });
    let field = model.target.field()?;
    let total: f64 = model.phases.iter().map(|p| p.duration).sum();
    let dt = model.record.readout_dt;
    if (total / dt).floor() > MAX_READOUT_SAMPLES {
        return Err(BuildError::new(
            "record.readout_dt",
            format!("at most {MAX_READOUT_SAMPLES} samples over all phases"),
            format!("{dt} s over {total} s"),
        )
        .into());
    }
    let monitor = match &model.record.state {
        None => None,
        Some(spec) => {
            crate::monitor::check_spec(spec, n)?;
            let monitor = StateMonitor::new(spec.clone(), n, lambda_d);
            monitor.attach(engine)?;
            Some(monitor)
        }
    };
    let mut learner = Learner::new(basis.clone(), lambda_d);
    let u = match &opts.initial_weights {
        Some(w) if w.len() == d * nb && w.iter().all(|x| x.is_finite()) => w.clone(),
        Some(w) => {
            return Err(BuildError::new(
                "weights.u",
                format!("{d}×{nb} finite learned weights (the model's basis)"),
                format!("{} entries", w.len()),
            )
            .into())
        }
        None => vec![0.0; d * nb],
    };
    learner.set_weights(&u)?;
    if !linear {
        engine.set_learned_current(Some(LearnedCurrent::new(basis.clone(), u.clone())?))?;
    }
    let offsets = opts.initial_offsets.clone();
    if let Some(p) = &offsets {
        if p.len() != n * nb || p.iter().any(|x| !x.is_finite()) {
            return Err(BuildError::new(
                "weights.offsets",
                format!("{n}×{nb} finite offsets (network.neurons × the model's basis)"),
                format!("{} entries", p.len()),
            )
            .into());
        }
        set_offsets(engine, &basis, d, nb, p)?;
    }
    let weight_rng = rng_stream(model.seed(), Stream::WeightNoise);
    let ctx = Ctx {
        model,
        opts,
        d,
        n,
        lambda_d,
        basis,
        nb,
        linear,
        field,
        total,
        dt,
        report_every: (total / 1000.0).max(1e-9),
    };
    let state = State {
        learner,
        u,
        offsets,
        weight_rng,
        perturb: rng_stream(model.seed(), Stream::Perturbation),
        spikes: Vec::new(),
        readout: Readout::new(d, true),
        reports: Vec::with_capacity(model.phases.len()),
        curve: Vec::new(),
        train_states: Vec::new(),
        teacher_end: model.target.initial.clone(),
        xhat: vec![0.0; d],
        x: vec![0.0; d],
        teacher_hint: 0,
        next_sample: 0,
        next_report: 0.0,
        log: Vec::new(),
        core: vec![0.0; d * d],
        noisy: false,
        monitor,
        monitor_seen: 0,
        flushed: Default::default(),
        tally: super::records::Tally::new(n, d),
        out: None,
    };
    Ok((ctx, state))
}

/// Sets a fixed offset P of the synaptic matrix (W = DᵀU + P): the linear basis learns through
/// the slow core, so its offset rides on a learned current with U = 0.
pub(super) fn set_offsets<E: Plastic>(
    engine: &mut E,
    basis: &Basis,
    d: usize,
    nb: usize,
    p: &[f64],
) -> Result<(), BuildError> {
    if engine.learned_current().is_none() {
        let zero = vec![0.0; d * nb];
        engine.set_learned_current(Some(LearnedCurrent::new(basis.clone(), zero)?))?;
    }
    engine.set_learned_offsets(Some(p.to_vec()))
}
