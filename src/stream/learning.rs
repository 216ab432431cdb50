//! Streamed learning runs: [`stream_learning`] runs the phases of a learning model on a new
//! thread and sends its [`LearnProgress`] messages over a bounded channel.

use crate::error::BuildError;
use crate::io::model_file::LearningModel;
use crate::learning::protocol::{
    run_phases_with, LearnError, LearnOutput, LearnProgress, PhaseOptions,
};
use std::ops::ControlFlow;
use std::thread::JoinHandle;

/// The receiver and the thread of a streamed learning run ([`stream_learning`]).
pub type LearnStream = (
    async_channel::Receiver<LearnProgress>,
    JoinHandle<Result<LearnOutput, LearnError>>,
);

/// Runs the phases of `model` with `opts` on a new thread (what
/// [`crate::learning::protocol::run_phases`] runs, to the bit) and sends every
/// [`LearnProgress`] message — phase started, learning-curve points, time progress, phase ended
/// with its report — over a channel of `capacity` messages, in run order.
///
/// A full channel makes the run wait (`send_blocking`): nothing is dropped. Closing (or
/// dropping) the receiver stops the run at its next message, and the thread returns
/// [`LearnError::Stopped`] with the time reached — not a panic; a bad model or a failed run is
/// [`LearnError::Run`]. After the last message the channel closes and the thread returns the
/// [`LearnOutput`]. A `capacity` of 0 is an error naming `stream.capacity`; nothing is spawned
/// then.
pub fn stream_learning(
    model: LearningModel,
    opts: PhaseOptions,
    capacity: usize,
) -> Result<LearnStream, BuildError> {
    if capacity == 0 {
        return Err(BuildError::new(
            "stream.capacity",
            "at least 1 message",
            "0".to_string(),
        ));
    }
    let (tx, rx) = async_channel::bounded(capacity);
    let handle = std::thread::spawn(move || {
        run_phases_with(&model, &opts, |message| match tx.send_blocking(message) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        })
    });
    Ok((rx, handle))
}
