//! Checkpoints of a run of the phases: where the phase loop stands (its locals), the engine
//! and everything the phases carry ([`State`]), so that a killed learning run continues to the
//! same spikes, weights and metrics, bit for bit.
//!
//! The phase reports are written in full here: their `summary.json` form leaves empty
//! metrics out, which a checkpoint's compact format cannot do (the mirror below is checked
//! field by field against [`PhaseReport`] by serde's `remote` derive).

use super::*;
use crate::checkpoint::{CheckpointError, RUN_CHECKPOINT};
use crate::error::OutputError;
use crate::run::CheckpointPlan;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Runs the phases on `engine` ([`run_phases_from`]) with the checkpoints `ck` asks for:
/// resumed from the one in its directory, and written there every `every` simulated seconds.
pub(super) fn run<E>(
    engine: &mut E,
    name: &str,
    (model, opts): (&LearningModel, &PhaseOptions),
    ck: Option<(&Path, &CheckpointPlan)>,
    progress: impl FnMut(LearnProgress) -> ControlFlow<()>,
) -> Result<LearnOutput, LearnError>
where
    E: Plastic + Clone + Serialize + DeserializeOwned,
{
    let Some((dir, plan)) = ck else {
        return run_phases_from(
            engine,
            name,
            (model, opts),
            progress,
            None,
            &mut |_, _, _| Ok(()),
        );
    };
    let path = dir.join(RUN_CHECKPOINT);
    let fail = |source| {
        LearnError::Run(RunError::Checkpoint {
            path: path.clone(),
            source,
        })
    };
    let mut every = plan.every;
    let resume = if plan.resume {
        let bytes = std::fs::read(&path).map_err(|source| {
            RunError::Output(OutputError {
                path: path.clone(),
                source,
            })
        })?;
        type Saved<E> = (String, Option<f64>, Position, E, State);
        let (fingerprint, saved_every, position, e, state): Saved<E> =
            crate::checkpoint::decode(&bytes).map_err(fail)?;
        if fingerprint != plan.fingerprint {
            return Err(fail(CheckpointError::OtherRun {
                expected: plan.fingerprint.clone(),
                found: fingerprint,
            }));
        }
        every = every.or(saved_every);
        Some((position, e, state))
    } else {
        None
    };
    let start = resume.as_ref().map_or(0.0, |(p, _, _)| p.within.t);
    let mut next = every.map_or(f64::INFINITY, |e| start + e);
    let mut hook = |e: &E, st: &State, position: &Position| -> Result<(), LearnError> {
        let t = position.within.t;
        if let Some(interval) = every.filter(|_| t >= next) {
            let bytes = crate::checkpoint::encode(&(&plan.fingerprint, every, position, e, st));
            crate::io::record::write_atomic(&path, |w| {
                use std::io::Write as _;
                w.write_all(&bytes)
            })
            .map_err(RunError::Output)?;
            tracing::debug!(t, bytes = bytes.len(), "checkpoint written");
            next = t + interval;
        }
        Ok(())
    };
    run_phases_from(engine, name, (model, opts), progress, resume, &mut hook)
}

/// Where the phase loop stands at a checkpoint: phase `pi` has started (its kills,
/// perturbations, weight noise and basin test are done) and has run to `t`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Position {
    pub(super) pi: usize,
    pub(super) x0: Vec<f64>,
    pub(super) weight_noise: Option<WeightNoiseReport>,
    pub(super) basins: Option<BasinReport>,
    pub(super) first_sample: usize,
    pub(super) first_spike: usize,
    pub(super) within: Within,
}

/// Where a phase's own loop stands: epochs done and the learning curve's window start
/// (training), and the time reached.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Within {
    pub(super) epochs_done: usize,
    pub(super) window_start: usize,
    pub(super) t: f64,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(remote = "PhaseReport")]
#[allow(dead_code)] // read through serde only
struct PhaseReportDef {
    pub name: String,
    pub start_time: f64,
    pub duration: f64,
    pub feedback_gain: f64,
    pub learning_rate: f64,
    pub alive: usize,
    pub spikes: u64,
    pub nrmse: Option<f64>,
    pub mean_rate_hz: f64,
    pub cv_isi: Option<f64>,
    pub nrmse_1s: Option<f64>,
    pub period_error: Option<Option<f64>>,
    pub amplitude_error: Option<Option<f64>>,
    pub field_error: Option<f64>,
    pub attractor: Option<crate::analysis::learning_metrics::AttractorStats>,
    pub learned_field_attractor: Option<crate::analysis::learning_metrics::AttractorStats>,
    pub ei_balance: Option<crate::analysis::learning_metrics::EiBalance>,
    pub basins: Option<BasinReport>,
    pub weight_noise: Option<WeightNoiseReport>,
}

/// `#[serde(with = "reports")]` for the phase reports of [`State`].
pub(super) mod reports {
    use super::{PhaseReport, PhaseReportDef};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    struct Out<'a>(&'a PhaseReport);
    impl Serialize for Out<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            PhaseReportDef::serialize(self.0, s)
        }
    }
    #[derive(Deserialize)]
    struct In(#[serde(with = "PhaseReportDef")] PhaseReport);

    pub(crate) fn serialize<S: Serializer>(v: &[PhaseReport], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(Out))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<PhaseReport>, D::Error> {
        Ok(Vec::<In>::deserialize(d)?
            .into_iter()
            .map(|r| r.0)
            .collect())
    }
}
