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
use crate::io::run_writer::{FilePosition, RunWriter};
use crate::run::CheckpointPlan;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Runs the phases on `engine` ([`run_phases_from`]); with `into`, writing the records into
/// its directory as they come ([`super::records`]), with the checkpoints its plan asks for:
/// resumed from the one in the directory, and written there every `every` simulated seconds.
/// Returns the run's files too (still to be finished).
pub(super) fn run<E>(
    engine: &mut E,
    name: &str,
    (model, opts): (&LearningModel, &PhaseOptions),
    into: Option<(&Path, &CheckpointPlan)>,
    progress: impl FnMut(LearnProgress) -> ControlFlow<()>,
) -> Result<(LearnOutput, Option<RunWriter>), LearnError>
where
    E: Plastic + Clone + Serialize + DeserializeOwned,
{
    let Some((dir, plan)) = into else {
        let none = &mut |_: &E, _: &mut State, _: &Position| Ok(());
        return run_phases_from(engine, name, (model, opts), progress, (None, None), none);
    };
    let path = dir.join(RUN_CHECKPOINT);
    let fail = |source| {
        LearnError::Run(RunError::Checkpoint {
            path: path.clone(),
            source,
        })
    };
    let mut every = plan.every;
    let mut resume = None;
    if plan.resume {
        let bytes = std::fs::read(&path).map_err(|source| {
            RunError::Output(OutputError {
                path: path.clone(),
                source,
            })
        })?;
        type Saved<E> = (String, Option<f64>, Position, E, State, Vec<FilePosition>);
        let (fingerprint, saved_every, position, e, state, files): Saved<E> =
            crate::checkpoint::decode(&bytes).map_err(fail)?;
        if fingerprint != plan.fingerprint {
            return Err(fail(CheckpointError::OtherRun {
                expected: plan.fingerprint.clone(),
                found: fingerprint,
            }));
        }
        every = every.or(saved_every);
        resume = Some((position, e, state, files));
    }
    let start = resume.as_ref().map_or(0.0, |(p, ..)| p.within.t);
    let mut next = every.map_or(f64::INFINITY, |e| start + e);
    let mut hook = |e: &E, st: &mut State, position: &Position| -> Result<(), LearnError> {
        let t = position.within.t;
        if let Some(interval) = every.filter(|_| t >= next) {
            let files = match &mut st.out {
                Some(out) => out.positions().map_err(RunError::Output)?,
                None => Vec::new(),
            };
            let saved = (&plan.fingerprint, every, position, e, &*st, &files);
            let bytes = crate::checkpoint::encode(&saved);
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
    let into = Destination {
        dir,
        files: resume.as_mut().map(|r| std::mem::take(&mut r.3)),
        // A run with checkpoints that fails keeps its files: a resumed run continues them.
        keep: every.is_some() || plan.resume,
    };
    let resume = resume.map(|(p, e, st, _)| (p, e, st));
    run_phases_from(
        engine,
        name,
        (model, opts),
        progress,
        (resume, Some(into)),
        &mut hook,
    )
}

/// Where a run that writes its records as they come writes: the directory, the files'
/// positions at the checkpoint it resumes, and whether a failed run keeps its files.
pub(super) struct Destination<'a> {
    pub(super) dir: &'a Path,
    pub(super) files: Option<Vec<FilePosition>>,
    pub(super) keep: bool,
}

/// Where the phase loop stands at a checkpoint: phase `pi` has started (its kills,
/// perturbations, weight noise and basin test are done) and has run to `t`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Position {
    pub(super) pi: usize,
    pub(super) x0: Vec<f64>,
    pub(super) weight_noise: Option<WeightNoiseReport>,
    pub(super) basins: Option<BasinReport>,
    /// Where the phase's records start.
    pub(super) first: super::records::Mark,
    pub(super) within: Within,
}

/// Where a phase's own loop stands: epochs done and the learning curve's window start
/// (training), and the time reached.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Within {
    pub(super) epochs_done: usize,
    pub(super) window_start: super::records::Mark,
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
