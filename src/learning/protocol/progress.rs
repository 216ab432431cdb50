//! What a run of the phases reports while it runs ([`LearnProgress`]), and how its progress
//! callback stops it ([`LearnError::Stopped`]).
//!
//! [`super::run_phases_with`] and [`super::run_phases_on`] call their callback with every message, in run
//! order: for each phase [`LearnProgress::PhaseStarted`], then, interleaved in time order, its
//! learning-curve points ([`LearnProgress::Curve`], training phases only) and time progress
//! ([`LearnProgress::Time`]), then [`LearnProgress::PhaseEnded`] with its report; last one
//! [`LearnProgress::Time`] with the total duration. The callback only observes: the run is the
//! same, to the bit, whatever it does — unless it returns [`ControlFlow::Break`], which stops
//! the phases right there with [`LearnError::Stopped`] (ignored on the very last message: the
//! run is complete then).

use super::{CurvePoint, PhaseReport};
use crate::error::{BuildError, SimError};
use crate::run::RunError;
use std::ops::ControlFlow;

/// One message of a running phase sequence ([`super::run_phases_with`],
/// [`super::run_phases_on`], [`crate::stream::stream_learning`]).
///
/// The order: for each phase [`PhaseStarted`](LearnProgress::PhaseStarted), then, in time
/// order, its learning-curve points ([`Curve`](LearnProgress::Curve), training phases only)
/// and time progress ([`Time`](LearnProgress::Time)), then
/// [`PhaseEnded`](LearnProgress::PhaseEnded) with its report; last, `Time` with the total
/// duration. Taking the messages never changes the run.
#[derive(Clone, Debug, PartialEq)]
pub enum LearnProgress {
    /// Phase `index` starts (before its kills and perturbations).
    PhaseStarted {
        /// Index of the phase in the model's `[[phase]]`s.
        index: usize,
        /// The phase's `name`.
        name: String,
        /// Its start time, s (absolute).
        start_time: f64,
        /// Its duration, s.
        duration: f64,
    },
    /// The simulated time reached, s: about every 0.1 % of the total duration in training
    /// phases, every 1 % otherwise, and the total at the end.
    Time(f64),
    /// A learning-curve point was taken (about 100 per training phase): the same points, in
    /// the same order, as [`super::LearnOutput::curve`].
    Curve(CurvePoint),
    /// Phase `index` ended; `report` is the entry it adds to [`super::LearnOutput::phases`].
    PhaseEnded {
        /// Index of the phase.
        index: usize,
        /// What the phase measured.
        report: Box<PhaseReport>,
    },
}

/// Why a run of the phases with a progress callback ended without its output.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// The progress callback returned [`ControlFlow::Break`] (for a stream: its receiver was
    /// closed): the phases stopped cleanly at `at`.
    #[error("learning stopped at t = {at} s by its progress callback")]
    Stopped {
        /// The simulated time reached, s.
        at: f64,
    },
    /// The phases failed: a bad model or option, or a simulation error.
    #[error(transparent)]
    Run(#[from] RunError),
}

impl From<BuildError> for LearnError {
    fn from(e: BuildError) -> Self {
        LearnError::Run(e.into())
    }
}

impl From<SimError> for LearnError {
    fn from(e: SimError) -> Self {
        LearnError::Run(e.into())
    }
}

/// Calls `progress` with `message`; `Break` becomes [`LearnError::Stopped`] at `at`.
pub(super) fn report(
    progress: &mut dyn FnMut(LearnProgress) -> ControlFlow<()>,
    message: LearnProgress,
    at: f64,
) -> Result<(), LearnError> {
    match progress(message) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(LearnError::Stopped { at }),
    }
}
